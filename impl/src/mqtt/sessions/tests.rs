//! The account state driven through MqttSession (bytes in, bytes out), on a simulated
//! clock: the pure parts of Go's mqtt_test.go session, retained, QoS and will tests.

use std::collections::HashMap;

use super::*;
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::mqtt::outbound::tests::lines;
use crate::mqtt::session::{MqttSession, SessionConfig};
use crate::mqtt::writer::{self, ConnectSpec, PubResponse, PublishHeader};
use crate::mqtt::{Qos2Policy, ReaderConfig, Transport};

/// Connections over one account state; what each was sent is kept per connection.
pub(super) struct Net {
    pub(super) now: Instant,
    pub(super) state: SessionManager,
    conns: HashMap<ConnId, MqttSession>,
    received: HashMap<ConnId, Vec<u8>>,
    pub(super) closed: HashMap<ConnId, Close>,
    /// Messages for NATS subscribers.
    to_nats: Vec<Event>,
    /// Permission violations, for the server to log.
    pub(super) denied: Vec<Event>,
    next: ConnId,
}

impl Net {
    pub(super) fn new(config: StateConfig) -> Net {
        Net {
            now: Instant::now(),
            state: SessionManager::new(config),
            conns: HashMap::new(),
            received: HashMap::new(),
            closed: HashMap::new(),
            to_nats: Vec::new(),
            denied: Vec::new(),
            next: 1,
        }
    }

    /// Per connection: an empty client id becomes `assigned-<conn>` (Go: a NUID each).
    pub(super) fn session_config(&self, conn: ConnId) -> SessionConfig {
        SessionConfig {
            reader: ReaderConfig {
                transport: Transport::Tcp,
                qos2: Qos2Policy::Accept,
            },
            max_payload: 1024 * 1024,
            connect_timeout: None,
            assigned_client_id: format!("assigned-{conn}"),
            trace: crate::conn::Trace::Off,
        }
    }

    /// A new connection sending CONNECT; returns its id and what it received.
    pub(super) fn connect(&mut self, spec: &ConnectSpec<'_>) -> (ConnId, Vec<String>) {
        self.connect_as(spec, None)
    }

    /// The same, for a user with these permissions.
    pub(super) fn connect_as(
        &mut self,
        spec: &ConnectSpec<'_>,
        perms: Option<Perms>,
    ) -> (ConnId, Vec<String>) {
        let id = self.next;
        self.next += 1;
        let session = MqttSession::new(self.session_config(id), self.now);
        self.conns.insert(id, session);
        let mut bytes = Vec::new();
        writer::connect(&mut bytes, spec).unwrap();
        (id, self.send_with(id, &bytes, perms))
    }

    /// Feeds bytes to a connection; returns what that connection received.
    pub(super) fn send(&mut self, id: ConnId, bytes: &[u8]) -> Vec<String> {
        self.send_with(id, bytes, None)
    }

    fn send_with(&mut self, id: ConnId, bytes: &[u8], perms: Option<Perms>) -> Vec<String> {
        let now = self.now;
        let session = self.conns.get_mut(&id).unwrap();
        let mut broker = self.state.broker(id, now);
        if let Some(p) = perms {
            broker = broker.with_permissions(p);
        }
        let result = session.handle_input(now, bytes, &mut broker);
        let own = std::mem::take(session.output());
        self.received.entry(id).or_default().extend(own);
        if let Err(close) = result {
            self.end(id, close);
        }
        self.pump();
        self.take(id)
    }

    /// The server's part: writes after each connection's own output, closes.
    pub(super) fn pump(&mut self) {
        assert!(self.state.index_consistent(), "filter index out of step");
        for _ in 0..8 {
            for (conn, bytes) in self.state.take_writes() {
                self.received.entry(conn).or_default().extend(bytes);
            }
            let events = self.state.take_events();
            if events.is_empty() {
                break;
            }
            for e in events {
                match e {
                    Event::TakenOver { conn, .. } => {
                        self.end(conn, Close::new(ClosedState::DuplicateClientId, None));
                    }
                    Event::ToNats { .. } => self.to_nats.push(e),
                    Event::PublishDenied { .. } | Event::SubscribeDenied { .. } => {
                        self.denied.push(e);
                    }
                }
            }
        }
    }

    fn end(&mut self, id: ConnId, close: Close) {
        if let Some(session) = self.conns.remove(&id) {
            self.state.disconnect(id, session.will_fate(), self.now);
            self.closed.insert(id, close);
        }
    }

