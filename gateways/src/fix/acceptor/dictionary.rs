//! What the order-entry dialect names: instruments by Symbol (55), venues by
//! ExDestination (100), and the decimal meaning of their ticks and lots.

use keel_engine::{Instrument, InstrumentId, VenueId};
use std::collections::HashMap;

/// Up to this many instruments, symbols are looked up by comparison, not hashing.
const LINEAR_MAX: usize = 16;

/// Instruments and venues, looked up by their FIX names.
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    instruments: Vec<Instrument>,
    by_symbol: HashMap<Box<[u8]>, usize>,
    venues: Vec<(VenueId, String)>,
}

impl Dictionary {
    /// A dictionary of `instruments` and `(venue id, venue name)` pairs.
    pub fn new(instruments: Vec<Instrument>, venues: Vec<(VenueId, String)>) -> Dictionary {
        let by_symbol = instruments
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.symbol.as_bytes().to_vec().into_boxed_slice(), i))
            .collect();
        Dictionary { instruments, by_symbol, venues }
    }

    /// The instrument called `symbol`.
    #[inline]
    pub fn by_symbol(&self, symbol: &[u8]) -> Option<&Instrument> {
        // A few instruments: comparing is cheaper than hashing (SipHash) the symbol.
        if self.instruments.len() <= LINEAR_MAX {
            return self.instruments.iter().find(|i| i.symbol.as_bytes() == symbol);
        }
        self.by_symbol.get(symbol).map(|&i| &self.instruments[i])
    }

    /// The instrument with id `id`.
    #[inline]
    pub fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        // Ids are dense and usually the index; fall back to a search otherwise.
        match self.instruments.get(id.index()) {
            Some(i) if i.id == id => Some(i),
            _ => self.instruments.iter().find(|i| i.id == id),
        }
    }

    /// The venue called `name`.
    #[inline]
    pub fn venue(&self, name: &[u8]) -> Option<VenueId> {
        self.venues.iter().find(|(_, n)| n.as_bytes() == name).map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_found_both_ways() {
        for n in [3usize, 40] {
            let instruments = (0..n)
                .map(|i| {
                    Instrument::builder(InstrumentId(i as u32), &format!("S{i}")).build().unwrap()
                })
                .collect();
            let d = Dictionary::new(instruments, vec![(VenueId(1), "SIM".into())]);
            for i in 0..n {
                assert_eq!(
                    d.by_symbol(format!("S{i}").as_bytes()).unwrap().id,
                    InstrumentId(i as u32)
                );
                assert_eq!(d.instrument(InstrumentId(i as u32)).unwrap().symbol, format!("S{i}"));
            }
            assert!(d.by_symbol(b"S").is_none());
            assert_eq!(d.venue(b"SIM"), Some(VenueId(1)));
            assert_eq!(d.venue(b"ALT"), None);
        }
    }
}
