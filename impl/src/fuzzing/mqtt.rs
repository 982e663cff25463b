//! The MQTT packet reader target: a client's byte stream, read whole and in arbitrary
//! pieces, with each packet re-encoded by the writer and read back.

use super::{segments, split_input};
use std::time::{Duration, Instant};

use crate::conn::{Close, HandleInput, Session};
use crate::mqtt::outbound::OutboundConfig;
use crate::mqtt::packet::{Connect, Filter, Publish, SessionKind};
use crate::mqtt::session::{Broker, ClientAck, MqttSession, Refusal, SessionConfig};
use crate::mqtt::sessions::{SessionManager, StateConfig};
use crate::mqtt::writer::{self, ConnectSpec, PubResponse, PublishHeader};
use crate::mqtt::{
    MqttError, Packet, Phase, Qos2Policy, Reader, ReaderConfig, Step, Transport,
    connected_packet_limit,
};

/// What a run produced: each packet's debug form (which owns nothing) and the error.
type Outcome = (Vec<String>, Option<MqttError>);

/// Reads `reads` as one connection would: the phase turns to connected after CONNECT,
/// reading stops at the first error or after DISCONNECT (Go closes there).
fn run(reads: &[&[u8]], config: ReaderConfig, max_payload: usize) -> Outcome {
    let mut reader = Reader::new(config);
    let mut phase = Phase::AwaitingConnect { max_payload };
    let limit = connected_packet_limit(max_payload);
    let mut packets = Vec::new();
    let mut received = 0usize;
    for read in reads {
        let mut input = *read;
        received += input.len();
        // Every call but the last returns a packet of at least two bytes, from the
        // input or from bytes held (a CONNECT's trailing bytes).
        for _ in 0..=(read.len() + reader.buffered()) {
            let result = reader.next(input, phase);
            let Step { consumed, packet } = match result {
                Ok(step) => step,
                Err(e) => return (packets, Some(e)),
            };
            assert!(consumed <= input.len(), "consumed more than the input");
            let Some(packet) = packet else {
                assert_eq!(consumed, input.len(), "stopped before the end of the input");
                input = &[];
                break;
            };
            round_trip(&packet, config);
            let done = matches!(packet, Packet::Disconnect);
            if matches!(packet, Packet::Connect(_)) {
                phase = Phase::Connected { max_packet: limit };
            }
            packets.push(format!("{packet:?}"));
            input = &input[consumed..];
            if done {
                return (packets, None);
            }
        }
        assert!(input.is_empty(), "a read was not used up");
        // Memory: only bytes received are kept, never more than one packet's limit
        // (doubled by vector growth).
        let held = received.min(limit.max(max_payload));
        assert!(
            reader.buffered() <= (2 * held).max(8),
            "{} bytes buffered after {received} received",
            reader.buffered()
        );
    }
    (packets, None)
}

