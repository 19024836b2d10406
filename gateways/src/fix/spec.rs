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
//!
//! Two ways to validate, with the same answers: [`validate`] scans the spec's tag lists
//! for each field (any spec, nothing prepared); [`SpecIndex::validate`] looks each tag up
//! in a table built at compile time from the spec (one load per field) and also records
//! where each body tag is ([`Located`]), so the order-entry path reads its fields without
//! another pass. The first problem found is the same either way (a property test checks
//! both against the reference model, the scans as first written).

use super::message::{Field, Message, Problem};
use super::tags::{HEADER_TAGS, SessionRejectReason as R, tag};

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
pub const SPEC_TAGS_MAX: usize = 64;

/// What a tag is to a message spec, in the order [`validate`] asks: a header tag or the
/// CheckSum (skipped), a group's NumInGroup (its first group), a body tag of the spec
/// (its index: required tags first, then optional), a member of a group (out of place
/// when met outside its group), or none of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Skip,
    Group(u8),
    Body(u8),
    Member,
    Undefined,
}

/// [`Class`] of `t` by scanning the spec's lists: the rule itself (usable in `const`).
const fn classify(spec: &MessageSpec, t: u32) -> Class {
    let mut i = 0;
    while i < HEADER_TAGS.len() {
        if HEADER_TAGS[i] == t {
            return Class::Skip;
        }
        i += 1;
    }
    if t == tag::CHECK_SUM {
        return Class::Skip;
    }
    let mut g = 0;
    while g < spec.groups.len() {
        if spec.groups[g].count_tag == t {
            return Class::Group(g as u8);
        }
        g += 1;
    }
    let mut k = 0;
    while k < spec.required.len() {
        if spec.required[k] == t {
            return Class::Body(k as u8);
        }
        k += 1;
    }
    let mut k = 0;
    while k < spec.optional.len() {
        if spec.optional[k] == t {
            return Class::Body((spec.required.len() + k) as u8);
        }
        k += 1;
    }
    let mut g = 0;
    while g < spec.groups.len() {
        let members = spec.groups[g].members;
        let mut m = 0;
        while m < members.len() {
            if members[m] == t {
                return Class::Member;
            }
            m += 1;
        }
        g += 1;
    }
    Class::Undefined
}

/// The bit of `t` in a group's members (at most 64 members).
fn member_bit(g: &GroupSpec, t: u32) -> u64 {
    debug_assert!(g.members.len() <= 64);
    g.members.iter().position(|m| *m == t).map_or(0, |i| 1u64 << i)
}

/// Reads the repeating group whose NumInGroup is field `at` of `msg`: its instances
/// (each starts with the delimiter and holds each member at most once) up to the first
/// tag that is not a member, checked against the count. Returns the index of the first
/// field after the group.
fn walk_group(msg: &Message<'_>, at: usize, g: &GroupSpec) -> Result<usize, Problem> {
    let fields = msg.refs();
    let count = msg.field_at(at).u64()?;
    let mut i = at + 1;
    let mut instances = 0u64;
    while i < fields.len() && g.members.contains(&fields[i].tag) {
        if fields[i].tag != g.delimiter {
            return Err(Problem::new(R::GroupFieldsOutOfOrder, fields[i].tag));
        }
        instances += 1;
        let mut in_instance: u64 = member_bit(g, g.delimiter);
        i += 1;
        while i < fields.len() && fields[i].tag != g.delimiter && g.members.contains(&fields[i].tag)
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
        return Err(Problem::new(R::IncorrectNumInGroup, fields[at].tag));
    }
    Ok(i)
}

/// Checks a message's body against `spec`. Returns the first problem.
pub fn validate(msg: &Message<'_>, spec: &MessageSpec) -> Result<(), Problem> {
    validate_with(msg, spec, |t| classify(spec, t), |_, _| {})
}

