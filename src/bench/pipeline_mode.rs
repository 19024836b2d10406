//! `keel bench pipeline`: tick-to-trade through the in-process pipeline.
//!
//! Threads (two busy ones, so a 2-core machine can give each a core):
//! - the **core thread** of `keel_engine::pipeline::Pipeline`: journal (a real
//!   `keel_journal::Journal` on tmpfs when available), `Core::apply` with the reference
//!   market maker quoting BTC on ALT (the `core::testkit` fixture), outputs to the rings;
//! - one **gateway thread** that is both the market-data feed and the venue: it publishes
//!   an L2 update at a fixed rate (open loop), takes the market maker's venue orders off
//!   its outbound ring, and answers them (ack, replace ack, cancel ack) so the market maker
//!   keeps quoting. Round trip: gateway → inbound ring → core → outbound ring → the same
//!   gateway.
//!
//! Every tick moves the book's microprice by more than a tick (the bid quantity alternates
//! 10 / 30 against a 20-lot ask), so the market maker replaces both quotes on every tick
//! unless it is still waiting for the venue's answer to its previous request (it never
//! stacks requests). **Tick-to-trade** is measured for every tick, to the first venue
//! order the core emitted after applying it: from the tick's intended send time
//! (corrected) and from its ingress stamp (uncorrected), to the moment the gateway takes
//! the order off its outbound ring. Usually that order is the tick's own ("direct"); a tick
//! that found the market maker waiting is answered by its next order ("later"), so a stall
//! that makes the strategy wait shows in every tick it held up instead of dropping them
//! from the figures. Outputs are matched to ticks by the output's time, which is the time
//! of the command that caused it (the core makes command time monotonic; one publisher
//! stamps every command, so an output at or after a tick's stamp was emitted after the
//! core applied that tick).
//!
//! The floor ([`super::pipeline_floor`]) runs the same code on the gateway side over the
//! same ring types with the same threads, pinning and wait strategy, but its "core" does
//! no work: it turns each tick into one venue order.

use super::histogram::Recorder;
use super::load::Schedule;
use super::report::{Measurement, Report, Role};
use super::{BenchError, Common, Pinning};
use keel_engine::core::Core;
use keel_engine::core::testkit::{ALT, BTC, VENUE, config_with_market_maker, l2, logons};
use keel_engine::pipeline::{
    CoreStart, Delivery, Gateway, GatewayIo, IngressClock, Pipeline, PipelineConfig, Placement,
    PublishError, Routes,
};
use keel_engine::schema::{CommandBody, OutputBody, VenueAck, VenueCancelAck, VenueReplaceAck};
use keel_engine::{SessionId, Side, TimestampNs};
use keel_journal::Journal;
use keel_replay::log::{JournalRecorder, journal_config};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default ticks per second.
pub const DEFAULT_RATE: u64 = 10_000;
/// How long the gateway waits for the last ticks' orders after the last tick, ns.
const DRAIN_NS: u64 = 2_000_000_000;
/// Published ticks waiting for their first order, at most (older ones count as
/// unanswered).
const INFLIGHT_MAX: usize = 1 << 16;

/// Where a tick source publishes: the pipeline's [`GatewayIo`] or the floor's bare ring.
pub trait Publish {
    /// Publishes now if there is room; returns the ingress stamp (UTC ns).
    fn try_publish(
        &mut self,
        session: SessionId,
        body: CommandBody,
    ) -> Result<TimestampNs, PublishError>;
    /// UTC nanoseconds now, on the clock that stamps ingress.
    fn now_utc(&self) -> u64;
}

impl Publish for GatewayIo {
    #[inline]
    fn try_publish(
        &mut self,
        session: SessionId,
        body: CommandBody,
    ) -> Result<TimestampNs, PublishError> {
        GatewayIo::try_publish(self, session, body)
    }

    #[inline]
    fn now_utc(&self) -> u64 {
        self.clock().now().0
    }
}

