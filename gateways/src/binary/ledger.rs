//! What the server has said to each binary session: the server sequence, the last
//! messages retained for replay, the session's working orders and its positions.
//!
//! # Contract
//! - **One number per output.** Every execution report, cancel reject and mass-cancel
//!   report the core addresses to a session becomes exactly one sequenced [`Report`], with
//!   the next server sequence of that session (contiguous from 1).
//! - **Deterministic, so it survives a restart.** The sequence and the message chosen for
//!   an output depend only on the outputs to the session before it, all of which are in
//!   the journal. `keel serve` rebuilds the ledgers from the journal's output records at
//!   start ([`Ledgers::record`] with each record's journal sequence), and the live outputs
//!   continue them; an output at or below a session's last recorded journal sequence is
//!   ignored, so the history and the live stream may overlap without double counting.
//! - **Bounded.** A session retains its last `retain` reports (each at most
//!   [`REPORT_BYTES_MAX`] bytes in memory) for replay; older ones are forgotten, and a
//!   reconnecting client is told where replay starts. Working orders are bounded by the
//!   core's order table; positions by the instruments.

use super::ServerMsg;
use super::msg::queries::{OrderStatus, PositionReport};
use super::msg::reports::{
    CancelAck, CancelReject, Fill, MassCancelAck, OrderAck, OrderReject, ReplaceAck,
    UnsolicitedCancel, UnsolicitedReason,
};
use keel_engine::schema::{
    ExecReport, ExecType, OrdStatus, Output, OutputBody, RejectCode, RejectInfo,
};
use keel_engine::{InstrumentId, OrderId, SessionId, Side};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// A sequenced server message: the answers to order entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// Accepted, acknowledged or triggered.
    OrderAck(OrderAck),
    /// Rejected.
    OrderReject(OrderReject),
    /// A fill.
    Fill(Fill),
    /// A cancel pending or done.
    CancelAck(CancelAck),
    /// A replace pending or done.
    ReplaceAck(ReplaceAck),
    /// Ended without this session asking.
    UnsolicitedCancel(UnsolicitedCancel),
    /// A cancel or replace refused.
    CancelReject(CancelReject),
    /// The answer to a mass cancel.
    MassCancelAck(MassCancelAck),
}

/// The largest [`Report`] in memory, bytes (what one retained message costs).
pub const REPORT_BYTES_MAX: usize = std::mem::size_of::<Report>();

// docs/binary-protocol.md and the default configuration quote this bound.
const _: () = assert!(REPORT_BYTES_MAX <= 184);

impl From<Report> for ServerMsg {
    fn from(r: Report) -> ServerMsg {
        match r {
            Report::OrderAck(m) => ServerMsg::OrderAck(m),
            Report::OrderReject(m) => ServerMsg::OrderReject(m),
            Report::Fill(m) => ServerMsg::Fill(m),
            Report::CancelAck(m) => ServerMsg::CancelAck(m),
            Report::ReplaceAck(m) => ServerMsg::ReplaceAck(m),
            Report::UnsolicitedCancel(m) => ServerMsg::UnsolicitedCancel(m),
            Report::CancelReject(m) => ServerMsg::CancelReject(m),
            Report::MassCancelAck(m) => ServerMsg::MassCancelAck(m),
        }
    }
}

impl Report {
    /// Encodes the frame with its sequence into `buf`; returns its length.
    #[inline]
    pub fn encode(&self, seq: u64, buf: &mut [u8]) -> usize {
        ServerMsg::from(*self).encode(seq, buf)
    }
}

/// A working order as last reported to its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingOrder {
    /// The latest execution report.
    pub last: ExecReport,
    /// Its time (core time, UTC ns).
    pub at: keel_engine::TimestampNs,
    /// A cancel of it was accepted (pending-cancel reported) and not refused since.
    pub cancel_requested: bool,
}

