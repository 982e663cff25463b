//! Go's MQTT permission tests, driven through MqttSession in memory; the permissions
//! are a small allow/deny list standing in for the server's auth layer.

use super::tests::{Net, disconnect, publish, spec, subscribe};
use super::*;
use crate::nats::subject;

/// Allow and deny lists of NATS subjects (wildcards allowed), as Go's
/// `SubjectPermission`; an empty allow list allows everything.
#[derive(Debug, Default)]
struct Lists {
    pub_allow: Vec<&'static str>,
    sub_allow: Vec<&'static str>,
    sub_deny: Vec<&'static str>,
}

fn allowed(allow: &[&str], deny: &[&str], s: &[u8]) -> bool {
    let hit = |list: &[&str]| list.iter().any(|p| subject::matches(p.as_bytes(), s));
    (allow.is_empty() || hit(allow)) && !hit(deny)
}

impl SubjectPermissions for Lists {
    fn may_publish(&self, s: &[u8]) -> bool {
        allowed(&self.pub_allow, &[], s)
    }
    fn may_subscribe(&self, filter: &[u8]) -> bool {
        // Go's canSubscribe: an allow entry must cover the filter; a deny entry only
        // refuses a filter it covers entirely.
        allowed(&self.sub_allow, &[], filter)
            && !self
                .sub_deny
                .iter()
                .any(|d| subject::matches(d.as_bytes(), filter))
    }
    fn may_receive(&self, s: &[u8]) -> bool {
        allowed(&[], &self.sub_deny, s)
    }
}

fn perms(lists: Lists) -> Option<Perms> {
    Some(Arc::new(lists))
}

/// Go: TestMQTTSubscribeDenyRetainedAndQoSReplay — a subscriber allowed `>` but denied
/// `secret.>` gets neither live messages, nor QoS 1 messages kept while away, nor
/// retained messages on `secret.>`; the allowed ones it gets.
#[test]
fn subscribe_deny_live_replay_and_retained() {
    let mut net = Net::new(StateConfig::default());
    let publisher = || {
        perms(Lists {
            pub_allow: vec!["secret.>", "foo.>"],
            sub_allow: vec!["_INBOX.>"],
            ..Default::default()
        })
    };
    let subscriber = || {
        perms(Lists {
            sub_allow: vec![">"],
            sub_deny: vec!["secret.>"],
            ..Default::default()
        })
    };
    let (mp, _) = net.connect_as(&spec("pub", true), publisher());

    // 1) Live.
    let (mc, _) = net.connect_as(&spec("sub-live", true), subscriber());
    net.send(mc, &subscribe(1, &[("#", Qos::AtMostOnce)]));
    net.send(
        mp,
        &publish("secret/one", Qos::AtMostOnce, 0, false, "live-denied"),
    );
    assert!(net.take(mc).is_empty());
    net.send(
        mp,
        &publish("foo/live", Qos::AtMostOnce, 0, false, "live-allowed"),
    );
    assert_eq!(net.take(mc), ["PUBLISH foo/live q0 pi=0 live-allowed"]);
    net.send(mc, &disconnect());

    // 2) QoS 1 kept while away.
    let (mc, _) = net.connect_as(&spec("persist-sub", false), subscriber());
    net.send(mc, &subscribe(1, &[("#", Qos::AtLeastOnce)]));
    net.send(mc, &disconnect());
    net.send(
        mp,
        &publish("secret/one", Qos::AtLeastOnce, 1, false, "qos1-denied"),
    );
    net.send(
        mp,
        &publish("foo/replay", Qos::AtLeastOnce, 2, false, "qos1-allowed"),
    );
    let (_, got) = net.connect_as(&spec("persist-sub", false), subscriber());
    assert_eq!(
        got[1..],
        ["PUBLISH foo/replay q1 pi=1 qos1-allowed".to_string()]
    );

    // 3) Retained.
    net.send(
        mp,
        &publish("secret/one", Qos::AtMostOnce, 0, true, "retained-denied"),
    );
    net.send(
        mp,
        &publish("foo/ret", Qos::AtMostOnce, 0, true, "retained-allowed"),
    );
    let (mc, _) = net.connect_as(&spec("sub-retained", true), subscriber());
    assert_eq!(
        net.send(mc, &subscribe(1, &[("#", Qos::AtMostOnce)])),
        [
            "SubAck { pi: 1, codes: [0] }",
            "PUBLISH foo/ret q0 pi=0 retained-allowed retain"
        ]
    );
    assert!(net.denied.is_empty(), "{:?}", net.denied);
}

