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
}

impl NatsClient {
    /// Wraps a connected stream.
    pub fn new(stream: Stream) -> Self {
        NatsClient {
            stream,
            data: Vec::new(),
            consumed: 0,
            ended: None,
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
        let consumed = self.consumed;
        let end = read_until(
            &mut self.stream,
            &mut self.data,
            Instant::now() + timeout,
            |b| pred(&b[consumed..]),
        );
        if let Some(e) = end {
            if e != ReadEnd::Timeout {
                self.ended = Some(e);
            }
            return pred(&self.data[self.consumed..]);
        }
        true
    }
}
