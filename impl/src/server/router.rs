//! Accounts, subscriptions and delivery: the server side of [`conn::Router`].
//!
//! A publisher's task matches the subject in its account's sublist and appends the MSG
//! bytes straight into each subscriber's [`Outbox`] (Go does the same with `queueOutbound`),
//! then wakes that subscriber's writer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Instant;

use tokio::sync::Notify;

use crate::auth::{Checker, Identity};
use crate::conn::{Router, SubscribeError};
use crate::frame::ClosedState;
use crate::nats::ops::Delivery;
use crate::nats::{ConnectInfo, Sublist, SublistResult};
use crate::policy::{Compression, Framing};
use crate::server::internal::InternalClient;
use crate::server::monitor::ConnStats;
use crate::server::{ConnInfo, ConnType, LogLevel, Shared};

mod fanout;
mod replies;
mod stats;
mod sub;

pub(crate) use fanout::{LeafSource, fanout, fanout_from};
pub(crate) use replies::OpenReplies;
pub(crate) use stats::{AccountStats, SublistStats};
pub(crate) use sub::{Owner, Sub, SubRef};

/// Locks, recovering from a poisoned lock (a panicking task must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One account's subject space: its subscriptions (the accounts themselves are
/// [`crate::options::Account`]s).
#[derive(Debug, Default)]
pub(crate) struct AccountSubs {
    sublist: RwLock<Sublist<SubRef>>,
    /// Bumped (under the write lock) by every insert and removal, so publishers can keep
    /// match results until it moves (Go: the sublist's `genid`).
    generation: AtomicU64,
    /// When a subscription limit error was last logged (Go: `lastLimErr`).
    last_limit_log: Mutex<Option<Instant>>,
    /// For `/subsz` (Go: the sublist's `inserts`, `removes`, `matches`, `cacheHits`).
    inserts: AtomicU64,
    removes: AtomicU64,
    matches: AtomicU64,
    cache_hits: AtomicU64,
    /// Messages in and out of this account's clients (Go: the account's `stats`).
    pub(crate) stats: AccountStats,
    /// The account's leaf connections and loop detection subject (Go: `lleafs`, `lds`).
    pub(crate) leafs: crate::server::leaf::AccountLeafs,
}

/// Go: `defaultMaxSubLimitReportThreshold`: at most one limit log line per account per 2 s.
const LIMIT_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

