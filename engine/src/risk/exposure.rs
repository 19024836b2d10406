//! Risk's own exposure aggregates, kept exact by the core's lifecycle hooks.
//!
//! Per (account, instrument) *cell*: net position (lots), open buy and sell quantity (lots)
//! and their value, and the number of working orders. An open order is valued at its
//! *risk price* (the price risk checked it at, returned by `check_new`) in valuation units:
//! `|price| × leaves × value_per_notional_unit`. Positions are valued at the instrument's
//! *mark* (the last reference price the core gave), `0` until there is one.
//!
//! Per account and for the firm, the sums of every cell's contribution:
//! - gross exposure = `|position| × |mark| × vpn + open buy value + open sell value`;
//! - credit = `max(position, 0) × |mark| × vpn + open buy value`;
//! - open orders.
//!
//! Invariant (checked by the property tests against a recomputation from scratch): each
//! aggregate equals the sum of its cells' contributions at the current marks. Every change
//! goes through [`Exposure::update_cell`], which applies the contribution's delta, and
//! [`Exposure::set_mark`], which re-values the cells with a position in that instrument.

use crate::{InstrumentId, Price, Qty, Side};

/// Exposure of one account in one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellExposure {
    /// Net position, lots (long > 0).
    pub position_lots: i64,
    /// Leaves quantity of working buy orders, lots.
    pub open_buy_lots: i64,
    /// Leaves quantity of working sell orders, lots.
    pub open_sell_lots: i64,
    /// Value of working buy orders at their risk prices, valuation units.
    pub open_buy_value: i128,
    /// Value of working sell orders at their risk prices, valuation units.
    pub open_sell_value: i128,
    /// Working orders.
    pub open_orders: u32,
}

/// Sums over cells, for an account or the firm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AggregateExposure {
    /// Gross exposure, valuation units.
    pub gross_value: i128,
    /// Credit used, valuation units.
    pub credit_value: i128,
    /// Working orders.
    pub open_orders: u32,
}

/// Value of `qty` at `price` in valuation units; sign-free (a negative price is still
/// exposure).
#[inline]
pub fn order_value(price: Price, qty: Qty, value_per_notional_unit: i64) -> i128 {
    price.notional(qty).abs() * value_per_notional_unit as i128
}

impl CellExposure {
    /// This cell's (gross, credit) contribution at `mark`.
    pub fn contribution(&self, mark: Option<Price>, value_per_notional_unit: i64) -> (i128, i128) {
        let mark = mark.unwrap_or(Price(0));
        let long = Qty(self.position_lots.max(0));
        let abs = Qty(self.position_lots.abs());
        let gross = order_value(mark, abs, value_per_notional_unit)
            + self.open_buy_value
            + self.open_sell_value;
        let credit = order_value(mark, long, value_per_notional_unit) + self.open_buy_value;
        (gross, credit)
    }

    /// Open lots on `side`.
    #[inline]
    pub fn open_lots(&self, side: Side) -> i64 {
        match side {
            Side::Buy => self.open_buy_lots,
            Side::Sell => self.open_sell_lots,
        }
    }

    fn add_open(&mut self, side: Side, lots: i64, value: i128) {
        let (q, v) = match side {
            Side::Buy => (&mut self.open_buy_lots, &mut self.open_buy_value),
            Side::Sell => (&mut self.open_sell_lots, &mut self.open_sell_value),
        };
        *q += lots;
        *v += value;
        debug_assert!(*q >= 0 && *v >= 0, "open exposure went negative: the core's hooks disagree");
    }
}

/// All cells, aggregates and marks.
#[derive(Clone, Debug)]
pub(crate) struct Exposure {
    pub(crate) cells: Vec<CellExposure>,
    pub(crate) accounts: Vec<AggregateExposure>,
    pub(crate) firm: AggregateExposure,
    pub(crate) marks: Vec<Option<Price>>,
    value_per_notional_unit: Vec<i64>,
}

impl Exposure {
    pub(crate) fn new(accounts: usize, value_per_notional_unit: Vec<i64>) -> Self {
        let instruments = value_per_notional_unit.len();
        Self {
            cells: vec![CellExposure::default(); accounts * instruments],
            accounts: vec![AggregateExposure::default(); accounts],
            firm: AggregateExposure::default(),
            marks: vec![None; instruments],
            value_per_notional_unit,
        }
    }

    #[inline]
    fn instruments(&self) -> usize {
        self.marks.len()
    }

    #[inline]
    pub(crate) fn vpn(&self, instrument: usize) -> i64 {
        self.value_per_notional_unit[instrument]
    }

    #[inline]
    pub(crate) fn cell(&self, account: usize, instrument: usize) -> &CellExposure {
        &self.cells[account * self.instruments() + instrument]
    }

