//! Ports of Go's pure parser tests (mqtt_test.go). Go's tables give a substring of the
//! error; ours check the whole text, which is Go's for the same input.

use super::*;
use crate::mqtt::ConnAckCode;

const LEVEL: u8 = PROTOCOL_LEVEL;
const WILL: u8 = CONN_FLAG_WILL;
const CLEAN: u8 = CONN_FLAG_CLEAN_SESSION;
const USER: u8 = CONN_FLAG_USERNAME;
const PASS: u8 = CONN_FLAG_PASSWORD;

fn connect_err(body: &[u8]) -> MqttError {
    parse_connect(body, Qos2Policy::Accept).unwrap_err()
}

/// Go: TestMQTTParseConnect (every row; "wantErr" rows check the exact error too).
#[test]
fn parse_connect_errors() {
    let m = |rest: &[u8]| [&[0, 4, b'M', b'Q', b'T', b'T'][..], rest].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "packet in buffer error",
            vec![0],
            "error reading protocol name: unexpected EOF",
        ),
        (
            "bad proto name",
            vec![0, 4, b'B', b'A', b'D'],
            "error reading protocol name: unexpected EOF",
        ),
        (
            "invalid proto name",
            vec![0, 3, b'B', b'A', b'D'],
            "expected connect packet with protocol name \"MQTT\", got \"BAD\"",
        ),
        (
            "old proto not supported",
            vec![0, 6, b'M', b'Q', b'I', b's', b'd', b'p'],
            "older protocol \"MQIsdp\" not supported",
        ),
        (
            "error on protocol level",
            m(&[]),
            "error reading protocol level: EOF",
        ),
        (
            "unacceptable protocol version",
            m(&[10]),
            "unacceptable protocol version of 10",
        ),
        ("error on flags", m(&[LEVEL]), "error reading flags: EOF"),
        (
            "reserved flag",
            m(&[LEVEL, 1]),
            "connect flags reserved bit not set to 0",
        ),
        (
            "will qos without will flag",
            m(&[LEVEL, 1 << 3]),
            "if Will flag is set to 0, Will QoS must be 0 too, got 1",
        ),
        (
            "will retain without will flag",
            m(&[LEVEL, 1 << 5]),
            "if Will flag is set to 0, Will Retain flag must be 0 too",
        ),
        (
            "will qos",
            m(&[LEVEL, 3 << 3 | 1 << 2]),
            "if Will flag is set to 1, Will QoS can be 0, 1 or 2, got 3",
        ),
        (
            "no user but password",
            m(&[LEVEL, PASS]),
            "password flag set but username flag is not",
        ),
        (
            "missing keep alive",
            m(&[LEVEL, 0]),
            "error reading keep alive: unexpected EOF",
        ),
        (
            "missing client ID",
            m(&[LEVEL, 0, 0, 1]),
            "error reading client ID: unexpected EOF",
        ),
        (
            "empty client ID",
            m(&[LEVEL, 0, 0, 1, 0, 0]),
            "when client ID is empty, clean session flag must be set to 1",
        ),
        (
            "invalid utf8 client ID",
            m(&[LEVEL, 0, 0, 1, 0, 1, 241]),
            "invalid utf8 for client ID \"\\xf1\"",
        ),
        (
            "client ID with null byte",
            m(&[LEVEL, 0, 0, 1, 0, 3, b'a', 0, b'b']),
            "invalid null character in client ID \"a\\x00b\"",
        ),
        (
            "client ID with invalid character",
            m(&[LEVEL, 0, 0, 1, 0, 1, b'.']),
            "invalid character in client ID \".\"",
        ),
        (
            "missing will topic",
            m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0]),
            "error reading Will topic: unexpected EOF",
        ),
        (
            "empty will topic",
            m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0, 0, 0]),
            "empty Will topic not allowed",
        ),
        (
            "invalid utf8 will topic",
            m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0, 0, 1, 241]),
            "invalid utf8 for Will topic \"\\xf1\"",
        ),
        (
            "invalid wildcard will topic",
            m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0, 0, 1, b'#']),
            "wildcards not allowed in publish's topic: \"#\"",
        ),
        (
            "error on will message",
            m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0, 0, 1, b'a', 0, 3]),
            "error reading Will message: unexpected EOF",
        ),
        (
            "error on username",
            m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0]),
            "error reading user name: unexpected EOF",
        ),
        (
            "empty username",
            m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0, 0, 0]),
            "empty user name not allowed",
        ),
        (
            "invalid utf8 username",
            m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0, 0, 1, 241]),
            "invalid utf8 for user name \"\\xf1\"",
        ),
        (
            "username with null byte",
            m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0, 0, 3, b'a', 0, b'b']),
            "invalid null character in user name \"a\\x00b\"",
        ),
        (
            "error on password",
            m(&[LEVEL, USER | PASS | CLEAN, 0, 0, 0, 0, 0, 1, b'a']),
            "error reading password: unexpected EOF",
        ),
    ];
    for (name, body, text) in cases {
        assert_eq!(connect_err(&body).to_string(), text, "{name}");
    }
}

