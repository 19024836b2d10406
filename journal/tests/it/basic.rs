use std::time::Duration;

use keel_journal::{
    AppendError, Config, Journal, OpenError, Reader, RecordKind, SyncError, inspect,
};

use crate::common::*;

#[test]
fn append_read_round_trip_across_rolls_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    make_journal(dir.path(), 1 << 16, 3000, true);
    assert!(segment_files(dir.path()).len() > 5, "small segments roll several times");
    assert_eq!(assert_holds_prefix(dir.path()), 3000);

    let ins = inspect(dir.path(), true).unwrap();
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);
    assert_eq!((ins.records(), ins.first_seq(), ins.last_seq()), (3000, Some(1), Some(3000)));
    assert!(ins.segments.iter().all(|s| s.sealed && s.digest_ok == Some(true)));

    // Reopen continues the sequence; the closed segments stay sealed.
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    assert_eq!(j.recovery_report().last_seq, 3000);
    assert_eq!(j.next_seq(), 3001);
    append_n(&mut j, 10);
    drop(j); // not closed: left unsealed, as after a crash
    let j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    assert_eq!(j.next_seq(), 3011);
    assert_eq!(j.recovery_report().torn_tail, None);
    j.close().unwrap();
    assert_eq!(assert_holds_prefix(dir.path()), 3010);
    let ins = inspect(dir.path(), true).unwrap();
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);
}

#[test]
fn seek_lands_on_the_exact_sequence() {
    let dir = tempfile::tempdir().unwrap();
    make_journal(dir.path(), 1 << 16, 2000, false);
    let mut r = Reader::open(dir.path()).unwrap();
    for seq in [1, 2, 63, 64, 65, 500, 1234, 1999, 2000, 777, 3] {
        r.seek(seq).unwrap();
        let rec = r.next().unwrap().unwrap();
        assert_eq!(rec.seq, seq);
        assert_eq!(rec.payload, &payload_for(seq)[..]);
    }
    r.seek(2001).unwrap();
    assert!(r.next().unwrap().is_none());
}

#[derive(rkyv::Archive, rkyv::Serialize, Debug, PartialEq)]
struct Order {
    id: u64,
    price: i64,
    qty: i64,
    side: u8,
    tag: [u8; 4],
}

#[test]
fn archived_values_round_trip_zero_copy_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    for i in 0..2000u64 {
        let o = Order { id: i, price: -(i as i64), qty: 7, side: (i % 2) as u8, tag: *b"abcd" };
        assert_eq!(j.append_archived(RecordKind::INPUT, i, &o).unwrap(), i + 1);
    }
    // Three bytes cannot be a valid archived Order: checked access must refuse them.
    j.append(RecordKind::OUTPUT, 0, b"bad").unwrap();
    j.close().unwrap();
    let mut r = Reader::open(dir.path()).unwrap();
    for i in 0..2000u64 {
        let rec = r.next().unwrap().unwrap();
        assert_eq!(rec.payload.as_ptr() as usize % 8, 0, "payload is 8-byte aligned");
        let o = rec.access::<Order>().unwrap();
        assert_eq!(
            (o.id.to_native(), o.price.to_native(), o.qty.to_native(), o.side, o.tag),
            (i, -(i as i64), 7, (i % 2) as u8, *b"abcd")
        );
    }
    let rec = r.next().unwrap().unwrap();
    assert!(rec.access::<Order>().is_err());
}

#[test]
fn refuses_oversized_records_and_reserved_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    let max = j.max_payload_len();
    assert!(matches!(
        j.append(RecordKind::INPUT, 0, &vec![1; max + 1]),
        Err(AppendError::TooLarge { payload_len, max: m }) if payload_len == max + 1 && m == max
    ));
    assert!(matches!(
        j.append(RecordKind::SEGMENT_END, 0, b"x"),
        Err(AppendError::ReservedKind(_))
    ));
    assert!(matches!(j.append(RecordKind(0), 0, b"x"), Err(AppendError::ReservedKind(0))));
    // A maximal record fits in a fresh segment (after a roll).
    j.append(RecordKind::INPUT, 0, b"x").unwrap();
    j.append(RecordKind::INPUT, 0, &vec![2; max]).unwrap();
    j.close().unwrap();
    assert!(inspect(dir.path(), true).unwrap().problems.is_empty());
}

