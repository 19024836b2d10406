//! The backtest CSV format: a preamble that describes the data, a column header, then one
//! row per market-data event, read as a stream (the file is never loaded whole).
//!
//! ```text
//! #keel-md 1
//! #feed l2
//! #venue BT 1
//! #instrument SYN-USD tick_size=0.01 lot_size=0.001 currency=USD
//! # any other line starting with "# " is a comment
//! exchange_ts,local_ts,instrument,kind,side,price,qty,order_id
//! 1767312000000000000,1767312000000150000,SYN-USD,l2,buy,99.99,1200,
//! 1767312000000020000,1767312000000171000,SYN-USD,trade,sell,99.99,300,
//! ```
//!
//! - `#keel-md 1` must come first; `#feed` (`l2` or `l3`) and at least one `#instrument`
//!   are required; `#venue NAME ID` is optional (default `BT 1`). An unknown `#word`
//!   directive is an error, so a typo is never ignored.
//! - Timestamps are integer nanoseconds since the Unix epoch (UTC): `exchange_ts` when the
//!   venue published the event, `local_ts` when the recorder received it.
//! - `price` and `qty` are decimals in the instrument's units and must be whole multiples
//!   of its `tick_size` and `lot_size`.
//! - `kind` and its required fields: `l2` (side, price, qty ≥ 0: the level's new total),
//!   `add` (side, price, qty > 0, order_id), `modify` (price, qty > 0, order_id),
//!   `delete` (order_id), `execute` (price, qty > 0, order_id: a resting order traded),
//!   `trade` (price, qty > 0, side = aggressor or empty), `snapshot_begin`,
//!   `snapshot_end`. `side` is `buy`/`bid`/`b` or `sell`/`ask`/`s`. L3 kinds need
//!   `#feed l3`, `l2` needs `#feed l2`.
//!
//! Every malformed row is an error naming its line number and the field at fault.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use keel_engine::core::FeedKind;
use keel_engine::{InstrumentId, Price, Qty, Side, TimestampNs};
use rust_decimal::Decimal;

use super::event::{MdEvent, MdKind};
use super::source::{DataError, EventSource, SourceProgress};
use super::spec::{DataSpec, Grid, InstrumentSpec, feed_name, parse_feed};

/// The column header, exactly.
pub const HEADER: &str = "exchange_ts,local_ts,instrument,kind,side,price,qty,order_id";
/// The first line, exactly.
pub const MAGIC: &str = "#keel-md 1";
const COLUMNS: usize = 8;

/// Reads a backtest CSV stream.
pub struct CsvSource<R: Read> {
    spec: DataSpec,
    grids: Vec<(Grid, Grid)>,
    origin: String,
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
    /// Lines and bytes before the first data row.
    preamble_lines: u64,
    preamble_bytes: u64,
    total_bytes: Option<u64>,
}

impl CsvSource<BufReader<File>> {
    /// Opens a file and reads its preamble.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let io = |source| DataError::Io { path: path.display().to_string(), source };
        let file = File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        let mut source = CsvSource::from_reader(
            BufReader::with_capacity(1 << 16, file),
            &path.display().to_string(),
        )?;
        source.total_bytes = Some(total);
        Ok(source)
    }
}

