//! The system account's request services (Go: `initEventTracking`, `zReq`, `statszReq`,
//! `idzReq`, `userInfoReq`, the account services): which subjects the internal client
//! subscribes to, how a request's JSON options are read, and the answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::events::{
    AccountStat, ApiError, ConnectionKinds, MsgBytes, ServerApiResponse, ServerId, ServerStats,
    ServerStatsMsg, go_json,
};
use super::{System, account_stat};
use crate::server::Shared;
use crate::server::internal::InMsg;
use crate::server::monitor::query::Query;
use crate::server::monitor::{connz, leafz, process_usage, subsz, varz};
use crate::server::router::{AccountSubs, lock};

/// The `$SYS.REQ.SERVER.PING.<name>` / `$SYS.REQ.SERVER.<id>.<name>` services. Go's
/// `PROFILEZ`, `EXPVARZ` and `IPQUEUESZ` report the Go runtime and are not served.
const SERVER_SERVICES: &[&str] = &[
    "IDZ", "STATSZ", "VARZ", "SUBSZ", "CONNZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "ACCOUNTZ", "JSZ",
    "HEALTHZ", "RAFTZ",
];
/// The `$SYS.REQ.ACCOUNT.<account>.<name>` services (Go's `INFO` is not served).
const ACCOUNT_SERVICES: &[&str] = &["SUBSZ", "CONNZ", "LEAFZ", "JSZ", "STATZ", "CONNS"];

const PING: &str = "$SYS.REQ.SERVER.PING";
const ACCOUNT_PING_STATZ: &str = "$SYS.REQ.ACCOUNT.PING.STATZ";
const USER_INFO: &str = "$SYS.REQ.USER.INFO";

/// The services Go imports into every other account (Go: `addSystemAccountExports`).
pub(super) const IMPORTS: &[&str] = &[
    "$SYS.REQ.ACCOUNT.PING.CONNZ",
    "$SYS.REQ.SERVER.PING.CONNZ",
    "$SYS.REQ.ACCOUNT.PING.STATZ",
    USER_INFO,
];

/// Every subject the internal client subscribes to in the system account.
pub(super) fn subjects(server_id: &str) -> Vec<String> {
    let mut v = vec![PING.to_owned()];
    for name in SERVER_SERVICES {
        v.push(format!("{PING}.{name}"));
        v.push(format!("$SYS.REQ.SERVER.{server_id}.{name}"));
    }
    for name in ACCOUNT_SERVICES {
        v.push(format!("$SYS.REQ.ACCOUNT.*.{name}"));
    }
    v.push(ACCOUNT_PING_STATZ.to_owned());
    v.push(USER_INFO.to_owned());
    v
}

/// The JSON options of any request (Go: the `*EventOptions` types: the endpoint's
/// options and `EventFilterOptions`). Unknown fields are ignored, as Go's
/// `json.Unmarshal` does.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
struct Options {
    // EventFilterOptions
    server_name: String,
    cluster: String,
    host: String,
    exact_match: bool,
    tags: Vec<String>,
    domain: String,
    // ConnzOptions, SubszOptions
    sort: Option<String>,
    auth: bool,
    subscriptions: bool,
    subscriptions_detail: bool,
    offset: Option<u64>,
    limit: Option<u64>,
    cid: Option<u64>,
    state: Option<u8>,
    test: Option<String>,
    // AccountStatzOptions (`GatewayzOptions` has a boolean `accounts`: not a list, so
    // read as none).
    #[serde(deserialize_with = "strings_or_nothing")]
    accounts: Vec<String>,
    include_unused: bool,
}

/// A list of strings; any other JSON value reads as an empty list.
fn strings_or_nothing<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

impl Options {
    /// Go: `filterRequest`: true if the request is not for this server.
    fn filtered(&self, shared: &Shared) -> bool {
        let name = &shared.server_name;
        let host = &shared.client_cfg.info.host;
        let cluster = "";
        let differs = |want: &str, have: &str| {
            !want.is_empty()
                && if self.exact_match {
                    want != have
                } else {
                    !have.contains(want)
                }
        };
        if differs(&self.server_name, name)
            || differs(&self.host, host)
            || differs(&self.cluster, cluster)
        {
            return true;
        }
        // No server tags, no JetStream domain: any asked for filters the request out.
        !self.tags.is_empty() || !self.domain.is_empty()
    }

