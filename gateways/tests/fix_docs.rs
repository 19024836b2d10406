//! `docs/fix.md` shows real messages: every example line (`8=FIX.4.4|…`, with `|` for
//! SOH) frames with the right BodyLength and CheckSum and decodes without a problem.

use keel_gateways::fix::frame::{Scan, scan};
use keel_gateways::fix::message::Decoder;

#[test]
fn every_example_in_the_fix_doc_is_a_valid_message() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fix.md"))
        .expect("docs/fix.md");
    let mut decoder = Decoder::default();
    let mut checked = 0;
    for line in doc.lines().filter(|l| l.starts_with("8=FIX.4.4|")) {
        let bytes = line.replace('|', "\x01").into_bytes();
        assert_eq!(scan(&bytes, 4096), Scan::Frame(bytes.len()), "framing of {line}");
        let m = decoder.decode(&bytes).unwrap();
        assert_eq!(m.problem(), None, "{line}");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} examples found");
}
