//! A plain NATS client over loopback TCP, blocking with timeouts, for server-layer fixtures.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::peer::transport::{ReadEnd, Stream, read_until};

/// A plain NATS client over TCP.
#[derive(Debug)]
pub struct NatsClient {
    stream: Stream,
    /// Everything received.
    pub data: Vec<u8>,
    /// How much of `data` expectations have consumed.
    pub consumed: usize,
    /// How reading ended, if it did.
    pub ended: Option<ReadEnd>,
    /// Answer a server `PING` that arrives before the unread data with `PONG`, and skip
    /// it (as a real client does; a server pings an idle client after about 2 s).
    pub answer_pings: bool,
}

impl NatsClient {
    /// Wraps a connected stream.
    pub fn new(stream: Stream) -> Self {
        NatsClient {
            stream,
            data: Vec::new(),
            consumed: 0,
            ended: None,
            answer_pings: false,
        }
    }

    /// Writes raw protocol bytes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads until `pred(unread)` holds or `timeout` passes.
    pub fn read_until(&mut self, timeout: Duration, mut pred: impl FnMut(&[u8]) -> bool) -> bool {
        const PING: &[u8] = b"PING\r\n";
        let deadline = Instant::now() + timeout;
        loop {
            let consumed = self.consumed;
            let answer = self.answer_pings;
            let end = read_until(&mut self.stream, &mut self.data, deadline, |b| {
                let unread = &b[consumed..];
                (answer && unread.starts_with(PING)) || pred(unread)
            });
            if answer && self.data[self.consumed..].starts_with(PING) {
                self.consumed += PING.len();
                if self.send(b"PONG\r\n").is_err() {
                    return false;
                }
                continue;
            }
            if let Some(e) = end {
                if e != ReadEnd::Timeout {
                    self.ended = Some(e);
                }
                return pred(&self.data[self.consumed..]);
            }
            return true;
        }
    }
}
