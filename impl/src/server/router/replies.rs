//! [`OpenReplies`]: the reply subjects `allow_responses` lets a connection answer (Go:
//! `client.replies`, `pruneReplyPerms`, `responseAllowed`).

use std::collections::HashMap;
use std::time::Instant;

use crate::options::ResponsePermission;

/// Most open reply subjects one connection tracks for `allow_responses`; a request that
/// arrives when that many are open (after pruning) cannot be answered.
const MAX_OPEN_REPLIES: usize = 65_536;

/// Go: prune the open replies after this many new ones, or this long after the last prune.
const PRUNE_AFTER_REPLIES: u32 = 4096;
const PRUNE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The reply subjects a connection with `allow_responses` may answer (Go: `client.replies`).
#[derive(Debug)]
pub(crate) struct OpenReplies {
    /// Reply subject → when the request was delivered, answers sent so far.
    open: HashMap<Box<[u8]>, (Instant, i64), foldhash::fast::RandomState>,
    since_prune: u32,
    last_prune: Instant,
}

impl Default for OpenReplies {
    fn default() -> Self {
        OpenReplies {
            open: HashMap::default(),
            since_prune: 0,
            last_prune: Instant::now(),
        }
    }
}

impl OpenReplies {
    /// A request with `reply` was delivered (Go: `deliverMsg`'s reply tracking).
    pub(super) fn record(&mut self, reply: &[u8], rule: ResponsePermission, now: Instant) {
        self.since_prune += 1;
        if self.since_prune > PRUNE_AFTER_REPLIES
            || now.saturating_duration_since(self.last_prune) > PRUNE_AFTER
            || self.open.len() >= MAX_OPEN_REPLIES
        {
            self.prune(rule, now);
        }
        if self.open.len() < MAX_OPEN_REPLIES || self.open.contains_key(reply) {
            self.open.insert(reply.into(), (now, 0));
        }
    }

    /// Go: `pruneReplyPerms`.
    fn prune(&mut self, rule: ResponsePermission, now: Instant) {
        self.open.retain(|_, (at, n)| !spent(rule, *at, *n, now));
        self.since_prune = 0;
        self.last_prune = now;
    }

    /// Go: `responseAllowed`: counts an answer to `subject` if it is open.
    pub(super) fn answer(
        &mut self,
        subject: &[u8],
        rule: ResponsePermission,
        now: Instant,
    ) -> bool {
        let Some((at, n)) = self.open.get_mut(subject) else {
            return false;
        };
        *n += 1;
        let over = rule.max_msgs > 0 && *n > rule.max_msgs;
        if over || expired(rule, *at, now) {
            self.open.remove(subject);
            return false;
        }
        true
    }
}

fn expired(rule: ResponsePermission, at: Instant, now: Instant) -> bool {
    rule.expires
        .is_some_and(|ttl| now.saturating_duration_since(at) > ttl)
}

/// Go's prune test: used up (`n >= max`) or expired.
fn spent(rule: ResponsePermission, at: Instant, n: i64, now: Instant) -> bool {
    (rule.max_msgs > 0 && n >= rule.max_msgs) || expired(rule, at, now)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn rule(max_msgs: i64, expires: Option<Duration>) -> ResponsePermission {
        ResponsePermission { max_msgs, expires }
    }

    #[test]
    fn open_replies_count_answers_and_expire() {
        let now = Instant::now();
        let mut r = OpenReplies::default();
        let two = rule(2, Some(Duration::from_millis(50)));
        assert!(!r.answer(b"a", two, now), "never opened");
        r.record(b"a", two, now);
        assert!(r.answer(b"a", two, now));
        assert!(r.answer(b"a", two, now));
        assert!(!r.answer(b"a", two, now), "max 2 answers");
        assert!(!r.answer(b"a", two, now), "removed once spent");
        r.record(b"b", two, now);
        assert!(
            !r.answer(b"b", two, now + Duration::from_millis(51)),
            "expired"
        );
        // A redelivered request opens its reply again, with a fresh count.
        r.record(b"c", two, now);
        assert!(r.answer(b"c", two, now));
        r.record(b"c", two, now);
        assert!(r.answer(b"c", two, now) && r.answer(b"c", two, now));
        // Negative max and no expiry: any number of answers, forever.
        let open = rule(-1, None);
        r.record(b"d", open, now);
        for _ in 0..10 {
            assert!(r.answer(b"d", open, now + Duration::from_secs(3600)));
        }
    }

    #[test]
    fn open_replies_are_pruned_and_bounded() {
        let now = Instant::now();
        let mut r = OpenReplies::default();
        // Spent and expired entries go at the next prune (every 4096 records or 1 s).
        let once = rule(1, Some(Duration::from_millis(10)));
        r.record(b"spent", once, now);
        assert!(r.answer(b"spent", once, now));
        r.record(b"old", once, now);
        r.record(b"new", once, now + Duration::from_secs(2));
        assert_eq!(r.open.len(), 1, "{:?}", r.open.keys().collect::<Vec<_>>());
        // Entries that never expire stop at the cap: the next request cannot be answered.
        let forever = rule(-1, None);
        let mut r = OpenReplies::default();
        for i in 0..MAX_OPEN_REPLIES {
            r.record(format!("r.{i}").as_bytes(), forever, now);
        }
        assert_eq!(r.open.len(), MAX_OPEN_REPLIES);
        r.record(b"one.more", forever, now);
        assert_eq!(r.open.len(), MAX_OPEN_REPLIES);
        assert!(!r.answer(b"one.more", forever, now));
        assert!(r.answer(b"r.7", forever, now), "an open one still answers");
    }
}