    /// The socket of `id` drops (no DISCONNECT).
    pub(super) fn drop_conn(&mut self, id: ConnId) {
        self.end(id, Close::new(ClosedState::ClientClosed, None));
        self.pump();
    }

    pub(super) fn take(&mut self, id: ConnId) -> Vec<String> {
        lines(self.received.entry(id).or_default())
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        self.state.handle_timeout(self.now);
        self.pump();
    }

    pub(super) fn nats_events(&mut self) -> Vec<String> {
        std::mem::take(&mut self.to_nats)
            .into_iter()
            .filter_map(|e| match e {
                Event::ToNats {
                    subject,
                    header,
                    payload,
                } => Some(format!(
                    "{} {:?} {}",
                    String::from_utf8_lossy(&subject),
                    String::from_utf8_lossy(&header),
                    String::from_utf8_lossy(&payload)
                )),
                Event::TakenOver { .. }
                | Event::PublishDenied { .. }
                | Event::SubscribeDenied { .. } => None,
            })
            .collect()
    }
}

pub(super) fn spec(client_id: &str, clean: bool) -> ConnectSpec<'_> {
    ConnectSpec {
        client_id,
        clean,
        ..Default::default()
    }
}

pub(super) fn publish(topic: &str, qos: Qos, pi: u16, retain: bool, payload: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let h = PublishHeader {
        pi,
        qos,
        dup: false,
        retain,
        topic: topic.as_bytes(),
    };
    writer::publish(&mut out, &h, payload.as_bytes()).unwrap();
    out
}

pub(super) fn subscribe(pi: u16, filters: &[(&str, Qos)]) -> Vec<u8> {
    let mut out = Vec::new();
    let f: Vec<(&[u8], Qos)> = filters.iter().map(|(t, q)| (t.as_bytes(), *q)).collect();
    writer::subscribe(&mut out, pi, &f).unwrap();
    out
}

pub(super) fn ack(kind: PubResponse, pi: u16) -> Vec<u8> {
    let mut out = Vec::new();
    writer::pub_response(&mut out, kind, pi);
    out
}

pub(super) fn disconnect() -> Vec<u8> {
    let mut out = Vec::new();
    writer::disconnect(&mut out);
    out
}

pub(super) fn connack(sp: bool) -> String {
    format!(
        "{:?}",
        crate::mqtt::client::ServerPacket::ConnAck {
            session_present: sp,
            code: 0
        }
    )
}

/// Go: TestMQTTCleanSession — a persistent session is present on the next CONNECT; a
/// clean one discards it.
#[test]
fn clean_session() {
    let mut net = Net::new(StateConfig::default());
    let (c, got) = net.connect(&spec("me", false));
    assert_eq!(got, [connack(false)]);
    net.send(c, &disconnect());
    let (c, got) = net.connect(&spec("me", false));
    assert_eq!(got, [connack(true)]);
    net.send(c, &disconnect());
    let (c, got) = net.connect(&spec("me", true));
    assert_eq!(got, [connack(false)]);
    net.send(c, &disconnect());
    assert_eq!(
        net.state.session_state("me"),
        None,
        "clean: gone with its connection"
    );
    let (_, got) = net.connect(&spec("me", false));
    assert_eq!(got, [connack(false)]);
}

/// Go: TestMQTTDuplicateClientID — the second CONNECT takes over (session present), the
/// first connection is closed, and its will is not published.
#[test]
fn takeover_closes_the_old_connection_without_its_will() {
    let mut net = Net::new(StateConfig::default());
    let (watcher, _) = net.connect(&spec("watcher", true));
    net.send(watcher, &subscribe(1, &[("will", Qos::AtMostOnce)]));
    let mut first = spec("me", false);
    first.will = Some((b"will", b"gone", Qos::AtMostOnce, false));
    let (c1, got) = net.connect(&first);
    assert_eq!(got, [connack(false)]);
    let (c2, got) = net.connect(&spec("me", false));
    assert_eq!(got, [connack(true)]);
    assert_eq!(net.closed[&c1].state, ClosedState::DuplicateClientId);
    assert!(
        net.take(watcher).is_empty(),
        "no will from the replaced client"
    );
    let view = net.state.session_state("me").unwrap();
    assert_eq!(view.connected, Some(c2));
}

