//! Tests of the options built from configuration files: ports of TestWSParseOptions,
//! TestWebsocketPingIntervalConfig, TestConfigCheck (websocket cases) and
//! TestTlsPinnedCertificates, plus texts checked against nats-server v2.15.1 `-t`.

use std::path::{Path, PathBuf};

use super::*;

fn load(text: &str) -> Result<Loaded, ConfigError> {
    ServerOpts::from_str(text, Path::new("."))
}

fn ws(text: &str) -> WebsocketOpts {
    match load(text) {
        Ok(loaded) => loaded.opts.websocket,
        Err(e) => panic!("unexpected error for {text:?}: {e}"),
    }
}

/// The whole error text, as Go's `processConfigErr.Error()` prints it.
fn err(text: &str) -> String {
    match load(text) {
        Ok(loaded) => panic!("expected an error for {text:?}, got {loaded:?}"),
        Err(e) => e.to_string(),
    }
}

fn temp_conf(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nats-ws-options-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("{e}");
    }
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, text) {
        panic!("{e}");
    }
    path
}

// Go: TestWSParseOptions, negative cases (Go checks substrings; the full texts are
// nats-server's, with the position of the offending key).
#[test]
fn ws_parse_options_errors() {
    for (text, substring, full) in [
        (
            "websocket: []",
            "to be a map",
            ":1:0: Expected websocket to be a map, got []interface {}\n",
        ),
        (
            "websocket: { listen: [] }",
            "port or host:port",
            ":1:13: expected port or host:port, got []interface {}\n",
        ),
        (
            "websocket: { port: \"abc\" }",
            "not int64",
            ":1:13: interface conversion: interface {} is string, not int64\n",
        ),
        (
            "websocket: { host: 123 }",
            "not string",
            ":1:13: interface conversion: interface {} is int64, not string\n",
        ),
        (
            "websocket: { advertise: 123 }",
            "not string",
            ":1:13: interface conversion: interface {} is int64, not string\n",
        ),
        (
            "websocket: { tls: 123 }",
            "not map[string]interface {}",
            ":1:13: interface conversion: interface {} is int64, not map[string]interface {}\n",
        ),
        (
            "websocket: { same_origin: \"abc\" }",
            "not bool",
            ":1:13: interface conversion: interface {} is string, not bool\n",
        ),
        (
            "websocket: { allowed_origins: {} }",
            "unsupported type",
            ":1:13: error parsing allowed origins: unsupported type map[string]interface {}\n",
        ),
        (
            "websocket: { allowed_origins: [ {} ] }",
            "unsupported type in array",
            ":1:34: error parsing allowed origins: unsupported type in array map[string]interface {}\n",
        ),
        (
            "websocket: { handshake_timeout: [] }",
            "unsupported type",
            ":1:13: error parsing handshake timeout: unsupported type []interface {}\n",
        ),
        (
            "websocket: { handshake_timeout: \"abc\" }",
            "invalid duration",
            ":1:13: time: invalid duration \"abc\"\n",
        ),
        (
            "websocket: { headers: 123 }",
            "unsupported type",
            ":1:13: error parsing headers: unsupported type int64\n",
        ),
        (
            "websocket: { headers: [] }",
            "unsupported type",
            ":1:13: error parsing headers: unsupported type []interface {}\n",
        ),
        (
            "websocket: { headers: { \"key\": 123 } }",
            "unsupported type",
            ":1:25: error parsing header key key: unsupported type int64\n",
        ),
        (
            "websocket: { this_does_not_exist: 123 }",
            "unknown",
            ":1:13: unknown field \"this_does_not_exist\"\n",
        ),
    ] {
        let got = err(text);
        assert!(got.contains(substring), "{text:?}: {got:?}");
        assert_eq!(got, full, "{text:?}");
    }
}