/// The i-th tick: first the ask level (20 lots at 10 010), then the bid level at 10 000
/// with 10 and 30 lots alternately, which moves the microprice ~2.7 ticks each time.
pub fn tick_body(i: u64) -> CommandBody {
    if i == 0 {
        l2(BTC, ALT, Side::Sell, 10_010, 20)
    } else {
        l2(BTC, ALT, Side::Buy, 10_000, if i % 2 == 1 { 10 } else { 30 })
    }
}

/// What a tick source counted.
#[derive(Clone, Debug, Default)]
pub struct TickCounts {
    /// Ticks published.
    pub ticks_published: u64,
    /// Measured ticks (after the warm-up) published.
    pub ticks_measured: u64,
    /// Measured ticks answered (recorded): `ticks_direct + ticks_later`.
    pub ticks_answered: u64,
    /// Measured ticks answered by an order they caused themselves.
    pub ticks_direct: u64,
    /// Measured ticks answered by a later order (the market maker was waiting).
    pub ticks_later: u64,
    /// Measured ticks with no order after them when the run ended.
    pub ticks_unanswered: u64,
    /// Venue orders received.
    pub orders_received: u64,
    /// Venue orders that answered no tick (a tick's second quote, or one caused by an ack
    /// with no tick waiting).
    pub orders_other: u64,
    /// Venue answers published (acks).
    pub answers_published: u64,
    /// Publishes that found the inbound ring full.
    pub ring_full: u64,
    /// Commands stamped with the same time as the one before (ambiguous matching).
    pub stamp_collisions: u64,
}

impl TickCounts {
    /// Adds another round's counts.
    pub fn add(&mut self, o: &TickCounts) {
        self.ticks_published += o.ticks_published;
        self.ticks_measured += o.ticks_measured;
        self.ticks_answered += o.ticks_answered;
        self.ticks_direct += o.ticks_direct;
        self.ticks_later += o.ticks_later;
        self.ticks_unanswered += o.ticks_unanswered;
        self.orders_received += o.orders_received;
        self.orders_other += o.orders_other;
        self.answers_published += o.answers_published;
        self.ring_full += o.ring_full;
        self.stamp_collisions += o.stamp_collisions;
    }
}

/// The results of one or more rounds of a tick source.
#[derive(Clone, Debug, Default)]
pub struct TickResult {
    /// Latencies.
    pub recorder: Recorder,
    /// Counts.
    pub counts: TickCounts,
    /// Measured wall time, ns (summed over rounds).
    pub elapsed_ns: u64,
    /// Rounds merged.
    pub rounds: u32,
}

impl TickResult {
    /// Adds one round.
    pub fn add(&mut self, s: &TickSource) {
        self.recorder.merge(&s.recorder);
        self.counts.add(&s.counts);
        self.elapsed_ns += s.elapsed_ns();
        self.rounds += 1;
    }
}

/// The gateway side of both the pipeline and its floor: the fixed-rate feed, the matching
/// of orders to ticks, the recording, and (for the pipeline) the venue's answers.
pub struct TickSource {
    rate_per_s: u64,
    warmup: Duration,
    duration: Duration,
    answer_venue: bool,
    schedule: Option<Schedule>,
    next: u64,
    inflight: VecDeque<(u64, u64)>,
    answers: VecDeque<CommandBody>,
    last_stamp: u64,
    drain_until: Option<u64>,
    last_answer_ns: u64,
    finished: bool,
    /// Latencies of measured ticks.
    pub recorder: Recorder,
    /// Counts.
    pub counts: TickCounts,
}

impl TickSource {
    /// A source of `rate_per_s` ticks for `warmup` then `duration`; `answer_venue` makes it
    /// acknowledge venue orders (the pipeline's market maker needs answers to requote).
    pub fn new(rate_per_s: u64, warmup: Duration, duration: Duration, answer_venue: bool) -> Self {
        TickSource {
            rate_per_s: rate_per_s.max(1),
            warmup,
            duration,
            answer_venue,
            schedule: None,
            next: 0,
            inflight: VecDeque::with_capacity(INFLIGHT_MAX),
            answers: VecDeque::with_capacity(4096),
            last_stamp: 0,
            drain_until: None,
            last_answer_ns: 0,
            finished: false,
            recorder: Recorder::new(),
            counts: TickCounts::default(),
        }
    }

