//! Black-box clients for server-layer fixtures: a WebSocket client and a plain NATS client
//! over loopback TCP (optionally TLS), blocking with timeouts. Frames are written and read
//! with the nats-ws frame module; nothing here looks inside the server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nats_ws::deflate::deflate_message;
use nats_ws::frame::{Frame, OpCode};

use nats_ws::codec::assembler::Assembler;

use crate::wire::WireFrame;

/// A byte stream: plain TCP or TLS.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Plain(_) => "Stream::Plain",
            Stream::Tls(_) => "Stream::Tls",
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// TLS settings for a client connection.
#[derive(Debug, Clone)]
pub struct TlsClient {
    /// The client configuration (roots, optional client certificate).
    pub config: Arc<rustls::ClientConfig>,
    /// The name to verify.
    pub server_name: String,
}

/// Opens a TCP (and TLS) connection to a loopback address.
pub fn connect(
    addr: SocketAddr,
    tls: Option<&TlsClient>,
    timeout: Duration,
) -> Result<Stream, String> {
    if !addr.ip().is_loopback() {
        return Err(format!("refusing non-loopback address {addr}"));
    }
    let tcp =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    match tls {
        None => Ok(Stream::Plain(tcp)),
        Some(t) => {
            let name = rustls_pki_types::ServerName::try_from(t.server_name.clone())
                .map_err(|e| e.to_string())?;
            let conn =
                rustls::ClientConnection::new(t.config.clone(), name).map_err(|e| e.to_string())?;
            Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
        }
    }
}

/// What reading produced while waiting for something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// The peer closed TCP.
    Eof,
    /// A read failed (reset, TLS alert, ...).
    Error(String),
    /// Nothing more arrived in time.
    Timeout,
}

/// Reads into `buf` until `done(buf)` or the deadline; returns how reading ended if not done.
fn read_until(
    s: &mut Stream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    mut done: impl FnMut(&[u8]) -> bool,
) -> Option<ReadEnd> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if done(buf) {
            return None;
        }
        if Instant::now() >= deadline {
            return Some(ReadEnd::Timeout);
        }
        match s.read(&mut chunk) {
            Ok(0) => return Some(ReadEnd::Eof),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Some(ReadEnd::Error(e.to_string())),
        }
    }
}

/// A WebSocket client speaking NATS.
#[derive(Debug)]
pub struct WsClient {
    stream: Stream,
    assembler: Assembler,
    /// Frames received, in order.
    pub frames: Vec<WireFrame>,
    /// Data received (messages reassembled and inflated), as one byte stream.
    pub data: Vec<u8>,
    /// How much of `data` expectations have consumed.
    pub consumed: usize,
    /// permessage-deflate was negotiated.
    pub compression: bool,
    /// The raw HTTP response head.
    pub response: Vec<u8>,
    /// The first INFO line received after the upgrade.
    pub info: Vec<u8>,
    /// The close frame received (status and reason), if any.
    pub close: Option<(Option<u16>, Vec<u8>)>,
    /// How reading last ended, if it did.
    pub ended: Option<ReadEnd>,
    key: u32,
}

impl WsClient {
    /// Sends the upgrade request and reads the response head (and any bytes after it).
    pub fn upgrade(
        mut stream: Stream,
        request: &[u8],
        timeout: Duration,
    ) -> Result<WsClient, String> {
        let mut buf = Vec::new();
        let end = match stream.write_all(request).and_then(|()| stream.flush()) {
            Err(e) => Some(ReadEnd::Error(format!("write upgrade: {e}"))),
            Ok(()) => read_until(&mut stream, &mut buf, Instant::now() + timeout, |b| {
                b.windows(4).any(|w| w == b"\r\n\r\n")
            }),
        };
        let mut end = end;
        let is_101 = buf.starts_with(b"HTTP/1.1 101 ");
        if end.is_none() && !is_101 {
            // A refusal: the body follows; read it until the server closes (briefly).
            end = read_until(
                &mut stream,
                &mut buf,
                Instant::now() + Duration::from_millis(500),
                |_| false,
            );
        }
        let head_end = if is_101 {
            buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
        } else {
            Some(buf.len())
        };
        let (response, rest) = match head_end {
            Some(n) => (buf[..n].to_vec(), buf[n..].to_vec()),
            None => (buf, Vec::new()),
        };
        let compression = String::from_utf8_lossy(&response)
            .to_ascii_lowercase()
            .contains("permessage-deflate");
        let mut assembler = Assembler::new(crate::bytes::MAX_GENERATED);
        assembler.push(&rest);
        Ok(WsClient {
            stream,
            assembler,
            frames: Vec::new(),
            data: Vec::new(),
            consumed: 0,
            compression,
            response,
            info: Vec::new(),
            close: None,
            ended: end,
            key: 0x0102_0304,
        })
    }

