//! What a data set is about: its feed kind, its venue and its instruments.
//!
//! A CSV file declares this in its preamble (see [`crate::backtest::csv`]); a journal
//! written by `keel backtest convert` keeps it beside the segments in [`SIDECAR_FILE`]; a
//! journal written by `keel serve` takes it from serve's configuration. Instruments are
//! numbered `0..n` in declaration order, which is the id the events carry.
//!
//! [`Grid`] turns decimal text into whole ticks or lots exactly — a value that is not a
//! whole number of increments is an error, never a rounding.

use std::path::Path;

use keel_engine::core::FeedKind;
use keel_engine::{Instrument, InstrumentId, VenueId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Name of the data description kept in a converted journal's directory.
pub const SIDECAR_FILE: &str = "keel-backtest.json";

/// One instrument of a data set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentSpec {
    /// Symbol, as the data names it.
    pub symbol: String,
    /// Price increment.
    pub tick_size: Decimal,
    /// Quantity increment.
    pub lot_size: Decimal,
    /// Quote currency.
    pub currency: String,
}

/// What a data set is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSpec {
    /// `l2` or `l3`.
    #[serde(with = "feed_text")]
    pub feed: FeedKind,
    /// The venue's id in the events.
    pub venue_id: u16,
    /// The venue's name, for reports.
    pub venue_name: String,
    /// Instruments, ids `0..n` in this order.
    pub instruments: Vec<InstrumentSpec>,
}

/// The sidecar's format version.
const SIDECAR_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Sidecar {
    keel_backtest_data: u32,
    /// Events in the journal (for progress bars).
    #[serde(default)]
    events: Option<u64>,
    #[serde(flatten)]
    spec: DataSpec,
}

mod feed_text {
    use keel_engine::core::FeedKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(feed: &FeedKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::feed_name(*feed))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FeedKind, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_feed(&text).map_err(serde::de::Error::custom)
    }
}

/// `l2` or `l3`.
pub fn feed_name(feed: FeedKind) -> &'static str {
    match feed {
        FeedKind::L2 => "l2",
        FeedKind::L3 => "l3",
    }
}

/// Parses `l2` / `l3`.
pub fn parse_feed(text: &str) -> Result<FeedKind, String> {
    match text {
        "l2" => Ok(FeedKind::L2),
        "l3" => Ok(FeedKind::L3),
        other => Err(format!("feed {other:?} is not \"l2\" or \"l3\"")),
    }
}

/// Why a data description cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// An instrument that the engine refuses (increments, valuation).
    #[error("instrument {symbol}: {problem}")]
    Instrument {
        /// Its symbol.
        symbol: String,
        /// What is wrong.
        problem: String,
    },
    /// No instrument, two with one symbol, or venue id 0.
    #[error("data description: {0}")]
    Invalid(String),
    /// The sidecar could not be read or written.
    #[error("{path}: {problem}")]
    Sidecar {
        /// The file.
        path: String,
        /// What went wrong.
        problem: String,
    },
}

impl DataSpec {
    /// The venue id.
    pub fn venue(&self) -> VenueId {
        VenueId(self.venue_id)
    }

