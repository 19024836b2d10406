//! A small, complete core configuration, command builders and a seeded synthetic command
//! stream. Used by the core's tests, the integration and allocation tests, the criterion
//! benches and `keel bench core`, so they all exercise the same engine.
//!
//! The stream generator is deterministic (SplitMix64 from the seed); it mixes market data,
//! order entry, venue reports, timers and admin actions roughly in the proportions a busy
//! session sees, including reports for orders that do not exist (which become anomalies).

use super::{
    Core, CoreConfig, FeedKind, Output, OutputSink, RiskSettings, StrategySpec, VenueConfig,
};
use crate::book::BookCapacity;
use crate::orders::OrderTableConfig;
use crate::schema::*;
use crate::{
    AccountId, ClOrdId, Instrument, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side,
    TimeInForce, TimestampNs, VenueId,
};
use rust_decimal::Decimal;

mod kinds;
mod session;
pub use kinds::one_of_each_command;
pub use session::session_commands;

/// BTC-USD: tick 0.01, lot 0.001, on both venues.
pub const BTC: InstrumentId = InstrumentId(0);
/// ETH-USD: tick 0.01, lot 0.01, on `SIM` only.
pub const ETH: InstrumentId = InstrumentId(1);
/// An L3 venue.
pub const SIM: VenueId = VenueId(1);
/// An L2 venue.
pub const ALT: VenueId = VenueId(2);
/// The client's account.
pub const ACCOUNT: AccountId = AccountId(0);
/// The strategy's account.
pub const STRATEGY_ACCOUNT: AccountId = AccountId(1);
/// The admin session.
pub const ADMIN: SessionId = SessionId(1);
/// A client session trading for [`ACCOUNT`], cancel on disconnect on.
pub const CLIENT: SessionId = SessionId(2);
/// The venue connection.
pub const VENUE: SessionId = SessionId(3);
/// The timer.
pub const TIMER: SessionId = SessionId(4);
/// The strategy's session.
pub const STRATEGY: SessionId = SessionId(5);
/// First command time: 2026-01-02 00:00:00 UTC.
pub const T0_NS: u64 = 1_767_312_000_000_000_000;

/// A pipeline's start from nothing on [`config`], journaling into memory (the `init` of
/// the pipeline tests).
pub fn memory_start() -> Result<crate::pipeline::CoreStart<crate::port::MemoryJournal>, String> {
    let core = Core::new(&config()).map_err(|e| e.to_string())?;
    Ok(crate::pipeline::CoreStart::fresh(core, crate::port::MemoryJournal::default()))
}

/// The fixture configuration: two instruments, an L3 and an L2 venue, two accounts.
pub fn config() -> CoreConfig {
    let d = |s: &str| s.parse::<Decimal>().expect("literal decimal");
    let btc = Instrument::builder(BTC, "BTC-USD")
        .tick_size(d("0.01"))
        .lot_size(d("0.001"))
        .currency("USD")
        .venues(&[SIM, ALT])
        .build()
        .expect("valid instrument");
    let eth = Instrument::builder(ETH, "ETH-USD")
        .tick_size(d("0.01"))
        .lot_size(d("0.01"))
        .currency("USD")
        .venues(&[SIM])
        .build()
        .expect("valid instrument");
    CoreConfig {
        instruments: vec![btc, eth],
        venues: vec![
            VenueConfig { id: SIM, name: "SIM".into(), feed: FeedKind::L3 },
            VenueConfig { id: ALT, name: "ALT".into(), feed: FeedKind::L2 },
        ],
        account_count: 2,
        session_capacity: 16,
        orders: OrderTableConfig::with_orders_max(4096),
        book: BookCapacity { orders: 4096, levels_per_side: 512 },
        risk: RiskSettings::default(),
        strategies: Vec::new(),
        strategy_events_per_command: super::DEFAULT_STRATEGY_EVENTS_PER_COMMAND,
    }
}

/// [`config`] with the reference market maker quoting BTC on `ALT` for
/// [`STRATEGY_ACCOUNT`].
pub fn config_with_market_maker() -> CoreConfig {
    with_market_maker(
        config(),
        ALT,
        &[
            ("instrument", "0"),
            ("half_spread_ticks", "2"),
            ("size_lots", "5"),
            ("max_position_lots", "50"),
        ],
    )
}

