//! `/connz`: open and closed connections (Go: `Connz`, `ConnInfo`, `ConnzOptions`).

use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::closed::{ClosedConn, redact_bearer};
use super::query::{Query, decode_bool, decode_int, decode_uint64};
use super::{DEFAULT_LIMIT, go_duration, uptime};
use crate::server::router::{Client, lock};
use crate::server::{ConnType, Shared};

/// Go: `ConnInfo`, the fields that apply, in Go's order.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct ConnzEntry {
    pub(crate) cid: u64,
    kind: &'static str,
    r#type: &'static str,
    ip: String,
    port: u16,
    start: String,
    last_activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<String>,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) reason: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    rtt: String,
    uptime: String,
    idle: String,
    pending_bytes: usize,
    in_msgs: u64,
    out_msgs: u64,
    in_bytes: u64,
    out_bytes: u64,
    pub(crate) subscriptions: usize,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subscriptions_list_detail: Vec<SubDetail>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) jwt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    issuer_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name_tag: String,
    /// Go: `mqtt_client`, the MQTT client id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) mqtt_client: String,
    /// Sort keys in ns: start, last activity, stop (0 while open), round trip.
    #[serde(skip)]
    start_ns: i128,
    #[serde(skip)]
    last_ns: i128,
    #[serde(skip)]
    stop_ns: i128,
    #[serde(skip)]
    rtt_ns: u64,
}

#[cfg(test)]
impl ConnzEntry {
    pub(crate) fn test_entry(cid: u64) -> ConnzEntry {
        let c = Client::new(
            cid,
            ConnType::Client,
            std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            None,
            0,
        );
        conn_entry(&c, jiff::Timestamp::now())
    }
}

/// Go: `SubDetail`.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct SubDetail {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) account: String,
    /// Go: the account's name tag, its name when it has none (always ours).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) account_tag: String,
    pub(crate) subject: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) qgroup: String,
    pub(crate) sid: String,
    pub(crate) msgs: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub(crate) max: u64,
    pub(crate) cid: u64,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Go: `Connz`.
#[derive(Serialize, Debug)]
pub(crate) struct Connz {
    server_id: String,
    now: String,
    num_connections: usize,
    total: usize,
    offset: usize,
    limit: usize,
    /// `null` when an `acc` filter names no account (Go's nil slice).
    connections: Option<Vec<ConnzEntry>>,
}

/// Go: `SortOpt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortBy {
    Cid,
    Start,
    Subs,
    Pending,
    MsgsTo,
    MsgsFrom,
    BytesTo,
    BytesFrom,
    Last,
    Idle,
    Uptime,
    Stop,
    Reason,
    Rtt,
}

impl SortBy {
    /// Go: `SortOpt.IsValid`; the error is `Connz`'s.
    pub(crate) fn parse(s: &str) -> Result<SortBy, String> {
        Ok(match s {
            "" | "cid" => SortBy::Cid,
            "start" => SortBy::Start,
            "subs" => SortBy::Subs,
            "pending" => SortBy::Pending,
            "msgs_to" => SortBy::MsgsTo,
            "msgs_from" => SortBy::MsgsFrom,
            "bytes_to" => SortBy::BytesTo,
            "bytes_from" => SortBy::BytesFrom,
            "last" => SortBy::Last,
            "idle" => SortBy::Idle,
            "uptime" => SortBy::Uptime,
            "stop" => SortBy::Stop,
            "reason" => SortBy::Reason,
            "rtt" => SortBy::Rtt,
            other => return Err(format!("invalid sorting option: {other}")),
        })
    }
}

/// Go: `ConnState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ConnState {
    #[default]
    Open,
    Closed,
    All,
}

/// Which subscriptions each entry lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SubsList {
    #[default]
    None,
    Subjects,
    Detail,
}