impl<R: BufRead> CsvSource<R> {
    /// Reads the preamble of `reader`; `origin` names it in errors.
    pub fn from_reader(mut reader: R, origin: &str) -> Result<Self, DataError> {
        let mut line = String::new();
        let mut lines = 0u64;
        let mut bytes = 0u64;
        let mut magic = false;
        let mut feed = None;
        let mut venue = ("BT".to_string(), 1u16);
        let mut instruments: Vec<InstrumentSpec> = Vec::new();
        let fail = |line: u64, problem: String| DataError::Preamble {
            origin: origin.to_string(),
            line,
            problem,
        };
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|source| DataError::Io { path: origin.to_string(), source })?;
            if n == 0 {
                return Err(fail(
                    lines + 1,
                    format!("end of file before the column header {HEADER:?}"),
                ));
            }
            lines += 1;
            bytes += n as u64;
            let text = line.trim_end_matches(['\n', '\r']);
            if !magic {
                if text != MAGIC {
                    return Err(fail(
                        lines,
                        format!("the first line must be {MAGIC:?}, found {text:?}"),
                    ));
                }
                magic = true;
                continue;
            }
            if text.is_empty() || text.starts_with("# ") || text == "#" {
                continue;
            }
            if let Some(directive) = text.strip_prefix('#') {
                let mut words = directive.split_whitespace();
                match words.next().unwrap_or("") {
                    "feed" => {
                        let value = words.next().unwrap_or("");
                        feed = Some(parse_feed(value).map_err(|e| fail(lines, e))?);
                        if words.next().is_some() {
                            return Err(fail(lines, "#feed takes one word: l2 or l3".into()));
                        }
                    }
                    "venue" => {
                        let (Some(name), Some(id), None) =
                            (words.next(), words.next(), words.next())
                        else {
                            return Err(fail(
                                lines,
                                "#venue takes a name and an id: #venue BT 1".into(),
                            ));
                        };
                        let id = id.parse::<u16>().ok().filter(|&i| i > 0).ok_or_else(|| {
                            fail(lines, format!("venue id {id:?} is not in 1..=65535"))
                        })?;
                        venue = (name.to_string(), id);
                    }
                    "instrument" => {
                        instruments.push(parse_instrument(&mut words).map_err(|e| fail(lines, e))?);
                    }
                    other => {
                        return Err(fail(
                            lines,
                            format!(
                                "unknown directive #{other}; directives are #feed, #venue and \
                                 #instrument (comments start with \"# \")"
                            ),
                        ));
                    }
                }
                continue;
            }
            if text != HEADER {
                return Err(fail(
                    lines,
                    format!("expected the column header {HEADER:?}, found {text:?}"),
                ));
            }
            break;
        }
        let Some(feed) = feed else {
            return Err(fail(lines, "no #feed directive before the column header".into()));
        };
        let spec = DataSpec { feed, venue_id: venue.1, venue_name: venue.0, instruments };
        spec.engine_instruments().map_err(|e| fail(lines, e.to_string()))?;
        let grids = spec
            .instruments
            .iter()
            .map(|i| (Grid::new(i.tick_size), Grid::new(i.lot_size)))
            .collect();
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(reader);
        Ok(CsvSource {
            spec,
            grids,
            origin: origin.to_string(),
            reader,
            record: csv::ByteRecord::new(),
            preamble_lines: lines,
            preamble_bytes: bytes,
            total_bytes: None,
        })
    }
}

fn parse_instrument(words: &mut std::str::SplitWhitespace<'_>) -> Result<InstrumentSpec, String> {
    let symbol = words.next().ok_or("#instrument needs a symbol")?;
    if symbol.contains('=') || symbol.contains(',') {
        return Err(format!("instrument symbol {symbol:?} may not contain '=' or ','"));
    }
    let (mut tick, mut lot, mut currency) = (None, None, "USD".to_string());
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!("#instrument {symbol}: {word:?} is not key=value"));
        };
        let dec =
            || {
                value.parse::<Decimal>().ok().filter(|d| *d > Decimal::ZERO).ok_or(format!(
                    "#instrument {symbol}: {key} {value:?} is not a positive decimal"
                ))
            };
        match key {
            "tick_size" => tick = Some(dec()?),
            "lot_size" => lot = Some(dec()?),
            "currency" => currency = value.to_string(),
            _ => {
                return Err(format!(
                    "#instrument {symbol}: unknown key {key:?} (tick_size, lot_size, currency)"
                ));
            }
        }
    }
    let tick_size = tick.ok_or(format!("#instrument {symbol}: tick_size is missing"))?;
    let lot_size = lot.ok_or(format!("#instrument {symbol}: lot_size is missing"))?;
    Ok(InstrumentSpec { symbol: symbol.to_string(), tick_size, lot_size, currency })
}

