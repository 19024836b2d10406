//! Snapshot of the [`RiskEngine`]: every limit set, the session throttle buckets, trading
//! states, kill switches and loss trackers, the exposure cells, aggregates and marks, and
//! the duplicate-order ring oldest first.
//!
//! The instrument valuations, no-reference rule, self-trade mode and trading-day offset
//! come from the configuration (the snapshot's configuration fingerprint covers them).

use super::RiskEngine;
use super::duplicate::Fingerprint;
use super::exposure::{AggregateExposure, CellExposure};
use super::limits::ALL_KINDS;
use super::state::LossTracker;
use crate::schema::LimitScope;
use crate::snapshot_codec::{Bounds, CodecError, Reader, Writer};
use crate::{AccountId, InstrumentId, Price, Qty, SessionId, TimestampNs};

impl RiskEngine {
    /// Every limit scope, in the order of the limit tables (and of the digest).
    fn limit_scopes(&self) -> Vec<LimitScope> {
        let (accounts, instruments) = (self.limits.accounts.len(), self.instruments.len());
        let mut scopes = vec![LimitScope::Firm];
        scopes.extend((0..accounts).map(|a| LimitScope::Account(AccountId(a as u32))));
        for a in 0..accounts {
            scopes.extend((0..instruments).map(|i| {
                LimitScope::AccountInstrument(AccountId(a as u32), InstrumentId(i as u32))
            }));
        }
        scopes.extend(
            (0..self.limits.sessions.len()).map(|s| LimitScope::Session(SessionId(s as u32))),
        );
        scopes
    }

    /// Appends the risk state to `w`.
    pub(crate) fn snapshot_write(&self, w: &mut Writer) {
        let scopes = self.limit_scopes();
        w.len_u32(scopes.len());
        for scope in scopes {
            for kind in ALL_KINDS {
                w.i64(self.limits.get(scope, kind).expect("scope inside the tables"));
            }
        }
        w.len_u32(self.buckets.len());
        for b in self.buckets.iter().flatten() {
            w.u128(b.credit);
            w.u64(b.last_refill_ns);
        }
        let s = &self.states;
        w.u8(s.firm_state as u8);
        w.bool(s.firm_kill);
        w.len_u32(s.account_state.len());
        for (state, kill) in s.account_state.iter().zip(&s.account_kill) {
            w.u8(*state as u8);
            w.bool(*kill);
        }
        w.len_u32(s.session_kill.len());
        for kill in &s.session_kill {
            w.bool(*kill);
        }
        w.len_u32(s.loss.len());
        for t in &s.loss {
            w.bool(t.seen);
            w.u64(t.day);
            w.i128(t.day_start);
            w.i128(t.peak);
            w.i128(t.last);
        }
        let e = &self.exposure;
        w.len_u32(e.marks.len());
        for m in &e.marks {
            w.option(*m, |w, p| w.i64(p.ticks()));
        }
        w.len_u32(e.cells.len());
        for c in &e.cells {
            w.i64(c.position_lots);
            w.i64(c.open_buy_lots);
            w.i64(c.open_sell_lots);
            w.i128(c.open_buy_value);
            w.i128(c.open_sell_value);
            w.u32(c.open_orders);
        }
        w.len_u32(e.accounts.len());
        for agg in e.accounts.iter().chain(std::iter::once(&e.firm)) {
            w.i128(agg.gross_value);
            w.i128(agg.credit_value);
            w.u32(agg.open_orders);
        }
        w.len_u32(self.duplicates.snapshot_entries().count());
        for (at_ns, fp) in self.duplicates.snapshot_entries() {
            w.u64(at_ns);
            w.u32(fp.account.0);
            w.u32(fp.instrument.0);
            w.u8(fp.side as u8);
            w.i64(fp.price.ticks());
            w.i64(fp.qty.lots());
        }
    }

    /// Restores the state written by [`RiskEngine::snapshot_write`] into an engine built
    /// from the same configuration.
    pub(crate) fn snapshot_read(&mut self, r: &mut Reader<'_>) -> Result<(), CodecError> {
        let scopes = self.limit_scopes();
        r.exact_count(scopes.len(), "limit sets")?;
        for scope in scopes {
            for kind in ALL_KINDS {
                let at = r.offset();
                let value = r.i64()?;
                if self.limits.get(scope, kind) != Some(value) {
                    self.limits.apply(scope, kind, value).map_err(|_| {
                        Reader::out_of_range_at(
                            at,
                            format!("limit {kind:?} = {value} cannot be set for {scope:?}"),
                        )
                    })?;
                }
            }
        }
        r.exact_count(self.buckets.len(), "throttled sessions")?;
        for b in self.buckets.iter_mut().flatten() {
            b.credit = r.u128()?;
            b.last_refill_ns = r.u64()?;
        }
        let accounts = self.states.account_state.len();
        let s = &mut self.states;
        s.firm_state = r.trading_state()?;
        s.firm_kill = r.bool()?;
        r.exact_count(accounts, "account states")?;
        for a in 0..accounts {
            s.account_state[a] = r.trading_state()?;
            s.account_kill[a] = r.bool()?;
        }
        r.exact_count(s.session_kill.len(), "session kill switches")?;
        for kill in s.session_kill.iter_mut() {
            *kill = r.bool()?;
        }
        r.exact_count(s.loss.len(), "loss trackers")?;
        for t in s.loss.iter_mut() {
            *t = LossTracker {
                seen: r.bool()?,
                day: r.u64()?,
                day_start: r.i128()?,
                peak: r.i128()?,
                last: r.i128()?,
            };
        }
        let e = &mut self.exposure;
        r.exact_count(e.marks.len(), "instrument marks")?;
        for m in e.marks.iter_mut() {
            *m = r.option(|r| Ok(Price(r.i64()?)))?;
        }
        r.exact_count(e.cells.len(), "exposure cells")?;
        for c in e.cells.iter_mut() {
            *c = CellExposure {
                position_lots: r.i64()?,
                open_buy_lots: r.i64()?,
                open_sell_lots: r.i64()?,
                open_buy_value: r.i128()?,
                open_sell_value: r.i128()?,
                open_orders: r.u32()?,
            };
        }
        r.exact_count(e.accounts.len(), "account exposures")?;
        for agg in e.accounts.iter_mut().chain(std::iter::once(&mut e.firm)) {
            *agg = AggregateExposure {
                gross_value: r.i128()?,
                credit_value: r.i128()?,
                open_orders: r.u32()?,
            };
        }
        let n = r.count(self.duplicates.capacity(), "remembered orders")?;
        let instruments = self.instruments.len() as u32;
        for _ in 0..n {
            let at_ns = r.u64()?;
            let at = r.offset();
            let account = AccountId(r.u32()?);
            Bounds::check(at, "account", account.0, accounts as u32)?;
            let at = r.offset();
            let instrument = InstrumentId(r.u32()?);
            Bounds::check(at, "instrument", instrument.0, instruments)?;
            let fp = Fingerprint {
                account,
                instrument,
                side: r.side()?,
                price: Price(r.i64()?),
                qty: Qty(r.i64()?),
            };
            self.duplicates.record(fp, TimestampNs(at_ns));
        }
        Ok(())
    }
}
