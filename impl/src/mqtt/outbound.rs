//! One session's outbound QoS 1/2 deliveries, sans-IO (Go: `mqttSession.bumpPI`,
//! `trackPublish`, `trackPublishRetained`, `untrackPublish`, `trackAsPubRel`,
//! `untrackPubRel`, and the JetStream consumer's `ack_wait`/`max_ack_pending`).
//!
//! ```text
//!  offer ─► in flight (PUBLISH sent, ≤ max_ack_pending) ─PUBACK─► done, next queued sent
//!    │            │ ─PUBREC─► PUBREL pending ─PUBCOMP─► done
//!    ▼            └ ack_wait passed: PUBLISH again with DUP (PUBREL pending: PUBREL again)
//!  queued (≤ max_queued messages and max_queued_bytes; beyond, dropped and counted)
//! ```
//!
//! Go keeps the messages in JetStream and lets a consumer per subscription redeliver;
//! here they are kept in memory per session (docs/CONFORMANCE.md). Timers are values:
//! [`Outbound::poll_timeout`] and [`Outbound::handle_timeout`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::mqtt::Qos;
use crate::mqtt::writer::{self, PubResponse, PublishHeader};

/// Go's default `mqtt.ack_wait`. Go: `mqttDefaultAckWait`.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);
/// Go's default `mqtt.max_ack_pending`. Go: `mqttDefaultMaxAckPending`.
pub const DEFAULT_MAX_ACK_PENDING: u16 = 1024;
/// Default bound on messages waiting for a free in-flight slot, per session (Go's
/// JetStream stream has no per-session bound; ours must, as memory).
pub const DEFAULT_MAX_QUEUED: usize = 65_536;
/// Default bound on the payload bytes of those messages, per session.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

/// A message as MQTT subscribers receive it: shared by every session it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The NATS subject it was published on.
    pub subject: Vec<u8>,
    /// The MQTT topic it is delivered with.
    pub topic: Vec<u8>,
    /// The QoS it was published with.
    pub qos: Qos,
    /// Whether the publisher set RETAIN.
    pub retain: bool,
    /// The application message.
    pub payload: Vec<u8>,
}

/// One delivery to a session: the message, at the QoS granted (lower of the
/// subscription's and the message's), with the RETAIN flag if it is a retained message
/// sent on subscribe.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message.
    pub msg: Arc<Message>,
    /// QoS of this delivery (1 or 2 when tracked here).
    pub qos: Qos,
    /// RETAIN flag on the wire ([MQTT-3.3.1-8]: only for messages sent on subscribe).
    pub retain: bool,
    /// The subscription it is for: its NATS filter subject (Go: the JetStream consumer,
    /// or the pseudo-durable of retained deliveries, that `cpending` files it under).
    pub sub: Arc<[u8]>,
}

/// Flow-control settings. Go: `mqtt.ack_wait`, `mqtt.max_ack_pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundConfig {
    /// Time before an unacknowledged PUBLISH (or PUBREL) is sent again.
    pub ack_wait: Duration,
    /// Most PUBLISH in flight (PUBREL pending ones do not count, as Go). 0 means Go's
    /// default.
    pub max_ack_pending: u16,
    /// Most messages waiting for a slot; the next one is dropped.
    pub max_queued: usize,
    /// Most payload bytes waiting for a slot; a message that would pass it is dropped.
    pub max_queued_bytes: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            ack_wait: DEFAULT_ACK_WAIT,
            max_ack_pending: DEFAULT_MAX_ACK_PENDING,
            max_queued: DEFAULT_MAX_QUEUED,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
        }
    }
}

/// Whether an in-flight PUBLISH is sent again after `ack_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redelivery {
    /// A live message (Go: the JetStream consumer redelivers it).
    AfterAckWait,
    /// A retained message sent on subscribe (Go: tracked, never redelivered).
    Never,
}

#[derive(Debug, Clone)]
struct InFlight {
    delivery: Delivery,
    redelivery: Redelivery,
    /// Sent at least once (the next send carries DUP).
    sent: bool,
    /// When it is sent again; `None` while the client is away or never redelivered.
    deadline: Option<Instant>,
}

/// Where a session's deliveries stand. Go: the `pendingPublish`/`pendingPubRel` maps.
#[derive(Debug)]
pub struct Outbound {
    config: OutboundConfig,
    last_pi: u16,
    publish: BTreeMap<u16, InFlight>,
    /// PUBREL sent (or to send), waiting for PUBCOMP; the value is the resend time.
    pubrel: BTreeMap<u16, Option<Instant>>,
    queue: VecDeque<Delivery>,
    /// Payload bytes in `queue`.
    queued_bytes: usize,
    dropped: u64,
}

