//! `/connz` and `/subsz`: connections and subscriptions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{DEFAULT_LIMIT, go_float, uptime};
use crate::server::router::{Client, lock};
use crate::server::{ConnType, Shared};

/// Go: `ConnInfo`, the fields that apply.
#[derive(Serialize)]
struct ConnzEntry {
    cid: u64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    r#type: Option<&'static str>,
    ip: String,
    port: u16,
    start: String,
    last_activity: String,
    uptime: String,
    idle: String,
    pending_bytes: usize,
    in_msgs: u64,
    out_msgs: u64,
    in_bytes: u64,
    out_bytes: u64,
    subscriptions: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    lang: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    authorized_user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    account: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subscriptions_list: Vec<String>,
    /// Last activity in ns since the epoch, for the `last` and `idle` sorts.
    #[serde(skip)]
    last_nanos: u64,
}

#[derive(Serialize)]
pub(crate) struct Connz {
    server_id: String,
    now: String,
    num_connections: usize,
    total: usize,
    offset: usize,
    limit: usize,
    connections: Vec<ConnzEntry>,
}

/// Go's `sort` options that apply without closed-connection tracking.
const SORTS: &[&str] = &[
    "cid",
    "start",
    "subs",
    "pending",
    "msgs_to",
    "msgs_from",
    "bytes_to",
    "bytes_from",
    "last",
    "idle",
    "uptime",
];

fn number(query: &BTreeMap<String, String>, key: &str, default: usize) -> Result<usize, String> {
    match query.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|e| format!("strconv.Atoi: parsing {v:?}: {e}")),
    }
}

pub(crate) fn connz(
    shared: &Shared,
    now: jiff::Timestamp,
    query: &BTreeMap<String, String>,
) -> Result<Connz, String> {
    let sort = query.get("sort").map_or("cid", String::as_str);
    if !SORTS.contains(&sort) {
        return Err(format!("invalid sorting option: {sort}"));
    }
    if let Some(state) = query.get("state").filter(|s| s.as_str() != "open") {
        return Err(format!(
            "state={state}: closed connections are not kept by this server"
        ));
    }
    let offset = number(query, "offset", 0)?;
    let limit = number(query, "limit", DEFAULT_LIMIT)?;
    let subs = query
        .get("subs")
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "detail"));
    let cid = query.get("cid").and_then(|c| c.parse::<u64>().ok());
    // Go: `acc` keeps the connections of one account.
    let acc = query.get("acc").filter(|a| !a.is_empty());
    let clients: Vec<Arc<Client>> = lock(&shared.clients).values().cloned().collect();
    let mut entries: Vec<ConnzEntry> = clients
        .iter()
        .filter(|c| cid.is_none_or(|id| c.cid == id))
        .filter(|c| acc.is_none_or(|a| lock(&c.info).account.as_ref() == Some(a)))
        .map(|c| entry(c, now, subs))
        .collect();
    let key = |e: &ConnzEntry| -> u64 {
        match sort {
            "subs" => e.subscriptions as u64,
            "pending" => e.pending_bytes as u64,
            "msgs_to" => e.out_msgs,
            "msgs_from" => e.in_msgs,
            "bytes_to" => e.out_bytes,
            "bytes_from" => e.in_bytes,
            _ => e.last_nanos,
        }
    };
    match sort {
        // Go: the longest uptime first is the order of connection ids.
        "cid" | "start" | "uptime" => entries.sort_by_key(|e| e.cid),
        // The longest idle first; counters and `last` the largest first.
        "idle" => entries.sort_by_key(key),
        _ => entries.sort_by_key(|e| std::cmp::Reverse(key(e))),
    }
    let total = entries.len();
    let connections: Vec<ConnzEntry> = entries.into_iter().skip(offset).take(limit).collect();
    Ok(Connz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        num_connections: connections.len(),
        total,
        offset,
        limit,
        connections,
    })
}

fn entry(c: &Client, now: jiff::Timestamp, subs: bool) -> ConnzEntry {
    let info = lock(&c.info).clone();
    let pending = lock(&c.out).pending.len();
    let since = |t: jiff::Timestamp| {
        now.duration_since(t)
            .try_into()
            .map(uptime)
            .unwrap_or_else(|_| "0s".to_owned())
    };
    let last = *lock(&c.last_activity);
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let subscriptions_list = if subs {
        let mut v: Vec<String> = lock(&c.subs)
            .values()
            .map(|s| String::from_utf8_lossy(s.subject()).into_owned())
            .collect();
        v.sort();
        v
    } else {
        Vec::new()
    };
    ConnzEntry {
        cid: c.cid,
        kind: "Client",
        r#type: (info.kind == ConnType::Websocket).then_some("websocket"),
        ip: info.remote_addr.ip().to_string(),
        port: info.remote_addr.port(),
        start: c.started.to_string(),
        last_activity: last.to_string(),
        uptime: since(c.started),
        idle: since(last),
        pending_bytes: pending,
        in_msgs: load(&c.stats.in_msgs),
        out_msgs: load(&c.stats.out_msgs),
        in_bytes: load(&c.stats.in_bytes),
        out_bytes: load(&c.stats.out_bytes),
        subscriptions: info.subscriptions,
        name: info.name.clone().unwrap_or_default(),
        lang: info.lang.clone(),
        version: info.version.clone(),
        authorized_user: info.user.clone().unwrap_or_default(),
        account: info.account.clone().unwrap_or_default(),
        subscriptions_list,
        last_nanos: u64::try_from(last.as_nanosecond()).unwrap_or(0),
    }
}

#[derive(Serialize)]
pub(crate) struct Subsz {
    server_id: String,
    now: String,
    num_subscriptions: usize,
    num_cache: u64,
    num_inserts: u64,
    num_removes: u64,
    num_matches: u64,
    #[serde(serialize_with = "go_float")]
    cache_hit_rate: f64,
    max_fanout: u64,
    #[serde(serialize_with = "go_float")]
    avg_fanout: f64,
    total: usize,
    offset: usize,
    limit: usize,
}

pub(crate) fn subsz(
    shared: &Shared,
    now: jiff::Timestamp,
    query: &BTreeMap<String, String>,
) -> Result<Subsz, String> {
    let offset = number(query, "offset", 0)?;
    let limit = number(query, "limit", DEFAULT_LIMIT)?;
    let num_subscriptions = lock(&shared.accounts).values().map(|a| a.count()).sum();
    Ok(Subsz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        num_subscriptions,
        num_cache: 0,
        num_inserts: 0,
        num_removes: 0,
        num_matches: 0,
        cache_hit_rate: 0.0,
        max_fanout: 0,
        avg_fanout: 0.0,
        total: 0,
        offset,
        limit,
    })
}
