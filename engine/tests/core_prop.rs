//! Property test of the deterministic core: random command streams of every kind (order
//! entry of every type and flag, venue reports aimed at real and bogus orders, L2/L3 market
//! data, trades, limit and trading-state changes, kill switches, logouts, timers) through a
//! `Core` with the reference market maker, with invariants checked after EVERY command:
//!
//! (a) every working order has `0 ≤ filled ≤ qty` and `leaves = qty − filled`, and its
//!     `filled` equals the sum of the `Trade` reports the test saw for it;
//! (b) every (account, instrument) position's net quantity equals the signed sum of the
//!     fills the core accepted (each `ExecReport` of type `Trade`, tallied here from the
//!     outputs; a `Trade` report only ever answers the `VenueFill` that caused it);
//! (c) `OrderTable::check_invariants` holds;
//! (d) no accepted new order breaches a limit in force: its quantity is within the
//!     account's `MaxOrderQty` set in the stream (a venue replace too), the account's
//!     working orders stay within `MaxOpenOrders`, and nothing is accepted while a kill
//!     switch covers its account or session or while its account or the firm is Halted
//!     (nor is a held stop released to the venue then);
//! (e) the command stream replayed into a fresh core gives identical outputs and digest.
//!
//! Operations are abstract (indices, offsets, modes) and are resolved against what the
//! test has seen so far, so venue reports name real order ids taken from `VenueNewOrder`
//! outputs as well as bogus ones, and shrinking keeps streams meaningful.

use keel_engine::core::Core;
use keel_engine::core::testkit::{
    ACCOUNT, ADMIN, ALT, BTC, CLIENT, ETH, SIM, STRATEGY_ACCOUNT, T0_NS, TIMER, VENUE,
    config_with_market_maker, logons,
};
use keel_engine::orders::OrderFilter;
use keel_engine::risk::NO_LIMIT;
use keel_engine::schema::*;
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A second client session, trading for the strategy's account (no cancel on disconnect).
const CLIENT2: SessionId = SessionId(6);
/// A venue nobody configured.
const BOGUS_VENUE: VenueId = VenueId(9);
const ACCOUNTS: [AccountId; 2] = [ACCOUNT, STRATEGY_ACCOUNT];
const INSTRUMENTS: [InstrumentId; 2] = [BTC, ETH];
const STEP_NS: u64 = 1_000_000;

/// Which order a venue report is about.
#[derive(Clone, Copy, Debug)]
struct Target {
    pick: u16,
    /// An order id Keel never assigned.
    bogus: bool,
    /// The right id, reported by the wrong venue.
    wrong_venue: bool,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    New {
        second: bool,
        instrument: u8,
        route: u8,
        buy: bool,
        ord_type: u8,
        tif: u8,
        flags: u8,
        px: i8,
        stop: i8,
        trail: u8,
        qty: u8,
        display: u8,
        expire_ms: u8,
        reuse_cl: Option<u16>,
    },
    Cancel {
        second: bool,
        pick: u16,
    },
    Replace {
        second: bool,
        pick: u16,
        px: i8,
        qty: u8,
    },
    MassCancel {
        second: bool,
        scope: u8,
    },
    Ack(Target),
    Reject(Target),
    Fill {
        target: Target,
        mode: u8,
        qty: u8,
        px: i8,
        dup_exec: bool,
    },
    CancelAck {
        target: Target,
        unsolicited: bool,
    },
    ReplaceAck {
        target: Target,
        echo: bool,
        qty: u8,
        px: i8,
    },
    CancelReject {
        target: Target,
        replace: bool,
    },
    L2 {
        instrument: u8,
        alt: bool,
        buy: bool,
        px: i8,
        qty: u8,
    },
    L3 {
        kind: u8,
        instrument: u8,
        buy: bool,
        vid: u8,
        px: i8,
        qty: u8,
    },
    Trade {
        instrument: u8,
        alt: bool,
        px: i8,
    },
    Snapshot {
        alt: bool,
        begin: bool,
    },
    Status {
        alt: bool,
        status: u8,
    },
    SetLimit {
        kind: u8,
        account: u8,
        value: u8,
        not_admin: bool,
    },
    SetState {
        scope: u8,
        state: u8,
        hold: u8,
    },
    Kill {
        scope: u8,
        engage: bool,
        hold: u8,
    },
    Logout {
        which: u8,
        graceful: bool,
    },
    Logon {
        which: u8,
    },
    Timer {
        advance_ms: u8,
    },
}

fn target() -> impl Strategy<Value = Target> {
    (any::<u16>(), prop::bool::weighted(0.15), prop::bool::weighted(0.05))
        .prop_map(|(pick, bogus, wrong_venue)| Target { pick, bogus, wrong_venue })
}

