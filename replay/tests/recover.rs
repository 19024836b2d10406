//! Recovery: state equals the writer's, altered outputs are named, snapshots shorten the
//! replay and a corrupt snapshot falls back.

use std::io::Write;
use std::path::Path;

use keel_engine::core::testkit::{config_with_market_maker, random_commands};
use keel_engine::core::{Core, CoreConfig, apply_journaled};
use keel_engine::port::CommandJournal;
use keel_engine::schema::{Command, Output, OutputBody};
use keel_journal::{AppendError, Config, Journal};
use keel_replay::log::{JournalRecorder, journal_config};
use keel_replay::snapshot::{SnapshotCodec, list_snapshots};
use keel_replay::{Progress, RecoverOptions, Until, recover, write_snapshot};

fn open(dir: &Path) -> JournalRecorder {
    let config = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
    JournalRecorder::new(Journal::open(dir, config).unwrap())
}

/// Records every output faithfully except number `alter_at` (0-based), whose time is moved.
struct Tamper {
    inner: JournalRecorder,
    outputs: u64,
    alter_at: u64,
    altered_seq: Option<u64>,
}

impl CommandJournal for Tamper {
    type Error = AppendError;
    fn append_input(&mut self, cmd: &Command) -> Result<u64, AppendError> {
        self.inner.append_input(cmd)
    }
    fn append_output(&mut self, out: &Output) -> Result<u64, AppendError> {
        let n = self.outputs;
        self.outputs += 1;
        if n == self.alter_at {
            let mut bad = *out;
            if let OutputBody::ExecReport(r) = &mut bad.body {
                r.leaves_qty.0 += 1;
            } else {
                bad.ts.0 += 1;
            }
            let seq = self.inner.append_output(&bad)?;
            self.altered_seq = Some(seq);
            Ok(seq)
        } else {
            self.inner.append_output(out)
        }
    }
}

/// Writes `commands` through a core into a journal at `dir`; returns the core and the seq
/// of each input.
fn write(dir: &Path, config: &CoreConfig, commands: &[Command]) -> (Core, Vec<u64>) {
    let mut journal = open(dir);
    let mut core = Core::new(config).unwrap();
    let mut outputs = Vec::new();
    let mut seqs = Vec::new();
    for cmd in commands {
        seqs.push(apply_journaled(&mut core, &mut journal, cmd, &mut outputs).unwrap());
    }
    journal.into_inner().close().unwrap();
    (core, seqs)
}

fn quiet<'a>() -> RecoverOptions<'a> {
    RecoverOptions { progress: Progress::Never, ..RecoverOptions::default() }
}

#[test]
fn recovered_state_equals_the_writers_and_every_output_matches() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(11, 4_000);
    let (core, seqs) = write(dir.path(), &config, &commands);

    let r = recover(dir.path(), &config, quiet()).unwrap();
    assert_eq!(r.core.digest(), core.digest());
    assert!(r.outputs_match(), "{:?}", r.mismatches.first());
    assert!(r.unrecorded_tail.is_empty());
    assert_eq!(r.counts.inputs(), commands.len() as u64);
    assert_eq!(r.counts.outputs(), core.counters().outputs);
    assert_eq!(r.last_input_seq, seqs.last().copied());
    assert_eq!(r.last_seq, r.counts.records());
    assert!(r.events_per_sec() > 0.0);

    // The writer continues from last_seq + 1.
    let j = Journal::open(
        dir.path(),
        journal_config(Config { segment_size: 1 << 20, ..Config::default() }),
    )
    .unwrap();
    assert_eq!(j.next_seq(), r.last_seq + 1);
    j.close().unwrap();
}

#[test]
fn recovery_up_to_a_sequence_equals_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(11, 1_500);
    let (_, seqs) = write(dir.path(), &config, &commands);
    let k = 700;
    let mut prefix = Core::new(&config).unwrap();
    let mut sink = Vec::new();
    for c in &commands[..=k] {
        prefix.apply(c, &mut sink);
    }
    let r = recover(dir.path(), &config, RecoverOptions { until: Until::Seq(seqs[k]), ..quiet() })
        .unwrap();
    assert_eq!(r.core.digest(), prefix.digest());
    assert_eq!(r.last_input_seq, Some(seqs[k]));
    assert!(r.outputs_match());
}

