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
//!
//! Because a lane's due times never decrease and its sequence numbers increase, a lane in
//! scheduling order is already in (due, class, sequence) order: each lane is a FIFO, and
//! the next entry is the front of the lane whose (due, class) is least. No heap is needed
//! (nor its sifting on every push and pop), and the order is exactly a heap's.

use std::collections::VecDeque;

/// Number of lanes.
pub const LANES: usize = 2;

/// Messages in flight, leaving in (due, class, sequence) order.
pub struct Scheduler<T> {
    /// Per lane, (due, item) in scheduling order, which is due order.
    lanes: [VecDeque<(u64, T)>; LANES],
    lane_due: [u64; LANES],
    /// (due, lane) of the next entry, kept up to date by `push` and `pop`: the runner
    /// peeks at every step and changes the queue at few of them.
    head: Option<(u64, u8)>,
    /// Most entries ever in flight at once.
    pub depth_max: usize,
}

impl<T> Default for Scheduler<T> {
    fn default() -> Self {
        Scheduler {
            lanes: std::array::from_fn(|_| VecDeque::with_capacity(64)),
            lane_due: [0; LANES],
            head: None,
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
    #[inline]
    pub fn push(&mut self, lane: usize, at: u64, item: T) -> u64 {
        let due = at.max(self.lane_due[lane]);
        self.lane_due[lane] = due;
        self.lanes[lane].push_back((due, item));
        self.head = self.next_lane();
        self.depth_max = self.depth_max.max(self.len());
        due
    }

    /// The lane whose front leaves next, with its due time: the least (due, lane).
    #[inline]
    fn next_lane(&self) -> Option<(u64, u8)> {
        let mut best: Option<(u64, u8)> = None;
        for (lane, q) in self.lanes.iter().enumerate() {
            if let Some(&(due, _)) = q.front()
                && best.is_none_or(|(b, _)| due < b)
            {
                best = Some((due, lane as u8));
            }
        }
        best
    }

    /// The (due, class) of the next entry.
    #[inline]
    pub fn peek(&self) -> Option<(u64, u8)> {
        self.head
    }

    /// Takes the next entry: (due, class, item).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u8, T)> {
        let (_, lane) = self.head?;
        let (due, item) = self.lanes[lane as usize].pop_front()?;
        self.head = self.next_lane();
        Some((due, lane, item))
    }

    /// Entries in flight.
    pub fn len(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.lanes.iter().all(VecDeque::is_empty)
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

    /// The lanes give exactly the order of a sort by (due, class, sequence), over
    /// pseudo-random pushes and pops interleaved.
    #[test]
    fn matches_a_sort_by_due_class_sequence() {
        let mut s = Scheduler::new();
        let mut model: Vec<(u64, u8, u64)> = Vec::new();
        let mut lane_due = [0u64; LANES];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut now = 0u64;
        for seq in 0..5_000u64 {
            let r = next();
            if r % 3 != 0 {
                let lane = (r >> 8) as usize % LANES;
                let at = now + (r >> 16) % 50;
                let due = s.push(lane, at, seq);
                lane_due[lane] = lane_due[lane].max(at);
                assert_eq!(due, lane_due[lane]);
                model.push((due, lane as u8, seq));
            } else {
                model.sort_unstable();
                assert_eq!(s.peek(), model.first().map(|&(due, class, _)| (due, class)));
                let Some((due, class, item)) = s.pop() else { continue };
                assert_eq!((due, class, item), model.remove(0));
                now = due;
            }
        }
        model.sort_unstable();
        let rest: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(rest, model);
        assert!(s.is_empty());
    }
}
