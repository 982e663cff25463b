//! The `Origin` policy: same-origin and the allowed-origins list (Go: `checkOrigin`).

use super::gonet::{self, AddrError, UrlError};
use super::request::Request;
use crate::goquote::quote;

/// Which origins may open a WebSocket. Built once from the options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    same_origin: bool,
    allowed: Vec<AllowedOrigin>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedOrigin {
    host: Vec<u8>,
    scheme: Vec<u8>,
    port: Vec<u8>,
}

/// Why an `Origin` was refused; the text follows `origin not allowed: ` in the 403 log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// `same_origin` is set and scheme, host or port differ from the request's.
    #[error("not same origin")]
    NotSameOrigin,
    /// No allowed origin has this host, scheme and port.
    #[error("not in the allowed list")]
    NotInAllowedList,
    /// The origin is not a request URI. Go: `url.ParseRequestURI`.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The origin's or the request's `host[:port]` does not split. Go: `net.SplitHostPort`.
    #[error(transparent)]
    Addr(#[from] AddrError),
}

/// An `allowed_origins` entry the options validator refuses (Go: `validateWebsocketOptions`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginConfigError {
    /// Not a request URI.
    #[error("unable to parse allowed origin: {0}")]
    Parse(UrlError),
    /// Scheme other than `http`/`https`.
    #[error("unable to parse allowed origin {}: allowed origins must be absolute URLs with http or https scheme", quote(.0))]
    Scheme(String),
    /// No host.
    #[error("unable to parse allowed origin {}: host is required", quote(.0))]
    NoHost(String),
    /// Host and port do not split.
    #[error("unable to parse allowed origin: {0}")]
    HostPort(AddrError),
}

/// Go: the `AllowedOrigins` loop of `validateWebsocketOptions`.
pub fn validate_allowed_origin(origin: &str) -> Result<(), OriginConfigError> {
    let url = gonet::parse_request_uri(origin.as_bytes()).map_err(OriginConfigError::Parse)?;
    let https = match &url.scheme[..] {
        b"http" => false,
        b"https" => true,
        _ => return Err(OriginConfigError::Scheme(origin.to_owned())),
    };
    if url.host.is_empty() {
        return Err(OriginConfigError::NoHost(origin.to_owned()));
    }
    gonet::host_and_port(https, &url.host).map_err(OriginConfigError::HostPort)?;
    Ok(())
}

impl OriginPolicy {
    /// Any origin, or none, is accepted.
    pub fn any() -> Self {
        OriginPolicy::default()
    }

    /// Go: `wsSetOriginOptions`. Entries that do not parse are skipped; the returned lines
    /// are what Go logs for them with `Errorf` (`error parsing allowed origin: <err>`).
    pub fn new(same_origin: bool, allowed: &[String]) -> (Self, Vec<String>) {
        let mut policy = OriginPolicy {
            same_origin,
            allowed: Vec::new(),
        };
        let mut errors = Vec::new();
        for origin in allowed {
            match gonet::parse_request_uri(origin.as_bytes()) {
                Ok(url) => {
                    // Go ignores the split error here: such an entry matches nothing useful.
                    let (host, port) =
                        gonet::host_and_port(url.scheme == b"https", &url.host).unwrap_or_default();
                    policy.allowed.push(AllowedOrigin {
                        host,
                        scheme: url.scheme,
                        port,
                    });
                }
                Err(e) => errors.push(format!("error parsing allowed origin: {e}")),
            }
        }
        (policy, errors)
    }