/// Go: TestMQTTFlappingSession — within mqttSessJailDur of a takeover the same client
/// id is held, then closed with DuplicateClientID, no CONNACK, and what it sent after
/// CONNECT is not processed; after the jail, accepted.
#[test]
fn flapping_client_id_is_jailed() {
    let mut net = Net::new(StateConfig::default());
    let (_c1, _) = net.connect(&spec("flap", false));
    let (c2, _) = net.connect(&spec("flap", false));
    let t_takeover = net.now;
    net.now += Duration::from_millis(500);
    let held = MqttSession::new(net.session_config(100), net.now);
    net.conns.insert(100, held);
    let mut bytes = Vec::new();
    writer::connect(&mut bytes, &spec("flap", false)).unwrap();
    // Misbehaving, as in Go's test: a SUBSCRIBE without waiting for CONNACK.
    bytes.extend(subscribe(1, &[("foo", Qos::AtLeastOnce)]));
    let subs_before = net.state.session_state("flap").unwrap().subscriptions;
    let now = net.now;
    let session = net.conns.get_mut(&100).unwrap();
    let close = session
        .handle_input(now, &bytes, &mut net.state.broker(100, now))
        .unwrap_err();
    assert_eq!(close.state, ClosedState::DuplicateClientId);
    assert_eq!(session.hold_until(), Some(now + SESSION_JAIL));
    assert!(session.output().is_empty(), "no CONNACK, no SUBACK");
    net.end(100, close);
    let view = net.state.session_state("flap").unwrap();
    assert_eq!(
        view.subscriptions, subs_before,
        "the SUBSCRIBE was not read"
    );
    let (c3, got) = net.connect(&spec("flap", false));
    assert!(got.is_empty(), "no CONNACK: {got:?}");
    assert_eq!(net.closed[&c3].state, ClosedState::DuplicateClientId);
    assert_eq!(net.state.session_state("flap").unwrap().connected, Some(c2));
    // The broker told the session how long to hold it.
    let mut m = SessionManager::new(StateConfig::default());
    m.connect(1, "x", SessionKind::Persistent, None, None, t_takeover)
        .unwrap();
    m.connect(2, "x", SessionKind::Persistent, None, None, t_takeover)
        .unwrap();
    let jailed = m
        .connect(3, "x", SessionKind::Persistent, None, None, t_takeover)
        .unwrap_err();
    assert_eq!(
        jailed,
        ConnectError::Jailed {
            release_at: t_takeover + SESSION_JAIL
        }
    );
    // Past the jail: accepted, takes over.
    net.now = t_takeover + SESSION_JAIL + Duration::from_millis(1);
    let (_c4, got) = net.connect(&spec("flap", false));
    assert_eq!(got, [connack(true)]);
    assert_eq!(net.closed[&c2].state, ClosedState::DuplicateClientId);
}

/// Go: TestMQTTPersistedSession (without the restarts: ours is in memory) — the
/// subscriptions survive, QoS 1 messages published while away arrive on resume, NATS
/// messages arrive at QoS 0, `foo/#` also gets `foo`, an unsubscribed filter nothing.
#[test]
fn persisted_session() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", false));
    let got = net.send(
        sub,
        &subscribe(
            1,
            &[
                ("foo/#", Qos::AtLeastOnce),
                ("bar", Qos::AtLeastOnce),
                ("baz", Qos::AtMostOnce),
            ],
        ),
    );
    assert_eq!(got, ["SubAck { pi: 1, codes: [1, 1, 0] }"]);
    net.drop_conn(sub);

    let (p, _) = net.connect(&spec("pub", true));
    let got = net.send(p, &publish("foo/bar", Qos::AtLeastOnce, 1, false, "msg0"));
    assert_eq!(got, ["PubAck(1)"]);
    net.send(p, &disconnect());

    let (sub, got) = net.connect(&spec("sub", false));
    assert_eq!(got, [connack(true), "PUBLISH foo/bar q1 pi=1 msg0".into()]);
    net.send(sub, &ack(PubResponse::Ack, 1));
    for (subject, payload, topic) in [
        ("foo.bar", "msg1", "foo/bar"),
        ("foo", "msg2", "foo"),
        ("bar", "msg3", "bar"),
        ("baz", "msg4", "baz"),
    ] {
        net.state
            .deliver_nats(subject.as_bytes(), None, payload.as_bytes());
        net.pump();
        assert_eq!(
            net.take(sub),
            [format!("PUBLISH {topic} q0 pi=0 {payload}")]
        );
    }
    assert!(net.state.has_interest(b"bar") && net.state.has_interest(b"foo"));
    assert!(!net.state.has_interest(b"qux"));
    let mut unsub = Vec::new();
    writer::unsubscribe(&mut unsub, 2, &[b"bar"]).unwrap();
    assert_eq!(net.send(sub, &unsub), ["UnsubAck(2)"]);
    assert!(!net.state.has_interest(b"bar"));
    net.state.deliver_nats(b"bar", None, b"msg5");
    net.pump();
    assert!(net.take(sub).is_empty());
}

