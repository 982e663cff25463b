use super::*;
use crate::mqtt::writer::{self, ConnectSpec, PublishHeader};
use crate::mqtt::{PACKET_CONNACK, Qos, connected_packet_limit};

const TCP: ReaderConfig = ReaderConfig {
    transport: Transport::Tcp,
    qos2: Qos2Policy::Accept,
};
const FRESH: Phase = Phase::AwaitingConnect {
    max_payload: 1024 * 1024,
};
const CONNECTED: Phase = Phase::Connected {
    max_packet: 1024 * 1024,
};

/// Every packet of `input` (fed as `reads`), as debug text, then the error if any.
/// The phase turns to connected after a CONNECT, as the session will.
fn read_all(reads: &[&[u8]], mut phase: Phase) -> (Vec<String>, Option<MqttError>) {
    let mut reader = Reader::new(TCP);
    let mut out = Vec::new();
    for read in reads {
        let mut input = *read;
        loop {
            match reader.next(input, phase) {
                Ok(Step { consumed, packet }) => {
                    input = &input[consumed..];
                    let Some(p) = packet else { break };
                    if matches!(p, Packet::Connect(_)) {
                        phase = CONNECTED;
                    }
                    out.push(format!("{p:?}"));
                }
                Err(e) => return (out, Some(e)),
            }
        }
        assert!(input.is_empty(), "input left over without a packet");
    }
    (out, None)
}

fn first_error(bytes: &[u8], phase: Phase) -> MqttError {
    read_all(&[bytes], phase).1.unwrap()
}

fn connect_packet() -> Vec<u8> {
    let mut out = Vec::new();
    writer::connect(
        &mut out,
        &ConnectSpec {
            client_id: "c1",
            clean: true,
            ..Default::default()
        },
    )
    .unwrap();
    out
}

/// Go: TestMQTTReader — variable ints, and a partial packet kept across reads.
#[test]
fn var_int_and_partial_packets() {
    assert_eq!(read_var_int(&[0x82, 0xff, 0x3]), Ok(Some((0xff82, 3))));
    assert_eq!(
        read_var_int(&[0xff, 0xff, 0xff, 0xff, 0xff]),
        Err(MqttError::MalformedVarInt)
    );
    assert_eq!(read_var_int(&[0xff, 0xff, 0xff]), Ok(None));
    // A PUBLISH announcing 0xff82 bytes, then 3 of them: kept, nothing returned.
    let mut reader = Reader::new(TCP);
    let step = reader
        .next(&[PACKET_PUBLISH, 0x82, 0xff, 0x3], CONNECTED)
        .unwrap();
    assert_eq!((step.consumed, step.packet), (4, None));
    let step = reader.next(b"abc", CONNECTED).unwrap();
    assert_eq!((step.consumed, step.packet), (3, None));
    assert_eq!(
        reader.partial,
        [PACKET_PUBLISH, 0x82, 0xff, 0x3, b'a', b'b', b'c']
    );
}

/// Go: TestMQTTWriter's variable ints read back, for every length boundary.
#[test]
fn var_int_round_trip() {
    for (v, len) in [
        (0, 1),
        (1, 1),
        (127, 1),
        (128, 2),
        (16383, 2),
        (16384, 3),
        (2097151, 3),
        (2097152, 4),
        (268435455, 4),
    ] {
        let mut out = Vec::new();
        writer::var_int(&mut out, v);
        assert_eq!(out.len(), len, "{v}");
        assert_eq!(read_var_int(&out), Ok(Some((v, len))));
    }
}

/// Go: TestMQTTPacketLenMaxPayloadViolation and
/// TestMQTTIncompleteConnectMaxPayloadViolationDisconnects: before CONNECT the whole
/// packet (header included) must fit in max_payload, judged on the announced length,
/// and nothing is buffered.
#[test]
fn max_payload_before_connect() {
    let phase = Phase::AwaitingConnect { max_payload: 1024 };
    let mut bytes = vec![PACKET_CONNECT];
    writer::var_int(&mut bytes, 1024);
    let mut reader = Reader::new(TCP);
    assert_eq!(
        reader.next(&bytes, phase),
        Err(MqttError::MaxPayload {
            size: 1027,
            max: 1024
        })
    );
    assert_eq!(reader.buffered(), 0);
    assert_eq!(
        MqttError::MaxPayload {
            size: 1027,
            max: 1024
        }
        .to_string(),
        "maximum payload exceeded: 1027 vs 1024"
    );
    // 1021 + 3 = 1024 fits.
    let mut bytes = vec![PACKET_CONNECT];
    writer::var_int(&mut bytes, 1021);
    assert_eq!(reader.next(&bytes, phase).unwrap().packet, None);
}