/// A session's position in one instrument, from the fills reported to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionPosition {
    /// Bought, lots.
    pub bought_qty: i64,
    /// Sold, lots.
    pub sold_qty: i64,
    /// Σ price × quantity bought, ticks·lots (saturating).
    pub bought_notional: i64,
    /// Σ price × quantity sold, ticks·lots (saturating).
    pub sold_notional: i64,
    /// Fills.
    pub fills: u64,
}

/// One session's ledger.
#[derive(Clone, Debug)]
pub struct SessionLedger {
    last_seq: u64,
    last_journal_seq: u64,
    retain: usize,
    retained: VecDeque<Report>,
    orders: HashMap<OrderId, WorkingOrder>,
    positions: BTreeMap<InstrumentId, SessionPosition>,
}

impl SessionLedger {
    fn new(retain: usize) -> SessionLedger {
        SessionLedger {
            last_seq: 0,
            last_journal_seq: 0,
            retain: retain.max(1),
            retained: VecDeque::new(),
            orders: HashMap::new(),
            positions: BTreeMap::new(),
        }
    }

    /// The last server sequence assigned (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The oldest sequence still retained (`last_seq + 1` when none is).
    pub fn first_retained(&self) -> u64 {
        self.last_seq + 1 - self.retained.len() as u64
    }

    /// The report with sequence `seq`, if retained.
    pub fn get(&self, seq: u64) -> Option<&Report> {
        let first = self.first_retained();
        if seq < first {
            return None;
        }
        self.retained.get((seq - first) as usize)
    }

    /// The working orders, in order-id order.
    pub fn working_orders(&self) -> Vec<WorkingOrder> {
        let mut v: Vec<WorkingOrder> = self.orders.values().copied().collect();
        v.sort_by_key(|o| o.last.order_id);
        v
    }

    /// Positions by instrument.
    pub fn positions(&self) -> impl Iterator<Item = (InstrumentId, &SessionPosition)> {
        self.positions.iter().map(|(i, p)| (*i, p))
    }

    /// Records one output addressed to this session; returns the report and its sequence,
    /// or `None` for outputs clients do not receive.
    fn record(&mut self, body: &OutputBody, ts: keel_engine::TimestampNs) -> Option<(u64, Report)> {
        let report = match body {
            OutputBody::ExecReport(r) => self.exec_report(r, ts),
            OutputBody::CancelReject(r) => {
                if let Some(o) = self.orders.get_mut(&r.order_id) {
                    o.cancel_requested = false;
                }
                Report::CancelReject(CancelReject {
                    order_id: r.order_id,
                    cl_ord_id: r.cl_ord_id,
                    orig_cl_ord_id: r.orig_cl_ord_id,
                    response_to: r.response_to,
                    ord_status: r.ord_status,
                    pad: Default::default(),
                    reject: r.reject,
                    transact_time: ts,
                })
            }
            OutputBody::MassCancelReport(r) => Report::MassCancelAck(MassCancelAck {
                cl_ord_id: r.cl_ord_id,
                affected: r.affected,
                pad: Default::default(),
                reject: r.reject,
                transact_time: ts,
            }),
            _ => return None,
        };
        self.last_seq += 1;
        if self.retained.len() == self.retain {
            self.retained.pop_front();
        }
        self.retained.push_back(report);
        Some((self.last_seq, report))
    }

