//! Every position of the firm, in a dense table sized at start-up.
//!
//! Accounts and instruments are small dense ids, so the book is a flat account-major table
//! of [`Position`]s indexed `account × instruments + instrument`, plus running totals that
//! are updated by the same fill (never recomputed by scanning):
//! - per instrument, firm totals: the sums of the accounts' positions (netting across
//!   accounts only in the quantity, never re-averaging: the firm's realized P&L is the sum
//!   of its accounts');
//! - per account, realized P&L and fees valued in 1e-8 of the reporting currency ("e8"),
//!   via each instrument's integer `value_per_notional_unit` (e8 per tick·lot).
//!
//! Nothing allocates after [`PositionBook::new`].

use crate::positions::{FillEffect, Position, PositionError};
use crate::{AccountId, Instrument, InstrumentId, Price, Qty, Side};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

mod snapshot;

/// Firm totals for one instrument: sums over accounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentTotals {
    /// Sum of net quantities, lots.
    pub net_qty_lots: i64,
    /// Sum of open costs, ticks·lots.
    pub open_cost: i128,
    /// Sum of gross realized P&L, ticks·lots.
    pub realized_pnl: i128,
    /// Sum of fees, ticks·lots.
    pub fees: i128,
    /// Lots bought.
    pub bought_lots: i64,
    /// Lots sold.
    pub sold_lots: i64,
}

impl InstrumentTotals {
    /// Firm unrealized P&L at `mark`, ticks·lots (the sum of the accounts' unrealized,
    /// since unrealized is linear in net quantity and open cost).
    #[inline]
    pub fn unrealized(&self, mark: Price) -> i128 {
        mark.notional(Qty(self.net_qty_lots)) - self.open_cost
    }
}

/// Per-account totals across instruments, in e8 of the reporting currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountTotals {
    /// Gross realized P&L, e8.
    pub realized_pnl_e8: i128,
    /// Fees, e8.
    pub fees_e8: i128,
}

/// A position book that cannot be built, or a fill it cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionBookError {
    /// Account id outside the table.
    #[error("account {account} is not in the position book (accounts: {accounts})")]
    UnknownAccount {
        /// The id given.
        account: AccountId,
        /// Number of accounts the book was sized for.
        accounts: usize,
    },
    /// Instrument id outside the table.
    #[error("instrument {instrument} is not in the position book (instruments: {instruments})")]
    UnknownInstrument {
        /// The id given.
        instrument: InstrumentId,
        /// Number of instruments the book was sized for.
        instruments: usize,
    },
    /// A valuation multiplier must be positive.
    #[error("value_per_notional_unit of instrument {index} must be positive, got {value}")]
    BadMultiplier {
        /// Instrument index.
        index: usize,
        /// The value given.
        value: i64,
    },
    /// The table would not fit in memory addressing.
    #[error("position book of {accounts} accounts × {instruments} instruments is too large")]
    TooLarge {
        /// Accounts.
        accounts: usize,
        /// Instruments.
        instruments: usize,
    },
    /// The fill itself is invalid or overflows.
    #[error(transparent)]
    Position(#[from] PositionError),
}

/// The integer multiplier from ticks·lots of `instrument` to 1e-8 of its quote currency:
/// `tick_size × lot_size × 1e8`, or `None` when that is not a positive whole number that
/// fits in `i64` (then the reporting unit is too coarse for the instrument).
pub fn value_per_notional_unit_e8(instrument: &Instrument) -> Option<i64> {
    let e8 = instrument.notional_unit().checked_mul(Decimal::from(100_000_000u64))?;
    if !e8.fract().is_zero() || e8 <= Decimal::ZERO {
        return None;
    }
    e8.to_i64()
}

/// Positions for `accounts × instruments`, with firm and account totals.
#[derive(Clone, Debug)]
pub struct PositionBook {
    accounts: usize,
    instruments: usize,
    /// Account-major: `account * instruments + instrument`.
    cells: Box<[Position]>,
    firm: Box<[InstrumentTotals]>,
    account_totals: Box<[AccountTotals]>,
    value_per_notional_unit_e8: Box<[i64]>,
}

impl PositionBook {
    /// A flat book for `accounts` accounts and one instrument per multiplier;
    /// `value_per_notional_unit_e8[i]` converts ticks·lots of instrument `i` to e8 of the
    /// reporting currency (see [`value_per_notional_unit_e8`]; fold any FX rate in here).
    pub fn new(
        accounts: usize,
        value_per_notional_unit_e8: &[i64],
    ) -> Result<Self, PositionBookError> {
        let instruments = value_per_notional_unit_e8.len();
        if let Some((index, &value)) =
            value_per_notional_unit_e8.iter().enumerate().find(|(_, v)| **v <= 0)
        {
            return Err(PositionBookError::BadMultiplier { index, value });
        }
        let n = accounts
            .checked_mul(instruments)
            .ok_or(PositionBookError::TooLarge { accounts, instruments })?;
        Ok(Self {
            accounts,
            instruments,
            cells: vec![Position::default(); n].into_boxed_slice(),
            firm: vec![InstrumentTotals::default(); instruments].into_boxed_slice(),
            account_totals: vec![AccountTotals::default(); accounts].into_boxed_slice(),
            value_per_notional_unit_e8: value_per_notional_unit_e8.into(),
        })
    }