#[test]
fn schema_mismatch_names_both_hashes() {
    let dir = tempfile::tempdir().unwrap();
    make_journal(dir.path(), 1 << 16, 10, true);
    let err =
        Journal::open(dir.path(), Config { schema_hash: 0xdead, ..config(1 << 16) }).err().unwrap();
    assert!(
        matches!(err, OpenError::SchemaMismatch { expected: 0xdead, found: SCHEMA, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("0x000000000000dead") && msg.contains(&format!("{SCHEMA:#018x}")),
        "{msg}"
    );
    assert!(Reader::open_with_schema(dir.path(), 0xdead).is_err());
}

#[test]
fn second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    assert!(matches!(Journal::open(dir.path(), config(1 << 16)), Err(OpenError::Locked(_))));
    drop(j);
    Journal::open(dir.path(), config(1 << 16)).unwrap();
}

#[test]
fn the_lock_is_released_on_drop_while_a_forked_child_holds_a_copy_of_it() {
    // Any thread's `Command::spawn` forks: until it execs, the child holds a copy of every
    // descriptor, the lock's included. Closing ours used to leave the flock held through
    // that copy, and a reopen right after a drop failed with `Locked` (the journal tests
    // did, under load, while crash and tail tests spawned children). A child that never
    // execs makes that window as wide as the test needs.
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    append_n(&mut j, 10);
    // SAFETY: the child calls only async-signal-safe functions (pause) until it is killed.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        loop {
            // SAFETY: async-signal-safe; waits for the parent's SIGKILL.
            unsafe { libc::pause() };
        }
    }
    drop(j);
    let reopened = Journal::open(dir.path(), config(1 << 16));
    let second = reopened.as_ref().ok().map(|_| Journal::open(dir.path(), config(1 << 16)));
    // SAFETY: `pid` is our child; kill and reap it before asserting anything.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    let j = reopened.expect("reopen while a forked child holds a copy of the lock descriptor");
    assert_eq!(j.next_seq(), 11);
    assert!(
        matches!(second, Some(Err(OpenError::Locked(_)))),
        "the reopened journal holds the lock again"
    );
}

#[test]
fn sync_and_wait_durable_publish_the_durable_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    append_n(&mut j, 100);
    assert_eq!(j.sync().unwrap(), 100);
    append_n(&mut j, 5);
    let handle = j.durability();
    let waiter = std::thread::spawn(move || handle.wait_durable(105, Duration::from_secs(30)));
    waiter.join().unwrap().unwrap(); // the flusher's interval gets there on its own
    assert!(j.durable_seq() >= 105);
    assert!(matches!(
        j.wait_durable(1000, Duration::from_secs(1)),
        Err(SyncError::NotAppended { .. })
    ));
}

#[test]
fn an_msync_error_poisons_every_later_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(1 << 16)).unwrap();
    append_n(&mut j, 10);
    j.sync().unwrap();
    j.inject_flush_failure();
    append_n(&mut j, 1);
    assert!(matches!(j.sync(), Err(SyncError::Poisoned { .. })));
    let durable = j.durable_seq();
    assert_eq!(durable, 10, "nothing is acknowledged after the error");
    for _ in 0..3 {
        assert!(matches!(j.append(RecordKind::INPUT, 0, b"x"), Err(AppendError::Poisoned { .. })));
    }
    assert!(matches!(j.wait_durable(11, Duration::from_secs(1)), Err(SyncError::Poisoned { .. })));
    assert!(j.close().is_err());
}

