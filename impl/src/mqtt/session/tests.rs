//! The session on a simulated clock, with a broker that records what it is asked.

use super::*;
use crate::mqtt::writer::{ConnectSpec, PublishHeader};
use crate::mqtt::{Qos2Policy, Transport};

#[derive(Debug, Default)]
struct Recorder {
    calls: Vec<String>,
    fail_publish: bool,
    session_present: bool,
    refuse: Option<Refusal>,
    suback: Vec<u8>,
}

impl Broker for Recorder {
    fn connect(&mut self, c: &Connect<'_>, client_id: &str) -> Result<bool, Refusal> {
        self.calls
            .push(format!("connect {client_id} will={}", c.will.is_some()));
        match self.refuse.take() {
            Some(r) => Err(r),
            None => Ok(self.session_present),
        }
    }
    fn publish(&mut self, p: &Publish<'_>) -> Result<(), Close> {
        let subject = String::from_utf8_lossy(&p.subject).into_owned();
        self.calls.push(format!(
            "publish {subject} qos={} {:?}",
            p.qos.level(),
            p.payload
        ));
        if self.fail_publish {
            return Err(Close::new(
                ClosedState::ProtocolViolation,
                Some("refused".into()),
            ));
        }
        Ok(())
    }
    fn store_qos2(&mut self, p: &Publish<'_>) -> Result<(), Close> {
        self.calls.push(format!("store {}", p.pi));
        Ok(())
    }
    fn release_qos2(&mut self, pi: u16) -> Result<(), Close> {
        self.calls.push(format!("release {pi}"));
        Ok(())
    }
    fn subscribe(&mut self, filters: &[Filter<'_>]) -> Result<Vec<u8>, Close> {
        self.calls.push(format!("subscribe {}", filters.len()));
        Ok(self.suback.clone())
    }
    fn unsubscribe(&mut self, filters: &[Filter<'_>]) -> Result<(), Close> {
        self.calls.push(format!("unsubscribe {}", filters.len()));
        Ok(())
    }
    fn client_ack(&mut self, ack: ClientAck) -> Result<(), Close> {
        self.calls.push(format!("{ack:?}"));
        Ok(())
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        reader: ReaderConfig {
            transport: Transport::Tcp,
            qos2: Qos2Policy::Accept,
        },
        max_payload: 1024 * 1024,
        connect_timeout: Some(Duration::from_secs(2)),
        assigned_client_id: "ASSIGNED".into(),
        trace: crate::conn::Trace::Off,
    }
}

fn connect(client_id: &str, keep_alive: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let spec = ConnectSpec {
        client_id,
        clean: true,
        keep_alive,
        ..Default::default()
    };
    writer::connect(&mut out, &spec).unwrap();
    out
}

fn publish(qos: Qos, pi: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let h = PublishHeader {
        pi,
        qos,
        dup: false,
        retain: false,
        topic: b"a/b",
    };
    writer::publish(&mut out, &h, payload).unwrap();
    out
}

fn take(s: &mut MqttSession) -> Vec<u8> {
    std::mem::take(s.output())
}

/// Go: TestMQTTConnectNotFirstPacket — no CONNACK, a protocol violation with Go's line.
#[test]
fn first_packet_must_be_connect() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder::default();
    let close = s
        .handle_input(t0, &publish(Qos::AtMostOnce, 0, b"hello"), &mut b)
        .unwrap_err();
    assert_eq!(close.state, ClosedState::ProtocolViolation);
    assert_eq!(
        close.log.as_deref(),
        Some("the first packet should be a CONNECT (16), got 48")
    );
    assert!(take(&mut s).is_empty());
    assert!(b.calls.is_empty());
    // Closed: later input is ignored.
    assert_eq!(s.handle_input(t0, &connect("x", 0), &mut b), Ok(()));
    assert!(b.calls.is_empty());
}

#[test]
fn connect_accepted_and_empty_id_assigned() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder {
        session_present: true,
        ..Default::default()
    };
    s.handle_input(t0, &connect("", 0), &mut b).unwrap();
    assert_eq!(take(&mut s), [0x20, 2, 1, 0]);
    assert_eq!(b.calls, ["connect ASSIGNED will=false"]);
    assert_eq!(s.client_id(), Some("ASSIGNED"));
    // No keep-alive: no timer once connected.
    assert_eq!(s.poll_timeout(), None);
}

