//! `keel audit orders`: each order's lifecycle, rebuilt from the journal without replaying
//! the core (the outputs say what the core decided).
//!
//! An order is keyed by Keel's order id. Its events are, in journal order: the inputs that
//! caused something to happen to it (the client's new order, cancel or replace; the venue's
//! acks, fills, cancels and rejects; a timer, market data or a strategy's turn that
//! triggered or expired it) and every output about it (execution reports with the risk
//! decision, orders/cancels/replaces sent to the venue, cancel rejects, anomalies).
//! An order Keel refused before assigning an id (order id 0) is keyed by its input.

use std::collections::BTreeMap;
use std::path::Path;

use keel_engine::core::CoreConfig;
use keel_engine::schema::{Command, CommandBody, Output, OutputBody, RejectInfo};
use keel_engine::{AccountId, InstrumentId, SessionId, VenueId};
use serde::{Deserialize, Serialize};

use super::{Names, ScanError, open_reader};
use crate::format::{Point, utc};
use crate::log::{Entry, decode};

/// Which orders (and which of their events) to show. Every filter that is set must hold.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Keel's order id.
    pub order_id: Option<u64>,
    /// The client order id the order was entered with (or any it was replaced to).
    pub cl_ord_id: Option<String>,
    /// Account number.
    pub account: Option<u32>,
    /// Instrument symbol or number.
    pub instrument: Option<String>,
    /// Venue name or number.
    pub venue: Option<String>,
    /// Session number that entered the order.
    pub session: Option<u32>,
    /// Only events at or after this point.
    pub from: Option<Point>,
    /// Only events at or before this point.
    pub to: Option<Point>,
    /// The order's final status (`new`, `partially_filled`, `filled`, `canceled`,
    /// `rejected`, `expired`, `pending_new`, `pending_cancel`, `pending_replace`).
    pub status: Option<String>,
}

/// One event of one order: a row of the output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// Keel's order id (0: refused before one was assigned).
    pub order_id: u64,
    /// The client order id the order was entered with.
    pub cl_ord_id: String,
    /// Account.
    pub account: Option<u32>,
    /// Instrument symbol.
    pub instrument: String,
    /// Venue name.
    pub venue: String,
    /// Session that entered the order.
    pub session: Option<u32>,
    /// Buy or Sell.
    pub side: String,
    /// Journal sequence of this record.
    pub seq: u64,
    /// Its time, UTC.
    pub time: String,
    /// The input that caused it.
    pub input_seq: u64,
    /// `input` or `output`.
    pub record: String,
    /// What happened: the command or output kind.
    pub event: String,
    /// Execution type (execution reports).
    pub exec_type: String,
    /// Order status after it (execution reports).
    pub status: String,
    /// Price (order price, fill price for fills).
    pub price: String,
    /// Quantity (order quantity, fill quantity for fills).
    pub qty: String,
    /// Fill price (execution reports of fills).
    pub last_px: String,
    /// Fill quantity (execution reports of fills).
    pub last_qty: String,
    /// Filled so far.
    pub cum_qty: String,
    /// Still working.
    pub leaves_qty: String,
    /// Risk decision: `accepted`, or the reject code.
    pub decision: String,
    /// The reject's offending value, named (e.g. `qty=25`).
    pub reject_value: String,
    /// The limit it was checked against, named (e.g. `max=20`).
    pub reject_limit: String,
    /// Anything else (client order ids of cancels/replaces, venue ids, fees, reasons).
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Id(u64),
    /// Refused before an id: (input seq, output seq).
    Unassigned(u64, u64),
}

#[derive(Clone, Copy)]
enum Raw {
    Input(Command),
    Output(Output),
}

struct RawEvent {
    seq: u64,
    ts_ns: u64,
    input_seq: u64,
    raw: Raw,
}

#[derive(Default)]
struct Life {
    session: Option<SessionId>,
    account: Option<AccountId>,
    cl_ord_ids: Vec<String>,
    instrument: Option<InstrumentId>,
    venue: Option<VenueId>,
    side: String,
    status: String,
    events: Vec<RawEvent>,
}

