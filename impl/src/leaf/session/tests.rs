use super::*;
use crate::auth::{ConfigAuth, LeafAuth};
use crate::options::ServerOpts;

/// Records what the session asks of the server.
#[derive(Debug, Default)]
struct Fake {
    calls: Vec<String>,
    queued: Vec<u8>,
    lds: Vec<u8>,
}

impl LeafRouter for Fake {
    fn bind(&mut self, identity: &Identity, peer: &LeafPeer) -> Result<(), ClosedState> {
        self.calls.push(format!(
            "bind {} {:?} {:?} {}",
            identity.account, peer.role, peer.headers, peer.connect.name
        ));
        Ok(())
    }
    fn send_interest(&mut self) {
        self.queued.extend_from_slice(b"LS+ $LDS.x\r\n");
    }
    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<(&[u8], i32)>,
        key: &[u8],
    ) -> Result<(), LeafSubError> {
        if subject == self.lds.as_slice() {
            return Err(LeafSubError::Loop);
        }
        if subject == b"denied" {
            return Err(LeafSubError::Denied);
        }
        if subject == b"full" {
            return Err(LeafSubError::TooMany);
        }
        self.calls.push(format!(
            "sub {} {:?} {}",
            String::from_utf8_lossy(subject),
            queue.map(|(q, w)| (String::from_utf8_lossy(q).into_owned(), w)),
            String::from_utf8_lossy(key)
        ));
        Ok(())
    }
    fn unsubscribe(&mut self, key: &[u8]) {
        self.calls
            .push(format!("unsub {}", String::from_utf8_lossy(key)));
    }
    fn publish(&mut self, msg: &LeafMsg<'_>) -> Result<(), PermissionDenied> {
        if msg.subject == b"denied" {
            return Err(PermissionDenied);
        }
        self.calls.push(format!(
            "pub {} {}",
            String::from_utf8_lossy(msg.subject),
            String::from_utf8_lossy(msg.payload)
        ));
        Ok(())
    }
    fn flush(&mut self, out: &mut Vec<u8>) {
        self.queued.append(out);
    }
    fn log_error(&mut self, line: &str) {
        self.calls.push(format!("error {line}"));
    }
    fn log_notice(&mut self, line: &str) {
        self.calls.push(format!("notice {line}"));
    }
    fn log_debug(&mut self, line: &str) {
        self.calls.push(format!("debug {line}"));
    }
}

fn config(conf: &str) -> Arc<LeafConfig> {
    let opts = ServerOpts::from_str(conf, std::path::Path::new("."))
        .unwrap()
        .opts;
    let server: Arc<dyn Authenticator> = Arc::new(ConfigAuth::new(&opts).unwrap());
    Arc::new(LeafConfig {
        transport: Transport::Leafnode,
        max_payload: 1024,
        max_control_line: 4096,
        ping_interval: Duration::from_secs(120),
        ping_max: 2,
        auth_timeout: Duration::from_secs(2),
        info: LeafInfo {
            server_id: "S".into(),
            proto: 3,
            headers: true,
            auth_required: true,
            max_payload: 1024,
            compression: "off".into(),
            info_on_connect: true,
            leafnode_urls: vec!["127.0.0.1:7422".into()],
            ..LeafInfo::default()
        },
        auth: Arc::new(LeafAuth::new(&opts.leafnode, server)),
        cluster: "hub".into(),
        debug: false,
        min_version: opts.leafnode.min_version.clone(),
        trace: Trace::Off,
    })
}

fn session(conf: &str, now: Instant) -> LeafSession {
    LeafSession::accept(
        config(conf),
        LeafParams {
            cid: 7,
            nonce: "nonce".into(),
            ..LeafParams::default()
        },
        now,
    )
}

fn text(out: &mut Vec<u8>) -> String {
    String::from_utf8(std::mem::take(out)).unwrap()
}