/// Go: TestMQTTConnectFailsOnParse — CONNACK 0x01 for protocol level 7, then close.
#[test]
fn connect_parse_error_sends_return_code() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut c = connect("mqtt", 0);
    c[8] = 7;
    let close = s
        .handle_input(t0, &c, &mut Recorder::default())
        .unwrap_err();
    assert_eq!(take(&mut s), [0x20, 2, 0, 1]);
    assert_eq!(
        close.log.as_deref(),
        Some("unacceptable protocol version of 7")
    );
    assert_eq!(close.state, ClosedState::ProtocolViolation);
    assert_eq!(s.will_fate(), WillFate::Discard);
}

#[test]
fn broker_refusal() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let refusal = Refusal {
        hold_until: None,
        connack: Some(ConnAckCode::NotAuthorized),
        close: Close::new(ClosedState::AuthenticationViolation, None),
    };
    let mut b = Recorder {
        refuse: Some(refusal.clone()),
        ..Default::default()
    };
    let stream = [connect("c", 0), vec![0xc0, 0]].concat();
    assert_eq!(s.handle_input(t0, &stream, &mut b), Err(refusal.close));
    // CONNACK 0x05 and nothing for the PINGREQ that followed.
    assert_eq!(take(&mut s), [0x20, 2, 0, 5]);
}

/// Go: mqttProcessPub / mqttProcessPubRel — PUBACK after delivery, PUBREC after storing,
/// PUBCOMP after release; PINGRESP, SUBACK, UNSUBACK; client acks go to the broker.
#[test]
fn protocol_flows() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder {
        suback: vec![1, 0x80],
        ..Default::default()
    };
    s.handle_input(t0, &connect("c", 0), &mut b).unwrap();
    take(&mut s);
    let mut stream = Vec::new();
    stream.extend(publish(Qos::AtMostOnce, 0, b"q0"));
    stream.extend(publish(Qos::AtLeastOnce, 7, b"q1"));
    stream.extend(publish(Qos::ExactlyOnce, 8, b"q2"));
    writer::pub_response(&mut stream, PubResponse::Rel, 8);
    writer::subscribe(
        &mut stream,
        9,
        &[(b"a/+", Qos::AtLeastOnce), (b"a b", Qos::AtMostOnce)],
    )
    .unwrap();
    writer::unsubscribe(&mut stream, 10, &[b"a/+"]).unwrap();
    writer::pub_response(&mut stream, PubResponse::Ack, 11);
    writer::pub_response(&mut stream, PubResponse::Rec, 12);
    writer::pub_response(&mut stream, PubResponse::Comp, 12);
    writer::pingreq(&mut stream);
    // Byte by byte, the same as at once.
    for byte in stream.chunks(1) {
        s.handle_input(t0, byte, &mut b).unwrap();
    }
    assert_eq!(
        take(&mut s),
        [
            &[0x40, 2, 0, 7][..],      // PUBACK 7
            &[0x50, 2, 0, 8],          // PUBREC 8
            &[0x70, 2, 0, 8],          // PUBCOMP 8
            &[0x90, 4, 0, 9, 1, 0x80], // SUBACK 9
            &[0xb0, 2, 0, 10],         // UNSUBACK 10
            &[0xd0, 0],                // PINGRESP
        ]
        .concat()
    );
    assert_eq!(
        b.calls,
        [
            "connect c will=false",
            "publish a.b qos=0 [113, 48]",
            "publish a.b qos=1 [113, 49]",
            "store 8",
            "release 8",
            "subscribe 2",
            "unsubscribe 1",
            "PubAck(11)",
            "PubRec(12)",
            "PubComp(12)",
        ]
    );
}

/// DISCONNECT closes without a log line and discards the will; what follows is ignored.
#[test]
fn disconnect() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder::default();
    let stream = [connect("c", 0), vec![0xe0, 0, 0xc0, 0]].concat();
    let close = s.handle_input(t0, &stream, &mut b).unwrap_err();
    assert_eq!(close, Close::new(ClosedState::ClientClosed, None));
    assert_eq!(take(&mut s), [0x20, 2, 0, 0]);
    assert_eq!(s.will_fate(), WillFate::Discard);
}

/// Go: TestMQTTSecondConnect, and the will after an error once connected.
#[test]
fn error_after_connect_keeps_the_will() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder::default();
    s.handle_input(t0, &connect("c", 0), &mut b).unwrap();
    assert_eq!(s.will_fate(), WillFate::Publish);
    let close = s.handle_input(t0, &connect("c", 0), &mut b).unwrap_err();
    assert_eq!(
        close.log.as_deref(),
        Some("received a second CONNECT packet")
    );
    assert_eq!(s.will_fate(), WillFate::Publish);
}