/// [`validate`], classifying each tag with `class` and telling `found` where each body
/// tag of the spec is (`(its index in the spec, its index in the message)`).
#[inline(always)]
fn validate_with(
    msg: &Message<'_>,
    spec: &MessageSpec,
    class: impl Fn(u32) -> Class,
    mut found: impl FnMut(usize, usize),
) -> Result<(), Problem> {
    debug_assert!(spec.required.len() + spec.optional.len() <= SPEC_TAGS_MAX);
    let fields = msg.refs();
    let mut seen: u64 = 0;
    let mut groups_seen: u32 = 0;
    let mut i = 0;
    while i < fields.len() {
        let t = fields[i].tag;
        match class(t) {
            Class::Skip => {}
            Class::Body(k) => {
                let bit = 1u64 << k;
                if seen & bit != 0 {
                    return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
                }
                seen |= bit;
                found(k as usize, i);
            }
            Class::Group(gi) => {
                let g = &spec.groups[gi as usize];
                if groups_seen & (1 << gi) != 0 {
                    return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
                }
                groups_seen |= 1 << gi;
                i = walk_group(msg, i, g)?;
                continue;
            }
            // A member outside its group (before the count, or after another tag).
            Class::Member => return Err(Problem::new(R::GroupFieldsOutOfOrder, t)),
            Class::Undefined if t == 0 => return Err(Problem::new(R::InvalidTagNumber, 0)),
            Class::Undefined => return Err(Problem::new(R::TagNotDefinedForMsgType, t)),
        }
        i += 1;
    }
    // The first required tag missing, in the spec's order.
    let required = 1u64.checked_shl(spec.required.len() as u32).map_or(u64::MAX, |b| b - 1);
    if seen & required != required {
        let k = (!seen & required).trailing_zeros() as usize;
        return Err(Problem::new(R::RequiredTagMissing, spec.required[k]));
    }
    for (gi, g) in spec.groups.iter().enumerate() {
        if g.required && groups_seen & (1 << gi) == 0 {
            return Err(Problem::new(R::RequiredTagMissing, g.count_tag));
        }
    }
    Ok(())
}

/// Tags below this are classified by one load from a [`SpecIndex`]'s table; others (none
/// of Keel's order-entry tags) by scanning the spec.
const INDEXED_TAGS: usize = 1024;

/// A message spec with every tag below [`INDEXED_TAGS`] classified at compile time, so
/// validating a field costs one load instead of scans of the spec's lists (which
/// [`validate`] does; both give the same answers: a test checks it tag by tag, and a
/// property test on random messages).
#[derive(Debug)]
pub struct SpecIndex {
    spec: &'static MessageSpec,
    /// [`Class`] per tag, packed: 0 undefined, 1 skip, 2 member, `BODY | k`, `GROUP | g`.
    class: [u8; INDEXED_TAGS],
}

const PACKED_UNDEFINED: u8 = 0;
const PACKED_SKIP: u8 = 1;
const PACKED_MEMBER: u8 = 2;
const PACKED_BODY: u8 = 0x40;
const PACKED_GROUP: u8 = 0x80;

impl SpecIndex {
    /// Indexes `spec` (meant for a `static`: the work is done at compile time).
    pub const fn new(spec: &'static MessageSpec) -> SpecIndex {
        assert!(spec.required.len() + spec.optional.len() <= SPEC_TAGS_MAX);
        assert!(spec.groups.len() <= 32);
        let mut class = [PACKED_UNDEFINED; INDEXED_TAGS];
        let mut t = 0;
        while t < INDEXED_TAGS {
            class[t] = match classify(spec, t as u32) {
                Class::Skip => PACKED_SKIP,
                Class::Group(g) => PACKED_GROUP | g,
                Class::Body(k) => PACKED_BODY | k,
                Class::Member => PACKED_MEMBER,
                Class::Undefined => PACKED_UNDEFINED,
            };
            t += 1;
        }
        SpecIndex { spec, class }
    }

    #[inline(always)]
    fn class(&self, t: u32) -> Class {
        let Some(&packed) = self.class.get(t as usize) else {
            return classify(self.spec, t);
        };
        if packed & PACKED_GROUP != 0 {
            Class::Group(packed & !PACKED_GROUP)
        } else if packed & PACKED_BODY != 0 {
            Class::Body(packed & !PACKED_BODY)
        } else {
            match packed {
                PACKED_SKIP => Class::Skip,
                PACKED_MEMBER => Class::Member,
                _ => Class::Undefined,
            }
        }
    }

    /// The index of body tag `t` in the spec (required tags first, then optional).
    #[inline(always)]
    pub fn slot(&self, t: u32) -> Option<usize> {
        match self.class(t) {
            Class::Body(k) => Some(k as usize),
            _ => None,
        }
    }

    /// [`validate`] against the indexed spec; on success, where each body tag is, so that
    /// reading one is a load, not a scan of the message.
    #[inline]
    pub fn validate<'a>(&'a self, msg: &Message<'a>) -> Result<Located<'a>, Problem> {
        let mut at = [ABSENT; SPEC_TAGS_MAX];
        validate_with(msg, self.spec, |t| self.class(t), |k, i| at[k] = i as u32)?;
        Ok(Located { msg: *msg, index: self, at })
    }
}

/// No field: an entry of [`Located`].
const ABSENT: u32 = u32::MAX;