    /// True once every tick was published and answered (or the drain time ran out).
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Wall time of the measured part: first measured due time to the last answer, ns.
    pub fn elapsed_ns(&self) -> u64 {
        self.schedule.map_or(0, |s| self.last_answer_ns.saturating_sub(s.measure_start_ns()))
    }

    /// Publishes queued answers and the ticks that are due; returns the work done.
    pub fn poll(&mut self, p: &mut impl Publish) -> usize {
        let now = p.now_utc();
        let s = *self.schedule.get_or_insert_with(|| {
            // Start 1 ms ahead so the first due time is not already late.
            Schedule::new(now + 1_000_000, self.rate_per_s, self.warmup, self.duration)
        });
        let mut work = 0;
        while let Some(body) = self.answers.front() {
            match p.try_publish(VENUE, *body) {
                Ok(ts) => {
                    self.note_stamp(ts.0);
                    self.answers.pop_front();
                    self.counts.answers_published += 1;
                    work += 1;
                }
                Err(_) => {
                    self.counts.ring_full += 1;
                    return work;
                }
            }
        }
        while self.next < s.total_ops() && s.due_ns(self.next) <= now {
            match p.try_publish(VENUE, tick_body(self.next)) {
                Ok(ts) => {
                    self.note_stamp(ts.0);
                    if self.inflight.len() == INFLIGHT_MAX {
                        self.drop_oldest();
                    }
                    self.inflight.push_back((ts.0, self.next));
                    self.counts.ticks_published += 1;
                    if s.is_measured(self.next) {
                        self.counts.ticks_measured += 1;
                    }
                    self.next += 1;
                    work += 1;
                }
                Err(_) => {
                    self.counts.ring_full += 1;
                    return work;
                }
            }
        }
        if self.next == s.total_ops() && !self.finished {
            let until = *self.drain_until.get_or_insert(now + DRAIN_NS);
            if self.inflight.is_empty() || now >= until {
                while !self.inflight.is_empty() {
                    self.drop_oldest();
                }
                self.finished = true;
            }
        }
        work
    }

    /// When `poll` next has work without any input (UTC ns, as [`Publish::now_utc`]): the
    /// next tick's due time, at once while answers wait for room or before the schedule
    /// starts, the drain's end after the last tick; `None` when finished.
    pub fn wake_at_ns(&self) -> Option<u64> {
        if self.finished {
            return None;
        }
        let Some(s) = self.schedule else { return Some(0) };
        if !self.answers.is_empty() {
            return Some(0);
        }
        if self.next < s.total_ops() {
            return Some(s.due_ns(self.next));
        }
        Some(self.drain_until.unwrap_or(0))
    }

    fn note_stamp(&mut self, ts: u64) {
        if ts <= self.last_stamp {
            self.counts.stamp_collisions += 1;
        }
        self.last_stamp = ts;
    }

    fn drop_oldest(&mut self) {
        if let Some((_, tick)) = self.inflight.pop_front() {
            if self.schedule.is_some_and(|s| s.is_measured(tick)) {
                self.counts.ticks_unanswered += 1;
            }
        }
    }

