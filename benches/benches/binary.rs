//! Native binary protocol codec: encode and decode (two-step, fully validated) of every
//! message, beside the floor of a bare 64-byte copy measured in the same run.
//!
//! Encode writes the header and every field into a frame buffer; decode is what the
//! server (or client) does to a whole frame: `frame_len` (type, version, length), then
//! every field parsed and validated into the message struct.
//!
//! Run: `cargo bench -p keel-benches --bench binary`

#[path = "../../gateways/tests/binary_support/samples.rs"]
mod samples;

use criterion::{Criterion, criterion_group, criterion_main};
use keel_gateways::binary::{ServerMsg, decode_client, decode_server};
use std::hint::black_box;
use std::time::Duration;

fn floor(c: &mut Criterion) {
    let src = [0x5au8; 64];
    let mut dst = [0u8; 64];
    c.bench_function("binary/floor/memcpy_64B", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        })
    });
}

fn client_messages(c: &mut Criterion) {
    for m in samples::client_samples() {
        let name = m.msg_type().name();
        let mut buf = [0u8; 512];
        c.bench_function(&format!("binary/encode/{name}"), |b| {
            b.iter(|| black_box(black_box(&m).encode(7, &mut buf)))
        });
        let n = m.encode(7, &mut buf);
        let frame = buf[..n].to_vec();
        c.bench_function(&format!("binary/decode/{name}"), |b| {
            b.iter(|| black_box(decode_client(black_box(&frame)).unwrap()))
        });
    }
}

fn server_messages(c: &mut Criterion) {
    for m in samples::server_samples() {
        let name = m.msg_type().name();
        // Heartbeat and Logout go both ways: measured once, as client messages.
        if matches!(m, ServerMsg::Heartbeat(_) | ServerMsg::Logout(_)) {
            continue;
        }
        let mut buf = [0u8; 512];
        c.bench_function(&format!("binary/encode/{name}"), |b| {
            b.iter(|| black_box(black_box(&m).encode(7, &mut buf)))
        });
        let n = m.encode(7, &mut buf);
        let frame = buf[..n].to_vec();
        c.bench_function(&format!("binary/decode/{name}"), |b| {
            b.iter(|| black_box(decode_server(black_box(&frame)).unwrap()))
        });
    }
}

fn config() -> Criterion {
    // 2-core shared machines: short, many small samples.
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = floor, client_messages, server_messages }
criterion_main!(benches);