#[test]
fn info_then_connect_binds_and_answers_with_account_info_before_interest() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    let info = text(s.output());
    assert!(info.starts_with("INFO {\"server_id\":\"S\""), "{info}");
    assert!(info.contains("\"client_id\":7,\"nonce\":\"nonce\",\"compression\":\"off\""));
    let mut r = Fake::default();
    s.handle_input(
        b"CONNECT {\"name\":\"spoke\",\"headers\":true,\"version\":\"2.15.1\"}\r\nPING\r\n",
        now,
        &mut r,
    )
    .unwrap();
    let queued = String::from_utf8(r.queued.clone()).unwrap();
    assert!(
        queued.starts_with("INFO {")
            && queued.contains("\"connect_info\":true,\"remote_account\":\"$G\""),
        "{queued}"
    );
    assert!(!queued.contains("compression"));
    assert!(queued.ends_with("LS+ $LDS.x\r\n"));
    assert_eq!(text(s.output()), "PONG\r\n");
    assert_eq!(r.calls[0], "bind $G Hub Supported spoke");
    assert_eq!(s.remote_name(), "spoke");
    // The first PING about a second later.
    assert_eq!(s.poll_timeout(), Some(now + FIRST_PING_INTERVAL));
}

#[test]
fn websocket_compression_leaves_compression_out_of_info() {
    let mut s = LeafSession::accept(
        config("leafnodes { port: -1 }"),
        LeafParams {
            cid: 1,
            websocket_compression: true,
            ..LeafParams::default()
        },
        Instant::now(),
    );
    assert!(!text(s.output()).contains("compression"));
}

#[test]
fn connect_must_come_first() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    text(s.output());
    let err = s
        .handle_input(b"PING\r\n", now, &mut Fake::default())
        .unwrap_err();
    assert_eq!(err.state, ClosedState::AuthenticationViolation);
    assert_eq!(text(s.output()), "-ERR 'Authorization Violation'\r\n");
}

#[test]
fn a_client_on_the_leafnode_port_is_told_so() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    text(s.output());
    let err = s
        .handle_input(b"CONNECT {\"lang\":\"go\"}\r\n", now, &mut Fake::default())
        .unwrap_err();
    assert_eq!(err.state, ClosedState::WrongPort);
    assert_eq!(
        text(s.output()),
        "-ERR 'attempted to connect to leaf node port'\r\n"
    );
}

#[test]
fn connect_checks_in_go_order() {
    let now = Instant::now();
    let cases: &[(&str, &[u8], &str, ClosedState)] = &[
        (
            "leafnodes { port: -1, authorization { user: a, password: b } }",
            b"CONNECT {\"user\":\"a\",\"pass\":\"x\",\"lang\":\"go\"}\r\n",
            "-ERR 'Authorization Violation'\r\n",
            ClosedState::AuthenticationViolation,
        ),
        (
            "leafnodes { port: -1 }",
            b"CONNECT {\"cluster\":\"hub\"}\r\n",
            "-ERR 'remote leafnode has same cluster name'\r\n",
            ClosedState::ClusterNamesIdentical,
        ),
        (
            "leafnodes { port: -1 }",
            b"CONNECT {\"cluster\":\"a b\"}\r\n",
            "-ERR 'cluster name cannot contain spaces'\r\n",
            ClosedState::ProtocolViolation,
        ),
    ];
    for (conf, input, out, state) in cases {
        let mut s = session(conf, now);
        text(s.output());
        let err = s
            .handle_input(input, now, &mut Fake::default())
            .unwrap_err();
        assert_eq!(err.state, *state, "{conf}");
        assert_eq!(text(s.output()), *out);
    }
    let mut s = session("leafnodes { port: -1, min_version: \"2.9.0\" }", now);
    text(s.output());
    let err = s
        .handle_input(
            b"CONNECT {\"version\":\"2.8.4\"}\r\n",
            now,
            &mut Fake::default(),
        )
        .unwrap_err();
    assert_eq!(err.state, ClosedState::MinimumVersionRequired);
    let out = text(s.output());
    assert!(out.starts_with("INFO {") && out.contains("\"connect_info\":true"));
    assert!(
        out.ends_with("-ERR 'connection rejected since minimum version required is \"2.9.0\"'\r\n")
    );
}

#[test]
fn interest_and_messages_go_to_the_router() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    let mut r = Fake::default();
    s.handle_input(
        b"CONNECT {}\r\nLS+ foo\r\nLS+ bar q 2\r\nLMSG foo 2\r\nhi\r\nLS- bar q\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(
        r.calls[2..],
        [
            "sub foo None foo",
            "sub bar Some((\"q\", 2)) bar q",
            "pub foo hi",
            "unsub bar q"
        ]
    );
}

