//! After construction, the order table's steady state performs no heap allocation.
//!
//! A counting global allocator counts allocations made by the current thread only (a
//! thread-local `Cell`), so the test harness's other threads do not interfere.

use keel_engine::orders::{Order, OrderFilter, OrderTable, OrderTableConfig, OrderTerms};
use keel_engine::schema::{Liquidity, NewOrder, OrderFlags, ReplaceOrder, Route, VenueFill};
use keel_engine::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const VENUE: VenueId = VenueId(1);
const ORDERS_MAX: usize = 64;

fn terms(id: u64, cl_n: u64, ord_type: OrdType) -> OrderTerms {
    let new = NewOrder {
        cl_ord_id: ClOrdId::from_u64(cl_n),
        account: AccountId((id % 3) as u32),
        instrument: InstrumentId((id % 5) as u32),
        route: Route::Venue(VENUE),
        side: if id % 2 == 0 { Side::Buy } else { Side::Sell },
        ord_type,
        tif: TimeInForce::Gtc,
        flags: OrderFlags::NONE,
        price: Price(1_000 + (id % 7) as i64),
        stop_price: Price(990),
        trail_ticks: 0,
        qty: Qty(10),
        display_qty: Qty(0),
        expire_at: TimestampNs(0),
    };
    OrderTerms::from_new(OrderId(id), SessionId((id % 4) as u32), VENUE, &new)
}

#[test]
fn steady_state_is_allocation_free() {
    let config =
        OrderTableConfig { orders_max: ORDERS_MAX, cl_ord_id_history: 256, exec_id_history: 256 };
    let mut table = OrderTable::new(config);
    let mut digest_len = 0usize;
    let before = allocations();

    let mut exec_id = 0u64;
    let mut digest_sink = |b: &[u8]| digest_len += b.len();
    for id in 1..=20_000u64 {
        let now = TimestampNs(id);
        let ord_type = if id % 10 == 0 { OrdType::Stop } else { OrdType::Limit };
        table.insert(Order::new(terms(id, id, ord_type), now)).unwrap();
        let session = SessionId((id % 4) as u32);
        assert!(table.check_cl_ord_id(session, ClOrdId::from_u64(id)).is_err());
        assert_eq!(
            table.find_by_cl_ord_id(session, ClOrdId::from_u64(id)).unwrap().id(),
            OrderId(id)
        );

        match id % 10 {
            0 => {
                // Held stop: amend at once, then cancel it.
                let req = ReplaceOrder {
                    cl_ord_id: ClOrdId::from_u64(id + 1_000_000),
                    orig_cl_ord_id: ClOrdId::from_u64(id),
                    account: AccountId(0),
                    price: Price(0),
                    stop_price: Price(980),
                    qty: Qty(8),
                    display_qty: Qty(0),
                };
                table.request_replace(OrderId(id), &req, now).unwrap();
                table.get_mut(OrderId(id)).unwrap().request_cancel(now).unwrap();
            }
            _ => {
                table.get_mut(OrderId(id)).unwrap().apply_venue_ack(id, now).unwrap();
                for qty in [3, 7] {
                    exec_id += 1;
                    let fill = VenueFill {
                        venue: VENUE,
                        order_id: OrderId(id),
                        exec_id,
                        price: Price(1_000),
                        qty: Qty(qty),
                        fee: 0,
                        liquidity: Liquidity::Taker,
                        venue_ts: now,
                    };
                    table.apply_fill(&fill, now).unwrap();
                    assert!(table.apply_fill(&fill, now).is_err(), "duplicate refused");
                }
            }
        }
        // Keep a window of finished orders in the table, then retire the oldest.
        if id > 32 {
            assert!(table.remove(OrderId(id - 32)).is_some());
        }
        if id % 1_000 == 0 {
            let working = table.iter_working(OrderFilter::ALL).count();
            assert_eq!(working, 0);
            table.digest_into(&mut digest_sink);
        }
    }
    let during = allocations() - before;
    assert!(digest_len > 0);
    assert_eq!(during, 0, "steady state allocated {during} times");
}
