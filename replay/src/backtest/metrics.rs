//! What a backtest run measures as it goes: requests sent, fills and rejects of the
//! strategy's orders (as the core reports them), market data the core refused, latency
//! distributions, and equity and position sampled at every interval boundary.
//!
//! Money is kept exactly, in 1e-8 of the reporting currency (`_e8`, the engine's unit);
//! floating point appears only in ratios computed at the end.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use keel_engine::SessionId;
use keel_engine::schema::{CancelReject, ExecReport, ExecType, OutputBody};

use super::id_map::IdMap;
use super::tally::Tally;

/// Equity and position at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Core time, UTC ns.
    pub t_ns: u64,
    /// Realized − fees + unrealized (marked at the reference price), e8.
    pub equity_e8: i128,
    /// Net position in the strategy's instrument, lots.
    pub position_lots: i64,
}

/// Longest latency a histogram records (one hour); longer values are clamped to it.
pub const LATENCY_NS_MAX: u64 = 3_600_000_000_000;

/// Counters and distributions of one run.
pub struct Metrics {
    strategy_session: SessionId,
    /// New orders sent to the venue.
    pub orders_sent: u64,
    /// Cancel/replace requests sent.
    pub replaces_sent: u64,
    /// Cancel requests sent.
    pub cancels_sent: u64,
    /// Largest total quantity each order was sent with (new order or replace), lots: what
    /// the strategy offered to trade.
    offered: IdMap<i64>,
    /// Orders with at least one fill.
    pub orders_filled: u64,
    /// Fills (executions) the core applied.
    pub fills: u64,
    /// Lots filled.
    pub filled_lots: i128,
    /// Rejects of the strategy's orders (Keel's risk and validation, and the venue's
    /// `VENUE_REJECTED`), by code.
    pub rejects: BTreeMap<&'static str, u64>,
    /// Refused cancels and replaces, by code.
    pub cancel_rejects: BTreeMap<&'static str, u64>,
    /// Market-data commands the core refused (anomalies naming no order), by code.
    pub md_anomalies: BTreeMap<&'static str, u64>,
    /// Venue reports the core refused as contradicting its view of an order, by code —
    /// e.g. a cancel reject for an order whose fill arrived first.
    pub report_anomalies: BTreeMap<&'static str, u64>,
    /// Exchange time → core arrival, ns (complete once [`Metrics::finish`] ran; the
    /// runner calls it at the end of a run).
    pub feed_ns: Histogram<u64>,
    /// Feed latencies not yet in `feed_ns`: one per event, so they are tallied cheaply
    /// and folded in exactly at the end.
    feed_tally: Tally,
    /// New order sent → its ack or reject received by the core, ns.
    pub round_trip_ns: Histogram<u64>,
    in_flight: IdMap<u64>,
    /// Equity and position at every interval boundary, and at the end.
    pub samples: Vec<Sample>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_NS_MAX, 3).expect("valid histogram bounds")
}

impl Metrics {
    /// Metrics of the strategy on `strategy_session`.
    pub fn new(strategy_session: SessionId) -> Self {
        Metrics {
            strategy_session,
            orders_sent: 0,
            replaces_sent: 0,
            cancels_sent: 0,
            offered: IdMap::default(),
            orders_filled: 0,
            fills: 0,
            filled_lots: 0,
            rejects: BTreeMap::new(),
            cancel_rejects: BTreeMap::new(),
            md_anomalies: BTreeMap::new(),
            report_anomalies: BTreeMap::new(),
            feed_ns: histogram(),
            feed_tally: Tally::new(),
            round_trip_ns: histogram(),
            in_flight: IdMap::default(),
            samples: Vec::with_capacity(1 << 12),
        }
    }

    /// A market-data event reached the core `ns` after its exchange time.
    #[inline]
    pub fn feed_latency(&mut self, ns: u64) {
        self.feed_tally.record(ns.min(LATENCY_NS_MAX));
    }

    /// Folds what is still tallied into the histograms; call before reading them.
    pub fn finish(&mut self) {
        self.feed_tally.drain_into(&mut self.feed_ns);
    }

    /// Counts an output of the core applied at `now`.
    pub fn output(&mut self, body: &OutputBody, now: u64) {
        match body {
            OutputBody::VenueNewOrder(o) => {
                self.orders_sent += 1;
                self.offered.insert(o.order_id.0, o.qty.0);
                self.in_flight.insert(o.order_id.0, now);
            }
            OutputBody::VenueReplace(r) => {
                self.replaces_sent += 1;
                let offered = self.offered.entry(r.order_id.0).or_insert(0);
                *offered = (*offered).max(r.qty.0);
            }
            OutputBody::VenueCancel(_) => self.cancels_sent += 1,
            OutputBody::ExecReport(r) if r.session == self.strategy_session => self.exec_report(r),
            OutputBody::CancelReject(r) if r.session == self.strategy_session => {
                self.cancel_reject(r)
            }
            OutputBody::Anomaly(a) => {
                let by_code = if a.order_id.0 == 0 {
                    &mut self.md_anomalies
                } else {
                    &mut self.report_anomalies
                };
                *by_code.entry(a.reject.code.as_str()).or_insert(0) += 1;
            }
            _ => {}
        }
    }

    fn exec_report(&mut self, r: &ExecReport) {
        match r.exec_type {
            ExecType::Trade => {
                self.fills += 1;
                self.filled_lots += r.last_qty.0 as i128;
                if r.cum_qty == r.last_qty {
                    self.orders_filled += 1;
                }
            }
            ExecType::Rejected => {
                if let Some(reject) = r.reject {
                    *self.rejects.entry(reject.code.as_str()).or_insert(0) += 1;
                }
            }
            _ => {}
        }
    }

    fn cancel_reject(&mut self, r: &CancelReject) {
        *self.cancel_rejects.entry(r.reject.code.as_str()).or_insert(0) += 1;
    }

    /// Quantity offered: over every order sent, the largest total it was sent or replaced
    /// with, lots.
    pub fn offered_lots(&self) -> i128 {
        self.offered.values().map(|&q| q as i128).sum()
    }

    /// The core received the venue's first answer (ack or reject) to order `id` at `now`.
    pub fn answered(&mut self, id: u64, now: u64) {
        if let Some(sent) = self.in_flight.remove(&id) {
            self.round_trip_ns.saturating_record(now.saturating_sub(sent).min(LATENCY_NS_MAX));
        }
    }
}
