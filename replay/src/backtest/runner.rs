//! The backtest loop: recorded market data through the venue and the core, with Keel's
//! requests and the venue's reports in flight between them, one thread, no clock.
//!
//! # Time
//! There are two views of the market. The **venue** sees each event at its exchange time
//! (made monotonic: a time earlier than the previous event's counts as the previous
//! one's, and is counted in [`Outcome::out_of_order`]). The **core** sees it when it
//! arrives, per the [`LatencyModel`]: arrival times are made monotonic too, because a feed
//! does not reorder. Keel's requests reach the venue, and the venue's reports reach the
//! core, at modelled times through the [`Scheduler`].
//!
//! # Order of work
//! The next thing to happen is always the earliest; at equal times the order is fixed:
//! 0. a market-data event at the venue (it may fill Keel's resting orders),
//! 1. a request of Keel's arriving at the venue,
//! 2. a venue report arriving at the core,
//! 3. a market-data event arriving at the core (the strategy reacts within it),
//! 4. a `Timer` command (at every multiple of the timer interval; during a stretch with
//!    nothing else to do, only the first and last timers of the stretch fire).
//!
//! Most steps are a market-data event, at the venue or at the core, with nothing else due
//! before it: the loop takes those after comparing the two events' times and one bound
//! (`Backtest::refresh_horizons`), and makes the full choice above only otherwise — the
//! same order, fewer instructions.
//!
//! Every event reaches the venue no later than the core. Equity and position are sampled
//! at every multiple of the sampling interval, after everything at or before it.

use std::io::IsTerminal;

use keel_engine::core::Core;
use keel_engine::schema::{
    Command, CommandBody, LimitScope, Output, OutputBody, SessionKind, SessionLogon, SetLimit,
    Timer,
};
use keel_engine::{InstrumentId, TimestampNs, VenueId};

use super::config::{
    ADMIN_SESSION, BacktestConfig, ConfigError, STRATEGY_ACCOUNT, STRATEGY_SESSION, TIMER_SESSION,
    VENUE_SESSION,
};
use super::event::{MD_KINDS, MdEvent};
use super::feed::FeedQueue;
use super::fees::FeeSchedule;
use super::latency::{LatencyModel, Op};
use super::metrics::{Metrics, Sample};
use super::sched::Scheduler;
use super::source::{DataError, EventSource};
use super::spec::DataSpec;
use super::venue::{SimVenue, VenueSettings, VenueStats};

/// Lane (and class − 1) of requests to the venue.
const LANE_TO_VENUE: usize = 0;
/// Lane (and class − 1) of reports to the core.
const LANE_TO_CORE: usize = 1;
const CLASS_VENUE_MD: u8 = 0;
const CLASS_CORE_MD: u8 = 3;
const CLASS_TIMER: u8 = 4;
const CLASS_NONE: u8 = u8::MAX;

/// A message in flight.
enum Msg {
    /// Keel's request, to the venue.
    Request(OutputBody),
    /// The venue's report, to the core.
    Report(CommandBody),
}

/// Whether to draw a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// On stderr when it is a terminal.
    #[default]
    Auto,
    /// Never.
    Never,
}

/// Everything a finished run leaves for the report.
pub struct Outcome {
    /// The core, as the run left it.
    pub core: Core,
    /// What the venue did.
    pub venue: VenueStats,
    /// What was measured.
    pub metrics: Metrics,
    /// Market-data events read.
    pub events: u64,
    /// Events the source skipped (another venue's, in a journal).
    pub skipped: u64,
    /// Events whose exchange time went backwards.
    pub out_of_order: u64,
    /// Exchange time of the first and last event.
    pub first_ns: u64,
    /// See `first_ns`.
    pub last_ns: u64,
    /// Core time at the end.
    pub end_ns: u64,
    /// Timer commands applied.
    pub timers: u64,
    /// Most messages in flight at once.
    pub in_flight_max: usize,
    /// Most events between venue and core at once.
    pub feed_depth_max: usize,
    /// The strategy's instrument.
    pub instrument: InstrumentId,
}

