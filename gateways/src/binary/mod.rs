//! The native binary protocol (design §6): fixed-size little-endian frames for client
//! order entry and market data over TCP. The byte-by-byte reference is
//! `docs/binary-protocol.md`; this module is its implementation.
//!
//! - [`wire`]: the header, the field codec, the message-declaration macro.
//! - [`msg`]: the messages, one file per family (session, orders, reports, queries,
//!   market data).
//! - [`codec`]: message types and two-step decoding (is a whole frame here? then parse).
//! - [`ledger`]: per session, the server sequence, the reports retained for replay, the
//!   working orders and positions.
//! - [`market`]: the gateway's copy of the core's books (from the market-data tap) and
//!   what each subscription was last sent.
//! - [`conn`]: one connection's socket and bounded buffers; [`auth`]: credential checks
//!   off the gateway thread.
//! - [`gateway`]: the acceptor, [`BinaryGateway`], a pipeline gateway.
//! - [`client`]: a client library ([`client::BinaryClient`]).
//!
//! ```
//! use keel_gateways::binary::{ClientMsg, Direction, decode_client, frame_len};
//! use keel_gateways::binary::msg::queries::OrderListRequest;
//!
//! let mut buf = [0u8; 64];
//! let n = ClientMsg::from(OrderListRequest { request_id: 7 }).encode(0, &mut buf);
//! assert_eq!(n, 24);
//! assert_eq!(frame_len(&buf[..10], Direction::Inbound), Ok(None)); // wait for more
//! assert_eq!(frame_len(&buf[..n], Direction::Inbound), Ok(Some(24)));
//! let (_, msg) = decode_client(&buf[..n]).unwrap();
//! assert_eq!(msg, ClientMsg::OrderListRequest(OrderListRequest { request_id: 7 }));
//! ```

pub mod auth;
pub mod client;
pub mod codec;
pub mod conn;
pub mod gateway;
pub mod ledger;
pub mod market;
pub mod msg;
pub mod wire;

pub use auth::{Authenticator, Grant};
pub use codec::{
    ClientMsg, DecodeError, Direction, MsgType, ServerMsg, Stream, decode_client, decode_server,
    frame_len,
};
pub use gateway::{BinaryConfig, BinaryError, BinaryGateway, BinaryStats, HistorySlot};
pub use ledger::{Ledgers, Report};
