//! Keel's FIX initiator against the simulated venue's FIX acceptor, over loopback TCP: a
//! core, the initiator gateway and a scripted client in one pipeline, the venue on its own
//! thread. Orders are placed, amended, cancelled and filled over FIX; market data flows;
//! a venue restart and a Keel restart are reconciled.

#[path = "support/venue_link.rs"]
mod support;

use keel_engine::schema::{CommandBody, ExecType, MarketStatus, OrdStatus, OutputBody};
use keel_engine::{Qty, Side, TimeInForce};
use keel_gateways::fix::initiator::LinkPhase;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn has_report(keel: &Keel, cl: &str, exec_type: ExecType) -> bool {
    keel.reports().iter().any(|r| r.cl_ord_id.as_str() == cl && r.exec_type == exec_type)
}

fn wait_report(keel: &Keel, cl: &str, exec_type: ExecType) {
    let deadline = std::time::Instant::now() + WAIT;
    while !has_report(keel, cl, exec_type) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {exec_type:?} for {cl}; reports: {:#?}",
            keel.reports()
                .iter()
                .map(|r| (r.cl_ord_id.as_str().to_string(), r.exec_type, r.ord_status, r.reject))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn orders_are_placed_amended_cancelled_and_filled_over_fix() {
    let dir = tempfile::tempdir().unwrap();
    let venue = VenueThread::start(venue_config("127.0.0.1:0".parse().unwrap(), 200));
    let keel = start_keel(dir.path(), venue.addr);
    keel.wait_trading();
    let stats = venue.server.lock().unwrap().stats();
    wait_until("a market-data snapshot", WAIT, || stats.md_messages.load(Ordering::Relaxed) >= 1);

    // A resting buy far below the market, amended, then cancelled.
    keel.send(limit("A", Side::Buy, 4_990_000, 10, TimeInForce::Gtc));
    wait_report(&keel, "A", ExecType::New);
    keel.send(replace("A1", "A", 4_995_000, 20));
    wait_report(&keel, "A1", ExecType::Replaced);
    keel.send(cancel("A2", "A1"));
    wait_report(&keel, "A2", ExecType::PendingCancel);
    // A requested cancel is reported under the request's id (11 = A2, 41 = A1).
    wait_report(&keel, "A2", ExecType::Canceled);
    // A marketable IOC buy: fills against the venue's offers.
    keel.send(limit("B", Side::Buy, 5_010_000, 1, TimeInForce::Ioc));
    wait_until("B filled", WAIT, || {
        keel.reports().iter().any(|r| {
            r.cl_ord_id.as_str() == "B"
                && r.exec_type == ExecType::Trade
                && r.ord_status == OrdStatus::Filled
        })
    });

    let reports = keel.reports();
    let replaced = reports.iter().find(|r| r.exec_type == ExecType::Replaced).unwrap();
    assert_eq!((replaced.price.0, replaced.qty), (4_995_000, Qty(20)));
    assert_eq!(replaced.orig_cl_ord_id.map(|c| c.as_str().to_string()), Some("A".into()));
    let fill = reports
        .iter()
        .find(|r| r.cl_ord_id.as_str() == "B" && r.exec_type == ExecType::Trade)
        .unwrap();
    assert_eq!((fill.last_qty, fill.cum_qty, fill.leaves_qty), (Qty(1), Qty(1), Qty(0)));
    assert!(fill.last_px.0 > 5_000_000 && fill.last_px.0 <= 5_010_000, "{:?}", fill.last_px);

    let _ = keel.stop();
    assert_eq!(stats.replaces.load(Ordering::Relaxed), 1);
    assert!(stats.cancels.load(Ordering::Relaxed) >= 1);
    assert!(stats.fills.load(Ordering::Relaxed) >= 1);
    venue.stop(true);

    // The journal has the venue's side of the story as commands.
    let inputs = journal_inputs(&journal_dir(dir.path()));
    let count = |f: &dyn Fn(&CommandBody) -> bool| inputs.iter().filter(|c| f(&c.body)).count();
    assert!(count(&|b| matches!(b, CommandBody::VenueAck(_))) >= 2);
    assert_eq!(count(&|b| matches!(b, CommandBody::VenueReplaceAck(_))), 1);
    assert!(count(&|b| matches!(b, CommandBody::VenueCancelAck(_))) >= 1);
    assert!(count(&|b| matches!(b, CommandBody::VenueFill(_))) >= 1);
    assert!(count(&|b| matches!(b, CommandBody::Snapshot(_))) >= 2, "a W snapshot");
    assert!(count(&|b| matches!(b, CommandBody::L2Update(_))) >= 2, "book levels");
    assert!(
        count(&|b| matches!(b, CommandBody::VenueStatus(s) if s.status == MarketStatus::Open)) >= 1
    );
    let outputs = journal_outputs(&journal_dir(dir.path()));
    assert_eq!(
        outputs.iter().filter(|o| matches!(o.body, OutputBody::VenueNewOrder(_))).count(),
        2
    );
    assert_eq!(outputs.iter().filter(|o| matches!(o.body, OutputBody::VenueReplace(_))).count(), 1);
    assert_eq!(outputs.iter().filter(|o| matches!(o.body, OutputBody::VenueCancel(_))).count(), 1);
    let anomalies: Vec<_> =
        outputs.iter().filter(|o| matches!(o.body, OutputBody::Anomaly(_))).collect();
    assert!(anomalies.is_empty(), "{anomalies:?}");
}

#[test]
fn a_restarted_venue_is_reconnected_and_working_orders_reconciled() {
    let dir = tempfile::tempdir().unwrap();
    let venue_store = dir.path().join("venue-store");
    let mut config = venue_config("127.0.0.1:0".parse().unwrap(), 0);
    config.store_dir = Some(venue_store.clone());
    let venue = VenueThread::start(config.clone());
    let addr = venue.addr;
    let keel = start_keel(dir.path(), addr);
    keel.wait_trading();
    keel.send(limit("A", Side::Buy, 4_990_000, 10, TimeInForce::Gtc));
    wait_report(&keel, "A", ExecType::New);

    // The venue dies (no logout): Keel notices, halts the venue and refuses orders.
    venue.stop(false);
    wait_until("the link goes down", WAIT, || keel.link.phase() != LinkPhase::Trading);
    keel.send(limit("X", Side::Buy, 4_990_000, 1, TimeInForce::Gtc));
    wait_report(&keel, "X", ExecType::Rejected);

    // A new venue process on the same address, same session store, empty book.
    config.listen = addr;
    let venue = VenueThread::start(config);
    wait_until("the link trades again", WAIT, || {
        keel.link.phase() == LinkPhase::Trading && keel.link.logons.load(Ordering::Relaxed) >= 2
    });
    // Reconciliation: the venue does not know A any more, so Keel learns it is cancelled.
    wait_report(&keel, "A", ExecType::Canceled);
    assert!(keel.link.reconciled.load(Ordering::Relaxed) >= 1);
    // Trading resumes.
    keel.send(limit("C", Side::Buy, 4_990_000, 1, TimeInForce::Gtc));
    wait_report(&keel, "C", ExecType::New);
    let _ = keel.stop();
    venue.stop(true);
    let inputs = journal_inputs(&journal_dir(dir.path()));
    let halted = inputs
        .iter()
        .filter(
            |c| matches!(c.body, CommandBody::VenueStatus(s) if s.status == MarketStatus::Halted),
        )
        .count();
    assert!(halted >= 2, "halted at start and when the venue died: {halted}");
}

#[test]
fn keel_restarts_and_recovers_fills_made_while_it_was_away() {
    let dir = tempfile::tempdir().unwrap();
    let venue = VenueThread::start(venue_config("127.0.0.1:0".parse().unwrap(), 0));
    let keel = start_keel(dir.path(), venue.addr);
    keel.wait_trading();
    keel.send(limit("A", Side::Sell, 5_000_500, 3, TimeInForce::Gtc));
    wait_report(&keel, "A", ExecType::New);
    let _ = keel.stop();
    wait_until("the venue sees the logout", WAIT, || {
        !venue.server.lock().unwrap().client_logged_on()
    });

    // While Keel is away, someone buys through A's price: A fills at the venue.
    assert!(venue.server.lock().unwrap().trade_through(
        keel_engine::InstrumentId(0),
        Side::Buy,
        Qty(500)
    ));

    // Keel restarts on the same journal and session store: the venue resends the fill
    // reports it kept, and reconciliation finds nothing more to apply.
    let keel = start_keel(dir.path(), venue.addr);
    keel.wait_trading();
    wait_until("A filled", WAIT, || {
        keel.reports()
            .iter()
            .any(|r| r.cl_ord_id.as_str() == "A" && r.ord_status == OrdStatus::Filled)
    });
    let exit = keel.stop();
    venue.stop(true);
    let inputs = journal_inputs(&journal_dir(dir.path()));
    let filled: i64 = inputs
        .iter()
        .filter_map(|c| match c.body {
            CommandBody::VenueFill(f) => Some(f.qty.0),
            _ => None,
        })
        .sum();
    assert_eq!(filled, 3, "A's 3 lots were applied exactly once");
    let outputs = journal_outputs(&journal_dir(dir.path()));
    let anomalies: Vec<_> =
        outputs.iter().filter(|o| matches!(o.body, OutputBody::Anomaly(_))).collect();
    assert!(anomalies.is_empty(), "{anomalies:?}");
    assert!(exit.counters.fills >= 1);
}