    /// One output taken off the outbound ring at `now_utc`; `ts` is the output's time.
    #[inline]
    pub fn on_output(&mut self, ts: u64, body: &OutputBody, now_utc: u64) {
        if self.answer_venue {
            if let Some(answer) = venue_answer(body) {
                self.answers.push_back(answer);
            }
        }
        if !matches!(
            body,
            OutputBody::VenueNewOrder(_) | OutputBody::VenueReplace(_) | OutputBody::VenueCancel(_)
        ) {
            return;
        }
        self.counts.orders_received += 1;
        let mut answered = false;
        while let Some(&(t, tick)) = self.inflight.front().filter(|(t, _)| *t <= ts) {
            self.inflight.pop_front();
            answered = true;
            if let Some(s) = self.schedule.filter(|s| s.is_measured(tick)) {
                self.recorder.record(s.due_ns(tick), t, now_utc);
                self.counts.ticks_answered += 1;
                if t == ts {
                    self.counts.ticks_direct += 1;
                } else {
                    self.counts.ticks_later += 1;
                }
                self.last_answer_ns = now_utc;
            }
        }
        if !answered {
            self.counts.orders_other += 1;
        }
    }
}

/// What a simple venue answers to an order: accept everything as asked.
fn venue_answer(body: &OutputBody) -> Option<CommandBody> {
    match body {
        OutputBody::VenueNewOrder(o) => Some(CommandBody::VenueAck(VenueAck {
            venue: o.venue,
            order_id: o.order_id,
            venue_order_id: o.order_id.0,
            venue_ts: TimestampNs(0),
        })),
        OutputBody::VenueReplace(r) => Some(CommandBody::VenueReplaceAck(VenueReplaceAck {
            venue: r.venue,
            order_id: r.order_id,
            price: r.price,
            qty: r.qty,
            venue_ts: TimestampNs(0),
        })),
        OutputBody::VenueCancel(c) => Some(CommandBody::VenueCancelAck(VenueCancelAck {
            venue: c.venue,
            order_id: c.order_id,
            unsolicited: false,
            venue_ts: TimestampNs(0),
        })),
        _ => None,
    }
}

/// Results a gateway hands back when the pipeline stops.
type Shared = Arc<(AtomicBool, Mutex<Option<TickSource>>)>;

/// The pipeline's gateway: the feed and the venue (see the module docs).
struct FeedGateway {
    source: Option<TickSource>,
    shared: Shared,
}

impl Gateway for FeedGateway {
    fn name(&self) -> &str {
        "bench-feed"
    }

    fn routes(&self) -> Routes {
        Routes { sessions: vec![VENUE], venues: vec![ALT] }
    }

    #[inline]
    fn on_output(&mut self, delivery: &Delivery, io: &mut GatewayIo) {
        let now = io.clock().now().0;
        if let Some(s) = &mut self.source {
            s.on_output(delivery.output.ts.0, &delivery.output.body, now);
        }
    }

    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let Some(s) = &mut self.source else { return 0 };
        let work = s.poll(io);
        if s.finished() {
            self.shared.0.store(true, Ordering::Release);
        }
        work
    }

    fn wake_at_ns(&self) -> Option<u64> {
        self.source.as_ref().and_then(TickSource::wake_at_ns)
    }

    fn on_stop(&mut self, _io: &mut GatewayIo) {
        if let Ok(mut slot) = self.shared.1.lock() {
            *slot = self.source.take();
        }
    }
}

/// The pipeline settings of a run.
pub fn pipeline_config(common: &Common, pinning: &Pinning) -> PipelineConfig {
    PipelineConfig {
        inbound_ring: 8192,
        outbound_ring: 4096,
        wait: common.wait_strategy(),
        core_wait: common.core_wait_strategy(),
        placement: Placement {
            pin: pinning.cpus.iter().any(Option::is_some),
            core_cpu: pinning.cpu(0),
            gateway_cpus: pinning.cpu(1).into_iter().collect(),
        },
        max_batch: 256,
        snapshot_interval: Duration::from_millis(250),
    }
}

