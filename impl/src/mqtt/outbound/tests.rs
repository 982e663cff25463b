//! Outbound tracking on a simulated clock.

use super::*;
use crate::mqtt::client::{ServerPacket, decode_all};

fn delivery(payload: &str, qos: Qos) -> Delivery {
    Delivery {
        msg: Arc::new(Message {
            subject: b"foo".to_vec(),
            topic: b"foo".to_vec(),
            qos,
            retain: false,
            payload: payload.as_bytes().to_vec(),
        }),
        qos,
        retain: false,
        sub: Arc::from(&b"foo"[..]),
    }
}

fn delivery_for(sub: &str, payload: &str) -> Delivery {
    Delivery {
        sub: Arc::from(sub.as_bytes()),
        ..delivery(payload, Qos::AtLeastOnce)
    }
}

/// The packets in `out`, one line each, and `out` emptied.
pub(crate) fn lines(out: &mut Vec<u8>) -> Vec<String> {
    let bytes = std::mem::take(out);
    decode_all(&bytes)
        .unwrap()
        .into_iter()
        .map(|p| match p {
            ServerPacket::Publish {
                flags,
                qos,
                topic,
                pi,
                payload,
            } => {
                let mut s = format!(
                    "PUBLISH {} q{} pi={pi} {}",
                    String::from_utf8_lossy(topic),
                    qos.level(),
                    String::from_utf8_lossy(payload)
                );
                if flags & 0x08 != 0 {
                    s.push_str(" dup");
                }
                if flags & 0x01 != 0 {
                    s.push_str(" retain");
                }
                s
            }
            other => format!("{other:?}"),
        })
        .collect()
}

fn config(max_ack_pending: u16, max_queued: usize) -> OutboundConfig {
    OutboundConfig {
        ack_wait: Duration::from_millis(250),
        max_ack_pending,
        max_queued,
        max_queued_bytes: 1024,
    }
}

/// Go: bumpPI — 1..=65535, wrapping past 0, skipping identifiers in use.
#[test]
fn bump_pi_wraps_and_skips_in_use() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(u16::MAX, 0));
    let mut out = Vec::new();
    o.offer(delivery("a", Qos::AtLeastOnce), Link::Away, t0, &mut out);
    assert_eq!(o.in_flight(), 1);
    o.last_pi = u16::MAX - 1;
    assert_eq!(o.bump_pi(), Some(u16::MAX));
    // Wraps to 1, which is in use: 2.
    assert_eq!(o.bump_pi(), Some(2));
    // All taken: none.
    let mut full = Outbound::new(config(u16::MAX, 0));
    for _ in 0..u16::MAX {
        full.offer(delivery("x", Qos::AtLeastOnce), Link::Away, t0, &mut out);
    }
    assert_eq!(full.in_flight(), usize::from(u16::MAX));
    assert_eq!(full.bump_pi(), None);
    assert!(out.is_empty(), "nothing written while away");
}

