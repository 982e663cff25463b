//! Blocking client connections for the load tool: a WebSocket client and a plain NATS
//! TCP client. Server frames are read with `nats_ws::codec::Reader`, which streams
//! payload without holding whole messages: the tool never needs a message whole, so it
//! does not use the assembler (the one reassembly, for tools that describe messages).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nats_ws::codec::{Collapsed, Outbound, ReadStatus, Reader, WriteMasking};
use nats_ws::policy::{Compression, Framing, MaskPolicy};

use crate::bench::{REPLY_TIMEOUT, Rng};
use crate::peer::frames::data_frame;
use crate::peer::http::{accepts_deflate, head_len, parse_response, read_head, upgrade_request};
use crate::peer::transport::{Stream, TlsClient, connect, would_block};

/// A blocked write fails after this long (a stuck server must not hang the tool).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest response head the tool reads.
const MAX_HEAD: usize = 64 * 1024;
/// The CONNECT every client sends (Go's test clients: no echo of +OK, protocol 1).
pub const CONNECT: &[u8] = b"CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n";

/// Where a connection goes.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The loopback address.
    pub addr: SocketAddr,
    /// TLS settings when the listener is TLS.
    pub tls: Option<TlsClient>,
}

/// Opens TCP (and TLS) to a loopback endpoint with the tool's timeouts.
pub fn open(ep: &Endpoint) -> Result<Stream, String> {
    let stream = connect(ep.addr, ep.tls.as_ref(), Duration::from_secs(10))?;
    stream.set_write_timeout(WRITE_TIMEOUT)?;
    Ok(stream)
}

/// A WebSocket client connection, upgraded.
pub struct WsConn {
    stream: Stream,
    reader: Reader,
    replies: Outbound,
    collapsed: Collapsed,
    buf: Vec<u8>,
    /// Bytes read after the response head, not yet decoded.
    leftover: Vec<u8>,
    /// permessage-deflate was negotiated.
    pub compress: bool,
    rng: Rng,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConn")
            .field("compress", &self.compress)
            .finish_non_exhaustive()
    }
}

impl WsConn {
    /// Connects and upgrades; with `compress`, permessage-deflate must be negotiated.
    pub fn connect(ep: &Endpoint, compress: bool, seed: u64) -> Result<WsConn, String> {
        let mut stream = open(ep)?;
        stream
            .write_all(&upgrade_request(ep.addr, compress))
            .and_then(|()| stream.flush())
            .map_err(|e| format!("write upgrade: {e}"))?;
        let mut head = Vec::new();
        let end = match read_head(
            &mut stream,
            &mut head,
            Instant::now() + REPLY_TIMEOUT,
            MAX_HEAD,
        ) {
            None => head_len(&head).ok_or("no upgrade response")?,
            Some(crate::peer::ReadEnd::Eof) => {
                return Err("server closed during the upgrade".to_owned());
            }
            Some(crate::peer::ReadEnd::Error(e)) => return Err(format!("read upgrade: {e}")),
            Some(crate::peer::ReadEnd::Timeout) => return Err("no upgrade response".to_owned()),
        };
        let status = parse_response(&head[..end]).map(|(s, _, _)| s);
        if status != Some(101) {
            let text = String::from_utf8_lossy(&head[..end]).into_owned();
            return Err(format!(
                "upgrade refused: {}",
                text.lines().next().unwrap_or("")
            ));
        }
        let negotiated = accepts_deflate(&head[..end]);
        if compress && !negotiated {
            return Err("permessage-deflate offered but not negotiated".to_owned());
        }
        let mode = if negotiated {
            Compression::Negotiated
        } else {
            Compression::Off
        };
        let mut rng = Rng::new(seed);
        let mut key_rng = rng.clone();
        rng.next_u64();
        Ok(WsConn {
            stream,
            reader: Reader::new(MaskPolicy::Exempt, mode, 64 << 20),
            replies: Outbound::new(
                Framing::Whole,
                mode,
                WriteMasking::Masked(Box::new(move || key_rng.key())),
            ),
            collapsed: Collapsed::new(),
            buf: Vec::new(),
            leftover: head[end..].to_vec(),
            compress: negotiated,
            rng,
        })
    }

    /// Connects, upgrades, sends `CONNECT` + `first` + `PING` in one frame and waits for
    /// the `PONG` (Go: `testWSCreateClient`, then the cell's own setup frame).
    pub fn handshake(
        ep: &Endpoint,
        compress: bool,
        seed: u64,
        first: &[u8],
    ) -> Result<WsConn, String> {
        let mut c = WsConn::connect(ep, compress, seed)?;
        let mut ops = CONNECT.to_vec();
        ops.extend_from_slice(first);
        ops.extend_from_slice(b"PING\r\n");
        c.send_data(&ops)?;
        c.wait_pong()?;
        Ok(c)
    }

    /// Frees the read buffer (idle connections; the next read allocates it again).
    pub fn shrink(&mut self) {
        self.buf = Vec::new();
    }