/// Go: TestMQTTParseConnect's return codes (the `rc` of `mqttParseConnect`), and
/// TestMQTTConnectFailsOnParse (level 7 → CONNACK 0x01).
#[test]
fn connect_errors_connack_codes() {
    let m = |rest: &[u8]| [&[0, 4, b'M', b'Q', b'T', b'T'][..], rest].concat();
    let rc = |body: Vec<u8>| connect_err(&body).connack_code();
    assert_eq!(rc(m(&[7])), Some(ConnAckCode::UnacceptableProtocolVersion));
    assert_eq!(
        rc(m(&[LEVEL, 0, 0, 1, 0, 0])),
        Some(ConnAckCode::IdentifierRejected)
    );
    assert_eq!(
        rc(m(&[LEVEL, 0, 0, 1, 0, 1, 241])),
        Some(ConnAckCode::IdentifierRejected)
    );
    assert_eq!(
        rc(m(&[LEVEL, 0, 0, 1, 0, 1, b'*'])),
        Some(ConnAckCode::IdentifierRejected)
    );
    assert_eq!(
        rc(m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0, 0, 0])),
        Some(ConnAckCode::BadUserOrPassword)
    );
    assert_eq!(
        rc(m(&[LEVEL, USER | CLEAN, 0, 0, 0, 0, 0, 1, 0])),
        Some(ConnAckCode::BadUserOrPassword)
    );
    assert_eq!(rc(m(&[LEVEL, 1])), None);
    assert_eq!(rc(m(&[LEVEL, WILL | CLEAN, 0, 0, 0, 0, 0, 1, 241])), None);
}

/// Go: TestMQTTQoS2WillReject: a QoS 2 will under reject_qos2_publish gets CONNACK 0x10.
#[test]
fn qos2_will_rejected() {
    let body = [
        0,
        4,
        b'M',
        b'Q',
        b'T',
        b'T',
        LEVEL,
        WILL | 2 << 3 | CLEAN,
        0,
        0,
        0,
        0,
        0,
        1,
        b'a',
        0,
        0,
    ];
    let err = parse_connect(&body, Qos2Policy::Reject).unwrap_err();
    assert_eq!(err, MqttError::Qos2WillRejected);
    assert_eq!(err.connack_code(), Some(ConnAckCode::Qos2WillRejected));
    let c = parse_connect(&body, Qos2Policy::Accept).unwrap();
    assert_eq!(c.will.unwrap().qos, Qos::ExactlyOnce);
}

