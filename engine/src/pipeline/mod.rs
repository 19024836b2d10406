//! The threaded pipeline (design §1): gateway threads publish commands into one
//! multi-producer `disruptor` ring; one core thread takes them in order, appends each to
//! the journal, applies it, appends its outputs and hands each output to the outbound ring
//! (a bounded SPSC queue) of the gateway that owns its destination.
//!
//! ```text
//!  gateway threads ──► inbound ring (disruptor, MPSC) ──► core thread ──► outbound rings
//!  (stamp ingress)       full = back-pressure            journal, apply    (one SPSC per
//!                                                                           gateway)
//! ```
//!
//! - **One writer.** Only the core thread touches the [`Core`] and the journal. It is
//!   built *on* that thread by the caller's `init` (which may recover it from a journal),
//!   and never leaves it; its digest and summary come back in [`CoreExit`].
//! - **Back-pressure, never loss.** A full inbound ring makes publishers wait
//!   ([`GatewayIo::publish`]) or retry later ([`GatewayIo::try_publish`]); a full outbound
//!   ring makes the core wait. Nothing is dropped.
//! - **Clean stop.** [`Pipeline::stop`]: gateways stop taking input, finish
//!   ([`Gateway::on_stop`]) and close their publishers while still draining their
//!   outbound rings; the core applies everything already published, sees the ring shut
//!   down (all publishers closed), and returns. [`Pipeline::abort`] gives up waiting.
//! - The engine knows the journal only as the [`CommandJournal`] port.
//!
//! - **Waiting.** Every idle loop waits per the configured [`WaitStrategy`]. Under
//!   [`WaitStrategy::Block`] the core sleeps until a gateway publishes (each publish rings
//!   the core's [`Doorbell`]) and each gateway sleeps until the core hands it an output
//!   (the core rings the gateway's doorbell after each push), one of its watched sockets
//!   is readable, or its own deadline comes; [`Pipeline::stop`] rings them all.
//!
//! Rules for gateways are in [`gateway`]; the wait strategies in [`wait`], the blocking
//! wake-ups in [`doorbell`].

pub mod clock;
pub mod doorbell;
pub mod gateway;
pub mod metrics;
pub mod pacer;
pub mod placement;
pub mod tap;
pub mod timer;
pub mod wait;

pub use clock::IngressClock;
pub use doorbell::{Doorbell, Sleeper, Trigger};
pub use gateway::{Delivery, Gateway, GatewayIo, InboundSlot, PublishError, Routes};
pub use metrics::{LatencyHistogram, LimitValue, PipelineMetrics};
pub use pacer::Pacer;
pub use placement::{Placement, PlacementPlan};
pub use timer::TimerGateway;
pub use wait::{Idle, WAIT_NAMES, WaitStrategy};

use crate::core::{Core, CoreCounters, StateDigest, apply_journaled};
use crate::port::CommandJournal;
use crate::schema::{CommandBody, LimitKind, LimitScope, OutputBody};
use crate::{AccountId, SessionId, VenueId};
use crossbeam::queue::ArrayQueue;
use disruptor::{BusySpin, Polling};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Sizes, placement and pacing of the pipeline.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Slots in the inbound ring (a power of two, at least 64).
    pub inbound_ring: usize,
    /// Slots in each gateway's outbound ring (> 0).
    pub outbound_ring: usize,
    /// How idle threads wait.
    pub wait: WaitStrategy,
    /// How the core thread waits, when it should differ from [`PipelineConfig::wait`]:
    /// the production layout spins the core on a CPU of its own while the gateways, whose
    /// waits are mostly on sockets, block (`None`: the core waits as the gateways do).
    pub core_wait: Option<WaitStrategy>,
    /// CPU pinning.
    pub placement: Placement,
    /// Most commands the core takes from the ring per poll.
    pub max_batch: u64,
    /// How often the core thread copies its counters to [`PipelineMetrics`].
    pub snapshot_interval: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            inbound_ring: 4096,
            outbound_ring: 4096,
            wait: WaitStrategy::BLOCK,
            core_wait: None,
            placement: Placement::default(),
            max_batch: 256,
            snapshot_interval: Duration::from_millis(250),
        }
    }
}

