//! Back-pressure: with tiny rings, a slow journal (slow core) and a slow gateway (slow
//! outbound consumer), every command published is applied and every output routed is
//! delivered. Count in == count out; nothing is dropped.

use keel_engine::core::testkit::{self, ACCOUNT, ALT, BTC, CLIENT};
use keel_engine::core::{Core, CoreConfig};
use keel_engine::pipeline::{
    CoreStart, Delivery, Gateway, GatewayIo, Pipeline, PipelineConfig, PublishError, Routes,
    WaitStrategy,
};
use keel_engine::port::{CommandJournal, MemoryJournal, Recorded};
use keel_engine::schema::{
    Command, CommandBody, NewOrder, OrderFlags, Output, Route, SessionKind, SessionLogon,
};
use keel_engine::{OrdType, Price, Qty, Side, TimeInForce, TimestampNs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A journal that yields the CPU on every append, so the core falls behind.
struct SlowJournal(MemoryJournal);

impl CommandJournal for SlowJournal {
    type Error = std::convert::Infallible;
    fn append_input(&mut self, cmd: &Command) -> Result<u64, Self::Error> {
        std::thread::yield_now();
        self.0.append_input(cmd)
    }
    fn append_output(&mut self, out: &Output) -> Result<u64, Self::Error> {
        self.0.append_output(out)
    }
}

/// A client: logs on, then publishes `n` orders without ever blocking.
struct Client {
    n: u64,
    sent: u64,
    logged_on: bool,
    received: Arc<AtomicU64>,
    full: Arc<AtomicU64>,
}

fn order(i: u64) -> CommandBody {
    CommandBody::NewOrder(NewOrder {
        cl_ord_id: testkit::numeric_cl(i + 1),
        account: ACCOUNT,
        instrument: BTC,
        route: Route::Venue(ALT),
        side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
        ord_type: OrdType::Limit,
        tif: TimeInForce::Day,
        flags: OrderFlags::NONE,
        price: Price(10_000 + (i % 7) as i64),
        stop_price: Price(0),
        trail_ticks: 0,
        qty: Qty(1),
        display_qty: Qty::ZERO,
        expire_at: TimestampNs(0),
    })
}

impl Gateway for Client {
    fn name(&self) -> &str {
        "client"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![CLIENT], venues: vec![] }
    }
    fn on_output(&mut self, _d: &Delivery, _io: &mut GatewayIo) {
        std::thread::sleep(Duration::from_micros(20));
        self.received.fetch_add(1, Ordering::Relaxed);
    }
    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let body = if !self.logged_on {
            CommandBody::SessionLogon(SessionLogon {
                kind: SessionKind::FixClient,
                account: ACCOUNT,
                cancel_on_disconnect: false,
            })
        } else if self.sent < self.n {
            order(self.sent)
        } else {
            return 0;
        };
        match io.try_publish(CLIENT, body) {
            Ok(_) => {
                if self.logged_on {
                    self.sent += 1;
                }
                self.logged_on = true;
                1
            }
            Err(PublishError::Full) => {
                self.full.fetch_add(1, Ordering::Relaxed);
                0
            }
            Err(PublishError::Closed) => 0,
        }
    }
}

/// The venue side: a slow consumer of the orders.
struct SlowVenue {
    received: Arc<AtomicU64>,
}

impl Gateway for SlowVenue {
    fn name(&self) -> &str {
        "venue"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![], venues: vec![ALT, testkit::SIM] }
    }
    fn on_output(&mut self, _d: &Delivery, _io: &mut GatewayIo) {
        std::thread::sleep(Duration::from_micros(50));
        self.received.fetch_add(1, Ordering::Relaxed);
    }
    fn poll(&mut self, _io: &mut GatewayIo) -> usize {
        0
    }
}

fn core_config() -> CoreConfig {
    testkit::config()
}

#[test]
fn full_rings_apply_back_pressure_and_lose_nothing() {
    back_pressure_run(WaitStrategy::Park { spins: 16, yields: 8, park_us: 20 }, None);
}

/// The same under `Block`: threads that sleep on their doorbells are woken for every
/// command and output, and a full ring (which rings no one) is waited out.
#[test]
fn full_rings_lose_nothing_when_idle_threads_block() {
    back_pressure_run(WaitStrategy::Block { spins: 16, yields: 8, timeout_us: 1_000 }, None);
}

/// Gateways that block beside a core that never does (`core_wait`): the core has no
/// doorbell and the gateways ring none, and the core still wakes every sleeping gateway
/// it hands an output to; then the other way round.
#[test]
fn the_core_and_the_gateways_may_wait_differently() {
    let block = WaitStrategy::Block { spins: 16, yields: 8, timeout_us: 1_000 };
    let yielding = WaitStrategy::SpinThenYield { spins: 16 };
    back_pressure_run(block, Some(yielding));
    back_pressure_run(WaitStrategy::Park { spins: 16, yields: 8, park_us: 20 }, Some(block));
}

fn back_pressure_run(wait: WaitStrategy, core_wait: Option<WaitStrategy>) {
    const N: u64 = 3000;
    let client_rx = Arc::new(AtomicU64::new(0));
    let venue_rx = Arc::new(AtomicU64::new(0));
    let full = Arc::new(AtomicU64::new(0));
    let config = PipelineConfig {
        inbound_ring: 64,
        outbound_ring: 2,
        wait,
        core_wait,
        max_batch: 2,
        ..PipelineConfig::default()
    };
    let gateways: Vec<Box<dyn Gateway>> = vec![
        Box::new(Client {
            n: N,
            sent: 0,
            logged_on: false,
            received: Arc::clone(&client_rx),
            full: Arc::clone(&full),
        }),
        Box::new(SlowVenue { received: Arc::clone(&venue_rx) }),
    ];
    let pipeline = Pipeline::start(config, gateways, |_clock| {
        let core = Core::new(&core_config()).map_err(|e| e.to_string())?;
        Ok(CoreStart::fresh(core, SlowJournal(MemoryJournal::default())))
    })
    .expect("pipeline starts");

    let deadline = Instant::now() + Duration::from_secs(120);
    while pipeline.metrics().commands.load(Ordering::Relaxed) < N + 1 {
        assert!(Instant::now() < deadline, "commands applied: {:?}", pipeline.metrics().commands);
        assert!(!pipeline.is_finished(), "the core thread stopped early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let waits = pipeline.metrics().outbound_full_waits.load(Ordering::Relaxed);
    let exit = pipeline.join().expect("clean stop");
    assert!(exit.journal_error.is_none());

    let records = &exit.journal.0.records;
    let inputs = records.iter().filter(|r| matches!(r, Recorded::Input(_))).count() as u64;
    let outputs = records.iter().filter(|r| matches!(r, Recorded::Output(_))).count() as u64;
    assert_eq!(inputs, N + 1, "every command published was journaled and applied");
    assert_eq!(exit.commands, N + 1);
    let delivered = client_rx.load(Ordering::Relaxed) + venue_rx.load(Ordering::Relaxed);
    assert_eq!(delivered, outputs, "every output was delivered");
    assert!(outputs >= N, "each order produced at least one output");
    assert!(full.load(Ordering::Relaxed) > 0, "the inbound ring filled up");
    assert!(waits > 0, "an outbound ring filled up");
}
