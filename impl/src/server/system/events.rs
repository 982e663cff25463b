//! The JSON of the system account's messages, in Go's field order (Go: the event types of
//! server/events.go), and Go's `json.Marshal` escaping.

use serde::Serialize;

/// Go: `ServerInfo`, the `server` object of every event and response.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct ServerInfo {
    pub(crate) name: String,
    pub(crate) host: String,
    pub(crate) id: String,
    pub(crate) ver: String,
    /// Go 2.15's JetStream feature flags, as a server without JetStream reports them.
    pub(crate) feature_flags: FeatureFlags,
    pub(crate) jetstream: bool,
    pub(crate) flags: u64,
    pub(crate) seq: u64,
    pub(crate) time: String,
}

/// Go 2.15.1's `feature_flags` defaults.
#[derive(Serialize, Debug, Clone, Default)]
pub(crate) struct FeatureFlags {
    js_ack_fc_v2: bool,
    js_api_reply_v2: bool,
    js_raft_delete_range: Defaulted,
    js_snapshot_sources: bool,
}

/// A flag that is on by default.
#[derive(Serialize, Debug, Clone)]
#[serde(transparent)]
struct Defaulted(bool);

impl Default for Defaulted {
    fn default() -> Self {
        Defaulted(true)
    }
}

/// Go: `ServerID` (the `IDZ` answer).
#[derive(Serialize)]
pub(crate) struct ServerId<'a> {
    pub(crate) name: &'a str,
    pub(crate) host: &'a str,
    pub(crate) id: &'a str,
}

/// Go: `MsgBytes`.
#[derive(Serialize, Debug, Clone, Copy, Default)]
pub(crate) struct MsgBytes {
    pub(crate) msgs: u64,
    pub(crate) bytes: u64,
}

/// Go: `DataStats` with its `gateways`, `routes` and `leafs` (all zero here), as the
/// account statistics carry them.
#[derive(Serialize, Debug, Clone, Copy, Default)]
pub(crate) struct AccountDataStats {
    pub(crate) msgs: u64,
    pub(crate) bytes: u64,
    pub(crate) gateways: MsgBytes,
    pub(crate) routes: MsgBytes,
    pub(crate) leafs: MsgBytes,
}

/// Go: `ServerStats`, the fields a standalone server without JetStream sends.
#[derive(Serialize)]
pub(crate) struct ServerStats {
    pub(crate) start: String,
    pub(crate) mem: u64,
    pub(crate) cores: usize,
    #[serde(serialize_with = "crate::server::monitor::go_float")]
    pub(crate) cpu: f64,
    pub(crate) connections: usize,
    pub(crate) total_connections: u64,
    pub(crate) active_accounts: usize,
    pub(crate) subscriptions: usize,
    pub(crate) sent: MsgBytes,
    pub(crate) sent_to_clients: MsgBytes,
    pub(crate) received: MsgBytes,
    pub(crate) received_from_clients: MsgBytes,
    pub(crate) slow_consumers: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) slow_consumer_stats: Option<ConnectionKinds>,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) stale_connections: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stale_connection_stats: Option<ConnectionKinds>,
    pub(crate) active_servers: u32,
    pub(crate) gomaxprocs: usize,
}

/// Go: `SlowConsumersStats` / `StaleConnectionStats`.
#[derive(Serialize)]
pub(crate) struct ConnectionKinds {
    pub(crate) clients: u64,
    pub(crate) routes: u64,
    pub(crate) gateways: u64,
    pub(crate) leafs: u64,
}

/// Go: `ServerStatsMsg`.
#[derive(Serialize)]
pub(crate) struct ServerStatsMsg {
    pub(crate) server: ServerInfo,
    pub(crate) statsz: ServerStats,
}

/// Go: `ClientInfo`, the fields that apply (all `omitempty`).
#[derive(Serialize, Debug, Clone, Default)]
pub(crate) struct ClientInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) start: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) host: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) id: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) acc: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) lang: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) ver: String,
    /// Go: `RTT` (a `time.Duration`, in ns); only a disconnect event carries it.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) rtt: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) stop: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) name_tag: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) client_type: String,
    /// Go: `MQTTClient`, the MQTT client id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) client_id: String,
}

/// Go: `ConnectEventMsg`.
#[derive(Serialize)]
pub(crate) struct ConnectEventMsg {
    pub(crate) r#type: &'static str,
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) server: ServerInfo,
    pub(crate) client: ClientInfo,
}

/// Go: `DisconnectEventMsg`.
#[derive(Serialize)]
pub(crate) struct DisconnectEventMsg {
    pub(crate) r#type: &'static str,
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) server: ServerInfo,
    pub(crate) client: ClientInfo,
    pub(crate) sent: MsgBytes,
    pub(crate) received: MsgBytes,
    pub(crate) reason: &'static str,
}

/// Go: `AccountStat`.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct AccountStat {
    pub(crate) acc: String,
    pub(crate) name: String,
    pub(crate) conns: usize,
    pub(crate) leafnodes: usize,
    pub(crate) total_conns: usize,
    pub(crate) num_subscriptions: usize,
    pub(crate) sent: AccountDataStats,
    pub(crate) received: AccountDataStats,
    pub(crate) slow_consumers: u64,
}

/// Go: `AccountNumConns`.
#[derive(Serialize)]
pub(crate) struct AccountNumConns {
    pub(crate) r#type: &'static str,
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) server: ServerInfo,
    #[serde(flatten)]
    pub(crate) stat: AccountStat,
}

/// Go: `ApiError`.
#[derive(Serialize)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
}

/// Go: `ServerAPIResponse`.
#[derive(Serialize)]
pub(crate) struct ServerApiResponse<T: Serialize> {
    pub(crate) server: ServerInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ApiError>,
}

pub(crate) const CONNECT_EVENT: &str = "io.nats.server.advisory.v1.client_connect";
pub(crate) const DISCONNECT_EVENT: &str = "io.nats.server.advisory.v1.client_disconnect";
pub(crate) const ACCOUNT_CONNS_EVENT: &str = "io.nats.server.advisory.v1.account_connections";

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `value` as Go's `json.Marshal` writes it: compact, with `<`, `>`, `&`, U+2028 and
/// U+2029 escaped (those bytes only occur inside strings, so replacing them is safe).
pub(crate) fn go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let raw = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn go_escaping_and_field_order() {
        let v = serde_json::json!({"s": "$SYS.> a&b <x>\u{2028}"});
        assert_eq!(
            String::from_utf8(go_json(&v)).unwrap(),
            r#"{"s":"$SYS.\u003e a\u0026b \u003cx\u003e\u2028"}"#
        );
        let si = ServerInfo {
            name: "n".into(),
            host: "127.0.0.1".into(),
            id: "ID".into(),
            ver: "2.15.1".into(),
            feature_flags: FeatureFlags::default(),
            jetstream: false,
            flags: 0,
            seq: 3,
            time: "2026-12-03T13:00:04.095508417Z".into(),
        };
        let r = ServerApiResponse::<()> {
            server: si,
            data: None,
            error: Some(ApiError {
                code: 400,
                description: "bad".into(),
            }),
        };
        assert_eq!(
            String::from_utf8(go_json(&r)).unwrap(),
            r#"{"server":{"name":"n","host":"127.0.0.1","id":"ID","ver":"2.15.1","feature_flags":{"js_ack_fc_v2":false,"js_api_reply_v2":false,"js_raft_delete_range":true,"js_snapshot_sources":false},"jetstream":false,"flags":0,"seq":3,"time":"2026-12-03T13:00:04.095508417Z"},"error":{"code":400,"description":"bad"}}"#
        );
    }
}
