//! `keel serve`'s configuration: TOML, with an embedded, commented default
//! (`keel config default` prints it) that is also the documentation of every key.
//!
//! Parsing is strict (`deny_unknown_fields`): an unknown key is an error naming it and
//! its line. [`Config::resolve`] then checks every value and builds what the engine, the
//! pipeline and the simulated venue take; an invalid value is an error naming its key.

use keel_engine::book::BookCapacity;
use keel_engine::core::{CoreConfig, FeedKind, RiskSettings, StrategySpec, VenueConfig};
use keel_engine::orders::OrderTableConfig;
use keel_engine::pipeline::{PipelineConfig, Placement, WAIT_NAMES, WaitStrategy};
use keel_engine::{AccountId, Instrument, InstrumentId, SessionId, VenueId};
use keel_gateways::auth::{ClientEntry, PasswordHash, Protocol};
use keel_gateways::sim::{FlowConfig, SimInstrument};
use keel_replay::checkpoint::SnapshotSchedule;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The embedded default configuration, with comments.
pub const DEFAULT_TOML: &str = include_str!("default_config.toml");

/// The admin session.
pub const ADMIN_SESSION: SessionId = SessionId(1);
/// The simulated venue's session.
pub const VENUE_SESSION: SessionId = SessionId(2);
/// The timer's session.
pub const TIMER_SESSION: SessionId = SessionId(3);
/// The first strategy session.
pub const FIRST_STRATEGY_SESSION: u32 = 16;
/// Sessions of configured clients start here unless an entry names its own.
pub const FIRST_CLIENT_SESSION: u32 = 32;

/// The whole file. Sections and keys left out take the embedded default's values
/// (`Default` below mirrors [`DEFAULT_TOML`]; a test keeps them equal).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub journal: JournalSection,
    pub pipeline: PipelineSection,
    pub engine: EngineSection,
    #[serde(rename = "instrument")]
    pub instruments: Vec<InstrumentSection>,
    pub venue: VenueSection,
    #[serde(rename = "strategy")]
    pub strategies: Vec<StrategySection>,
    #[serde(rename = "client")]
    pub clients: Vec<ClientSection>,
    pub binary: BinarySection,
    pub fix: FixSection,
    pub metrics: MetricsSection,
    pub log: LogSection,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSection {
    pub dir: PathBuf,
    pub segment_mb: u64,
    pub flush_interval_ms: u64,
    pub spare_segments: usize,
    pub snapshot_interval_s: u64,
    pub snapshot_every_inputs: u64,
    pub snapshots_kept: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    pub inbound_ring: usize,
    pub outbound_ring: usize,
    pub wait: String,
    pub core_wait: Option<String>,
    pub spins: u32,
    pub yields: u32,
    pub park_us: u32,
    pub block_timeout_us: u32,
    pub pin: bool,
    pub core_cpu: Option<usize>,
    pub gateway_cpus: Vec<usize>,
    pub timer_interval_ms: u64,
    pub max_batch: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    pub accounts: u32,
    pub sessions: u32,
    pub orders_max: usize,
    pub book_orders: u32,
    pub book_levels: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSection {
    pub symbol: String,
    pub tick_size: String,
    pub lot_size: String,
    #[serde(default = "usd")]
    pub currency: String,
    pub sim_mid: String,
}

fn usd() -> String {
    "USD".into()
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSection {
    pub name: String,
    pub id: u16,
    pub seed: u64,
    pub events_per_sec: u32,
    pub latency_us: u64,
    pub add_weight: u32,
    pub cancel_weight: u32,
    pub market_weight: u32,
    pub walk_pct: u32,
    pub depth_ticks: i64,
    pub max_qty_lots: i64,
    pub resting_max: usize,
    /// `"in-process"` or `"fix"` (see `crate::venue_config`).
    pub transport: String,
    pub fix: crate::venue_config::VenueFixSection,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrategySection {
    pub name: String,
    pub account: u32,
    pub instrument: String,
    #[serde(default)]
    pub params: toml::Table,
}

/// One client that may log on over FIX or the binary protocol.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    pub username: String,
    pub password_hash: String,
    pub protocol: String,
    #[serde(default)]
    pub account: u32,
    /// Fixed session id; default `FIRST_CLIENT_SESSION` + the entry's index.
    #[serde(default)]
    pub session: Option<u32>,
    #[serde(default = "yes")]
    pub cancel_on_disconnect: bool,
}

fn yes() -> bool {
    true
}

/// The native binary protocol listener (`docs/binary-protocol.md`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BinarySection {
    pub listen: String,
    pub heartbeat_ms: u32,
    pub logon_timeout_ms: u32,
    pub max_connections: usize,
    pub send_buffer_kb: usize,
    pub max_subscriptions: usize,
    pub replay_retain: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    pub listen: String,
    pub status_interval_s: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    pub format: String,
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        let inst = |symbol: &str, tick: &str, lot: &str, mid: &str| InstrumentSection {
            symbol: symbol.into(),
            tick_size: tick.into(),
            lot_size: lot.into(),
            currency: "USD".into(),
            sim_mid: mid.into(),
        };
        let mm = |instrument: &str, params: &[(&str, i64)]| StrategySection {
            name: "market_maker".into(),
            account: 1,
            instrument: instrument.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), toml::Value::Integer(*v))).collect(),
        };
        Config {
            journal: JournalSection::default(),
            pipeline: PipelineSection::default(),
            engine: EngineSection::default(),
            instruments: vec![
                inst("BTC-USD", "0.01", "0.001", "50000.00"),
                inst("ETH-USD", "0.01", "0.01", "3000.00"),
                inst("SOL-USD", "0.001", "0.1", "150.000"),
            ],
            venue: VenueSection::default(),
            strategies: vec![
                mm(
                    "BTC-USD",
                    &[
                        ("half_spread_ticks", 2),
                        ("size_lots", 5),
                        ("max_position_lots", 50),
                        ("skew_ticks_per_lot", 1),
                    ],
                ),
                mm(
                    "ETH-USD",
                    &[("half_spread_ticks", 3), ("size_lots", 10), ("max_position_lots", 100)],
                ),
            ],
            clients: vec![
                demo_client("demo-fix", "fix", 32, DEMO_FIX_HASH),
                demo_client("demo-bin", "binary", 33, DEMO_BIN_HASH),
            ],
            binary: BinarySection::default(),
            fix: FixSection::default(),
            metrics: MetricsSection::default(),
            log: LogSection::default(),
        }
    }
}

