//! MQTT served (Go: `startMQTT`, `createMQTTClient`): each account's in-memory
//! [`SessionManager`] ([`AccountMqtt`]), its NATS subscriptions, and the exchange with
//! NATS clients both ways. The connections themselves are [`MqttConn`]s on the same
//! [`crate::conn::Connection`] and pump as NATS clients.
//!
//! Locking: an account's manager is locked for one operation at a time; what the
//! operation produced for other connections and for NATS is dispatched after the lock is
//! released, so a delivery never takes a manager's lock while holding another's.

mod conn;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub(crate) use conn::MqttConn;

use crate::frame::ClosedState;
use crate::mqtt::sessions::Qos2Subscribe;
use crate::mqtt::sessions::{Event, SessionManager, StateConfig};
use crate::mqtt::{ConnId, OutboundConfig, Qos2Policy};
use crate::nats::ops::Delivery;
use crate::options::MqttOpts;
use crate::server::router::{
    AccountSubs, Client, Owner, Sub, lock, publish_from, subscribe_owned, unsubscribe_internal,
};
use crate::server::tls::TlsHolder;
use crate::server::{ConnType, LogLevel, Shared};

/// Go's default `ack_wait` (`mqttDefaultAckWait`).
const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

/// The MQTT listener's settings and every account's state.
#[derive(Debug)]
pub(crate) struct MqttServer {
    /// Per-account state settings.
    state: StateConfig,
    /// Go's `reject_qos2_publish`.
    pub(crate) qos2: Qos2Policy,
    /// Time allowed for CONNECT (Go: `mqtt.authorization.timeout`, else the server's).
    pub(crate) connect_timeout: Option<Duration>,
    /// The `mqtt { tls }` listener's certificates.
    pub(crate) tls: Option<TlsHolder>,
    /// `mqtt { tls { timeout } }`.
    pub(crate) tls_timeout: Duration,
    accounts: Mutex<HashMap<String, Arc<AccountMqtt>>>,
}

impl MqttServer {
    /// From the `mqtt {}` block and the server's auth timeout.
    pub(crate) fn new(
        mo: &MqttOpts,
        server_auth_timeout: Duration,
        tls: Option<TlsHolder>,
        tls_timeout: Duration,
    ) -> MqttServer {
        let ack_wait = mo
            .ack_wait
            .to_std()
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_ACK_WAIT);
        let qos2 = if mo.reject_qos2_publish {
            Qos2Policy::Reject
        } else {
            Qos2Policy::Accept
        };
        let state = StateConfig {
            outbound: OutboundConfig {
                ack_wait,
                max_ack_pending: mo.max_ack_pending,
                ..OutboundConfig::default()
            },
            qos2_publish: qos2,
            qos2_subscribe: if mo.downgrade_qos2_subscribe {
                Qos2Subscribe::Downgrade
            } else {
                Qos2Subscribe::Grant
            },
            ..StateConfig::default()
        };
        let connect_timeout = if mo.auth_timeout > 0.0 {
            Duration::try_from_secs_f64(mo.auth_timeout).ok()
        } else {
            Some(server_auth_timeout)
        };
        MqttServer {
            state,
            qos2,
            connect_timeout,
            tls,
            tls_timeout,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// The state of account `name`, created on first use.
    pub(crate) fn account(&self, shared: &Shared, name: &str) -> Arc<AccountMqtt> {
        let mut accounts = lock(&self.accounts);
        if let Some(a) = accounts.get(name) {
            return Arc::clone(a);
        }
        let subs = shared.account(name);
        let state = self.state;
        let a = Arc::new_cyclic(|me| AccountMqtt {
            me: me.clone(),
            account: subs,
            manager: Mutex::new(SessionManager::new(state)),
            nats_subs: Mutex::new(HashMap::new()),
        });
        accounts.insert(name.to_owned(), Arc::clone(&a));
        a
    }
}

/// One account's MQTT sessions, retained messages and QoS state, and the NATS
/// subscriptions their filters need.
#[derive(Debug)]
pub(crate) struct AccountMqtt {
    me: Weak<AccountMqtt>,
    account: Arc<AccountSubs>,
    manager: Mutex<SessionManager>,
    /// NATS subject → the subscription that brings its messages to the sessions.
    nats_subs: Mutex<HashMap<Vec<u8>, Arc<Sub>>>,
}

/// What one operation on the manager left to do once its lock is released.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Bytes for the connection that ran the operation, for its session to flush.
    pub(crate) own: Vec<u8>,
    writes: Vec<(ConnId, Vec<u8>)>,
    events: Vec<Event>,
    interest: Option<BTreeSet<Vec<u8>>>,
}