/// Go: TestMQTTPublishRetainPermViolation (its first part) — a retained publish on a
/// subject the user may not publish to is dropped and not retained; the violation is
/// reported; a QoS 1 one is still acknowledged.
#[test]
fn publish_denied_is_not_retained() {
    let mut net = Net::new(StateConfig::default());
    let mqtt1 = || {
        perms(Lists {
            pub_allow: vec!["foo"],
            sub_allow: vec!["bar"],
            ..Default::default()
        })
    };
    let (p, _) = net.connect_as(&spec("pub", true), mqtt1());
    assert!(
        net.send(p, &publish("bar", Qos::AtMostOnce, 0, true, "retained"))
            .is_empty()
    );
    assert_eq!(
        net.send(p, &publish("bar", Qos::AtLeastOnce, 3, true, "retained")),
        ["PubAck(3)"]
    );
    net.send(p, &publish("foo", Qos::AtMostOnce, 0, true, "retained"));
    assert!(net.state.retained().get(b"bar").is_none());
    assert!(net.state.retained().get(b"foo").is_some());
    assert_eq!(
        net.denied,
        [
            Event::PublishDenied {
                conn: p,
                subject: b"bar".to_vec()
            },
            Event::PublishDenied {
                conn: p,
                subject: b"bar".to_vec()
            }
        ]
    );
    // Its subscribe permissions: `bar` yes, `foo` no (0x80, reported).
    assert_eq!(
        net.send(
            p,
            &subscribe(1, &[("bar", Qos::AtMostOnce), ("foo", Qos::AtMostOnce)])
        ),
        ["SubAck { pi: 1, codes: [0, 128] }"]
    );
    assert_eq!(
        net.denied[2..],
        [Event::SubscribeDenied {
            conn: p,
            subject: b"foo".to_vec()
        }]
    );
}

/// Go: TestMQTTWillRetainPermViolation — a retained will on an allowed subject is
/// retained (QoS 1, RETAIN on subscribe); one on a subject the user may not publish to
/// is neither delivered nor retained.
#[test]
fn will_retain_permission() {
    let mut net = Net::new(StateConfig::default());
    let mqtt = || {
        perms(Lists {
            pub_allow: vec!["foo"],
            sub_allow: vec!["foo", "bar"],
            ..Default::default()
        })
    };
    let mut ci = spec("", true);
    ci.will = Some((b"foo", b"bye", Qos::AtLeastOnce, true));
    let (mc, _) = net.connect_as(&ci, mqtt());
    net.drop_conn(mc);
    let (mcs, _) = net.connect_as(&spec("", true), mqtt());
    assert_eq!(
        net.send(mcs, &subscribe(1, &[("foo", Qos::AtLeastOnce)])),
        [
            "SubAck { pi: 1, codes: [1] }",
            "PUBLISH foo q1 pi=1 bye retain"
        ]
    );
    net.send(mcs, &disconnect());

    ci.will = Some((b"bar", b"bye", Qos::AtLeastOnce, true));
    let (mc, _) = net.connect_as(&ci, mqtt());
    net.drop_conn(mc);
    assert!(net.state.retained().get(b"bar").is_none());
    assert_eq!(
        net.denied,
        [Event::PublishDenied {
            conn: mc,
            subject: b"bar".to_vec()
        }]
    );
    let (mcs, _) = net.connect_as(&spec("", true), mqtt());
    assert_eq!(
        net.send(mcs, &subscribe(1, &[("bar", Qos::AtLeastOnce)])),
        ["SubAck { pi: 1, codes: [1] }"]
    );
}

/// Go: TestMQTTPermissionsViolation — allowed `foo.*` and denied `foo.baz`: `foo/baz`
/// is refused, and so are `foo/#` and `foo/>`, whose level-up subscription on `foo`
/// (Go's `mqttNeedSubForLevelUp`) is not allowed; the denial names that subject.
#[test]
fn level_up_subscription_needs_permission_too() {
    let mut net = Net::new(StateConfig::default());
    let lists = Lists {
        sub_allow: vec!["foo.*"],
        sub_deny: vec!["foo.baz"],
        ..Default::default()
    };
    let (c, _) = net.connect_as(&spec("sub", true), perms(lists));
    let q1 = Qos::AtLeastOnce;
    assert_eq!(
        net.send(
            c,
            &subscribe(
                1,
                &[("foo/+", q1), ("foo/baz", q1), ("foo/#", q1), ("foo/>", q1)]
            )
        ),
        ["SubAck { pi: 1, codes: [1, 128, 128, 128] }"]
    );
    let denied: Vec<Vec<u8>> = std::mem::take(&mut net.denied)
        .into_iter()
        .filter_map(|e| match e {
            Event::SubscribeDenied { subject, .. } => Some(subject),
            _ => None,
        })
        .collect();
    assert_eq!(
        denied,
        [b"foo.baz".to_vec(), b"foo".to_vec(), b"foo".to_vec()]
    );
}