/// The order a venue report names.
fn venue_report_order(body: &CommandBody) -> Option<(u64, VenueId)> {
    match body {
        CommandBody::VenueAck(x) => Some((x.order_id.0, x.venue)),
        CommandBody::VenueReject(x) => Some((x.order_id.0, x.venue)),
        CommandBody::VenueFill(x) => Some((x.order_id.0, x.venue)),
        CommandBody::VenueCancelAck(x) => Some((x.order_id.0, x.venue)),
        CommandBody::VenueReplaceAck(x) => Some((x.order_id.0, x.venue)),
        CommandBody::VenueCancelReject(x) => Some((x.order_id.0, x.venue)),
        _ => None,
    }
}

/// Lower-case snake name of a Debug-printed unit variant (`PartiallyFilled` →
/// `partially_filled`).
pub fn snake(debug: impl std::fmt::Debug) -> String {
    let s = format!("{debug:?}");
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads the journal at `dir` and returns the events of the orders that pass `filter`,
/// ordered by order id (refused-before-id orders last), then by sequence.
pub fn orders(
    dir: &Path,
    config: &CoreConfig,
    filter: &OrderFilter,
) -> Result<Vec<OrderEvent>, ScanError> {
    let names = Names::new(config);
    let instrument = filter
        .instrument
        .as_deref()
        .map(|s| names.find_instrument(s))
        .transpose()
        .map_err(ScanError::Filter)?;
    let venue = filter
        .venue
        .as_deref()
        .map(|s| names.find_venue(s))
        .transpose()
        .map_err(ScanError::Filter)?;

    let mut lives: BTreeMap<Key, Life> = BTreeMap::new();
    let mut reader = open_reader(dir)?;
    let mut input: Option<(u64, u64, Command)> = None;
    let mut attached: Vec<Key> = Vec::new();
    while let Some(rec) = reader.next()? {
        let (ts_ns, entry) = (rec.ts_ns, decode(&rec)?);
        match entry {
            Entry::Input { seq, cmd } => {
                input = Some((seq, ts_ns, cmd));
                attached.clear();
                if let Some((id, v)) = venue_report_order(&cmd.body) {
                    if filter.order_id.is_none_or(|f| f == id) {
                        let life = lives.entry(Key::Id(id)).or_default();
                        life.venue.get_or_insert(v);
                        life.events.push(RawEvent {
                            seq,
                            ts_ns,
                            input_seq: seq,
                            raw: Raw::Input(cmd),
                        });
                        attached.push(Key::Id(id));
                    }
                }
            }
            Entry::Output { seq, out } => {
                let Some((input_seq, input_ts, cmd)) = input else { continue };
                let key = match &out.body {
                    OutputBody::VenueNewOrder(x) => Key::Id(x.order_id.0),
                    OutputBody::VenueCancel(x) => Key::Id(x.order_id.0),
                    OutputBody::VenueReplace(x) => Key::Id(x.order_id.0),
                    OutputBody::Anomaly(x) => Key::Id(x.order_id.0),
                    OutputBody::ExecReport(x) if x.order_id.0 == 0 => {
                        Key::Unassigned(input_seq, seq)
                    }
                    OutputBody::ExecReport(x) => Key::Id(x.order_id.0),
                    OutputBody::CancelReject(x) if x.order_id.0 != 0 => Key::Id(x.order_id.0),
                    _ => continue,
                };
                let id = match key {
                    Key::Id(id) => id,
                    Key::Unassigned(..) => 0,
                };
                if filter.order_id.is_some_and(|f| f != id) {
                    continue;
                }
                let life = lives.entry(key).or_default();
                match &out.body {
                    OutputBody::VenueNewOrder(x) => {
                        life.venue.get_or_insert(x.venue);
                        life.instrument.get_or_insert(x.instrument);
                    }
                    OutputBody::ExecReport(x) => {
                        life.session.get_or_insert(x.session);
                        life.account.get_or_insert(x.account);
                        life.instrument.get_or_insert(x.instrument);
                        if life.side.is_empty() {
                            life.side = format!("{:?}", x.side);
                        }
                        let cl = x.cl_ord_id.as_str().to_string();
                        if !life.cl_ord_ids.contains(&cl) {
                            life.cl_ord_ids.push(cl);
                        }
                        life.status = snake(x.ord_status);
                        if let CommandBody::NewOrder(o) = &cmd.body {
                            if let keel_engine::schema::Route::Venue(v) = o.route {
                                life.venue.get_or_insert(v);
                            }
                        }
                    }
                    _ => {}
                }
                if !attached.contains(&key) {
                    attached.push(key);
                    life.events.push(RawEvent {
                        seq: input_seq,
                        ts_ns: input_ts,
                        input_seq,
                        raw: Raw::Input(cmd),
                    });
                }
                life.events.push(RawEvent { seq, ts_ns, input_seq, raw: Raw::Output(out) });
            }
            Entry::Other { .. } => {}
        }
    }

    let mut rows = Vec::new();
    for (key, life) in &lives {
        let order_id = match key {
            Key::Id(id) => *id,
            Key::Unassigned(..) => 0,
        };
        if filter.account.is_some_and(|a| life.account != Some(AccountId(a)))
            || filter.session.is_some_and(|s| life.session != Some(SessionId(s)))
            || instrument.is_some_and(|i| life.instrument != Some(i))
            || venue.is_some_and(|v| life.venue != Some(v))
            || filter.status.as_ref().is_some_and(|s| life.status != *s)
            || filter.cl_ord_id.as_ref().is_some_and(|c| !life.cl_ord_ids.contains(c))
        {
            continue;
        }
        for ev in &life.events {
            if filter.from.is_some_and(|p| !p.admits_from(ev.seq, ev.ts_ns))
                || filter.to.is_some_and(|p| !p.admits_to(ev.seq, ev.ts_ns))
            {
                continue;
            }
            rows.push(render_event(&names, order_id, life, ev));
        }
    }
    Ok(rows)
}

fn reject_cells(r: &RejectInfo) -> (String, String, String) {
    let (vn, ln) = r.code.field_names();
    let v = if vn.is_empty() { String::new() } else { format!("{vn}={}", r.value) };
    let l = if ln.is_empty() { String::new() } else { format!("{ln}={}", r.limit) };
    (r.code.as_str().to_string(), v, l)
}

fn render_event(names: &Names<'_>, order_id: u64, life: &Life, ev: &RawEvent) -> OrderEvent {
    let inst = life.instrument;
    let px = |p| inst.map_or_else(String::new, |i| names.price(i, p));
    let qty = |q| inst.map_or_else(String::new, |i| names.qty(i, q));
    let mut row = OrderEvent {
        order_id,
        cl_ord_id: life.cl_ord_ids.first().cloned().unwrap_or_default(),
        account: life.account.map(|a| a.0),
        instrument: inst.map_or_else(String::new, |i| names.symbol(i)),
        venue: life.venue.map_or_else(String::new, |v| names.venue(v)),
        session: life.session.map(|s| s.0),
        side: life.side.clone(),
        seq: ev.seq,
        time: utc(ev.ts_ns),
        input_seq: ev.input_seq,
        record: String::new(),
        event: String::new(),
        exec_type: String::new(),
        status: String::new(),
        price: String::new(),
        qty: String::new(),
        last_px: String::new(),
        last_qty: String::new(),
        cum_qty: String::new(),
        leaves_qty: String::new(),
        decision: String::new(),
        reject_value: String::new(),
        reject_limit: String::new(),
        detail: String::new(),
    };
    match &ev.raw {
        Raw::Input(cmd) => {
            row.record = "input".into();
            row.event = keel_engine::core::COMMAND_KIND_NAMES
                [keel_engine::core::command_kind_index(&cmd.body)]
            .into();
            let from = format!("session {}", cmd.session);
            row.detail = match &cmd.body {
                CommandBody::NewOrder(o) => {
                    row.price = px(o.price);
                    row.qty = qty(o.qty);
                    let route = match o.route {
                        keel_engine::schema::Route::Venue(v) => names.venue(v),
                        keel_engine::schema::Route::BestPrice => "best_price".into(),
                    };
                    format!("{from}: {:?} {:?} {} to {route}", o.side, o.ord_type, snake(o.tif))
                }
                CommandBody::CancelOrder(c) => {
                    format!("{from}: cl_ord_id {} cancels {}", c.cl_ord_id, c.orig_cl_ord_id)
                }
                CommandBody::ReplaceOrder(r) => {
                    row.price = px(r.price);
                    row.qty = qty(r.qty);
                    format!("{from}: cl_ord_id {} replaces {}", r.cl_ord_id, r.orig_cl_ord_id)
                }
                CommandBody::VenueAck(a) => format!("venue_order_id {}", a.venue_order_id),
                CommandBody::VenueReject(r) => format!("venue reason {}", r.reason),
                CommandBody::VenueFill(f) => {
                    row.price = px(f.price);
                    row.qty = qty(f.qty);
                    let fee = inst
                        .map_or_else(|| f.fee.to_string(), |i| names.notional(i, f.fee as i128));
                    format!("exec_id {} fee {fee} {:?}", f.exec_id, f.liquidity)
                }
                CommandBody::VenueCancelAck(c) => {
                    if c.unsolicited {
                        "unsolicited".into()
                    } else {
                        "requested".into()
                    }
                }
                CommandBody::VenueReplaceAck(r) => {
                    row.price = px(r.price);
                    row.qty = qty(r.qty);
                    String::new()
                }
                CommandBody::VenueCancelReject(r) => {
                    format!("{} refused, venue reason {}", snake(r.response_to), r.reason)
                }
                _ => from,
            };
        }
        Raw::Output(out) => {
            row.record = "output".into();
            row.event = crate::recover::OUTPUT_KIND_NAMES
                [crate::recover::output_kind_index(&out.body)]
            .into();
            match &out.body {
                OutputBody::ExecReport(x) => {
                    let p = |v| names.price(x.instrument, v);
                    let q = |v| names.qty(x.instrument, v);
                    row.exec_type = snake(x.exec_type);
                    row.status = snake(x.ord_status);
                    row.price = p(x.price);
                    row.qty = q(x.qty);
                    if x.exec_type == keel_engine::schema::ExecType::Trade {
                        row.last_px = p(x.last_px);
                        row.last_qty = q(x.last_qty);
                    }
                    row.cum_qty = q(x.cum_qty);
                    row.leaves_qty = q(x.leaves_qty);
                    match &x.reject {
                        Some(r) => {
                            (row.decision, row.reject_value, row.reject_limit) = reject_cells(r)
                        }
                        None if x.exec_type == keel_engine::schema::ExecType::PendingNew => {
                            row.decision = "accepted".into()
                        }
                        None => {}
                    }
                    row.detail = match x.orig_cl_ord_id {
                        Some(o) => {
                            format!("to session {}: cl_ord_id {} (was {o})", x.session, x.cl_ord_id)
                        }
                        None => format!("to session {}: cl_ord_id {}", x.session, x.cl_ord_id),
                    };
                }
                OutputBody::VenueNewOrder(x) => {
                    row.price = names.price(x.instrument, x.price);
                    row.qty = names.qty(x.instrument, x.qty);
                    row.detail = format!(
                        "to {}: {:?} {:?} {}",
                        names.venue(x.venue),
                        x.side,
                        x.ord_type,
                        snake(x.tif)
                    );
                }
                OutputBody::VenueCancel(x) => {
                    row.detail =
                        format!("to {}: venue_order_id {}", names.venue(x.venue), x.venue_order_id)
                }
                OutputBody::VenueReplace(x) => {
                    row.price = names.price(x.instrument, x.price);
                    row.qty = names.qty(x.instrument, x.qty);
                    row.detail =
                        format!("to {}: venue_order_id {}", names.venue(x.venue), x.venue_order_id);
                }
                OutputBody::CancelReject(x) => {
                    row.status = snake(x.ord_status);
                    (row.decision, row.reject_value, row.reject_limit) = reject_cells(&x.reject);
                    row.detail = format!(
                        "{} {} of {} refused",
                        snake(x.response_to),
                        x.cl_ord_id,
                        x.orig_cl_ord_id
                    );
                }
                OutputBody::Anomaly(x) => {
                    (row.decision, row.reject_value, row.reject_limit) = reject_cells(&x.reject);
                    row.detail = format!("venue {} report not applied", names.venue(x.venue));
                }
                OutputBody::MassCancelReport(_) | OutputBody::AdminAck(_) => {}
            }
        }
    }
    row
}