impl AccountSubs {
    /// Counters for `/subsz`.
    pub(crate) fn stats(&self) -> SublistStats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SublistStats {
            subscriptions: self.count() as u64,
            inserts: load(&self.inserts),
            removes: load(&self.removes),
            matches: load(&self.matches),
            cache_hits: load(&self.cache_hits),
        }
    }

    /// Subscriptions in this account.
    pub(crate) fn count(&self) -> usize {
        self.sublist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .count()
    }

    /// Whether any subscription matches `subject`.
    pub(crate) fn has_interest(&self, subject: &[u8]) -> bool {
        let mut result = SublistResult::default();
        self.sublist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .matches(subject, &mut result);
        !result.is_empty()
    }

    /// The subscribers of the literal `subject` (Go: `sl.Match`).
    pub(crate) fn match_into(&self, subject: &[u8], result: &mut SublistResult<SubRef>) {
        self.sublist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .matches(subject, result);
    }

    /// Go: `shouldLogMaxSubErr`.
    fn should_log_limit(&self, now: Instant) -> bool {
        let mut last = lock(&self.last_limit_log);
        if last.is_some_and(|t| now.saturating_duration_since(t) < LIMIT_LOG_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// The subscription list, locked for writing: interest changes are told to the
    /// account's leaf connections under this lock, so that a leaf's first snapshot and
    /// the changes after it never overlap.
    pub(crate) fn write_sublist(&self) -> std::sync::RwLockWriteGuard<'_, Sublist<SubRef>> {
        self.sublist
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, subject: &[u8], queue: Option<&[u8]>, sub: SubRef) -> bool {
        let mut sl = self.write_sublist();
        let leaf_update = Arc::clone(&sub.0);
        let ok = sl.insert(subject, queue, sub).is_ok();
        self.generation.fetch_add(1, Ordering::Release);
        if ok {
            self.inserts.fetch_add(1, Ordering::Relaxed);
            self.leafs
                .interest_changed(&leaf_update, leaf_update.weight());
        }
        ok
    }

    fn remove(&self, sub: &Arc<Sub>) {
        let mut sl = self.write_sublist();
        if sl.remove(&sub.subject, sub.queue.as_deref(), &SubRef(Arc::clone(sub))) {
            self.removes.fetch_add(1, Ordering::Relaxed);
            self.leafs.interest_changed(sub, -sub.weight());
        }
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// Most subjects one connection keeps match results for (Go: `maxResultCacheSize`, 512).
/// When full, the cache starts over.
const MATCH_CACHE_MAX: usize = 512;

/// A publisher's match results by subject, valid for one sublist generation (Go: the
/// client's `in.results`). Spares the shared lock and the trie walk on every message.
#[derive(Debug, Default)]
struct MatchCache {
    generation: u64,
    /// Lookups and cache hits since [`ConnRouter::commit_counts`] (Go: `matches`,
    /// `cacheHits`).
    lookups: u64,
    hits: u64,
    results: HashMap<Box<[u8]>, Arc<SublistResult<SubRef>>, foldhash::fast::RandomState>,
}

impl MatchCache {
    fn lookup(&mut self, account: &AccountSubs, subject: &[u8]) -> Arc<SublistResult<SubRef>> {
        let generation = account.generation.load(Ordering::Acquire);
        if generation != self.generation {
            self.results.clear();
            self.generation = generation;
        }
        self.lookups += 1;
        if let Some(r) = self.results.get(subject) {
            self.hits += 1;
            return Arc::clone(r);
        }
        let mut result = SublistResult::default();
        account
            .sublist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .matches(subject, &mut result);
        let result = Arc::new(result);
        if self.results.len() >= MATCH_CACHE_MAX {
            self.results.clear();
        }
        self.results.insert(subject.into(), Arc::clone(&result));
        result
    }
}

/// NATS bytes waiting for one connection: its own replies and what publishers deliver
/// to it (Go: `client.out`). Its connection's pump hands them to
/// [`crate::conn::Connection::poll_transmit`].
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    /// NATS protocol bytes not yet framed or written.
    pub(crate) pending: Vec<u8>,
    /// Set once the connection is closing: nothing more is queued.
    pub(crate) closing: Option<ClosedState>,
    /// Bytes handed to the socket and not yet written (counted for `max_pending`).
    pub(crate) inflight: usize,
}

/// Per-connection state shared by its tasks and by publishers.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) cid: u64,
    /// `<ip>:<port> - cid:<n>` (or `wid:`, `mid:`), Go's log prefix.
    pub(crate) prefix: String,
    /// An MQTT connection's prefix once its CONNECT named the client id:
    /// `<prefix> - "<client id>"` (Go stores it in `c.ncs` as CONNECT is parsed).
    mqtt_prefix: OnceLock<String>,
    pub(crate) out: Mutex<SendQueue>,
    /// Wakes the connection's pump: bytes were queued, or a close was asked for.
    pub(crate) wake: Notify,
    pub(crate) subs: Mutex<HashMap<Box<[u8]>, Arc<Sub>>>,
    pub(crate) info: Mutex<ConnInfo>,
    pub(crate) max_pending: usize,
    /// The user's permissions, once CONNECT bound them (the delivery deny filter and
    /// `allow_responses` read them here).
    pub(crate) permissions: OnceLock<Arc<Checker>>,
    /// Reply subjects `allow_responses` lets this connection answer.
    pub(crate) replies: Mutex<OpenReplies>,
    /// Message counters for `/connz`.
    pub(crate) stats: ConnStats,
    /// When the connection was accepted.
    pub(crate) started: jiff::Timestamp,
    /// When it last sent something (Go: `c.last`).
    pub(crate) last_activity: Mutex<jiff::Timestamp>,
    /// Set by lame duck mode: the pump queues the `"ldm":true` INFO.
    pub(crate) lame_duck_info: std::sync::atomic::AtomicBool,
    /// The user a CONNECT that failed authentication named (Go: `getRawAuthUser`).
    pub(crate) failed_user: OnceLock<String>,
    /// The last measured round trip in ns (0: none yet; Go: `c.rtt`).
    pub(crate) rtt_nanos: AtomicU64,
}

