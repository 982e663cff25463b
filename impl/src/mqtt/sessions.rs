//! One account's MQTT state, in memory and sans-IO (Go: `mqttAccountSessionManager`
//! with its sessions, flappers and retained messages; `mqttProcessConnect`,
//! `mqttHandleClosedClient`, `mqttHandleWill`, the delivery callbacks).
//!
//! ```text
//!  server (holds it behind a lock)          SessionManager
//!  ─ MqttSession::handle_input(.., &mut manager.broker(conn, now))  connect/publish/sub/acks
//!  ─ manager.deliver_nats(subject, hdr, payload, now)   a NATS client's message
//!  ─ manager.disconnect(conn, session.will_fate(), now)  the connection ended
//!  ─ manager.poll_timeout_for(conn) / handle_timeout_for(conn, now, out)
//!                                                       redeliveries after ack_wait
//!  ◄ manager.take_writes()  bytes for other connections (the one served gets its own
//!                           through Broker::flush_to, in Go's order)
//!  ◄ manager.take_events()  closes (takeover) and messages for NATS subscribers
//! ```
//!
//! Sessions are keyed by client id. A clean session lives as long as its connection; a
//! persistent one keeps its subscriptions, in-flight QoS 1/2 messages, QoS 2 messages
//! awaiting PUBREL, and receives QoS 1/2 messages while away. Go keeps all of it in
//! JetStream; here it is memory, lost on restart (docs/CONFORMANCE.md).
//!
//! Routing contract: a message an MQTT client publishes reaches MQTT subscribers here
//! and NATS subscribers through [`Event::ToNats`]; the server must not feed those back
//! through [`SessionManager::deliver_nats`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::mqtt::filter_index::FilterIndex;
use crate::mqtt::nats_msg::{self, Encoding};
use crate::mqtt::outbound::{Delivery, Link, Message, Outbound, OutboundConfig, write_publish};
use crate::mqtt::packet::{PUB_FLAG_RETAIN, SessionKind};
use crate::mqtt::retained::{DEFAULT_MAX_RETAINED, RetainOutcome, RetainedStore, filter_matches};
use crate::mqtt::{Qos, Qos2Policy, SUBACK_FAILURE, WillFate};
use crate::nats::subject::is_valid_subject;

/// Subjects of Go's internal MQTT machinery; an MQTT client cannot subscribe to them
/// (Go: `mqttPrefix`).
const INTERNAL_PREFIX: &[u8] = b"$MQTT.";

/// A connection, as the server numbers them (Go: the client's cid).
pub type ConnId = u64;

/// Go's flapping jail: a client id taken over less than this long ago is held this
/// long, then refused. Go: `mqttSessFlappingJailDur`.
pub const SESSION_JAIL: Duration = Duration::from_secs(1);

/// Default most sessions per account (clean and persistent).
pub const DEFAULT_MAX_SESSIONS: usize = 65_536;

/// Default most QoS 2 messages a session keeps awaiting PUBREL (Go: bounded only by
/// JetStream; one per packet identifier at most).
pub const DEFAULT_MAX_QOS2_PENDING: usize = 1024;

/// Settings for an account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateConfig {
    /// Outbound flow control per session.
    pub outbound: OutboundConfig,
    /// Most retained messages.
    pub max_retained: usize,
    /// Most sessions; a CONNECT for a new client id beyond is refused.
    pub max_sessions: usize,
    /// Most QoS 2 messages per session awaiting PUBREL.
    pub max_qos2_pending: usize,
    /// Go's `reject_qos2_publish`: here, a retained QoS 2 message is not sent on
    /// SUBSCRIBE at QoS 2 (the reader refuses QoS 2 PUBLISH and wills).
    pub qos2_publish: Qos2Policy,
    /// Go's `downgrade_qos2_subscribe`.
    pub qos2_subscribe: Qos2Subscribe,
}

