//! [`LeafUrl`]: a remote's URL as Go's `url.Parse` reads it and `URL.String` writes it.

use std::borrow::Cow;
use std::fmt;

use crate::handshake::UrlError;
use crate::handshake::gonet::{self, GoUrl, Redact};

/// Go: `DEFAULT_LEAFNODE_PORT`, added to a remote URL without a port.
pub const DEFAULT_LEAFNODE_PORT: u16 = 7422;

/// A URL of a leafnode remote (`nats://`, `tls://`, `ws://`, `wss://`, ...). Displays as
/// Go's `URL.String`; [`LeafUrl::redacted`] hides the password as Go's logs do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafUrl {
    url: GoUrl,
}

impl LeafUrl {
    /// Go: `parseURL`: the trimmed text through `url.Parse`.
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        gonet::parse_url(text.trim().as_bytes()).map(|url| LeafUrl { url })
    }

    /// The lower-cased scheme.
    pub fn scheme(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.url.scheme)
    }

    /// Go: `isWSURL`: the scheme starts with `ws` (`ws`, `wss`).
    pub fn is_websocket(&self) -> bool {
        self.url.scheme.starts_with(b"ws")
    }

    /// Go: `isWSSURL`: the scheme starts with `wss`.
    pub fn is_websocket_tls(&self) -> bool {
        self.url.scheme.starts_with(b"wss")
    }

    /// Go: `URL.Host`, `host[:port]` as written.
    pub fn host(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.url.host)
    }

    /// Go: `URL.Hostname`: the host without port and brackets.
    pub fn hostname(&self) -> Cow<'_, str> {
        let host = &self.url.host;
        let (name, _) = split_port(host);
        let name = name
            .strip_prefix(b"[")
            .and_then(|n| n.strip_suffix(b"]"))
            .unwrap_or(name);
        String::from_utf8_lossy(name)
    }

    /// Go: `URL.Port`: the digits after the host's last colon, if any.
    pub fn port(&self) -> Option<Cow<'_, str>> {
        split_port(&self.url.host).1.map(String::from_utf8_lossy)
    }

    /// `host:port` to dial: Go's `setBaselineOptions` adds [`DEFAULT_LEAFNODE_PORT`] to a
    /// URL without a port.
    pub fn dial_address(&self) -> String {
        match self.port() {
            Some(_) => self.host().into_owned(),
            None => {
                let name = self.hostname();
                if name.contains(':') {
                    format!("[{name}]:{DEFAULT_LEAFNODE_PORT}")
                } else {
                    format!("{name}:{DEFAULT_LEAFNODE_PORT}")
                }
            }
        }
    }

    /// The decoded path (empty when none).
    pub fn path(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.url.path)
    }

    /// Go: `URL.EscapedPath`.
    pub fn escaped_path(&self) -> String {
        String::from_utf8_lossy(&self.url.escaped_path()).into_owned()
    }

    /// The decoded user name, if the URL has userinfo.
    pub fn username(&self) -> Option<Cow<'_, str>> {
        self.url
            .user
            .as_ref()
            .map(|u| String::from_utf8_lossy(&u.username))
    }

    /// The decoded password, if the userinfo has a `:`.
    pub fn password(&self) -> Option<Cow<'_, str>> {
        let user = self.url.user.as_ref()?;
        user.password.as_deref().map(String::from_utf8_lossy)
    }

    /// Go: `URL.Redacted` (the password as `xxxxx`).
    pub fn redacted(&self) -> String {
        self.url.to_go_string(Redact::Password)
    }
}

impl fmt::Display for LeafUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url.to_go_string(Redact::Nothing))
    }
}

/// Go: `URL.Hostname` / `URL.Port`'s split: a port only when digits follow the last colon
/// outside brackets.
fn split_port(host: &[u8]) -> (&[u8], Option<&[u8]>) {
    let Some(colon) = host.iter().rposition(|&b| b == b':') else {
        return (host, None);
    };
    if host.get(colon..).is_some_and(|rest| rest.contains(&b']')) {
        return (host, None);
    }
    let (name, port) = host.split_at(colon);
    let port = port.get(1..).unwrap_or_default();
    if port.iter().all(u8::is_ascii_digit) {
        (name, Some(port))
    } else {
        (host, None)
    }
}

/// Go's `%q` of a `[]*url.URL` (each URL's `String()` quoted, space-separated, in brackets),
/// redacted as Go's `redactURLList` before printing.
pub(crate) fn quoted_redacted_list(urls: &[LeafUrl]) -> String {
    let items: Vec<String> = urls
        .iter()
        .map(|u| crate::goquote::quote(&u.redacted()))
        .collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> LeafUrl {
        match LeafUrl::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parts_and_strings_are_gos() {
        let u = url(" wss://u%40x:p%3Aw@host.example:443/some/path ");
        assert!(u.is_websocket() && u.is_websocket_tls());
        assert_eq!(u.hostname(), "host.example");
        assert_eq!(u.port().as_deref(), Some("443"));
        assert_eq!(u.path(), "/some/path");
        assert_eq!(u.username().as_deref(), Some("u@x"));
        assert_eq!(u.password().as_deref(), Some("p:w"));
        assert_eq!(
            u.to_string(),
            "wss://u%40x:p%3Aw@host.example:443/some/path"
        );
        assert_eq!(u.redacted(), "wss://u%40x:xxxxx@host.example:443/some/path");
        let n = url("nats://[::1]");
        assert!(!n.is_websocket());
        assert_eq!(n.port(), None);
        assert_eq!(n.dial_address(), "[::1]:7422");
        assert_eq!(url("NATS://h:1").to_string(), "nats://h:1");
        assert_eq!(url("tls://user@h").to_string(), "tls://user@h");
    }

    #[test]
    fn parse_errors_are_gos() {
        let err = |s: &str| match LeafUrl::parse(s) {
            Ok(u) => panic!("{s} parsed: {u:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err("127.0.0.1:7422"),
            r#"parse "127.0.0.1:7422": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            err("nats://h:x1"),
            r#"parse "nats://h:x1": invalid port ":x1" after host"#
        );
    }

    #[test]
    fn quoted_list_is_gos_percent_q() {
        let list = [url("nats://u:p@127.0.0.1:7422"), url("ws://127.0.0.1:8080")];
        assert_eq!(
            quoted_redacted_list(&list),
            r#"["nats://u:xxxxx@127.0.0.1:7422" "ws://127.0.0.1:8080"]"#
        );
    }
}