/// Whether the session's client is connected (output goes somewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Connected: packets are written now.
    Connected,
    /// Away (a persistent session between connections): kept for the next one.
    Away,
}

impl Outbound {
    /// An empty tracker.
    pub fn new(mut config: OutboundConfig) -> Self {
        if config.max_ack_pending == 0 {
            config.max_ack_pending = DEFAULT_MAX_ACK_PENDING;
        }
        Outbound {
            config,
            last_pi: 0,
            publish: BTreeMap::new(),
            pubrel: BTreeMap::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            dropped: 0,
        }
    }

    /// The next free packet identifier after the last one given, 1..=65535 wrapping,
    /// skipping those in flight or awaiting PUBCOMP; `None` when all are in use.
    /// Go: `bumpPI`.
    pub fn bump_pi(&mut self) -> Option<u16> {
        let mut next = self.last_pi;
        for _ in 0..u16::MAX {
            next = next.wrapping_add(1).max(1);
            if !self.publish.contains_key(&next) && !self.pubrel.contains_key(&next) {
                self.last_pi = next;
                return Some(next);
            }
        }
        None
    }

    /// A live QoS 1/2 delivery: sent now if a slot is free (Go: `trackPublish`), else
    /// queued until an acknowledgement frees one.
    pub fn offer(&mut self, delivery: Delivery, link: Link, now: Instant, out: &mut Vec<u8>) {
        if self.publish.len() < usize::from(self.config.max_ack_pending)
            && self.queue.is_empty()
            && let Some(pi) = self.bump_pi()
        {
            self.start(pi, delivery, Redelivery::AfterAckWait, link, now, out);
            return;
        }
        let bytes = self.queued_bytes.saturating_add(delivery.msg.payload.len());
        if self.queue.len() >= self.config.max_queued || bytes > self.config.max_queued_bytes {
            self.dropped += 1;
            return;
        }
        self.queued_bytes = bytes;
        self.queue.push_back(delivery);
    }

    /// A retained message sent on subscribe at QoS 1/2: a packet identifier regardless
    /// of `max_ack_pending`, tracked until acknowledged but never sent again; without a
    /// free identifier it goes as QoS 0. Go: `trackPublishRetained` and its caller.
    pub fn offer_retained(&mut self, delivery: Delivery, now: Instant, out: &mut Vec<u8>) {
        match self.bump_pi() {
            Some(pi) => self.start(pi, delivery, Redelivery::Never, Link::Connected, now, out),
            None => write_publish(out, &delivery, 0, Qos::AtMostOnce, false),
        }
    }

    fn start(
        &mut self,
        pi: u16,
        delivery: Delivery,
        redelivery: Redelivery,
        link: Link,
        now: Instant,
        out: &mut Vec<u8>,
    ) {
        let mut flight = InFlight {
            delivery,
            redelivery,
            sent: false,
            deadline: None,
        };
        if link == Link::Connected {
            self.send(pi, &mut flight, now, out);
        }
        self.publish.insert(pi, flight);
    }

    fn send(&self, pi: u16, flight: &mut InFlight, now: Instant, out: &mut Vec<u8>) {
        let d = &flight.delivery;
        write_publish(out, d, pi, d.qos, flight.sent);
        flight.sent = true;
        flight.deadline = match flight.redelivery {
            Redelivery::AfterAckWait => Some(now + self.config.ack_wait),
            Redelivery::Never => None,
        };
    }

    /// PUBACK: a QoS 1 delivery is done. Go: `mqttProcessPubAck` (`untrackPublish`).
    /// Unknown identifiers are ignored, as Go.
    pub fn puback(&mut self, pi: u16, link: Link, now: Instant, out: &mut Vec<u8>) {
        if self.publish.remove(&pi).is_some() {
            self.refill(link, now, out);
        }
    }

    /// PUBREC: the QoS 2 delivery moves to PUBREL, which is sent. Go:
    /// `mqttProcessPubRec` (`trackAsPubRel`, `untrackPublish`, and the PUBREL its
    /// consumer delivers). Go sends the PUBREL even for an unknown identifier.
    pub fn pubrec(&mut self, pi: u16, link: Link, now: Instant, out: &mut Vec<u8>) {
        let freed = self.publish.remove(&pi).is_some();
        let deadline = match link {
            Link::Connected => {
                writer::pub_response(out, PubResponse::Rel, pi);
                Some(now + self.config.ack_wait)
            }
            Link::Away => None,
        };
        self.pubrel.insert(pi, deadline);
        if freed {
            self.refill(link, now, out);
        }
    }

