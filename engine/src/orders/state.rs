//! The order state machine: an explicit transition table.
//!
//! [`transition`] is a pure, total function of a [`Status`] and an [`OrderEvent`]: it
//! returns the next status or a typed [`IllegalTransition`]; it never panics. The order
//! ([`crate::orders::Order`]) applies quantities and terms; this module decides only which
//! state follows which.
//!
//! # Why a status is two states
//! A pending request (cancel or replace) can be refused by the venue, and the order must
//! then return to exactly where it was. So a [`Status`] is the current state plus `prior`:
//! the state to restore on a refusal. Fills that arrive while a request is pending update
//! `prior` (New → PartiallyFilled), and a late venue ack updates it too (PendingNew → New),
//! so a refusal restores the state the order would be in had the request never been made.
//!
//! Invariants (checked by [`Status::is_consistent`]):
//! - outside [`OrderState::PendingCancel`] and [`OrderState::PendingReplace`],
//!   `prior == state`;
//! - in `PendingCancel`, `prior` is PendingNew, New or PartiallyFilled; in
//!   `PendingReplace`, it is New or PartiallyFilled.
//!
//! # Choices
//! - **Replaced** is an event outcome, not a state: a [`OrderEvent::ReplaceAck`] returns
//!   the order to its prior state (New or PartiallyFilled) with the new terms, and the
//!   core reports `ExecType::Replaced`. If the venue's new quantity leaves nothing to fill
//!   (`done`), the order is Filled.
//! - **Held** (stop, stop-limit, trailing stop, kept by the core until triggered) reports
//!   as `OrdStatus::New`: the order was accepted, as `ExecType::New` says for held stops.
//!   The venue knows nothing of it, so cancel and replace apply at once (Held →
//!   Cancelled, Held → Held) and no venue event is legal.
//! - **Cancel while a replace is pending** (and replace while a cancel is pending) is
//!   illegal: one outstanding request per order. The core answers `REQUEST_PENDING`.
//! - A **solicited** cancel ack is legal only in PendingCancel; an **unsolicited** one
//!   (IOC remainder, venue-side cancel) in every state the venue knows as working.
//! - **Terminal states** (Filled, Cancelled, Rejected, Expired) never change. They
//!   tolerate exactly these duplicates, returning the same status: a repeat of the event
//!   that ended the order (VenueReject in Rejected, CancelAck in Cancelled, Expire in
//!   Expired), and a late VenueAck in Filled (a fill that completed the order arrived
//!   before the ack). Anything else is illegal.
//! - **Submit / Hold** create an order ([`Status::initial`]); on an existing order they
//!   are illegal (a duplicate order id).

use crate::schema::{OrdStatus, RejectCode, RejectInfo};
use std::fmt;

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum OrderState {
    /// A stop, stop-limit or trailing stop kept by the core until it triggers.
    Held = 0,
    /// Sent to the venue, not yet acknowledged.
    PendingNew = 1,
    /// Acknowledged, nothing filled.
    New = 2,
    /// Acknowledged (or implied by a fill), partly filled.
    PartiallyFilled = 3,
    /// Completely filled. Terminal.
    Filled = 4,
    /// A cancel was sent; waiting for the venue.
    PendingCancel = 5,
    /// Cancelled. Terminal.
    Cancelled = 6,
    /// A replace was sent; waiting for the venue.
    PendingReplace = 7,
    /// Rejected by the venue. Terminal.
    Rejected = 8,
    /// Expired. Terminal.
    Expired = 9,
}

impl OrderState {
    /// Every state, in code order.
    pub const ALL: [OrderState; 10] = [
        OrderState::Held,
        OrderState::PendingNew,
        OrderState::New,
        OrderState::PartiallyFilled,
        OrderState::Filled,
        OrderState::PendingCancel,
        OrderState::Cancelled,
        OrderState::PendingReplace,
        OrderState::Rejected,
        OrderState::Expired,
    ];

