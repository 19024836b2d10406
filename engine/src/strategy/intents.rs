//! What a strategy asks the core to do, in a fixed-capacity buffer.
//!
//! [`Intents`] is allocated once with a capacity and never grows: a push into a full
//! buffer is refused (returns `false`) and counted in [`Intents::dropped_total`], which the
//! core exports as a metric. Strategies treat a refused push as "not sent" and keep their
//! bookkeeping unchanged, so they simply retry on a later event.

use crate::schema::{CancelOrder, CommandBody, NewOrder, OrderFlags, ReplaceOrder, Route};
use crate::{
    AccountId, ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, TimestampNs,
};

/// One request from a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Send a new order.
    New {
        /// The strategy's id for the order.
        cl_ord_id: ClOrdId,
        /// Instrument.
        instrument: InstrumentId,
        /// Buy or sell.
        side: Side,
        /// Market or limit.
        ord_type: OrdType,
        /// Time in force.
        tif: TimeInForce,
        /// Post-only, reduce-only.
        flags: OrderFlags,
        /// Limit price.
        price: Price,
        /// Quantity.
        qty: Qty,
    },
    /// Cancel a working order.
    Cancel {
        /// The order's current id.
        cl_ord_id: ClOrdId,
        /// A fresh id for the cancel request itself (FIX requires one per request).
        request_id: ClOrdId,
    },
    /// Cancel/replace a working order.
    Replace {
        /// The order's current id.
        cl_ord_id: ClOrdId,
        /// The order's id after the replace.
        new_cl_ord_id: ClOrdId,
        /// New limit price.
        price: Price,
        /// New total quantity, including what has already filled.
        qty: Qty,
    },
}

/// Order entry, one method per command kind an intent can become (see [`Intent::enter`]).
pub(crate) trait OrderEntry {
    fn new_order(&mut self, o: &NewOrder);
    fn cancel_order(&mut self, c: &CancelOrder);
    fn replace_order(&mut self, r: &ReplaceOrder);
}

impl Intent {
    /// The client command this intent stands for, for `account`, with new orders sent to
    /// `route`. This is exactly what a client session would send, so the same risk checks
    /// apply.
    pub fn to_command_body(&self, account: AccountId, route: Route) -> CommandBody {
        struct Body(Option<CommandBody>);
        impl OrderEntry for Body {
            fn new_order(&mut self, o: &NewOrder) {
                self.0 = Some(CommandBody::NewOrder(*o));
            }
            fn cancel_order(&mut self, c: &CancelOrder) {
                self.0 = Some(CommandBody::CancelOrder(*c));
            }
            fn replace_order(&mut self, r: &ReplaceOrder) {
                self.0 = Some(CommandBody::ReplaceOrder(*r));
            }
        }
        let mut body = Body(None);
        self.enter(account, route, &mut body);
        body.0.expect("every intent is one order-entry command")
    }

    /// Hands [`Self::to_command_body`]'s command to `entry`, built where it is used: the
    /// core's strategy host enters intents this way, without a [`CommandBody`] (the
    /// largest command's size) built and copied in between.
    #[inline]
    pub(crate) fn enter(&self, account: AccountId, route: Route, entry: &mut impl OrderEntry) {
        match *self {
            Intent::New { cl_ord_id, instrument, side, ord_type, tif, flags, price, qty } => entry
                .new_order(&NewOrder {
                    cl_ord_id,
                    account,
                    instrument,
                    route,
                    side,
                    ord_type,
                    tif,
                    flags,
                    price,
                    stop_price: Price(0),
                    trail_ticks: 0,
                    qty,
                    display_qty: Qty::ZERO,
                    expire_at: TimestampNs(0),
                }),
            Intent::Cancel { cl_ord_id, request_id } => entry.cancel_order(&CancelOrder {
                cl_ord_id: request_id,
                orig_cl_ord_id: cl_ord_id,
                account,
            }),
            Intent::Replace { cl_ord_id, new_cl_ord_id, price, qty } => {
                entry.replace_order(&ReplaceOrder {
                    cl_ord_id: new_cl_ord_id,
                    orig_cl_ord_id: cl_ord_id,
                    account,
                    price,
                    stop_price: Price(0),
                    qty,
                    display_qty: Qty::ZERO,
                })
            }
        }
    }
}

/// A bounded buffer of intents: capacity fixed at construction, never reallocated.
#[derive(Clone, Debug)]
pub struct Intents {
    buf: Vec<Intent>,
    dropped_total: u64,
}

