//! The NATS side of an account's MQTT sessions: messages NATS clients publish, at QoS 0,
//! and the NATS subjects the sessions need the server to subscribe to.

use std::sync::Arc;

use super::{Delivery, Message, Qos, SessionManager, filter_matches, may_receive, nats_msg};
use crate::mqtt::outbound::write_publish;
use crate::mqtt::topic::nats_subject_to_topic;

impl SessionManager {
    /// A message from a NATS client: to MQTT subscribers at QoS 0. One carrying an
    /// `Nmqtt-Pub` header with a QoS above 0 is not for QoS 1/2 subscriptions (Go takes
    /// those from JetStream only). Go: `mqttDeliverMsgCbQoS0`.
    pub fn deliver_nats(&mut self, subject: &[u8], header: Option<&[u8]>, payload: &[u8]) {
        let marked = header
            .and_then(nats_msg::parse_origin)
            .is_some_and(|o| o.qos > 0);
        let msg = Arc::new(Message {
            subject: subject.to_vec(),
            topic: nats_subject_to_topic(subject),
            qos: Qos::AtMostOnce,
            retain: false,
            payload: payload.to_vec(),
        });
        for client_id in self.index.candidates(subject) {
            let Some(session) = self.sessions.get(&client_id) else {
                continue;
            };
            let Some(conn) = session.conn else { continue };
            if !may_receive(session.perms.as_ref(), subject) {
                continue;
            }
            for (filter, sub) in &session.subs {
                if (marked && sub.qos > Qos::AtMostOnce) || !filter_matches(filter, subject) {
                    continue;
                }
                let d = Delivery {
                    msg: Arc::clone(&msg),
                    qos: Qos::AtMostOnce,
                    retain: false,
                    sub: Arc::clone(filter),
                };
                write_publish(self.writes.entry(conn).or_default(), &d, 0, d.qos, false);
            }
        }
    }

    /// Whether any connected session has a subscription `subject` matches: the server
    /// need only pass such NATS messages to [`deliver_nats`](Self::deliver_nats).
    pub fn has_interest(&self, subject: &[u8]) -> bool {
        self.index.candidates(subject).iter().any(|id| {
            self.sessions.get(id).is_some_and(|s| {
                s.conn.is_some() && s.subs.keys().any(|f| filter_matches(f, subject))
            })
        })
    }

    /// The NATS subjects connected sessions' filters need, for the server's NATS
    /// subscriptions: each filter, and for `foo.>` also `foo` (Go:
    /// `mqttNeedSubForLevelUp`).
    pub fn nats_interest(&self) -> std::collections::BTreeSet<Vec<u8>> {
        let mut out = std::collections::BTreeSet::new();
        for s in self.sessions.values().filter(|s| s.conn.is_some()) {
            for f in s.subs.keys() {
                if crate::mqtt::topic::needs_level_up_subscription(f)
                    && let Some(up) = f.get(..f.len() - 2)
                {
                    out.insert(up.to_vec());
                }
                out.insert(f.to_vec());
            }
        }
        out
    }
}
