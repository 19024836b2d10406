//! `GatewayIo::waker`: a helper thread that a gateway starts (the binary gateway's
//! password checker) wakes the gateway's thread when it has a result, so a gateway asleep
//! under `block` does not wait for its timeout to collect it.

#[path = "support/asleep.rs"]
mod asleep;

use keel_engine::core::testkit;
use keel_engine::pipeline::{
    Delivery, Gateway, GatewayIo, Pipeline, PipelineConfig, Routes, WaitStrategy,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Starts a helper that, once this gateway's thread sleeps, leaves a result and rings.
struct Helped {
    /// The runner's asks for the deadline: one before arming, one before sleeping.
    idle_rounds: Arc<AtomicU32>,
    result: Arc<AtomicBool>,
    collected: Arc<AtomicBool>,
}

impl Gateway for Helped {
    fn name(&self) -> &str {
        "helped"
    }
    fn routes(&self) -> Routes {
        Routes::default()
    }
    fn on_start(&mut self, io: &mut GatewayIo) {
        let waker = io.waker().expect("a blocking strategy gives a waker");
        let (idle_rounds, result) = (Arc::clone(&self.idle_rounds), Arc::clone(&self.result));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while idle_rounds.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            result.store(true, Ordering::SeqCst);
            waker.ring();
        });
    }
    fn on_output(&mut self, _: &Delivery, _: &mut GatewayIo) {}
    fn poll(&mut self, _: &mut GatewayIo) -> usize {
        if self.result.load(Ordering::SeqCst) && !self.collected.swap(true, Ordering::SeqCst) {
            return 1;
        }
        0
    }
    fn wake_at_ns(&self) -> Option<u64> {
        self.idle_rounds.fetch_add(1, Ordering::SeqCst);
        None
    }
}

#[test]
fn a_helper_thread_wakes_its_sleeping_gateway() {
    let collected = Arc::new(AtomicBool::new(false));
    let gateways: Vec<Box<dyn Gateway>> = vec![Box::new(Helped {
        idle_rounds: Arc::new(AtomicU32::new(0)),
        result: Arc::new(AtomicBool::new(false)),
        collected: Arc::clone(&collected),
    })];
    let pipeline = asleep::start(PipelineConfig::default(), gateways);
    asleep::wait_until(
        || collected.load(Ordering::SeqCst),
        || "the gateway never collected its helper's result".into(),
    );
    pipeline.join().unwrap();
}

#[test]
fn a_gateway_that_does_not_block_gets_no_waker() {
    struct Probe(Arc<AtomicBool>);
    impl Gateway for Probe {
        fn name(&self) -> &str {
            "probe"
        }
        fn routes(&self) -> Routes {
            Routes::default()
        }
        fn on_start(&mut self, io: &mut GatewayIo) {
            self.0.store(io.waker().is_none(), Ordering::SeqCst);
        }
        fn on_output(&mut self, _: &Delivery, _: &mut GatewayIo) {}
        fn poll(&mut self, _: &mut GatewayIo) -> usize {
            0
        }
    }
    let none = Arc::new(AtomicBool::new(false));
    let pipeline = Pipeline::start(
        PipelineConfig {
            wait: WaitStrategy::Park { spins: 1, yields: 1, park_us: 50 },
            ..PipelineConfig::default()
        },
        vec![Box::new(Probe(Arc::clone(&none))) as Box<dyn Gateway>],
        |_| testkit::memory_start(),
    )
    .unwrap();
    pipeline.join().unwrap();
    assert!(none.load(Ordering::SeqCst), "no doorbell without a blocking strategy");
}
