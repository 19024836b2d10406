//! A session's settings.

use crate::fix::time::Precision;

/// Which side of the connection Keel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Keel accepted the connection and waits for the counterparty's Logon (clients).
    Acceptor,
    /// Keel connected and sends the Logon (venues).
    Initiator,
}

/// Username (553) and Password (554) an initiator logs on with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password (kept only in memory; never logged: `Debug` hides it).
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Everything a session needs to know about itself.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Acceptor or initiator.
    pub role: Role,
    /// Keel's CompID: SenderCompID (49) of what Keel sends.
    pub sender_comp_id: String,
    /// The counterparty's CompID: TargetCompID (56) of what Keel sends.
    pub target_comp_id: String,
    /// HeartBtInt an initiator proposes, seconds (0: no heartbeats).
    pub heartbeat_s: u32,
    /// Smallest HeartBtInt an acceptor accepts, seconds.
    pub heartbeat_s_min: u32,
    /// Largest HeartBtInt an acceptor accepts, seconds.
    pub heartbeat_s_max: u32,
    /// Largest difference between a message's SendingTime and now.
    pub sending_time_tolerance_ns: u64,
    /// How long to wait for the Logon (acceptor) or its answer (initiator).
    pub logon_timeout_ns: u64,
    /// How long to wait for the answer to Keel's Logout before disconnecting.
    pub logout_timeout_ns: u64,
    /// Initiator: send ResetSeqNumFlag=Y on Logon (both sides restart at 1).
    pub reset_on_logon: bool,
    /// Initiator: Username/Password to send.
    pub credentials: Option<Credentials>,
    /// Precision of the timestamps Keel writes.
    pub precision: Precision,
}

impl SessionConfig {
    /// Defaults for one role: heartbeats of 30 s (bounds 1..=300 s), 120 s of
    /// SendingTime tolerance, 10 s logon and 5 s logout timeouts, milliseconds.
    pub fn new(role: Role, sender_comp_id: &str, target_comp_id: &str) -> SessionConfig {
        SessionConfig {
            role,
            sender_comp_id: sender_comp_id.to_string(),
            target_comp_id: target_comp_id.to_string(),
            heartbeat_s: 30,
            heartbeat_s_min: 1,
            heartbeat_s_max: 300,
            sending_time_tolerance_ns: 120 * 1_000_000_000,
            logon_timeout_ns: 10 * 1_000_000_000,
            logout_timeout_ns: 5 * 1_000_000_000,
            reset_on_logon: false,
            credentials: None,
            precision: Precision::Millis,
        }
    }
}