/// Why the pipeline could not start or did not finish cleanly.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A configuration value is unusable.
    #[error("pipeline configuration: {0}")]
    Config(String),
    /// Building the core (or recovering it) failed.
    #[error("core start-up failed: {0}")]
    Init(String),
    /// Two gateways claim the same session or venue.
    #[error("{what} {id} is claimed by both gateway {first} and gateway {second}")]
    RouteConflict {
        /// "session" or "venue".
        what: &'static str,
        /// The id.
        id: u32,
        /// The first claimant.
        first: String,
        /// The second.
        second: String,
    },
    /// A thread could not be spawned.
    #[error("cannot spawn thread {0}: {1}")]
    Spawn(String, std::io::Error),
    /// The core thread panicked.
    #[error("the core thread panicked")]
    CorePanicked,
}

/// P&L of one account at shutdown, 1e-8 of the reporting currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountPnl {
    /// The account.
    pub account: AccountId,
    /// Realized P&L.
    pub realized_e8: i128,
    /// Unrealized P&L at the risk marks.
    pub unrealized_e8: i128,
    /// Fees.
    pub fees_e8: i128,
}

/// What the core thread hands back when it stops.
pub struct CoreExit<J> {
    /// The journal, for the caller to sync, seal and close.
    pub journal: J,
    /// The live core's digest at shutdown.
    pub digest: StateDigest,
    /// Its counters.
    pub counters: CoreCounters,
    /// Commands applied by this run (not counting those `init` applied).
    pub commands: u64,
    /// Sequence of the last journal record.
    pub last_seq: u64,
    /// P&L per account.
    pub pnl: Vec<AccountPnl>,
    /// Set when an append failed: the core stopped at once and acknowledged nothing more.
    pub journal_error: Option<String>,
}

/// What `init` returns: the core (possibly recovered) and the journal to append to, and
/// the sequence of the last record already in the journal.
pub struct CoreStart<J> {
    /// The core.
    pub core: Core,
    /// The journal.
    pub journal: J,
    /// Last sequence already journaled (0 for an empty journal).
    pub last_seq: u64,
    /// Commands the core applies first, before taking any from the ring (logons,
    /// reconciliation after recovery). Journaled and delivered like the others; their
    /// time should come from the pipeline's clock.
    pub startup: Vec<crate::schema::Command>,
}

impl<J> CoreStart<J> {
    /// A start from nothing: `core` as built, an empty `journal`, no start-up commands.
    pub fn fresh(core: Core, journal: J) -> CoreStart<J> {
        CoreStart { core, journal, last_seq: 0, startup: Vec::new() }
    }
}

/// A running pipeline.
pub struct Pipeline<J> {
    core_thread: Option<JoinHandle<Option<CoreExit<J>>>>,
    gateway_threads: Vec<(String, JoinHandle<()>)>,
    stopping: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    metrics: Arc<PipelineMetrics>,
    plan: PlacementPlan,
    clock: IngressClock,
    /// Every thread's doorbell (blocking strategies only), rung on stop.
    bells: Vec<Doorbell>,
}

