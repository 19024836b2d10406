//! SIGKILL a writer process at random points, many times; after each kill the journal
//! must open and hold exactly a prefix of what was appended, including every record the
//! child had reported durable. Synchronisation is only through the child's stdout pipe.

use std::io::{BufRead, BufReader, Write};

use keel_journal::{Journal, inspect};

use crate::common::*;

const DIR_ENV: &str = "KEEL_JOURNAL_CRASH_DIR";
const EVERY_ENV: &str = "KEEL_JOURNAL_CRASH_SYNC_EVERY";
const SEG: usize = 1 << 16;
/// Bound on a child's appends, in case its parent is gone.
const CHILD_MAX_RECORDS: u64 = 2_000_000;

/// Child mode: append derived records forever, reporting durable sequences. Does nothing
/// unless run by the parent test.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_ENV) else { return };
    let every: u64 = std::env::var(EVERY_ENV).unwrap().parse().unwrap();
    let mut j = Journal::open(&dir, config(SEG)).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "\n@@start {}", j.next_seq()).unwrap();
    out.flush().unwrap();
    for _ in 0..CHILD_MAX_RECORDS {
        append_n(&mut j, 1);
        if j.last_seq() % every == 0 {
            let durable = j.sync().unwrap();
            if writeln!(out, "\n@@durable {durable}").and_then(|()| out.flush()).is_err() {
                return; // the parent is gone
            }
        }
    }
}

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[test]
fn sigkill_at_random_points_leaves_an_exact_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix(0x6b65_656c_2d6a_726e);
    let mut last_total = 0u64;
    let mut torn_repairs = 0;
    let mut adopted = 0;
    for round in 0..24 {
        let every = [3u64, 17, 64, 251][(rng.next() % 4) as usize];
        let wait_lines = rng.next() % 8; // 0: kill right after the child opened the journal
        let mut child = child(
            "crash::crash_child",
            &[(DIR_ENV, dir.path().display().to_string()), (EVERY_ENV, every.to_string())],
        )
        .spawn()
        .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut durable_reported = 0u64;
        let mut seen = 0u64;
        loop {
            let line = lines.next().expect("child exited early").unwrap();
            let Some(at) = line.find("@@") else { continue };
            let mut f = line[at + 2..].split(' ');
            let (tag, n) = (f.next().unwrap(), f.next().unwrap().parse::<u64>().unwrap());
            match tag {
                "start" => {
                    assert_eq!(n, last_total + 1, "round {round}: child resumes after the prefix")
                }
                "durable" => {
                    durable_reported = n;
                    seen += 1;
                }
                _ => unreachable!(),
            }
            if seen >= wait_lines {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        drop(lines);

        let j = Journal::open(dir.path(), config(SEG)).unwrap();
        let report = j.recovery_report().clone();
        torn_repairs += report.torn_tail.is_some() as u32;
        adopted += report.adopted_prepared as u32;
        let last = j.last_seq();
        drop(j); // leave it unsealed so the next child continues the same segment
        assert!(
            last >= durable_reported,
            "round {round}: durable seq {durable_reported} lost (last {last})"
        );
        assert!(last >= last_total, "round {round}: records vanished");
        assert_eq!(assert_holds_prefix(dir.path()), last, "round {round}");
        last_total = last;
    }
    assert!(last_total > 0);
    let ins = inspect(dir.path(), true).unwrap();
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);
    eprintln!(
        "crash test: {last_total} records survived 24 kills; {torn_repairs} torn tails cut, {adopted} in-flight segments adopted"
    );
}