/// Go: TestMQTTConnKeepAlive — 1.5 × keep-alive after the last input, then closed
/// (a read error in Go), will published.
#[test]
fn keep_alive() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder::default();
    s.handle_input(t0, &connect("c", 10), &mut b).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(15)));
    let t1 = t0 + Duration::from_secs(10);
    s.handle_input(t1, &[0xc0, 0], &mut b).unwrap();
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(15)));
    assert_eq!(s.handle_timeout(t1 + Duration::from_secs(14)), Ok(()));
    let close = s.handle_timeout(t1 + Duration::from_secs(15)).unwrap_err();
    assert_eq!(close, Close::new(ClosedState::ReadError, None));
    assert_eq!(s.will_fate(), WillFate::Publish);
    assert_eq!(s.poll_timeout(), None);
    // keep-alive 1: Go's deadline is 1 s (1.5 s truncated to whole seconds).
    let mut s = MqttSession::new(config(), t0);
    s.handle_input(t0, &connect("c", 1), &mut b).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(1)));
}

/// Go: the auth timer — no CONNECT in time closes with Authentication Timeout; a partial
/// CONNECT does not stop it.
#[test]
fn connect_timeout() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let c = connect("c", 0);
    s.handle_input(
        t0 + Duration::from_secs(1),
        &c[..5],
        &mut Recorder::default(),
    )
    .unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(2)));
    let close = s.handle_timeout(t0 + Duration::from_secs(2)).unwrap_err();
    assert_eq!(close.state, ClosedState::AuthenticationTimeout);
    assert_eq!(s.will_fate(), WillFate::Discard);
}

/// Go: mqttProcessPub's max_payload check on the NATS message a PUBLISH becomes.
#[test]
fn publish_over_max_payload() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(
        SessionConfig {
            max_payload: 100,
            ..config()
        },
        t0,
    );
    let mut b = Recorder::default();
    s.handle_input(t0, &connect("c", 0), &mut b).unwrap();
    // 25 header bytes + 75 = 100 fits; 76 does not.
    s.handle_input(t0, &publish(Qos::AtMostOnce, 0, &[0; 75]), &mut b)
        .unwrap();
    let close = s
        .handle_input(t0, &publish(Qos::AtMostOnce, 0, &[0; 76]), &mut b)
        .unwrap_err();
    assert_eq!(close.state, ClosedState::MaxPayloadExceeded);
    assert_eq!(
        close.log.as_deref(),
        Some("maximum payload exceeded: 101 vs 100")
    );
    // QoS 2 also counts the flags byte and the Nmqtt-Subject header (17 + "a.b").
    let mut s = MqttSession::new(
        SessionConfig {
            max_payload: 100,
            ..config()
        },
        t0,
    );
    s.handle_input(t0, &connect("c", 0), &mut b).unwrap();
    let close = s
        .handle_input(t0, &publish(Qos::ExactlyOnce, 1, &[0; 60]), &mut b)
        .unwrap_err();
    assert_eq!(
        close.log.as_deref(),
        Some("maximum payload exceeded: 105 vs 100")
    );
}

/// A broker error closes the session: no PUBACK, nothing read after it, will kept.
#[test]
fn broker_error_closes() {
    let t0 = Instant::now();
    let mut s = MqttSession::new(config(), t0);
    let mut b = Recorder::default();
    s.handle_input(t0, &connect("c", 5), &mut b).unwrap();
    take(&mut s);
    b.fail_publish = true;
    let stream = [publish(Qos::AtLeastOnce, 1, b"x"), vec![0xc0, 0]].concat();
    let close = s.handle_input(t0, &stream, &mut b).unwrap_err();
    assert_eq!(close.log.as_deref(), Some("refused"));
    assert!(take(&mut s).is_empty());
    assert_eq!(s.will_fate(), WillFate::Publish);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.handle_input(t0, &[0xc0, 0], &mut b), Ok(()));
    assert!(take(&mut s).is_empty());
}