    /// The instrument named `symbol`.
    pub fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.instruments.iter().position(|i| i.symbol == symbol).map(|i| InstrumentId(i as u32))
    }

    /// Checks the description and builds the engine's instruments, all listed on the
    /// data's venue.
    pub fn engine_instruments(&self) -> Result<Vec<Instrument>, SpecError> {
        if self.venue_id == 0 {
            return Err(SpecError::Invalid("venue id must be in 1..=65535".into()));
        }
        if self.instruments.is_empty() {
            return Err(SpecError::Invalid("no instrument is declared".into()));
        }
        let mut out = Vec::with_capacity(self.instruments.len());
        for (i, s) in self.instruments.iter().enumerate() {
            if self.instruments[..i].iter().any(|o| o.symbol == s.symbol) {
                return Err(SpecError::Invalid(format!(
                    "instrument {} is declared twice",
                    s.symbol
                )));
            }
            let fail =
                |problem: String| SpecError::Instrument { symbol: s.symbol.clone(), problem };
            let inst = Instrument::builder(InstrumentId(i as u32), &s.symbol)
                .tick_size(s.tick_size)
                .lot_size(s.lot_size)
                .currency(&s.currency)
                .venues(&[self.venue()])
                .build()
                .map_err(|e| fail(e.to_string()))?;
            keel_engine::risk::InstrumentRisk::from_instrument(&inst, Decimal::ONE)
                .map_err(|e| fail(e.to_string()))?;
            out.push(inst);
        }
        Ok(out)
    }

    /// Writes the sidecar into a journal directory, with the number of events the journal
    /// holds when known.
    pub fn write_sidecar(&self, dir: &Path, events: Option<u64>) -> Result<(), SpecError> {
        let path = dir.join(SIDECAR_FILE);
        let sidecar = Sidecar { keel_backtest_data: SIDECAR_VERSION, events, spec: self.clone() };
        let text = serde_json::to_string_pretty(&sidecar).expect("a data description serializes");
        std::fs::write(&path, text + "\n").map_err(|e| SpecError::Sidecar {
            path: path.display().to_string(),
            problem: e.to_string(),
        })
    }

    /// Reads the sidecar of a journal directory; `None` when there is none.
    pub fn read_sidecar(dir: &Path) -> Result<Option<DataSpec>, SpecError> {
        Ok(Self::read_sidecar_with_events(dir)?.map(|(spec, _)| spec))
    }

    /// The sidecar's description and event count.
    pub fn read_sidecar_with_events(
        dir: &Path,
    ) -> Result<Option<(DataSpec, Option<u64>)>, SpecError> {
        let path = dir.join(SIDECAR_FILE);
        let fail =
            |problem: String| SpecError::Sidecar { path: path.display().to_string(), problem };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail(e.to_string())),
        };
        let sidecar: Sidecar = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        if sidecar.keel_backtest_data != SIDECAR_VERSION {
            return Err(fail(format!(
                "version {} is not the supported {SIDECAR_VERSION}",
                sidecar.keel_backtest_data
            )));
        }
        sidecar.spec.engine_instruments().map_err(|e| fail(e.to_string()))?;
        Ok(Some((sidecar.spec, sidecar.events)))
    }
}

/// Exact decimal text → whole increments (ticks or lots) for one increment size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// The increment is `mantissa × 10^-scale`.
    mantissa: i128,
    scale: u32,
}

/// Why a decimal did not convert.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    /// Not a decimal number.
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
    /// Not a whole number of increments.
    #[error("{value} is not a multiple of the increment {increment}")]
    OffGrid {
        /// The text given.
        value: String,
        /// The increment.
        increment: Decimal,
    },
    /// Too many increments for an `i64`.
    #[error("{0} is out of range")]
    Range(String),
}

const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

impl Grid {
    /// The grid of `increment` (> 0).
    pub fn new(increment: Decimal) -> Grid {
        debug_assert!(increment > Decimal::ZERO);
        let normalized = increment.normalize();
        Grid { mantissa: normalized.mantissa(), scale: normalized.scale() }
    }

    /// The increment as a decimal.
    pub fn increment(&self) -> Decimal {
        Decimal::from_i128_with_scale(self.mantissa, self.scale)
    }

