use super::*;
use crate::mqtt::SUBACK_FAILURE;

/// Go: TestMQTTWriter — uint16, length-prefixed strings and bytes.
#[test]
fn writer_primitives() {
    let mut out = Vec::new();
    uint16(&mut out, 1234);
    assert_eq!(out, [0x04, 0xd2]);
    out.clear();
    bytes(&mut out, b"test").unwrap();
    assert_eq!(out, b"\x00\x04test");
    assert_eq!(
        bytes(&mut out, &vec![0; 65536]),
        Err(WriteError::FieldTooLong(65536))
    );
}

/// Go: mqttEnqueueConnAck — session present only with rc 0 ([MQTT-3.2.2-4]).
#[test]
fn connack_bytes() {
    let mut out = Vec::new();
    connack(&mut out, ConnAckCode::Accepted, true);
    connack(&mut out, ConnAckCode::Accepted, false);
    connack(&mut out, ConnAckCode::BadUserOrPassword, true);
    connack(&mut out, ConnAckCode::Qos2WillRejected, false);
    assert_eq!(
        out,
        [
            0x20, 2, 1, 0, 0x20, 2, 0, 0, 0x20, 2, 0, 4, 0x20, 2, 0, 0x10
        ]
    );
}

/// Go: WritePublishHeader / mqttMakePublishHeader.
#[test]
fn publish_bytes() {
    let h = |qos, dup, retain| PublishHeader {
        pi: 0x0102,
        qos,
        dup,
        retain,
        topic: b"a/b",
    };
    let mut out = Vec::new();
    assert_eq!(
        publish(&mut out, &h(Qos::AtMostOnce, false, false), b"hi"),
        Ok(0)
    );
    assert_eq!(out, b"\x30\x07\x00\x03a/bhi");
    out.clear();
    assert_eq!(
        publish(&mut out, &h(Qos::AtLeastOnce, true, true), b"hi"),
        Ok(0x0b)
    );
    assert_eq!(out, b"\x3b\x09\x00\x03a/b\x01\x02hi");
    out.clear();
    assert_eq!(
        publish_header(&mut out, &h(Qos::ExactlyOnce, false, true), 200),
        Ok(0x05)
    );
    assert_eq!(out, b"\x35\xcf\x01\x00\x03a/b\x01\x02");
    let long = vec![b'a'; 65536];
    let bad = PublishHeader {
        topic: &long,
        ..h(Qos::AtMostOnce, false, false)
    };
    assert_eq!(
        publish_header(&mut Vec::new(), &bad, 0),
        Err(WriteError::FieldTooLong(65536))
    );
    let huge = h(Qos::AtMostOnce, false, false);
    assert_eq!(
        publish_header(&mut Vec::new(), &huge, 0x0FFF_FFFF),
        Err(WriteError::PacketTooLong(0x0FFF_FFFF + 5))
    );
}

/// Go: mqttEnqueuePubResponse (PUBREL carries flags 0x2), mqttEnqueueSubAck,
/// mqttEnqueueUnsubAck, mqttPingResponse.
#[test]
fn acknowledgement_bytes() {
    let mut out = Vec::new();
    pub_response(&mut out, PubResponse::Ack, 0x0a0b);
    pub_response(&mut out, PubResponse::Rec, 1);
    pub_response(&mut out, PubResponse::Rel, 1);
    pub_response(&mut out, PubResponse::Comp, 1);
    assert_eq!(
        out,
        [
            0x40, 2, 0x0a, 0x0b, 0x50, 2, 0, 1, 0x62, 2, 0, 1, 0x70, 2, 0, 1
        ]
    );
    out.clear();
    suback(&mut out, 3, &[0, 1, 2, SUBACK_FAILURE]).unwrap();
    assert_eq!(out, [0x90, 6, 0, 3, 0, 1, 2, 0x80]);
    out.clear();
    unsuback(&mut out, 0xffff);
    pingresp(&mut out);
    assert_eq!(out, [0xb0, 2, 0xff, 0xff, 0xd0, 0]);
}

/// The client side, as Go's tests write it (mqttCreateConnectProto).
#[test]
fn client_packets() {
    let mut out = Vec::new();
    let spec = ConnectSpec {
        client_id: "me",
        clean: true,
        keep_alive: 10,
        will: Some((b"w", b"bye", Qos::AtLeastOnce, true)),
        username: Some("u"),
        password: Some(b"p"),
    };
    connect(&mut out, &spec).unwrap();
    assert_eq!(
        out,
        b"\x10\x1c\x00\x04MQTT\x04\xee\x00\x0a\x00\x02me\x00\x01w\x00\x03bye\x00\x01u\x00\x01p"
    );
    out.clear();
    subscribe(&mut out, 1, &[(b"a", Qos::ExactlyOnce)]).unwrap();
    unsubscribe(&mut out, 1, &[b"a"]).unwrap();
    pingreq(&mut out);
    disconnect(&mut out);
    assert_eq!(
        out,
        b"\x82\x06\x00\x01\x00\x01a\x02\xa2\x05\x00\x01\x00\x01a\xc0\x00\xe0\x00"
    );
}