    /// The state's stable small-integer code (used in reject numbers and digests).
    #[inline]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// True for Filled, Cancelled, Rejected and Expired: nothing more can happen.
    #[inline]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected | OrderState::Expired
        )
    }

    /// True when a cancel or replace is outstanding.
    #[inline]
    pub const fn is_pending_request(self) -> bool {
        matches!(self, OrderState::PendingCancel | OrderState::PendingReplace)
    }

    /// The FIX order status reported for this state. Held reports as New (see the
    /// module docs).
    pub const fn ord_status(self) -> OrdStatus {
        match self {
            OrderState::Held | OrderState::New => OrdStatus::New,
            OrderState::PendingNew => OrdStatus::PendingNew,
            OrderState::PartiallyFilled => OrdStatus::PartiallyFilled,
            OrderState::Filled => OrdStatus::Filled,
            OrderState::PendingCancel => OrdStatus::PendingCancel,
            OrderState::Cancelled => OrdStatus::Canceled,
            OrderState::PendingReplace => OrdStatus::PendingReplace,
            OrderState::Rejected => OrdStatus::Rejected,
            OrderState::Expired => OrdStatus::Expired,
        }
    }
}

/// Something that happens to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    /// Created and sent to a venue (creation only).
    Submit,
    /// Created and held by the core (creation only).
    Hold,
    /// A held order's trigger fired; it is sent to the venue.
    Trigger,
    /// The venue accepted the order.
    VenueAck,
    /// The venue rejected the order.
    VenueReject,
    /// An execution; `full` when it leaves nothing to fill.
    Fill {
        /// The fill completes the order.
        full: bool,
    },
    /// Keel accepted a cancel request (sent to the venue, or applied at once when held).
    CancelRequest,
    /// The venue cancelled the order.
    CancelAck {
        /// Keel did not ask (IOC remainder, venue-side cancel).
        unsolicited: bool,
    },
    /// The venue refused a cancel.
    CancelReject,
    /// Keel accepted a replace request (sent to the venue, or applied at once when held).
    ReplaceRequest,
    /// The venue applied the replace; `done` when the new quantity leaves nothing to fill.
    ReplaceAck {
        /// The new quantity equals what has filled.
        done: bool,
    },
    /// The venue refused a replace.
    ReplaceReject,
    /// The order's time ran out (reported by the venue, or decided by the core for held
    /// orders).
    Expire,
}

impl OrderEvent {
    /// The event's stable small-integer code (used in reject numbers).
    pub const fn code(self) -> u8 {
        match self {
            OrderEvent::Submit => 1,
            OrderEvent::Hold => 2,
            OrderEvent::Trigger => 3,
            OrderEvent::VenueAck => 4,
            OrderEvent::VenueReject => 5,
            OrderEvent::Fill { full: false } => 6,
            OrderEvent::Fill { full: true } => 7,
            OrderEvent::CancelRequest => 8,
            OrderEvent::CancelAck { unsolicited: false } => 9,
            OrderEvent::CancelAck { unsolicited: true } => 10,
            OrderEvent::CancelReject => 11,
            OrderEvent::ReplaceRequest => 12,
            OrderEvent::ReplaceAck { done: false } => 13,
            OrderEvent::ReplaceAck { done: true } => 14,
            OrderEvent::ReplaceReject => 15,
            OrderEvent::Expire => 16,
        }
    }

    /// Every event, in code order.
    pub const ALL: [OrderEvent; 16] = [
        OrderEvent::Submit,
        OrderEvent::Hold,
        OrderEvent::Trigger,
        OrderEvent::VenueAck,
        OrderEvent::VenueReject,
        OrderEvent::Fill { full: false },
        OrderEvent::Fill { full: true },
        OrderEvent::CancelRequest,
        OrderEvent::CancelAck { unsolicited: false },
        OrderEvent::CancelAck { unsolicited: true },
        OrderEvent::CancelReject,
        OrderEvent::ReplaceRequest,
        OrderEvent::ReplaceAck { done: false },
        OrderEvent::ReplaceAck { done: true },
        OrderEvent::ReplaceReject,
        OrderEvent::Expire,
    ];
}

/// An order's state and the state a refused request restores (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    state: OrderState,
    prior: OrderState,
}

impl Status {
    /// A status with no request outstanding.
    #[inline]
    pub const fn settled(state: OrderState) -> Status {
        Status { state, prior: state }
    }

