//! Snapshot of a [`Taker`]'s own state: the client order ids issued so far, the order in
//! flight and the end of its cool-down.
//!
//! Layout (little-endian): format `u8` (1), ids issued `u64`, in flight (option of client
//! order id), quiet until `u64` ns.

use super::Taker;
use crate::TimestampNs;
use crate::snapshot_codec::{CodecError, Reader, Writer};
use crate::strategy::ClOrdIdSeq;

const FORMAT: u8 = 1;

impl Taker {
    pub(super) fn snapshot_state(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new();
        w.u8(FORMAT);
        w.u64(self.ids.issued());
        w.option(self.in_flight, |w, id| w.cl_ord_id(&id));
        w.u64(self.quiet_until.0);
        out.extend_from_slice(w.as_slice());
    }

    pub(super) fn restore_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.read_state(bytes).map_err(|e| format!("taker state: {e}"))
    }

    fn read_state(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        let mut r = Reader::new(bytes);
        r.tag("taker format", |b| (b == FORMAT).then_some(()))?;
        let at = r.offset();
        let issued = r.u64()?;
        let ids = ClOrdIdSeq::resume_at(issued)
            .ok_or_else(|| Reader::out_of_range_at(at, format!("{issued} ids issued")))?;
        let in_flight = r.option(|r| r.cl_ord_id())?;
        let quiet_until = TimestampNs(r.u64()?);
        r.finish()?;
        self.ids = ids;
        self.in_flight = in_flight;
        self.quiet_until = quiet_until;
        Ok(())
    }
}
