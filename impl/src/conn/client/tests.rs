use super::*;
use crate::auth::ConfigAuth;
use crate::nats::{Sublist, SublistResult};
use crate::options::ServerOpts;

/// A router with one connection: its own subscriptions receive its messages.
#[derive(Default)]
struct Loopback {
    subs: Sublist<Vec<u8>>,
    delivered: Vec<u8>,
    bound: Option<Identity>,
    logged: Vec<String>,
}

impl Router for Loopback {
    fn bind(&mut self, identity: &Identity, _: &ConnectInfo) -> Result<(), ClosedState> {
        self.bound = Some(identity.clone());
        Ok(())
    }
    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
        _max: i64,
    ) -> Result<(), SubscribeError> {
        self.subs
            .insert(subject, queue, sid.to_vec())
            .map_err(|_| SubscribeError::InvalidSubject)
    }
    fn unsubscribe(&mut self, _: &[u8], _: Option<u64>) {}
    fn unsubscribe_all(&mut self) {
        self.subs = Sublist::default();
    }
    fn publish(&mut self, msg: &Delivery<'_>, echo: bool) -> usize {
        let mut r = SublistResult::default();
        self.subs.matches(msg.subject, &mut r);
        if !echo {
            return 0;
        }
        for sid in &r.psubs {
            msg.write(&mut self.delivered, sid);
        }
        r.psubs.len()
    }
    fn sub_for_reply(&self, reply: &[u8]) -> Option<Vec<u8>> {
        let mut r = SublistResult::default();
        self.subs.matches(reply, &mut r);
        r.psubs.first().cloned()
    }
    fn flush(&mut self, out: &mut Vec<u8>) {
        self.delivered.append(out);
    }
    fn response_allowed(&mut self, _: &[u8]) -> bool {
        false
    }
    fn log_error(&mut self, line: &str) {
        self.logged.push(line.to_owned());
    }
}

fn config(conf: &str) -> Arc<ConnConfig> {
    let opts = ServerOpts::from_str(conf, std::path::Path::new("."))
        .unwrap()
        .opts;
    Arc::new(ConnConfig {
        transport: Transport::Websocket,
        max_payload: 1024,
        max_control_line: 4096,
        max_subs: crate::auth::NO_LIMIT,
        ping_interval: Duration::from_secs(10),
        first_ping_interval: Duration::from_secs(2),
        debug: false,
        ping_max: 2,
        auth_timeout: Duration::from_secs(2),
        info: ServerInfo {
            headers: true,
            ..ServerInfo::default()
        },
        auth: Arc::new(ConfigAuth::new(&opts).unwrap()),
        max_sub_tokens: 0,
        trace: crate::conn::Trace::Off,
    })
}

fn text(out: &mut Vec<u8>) -> String {
    String::from_utf8(std::mem::take(out)).unwrap()
}

#[test]
fn connect_ping_async_info_and_pubsub() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    assert!(text(c.output()).starts_with("INFO {"));
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\nPING\r\n",
        now,
        &mut r,
    )
    .unwrap();
    let out = text(c.output());
    assert!(out.starts_with("PONG\r\nINFO {"), "{out}");
    assert!(out.contains("\"connect_info\":true"));
    assert!(out.contains("\"remote_account\":\"$G\""));
    c.handle_input(
        b"SUB foo 1\r\nPUB foo 2\r\nhi\r\nSUB r 9\r\nHPUB x r 12 12\r\nNATS/1.0\r\n\r\n\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(text(&mut r.delivered), "MSG foo 1 2\r\nhi\r\n");
    assert!(text(c.output()).starts_with("HMSG r 9 33 33\r\nNATS/1.0 503\r\nNats-Subject: x"));
}

#[test]
fn verbose_ok_goes_before_the_message() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    c.output().clear();
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\n",
        now,
        &mut r,
    )
    .unwrap();
    r.flush(c.output());
    assert_eq!(
        text(&mut r.delivered),
        "+OK\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\na\r\n"
    );
}

