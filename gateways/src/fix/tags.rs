//! Tag numbers, message types and enumerated values of the FIX 4.4 dialect Keel speaks.
//!
//! Only what Keel reads or writes is named here; `docs/fix.md` is the reference for the
//! dialect (which tags each message takes, which values each enumeration admits).

/// Tag numbers.
pub mod tag {
    pub const ACCOUNT: u32 = 1;
    pub const AVG_PX: u32 = 6;
    pub const BEGIN_SEQ_NO: u32 = 7;
    pub const BEGIN_STRING: u32 = 8;
    pub const BODY_LENGTH: u32 = 9;
    pub const CHECK_SUM: u32 = 10;
    pub const CL_ORD_ID: u32 = 11;
    pub const CUM_QTY: u32 = 14;
    pub const END_SEQ_NO: u32 = 16;
    pub const EXEC_ID: u32 = 17;
    pub const EXEC_INST: u32 = 18;
    pub const HANDL_INST: u32 = 21;
    pub const LAST_PX: u32 = 31;
    pub const LAST_QTY: u32 = 32;
    pub const MSG_SEQ_NUM: u32 = 34;
    pub const MSG_TYPE: u32 = 35;
    pub const NEW_SEQ_NO: u32 = 36;
    pub const ORDER_ID: u32 = 37;
    pub const ORDER_QTY: u32 = 38;
    pub const ORD_STATUS: u32 = 39;
    pub const ORD_TYPE: u32 = 40;
    pub const ORIG_CL_ORD_ID: u32 = 41;
    pub const POSS_DUP_FLAG: u32 = 43;
    pub const PRICE: u32 = 44;
    pub const REF_SEQ_NUM: u32 = 45;
    pub const SENDER_COMP_ID: u32 = 49;
    pub const SENDER_SUB_ID: u32 = 50;
    pub const SENDING_TIME: u32 = 52;
    pub const SIDE: u32 = 54;
    pub const SYMBOL: u32 = 55;
    pub const TARGET_COMP_ID: u32 = 56;
    pub const TARGET_SUB_ID: u32 = 57;
    pub const TEXT: u32 = 58;
    pub const TIME_IN_FORCE: u32 = 59;
    pub const TRANSACT_TIME: u32 = 60;
    pub const POSS_RESEND: u32 = 97;
    pub const ENCRYPT_METHOD: u32 = 98;
    pub const STOP_PX: u32 = 99;
    pub const EX_DESTINATION: u32 = 100;
    pub const CXL_REJ_REASON: u32 = 102;
    pub const ORD_REJ_REASON: u32 = 103;
    pub const HEART_BT_INT: u32 = 108;
    pub const MAX_FLOOR: u32 = 111;
    pub const TEST_REQ_ID: u32 = 112;
    pub const ORIG_SENDING_TIME: u32 = 122;
    pub const GAP_FILL_FLAG: u32 = 123;
    pub const EXPIRE_TIME: u32 = 126;
    pub const RESET_SEQ_NUM_FLAG: u32 = 141;
    pub const SENDER_LOCATION_ID: u32 = 142;
    pub const TARGET_LOCATION_ID: u32 = 143;
    pub const EXEC_TYPE: u32 = 150;
    pub const LEAVES_QTY: u32 = 151;
    pub const PEG_OFFSET_VALUE: u32 = 211;
    pub const REF_TAG_ID: u32 = 371;
    pub const REF_MSG_TYPE: u32 = 372;
    pub const SESSION_REJECT_REASON: u32 = 373;
    pub const BUSINESS_REJECT_REF_ID: u32 = 379;
    pub const BUSINESS_REJECT_REASON: u32 = 380;
    pub const LAST_MSG_SEQ_NUM_PROCESSED: u32 = 369;
    pub const CXL_REJ_RESPONSE_TO: u32 = 434;
    pub const PARTY_ID_SOURCE: u32 = 447;
    pub const PARTY_ID: u32 = 448;
    pub const PARTY_ROLE: u32 = 452;
    pub const NO_PARTY_IDS: u32 = 453;
    pub const MASS_CANCEL_REQUEST_TYPE: u32 = 530;
    pub const MASS_CANCEL_RESPONSE: u32 = 531;
    pub const MASS_CANCEL_REJECT_REASON: u32 = 532;
    pub const TOTAL_AFFECTED_ORDERS: u32 = 533;
    pub const USERNAME: u32 = 553;
    pub const PASSWORD: u32 = 554;
    pub const NEXT_EXPECTED_MSG_SEQ_NUM: u32 = 789;
}

