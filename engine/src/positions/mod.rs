//! Positions and P&L (design §4 "Positions and P&L").
//!
//! A [`Position`] is one account's holding of one instrument under **average-cost**
//! accounting; a [`PositionBook`] holds every (account, instrument) position in a dense table
//! sized at start-up, with firm totals per instrument and per-account totals in a common
//! valuation unit.
//!
//! Units: quantities in lots, prices in ticks, and every money amount (open cost, realized
//! and unrealized P&L, fees) in ticks·lots of the instrument as `i128`. Valuation across
//! instruments is in 1e-8 of the reporting currency ("e8"), via an integer multiplier per
//! instrument.
//!
//! Invariants, checked by debug assertions and by the property tests:
//! - the net quantity is the sum of the signed fill quantities;
//! - **conservation**: `realized_pnl == cash_flow + open_cost` exactly, where `cash_flow` is
//!   the sum over fills of `-side.sign() × price × qty` (buying pays, selling receives) —
//!   rounding never creates or destroys value, it only decides whether a fraction of a
//!   tick·lot is realized now or stays in the open cost until the position closes;
//! - a flat position has zero open cost, so a flat position's realized P&L is exactly its
//!   cash flow.

mod book;
mod muldiv;
mod position;

pub use book::{
    AccountTotals, InstrumentTotals, PositionBook, PositionBookError, value_per_notional_unit_e8,
};
pub use muldiv::mul_div_trunc;
pub use position::{AvgPrice, FillEffect, Position, PositionError};