    fn exec_report(&mut self, r: &ExecReport, ts: keel_engine::TimestampNs) -> Report {
        let requested = self.orders.get(&r.order_id).is_some_and(|o| o.cancel_requested);
        let report = classify(r, ts, requested);
        if r.exec_type == ExecType::Trade {
            let p = self.positions.entry(r.instrument).or_default();
            let notional = (r.last_px.0 as i128 * r.last_qty.0 as i128)
                .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
            match r.side {
                Side::Buy => {
                    p.bought_qty = p.bought_qty.saturating_add(r.last_qty.0);
                    p.bought_notional = p.bought_notional.saturating_add(notional);
                }
                Side::Sell => {
                    p.sold_qty = p.sold_qty.saturating_add(r.last_qty.0);
                    p.sold_notional = p.sold_notional.saturating_add(notional);
                }
            }
            p.fills += 1;
        }
        if is_terminal(r.ord_status) {
            self.orders.remove(&r.order_id);
        } else if r.order_id.0 != 0 {
            let e = self.orders.entry(r.order_id).or_insert(WorkingOrder {
                last: *r,
                at: ts,
                cancel_requested: false,
            });
            e.last = *r;
            e.at = ts;
            if r.exec_type == ExecType::PendingCancel {
                e.cancel_requested = true;
            }
        }
        report
    }
}

fn is_terminal(s: OrdStatus) -> bool {
    matches!(s, OrdStatus::Filled | OrdStatus::Canceled | OrdStatus::Rejected | OrdStatus::Expired)
}

/// The message an execution report becomes. `cancel_requested`: this session's order had
/// a cancel accepted (so its final cancel answers a request).
pub fn classify(r: &ExecReport, ts: keel_engine::TimestampNs, cancel_requested: bool) -> Report {
    macro_rules! block {
        ($t:ident { $($extra:tt)* }) => {
            $t {
                order_id: r.order_id,
                cl_ord_id: r.cl_ord_id,
                orig_cl_ord_id: r.orig_cl_ord_id,
                instrument: r.instrument,
                side: r.side,
                ord_type: r.ord_type,
                exec_type: r.exec_type,
                ord_status: r.ord_status,
                price: r.price,
                qty: r.qty,
                leaves_qty: r.leaves_qty,
                cum_qty: r.cum_qty,
                cum_notional: r.cum_notional,
                transact_time: ts,
                $($extra)*
            }
        };
    }
    let unsolicited = |reason, reject| {
        Report::UnsolicitedCancel(block!(UnsolicitedCancel {
            reason,
            pad: Default::default(),
            reject,
        }))
    };
    match r.exec_type {
        ExecType::PendingNew | ExecType::New | ExecType::Triggered => {
            Report::OrderAck(block!(OrderAck {}))
        }
        ExecType::Rejected => {
            debug_assert!(r.reject.is_some(), "a rejected report carries its reason");
            // A rejected report always carries its reason; should one not, say it was
            // the venue's (the only rejecter that may give no code of Keel's).
            let reject = r.reject.unwrap_or(RejectInfo::bare(RejectCode::VenueRejected));
            Report::OrderReject(block!(OrderReject { reject }))
        }
        ExecType::Trade => Report::Fill(block!(Fill { last_px: r.last_px, last_qty: r.last_qty })),
        ExecType::PendingCancel => Report::CancelAck(block!(CancelAck {})),
        ExecType::Canceled => match r.reject {
            Some(reject) => unsolicited(UnsolicitedReason::Keel, Some(reject)),
            None if cancel_requested || r.orig_cl_ord_id.is_some() => {
                Report::CancelAck(block!(CancelAck {}))
            }
            None => unsolicited(UnsolicitedReason::Venue, None),
        },
        ExecType::Expired => unsolicited(UnsolicitedReason::Expired, None),
        ExecType::PendingReplace | ExecType::Replaced => Report::ReplaceAck(block!(ReplaceAck {})),
    }
}

/// Builds an `OrderStatus` answer for a working order.
pub fn order_status(request_id: u64, o: &WorkingOrder) -> OrderStatus {
    let r = &o.last;
    OrderStatus {
        request_id,
        order_id: r.order_id,
        cl_ord_id: r.cl_ord_id,
        orig_cl_ord_id: r.orig_cl_ord_id,
        instrument: r.instrument,
        side: r.side,
        ord_type: r.ord_type,
        exec_type: r.exec_type,
        ord_status: r.ord_status,
        price: r.price,
        qty: r.qty,
        leaves_qty: r.leaves_qty,
        cum_qty: r.cum_qty,
        cum_notional: r.cum_notional,
        transact_time: o.at,
    }
}

