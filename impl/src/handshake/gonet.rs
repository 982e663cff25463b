//! The subsets of Go's `net/url`, `net`, `path` and `httpguts` the handshake needs, with Go's error texts.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::goquote::quote_bytes;

/// The parts of a Go `url.URL` the handshake reads. Byte strings, as Go strings are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoUrl {
    /// Lowercased scheme, empty if none.
    pub scheme: Vec<u8>,
    /// `host[:port]` as written (unescaped), empty if none.
    pub host: Vec<u8>,
    /// Decoded path.
    pub path: Vec<u8>,
    /// The path as received, kept only when it differs from the default escaping of `path`.
    pub raw_path: Vec<u8>,
    /// Query without `?`.
    pub raw_query: Vec<u8>,
    /// Rootless remainder after `scheme:` (e.g. `mailto:x`).
    pub opaque: Vec<u8>,
    /// Decoded `user[:password]` of the authority (Go: `URL.User`).
    pub user: Option<Userinfo>,
    /// A `?` with an empty query (Go: `URL.ForceQuery`).
    pub force_query: bool,
    /// `scheme:/path` without `//` (Go: `URL.OmitHost`).
    pub omit_host: bool,
    /// The fragment after `#`, as written (only [`parse_url`] keeps one).
    pub raw_fragment: Vec<u8>,
}

/// Whether [`GoUrl::to_go_string`] hides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redact {
    /// Go: `URL.String`.
    Nothing,
    /// Go: `URL.Redacted`.
    Password,
}

/// Go: `url.Userinfo`, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Userinfo {
    pub username: Vec<u8>,
    /// `None` when the userinfo has no `:` (Go: `Password()`'s `set` result).
    pub password: Option<Vec<u8>>,
}

/// Go's `*url.Error` from `url.ParseRequestURI`: `parse "<url>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    url: Vec<u8>,
    reason: UrlErrorReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UrlErrorReason {
    ControlCharacter,
    Empty,
    MissingScheme,
    InvalidForRequest,
    MissingBracket,
    InvalidPort(Vec<u8>),
    InvalidUserinfo,
    Escape(Vec<u8>),
    InvalidHostChar(Vec<u8>),
    ColonInFirstSegment,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse {}: ", quote_bytes(&self.url))?;
        match &self.reason {
            UrlErrorReason::ControlCharacter => {
                f.write_str("net/url: invalid control character in URL")
            }
            UrlErrorReason::Empty => f.write_str("empty url"),
            UrlErrorReason::MissingScheme => f.write_str("missing protocol scheme"),
            UrlErrorReason::InvalidForRequest => f.write_str("invalid URI for request"),
            UrlErrorReason::MissingBracket => f.write_str("missing ']' in host"),
            UrlErrorReason::InvalidPort(p) => {
                write!(f, "invalid port {} after host", quote_bytes(p))
            }
            UrlErrorReason::InvalidUserinfo => f.write_str("net/url: invalid userinfo"),
            UrlErrorReason::Escape(s) => write!(f, "invalid URL escape {}", quote_bytes(s)),
            UrlErrorReason::InvalidHostChar(s) => {
                write!(f, "invalid character {} in host name", quote_bytes(s))
            }
            UrlErrorReason::ColonInFirstSegment => {
                f.write_str("first path segment in URL cannot contain colon")
            }
        }
    }
}

impl std::error::Error for UrlError {}

/// Go's `*net.AddrError` from `net.SplitHostPort`: `address <addr>: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    addr: Vec<u8>,
    reason: &'static str,
}

impl AddrError {
    fn missing_port(&self) -> bool {
        self.reason == MISSING_PORT
    }
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.addr.is_empty() {
            return f.write_str(self.reason);
        }
        write!(
            f,
            "address {}: {}",
            String::from_utf8_lossy(&self.addr),
            self.reason
        )
    }
}

impl std::error::Error for AddrError {}

const MISSING_PORT: &str = "missing port in address";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
}

/// Which of Go's two URL parsers (Go: `parse`'s `viaRequest`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `url.ParseRequestURI`: absolute URI or absolute path, no fragment.
    Request,
    /// `url.Parse`: any URI reference.
    Reference,
}

/// Go: `url.ParseRequestURI` (no fragment handling; colons in hosts as a `go 1.25` module
/// parses them, i.e. `GODEBUG=urlstrictcolons=0`: the last colon starts the port).
pub(crate) fn parse_request_uri(raw: &[u8]) -> Result<GoUrl, UrlError> {
    parse(raw, Via::Request).map_err(|reason| UrlError {
        url: raw.to_vec(),
        reason,
    })
}