impl<J: CommandJournal + Send + 'static> Pipeline<J> {
    /// Starts the core thread (running `init` there), then one thread per gateway.
    /// Returns once every thread runs, or with the error `init` reported.
    pub fn start<F>(
        config: PipelineConfig,
        gateways: Vec<Box<dyn Gateway>>,
        init: F,
    ) -> Result<Pipeline<J>, PipelineError>
    where
        F: FnOnce(&IngressClock) -> Result<CoreStart<J>, String> + Send + 'static,
    {
        // The disruptor's multi-producer barrier needs at least 64 slots.
        if !config.inbound_ring.is_power_of_two() || config.inbound_ring < 64 {
            return Err(PipelineError::Config(format!(
                "inbound_ring = {} is not a power of two >= 64",
                config.inbound_ring
            )));
        }
        if config.outbound_ring == 0 {
            return Err(PipelineError::Config("outbound_ring must be > 0".into()));
        }
        let clock = IngressClock::new();
        let metrics = Arc::new(PipelineMetrics::new(config.inbound_ring));
        let stopping = Arc::new(AtomicBool::new(false));
        let abort = Arc::new(AtomicBool::new(false));

        // Routes: session / venue id -> gateway index.
        let mut session_route: Vec<Option<u16>> = Vec::new();
        let mut venue_route: Vec<Option<u16>> = Vec::new();
        let mut outbound = Vec::with_capacity(gateways.len());
        let mut taps: Vec<Option<tap::Tap>> = Vec::with_capacity(gateways.len());
        // A thread that blocks needs a doorbell its producers ring; one that spins or naps
        // does not, and its producers then skip the ring's fence.
        let core_wait = config.core_wait.unwrap_or(config.wait);
        let pair = |blocks: bool| blocks.then(doorbell::doorbell).unzip();
        let (core_sleeper, core_bell) = pair(core_wait.blocks());
        let mut sleepers = Vec::with_capacity(gateways.len());
        let mut gateway_bells = Vec::with_capacity(gateways.len());
        for _ in &gateways {
            let (s, b) = pair(config.wait.blocks());
            sleepers.push(s);
            gateway_bells.push(b);
        }
        let bells: Vec<Doorbell> =
            core_bell.iter().chain(gateway_bells.iter().flatten()).cloned().collect();
        // Each gateway also gets its own doorbell, for the helper threads it starts.
        let own_bells = gateway_bells.clone();
        for (g, gw) in gateways.iter().enumerate() {
            taps.push(
                gw.wants_market_data().then(|| Arc::new(tap::TapRing::new(config.outbound_ring))),
            );
            let routes = gw.routes();
            for (what, ids, table) in [
                (
                    "session",
                    routes.sessions.iter().map(|s| s.0).collect::<Vec<_>>(),
                    &mut session_route,
                ),
                ("venue", routes.venues.iter().map(|v| v.0 as u32).collect(), &mut venue_route),
            ] {
                for id in ids {
                    let i = id as usize;
                    if table.len() <= i {
                        table.resize(i + 1, None);
                    }
                    if let Some(first) = table[i] {
                        return Err(PipelineError::RouteConflict {
                            what,
                            id,
                            first: gateways[first as usize].name().to_string(),
                            second: gw.name().to_string(),
                        });
                    }
                    table[i] = Some(g as u16);
                }
            }
            let ring = Arc::new(ArrayQueue::new(config.outbound_ring));
            metrics.register_outbound(gw.name(), Arc::clone(&ring));
            outbound.push(ring);
        }
        let allowed = placement::allowed_cpus();
        let mut plan = config.placement.plan(gateways.len(), &allowed);
        // A pinned core that never sleeps has its CPU to itself: the threads the pipeline
        // starts (and those `init` starts on the core thread) are kept off it.
        let reserved = plan.cpus[0].filter(|_| core_wait.never_sleeps());
        plan.reserved = reserved;

        let builder =
            disruptor::build_multi_producer(config.inbound_ring, InboundSlot::empty, BusySpin);
        let (poller, builder) = builder.new_event_poller();
        let producer = builder.build();

        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let core_loop = CoreLoop {
            outbound: outbound.clone(),
            taps: taps
                .iter()
                .zip(&gateway_bells)
                .filter_map(|(t, b)| t.clone().map(|t| (t, b.clone())))
                .collect(),
            bells: gateway_bells,
            // A gateway beyond the 64th is rung at once, whatever it is.
            ring_last: gateways
                .iter()
                .take(64)
                .enumerate()
                .filter(|(_, gw)| !gw.latency_critical())
                .fold(0, |set, (g, _)| set | 1u64 << g),
            session_route,
            venue_route,
            metrics: Arc::clone(&metrics),
            abort: Arc::clone(&abort),
            clock: clock.clone(),
            wait: core_wait,
            max_batch: config.max_batch.max(1),
            snapshot_interval: config.snapshot_interval,
        };
        let core_cpu = plan.cpus[0];
        let init_clock = clock.clone();
        let core_allowed = allowed.clone();
        let core_thread = std::thread::Builder::new()
            .name("keel-core".into())
            .spawn(move || {
                if let Some(cpu) = reserved {
                    placement::keep_current_off(cpu, &core_allowed);
                }
                match init(&init_clock) {
                    Ok(start) => {
                        // Pinned only now: the threads `init` starts (the journal's roller
                        // and flusher, the snapshot writer) take their CPUs from the thread
                        // that starts them, and must not share the core's, which it may
                        // spin on.
                        if let Some(cpu) = core_cpu {
                            placement::pin_current(cpu);
                        }
                        let _ = ready_tx.send(Ok(()));
                        Some(core_loop.run(poller, start, core_sleeper))
                    }
                    Err(e) => {
                        // Not a panic: release builds abort on panic.
                        let _ = ready_tx.send(Err(e));
                        None
                    }
                }
            })
            .map_err(|e| PipelineError::Spawn("keel-core".into(), e))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                drop(producer);
                let _ = core_thread.join();
                return Err(PipelineError::Init(e));
            }
            Err(_) => {
                drop(producer);
                let _ = core_thread.join();
                return Err(PipelineError::CorePanicked);
            }
        }

        let mut gateway_threads = Vec::with_capacity(gateways.len());
        let gateway_parts =
            gateways.into_iter().zip(outbound).zip(taps).zip(sleepers.into_iter().zip(own_bells));
        for (g, (((gw, ring), tap), (sleeper, own_bell))) in gateway_parts.enumerate() {
            let name = gw.name().to_string();
            let io = GatewayIo::new(
                producer.clone(),
                metrics.register_publisher(),
                clock.clone(),
                config.wait,
                Arc::clone(&stopping),
                Arc::clone(&abort),
                (core_bell.clone(), sleeper, own_bell),
            );
            let runner = GatewayRunner {
                gateway: gw,
                io,
                outbound: ring,
                tap,
                metrics: Arc::clone(&metrics),
                stopping: Arc::clone(&stopping),
                abort: Arc::clone(&abort),
                wait: config.wait,
                cpu: plan.cpus[g + 1],
                keep_off: reserved.map(|cpu| (cpu, allowed.clone())),
            };
            let handle = std::thread::Builder::new()
                .name(format!("keel-gw-{name}"))
                .spawn(move || runner.run())
                .map_err(|e| PipelineError::Spawn(name.clone(), e))?;
            gateway_threads.push((name, handle));
        }
        // The pipeline keeps no publisher: once every gateway closes its own, the ring
        // shuts down and the core stops.
        drop(producer);
        Ok(Pipeline {
            core_thread: Some(core_thread),
            gateway_threads,
            stopping,
            abort,
            metrics,
            plan,
            clock,
            bells,
        })
    }

    /// The published metrics.
    pub fn metrics(&self) -> &Arc<PipelineMetrics> {
        &self.metrics
    }

    /// The gateways running, one thread each (besides the core's), in start order.
    pub fn gateway_names(&self) -> Vec<String> {
        self.gateway_threads.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The CPU placement in force.
    pub fn placement(&self) -> &PlacementPlan {
        &self.plan
    }

    /// The pipeline's ingress clock.
    pub fn clock(&self) -> &IngressClock {
        &self.clock
    }

    /// A flag that, once set, starts a clean stop (e.g. from a signal handler).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stopping)
    }

    /// Starts a clean stop (see the module docs).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        for bell in &self.bells {
            bell.ring();
        }
    }

    /// Stops waiting: blocked publishers and the core give up at once. What was
    /// journaled stays recoverable.
    pub fn abort(&self) {
        self.abort.store(true, Ordering::Release);
        self.stop();
    }

    /// True once the core thread has finished.
    pub fn is_finished(&self) -> bool {
        self.metrics.core_done.load(Ordering::Acquire)
            || self.core_thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops (if not already stopping), waits for every thread and returns the core's
    /// exit report.
    pub fn join(mut self) -> Result<CoreExit<J>, PipelineError> {
        self.stop();
        let exit = self.core_thread.take().map(|t| t.join());
        self.metrics.core_done.store(true, Ordering::Release);
        // Nothing will be consumed any more: a publisher still waiting for room (if the
        // core stopped on a journal error) must give up rather than wait for ever.
        self.abort.store(true, Ordering::Release);
        for (_, t) in self.gateway_threads.drain(..) {
            let _ = t.join();
        }
        match exit {
            Some(Ok(Some(exit))) => Ok(exit),
            _ => Err(PipelineError::CorePanicked),
        }
    }
}