/// Builds a `PositionReport` answer.
pub fn position_report(
    request_id: u64,
    instrument: InstrumentId,
    p: &SessionPosition,
) -> PositionReport {
    PositionReport {
        request_id,
        instrument,
        pad: Default::default(),
        net_qty: p.bought_qty.saturating_sub(p.sold_qty),
        bought_qty: p.bought_qty,
        sold_qty: p.sold_qty,
        bought_notional: p.bought_notional,
        sold_notional: p.sold_notional,
        fills: p.fills,
    }
}

/// The ledgers of every binary session.
#[derive(Clone, Debug)]
pub struct Ledgers {
    sessions: BTreeMap<SessionId, SessionLedger>,
}

impl Ledgers {
    /// Empty ledgers for `sessions`, each retaining its last `retain` reports.
    pub fn new(sessions: impl IntoIterator<Item = SessionId>, retain: usize) -> Ledgers {
        Ledgers {
            sessions: sessions.into_iter().map(|s| (s, SessionLedger::new(retain))).collect(),
        }
    }

    /// Records an output at journal sequence `journal_seq` (see the module docs): returns
    /// its session, sequence and report when it is one for a binary session, not seen
    /// before.
    pub fn record(&mut self, journal_seq: u64, out: &Output) -> Option<(SessionId, u64, Report)> {
        let session = match &out.body {
            OutputBody::ExecReport(r) => r.session,
            OutputBody::CancelReject(r) => r.session,
            OutputBody::MassCancelReport(r) => r.session,
            _ => return None,
        };
        let ledger = self.sessions.get_mut(&session)?;
        if journal_seq <= ledger.last_journal_seq {
            return None;
        }
        ledger.last_journal_seq = journal_seq;
        ledger.record(&out.body, out.ts).map(|(seq, r)| (session, seq, r))
    }

    /// One session's ledger.
    pub fn get(&self, session: SessionId) -> Option<&SessionLedger> {
        self.sessions.get(&session)
    }

    /// The sessions, in id order.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.sessions.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use keel_engine::schema::{CancelRejectTo, RejectInfo};
    use keel_engine::{AccountId, ClOrdId, OrdType, Price, Qty, TimestampNs};

    const S: SessionId = SessionId(33);

    fn report(order: u64, cl: &str, exec_type: ExecType, ord_status: OrdStatus) -> ExecReport {
        ExecReport {
            session: S,
            account: AccountId(0),
            order_id: OrderId(order),
            cl_ord_id: cl.parse().unwrap(),
            orig_cl_ord_id: None,
            instrument: InstrumentId(1),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            exec_type,
            ord_status,
            price: Price(100),
            qty: Qty(5),
            last_px: Price(0),
            last_qty: Qty(0),
            leaves_qty: Qty(5),
            cum_qty: Qty(0),
            cum_notional: 0,
            reject: None,
        }
    }

    fn out(r: ExecReport) -> Output {
        Output { ts: TimestampNs(7), body: OutputBody::ExecReport(r) }
    }

    #[test]
    fn numbers_each_report_once_and_retains_the_last_ones() {
        let mut l = Ledgers::new([S], 2);
        let r = report(1, "A", ExecType::PendingNew, OrdStatus::PendingNew);
        assert_eq!(l.record(10, &out(r)).map(|(s, n, _)| (s, n)), Some((S, 1)));
        assert!(l.record(10, &out(r)).is_none(), "a journal sequence seen before is ignored");
        assert!(l.record(9, &out(r)).is_none());
        let mut other = r;
        other.session = SessionId(40);
        assert!(l.record(11, &out(other)).is_none(), "not a binary session");
        l.record(12, &out(report(1, "A", ExecType::New, OrdStatus::New)));
        l.record(13, &out(report(1, "A", ExecType::New, OrdStatus::New)));
        let ledger = l.get(S).unwrap();
        assert_eq!((ledger.last_seq(), ledger.first_retained()), (3, 2));
        assert!(ledger.get(1).is_none() && ledger.get(2).is_some() && ledger.get(4).is_none());
        assert_eq!(ledger.working_orders().len(), 1);
    }