impl Client {
    pub(crate) fn new(
        cid: u64,
        kind: ConnType,
        remote: SocketAddr,
        client_ip: Option<String>,
        max_pending: usize,
    ) -> Client {
        let tag = match kind {
            ConnType::Client => "cid",
            ConnType::Websocket => "wid",
            ConnType::Mqtt => "mid",
            ConnType::MqttWebsocket => "mid_ws",
            ConnType::Leafnode => "lid",
            ConnType::LeafnodeWebsocket => "lid_ws",
        };
        let prefix = match &client_ip {
            Some(ip) if ip.contains(':') => format!("[{ip}]/{remote} - {tag}:{cid}"),
            Some(ip) => format!("{ip}/{remote} - {tag}:{cid}"),
            None => format!("{remote} - {tag}:{cid}"),
        };
        Client {
            cid,
            prefix,
            out: Mutex::new(SendQueue::default()),
            wake: Notify::new(),
            subs: Mutex::new(HashMap::new()),
            info: Mutex::new(ConnInfo {
                cid,
                kind,
                remote_addr: remote,
                client_ip,
                user: None,
                account: None,
                name: None,
                framing: None,
                compression: None,
                subscriptions: 0,
                lang: String::new(),
                version: String::new(),
                jwt: String::new(),
                mqtt_client: String::new(),
            }),
            max_pending,
            permissions: OnceLock::new(),
            replies: Mutex::new(OpenReplies::default()),
            stats: ConnStats::default(),
            started: jiff::Timestamp::now(),
            last_activity: Mutex::new(jiff::Timestamp::now()),
            lame_duck_info: std::sync::atomic::AtomicBool::new(false),
            failed_user: OnceLock::new(),
            rtt_nanos: AtomicU64::new(0),
            mqtt_prefix: OnceLock::new(),
        }
    }

    /// The prefix of this connection's log lines (with the MQTT client id once known).
    pub(crate) fn log_prefix(&self) -> &str {
        self.mqtt_prefix.get().unwrap_or(&self.prefix)
    }

    /// Adds the MQTT client id to the log prefix (the first CONNECT's; Go: `c.ncs`).
    pub(crate) fn set_mqtt_client_id(&self, client_id: &str) {
        let _ = self.mqtt_prefix.set(format!(
            "{} - {}",
            self.prefix,
            crate::goquote::quote(client_id)
        ));
    }

    /// Records what the upgrade settled (for `connz`).
    pub(crate) fn set_websocket(&self, framing: Framing, compression: Compression) {
        let mut info = lock(&self.info);
        info.framing = Some(framing);
        info.compression = Some(compression);
    }

    /// Appends protocol bytes and wakes the writer. False if the connection is closing.
    pub(crate) fn enqueue(&self, bytes: &[u8]) -> bool {
        let mut out = lock(&self.out);
        if out.closing.is_some() {
            return false;
        }
        out.pending.extend_from_slice(bytes);
        drop(out);
        self.wake.notify_one();
        true
    }

    /// Asks the connection to close for `state` (once; its pump passes it to
    /// [`crate::conn::Connection::close`]) and stops queueing. Returns false if it was
    /// already closing.
    pub(crate) fn close(&self, state: ClosedState) -> bool {
        let mut out = lock(&self.out);
        if out.closing.is_some() {
            return false;
        }
        out.closing = Some(state);
        drop(out);
        self.wake.notify_one();
        true
    }