impl<R: Read> CsvSource<R> {
    /// What the preamble declared.
    pub fn spec(&self) -> &DataSpec {
        &self.spec
    }

    fn row_error(&self, problem: String) -> DataError {
        let line = self.preamble_lines + self.record.position().map_or(0, |p| p.line());
        DataError::Row { origin: self.origin.clone(), line, problem }
    }

    fn decode(&self) -> Result<MdEvent, String> {
        let r = &self.record;
        if r.len() != COLUMNS {
            return Err(format!("{} fields where {COLUMNS} are expected ({HEADER})", r.len()));
        }
        let field = |i: usize| &r[i];
        let ts = |i: usize, name: &str| {
            parse_u64(field(i))
                .map(TimestampNs)
                .ok_or_else(|| format!("{name} {:?} is not integer nanoseconds", lossy(field(i))))
        };
        let exchange_ts = ts(0, "exchange_ts")?;
        let local_ts = ts(1, "local_ts")?;
        let symbol = field(2);
        let Some(index) = self.spec.instruments.iter().position(|i| i.symbol.as_bytes() == symbol)
        else {
            return Err(format!(
                "instrument {:?} is not declared by an #instrument line",
                lossy(symbol)
            ));
        };
        let kind = parse_kind(field(3))?;
        let l3 = kind.is_l3();
        match (self.spec.feed, kind) {
            (FeedKind::L2, k) if l3 => {
                return Err(format!("kind {} needs #feed l3 (this file is l2)", k.name()));
            }
            (FeedKind::L3, MdKind::L2) => {
                return Err("kind l2 needs #feed l2 (this file is l3)".into());
            }
            _ => {}
        }
        let side = match field(4) {
            b"" => None,
            b"buy" | b"bid" | b"b" => Some(Side::Buy),
            b"sell" | b"ask" | b"s" => Some(Side::Sell),
            other => return Err(format!("side {:?} is not buy/bid/b or sell/ask/s", lossy(other))),
        };
        let (price_grid, qty_grid) = self.grids[index];
        let sym = &self.spec.instruments[index].symbol;
        let price = |required: bool| -> Result<Price, String> {
            match field(5) {
                b"" if !required => Ok(Price(0)),
                b"" => Err(format!("kind {} needs a price", kind.name())),
                text => {
                    price_grid.parse(text).map(Price).map_err(|e| format!("price: {e} ({sym})"))
                }
            }
        };
        let qty = |required: bool, positive: bool| -> Result<Qty, String> {
            let q = match field(6) {
                b"" if !required => return Ok(Qty(0)),
                b"" => return Err(format!("kind {} needs a qty", kind.name())),
                text => qty_grid.parse(text).map(Qty).map_err(|e| format!("qty: {e} ({sym})"))?,
            };
            if q.0 < 0 || (positive && q.0 == 0) {
                let want = if positive { "positive" } else { "zero or more" };
                return Err(format!(
                    "qty {} must be {want} for kind {}",
                    lossy(field(6)),
                    kind.name()
                ));
            }
            Ok(q)
        };
        let order_id = match (field(7), l3) {
            (b"", false) => 0,
            (b"", true) => return Err(format!("kind {} needs an order_id", kind.name())),
            (text, true) => parse_u64(text)
                .ok_or_else(|| format!("order_id {:?} is not an unsigned integer", lossy(text)))?,
            (_, false) => return Err(format!("kind {} takes no order_id", kind.name())),
        };
        let need_side = |s: Option<Side>| {
            s.map(Some).ok_or_else(|| format!("kind {} needs a side", kind.name()))
        };
        let mut e = MdEvent::new(kind, InstrumentId(index as u32));
        e.exchange_ts = exchange_ts;
        e.local_ts = local_ts;
        e.order_id = order_id;
        match kind {
            MdKind::L2 => {
                e.side = need_side(side)?;
                e.price = price(true)?;
                e.qty = qty(true, false)?;
            }
            MdKind::Add => {
                e.side = need_side(side)?;
                e.price = price(true)?;
                e.qty = qty(true, true)?;
            }
            MdKind::Modify | MdKind::Execute => {
                e.side = side;
                e.price = price(true)?;
                e.qty = qty(true, true)?;
            }
            MdKind::Delete => e.side = side,
            MdKind::Trade => {
                e.side = side;
                e.price = price(true)?;
                e.qty = qty(true, true)?;
            }
            MdKind::SnapshotBegin | MdKind::SnapshotEnd | MdKind::Status => {}
        }
        Ok(e)
    }
}

