//! Duplicate-order detection: a bounded ring of the fingerprints of recently accepted
//! orders.
//!
//! A fingerprint is (account, instrument, side, price, qty) as entered (price is the limit
//! price as given, zero for a market order). An order whose fingerprint matches one
//! accepted less than the window ago is a duplicate. The ring remembers the last
//! `capacity` accepted orders only: a burst of more than `capacity` distinct orders inside
//! the window pushes older fingerprints out, so the detector errs toward accepting. A check
//! scans at most `capacity` entries.

use crate::{AccountId, InstrumentId, Price, Qty, Side, TimestampNs};

/// What identifies "the same order".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// Account.
    pub account: AccountId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Price as entered, ticks.
    pub price: Price,
    /// Quantity, lots.
    pub qty: Qty,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    at_ns: u64,
    fp: Fingerprint,
}

/// Fixed-capacity ring, oldest entry overwritten first.
#[derive(Clone, Debug)]
pub(crate) struct DuplicateRing {
    entries: Vec<Entry>,
    /// Next slot to write.
    head: usize,
    /// Live entries, `<= entries.len()`.
    len: usize,
}

impl DuplicateRing {
    pub(crate) fn new(capacity: usize) -> Self {
        let blank = Entry {
            at_ns: 0,
            fp: Fingerprint {
                account: AccountId(0),
                instrument: InstrumentId(0),
                side: Side::Buy,
                price: Price(0),
                qty: Qty(0),
            },
        };
        Self { entries: vec![blank; capacity], head: 0, len: 0 }
    }

    /// Age, ns, of the youngest matching order accepted within `window_ns`, if any.
    pub(crate) fn find(&self, fp: &Fingerprint, now: TimestampNs, window_ns: u64) -> Option<u64> {
        self.live()
            .filter(|e| e.fp == *fp)
            .map(|e| now.saturating_since_ns(TimestampNs(e.at_ns)))
            .filter(|age| *age < window_ns)
            .min()
    }

    /// Runs for every accepted new order: inlined, and wraps with a compare, not a
    /// division.
    #[inline(always)]
    pub(crate) fn record(&mut self, fp: Fingerprint, now: TimestampNs) {
        let cap = self.entries.len();
        if cap == 0 {
            return;
        }
        self.entries[self.head] = Entry { at_ns: now.0, fp };
        self.head = if self.head + 1 == cap { 0 } else { self.head + 1 };
        self.len = (self.len + 1).min(cap);
    }

    /// Live entries, oldest first.
    fn live(&self) -> impl Iterator<Item = &Entry> {
        let cap = self.entries.len();
        let start = (self.head + cap - self.len) % cap.max(1);
        (0..self.len).map(move |k| &self.entries[(start + k) % cap])
    }

    pub(crate) fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        sink(&(self.len as u64).to_le_bytes());
        for e in self.live() {
            sink(&e.at_ns.to_le_bytes());
            sink(&e.fp.account.0.to_le_bytes());
            sink(&e.fp.instrument.0.to_le_bytes());
            sink(&[e.fp.side as u8]);
            sink(&e.fp.price.0.to_le_bytes());
            sink(&e.fp.qty.0.to_le_bytes());
        }
    }
}

// ---- snapshot support ---------------------------------------------------------------------

impl DuplicateRing {
    /// Room in the ring.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// The remembered orders, oldest first, as `(time, fingerprint)`; recording them in
    /// this order into an empty ring of the same capacity rebuilds the ring.
    pub(crate) fn snapshot_entries(&self) -> impl Iterator<Item = (u64, Fingerprint)> + '_ {
        self.live().map(|e| (e.at_ns, e.fp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(qty: i64) -> Fingerprint {
        Fingerprint {
            account: AccountId(1),
            instrument: InstrumentId(2),
            side: Side::Buy,
            price: Price(100),
            qty: Qty(qty),
        }
    }

    #[test]
    fn finds_within_window_and_forgets_when_full() {
        let mut r = DuplicateRing::new(2);
        r.record(fp(1), TimestampNs(100));
        assert_eq!(r.find(&fp(1), TimestampNs(150), 100), Some(50));
        assert_eq!(r.find(&fp(1), TimestampNs(200), 100), None);
        assert_eq!(r.find(&fp(2), TimestampNs(150), 100), None);
        r.record(fp(2), TimestampNs(110));
        r.record(fp(3), TimestampNs(120));
        assert_eq!(r.find(&fp(1), TimestampNs(150), 100), None, "pushed out");
        assert_eq!(r.find(&fp(3), TimestampNs(150), 100), Some(30));
    }
}