    /// Whole increments in `text` (`[-]digits[.digits]`), exactly.
    #[inline]
    pub fn parse(&self, text: &[u8]) -> Result<i64, GridError> {
        let (negative, digits) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            _ => (false, text),
        };
        let mut mantissa: i128 = 0;
        let mut scale: u32 = 0;
        let mut seen_point = false;
        let mut seen_digit = false;
        for &b in digits {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    if mantissa > i128::MAX / 100 {
                        return Err(GridError::Range(lossy(text)));
                    }
                    mantissa = mantissa * 10 + (b - b'0') as i128;
                    if seen_point {
                        scale += 1;
                        if scale > 28 {
                            return Err(GridError::Syntax(lossy(text)));
                        }
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => return Err(GridError::Syntax(lossy(text))),
            }
        }
        if !seen_digit {
            return Err(GridError::Syntax(lossy(text)));
        }
        // value / increment = (m × 10^-s) / (gm × 10^-gs) = m × 10^(gs-s) / gm
        let (num, den) = if self.scale >= scale {
            let num = mantissa
                .checked_mul(POW10[(self.scale - scale) as usize])
                .ok_or_else(|| GridError::Range(lossy(text)))?;
            (num, self.mantissa)
        } else {
            let den = self
                .mantissa
                .checked_mul(POW10[(scale - self.scale) as usize])
                .ok_or_else(|| GridError::Range(lossy(text)))?;
            (mantissa, den)
        };
        // In 64 bits when both fit (every realistic price and quantity): a hardware division
        // where 128 bits would call the library twice.
        let (whole, rem) = match (u64::try_from(num), u64::try_from(den)) {
            (Ok(n), Ok(d)) => ((n / d) as i128, (n % d) as i128),
            _ => (num / den, num % den),
        };
        if rem != 0 {
            return Err(GridError::OffGrid { value: lossy(text), increment: self.increment() });
        }
        let whole = if negative { -whole } else { whole };
        i64::try_from(whole).map_err(|_| GridError::Range(lossy(text)))
    }

    /// `n` increments as exact decimal text.
    pub fn format(&self, n: i64) -> String {
        let mut out = Vec::with_capacity(24);
        self.write(n, &mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("digits are ASCII")
    }

    /// Writes `n` increments as exact decimal text (`[-]int[.frac]`, the fraction with
    /// exactly the increment's decimal places), without allocating.
    pub fn write(&self, n: i64, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let v = n as i128 * self.mantissa;
        let sign = if v < 0 { "-" } else { "" };
        let v = v.unsigned_abs();
        if self.scale == 0 {
            return write!(out, "{sign}{v}");
        }
        let p = POW10[self.scale as usize] as u128;
        write!(out, "{sign}{}.{:0width$}", v / p, v % p, width = self.scale as usize)
    }
}

fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn grid_converts_exactly_or_refuses() {
        let cents = Grid::new(d("0.01"));
        assert_eq!(cents.parse(b"27123.45"), Ok(2_712_345));
        assert_eq!(cents.parse(b"27123.4"), Ok(2_712_340));
        assert_eq!(cents.parse(b"-1.50"), Ok(-150));
        assert_eq!(cents.parse(b"7"), Ok(700));
        assert!(matches!(cents.parse(b"1.005"), Err(GridError::OffGrid { .. })));
        assert!(matches!(cents.parse(b"1.2.3"), Err(GridError::Syntax(_))));
        assert!(matches!(cents.parse(b""), Err(GridError::Syntax(_))));
        assert!(matches!(cents.parse(b"1e5"), Err(GridError::Syntax(_))));
        let dollars = Grid::new(d("1"));
        assert_eq!(dollars.parse(b"78318.0"), Ok(78_318));
        assert!(matches!(dollars.parse(b"78318.5"), Err(GridError::OffGrid { .. })));
        let half = Grid::new(d("0.5"));
        assert_eq!(half.parse(b"2.5"), Ok(5));
        assert!(matches!(half.parse(b"2.25"), Err(GridError::OffGrid { .. })));
        let sats = Grid::new(d("0.00000001"));
        assert_eq!(sats.parse(b"1.53453667"), Ok(153_453_667));
        assert_eq!(sats.format(153_453_667), "1.53453667");
        assert!(matches!(sats.parse(b"99999999999999"), Err(GridError::Range(_))));
        assert_eq!(cents.format(2_712_345), "27123.45");
    }

    #[test]
    fn sidecar_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let spec = DataSpec {
            feed: FeedKind::L3,
            venue_id: 1,
            venue_name: "BT".into(),
            instruments: vec![InstrumentSpec {
                symbol: "BTC-USD".into(),
                tick_size: d("1"),
                lot_size: d("0.00000001"),
                currency: "USD".into(),
            }],
        };
        assert_eq!(DataSpec::read_sidecar(dir.path()).unwrap(), None);
        spec.write_sidecar(dir.path(), Some(12)).unwrap();
        assert_eq!(DataSpec::read_sidecar(dir.path()).unwrap(), Some(spec.clone()));
        assert_eq!(DataSpec::read_sidecar_with_events(dir.path()).unwrap(), Some((spec, Some(12))));
    }
}
