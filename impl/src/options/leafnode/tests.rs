//! Tests of the `leafnodes {}` options: ports of TestLeafNodeWSMixURLs,
//! TestLeafNodeWSRemoteCompressAndMaskingOptions, TestLeafNodeHttpProxyConfigParsing and
//! TestLeafNodeHttpProxyConfigWarnings, plus error texts checked against nats-server
//! v2.15.1 (`nats-server -t -c` for parse errors, starting it for validation errors).

use std::path::Path;

use super::*;
use crate::options::{ConfigError, Loaded, ValidationError};

fn load(text: &str) -> Result<Loaded, ConfigError> {
    ServerOpts::from_str(text, Path::new("."))
}

fn loaded(text: &str) -> Loaded {
    match load(text) {
        Ok(l) => l,
        Err(e) => panic!("unexpected error for {text:?}: {e}"),
    }
}

fn leaf(text: &str) -> LeafNodeOpts {
    loaded(text).opts.leafnode
}

/// The whole error text, as Go's `processConfigErr.Error()` prints it.
fn err(text: &str) -> String {
    match load(text) {
        Ok(l) => panic!("expected an error for {text:?}, got {l:?}"),
        Err(e) => e.to_string(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    loaded(text)
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn invalid(text: &str) -> String {
    match loaded(text).opts.validate() {
        Ok(()) => panic!("expected a validation error for {text:?}"),
        Err(e) => e.to_string(),
    }
}

// Each text is nats-server v2.15.1's for the same line (`nats-server -t -c`).
#[test]
fn parse_errors_are_gos() {
    let cases: &[(&str, &str)] = &[
        (
            "leafnodes: 1",
            ":1:0: Expected map to define a leafnode, got int64\n",
        ),
        (
            "leafnodes: { port: \"x\" }",
            ":1:13: interface conversion: interface {} is string, not int64\n",
        ),
        (
            "leafnodes: { listen: [] }",
            ":1:13: expected port or host:port, got []interface {}\n",
        ),
        (
            "leafnodes: { authorization: 1 }",
            ":1:13: interface conversion: interface {} is int64, not map[string]interface {}\n:1:13: runtime error: invalid memory address or nil pointer dereference\n",
        ),
        (
            "leafnodes: { authorization: { user: 1 } }",
            ":1:30: interface conversion: interface {} is int64, not string\n:1:13: runtime error: invalid memory address or nil pointer dereference\n",
        ),
        (
            "leafnodes: { authorization: { nkey: \"bad\" } }",
            ":1:30: Not a valid public nkey for leafnode authorization\n",
        ),
        (
            "leafnodes: { authorization: { timeout: \"x\" } }",
            ":1:30: error parsing leafnode authorization config, 'timeout' time: invalid duration \"x\"\n",
        ),
        (
            "leafnodes: { authorization: { timeout: true } }",
            ":1:30: error parsing leafnode authorization config, 'timeout' wrong type\n",
        ),
        (
            "leafnodes: { authorization: { users: 1 } }",
            ":1:30: Expected users field to be an array, got 1\n",
        ),
        (
            "leafnodes: { authorization: { users: [{user: a, bogus: 1}] } }",
            ":1:48: unknown field \"bogus\"\n",
        ),
        (
            "leafnodes: { authorization: { users: [{user: a}, {user: a}] } }",
            ":1:13: duplicate user \"a\" detected in leafnode authorization\n",
        ),
        (
            "leafnodes: { authorization: { nkey: \"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\", users: [{user: a}] } }",
            ":1:13: can not have a single nkey and a users array\n",
        ),
        (
            "leafnodes: { authorization: { bogus: 1 } }",
            ":1:30: unknown field \"bogus\"\n",
        ),
        (
            "leafnodes: { remotes: 1 }",
            ":1:13: Expected remotes field to be an array, got int64\n",
        ),
        (
            "leafnodes: { remotes: [{url: 1}] }",
            ":1:24: Expected remote leafnode url to be an array or string, got 1\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"127.0.0.1:7422\"}] }",
            ":1:24: error parsing leafnode url [\"127.0.0.1:7422\"]\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", nkey: \"bad\"}] }",
            ":1:43: Remote leafnode nkey is not a valid seed: \"bad\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", nkey: \"SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY\", credentials: \"x\"}] }",
            ":1:111: Remote leafnode can not have both creds and nkey defined\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", deny_imports: \"a..b\"}] }",
            ":1:43: subject \"a..b\" is not a valid subject\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", ws_compression: \"yes\"}] }",
            ":1:43: interface conversion: interface {} is string, not bool\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", compression: 1}] }",
            ":1:43: field \"compression\" should be a boolean or a structure, got int64\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", compression: {mode: s2_auto, rtt: [\"x\"]}}] }",
            ":1:72: time: invalid duration \"x\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", compression: {bogus: 1}}] }",
            ":1:57: unknown field \"bogus\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", first_info_timeout: \"x\"}] }",
            ":1:43: error parsing first_info_timeout: time: invalid duration \"x\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: 1}] }",
            ":1:41: Expected proxy to be a map, got int64\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"ftp://x\"}}] }",
            ":1:41: proxy URL scheme must be http or https, got: ftp\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"http://\"}}] }",
            ":1:41: proxy URL must specify a host\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"http://x:1\", username: u}}] }",
            ":1:41: proxy username and password must both be specified or both be empty\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"http://x:1\", timeout: \"-1s\"}}] }",
            ":1:41: proxy timeout must be >= 0\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"http://x:1\", bogus: 1}}] }",
            ":1:68: unknown field \"bogus\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"ws://h:1\", proxy: {url: \"http://x y\"}}] }",
            ":1:41: invalid proxy URL: parse \"http://x y\": invalid character \" \" in host name\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\"}, {url: \"nats://h:1\"}] }",
            ":1:45: duplicate remote urls=[\"nats://h:1\"], account=\"$G\"\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", jetstream_cluster_migrate: 1}] }",
            "Expected boolean or map for jetstream_cluster_migrate, got int64\n",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", bogus: 1}] }",
            ":1:43: unknown field \"bogus\"\n",
        ),
        (
            "leafnodes: { min_version: \"2.7.9\" }",
            ":1:13: the minimum version should be at least 2.8.0\n",
        ),
        (
            "leafnodes: { min_version: \"x\" }",
            ":1:13: invalid leafnode's minimum version: invalid semver\n",
        ),
        (
            "leafnodes: { min_version: \"2.08.0\" }",
            ":1:13: invalid leafnode's minimum version: invalid semver\n",
        ),
        (
            "leafnodes: { min_version: \"99999999999999999999.0.0\" }",
            ":1:13: invalid leafnode's minimum version: strconv.Atoi: parsing \"99999999999999999999\": value out of range\n",
        ),
        (
            "leafnodes: { compression: 1 }",
            ":1:13: field \"compression\" should be a boolean or a structure, got int64\n",
        ),
        (
            "leafnodes: { write_timeout: \"x\" }",
            ":1:13: write_timeout must be 'default', 'close' or 'retry'\n",
        ),
        (
            "leafnodes: { reconnect: \"x\" }",
            ":1:13: error parsing reconnect: time: invalid duration \"x\"\n",
        ),
        (
            "leafnodes: { bogus: 1, port: 1 }",
            ":1:13: unknown field \"bogus\"\n",
        ),
        // A type mismatch inside `remotes` leaves no remote parsed after it, as Go.
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", hub: 3}, {url: \"nats://h:2\", proxy: {url: \"ftp://x\"}}] }",
            ":1:43: interface conversion: interface {} is int64, not bool\n",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), *want, "{text}");
    }
}

