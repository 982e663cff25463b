//! Incremental, bounded parsing of the upgrade request head, with Go `net/http`'s rejections.

use super::HandshakeError;
use super::gonet::{self, GoUrl};

/// Bounds on the request head. Go's `http.Server` allows `MaxHeaderBytes` (1 MiB) + 4096
/// bytes and no header count limit; a WebSocket upgrade needs far less, so ours are tighter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Request line + header lines + the empty line, in bytes. Past it: 431.
    pub max_head_bytes: usize,
    /// Header lines. Past it: 431.
    pub max_headers: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_head_bytes: 64 * 1024,
            max_headers: 128,
        }
    }
}

/// One header line as received: the name keeps its spelling, the value is trimmed of
/// spaces and tabs (Go: `textproto` trims them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name as sent.
    pub name: String,
    /// Field value, trimmed; bytes, as Go strings are.
    pub value: Vec<u8>,
}

/// A complete request head that passed Go `net/http`'s own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method token, case preserved (Go compares it with `"GET"` exactly).
    pub method: String,
    /// The request-target as sent.
    pub target: Vec<u8>,
    pub(crate) url: GoUrl,
    /// HTTP minor version; the major version is always 1 here.
    pub minor_version: u8,
    /// Header lines in order of arrival.
    pub headers: Vec<Header>,
    /// Bytes received after the end of the head. Go rejects a handshake that has any.
    pub trailing: Vec<u8>,
}

impl Request {
    /// Every value of the header `name` (case-insensitive), in order. Go: `r.Header[name]`.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| &h.value[..])
    }

    /// First value of the header `name`, or empty. Go: `r.Header.Get(name)`.
    pub fn header(&self, name: &str) -> &[u8] {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map_or(&[], |h| &h.value[..])
    }

    /// Go: `r.Host`: the host of an absolute-form target, else the `Host` header.
    pub fn host(&self) -> &[u8] {
        if self.url.host.is_empty() {
            self.header("Host")
        } else {
            &self.url.host
        }
    }

    /// Go: `r.ProtoAtLeast(1, 1)`.
    pub fn at_least_http11(&self) -> bool {
        self.minor_version >= 1
    }
}

/// Buffers the request head across reads until its empty line, within [`RequestLimits`].
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: RequestLimits,
    buf: Vec<u8>,
    scanned: usize,
    line_start: usize,
    request_line: Option<RequestLine>,
}

#[derive(Debug, Clone)]
struct RequestLine {
    method: String,
    target: Vec<u8>,
    url: GoUrl,
    major: u8,
    minor: u8,
    end: usize,
}

impl RequestParser {
    /// An empty parser.
    pub fn new(limits: RequestLimits) -> Self {
        RequestParser {
            limits,
            buf: Vec::new(),
            scanned: 0,
            line_start: 0,
            request_line: None,
        }
    }

    /// Feeds received bytes. `Ok(None)`: the head is not complete yet. `Ok(Some)`: the
    /// head, with any bytes after it in [`Request::trailing`]. Errors are final.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Request>, HandshakeError> {
        let room = self.limits.max_head_bytes.saturating_sub(self.buf.len());
        let (head_part, overflow) = bytes.split_at(bytes.len().min(room));
        self.buf.extend_from_slice(head_part);
        while let Some(offset) = self
            .buf
            .get(self.scanned..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
        {
            let newline = self.scanned + offset;
            self.scanned = newline + 1;
            let line = trim_cr(self.buf.get(self.line_start..newline).unwrap_or_default());
            self.line_start = newline + 1;
            match &self.request_line {
                // Go reads the request line first and rejects it before any header arrives.
                None => self.request_line = Some(parse_request_line(line, newline + 1)?),
                Some(rl) if line.is_empty() => {
                    let head_end = newline + 1;
                    let block = self.buf.get(rl.end..head_end).unwrap_or_default();
                    let headers = parse_headers(block, self.limits.max_headers)?;
                    let mut trailing = self.buf.get(head_end..).unwrap_or_default().to_vec();
                    trailing.extend_from_slice(overflow);
                    return finish(rl.clone(), headers, trailing).map(Some);
                }
                Some(_) => {}
            }
        }
        if self.buf.len() >= self.limits.max_head_bytes {
            return Err(HandshakeError::HeadTooLarge);
        }
        Ok(None)
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn malformed() -> HandshakeError {
    HandshakeError::MalformedRequest
}

/// Go: `parseRequestLine`, `validMethod`, `ParseHTTPVersion`, `url.ParseRequestURI`.
fn parse_request_line(line: &[u8], end: usize) -> Result<RequestLine, HandshakeError> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(proto)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if method.is_empty() || !method.iter().all(|&b| gonet::is_token_byte(b)) {
        return Err(malformed());
    }
    let (major, minor) = match proto {
        b"HTTP/1.1" => (1, 1),
        b"HTTP/1.0" => (1, 0),
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            (maj - b'0', min - b'0')
        }
        _ => return Err(malformed()),
    };
    let method = String::from_utf8_lossy(method).into_owned();
    // Go: a CONNECT authority-form target is parsed as "http://" + target, then loses the scheme.
    let url = if method == "CONNECT" && !target.starts_with(b"/") {
        let mut raw = b"http://".to_vec();
        raw.extend_from_slice(target);
        let mut url = gonet::parse_request_uri(&raw).map_err(|_| malformed())?;
        url.scheme.clear();
        url
    } else {
        gonet::parse_request_uri(target).map_err(|_| malformed())?
    };
    Ok(RequestLine {
        method,
        target: target.to_vec(),
        url,
        major,
        minor,
        end,
    })
}

