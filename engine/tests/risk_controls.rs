//! One test per risk control: the exact reject code and both of its numbers.

use keel_engine::risk::{
    Accepted, InstrumentRisk, NewOrderRisk, NoReferenceRule, OpenOrder, OwnResting, ReplaceRisk,
    RiskConfig, RiskContext, RiskEngine, StpAction, StpMode,
};
use keel_engine::schema::{
    KillSwitch, KillSwitchAction, LimitKind, LimitScope, OrderFlags, RejectCode as C, RejectInfo,
    Scope, SetLimit, SetTradingState, TradingState,
};
use keel_engine::{
    AccountId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimestampNs,
};

const A: AccountId = AccountId(0);
const I: InstrumentId = InstrumentId(0);
const S: SessionId = SessionId(0);
const VPN: i64 = 100;
const REF: Price = Price(10_000);
const T0: TimestampNs = TimestampNs(1_700_000_000_000_000_000);

fn config() -> RiskConfig {
    let bounded = InstrumentRisk {
        id: InstrumentId(1),
        min_qty: Qty(2),
        max_qty: Qty(1_000),
        min_notional: 1_000,
        max_notional: 5_000_000,
        value_per_notional_unit: 1,
    };
    RiskConfig::new(vec![InstrumentRisk::unbounded(I, VPN), bounded], 2, 4)
}

fn engine() -> RiskEngine {
    RiskEngine::new(config()).unwrap()
}

fn order(side: Side, price: i64, qty: i64) -> NewOrderRisk {
    NewOrderRisk {
        account: A,
        instrument: I,
        side,
        ord_type: OrdType::Limit,
        flags: OrderFlags::NONE,
        price: Price(price),
        stop_price: Price(0),
        qty: Qty(qty),
        display_qty: Qty(0),
    }
}

fn ctx() -> RiskContext {
    RiskContext::with_reference(Some(REF))
}

fn err(code: C, value: i64, limit: i64) -> Result<Accepted, RejectInfo> {
    Err(RejectInfo::new(code, value, limit))
}

fn ok(price: i64) -> Result<Accepted, RejectInfo> {
    Ok(Accepted { risk_price: Price(price), stp: StpAction::None })
}

fn set(e: &mut RiskEngine, scope: LimitScope, kind: LimitKind, value: i64) {
    e.set_limit(&SetLimit { scope, kind, value }).unwrap();
}

const CELL: LimitScope = LimitScope::AccountInstrument(A, I);

/// Checks and, when accepted, opens the order (as the core would).
fn enter(e: &mut RiskEngine, o: &NewOrderRisk) -> Result<Accepted, RejectInfo> {
    let r = e.check_new(T0, S, o, &ctx());
    if let Ok(acc) = r {
        e.on_order_open(&OpenOrder {
            account: o.account,
            instrument: o.instrument,
            side: o.side,
            risk_price: acc.risk_price,
            leaves: o.qty,
        });
    }
    r
}

/// A position built the way the core would: an order opens, fills completely and closes.
fn fill(e: &mut RiskEngine, side: Side, qty: i64) {
    let o = OpenOrder { account: A, instrument: I, side, risk_price: REF, leaves: Qty(qty) };
    e.on_order_open(&o);
    e.on_fill(A, I, side, REF, Qty(qty));
    e.on_order_closed(&OpenOrder { leaves: Qty(0), ..o });
}

#[test]
fn identities_are_checked_first() {
    let mut e = engine();
    let o = order(Side::Buy, 10_000, 1);
    assert_eq!(e.check_new(T0, SessionId(9), &o, &ctx()), err(C::TableCapacity, 9, 4));
    let bad = NewOrderRisk { instrument: InstrumentId(7), ..o };
    assert_eq!(e.check_new(T0, S, &bad, &ctx()), err(C::UnknownInstrument, 7, 0));
    let halted_venue = RiskContext { tradable: false, ..ctx() };
    assert_eq!(e.check_new(T0, S, &o, &halted_venue), err(C::InstrumentNotTradable, 0, 0));
    let bad = NewOrderRisk { account: AccountId(5), ..o };
    assert_eq!(e.check_new(T0, S, &bad, &ctx()), err(C::UnknownAccount, 5, 0));
    assert_eq!(e.check_new(T0, S, &o, &ctx()), ok(10_000));
}