fn demo_client(username: &str, protocol: &str, session: u32, hash: &str) -> ClientSection {
    ClientSection {
        username: username.into(),
        password_hash: hash.into(),
        protocol: protocol.into(),
        account: 0,
        session: Some(session),
        cancel_on_disconnect: true,
    }
}

/// Argon2id hashes of the demo password `demo` in the embedded default (a test checks
/// them).
const DEMO_FIX_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$o8RWzIdG/rRTrbs6R6EhLg$5jNKPFfU4HB2uCnMwZbwLOZUXsmfMY/WHZoZJ5NM8Qs";
const DEMO_BIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$IDZIyAdtXRe0V0iKo/YZpA$y+x5bfDUIlQ8JzXQyqiF0Bp8/XABC3qCVRGzgVSIHQ8";

impl Default for JournalSection {
    fn default() -> Self {
        JournalSection {
            dir: PathBuf::from("./keel-data"),
            segment_mb: 64,
            flush_interval_ms: 2,
            spare_segments: 2,
            snapshot_interval_s: 300,
            snapshot_every_inputs: 5_000_000,
            snapshots_kept: 3,
        }
    }
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            inbound_ring: 8192,
            outbound_ring: 4096,
            wait: "block".into(),
            core_wait: None,
            spins: 100,
            yields: 10,
            park_us: 50,
            block_timeout_us: 1_000,
            pin: false,
            core_cpu: None,
            gateway_cpus: Vec::new(),
            timer_interval_ms: 100,
            max_batch: 256,
        }
    }
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            accounts: 2,
            sessions: 64,
            orders_max: 65536,
            book_orders: 16384,
            book_levels: 2048,
        }
    }
}

impl Default for VenueSection {
    fn default() -> Self {
        VenueSection {
            name: "SIM".into(),
            id: 1,
            seed: 42,
            events_per_sec: 2000,
            latency_us: 50,
            add_weight: 50,
            cancel_weight: 35,
            market_weight: 15,
            walk_pct: 20,
            depth_ticks: 10,
            max_qty_lots: 5,
            resting_max: 200,
            transport: "in-process".into(),
            fix: crate::venue_config::VenueFixSection::default(),
        }
    }
}

impl Default for BinarySection {
    fn default() -> Self {
        BinarySection {
            listen: "127.0.0.1:9879".into(),
            heartbeat_ms: 1000,
            logon_timeout_ms: 5000,
            max_connections: 64,
            send_buffer_kb: 1024,
            max_subscriptions: 16,
            replay_retain: 65536,
        }
    }
}

/// The FIX 4.4 client order-entry acceptor.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FixSection {
    pub listen: String,
    pub comp_id: String,
    pub heartbeat_min_s: u32,
    pub heartbeat_max_s: u32,
    pub sending_time_tolerance_s: u64,
    pub logon_timeout_s: u64,
    pub logout_timeout_s: u64,
    pub timestamp_precision: String,
    pub store_dir: String,
    pub store_segment_mb: u64,
    pub max_connections: usize,
    pub max_message_bytes: usize,
    pub send_buffer_max_kb: usize,
}

impl Default for FixSection {
    fn default() -> Self {
        FixSection {
            listen: "127.0.0.1:9878".into(),
            comp_id: "KEEL".into(),
            heartbeat_min_s: 1,
            heartbeat_max_s: 300,
            sending_time_tolerance_s: 120,
            logon_timeout_s: 10,
            logout_timeout_s: 5,
            timestamp_precision: "ms".into(),
            store_dir: String::new(),
            store_segment_mb: 1,
            max_connections: 16,
            max_message_bytes: 16384,
            send_buffer_max_kb: 4096,
        }
    }
}