/// The header block (header lines and the empty line). httparse first; on a name it
/// refuses, Go's more lenient `textproto` rules decide.
pub(super) fn parse_headers(
    block: &[u8],
    max_headers: usize,
) -> Result<Vec<Header>, HandshakeError> {
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    match httparse::parse_headers(block, &mut slots) {
        Ok(httparse::Status::Complete((_, parsed))) => Ok(parsed
            .iter()
            .map(|h| Header {
                name: h.name.to_owned(),
                value: trim_value(h.value).to_vec(),
            })
            .collect()),
        Ok(httparse::Status::Partial) => Err(malformed()),
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::HeadTooLarge),
        Err(httparse::Error::HeaderName) => parse_headers_textproto(block, max_headers),
        Err(_) => Err(malformed()),
    }
}

/// Go: `textproto.Reader.ReadMIMEHeader`: names with spaces are kept (not canonicalized,
/// so `Host : x` is no `Host`), folded lines are joined with one space.
fn parse_headers_textproto(
    block: &[u8],
    max_headers: usize,
) -> Result<Vec<Header>, HandshakeError> {
    let mut headers: Vec<Header> = Vec::new();
    for raw in block.split(|&b| b == b'\n') {
        let line = trim_cr(raw);
        if line.is_empty() {
            break;
        }
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            // RFC 9112 §5.2 obs-fold: Go joins it to the previous value.
            let last = headers.last_mut().ok_or_else(malformed)?;
            let more = trim_value(line);
            check_value(more)?;
            if !more.is_empty() {
                last.value.push(b' ');
                last.value.extend_from_slice(more);
            }
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(malformed)?;
        let (name, value) = line.split_at(colon);
        if name.is_empty() || !name.iter().all(|&b| gonet::is_token_byte(b) || b == b' ') {
            return Err(malformed());
        }
        let value = trim_value(value.get(1..).unwrap_or_default());
        check_value(value)?;
        if headers.len() == max_headers {
            return Err(HandshakeError::HeadTooLarge);
        }
        headers.push(Header {
            name: String::from_utf8_lossy(name).into_owned(),
            value: value.to_vec(),
        });
    }
    Ok(headers)
}

fn check_value(value: &[u8]) -> Result<(), HandshakeError> {
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        Err(malformed())
    } else {
        Ok(())
    }
}

fn trim_value(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}

