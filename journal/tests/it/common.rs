use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use keel_journal::{Config, Journal, RecordKind};

pub const SCHEMA: u64 = 0x4b45_454c_0000_0001;

/// Payload of record `seq`: its length and bytes are derived from `seq`, so content is
/// checkable after any crash.
pub fn payload_for(seq: u64) -> Vec<u8> {
    let len = 1 + (seq.wrapping_mul(7919) % 300) as usize;
    (0..len).map(|i| (seq.wrapping_mul(31).wrapping_add(i as u64) as u8) ^ 0x5a).collect()
}

pub fn ts_for(seq: u64) -> u64 {
    1_700_000_000_000_000_000 + seq * 1_000
}

pub fn config(segment_size: usize) -> Config {
    Config {
        segment_size,
        schema_hash: SCHEMA,
        flush_interval: Duration::from_millis(1),
        ..Config::default()
    }
}

/// Appends records `next_seq..next_seq + n` with derived payloads.
pub fn append_n(j: &mut Journal, n: u64) {
    for _ in 0..n {
        let seq = j.next_seq();
        assert_eq!(j.append(RecordKind::INPUT, ts_for(seq), &payload_for(seq)).unwrap(), seq);
    }
}

/// Writes a journal of `n` records, closed (all segments sealed) or just dropped.
pub fn make_journal(dir: &Path, segment_size: usize, n: u64, close: bool) {
    let mut j = Journal::open(dir, config(segment_size)).unwrap();
    append_n(&mut j, n);
    if close {
        j.close().unwrap();
    } else {
        j.sync().unwrap();
    }
}

/// Reads the whole journal with a fresh reader and checks it holds exactly 1..=n.
pub fn assert_holds_prefix(dir: &Path) -> u64 {
    let mut r = keel_journal::Reader::open_with_schema(dir, SCHEMA).unwrap();
    let mut expect = 1;
    while let Some(rec) = r.next().unwrap() {
        assert_eq!(rec.seq, expect);
        assert_eq!(rec.kind, RecordKind::INPUT);
        assert_eq!(rec.ts_ns, ts_for(expect));
        assert_eq!(rec.payload, &payload_for(expect)[..], "payload of seq {expect}");
        expect += 1;
    }
    expect - 1
}

/// Segment files of `dir`, sorted.
pub fn segment_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

/// Offset of the frame holding `seq` in a segment file's bytes (walks frame lengths).
pub fn frame_offset(bytes: &[u8], seq: u64) -> usize {
    let mut off = 64;
    loop {
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        assert!(len > 0, "seq {seq} not in this segment");
        let s = u64::from_le_bytes(bytes[off + 16..off + 24].try_into().unwrap());
        if s == seq {
            return off;
        }
        off += len;
    }
}

/// A command that re-runs this test binary, running only `test` (a child-mode test).
pub fn child(test: &str, env: &[(&str, String)]) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::inherit());
    c
}
