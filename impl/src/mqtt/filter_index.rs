//! Which sessions have a filter a subject may match: a subject tree over every session's
//! NATS filters, so a message visits the sessions it may reach, not all of an account's
//! (Go keeps one NATS subscription per MQTT filter in the account's sublist).
//!
//! The index over-approximates: a candidate session still checks each of its filters
//! with [`filter_matches`](crate::mqtt::retained::filter_matches) (reserved `$` subjects,
//! the level-up of `foo.>`). It holds one entry per (filter, client id) pair, plus one for
//! the level-up subject `foo` of a `foo.>` filter; memory is bounded by the sessions'
//! subscriptions, which are bounded themselves (docs/CONFORMANCE.md row 46).

use std::collections::BTreeSet;

use crate::mqtt::topic::needs_level_up_subscription;
use crate::nats::sublist::{Sublist, SublistResult};

/// Filters → client ids.
#[derive(Debug, Default)]
pub(crate) struct FilterIndex {
    list: Sublist<String>,
}

/// The subjects a filter is indexed under: itself, and `foo` for `foo.>`.
fn keys(filter: &[u8]) -> impl Iterator<Item = &[u8]> {
    let up = needs_level_up_subscription(filter)
        .then(|| filter.get(..filter.len() - 2))
        .flatten();
    std::iter::once(filter).chain(up)
}

impl FilterIndex {
    /// `client_id` subscribed `filter` (a valid NATS subject; others are not indexed,
    /// and no session keeps one).
    pub(crate) fn add(&mut self, filter: &[u8], client_id: &str) {
        for k in keys(filter) {
            let _ = self.list.insert(k, None, client_id.to_owned());
        }
    }

    /// `client_id` no longer has `filter`.
    pub(crate) fn remove(&mut self, filter: &[u8], client_id: &str) {
        let id = client_id.to_owned();
        for k in keys(filter) {
            self.list.remove(k, None, &id);
        }
    }

    /// The client ids whose sessions may have a filter matching the literal `subject`,
    /// in client id order (the order sessions are visited in).
    pub(crate) fn candidates(&self, subject: &[u8]) -> BTreeSet<String> {
        let mut r = SublistResult::default();
        self.list.matches(subject, &mut r);
        r.psubs.into_iter().collect()
    }

    /// Entries.
    pub(crate) fn len(&self) -> usize {
        self.list.count()
    }

    /// The entries `filters` need (to check the index against the sessions).
    pub(crate) fn entries_for<'a>(filters: impl Iterator<Item = &'a [u8]>) -> usize {
        filters.map(|f| keys(f).count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_cover_nats_matching_and_level_up() {
        let mut ix = FilterIndex::default();
        ix.add(b"foo.>", "a");
        ix.add(b"foo.bar", "b");
        ix.add(b"*.bar", "c");
        ix.add(b"baz", "d");
        fn ids(ix: &FilterIndex, s: &str) -> Vec<String> {
            ix.candidates(s.as_bytes()).into_iter().collect()
        }
        assert_eq!(ids(&ix, "foo.bar"), ["a", "b", "c"]);
        // `foo/#` includes its parent level.
        assert_eq!(ids(&ix, "foo"), ["a"]);
        assert_eq!(ids(&ix, "baz"), ["d"]);
        assert!(ids(&ix, "qux").is_empty());
        ix.remove(b"foo.>", "a");
        assert_eq!(ids(&ix, "foo"), Vec::<String>::new());
        assert_eq!(ids(&ix, "foo.bar"), ["b", "c"]);
        ix.remove(b"foo.bar", "b");
        ix.remove(b"*.bar", "c");
        ix.remove(b"baz", "d");
        assert_eq!(ix.len(), 0);
    }
}
