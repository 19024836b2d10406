//! Pipelines whose idle threads are woken by doorbells only: every sleep outlasts the test,
//! so a wake-up that is not rung shows as a test that gives up, not as a slow one.

use keel_engine::core::testkit;
use keel_engine::pipeline::{Gateway, Pipeline, PipelineConfig, WaitStrategy};
use keel_engine::port::MemoryJournal;
use std::time::{Duration, Instant};

/// Blocks at once and sleeps 10 minutes unless rung.
pub const ONLY_DOORBELLS: WaitStrategy =
    WaitStrategy::Block { spins: 0, yields: 0, timeout_us: 600_000_000 };

/// Starts `gateways` on the test core (journal in memory) with `config`, waiting
/// [`ONLY_DOORBELLS`].
pub fn start(config: PipelineConfig, gateways: Vec<Box<dyn Gateway>>) -> Pipeline<MemoryJournal> {
    let config = PipelineConfig { wait: ONLY_DOORBELLS, ..config };
    Pipeline::start(config, gateways, |_| testkit::memory_start()).expect("the pipeline starts")
}

/// Waits (5 ms polls) until `done`, failing with `what()` after 60 s.
pub fn wait_until(done: impl Fn() -> bool, what: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{}", what());
        std::thread::sleep(Duration::from_millis(5));
    }
}
