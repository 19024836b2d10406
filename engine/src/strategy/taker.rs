//! Reference strategy `taker`: crosses the spread when the top of book is imbalanced.
//!
//! When the top-of-book imbalance `(bid_qty − ask_qty) / (bid_qty + ask_qty)` (in ppm, see
//! [`MarketView::imbalance_ppm`](crate::strategy::MarketView::imbalance_ppm)) is at least
//! `imbalance_threshold_ppm`, it buys at the best ask (+ `slippage_ticks`); at most
//! `-imbalance_threshold_ppm`, it sells at the best bid (− `slippage_ticks`). Orders are
//! IOC limits of `min(size_lots, room)` lots, where room keeps |position| within
//! `max_position_lots`. After firing it waits `cooldown_ns` and until the order is done
//! (filled, cancelled or rejected) before firing again, so at most one order is in flight.

use crate::schema::OrderFlags;
use crate::strategy::registry::{ParamSpec, parse_params};
use crate::strategy::{
    ClOrdIdSeq, Intent, Intents, OrderUpdate, OrderUpdateKind, OwnFill, Strategy,
    StrategyConfigError, StrategyContext,
};
use crate::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, TimestampNs};

mod snapshot;

/// Parameters of [`Taker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakerParams {
    /// The instrument traded.
    pub instrument: InstrumentId,
    /// Smallest |imbalance| that fires, ppm (1..=1_000_000).
    pub imbalance_threshold_ppm: i64,
    /// Order size, lots.
    pub size_lots: i64,
    /// Largest |position| the orders may lead to, lots.
    pub max_position_lots: i64,
    /// Quiet time after each order, ns.
    pub cooldown_ns: u64,
    /// How far past the touch the IOC limit may trade, ticks.
    pub slippage_ticks: i64,
}

const PARAMS: [ParamSpec; 6] = [
    ParamSpec {
        name: "instrument",
        default: None,
        min: 0,
        max: u32::MAX as i64,
        unit: "instrument id",
    },
    ParamSpec {
        name: "imbalance_threshold_ppm",
        default: Some(600_000),
        min: 1,
        max: 1_000_000,
        unit: "ppm",
    },
    ParamSpec { name: "size_lots", default: Some(1), min: 1, max: 1_000_000_000_000, unit: "lots" },
    ParamSpec {
        name: "max_position_lots",
        default: Some(10),
        min: 1,
        max: 1_000_000_000_000,
        unit: "lots",
    },
    ParamSpec { name: "cooldown_ns", default: Some(1_000_000), min: 0, max: i64::MAX, unit: "ns" },
    ParamSpec {
        name: "slippage_ticks",
        default: Some(0),
        min: 0,
        max: 1_000_000_000,
        unit: "ticks",
    },
];

/// The `taker` reference strategy (see the module docs).
#[derive(Clone, Debug)]
pub struct Taker {
    params: TakerParams,
    instruments: [InstrumentId; 1],
    ids: ClOrdIdSeq,
    in_flight: Option<ClOrdId>,
    quiet_until: TimestampNs,
}

impl Taker {
    /// Registry name.
    pub const NAME: &'static str = "taker";

    /// A taker with nothing in flight.
    pub fn new(params: TakerParams) -> Self {
        debug_assert!(params.size_lots > 0 && params.max_position_lots > 0);
        Self {
            params,
            instruments: [params.instrument],
            ids: ClOrdIdSeq::new(),
            in_flight: None,
            quiet_until: TimestampNs(0),
        }
    }

    /// Builds from configuration text (see [`crate::strategy::build_strategy`]).
    pub fn from_params(given: &[(&str, &str)]) -> Result<Self, StrategyConfigError> {
        let [instrument, threshold, size, max_pos, cooldown, slippage] =
            parse_params(Self::NAME, &PARAMS, given)?;
        Ok(Self::new(TakerParams {
            instrument: InstrumentId(instrument as u32),
            imbalance_threshold_ppm: threshold,
            size_lots: size,
            max_position_lots: max_pos,
            cooldown_ns: cooldown as u64,
            slippage_ticks: slippage,
        }))
    }

    /// The order in flight, if any.
    pub fn in_flight(&self) -> Option<ClOrdId> {
        self.in_flight
    }

    fn try_fire(&mut self, ctx: &StrategyContext<'_>, out: &mut Intents) {
        let p = self.params;
        if self.in_flight.is_some() || ctx.now < self.quiet_until {
            return;
        }
        let Some(view) = ctx.view(p.instrument) else { return };
        let (Some(imbalance), Some((bid, ask))) = (view.market.imbalance_ppm(), view.market.top())
        else {
            return;
        };
        let position = view.position.lots() as i128;
        let max = p.max_position_lots as i128;
        let (side, touch, room) = if imbalance >= p.imbalance_threshold_ppm {
            (Side::Buy, ask.price, max - position)
        } else if imbalance <= -p.imbalance_threshold_ppm {
            (Side::Sell, bid.price, max + position)
        } else {
            return;
        };
        let qty = (p.size_lots as i128).min(room);
        let price = touch.ticks().checked_add(side.sign() * p.slippage_ticks);
        let (true, Some(price)) = (qty > 0, price) else { return };
        let cl_ord_id = self.ids.next_id();
        let intent = Intent::New {
            cl_ord_id,
            instrument: p.instrument,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            flags: OrderFlags::NONE,
            price: Price(price),
            qty: Qty(qty as i64),
        };
        if out.push(intent) {
            self.in_flight = Some(cl_ord_id);
            self.quiet_until = TimestampNs(ctx.now.0.saturating_add(p.cooldown_ns));
        }
    }
}

impl Strategy for Taker {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn instruments(&self) -> &[InstrumentId] {
        &self.instruments
    }

    fn on_book(&mut self, ctx: &StrategyContext<'_>, instrument: InstrumentId, out: &mut Intents) {
        if instrument == self.params.instrument {
            self.try_fire(ctx, out);
        }
    }

    fn on_fill(&mut self, _ctx: &StrategyContext<'_>, fill: &OwnFill, _out: &mut Intents) {
        if self.in_flight == Some(fill.cl_ord_id) && fill.leaves_qty.lots() <= 0 {
            self.in_flight = None;
        }
    }

    fn on_order_update(&mut self, _ctx: &StrategyContext<'_>, u: &OrderUpdate, _out: &mut Intents) {
        let done = matches!(
            u.kind,
            OrderUpdateKind::Canceled | OrderUpdateKind::Expired | OrderUpdateKind::Rejected
        );
        if done && self.in_flight == Some(u.cl_ord_id) {
            self.in_flight = None;
        }
    }

    fn on_timer(&mut self, ctx: &StrategyContext<'_>, _now: TimestampNs, out: &mut Intents) {
        self.try_fire(ctx, out);
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        self.snapshot_state(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.restore_state(bytes)
    }
}
