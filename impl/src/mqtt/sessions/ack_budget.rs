//! The packet identifiers a session's QoS 1/2 subscriptions may reserve in total (Go:
//! `tmaxack` against `mqttMaxAckTotalLimit`): each such subscription reserves
//! `max_ack_pending` identifiers (Go: its JetStream consumer's `MaxAckPending`), a
//! `foo/#` twice (it is two subscriptions, `foo.>` and `foo`), and the first QoS 2
//! subscription once more for the session's PUBREL consumer, kept until the session is
//! cleared. A SUBSCRIBE that would pass 65 535 gets SUBACK 0x80 for that filter.

use super::{Qos, SessionRecord};
use crate::mqtt::topic::needs_level_up_subscription;

/// Go: `mqttMaxAckTotalLimit`.
const MAX_ACK_TOTAL: usize = 0xFFFF;

/// The identifiers a filter's subscription reserves at `per` each.
fn weight(filter: &[u8], per: usize) -> usize {
    if needs_level_up_subscription(filter) {
        2 * per
    } else {
        per
    }
}

impl SessionRecord {
    /// Identifiers reserved now.
    fn reserved(&self, per: usize) -> usize {
        let subs: usize = self
            .subs
            .iter()
            .filter(|(_, s)| s.qos != Qos::AtMostOnce)
            .map(|(f, _)| weight(f, per))
            .sum();
        subs + if self.pubrel_reserved { per } else { 0 }
    }

    /// Whether `filter` may be subscribed at `qos` (reserving what it needs): a QoS 0
    /// subscription, or one that already reserved, always may. Go: `processJSConsumer`
    /// and `ensurePubRelConsumerSubscription`, in that order of checks.
    pub(super) fn reserve_acks(&mut self, filter: &[u8], qos: Qos, per: usize) -> bool {
        if qos == Qos::AtMostOnce {
            return true;
        }
        if qos == Qos::ExactlyOnce && !self.pubrel_reserved {
            if self.reserved(per) + per > MAX_ACK_TOTAL {
                return false;
            }
            self.pubrel_reserved = true;
        }
        let had = self
            .subs
            .get(filter)
            .is_some_and(|s| s.qos != Qos::AtMostOnce);
        had || self.reserved(per) + weight(filter, per) <= MAX_ACK_TOTAL
    }
}