impl<R: Read> EventSource for CsvSource<R> {
    fn next_event(&mut self) -> Result<Option<MdEvent>, DataError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => self.decode().map(Some).map_err(|p| self.row_error(p)),
            Err(e) => {
                let line = self.preamble_lines + e.position().map_or(0, |p| p.line());
                Err(DataError::Row { origin: self.origin.clone(), line, problem: e.to_string() })
            }
        }
    }

    fn progress(&self) -> SourceProgress {
        SourceProgress {
            done: self.preamble_bytes + self.reader.position().byte(),
            total: self.total_bytes,
        }
    }

    fn unit(&self) -> &'static str {
        "bytes"
    }
}

fn parse_kind(text: &[u8]) -> Result<MdKind, String> {
    Ok(match text {
        b"l2" => MdKind::L2,
        b"add" => MdKind::Add,
        b"modify" => MdKind::Modify,
        b"delete" => MdKind::Delete,
        b"execute" => MdKind::Execute,
        b"trade" => MdKind::Trade,
        b"snapshot_begin" => MdKind::SnapshotBegin,
        b"snapshot_end" => MdKind::SnapshotEnd,
        other => {
            return Err(format!(
                "kind {:?} is not one of l2, add, modify, delete, execute, trade, \
                 snapshot_begin, snapshot_end",
                lossy(other)
            ));
        }
    })
}

#[inline]
fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((b - b'0') as u64)?;
    }
    Some(v)
}

fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

/// Writes events in the backtest CSV format.
pub struct CsvWriter<W: Write> {
    out: W,
    grids: Vec<(Grid, Grid)>,
    symbols: Vec<String>,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the preamble and the column header for `spec`.
    pub fn new(mut out: W, spec: &DataSpec, comments: &[String]) -> std::io::Result<Self> {
        writeln!(out, "{MAGIC}")?;
        for c in comments {
            for line in c.lines() {
                writeln!(out, "# {line}")?;
            }
        }
        writeln!(out, "#feed {}", feed_name(spec.feed))?;
        writeln!(out, "#venue {} {}", spec.venue_name, spec.venue_id)?;
        for i in &spec.instruments {
            writeln!(
                out,
                "#instrument {} tick_size={} lot_size={} currency={}",
                i.symbol, i.tick_size, i.lot_size, i.currency
            )?;
        }
        writeln!(out, "{HEADER}")?;
        Ok(CsvWriter {
            out,
            grids: spec
                .instruments
                .iter()
                .map(|i| (Grid::new(i.tick_size), Grid::new(i.lot_size)))
                .collect(),
            symbols: spec.instruments.iter().map(|i| i.symbol.clone()).collect(),
        })
    }

