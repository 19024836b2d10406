//! How Keel's commands and outputs are laid out in the journal, and the adapter that
//! records a core into it.
//!
//! | record kind | payload | timestamp |
//! |---|---|---|
//! | `INPUT` (1) | an archived [`Command`] | the command's ingress time |
//! | `OUTPUT` (2) | an archived [`Output`] of the preceding input | the core's time |
//! | `SNAPSHOT_MARKER` (3) | a periodic snapshot was taken: its sequence and digest ([`crate::checkpoint`]) | the core's time |
//!
//! Every segment carries [`SCHEMA_HASH`], so a journal is only ever read by a binary whose
//! records mean the same thing. Reading validates each payload with rkyv's checked access
//! before it is deserialized.

use crate::checkpoint::{CheckpointStats, Checkpointer};
use crate::fixed::access_fixed;
use crate::in_place::command_into;
use keel_engine::core::Core;
use keel_engine::port::CommandJournal;
use keel_engine::schema::{Command, Output, SCHEMA_HASH};
use keel_journal::{AppendError, Config, Journal, Record, RecordKind};

/// Journal settings for Keel's records: `config` with the schema hash set.
pub fn journal_config(config: Config) -> Config {
    Config { schema_hash: SCHEMA_HASH, ..config }
}

/// Records a core's inputs and outputs into a [`Journal`] it owns, and, when given a
/// [`Checkpointer`], takes its periodic snapshots between batches.
pub struct JournalRecorder {
    journal: Journal,
    checkpointer: Option<Checkpointer>,
}

impl JournalRecorder {
    /// Records into `journal`.
    pub fn new(journal: Journal) -> Self {
        JournalRecorder { journal, checkpointer: None }
    }

    /// Also takes periodic snapshots with `checkpointer`.
    pub fn with_checkpointer(mut self, checkpointer: Checkpointer) -> Self {
        self.checkpointer = Some(checkpointer);
        self
    }

    /// The checkpointer's counters, if snapshots are on.
    pub fn checkpoints(&self) -> Option<&CheckpointStats> {
        self.checkpointer.as_ref().map(|c| c.stats())
    }

    /// The journal (for its durable sequence, sync, and so on).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The journal, given back (to close it), once a snapshot being written is stored.
    pub fn into_inner(mut self) -> Journal {
        if let Some(c) = &mut self.checkpointer {
            c.finish();
        }
        self.journal
    }
}

impl CommandJournal for JournalRecorder {
    type Error = AppendError;

    #[inline]
    fn append_input(&mut self, cmd: &Command) -> Result<u64, AppendError> {
        let seq = self.journal.append_archived(RecordKind::INPUT, cmd.ts.0, cmd)?;
        if let Some(c) = &mut self.checkpointer {
            c.on_input(seq);
        }
        Ok(seq)
    }

    #[inline]
    fn append_output(&mut self, out: &Output) -> Result<u64, AppendError> {
        self.journal.append_archived(RecordKind::OUTPUT, out.ts.0, out)
    }

    #[inline]
    fn after_batch(&mut self, core: &Core) -> Result<(), AppendError> {
        match &mut self.checkpointer {
            Some(c) => c.after_batch(core, &mut self.journal),
            None => Ok(()),
        }
    }
}

/// One decoded journal record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An input, at its sequence.
    Input {
        /// Journal sequence.
        seq: u64,
        /// The command.
        cmd: Command,
    },
    /// An output, at its sequence.
    Output {
        /// Journal sequence.
        seq: u64,
        /// The output.
        out: Output,
    },
    /// A record of another kind (snapshot markers, future kinds): skipped by replay.
    Other {
        /// Journal sequence.
        seq: u64,
        /// Its kind.
        kind: RecordKind,
    },
}

/// Serializes outputs exactly as the journal writer does (`Journal::append_archived`),
/// into a buffer kept for reuse: an output the replay derives can then be compared with a
/// recorded one byte for byte, with no decoding. Equal bytes are a valid archive of the
/// derived output, so the record needs no further validation; any difference is decoded
/// (checked) to report it.
pub struct OutputArchiver {
    buf: Box<[u8]>,
    scratch: Box<[std::mem::MaybeUninit<u8>]>,
}

impl Default for OutputArchiver {
    fn default() -> Self {
        OutputArchiver {
            // Outputs are fixed-size records of a few hundred bytes.
            buf: vec![0; 4096].into_boxed_slice(),
            scratch: vec![std::mem::MaybeUninit::uninit(); 256].into_boxed_slice(),
        }
    }
}

