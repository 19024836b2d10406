//! A seeded stream with the proportions of a trading session, for the throughput
//! benchmarks and replay measurements beside the stress stream of
//! [`random_commands`](super::random_commands).
//!
//! Market data is most of the traffic, as on a real feed; the client's order flow is a
//! small part of it, and the venue answers every order the core sends a few commands
//! later (acks, some fills, cancel and replace acks), so orders live and die as they do at
//! a venue and the order table stays small. The stream is generated *closed loop*: a core
//! built from the same configuration applies each command as it is generated, and the
//! venue's answers name the order ids that core assigned. Replaying the stream through a
//! core of that configuration therefore reproduces the same session; through another
//! configuration the venue's answers name the wrong orders.
//!
//! Proportions of the commands (seed 7, 20 000 commands, with the market maker):
//!
//! | share | what |
//! |---|---|
//! | 85% | market data: BTC L2 level updates on `ALT` around a random-walking mid (72%; the market maker quotes there), ETH L3 adds, modifies, deletes and executions on `SIM` (10%), trade prints (3%) |
//! | 5% | client order entry: new limit orders near the touch (one in twenty marketable IOC), cancels, a few replaces |
//! | 10% | the venue's answers to the client's and the market maker's orders (acks, fills, cancel and replace acks), in order per order, never about an order already gone |
//! | 0.1% | timer ticks; admin limit changes and a kill switch (engaged for 500 commands) rarer still |

use std::collections::{HashMap, VecDeque};

use super::{
    ACCOUNT, ADMIN, ALT, BTC, CLIENT, Core, CoreConfig, ETH, SIM, SplitMix64, T0_NS, TIMER, VENUE,
    cancel, l2, limit, logons, replace,
};
use crate::schema::*;
use crate::{OrdType, OrderId, Price, Qty, Side, TimeInForce, TimestampNs};

/// Most client orders working at once; beyond it the client cancels instead of adding.
const CLIENT_WORKING_MAX: usize = 64;
/// Venue answers arrive between 1 and this many commands after the order was sent.
const VENUE_DELAY_MAX: u64 = 24;

/// A client order the generator knows of.
#[derive(Clone, Copy, Debug)]
struct ClientOrder {
    cl: u64,
    id: OrderId,
}

/// The session stream (see the module docs) of `n` commands after the logons, for a core
/// built from `config` (the fixture's [`config`](super::config) or
/// [`config_with_market_maker`](super::config_with_market_maker)).
pub fn session_commands(config: &CoreConfig, seed: u64, n: usize) -> Vec<Command> {
    let mut g = Generator {
        rng: SplitMix64(seed),
        core: Core::new(config).expect("valid config"),
        out: Vec::with_capacity(1024),
        commands: Vec::with_capacity(n + 3),
        ts: T0_NS,
        mid: 10_000,
        venue_queue: VecDeque::new(),
        last_due: HashMap::new(),
        working: Vec::new(),
        next_cl: 0,
        next_exec: 0,
        next_l3: 0,
        l3_live: Vec::new(),
        killed_until: None,
    };
    for c in logons() {
        g.push(c);
    }
    for i in 0..n as u64 {
        g.step(i);
    }
    g.commands
}

struct Generator {
    rng: SplitMix64,
    core: Core,
    out: Vec<Output>,
    commands: Vec<Command>,
    ts: u64,
    mid: i64,
    /// Venue answers due at a command index.
    venue_queue: VecDeque<(u64, CommandBody)>,
    /// The last answer scheduled per order: a venue answers about one order in order.
    last_due: HashMap<OrderId, u64>,
    /// The client's orders the venue has or will have.
    working: Vec<ClientOrder>,
    next_cl: u64,
    next_exec: u64,
    next_l3: u64,
    /// ETH orders resting on `SIM`: (venue order id, price, quantity).
    l3_live: Vec<(u64, i64, i64)>,
    /// While the kill switch is engaged: the command index that releases it.
    killed_until: Option<u64>,
}