/// Message types (tag 35).
pub mod msg_type {
    pub const HEARTBEAT: &[u8] = b"0";
    pub const TEST_REQUEST: &[u8] = b"1";
    pub const RESEND_REQUEST: &[u8] = b"2";
    pub const REJECT: &[u8] = b"3";
    pub const SEQUENCE_RESET: &[u8] = b"4";
    pub const LOGOUT: &[u8] = b"5";
    pub const EXECUTION_REPORT: &[u8] = b"8";
    pub const ORDER_CANCEL_REJECT: &[u8] = b"9";
    pub const LOGON: &[u8] = b"A";
    pub const NEW_ORDER_SINGLE: &[u8] = b"D";
    pub const ORDER_CANCEL_REQUEST: &[u8] = b"F";
    pub const ORDER_CANCEL_REPLACE_REQUEST: &[u8] = b"G";
    pub const BUSINESS_MESSAGE_REJECT: &[u8] = b"j";
    pub const ORDER_MASS_CANCEL_REQUEST: &[u8] = b"q";
    pub const ORDER_MASS_CANCEL_REPORT: &[u8] = b"r";
    pub const MARKET_DATA_REQUEST: &[u8] = b"V";
    pub const MARKET_DATA_SNAPSHOT_FULL_REFRESH: &[u8] = b"W";
    pub const MARKET_DATA_INCREMENTAL_REFRESH: &[u8] = b"X";

