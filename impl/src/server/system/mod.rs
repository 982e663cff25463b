//! The system account (Go: server/events.go): [`System`] owns the account the server's
//! [`InternalClient`] lives in, answers `$SYS.REQ.…` requests (see `requests`), and
//! publishes the connect/disconnect advisories, account connection counts and the
//! periodic `$SYS.SERVER.<id>.STATSZ`.
//!
//! Timing, as Go: the first `STATSZ` 250 ms after start, then the interval doubles up to
//! [`STATSZ_INTERVAL`] (10 s); a timed broadcast within `min(1 s, interval)` of the last
//! one waits (so they go at 0.25, 1.25, 3.25, 7.25, 15.25 s, ...), and one is only sent
//! when some connection listens. Account connection counts are repeated every
//! [`ACCOUNT_CONNS_INTERVAL`] (30 s) while the account has connections.

mod events;
mod requests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use events::{
    ACCOUNT_CONNS_EVENT, AccountDataStats, AccountNumConns, AccountStat, CONNECT_EVENT, ClientInfo,
    ConnectEventMsg, DISCONNECT_EVENT, DisconnectEventMsg, FeatureFlags, MsgBytes, ServerInfo,
    go_json,
};

use crate::frame::ClosedState;
use crate::nats::ops::Delivery;
use crate::options::ServerOpts;
use crate::server::internal::InternalClient;
use crate::server::router::{AccountSubs, Client, Sub, lock, publish_internal, subscribe_internal};
use crate::server::{ConnType, LogLevel, Shared};

pub(crate) use crate::options::DEFAULT_SYSTEM_ACCOUNT;
/// Go: `statsHBInterval`, the longest time between two `STATSZ` broadcasts.
pub(crate) const STATSZ_INTERVAL: Duration = Duration::from_secs(10);
/// Go: the first broadcast's delay (`startStatszTimer`).
const STATSZ_FIRST: Duration = Duration::from_millis(250);
/// Go: `defaultStatszRateLimit`.
const STATSZ_RATE_LIMIT: Duration = Duration::from_secs(1);
/// Go: `eventsHBInterval`, the repeat of an account's connection count.
pub(crate) const ACCOUNT_CONNS_INTERVAL: Duration = Duration::from_secs(30);

/// The system account and the server's internal client in it.
#[derive(Debug)]
pub(crate) struct System {
    /// The account's name (`$SYS` unless `system_account` names another).
    pub(crate) name: String,
    pub(crate) account: Arc<AccountSubs>,
    pub(crate) client: Arc<InternalClient>,
    /// Go: `sys.seq`, the `seq` of every message carrying a `server` object.
    seq: AtomicU64,
    ids: Mutex<EventIds>,
    statsz: Mutex<StatszTimer>,
    /// When each account's connection count was last sent, for accounts with connections.
    account_conns: Mutex<HashMap<String, Instant>>,
    subs: Mutex<Vec<Arc<Sub>>>,
}

/// When to broadcast `STATSZ` (Go: `sys.stmr`, `cstatsz`, `lastStatsz`); time is an
/// input, so the schedule is tested without a clock.
#[derive(Debug)]
struct StatszTimer {
    /// The current interval (Go: `cstatsz`), doubling up to [`STATSZ_INTERVAL`].
    interval: Duration,
    next: Instant,
    last: Option<Instant>,
    /// A broadcast was asked for (a `$SYS.REQ.SERVER.PING` without a reply).
    forced: bool,
}

impl StatszTimer {
    fn new(start: Instant) -> StatszTimer {
        StatszTimer {
            interval: STATSZ_FIRST,
            next: start + STATSZ_FIRST,
            last: None,
            forced: false,
        }
    }