/// Go: `ConnzOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnzOptions {
    /// `sort` as given (validated by [`connz`], as Go does).
    pub(crate) sort: String,
    /// `auth`: show `authorized_user`, `account`, `jwt`, `issuer_key`.
    pub(crate) auth: bool,
    pub(crate) subs: SubsList,
    pub(crate) offset: i64,
    /// 0 or less: [`DEFAULT_LIMIT`].
    pub(crate) limit: i64,
    /// 0: any.
    pub(crate) cid: u64,
    pub(crate) state: ConnState,
    /// `user`, `acc`, `mqtt_client` filters (empty: any).
    pub(crate) user: String,
    pub(crate) acc: String,
    pub(crate) mqtt_client: String,
}

impl ConnzOptions {
    /// Go: `HandleConnz`'s decoding, in its order, with its error texts.
    pub(crate) fn from_query(q: &Query) -> Result<ConnzOptions, String> {
        let sort = q.get("sort").to_owned();
        let auth = decode_bool(q, "auth")?;
        let subs = if q.get("subs").eq_ignore_ascii_case("detail") {
            SubsList::Detail
        } else if decode_bool(q, "subs")? {
            SubsList::Subjects
        } else {
            SubsList::None
        };
        let offset = decode_int(q, "offset")?;
        let limit = decode_int(q, "limit")?;
        let cid = decode_uint64(q, "cid")?;
        let state = match q.get("state").to_ascii_lowercase().as_str() {
            "" | "open" => ConnState::Open,
            "closed" => ConnState::Closed,
            "any" | "all" => ConnState::All,
            _ => return Err(format!("Error decoding state for {}", q.get("state"))),
        };
        Ok(ConnzOptions {
            sort,
            auth,
            subs,
            offset,
            limit,
            cid,
            state,
            user: q.get("user").to_owned(),
            acc: q.get("acc").to_owned(),
            mqtt_client: q.get("mqtt_client").to_owned(),
        })
    }
}

/// Go: `Server.Connz`.
pub(crate) fn connz(
    shared: &Shared,
    now: jiff::Timestamp,
    opts: &ConnzOptions,
) -> Result<Connz, String> {
    let sort = SortBy::parse(&opts.sort)?;
    let offset = usize::try_from(opts.offset.max(0)).unwrap_or(0);
    let mut limit = match usize::try_from(opts.limit) {
        Ok(n) if n > 0 => n,
        _ => DEFAULT_LIMIT,
    };
    if sort == SortBy::Stop && opts.state != ConnState::Closed {
        return Err("sort by stop only valid on closed connections".to_owned());
    }
    if sort == SortBy::Reason && opts.state != ConnState::Closed {
        return Err("sort by reason only valid on closed connections".to_owned());
    }
    if opts.cid > 0 {
        limit = 1;
    }
    let want_open = opts.state != ConnState::Closed;
    let want_closed = opts.state != ConnState::Open;
    let mut open: Vec<Arc<Client>> = if want_open {
        lock(&shared.clients).values().cloned().collect()
    } else {
        Vec::new()
    };
    let mut closed: Vec<Arc<ClosedConn>> = if want_closed {
        lock(&shared.closed).list()
    } else {
        Vec::new()
    };
    if !opts.acc.is_empty() {
        // Go: an unknown account answers an empty result.
        if !super::account_exists(shared, &opts.acc) {
            return Ok(empty(now, offset, limit));
        }
        open.retain(|c| account_of(c) == opts.acc);
        closed.retain(|c| c.acc == opts.acc);
    }
    // Go: `total` counts the account's connections in the chosen states before the
    // `cid`, `user` and `mqtt_client` filters.
    let total = open.len() + closed.len();
    if opts.cid > 0 {
        open.retain(|c| c.cid == opts.cid);
        if open.is_empty() {
            closed.retain(|c| c.info.cid == opts.cid);
            closed.truncate(1);
        } else {
            closed.clear();
        }
    } else {
        open.retain(|c| {
            let info = lock(&c.info);
            (opts.user.is_empty() || info.user.as_deref().unwrap_or("") == opts.user)
                && (opts.mqtt_client.is_empty() || info.mqtt_client == opts.mqtt_client)
        });
    }
    closed.retain(|c| {
        (opts.user.is_empty() || c.user == opts.user)
            && (opts.mqtt_client.is_empty() || c.info.mqtt_client == opts.mqtt_client)
    });
    let mut entries: Vec<ConnzEntry> = open
        .iter()
        .map(|c| open_entry(c, now, opts))
        .chain(closed.iter().map(|c| closed_entry(c, opts)))
        .collect();
    sort_entries(&mut entries, sort, now);
    let connections: Vec<ConnzEntry> = entries.into_iter().skip(offset).take(limit).collect();
    Ok(Connz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        num_connections: connections.len(),
        total,
        offset,
        limit,
        connections: Some(connections),
    })
}

