//! `/varz`: the server's options, listeners and counters, in Go's field order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{Empty, go_float, go_float_opt, is_false, is_zero, nanos, process_usage, uptime};
use crate::server::Shared;
use crate::server::router::lock;

/// Go: `LeafNodeOptsVarz` (every field `omitempty`).
#[derive(Serialize, Default)]
struct LeafVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    host: String,
    #[serde(skip_serializing_if = "is_zero")]
    port: i64,
    #[serde(
        serialize_with = "super::go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    auth_timeout: f64,
    #[serde(
        serialize_with = "super::go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    tls_timeout: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tls_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tls_verify: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remotes: Vec<RemoteLeafVarz>,
}

/// Go: `RemoteLeafOptsVarz`.
#[derive(Serialize)]
struct RemoteLeafVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    local_account: String,
    #[serde(
        serialize_with = "super::go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    tls_timeout: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deny: Option<DenyRules>,
}

/// Go: `DenyRules`.
#[derive(Serialize)]
struct DenyRules {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imports: Vec<String>,
}

/// Go: `remoteLeafNodeOptsVarz`: each remote's account, URL hosts (`urlsToStrings`),
/// TLS timeout and deny lists.
fn remotes_varz(lo: &crate::options::LeafNodeOpts) -> Vec<RemoteLeafVarz> {
    lo.remotes
        .iter()
        .map(|r| RemoteLeafVarz {
            // Go: setBaselineOptions fills an empty account with the global one.
            local_account: if r.local_account.is_empty() {
                crate::auth::GLOBAL_ACCOUNT.to_owned()
            } else {
                r.local_account.clone()
            },
            tls_timeout: r.tls_timeout,
            urls: r.urls.iter().map(|u| u.host().into_owned()).collect(),
            deny: (!r.deny_imports.is_empty() || !r.deny_exports.is_empty()).then(|| DenyRules {
                exports: r.deny_exports.clone(),
                imports: r.deny_imports.clone(),
            }),
        })
        .collect()
}

fn is_zero_f64(f: &f64) -> bool {
    *f == 0.0
}

#[derive(Serialize, Default)]
struct WebsocketVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    host: String,
    #[serde(skip_serializing_if = "is_zero")]
    port: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    advertise: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    no_auth_user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    jwt_cookie: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_timeout: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_float_opt"
    )]
    auth_timeout: Option<f64>,
    #[serde(skip_serializing_if = "is_false")]
    no_tls: bool,
    #[serde(skip_serializing_if = "is_false")]
    tls_map: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls_pinned_certs: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    same_origin: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_origins: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    compression: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert_not_after: Option<String>,
}

/// Go: `MQTTOptsVarz` (every field `omitempty`; `tls_ocsp_peer_verify` stays false: no
/// OCSP peer verification here).
#[derive(Serialize, Default)]
struct MqttVarz {
    #[serde(skip_serializing_if = "String::is_empty")]
    host: String,
    #[serde(skip_serializing_if = "is_zero")]
    port: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    no_auth_user: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_float_opt"
    )]
    auth_timeout: Option<f64>,
    #[serde(skip_serializing_if = "is_false")]
    tls_map: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_float_opt"
    )]
    tls_timeout: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls_pinned_certs: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    js_domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ack_wait: Option<u64>,
    #[serde(skip_serializing_if = "is_zero_u16")]
    max_ack_pending: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert_not_after: Option<String>,
}

fn is_zero_u16(n: &u16) -> bool {
    *n == 0
}

/// The `mqtt` section: empty unless MQTT listens; then the configured options, with the
/// bound port and Go's baseline host (`0.0.0.0`) and TLS timeout (2 s).
fn mqtt_varz(shared: &Shared, mo: &crate::options::MqttOpts) -> MqttVarz {
    let Some(port) = shared.mqtt_port else {
        return MqttVarz::default();
    };
    MqttVarz {
        host: if mo.host.is_empty() {
            "0.0.0.0".to_owned()
        } else {
            mo.host.clone()
        },
        port: i64::from(port),
        no_auth_user: mo.no_auth_user.clone(),
        auth_timeout: (mo.auth_timeout != 0.0).then_some(mo.auth_timeout),
        tls_map: mo.tls_map,
        tls_timeout: Some(if mo.tls_timeout != 0.0 {
            mo.tls_timeout
        } else {
            crate::nats::DEFAULT_TLS_TIMEOUT_SECS
        }),
        tls_pinned_certs: mo
            .tls_pinned_certs
            .clone()
            .map(|p| p.into_iter().collect())
            .unwrap_or_default(),
        js_domain: mo.js_domain.clone(),
        ack_wait: mo.ack_wait.to_std().filter(|d| !d.is_zero()).map(nanos),
        max_ack_pending: mo.max_ack_pending,
        tls_cert_not_after: mo.tls.as_ref().and_then(cert_not_after),
    }
}