    /// Whether to broadcast now, and when to look again. Go: `heartbeatStatsz` doubles
    /// the interval and re-arms the timer, then `limitStatsz` drops a broadcast within
    /// `min(1 s, interval)` of the last one and re-arms the timer for when it may go.
    fn poll(&mut self, now: Instant) -> (bool, Instant) {
        if self.forced {
            // Go: statszReq resets the limit and sends; the timer is left as it is.
            self.forced = false;
            self.last = Some(now);
            return (true, self.next);
        }
        if now < self.next {
            return (false, self.next);
        }
        self.interval = (self.interval * 2).min(STATSZ_INTERVAL);
        self.next = now + self.interval;
        let limit = STATSZ_RATE_LIMIT.min(self.interval);
        if let Some(last) = self.last
            && now.saturating_duration_since(last) < limit
        {
            self.next = last + limit;
            return (false, self.next);
        }
        self.last = Some(now);
        (true, self.next)
    }
}

impl System {
    /// The system account the options ask for (Go: `no_system_account`, `system_account`,
    /// else `$SYS`), registered in `accounts`.
    pub(crate) fn from_opts(
        opts: &ServerOpts,
        accounts: &mut HashMap<String, Arc<AccountSubs>>,
    ) -> Option<System> {
        if opts.no_system_account {
            return None;
        }
        let name = if opts.system_account.is_empty() {
            DEFAULT_SYSTEM_ACCOUNT.to_owned()
        } else {
            opts.system_account.clone()
        };
        let account = Arc::clone(accounts.entry(name.clone()).or_default());
        Some(System {
            name,
            account,
            client: Arc::new(InternalClient::default()),
            seq: AtomicU64::new(0),
            ids: Mutex::new(EventIds::new()),
            statsz: Mutex::new(StatszTimer::new(Instant::now())),
            account_conns: Mutex::new(HashMap::new()),
            subs: Mutex::new(Vec::new()),
        })
    }

    /// Connection ids Go's internal clients take before the first client connects: one per
    /// account the configuration registers (`$G` and the system account included) and two
    /// of the system account's own. Measured on 2.15.1: `$SYS` and `$G` alone make the
    /// first client cid 5, each further account adds one. Accounts an operator's resolver
    /// loads later are not counted (docs/CONFORMANCE.md row 54).
    pub(crate) fn reserved_cids(&self, opts: &ServerOpts) -> u64 {
        let mut names: std::collections::HashSet<&str> =
            opts.accounts.iter().map(|a| a.name.as_str()).collect();
        names.insert(crate::auth::GLOBAL_ACCOUNT);
        names.insert(&self.name);
        names.len() as u64 + 2
    }

    /// Go: the service imports every account gets from the system account (answered for
    /// the requester's own account).
    pub(crate) fn import_services(&self, shared: &Shared, account: &Arc<AccountSubs>) {
        if Arc::ptr_eq(account, &self.account) {
            return;
        }
        let mut subs = lock(&self.subs);
        for (i, subject) in requests::IMPORTS.iter().enumerate() {
            let sid = (i + 1).to_string();
            match subscribe_internal(account, &self.client, subject.as_bytes(), sid.as_bytes()) {
                Some(sub) => subs.push(sub),
                None => shared.log(
                    LogLevel::Error,
                    &format!("Error adding system service import {subject}"),
                ),
            }
        }
    }

    /// The `server` object of the next message (takes the next `seq`).
    fn server_info(&self, shared: &Shared) -> ServerInfo {
        let info = &shared.client_cfg.info;
        ServerInfo {
            name: shared.server_name.clone(),
            host: info.host.clone(),
            id: shared.server_id.clone(),
            ver: info.version.clone(),
            feature_flags: FeatureFlags::default(),
            jetstream: false,
            flags: 0,
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            time: jiff::Timestamp::now().to_string(),
        }
    }

    fn next_id(&self) -> String {
        lock(&self.ids).next()
    }

    /// Publishes `body` on `subject` in `account` from the internal client.
    fn send(&self, shared: &Shared, account: &AccountSubs, subject: &str, body: &[u8]) {
        publish_internal(
            shared,
            account,
            &Delivery {
                subject: subject.as_bytes(),
                reply: None,
                header_len: None,
                payload: body,
            },
        );
    }

    /// Whether a connection of the system account listens on `subject`.
    fn wanted(&self, subject: &str) -> bool {
        self.account.has_interest(subject.as_bytes())
    }