fn account_of(c: &Client) -> String {
    lock(&c.info)
        .account
        .clone()
        .unwrap_or_else(|| crate::auth::GLOBAL_ACCOUNT.to_owned())
}

/// Go returns before it fills `server_id` when the account filter names no account.
fn empty(now: jiff::Timestamp, offset: usize, limit: usize) -> Connz {
    Connz {
        server_id: String::new(),
        now: now.to_string(),
        num_connections: 0,
        total: 0,
        offset,
        limit,
        connections: None,
    }
}

/// Go's sorts (`monitor_sort_opts.go`): counters, `last`, `stop` and `rtt` largest
/// first; `idle` longest first; `uptime` shortest first; `reason` by text. Stable over
/// connection ids, where Go's order of ties is unspecified.
fn sort_entries(entries: &mut [ConnzEntry], sort: SortBy, now: jiff::Timestamp) {
    entries.sort_by_key(|e| e.cid);
    let now_ns = now.as_nanosecond();
    match sort {
        SortBy::Cid | SortBy::Start => {}
        SortBy::Subs => entries.sort_by_key(|e| Reverse(e.subscriptions)),
        SortBy::Pending => entries.sort_by_key(|e| Reverse(e.pending_bytes)),
        SortBy::MsgsTo => entries.sort_by_key(|e| Reverse(e.out_msgs)),
        SortBy::MsgsFrom => entries.sort_by_key(|e| Reverse(e.in_msgs)),
        SortBy::BytesTo => entries.sort_by_key(|e| Reverse(e.out_bytes)),
        SortBy::BytesFrom => entries.sort_by_key(|e| Reverse(e.in_bytes)),
        SortBy::Last => entries.sort_by_key(|e| Reverse(e.last_ns)),
        SortBy::Idle => entries.sort_by_key(|e| Reverse(now_ns - e.last_ns)),
        SortBy::Uptime => entries.sort_by_key(|e| {
            let end = if e.stop_ns == 0 { now_ns } else { e.stop_ns };
            end - e.start_ns
        }),
        SortBy::Stop => entries.sort_by_key(|e| Reverse(e.stop_ns)),
        SortBy::Reason => entries.sort_by_key(|e| e.reason),
        SortBy::Rtt => entries.sort_by_key(|e| Reverse(e.rtt_ns)),
    }
}

fn open_entry(c: &Client, now: jiff::Timestamp, opts: &ConnzOptions) -> ConnzEntry {
    let mut e = conn_entry(c, now);
    match opts.subs {
        SubsList::Detail => {
            e.subscriptions_list_detail = sub_details(c);
            for d in &mut e.subscriptions_list_detail {
                d.account.clear();
                d.account_tag.clear();
            }
        }
        SubsList::Subjects => {
            e.subscriptions_list = lock(&c.subs)
                .values()
                .map(|s| String::from_utf8_lossy(s.subject()).into_owned())
                .collect();
            e.subscriptions_list.sort();
        }
        SubsList::None => {}
    }
    if opts.auth {
        let info = lock(&c.info);
        e.authorized_user = info.user.clone().unwrap_or_default();
        let account = info
            .account
            .clone()
            .unwrap_or_else(|| crate::auth::GLOBAL_ACCOUNT.to_owned());
        drop(info);
        if account != crate::auth::GLOBAL_ACCOUNT {
            e.account.clone_from(&account);
        }
        // Go: `getNameTag`, the account's JWT name or its name.
        e.name_tag = account;
        e.jwt = redact_bearer(&e.jwt);
    } else {
        e.jwt.clear();
        e.issuer_key.clear();
    }
    e
}

