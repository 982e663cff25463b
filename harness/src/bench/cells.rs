//! One cell of the matrix against a started server: `wsBenchPub` and `wsBenchSub`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::bench::conn::{Endpoint, NatsConn, WsConn};
use crate::bench::scan::{Event, Expect, Scanner};
use crate::bench::target::Started;
use crate::bench::{Cell, Direction, REPLY_TIMEOUT, Rng, SUBJECT, pub_batch, pub_proto};
use crate::peer::frames::data_frame;

/// How long a cell runs.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub enum Amount {
    /// Publish for this long, then flush (PING/PONG) or drain.
    Duration(Duration),
    /// Publish exactly this many messages per publisher (Go's `b.N`).
    Messages(u64),
}

/// Knobs for the sub cells and seeds.
#[derive(Debug, Clone, Copy)]
pub struct RunOpts {
    /// Duration or count.
    pub amount: Amount,
    /// Sub cells: the publisher stays at most this many wire bytes ahead of the slowest
    /// subscriber (0 = unpaced, as Go's benchmark; a slow consumer then fails the cell).
    pub window_bytes: usize,
    /// Seed for mask keys.
    pub seed: u64,
    /// Pub cells: run the verification pass (the sink cannot deliver, so it skips it).
    pub verify: bool,
}

/// What a cell measured. Every counted message was verified (content and size).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Measured {
    /// Go's `b.N`: messages per publishing connection (pub) or published (sub).
    pub ops: u64,
    /// Messages handled in total: `conns × ops` (pub: ingested; sub: delivered).
    pub total_msgs: u64,
    /// Seconds from the start signal to the last PONG (pub) or last delivery (sub).
    pub elapsed_secs: f64,
    /// `total_msgs / elapsed`.
    pub msgs_per_sec: f64,
    /// Go's ns/op: `elapsed / ops`.
    pub ns_per_op: f64,
    /// Go's MB/s for pub cells: wire bytes per op (after compression) × conns / elapsed.
    pub wire_mb_per_sec: f64,
    /// Payload bytes per second over all connections.
    pub payload_mb_per_sec: f64,
    /// Messages whose bytes were checked by a subscriber (sub: all; pub: the
    /// verification pass run before the timed part).
    pub verified: u64,
}

/// Runs one cell.
pub fn run(
    started: &Started,
    cell: Cell,
    payload: &[u8],
    opts: &RunOpts,
) -> Result<Measured, String> {
    match cell.direction {
        Direction::Pub => run_pub(started, cell, payload, opts),
        Direction::Sub => run_sub(started, cell, payload, opts),
    }
}

/// Sends the cell's frames once with a plain TCP subscriber listening, and checks that
/// every message arrives intact: a server that skips parsing cannot pass.
fn verify_pub(
    started: &Started,
    cell: Cell,
    payload: &[u8],
    frames: (&[u8], u64, &[u8]),
    seed: u64,
) -> Result<u64, String> {
    let (batch_frame, pb, single_frame) = frames;
    let mut sub = NatsConn::handshake(&started.nats, format!("SUB {SUBJECT} 1\r\n").as_bytes())?;
    let mut ws = WsConn::handshake(&started.ws, cell.compress, seed, b"")?;
    ws.write_all(batch_frame)?;
    ws.write_all(batch_frame)?;
    ws.write_all(single_frame)?;
    ws.flush_ping()?;
    let want = 2 * pb + 1;
    let mut scanner = Scanner::expecting(Expect::new(SUBJECT, "1", payload));
    let deadline = Instant::now() + REPLY_TIMEOUT;
    let mut events = Vec::new();
    while scanner.count < want {
        if Instant::now() >= deadline {
            return Err(format!(
                "verification: {} of {want} messages arrived",
                scanner.count
            ));
        }
        sub.pump(&mut |b: &[u8]| scanner.feed(b, &mut events))?;
    }
    sub.write_all(b"UNSUB 1\r\nPING\r\n")?;
    sub.flush()?;
    sub.wait_pong()?;
    if scanner.count != want {
        return Err(format!(
            "verification: {} messages for {want} sent",
            scanner.count
        ));
    }
    Ok(want)
}