/// Go: the checks of `readRequest` and `conn.readRequest` after the headers, in order.
fn finish(
    rl: RequestLine,
    headers: Vec<Header>,
    trailing: Vec<u8>,
) -> Result<Request, HandshakeError> {
    let hosts: Vec<&[u8]> = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Host"))
        .map(|h| &h.value[..])
        .collect();
    if hosts.len() > 1 {
        return Err(malformed());
    }
    // Go: http1ServerSupportsRequest.
    if rl.major != 1 {
        return Err(HandshakeError::UnsupportedVersion);
    }
    if rl.minor >= 1 && hosts.is_empty() && rl.method != "CONNECT" {
        return Err(HandshakeError::MissingHostHeader);
    }
    if let [host] = hosts[..]
        && !gonet::valid_host_header(host)
    {
        return Err(HandshakeError::MalformedHostHeader);
    }
    if headers
        .iter()
        .any(|h| !h.name.bytes().all(gonet::is_token_byte))
    {
        return Err(HandshakeError::InvalidHeaderName);
    }
    Ok(Request {
        method: rl.method,
        target: rl.target,
        url: rl.url,
        minor_version: rl.minor,
        headers,
        trailing,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const REQ: &[u8] =
        b"GET /x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

    fn parse_all(bytes: &[u8]) -> Result<Option<Request>, HandshakeError> {
        RequestParser::new(RequestLimits::default()).feed(bytes)
    }

    #[test]
    fn whole_request() {
        let r = parse_all(REQ).unwrap().unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, b"/x");
        assert_eq!(r.host(), b"localhost");
        assert_eq!(r.header("upgrade"), b"websocket");
        assert!(r.trailing.is_empty());
        assert!(r.at_least_http11());
    }

    #[test]
    fn split_at_every_byte_gives_the_same_request() {
        let mut data = REQ.to_vec();
        data.extend_from_slice(b"\x82\x80");
        let whole = parse_all(&data).unwrap().unwrap();
        for cut in 0..=data.len() {
            let mut p = RequestParser::new(RequestLimits::default());
            let (a, b) = data.split_at(cut);
            let first = p.feed(a).unwrap();
            let got = match first {
                Some(r) => r,
                None => p.feed(b).unwrap().unwrap(),
            };
            let mut expected = whole.clone();
            if cut >= REQ.len() {
                // Bytes fed after completion are the caller's; only the ones fed with the head are reported.
                expected.trailing.truncate(cut - REQ.len());
            }
            assert_eq!(got, expected, "cut at {cut}");
        }
        let mut p = RequestParser::new(RequestLimits::default());
        let mut done = None;
        for &b in REQ {
            assert!(done.is_none());
            done = p.feed(&[b]).unwrap();
        }
        assert_eq!(done.unwrap(), parse_all(REQ).unwrap().unwrap());
    }

    #[test]
    fn trailing_bytes_kept() {
        let mut data = REQ.to_vec();
        data.extend_from_slice(b"some data");
        assert_eq!(parse_all(&data).unwrap().unwrap().trailing, b"some data");
        let mut big = REQ.to_vec();
        big.extend(std::iter::repeat_n(b'x', 100_000));
        assert_eq!(parse_all(&big).unwrap().unwrap().trailing.len(), 100_000);
    }

    #[test]
    fn oversize_head_is_431() {
        let limits = RequestLimits {
            max_head_bytes: 100,
            max_headers: 4,
        };
        let mut p = RequestParser::new(limits);
        assert_eq!(p.feed(b"GET / HTTP/1.1\r\nX-Big: ").unwrap(), None);
        assert_eq!(p.feed(&[b'a'; 200]), Err(HandshakeError::HeadTooLarge));
        let many = b"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n";
        assert_eq!(
            RequestParser::new(limits).feed(many),
            Err(HandshakeError::HeadTooLarge)
        );
        let mut p = RequestParser::new(RequestLimits::default());
        assert_eq!(
            p.feed(&vec![b'G'; 70 * 1024]),
            Err(HandshakeError::HeadTooLarge)
        );
    }

    #[test]
    fn go_net_http_rejections() {
        let e = |s: &[u8]| parse_all(s).unwrap_err();
        assert_eq!(e(b"GARBAGE\r\n\r\n"), HandshakeError::MalformedRequest);
        assert_eq!(
            e(b"\r\nGET / HTTP/1.1\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET /%zz HTTP/1.1\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(e(b"GET foo HTTP/1.1\r\n"), HandshakeError::MalformedRequest);
        assert_eq!(e(b"GET / HTTPS/1.1\r\n"), HandshakeError::MalformedRequest);
        assert_eq!(e(b"G(T / HTTP/1.1\r\n"), HandshakeError::MalformedRequest);
        assert_eq!(
            e(b"GET / HTTP/2.0\r\n\r\n"),
            HandshakeError::UnsupportedVersion
        );
        assert_eq!(
            e(b"GET / HTTP/2.0\r\nNocolon\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\n\r\n"),
            HandshakeError::MissingHostHeader
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
            HandshakeError::MissingHostHeader
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            HandshakeError::MalformedHostHeader
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: user@host\r\n\r\n"),
            HandshakeError::MalformedHostHeader
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n"),
            HandshakeError::InvalidHeaderName
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: a b\r\nBad Name: x\r\n\r\n"),
            HandshakeError::MalformedHostHeader
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: x\r\nBadheader\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
        assert_eq!(
            e(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n"),
            HandshakeError::MalformedRequest
        );
    }

    #[test]
    fn go_net_http_accepts() {
        let ok = |s: &[u8]| parse_all(s).unwrap().unwrap();
        // HTTP/1.0 needs no Host; Go reports r.Host == "".
        assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n").host(), b"");
        // Any HTTP/1.x is served (Go: ParseHTTPVersion + http1ServerSupportsRequest).
        assert_eq!(ok(b"GET / HTTP/1.5\r\nHost: x\r\n\r\n").minor_version, 5);
        // Bare LF line ends.
        assert_eq!(ok(b"GET / HTTP/1.1\nHost: x\n\n").host(), b"x");
        // Folded header: joined with one space.
        assert_eq!(
            ok(b"GET / HTTP/1.1\r\nHost: x\r\nX-F: a\r\n b\r\n\r\n").header("x-f"),
            b"a b"
        );
        // Absolute-form target: its host wins over the Host header.
        assert_eq!(
            ok(b"GET http://example.com/mqtt HTTP/1.1\r\nHost: x\r\n\r\n").host(),
            b"example.com"
        );
        // Empty Host is valid for net/http; wsUpgrade rejects it later.
        assert_eq!(ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").host(), b"");
        let r = ok(b"GET / HTTP/1.1\r\nHost: x\r\nX-A:  \t v \t\r\nX-A: w\r\n\r\n");
        assert_eq!(
            r.header_values("X-a").collect::<Vec<_>>(),
            vec![&b"v"[..], &b"w"[..]]
        );
        assert_eq!(ok(b"CONNECT h:1 HTTP/1.1\r\n\r\n").host(), b"h:1");
    }
}