    /// A fresh mask key.
    pub fn key(&mut self) -> [u8; 4] {
        self.rng.key()
    }

    /// Sends `data` as one masked frame (deflated when negotiated).
    pub fn send_data(&mut self, data: &[u8]) -> Result<(), String> {
        let key = self.key();
        let frame = data_frame(data, self.compress, key)?;
        self.write_all(&frame)
    }

    /// Writes raw bytes (pre-built frames).
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))
    }

    /// Flushes buffered writes (TLS).
    pub fn flush(&mut self) -> Result<(), String> {
        self.stream.flush().map_err(|e| format!("flush: {e}"))
    }

    /// Reads what is available (waiting at most a short slice) and hands the NATS bytes
    /// to `sink`. Returns false on a timeout slice with nothing read. Server pings are
    /// answered; a close or EOF is an error.
    pub fn pump(
        &mut self,
        sink: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<bool, String> {
        if self.buf.is_empty() {
            self.buf.resize(256 * 1024, 0);
        }
        let n = if self.leftover.is_empty() {
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Err("server closed the connection".to_owned()),
                Ok(n) => n,
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) => return Err(format!("read: {e}")),
            }
        } else {
            let left = std::mem::take(&mut self.leftover);
            let n = left.len().min(self.buf.len());
            self.buf[..n].copy_from_slice(&left[..n]);
            self.leftover = left[n..].to_vec();
            n
        };
        let status = self
            .reader
            .read(&mut self.buf[..n], &mut self.replies, sink)
            .map_err(|e| format!("server frames: {e}"))?;
        if self.replies.has_queued() {
            let mut none = Vec::new();
            self.replies
                .collapse(&mut none, &mut self.collapsed)
                .map_err(|e| e.to_string())?;
            let bytes = self.collapsed.to_vec();
            self.write_all(&bytes)?;
            self.flush()?;
        }
        match status {
            ReadStatus::Open => Ok(true),
            _ => Err("server sent a close frame".to_owned()),
        }
    }

    /// Reads until the data stream holds `PONG\r\n`; `-ERR` or a close is an error.
    pub fn wait_pong(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            self.pump(&mut |b: &[u8]| {
                seen.extend_from_slice(b);
                Ok(())
            })?;
            if let Some(p) = seen.windows(5).position(|w| w == b"-ERR ") {
                let line = seen[p..].split(|&b| b == b'\n').next().unwrap_or_default();
                return Err(format!(
                    "server error: {}",
                    String::from_utf8_lossy(line).trim_end()
                ));
            }
            if seen.windows(6).any(|w| w == b"PONG\r\n") {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err("no PONG in time".to_owned());
            }
            // Keep only a tail: INFO may arrive first and is long.
            if seen.len() > 64 * 1024 {
                seen.drain(..seen.len() - 16);
            }
        }
    }

    /// Sends `PING` (deflated when negotiated) and waits for `PONG` (Go: `testWSFlushConn`).
    pub fn flush_ping(&mut self) -> Result<(), String> {
        self.send_data(b"PING\r\n")?;
        self.flush()?;
        self.wait_pong()
    }
}

/// A plain NATS client over TCP (the sub cells' publisher; verifying subscribers).
#[derive(Debug)]
pub struct NatsConn {
    stream: Stream,
    buf: Vec<u8>,
}

impl NatsConn {
    /// Connects, reads INFO, sends CONNECT + `first` + PING and waits for PONG.
    pub fn handshake(ep: &Endpoint, first: &[u8]) -> Result<NatsConn, String> {
        let stream = open(ep)?;
        let mut c = NatsConn {
            stream,
            buf: vec![0u8; 256 * 1024],
        };
        let mut ops = CONNECT.to_vec();
        ops.extend_from_slice(first);
        ops.extend_from_slice(b"PING\r\n");
        c.write_all(&ops)?;
        c.flush()?;
        c.wait_pong()?;
        Ok(c)
    }

    /// Writes bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))
    }

    /// Flushes (TLS).
    pub fn flush(&mut self) -> Result<(), String> {
        self.stream.flush().map_err(|e| format!("flush: {e}"))
    }

    /// Reads one slice and hands the bytes to `sink`; false on a timeout slice.
    pub fn pump(
        &mut self,
        sink: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<bool, String> {
        match self.stream.read(&mut self.buf) {
            Ok(0) => Err("server closed the connection".to_owned()),
            Ok(n) => {
                let (head, _) = self.buf.split_at(n);
                sink(head)?;
                Ok(true)
            }
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// Reads until `PONG\r\n`.
    pub fn wait_pong(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            self.pump(&mut |b: &[u8]| {
                seen.extend_from_slice(b);
                Ok(())
            })?;
            if seen.windows(5).any(|w| w == b"-ERR ") {
                return Err(format!("server error: {}", String::from_utf8_lossy(&seen)));
            }
            if seen.windows(6).any(|w| w == b"PONG\r\n") {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err("no PONG in time".to_owned());
            }
            if seen.len() > 64 * 1024 {
                seen.drain(..seen.len() - 16);
            }
        }
    }
}