/// Runs one gateway on its thread.
struct GatewayRunner {
    gateway: Box<dyn Gateway>,
    io: GatewayIo,
    outbound: Arc<ArrayQueue<Delivery>>,
    /// The market-data tap, for gateways that asked for one.
    tap: Option<tap::Tap>,
    metrics: Arc<PipelineMetrics>,
    stopping: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    wait: WaitStrategy,
    cpu: Option<usize>,
    /// When unpinned: a CPU reserved for the core, and the CPUs allowed.
    keep_off: Option<(usize, Vec<usize>)>,
}

/// Outputs a gateway takes per round before polling its own input again.
const DRAIN_BUDGET: usize = 256;

impl GatewayRunner {
    fn run(mut self) {
        if let Some(cpu) = self.cpu {
            placement::pin_current(cpu);
        } else if let Some((cpu, allowed)) = &self.keep_off {
            placement::keep_current_off(*cpu, allowed);
        }
        let mut idle = Idle::new(self.wait);
        self.gateway.on_start(&mut self.io);
        while !self.stopping.load(Ordering::Acquire) {
            let mut work = self.drain(true);
            work += self.gateway.poll(&mut self.io);
            self.idle_round(&mut idle, work);
        }
        // Stop taking input; finish, then close the publisher. Keep draining the outbound
        // ring meanwhile so the core never waits on us for ever.
        self.gateway.on_stop(&mut self.io);
        self.io.close();
        while !(self.metrics.core_done.load(Ordering::Acquire)
            && self.outbound.is_empty()
            && self.tap.as_ref().is_none_or(|t| t.is_empty()))
        {
            if self.abort.load(Ordering::Acquire) {
                // Stop waiting, but hand over what the core has already pushed (its
                // outputs are journaled; `join` aborts as soon as the core has exited,
                // which may be before this thread has woken to drain). The rings hold at
                // most their capacity, and nothing more comes once the core has stopped.
                let held = self.outbound.capacity() + self.tap.as_ref().map_or(0, |t| t.capacity());
                for _ in 0..=held / DRAIN_BUDGET {
                    if self.drain(true) == 0 {
                        break;
                    }
                }
                break;
            }
            let work = self.drain(true);
            self.idle_round(&mut idle, work);
        }
    }