/// Whether an operation may have changed which subjects the sessions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    /// CONNECT, SUBSCRIBE, UNSUBSCRIBE, the end of a connection.
    Changed,
    /// Anything else.
    Same,
}

impl AccountMqtt {
    /// Runs `f` on the manager and collects what it produced: the bytes for connection
    /// `own` (its session flushes them in Go's order), the rest for [`Self::apply`].
    pub(crate) fn with<T>(
        &self,
        own: Option<ConnId>,
        interest: Interest,
        f: impl FnOnce(&mut SessionManager) -> T,
    ) -> (T, Effects) {
        let mut m = lock(&self.manager);
        let r = f(&mut m);
        let mut keep = Vec::new();
        if let Some(own) = own {
            m.take_writes_for(own, &mut keep);
        }
        let writes = m.take_writes();
        let events = m.take_events();
        let interest = (interest == Interest::Changed).then(|| m.nats_interest());
        drop(m);
        (
            r,
            Effects {
                own: keep,
                writes,
                events,
                interest,
            },
        )
    }

    /// Carries out what an operation produced: other connections' bytes, takeovers,
    /// violations, messages to NATS (published as `sender`), the NATS subscriptions.
    pub(crate) fn apply(&self, shared: &Shared, sender: Option<&Arc<Client>>, fx: Effects) {
        if let Some(subjects) = fx.interest {
            self.sync_subscriptions(&subjects);
        }
        for (conn, bytes) in fx.writes {
            let client = lock(&shared.clients).get(&conn).cloned();
            if let Some(c) = client {
                if shared.mqtt_trace() != crate::conn::Trace::Off {
                    for line in crate::mqtt::trace::out_lines(&bytes) {
                        shared.log(LogLevel::Trace, &format!("{} - {line}", c.log_prefix()));
                    }
                }
                enqueue(shared, &c, &bytes);
            }
        }
        for event in fx.events {
            self.event(shared, sender, event);
        }
    }

    fn event(&self, shared: &Shared, sender: Option<&Arc<Client>>, event: Event) {
        let prefix = |conn: ConnId| {
            lock(&shared.clients)
                .get(&conn)
                .map(|c| c.log_prefix().to_owned())
        };
        match event {
            Event::TakenOver {
                conn,
                by,
                client_id,
            } => {
                let old = lock(&shared.clients).get(&conn).cloned();
                if let Some(old) = old {
                    let new = prefix(by).unwrap_or_default();
                    shared.log(
                        LogLevel::Warn,
                        &format!(
                            "{new} - Replacing old client {} since both have the same client ID {}",
                            crate::goquote::quote(old.log_prefix()),
                            crate::goquote::quote(&client_id)
                        ),
                    );
                    old.close(ClosedState::DuplicateClientId);
                }
            }
            Event::PublishDenied { conn, subject } => {
                let p = prefix(conn)
                    .or_else(|| sender.map(|s| s.log_prefix().to_owned()))
                    .unwrap_or_default();
                shared.log(
                    LogLevel::Error,
                    &format!(
                        "{p} - Publish Violation - Subject {}",
                        crate::goquote::quote(&String::from_utf8_lossy(&subject))
                    ),
                );
            }
            Event::SubscribeDenied { conn, subject } => {
                let p = prefix(conn).unwrap_or_default();
                let s = String::from_utf8_lossy(&subject);
                shared.log(
                    LogLevel::Error,
                    &format!(
                        "{p} - Subscription Violation - Subject {}, SID {s}",
                        crate::goquote::quote(&s)
                    ),
                );
            }
            Event::ToNats {
                subject,
                header,
                payload,
            } => self.to_nats(shared, sender, &subject, &header, &payload),
        }
    }