/// The writer's encoding of `packet`, read back, is the same packet (an independent
/// judge of the parser: the writer shares no code with it).
fn round_trip(packet: &Packet<'_>, config: ReaderConfig) {
    let mut out = Vec::new();
    let connected = Phase::Connected {
        max_packet: usize::MAX,
    };
    let mut phase = connected;
    let written = match packet {
        Packet::Connect(c) => {
            let spec = ConnectSpec {
                client_id: c.client_id,
                clean: c.session == SessionKind::Clean,
                keep_alive: c.keep_alive,
                will: c
                    .will
                    .as_ref()
                    .map(|w| (w.topic, w.message, w.qos, w.retain)),
                username: c.username,
                password: c.password,
            };
            phase = Phase::AwaitingConnect {
                max_payload: usize::MAX,
            };
            writer::connect(&mut out, &spec)
        }
        Packet::Publish(p) => {
            let h = PublishHeader {
                pi: p.pi,
                qos: p.qos,
                dup: p.dup(),
                retain: p.retain(),
                topic: p.topic,
            };
            writer::publish(&mut out, &h, p.payload).map(|_| ())
        }
        Packet::PubAck(pi) => {
            writer::pub_response(&mut out, PubResponse::Ack, *pi);
            Ok(())
        }
        Packet::PubRec(pi) => {
            writer::pub_response(&mut out, PubResponse::Rec, *pi);
            Ok(())
        }
        Packet::PubRel(pi) => {
            writer::pub_response(&mut out, PubResponse::Rel, *pi);
            Ok(())
        }
        Packet::PubComp(pi) => {
            writer::pub_response(&mut out, PubResponse::Comp, *pi);
            Ok(())
        }
        Packet::Subscribe { pi, filters } => {
            let f: Vec<_> = filters.iter().map(|f| (f.topic, f.qos)).collect();
            writer::subscribe(&mut out, *pi, &f)
        }
        Packet::Unsubscribe { pi, filters } => {
            let f: Vec<_> = filters.iter().map(|f| f.topic).collect();
            writer::unsubscribe(&mut out, *pi, &f)
        }
        Packet::PingReq => {
            writer::pingreq(&mut out);
            Ok(())
        }
        Packet::Disconnect => {
            writer::disconnect(&mut out);
            Ok(())
        }
    };
    assert_eq!(written, Ok(()), "a parsed packet must be writable");
    let mut reader = Reader::new(config);
    let step = reader.next(&out, phase);
    assert_eq!(
        step,
        Ok(Step {
            consumed: out.len(),
            packet: Some(packet.clone()),
        }),
        "written as {out:02x?}"
    );
}

/// A broker that accepts everything and records what it was asked, in order.
#[derive(Debug, Default)]
struct Recorder(Vec<String>);

