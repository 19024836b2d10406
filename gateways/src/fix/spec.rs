//! Message specifications: which body tags a message type takes, which are required, and
//! its repeating groups, and the validation of a decoded message against one.
//!
//! This is Keel's data dictionary, limited to its dialect (`docs/fix.md`). A tag outside
//! the spec is refused ("Tag not defined for this message type") rather than ignored, so
//! nothing a counterparty sends is silently dropped. Header tags were checked by the
//! decoder and are skipped here.
//!
//! Groups are flat (no nested groups: none of Keel's messages needs them). An instance
//! starts with the group's delimiter tag and holds each member at most once; the group
//! ends at the first tag that is not a member. The instance count must equal NumInGroup.

use super::message::{Message, Problem};
use super::tags::{SessionRejectReason as R, is_header_tag, tag};

/// A repeating group.
#[derive(Debug)]
pub struct GroupSpec {
    /// The NumInGroup tag that counts instances.
    pub count_tag: u32,
    /// The first tag of every instance.
    pub delimiter: u32,
    /// Every tag of an instance, delimiter included.
    pub members: &'static [u32],
    /// Whether at least one instance must be present.
    pub required: bool,
}

/// The body of one message type.
#[derive(Debug)]
pub struct MessageSpec {
    /// MsgType.
    pub msg_type: &'static [u8],
    /// Body tags that must be present.
    pub required: &'static [u32],
    /// Body tags that may be present.
    pub optional: &'static [u32],
    /// Repeating groups.
    pub groups: &'static [GroupSpec],
}

/// Most distinct non-group tags a spec may list (the seen-set is a bitmask).
const SPEC_TAGS_MAX: usize = 64;

impl MessageSpec {
    fn index_of(&self, t: u32) -> Option<usize> {
        self.required
            .iter()
            .position(|r| *r == t)
            .or_else(|| self.optional.iter().position(|o| *o == t).map(|i| i + self.required.len()))
    }
}

/// The bit of `t` in a group's members (at most 64 members).
fn member_bit(g: &GroupSpec, t: u32) -> u64 {
    debug_assert!(g.members.len() <= 64);
    g.members.iter().position(|m| *m == t).map_or(0, |i| 1u64 << i)
}

