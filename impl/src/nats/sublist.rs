//! The subscription list: a token trie with `*` and `>` (Go: `Sublist` in `sublist.go`).
//!
//! Generic over the subscriber value so the core stays IO-free: the server stores its
//! subscription handles here. Matching groups queue subscribers by queue name across
//! every matching pattern, so a caller delivers to one member per group.

use std::collections::HashMap;

use crate::nats::subject::is_valid_subject;

/// Why an insert was refused. Go: `ErrInvalidSubject` → `-ERR 'Invalid Subject'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SublistError {
    /// Empty tokens, whitespace, or `>` before the last token.
    #[error("invalid subject")]
    InvalidSubject,
}

/// Subscribers interested in one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SublistResult<T> {
    /// Plain subscribers: each gets the message.
    pub psubs: Vec<T>,
    /// Queue groups (name, members): one member per group gets the message.
    pub qsubs: Vec<(Box<[u8]>, Vec<T>)>,
}

impl<T> Default for SublistResult<T> {
    fn default() -> Self {
        SublistResult {
            psubs: Vec::new(),
            qsubs: Vec::new(),
        }
    }
}

impl<T> SublistResult<T> {
    /// Empties the result, keeping allocations.
    pub fn clear(&mut self) {
        self.psubs.clear();
        self.qsubs.clear();
    }

    /// No subscriber at all.
    pub fn is_empty(&self) -> bool {
        self.psubs.is_empty() && self.qsubs.is_empty()
    }
}

#[derive(Debug)]
struct Level<T> {
    literal: HashMap<Box<[u8]>, Node<T>, foldhash::fast::RandomState>,
    pwc: Option<Box<Node<T>>>,
    fwc: Option<Box<Node<T>>>,
}

#[derive(Debug)]
struct Node<T> {
    next: Option<Box<Level<T>>>,
    psubs: Vec<T>,
    qsubs: Vec<(Box<[u8]>, Vec<T>)>,
}

impl<T> Default for Level<T> {
    fn default() -> Self {
        Level {
            literal: HashMap::default(),
            pwc: None,
            fwc: None,
        }
    }
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            next: None,
            psubs: Vec::new(),
            qsubs: Vec::new(),
        }
    }
}

impl<T> Node<T> {
    fn is_empty(&self) -> bool {
        self.psubs.is_empty()
            && self.qsubs.is_empty()
            && self.next.as_ref().is_none_or(|l| l.is_empty())
    }
}

impl<T> Level<T> {
    fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.pwc.is_none() && self.fwc.is_none()
    }
}

/// Subject tokens matched without allocating.
const STACK_TOKENS: usize = 16;

/// The subscription list of one account.
#[derive(Debug)]
pub struct Sublist<T> {
    root: Level<T>,
    count: usize,
}

impl<T> Default for Sublist<T> {
    fn default() -> Self {
        Sublist {
            root: Level::default(),
            count: 0,
        }
    }
}

impl<T: Clone + PartialEq> Sublist<T> {
    /// An empty list.
    pub fn new() -> Self {
        Sublist::default()
    }

    /// Number of subscriptions.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds a subscription.
    pub fn insert(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sub: T,
    ) -> Result<(), SublistError> {
        if !is_valid_subject(subject) {
            return Err(SublistError::InvalidSubject);
        }
        let mut level = &mut self.root;
        let mut tokens = subject.split(|&b| b == b'.').peekable();
        let node = loop {
            let Some(t) = tokens.next() else {
                return Err(SublistError::InvalidSubject);
            };
            let node: &mut Node<T> = match t {
                b"*" => level.pwc.get_or_insert_with(Box::default),
                b">" => level.fwc.get_or_insert_with(Box::default),
                _ => level.literal.entry(t.into()).or_default(),
            };
            if tokens.peek().is_none() {
                break node;
            }
            level = node.next.get_or_insert_with(Box::default);
        };
        match queue {
            None => node.psubs.push(sub),
            Some(q) => match node.qsubs.iter_mut().find(|(name, _)| &**name == q) {
                Some((_, members)) => members.push(sub),
                None => node.qsubs.push((q.into(), vec![sub])),
            },
        }
        self.count += 1;
        Ok(())
    }