    /// The status of a new order: PendingNew after [`OrderEvent::Submit`], Held after
    /// [`OrderEvent::Hold`]; `None` for any other event.
    pub const fn initial(event: OrderEvent) -> Option<Status> {
        match event {
            OrderEvent::Submit => Some(Status::settled(OrderState::PendingNew)),
            OrderEvent::Hold => Some(Status::settled(OrderState::Held)),
            _ => None,
        }
    }

    #[inline]
    const fn pending(state: OrderState, prior: OrderState) -> Status {
        Status { state, prior }
    }

    /// The current state.
    #[inline]
    pub const fn state(self) -> OrderState {
        self.state
    }

    /// The state a refused cancel or replace restores; equal to `state` when no request
    /// is outstanding.
    #[inline]
    pub const fn prior(self) -> OrderState {
        self.prior
    }

    /// True when the invariants in the module docs hold.
    pub const fn is_consistent(self) -> bool {
        use OrderState as S;
        match self.state {
            S::PendingCancel => matches!(self.prior, S::PendingNew | S::New | S::PartiallyFilled),
            S::PendingReplace => matches!(self.prior, S::New | S::PartiallyFilled),
            _ => self.prior as u8 == self.state as u8,
        }
    }
}

/// An event that is not allowed in a state. Journaled as an anomaly or returned as a
/// reject; never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IllegalTransition {
    /// The state the order was in (unchanged).
    pub state: OrderState,
    /// The refused event.
    pub event: OrderEvent,
}

impl IllegalTransition {
    /// As a reject: `ILLEGAL_TRANSITION: state=<state code>, event=<event code>`.
    pub const fn reject(self) -> RejectInfo {
        RejectInfo::new(
            RejectCode::IllegalTransition,
            self.state.code() as i64,
            self.event.code() as i64,
        )
    }
}

impl From<IllegalTransition> for RejectInfo {
    fn from(e: IllegalTransition) -> RejectInfo {
        e.reject()
    }
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "illegal transition: {:?} in state {:?}", self.event, self.state)
    }
}

impl std::error::Error for IllegalTransition {}

/// The transition table. Pure and total: every `(status, event)` pair gives a next status
/// or an [`IllegalTransition`]; the input status is never changed on error.
pub fn transition(from: Status, event: OrderEvent) -> Result<Status, IllegalTransition> {
    use OrderEvent as E;
    use OrderState as S;
    debug_assert!(from.is_consistent(), "inconsistent status {from:?}");
    let settled = Status::settled;
    let next = match (from.state, event) {
        // Held: the venue knows nothing of it.
        (S::Held, E::Trigger) => settled(S::PendingNew),
        (S::Held, E::CancelRequest) => settled(S::Cancelled),
        (S::Held, E::ReplaceRequest) => from,

        // Acknowledgement.
        (S::PendingNew, E::VenueAck) => settled(S::New),
        // Late or repeated ack: harmless, the order keeps its state. In PendingCancel an ack
        // of a PendingNew order means a refused cancel must now restore New.
        (S::New | S::PartiallyFilled | S::PendingReplace | S::Filled, E::VenueAck) => from,
        (S::PendingCancel, E::VenueAck) => match from.prior {
            S::PendingNew => Status::pending(S::PendingCancel, S::New),
            _ => from,
        },
        (S::PendingNew, E::VenueReject) => settled(S::Rejected),
        // The venue rejected the order before it saw the cancel.
        (S::PendingCancel, E::VenueReject) if matches!(from.prior, S::PendingNew) => {
            settled(S::Rejected)
        }

        // Fills. A fill before the ack implies the ack.
        (S::PendingNew | S::New | S::PartiallyFilled, E::Fill { full: false }) => {
            settled(S::PartiallyFilled)
        }
        (S::PendingCancel | S::PendingReplace, E::Fill { full: false }) => {
            Status::pending(from.state, S::PartiallyFilled)
        }
        (
            S::PendingNew | S::New | S::PartiallyFilled | S::PendingCancel | S::PendingReplace,
            E::Fill { full: true },
        ) => settled(S::Filled),

        // Cancel.
        (S::PendingNew | S::New | S::PartiallyFilled, E::CancelRequest) => {
            Status::pending(S::PendingCancel, from.state)
        }
        (S::PendingCancel, E::CancelAck { .. }) => settled(S::Cancelled),
        (
            S::PendingNew | S::New | S::PartiallyFilled | S::PendingReplace,
            E::CancelAck { unsolicited: true },
        ) => settled(S::Cancelled),
        (S::PendingCancel, E::CancelReject) => settled(from.prior),

        // Replace ("Replaced" returns to the prior state with the new terms).
        (S::New | S::PartiallyFilled, E::ReplaceRequest) => {
            Status::pending(S::PendingReplace, from.state)
        }
        (S::PendingReplace, E::ReplaceAck { done: false }) => settled(from.prior),
        (S::PendingReplace, E::ReplaceAck { done: true }) => settled(S::Filled),
        (S::PendingReplace, E::ReplaceReject) => settled(from.prior),

        // Expiry, from any state that is not terminal.
        (
            S::Held
            | S::PendingNew
            | S::New
            | S::PartiallyFilled
            | S::PendingCancel
            | S::PendingReplace,
            E::Expire,
        ) => settled(S::Expired),

        // Tolerated duplicates of the event that ended the order.
        (S::Cancelled, E::CancelAck { .. })
        | (S::Rejected, E::VenueReject)
        | (S::Expired, E::Expire) => from,

        (state, event) => return Err(IllegalTransition { state, event }),
    };
    debug_assert!(next.is_consistent(), "{from:?} + {event:?} gave inconsistent {next:?}");
    debug_assert!(!from.state.is_terminal() || next == from, "terminal state changed");
    Ok(next)
}

