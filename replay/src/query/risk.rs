//! `keel audit risk`: every reject the core made (code, numbers, order, session, time)
//! and every admin action (set limit, trading state, kill switch) with who sent it, when,
//! and the answer it got.

use std::path::Path;

use keel_engine::core::CoreConfig;
use keel_engine::schema::{Command, CommandBody, OutputBody, RejectInfo};
use serde::{Deserialize, Serialize};

use super::{Names, ScanError, open_reader};
use crate::format::{Point, utc};
use crate::log::{Entry, decode};
use crate::query::orders::snake;

/// One reject or admin action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRow {
    /// Journal sequence of the record (the reject output, or the admin input).
    pub seq: u64,
    /// Its time, UTC.
    pub time: String,
    /// `reject` or `admin`.
    pub kind: String,
    /// The session that sent the input.
    pub session: u32,
    /// What was refused or done: the input kind and its terms.
    pub action: String,
    /// Account concerned, when known.
    pub account: Option<u32>,
    /// Keel's order id, when there is one.
    pub order_id: Option<u64>,
    /// The client order id, when there is one.
    pub cl_ord_id: String,
    /// Instrument, when known.
    pub instrument: String,
    /// The reject code (or `ok` for an accepted admin action).
    pub result: String,
    /// The offending value, named.
    pub value: String,
    /// The limit, named.
    pub limit: String,
    /// Orders the action cancelled (kill switch, mass cancel).
    pub affected: Option<u32>,
}

fn cells(r: &RejectInfo) -> (String, String, String) {
    let (vn, ln) = r.code.field_names();
    (
        r.code.as_str().into(),
        if vn.is_empty() { String::new() } else { format!("{vn}={}", r.value) },
        if ln.is_empty() { String::new() } else { format!("{ln}={}", r.limit) },
    )
}

fn describe(cmd: &Command) -> String {
    match &cmd.body {
        CommandBody::SetLimit(s) => format!("set_limit {:?} {:?} = {}", s.scope, s.kind, s.value),
        CommandBody::SetTradingState(s) => {
            format!("set_trading_state {:?} {}", s.scope, snake(s.state))
        }
        CommandBody::KillSwitch(k) => format!("kill_switch {:?} {}", k.scope, snake(k.action)),
        b => keel_engine::core::COMMAND_KIND_NAMES[keel_engine::core::command_kind_index(b)]
            .to_string(),
    }
}

/// Reads the journal at `dir` and lists rejects and admin actions between `from` and `to`.
pub fn risk(
    dir: &Path,
    config: &CoreConfig,
    from: Option<Point>,
    to: Option<Point>,
) -> Result<Vec<RiskRow>, ScanError> {
    let names = Names::new(config);
    let mut reader = open_reader(dir)?;
    let mut rows = Vec::new();
    let mut input: Option<(u64, u64, Command)> = None;
    let mut admin_row: Option<usize> = None;
    while let Some(rec) = reader.next()? {
        let (seq, ts) = (rec.seq, rec.ts_ns);
        let in_range =
            from.is_none_or(|p| p.admits_from(seq, ts)) && to.is_none_or(|p| p.admits_to(seq, ts));
        match decode(&rec)? {
            Entry::Input { seq, cmd } => {
                input = Some((seq, ts, cmd));
                admin_row = None;
                let admin = matches!(
                    cmd.body,
                    CommandBody::SetLimit(_)
                        | CommandBody::SetTradingState(_)
                        | CommandBody::KillSwitch(_)
                );
                if admin && in_range {
                    admin_row = Some(rows.len());
                    rows.push(RiskRow {
                        seq,
                        time: utc(ts),
                        kind: "admin".into(),
                        session: cmd.session.0,
                        action: describe(&cmd),
                        account: None,
                        order_id: None,
                        cl_ord_id: String::new(),
                        instrument: String::new(),
                        result: "(no answer recorded)".into(),
                        value: String::new(),
                        limit: String::new(),
                        affected: None,
                    });
                }
            }
            Entry::Output { seq, out } => {
                let Some((_, _, cmd)) = input else { continue };
                if let (OutputBody::AdminAck(a), Some(i)) = (&out.body, admin_row) {
                    let row = &mut rows[i];
                    row.affected = Some(a.affected);
                    match &a.reject {
                        Some(r) => (row.result, row.value, row.limit) = cells(r),
                        None => row.result = "ok".into(),
                    }
                    continue;
                }
                if !in_range {
                    continue;
                }
                let mut row = RiskRow {
                    seq,
                    time: utc(out.ts.0),
                    kind: "reject".into(),
                    session: cmd.session.0,
                    action: describe(&cmd),
                    account: None,
                    order_id: None,
                    cl_ord_id: String::new(),
                    instrument: String::new(),
                    result: String::new(),
                    value: String::new(),
                    limit: String::new(),
                    affected: None,
                };
                let reject = match &out.body {
                    OutputBody::ExecReport(x) => {
                        row.account = Some(x.account.0);
                        row.order_id = (x.order_id.0 != 0).then_some(x.order_id.0);
                        row.cl_ord_id = x.cl_ord_id.to_string();
                        row.instrument = names.symbol(x.instrument);
                        x.reject
                    }
                    OutputBody::CancelReject(x) => {
                        row.account = Some(x.account.0);
                        row.order_id = (x.order_id.0 != 0).then_some(x.order_id.0);
                        row.cl_ord_id = x.cl_ord_id.to_string();
                        Some(x.reject)
                    }
                    OutputBody::MassCancelReport(x) => {
                        row.cl_ord_id = x.cl_ord_id.to_string();
                        row.affected = Some(x.affected);
                        x.reject
                    }
                    OutputBody::AdminAck(x) => x.reject,
                    OutputBody::Anomaly(x) => {
                        row.kind = "anomaly".into();
                        row.order_id = Some(x.order_id.0);
                        Some(x.reject)
                    }
                    _ => None,
                };
                if let Some(r) = reject {
                    (row.result, row.value, row.limit) = cells(&r);
                    rows.push(row);
                }
            }
            Entry::Other { .. } => {}
        }
    }
    Ok(rows)
}
