//! # keel-engine
//!
//! The domain and the deterministic core of Keel: identifiers, fixed-point prices and
//! quantities, instrument reference data, the command/output schema, and the order book.
//!
//! Rules that hold for everything in this crate (design §3):
//! - **Deterministic.** Nothing here reads a clock, a random source, the environment or a
//!   file. Time arrives inside commands.
//! - **Fixed point.** Prices are `i64` ticks and quantities `i64` lots of one instrument;
//!   [`rust_decimal::Decimal`] is used only at the edges, and conversions are exact or fail.
//! - **No allocation in steady state.** Containers are sized at start-up; running out of
//!   capacity is a clean, typed rejection.
//!
//! ```
//! use keel_engine::{Instrument, InstrumentId, Side};
//! use rust_decimal::Decimal;
//! use std::str::FromStr;
//!
//! let btc = Instrument::builder(InstrumentId(1), "BTC-USD")
//!     .tick_size(Decimal::from_str("0.01").unwrap())
//!     .lot_size(Decimal::from_str("0.0001").unwrap())
//!     .build()
//!     .unwrap();
//! let px = btc.price_from_decimal(Decimal::from_str("27123.45").unwrap()).unwrap();
//! assert_eq!(px.ticks(), 2_712_345);
//! assert_eq!(btc.price_to_decimal(px).to_string(), "27123.45");
//! assert!(btc.price_from_decimal(Decimal::from_str("27123.455").unwrap()).is_err());
//! assert_eq!(Side::Buy.opposite(), Side::Sell);
//! ```

pub mod book;
pub mod core;
pub mod fixed;
pub mod ids;
pub mod instrument;
pub mod order_terms;
pub mod orders;
pub mod pipeline;
pub mod port;
pub mod positions;
pub mod risk;
pub mod schema;
pub mod side;
pub mod snapshot_codec;
pub mod strategy;
pub mod time;

pub use book::{BookCapacity, BookError, BookEvent, L2Book, L3Book};
pub use fixed::{Price, Qty};
pub use ids::{AccountId, ClOrdId, ClOrdIdError, InstrumentId, OrderId, SessionId, VenueId};
pub use instrument::{ConvertError, Instrument, InstrumentBuilder, InstrumentError};
pub use order_terms::{OrdType, TimeInForce};
pub use orders::{Order, OrderState, OrderTable};
pub use positions::{Position, PositionBook};
pub use risk::{RiskConfig, RiskEngine};
pub use side::Side;
pub use time::TimestampNs;
