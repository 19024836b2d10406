//! The simulated venue as a pipeline gateway.
//!
//! Keel's orders arrive on the outbound ring and wait `latency_us` (the trip to the
//! venue) before they are matched; the venue's answers and feed events queue in one FIFO,
//! in the order the venue produced them, and are published with `try_publish`, never
//! blocking (see the gateway rules in `keel_engine::pipeline::gateway`). Synthetic flow is
//! generated only while that FIFO is short, so a slow core slows the market down instead
//! of growing a queue; the FIFO's only other source is answers to Keel's own orders,
//! which Keel's strategies bound (one request in flight per quote side).
//!
//! At stop, flow and feed events not yet published are dropped: the venue "disconnects".

use super::venue::{FlowConfig, SimInstrument, SimVenue, next_arrival_ns};
use keel_engine::book::BookCapacity;
use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, PublishError, Routes};
use keel_engine::schema::{CommandBody, OutputBody, SessionKind, SessionLogon, VenueCancelAck};
use keel_engine::{AccountId, OrderId, SessionId, TimestampNs, VenueId};
use std::collections::VecDeque;

/// Everything the simulated venue needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Gateway name (logs, metrics).
    pub name: String,
    /// The venue's id in Keel's configuration.
    pub venue: VenueId,
    /// The session the venue's reports and feed arrive on.
    pub session: SessionId,
    /// Instruments and their starting mids.
    pub instruments: Vec<SimInstrument>,
    /// Size of each book.
    pub book: BookCapacity,
    /// The synthetic flow.
    pub flow: FlowConfig,
    /// Synthetic events per second, all instruments together.
    pub events_per_sec: u32,
    /// One-way latency from Keel to the venue, microseconds.
    pub latency_us: u64,
    /// Offset of the venue's execution ids.
    pub exec_id_base: u64,
    /// Keel's orders the venue cancels on connect (working in a recovered state, but
    /// unknown to this fresh venue: its cancel-on-disconnect killed them).
    pub cancel_on_connect: Vec<OrderId>,
}

/// Feed events and answers queued beyond which no new synthetic flow is generated.
const FLOW_QUEUE_MAX: usize = 256;
/// Most synthetic events generated per poll (catch-up bound).
const FLOW_BURST_MAX: usize = 64;

/// The simulated venue gateway.
pub struct SimGateway {
    config: SimConfig,
    venue: SimVenue,
    in_flight: VecDeque<(u64, OutputBody)>,
    ready: VecDeque<CommandBody>,
    scratch: Vec<CommandBody>,
    next_flow_ns: u64,
}

impl SimGateway {
    /// A venue from its configuration.
    pub fn new(config: SimConfig) -> SimGateway {
        let venue = SimVenue::new(
            config.venue,
            &config.instruments,
            config.book,
            config.flow.clone(),
            config.exec_id_base,
        );
        SimGateway {
            config,
            venue,
            in_flight: VecDeque::with_capacity(1024),
            ready: VecDeque::with_capacity(4096),
            scratch: Vec::with_capacity(1024),
            next_flow_ns: 0,
        }
    }

    fn queue_scratch(&mut self) {
        self.ready.extend(self.scratch.drain(..));
    }
}

impl Gateway for SimGateway {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn routes(&self) -> Routes {
        Routes { sessions: vec![self.config.session], venues: vec![self.config.venue] }
    }

    fn on_start(&mut self, io: &mut GatewayIo) {
        let now = io.clock().now();
        self.ready.push_back(CommandBody::SessionLogon(SessionLogon {
            kind: SessionKind::Venue,
            account: AccountId(0),
            cancel_on_disconnect: false,
        }));
        for id in std::mem::take(&mut self.config.cancel_on_connect) {
            self.ready.push_back(CommandBody::VenueCancelAck(VenueCancelAck {
                venue: self.config.venue,
                order_id: id,
                unsolicited: true,
                venue_ts: now,
            }));
        }
        self.venue.snapshot(now, &mut self.scratch);
        self.queue_scratch();
        self.next_flow_ns = now.0;
    }

    fn on_output(&mut self, delivery: &Delivery, io: &mut GatewayIo) {
        let due = io.clock().now().0 + self.config.latency_us * 1_000;
        self.in_flight.push_back((due, delivery.output.body));
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let now = io.clock().now().0;
        let mut work = 0;
        // Keel's orders that have reached the venue.
        while let Some(&(due, body)) = self.in_flight.front() {
            if due > now {
                break;
            }
            self.in_flight.pop_front();
            self.venue.on_keel(&body, TimestampNs(now), &mut self.scratch);
            self.queue_scratch();
            work += 1;
        }
        // Synthetic flow, while the queue is short.
        let mut burst = 0;
        while self.next_flow_ns <= now
            && self.ready.len() < FLOW_QUEUE_MAX
            && burst < FLOW_BURST_MAX
        {
            self.venue.flow_event(TimestampNs(now), &mut self.scratch);
            self.queue_scratch();
            self.next_flow_ns += next_arrival_ns(&mut self.venue, self.config.events_per_sec);
            burst += 1;
        }
        if self.next_flow_ns + 1_000_000_000 < now {
            // Far behind (a stalled machine): do not replay a second of flow at once.
            self.next_flow_ns = now;
        }
        work += burst;
        // Publish in venue order until the ring is full.
        while let Some(&body) = self.ready.front() {
            match io.try_publish(self.config.session, body) {
                Ok(_) => {
                    self.ready.pop_front();
                    work += 1;
                }
                Err(PublishError::Full | PublishError::Closed) => break,
            }
        }
        work
    }

    /// An order reaches the venue `latency_us` after Keel sends it: waking the venue can
    /// wait until the gateways the order's other outputs went to are rung.
    fn latency_critical(&self) -> bool {
        false
    }

    /// The earliest of: an order of Keel's reaching the venue, the next synthetic event.
    /// Commands still queued (the ring was full) are due at once.
    fn wake_at_ns(&self) -> Option<u64> {
        if !self.ready.is_empty() {
            return Some(0);
        }
        let order = self.in_flight.front().map(|&(due, _)| due);
        Some(order.map_or(self.next_flow_ns, |o| o.min(self.next_flow_ns)))
    }
}
