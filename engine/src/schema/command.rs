//! Commands: every input the core can receive.

use super::{LimitKind, LimitScope, MassCancelScope, Scope, TradingState};
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce,
    TimestampNs, VenueId,
};
use rkyv::{Archive, Deserialize, Serialize};

/// One input to the core: who sent it, when it arrived, and what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct Command {
    /// Ingress time stamped by the gateway thread (UTC ns). The core makes it monotonic.
    pub ts: TimestampNs,
    /// The session the command arrived on: a client, a venue connection, a strategy, the
    /// timer or the admin socket.
    pub session: SessionId,
    /// The command itself.
    pub body: CommandBody,
}

/// The kinds of command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub enum CommandBody {
    // Client order entry.
    /// A new order.
    NewOrder(NewOrder),
    /// Cancel a working order.
    CancelOrder(CancelOrder),
    /// Cancel/replace: amend price and/or quantity.
    ReplaceOrder(ReplaceOrder),
    /// Cancel many working orders at once.
    MassCancel(MassCancel),
    // Venue reports about Keel's orders.
    /// The venue accepted an order.
    VenueAck(VenueAck),
    /// The venue rejected an order.
    VenueReject(VenueReject),
    /// An execution.
    VenueFill(VenueFill),
    /// The venue cancelled an order (on request or unsolicited).
    VenueCancelAck(VenueCancelAck),
    /// The venue applied a replace.
    VenueReplaceAck(VenueReplaceAck),
    /// The venue refused a cancel or replace.
    VenueCancelReject(VenueCancelReject),
    // Market data.
    /// An L2 price level changed.
    L2Update(L2Update),
    /// An L3 order was added to a venue's book.
    L3Add(L3Add),
    /// An L3 order changed price or quantity.
    L3Modify(L3Modify),
    /// An L3 order left the book.
    L3Delete(L3Delete),
    /// An L3 order traded.
    L3Execute(L3Execute),
    /// A trade printed.
    Trade(MarketTrade),
    /// A snapshot starts (the book is cleared) or ends.
    Snapshot(SnapshotMark),
    /// A venue or instrument changed trading status.
    VenueStatus(VenueStatus),
    // Sessions.
    /// A session logged on.
    SessionLogon(SessionLogon),
    /// A session logged off or disconnected.
    SessionLogout(SessionLogout),
    // Time.
    /// Time passes (expiry, throttle windows, trailing stops, strategy timers).
    Timer(Timer),
    // Admin.
    /// Change a risk limit.
    SetLimit(SetLimit),
    /// Change a trading state.
    SetTradingState(SetTradingState),
    /// Engage or release a kill switch.
    KillSwitch(KillSwitch),
}

/// Order flags, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(transparent)]
pub struct OrderFlags(pub u8);

impl OrderFlags {
    /// No flags.
    pub const NONE: OrderFlags = OrderFlags(0);
    /// Rejected rather than executed on arrival if it would take liquidity.
    pub const POST_ONLY: OrderFlags = OrderFlags(1);
    /// May only reduce the account's position, never increase or flip it.
    pub const REDUCE_ONLY: OrderFlags = OrderFlags(2);

    /// True when every flag in `other` is set.
    #[inline]
    pub const fn contains(self, other: OrderFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two flag sets.
    #[inline]
    pub const fn with(self, other: OrderFlags) -> OrderFlags {
        OrderFlags(self.0 | other.0)
    }
}

/// Where an order goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
pub enum Route {
    /// To this venue.
    Venue(VenueId),
    /// To the venue with the best price for the instrument at the time of routing.
    BestPrice,
}

/// A new order from a client or a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct NewOrder {
    /// The client's id for this order; unique per session.
    pub cl_ord_id: ClOrdId,
    /// The account the order trades for.
    pub account: AccountId,
    /// What is traded.
    pub instrument: InstrumentId,
    /// Where it goes.
    pub route: Route,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit, stop, stop-limit or trailing stop.
    pub ord_type: OrdType,
    /// How long it works.
    pub tif: TimeInForce,
    /// Post-only, reduce-only.
    pub flags: OrderFlags,
    /// Limit price (limit and stop-limit); ignored otherwise.
    pub price: Price,
    /// Trigger price (stop and stop-limit); for a trailing stop, the initial trigger, or
    /// zero to start from the market.
    pub stop_price: Price,
    /// Trailing distance in ticks (trailing stop only).
    pub trail_ticks: i64,
    /// Order quantity.
    pub qty: Qty,
    /// Quantity shown on the book (iceberg); zero shows all of it.
    pub display_qty: Qty,
    /// Expiry for GTD orders; zero otherwise.
    pub expire_at: TimestampNs,
}