    /// Go: `accountConnectEvent` and `accConnsUpdate`, once a connection is bound.
    pub(crate) fn client_connected(&self, shared: &Shared, client: &Client) {
        let Some(account) = lock(&client.info).account.clone() else {
            return;
        };
        self.account_conns_update(shared, &account);
        let subject = format!("$SYS.ACCOUNT.{account}.CONNECT");
        if !self.wanted(&subject) {
            return;
        }
        let id = self.next_id();
        let timestamp = jiff::Timestamp::now().to_string();
        let msg = ConnectEventMsg {
            r#type: CONNECT_EVENT,
            id,
            timestamp,
            server: self.server_info(shared),
            client: client_info(client, None),
        };
        self.send(shared, &self.account, &subject, &go_json(&msg));
    }

    /// Go: `sendAuthErrorEvent`, `accConnsUpdate` and `accountDisconnectEvent`, once a
    /// registered connection closed (one that never authenticated is in `$G`, as in Go).
    pub(crate) fn client_disconnected(&self, shared: &Shared, client: &Client, state: ClosedState) {
        let bound = lock(&client.info).account.clone();
        let account = bound
            .clone()
            .unwrap_or_else(|| crate::auth::GLOBAL_ACCOUNT.to_owned());
        let now = jiff::Timestamp::now();
        if state == ClosedState::AuthenticationViolation {
            let subject = format!("$SYS.SERVER.{}.CLIENT.AUTH.ERR", shared.server_id);
            if self.wanted(&subject) {
                let msg = self.disconnect_msg(shared, client, &account, state, now);
                self.send(shared, &self.account, &subject, &go_json(&msg));
            }
        }
        if bound.is_some() {
            self.account_conns_update(shared, &account);
        }
        let subject = format!("$SYS.ACCOUNT.{account}.DISCONNECT");
        if self.wanted(&subject) {
            let msg = self.disconnect_msg(shared, client, &account, state, now);
            self.send(shared, &self.account, &subject, &go_json(&msg));
        }
    }

    /// Go: `DisconnectEventMsg`.
    fn disconnect_msg(
        &self,
        shared: &Shared,
        client: &Client,
        account: &str,
        state: ClosedState,
        now: jiff::Timestamp,
    ) -> DisconnectEventMsg {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut info = client_info(client, Some(now));
        account.clone_into(&mut info.acc);
        account.clone_into(&mut info.name_tag);
        DisconnectEventMsg {
            r#type: DISCONNECT_EVENT,
            id: self.next_id(),
            timestamp: now.to_string(),
            server: self.server_info(shared),
            client: info,
            // Go: what the client sent is what the server received from it.
            sent: MsgBytes {
                msgs: load(&client.stats.in_msgs),
                bytes: load(&client.stats.in_bytes),
            },
            received: MsgBytes {
                msgs: load(&client.stats.out_msgs),
                bytes: load(&client.stats.out_bytes),
            },
            reason: state.as_str(),
        }
    }

    /// Go: `sendAccConnsUpdate` on both the old and the new subject (never for `$G`).
    fn account_conns_update(&self, shared: &Shared, account: &str) {
        if account == crate::auth::GLOBAL_ACCOUNT {
            return;
        }
        let stat = account_stat(shared, account);
        {
            let mut tracked = lock(&self.account_conns);
            if stat.total_conns == 0 {
                tracked.remove(account);
            } else {
                tracked.insert(account.to_owned(), Instant::now());
            }
        }
        let old = format!("$SYS.SERVER.ACCOUNT.{account}.CONNS");
        let new = format!("$SYS.ACCOUNT.{account}.SERVER.CONNS");
        if !self.wanted(&old) && !self.wanted(&new) {
            return;
        }
        let id = self.next_id();
        let timestamp = jiff::Timestamp::now().to_string();
        for subject in [old, new] {
            let msg = self.account_num_conns(shared, &id, &timestamp, stat.clone());
            self.send(shared, &self.account, &subject, &go_json(&msg));
        }
    }