#[test]
fn auth_violation_and_timeout() {
    let now = Instant::now();
    let cfg = config("authorization { user: a, password: b }");
    let mut c = ClientProtocol::new(Arc::clone(&cfg), ConnParams::default(), now);
    assert!(text(c.output()).contains("\"auth_required\":true"));
    let mut r = Loopback::default();
    let e = c.handle_input(b"PING\r\n", now, &mut r).unwrap_err();
    assert_eq!(e.state, ClosedState::AuthenticationViolation);
    assert_eq!(text(c.output()), "-ERR 'Authorization Violation'\r\n");

    let mut c = ClientProtocol::new(Arc::clone(&cfg), ConnParams::default(), now);
    c.output().clear();
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(2)));
    let e = c.handle_timeout(now + Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.state, ClosedState::AuthenticationTimeout);
    assert_eq!(text(c.output()), "-ERR 'Authentication Timeout'\r\n");

    let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
    c.handle_input(
        b"CONNECT {\"user\":\"a\",\"pass\":\"b\",\"verbose\":false}\r\nPING\r\n",
        now,
        &mut r,
    )
    .unwrap();
    assert_eq!(r.bound.unwrap().user.as_deref(), Some("a"));
}

/// Go: before CONNECT the timer runs at the whole interval (createClient's
/// `setPingTimer`); with no RTT every due PING goes out, and the one after `ping_max`
/// unanswered is stale.
#[test]
fn stale_connection_after_ping_max() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    c.output().clear();
    let t1 = now + Duration::from_secs(10);
    assert_eq!(c.poll_timeout(), Some(t1));
    c.handle_timeout(t1).unwrap();
    assert_eq!(text(c.output()), "PING\r\n");
    let t2 = t1 + Duration::from_secs(10);
    c.handle_timeout(t2).unwrap();
    let e = c.handle_timeout(t2 + Duration::from_secs(10)).unwrap_err();
    assert_eq!(e.state, ClosedState::StaleConnection);
    assert!(text(c.output()).ends_with("-ERR 'Stale Connection'\r\n"));
}

#[test]
fn protocol_errors() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    c.output().clear();
    let mut r = Loopback::default();
    let e = c
        .handle_input(b"PUB foo 2000\r\n", now, &mut r)
        .unwrap_err();
    assert_eq!(e.state, ClosedState::MaxPayloadExceeded);
    assert_eq!(text(c.output()), "-ERR 'Maximum Payload Violation'\r\n");
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    c.output().clear();
    let e = c.handle_input(b"FOO\r\n", now, &mut r).unwrap_err();
    assert_eq!(e.state, ClosedState::ProtocolViolation);
    assert_eq!(text(c.output()), "-ERR 'Unknown Protocol Operation'\r\n");
}

#[test]
fn secrets_never_reach_the_log() {
    let now = Instant::now();
    let cfg = config("authorization { user: me, password: \"s3cr3t!\" }");
    // A wrong password: the log names the user, never the password.
    let mut c = ClientProtocol::new(Arc::clone(&cfg), ConnParams::default(), now);
    let mut r = Loopback::default();
    let close = c
        .handle_input(
            b"CONNECT {\"user\":\"me\",\"pass\":\"wrong-s3cr3t\"}\r\n",
            now,
            &mut r,
        )
        .unwrap_err();
    let log = close.log.unwrap();
    assert!(log.contains("me") && !log.contains("s3cr3t"), "{log}");
    assert!(text(c.output()).ends_with("-ERR 'Authorization Violation'\r\n"));
    // A mistyped secret: the JSON error must not quote it.
    for bad in [
        &b"CONNECT {\"pass\":123456789}\r\n"[..],
        b"CONNECT {\"auth_token\":[\"tok-s3cr3t\"]}\r\n",
        b"CONNECT {\"verbose\":\"tok-s3cr3t\"}\r\n",
    ] {
        let mut c = ClientProtocol::new(Arc::clone(&cfg), ConnParams::default(), now);
        let close = c.handle_input(bad, now, &mut r).unwrap_err();
        let log = close.log.unwrap();
        assert!(
            !log.contains("123456789") && !log.contains("s3cr3t"),
            "{log}"
        );
    }
}

#[test]
fn no_auth_user_fast_path_honours_websocket_override() {
    let now = Instant::now();
    let cfg = config(
        "accounts { admin_acc { users: [ {user: admin, password: pwd} ] }, ws_acc { users: [ {user: wsguest, password: pwd} ] } }\nno_auth_user: admin\nwebsocket { port: -1, no_tls: true, no_auth_user: wsguest }",
    );
    let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
    let mut r = Loopback::default();
    c.handle_input(b"PING\r\n", now, &mut r).unwrap();
    assert!(text(c.output()).ends_with("PONG\r\n"));
    let id = r.bound.unwrap();
    assert_eq!(id.user.as_deref(), Some("wsguest"));
    assert_eq!(id.account, "ws_acc");
}

