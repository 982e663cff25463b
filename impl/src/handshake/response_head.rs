//! Incremental, bounded reading of an HTTP/1.x response head, for the requests this
//! server makes itself (a leafnode's WebSocket upgrade, an HTTP `CONNECT` to a proxy),
//! with Go `http.ReadResponse`'s error texts.

use super::HandshakeError;
use super::request::{Header, parse_headers};

/// Bound on a response head (status line, headers, empty line). Go's `http.ReadResponse`
/// has none; an upgrade or `CONNECT` answer is a few hundred bytes.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// Bound on the header lines of a response head.
pub const MAX_RESPONSE_HEADERS: usize = 64;

/// A complete response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub code: u16,
    /// Go: `resp.Status`, the status line after the protocol (`200 Connection established`).
    pub status: String,
    /// Header lines in order of arrival.
    pub headers: Vec<Header>,
}

impl ResponseHead {
    /// First value of the header `name` (case-insensitive), or empty. Go: `Header.Get`.
    pub fn header(&self, name: &str) -> &[u8] {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map_or(&[], |h| &h.value[..])
    }

    /// Every value of the header `name`, in order. Go: `Header[name]` (canonical name).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| &h.value[..])
    }
}

/// Why a response head could not be read. Display is Go's `http.ReadResponse` text where
/// Go has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The connection ended before the head did, even before its first byte. Go:
    /// `io.ErrUnexpectedEOF` (`ReadResponse` turns an `io.EOF` on the status line into
    /// it; nats-server 2.15.1 logs `Error soliciting websocket connection: unexpected
    /// EOF` for a hub that closes at once).
    #[error("unexpected EOF")]
    UnexpectedEof,
    /// A status line without a space. Go: `badStringError`.
    #[error("malformed HTTP response {}", crate::goquote::quote_bytes(.0))]
    MalformedResponse(Vec<u8>),
    /// A status code that is not three digits.
    #[error("malformed HTTP status code {}", crate::goquote::quote_bytes(.0))]
    MalformedStatusCode(Vec<u8>),
    /// A protocol other than `HTTP/<digit>.<digit>`.
    #[error("malformed HTTP version {}", crate::goquote::quote_bytes(.0))]
    MalformedVersion(Vec<u8>),
    /// A header line Go's `textproto` cannot read.
    #[error("malformed MIME header line")]
    MalformedHeader,
    /// Over [`MAX_RESPONSE_HEAD`] bytes or [`MAX_RESPONSE_HEADERS`] lines (ours: Go reads
    /// any size).
    #[error("response head too large")]
    TooLarge,
}

/// Buffers a response head across reads until its empty line.
#[derive(Debug, Clone, Default)]
pub struct ResponseReader {
    buf: Vec<u8>,
    /// Where the search for the end of the head resumes.
    scanned: usize,
    /// Where the line being scanned starts.
    line_start: usize,
}

impl ResponseReader {
    /// An empty reader.
    pub fn new() -> Self {
        ResponseReader::default()
    }

    /// Feeds received bytes. `Ok(None)`: not complete yet. `Ok(Some((head, rest)))`: the
    /// head, and the bytes received after it (the peer's first protocol bytes, which
    /// belong to the next layer). Errors are final.
    pub fn handle_input(
        &mut self,
        bytes: &[u8],
    ) -> Result<Option<(ResponseHead, Vec<u8>)>, ResponseError> {
        let room = MAX_RESPONSE_HEAD.saturating_sub(self.buf.len());
        let (head_part, overflow) = bytes.split_at(bytes.len().min(room));
        self.buf.extend_from_slice(head_part);
        let Some(end) = self.head_end() else {
            if self.buf.len() >= MAX_RESPONSE_HEAD {
                return Err(ResponseError::TooLarge);
            }
            return Ok(None);
        };
        let head = parse_head(self.buf.get(..end).unwrap_or_default())?;
        let mut rest = self.buf.get(end..).unwrap_or_default().to_vec();
        rest.extend_from_slice(overflow);
        Ok(Some((head, rest)))
    }

    /// The connection ended before the head did.
    pub fn handle_eof(&self) -> ResponseError {
        ResponseError::UnexpectedEof
    }