#[test]
fn order_terms() {
    let mut e = engine();
    let o = order(Side::Buy, 10_000, 10);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 0), &ctx()),
        err(C::QtyNotPositive, 0, 0)
    );
    let iceberg = NewOrderRisk { display_qty: Qty(11), ..o };
    assert_eq!(e.check_new(T0, S, &iceberg, &ctx()), err(C::DisplayQtyInvalid, 11, 10));
    assert_eq!(e.check_new(T0, S, &order(Side::Buy, 0, 10), &ctx()), err(C::PriceInvalid, 0, 0));
    let stop = NewOrderRisk { ord_type: OrdType::Stop, stop_price: Price(-3), ..o };
    assert_eq!(e.check_new(T0, S, &stop, &ctx()), err(C::PriceInvalid, -3, 0));
    // A market order is valued at the reference; without one it cannot be valued.
    let market = NewOrderRisk { ord_type: OrdType::Market, price: Price(0), ..o };
    assert_eq!(e.check_new(T0, S, &market, &ctx()), ok(10_000));
    let none = RiskContext::with_reference(None);
    assert_eq!(e.check_new(T0, S, &market, &none), err(C::NoReferencePrice, 0, 0));
}

#[test]
fn instrument_bounds() {
    let mut e = engine();
    let o =
        |price, qty| NewOrderRisk { instrument: InstrumentId(1), ..order(Side::Buy, price, qty) };
    assert_eq!(e.check_new(T0, S, &o(100, 1), &ctx()), err(C::QtyBelowMin, 1, 2));
    assert_eq!(e.check_new(T0, S, &o(100, 1_001), &ctx()), err(C::QtyAboveMax, 1_001, 1_000));
    assert_eq!(e.check_new(T0, S, &o(100, 9), &ctx()), err(C::NotionalBelowMin, 900, 1_000));
    assert_eq!(
        e.check_new(T0, S, &o(10_000, 501), &ctx()),
        err(C::NotionalExceedsMax, 5_010_000, 5_000_000)
    );
    assert_eq!(e.check_new(T0, S, &o(100, 10), &ctx()), ok(100));
}

#[test]
fn kill_switch_at_every_level() {
    let mut e = engine();
    let o = order(Side::Buy, 10_000, 1);
    for scope in [Scope::Firm, Scope::Account(A), Scope::Session(S)] {
        let engage = KillSwitch { scope, action: KillSwitchAction::Engage };
        assert_eq!(e.kill_switch(&engage), Ok(Some(scope)), "the core cancels this scope");
        assert_eq!(e.check_new(T0, S, &o, &ctx()), err(C::KillSwitch, 0, 0));
        // Another session of another account is only blocked by the firm switch.
        let other = NewOrderRisk { account: AccountId(1), ..o };
        let blocked = e.check_new(T0, SessionId(1), &other, &ctx()).is_err();
        assert_eq!(blocked, scope == Scope::Firm);
        let release = KillSwitch { scope, action: KillSwitchAction::Release };
        assert_eq!(e.kill_switch(&release), Ok(None));
        assert!(e.check_new(T0, S, &o, &ctx()).is_ok());
    }
    let bad = KillSwitch { scope: Scope::Account(AccountId(9)), action: KillSwitchAction::Engage };
    assert_eq!(e.kill_switch(&bad), Err(RejectInfo::new(C::AdminInvalid, 9, 0)));
}