/// MQTT over WebSocket: the session rides the same `Connection` as the NATS protocol.
/// A CONNECT cut across two frames and a PINGREQ are answered in binary frames; a bad
/// packet's CONNACK code goes out before the close frame (Go: `/mqtt` connections).
#[test]
fn carried_by_a_websocket_connection() {
    use crate::codec::Collapsed;
    use crate::conn::{Connection, Limits, Role, Transmit, WebSocket};
    use crate::frame::{Frame, OpCode};
    use crate::policy::{Compression, Framing, MaskPolicy};

    let t0 = Instant::now();
    let ws = || WebSocket {
        role: Role::Server {
            mask: MaskPolicy::Required,
        },
        compression: Compression::Off,
        framing: Framing::Whole,
        max_payload: 0,
    };
    let limits = Limits {
        write_deadline: Duration::from_secs(10),
        linger: Duration::from_secs(2),
    };
    let websocket_config = || SessionConfig {
        reader: ReaderConfig {
            transport: Transport::WebSocket,
            qos2: Qos2Policy::Accept,
        },
        ..config()
    };
    let masked = |p: &[u8]| {
        Frame::new(OpCode::Binary, p)
            .masked(Some([1, 2, 3, 4]))
            .to_vec()
    };
    let transmit = |c: &mut Connection<MqttSession>| {
        let mut out = Collapsed::new();
        let t = c.poll_transmit(t0, &mut Vec::new(), &mut out).unwrap();
        if t == Transmit::Write {
            c.handle_transmitted();
        }
        out.to_vec()
    };
    let mut c = Connection::websocket(MqttSession::new(websocket_config(), t0), ws(), limits);
    let mut b = Recorder::default();
    let packet = [connect("ws", 0), vec![0xc0, 0]].concat();
    let mut input = masked(&packet[..5]);
    input.extend(masked(&packet[5..]));
    c.handle_input(t0, &mut input, &mut b).unwrap();
    assert_eq!(b.calls, ["connect ws will=false"]);
    assert_eq!(
        transmit(&mut c),
        Frame::new(OpCode::Binary, &[0x20, 2, 0, 0, 0xd0, 0]).to_vec()
    );

    let mut c = Connection::websocket(MqttSession::new(websocket_config(), t0), ws(), limits);
    let mut bad = connect("ws", 0);
    bad[8] = 3;
    let close = c.handle_input(t0, &mut masked(&bad), &mut b).unwrap_err();
    assert_eq!(
        close.log.as_deref(),
        Some("unacceptable protocol version of 3")
    );
    let mut want = Frame::new(OpCode::Binary, &[0x20, 2, 0, 1]).to_vec();
    want.extend(
        Frame::new(
            OpCode::Close,
            ClosedState::ProtocolViolation.close_payload().as_bytes(),
        )
        .to_vec(),
    );
    assert_eq!(transmit(&mut c), want);
}

/// Go's `-V` lines (as the 2.15.1 binary writes them for the same packets): each packet
/// in, then what the server wrote for it, payloads cut at `max_traced_msg_len`.
#[test]
fn trace_lines_follow_go() {
    let t0 = Instant::now();
    let mut cfg = config();
    cfg.trace = Trace::On {
        max_payload: 4,
        part: crate::conn::TracedPart::Whole,
    };
    let mut s = MqttSession::new(cfg, t0);
    let mut b = Recorder {
        suback: vec![1],
        ..Default::default()
    };
    let mut input = connect("", 30);
    let mut sub = Vec::new();
    writer::subscribe(&mut sub, 3, &[(b"a/+".as_slice(), Qos::AtLeastOnce)]).unwrap();
    input.extend(sub);
    input.extend(publish(Qos::AtLeastOnce, 9, b"hello"));
    input.extend([0xc0, 0x00, 0xe0, 0x00]);
    let close = s.handle_input(t0, &input, &mut b).unwrap_err();
    assert_eq!(close.state, ClosedState::ClientClosed);
    assert_eq!(
        s.take_traces(),
        [
            "<<- [CONNECT clientID=ASSIGNED keepAlive=45s clean]",
            "->> [CONNACK sp=false rc=0]",
            "<<- [SUBSCRIBE [a/+ (a.*) QoS=1] pi=3]",
            "->> [SUBACK pi=3]",
            "<<- [PUBLISH a/b dup=false QoS=1 retain=false size=5 pi=9]",
            "<<- MSG_PAYLOAD: [\"hell...\"]",
            "->> [PUBACK pi=9]",
            "<<- [PINGREQ]",
            "->> [PINGRESP]",
            "<<- [DISCONNECT]",
        ]
    );
    // Off by default: nothing kept.
    let mut quiet = MqttSession::new(config(), t0);
    quiet.handle_input(t0, &connect("x", 0), &mut b).unwrap();
    assert!(quiet.take_traces().is_empty());
}
