//! The administrative messages' specifications (what Keel accepts in each).

use crate::fix::spec::MessageSpec;
use crate::fix::tags::{msg_type as mt, tag};

/// EncodedTextLen / EncodedText, allowed wherever Text is.
const ENCODED_TEXT_LEN: u32 = 354;
const ENCODED_TEXT: u32 = 355;
/// RawDataLength / RawData, allowed on Logon (some engines carry credentials there).
const RAW_DATA_LENGTH: u32 = 95;
const RAW_DATA: u32 = 96;
/// MaxMessageSize (383), TestMessageIndicator (464): informative, accepted on Logon.
const MAX_MESSAGE_SIZE: u32 = 383;
const TEST_MESSAGE_INDICATOR: u32 = 464;

pub(crate) const HEARTBEAT: MessageSpec = MessageSpec {
    msg_type: mt::HEARTBEAT,
    required: &[],
    optional: &[tag::TEST_REQ_ID],
    groups: &[],
};

pub(crate) const TEST_REQUEST: MessageSpec = MessageSpec {
    msg_type: mt::TEST_REQUEST,
    required: &[tag::TEST_REQ_ID],
    optional: &[],
    groups: &[],
};

pub(crate) const RESEND_REQUEST: MessageSpec = MessageSpec {
    msg_type: mt::RESEND_REQUEST,
    required: &[tag::BEGIN_SEQ_NO, tag::END_SEQ_NO],
    optional: &[],
    groups: &[],
};

pub(crate) const REJECT: MessageSpec = MessageSpec {
    msg_type: mt::REJECT,
    required: &[tag::REF_SEQ_NUM],
    optional: &[
        tag::REF_TAG_ID,
        tag::REF_MSG_TYPE,
        tag::SESSION_REJECT_REASON,
        tag::TEXT,
        ENCODED_TEXT_LEN,
        ENCODED_TEXT,
    ],
    groups: &[],
};

pub(crate) const SEQUENCE_RESET: MessageSpec = MessageSpec {
    msg_type: mt::SEQUENCE_RESET,
    required: &[tag::NEW_SEQ_NO],
    optional: &[tag::GAP_FILL_FLAG],
    groups: &[],
};

pub(crate) const LOGOUT: MessageSpec = MessageSpec {
    msg_type: mt::LOGOUT,
    required: &[],
    optional: &[tag::TEXT, ENCODED_TEXT_LEN, ENCODED_TEXT],
    groups: &[],
};

pub(crate) const LOGON: MessageSpec = MessageSpec {
    msg_type: mt::LOGON,
    required: &[tag::ENCRYPT_METHOD, tag::HEART_BT_INT],
    optional: &[
        tag::RESET_SEQ_NUM_FLAG,
        tag::USERNAME,
        tag::PASSWORD,
        tag::NEXT_EXPECTED_MSG_SEQ_NUM,
        RAW_DATA_LENGTH,
        RAW_DATA,
        MAX_MESSAGE_SIZE,
        TEST_MESSAGE_INDICATOR,
    ],
    groups: &[],
};