/// Cancel one working order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct CancelOrder {
    /// The client's id for this cancel request.
    pub cl_ord_id: ClOrdId,
    /// The client order id of the order to cancel.
    pub orig_cl_ord_id: ClOrdId,
    /// The order's account.
    pub account: AccountId,
}

/// Cancel/replace: new price and/or quantity for a working order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct ReplaceOrder {
    /// The client's id for the order after the replace.
    pub cl_ord_id: ClOrdId,
    /// The client order id of the order to replace.
    pub orig_cl_ord_id: ClOrdId,
    /// The order's account.
    pub account: AccountId,
    /// New limit price.
    pub price: Price,
    /// New stop price (stop orders).
    pub stop_price: Price,
    /// New total quantity, including what has filled.
    pub qty: Qty,
    /// New display quantity; zero shows all.
    pub display_qty: Qty,
}

/// Cancel many working orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct MassCancel {
    /// The client's id for this request.
    pub cl_ord_id: ClOrdId,
    /// The account whose orders are cancelled.
    pub account: AccountId,
    /// Which of the account's orders.
    pub scope: MassCancelScope,
}

/// The venue accepted Keel's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueAck {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order (sent to the venue as its client order id).
    pub order_id: OrderId,
    /// The venue's own id for the order.
    pub venue_order_id: u64,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// The venue rejected Keel's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueReject {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// The venue's reason code (e.g. FIX OrdRejReason).
    pub reason: u32,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// Whether a fill added or took liquidity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum Liquidity {
    /// Keel's order was resting.
    Maker = 0,
    /// Keel's order took liquidity.
    Taker = 1,
}

/// An execution of Keel's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueFill {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// The venue's execution id; a repeat is a duplicate and is ignored.
    pub exec_id: u64,
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub qty: Qty,
    /// Fee charged (negative for a rebate), in ticks·lots of the instrument.
    pub fee: i64,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// The venue cancelled Keel's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueCancelAck {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// True when Keel did not ask (IOC remainder, expiry, venue-side cancel).
    pub unsolicited: bool,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// The venue applied a replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueReplaceAck {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// The price now in force.
    pub price: Price,
    /// The total quantity now in force.
    pub qty: Qty,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// Which request a cancel reject answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum CancelRejectTo {
    /// A cancel request.
    Cancel = 1,
    /// A cancel/replace request.
    Replace = 2,
}

/// The venue refused a cancel or a replace; the order stays as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueCancelReject {
    /// Reporting venue.
    pub venue: VenueId,
    /// Keel's id of the order.
    pub order_id: OrderId,
    /// Cancel or replace.
    pub response_to: CancelRejectTo,
    /// The venue's reason code (e.g. FIX CxlRejReason).
    pub reason: u32,
    /// Venue time (UTC ns).
    pub venue_ts: TimestampNs,
}

/// Side of a book, for market data.
pub type BookSide = Side;