    #[test]
    fn a_cancel_answers_a_request_or_is_unsolicited() {
        let mut l = Ledgers::new([S], 16);
        let kind = |l: &mut Ledgers, seq, r| match l.record(seq, &out(r)).unwrap().2 {
            Report::CancelAck(_) => "ack",
            Report::UnsolicitedCancel(u) => match u.reason {
                UnsolicitedReason::Venue => "venue",
                UnsolicitedReason::Expired => "expired",
                UnsolicitedReason::Keel => "keel",
            },
            other => panic!("{other:?}"),
        };
        // Requested: pending-cancel first, then the final cancel is its answer.
        l.record(1, &out(report(1, "A", ExecType::New, OrdStatus::New)));
        let mut pending = report(1, "X", ExecType::PendingCancel, OrdStatus::PendingCancel);
        pending.orig_cl_ord_id = Some("A".parse::<ClOrdId>().unwrap());
        assert_eq!(kind(&mut l, 2, pending), "ack");
        assert_eq!(kind(&mut l, 3, report(1, "A", ExecType::Canceled, OrdStatus::Canceled)), "ack");
        // A refused cancel clears the request: a later venue cancel is unsolicited.
        l.record(4, &out(report(2, "B", ExecType::New, OrdStatus::New)));
        l.record(5, &out(report(2, "Y", ExecType::PendingCancel, OrdStatus::PendingCancel)));
        let cr = keel_engine::schema::CancelReject {
            session: S,
            account: AccountId(0),
            order_id: OrderId(2),
            cl_ord_id: "Y".parse().unwrap(),
            orig_cl_ord_id: "B".parse().unwrap(),
            response_to: CancelRejectTo::Cancel,
            ord_status: OrdStatus::New,
            reject: RejectInfo::bare(RejectCode::VenueCancelRejected),
        };
        let cr = Output { ts: TimestampNs(8), body: OutputBody::CancelReject(cr) };
        assert!(matches!(l.record(6, &cr).unwrap().2, Report::CancelReject(_)));
        assert_eq!(
            kind(&mut l, 7, report(2, "B", ExecType::Canceled, OrdStatus::Canceled)),
            "venue"
        );
        // Expiry, and a cancel Keel made for a reason.
        assert_eq!(
            kind(&mut l, 8, report(3, "C", ExecType::Expired, OrdStatus::Expired)),
            "expired"
        );
        let mut stp = report(4, "D", ExecType::Canceled, OrdStatus::Canceled);
        stp.reject = Some(RejectInfo::new(RejectCode::SelfTrade, 1, 2));
        assert_eq!(kind(&mut l, 9, stp), "keel");
        assert!(l.get(S).unwrap().working_orders().is_empty());
    }

    #[test]
    fn fills_make_the_positions() {
        let mut l = Ledgers::new([S], 16);
        let mut f = report(1, "A", ExecType::Trade, OrdStatus::PartiallyFilled);
        f.last_px = Price(100);
        f.last_qty = Qty(2);
        l.record(1, &out(f));
        f.side = Side::Sell;
        f.last_px = Price(110);
        f.last_qty = Qty(5);
        l.record(2, &out(f));
        let (i, p) = l.get(S).unwrap().positions().next().unwrap();
        assert_eq!(i, InstrumentId(1));
        let r = position_report(1, i, p);
        assert_eq!((r.net_qty, r.bought_notional, r.sold_notional, r.fills), (-3, 200, 550, 2));
    }
}
