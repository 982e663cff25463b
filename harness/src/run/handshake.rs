//! Handshake-layer steps: the sans-IO upgrade driven with raw HTTP bytes.

use std::sync::Arc;
use std::time::Instant;

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use nats_ws::handshake::{Handshake, HandshakeConfig, HttpDate, Upgrade, UpgradeKind};
use nats_ws::options::ServerOpts;
use nats_ws::policy::{Compression, Framing, MaskPolicy};
use nats_ws::server::upgrade::{self, UpgradeError};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::fixture::{
    FramingSpec, HandshakeStep, HttpExpect, HttpSpec, MaskingSpec, Setup, UpgradeExpect,
};
use crate::peer::http::{build_request, parse_response};
use crate::run::context::{Record, drive};
use crate::transcript::{Transcript, show};

/// The peer address the handshake sees (Go's tests use a fake conn; any fixed value works).
pub const REMOTE: &str = "127.0.0.1:54321";

/// A fixed `Date:` for error responses, so transcripts are stable (1994-11-06 08:49:37 UTC,
/// RFC 7231's example).
pub const FIXED_DATE: u64 = 784_111_777;

const DEFAULT_CONFIG: &str = "websocket { port: -1, no_tls: true }";

/// Runs a handshake-layer case.
pub(crate) fn run(setup: &Setup, steps: &[HandshakeStep]) -> Record {
    let mut hs = HandshakeRunner::new();
    let mut rec = Record::default();
    drive(steps, &mut rec, |step, rec| {
        hs.step(step, setup, &mut rec.t, &mut rec.failures)
    });
    rec
}

/// The handshake under test and what it produced.
struct HandshakeRunner {
    config: Option<Arc<HandshakeConfig>>,
    logs: Vec<String>,
    outcome: Option<Result<Upgrade, UpgradeError>>,
    written: Vec<u8>,
    deadline_ms: Option<u64>,
    /// The upgraded connection, held open as the server would hand it on.
    conn: Option<MemConn>,
    tap: Arc<Mutex<Tap>>,
}

impl HandshakeRunner {
    fn new() -> Self {
        HandshakeRunner {
            config: None,
            logs: Vec::new(),
            outcome: None,
            written: Vec::new(),
            deadline_ms: None,
            conn: None,
            tap: Arc::default(),
        }
    }

