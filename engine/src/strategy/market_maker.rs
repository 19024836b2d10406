//! Reference strategy `market_maker`: one bid and one ask around the microprice, skewed by
//! inventory.
//!
//! Desired quotes, recomputed on every event from the context:
//! - centre `c = microprice − clamp(skew_ticks_per_lot × position, ±max_skew_ticks)`, so a
//!   long position lowers both quotes (sell more eagerly, buy less) and a short one raises
//!   them;
//! - bid `floor(c − half_spread_ticks)`, ask `ceil(c + half_spread_ticks)` — rounding
//!   outward keeps at least the half spread on both sides, and a flat book with an
//!   integral microprice gets exactly symmetric quotes;
//! - post-only: the bid is kept below the best ask and the ask above the best bid, so the
//!   quotes do not cross and get rejected;
//! - size `min(size_lots, room)`, where room is `max_position_lots − position` for the bid
//!   and `max_position_lots + position` for the ask: a side that would take |position|
//!   beyond the maximum shrinks, and is not quoted once there is no room;
//! - no quotes while either side of the book is empty.
//!
//! Reconciling with what is working, per side, never stacking orders: at most one order
//! per side, and nothing new is sent for a side while a request for it is unanswered (so a
//! slow venue cannot cause a message storm). An idle side gets a new post-only GTC limit;
//! a working quote whose desired price moved by at least `requote_threshold_ticks` (or
//! whose size must shrink) is replaced; a quote that is no longer wanted is cancelled.
//! A side waiting for an answer, or idle with no room to quote, can act on no price: when
//! both sides are such, the desired quotes are not computed at all (the outcome is the
//! same; most calls are such once the position is at its maximum).

use crate::schema::OrderFlags;
use crate::strategy::market::SCALE_X1E6;
use crate::strategy::registry::{ParamSpec, parse_params};
use crate::strategy::{
    ClOrdIdSeq, InstrumentView, Intent, Intents, Level, MarketCalls, OrderUpdate, OrderUpdateKind,
    OwnFill, Strategy, StrategyConfigError, StrategyContext,
};
use crate::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, TimestampNs};

mod snapshot;

/// Parameters of [`MarketMaker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketMakerParams {
    /// The instrument quoted.
    pub instrument: InstrumentId,
    /// Distance of each quote from the (skewed) microprice, ticks.
    pub half_spread_ticks: i64,
    /// Quote size, lots.
    pub size_lots: i64,
    /// Quote shift per lot of position, ticks (towards reducing the position).
    pub skew_ticks_per_lot: i64,
    /// Largest total skew, ticks.
    pub max_skew_ticks: i64,
    /// Largest |position| the quotes may lead to, lots.
    pub max_position_lots: i64,
    /// Smallest move of the desired price that triggers a replace, ticks.
    pub requote_threshold_ticks: i64,
}

const PARAMS: [ParamSpec; 7] = [
    ParamSpec {
        name: "instrument",
        default: None,
        min: 0,
        max: u32::MAX as i64,
        unit: "instrument id",
    },
    ParamSpec {
        name: "half_spread_ticks",
        default: Some(2),
        min: 0,
        max: 1_000_000_000,
        unit: "ticks",
    },
    ParamSpec { name: "size_lots", default: Some(1), min: 1, max: 1_000_000_000_000, unit: "lots" },
    ParamSpec {
        name: "skew_ticks_per_lot",
        default: Some(0),
        min: 0,
        max: 1_000_000_000,
        unit: "ticks per lot",
    },
    ParamSpec {
        name: "max_skew_ticks",
        default: Some(1_000_000),
        min: 0,
        max: 1_000_000_000,
        unit: "ticks",
    },
    ParamSpec {
        name: "max_position_lots",
        default: Some(10),
        min: 1,
        max: 1_000_000_000_000,
        unit: "lots",
    },
    ParamSpec {
        name: "requote_threshold_ticks",
        default: Some(1),
        min: 1,
        max: 1_000_000_000,
        unit: "ticks",
    },
];

