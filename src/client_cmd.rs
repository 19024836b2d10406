//! `keel client`: a person's order-entry terminal over the native binary protocol, talking
//! to a running `keel serve` (default `127.0.0.1:9879`, user `demo-bin`).
//!
//! | command | what |
//! |---|---|
//! | `place --instrument SOL-USD --side buy --qty 1 --price 150.25` | a new order; prints its reports until it works, trades out or is refused |
//! | `amend --orig ID [--price P] [--qty Q]` | cancel/replace a working order |
//! | `cancel --orig ID` / `cancel-all [--instrument X]` | cancel one / every working order |
//! | `orders` | the session's working orders |
//! | `positions` | the session's positions from its own fills (account-wide positions across every session and strategy: `keel audit positions <journal dir>`) |
//! | `top --instrument X [--depth N]` | live top of book (and depth) until Ctrl-C or `--count` updates |
//! | `shell` | all of the above, one per line, on one connection |
//!
//! Prices and quantities are decimals in the instrument's units, converted exactly to ticks
//! and lots with the tick and lot sizes the server sends at logon (a price off the tick grid
//! is refused here, naming the tick). Each one-shot command is one session logon: a client
//! configured with `cancel_on_disconnect = true` (the demo one is) has its working orders
//! cancelled when the command exits; `shell` keeps the session open.