    fn config(
        &mut self,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<Arc<HandshakeConfig>, String> {
        if let Some(c) = &self.config {
            return Ok(c.clone());
        }
        let text = setup.config.as_deref().unwrap_or(DEFAULT_CONFIG);
        let loaded = ServerOpts::from_str(text, std::path::Path::new("."))
            .map_err(|e| format!("config: {e}"))?;
        let (config, logs) =
            HandshakeConfig::from_opts(&loaded.opts.websocket, setup.mqtt_enabled.unwrap_or(false))
                .map_err(|e| format!("config: {e}"))?;
        for l in logs {
            t.line(format!("= log {l:?}"));
            self.logs.push(l);
        }
        let config = Arc::new(config);
        self.config = Some(config.clone());
        Ok(config)
    }

    /// Runs a handshake step.
    fn step(
        &mut self,
        step: &HandshakeStep,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        match step {
            HandshakeStep::SendHttp(spec) => self.send(spec, setup, t)?,
            HandshakeStep::ExpectHttp(want) => self.expect_http(want, failures)?,
            HandshakeStep::ExpectUpgrade(want) => self.expect_upgrade(want, failures),
            HandshakeStep::ExpectDeadlineMs(want) => {
                if self.deadline_ms != *want {
                    failures.push(format!(
                        "handshake deadline: got {:?} ms, want {want:?}",
                        self.deadline_ms
                    ));
                }
            }
            HandshakeStep::ExpectHandshakeError(want) => {
                let got = match &self.outcome {
                    Some(Err(e)) => Some(e.to_string()),
                    _ => None,
                };
                if got.as_deref() != Some(want.as_str()) {
                    failures.push(format!("handshake error: got {got:?}, want {want:?}"));
                }
            }
            HandshakeStep::ExpectConnectionClosed(want) => {
                if self.closed() != *want {
                    failures.push(format!(
                        "connection closed: got {}, want {want}",
                        self.closed()
                    ));
                }
            }
            HandshakeStep::ExpectLog(text) => {
                self.config(setup, t)?;
                if !self.logs.iter().any(|l| l.contains(text.as_str())) {
                    failures.push(format!(
                        "no log line contains {text:?}; logged: {:?}",
                        self.logs
                    ));
                }
            }
            HandshakeStep::ExpectNoLog(text) => {
                if let Some(l) = self.logs.iter().find(|l| l.contains(text.as_str())) {
                    failures.push(format!("unexpected log line {l:?}"));
                }
            }
        }
        Ok(())
    }

    /// Drives the request through the server's own upgrade I/O
    /// ([`nats_ws::server::upgrade::upgrade`]) over an in-memory connection.
    fn send(&mut self, spec: &HttpSpec, setup: &Setup, t: &mut Transcript) -> Result<(), String> {
        let config = self.config(setup, t)?;
        let bytes = build_request(spec)?;
        for line in String::from_utf8_lossy(&bytes).split_inclusive('\n') {
            t.line(format!("> {}", show(line.as_bytes())));
        }
        let start = Instant::now();
        let hs = Handshake::new(config, REMOTE, start);
        self.deadline_ms = hs
            .deadline()
            .map(|d| d.duration_since(start).as_millis() as u64);
        let chunk = if spec.bytewise { 1 } else { bytes.len().max(1) };
        let (conn, tap) = MemConn::new(bytes, chunk, spec.write_error.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        let mut logged = Vec::new();
        let outcome = runtime.block_on(upgrade::upgrade(
            hs,
            conn,
            || HttpDate::from_unix(FIXED_DATE),
            |line| logged.push(line),
        ));
        let outcome = match outcome {
            Ok((up, conn)) => {
                self.conn = Some(conn);
                Ok(up)
            }
            Err(e) => Err(e),
        };
        self.tap = tap;
        self.written = self
            .tap
            .lock()
            .map(|t| t.written.clone())
            .unwrap_or_default();
        match &outcome {
            Ok(up) => t.line(format!("= upgrade {}", describe_upgrade(up))),
            Err(UpgradeError::Rejected(e)) => {
                t.line(format!(
                    "= rejected {:?} (status {})",
                    e.to_string(),
                    e.status()
                ));
            }
            Err(UpgradeError::Closed | UpgradeError::Timeout) => {
                t.line("= handshake incomplete");
            }
            Err(e @ UpgradeError::Write(_)) => t.line(format!("= write failed: {e}")),
        }
        for l in logged {
            t.line(format!("= log {l:?}"));
            self.logs.push(l);
        }
        if matches!(outcome, Err(UpgradeError::Closed | UpgradeError::Timeout)) {
            self.outcome = None;
            return Ok(());
        }
        if self.written.is_empty() {
            t.line("< (nothing written; connection closed)");
        }
        for line in String::from_utf8_lossy(&self.written).split_inclusive('\n') {
            t.line(format!("< {}", show(line.as_bytes())));
        }
        if self.closed() {
            t.line("= connection closed");
        }
        self.outcome = Some(outcome);
        Ok(())
    }

    fn closed(&self) -> bool {
        self.tap.lock().map(|t| t.closed).unwrap_or(true)
    }

    fn expect_http(&mut self, want: &HttpExpect, failures: &mut Vec<String>) -> Result<(), String> {
        let raw = self.written.clone();
        if want.empty {
            if !raw.is_empty() {
                failures.push(format!("expected nothing written, got {}", show(&raw)));
            }
            return Ok(());
        }
        let (status, headers, body) =
            parse_response(&raw).ok_or_else(|| format!("not an HTTP response: {}", show(&raw)))?;
        if let Some(s) = want.status
            && s != status
        {
            failures.push(format!("status: got {status}, want {s}"));
        }
        for [name, value] in &want.headers {
            let got: Vec<&String> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .collect();
            if !got.contains(&value) {
                failures.push(format!("header {name}: got {got:?}, want {value:?}"));
            }
        }
        for name in &want.absent {
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                failures.push(format!("header {name} should be absent"));
            }
        }
        if let Some(only) = &want.only_headers {
            let got: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
            if got != only.iter().map(String::as_str).collect::<Vec<_>>() {
                failures.push(format!("headers: got {got:?}, want exactly {only:?}"));
            }
        }
        if let Some(b) = &want.body {
            let b = b.build().map_err(|e| e.to_string())?;
            if b != body {
                failures.push(format!("body: got {}, want {}", show(&body), show(&b)));
            }
        }
        let text = String::from_utf8_lossy(&raw);
        for c in &want.contains {
            if !text.contains(c.as_str()) {
                failures.push(format!("response does not contain {c:?}"));
            }
        }
        for c in &want.not_contains {
            if text.contains(c.as_str()) {
                failures.push(format!("response contains {c:?}"));
            }
        }
        Ok(())
    }

    fn expect_upgrade(&mut self, want: &UpgradeExpect, failures: &mut Vec<String>) {
        let up = match &self.outcome {
            Some(Ok(up)) => up,
            Some(Err(e)) => {
                return failures.push(format!(
                    "expected an upgrade, got the error {:?}",
                    e.to_string()
                ));
            }
            None => {
                return failures
                    .push("expected an upgrade, the handshake did not complete".to_owned());
            }
        };
        let mut check = |what: &str, got: String, want: String| {
            if got != want {
                failures.push(format!("upgrade {what}: got {got}, want {want}"));
            }
        };
        if let Some(k) = &want.kind {
            check("kind", kind_name(up.kind).to_owned(), k.clone());
        }
        if let Some(m) = want.masking {
            let w = match m {
                MaskingSpec::Required => MaskPolicy::Required,
                MaskingSpec::Exempt => MaskPolicy::Exempt,
            };
            check("masking", format!("{:?}", up.mask), format!("{w:?}"));
        }
        if let Some(c) = want.compression {
            check(
                "compression",
                (up.compression == Compression::Negotiated).to_string(),
                c.to_string(),
            );
        }
        if let Some(f) = want.framing {
            let w = match f {
                FramingSpec::Whole => Framing::Whole,
                FramingSpec::Browser => Framing::Browser,
                FramingSpec::Safari => Framing::Safari,
            };
            check("framing", format!("{:?}", up.framing), format!("{w:?}"));
        }
        if let Some(ip) = &want.client_ip {
            check(
                "client_ip",
                up.client_ip.clone().unwrap_or_else(|| "none".to_owned()),
                ip.clone(),
            );
        }
        for [name, value] in &want.cookies {
            let got = match name.as_str() {
                "jwt" => up.cookies.jwt.clone(),
                "user" => up.cookies.username.clone(),
                "pass" => up.cookies.password.clone(),
                "token" => up.cookies.token.clone(),
                other => Some(format!("<unknown cookie kind {other}>")),
            };
            check(
                &format!("cookie {name}"),
                format!("{got:?}"),
                format!("{:?}", Some(value)),
            );
        }
    }
}

fn kind_name(k: UpgradeKind) -> &'static str {
    match k {
        UpgradeKind::Client => "client",
        UpgradeKind::Leaf => "leaf",
        UpgradeKind::Mqtt => "mqtt",
        _ => "other",
    }
}