    /// Applies `f` to one cell and moves the aggregates by the change in its contribution.
    fn update_cell(
        &mut self,
        account: usize,
        instrument: usize,
        f: impl FnOnce(&mut CellExposure),
    ) {
        let idx = account * self.instruments() + instrument;
        let (mark, vpn) = (self.marks[instrument], self.vpn(instrument));
        let cell = &mut self.cells[idx];
        let (g0, c0) = cell.contribution(mark, vpn);
        let n0 = cell.open_orders;
        f(cell);
        let (g1, c1) = cell.contribution(mark, vpn);
        let n1 = cell.open_orders;
        for agg in [&mut self.accounts[account], &mut self.firm] {
            agg.gross_value += g1 - g0;
            agg.credit_value += c1 - c0;
            agg.open_orders = agg.open_orders + n1 - n0;
        }
    }

    /// Working orders changed by `lots` worth `value` and `orders` in number, the position
    /// unchanged. The contribution moves by exactly the value (gross; credit for buys),
    /// so the aggregates move without re-valuing the position as [`Self::update_cell`]
    /// does.
    #[inline(always)]
    fn change_open(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        lots: i64,
        value: i128,
        orders: i32,
    ) {
        let idx = account * self.instruments() + instrument;
        let cell = &mut self.cells[idx];
        cell.add_open(side, lots, value);
        debug_assert!(orders >= 0 || cell.open_orders > 0, "order closed that was never opened");
        cell.open_orders = cell.open_orders.saturating_add_signed(orders);
        let credit = if side == Side::Buy { value } else { 0 };
        for agg in [&mut self.accounts[account], &mut self.firm] {
            agg.gross_value += value;
            agg.credit_value += credit;
            agg.open_orders = agg.open_orders.saturating_add_signed(orders);
        }
    }

    /// A new working order of `lots` worth `value` (valuation units, as [`order_value`]
    /// values it). Always inlined: called at one place, once per new order.
    #[inline(always)]
    pub(crate) fn open_valued(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        lots: Qty,
        value: i128,
    ) {
        self.change_open(account, instrument, side, lots.0, value, 1);
    }

    /// A new working order.
    #[inline]
    pub(crate) fn open(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        price: Price,
        leaves: Qty,
    ) {
        let value = order_value(price, leaves, self.vpn(instrument));
        self.change_open(account, instrument, side, leaves.0, value, 1);
    }

    /// A working order's price or leaves changed.
    pub(crate) fn amend(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        before: (Price, Qty),
        after: (Price, Qty),
    ) {
        let vpn = self.vpn(instrument);
        let (v0, v1) = (order_value(before.0, before.1, vpn), order_value(after.0, after.1, vpn));
        self.change_open(account, instrument, side, after.1.0 - before.1.0, v1 - v0, 0);
    }

    /// A fill of `qty` of an order whose risk price is `order_price`: its leaves shrink and
    /// the position moves.
    pub(crate) fn fill(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        order_price: Price,
        qty: Qty,
    ) {
        let value = order_value(order_price, qty, self.vpn(instrument));
        self.update_cell(account, instrument, |c| {
            c.add_open(side, -qty.0, -value);
            c.position_lots += side.sign() * qty.0;
        });
    }

    /// A working order left the book with `leaves` unfilled.
    pub(crate) fn close(
        &mut self,
        account: usize,
        instrument: usize,
        side: Side,
        price: Price,
        leaves: Qty,
    ) {
        let value = order_value(price, leaves, self.vpn(instrument));
        self.change_open(account, instrument, side, -leaves.0, -value, -1);
    }

    /// The instrument's mark moved: re-value every position in it. O(accounts).
    pub(crate) fn set_mark(&mut self, instrument: InstrumentId, mark: Price) {
        let i = instrument.index();
        if self.marks[i] == Some(mark) {
            return;
        }
        let (old, vpn) = (self.marks[i], self.vpn(i));
        for a in 0..self.accounts.len() {
            let cell = self.cells[a * self.instruments() + i];
            if cell.position_lots == 0 {
                continue;
            }
            let (g0, c0) = cell.contribution(old, vpn);
            let (g1, c1) = cell.contribution(Some(mark), vpn);
            for agg in [&mut self.accounts[a], &mut self.firm] {
                agg.gross_value += g1 - g0;
                agg.credit_value += c1 - c0;
            }
        }
        self.marks[i] = Some(mark);
    }

    pub(crate) fn digest_into(&self, sink: &mut impl FnMut(&[u8])) {
        for m in &self.marks {
            match m {
                None => sink(&[0]),
                Some(p) => {
                    sink(&[1]);
                    sink(&p.0.to_le_bytes());
                }
            }
        }
        for c in &self.cells {
            sink(&c.position_lots.to_le_bytes());
            sink(&c.open_buy_lots.to_le_bytes());
            sink(&c.open_sell_lots.to_le_bytes());
            sink(&c.open_buy_value.to_le_bytes());
            sink(&c.open_sell_value.to_le_bytes());
            sink(&c.open_orders.to_le_bytes());
        }
        for agg in self.accounts.iter().chain(std::iter::once(&self.firm)) {
            sink(&agg.gross_value.to_le_bytes());
            sink(&agg.credit_value.to_le_bytes());
            sink(&agg.open_orders.to_le_bytes());
        }
    }
}