/// Go: `url.Parse`. The fragment is kept as written (Go checks its escapes; nothing here
/// reads a fragment).
pub(crate) fn parse_url(raw: &[u8]) -> Result<GoUrl, UrlError> {
    let (before, fragment) = match raw.iter().position(|&b| b == b'#') {
        Some(i) => (raw.get(..i).unwrap_or_default(), raw.get(i + 1..)),
        None => (raw, None),
    };
    let mut url = parse(before, Via::Reference).map_err(|reason| UrlError {
        url: before.to_vec(),
        reason,
    })?;
    if let Some(fragment) = fragment {
        unescape(fragment, Mode::Path).map_err(|reason| UrlError {
            url: raw.to_vec(),
            reason,
        })?;
        url.raw_fragment = fragment.to_vec();
    }
    Ok(url)
}

fn parse(raw: &[u8], via: Via) -> Result<GoUrl, UrlErrorReason> {
    if raw.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(UrlErrorReason::ControlCharacter);
    }
    if raw.is_empty() && via == Via::Request {
        return Err(UrlErrorReason::Empty);
    }
    let mut url = GoUrl::default();
    if raw == b"*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, mut rest) = scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    if rest.last() == Some(&b'?') && rest.iter().filter(|&&b| b == b'?').count() == 1 {
        url.force_query = true;
        rest = rest.get(..rest.len() - 1).unwrap_or_default();
    } else if let Some(q) = rest.iter().position(|&b| b == b'?') {
        url.raw_query = rest.get(q + 1..).unwrap_or_default().to_vec();
        rest = rest.get(..q).unwrap_or_default();
    }
    if !rest.starts_with(b"/") {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_vec();
            return Ok(url);
        }
        if via == Via::Request {
            return Err(UrlErrorReason::InvalidForRequest);
        }
        // Go: "avoid confusion with malformed schemes".
        let segment = rest.split(|&b| b == b'/').next().unwrap_or_default();
        if segment.contains(&b':') {
            return Err(UrlErrorReason::ColonInFirstSegment);
        }
    }
    let authority_follows =
        !url.scheme.is_empty() || (via == Via::Reference && !rest.starts_with(b"///"));
    if authority_follows && rest.starts_with(b"//") {
        let authority_and_path = rest.get(2..).unwrap_or_default();
        let slash = authority_and_path.iter().position(|&b| b == b'/');
        let (authority, path) = match slash {
            Some(i) => authority_and_path.split_at(i),
            None => (authority_and_path, &b""[..]),
        };
        (url.user, url.host) = parse_authority(authority)?;
        rest = path;
    } else if !url.scheme.is_empty() && rest.starts_with(b"/") {
        url.omit_host = true;
    }
    url.path = unescape(rest, Mode::Path)?;
    if escape_path(&url.path) != rest {
        url.raw_path = rest.to_vec();
    }
    Ok(url)
}

fn scheme(raw: &[u8]) -> Result<(&[u8], &[u8]), UrlErrorReason> {
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err(UrlErrorReason::MissingScheme),
            b':' => {
                return Ok((
                    raw.get(..i).unwrap_or_default(),
                    raw.get(i + 1..).unwrap_or_default(),
                ));
            }
            _ => return Ok((b"", raw)),
        }
    }
    Ok((b"", raw))
}

fn parse_authority(authority: &[u8]) -> Result<(Option<Userinfo>, Vec<u8>), UrlErrorReason> {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host = parse_host(at.map_or(authority, |i| authority.get(i + 1..).unwrap_or_default()))?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = authority.get(..i).unwrap_or_default();
    if !userinfo.iter().all(|&b| valid_userinfo_byte(b)) {
        return Err(UrlErrorReason::InvalidUserinfo);
    }
    let mut parts = userinfo.splitn(2, |&b| b == b':');
    let username = unescape(parts.next().unwrap_or_default(), Mode::UserPassword)?;
    let password = match parts.next() {
        Some(p) => Some(unescape(p, Mode::UserPassword)?),
        None => None,
    };
    Ok((Some(Userinfo { username, password }), host))
}

