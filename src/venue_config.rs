//! How `keel serve` reaches its venue: `[venue] transport` and the `[venue.fix]` section.
//!
//! - `transport = "in-process"` (the default): the simulated venue runs inside `keel serve`
//!   (`keel_gateways::sim::SimGateway`), its feed order by order (an L3 book).
//! - `transport = "fix"`: Keel's FIX initiator (`keel_gateways::fix::initiator`) connects
//!   to `[venue.fix] connect` — `keel venue` with the same configuration file, or any
//!   venue's FIX 4.4 acceptor. Market data then arrives as price levels, so the venue's
//!   books in the core are L2 books. The same file drives `keel venue`, whose listen
//!   address defaults to `connect` and whose CompIDs and credentials are the mirror of
//!   Keel's.
//!
//! Every key is checked here, with errors that name it.

use crate::config::{Config, ConfigError, Resolved};
use keel_engine::Price;
use keel_gateways::fix::initiator::{InitiatorConfig, RecoveredOrders};
use keel_gateways::fix::session::{Credentials, Role, SessionConfig};
use keel_gateways::fix::store::StoreConfig;
use keel_gateways::fix::time::Precision;
use keel_gateways::fix::venue::VenueServerConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `[venue.fix]`: the FIX session to the venue.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VenueFixSection {
    pub connect: String,
    pub sender_comp_id: String,
    pub target_comp_id: String,
    pub username: String,
    pub password: String,
    pub heartbeat_s: u32,
    pub reset_on_logon: bool,
    pub store_dir: String,
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    pub connect_timeout_ms: u64,
    pub reconcile_timeout_ms: u64,
    pub logout_timeout_s: u64,
    pub subscribe_market_data: bool,
    pub queue_max: usize,
    pub timestamp_precision: String,
    pub max_message_bytes: usize,
}

impl Default for VenueFixSection {
    fn default() -> Self {
        VenueFixSection {
            connect: "127.0.0.1:9880".into(),
            sender_comp_id: "KEEL".into(),
            target_comp_id: "SIM".into(),
            username: "keel".into(),
            password: "sim".into(),
            heartbeat_s: 10,
            reset_on_logon: false,
            store_dir: String::new(),
            reconnect_min_ms: 100,
            reconnect_max_ms: 5000,
            connect_timeout_ms: 2000,
            reconcile_timeout_ms: 5000,
            logout_timeout_s: 5,
            subscribe_market_data: true,
            queue_max: 1024,
            timestamp_precision: "ms".into(),
            max_message_bytes: 65_536,
        }
    }
}

/// The venue transport, checked.
#[derive(Clone, Debug)]
pub enum VenueTransport {
    /// The simulated venue inside `keel serve`.
    InProcess,
    /// A FIX session to a venue's acceptor.
    Fix(Box<VenueFixSettings>),
}

/// `[venue.fix]`, checked.
#[derive(Clone, Debug)]
pub struct VenueFixSettings {
    pub connect: SocketAddr,
    pub sender_comp_id: String,
    pub target_comp_id: String,
    pub credentials: Option<Credentials>,
    pub heartbeat_s: u32,
    pub reset_on_logon: bool,
    pub store_dir: PathBuf,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub connect_timeout: Duration,
    pub reconcile_timeout: Duration,
    pub logout_timeout: Duration,
    pub subscribe: bool,
    pub queue_max: usize,
    pub precision: Precision,
    pub max_message_bytes: usize,
}

fn invalid(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.to_string(), problem: problem.into() }
}

fn comp_id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'=')
}

