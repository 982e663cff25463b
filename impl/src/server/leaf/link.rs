//! One leaf connection as the rest of the server sees it ([`LeafLink`]: its send queue,
//! what it was bound to, what it advertised), and an account's leaf connections
//! ([`AccountLeafs`]: interest propagation, Go's `updateLeafNodes` and
//! `initLeafNodeSmapAndSendSubs`).

use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::auth::Checker;
use crate::leaf::interest::key;
use crate::leaf::{Interest, LeafConnect, LeafDelivery, LeafRole, PeerHeaders};
use crate::nats::ops::Delivery;
use crate::server::router::{AccountSubs, Client, Owner, Sub, lock};
use crate::server::{LogLevel, Shared};

/// Go: `leafNodeLoopDetectionSubjectPrefix`.
pub(crate) const LDS_PREFIX: &str = "$LDS.";

/// What a leaf connection was bound to at CONNECT.
#[derive(Debug)]
pub(crate) struct Bound {
    /// Our side.
    pub(crate) role: LeafRole,
    /// The peer takes `HMSG`.
    pub(crate) headers: PeerHeaders,
    /// Its account here.
    pub(crate) account: Arc<AccountSubs>,
    /// The account's name.
    pub(crate) account_name: String,
    /// The leaf user's permissions (Go flips them on the hub: what the user may publish
    /// is what we advertise, what it may subscribe to is what it may ask for).
    pub(crate) perms: Option<Arc<Checker>>,
    /// What the peer said in its CONNECT.
    pub(crate) peer: LeafConnect,
}

/// Who dialed a leaf connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkOrigin {
    /// The peer dialed us.
    Accepted,
    /// We dialed a remote, for this local account.
    Solicited { account: String },
}

/// One leaf connection, shared by its pump and every publisher and subscriber that
/// reaches it.
#[derive(Debug)]
pub(crate) struct LeafLink {
    client: Arc<Client>,
    origin: LinkOrigin,
    bound: OnceLock<Bound>,
    /// What we told the peer (Go: `smap`); locked under the account's sublist lock.
    interest: Mutex<Interest>,
    /// The server, when the protocol is traced: outgoing interest is traced as Go's
    /// `traceOutOp("LS+", ...)`.
    tracer: Option<Weak<Shared>>,
}

impl LeafLink {
    pub(crate) fn new(shared: &Arc<Shared>, client: Arc<Client>, origin: LinkOrigin) -> LeafLink {
        let tracing = shared.client_cfg.trace != crate::conn::Trace::Off;
        LeafLink {
            tracer: tracing.then(|| Arc::downgrade(shared)),
            client,
            origin,
            bound: OnceLock::new(),
            interest: Mutex::new(Interest::default()),
        }
    }

    pub(crate) fn cid(&self) -> u64 {
        self.client.cid
    }

    pub(crate) fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// Who dialed.
    pub(crate) fn origin(&self) -> &LinkOrigin {
        &self.origin
    }

    /// What CONNECT bound, once it did.
    pub(crate) fn bound(&self) -> Option<&Bound> {
        self.bound.get()
    }

    pub(crate) fn bind(&self, bound: Bound) {
        let _ = self.bound.set(bound);
    }

