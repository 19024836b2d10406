//! A backtest's settings, and the engine configuration they build with the data's
//! description.
//!
//! The core of a backtest is configured as `keel serve` configures its own: the data's
//! instruments on the data's venue, two accounts, the strategy on its own session
//! ([`STRATEGY_SESSION`]) trading for [`STRATEGY_ACCOUNT`], the default risk settings, and
//! any `limits` set by admin commands before the first event — so orders pass exactly the
//! checks they pass live.

use keel_engine::book::BookCapacity;
use keel_engine::core::{CoreConfig, RiskSettings, StrategySpec, VenueConfig};
use keel_engine::orders::OrderTableConfig;
use keel_engine::schema::LimitKind;
use keel_engine::{AccountId, InstrumentId, SessionId};

use super::latency::{Duration, LatencyModel};
use super::queue_model::QueueModel;
use super::spec::DataSpec;

/// The admin session (limits set before the run).
pub const ADMIN_SESSION: SessionId = SessionId(1);
/// The venue's session: market data and reports arrive on it.
pub const VENUE_SESSION: SessionId = SessionId(2);
/// The timer's session.
pub const TIMER_SESSION: SessionId = SessionId(3);
/// The strategy's session.
pub const STRATEGY_SESSION: SessionId = SessionId(16);
/// The strategy's account.
pub const STRATEGY_ACCOUNT: AccountId = AccountId(1);

/// Everything a backtest run is given besides its data.
#[derive(Clone, Debug)]
pub struct BacktestConfig {
    /// Registered strategy name.
    pub strategy: String,
    /// Strategy parameters as text; `instrument` may be a symbol of the data, and is
    /// added (as the only instrument) when the data has one instrument.
    pub params: Vec<(String, String)>,
    /// Latency model.
    pub latency: LatencyModel,
    /// Queue-position model.
    pub queue: QueueModel,
    /// Whether Keel's taker fills remove recorded liquidity.
    pub consume_liquidity: bool,
    /// Fee specs (see [`super::fees`]).
    pub fees: Vec<String>,
    /// Seed of the probabilistic queue model.
    pub seed: u64,
    /// Equity and position are sampled at every multiple of this, ns.
    pub sample_interval_ns: u64,
    /// A `Timer` command at every multiple of this, ns (zero: none).
    pub timer_interval_ns: u64,
    /// Risk limits set on the strategy's account before the first event.
    pub limits: Vec<(LimitKind, i64)>,
    /// Size of each recorded book (core and venue).
    pub book: BookCapacity,
    /// Working orders the core holds.
    pub orders_max: usize,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            strategy: "market_maker".into(),
            params: Vec::new(),
            latency: LatencyModel::default(),
            queue: QueueModel::default(),
            consume_liquidity: true,
            fees: Vec::new(),
            seed: 1,
            sample_interval_ns: 1_000_000_000,
            timer_interval_ns: 100_000_000,
            limits: Vec::new(),
            book: BookCapacity { orders: 1 << 18, levels_per_side: 1 << 14 },
            orders_max: 1 << 16,
        }
    }
}

/// Settings that do not fit the data or the engine.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The data's description is not usable.
    #[error(transparent)]
    Spec(#[from] super::spec::SpecError),
    /// A strategy parameter names an instrument the data does not have, or none.
    #[error("strategy {strategy}: {problem}")]
    Strategy {
        /// Strategy name.
        strategy: String,
        /// What is wrong.
        problem: String,
    },
    /// A fee spec.
    #[error(transparent)]
    Fee(#[from] super::fees::FeeError),
    /// An interval of zero, a FIFO model on L2 data, and the like.
    #[error("{0}")]
    Invalid(String),
    /// The engine refused the configuration.
    #[error("engine: {0}")]
    Engine(#[from] keel_engine::core::CoreConfigError),
}

impl BacktestConfig {
    /// The strategy's parameters with `instrument` resolved to an id of `data`.
    pub fn resolved_params(&self, data: &DataSpec) -> Result<Vec<(String, String)>, ConfigError> {
        let fail =
            |problem: String| ConfigError::Strategy { strategy: self.strategy.clone(), problem };
        let mut params = Vec::with_capacity(self.params.len() + 1);
        let mut has_instrument = false;
        for (k, v) in &self.params {
            if k == "instrument" {
                has_instrument = true;
                let id = match v.parse::<u32>() {
                    Ok(n) if (n as usize) < data.instruments.len() => n,
                    Ok(n) => {
                        return Err(fail(format!(
                            "instrument {n} is not in the data (0..{})",
                            data.instruments.len()
                        )));
                    }
                    Err(_) => {
                        data.instrument_id(v)
                            .ok_or_else(|| fail(format!("instrument {v:?} is not in the data")))?
                            .0
                    }
                };
                params.push((k.clone(), id.to_string()));
            } else {
                params.push((k.clone(), v.clone()));
            }
        }
        if !has_instrument {
            if data.instruments.len() != 1 {
                return Err(fail(format!(
                    "the data has {} instruments: name one with --param instrument=SYMBOL",
                    data.instruments.len()
                )));
            }
            params.insert(0, ("instrument".into(), "0".into()));
        }
        Ok(params)
    }

    /// The instrument the strategy trades (its `instrument` parameter).
    pub fn strategy_instrument(&self, data: &DataSpec) -> Result<InstrumentId, ConfigError> {
        let params = self.resolved_params(data)?;
        let id = params.iter().find(|(k, _)| k == "instrument").map(|(_, v)| v.parse::<u32>());
        match id {
            Some(Ok(n)) => Ok(InstrumentId(n)),
            _ => Err(ConfigError::Invalid("the strategy's instrument is not resolved".into())),
        }
    }

    /// Checks the settings against the data.
    pub fn validate(&self, data: &DataSpec) -> Result<(), ConfigError> {
        if self.sample_interval_ns == 0 {
            return Err(ConfigError::Invalid("the sampling interval must be positive".into()));
        }
        if self.queue == QueueModel::Fifo && data.feed == keel_engine::core::FeedKind::L2 {
            return Err(ConfigError::Invalid(
                "the fifo queue model needs order-by-order (L3) data; this data is L2: use \
                 conservative or probabilistic"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The core's configuration for `data`.
    pub fn core_config(&self, data: &DataSpec) -> Result<CoreConfig, ConfigError> {
        self.validate(data)?;
        let instruments = data.engine_instruments()?;
        let params = self.resolved_params(data)?;
        let config = CoreConfig {
            instruments,
            venues: vec![VenueConfig {
                id: data.venue(),
                name: data.venue_name.clone(),
                feed: data.feed,
            }],
            account_count: 2,
            session_capacity: STRATEGY_SESSION.0 + 1,
            orders: OrderTableConfig::with_orders_max(self.orders_max),
            book: self.book,
            risk: RiskSettings::default(),
            strategies: vec![StrategySpec {
                name: self.strategy.clone(),
                params,
                session: STRATEGY_SESSION,
                account: STRATEGY_ACCOUNT,
                venue: data.venue(),
            }],
            strategy_events_per_command: keel_engine::core::DEFAULT_STRATEGY_EVENTS_PER_COMMAND,
        };
        config.validate()?;
        Ok(config)
    }

    /// The sampling interval as text.
    pub fn interval_text(&self) -> String {
        Duration(self.sample_interval_ns).to_string()
    }
}
