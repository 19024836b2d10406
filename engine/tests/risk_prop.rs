//! Property test: random streams of new orders, replaces, fills, closes, marks, limit
//! changes, trading-state changes and kill switches. After every step:
//! - risk's exposure aggregates equal a recomputation from scratch over the model's open
//!   orders, positions and marks;
//! - an order risk accepted breaches no limit in force at that moment (checked against the
//!   same recomputation).

use keel_engine::risk::{
    InstrumentRisk, NO_LIMIT, NewOrderRisk, OpenOrder, ReplaceRisk, RiskConfig, RiskContext,
    RiskEngine,
};
use keel_engine::schema::{
    KillSwitch, KillSwitchAction, LimitKind, LimitScope, OrderFlags, Scope, SetLimit,
    SetTradingState, TradingState,
};
use keel_engine::{AccountId, InstrumentId, OrdType, Price, Qty, SessionId, Side, TimestampNs};
use proptest::prelude::*;

const ACCOUNTS: u32 = 2;
const INSTRUMENTS: u32 = 2;
const SESSIONS: u32 = 2;
const VPN: [i64; 2] = [1, 3];

#[derive(Clone, Debug)]
enum Op {
    New {
        account: u32,
        instrument: u32,
        buy: bool,
        market: bool,
        reduce_only: bool,
        price: i64,
        qty: i64,
        reference: Option<i64>,
        session: u32,
    },
    Replace {
        pick: usize,
        price: i64,
        qty: i64,
    },
    Fill {
        pick: usize,
        qty: i64,
    },
    Close {
        pick: usize,
    },
    Mark {
        instrument: u32,
        price: i64,
    },
    Limit {
        scope: u8,
        id: u32,
        instrument: u32,
        kind: u8,
        value: i64,
    },
    State {
        account: Option<u32>,
        state: u8,
    },
    Kill {
        scope: u8,
        id: u32,
        engage: bool,
    },
    Wait {
        ns: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let px = 9_500i64..10_500;
    prop_oneof![
        6 => (0..ACCOUNTS, 0..INSTRUMENTS, any::<bool>(), prop::bool::weighted(0.15), prop::bool::weighted(0.1), px.clone(), 1i64..25, prop::option::weighted(0.85, 9_800i64..10_200), 0..SESSIONS)
            .prop_map(|(account, instrument, buy, market, reduce_only, price, qty, reference, session)| Op::New { account, instrument, buy, market, reduce_only, price, qty, reference, session }),
        2 => (any::<usize>(), px.clone(), 1i64..25).prop_map(|(pick, price, qty)| Op::Replace { pick, price, qty }),
        3 => (any::<usize>(), 1i64..25).prop_map(|(pick, qty)| Op::Fill { pick, qty }),
        2 => any::<usize>().prop_map(|pick| Op::Close { pick }),
        1 => (0..INSTRUMENTS, px).prop_map(|(instrument, price)| Op::Mark { instrument, price }),
        3 => (0u8..4, 0..ACCOUNTS.max(SESSIONS), 0..INSTRUMENTS, 1u8..=15, prop_oneof![0i64..60, 0i64..3_000_000, Just(NO_LIMIT)])
            .prop_map(|(scope, id, instrument, kind, value)| Op::Limit { scope, id, instrument, kind, value }),
        1 => (prop::option::of(0..ACCOUNTS), prop_oneof![3 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)]).prop_map(|(account, state)| Op::State { account, state }),
        1 => (0u8..3, 0..ACCOUNTS.min(SESSIONS), prop::bool::weighted(0.3)).prop_map(|(scope, id, engage)| Op::Kill { scope, id, engage }),
        1 => (0u64..2_000_000_000).prop_map(|ns| Op::Wait { ns }),
    ]
}

fn kind_of(k: u8) -> LimitKind {
    keel_engine::risk::limits::ALL_KINDS[usize::from(k - 1)]
}