/// Go: TestMQTTRedeliveryAckWait — after ack_wait both are sent again with DUP and the
/// same identifiers; once the first is acknowledged only the second.
#[test]
fn redelivery_after_ack_wait() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(10, 10));
    let mut out = Vec::new();
    o.offer(
        delivery("foo1", Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    o.offer(
        delivery("foo2", Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    assert_eq!(
        lines(&mut out),
        ["PUBLISH foo q1 pi=1 foo1", "PUBLISH foo q1 pi=2 foo2"]
    );
    let t1 = o.poll_timeout().unwrap();
    assert_eq!(t1, t0 + Duration::from_millis(250));
    o.handle_timeout(t1 - Duration::from_millis(1), &mut out);
    assert!(out.is_empty());
    o.handle_timeout(t1, &mut out);
    assert_eq!(
        lines(&mut out),
        [
            "PUBLISH foo q1 pi=1 foo1 dup",
            "PUBLISH foo q1 pi=2 foo2 dup"
        ]
    );
    o.puback(1, Link::Connected, t1, &mut out);
    let t2 = o.poll_timeout().unwrap();
    o.handle_timeout(t2, &mut out);
    assert_eq!(lines(&mut out), ["PUBLISH foo q1 pi=2 foo2 dup"]);
    // Away: no timer; back: sent again at once, DUP, same identifier.
    o.detach();
    assert_eq!(o.poll_timeout(), None);
    o.resume(t2, &mut out);
    assert_eq!(lines(&mut out), ["PUBLISH foo q1 pi=2 foo2 dup"]);
    o.puback(2, Link::Connected, t2, &mut out);
    assert_eq!(o.in_flight(), 0);
    assert_eq!(o.poll_timeout(), None);
}

/// Go: TestMQTTMaxAckPending — with max_ack_pending 1 the second waits for the ack.
#[test]
fn max_ack_pending_holds_the_next() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(1, 10));
    let mut out = Vec::new();
    o.offer(
        delivery("msg1", Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    o.offer(
        delivery("msg2", Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    assert_eq!(lines(&mut out), ["PUBLISH foo q1 pi=1 msg1"]);
    assert_eq!(o.queued(), 1);
    // An unknown identifier frees nothing.
    o.puback(7, Link::Connected, t0, &mut out);
    assert!(out.is_empty());
    o.puback(1, Link::Connected, t0, &mut out);
    assert_eq!(lines(&mut out), ["PUBLISH foo q1 pi=2 msg2"]);
    assert_eq!(o.queued(), 0);
}

#[test]
fn queue_bound_drops_and_counts() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(1, 1));
    let mut out = Vec::new();
    for p in ["a", "b", "c"] {
        o.offer(delivery(p, Qos::AtLeastOnce), Link::Connected, t0, &mut out);
    }
    assert_eq!((o.in_flight(), o.queued(), o.dropped()), (1, 1, 1));
    // By bytes: 1024 queued at most.
    let mut o = Outbound::new(config(1, 10));
    let big = "x".repeat(600);
    for _ in 0..3 {
        o.offer(
            delivery(&big, Qos::AtLeastOnce),
            Link::Connected,
            t0,
            &mut out,
        );
    }
    assert_eq!((o.in_flight(), o.queued(), o.dropped()), (1, 1, 1));
    o.puback(1, Link::Connected, t0, &mut out);
    o.offer(
        delivery(&big, Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    assert_eq!((o.in_flight(), o.queued(), o.dropped()), (1, 1, 1));
}

/// Go: TestMQTTQoS2RetriesPubRel — PUBREC moves the identifier to PUBREL, sent and
/// resent after ack_wait until PUBCOMP; its slot frees at PUBREC (Go counts only
/// pendingPublish against max_ack_pending) but the identifier stays taken.
#[test]
fn qos2_pubrec_pubrel_pubcomp() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(1, 10));
    let mut out = Vec::new();
    o.offer(
        delivery("q2a", Qos::ExactlyOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    o.offer(
        delivery("q2b", Qos::ExactlyOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    assert_eq!(lines(&mut out), ["PUBLISH foo q2 pi=1 q2a"]);
    o.pubrec(1, Link::Connected, t0, &mut out);
    assert_eq!(lines(&mut out), ["PubRel(1)", "PUBLISH foo q2 pi=2 q2b"]);
    assert_eq!((o.in_flight(), o.pubrel_pending()), (1, 1));
    let t1 = t0 + Duration::from_millis(250);
    o.handle_timeout(t1, &mut out);
    assert_eq!(
        lines(&mut out),
        ["PUBLISH foo q2 pi=2 q2b dup", "PubRel(1)"]
    );
    o.pubcomp(1, Link::Connected, t1, &mut out);
    assert_eq!(o.pubrel_pending(), 0);
    assert_eq!(o.bump_pi(), Some(3));
}

/// Go: serializeRetainedMsgsForSub — a retained QoS 1 takes an identifier even beyond
/// max_ack_pending and is never resent.
#[test]
fn retained_ignores_max_ack_pending_and_is_not_redelivered() {
    let t0 = Instant::now();
    let mut o = Outbound::new(config(1, 10));
    let mut out = Vec::new();
    o.offer(
        delivery("live", Qos::AtLeastOnce),
        Link::Connected,
        t0,
        &mut out,
    );
    let mut r = delivery("kept", Qos::AtLeastOnce);
    r.retain = true;
    o.offer_retained(r, t0, &mut out);
    assert_eq!(
        lines(&mut out),
        [
            "PUBLISH foo q1 pi=1 live",
            "PUBLISH foo q1 pi=2 kept retain"
        ]
    );
    o.puback(1, Link::Connected, t0, &mut out);
    assert_eq!(o.poll_timeout(), None);
    o.handle_timeout(t0 + Duration::from_secs(60), &mut out);
    assert!(out.is_empty());
    o.puback(2, Link::Connected, t0, &mut out);
    assert_eq!(o.in_flight(), 0);
}

/// Go (TestMQTTUnsubscribeWithPendingAcks): the subscription's consumer goes, and with it
/// its deliveries in flight: no redelivery, the identifier is free; its queued messages
/// are never sent; other subscriptions' deliveries are untouched and take the slots.
#[test]
fn a_forgotten_subscription_takes_its_deliveries_with_it() {
    let t0 = Instant::now();
    let mut ob = Outbound::new(OutboundConfig {
        max_ack_pending: 2,
        ..OutboundConfig::default()
    });
    let mut out = Vec::new();
    ob.offer(delivery_for("foo", "f1"), Link::Connected, t0, &mut out);
    ob.offer(delivery_for("bar", "b1"), Link::Connected, t0, &mut out);
    ob.offer(delivery_for("foo", "f2"), Link::Connected, t0, &mut out);
    ob.offer(delivery_for("bar", "b2"), Link::Connected, t0, &mut out);
    assert_eq!((ob.in_flight(), ob.queued()), (2, 2));
    let sent = lines(&mut out);
    assert_eq!(sent.len(), 2, "{sent:?}");

    ob.forget_subscription(b"foo", Link::Connected, t0, &mut out);
    // f1's slot goes to b2 (f2 is dropped with its subscription).
    let sent = lines(&mut out);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("b2"), "{sent:?}");
    assert_eq!((ob.in_flight(), ob.queued()), (2, 0));

    // After ack_wait only bar's deliveries come again.
    ob.handle_timeout(t0 + DEFAULT_ACK_WAIT, &mut out);
    let again = lines(&mut out);
    assert_eq!(again.len(), 2, "{again:?}");
    assert!(
        again
            .iter()
            .all(|l| l.contains(" b") && l.ends_with(" dup")),
        "{again:?}"
    );

    // Forgetting an unknown subscription changes nothing.
    ob.forget_subscription(b"baz", Link::Connected, t0, &mut out);
    assert_eq!((ob.in_flight(), ob.queued(), out.len()), (2, 0, 0));
}