#[test]
fn no_auth_user_fast_path_enforces_restrictions() {
    let now = Instant::now();
    for (types, ok) in [("[WEBSOCKET]", true), ("[STANDARD]", false)] {
        let cfg = config(&format!(
            "authorization {{ users: [ {{user: guest, password: pwd, allowed_connection_types: {types}}} ] }}\nno_auth_user: guest"
        ));
        let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
        let mut r = Loopback::default();
        let result = c.handle_input(b"PING\r\n", now, &mut r);
        assert_eq!(result.is_ok(), ok, "{types}");
    }
    let cfg = config(
        "authorization { users: [ {user: guest, password: pwd, proxy_required: true} ] }\nno_auth_user: guest",
    );
    let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
    let close = c
        .handle_input(b"PING\r\n", now, &mut Loopback::default())
        .unwrap_err();
    assert_eq!(close.state, ClosedState::AuthenticationViolation);
}

/// Hands out one identity whose credentials run out.
#[derive(Debug)]
struct Expiring(crate::auth::Expiry);

impl Authenticator for Expiring {
    fn auth_required(&self, _: Transport) -> bool {
        true
    }
    fn nonce_required(&self, _: Transport) -> bool {
        false
    }
    fn no_auth_user(&self, _: Transport) -> Option<Identity> {
        None
    }
    fn authenticate(&self, _: &AuthRequest<'_>) -> Result<Identity, crate::auth::AuthError> {
        Ok(Identity {
            expires: Some(self.0),
            ..Identity::anonymous()
        })
    }
}

#[test]
fn expired_credentials_close_the_connection() {
    use crate::auth::{Expired, Expiry};
    for (what, error) in [
        (Expired::User, "-ERR 'User Authentication Expired'\r\n"),
        (
            Expired::Account,
            "-ERR 'Account Authentication Expired'\r\n",
        ),
    ] {
        let mut cfg = (*config("")).clone();
        cfg.auth = Arc::new(Expiring(Expiry {
            after: Duration::from_millis(1500),
            what,
        }));
        let start = Instant::now();
        let mut c = ClientProtocol::new(Arc::new(cfg), ConnParams::default(), start);
        text(c.output());
        let mut r = Loopback::default();
        // The timer counts from authentication, not from the connection's start.
        let t = start + Duration::from_millis(500);
        c.handle_input(b"CONNECT {\"verbose\":false}\r\nPING\r\n", t, &mut r)
            .unwrap();
        assert_eq!(text(c.output()), "PONG\r\n");
        let at = t + Duration::from_millis(1500);
        assert_eq!(c.poll_timeout(), Some(at));
        assert_eq!(c.handle_timeout(at - Duration::from_millis(1)), Ok(()));
        assert_eq!(text(c.output()), "");
        let close = c.handle_timeout(at).unwrap_err();
        assert_eq!(close.state, ClosedState::AuthenticationExpired);
        assert_eq!(close.log, None);
        assert_eq!(text(c.output()), error);
    }
}

#[test]
fn permission_violations_answer_log_and_keep_the_connection() {
    let now = Instant::now();
    let cfg = config(
        "authorization { users: [ {user: a, password: p, permissions: {publish: \"ok\", subscribe: {deny: \"no\"}}} ] }",
    );
    let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
    c.output().clear();
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {\"verbose\":true,\"user\":\"a\",\"pass\":\"p\"}\r\nPUB bad 1\r\nx\r\nPUB ok 1\r\nx\r\nSUB no 1\r\nSUB no q 2\r\nSUB yes 3\r\nPING\r\n",
        now,
        &mut r,
    )
    .unwrap();
    let mut all = std::mem::take(&mut r.delivered);
    all.append(c.output());
    assert_eq!(
        String::from_utf8(all).unwrap(),
        concat!(
            "+OK\r\n",
            "-ERR 'Permissions Violation for Publish to \"bad\"'\r\n",
            "+OK\r\n",
            "-ERR 'Permissions Violation for Subscription to \"no\"'\r\n",
            "-ERR 'Permissions Violation for Subscription to \"no\" using queue \"q\"'\r\n",
            "+OK\r\n",
            "PONG\r\n",
        )
    );
    assert_eq!(
        r.logged,
        [
            "Publish Violation - Subject \"bad\"",
            "Subscription Violation - Subject \"no\", SID 1",
            "Subscription Violation - Subject \"no\", Queue: \"q\", SID 2",
        ]
    );
}