impl Generator {
    fn step(&mut self, i: u64) {
        self.ts += 200 + self.rng.below(1_800);
        if let Some(&(due, body)) = self.venue_queue.front()
            && due <= i
        {
            self.venue_queue.pop_front();
            return self.send(VENUE, body, i);
        }
        if self.killed_until.is_some_and(|until| until <= i) {
            self.killed_until = None;
            let action = KillSwitchAction::Release;
            let body =
                CommandBody::KillSwitch(KillSwitch { scope: Scope::Account(ACCOUNT), action });
            return self.send(ADMIN, body, i);
        }
        let roll = self.rng.below(10_000);
        let side = if self.rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let (session, body) = match roll {
            0..=7_999 => (VENUE, self.btc_level(side)),
            8_000..=9_099 => (VENUE, self.eth_l3(side)),
            9_100..=9_449 => (VENUE, self.btc_trade()),
            9_450..=9_749 => match self.client_new(side) {
                Some(body) => (CLIENT, body),
                None => (VENUE, self.btc_level(side)),
            },
            9_750..=9_959 => match self.client_cancel() {
                Some(body) => (CLIENT, body),
                None => (VENUE, self.btc_level(side)),
            },
            9_960..=9_987 => match self.client_replace() {
                Some(body) => (CLIENT, body),
                None => (VENUE, self.btc_level(side)),
            },
            9_988..=9_997 => (TIMER, CommandBody::Timer(Timer {})),
            9_998 => (
                ADMIN,
                CommandBody::SetLimit(SetLimit {
                    scope: LimitScope::Account(ACCOUNT),
                    kind: LimitKind::MaxOrderQty,
                    value: 1_000 + self.rng.below(1_000) as i64,
                }),
            ),
            _ if self.killed_until.is_none() && self.rng.below(10) == 0 => {
                self.killed_until = Some(i + 500);
                let action = KillSwitchAction::Engage;
                (
                    ADMIN,
                    CommandBody::KillSwitch(KillSwitch { scope: Scope::Account(ACCOUNT), action }),
                )
            }
            _ => (TIMER, CommandBody::Timer(Timer {})),
        };
        self.send(session, body, i);
    }

    /// A level update near the touch; the mid drifts a tick at a time.
    fn btc_level(&mut self, side: Side) -> CommandBody {
        if self.rng.below(8) == 0 {
            self.mid += self.rng.below(3) as i64 - 1;
        }
        let offset = 1 + self.rng.below(10) as i64;
        let price = if side == Side::Buy { self.mid - offset } else { self.mid + offset };
        // A fifth of the updates delete a level.
        let qty = if self.rng.below(5) == 0 { 0 } else { 1 + self.rng.below(50) as i64 };
        l2(BTC, ALT, side, price, qty)
    }

    fn btc_trade(&mut self) -> CommandBody {
        let price = self.mid + self.rng.below(5) as i64 - 2;
        CommandBody::Trade(MarketTrade {
            instrument: BTC,
            venue: ALT,
            price: Price(price),
            qty: Qty(1 + self.rng.below(5) as i64),
            aggressor: None,
            exchange_ts: TimestampNs(self.ts),
        })
    }

    /// ETH on the L3 venue: adds, and modifies, deletes and executions of live orders.
    fn eth_l3(&mut self, side: Side) -> CommandBody {
        let exchange_ts = TimestampNs(self.ts);
        let roll = self.rng.below(10);
        if self.l3_live.len() < 8 || (roll < 4 && self.l3_live.len() < 200) {
            self.next_l3 += 1;
            let price = if side == Side::Buy {
                5_000 - self.rng.below(10) as i64
            } else {
                5_001 + self.rng.below(10) as i64
            };
            let qty = 1 + self.rng.below(9) as i64;
            self.l3_live.push((self.next_l3, price, qty));
            return CommandBody::L3Add(L3Add {
                instrument: ETH,
                venue: SIM,
                venue_order_id: self.next_l3,
                side,
                price: Price(price),
                qty: Qty(qty),
                exchange_ts,
            });
        }
        let k = self.rng.below(self.l3_live.len() as u64) as usize;
        let (venue_order_id, price, qty) = self.l3_live[k];
        match roll {
            4..=5 => {
                let qty = 1 + self.rng.below(9) as i64;
                self.l3_live[k].2 = qty;
                CommandBody::L3Modify(L3Modify {
                    instrument: ETH,
                    venue: SIM,
                    venue_order_id,
                    price: Price(price),
                    qty: Qty(qty),
                    exchange_ts,
                })
            }
            6 => {
                // Part of it, or all of it (which removes it from the book).
                let executed = 1 + self.rng.below(qty as u64) as i64;
                if executed == qty {
                    self.l3_live.swap_remove(k);
                } else {
                    self.l3_live[k].2 = qty - executed;
                }
                CommandBody::L3Execute(L3Execute {
                    instrument: ETH,
                    venue: SIM,
                    venue_order_id,
                    qty: Qty(executed),
                    price: Price(price),
                    exchange_ts,
                })
            }
            _ => {
                self.l3_live.swap_remove(k);
                CommandBody::L3Delete(L3Delete {
                    instrument: ETH,
                    venue: SIM,
                    venue_order_id,
                    exchange_ts,
                })
            }
        }
    }