/// What is outstanding for one side's quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Nothing: the quote (if any) is working as recorded.
    None,
    /// The new order is not acknowledged yet.
    New,
    /// A replace to `new_id` at `price` for `total_qty` is not answered yet.
    Replace { new_id: ClOrdId, price: Price, total_qty: Qty },
    /// A cancel is not answered yet.
    Cancel,
}

/// One side's quote as the strategy knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quote {
    /// The live order's id; `None` when the side is idle.
    id: Option<ClOrdId>,
    price: Price,
    /// Ordered total including what has filled.
    total_qty: Qty,
    filled_qty: Qty,
    pending: Pending,
}

impl Quote {
    const IDLE: Quote = Quote {
        id: None,
        price: Price(0),
        total_qty: Qty(0),
        filled_qty: Qty(0),
        pending: Pending::None,
    };

    /// True when `id` names this quote's order, under its current or pending new id.
    fn owns(&self, id: ClOrdId) -> bool {
        self.id == Some(id)
            || matches!(self.pending, Pending::Replace { new_id, .. } if new_id == id)
    }
}

/// The `market_maker` reference strategy (see the module docs).
#[derive(Clone, Debug)]
pub struct MarketMaker {
    params: MarketMakerParams,
    instruments: [InstrumentId; 1],
    ids: ClOrdIdSeq,
    /// Index 0 is the bid, 1 the ask.
    quotes: [Quote; 2],
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

const SIDES: [Side; 2] = [Side::Buy, Side::Sell];

/// `a.div_euclid(b)`, in 64-bit arithmetic when `a` fits (the common case: a constant
/// divisor becomes a multiplication there, while a 128-bit division is a library call).
#[inline]
fn div_euclid(a: i128, b: i64) -> i128 {
    debug_assert!(b > 0);
    match i64::try_from(a) {
        Ok(a) => i128::from(a.div_euclid(b)),
        Err(_) => a.div_euclid(i128::from(b)),
    }
}

impl MarketMaker {
    /// Registry name.
    pub const NAME: &'static str = "market_maker";

    /// A market maker with nothing working.
    pub fn new(params: MarketMakerParams) -> Self {
        debug_assert!(params.size_lots > 0 && params.max_position_lots > 0);
        debug_assert!(params.requote_threshold_ticks > 0);
        Self {
            params,
            instruments: [params.instrument],
            ids: ClOrdIdSeq::new(),
            quotes: [Quote::IDLE; 2],
        }
    }

    /// Builds from configuration text (see [`crate::strategy::build_strategy`]).
    pub fn from_params(given: &[(&str, &str)]) -> Result<Self, StrategyConfigError> {
        let [instrument, half, size, skew, max_skew, max_pos, threshold] =
            parse_params(Self::NAME, &PARAMS, given)?;
        Ok(Self::new(MarketMakerParams {
            instrument: InstrumentId(instrument as u32),
            half_spread_ticks: half,
            size_lots: size,
            skew_ticks_per_lot: skew,
            max_skew_ticks: max_skew,
            max_position_lots: max_pos,
            requote_threshold_ticks: threshold,
        }))
    }

    /// The parameters.
    pub fn params(&self) -> &MarketMakerParams {
        &self.params
    }

    /// The working (or pending new) quote on `side`: id, price, leaves quantity.
    pub fn working(&self, side: Side) -> Option<(ClOrdId, Price, Qty)> {
        let q = &self.quotes[side_index(side)];
        q.id.map(|id| (id, q.price, q.total_qty - q.filled_qty))
    }

    /// The desired (price, qty) per side, bid first, from the market and the position.
    #[inline]
    fn desired(&self, view: &InstrumentView) -> [Option<(Price, Qty)>; 2] {
        let (Some(micro), Some((bid, ask))) =
            (view.market.microprice_x1e6_ticks(), view.market.top())
        else {
            return [None, None];
        };
        let position = view.position.lots();
        // The same exact integer arithmetic in 64 bits whenever every step fits (always,
        // but for prices, positions or parameters near the limits of `i64`): 128-bit
        // multiplications and comparisons were half the cost of a requote.
        match self.desired_i64(micro, bid.price.ticks(), ask.price.ticks(), position) {
            Some(desired) => desired,
            None => self.desired_i128(micro, bid, ask, position),
        }
    }