#[test]
fn sealed_segment_tampering_is_caught_by_the_digest_chain() {
    let dir = tempfile::tempdir().unwrap();
    make_journal(dir.path(), 1 << 16, 1500, true);
    let segs = segment_files(dir.path());
    // Alter a payload byte and fix the frame's CRC, as a forger would: only BLAKE3 sees it.
    let mut bytes = std::fs::read(&segs[1]).unwrap();
    let first: u64 = segs[1].file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let off = frame_offset(&bytes, first + 3);
    bytes[off + 32] ^= 0xff;
    let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
    let crc = crc32c::crc32c(&bytes[off + 8..off + len]);
    bytes[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&segs[1], &bytes).unwrap();
    let ins = inspect(dir.path(), true).unwrap();
    assert_eq!(ins.problems.len(), 1, "{:?}", ins.problems);
    assert!(ins.problems[0].contains("BLAKE3"), "{:?}", ins.problems);
    assert_eq!(ins.segments[1].digest_ok, Some(false));
}

#[test]
fn spare_segments_are_queued_and_rolls_take_them_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let segment = 1 << 16;
    let mut j = Journal::open(dir.path(), Config { spare_segments: 3, ..config(segment) }).unwrap();
    assert_eq!(j.spare_segments_ready(), 3, "open returns with the spares prepared");
    // 1000-byte payloads make 1032-byte frames: 63 fit in the 65440 bytes between the
    // header and the end-marker reserve. 3 * 63 + 1 appends roll exactly three times, and
    // each roll finds at least one of the three spares still queued.
    let payload = [7u8; 1000];
    for _ in 0..3 * 63 + 1 {
        j.append(RecordKind::INPUT, 1, &payload).unwrap();
    }
    assert_eq!(j.roll_stalls(), 0, "three rolls with three spares queued never wait");
    let stats = j.roller_stats();
    assert_eq!((stats.roll_stalls, stats.roll_stall_ns_total), (0, 0));
    // The first segment and three spares at open, at least.
    assert!(stats.segments_prepared >= 4 && stats.prepare_ns_total > 0, "{stats:?}");
    let last = j.last_seq();
    j.close().unwrap();

    // No spare is left behind, every full segment is sealed into the chain.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("prealloc-")), "{names:?}");
    let ins = inspect(dir.path(), true).unwrap();
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);
    assert_eq!(ins.segments.len(), 4);
    assert!(ins.segments.iter().all(|s| s.sealed && s.digest_ok == Some(true)));
    assert_eq!(ins.last_seq(), Some(last));
}

#[test]
fn spare_segments_out_of_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for spare in [0, keel_journal::MAX_SPARE_SEGMENTS + 1] {
        let err = Journal::open(dir.path(), Config { spare_segments: spare, ..config(1 << 16) })
            .err()
            .unwrap();
        assert!(matches!(&err, OpenError::Config(m) if m.contains("spare_segments")), "{err}");
    }
}

#[test]
fn seals_of_segments_larger_than_a_seal_step_chain_correctly() {
    // 3 MiB segments are sealed in several 1 MiB msync + hash steps; the chain must be
    // the one `inspect` recomputes in one go.
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path(), config(3 << 20)).unwrap();
    let payload = [0x3cu8; 1000];
    for i in 0..7000 {
        j.append(RecordKind::INPUT, i, &payload).unwrap();
    }
    j.close().unwrap();
    let ins = inspect(dir.path(), true).unwrap();
    assert!(ins.problems.is_empty(), "{:?}", ins.problems);
    assert_eq!(ins.segments.len(), 3);
    assert!(ins.segments.iter().all(|s| s.sealed && s.digest_ok == Some(true)));
    assert!(ins.segments[0].used_bytes > 2 << 20, "the first seal took several steps");
    assert_eq!(ins.records(), 7000);
}