#[test]
fn an_altered_output_is_named_by_its_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(3, 2_000);
    let mut journal =
        Tamper { inner: open(dir.path()), outputs: 0, alter_at: 150, altered_seq: None };
    let mut core = Core::new(&config).unwrap();
    let mut outputs = Vec::new();
    for cmd in &commands {
        apply_journaled(&mut core, &mut journal, cmd, &mut outputs).unwrap();
    }
    let altered = journal.altered_seq.expect("enough outputs");
    journal.inner.into_inner().close().unwrap();

    let r = recover(dir.path(), &config, quiet()).unwrap();
    assert_eq!(r.mismatch_count, 1, "{:?}", r.mismatches);
    let m = r.mismatches[0];
    assert_eq!(m.seq, altered);
    assert!(m.input_seq < altered);
    assert_ne!(m.expected, m.actual);
    assert!(m.to_string().starts_with(&format!("seq {altered} ")), "{m}");
    // The state is still the writer's: outputs do not change it.
    assert_eq!(r.core.digest(), core.digest());

    let v = keel_replay::verify(dir.path(), &config, 10, Progress::Never).unwrap();
    assert!(v.inspection.problems.is_empty());
    assert!(!v.ok());
    assert_eq!(v.first_problem_seq(), Some(altered));
}

#[test]
fn a_missing_output_at_the_end_is_an_unrecorded_tail() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(9, 300);
    let mut journal = open(dir.path());
    let mut core = Core::new(&config).unwrap();
    let mut outputs = Vec::new();
    for cmd in &commands {
        apply_journaled(&mut core, &mut journal, cmd, &mut outputs).unwrap();
    }
    // A new order whose outputs never reach the journal (the writer stopped in between).
    let last = *commands
        .iter()
        .rev()
        .find(|c| matches!(c.body, keel_engine::schema::CommandBody::NewOrder(_)))
        .unwrap();
    let mut cmd = last;
    cmd.ts.0 += 1_000_000_000;
    if let keel_engine::schema::CommandBody::NewOrder(o) = &mut cmd.body {
        o.cl_ord_id = "TAIL1".parse().unwrap();
    }
    journal.append_input(&cmd).unwrap();
    let mut derived = Vec::new();
    core.apply(&cmd, &mut derived);
    assert!(!derived.is_empty());
    journal.into_inner().close().unwrap();

    let r = recover(dir.path(), &config, quiet()).unwrap();
    assert!(r.outputs_match());
    assert_eq!(r.unrecorded_tail, derived);
    assert_eq!(r.core.digest(), core.digest());
}

/// A test codec: the body is the commands applied so far; reading replays them. It stands
/// in for `Core::write_snapshot`/`read_snapshot` until the engine has them, and exercises
/// the same file format and fallback logic.
struct CommandsCodec {
    applied: Vec<Command>,
}

impl SnapshotCodec for CommandsCodec {
    fn write(&self, _core: &Core, w: &mut dyn Write) -> std::io::Result<()> {
        let bytes =
            rkyv::to_bytes::<rkyv::rancor::Error>(&self.applied).map_err(std::io::Error::other)?;
        w.write_all(&bytes)
    }
    fn read(
        &self,
        config: &CoreConfig,
        bytes: &[u8],
    ) -> Result<Core, Box<dyn std::error::Error + Send + Sync>> {
        let mut aligned = rkyv::util::AlignedVec::<16>::new();
        aligned.extend_from_slice(bytes);
        let commands = rkyv::from_bytes::<Vec<Command>, rkyv::rancor::Error>(&aligned)?;
        let mut core = Core::new(config)?;
        let mut sink = Vec::new();
        for c in &commands {
            core.apply(c, &mut sink);
        }
        Ok(core)
    }
}