    fn client_new(&mut self, side: Side) -> Option<CommandBody> {
        if self.working.len() >= CLIENT_WORKING_MAX {
            return self.client_cancel();
        }
        self.next_cl += 1;
        let away = 1 + self.rng.below(6) as i64;
        let price = if side == Side::Buy { self.mid - away } else { self.mid + away };
        let mut o =
            limit(&format!("S{}", self.next_cl), side, price, 1 + self.rng.below(10) as i64);
        if self.rng.below(20) == 0 {
            // Marketable: through the touch, immediate or cancel.
            o.price = Price(if side == Side::Buy { self.mid + 3 } else { self.mid - 3 });
            o.tif = TimeInForce::Ioc;
        }
        Some(CommandBody::NewOrder(o))
    }

    fn client_cancel(&mut self) -> Option<CommandBody> {
        if self.working.is_empty() {
            return None;
        }
        let k = self.rng.below(self.working.len() as u64) as usize;
        let target = self.working[k].cl;
        self.next_cl += 1;
        Some(cancel(&format!("S{}", self.next_cl), &format!("S{target}")))
    }

    fn client_replace(&mut self) -> Option<CommandBody> {
        if self.working.is_empty() {
            return None;
        }
        let k = self.rng.below(self.working.len() as u64) as usize;
        let target = self.working[k].cl;
        self.next_cl += 1;
        let price = self.mid - 2 - self.rng.below(4) as i64;
        Some(replace(&format!("S{}", self.next_cl), &format!("S{target}"), price, 5))
    }

    /// Applies the command to the generator's core and schedules the venue's answers to
    /// what it sent.
    fn send(&mut self, session: crate::SessionId, body: CommandBody, i: u64) {
        let cmd = Command { ts: TimestampNs(self.ts), session, body };
        self.push(cmd);
        for k in 0..self.out.len() {
            let out = self.out[k].body;
            self.answer(&out, i);
        }
    }

    fn push(&mut self, cmd: Command) {
        self.out.clear();
        self.core.apply(&cmd, &mut self.out);
        self.commands.push(cmd);
    }

    fn delay(&mut self) -> u64 {
        1 + self.rng.below(VENUE_DELAY_MAX)
    }

    /// Schedules an answer about `order` no earlier than `due` and after every answer
    /// already scheduled about it.
    fn schedule(&mut self, order: OrderId, due: u64, body: CommandBody) {
        let last = self.last_due.entry(order).or_insert(0);
        let due = due.max(*last + 1);
        *last = due;
        // Kept in due order: a venue answers in the order it decides.
        let at = self.venue_queue.partition_point(|(d, _)| *d <= due);
        self.venue_queue.insert(at, (due, body));
    }

    fn drop_fills(&mut self, order: OrderId) {
        self.venue_queue
            .retain(|(_, b)| !matches!(b, CommandBody::VenueFill(f) if f.order_id == order));
    }

