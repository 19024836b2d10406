//! Snapshot of an [`L3Book`]: each side's levels, best first, and in each level its orders
//! in queue (time-priority) order with their visible part, iceberg reserve, display size,
//! filled quantity and post-only flag.
//!
//! Restoring appends the orders back in that order, so every order keeps its place in its
//! queue, and an iceberg keeps both its current visible part and its hidden reserve. Slot
//! placement may differ from the original book; nothing observable depends on it.

use super::{L3Book, Level};
use crate::book::slab::{NIL, Node};
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::{OrderId, Price, Qty, Side};

impl L3Book {
    /// Appends the book's orders, by level and queue position, to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        for side in [Side::Buy, Side::Sell] {
            let ladder = self.ladder(side);
            w.len_u32(ladder.len());
            for (price, lvl) in ladder.iter() {
                w.i64(price.ticks());
                w.u32(lvl.queue.count);
                let mut i = lvl.queue.head;
                while i != NIL {
                    let n = &self.slab[i];
                    w.u64(n.id.0);
                    w.i64(n.visible.lots());
                    w.i64(n.hidden.lots());
                    w.i64(n.display.lots());
                    w.i64(n.filled.lots());
                    w.bool(n.post_only);
                    i = n.next;
                }
            }
        }
    }

    /// Restores the orders written by [`L3Book::snapshot_write`] into this book.
    pub(crate) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        self.clear();
        let orders_max = self.slab.capacity() as usize;
        for side in [Side::Buy, Side::Sell] {
            let levels = r.count(self.ladder(side).capacity() as usize, "price levels")?;
            let mut prev: Option<Price> = None;
            for _ in 0..levels {
                let at = r.offset();
                let price = Price(r.i64()?);
                let ordered = prev.is_none_or(|p| match side {
                    Side::Buy => price < p,
                    Side::Sell => price > p,
                });
                if !ordered {
                    return Err(Reader::invalid_at(at, format!("level {price:?} out of order")));
                }
                prev = Some(price);
                let at = r.offset();
                let orders = r.count(orders_max, "orders in a level")?;
                if orders == 0 {
                    return Err(Reader::invalid_at(at, "a level with no orders"));
                }
                for _ in 0..orders {
                    let at = r.offset();
                    let node = Node {
                        id: OrderId(r.u64()?),
                        price,
                        visible: Qty(r.i64()?),
                        hidden: Qty(r.i64()?),
                        display: Qty(r.i64()?),
                        filled: Qty(r.i64()?),
                        prev: NIL,
                        next: NIL,
                        side,
                        post_only: r.bool()?,
                    };
                    self.push_restored(node, at)?;
                }
            }
        }
        self.validate().map_err(|e| Reader::invalid_at(r.offset(), format!("restored book: {e}")))
    }

    /// Appends one resting order at the back of its level (creating the level).
    fn push_restored(&mut self, node: Node, at: usize) -> Result<(), CodecError> {
        if node.visible.lots() <= 0
            || node.hidden.lots() < 0
            || node.visible > node.display
            || node.filled.lots() < 0
        {
            return Err(Reader::invalid_at(at, format!("order {} quantities", node.id)));
        }
        if self.index.get(node.id).is_some() {
            return Err(Reader::invalid_at(at, format!("order {} appears twice", node.id)));
        }
        if self.slab.is_full() {
            return Err(Reader::out_of_range_at(
                at,
                format!("more orders than the book's {}", self.slab.capacity()),
            ));
        }
        let (side, price) = (node.side, node.price);
        let pos = match self.ladder(side).find(price) {
            Ok(pos) => pos,
            Err(pos) => {
                let ladder = self.ladder_mut(side);
                if ladder.is_full() {
                    return Err(Reader::out_of_range_at(
                        at,
                        format!("more levels than the book's {}", ladder.capacity()),
                    ));
                }
                ladder.insert(pos, price, Level::default());
                pos
            }
        };
        let Some(i) = self.slab.alloc(node) else { unreachable!("room was checked above") };
        self.index.insert(node.id, i);
        let Self { slab, bids, asks, .. } = self;
        let ladder = match side {
            Side::Buy => bids,
            Side::Sell => asks,
        };
        let lvl = ladder.val_mut(pos);
        lvl.queue.push_back(slab, i);
        lvl.visible += node.visible;
        lvl.hidden += node.hidden;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::event::BookEvent;
    use crate::book::{BookCapacity, NewOrder};

    const CAP: BookCapacity = BookCapacity { orders: 16, levels_per_side: 4 };

    fn round_trip(book: &L3Book) -> L3Book {
        let mut w = Writer::new();
        book.snapshot_write(&mut w);
        let bytes = w.into_inner();
        let mut copy = L3Book::new(CAP);
        let mut r = Reader::new(&bytes);
        copy.snapshot_read(&mut r).unwrap();
        r.finish().unwrap();
        copy
    }

    #[test]
    fn queues_and_iceberg_reserve_survive_a_restore() {
        let mut book = L3Book::new(CAP);
        let mut events: Vec<BookEvent> = Vec::new();
        let s = |i, side, px, q| NewOrder::limit(OrderId(i), side, Price(px), Qty(q));
        book.submit(&s(1, Side::Sell, 101, 10).iceberg(Qty(3)), &mut events).unwrap();
        book.submit(&s(2, Side::Sell, 101, 4), &mut events).unwrap();
        book.submit(&s(3, Side::Sell, 102, 5).post_only(), &mut events).unwrap();
        book.submit(&s(4, Side::Buy, 99, 6), &mut events).unwrap();
        book.submit(&s(5, Side::Buy, 99, 2), &mut events).unwrap();
        // The iceberg shows 3, trades 2 of them: visible 1, reserve 7, filled 2.
        book.submit(&NewOrder::market(OrderId(9), Side::Buy, Qty(2)), &mut events).unwrap();
        let mut copy = round_trip(&book);
        for side in [Side::Buy, Side::Sell] {
            assert!(book.levels(side).eq(copy.levels(side)));
        }
        assert_eq!(copy.order(OrderId(1)), book.order(OrderId(1)));
        // The same sweep trades through the same queue, refills and all.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let sweep = NewOrder::market(OrderId(10), Side::Buy, Qty(12));
        book.submit(&sweep, &mut a).unwrap();
        copy.submit(&sweep, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().any(|e| matches!(e, BookEvent::Replenished { .. })));
        let amend =
            |bk: &mut L3Book, ev: &mut Vec<BookEvent>| bk.amend(OrderId(4), Price(99), Qty(3), ev);
        assert_eq!(amend(&mut book, &mut a), amend(&mut copy, &mut b));
        assert_eq!(a, b);
        assert_eq!(round_trip(&copy).order(OrderId(5)), book.order(OrderId(5)));
    }

    #[test]
    fn too_many_orders_for_the_book_is_out_of_range() {
        let mut big = L3Book::new(BookCapacity { orders: 32, levels_per_side: 4 });
        for i in 0..20 {
            big.add(OrderId(i), Side::Buy, Price(100), Qty(1)).unwrap();
        }
        let mut w = Writer::new();
        big.snapshot_write(&mut w);
        let bytes = w.into_inner();
        let mut small = L3Book::new(CAP);
        let err = small.snapshot_read(&mut Reader::new(&bytes)).unwrap_err();
        assert!(matches!(err, CodecError::OutOfRange { .. }), "{err:?}");
    }
}
