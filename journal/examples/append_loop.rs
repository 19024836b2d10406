//! A tight loop of appends, for profilers: `append_loop DIR N PAYLOAD_BYTES`.
//!
//! Instruction count per append, independent of machine load: run it under
//! `valgrind --tool=callgrind` for two values of `N` and divide the difference of the
//! totals by the difference of `N` (the open, the close and the roller's work cancel out
//! only approximately, so use the writer thread's total: `callgrind_annotate` per thread
//! with `--separate-threads=yes`).

use keel_journal::{Config, Journal, RecordKind};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: append_loop DIR N PAYLOAD_BYTES");
    let n: u64 = args.next().and_then(|s| s.parse().ok()).expect("N");
    let len: usize = args.next().and_then(|s| s.parse().ok()).expect("PAYLOAD_BYTES");
    let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    let config = Config { segment_size: 256 << 20, ..Config::default() };
    let mut journal = Journal::open(&dir, config).expect("open");
    for i in 0..n {
        black_box(journal.append(RecordKind::INPUT, i, black_box(&payload)).expect("append"));
    }
    println!("{} appends, last seq {}, roll stalls {}", n, journal.last_seq(), journal.roll_stalls());
    journal.close().expect("close");
}