    /// An MQTT message to the account's NATS subscribers (Go: `processInboundClientMsg`
    /// with the `Nmqtt-Pub` header). The account's own MQTT subscriptions skip it: the
    /// manager already delivered it to the sessions.
    fn to_nats(
        &self,
        shared: &Shared,
        sender: Option<&Arc<Client>>,
        subject: &[u8],
        header: &[u8],
        payload: &[u8],
    ) {
        let mut body = Vec::with_capacity(header.len() + payload.len());
        body.extend_from_slice(header);
        body.extend_from_slice(payload);
        let msg = Delivery {
            subject,
            reply: None,
            header_len: Some(header.len()),
            payload: &body,
        };
        if let Some(c) = sender {
            c.stats.received(&shared.stats, payload.len());
        }
        publish_from(shared, &self.account, &msg, sender);
    }

    /// A NATS message on one of the sessions' subjects (Go: `mqttDeliverMsgCbQoS0`).
    /// Messages MQTT clients published are not taken here (see [`Self::to_nats`]).
    pub(crate) fn deliver_nats(
        &self,
        shared: &Shared,
        msg: &Delivery<'_>,
        sender: Option<&Arc<Client>>,
    ) -> bool {
        if sender.is_some_and(|s| is_mqtt(s)) {
            return false;
        }
        let hl = msg.header_len.unwrap_or(0).min(msg.payload.len());
        let (header, body) = msg.payload.split_at(hl);
        let header = (hl > 0).then_some(header);
        let ((), fx) = self.with(None, Interest::Same, |m| {
            m.deliver_nats(msg.subject, header, body);
        });
        let delivered = !fx.writes.is_empty();
        self.apply(shared, None, fx);
        delivered
    }

    /// Holds exactly one NATS subscription per subject in `subjects`.
    fn sync_subscriptions(&self, subjects: &BTreeSet<Vec<u8>>) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        let mut subs = lock(&self.nats_subs);
        subs.retain(|subject, sub| {
            let keep = subjects.contains(subject);
            if !keep {
                unsubscribe_internal(sub);
            }
            keep
        });
        for subject in subjects {
            if subs.contains_key(subject) {
                continue;
            }
            if let Some(sub) = subscribe_owned(
                &self.account,
                Owner::Mqtt(Arc::clone(&me)),
                subject,
                subject,
            ) {
                subs.insert(subject.clone(), sub);
            }
        }
    }
}

fn is_mqtt(c: &Client) -> bool {
    matches!(lock(&c.info).kind, ConnType::Mqtt | ConnType::MqttWebsocket)
}

/// Queues MQTT bytes for a connection; past `max_pending` it is a slow consumer (Go:
/// `queueOutbound`).
fn enqueue(shared: &Shared, client: &Client, bytes: &[u8]) {
    let mut out = lock(&client.out);
    if out.closing.is_some() {
        return;
    }
    out.pending.extend_from_slice(bytes);
    if out.pending.len() + out.inflight > client.max_pending {
        out.pending.clear();
        out.closing = Some(ClosedState::SlowConsumerPendingBytes);
        drop(out);
        shared
            .stats
            .slow_consumers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        shared.log(
            LogLevel::Info,
            &format!(
                "{} - Slow Consumer Detected: MaxPending of {} Exceeded",
                client.log_prefix(),
                client.max_pending
            ),
        );
    } else {
        drop(out);
        client.stats.sent(&shared.stats, bytes.len());
    }
    client.wake.notify_one();
}