#[test]
fn trading_states() {
    let mut e = engine();
    fill(&mut e, Side::Buy, 5); // long 5
    let state = |scope, state| SetTradingState { scope, state };
    e.set_trading_state(&state(Scope::Firm, TradingState::Halted)).unwrap();
    assert_eq!(e.check_new(T0, S, &order(Side::Sell, 10_000, 1), &ctx()), err(C::Halted, 0, 0));
    e.set_trading_state(&state(Scope::Firm, TradingState::Active)).unwrap();
    e.set_trading_state(&state(Scope::Account(A), TradingState::ReducingOnly)).unwrap();
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 1), &ctx()),
        err(C::ReducingOnly, 5, 1)
    );
    // Selling 6 would flip the position: not reducing.
    assert_eq!(
        e.check_new(T0, S, &order(Side::Sell, 10_000, 6), &ctx()),
        err(C::ReducingOnly, 5, 6)
    );
    assert!(enter(&mut e, &order(Side::Sell, 10_000, 3)).is_ok());
    // Open sells count: 3 working + 3 more would flip.
    assert_eq!(
        e.check_new(T0, S, &order(Side::Sell, 9_999, 3), &ctx()),
        err(C::ReducingOnly, 5, 3)
    );
    let session = state(Scope::Session(S), TradingState::Halted);
    assert_eq!(e.set_trading_state(&session), Err(RejectInfo::new(C::AdminInvalid, 0, 0)));
}

#[test]
fn restricted_instrument() {
    let mut e = engine();
    set(&mut e, CELL, LimitKind::Restricted, 1);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 1), &ctx()),
        err(C::InstrumentRestricted, 0, 0)
    );
    set(&mut e, CELL, LimitKind::Restricted, 0);
    assert!(e.check_new(T0, S, &order(Side::Buy, 10_000, 1), &ctx()).is_ok());
}

#[test]
fn reduce_only_flag() {
    let mut e = engine();
    let ro =
        |side, qty| NewOrderRisk { flags: OrderFlags::REDUCE_ONLY, ..order(side, 10_000, qty) };
    assert_eq!(
        e.check_new(T0, S, &ro(Side::Sell, 5), &ctx()),
        err(C::ReduceOnlyWouldIncrease, 0, 5)
    );
    fill(&mut e, Side::Sell, 4); // short 4
    assert_eq!(
        e.check_new(T0, S, &ro(Side::Buy, 5), &ctx()),
        err(C::ReduceOnlyWouldIncrease, -4, 5)
    );
    assert!(e.check_new(T0, S, &ro(Side::Buy, 4), &ctx()).is_ok());
}

#[test]
fn max_order_qty_at_each_scope() {
    let mut e = engine();
    set(&mut e, LimitScope::Firm, LimitKind::MaxOrderQty, 30);
    set(&mut e, LimitScope::Account(A), LimitKind::MaxOrderQty, 20);
    set(&mut e, CELL, LimitKind::MaxOrderQty, 10);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 11), &ctx()),
        err(C::QtyExceedsMax, 11, 10)
    );
    set(&mut e, CELL, LimitKind::MaxOrderQty, i64::MAX);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 21), &ctx()),
        err(C::QtyExceedsMax, 21, 20)
    );
    set(&mut e, LimitScope::Account(A), LimitKind::MaxOrderQty, i64::MAX);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 31), &ctx()),
        err(C::QtyExceedsMax, 31, 30)
    );
    assert!(e.check_new(T0, S, &order(Side::Buy, 10_000, 30), &ctx()).is_ok());
}

#[test]
fn max_order_notional_in_ticks_lots_and_value_units() {
    let mut e = engine();
    set(&mut e, CELL, LimitKind::MaxOrderNotional, 100_000);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Sell, 10_001, 10), &ctx()),
        err(C::NotionalExceedsMax, 100_010, 100_000)
    );
    assert!(e.check_new(T0, S, &order(Side::Sell, 10_000, 10), &ctx()).is_ok());
    // Account scope is in valuation units: 10_000 × 10 × 100.
    set(&mut e, LimitScope::Account(A), LimitKind::MaxOrderNotional, 9_999_999);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Sell, 10_000, 10), &ctx()),
        err(C::NotionalExceedsMax, 10_000_000, 9_999_999)
    );
}

