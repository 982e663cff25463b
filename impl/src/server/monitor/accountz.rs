//! `/accountz` and `/accstatz`: accounts, one account's detail, per-account traffic
//! (Go: `Accountz`, `AccountInfo`, `AccountStatz`, `AccountStat`).
//!
//! Accounts are the configured ones, the global account and those created on first use
//! (JWT accounts). There is no system account yet (docs/CONFORMANCE.md row 34), and no
//! imports, exports or mappings to show. Lists are sorted by name (Go's order is a map's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::go_float;
use super::query::{Query, decode_bool};
use crate::auth::GLOBAL_ACCOUNT;
use crate::server::Shared;
use crate::server::router::{AccountStats, AccountSubs, Client, SublistStats, lock};

/// Go: `Accountz`.
#[derive(Serialize, Debug)]
pub(crate) struct Accountz {
    server_id: String,
    now: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    system_account: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    accounts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_detail: Option<AccountInfo>,
}

/// Go: `AccountInfo`, the fields that apply.
#[derive(Serialize, Debug)]
pub(crate) struct AccountInfo {
    account_name: String,
    update_time: String,
    expired: bool,
    complete: bool,
    jetstream_enabled: bool,
    leafnode_connections: u64,
    client_connections: u64,
    subscriptions: u64,
    name_tag: String,
    sublist_stats: SublistStatsJson,
}

/// Go: `SublistStats` as JSON (see `subsz` for what we count).
#[derive(Serialize, Debug)]
pub(crate) struct SublistStatsJson {
    num_subscriptions: u64,
    num_cache: u64,
    num_inserts: u64,
    num_removes: u64,
    num_matches: u64,
    #[serde(serialize_with = "go_float")]
    cache_hit_rate: f64,
    max_fanout: u64,
    #[serde(serialize_with = "go_float")]
    avg_fanout: f64,
}

impl From<SublistStats> for SublistStatsJson {
    fn from(st: SublistStats) -> Self {
        SublistStatsJson {
            num_subscriptions: st.subscriptions,
            num_cache: 0,
            num_inserts: st.inserts,
            num_removes: st.removes,
            num_matches: st.matches,
            cache_hit_rate: if st.matches > 0 {
                st.cache_hits as f64 / st.matches as f64
            } else {
                0.0
            },
            max_fanout: 0,
            avg_fanout: 0.0,
        }
    }
}

/// Go: `AccountzOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountzOptions {
    /// The account to detail (empty: list the names).
    pub(crate) account: String,
}

/// Go: `Server.Accountz`; the error is Go's text for an unknown account.
pub(crate) fn accountz(
    shared: &Shared,
    now: jiff::Timestamp,
    opts: &AccountzOptions,
) -> Result<Accountz, String> {
    let mut z = Accountz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        system_account: shared
            .system
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        accounts: Vec::new(),
        account_detail: None,
    };
    if opts.account.is_empty() {
        z.accounts = account_names(shared);
        return Ok(z);
    }
    if !super::account_exists(shared, &opts.account) {
        return Err(format!("Account {} does not exist", opts.account));
    }
    let name = &opts.account;
    let subs = shared.account(name);
    let st = subs.stats();
    z.account_detail = Some(AccountInfo {
        account_name: name.clone(),
        update_time: shared.clock.started.to_string(),
        expired: false,
        complete: true,
        jetstream_enabled: false,
        leafnode_connections: subs.leafs.count() as u64,
        client_connections: connections_of(shared, name),
        subscriptions: st.subscriptions,
        name_tag: name.clone(),
        sublist_stats: st.into(),
    });
    Ok(z)
}

/// Every account: configured, global, and created since.
fn account_names(shared: &Shared) -> Vec<String> {
    let mut names: Vec<String> = lock(&shared.accounts).keys().cloned().collect();
    names.extend(lock(&shared.opts).accounts.iter().map(|a| a.name.clone()));
    names.push(GLOBAL_ACCOUNT.to_owned());
    names.sort();
    names.dedup();
    names
}

fn connections_of(shared: &Shared, account: &str) -> u64 {
    let clients: Vec<Arc<Client>> = lock(&shared.clients).values().cloned().collect();
    clients
        .iter()
        .filter(|c| lock(&c.info).account.as_deref().unwrap_or(GLOBAL_ACCOUNT) == account)
        .count() as u64
}

/// Go: `AccountStatz`.
#[derive(Serialize, Debug)]
pub(crate) struct AccountStatz {
    server_id: String,
    now: String,
    account_statz: Vec<AccountStat>,
}

/// Go: `AccountStat`.
#[derive(Serialize, Debug)]
pub(crate) struct AccountStat {
    acc: String,
    name: String,
    conns: u64,
    leafnodes: u64,
    total_conns: u64,
    num_subscriptions: u64,
    sent: DataStats,
    received: DataStats,
    slow_consumers: u64,
}

/// Go: `DataStats` (no routes, gateways or leafnodes here: their counts are 0).
#[derive(Serialize, Debug)]
struct DataStats {
    msgs: u64,
    bytes: u64,
    gateways: MsgBytes,
    routes: MsgBytes,
    leafs: MsgBytes,
}

#[derive(Serialize, Debug, Default)]
struct MsgBytes {
    msgs: u64,
    bytes: u64,
}

impl DataStats {
    fn new(msgs: &AtomicU64, bytes: &AtomicU64) -> DataStats {
        DataStats {
            msgs: msgs.load(Ordering::Relaxed),
            bytes: bytes.load(Ordering::Relaxed),
            gateways: MsgBytes::default(),
            routes: MsgBytes::default(),
            leafs: MsgBytes::default(),
        }
    }
}

/// Go: `AccountStatzOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountStatzOptions {
    /// Only these accounts (empty: all). Go's HTTP handler never sets it.
    pub(crate) accounts: Vec<String>,
    /// Also accounts without connections.
    pub(crate) include_unused: bool,
}

impl AccountStatzOptions {
    /// Go: `HandleAccountStatz` reads `unused` only.
    pub(crate) fn from_query(q: &Query) -> Result<AccountStatzOptions, String> {
        Ok(AccountStatzOptions {
            accounts: Vec::new(),
            include_unused: decode_bool(q, "unused")?,
        })
    }
}

/// Go: `Server.AccountStatz`.
pub(crate) fn accstatz(
    shared: &Shared,
    now: jiff::Timestamp,
    opts: &AccountStatzOptions,
) -> AccountStatz {
    let names = if opts.accounts.is_empty() {
        account_names(shared)
    } else {
        let known = account_names(shared);
        opts.accounts
            .iter()
            .filter(|a| known.contains(a))
            .cloned()
            .collect()
    };
    let account_statz = names
        .into_iter()
        .filter_map(|name| {
            let conns = connections_of(shared, &name);
            if conns == 0 && !opts.include_unused {
                return None;
            }
            let subs: Arc<AccountSubs> = shared.account(&name);
            let t: &AccountStats = &subs.stats;
            let leafnodes = subs.leafs.count() as u64;
            Some(AccountStat {
                acc: name.clone(),
                name,
                conns,
                leafnodes,
                total_conns: conns + leafnodes,
                num_subscriptions: subs.count() as u64,
                sent: DataStats::new(&t.out_msgs, &t.out_bytes),
                received: DataStats::new(&t.in_msgs, &t.in_bytes),
                slow_consumers: t.slow_consumers.load(Ordering::Relaxed),
            })
        })
        .collect();
    AccountStatz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        account_statz,
    }
}