    /// The monitoring query these options mean (for the HTTP endpoint builders).
    fn query(&self) -> BTreeMap<String, String> {
        let mut q = BTreeMap::new();
        // Go: an empty sort is the default one.
        if let Some(s) = self.sort.as_ref().filter(|s| !s.is_empty()) {
            q.insert("sort".to_owned(), s.clone());
        }
        if self.auth {
            q.insert("auth".to_owned(), "true".to_owned());
        }
        if self.subscriptions_detail {
            q.insert("subs".to_owned(), "detail".to_owned());
        } else if self.subscriptions {
            q.insert("subs".to_owned(), "1".to_owned());
        }
        for (k, v) in [
            ("offset", self.offset),
            ("limit", self.limit),
            ("cid", self.cid),
        ] {
            if let Some(v) = v.filter(|&v| v > 0) {
                q.insert(k.to_owned(), v.to_string());
            }
        }
        match self.state {
            Some(1) => q.insert("state".to_owned(), "closed".to_owned()),
            Some(2) => q.insert("state".to_owned(), "any".to_owned()),
            _ => None,
        };
        if let Some(t) = self.test.as_ref().filter(|t| !t.is_empty()) {
            q.insert("test".to_owned(), t.clone());
        }
        q
    }
}

/// Answers one request.
pub(super) fn handle(sys: &System, shared: &Shared, m: InMsg) {
    if !Arc::ptr_eq(&m.account, &sys.account) {
        return imported(sys, shared, &m);
    }
    let service = m.service.as_str();
    if service == PING
        || service == format!("{PING}.STATSZ")
        || is_direct(shared, service, "STATSZ")
    {
        return statsz_request(sys, shared, &m);
    }
    let Some(reply) = m.reply.as_deref() else {
        return;
    };
    let answer = if service == USER_INFO {
        Some(user_info(sys, shared, &m))
    } else if service == ACCOUNT_PING_STATZ {
        z_request(sys, shared, &m, |o| account_statz(shared, o, None))
    } else if let Some(name) = service.strip_prefix("$SYS.REQ.ACCOUNT.*.") {
        // Go: extractAccount; `PING` is the ping service's, not an account's.
        let account = m.subject.split('.').nth(3).unwrap_or_default().to_owned();
        if name == "CONNS" {
            account_conns(sys, shared, &account)
        } else if name == "STATZ" && account == "PING" {
            None
        } else {
            z_request(sys, shared, &m, |o| {
                account_service(shared, name, &account, o)
            })
        }
    } else if let Some(name) = server_service(shared, service) {
        if name == "IDZ" {
            Some(go_json(&ServerId {
                name: &shared.server_name,
                host: &shared.client_cfg.info.host,
                id: &shared.server_id,
            }))
        } else {
            z_request(sys, shared, &m, |o| server_endpoint(sys, shared, name, o))
        }
    } else {
        None
    };
    if let Some(body) = answer {
        sys.send(shared, &m.account, reply, &body);
    }
}

/// A request to one of the [`IMPORTS`] from another account: about that account only.
fn imported(sys: &System, shared: &Shared, m: &InMsg) {
    let (Some(reply), Some(sender)) = (m.reply.as_deref(), m.sender.as_ref()) else {
        return;
    };
    let account = lock(&sender.info)
        .account
        .clone()
        .unwrap_or_else(|| crate::auth::GLOBAL_ACCOUNT.to_owned());
    let answer = match m.service.as_str() {
        USER_INFO => Some(user_info(sys, shared, m)),
        ACCOUNT_PING_STATZ => z_request(sys, shared, m, |o| {
            account_service(shared, "STATZ", &account, o)
        }),
        _ => z_request(sys, shared, m, |o| {
            account_service(shared, "CONNZ", &account, o)
        }),
    };
    if let Some(body) = answer {
        sys.send(shared, &m.account, reply, &body);
    }
}

fn is_direct(shared: &Shared, service: &str, name: &str) -> bool {
    service == format!("$SYS.REQ.SERVER.{}.{name}", shared.server_id)
}