/// The reference model: what risk's aggregates must equal.
#[derive(Default)]
struct Model {
    open: Vec<OpenOrder>,
    position: [[i64; INSTRUMENTS as usize]; ACCOUNTS as usize],
    marks: [Option<i64>; INSTRUMENTS as usize],
}

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Sums {
    gross: i128,
    credit: i128,
    orders: u32,
}

impl Model {
    fn value(o: &OpenOrder) -> i128 {
        o.risk_price.notional(o.leaves).abs() * i128::from(VPN[o.instrument.index()])
    }

    /// (open buy lots, open sell lots, open buy value, open sell value, orders) of a cell.
    fn cell(&self, a: usize, i: usize) -> (i64, i64, i128, i128, u32) {
        let mut r = (0, 0, 0, 0, 0);
        for o in self.open.iter().filter(|o| o.account.index() == a && o.instrument.index() == i) {
            match o.side {
                Side::Buy => (r.0 += o.leaves.0, r.2 += Self::value(o)),
                Side::Sell => (r.1 += o.leaves.0, r.3 += Self::value(o)),
            };
            r.4 += 1;
        }
        r
    }

    fn sums(&self, account: Option<usize>) -> Sums {
        let mut s = Sums::default();
        for a in 0..ACCOUNTS as usize {
            if account.is_some_and(|x| x != a) {
                continue;
            }
            for (i, (vpn, mark)) in VPN.iter().zip(self.marks).enumerate() {
                let (_, _, bv, sv, n) = self.cell(a, i);
                let pos = self.position[a][i];
                let mark = i128::from(mark.unwrap_or(0)).abs() * i128::from(*vpn);
                s.gross += i128::from(pos).abs() * mark + bv + sv;
                s.credit += i128::from(pos.max(0)) * mark + bv;
                s.orders += n;
            }
        }
        s
    }

    fn check_aggregates(&self, e: &RiskEngine) -> Result<(), TestCaseError> {
        for a in 0..ACCOUNTS as usize {
            for i in 0..INSTRUMENTS as usize {
                let c = e.cell_exposure(AccountId(a as u32), InstrumentId(i as u32)).unwrap();
                let (bl, sl, bv, sv, n) = self.cell(a, i);
                prop_assert_eq!(
                    (
                        c.position_lots,
                        c.open_buy_lots,
                        c.open_sell_lots,
                        c.open_buy_value,
                        c.open_sell_value,
                        c.open_orders
                    ),
                    (self.position[a][i], bl, sl, bv, sv, n)
                );
            }
            let agg = e.account_exposure(AccountId(a as u32)).unwrap();
            let got =
                Sums { gross: agg.gross_value, credit: agg.credit_value, orders: agg.open_orders };
            prop_assert_eq!(got, self.sums(Some(a)));
        }
        let f = e.firm_exposure();
        prop_assert_eq!(
            Sums { gross: f.gross_value, credit: f.credit_value, orders: f.open_orders },
            self.sums(None)
        );
        Ok(())
    }