    pub(crate) fn closing(&self) -> Option<ClosedState> {
        lock(&self.out).closing
    }

    /// At the end of the connection: nothing more is queued, and what was waiting is freed
    /// now (a publisher's match cache may keep this struct alive until it next publishes).
    pub(crate) fn release_buffers(&self) {
        let mut out = lock(&self.out);
        out.closing.get_or_insert(ClosedState::ClientClosed);
        out.pending = Vec::new();
    }

    /// Removes every subscription (at close, which also breaks the client ↔ sub cycle;
    /// and on a CONNECT after the first).
    pub(crate) fn remove_subs(&self) {
        let subs: Vec<Arc<Sub>> = lock(&self.subs).drain().map(|(_, s)| s).collect();
        for sub in subs {
            remove_from_sublist(&sub);
        }
        lock(&self.info).subscriptions = 0;
    }

    /// Delivers one message; false if the subscriber is closing or became a slow consumer.
    fn deliver(
        &self,
        shared: &Shared,
        account: &AccountSubs,
        msg: &Delivery<'_>,
        sid: &[u8],
    ) -> bool {
        let mut out = lock(&self.out);
        if out.closing.is_some() {
            return false;
        }
        msg.write(&mut out.pending, sid);
        if out.pending.len() + out.inflight > self.max_pending {
            // Go: queueOutbound's slow consumer check; nothing more is written.
            out.pending.clear();
            out.closing = Some(ClosedState::SlowConsumerPendingBytes);
            drop(out);
            shared.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
            account.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
            shared.log(
                LogLevel::Info,
                &format!(
                    "{} - Slow Consumer Detected: MaxPending of {} Exceeded",
                    self.prefix, self.max_pending
                ),
            );
            self.wake.notify_one();
            return false;
        }
        drop(out);
        // Go: deliverMsg traces the MSG line and its payload under the subscriber.
        if let crate::conn::Trace::On { max_payload, part } = shared.client_cfg.trace {
            for line in crate::conn::trace::delivery_lines(msg, sid, max_payload, part) {
                shared.log(LogLevel::Trace, &format!("{} - {line}", self.prefix));
            }
        }
        self.stats.sent(&shared.stats, msg.payload.len());
        self.wake.notify_one();
        true
    }
}

fn remove_from_sublist(sub: &Arc<Sub>) {
    sub.account.remove(sub);
}

/// The connection's account: the bound one, or the global one until CONNECT binds another.
fn bound<'a>(account: &'a mut Option<Arc<AccountSubs>>, shared: &Shared) -> &'a Arc<AccountSubs> {
    account.get_or_insert_with(|| shared.account(crate::auth::GLOBAL_ACCOUNT))
}

/// The [`Router`] of one connection: its client, its account, the server.
#[derive(Debug)]
pub(crate) struct ConnRouter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) client: Arc<Client>,
    /// The bound account (the global one until CONNECT binds another).
    account: Option<Arc<AccountSubs>>,
    cache: MatchCache,
    rng: u64,
    /// Messages and payload bytes received since [`ConnRouter::commit_counts`].
    received: (u64, u64),
}

impl ConnRouter {
    pub(crate) fn new(shared: Arc<Shared>, client: Arc<Client>) -> ConnRouter {
        let rng = client.cid.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        ConnRouter {
            shared,
            client,
            account: None,
            cache: MatchCache::default(),
            rng,
            received: (0, 0),
        }
    }