    fn answer(&mut self, out: &OutputBody, i: u64) {
        let venue_ts = TimestampNs(0);
        match *out {
            OutputBody::VenueNewOrder(v) => {
                let due = i + self.delay();
                let ack = VenueAck {
                    venue: v.venue,
                    order_id: v.order_id,
                    venue_order_id: v.order_id.0,
                    venue_ts,
                };
                self.schedule(v.order_id, due, CommandBody::VenueAck(ack));
                // Marketable orders fill at once; a quarter of the others fill later, in
                // one or two parts; an IOC's remainder is cancelled by the venue.
                let immediate = v.tif == TimeInForce::Ioc || v.ord_type == OrdType::Market;
                let mut left = v.qty.0;
                if immediate || self.rng.below(4) == 0 {
                    let mut at = due + u64::from(!immediate) * self.delay() * 8;
                    let parts = 1 + self.rng.below(2);
                    for p in 0..parts {
                        let qty = if p + 1 == parts { left } else { (left / 2).max(1) };
                        if qty <= 0 || left <= 0 {
                            break;
                        }
                        left -= qty;
                        at += 1;
                        self.next_exec += 1;
                        let fill = VenueFill {
                            venue: v.venue,
                            order_id: v.order_id,
                            exec_id: self.next_exec,
                            price: if v.price.0 > 0 { v.price } else { Price(self.mid) },
                            qty: Qty(qty),
                            fee: 0,
                            liquidity: if immediate { Liquidity::Taker } else { Liquidity::Maker },
                            venue_ts,
                        };
                        self.schedule(v.order_id, at, CommandBody::VenueFill(fill));
                    }
                    if immediate && left > 0 {
                        let ack = VenueCancelAck {
                            venue: v.venue,
                            order_id: v.order_id,
                            unsolicited: true,
                            venue_ts,
                        };
                        self.schedule(v.order_id, at + 1, CommandBody::VenueCancelAck(ack));
                    }
                }
            }
            OutputBody::VenueCancel(c) => {
                // The venue cancels what is left: fills it had not sent yet never happen.
                self.drop_fills(c.order_id);
                let due = i + self.delay();
                let ack = VenueCancelAck {
                    venue: c.venue,
                    order_id: c.order_id,
                    unsolicited: false,
                    venue_ts,
                };
                self.schedule(c.order_id, due, CommandBody::VenueCancelAck(ack));
            }
            OutputBody::VenueReplace(r) => {
                self.drop_fills(r.order_id);
                let due = i + self.delay();
                let ack = VenueReplaceAck {
                    venue: r.venue,
                    order_id: r.order_id,
                    price: r.price,
                    qty: r.qty,
                    venue_ts,
                };
                self.schedule(r.order_id, due, CommandBody::VenueReplaceAck(ack));
            }
            OutputBody::ExecReport(r) if r.session == CLIENT => {
                let cl =
                    || r.orig_cl_ord_id.unwrap_or(r.cl_ord_id).as_str()[1..].parse::<u64>().ok();
                match r.exec_type {
                    ExecType::PendingNew => {
                        if let Ok(cl) = r.cl_ord_id.as_str()[1..].parse::<u64>() {
                            self.working.push(ClientOrder { cl, id: r.order_id });
                        }
                    }
                    ExecType::Replaced => {
                        // The order answers to its new id from now on.
                        if let (Some(old), Ok(new)) =
                            (cl(), r.cl_ord_id.as_str()[1..].parse::<u64>())
                            && let Some(o) = self.working.iter_mut().find(|o| o.cl == old)
                        {
                            o.cl = new;
                        }
                    }
                    ExecType::Canceled | ExecType::Rejected | ExecType::Expired => {
                        self.working.retain(|o| o.id != r.order_id);
                    }
                    ExecType::Trade if r.leaves_qty.0 == 0 => {
                        self.working.retain(|o| o.id != r.order_id);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{config, config_with_market_maker};
    use super::*;

    #[test]
    fn the_session_is_mostly_market_data_and_orders_live_and_die() {
        let mm = config_with_market_maker();
        let commands = session_commands(&mm, 7, 20_000);
        assert_eq!(commands, session_commands(&mm, 7, 20_000), "deterministic");
        let mut core = Core::new(&mm).unwrap();
        let mut out = Vec::new();
        for c in &commands {
            core.apply(c, &mut out);
        }
        let k = core.counters();
        let kinds = &k.commands_by_kind;
        let market: u64 = kinds[10..=17].iter().sum();
        assert!(market * 100 > 80 * commands.len() as u64, "market data {market}");
        assert!(kinds[0] > 400 && kinds[1] > 200, "new {} cancel {}", kinds[0], kinds[1]);
        assert!(k.fills > 100, "fills {}", k.fills);
        // The venue answers name real orders: few anomalies, and orders do not pile up.
        assert!(k.anomalies * 100 < k.outputs, "anomalies {} of {}", k.anomalies, k.outputs);
        assert!(core.orders().len() < 200, "working orders {}", core.orders().len());
        // Another configuration gets its own session.
        assert_ne!(session_commands(&config(), 7, 2_000), commands[..2_003].to_vec());
    }
}