    /// Removes a subscription; false if it was not there.
    pub fn remove(&mut self, subject: &[u8], queue: Option<&[u8]>, sub: &T) -> bool {
        let tokens: Vec<&[u8]> = subject.split(|&b| b == b'.').collect();
        let removed = remove_from(&mut self.root, &tokens, queue, sub);
        if removed {
            self.count -= 1;
        }
        removed
    }

    /// Calls `f` with every subscription (Go: `Sublist.All`), in no particular order.
    pub fn for_each(&self, f: &mut impl FnMut(&T)) {
        visit_level(&self.root, f);
    }

    /// Collects the subscribers of the literal `subject` into `out` (cleared first).
    pub fn matches(&self, subject: &[u8], out: &mut SublistResult<T>) {
        out.clear();
        // Tokens on the stack for the usual subject; longer ones take the heap.
        let mut stack: [&[u8]; STACK_TOKENS] = [&[]; STACK_TOKENS];
        let mut n = 0;
        for token in subject.split(|&b| b == b'.') {
            if token.is_empty() {
                return;
            }
            if n == STACK_TOKENS {
                let tokens: Vec<&[u8]> = subject.split(|&b| b == b'.').collect();
                return match_level(&self.root, &tokens, out);
            }
            stack[n] = token;
            n += 1;
        }
        match_level(&self.root, &stack[..n], out);
    }
}

fn visit_level<T>(level: &Level<T>, f: &mut impl FnMut(&T)) {
    let nodes = level
        .literal
        .values()
        .chain(level.pwc.as_deref())
        .chain(level.fwc.as_deref());
    for node in nodes {
        node.psubs.iter().for_each(&mut *f);
        node.qsubs.iter().flat_map(|(_, m)| m).for_each(&mut *f);
        if let Some(next) = &node.next {
            visit_level(next, f);
        }
    }
}

fn remove_from<T: PartialEq>(
    level: &mut Level<T>,
    tokens: &[&[u8]],
    queue: Option<&[u8]>,
    sub: &T,
) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return false;
    };
    let (removed, now_empty) = {
        let node = match *first {
            b"*" => level.pwc.as_deref_mut(),
            b">" => level.fwc.as_deref_mut(),
            t => level.literal.get_mut(t),
        };
        let Some(node) = node else {
            return false;
        };
        let removed = if rest.is_empty() {
            remove_sub(node, queue, sub)
        } else {
            match node.next.as_deref_mut() {
                Some(next) => {
                    let r = remove_from(next, rest, queue, sub);
                    if next.is_empty() {
                        node.next = None;
                    }
                    r
                }
                None => false,
            }
        };
        (removed, node.is_empty())
    };
    if now_empty {
        match *first {
            b"*" => level.pwc = None,
            b">" => level.fwc = None,
            t => {
                level.literal.remove(t);
            }
        }
    }
    removed
}

fn remove_sub<T: PartialEq>(node: &mut Node<T>, queue: Option<&[u8]>, sub: &T) -> bool {
    match queue {
        None => match node.psubs.iter().position(|s| s == sub) {
            Some(i) => {
                node.psubs.swap_remove(i);
                true
            }
            None => false,
        },
        Some(q) => {
            let Some(gi) = node.qsubs.iter().position(|(name, _)| &**name == q) else {
                return false;
            };
            let members = &mut node.qsubs[gi].1;
            let Some(i) = members.iter().position(|s| s == sub) else {
                return false;
            };
            members.swap_remove(i);
            if members.is_empty() {
                node.qsubs.swap_remove(gi);
            }
            true
        }
    }
}

fn match_level<T: Clone>(level: &Level<T>, tokens: &[&[u8]], out: &mut SublistResult<T>) {
    let Some((first, rest)) = tokens.split_first() else {
        return;
    };
    if let Some(fwc) = &level.fwc {
        add_node(fwc, out);
    }
    let literal = level.literal.get(*first);
    if rest.is_empty() {
        // Go's order at the last token: the literal node, then `*` (matchLevel adds `n`
        // before `pwc`); it is the order a connection with both gets its copies in.
        for node in literal.into_iter().chain(level.pwc.as_deref()) {
            add_node(node, out);
        }
        return;
    }
    for node in level.pwc.as_deref().into_iter().chain(literal) {
        if let Some(next) = &node.next {
            match_level(next, rest, out);
        }
    }
}

