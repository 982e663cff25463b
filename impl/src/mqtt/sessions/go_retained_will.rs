//! Go's retained-message and will tests, driven through MqttSession in memory.

use super::tests::{Net, ack, disconnect, publish, spec, subscribe};
use super::*;
use crate::mqtt::Qos2Policy;
use crate::mqtt::writer::PubResponse;

/// Go: TestMQTTPublishRetain / TestMQTTRetainedMsgCleanup — a retained message reaches
/// later subscribers with RETAIN at the lower QoS; live deliveries carry no RETAIN; an
/// empty retained payload deletes it.
#[test]
fn retained_messages() {
    let mut net = Net::new(StateConfig::default());
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("foo/bar", Qos::AtLeastOnce, 1, true, "kept"));
    let (s1, _) = net.connect(&spec("s1", true));
    let got = net.send(s1, &subscribe(1, &[("foo/+", Qos::AtMostOnce)]));
    assert_eq!(
        got,
        [
            "SubAck { pi: 1, codes: [0] }",
            "PUBLISH foo/bar q0 pi=0 kept retain"
        ]
    );
    let (s2, _) = net.connect(&spec("s2", true));
    let got = net.send(s2, &subscribe(1, &[("foo/#", Qos::ExactlyOnce)]));
    assert_eq!(
        got,
        [
            "SubAck { pi: 1, codes: [2] }",
            "PUBLISH foo/bar q1 pi=1 kept retain"
        ]
    );
    // A new retained message goes live without RETAIN.
    net.send(p, &publish("foo/bar", Qos::AtMostOnce, 0, true, "new"));
    assert_eq!(net.take(s1), ["PUBLISH foo/bar q0 pi=0 new"]);
    assert_eq!(
        net.state.retained().get(b"foo.bar").unwrap().payload,
        b"new"
    );
    // Empty payload: deleted (and delivered live, as Go).
    net.send(p, &publish("foo/bar", Qos::AtMostOnce, 0, true, ""));
    assert!(net.state.retained().is_empty());
    let (s3, _) = net.connect(&spec("s3", true));
    assert_eq!(
        net.send(s3, &subscribe(1, &[("foo/#", Qos::AtLeastOnce)])),
        ["SubAck { pi: 1, codes: [1] }"]
    );
}

/// Go: TestMQTTWill / TestMQTTWillRetain — the will is published when the connection
/// ends without DISCONNECT, with its QoS and RETAIN; not after DISCONNECT.
#[test]
fn will_on_abnormal_close_only() {
    let mut net = Net::new(StateConfig::default());
    let (sub, _) = net.connect(&spec("sub", true));
    net.send(sub, &subscribe(1, &[("will/topic", Qos::AtLeastOnce)]));
    let mut with_will = spec("w", true);
    with_will.will = Some((b"will/topic", b"bye", Qos::AtLeastOnce, true));
    let (w, _) = net.connect(&with_will);
    net.send(w, &disconnect());
    assert!(net.take(sub).is_empty(), "DISCONNECT discards the will");

    let (w, _) = net.connect(&with_will);
    net.drop_conn(w);
    assert_eq!(net.take(sub), ["PUBLISH will/topic q1 pi=1 bye"]);
    assert_eq!(
        net.nats_events(),
        ["will.topic \"NATS/1.0\\r\\nNmqtt-Pub:1\\r\\n\\r\\n\" bye"]
    );
    // Retained: a later subscriber gets it with RETAIN.
    let (late, _) = net.connect(&spec("late", true));
    assert_eq!(
        net.send(late, &subscribe(1, &[("will/#", Qos::AtMostOnce)])),
        [
            "SubAck { pi: 1, codes: [0] }",
            "PUBLISH will/topic q0 pi=0 bye retain"
        ]
    );
}

/// Go: TestMQTTQoS2RetainedReject, serializeRetainedMsgsForSub under reject_qos2_publish — a retained message that
/// would go at QoS 2 is not sent; at QoS 1 it is.
#[test]
fn retained_qos2_under_reject() {
    let config = StateConfig {
        qos2_publish: Qos2Policy::Reject,
        ..Default::default()
    };
    let mut net = Net::new(config);
    let (p, _) = net.connect(&spec("pub", true));
    net.send(p, &publish("r", Qos::ExactlyOnce, 1, true, "two"));
    net.send(p, &ack(PubResponse::Rel, 1));
    let (s, _) = net.connect(&spec("s", true));
    assert_eq!(
        net.send(s, &subscribe(1, &[("r", Qos::ExactlyOnce)])),
        ["SubAck { pi: 1, codes: [2] }"]
    );
    assert_eq!(
        net.send(s, &subscribe(2, &[("r", Qos::AtLeastOnce)])),
        [
            "SubAck { pi: 2, codes: [1] }",
            "PUBLISH r q1 pi=1 two retain"
        ]
    );
}