fn order_entry() -> impl Strategy<Value = Op> {
    let new = (
        (any::<bool>(), 0u8..8, 0u8..8, any::<bool>(), 0u8..10, 0u8..8, 0u8..8),
        (
            any::<i8>(),
            any::<i8>(),
            0u8..12,
            0u8..40,
            0u8..8,
            0u8..4,
            prop::option::weighted(0.1, any::<u16>()),
        ),
    )
        .prop_map(
            |(
                (second, instrument, route, buy, ord_type, tif, flags),
                (px, stop, trail, qty, display, expire_ms, reuse_cl),
            )| Op::New {
                second,
                instrument,
                route,
                buy,
                ord_type,
                tif,
                flags,
                px,
                stop,
                trail,
                qty,
                display,
                expire_ms,
                reuse_cl,
            },
        );
    prop_oneof![
        8 => new,
        2 => (any::<bool>(), any::<u16>()).prop_map(|(second, pick)| Op::Cancel { second, pick }),
        2 => (any::<bool>(), any::<u16>(), any::<i8>(), 0u8..40)
            .prop_map(|(second, pick, px, qty)| Op::Replace { second, pick, px, qty }),
        1 => (any::<bool>(), 0u8..4).prop_map(|(second, scope)| Op::MassCancel { second, scope }),
    ]
}

fn venue_reports() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => target().prop_map(Op::Ack),
        1 => target().prop_map(Op::Reject),
        5 => (target(), 0u8..7, any::<u8>(), -4i8..5, prop::bool::weighted(0.1))
            .prop_map(|(target, mode, qty, px, dup_exec)| Op::Fill { target, mode, qty, px, dup_exec }),
        2 => (target(), any::<bool>())
            .prop_map(|(target, unsolicited)| Op::CancelAck { target, unsolicited }),
        2 => (target(), prop::bool::weighted(0.8), 0u8..40, any::<i8>())
            .prop_map(|(target, echo, qty, px)| Op::ReplaceAck { target, echo, qty, px }),
        1 => (target(), any::<bool>())
            .prop_map(|(target, replace)| Op::CancelReject { target, replace }),
    ]
}

fn market_data() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..3, prop::bool::weighted(0.8), any::<bool>(), -10i8..11, 0u8..30)
            .prop_map(|(instrument, alt, buy, px, qty)| Op::L2 { instrument, alt, buy, px, qty }),
        3 => (0u8..5, 0u8..2, any::<bool>(), 0u8..24, -10i8..11, 0u8..12).prop_map(
            |(kind, instrument, buy, vid, px, qty)| Op::L3 { kind, instrument, buy, vid, px, qty }
        ),
        3 => (0u8..2, any::<bool>(), -12i8..13)
            .prop_map(|(instrument, alt, px)| Op::Trade { instrument, alt, px }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(alt, begin)| Op::Snapshot { alt, begin }),
        1 => (any::<bool>(), 0u8..8).prop_map(|(alt, status)| Op::Status { alt, status }),
    ]
}

fn admin_and_time() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 0u8..3, any::<u8>(), prop::bool::weighted(0.1)).prop_map(
            |(kind, account, value, not_admin)| Op::SetLimit { kind, account, value, not_admin }
        ),
        2 => (0u8..3, 0u8..5, 1u8..24)
            .prop_map(|(scope, state, hold)| Op::SetState { scope, state, hold }),
        2 => (0u8..4, any::<bool>(), 1u8..24)
            .prop_map(|(scope, engage, hold)| Op::Kill { scope, engage, hold }),
        1 => (0u8..3, any::<bool>()).prop_map(|(which, graceful)| Op::Logout { which, graceful }),
        1 => (0u8..4).prop_map(|which| Op::Logon { which }),
        2 => any::<u8>().prop_map(|advance_ms| Op::Timer { advance_ms }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => order_entry(),
        6 => venue_reports(),
        6 => market_data(),
        2 => admin_and_time(),
    ]
}

/// The test's own record of what the core said, and the limits the stream set.
struct Model {
    /// Net position per (account, instrument), from `Trade` reports.
    net: BTreeMap<(AccountId, InstrumentId), i64>,
    /// Filled quantity per order, from `Trade` reports.
    filled: BTreeMap<OrderId, i64>,
    /// Every order id the core accepted, with its account and session.
    accepted: BTreeMap<OrderId, (AccountId, SessionId)>,
    max_order_qty: [i64; 2],
    max_open_orders: [i64; 2],
    kill_firm: bool,
    kill_account: [bool; 2],
    kill_session: BTreeSet<SessionId>,
    halted_firm: bool,
    halted_account: [bool; 2],
}

impl Model {
    fn new() -> Self {
        Model {
            net: BTreeMap::new(),
            filled: BTreeMap::new(),
            accepted: BTreeMap::new(),
            max_order_qty: [NO_LIMIT; 2],
            max_open_orders: [NO_LIMIT; 2],
            kill_firm: false,
            kill_account: [false; 2],
            kill_session: BTreeSet::new(),
            halted_firm: false,
            halted_account: [false; 2],
        }
    }
}

