//! Publish and subscribe permissions, compiled for checking. Go: `client.setPermissions`,
//! `pubAllowedFullCheck`, `canSubscribe` and the delivery-time deny filter (`checkDenySub`).

use crate::nats::subject::{is_valid_subject, matches};
use crate::nats::{Sublist, SublistResult};
use crate::options::{Permissions, ResponsePermission};

/// One user's permissions, ready to check subjects against. Shared by the user's
/// connections.
#[derive(Debug)]
pub struct Checker {
    source: Permissions,
    pub_allow: Option<Sublist<()>>,
    pub_deny: Option<Sublist<()>>,
    sub_allow: Option<Sublist<()>>,
    sub_deny: Option<Sublist<()>>,
}

impl PartialEq for Checker {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Checker {}

/// How a list reads `"subject queue"` entries (a JWT may carry them anywhere).
#[derive(Clone, Copy, PartialEq)]
enum Entries {
    /// Subscribe lists: the queue qualifies the entry.
    Queues,
    /// Publish allow: such an entry is skipped (Go logs `invalid publish subject`).
    SkipQualified,
    /// Publish deny: the subject part is kept, so the deny keeps its scope.
    SubjectOfQualified,
}

/// Inserts `subject` or `"subject queue"` entries; malformed ones are skipped, as Go logs
/// and skips them (the configuration parser has already refused them).
fn sublist(entries: &[String], how: Entries) -> Sublist<()> {
    let mut list = Sublist::new();
    for entry in entries {
        let fields: Vec<&str> = entry.split_whitespace().collect();
        let (subject, queue) = match (&fields[..], how) {
            (&[subject], _) => (subject, None),
            (&[subject, queue], Entries::Queues) => (subject, Some(queue.as_bytes())),
            (&[subject, _], Entries::SubjectOfQualified) => (subject, None),
            _ => continue,
        };
        if is_valid_subject(subject.as_bytes()) {
            let _ = list.insert(subject.as_bytes(), queue, ());
        }
    }
    list
}

/// Go: `queueMatches`: the queue is one of the groups, literally or by a wildcard group.
fn queue_matches(queue: &[u8], groups: &[(Box<[u8]>, Vec<()>)]) -> bool {
    groups.is_empty()
        || groups.iter().any(|(group, _)| {
            **group == *queue
                || (group.iter().any(|&b| b == b'*' || b == b'>') && matches(group, queue))
        })
}

impl Checker {
    /// The permissions as configured.
    pub fn source(&self) -> &Permissions {
        &self.source
    }

    /// Compiles `permissions` (Go: `setPermissions`): a publish allow list is in force
    /// even when empty (nothing may be published), a subscribe allow list only when it
    /// has entries.
    pub fn new(permissions: &Permissions) -> Checker {
        let publish = permissions.publish.as_ref();
        let subscribe = permissions.subscribe.as_ref();
        Checker {
            pub_allow: publish
                .and_then(|p| p.allow.as_deref())
                .map(|a| sublist(a, Entries::SkipQualified)),
            pub_deny: publish
                .filter(|p| !p.deny.is_empty())
                .map(|p| sublist(&p.deny, Entries::SubjectOfQualified)),
            sub_allow: subscribe
                .and_then(|p| p.allow.as_deref())
                .filter(|a| !a.is_empty())
                .map(|a| sublist(a, Entries::Queues)),
            sub_deny: subscribe
                .filter(|p| !p.deny.is_empty())
                .map(|p| sublist(&p.deny, Entries::Queues)),
            source: permissions.clone(),
        }
    }

    /// The response permission (`allow_responses`), if any.
    pub fn responses(&self) -> Option<ResponsePermission> {
        self.source.response
    }

    /// Whether publishing to `subject` is allowed by the lists alone (a reply to a
    /// received request may still be allowed by [`Checker::responses`]).
    pub fn can_publish(&self, subject: &[u8]) -> bool {
        let mut r = SublistResult::default();
        if let Some(allow) = &self.pub_allow {
            allow.matches(subject, &mut r);
            if r.is_empty() {
                return false;
            }
        }
        match &self.pub_deny {
            Some(deny) => {
                deny.matches(subject, &mut r);
                r.is_empty()
            }
            None => true,
        }
    }

