//! A global allocator that counts the allocations made by the current thread, for the
//! no-allocation tests. Include it with `#[path = "support/counting_alloc.rs"] mod
//! counting_alloc;`: it installs itself as the test binary's global allocator.
//!
//! The count is thread-local, so the test harness's other threads do not disturb it. With
//! `KEEL_ALLOC_BACKTRACE=1`, the first allocation inside a [`watch`]ed window prints its
//! backtrace, to find where a hot path allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Set inside a watched window; cleared while a backtrace is being printed.
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    if WATCHING.try_with(|w| w.replace(false)).unwrap_or(false) {
        // Printing allocates; `WATCHING` is off now, so it is not reported again.
        eprintln!("allocation in the window:\n{}", std::backtrace::Backtrace::force_capture());
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const-initialised thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Opens (or closes) a window in which the first allocation prints its backtrace, when
/// `KEEL_ALLOC_BACKTRACE` is set.
#[allow(dead_code)] // not every test watches
pub fn watch(on: bool) {
    let wanted = on && std::env::var_os("KEEL_ALLOC_BACKTRACE").is_some();
    WATCHING.with(|w| w.set(wanted));
}