// Go: TestWSParseOptions, positive cases.
#[test]
fn ws_parse_options_values() {
    assert_eq!(ws("websocket { listen: 1234 }").port, 1234);
    let wo = ws("websocket { listen: \"localhost:1234\" }");
    assert_eq!((wo.host.as_str(), wo.port), ("localhost", 1234));
    assert_eq!(ws("websocket { host: \"localhost\" }").host, "localhost");
    assert_eq!(ws("websocket { port: 1234 }").port, 1234);
    assert_eq!(
        ws("websocket { advertise: \"host:1234\" }").advertise,
        "host:1234"
    );
    assert!(ws("websocket { same_origin: true }").same_origin);
    assert_eq!(
        ws("websocket { allowed_origins: \"https://host.com/\" }").allowed_origins,
        ["https://host.com/"]
    );
    assert_eq!(
        ws("\n\t\t\twebsocket {\n\t\t\t\tallowed_origins: [\n\t\t\t\t\t\"https://host1.com/\"\n\t\t\t\t\t\"https://host2.com/\"\n\t\t\t\t]\n\t\t\t}\n\t\t\t")
            .allowed_origins,
        ["https://host1.com/", "https://host2.com/"]
    );
    assert_eq!(
        ws("websocket { handshake_timeout: 3 }").handshake_timeout,
        GoDuration(3 * GoDuration::SECOND)
    );
    assert_eq!(
        ws("websocket { handshake_timeout: \"4s\" }").handshake_timeout,
        GoDuration(4 * GoDuration::SECOND)
    );
    let wo = ws(
        "\n\t\t\twebsocket {\n\t\t\t\ttls {\n\t\t\t\t\tcert_file: \"./configs/certs/server.pem\"\n\t\t\t\t\tkey_file: \"./configs/certs/key.pem\"\n\t\t\t\t}\n\t\t\t}\n\t\t\t",
    );
    let tls = wo.tls.unwrap_or_default();
    assert_eq!(tls.cert_file, "./configs/certs/server.pem");
    assert_eq!(tls.key_file, "./configs/certs/key.pem");
    assert!(ws("websocket {\n\tcompression: true\n}").compression);
    assert!(ws("ws { compress: yes }").compression);
    assert_eq!(
        ws("websocket {\n\tjwt_cookie: \"jwtcookie\"\n}").jwt_cookie,
        "jwtcookie"
    );
    assert_eq!(
        ws("websocket {\n\tno_auth_user: \"noauthuser\"\n}").no_auth_user,
        "noauthuser"
    );
    let wo = ws(
        "\n\t\t\twebsocket {\n\t\t\t\tauthorization {\n\t\t\t\t\tuser: \"webuser\"\n\t\t\t\t\tpassword: \"pwd\"\n\t\t\t\t\ttoken: \"token\"\n\t\t\t\t\ttimeout: 2.0\n\t\t\t\t}\n\t\t\t}\n\t\t\t",
    );
    assert_eq!(
        (
            wo.username.as_str(),
            wo.password.as_str(),
            wo.token.as_str(),
            wo.auth_timeout
        ),
        ("webuser", "pwd", "token", 2.0)
    );
    assert_eq!(
        ws("websocket {\n\tauthorization {\n\t\ttimeout: 2\n\t}\n}").auth_timeout,
        2.0
    );
    let wo = ws(
        "\n\t\t\twebsocket {\n\t\t\t\theaders {\n\t\t\t\t\t\"X-Header\": \"some-value\"\n\t\t\t\t\t\"X-Another-Header\": \"another-value\"\n\t\t\t\t}\n\t\t\t}\n\t\t\t",
    );
    assert_eq!(
        wo.headers,
        [
            ("X-Header".to_owned(), "some-value".to_owned()),
            ("X-Another-Header".to_owned(), "another-value".to_owned())
        ]
    );
}

#[test]
fn ws_keys_and_aliases() {
    let wo = ws(
        "ws {\n net: \"h\"\n USER_COOKIE: u\n pass_cookie: p\n token_cookie: t\n no_tls: true\n}",
    );
    assert_eq!(wo.host, "h");
    assert_eq!(
        (
            wo.username_cookie.as_str(),
            wo.password_cookie.as_str(),
            wo.token_cookie.as_str()
        ),
        ("u", "p", "t")
    );
    assert!(wo.no_tls);
    for key in [
        "allowed_origins",
        "allowed_origin",
        "allow_origins",
        "allow_origin",
        "origins",
        "origin",
    ] {
        assert_eq!(
            ws(&format!("websocket {{ {key}: \"http://a\" }}")).allowed_origins,
            ["http://a"]
        );
    }
    let wo = ws("websocket { authentication { username: a, pass: b, timeout: \"x\" } }");
    assert_eq!(
        (wo.username.as_str(), wo.password.as_str(), wo.auth_timeout),
        ("a", "b", 1.0)
    );
    assert_eq!(
        err("ws { listen: \"localhost\" }"),
        ":1:5: could not parse address string \"localhost\"\n"
    );
    assert_eq!(
        err("ws { listen: \"localhost:abc\" }"),
        ":1:5: could not parse port \"abc\"\n"
    );
    assert_eq!(ws("ws { listen: \"[::1]:-1\" }").port, -1);
}