/// An L2 level changed: the total quantity at `price` on `side` is now `qty` (zero removes
/// the level).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct L2Update {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue whose book it is.
    pub venue: VenueId,
    /// Bid or ask.
    pub side: BookSide,
    /// Level price.
    pub price: Price,
    /// New total quantity at the level.
    pub qty: Qty,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// An order was added to a venue's L3 book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct L3Add {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// The venue's order id.
    pub venue_order_id: u64,
    /// Bid or ask.
    pub side: BookSide,
    /// Price.
    pub price: Price,
    /// Visible quantity.
    pub qty: Qty,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// An L3 order changed. A price change or quantity increase loses priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct L3Modify {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// The venue's order id.
    pub venue_order_id: u64,
    /// New price.
    pub price: Price,
    /// New visible quantity.
    pub qty: Qty,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// An L3 order left the book (cancelled or expired).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct L3Delete {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// The venue's order id.
    pub venue_order_id: u64,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// An L3 order traded `qty`; it leaves the book when nothing remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct L3Execute {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// The venue's order id (the resting side).
    pub venue_order_id: u64,
    /// Quantity traded.
    pub qty: Qty,
    /// Trade price.
    pub price: Price,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// A trade printed on a venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct MarketTrade {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// Trade price.
    pub price: Price,
    /// Trade quantity.
    pub qty: Qty,
    /// The side that took liquidity, when the venue says.
    pub aggressor: Option<Side>,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// Start or end of a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum SnapshotPhase {
    /// Clear the book; the levels or orders that follow rebuild it.
    Begin = 0,
    /// The book is whole again.
    End = 1,
}

/// A snapshot boundary: between `Begin` and `End` the L2 updates or L3 adds rebuild the
/// book from empty, and strategies are not told of the intermediate states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct SnapshotMark {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Venue.
    pub venue: VenueId,
    /// Begin or end.
    pub phase: SnapshotPhase,
    /// Exchange time (UTC ns).
    pub exchange_ts: TimestampNs,
}

/// Trading status of a venue or instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum MarketStatus {
    /// Continuous trading.
    Open = 0,
    /// Trading halted; orders are not sent.
    Halted = 1,
    /// Closed for the day; DAY orders expire.
    Closed = 2,
}

/// A venue (or one instrument on it) changed trading status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct VenueStatus {
    /// Venue.
    pub venue: VenueId,
    /// One instrument, or every instrument on the venue when `None`.
    pub instrument: Option<InstrumentId>,
    /// The new status.
    pub status: MarketStatus,
}

/// What a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum SessionKind {
    /// A FIX client (acceptor side).
    FixClient = 0,
    /// A native binary protocol client.
    BinaryClient = 1,
    /// An in-process strategy.
    Strategy = 2,
    /// A venue connection.
    Venue = 3,
    /// The admin control socket.
    Admin = 4,
}

/// A session logged on (authenticated by its gateway before this command is published).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct SessionLogon {
    /// What the session is.
    pub kind: SessionKind,
    /// The account a client session trades for.
    pub account: AccountId,
    /// Cancel the session's working orders if it disconnects.
    pub cancel_on_disconnect: bool,
}

/// A session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct SessionLogout {
    /// True for a clean logout, false for a lost connection.
    pub graceful: bool,
}

/// Time passes. Carries nothing but the command's timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct Timer {}

/// Change a risk limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct SetLimit {
    /// Where it applies.
    pub scope: LimitScope,
    /// Which limit.
    pub kind: LimitKind,
    /// The new value, in the limit's unit; `i64::MAX` removes the limit.
    pub value: i64,
}

/// Change a trading state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct SetTradingState {
    /// Firm or account (a session scope is rejected).
    pub scope: Scope,
    /// The new state.
    pub state: TradingState,
}

/// Engage or release a kill switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[repr(u8)]
pub enum KillSwitchAction {
    /// Block new orders and cancel every working order in scope.
    Engage = 0,
    /// Allow new orders again.
    Release = 1,
}

/// A kill switch at firm, account or session level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Archive, Serialize, Deserialize)]
#[rkyv(derive(Debug))]
pub struct KillSwitch {
    /// Firm, account or session.
    pub scope: Scope,
    /// Engage or release.
    pub action: KillSwitchAction,
}