#[derive(Serialize)]
struct ConnectionStats {
    clients: u64,
    routes: u64,
    gateways: u64,
    leafs: u64,
}

#[derive(Serialize)]
struct DiskIoWait {
    waiters: i64,
    waits: u64,
    wait_time: u64,
    max_wait_time: u64,
}

/// Go: `Varz`, the fields a standalone server without JetStream shows, in Go's order.
#[derive(Serialize)]
pub(crate) struct Varz {
    server_id: String,
    server_name: String,
    version: String,
    proto: i32,
    go: String,
    host: String,
    port: u16,
    #[serde(skip_serializing_if = "is_false")]
    auth_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    tls_required: bool,
    #[serde(skip_serializing_if = "is_false")]
    tls_verify: bool,
    max_connections: i64,
    #[serde(skip_serializing_if = "is_zero")]
    max_subscriptions: i64,
    ping_interval: u64,
    ping_max: u32,
    http_host: String,
    http_port: u16,
    http_base_path: String,
    https_port: i64,
    #[serde(serialize_with = "go_float")]
    auth_timeout: f64,
    max_control_line: usize,
    max_payload: i64,
    max_pending: usize,
    cluster: Empty,
    gateway: Empty,
    leaf: LeafVarz,
    mqtt: MqttVarz,
    websocket: WebsocketVarz,
    jetstream: Empty,
    #[serde(serialize_with = "go_float")]
    tls_timeout: f64,
    write_deadline: u64,
    start: String,
    now: String,
    uptime: String,
    mem: u64,
    cores: usize,
    gomaxprocs: usize,
    #[serde(serialize_with = "go_float")]
    cpu: f64,
    connections: usize,
    total_connections: u64,
    routes: u64,
    remotes: u64,
    leafnodes: u64,
    in_msgs: u64,
    in_bytes: u64,
    in_client_msgs: u64,
    in_client_bytes: u64,
    out_msgs: u64,
    out_bytes: u64,
    out_client_msgs: u64,
    out_client_bytes: u64,
    slow_consumers: u64,
    stale_connections: u64,
    stalled_clients: u64,
    subscriptions: usize,
    http_req_stats: BTreeMap<String, u64>,
    config_load_time: String,
    config_digest: String,
    /// Go: `server_tags` and `server_metadata`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    system_account: String,
    slow_consumer_stats: ConnectionStats,
    stale_connection_stats: ConnectionStats,
    disk_io_wait_stats: DiskIoWait,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert_not_after: Option<String>,
}