    /// [`Self::desired_i128`] in 64-bit arithmetic; `None` when a step would overflow.
    #[inline]
    fn desired_i64(
        &self,
        micro: i64,
        bid_px: i64,
        ask_px: i64,
        position: i64,
    ) -> Option<[Option<(Price, Qty)>; 2]> {
        let p = &self.params;
        let skew_ticks =
            position.checked_mul(p.skew_ticks_per_lot)?.clamp(-p.max_skew_ticks, p.max_skew_ticks);
        let centre = micro.checked_sub(skew_ticks.checked_mul(SCALE_X1E6)?)?;
        let half = p.half_spread_ticks.checked_mul(SCALE_X1E6)?;
        let bid_quote =
            centre.checked_sub(half)?.div_euclid(SCALE_X1E6).min(ask_px.checked_sub(1)?);
        let ask_quote = -centre.checked_add(half)?.checked_neg()?.div_euclid(SCALE_X1E6);
        let ask_quote = ask_quote.max(bid_px.checked_add(1)?);
        let (max, size) = (p.max_position_lots, p.size_lots);
        let quote = |px: i64, room: i64| {
            let qty = size.min(room);
            (qty > 0).then_some((Price(px), Qty(qty)))
        };
        Some([
            quote(bid_quote, max.checked_sub(position)?),
            quote(ask_quote, max.checked_add(position)?),
        ])
    }

    /// The desired quotes (see the module docs), exact for every input.
    #[cold]
    #[inline(never)]
    fn desired_i128(
        &self,
        micro: i64,
        bid: Level,
        ask: Level,
        position: i64,
    ) -> [Option<(Price, Qty)>; 2] {
        let p = &self.params;
        let position = position as i128;
        let scale = SCALE_X1E6 as i128;
        let skew_ticks = (position * p.skew_ticks_per_lot as i128)
            .clamp(-(p.max_skew_ticks as i128), p.max_skew_ticks as i128);
        let centre = micro as i128 - skew_ticks * scale;
        let half = p.half_spread_ticks as i128 * scale;
        let bid_px = div_euclid(centre - half, SCALE_X1E6).min(ask.price.ticks() as i128 - 1);
        let ask_px = -div_euclid(-(centre + half), SCALE_X1E6);
        let ask_px = ask_px.max(bid.price.ticks() as i128 + 1);
        let max = p.max_position_lots as i128;
        let size = p.size_lots as i128;
        let quote = |px: i128, room: i128| -> Option<(Price, Qty)> {
            let qty = size.min(room);
            if qty <= 0 {
                return None;
            }
            Some((Price(i64::try_from(px).ok()?), Qty(qty as i64)))
        };
        [quote(bid_px, max - position), quote(ask_px, max + position)]
    }

    /// Brings both sides towards the desired quotes.
    ///
    /// Always inlined, the work out of line: a side waiting for an answer sends nothing
    /// (see `reconcile`), and an idle side with no room to quote has nothing to send, so
    /// when neither side can act on a price (see `needs_price`) the desired quotes — most
    /// of a requote's work — need not be computed. Most calls of a backtest with venue
    /// latency are such: both sides waiting, or, once the position is at its maximum, the
    /// side that would grow it idle and the other waiting. (A book update that leaves the
    /// view as it was is not even called: see `market_calls`.)
    #[inline(always)]
    fn requote(&mut self, ctx: &StrategyContext<'_>, out: &mut Intents) {
        if self.quotes[0].pending != Pending::None && self.quotes[1].pending != Pending::None {
            return;
        }
        let view = ctx.view(self.params.instrument);
        if let Some(view) = view
            && !self.needs_price(0, view)
            && !self.needs_price(1, view)
        {
            return;
        }
        self.requote_sides(view, out);
    }

    /// [`Self::requote`] when a side may act: reconciles both with the desired quotes
    /// from `view` (none without a view).
    #[inline(never)]
    fn requote_sides(&mut self, view: Option<&InstrumentView>, out: &mut Intents) {
        let desired = match view {
            Some(view) => self.desired(view),
            None => [None, None],
        };
        for (i, side) in SIDES.into_iter().enumerate() {
            self.reconcile(side, desired[i], out);
        }
    }