    /// Number of accounts.
    pub fn accounts(&self) -> usize {
        self.accounts
    }

    /// Number of instruments.
    pub fn instruments(&self) -> usize {
        self.instruments
    }

    fn index(
        &self,
        account: AccountId,
        instrument: InstrumentId,
    ) -> Result<usize, PositionBookError> {
        if account.index() >= self.accounts {
            return Err(PositionBookError::UnknownAccount { account, accounts: self.accounts });
        }
        if instrument.index() >= self.instruments {
            return Err(PositionBookError::UnknownInstrument {
                instrument,
                instruments: self.instruments,
            });
        }
        Ok(account.index() * self.instruments + instrument.index())
    }

    /// The position of `account` in `instrument`, or `None` for ids outside the book.
    pub fn position(&self, account: AccountId, instrument: InstrumentId) -> Option<&Position> {
        self.index(account, instrument).ok().map(|i| &self.cells[i])
    }

    /// Firm totals for `instrument`.
    pub fn firm(&self, instrument: InstrumentId) -> Option<&InstrumentTotals> {
        self.firm.get(instrument.index())
    }

    /// Totals of `account` across instruments, in e8.
    pub fn account_totals(&self, account: AccountId) -> Option<&AccountTotals> {
        self.account_totals.get(account.index())
    }

    /// Unrealized P&L of `account` across instruments in e8, each instrument marked at
    /// `mark(instrument)`; instruments with no mark (`None`) are skipped.
    pub fn account_unrealized_e8(
        &self,
        account: AccountId,
        mut mark: impl FnMut(InstrumentId) -> Option<Price>,
    ) -> Option<i128> {
        if account.index() >= self.accounts {
            return None;
        }
        let row = &self.cells[account.index() * self.instruments..][..self.instruments];
        let mut total: i128 = 0;
        for (i, pos) in row.iter().enumerate() {
            if pos.net_qty_lots() == 0 {
                continue;
            }
            if let Some(px) = mark(InstrumentId(i as u32)) {
                let value =
                    pos.unrealized(px).checked_mul(self.value_per_notional_unit_e8[i] as i128)?;
                total = total.checked_add(value)?;
            }
        }
        Some(total)
    }

    /// Applies a fill to `account`'s position in `instrument` and to the totals.
    /// On error nothing changes.
    pub fn apply_fill(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        fee: i64,
    ) -> Result<FillEffect, PositionBookError> {
        let i = self.index(account, instrument)?;
        let before = self.cells[i];
        let mut after = before;
        let effect = after.apply_fill(side, price, qty, fee)?;

        // Stage every total before committing, so an overflow leaves the book untouched.
        let vpn = self.value_per_notional_unit_e8[instrument.index()] as i128;
        let overflow = |what| PositionBookError::Position(PositionError::Overflow { what });
        let firm = &self.firm[instrument.index()];
        let new_firm = InstrumentTotals {
            net_qty_lots: firm
                .net_qty_lots
                .checked_add(after.net_qty_lots() - before.net_qty_lots())
                .ok_or(overflow("firm net quantity"))?,
            open_cost: firm
                .open_cost
                .checked_add(after.open_cost() - before.open_cost())
                .ok_or(overflow("firm open cost"))?,
            realized_pnl: firm
                .realized_pnl
                .checked_add(effect.realized_pnl_delta)
                .ok_or(overflow("firm realized P&L"))?,
            fees: firm.fees.checked_add(fee as i128).ok_or(overflow("firm fees"))?,
            bought_lots: firm
                .bought_lots
                .checked_add(after.bought_lots() - before.bought_lots())
                .ok_or(overflow("firm volume"))?,
            sold_lots: firm
                .sold_lots
                .checked_add(after.sold_lots() - before.sold_lots())
                .ok_or(overflow("firm volume"))?,
        };
        let acct = &self.account_totals[account.index()];
        let new_acct = AccountTotals {
            realized_pnl_e8: effect
                .realized_pnl_delta
                .checked_mul(vpn)
                .and_then(|d| acct.realized_pnl_e8.checked_add(d))
                .ok_or(overflow("account realized P&L"))?,
            fees_e8: (fee as i128)
                .checked_mul(vpn)
                .and_then(|d| acct.fees_e8.checked_add(d))
                .ok_or(overflow("account fees"))?,
        };

        self.cells[i] = after;
        self.firm[instrument.index()] = new_firm;
        self.account_totals[account.index()] = new_acct;
        Ok(effect)
    }