// Go recovers the panic of parseSimpleAuth, returns nil, then dereferences it.
#[test]
fn ws_auth_type_mismatch_ends_the_block_like_go() {
    assert_eq!(
        err("websocket { authorization { user: 1 }, port: 5 }"),
        ":1:28: interface conversion: interface {} is int64, not string\n\
         :1:12: runtime error: invalid memory address or nil pointer dereference\n"
    );
}

// Go: TestWebsocketPingIntervalConfig
#[test]
fn ws_ping_interval() {
    let second = GoDuration::SECOND;
    let ping = |text: &str| load(text).map(|l| (l.opts.websocket.ping_interval, l.warnings.len()));
    assert_eq!(
        ping("\n\t\twebsocket {\n\t\t\tport: 8080\n\t\t\tping_interval: \"30s\"\n\t\t}\n\t"),
        Ok((GoDuration(30 * second), 0))
    );
    let loaded = load("\n\t\twebsocket {\n\t\t\tport: 8080\n\t\t\tping_interval: 45\n\t\t}\n\t");
    let Ok(loaded) = loaded else {
        panic!("{loaded:?}")
    };
    assert_eq!(loaded.opts.websocket.ping_interval, GoDuration(45 * second));
    let warnings: Vec<_> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            ":4:4: invalid use of field \"ping_interval\": ping_interval should be converted to a duration"
        ]
    );
    assert_eq!(
        ping("\n\t\twebsocket {\n\t\t\tport: 8080\n\t\t\tping_interval: \"2m\"\n\t\t}\n\t"),
        Ok((GoDuration(120 * second), 0))
    );
    assert_eq!(
        ping("\n\t\twebsocket {\n\t\t\tport: 8080\n\t\t}\n\t"),
        Ok((GoDuration(0), 0))
    );
    assert_eq!(
        err("websocket { ping_interval: \"x\" }"),
        ":1:12: error parsing ping_interval: time: invalid duration \"x\"\n"
    );
}

// Go: TestConfigCheck, the websocket cases, through real files (Go names the file).
#[test]
fn config_check_websocket_cases() {
    for (name, text, want_line_pos, want) in [
        (
            "auth_unknown.conf",
            "\n\t\t\t\twebsocket {\n\t\t\t\t\tauthorization {\n                        unknown: \"field\"\n\t\t\t\t   }\n\t\t\t\t}\n\t\t\t",
            (4, 25),
            "unknown field \"unknown\"",
        ),
        (
            "bad_tls.conf",
            "\n\t\t\t\twebsocket {\n                    tls {\n\t\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t",
            (3, 21),
            "missing 'key_file' in TLS configuration",
        ),
        (
            "known_urls.conf",
            "\n\t\t\t\twebsocket {\n                    tls {\n\t\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\t\tkey_file: \"configs/certs/key.pem\"\n\t\t\t\t\t    verify_cert_and_check_known_urls: true\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t",
            (6, 10),
            "verify_cert_and_check_known_urls not supported in this context",
        ),
    ] {
        let path = temp_conf(name, text);
        let got = match ServerOpts::from_file(&path) {
            Ok(l) => panic!("{name}: no error: {l:?}"),
            Err(e) => e.to_string(),
        };
        let (line, pos) = want_line_pos;
        assert_eq!(
            got,
            format!("{}:{line}:{pos}: {want}\n", path.display()),
            "{name}"
        );
    }
}

