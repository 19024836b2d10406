//! Deserializing a validated archived [`Command`] into a `Command` the caller keeps,
//! variant by variant.
//!
//! # Contract
//! [`command_into`] leaves in `out` exactly the value `rkyv::deserialize` returns for the
//! same archive (tested in `crate::log`). The match over the archived body is exhaustive,
//! so a command kind added to the schema does not compile until it is listed here.
//!
//! Why: rkyv's derived deserializer builds the whole enum as one value, which the
//! optimizer turns into a bag of scalars shared by every variant and reassembles field by
//! field at the end (about 50 instructions for a 128-byte command, before the copy into
//! the caller's `Command`). Storing each variant where it goes, in its own arm, is a few
//! loads and stores.

use keel_engine::schema::{Command, CommandBody};
use rkyv::rancor::{Failure, Strategy};
use rkyv::{Archive, Deserialize};

/// Writes the command `a` holds into `out`. `a` must have passed rkyv's checks (every
/// `&ArchivedCommand` reachable from safe code has).
// Always inlined into the caller, so that the stores go straight to where `out` is.
#[inline(always)]
pub fn command_into(a: &<Command as Archive>::Archived, out: &mut Command) -> Result<(), Failure> {
    type A = <CommandBody as Archive>::Archived;
    use CommandBody as B;
    let mut unit = ();
    let s = Strategy::<(), Failure>::wrap(&mut unit);
    macro_rules! bodies {
        ($($v:ident),* $(,)?) => {
            match &a.body {
                $(A::$v(x) => out.body = B::$v(x.deserialize(s)?),)*
            }
        };
    }
    out.ts = a.ts.deserialize(s)?;
    out.session = a.session.deserialize(s)?;
    bodies!(
        NewOrder,
        CancelOrder,
        ReplaceOrder,
        MassCancel,
        VenueAck,
        VenueReject,
        VenueFill,
        VenueCancelAck,
        VenueReplaceAck,
        VenueCancelReject,
        L2Update,
        L3Add,
        L3Modify,
        L3Delete,
        L3Execute,
        Trade,
        Snapshot,
        VenueStatus,
        SessionLogon,
        SessionLogout,
        Timer,
        SetLimit,
        SetTradingState,
        KillSwitch,
    );
    Ok(())
}