/// Whether a QoS 2 subscription is granted QoS 2. Go: `downgrade_qos2_subscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Qos2Subscribe {
    /// Granted as asked (Go's default).
    #[default]
    Grant,
    /// Granted QoS 1, with Go's warning `Downgrading subscription QoS2 to QoS1 for %q,
    /// as configured`.
    Downgrade,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            outbound: OutboundConfig::default(),
            max_retained: DEFAULT_MAX_RETAINED,
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_qos2_pending: DEFAULT_MAX_QOS2_PENDING,
            qos2_publish: Qos2Policy::Accept,
            qos2_subscribe: Qos2Subscribe::Grant,
        }
    }
}

/// Something the server must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A CONNECT with the same client id took the session over: close this connection
    /// (`DuplicateClientId`, its will discarded) after logging Go's warning
    /// `Replacing old client %q since both have the same client ID %q`.
    TakenOver {
        /// The old connection.
        conn: ConnId,
        /// The new one.
        by: ConnId,
        /// The client id.
        client_id: String,
    },
    /// A publish (or will) its connection may not make: Go logs `Publish Violation`
    /// for it; nothing was delivered or retained.
    PublishDenied {
        /// The publishing connection (gone, for a will).
        conn: ConnId,
        /// The subject.
        subject: Vec<u8>,
    },
    /// A SUBSCRIBE filter its connection may not use: answered 0x80; Go logs
    /// `Subscription Violation` for it.
    SubscribeDenied {
        /// The connection.
        conn: ConnId,
        /// The filter as a NATS subject.
        subject: Vec<u8>,
    },
    /// A message an MQTT client published, for NATS subscribers (Go:
    /// `mqttInitiateMsgDelivery`'s `processInboundClientMsg`): an `HPUB` with these
    /// header bytes and payload.
    ToNats {
        /// The NATS subject.
        subject: Vec<u8>,
        /// The header (`NATS/1.0` and `Nmqtt-Pub`).
        header: Vec<u8>,
        /// The payload.
        payload: Vec<u8>,
    },
}

/// An accepted CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// CONNACK's session-present flag.
    pub session_present: bool,
}

/// A refused CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The flapping jail: hold the connection until `release_at`, then close it with
    /// `DuplicateClientId` (Go waits in place, sending nothing).
    Jailed {
        /// When to close.
        release_at: Instant,
    },
    /// A new client id beyond `max_sessions` (ours only: Go has no such bound).
    TooManySessions {
        /// The bound.
        max: usize,
    },
}

/// Why a QoS 2 PUBLISH was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many QoS 2 messages awaiting PUBREL (limit {0})")]
pub struct Qos2Full(pub usize);

/// A connection's subject permissions, as the server's auth layer decides them (Go:
/// the client's `perms`/`mperms`). Without them everything is allowed.
pub trait SubjectPermissions: std::fmt::Debug + Send + Sync {
    /// Whether it may publish on `subject` (a PUBLISH, a released QoS 2 message, its
    /// will). Go: `pubAllowed` in `processInboundClientMsg`.
    fn may_publish(&self, subject: &[u8]) -> bool;
    /// Whether it may subscribe to `filter`. Go: `canSubscribe`.
    fn may_subscribe(&self, filter: &[u8]) -> bool;
    /// Whether a message on `subject` may be delivered to it (a subscribe deny clause
    /// under a broader allowed filter). Go: `checkDenySub`.
    fn may_receive(&self, subject: &[u8]) -> bool;
}

/// Shared permissions of a connection.
pub type Perms = Arc<dyn SubjectPermissions>;

fn may_publish(perms: Option<&Perms>, subject: &[u8]) -> bool {
    perms.is_none_or(|p| p.may_publish(subject))
}

/// The subject a SUBSCRIBE filter may not have: the filter's own, or for `foo.>` the
/// level-up `foo` Go subscribes too (`mqttNeedSubForLevelUp`: with `foo.*` allowed and
/// not `foo`, `foo/#` and `foo/>` are refused).
fn denied_subscription<'a>(perms: Option<&Perms>, subject: &'a [u8]) -> Option<&'a [u8]> {
    let p = perms?;
    if !p.may_subscribe(subject) {
        return Some(subject);
    }
    let up = crate::mqtt::topic::needs_level_up_subscription(subject)
        .then(|| subject.get(..subject.len() - 2))
        .flatten()?;
    (!p.may_subscribe(up)).then_some(up)
}