    /// Adds what this connection received since the last call to the connection's, the
    /// server's, the account's and the sublist's counters: once per read, not per
    /// message (Go's readLoop does the same with `c.in`), so a publisher pays no shared
    /// atomics per message.
    pub(crate) fn commit_counts(&mut self) {
        let (msgs, bytes) = std::mem::take(&mut self.received);
        let (lookups, hits) = (
            std::mem::take(&mut self.cache.lookups),
            std::mem::take(&mut self.cache.hits),
        );
        if msgs > 0 {
            self.client
                .stats
                .received_batch(&self.shared.stats, msgs, bytes);
        }
        if let Some(account) = &self.account {
            if msgs > 0 {
                account.stats.received_batch(msgs, bytes);
            }
            if lookups > 0 {
                account.matches.fetch_add(lookups, Ordering::Relaxed);
                account.cache_hits.fetch_add(hits, Ordering::Relaxed);
            }
        }
    }

    fn account(&mut self) -> Arc<AccountSubs> {
        Arc::clone(bound(&mut self.account, &self.shared))
    }
}

/// Subscribes the server's internal client to `subject` in `account` (no queue group,
/// no limit). Go: `sysSubscribe`.
pub(crate) fn subscribe_internal(
    account: &Arc<AccountSubs>,
    owner: &Arc<InternalClient>,
    subject: &[u8],
    sid: &[u8],
) -> Option<Arc<Sub>> {
    subscribe_owned(account, Owner::Internal(Arc::clone(owner)), subject, sid)
}

/// Subscribes a socket-less owner (the internal client, an account's MQTT sessions).
pub(crate) fn subscribe_owned(
    account: &Arc<AccountSubs>,
    owner: Owner,
    subject: &[u8],
    sid: &[u8],
) -> Option<Arc<Sub>> {
    let sub = Sub::new(owner, account, subject, None, sid, 1);
    account
        .insert(subject, None, SubRef(Arc::clone(&sub)))
        .then_some(sub)
}

/// Removes an internal subscription.
pub(crate) fn unsubscribe_internal(sub: &Arc<Sub>) {
    remove_from_sublist(sub);
}

/// Publishes a message from the server itself into `account` (Go: the internal send
/// loop): it counts as sent to the receiving clients, not as received from a client.
pub(crate) fn publish_internal(
    shared: &Shared,
    account: &AccountSubs,
    msg: &Delivery<'_>,
) -> usize {
    publish_from(shared, account, msg, None)
}

/// Publishes a message into `account` on behalf of `sender` (a connection whose
/// protocol is not NATS: MQTT), its echo included.
pub(crate) fn publish_from(
    shared: &Shared,
    account: &AccountSubs,
    msg: &Delivery<'_>,
    sender: Option<&Arc<Client>>,
) -> usize {
    if sender.is_some() {
        account.stats.received(msg.payload.len());
    }
    let mut result = SublistResult::default();
    account
        .sublist
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .matches(msg.subject, &mut result);
    let mut rng = account.generation.load(Ordering::Relaxed) | 1;
    fanout(shared, &result, msg, sender, true, &mut rng)
}

