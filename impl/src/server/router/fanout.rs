//! Delivery of one message to a match result (Go: `processMsgResults`): local
//! subscribers directly, leaf connections as route targets — one `LMSG` per leaf
//! connection, naming the queue groups it was chosen for.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Client, Owner, Sub, SubRef, lock, remove_from_sublist};
use crate::auth::Checker;
use crate::nats::SublistResult;
use crate::nats::ops::Delivery;
use crate::server::Shared;
use crate::server::leaf::LeafLink;

/// A message that came over a leaf connection (Go: `c.kind == LEAF` in
/// `processMsgResults`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafSource<'a> {
    /// The connection it came from: nothing goes back to it.
    pub(crate) link: &'a Arc<LeafLink>,
    /// The queue groups the sender chose this server for (Go: `c.pa.queues`); with none,
    /// no queue group here gets the message.
    pub(crate) queues: Option<&'a [u8]>,
}

impl LeafSource<'_> {
    fn names(&self, queue: &[u8]) -> bool {
        self.queues
            .is_some_and(|qs| qs.split(|&b| matches!(b, b' ' | b'\t')).any(|q| q == queue))
    }
}

/// The leaf connections a message goes to, each with the queue groups it was picked
/// for (Go: `c.in.rts`).
#[derive(Default)]
struct LeafTargets<'a> {
    targets: Vec<(&'a Arc<LeafLink>, Vec<&'a [u8]>)>,
}

impl<'a> LeafTargets<'a> {
    fn entry(&mut self, link: &'a Arc<LeafLink>) -> &mut Vec<&'a [u8]> {
        let i = match self.targets.iter().position(|(l, _)| Arc::ptr_eq(l, link)) {
            Some(i) => i,
            None => {
                self.targets.push((link, Vec::new()));
                self.targets.len() - 1
            }
        };
        &mut self.targets[i].1
    }

    fn send(&self, shared: &Shared, msg: &Delivery<'_>) -> usize {
        self.targets
            .iter()
            .filter(|(link, queues)| link.deliver(shared, msg, queues))
            .count()
    }
}

/// Delivers one message to a match result (Go: `processMsgResults`): every plain
/// subscription and one member of each queue group; without `echo` the `sender`'s own
/// subscriptions are skipped. Returns the number of deliveries.
pub(crate) fn fanout(
    shared: &Shared,
    result: &SublistResult<SubRef>,
    msg: &Delivery<'_>,
    sender: Option<&Arc<Client>>,
    echo: bool,
    rng: &mut u64,
) -> usize {
    fanout_from(shared, result, msg, sender, echo, rng, None)
}

/// [`fanout`] for a message that may have come over a leaf connection.
pub(crate) fn fanout_from(
    shared: &Shared,
    result: &SublistResult<SubRef>,
    msg: &Delivery<'_>,
    sender: Option<&Arc<Client>>,
    echo: bool,
    rng: &mut u64,
    leaf: Option<LeafSource<'_>>,
) -> usize {
    let own = |sub: &Sub| match (&sub.owner, sender) {
        (Owner::Conn(c), Some(s)) => !echo && Arc::ptr_eq(c, s),
        _ => false,
    };
    let origin = |l: &Arc<LeafLink>| leaf.is_some_and(|src| Arc::ptr_eq(src.link, l));
    let mut delivered = 0;
    let mut leafs = LeafTargets::default();
    // An account's MQTT sessions take a message once, however many of the subjects
    // their filters need match it (Go: one NATS subscription per MQTT subscription).
    let mut mqtt_done: Vec<*const crate::server::mqtt::AccountMqtt> = Vec::new();
    for SubRef(sub) in &result.psubs {
        match &sub.owner {
            Owner::Mqtt(m) => {
                if mqtt_done.contains(&Arc::as_ptr(m)) {
                    continue;
                }
                mqtt_done.push(Arc::as_ptr(m));
            }
            Owner::Leaf(l) => {
                // Go: leaf connections are route targets, never their own origin.
                if !origin(l) {
                    leafs.entry(l);
                }
                continue;
            }
            Owner::Conn(_) | Owner::Internal(_) => {}
        }
        if !own(sub) && deliver_to(shared, sub, msg, sender) {
            delivered += 1;
        }
    }
    for (name, members) in &result.qsubs {
        // Go: a message from a leaf reaches only the queue groups it names.
        if let Some(src) = leaf
            && !src.names(name)
        {
            continue;
        }
        let locals: Vec<&Arc<Sub>> = members
            .iter()
            .map(|SubRef(s)| s)
            .filter(|s| !matches!(s.owner, Owner::Leaf(_)) && !own(s))
            .collect();
        if !locals.is_empty() {
            // One local member per group; if it is closing, try the next.
            let start = (next_random(rng) % locals.len() as u64) as usize;
            let done = (0..locals.len())
                .any(|i| deliver_to(shared, locals[(start + i) % locals.len()], msg, sender));
            if done {
                delivered += 1;
                continue;
            }
        }
        // Go: no local member took it: a leaf behind which the group has members, picked
        // in proportion to its weight (the group's members there).
        if let Some(link) = pick_leaf(members, &origin, rng) {
            leafs.entry(link).push(name);
        }
    }
    delivered + leafs.send(shared, msg)
}

/// A leaf queue member, weighted (Go shadows a remote queue subscription `qw` times in
/// the match result).
fn pick_leaf<'a>(
    members: &'a [SubRef],
    origin: &impl Fn(&Arc<LeafLink>) -> bool,
    rng: &mut u64,
) -> Option<&'a Arc<LeafLink>> {
    let leafs = || {
        members.iter().filter_map(|SubRef(s)| match &s.owner {
            Owner::Leaf(l) if !origin(l) => {
                Some((l, u64::try_from(s.weight()).unwrap_or(1).max(1)))
            }
            _ => None,
        })
    };
    let total: u64 = leafs().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut at = next_random(rng) % total;
    for (l, w) in leafs() {
        if at < w {
            return Some(l);
        }
        at -= w;
    }
    None
}