    /// Feeds the whole state to `sink` canonically: a header (accounts, instruments as
    /// `u64`), then for each account in id order, for each instrument in id order, the ids
    /// (`u32` each) and the position; then the firm totals per instrument and the account
    /// totals per account, all little-endian. Derived totals are included so a digest
    /// mismatch also catches a totals bug.
    pub fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        sink(&(self.accounts as u64).to_le_bytes());
        sink(&(self.instruments as u64).to_le_bytes());
        for (i, pos) in self.cells.iter().enumerate() {
            let (account, instrument) = (i / self.instruments, i % self.instruments);
            sink(&(account as u32).to_le_bytes());
            sink(&(instrument as u32).to_le_bytes());
            pos.digest_into(sink);
        }
        for (i, t) in self.firm.iter().enumerate() {
            sink(&(i as u32).to_le_bytes());
            sink(&t.net_qty_lots.to_le_bytes());
            sink(&t.open_cost.to_le_bytes());
            sink(&t.realized_pnl.to_le_bytes());
            sink(&t.fees.to_le_bytes());
            sink(&t.bought_lots.to_le_bytes());
            sink(&t.sold_lots.to_le_bytes());
        }
        for (i, t) in self.account_totals.iter().enumerate() {
            sink(&(i as u32).to_le_bytes());
            sink(&t.realized_pnl_e8.to_le_bytes());
            sink(&t.fees_e8.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn totals_follow_fills() {
        let mut book = PositionBook::new(2, &[100, 1]).unwrap();
        let (a0, a1, i0, i1) = (AccountId(0), AccountId(1), InstrumentId(0), InstrumentId(1));
        book.apply_fill(a0, i0, Side::Buy, Price(100), Qty(5), 3).unwrap();
        book.apply_fill(a1, i0, Side::Sell, Price(101), Qty(2), 1).unwrap();
        book.apply_fill(a0, i0, Side::Sell, Price(110), Qty(5), 0).unwrap();
        book.apply_fill(a0, i1, Side::Buy, Price(7), Qty(1), 0).unwrap();
        let firm = book.firm(i0).unwrap();
        assert_eq!((firm.net_qty_lots, firm.realized_pnl, firm.fees), (-2, 50, 4));
        assert_eq!(firm.unrealized(Price(100)), 2);
        let t = book.account_totals(a0).unwrap();
        assert_eq!((t.realized_pnl_e8, t.fees_e8), (5000, 300));
        assert_eq!(book.account_unrealized_e8(a0, |_| Some(Price(9))), Some(2));
        assert_eq!(book.position(a1, i0).unwrap().net_qty_lots(), -2);
    }

    #[test]
    fn unknown_ids_are_errors() {
        let mut book = PositionBook::new(1, &[1]).unwrap();
        assert_eq!(
            book.apply_fill(AccountId(1), InstrumentId(0), Side::Buy, Price(1), Qty(1), 0),
            Err(PositionBookError::UnknownAccount { account: AccountId(1), accounts: 1 })
        );
        assert!(matches!(
            book.apply_fill(AccountId(0), InstrumentId(3), Side::Buy, Price(1), Qty(1), 0),
            Err(PositionBookError::UnknownInstrument { .. })
        ));
        assert!(matches!(PositionBook::new(1, &[0]), Err(PositionBookError::BadMultiplier { .. })));
    }

    #[test]
    fn digest_is_canonical_and_sensitive() {
        let digest = |book: &PositionBook| {
            let mut bytes = Vec::new();
            book.digest_into(&mut |b: &[u8]| bytes.extend_from_slice(b));
            bytes
        };
        let mut a = PositionBook::new(2, &[1, 1]).unwrap();
        let mut b = a.clone();
        a.apply_fill(AccountId(0), InstrumentId(1), Side::Buy, Price(5), Qty(1), 0).unwrap();
        a.apply_fill(AccountId(1), InstrumentId(0), Side::Buy, Price(5), Qty(1), 0).unwrap();
        b.apply_fill(AccountId(1), InstrumentId(0), Side::Buy, Price(5), Qty(1), 0).unwrap();
        assert_ne!(digest(&a), digest(&b));
        b.apply_fill(AccountId(0), InstrumentId(1), Side::Buy, Price(5), Qty(1), 0).unwrap();
        assert_eq!(digest(&a), digest(&b));
    }

    #[test]
    fn multiplier_from_instrument() {
        let btc = Instrument::builder(InstrumentId(0), "BTC-USD")
            .tick_size(Decimal::from_str("0.01").unwrap())
            .lot_size(Decimal::from_str("0.0001").unwrap())
            .build()
            .unwrap();
        assert_eq!(value_per_notional_unit_e8(&btc), Some(100));
    }
}