#[test]
fn parse_connect_full() {
    let mut body = vec![
        0,
        4,
        b'M',
        b'Q',
        b'T',
        b'T',
        LEVEL,
        USER | PASS | WILL | 1 << 3 | 0x20,
        0,
        30,
    ];
    for field in [&b"cid"[..], b"a/b.c", b"bye", b"me", b"secret"] {
        body.extend_from_slice(&(field.len() as u16).to_be_bytes());
        body.extend_from_slice(field);
    }
    let c = parse_connect(&body, Qos2Policy::Accept).unwrap();
    assert_eq!(c.client_id, "cid");
    assert_eq!(c.session, SessionKind::Persistent);
    assert_eq!(c.keep_alive, 30);
    assert_eq!(c.read_deadline(), Some(std::time::Duration::from_secs(45)));
    let will = c.will.unwrap();
    assert_eq!((will.qos, will.retain), (Qos::AtLeastOnce, true));
    assert_eq!(
        (will.topic, &*will.subject, will.message),
        (&b"a/b.c"[..], &b"a.b//c"[..], &b"bye"[..])
    );
    assert_eq!(c.username, Some("me"));
    assert_eq!(c.password, Some(&b"secret"[..]));
    // Go: TestMQTTConnKeepAlive's rule, 1.5 × keep-alive truncated to whole seconds.
    let ka = |k: u16| {
        Connect {
            keep_alive: k,
            ..parse_connect(&body, Qos2Policy::Accept).unwrap()
        }
        .read_deadline()
    };
    assert_eq!(ka(1), Some(std::time::Duration::from_secs(1)));
    assert_eq!(ka(0), None);
    // An empty client id with a clean session: the server names it.
    let clean = [0, 4, b'M', b'Q', b'T', b'T', LEVEL, CLEAN, 0, 0, 0, 0];
    let c = parse_connect(&clean, Qos2Policy::Accept).unwrap();
    assert_eq!((c.client_id, c.session), ("", SessionKind::Clean));
    // Bytes after the last field are ignored.
    let trailing = [&clean[..], b"xyz"].concat();
    assert_eq!(
        parse_connect(&trailing, Qos2Policy::Accept)
            .unwrap()
            .client_id,
        ""
    );
}

/// Go: TestMQTTParsePub.
#[test]
fn parse_publish_errors() {
    let cases: &[(&str, u8, &[u8], &str)] = &[
        ("qos not supported", 3 << 1, &[], "QoS=3 is invalid in MQTT"),
        (
            "packet in buffer error",
            0,
            &[],
            "error reading topic: unexpected EOF",
        ),
        (
            "error on topic",
            0,
            &[0, 3, b'f', b'o'],
            "error reading topic: unexpected EOF",
        ),
        ("empty topic", 0, &[0, 0], "topic cannot be empty"),
        (
            "wildcards topic",
            0,
            &[0, 1, b'#'],
            "wildcards not allowed in publish's topic: \"#\"",
        ),
        (
            "invalid utf8 topic",
            0,
            &[0, 1, 241],
            "invalid utf8 for topic \"\\xf1\"",
        ),
        (
            "topic with null byte",
            0,
            &[0, 3, b'f', 0, b'o'],
            "invalid null character in topic \"f\\x00o\"",
        ),
        (
            "error on packet identifier",
            2,
            &[0, 3, b'f', b'o', b'o'],
            "error reading packet identifier: unexpected EOF",
        ),
        (
            "invalid packet identifier",
            2,
            &[0, 3, b'f', b'o', b'o', 0, 0],
            "with QoS=1, packet identifier cannot be 0",
        ),
    ];
    for (name, flags, body, text) in cases {
        let err = parse_publish(*flags, body, Qos2Policy::Accept).unwrap_err();
        assert_eq!(err.to_string(), *text, "{name}");
    }
}

/// Go: TestMQTTQoS2PubReject.
#[test]
fn qos2_publish_rejected() {
    let body = [0, 1, b'a', 0, 1];
    assert_eq!(
        parse_publish(4, &body, Qos2Policy::Reject),
        Err(MqttError::Qos2PublishDisabled)
    );
    assert_eq!(
        parse_publish(4, &body, Qos2Policy::Accept).unwrap().qos,
        Qos::ExactlyOnce
    );
}

#[test]
fn parse_publish_fields() {
    let p = parse_publish(
        0x0d,
        &[0, 3, b'a', b'/', b'b', 0, 7, b'h', b'i'],
        Qos2Policy::Accept,
    )
    .unwrap();
    assert_eq!(
        (p.qos, p.pi, p.dup(), p.retain()),
        (Qos::ExactlyOnce, 7, true, true)
    );
    assert_eq!(
        (p.topic, &*p.subject, p.payload),
        (&b"a/b"[..], &b"a.b"[..], &b"hi"[..])
    );
    let p = parse_publish(0, &[0, 1, b'a'], Qos2Policy::Accept).unwrap();
    assert_eq!((p.pi, p.payload), (0, &b""[..]));
}

