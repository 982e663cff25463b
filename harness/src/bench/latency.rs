//! Request/reply round trips over WebSocket: a requester and a responder, both WebSocket
//! clients, first with the server otherwise idle, then while publishers load it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::bench::conn::WsConn;
use crate::bench::scan::{Event, Scanner};
use crate::bench::target::Started;
use crate::bench::{Rng, pub_batch};
use crate::peer::frames::data_frame;

const INBOX: &str = "_INBOX.lat";
/// Round trips not counted while the connections warm up.
const WARMUP: usize = 200;

/// Percentiles of one phase.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Phase {
    /// `idle` or `loaded`.
    pub phase: String,
    /// Publishing connections loading the server.
    pub load_conns: usize,
    /// Round trips measured.
    pub samples: usize,
    /// Median, microseconds.
    pub p50_us: f64,
    /// 90th percentile, microseconds.
    pub p90_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Slowest, microseconds.
    pub max_us: f64,
    /// Messages per second the load publishers got through (0 when idle).
    pub load_msgs_per_sec: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the idle phase, then the loaded phase, each for `duration`.
pub fn run(
    started: &Started,
    compress: bool,
    duration: Duration,
    load_conns: usize,
) -> Result<Vec<Phase>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let responder = spawn_responder(started, compress, Arc::clone(&stop))?;
    let mut requester = WsConn::handshake(
        &started.ws,
        compress,
        7,
        format!("SUB {INBOX} 2\r\n").as_bytes(),
    )?;
    let result = (|| {
        let idle = measure(&mut requester, duration, "idle", 0, 0.0)?;
        let load_stop = Arc::new(AtomicBool::new(false));
        let mut loads = Vec::new();
        for i in 0..load_conns {
            loads.push(spawn_load(
                started,
                compress,
                i as u64 + 100,
                Arc::clone(&load_stop),
            )?);
        }
        std::thread::sleep(Duration::from_millis(200));
        let t0 = Instant::now();
        let loaded = measure(&mut requester, duration, "loaded", load_conns, 0.0);
        load_stop.store(true, Ordering::Release);
        let mut load_msgs = 0u64;
        for l in loads {
            match l.join() {
                Ok(Ok(n)) => load_msgs += n,
                Ok(Err(e)) => return Err(format!("load publisher: {e}")),
                Err(_) => return Err("load thread panicked".to_owned()),
            }
        }
        let mut loaded = loaded?;
        loaded.load_msgs_per_sec = load_msgs as f64 / t0.elapsed().as_secs_f64();
        Ok(vec![idle, loaded])
    })();
    stop.store(true, Ordering::Release);
    let _ = responder.join();
    result
}

fn measure(
    requester: &mut WsConn,
    duration: Duration,
    phase: &str,
    load_conns: usize,
    load_rate: f64,
) -> Result<Phase, String> {
    let mut scanner = Scanner::collecting();
    let mut events = Vec::new();
    let mut samples = Vec::new();
    let start = Instant::now();
    let mut seq = 0u64;
    while start.elapsed() < duration || seq < WARMUP as u64 {
        seq += 1;
        let body = format!("{seq:016}");
        let t0 = Instant::now();
        requester.send_data(format!("PUB req {INBOX} 16\r\n{body}\r\n").as_bytes())?;
        requester.flush()?;
        let deadline = t0 + crate::bench::REPLY_TIMEOUT;
        'wait: loop {
            if Instant::now() >= deadline {
                return Err(format!("no reply to request {seq}"));
            }
            requester.pump(&mut |b: &[u8]| scanner.feed(b, &mut events))?;
            for e in events.drain(..) {
                match e {
                    Event::Msg {
                        subject, payload, ..
                    } if subject == INBOX.as_bytes() => {
                        if payload != body.as_bytes() {
                            return Err(format!(
                                "reply {:?} for request {body}",
                                String::from_utf8_lossy(&payload)
                            ));
                        }
                        if seq > WARMUP as u64 {
                            samples.push(t0.elapsed().as_secs_f64() * 1e6);
                        }
                        break 'wait;
                    }
                    Event::Ping => {
                        requester.send_data(b"PONG\r\n")?;
                    }
                    _ => {}
                }
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(Phase {
        phase: phase.to_owned(),
        load_conns,
        samples: samples.len(),
        p50_us: percentile(&samples, 0.50),
        p90_us: percentile(&samples, 0.90),
        p99_us: percentile(&samples, 0.99),
        max_us: samples.last().copied().unwrap_or(0.0),
        load_msgs_per_sec: load_rate,
    })
}

fn spawn_responder(
    started: &Started,
    compress: bool,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<(), String>>, String> {
    let mut ws = WsConn::handshake(&started.ws, compress, 3, b"SUB req 1\r\n")?;
    Ok(std::thread::spawn(move || {
        let mut scanner = Scanner::collecting();
        let mut events = Vec::new();
        while !stop.load(Ordering::Acquire) {
            ws.pump(&mut |b: &[u8]| scanner.feed(b, &mut events))?;
            let mut out = Vec::new();
            for e in events.drain(..) {
                match e {
                    Event::Msg {
                        reply: Some(reply),
                        payload,
                        ..
                    } => {
                        out.extend_from_slice(b"PUB ");
                        out.extend_from_slice(&reply);
                        out.extend_from_slice(format!(" {}\r\n", payload.len()).as_bytes());
                        out.extend_from_slice(&payload);
                        out.extend_from_slice(b"\r\n");
                    }
                    Event::Ping => out.extend_from_slice(b"PONG\r\n"),
                    _ => {}
                }
            }
            if !out.is_empty() {
                ws.send_data(&out)?;
                ws.flush()?;
            }
        }
        Ok(())
    }))
}

/// A publisher of 128-byte messages on a subject nobody listens to, in 32 KiB frames.
fn spawn_load(
    started: &Started,
    compress: bool,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<u64, String>>, String> {
    let mut ws = WsConn::handshake(&started.ws, compress, seed, b"")?;
    let mut rng = Rng::new(seed);
    let payload = crate::bench::payload(crate::bench::PayloadKind::Random, 128, &mut rng);
    let mut proto = b"PUB load 128\r\n".to_vec();
    proto.extend_from_slice(&payload);
    proto.extend_from_slice(b"\r\n");
    let (batch, pb) = pub_batch(&proto, u64::MAX);
    let frame = data_frame(&batch, ws.compress, rng.key())?;
    Ok(std::thread::spawn(move || {
        let mut sent = 0u64;
        while !stop.load(Ordering::Acquire) {
            ws.write_all(&frame)?;
            sent += pb;
        }
        ws.flush_ping()?;
        Ok(sent)
    }))
}