    fn account_num_conns(
        &self,
        shared: &Shared,
        id: &str,
        timestamp: &str,
        stat: AccountStat,
    ) -> AccountNumConns {
        AccountNumConns {
            r#type: ACCOUNT_CONNS_EVENT,
            id: id.to_owned(),
            timestamp: timestamp.to_owned(),
            server: self.server_info(shared),
            stat,
        }
    }

    /// Sends the `STATSZ` broadcast if its timer is due and it is not rate limited
    /// (Go: `heartbeatStatsz`, `limitStatsz`); returns when to look again.
    fn statsz_tick(&self, shared: &Shared, now: Instant) -> Instant {
        let (send, next) = lock(&self.statsz).poll(now);
        // Go (standalone): only when some connection listens.
        let subject = format!("$SYS.SERVER.{}.STATSZ", shared.server_id);
        if send && self.wanted(&subject) {
            let body = requests::statsz(self, shared);
            self.send(shared, &self.account, &subject, &body);
        }
        next
    }

    /// Go: a `$SYS.REQ.SERVER.PING` without a reply resets the rate limit and broadcasts.
    fn statsz_now(&self) {
        lock(&self.statsz).forced = true;
    }

    /// Repeats the connection counts of accounts that still have connections.
    fn account_conns_tick(&self, shared: &Shared, now: Instant) -> Instant {
        let due: Vec<String> = lock(&self.account_conns)
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(**at) >= ACCOUNT_CONNS_INTERVAL)
            .map(|(a, _)| a.clone())
            .collect();
        for account in due {
            self.account_conns_update(shared, &account);
        }
        lock(&self.account_conns)
            .values()
            .map(|at| *at + ACCOUNT_CONNS_INTERVAL)
            .min()
            .unwrap_or(now + ACCOUNT_CONNS_INTERVAL)
    }
}

/// Go (`configureAccounts`): when the configuration's only account is the system account,
/// with no `authorization {}` block, no `no_auth_user` and no operator, a made-up user of
/// `$G` becomes the `no_auth_user`, so that clients without credentials still connect
/// (to `$G`) while the system account has users. Returns the options authentication
/// uses.
pub(crate) fn with_global_no_auth_user(opts: &ServerOpts) -> ServerOpts {
    let sys = if opts.system_account.is_empty() {
        DEFAULT_SYSTEM_ACCOUNT
    } else {
        opts.system_account.as_str()
    };
    let only_sys = opts.accounts.len() == 1 && opts.accounts.iter().all(|a| a.name == sys);
    if opts.no_system_account
        || !only_sys
        || !opts.no_auth_user.is_empty()
        || opts.auth_block_defined
        || !opts.operators.is_empty()
        || !opts.trusted_keys.is_empty()
    {
        return opts.clone();
    }
    let mut rnd = [0u8; 8];
    let _ = getrandom::fill(&mut rnd);
    let suffix: String = rnd
        .iter()
        .map(|b| char::from(BASE62[usize::from(*b) % 62]))
        .collect();
    let mut out = opts.clone();
    let user = crate::options::User {
        username: format!("nats-{suffix}"),
        password: suffix,
        ..crate::options::User::default()
    };
    out.no_auth_user.clone_from(&user.username);
    out.users.push(user);
    out
}

/// Subscribes the internal client to the system services and runs them until shutdown.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Some(sys) = &shared.system else {
        return;
    };
    let mut subs = Vec::new();
    for (i, subject) in requests::subjects(&shared.server_id).iter().enumerate() {
        let sid = (i + 1).to_string();
        match subscribe_internal(
            &sys.account,
            &sys.client,
            subject.as_bytes(),
            sid.as_bytes(),
        ) {
            Some(sub) => subs.push(sub),
            None => shared.log(
                LogLevel::Error,
                &format!("Error setting up internal tracking: invalid subject {subject}"),
            ),
        }
    }
    lock(&sys.subs).extend(subs);
    // Subscribed here, not in the task: a shutdown before the task first runs is seen.
    let shutdown = shared.shutdown.subscribe();
    let task = Arc::clone(shared);
    let _ = shared.spawn(run(task, shutdown));
}

