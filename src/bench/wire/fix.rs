//! `--protocol fix`: order-to-ack round trips over FIX 4.4, with the client library of
//! `keel_gateways::fix::client` (the session layer in the initiator role, driven
//! non-blocking from the load generator's loop).
//!
//! Each order is a NewOrderSingle: an IOC limit buy of one lot of the first instrument of
//! the embedded default configuration on its first venue (ExDestination, as the binary
//! adapter names the venue: routing by best price would refuse orders whenever no venue
//! quotes the other side), 1000 to 1063 ticks (far below any market: it never trades, and
//! the venue cancels its remainder, so nothing accumulates at any rate), with the ClOrdID `f<connection nonce>-<id>` (unique across rounds and runs on the same
//! session). Its ack is the first answer naming it: an ExecutionReport with ExecType
//! PendingNew (A, Keel accepted it and sent it to the venue) or Rejected (8), or a
//! BusinessMessageReject (j) whose BusinessRejectRefID is the ClOrdID. Later reports about
//! it (the venue's ack, the cancel of the IOC remainder) are read and ignored.
//!
//! Credentials: `demo-fix` / `demo` (the embedded default's client) logging on to the
//! CompID `KEEL`, or `KEEL_BENCH_USER` and `KEEL_PASSWORD` for another `protocol = "fix"`
//! client (the same variables as `--protocol binary`). Every logon resets the sequence
//! numbers (ResetSeqNumFlag=Y), so a round's session starts clean.

use super::{ORDER_ID_MAX, OrderIds, WireClient, WireError, WireProtocol, credentials};
use crate::bench::BenchError;
use crate::config::{Config, Resolved};
use keel_gateways::fix::client::{ClientConfig, ClientError, FixClient, NewOrder};
use keel_gateways::fix::encode::{Body, Header, write_message};
use keel_gateways::fix::message::Message;
use keel_gateways::fix::store::MemoryStore;
use keel_gateways::fix::tags::{msg_type as mt, tag};
use keel_gateways::fix::time::Precision;
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::time::Duration;

/// Distinct prices the orders cycle through (no two consecutive orders are identical).
const PRICES: i64 = 64;
/// The lowest price, ticks.
const PRICE_TICKS_MIN: i64 = 1_000;

/// The FIX adapter: what each order says, from the embedded default configuration.
#[derive(Clone, Debug)]
pub struct FixProtocol {
    comp_id: String,
    symbol: String,
    /// ExDestination: the instrument's first venue, by name.
    venue: String,
    qty: String,
    /// The order prices, as FIX decimals.
    prices: Vec<String>,
}

impl FixProtocol {
    /// The adapter for the embedded default configuration (the in-process server's; a
    /// `--target` is expected to list the same first instrument and CompID).
    pub fn new() -> Result<FixProtocol, BenchError> {
        let resolved = Config::load(None)
            .and_then(|c| c.resolve())
            .map_err(|e| BenchError::Setup(format!("the embedded default configuration: {e}")))?;
        FixProtocol::for_config(&resolved)
    }

    /// The adapter for `config`.
    pub fn for_config(config: &Resolved) -> Result<FixProtocol, BenchError> {
        let inst = config.core.instruments.first().ok_or_else(|| {
            BenchError::Setup("the configuration lists no instrument to order".into())
        })?;
        let comp_id = config.fix.as_ref().map_or_else(|| "KEEL".to_string(), |f| f.comp_id.clone());
        let venue = inst
            .venues
            .first()
            .and_then(|v| config.core.venues.iter().find(|c| c.id == *v))
            .map(|v| v.name.clone())
            .ok_or_else(|| {
                BenchError::Setup(format!("the configuration lists no venue for {}", inst.symbol))
            })?;
        let decimal = |mut d: Decimal, places: u32| {
            d.rescale(places);
            d.to_string()
        };
        let prices = (0..PRICES)
            .map(|k| {
                decimal(Decimal::from(PRICE_TICKS_MIN + k) * inst.tick_size, inst.price_precision)
            })
            .collect();
        Ok(FixProtocol {
            comp_id,
            symbol: inst.symbol.clone(),
            venue,
            qty: decimal(inst.lot_size, inst.qty_precision),
            prices,
        })
    }

    /// Bytes of one NewOrderSingle as the client writes it (header, body and trailer; the
    /// ClOrdID, MsgSeqNum and user name vary by a few bytes): the floor's frame size.
    fn sample_frame_bytes(&self) -> usize {
        let now_ns = 1_763_800_000_000_000_000;
        let mut body = Body::with_capacity(256);
        body.str(tag::CL_ORD_ID, b"f1763800000000000-1234567")
            .char(tag::HANDL_INST, b'1')
            .str(tag::SYMBOL, self.symbol.as_bytes())
            .char(tag::SIDE, b'1')
            .timestamp(tag::TRANSACT_TIME, now_ns, Precision::Millis)
            .str(tag::ORDER_QTY, self.qty.as_bytes())
            .char(tag::ORD_TYPE, b'2')
            .str(tag::PRICE, self.prices[0].as_bytes())
            .char(tag::TIME_IN_FORCE, b'3')
            .str(tag::EX_DESTINATION, self.venue.as_bytes());
        let header = Header {
            msg_type: mt::NEW_ORDER_SINGLE,
            sender: b"demo-fix",
            target: self.comp_id.as_bytes(),
            seq: 1_234_567,
            sending_time_ns: now_ns,
            orig_sending_time_ns: None,
            precision: Precision::Millis,
        };
        let mut frame = Vec::with_capacity(256);
        write_message(&mut frame, &header, body.as_bytes());
        frame.len()
    }
}