/// A QoS 0 subscriber of a persistent session gets nothing published while it was
/// away (Go: a plain NATS subscription, not a consumer).
#[test]
fn qos0_is_not_kept_while_away() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", false));
    net.send(sub, &subscribe(1, &[("baz", Qos::AtMostOnce)]));
    net.drop_conn(sub);
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("baz", Qos::AtLeastOnce, 1, false, "lost"));
    let (_, got) = net.connect(&spec("sub", false));
    assert_eq!(got, [connack(true)]);
}

/// Go: TestMQTTRedeliveryAckWait — redelivered with DUP after ack_wait, same
/// identifiers; after reconnecting the unacknowledged one again with DUP.
#[test]
fn redelivery_ack_wait_across_reconnect() {
    let mut config = StateConfig::default();
    config.outbound.ack_wait = Duration::from_millis(250);
    let mut net = Net::new(config);
    let (sub, _) = net.connect(&spec("sub", false));
    net.send(sub, &subscribe(1, &[("foo", Qos::AtLeastOnce)]));
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("foo", Qos::AtLeastOnce, 1, false, "foo1"));
    net.send(p, &publish("foo", Qos::AtLeastOnce, 2, false, "foo2"));
    assert_eq!(
        net.take(sub),
        ["PUBLISH foo q1 pi=1 foo1", "PUBLISH foo q1 pi=2 foo2"]
    );
    assert_eq!(
        net.state.poll_timeout(),
        Some(net.now + Duration::from_millis(250))
    );
    // Per connection: the subscriber's session has the timer, the publisher's none.
    assert_eq!(net.state.poll_timeout_for(sub), net.state.poll_timeout());
    assert_eq!(net.state.poll_timeout_for(p), None);
    let mut early = Vec::new();
    let almost = net.now + Duration::from_millis(249);
    net.state.handle_timeout_for(sub, almost, &mut early);
    assert!(early.is_empty());
    net.advance(Duration::from_millis(250));
    assert_eq!(
        net.take(sub),
        [
            "PUBLISH foo q1 pi=1 foo1 dup",
            "PUBLISH foo q1 pi=2 foo2 dup"
        ]
    );
    net.send(sub, &ack(PubResponse::Ack, 1));
    net.advance(Duration::from_millis(250));
    assert_eq!(net.take(sub), ["PUBLISH foo q1 pi=2 foo2 dup"]);
    net.drop_conn(sub);
    assert_eq!(net.state.poll_timeout(), None, "no timer while away");
    let (sub, got) = net.connect(&spec("sub", false));
    assert_eq!(got, [connack(true), "PUBLISH foo q1 pi=2 foo2 dup".into()]);
    net.send(sub, &ack(PubResponse::Ack, 2));
    assert_eq!(net.state.session_state("sub").unwrap().in_flight, 0);
}

/// Go: TestMQTTMaxAckPending — with max_ack_pending 1 the second message waits for the
/// first's PUBACK, also for messages kept while the session was away.
#[test]
fn max_ack_pending() {
    let mut config = StateConfig::default();
    config.outbound.max_ack_pending = 1;
    let mut net = Net::new(config);
    let (sub, _) = net.connect(&spec("sub", false));
    net.send(sub, &subscribe(1, &[("foo", Qos::AtLeastOnce)]));
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("foo", Qos::AtLeastOnce, 1, false, "msg1"));
    net.send(p, &publish("foo", Qos::AtLeastOnce, 1, false, "msg2"));
    assert_eq!(net.take(sub), ["PUBLISH foo q1 pi=1 msg1"]);
    assert_eq!(
        net.send(sub, &ack(PubResponse::Ack, 1)),
        ["PUBLISH foo q1 pi=2 msg2"]
    );
    net.send(sub, &ack(PubResponse::Ack, 2));
    net.send(sub, &disconnect());
    net.send(p, &publish("foo", Qos::AtLeastOnce, 1, false, "msg3"));
    net.send(p, &publish("foo", Qos::AtLeastOnce, 1, false, "msg4"));
    let (sub, got) = net.connect(&spec("sub", false));
    assert_eq!(got, [connack(true), "PUBLISH foo q1 pi=3 msg3".into()]);
    assert_eq!(
        net.send(sub, &ack(PubResponse::Ack, 3)),
        ["PUBLISH foo q1 pi=4 msg4"]
    );
}

