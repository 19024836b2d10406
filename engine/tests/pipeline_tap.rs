//! The market-data tap: a gateway that asks for it receives a copy of exactly the
//! market-data commands the core applied, in the core's order, and nothing else; with a
//! 2-slot tap and a slow consumer nothing is dropped (the core waits); a gateway that does
//! not ask receives none. A blocked gateway is woken for each command while it says the
//! data is urgent, and otherwise once its tap is half full.

#[path = "support/asleep.rs"]
mod asleep;

use keel_engine::core::testkit::{self, ALT, BTC};
use keel_engine::pipeline::{
    Delivery, Gateway, GatewayIo, Pipeline, PipelineConfig, PublishError, Routes, WaitStrategy,
};
use keel_engine::port::Recorded;
use keel_engine::schema::{Command, CommandBody, L2Update, Timer};
use keel_engine::{Price, Qty, SessionId, Side, TimestampNs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const N: u64 = 500;

/// Publishes N level updates interleaved with timer ticks.
struct Feed {
    sent: u64,
}

fn level(i: u64) -> CommandBody {
    CommandBody::L2Update(L2Update {
        instrument: BTC,
        venue: ALT,
        side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
        price: Price(if i % 2 == 0 { 9_000 - (i % 50) as i64 } else { 11_000 + (i % 50) as i64 }),
        qty: Qty(1 + (i % 9) as i64),
        exchange_ts: TimestampNs(i),
    })
}

impl Gateway for Feed {
    fn name(&self) -> &str {
        "feed"
    }
    fn routes(&self) -> Routes {
        Routes::default()
    }
    fn on_output(&mut self, _: &Delivery, _: &mut GatewayIo) {}
    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        while self.sent < 2 * N && n < 16 {
            let body = if self.sent % 2 == 0 {
                level(self.sent / 2)
            } else {
                CommandBody::Timer(Timer {})
            };
            match io.try_publish(SessionId(3), body) {
                Ok(_) => {
                    self.sent += 1;
                    n += 1;
                }
                Err(PublishError::Full | PublishError::Closed) => break,
            }
        }
        n
    }
    /// Nothing rings a publisher when the ring has room again: while there is more to
    /// send, it is due at once (a blocking runner then yields instead of sleeping).
    fn wake_at_ns(&self) -> Option<u64> {
        (self.sent < 2 * N).then_some(0)
    }
}

/// Records what the tap hands it, slowly.
struct Tapper {
    wants: bool,
    urgent: bool,
    seen: Arc<Mutex<Vec<Command>>>,
}

impl Gateway for Tapper {
    fn name(&self) -> &str {
        if self.wants { "tapper" } else { "bystander" }
    }
    fn routes(&self) -> Routes {
        Routes::default()
    }
    fn wants_market_data(&self) -> bool {
        self.wants
    }
    fn market_data_urgent(&self) -> bool {
        self.urgent
    }
    fn on_market_data(&mut self, cmd: &Command, _: &mut GatewayIo) {
        std::thread::yield_now();
        self.seen.lock().unwrap().push(*cmd);
    }
    fn on_output(&mut self, _: &Delivery, _: &mut GatewayIo) {}
    fn poll(&mut self, _: &mut GatewayIo) -> usize {
        0
    }
}

#[test]
fn the_tap_carries_every_market_data_command_in_order_and_nothing_else() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let other = Arc::new(Mutex::new(Vec::new()));
    let gateways: Vec<Box<dyn Gateway>> = vec![
        Box::new(Feed { sent: 0 }),
        Box::new(Tapper { wants: true, urgent: true, seen: Arc::clone(&seen) }),
        Box::new(Tapper { wants: false, urgent: true, seen: Arc::clone(&other) }),
    ];
    let pipeline = Pipeline::start(
        PipelineConfig {
            inbound_ring: 64,
            outbound_ring: 2,
            wait: WaitStrategy::Park { spins: 16, yields: 4, park_us: 50 },
            ..PipelineConfig::default()
        },
        gateways,
        |_| testkit::memory_start(),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while (seen.lock().unwrap().len() as u64) < N {
        assert!(Instant::now() < deadline, "tap delivered {} of {N}", seen.lock().unwrap().len());
        std::thread::sleep(Duration::from_millis(5));
    }
    let exit = pipeline.join().unwrap();
    let seen = seen.lock().unwrap();
    let bodies: Vec<CommandBody> = seen.iter().map(|c| c.body).collect();
    let expected: Vec<CommandBody> = (0..N).map(level).collect();
    assert_eq!(bodies, expected, "every level update, in order, and no timer tick");
    assert!(other.lock().unwrap().is_empty(), "a gateway that did not ask gets nothing");
    let inputs =
        exit.journal.records.iter().filter(|r| matches!(r, Recorded::Input(_))).count() as u64;
    assert_eq!(inputs, 2 * N, "the tap journals nothing of its own");
}

/// Under `block` with a sleep that would outlast the test: the urgent tapper must be woken
/// for every command (it sees all N before the feed ends), the quiet one at least every
/// half tap (it sees all but fewer than half a tap's worth; without the half-full wake-up
/// the core would wait on its full tap for as long as it sleeps). At stop, the quiet one
/// gets the rest.
#[test]
fn a_blocked_gateway_is_woken_per_command_only_while_the_data_is_urgent() {
    const TAP: usize = 8;
    let urgent = Arc::new(Mutex::new(Vec::new()));
    let quiet = Arc::new(Mutex::new(Vec::new()));
    let gateways: Vec<Box<dyn Gateway>> = vec![
        Box::new(Feed { sent: 0 }),
        Box::new(Tapper { wants: true, urgent: true, seen: Arc::clone(&urgent) }),
        Box::new(Tapper { wants: true, urgent: false, seen: Arc::clone(&quiet) }),
    ];
    let config = PipelineConfig { inbound_ring: 64, outbound_ring: TAP, ..Default::default() };
    let pipeline = asleep::start(config, gateways);
    let count = |v: &Arc<Mutex<Vec<Command>>>| v.lock().unwrap().len();
    asleep::wait_until(
        || count(&urgent) >= N as usize && count(&quiet) + TAP / 2 > N as usize,
        || format!("urgent tapper saw {} of {N}, quiet tapper {}", count(&urgent), count(&quiet)),
    );
    pipeline.join().unwrap();
    let expected: Vec<CommandBody> = (0..N).map(level).collect();
    for (who, seen) in [("urgent", &urgent), ("quiet", &quiet)] {
        let bodies: Vec<CommandBody> = seen.lock().unwrap().iter().map(|c| c.body).collect();
        let first_difference = bodies.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            bodies.len() == expected.len() && first_difference.is_none(),
            "{who} tapper: {} of {N} level updates, first difference at {first_difference:?}",
            bodies.len()
        );
    }
}