/// The system account's task: requests as they come, timers as they fall due.
async fn run(shared: Arc<Shared>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let Some(sys) = &shared.system else {
        return;
    };
    loop {
        if *shutdown.borrow_and_update() {
            break;
        }
        while let Some(m) = sys.client.next() {
            requests::handle(sys, &shared, m);
        }
        let now = Instant::now();
        let next = sys
            .statsz_tick(&shared, now)
            .min(sys.account_conns_tick(&shared, now));
        tokio::select! {
            () = sys.client.wake.notified() => {}
            () = tokio::time::sleep_until(next.into()) => {}
            _ = shutdown.changed() => break,
        }
    }
    for sub in lock(&sys.subs).drain(..) {
        crate::server::router::unsubscribe_internal(&sub);
    }
}

/// Go: `ClientInfo` of a connection (`stop` for a disconnect).
fn client_info(client: &Client, stop: Option<jiff::Timestamp>) -> ClientInfo {
    let info = lock(&client.info).clone();
    let account = info.account.clone().unwrap_or_default();
    ClientInfo {
        start: client.started.to_string(),
        host: info.remote_addr.ip().to_string(),
        id: client.cid,
        acc: account.clone(),
        user: info
            .user
            .clone()
            .or_else(|| client.failed_user.get().cloned())
            .unwrap_or_default(),
        name: info.name.clone().unwrap_or_default(),
        lang: info.lang.clone(),
        ver: info.version.clone(),
        // Go: the disconnect event's `c.getRTT()`; the connect event has none.
        rtt: stop.map_or(0, |_| {
            client.rtt_nanos.load(std::sync::atomic::Ordering::Relaxed)
        }),
        stop: stop.map(|t| t.to_string()).unwrap_or_default(),
        name_tag: account,
        kind: "Client".to_owned(),
        client_type: match info.kind {
            ConnType::Client => "nats",
            ConnType::Websocket => "websocket",
            ConnType::Mqtt | ConnType::MqttWebsocket => "mqtt",
            // Go: clientTypeString is empty for non-client kinds (leafs are in /leafz).
            ConnType::Leafnode | ConnType::LeafnodeWebsocket => "",
        }
        .to_owned(),
        client_id: info.mqtt_client.clone(),
    }
}

/// Go: `Account.statz`, from the server's registered connections.
fn account_stat(shared: &Shared, account: &str) -> AccountStat {
    let clients: Vec<Arc<Client>> = lock(&shared.clients).values().cloned().collect();
    let conns = clients
        .iter()
        .filter(|c| lock(&c.info).account.as_deref() == Some(account))
        .count();
    let subs = lock(&shared.accounts).get(account).cloned();
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (num_subscriptions, sent, received) =
        subs.map_or((0, MsgBytes::default(), MsgBytes::default()), |a| {
            (
                a.count(),
                MsgBytes {
                    msgs: load(&a.stats.out_msgs),
                    bytes: load(&a.stats.out_bytes),
                },
                MsgBytes {
                    msgs: load(&a.stats.in_msgs),
                    bytes: load(&a.stats.in_bytes),
                },
            )
        });
    let data = |m: MsgBytes| AccountDataStats {
        msgs: m.msgs,
        bytes: m.bytes,
        ..AccountDataStats::default()
    };
    AccountStat {
        acc: account.to_owned(),
        name: account.to_owned(),
        conns,
        leafnodes: 0,
        total_conns: conns,
        num_subscriptions,
        sent: data(sent),
        received: data(received),
        slow_consumers: 0,
    }
}

