//! The WebSocket upgrade on a live connection: read the request under the handshake
//! deadline, answer it, and hand the connection on (Go: `wsUpgrade` on a hijacked conn).
//!
//! This is the I/O half of [`crate::handshake`]. It is public so that a harness can drive
//! exactly the server's code over a transport of its own (for instance one whose writes
//! fail, which a real socket cannot be made to do on demand).

use std::fmt;
use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::handshake::{Handshake, HandshakeError, HttpDate, Upgrade};

/// Bytes read at a time during the upgrade (the head itself is bounded by the handshake
/// limits, not by this).
const READ_CHUNK: usize = 4096;

/// How an upgrade ended without a WebSocket connection. In every case the connection has
/// been closed (dropped) by the time this is returned.
#[derive(Debug)]
pub enum UpgradeError {
    /// The request was refused: the HTTP error response was written (best effort).
    Rejected(HandshakeError),
    /// No complete request before the handshake deadline; nothing was written (Go's
    /// net/http read timeout closes without a response).
    Timeout,
    /// The peer closed the connection, or reading failed, before a complete request.
    Closed,
    /// Writing the 101 failed. This is the transport's error, unchanged (Go returns the
    /// conn's `Write` error as is and logs its text).
    Write(io::Error),
}

impl UpgradeError {
    /// The line the server logs at error level, if any (given to `upgrade`'s `log`).
    pub fn log_line(&self, remote_addr: &str) -> Option<String> {
        match self {
            UpgradeError::Rejected(e) => e.log_line(remote_addr),
            UpgradeError::Write(e) => Some(e.to_string()),
            UpgradeError::Timeout | UpgradeError::Closed => None,
        }
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::Rejected(e) => e.fmt(f),
            UpgradeError::Timeout => f.write_str("websocket handshake timeout"),
            UpgradeError::Closed => f.write_str("connection closed before the upgrade request"),
            UpgradeError::Write(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for UpgradeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UpgradeError::Write(e) => Some(e),
            _ => None,
        }
    }
}

/// Runs the upgrade on `stream`: reads until the request is complete (under the
/// handshake's deadline, if it has one), writes the 101 or the error response, and returns
/// the upgrade with the stream, positioned right after the request.
///
/// `date` gives the `Date:` of an error response (Go's net/http adds one); it is called
/// only when a request is refused. `log` receives the error-level line of a failure
/// ([`UpgradeError::log_line`]) before the connection is closed, so a peer that sees the
/// close can already find the line.
pub async fn upgrade<S>(
    mut hs: Handshake,
    mut stream: S,
    date: impl FnOnce() -> HttpDate,
    mut log: impl FnMut(String),
) -> Result<(Upgrade, S), UpgradeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; READ_CHUNK];
    let upgrade = loop {
        let read = match hs.deadline() {
            Some(d) => tokio::time::timeout_at(d.into(), stream.read(&mut buf))
                .await
                .map_err(|_| UpgradeError::Timeout)?,
            None => stream.read(&mut buf).await,
        };
        let n = match read {
            Ok(0) | Err(_) => return Err(UpgradeError::Closed),
            Ok(n) => n,
        };
        match hs.feed(&buf[..n]) {
            Ok(None) => {}
            Ok(Some(up)) => break up,
            Err(rejection) => {
                if let Some(line) = rejection.error.log_line(hs.remote_addr()) {
                    log(line);
                }
                let response = rejection.response(date());
                // Best effort, as Go's http.Error: the refusal is the outcome either way.
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
                return Err(UpgradeError::Rejected(rejection.error));
            }
        }
    };
    if let Err(e) = write_response(&mut stream, &upgrade.response).await {
        // Go: conn.Close(); return nil, err — and its handler logs err's text.
        let e = UpgradeError::Write(e);
        if let Some(line) = e.log_line(hs.remote_addr()) {
            log(line);
        }
        drop(stream);
        return Err(e);
    }
    Ok((upgrade, stream))
}

async fn write_response<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::handshake::HandshakeConfig;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};
    use std::time::Instant;
    use tokio::io::ReadBuf;

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

    /// What the peer saw: the bytes written, and whether the connection was closed.
    #[derive(Debug, Default)]
    struct Seen {
        sent: Vec<u8>,
        closed: bool,
    }

    /// Reads `input` then EOF; writes fail with `write_error` or are recorded.
    #[derive(Debug)]
    struct Fake {
        input: Vec<u8>,
        write_error: Option<&'static str>,
        seen: Arc<Mutex<Seen>>,
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            self.seen.lock().unwrap().closed = true;
        }
    }

    impl AsyncRead for Fake {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.input.len().min(buf.remaining());
            buf.put_slice(&self.input[..n]);
            self.input.drain(..n);
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Fake {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            if let Some(e) = self.write_error {
                return Poll::Ready(Err(io::Error::other(e)));
            }
            self.seen.lock().unwrap().sent.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    struct Attempt {
        result: Result<(Upgrade, Fake), UpgradeError>,
        logged: Vec<String>,
        seen: Arc<Mutex<Seen>>,
    }

    /// Runs the upgrade on a connection that sends `input`.
    fn attempt(input: &[u8], write_error: Option<&'static str>) -> Attempt {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stream = Fake {
            input: input.to_vec(),
            write_error,
            seen: seen.clone(),
        };
        let hs = Handshake::new(
            Arc::new(HandshakeConfig::default()),
            "127.0.0.1:54321",
            Instant::now(),
        );
        let mut logged = Vec::new();
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(upgrade(
                hs,
                stream,
                || HttpDate::from_unix(0),
                |l| logged.push(l),
            ));
        Attempt {
            result,
            logged,
            seen,
        }
    }

    #[test]
    fn write_error_is_returned_unchanged_and_closes() {
        let a = attempt(REQUEST, Some("on purpose"));
        let err = a.result.unwrap_err();
        assert!(matches!(&err, UpgradeError::Write(e) if e.to_string() == "on purpose"));
        assert_eq!(err.to_string(), "on purpose");
        assert_eq!(a.logged, ["on purpose"]);
        let seen = a.seen.lock().unwrap();
        assert!(seen.closed && seen.sent.is_empty());
    }

    #[test]
    fn success_writes_the_101_and_keeps_the_stream() {
        let a = attempt(REQUEST, None);
        let (up, _stream) = a.result.unwrap();
        let seen = a.seen.lock().unwrap();
        assert_eq!(seen.sent, up.response);
        assert!(
            seen.sent
                .starts_with(b"HTTP/1.1 101 Switching Protocols\r\n")
        );
        assert!(!seen.closed && a.logged.is_empty());
    }

    #[test]
    fn rejection_is_logged_answered_and_closed() {
        let a = attempt(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", None);
        let err = a.result.unwrap_err();
        assert_eq!(err.to_string(), "request method must be GET");
        assert_eq!(
            a.logged,
            ["127.0.0.1:54321 - websocket handshake error: request method must be GET"]
        );
        let seen = a.seen.lock().unwrap();
        assert!(
            seen.sent
                .starts_with(b"HTTP/1.1 405 Method Not Allowed\r\n")
        );
        assert!(seen.closed);
    }

    #[test]
    fn eof_before_the_request_is_closed() {
        let a = attempt(&REQUEST[..10], None);
        let err = a.result.unwrap_err();
        assert!(matches!(err, UpgradeError::Closed));
        assert_eq!(err.log_line("r"), None);
        assert!(a.logged.is_empty() && a.seen.lock().unwrap().sent.is_empty());
    }
}