impl Broker for Recorder {
    fn connect(&mut self, c: &Connect<'_>, client_id: &str) -> Result<bool, Refusal> {
        self.0.push(format!("connect {client_id} {c:?}"));
        Ok(c.session == SessionKind::Persistent)
    }
    fn publish(&mut self, p: &Publish<'_>) -> Result<(), Close> {
        self.0.push(format!("publish {p:?}"));
        Ok(())
    }
    fn store_qos2(&mut self, p: &Publish<'_>) -> Result<(), Close> {
        self.0.push(format!("store {p:?}"));
        Ok(())
    }
    fn release_qos2(&mut self, pi: u16) -> Result<(), Close> {
        self.0.push(format!("release {pi}"));
        Ok(())
    }
    fn subscribe(&mut self, filters: &[Filter<'_>]) -> Result<Vec<u8>, Close> {
        self.0.push(format!("subscribe {filters:?}"));
        Ok(filters.iter().map(|f| f.qos.level()).collect())
    }
    fn unsubscribe(&mut self, filters: &[Filter<'_>]) -> Result<(), Close> {
        self.0.push(format!("unsubscribe {filters:?}"));
        Ok(())
    }
    fn client_ack(&mut self, ack: ClientAck) -> Result<(), Close> {
        self.0.push(format!("{ack:?}"));
        Ok(())
    }
}

/// What a session wrote, asked its broker, and how it closed, for `reads`.
fn session_run(
    reads: &[&[u8]],
    config: ReaderConfig,
    max_payload: usize,
) -> (Vec<u8>, Vec<String>, Option<Close>) {
    let now = Instant::now();
    let mut session = MqttSession::new(
        SessionConfig {
            reader: config,
            max_payload,
            connect_timeout: None,
            assigned_client_id: "assigned".into(),
            trace: crate::conn::Trace::On {
                max_payload: 16,
                part: crate::conn::TracedPart::Whole,
            },
        },
        now,
    );
    let mut broker = Recorder::default();
    let mut output = Vec::new();
    for read in reads {
        let result = session.handle_input(now, read, &mut broker);
        output.append(session.output());
        if let Err(close) = result {
            return (output, broker.0, Some(close));
        }
    }
    (output, broker.0, None)
}

/// Bounds small enough for a fuzz input to reach them.
fn small_state() -> SessionManager {
    SessionManager::new(StateConfig {
        outbound: OutboundConfig {
            ack_wait: Duration::from_secs(1),
            max_ack_pending: 2,
            max_queued: 4,
            max_queued_bytes: 64,
        },
        max_retained: 4,
        max_qos2_pending: 4,
        ..Default::default()
    })
}

/// The session over the in-memory state (connection 1): everything the connection was
/// written (its own answers, then what the state had for it after its close and an
/// hour of redeliveries), and how it closed.
fn state_run(
    reads: &[&[u8]],
    config: ReaderConfig,
    max_payload: usize,
) -> (Vec<u8>, Option<Close>) {
    let now = Instant::now();
    let mut session = MqttSession::new(
        SessionConfig {
            reader: config,
            max_payload,
            connect_timeout: None,
            assigned_client_id: "assigned".into(),
            trace: crate::conn::Trace::On {
                max_payload: 16,
                part: crate::conn::TracedPart::Whole,
            },
        },
        now,
    );
    let mut state = small_state();
    let mut output = Vec::new();
    let mut closed = None;
    for read in reads {
        let result = session.handle_input(now, read, &mut state.broker(1, now));
        // Tracing is on: every line is one of Go's `<<- [OP ...]` / `->> [OP ...]`, or a
        // PUBLISH's `<<- MSG_PAYLOAD: [...]`.
        for line in session.take_traces() {
            let op = line.starts_with("<<- [") || line.starts_with("->> [");
            let payload = line.starts_with("<<- MSG_PAYLOAD: [");
            assert!(
                (op || payload) && line.ends_with(']'),
                "trace line {line:?}"
            );
        }
        output.append(session.output());
        check_state(&state);
        if let Err(close) = result {
            closed = Some(close);
            break;
        }
    }
    let later = now + Duration::from_secs(3600);
    state.handle_timeout(later);
    for (conn, bytes) in state.take_writes() {
        assert_eq!(conn, 1, "only one connection");
        output.extend_from_slice(&bytes);
    }
    state.disconnect(1, session.will_fate(), later);
    check_state(&state);
    (output, closed)
}

/// The state's bounds hold.
fn check_state(state: &SessionManager) {
    assert!(state.index_consistent(), "filter index out of step");
    for id in ["assigned", ""] {
        if let Some(v) = state.session_state(id) {
            assert!(v.in_flight <= usize::from(u16::MAX));
            assert!(v.queued <= 4, "{v:?}");
            assert!(v.qos2_pending <= 4, "{v:?}");
        }
    }
    assert!(state.retained().len() <= 4);
}

/// `[options][n][n read sizes][MQTT client bytes]`. Options: bit 0 WebSocket, bit 1
/// `reject_qos2_publish`, bits 2-3 `max_payload` (1 MiB, 64, 16, 0).
/// Oracles: no panic; packets and error are the same for any split of the bytes as for
/// one read; each packet survives writer → reader; memory stays within the limits; a
/// session fed the same reads writes the same bytes (whole packets a client decodes),
/// asks its broker the same things and closes the same way; over the in-memory state
/// too (its deliveries to the client itself, retained messages, redeliveries), with the
/// state's bounds kept.
pub fn mqtt_packet(data: &[u8]) {
    let (options, sizes, stream) = split_input(data);
    let config = ReaderConfig {
        transport: if options & 1 == 0 {
            Transport::Tcp
        } else {
            Transport::WebSocket
        },
        qos2: if options & 2 == 0 {
            Qos2Policy::Accept
        } else {
            Qos2Policy::Reject
        },
    };
    let max_payload = match (options >> 2) & 3 {
        0 => 1024 * 1024,
        1 => 64,
        2 => 16,
        _ => 0,
    };
    let whole = run(&[stream], config, max_payload);
    let split = run(&segments(stream, sizes), config, max_payload);
    assert_eq!(split, whole, "parse depends on how the bytes were split");
    let (a, b) = stream.split_at(stream.len() / 2);
    assert_eq!(run(&[a, b], config, max_payload), whole, "halves");
    let session_whole = session_run(&[stream], config, max_payload);
    // The session writes only whole, well-formed packets.
    let mut written = session_whole.0.as_slice();
    while !written.is_empty() {
        match crate::mqtt::client::decode(written) {
            Ok(Some((_, len))) => written = &written[len..],
            other => panic!("the session wrote {:02x?}: {other:?}", session_whole.0),
        }
    }
    let session_split = session_run(&segments(stream, sizes), config, max_payload);
    assert_eq!(
        session_split, session_whole,
        "the session depends on the split"
    );
    let state_whole = state_run(&[stream], config, max_payload);
    let mut written = state_whole.0.as_slice();
    while !written.is_empty() {
        match crate::mqtt::client::decode(written) {
            Ok(Some((_, len))) => written = &written[len..],
            other => panic!("the state wrote {:02x?}: {other:?}", state_whole.0),
        }
    }
    let state_split = state_run(&segments(stream, sizes), config, max_payload);
    assert_eq!(state_split, state_whole, "the state depends on the split");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle sees packets and errors (it is not vacuous on the seeds' shapes).
    #[test]
    fn run_reads_a_session_and_stops_at_errors() {
        let tcp = ReaderConfig {
            transport: Transport::Tcp,
            qos2: Qos2Policy::Accept,
        };
        let mut stream = Vec::new();
        let spec = ConnectSpec {
            client_id: "c",
            clean: true,
            ..Default::default()
        };
        writer::connect(&mut stream, &spec).unwrap_or_default();
        writer::pingreq(&mut stream);
        let (packets, err) = run(&[&stream], tcp, 1024);
        assert_eq!((packets.len(), err), (2, None));
        stream.extend_from_slice(b"\x30\xff\xff\xff\x7f");
        let (packets, err) = run(&[&stream[..3], &stream[3..]], tcp, 1024);
        assert_eq!(packets.len(), 2);
        assert!(matches!(err, Some(MqttError::MaxPayload { .. })), "{err:?}");
        mqtt_packet(&[[0u8, 2, 1, 5].as_slice(), &stream].concat());
    }

    /// Over the state, a client subscribed to `#` gets its retained message on subscribe
    /// and its own QoS 1 messages as slots allow.
    #[test]
    fn state_run_delivers_to_the_client_itself() {
        let tcp = ReaderConfig {
            transport: Transport::Tcp,
            qos2: Qos2Policy::Accept,
        };
        let mut stream = Vec::new();
        let spec = ConnectSpec {
            client_id: "c",
            clean: true,
            ..Default::default()
        };
        writer::connect(&mut stream, &spec).unwrap_or_default();
        let h = PublishHeader {
            pi: 1,
            qos: crate::mqtt::Qos::AtLeastOnce,
            dup: false,
            retain: true,
            topic: b"a",
        };
        writer::publish(&mut stream, &h, b"kept").unwrap_or_default();
        writer::subscribe(&mut stream, 2, &[(b"#", crate::mqtt::Qos::AtLeastOnce)])
            .unwrap_or_default();
        for _ in 0..3 {
            writer::publish(&mut stream, &PublishHeader { retain: false, ..h }, b"live")
                .unwrap_or_default();
        }
        let (out, close) = state_run(&[&stream], tcp, 1024);
        assert_eq!(close, None);
        let packets = crate::mqtt::client::decode_all(&out).unwrap_or_default();
        let publishes = packets
            .iter()
            .filter(|p| matches!(p, crate::mqtt::client::ServerPacket::Publish { .. }))
            .count();
        // CONNACK, PUBACK, SUBACK, the retained one (pi 1, a slot as in Go), one live
        // one (pi 2, the other slot; the rest queue), PUBACKs; an hour later only the
        // live one is sent again (retained ones never are).
        assert_eq!(publishes, 1 + 1 + 1, "{packets:?}");
        mqtt_packet(&[[0u8, 2, 3, 7].as_slice(), &stream].concat());
    }
}
