//! Start-up errors are returned, not panicked (release builds abort on panic).

use keel_engine::core::Core;
use keel_engine::core::testkit::{self, TIMER};
use keel_engine::pipeline::{
    CoreStart, Gateway, Pipeline, PipelineConfig, PipelineError, Placement, TimerGateway, placement,
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
    let init = |_: &_| -> Result<CoreStart<MemoryJournal>, String> {
        let core = Core::new(&testkit::config()).map_err(|e| e.to_string())?;
        Ok(CoreStart { core, journal: MemoryJournal::default(), last_seq: 0, startup: Vec::new() })
    };
    let r = Pipeline::start(PipelineConfig::default(), gateways, init);
    assert!(matches!(r, Err(PipelineError::RouteConflict { what: "session", .. })));
    let config = PipelineConfig { inbound_ring: 100, ..PipelineConfig::default() };
    let r = Pipeline::start(config, Vec::new(), init);
    assert!(matches!(r, Err(PipelineError::Config(m)) if m.contains("100")));
}

#[test]
fn a_timer_pipeline_starts_applies_and_stops() {
    let gateways: Vec<Box<dyn Gateway>> = vec![Box::new(TimerGateway::new(TIMER, 1_000_000))];
    let p = Pipeline::start(PipelineConfig::default(), gateways, |_| {
        let core = Core::new(&testkit::config()).map_err(|e| e.to_string())?;
        Ok(CoreStart { core, journal: MemoryJournal::default(), last_seq: 0, startup: Vec::new() })
    })
    .unwrap();
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
        let core = Core::new(&testkit::config()).map_err(|e| e.to_string())?;
        Ok(CoreStart { core, journal: MemoryJournal::default(), last_seq: 0, startup: Vec::new() })
    })
    .unwrap();
    assert_eq!(seen_rx.recv().unwrap(), allowed);
    p.join().unwrap();
}