impl WireProtocol for FixProtocol {
    fn name(&self) -> &'static str {
        "fix"
    }

    fn order_bytes(&self) -> usize {
        self.sample_frame_bytes()
    }

    fn listen_addr(&self, config: &Resolved) -> Result<SocketAddr, String> {
        config.fix.as_ref().map(|f| f.listen).ok_or_else(|| {
            "the configuration turns the FIX acceptor off ([fix] listen = \"\")".into()
        })
    }

    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Box<dyn WireClient>, WireError> {
        let (user, password) = credentials("demo-fix");
        let mut config = ClientConfig::new(&user, &self.comp_id, &password);
        config.logon_timeout = timeout;
        // No resends on loopback: keep no copies of sent orders (a ResendRequest would be
        // answered with a gap fill).
        let mut client = FixClient::connect_with_store(addr, config, MemoryStore::with_limit(0))
            .map_err(client_error)?;
        client.set_nonblocking(true).map_err(client_error)?;
        Ok(Box::new(FixWireClient {
            client,
            proto: self.clone(),
            ids: OrderIds::new('f'),
            error: None,
            rejected: 0,
        }))
    }

    /// Issue #10's target for FIX order entry: the p50 within 2.0x the bare TCP echo.
    fn target_p50_ratio(&self) -> Option<f64> {
        Some(2.0)
    }
}

fn client_error(e: ClientError) -> WireError {
    match e {
        ClientError::Io(source) => WireError::Io { what: "FIX client".into(), source },
        ClientError::Ended(keel_gateways::fix::session::EndReason::Disconnected) => {
            WireError::Closed
        }
        other => WireError::Protocol(other.to_string()),
    }
}

struct FixWireClient {
    client: FixClient,
    proto: FixProtocol,
    ids: OrderIds,
    /// An answer this client cannot accept, seen inside `poll`'s callback.
    error: Option<String>,
    rejected: u64,
}

/// The ClOrdID a message answers first, if it is a first answer to an order, and whether
/// the answer is a refusal.
fn first_answer<'a>(m: &Message<'a>) -> Option<(&'a [u8], bool)> {
    match m.msg_type() {
        t if t == mt::EXECUTION_REPORT => match m.get(tag::EXEC_TYPE)? {
            b"A" => Some((m.get(tag::CL_ORD_ID)?, false)),
            b"8" => Some((m.get(tag::CL_ORD_ID)?, true)),
            _ => None,
        },
        t if t == mt::BUSINESS_MESSAGE_REJECT => Some((m.get(tag::BUSINESS_REJECT_REF_ID)?, true)),
        _ => None,
    }
}

impl WireClient for FixWireClient {
    fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        Some(self.client.as_raw_fd())
    }

    fn send_order(&mut self, id: u64) -> Result<(), WireError> {
        let mut buf = [0u8; ORDER_ID_MAX];
        let n = self.ids.write(id, &mut buf);
        let cl_ord_id = std::str::from_utf8(&buf[..n]).expect("ASCII");
        let p = &self.proto;
        let order = NewOrder {
            tif: Some(b'3'),
            ex_destination: Some(&p.venue),
            ..NewOrder::limit(
                cl_ord_id,
                &p.symbol,
                b'1',
                &p.qty,
                &p.prices[(id % PRICES as u64) as usize],
            )
        };
        self.client.send_new_order(&order).map_err(client_error)?;
        Ok(())
    }

    fn poll(&mut self, acked: &mut dyn FnMut(u64)) -> Result<usize, WireError> {
        let ids = self.ids;
        let (error, rejected) = (&mut self.error, &mut self.rejected);
        let work = self
            .client
            .poll(&mut |m| {
                let answer =
                    first_answer(m).and_then(|(cl, refused)| ids.id_of(cl).map(|id| (id, refused)));
                if let Some((id, refused)) = answer {
                    *rejected += u64::from(refused);
                    acked(id);
                } else if m.msg_type() == mt::BUSINESS_MESSAGE_REJECT && error.is_none() {
                    // A business reject that names no order of ours: say what it was.
                    let text = m.get(tag::TEXT).unwrap_or_default();
                    *error =
                        Some(format!("BusinessMessageReject: {}", String::from_utf8_lossy(text)));
                }
            })
            .map_err(client_error)?;
        match self.error.take() {
            Some(e) => Err(WireError::Protocol(e)),
            None => Ok(work),
        }
    }

    fn rejected(&self) -> u64 {
        self.rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_made_from_the_default_configuration() {
        let p = FixProtocol::new().unwrap();
        assert_eq!(p.comp_id, "KEEL");
        assert_eq!(p.symbol, "BTC-USD");
        assert_eq!(p.venue, "SIM");
        assert_eq!(p.qty, "0.001");
        assert_eq!(p.prices.first().map(String::as_str), Some("10.00"));
        assert_eq!(p.prices.last().map(String::as_str), Some("10.63"));
        // A NewOrderSingle of about 190 bytes, as the acceptor sees it.
        assert!((120..256).contains(&p.order_bytes()), "{}", p.order_bytes());
    }
}