// Each text is nats-server v2.15.1's warning for the same line.
#[test]
fn warnings_are_gos() {
    for (text, want) in [
        (
            "leafnodes: { authorization: { timeout: 61 } }",
            ":1:30: invalid use of field \"timeout\": timeout of 61 (61.000000 seconds) is high, consider keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example",
        ),
        (
            "leafnodes: { remotes: [{urls: [\"nats://h:1\", \"nats://h:1\", \"x:1\"]}] }",
            ":1:46: invalid use of field \"nats://h:1\": Duplicate leafnode entry detected",
        ),
        (
            "leafnodes: { remotes: [{url: \"nats://h:1\", first_info_timeout: 3}] }",
            ":1:43: invalid use of field \"first_info_timeout\": first_info_timeout should be converted to a duration",
        ),
        (
            "leafnodes: { reconnect: 2 }",
            ":1:13: invalid use of field \"reconnect\": reconnect should be converted to a duration",
        ),
    ] {
        assert_eq!(warnings(text), [want], "{text}");
    }
}

#[test]
fn accepting_side_fields() {
    let lo = leaf(
        "leafnodes {\n  listen: \"127.0.0.1:7422\"\n  authorization { user: a, password: b, account: ACC, timeout: 2.5 }\n  advertise: \"h:1\"\n  no_advertise: true\n  min_version: \"2.8.0\"\n  reconnect: \"250ms\"\n  compression: off\n}\naccounts { ACC {} }\n",
    );
    assert_eq!((lo.host.as_str(), lo.port), ("127.0.0.1", 7422));
    assert_eq!((lo.username.as_str(), lo.password.as_str()), ("a", "b"));
    assert_eq!(lo.account, "ACC");
    assert!((lo.auth_timeout - 2.5).abs() < f64::EPSILON);
    assert_eq!((lo.advertise.as_str(), lo.no_advertise), ("h:1", true));
    assert_eq!(lo.min_version, "2.8.0");
    assert_eq!(
        lo.reconnect_interval(),
        GoDuration(250 * GoDuration::MILLISECOND)
    );
    assert_eq!(lo.compression.mode(), Ok(CompressionMode::Off));
    let users = leaf(
        "leafnodes { authorization { users: [{user: u, password: p, account: A}, {user: v, proxy_required: true}] } }",
    )
    .users;
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].account.as_deref(), Some("A"));
    assert!(users[1].proxy_required && users[1].account.is_none());
    // `leaf` is the other spelling; unset reconnect is Go's 1 s.
    assert_eq!(leaf("leaf { port: -1 }").port, -1);
    assert_eq!(
        leaf("leaf { port: -1 }").reconnect_interval(),
        DEFAULT_LEAF_NODE_RECONNECT
    );
}