impl OutputArchiver {
    /// The bytes the journal holds for `out`; `None` if it does not fit the buffer (then
    /// compare decoded values instead).
    pub fn archive(&mut self, out: &Output) -> Option<&[u8]> {
        use rkyv::ser::allocator::SubAllocator;
        use rkyv::ser::writer::Buffer;
        let scratch = SubAllocator::new(&mut self.scratch);
        let buf = rkyv::api::low::to_bytes_in_with_alloc::<_, _, rkyv::rancor::Failure>(
            out,
            Buffer::from(&mut self.buf[..]),
            scratch,
        )
        .ok()?;
        let len = buf.len();
        Some(&self.buf[..len])
    }
}

/// A record whose payload is not what its kind says.
#[derive(Debug, thiserror::Error)]
#[error("record {seq} (kind {kind:?}) does not hold a valid {expected}: {source}")]
pub struct DecodeError {
    /// The record's sequence.
    pub seq: u64,
    /// Its kind.
    pub kind: RecordKind,
    /// What it should hold.
    pub expected: &'static str,
    /// rkyv's validation error.
    #[source]
    pub source: rkyv::rancor::Error,
}

/// Validates and decodes a record.
pub fn decode(record: &Record<'_>) -> Result<Entry, DecodeError> {
    match record.kind {
        RecordKind::INPUT => Ok(Entry::Input { seq: record.seq, cmd: decode_command(record)? }),
        RecordKind::OUTPUT => Ok(Entry::Output { seq: record.seq, out: decode_output(record)? }),
        kind => Ok(Entry::Other { seq: record.seq, kind }),
    }
}

/// Validates and decodes the command of an `INPUT` record (whatever its kind says).
///
/// Every record replay reads goes through here or [`decode_command_into`], so the common
/// case takes [`access_fixed`]: the same checks as rkyv's checked access (bounds,
/// alignment, enum tags, every field's invariants; what it leaves out is the bookkeeping
/// for relative pointers, which [`Command`] does not have, see [`crate::fixed`]) in one
/// pass, then [`command_into`]. Only a record that fails is checked again with the
/// high-level API, for an error that says what is wrong.
#[inline]
pub fn decode_command(record: &Record<'_>) -> Result<Command, DecodeError> {
    let mut cmd = Command {
        ts: keel_engine::TimestampNs(0),
        session: keel_engine::SessionId(0),
        body: keel_engine::schema::CommandBody::Timer(keel_engine::schema::Timer {}),
    };
    decode_command_into(record, &mut cmd)?;
    Ok(cmd)
}

/// Like [`decode_command`], but writes the command into `out` (which replay keeps from one
/// record to the next and hands to `Core::apply`): each variant is stored where it goes
/// ([`command_into`]) instead of being built as a value and copied. On an error `out` holds
/// an unspecified valid command.
// Always inlined: out of line, the stores through `out` and the call cost more than the
// decoding (callgrind: +4 M instructions over the six recoveries of `replay_bench`).
#[inline(always)]
pub fn decode_command_into(record: &Record<'_>, out: &mut Command) -> Result<(), DecodeError> {
    if let Some(archived) = access_fixed::<<Command as rkyv::Archive>::Archived>(record.payload) {
        if command_into(archived, out).is_ok() {
            return Ok(());
        }
    }
    *out = decode_payload_slow(record, "command")?;
    Ok(())
}

/// Validates the output of an `OUTPUT` record without decoding it (for replay that only
/// counts it): the checks of [`decode_output`], with the same error when they fail.
#[inline]
pub fn check_output<'a>(
    record: &Record<'a>,
) -> Result<&'a <Output as rkyv::Archive>::Archived, DecodeError> {
    match access_fixed::<<Output as rkyv::Archive>::Archived>(record.payload) {
        Some(archived) => Ok(archived),
        None => check_output_slow(record),
    }
}

/// The high-level API on a record the fast path refused, for an error that names the
/// problem.
#[cold]
#[inline(never)]
fn check_output_slow<'a>(
    record: &Record<'a>,
) -> Result<&'a <Output as rkyv::Archive>::Archived, DecodeError> {
    rkyv::access::<<Output as rkyv::Archive>::Archived, rkyv::rancor::Error>(record.payload)
        .map_err(|source| DecodeError {
            seq: record.seq,
            kind: record.kind,
            expected: "output",
            source,
        })
}