/// The FIX acceptor's settings, checked (see [`Resolved::fix_acceptor`]).
#[derive(Clone, Debug)]
pub struct FixSettings {
    pub listen: std::net::SocketAddr,
    pub comp_id: String,
    pub heartbeat_s: (u32, u32),
    pub sending_time_tolerance: Duration,
    pub logon_timeout: Duration,
    pub logout_timeout: Duration,
    pub precision: keel_gateways::fix::time::Precision,
    pub store_dir: PathBuf,
    pub store_segment_size: usize,
    pub max_connections: usize,
    pub max_message_bytes: usize,
    pub send_buffer_max_bytes: usize,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection { listen: "127.0.0.1:9464".into(), status_interval_s: 5 }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection { format: "human".into(), level: "info".into() }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    /// A value out of range or inconsistent with another.
    #[error("invalid configuration: {key}: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), problem: problem.into() }
}

/// Everything `keel serve` builds from a configuration.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub core: CoreConfig,
    pub pipeline: PipelineConfig,
    pub timer_interval: Duration,
    pub journal_dir: PathBuf,
    pub journal: keel_journal::Config,
    pub snapshots: SnapshotSchedule,
    pub venue_id: VenueId,
    pub sim_instruments: Vec<SimInstrument>,
    pub flow: FlowConfig,
    pub book: BookCapacity,
    pub metrics_listen: Option<String>,
    pub status_interval: Option<Duration>,
    pub log_json: bool,
    pub log_level: String,
    pub events_per_sec: u32,
    pub venue_latency_us: u64,
    pub clients: Vec<ClientEntry>,
    /// The FIX acceptor, unless `fix.listen` is empty.
    pub fix: Option<FixSettings>,
    /// How the venue is reached (`[venue] transport`).
    pub venue_transport: crate::venue_config::VenueTransport,
    pub binary: Option<BinarySettings>,
}

/// The binary listener's settings, checked (`None` in [`Resolved`] when it is off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinarySettings {
    pub listen: std::net::SocketAddr,
    pub heartbeat_ms: u32,
    pub logon_timeout_ms: u32,
    pub max_connections: usize,
    pub send_buffer_bytes: usize,
    pub max_subscriptions: usize,
    pub replay_retain: usize,
}

impl Resolved {
    /// The FIX acceptor's configuration (`None` when `fix.listen` is empty).
    pub fn fix_acceptor(&self) -> Option<keel_gateways::fix::acceptor::AcceptorConfig> {
        use keel_gateways::auth::ClientDirectory;
        use keel_gateways::fix::acceptor::{AcceptorConfig, Dictionary};
        let f = self.fix.as_ref()?;
        let venues = self.core.venues.iter().map(|v| (v.id, v.name.clone())).collect();
        Some(AcceptorConfig {
            name: "fix".into(),
            listen: f.listen,
            comp_id: f.comp_id.clone(),
            clients: ClientDirectory::new(self.clients.clone()),
            heartbeat_s_min: f.heartbeat_s.0,
            heartbeat_s_max: f.heartbeat_s.1,
            sending_time_tolerance: f.sending_time_tolerance,
            logon_timeout: f.logon_timeout,
            logout_timeout: f.logout_timeout,
            precision: f.precision,
            store_dir: f.store_dir.clone(),
            store: keel_gateways::fix::store::StoreConfig {
                segment_size: f.store_segment_size,
                flush_interval: self.journal.flush_interval,
            },
            dictionary: Dictionary::new(self.core.instruments.clone(), venues),
            max_connections: f.max_connections,
            max_message_bytes: f.max_message_bytes,
            send_buffer_max_bytes: f.send_buffer_max_bytes,
        })
    }

    /// Synthetic events per second of the simulated venue.
    pub fn flow_rate(&self) -> u32 {
        self.events_per_sec
    }

    /// The simulated venue's one-way latency, µs.
    pub fn latency_us(&self) -> u64 {
        self.venue_latency_us
    }
}

