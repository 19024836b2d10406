//! `--protocol binary`: order-to-ack round trips over Keel's native binary protocol, with
//! the client library of `keel_gateways::binary::client`.
//!
//! Each order is an IOC limit buy of one lot of the first instrument, a few ticks from a
//! low price (so it never trades, and the venue cancels its remainder: nothing accumulates
//! in the order table or the books at any rate), with the client order id
//! `b<connection nonce>-<id>` (unique across rounds and runs on the same session). Its ack
//! is the first report naming it: `OrderAck` pending-new (Keel accepted it and sent it to
//! the venue) or `OrderReject`; later reports about it (the unsolicited cancel of the IOC
//! remainder) are read and ignored.
//!
//! Credentials: `demo-bin` / `demo` (the embedded default's client), or
//! `KEEL_BENCH_USER` and `KEEL_PASSWORD` for another `protocol = "binary"` client.

use super::{ORDER_ID_MAX, OrderIds, WireClient, WireError, WireProtocol, credentials};
use crate::config::Resolved;
use keel_engine::schema::{ExecType, OrderFlags};
use keel_engine::{ClOrdId, InstrumentId, OrdType, Price, Qty, Side, TimeInForce, VenueId};
use keel_gateways::binary::client::{BinaryClient, ClientConfig, ClientError, NO_REPLAY};
use keel_gateways::binary::msg::orders::NewOrder;
use keel_gateways::binary::{ServerMsg, wire::Body};
use std::net::SocketAddr;
use std::time::Duration;

/// The binary protocol's adapter.
#[derive(Clone, Debug, Default)]
pub struct BinaryProtocol;

impl WireProtocol for BinaryProtocol {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn order_bytes(&self) -> usize {
        <NewOrder as Body>::FRAME_LEN
    }

    fn listen_addr(&self, config: &Resolved) -> Result<SocketAddr, String> {
        config.binary.as_ref().map(|b| b.listen).ok_or_else(|| {
            "the configuration turns the binary listener off ([binary] listen = \"\")".into()
        })
    }

    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Box<dyn WireClient>, WireError> {
        let (user, password) = credentials("demo-bin");
        let mut config = ClientConfig::new(addr, &user, &password);
        config.timeout = timeout;
        config.last_server_seq = NO_REPLAY;
        let client = BinaryClient::connect(&config).map_err(client_error)?;
        let instrument = client.instruments().first().map_or(InstrumentId(0), |i| i.instrument);
        let venue = client.instruments().first().map_or(VenueId(0), |i| i.venue);
        Ok(Box::new(BinaryWireClient {
            client,
            instrument,
            venue,
            ids: OrderIds::new('b'),
            rejected: 0,
        }))
    }

    /// Issue #10's target for binary order entry: the p50 within 1.5x the bare TCP echo.
    fn target_p50_ratio(&self) -> Option<f64> {
        Some(1.5)
    }
}

fn client_error(e: ClientError) -> WireError {
    match e {
        ClientError::Io(source) => WireError::Io { what: "binary client".into(), source },
        ClientError::Closed => WireError::Closed,
        other => WireError::Protocol(other.to_string()),
    }
}

struct BinaryWireClient {
    client: BinaryClient,
    instrument: InstrumentId,
    venue: VenueId,
    ids: OrderIds,
    rejected: u64,
}

impl WireClient for BinaryWireClient {
    fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        Some(self.client.as_raw_fd())
    }

    fn send_order(&mut self, id: u64) -> Result<(), WireError> {
        let order = NewOrder {
            cl_ord_id: {
                let mut buf = [0u8; ORDER_ID_MAX];
                let n = self.ids.write(id, &mut buf);
                ClOrdId::from_bytes(&buf[..n]).expect("a nonce and a number are printable")
            },
            instrument: self.instrument,
            venue: self.venue,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            flags: OrderFlags::NONE,
            pad: Default::default(),
            // Far below any market (never trades); varied so no two orders are identical.
            price: Price(1_000 + (id % 64) as i64),
            stop_price: Price(0),
            trail_ticks: 0,
            qty: Qty(1),
            display_qty: Qty(0),
            expire_at: 0,
        };
        self.client.send(order.into()).map_err(client_error)?;
        Ok(())
    }

    fn poll(&mut self, acked: &mut dyn FnMut(u64)) -> Result<usize, WireError> {
        let mut work = 0;
        while let Some(m) = self.client.poll().map_err(client_error)? {
            work += 1;
            let (first_answer, refused) = match m.msg {
                ServerMsg::OrderAck(a) if a.exec_type == ExecType::PendingNew => {
                    (Some(a.cl_ord_id), false)
                }
                ServerMsg::OrderReject(r) => (Some(r.cl_ord_id), true),
                _ => (None, false),
            };
            if let Some(id) = first_answer.and_then(|cl| self.ids.id_of(cl.as_bytes())) {
                self.rejected += u64::from(refused);
                acked(id);
            }
        }
        Ok(work)
    }
}