    /// Go: `checkOrigin`. `tls` is whether the request came over TLS (the same-origin scheme).
    pub fn check(&self, request: &Request, tls: bool) -> Result<(), OriginError> {
        if !self.same_origin && self.allowed.is_empty() {
            return Ok(());
        }
        let mut origin = request.header("Origin");
        if origin.is_empty() {
            origin = request.header("Sec-Websocket-Origin");
        }
        // RFC 6455 §1.6: a non-browser client can send any origin, so a missing one is accepted.
        if origin.is_empty() {
            return Ok(());
        }
        let url = gonet::parse_request_uri(origin)?;
        let (oh, op) = gonet::host_and_port(url.scheme == b"https", &url.host)?;
        if self.same_origin {
            let (rh, rp) = gonet::host_and_port(tls, request.host())?;
            let rs: &[u8] = if tls { b"https" } else { b"http" };
            if oh != rh || op != rp || !url.scheme.eq_ignore_ascii_case(rs) {
                return Err(OriginError::NotSameOrigin);
            }
        }
        if !self.allowed.is_empty()
            && !self
                .allowed
                .iter()
                .any(|a| a.host == oh && a.scheme == url.scheme && a.port == op)
        {
            return Err(OriginError::NotInAllowedList);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::handshake::request::{RequestLimits, RequestParser};

    fn request(host: &str, origin: &str) -> Request {
        let mut raw = format!("GET / HTTP/1.0\r\nHost: {host}\r\n");
        if !origin.is_empty() {
            raw.push_str(&format!("Origin: {origin}\r\n"));
        }
        raw.push_str("\r\n");
        RequestParser::new(RequestLimits::default())
            .feed(raw.as_bytes())
            .unwrap()
            .unwrap()
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// name, same_origin, allowed list, request Host, request over TLS, Origin, error substring.
    type OriginCase = (
        &'static str,
        bool,
        &'static [&'static str],
        &'static str,
        bool,
        &'static str,
        &'static str,
    );

    // Go: TestWSCheckOrigin, all 18 cases.
    #[test]
    fn check_origin() {
        const NONE: &[&str] = &[];
        const SOME: &[&str] = &["http://host1.com", "http://host2.com:1234"];
        const MULTI: &[&str] = &["http://host3.com", "https://host3.com"];
        #[rustfmt::skip]
        let cases: &[OriginCase] = &[
            ("any", false, NONE, "", false, "http://any.host.com", ""),
            ("same origin ok", true, NONE, "host.com", false, "http://host.com:80", ""),
            ("same origin bad host", true, NONE, "host.com", false, "http://other.host.com", "not same origin"),
            ("same origin bad port", true, NONE, "host.com", false, "http://host.com:81", "not same origin"),
            ("same origin bad scheme explicit port", true, NONE, "host.com:443", true, "http://host.com:443", "not same origin"),
            ("same origin bad scheme", true, NONE, "host.com", true, "http://host.com", "not same origin"),
            ("same origin bad uri", true, NONE, "host.com", false, "@@@://invalid:url:1234", "invalid URI"),
            ("same origin bad url", true, NONE, "host.com", false, "http://invalid:url:1234", "too many colons"),
            ("same origin bad req host", true, NONE, "invalid:url:1234", false, "http://host.com", "too many colons"),
            ("no origin same origin ignored", true, NONE, "", false, "", ""),
            ("no origin list ignored", true, SOME, "", false, "", ""),
            ("no origin same origin and list ignored", true, SOME, "", false, "", ""),
            ("allowed from list", false, SOME, "", false, "http://host2.com:1234", ""),
            ("allowed with different path", false, SOME, "", false, "http://host1.com/some/path", ""),
            ("allowed from list same host http", false, MULTI, "", false, "http://host3.com", ""),
            ("allowed from list same host https", false, MULTI, "", false, "https://host3.com", ""),
            ("list bad port", false, SOME, "", false, "http://host1.com:1234", "not in the allowed list"),
            ("list bad scheme", false, SOME, "", false, "https://host2.com:1234", "not in the allowed list"),
        ];
        for &(name, same, origins, host, tls, origin, err) in cases {
            let (policy, logged) = OriginPolicy::new(same, &list(origins));
            assert!(logged.is_empty(), "{name}");
            let got = policy.check(&request(host, origin), tls);
            match got {
                Ok(()) => assert_eq!(err, "", "{name}: expected error"),
                Err(e) => assert!(
                    !err.is_empty() && e.to_string().contains(err),
                    "{name}: got {e}"
                ),
            }
        }
    }

    #[test]
    fn check_origin_exact_texts() {
        let (same, _) = OriginPolicy::new(true, &[]);
        let e = |host: &str, origin: &str| {
            same.check(&request(host, origin), false)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("host.com", "@@@://invalid:url:1234"),
            r#"parse "@@@://invalid:url:1234": invalid URI for request"#
        );
        assert_eq!(
            e("host.com", "http://invalid:url:1234"),
            "address invalid:url:1234: too many colons in address"
        );
        assert_eq!(
            e("invalid:url:1234", "http://host.com"),
            "address invalid:url:1234: too many colons in address"
        );
        assert_eq!(e("localhost", "http://bad.host.com"), "not same origin");
        assert_eq!(
            same.check(&request("HOST.com", "http://host.COM"), false),
            Ok(())
        );
    }

    #[test]
    fn sec_websocket_origin_fallback_and_case() {
        let (same, _) = OriginPolicy::new(true, &[]);
        let raw =
            b"GET / HTTP/1.1\r\nHost: Host.com\r\nSec-WebSocket-Origin: http://HOST.com\r\n\r\n";
        let req = RequestParser::new(RequestLimits::default())
            .feed(raw)
            .unwrap()
            .unwrap();
        assert_eq!(same.check(&req, false), Ok(()));
        assert_eq!(same.check(&req, true), Err(OriginError::NotSameOrigin));
    }

    // Go: TestWSSetOriginOptions.
    #[test]
    fn set_origin_options_logs_and_skips() {
        let (policy, logged) = OriginPolicy::new(false, &list(&["@@@://host.com/"]));
        assert_eq!(
            logged,
            vec![
                r#"error parsing allowed origin: parse "@@@://host.com/": invalid URI for request"#
            ]
        );
        assert!(logged[0].contains("invalid URI"));
        assert_eq!(policy, OriginPolicy::any());
        let (_, logged) =
            OriginPolicy::new(false, &list(&["http://this:is:bad:url/", "http://ok.com"]));
        assert_eq!(
            logged,
            vec![
                r#"error parsing allowed origin: parse "http://this:is:bad:url/": invalid port ":url" after host"#
            ]
        );
        assert!(logged[0].contains("invalid port"));
    }

    // Go: validateWebsocketOptions, texts 3-6.
    #[test]
    fn validate_allowed_origin_texts() {
        let e = |s: &str| validate_allowed_origin(s).unwrap_err().to_string();
        assert_eq!(
            e("@@@://host.com/"),
            r#"unable to parse allowed origin: parse "@@@://host.com/": invalid URI for request"#
        );
        assert_eq!(
            e("ftp://host.com"),
            r#"unable to parse allowed origin "ftp://host.com": allowed origins must be absolute URLs with http or https scheme"#
        );
        assert_eq!(
            e("http:/path"),
            r#"unable to parse allowed origin "http:/path": host is required"#
        );
        assert_eq!(
            e("http://a:b:1"),
            "unable to parse allowed origin: address a:b:1: too many colons in address"
        );
        assert!(validate_allowed_origin("https://host.com:443/x").is_ok());
        assert!(validate_allowed_origin("http://[::1]:80").is_ok());
    }
}
