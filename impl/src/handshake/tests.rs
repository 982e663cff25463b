//! Ports of the Go handshake tests, and the Go v2.15.1 server's observed bytes as oracles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The `Date` the Go server sent in the recorded responses: Fri, 27 Nov 2026 01:53:25 GMT.
const DATE: u64 = 1_795_744_405;

/// Go: testWSCreateValidReq, on the wire, with `extra` header lines.
fn valid_req(extra: &str) -> Vec<u8> {
    req("GET", "/", extra)
}

fn req(method: &str, path: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-Websocket-Key: {KEY}\r\nSec-Websocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn run(config: &HandshakeConfig, bytes: &[u8]) -> Result<Option<Upgrade>, Rejection> {
    Handshake::new(Arc::new(config.clone()), "127.0.0.1:5000", Instant::now()).feed(bytes)
}

fn upgrade(config: &HandshakeConfig, bytes: &[u8]) -> Upgrade {
    match run(config, bytes) {
        Ok(Some(u)) => u,
        other => panic!("expected an upgrade, got {other:?}"),
    }
}

fn reject(config: &HandshakeConfig, bytes: &[u8]) -> Rejection {
    match run(config, bytes) {
        Err(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Go's fake ResponseWriter records `"<code><StatusText>\n"`: status plus body.
fn status_and_body(r: &Rejection) -> String {
    let resp = text(&r.response(HttpDate::from_unix(DATE)));
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    format!("{}{body}", r.error.status())
}

// Go: TestWSUpgradeValidationErrors (the hijack cases have no sans-IO counterpart but the
// buffered-data one).
#[test]
fn upgrade_validation_errors() {
    let base = HandshakeConfig::default();
    let same_origin = HandshakeConfig {
        origin: OriginPolicy::new(true, &[]).0,
        ..HandshakeConfig::default()
    };
    let no = |name: &str| text(&valid_req("")).replace(&format!("{name}: "), "X-Removed: ");
    let with_key = |k: &str| text(&valid_req("")).replace(KEY, k);
    #[rustfmt::skip]
    let cases: Vec<(&str, &HandshakeConfig, Vec<u8>, &str, u16)> = vec![
        ("bad method", &base, req("POST", "/", ""), "must be GET", 405),
        ("no host", &base, text(&valid_req("")).replace("HTTP/1.1\r\nHost: localhost\r\n", "HTTP/1.0\r\n").into_bytes(), "'Host' missing in request", 400),
        ("empty host", &base, text(&valid_req("")).replace("Host: localhost", "Host: ").into_bytes(), "'Host' missing in request", 400),
        ("invalid upgrade header", &base, no("Upgrade").into_bytes(), "invalid value for header 'Upgrade'", 400),
        ("invalid connection header", &base, no("Connection").into_bytes(), "invalid value for header 'Connection'", 400),
        ("no key", &base, no("Sec-Websocket-Key").into_bytes(), "key missing", 400),
        ("empty key", &base, with_key("").into_bytes(), "key missing", 400),
        ("invalid key encoding", &base, with_key("%%%").into_bytes(), "invalid websocket key", 400),
        ("invalid key length", &base, with_key("c2hvcnQ=").into_bytes(), "invalid websocket key", 400),
        ("missing version", &base, no("Sec-Websocket-Version").into_bytes(), "invalid version", 400),
        ("wrong version", &base, text(&valid_req("")).replace("Version: 13", "Version: 99").into_bytes(), "invalid version", 400),
        ("origin", &same_origin, valid_req("Origin: http://bad.host.com\r\n"), "origin not allowed", 403),
        ("hijack buffered data", &base, [valid_req(""), b"some data".to_vec()].concat(), "client sent data before handshake is complete", 400),
    ];
    for (name, config, bytes, err, status) in cases {
        let r = reject(config, &bytes);
        let line = r.error.log_line("127.0.0.1:5000").unwrap_or_default();
        assert!(
            line.starts_with("127.0.0.1:5000 - websocket handshake error: "),
            "{name}: {line}"
        );
        assert!(line.contains(err), "{name}: {line}");
        assert_eq!(r.error.status(), status, "{name}");
        if r.error == HandshakeError::DataBeforeHandshake {
            // Go's http.Error on the hijacked connection writes nothing (observed: no bytes).
            assert!(r.response(HttpDate::from_unix(DATE)).is_empty());
        } else {
            let expected = format!("{status}{}\n", response::status_text(status));
            assert_eq!(status_and_body(&r), expected, "{name}");
        }
    }
    assert_eq!(
        reject(&same_origin, &valid_req("Origin: http://bad.host.com\r\n"))
            .error
            .to_string(),
        "origin not allowed: not same origin"
    );
}

// Go: TestWSUpgradeConnDeadline, as a deadline computed from the `now` passed in.
#[test]
fn handshake_deadline() {
    let now = Instant::now();
    let config = Arc::new(HandshakeConfig {
        handshake_timeout: Some(Duration::from_secs(1)),
        ..HandshakeConfig::default()
    });
    let mut hs = Handshake::new(config, "r", now);
    assert_eq!(hs.deadline(), Some(now + Duration::from_secs(1)));
    assert!(!hs.is_expired(now + Duration::from_millis(999)));
    assert!(hs.is_expired(now + Duration::from_secs(1)));
    assert!(hs.feed(&valid_req("")).unwrap().is_some());
    let none = Handshake::new(Arc::new(HandshakeConfig::default()), "r", now);
    assert_eq!(none.deadline(), None);
    assert!(!none.is_expired(now + Duration::from_secs(3600)));
}

// Go: TestWSUpgradeWithEmptyXForwardedForSliceDoesNotPanic, and the cases of TestWSXForwardedFor.
#[test]
fn x_forwarded_for() {
    let ip = |extra: &str| upgrade(&HandshakeConfig::default(), &valid_req(extra)).client_ip;
    assert_eq!(ip(""), None);
    assert_eq!(ip("X-Forwarded-For:\r\n"), None);
    assert_eq!(ip("X-Forwarded-For: not a valid IP\r\n"), None);
    assert_eq!(
        ip("X-Forwarded-For: 1.2.3.4\r\n").as_deref(),
        Some("1.2.3.4")
    );
    assert_eq!(
        ip("X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n").as_deref(),
        Some("1.2.3.4")
    );
    assert_eq!(ip("x-forwarded-for:  ::1 \r\n").as_deref(), Some("::1"));
    // Go does not split a list inside one value.
    assert_eq!(ip("X-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"), None);
    assert_eq!(
        ip("X-Forwarded-For: garbage\r\nX-Forwarded-For: 1.2.3.4\r\n"),
        None
    );
}

// Go: TestWSCompressNegotiation.
#[test]
fn compress_negotiation() {
    let off = HandshakeConfig::default();
    let on = HandshakeConfig {
        compression: true,
        ..HandshakeConfig::default()
    };
    let ask = valid_req("Sec-Websocket-Extensions: permessage-deflate\r\n");
    let u = upgrade(&off, &ask);
    assert!(!text(&u.response).contains("permessage-deflate"));
    assert_eq!(u.compression, Compression::Off);
    let u = upgrade(&on, &ask);
    assert!(text(&u.response).contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
    ));
    assert_eq!(u.compression, Compression::Negotiated);
    let u = upgrade(&on, &valid_req(""));
    assert!(!text(&u.response).contains("permessage-deflate"));
    assert_eq!(u.compression, Compression::Off);
}

// Go: TestWSSetHeader: the 101 has the custom headers and no other header at all.
#[test]
fn set_header() {
    let headers = CustomHeaders::new([
        ("X-Header", "some-value"),
        ("X-Another-Header", "another-value"),
    ])
    .unwrap();
    let config = HandshakeConfig {
        headers,
        ..HandshakeConfig::default()
    };
    let u = upgrade(&config, &valid_req(""));
    assert_eq!(
        text(&u.response),
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\nX-Header: some-value\r\nX-Another-Header: another-value\r\n\r\n"
        )
    );
}

// Go: TestWSUpgradeMQTTOnlyWhenEnabled, plus the leaf path.
#[test]
fn mqtt_only_when_enabled() {
    let off = HandshakeConfig::default();
    let on = HandshakeConfig {
        mqtt_enabled: true,
        ..HandshakeConfig::default()
    };
    let r = reject(&off, &req("GET", "/mqtt", ""));
    assert_eq!(r.error, HandshakeError::MqttNotEnabled);
    assert_eq!(status_and_body(&r), "404Not Found\n");
    let u = upgrade(&on, &req("GET", "/mqtt", ""));
    assert_eq!(u.kind, UpgradeKind::Mqtt);
    assert!(text(&u.response).ends_with("\r\nSec-Websocket-Protocol: mqtt\r\n\r\n"));
    assert_eq!(
        upgrade(&off, &req("GET", "/", "")).kind,
        UpgradeKind::Client
    );
    assert_eq!(
        upgrade(&off, &req("GET", "/x/leafnode", "")).kind,
        UpgradeKind::Leaf
    );
    assert_eq!(
        upgrade(&off, &req("GET", "/%6Dqtt", "")).kind,
        UpgradeKind::Client
    );
    assert_eq!(
        reject(&off, &req("GET", "/foo/mqtt?x=1", "")).error,
        HandshakeError::MqttNotEnabled
    );
}

#[test]
fn masking_framing_and_cookies() {
    let on = HandshakeConfig {
        compression: true,
        ..HandshakeConfig::default()
    };
    let u = upgrade(&on, &valid_req("Nats-No-Masking: true\r\n"));
    assert_eq!(u.mask, MaskPolicy::Exempt);
    assert!(text(&u.response).contains("\r\nNats-No-Masking: true\r\n"));
    assert_eq!(
        upgrade(&on, &valid_req("Nats-No-Masking: TRUE\r\n")).mask,
        MaskPolicy::Required
    );
    let strict = HandshakeConfig {
        accept_no_masking: false,
        ..HandshakeConfig::default()
    };
    let u = upgrade(&strict, &valid_req("Nats-No-Masking: true\r\n"));
    assert_eq!(u.mask, MaskPolicy::Required);
    assert!(!text(&u.response).contains("Nats-No-Masking"));

    let safari = "User-Agent: Mozilla/5.0 (Macintosh) Version/17.0 Safari/605.1.15\r\n";
    let chrome = "User-Agent: Mozilla/5.0 (X11) Chrome/156 Safari/537.36\r\n";
    let pmd = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    assert_eq!(upgrade(&on, &valid_req("")).framing, Framing::Whole);
    assert_eq!(
        upgrade(&on, &valid_req("User-Agent: curl/8\r\n")).framing,
        Framing::Whole
    );
    assert_eq!(upgrade(&on, &valid_req(chrome)).framing, Framing::Browser);
    assert_eq!(
        upgrade(&on, &valid_req(&format!("{chrome}{pmd}"))).framing,
        Framing::Browser
    );
    assert_eq!(upgrade(&on, &valid_req(safari)).framing, Framing::Browser);
    assert_eq!(
        upgrade(&on, &valid_req(&format!("{safari}{pmd}"))).framing,
        Framing::Safari
    );
    assert_eq!(
        upgrade(&on, &req("GET", "/leafnode", safari)).framing,
        Framing::Whole
    );

    let names = CookieNames {
        jwt: Some("jwt".into()),
        username: Some("user".into()),
        password: Some("pass".into()),
        token: Some("tok".into()),
    };
    let config = HandshakeConfig {
        cookie_names: names,
        ..HandshakeConfig::default()
    };
    let u = upgrade(
        &config,
        &valid_req("Cookie: jwt=\"abc\"; other=1; user=bob\r\nCookie: pass=pw; tok=t1; tok=t2\r\n"),
    );
    assert_eq!(
        u.cookies,
        AuthCookies {
            jwt: Some("abc".into()),
            username: Some("bob".into()),
            password: Some("pw".into()),
            token: Some("t2".into())
        }
    );
    assert_eq!(
        upgrade(&config, &req("GET", "/leafnode", "Cookie: jwt=abc\r\n")).cookies,
        AuthCookies::default()
    );
    assert_eq!(
        upgrade(
            &HandshakeConfig::default(),
            &valid_req("Cookie: jwt=abc\r\n")
        )
        .cookies,
        AuthCookies::default()
    );
}

#[test]
fn token_lists_and_keys() {
    let base = HandshakeConfig::default();
    let conn =
        text(&valid_req("")).replace("Connection: Upgrade", "Connection: keep-alive, UPGRADE");
    assert!(run(&base, conn.as_bytes()).unwrap().is_some());
    let two = text(&valid_req("")).replace(
        "Connection: Upgrade\r\n",
        "Connection: keep-alive\r\nConnection: Upgrade\r\n",
    );
    assert!(run(&base, two.as_bytes()).unwrap().is_some());
    let versions = text(&valid_req("")).replace("Version: 13", "Version: 8, 13");
    assert!(run(&base, versions.as_bytes()).unwrap().is_some());
    // Go's StdEncoding accepts non-zero trailing bits.
    let loose = text(&valid_req("")).replace(KEY, "dGhlIHNhbXBsZSBub25jZR==");
    assert!(run(&base, loose.as_bytes()).unwrap().is_some());
    let unpadded = text(&valid_req("")).replace(KEY, "dGhlIHNhbXBsZSBub25jZQ");
    assert_eq!(
        reject(&base, unpadded.as_bytes()).error,
        HandshakeError::InvalidKey
    );
}

#[test]
fn split_at_every_byte_gives_the_same_result() {
    let config = HandshakeConfig {
        compression: true,
        ..HandshakeConfig::default()
    };
    let data =
        valid_req("Sec-WebSocket-Extensions: permessage-deflate\r\nUser-Agent: Mozilla/5.0\r\n");
    let whole = upgrade(&config, &data);
    let arc = Arc::new(config);
    for cut in 0..data.len() {
        let mut hs = Handshake::new(arc.clone(), "127.0.0.1:5000", Instant::now());
        let (a, b) = data.split_at(cut);
        assert_eq!(hs.feed(a).unwrap(), None, "cut {cut}");
        assert_eq!(hs.feed(b).unwrap().as_ref(), Some(&whole), "cut {cut}");
    }
    let mut hs = Handshake::new(arc, "127.0.0.1:5000", Instant::now());
    let mut last = None;
    for &b in &data {
        last = hs.feed(&[b]).unwrap();
    }
    assert_eq!(last, Some(whole));
}

/// Responses recorded from nats-server v2.15.1 (go1.27.2) on 127.0.0.1, `Date` as sent.
mod go_observed {
    use super::*;

    fn config() -> HandshakeConfig {
        HandshakeConfig {
            compression: true,
            headers: CustomHeaders::new([("X-Custom", "v"), ("X-Another", "w")]).unwrap(),
            ..HandshakeConfig::default()
        }
    }

    fn wire_req(extra: &str) -> Vec<u8> {
        text(&valid_req(extra))
            .replace("Sec-Websocket-Key", "Sec-WebSocket-Key")
            .into_bytes()
    }

    fn rejected(config: &HandshakeConfig, bytes: &[u8]) -> String {
        text(&reject(config, bytes).response(HttpDate::from_unix(DATE)))
    }

    fn ws_error(status: &str, len: usize) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\n\
             X-Content-Type-Options: nosniff\r\nDate: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: {len}\r\n\r\n"
        )
    }

    #[test]
    fn upgrades() {
        let base = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
        );
        let custom = "X-Custom: v\r\nX-Another: w\r\n\r\n";
        assert_eq!(
            text(&upgrade(&config(), &wire_req("")).response),
            format!("{base}{custom}")
        );
        assert_eq!(
            text(
                &upgrade(
                    &config(),
                    &wire_req("Sec-WebSocket-Extensions: permessage-deflate\r\n")
                )
                .response
            ),
            format!(
                "{base}Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n{custom}"
            )
        );
        assert_eq!(
            text(&upgrade(&config(), &wire_req("Nats-No-Masking: true\r\n")).response),
            format!("{base}Nats-No-Masking: true\r\n{custom}")
        );
        let plain = HandshakeConfig {
            origin: OriginPolicy::new(true, &[]).0,
            ..HandshakeConfig::default()
        };
        assert_eq!(
            text(&upgrade(&plain, &wire_req("Origin: http://localhost\r\n")).response),
            format!("{base}\r\n")
        );
    }

    #[test]
    fn ws_upgrade_rejections() {
        let c = config();
        let r = |b: Vec<u8>| rejected(&c, &b);
        let bad = format!("{}Bad Request\n", ws_error("400 Bad Request", 12));
        assert_eq!(
            r(req("POST", "/", "")),
            format!(
                "{}Method Not Allowed\n",
                ws_error("405 Method Not Allowed", 19)
            )
        );
        assert_eq!(
            r(text(&wire_req(""))
                .replace("Upgrade: websocket\r\n", "")
                .into_bytes()),
            bad
        );
        assert_eq!(
            r(text(&wire_req(""))
                .replace("Upgrade: websocket", "Upgrade: foo")
                .into_bytes()),
            bad
        );
        assert_eq!(
            r(text(&wire_req(""))
                .replace("Connection: Upgrade\r\n", "")
                .into_bytes()),
            bad
        );
        assert_eq!(
            r(text(&wire_req(""))
                .replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), "")
                .into_bytes()),
            bad
        );
        assert_eq!(r(text(&wire_req("")).replace(KEY, "abc").into_bytes()), bad);
        assert_eq!(
            r(text(&wire_req(""))
                .replace("Version: 13", "Version: 8")
                .into_bytes()),
            bad
        );
        assert_eq!(
            r(text(&wire_req(""))
                .replace("Host: localhost", "Host: ")
                .into_bytes()),
            bad
        );
        assert_eq!(
            r(req("GET", "/mqtt", "")),
            format!("{}Not Found\n", ws_error("404 Not Found", 10))
        );
        let http10 = text(&wire_req("")).replace("HTTP/1.1\r\nHost: localhost\r\n", "HTTP/1.0\r\n");
        assert_eq!(
            r(http10.into_bytes()),
            format!("{}Bad Request\n", ws_error("400 Bad Request", 12))
                .replacen("HTTP/1.1", "HTTP/1.0", 1)
        );
        let forbidden = format!("{}Forbidden\n", ws_error("403 Forbidden", 10));
        let same = HandshakeConfig {
            origin: OriginPolicy::new(true, &[]).0,
            ..HandshakeConfig::default()
        };
        for origin in [
            "http://bad.host.com",
            "http://invalid:url:1234",
            "@@@://invalid:url:1234",
        ] {
            assert_eq!(
                rejected(&same, &wire_req(&format!("Origin: {origin}\r\n"))),
                forbidden
            );
        }
        let list = HandshakeConfig {
            origin: OriginPolicy::new(
                false,
                &["http://host1.com".into(), "http://host2.com:1234".into()],
            )
            .0,
            ..HandshakeConfig::default()
        };
        assert_eq!(
            rejected(&list, &wire_req("Origin: http://host1.com:1234\r\n")),
            forbidden
        );
        assert!(
            run(&list, &wire_req("Origin: http://host2.com:1234\r\n"))
                .unwrap()
                .is_some()
        );
        // Data after the head: Go logs the 400 but writes nothing and closes.
        assert_eq!(
            r([wire_req(""), b"\x82\x80\x01\x02\x03\x04".to_vec()].concat()),
            ""
        );
        assert_eq!(
            r(text(&wire_req("Content-Length: 5\r\n"))
                .into_bytes()
                .into_iter()
                .chain(*b"hello")
                .collect()),
            ""
        );
    }

    #[test]
    fn net_http_rejections() {
        let c = config();
        let r = |b: &[u8]| rejected(&c, b);
        let plain = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request";
        assert_eq!(r(b"GARBAGE\r\n\r\n"), plain);
        assert_eq!(r(b"hello world foo\r\n\r\n"), plain);
        assert_eq!(r(b"GET / HTTP/1.1\r\nHost: x\r\nbadheader\r\n\r\n"), plain);
        assert_eq!(r(&text(&wire_req("Host: other\r\n")).into_bytes()), plain);
        assert_eq!(
            r(&text(&wire_req("")).replace(" / ", " /%zz ").into_bytes()),
            plain
        );
        assert_eq!(r(&[b"\r\n".to_vec(), wire_req("")].concat()), plain);
        assert_eq!(
            r(&text(&wire_req(""))
                .replace("Host: localhost\r\n", "")
                .into_bytes()),
            "HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Connection: close\r\n\r\n400 Bad Request: missing required Host header"
        );
        assert_eq!(
            r(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            "HTTP/1.1 400 Bad Request: malformed Host header\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Connection: close\r\n\r\n400 Bad Request: malformed Host header"
        );
        assert_eq!(
            r(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n"),
            "HTTP/1.1 400 Bad Request: invalid header name\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Connection: close\r\n\r\n400 Bad Request: invalid header name"
        );
        assert_eq!(
            r(&text(&wire_req(""))
                .replace("HTTP/1.1", "HTTP/9.9")
                .into_bytes()),
            "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version\r\nContent-Type: text/plain; \
             charset=utf-8\r\nConnection: close\r\n\r\n505 HTTP Version Not Supported: unsupported protocol version"
        );
        let big = wire_req(&format!("X-Big: {}\r\n", "a".repeat(70 * 1024)));
        assert_eq!(
            r(&big),
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Connection: close\r\n\r\n431 Request Header Fields Too Large"
        );
    }

    #[test]
    fn serve_mux_rejections() {
        let c = config();
        let r = |b: &[u8]| rejected(&c, b);
        assert_eq!(
            r(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(
            r(b"GET * HTTP/1.0\r\n\r\n"),
            "HTTP/1.0 400 Bad Request\r\nDate: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(
            r(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: Fri, 27 Nov 2026 01:53:25 GMT\r\n\r\n"
        );
        let redirect = |loc: &str, body: &str| {
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nContent-Type: text/html; charset=utf-8\r\nLocation: {loc}\r\n\
                 Date: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        assert_eq!(
            r(&req("GET", "/a/../mqtt", "")),
            redirect("/mqtt", "<a href=\"/mqtt\">Temporary Redirect</a>.\n\n")
        );
        assert_eq!(
            r(&req("GET", "//x", "")),
            redirect("/x", "<a href=\"/x\">Temporary Redirect</a>.\n\n")
        );
        assert_eq!(
            r(&req("GET", "/a/../%41%2f", "")),
            redirect("/%41%2f", "<a href=\"/%41%2f\">Temporary Redirect</a>.\n\n")
        );
        assert_eq!(
            r(&req("GET", "/a/../b<\"&'>?q=1", "")),
            redirect(
                "/b%3C%22&%27%3E?q=1",
                "<a href=\"/b%3C%22&amp;%27%3E?q=1\">Temporary Redirect</a>.\n\n"
            )
        );
        assert_eq!(
            r(b"GET http://h HTTP/1.1\r\nHost: x\r\n\r\n"),
            redirect("/", "<a href=\"/\">Temporary Redirect</a>.\n\n")
        );
        assert_eq!(
            r(&req("POST", "/a/../b", "")),
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: /b\r\nDate: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(
            r(&req("HEAD", "/a/../b", "")),
            "HTTP/1.1 307 Temporary Redirect\r\nContent-Type: text/html; charset=utf-8\r\nLocation: /b\r\n\
             Date: Fri, 27 Nov 2026 01:53:25 GMT\r\n\r\n"
        );
        assert_eq!(
            r(b"CONNECT h:1 HTTP/1.1\r\n\r\n"),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\
             Date: Fri, 27 Nov 2026 01:53:25 GMT\r\nContent-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n"
        );
        // Accepted by Go: absolute-form target with a clean path, bare LF, folding, HTTP/1.5.
        assert_eq!(
            reject(
                &c,
                b"GET http://example.com/mqtt HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            .error,
            HandshakeError::MqttNotEnabled
        );
        assert!(
            run(&c, &text(&wire_req("")).replace("\r\n", "\n").into_bytes())
                .unwrap()
                .is_some()
        );
        assert!(run(&c, &wire_req("X-F: a\r\n b\r\n")).unwrap().is_some());
        assert!(
            run(
                &c,
                &text(&wire_req(""))
                    .replace("HTTP/1.1", "HTTP/1.5")
                    .into_bytes()
            )
            .unwrap()
            .is_some()
        );
        assert!(run(&c, &req("GET", "/a/b/", "")).unwrap().is_some());
    }
}

#[test]
fn every_error_has_a_status_and_log_policy() {
    let all = [
        HandshakeError::HeadTooLarge,
        HandshakeError::MalformedRequest,
        HandshakeError::MissingHostHeader,
        HandshakeError::MalformedHostHeader,
        HandshakeError::InvalidHeaderName,
        HandshakeError::UnsupportedVersion,
        HandshakeError::OptionsAsterisk,
        HandshakeError::AsteriskTarget,
        HandshakeError::ConnectNotFound,
        HandshakeError::NotCleanPath {
            location: "/".into(),
        },
        HandshakeError::MqttNotEnabled,
        HandshakeError::MethodNotGet,
        HandshakeError::HostMissing,
        HandshakeError::InvalidUpgradeHeader,
        HandshakeError::InvalidConnectionHeader,
        HandshakeError::KeyMissing,
        HandshakeError::InvalidKey,
        HandshakeError::InvalidVersion,
        HandshakeError::OriginNotAllowed(OriginError::NotInAllowedList),
        HandshakeError::DataBeforeHandshake,
    ];
    for e in &all {
        assert!(!response::status_text(e.status()).is_empty(), "{e}");
    }
    assert_eq!(
        HandshakeError::OriginNotAllowed(OriginError::NotInAllowedList)
            .log_line("1.2.3.4:5")
            .as_deref(),
        Some("1.2.3.4:5 - websocket handshake error: origin not allowed: not in the allowed list")
    );
    assert_eq!(HandshakeError::MalformedRequest.log_line("x"), None);
}