fn may_receive(perms: Option<&Perms>, subject: &[u8]) -> bool {
    perms.is_none_or(|p| p.may_receive(subject))
}

/// One subscription of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sub {
    qos: Qos,
}

/// One client id's session. Go: `mqttSession`.
#[derive(Debug)]
struct SessionRecord {
    /// Clean: removed when its connection ends.
    clean: bool,
    conn: Option<ConnId>,
    /// NATS filter subject → subscription (the key is also each delivery's
    /// [`Delivery::sub`]).
    subs: BTreeMap<Arc<[u8]>, Sub>,
    outbound: Outbound,
    /// QoS 2 messages received, by packet identifier, until PUBREL.
    qos2_in: BTreeMap<u16, Arc<Message>>,
    /// The permissions of the last connection attached (deliveries while away are
    /// checked against them).
    perms: Option<Perms>,
    /// A QoS 2 subscription reserved the PUBREL identifiers (`ack_budget`).
    pubrel_reserved: bool,
}

impl SessionRecord {
    fn link(&self) -> Link {
        if self.conn.is_some() {
            Link::Connected
        } else {
            Link::Away
        }
    }
}

/// A connection bound to a session.
#[derive(Debug)]
struct ConnRecord {
    client_id: String,
    will: Option<Arc<Message>>,
    perms: Option<Perms>,
}

/// One account's MQTT sessions and retained messages.
#[derive(Debug)]
pub struct SessionManager {
    config: StateConfig,
    sessions: BTreeMap<String, SessionRecord>,
    conns: HashMap<ConnId, ConnRecord>,
    /// Client ids recently taken over, with when. Go: `flappers`.
    flappers: HashMap<String, Instant>,
    /// Every session's filters, to find the sessions a message may reach.
    index: FilterIndex,
    retained: RetainedStore,
    writes: BTreeMap<ConnId, Vec<u8>>,
    events: Vec<Event>,
}