    /// After `o` was accepted and opened: every limit in force still holds for it.
    fn check_accepted(
        &self,
        e: &RiskEngine,
        o: &OpenOrder,
        qty: i64,
        new_order: bool,
    ) -> Result<(), TestCaseError> {
        let (a, i) = (o.account, o.instrument);
        let scopes =
            [LimitScope::AccountInstrument(a, i), LimitScope::Account(a), LimitScope::Firm];
        let lim = |scope, kind| e.limit(scope, kind).unwrap_or(NO_LIMIT);
        for scope in scopes {
            prop_assert!(qty <= lim(scope, LimitKind::MaxOrderQty));
        }
        prop_assert!(
            o.risk_price.notional(Qty(qty)).abs()
                <= i128::from(lim(scopes[0], LimitKind::MaxOrderNotional))
        );
        let value = o.risk_price.notional(Qty(qty)).abs() * i128::from(VPN[i.index()]);
        prop_assert!(value <= i128::from(lim(scopes[1], LimitKind::MaxOrderNotional)));
        prop_assert!(value <= i128::from(lim(scopes[2], LimitKind::MaxOrderNotional)));
        prop_assert!(e.trading_state(a) != Some(TradingState::Halted));
        prop_assert!(!e.kill_engaged(Scope::Firm) && !e.kill_engaged(Scope::Account(a)));
        if !new_order {
            return Ok(());
        }
        let (bl, sl, _, _, n) = self.cell(a.index(), i.index());
        let pos = self.position[a.index()][i.index()];
        match o.side {
            Side::Buy => prop_assert!(pos + bl <= lim(scopes[0], LimitKind::MaxPositionLong)),
            Side::Sell => prop_assert!(sl - pos <= lim(scopes[0], LimitKind::MaxPositionShort)),
        }
        prop_assert!(lim(scopes[0], LimitKind::Restricted) != 1);
        prop_assert!(i64::from(n) <= lim(scopes[0], LimitKind::MaxOpenOrders));
        for (scope, sums) in [(scopes[1], self.sums(Some(a.index()))), (scopes[2], self.sums(None))]
        {
            prop_assert!(sums.gross <= i128::from(lim(scope, LimitKind::MaxGrossExposure)));
            if o.side == Side::Buy {
                prop_assert!(sums.credit <= i128::from(lim(scope, LimitKind::MaxCredit)));
            }
            prop_assert!(i64::from(sums.orders) <= lim(scope, LimitKind::MaxOpenOrders));
        }
        Ok(())
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let instruments = (0..INSTRUMENTS)
        .map(|i| InstrumentRisk::unbounded(InstrumentId(i), VPN[i as usize]))
        .collect();
    let mut cfg = RiskConfig::new(instruments, ACCOUNTS, SESSIONS);
    cfg.firm_limits = vec![(LimitKind::MaxGrossExposure, 4_000_000)];
    cfg.account_instrument_defaults =
        vec![(LimitKind::MaxPositionLong, 40), (LimitKind::MaxPositionShort, 40)];
    let mut e = RiskEngine::new(cfg).unwrap();
    let mut m = Model::default();
    let mut now = TimestampNs(1_700_000_000_000_000_000);
    for op in ops {
        now = TimestampNs(now.0 + 1_000);
        match op {
            Op::New {
                account,
                instrument,
                buy,
                market,
                reduce_only,
                price,
                qty,
                reference,
                session,
            } => {
                let side = if buy { Side::Buy } else { Side::Sell };
                let order = NewOrderRisk {
                    account: AccountId(account),
                    instrument: InstrumentId(instrument),
                    side,
                    ord_type: if market { OrdType::Market } else { OrdType::Limit },
                    flags: if reduce_only { OrderFlags::REDUCE_ONLY } else { OrderFlags::NONE },
                    price: Price(if market { 0 } else { price }),
                    stop_price: Price(0),
                    qty: Qty(qty),
                    display_qty: Qty(0),
                };
                let ctx = RiskContext::with_reference(reference.map(Price));
                if let Some(r) = reference {
                    m.marks[instrument as usize] = Some(r);
                }
                let state = e.trading_state(order.account).unwrap();
                let pos = m.position[account as usize][instrument as usize];
                let (bl, sl, ..) = m.cell(account as usize, instrument as usize);
                if let Ok(acc) = e.check_new(now, SessionId(session), &order, &ctx) {
                    if state == TradingState::ReducingOnly || reduce_only {
                        let reduces = match side {
                            Side::Buy => pos < 0 && pos + bl + qty <= 0,
                            Side::Sell => pos > 0 && pos - sl - qty >= 0,
                        };
                        prop_assert!(reduces, "accepted a non-reducing order");
                    }
                    prop_assert!(!e.kill_engaged(Scope::Session(SessionId(session))));
                    let o = OpenOrder {
                        account: order.account,
                        instrument: order.instrument,
                        side,
                        risk_price: acc.risk_price,
                        leaves: order.qty,
                    };
                    e.on_order_open(&o);
                    m.open.push(o);
                    m.check_accepted(&e, &o, qty, true)?;
                }
            }
            Op::Replace { pick, price, qty } if !m.open.is_empty() => {
                let k = pick % m.open.len();
                let current = m.open[k];
                let r = ReplaceRisk {
                    current,
                    ord_type: OrdType::Limit,
                    flags: OrderFlags::NONE,
                    price: Price(price),
                    stop_price: Price(0),
                    qty: Qty(qty),
                    leaves: Qty(qty),
                    display_qty: Qty(0),
                };
                let ctx =
                    RiskContext::with_reference(m.marks[current.instrument.index()].map(Price));
                let before = m.sums(None).gross;
                if let Ok(acc) = e.check_replace(now, SessionId(0), &r, &ctx) {
                    e.on_order_amended(&current, acc.risk_price, Qty(qty));
                    m.open[k] =
                        OpenOrder { risk_price: acc.risk_price, leaves: Qty(qty), ..current };
                    m.check_accepted(&e, &m.open[k], qty, false)?;
                    let after = m.sums(None).gross;
                    if after > before {
                        prop_assert!(
                            after
                                <= i128::from(
                                    e.limit(LimitScope::Firm, LimitKind::MaxGrossExposure).unwrap()
                                )
                        );
                    }
                }
            }
            Op::Fill { pick, qty } if !m.open.is_empty() => {
                let k = pick % m.open.len();
                let o = m.open[k];
                let q = qty.min(o.leaves.0);
                e.on_fill(o.account, o.instrument, o.side, o.risk_price, Qty(q));
                m.position[o.account.index()][o.instrument.index()] += o.side.sign() * q;
                m.open[k].leaves = Qty(o.leaves.0 - q);
                if m.open[k].leaves.0 == 0 {
                    e.on_order_closed(&m.open[k]);
                    m.open.swap_remove(k);
                }
            }
            Op::Close { pick } if !m.open.is_empty() => {
                let o = m.open.swap_remove(pick % m.open.len());
                e.on_order_closed(&o);
            }
            Op::Mark { instrument, price } => {
                e.on_mark(InstrumentId(instrument), Price(price));
                m.marks[instrument as usize] = Some(price);
            }
            Op::Limit { scope, id, instrument, kind, value } => {
                let scope = match scope {
                    0 => LimitScope::Firm,
                    1 => LimitScope::Account(AccountId(id)),
                    2 => LimitScope::AccountInstrument(AccountId(id), InstrumentId(instrument)),
                    _ => LimitScope::Session(SessionId(id)),
                };
                let kind = kind_of(kind);
                // Keep the duplicate window short so it does not swallow the stream.
                let value = if kind == LimitKind::DuplicateWindowMs { value % 5 } else { value };
                let _ = e.set_limit(&SetLimit { scope, kind, value });
            }
            Op::State { account, state } => {
                let scope = account.map_or(Scope::Firm, |a| Scope::Account(AccountId(a)));
                let state =
                    [TradingState::Active, TradingState::ReducingOnly, TradingState::Halted]
                        [usize::from(state)];
                e.set_trading_state(&SetTradingState { scope, state }).unwrap();
            }
            Op::Kill { scope, id, engage } => {
                let scope = match scope {
                    0 => Scope::Firm,
                    1 => Scope::Account(AccountId(id)),
                    _ => Scope::Session(SessionId(id)),
                };
                let action =
                    if engage { KillSwitchAction::Engage } else { KillSwitchAction::Release };
                let r = e.kill_switch(&KillSwitch { scope, action }).unwrap();
                prop_assert_eq!(r, engage.then_some(scope));
            }
            Op::Wait { ns } => now = TimestampNs(now.0 + ns),
            _ => {}
        }
        m.check_aggregates(&e)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accepted_orders_respect_limits_and_aggregates_stay_exact(ops in prop::collection::vec(op(), 1..150)) {
        run(ops)?;
    }
}