/// Go: TestMQTTQoS2RejectPublishDuplicates and the QoS 2 flow — a QoS 2 PUBLISH is
/// kept once per identifier and delivered at PUBREL; the subscriber's side goes
/// PUBLISH, PUBREC → PUBREL, PUBCOMP.
#[test]
fn qos2_both_directions() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", true));
    net.send(sub, &subscribe(1, &[("q", Qos::ExactlyOnce)]));
    let (p, _) = net.connect(&spec("pub", true));
    assert_eq!(
        net.send(p, &publish("q", Qos::ExactlyOnce, 7, false, "once")),
        ["PubRec(7)"]
    );
    assert_eq!(
        net.send(p, &publish("q", Qos::ExactlyOnce, 7, false, "twice")),
        ["PubRec(7)"]
    );
    assert!(net.take(sub).is_empty(), "nothing before PUBREL");
    assert_eq!(net.send(p, &ack(PubResponse::Rel, 7)), ["PubComp(7)"]);
    assert_eq!(net.take(sub), ["PUBLISH q q2 pi=1 once"]);
    // A second PUBREL finds nothing.
    assert_eq!(net.send(p, &ack(PubResponse::Rel, 7)), ["PubComp(7)"]);
    assert!(net.take(sub).is_empty());
    assert_eq!(net.send(sub, &ack(PubResponse::Rec, 1)), ["PubRel(1)"]);
    net.send(sub, &ack(PubResponse::Comp, 1));
    let view = net.state.session_state("sub").unwrap();
    assert_eq!((view.in_flight, view.pubrel_pending), (0, 0));
}

/// The QoS 2 store is bounded: past it the publisher is closed.
#[test]
fn qos2_store_bound() {
    let config = StateConfig {
        max_qos2_pending: 1,
        ..Default::default()
    };
    let mut net = Net::new(config);
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("q", Qos::ExactlyOnce, 1, false, "a"));
    net.send(p, &publish("q", Qos::ExactlyOnce, 2, false, "b"));
    let close = &net.closed[&p];
    assert_eq!(close.state, ClosedState::ProtocolViolation);
    assert_eq!(
        close.log.as_deref(),
        Some("too many QoS 2 messages awaiting PUBREL (limit 1)")
    );
}

/// A NATS message marked as an MQTT QoS 1 publish does not reach QoS 1 subscriptions
/// (Go: only JetStream delivers those), but does reach QoS 0 ones.
#[test]
fn nats_message_with_mqtt_qos_header() {
    let mut net = Net::new(StateConfig::default());
    let (s0, _) = net.connect(&spec("s0", true));
    net.send(s0, &subscribe(1, &[("x", Qos::AtMostOnce)]));
    let (s1, _) = net.connect(&spec("s1", true));
    net.send(s1, &subscribe(1, &[("x", Qos::AtLeastOnce)]));
    net.state
        .deliver_nats(b"x", Some(b"NATS/1.0\r\nNmqtt-Pub:1\r\n\r\n"), b"hi");
    net.pump();
    assert_eq!(net.take(s0), ["PUBLISH x q0 pi=0 hi"]);
    assert!(net.take(s1).is_empty());
}

/// Go: mqttMustIgnoreForReservedSub — `#` does not receive `$` topics.
#[test]
fn wildcard_subscriptions_skip_dollar_topics() {
    let mut net = Net::new(StateConfig::default());
    let (s, _) = net.connect(&spec("s", true));
    net.send(
        s,
        &subscribe(1, &[("#", Qos::AtMostOnce), ("$SYS/#", Qos::AtMostOnce)]),
    );
    net.state.deliver_nats(b"$SYS.x", None, b"sys");
    net.pump();
    assert_eq!(net.take(s), ["PUBLISH $SYS/x q0 pi=0 sys"]);
}