fn closed_entry(c: &ClosedConn, opts: &ConnzOptions) -> ConnzEntry {
    let mut e = c.info.clone();
    match opts.subs {
        SubsList::Detail => {
            e.subscriptions_list_detail.clone_from(&c.subs);
        }
        SubsList::Subjects => {
            e.subscriptions_list = c.subs.iter().map(|s| s.subject.clone()).collect();
        }
        SubsList::None => {}
    }
    if opts.auth {
        e.authorized_user.clone_from(&c.user);
        if !c.acc.is_empty() {
            e.account.clone_from(&c.acc);
            e.name_tag.clone_from(&c.acc);
        }
    }
    e
}

/// The entry of a connection at `now`, without the per-query parts; `jwt` and
/// `issuer_key` are kept for the caller to show or clear.
pub(crate) fn conn_entry(c: &Client, now: jiff::Timestamp) -> ConnzEntry {
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
    let rtt_ns = load(&c.rtt_nanos);
    let issuer_key = crate::auth::jwt::UserClaims::decode(&info.jwt)
        .map(|u| u.claims.issuer)
        .unwrap_or_default();
    ConnzEntry {
        cid: c.cid,
        kind: "Client",
        r#type: match info.kind {
            ConnType::Client => "nats",
            ConnType::Websocket => "websocket",
            // Go: clientTypeString, MQTT over either listener.
            ConnType::Mqtt | ConnType::MqttWebsocket => "mqtt",
            // Go: clientTypeString is empty for non-client kinds (leafs are in /leafz).
            ConnType::Leafnode | ConnType::LeafnodeWebsocket => "",
        },
        ip: info.remote_addr.ip().to_string(),
        port: info.remote_addr.port(),
        start: c.started.to_string(),
        last_activity: last.to_string(),
        stop: None,
        reason: "",
        rtt: go_duration(rtt_display(Duration::from_nanos(rtt_ns))),
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
        authorized_user: String::new(),
        account: String::new(),
        subscriptions_list: Vec::new(),
        subscriptions_list_detail: Vec::new(),
        jwt: info.jwt.clone(),
        issuer_key,
        name_tag: String::new(),
        mqtt_client: info.mqtt_client.clone(),
        start_ns: c.started.as_nanosecond(),
        last_ns: last.as_nanosecond(),
        stop_ns: 0,
        rtt_ns,
    }
}

/// Go: `getRTT`: between 1 µs and 1 ms truncated to the microsecond.
pub(super) fn rtt_display(d: Duration) -> Duration {
    if d > Duration::from_micros(1) && d < Duration::from_millis(1) {
        Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    } else {
        d
    }
}

/// The connection's subscriptions with their account (Go: `newSubDetail`), by subject.
pub(crate) fn sub_details(c: &Client) -> Vec<SubDetail> {
    let account = lock(&c.info)
        .account
        .clone()
        .unwrap_or_else(|| crate::auth::GLOBAL_ACCOUNT.to_owned());
    let mut v: Vec<SubDetail> = lock(&c.subs)
        .values()
        .map(|s| SubDetail {
            account: account.clone(),
            account_tag: account.clone(),
            subject: String::from_utf8_lossy(s.subject()).into_owned(),
            qgroup: s
                .queue()
                .map(|q| String::from_utf8_lossy(q).into_owned())
                .unwrap_or_default(),
            sid: String::from_utf8_lossy(s.sid()).into_owned(),
            msgs: s.delivered(),
            max: s.max(),
            cid: s.cid(),
        })
        .collect();
    v.sort_by(|a, b| (&a.subject, &a.sid).cmp(&(&b.subject, &b.sid)));
    v
}

/// Marks the entry closed (for [`super::closed::save`]).
impl ConnzEntry {
    pub(crate) fn close_at(&mut self, stop: jiff::Timestamp, reason: &'static str) {
        self.stop = Some(stop.to_string());
        self.stop_ns = stop.as_nanosecond();
        self.reason = reason;
    }
}