    /// Resets after work; otherwise waits one round, sleeping (blocking strategies) no
    /// later than the gateway's own deadline.
    #[inline]
    fn idle_round(&mut self, idle: &mut Idle, work: usize) {
        let blocks = self.io.sleeper_mut().is_some();
        if work > 0 {
            match self.io.sleeper_mut() {
                Some(sleeper) => idle.reset_sleeper(sleeper),
                None => idle.reset(),
            }
        } else if !blocks {
            idle.wait();
        } else {
            let timeout = self
                .gateway
                .wake_at_ns()
                .map(|at| Duration::from_nanos(at.saturating_sub(self.io.clock().now().0)));
            if let Some(tap) = &self.tap {
                tap.set_urgent(self.gateway.market_data_urgent());
            }
            if let Some(sleeper) = self.io.sleeper_mut() {
                idle.wait_or_sleep(sleeper, timeout);
            }
        }
    }

    fn drain(&mut self, deliver: bool) -> usize {
        let mut n = 0;
        while n < DRAIN_BUDGET {
            let Some(d) = self.outbound.pop() else { break };
            if deliver {
                self.gateway.on_output(&d, &mut self.io);
            }
            n += 1;
        }
        if let Some(tap) = &self.tap {
            let mut m = 0;
            while m < DRAIN_BUDGET {
                let Some(cmd) = tap.pop() else { break };
                if deliver {
                    self.gateway.on_market_data(&cmd, &mut self.io);
                }
                m += 1;
            }
            n += m;
        }
        n
    }
}

