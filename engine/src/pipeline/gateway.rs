//! The gateway port: what an adapter to the outside implements to run on its own thread,
//! publish commands into the inbound ring and take the core's outputs from its outbound
//! ring.
//!
//! # Rules for implementations
//! - [`Gateway::on_output`] must not block and must not wait for room in the inbound ring:
//!   the core may be waiting for room in this gateway's outbound ring, so a gateway that
//!   waits on the core while the core waits on it would deadlock. Work caused by an output
//!   (a venue's answer to an order) is queued inside the gateway and published from
//!   [`Gateway::poll`] with [`GatewayIo::try_publish`]; when the ring is full, `poll`
//!   returns and the runner drains the outbound ring before calling it again.
//! - Gateways without that cycle (a timer, an admin socket, a load generator) may use the
//!   blocking [`GatewayIo::publish`].
//! - Nothing is ever dropped: a full ring is back-pressure.
//! - Under [`WaitStrategy::Block`] an idle gateway thread sleeps until the core hands it an
//!   output, one of its [watched](GatewayIo::watch) sockets is readable, its
//!   [`Gateway::wake_at_ns`] deadline comes, or the strategy's timeout passes. A gateway
//!   with sockets watches them (its listener with [`Trigger::Edge`] if it accepts on a
//!   schedule of its own, its connections with [`Trigger::Level`]); one with timed work
//!   says when it is due. Anything else (a socket buffer that had no room, a helper
//!   thread's result) is seen at the timeout.

use super::clock::IngressClock;
use super::doorbell::{Doorbell, Sleeper, Trigger};
use super::wait::{Idle, WaitStrategy};
use crate::schema::{Command, CommandBody, Output};
use crate::{SessionId, TimestampNs, VenueId};
use crossbeam::utils::CachePadded;
use disruptor::{MultiProducer, Producer, SingleConsumerBarrier};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One slot of the inbound ring: the command and the raw counter value at ingress (not
/// journaled; it measures latency inside the process).
#[derive(Clone, Copy, Debug)]
pub struct InboundSlot {
    /// The command, stamped with UTC ingress time.
    pub cmd: Command,
    /// [`IngressClock::raw`] when it was published.
    pub ingress_raw: u64,
}

impl InboundSlot {
    pub(crate) fn empty() -> InboundSlot {
        InboundSlot {
            cmd: Command {
                ts: TimestampNs(0),
                session: SessionId(0),
                body: CommandBody::Timer(crate::schema::Timer {}),
            },
            ingress_raw: 0,
        }
    }
}

/// One output on its way to the gateway that owns its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The output's journal sequence.
    pub seq: u64,
    /// The output.
    pub output: Output,
}

/// Which outputs belong to a gateway: those addressed to one of its sessions (execution
/// reports, cancel rejects, mass-cancel reports, admin acks) or sent to one of its venues
/// (new orders, cancels, replaces).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routes {
    /// Sessions the gateway speaks for.
    pub sessions: Vec<SessionId>,
    /// Venues the gateway connects to.
    pub venues: Vec<VenueId>,
}

/// An adapter to the outside, run on its own thread by the pipeline. See the module docs.
pub trait Gateway: Send + 'static {
    /// A short name for logs, metrics and thread names.
    fn name(&self) -> &str;

    /// The sessions and venues whose outputs this gateway receives. Read once at start.
    fn routes(&self) -> Routes;

    /// Called once on the gateway's thread before the loop (logons, snapshots).
    fn on_start(&mut self, io: &mut GatewayIo) {
        let _ = io;
    }

    /// One output from the core. Must not block (see the module docs).
    fn on_output(&mut self, delivery: &Delivery, io: &mut GatewayIo);

    /// True when the gateway wants a copy of every market-data command the core applies
    /// (see [`tap`](super::tap)). Read once at start.
    fn wants_market_data(&self) -> bool {
        false
    }

    /// Whether a tapped market-data command should wake this gateway's thread when it
    /// sleeps (blocking wait strategies): true while a client waits for the data. While
    /// false, the commands wait in the tap for the thread's next wake-up for any other
    /// reason, or until the tap is half full (see [`tap`](super::tap)). Asked before each
    /// sleep; must be cheap. Default: true.
    fn market_data_urgent(&self) -> bool {
        true
    }

    /// One market-data command the core has journaled and applied, in the core's order
    /// (only for gateways that [want them](Gateway::wants_market_data)). Must not block,
    /// like [`Gateway::on_output`].
    fn on_market_data(&mut self, cmd: &Command, io: &mut GatewayIo) {
        let _ = (cmd, io);
    }

    /// Does a bounded amount of the gateway's own work (reading sockets, generating
    /// flow, publishing queued commands); returns how much it did (0 when idle).
    fn poll(&mut self, io: &mut GatewayIo) -> usize;

    /// When `poll` next has timed work to do even if nothing arrives (the gateway clock's
    /// UTC ns, as [`IngressClock::now`]); `None` when only input, outputs or the wait
    /// strategy's timeout need wake it. Read by a blocking runner before it sleeps; a time
    /// already past means "do not sleep".
    fn wake_at_ns(&self) -> Option<u64> {
        None
    }

    /// False for a gateway off the latency path, whose outputs are acted on later on a
    /// schedule of its own: the simulated venue matches an order only `latency_us` after
    /// it arrives. The core rings such a gateway's doorbell after it has delivered all of
    /// a command's outputs and rung the other gateways they went to, so that waking it
    /// (a system call, and a thread that may take the CPU first) never delays another
    /// gateway's output: a new order's venue order comes before its acknowledgement in
    /// the core's outputs. Read once at start. Default: true.
    fn latency_critical(&self) -> bool {
        true
    }

    /// Called once when the pipeline stops, before the gateway's publisher is closed. It
    /// may still publish (blocking) to finish what it has started.
    fn on_stop(&mut self, io: &mut GatewayIo) {
        let _ = io;
    }
}