/// Go: TestMQTTQoS2SubDowngrade — with downgrade_qos2_subscribe a QoS 2 filter is
/// granted QoS 1; and Go's internal `$MQTT.` subjects are refused.
#[test]
fn qos2_downgrade_and_internal_subjects() {
    let config = StateConfig {
        qos2_subscribe: Qos2Subscribe::Downgrade,
        ..Default::default()
    };
    let mut net = Net::new(config);
    let (c, _) = net.connect(&spec("", true));
    assert_eq!(
        net.send(
            c,
            &subscribe(1, &[("bar", Qos::AtLeastOnce), ("baz", Qos::ExactlyOnce)])
        ),
        ["SubAck { pi: 1, codes: [1, 1] }"]
    );
    assert_eq!(
        net.send(c, &subscribe(2, &[("$MQTT/msgs/#", Qos::AtMostOnce)])),
        ["SubAck { pi: 2, codes: [128] }"]
    );
    // Go: TestMQTTSubAck — `#` not last is `foo.>.bar`, no NATS subject.
    assert_eq!(
        net.send(
            c,
            &subscribe(
                3,
                &[("foo", Qos::AtMostOnce), ("foo/#/bar", Qos::AtMostOnce)]
            )
        ),
        ["SubAck { pi: 3, codes: [0, 128] }"]
    );
    assert_eq!(
        net.state
            .session_state(&format!("assigned-{c}"))
            .unwrap()
            .subscriptions,
        3
    );
}

/// A publisher subscribed to its own topic gets its message before its PUBACK (Go
/// delivers inside processInboundClientMsg, then enqueues PUBACK); a QoS 2 one before
/// PUBCOMP; the next queued message right after the PUBACK that freed its slot.
#[test]
fn own_deliveries_in_go_order() {
    let mut config = StateConfig::default();
    config.outbound.max_ack_pending = 1;
    let mut net = Net::new(config);
    let (c, _) = net.connect(&spec("me", true));
    net.send(c, &subscribe(1, &[("t", Qos::AtLeastOnce)]));
    assert_eq!(
        net.send(c, &publish("t", Qos::AtLeastOnce, 9, false, "one")),
        ["PUBLISH t q1 pi=1 one", "PubAck(9)"]
    );
    assert_eq!(
        net.send(c, &publish("t", Qos::ExactlyOnce, 10, false, "two")),
        ["PubRec(10)"]
    );
    assert_eq!(net.send(c, &ack(PubResponse::Rel, 10)), ["PubComp(10)"]);
    assert_eq!(
        net.send(c, &ack(PubResponse::Ack, 1)),
        ["PUBLISH t q1 pi=2 two"]
    );
}

/// Sessions are bounded: a new client id beyond gets CONNACK 0x03 and a close; known
/// ids still connect.
#[test]
fn session_bound() {
    let config = StateConfig {
        max_sessions: 1,
        ..Default::default()
    };
    let mut net = Net::new(config);
    let (a, _) = net.connect(&spec("a", false));
    net.send(a, &disconnect());
    let (b, got) = net.connect(&spec("b", true));
    assert_eq!(got, ["ConnAck { session_present: false, code: 3 }"]);
    let close = &net.closed[&b];
    assert_eq!(close.state, ClosedState::MaxConnectionsExceeded);
    assert_eq!(
        close.log.as_deref(),
        Some("maximum MQTT sessions exceeded (limit 1)")
    );
    let (_, got) = net.connect(&spec("a", false));
    assert_eq!(got, [connack(true)]);
}

/// Go: TestMQTTQoS2RetriesPublish / TestMQTTQoS2RetriesPubRel — an unreceived QoS 2
/// PUBLISH is sent again with DUP and the same identifier after ack_wait; after
/// PUBREC the PUBREL is, until PUBCOMP; then nothing more.
#[test]
fn qos2_retries_publish_then_pubrel() {
    let mut config = StateConfig::default();
    config.outbound.ack_wait = Duration::from_millis(100);
    let mut net = Net::new(config);
    let (sub, _) = net.connect(&spec("sub", true));
    net.send(sub, &subscribe(1, &[("foo", Qos::ExactlyOnce)]));
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("foo", Qos::ExactlyOnce, 444, false, "data1"));
    net.send(p, &ack(PubResponse::Rel, 444));
    net.send(p, &disconnect());
    assert_eq!(net.take(sub), ["PUBLISH foo q2 pi=1 data1"]);
    for _ in 0..2 {
        net.advance(Duration::from_millis(100));
        assert_eq!(net.take(sub), ["PUBLISH foo q2 pi=1 data1 dup"]);
    }
    assert_eq!(net.send(sub, &ack(PubResponse::Rec, 1)), ["PubRel(1)"]);
    for _ in 0..2 {
        net.advance(Duration::from_millis(100));
        assert_eq!(net.take(sub), ["PubRel(1)"]);
    }
    assert!(net.send(sub, &ack(PubResponse::Comp, 1)).is_empty());
    net.advance(Duration::from_secs(10));
    assert!(net.take(sub).is_empty());
    assert_eq!(net.state.poll_timeout(), None);
}