    /// Whether the publish lists restrict anything (Go checks only then).
    pub fn restricts_publish(&self) -> bool {
        self.pub_allow.is_some() || self.pub_deny.is_some()
    }

    /// Whether subscribing to `subject` (in `queue`) is allowed. Go: `canSubscribe`.
    pub fn can_subscribe(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let mut r = SublistResult::default();
        if let Some(allow) = &self.sub_allow {
            allow.matches(subject, &mut r);
            let mut allowed = !r.psubs.is_empty();
            if let Some(q) = queue
                && !r.qsubs.is_empty()
            {
                allowed = queue_matches(q, &r.qsubs);
            }
            if !allowed {
                return false;
            }
        }
        !self.denies_delivery(subject, queue)
    }

    /// Whether a message on `subject` must not reach a subscription (in `queue`) of this
    /// user: the subscribe deny list matches it. Go: `checkDenySub`.
    pub fn denies_delivery(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let Some(deny) = &self.sub_deny else {
            return false;
        };
        let mut r = SublistResult::default();
        deny.matches(subject, &mut r);
        !r.psubs.is_empty()
            || queue.is_some_and(|q| !r.qsubs.is_empty() && queue_matches(q, &r.qsubs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::SubjectPermission;

    fn checker(
        publish: Option<SubjectPermission>,
        subscribe: Option<SubjectPermission>,
    ) -> Checker {
        Checker::new(&Permissions {
            publish,
            subscribe,
            response: None,
        })
    }

    fn list(allow: Option<&[&str]>, deny: &[&str]) -> Option<SubjectPermission> {
        let owned = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Some(SubjectPermission {
            allow: allow.map(owned),
            deny: owned(deny),
        })
    }

    #[test]
    fn publish_lists() {
        let p = checker(list(Some(&["a.*", "b c"]), &["a.x", "d e"]), None);
        assert!(p.restricts_publish());
        assert!(p.can_publish(b"a.y"));
        assert!(!p.can_publish(b"a.x"), "denied");
        assert!(!p.can_publish(b"b"), "a qualified allow entry is skipped");
        // An empty allow list allows nothing; no allow list allows what is not denied.
        assert!(!checker(list(Some(&[]), &[]), None).can_publish(b"a"));
        let deny_only = checker(list(None, &["d e"]), None);
        assert!(
            !deny_only.can_publish(b"d"),
            "a qualified deny keeps its subject"
        );
        assert!(deny_only.can_publish(b"e"));
        assert!(!checker(None, None).restricts_publish());
    }

    #[test]
    fn subscribe_lists_with_queues() {
        // Go's comment: ["foo"] any queue; ["foo v1"] only queue v1; both: plain or v1.
        let p = checker(
            None,
            list(Some(&["foo", "bar v1", "baz v.*"]), &["foo.x", "foo q1"]),
        );
        assert!(p.can_subscribe(b"foo", None));
        assert!(p.can_subscribe(b"foo", Some(b"any")));
        assert!(!p.can_subscribe(b"foo", Some(b"q1")), "queue denied");
        assert!(!p.can_subscribe(b"bar", None));
        assert!(p.can_subscribe(b"bar", Some(b"v1")));
        assert!(!p.can_subscribe(b"bar", Some(b"v2")));
        assert!(
            p.can_subscribe(b"baz", Some(b"v.2")),
            "wildcard queue group"
        );
        assert!(!p.can_subscribe(b"other", None));
        // An empty subscribe allow list is no list (Go: only a non-empty one is built).
        assert!(checker(None, list(Some(&[]), &[])).can_subscribe(b"x", None));
    }

    #[test]
    fn deny_filters_deliveries() {
        let p = checker(None, list(None, &["foo.baz", "q.* grp"]));
        assert!(p.can_subscribe(b"foo.*", None));
        assert!(p.denies_delivery(b"foo.baz", None));
        assert!(p.denies_delivery(b"foo.baz", Some(b"any")));
        assert!(!p.denies_delivery(b"foo.bar", None));
        assert!(p.denies_delivery(b"q.a", Some(b"grp")));
        assert!(!p.denies_delivery(b"q.a", Some(b"other")));
        assert!(!p.denies_delivery(b"q.a", None));
    }
}