// Go: TestTlsPinnedCertificates (the top-level, websocket, mqtt and leafnode blocks; the
// cluster block is refused).
#[test]
fn tls_pinned_certificates() {
    let block = "tls {\n\t\t\tcert_file: \"./configs/certs/server.pem\"\n\t\t\tkey_file: \"./configs/certs/key.pem\"\n\t\t\t# Require a client certificate and map user id from certificate\n\t\t\tverify: true\n\t\t\tpinned_certs: [\"7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069\",\n\t\t\t\t\"a8f407340dcc719864214b85ed96f98d16cbffa8f509d9fa4ca237b7bb3f9c32\"]\n\t\t}";
    let text = format!(
        "\n\t{block}\n\tcluster {{\n\t\tport -1\n\t\tname cluster-hub\n\t\t{block}\n\t}}\n\tleafnodes {{\n\t\tport -1\n\t\t{block}\n\t}}\n\twebsocket {{\n\t\tport -1\n\t\t{block}\n\t}}\n\tmqtt {{\n\t\tport -1\n\t\t{block}\n\t}}"
    );
    let loaded = match load(&text) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let pinned =
        |set: &Option<std::collections::BTreeSet<String>>| set.as_ref().map_or(0, |s| s.len());
    assert_eq!(pinned(&loaded.opts.tls_pinned_certs), 2);
    assert_eq!(pinned(&loaded.opts.websocket.tls_pinned_certs), 2);
    assert!(loaded.opts.websocket.tls.as_ref().is_some_and(|t| t.verify));
    assert_eq!(pinned(&loaded.opts.mqtt.tls_pinned_certs), 2);
    assert!(loaded.opts.mqtt.tls.as_ref().is_some_and(|t| t.verify));
    assert_eq!(pinned(&loaded.opts.leafnode.tls_pinned_certs), 2);
    assert!(loaded.opts.leafnode.tls.as_ref().is_some_and(|t| t.verify));
    assert_eq!(loaded.warnings, []);
    // A cluster block parses, and the server refuses to start with it (options/ops.rs).
    let refused: Vec<_> = loaded
        .opts
        .refused
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        refused,
        [":10:2: field \"cluster\" is not supported by this server, which would not honour it"]
    );
    // Entries are lower-cased, then must be 64 hex digits (nats-server: 1:34).
    assert_eq!(
        err("websocket { tls { pinned_certs: [\"ABC\"] } }"),
        ":1:34: error parsing tls config, 'pinned_certs' key abc does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo\n"
    );
    let upper = "7F83B1657FF1FC53B92DC18148A1D65DFC2D4B1FA3D677284ADDD200126D9069";
    let wo = ws(&format!(
        "websocket {{ tls {{ pinned_certs: [\"{upper}\"] }} }}"
    ));
    assert!(
        wo.tls_pinned_certs
            .is_some_and(|s| s.contains(&upper.to_lowercase()))
    );
}

#[test]
fn tls_block_errors() {
    for (text, want) in [
        (
            "tls { key_file: k }",
            ":1:0: missing 'cert_file' in TLS configuration\n",
        ),
        (
            "tls { verify: 1 }",
            ":1:6: error parsing tls config, expected 'verify' to be a boolean\n",
        ),
        (
            "tls { cert_file: 1 }",
            ":1:6: error parsing tls config, expected 'cert_file' to be filename\n",
        ),
        (
            "tls { nope: 1 }",
            ":1:6: error parsing tls config, unknown field \"nope\"\n",
        ),
        (
            "tls { timeout: \"x\" }",
            ":1:6: error parsing tls config, 'timeout' time: invalid duration \"x\"\n",
        ),
        (
            "tls { cipher_suites: [] }",
            ":1:6: error parsing tls config, 'cipher_suites' cannot be empty\n",
        ),
        (
            "tls { pinned_certs: \"x\" }",
            ":1:6: error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo\n",
        ),
    ] {
        assert_eq!(err(text), want, "{text:?}");
    }
    let loaded = load("tls { cert_file: c, key_file: k, verify_and_map: true, timeout: 2 }");
    let tls = loaded.ok().and_then(|l| l.opts.tls).unwrap_or_default();
    assert!(tls.verify && tls.map);
    assert_eq!(tls.timeout, 2.0);
}

