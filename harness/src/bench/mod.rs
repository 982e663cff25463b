//! The Go server's `Benchmark_WS_*` matrix as a load tool that can target any server:
//! `wsBenchPub` (PUBs batched into 32 KiB masked client frames) and `wsBenchSub` (one TCP
//! publisher, WebSocket subscribers counting complete, verified MSGs), plus idle
//! connections, request/reply latency, and an in-process sink that shows the client's
//! own headroom.
//!
//! ```text
//!  cells ─► target::Server (fresh per cell: generated config, free ports) ─► pub/sub run
//!             │                                                               │
//!             └─ or --ws/--nats (already running)        verified counts ─► report (JSON)
//! ```

pub mod cells;
pub mod conn;
pub mod idle;
pub mod latency;
pub mod leaf;
pub mod report;
pub mod scan;
pub mod sink;
pub mod target;

use std::time::Duration;

/// The subject every cell uses (Go: `testWSBenchSubject`).
pub const SUBJECT: &str = "a";
/// Client batch size: PUBs are appended until the batch reaches this (Go: `bufSize`).
pub const BATCH_BYTES: usize = 32 * 1024;
/// Payload sizes of the Go matrix.
pub const SIZES: [usize; 6] = [0, 128, 1024, 4096, 8192, 32768];
/// Longest wait for any single reply (Go's `testWSFlushConn` waits 5 s; we allow more
/// because the machine is shared).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which way messages flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Direction {
    /// `wsBenchPub`: WebSocket publishers, no interest.
    Pub,
    /// `wsBenchSub`: one TCP publisher, WebSocket subscribers.
    Sub,
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    /// Direction.
    pub direction: Direction,
    /// WebSocket connections (1 or 5).
    pub conns: usize,
    /// permessage-deflate on the server and offered by the client.
    pub compress: bool,
    /// Payload bytes per message.
    pub size: usize,
}

impl Cell {
    /// All 48 cells, in the Go file's order within each direction.
    pub fn all() -> Vec<Cell> {
        let mut cells = Vec::new();
        for direction in [Direction::Pub, Direction::Sub] {
            for conns in [1, 5] {
                for size in SIZES {
                    for compress in [false, true] {
                        cells.push(Cell {
                            direction,
                            conns,
                            compress,
                            size,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The Go benchmark's name, e.g. `Benchmark_WS_Pubx1_CN___128b`.
    pub fn name(&self) -> String {
        let dir = match self.direction {
            Direction::Pub => "Pub",
            Direction::Sub => "Sub",
        };
        let c = if self.compress { "CY" } else { "CN" };
        let size = format!("{}b", self.size);
        format!("Benchmark_WS_{dir}x{}_{c}_{size:_>6}", self.conns)
    }
}

/// How payload bytes are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
pub enum PayloadKind {
    /// What Go's generators actually produce for every cell: random characters from a
    /// 72-character alphabet (`sizedString`; `sizedStringForCompression` never advances
    /// its counter, so it is random too).
    Random,
    /// What `sizedStringForCompression` was meant to produce: runs of 20 identical
    /// characters (compresses well).
    Text,
}

/// Go's alphabet (`ch` in websocket_test.go).
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@$#%^&*()";

/// The payload of `size` bytes for a cell.
pub fn payload(kind: PayloadKind, size: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    let mut c = b'a';
    for i in 0..size {
        match kind {
            PayloadKind::Random => out.push(ALPHABET[rng.below(ALPHABET.len())]),
            PayloadKind::Text => {
                if i % 20 == 0 {
                    c = ALPHABET[rng.below(ALPHABET.len())];
                }
                out.push(c);
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift64*): payloads and mask keys.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A mask key.
    pub fn key(&mut self) -> [u8; 4] {
        (self.next_u64() as u32).to_be_bytes()
    }
}

/// `PUB a <len>\r\n<payload>\r\n` (Go: `pubProto`).
pub fn pub_proto(payload: &[u8]) -> Vec<u8> {
    let mut p = format!("PUB {SUBJECT} {}\r\n", payload.len()).into_bytes();
    p.extend_from_slice(payload);
    p.extend_from_slice(b"\r\n");
    p
}

/// Go's batch: `pubProto` appended until the batch reaches 32 KiB (or `limit` protos).
/// Returns the batch and the number of protos in it (`pb`).
pub fn pub_batch(proto: &[u8], limit: u64) -> (Vec<u8>, u64) {
    let mut batch = Vec::with_capacity(BATCH_BYTES + proto.len());
    let mut pb = 0u64;
    while pb < limit.max(1) {
        batch.extend_from_slice(proto);
        pb += 1;
        if batch.len() >= BATCH_BYTES {
            break;
        }
    }
    (batch, pb)
}

/// Median of a list (mean of the middle two for even lengths); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_go() {
        let all = Cell::all();
        assert_eq!(all.len(), 48);
        let names: Vec<String> = all.iter().map(Cell::name).collect();
        assert!(names.contains(&"Benchmark_WS_Pubx1_CN_____0b".to_owned()));
        assert!(names.contains(&"Benchmark_WS_Subx5_CY_32768b".to_owned()));
        assert!(names.contains(&"Benchmark_WS_Pubx1_CY___128b".to_owned()));
    }

    #[test]
    fn batch_reaches_32k() {
        let proto = pub_proto(&[b'x'; 128]);
        let (batch, pb) = pub_batch(&proto, u64::MAX);
        assert!(batch.len() >= BATCH_BYTES);
        assert_eq!(batch.len(), proto.len() * pb as usize);
        let (_, few) = pub_batch(&proto, 3);
        assert_eq!(few, 3);
    }

    #[test]
    fn text_payload_has_runs() {
        let mut rng = Rng::new(7);
        let p = payload(PayloadKind::Text, 40, &mut rng);
        assert!(p[..20].iter().all(|&b| b == p[0]));
        assert!(p[20..].iter().all(|&b| b == p[20]));
    }

    #[test]
    fn median_odd_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