#[test]
fn remote_fields() {
    let lo = leaf(
        "leafnodes { remotes [ { urls: [\"ws://u:p@127.0.0.1:1/some/path\", \"wss://h:2\"], url: \"ws://h:3\", account: A, no_randomize: true, hub: true, deny_imports: [\"a.>\"], deny_export: \"b\", first_info_timeout: \"3s\", dial_timeout: \"2s\", disabled: true, tls { timeout: 0 } } ] }\naccounts { A {} }\n",
    );
    let r = &lo.remotes[0];
    let urls: Vec<String> = r.urls.iter().map(ToString::to_string).collect();
    assert_eq!(
        urls,
        ["ws://u:p@127.0.0.1:1/some/path", "wss://h:2", "ws://h:3"]
    );
    assert!(r.is_websocket() && r.no_randomize && r.hub && r.disabled);
    assert_eq!(r.local_account, "A");
    assert_eq!(
        (r.deny_imports.as_slice(), r.deny_exports.as_slice()),
        (&["a.>".to_owned()][..], &["b".to_owned()][..])
    );
    assert_eq!(r.first_info_timeout(), GoDuration(3 * GoDuration::SECOND));
    assert_eq!(r.dial_timeout, GoDuration(2 * GoDuration::SECOND));
    assert!((r.tls_timeout - DEFAULT_LEAF_TLS_TIMEOUT_SECS).abs() < f64::EPSILON);
    assert_eq!(
        r.safe_name(),
        "urls=[\"ws://u:xxxxx@127.0.0.1:1/some/path\" \"wss://h:2\" \"ws://h:3\"], account=\"A\""
    );
    let seed = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
    let r = &leaf(&format!(
        "leafnodes {{ remotes [ {{ url: \"nats://h:1\", nkey: {seed} }} ] }}"
    ))
    .remotes[0];
    assert_eq!(r.first_info_timeout(), DEFAULT_LEAFNODE_INFO_WAIT);
    assert_eq!(
        r.name(),
        format!("urls=[\"nats://h:1\"], account=\"$G\", nkey=\"{seed}\"")
    );
    assert_eq!(
        r.safe_name(),
        "urls=[\"nats://h:1\"], account=\"$G\", nkey=\"[REDACTED]\""
    );
}

