//! The deterministic event queue of messages in flight between the core and the simulated
//! venue.
//!
//! Every entry has a due time, a class and a sequence number, and entries leave in the
//! order of that triple: earlier time first; at equal times the lower class first (the
//! runner's fixed order of work, see [`crate::backtest::runner`]); at equal time and
//! class, the order of scheduling. Keys are unique, so the order is total and the same on
//! every run.
//!
//! Each class is a *lane* that delivers in order: an entry is never due before the
//! previous entry of its lane (`due = max(send + latency, previous due)`). A lane models
//! one connection (the order-entry session's two directions), and TCP does not reorder,
//! so a cancel sent after a new order never overtakes it even with a shorter latency.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Number of lanes.
pub const LANES: usize = 2;

struct Entry<T> {
    due: u64,
    class: u8,
    seq: u64,
    item: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (u64, u8, u64) {
        (self.due, self.class, self.seq)
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Messages in flight, leaving in (due, class, sequence) order.
pub struct Scheduler<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    seq: u64,
    lane_due: [u64; LANES],
    /// Most entries ever in flight at once.
    pub depth_max: usize,
}

impl<T> Default for Scheduler<T> {
    fn default() -> Self {
        Scheduler {
            heap: BinaryHeap::with_capacity(64),
            seq: 0,
            lane_due: [0; LANES],
            depth_max: 0,
        }
    }
}

impl<T> Scheduler<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `item` on `lane` (which is also its class) for `at`, or for the lane's
    /// last due time if that is later. Returns the due time.
    pub fn push(&mut self, lane: usize, at: u64, item: T) -> u64 {
        let due = at.max(self.lane_due[lane]);
        self.lane_due[lane] = due;
        self.seq += 1;
        self.heap.push(Reverse(Entry { due, class: lane as u8, seq: self.seq, item }));
        self.depth_max = self.depth_max.max(self.heap.len());
        due
    }

    /// The (due, class) of the next entry.
    #[inline]
    pub fn peek(&self) -> Option<(u64, u8)> {
        self.heap.peek().map(|Reverse(e)| (e.due, e.class))
    }

    /// Takes the next entry: (due, class, item).
    pub fn pop(&mut self) -> Option<(u64, u8, T)> {
        self.heap.pop().map(|Reverse(e)| (e.due, e.class, e.item))
    }

    /// Entries in flight.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_in_time_then_class_then_sequence_order() {
        let mut s = Scheduler::new();
        s.push(1, 10, "b1");
        s.push(0, 10, "a1");
        s.push(0, 5, "a0"); // clamped to 10: lane 0 is in order
        s.push(1, 3, "b0"); // clamped to 10 as well
        let order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, vec![(10, 0, "a1"), (10, 0, "a0"), (10, 1, "b1"), (10, 1, "b0")]);
        assert_eq!(s.depth_max, 4);
    }

    #[test]
    fn a_lane_never_reorders() {
        let mut s = Scheduler::new();
        assert_eq!(s.push(0, 100, 1), 100);
        assert_eq!(s.push(0, 50, 2), 100);
        assert_eq!(s.push(0, 150, 3), 150);
        assert_eq!(s.peek(), Some((100, 0)));
    }
}