    /// Queues interest lines for the peer, traced when tracing.
    fn send_interest(&self, out: &[u8]) {
        if out.is_empty() {
            return;
        }
        self.client.enqueue(out);
        let Some(shared) = self.tracer.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        for line in out.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(space) = line.iter().position(|&b| b == b' ') else {
                continue;
            };
            let (op, arg) = line.split_at(space);
            let op = String::from_utf8_lossy(op);
            let line = crate::conn::trace::op_line(
                crate::conn::trace::Dir::Out,
                &op,
                Some(arg.get(1..).unwrap_or_default()),
            );
            shared.log(LogLevel::Trace, &format!("{} - {line}", self.client.prefix));
        }
    }

    /// Queues a message for the peer, naming the `queues` it was picked for; headers
    /// are stripped for a peer without them. False if the connection is closing or
    /// became a slow consumer.
    pub(crate) fn deliver(&self, shared: &Shared, msg: &Delivery<'_>, queues: &[&[u8]]) -> bool {
        let Some(bound) = self.bound.get() else {
            return false;
        };
        let leaf = LeafDelivery {
            subject: msg.subject,
            reply: msg.reply,
            header_len: msg.header_len,
            payload: msg.payload,
        };
        let mut out = lock(&self.client.out);
        if out.closing.is_some() {
            return false;
        }
        leaf.write(&mut out.pending, queues, bound.headers);
        if out.pending.len() + out.inflight > self.client.max_pending {
            out.pending.clear();
            out.closing = Some(crate::frame::ClosedState::SlowConsumerPendingBytes);
            drop(out);
            shared.log(
                LogLevel::Info,
                &format!(
                    "{} - Slow Consumer Detected: MaxPending of {} Exceeded",
                    self.client.prefix, self.client.max_pending
                ),
            );
            self.client.wake.notify_one();
            return false;
        }
        drop(out);
        self.client.stats.sent(&shared.stats, msg.payload.len());
        self.client.wake.notify_one();
        true
    }

    /// The interest key and count `sub` stands for toward this peer, if the peer is to
    /// hear of it (Go: the filters of `initLeafNodeSmapAndSendSubs` and
    /// `updateLeafNodesEx`/`updateSmap`).
    fn advertises(&self, bound: &Bound, sub: &Sub, adding: bool) -> Option<(Vec<u8>, bool)> {
        if let Owner::Leaf(l) = sub.owner() {
            if std::ptr::eq(Arc::as_ptr(l), self) {
                return None;
            }
            // Go: a spoke advertises local interest only, and that of leafs for which
            // it is the hub.
            if bound.role == LeafRole::Spoke && l.bound().is_some_and(|b| b.role == LeafRole::Spoke)
            {
                return None;
            }
        }
        let subject = sub.subject();
        let lds = subject.starts_with(LDS_PREFIX.as_bytes());
        if adding
            && !lds
            && let Some(p) = &bound.perms
            && !p.can_publish(subject)
        {
            return None;
        }
        Some((key(subject, sub.queue()), sub.queue().is_some()))
    }
}

/// An account's leaf connections and its loop detection subject.
#[derive(Debug, Default)]
pub(crate) struct AccountLeafs {
    links: Mutex<Vec<Arc<LeafLink>>>,
    lds: OnceLock<String>,
}

impl AccountLeafs {
    /// `$LDS.<nuid>`, made on first use (Go: `acc.lds`).
    pub(crate) fn lds(&self) -> &str {
        self.lds
            .get_or_init(|| format!("{LDS_PREFIX}{}", super::nuid()))
    }

    /// Leaf connections bound to the account.
    pub(crate) fn count(&self) -> usize {
        lock(&self.links).len()
    }

    /// A subscription came (`delta` > 0) or went: each leaf connection that advertises
    /// it hears of the change. Called with the account's sublist locked for writing.
    pub(crate) fn interest_changed(&self, sub: &Sub, delta: i32) {
        if delta == 0 {
            return;
        }
        let links = lock(&self.links);
        for link in links.iter() {
            let Some(bound) = link.bound() else {
                continue;
            };
            let Some((k, queue)) = link.advertises(bound, sub, delta > 0) else {
                continue;
            };
            let mut out = Vec::new();
            lock(&link.interest).update(&k, queue, delta, &mut out);
            link.send_interest(&out);
        }
    }

    /// Adds a bound leaf connection and sends it the account's interest: a snapshot of
    /// the subscriptions it is to hear of, and the loop detection subject, taken under the
    /// sublist's write lock so that no change is missed or counted twice.
    pub(crate) fn register(account: &AccountSubs, link: &Arc<LeafLink>) {
        let Some(bound) = link.bound() else {
            return;
        };
        let sl = account.write_sublist();
        let mut interest = lock(&link.interest);
        sl.for_each(&mut |r| {
            let sub = r.sub();
            if let Some((k, queue)) = link.advertises(bound, sub, true) {
                let weight = if queue { sub.weight().max(1) } else { 1 };
                interest.add(&k, weight);
            }
        });
        interest.add(account.leafs.lds().as_bytes(), 1);
        let mut out = Vec::new();
        interest.write_all(&mut out);
        drop(interest);
        lock(&account.leafs.links).push(Arc::clone(link));
        // Queued before the lock goes: a change right after must follow the snapshot.
        link.send_interest(&out);
        drop(sl);
    }

    /// Removes a leaf connection that ended.
    pub(crate) fn unregister(&self, link: &Arc<LeafLink>) {
        lock(&self.links).retain(|l| !Arc::ptr_eq(l, link));
    }
}