type InboundPoller = disruptor::EventPoller<InboundSlot, disruptor::MultiProducerBarrier>;

/// The core thread's loop state.
struct CoreLoop {
    outbound: Vec<Arc<ArrayQueue<Delivery>>>,
    /// Market-data taps (see [`tap`]), with their gateway's doorbell.
    taps: Vec<(tap::Tap, Option<Doorbell>)>,
    /// Each gateway's doorbell (blocking strategies), by gateway index.
    bells: Vec<Option<Doorbell>>,
    /// Gateways off the latency path ([`Gateway::latency_critical`] false), as a bit set
    /// by gateway index: rung after a command's other outputs are delivered.
    ring_last: u64,
    session_route: Vec<Option<u16>>,
    venue_route: Vec<Option<u16>>,
    metrics: Arc<PipelineMetrics>,
    abort: Arc<AtomicBool>,
    clock: IngressClock,
    wait: WaitStrategy,
    max_batch: u64,
    snapshot_interval: Duration,
}

/// Limit kinds published for `keel admin limits get`: every kind, in risk's canonical order.
const PUBLISHED_LIMITS: [LimitKind; 15] = crate::risk::limits::ALL_KINDS;

impl CoreLoop {
    #[inline]
    fn route(&self, body: &OutputBody) -> Option<usize> {
        let by_session = |s: SessionId| self.session_route.get(s.0 as usize).copied().flatten();
        let by_venue = |v: VenueId| self.venue_route.get(v.0 as usize).copied().flatten();
        let g = match body {
            OutputBody::VenueNewOrder(o) => by_venue(o.venue),
            OutputBody::VenueCancel(o) => by_venue(o.venue),
            OutputBody::VenueReplace(o) => by_venue(o.venue),
            OutputBody::ExecReport(r) => by_session(r.session),
            OutputBody::CancelReject(r) => by_session(r.session),
            OutputBody::MassCancelReport(r) => by_session(r.session),
            OutputBody::AdminAck(r) => by_session(r.session),
            OutputBody::Anomaly(_) => None,
        };
        g.map(usize::from)
    }

