//! Loopback connections for the peer clients: plain TCP or TLS, with read slices and timeouts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a blocking read waits before the caller re-checks its deadline.
pub const READ_SLICE: Duration = Duration::from_millis(50);

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

impl Stream {
    /// A blocked write fails after `timeout` (a stuck server must not hang a tool).
    pub fn set_write_timeout(&self, timeout: Duration) -> Result<(), String> {
        let tcp = match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        };
        tcp.set_write_timeout(Some(timeout))
            .map_err(|e| e.to_string())
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

/// Opens a TCP (and TLS) connection to a loopback address; reads block at most
/// [`READ_SLICE`].
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
    tcp.set_read_timeout(Some(READ_SLICE))
        .map_err(|e| e.to_string())?;
    match tls {
        None => Ok(Stream::Plain(tcp)),
        Some(t) => {
            let name = rustls_pki_types::ServerName::try_from(t.server_name.clone())
                .map_err(|e| e.to_string())?;
            let conn = rustls::ClientConnection::new(Arc::clone(&t.config), name)
                .map_err(|e| e.to_string())?;
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

/// A read that timed out: the caller re-checks its deadline and reads again.
pub fn would_block(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Reads into `buf` until `done(buf)` or the deadline; returns how reading ended if not done.
pub fn read_until(
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
            Err(e) if would_block(&e) => {}
            Err(e) => return Some(ReadEnd::Error(e.to_string())),
        }
    }
}