fn describe_upgrade(up: &Upgrade) -> String {
    let c = &up.cookies;
    format!(
        "kind={} masking={:?} compression={} framing={:?} client_ip={} cookies=[jwt={:?} user={:?} pass={:?} token={:?}]",
        kind_name(up.kind),
        up.mask,
        up.compression == Compression::Negotiated,
        up.framing,
        up.client_ip.as_deref().unwrap_or("none"),
        c.jwt,
        c.username,
        c.password,
        c.token
    )
}

/// What the in-memory connection saw.
#[derive(Debug, Default)]
struct Tap {
    written: Vec<u8>,
    closed: bool,
}

/// An in-memory connection: reads the request in chunks, then end of stream; writes are
/// recorded, or fail with a given error (Go's `testWSFakeNetConn`). Dropping it closes it.
struct MemConn {
    input: Vec<u8>,
    pos: usize,
    chunk: usize,
    write_error: Option<String>,
    tap: Arc<Mutex<Tap>>,
}

impl MemConn {
    fn new(input: Vec<u8>, chunk: usize, write_error: Option<String>) -> (Self, Arc<Mutex<Tap>>) {
        let tap = Arc::new(Mutex::new(Tap::default()));
        let conn = MemConn {
            input,
            pos: 0,
            chunk,
            write_error,
            tap: tap.clone(),
        };
        (conn, tap)
    }
}

impl Drop for MemConn {
    fn drop(&mut self) {
        if let Ok(mut t) = self.tap.lock() {
            t.closed = true;
        }
    }
}

impl AsyncRead for MemConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let rest = &self.input[self.pos..];
        let n = rest.len().min(self.chunk).min(buf.remaining());
        buf.put_slice(&rest[..n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemConn {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = &self.write_error {
            return Poll::Ready(Err(io::Error::other(e.clone())));
        }
        if let Ok(mut t) = self.tap.lock() {
            t.written.extend_from_slice(buf);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