#[test]
fn own_loop_detection_subject_closes_with_gos_error() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    let mut r = Fake {
        lds: b"$LDS.x".to_vec(),
        ..Fake::default()
    };
    s.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(s.output());
    let err = s.handle_input(b"LS+ $LDS.x\r\n", now, &mut r).unwrap_err();
    assert_eq!(err.state, ClosedState::ProtocolViolation);
    let line = "Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s";
    assert_eq!(err.log.as_deref(), Some(line));
    assert_eq!(text(s.output()), format!("-ERR '{line}'\r\n"));
}

#[test]
fn timers_auth_then_pings_then_stale() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    text(s.output());
    let mut late = session("leafnodes { port: -1 }", now);
    let err = late
        .handle_timeout(now + Duration::from_secs(2))
        .unwrap_err();
    assert_eq!(err.state, ClosedState::AuthenticationTimeout);
    let mut r = Fake::default();
    s.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    let mut t = now + FIRST_PING_INTERVAL;
    s.handle_timeout(t).unwrap();
    assert_eq!(text(s.output()), "PING\r\n");
    t += Duration::from_secs(120);
    s.handle_timeout(t).unwrap();
    assert_eq!(text(s.output()), "PING\r\n");
    t += Duration::from_secs(120);
    let err = s.handle_timeout(t).unwrap_err();
    assert_eq!(err.state, ClosedState::StaleConnection);
    assert_eq!(text(s.output()), "-ERR 'Stale Connection'\r\n");
}

fn spoke(now: Instant, seed: Option<String>) -> LeafSession {
    LeafSession::solicit(
        config("leafnodes { port: -1 }"),
        LeafParams {
            cid: 3,
            ..LeafParams::default()
        },
        Solicit {
            connect: LeafConnect {
                version: "2.15.1".into(),
                server_id: "SPOKE".into(),
                name: "spoke".into(),
                remote_account: "$G".into(),
                ..LeafConnect::default()
            },
            seed,
            account: "$G".into(),
            deny_imports: Vec::new(),
            first_info_timeout: Duration::from_secs(1),
            websocket_compression: None,
        },
        now,
    )
}

const HUB_INFO: &[u8] = b"INFO {\"server_id\":\"HUB\",\"server_name\":\"hub\",\"headers\":true,\
\"client_id\":9,\"nonce\":\"abc\",\"info_on_connect\":true,\"leafnode_urls\":[\"127.0.0.1:7422\"]}\r\n";

#[test]
fn a_spoke_refuses_a_port_that_is_not_a_leafnode_port() {
    let now = Instant::now();
    let mut s = spoke(now, None);
    assert!(s.output().is_empty());
    // A client port's INFO: no leafnode_urls.
    let err = s
        .handle_input(
            b"INFO {\"server_id\":\"X\",\"client_id\":4}\r\n",
            now,
            &mut Fake::default(),
        )
        .unwrap_err();
    assert_eq!(err.state, ClosedState::WrongPort);
    assert_eq!(
        err.log.as_deref(),
        Some("attempted to connect to wrong port")
    );
    // No INFO at all before first_info_timeout.
    let mut s = spoke(now, None);
    let err = s.handle_timeout(now + Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.state, ClosedState::ReadError);
}