    /// The offset just past the empty line (`\n` or `\r\n` alone: Go's `textproto` lines)
    /// that ends the head. Scans only bytes not seen before.
    fn head_end(&mut self) -> Option<usize> {
        while let Some(offset) = self
            .buf
            .get(self.scanned..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
        {
            let newline = self.scanned + offset;
            self.scanned = newline + 1;
            let line = self.buf.get(self.line_start..newline).unwrap_or_default();
            if line.is_empty() || line == b"\r" {
                return Some(newline + 1);
            }
            self.line_start = newline + 1;
        }
        self.scanned = self.buf.len();
        None
    }
}

/// Go: `http.ReadResponse`'s status line, then `textproto.ReadMIMEHeader`.
fn parse_head(head: &[u8]) -> Result<ResponseHead, ResponseError> {
    let newline = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head.get(..newline).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return Err(ResponseError::MalformedResponse(line.to_vec()));
    };
    let (proto, status) = line.split_at(space);
    let status = trim_left_spaces(status);
    let code_text = status.split(|&b| b == b' ').next().unwrap_or_default();
    let code = match code_text {
        [a, b, c] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(ResponseError::MalformedStatusCode(code_text.to_vec())),
    };
    if !matches!(proto, [b'H', b'T', b'T', b'P', b'/', maj, b'.', min] if maj.is_ascii_digit() && min.is_ascii_digit())
    {
        return Err(ResponseError::MalformedVersion(proto.to_vec()));
    }
    let block = head.get(newline + 1..).unwrap_or_default();
    let headers = parse_headers(block, MAX_RESPONSE_HEADERS).map_err(|e| match e {
        HandshakeError::HeadTooLarge => ResponseError::TooLarge,
        _ => ResponseError::MalformedHeader,
    })?;
    Ok(ResponseHead {
        code,
        status: String::from_utf8_lossy(status).into_owned(),
        headers,
    })
}

fn trim_left_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    s.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]]) -> Result<Option<(ResponseHead, Vec<u8>)>, ResponseError> {
        let mut r = ResponseReader::new();
        for (i, c) in chunks.iter().enumerate() {
            match r.handle_input(c) {
                Ok(None) => {}
                // What was not fed yet follows what the reader kept.
                Ok(Some((head, mut rest))) => {
                    rest.extend(chunks.iter().skip(i + 1).flat_map(|c| c.iter()));
                    return Ok(Some((head, rest)));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    #[test]
    fn reads_a_head_split_anywhere_and_keeps_what_follows() {
        let bytes = b"HTTP/1.1 200 Connection established\r\nX-A:  1 \r\nx-a: 2\r\n\r\nINFO {}";
        for split in 0..bytes.len() {
            let (a, b) = bytes.split_at(split);
            let Ok(Some((head, rest))) = read_all(&[a, b]) else {
                panic!("split {split}");
            };
            assert_eq!(head.code, 200);
            assert_eq!(head.status, "200 Connection established");
            assert_eq!(head.header("X-A"), b"1");
            assert_eq!(head.header_values("x-A").count(), 2);
            assert_eq!(rest, b"INFO {}");
        }
    }

    #[test]
    fn errors_are_gos() {
        let err = |b: &[u8]| match read_all(&[b]) {
            Err(e) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(b"garbage\r\n\r\n"),
            "malformed HTTP response \"garbage\""
        );
        assert_eq!(
            err(b"HTTP/1.1 20 OK\r\n\r\n"),
            "malformed HTTP status code \"20\""
        );
        assert_eq!(
            err(b"HTTX/1.1 200 OK\r\n\r\n"),
            "malformed HTTP version \"HTTX/1.1\""
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
            "malformed MIME header line"
        );
        let mut r = ResponseReader::new();
        assert_eq!(r.handle_eof().to_string(), "unexpected EOF");
        assert_eq!(r.handle_input(b"HTTP/1.1 1"), Ok(None));
        assert_eq!(r.handle_eof().to_string(), "unexpected EOF");
    }

    #[test]
    fn bounded() {
        let mut r = ResponseReader::new();
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        assert_eq!(r.handle_input(b"HTTP/1.1 200 OK\r\n"), Ok(None));
        let mut result = Ok(None);
        for _ in 0..(MAX_RESPONSE_HEAD / line.len() + 2) {
            result = r.handle_input(line);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ResponseError::TooLarge));
    }
}
