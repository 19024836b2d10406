//! Snapshots of the whole core: [`Core::write_snapshot`] and [`Core::read_snapshot`].
//!
//! A snapshot captures the core's *logical* state — enough that a restored core behaves
//! exactly like the original on every future command, not only that its
//! [`digest`](Core::digest) is equal. Recovery loads the latest snapshot and replays only
//! the journal after it. Snapshots are written between commands, off the hot path; both
//! directions allocate.
//!
//! # Contract
//! - `read_snapshot(config, bytes)` builds `Core::new(config)` and restores every component
//!   into it; the result applies any later command with the same outputs and the same
//!   digest as the core that wrote the bytes.
//! - The snapshot carries a fingerprint of the configuration it was taken under; a core
//!   configured differently refuses it ([`SnapshotError::ConfigMismatch`]) rather than
//!   restoring state into tables of another shape.
//! - The snapshot carries the writer's [`StateDigest`]; the restored core's digest must be
//!   equal ([`SnapshotError::DigestMismatch`]). A BLAKE3 checksum over all the bytes
//!   catches damage to what the digest does not cover (counters, strategy state).
//! - Every failure is a precise [`SnapshotError`] naming the offset; nothing panics on bad
//!   bytes.
//!
//! # Layout (version 1, little-endian)
//! ```text
//! offset  size  field
//!      0     8  magic "KEELSNAP"
//!      8     4  format version (1)
//!     12     4  section count (8)
//!     16     8  layout hash (SNAPSHOT_SCHEMA_HASH)
//!     24   160  configuration fingerprint: 5 × BLAKE3 (instruments, venues, sizes,
//!               risk, strategies)
//!    184     …  sections, in this order, each: tag u32 (its index), length u64, payload
//!               0 core       now u64, next order id u64, held orders u32, counters
//!               1 markets    per configured (instrument, venue): book levels / L3 orders
//!                            in queue order, last trade, status, rebuilding
//!               2 sessions   every session slot
//!               3 orders     sizes, orders in id order, retired client order ids and
//!                            remembered exec ids (oldest first)
//!               4 risk       limits, throttle buckets, states, kill switches, loss
//!                            trackers, exposure, marks, duplicate ring (oldest first)
//!               5 positions  cells, firm totals, account totals
//!               6 strategy_queue  undelivered strategy events, deferral counter
//!               7 strategies per hosted strategy: name, its own state bytes
//!   end-64    32  state digest at writing
//!   end-32    32  BLAKE3 of every byte before this field
//! ```
//! Component encodings are documented beside each component (`snapshot` submodules).

use super::{COMMAND_KINDS, Core, CoreConfig, CoreConfigError, REJECT_CODES, StateDigest};
use crate::risk::RiskConfig;
use crate::snapshot_codec::{Bounds, CodecError, Reader, Writer};
use crate::{TimestampNs, schema};
use std::io;

/// The first eight bytes of every snapshot.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"KEELSNAP";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// A description of every section's encoding; any change to an encoding changes it, and so
/// [`SNAPSHOT_SCHEMA_HASH`].
const LAYOUT: &str = "core:now,next_order_id,held_count,commands_by_kind[24],rejects_by_code[64],\
fills,anomalies,outputs,held_ids;markets:slots[opt(kind,book,opt(last_trade),status,rebuilding)],\
l2:side[levels(price,qty)],l3:side[levels(price,orders(id,visible,hidden,display,filled,\
post_only))];sessions:slots[opt(kind,account,cod,logged_on)];orders:sizes,orders(terms,status,\
filled,notional,venue_order_id,opt(pending),opt(cancel_request),updated_at,risk_price),cl_history,exec_history;\
risk:limits[15],buckets[3](credit,last),states,loss,marks,cells,aggregates,duplicates;\
positions:cells,firm,accounts;strategy_queue:events(slot,fill|update),deferred;\
strategies:(name,bytes)";

