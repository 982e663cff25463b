//! Response bytes: the raw 101, and the rejections as Go's `net/http` writes them.

use std::fmt;

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::goquote::quote;
use crate::policy::{Compression, MaskPolicy};

/// RFC 6455 §1.3: appended to the client's key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// RFC 6455 §4.2.2 point 5.4: `base64(SHA-1(key + GUID))`. Go: `wsAcceptKey`.
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A `Date:` value: an RFC 9110 §5.6.7 IMF-fixdate of a Unix time the caller supplies
/// (the core reads no clock), e.g. `Fri, 27 Nov 2026 01:53:25 GMT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpDate {
    unix_secs: u64,
}

impl HttpDate {
    /// The date `unix_secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(unix_secs: u64) -> Self {
        HttpDate { unix_secs }
    }
}

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = self.unix_secs / 86_400;
        let secs = self.unix_secs % 86_400;
        // Civil date from days since the epoch (H. Hinnant's algorithm, proleptic Gregorian).
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        let weekday = DAYS
            .get(usize::try_from(days % 7).unwrap_or(0))
            .unwrap_or(&"Thu");
        let month_name = MONTHS
            .get(usize::try_from(month - 1).unwrap_or(0))
            .unwrap_or(&"Jan");
        write!(
            f,
            "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Configured extra headers for the 101, validated, in configuration order. Go builds
/// them from a map (random order); ours is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomHeaders {
    raw: String,
}

/// A configured response header Go refuses. Go: `validateWebsocketOptions`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderConfigError {
    /// One of the headers the handshake itself owns.
    #[error("websocket: invalid header {} not allowed", quote(.0))]
    NotAllowed(String),
    /// Any `Sec-WebSocket-*` header.
    #[error("websocket: invalid header {}, \"Sec-WebSocket-\" prefix not allowed", quote(.0))]
    SecWebSocketPrefix(String),
}

/// Go: the `Headers` loop of `validateWebsocketOptions` (case-insensitive names).
pub fn validate_custom_header(name: &str) -> Result<(), HeaderConfigError> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "host" | "content-length" | "connection" | "upgrade" | "nats-no-masking" => {
            Err(HeaderConfigError::NotAllowed(name.to_owned()))
        }
        l if l.starts_with("sec-websocket-") => {
            Err(HeaderConfigError::SecWebSocketPrefix(name.to_owned()))
        }
        _ => Ok(()),
    }
}

impl CustomHeaders {
    /// Validates every name, then keeps `Name: value\r\n` lines in the given order.
    /// Go: `validateWebsocketOptions` + `wsSetHeadersOptions`.
    pub fn new<I, K, V>(headers: I) -> Result<Self, HeaderConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw = String::new();
        for (name, value) in headers {
            validate_custom_header(name.as_ref())?;
            raw.push_str(name.as_ref());
            raw.push_str(": ");
            raw.push_str(value.as_ref());
            raw.push_str("\r\n");
        }
        Ok(CustomHeaders { raw })
    }
}

/// RFC 6455 §4.2.2: the 101, header for header as Go writes it. Go: `wsUpgrade`.
pub(crate) fn switching_protocols(
    accept: &str,
    compression: Compression,
    mask: MaskPolicy,
    mqtt: bool,
    custom: &CustomHeaders,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(256 + custom.raw.len());
    p.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    p.extend_from_slice(accept.as_bytes());
    p.extend_from_slice(b"\r\n");
    match compression {
        Compression::Negotiated => p.extend_from_slice(
            b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n",
        ),
        Compression::Off => {}
    }
    match mask {
        MaskPolicy::Exempt => p.extend_from_slice(b"Nats-No-Masking: true\r\n"),
        MaskPolicy::Required => {}
    }
    if mqtt {
        p.extend_from_slice(b"Sec-Websocket-Protocol: mqtt\r\n");
    }
    p.extend_from_slice(custom.raw.as_bytes());
    p.extend_from_slice(b"\r\n");
    p
}