#[test]
fn server_level_options() {
    let text = "\nlisten: \"127.0.0.1:4333\"\nserver_name: srv\nno_auth_user: bob\nmax_payload: 1MB\nmax_control_line: 2k\nmax_connections: 0\nmax_pending: 10\nping_interval: \"2m\"\nping_max: 3\nwrite_deadline: \"5s\"\ntrusted_keys: [\"ODSKR7MYFQZ5MMAJ6FPMEETCTE3RIHOFLTYPJRMAVVN4OLV2YYAMHCAC\"]\nresolver: MEMORY\nresolver_preload { ADZ547B24WHPLWOK7TMLNBSA7FQFXR6UM2NZ4HHNIB7RDFVZQFOZ4GQQ: \"eyJ0\" }\noperator: \"op.jwt\"\nsystem_account: SYS\n";
    let loaded = match load(text) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let o = &loaded.opts;
    assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 4333));
    assert_eq!(o.server_name, "srv");
    assert_eq!(o.no_auth_user, "bob");
    assert_eq!((o.max_payload, o.max_control_line), (1 << 20, 2000));
    assert_eq!((o.max_connections, o.max_pending, o.ping_max), (-1, 10, 3));
    assert_eq!(o.ping_interval, GoDuration(120 * GoDuration::SECOND));
    assert_eq!(o.write_deadline, GoDuration(5 * GoDuration::SECOND));
    assert_eq!(o.trusted_keys.len(), 1);
    assert_eq!(o.resolver, Some(Resolver::Memory));
    assert_eq!(o.resolver_preload.len(), 1);
    assert_eq!(o.operators, ["op.jwt"]);
    assert_eq!(o.system_account, "SYS");
    assert!(loaded.warnings.is_empty());

    for (text, want) in [
        (
            "max_payload: 3000000000",
            ":1:0: max_payload value is too big\n",
        ),
        (
            "server_name: \"a b\"",
            ":1:0: server name cannot contain spaces\n",
        ),
        (
            "port: \"x\"",
            ":1:0: interface conversion: interface {} is string, not int64\n",
        ),
        ("monitor = 1", ":1:0: unknown field \"monitor\"\n"),
        (
            "trusted_keys: \"nope\"",
            ":1:0: trust key \"nope\" required to be a valid public operator nkey\n",
        ),
        (
            "resolver: \"xyz\"",
            ":1:0: error parsing account resolver, should be MEM or  URL(\"url\") or a map containing dir and type state=[FULL|CACHE])\n",
        ),
        (
            "write_deadline: 5\nx: 1",
            ":1:0: invalid use of field \"write_deadline\": write_deadline should be converted to a duration\n:2:1: unknown field \"x\"\n",
        ),
    ] {
        assert_eq!(err(text), want, "{text:?}");
    }
    // Found by scripts/conf-diff.py: Go's parseAccounts has no case for a scalar, so
    // `accounts 1` or `accounts: D` is accepted and does nothing (we reported
    // `interface conversion: interface {} is int64, not map[string]interface {}`).
    for text in [
        "accounts 1",
        "accounts: D",
        "accounts: true",
        "accounts 1.5",
    ] {
        assert_eq!(load(text).map(|l| l.opts.accounts.len()), Ok(0), "{text:?}");
    }
    // A variable definition that is used is not an unknown field.
    assert!(load("my_port = 4222\nport = $my_port").is_ok());
    // An empty config only warns.
    let empty = load("");
    assert_eq!(
        empty.map(|l| l
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()),
        Ok(vec![": config has no values or is empty".to_owned()])
    );
}