/// Drives a core with resolved commands and checks the invariants after each.
struct Driver {
    core: Core,
    ts: u64,
    commands: Vec<Command>,
    outputs: Vec<Output>,
    out: Vec<Output>,
    model: Model,
    mids: [i64; 2],
    /// Client order ids sent, per client session (CLIENT, CLIENT2).
    cls: [Vec<ClOrdId>; 2],
    next_cl: u64,
    /// Orders sent to a venue (`VenueNewOrder`), in order: the targets of venue reports.
    routed: Vec<(OrderId, VenueId)>,
    /// The last replace sent to a venue, per order.
    replaces: BTreeMap<OrderId, (Price, Qty)>,
    next_exec: u64,
    /// Ops applied so far.
    step: u64,
    /// Releases of kill switches and trading states, due at a step: a blocked strategy
    /// re-enters an order on every reject (up to the core's per-command event bound), so
    /// blocked spells are kept short to keep the test fast.
    releases: Vec<(u64, CommandBody)>,
}

fn account_index(a: AccountId) -> usize {
    a.0 as usize
}

impl Driver {
    fn new() -> Self {
        let mut d = Driver {
            core: Core::new(&config_with_market_maker()).expect("valid config"),
            ts: T0_NS,
            commands: Vec::new(),
            outputs: Vec::new(),
            out: Vec::with_capacity(1024),
            model: Model::new(),
            mids: [10_000, 5_000],
            cls: [Vec::new(), Vec::new()],
            next_cl: 0,
            routed: Vec::new(),
            replaces: BTreeMap::new(),
            next_exec: 0,
            step: 0,
            releases: Vec::new(),
        };
        for c in logons() {
            d.send(c.session, c.body);
        }
        d.send(CLIENT2, logon_body(CLIENT2));
        d
    }

    fn client(second: bool) -> (SessionId, AccountId, usize) {
        if second { (CLIENT2, STRATEGY_ACCOUNT, 1) } else { (CLIENT, ACCOUNT, 0) }
    }

    fn resolve(&self, t: Target) -> (OrderId, VenueId) {
        if t.bogus || self.routed.is_empty() {
            return (OrderId(1_000_000 + u64::from(t.pick)), ALT);
        }
        // Mostly orders still in the table (live targets), sometimes any ever routed.
        let live: Vec<(OrderId, VenueId)> = self
            .routed
            .iter()
            .copied()
            .filter(|(id, _)| self.core.orders().get(*id).is_some())
            .collect();
        let pool = if live.is_empty() || t.pick % 4 == 0 { &self.routed } else { &live };
        let (id, venue) = pool[t.pick as usize / 4 % pool.len()];
        let venue = if t.wrong_venue { if venue == ALT { SIM } else { ALT } } else { venue };
        (id, venue)
    }

    fn leaves(&self, id: OrderId) -> Option<i64> {
        self.core.orders().get(id).map(|o| o.leaves().0)
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        self.step += 1;
        while let Some(i) = self.releases.iter().position(|&(due, _)| due <= self.step) {
            let (_, body) = self.releases.remove(i);
            self.send(ADMIN, body);
            self.check(&body)?;
        }
        let (session, body) = self.resolve_op(op);
        if let Op::Timer { advance_ms } = op {
            self.ts += u64::from(advance_ms) * STEP_NS;
        }
        self.send(session, body);
        self.check(&body)
    }