/// xorshift: picks queue members (not security relevant).
fn next_random(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// Delivers to `sub` honouring its auto-unsubscribe limit.
pub(super) fn deliver_to(
    shared: &Shared,
    sub: &Arc<Sub>,
    msg: &Delivery<'_>,
    sender: Option<&Arc<Client>>,
) -> bool {
    let client = match &sub.owner {
        Owner::Conn(c) => c,
        Owner::Internal(internal) => {
            return internal.deliver(&sub.subject, &sub.account, msg, sender);
        }
        Owner::Mqtt(m) => return m.deliver_nats(shared, msg, sender),
        Owner::Leaf(l) => return l.deliver(shared, msg, &[]),
    };
    let perms = client.permissions.get();
    // Go: checkDenySub, before the delivery counts.
    if perms.is_some_and(|p| p.denies_delivery(msg.subject, sub.queue.as_deref())) {
        return false;
    }
    let max = sub.max.load(Ordering::Relaxed);
    let ok = if max > 0 {
        let n = sub.delivered.fetch_add(1, Ordering::Relaxed) + 1;
        if n > max {
            return false;
        }
        open_reply(client, perms, msg);
        let ok = client.deliver(shared, &sub.account, msg, &sub.sid);
        if n == max {
            lock(&client.subs).remove(&sub.sid);
            remove_from_sublist(sub);
            let mut info = lock(&client.info);
            info.subscriptions = info.subscriptions.saturating_sub(1);
        }
        ok
    } else {
        sub.delivered.fetch_add(1, Ordering::Relaxed);
        open_reply(client, perms, msg);
        client.deliver(shared, &sub.account, msg, &sub.sid)
    };
    if ok {
        sub.account.stats.sent(msg.payload.len());
    }
    ok
}

/// A request delivered to a connection with `allow_responses` opens its reply subject,
/// unless the publish lists already allow it.
fn open_reply(client: &Client, perms: Option<&Arc<Checker>>, msg: &Delivery<'_>) {
    if let (Some(p), Some(reply)) = (perms, msg.reply)
        && let Some(rule) = p.responses()
        && !reply.is_empty()
        && !p.can_publish(reply)
    {
        lock(&client.replies).record(reply, rule, Instant::now());
    }
}
