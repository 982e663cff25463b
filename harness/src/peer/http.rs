//! HTTP for the peer clients: the upgrade request, the response head read and parsed, and
//! monitoring GETs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixture::HttpSpec;
use crate::peer::transport::{ReadEnd, Stream, read_until};

/// Go's `testWSCreateValidReq` headers.
const VALID_HEADERS: [(&str, &str); 5] = [
    ("Host", "localhost"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-Websocket-Version", "13"),
];

/// The upgrade request of the load tool: Go's test client headers, `Host` the server's
/// address, no `User-Agent` (not a browser, so the server sends whole frames), and with
/// `compress` a permessage-deflate offer without context takeover.
pub fn upgrade_request(addr: SocketAddr, compress: bool) -> Vec<u8> {
    let ext = if compress {
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
    } else {
        ""
    };
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    )
    .into_bytes()
}

/// The request a `ws_connect` step sends: the spec's changes, then the
/// permessage-deflate offer (`compress`), a browser `User-Agent` (`browser`), and the
/// server's address as `Host` unless the spec sets or removes `Host` itself.
pub fn connect_request(
    http: &HttpSpec,
    compress: bool,
    browser: bool,
    addr: SocketAddr,
) -> HttpSpec {
    let mut http = http.clone();
    if compress {
        http.set.push([
            "Sec-WebSocket-Extensions".to_owned(),
            "permessage-deflate".to_owned(),
        ]);
    }
    if browser {
        http.set
            .push(["User-Agent".to_owned(), "Mozilla/5.0".to_owned()]);
    }
    let host_given = http.set.iter().any(|[k, _]| k.eq_ignore_ascii_case("host"))
        || http.remove.iter().any(|k| k.eq_ignore_ascii_case("host"));
    if !host_given {
        http.set.push(["Host".to_owned(), addr.to_string()]);
    }
    http
}

/// Builds request bytes from the spec.
pub fn build_request(spec: &HttpSpec) -> Result<Vec<u8>, String> {
    if let Some(raw) = &spec.raw {
        return raw.build().map_err(|e| e.to_string());
    }
    let mut headers: Vec<(String, String)> = VALID_HEADERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    headers.retain(|(k, _)| !spec.remove.iter().any(|r| r.eq_ignore_ascii_case(k)));
    for [k, v] in &spec.set {
        match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
            Some(slot) => *slot = (k.clone(), v.clone()),
            None => headers.push((k.clone(), v.clone())),
        }
    }
    for [k, v] in &spec.add {
        headers.push((k.clone(), v.clone()));
    }
    let mut out = format!(
        "{} {} {}\r\n",
        spec.method.as_deref().unwrap_or("GET"),
        spec.path.as_deref().unwrap_or("/"),
        spec.version.as_deref().unwrap_or("HTTP/1.1")
    )
    .into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if let Some(extra) = &spec.extra {
        out.extend(extra.build().map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// An HTTP response split into status, headers (in order) and body.
pub type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// Splits an HTTP/1.x response into status, headers and body.
pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        })
        .collect();
    Some((status, headers, raw[end + 4..].to_vec()))
}

/// The size of the response head (through the blank line), once it has all arrived.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Reads onto `buf` until it holds a whole response head (or `max` bytes) or the
/// deadline passes; returns how reading ended if it did first.
pub fn read_head(
    stream: &mut Stream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    max: usize,
) -> Option<ReadEnd> {
    read_until(stream, buf, deadline, |b| {
        head_len(b).is_some() || b.len() > max
    })
}

/// Whether a response head accepts permessage-deflate.
pub fn accepts_deflate(head: &[u8]) -> bool {
    String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("permessage-deflate")
}

/// Largest monitoring answer read.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// One `GET` with `Connection: close`; the raw answer.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "refusing non-loopback address {addr}"
        )));
    }
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.take(MAX_BODY).read_to_end(&mut raw)?;
    Ok(raw)
}

/// The body, de-chunked if the answer is `Transfer-Encoding: chunked`.
pub fn plain_body(headers: &[(String, String)], body: Vec<u8>) -> Option<Vec<u8>> {
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked { dechunk(&body) } else { Some(body) }
}

/// `GET path` and its JSON body (status 200 only).
pub fn get_json(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Value, String> {
    let raw = get(addr, path, timeout).map_err(|e| format!("GET {path}: {e}"))?;
    let (status, headers, body) =
        parse_response(&raw).ok_or_else(|| format!("GET {path}: not an HTTP answer"))?;
    let body = plain_body(&headers, body).ok_or_else(|| format!("GET {path}: bad chunked body"))?;
    if status != 200 {
        return Err(format!("GET {path}: status {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {path}: not JSON: {e}"))
}

/// The body of a `Transfer-Encoding: chunked` answer (Go's for larger bodies).
pub fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(raw.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = raw.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}
