//! Writes a demo journal: `cargo run -p keel-journal --example write_demo -- DIR [RECORDS]`.
//! Then try `keel journal info DIR`, `keel journal verify DIR`, `keel journal dump DIR`.

use keel_journal::{Config, Journal, RecordKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: write_demo DIR [RECORDS]");
    let n: u64 = args.next().map(|s| s.parse().expect("RECORDS is a number")).unwrap_or(10_000);
    let config = Config { segment_size: 1 << 20, schema_hash: 0x6b65_656c, ..Config::default() };
    let mut journal = Journal::open(&dir, config).expect("open");
    for i in 0..n {
        let kind = if i % 2 == 0 { RecordKind::INPUT } else { RecordKind::OUTPUT };
        let payload = format!("record {i}");
        journal
            .append(kind, 1_700_000_000_000_000_000 + i * 1_000, payload.as_bytes())
            .expect("append");
    }
    journal.close().expect("close");
    println!("wrote {n} records to {dir}");
}