/// Checks a message's body against `spec`. Returns the first problem.
pub fn validate(msg: &Message<'_>, spec: &MessageSpec) -> Result<(), Problem> {
    debug_assert!(spec.required.len() + spec.optional.len() <= SPEC_TAGS_MAX);
    let fields = msg.refs();
    let mut seen: u64 = 0;
    let mut groups_seen: u32 = 0;
    let mut i = 0;
    while i < fields.len() {
        let t = fields[i].tag;
        if is_header_tag(t) || t == tag::CHECK_SUM {
            i += 1;
            continue;
        }
        if let Some((gi, g)) = spec.groups.iter().enumerate().find(|(_, g)| g.count_tag == t) {
            if groups_seen & (1 << gi) != 0 {
                return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
            }
            groups_seen |= 1 << gi;
            let count = msg.field_at(i).u64()?;
            i += 1;
            let mut instances = 0u64;
            while i < fields.len() && g.members.contains(&fields[i].tag) {
                if fields[i].tag != g.delimiter {
                    return Err(Problem::new(R::GroupFieldsOutOfOrder, fields[i].tag));
                }
                instances += 1;
                let mut in_instance: u64 = member_bit(g, g.delimiter);
                i += 1;
                while i < fields.len()
                    && fields[i].tag != g.delimiter
                    && g.members.contains(&fields[i].tag)
                {
                    let bit = member_bit(g, fields[i].tag);
                    if in_instance & bit != 0 {
                        return Err(Problem::new(R::TagAppearsMoreThanOnce, fields[i].tag));
                    }
                    in_instance |= bit;
                    i += 1;
                }
            }
            if instances != count {
                return Err(Problem::new(R::IncorrectNumInGroup, t));
            }
            continue;
        }
        match spec.index_of(t) {
            Some(k) => {
                if seen & (1 << k) != 0 {
                    return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
                }
                seen |= 1 << k;
            }
            None if spec.groups.iter().any(|g| g.members.contains(&t)) => {
                // A member outside its group (before the count, or after another tag).
                return Err(Problem::new(R::GroupFieldsOutOfOrder, t));
            }
            None if t == 0 => return Err(Problem::new(R::InvalidTagNumber, 0)),
            None => return Err(Problem::new(R::TagNotDefinedForMsgType, t)),
        }
        i += 1;
    }
    for (k, r) in spec.required.iter().enumerate() {
        if seen & (1 << k) == 0 {
            return Err(Problem::new(R::RequiredTagMissing, *r));
        }
    }
    for (gi, g) in spec.groups.iter().enumerate() {
        if g.required && groups_seen & (1 << gi) == 0 {
            return Err(Problem::new(R::RequiredTagMissing, g.count_tag));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::message::Decoder;

    fn frame(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let head = format!("8=FIX.4.4\x019={}\x01", body.len());
        let mut m = (head + &body).into_bytes();
        let sum = crate::fix::frame::checksum(&m);
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    // A market-data-like message: one required tag, a required group of entries.
    const ENTRIES: GroupSpec =
        GroupSpec { count_tag: 268, delimiter: 269, members: &[269, 270, 271], required: true };
    const SPEC: MessageSpec =
        MessageSpec { msg_type: b"W", required: &[55], optional: &[262], groups: &[ENTRIES] };
    const HDR: &str = "35=W|49=V|56=K|34=3|52=20240101-00:00:00.000|";

    fn check(body: &str) -> Result<(), Problem> {
        let m = frame(&format!("{HDR}{body}"));
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        validate(&msg, &SPEC)
    }

    #[test]
    fn a_valid_message_passes_and_its_group_iterates() {
        let body = "55=BTC|268=2|269=0|270=100.5|271=3|269=1|271=4|270=101|";
        assert_eq!(check(body), Ok(()));
        let m = frame(&format!("{HDR}{body}"));
        let mut d = Decoder::default();
        let msg = d.decode(&m).unwrap();
        let entries: Vec<(Vec<u8>, Vec<u8>)> = msg
            .group(&ENTRIES)
            .map(|e| (e.get(269).unwrap().to_vec(), e.get(270).unwrap().to_vec()))
            .collect();
        assert_eq!(entries, [(b"0".to_vec(), b"100.5".to_vec()), (b"1".to_vec(), b"101".to_vec())]);
    }

    #[test]
    fn each_kind_of_problem_is_named() {
        let p = |r, t| Err(Problem::new(r, t));
        assert_eq!(check("268=1|269=0|"), p(R::RequiredTagMissing, 55));
        assert_eq!(check("55=BTC|"), p(R::RequiredTagMissing, 268));
        assert_eq!(check("55=BTC|55=ETH|268=1|269=0|"), p(R::TagAppearsMoreThanOnce, 55));
        assert_eq!(check("55=BTC|999=1|268=1|269=0|"), p(R::TagNotDefinedForMsgType, 999));
        assert_eq!(check("55=BTC|268=2|269=0|"), p(R::IncorrectNumInGroup, 268));
        assert_eq!(check("55=BTC|268=1|270=1|269=0|"), p(R::GroupFieldsOutOfOrder, 270));
        assert_eq!(check("55=BTC|268=1|269=0|270=1|270=2|"), p(R::TagAppearsMoreThanOnce, 270));
        assert_eq!(check("55=BTC|268=x|269=0|"), p(R::IncorrectDataFormat, 268));
        assert_eq!(check("270=1|55=BTC|268=1|269=0|"), p(R::GroupFieldsOutOfOrder, 270));
        assert_eq!(check("55=BTC|268=1|269=0|268=1|269=0|"), p(R::TagAppearsMoreThanOnce, 268));
    }
}