    /// True for the session-level (administrative) message types.
    pub fn is_admin(t: &[u8]) -> bool {
        matches!(t, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
    }

    /// True when `t` is a message type of the FIX 4.4 specification (whether or not Keel
    /// supports it): the others get a session-level Reject, reason "Invalid MsgType".
    pub fn is_fix44(t: &[u8]) -> bool {
        match t {
            [c] => {
                c.is_ascii_digit() || (c.is_ascii_alphabetic() && !matches!(c, b'I' | b'O' | b'U'))
            }
            [b'A', c] => c.is_ascii_uppercase(),
            [b'B', c] => (b'A'..=b'H').contains(c),
            _ => false,
        }
    }
}

/// Tags of the standard header that Keel accepts. They must come before any body field.
pub const HEADER_TAGS: &[u32] = &[
    tag::BEGIN_STRING,
    tag::BODY_LENGTH,
    tag::MSG_TYPE,
    tag::SENDER_COMP_ID,
    tag::TARGET_COMP_ID,
    tag::MSG_SEQ_NUM,
    tag::SENDING_TIME,
    tag::POSS_DUP_FLAG,
    tag::POSS_RESEND,
    tag::ORIG_SENDING_TIME,
    tag::SENDER_SUB_ID,
    tag::TARGET_SUB_ID,
    tag::SENDER_LOCATION_ID,
    tag::TARGET_LOCATION_ID,
    tag::LAST_MSG_SEQ_NUM_PROCESSED,
];

/// True for a tag of the standard header.
#[inline]
pub fn is_header_tag(t: u32) -> bool {
    header_index(t).is_some()
}

/// The position of `t` in [`HEADER_TAGS`]: one load from a table built at compile time
/// (it runs for every field decoded and validated).
#[inline]
pub fn header_index(t: u32) -> Option<u32> {
    match TAG_INFO.get(t as usize) {
        Some(&info) if info & HEADER_MASK != 0 => Some((info & HEADER_MASK) as u32 - 1),
        _ => None,
    }
}

/// True when `t` is the length tag of a data field ([`DATA_FIELDS`]): one load.
#[inline]
pub fn is_data_length_tag(t: u32) -> bool {
    matches!(TAG_INFO.get(t as usize), Some(&info) if info & DATA_LENGTH != 0)
}

/// Tags below this have an entry in [`TAG_INFO`] (every header and data length tag does).
const TAG_INFO_LEN: usize = 1024;
/// The low bits of a [`TAG_INFO`] entry: the header index + 1 (0: not a header tag).
const HEADER_MASK: u8 = 0x1f;
/// The bit of a [`TAG_INFO`] entry set for a data length tag.
const DATA_LENGTH: u8 = 0x20;

/// What the decoder needs to know of a tag, per tag below [`TAG_INFO_LEN`].
static TAG_INFO: [u8; TAG_INFO_LEN] = {
    let mut info = [0u8; TAG_INFO_LEN];
    let mut i = 0;
    while i < HEADER_TAGS.len() {
        assert!(HEADER_TAGS.len() < HEADER_MASK as usize);
        info[HEADER_TAGS[i] as usize] = i as u8 + 1;
        i += 1;
    }
    let mut i = 0;
    while i < DATA_FIELDS.len() {
        info[DATA_FIELDS[i].0 as usize] |= DATA_LENGTH;
        i += 1;
    }
    info
};

/// Length-prefixed "data" fields: `(length tag, data tag)`. The value of a data field may
/// contain SOH, so it is delimited by the length given in the field before it.
pub const DATA_FIELDS: &[(u32, u32)] = &[
    (90, 91),   // SecureDataLen, SecureData
    (93, 89),   // SignatureLength, Signature
    (95, 96),   // RawDataLength, RawData
    (212, 213), // XmlDataLen, XmlData
    (348, 349), // EncodedIssuerLen, EncodedIssuer
    (350, 351), // EncodedSecurityDescLen, EncodedSecurityDesc
    (352, 353), // EncodedListExecInstLen, EncodedListExecInst
    (354, 355), // EncodedTextLen, EncodedText
    (356, 357), // EncodedSubjectLen, EncodedSubject
    (358, 359), // EncodedHeadlineLen, EncodedHeadline
    (360, 361), // EncodedAllocTextLen, EncodedAllocText
    (362, 363), // EncodedUnderlyingIssuerLen, EncodedUnderlyingIssuer
    (364, 365), // EncodedUnderlyingSecurityDescLen, EncodedUnderlyingSecurityDesc
    (445, 446), // EncodedListStatusTextLen, EncodedListStatusText
    (618, 619), // EncodedLegIssuerLen, EncodedLegIssuer
    (621, 622), // EncodedLegSecurityDescLen, EncodedLegSecurityDesc
];

/// The data tag whose length `len_tag` gives, if it is a length tag (runs for every field
/// decoded: a `match`, so a jump table, not a scan of [`DATA_FIELDS`]; a test checks that
/// both agree).
#[inline]
pub fn data_tag_for(len_tag: u32) -> Option<u32> {
    Some(match len_tag {
        90 => 91,
        93 => 89,
        95 => 96,
        212 => 213,
        348 => 349,
        350 => 351,
        352 => 353,
        354 => 355,
        356 => 357,
        358 => 359,
        360 => 361,
        362 => 363,
        364 => 365,
        445 => 446,
        618 => 619,
        621 => 622,
        _ => return None,
    })
}

/// SessionRejectReason (373) values Keel sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SessionRejectReason {
    /// 0: the tag is not a number, or not defined by FIX.
    InvalidTagNumber = 0,
    /// 1: a required tag is missing.
    RequiredTagMissing = 1,
    /// 2: the tag is not defined for this message type (in Keel's dialect).
    TagNotDefinedForMsgType = 2,
    /// 4: `tag=` with no value.
    TagWithoutValue = 4,
    /// 5: the value is outside the values allowed.
    ValueOutOfRange = 5,
    /// 6: the value is not of the tag's data type.
    IncorrectDataFormat = 6,
    /// 9: SenderCompID or TargetCompID is not this session's.
    CompIdProblem = 9,
    /// 10: SendingTime too far from now, or OrigSendingTime after SendingTime.
    SendingTimeAccuracy = 10,
    /// 11: MsgType not defined by FIX 4.4.
    InvalidMsgType = 11,
    /// 13: a tag appears more than once.
    TagAppearsMoreThanOnce = 13,
    /// 14: a header tag after a body tag, or the trailer not last.
    TagOutOfOrder = 14,
    /// 15: a repeating group's fields out of order.
    GroupFieldsOutOfOrder = 15,
    /// 16: NumInGroup differs from the instances present.
    IncorrectNumInGroup = 16,
    /// 99: other.
    Other = 99,
}

