//! `keel audit positions --at <point>`: replay up to a point, then every account's
//! position and P&L per instrument and the firm's totals.
//!
//! Unrealized P&L is marked at the instrument's reference price as the core sees it: the
//! consolidated mid (best bid and best ask across venues), else the last trade; with
//! neither, it is left empty.

use std::path::Path;

use keel_engine::core::CoreConfig;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Names, ScanError};
use crate::format::{Point, utc};
use crate::recover::{Progress, RecoverOptions, recover};

/// One account's position in one instrument (account `firm` for the firm's totals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRow {
    /// Account number, or `firm`.
    pub account: String,
    /// Instrument symbol.
    pub instrument: String,
    /// Net quantity (long > 0).
    pub net_qty: String,
    /// Average entry price of the open quantity.
    pub avg_price: String,
    /// Mark used for unrealized P&L.
    pub mark: String,
    /// Realized P&L, gross of fees.
    pub realized: String,
    /// Unrealized P&L at the mark.
    pub unrealized: String,
    /// Fees paid (negative: rebates).
    pub fees: String,
    /// Realized − fees + unrealized.
    pub total: String,
    /// Quantity bought.
    pub bought: String,
    /// Quantity sold.
    pub sold: String,
}

/// The positions at a point.
#[derive(Clone, Debug)]
pub struct Positions {
    /// Last journal sequence replayed.
    pub seq: u64,
    /// Core time there.
    pub time: String,
    /// Per account and instrument (non-empty positions only), then firm totals.
    pub rows: Vec<PositionRow>,
}

/// Replays the journal at `dir` up to `at` and reports positions.
pub fn positions(dir: &Path, config: &CoreConfig, at: Point) -> Result<Positions, ScanError> {
    let names = Names::new(config);
    let r = recover(
        dir,
        config,
        RecoverOptions {
            verify_outputs: false,
            until: at.until(),
            progress: Progress::Auto,
            ..RecoverOptions::default()
        },
    )?;
    let core = &r.core;
    let book = core.positions();
    let mut rows = Vec::new();
    let mut firm_rows = Vec::new();
    for inst in core.instruments() {
        let id = inst.id;
        let mark = core.markets().reference_price(id);
        let mark_s = mark.map_or_else(String::new, |m| inst.price_to_decimal(m).to_string());
        let n = |v: i128| inst.notional_to_decimal(v);
        for a in 0..book.accounts() {
            let Some(p) = book.position(keel_engine::AccountId(a as u32), id) else { continue };
            if p.net_qty_lots() == 0 && p.bought_lots() == 0 && p.sold_lots() == 0 {
                continue;
            }
            let avg = p.avg_price().map_or_else(String::new, |ap| {
                avg_decimal(
                    ap.numerator,
                    ap.denominator as i128,
                    inst.tick_size,
                    inst.price_precision,
                )
            });
            let unreal = mark.map(|m| p.unrealized(m));
            let total = p.net_realized_pnl() + unreal.unwrap_or(0);
            rows.push(PositionRow {
                account: a.to_string(),
                instrument: inst.symbol.clone(),
                net_qty: inst.qty_to_decimal(p.net_qty()).to_string(),
                avg_price: avg,
                mark: mark_s.clone(),
                realized: n(p.realized_pnl()).to_string(),
                unrealized: unreal.map_or_else(String::new, |u| n(u).to_string()),
                fees: n(p.fees()).to_string(),
                total: n(total).to_string(),
                bought: inst.qty_to_decimal(keel_engine::Qty(p.bought_lots())).to_string(),
                sold: inst.qty_to_decimal(keel_engine::Qty(p.sold_lots())).to_string(),
            });
        }
        if let Some(f) = book.firm(id) {
            if f.net_qty_lots == 0 && f.bought_lots == 0 && f.sold_lots == 0 {
                continue;
            }
            let avg = if f.net_qty_lots == 0 {
                String::new()
            } else {
                let sign = f.net_qty_lots.signum() as i128;
                avg_decimal(
                    f.open_cost * sign,
                    f.net_qty_lots.unsigned_abs() as i128,
                    inst.tick_size,
                    inst.price_precision,
                )
            };
            let unreal = mark.map(|m| f.unrealized(m));
            let total = f.realized_pnl - f.fees + unreal.unwrap_or(0);
            firm_rows.push(PositionRow {
                account: "firm".into(),
                instrument: inst.symbol.clone(),
                net_qty: inst.qty_to_decimal(keel_engine::Qty(f.net_qty_lots)).to_string(),
                avg_price: avg,
                mark: mark_s.clone(),
                realized: n(f.realized_pnl).to_string(),
                unrealized: unreal.map_or_else(String::new, |u| n(u).to_string()),
                fees: n(f.fees).to_string(),
                total: n(total).to_string(),
                bought: inst.qty_to_decimal(keel_engine::Qty(f.bought_lots)).to_string(),
                sold: inst.qty_to_decimal(keel_engine::Qty(f.sold_lots)).to_string(),
            });
        }
    }
    let _ = &names;
    rows.extend(firm_rows);
    Ok(Positions { seq: r.last_seq, time: utc(core.now().0), rows })
}

/// `num / den` ticks as a price, rounded to the price precision plus four places.
fn avg_decimal(num: i128, den: i128, tick: Decimal, precision: u32) -> String {
    let (Ok(n), Ok(d)) =
        (Decimal::try_from_i128_with_scale(num, 0), Decimal::try_from_i128_with_scale(den, 0))
    else {
        return "overflow".into();
    };
    match n.checked_mul(tick).and_then(|x| x.checked_div(d)) {
        Some(v) => v.round_dp(precision + 4).normalize().to_string(),
        None => "overflow".into(),
    }
}
