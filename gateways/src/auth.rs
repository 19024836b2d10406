//! Client credentials: who may log on, with which password, as which session and account.
//!
//! Every client connection (FIX or the binary protocol) authenticates against a
//! [`ClientDirectory`] built from the configuration's `[[client]]` entries. Each entry
//! owns one fixed [`SessionId`], so a client that reconnects is the same session to the
//! core (its throttles, its cancel-on-disconnect, its sequence numbers and its resend
//! store), and a gateway knows at start-up every session it speaks for.
//!
//! # Passwords
//! Only salted hashes are stored: Argon2id in the PHC string format
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), made by `keel config hash-password`. The
//! plain password exists only in the logon message being checked; it is never logged and
//! never kept. Verification is constant-time in the hash comparison, and an unknown user
//! costs the same Argon2 work as a known one, so timing does not tell which usernames
//! exist. The cost parameters travel inside each hash: an operator can raise them by
//! re-hashing, without a code change.
//!
//! A failed logon tells the peer only "bad credentials"; the reason ([`AuthError`]) is
//! for the server's log.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use keel_engine::{AccountId, SessionId};
use std::fmt;
use std::sync::OnceLock;

/// Memory cost of new hashes, KiB (the OWASP recommendation for Argon2id).
const HASH_MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory of new hashes.
const HASH_PASSES: u32 = 2;

/// Why a credential or a logon was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The stored hash is not an Argon2 PHC string.
    #[error("not an argon2 password hash ({0}); make one with `keel config hash-password`")]
    BadHash(String),
    /// No client has this username.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// The user exists but the password does not match.
    #[error("wrong password for user {0:?}")]
    WrongPassword(String),
    /// The user exists but is configured for another protocol.
    #[error("user {user:?} is configured for {configured}, not {attempted}")]
    WrongProtocol {
        /// The user.
        user: String,
        /// The protocol in the configuration.
        configured: Protocol,
        /// The protocol of the logon.
        attempted: Protocol,
    },
}

/// A salted Argon2id password hash in PHC string format.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Checks that `phc` is a well-formed Argon2 PHC string.
    pub fn parse(phc: &str) -> Result<PasswordHash, AuthError> {
        let parsed =
            argon2::PasswordHash::new(phc).map_err(|e| AuthError::BadHash(e.to_string()))?;
        if Algorithm::try_from(parsed.algorithm).is_err() {
            return Err(AuthError::BadHash(format!(
                "algorithm {} is not argon2",
                parsed.algorithm
            )));
        }
        Ok(PasswordHash(phc.to_string()))
    }

    /// Hashes `password` with a fresh random salt.
    pub fn create(password: &str) -> PasswordHash {
        let salt = SaltString::generate(&mut OsRng);
        let hash = hasher()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters and salt cannot fail");
        PasswordHash(hash.to_string())
    }

    /// True when `password` matches. Constant-time in the comparison.
    pub fn verify(&self, password: &[u8]) -> bool {
        match argon2::PasswordHash::new(&self.0) {
            Ok(h) => Argon2::default().verify_password(password, &h).is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string (safe to store and print: it holds no password).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Salted hashes are not secrets, but they need not fill logs either.
        f.write_str("PasswordHash(argon2)")
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(HASH_MEMORY_KIB, HASH_PASSES, 1, None)
        .expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash no password matches, verified for unknown users so that they cost the same as
/// known ones.
fn decoy() -> &'static PasswordHash {
    static DECOY: OnceLock<PasswordHash> = OnceLock::new();
    DECOY.get_or_init(|| PasswordHash::create("keel: no user has this password"))
}

/// The wire protocol a client logs on with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// FIX 4.4 (`[fix]` listener).
    Fix,
    /// Keel's native binary protocol (`[binary]` listener).
    Binary,
}

impl Protocol {
    /// The configuration's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Fix => "fix",
            Protocol::Binary => "binary",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Protocol, String> {
        match s {
            "fix" => Ok(Protocol::Fix),
            "binary" => Ok(Protocol::Binary),
            other => Err(format!("{other:?} is not \"fix\" or \"binary\"")),
        }
    }
}

/// One configured client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientEntry {
    /// Logon name (FIX Username 553; binary logon user).
    pub username: String,
    /// The password's salted hash.
    pub password_hash: PasswordHash,
    /// The account its orders trade for (its limits apply).
    pub account: AccountId,
    /// Its fixed session id in the core.
    pub session: SessionId,
    /// The protocol it logs on with.
    pub protocol: Protocol,
    /// Cancel its working orders when it disconnects.
    pub cancel_on_disconnect: bool,
}