/// The body fields of a message that passed [`SpecIndex::validate`], by tag. (The spec
/// refuses repeated tags, so each has at most one field.)
#[derive(Clone, Copy, Debug)]
pub struct Located<'a> {
    msg: Message<'a>,
    index: &'a SpecIndex,
    at: [u32; SPEC_TAGS_MAX],
}

impl<'a> Located<'a> {
    /// The field with body tag `t`, if present. `t` must be a body tag of the spec.
    #[inline]
    pub fn field(&self, t: u32) -> Option<Field<'a>> {
        debug_assert!(self.index.slot(t).is_some(), "tag {t} is not in the spec");
        let k = self.index.slot(t)?;
        let i = self.at[k];
        (i != ABSENT).then(|| self.msg.field_at(i as usize))
    }

    /// The raw value of body tag `t`, if present.
    #[inline]
    pub fn get(&self, t: u32) -> Option<&'a [u8]> {
        self.field(t).map(|f| f.value)
    }

    /// The field with body tag `t`, or "required tag missing".
    #[inline]
    pub fn require(&self, t: u32) -> Result<Field<'a>, Problem> {
        self.field(t).ok_or(Problem::new(R::RequiredTagMissing, t))
    }
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
        let got = validate(&msg, &SPEC);
        assert_eq!(INDEX.validate(&msg).err(), got.err(), "{body}");
        assert_eq!(reference_validate(&msg, &SPEC), got, "{body}");
        got
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

    /// The validation as first written (linear scans of the spec): the reference model.
    fn reference_validate(msg: &Message<'_>, spec: &MessageSpec) -> Result<(), Problem> {
        let index_of = |t: u32| {
            spec.required.iter().position(|r| *r == t).or_else(|| {
                spec.optional.iter().position(|o| *o == t).map(|i| i + spec.required.len())
            })
        };
        let fields = msg.refs();
        let mut seen: u64 = 0;
        let mut groups_seen: u32 = 0;
        let mut i = 0;
        while i < fields.len() {
            let t = fields[i].tag;
            if crate::fix::tags::is_header_tag(t) || t == tag::CHECK_SUM {
                i += 1;
                continue;
            }
            if let Some((gi, g)) = spec.groups.iter().enumerate().find(|(_, g)| g.count_tag == t) {
                if groups_seen & (1 << gi) != 0 {
                    return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
                }
                groups_seen |= 1 << gi;
                // The group walk is shared: the model checks how tags are classified.
                i = walk_group(msg, i, g)?;
                continue;
            }
            match index_of(t) {
                Some(k) => {
                    if seen & (1 << k) != 0 {
                        return Err(Problem::new(R::TagAppearsMoreThanOnce, t));
                    }
                    seen |= 1 << k;
                }
                None if spec.groups.iter().any(|g| g.members.contains(&t)) => {
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

    static INDEX: SpecIndex = SpecIndex::new(&SPEC);
    // Tags of every kind: body (required, optional), group count and members, header,
    // undefined, zero, and one beyond the indexed table.
    const TAGS: &[u32] = &[55, 262, 268, 269, 270, 271, 34, 52, 999, 0, 5000];

    proptest::proptest! {
        #[test]
        fn the_indexed_validation_agrees_with_the_reference(
            body in proptest::collection::vec(
                (proptest::sample::select(TAGS), 0u8..3), 0..12),
        ) {
            let text: String = body
                .iter()
                .map(|(t, v)| match (*t, *v) {
                    (268, v) => format!("268={v}|"),
                    (t, v) => format!("{t}=v{v}|"),
                })
                .collect();
            let m = frame(&format!("{HDR}{text}"));
            let mut d = Decoder::default();
            let msg = d.decode(&m).unwrap();
            let want = reference_validate(&msg, &SPEC);
            proptest::prop_assert_eq!(validate(&msg, &SPEC), want);
            let located = INDEX.validate(&msg);
            proptest::prop_assert_eq!(located.as_ref().err().copied(), want.err());
            if let Ok(located) = located {
                for t in [55, 262] {
                    proptest::prop_assert_eq!(located.field(t), msg.field(t));
                }
            }
        }
    }

    #[test]
    fn the_index_classifies_every_tag_as_the_spec_does() {
        for spec in [
            &SPEC,
            &crate::fix::acceptor::order_entry::NEW_ORDER_SINGLE,
            &crate::fix::acceptor::order_entry::ORDER_CANCEL_REPLACE_REQUEST,
        ] {
            let index = SpecIndex::new(spec);
            for t in (0..1100).chain([u32::MAX]) {
                assert_eq!(index.class(t), classify(spec, t), "{t}");
            }
            for (k, t) in spec.required.iter().chain(spec.optional).enumerate() {
                assert_eq!(index.slot(*t), Some(k));
            }
        }
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