/// Checks `[venue] transport` and `[venue.fix]`.
pub fn resolve(config: &Config) -> Result<VenueTransport, ConfigError> {
    match config.venue.transport.as_str() {
        "in-process" => return Ok(VenueTransport::InProcess),
        "fix" => {}
        other => {
            return Err(invalid(
                "venue.transport",
                format!("{other:?} is not \"in-process\" or \"fix\""),
            ));
        }
    }
    let f = &config.venue.fix;
    let connect = f
        .connect
        .parse::<SocketAddr>()
        .map_err(|e| invalid("venue.fix.connect", format!("{:?}: {e}", f.connect)))?;
    for (key, v) in [
        ("venue.fix.sender_comp_id", &f.sender_comp_id),
        ("venue.fix.target_comp_id", &f.target_comp_id),
    ] {
        if !comp_id_ok(v) {
            return Err(invalid(key, "must be 1..=64 printable ASCII characters, no '='"));
        }
    }
    if f.sender_comp_id == f.target_comp_id {
        return Err(invalid("venue.fix.target_comp_id", "must differ from sender_comp_id"));
    }
    let text_ok = |s: &str| s.bytes().all(|b| (0x20..=0x7e).contains(&b)) && s.len() <= 128;
    if !text_ok(&f.username) || !text_ok(&f.password) {
        return Err(invalid("venue.fix.username/password", "must be printable ASCII, at most 128"));
    }
    let credentials = (!f.username.is_empty())
        .then(|| Credentials { username: f.username.clone(), password: f.password.clone() });
    if !(1..=300).contains(&f.heartbeat_s) {
        return Err(invalid(
            "venue.fix.heartbeat_s",
            format!("{} is not in 1..=300", f.heartbeat_s),
        ));
    }
    if f.reconnect_min_ms == 0 || f.reconnect_min_ms > f.reconnect_max_ms {
        return Err(invalid(
            "venue.fix.reconnect_min_ms",
            format!(
                "need 1 <= reconnect_min_ms ({}) <= reconnect_max_ms ({})",
                f.reconnect_min_ms, f.reconnect_max_ms
            ),
        ));
    }
    for (key, v) in [
        ("venue.fix.connect_timeout_ms", f.connect_timeout_ms),
        ("venue.fix.reconcile_timeout_ms", f.reconcile_timeout_ms),
        ("venue.fix.logout_timeout_s", f.logout_timeout_s),
    ] {
        if v == 0 {
            return Err(invalid(key, "must be at least 1"));
        }
    }
    if f.queue_max == 0 {
        return Err(invalid("venue.fix.queue_max", "must be at least 1"));
    }
    let precision = Precision::from_name(&f.timestamp_precision).ok_or_else(|| {
        invalid(
            "venue.fix.timestamp_precision",
            format!("{:?} is not \"ms\", \"us\" or \"ns\"", f.timestamp_precision),
        )
    })?;
    if !(4096..=1 << 24).contains(&f.max_message_bytes) {
        return Err(invalid(
            "venue.fix.max_message_bytes",
            format!("{} is not in 4096..=16777216", f.max_message_bytes),
        ));
    }
    let store_dir = if f.store_dir.is_empty() {
        config.journal.dir.join("fix-venue")
    } else {
        PathBuf::from(&f.store_dir)
    };
    Ok(VenueTransport::Fix(Box::new(VenueFixSettings {
        connect,
        sender_comp_id: f.sender_comp_id.clone(),
        target_comp_id: f.target_comp_id.clone(),
        credentials,
        heartbeat_s: f.heartbeat_s,
        reset_on_logon: f.reset_on_logon,
        store_dir,
        reconnect_min: Duration::from_millis(f.reconnect_min_ms),
        reconnect_max: Duration::from_millis(f.reconnect_max_ms),
        connect_timeout: Duration::from_millis(f.connect_timeout_ms),
        reconcile_timeout: Duration::from_millis(f.reconcile_timeout_ms),
        logout_timeout: Duration::from_secs(f.logout_timeout_s),
        subscribe: f.subscribe_market_data,
        queue_max: f.queue_max,
        precision,
        max_message_bytes: f.max_message_bytes,
    })))
}

/// The FIX initiator's configuration for `keel serve` (`None` for the in-process venue).
pub fn initiator(r: &Resolved, recovered: RecoveredOrders) -> Option<InitiatorConfig> {
    let VenueTransport::Fix(f) = &r.venue_transport else { return None };
    let mut session = SessionConfig::new(Role::Initiator, &f.sender_comp_id, &f.target_comp_id);
    session.heartbeat_s = f.heartbeat_s;
    session.reset_on_logon = f.reset_on_logon;
    session.credentials = f.credentials.clone();
    session.precision = f.precision;
    session.logout_timeout_ns = f.logout_timeout.as_nanos() as u64;
    Some(InitiatorConfig {
        name: "venue-fix".into(),
        venue: r.venue_id,
        session: crate::config::VENUE_SESSION,
        connect: f.connect,
        session_config: session,
        store_dir: f.store_dir.clone(),
        store: StoreConfig::default(),
        instruments: r.core.instruments.clone(),
        subscribe: f.subscribe,
        reconnect_min: f.reconnect_min,
        reconnect_max: f.reconnect_max,
        connect_timeout: f.connect_timeout,
        reconcile_timeout: f.reconcile_timeout,
        orders_max: r.core.orders.orders_max,
        queue_max: f.queue_max,
        max_frame: f.max_message_bytes,
        recovered,
    })
}