/// One backtest, ready to run.
pub struct Backtest {
    config: BacktestConfig,
    venue_id: VenueId,
    instrument: InstrumentId,
    core: Core,
    venue: SimVenue,
    sched: Scheduler<Msg>,
    feed: FeedQueue,
    outputs: Vec<Output>,
    responses: Vec<CommandBody>,
    metrics: Metrics,
    latency: LatencyModel,
    venue_clock: u64,
    feed_clock: u64,
    last_feed_ns: u64,
    next_timer: u64,
    next_sample: u64,
    /// See [`Backtest::refresh_horizons`]: a market-data event at the venue at or before
    /// `venue_horizon`, or at the core before `core_horizon`, is the next thing to happen
    /// when it is the earlier of the two.
    venue_horizon: u64,
    core_horizon: u64,
    last_sample: u64,
    events: u64,
    out_of_order: u64,
    timers: u64,
    feed_depth_max: usize,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The settings do not fit the data.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl Backtest {
    /// A backtest of `config` over data described by `data`.
    pub fn new(config: BacktestConfig, data: &DataSpec) -> Result<Backtest, ConfigError> {
        let core_config = config.core_config(data)?;
        let fees = FeeSchedule::parse(&config.fees, data)?;
        let instrument = config.strategy_instrument(data)?;
        let core = Core::new(&core_config)?;
        let venue = SimVenue::new(
            VenueSettings {
                venue: data.venue(),
                feed: data.feed,
                book: config.book,
                queue: config.queue,
                consume_liquidity: config.consume_liquidity,
                seed: config.seed,
                fees,
            },
            data.instruments.len(),
        );
        Ok(Backtest {
            venue_id: data.venue(),
            instrument,
            core,
            venue,
            sched: Scheduler::new(),
            feed: FeedQueue::with_capacity(1 << 12),
            outputs: Vec::with_capacity(1024),
            responses: Vec::with_capacity(256),
            metrics: Metrics::new(STRATEGY_SESSION),
            latency: config.latency,
            venue_clock: 0,
            feed_clock: 0,
            last_feed_ns: 0,
            next_timer: u64::MAX,
            next_sample: u64::MAX,
            venue_horizon: 0,
            core_horizon: 0,
            last_sample: 0,
            events: 0,
            out_of_order: 0,
            timers: 0,
            feed_depth_max: 0,
            config,
        })
    }

    /// The simulated venue (for tests that look at queue positions).
    pub fn venue(&self) -> &SimVenue {
        &self.venue
    }

    /// Logs the sessions on and sets the limits, at `t0`.
    fn start(&mut self, t0: u64) {
        let logon = |kind| {
            CommandBody::SessionLogon(SessionLogon {
                kind,
                account: STRATEGY_ACCOUNT,
                cancel_on_disconnect: false,
            })
        };
        let mut commands = vec![
            (ADMIN_SESSION, logon(SessionKind::Admin)),
            (VENUE_SESSION, logon(SessionKind::Venue)),
            (TIMER_SESSION, logon(SessionKind::Admin)),
        ];
        for &(kind, value) in &self.config.limits {
            commands.push((
                ADMIN_SESSION,
                CommandBody::SetLimit(SetLimit {
                    scope: LimitScope::Account(STRATEGY_ACCOUNT),
                    kind,
                    value,
                }),
            ));
        }
        for (session, body) in commands {
            self.apply(&Command { ts: TimestampNs(t0), session, body }, t0);
        }
        let interval = self.config.sample_interval_ns;
        self.next_sample = (t0 / interval + 1).saturating_mul(interval);
        self.last_sample = t0;
        self.metrics.samples.push(Sample { t_ns: t0, equity_e8: 0, position_lots: 0 });
        if self.config.timer_interval_ns > 0 {
            let i = self.config.timer_interval_ns;
            self.next_timer = (t0 / i + 1).saturating_mul(i);
        }
    }

    /// Applies a command to the core and routes its outputs. By reference: a `Command` is
    /// 128 bytes, and a copy per event showed in the instruction counts.
    /// Inlined, with the routing out of line: most market data makes no output, and a
    /// call per event cost ~25 instructions of register saves.
    #[inline(always)]
    fn apply(&mut self, cmd: &Command, now: u64) {
        self.outputs.clear();
        self.core.apply(cmd, &mut self.outputs);
        if !self.outputs.is_empty() {
            self.route_outputs(now);
        }
    }

    /// Counts the core's outputs in the metrics and sends its requests to the venue.
    /// Reads each output in place: a copy of its body (~180 bytes) cost ~60 instructions,
    /// and only requests are kept.
    #[inline(never)]
    fn route_outputs(&mut self, now: u64) {
        let Backtest { outputs, metrics, latency, sched, last_feed_ns, .. } = self;
        for out in outputs.iter() {
            let body = &out.body;
            metrics.output(body, now);
            let op = match body {
                OutputBody::VenueNewOrder(_) => Op::New,
                OutputBody::VenueReplace(_) => Op::Amend,
                OutputBody::VenueCancel(_) => Op::Cancel,
                _ => continue,
            };
            let due = now.saturating_add(latency.request(op, *last_feed_ns));
            sched.push(LANE_TO_VENUE, due, Msg::Request(*body));
        }
        self.refresh_horizons();
    }

    /// Schedules the venue's reports made at `now`.
    #[inline(always)]
    fn send_reports(&mut self, now: u64) {
        if self.responses.is_empty() {
            return;
        }
        let due = now.saturating_add(self.latency.response(self.last_feed_ns));
        for body in self.responses.drain(..) {
            self.sched.push(LANE_TO_CORE, due, Msg::Report(body));
        }
        self.refresh_horizons();
    }

    /// Recomputes the horizons of the market-data fast path from what else may happen:
    /// the next message in flight, timer and sampling boundary. Called whenever one of
    /// those changes.
    ///
    /// Per the order of work, a venue event at `t` goes before a message due at `t` (its
    /// class is lower) and a core event does not; both go before a timer at `t` and need
    /// no sample first when `t` is at or before the next boundary. So a venue event at
    /// `t <= venue_horizon`, or a core event at `t < core_horizon`, that is the earlier of
    /// the two market-data events, is what the full selection would choose.
    #[inline]
    fn refresh_horizons(&mut self) {
        let due = self.sched.peek().map_or(u64::MAX, |(due, _)| due);
        let quiet = self.next_timer.min(self.next_sample);
        self.venue_horizon = due.min(quiet);
        self.core_horizon = due.min(quiet.saturating_add(1));
    }

    /// A market-data event at the venue at `t`: the recorded book, Keel's resting orders,
    /// and the event sent on to the core.
    #[inline(always)]
    fn venue_md(&mut self, next: &MdEvent, t: u64) {
        if next.exchange_ts.0 < self.venue_clock {
            self.out_of_order += 1;
        }
        self.venue_clock = t;
        self.venue.on_market_data(next, TimestampNs(t), &mut self.responses);
        self.send_reports(t);
        let arrival = self.latency.feed_arrival(t, next.local_ts.0).max(self.feed_clock);
        self.feed_clock = arrival;
        self.feed.push(arrival, next);
        self.events += 1;
    }

    /// [`Self::venue_md`] for `next`, the progress bar moved every 65 536 events, and the
    /// event after it read into `next`; false at the end of the source.
    #[inline(always)]
    fn venue_step<S: EventSource + ?Sized>(
        &mut self,
        source: &mut S,
        next: &mut MdEvent,
        t: u64,
        bar: Option<&indicatif::ProgressBar>,
    ) -> Result<bool, BacktestError> {
        self.venue_md(next, t);
        if self.events & 0xffff == 0
            && let Some(bar) = bar
        {
            bar.set_position(source.progress().done);
        }
        Ok(source.next_into(next)?)
    }

    /// The oldest market-data event in flight arriving at the core.
    #[inline(always)]
    fn core_md(&mut self, md_cmds: &mut [Command; MD_KINDS]) {
        self.feed_depth_max = self.feed_depth_max.max(self.feed.len());
        // Read in place, then dropped: no copy of the event out of the queue.
        let (arrival, e) = self.feed.front().expect("chosen because present");
        self.last_feed_ns = arrival.saturating_sub(e.exchange_ts.0);
        let cmd = &mut md_cmds[e.kind as usize];
        e.write_command(TimestampNs(arrival), self.venue_id, cmd);
        self.feed.pop();
        self.metrics.feed_latency(self.last_feed_ns);
        self.apply(cmd, arrival);
    }

    fn equity_e8(&self) -> i128 {
        let positions = self.core.positions();
        let markets = self.core.markets();
        let totals = positions.account_totals(STRATEGY_ACCOUNT).copied().unwrap_or_default();
        let unrealized = positions
            .account_unrealized_e8(STRATEGY_ACCOUNT, |i| markets.reference_price(i))
            .unwrap_or(0);
        totals.realized_pnl_e8 + unrealized - totals.fees_e8
    }

    fn position_lots(&self) -> i64 {
        self.core
            .positions()
            .position(STRATEGY_ACCOUNT, self.instrument)
            .map_or(0, |p| p.net_qty_lots())
    }

    fn sample(&mut self, t_ns: u64) {
        let s = Sample { t_ns, equity_e8: self.equity_e8(), position_lots: self.position_lots() };
        self.metrics.samples.push(s);
        self.last_sample = t_ns;
    }

    /// Samples the boundaries before `t`: the first with the state as it is (nothing
    /// happened since), the rest of a quiet stretch implied (see the report's Sharpe).
    #[cold]
    fn sample_before(&mut self, t: u64) {
        let b = self.next_sample;
        self.sample(b);
        let interval = self.config.sample_interval_ns;
        // The first boundary at or after `t` is the next one not yet covered.
        self.next_sample =
            t.div_ceil(interval).saturating_mul(interval).max(b.saturating_add(interval));
    }

    /// Runs to the end of `source`.
    pub fn run<S: EventSource + ?Sized>(
        mut self,
        source: &mut S,
        progress: Progress,
    ) -> Result<Outcome, BacktestError> {
        let bar = progress_bar(source, progress);
        // The next event at the venue, read ahead; `has_next` is false at the end.
        let mut next = MdEvent::new(super::event::MdKind::L2, InstrumentId(0));
        let mut has_next = source.next_into(&mut next)?;
        let first_ns = if has_next { next.exchange_ts.0 } else { 0 };
        self.start(first_ns);
        self.venue_clock = first_ns;
        let mut last_ns = first_ns;
        // The command of a market-data event arriving at the core, one per kind, rewritten
        // in place for each event of the kind (see `MdEvent::write_command`).
        let mut md_cmds: [Command; MD_KINDS] = std::array::from_fn(|k| {
            let kind = super::event::MD_KIND_ALL[k];
            let body = MdEvent::new(kind, InstrumentId(0)).to_body(self.venue_id);
            Command { ts: TimestampNs(first_ns), session: VENUE_SESSION, body }
        });
        self.refresh_horizons();
        loop {
            // Fast path: most steps are a market-data event at the venue or at the core,
            // with nothing else due before it (see `refresh_horizons`).
            let tv = if has_next { next.exchange_ts.0.max(self.venue_clock) } else { u64::MAX };
            let tc = self.feed.front_arrival();
            if tv <= tc {
                if has_next && tv <= self.venue_horizon {
                    last_ns = tv;
                    has_next = self.venue_step(source, &mut next, tv, bar.as_ref())?;
                    continue;
                }
            } else if tc < self.core_horizon {
                self.core_md(&mut md_cmds);
                continue;
            }
            // The earliest of: the next event at the venue, a message in flight, the next
            // event at the core, the next timer — ties broken by class.
            let (mut t, mut class) = if has_next {
                (next.exchange_ts.0.max(self.venue_clock), CLASS_VENUE_MD)
            } else {
                (u64::MAX, CLASS_NONE)
            };
            if let Some((due, lane)) = self.sched.peek()
                && (due, lane + 1) < (t, class)
            {
                (t, class) = (due, lane + 1);
            }
            if let Some((arrival, _)) = self.feed.front()
                && (arrival, CLASS_CORE_MD) < (t, class)
            {
                (t, class) = (arrival, CLASS_CORE_MD);
            }
            if class == CLASS_NONE {
                break;
            }
            if self.next_timer < t {
                // In a quiet stretch only its first and last timers fire: the core has
                // nothing to do in between.
                let i = self.config.timer_interval_ns;
                let fire = self.next_timer;
                self.next_timer = ((t - 1) / i * i).max(fire + i);
                (t, class) = (fire, CLASS_TIMER);
            }
            if t > self.next_sample {
                self.sample_before(t);
            }
            match class {
                CLASS_VENUE_MD => {
                    last_ns = t;
                    has_next = self.venue_step(source, &mut next, t, bar.as_ref())?;
                }
                CLASS_CORE_MD => self.core_md(&mut md_cmds),
                CLASS_TIMER => {
                    self.timers += 1;
                    let body = CommandBody::Timer(Timer {});
                    self.apply(&Command { ts: TimestampNs(t), session: TIMER_SESSION, body }, t);
                }
                _ => {
                    let (due, _, msg) = self.sched.pop().expect("chosen because present");
                    match msg {
                        Msg::Request(body) => {
                            self.venue.on_request(&body, TimestampNs(due), &mut self.responses);
                            self.send_reports(due);
                        }
                        Msg::Report(body) => {
                            match body {
                                CommandBody::VenueAck(a) => {
                                    self.metrics.answered(a.order_id.0, due)
                                }
                                CommandBody::VenueReject(r) => {
                                    self.metrics.answered(r.order_id.0, due)
                                }
                                _ => {}
                            }
                            self.apply(
                                &Command { ts: TimestampNs(due), session: VENUE_SESSION, body },
                                due,
                            );
                        }
                    }
                }
            }
            // A message left, a timer fired or a boundary was sampled.
            self.refresh_horizons();
        }
        self.metrics.finish();
        let end_ns = self.core.now().0.max(last_ns);
        if end_ns > self.last_sample {
            self.sample(end_ns);
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok(Outcome {
            venue: self.venue.stats().clone(),
            core: self.core,
            metrics: self.metrics,
            events: self.events,
            skipped: source.skipped(),
            out_of_order: self.out_of_order,
            first_ns,
            last_ns,
            end_ns,
            timers: self.timers,
            in_flight_max: self.sched.depth_max,
            feed_depth_max: self.feed_depth_max,
            instrument: self.instrument,
        })
    }
}

fn progress_bar<S: EventSource + ?Sized>(
    source: &S,
    progress: Progress,
) -> Option<indicatif::ProgressBar> {
    if progress == Progress::Never || !std::io::stderr().is_terminal() {
        return None;
    }
    let total = source.progress().total;
    let bar =
        indicatif::ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
    let unit = source.unit();
    let template = match (total, unit) {
        (Some(_), "bytes") => {
            "backtest {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})".to_string()
        }
        (Some(_), unit) => {
            format!("backtest {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})")
        }
        (None, unit) => format!("backtest {{spinner}} {{pos}} {unit} ({{per_sec}})"),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    Some(bar)
}