#[test]
fn recovery_from_a_snapshot_equals_recovery_from_the_start_and_a_corrupt_one_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(21, 3_000);
    let (core, seqs) = write(dir.path(), &config, &commands);

    // Snapshots after inputs 1000 and 2000, each from a core that applied exactly those.
    let mut snaps = Vec::new();
    for k in [1000usize, 2000] {
        let mut c = Core::new(&config).unwrap();
        let mut sink = Vec::new();
        for cmd in &commands[..=k] {
            c.apply(cmd, &mut sink);
        }
        let codec = CommandsCodec { applied: commands[..=k].to_vec() };
        snaps.push(write_snapshot(dir.path(), seqs[k], &c, &codec).unwrap());
    }
    assert_eq!(list_snapshots(dir.path()).unwrap().len(), 2);
    let reader = CommandsCodec { applied: Vec::new() };

    let full = recover(dir.path(), &config, quiet()).unwrap();
    let snap = recover(dir.path(), &config, RecoverOptions { snapshots: Some(&reader), ..quiet() })
        .unwrap();
    assert_eq!(snap.snapshot.as_ref().map(|s| s.seq), Some(seqs[2000]));
    assert!(snap.snapshot_rejections.is_empty());
    assert_eq!(snap.core.digest(), full.core.digest());
    assert_eq!(snap.core.digest(), core.digest());
    assert_eq!(snap.last_seq, full.last_seq);
    assert!(snap.outputs_match(), "{:?}", snap.mismatches.first());
    assert_eq!(snap.counts.inputs(), (commands.len() - 2001) as u64);

    // Corrupt the newest snapshot's body: recovery falls back to the older one.
    let mut bytes = std::fs::read(&snaps[1]).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    std::fs::write(&snaps[1], &bytes).unwrap();
    let fb = recover(dir.path(), &config, RecoverOptions { snapshots: Some(&reader), ..quiet() })
        .unwrap();
    assert_eq!(fb.snapshot.as_ref().map(|s| s.seq), Some(seqs[1000]));
    assert_eq!(fb.snapshot_rejections.len(), 1);
    assert!(
        fb.snapshot_rejections[0].reason.contains("body CRC32C mismatch"),
        "{}",
        fb.snapshot_rejections[0]
    );
    assert_eq!(fb.core.digest(), core.digest());

    // Corrupt the older one's header too: recovery starts from the beginning.
    let mut bytes = std::fs::read(&snaps[0]).unwrap();
    bytes[30] ^= 1;
    std::fs::write(&snaps[0], &bytes).unwrap();
    let none = recover(dir.path(), &config, RecoverOptions { snapshots: Some(&reader), ..quiet() })
        .unwrap();
    assert!(none.snapshot.is_none());
    assert_eq!(none.snapshot_rejections.len(), 2);
    assert!(
        none.snapshot_rejections[1].reason.contains("header CRC32C"),
        "{}",
        none.snapshot_rejections[1]
    );
    assert_eq!(none.core.digest(), core.digest());
}

#[test]
fn a_snapshot_ahead_of_the_journal_or_with_a_wrong_digest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(2, 500);
    let (core, seqs) = write(dir.path(), &config, &commands);
    let codec = CommandsCodec { applied: commands.clone() };
    // Claims a sequence the journal does not have.
    write_snapshot(dir.path(), seqs.last().unwrap() + 10_000, &core, &codec).unwrap();
    // Claims the state after input 100, but its body holds every command: digest differs.
    let mut c = Core::new(&config).unwrap();
    let mut sink = Vec::new();
    for cmd in &commands[..=100] {
        c.apply(cmd, &mut sink);
    }
    write_snapshot(dir.path(), seqs[100], &c, &codec).unwrap();
    let reader = CommandsCodec { applied: Vec::new() };
    let r = recover(dir.path(), &config, RecoverOptions { snapshots: Some(&reader), ..quiet() })
        .unwrap();
    assert!(r.snapshot.is_none());
    assert_eq!(r.snapshot_rejections.len(), 2, "{:?}", r.snapshot_rejections);
    assert!(
        r.snapshot_rejections[0].reason.contains("ends before"),
        "{}",
        r.snapshot_rejections[0]
    );
    assert!(r.snapshot_rejections[1].reason.contains("digest"), "{}", r.snapshot_rejections[1]);
    assert_eq!(r.core.digest(), core.digest());
}