// ---- snapshot support ---------------------------------------------------------------------

impl OrderState {
    /// The state with code `code` ([`OrderState::code`]), if any.
    pub const fn from_code(code: u8) -> Option<OrderState> {
        let mut i = 0;
        while i < OrderState::ALL.len() {
            if OrderState::ALL[i] as u8 == code {
                return Some(OrderState::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

impl Status {
    /// Rebuilds a status from its two states (a snapshot restoring an order); `None` unless
    /// the pair is one the state machine can reach ([`Status::is_consistent`]).
    pub const fn from_parts(state: OrderState, prior: OrderState) -> Option<Status> {
        let status = Status { state, prior };
        if status.is_consistent() { Some(status) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderEvent as E;
    use OrderState as S;

    fn go(status: Status, events: &[OrderEvent]) -> Result<Status, IllegalTransition> {
        events.iter().try_fold(status, |s, &e| transition(s, e))
    }

    #[test]
    fn happy_path() {
        let s = go(
            Status::settled(S::PendingNew),
            &[E::VenueAck, E::Fill { full: false }, E::Fill { full: true }],
        )
        .unwrap();
        assert_eq!(s, Status::settled(S::Filled));
    }

    #[test]
    fn cancel_reject_restores_prior_updated_by_fills_and_acks() {
        let s = go(
            Status::settled(S::PendingNew),
            &[E::CancelRequest, E::VenueAck, E::Fill { full: false }],
        )
        .unwrap();
        assert_eq!((s.state(), s.prior()), (S::PendingCancel, S::PartiallyFilled));
        assert_eq!(transition(s, E::CancelReject).unwrap(), Status::settled(S::PartiallyFilled));
    }

    #[test]
    fn terminal_states_refuse_all_but_tolerated_duplicates() {
        for state in OrderState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for event in OrderEvent::ALL {
                let from = Status::settled(state);
                match transition(from, event) {
                    Ok(next) => assert_eq!(next, from),
                    Err(e) => assert_eq!(e, IllegalTransition { state, event }),
                }
            }
        }
    }

    #[test]
    fn codes_are_distinct_and_reject_carries_them() {
        let mut seen = [false; 17];
        for e in OrderEvent::ALL {
            assert!(!seen[e.code() as usize]);
            seen[e.code() as usize] = true;
        }
        let r = IllegalTransition { state: S::Filled, event: E::CancelRequest }.reject();
        assert_eq!(r, RejectInfo::new(RejectCode::IllegalTransition, 4, 8));
    }

    #[test]
    fn held_maps_to_new() {
        assert_eq!(S::Held.ord_status(), OrdStatus::New);
    }
}
