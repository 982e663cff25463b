use super::*;

/// Go: TestMQTTNatsHeaderFlags.
#[test]
fn header_flags() {
    for flags in 0..=PUB_FLAGS {
        let enc = encode_flags(flags);
        assert!(
            enc.is_ascii_digit() || (b'a'..=b'f').contains(&enc),
            "{flags:x}"
        );
        assert_eq!(decode_flags(&[b'0', enc]), flags);
    }
    // Bits above the nibble are not encoded.
    assert_eq!(encode_flags(0xf0 | PUB_FLAG_RETAIN), b'1');
    for (flags, enc) in [
        (0, b'0'),
        (PUB_FLAG_RETAIN, b'1'),
        (4 | PUB_FLAG_RETAIN, b'5'),
        (PUB_FLAGS, b'f'),
    ] {
        assert_eq!(encode_flags(flags), enc);
    }
    // An older sender's value has no flags byte: no flags, never a panic.
    for value in [&b""[..], b"2"] {
        assert_eq!(decode_flags(value), 0);
    }
}

/// Go: mqttNewDeliverableMessage and mqttComputeNatsMsgSize agree; the layouts of the
/// header contract comment. A NATS subscriber of nats-server 2.15.1 receives exactly
/// `NATS/1.0\r\nNmqtt-Pub:<qos>\r\n\r\n<payload>` for MQTT QoS 0, 1 (retained too) and a
/// released QoS 2 publish (checked over loopback).
#[test]
fn messages() {
    let mut out = Vec::new();
    let hl = write_message(&mut out, 0x02, Encoding::Delivery, b"hi");
    assert_eq!(out, b"NATS/1.0\r\nNmqtt-Pub:1\r\n\r\nhi");
    assert_eq!(hl, out.len() - 2);
    assert_eq!(message_size(Encoding::Delivery, 2), out.len());
    out.clear();
    let staged = Encoding::Staged {
        subject: b"foo.bar",
        mapped: None,
    };
    let hl = write_message(&mut out, 0x05, staged, b"x");
    assert_eq!(
        out,
        b"NATS/1.0\r\nNmqtt-Pub:25\r\nNmqtt-Subject:foo.bar\r\n\r\nx"
    );
    assert_eq!((hl, message_size(staged, 1)), (out.len() - 1, out.len()));
    out.clear();
    let mapped = Encoding::Staged {
        subject: b"a",
        mapped: Some(b"b.c"),
    };
    write_message(&mut out, 0x04, mapped, b"");
    assert_eq!(
        out,
        b"NATS/1.0\r\nNmqtt-Pub:24\r\nNmqtt-Subject:a\r\nNmqtt-Mapped:b.c\r\n\r\n"
    );
    assert_eq!(message_size(mapped, 0), out.len());
    out.clear();
    assert_eq!(write_pubrel(&mut out, 123), out.len());
    assert_eq!(out, b"NATS/1.0\r\nNmqtt-PubRel:123\r\n\r\n");
}

/// Go: mqttParsePublishNATSHeader / mqttParsePubRelNATSHeader over getHeader.
#[test]
fn parse_headers() {
    let h = b"NATS/1.0\r\nNmqtt-Pub:25\r\nNmqtt-Subject: foo.bar\r\nNmqtt-Mapped:\r\n\r\n";
    let o = parse_origin(h).unwrap();
    assert_eq!(
        (o.qos(), o.retained, o.subject, o.mapped),
        (Some(Qos::ExactlyOnce), true, Some(&b"foo.bar"[..]), None)
    );
    assert_eq!(parse_origin(b"NATS/1.0\r\nX:1\r\n\r\n"), None);
    assert_eq!(parse_origin(b"NATS/1.0\r\nNmqtt-Pub:\r\n\r\n"), None);
    assert_eq!(parse_origin(b""), None);
    // A key inside another key or value does not count.
    assert_eq!(
        header_value("Pub", b"NATS/1.0\r\nNmqtt-Pub:1\r\n\r\n"),
        None
    );
    assert_eq!(
        header_value("B", b"NATS/1.0\r\nA:B:\r\nB:2\r\n\r\n"),
        Some(&b"2"[..])
    );
    assert_eq!(parse_pubrel(b"NATS/1.0\r\nNmqtt-PubRel:123\r\n\r\n"), 123);
    assert_eq!(parse_pubrel(b"NATS/1.0\r\nNmqtt-PubRel:+5\r\n\r\n"), 0);
    assert_eq!(parse_pubrel(b"NATS/1.0\r\nNmqtt-PubRel:70000\r\n\r\n"), 0);
    assert_eq!(parse_pubrel(b"NATS/1.0\r\n\r\n"), 0);
}