/// Every configured client, looked up by username at logon.
#[derive(Clone, Debug, Default)]
pub struct ClientDirectory {
    entries: Vec<ClientEntry>,
}

impl ClientDirectory {
    /// A directory of `entries` (usernames and sessions unique: the configuration checks).
    pub fn new(entries: Vec<ClientEntry>) -> ClientDirectory {
        ClientDirectory { entries }
    }

    /// Every client.
    pub fn entries(&self) -> &[ClientEntry] {
        &self.entries
    }

    /// The clients of one protocol (their sessions are a gateway's routes).
    pub fn for_protocol(&self, protocol: Protocol) -> impl Iterator<Item = &ClientEntry> {
        self.entries.iter().filter(move |c| c.protocol == protocol)
    }

    /// The client that owns `session`.
    pub fn by_session(&self, session: SessionId) -> Option<&ClientEntry> {
        self.entries.iter().find(|c| c.session == session)
    }

    /// Checks a logon. Costs one Argon2 verification whatever the outcome.
    pub fn authenticate(
        &self,
        protocol: Protocol,
        username: &str,
        password: &[u8],
    ) -> Result<&ClientEntry, AuthError> {
        let Some(entry) = self.entries.iter().find(|c| c.username == username) else {
            let _ = decoy().verify(password);
            return Err(AuthError::UnknownUser(username.to_string()));
        };
        if !entry.password_hash.verify(password) {
            return Err(AuthError::WrongPassword(username.to_string()));
        }
        if entry.protocol != protocol {
            return Err(AuthError::WrongProtocol {
                user: username.to_string(),
                configured: entry.protocol,
                attempted: protocol,
            });
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: &str, password: &str, protocol: Protocol, session: u32) -> ClientEntry {
        ClientEntry {
            username: user.into(),
            password_hash: PasswordHash::create(password),
            account: AccountId(0),
            session: SessionId(session),
            protocol,
            cancel_on_disconnect: true,
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_reparses() {
        let h = PasswordHash::create("s3cret");
        assert!(h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", h.as_str());
        assert!(h.verify(b"s3cret"));
        assert!(!h.verify(b"s3cret "));
        assert!(!h.verify(b""));
        let again = PasswordHash::parse(h.as_str()).unwrap();
        assert!(again.verify(b"s3cret"));
        // Two hashes of one password differ (fresh salt).
        assert_ne!(PasswordHash::create("s3cret"), h);
        assert_eq!(format!("{h:?}"), "PasswordHash(argon2)");
    }

    #[test]
    fn a_malformed_hash_is_refused_with_the_reason() {
        for bad in ["demo", "", "$argon2id$v=19$", "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA"] {
            let err = PasswordHash::parse(bad).unwrap_err();
            assert!(matches!(err, AuthError::BadHash(_)), "{bad:?}: {err:?}");
            assert!(err.to_string().contains("hash-password"), "{err}");
        }
    }

    #[test]
    fn authenticate_names_the_reason_and_checks_the_protocol() {
        let dir = ClientDirectory::new(vec![
            entry("alice", "a-pass", Protocol::Fix, 32),
            entry("bob", "b-pass", Protocol::Binary, 33),
        ]);
        assert_eq!(dir.authenticate(Protocol::Fix, "alice", b"a-pass").unwrap().session.0, 32);
        assert_eq!(dir.authenticate(Protocol::Binary, "bob", b"b-pass").unwrap().session.0, 33);
        assert_eq!(
            dir.authenticate(Protocol::Fix, "alice", b"b-pass").unwrap_err(),
            AuthError::WrongPassword("alice".into())
        );
        assert_eq!(
            dir.authenticate(Protocol::Fix, "carol", b"x").unwrap_err(),
            AuthError::UnknownUser("carol".into())
        );
        assert!(matches!(
            dir.authenticate(Protocol::Fix, "bob", b"b-pass").unwrap_err(),
            AuthError::WrongProtocol { configured: Protocol::Binary, .. }
        ));
        assert_eq!(dir.for_protocol(Protocol::Binary).count(), 1);
        assert_eq!(dir.by_session(SessionId(32)).unwrap().username, "alice");
        // The error text never carries the password.
        let msg = dir.authenticate(Protocol::Fix, "alice", b"guess").unwrap_err().to_string();
        assert!(!msg.contains("guess"), "{msg}");
    }

    #[test]
    fn protocol_names_round_trip() {
        for p in [Protocol::Fix, Protocol::Binary] {
            assert_eq!(p.name().parse::<Protocol>().unwrap(), p);
        }
        assert!("FIX".parse::<Protocol>().unwrap_err().contains("FIX"));
    }
}
