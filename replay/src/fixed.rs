//! Checked access to an rkyv archive of a fixed-layout type (no relative pointers), in one
//! pass over its bytes.
//!
//! # Contract
//! [`access_fixed`] accepts exactly the byte slices `rkyv::access` (and the low-level
//! `rkyv::api::low::access`) accept for such a type, and returns the same reference:
//!
//! - the root is the last `size_of::<A>()` bytes of the slice (`rkyv::api::root_position`);
//!   a shorter slice is refused;
//! - the root must be aligned for `A`;
//! - the bytes must hold a valid `A`: `A`'s `CheckBytes` runs on them, the same code the
//!   archive validator runs (enum tags, `bool`s, `char`s, every field's invariants).
//!
//! What it leaves out is only the validator's bookkeeping for relative pointers (the
//! subtree ranges each pointer must stay inside, shared-pointer tracking, depth limits).
//! The bound `A: CheckBytes<Strategy<(), E>>` is what makes leaving it out sound: a
//! relative pointer's `CheckBytes` needs an `ArchiveContext`, which `()` is not, so a
//! type that holds one (a `String`, a `Vec`, a `Box`) does not compile here. Keel's
//! commands and outputs are `Copy` records of integers and enums, so they qualify; the
//! test `fixed_access_accepts_exactly_what_rkyv_accepts_for_every_kind` in `crate::log`
//! checks the equivalence on valid and damaged archives of every command and output kind.
//!
//! Why: every record a replay reads goes through here. The archive validator's setup and
//! range bookkeeping cost more than the checks themselves for records this small.

use rkyv::Portable;
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor::{Failure, Strategy};

/// The archived `A` at the end of `bytes`, if the bytes hold a valid one. See the module
/// docs for what is checked.
#[inline]
pub fn access_fixed<A>(bytes: &[u8]) -> Option<&A>
where
    A: Portable + CheckBytes<Strategy<(), Failure>>,
{
    let size = size_of::<A>();
    let pos = bytes.len().checked_sub(size)?;
    let root = bytes[pos..].as_ptr();
    if (root as usize) % align_of::<A>() != 0 {
        return None;
    }
    let root = root.cast::<A>();
    // SAFETY: `root` is aligned for `A` (checked above) and points to `size_of::<A>()`
    // initialized bytes: the last `size` bytes of `bytes`, which outlive the returned
    // reference.
    unsafe {
        rkyv::bytecheck::check_bytes::<A, Failure>(root).ok()?;
        // SAFETY: `check_bytes` accepted the bytes as a valid `A`; `A` is `Portable`, so
        // a valid value may be read at any address with its alignment.
        Some(&*root)
    }
}