impl Intents {
    /// An empty buffer for up to `capacity` intents per call (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity.max(1)), dropped_total: 0 }
    }

    /// Appends `intent`; when the buffer is full, drops it, counts it, and returns `false`.
    #[must_use = "a refused intent was not sent; do not record it as sent"]
    pub fn push(&mut self, intent: Intent) -> bool {
        if self.buf.len() == self.buf.capacity() {
            self.dropped_total += 1;
            return false;
        }
        self.buf.push(intent);
        true
    }

    /// Room left before pushes are refused.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.capacity() - self.buf.len()
    }

    /// The intents written since the last [`clear`](Self::clear), in order.
    #[inline]
    pub fn as_slice(&self) -> &[Intent] {
        &self.buf
    }

    /// Number of intents held.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when no intents are held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets the held intents, keeping the storage.
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Intents refused because the buffer was full, since construction.
    #[inline]
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// The fixed capacity.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// Allocation-free source of a strategy's client order ids.
///
/// Ids are `ClOrdId::from_u64(10^18 + n)` for `n = 0, 1, 2, …`: always exactly 19 decimal
/// digits, so the set is prefix-free (no id is a prefix of another — fixed length), ids sort
/// the same as text and as numbers, and they never collide with each other across the
/// sequence's ~9 × 10^18 values. Each strategy runs on its own session, and client order
/// ids are unique per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClOrdIdSeq {
    next: u64,
    /// `BASE + next` as its 19 ASCII decimal digits, kept in step with `next`: the next id
    /// is an increment of the last one's text (usually of its last digit), where writing
    /// 19 digits out by division cost ~300 instructions per id.
    digits: [u8; ClOrdIdSeq::DIGITS],
}

impl Default for ClOrdIdSeq {
    fn default() -> Self {
        Self::new()
    }
}

impl ClOrdIdSeq {
    const BASE: u64 = 1_000_000_000_000_000_000;
    const LIMIT: u64 = 9_000_000_000_000_000_000;
    /// Every id of the sequence has this many digits: `BASE + next < 10^19`.
    const DIGITS: usize = 19;

    /// A sequence starting at its first id.
    pub const fn new() -> Self {
        Self { next: 0, digits: Self::digits_of(Self::BASE) }
    }

    /// The 19 decimal digits of `n` (`10^18 <= n < 10^19`).
    const fn digits_of(mut n: u64) -> [u8; Self::DIGITS] {
        let mut d = [b'0'; Self::DIGITS];
        let mut i = Self::DIGITS;
        while i > 0 {
            i -= 1;
            d[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        d
    }

    /// The next id. After 9 × 10^18 ids the sequence wraps (unreachable in practice).
    #[inline]
    pub fn next_id(&mut self) -> ClOrdId {
        let id = ClOrdId::from_digits(&self.digits);
        self.next = (self.next + 1) % Self::LIMIT;
        if self.next == 0 {
            self.digits = Self::digits_of(Self::BASE);
        } else {
            // Decimal increment with carry; `BASE + next < 10^19`, so the carry stops
            // before the first digit runs out.
            let mut i = Self::DIGITS - 1;
            while self.digits[i] == b'9' {
                self.digits[i] = b'0';
                i -= 1;
            }
            self.digits[i] += 1;
        }
        id
    }

    /// How many ids have been issued (modulo the wrap).
    #[inline]
    pub fn issued(&self) -> u64 {
        self.next
    }
}

// ---- snapshot support ---------------------------------------------------------------------

impl ClOrdIdSeq {
    /// A sequence that has issued `issued` ids ([`ClOrdIdSeq::issued`]), so its next id
    /// continues where a snapshotted one stopped; `None` past the wrap limit.
    pub const fn resume_at(issued: u64) -> Option<Self> {
        if issued < Self::LIMIT {
            Some(Self { next: issued, digits: Self::digits_of(Self::BASE + issued) })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_decimal_numbers_through_every_carry() {
        for start in [0, 8, 99, 999_999, ClOrdIdSeq::LIMIT - 3] {
            let mut seq = ClOrdIdSeq::resume_at(start).expect("below the limit");
            for k in 0..1_100u64 {
                let n = (start + k) % ClOrdIdSeq::LIMIT;
                assert_eq!(seq.next_id(), ClOrdId::from_u64(ClOrdIdSeq::BASE + n), "{n}");
                assert_eq!(seq.issued(), (n + 1) % ClOrdIdSeq::LIMIT);
            }
        }
        assert_eq!(ClOrdIdSeq::default(), ClOrdIdSeq::new());
        assert_eq!(ClOrdIdSeq::new().next_id().as_str(), "1000000000000000000");
    }

    #[test]
    fn full_buffer_refuses_and_counts() {
        let mut out = Intents::with_capacity(1);
        let cancel =
            Intent::Cancel { cl_ord_id: ClOrdId::from_u64(1), request_id: ClOrdId::from_u64(2) };
        assert!(out.push(cancel));
        assert!(!out.push(cancel));
        assert_eq!((out.len(), out.dropped_total(), out.remaining()), (1, 1, 0));
        out.clear();
        assert!(out.push(cancel));
        assert_eq!(out.capacity(), 1);
    }

    #[test]
    fn ids_have_fixed_width() {
        let mut seq = ClOrdIdSeq::new();
        let a = seq.next_id();
        let b = seq.next_id();
        assert_eq!(a.as_str(), "1000000000000000000");
        assert_eq!(b.as_str(), "1000000000000000001");
        assert!(a < b);
    }

    #[test]
    fn intents_become_client_commands() {
        let cancel =
            Intent::Cancel { cl_ord_id: ClOrdId::from_u64(1), request_id: ClOrdId::from_u64(2) };
        let CommandBody::CancelOrder(c) = cancel.to_command_body(AccountId(3), Route::BestPrice)
        else {
            panic!("not a cancel");
        };
        assert_eq!(
            (c.cl_ord_id, c.orig_cl_ord_id, c.account),
            (ClOrdId::from_u64(2), ClOrdId::from_u64(1), AccountId(3))
        );
    }
}
