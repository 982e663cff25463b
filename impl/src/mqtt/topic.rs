//! MQTT topic names and filters ↔ NATS subjects (Go: `mqttToNATSSubjectConversion`,
//! `natsSubjectToMQTTTopic`).
//!
//! MQTT → NATS: `/` becomes `.`, except that an empty level keeps a `/` beside the `.`
//! (a leading `/` is `/.`, a `/` before another `/` or at the end is `./`); `.` becomes
//! `//`; in filters `+` becomes `*` and `#` becomes `>`. Whitespace and DEL are refused.
//! NATS → MQTT undoes it.

use std::borrow::Cow;

use crate::mqtt::MqttError;

const LEVEL_SEP: u8 = b'/';
const NATS_SEP: u8 = b'.';

/// Whether wildcards are allowed: filters (SUBSCRIBE) yes, topic names (PUBLISH, will) no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wildcards {
    Allowed,
    Refused,
}

/// A PUBLISH (or will) topic name as a NATS subject. Go: `mqttTopicToNATSPubSubject`.
pub fn topic_to_nats_pub_subject(topic: &[u8]) -> Result<Cow<'_, [u8]>, MqttError> {
    convert(topic, Wildcards::Refused)
}

/// A SUBSCRIBE/UNSUBSCRIBE topic filter as a NATS subject. Go: `mqttFilterToNATSSubject`.
pub fn filter_to_nats_subject(filter: &[u8]) -> Result<Cow<'_, [u8]>, MqttError> {
    convert(filter, Wildcards::Allowed)
}

/// Go: `mqttToNATSSubjectConversion`. Borrows when nothing changes, as Go avoids a copy.
fn convert(mt: &[u8], wildcards: Wildcards) -> Result<Cow<'_, [u8]>, MqttError> {
    // The output so far; `None` while it equals the input's prefix.
    let mut res: Option<Vec<u8>> = None;
    let copy = |res: &mut Option<Vec<u8>>, upto: usize| -> Vec<u8> {
        res.take().unwrap_or_else(|| {
            let mut v = Vec::with_capacity(mt.len() + 10);
            v.extend_from_slice(&mt[..upto]);
            v
        })
    };
    let end = mt.len().saturating_sub(1);
    for (i, &c) in mt.iter().enumerate() {
        match c {
            LEVEL_SEP => {
                // The last output byte: the input's previous byte while nothing changed
                // (never a `.`, which would have changed it).
                let last_is_sep = res.as_ref().and_then(|r| r.last()) == Some(&NATS_SEP);
                let mut out = copy(&mut res, i);
                if i == 0 || last_is_sep {
                    out.extend_from_slice(b"/.");
                } else if i == end || mt.get(i + 1) == Some(&LEVEL_SEP) {
                    out.extend_from_slice(b"./");
                } else {
                    out.push(NATS_SEP);
                }
                res = Some(out);
            }
            // Whitespace would split a NATS control line; DEL is the subject tree's
            // internal pivot. Go: errMQTTUnsupportedCharacters.
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x7f => {
                return Err(MqttError::UnsupportedCharacters);
            }
            NATS_SEP => {
                let mut out = copy(&mut res, i);
                out.extend_from_slice(b"//");
                res = Some(out);
            }
            b'+' | b'#' => {
                if wildcards == Wildcards::Refused {
                    // Spec [MQTT-3.3.2-2], [MQTT-4.7.1-1].
                    return Err(MqttError::WildcardInTopic(mt.to_vec()));
                }
                let mut out = copy(&mut res, i);
                out.push(if c == b'+' { b'*' } else { b'>' });
                res = Some(out);
            }
            _ => {
                if let Some(out) = res.as_mut() {
                    out.push(c);
                }
            }
        }
    }
    match res {
        Some(mut out) => {
            if out.last() == Some(&NATS_SEP) {
                out.push(LEVEL_SEP);
            }
            Ok(Cow::Owned(out))
        }
        None => Ok(Cow::Borrowed(mt)),
    }
}

/// A NATS subject as an MQTT topic (for delivery; no wildcard handling).
/// Go: `natsSubjectToMQTTTopic`.
pub fn nats_subject_to_topic(subject: &[u8]) -> Vec<u8> {
    let mut topic = Vec::with_capacity(subject.len());
    let mut i = 0;
    while i < subject.len() {
        match subject[i] {
            LEVEL_SEP => match subject.get(i + 1) {
                Some(&NATS_SEP) => {
                    topic.push(LEVEL_SEP);
                    i += 1;
                }
                Some(&LEVEL_SEP) => {
                    topic.push(NATS_SEP);
                    i += 1;
                }
                // A lone `/` marks an empty level next to a `.`: dropped.
                _ => {}
            },
            NATS_SEP => topic.push(LEVEL_SEP),
            c => topic.push(c),
        }
        i += 1;
    }
    topic
}

/// Whether a NATS subject has more than one token and ends with `.>` (Go subscribes
/// such an MQTT `foo/#` also to `foo`). Go: `mqttNeedSubForLevelUp`.
pub fn needs_level_up_subscription(subject: &[u8]) -> bool {
    subject.len() >= 3 && subject.ends_with(b".>")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
