//! FIX 4.4: the codec, the session layer, the message store, the client order-entry
//! acceptor and a small client.
//!
//! The codec decodes in two steps, without allocating on the hot path:
//! - [`frame`]: is a whole, intact message at the front of the buffer (BeginString,
//!   BodyLength, CheckSum)? [`inbound::InBuffer`] applies it to a connection's bytes.
//! - [`message`]: split the frame into fields ([`message::Decoder`] reuses its table) and
//!   read values lazily ([`value`], [`time`]); [`spec`] validates a message's body against
//!   its specification (required tags, allowed tags, repeating groups).
//! - [`encode`]: bodies field by field and whole frames with their header and trailer.
//!
//! [`session`] is the session layer as a pure state machine (bytes and time in, bytes and
//! events out), used by both roles; [`store`] keeps its sequence numbers and sent
//! messages. The dialect is documented in `docs/fix.md`.

pub mod acceptor;
pub mod client;
pub mod encode;
pub mod frame;
pub mod inbound;
pub mod initiator;
pub mod message;
pub mod session;
pub mod spec;
pub mod store;
pub mod tags;
pub mod time;
pub mod value;
pub mod venue;