/// Unique event ids in Go's NUID shape: 22 base-62 characters, a random 12-character
/// prefix and a 10-character sequence.
#[derive(Debug)]
struct EventIds {
    prefix: [u8; 12],
    seq: u64,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^10: the sequence wraps below it.
const SEQ_MAX: u64 = 839_299_365_868_340_224;

impl EventIds {
    fn new() -> EventIds {
        let mut rnd = [0u8; 20];
        let _ = getrandom::fill(&mut rnd);
        let mut prefix = [b'0'; 12];
        for (p, r) in prefix.iter_mut().zip(rnd.iter()) {
            *p = BASE62[usize::from(*r) % 62];
        }
        let mut seq = 0u64;
        for r in &rnd[12..] {
            seq = (seq << 8) | u64::from(*r);
        }
        EventIds {
            prefix,
            seq: seq % SEQ_MAX,
        }
    }

    fn next(&mut self) -> String {
        self.seq = (self.seq + 1) % SEQ_MAX;
        let mut out = String::from_utf8_lossy(&self.prefix).into_owned();
        let mut digits = [b'0'; 10];
        let mut n = self.seq;
        for d in digits.iter_mut().rev() {
            *d = BASE62[(n % 62) as usize];
            n /= 62;
        }
        out.push_str(&String::from_utf8_lossy(&digits));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_clients_take_gos_first_connection_ids() {
        // The first client's cid is reserved + 1; measured on Go 2.15.1 for each config.
        let first_cid = |conf: &str| {
            let Ok(loaded) = ServerOpts::from_str(conf, std::path::Path::new(".")) else {
                panic!("the test's configuration must load: {conf}");
            };
            let opts = loaded.opts;
            let mut accounts = HashMap::new();
            System::from_opts(&opts, &mut accounts).map_or(1, |s| 1 + s.reserved_cids(&opts))
        };
        assert_eq!(first_cid("port: -1\n"), 5);
        assert_eq!(first_cid("no_system_account: true\n"), 1);
        assert_eq!(
            first_cid("accounts { A { users [{user: a, password: a}] }, B {}, C {} }\n"),
            8
        );
        assert_eq!(
            first_cid("accounts { A {}, SYS {} }\nsystem_account: SYS\n"),
            6
        );
        assert_eq!(
            first_cid("authorization { users [{user: a, password: a}] }\n"),
            5
        );
    }

    #[test]
    fn statsz_schedule_is_gos() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut t = StatszTimer::new(t0);
        assert_eq!(t.poll(t0), (false, t0 + ms(250)));
        // 250 ms, then the interval doubles (500 ms, 1 s, 2 s, ... 10 s); the 750 ms one
        // falls within the 1 s limit and goes at 1250 ms. Go 2.15.1 was seen sending at
        // 1.25 s, 3.25 s, 7.25 s and 15.25 s after its start.
        let mut at = t0 + ms(250);
        let mut sent = vec![];
        for _ in 0..9 {
            let (send, next) = t.poll(at);
            if send {
                sent.push(at.duration_since(t0).as_millis());
            }
            at = next;
        }
        assert_eq!(
            sent,
            [250, 1250, 3250, 7250, 15_250, 25_250, 35_250, 45_250]
        );
        // A forced broadcast goes now and leaves the timer where it was.
        let now = at - ms(5000);
        assert_eq!(t.poll(now), (false, at));
        t.forced = true;
        assert_eq!(t.poll(now), (true, at));
        // The timer firing within a second of the forced one is held back to 1 s after it.
        let mut t = StatszTimer::new(t0);
        t.forced = true;
        assert!(t.poll(t0 + ms(100)).0);
        let (send, next) = t.poll(t0 + ms(250));
        assert!(!send);
        assert_eq!(
            next,
            t0 + ms(100) + ms(500),
            "limit is min(1 s, interval 500 ms)"
        );
        // Each firing doubles the interval first (now 1 s): held back again to 1 s after.
        assert_eq!(t.poll(next), (false, t0 + ms(1100)));
        assert!(t.poll(t0 + ms(1100)).0);
    }

    #[test]
    fn event_ids_are_nuid_shaped_and_distinct() {
        let mut ids = EventIds::new();
        let a = ids.next();
        let b = ids.next();
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(a[..12], b[..12]);
        ids.seq = SEQ_MAX - 1;
        assert!(ids.next().ends_with("0000000000"), "the sequence wraps");
    }
}