/// The bound: 256 MiB announced allocates nothing; only received bytes are kept.
#[test]
fn huge_announced_length_is_not_allocated() {
    let mut header = vec![PACKET_PUBLISH];
    writer::var_int(&mut header, crate::mqtt::MAX_REMAINING_LENGTH);
    let mut reader = Reader::new(TCP);
    let limit = connected_packet_limit(1024 * 1024);
    let err = reader
        .next(&header, Phase::Connected { max_packet: limit })
        .unwrap_err();
    assert_eq!(
        err,
        MqttError::MaxPayload {
            size: 5 + 0x0FFF_FFFF,
            max: limit
        }
    );
    assert_eq!(reader.buffered(), 0);
    // Within the limit: the buffer holds what arrived, not what was announced.
    let mut reader = Reader::new(TCP);
    let mut header = vec![PACKET_PUBLISH];
    writer::var_int(&mut header, 1024 * 1024);
    let phase = Phase::Connected { max_packet: limit };
    assert_eq!(reader.next(&header, phase).unwrap().packet, None);
    assert!(reader.buffered() < 64, "{}", reader.buffered());
}

/// Go: TestMQTTConnectNotFirstPacket, and the HTTP request on the MQTT port.
#[test]
fn first_packet_must_be_connect() {
    let mut publish = Vec::new();
    writer::publish(
        &mut publish,
        &PublishHeader {
            pi: 0,
            qos: Qos::AtMostOnce,
            dup: false,
            retain: false,
            topic: b"foo",
        },
        b"hello",
    )
    .unwrap();
    let err = first_error(&publish, FRESH);
    assert_eq!(
        err.to_string(),
        "the first packet should be a CONNECT (16), got 48"
    );
    let err = first_error(b"GET /mqtt HTTP/1.1\r\n", FRESH);
    assert_eq!(
        err.to_string(),
        "MQTT clients over websocket must connect to the Websocket port, not the MQTT port"
    );
    // Split anywhere, the same answer.
    assert_eq!(
        read_all(&[b"G", b"E", b"T /"], FRESH).1,
        Some(MqttError::NotWebsocketPort)
    );
    assert_eq!(read_all(&[b"GE"], FRESH), (vec![], None));
    assert_eq!(
        first_error(b"GEX", FRESH),
        MqttError::FirstPacketNotConnect { got: 0x40 }
    );
    // Over WebSocket, GET is just a bad first byte.
    let mut ws = Reader::new(ReaderConfig {
        transport: Transport::WebSocket,
        ..TCP
    });
    assert_eq!(
        ws.next(b"GET ", FRESH),
        Err(MqttError::FirstPacketNotConnect { got: 0x40 })
    );
}

/// Go: TestMQTTSecondConnect.
#[test]
fn second_connect() {
    let c = connect_packet();
    let (packets, err) = read_all(&[&[&c[..], &c[..]].concat()], FRESH);
    assert_eq!(packets.len(), 1);
    assert_eq!(err.unwrap().to_string(), "received a second CONNECT packet");
}

/// Go: TestMQTTMalformedFixedHeaderFlagsCauseDisconnect.
#[test]
fn malformed_fixed_header_flags() {
    let mut c = connect_packet();
    c[0] |= 1;
    assert_eq!(
        first_error(&c, FRESH).to_string(),
        "invalid fixed header flags 1 for packet type 10"
    );
    for (bytes, text) in [
        (
            &[PACKET_PINGREQ | 1, 0][..],
            "invalid fixed header flags 1 for packet type c0",
        ),
        (
            &[PACKET_PUBACK | 1, 2, 0, 1],
            "invalid fixed header flags 1 for packet type 40",
        ),
        (
            &[PACKET_PUBREC | 1, 2, 0, 1],
            "invalid fixed header flags 1 for packet type 50",
        ),
        (
            &[PACKET_PUBREL | 1, 2, 0, 1],
            "invalid fixed header flags 1 for packet type 60",
        ),
        (
            &[PACKET_PUBCOMP | 1, 2, 0, 1],
            "invalid fixed header flags 1 for packet type 70",
        ),
        // Go: TestMQTTParseSub/TestMQTTParseUnsub "reserved flag", caught here first.
        (
            &[PACKET_SUBSCRIBE | 3, 0],
            "invalid fixed header flags 3 for packet type 80",
        ),
        (
            &[PACKET_UNSUBSCRIBE | 3, 0],
            "invalid fixed header flags 3 for packet type a0",
        ),
        (
            &[PACKET_DISCONNECT | 2, 0],
            "invalid fixed header flags 2 for packet type e0",
        ),
    ] {
        assert_eq!(first_error(bytes, CONNECTED).to_string(), text);
    }
}

/// Go: TestMQTTMalformedRemainingLengthCausesDisconnect.
#[test]
fn malformed_remaining_length() {
    for (bytes, text) in [
        (
            &[PACKET_PINGREQ, 1, 0][..],
            "invalid remaining length 1 for packet type c0",
        ),
        (
            &[PACKET_PUBACK, 3, 0, 1, 0],
            "invalid remaining length 3 for packet type 40",
        ),
        (
            &[PACKET_PUBREC, 3, 0, 1, 0],
            "invalid remaining length 3 for packet type 50",
        ),
        (
            &[PACKET_PUBREL | 2, 3, 0, 1, 0],
            "invalid remaining length 3 for packet type 60",
        ),
        (
            &[PACKET_PUBCOMP, 3, 0, 1, 0],
            "invalid remaining length 3 for packet type 70",
        ),
        (
            &[PACKET_DISCONNECT, 1],
            "invalid remaining length 1 for packet type e0",
        ),
    ] {
        assert_eq!(first_error(bytes, CONNECTED).to_string(), text);
    }
    // A PUBLISH whose remaining length covers only the topic length: the topic is read
    // within the packet (Go reads on into the following bytes when they are buffered).
    let mut bytes = vec![PACKET_PUBLISH, 2, 0, 64];
    bytes.extend_from_slice(&[b'a'; 64]);
    assert_eq!(
        first_error(&bytes, CONNECTED).to_string(),
        "error reading topic: unexpected EOF"
    );
}

