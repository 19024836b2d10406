//! Sessions, admin actions and time.
//!
//! Admin commands (limit changes, trading states, kill switches) are accepted only from a
//! session logged on as [`SessionKind::Admin`]; every one is answered with an
//! [`AdminAck`]. Because they are commands, the journal records who acted and when, and a
//! replay reproduces every risk decision that followed.

use super::entry::open_order;
use super::report::{LastFill, exec_report};
use super::{Emitter, OutputSink, State};
use crate::orders::OrderFilter;
use crate::schema::{
    AdminAck, ExecType, KillSwitch, KillSwitchAction, OutputBody, RejectCode, RejectInfo,
    SessionKind, SessionLogon, SessionLogout, SetLimit, SetTradingState,
};
use crate::{AccountId, SessionId, TimeInForce};

impl State {
    pub(super) fn session_logon<S: OutputSink>(
        &mut self,
        session: SessionId,
        logon: &SessionLogon,
        out: &mut Emitter<'_, S>,
    ) {
        let reject = if logon.kind != SessionKind::Admin
            && logon.kind != SessionKind::Venue
            && logon.account.index() >= self.positions.accounts()
        {
            Some(RejectInfo::new(RejectCode::UnknownAccount, logon.account.0 as i64, 0))
        } else {
            self.sessions.logon(session, logon).err().map(|e| {
                RejectInfo::new(RejectCode::TableCapacity, session.0 as i64, e.capacity as i64)
            })
        };
        out.emit(OutputBody::AdminAck(AdminAck { session, affected: 0, reject }));
    }

    pub(super) fn session_logout<S: OutputSink>(
        &mut self,
        session: SessionId,
        _logout: &SessionLogout,
        out: &mut Emitter<'_, S>,
    ) {
        let Some(entry) = self.sessions.logout(session) else { return };
        self.risk.on_session_logout(session);
        if entry.cancel_on_disconnect {
            self.cancel_where(OrderFilter { session: Some(session), ..OrderFilter::ALL }, out);
        }
    }

    /// Time passed: held GTD orders whose time is up expire, and loss limits see the
    /// latest marks.
    pub(super) fn timer<S: OutputSink>(&mut self, out: &mut Emitter<'_, S>) {
        let State { orders, risk, held, now, .. } = self;
        held.retain(|&id| {
            let Some(mut order) = orders.get_mut(id) else { return false };
            let t = *order.terms();
            if t.tif != TimeInForce::Gtd || t.expire_at > *now {
                return true;
            }
            let before = open_order(&order);
            if order.expire(*now).is_err() {
                return true;
            }
            risk.on_order_closed(&before);
            out.emit(OutputBody::ExecReport(exec_report(
                &order,
                ExecType::Expired,
                t.cl_ord_id,
                None,
                LastFill::default(),
                None,
            )));
            drop(order);
            orders.remove(id);
            false
        });
        for account in 0..self.positions.accounts() {
            self.check_loss_limits(AccountId(account as u32), out);
        }
    }

    fn check_admin(&self, session: SessionId) -> Result<(), RejectInfo> {
        match self.sessions.active(session) {
            Some(s) if s.kind == SessionKind::Admin => Ok(()),
            _ => Err(RejectInfo::new(RejectCode::AdminInvalid, session.0 as i64, 0)),
        }
    }

    pub(super) fn set_limit<S: OutputSink>(
        &mut self,
        session: SessionId,
        cmd: &SetLimit,
        out: &mut Emitter<'_, S>,
    ) {
        let reject = self.check_admin(session).and_then(|()| self.risk.set_limit(cmd)).err();
        out.emit(OutputBody::AdminAck(AdminAck { session, affected: 0, reject }));
    }

    pub(super) fn set_trading_state<S: OutputSink>(
        &mut self,
        session: SessionId,
        cmd: &SetTradingState,
        out: &mut Emitter<'_, S>,
    ) {
        let reject =
            self.check_admin(session).and_then(|()| self.risk.set_trading_state(cmd)).err();
        out.emit(OutputBody::AdminAck(AdminAck { session, affected: 0, reject }));
    }

    pub(super) fn kill_switch<S: OutputSink>(
        &mut self,
        session: SessionId,
        cmd: &KillSwitch,
        out: &mut Emitter<'_, S>,
    ) {
        let result = self.check_admin(session).and_then(|()| self.risk.kill_switch(cmd));
        let (affected, reject) = match result {
            Ok(Some(scope)) if cmd.action == KillSwitchAction::Engage => {
                (self.cancel_where(OrderFilter::from_scope(scope), out), None)
            }
            Ok(_) => (0, None),
            Err(e) => (0, Some(e)),
        };
        out.emit(OutputBody::AdminAck(AdminAck { session, affected, reject }));
    }
}
