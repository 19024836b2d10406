//! A tailer in this process follows a writer in a child process across segment rolls.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use keel_journal::{Journal, Tailer};

use crate::common::*;

const DIR_ENV: &str = "KEEL_JOURNAL_TAIL_DIR";
const N: u64 = 20_000;
const SEG: usize = 1 << 16;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Child mode: write N records into small segments while the parent tails them.
#[test]
fn tail_writer_child() {
    let Ok(dir) = std::env::var(DIR_ENV) else { return };
    let mut j = Journal::open(&dir, config(SEG)).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "\n@@ready").unwrap();
    out.flush().unwrap();
    for _ in 0..N {
        append_n(&mut j, 1);
    }
    j.close().unwrap();
}

#[test]
fn tailer_follows_another_process_across_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut child =
        child("tail::tail_writer_child", &[(DIR_ENV, dir.path().display().to_string())])
            .spawn()
            .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("child exited before it was ready").unwrap();
        if line.contains("@@ready") {
            break;
        }
    }
    let mut from_start = Tailer::open(dir.path(), 1).unwrap();
    let mut from_middle = Tailer::open(dir.path(), N / 2).unwrap();
    for seq in 1..=N {
        let rec = from_start.next_timeout(TIMEOUT).unwrap();
        assert_eq!(rec.seq, seq);
        assert_eq!(rec.payload, &payload_for(seq)[..]);
        if seq >= N / 2 {
            let rec = from_middle.next_timeout(TIMEOUT).unwrap();
            assert_eq!((rec.seq, rec.payload), (seq, &payload_for(seq)[..]));
        }
    }
    assert!(child.wait().unwrap().success());
    assert!(segment_files(dir.path()).len() > 10, "the writer rolled many times");
    // Nothing more will come: a bounded wait times out instead of hanging.
    assert!(from_start.next_timeout(Duration::from_millis(20)).is_err());
}

#[test]
fn tailer_can_start_before_the_journal_exists() {
    let dir = tempfile::tempdir().unwrap();
    let mut tailer = Tailer::open(dir.path(), 3).unwrap();
    assert!(tailer.try_next().unwrap().is_none());
    let mut j = Journal::open(dir.path(), config(SEG)).unwrap();
    append_n(&mut j, 5);
    for seq in 3..=5 {
        assert_eq!(tailer.next_timeout(TIMEOUT).unwrap().seq, seq);
    }
    // A writer in this process, a roll, and the tailer keeps up.
    append_n(&mut j, 1000);
    for seq in 6..=1005 {
        assert_eq!(tailer.next_timeout(TIMEOUT).unwrap().payload, &payload_for(seq)[..]);
    }
}