// Go: TestLeafNodeWSRemoteCompressAndMaskingOptions.
#[test]
fn ws_remote_compress_and_masking_options() {
    for (comp, no_mask, compression, masking) in [
        ("true", "false", WsCompression::Offer, WsMasking::Mask),
        (
            "true",
            "true",
            WsCompression::Offer,
            WsMasking::RequestNoMasking,
        ),
        ("false", "false", WsCompression::Off, WsMasking::Mask),
        (
            "false",
            "true",
            WsCompression::Off,
            WsMasking::RequestNoMasking,
        ),
    ] {
        let lo = leaf(&format!(
            "port: -1\nleafnodes {{\n  remotes [\n    {{url: \"ws://127.0.0.1:1234\", ws_compression: {comp}, ws_no_masking: {no_mask}}}\n  ]\n}}\n"
        ));
        assert_eq!(lo.remotes.len(), 1);
        assert_eq!(lo.remotes[0].websocket.compression, compression);
        assert_eq!(lo.remotes[0].websocket.masking, masking);
    }
    // The other spellings.
    for key in ["ws_compress", "websocket_compress", "websocket_compression"] {
        let lo = leaf(&format!(
            "leafnodes {{ remotes [ {{url: \"ws://h:1\", {key}: true}} ] }}"
        ));
        assert_eq!(
            lo.remotes[0].websocket.compression,
            WsCompression::Offer,
            "{key}"
        );
    }
    let lo = leaf("leafnodes { remotes [ {url: \"ws://h:1\", websocket_no_masking: true} ] }");
    assert_eq!(lo.remotes[0].websocket.masking, WsMasking::RequestNoMasking);
}

// Go: TestLeafNodeWSMixURLs (the texts: nats-server v2.15.1 refusing to start).
#[test]
fn ws_mix_urls() {
    for urls in [
        [
            "nats://127.0.0.1:1234",
            "ws://127.0.0.1:5678",
            "wss://127.0.0.1:9012",
        ]
        .as_slice(),
        &[
            "ws://127.0.0.1:1234",
            "nats://127.0.0.1:5678",
            "wss://127.0.0.1:9012",
        ],
        &[
            "wss://127.0.0.1:1234",
            "ws://127.0.0.1:5678",
            "nats://127.0.0.1:9012",
        ],
        &["ws://127.0.0.1:1234", "nats://127.0.0.1:9012"],
        &["nats://127.0.0.1:1234", "ws://127.0.0.1:9012"],
        &["wss://127.0.0.1:1234", "nats://127.0.0.1:9012"],
        &["nats://127.0.0.1:1234", "wss://127.0.0.1:9012"],
    ] {
        let list: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
        let text = format!(
            "leafnodes {{ remotes [ {{ urls: [{}] }} ] }}",
            list.join(", ")
        );
        let e = invalid(&text);
        assert!(e.contains("mix"), "{e}");
        assert_eq!(
            e,
            format!(
                "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: [{}]",
                list.join(" ")
            )
        );
    }
    assert_eq!(
        invalid(
            "leafnodes { remotes [ { urls: [\"nats://u:p@127.0.0.1:7422\", \"ws://127.0.0.1:8080\"] } ] }"
        ),
        "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: [\"nats://u:xxxxx@127.0.0.1:7422\" \"ws://127.0.0.1:8080\"]"
    );
    let ok =
        loaded("leafnodes { remotes [ { urls: [\"ws://127.0.0.1:1\", \"wss://127.0.0.1:2\"] } ] }");
    assert_eq!(ok.opts.validate(), Ok(()));
}

// Go: TestLeafNodeHttpProxyConfigParsing.
#[test]
fn http_proxy_config_parsing() {
    let lo = leaf(
        "leafnodes {\n  remotes = [\n    {\n      url: \"ws://127.0.0.1:7422\"\n      proxy {\n        url: \"http://proxy.example.com:8080\"\n        username: \"user\"\n        password: \"pass\"\n        timeout: \"10s\"\n      }\n    }\n  ]\n}\n",
    );
    assert_eq!(lo.remotes.len(), 1);
    let p = &lo.remotes[0].proxy;
    assert_eq!(p.url, "http://proxy.example.com:8080");
    assert_eq!((p.username.as_str(), p.password.as_str()), ("user", "pass"));
    assert_eq!(p.timeout, GoDuration(10 * GoDuration::SECOND));
}

// Go: TestLeafNodeHttpProxyConfigWarnings (Go only checks that these load; the warning
// texts are validateLeafNodeProxyOptions').
#[test]
fn http_proxy_config_warnings() {
    let remote = |urls: &str| {
        format!(
            "leafnodes {{\n  remotes = [\n    {{\n      urls: [{urls}]\n      proxy {{\n        url: \"http://proxy.example.com:8080\"\n      }}\n    }}\n  ]\n}}\n"
        )
    };
    assert_eq!(
        warnings(&remote("\"nats://127.0.0.1:7422\"")),
        [
            ":5:7: proxy configuration will be ignored: proxy settings only apply to WebSocket connections (ws:// or wss://), but all configured URLs use TCP connections (nats://)"
        ]
    );
    assert_eq!(
        warnings(&remote(
            "\"nats://127.0.0.1:7422\", \"ws://127.0.0.1:8080\""
        )),
        [
            ":5:7: proxy configuration will only be used for WebSocket URLs: proxy settings do not apply to TCP connections (nats://)"
        ]
    );
    assert!(warnings(&remote("\"ws://127.0.0.1:7422\"")).is_empty());
    // Go: wss through a proxy needs a tls {} block (nats-server v2.15.1's text).
    assert_eq!(
        err(
            "leafnodes {\n  remotes = [\n    { url: \"wss://127.0.0.1:8080\", proxy { url: \"http://127.0.0.1:1\" } }\n  ]\n}\n"
        ),
        ":3:36: proxy is configured but remote URL wss://127.0.0.1:8080 requires TLS and no TLS configuration is provided. When using proxy with TLS endpoints, ensure TLS is properly configured for the leafnode remote\n"
    );
}

