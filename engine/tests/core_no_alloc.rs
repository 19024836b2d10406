//! No allocation on the core's steady-state path (design §3): a core with the reference
//! market maker applies a long seeded stream of market data, order entry, venue reports,
//! timers and admin actions, and the global allocator counts zero allocations on this
//! thread while it does. Other test threads do not disturb the count: the counter is
//! thread-local.
//!
//! To find an allocation, run with `KEEL_ALLOC_BACKTRACE=1`: the first allocation inside
//! the measured window prints its backtrace.

use keel_engine::core::Core;
use keel_engine::core::testkit::{CountingSink, config_with_market_maker, random_commands};
use keel_engine::schema::Output;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const STREAM: usize = 200_000;
const WARM_UP: usize = 20_000;
/// Room reserved in the Vec sink: more than any one command of the stream emits.
const OUTPUTS_PER_COMMAND_MAX: usize = 8_192;

#[test]
fn core_steady_state_does_not_allocate() {
    // Start-up and stream generation allocate: before the window.
    let commands = random_commands(0x5eed_c0de, STREAM);
    let mut core = Core::new(&config_with_market_maker()).expect("valid config");
    let (warm, steady) = commands.split_at(WARM_UP);
    let mut warm_out: Vec<Output> = Vec::new();
    for c in warm {
        core.apply(c, &mut warm_out);
    }
    // Two sinks: a reserved Vec cleared before each command (as `apply_journaled` uses
    // it) for the first half of the window, the counting sink for the second.
    let (first, second) = steady.split_at(steady.len() / 2);
    let mut out: Vec<Output> = Vec::with_capacity(OUTPUTS_PER_COMMAND_MAX);
    let mut sink = CountingSink::default();
    let mut vec_outputs = 0u64;

    let before = allocations();
    counting_alloc::watch(true);
    for c in first {
        out.clear();
        core.apply(c, &mut out);
        vec_outputs += out.len() as u64;
    }
    for c in second {
        core.apply(c, &mut sink);
    }
    counting_alloc::watch(false);
    let allocated = allocations() - before;

    let counters = core.counters();
    // The window saw real work, not a quiet stream.
    // (About 900 with this seed since released stops pass pre-trade risk, self-trade
    // prevention included.)
    assert!(counters.fills > 500, "fills: {}", counters.fills);
    assert!(sink.outputs > 10_000 && vec_outputs > 10_000, "{} / {vec_outputs}", sink.outputs);
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations while applying {} commands (KEEL_ALLOC_BACKTRACE=1 shows where)",
        steady.len()
    );
}
