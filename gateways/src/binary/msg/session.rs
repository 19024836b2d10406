//! Session messages: logon and its answer, heartbeats, logout, and the instrument list
//! sent after a logon. None is sequenced (header `seq` 0).

use crate::binary::wire::{Pad, Secret, Text, message, wire_enum};
use keel_engine::{AccountId, InstrumentId, SessionId, TimestampNs, VenueId};

/// Longest username, bytes.
pub const USERNAME_LEN: usize = 32;
/// Longest password, bytes.
pub const PASSWORD_LEN: usize = 64;
/// Longest symbol, bytes.
pub const SYMBOL_LEN: usize = 24;
/// Longest currency code, bytes.
pub const CURRENCY_LEN: usize = 8;

message! {
    /// Client → server, the first message on a connection: credentials, the heartbeat
    /// interval the client wants, and the last server sequence it has processed (the
    /// server replays everything after it).
    Logon = Logon {
        /// Configured username, printable ASCII, NUL-padded.
        username: Text<USERNAME_LEN>,
        /// Password bytes (no NUL), NUL-padded.
        password: Secret<PASSWORD_LEN>,
        /// Heartbeat interval wanted, ms; 0 takes the server's (`binary.heartbeat_ms`).
        heartbeat_ms: u32,
        /// Zero.
        pad: Pad<4>,
        /// Last server sequence the client has processed: replay starts after it (0:
        /// everything retained is replayed; `u64::MAX`: nothing is, live messages only).
        last_server_seq: u64,
    }
}

message! {
    /// Server → client: the logon is accepted. `instruments` [`InstrumentInfo`] messages
    /// follow, then the replay of sequenced messages from `replay_from`, then live ones.
    LogonAck = LogonAck {
        /// The session the client trades on (fixed per configured client).
        session: SessionId,
        /// The account its orders trade for.
        account: u32,
        /// Heartbeat interval in force, ms.
        heartbeat_ms: u32,
        /// How many `InstrumentInfo` messages follow.
        instruments: u32,
        /// The client sequence the server expects on the next order-entry message.
        next_client_seq: u64,
        /// The last server sequence assigned to this session so far.
        last_server_seq: u64,
        /// The first server sequence that will be sent (replayed) on this connection; if
        /// it is above the client's `last_server_seq + 1`, the messages between are no
        /// longer retained (see the order list to resynchronise).
        replay_from: u64,
        /// Server time, UTC ns.
        server_time: TimestampNs,
    }
}

impl LogonAck {
    /// The account as the engine's id.
    pub fn account_id(&self) -> AccountId {
        AccountId(self.account)
    }
}

message! {
    /// Either direction: "I am alive". Sent after `heartbeat_ms` without sending anything
    /// else; a peer silent for three intervals is disconnected.
    Heartbeat = Heartbeat {}
}

wire_enum! {
    /// Why a session ends (the `reason` of a [`Logout`]).
    LogoutReason {
        /// The client asked to log out (the server answers with the same reason).
        ClientLogout = 1,
        /// The server is stopping.
        ServerShutdown = 2,
        /// Unknown username or wrong password.
        BadCredentials = 3,
        /// The session already has a live connection.
        AlreadyConnected = 4,
        /// A message other than `Logon` before the logon.
        NotLoggedOn = 5,
        /// Unknown message type (or one that only the other side sends); detail: the type.
        UnknownType = 6,
        /// The length in the header is not the type's fixed length; detail: the length.
        BadLength = 7,
        /// Unsupported protocol version; detail: the version received.
        BadVersion = 8,
        /// A field holds an invalid value; detail: `type << 32 | offset`.
        FieldOutOfRange = 9,
        /// An order-entry message with the wrong client sequence; detail: the expected one.
        SequenceGap = 10,
        /// Nothing received for three heartbeat intervals.
        HeartbeatTimeout = 11,
        /// The client does not read fast enough (see the bounds in the docs).
        SlowConsumer = 12,
        /// No logon within `binary.logon_timeout_ms`.
        LogonTimeout = 13,
        /// A second `Logon` on a logged-on connection.
        DuplicateLogon = 14,
        /// The client's `last_server_seq` is beyond the server's; detail: the server's.
        ServerSeqAhead = 15,
        /// `binary.max_connections` connections are open.
        TooManyConnections = 16,
    }
}

message! {
    /// Either direction: the session ends. The server sends it before closing the
    /// connection for any reason; a client sends it to log out cleanly.
    Logout = Logout {
        /// Why.
        reason: LogoutReason,
        /// Zero.
        pad: Pad<7>,
        /// A number that says more (see each reason).
        detail: u64,
    }
}

message! {
    /// Server → client, after `LogonAck`: one per configured instrument, so the client
    /// can map ids to symbols and convert prices and quantities (`price = ticks ×
    /// tick_size`, `quantity = lots × lot_size`).
    InstrumentInfo = InstrumentInfo {
        /// Instrument id (used in every other message).
        instrument: InstrumentId,
        /// The instrument's first venue (the default for market-data subscriptions).
        venue: VenueId,
        /// Decimal scale of `tick_size_mantissa` (tick size = mantissa × 10^-scale).
        tick_scale: u8,
        /// Decimal scale of `lot_size_mantissa`.
        lot_scale: u8,
        /// Symbol, printable ASCII, NUL-padded.
        symbol: Text<SYMBOL_LEN>,
        /// Currency code.
        currency: Text<CURRENCY_LEN>,
        /// Tick size mantissa.
        tick_size_mantissa: i64,
        /// Lot size mantissa.
        lot_size_mantissa: i64,
    }
}
