//! The HTTP monitoring listener (Go: server/monitor.go): `/varz`, `/connz`, `/subsz`,
//! `/healthz`, the index, and the endpoints of subsystems this server does not have,
//! answered as a standalone Go server answers them. GET only; JSON as Go's
//! `json.MarshalIndent(v, "", "  ")`; JSONP with `callback`.
//!
//! Limits: a request head of at most [`MAX_HEAD`] bytes within [`READ_TIMEOUT`]
//! (Go: `ReadHeaderTimeout` 5 s); an idle keep-alive connection is closed after
//! [`READ_TIMEOUT`].

pub(crate) mod accountz;
mod closed;
pub(crate) mod connz;
pub(crate) mod healthz;
pub(crate) mod leafz;
pub(crate) mod query;
pub(crate) mod subsz;
pub(crate) mod varz;

use accountz::{AccountStatzOptions, AccountzOptions, accountz, accstatz};
pub(crate) use closed::{ClosedRing, save as save_closed};
use connz::{ConnzOptions, connz};
use healthz::{HealthzOptions, healthz};
use query::Query;
use subsz::{SubszOptions, subsz};
use varz::varz;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::server::router::lock;
use crate::server::{LogLevel, Shared};

/// Largest request head.
const MAX_HEAD: usize = 16 * 1024;
/// Time to send a request head, and the idle time of a kept-alive connection.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Go: `DefaultConnListSize`, `DefaultSubListSize`.
const DEFAULT_LIMIT: usize = 1024;

/// Server-wide counters (Go: the server's `stats`).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) in_msgs: AtomicU64,
    pub(crate) in_bytes: AtomicU64,
    pub(crate) out_msgs: AtomicU64,
    pub(crate) out_bytes: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
    pub(crate) stale_connections: AtomicU64,
}

/// One connection's message counters (Go: `c.in`, `c.outMsgs`, ...).
#[derive(Debug, Default)]
pub(crate) struct ConnStats {
    pub(crate) in_msgs: AtomicU64,
    pub(crate) in_bytes: AtomicU64,
    pub(crate) out_msgs: AtomicU64,
    pub(crate) out_bytes: AtomicU64,
}

