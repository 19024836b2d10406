//! Pre-allocated order nodes with a free list, and the intrusive FIFO queue that links a
//! price level's orders through the nodes by `u32` index.
//!
//! Nodes never move, so an index stays valid while its order rests. Free nodes are chained
//! through `next`; allocation and release are O(1) and never touch the allocator.

use crate::{OrderId, Price, Qty, Side};

/// "No node": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// One resting order: exactly one cache line (58 bytes of fields, aligned to 64).
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub(crate) struct Node {
    pub id: OrderId,
    pub price: Price,
    /// Quantity shown in the queue and in L2.
    pub visible: Qty,
    /// Iceberg reserve, not shown.
    pub hidden: Qty,
    /// Iceberg display size; `Qty(i64::MAX)` for a plain order (its visible is its leaves).
    pub display: Qty,
    /// Quantity executed so far (amends are against the total = filled + leaves).
    pub filled: Qty,
    pub prev: u32,
    pub next: u32,
    pub side: Side,
    pub post_only: bool,
}

const _: () = assert!(size_of::<Node>() == 64);

impl Node {
    const VACANT: Node = Node {
        id: OrderId(0),
        price: Price(0),
        visible: Qty(0),
        hidden: Qty(0),
        display: Qty(0),
        filled: Qty(0),
        prev: NIL,
        next: NIL,
        side: Side::Buy,
        post_only: false,
    };

    /// Visible + hidden.
    #[inline]
    pub fn leaves(&self) -> Qty {
        self.visible + self.hidden
    }
}

/// Fixed-capacity node storage.
pub(crate) struct Slab {
    nodes: Vec<Node>,
    free_head: u32,
    live: u32,
}

impl Slab {
    pub fn with_capacity(capacity: u32) -> Slab {
        assert!(capacity < NIL, "slab capacity must be below u32::MAX");
        let mut slab =
            Slab { nodes: vec![Node::VACANT; capacity as usize], free_head: NIL, live: 0 };
        slab.clear();
        slab
    }

    /// Releases every node: O(capacity), for snapshots only.
    pub fn clear(&mut self) {
        let n = self.nodes.len() as u32;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            *node = Node::VACANT;
            node.next = if i as u32 + 1 < n { i as u32 + 1 } else { NIL };
        }
        self.free_head = if n == 0 { NIL } else { 0 };
        self.live = 0;
    }

    #[inline]
    pub fn capacity(&self) -> u32 {
        self.nodes.len() as u32
    }

    #[inline]
    pub fn live(&self) -> u32 {
        self.live
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.free_head == NIL
    }

    /// Takes a free node and fills it; `None` when full.
    #[inline]
    pub fn alloc(&mut self, node: Node) -> Option<u32> {
        let i = self.free_head;
        if i == NIL {
            return None;
        }
        self.free_head = self.nodes[i as usize].next;
        self.nodes[i as usize] = node;
        self.live += 1;
        Some(i)
    }

    /// Returns a node to the free list. The caller has unlinked it from its queue.
    #[inline]
    pub fn free(&mut self, i: u32) {
        debug_assert!(self.live > 0);
        self.nodes[i as usize].next = self.free_head;
        self.free_head = i;
        self.live -= 1;
    }
}

impl std::ops::Index<u32> for Slab {
    type Output = Node;
    #[inline]
    fn index(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }
}

impl std::ops::IndexMut<u32> for Slab {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut Node {
        &mut self.nodes[i as usize]
    }
}

/// A FIFO of nodes: a price level's time priority.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Queue {
    pub head: u32,
    pub tail: u32,
    pub count: u32,
}

impl Default for Queue {
    fn default() -> Self {
        Queue { head: NIL, tail: NIL, count: 0 }
    }
}

impl Queue {
    /// Appends `i` (not in any queue) at the back: lowest priority.
    #[inline]
    pub fn push_back(&mut self, slab: &mut Slab, i: u32) {
        slab[i].prev = self.tail;
        slab[i].next = NIL;
        if self.tail == NIL {
            self.head = i;
        } else {
            slab[self.tail].next = i;
        }
        self.tail = i;
        self.count += 1;
    }

    /// Removes `i`, which is in this queue.
    #[inline]
    pub fn unlink(&mut self, slab: &mut Slab, i: u32) {
        let (prev, next) = (slab[i].prev, slab[i].next);
        if prev == NIL {
            self.head = next;
        } else {
            slab[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            slab[next].prev = prev;
        }
        slab[i].prev = NIL;
        slab[i].next = NIL;
        self.count -= 1;
    }

    /// Moves `i` (in this queue) to the back: an iceberg that refilled.
    #[inline]
    pub fn move_to_back(&mut self, slab: &mut Slab, i: u32) {
        if self.tail != i {
            self.unlink(slab, i);
            self.push_back(slab, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_until_full_then_reuse() {
        let mut slab = Slab::with_capacity(2);
        let a = slab.alloc(Node::VACANT).unwrap();
        let b = slab.alloc(Node::VACANT).unwrap();
        assert!(slab.alloc(Node::VACANT).is_none());
        slab.free(a);
        assert_eq!(slab.alloc(Node::VACANT), Some(a));
        assert_ne!(a, b);
        assert_eq!(slab.live(), 2);
    }

    #[test]
    fn queue_is_fifo_and_unlinks_anywhere() {
        let mut slab = Slab::with_capacity(3);
        let mut q = Queue::default();
        let ids: Vec<u32> = (0..3).map(|_| slab.alloc(Node::VACANT).unwrap()).collect();
        for &i in &ids {
            q.push_back(&mut slab, i);
        }
        q.unlink(&mut slab, ids[1]);
        q.move_to_back(&mut slab, ids[0]);
        assert_eq!((q.head, q.tail, q.count), (ids[2], ids[0], 2));
        assert_eq!(slab[ids[2]].next, ids[0]);
    }
}
