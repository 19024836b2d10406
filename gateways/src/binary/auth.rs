//! Credential checks off the gateway thread.
//!
//! Verifying a password hash is slow on purpose (argon2id: tens of milliseconds). Done on
//! the gateway thread it would stall every connected client's order flow for that long at
//! each logon attempt, so logons go to one worker thread through a bounded channel and
//! their results come back to `poll`. At most [`PENDING_MAX`] checks wait at once; a logon
//! beyond that is refused at once (as bad credentials would be, after the same wait).

use keel_engine::pipeline::Doorbell;
use keel_engine::{AccountId, SessionId};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

/// What a successful logon grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The session (fixed per client: a reconnect gets the same one).
    pub session: SessionId,
    /// The account the session trades for.
    pub account: AccountId,
    /// Cancel the session's working orders when it disconnects.
    pub cancel_on_disconnect: bool,
}

/// Checks a username and password.
pub trait Authenticator: Send + Sync + 'static {
    /// The grant for these credentials, or `None` (unknown user or wrong password).
    fn authenticate(&self, username: &str, password: &[u8]) -> Option<Grant>;
}

/// Checks waiting for the worker at most.
pub const PENDING_MAX: usize = 64;

struct Request {
    token: u64,
    username: String,
    password: Vec<u8>,
}

/// The worker thread and its channels.
pub struct AuthWorker {
    tx: Option<SyncSender<Request>>,
    rx: Receiver<(u64, Option<Grant>)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AuthWorker {
    /// Starts the worker thread (named `name`); it rings `wake` after each result (the
    /// gateway's [`GatewayIo::waker`](keel_engine::pipeline::GatewayIo::waker)), so a
    /// gateway asleep under `block` takes the result at once.
    pub fn start(
        name: &str,
        auth: Arc<dyn Authenticator>,
        wake: Option<Doorbell>,
    ) -> std::io::Result<AuthWorker> {
        let (tx, requests) = std::sync::mpsc::sync_channel::<Request>(PENDING_MAX);
        let (results, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            while let Ok(r) = requests.recv() {
                let grant = auth.authenticate(&r.username, &r.password);
                if results.send((r.token, grant)).is_err() {
                    break;
                }
                if let Some(bell) = &wake {
                    bell.ring();
                }
            }
        })?;
        Ok(AuthWorker { tx: Some(tx), rx, thread: Some(thread) })
    }

    /// Queues a check; `false` when [`PENDING_MAX`] are already waiting.
    pub fn submit(&self, token: u64, username: &str, password: &[u8]) -> bool {
        let Some(tx) = &self.tx else { return false };
        let r = Request { token, username: username.to_string(), password: password.to_vec() };
        match tx.try_send(r) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// A finished check, if any: the token given to [`AuthWorker::submit`] and the grant.
    pub fn try_result(&self) -> Option<(u64, Option<Grant>)> {
        self.rx.try_recv().ok()
    }
}

impl Drop for AuthWorker {
    fn drop(&mut self) {
        // Closing the request channel ends the worker's loop.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The configured clients of the binary protocol. A refusal's reason goes to the server's
/// log; the peer only learns "bad credentials".
impl Authenticator for crate::auth::ClientDirectory {
    fn authenticate(&self, username: &str, password: &[u8]) -> Option<Grant> {
        match crate::auth::ClientDirectory::authenticate(
            self,
            crate::auth::Protocol::Binary,
            username,
            password,
        ) {
            Ok(e) => Some(Grant {
                session: e.session,
                account: e.account,
                cancel_on_disconnect: e.cancel_on_disconnect,
            }),
            Err(e) => {
                tracing::warn!("binary logon refused: {e}");
                None
            }
        }
    }
}