use clap::{Args, Parser, Subcommand};
use keel_engine::schema::{ExecType, OrdStatus, OrderFlags, RejectInfo};
use keel_engine::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, VenueId};
use keel_gateways::binary::client::{BinaryClient, ClientConfig, NO_REPLAY};
use keel_gateways::binary::msg::market_data::{Depth, Subscribe, SubscribeStatus, TopOfBook};
use keel_gateways::binary::msg::orders::{
    CancelOrder, MassCancel, MassCancelScope, NewOrder, ReplaceOrder,
};
use keel_gateways::binary::msg::queries::{OrderListRequest, OrderStatus, PositionRequest};
use keel_gateways::binary::msg::reports::OrderState;
use keel_gateways::binary::msg::session::InstrumentInfo;
use keel_gateways::binary::{ServerMsg, Stream};
use rust_decimal::Decimal;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Arguments of `keel client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's binary protocol address (`[binary] listen`).
    #[arg(long, default_value = "127.0.0.1:9879")]
    pub addr: SocketAddr,
    /// Username of a `[[client]]` entry with `protocol = "binary"`.
    #[arg(long, default_value = "demo-bin")]
    pub user: String,
    /// Password (or set KEEL_PASSWORD, which keeps it out of the process list; the demo
    /// user's password "demo" is the default for `demo-bin`).
    #[arg(long)]
    pub password: Option<String>,
    /// How long to wait for answers, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// What to do.
    #[command(subcommand)]
    pub cmd: ClientCmd,
}

/// `keel client` commands (also the lines of `keel client shell`).
#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Place a new order and print its reports until it is working, done or refused.
    Place(PlaceArgs),
    /// Amend (cancel/replace) a working order's price and/or quantity.
    Amend {
        /// The order's current client order id.
        #[arg(long)]
        orig: String,
        /// New limit price (decimal); the current one if left out.
        #[arg(long)]
        price: Option<Decimal>,
        /// New total quantity (decimal, filled included); the current one if left out.
        #[arg(long)]
        qty: Option<Decimal>,
        /// Client order id for the amended order (default: generated).
        #[arg(long)]
        id: Option<String>,
    },
    /// Cancel one working order.
    Cancel {
        /// The order's current client order id.
        #[arg(long)]
        orig: String,
    },
    /// Cancel every working order of the account (or of one instrument).
    CancelAll {
        /// Only this instrument (symbol or id).
        #[arg(long)]
        instrument: Option<String>,
    },
    /// List the session's working orders.
    Orders,
    /// The session's positions, from its own fills.
    Positions,
    /// Live top of book (and depth) of one instrument.
    Top {
        /// Symbol or id.
        #[arg(long)]
        instrument: String,
        /// Levels per side to show (1..=10); 1 shows the top line only.
        #[arg(long, default_value_t = 1)]
        depth: u8,
        /// Stop after this many updates (default: until Ctrl-C).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Read commands (the ones above, without `keel client`) from standard input, one per
    /// line, on one session; reports are printed as they arrive.
    Shell,
}

/// `place` arguments.
#[derive(Debug, Args)]
pub struct PlaceArgs {
    /// Symbol or id.
    #[arg(long)]
    instrument: String,
    /// buy or sell.
    #[arg(long)]
    side: String,
    /// Quantity (decimal, in the instrument's unit).
    #[arg(long)]
    qty: Decimal,
    /// Limit price (decimal); required for limit orders.
    #[arg(long)]
    price: Option<Decimal>,
    /// limit or market.
    #[arg(long = "type", default_value = "limit")]
    ord_type: String,
    /// gtc, day, ioc or fok (default: gtc for a limit order, ioc for a market order).
    #[arg(long)]
    tif: Option<String>,
    /// Rejected rather than executed if it would take liquidity.
    #[arg(long)]
    post_only: bool,
    /// Venue id (default: the venue with the best price).
    #[arg(long)]
    venue: Option<u16>,
    /// Client order id (default: generated).
    #[arg(long)]
    id: Option<String>,
    /// Keep the session open this many seconds after the order is working, printing its
    /// fills.
    #[arg(long, default_value_t = 0.0)]
    hold: f64,
}

/// Runs `keel client`.
pub fn run(args: ClientArgs) -> ExitCode {
    match client(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keel client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client(args: ClientArgs) -> Result<(), String> {
    let password = match (&args.password, std::env::var("KEEL_PASSWORD")) {
        (Some(p), _) => p.clone(),
        (None, Ok(p)) => p,
        (None, Err(_)) if args.user == "demo-bin" => "demo".into(),
        (None, Err(_)) => return Err("give --password or set KEEL_PASSWORD".into()),
    };
    let timeout = Duration::from_secs_f64(args.timeout.max(0.1));
    let mut config = ClientConfig::new(args.addr, &args.user, &password);
    config.timeout = timeout;
    config.last_server_seq = NO_REPLAY;
    let c = BinaryClient::connect(&config)
        .map_err(|e| format!("{} at {}: {e}", args.user, args.addr))?;
    let mut t = Terminal { c, timeout, out: std::io::stdout(), next_request: 1 };
    match args.cmd {
        ClientCmd::Shell => t.shell()?,
        cmd => t.command(cmd)?,
    }
    t.c.logout().map_err(|e| e.to_string())
}

struct Terminal {
    c: BinaryClient,
    timeout: Duration,
    out: std::io::Stdout,
    next_request: u64,
}

impl Terminal {
    fn command(&mut self, cmd: ClientCmd) -> Result<(), String> {
        match cmd {
            ClientCmd::Place(p) => self.place(p),
            ClientCmd::Amend { orig, price, qty, id } => self.amend(&orig, price, qty, id),
            ClientCmd::Cancel { orig } => self.cancel(&orig),
            ClientCmd::CancelAll { instrument } => self.cancel_all(instrument.as_deref()),
            ClientCmd::Orders => self.orders(),
            ClientCmd::Positions => self.positions(),
            ClientCmd::Top { instrument, depth, count } => self.top(&instrument, depth, count),
            ClientCmd::Shell => Err("already in the shell".into()),
        }
    }

    fn shell(&mut self) -> Result<(), String> {
        #[derive(Parser)]
        #[command(name = "", no_binary_name = true)]
        struct Line {
            #[command(subcommand)]
            cmd: ClientCmd,
        }
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ack = self.c.logon_ack();
        println!(
            "session {} (account {}): commands as for `keel client`, `quit` to leave",
            ack.session, ack.account
        );
        loop {
            // Reports that arrive between commands (fills, unsolicited cancels).
            while let Some(m) = self.c.poll().map_err(|e| e.to_string())? {
                self.print_report(&m.msg, m.seq);
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    match words.as_slice() {
                        [] => continue,
                        ["quit" | "exit"] => return Ok(()),
                        _ => {}
                    }
                    match Line::try_parse_from(words) {
                        Ok(l) => {
                            if let Err(e) = self.command(l.cmd) {
                                println!("error: {e}");
                            }
                        }
                        Err(e) => println!("{e}"),
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    fn instrument(&self, key: &str) -> Result<InstrumentInfo, String> {
        let found = match key.parse::<u32>() {
            Ok(id) => self.c.instruments().iter().find(|i| i.instrument.0 == id),
            Err(_) => self.c.instrument(key),
        };
        found.copied().ok_or_else(|| {
            let known: Vec<&str> = self.c.instruments().iter().map(|i| i.symbol.as_str()).collect();
            format!("no instrument {key:?}; the server lists {}", known.join(", "))
        })
    }

    fn info_of(&self, id: InstrumentId) -> Option<InstrumentInfo> {
        self.c.instruments().iter().find(|i| i.instrument == id).copied()
    }

    fn new_id(&self) -> ClOrdId {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        format!("kc{ms}").parse().expect("a short printable id")
    }

    fn place(&mut self, p: PlaceArgs) -> Result<(), String> {
        let info = self.instrument(&p.instrument)?;
        let side = match p.side.to_ascii_lowercase().as_str() {
            "buy" | "b" => Side::Buy,
            "sell" | "s" => Side::Sell,
            other => return Err(format!("--side {other:?}: expected buy or sell")),
        };
        let ord_type = match p.ord_type.to_ascii_lowercase().as_str() {
            "limit" => OrdType::Limit,
            "market" => OrdType::Market,
            other => return Err(format!("--type {other:?}: expected limit or market")),
        };
        let tif_default = if ord_type == OrdType::Market { "ioc" } else { "gtc" };
        let tif = match p.tif.as_deref().unwrap_or(tif_default).to_ascii_lowercase().as_str() {
            "gtc" => TimeInForce::Gtc,
            "day" => TimeInForce::Day,
            "ioc" => TimeInForce::Ioc,
            "fok" => TimeInForce::Fok,
            other => return Err(format!("--tif {other:?}: expected gtc, day, ioc or fok")),
        };
        let price = match (ord_type, p.price) {
            (OrdType::Limit, None) => return Err("a limit order needs --price".into()),
            (_, Some(px)) => ticks(&info, px)?,
            (_, None) => Price(0),
        };
        let qty = lots(&info, p.qty)?;
        let cl_ord_id = match &p.id {
            Some(id) => id.parse().map_err(|e| format!("--id {id:?}: {e}"))?,
            None => self.new_id(),
        };
        let order = NewOrder {
            cl_ord_id,
            instrument: info.instrument,
            venue: VenueId(p.venue.unwrap_or(0)),
            side,
            ord_type,
            tif,
            flags: if p.post_only { OrderFlags::POST_ONLY } else { OrderFlags::NONE },
            pad: Default::default(),
            price,
            stop_price: Price(0),
            trail_ticks: 0,
            qty,
            display_qty: Qty(0),
            expire_at: 0,
        };
        self.c.send(order.into()).map_err(|e| e.to_string())?;
        println!("{}", REPORT_HEADER);
        let immediate = tif.is_immediate() || ord_type == OrdType::Market;
        self.follow(cl_ord_id, |m| match m {
            // A resting order is done once working; an immediate one once it is over.
            ServerMsg::OrderAck(a) => a.exec_type == ExecType::New && !immediate,
            ServerMsg::OrderReject(_) | ServerMsg::UnsolicitedCancel(_) => true,
            ServerMsg::Fill(f) => f.ord_status == OrdStatus::Filled,
            _ => false,
        })?;
        if p.hold > 0.0 {
            let until = Instant::now() + Duration::from_secs_f64(p.hold);
            while Instant::now() < until {
                let left = until.saturating_duration_since(Instant::now());
                if let Some(m) = self.c.recv(left).map_err(|e| e.to_string())? {
                    self.print_report(&m.msg, m.seq);
                }
            }
        }
        Ok(())
    }

    /// Prints reports until one about `id` satisfies `done` (or the timeout).
    fn follow(&mut self, id: ClOrdId, done: impl Fn(&ServerMsg) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = self.c.recv(left).map_err(|e| e.to_string())? else {
                return Err(format!("no final answer about {} within the timeout", id.as_str()));
            };
            self.print_report(&m.msg, m.seq);
            if about(&m.msg) == Some(id) && done(&m.msg) {
                return Ok(());
            }
        }
    }

    fn amend(
        &mut self,
        orig: &str,
        price: Option<Decimal>,
        qty: Option<Decimal>,
        id: Option<String>,
    ) -> Result<(), String> {
        let current = self
            .working()?
            .into_iter()
            .find(|o| o.cl_ord_id.as_str() == orig)
            .ok_or_else(|| format!("no working order {orig:?} (see `keel client orders`)"))?;
        let info = self.info_of(current.instrument).ok_or("unknown instrument")?;
        let cl_ord_id = match id {
            Some(id) => id.parse().map_err(|e| format!("--id {id:?}: {e}"))?,
            None => self.new_id(),
        };
        let msg = ReplaceOrder {
            cl_ord_id,
            orig_cl_ord_id: current.cl_ord_id,
            price: price.map(|p| ticks(&info, p)).transpose()?.unwrap_or(current.price),
            stop_price: Price(0),
            qty: qty.map(|q| lots(&info, q)).transpose()?.unwrap_or(current.qty),
            display_qty: Qty(0),
        };
        self.c.send(msg.into()).map_err(|e| e.to_string())?;
        println!("{}", REPORT_HEADER);
        self.follow(cl_ord_id, |m| {
            matches!(m, ServerMsg::ReplaceAck(a) if a.exec_type == ExecType::Replaced)
                || matches!(m, ServerMsg::CancelReject(_) | ServerMsg::UnsolicitedCancel(_))
        })
    }

    fn cancel(&mut self, orig: &str) -> Result<(), String> {
        let orig: ClOrdId = orig.parse().map_err(|e| format!("--orig {orig:?}: {e}"))?;
        let cl_ord_id = self.new_id();
        self.c
            .send(CancelOrder { cl_ord_id, orig_cl_ord_id: orig }.into())
            .map_err(|e| e.to_string())?;
        println!("{}", REPORT_HEADER);
        // The final cancel names the request and the order (`orig`); a refusal the request.
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = self.c.recv(left).map_err(|e| e.to_string())? else {
                return Err("no final answer to the cancel within the timeout".into());
            };
            self.print_report(&m.msg, m.seq);
            match m.msg {
                ServerMsg::CancelReject(r) if r.cl_ord_id == cl_ord_id => return Ok(()),
                ServerMsg::CancelAck(a)
                    if a.exec_type == ExecType::Canceled
                        && (a.cl_ord_id == cl_ord_id || a.orig_cl_ord_id == Some(orig)) =>
                {
                    return Ok(());
                }
                ServerMsg::UnsolicitedCancel(a) if a.cl_ord_id == orig => return Ok(()),
                ServerMsg::Fill(f) if f.cl_ord_id == orig && f.ord_status == OrdStatus::Filled => {
                    return Ok(());
                }
                _ => {}
            }
        }
    }

    fn cancel_all(&mut self, instrument: Option<&str>) -> Result<(), String> {
        let (scope, instrument) = match instrument {
            Some(key) => (MassCancelScope::Instrument, self.instrument(key)?.instrument),
            None => (MassCancelScope::Account, InstrumentId(0)),
        };
        let cl_ord_id = self.new_id();
        self.c
            .send(MassCancel { cl_ord_id, scope, pad: Default::default(), instrument }.into())
            .map_err(|e| e.to_string())?;
        let (m, _) =
            self.until(|m| matches!(m, ServerMsg::MassCancelAck(a) if a.cl_ord_id == cl_ord_id))?;
        if let ServerMsg::MassCancelAck(a) = m {
            match a.reject {
                None => println!("{} working orders sent a cancel", a.affected),
                Some(r) => return Err(format!("refused: {r}")),
            }
        }
        Ok(())
    }

    /// Waits for a message `want` accepts; returns it and the unsequenced ones before it
    /// (reports that arrive meanwhile are printed, not lost).
    fn until(
        &mut self,
        want: impl Fn(&ServerMsg) -> bool,
    ) -> Result<(ServerMsg, Vec<ServerMsg>), String> {
        let (m, before) = self.c.recv_until(self.timeout, want).map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        for b in before {
            if b.msg.msg_type().stream() == Stream::Server {
                self.print_report(&b.msg, b.seq);
            } else {
                rest.push(b.msg);
            }
        }
        Ok((m.msg, rest))
    }

    fn working(&mut self) -> Result<Vec<OrderStatus>, String> {
        let request_id = self.next_request;
        self.next_request += 1;
        self.c.send(OrderListRequest { request_id }.into()).map_err(|e| e.to_string())?;
        let (_, before) =
            self.until(|m| matches!(m, ServerMsg::ListEnd(e) if e.request_id == request_id))?;
        Ok(before
            .into_iter()
            .filter_map(|m| match m {
                ServerMsg::OrderStatus(s) if s.request_id == request_id => Some(s),
                _ => None,
            })
            .collect())
    }

    fn orders(&mut self) -> Result<(), String> {
        let orders = self.working()?;
        let mut rows = vec![row(&[
            "order",
            "cl_ord_id",
            "instrument",
            "side",
            "type",
            "status",
            "price",
            "qty",
            "filled",
            "leaves",
            "avg_px",
        ])];
        for o in &orders {
            let info = self.info_of(o.instrument);
            rows.push(vec![
                o.order_id.to_string(),
                o.cl_ord_id.as_str().into(),
                info.map_or(o.instrument.to_string(), |i| i.symbol.as_str().into()),
                side_name(o.side).into(),
                format!("{:?}", o.ord_type).to_lowercase(),
                status_name(o.ord_status).into(),
                px(info.as_ref(), o.price),
                qty_text(info.as_ref(), o.qty),
                qty_text(info.as_ref(), o.cum_qty),
                qty_text(info.as_ref(), o.leaves_qty),
                avg(info.as_ref(), o.cum_notional, o.cum_qty),
            ]);
        }
        print_table(&rows);
        println!("{} working", orders.len());
        Ok(())
    }

    fn positions(&mut self) -> Result<(), String> {
        let request_id = self.next_request;
        self.next_request += 1;
        self.c.send(PositionRequest { request_id }.into()).map_err(|e| e.to_string())?;
        let (_, before) =
            self.until(|m| matches!(m, ServerMsg::ListEnd(e) if e.request_id == request_id))?;
        let mut rows =
            vec![row(&["instrument", "net", "bought", "avg_buy", "sold", "avg_sell", "fills"])];
        for m in before {
            let ServerMsg::PositionReport(p) = m else { continue };
            let info = self.info_of(p.instrument);
            rows.push(vec![
                info.map_or(p.instrument.to_string(), |i| i.symbol.as_str().into()),
                qty_text(info.as_ref(), Qty(p.net_qty)),
                qty_text(info.as_ref(), Qty(p.bought_qty)),
                avg(info.as_ref(), p.bought_notional, Qty(p.bought_qty)),
                qty_text(info.as_ref(), Qty(p.sold_qty)),
                avg(info.as_ref(), p.sold_notional, Qty(p.sold_qty)),
                p.fills.to_string(),
            ]);
        }
        print_table(&rows);
        println!(
            "(this session's own fills; every account's positions: keel audit positions <journal dir>)"
        );
        Ok(())
    }

    fn top(&mut self, key: &str, depth: u8, count: Option<u64>) -> Result<(), String> {
        let info = self.instrument(key)?;
        if !(1..=10).contains(&depth) {
            return Err(format!("--depth {depth}: expected 1..=10"));
        }
        self.c
            .send(
                Subscribe {
                    instrument: info.instrument,
                    venue: VenueId(0),
                    depth,
                    pad: Default::default(),
                }
                .into(),
            )
            .map_err(|e| e.to_string())?;
        let (ack, _) = self.until(|m| matches!(m, ServerMsg::SubscribeAck(_)))?;
        if let ServerMsg::SubscribeAck(a) = ack {
            if a.status != SubscribeStatus::Subscribed {
                return Err(format!("subscription refused: {:?}", a.status));
            }
        }
        println!(
            "{:<30} {:>14} {:>12} | {:<12} {:<14} {:>12}",
            "time (UTC)", "bid_qty", "bid", "ask", "ask_qty", "last"
        );
        let mut updates = 0;
        while count.is_none_or(|n| updates < n) {
            let Some(m) = self.c.recv(Duration::from_secs(3600)).map_err(|e| e.to_string())? else {
                continue;
            };
            match m.msg {
                ServerMsg::TopOfBook(t) if t.instrument == info.instrument => {
                    print_top(&info, &t);
                    updates += 1;
                }
                ServerMsg::Depth(d) if depth > 1 && d.instrument == info.instrument => {
                    print_depth(&info, &d);
                }
                other => self.print_report(&other, m.seq),
            }
            let _ = self.out.flush();
        }
        self.c
            .send(
                Subscribe {
                    instrument: info.instrument,
                    venue: VenueId(0),
                    depth: 0,
                    pad: Default::default(),
                }
                .into(),
            )
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn print_report(&self, m: &ServerMsg, seq: u64) {
        let line = if let Some(o) = m.order_state() {
            let (what, reject, tail) = match m {
                ServerMsg::OrderReject(r) => ("reject", Some(r.reject), String::new()),
                ServerMsg::Fill(r) => {
                    let info = self.info_of(r.instrument);
                    let last = format!(
                        "  last {} @ {}",
                        qty_text(info.as_ref(), r.last_qty),
                        px(info.as_ref(), r.last_px)
                    );
                    ("fill", None, last)
                }
                ServerMsg::CancelAck(_) => ("cancel", None, String::new()),
                ServerMsg::ReplaceAck(_) => ("replace", None, String::new()),
                ServerMsg::UnsolicitedCancel(r) => {
                    ("unsolicited", r.reject, format!("  ({:?})", r.reason).to_lowercase())
                }
                _ => ("ack", None, String::new()),
            };
            self.exec_line(seq, what, &o, reject) + &tail
        } else {
            match m {
                ServerMsg::CancelReject(r) => format!(
                    "{seq:<6} {:<12} {:<16} {:<8} {:<24} refused {} of {} (order {}): {}",
                    "cxl-reject",
                    "",
                    r.order_id,
                    r.cl_ord_id.as_str(),
                    format!("{:?}", r.response_to).to_lowercase(),
                    r.orig_cl_ord_id.as_str(),
                    status_name(r.ord_status),
                    r.reject
                ),
                ServerMsg::MassCancelAck(r) => match r.reject {
                    None => format!(
                        "{seq:<6} mass cancel {}: {} orders",
                        r.cl_ord_id.as_str(),
                        r.affected
                    ),
                    Some(e) => {
                        format!("{seq:<6} mass cancel {} refused: {e}", r.cl_ord_id.as_str())
                    }
                },
                _ => return,
            }
        };
        println!("{line}");
    }

    /// One line for an execution message: the event, the order as it stands, the reject.
    fn exec_line(
        &self,
        seq: u64,
        what: &str,
        o: &OrderState,
        reject: Option<RejectInfo>,
    ) -> String {
        let info = self.info_of(o.instrument);
        let mut l = format!(
            "{seq:<6} {what:<12} {:<16} {:<8} {:<24} {:<10} {:<5} {:>12} @ {:<12} {:<17} filled {} avg {}",
            exec_name(o.exec_type),
            o.order_id.0,
            o.cl_ord_id.as_str(),
            info.map_or(o.instrument.to_string(), |i| i.symbol.as_str().to_string()),
            side_name(o.side),
            qty_text(info.as_ref(), o.qty),
            px(info.as_ref(), o.price),
            status_name(o.ord_status),
            qty_text(info.as_ref(), o.cum_qty),
            avg(info.as_ref(), o.cum_notional, o.cum_qty),
        );
        if let Some(r) = reject {
            l.push_str(&format!("  {r}"));
        }
        l
    }
}

const REPORT_HEADER: &str = "seq    report       event            order    cl_ord_id                instrument side           qty   price        status";

/// The client order id a report is about.
fn about(m: &ServerMsg) -> Option<ClOrdId> {
    match m {
        ServerMsg::CancelReject(r) => Some(r.cl_ord_id),
        m => m.order_state().map(|o| o.cl_ord_id),
    }
}

fn tick_size(i: &InstrumentInfo) -> Decimal {
    Decimal::new(i.tick_size_mantissa, i.tick_scale as u32)
}

fn lot_size(i: &InstrumentInfo) -> Decimal {
    Decimal::new(i.lot_size_mantissa, i.lot_scale as u32)
}

/// An exact conversion of a decimal to whole increments.
fn increments(what: &str, value: Decimal, step: Decimal, symbol: &str) -> Result<i64, String> {
    let n = value / step;
    if n.fract() != Decimal::ZERO {
        return Err(format!(
            "{what} {value} is not a multiple of {symbol}'s {what} increment {step}"
        ));
    }
    i64::try_from(n).map_err(|_| format!("{what} {value} is out of range"))
}

fn ticks(i: &InstrumentInfo, price: Decimal) -> Result<Price, String> {
    increments("price", price, tick_size(i), i.symbol.as_str()).map(Price)
}

fn lots(i: &InstrumentInfo, qty: Decimal) -> Result<Qty, String> {
    increments("quantity", qty, lot_size(i), i.symbol.as_str()).map(Qty)
}

fn px(i: Option<&InstrumentInfo>, p: Price) -> String {
    match i {
        Some(i) => (Decimal::from(p.0) * tick_size(i)).to_string(),
        None => format!("{}t", p.0),
    }
}

fn qty_text(i: Option<&InstrumentInfo>, q: Qty) -> String {
    match i {
        Some(i) => (Decimal::from(q.0) * lot_size(i)).normalize().to_string(),
        None => format!("{}l", q.0),
    }
}

/// Average price `notional / qty` in the instrument's price unit, to one more place than
/// the tick.
fn avg(i: Option<&InstrumentInfo>, notional: i64, qty: Qty) -> String {
    if qty.0 == 0 {
        return "-".into();
    }
    match i {
        Some(i) => {
            let ticks = Decimal::from(notional) / Decimal::from(qty.0);
            (ticks * tick_size(i)).round_dp(i.tick_scale as u32 + 1).normalize().to_string()
        }
        None => format!("{}t", notional / qty.0),
    }
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn exec_name(e: ExecType) -> &'static str {
    match e {
        ExecType::PendingNew => "pending_new",
        ExecType::New => "new",
        ExecType::Trade => "trade",
        ExecType::PendingCancel => "pending_cancel",
        ExecType::Canceled => "canceled",
        ExecType::PendingReplace => "pending_replace",
        ExecType::Replaced => "replaced",
        ExecType::Rejected => "rejected",
        ExecType::Expired => "expired",
        ExecType::Triggered => "triggered",
    }
}

fn status_name(s: OrdStatus) -> &'static str {
    match s {
        OrdStatus::PendingNew => "pending_new",
        OrdStatus::New => "new",
        OrdStatus::PartiallyFilled => "partially_filled",
        OrdStatus::Filled => "filled",
        OrdStatus::PendingCancel => "pending_cancel",
        OrdStatus::Canceled => "canceled",
        OrdStatus::PendingReplace => "pending_replace",
        OrdStatus::Rejected => "rejected",
        OrdStatus::Expired => "expired",
    }
}

fn utc(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ns % 1_000_000_000 / 1_000
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn print_top(i: &InstrumentInfo, t: &TopOfBook) {
    let side = |p: Price, q: Qty| {
        if q.0 == 0 {
            ("-".to_string(), "-".to_string())
        } else {
            (px(Some(i), p), qty_text(Some(i), q))
        }
    };
    let (bid, bid_qty) = side(t.bid_px, t.bid_qty);
    let (ask, ask_qty) = side(t.ask_px, t.ask_qty);
    let last = if t.last_qty.0 == 0 { "-".into() } else { px(Some(i), t.last_px) };
    println!(
        "{:<30} {bid_qty:>14} {bid:>12} | {ask:<12} {ask_qty:<14} {last:>12}{}",
        utc(t.time.0),
        if t.snapshot { "  (snapshot)" } else { "" }
    );
}

fn print_depth(i: &InstrumentInfo, d: &Depth) {
    let n = d.bid_levels.0.max(d.ask_levels.0) as usize;
    for k in 0..n {
        let b = (k < d.bid_levels.0 as usize).then(|| d.bids[k]);
        let a = (k < d.ask_levels.0 as usize).then(|| d.asks[k]);
        println!(
            "{:<30} {:>14} {:>12} | {:<12} {:<14}",
            format!("  level {}", k + 1),
            b.map_or(String::new(), |l| qty_text(Some(i), l.qty)),
            b.map_or(String::new(), |l| px(Some(i), l.price)),
            a.map_or(String::new(), |l| px(Some(i), l.price)),
            a.map_or(String::new(), |l| qty_text(Some(i), l.qty)),
        );
    }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.len()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(s, w)| format!("{s:<w$}")).collect();
        println!("{}", line.join("  ").trim_end());
    }
}