    /// False when `reconcile` of side `i` (0 bid, 1 ask) would do nothing whatever the
    /// desired price: the side waits for an answer, or it is idle and has no room to quote
    /// (the desired quote is `None` then: its size `min(size_lots, room)` is not positive,
    /// exactly as `desired` computes it, in every width).
    #[inline(always)]
    fn needs_price(&self, i: usize, view: &InstrumentView) -> bool {
        let q = &self.quotes[i];
        if q.pending != Pending::None {
            return false;
        }
        if q.id.is_some() {
            return true;
        }
        let p = &self.params;
        let (max, position) = (i128::from(p.max_position_lots), i128::from(view.position.lots()));
        let room = if i == 0 { max - position } else { max + position };
        i128::from(p.size_lots).min(room) > 0
    }

    fn reconcile(&mut self, side: Side, desired: Option<(Price, Qty)>, out: &mut Intents) {
        let i = side_index(side);
        let instrument = self.params.instrument;
        // Read in place: a quote with its ids is 120 bytes, and most calls change nothing.
        let q = &self.quotes[i];
        if q.pending != Pending::None {
            return; // wait for the answer before asking again
        }
        let next = match (&q.id, desired) {
            (None, None) => return,
            (None, Some((price, qty))) => {
                let cl_ord_id = self.ids.next_id();
                let intent = Intent::New {
                    cl_ord_id,
                    instrument,
                    side,
                    ord_type: OrdType::Limit,
                    tif: TimeInForce::Gtc,
                    flags: OrderFlags::POST_ONLY,
                    price,
                    qty,
                };
                if !out.push(intent) {
                    return;
                }
                Quote {
                    id: Some(cl_ord_id),
                    price,
                    total_qty: qty,
                    filled_qty: Qty(0),
                    pending: Pending::New,
                }
            }
            (&Some(id), None) => {
                if !out.push(Intent::Cancel { cl_ord_id: id, request_id: self.ids.next_id() }) {
                    return;
                }
                Quote { pending: Pending::Cancel, ..*q }
            }
            (Some(id), Some((price, qty))) => {
                let leaves = q.total_qty - q.filled_qty;
                // The distance is exact in `u64`; a threshold below 1 (refused by the
                // parameters) counts every move.
                let distance = price.ticks().abs_diff(q.price.ticks());
                let moved = u64::try_from(self.params.requote_threshold_ticks)
                    .map_or(true, |threshold| distance >= threshold);
                if !moved && qty >= leaves {
                    return;
                }
                let (id, q_copy) = (*id, *q);
                let new_id = self.ids.next_id();
                let total_qty = q_copy.filled_qty + qty;
                if !out.push(Intent::Replace {
                    cl_ord_id: id,
                    new_cl_ord_id: new_id,
                    price,
                    qty: total_qty,
                }) {
                    return;
                }
                Quote { pending: Pending::Replace { new_id, price, total_qty }, ..q_copy }
            }
        };
        self.quotes[i] = next;
    }
}

impl Strategy for MarketMaker {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn instruments(&self) -> &[InstrumentId] {
        &self.instruments
    }

    fn on_book(&mut self, ctx: &StrategyContext<'_>, instrument: InstrumentId, out: &mut Intents) {
        if instrument == self.params.instrument {
            self.requote(ctx, out);
        }
    }

    /// `on_book` is a requote: a function of the view and the quotes only, and a second
    /// requote on the same view finds every side either pending or already as desired
    /// (the two intents of a call always fit an emptied buffer). Trades are not read.
    fn market_calls(&self) -> MarketCalls {
        MarketCalls { unchanged_views: false, trades: false }
    }

    fn on_fill(&mut self, ctx: &StrategyContext<'_>, fill: &OwnFill, out: &mut Intents) {
        let q = &mut self.quotes[side_index(fill.side)];
        if fill.instrument == self.params.instrument && q.owns(fill.cl_ord_id) {
            q.filled_qty += fill.qty;
            if fill.leaves_qty.lots() <= 0 {
                *q = Quote::IDLE;
            }
        }
        self.requote(ctx, out);
    }