fn parse_host(host: &[u8]) -> Result<Vec<u8>, UrlErrorReason> {
    if host.starts_with(b"[") {
        let Some(close) = host.iter().rposition(|&b| b == b']') else {
            return Err(UrlErrorReason::MissingBracket);
        };
        let colon_port = host.get(close + 1..).unwrap_or_default();
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
        }
        let inside = host.get(..close).unwrap_or_default();
        if let Some(zone) = find(inside, b"%25") {
            let mut out = unescape(host.get(..zone).unwrap_or_default(), Mode::Host)?;
            out.extend(unescape(
                host.get(zone..close).unwrap_or_default(),
                Mode::Zone,
            )?);
            out.extend(unescape(host.get(close..).unwrap_or_default(), Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(i) = host.iter().rposition(|&b| b == b':') {
        let colon_port = host.get(i..).unwrap_or_default();
        if !valid_optional_port(colon_port) {
            return Err(UrlErrorReason::InvalidPort(colon_port.to_vec()));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Go: `url.unescape` for the modes the handshake uses.
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, UrlErrorReason> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'%' {
            let (Some(hi), Some(lo)) = (
                s.get(i + 1).copied().and_then(hex_value),
                s.get(i + 2).copied().and_then(hex_value),
            ) else {
                let end = (i + 3).min(s.len());
                return Err(UrlErrorReason::Escape(
                    s.get(i..end).unwrap_or_default().to_vec(),
                ));
            };
            let seq = s.get(i..i + 3).unwrap_or_default();
            // RFC 3986 §3.2.2: in a host, %-encoding is only for non-ASCII bytes (and RFC 6874's %25).
            if mode == Mode::Host && hi < 8 && seq != b"%25" {
                return Err(UrlErrorReason::Escape(seq.to_vec()));
            }
            let v = hi << 4 | lo;
            if mode == Mode::Zone && seq != b"%25" && v != b' ' && should_escape(v, Mode::Host) {
                return Err(UrlErrorReason::Escape(seq.to_vec()));
            }
            out.push(v);
            i += 3;
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                return Err(UrlErrorReason::InvalidHostChar(vec![c]));
            }
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

/// Go: `url.shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Host | Mode::Zone => true,
        },
        _ => true,
    }
}

/// Go: `url.escape(s, encodePath)` (uppercase hex).
fn escape_path(s: &[u8]) -> Vec<u8> {
    escape(s, Mode::Path)
}

/// Go: `url.escape` for the modes `URL.String` uses (uppercase hex).
fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
    }
    out
}

impl GoUrl {
    /// Go: `URL.String`, with the password replaced by `xxxxx` when `redact` (Go:
    /// `URL.Redacted`, `redactURLList`).
    pub(crate) fn to_go_string(&self, redact: Redact) -> String {
        let mut out: Vec<u8> = Vec::new();
        if !self.scheme.is_empty() {
            out.extend_from_slice(&self.scheme);
            out.push(b':');
        }
        if self.opaque.is_empty() {
            let authority = !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            if authority && !(self.omit_host && self.host.is_empty() && self.user.is_none()) {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.extend_from_slice(b"//");
                }
                if let Some(user) = &self.user {
                    out.extend(escape(&user.username, Mode::UserPassword));
                    if let Some(password) = &user.password {
                        out.push(b':');
                        match redact {
                            Redact::Password => out.extend_from_slice(b"xxxxx"),
                            Redact::Nothing => out.extend(escape(password, Mode::UserPassword)),
                        }
                    }
                    out.push(b'@');
                }
                out.extend(escape(&self.host, Mode::Host));
            }
            let path = self.escaped_path();
            if path.first().is_some_and(|&b| b != b'/') && !self.host.is_empty() {
                out.push(b'/');
            }
            if out.is_empty() {
                let segment = path.split(|&b| b == b'/').next().unwrap_or_default();
                if segment.contains(&b':') {
                    out.extend_from_slice(b"./");
                }
            }
            out.extend(path);
        } else {
            out.extend_from_slice(&self.opaque);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push(b'?');
            out.extend_from_slice(&self.raw_query);
        }
        if !self.raw_fragment.is_empty() {
            out.push(b'#');
            out.extend_from_slice(&self.raw_fragment);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Go: `URL.EscapedPath`: the path as received when that is a valid encoding, else re-escaped.
    pub(crate) fn escaped_path(&self) -> Vec<u8> {
        if !self.raw_path.is_empty()
            && valid_encoded_path(&self.raw_path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == b"*" {
            return self.path.clone();
        }
        escape_path(&self.path)
    }
}

fn valid_encoded_path(s: &[u8]) -> bool {
    s.iter()
        .all(|&c| b"!$&'()*+,;=:@[]%".contains(&c) || !should_escape(c, Mode::Path))
}

/// Go: `net.SplitHostPort`.
pub(crate) fn split_host_port(hostport: &[u8]) -> Result<(&[u8], &[u8]), AddrError> {
    let err = |reason| {
        Err(AddrError {
            addr: hostport.to_vec(),
            reason,
        })
    };
    let Some(i) = hostport.iter().rposition(|&b| b == b':') else {
        return err(MISSING_PORT);
    };
    let (host, j, k);
    if hostport.first() == Some(&b'[') {
        let Some(end) = hostport.iter().position(|&b| b == b']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err(MISSING_PORT);
        } else if end + 1 != i {
            if hostport.get(end + 1) == Some(&b':') {
                return err("too many colons in address");
            }
            return err(MISSING_PORT);
        }
        host = hostport.get(1..end).unwrap_or_default();
        (j, k) = (1, end + 1);
    } else {
        host = hostport.get(..i).unwrap_or_default();
        if host.contains(&b':') {
            return err("too many colons in address");
        }
        (j, k) = (0, 0);
    }
    if hostport.get(j..).unwrap_or_default().contains(&b'[') {
        return err("unexpected '[' in address");
    }
    if hostport.get(k..).unwrap_or_default().contains(&b']') {
        return err("unexpected ']' in address");
    }
    Ok((host, hostport.get(i + 1..).unwrap_or_default()))
}

/// Go: `wsGetHostAndPort`: lowercase host and port, the scheme's default port when none is given.
pub(crate) fn host_and_port(tls: bool, hostport: &[u8]) -> Result<(Vec<u8>, Vec<u8>), AddrError> {
    match split_host_port(hostport) {
        Ok((host, port)) => Ok((host.to_ascii_lowercase(), port.to_vec())),
        Err(e) if e.missing_port() => {
            let port: &[u8] = if tls { b"443" } else { b"80" };
            Ok((hostport.to_ascii_lowercase(), port.to_vec()))
        }
        Err(e) => Err(e),
    }
}

/// Go: `path.Clean` for a rooted path, through `http.cleanPath` (keeps a trailing slash).
pub(crate) fn clean_path(p: &[u8]) -> Vec<u8> {
    let mut stack: Vec<&[u8]> = Vec::new();
    for seg in p.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    let mut out = Vec::with_capacity(p.len() + 1);
    for seg in &stack {
        out.push(b'/');
        out.extend_from_slice(seg);
    }
    if out.is_empty() || (p.last() == Some(&b'/')) {
        out.push(b'/');
    }
    out
}

/// Go: `httpguts.ValidHostHeader`.
pub(crate) fn valid_host_header(h: &[u8]) -> bool {
    h.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"!$%&'()*+,-.:;=[]_~".contains(&b))
}

/// RFC 9110 §5.6.2 `tchar` (Go: `httpguts.IsTokenRune` for ASCII).
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Go: `net.ParseIP != nil`: an IPv4 dotted quad (no leading zeros) or an IPv6 address
/// without a zone, as `netip.ParseAddr` accepts them.
pub(crate) fn is_ip(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok() || s.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn url_err(s: &str) -> String {
        match parse_request_uri(s.as_bytes()) {
            Ok(u) => panic!("{s} parsed: {u:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parse_request_uri_go_texts() {
        assert_eq!(
            url_err("@@@://invalid:url:1234"),
            r#"parse "@@@://invalid:url:1234": invalid URI for request"#
        );
        assert_eq!(
            url_err("@@@://host.com/"),
            r#"parse "@@@://host.com/": invalid URI for request"#
        );
        assert_eq!(
            url_err("http://this:is:bad:url/"),
            r#"parse "http://this:is:bad:url/": invalid port ":url" after host"#
        );
        assert_eq!(url_err(""), r#"parse "": empty url"#);
        assert_eq!(url_err(":foo"), r#"parse ":foo": missing protocol scheme"#);
        assert_eq!(
            url_err("http://[::1"),
            r#"parse "http://[::1": missing ']' in host"#
        );
        assert_eq!(
            url_err("http://a b"),
            r#"parse "http://a b": invalid character " " in host name"#
        );
        assert_eq!(url_err("/%zz"), r#"parse "/%zz": invalid URL escape "%zz""#);
        assert_eq!(
            url_err("http://%41"),
            r#"parse "http://%41": invalid URL escape "%41""#
        );
        assert_eq!(url_err("foo"), r#"parse "foo": invalid URI for request"#);
        assert_eq!(
            url_err("/a\x01"),
            "parse \"/a\\x01\": net/url: invalid control character in URL"
        );
        assert_eq!(
            url_err("http://a{b@h"),
            r#"parse "http://a{b@h": net/url: invalid userinfo"#
        );
    }

    #[test]
    fn parse_request_uri_parts() {
        let u = parse_request_uri(b"HTTP://Host2.com:1234/some/path?x=1").unwrap();
        assert_eq!(
            (&u.scheme[..], &u.host[..], &u.path[..], &u.raw_query[..]),
            (
                &b"http"[..],
                &b"Host2.com:1234"[..],
                &b"/some/path"[..],
                &b"x=1"[..]
            )
        );
        let u = parse_request_uri(b"http://invalid:url:1234").unwrap();
        assert_eq!(u.host, b"invalid:url:1234");
        let u = parse_request_uri(b"http://user:pw@h:1").unwrap();
        assert_eq!(u.host, b"h:1");
        let u = parse_request_uri(b"http://[fe80::1%25en0]:80/").unwrap();
        assert_eq!(u.host, b"[fe80::1%en0]:80");
        let u = parse_request_uri(b"mailto:x").unwrap();
        assert_eq!((u.opaque, u.host), (b"x".to_vec(), vec![]));
    }

    #[test]
    fn escaped_path_like_go() {
        let ep = |s: &str| {
            String::from_utf8(parse_request_uri(s.as_bytes()).unwrap().escaped_path()).unwrap()
        };
        assert_eq!(ep("/mqtt"), "/mqtt");
        assert_eq!(ep("/%6Dqtt"), "/%6Dqtt");
        assert_eq!(ep("/a%2Fmqtt"), "/a%2Fmqtt");
        assert_eq!(ep("/a{b}/mqtt"), "/a%7Bb%7D/mqtt");
        assert_eq!(ep("/x?y"), "/x");
        assert_eq!(ep("*"), "*");
        assert_eq!(ep("http://h"), "");
    }

    #[test]
    fn split_host_port_go_texts() {
        let e = |s: &str| split_host_port(s.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e("invalid:url:1234"),
            "address invalid:url:1234: too many colons in address"
        );
        assert_eq!(e("host.com"), "address host.com: missing port in address");
        assert_eq!(e(""), "missing port in address");
        assert_eq!(e("[::1"), "address [::1: missing ']' in address");
        assert_eq!(
            e("[::1]:1:2"),
            "address [::1]:1:2: too many colons in address"
        );
        assert_eq!(e("[::1]x:2"), "address [::1]x:2: missing port in address");
        assert_eq!(e("a[:1"), "address a[:1: unexpected '[' in address");
        assert_eq!(e("a]:1"), "address a]:1: unexpected ']' in address");
        assert_eq!(
            split_host_port(b"[::1]:80").unwrap(),
            (&b"::1"[..], &b"80"[..])
        );
        assert_eq!(split_host_port(b"h:").unwrap(), (&b"h"[..], &b""[..]));
    }

    #[test]
    fn host_and_port_defaults() {
        assert_eq!(
            host_and_port(false, b"Host.COM").unwrap(),
            (b"host.com".to_vec(), b"80".to_vec())
        );
        assert_eq!(
            host_and_port(true, b"host.com").unwrap(),
            (b"host.com".to_vec(), b"443".to_vec())
        );
        assert_eq!(
            host_and_port(true, b"[::1]").unwrap(),
            (b"[::1]".to_vec(), b"443".to_vec())
        );
        assert!(host_and_port(false, b"a:b:c").is_err());
    }

    #[test]
    fn clean_path_like_go() {
        let c = |s: &str| String::from_utf8(clean_path(s.as_bytes())).unwrap();
        assert_eq!(c("/a/../mqtt"), "/mqtt");
        assert_eq!(c("//x"), "/x");
        assert_eq!(c("/a/./b"), "/a/b");
        assert_eq!(c("/a/.."), "/");
        assert_eq!(c("/a/b/"), "/a/b/");
        assert_eq!(c("/"), "/");
        assert_eq!(c(""), "/");
        assert_eq!(c("/.."), "/");
    }

    #[test]
    fn ip_like_go_parse_ip() {
        for ok in ["1.2.3.4", "::1", "::ffff:1.2.3.4", "2001:db8::1", "0.0.0.0"] {
            assert!(is_ip(ok), "{ok}");
        }
        for bad in [
            "",
            "not a valid IP",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.256",
            "fe80::1%eth0",
            "[::1]",
            " 1.2.3.4",
            "1.2.3.4:80",
        ] {
            assert!(!is_ip(bad), "{bad}");
        }
    }
}
