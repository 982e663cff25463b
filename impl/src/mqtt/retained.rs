//! Retained messages of one account, in memory (Go: `mqttAccountSessionManager`'s
//! `retmsgs` and the `$MQTT_rmsgs` stream, `mqttHandlePubRetain`,
//! `serializeRetainedMsgsForSub`).
//!
//! One message per NATS subject: a PUBLISH with RETAIN replaces it, an empty payload
//! deletes it ([MQTT-3.3.1-10]). A SUBSCRIBE gets every retained message its filter
//! matches, with RETAIN set. Bounded by a count; at the bound a new subject is refused
//! (a replacement is always taken). Go keeps them in JetStream, here they are lost on
//! restart (docs/CONFORMANCE.md).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::mqtt::outbound::Message;
use crate::mqtt::topic::needs_level_up_subscription;
use crate::nats::subject;

/// Default most retained messages per account.
pub const DEFAULT_MAX_RETAINED: usize = 65_536;

/// What a RETAIN publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetainOutcome {
    /// Stored (new subject or replacement).
    Stored,
    /// The empty payload deleted the subject's message (or there was none).
    Deleted,
    /// A new subject beyond the bound: not stored.
    Full,
}

/// An account's retained messages, by NATS subject.
#[derive(Debug)]
pub struct RetainedStore {
    max: usize,
    msgs: BTreeMap<Vec<u8>, Arc<Message>>,
}

impl RetainedStore {
    /// An empty store holding at most `max` messages.
    pub fn new(max: usize) -> Self {
        RetainedStore {
            max,
            msgs: BTreeMap::new(),
        }
    }

    /// A PUBLISH with RETAIN: store, replace or (empty payload) delete.
    pub fn retain(&mut self, msg: &Arc<Message>) -> RetainOutcome {
        if msg.payload.is_empty() {
            self.msgs.remove(&msg.subject);
            return RetainOutcome::Deleted;
        }
        if !self.msgs.contains_key(&msg.subject) && self.msgs.len() >= self.max {
            return RetainOutcome::Full;
        }
        self.msgs.insert(msg.subject.clone(), Arc::clone(msg));
        RetainOutcome::Stored
    }

    /// The retained message on `subject`.
    pub fn get(&self, subject: &[u8]) -> Option<&Arc<Message>> {
        self.msgs.get(subject)
    }

    /// Messages a subscription on the NATS `filter` receives, in subject order.
    pub fn matching<'a>(&'a self, filter: &'a [u8]) -> impl Iterator<Item = &'a Arc<Message>> {
        self.msgs
            .iter()
            .filter(move |(subj, _)| filter_matches(filter, subj))
            .map(|(_, m)| m)
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }
}

/// Whether an MQTT subscription on the NATS `filter` receives `subject`: NATS
/// matching, plus `foo.>` also matching `foo` (Go subscribes `foo/#` to both, `#`
/// includes the parent level, [MQTT-4.7.1-2]); and a filter starting with a wildcard
/// does not match a subject starting with `$` ([MQTT-4.7.2-1]; Go:
/// `isMQTTReservedSubscription`, `mqttMustIgnoreForReservedSub`).
pub fn filter_matches(filter: &[u8], subj: &[u8]) -> bool {
    if is_reserved_filter(filter) && subj.first() == Some(&b'$') {
        return false;
    }
    if subject::matches(filter, subj) {
        return true;
    }
    needs_level_up_subscription(filter) && filter.get(..filter.len() - 2) == Some(subj)
}

/// `*`, `>`, or starting with `*.`. Go: `isMQTTReservedSubscription`.
fn is_reserved_filter(filter: &[u8]) -> bool {
    matches!(filter, b"*" | b">") || filter.starts_with(b"*.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mqtt::Qos;

    fn msg(subject: &str, payload: &str) -> Arc<Message> {
        Arc::new(Message {
            subject: subject.as_bytes().to_vec(),
            topic: subject.replace('.', "/").into_bytes(),
            qos: Qos::AtLeastOnce,
            retain: true,
            payload: payload.as_bytes().to_vec(),
        })
    }

    fn subjects(store: &RetainedStore, filter: &str) -> Vec<String> {
        store
            .matching(filter.as_bytes())
            .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
            .collect()
    }

    /// Go: TestMQTTPublishRetain — replace, then an empty payload deletes.
    #[test]
    fn replace_then_delete() {
        let mut s = RetainedStore::new(10);
        assert_eq!(s.retain(&msg("foo", "one")), RetainOutcome::Stored);
        assert_eq!(s.retain(&msg("foo", "two")), RetainOutcome::Stored);
        assert_eq!(subjects(&s, "foo"), ["two"]);
        assert_eq!(s.retain(&msg("foo", "")), RetainOutcome::Deleted);
        assert!(s.is_empty());
        assert_eq!(s.retain(&msg("foo", "")), RetainOutcome::Deleted);
    }

    #[test]
    fn bound_refuses_new_subjects_only() {
        let mut s = RetainedStore::new(1);
        assert_eq!(s.retain(&msg("a", "1")), RetainOutcome::Stored);
        assert_eq!(s.retain(&msg("b", "1")), RetainOutcome::Full);
        assert_eq!(s.retain(&msg("a", "2")), RetainOutcome::Stored);
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(b"a").unwrap().payload, b"2");
    }

    #[test]
    fn wildcards_level_up_and_dollar_topics() {
        let mut s = RetainedStore::new(10);
        for (subj, p) in [
            ("foo", "f"),
            ("foo.bar", "fb"),
            ("$SYS.x", "sys"),
            ("baz", "z"),
        ] {
            s.retain(&msg(subj, p));
        }
        assert_eq!(subjects(&s, "foo.>"), ["f", "fb"]);
        // Subject order: "$SYS.x" < "baz" < "foo" < "foo.bar".
        assert_eq!(subjects(&s, "*"), ["z", "f"]);
        assert_eq!(subjects(&s, ">"), ["z", "f", "fb"]);
        assert_eq!(subjects(&s, "$SYS.>"), ["sys"]);
        assert_eq!(subjects(&s, "*.x"), Vec::<String>::new());
    }
}