/// Go: TestMQTTWill — for will QoS 0, 1 and 2 a `will/#` QoS 2 subscriber gets the will
/// at its QoS when the connection drops, and a NATS subscriber on `will.topic` gets it;
/// after DISCONNECT neither does.
#[test]
fn will_table() {
    for (name, will_expected, will_qos) in [
        ("will qos 0", true, Qos::AtMostOnce),
        ("will qos 1", true, Qos::AtLeastOnce),
        ("will qos 2", true, Qos::ExactlyOnce),
        ("proper disconnect no will", false, Qos::AtMostOnce),
    ] {
        let mut net = Net::new(StateConfig::default());
        let (subscriber, _) = net.connect(&spec("", true));
        net.send(subscriber, &subscribe(1, &[("will/#", Qos::ExactlyOnce)]));
        let mut with_will = spec("w", true);
        with_will.will = Some((b"will/topic", b"bye", will_qos, false));
        let (mc, _) = net.connect(&with_will);
        if will_expected {
            net.drop_conn(mc);
            let pi = if will_qos == Qos::AtMostOnce { 0 } else { 1 };
            assert_eq!(
                net.take(subscriber),
                [format!(
                    "PUBLISH will/topic q{} pi={pi} bye",
                    will_qos.level()
                )],
                "{name}"
            );
            let nats = net.nats_events();
            assert_eq!(nats.len(), 1, "{name}");
            assert!(
                nats[0].starts_with("will.topic ") && nats[0].ends_with(" bye"),
                "{name}"
            );
        } else {
            net.send(mc, &disconnect());
            assert!(net.take(subscriber).is_empty(), "{name}");
            assert!(net.nats_events().is_empty(), "{name}");
        }
    }
}

/// Go: TestMQTTPublishRetain — a retained message (also a large one) reaches a later
/// `foo/#` subscriber with RETAIN; a non-retained publish leaves the retained one in
/// place; an empty retained payload removes it.
#[test]
fn publish_retain_table() {
    let large = "0123456789abcdef".repeat(64 * 128);
    let mut net = Net::new(StateConfig::default());
    for (name, retained, sent, expected) in [
        (
            "publish large retained",
            true,
            large.as_str(),
            Some(large.as_str()),
        ),
        ("publish retained", true, "retained", Some("retained")),
        (
            "publish not retained",
            false,
            "not retained",
            Some("retained"),
        ),
        ("remove retained", true, "", None),
    ] {
        let (mc1, _) = net.connect(&spec("", true));
        net.send(mc1, &publish("foo", Qos::AtMostOnce, 0, retained, sent));
        let (mc2, _) = net.connect(&spec("", true));
        let got = net.send(mc2, &subscribe(1, &[("foo/#", Qos::AtLeastOnce)]));
        let mut want = vec!["SubAck { pi: 1, codes: [1] }".to_string()];
        if let Some(v) = expected {
            want.push(format!("PUBLISH foo q0 pi=0 {v} retain"));
        }
        assert_eq!(got, want, "{name}");
        net.send(mc1, &disconnect());
        net.send(mc2, &disconnect());
    }
}

/// Go: TestMQTTRetainFlag — RETAIN is set on messages sent because of a new
/// subscription, not on later live ones to existing subscriptions ([MQTT-3.3.1-9]).
#[test]
fn retain_flag() {
    let mut net = Net::new(StateConfig::default());
    let (mc1, _) = net.connect(&spec("", true));
    net.send(mc1, &publish("foo/0", Qos::AtMostOnce, 0, true, "flag set"));
    net.send(mc1, &publish("foo/1", Qos::AtMostOnce, 0, true, "flag set"));
    let (mc2, _) = net.connect(&spec("two", true));
    assert_eq!(
        net.send(mc2, &subscribe(1, &[("foo/0", Qos::AtMostOnce)])),
        [
            "SubAck { pi: 1, codes: [0] }",
            "PUBLISH foo/0 q0 pi=0 flag set retain"
        ]
    );
    assert_eq!(
        net.send(mc2, &subscribe(1, &[("foo/1", Qos::AtLeastOnce)])),
        [
            "SubAck { pi: 1, codes: [1] }",
            "PUBLISH foo/1 q0 pi=0 flag set retain"
        ]
    );
    net.send(
        mc1,
        &publish("foo/0", Qos::AtMostOnce, 0, true, "flag not set"),
    );
    net.send(
        mc1,
        &publish("foo/1", Qos::AtMostOnce, 0, true, "flag not set"),
    );
    assert_eq!(
        net.take(mc2),
        [
            "PUBLISH foo/0 q0 pi=0 flag not set",
            "PUBLISH foo/1 q0 pi=0 flag not set"
        ]
    );
}