/// Waits for `done`, at most `timeout`.
pub fn wait_done(done: &AtomicBool, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    while !done.load(Ordering::Acquire) {
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Runs the pipeline and returns its tick source and pipeline-side facts.
fn run_pipeline(
    common: &Common,
    pinning: &Pinning,
    rate: u64,
    journal_dir: std::path::PathBuf,
) -> Result<(TickSource, Vec<(String, u64)>), BenchError> {
    let shared: Shared = Arc::new((AtomicBool::new(false), Mutex::new(None)));
    let gw = FeedGateway {
        source: Some(TickSource::new(rate, common.warmup(), common.duration(), true)),
        shared: Arc::clone(&shared),
    };
    let init = move |clock: &IngressClock| -> Result<CoreStart<JournalRecorder>, String> {
        let core = Core::new(&config_with_market_maker()).map_err(|e| e.to_string())?;
        let journal = Journal::open(&journal_dir, journal_config(keel_journal::Config::default()))
            .map_err(|e| format!("journal {}: {e}", journal_dir.display()))?;
        let now = clock.now();
        let startup =
            logons().iter().map(|c| keel_engine::schema::Command { ts: now, ..*c }).collect();
        Ok(CoreStart { core, journal: JournalRecorder::new(journal), last_seq: 0, startup })
    };
    let pipeline = Pipeline::start(pipeline_config(common, pinning), vec![Box::new(gw)], init)
        .map_err(|e| BenchError::Setup(format!("pipeline: {e}")))?;
    let timeout = common.warmup() + common.duration() + Duration::from_secs(30);
    let finished = wait_done(&shared.0, timeout);
    let metrics = Arc::clone(pipeline.metrics());
    let exit = pipeline.join().map_err(|e| BenchError::Setup(format!("pipeline: {e}")))?;
    if let Some(e) = &exit.journal_error {
        return Err(BenchError::Setup(format!("the journal failed: {e}")));
    }
    let journal = exit.journal.into_inner();
    let roll_stalls = journal.roll_stalls();
    journal.close().map_err(|e| BenchError::Setup(format!("closing the journal: {e}")))?;
    if !finished {
        return Err(BenchError::Setup(format!(
            "the pipeline run did not finish within {} s",
            timeout.as_secs()
        )));
    }
    let source = shared
        .1
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .ok_or_else(|| BenchError::Setup("the feed gateway returned no results".into()))?;
    let rejects: u64 = exit.counters.rejects_by_code.iter().sum();
    let facts = vec![
        ("core_commands_total".to_string(), exit.commands),
        ("core_rejects_total".to_string(), rejects),
        ("journal_records_total".to_string(), exit.last_seq),
        ("journal_roll_stalls".to_string(), roll_stalls),
        ("core_side_t2t_p50_ns".to_string(), metrics.tick_to_trade.quantile_ns(0.5)),
        ("outbound_full_waits".to_string(), metrics.outbound_full_waits.load(Ordering::Relaxed)),
    ];
    Ok((source, facts))
}

/// A measurement from a tick source.
pub fn tick_measurement(name: &str, role: Role, what: &str, s: &TickResult) -> Measurement {
    let c = &s.counts;
    Measurement::from_recorder(name, role, what, &s.recorder, c.ticks_answered, s.elapsed_ns)
        .count("rounds", u64::from(s.rounds))
        .count("ticks_published", c.ticks_published)
        .count("ticks_measured", c.ticks_measured)
        .count("ticks_answered", c.ticks_answered)
        .count("ticks_direct", c.ticks_direct)
        .count("ticks_later", c.ticks_later)
        .count("ticks_unanswered", c.ticks_unanswered)
        .count("orders_received", c.orders_received)
        .count("orders_other", c.orders_other)
        .count("answers_published", c.answers_published)
        .count("ring_full", c.ring_full)
        .count("stamp_collisions", c.stamp_collisions)
}

/// Runs the mode.
pub fn run(common: &Common) -> Result<Report, BenchError> {
    let rate = common.rate.unwrap_or(DEFAULT_RATE);
    if rate == 0 {
        return Err(BenchError::Arg("--rate 0: the pipeline mode needs a tick rate > 0".into()));
    }
    let pinning = common.plan(&["core", "gateway"]);
    let (scratch, where_text) = super::scratch_dir("keel-bench-pipeline-")?;

    // Floor and pipeline alternate, so both see the same machine conditions.
    let round = common.round();
    let (mut floor, mut source) = (TickResult::default(), TickResult::default());
    let mut facts: Vec<(String, u64)> = Vec::new();
    let mut core_side_p50: Vec<u64> = Vec::new();
    for r in 0..common.rounds {
        floor.add(&super::pipeline_floor::run(&round, &pinning, rate)?);
        let dir = scratch.path().join(format!("journal-{r}"));
        let (s, f) = run_pipeline(&round, &pinning, rate, dir.clone())?;
        source.add(&s);
        for (k, v) in f {
            if k == "core_side_t2t_p50_ns" {
                core_side_p50.push(v);
            } else if let Some(e) = facts.iter_mut().find(|(n, _)| *n == k) {
                e.1 += v;
            } else {
                facts.push((k, v));
            }
        }
        // Each round's journal is sealed and closed; free the tmpfs it used.
        let _ = std::fs::remove_dir_all(&dir);
    }
    core_side_p50.sort_unstable();
    facts.push((
        "core_side_t2t_p50_ns_median_of_rounds".into(),
        core_side_p50.get(core_side_p50.len() / 2).copied().unwrap_or(0),
    ));

    let mut subject = tick_measurement(
        "tick_to_trade",
        Role::Subject,
        "L2 tick published by the gateway → journal, core, market maker → the first venue order emitted after it (its own, or the next one if the market maker was waiting for an answer), taken off the gateway's outbound ring",
        &source,
    );
    for (k, v) in facts {
        subject = subject.count(&k, v);
    }
    let floor_m = tick_measurement(
        "floor_two_rings",
        Role::Floor,
        "the same tick over the same inbound ring and outbound ring, threads and wait strategy; the 'core' only turns it into one order",
        &floor,
    );
    let mut report = Report::new(
        "pipeline",
        "tick-to-trade through the in-process pipeline against a bare round trip over two rings",
        common,
        &pinning,
        2,
    );
    let mut settings = report.settings.clone();
    settings.rate_per_s = rate;
    report.settings = settings;
    report.notes.push(format!(
        "feed: one L2 update of BTC on ALT per tick at {rate}/s (bid quantity alternating 10/30 against a 20-lot ask: the market maker replaces both quotes every tick)"
    ));
    report.notes.push(format!(
        "threads: core (journal + Core + market maker) and one gateway thread that is the feed and the venue (it acks every order); journal: {where_text}"
    ));
    report.notes.push(format!(
        "{} rounds, floor then pipeline in each (a fresh pipeline and journal per round), {:.2} s warm-up and {:.2} s measured per round",
        common.rounds, round.warmup, round.duration
    ));
    report.measurements = vec![subject, floor_m];
    report.add_ratio("tick_to_trade", "floor_two_rings");
    report.add_p50_target(
        "tick_to_trade",
        "floor_two_rings",
        3.0,
        "tick-to-trade p50 within 3x the bare two-ring floor",
    );
    drop(scratch);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_engine::schema::VenueNewOrder;
    use keel_engine::{InstrumentId, OrdType, OrderId, Price, Qty, TimeInForce, VenueId};

    /// A publisher on a fake clock that accepts everything.
    struct Fake {
        now: u64,
        published: Vec<(u64, CommandBody)>,
    }

    impl Publish for Fake {
        fn try_publish(
            &mut self,
            _s: SessionId,
            body: CommandBody,
        ) -> Result<TimestampNs, PublishError> {
            self.now += 1;
            self.published.push((self.now, body));
            Ok(TimestampNs(self.now))
        }
        fn now_utc(&self) -> u64 {
            self.now
        }
    }

    fn order() -> OutputBody {
        OutputBody::VenueNewOrder(VenueNewOrder {
            venue: VenueId(2),
            order_id: OrderId(7),
            instrument: InstrumentId(0),
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            flags: keel_engine::schema::OrderFlags::NONE,
            price: Price(1),
            qty: Qty(1),
            display_qty: Qty::ZERO,
            expire_at: TimestampNs(0),
        })
    }

    #[test]
    fn first_order_of_each_tick_is_recorded_and_answered() {
        let mut src = TickSource::new(1_000, Duration::ZERO, Duration::from_millis(3), true);
        let mut p = Fake { now: 0, published: Vec::new() };
        src.poll(&mut p); // starts the schedule 1 ms ahead
        p.now = 1_000_000;
        assert_eq!(src.poll(&mut p), 1);
        let (t0, _) = p.published[0];
        // Two orders for tick 0: the first is recorded, the second is "other"; both acked.
        src.on_output(t0, &order(), t0 + 500);
        src.on_output(t0, &order(), t0 + 600);
        assert_eq!(src.counts.ticks_answered, 1);
        assert_eq!(src.counts.orders_other, 1);
        assert_eq!(src.recorder.corrected().max(), 500 + (t0 - 1_000_000));
        // The two acks go out before the next tick.
        p.now = 2_000_000;
        assert_eq!(src.poll(&mut p), 3);
        assert!(matches!(p.published[1].1, CommandBody::VenueAck(_)));
        assert!(matches!(p.published[3].1, CommandBody::L2Update(_)));
        // Tick 1 gets no order of its own; tick 2's order answers both, tick 1 "later"
        // (from its own due time and stamp).
        p.now = 3_000_000;
        src.poll(&mut p);
        let t1 = p.published[3].0;
        let t2 = p.published.last().unwrap().0;
        src.on_output(t2, &order(), t2 + 10);
        assert_eq!(src.counts.ticks_unanswered, 0);
        assert_eq!(src.counts.ticks_answered, 3);
        assert_eq!((src.counts.ticks_direct, src.counts.ticks_later), (2, 1));
        assert_eq!(src.recorder.uncorrected().count_at(t2 + 10 - t1), 1);
        let h = src.recorder.corrected();
        assert_eq!(h.max(), h.highest_equivalent(t2 + 10 - 2_000_000));
        // An order stamped before any waiting tick answers nothing.
        src.on_output(t2 - 1, &order(), t2 + 20);
        assert_eq!(src.counts.orders_other, 2);
        p.now = 4_000_000;
        src.poll(&mut p);
        assert!(src.finished());
        assert_eq!(src.counts.ticks_published, 3);
        assert_eq!(
            src.counts.ticks_measured,
            src.counts.ticks_answered + src.counts.ticks_unanswered
        );
    }
}

#[cfg(test)]
mod feed_tests {
    use super::*;
    use keel_engine::core::testkit::Harness;

    /// The feed's claim: once its answers are in, every tick makes the market maker send
    /// orders (new quotes on tick 1, two replaces on every later tick), and the answers
    /// the gateway sends are accepted.
    #[test]
    fn every_answered_tick_requotes_both_sides() {
        let mut h = Harness::new(&config_with_market_maker());
        h.logon_all();
        for i in 0..50u64 {
            let outs = h.send(VENUE, tick_body(i));
            let orders: Vec<&OutputBody> = outs
                .iter()
                .filter(|o| matches!(o, OutputBody::VenueNewOrder(_) | OutputBody::VenueReplace(_)))
                .collect();
            match i {
                0 => assert!(orders.is_empty(), "one-sided book: no quotes"),
                1 => assert!(orders.iter().all(|o| matches!(o, OutputBody::VenueNewOrder(_)))),
                _ => assert!(orders.iter().all(|o| matches!(o, OutputBody::VenueReplace(_)))),
            }
            if i > 0 {
                assert_eq!(orders.len(), 2, "tick {i}: {outs:?}");
            }
            for o in &outs {
                if let Some(a) = venue_answer(o) {
                    h.send(VENUE, a);
                }
            }
        }
        let c = h.core.counters();
        assert_eq!(c.rejects_by_code.iter().sum::<u64>(), 0);
        assert_eq!(c.anomalies, 0);
    }
}
