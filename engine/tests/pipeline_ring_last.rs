//! A gateway off the latency path (`Gateway::latency_critical` false, as the simulated
//! venue) is rung after the command's other outputs are delivered, but it is rung: with
//! every thread blocked for longer than the test runs, a new order sent while the venue's
//! thread sleeps still reaches both the venue's gateway (first in the core's outputs, its
//! ring deferred) and the client's.

#[path = "support/asleep.rs"]
mod asleep;

use keel_engine::core::testkit::{self, ACCOUNT, ALT, CLIENT, VENUE};
use keel_engine::pipeline::{Delivery, Gateway, GatewayIo, PipelineConfig, PublishError, Routes};
use keel_engine::schema::{CommandBody, ExecType, OutputBody, SessionKind, SessionLogon};
use keel_engine::{SessionId, Side};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<OutputBody>>>;

/// Publishes the venue's and the client's logons, then, once the venue's thread has
/// taken its logon's answer and gone to sleep, one order; records the client's outputs.
struct Client {
    to_send: VecDeque<(SessionId, CommandBody)>,
    seen: Seen,
    venue_seen: Seen,
    venue_idle: Arc<AtomicU32>,
}

impl Client {
    /// The venue's runner asks for its deadline once before arming and once before
    /// sleeping: after two asks since its last output, it sleeps (or is about to).
    fn venue_asleep(&self) -> bool {
        !self.venue_seen.lock().unwrap().is_empty() && self.venue_idle.load(Ordering::SeqCst) >= 2
    }
}

impl Gateway for Client {
    fn name(&self) -> &str {
        "client"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![CLIENT], venues: Vec::new() }
    }
    fn on_output(&mut self, d: &Delivery, _: &mut GatewayIo) {
        self.seen.lock().unwrap().push(d.output.body);
    }
    fn poll(&mut self, io: &mut GatewayIo) -> usize {
        let mut n = 0;
        while let Some(&(session, body)) = self.to_send.front() {
            if matches!(body, CommandBody::NewOrder(_)) && !self.venue_asleep() {
                break;
            }
            match io.try_publish(session, body) {
                Ok(_) => {
                    self.to_send.pop_front();
                    n += 1;
                }
                Err(PublishError::Full | PublishError::Closed) => break,
            }
        }
        n
    }
    fn wake_at_ns(&self) -> Option<u64> {
        (!self.to_send.is_empty()).then_some(0)
    }
}

/// The venue's side: records what the core sends it, and counts its runner's idle rounds
/// since the last output.
struct Venue {
    seen: Seen,
    idle: Arc<AtomicU32>,
}

impl Gateway for Venue {
    fn name(&self) -> &str {
        "venue"
    }
    fn routes(&self) -> Routes {
        Routes { sessions: vec![VENUE], venues: vec![ALT] }
    }
    fn latency_critical(&self) -> bool {
        false
    }
    fn on_output(&mut self, d: &Delivery, _: &mut GatewayIo) {
        self.idle.store(0, Ordering::SeqCst);
        self.seen.lock().unwrap().push(d.output.body);
    }
    fn poll(&mut self, _: &mut GatewayIo) -> usize {
        0
    }
    fn wake_at_ns(&self) -> Option<u64> {
        self.idle.fetch_add(1, Ordering::SeqCst);
        None
    }
}

#[test]
fn a_gateway_off_the_latency_path_is_rung_last_but_always_rung() {
    let logon = |kind| {
        CommandBody::SessionLogon(SessionLogon {
            kind,
            account: ACCOUNT,
            cancel_on_disconnect: false,
        })
    };
    let client_seen = Seen::default();
    let venue_seen = Seen::default();
    let venue_idle = Arc::new(AtomicU32::new(0));
    let gateways: Vec<Box<dyn Gateway>> = vec![
        // The venue's gateway first, as `keel serve` lists the simulated venue.
        Box::new(Venue { seen: Arc::clone(&venue_seen), idle: Arc::clone(&venue_idle) }),
        Box::new(Client {
            to_send: VecDeque::from([
                (VENUE, logon(SessionKind::Venue)),
                (CLIENT, logon(SessionKind::FixClient)),
                (CLIENT, CommandBody::NewOrder(testkit::limit("A1", Side::Buy, 100, 1))),
            ]),
            seen: Arc::clone(&client_seen),
            venue_seen: Arc::clone(&venue_seen),
            venue_idle: Arc::clone(&venue_idle),
        }),
    ];
    let pipeline = asleep::start(PipelineConfig::default(), gateways);
    let venue_got_order =
        || venue_seen.lock().unwrap().iter().any(|o| matches!(o, OutputBody::VenueNewOrder(_)));
    let client_got_ack =
        || {
            client_seen.lock().unwrap().iter().any(
                |o| matches!(o, OutputBody::ExecReport(r) if r.exec_type == ExecType::PendingNew),
            )
        };
    asleep::wait_until(
        || venue_got_order() && client_got_ack(),
        || {
            format!(
                "venue saw {:?}; client saw {:?}",
                venue_seen.lock().unwrap(),
                client_seen.lock().unwrap()
            )
        },
    );
    pipeline.join().unwrap();
}