fn run_pub(
    started: &Started,
    cell: Cell,
    payload: &[u8],
    opts: &RunOpts,
) -> Result<Measured, String> {
    let proto = pub_proto(payload);
    let limit = match opts.amount {
        Amount::Messages(m) => m,
        Amount::Duration(_) => u64::MAX,
    };
    let (batch, pb) = pub_batch(&proto, limit);
    let mut rng = Rng::new(opts.seed);
    let key = rng.key();
    let batch_frame = data_frame(&batch, cell.compress, key)?;
    let single_frame = data_frame(&proto, cell.compress, key)?;
    let verified = if opts.verify {
        verify_pub(
            started,
            cell,
            payload,
            (&batch_frame, pb, &single_frame),
            rng.next_u64(),
        )?
    } else {
        0
    };

    let mut conns = Vec::new();
    for _ in 0..cell.conns {
        conns.push(WsConn::handshake(
            &started.ws,
            cell.compress,
            rng.next_u64(),
            b"",
        )?);
    }
    let barrier = Arc::new(Barrier::new(cell.conns + 1));
    let batch_frame = Arc::new(batch_frame);
    let single_frame = Arc::new(single_frame);
    let amount = opts.amount;
    let mut handles = Vec::new();
    for mut c in conns {
        let barrier = Arc::clone(&barrier);
        let batch_frame = Arc::clone(&batch_frame);
        let single_frame = Arc::clone(&single_frame);
        handles.push(std::thread::spawn(move || -> Result<u64, String> {
            barrier.wait();
            let start = Instant::now();
            let mut sent = 0u64;
            match amount {
                Amount::Messages(m) => {
                    for _ in 0..m / pb {
                        c.write_all(&batch_frame)?;
                    }
                    for _ in 0..m % pb {
                        c.write_all(&single_frame)?;
                    }
                    sent = m;
                }
                Amount::Duration(d) => {
                    while start.elapsed() < d {
                        c.write_all(&batch_frame)?;
                        sent += pb;
                    }
                }
            }
            c.flush_ping()?;
            Ok(sent)
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let mut sent = Vec::new();
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(n)) => sent.push(n),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("publisher thread panicked".to_owned());
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(e) = first_err {
        return Err(e);
    }
    let total: u64 = sent.iter().sum();
    let ops = total / cell.conns as u64;
    // Go: avg = len(sendBuf)/pb (averaged with the single-op frame when extra > 0).
    let mut avg = batch_frame.len() as f64 / pb as f64;
    if matches!(amount, Amount::Messages(m) if m % pb > 0) {
        avg = (avg + single_frame.len() as f64) / 2.0;
    }
    Ok(Measured {
        ops,
        total_msgs: total,
        elapsed_secs: elapsed,
        msgs_per_sec: total as f64 / elapsed,
        ns_per_op: elapsed * 1e9 / ops.max(1) as f64,
        wire_mb_per_sec: avg * total as f64 / elapsed / 1e6,
        payload_mb_per_sec: (payload.len() as u64 * total) as f64 / elapsed / 1e6,
        verified,
    })
}

/// Shared progress of one sub cell.
struct SubShared {
    counts: Vec<AtomicU64>,
    final_total: AtomicU64,
    failed: AtomicBool,
}

fn run_sub(
    started: &Started,
    cell: Cell,
    payload: &[u8],
    opts: &RunOpts,
) -> Result<Measured, String> {
    let mut rng = Rng::new(opts.seed);
    let mut subs = Vec::new();
    for _ in 0..cell.conns {
        subs.push(WsConn::handshake(
            &started.ws,
            cell.compress,
            rng.next_u64(),
            format!("SUB {SUBJECT} 1\r\n").as_bytes(),
        )?);
    }
    let mut publisher = NatsConn::handshake(&started.nats, b"")?;
    let proto = pub_proto(payload);
    let (chunk, k) = pub_batch(&proto, u64::MAX);
    let shared = Arc::new(SubShared {
        counts: (0..cell.conns).map(|_| AtomicU64::new(0)).collect(),
        final_total: AtomicU64::new(u64::MAX),
        failed: AtomicBool::new(false),
    });
    let hard_deadline = match opts.amount {
        Amount::Duration(d) => d + Duration::from_secs(60),
        Amount::Messages(_) => Duration::from_secs(300),
    };
    let barrier = Arc::new(Barrier::new(cell.conns + 1));
    let mut handles = Vec::new();
    for (i, mut ws) in subs.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        let barrier = Arc::clone(&barrier);
        let expect = Expect::new(SUBJECT, "1", payload);
        handles.push(std::thread::spawn(
            move || -> Result<(u64, Instant), String> {
                let mut scanner = Scanner::expecting(expect);
                let mut events = Vec::new();
                barrier.wait();
                let start = Instant::now();
                let result = (|| loop {
                    let fin = shared.final_total.load(Ordering::Acquire);
                    if scanner.count >= fin {
                        if scanner.count > fin {
                            return Err(format!("{} messages for {fin} published", scanner.count));
                        }
                        return Ok((scanner.count, Instant::now()));
                    }
                    if shared.failed.load(Ordering::Relaxed) {
                        return Err("stopped".to_owned());
                    }
                    if start.elapsed() > hard_deadline {
                        return Err(format!("timed out with {} messages", scanner.count));
                    }
                    ws.pump(&mut |b: &[u8]| scanner.feed(b, &mut events))?;
                    shared.counts[i].store(scanner.count, Ordering::Release);
                    for e in events.drain(..) {
                        if e == Event::Ping {
                            ws.send_data(b"PONG\r\n")?;
                            ws.flush()?;
                        }
                    }
                })();
                if result.is_err() {
                    shared.failed.store(true, Ordering::Relaxed);
                }
                result
            },
        ));
    }
    let window_msgs = if opts.window_bytes == 0 {
        u64::MAX
    } else {
        (opts.window_bytes / proto.len().max(1)).max(2 * k as usize) as u64
    };
    barrier.wait();
    let start = Instant::now();
    let mut published = 0u64;
    let target = match opts.amount {
        Amount::Messages(m) => m,
        Amount::Duration(_) => u64::MAX,
    };
    let pub_result = (|| -> Result<(), String> {
        loop {
            if let Amount::Duration(d) = opts.amount
                && start.elapsed() >= d
            {
                break;
            }
            let n = k.min(target - published);
            if n == 0 {
                break;
            }
            // Pacing: stay within the window of the slowest subscriber.
            loop {
                let slowest = shared
                    .counts
                    .iter()
                    .map(|c| c.load(Ordering::Acquire))
                    .min()
                    .unwrap_or(0);
                if (published + n).saturating_sub(slowest) <= window_msgs {
                    break;
                }
                if shared.failed.load(Ordering::Relaxed) || start.elapsed() > hard_deadline {
                    return Err("subscribers stopped progressing".to_owned());
                }
                std::thread::sleep(Duration::from_micros(20));
            }
            if n == k {
                publisher.write_all(&chunk)?;
            } else {
                publisher.write_all(&chunk[..proto.len() * n as usize])?;
            }
            published += n;
        }
        publisher.flush()
    })();
    shared.final_total.store(published, Ordering::Release);
    if pub_result.is_err() {
        shared.failed.store(true, Ordering::Relaxed);
    }
    let mut last = start;
    let mut delivered = 0u64;
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok((n, at))) => {
                delivered += n;
                last = last.max(at);
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("subscriber thread panicked".to_owned());
            }
        }
    }
    if let Some(e) = first_err.or(pub_result.err()) {
        return Err(e);
    }
    let elapsed = (last - start).as_secs_f64();
    Ok(Measured {
        ops: published,
        total_msgs: delivered,
        elapsed_secs: elapsed,
        msgs_per_sec: delivered as f64 / elapsed,
        ns_per_op: elapsed * 1e9 / published.max(1) as f64,
        wire_mb_per_sec: 0.0,
        payload_mb_per_sec: (payload.len() as u64 * delivered) as f64 / elapsed / 1e6,
        verified: delivered,
    })
}

/// The endpoints a cell needs, for error messages.
pub fn describe(ws: &Endpoint, nats: &Endpoint) -> String {
    format!(
        "{}://{} nats://{}",
        if ws.tls.is_some() { "wss" } else { "ws" },
        ws.addr,
        nats.addr
    )
}
