//! Tests of the operational options (options/ops.rs), texts checked against nats-server
//! v2.15.1 `-t`.

use std::path::Path;

use super::*;

fn load(text: &str) -> Result<Loaded, ConfigError> {
    ServerOpts::from_str(text, Path::new("."))
}

fn opts(text: &str) -> ServerOpts {
    match load(text) {
        Ok(l) => l.opts,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn err(text: &str) -> String {
    match load(text) {
        Ok(l) => panic!("accepted {text}: {l:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn logging_and_lame_duck_keys() {
    let o = opts(
        "log_size_limit: 1KB\nlog_max_num: 3\nsyslog: true\nremote_syslog: \"udp://127.0.0.1:514\"\n\
         lame_duck_duration: \"1m\"\nlame_duck_grace_period: \"5s\"",
    );
    assert_eq!((o.log_size_limit, o.log_max_files), (1024, 3));
    assert!(o.syslog);
    assert_eq!(o.remote_syslog, "udp://127.0.0.1:514");
    assert_eq!(
        o.lame_duck(),
        (
            GoDuration(60 * GoDuration::SECOND),
            GoDuration(5 * GoDuration::SECOND)
        )
    );
    assert_eq!(
        opts("").lame_duck(),
        (DEFAULT_LAME_DUCK_DURATION, DEFAULT_LAME_DUCK_GRACE_PERIOD)
    );
    for (text, want) in [
        (
            "lame_duck_duration: \"10s\"",
            ":1:0: invalid lame_duck_duration of 10s, minimum is 30 seconds\n",
        ),
        (
            "lame_duck_duration: \"abc\"",
            ":1:0: error parsing lame_duck_duration: time: invalid duration \"abc\"\n",
        ),
        (
            "lame_duck_grace_period: \"-1s\"",
            ":1:0: invalid lame_duck_grace_period, needs to be positive\n",
        ),
        (
            "lame_duck_duration: 5",
            ":1:0: interface conversion: interface {} is int64, not string\n",
        ),
    ] {
        assert_eq!(err(text), want, "{text}");
    }
}

#[test]
fn header_support_sub_tokens_tags_and_metadata() {
    let o = opts(
        "no_header_support: true\nmax_subscription_tokens: 4\n\
         server_tags: [\"Az\", \"az\", \" b \", \"Az\", \"\"]\nserver_metadata: {z: \"1\", a: \"2\"}",
    );
    assert!(o.no_header_support);
    assert_eq!(o.max_sub_tokens, 4);
    assert_eq!(o.server_tags, ["az", "b"]);
    assert_eq!(
        o.server_metadata.iter().collect::<Vec<_>>(),
        [
            (&"a".to_owned(), &"2".to_owned()),
            (&"z".to_owned(), &"1".to_owned())
        ]
    );
    assert_eq!(opts("server_tags: \"x\"").server_tags, ["x"]);
    for (text, want) in [
        (
            "max_sub_tokens: 256",
            ":1:0: max_sub_tokens value is too big\n",
        ),
        (
            "max_sub_tokens: 0",
            ":1:0: max_sub_tokens value can not be negative\n",
        ),
        (
            "max_subscription_tokens: -1",
            ":1:0: max_subscription_tokens value can not be negative\n",
        ),
        (
            "server_tags: 5",
            ":1:0: error parsing tags: unsupported type int64\n",
        ),
        (
            "server_metadata: 5",
            ":1:0: error parsing metadata: unsupported type int64\n",
        ),
        (
            "write_timeout: \"sometimes\"",
            ":1:0: write_timeout must be 'default', 'close' or 'retry'\n",
        ),
    ] {
        assert_eq!(err(text), want, "{text}");
    }
}

#[test]
fn keys_that_would_change_behaviour_are_refused_and_harmless_ones_warned() {
    for text in [
        "cluster { port: -1 }",
        "gateway { name: A }",
        "mappings { foo: bar }",
        "default_sentinel: \"eyJ...\"",
        "prof_port: 6060",
        "proxy_protocol: true",
        "ocsp: true",
        "allow_non_tls: true",
        "resolver_pinned_accounts: [\"A\"]",
        "proxies { trusted: [{key: \"k\"}] }",
        "write_timeout: retry",
    ] {
        let loaded = match load(text) {
            Ok(l) => l,
            Err(e) => panic!("{text}: {e}"),
        };
        let key = text.split([':', ' ']).next().unwrap_or_default();
        assert_eq!(
            loaded
                .opts
                .refused
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [format!(
                ":1:0: field \"{key}\" is not supported by this server, which would not honour it"
            )],
            "{text}"
        );
    }
    // Off, empty or Go's default: nothing to honour.
    for text in [
        "cluster {}",
        "ocsp: false",
        "proxy_protocol: false",
        "prof_port: 0",
        "write_timeout: close",
        "write_timeout: default",
        "no_fast_producer_stall: true",
    ] {
        let loaded = match load(text) {
            Ok(l) => l,
            Err(e) => panic!("{text}: {e}"),
        };
        assert!(loaded.opts.refused.is_empty(), "{text}");
    }
    let o = opts("trace_headers: true");
    assert!(o.trace && o.trace_headers);
}