/// Validates and decodes the output of an `OUTPUT` record: [`access_fixed`] like
/// [`decode_command`], then rkyv's deserializer with a zero-sized error. (Decoding in place
/// as commands are, into an output returned by value, measured slower: 224 against 174
/// instructions per output.)
#[inline]
pub fn decode_output(record: &Record<'_>) -> Result<Output, DecodeError> {
    use rkyv::Deserialize;
    use rkyv::rancor::{Failure, Strategy};
    if let Some(archived) = access_fixed::<<Output as rkyv::Archive>::Archived>(record.payload) {
        if let Ok(out) = archived.deserialize(Strategy::<(), Failure>::wrap(&mut ())) {
            return Ok(out);
        }
    }
    decode_payload_slow(record, "output")
}

/// The high-level API on a record the fast path refused: the same checks, with an error
/// that names the problem.
#[cold]
#[inline(never)]
fn decode_payload_slow<T>(record: &Record<'_>, expected: &'static str) -> Result<T, DecodeError>
where
    T: rkyv::Archive,
    T::Archived: rkyv::Portable
        + for<'b> rkyv::bytecheck::CheckBytes<rkyv::api::high::HighValidator<'b, rkyv::rancor::Error>>
        + rkyv::Deserialize<T, rkyv::api::high::HighDeserializer<rkyv::rancor::Error>>,
{
    let fail = |source| DecodeError { seq: record.seq, kind: record.kind, expected, source };
    let archived =
        rkyv::access::<T::Archived, rkyv::rancor::Error>(record.payload).map_err(fail)?;
    rkyv::deserialize::<T, rkyv::rancor::Error>(archived).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::core::testkit::{config_with_market_maker, random_commands};
    use keel_engine::core::{Core, apply_journaled};
    use keel_journal::Reader;
    use rkyv::Deserialize;
    use rkyv::rancor::{Failure, Strategy};

    #[test]
    fn a_recorded_core_reads_back_input_by_input() {
        let dir = tempfile::tempdir().unwrap();
        let config = journal_config(Config { segment_size: 1 << 20, ..Config::default() });
        let mut journal = JournalRecorder::new(Journal::open(dir.path(), config).unwrap());
        let mut core = Core::new(&config_with_market_maker()).unwrap();
        let commands = random_commands(3, 500);
        let mut outputs = Vec::new();
        let mut expected = Vec::new();
        for cmd in &commands {
            apply_journaled(&mut core, &mut journal, cmd, &mut outputs).unwrap();
            expected.push(Entry::Input { seq: 0, cmd: *cmd });
            expected.extend(outputs.iter().map(|out| Entry::Output { seq: 0, out: *out }));
        }
        journal.into_inner().close().unwrap();

        let mut reader = Reader::open_with_schema(dir.path(), SCHEMA_HASH).unwrap();
        let mut got = Vec::new();
        let mut archiver = OutputArchiver::default();
        while let Some(rec) = reader.next().unwrap() {
            got.push(match decode(&rec).unwrap() {
                Entry::Input { cmd, .. } => Entry::Input { seq: 0, cmd },
                Entry::Output { out, .. } => {
                    // What replay compares recorded outputs with: the writer's bytes.
                    assert_eq!(archiver.archive(&out), Some(rec.payload), "{out:?}");
                    Entry::Output { seq: 0, out }
                }
                other => panic!("unexpected {other:?}"),
            });
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn a_corrupted_tag_is_refused_and_a_good_record_decodes_to_itself() {
        use keel_engine::core::command_kind_index;
        type E = rkyv::rancor::Error;
        let cmds = random_commands(5, 200);
        let a = cmds[0];
        let mut b = *cmds
            .iter()
            .find(|c| command_kind_index(&c.body) != command_kind_index(&a.body))
            .expect("two kinds");
        (b.ts, b.session) = (a.ts, a.session);
        let good = rkyv::to_bytes::<E>(&a).unwrap();
        let rec = Record { seq: 7, kind: RecordKind::INPUT, ts_ns: 0, payload: &good };
        assert_eq!(decode_command(&rec).unwrap(), a);
        // The body's tag: the first byte that differs between two commands of different
        // kinds with the same header.
        let other = rkyv::to_bytes::<E>(&b).unwrap();
        let tag_at = good.iter().zip(other.iter()).position(|(x, y)| x != y).unwrap();
        let mut bad = good.clone();
        bad[tag_at] = 0xff;
        let rec = Record { seq: 7, kind: RecordKind::INPUT, ts_ns: 0, payload: &bad };
        let err = decode_command(&rec).unwrap_err();
        assert_eq!((err.seq, err.expected), (7, "command"));
        assert!(matches!(decode(&rec), Err(DecodeError { seq: 7, .. })));
    }

    /// `access_fixed` against rkyv's high-level checked access on the same bytes: on
    /// valid archives of every command and output a core derives, on every single-byte
    /// change of them (tags, `bool`s, padding, values), on slices that are too short, too
    /// long (the root is then at the end) or misaligned. Both must accept the same slices
    /// and, when they do, decode the same value.
    fn accepts_what_rkyv_accepts<T>(values: &[T])
    where
        T: rkyv::Archive
            + PartialEq
            + std::fmt::Debug
            + for<'a> rkyv::Serialize<
                rkyv::api::high::HighSerializer<
                    rkyv::util::AlignedVec,
                    rkyv::ser::allocator::ArenaHandle<'a>,
                    rkyv::rancor::Error,
                >,
            >,
        T::Archived: rkyv::Portable
            + rkyv::bytecheck::CheckBytes<Strategy<(), Failure>>
            + for<'b> rkyv::bytecheck::CheckBytes<
                rkyv::api::high::HighValidator<'b, rkyv::rancor::Error>,
            > + rkyv::Deserialize<T, Strategy<(), Failure>>
            + rkyv::Deserialize<T, rkyv::api::high::HighDeserializer<rkyv::rancor::Error>>,
    {
        type E = rkyv::rancor::Error;
        // An 8-aligned buffer with room for 8 bytes before and after the archive.
        let mut buf = rkyv::util::AlignedVec::<8>::new();
        let check = |bytes: &[u8], what: &str| {
            let ours = access_fixed::<T::Archived>(bytes);
            let theirs = rkyv::access::<T::Archived, E>(bytes).ok();
            assert_eq!(ours.is_some(), theirs.is_some(), "{what}: {bytes:02x?}");
            if let (Some(a), Some(b)) = (ours, theirs) {
                assert!(std::ptr::eq(a, b), "{what}: not the same root");
                let a: T = a.deserialize(Strategy::wrap(&mut ())).unwrap();
                let b: T = rkyv::deserialize::<T, E>(b).unwrap();
                assert_eq!(a, b, "{what}");
            }
            ours.is_some()
        };
        let (mut accepted, mut refused) = (0u64, 0u64);
        for v in values {
            let good = rkyv::to_bytes::<E>(v).unwrap();
            let n = good.len();
            buf.clear();
            buf.extend_from_slice(&[0u8; 8]);
            buf.extend_from_slice(&good);
            buf.extend_from_slice(&[0u8; 8]);
            assert!(check(&buf[8..8 + n], "valid"));
            // Longer (the root is the tail), shorter, misaligned.
            check(&buf[..8 + n], "8 bytes before");
            check(&buf[4..8 + n], "4 bytes before");
            check(&buf[8..8 + n - 1], "one byte short");
            check(&buf[9..9 + n], "misaligned");
            check(&buf[8..8 + n + 1], "one byte more");
            check(&[], "empty");
            for at in 8..8 + n {
                let orig = buf[at];
                for x in [0x00, 0x01, 0x02, 0x03, 0x07, 0x80, 0xfe, 0xff, orig ^ 0x01] {
                    buf[at] = x;
                    if check(&buf[8..8 + n], "one byte changed") {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
                buf[at] = orig;
            }
        }
        // The damage must have exercised both answers.
        assert!(accepted > 0 && refused > 0, "{accepted} accepted, {refused} refused");
    }

    #[test]
    fn fixed_access_accepts_exactly_what_rkyv_accepts_for_every_kind() {
        let config = config_with_market_maker();
        let mut commands = random_commands(17, 3000);
        commands.extend(keel_engine::core::testkit::session_commands(&config, 17, 3000));
        let mut core = Core::new(&config).unwrap();
        let mut outputs = Vec::new();
        for cmd in &commands {
            core.apply(cmd, &mut outputs);
        }
        // Every kind, whatever the streams happen to produce.
        use keel_engine::schema::*;
        use keel_engine::{SessionId, TimestampNs};
        let ts = TimestampNs(1 << 60);
        let id = |s: &str| s.parse::<keel_engine::ClOrdId>().unwrap();
        commands.extend(keel_engine::core::testkit::one_of_each_command());
        outputs.push(Output {
            ts,
            body: OutputBody::MassCancelReport(MassCancelReport {
                session: SessionId(4),
                cl_ord_id: id("M-1"),
                affected: 12,
                reject: None,
            }),
        });
        // One of each kind is enough for the byte-by-byte damage; keep a few of each.
        let mut seen = std::collections::HashMap::<_, usize>::new();
        let mut pick = |k: usize| {
            let n = seen.entry(k).or_default();
            *n += 1;
            *n <= 8
        };
        let commands: Vec<Command> = commands
            .into_iter()
            .filter(|c| pick(keel_engine::core::command_kind_index(&c.body)))
            .collect();
        let outputs: Vec<Output> = outputs
            .into_iter()
            .filter(|o| pick(100 + crate::recover::output_kind_index(&o.body)))
            .collect();
        // Every kind of command and output.
        let kinds = |it: &mut dyn Iterator<Item = usize>| {
            it.collect::<std::collections::BTreeSet<_>>().len()
        };
        assert_eq!(
            kinds(&mut commands.iter().map(|c| keel_engine::core::command_kind_index(&c.body))),
            keel_engine::core::COMMAND_KINDS
        );
        assert_eq!(
            kinds(&mut outputs.iter().map(|o| crate::recover::output_kind_index(&o.body))),
            crate::recover::OUTPUT_KINDS
        );
        accepts_what_rkyv_accepts(&commands);
        accepts_what_rkyv_accepts(&outputs);
        // And decoding in place gives every kind of command back.
        for cmd in &commands {
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(cmd).unwrap();
            let rec = Record { seq: 1, kind: RecordKind::INPUT, ts_ns: 0, payload: &bytes };
            assert_eq!(decode_command(&rec).unwrap(), *cmd);
        }
    }

    #[test]
    fn decoding_in_place_gives_every_kind_of_command_back() {
        let config = config_with_market_maker();
        let mut commands = random_commands(23, 3000);
        commands.extend(keel_engine::core::testkit::session_commands(&config, 23, 3000));
        let kinds: std::collections::HashSet<_> =
            commands.iter().map(|c| keel_engine::core::command_kind_index(&c.body)).collect();
        assert!(kinds.len() >= 15, "only {} kinds", kinds.len());
        // Decoded into the slot the previous command left, as replay does.
        let mut slot = commands[commands.len() - 1];
        for cmd in &commands {
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(cmd).unwrap();
            let rec = Record { seq: 3, kind: RecordKind::INPUT, ts_ns: 0, payload: &bytes };
            decode_command_into(&rec, &mut slot).unwrap();
            assert_eq!(slot, *cmd);
        }
        // A refused record says so, with its sequence.
        let rec = Record { seq: 4, kind: RecordKind::INPUT, ts_ns: 0, payload: &[0xff; 128] };
        let err = decode_command_into(&rec, &mut slot).unwrap_err();
        assert_eq!((err.seq, err.expected), (4, "command"));
    }

    #[test]
    fn checking_or_decoding_an_output_gives_it_back() {
        let config = config_with_market_maker();
        let mut core = Core::new(&config).unwrap();
        let mut outputs = Vec::new();
        for cmd in &random_commands(29, 3000) {
            core.apply(cmd, &mut outputs);
        }
        let mut kinds = std::collections::HashSet::new();
        for out in &outputs {
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(out).unwrap();
            let rec = Record { seq: 5, kind: RecordKind::OUTPUT, ts_ns: 0, payload: &bytes };
            let k = crate::recover::archived_output_kind_index(&check_output(&rec).unwrap().body);
            assert_eq!(k, crate::recover::output_kind_index(&out.body));
            // And decoded in place, the same output.
            assert_eq!(decode_output(&rec).unwrap(), *out);
            kinds.insert(k);
        }
        assert!(kinds.len() >= 4, "{kinds:?}");
        let rec = Record { seq: 6, kind: RecordKind::OUTPUT, ts_ns: 0, payload: &[0xff; 200] };
        let err = check_output(&rec).unwrap_err();
        assert_eq!((err.seq, err.expected), (6, "output"));
        let err = decode_output(&rec).unwrap_err();
        assert_eq!((err.seq, err.expected), (6, "output"));
    }

    #[test]
    fn a_payload_of_the_wrong_kind_is_refused_with_its_sequence() {
        let rec = Record { seq: 9, kind: RecordKind::INPUT, ts_ns: 0, payload: &[0xff; 8] };
        let err = decode(&rec).unwrap_err();
        assert_eq!(err.seq, 9);
        assert!(err.to_string().starts_with("record 9 (kind"), "{err}");
    }
}