    /// PUBCOMP: a QoS 2 delivery is done. Go: `mqttProcessPubComp` (`untrackPubRel`).
    pub fn pubcomp(&mut self, pi: u16, link: Link, now: Instant, out: &mut Vec<u8>) {
        if self.pubrel.remove(&pi).is_some() {
            self.refill(link, now, out);
        }
    }

    /// The subscription `sub` went (UNSUBSCRIBE, or subscribed again at QoS 0): its
    /// PUBLISH in flight are forgotten, never sent again, their packet identifiers free,
    /// and its queued messages are dropped; PUBREL already sent stay (they belong to the
    /// session). Then queued messages of other subscriptions take the freed slots. Go:
    /// deleting the subscription's consumer purges its `cpending` entries (live and
    /// retained) from `pendingPublish` (TestMQTTUnsubscribeWithPendingAcks).
    pub fn forget_subscription(&mut self, sub: &[u8], link: Link, now: Instant, out: &mut Vec<u8>) {
        let before = self.publish.len();
        self.publish.retain(|_, f| *f.delivery.sub != *sub);
        let freed = self.publish.len() < before;
        let mut dropped_bytes = 0;
        self.queue.retain(|d| {
            let keep = *d.sub != *sub;
            if !keep {
                dropped_bytes += d.msg.payload.len();
            }
            keep
        });
        self.queued_bytes -= dropped_bytes;
        if freed {
            self.refill(link, now, out);
        }
    }

    /// Sends queued messages while slots are free.
    fn refill(&mut self, link: Link, now: Instant, out: &mut Vec<u8>) {
        // Each round takes one queued message or stops.
        while self.publish.len() < usize::from(self.config.max_ack_pending) {
            if self.queue.is_empty() {
                break;
            }
            let Some(pi) = self.bump_pi() else {
                break;
            };
            let Some(d) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= d.msg.payload.len();
            self.start(pi, d, Redelivery::AfterAckWait, link, now, out);
        }
    }

    /// A client (re)attached to the session: every PUBLISH in flight is sent again with
    /// DUP if it was sent before (same packet identifier), every pending PUBREL again,
    /// then queued messages ([MQTT-4.4.0-1]). Go: the consumers redeliver after
    /// `ack_wait`; here it is at once (docs/CONFORMANCE.md).
    pub fn resume(&mut self, now: Instant, out: &mut Vec<u8>) {
        let mut publish = std::mem::take(&mut self.publish);
        for (pi, flight) in &mut publish {
            self.send(*pi, flight, now, out);
        }
        self.publish = publish;
        for (pi, deadline) in &mut self.pubrel {
            writer::pub_response(out, PubResponse::Rel, *pi);
            *deadline = Some(now + self.config.ack_wait);
        }
        self.refill(Link::Connected, now, out);
    }

    /// The client went away: timers stop until it comes back.
    pub fn detach(&mut self) {
        for flight in self.publish.values_mut() {
            flight.deadline = None;
        }
        for deadline in self.pubrel.values_mut() {
            *deadline = None;
        }
    }

    /// The earliest resend time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let publish = self.publish.values().filter_map(|f| f.deadline);
        let pubrel = self.pubrel.values().filter_map(|d| *d);
        publish.chain(pubrel).min()
    }

    /// Sends again, with DUP, every PUBLISH and PUBREL whose `ack_wait` passed, in packet
    /// identifier order.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<u8>) {
        let mut publish = std::mem::take(&mut self.publish);
        for (pi, flight) in &mut publish {
            if flight.deadline.is_some_and(|d| now >= d) {
                self.send(*pi, flight, now, out);
            }
        }
        self.publish = publish;
        for (pi, deadline) in &mut self.pubrel {
            if deadline.is_some_and(|d| now >= d) {
                writer::pub_response(out, PubResponse::Rel, *pi);
                *deadline = Some(now + self.config.ack_wait);
            }
        }
    }

    /// PUBLISH in flight (Go: `len(pendingPublish)`).
    pub fn in_flight(&self) -> usize {
        self.publish.len()
    }

    /// PUBREL awaiting PUBCOMP (Go: `len(pendingPubRel)`).
    pub fn pubrel_pending(&self) -> usize {
        self.pubrel.len()
    }

    /// Messages waiting for a slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A PUBLISH to a subscriber. A topic or payload too long for MQTT cannot come from a
/// parsed packet or a NATS message within `max_payload`, so a write error drops it.
pub(crate) fn write_publish(out: &mut Vec<u8>, d: &Delivery, pi: u16, qos: Qos, dup: bool) {
    let header = PublishHeader {
        pi,
        qos,
        dup,
        retain: d.retain,
        topic: &d.msg.topic,
    };
    let mark = out.len();
    if writer::publish(out, &header, &d.msg.payload).is_err() {
        out.truncate(mark);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests;