#[test]
fn hpub_without_negotiated_headers_is_a_protocol_violation() {
    let now = Instant::now();
    for (connect, refused) in [("{}", true), ("{\"headers\":true}", false)] {
        let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
        let mut r = Loopback::default();
        let input = format!("CONNECT {connect}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
        let result = c.handle_input(input.as_bytes(), now, &mut r);
        if refused {
            // Go: ErrMsgHeadersNotSupported, logged; no -ERR; closed as a protocol violation.
            let close = result.unwrap_err();
            assert_eq!(close.state, ClosedState::ProtocolViolation);
            assert_eq!(close.log.as_deref(), Some("message headers not supported"));
            assert!(!text(c.output()).contains("-ERR"));
        } else {
            result.unwrap();
        }
    }
    // Refused at the control line: before the payload arrives, and before the size check.
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    let close = c
        .handle_input(
            b"CONNECT {}\r\nHPUB foo 12 99999999\r\n",
            now,
            &mut Loopback::default(),
        )
        .unwrap_err();
    assert_eq!(close.log.as_deref(), Some("message headers not supported"));
}

#[test]
fn a_second_connect_keeps_what_it_leaves_out() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {\"verbose\":false,\"echo\":false,\"headers\":true}\r\nCONNECT {}\r\nCONNECT {\"name\":null}\r\n",
        now,
        &mut r,
    )
    .unwrap();
    let info = c.connect_info();
    assert!(!info.verbose && !info.echo && info.headers, "{info:?}");
    assert!(!text(c.output()).contains("+OK"), "still not verbose");
    c.handle_input(b"CONNECT {\"verbose\":true}\r\n", now, &mut r)
        .unwrap();
    assert!(c.connect_info().verbose && !c.connect_info().echo);
    assert!(text(c.output()).ends_with("+OK\r\n"));
}

#[test]
fn no_header_support_refuses_hpub_and_no_responders() {
    let now = Instant::now();
    let mut cfg = (*config("")).clone();
    cfg.info.headers = false;
    let cfg = Arc::new(cfg);
    let mut c = ClientProtocol::new(Arc::clone(&cfg), ConnParams::default(), now);
    assert!(text(c.output()).contains("\"headers\":false"));
    // Go: c.headers = server support && CONNECT headers; HPUB is then a violation.
    let close = c
        .handle_input(
            b"CONNECT {\"headers\":true}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
            now,
            &mut Loopback::default(),
        )
        .unwrap_err();
    assert_eq!(close.log.as_deref(), Some("message headers not supported"));
    let mut c = ClientProtocol::new(cfg, ConnParams::default(), now);
    let close = c
        .handle_input(
            b"CONNECT {\"headers\":true,\"no_responders\":true}\r\n",
            now,
            &mut Loopback::default(),
        )
        .unwrap_err();
    assert_eq!(close.state, ClosedState::NoRespondersRequiresHeaders);
    assert!(text(c.output()).ends_with("-ERR 'no responders requires headers support'\r\n"));
}

#[test]
fn max_sub_tokens_refuses_longer_subjects() {
    let now = Instant::now();
    let mut cfg = (*config("")).clone();
    cfg.max_sub_tokens = 3;
    let mut c = ClientProtocol::new(Arc::new(cfg), ConnParams::default(), now);
    text(c.output());
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {\"verbose\":false}\r\nSUB a.b.c.d 1\r\nSUB a.b.> 2\r\nPUB a.b.c.d 1\r\nx\r\n",
        now,
        &mut r,
    )
    .unwrap();
    // Go: maxTokensViolation: -ERR, an error log line, the connection stays (the -ERR
    // reaches the stream before the publish's delivery).
    assert_eq!(
        text(&mut r.delivered),
        "-ERR 'Permissions Violation for Subscription to \"a.b.c.d\", too many tokens'\r\n\
         MSG a.b.c.d 2 1\r\nx\r\n"
    );
    assert_eq!(
        r.logged,
        ["Subscription Violation Too Many Tokens - Subject \"a.b.c.d\", SID 1"]
    );
}

