//! The checks and hooks never allocate: a thread-local counting allocator sees zero
//! allocations across a steady-state workload once the engine is built.

use keel_engine::risk::{
    InstrumentRisk, NewOrderRisk, OpenOrder, OwnResting, ReplaceRisk, RiskConfig, RiskContext,
    RiskEngine, StpMode,
};
use keel_engine::schema::{
    KillSwitch, KillSwitchAction, LimitKind, LimitScope, OrderFlags, Scope, SetLimit,
    SetTradingState, TradingState,
};
use keel_engine::{
    AccountId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimestampNs,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn steady_state_does_not_allocate() {
    let (a, i, s) = (AccountId(1), InstrumentId(1), SessionId(2));
    let mut cfg = RiskConfig::new(
        vec![InstrumentRisk::unbounded(InstrumentId(0), 1), InstrumentRisk::unbounded(i, 3)],
        4,
        8,
    );
    cfg.stp = StpMode::CancelResting;
    cfg.firm_limits = vec![(LimitKind::DuplicateWindowMs, 1), (LimitKind::PriceCollarBps, 500)];
    cfg.account_defaults = vec![(LimitKind::MaxGrossExposure, i64::MAX / 2)];
    cfg.session_defaults = vec![(LimitKind::NewOrdersPerSec, 1_000_000)];
    let mut e = RiskEngine::new(cfg).unwrap();
    let own = OwnResting { order_id: OrderId(1), price: Price(10_010) };
    let ctx = RiskContext {
        opposite_own_best: Some(own),
        ..RiskContext::with_reference(Some(Price(10_000)))
    };
    let mut digest = 0u64;

    let before = allocations();
    for n in 0..2_000i64 {
        let now = TimestampNs(1_000_000_000_000 + n as u64 * 10_000_000);
        let side = if n % 2 == 0 { Side::Buy } else { Side::Sell };
        let o = NewOrderRisk {
            account: a,
            instrument: i,
            side,
            ord_type: OrdType::Limit,
            flags: OrderFlags::NONE,
            price: Price(9_990 + n % 20),
            stop_price: Price(0),
            qty: Qty(1 + n % 7),
            display_qty: Qty(0),
        };
        let _ = e.check_new(now, s, &NewOrderRisk { account: AccountId(9), ..o }, &ctx);
        let acc = e.check_new(now, s, &o, &ctx).expect("accepted");
        let open = OpenOrder {
            account: a,
            instrument: i,
            side,
            risk_price: acc.risk_price,
            leaves: o.qty,
        };
        e.on_order_open(&open);
        let r = ReplaceRisk {
            current: open,
            ord_type: OrdType::Limit,
            flags: OrderFlags::NONE,
            price: Price(10_000),
            stop_price: Price(0),
            qty: Qty(o.qty.0 + 1),
            leaves: Qty(o.qty.0 + 1),
            display_qty: Qty(0),
        };
        let amended = e.check_replace(now, s, &r, &ctx).expect("replace accepted");
        e.on_order_amended(&open, amended.risk_price, r.leaves);
        e.on_fill(a, i, side, amended.risk_price, Qty(1));
        e.on_order_closed(&OpenOrder {
            risk_price: amended.risk_price,
            leaves: Qty(o.qty.0),
            ..open
        });
        e.check_cancel(now, s).unwrap();
        e.on_mark(i, Price(10_000 + n % 3));
        e.set_limit(&SetLimit {
            scope: LimitScope::Session(s),
            kind: LimitKind::AmendsPerSec,
            value: 1_000 + n,
        })
        .unwrap();
        e.kill_switch(&KillSwitch {
            scope: Scope::Account(AccountId(3)),
            action: KillSwitchAction::Engage,
        })
        .unwrap();
        e.kill_switch(&KillSwitch {
            scope: Scope::Account(AccountId(3)),
            action: KillSwitchAction::Release,
        })
        .unwrap();
        e.set_trading_state(&SetTradingState {
            scope: Scope::Account(AccountId(2)),
            state: TradingState::Active,
        })
        .unwrap();
        let _ = e.on_account_pnl(a, now, i128::from(n));
        e.on_session_logout(SessionId(5));
        e.digest_into(&mut |bytes: &[u8]| {
            for b in bytes {
                digest = digest.rotate_left(5) ^ u64::from(*b);
            }
        });
    }
    let after = allocations();
    assert_eq!(after - before, 0, "risk allocated on the steady-state path");
    assert_ne!(digest, 0);
}