#[test]
fn unknown_packet_types() {
    for (first, n) in [
        (0x00, 0),
        (0xf0, 15),
        (PACKET_CONNACK, 2),
        (0x90, 9),
        (0xb0, 11),
        (0xd0, 13),
    ] {
        assert_eq!(
            first_error(&[first, 0], CONNECTED),
            MqttError::UnknownPacketType(n)
        );
    }
    // Judged once the length is known, without waiting for the body.
    assert_eq!(
        first_error(&[0xf0, 0x80, 0x80, 0x01], CONNECTED).to_string(),
        "received unknown packet type 15"
    );
    // The length's own errors come first.
    assert_eq!(
        first_error(&[0xf0, 0xff, 0xff, 0xff, 0xff], CONNECTED),
        MqttError::MalformedVarInt
    );
}

/// A stream of every client packet, read whole and one byte at a time.
#[test]
fn split_invariant_stream() {
    let mut stream = connect_packet();
    writer::publish(
        &mut stream,
        &PublishHeader {
            pi: 5,
            qos: Qos::ExactlyOnce,
            dup: true,
            retain: true,
            topic: b"a/b",
        },
        &[7; 300],
    )
    .unwrap();
    writer::subscribe(
        &mut stream,
        6,
        &[(b"a/#", Qos::AtLeastOnce), (b"+", Qos::AtMostOnce)],
    )
    .unwrap();
    writer::unsubscribe(&mut stream, 7, &[b"a/#"]).unwrap();
    for kind in [
        writer::PubResponse::Ack,
        writer::PubResponse::Rec,
        writer::PubResponse::Rel,
        writer::PubResponse::Comp,
    ] {
        writer::pub_response(&mut stream, kind, 9);
    }
    writer::pingreq(&mut stream);
    writer::disconnect(&mut stream);
    let whole = read_all(&[&stream], FRESH);
    assert_eq!(whole.1, None);
    assert_eq!(whole.0.len(), 10);
    assert!(whole.0[1].contains("payload: [7, 7"), "{}", whole.0[1]);
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(read_all(&bytes, FRESH), whole);
    let sevens: Vec<&[u8]> = stream.chunks(7).collect();
    assert_eq!(read_all(&sevens, FRESH), whole);
}

#[test]
fn large_buffer_released_after_packet() {
    let mut stream = Vec::new();
    let payload = vec![1; 200 * 1024];
    writer::publish(
        &mut stream,
        &PublishHeader {
            pi: 0,
            qos: Qos::AtMostOnce,
            dup: false,
            retain: false,
            topic: b"t",
        },
        &payload,
    )
    .unwrap();
    writer::pingreq(&mut stream);
    let mut reader = Reader::new(TCP);
    let (a, b) = stream.split_at(10);
    assert_eq!(reader.next(a, CONNECTED).unwrap().consumed, 10);
    let step = reader.next(b, CONNECTED).unwrap();
    assert!(
        matches!(step.packet, Some(Packet::Publish(ref p)) if p.payload.len() == payload.len())
    );
    let consumed = step.consumed;
    let step = reader.next(&b[consumed..], CONNECTED).unwrap();
    assert_eq!(step.packet, Some(Packet::PingReq));
    assert_eq!(reader.buffered(), 0);
}

/// Go reads on from where a CONNECT's fields end: a PINGREQ inside its remaining length
/// is answered (checked against nats-server 2.15.1: CONNACK, then PINGRESP), however the
/// bytes are split.
#[test]
fn bytes_after_connect_fields_are_the_next_packet() {
    let mut c = connect_packet();
    c[1] += 2;
    c.extend_from_slice(&[PACKET_PINGREQ, 0]);
    writer::pingreq(&mut c);
    let whole = read_all(&[&c], FRESH);
    assert_eq!(whole.1, None);
    assert_eq!(whole.0.len(), 3);
    assert_eq!(whole.0[1], "PingReq");
    let bytes: Vec<&[u8]> = c.chunks(1).collect();
    assert_eq!(read_all(&bytes, FRESH), whole);
    let (a, b) = c.split_at(c.len() - 3);
    assert_eq!(read_all(&[a, b], FRESH), whole);
    // A trailing byte that starts no valid packet is judged as one.
    let mut c = connect_packet();
    c[1] += 1;
    c.push(0xf0);
    assert_eq!(read_all(&[&c], FRESH).1, None);
    c.push(0);
    assert_eq!(
        read_all(&[&c], FRESH).1,
        Some(MqttError::UnknownPacketType(15))
    );
}