#[test]
fn price_collar_and_no_reference_rule() {
    let mut e = engine();
    set(&mut e, LimitScope::Firm, LimitKind::PriceCollarBps, 500);
    set(&mut e, CELL, LimitKind::PriceCollarBps, 100); // the tightest applies: 1% of 10_000
    assert!(e.check_new(T0, S, &order(Side::Buy, 10_100, 1), &ctx()).is_ok());
    assert!(e.check_new(T0, S, &order(Side::Sell, 9_900, 1), &ctx()).is_ok());
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_101, 1), &ctx()),
        err(C::PriceOutsideCollar, 10_101, 10_000)
    );
    assert_eq!(
        e.check_new(T0, S, &order(Side::Sell, 9_899, 1), &ctx()),
        err(C::PriceOutsideCollar, 9_899, 10_000)
    );
    let none = RiskContext::with_reference(None);
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_100, 1), &none),
        err(C::NoReferencePrice, 10_100, 0)
    );
    let mut cfg = config();
    cfg.no_reference = NoReferenceRule::Allow;
    cfg.firm_limits = vec![(LimitKind::PriceCollarBps, 100)];
    let mut allow = RiskEngine::new(cfg).unwrap();
    assert!(allow.check_new(T0, S, &order(Side::Buy, 99_999, 1), &none).is_ok());
}

#[test]
fn position_limits_count_open_orders() {
    let mut e = engine();
    set(&mut e, CELL, LimitKind::MaxPositionLong, 10);
    set(&mut e, CELL, LimitKind::MaxPositionShort, 8);
    fill(&mut e, Side::Buy, 2); // long 2
    assert!(enter(&mut e, &order(Side::Buy, 10_000, 4)).is_ok());
    // Worst case: 2 + 4 working + 5 = 11.
    assert_eq!(enter(&mut e, &order(Side::Buy, 10_000, 5)), err(C::PositionLongExceedsMax, 11, 10));
    assert!(enter(&mut e, &order(Side::Buy, 10_000, 4)).is_ok());
    // Short side: 2 long − 7 working sells − 4 = −9.
    assert!(enter(&mut e, &order(Side::Sell, 10_000, 7)).is_ok());
    assert_eq!(enter(&mut e, &order(Side::Sell, 10_000, 4)), err(C::PositionShortExceedsMax, 9, 8));
}

#[test]
fn gross_exposure_and_credit_count_open_orders() {
    let mut e = engine();
    // One lot at 10_000 ticks is 1_000_000 value units.
    set(&mut e, LimitScope::Account(A), LimitKind::MaxGrossExposure, 5_000_000);
    set(&mut e, LimitScope::Firm, LimitKind::MaxCredit, 3_000_000);
    assert!(enter(&mut e, &order(Side::Buy, 10_000, 3)).is_ok());
    assert_eq!(
        enter(&mut e, &order(Side::Buy, 10_000, 1)),
        err(C::CreditExceedsMax, 4_000_000, 3_000_000)
    );
    // Sells use no credit but are gross exposure.
    assert!(enter(&mut e, &order(Side::Sell, 10_000, 2)).is_ok());
    assert_eq!(
        enter(&mut e, &order(Side::Sell, 10_000, 1)),
        err(C::GrossExposureExceedsMax, 6_000_000, 5_000_000)
    );
    // A fill moves exposure from the open order to the position, valued at the mark.
    e.on_fill(A, I, Side::Buy, REF, Qty(1));
    assert_eq!(e.account_exposure(A).unwrap().gross_value, 5_000_000);
    e.on_mark(I, Price(20_000));
    assert_eq!(e.account_exposure(A).unwrap().gross_value, 6_000_000);
    assert_eq!(e.firm_exposure().credit_value, 4_000_000);
}

#[test]
fn max_open_orders() {
    let mut e = engine();
    set(&mut e, LimitScope::Account(A), LimitKind::MaxOpenOrders, 2);
    assert!(enter(&mut e, &order(Side::Buy, 10_000, 1)).is_ok());
    assert!(enter(&mut e, &order(Side::Buy, 10_001, 1)).is_ok());
    assert_eq!(enter(&mut e, &order(Side::Buy, 10_002, 1)), err(C::OpenOrdersExceedsMax, 3, 2));
    e.on_order_closed(&OpenOrder {
        account: A,
        instrument: I,
        side: Side::Buy,
        risk_price: Price(10_000),
        leaves: Qty(1),
    });
    assert!(enter(&mut e, &order(Side::Buy, 10_002, 1)).is_ok());
}