/// Go: TestMQTTParsePIMsg.
#[test]
fn parse_pi_errors() {
    assert_eq!(
        parse_pi(&[]).unwrap_err().to_string(),
        "error reading packet identifier: unexpected EOF"
    );
    assert_eq!(
        parse_pi(&[0]).unwrap_err().to_string(),
        "error reading packet identifier: unexpected EOF"
    );
    assert_eq!(
        parse_pi(&[0, 0]).unwrap_err().to_string(),
        "packet identifier cannot be 0"
    );
    assert_eq!(parse_pi(&[1, 2]), Ok(0x0102));
}

/// Go: TestMQTTParseSub and TestMQTTParseUnsub. Their "reserved flag" rows are refused
/// earlier here, by the fixed-header check (reader tests); the body is bounded by the
/// remaining length, so "ensure packet loaded" reads a topic filter past it.
#[test]
fn parse_subs_errors() {
    for kind in [SubKind::Subscribe, SubKind::Unsubscribe] {
        let un = if kind == SubKind::Subscribe { "" } else { "un" };
        let mut cases: Vec<(&str, &[u8], String)> = vec![
            (
                "ensure packet loaded",
                &[1, 2],
                format!("{un}subscribe protocol must contain at least 1 topic filter"),
            ),
            (
                "error reading packet id",
                &[1],
                "error reading packet identifier: unexpected EOF".into(),
            ),
            (
                "packet id cannot be zero",
                &[0, 0],
                "packet identifier cannot be 0".into(),
            ),
            (
                "missing filters",
                &[0, 1],
                format!("{un}subscribe protocol must contain at least 1 topic filter"),
            ),
            (
                "error reading topic",
                &[0, 1, 0, 2, b'a'],
                "error reading topic filter: unexpected EOF".into(),
            ),
            (
                "empty topic",
                &[0, 1, 0, 0],
                "topic filter cannot be empty".into(),
            ),
            (
                "invalid utf8 topic",
                &[0, 1, 0, 1, 241],
                "invalid utf8 for topic filter \"\\xf1\"".into(),
            ),
            (
                "topic with null byte",
                &[0, 1, 0, 3, b'a', 0, b'b', 0],
                "invalid null character in topic filter \"a\\x00b\"".into(),
            ),
        ];
        if kind == SubKind::Subscribe {
            cases.push((
                "missing qos",
                &[0, 1, 0, 1, b'a'],
                "error reading QoS: EOF".into(),
            ));
            cases.push((
                "invalid qos",
                &[0, 1, 0, 1, b'a', 3],
                "subscribe QoS value must be 0, 1 or 2, got 3".into(),
            ));
        }
        for (name, body, text) in cases {
            assert_eq!(
                parse_subs(kind, body).unwrap_err().to_string(),
                text,
                "{kind:?} {name}"
            );
        }
    }
}

#[test]
fn parse_subs_filters() {
    let body = [0, 9, 0, 3, b'a', b'/', b'+', 1, 0, 3, b'a', b' ', b'b', 2];
    let (pi, filters) = parse_subs(SubKind::Subscribe, &body).unwrap();
    assert_eq!(pi, 9);
    assert_eq!(filters.len(), 2);
    assert_eq!(
        (filters[0].topic, filters[0].qos),
        (&b"a/+"[..], Qos::AtLeastOnce)
    );
    assert_eq!(filters[0].subject.as_deref(), Ok(&b"a.*"[..]));
    // Go keeps a filter NATS cannot carry (SUBACK failure later), it does not fail.
    assert_eq!(filters[1].subject, Err(MqttError::UnsupportedCharacters));
    assert_eq!(filters[1].qos, Qos::ExactlyOnce);
    let (_, filters) = parse_subs(SubKind::Unsubscribe, &[0, 1, 0, 1, b'#']).unwrap();
    assert_eq!(
        (filters[0].qos, filters[0].subject.as_deref()),
        (Qos::AtMostOnce, Ok(&b">"[..]))
    );
}