/// Go: `http.StatusText` for the statuses the handshake uses.
pub(crate) fn status_text(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

fn status_line(out: &mut Vec<u8>, http11: bool, status: u16) {
    let proto = if http11 { "HTTP/1.1" } else { "HTTP/1.0" };
    out.extend_from_slice(format!("{proto} {status} {}\r\n", status_text(status)).as_bytes());
}

fn date_and_length(out: &mut Vec<u8>, date: HttpDate, length: Option<usize>) {
    out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    if let Some(n) = length {
        out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
    }
}

/// Go: `wsReturnHTTPError`: `http.Error(w, StatusText(status), status)` with
/// `Sec-Websocket-Version: 13`; headers in Go's sorted order, then `Date`, `Content-Length`.
pub(crate) fn ws_http_error(status: u16, http11: bool, date: HttpDate) -> Vec<u8> {
    let body = format!("{}\n", status_text(status));
    let mut out = Vec::with_capacity(200);
    status_line(&mut out, http11, status);
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\nX-Content-Type-Options: nosniff\r\n");
    date_and_length(&mut out, date, Some(body.len()));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Go `net/http`'s answer to a request it cannot read (`conn.serve`): always `HTTP/1.1`,
/// no `Date`, the status text (and reason) repeated as the body.
pub(crate) fn conn_error(status: u16, reason: Option<&str>) -> Vec<u8> {
    let mut public = format!("{status} {}", status_text(status));
    if let Some(r) = reason {
        public.push_str(": ");
        public.push_str(r);
    }
    format!("HTTP/1.1 {public}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{public}").into_bytes()
}

/// Go `globalOptionsHandler` for `OPTIONS *`: 200, `Content-Length: 0` set by the handler.
pub(crate) fn options_ok(http11: bool, date: HttpDate) -> Vec<u8> {
    let mut out = Vec::with_capacity(80);
    status_line(&mut out, http11, 200);
    out.extend_from_slice(b"Content-Length: 0\r\n");
    date_and_length(&mut out, date, None);
    out.extend_from_slice(b"\r\n");
    out
}

/// Go `ServeMux` for a `*` target: 400, empty body (`Connection: close` from HTTP/1.1 on).
pub(crate) fn mux_bad_request(http11: bool, date: HttpDate) -> Vec<u8> {
    let mut out = Vec::with_capacity(120);
    status_line(&mut out, http11, 400);
    if http11 {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    date_and_length(&mut out, date, Some(0));
    out.extend_from_slice(b"\r\n");
    out
}

/// Go `ServeMux` for a CONNECT to an authority: `NotFound` (observed with `Connection: close`).
pub(crate) fn mux_not_found(http11: bool, date: HttpDate) -> Vec<u8> {
    let body = "404 page not found\n";
    let mut out = Vec::with_capacity(200);
    status_line(&mut out, http11, 404);
    out.extend_from_slice(
        b"Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n",
    );
    date_and_length(&mut out, date, Some(body.len()));
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Go `ServeMux` for a path that is not clean: `http.Redirect(..., 307)`. GET carries an
/// HTML body; HEAD only the type; other methods an empty body.
pub(crate) fn mux_redirect(location: &str, method: &str, http11: bool, date: HttpDate) -> Vec<u8> {
    let mut out = Vec::with_capacity(200 + 2 * location.len());
    status_line(&mut out, http11, 307);
    let with_type = method == "GET" || method == "HEAD";
    if with_type {
        out.extend_from_slice(b"Content-Type: text/html; charset=utf-8\r\n");
    }
    out.extend_from_slice(format!("Location: {location}\r\n").as_bytes());
    let body = if method == "GET" {
        format!(
            "<a href=\"{}\">Temporary Redirect</a>.\n\n",
            html_escape(location)
        )
    } else {
        String::new()
    };
    date_and_length(
        &mut out,
        date,
        if method == "HEAD" {
            None
        } else {
            Some(body.len())
        },
    );
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Go: `html.EscapeString` as `http.Redirect` uses it.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_rfc_sample() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn http_date() {
        assert_eq!(
            HttpDate::from_unix(0).to_string(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            HttpDate::from_unix(1_795_744_405).to_string(),
            "Fri, 27 Nov 2026 01:53:25 GMT"
        );
        assert_eq!(
            HttpDate::from_unix(951_782_400).to_string(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            HttpDate::from_unix(4_107_542_399).to_string(),
            "Sun, 28 Feb 2100 23:59:59 GMT"
        );
    }

    #[test]
    fn custom_header_validation_texts() {
        for name in [
            "Host",
            "content-length",
            "CONNECTION",
            "Upgrade",
            "Nats-No-Masking",
        ] {
            assert_eq!(
                CustomHeaders::new([(name, "v")]).unwrap_err().to_string(),
                format!("websocket: invalid header \"{name}\" not allowed")
            );
        }
        assert_eq!(
            CustomHeaders::new([("X-Ok", "1"), ("sec-websocket-foo", "v")])
                .unwrap_err()
                .to_string(),
            r#"websocket: invalid header "sec-websocket-foo", "Sec-WebSocket-" prefix not allowed"#
        );
        assert!(validate_custom_header("X-Sec-WebSocket-Foo").is_ok());
    }

    #[test]
    fn switching_protocols_all_options() {
        let custom = CustomHeaders::new([("X-Custom", "v"), ("X-Another", "w")]).unwrap();
        let got = switching_protocols(
            "k=",
            Compression::Negotiated,
            MaskPolicy::Exempt,
            true,
            &custom,
        );
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: k=\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\
             Nats-No-Masking: true\r\nSec-Websocket-Protocol: mqtt\r\nX-Custom: v\r\nX-Another: w\r\n\r\n"
        );
    }
}