impl SessionRejectReason {
    /// The wire value.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The standard's wording, used in Text (58).
    pub const fn text(self) -> &'static str {
        match self {
            SessionRejectReason::InvalidTagNumber => "Invalid tag number",
            SessionRejectReason::RequiredTagMissing => "Required tag missing",
            SessionRejectReason::TagNotDefinedForMsgType => "Tag not defined for this message type",
            SessionRejectReason::TagWithoutValue => "Tag specified without a value",
            SessionRejectReason::ValueOutOfRange => {
                "Value is incorrect (out of range) for this tag"
            }
            SessionRejectReason::IncorrectDataFormat => "Incorrect data format for value",
            SessionRejectReason::CompIdProblem => "CompID problem",
            SessionRejectReason::SendingTimeAccuracy => "SendingTime accuracy problem",
            SessionRejectReason::InvalidMsgType => "Invalid MsgType",
            SessionRejectReason::TagAppearsMoreThanOnce => "Tag appears more than once",
            SessionRejectReason::TagOutOfOrder => "Tag specified out of required order",
            SessionRejectReason::GroupFieldsOutOfOrder => "Repeating group fields out of order",
            SessionRejectReason::IncorrectNumInGroup => {
                "Incorrect NumInGroup count for repeating group"
            }
            SessionRejectReason::Other => "Other",
        }
    }
}

/// BusinessRejectReason (380) values Keel sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BusinessRejectReason {
    /// 0: other.
    Other = 0,
    /// 3: a FIX 4.4 message type Keel's order-entry dialect does not take.
    UnsupportedMessageType = 3,
    /// 4: Keel is stopping and takes no more orders.
    ApplicationNotAvailable = 4,
    /// 5: a field required by another field's value is missing.
    ConditionallyRequiredFieldMissing = 5,
}

impl BusinessRejectReason {
    /// The wire value.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_index_matches_the_table() {
        for (i, t) in HEADER_TAGS.iter().enumerate() {
            assert_eq!(header_index(*t), Some(i as u32));
        }
        assert_eq!(header_index(11), None);
        for (l, d) in DATA_FIELDS {
            assert_eq!(data_tag_for(*l), Some(*d));
        }
        assert_eq!(data_tag_for(11), None);
        for t in (0..2000).chain([u32::MAX, 1 << 20]) {
            let want = DATA_FIELDS.iter().find(|(l, _)| *l == t).map(|(_, d)| *d);
            assert_eq!(data_tag_for(t), want, "{t}");
            assert_eq!(header_index(t), HEADER_TAGS.iter().position(|h| *h == t).map(|i| i as u32));
            assert_eq!(is_data_length_tag(t), want.is_some(), "{t}");
        }
    }
}
