use keel_journal::layout::HeaderProblem;
use keel_journal::{Journal, OpenError, inspect};

use crate::common::*;

const SEG: usize = 1 << 16;

/// A dropped (unsealed) journal: several sealed segments and a live last one.
fn journal(n: u64) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    make_journal(dir.path(), SEG, n, false);
    let segs = segment_files(dir.path());
    assert!(segs.len() >= 3);
    (dir, segs)
}

fn first_seq_of(path: &std::path::Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

fn edit(path: &std::path::Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(path).unwrap();
    f(&mut b);
    std::fs::write(path, b).unwrap();
}

#[test]
fn flipped_bit_mid_log_is_refused_with_its_location() {
    for which in [1usize, usize::MAX] {
        let (dir, segs) = journal(2000);
        let seg =
            if which == usize::MAX { segs.last().unwrap().clone() } else { segs[which].clone() };
        let seq = first_seq_of(&seg) + 5;
        let mut off = 0;
        edit(&seg, |b| {
            off = frame_offset(b, seq);
            b[off + 40] ^= 0x10; // one payload bit
        });
        let err = Journal::open(dir.path(), config(SEG)).err().expect("must refuse");
        match &err {
            OpenError::Corrupt { location, reason } => {
                assert_eq!(location.segment, seg);
                assert_eq!(location.offset, off as u64);
                assert_eq!(location.seq, seq);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("expected corruption, got {other}"),
        }
        assert!(err.to_string().contains(&format!("byte offset {off}")), "{err}");
        let ins = inspect(dir.path(), false).unwrap();
        assert!(
            ins.problems
                .iter()
                .any(|p| p.contains("corruption") && p.contains(&format!("expected seq {seq}")))
        );
    }
}

#[test]
fn verify_reports_every_damaged_segment_not_only_the_first() {
    let (dir, segs) = journal(4000);
    assert!(segs.len() >= 4, "{} segments", segs.len());
    // Close it so every segment but the last is sealed and in the manifest.
    let damaged = [segs[0].clone(), segs[2].clone()];
    let mut offsets = Vec::new();
    for seg in &damaged {
        let seq = first_seq_of(seg) + 3;
        edit(seg, |b| {
            let off = frame_offset(b, seq);
            b[off + 40] ^= 0x01;
            offsets.push((seq, off));
        });
    }
    let ins = inspect(dir.path(), true).unwrap();
    for (seg, (seq, off)) in damaged.iter().zip(&offsets) {
        let name = seg.display().to_string();
        assert!(
            ins.problems.iter().any(|p| p.contains(&name)
                && p.contains(&format!("byte offset {off}"))
                && p.contains(&format!("expected seq {seq}"))),
            "{name} at {off}: {:?}",
            ins.problems
        );
    }
    // The undamaged segments between and after were still checked, chain included.
    let checked: Vec<_> = ins.segments.iter().map(|s| s.path.clone()).collect();
    assert!(checked.contains(&segs[1]) && checked.contains(&segs[3]), "{checked:?}");
    assert!(
        !ins.problems.iter().any(|p| p.contains("missing segment") || p.contains("BLAKE3")),
        "no follow-on errors from the skipped segments: {:?}",
        ins.problems
    );
}

#[test]
fn truncated_tail_is_repaired() {
    let (dir, segs) = journal(2000);
    let last = segs.last().unwrap();
    let mut off = 0;
    edit(last, |b| {
        off = frame_offset(b, 2000);
        let len = u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as usize;
        // The last record's second half never reached the file.
        b[off + len / 2..off + len].fill(0);
    });
    let ins = inspect(dir.path(), false).unwrap();
    assert!(ins.problems.iter().any(|p| p.contains("torn tail")), "{:?}", ins.problems);

    let mut j = Journal::open(dir.path(), config(SEG)).unwrap();
    let (path, at, bytes) = j.recovery_report().torn_tail.clone().expect("torn tail reported");
    assert_eq!((&path, at), (last, off as u64));
    assert!(bytes > 0);
    assert_eq!(j.next_seq(), 2000, "the torn record is gone and its seq is reused");
    append_n(&mut j, 5);
    j.close().unwrap();
    assert_eq!(assert_holds_prefix(dir.path()), 2004);
    assert!(inspect(dir.path(), true).unwrap().problems.is_empty());
}

#[test]
fn partially_written_frame_is_a_torn_tail() {
    // The writer died after writing header and payload but before publishing the length.
    let (dir, segs) = journal(1000);
    let last = segs.last().unwrap();
    edit(last, |b| {
        let off = frame_offset(b, 1000);
        b[off..off + 4].fill(0);
    });
    let j = Journal::open(dir.path(), config(SEG)).unwrap();
    assert!(j.recovery_report().torn_tail.is_some());
    assert_eq!(j.next_seq(), 1000);
}

#[test]
fn zeroed_page_is_refused() {
    let (dir, segs) = journal(2000);
    let last = segs.last().unwrap();
    let first = first_seq_of(last);
    edit(last, |b| {
        assert!(frame_offset(b, 1999) > 8192, "valid records after the page");
        b[4096..8192].fill(0);
    });
    let err = Journal::open(dir.path(), config(SEG)).err().expect("must refuse");
    match err {
        OpenError::Corrupt { location, .. } => {
            assert_eq!(location.segment, *last);
            assert!(location.offset <= 4096 && location.seq > first);
        }
        other => panic!("expected corruption, got {other}"),
    }
}

#[test]
fn missing_segment_is_refused() {
    let (dir, segs) = journal(2000);
    std::fs::remove_file(&segs[1]).unwrap();
    let err = Journal::open(dir.path(), config(SEG)).err().expect("must refuse");
    assert!(
        matches!(&err, OpenError::MissingSegment { expected_seq, .. } if *expected_seq == first_seq_of(&segs[1])),
        "{err}"
    );
    assert!(
        inspect(dir.path(), false).unwrap().problems.iter().any(|p| p.contains("missing segment"))
    );

    // The first segment gone: the manifest still names it.
    let (dir, segs) = journal(2000);
    std::fs::remove_file(&segs[0]).unwrap();
    assert!(matches!(
        Journal::open(dir.path(), config(SEG)),
        Err(OpenError::MissingSegment { expected_seq: 1, .. })
    ));
}

#[test]
fn out_of_order_segment_is_refused() {
    // A segment renamed to claim a later position: its header disagrees with its name.
    let (dir, segs) = journal(2000);
    let last = segs.last().unwrap();
    let bogus = dir.path().join(keel_journal::segment_file_name(first_seq_of(last) + 1_000_000));
    std::fs::rename(last, &bogus).unwrap();
    let err = Journal::open(dir.path(), config(SEG)).err().expect("must refuse");
    assert!(
        matches!(err, OpenError::MissingSegment { .. } | OpenError::BadSegment { .. }),
        "{err}"
    );
}

#[test]
fn wrong_magic_or_version_is_refused() {
    let (dir, segs) = journal(1000);
    edit(&segs[1], |b| b[0] = b'X');
    let err = Journal::open(dir.path(), config(SEG)).err().unwrap();
    assert!(
        matches!(&err, OpenError::BadHeader { path, problem: HeaderProblem::BadMagic { .. } } if *path == segs[1]),
        "{err}"
    );

    let (dir, segs) = journal(1000);
    edit(&segs[0], |b| b[8..12].copy_from_slice(&99u32.to_le_bytes()));
    let err = Journal::open(dir.path(), config(SEG)).err().unwrap();
    assert!(
        matches!(
            err,
            OpenError::BadHeader { problem: HeaderProblem::UnsupportedVersion { found: 99 }, .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("version 99"));
}