fn add_node<T: Clone>(node: &Node<T>, out: &mut SublistResult<T>) {
    out.psubs.extend(node.psubs.iter().cloned());
    for (name, members) in &node.qsubs {
        match out.qsubs.iter_mut().find(|(n, _)| n == name) {
            Some((_, group)) => group.extend(members.iter().cloned()),
            None => out.qsubs.push((name.clone(), members.clone())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn matched(sl: &Sublist<u32>, subject: &str) -> (Vec<u32>, Vec<(String, Vec<u32>)>) {
        let mut r = SublistResult::default();
        sl.matches(subject.as_bytes(), &mut r);
        let mut p = r.psubs.clone();
        p.sort_unstable();
        let mut q: Vec<(String, Vec<u32>)> = r
            .qsubs
            .iter()
            .map(|(n, m)| {
                let mut m = m.clone();
                m.sort_unstable();
                (String::from_utf8_lossy(n).into_owned(), m)
            })
            .collect();
        q.sort();
        (p, q)
    }

    #[test]
    fn plain_subscribers_come_in_gos_match_order() {
        // Go's matchLevel: `>` of each level first, then `*` recursion, and at the last
        // token the literal node before `*`.
        let mut sl = Sublist::new();
        for (i, s) in ["foo.*", "foo.bar", "foo.>", ">", "*.bar"]
            .iter()
            .enumerate()
        {
            sl.insert(s.as_bytes(), None, i as u32 + 1).unwrap();
        }
        let mut r = SublistResult::default();
        sl.matches(b"foo.bar", &mut r);
        assert_eq!(r.psubs, [4, 5, 3, 2, 1]);
    }

    #[test]
    fn wildcards() {
        let mut sl = Sublist::new();
        sl.insert(b"foo.bar", None, 1).unwrap();
        sl.insert(b"foo.*", None, 2).unwrap();
        sl.insert(b"foo.>", None, 3).unwrap();
        sl.insert(b">", None, 4).unwrap();
        sl.insert(b"*.bar", None, 5).unwrap();
        sl.insert(b"foo.bar.baz", None, 6).unwrap();
        assert_eq!(matched(&sl, "foo.bar").0, vec![1, 2, 3, 4, 5]);
        assert_eq!(matched(&sl, "foo.bar.baz").0, vec![3, 4, 6]);
        assert_eq!(matched(&sl, "foo").0, vec![4]);
        assert_eq!(matched(&sl, "bar.baz").0, vec![4]);
        assert_eq!(sl.count(), 6);
        assert!(sl.insert(b"foo..bar", None, 7).is_err());
        assert!(sl.insert(b"foo.>.bar", None, 7).is_err());
    }

    #[test]
    fn queue_groups_merge_across_patterns() {
        let mut sl = Sublist::new();
        sl.insert(b"foo.bar", Some(b"q"), 1).unwrap();
        sl.insert(b"foo.*", Some(b"q"), 2).unwrap();
        sl.insert(b"foo.*", Some(b"r"), 3).unwrap();
        sl.insert(b"foo.bar", None, 4).unwrap();
        let (p, q) = matched(&sl, "foo.bar");
        assert_eq!(p, vec![4]);
        assert_eq!(
            q,
            vec![("q".to_owned(), vec![1, 2]), ("r".to_owned(), vec![3])]
        );
    }

    #[test]
    fn remove_prunes() {
        let mut sl = Sublist::new();
        sl.insert(b"a.b.c", None, 1).unwrap();
        sl.insert(b"a.*", Some(b"q"), 2).unwrap();
        assert!(sl.remove(b"a.b.c", None, &1));
        assert!(!sl.remove(b"a.b.c", None, &1));
        assert!(sl.remove(b"a.*", Some(b"q"), &2));
        assert!(sl.root.is_empty());
        assert_eq!(sl.count(), 0);
    }

    #[test]
    fn for_each_visits_every_subscription() {
        let mut sl = Sublist::new();
        sl.insert(b"a.b.c", None, 1).unwrap();
        sl.insert(b"a.*", Some(b"q"), 2).unwrap();
        sl.insert(b"a.>", None, 3).unwrap();
        sl.insert(b">", Some(b"r"), 4).unwrap();
        sl.insert(b"x", None, 5).unwrap();
        let mut seen = Vec::new();
        sl.for_each(&mut |v: &i32| seen.push(*v));
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    }
}