impl Config {
    /// Parses a configuration file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: origin.to_string(), message: e.to_string() })
    }

    /// Reads and parses a file, or the embedded default when `path` is `None`.
    pub fn load(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        match path {
            None => Config::parse(DEFAULT_TOML, "embedded default"),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?;
                Config::parse(&text, &p.display().to_string())
            }
        }
    }

    /// Checks every value and builds the engine's, the pipeline's and the venue's
    /// configurations.
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let j = &self.journal;
        if !(1..=4096).contains(&j.segment_mb) {
            return Err(invalid(
                "journal.segment_mb",
                format!("{} is not in 1..=4096", j.segment_mb),
            ));
        }
        if j.flush_interval_ms == 0 {
            return Err(invalid("journal.flush_interval_ms", "must be at least 1"));
        }
        if !(1..=keel_journal::MAX_SPARE_SEGMENTS).contains(&j.spare_segments) {
            return Err(invalid(
                "journal.spare_segments",
                format!("{} is not in 1..={}", j.spare_segments, keel_journal::MAX_SPARE_SEGMENTS),
            ));
        }
        if j.snapshots_kept == 0 {
            return Err(invalid("journal.snapshots_kept", "must be at least 1"));
        }
        let p = &self.pipeline;
        if !p.inbound_ring.is_power_of_two() || p.inbound_ring < 64 {
            return Err(invalid(
                "pipeline.inbound_ring",
                format!("{} is not a power of two >= 64", p.inbound_ring),
            ));
        }
        if p.outbound_ring == 0 {
            return Err(invalid("pipeline.outbound_ring", "must be at least 1"));
        }
        let strategy = |key: &str, name: &str| {
            WaitStrategy::named(name, p.spins, p.yields, p.park_us, p.block_timeout_us).ok_or_else(
                || {
                    invalid(
                        key,
                        format!(
                            "{name:?} is not one of {}",
                            WAIT_NAMES.map(|n| format!("{n:?}")).join(", ")
                        ),
                    )
                },
            )
        };
        let wait = strategy("pipeline.wait", &p.wait)?;
        let core_wait =
            p.core_wait.as_deref().map(|name| strategy("pipeline.core_wait", name)).transpose()?;
        if p.block_timeout_us == 0 {
            return Err(invalid("pipeline.block_timeout_us", "must be at least 1"));
        }
        if p.timer_interval_ms == 0 {
            return Err(invalid("pipeline.timer_interval_ms", "must be at least 1"));
        }
        if p.max_batch == 0 {
            return Err(invalid("pipeline.max_batch", "must be at least 1"));
        }
        let e = &self.engine;
        if e.accounts == 0 {
            return Err(invalid("engine.accounts", "must be at least 1"));
        }
        let strategy_sessions = FIRST_STRATEGY_SESSION + self.strategies.len() as u32;
        if e.sessions < strategy_sessions {
            return Err(invalid(
                "engine.sessions",
                format!(
                    "{} leaves no room for {} strategies (need {strategy_sessions})",
                    e.sessions,
                    self.strategies.len()
                ),
            ));
        }
        if e.orders_max == 0 || e.book_orders == 0 || e.book_levels == 0 {
            return Err(invalid("engine", "orders_max, book_orders and book_levels must be > 0"));
        }
        let v = &self.venue;
        if v.id == 0 {
            return Err(invalid("venue.id", "must be in 1..=65535"));
        }
        if !(1..=1_000_000).contains(&v.events_per_sec) {
            return Err(invalid(
                "venue.events_per_sec",
                format!("{} is not in 1..=1000000", v.events_per_sec),
            ));
        }
        if v.walk_pct > 100 {
            return Err(invalid("venue.walk_pct", format!("{} is not in 0..=100", v.walk_pct)));
        }
        if v.depth_ticks < 1 || v.max_qty_lots < 1 || v.resting_max < 2 {
            return Err(invalid(
                "venue",
                "depth_ticks and max_qty_lots must be >= 1, resting_max >= 2",
            ));
        }
        if v.add_weight + v.cancel_weight + v.market_weight == 0 {
            return Err(invalid("venue", "add_weight + cancel_weight + market_weight must be > 0"));
        }
        if v.resting_max > e.book_orders as usize / 2 {
            return Err(invalid(
                "venue.resting_max",
                format!(
                    "{} must be at most half of engine.book_orders ({})",
                    v.resting_max, e.book_orders
                ),
            ));
        }
        let venue_id = VenueId(v.id);
        let venue_transport = crate::venue_config::resolve(self)?;
        // Over FIX the venue publishes price levels; in process, order by order.
        let feed = match venue_transport {
            crate::venue_config::VenueTransport::InProcess => FeedKind::L3,
            crate::venue_config::VenueTransport::Fix(_) => FeedKind::L2,
        };
        if self.instruments.is_empty() {
            return Err(invalid("instrument", "at least one instrument is needed"));
        }
        let mut instruments = Vec::new();
        let mut sim_instruments = Vec::new();
        for (i, s) in self.instruments.iter().enumerate() {
            let key = |k: &str| format!("instrument[{i}] ({}).{k}", s.symbol);
            let dec = |k: &str, v: &str| {
                v.parse::<Decimal>()
                    .map_err(|e| invalid(key(k), format!("{v:?} is not a decimal: {e}")))
            };
            if self.instruments[..i].iter().any(|o| o.symbol == s.symbol) {
                return Err(invalid(key("symbol"), "is used twice"));
            }
            let inst = Instrument::builder(InstrumentId(i as u32), &s.symbol)
                .tick_size(dec("tick_size", &s.tick_size)?)
                .lot_size(dec("lot_size", &s.lot_size)?)
                .currency(&s.currency)
                .venues(&[venue_id])
                .build()
                .map_err(|e| invalid(key("tick_size/lot_size"), e.to_string()))?;
            let mid = inst
                .price_from_decimal(dec("sim_mid", &s.sim_mid)?)
                .map_err(|e| invalid(key("sim_mid"), e.to_string()))?;
            if mid.0 <= v.depth_ticks {
                return Err(invalid(key("sim_mid"), "must be more than venue.depth_ticks ticks"));
            }
            sim_instruments.push(SimInstrument { id: inst.id, mid });
            instruments.push(inst);
        }
        let mut strategies = Vec::new();
        for (i, s) in self.strategies.iter().enumerate() {
            let key = |k: &str| format!("strategy[{i}] ({}).{k}", s.name);
            let Some(inst) = self.instruments.iter().position(|x| x.symbol == s.instrument) else {
                return Err(invalid(
                    key("instrument"),
                    format!("{:?} is not a configured instrument", s.instrument),
                ));
            };
            if s.account >= e.accounts {
                return Err(invalid(
                    key("account"),
                    format!("{} is outside 0..{}", s.account, e.accounts),
                ));
            }
            let mut params = vec![("instrument".to_string(), inst.to_string())];
            for (k, v) in &s.params {
                if k == "instrument" {
                    return Err(invalid(
                        key("params.instrument"),
                        "set the strategy's `instrument` key instead",
                    ));
                }
                let text = match v {
                    toml::Value::String(t) => t.clone(),
                    toml::Value::Integer(n) => n.to_string(),
                    other => {
                        return Err(invalid(
                            key(&format!("params.{k}")),
                            format!("{other} is not an integer or a string"),
                        ));
                    }
                };
                params.push((k.clone(), text));
            }
            strategies.push(StrategySpec {
                name: s.name.clone(),
                params,
                session: SessionId(FIRST_STRATEGY_SESSION + i as u32),
                account: AccountId(s.account),
                venue: venue_id,
            });
        }
        let book = BookCapacity { orders: e.book_orders, levels_per_side: e.book_levels };
        let core = CoreConfig {
            instruments,
            venues: vec![VenueConfig { id: venue_id, name: v.name.clone(), feed }],
            account_count: e.accounts,
            session_capacity: e.sessions,
            orders: OrderTableConfig::with_orders_max(e.orders_max),
            book,
            risk: RiskSettings::default(),
            strategies,
            strategy_events_per_command: keel_engine::core::DEFAULT_STRATEGY_EVENTS_PER_COMMAND,
        };
        // The engine's own checks (strategy parameters, valuation) with their messages.
        core.validate().map_err(|e| invalid("strategy/instrument", e.to_string()))?;
        keel_engine::core::Core::new(&core).map_err(|e| invalid("strategy", e.to_string()))?;
        let clients = self.resolve_clients()?;
        let binary = self.resolve_binary()?;
        let fix = self.resolve_fix()?;
        let metrics_listen = (!self.metrics.listen.is_empty()).then(|| self.metrics.listen.clone());
        if let Some(addr) = &metrics_listen {
            addr.parse::<std::net::SocketAddr>()
                .map_err(|e| invalid("metrics.listen", format!("{addr:?}: {e}")))?;
        }
        self.check_distinct_addresses()?;
        let log_json = match self.log.format.as_str() {
            "human" => false,
            "json" => true,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("{other:?} is not \"human\" or \"json\""),
                ));
            }
        };
        if !["error", "warn", "info", "debug", "trace"].contains(&self.log.level.as_str()) {
            return Err(invalid(
                "log.level",
                format!("{:?} is not error|warn|info|debug|trace", self.log.level),
            ));
        }
        Ok(Resolved {
            core,
            pipeline: PipelineConfig {
                inbound_ring: p.inbound_ring,
                outbound_ring: p.outbound_ring,
                wait,
                core_wait,
                placement: Placement {
                    pin: p.pin,
                    core_cpu: p.core_cpu,
                    gateway_cpus: p.gateway_cpus.clone(),
                },
                max_batch: p.max_batch,
                snapshot_interval: Duration::from_millis(250),
            },
            timer_interval: Duration::from_millis(p.timer_interval_ms),
            journal_dir: j.dir.clone(),
            journal: keel_replay::log::journal_config(keel_journal::Config {
                segment_size: (j.segment_mb as usize) << 20,
                flush_interval: Duration::from_millis(j.flush_interval_ms),
                spare_segments: j.spare_segments,
                ..keel_journal::Config::default()
            }),
            snapshots: SnapshotSchedule {
                interval: (j.snapshot_interval_s > 0)
                    .then(|| Duration::from_secs(j.snapshot_interval_s)),
                inputs: (j.snapshot_every_inputs > 0).then_some(j.snapshot_every_inputs),
                keep: j.snapshots_kept,
            },
            venue_id,
            sim_instruments,
            flow: FlowConfig {
                seed: v.seed,
                add_weight: v.add_weight,
                cancel_weight: v.cancel_weight,
                market_weight: v.market_weight,
                walk_pct: v.walk_pct,
                depth_ticks: v.depth_ticks,
                max_qty_lots: v.max_qty_lots,
                resting_max: v.resting_max,
            },
            book,
            metrics_listen,
            status_interval: (self.metrics.status_interval_s > 0)
                .then(|| Duration::from_secs(self.metrics.status_interval_s)),
            log_json,
            log_level: self.log.level.clone(),
            events_per_sec: v.events_per_sec,
            venue_latency_us: v.latency_us,
            clients,
            binary,
            fix,
            venue_transport,
        })
    }

    /// Checks the `[fix]` section.
    fn resolve_fix(&self) -> Result<Option<FixSettings>, ConfigError> {
        let f = &self.fix;
        if f.listen.is_empty() {
            return Ok(None);
        }
        let listen = f
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| invalid("fix.listen", format!("{:?}: {e}", f.listen)))?;
        let comp_ok = |s: &str| {
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'=')
        };
        if !comp_ok(&f.comp_id) {
            return Err(invalid(
                "fix.comp_id",
                "must be 1..=64 printable ASCII characters, no '='",
            ));
        }
        for c in self.clients.iter().filter(|c| c.protocol == "fix") {
            if !comp_ok(&c.username) {
                return Err(invalid(
                    format!("client ({})", c.username),
                    "a FIX client's username is its SenderCompID: printable ASCII, no '='",
                ));
            }
            if c.username == f.comp_id {
                return Err(invalid(
                    "fix.comp_id",
                    format!("{:?} is also a FIX client's username", f.comp_id),
                ));
            }
        }
        if f.heartbeat_min_s == 0 || f.heartbeat_min_s > f.heartbeat_max_s {
            return Err(invalid(
                "fix.heartbeat_min_s",
                format!(
                    "need 1 <= heartbeat_min_s ({}) <= heartbeat_max_s ({})",
                    f.heartbeat_min_s, f.heartbeat_max_s
                ),
            ));
        }
        if f.sending_time_tolerance_s == 0 {
            return Err(invalid("fix.sending_time_tolerance_s", "must be at least 1"));
        }
        if f.logon_timeout_s == 0 || f.logout_timeout_s == 0 {
            return Err(invalid("fix.logon_timeout_s/logout_timeout_s", "must be at least 1"));
        }
        let precision = keel_gateways::fix::time::Precision::from_name(&f.timestamp_precision)
            .ok_or_else(|| {
                invalid(
                    "fix.timestamp_precision",
                    format!("{:?} is not \"ms\", \"us\" or \"ns\"", f.timestamp_precision),
                )
            })?;
        if !(1..=1024).contains(&f.store_segment_mb) {
            return Err(invalid(
                "fix.store_segment_mb",
                format!("{} is not in 1..=1024", f.store_segment_mb),
            ));
        }
        if !(1..=1024).contains(&f.max_connections) {
            return Err(invalid(
                "fix.max_connections",
                format!("{} is not in 1..=1024", f.max_connections),
            ));
        }
        if !(1024..=1 << 20).contains(&f.max_message_bytes) {
            return Err(invalid(
                "fix.max_message_bytes",
                format!("{} is not in 1024..=1048576", f.max_message_bytes),
            ));
        }
        if f.send_buffer_max_kb < 64 {
            return Err(invalid("fix.send_buffer_max_kb", "must be at least 64"));
        }
        let store_dir = if f.store_dir.is_empty() {
            self.journal.dir.join("fix")
        } else {
            PathBuf::from(&f.store_dir)
        };
        Ok(Some(FixSettings {
            listen,
            comp_id: f.comp_id.clone(),
            heartbeat_s: (f.heartbeat_min_s, f.heartbeat_max_s),
            sending_time_tolerance: Duration::from_secs(f.sending_time_tolerance_s),
            logon_timeout: Duration::from_secs(f.logon_timeout_s),
            logout_timeout: Duration::from_secs(f.logout_timeout_s),
            precision,
            store_dir,
            store_segment_size: (f.store_segment_mb as usize) << 20,
            max_connections: f.max_connections,
            max_message_bytes: f.max_message_bytes,
            send_buffer_max_bytes: f.send_buffer_max_kb << 10,
        }))
    }

    /// The listeners of `keel serve` and the address `keel venue` listens on (`[venue.fix]
    /// connect`, read from the same file) must differ: two of them on one port would make
    /// the second bind fail at start-up, or `keel serve` dial itself. Port 0 (any free
    /// port, as tests use) collides with nothing.
    fn check_distinct_addresses(&self) -> Result<(), ConfigError> {
        let addresses = [
            ("fix.listen", &self.fix.listen),
            ("binary.listen", &self.binary.listen),
            ("metrics.listen", &self.metrics.listen),
            ("venue.fix.connect", &self.venue.fix.connect),
        ];
        for (i, (key, addr)) in addresses.iter().enumerate() {
            let any_port = addr.parse::<std::net::SocketAddr>().is_ok_and(|a| a.port() == 0);
            if addr.is_empty() || any_port {
                continue;
            }
            if let Some((other, _)) = addresses[..i].iter().find(|(_, a)| a == addr) {
                return Err(invalid(*key, format!("{addr:?} is also {other}")));
            }
        }
        Ok(())
    }

    /// Checks the `[binary]` section; `None` when the listener is off.
    fn resolve_binary(&self) -> Result<Option<BinarySettings>, ConfigError> {
        let b = &self.binary;
        if b.listen.is_empty() {
            return Ok(None);
        }
        let listen = b
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| invalid("binary.listen", format!("{:?}: {e}", b.listen)))?;
        let range = keel_gateways::binary::gateway::HEARTBEAT_MS_RANGE;
        if !range.contains(&b.heartbeat_ms) {
            return Err(invalid(
                "binary.heartbeat_ms",
                format!("{} is not in {}..={}", b.heartbeat_ms, range.start(), range.end()),
            ));
        }
        if b.logon_timeout_ms == 0 {
            return Err(invalid("binary.logon_timeout_ms", "must be at least 1"));
        }
        if b.max_connections == 0 {
            return Err(invalid("binary.max_connections", "must be at least 1"));
        }
        if !(4..=1 << 20).contains(&b.send_buffer_kb) {
            return Err(invalid(
                "binary.send_buffer_kb",
                format!("{} is not in 4..=1048576", b.send_buffer_kb),
            ));
        }
        if b.replay_retain == 0 {
            return Err(invalid("binary.replay_retain", "must be at least 1"));
        }
        Ok(Some(BinarySettings {
            listen,
            heartbeat_ms: b.heartbeat_ms,
            logon_timeout_ms: b.logon_timeout_ms,
            max_connections: b.max_connections,
            send_buffer_bytes: b.send_buffer_kb << 10,
            max_subscriptions: b.max_subscriptions,
            replay_retain: b.replay_retain,
        }))
    }

    /// Checks the `[[client]]` entries: unique names and sessions, sessions clear of the
    /// reserved and strategy ranges and inside `engine.sessions`, known accounts, valid
    /// password hashes.
    fn resolve_clients(&self) -> Result<Vec<ClientEntry>, ConfigError> {
        let e = &self.engine;
        let strategy_end = FIRST_STRATEGY_SESSION + self.strategies.len() as u32;
        let mut out: Vec<ClientEntry> = Vec::with_capacity(self.clients.len());
        for (i, c) in self.clients.iter().enumerate() {
            let key = |k: &str| format!("client[{i}] ({}).{k}", c.username);
            if c.username.is_empty() || c.username.len() > 64 {
                return Err(invalid(key("username"), "must be 1..=64 bytes"));
            }
            if out.iter().any(|o| o.username == c.username) {
                return Err(invalid(key("username"), "is used twice"));
            }
            let protocol: Protocol = c.protocol.parse().map_err(|m| invalid(key("protocol"), m))?;
            let password_hash = PasswordHash::parse(&c.password_hash)
                .map_err(|err| invalid(key("password_hash"), err.to_string()))?;
            if c.account >= e.accounts {
                return Err(invalid(
                    key("account"),
                    format!("{} is outside 0..{}", c.account, e.accounts),
                ));
            }
            let session = c.session.unwrap_or(FIRST_CLIENT_SESSION + i as u32);
            if session < FIRST_STRATEGY_SESSION || session >= e.sessions {
                return Err(invalid(
                    key("session"),
                    format!(
                        "{session} is outside {FIRST_STRATEGY_SESSION}..{} (engine.sessions)",
                        e.sessions
                    ),
                ));
            }
            if session < strategy_end {
                return Err(invalid(
                    key("session"),
                    format!(
                        "{session} belongs to a strategy ({FIRST_STRATEGY_SESSION}..{strategy_end})"
                    ),
                ));
            }
            if let Some(o) = out.iter().find(|o| o.session.0 == session) {
                return Err(invalid(
                    key("session"),
                    format!("{session} is also client {:?}'s", o.username),
                ));
            }
            out.push(ClientEntry {
                username: c.username.clone(),
                password_hash,
                account: AccountId(c.account),
                session: SessionId(session),
                protocol,
                cancel_on_disconnect: c.cancel_on_disconnect,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_parses_resolves_and_equals_default() {
        let parsed = Config::parse(DEFAULT_TOML, "default").unwrap();
        assert_eq!(parsed, Config::default());
        parsed.resolve().unwrap();
    }

    #[test]
    fn two_listeners_on_one_address_are_refused_by_name() {
        let mut c = Config::default();
        c.venue.fix.connect = c.binary.listen.clone();
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("venue.fix.connect") && e.contains("binary.listen"), "{e}");
        let mut c = Config::default();
        c.metrics.listen = c.fix.listen.clone();
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("metrics.listen") && e.contains("fix.listen"), "{e}");
        // A listener that is off (empty) or on any free port collides with nothing.
        let mut c = Config::default();
        (c.binary.listen, c.fix.listen) = (String::new(), String::new());
        c.resolve().unwrap();
        (c.binary.listen, c.fix.listen) = ("127.0.0.1:0".into(), "127.0.0.1:0".into());
        c.resolve().unwrap();
    }

    #[test]
    fn the_demo_clients_log_on_with_the_documented_password() {
        let r = Config::default().resolve().unwrap();
        let names: Vec<(&str, Protocol, u32)> =
            r.clients.iter().map(|c| (c.username.as_str(), c.protocol, c.session.0)).collect();
        assert_eq!(names, [("demo-fix", Protocol::Fix, 32), ("demo-bin", Protocol::Binary, 33)]);
        for c in &r.clients {
            assert!(c.password_hash.verify(b"demo"), "{}", c.username);
            assert!(!c.password_hash.verify(b"Demo"));
            assert!(c.cancel_on_disconnect);
        }
    }

    #[test]
    fn a_bad_client_entry_is_named() {
        let entry = |extra: &str| {
            format!(
                "[[client]]\nusername = \"u\"\nprotocol = \"fix\"\npassword_hash = \"{}\"\n{extra}",
                DEMO_FIX_HASH
            )
        };
        let check = |text: String, want: &[&str]| {
            let msg = Config::parse(&text, "f")
                .and_then(|c| c.resolve())
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            for w in want {
                assert!(msg.contains(w), "{w:?} not in {msg:?}");
            }
        };
        check(entry("session = 16\n"), &["client[0] (u).session", "strategy"]);
        check(entry("session = 64\n"), &["client[0] (u).session", "engine.sessions"]);
        check(entry("account = 9\n"), &["client[0] (u).account", "0..2"]);
        check(entry("protocol2 = 1\n"), &["protocol2"]);
        check(entry("").replace("\"fix\"", "\"fax\""), &["client[0] (u).protocol", "fax"]);
        check(
            entry("").replace(DEMO_FIX_HASH, "demo"),
            &["client[0] (u).password_hash", "hash-password"],
        );
        check(format!("{}{}", entry(""), entry("session = 32\n")), &["client[1]", "twice"]);
        check(
            format!("{}{}", entry(""), entry("session = 32\n").replace("\"u\"", "\"v\"")),
            &["client[1] (v).session", "32", "\"u\""],
        );
        check(entry(""), &[]);
    }

    #[test]
    fn the_fix_section_is_checked_and_builds_the_acceptor() {
        let check = |text: &str, want: &str| {
            let msg = Config::parse(text, "f")
                .and_then(|c| c.resolve())
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(msg.contains(want), "{want:?} not in {msg:?}");
        };
        check("[fix]\nlisten = \"nowhere\"\n", "fix.listen");
        check("[fix]\ntimestamp_precision = \"s\"\n", "fix.timestamp_precision");
        check("[fix]\nheartbeat_min_s = 10\nheartbeat_max_s = 5\n", "fix.heartbeat_min_s");
        check("[fix]\ncomp_id = \"demo-fix\"\n", "fix.comp_id");
        check("[fix]\ncomp_id = \"a=b\"\n", "fix.comp_id");
        check("[fix]\nmax_message_bytes = 10\n", "fix.max_message_bytes");
        check("[fix]\nlisen = \"x\"\n", "lisen");
        let off = Config::parse("[fix]\nlisten = \"\"\n", "f").unwrap().resolve().unwrap();
        assert!(off.fix_acceptor().is_none());
        let r = Config::default().resolve().unwrap();
        let a = r.fix_acceptor().unwrap();
        assert_eq!(a.listen.to_string(), "127.0.0.1:9878");
        assert_eq!(a.comp_id, "KEEL");
        assert_eq!(a.store_dir, PathBuf::from("./keel-data/fix"));
        assert_eq!(a.clients.for_protocol(Protocol::Fix).count(), 1);
    }

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(Config::parse("", "empty").unwrap(), Config::default());
    }

    #[test]
    fn an_unknown_key_is_named() {
        let err = Config::parse("[pipeline]\ninbound_rnig = 64\n", "f.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("inbound_rnig"), "{msg}");
        assert!(msg.contains("f.toml"), "{msg}");
    }

    #[test]
    fn an_invalid_value_is_named() {
        let c = Config::parse("[pipeline]\ninbound_ring = 1000\n", "f").unwrap();
        let msg = c.resolve().unwrap_err().to_string();
        assert!(msg.contains("pipeline.inbound_ring") && msg.contains("1000"), "{msg}");
        let c = Config::parse("[pipeline]\nwait = \"nap\"\n", "f").unwrap();
        assert!(c.resolve().unwrap_err().to_string().contains("pipeline.wait"));
        let c = Config::parse("[pipeline]\ncore_wait = \"nap\"\n", "f").unwrap();
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("pipeline.core_wait") && e.contains("\"busy-spin\""), "{e}");
        let c = Config::parse(
            "[[strategy]]\nname = \"market_maker\"\naccount = 1\ninstrument = \"XYZ\"\n",
            "f",
        )
        .unwrap();
        assert!(c.resolve().unwrap_err().to_string().contains("strategy[0]"));
        let c = Config::parse(
            "[[strategy]]\nname = \"nope\"\naccount = 1\ninstrument = \"BTC-USD\"\n",
            "f",
        )
        .unwrap();
        assert!(c.resolve().unwrap_err().to_string().contains("nope"));
    }

    /// The core waits as the gateways do unless `core_wait` says otherwise, with the
    /// section's rounds and times.
    #[test]
    fn the_core_may_wait_apart_from_the_gateways() {
        let p = Config::parse("", "f").unwrap().resolve().unwrap().pipeline;
        assert_eq!((p.wait, p.core_wait), (WaitStrategy::BLOCK, None));
        let c = Config::parse("[pipeline]\ncore_wait = \"spin-yield\"\nspins = 7\n", "f");
        let p = c.unwrap().resolve().unwrap().pipeline;
        assert_eq!(p.core_wait, Some(WaitStrategy::SpinThenYield { spins: 7 }));
        assert_eq!(p.wait, WaitStrategy::Block { spins: 7, yields: 10, timeout_us: 1_000 });
    }

    #[test]
    fn spare_segments_reach_the_journal_and_are_checked() {
        let c = Config::parse("[journal]\nspare_segments = 5\n", "f").unwrap();
        assert_eq!(c.resolve().unwrap().journal.spare_segments, 5);
        for bad in [0, keel_journal::MAX_SPARE_SEGMENTS + 1] {
            let c = Config::parse(&format!("[journal]\nspare_segments = {bad}\n"), "f").unwrap();
            let msg = c.resolve().unwrap_err().to_string();
            assert!(
                msg.contains("journal.spare_segments") && msg.contains(&bad.to_string()),
                "{msg}"
            );
        }
    }
}