/// The endpoint name of a `$SYS.REQ.SERVER.{PING,<id>}.<name>` service.
fn server_service<'a>(shared: &Shared, service: &'a str) -> Option<&'a str> {
    let rest = service.strip_prefix("$SYS.REQ.SERVER.")?;
    rest.strip_prefix("PING.").or_else(|| {
        rest.strip_prefix(shared.server_id.as_str())?
            .strip_prefix('.')
    })
}

/// What an endpoint answers: data (JSON in Go's field order), an error (Go: status
/// 500), or nothing at all.
enum Data {
    Json(Vec<u8>),
    Error(String),
    /// Go's typed nil beside an error: `"data":null` stays in the answer.
    NullAndError(String),
    Skip,
}

fn data<T: Serialize>(v: &T) -> Data {
    Data::Json(go_json(v))
}

/// `ServerAPIResponse` around data that is already JSON.
fn envelope(sys: &System, shared: &Shared, data: &[u8]) -> Vec<u8> {
    let server = go_json(&sys.server_info(shared));
    let mut out = Vec::with_capacity(server.len() + data.len() + 20);
    out.extend_from_slice(b"{\"server\":");
    out.extend_from_slice(&server);
    out.extend_from_slice(b",\"data\":");
    out.extend_from_slice(data);
    out.push(b'}');
    out
}

/// Go: `Routez`, `Gatewayz`, `Leafz`, `Accountz`, `AccountStatz`, `HealthStatus` and
/// `JSInfo` as a standalone server without JetStream fills them.
#[derive(Serialize)]
struct Routez<'a> {
    server_id: &'a str,
    server_name: &'a str,
    now: String,
    num_routes: u32,
    routes: [(); 0],
}

#[derive(Serialize)]
struct Gatewayz<'a> {
    server_id: &'a str,
    now: String,
    outbound_gateways: BTreeMap<String, ()>,
    inbound_gateways: BTreeMap<String, ()>,
}

#[derive(Serialize)]
struct Accountz<'a> {
    server_id: &'a str,
    now: String,
    system_account: &'a str,
    accounts: Vec<String>,
}

#[derive(Serialize)]
struct AccountStatz<'a> {
    server_id: &'a str,
    now: String,
    account_statz: Vec<AccountStat>,
}

#[derive(Serialize)]
struct Healthz {
    status: &'static str,
    status_code: u16,
}

#[derive(Serialize)]
struct JsApi {
    level: u32,
    total: u64,
    errors: u64,
}

#[derive(Serialize)]
struct JsConfig {
    max_memory: u64,
    max_storage: u64,
}

#[derive(Serialize)]
struct Jsz<'a> {
    memory: u64,
    storage: u64,
    reserved_memory: u64,
    reserved_storage: u64,
    accounts: u64,
    ha_assets: u64,
    api: JsApi,
    server_id: &'a str,
    now: String,
    disabled: bool,
    config: JsConfig,
    streams: u64,
    consumers: u64,
    messages: u64,
    bytes: u64,
    total: u64,
}

#[derive(Serialize)]
struct Empty {}

/// Go: `zReq`: reads the options (400 on bad JSON), drops requests for other servers,
/// wraps the data in a `ServerAPIResponse`.
fn z_request(
    sys: &System,
    shared: &Shared,
    m: &InMsg,
    respond: impl FnOnce(&Options) -> Data,
) -> Option<Vec<u8>> {
    let options = if m.body.is_empty() {
        Options::default()
    } else {
        match serde_json::from_slice::<Options>(&m.body) {
            Ok(o) => {
                if o.filtered(shared) {
                    return None;
                }
                o
            }
            Err(e) => return Some(error_response(sys, shared, 400, e.to_string())),
        }
    };
    match respond(&options) {
        Data::Json(v) => Some(envelope(sys, shared, &v)),
        Data::Error(e) => Some(error_response(sys, shared, 500, e)),
        Data::NullAndError(e) => {
            let mut out = envelope(sys, shared, b"null");
            out.pop();
            out.extend_from_slice(b",\"error\":");
            out.extend_from_slice(&go_json(&ApiError {
                code: 500,
                description: e,
            }));
            out.push(b'}');
            Some(out)
        }
        Data::Skip => None,
    }
}

fn error_response(sys: &System, shared: &Shared, code: u16, description: String) -> Vec<u8> {
    go_json(&ServerApiResponse::<()> {
        server: sys.server_info(shared),
        data: None,
        error: Some(ApiError { code, description }),
    })
}