/// Go: TestMQTTQoS2PubRelResumedSessionDelivery — a persistent publisher's QoS 2
/// message survives its disconnect before PUBREL; the PUBREL after resuming delivers
/// it once, at the subscriber's QoS, and it is retained with its RETAIN flag.
#[test]
fn qos2_pubrel_after_resume() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", true));
    net.send(sub, &subscribe(1, &[("foo", Qos::AtLeastOnce)]));
    let (p, _) = net.connect(&spec("pub", false));
    assert_eq!(
        net.send(p, &publish("foo", Qos::ExactlyOnce, 7, true, "m")),
        ["PubRec(7)"]
    );
    net.send(p, &disconnect());
    assert!(net.take(sub).is_empty());
    let (p, got) = net.connect(&spec("pub", false));
    assert_eq!(got, [connack(true)]);
    assert_eq!(net.send(p, &ack(PubResponse::Rel, 7)), ["PubComp(7)"]);
    assert_eq!(net.take(sub), ["PUBLISH foo q1 pi=1 m"]);
    assert_eq!(net.send(p, &ack(PubResponse::Rel, 7)), ["PubComp(7)"]);
    assert!(net.take(sub).is_empty());
    let (sub2, _) = net.connect(&spec("sub2", true));
    assert_eq!(
        net.send(sub2, &subscribe(1, &[("foo", Qos::AtLeastOnce)])),
        [
            "SubAck { pi: 1, codes: [1] }",
            "PUBLISH foo q1 pi=1 m retain"
        ]
    );
}

/// A clean CONNECT discards the QoS 2 messages a persistent session kept
/// ([MQTT-3.1.2-6]; Go keeps them under the client id: docs/CONFORMANCE.md row 47).
#[test]
fn clean_connect_discards_staged_qos2() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", true));
    net.send(sub, &subscribe(1, &[("foo", Qos::AtLeastOnce)]));
    let (p, _) = net.connect(&spec("pub", false));
    net.send(p, &publish("foo", Qos::ExactlyOnce, 7, false, "m"));
    net.send(p, &disconnect());
    let (p, got) = net.connect(&spec("pub", true));
    assert_eq!(got, [connack(false)]);
    assert_eq!(net.send(p, &ack(PubResponse::Rel, 7)), ["PubComp(7)"]);
    assert!(net.take(sub).is_empty());
}

/// Go: TestMQTTMaxAckPendingOverLimit, with QoS 2's PUBREL reservation: at 30000 per
/// subscription, `a` (QoS 1) and the PUBREL consumer of the first QoS 2 subscription
/// fit (60000), `b`'s own 30000 does not; the PUBREL reservation stays, so `c` does not
/// fit either until `a` is unsubscribed.
#[test]
fn packet_identifier_budget() {
    let mut config = StateConfig::default();
    config.outbound.max_ack_pending = 30_000;
    let mut net = Net::new(config);
    let (c, _) = net.connect(&spec("budget", false));
    assert_eq!(
        net.send(
            c,
            &subscribe(
                1,
                &[
                    ("a", Qos::AtLeastOnce),
                    ("b", Qos::ExactlyOnce),
                    ("c", Qos::AtLeastOnce),
                    ("d", Qos::AtMostOnce)
                ]
            )
        ),
        ["SubAck { pi: 1, codes: [1, 128, 128, 0] }"]
    );
    let mut unsub = Vec::new();
    writer::unsubscribe(&mut unsub, 2, &[b"a".as_slice()]).unwrap();
    net.send(c, &unsub);
    assert_eq!(
        net.send(c, &subscribe(3, &[("c", Qos::AtLeastOnce)])),
        ["SubAck { pi: 3, codes: [1] }"]
    );
}