#[test]
fn trace_lines_follow_go_with_max_traced_msg_len() {
    let now = Instant::now();
    let mut cfg = (*config("")).clone();
    cfg.trace = crate::conn::Trace::On {
        max_payload: 5,
        part: crate::conn::TracedPart::Whole,
    };
    let mut c = ClientProtocol::new(Arc::new(cfg), ConnParams::default(), now);
    text(c.output());
    let mut r = Loopback::default();
    c.handle_input(
        b"CONNECT {\"verbose\":true,\"pass\":\"pw\"}\r\nSUB foo q 1\r\nUNSUB 1 3\r\nPUB foo r 12\r\nhello world!\r\nPING\r\n",
        now,
        &mut r,
    )
    .unwrap();
    // The Loopback router keeps the default log_traces: every line stays for take_traces.
    assert_eq!(
        c.take_traces(),
        [
            "<<- [CONNECT {\"verbose\":true,\"pass\":\"[REDACTED]\"}]",
            "->> [OK]",
            "<<- [SUB foo q 1]",
            "->> [OK]",
            "<<- [UNSUB 1 3]",
            "->> [OK]",
            "<<- [PUB foo r 12]",
            "<<- MSG_PAYLOAD: [\"hello...\"]",
            "->> [OK]",
            "<<- [PING]",
            "->> [PONG]",
        ]
    );
    assert!(c.take_traces().is_empty());
    let mut quiet = ClientProtocol::new(config(""), ConnParams::default(), now);
    quiet
        .handle_input(b"CONNECT {}\r\nPING\r\n", now, &mut r)
        .unwrap();
    assert!(quiet.take_traces().is_empty());
}

#[test]
fn rtt_is_estimated_at_connect_then_measured_by_ping_pong() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    let mut r = Loopback::default();
    assert_eq!(c.rtt(), None);
    // Go: processConnect estimates the RTT as the time since the connection started.
    c.handle_input(b"CONNECT {}\r\n", now + Duration::from_millis(3), &mut r)
        .unwrap();
    assert_eq!(c.rtt(), Some(Duration::from_millis(3)));
    let t1 = now + Duration::from_millis(3) + Duration::from_secs(2);
    c.handle_timeout(t1).unwrap();
    assert!(text(c.output()).ends_with("PING\r\n"));
    c.handle_input(b"PONG\r\n", t1 + Duration::from_micros(250), &mut r)
        .unwrap();
    assert_eq!(c.rtt(), Some(Duration::from_micros(250)));
}

#[test]
fn activity_counts_connect_messages_and_subscriptions_not_pings() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    let mut r = Loopback::default();
    c.handle_input(b"CONNECT {}\r\n", now, &mut r).unwrap();
    assert_eq!(c.activity(), 1);
    c.handle_input(b"PING\r\nPONG\r\n", now, &mut r).unwrap();
    assert_eq!(c.activity(), 1, "Go: a PING is not activity");
    c.handle_input(b"SUB a 1\r\nPUB a 1\r\nx\r\n", now, &mut r)
        .unwrap();
    assert_eq!(c.activity(), 3);
}

/// Go: `processPingTimer` (client.go:5841-5850): with the CONNECT estimate as the RTT,
/// the first PING goes out anyway (no PING has started an RTT measurement yet); after it,
/// input within the interval delays PINGs, with no PONG needed.
#[test]
fn recent_input_delays_pings_after_the_first() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(config(""), ConnParams::default(), now);
    let mut r = Loopback::default();
    c.handle_input(b"CONNECT {\"verbose\":false}\r\n", now, &mut r)
        .unwrap();
    c.output().clear();
    let t1 = now + Duration::from_secs(2);
    c.handle_input(b"PUB a 1\r\nx\r\n", t1, &mut r).unwrap();
    c.handle_timeout(t1).unwrap();
    assert_eq!(text(c.output()), "PING\r\n");
    let t2 = t1 + Duration::from_secs(10);
    c.handle_input(b"SUB a 1\r\n", t2 - Duration::from_secs(1), &mut r)
        .unwrap();
    c.handle_timeout(t2).unwrap();
    assert_eq!(
        text(c.output()),
        "",
        "delayed, although the PING is unanswered"
    );
    let t3 = t2 + Duration::from_secs(10);
    assert_eq!(c.poll_timeout(), Some(t3));
    c.handle_timeout(t3).unwrap();
    assert_eq!(
        text(c.output()),
        "PING\r\n",
        "nothing heard for an interval"
    );
}