impl SessionManager {
    /// An empty state.
    pub fn new(config: StateConfig) -> Self {
        SessionManager {
            config,
            sessions: BTreeMap::new(),
            conns: HashMap::new(),
            flappers: HashMap::new(),
            index: FilterIndex::default(),
            retained: RetainedStore::new(config.max_retained),
            writes: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    /// A CONNECT from `conn` (already authorized, with its permissions if it has any):
    /// attach or create the session.
    /// Go: `mqttProcessConnect`. The caller writes CONNACK, then this connection's
    /// [`take_writes_for`](Self::take_writes_for) (redeliveries of a resumed session).
    pub fn connect(
        &mut self,
        conn: ConnId,
        client_id: &str,
        kind: SessionKind,
        will: Option<Message>,
        perms: Option<Perms>,
        now: Instant,
    ) -> Result<Connected, ConnectError> {
        let clean = kind == SessionKind::Clean;
        if let Some(&since) = self.flappers.get(client_id) {
            if now.saturating_duration_since(since) > SESSION_JAIL {
                self.flappers.remove(client_id);
            } else {
                return Err(ConnectError::Jailed {
                    release_at: now + SESSION_JAIL,
                });
            }
        }
        let mut session_present = false;
        let existed = self.sessions.contains_key(client_id);
        if !existed && self.sessions.len() >= self.config.max_sessions {
            return Err(ConnectError::TooManySessions {
                max: self.config.max_sessions,
            });
        }
        let outbound = self.config.outbound;
        let session = self
            .sessions
            .entry(client_id.to_owned())
            .or_insert_with(|| SessionRecord {
                clean,
                conn: None,
                subs: BTreeMap::new(),
                outbound: Outbound::new(outbound),
                qos2_in: BTreeMap::new(),
                perms: None,
                pubrel_reserved: false,
            });
        if existed && (clean || session.clean) {
            // [MQTT-3.1.2-6]: discard the previous state.
            for filter in std::mem::take(&mut session.subs).into_keys() {
                self.index.remove(&filter, client_id);
            }
            session.outbound = Outbound::new(outbound);
            session.qos2_in.clear();
            session.pubrel_reserved = false;
        } else if existed {
            session_present = true;
        }
        let old = session.conn.replace(conn);
        session.clean = clean;
        session.perms.clone_from(&perms);
        if let Some(old) = old {
            // [MQTT-3.1.4-2]: the old connection goes, without its will.
            self.conns.remove(&old);
            self.writes.remove(&old);
            self.flappers.insert(client_id.to_owned(), now);
            self.events.push(Event::TakenOver {
                conn: old,
                by: conn,
                client_id: client_id.to_owned(),
            });
        }
        self.conns.insert(
            conn,
            ConnRecord {
                client_id: client_id.to_owned(),
                will: will.map(Arc::new),
                perms,
            },
        );
        if let Some(session) = self.sessions.get_mut(client_id) {
            let out = self.writes.entry(conn).or_default();
            session.outbound.resume(now, out);
        }
        Ok(Connected { session_present })
    }

    /// The connection ended (for any reason, including a takeover's close, which is a
    /// no-op here). Publishes its will as [`MqttSession::will_fate`] says.
    /// Go: `mqttHandleClosedClient`.
    ///
    /// [`MqttSession::will_fate`]: crate::mqtt::MqttSession::will_fate
    pub fn disconnect(&mut self, conn: ConnId, will: WillFate, now: Instant) {
        self.writes.remove(&conn);
        let Some(rec) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(session) = self.sessions.get_mut(&rec.client_id)
            && session.conn == Some(conn)
        {
            session.conn = None;
            session.outbound.detach();
            if session.clean
                && let Some(gone) = self.sessions.remove(&rec.client_id)
            {
                for filter in gone.subs.keys() {
                    self.index.remove(filter, &rec.client_id);
                }
            }
        }
        self.flappers.remove(&rec.client_id);
        if will == WillFate::Publish
            && let Some(msg) = rec.will
        {
            self.publish_as(rec.perms.as_ref(), conn, &msg, now);
        }
    }

    /// A message `conn` publishes, if its permissions allow: else dropped with
    /// [`Event::PublishDenied`] (Go: the violation is logged, the message dropped, a
    /// QoS 1 PUBLISH still acknowledged, nothing retained).
    pub(crate) fn publish_as(
        &mut self,
        perms: Option<&Perms>,
        conn: ConnId,
        msg: &Arc<Message>,
        now: Instant,
    ) {
        if may_publish(perms, &msg.subject) {
            self.publish(msg, now);
        } else {
            self.events.push(Event::PublishDenied {
                conn,
                subject: msg.subject.clone(),
            });
        }
    }

    /// The permissions `conn` connected with.
    pub(crate) fn perms_of(&self, conn: ConnId) -> Option<Perms> {
        self.conns.get(&conn).and_then(|c| c.perms.clone())
    }

    /// A message from an MQTT client (QoS 0/1 PUBLISH, a released QoS 2, a will),
    /// permissions already checked: retained if asked, to MQTT subscribers and to NATS.
    /// Go: `mqttInitiateMsgDelivery` and `mqttHandlePubRetain`.
    pub fn publish(&mut self, msg: &Arc<Message>, now: Instant) -> Option<RetainOutcome> {
        let flags = (msg.qos.level() << 1) | if msg.retain { PUB_FLAG_RETAIN } else { 0 };
        let mut header = Vec::new();
        nats_msg::write_message(&mut header, flags, Encoding::Delivery, b"");
        self.events.push(Event::ToNats {
            subject: msg.subject.clone(),
            header,
            payload: msg.payload.clone(),
        });
        self.route(msg, now);
        msg.retain.then(|| self.retained.retain(msg))
    }

    /// To every matching subscription (one delivery per subscription, as Go's one NATS
    /// subscription or consumer each), at the lower QoS; QoS 0 only to connected
    /// clients, QoS 1/2 tracked (and kept for a persistent session that is away).
    fn route(&mut self, msg: &Arc<Message>, now: Instant) {
        for client_id in self.index.candidates(&msg.subject) {
            let Some(session) = self.sessions.get_mut(&client_id) else {
                continue;
            };
            let link = session.link();
            if !may_receive(session.perms.as_ref(), &msg.subject) {
                continue;
            }
            for (filter, sub) in &session.subs {
                if !filter_matches(filter, &msg.subject) {
                    continue;
                }
                let d = Delivery {
                    msg: Arc::clone(msg),
                    qos: sub.qos.min(msg.qos),
                    retain: false,
                    sub: Arc::clone(filter),
                };
                let mut sink = Vec::new();
                let out = match session.conn {
                    Some(conn) => self.writes.entry(conn).or_default(),
                    None => &mut sink,
                };
                match d.qos {
                    Qos::AtMostOnce if link == Link::Connected => {
                        write_publish(out, &d, 0, d.qos, false);
                    }
                    Qos::AtMostOnce => {}
                    Qos::AtLeastOnce | Qos::ExactlyOnce => {
                        session.outbound.offer(d, link, now, out);
                    }
                }
            }
        }
    }

    /// SUBSCRIBE: one SUBACK code per filter: the granted QoS (QoS 2 downgraded to 1 if
    /// so configured), or 0x80 for a filter that is no valid NATS subject (a `#` not
    /// last), is under `$MQTT.`, is not permitted, or would pass the session's packet
    /// identifier budget (`ack_budget`); then each granted filter's retained messages,
    /// RETAIN set, at the lower QoS. A filter subscribed again replaces its QoS (and gets the retained messages
    /// again). Go: `processSubs`, `serializeRetainedMsgsForSub`.
    pub fn subscribe(
        &mut self,
        conn: ConnId,
        filters: &[(Option<&[u8]>, Qos)],
        now: Instant,
    ) -> Vec<u8> {
        let Some(session) = attached(&mut self.sessions, &self.conns, conn) else {
            return vec![SUBACK_FAILURE; filters.len()];
        };
        let client_id = self.conns.get(&conn).map_or("", |c| c.client_id.as_str());
        let per = usize::from(match self.config.outbound.max_ack_pending {
            0 => crate::mqtt::outbound::DEFAULT_MAX_ACK_PENDING,
            n => n,
        });
        let mut codes = Vec::with_capacity(filters.len());
        let mut added = Vec::new();
        let mut forgotten = Vec::new();
        for (subject, requested) in filters {
            let qos = match (self.config.qos2_subscribe, *requested) {
                (Qos2Subscribe::Downgrade, Qos::ExactlyOnce) => Qos::AtLeastOnce,
                (_, q) => q,
            };
            match subject {
                Some(s) if s.starts_with(INTERNAL_PREFIX) => codes.push(SUBACK_FAILURE),
                // Go: processSub refuses the subject (`foo/#/bar` is `foo.>.bar`).
                Some(s) if !is_valid_subject(s) => codes.push(SUBACK_FAILURE),
                Some(s) => match denied_subscription(session.perms.as_ref(), s) {
                    Some(denied) => {
                        self.events.push(Event::SubscribeDenied {
                            conn,
                            subject: denied.to_vec(),
                        });
                        codes.push(SUBACK_FAILURE);
                    }
                    // (The guard reserves what the subscription needs when it fits.)
                    None if !session.reserve_acks(s, qos, per) => codes.push(SUBACK_FAILURE),
                    None => {
                        let key: Arc<[u8]> = Arc::from(*s);
                        match session.subs.insert(Arc::clone(&key), Sub { qos }) {
                            None => self.index.add(s, client_id),
                            // Go: a QoS 0 subscription has no consumer; the old one's
                            // deliveries in flight go with it.
                            Some(old) if old.qos != Qos::AtMostOnce && qos == Qos::AtMostOnce => {
                                forgotten.push(Arc::clone(&key));
                            }
                            Some(_) => {}
                        }
                        added.push((key, qos));
                        codes.push(qos.level());
                    }
                },
                None => codes.push(SUBACK_FAILURE),
            }
        }
        let out = self.writes.entry(conn).or_default();
        for sub in forgotten {
            session
                .outbound
                .forget_subscription(&sub, Link::Connected, now, out);
        }
        for (filter, sub_qos) in added {
            for msg in self.retained.matching(&filter) {
                if !may_receive(session.perms.as_ref(), &msg.subject) {
                    continue;
                }
                let d = Delivery {
                    msg: Arc::clone(msg),
                    qos: sub_qos.min(msg.qos),
                    retain: true,
                    sub: Arc::clone(&filter),
                };
                match (d.qos, self.config.qos2_publish) {
                    (Qos::AtMostOnce, _) => write_publish(out, &d, 0, d.qos, false),
                    // Go: `Rejecting retained message with QoS2 for subscription %q, as
                    // configured` (a warning), and the message is not sent.
                    (Qos::ExactlyOnce, Qos2Policy::Reject) => {}
                    (Qos::AtLeastOnce | Qos::ExactlyOnce, _) => {
                        session.outbound.offer_retained(d, now, out);
                    }
                }
            }
        }
        codes
    }

    /// UNSUBSCRIBE: the filters go, and with them their deliveries in flight or queued
    /// ([`Outbound::forget_subscription`]).
    pub fn unsubscribe(&mut self, conn: ConnId, subjects: &[&[u8]], now: Instant) {
        if let Some(session) = attached(&mut self.sessions, &self.conns, conn) {
            let client_id = self.conns.get(&conn).map_or("", |c| c.client_id.as_str());
            let out = self.writes.entry(conn).or_default();
            for s in subjects {
                if session.subs.remove(*s).is_some() {
                    self.index.remove(s, client_id);
                    session
                        .outbound
                        .forget_subscription(s, Link::Connected, now, out);
                }
            }
        }
    }

    /// Keeps a QoS 2 message until PUBREL, once per packet identifier (a duplicate is
    /// ignored, as Go's one-message-per-subject stream). Go: `mqttStoreQoS2MsgOnce`.
    pub fn store_qos2(&mut self, conn: ConnId, pi: u16, msg: Message) -> Result<(), Qos2Full> {
        let max = self.config.max_qos2_pending;
        let Some(session) = attached(&mut self.sessions, &self.conns, conn) else {
            return Ok(());
        };
        if session.qos2_in.contains_key(&pi) {
            return Ok(());
        }
        if session.qos2_in.len() >= max {
            return Err(Qos2Full(max));
        }
        session.qos2_in.insert(pi, Arc::new(msg));
        Ok(())
    }

    /// PUBREL: publishes and forgets the QoS 2 message kept under `pi`, if any.
    /// Go: `mqttProcessPubRel`.
    pub fn release_qos2(&mut self, conn: ConnId, pi: u16, now: Instant) {
        let msg =
            attached(&mut self.sessions, &self.conns, conn).and_then(|s| s.qos2_in.remove(&pi));
        if let Some(msg) = msg {
            let perms = self.perms_of(conn);
            self.publish_as(perms.as_ref(), conn, &msg, now);
        }
    }

    /// PUBACK (QoS 1 done), PUBREC (PUBREL sent) or PUBCOMP (QoS 2 done) from `conn`.
    pub fn client_ack(&mut self, conn: ConnId, ack: crate::mqtt::ClientAck, now: Instant) {
        use crate::mqtt::ClientAck;
        let Some(session) = attached(&mut self.sessions, &self.conns, conn) else {
            return;
        };
        let out = self.writes.entry(conn).or_default();
        let ob = &mut session.outbound;
        match ack {
            ClientAck::PubAck(pi) => ob.puback(pi, Link::Connected, now, out),
            ClientAck::PubRec(pi) => ob.pubrec(pi, Link::Connected, now, out),
            ClientAck::PubComp(pi) => ob.pubcomp(pi, Link::Connected, now, out),
        }
    }

    /// The earliest redelivery time of any connected session.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions
            .values()
            .filter_map(|s| s.outbound.poll_timeout())
            .min()
    }

    /// The earliest redelivery time of the session `conn` is attached to (for a pump
    /// per connection: only a connected session has timers).
    pub fn poll_timeout_for(&self, conn: ConnId) -> Option<Instant> {
        let id = &self.conns.get(&conn)?.client_id;
        let session = self.sessions.get(id).filter(|s| s.conn == Some(conn))?;
        session.outbound.poll_timeout()
    }

    /// Redelivers what `ack_wait` let lapse for `conn`'s session, into `out`.
    pub fn handle_timeout_for(&mut self, conn: ConnId, now: Instant, out: &mut Vec<u8>) {
        if let Some(session) = attached(&mut self.sessions, &self.conns, conn) {
            session.outbound.handle_timeout(now, out);
        }
    }

    /// Redelivers what `ack_wait` let lapse, for every connected session (into
    /// [`take_writes`](Self::take_writes)).
    pub fn handle_timeout(&mut self, now: Instant) {
        for session in self.sessions.values_mut() {
            if let Some(conn) = session.conn {
                let out = self.writes.entry(conn).or_default();
                session.outbound.handle_timeout(now, out);
            }
        }
    }

    /// Moves the bytes for `conn` into `out` ([`ConnBroker`] does, for the connection
    /// being served, so they interleave with its own answers as in Go).
    ///
    /// [`ConnBroker`]: crate::mqtt::ConnBroker
    pub fn take_writes_for(&mut self, conn: ConnId, out: &mut Vec<u8>) {
        if let Some(bytes) = self.writes.remove(&conn) {
            out.extend_from_slice(&bytes);
        }
    }

    /// Bytes to write, per connection, in order: other connections' deliveries and
    /// redeliveries after a timeout.
    pub fn take_writes(&mut self) -> Vec<(ConnId, Vec<u8>)> {
        std::mem::take(&mut self.writes)
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .collect()
    }

    /// What the server must do, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The retained messages.
    pub fn retained(&self) -> &RetainedStore {
        &self.retained
    }

    /// Whether the filter index holds exactly the sessions' filters (tests and fuzzing
    /// check it after operations).
    pub fn index_consistent(&self) -> bool {
        let want = FilterIndex::entries_for(
            self.sessions
                .values()
                .flat_map(|s| s.subs.keys().map(|k| &**k)),
        );
        self.index.len() == want
    }

    /// Whether a session exists for `client_id`, and whether a client is attached.
    pub fn session_state(&self, client_id: &str) -> Option<SessionView> {
        self.sessions.get(client_id).map(|s| SessionView {
            connected: s.conn,
            clean: s.clean,
            subscriptions: s.subs.len(),
            in_flight: s.outbound.in_flight(),
            pubrel_pending: s.outbound.pubrel_pending(),
            queued: s.outbound.queued(),
            qos2_pending: s.qos2_in.len(),
        })
    }
}

/// The session `conn` is attached to (none once it was taken over).
fn attached<'a>(
    sessions: &'a mut BTreeMap<String, SessionRecord>,
    conns: &HashMap<ConnId, ConnRecord>,
    conn: ConnId,
) -> Option<&'a mut SessionRecord> {
    let id = &conns.get(&conn)?.client_id;
    sessions.get_mut(id).filter(|s| s.conn == Some(conn))
}

/// A session as monitoring and tests see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionView {
    /// The attached connection.
    pub connected: Option<ConnId>,
    /// Clean session.
    pub clean: bool,
    /// Subscriptions.
    pub subscriptions: usize,
    /// PUBLISH in flight.
    pub in_flight: usize,
    /// PUBREL awaiting PUBCOMP.
    pub pubrel_pending: usize,
    /// Deliveries waiting for a slot.
    pub queued: usize,
    /// Received QoS 2 messages awaiting PUBREL.
    pub qos2_pending: usize,
}

mod ack_budget;
mod nats_side;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod go_retained_will;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod go_permissions;