/// Account `imports`, `exports` and `mappings` would share and map subjects between
/// accounts, which this server does not do: refused when set, at their position, never
/// silently ignored (Go 2.15.1 accepts and honours them). Empty ones change nothing.
#[test]
fn account_sharing_and_mappings_are_refused() {
    for (text, key, at) in [
        (
            "accounts {\n A: { exports: [ {stream: \"foo.>\"} ] }\n}",
            "exports",
            ":2:",
        ),
        (
            "accounts {\n A: {}\n B: { imports: [ {stream: {account: A, subject: foo}} ] }\n}",
            "imports",
            ":3:",
        ),
        (
            "accounts {\n A: { mappings: { foo: bar } }\n}",
            "mappings",
            ":2:",
        ),
        ("accounts {\n A: { maps: { foo: bar } }\n}", "maps", ":2:"),
    ] {
        let loaded = match load(text) {
            Ok(l) => l,
            Err(e) => panic!("{text}: {e}"),
        };
        let refused: Vec<String> = loaded
            .opts
            .refused
            .iter()
            .map(ToString::to_string)
            .collect();
        let want =
            format!("field \"{key}\" is not supported by this server, which would not honour it");
        assert!(
            matches!(&refused[..], [only] if only.contains(&want) && only.starts_with(at)),
            "{text}: {refused:?}"
        );
    }
    let loaded = match load("accounts {\n A: { exports: [], imports: [], mappings: {} }\n}") {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    assert!(loaded.opts.refused.is_empty(), "{:?}", loaded.opts.refused);
}

#[test]
fn auth_callout_and_unenforced_account_limits_are_refused() {
    for (text, key, line) in [
        (
            "authorization {\n auth_callout: {issuer: x}\n}",
            "auth_callout",
            ":2:",
        ),
        (
            "accounts {\n A: {\n  limits: {max_connections: 5}\n }\n}",
            "max_connections",
            ":3:",
        ),
        (
            "accounts {\n A: {\n  limits: {max_pay: 0}\n }\n}",
            "max_pay",
            ":3:",
        ),
    ] {
        let err = match load(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        };
        let want =
            format!("field \"{key}\" is not supported by this server, which would not enforce it");
        assert!(err.contains(&want), "{err}");
        assert!(err.contains(line), "{err}");
    }
    // -1 is "no limit"; the subscription limit is enforced.
    let loaded = match load("accounts {\n A: { limits: {max_subs: 3, max_conn: -1} }\n}") {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let a = loaded.opts.accounts.first();
    assert_eq!(a.and_then(|a| a.max_subscriptions), Some(3));
    match load("accounts {\n A: { limits: {max_things: 3} }\n}") {
        Ok(_) => panic!("accepted an unknown limit"),
        Err(e) => assert!(
            e.to_string()
                .contains("Unknown field \"max_things\" parsing account limits"),
            "{e}"
        ),
    }
}

#[test]
fn permissions_forms_defaults_and_errors() {
    use crate::options::{Permissions, ResponsePermission, SubjectPermission};
    let allow = |s: &[&str]| SubjectPermission {
        allow: Some(s.iter().map(|s| (*s).to_owned()).collect()),
        deny: Vec::new(),
    };
    let text = "authorization {\n default_permissions: {publish: \"d\"}\n users: [\n  {user: a, password: p, permissions: {pub: [\"x\", \"y.>\"], sub: {allow: \"q\", deny: [\"q.secret\", \"w grp\"]}}}\n  {user: b, password: p}\n  {user: c, password: p, permissions: {allow_responses: {max: 3, expires: \"1s\"}}}\n ]\n}\naccounts {\n A: { default_permissions: {subscribe: \"s\"}, users: [ {user: e, password: p} ] }\n}";
    let loaded = match load(text) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let perms = |name: &str| {
        loaded
            .opts
            .users
            .iter()
            .find(|u| u.username == name)
            .and_then(|u| u.permissions.clone())
    };
    assert_eq!(
        perms("a"),
        Some(Permissions {
            publish: Some(allow(&["x", "y.>"])),
            subscribe: Some(SubjectPermission {
                allow: Some(vec!["q".into()]),
                deny: vec!["q.secret".into(), "w grp".into()],
            }),
            response: None,
        })
    );
    // The authorization block's default, and an account's for its own users.
    assert_eq!(perms("b").and_then(|p| p.publish), Some(allow(&["d"])));
    assert_eq!(perms("e").and_then(|p| p.subscribe), Some(allow(&["s"])));
    // allow_responses turns off the blanket publish allow (Go: an empty allow list).
    assert_eq!(
        perms("c"),
        Some(Permissions {
            publish: Some(allow(&[])),
            subscribe: None,
            response: Some(ResponsePermission {
                max_msgs: 3,
                expires: Some(std::time::Duration::from_secs(1)),
            }),
        })
    );
    for (perms, want) in [
        ("5", "Expected permissions to be a map/struct, got 5"),
        ("5.5", "Expected permissions to be a map/struct, got 5.5"),
        (
            "{publish: 5}",
            "Expected subject permissions to be a subject, or array of subjects, got int64",
        ),
        (
            "{publish: [5, \"x\"]}",
            "Subject in permissions array cannot be cast to string",
        ),
        (
            "{publish: \"a b\"}",
            "subject \"a b\" is not a valid subject",
        ),
        (
            "{subscribe: \"a b c\"}",
            "subject \"a b c\" is not a valid subject",
        ),
        (
            "{subscribe: \"a..b q\"}",
            "subject \"a..b\" is not a valid subject",
        ),
        (
            "{subscribe: {allow: \"a\", only: \"b\"}}",
            "Unknown field name \"only\" parsing subject permissions, only 'allow' or 'deny' are permitted",
        ),
        (
            "{publish: \"a\", other: 1}",
            "Unknown field \"other\" parsing permissions",
        ),
        (
            "{allow_responses: 5}",
            "error parsing response permissions, expected a boolean or a map",
        ),
        (
            "{allow_responses: {expires: 5}}",
            "error parsing expires, not a duration string",
        ),
        (
            "{allow_responses: {expires: \"5x\"}}",
            "error parsing expires: time: unknown unit \"x\" in duration \"5x\"",
        ),
    ] {
        let text = format!(
            "authorization {{\n users: [\n  {{user: a, password: p\n   permissions: {perms}\n  }}\n ]\n}}"
        );
        match load(&text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => assert!(e.to_string().contains(want), "{perms}: {e}"),
        }
    }
}

#[test]
fn authorization_users_and_accounts() {
    let text = "\nauthorization {\n  users: [\n    {user: alice, password: pwd, allowed_connection_types: [\"websocket\", \"Mqtt\"]}\n    {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, permissions: {publish: \">\"}}\n  ]\n  timeout: 2\n}\naccounts {\n  A: { users: [ {user: bob, password: b} ] }\n}\n";
    let loaded = match load(text) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let o = &loaded.opts;
    assert_eq!(o.auth_timeout, 2.0);
    assert_eq!(o.users.len(), 2);
    let alice = o.users.iter().find(|u| u.username == "alice");
    let types = alice
        .and_then(|u| u.allowed_connection_types.clone())
        .unwrap_or_default();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["MQTT", "WEBSOCKET"]);
    let bob = o.users.iter().find(|u| u.username == "bob");
    assert_eq!(bob.and_then(|u| u.account.clone()).as_deref(), Some("A"));
    assert_eq!(o.nkeys.len(), 1);
    assert!(o.nkeys.first().is_some_and(|n| n.permissions.is_some()));
    assert_eq!(o.accounts.len(), 1);

    for (text, want) in [
        (
            "authorization { users: [ {user: a, allowed_connection_types: [\"websocket\", \"foo\", \"Bar\"]} ] }",
            ":1:35: invalid connection types [\"FOO\" \"BAR\"]\n",
        ),
        (
            "authorization { user: 1 }",
            ":1:16: interface conversion: interface {} is int64, not string\n:1:0: runtime error: invalid memory address or nil pointer dereference\n",
        ),
        (
            "authorization { user: a, token: t }",
            ":1:0: Cannot have a user/pass and token\n",
        ),
        (
            "authorization { user: a, users: [] }",
            ":1:0: Can not have a single user/pass and a users array\n",
        ),
        (
            "authorization { users: [ {user: a}, {user: a} ] }",
            ":1:0: Duplicate user \"a\" detected\n",
        ),
        (
            "authorization { users: [ {password: a} ] }",
            ":1:26: User entry requires a user\n",
        ),
        (
            "authorization { users: [ {nkey: UBAD} ] }",
            ":1:26: Not a valid public nkey for a user\n",
        ),
        (
            "authorization { users: [ {user: a, account: x} ] }",
            ":1:35: unknown field \"account\"\n",
        ),
        (
            "authorization { timeout: 61 }\nx: 1",
            ":1:16: invalid use of field \"timeout\": timeout of 61 (61.000000 seconds) is high, consider keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example\n:2:1: unknown field \"x\"\n",
        ),
        (
            "accounts { $G: {} }",
            ":1:11: \"$G\" is a Reserved Account\n",
        ),
        (
            "accounts { A: 1 }",
            ":1:11: Expected map entries for accounts\n",
        ),
        (
            "accounts { A: { nkey: x } }",
            ":1:16: Not a valid public nkey for an account: \"x\"\n",
        ),
        (
            "authorization { user: u }\naccounts { A: { users: [ {user: b} ] } }",
            ":2:17: Can not have a single user/pass and accounts\n",
        ),
    ] {
        assert_eq!(err(text), want, "{text:?}");
    }
}