#[test]
fn a_spoke_sends_connect_then_binds_on_connect_info() {
    let now = Instant::now();
    let kp = nkeys::KeyPair::new_user();
    let mut s = spoke(now, Some(kp.seed().unwrap()));
    let mut r = Fake::default();
    s.handle_input(HUB_INFO, now, &mut r).unwrap();
    let out = text(s.output());
    assert!(out.starts_with("CONNECT {\"version\":\"2.15.1\""), "{out}");
    assert!(!out.contains("\"lang\""));
    let connect: LeafConnect =
        serde_json::from_str(out.trim_start_matches("CONNECT ").trim_end()).unwrap();
    assert!(crate::auth::nonce_signed_for_tests(
        &kp.public_key(),
        &connect.sig,
        "abc"
    ));
    assert!(r.calls.iter().all(|c| !c.starts_with("bind")));
    s.handle_input(
        b"INFO {\"server_id\":\"HUB\",\"connect_info\":true,\"remote_account\":\"$G\",\"client_id\":9,\"leafnode_urls\":[\"x:1\"]}\r\nLS+ foo\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(r.calls[1], "bind $G Spoke Supported hub");
    assert_eq!(r.calls[2], "sub foo None foo");
    assert_eq!(s.remote_name(), "hub");
}

#[test]
fn a_spoke_without_connect_info_goes_stale() {
    let now = Instant::now();
    let mut s = spoke(now, None);
    s.handle_input(HUB_INFO, now, &mut Fake::default()).unwrap();
    text(s.output());
    let err = s.handle_timeout(now + CONNECT_PROCESS_TIMEOUT).unwrap_err();
    assert_eq!(err.state, ClosedState::StaleConnection);
    assert_eq!(
        text(s.output()),
        "-ERR 'Stale Leaf Node Connection - Closing'\r\n"
    );
}

#[test]
fn hub_errors_set_the_reconnect_delay() {
    let now = Instant::now();
    let mut s = spoke(now, None);
    let mut r = Fake::default();
    s.handle_input(HUB_INFO, now, &mut r).unwrap();
    s.handle_input(
        b"-ERR 'remote leafnode has same cluster name'\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(s.reconnect_delay(), Some(LOOP_DELAY));
    assert!(r.calls.iter().any(|c| c
        == "error Leafnode connection dropped with same cluster name error. Delaying attempt to reconnect for 30s"));
    // An accepted connection never sets it.
    let mut h = session("leafnodes { port: -1 }", now);
    h.handle_input(
        b"CONNECT {}\r\n-ERR 'remote leafnode has same cluster name'\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(h.reconnect_delay(), None);
}

#[test]
fn permission_violations_close_the_accepted_side() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    let mut r = Fake::default();
    s.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(s.output());
    let err = s.handle_input(b"LS+ denied\r\n", now, &mut r).unwrap_err();
    assert_eq!(err.state, ClosedState::ProtocolViolation);
    assert_eq!(
        text(s.output()),
        "-ERR 'Permissions Violation for Subscription to \"denied\"'\r\n"
    );
    assert_eq!(
        r.calls.last().unwrap(),
        "error Subscription Violation on \"denied\" - Check other side configuration"
    );
    let mut s = session("leafnodes { port: -1 }", now);
    s.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(s.output());
    let err = s
        .handle_input(b"LMSG denied 1\r\nx\r\n", now, &mut r)
        .unwrap_err();
    assert_eq!(err.state, ClosedState::ProtocolViolation);
    assert_eq!(
        text(s.output()),
        "-ERR 'Permissions Violation for Publish to \"denied\"'\r\n"
    );
}

#[test]
fn a_spoke_drops_what_its_hub_refuses() {
    let now = Instant::now();
    let mut s = spoke(now, None);
    let mut r = Fake::default();
    s.handle_input(HUB_INFO, now, &mut r).unwrap();
    s.handle_input(
        b"INFO {\"connect_info\":true,\"client_id\":9,\"leafnode_urls\":[\"x:1\"]}\r\nLS+ denied\r\nLMSG denied 1\r\nx\r\n",
        now,
        &mut r,
    )
    .unwrap();
}

#[test]
fn interest_over_the_subscription_limit_is_refused_and_the_connection_stays() {
    let now = Instant::now();
    let mut s = session("leafnodes { port: -1 }", now);
    let mut r = Fake::default();
    s.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(s.output());
    s.handle_input(b"LS+ full\r\nLS+ ok\r\n", now, &mut r)
        .unwrap();
    assert_eq!(
        text(s.output()),
        "-ERR 'maximum subscriptions exceeded'\r\n"
    );
    assert_eq!(r.calls.last().unwrap(), "sub ok None ok");
}

/// Go: `processPingTimer` delays the PING after recent input on the accepting side once
/// the RTT is known; "Do not delay PINGs for ... spoke LEAF connections".
#[test]
fn a_hub_delays_its_ping_after_recent_input_a_spoke_does_not() {
    let now = Instant::now();
    let interval = Duration::from_secs(120);
    let mut hub = session("leafnodes { port: -1 }", now);
    let mut r = Fake::default();
    hub.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(hub.output());
    let t1 = now + FIRST_PING_INTERVAL;
    hub.handle_input(b"LS+ foo\r\n", t1, &mut r).unwrap();
    hub.handle_timeout(t1).unwrap();
    assert_eq!(text(hub.output()), "PING\r\n", "no RTT yet");
    assert_eq!(hub.rtt(), None);
    let ms = Duration::from_millis(1);
    hub.handle_input(b"PONG\r\n", t1 + 4 * ms, &mut r).unwrap();
    assert_eq!(hub.rtt(), Some(4 * ms));
    let t2 = t1 + interval;
    hub.handle_input(b"LS- foo\r\n", t2 - ms, &mut r).unwrap();
    assert_eq!(hub.poll_timeout(), Some(t2));
    hub.handle_timeout(t2).unwrap();
    assert_eq!(
        text(hub.output()),
        "",
        "recent input stands in for the PING"
    );
    assert_eq!(hub.poll_timeout(), Some(t2 + interval));

    let mut spoke = spoke(now, None);
    spoke.handle_input(HUB_INFO, now, &mut r).unwrap();
    spoke
        .handle_input(
            b"INFO {\"server_id\":\"HUB\",\"connect_info\":true,\"remote_account\":\"$G\",\"client_id\":9,\"leafnode_urls\":[\"x:1\"]}\r\n",
            now,
            &mut r,
        )
        .unwrap();
    text(spoke.output());
    spoke.handle_timeout(t1).unwrap();
    assert_eq!(text(spoke.output()), "PING\r\n");
    spoke.handle_input(b"PONG\r\n", t1 + ms, &mut r).unwrap();
    spoke.handle_input(b"PING\r\n", t2 - ms, &mut r).unwrap();
    assert_eq!(text(spoke.output()), "PONG\r\n");
    spoke.handle_timeout(t2).unwrap();
    assert_eq!(text(spoke.output()), "PING\r\n", "a spoke always pings");
}

/// Go: the timer's debug lines carry the leaf's `kindString`, `Leafnode` (client.go:5827,
/// 5850, 5863); a leaf has no CONNECT estimate, so only a PONG lets input delay a PING.
#[test]
fn leaf_ping_timer_debug_lines() {
    let now = Instant::now();
    let mut cfg = (*config("leafnodes { port: -1 }")).clone();
    cfg.debug = true;
    let mut hub = LeafSession::accept(Arc::new(cfg), LeafParams::default(), now);
    let mut r = Fake::default();
    hub.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    text(hub.output());
    let mut t = now + FIRST_PING_INTERVAL;
    hub.handle_input(b"LS+ foo\r\n", t, &mut r).unwrap();
    hub.handle_timeout(t).unwrap();
    assert_eq!(
        text(hub.output()),
        "PING\r\n",
        "no RTT: input does not delay"
    );
    assert_eq!(hub.take_debug_lines(), ["Leafnode Ping Timer"]);
    hub.handle_input(b"PONG\r\n", t, &mut r).unwrap();
    t += Duration::from_secs(120);
    hub.handle_input(b"LS- foo\r\n", t - Duration::from_secs(90), &mut r)
        .unwrap();
    hub.handle_timeout(t).unwrap();
    assert_eq!(text(hub.output()), "");
    assert_eq!(
        hub.take_debug_lines(),
        [
            "Leafnode Ping Timer",
            "Delaying PING due to remote client data or ping 1m30s ago"
        ]
    );
    for _ in 0..2 {
        t += Duration::from_secs(120);
        hub.handle_timeout(t).unwrap();
    }
    hub.take_debug_lines();
    t += Duration::from_secs(120);
    let err = hub.handle_timeout(t).unwrap_err();
    assert_eq!(err.state, ClosedState::StaleConnection);
    assert_eq!(
        hub.take_debug_lines(),
        ["Leafnode Ping Timer", "Stale Client Connection - Closing"]
    );
}

/// Go `setFirstPingTimer` for a leaf: the interval, at most `firstPingInterval` (1 s),
/// plus `rand.Int63n(d / 5)` of that (client.go:6991).
#[test]
fn first_leaf_ping_is_the_shorter_interval_plus_the_random_offset() {
    let now = Instant::now();
    let mut cfg = (*config("leafnodes { port: -1 }")).clone();
    cfg.ping_interval = Duration::from_millis(500);
    let params = LeafParams {
        first_ping_random: 150_000_000,
        ..LeafParams::default()
    };
    let mut s = LeafSession::accept(Arc::new(cfg), params, now);
    s.handle_input(b"CONNECT {}\r\n", now, &mut Fake::default())
        .unwrap();
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_millis(550)));
}
