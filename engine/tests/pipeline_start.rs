//! Start-up errors are returned, not panicked (release builds abort on panic); where the
//! pipeline's threads may run.

use keel_engine::core::testkit::{self, TIMER};
use keel_engine::pipeline::{
    Delivery, Gateway, GatewayIo, Pipeline, PipelineConfig, PipelineError, Placement, Routes,
    TimerGateway, WaitStrategy, placement,
};
use keel_engine::port::MemoryJournal;

#[test]
fn an_init_error_is_returned() {
    let r = Pipeline::<MemoryJournal>::start(PipelineConfig::default(), Vec::new(), |_| {
        Err("journal is locked".to_string())
    });
    assert!(matches!(r, Err(PipelineError::Init(e)) if e == "journal is locked"));
}

#[test]
fn two_gateways_may_not_claim_one_session_and_rings_are_checked() {
    let gateways: Vec<Box<dyn Gateway>> =
        vec![Box::new(TimerGateway::new(TIMER, 1_000_000)), Box::new(TimerGateway::new(TIMER, 1))];
    let init = |_: &_| testkit::memory_start();
    let r = Pipeline::start(PipelineConfig::default(), gateways, init);
    assert!(matches!(r, Err(PipelineError::RouteConflict { what: "session", .. })));
    let config = PipelineConfig { inbound_ring: 100, ..PipelineConfig::default() };
    let r = Pipeline::start(config, Vec::new(), init);
    assert!(matches!(r, Err(PipelineError::Config(m)) if m.contains("100")));
}

#[test]
fn a_timer_pipeline_starts_applies_and_stops() {
    let gateways: Vec<Box<dyn Gateway>> = vec![Box::new(TimerGateway::new(TIMER, 1_000_000))];
    let p =
        Pipeline::start(PipelineConfig::default(), gateways, |_| testkit::memory_start()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while p.metrics().commands.load(std::sync::atomic::Ordering::Relaxed) < 5 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let exit = p.join().unwrap();
    assert!(exit.commands >= 5);
    assert_eq!(exit.journal.records.len() as u64, exit.last_seq);
    assert_eq!(exit.counters.commands_by_kind[20], exit.commands, "all timers");
}

/// The core thread is pinned after `init`, so the threads `init` starts (the journal's
/// background threads in `keel serve`) may run on every allowed CPU, not on the core's.
#[test]
fn threads_started_by_init_are_not_pinned_with_the_core() {
    let allowed = placement::allowed_cpus();
    if allowed.len() < 2 {
        return; // one CPU: pinned or not, a thread has the same one
    }
    let config = PipelineConfig {
        placement: Placement { pin: true, core_cpu: Some(allowed[0]), gateway_cpus: Vec::new() },
        ..PipelineConfig::default()
    };
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let p = Pipeline::start(config, Vec::new(), move |_| {
        let seen_tx = seen_tx.clone();
        std::thread::spawn(move || seen_tx.send(placement::allowed_cpus()).unwrap())
            .join()
            .unwrap();
        testkit::memory_start()
    })
    .unwrap();
    assert_eq!(seen_rx.recv().unwrap(), allowed);
    p.join().unwrap();
}

/// Reports the CPUs its thread may use when it starts.
struct AffinityProbe(std::sync::mpsc::Sender<Vec<usize>>);

impl Gateway for AffinityProbe {
    fn name(&self) -> &str {
        "probe"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![], venues: vec![] }
    }
    fn on_start(&mut self, _io: &mut GatewayIo) {
        self.0.send(placement::allowed_cpus()).unwrap();
    }
    fn on_output(&mut self, _d: &Delivery, _io: &mut GatewayIo) {}
    fn poll(&mut self, _io: &mut GatewayIo) -> usize {
        0
    }
}

/// A pinned core that never sleeps has its CPU to itself: a gateway left unpinned (more
/// threads than CPUs) and the threads `init` starts may use every allowed CPU but that
/// one. A core that sleeps reserves nothing.
#[test]
fn a_spinning_pinned_core_keeps_its_cpu_to_itself() {
    let allowed = placement::allowed_cpus();
    if allowed.len() < 2 {
        return; // nothing to keep anything off
    }
    let run = |core_wait: WaitStrategy| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The core, then one gateway per CPU left, pinned, then one unpinned.
        let gateways: Vec<Box<dyn Gateway>> =
            (0..allowed.len()).map(|_| Box::new(AffinityProbe(tx.clone())) as _).collect();
        let config = PipelineConfig {
            wait: WaitStrategy::Block { spins: 10, yields: 1, timeout_us: 1_000 },
            core_wait: Some(core_wait),
            placement: Placement {
                pin: true,
                core_cpu: Some(allowed[0]),
                gateway_cpus: Vec::new(),
            },
            ..PipelineConfig::default()
        };
        let init_tx = tx.clone();
        let p = Pipeline::start(config, gateways, move |_| {
            let tx = init_tx.clone();
            std::thread::spawn(move || tx.send(placement::allowed_cpus()).unwrap()).join().unwrap();
            testkit::memory_start()
        })
        .unwrap();
        let seen: Vec<Vec<usize>> = (0..=allowed.len()).map(|_| rx.recv().unwrap()).collect();
        p.join().unwrap();
        seen
    };
    let rest: Vec<usize> = allowed[1..].to_vec();
    let seen = run(WaitStrategy::SpinThenYield { spins: 10 });
    let wide: Vec<_> = seen.iter().filter(|s| s.len() > 1).collect();
    assert!(seen.iter().all(|s| !s.contains(&allowed[0])), "{seen:?}");
    assert_eq!(wide, vec![&rest; wide.len()], "{seen:?}");
    assert_eq!(wide.len(), if rest.len() > 1 { 2 } else { 0 }, "{seen:?}");
    let seen = run(WaitStrategy::Block { spins: 10, yields: 1, timeout_us: 1_000 });
    assert_eq!(seen.iter().filter(|s| **s == allowed).count(), 2, "{seen:?}");
}