    /// Writes one event (instrument ids index the spec's instruments).
    pub fn write(&mut self, e: &MdEvent) -> std::io::Result<()> {
        let i = e.instrument.index();
        let (pg, qg) = self.grids[i];
        let out = &mut self.out;
        write!(out, "{},{},{},{},", e.exchange_ts.0, e.local_ts.0, self.symbols[i], e.kind.name())?;
        match e.side {
            Some(Side::Buy) => out.write_all(b"buy,")?,
            Some(Side::Sell) => out.write_all(b"sell,")?,
            None => out.write_all(b",")?,
        }
        let (has_price, has_qty) = match e.kind {
            MdKind::L2 | MdKind::Add | MdKind::Modify | MdKind::Execute | MdKind::Trade => {
                (true, true)
            }
            _ => (false, false),
        };
        if has_price {
            pg.write(e.price.0, out)?;
        }
        out.write_all(b",")?;
        if has_qty {
            qg.write(e.qty.0, out)?;
        }
        out.write_all(b",")?;
        if e.kind.is_l3() {
            write!(out, "{}", e.order_id)?;
        }
        out.write_all(b"\n")
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "#keel-md 1\n# a comment\n#feed l3\n#venue X 3\n\
        #instrument BTC-USD tick_size=1 lot_size=0.00000001\n\
        exchange_ts,local_ts,instrument,kind,side,price,qty,order_id\n\
        10,12,BTC-USD,add,bid,78318.0,1.5,7\n\
        11,13,BTC-USD,execute,,78318,0.5,7\n\
        12,14,BTC-USD,trade,sell,78318,0.5,\n\
        13,15,BTC-USD,delete,,,,7\n";

    fn read_all(text: &str) -> Result<Vec<MdEvent>, DataError> {
        let mut src = CsvSource::from_reader(text.as_bytes(), "t.csv")?;
        let mut out = Vec::new();
        while let Some(e) = src.next_event()? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn reads_the_preamble_and_rows() {
        let src = CsvSource::from_reader(GOOD.as_bytes(), "t.csv").unwrap();
        assert_eq!(src.spec().feed, FeedKind::L3);
        assert_eq!((src.spec().venue_name.as_str(), src.spec().venue_id), ("X", 3));
        let events = read_all(GOOD).unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].kind, MdKind::Add);
        assert_eq!(
            (events[0].price, events[0].qty, events[0].order_id),
            (Price(78318), Qty(150_000_000), 7)
        );
        assert_eq!(events[0].side, Some(Side::Buy));
        assert_eq!((events[1].kind, events[1].qty), (MdKind::Execute, Qty(50_000_000)));
        assert_eq!((events[2].kind, events[2].side), (MdKind::Trade, Some(Side::Sell)));
        assert_eq!(
            (events[3].kind, events[3].exchange_ts, events[3].local_ts),
            (MdKind::Delete, TimestampNs(13), TimestampNs(15))
        );
    }

    #[test]
    fn a_malformed_row_names_its_line() {
        let bad = GOOD
            .replace("11,13,BTC-USD,execute,,78318,0.5,7", "11,13,BTC-USD,execute,,78318.5,0.5,7");
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:8: price:"), "{err}");
        let bad = GOOD.replace("12,14,BTC-USD,trade", "12,x14,BTC-USD,trade");
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:9: local_ts"), "{err}");
        let bad = GOOD.replace("13,15,BTC-USD,delete,,,,7", "13,15,BTC-USD,delete,,,");
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:10: 7 fields"), "{err}");
        let bad = GOOD.replace("#feed l3", "#feed l2");
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:7: kind add needs #feed l3"), "{err}");
        let bad = GOOD.replace("#venue X 3", "#vneue X 3");
        let err = read_all(&bad).unwrap_err().to_string();
        assert!(err.starts_with("t.csv:4: unknown directive #vneue"), "{err}");
    }

    #[test]
    fn writer_output_reads_back() {
        let src = CsvSource::from_reader(GOOD.as_bytes(), "t.csv").unwrap();
        let spec = src.spec().clone();
        let events = read_all(GOOD).unwrap();
        let mut w = CsvWriter::new(Vec::new(), &spec, &["made by a test".into()]).unwrap();
        for e in &events {
            w.write(e).unwrap();
        }
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(read_all(&text).unwrap(), events);
    }
}