/// Go: `statszReq`: without a reply, a broadcast on the `STATSZ` subject.
fn statsz_request(sys: &System, shared: &Shared, m: &InMsg) {
    if !m.body.is_empty() {
        match serde_json::from_slice::<Options>(&m.body) {
            Ok(o) if o.filtered(shared) => return,
            Ok(_) => {}
            Err(e) => {
                if let Some(reply) = &m.reply {
                    let body = error_response(sys, shared, 400, e.to_string());
                    sys.send(shared, &m.account, reply, &body);
                }
                return;
            }
        }
    }
    match &m.reply {
        Some(reply) => sys.send(shared, &m.account, reply, &statsz(sys, shared)),
        None => sys.statsz_now(),
    }
}

/// Go: `ServerStatsMsg` of `sendStatsz`.
pub(super) fn statsz(sys: &System, shared: &Shared) -> Vec<u8> {
    let st = &shared.stats;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let elapsed = shared.clock.started_at.elapsed();
    let (mem, cpu_time) = process_usage();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cpu = if elapsed.is_zero() {
        0.0
    } else {
        (cpu_time.as_secs_f64() / elapsed.as_secs_f64() * 100.0).round()
    };
    let clients = lock(&shared.clients);
    let connections = clients.len();
    let mut accounts: Vec<String> = clients
        .values()
        .filter_map(|c| lock(&c.info).account.clone())
        .collect();
    drop(clients);
    accounts.sort();
    accounts.dedup();
    let sent = MsgBytes {
        msgs: load(&st.out_msgs),
        bytes: load(&st.out_bytes),
    };
    let received = MsgBytes {
        msgs: load(&st.in_msgs),
        bytes: load(&st.in_bytes),
    };
    let slow = load(&st.slow_consumers);
    let stale = load(&st.stale_connections);
    let kinds = |n: u64| {
        (n > 0).then_some(ConnectionKinds {
            clients: n,
            routes: 0,
            gateways: 0,
            leafs: 0,
        })
    };
    go_json(&ServerStatsMsg {
        server: sys.server_info(shared),
        statsz: ServerStats {
            start: shared.clock.started.to_string(),
            mem,
            cores,
            cpu,
            connections,
            total_connections: shared.next_cid.load(Ordering::Relaxed).saturating_sub(1),
            active_accounts: accounts.len(),
            subscriptions: lock(&shared.accounts).values().map(|a| a.count()).sum(),
            sent,
            sent_to_clients: sent,
            received,
            received_from_clients: received,
            slow_consumers: slow,
            slow_consumer_stats: kinds(slow),
            stale_connections: stale,
            stale_connection_stats: kinds(stale),
            active_servers: 1,
            gomaxprocs: cores,
        },
    })
}

/// The data of a `$SYS.REQ.SERVER.…` endpoint.
fn server_endpoint(sys: &System, shared: &Shared, name: &str, o: &Options) -> Data {
    let now = jiff::Timestamp::now();
    match name {
        "VARZ" => data(&varz::varz(shared, now)),
        "CONNZ" => connz_data(shared, o, None),
        "SUBSZ" => subsz_data(shared, o.query()),
        "HEALTHZ" => data(&Healthz {
            status: "ok",
            status_code: 200,
        }),
        "ACCOUNTZ" => {
            let mut accounts: Vec<String> = lock(&shared.accounts).keys().cloned().collect();
            if !accounts.iter().any(|a| a == crate::auth::GLOBAL_ACCOUNT) {
                accounts.push(crate::auth::GLOBAL_ACCOUNT.to_owned());
            }
            accounts.sort();
            data(&Accountz {
                server_id: &shared.server_id,
                now: now.to_string(),
                system_account: &sys.name,
                accounts,
            })
        }
        "ROUTEZ" => data(&Routez {
            server_id: &shared.server_id,
            server_name: &shared.server_name,
            now: now.to_string(),
            num_routes: 0,
            routes: [],
        }),
        "GATEWAYZ" => data(&Gatewayz {
            server_id: &shared.server_id,
            now: now.to_string(),
            outbound_gateways: BTreeMap::new(),
            inbound_gateways: BTreeMap::new(),
        }),
        "LEAFZ" => leafz_data(shared, o, None),
        "JSZ" => data(&Jsz {
            memory: 0,
            storage: 0,
            reserved_memory: 0,
            reserved_storage: 0,
            accounts: 0,
            ha_assets: 0,
            api: JsApi {
                level: 0,
                total: 0,
                errors: 0,
            },
            server_id: &shared.server_id,
            now: now.to_string(),
            disabled: true,
            config: JsConfig {
                max_memory: 0,
                max_storage: 0,
            },
            streams: 0,
            consumers: 0,
            messages: 0,
            bytes: 0,
            total: 0,
        }),
        "RAFTZ" => data(&Empty {}),
        _ => Data::Skip,
    }
}

