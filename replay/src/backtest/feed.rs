//! The market-data events between the venue and the core: a FIFO of (arrival time, event),
//! a ring of a power-of-two size indexed by mask.
//!
//! It does what a `VecDeque` does for the runner, with fewer instructions per event (the
//! runner pushes, peeks twice and pops every event): a slot index is one mask, the front
//! is read in place, and the front's arrival time — read on every turn of the runner's
//! loop — is kept in a field (`u64::MAX` when empty). It grows (doubling, keeping the
//! order) when full; it never shrinks.

use super::event::{MdEvent, MdKind};
use keel_engine::InstrumentId;

/// Events in flight to the core, oldest first.
pub struct FeedQueue {
    slots: Vec<(u64, MdEvent)>,
    head: usize,
    len: usize,
    /// Arrival time of the front event; `u64::MAX` when empty.
    front_arrival: u64,
}

impl FeedQueue {
    /// An empty queue with room for `capacity` events (rounded up to a power of two).
    pub fn with_capacity(capacity: usize) -> Self {
        let n = capacity.max(2).next_power_of_two();
        FeedQueue {
            slots: vec![(0, MdEvent::new(MdKind::L2, InstrumentId(0))); n],
            head: 0,
            len: 0,
            front_arrival: u64::MAX,
        }
    }

    /// Events queued.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event is queued.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Queues `e`, arriving at `arrival`, behind the others.
    #[inline]
    pub fn push(&mut self, arrival: u64, e: &MdEvent) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let i = (self.head + self.len) & self.mask();
        self.slots[i] = (arrival, *e);
        if self.len == 0 {
            self.front_arrival = arrival;
        }
        self.len += 1;
    }

    /// The oldest event and its arrival time, in place.
    #[inline]
    pub fn front(&self) -> Option<(u64, &MdEvent)> {
        if self.len == 0 {
            return None;
        }
        let (arrival, e) = &self.slots[self.head];
        Some((*arrival, e))
    }

    /// Arrival time of the oldest event; `u64::MAX` when none is queued.
    #[inline(always)]
    pub fn front_arrival(&self) -> u64 {
        self.front_arrival
    }

    /// Drops the oldest event (none when empty).
    #[inline]
    pub fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) & self.mask();
            self.len -= 1;
            self.front_arrival = if self.len == 0 { u64::MAX } else { self.slots[self.head].0 };
        }
    }

    /// Doubles the ring, the queued events first in order.
    #[cold]
    fn grow(&mut self) {
        let n = self.slots.len();
        let mut slots = Vec::with_capacity(2 * n);
        for k in 0..self.len {
            slots.push(self.slots[(self.head + k) & (n - 1)]);
        }
        slots.resize(2 * n, (0, MdEvent::new(MdKind::L2, InstrumentId(0))));
        self.slots = slots;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Pushes and pops interleaved, across several growths and wraps, in a `VecDeque`'s
    /// order.
    #[test]
    fn is_a_fifo_through_wraps_and_growth() {
        let mut q = FeedQueue::with_capacity(2);
        let mut model: VecDeque<(u64, MdEvent)> = VecDeque::new();
        let mut x = 0x853c_49e6_748f_ea9bu64;
        for i in 0..10_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 5 < 3 {
                let mut e = MdEvent::new(MdKind::Trade, InstrumentId(i as u32));
                e.order_id = x;
                q.push(i, &e);
                model.push_back((i, e));
            } else {
                assert_eq!(q.front().map(|(a, e)| (a, *e)), model.front().copied());
                q.pop();
                model.pop_front();
            }
            assert_eq!(q.len(), model.len());
            assert_eq!(q.is_empty(), model.is_empty());
            assert_eq!(q.front_arrival(), model.front().map_or(u64::MAX, |(a, _)| *a));
        }
        while let Some((a, e)) = q.front() {
            assert_eq!(Some((a, *e)), model.pop_front());
            q.pop();
        }
        assert!(model.is_empty());
    }
}