fn debug_config(trace: bool) -> Arc<ConnConfig> {
    let mut cfg = (*config("")).clone();
    cfg.debug = true;
    if trace {
        cfg.trace = crate::conn::Trace::On {
            max_payload: 0,
            part: crate::conn::TracedPart::Whole,
        };
    }
    Arc::new(cfg)
}

/// Go: `processConnect` re-arms the timer for the short first PING, `setFirstPingTimer`
/// (client.go:2288-2289, 6991): at most `firstClientPingInterval` plus
/// `rand.Int63n(d / 5)`, from the CONNECT, on every CONNECT.
#[test]
fn connect_rearms_the_first_ping() {
    let now = Instant::now();
    let params = ConnParams {
        first_ping_random: 7,
        ..ConnParams::default()
    };
    let mut c = ClientProtocol::new(config(""), params, now);
    let mut r = Loopback::default();
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(10)));
    let t = now + Duration::from_secs(5);
    c.handle_input(b"CONNECT {}\r\n", t, &mut r).unwrap();
    let first = t + Duration::from_secs(2) + Duration::from_nanos(7);
    assert_eq!(c.poll_timeout(), Some(first));
    assert_eq!(c.rtt(), Some(Duration::from_secs(5)));
    let again = first - Duration::from_millis(1);
    c.handle_input(b"CONNECT {}\r\n", again, &mut r).unwrap();
    assert_eq!(
        c.poll_timeout(),
        Some(again + Duration::from_secs(2) + Duration::from_nanos(7))
    );
}

/// Go: a client that keeps publishing and never answers is pinged once and then delayed
/// (it would be pinged again only an hour after), with Go's debug lines: `Client Ping
/// Timer` (client.go:5827), then `Delaying PING ...` with the delta rounded to the second
/// (client.go:5850); the PING's trace comes after its timer line.
#[test]
fn an_active_client_that_never_answers_is_delayed_with_gos_debug_lines() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(debug_config(true), ConnParams::default(), now);
    let mut r = Loopback::default();
    c.handle_input(b"CONNECT {\"verbose\":false}\r\n", now, &mut r)
        .unwrap();
    c.take_traces();
    c.output().clear();
    let mut t = now + Duration::from_secs(2);
    c.handle_timeout(t).unwrap();
    assert_eq!(text(c.output()), "PING\r\n");
    assert_eq!(c.take_debug_lines(), ["Client Ping Timer"]);
    assert_eq!(c.take_traces(), ["->> [PING]"]);
    for _ in 0..20 {
        c.handle_input(
            b"PUB a 1\r\nx\r\n",
            t + Duration::from_millis(8_400),
            &mut r,
        )
        .unwrap();
        t += Duration::from_secs(10);
        c.handle_timeout(t).unwrap();
        assert_eq!(text(c.output()), "");
        assert_eq!(
            c.take_debug_lines(),
            [
                "Client Ping Timer",
                "Delaying PING due to remote client data or ping 2s ago"
            ]
        );
    }
}

/// Go: the stale line (client.go:5863) after the timer line; the `-ERR` is enqueued
/// without a trace line (client.go:5864). Without debug logging there are no lines.
#[test]
fn stale_debug_lines_and_no_err_trace() {
    let now = Instant::now();
    let mut c = ClientProtocol::new(debug_config(true), ConnParams::default(), now);
    let mut quiet = ClientProtocol::new(config(""), ConnParams::default(), now);
    let mut t = now + Duration::from_secs(10);
    for _ in 0..2 {
        c.handle_timeout(t).unwrap();
        quiet.handle_timeout(t).unwrap();
        t += Duration::from_secs(10);
    }
    c.take_debug_lines();
    c.take_traces();
    c.output().clear();
    let e = c.handle_timeout(t).unwrap_err();
    assert_eq!(e.state, ClosedState::StaleConnection);
    assert_eq!(text(c.output()), "-ERR 'Stale Connection'\r\n");
    assert_eq!(
        c.take_debug_lines(),
        ["Client Ping Timer", "Stale Client Connection - Closing"]
    );
    assert!(c.take_traces().is_empty());
    assert!(quiet.handle_timeout(t).is_err());
    assert!(quiet.take_debug_lines().is_empty());
}
