//! The firm's own resting limit orders, aggregated by price per instrument and side, so
//! self-trade prevention finds the best own price on the other side in O(1) instead of
//! walking the order table.
//!
//! It is derived state: updated at exactly the points where risk exposure changes (order
//! opened, filled, amended, closed), and rebuildable from the order table. Only `Limit`
//! orders count: held stops rest nowhere until triggered. If a side ever holds more
//! distinct prices than the book capacity, the aggregate marks itself incomplete and the
//! caller falls back to walking the orders.

use crate::book::{BookCapacity, L2Book};
use crate::risk::OpenOrder;
use crate::{InstrumentId, Price, Qty, Side};

pub(super) struct OwnResting {
    /// Per instrument, one book per side, each using only its own side: the firm's own
    /// buys and sells may cross each other (different venues, replaces), and a single L2
    /// book would delete crossed levels as a market book must.
    books: Vec<[L2Book; 2]>,
    complete: bool,
}

impl OwnResting {
    pub(super) fn new(instruments: usize, capacity: BookCapacity) -> Self {
        let books =
            (0..instruments).map(|_| [L2Book::new(capacity), L2Book::new(capacity)]).collect();
        OwnResting { books, complete: true }
    }

    /// Forgets every order.
    pub(super) fn clear(&mut self) {
        self.books.iter_mut().flatten().for_each(L2Book::clear);
        self.complete = true;
    }

    /// Adds `delta` lots (negative to remove) at the order's price.
    pub(super) fn change(&mut self, o: &OpenOrder, delta: i64) {
        if delta == 0 {
            return;
        }
        let Some(books) = self.books.get_mut(o.instrument.index()) else { return };
        let book = &mut books[o.side as usize];
        let qty = book.qty_at(o.side, o.risk_price).0 + delta;
        debug_assert!(qty >= 0, "own resting quantity went negative at {:?}", o.risk_price);
        if book.set(o.side, o.risk_price, Qty(qty.max(0))).is_err() {
            self.complete = false;
        }
    }

    /// The best own resting price on `side`, or `None` when there is none. `Err(())` when
    /// the aggregate is incomplete and the caller must look at the orders.
    pub(super) fn best(&self, instrument: InstrumentId, side: Side) -> Result<Option<Price>, ()> {
        if !self.complete {
            return Err(());
        }
        Ok(self
            .books
            .get(instrument.index())
            .and_then(|b| b[side as usize].best(side))
            .map(|(p, _)| p))
    }
}