/// Why a command was not published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The inbound ring is full; try again after draining the outbound ring.
    #[error("the inbound ring is full")]
    Full,
    /// The pipeline is stopping: this gateway no longer publishes.
    #[error("the pipeline is stopping")]
    Closed,
}

pub(crate) type InboundProducer = MultiProducer<InboundSlot, SingleConsumerBarrier>;

/// A gateway's handle on the pipeline: its publisher, the clock and the stop flags.
pub struct GatewayIo {
    producer: Option<InboundProducer>,
    published: Arc<CachePadded<AtomicU64>>,
    clock: IngressClock,
    wait: WaitStrategy,
    stopping: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    full_waits: u64,
    /// Rung after each publish, when the core blocks.
    core_bell: Option<Doorbell>,
    /// This gateway's thread sleeps on it, when the strategy blocks.
    sleeper: Option<Sleeper>,
    /// Wakes this gateway's thread (the other side of `sleeper`).
    own_bell: Option<Doorbell>,
}

impl GatewayIo {
    pub(crate) fn new(
        producer: InboundProducer,
        published: Arc<CachePadded<AtomicU64>>,
        clock: IngressClock,
        wait: WaitStrategy,
        stopping: Arc<AtomicBool>,
        abort: Arc<AtomicBool>,
        (core_bell, sleeper, own_bell): (Option<Doorbell>, Option<Sleeper>, Option<Doorbell>),
    ) -> GatewayIo {
        GatewayIo {
            producer: Some(producer),
            published,
            clock,
            wait,
            stopping,
            abort,
            full_waits: 0,
            core_bell,
            sleeper,
            own_bell,
        }
    }

    /// A doorbell that wakes this gateway's thread, for a helper thread the gateway starts
    /// (a worker whose results `poll` collects): the helper makes its result visible, then
    /// rings, and a thread asleep under a blocking strategy wakes at once instead of at its
    /// timeout. `None` when the strategy does not block: the thread then looks every round.
    pub fn waker(&self) -> Option<Doorbell> {
        self.own_bell.clone()
    }

    /// Wakes this gateway's thread also when `fd` is readable, under a blocking wait
    /// strategy (a no-op otherwise). See [`Sleeper::watch`].
    #[cfg(unix)]
    pub fn watch(&mut self, fd: std::os::fd::RawFd, trigger: Trigger) -> std::io::Result<()> {
        match &mut self.sleeper {
            Some(s) => s.watch(fd, trigger),
            None => Ok(()),
        }
    }

    /// Stops watching `fd` (closing it does so too).
    #[cfg(unix)]
    pub fn unwatch(&mut self, fd: std::os::fd::RawFd) {
        if let Some(s) = &mut self.sleeper {
            s.unwatch(fd);
        }
    }

    pub(crate) fn sleeper_mut(&mut self) -> Option<&mut Sleeper> {
        self.sleeper.as_mut()
    }

    /// The ingress clock.
    pub fn clock(&self) -> &IngressClock {
        &self.clock
    }

    /// True once the pipeline has been asked to stop.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// How many times a publish found the ring full (back-pressure seen by this gateway).
    pub fn full_waits(&self) -> u64 {
        self.full_waits
    }

    /// Publishes a command on `session`, stamped now, if the ring has room.
    #[inline]
    pub fn try_publish(
        &mut self,
        session: SessionId,
        body: CommandBody,
    ) -> Result<TimestampNs, PublishError> {
        let producer = self.producer.as_mut().ok_or(PublishError::Closed)?;
        let raw = self.clock.raw();
        let ts = self.clock.utc_at(raw);
        let cmd = Command { ts, session, body };
        match producer.try_publish(|slot| {
            slot.cmd = cmd;
            slot.ingress_raw = raw;
        }) {
            Ok(_) => {
                // Single writer per counter: a plain store is enough.
                let p = &self.published;
                p.store(p.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                if let Some(bell) = &self.core_bell {
                    bell.ring();
                }
                Ok(ts)
            }
            Err(_) => {
                self.full_waits += 1;
                Err(PublishError::Full)
            }
        }
    }

    /// Publishes a command, waiting (per the wait strategy) while the ring is full. Only
    /// for gateways whose outbound ring cannot fill while they wait (see the module docs).
    /// Gives up with `Closed` if the pipeline is aborted.
    pub fn publish(
        &mut self,
        session: SessionId,
        body: CommandBody,
    ) -> Result<TimestampNs, PublishError> {
        let mut idle = Idle::new(self.wait);
        loop {
            match self.try_publish(session, body) {
                Err(PublishError::Full) => {
                    if self.abort.load(Ordering::Acquire) {
                        return Err(PublishError::Closed);
                    }
                    idle.wait();
                }
                other => return other,
            }
        }
    }

    /// Closes the publisher: the core drains what was published and, once every gateway
    /// has closed, stops.
    pub(crate) fn close(&mut self) {
        self.producer = None;
        // The core may be asleep: it sees the ring shut down when it looks.
        if let Some(bell) = &self.core_bell {
            bell.ring();
        }
    }
}