/// Go: `Leafz` with `LeafzEventOptions` (`subscriptions`; the account of an account
/// request).
fn leafz_data(shared: &Shared, o: &Options, account: Option<&str>) -> Data {
    let mut q = o.query();
    if let Some(a) = account {
        q.insert("acc".to_owned(), a.to_owned());
    }
    match leafz::LeafzOptions::from_query(&Query::from(q)) {
        Ok(opts) => data(&leafz::leafz(shared, jiff::Timestamp::now(), &opts)),
        Err(e) => Data::Error(e),
    }
}

fn connz_data(shared: &Shared, o: &Options, account: Option<&str>) -> Data {
    let mut q = o.query();
    if let Some(a) = account {
        q.insert("acc".to_owned(), a.to_owned());
    }
    let result = connz::ConnzOptions::from_query(&Query::from(q))
        .and_then(|opts| connz::connz(shared, jiff::Timestamp::now(), &opts));
    match result {
        Ok(c) => data(&c),
        Err(e) => Data::Error(e),
    }
}

fn subsz_data(shared: &Shared, q: BTreeMap<String, String>) -> Data {
    let result = subsz::SubszOptions::from_query(&Query::from(q))
        .and_then(|opts| subsz::subsz(shared, jiff::Timestamp::now(), &opts));
    match result {
        Ok(s) => data(&s),
        Err(e) => Data::Error(e),
    }
}

/// The data of a `$SYS.REQ.ACCOUNT.<account>.…` endpoint.
fn account_service(shared: &Shared, name: &str, account: &str, o: &Options) -> Data {
    match name {
        "CONNZ" => connz_data(shared, o, Some(account)),
        "SUBSZ" => {
            let mut q = o.query();
            q.insert("subs".to_owned(), "1".to_owned());
            q.insert("acc".to_owned(), account.to_owned());
            subsz_data(shared, q)
        }
        "LEAFZ" => leafz_data(shared, o, Some(account)),
        "JSZ" => Data::NullAndError("jetstream not enabled".to_owned()),
        "STATZ" => account_statz(shared, o, Some(account)),
        _ => Data::Skip,
    }
}

/// Go: `AccountStatz` (nothing when no listed account has connections and unused ones
/// are not asked for).
fn account_statz(shared: &Shared, o: &Options, account: Option<&str>) -> Data {
    let known: Vec<(String, Arc<AccountSubs>)> = lock(&shared.accounts)
        .iter()
        .map(|(k, v)| (k.clone(), Arc::clone(v)))
        .collect();
    let wanted: Vec<String> = match account {
        Some(a) => vec![a.to_owned()],
        None if !o.accounts.is_empty() => o.accounts.clone(),
        None => known.iter().map(|(k, _)| k.clone()).collect(),
    };
    let mut stats: Vec<AccountStat> = wanted
        .iter()
        .filter(|a| known.iter().any(|(k, _)| k == *a))
        .map(|a| account_stat(shared, a))
        .filter(|s| s.conns > 0 || o.include_unused)
        .collect();
    stats.sort_by(|a, b| a.acc.cmp(&b.acc));
    if stats.is_empty() && !o.include_unused {
        return Data::Skip;
    }
    data(&AccountStatz {
        server_id: &shared.server_id,
        now: jiff::Timestamp::now().to_string(),
        account_statz: stats,
    })
}

/// Go: `connsRequest`: the `AccountNumConns` itself (no envelope), if the account has
/// connections here.
fn account_conns(sys: &System, shared: &Shared, account: &str) -> Option<Vec<u8>> {
    let stat = account_stat(shared, account);
    if stat.conns == 0 {
        return None;
    }
    let id = sys.next_id();
    let timestamp = jiff::Timestamp::now().to_string();
    Some(go_json(
        &sys.account_num_conns(shared, &id, &timestamp, stat),
    ))
}