pub(crate) fn varz(shared: &Shared, now: jiff::Timestamp) -> Varz {
    let opts = lock(&shared.opts).clone();
    let cfg = &shared.client_cfg;
    let info = &cfg.info;
    let st = &shared.stats;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let elapsed = shared.clock.started_at.elapsed();
    let (mem, cpu_time) = process_usage();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cpu = if elapsed.is_zero() {
        0.0
    } else {
        (cpu_time.as_secs_f64() / elapsed.as_secs_f64() * 1000.0).round() / 10.0
    };
    let connections = lock(&shared.clients).len();
    let subscriptions = lock(&shared.accounts).values().map(|a| a.count()).sum();
    let ws = &opts.websocket;
    let websocket = if shared.ws_cfg.is_some() {
        WebsocketVarz {
            host: ws.host.clone(),
            port: shared.ws_port.map_or(ws.port, i64::from),
            advertise: ws.advertise.clone(),
            no_auth_user: ws.no_auth_user.clone(),
            jwt_cookie: ws.jwt_cookie.clone(),
            handshake_timeout: ws
                .handshake_timeout
                .to_std()
                .filter(|d| !d.is_zero())
                .map(nanos),
            auth_timeout: (ws.auth_timeout > 0.0).then_some(ws.auth_timeout),
            no_tls: ws.no_tls,
            tls_map: ws.tls.as_ref().is_some_and(|t| t.map),
            tls_pinned_certs: ws
                .tls
                .as_ref()
                .and_then(|t| t.pinned_certs.clone())
                .map(|p| p.into_iter().collect())
                .unwrap_or_default(),
            same_origin: ws.same_origin,
            allowed_origins: ws.allowed_origins.clone(),
            compression: ws.compression,
            tls_cert_not_after: ws.tls.as_ref().and_then(cert_not_after),
        }
    } else {
        WebsocketVarz::default()
    };
    let http_req_stats = lock(&shared.http_req_stats).clone();
    let (in_msgs, in_bytes) = (load(&st.in_msgs), load(&st.in_bytes));
    let (out_msgs, out_bytes) = (load(&st.out_msgs), load(&st.out_bytes));
    let (slow, stale) = (load(&st.slow_consumers), load(&st.stale_connections));
    Varz {
        server_id: shared.server_id.clone(),
        server_name: shared.server_name.clone(),
        version: info.version.clone(),
        proto: info.proto,
        go: info.go.clone(),
        host: opts.host.clone(),
        port: info.port,
        auth_required: cfg.auth.auth_required(crate::auth::Transport::Standard),
        tls_required: info.tls_required,
        tls_verify: info.tls_verify,
        max_connections: shared
            .limits
            .max_connections
            .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        max_subscriptions: if cfg.max_subs > 0 { cfg.max_subs } else { 0 },
        ping_interval: nanos(cfg.ping_interval),
        ping_max: cfg.ping_max,
        http_host: opts.http_host.clone(),
        http_port: if shared.monitor_tls.is_some() {
            0
        } else {
            shared.http_addr.map_or(0, |a| a.port())
        },
        http_base_path: opts.http_base_path.clone(),
        https_port: match (&shared.monitor_tls, shared.http_addr) {
            (Some(_), Some(a)) => i64::from(a.port()),
            _ => 0,
        },
        auth_timeout: cfg.auth_timeout.as_secs_f64(),
        max_control_line: cfg.max_control_line,
        max_payload: cfg.max_payload,
        max_pending: shared.limits.max_pending,
        cluster: Empty {},
        gateway: Empty {},
        leaf: {
            let mut leaf = shared.leaf.as_ref().map_or_else(LeafVarz::default, |l| {
                let v = l.varz();
                LeafVarz {
                    host: v.host,
                    port: i64::from(v.port),
                    auth_timeout: v.auth_timeout,
                    tls_timeout: v.tls_timeout,
                    tls_required: v.tls_required,
                    tls_verify: v.tls_verify,
                    remotes: Vec::new(),
                }
            });
            leaf.remotes = remotes_varz(&opts.leafnode);
            leaf
        },
        mqtt: mqtt_varz(shared, &opts.mqtt),
        websocket,
        jetstream: Empty {},
        tls_timeout: shared.limits.tls_timeout.as_secs_f64(),
        write_deadline: nanos(shared.limits.write_deadline),
        start: shared.clock.started.to_string(),
        now: now.to_string(),
        uptime: uptime(elapsed),
        mem,
        cores,
        gomaxprocs: cores,
        cpu,
        connections,
        total_connections: shared.next_cid.load(Ordering::Relaxed).saturating_sub(1),
        routes: 0,
        remotes: 0,
        leafnodes: lock(&shared.leafs).len() as u64,
        in_msgs,
        in_bytes,
        in_client_msgs: in_msgs,
        in_client_bytes: in_bytes,
        out_msgs,
        out_bytes,
        out_client_msgs: out_msgs,
        out_client_bytes: out_bytes,
        slow_consumers: slow,
        stale_connections: stale,
        stalled_clients: 0,
        subscriptions,
        http_req_stats,
        config_load_time: shared.clock.config_loaded().to_string(),
        config_digest: opts.config_digest.clone(),
        tags: opts.server_tags.clone(),
        metadata: opts.server_metadata.clone(),
        system_account: shared
            .system
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        slow_consumer_stats: ConnectionStats {
            clients: slow,
            routes: 0,
            gateways: 0,
            leafs: 0,
        },
        stale_connection_stats: ConnectionStats {
            clients: stale,
            routes: 0,
            gateways: 0,
            leafs: 0,
        },
        disk_io_wait_stats: DiskIoWait {
            waiters: 0,
            waits: 0,
            wait_time: 0,
            max_wait_time: 0,
        },
        tls_cert_not_after: opts.tls.as_ref().and_then(cert_not_after),
    }
}

/// Go: `tlsCertNotAfter`: the `notAfter` of the block's (first) certificate, read from its
/// file now (a reload may have changed it).
fn cert_not_after(tc: &crate::options::TlsConfig) -> Option<String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let der = CertificateDer::pem_file_iter(&tc.cert_file)
        .ok()?
        .next()?
        .ok()?;
    let secs = crate::auth::certificate_not_after(&der).ok()?;
    jiff::Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_string())
}