impl Router for ConnRouter {
    fn bind(&mut self, identity: &Identity, connect: &ConnectInfo) -> Result<(), ClosedState> {
        self.account = Some(self.shared.account(&identity.account));
        // Results of another account must not be served, whatever its generation.
        self.cache = MatchCache::default();
        if let Some(p) = &identity.permissions {
            let _ = self.client.permissions.set(Arc::clone(p));
        }
        let mut info = lock(&self.client.info);
        info.user.clone_from(&identity.user);
        info.account = Some(identity.account.clone());
        info.name = (!connect.name.is_empty()).then(|| connect.name.clone());
        info.lang.clone_from(&connect.lang);
        info.version.clone_from(&connect.version);
        info.jwt.clone_from(&connect.jwt);
        drop(info);
        if let Some(sys) = &self.shared.system {
            sys.client_connected(&self.shared, &self.client);
        }
        Ok(())
    }

    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
        max: i64,
    ) -> Result<(), SubscribeError> {
        let account = self.account();
        {
            let subs = lock(&self.client.subs);
            // Go: subsAtLimit, before the existing-sid check.
            if max != crate::auth::NO_LIMIT && i64::try_from(subs.len()).unwrap_or(i64::MAX) >= max
            {
                drop(subs);
                if account.should_log_limit(Instant::now()) {
                    self.log_error(crate::conn::TOO_MANY_SUBS);
                }
                return Err(SubscribeError::TooMany);
            }
            if subs.contains_key(sid) {
                return Ok(()); // Go: an existing sid is kept as is.
            }
        }
        let sub = Sub::new(
            Owner::Conn(Arc::clone(&self.client)),
            &account,
            subject,
            queue,
            sid,
            1,
        );
        if !account.insert(subject, queue, SubRef(Arc::clone(&sub))) {
            return Err(SubscribeError::InvalidSubject);
        }
        lock(&self.client.subs).insert(sid.into(), sub);
        lock(&self.client.info).subscriptions += 1;
        Ok(())
    }

    fn unsubscribe(&mut self, sid: &[u8], max: Option<u64>) {
        let mut subs = lock(&self.client.subs);
        let Some(sub) = subs.get(sid).cloned() else {
            return;
        };
        // Go: a max at or below the deliveries so far removes it now.
        if let Some(max) = max
            && max > sub.delivered.load(Ordering::Relaxed)
        {
            sub.max.store(max, Ordering::Relaxed);
            return;
        }
        subs.remove(sid);
        drop(subs);
        remove_from_sublist(&sub);
        let mut info = lock(&self.client.info);
        info.subscriptions = info.subscriptions.saturating_sub(1);
    }

    fn unsubscribe_all(&mut self) {
        self.client.remove_subs();
    }

    fn publish(&mut self, msg: &Delivery<'_>, echo: bool) -> usize {
        self.received.0 += 1;
        self.received.1 += msg.payload.len() as u64;
        let account = bound(&mut self.account, &self.shared);
        let result = self.cache.lookup(account, msg.subject);
        if result.is_empty() {
            return 0;
        }
        fanout(
            &self.shared,
            &result,
            msg,
            Some(&self.client),
            echo,
            &mut self.rng,
        )
    }

    fn sub_for_reply(&self, reply: &[u8]) -> Option<Vec<u8>> {
        // Go: subForReply: the first plain (not queue) subscription of this connection
        // in the account's match order.
        let account = self
            .account
            .clone()
            .unwrap_or_else(|| self.shared.account(crate::auth::GLOBAL_ACCOUNT));
        let mut result = SublistResult::default();
        account
            .sublist
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .matches(reply, &mut result);
        result
            .psubs
            .iter()
            .find(|SubRef(s)| matches!(&s.owner, Owner::Conn(c) if Arc::ptr_eq(c, &self.client)))
            .map(|SubRef(s)| s.sid.to_vec())
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        // Dropped when the connection is closing: nothing more goes out.
        self.client.enqueue(out);
        out.clear();
    }

    fn response_allowed(&mut self, subject: &[u8]) -> bool {
        let Some(rule) = self.client.permissions.get().and_then(|p| p.responses()) else {
            return false;
        };
        lock(&self.client.replies).answer(subject, rule, Instant::now())
    }

    fn auth_failed(&mut self, connect: &ConnectInfo) {
        let mut info = lock(&self.client.info);
        info.name = (!connect.name.is_empty()).then(|| connect.name.clone());
        info.lang.clone_from(&connect.lang);
        info.version.clone_from(&connect.version);
        drop(info);
        let user = if connect.user.is_empty() {
            &connect.nkey
        } else {
            &connect.user
        };
        let _ = self.client.failed_user.set(user.clone());
    }

    fn log_error(&mut self, line: &str) {
        self.shared
            .log(LogLevel::Error, &format!("{} - {line}", self.client.prefix));
    }

    fn log_traces(&mut self, lines: &mut Vec<String>) {
        for line in lines.drain(..) {
            self.shared
                .log(LogLevel::Trace, &format!("{} - {line}", self.client.prefix));
        }
    }
}