impl ConnStats {
    /// A message received from this connection (`bytes`: payload, headers included).
    pub(crate) fn received(&self, stats: &Stats, bytes: usize) {
        let n = bytes as u64;
        self.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.in_bytes.fetch_add(n, Ordering::Relaxed);
        stats.in_msgs.fetch_add(1, Ordering::Relaxed);
        stats.in_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// `msgs` messages of `bytes` payload bytes received from this connection.
    pub(crate) fn received_batch(&self, stats: &Stats, msgs: u64, bytes: u64) {
        self.in_msgs.fetch_add(msgs, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes, Ordering::Relaxed);
        stats.in_msgs.fetch_add(msgs, Ordering::Relaxed);
        stats.in_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A message queued for this connection.
    pub(crate) fn sent(&self, stats: &Stats, bytes: usize) {
        let n = bytes as u64;
        self.out_msgs.fetch_add(1, Ordering::Relaxed);
        self.out_bytes.fetch_add(n, Ordering::Relaxed);
        stats.out_msgs.fetch_add(1, Ordering::Relaxed);
        stats.out_bytes.fetch_add(n, Ordering::Relaxed);
    }
}

/// When the server started and when its configuration was last loaded (at start, then
/// at each successful reload: Go's `configTime`).
#[derive(Debug)]
pub(crate) struct Clock {
    pub(crate) started: jiff::Timestamp,
    pub(crate) started_at: Instant,
    config_loaded: std::sync::Mutex<jiff::Timestamp>,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        let t = jiff::Timestamp::now();
        Clock {
            started: t,
            started_at: Instant::now(),
            config_loaded: std::sync::Mutex::new(t),
        }
    }

    /// When the configuration was last loaded.
    pub(crate) fn config_loaded(&self) -> jiff::Timestamp {
        *crate::server::router::lock(&self.config_loaded)
    }

    /// A reload succeeded now.
    pub(crate) fn config_reloaded(&self) {
        *crate::server::router::lock(&self.config_loaded) = jiff::Timestamp::now();
    }
}

/// Accepts monitoring connections until the listener fails or the server stops.
pub(crate) async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let s = Arc::clone(&shared);
                let spawned = match shared.monitor_tls.clone() {
                    Some(tls) => shared.spawn(https_conn(s, tls, stream)),
                    None => shared.spawn(http_conn(s, stream)),
                };
                if spawned.is_none() {
                    break;
                }
            }
            Err(e) => {
                shared.log(LogLevel::Error, &format!("monitoring: accept error: {e}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// The TLS handshake (within `tls_timeout`), then [`http_conn`] over it.
async fn https_conn(shared: Arc<Shared>, tls: Arc<rustls::ServerConfig>, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(shared.limits.tls_timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => http_conn(shared, stream).await,
        // Go: net/http's line through the monitor's error log (`captureHTTPServerLog`).
        Ok(Err(e)) => shared.log(
            LogLevel::Error,
            &format!("monitoring: TLS handshake error from {peer}: {e}"),
        ),
        Err(_) => {}
    }
}

/// Serves requests on one connection (HTTP/1.1 keep-alive) until it closes or idles.
async fn http_conn<S>(shared: Arc<Shared>, mut stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // A kept-alive connection waiting for its next request must not hold up shutdown.
    let mut shutdown = shared.shutdown.subscribe();
    let mut buf = Vec::with_capacity(1024);
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buf) {
                break end;
            }
            if buf.len() >= MAX_HEAD {
                let _ = stream
                    .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large")
                    .await;
                return;
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::select! {
                r = tokio::time::timeout(READ_TIMEOUT, stream.read(&mut chunk)) => r,
                _ = shutdown.changed() => return,
            };
            match read {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        let (method, target, close) = match req.parse(&buf[..head_end]) {
            Ok(httparse::Status::Complete(_)) => (
                req.method.unwrap_or("").to_owned(),
                req.path.unwrap_or("/").to_owned(),
                req.version == Some(0)
                    || req.headers.iter().any(|h| {
                        h.name.eq_ignore_ascii_case("connection")
                            && h.value.eq_ignore_ascii_case(b"close")
                    }),
            ),
            _ => {
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")
                    .await;
                return;
            }
        };
        // GET has no body; anything after the head is the next request.
        buf.drain(..head_end);
        let response = answer(&shared, &method, &target);
        if stream.write_all(&response).await.is_err() || close {
            return;
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The whole HTTP response to one request.
fn answer(shared: &Shared, method: &str, target: &str) -> Vec<u8> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = Query::parse(query);
    let base = lock(&shared.opts).http_base_path.clone();
    let endpoint = strip_base(path, &base);
    let known = matches!(
        endpoint,
        Some(
            "/" | "/varz"
                | "/connz"
                | "/subsz"
                | "/subscriptionsz"
                | "/routez"
                | "/gatewayz"
                | "/leafz"
                | "/accountz"
                | "/accstatz"
                | "/healthz"
        )
    );
    let Some(endpoint) = endpoint.filter(|_| known) else {
        return response(
            404,
            Type::NoSniff("text/plain; charset=utf-8"),
            b"404 page not found\n",
        );
    };
    if method != "GET" && method != "HEAD" {
        return response(
            405,
            Type::NoSniff("text/plain; charset=utf-8"),
            b"Method Not Allowed\n",
        );
    }
    *lock(&shared.http_req_stats)
        .entry(endpoint.to_owned())
        .or_default() += 1;
    let now = jiff::Timestamp::now();
    let json = match endpoint {
        "/" => {
            let page = index_page(&base);
            return response(
                200,
                Type::Sniffed("text/html; charset=utf-8"),
                page.as_bytes(),
            );
        }
        "/varz" => to_json(&varz(shared, now)),
        "/connz" => match ConnzOptions::from_query(&query).and_then(|o| connz(shared, now, &o)) {
            Ok(c) => to_json(&c),
            Err(e) => return bad_request(&e),
        },
        "/subsz" | "/subscriptionsz" => {
            match SubszOptions::from_query(&query).and_then(|o| subsz(shared, now, &o)) {
                Ok(s) => to_json(&s),
                Err(e) => return bad_request(&e),
            }
        }
        "/routez" => {
            // Go: HandleRoutez decodes `subs` (a bool or `detail`) first.
            if !query.get("subs").eq_ignore_ascii_case("detail")
                && let Err(e) = query::decode_bool(&query, "subs")
            {
                return bad_request(&e);
            }
            to_json(&serde_json::json!({
                "server_id": shared.server_id,
                "server_name": shared.server_name,
                "now": now.to_string(),
                "num_routes": 0,
                "routes": [],
            }))
        }
        "/gatewayz" => to_json(&Gatewayz {
            server_id: &shared.server_id,
            now: now.to_string(),
            outbound_gateways: BTreeMap::new(),
            inbound_gateways: BTreeMap::new(),
        }),
        "/leafz" => match leafz::LeafzOptions::from_query(&query) {
            Ok(o) => to_json(&leafz::leafz(shared, now, &o)),
            Err(e) => return bad_request(&e),
        },
        "/accountz" => {
            let opts = AccountzOptions {
                account: query.get("acc").to_owned(),
            };
            match accountz(shared, now, &opts) {
                Ok(a) => to_json(&a),
                Err(e) => return bad_request(&e),
            }
        }
        "/accstatz" => match AccountStatzOptions::from_query(&query) {
            Ok(o) => to_json(&accstatz(shared, now, &o)),
            Err(e) => return bad_request(&e),
        },
        // "/healthz": compact JSON, its status the HTTP status, no JSONP (Go:
        // handleResponse).
        _ => {
            let opts = match HealthzOptions::from_query(&query) {
                Ok(o) => o,
                Err(e) => return bad_request(&e),
            };
            if opts.js_enabled {
                shared.log(
                    LogLevel::Warn,
                    "Healthcheck: js-enabled deprecated, use js-enabled-only instead",
                );
            }
            let mut hs = healthz(&opts);
            if !hs.error.is_empty() {
                shared.log(
                    LogLevel::Warn,
                    &format!("Healthcheck failed: {}", crate::goquote::quote(&hs.error)),
                );
            } else if !hs.errors.is_empty() {
                shared.log(
                    LogLevel::Warn,
                    &format!("Healthcheck failed: {} errors", hs.errors.len()),
                );
            }
            let code = std::mem::take(&mut hs.status_code);
            let body = serde_json::to_vec(&hs).unwrap_or_default();
            return response(code, Type::Set("application/json"), &body);
        }
    };
    match Some(query.get("callback")).filter(|c| !c.is_empty()) {
        Some(cb) => {
            let mut body = format!("{cb}(").into_bytes();
            body.extend_from_slice(&json);
            body.push(b')');
            response(200, Type::Set("application/javascript"), &body)
        }
        None => response(200, Type::Set("application/json"), &json),
    }
}

/// Go: a handler's `WriteHeader(400)` and its error text.
fn bad_request(text: &str) -> Vec<u8> {
    response(
        400,
        Type::Sniffed("text/plain; charset=utf-8"),
        text.as_bytes(),
    )
}

/// Go: `lookupAccount` for the monitor's `acc` filters: configured or in use.
fn account_exists(shared: &Shared, name: &str) -> bool {
    name == crate::auth::GLOBAL_ACCOUNT
        || lock(&shared.accounts).contains_key(name)
        || lock(&shared.opts).accounts.iter().any(|a| a.name == name)
}

/// Go's `time.Duration.String()`: `0s`, `750ns`, `751µs`, `1.5ms`, `2m3.5s`, `1h0m0s`.
fn go_duration(d: Duration) -> String {
    fn frac(v: u128, unit: u128, width: usize) -> String {
        let (int, rem) = (v / unit, v % unit);
        if rem == 0 {
            return int.to_string();
        }
        let digits = format!("{rem:0width$}");
        format!("{int}.{}", digits.trim_end_matches('0'))
    }
    let ns = d.as_nanos();
    match ns {
        0 => "0s".to_owned(),
        1..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => format!("{}µs", frac(ns, 1_000, 3)),
        1_000_000..1_000_000_000 => format!("{}ms", frac(ns, 1_000_000, 6)),
        _ => {
            let secs = ns / 1_000_000_000;
            let (h, m) = (secs / 3600, secs / 60 % 60);
            let s = frac(ns % 60_000_000_000, 1_000_000_000, 9);
            match (h, m) {
                (0, 0) => format!("{s}s"),
                (0, m) => format!("{m}m{s}s"),
                (h, m) => format!("{h}h{m}m{s}s"),
            }
        }
    }
}

/// Go net/http's header order: the handler's headers sorted, then `Date`, `Content-Length`.
fn response(status: u16, content_type: Type<'_>, body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let date = crate::handshake::HttpDate::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    match content_type {
        Type::Set(t) => head.push_str(&format!(
            "Access-Control-Allow-Origin: *\r\nContent-Type: {t}\r\n"
        )),
        Type::NoSniff(t) => head.push_str(&format!(
            "Content-Type: {t}\r\nX-Content-Type-Options: nosniff\r\n"
        )),
        Type::Sniffed(_) => {}
    }
    head.push_str(&format!(
        "Date: {date}\r\nContent-Length: {}\r\n",
        body.len()
    ));
    if let Type::Sniffed(t) = content_type {
        // net/http's sniffing of the body comes after its own headers.
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// How a response's `Content-Type` is set (Go: by the handler, by `http.Error`, or by
/// net/http sniffing the body).
#[derive(Debug, Clone, Copy)]
enum Type<'a> {
    /// Go: `handleResponse`, with `Access-Control-Allow-Origin: *`.
    Set(&'a str),
    /// `http.Error`/`http.NotFound`: also `X-Content-Type-Options: nosniff`.
    NoSniff(&'a str),
    /// Not set by the handler: net/http sniffs the body as this.
    Sniffed(&'a str),
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap_or_else(|_| b"{}".to_vec())
}

fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let base = base.trim_end_matches('/');
    if base.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(base)?;
    Some(if rest.is_empty() { "/" } else { rest })
}

fn index_page(base: &str) -> String {
    let links: String = [
        "varz", "connz", "routez", "gatewayz", "leafz", "subsz", "accountz", "healthz",
    ]
    .iter()
    .map(|e| format!("    <a href=\"{base}/{e}\">{e}</a><br/>\n"))
    .collect();
    format!(
        "<html lang=\"en\">\n  <head>\n    <title>nats-ws monitoring</title>\n  </head>\n  <body>\n{links}  </body>\n</html>\n"
    )
}

/// Go's `time.Duration` in JSON: nanoseconds.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Go's `myUptime`: `1y2d3h4m5s`, largest unit first, zero units left out but seconds.
fn uptime(d: Duration) -> String {
    let mut s = d.as_secs();
    let (years, days, hours, minutes);
    years = s / (365 * 86_400);
    s %= 365 * 86_400;
    days = s / 86_400;
    s %= 86_400;
    hours = s / 3600;
    s %= 3600;
    minutes = s / 60;
    s %= 60;
    let mut out = String::new();
    for (n, unit) in [(years, 'y'), (days, 'd'), (hours, 'h'), (minutes, 'm')] {
        if n > 0 || !out.is_empty() {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out.push_str(&format!("{s}s"));
    out
}

/// Resident memory (bytes) and total CPU time of this process, from /proc.
pub(crate) fn process_usage() -> (u64, Duration) {
    let page = 4096;
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |p| p * page);
    // Fields 14 and 15 of /proc/self/stat (after the parenthesised name): utime, stime
    // in clock ticks (100 per second on Linux).
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.get(s.rfind(')')? + 2..)?.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(Duration::from_millis(ticks * 10))
        })
        .unwrap_or_default();
    (rss, cpu)
}

/// Go's empty objects of absent subsystems (`"cluster": {}`).
#[derive(Serialize)]
struct Empty {}

/// Go's encoding/json writes a whole float64 without a fraction (`2`, not `2.0`).
pub(crate) fn go_float<S: serde::Serializer>(f: &f64, s: S) -> Result<S::Ok, S::Error> {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        s.serialize_i64(*f as i64)
    } else {
        s.serialize_f64(*f)
    }
}

fn go_float_opt<S: serde::Serializer>(f: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => go_float(f, s),
        None => s.serialize_none(),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Go: `WebsocketOptsVarz` (every field `omitempty`).
#[derive(Serialize)]
struct Gatewayz<'a> {
    server_id: &'a str,
    now: String,
    outbound_gateways: BTreeMap<String, ()>,
    inbound_gateways: BTreeMap<String, ()>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn go_uptime_format() {
        assert_eq!(uptime(Duration::from_secs(0)), "0s");
        assert_eq!(uptime(Duration::from_secs(61)), "1m1s");
        assert_eq!(uptime(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(uptime(Duration::from_secs(86_400 + 5)), "1d0h0m5s");
    }

    #[test]
    fn base_path_and_query() {
        assert_eq!(strip_base("/varz", ""), Some("/varz"));
        assert_eq!(strip_base("/mon/varz", "/mon/"), Some("/varz"));
        assert_eq!(strip_base("/mon", "/mon"), Some("/"));
        assert_eq!(strip_base("/varz", "/mon"), None);
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_nanos(750)), "750ns");
        assert_eq!(go_duration(Duration::from_micros(751)), "751µs");
        assert_eq!(go_duration(Duration::from_nanos(1_500_000)), "1.5ms");
        assert_eq!(go_duration(Duration::from_millis(123_500)), "2m3.5s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn responses_have_gos_header_order() {
        let r = String::from_utf8(response(200, Type::Set("application/json"), b"{}")).unwrap();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "HTTP/1.1 200 OK");
        assert_eq!(lines[1], "Access-Control-Allow-Origin: *");
        assert_eq!(lines[2], "Content-Type: application/json");
        assert!(lines[3].starts_with("Date: "));
        assert_eq!(lines[4], "Content-Length: 2");
        let r = String::from_utf8(response(
            404,
            Type::NoSniff("text/plain; charset=utf-8"),
            b"404 page not found\n",
        ))
        .unwrap();
        assert!(r.starts_with("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: "));
    }
}