#[test]
fn throttles_refill_with_command_time_only() {
    let mut e = engine();
    let session = LimitScope::Session(S);
    set(&mut e, session, LimitKind::NewOrdersPerSec, 2);
    set(&mut e, session, LimitKind::AmendsPerSec, 1);
    set(&mut e, session, LimitKind::CancelsPerSec, 1);
    let o = order(Side::Buy, 10_000, 1);
    let at = |ns: u64| TimestampNs(T0.0 + ns);
    assert!(e.check_new(at(0), S, &o, &ctx()).is_ok());
    assert!(e.check_new(at(1), S, &order(Side::Buy, 10_000, 2), &ctx()).is_ok());
    assert_eq!(e.check_new(at(2), S, &o, &ctx()), err(C::ThrottleNew, 3, 2));
    assert!(e.check_new(at(500_000_001), S, &order(Side::Buy, 10_000, 3), &ctx()).is_ok());
    // Another session has its own bucket.
    assert!(e.check_new(at(2), SessionId(1), &order(Side::Buy, 10_000, 4), &ctx()).is_ok());
    assert_eq!(e.check_cancel(at(0), S), Ok(()));
    assert_eq!(e.check_cancel(at(999_999_999), S), Err(RejectInfo::new(C::ThrottleCancel, 2, 1)));
    assert_eq!(e.check_cancel(at(1_000_000_000), S), Ok(()));
    let r = ReplaceRisk {
        current: OpenOrder {
            account: A,
            instrument: I,
            side: Side::Buy,
            risk_price: REF,
            leaves: Qty(1),
        },
        ord_type: OrdType::Limit,
        flags: OrderFlags::NONE,
        price: REF,
        stop_price: Price(0),
        qty: Qty(1),
        leaves: Qty(1),
        display_qty: Qty(0),
    };
    assert!(e.check_replace(at(0), S, &r, &ctx()).is_ok());
    assert_eq!(e.check_replace(at(1), S, &r, &ctx()), err(C::ThrottleAmend, 2, 1));
}

#[test]
fn duplicate_orders_within_the_window() {
    let mut e = engine();
    set(&mut e, LimitScope::Firm, LimitKind::DuplicateWindowMs, 100);
    let o = order(Side::Buy, 10_000, 7);
    assert!(e.check_new(T0, S, &o, &ctx()).is_ok());
    let later = TimestampNs(T0.0 + 40_000_000);
    assert_eq!(e.check_new(later, S, &o, &ctx()), err(C::DuplicateOrder, 40_000_000, 100_000_000));
    assert!(e.check_new(later, S, &order(Side::Buy, 10_000, 8), &ctx()).is_ok());
    assert!(e.check_new(TimestampNs(T0.0 + 100_000_000), S, &o, &ctx()).is_ok());
}

#[test]
fn self_trade_prevention_modes() {
    let resting = OwnResting { order_id: OrderId(42), price: Price(10_000) };
    let crossing = RiskContext { opposite_own_best: Some(resting), ..ctx() };
    let mut e = engine();
    assert_eq!(
        e.check_new(T0, S, &order(Side::Buy, 10_000, 1), &crossing),
        err(C::SelfTrade, 10_000, 10_000)
    );
    assert_eq!(e.check_new(T0, S, &order(Side::Buy, 9_999, 1), &crossing), ok(9_999));
    for (mode, action) in [
        (StpMode::CancelResting, StpAction::CancelResting(OrderId(42))),
        (StpMode::CancelAggressing, StpAction::CancelAggressing(OrderId(42))),
    ] {
        let mut cfg = config();
        cfg.stp = mode;
        let mut e = RiskEngine::new(cfg).unwrap();
        assert_eq!(
            e.check_new(T0, S, &order(Side::Buy, 10_001, 1), &crossing),
            Ok(Accepted { risk_price: Price(10_001), stp: action })
        );
    }
}

