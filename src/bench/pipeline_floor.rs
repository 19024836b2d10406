//! The floor of `keel bench pipeline`: a bare round trip over two rings with no work.
//!
//! Exactly the pipeline's topology and ring types: a gateway thread publishes
//! [`InboundSlot`]s (command + raw ingress stamp, stamped the way `GatewayIo` does) into a
//! `disruptor` multi-producer ring read by an event poller on a second thread, which
//! pushes one [`Delivery`] per market-data command into a bounded `ArrayQueue` back to
//! the gateway. Same ring sizes, batch size, wait strategy and CPUs as the pipeline run;
//! the gateway side is the same [`TickSource`] code. No journal, no core, no answers.
//! Under `--wait block` both threads sleep and wake as the pipeline's do: the publisher
//! rings the "core"'s doorbell after each publish, the "core" rings the gateway's after each
//! push, and the gateway sleeps no later than its next tick is due.

use super::pipeline_mode::{Publish, TickSource, pipeline_config};
use super::{BenchError, Common, Pinning};
use crossbeam::queue::ArrayQueue;
use disruptor::{BusySpin, Polling, Producer};
use keel_engine::pipeline::{
    Delivery, Doorbell, Idle, InboundSlot, IngressClock, PublishError, Sleeper, WaitStrategy,
    doorbell, placement,
};
use keel_engine::schema::{
    Command, CommandBody, OrderFlags, Output, OutputBody, Timer, VenueNewOrder,
};
use keel_engine::{
    InstrumentId, OrdType, OrderId, Price, Qty, SessionId, Side, TimeInForce, TimestampNs, VenueId,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Producer_ = disruptor::MultiProducer<InboundSlot, disruptor::SingleConsumerBarrier>;

/// The floor's publisher: a stamp like `GatewayIo::try_publish`, then the ring.
struct BarePublisher {
    producer: Producer_,
    clock: IngressClock,
    /// The "core"'s doorbell (blocking strategies).
    core_bell: Option<Doorbell>,
}

impl Publish for BarePublisher {
    #[inline]
    fn try_publish(
        &mut self,
        session: SessionId,
        body: CommandBody,
    ) -> Result<TimestampNs, PublishError> {
        let raw = self.clock.raw();
        let ts = self.clock.utc_at(raw);
        let cmd = Command { ts, session, body };
        self.producer
            .try_publish(|slot| {
                slot.cmd = cmd;
                slot.ingress_raw = raw;
            })
            .map(|_| {
                if let Some(bell) = &self.core_bell {
                    bell.ring();
                }
                ts
            })
            .map_err(|_| PublishError::Full)
    }

    #[inline]
    fn now_utc(&self) -> u64 {
        self.clock.now().0
    }
}

fn empty_slot() -> InboundSlot {
    InboundSlot {
        cmd: Command {
            ts: TimestampNs(0),
            session: SessionId(0),
            body: CommandBody::Timer(Timer {}),
        },
        ingress_raw: 0,
    }
}

/// The order the floor's "core" answers each tick with.
const ORDER: VenueNewOrder = VenueNewOrder {
    venue: VenueId(2),
    order_id: OrderId(1),
    instrument: InstrumentId(0),
    side: Side::Buy,
    ord_type: OrdType::Limit,
    tif: TimeInForce::Gtc,
    flags: OrderFlags::NONE,
    price: Price(10_001),
    qty: Qty(5),
    display_qty: Qty::ZERO,
    expire_at: TimestampNs(0),
};

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

/// Outputs the gateway takes per round before polling again (as the pipeline's runner).
const DRAIN_BUDGET: usize = 256;

/// Runs the floor at `rate` ticks/s with the pipeline's settings; returns its tick source.
pub fn run(common: &Common, pinning: &Pinning, rate: u64) -> Result<TickSource, BenchError> {
    let config = pipeline_config(common, pinning);
    let wait = config.wait;
    // The stand-in for the core waits as the pipeline's core does.
    let core_wait = config.core_wait.unwrap_or(wait);
    let clock = IngressClock::new();
    let (mut poller, builder) =
        disruptor::build_multi_producer(config.inbound_ring, empty_slot, BusySpin)
            .new_event_poller();
    let producer = builder.build();
    let outbound: Arc<ArrayQueue<Delivery>> = Arc::new(ArrayQueue::new(config.outbound_ring));
    let core_done = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let pair = |w: WaitStrategy| -> (Option<Sleeper>, Option<Doorbell>) {
        w.blocks().then(doorbell::doorbell).unzip()
    };
    let (mut core_sleeper, core_bell) = pair(core_wait);
    let (mut gw_sleeper, gw_bell) = pair(wait);

    let core = {
        let outbound = Arc::clone(&outbound);
        let core_done = Arc::clone(&core_done);
        let abort = Arc::clone(&abort);
        let cpu = pinning.cpu(0);
        let max_batch = config.max_batch;
        std::thread::Builder::new()
            .name("keel-floor-core".into())
            .spawn(move || {
                if let Some(cpu) = cpu {
                    placement::pin_current(cpu);
                }
                let mut idle = Idle::new(core_wait);
                let mut seq = 0u64;
                'run: loop {
                    match poller.take(max_batch) {
                        Ok(mut batch) => {
                            match &mut core_sleeper {
                                Some(s) => idle.reset_sleeper(s),
                                None => idle.reset(),
                            }
                            for slot in &mut batch {
                                seq += 1;
                                if !is_market_data(&slot.cmd.body) {
                                    continue;
                                }
                                let mut d = Delivery {
                                    seq,
                                    output: Output {
                                        ts: slot.cmd.ts,
                                        body: OutputBody::VenueNewOrder(ORDER),
                                    },
                                };
                                let mut full = Idle::new(core_wait);
                                while let Err(back) = outbound.push(d) {
                                    if abort.load(Ordering::Acquire) {
                                        break 'run;
                                    }
                                    d = back;
                                    full.wait();
                                }
                                if let Some(bell) = &gw_bell {
                                    bell.ring();
                                }
                            }
                        }
                        Err(Polling::NoEvents) => {
                            if abort.load(Ordering::Acquire) {
                                break;
                            }
                            match &mut core_sleeper {
                                Some(s) => idle.wait_or_sleep(s, None),
                                None => idle.wait(),
                            }
                        }
                        Err(Polling::Shutdown) => break,
                    }
                }
                core_done.store(true, Ordering::Release);
                if let Some(bell) = &gw_bell {
                    bell.ring();
                }
            })
            .map_err(BenchError::io("spawning the floor's core thread"))?
    };

    let gateway = {
        let outbound = Arc::clone(&outbound);
        let core_done = Arc::clone(&core_done);
        let abort = Arc::clone(&abort);
        let cpu = pinning.cpu(1);
        let mut source = TickSource::new(rate, common.warmup(), common.duration(), false);
        let deadline =
            Instant::now() + common.warmup() + common.duration() + Duration::from_secs(30);
        std::thread::Builder::new()
            .name("keel-floor-gw".into())
            .spawn(move || {
                if let Some(cpu) = cpu {
                    placement::pin_current(cpu);
                }
                let mut publisher = BarePublisher { producer, clock, core_bell };
                let mut idle = Idle::new(wait);
                let drain = |source: &mut TickSource, clock: &IngressClock| {
                    let mut n = 0;
                    while n < DRAIN_BUDGET {
                        let Some(d) = outbound.pop() else { break };
                        let now = clock.now().0;
                        source.on_output(d.output.ts.0, &d.output.body, now);
                        n += 1;
                    }
                    n
                };
                let mut timed_out = false;
                while !source.finished() {
                    let mut work = drain(&mut source, &publisher.clock);
                    work += source.poll(&mut publisher);
                    match (&mut gw_sleeper, work > 0) {
                        (Some(s), true) => idle.reset_sleeper(s),
                        (None, true) => idle.reset(),
                        (_, false) if Instant::now() >= deadline => {
                            timed_out = true;
                            break;
                        }
                        (Some(s), false) => {
                            // No later than the next tick, as the pipeline's runner does.
                            let now = publisher.clock.now().0;
                            let t = source
                                .wake_at_ns()
                                .map(|at| Duration::from_nanos(at.saturating_sub(now)));
                            idle.wait_or_sleep(s, t);
                        }
                        (None, false) => idle.wait(),
                    }
                }
                let clock = publisher.clock.clone();
                // Closing the only producer shuts the ring down once the core has read it.
                drop(publisher);
                while !(core_done.load(Ordering::Acquire) && outbound.is_empty()) {
                    if timed_out {
                        abort.store(true, Ordering::Release);
                    }
                    if drain(&mut source, &clock) == 0 {
                        match &mut gw_sleeper {
                            Some(s) => idle.wait_or_sleep(s, None),
                            None => idle.wait(),
                        }
                    }
                    if Instant::now() >= deadline + Duration::from_secs(5) {
                        abort.store(true, Ordering::Release);
                        break;
                    }
                }
                (source, timed_out)
            })
            .map_err(BenchError::io("spawning the floor's gateway thread"))?
    };
    let (source, timed_out) = gateway
        .join()
        .map_err(|_| BenchError::Setup("the floor's gateway thread panicked".into()))?;
    core.join().map_err(|_| BenchError::Setup("the floor's core thread panicked".into()))?;
    if timed_out {
        return Err(BenchError::Setup("the two-ring floor did not finish in time".into()));
    }
    Ok(source)
}