    fn resolve_op(&mut self, op: Op) -> (SessionId, CommandBody) {
        match op {
            Op::New {
                second,
                instrument,
                route,
                buy,
                ord_type,
                tif,
                flags,
                px,
                stop,
                trail,
                qty,
                display,
                expire_ms,
                reuse_cl,
            } => {
                let (session, account, c) = Self::client(second);
                let instrument = match instrument {
                    0..=4 => BTC,
                    5 | 6 => ETH,
                    _ => InstrumentId(7),
                };
                let home = if instrument == ETH { SIM } else { ALT };
                let mid = self.mids[instrument.index().min(1)];
                let side = if buy { Side::Buy } else { Side::Sell };
                let cl_ord_id = match reuse_cl {
                    Some(pick) if !self.cls[c].is_empty() => {
                        self.cls[c][pick as usize % self.cls[c].len()]
                    }
                    _ => {
                        self.next_cl += 1;
                        let cl = ClOrdId::from_u64(self.next_cl);
                        self.cls[c].push(cl);
                        cl
                    }
                };
                let ord_type = match ord_type {
                    0 => OrdType::Market,
                    1..=5 => OrdType::Limit,
                    6 => OrdType::Stop,
                    7 => OrdType::StopLimit,
                    _ => OrdType::TrailingStop,
                };
                let tif = match (tif, ord_type) {
                    (_, OrdType::Market) if tif < 6 => TimeInForce::Ioc,
                    (0 | 1, _) => TimeInForce::Gtc,
                    (2..=4, _) => TimeInForce::Day,
                    (5, _) => TimeInForce::Gtd,
                    (6, _) => TimeInForce::Ioc,
                    _ => TimeInForce::Fok,
                };
                let route = match route {
                    0..=4 => Route::Venue(home),
                    5 => Route::Venue(if home == ALT { SIM } else { ALT }),
                    6 => Route::BestPrice,
                    _ => Route::Venue(BOGUS_VENUE),
                };
                let flags = match flags {
                    0..=4 => OrderFlags::NONE,
                    5 => OrderFlags::POST_ONLY,
                    6 => OrderFlags::REDUCE_ONLY,
                    _ => OrderFlags(8),
                };
                let qty = i64::from(qty);
                let display = if display >= 6 { qty / 2 + i64::from(display) - 6 } else { 0 };
                let expire_at = if tif == TimeInForce::Gtd {
                    TimestampNs(self.ts + u64::from(expire_ms) * 50 * STEP_NS)
                } else {
                    TimestampNs(0)
                };
                let order = NewOrder {
                    cl_ord_id,
                    account,
                    instrument,
                    route,
                    side,
                    ord_type,
                    tif,
                    flags,
                    price: Price(mid + i64::from(px) / 8),
                    stop_price: Price(if ord_type == OrdType::TrailingStop && stop < 0 {
                        0
                    } else {
                        mid + i64::from(stop) / 8
                    }),
                    trail_ticks: i64::from(trail),
                    qty: Qty(qty),
                    display_qty: Qty(display),
                    expire_at,
                };
                (session, CommandBody::NewOrder(order))
            }
            Op::Cancel { second, pick } => {
                let (session, account, c) = Self::client(second);
                let orig = self.pick_cl(c, pick);
                let cl_ord_id = self.fresh_cl(c);
                (
                    session,
                    CommandBody::CancelOrder(CancelOrder {
                        cl_ord_id,
                        orig_cl_ord_id: orig,
                        account,
                    }),
                )
            }
            Op::Replace { second, pick, px, qty } => {
                let (session, account, c) = Self::client(second);
                let orig = self.pick_cl(c, pick);
                let cl_ord_id = self.fresh_cl(c);
                let body = CommandBody::ReplaceOrder(ReplaceOrder {
                    cl_ord_id,
                    orig_cl_ord_id: orig,
                    account,
                    price: Price(self.mids[0] + i64::from(px) / 8),
                    stop_price: Price(0),
                    qty: Qty(i64::from(qty)),
                    display_qty: Qty::ZERO,
                });
                (session, body)
            }
            Op::MassCancel { second, scope } => {
                let (session, account, c) = Self::client(second);
                let scope = match scope {
                    0 => MassCancelScope::Account,
                    1 => MassCancelScope::Instrument(BTC),
                    2 => MassCancelScope::Instrument(ETH),
                    _ => MassCancelScope::Session(session),
                };
                let cl_ord_id = self.fresh_cl(c);
                (session, CommandBody::MassCancel(MassCancel { cl_ord_id, account, scope }))
            }
            Op::Ack(t) => {
                let (order_id, venue) = self.resolve(t);
                let body = CommandBody::VenueAck(VenueAck {
                    venue,
                    order_id,
                    venue_order_id: 7_000 + order_id.0,
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::Reject(t) => {
                let (order_id, venue) = self.resolve(t);
                let body = CommandBody::VenueReject(VenueReject {
                    venue,
                    order_id,
                    reason: 3,
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::Fill { target, mode, qty, px, dup_exec } => {
                let (order_id, venue) = self.resolve(target);
                let leaves = self.leaves(order_id).unwrap_or(1).max(1);
                let q = i64::from(qty);
                let qty = match mode {
                    0..=2 => 1 + q % leaves, // partial (or full when leaves is 1)
                    3 | 4 => leaves,         // full
                    5 => leaves + 1 + q % 3, // over-fill
                    _ => -(q % 2),           // zero or negative
                };
                let exec_id = if dup_exec && self.next_exec > 0 {
                    self.next_exec
                } else {
                    self.next_exec += 1;
                    self.next_exec
                };
                let instrument =
                    self.core.orders().get(order_id).map_or(BTC, |o| o.terms().instrument);
                let body = CommandBody::VenueFill(VenueFill {
                    venue,
                    order_id,
                    exec_id,
                    price: Price(self.mids[instrument.index().min(1)] + i64::from(px)),
                    qty: Qty(qty),
                    fee: i64::from(px).abs(),
                    liquidity: if px < 0 { Liquidity::Taker } else { Liquidity::Maker },
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::CancelAck { target, unsolicited } => {
                let (order_id, venue) = self.resolve(target);
                let body = CommandBody::VenueCancelAck(VenueCancelAck {
                    venue,
                    order_id,
                    unsolicited,
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::ReplaceAck { target, echo, qty, px } => {
                let (order_id, venue) = self.resolve(target);
                let (price, qty) = match self.replaces.get(&order_id) {
                    Some(&terms) if echo => terms,
                    _ => (Price(self.mids[0] + i64::from(px) / 8), Qty(i64::from(qty))),
                };
                let body = CommandBody::VenueReplaceAck(VenueReplaceAck {
                    venue,
                    order_id,
                    price,
                    qty,
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::CancelReject { target, replace } => {
                let (order_id, venue) = self.resolve(target);
                let body = CommandBody::VenueCancelReject(VenueCancelReject {
                    venue,
                    order_id,
                    response_to: if replace {
                        CancelRejectTo::Replace
                    } else {
                        CancelRejectTo::Cancel
                    },
                    reason: 5,
                    venue_ts: TimestampNs(0),
                });
                (VENUE, body)
            }
            Op::L2 { instrument, alt, buy, px, qty } => {
                let instrument = InstrumentId(u32::from(instrument));
                let i = instrument.index().min(1);
                // Quotes walk the mid a little, so the book moves and strategies requote.
                self.mids[i] += i64::from(px.signum());
                let side = if buy { Side::Buy } else { Side::Sell };
                let off = 1 + i64::from(px.unsigned_abs() % 6);
                let price = if buy { self.mids[i] - off } else { self.mids[i] + off };
                let body = CommandBody::L2Update(L2Update {
                    instrument,
                    venue: if alt { ALT } else { SIM },
                    side,
                    price: Price(price),
                    qty: Qty(i64::from(qty) - 2),
                    exchange_ts: TimestampNs(self.ts),
                });
                (VENUE, body)
            }
            Op::L3 { kind, instrument, buy, vid, px, qty } => {
                let instrument = InstrumentId(u32::from(instrument));
                let mid = self.mids[instrument.index().min(1)];
                let side = if buy { Side::Buy } else { Side::Sell };
                let off = 1 + i64::from(px.unsigned_abs() % 6);
                let price = Price(if buy { mid - off } else { mid + off });
                let (venue, venue_order_id, exchange_ts) =
                    (SIM, u64::from(vid), TimestampNs(self.ts));
                let qty = Qty(i64::from(qty));
                let body = match kind {
                    0 | 1 => CommandBody::L3Add(L3Add {
                        instrument,
                        venue,
                        venue_order_id,
                        side,
                        price,
                        qty,
                        exchange_ts,
                    }),
                    2 => CommandBody::L3Modify(L3Modify {
                        instrument,
                        venue,
                        venue_order_id,
                        price,
                        qty,
                        exchange_ts,
                    }),
                    3 => CommandBody::L3Delete(L3Delete {
                        instrument,
                        venue,
                        venue_order_id,
                        exchange_ts,
                    }),
                    _ => CommandBody::L3Execute(L3Execute {
                        instrument,
                        venue,
                        venue_order_id,
                        qty,
                        price,
                        exchange_ts,
                    }),
                };
                (VENUE, body)
            }
            Op::Trade { instrument, alt, px } => {
                let instrument = InstrumentId(u32::from(instrument));
                let body = CommandBody::Trade(MarketTrade {
                    instrument,
                    venue: if alt { ALT } else { SIM },
                    price: Price(self.mids[instrument.index().min(1)] + i64::from(px)),
                    qty: Qty(1),
                    aggressor: if px > 0 { Some(Side::Buy) } else { None },
                    exchange_ts: TimestampNs(self.ts),
                });
                (VENUE, body)
            }
            Op::Snapshot { alt, begin } => {
                let body = CommandBody::Snapshot(SnapshotMark {
                    instrument: BTC,
                    venue: if alt { ALT } else { SIM },
                    phase: if begin { SnapshotPhase::Begin } else { SnapshotPhase::End },
                    exchange_ts: TimestampNs(self.ts),
                });
                (VENUE, body)
            }
            Op::Status { alt, status } => {
                let status = match status {
                    0..=5 => MarketStatus::Open,
                    6 => MarketStatus::Halted,
                    _ => MarketStatus::Closed,
                };
                let instrument = if alt { Some(BTC) } else { None };
                let body = CommandBody::VenueStatus(VenueStatus {
                    venue: if alt { ALT } else { SIM },
                    instrument,
                    status,
                });
                (VENUE, body)
            }
            Op::SetLimit { kind, account, value, not_admin } => {
                let account = AccountId(u32::from(account));
                let v = i64::from(value);
                let (scope, kind, value) = match kind {
                    0 | 1 => (LimitScope::Account(account), LimitKind::MaxOrderQty, v % 40),
                    2 | 3 => (LimitScope::Account(account), LimitKind::MaxOpenOrders, v % 12),
                    4 => (LimitScope::Account(account), LimitKind::DailyLoss, v * 1_000_000_000),
                    5 => {
                        (LimitScope::AccountInstrument(account, BTC), LimitKind::MaxPositionLong, v)
                    }
                    6 => (LimitScope::Session(CLIENT), LimitKind::NewOrdersPerSec, v % 50),
                    _ => (LimitScope::Account(account), LimitKind::MaxOrderQty, NO_LIMIT),
                };
                let value = if value == 0 && kind == LimitKind::MaxOrderQty && v % 3 == 0 {
                    -1 // an invalid value: rejected, changes nothing
                } else {
                    value
                };
                let session = if not_admin { CLIENT } else { ADMIN };
                (session, CommandBody::SetLimit(SetLimit { scope, kind, value }))
            }
            Op::SetState { scope, state, hold } => {
                let scope = match scope {
                    0 => Scope::Firm,
                    1 => Scope::Account(ACCOUNT),
                    _ => Scope::Account(STRATEGY_ACCOUNT),
                };
                let state = match state {
                    0..=2 => TradingState::Active,
                    3 => TradingState::ReducingOnly,
                    _ => TradingState::Halted,
                };
                if state != TradingState::Active {
                    let state = TradingState::Active;
                    let release = CommandBody::SetTradingState(SetTradingState { scope, state });
                    self.releases.push((self.step + u64::from(hold), release));
                }
                (ADMIN, CommandBody::SetTradingState(SetTradingState { scope, state }))
            }
            Op::Kill { scope, engage, hold } => {
                let scope = match scope {
                    0 => Scope::Firm,
                    1 => Scope::Account(ACCOUNT),
                    2 => Scope::Account(STRATEGY_ACCOUNT),
                    _ => Scope::Session(CLIENT),
                };
                let action =
                    if engage { KillSwitchAction::Engage } else { KillSwitchAction::Release };
                if engage {
                    let action = KillSwitchAction::Release;
                    let release = CommandBody::KillSwitch(KillSwitch { scope, action });
                    self.releases.push((self.step + u64::from(hold), release));
                }
                (ADMIN, CommandBody::KillSwitch(KillSwitch { scope, action }))
            }
            Op::Logout { which, graceful } => {
                let session = [CLIENT, CLIENT2, ADMIN][which as usize % 3];
                (session, CommandBody::SessionLogout(SessionLogout { graceful }))
            }
            Op::Logon { which } => {
                let session = [CLIENT, CLIENT2, ADMIN, SessionId(7)][which as usize % 4];
                (session, logon_body(session))
            }
            Op::Timer { .. } => (TIMER, CommandBody::Timer(Timer {})),
        }
    }

    fn pick_cl(&self, c: usize, pick: u16) -> ClOrdId {
        if self.cls[c].is_empty() {
            ClOrdId::from_u64(999_999)
        } else {
            self.cls[c][pick as usize % self.cls[c].len()]
        }
    }

    fn fresh_cl(&mut self, c: usize) -> ClOrdId {
        self.next_cl += 1;
        let cl = ClOrdId::from_u64(self.next_cl);
        self.cls[c].push(cl);
        cl
    }

    fn send(&mut self, session: SessionId, body: CommandBody) {
        self.ts += STEP_NS;
        let cmd = Command { ts: TimestampNs(self.ts), session, body };
        self.out.clear();
        self.core.apply(&cmd, &mut self.out);
        self.commands.push(cmd);
        self.outputs.extend_from_slice(&self.out);
    }

    /// Checks every invariant after one command; updates the model from its outputs.
    fn check(&mut self, body: &CommandBody) -> Result<(), TestCaseError> {
        let m = &mut self.model;
        let mut new_in_command: BTreeSet<AccountId> = BTreeSet::new();
        let mut new_ids: BTreeMap<OrderId, AccountId> = BTreeMap::new();
        let mut trades = 0;
        for o in &self.out {
            prop_assert_eq!(o.ts, self.core.now(), "outputs carry core time");
            match o.body {
                OutputBody::ExecReport(r) => {
                    let is_entry = matches!(r.exec_type, ExecType::PendingNew | ExecType::New);
                    if is_entry && r.order_id.0 != 0 && !m.accepted.contains_key(&r.order_id) {
                        // (d) A new order was accepted.
                        let a = account_index(r.account);
                        prop_assert!(
                            r.qty.0 <= m.max_order_qty[a],
                            "order {:?} qty {} accepted over MaxOrderQty {}",
                            r.order_id,
                            r.qty.0,
                            m.max_order_qty[a]
                        );
                        let killed =
                            m.kill_firm || m.kill_account[a] || m.kill_session.contains(&r.session);
                        prop_assert!(
                            !killed,
                            "order {:?} accepted under a kill switch",
                            r.order_id
                        );
                        prop_assert!(
                            !m.halted_firm && !m.halted_account[a],
                            "order {:?} accepted while halted",
                            r.order_id
                        );
                        m.accepted.insert(r.order_id, (r.account, r.session));
                        new_in_command.insert(r.account);
                        new_ids.insert(r.order_id, r.account);
                    }
                    if r.exec_type == ExecType::Triggered {
                        // (d) A released stop is a new order at the venue: same blocks.
                        let a = account_index(r.account);
                        let killed =
                            m.kill_firm || m.kill_account[a] || m.kill_session.contains(&r.session);
                        prop_assert!(!killed, "stop {:?} released under a kill switch", r.order_id);
                        prop_assert!(
                            !m.halted_firm && !m.halted_account[a],
                            "stop {:?} released while halted",
                            r.order_id
                        );
                    }
                    if r.exec_type == ExecType::Trade {
                        trades += 1;
                        // (b) A Trade report answers exactly the fill that caused it.
                        let CommandBody::VenueFill(f) = body else {
                            return Err(TestCaseError::fail(format!(
                                "Trade report for a {body:?}"
                            )));
                        };
                        prop_assert_eq!(
                            (r.order_id, r.last_qty, r.last_px),
                            (f.order_id, f.qty, f.price)
                        );
                        prop_assert!(f.qty.0 > 0, "non-positive fill accepted: {:?}", f);
                        let signed = if r.side == Side::Buy { f.qty.0 } else { -f.qty.0 };
                        *m.net.entry((r.account, r.instrument)).or_default() += signed;
                        let cum = m.filled.entry(r.order_id).or_default();
                        *cum += f.qty.0;
                        prop_assert_eq!(r.cum_qty.0, *cum, "cum_qty of {:?}", r.order_id);
                        prop_assert!(r.cum_qty <= r.qty, "report over-filled: {:?}", r);
                    }
                }
                OutputBody::AdminAck(AdminAck { reject: None, .. }) => match body {
                    CommandBody::SetLimit(s) => {
                        if let LimitScope::Account(a) = s.scope {
                            let a = account_index(a);
                            match s.kind {
                                LimitKind::MaxOrderQty => m.max_order_qty[a] = s.value,
                                LimitKind::MaxOpenOrders => m.max_open_orders[a] = s.value,
                                _ => {}
                            }
                        }
                    }
                    CommandBody::SetTradingState(s) => {
                        let halted = s.state == TradingState::Halted;
                        match s.scope {
                            Scope::Firm => m.halted_firm = halted,
                            Scope::Account(a) => m.halted_account[account_index(a)] = halted,
                            Scope::Session(_) => {}
                        }
                    }
                    CommandBody::KillSwitch(k) => {
                        let on = k.action == KillSwitchAction::Engage;
                        match k.scope {
                            Scope::Firm => m.kill_firm = on,
                            Scope::Account(a) => m.kill_account[account_index(a)] = on,
                            Scope::Session(s) if on => {
                                m.kill_session.insert(s);
                            }
                            Scope::Session(s) => {
                                m.kill_session.remove(&s);
                            }
                        }
                    }
                    _ => {}
                },
                OutputBody::VenueNewOrder(n) => self.routed.push((n.order_id, n.venue)),
                OutputBody::VenueReplace(r) => {
                    self.replaces.insert(r.order_id, (r.price, r.qty));
                    if let Some(&(account, _)) = m.accepted.get(&r.order_id) {
                        let max = m.max_order_qty[account_index(account)];
                        prop_assert!(
                            r.qty.0 <= max,
                            "replace to {} over MaxOrderQty {}",
                            r.qty.0,
                            max
                        );
                    }
                }
                _ => {}
            }
        }
        prop_assert!(trades <= 1, "one fill, at most one Trade report");

        // (d) On the wire too: a VenueNewOrder for an order accepted by this command (not
        // a stop triggered later) carries a quantity within the limit.
        for o in &self.out {
            if let OutputBody::VenueNewOrder(n) = o.body
                && let Some(&account) = new_ids.get(&n.order_id)
            {
                let max = m.max_order_qty[account_index(account)];
                prop_assert!(
                    n.qty.0 <= max,
                    "venue order qty {} over MaxOrderQty {}",
                    n.qty.0,
                    max
                );
            }
        }

        // (d) Working-order count within MaxOpenOrders where a new order was accepted.
        for a in new_in_command {
            let filter = OrderFilter { account: Some(a), ..OrderFilter::ALL };
            let working = self.core.orders().iter_working(filter).count() as i64;
            let max = m.max_open_orders[account_index(a)];
            prop_assert!(working <= max, "account {a:?} has {working} working orders, max {max}");
        }

        // The model's kill switches agree with risk's.
        let risk = self.core.risk();
        prop_assert_eq!(risk.kill_engaged(Scope::Firm), m.kill_firm);
        for (i, a) in ACCOUNTS.iter().enumerate() {
            prop_assert_eq!(risk.kill_engaged(Scope::Account(*a)), m.kill_account[i]);
        }

        // (a) Every working order: 0 ≤ filled ≤ qty, leaves = qty − filled, filled as tallied.
        for order in self.core.orders().iter_working(OrderFilter::ALL) {
            let (filled, qty) = (order.filled().0, order.terms().qty.0);
            prop_assert!(0 <= filled && filled <= qty, "{order:?}");
            prop_assert_eq!(order.leaves().0, qty - filled, "{:?}", order);
            let tallied = m.filled.get(&order.id()).copied().unwrap_or(0);
            prop_assert_eq!(filled, tallied, "order {:?} filled vs Trade reports", order.id());
        }

        // (b) Positions equal the signed sum of accepted fills.
        for a in ACCOUNTS {
            for i in INSTRUMENTS {
                let net = self.core.positions().position(a, i).map_or(0, |p| p.net_qty().0);
                let expected = m.net.get(&(a, i)).copied().unwrap_or(0);
                prop_assert_eq!(net, expected, "position of {:?} in {:?}", a, i);
            }
        }

        // (c) The order table's own invariants.
        if let Err(e) = self.core.orders().check_invariants() {
            return Err(TestCaseError::fail(format!("order table: {e}")));
        }
        Ok(())
    }
}

fn logon_body(session: SessionId) -> CommandBody {
    let (kind, account, cancel_on_disconnect) = match session {
        CLIENT => (SessionKind::FixClient, ACCOUNT, true),
        CLIENT2 => (SessionKind::BinaryClient, STRATEGY_ACCOUNT, false),
        ADMIN => (SessionKind::Admin, ACCOUNT, false),
        // An account that does not exist: refused.
        _ => (SessionKind::BinaryClient, AccountId(5), false),
    };
    CommandBody::SessionLogon(SessionLogon { kind, account, cancel_on_disconnect })
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut d = Driver::new();
    // A two-sided BTC book on ALT first, so the market maker quotes from the start.
    d.send(VENUE, keel_engine::core::testkit::l2(BTC, ALT, Side::Buy, 9_999, 10));
    d.send(VENUE, keel_engine::core::testkit::l2(BTC, ALT, Side::Sell, 10_001, 10));
    for &op in ops {
        d.apply(op)?;
    }
    // (e) Determinism: a fresh core fed the same commands says the same and ends the same.
    let mut replay = Core::new(&config_with_market_maker()).expect("valid config");
    let mut outputs = Vec::with_capacity(d.outputs.len());
    for c in &d.commands {
        replay.apply(c, &mut outputs);
    }
    prop_assert!(outputs == d.outputs, "replayed outputs differ");
    prop_assert_eq!(replay.digest(), d.core.digest());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn core_invariants_hold_after_every_command(ops in prop::collection::vec(op(), 1..300)) {
        run(&ops)?;
    }
}

/// The stream reaches the states the invariants are about: a fixed seed's stream
/// accepts orders, fills them, and sees rejects, kills and limits.
#[test]
fn streams_reach_fills_kills_and_limit_rejects() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fills, mut accepted, mut qty_rejects, mut kill_rejects) = (0, 0, 0, 0);
    for _ in 0..4 {
        let ops = prop::collection::vec(op(), 300).new_tree(&mut runner).unwrap().current();
        let mut d = Driver::new();
        for op in ops {
            d.apply(op).unwrap();
        }
        let c = d.core.counters();
        fills += c.fills;
        accepted += d.model.accepted.len();
        qty_rejects += c.rejects_by_code[RejectCode::QtyExceedsMax as usize];
        kill_rejects += c.rejects_by_code[RejectCode::KillSwitch as usize];
    }
    assert!(fills >= 30 && accepted >= 50, "fills {fills}, accepted {accepted}");
    assert!(qty_rejects > 0 && kill_rejects > 0, "qty {qty_rejects}, kill {kill_rejects}");
}

/// A triggered stop is a new order at the venue (`core::stops`: it "passes through
/// pre-trade risk like any new order"): after the admin halts the account, a trade through
/// the stop must not send it; it is cancelled with the reason.
#[test]
fn a_stop_triggered_while_the_account_is_halted_is_not_released() {
    use keel_engine::core::testkit::{Harness, limit, trade};
    let mut h = Harness::with_market();
    let stop = NewOrder {
        ord_type: OrdType::Stop,
        stop_price: Price(105),
        price: Price(0),
        ..limit("S1", Side::Buy, 0, 2)
    };
    h.send(CLIENT, CommandBody::NewOrder(stop));
    let halt = SetTradingState { scope: Scope::Account(ACCOUNT), state: TradingState::Halted };
    let ack = h.send(ADMIN, CommandBody::SetTradingState(halt));
    assert!(matches!(ack[0], OutputBody::AdminAck(AdminAck { reject: None, .. })));
    let outs = h.send(VENUE, trade(105));
    assert!(
        !outs.iter().any(|o| matches!(o, OutputBody::VenueNewOrder(_))),
        "a halted account's stop went to the venue: {outs:?}"
    );
    let OutputBody::ExecReport(r) = outs[0] else { panic!("{outs:?}") };
    assert_eq!((r.exec_type, r.ord_status), (ExecType::Canceled, OrdStatus::Canceled));
    assert_eq!(r.reject.map(|j| j.code), Some(RejectCode::Halted));
    assert!(h.core.orders().is_empty());
    let exposure = h.core.risk().cell_exposure(ACCOUNT, BTC).unwrap();
    assert_eq!((exposure.open_lots(Side::Buy), exposure.open_orders), (0, 0));
}