/// Go: `UserInfo`.
#[derive(Serialize)]
struct UserInfo {
    user: String,
    account: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    account_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<PermissionsJson>,
}

/// Go: `Permissions` as `publicPermissions` gives it: both subject lists always present.
#[derive(Serialize)]
struct PermissionsJson {
    publish: SubjectsJson,
    subscribe: SubjectsJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    responses: Option<ResponsesJson>,
}

/// Go: `SubjectPermission`.
#[derive(Serialize)]
struct SubjectsJson {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allow: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deny: Vec<String>,
}

/// Go: `ResponsePermission` (`ttl` in nanoseconds).
#[derive(Serialize)]
struct ResponsesJson {
    max: i64,
    ttl: u64,
}

fn permissions_json(p: &crate::options::Permissions) -> PermissionsJson {
    let subjects = |s: Option<&crate::options::SubjectPermission>| SubjectsJson {
        allow: s.and_then(|s| s.allow.clone()).unwrap_or_default(),
        deny: s.map(|s| s.deny.clone()).unwrap_or_default(),
    };
    PermissionsJson {
        publish: subjects(p.publish.as_ref()),
        subscribe: subjects(p.subscribe.as_ref()),
        responses: p.response.map(|r| ResponsesJson {
            max: r.max_msgs,
            ttl: r
                .expires
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        }),
    }
}

fn user_info(sys: &System, shared: &Shared, m: &InMsg) -> Vec<u8> {
    let (user, account) = m.sender.as_ref().map_or_else(
        || (String::new(), sys.name.clone()),
        |c| {
            let info = lock(&c.info);
            (
                info.user.clone().unwrap_or_default(),
                info.account.clone().unwrap_or_default(),
            )
        },
    );
    let permissions = m
        .sender
        .as_ref()
        .and_then(|c| c.permissions.get())
        .map(|p| permissions_json(p.source()));
    go_json(&ServerApiResponse {
        server: sys.server_info(shared),
        data: Some(UserInfo {
            user,
            account_name: account.clone(),
            account,
            permissions,
        }),
        error: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options_read_go_field_names_and_ignore_unknown_ones() {
        let o: Options = serde_json::from_slice(
            br#"{"subscriptions":true,"limit":1,"offset":2,"sort":"subs","state":2,"unknown":[1],"server_name":"x"}"#,
        )
        .unwrap();
        let q = o.query();
        assert_eq!(q.get("subs").map(String::as_str), Some("1"));
        assert_eq!(q.get("limit").map(String::as_str), Some("1"));
        assert_eq!(q.get("offset").map(String::as_str), Some("2"));
        assert_eq!(q.get("sort").map(String::as_str), Some("subs"));
        assert_eq!(q.get("state").map(String::as_str), Some("any"));
        assert_eq!(o.server_name, "x");
        assert!(serde_json::from_slice::<Options>(b"{bad").is_err());
        // Go's zero ConnzOptions and a GatewayzOptions (boolean `accounts`) are accepted.
        let o: Options = serde_json::from_slice(
            br#"{"sort":"","auth":false,"offset":0,"limit":0,"cid":0,"state":0,"accounts":true}"#,
        )
        .unwrap();
        assert!(o.query().is_empty(), "{:?}", o.query());
        assert!(o.accounts.is_empty());
        assert!(serde_json::from_slice::<Options>(br#"{"limit":"x"}"#).is_err());
    }

    #[test]
    fn subjects_cover_ping_direct_and_account_services() {
        let s = subjects("NID");
        for want in [
            "$SYS.REQ.SERVER.PING",
            "$SYS.REQ.SERVER.PING.STATSZ",
            "$SYS.REQ.SERVER.NID.VARZ",
            "$SYS.REQ.SERVER.PING.IDZ",
            "$SYS.REQ.ACCOUNT.*.CONNZ",
            "$SYS.REQ.ACCOUNT.*.CONNS",
            "$SYS.REQ.ACCOUNT.PING.STATZ",
            "$SYS.REQ.USER.INFO",
        ] {
            assert!(s.iter().any(|x| x == want), "{want}");
        }
    }
}