#[test]
fn a_corrupt_record_stops_recovery_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(4, 300);
    write(dir.path(), &config, &commands);
    let seg = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "seg") || p.to_string_lossy().contains("seg"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[8192] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let err = recover(dir.path(), &config, quiet()).err().expect("corruption is refused");
    assert!(err.seq().is_some(), "{err}");
    assert!(err.to_string().contains("offset"), "{err}");
}

/// The engine's own snapshot encoding (`Core::write_snapshot` / `read_snapshot`).
#[test]
fn engine_snapshots_recover_like_the_start_and_a_corrupt_one_falls_back() {
    use keel_replay::EngineCodec;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_market_maker();
    let commands = random_commands(31, 3_000);
    // Write the journal, snapshotting the live core after inputs 1000 and 2000.
    let mut journal = open(dir.path());
    let mut core = Core::new(&config).unwrap();
    let mut outputs = Vec::new();
    let mut snaps = Vec::new();
    let mut seqs = Vec::new();
    for (k, cmd) in commands.iter().enumerate() {
        let seq = apply_journaled(&mut core, &mut journal, cmd, &mut outputs).unwrap();
        seqs.push(seq);
        if k == 1000 || k == 2000 {
            snaps.push(write_snapshot(dir.path(), seq, &core, &EngineCodec).unwrap());
        }
    }
    journal.into_inner().close().unwrap();

    let full = recover(dir.path(), &config, quiet()).unwrap();
    let snap =
        recover(dir.path(), &config, RecoverOptions { snapshots: Some(&EngineCodec), ..quiet() })
            .unwrap();
    assert_eq!(snap.snapshot.as_ref().map(|s| s.seq), Some(seqs[2000]));
    assert!(snap.snapshot_rejections.is_empty(), "{:?}", snap.snapshot_rejections);
    assert_eq!(snap.core.digest(), full.core.digest());
    assert_eq!(snap.core.digest(), core.digest());
    assert!(snap.outputs_match(), "{:?}", snap.mismatches.first());
    assert_eq!(snap.last_seq, full.last_seq);

    // A flipped body byte with a recomputed body CRC: the engine's own check refuses it.
    let mut bytes = std::fs::read(&snaps[1]).unwrap();
    let at = keel_replay::snapshot::HEADER_LEN + 100;
    bytes[at] ^= 0x10;
    let mut h = keel_replay::snapshot::SnapshotHeader::decode(&bytes).unwrap();
    h.body_crc = crc32c::crc32c(&bytes[keel_replay::snapshot::HEADER_LEN..]);
    bytes[..keel_replay::snapshot::HEADER_LEN].copy_from_slice(&h.encode());
    std::fs::write(&snaps[1], &bytes).unwrap();
    let fb =
        recover(dir.path(), &config, RecoverOptions { snapshots: Some(&EngineCodec), ..quiet() })
            .unwrap();
    assert_eq!(fb.snapshot.as_ref().map(|s| s.seq), Some(seqs[1000]));
    assert_eq!(fb.snapshot_rejections.len(), 1);
    let why = &fb.snapshot_rejections[0].reason;
    assert!(why.contains("engine refused") || why.contains("digest"), "{why}");
    assert_eq!(fb.core.digest(), core.digest());
    assert!(fb.outputs_match());

    // A snapshot read with another configuration is refused by the engine.
    let other = keel_engine::core::testkit::config();
    let r =
        recover(dir.path(), &other, RecoverOptions { snapshots: Some(&EngineCodec), ..quiet() })
            .unwrap();
    assert!(r.snapshot.is_none());
    assert_eq!(r.snapshot_rejections.len(), 2);
}
