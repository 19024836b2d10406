//! Start-up configuration of the core: what it trades, where, for whom, and how much room
//! every table gets. All memory is reserved from this once; nothing grows afterwards.
//!
//! Ids are dense: instruments are `0..instruments.len()` in order, accounts
//! `0..account_count`, sessions `0..session_capacity`, so every table is a direct index.

use super::market::FeedKind;
use crate::book::BookCapacity;
use crate::orders::OrderTableConfig;
use crate::risk::{ConfigError, InstrumentRisk, RiskConfig};
use crate::{AccountId, Instrument, InstrumentId, SessionId, VenueId};
use rust_decimal::Decimal;

/// A venue Keel trades on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueConfig {
    /// The venue's id.
    pub id: VenueId,
    /// Its name, for reports.
    pub name: String,
    /// Which market data it publishes.
    pub feed: FeedKind,
}

/// An in-process strategy: which one, with what parameters, trading as which session and
/// account, and where its orders go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategySpec {
    /// Registered name (e.g. `market_maker`).
    pub name: String,
    /// Parameters as text, validated by the strategy.
    pub params: Vec<(String, String)>,
    /// The session its orders are entered on (must not be used by anything else).
    pub session: SessionId,
    /// The account it trades for.
    pub account: AccountId,
    /// The venue its orders are sent to.
    pub venue: VenueId,
}

/// Everything the core needs at start-up.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Instruments, ids `0..n` in order.
    pub instruments: Vec<Instrument>,
    /// Venues.
    pub venues: Vec<VenueConfig>,
    /// Accounts are `0..account_count`.
    pub account_count: u32,
    /// Sessions are `0..session_capacity`.
    pub session_capacity: u32,
    /// Order table sizes.
    pub orders: OrderTableConfig,
    /// Size of each market book.
    pub book: BookCapacity,
    /// Risk limits and rules; its instrument list is derived from `instruments`.
    pub risk: RiskSettings,
    /// In-process strategies.
    pub strategies: Vec<StrategySpec>,
    /// Most reports delivered to strategies while applying one command; the rest wait for
    /// the next command (see `core::host`). [`DEFAULT_STRATEGY_EVENTS_PER_COMMAND`] suits
    /// the reference strategies.
    pub strategy_events_per_command: usize,
}

/// The default bound on strategy deliveries per command.
pub const DEFAULT_STRATEGY_EVENTS_PER_COMMAND: usize = 256;

/// The risk settings of [`CoreConfig`]: everything in [`RiskConfig`] but the tables the
/// core derives itself (instruments, account and session counts).
#[derive(Clone, Debug)]
pub struct RiskSettings {
    /// Template whose `instruments`, `account_count` and `session_capacity` are replaced.
    pub template: RiskConfig,
    /// Value of one unit of each instrument's quote currency in the reporting currency,
    /// by instrument id; missing entries are 1.
    pub currency_rates: Vec<Decimal>,
}

impl Default for RiskSettings {
    fn default() -> Self {
        RiskSettings { template: RiskConfig::new(Vec::new(), 0, 0), currency_rates: Vec::new() }
    }
}

/// A configuration the core cannot run with.
#[derive(Debug, thiserror::Error)]
pub enum CoreConfigError {
    /// Instrument ids must be `0..n` in order.
    #[error("instrument {symbol} at index {index} has id {id}; ids must be 0..n in order")]
    InstrumentIdsNotDense {
        /// Position in the list.
        index: usize,
        /// The id found.
        id: InstrumentId,
        /// Its symbol.
        symbol: String,
    },
    /// Two venues share an id.
    #[error("venue id {0} is configured twice")]
    DuplicateVenue(VenueId),
    /// An instrument lists a venue that is not configured.
    #[error("instrument {symbol} lists venue {venue}, which is not configured")]
    UnknownVenue {
        /// Instrument symbol.
        symbol: String,
        /// The venue named.
        venue: VenueId,
    },
    /// A strategy's session or account is outside the configured ranges, or its venue is
    /// unknown, or two strategies share a session.
    #[error("strategy {name}: {problem}")]
    Strategy {
        /// Strategy name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The position book could not be built.
    #[error("positions: {0}")]
    Positions(#[from] crate::positions::PositionBookError),
    /// The risk configuration was refused.
    #[error("risk configuration: {0}")]
    Risk(#[from] ConfigError),
}

impl CoreConfig {
    /// Checks the configuration and derives the risk engine's.
    pub fn validate(&self) -> Result<RiskConfig, CoreConfigError> {
        for (index, inst) in self.instruments.iter().enumerate() {
            if inst.id.index() != index {
                return Err(CoreConfigError::InstrumentIdsNotDense {
                    index,
                    id: inst.id,
                    symbol: inst.symbol.clone(),
                });
            }
            for venue in &inst.venues {
                if !self.venues.iter().any(|v| v.id == *venue) {
                    return Err(CoreConfigError::UnknownVenue {
                        symbol: inst.symbol.clone(),
                        venue: *venue,
                    });
                }
            }
        }
        for (i, v) in self.venues.iter().enumerate() {
            if self.venues[..i].iter().any(|w| w.id == v.id) {
                return Err(CoreConfigError::DuplicateVenue(v.id));
            }
        }
        for (i, s) in self.strategies.iter().enumerate() {
            let problem = if s.session.0 >= self.session_capacity {
                Some(format!("session {} is outside 0..{}", s.session, self.session_capacity))
            } else if s.account.0 >= self.account_count {
                Some(format!("account {} is outside 0..{}", s.account, self.account_count))
            } else if !self.venues.iter().any(|v| v.id == s.venue) {
                Some(format!("venue {} is not configured", s.venue))
            } else if self.strategies[..i].iter().any(|t| t.session == s.session) {
                Some(format!("session {} is used by another strategy", s.session))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(CoreConfigError::Strategy { name: s.name.clone(), problem });
            }
        }
        let mut risk = self.risk.template.clone();
        risk.instruments = self
            .instruments
            .iter()
            .map(|inst| {
                let rate =
                    self.risk.currency_rates.get(inst.id.index()).copied().unwrap_or(Decimal::ONE);
                InstrumentRisk::from_instrument(inst, rate)
            })
            .collect::<Result<_, _>>()?;
        risk.account_count = self.account_count;
        risk.session_capacity = self.session_capacity;
        Ok(risk)
    }
}