    fn run<J: CommandJournal>(
        self,
        mut poller: InboundPoller,
        start: CoreStart<J>,
        mut sleeper: Option<Sleeper>,
    ) -> CoreExit<J> {
        let CoreStart { mut core, mut journal, mut last_seq, startup } = start;
        let mut outputs = Vec::with_capacity(4096);
        let mut idle = Idle::new(self.wait);
        let mut commands: u64 = 0;
        let mut journal_error = None;
        let snapshot_ns = self.snapshot_interval.as_nanos() as u64;
        let mut last_snapshot = self.clock.raw();
        self.metrics.journal_last_seq.store(last_seq, Ordering::Relaxed);
        // Start-up commands go first, journaled and delivered like any other.
        for cmd in &startup {
            let slot = InboundSlot { cmd: *cmd, ingress_raw: self.clock.raw() };
            match self.process(&mut core, &mut journal, &slot, &mut outputs) {
                Ok(seq) => last_seq = seq,
                Err(stop) => {
                    journal_error = stop;
                    break;
                }
            }
            commands += 1;
        }
        self.snapshot(&core);
        'run: loop {
            if journal_error.is_some() {
                break;
            }
            match poller.take(self.max_batch) {
                Ok(mut batch) => {
                    match &mut sleeper {
                        Some(s) => idle.reset_sleeper(s),
                        None => idle.reset(),
                    }
                    for slot in &mut batch {
                        match self.process(&mut core, &mut journal, slot, &mut outputs) {
                            Ok(seq) => last_seq = seq,
                            Err(stop) => {
                                journal_error = stop;
                                break 'run;
                            }
                        }
                        commands += 1;
                    }
                    if let Err(e) = journal.after_batch(&core) {
                        journal_error = Some(e.to_string());
                        break 'run;
                    }
                    self.metrics.commands.store(commands, Ordering::Relaxed);
                    self.metrics.journal_last_seq.store(last_seq, Ordering::Release);
                }
                Err(Polling::NoEvents) => {
                    if self.abort.load(Ordering::Acquire) {
                        break;
                    }
                    match &mut sleeper {
                        // Woken by a publish; the timeout keeps the snapshots going.
                        Some(s) => idle.wait_or_sleep(s, None),
                        None => idle.wait(),
                    }
                }
                Err(Polling::Shutdown) => break,
            }
            let now = self.clock.raw();
            if self.clock.elapsed_ns(last_snapshot, now) >= snapshot_ns {
                last_snapshot = now;
                self.snapshot(&core);
            }
        }
        self.metrics.commands.store(commands, Ordering::Relaxed);
        self.metrics.journal_last_seq.store(last_seq, Ordering::Release);
        self.snapshot(&core);
        let pnl = account_pnl(&core);
        self.metrics.core_done.store(true, Ordering::Release);
        // Gateways draining their last outputs wait for this flag: wake them.
        for bell in self.bells.iter().flatten() {
            bell.ring();
        }
        CoreExit {
            journal,
            digest: core.digest(),
            counters: core.counters().clone(),
            commands,
            last_seq,
            pnl,
            journal_error,
        }
    }

    /// Journals and applies one command and hands its outputs to their gateways. Returns
    /// the last journal sequence written, or why the core must stop: `Some(error)` when
    /// an append failed, `None` when aborted while waiting for an outbound ring.
    #[inline]
    fn process<J: CommandJournal>(
        &self,
        core: &mut Core,
        journal: &mut J,
        slot: &InboundSlot,
        outputs: &mut Vec<crate::schema::Output>,
    ) -> Result<u64, Option<String>> {
        let seq =
            apply_journaled(core, journal, &slot.cmd, outputs).map_err(|e| Some(e.to_string()))?;
        let market_data = is_market_data(&slot.cmd.body);
        // Gateways off the latency path that got an output, rung once all are delivered.
        let mut ring_later: u64 = 0;
        for (i, out) in outputs.iter().enumerate() {
            let Some(g) = self.route(&out.body) else {
                let u = &self.metrics.unrouted;
                u.store(u.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                continue;
            };
            let mut d = Delivery { seq: seq + 1 + i as u64, output: *out };
            let ring = &self.outbound[g];
            let mut wait = Idle::new(self.wait);
            let mut counted = false;
            while let Err(back) = ring.push(d) {
                if !counted {
                    counted = true;
                    let w = &self.metrics.outbound_full_waits;
                    w.store(w.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                }
                if self.abort.load(Ordering::Acquire) {
                    return Err(None);
                }
                d = back;
                wait.wait();
            }
            if let Some(bell) = &self.bells[g] {
                match 1u64.checked_shl(g as u32) {
                    Some(bit) if self.ring_last & bit != 0 => ring_later |= bit,
                    _ => bell.ring(),
                }
            }
            if market_data && is_venue_order(&out.body) {
                let ns = self.clock.elapsed_ns(slot.ingress_raw, self.clock.raw());
                self.metrics.tick_to_trade.record(ns);
            }
        }
        if !self.taps.is_empty() && tap::is_feed(&slot.cmd.body) {
            for (t, bell) in &self.taps {
                let mut wait = Idle::new(self.wait);
                let mut counted = false;
                while !t.push(slot.cmd) {
                    if !counted {
                        counted = true;
                        let w = &self.metrics.outbound_full_waits;
                        w.store(w.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                    }
                    if self.abort.load(Ordering::Acquire) {
                        return Err(None);
                    }
                    wait.wait();
                }
                if let Some(bell) = bell {
                    if t.should_wake() {
                        bell.ring();
                    }
                }
            }
        }
        while ring_later != 0 {
            let g = ring_later.trailing_zeros() as usize;
            ring_later &= ring_later - 1;
            if let Some(bell) = &self.bells[g] {
                bell.ring();
            }
        }
        Ok(seq + outputs.len() as u64)
    }

    /// Copies the core's counters, P&L and limits to the metrics (not per command).
    fn snapshot(&self, core: &Core) {
        let m = &self.metrics;
        let c = core.counters();
        for (a, v) in m.commands_by_kind.iter().zip(c.commands_by_kind.iter()) {
            a.store(*v, Ordering::Relaxed);
        }
        for (a, v) in m.rejects_by_code.iter().zip(c.rejects_by_code.iter()) {
            a.store(*v, Ordering::Relaxed);
        }
        m.fills.store(c.fills, Ordering::Relaxed);
        m.outputs.store(c.outputs, Ordering::Relaxed);
        m.anomalies.store(c.anomalies, Ordering::Relaxed);
        let pnl = account_pnl(core);
        let sum = |f: fn(&AccountPnl) -> i128| {
            pnl.iter().map(f).sum::<i128>().clamp(i64::MIN as i128, i64::MAX as i128) as i64
        };
        m.realized_pnl_e8.store(sum(|p| p.realized_e8), Ordering::Relaxed);
        m.unrealized_pnl_e8.store(sum(|p| p.unrealized_e8), Ordering::Relaxed);
        m.fees_e8.store(sum(|p| p.fees_e8), Ordering::Relaxed);
        let accounts = core.positions().accounts();
        let mut limits = Vec::with_capacity((accounts + 1) * PUBLISHED_LIMITS.len());
        let scopes = std::iter::once(LimitScope::Firm)
            .chain((0..accounts).map(|a| LimitScope::Account(AccountId(a as u32))));
        for scope in scopes {
            for kind in PUBLISHED_LIMITS {
                limits.push(LimitValue { scope, kind, value: core.risk().limit(scope, kind) });
            }
        }
        m.set_limits(&limits);
    }
}

fn account_pnl(core: &Core) -> Vec<AccountPnl> {
    let positions = core.positions();
    (0..positions.accounts())
        .map(|a| {
            let account = AccountId(a as u32);
            let totals = positions.account_totals(account);
            AccountPnl {
                account,
                realized_e8: totals.map_or(0, |t| t.realized_pnl_e8),
                fees_e8: totals.map_or(0, |t| t.fees_e8),
                unrealized_e8: positions
                    .account_unrealized_e8(account, |i| core.risk().mark(i))
                    .unwrap_or(0),
            }
        })
        .collect()
}

#[inline]
fn is_market_data(body: &CommandBody) -> bool {
    matches!(
        body,
        CommandBody::L2Update(_)
            | CommandBody::L3Add(_)
            | CommandBody::L3Modify(_)
            | CommandBody::L3Delete(_)
            | CommandBody::L3Execute(_)
            | CommandBody::Trade(_)
    )
}

#[inline]
fn is_venue_order(body: &OutputBody) -> bool {
    matches!(
        body,
        OutputBody::VenueNewOrder(_) | OutputBody::VenueCancel(_) | OutputBody::VenueReplace(_)
    )
}