#[test]
fn validation_is_gos() {
    for (text, want) in [
        (
            "leafnodes { remotes [ { url: \"nats://h:1\", account: NOPE } ] }",
            "cannot find local account \"NOPE\" specified in leafnode remote",
        ),
        (
            "leafnodes { authorization { user: a, account: NOPE } }",
            "cannot find local account \"NOPE\" specified in leafnode authorization",
        ),
        (
            "leafnodes { remotes [ { url: \"nats://h:1\", compression: \"bogus\" } ] }",
            "unsupported compression mode \"bogus\"",
        ),
        (
            "leafnodes { compression: { mode: s2_auto, rtt: [\"100ms\", \"10ms\"] } }",
            "RTT threshold values [100ms 10ms] should be in ascending order",
        ),
        (
            "leafnodes { compression: { mode: s2_auto, rtt: [\"0s\"] } }",
            "compression mode \"s2_auto\" requires at least one RTT threshold",
        ),
    ] {
        assert_eq!(invalid(text), want, "{text}");
    }
    // The system account may be named before it exists.
    assert_eq!(
        loaded("leafnodes { remotes [ { url: \"nats://h:1\", account: \"$SYS\" } ] }")
            .opts
            .validate(),
        Ok(())
    );
    assert!(matches!(
        loaded("leafnodes { remotes [ { url: \"nats://h:1\", account: NOPE } ] }")
            .opts
            .validate(),
        Err(ValidationError::Leaf(
            LeafValidationError::UnknownAccount { .. }
        ))
    ));
}

// Ours: S2 is not implemented, so a mode that would compress is a warning.
#[test]
fn s2_compression_is_a_warning() {
    let want = ":1:13: invalid use of field \"compression\": S2 compression is not supported by this server; leafnode connections are not compressed";
    assert_eq!(warnings("leafnodes: { compression: s2_fast }"), [want]);
    assert_eq!(warnings("leafnodes: { compression: true }"), [want]);
    assert!(warnings("leafnodes: { compression: false }").is_empty());
    assert!(warnings("leafnodes: { compression: { mode: \"off\" } }").is_empty());
    assert_eq!(
        leaf("leafnodes: { compression: true }").compression.mode(),
        Ok(CompressionMode::S2Auto(vec![
            GoDuration(10 * GoDuration::MILLISECOND),
            GoDuration(50 * GoDuration::MILLISECOND),
            GoDuration(100 * GoDuration::MILLISECOND),
        ]))
    );
}

// Go: parseTLS's handshake_first forms, on a remote's tls {}.
#[test]
fn remote_tls_handshake_first() {
    for (value, first) in [
        ("true", true),
        ("false", false),
        ("\"on\"", true),
        ("\"off\"", false),
        ("\"auto\"", true),
        ("\"300ms\"", true),
    ] {
        let lo = leaf(&format!(
            "leafnodes {{ remotes [ {{ url: \"nats://h:1\", tls {{ handshake_first: {value} }} }} ] }}"
        ));
        let tls = lo.remotes[0].tls.as_ref().map(TlsConfig::handshake_first);
        assert_eq!(tls, Some(first), "{value}");
    }
}

// `write_timeout: retry` in leafnodes {} is refused at start, as at the top level.
#[test]
fn write_timeout_retry_is_refused() {
    let o = loaded("leafnodes { write_timeout: retry }").opts;
    let refused: Vec<String> = o.refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        refused,
        [
            ":1:12: field \"write_timeout\" is not supported by this server, which would not honour it"
        ]
    );
    assert!(
        loaded("leafnodes { write_timeout: close }")
            .opts
            .refused
            .is_empty()
    );
}
