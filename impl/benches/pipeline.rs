//! Criterion benches for the rest of the data path: outbound collapse (1/10/100 queued
//! MSGs, whole and browser framing, compression off and on), deflate and inflate of
//! NATS-shaped streams, the NATS client-protocol parser, and the subscription list.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nats_ws::codec::{Collapsed, Outbound, WriteMasking};
use nats_ws::deflate::{INFLATE_TAIL, deflate_message, inflate_message};
use nats_ws::nats::{Op, Parser, Sublist, SublistResult};
use nats_ws::policy::{Compression, Framing};

/// Go's benchmark alphabet; `random` payloads draw from it like `sizedString`.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@$#%^&*()";

fn random_text(n: usize, seed: &mut u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            ALPHABET[(*seed % ALPHABET.len() as u64) as usize]
        })
        .collect()
}

/// Runs of 20 identical characters (what Go's `sizedStringForCompression` meant to make).
fn runs_text(n: usize, seed: &mut u64) -> Vec<u8> {
    let r = random_text(n.div_ceil(20), seed);
    (0..n).map(|i| r[i / 20]).collect()
}

/// `count` deliveries of `MSG a 1 <len>` as a server queues them.
fn msgs(count: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..count {
        out.extend_from_slice(format!("MSG a 1 {}\r\n", payload.len()).as_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn collapse(c: &mut Criterion) {
    let mut g = c.benchmark_group("collapse_1k_msgs");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let payload = random_text(1024, &mut seed);
    for n in [1usize, 10, 100] {
        let template = msgs(n, &payload);
        g.throughput(Throughput::Bytes(template.len() as u64));
        for (framing, fname) in [(Framing::Whole, "whole"), (Framing::Browser, "browser")] {
            for (compression, cname) in [
                (Compression::Off, "plain"),
                (Compression::Negotiated, "deflate"),
            ] {
                let mut out = Outbound::new(framing, compression, WriteMasking::Unmasked);
                let mut collapsed = Collapsed::new();
                let mut pending = Vec::new();
                g.bench_with_input(
                    BenchmarkId::new(format!("{fname}-{cname}"), n),
                    &n,
                    |b, _| {
                        b.iter(|| {
                            pending.extend_from_slice(black_box(&template));
                            let r = out.collapse(&mut pending, &mut collapsed);
                            let len = collapsed.len();
                            collapsed.recycle_into(&mut pending);
                            black_box((r, len))
                        })
                    },
                );
            }
        }
        let mut dst = Vec::new();
        g.bench_with_input(BenchmarkId::new("memcpy", n), &n, |b, _| {
            b.iter(|| {
                dst.clear();
                dst.extend_from_slice(black_box(&template));
                black_box(dst.len())
            })
        });
    }
    g.finish();
}

fn deflate_inflate(c: &mut Criterion) {
    let mut seed = 0x1234_5678_9abc_def1u64;
    // `same`: one payload repeated, as in Go's sub cells (every PUB carries the same
    // bytes, so a 32 KiB window finds whole-message matches); `distinct`: a fresh
    // payload per message (what real traffic of random text costs).
    let distinct = |n: usize, size: usize, seed: &mut u64| -> Vec<u8> {
        (0..n)
            .flat_map(|_| msgs(1, &random_text(size, seed)))
            .collect()
    };
    let inputs = [
        ("random-1k", msgs(1, &random_text(1024, &mut seed))),
        ("same-32k", msgs(32, &random_text(1000, &mut seed))),
        ("distinct-32k", distinct(32, 1000, &mut seed)),
        ("runs-32k", msgs(32, &runs_text(1000, &mut seed))),
        ("distinct-small-32k", distinct(256, 110, &mut seed)),
        ("distinct-1m", distinct(1024, 1000, &mut seed)),
    ];
    let mut g = c.benchmark_group("deflate");
    for (name, input) in &inputs {
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut out = Vec::with_capacity(input.len() * 2);
        g.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                let r = deflate_message(black_box(input), &mut out);
                black_box((r, out.len()))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("inflate");
    for (name, input) in &inputs {
        let mut compressed = Vec::new();
        if deflate_message(input, &mut compressed).is_err() {
            continue;
        }
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut seen = 0usize;
                let mut sink = |p: &[u8]| -> Result<(), ()> {
                    seen += p.len();
                    Ok(())
                };
                let r =
                    inflate_message(&[black_box(&compressed), &INFLATE_TAIL], 1 << 20, &mut sink);
                black_box((r.is_ok(), seen))
            })
        });
    }
    g.finish();
}

fn parser(c: &mut Criterion) {
    let mut g = c.benchmark_group("nats_parser_32k_of_pubs");
    let mut seed = 42u64;
    for size in [0usize, 128, 1024] {
        let payload = random_text(size, &mut seed);
        let mut input = Vec::new();
        let mut count = 0u64;
        while input.len() < 32 * 1024 {
            input.extend_from_slice(format!("PUB a {size}\r\n").as_bytes());
            input.extend_from_slice(&payload);
            input.extend_from_slice(b"\r\n");
            count += 1;
        }
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut p = Parser::new(1 << 20, 4096);
        g.bench_with_input(BenchmarkId::new("parse", size), &size, |b, _| {
            b.iter(|| {
                let mut pubs = 0u64;
                let r = p.parse(black_box(&input), &mut |op: Op<'_>| -> Result<(), ()> {
                    if let Op::Pub(m) = op {
                        pubs += 1;
                        black_box(m.payload.len());
                    }
                    Ok(())
                });
                assert!(r.is_ok() && pubs == count);
            })
        });
    }
    g.finish();
}

fn sublist(c: &mut Criterion) {
    let mut g = c.benchmark_group("sublist_match");
    g.throughput(Throughput::Elements(1));
    let mut one: Sublist<u32> = Sublist::new();
    let _ = one.insert(b"a", None, 1);
    let mut res = SublistResult::default();
    g.bench_function("1 sub, literal a", |b| {
        b.iter(|| {
            one.matches(black_box(b"a"), &mut res);
            black_box(res.psubs.len())
        })
    });
    let mut big: Sublist<u32> = Sublist::new();
    for i in 0..1000u32 {
        let _ = big.insert(format!("orders.{}.created", i % 100).as_bytes(), None, i);
        let _ = big.insert(format!("users.{i}.>").as_bytes(), None, i);
    }
    let _ = big.insert(b"orders.*.created", Some(b"workers"), 5000);
    let _ = big.insert(b"orders.>", None, 5001);
    g.bench_function("2002 subs, 10 plain + queue + > match", |b| {
        b.iter(|| {
            big.matches(black_box(b"orders.42.created"), &mut res);
            black_box((res.psubs.len(), res.qsubs.len()))
        })
    });
    g.bench_function("2002 subs, no match", |b| {
        b.iter(|| {
            big.matches(black_box(b"inventory.42.updated"), &mut res);
            black_box(res.psubs.len())
        })
    });
    g.finish();
}

criterion_group!(benches, collapse, deflate_inflate, parser, sublist);
criterion_main!(benches);