    /// The HTTP status of the response, if one arrived.
    pub fn status(&self) -> Option<u16> {
        crate::run::parse_response(&self.response).map(|(s, _, _)| s)
    }

    fn next_key(&mut self) -> [u8; 4] {
        // Deterministic but varying keys (xorshift); unpredictability is not needed in tests.
        self.key ^= self.key << 13;
        self.key ^= self.key >> 17;
        self.key ^= self.key << 5;
        self.key.to_be_bytes()
    }

    /// Sends `data` as one masked binary frame (deflated when `compress` and negotiated).
    pub fn send_data(&mut self, data: &[u8], compress: bool) -> Result<(), String> {
        let bytes = self.data_frame(data, compress)?;
        self.send_raw(&bytes)
    }

    /// The bytes of one masked binary frame carrying `data` (deflated when `compress`
    /// and negotiated).
    pub fn data_frame(&mut self, data: &[u8], compress: bool) -> Result<Vec<u8>, String> {
        let (payload, rsv1) = if compress && self.compression {
            let mut out = Vec::new();
            deflate_message(data, &mut out).map_err(|e| e.to_string())?;
            (out, true)
        } else {
            (data.to_vec(), false)
        };
        Ok(self.frame(OpCode::Binary, true, rsv1, &payload))
    }

    /// The bytes of one masked frame.
    pub fn frame(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
        let key = self.next_key();
        Frame::new(opcode, payload)
            .fin(fin)
            .rsv1(rsv1)
            .masked(Some(key))
            .to_vec()
    }

    /// Writes `bytes` in pieces of `chop` bytes, each flushed on its own.
    pub fn send_chopped(&mut self, bytes: &[u8], chop: usize) -> Result<(), String> {
        for piece in bytes.chunks(chop.max(1)) {
            self.send_raw(piece)?;
        }
        Ok(())
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| format!("write: {e}"))
    }

    /// Takes complete frames (and the data of complete messages) out of the assembler.
    fn parse_frames(&mut self) -> Result<(), String> {
        while let Some(a) = self
            .assembler
            .next_frame()
            .map_err(|e| format!("server sent an invalid frame: {e}"))?
        {
            let payload = &a.frame.payload;
            if a.frame.header.opcode == OpCode::Close {
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                self.close = Some((code, payload.get(2..).unwrap_or_default().to_vec()));
            }
            if let Some(message) = a.message {
                let m = message.map_err(|e| format!("server message does not inflate: {e}"))?;
                self.data.extend_from_slice(&m.data);
            }
            self.frames.push(a.frame);
        }
        Ok(())
    }

    /// Reads until `pred(self)` holds or `timeout` passes.
    pub fn read_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&WsClient) -> bool,
    ) -> Result<bool, String> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            self.parse_frames()?;
            if pred(self) {
                return Ok(true);
            }
            if self.ended.is_some() || Instant::now() >= deadline {
                return Ok(false);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => self.ended = Some(ReadEnd::Eof),
                Ok(n) => self.assembler.push(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => self.ended = Some(ReadEnd::Error(e.to_string())),
            }
        }
    }

    /// The data not yet consumed by expectations.
    pub fn unread(&self) -> &[u8] {
        &self.data[self.consumed..]
    }
}

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
