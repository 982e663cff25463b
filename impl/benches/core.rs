//! Criterion benches for the core: unmask (ours, the naive loop, fastwebsockets, and a
//! memcpy of the same size for scale) and decoding 32 KiB frames packed with PUBs.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nats_ws::codec::{Outbound, Reader, WriteMasking};
use nats_ws::frame::{Frame, OpCode, apply_mask, apply_mask_naive};
use nats_ws::policy::{Compression, Framing, MaskPolicy};

const KEY: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

fn unmask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    for size in [4 * 1024, 64 * 1024, 1024 * 1024] {
        let mut buf: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let src = buf.clone();
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("nats-ws", size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut buf), KEY, 0))
        });
        g.bench_with_input(BenchmarkId::new("fastwebsockets", size), &size, |b, _| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), KEY))
        });
        g.bench_with_input(BenchmarkId::new("naive", size), &size, |b, _| {
            b.iter(|| apply_mask_naive(black_box(&mut buf), KEY, 0))
        });
        g.bench_with_input(BenchmarkId::new("memcpy", size), &size, |b, _| {
            b.iter(|| buf.copy_from_slice(black_box(&src)))
        });
    }
    g.finish();
}

/// One masked client frame of about 32 KiB holding `PUB a <n>` operations.
fn pub_frame(payload: usize) -> (Vec<u8>, usize) {
    let body = vec![b'x'; payload];
    let mut ops = Vec::new();
    let mut count = 0;
    while ops.len() < 32 * 1024 {
        ops.extend_from_slice(format!("PUB a {payload}\r\n").as_bytes());
        ops.extend_from_slice(&body);
        ops.extend_from_slice(b"\r\n");
        count += 1;
    }
    let frame = Frame::new(OpCode::Binary, &ops).masked(Some(KEY)).to_vec();
    (frame, count)
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_32k_frame_of_pubs");
    for payload in [0usize, 128, 1024] {
        let (mut frame, _count) = pub_frame(payload);
        g.throughput(Throughput::Bytes(frame.len() as u64));
        let mut reader = Reader::new(MaskPolicy::Required, Compression::Off, 1 << 20);
        let mut out = Outbound::new(Framing::Whole, Compression::Off, WriteMasking::Unmasked);
        g.bench_with_input(BenchmarkId::new("reader", payload), &payload, |b, _| {
            // Decoding unmasks in place; running it again on the same bytes re-masks them,
            // so every iteration does the same work without a copy.
            b.iter(|| {
                let mut seen = 0usize;
                let mut sink = |p: &[u8]| -> Result<(), ()> {
                    seen += p.len();
                    Ok(())
                };
                let r = reader.read(black_box(&mut frame), &mut out, &mut sink);
                black_box((r, seen))
            })
        });
        let src = frame.clone();
        let mut dst = frame.clone();
        g.bench_with_input(BenchmarkId::new("memcpy", payload), &payload, |b, _| {
            b.iter(|| dst.copy_from_slice(black_box(&src)))
        });
    }
    g.finish();
}

criterion_group!(benches, unmask, decode);
criterion_main!(benches);
