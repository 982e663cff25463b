//! The JSON a leaf connection exchanges: the hub's INFO ([`LeafInfo`], Go's `Info` with
//! the fields a leaf uses, in Go's order and `omitempty`) and the leaf's CONNECT
//! ([`LeafConnect`], Go's `leafConnectInfo`).

use serde::{Deserialize, Serialize};

use crate::nats::ConnectInfo;

/// The INFO a hub sends a leaf (Go: `Info`, built in `startLeafNodeAcceptLoop` and
/// `createLeafNode`; the follow-up of `sendPermsAndAccountInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeafInfo {
    /// Server id.
    pub server_id: String,
    /// Server name.
    pub server_name: String,
    /// Version.
    pub version: String,
    /// Protocol level (Go: 3 for leafnode-aware servers).
    pub proto: i32,
    /// Go build commit.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub git_commit: String,
    /// Toolchain.
    pub go: String,
    /// Listener host.
    pub host: String,
    /// Listener port.
    pub port: u16,
    /// Headers supported.
    pub headers: bool,
    /// Always true toward leafs (Go sets it unconditionally).
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    /// TLS required on the leafnode port.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// Client certificates verified.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    /// `max_payload`.
    pub max_payload: i64,
    /// JetStream enabled.
    #[serde(skip_serializing_if = "is_false")]
    pub jetstream: bool,
    /// `host:port` of the listener as advertised.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip: String,
    /// Connection id (a Go leaf refuses 0: "attempted to connect to wrong port").
    #[serde(skip_serializing_if = "is_zero")]
    pub client_id: u64,
    /// Nonce to sign.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// Cluster name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// JetStream domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// WebSocket URLs of the cluster (gossip for websocket leafs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ws_connect_urls: Vec<String>,
    /// S2 compression mode; left out when permessage-deflate was negotiated.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    /// The answer to CONNECT.
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    /// The account the leaf is bound to here.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_account: String,
    /// That account is the system account.
    #[serde(skip_serializing_if = "is_false")]
    pub acc_is_sys: bool,
    /// JetStream API level.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub api_lvl: i32,
    /// What the leaf may subscribe to (the user's subscribe permissions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<PermissionJson>,
    /// What the leaf may publish (the user's publish permissions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<PermissionJson>,
    /// The hub answers CONNECT with an INFO.
    #[serde(skip_serializing_if = "is_false")]
    pub info_on_connect: bool,
    /// Leafnode URLs to reconnect to (a Go leaf refuses an INFO without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leafnode_urls: Vec<String>,
}

/// Go's `SubjectPermission` JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermissionJson {
    /// Allowed subjects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Denied subjects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl PermissionJson {
    /// From a configured subject permission.
    pub fn from_opts(p: &crate::options::SubjectPermission) -> PermissionJson {
        PermissionJson {
            allow: p.allow.clone().unwrap_or_default(),
            deny: p.deny.clone(),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

/// Appends `INFO <json> \r\n`.
pub fn write_info(out: &mut Vec<u8>, info: &LeafInfo) {
    out.extend_from_slice(b"INFO ");
    if serde_json::to_writer(&mut *out, info).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b" \r\n");
}

/// A leaf's CONNECT (Go: `leafConnectInfo`, plus `lang`, whose presence tells a client
/// that dialed the leafnode port).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeafConnect {
    /// Version of the leaf server.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// User NKey.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nkey: String,
    /// User JWT.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub jwt: String,
    /// Nonce signature.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sig: String,
    /// User.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Password.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pass: String,
    /// Token.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_token: String,
    /// The leaf server's id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_id: String,
    /// JetStream domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// The leaf server's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The remote is configured as a hub (we become the spoke).
    #[serde(skip_serializing_if = "is_false")]
    pub is_hub: bool,
    /// The leaf's cluster name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// Headers supported.
    #[serde(skip_serializing_if = "is_false")]
    pub headers: bool,
    /// JetStream enabled.
    #[serde(skip_serializing_if = "is_false")]
    pub jetstream: bool,
    /// Subjects the leaf will not publish to us (its `deny_exports`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_pub: Option<Vec<String>>,
    /// Interest isolation.
    #[serde(skip_serializing_if = "is_false")]
    pub isolate: bool,
    /// S2 mode the leaf chose.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compress_mode: String,
    /// Set by a gateway that dialed the wrong port.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// The leaf's local account.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_account: String,
    /// Protocol level.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub protocol: i32,
    /// Set only by NATS clients (a leaf never sends it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
}

impl LeafConnect {
    /// The credential fields, for the authenticator.
    pub fn credentials(&self) -> ConnectInfo {
        ConnectInfo {
            user: self.user.clone(),
            pass: self.pass.clone(),
            auth_token: self.auth_token.clone(),
            jwt: self.jwt.clone(),
            nkey: self.nkey.clone(),
            sig: self.sig.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            headers: self.headers,
            ..ConnectInfo::default()
        }
    }
}

/// Go: `versionAtLeast(version, major, minor, update)`; an unparsable version is not.
pub fn version_at_least(version: &str, min: &str) -> bool {
    fn parts(v: &str) -> Option<(u64, u64, u64)> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let core = v.split(['-', '+']).next()?;
        let mut it = core.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let update = it.next()?.parse().ok()?;
        Some((major, minor, update))
    }
    match (parts(version), parts(min)) {
        (Some(v), Some(m)) => v >= m,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_in_go_order() {
        let info = LeafInfo {
            server_id: "S".into(),
            server_name: "n".into(),
            version: "2.15.1".into(),
            proto: 3,
            go: "go1.27.2".into(),
            host: "0.0.0.0".into(),
            port: 7422,
            headers: true,
            auth_required: true,
            max_payload: 1048576,
            ip: "127.0.0.1:7422".into(),
            client_id: 5,
            nonce: "abc".into(),
            compression: "off".into(),
            api_lvl: 5,
            info_on_connect: true,
            leafnode_urls: vec!["127.0.0.1:7422".into()],
            ..LeafInfo::default()
        };
        let mut out = Vec::new();
        write_info(&mut out, &info);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "INFO {\"server_id\":\"S\",\"server_name\":\"n\",\"version\":\"2.15.1\",\"proto\":3,\
             \"go\":\"go1.27.2\",\"host\":\"0.0.0.0\",\"port\":7422,\"headers\":true,\
             \"auth_required\":true,\"max_payload\":1048576,\"ip\":\"127.0.0.1:7422\",\
             \"client_id\":5,\"nonce\":\"abc\",\"compression\":\"off\",\"api_lvl\":5,\
             \"info_on_connect\":true,\"leafnode_urls\":[\"127.0.0.1:7422\"]} \r\n"
        );
    }

    #[test]
    fn connect_from_a_go_leaf() {
        let c: LeafConnect = serde_json::from_str(
            r#"{"version":"2.15.1","server_id":"NX","name":"leaf","headers":true,"compress_mode":"off","remote_account":"$G","protocol":1,"deny_pub":null}"#,
        )
        .unwrap();
        assert_eq!(c.name, "leaf");
        assert!(c.headers && c.lang.is_empty());
        assert!(c.deny_pub.is_none());
    }

    #[test]
    fn versions() {
        assert!(version_at_least("2.15.1", "2.8.0"));
        assert!(version_at_least("2.8.0", "2.8.0"));
        assert!(!version_at_least("2.7.9", "2.8.0"));
        assert!(version_at_least("v2.10.0-beta.1", "2.10.0"));
        assert!(!version_at_least("", "2.8.0"));
    }
}
