//! What one leaf connection has told its peer it is interested in (Go: the leaf's
//! `smap`): a count per interest key, and the `LS+`/`LS-` each change sends.

use std::collections::HashMap;

use crate::leaf::wire::write_sub;

/// Which side of a leaf connection this server is: it decides whose subscriptions are
/// advertised (Go: `isSpokeLeafNode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeafRole {
    /// We accepted the connection (or solicited a remote marked `hub`): every
    /// subscription of the account is advertised, other leafs' included.
    Hub,
    /// We solicited the connection: only local subscriptions (clients, the server's
    /// own, and leafs that are not themselves spokes) are advertised.
    Spoke,
}

/// The key of a subscription's interest: `<subject>` or `<subject> <queue>` (Go:
/// `keyFromSub`).
pub fn key(subject: &[u8], queue: Option<&[u8]>) -> Vec<u8> {
    let mut k = Vec::with_capacity(subject.len() + queue.map_or(0, |q| q.len() + 1));
    k.extend_from_slice(subject);
    if let Some(q) = queue {
        k.push(b' ');
        k.extend_from_slice(q);
    }
    k
}

/// Interest key → count (for a queue key, the number of members behind it: the weight
/// the peer receives).
#[derive(Debug, Default)]
pub struct Interest {
    map: HashMap<Box<[u8]>, i32, foldhash::fast::RandomState>,
}

impl Interest {
    /// Counts `weight` more for `key` while the first snapshot is built (nothing is
    /// written until [`Interest::write_all`]).
    pub fn add(&mut self, key: &[u8], weight: i32) {
        *self.map.entry(key.into()).or_insert(0) += weight;
    }

    /// Appends `LS+` for every key (Go: the end of `initLeafNodeSmapAndSendSubs`).
    pub fn write_all(&self, out: &mut Vec<u8>) {
        for (k, n) in &self.map {
            write_sub(out, k, *n);
        }
    }

    /// A subscription behind `key` came (`delta` > 0) or went: appends `LS+`/`LS-` when
    /// the peer must hear of it — always for a queue key (its weight changed), else when
    /// the count crosses zero (Go: `updateSmap`).
    pub fn update(&mut self, key: &[u8], queue: bool, delta: i32, out: &mut Vec<u8>) {
        let current = self.map.get(key).copied();
        if delta < 0 && current.is_none() {
            return;
        }
        let n = current.unwrap_or(0);
        let after = n.saturating_add(delta);
        let send = queue || (n <= 0 && after > 0) || (n > 0 && after <= 0);
        if after > 0 {
            self.map.insert(key.into(), after);
        } else {
            self.map.remove(key);
        }
        if send {
            write_sub(out, key, after);
        }
    }

    /// Keys advertised.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Nothing advertised.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plain_interest_is_sent_on_zero_crossings_only() {
        let mut i = Interest::default();
        let mut out = Vec::new();
        i.update(b"foo", false, 1, &mut out);
        i.update(b"foo", false, 1, &mut out);
        i.update(b"foo", false, -1, &mut out);
        assert_eq!(out, b"LS+ foo\r\n");
        i.update(b"foo", false, -1, &mut out);
        assert_eq!(out, b"LS+ foo\r\nLS- foo\r\n");
        // A removal of something never advertised says nothing.
        i.update(b"bar", false, -1, &mut out);
        assert_eq!(out, b"LS+ foo\r\nLS- foo\r\n");
        assert!(i.is_empty());
    }

    #[test]
    fn queue_interest_sends_every_weight() {
        let mut i = Interest::default();
        let mut out = Vec::new();
        let k = key(b"foo", Some(b"q"));
        i.update(&k, true, 1, &mut out);
        i.update(&k, true, 1, &mut out);
        i.update(&k, true, -1, &mut out);
        i.update(&k, true, -1, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "LS+ foo q 1\r\nLS+ foo q 2\r\nLS+ foo q 1\r\nLS- foo q\r\n"
        );
    }

    #[test]
    fn snapshot_then_updates() {
        let mut i = Interest::default();
        i.add(b"a", 1);
        i.add(b"a", 1);
        i.add(b"b q", 3);
        let mut out = Vec::new();
        i.write_all(&mut out);
        let mut lines: Vec<_> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        assert_eq!(lines, ["LS+ a", "LS+ b q 3"]);
        let mut out = Vec::new();
        i.update(b"a", false, -1, &mut out);
        assert!(out.is_empty());
        assert_eq!(i.len(), 2);
    }
}
