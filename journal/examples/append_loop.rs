//! A tight loop of appends into one pre-faulted segment (no roll), for profilers and for
//! the append's own cost: `append_loop DIR N PAYLOAD_BYTES [--no-floor]`.
//!
//! Prints nanoseconds per append and, measured the same way in the same run, per bare copy
//! of the payload into an already-mapped, pre-faulted file page (same stride), and their
//! ratio. The segment is sized to hold all `N` records, so no roll and no page fault is
//! timed: this is the CPU cost of an append, not of preparing pages.
//!
//! Instruction counts per append, independent of machine load: run it under
//! `valgrind --tool=callgrind --separate-threads=yes` for two values of `N` and divide the
//! difference of the writer thread's (`-01`) totals by the difference of `N`, with
//! `--no-floor` (so the floor's loop is not counted).

use keel_journal::layout::frame_len_for;
use keel_journal::{Config, Journal, RecordKind};
use std::hint::black_box;
use std::time::Instant;

/// CPU time of the calling thread, ns: unlike wall time it does not count the time the
/// thread was preempted, which on a shared machine is most of the noise.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer; CLOCK_THREAD_CPUTIME_ID has no other precondition.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir =
        std::path::PathBuf::from(args.next().expect("usage: append_loop DIR N PAYLOAD_BYTES"));
    let n: u64 = args.next().and_then(|s| s.parse().ok()).expect("N");
    let len: usize = args.next().and_then(|s| s.parse().ok()).expect("PAYLOAD_BYTES");
    let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    let frame = frame_len_for(len);
    let bytes = (n as usize * frame + (1 << 20)).next_multiple_of(1 << 20);
    let config = Config { segment_size: bytes, spare_segments: 1, ..Config::default() };
    let mut journal = Journal::open(dir.join("journal"), config).expect("open");
    let (t, c) = (Instant::now(), thread_cpu_ns());
    for i in 0..n {
        black_box(journal.append(RecordKind::INPUT, i, black_box(&payload)).expect("append"));
    }
    let append_cpu_ns = (thread_cpu_ns() - c) as f64 / n as f64;
    let append_ns = t.elapsed().as_nanos() as f64 / n as f64;
    assert_eq!(journal.roll_stalls(), 0);
    journal.close().expect("close");
    if args.next().as_deref() == Some("--no-floor") {
        println!(
            "{n} appends of {len} B: {append_ns:.2} ns/append (thread CPU {append_cpu_ns:.2})"
        );
        return;
    }

    // Floor: the same bytes at the same stride into a pre-faulted shared file mapping.
    let path = dir.join("floor");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("floor file");
    file.set_len(bytes as u64).expect("floor size");
    // SAFETY: a file of this run that nothing else maps or truncates while mapped.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.expect("floor map");
    for off in (0..bytes).step_by(4096) {
        map[off] = 0;
    }
    let (t, c) = (Instant::now(), thread_cpu_ns());
    let mut off = 0;
    for _ in 0..n {
        map[off..off + len].copy_from_slice(black_box(&payload));
        off += frame;
    }
    black_box(&map);
    let floor_cpu_ns = (thread_cpu_ns() - c) as f64 / n as f64;
    let floor_ns = t.elapsed().as_nanos() as f64 / n as f64;
    drop(map);
    let _ = std::fs::remove_file(&path);
    println!(
        "{n} appends of {len} B: wall {append_ns:.2} ns/append, floor (bare copy, same stride) {floor_ns:.2} ns, ratio {:.2}; thread CPU {append_cpu_ns:.2} ns/append, floor {floor_cpu_ns:.2} ns, ratio {:.2}",
        append_ns / floor_ns,
        append_cpu_ns / floor_cpu_ns
    );
}