    fn on_order_update(&mut self, ctx: &StrategyContext<'_>, u: &OrderUpdate, out: &mut Intents) {
        let q = &mut self.quotes[side_index(u.side)];
        if u.instrument == self.params.instrument {
            apply_update(q, u);
        }
        // A rejected quote is not retried at once: whatever refused it (a limit, a kill
        // switch, a full table) still holds within the same instant, and answering each
        // reject with a new order would spin. The next book update or timer requotes.
        if u.kind != OrderUpdateKind::Rejected {
            self.requote(ctx, out);
        }
    }

    fn on_timer(&mut self, ctx: &StrategyContext<'_>, _now: TimestampNs, out: &mut Intents) {
        self.requote(ctx, out);
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        self.snapshot_state(out);
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.restore_state(bytes)
    }
}

/// Applies an order update to the quote it concerns; updates for other orders are ignored.
fn apply_update(q: &mut Quote, u: &OrderUpdate) {
    match u.kind {
        OrderUpdateKind::Acked => {
            if q.id == Some(u.cl_ord_id) && q.pending == Pending::New {
                q.pending = Pending::None;
                q.price = u.price;
            }
        }
        OrderUpdateKind::Replaced => {
            if let Pending::Replace { new_id, price, total_qty } = q.pending {
                if new_id == u.cl_ord_id {
                    *q = Quote { id: Some(new_id), price, total_qty, pending: Pending::None, ..*q };
                    if u.price != price {
                        q.price = u.price;
                    }
                }
            }
        }
        OrderUpdateKind::Canceled | OrderUpdateKind::Expired => {
            if q.owns(u.cl_ord_id) {
                *q = Quote::IDLE;
            }
        }
        OrderUpdateKind::Rejected => {
            if q.id == Some(u.cl_ord_id) {
                *q = Quote::IDLE;
            } else if q.owns(u.cl_ord_id) {
                // A refused replace: the order keeps working as it was.
                q.pending = Pending::None;
            }
        }
        OrderUpdateKind::CancelRejected => {
            let names_order = u.orig_cl_ord_id.is_some_and(|orig| q.id == Some(orig));
            if names_order || q.owns(u.cl_ord_id) {
                q.pending = Pending::None;
            }
        }
    }
    debug_assert!(q.filled_qty <= q.total_qty, "filled beyond ordered: {q:?}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;
    use crate::strategy::{MarketView, Strategy};
    use proptest::prelude::*;
    use proptest::strategy::Strategy as _;

    /// What `market_calls` vouches for (`unchanged_views: false`): right after any
    /// `on_book`, a second one on the same view does nothing and changes nothing — on book
    /// updates drawn from a few views (so they repeat), fills and answers to its own
    /// requests.
    #[test]
    fn a_second_on_book_on_the_same_view_does_nothing() {
        let params = MarketMakerParams {
            instrument: InstrumentId(0),
            half_spread_ticks: 2,
            size_lots: 5,
            skew_ticks_per_lot: 1,
            max_skew_ticks: 10,
            max_position_lots: 20,
            requote_threshold_ticks: 1,
        };
        let views = [
            MarketView::two_sided((100, 5), (104, 5)),
            MarketView::two_sided((100, 1), (104, 9)),
            MarketView::two_sided((101, 5), (104, 5)),
            MarketView { best_ask: None, ..MarketView::two_sided((100, 5), (104, 5)) },
        ];
        proptest!(|(steps in proptest::collection::vec((0usize..4, 0u8..6, 0i64..3), 1..200))| {
            let mut mm = MarketMaker::new(params);
            let (mut a, mut b) = (Intents::with_capacity(8), Intents::with_capacity(8));
            let mut position = Qty(0);
            for (v, event, n) in steps {
                let view = InstrumentView { instrument: InstrumentId(0), market: views[v], position };
                let ctx = StrategyContext { now: TimestampNs(1), account: AccountId(0), views: std::slice::from_ref(&view) };
                // Answer the last intents as a venue might, then a book update.
                let last: Vec<Intent> = a.as_slice().to_vec();
                a.clear();
                for intent in last {
                    let (kind, cl_ord_id, orig, side, price, leaves) = match intent {
                        Intent::New { cl_ord_id, side, price, qty, .. } => (OrderUpdateKind::Acked, cl_ord_id, None, side, price, qty),
                        Intent::Replace { cl_ord_id, new_cl_ord_id, price, qty } => {
                            let i = if mm.quotes[0].owns(cl_ord_id) { 0 } else { 1 };
                            let side = if i == 0 { Side::Buy } else { Side::Sell };
                            // As the core does: a replace to no more than is filled is refused.
                            let kind = if qty <= mm.quotes[i].filled_qty {
                                OrderUpdateKind::Rejected
                            } else {
                                OrderUpdateKind::Replaced
                            };
                            (kind, new_cl_ord_id, Some(cl_ord_id), side, price, qty)
                        }
                        Intent::Cancel { cl_ord_id, .. } => {
                            let side = if mm.quotes[0].owns(cl_ord_id) { Side::Buy } else { Side::Sell };
                            (OrderUpdateKind::Canceled, cl_ord_id, None, side, Price(0), Qty(0))
                        }
                    };
                    let u = OrderUpdate { kind, cl_ord_id, orig_cl_ord_id: orig, instrument: InstrumentId(0), side, price, leaves_qty: leaves };
                    if event == 5 {
                        continue; // the venue has not answered yet
                    }
                    mm.on_order_update(&ctx, &u, &mut a);
                    }
                // A venue never fills more than is left: no fill when nothing is.
                if event == 4
                    && let Some((id, price, leaves)) = mm.working(Side::Buy)
                    && leaves.lots() > 0
                {
                    let qty = Qty(n.min(leaves.lots()).max(1));
                    position += qty;
                    let fill = OwnFill {
                        cl_ord_id: id, instrument: InstrumentId(0), side: Side::Buy, price, qty,
                        leaves_qty: leaves - qty, fee: 0, liquidity: crate::schema::Liquidity::Maker,
                    };
                    mm.on_fill(&ctx, &fill, &mut a);
                    }
                mm.on_book(&ctx, InstrumentId(0), &mut a);
                let (quotes, issued) = (mm.quotes, mm.ids.issued());
                b.clear();
                mm.on_book(&ctx, InstrumentId(0), &mut b);
                prop_assert!(b.is_empty(), "a second on_book sent {:?}", b.as_slice());
                prop_assert_eq!(mm.quotes, quotes);
                prop_assert_eq!(mm.ids.issued(), issued);
            }
        });
    }

    /// Small values and values near the limits of `i64`, so both the fast path and its
    /// overflow fallback are exercised.
    fn any_i64() -> impl proptest::strategy::Strategy<Value = i64> {
        prop_oneof![
            -1_000_000i64..1_000_000,
            any::<i64>(),
            (0i64..3).prop_map(|k| i64::MAX - k),
            (0i64..3).prop_map(|k| i64::MIN + k),
        ]
    }

    proptest! {
        /// The 64-bit desired quotes, whenever they are computed, equal the 128-bit ones.
        #[test]
        fn the_64_bit_quotes_equal_the_128_bit_ones(
            micro in any_i64(),
            (bid, ask) in (any_i64(), any_i64()),
            position in any_i64(),
            half in 0i64..1_000_000_000,
            size in 1i64..1_000_000_000_000,
            skew in 0i64..1_000_000_000,
            max_skew in 0i64..1_000_000_000,
            max_pos in 1i64..1_000_000_000_000,
        ) {
            let mm = MarketMaker::new(MarketMakerParams {
                instrument: InstrumentId(0),
                half_spread_ticks: half,
                size_lots: size,
                skew_ticks_per_lot: skew,
                max_skew_ticks: max_skew,
                max_position_lots: max_pos,
                requote_threshold_ticks: 1,
            });
            let level = |price| Level { price: Price(price), qty: Qty(1) };
            let (b, a) = (level(bid), level(ask));
            if let Some(fast) = mm.desired_i64(micro, bid, ask, position) {
                prop_assert_eq!(fast, mm.desired_i128(micro, b, a, position));
            }
        }
    }

    #[test]
    fn the_64_bit_quotes_are_taken_on_ordinary_inputs() {
        let mm = MarketMaker::new(MarketMakerParams {
            instrument: InstrumentId(0),
            half_spread_ticks: 1,
            size_lots: 10,
            skew_ticks_per_lot: 1,
            max_skew_ticks: 5,
            max_position_lots: 20,
            requote_threshold_ticks: 1,
        });
        let level = |price| Level { price: Price(price), qty: Qty(1) };
        let (bid, ask) = (level(9_990), level(10_020));
        let fast = mm.desired_i64(10_000_400_000, bid.price.ticks(), ask.price.ticks(), -3);
        assert_eq!(fast, Some(mm.desired_i128(10_000_400_000, bid, ask, -3)));
        assert_eq!(
            fast,
            Some([Some((Price(10_002), Qty(10))), Some((Price(10_005), Qty(10)))]),
            "short 3: centre 10 003.4, bid floor(10 002.4), ask ceil(10 004.4)"
        );
    }

    #[test]
    fn the_64_bit_rounding_equals_the_128_bit_one() {
        let s = SCALE_X1E6 as i128;
        let edges = [0, 1, -1, s - 1, s, s + 1, -s + 1, -s, -s - 1, 123_456_789, -987_654_321];
        let wide = [i64::MAX as i128, i64::MIN as i128, i64::MAX as i128 + 1, i64::MIN as i128 - 1];
        for x in edges.into_iter().chain(wide) {
            assert_eq!(div_euclid(x, SCALE_X1E6), x.div_euclid(s), "{x}");
        }
    }

    /// The shortcut in `requote`: when neither side needs a price (waiting for an answer,
    /// or idle with no room), reconciling with the desired quotes would send nothing and
    /// change nothing — over positions at and beyond the maximum, sizes, books and every
    /// mix of idle, working and waiting sides.
    #[test]
    fn no_side_needing_a_price_means_a_requote_does_nothing() {
        let strategy = (1i64..25, 1i64..25, -30i64..30, 0u8..5, 0u8..5, 0i64..20, 0i64..20);
        let skipped = std::cell::Cell::new(0u32);
        proptest!(|((max_pos, size, position, bid_state, ask_state, bq, aq) in strategy)| {
            let mut mm = MarketMaker::new(MarketMakerParams {
                instrument: InstrumentId(0),
                half_spread_ticks: 1,
                size_lots: size,
                skew_ticks_per_lot: 1,
                max_skew_ticks: 5,
                max_position_lots: max_pos,
                requote_threshold_ticks: 1,
            });
            for (i, state) in [bid_state, ask_state].into_iter().enumerate() {
                let id = mm.ids.next_id();
                let working = Quote {
                    id: Some(id),
                    price: Price(100 + i as i64),
                    total_qty: Qty(size),
                    filled_qty: Qty(0),
                    pending: Pending::None,
                };
                mm.quotes[i] = match state {
                    0 => Quote::IDLE,
                    1 => working,
                    2 => Quote { pending: Pending::New, ..working },
                    3 => Quote { pending: Pending::Cancel, ..working },
                    _ => Quote {
                        pending: Pending::Replace { new_id: id, price: Price(99), total_qty: Qty(1) },
                        ..working
                    },
                };
            }
            let view = InstrumentView {
                instrument: InstrumentId(0),
                market: MarketView::two_sided((100, bq), (103, aq)),
                position: Qty(position),
            };
            if !mm.needs_price(0, &view) && !mm.needs_price(1, &view) {
                skipped.set(skipped.get() + 1);
                let (quotes, issued) = (mm.quotes, mm.ids.issued());
                let mut out = Intents::with_capacity(8);
                mm.requote_sides(Some(&view), &mut out);
                prop_assert!(out.is_empty());
                prop_assert_eq!(mm.quotes, quotes);
                prop_assert_eq!(mm.ids.issued(), issued);
            }
        });
        assert!(skipped.get() > 0, "no case exercised the shortcut");
    }
}