/// `config` with the reference market maker added on [`STRATEGY`] for [`STRATEGY_ACCOUNT`],
/// sending to `venue`, with these parameters.
pub fn with_market_maker(
    mut config: CoreConfig,
    venue: VenueId,
    params: &[(&str, &str)],
) -> CoreConfig {
    config.strategies.push(StrategySpec {
        name: "market_maker".into(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        session: STRATEGY,
        account: STRATEGY_ACCOUNT,
        venue,
    });
    config
}

/// A core with a clock and an output buffer, for driving scenarios.
pub struct Harness {
    /// The core under test.
    pub core: Core,
    /// Outputs of the last command.
    pub out: Vec<Output>,
    /// Time of the last command; each `send` adds 1 ns.
    pub ts: u64,
}

impl Harness {
    /// A harness over a core built from `config`.
    pub fn new(config: &CoreConfig) -> Harness {
        Harness {
            core: Core::new(config).expect("valid config"),
            out: Vec::with_capacity(1024),
            ts: T0_NS,
        }
    }

    /// [`config`], every session logged on, and a BTC book on `ALT` of 100 × 10 / 102 × 10.
    pub fn with_market() -> Harness {
        let mut h = Harness::new(&config());
        h.logon_all();
        h.send(VENUE, l2(BTC, ALT, Side::Buy, 100, 10));
        h.send(VENUE, l2(BTC, ALT, Side::Sell, 102, 10));
        h
    }

    /// Logs on the admin, client and venue sessions.
    pub fn logon_all(&mut self) {
        for command in logons() {
            self.send(command.session, command.body);
        }
    }

    /// Applies one command at the next time and returns its outputs.
    pub fn send(&mut self, session: SessionId, body: CommandBody) -> Vec<OutputBody> {
        self.ts += 1;
        self.out.clear();
        self.core.apply(&Command { ts: TimestampNs(self.ts), session, body }, &mut self.out);
        self.out.iter().map(|o| o.body).collect()
    }
}

/// The logons of the admin, client and venue sessions.
pub fn logons() -> [Command; 3] {
    let logon = |session, kind, account, cancel_on_disconnect| Command {
        ts: TimestampNs(T0_NS),
        session,
        body: CommandBody::SessionLogon(SessionLogon { kind, account, cancel_on_disconnect }),
    };
    [
        logon(ADMIN, SessionKind::Admin, ACCOUNT, false),
        logon(CLIENT, SessionKind::FixClient, ACCOUNT, true),
        logon(VENUE, SessionKind::Venue, ACCOUNT, false),
    ]
}

/// `SetLimit` commands (for [`ADMIN`]) that put a limit of every per-order and exposure
/// kind in force at firm, account and account × instrument for [`ACCOUNT`] in [`BTC`],
/// loose enough that the fixture's orders pass them: the checks then run against real
/// numbers rather than "no limit". (Throttles and the duplicate window are left off:
/// benchmarks send identical orders one nanosecond apart.)
pub fn limits_in_force() -> Vec<CommandBody> {
    let cell = LimitScope::AccountInstrument(ACCOUNT, BTC);
    let account = LimitScope::Account(ACCOUNT);
    let firm = LimitScope::Firm;
    let set = |scope, kind, value| CommandBody::SetLimit(SetLimit { scope, kind, value });
    let mut limits = Vec::new();
    for scope in [cell, account, firm] {
        limits.push(set(scope, LimitKind::MaxOrderQty, 1_000_000));
        limits.push(set(scope, LimitKind::PriceCollarBps, 1_000));
        limits.push(set(scope, LimitKind::MaxOpenOrders, 100_000));
    }
    limits.push(set(cell, LimitKind::MaxOrderNotional, 1_000_000_000_000));
    limits.push(set(cell, LimitKind::MaxPositionLong, 1_000_000_000));
    limits.push(set(cell, LimitKind::MaxPositionShort, 1_000_000_000));
    for scope in [account, firm] {
        limits.push(set(scope, LimitKind::MaxOrderNotional, 1_000_000_000_000_000));
        limits.push(set(scope, LimitKind::MaxGrossExposure, 1_000_000_000_000_000_000));
        limits.push(set(scope, LimitKind::MaxCredit, 1_000_000_000_000_000_000));
    }
    limits
}

/// A DAY limit order in BTC for [`ACCOUNT`], routed to `ALT`.
pub fn limit(cl_ord_id: &str, side: Side, price: i64, qty: i64) -> NewOrder {
    NewOrder {
        cl_ord_id: cl_ord_id.parse().expect("valid client order id"),
        account: ACCOUNT,
        instrument: BTC,
        route: Route::Venue(ALT),
        side,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Day,
        flags: OrderFlags::NONE,
        price: Price(price),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(qty),
        display_qty: Qty::ZERO,
        expire_at: TimestampNs(0),
    }
}

/// A client cancel of `orig`.
pub fn cancel(cl_ord_id: &str, orig: &str) -> CommandBody {
    CommandBody::CancelOrder(CancelOrder {
        cl_ord_id: cl_ord_id.parse().expect("valid client order id"),
        orig_cl_ord_id: orig.parse().expect("valid client order id"),
        account: ACCOUNT,
    })
}

/// A client replace of `orig`.
pub fn replace(cl_ord_id: &str, orig: &str, price: i64, qty: i64) -> CommandBody {
    CommandBody::ReplaceOrder(ReplaceOrder {
        cl_ord_id: cl_ord_id.parse().expect("valid client order id"),
        orig_cl_ord_id: orig.parse().expect("valid client order id"),
        account: ACCOUNT,
        price: Price(price),
        stop_price: Price(0),
        qty: Qty(qty),
        display_qty: Qty::ZERO,
    })
}

/// `ALT` acknowledges order `id`.
pub fn ack(id: u64, venue_order_id: u64) -> CommandBody {
    CommandBody::VenueAck(VenueAck {
        venue: ALT,
        order_id: OrderId(id),
        venue_order_id,
        venue_ts: TimestampNs(0),
    })
}

/// `ALT` fills order `id`.
pub fn fill(id: u64, exec_id: u64, price: i64, qty: i64) -> CommandBody {
    CommandBody::VenueFill(VenueFill {
        venue: ALT,
        order_id: OrderId(id),
        exec_id,
        price: Price(price),
        qty: Qty(qty),
        fee: 0,
        liquidity: Liquidity::Maker,
        venue_ts: TimestampNs(0),
    })
}

/// `ALT` cancels order `id`.
pub fn cancel_ack(id: u64, unsolicited: bool) -> CommandBody {
    CommandBody::VenueCancelAck(VenueCancelAck {
        venue: ALT,
        order_id: OrderId(id),
        unsolicited,
        venue_ts: TimestampNs(0),
    })
}

/// A BTC trade print on `ALT`.
pub fn trade(price: i64) -> CommandBody {
    CommandBody::Trade(MarketTrade {
        instrument: BTC,
        venue: ALT,
        price: Price(price),
        qty: Qty(1),
        aggressor: None,
        exchange_ts: TimestampNs(0),
    })
}

/// An L2 level update.
pub fn l2(
    instrument: InstrumentId,
    venue: VenueId,
    side: Side,
    price: i64,
    qty: i64,
) -> CommandBody {
    CommandBody::L2Update(L2Update {
        instrument,
        venue,
        side,
        price: Price(price),
        qty: Qty(qty),
        exchange_ts: TimestampNs(0),
    })
}

/// SplitMix64: a tiny, well-mixed deterministic generator (no dependency, no OS entropy).
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A seeded stream of `n` commands after the logons: about 60% market data, 20% order
/// entry, 15% venue reports, and timers, admin actions and logouts.
pub fn random_commands(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = SplitMix64(seed);
    let mut commands: Vec<Command> = logons().to_vec();
    let mut ts = T0_NS;
    let mut next_cl = 0u64;
    let mut mid = 10_000i64;
    for _ in 0..n {
        ts += 1 + rng.below(1_000_000);
        let roll = rng.below(100);
        let side = if rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let (session, body) = match roll {
            0..=49 => {
                mid += rng.below(5) as i64 - 2;
                let off = 1 + rng.below(8) as i64;
                let price = if side == Side::Buy { mid - off } else { mid + off };
                (VENUE, l2(BTC, ALT, side, price, rng.below(4) as i64 * 10))
            }
            50..=54 => (VENUE, trade(mid + rng.below(7) as i64 - 3)),
            55..=59 => {
                let vid = 1 + rng.below(64);
                let body = if side == Side::Buy {
                    CommandBody::L3Add(L3Add {
                        instrument: ETH,
                        venue: SIM,
                        venue_order_id: vid,
                        side,
                        price: Price(5_000 - rng.below(10) as i64),
                        qty: Qty(1 + rng.below(9) as i64),
                        exchange_ts: TimestampNs(ts),
                    })
                } else {
                    CommandBody::L3Delete(L3Delete {
                        instrument: ETH,
                        venue: SIM,
                        venue_order_id: vid,
                        exchange_ts: TimestampNs(ts),
                    })
                };
                (VENUE, body)
            }
            60..=71 => {
                next_cl += 1;
                let mut o = limit(
                    &format!("R{next_cl}"),
                    side,
                    mid + rng.below(9) as i64 - 4,
                    1 + rng.below(20) as i64,
                );
                match rng.below(10) {
                    0 => {
                        o.ord_type = OrdType::Market;
                        o.tif = TimeInForce::Ioc;
                    }
                    1 => {
                        o.ord_type = OrdType::Stop;
                        o.stop_price = Price(if side == Side::Buy { mid + 5 } else { mid - 5 });
                    }
                    2 => o.route = Route::BestPrice,
                    _ => {}
                }
                (CLIENT, CommandBody::NewOrder(o))
            }
            72..=76 if next_cl > 0 => {
                let target = 1 + rng.below(next_cl);
                next_cl += 1;
                (CLIENT, cancel(&format!("R{next_cl}"), &format!("R{target}")))
            }
            77..=79 if next_cl > 0 => {
                let target = 1 + rng.below(next_cl);
                next_cl += 1;
                (
                    CLIENT,
                    replace(
                        &format!("R{next_cl}"),
                        &format!("R{target}"),
                        mid - 3,
                        1 + rng.below(30) as i64,
                    ),
                )
            }
            80..=84 => (VENUE, ack(1 + rng.below(next_cl.max(1) + 8), rng.next_u64())),
            85..=90 => (
                VENUE,
                fill(
                    1 + rng.below(next_cl.max(1) + 8),
                    rng.next_u64(),
                    mid,
                    1 + rng.below(5) as i64,
                ),
            ),
            91..=93 => (VENUE, cancel_ack(1 + rng.below(next_cl.max(1) + 8), rng.below(2) == 0)),
            94..=96 => (TIMER, CommandBody::Timer(Timer {})),
            97 => (
                ADMIN,
                CommandBody::SetLimit(SetLimit {
                    scope: LimitScope::Account(ACCOUNT),
                    kind: LimitKind::MaxOrderQty,
                    value: 10 + rng.below(20) as i64,
                }),
            ),
            98 => {
                let action = if rng.below(2) == 0 {
                    KillSwitchAction::Engage
                } else {
                    KillSwitchAction::Release
                };
                (
                    ADMIN,
                    CommandBody::KillSwitch(KillSwitch { scope: Scope::Account(ACCOUNT), action }),
                )
            }
            _ => (VENUE, l2(BTC, ALT, side, mid, 0)),
        };
        commands.push(Command { ts: TimestampNs(ts), session, body });
    }
    commands
}

/// Applies `commands` to a fresh core with the market maker; returns every output and the
/// final digest.
pub fn run_all(commands: &[Command]) -> (Vec<Output>, super::StateDigest) {
    let mut core = Core::new(&config_with_market_maker()).expect("valid config");
    let mut out = Vec::new();
    for c in commands {
        core.apply(c, &mut out);
    }
    (out, core.digest())
}

/// A sink that only counts, for benchmarks.
#[derive(Debug, Default)]
pub struct CountingSink {
    /// Outputs seen.
    pub outputs: u64,
}

impl OutputSink for CountingSink {
    #[inline]
    fn emit(&mut self, _output: Output) {
        self.outputs += 1;
    }
}

/// Formats a client order id without allocating (for generated order ids).
pub fn numeric_cl(n: u64) -> ClOrdId {
    ClOrdId::from_u64(n)
}