#[test]
fn loss_limits_switch_the_account() {
    let mut e = engine();
    set(&mut e, LimitScope::Account(A), LimitKind::DailyLoss, 1_000);
    set(&mut e, LimitScope::Account(A), LimitKind::MaxDrawdown, 3_000);
    assert_eq!(e.on_account_pnl(A, T0, 500), None); // the day's baseline
    assert_eq!(e.on_account_pnl(A, T0, 1_500), None); // new peak
    let breach = e.on_account_pnl(A, T0, -501).unwrap();
    assert_eq!(breach.state, TradingState::ReducingOnly);
    assert_eq!(breach.reason, RejectInfo::new(C::DailyLossExceeded, 1_001, 1_000));
    assert_eq!(e.trading_state(A), Some(TradingState::ReducingOnly));
    let breach = e.on_account_pnl(A, T0, -1_600).unwrap();
    assert_eq!(breach.state, TradingState::Halted);
    assert_eq!(breach.reason, RejectInfo::new(C::DrawdownExceeded, 3_100, 3_000));
    assert_eq!(e.on_account_pnl(A, T0, -9_000), None, "already halted");
    assert_eq!(e.check_new(T0, S, &order(Side::Buy, 10_000, 1), &ctx()), err(C::Halted, 0, 0));
}

#[test]
fn admin_rejects_nonsense() {
    let mut e = engine();
    fn bad(scope: LimitScope, kind: LimitKind, value: i64) -> Result<(), RejectInfo> {
        engine().set_limit(&SetLimit { scope, kind, value })
    }
    let invalid = |v| Err(RejectInfo::new(C::AdminInvalid, v, 0));
    assert_eq!(bad(LimitScope::Firm, LimitKind::MaxPositionLong, 1), invalid(-1));
    assert_eq!(bad(CELL, LimitKind::MaxOrderQty, -1), invalid(-1));
    assert_eq!(bad(LimitScope::Session(SessionId(4)), LimitKind::NewOrdersPerSec, 1), invalid(4));
    assert_eq!(bad(LimitScope::Account(AccountId(2)), LimitKind::DailyLoss, 1), invalid(2));
    assert_eq!(bad(CELL, LimitKind::Restricted, 7), invalid(7));
    set(&mut e, CELL, LimitKind::MaxOrderQty, 5);
    assert_eq!(e.limit(CELL, LimitKind::MaxOrderQty), Some(5));
}

#[test]
fn replace_counts_only_the_delta() {
    let mut e = engine();
    set(&mut e, CELL, LimitKind::MaxPositionLong, 10);
    assert!(enter(&mut e, &order(Side::Buy, 10_000, 8)).is_ok());
    let current =
        OpenOrder { account: A, instrument: I, side: Side::Buy, risk_price: REF, leaves: Qty(8) };
    let replace = |qty: i64, price: i64| ReplaceRisk {
        current,
        ord_type: OrdType::Limit,
        flags: OrderFlags::NONE,
        price: Price(price),
        stop_price: Price(0),
        qty: Qty(qty),
        leaves: Qty(qty),
        display_qty: Qty(0),
    };
    assert_eq!(e.check_replace(T0, S, &replace(10, 10_000), &ctx()), ok(10_000));
    assert_eq!(
        e.check_replace(T0, S, &replace(11, 10_000), &ctx()),
        err(C::PositionLongExceedsMax, 11, 10)
    );
    // The limit is lowered below what is working: a replace that reduces is still fine.
    set(&mut e, CELL, LimitKind::MaxPositionLong, 5);
    assert_eq!(e.check_replace(T0, S, &replace(6, 10_001), &ctx()), ok(10_001));
    e.on_order_amended(&current, Price(10_001), Qty(6));
    assert_eq!(e.cell_exposure(A, I).unwrap().open_buy_lots, 6);
    assert_eq!(e.cell_exposure(A, I).unwrap().open_buy_value, 10_001 * 6 * VPN as i128);
}

#[test]
fn digest_is_a_function_of_the_inputs() {
    let digest = |e: &RiskEngine| {
        let mut bytes = Vec::new();
        e.digest_into(&mut |b: &[u8]| bytes.extend_from_slice(b));
        bytes
    };
    let run = || {
        let mut e = engine();
        set(&mut e, LimitScope::Firm, LimitKind::DuplicateWindowMs, 10);
        enter(&mut e, &order(Side::Buy, 10_000, 3)).unwrap();
        fill(&mut e, Side::Buy, 1);
        e
    };
    let (a, b) = (run(), run());
    assert_eq!(digest(&a), digest(&b));
    let mut c = run();
    c.on_mark(I, Price(10_001));
    assert_ne!(digest(&a), digest(&c));
}