/// `keel venue`'s configuration: the simulated venue of `[venue]` and `[[instrument]]`,
/// accepting the session `[venue.fix]` describes (whatever `transport` says).
pub fn venue_server(
    config: &Config,
    r: &Resolved,
    listen: Option<SocketAddr>,
    store_dir: Option<PathBuf>,
) -> Result<VenueServerConfig, ConfigError> {
    let fix_config = Config {
        venue: crate::config::VenueSection { transport: "fix".into(), ..config.venue.clone() },
        ..config.clone()
    };
    let VenueTransport::Fix(f) = resolve(&fix_config)? else {
        unreachable!("transport forced to fix")
    };
    let instruments = r
        .core
        .instruments
        .iter()
        .zip(&r.sim_instruments)
        .map(|(i, s)| (i.clone(), Price(s.mid.0)))
        .collect();
    let exec_id_base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
        << 8;
    Ok(VenueServerConfig {
        listen: listen.unwrap_or(f.connect),
        venue: r.venue_id,
        comp_id: f.target_comp_id.clone(),
        client_comp_id: f.sender_comp_id.clone(),
        credentials: f.credentials.clone(),
        heartbeat_s_min: 1,
        heartbeat_s_max: 300,
        instruments,
        book: r.book,
        flow: r.flow.clone(),
        events_per_sec: r.events_per_sec,
        exec_id_base,
        precision: f.precision,
        max_frame: f.max_message_bytes,
        send_buffer_max: 64 << 20,
        finished_orders_max: 65_536,
        store_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_in_process_and_fix_resolves() {
        let c = Config::default();
        assert!(matches!(resolve(&c).unwrap(), VenueTransport::InProcess));
        let text = "[venue]\ntransport = \"fix\"\n[venue.fix]\nconnect = \"127.0.0.1:7001\"\n";
        let c = Config::parse(text, "t").unwrap();
        let r = c.resolve().unwrap();
        let VenueTransport::Fix(f) = &r.venue_transport else { panic!("fix") };
        assert_eq!(f.connect, "127.0.0.1:7001".parse::<SocketAddr>().unwrap());
        assert_eq!(f.store_dir, PathBuf::from("./keel-data/fix-venue"));
        assert!(f.credentials.is_some());
        // The venue's books are L2 over FIX.
        assert_eq!(r.core.venues[0].feed, keel_engine::core::FeedKind::L2);
        let init = initiator(&r, Default::default()).unwrap();
        assert_eq!(init.session_config.sender_comp_id, "KEEL");
        let v = venue_server(&c, &r, None, None).unwrap();
        assert_eq!((v.comp_id.as_str(), v.client_comp_id.as_str()), ("SIM", "KEEL"));
        assert_eq!(v.listen, f.connect);
    }

    #[test]
    fn bad_values_are_named() {
        let check = |text: &str, want: &str| {
            let msg = Config::parse(text, "t")
                .and_then(|c| c.resolve())
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(msg.contains(want), "{want:?} not in {msg:?}");
        };
        check("[venue]\ntransport = \"tcp\"\n", "venue.transport");
        check(
            "[venue]\ntransport = \"fix\"\n[venue.fix]\nconnect = \"nowhere\"\n",
            "venue.fix.connect",
        );
        check(
            "[venue]\ntransport = \"fix\"\n[venue.fix]\ntarget_comp_id = \"KEEL\"\n",
            "target_comp_id",
        );
        check(
            "[venue]\ntransport = \"fix\"\n[venue.fix]\nheartbeat_s = 0\n",
            "venue.fix.heartbeat_s",
        );
        check(
            "[venue]\ntransport = \"fix\"\n[venue.fix]\nreconnect_min_ms = 10\nreconnect_max_ms = 5\n",
            "reconnect_min_ms",
        );
        check("[venue.fix]\nconect = \"x\"\n", "conect");
    }
}
