//! What the core hands risk about an order, and what risk hands back.

use crate::schema::{NewOrder, OrderFlags};
use crate::{AccountId, InstrumentId, OrdType, OrderId, Price, Qty, Side};

/// The terms of a new order that risk checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrderRisk {
    /// Account.
    pub account: AccountId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// Flags (reduce-only is checked here; post-only is the core's).
    pub flags: OrderFlags,
    /// Limit price, ticks (limit and stop-limit).
    pub price: Price,
    /// Stop price, ticks (stop, stop-limit; trailing stop's initial trigger or zero).
    pub stop_price: Price,
    /// Quantity, lots.
    pub qty: Qty,
    /// Display quantity, lots; zero shows all.
    pub display_qty: Qty,
}

impl NewOrderRisk {
    /// The risk terms of a `NewOrder` command.
    pub fn from_command(o: &NewOrder) -> Self {
        Self {
            account: o.account,
            instrument: o.instrument,
            side: o.side,
            ord_type: o.ord_type,
            flags: o.flags,
            price: o.price,
            stop_price: o.stop_price,
            qty: o.qty,
            display_qty: o.display_qty,
        }
    }
}

/// A cancel/replace: the working order as it is, and its new terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplaceRisk {
    /// The working order as risk counts it now (its risk price and leaves).
    pub current: OpenOrder,
    /// Order type (unchanged by a replace).
    pub ord_type: OrdType,
    /// Flags (unchanged by a replace).
    pub flags: OrderFlags,
    /// New limit price, ticks.
    pub price: Price,
    /// New stop price, ticks.
    pub stop_price: Price,
    /// New total quantity including what has filled, lots (checked against quantity and
    /// notional limits).
    pub qty: Qty,
    /// New leaves quantity (total minus filled), lots (counted in exposure).
    pub leaves: Qty,
    /// New display quantity, lots.
    pub display_qty: Qty,
}

/// A held order being released to its venue: the order as risk counts it, and the terms
/// it goes out with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseRisk {
    /// The held order as risk counts it now (its risk price and leaves).
    pub current: OpenOrder,
    /// The type it goes to the venue as: `Market` (stop, trailing stop) or `Limit`
    /// (stop-limit).
    pub ord_type: OrdType,
    /// Flags (reduce-only is checked).
    pub flags: OrderFlags,
    /// Limit price, ticks (a stop-limit's; zero for a market order).
    pub price: Price,
    /// Total quantity, lots.
    pub qty: Qty,
    /// Display quantity, lots.
    pub display_qty: Qty,
}

/// A working order as risk's exposure counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOrder {
    /// Account.
    pub account: AccountId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// The price risk valued the order at ([`Accepted::risk_price`]).
    pub risk_price: Price,
    /// Unfilled quantity, lots.
    pub leaves: Qty,
}

/// One of the firm's own resting orders, for self-trade prevention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnResting {
    /// Keel's id of the resting order, or zero when the core did not look it up (the
    /// core finds the best own price from an aggregate; the id is needed only to cancel,
    /// and cancel-resting mode cancels every crossing order by walking them).
    pub order_id: OrderId,
    /// Its limit price, ticks.
    pub price: Price,
}

/// Market context the core supplies with each check (all derived from journaled state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskContext {
    /// Reference price: mid, else last trade, else `None`. Also becomes the instrument's
    /// mark for valuing positions.
    pub reference: Option<Price>,
    /// False while the instrument is halted or closed on the venue(s) it would route to.
    pub tradable: bool,
    /// The best-priced working order of the firm (any account) on the opposite side of the
    /// same instrument, if any.
    pub opposite_own_best: Option<OwnResting>,
}

impl RiskContext {
    /// A tradable instrument with this reference and no own opposite order.
    pub const fn with_reference(reference: Option<Price>) -> Self {
        Self { reference, tradable: true, opposite_own_best: None }
    }
}

/// Self-trade prevention decision for an accepted order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StpAction {
    /// No own order would be crossed.
    None,
    /// Cancel the firm's crossing resting orders (starting with this one) before sending.
    CancelResting(OrderId),
    /// Accept, then cancel the new order at once for self-trade (it would hit this one).
    CancelAggressing(OrderId),
}

/// An accepted order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The price risk valued the order at: the limit price, the stop price, or the
    /// reference for market orders. The core keeps it with the order and passes it back in
    /// [`OpenOrder::risk_price`].
    pub risk_price: Price,
    /// What self-trade prevention asks the core to do.
    pub stp: StpAction,
}