/// A hash of the snapshot layout and of the command/output schema it belongs with.
pub const SNAPSHOT_SCHEMA_HASH: u64 = {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let layout = LAYOUT.as_bytes();
    let schema = schema::SCHEMA_HASH.to_le_bytes();
    let mut i = 0;
    while i < layout.len() + schema.len() {
        let b = if i < layout.len() { layout[i] } else { schema[i - layout.len()] };
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
};

/// The sections, in order; the names are the `component` of decode errors.
pub const SECTIONS: [&str; 8] =
    ["core", "markets", "sessions", "orders", "risk", "positions", "strategy_queue", "strategies"];

/// The parts of the configuration fingerprint, in header order.
pub const CONFIG_PARTS: [&str; 5] = ["instruments", "venues", "sizes", "risk", "strategies"];

const HEADER_LEN: usize = 24 + 32 * CONFIG_PARTS.len();

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with [`SNAPSHOT_MAGIC`].
    #[error("not a Keel core snapshot: magic {found:02x?}")]
    BadMagic {
        /// The first eight bytes found.
        found: [u8; 8],
    },
    /// A format version this build does not read.
    #[error("unsupported snapshot version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The snapshot's layout hash differs from this build's [`SNAPSHOT_SCHEMA_HASH`].
    #[error("snapshot schema hash {found:#018x} differs from this build's {expected:#018x}")]
    SchemaHashMismatch {
        /// This build's hash.
        expected: u64,
        /// The snapshot's.
        found: u64,
    },
    /// The input ends before the snapshot does.
    #[error("snapshot truncated at offset {offset}: {needed} more bytes needed")]
    Truncated {
        /// Offset of the read that ran out.
        offset: usize,
        /// Bytes missing there.
        needed: usize,
    },
    /// A section (or the framing) does not decode.
    #[error("snapshot section {component} does not decode at offset {offset}: {detail}")]
    Decode {
        /// The section ([`SECTIONS`]), or `header` / `trailer`.
        component: &'static str,
        /// Offset of the bad value.
        offset: usize,
        /// What is wrong.
        detail: String,
    },
    /// A section holds a value the configuration has no room for (more orders than the
    /// table's capacity, an id outside a table).
    #[error("snapshot section {component} is out of range at offset {offset}: {detail}")]
    OutOfRange {
        /// The section ([`SECTIONS`]).
        component: &'static str,
        /// Offset of the value.
        offset: usize,
        /// What is out of range.
        detail: String,
    },
    /// The restored state's digest differs from the one recorded at writing.
    #[error("restored state digest {actual} differs from the snapshot's {expected}")]
    DigestMismatch {
        /// Recorded in the snapshot.
        expected: StateDigest,
        /// Of the restored core.
        actual: StateDigest,
    },
    /// The bytes were damaged: their checksum differs from the one recorded.
    #[error("snapshot checksum {} differs from the recorded {}", hex(.actual), hex(.expected))]
    ChecksumMismatch {
        /// Recorded in the snapshot.
        expected: [u8; 32],
        /// Of the bytes read.
        actual: [u8; 32],
    },
    /// The snapshot was taken under a different configuration.
    #[error(
        "snapshot was taken under a different configuration: {part} differ \
         (snapshot {}, configured {})",
        hex(.found),
        hex(.expected)
    )]
    ConfigMismatch {
        /// Which part differs ([`CONFIG_PARTS`]).
        part: &'static str,
        /// Fingerprint of the configuration given.
        expected: [u8; 32],
        /// Fingerprint recorded in the snapshot.
        found: [u8; 32],
    },
    /// The configuration given cannot build a core at all.
    #[error("configuration refused: {0}")]
    Config(#[from] CoreConfigError),
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SnapshotError {
    fn from_codec(component: &'static str, e: CodecError) -> SnapshotError {
        match e {
            // A section's payload is complete (its framing was checked); running out inside
            // it means the payload is not what its decoder expects.
            CodecError::Truncated { offset, needed } => SnapshotError::Decode {
                component,
                offset,
                detail: format!("section ends {needed} bytes early"),
            },
            CodecError::Invalid { offset, detail } => {
                SnapshotError::Decode { component, offset, detail }
            }
            CodecError::OutOfRange { offset, detail } => {
                SnapshotError::OutOfRange { component, offset, detail }
            }
        }
    }
}

/// A fingerprint of the configuration a core was built from: one BLAKE3 hash per part of
/// [`CONFIG_PARTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigFingerprint(pub [[u8; 32]; 5]);

impl ConfigFingerprint {
    /// The fingerprint of `config`, whose derived risk configuration is `risk`.
    pub fn of(config: &CoreConfig, risk: &RiskConfig) -> ConfigFingerprint {
        let hash = |fill: &dyn Fn(&mut Writer)| {
            let mut w = Writer::new();
            fill(&mut w);
            *blake3::hash(w.as_slice()).as_bytes()
        };
        let text = |w: &mut Writer, s: &str| w.bytes(s.as_bytes());
        let instruments = hash(&|w| {
            w.len_u32(config.instruments.len());
            for i in &config.instruments {
                w.u32(i.id.0);
                text(w, &i.symbol);
                text(w, &i.tick_size.normalize().to_string());
                text(w, &i.lot_size.normalize().to_string());
                w.i64(i.min_qty.lots());
                w.i64(i.max_qty.lots());
                w.i128(i.min_notional);
                w.i128(i.max_notional);
                w.u32(i.price_precision);
                w.u32(i.qty_precision);
                text(w, &i.currency);
                w.len_u32(i.venues.len());
                for v in &i.venues {
                    w.u16(v.0);
                }
            }
        });
        let venues = hash(&|w| {
            w.len_u32(config.venues.len());
            for v in &config.venues {
                w.u16(v.id.0);
                text(w, &v.name);
                text(w, &format!("{:?}", v.feed));
            }
        });
        let sizes = hash(&|w| {
            w.u32(config.account_count);
            w.u32(config.session_capacity);
            w.u64(config.orders.orders_max as u64);
            w.u64(config.orders.cl_ord_id_history as u64);
            w.u64(config.orders.exec_id_history as u64);
            w.u32(config.book.orders);
            w.u32(config.book.levels_per_side);
            w.u64(config.strategy_events_per_command as u64);
        });
        let risk = hash(&|w| {
            w.len_u32(risk.instruments.len());
            for i in &risk.instruments {
                w.u32(i.id.0);
                w.i64(i.min_qty.lots());
                w.i64(i.max_qty.lots());
                w.i128(i.min_notional);
                w.i128(i.max_notional);
                w.i64(i.value_per_notional_unit);
            }
            w.u32(risk.account_count);
            w.u32(risk.session_capacity);
            for list in [
                &risk.firm_limits,
                &risk.account_defaults,
                &risk.account_instrument_defaults,
                &risk.session_defaults,
            ] {
                w.len_u32(list.len());
                for (kind, value) in list {
                    w.u8(*kind as u8);
                    w.i64(*value);
                }
            }
            text(w, &format!("{:?}", risk.no_reference));
            text(w, &format!("{:?}", risk.stp));
            w.u64(risk.duplicate_ring_capacity as u64);
            w.u64(risk.trading_day_offset_ns);
        });
        let strategies = hash(&|w| {
            w.len_u32(config.strategies.len());
            for s in &config.strategies {
                text(w, &s.name);
                let mut params: Vec<_> = s.params.iter().collect();
                params.sort();
                w.len_u32(params.len());
                for (k, v) in params {
                    text(w, k);
                    text(w, v.trim());
                }
                w.u32(s.session.0);
                w.u32(s.account.0);
                w.u16(s.venue.0);
            }
        });
        ConfigFingerprint([instruments, venues, sizes, risk, strategies])
    }
}

impl Core {
    /// The snapshot of the core's state, as [`Core::write_snapshot`] writes it.
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(&SNAPSHOT_MAGIC);
        w.u32(SNAPSHOT_VERSION);
        w.len_u32(SECTIONS.len());
        w.u64(SNAPSHOT_SCHEMA_HASH);
        for part in &self.fingerprint.0 {
            w.raw(part);
        }
        debug_assert_eq!(w.len(), HEADER_LEN);
        let s = &self.state;
        for tag in 0..SECTIONS.len() {
            let mut payload = Writer::new();
            match tag {
                0 => self.write_core_section(&mut payload),
                1 => s.markets.snapshot_write(&mut payload),
                2 => s.sessions.snapshot_write(&mut payload),
                3 => s.orders.snapshot_write(&mut payload),
                4 => s.risk.snapshot_write(&mut payload),
                5 => s.positions.snapshot_write(&mut payload),
                6 => self.queue.snapshot_write(&mut payload),
                _ => self.strategies.snapshot_write(&mut payload),
            }
            w.u32(tag as u32);
            w.u64(payload.len() as u64);
            w.raw(payload.as_slice());
        }
        w.raw(&self.digest().0);
        let checksum = *blake3::hash(w.as_slice()).as_bytes();
        w.raw(&checksum);
        w.into_inner()
    }

    /// Writes a snapshot of the core's whole state (see the [module docs](self)) to `w`.
    /// Call between commands; it allocates.
    pub fn write_snapshot(&self, w: &mut impl io::Write) -> io::Result<()> {
        w.write_all(&self.snapshot_bytes())
    }

    /// Builds a core from `config` and restores the snapshot `bytes` into it. Refuses bytes
    /// that are not a snapshot of this version and layout, were taken under a different
    /// configuration, do not decode, do not fit the configured tables, or whose restored
    /// digest or checksum differs from the recorded one.
    pub fn read_snapshot(config: &CoreConfig, bytes: &[u8]) -> Result<Core, SnapshotError> {
        let truncated = |e: CodecError| match e {
            CodecError::Truncated { offset, needed } => SnapshotError::Truncated { offset, needed },
            other => SnapshotError::from_codec("header", other),
        };
        let mut r = Reader::new(bytes);
        let magic = r.raw(SNAPSHOT_MAGIC.len()).map_err(truncated)?;
        if magic != SNAPSHOT_MAGIC {
            let mut found = [0u8; 8];
            found.copy_from_slice(magic);
            return Err(SnapshotError::BadMagic { found });
        }
        let version = r.u32().map_err(truncated)?;
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let at = r.offset();
        let sections = r.u32().map_err(truncated)?;
        let schema_hash = r.u64().map_err(truncated)?;
        if schema_hash != SNAPSHOT_SCHEMA_HASH {
            return Err(SnapshotError::SchemaHashMismatch {
                expected: SNAPSHOT_SCHEMA_HASH,
                found: schema_hash,
            });
        }
        if sections as usize != SECTIONS.len() {
            return Err(SnapshotError::Decode {
                component: "header",
                offset: at,
                detail: format!("{sections} sections, version 1 has {}", SECTIONS.len()),
            });
        }
        let risk_config = config.validate()?;
        let expected = ConfigFingerprint::of(config, &risk_config);
        for (k, part) in CONFIG_PARTS.iter().enumerate() {
            let found = r.raw(32).map_err(truncated)?;
            if found != expected.0[k] {
                let mut f = [0u8; 32];
                f.copy_from_slice(found);
                return Err(SnapshotError::ConfigMismatch {
                    part,
                    expected: expected.0[k],
                    found: f,
                });
            }
        }

        // Framing first, so a truncated file is reported as such before anything decodes.
        let mut payloads = Vec::with_capacity(SECTIONS.len());
        for (tag, component) in SECTIONS.iter().enumerate() {
            let at = r.offset();
            let found = r.u32().map_err(truncated)?;
            if found as usize != tag {
                return Err(SnapshotError::Decode {
                    component,
                    offset: at,
                    detail: format!("section tag {found} where {tag} ({component}) belongs"),
                });
            }
            let len = r.u64().map_err(truncated)?;
            let base = r.offset();
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > r.remaining() {
                return Err(SnapshotError::Truncated {
                    offset: r.offset(),
                    needed: len - r.remaining(),
                });
            }
            let payload = r.raw(len).map_err(truncated)?;
            payloads.push(Reader::with_base(payload, base));
        }
        let digest_at = r.offset();
        let mut expected_digest = [0u8; 32];
        expected_digest.copy_from_slice(r.raw(32).map_err(truncated)?);
        let mut expected_checksum = [0u8; 32];
        expected_checksum.copy_from_slice(r.raw(32).map_err(truncated)?);
        if r.remaining() > 0 {
            return Err(SnapshotError::Decode {
                component: "trailer",
                offset: r.offset(),
                detail: format!("{} bytes after the snapshot's end", r.remaining()),
            });
        }

        let mut core = Core::new(config)?;
        let bounds = Bounds {
            accounts: config.account_count,
            instruments: config.instruments.len() as u32,
            sessions: config.session_capacity,
        };
        for (tag, mut payload) in payloads.into_iter().enumerate() {
            let component = SECTIONS[tag];
            let r = &mut payload;
            let slots = core.strategies.len();
            let result = match tag {
                0 => Self::read_core_section(&mut core, r),
                1 => core.state.markets.snapshot_read(r),
                2 => core.state.sessions.snapshot_read(r, bounds.accounts),
                3 => core.state.orders.snapshot_read(r, &bounds),
                4 => core.state.risk.snapshot_read(r),
                5 => core.state.positions.snapshot_read(r),
                6 => core.queue.snapshot_read(r, slots),
                _ => core.strategies.snapshot_read(r),
            };
            result
                .and_then(|()| r.finish())
                .map_err(|e| SnapshotError::from_codec(component, e))?;
        }

        // Derived state is rebuilt, not stored: it cannot disagree with its source.
        core.state.rebuild_own_resting();
        let actual = core.digest();
        if actual.0 != expected_digest {
            return Err(SnapshotError::DigestMismatch {
                expected: StateDigest(expected_digest),
                actual,
            });
        }
        let checksum = *blake3::hash(&bytes[..digest_at + 32]).as_bytes();
        if checksum != expected_checksum {
            return Err(SnapshotError::ChecksumMismatch {
                expected: expected_checksum,
                actual: checksum,
            });
        }
        Ok(core)
    }

    fn write_core_section(&self, w: &mut Writer) {
        let s = &self.state;
        w.u64(s.now.0);
        w.u64(s.next_order_id);
        // The held ids follow the counters; their count stands here.
        w.len_u32(s.held.len());
        let c = &self.counters;
        w.len_u32(COMMAND_KINDS);
        for n in c.commands_by_kind {
            w.u64(n);
        }
        w.len_u32(REJECT_CODES);
        for n in c.rejects_by_code {
            w.u64(n);
        }
        w.u64(c.fills);
        w.u64(c.anomalies);
        w.u64(c.outputs);
        for id in &s.held {
            w.u64(id.0);
        }
    }

    fn read_core_section(core: &mut Core, r: &mut Reader<'_>) -> Result<(), CodecError> {
        let s = &mut core.state;
        s.now = TimestampNs(r.u64()?);
        let at = r.offset();
        s.next_order_id = r.u64()?;
        if s.next_order_id == 0 {
            return Err(Reader::invalid_at(at, "next order id 0 (ids start at 1)"));
        }
        let held = r.count(s.held.capacity(), "held orders")?;
        let c = &mut core.counters;
        r.exact_count(COMMAND_KINDS, "command kinds")?;
        for n in c.commands_by_kind.iter_mut() {
            *n = r.u64()?;
        }
        r.exact_count(REJECT_CODES, "reject codes")?;
        for n in c.rejects_by_code.iter_mut() {
            *n = r.u64()?;
        }
        c.fills = r.u64()?;
        c.anomalies = r.u64()?;
        c.outputs = r.u64()?;
        let s = &mut core.state;
        s.held.clear();
        for _ in 0..held {
            s.held.push(crate::OrderId(r.u64()?));
        }
        Ok(())
    }
}
