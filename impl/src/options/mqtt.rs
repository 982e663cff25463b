//! The `mqtt {}` block: [`MqttOpts`] (Go: `MQTTOpts`, `parseMQTT`).

use std::collections::BTreeSet;

use super::access::{as_bool, as_i64, as_str, parse_block, parse_listen};
use super::conf::Value;
use super::duration::GoDuration;
use super::error::{Abort, Diagnostics, OptionError, Reason};
use super::tls::{TlsConfig, parse_tls};
use super::websocket::{parse_duration_field, parse_simple_auth};

/// Largest `max_ack_pending` (a packet identifier space). Go: `mqttMaxAckTotalLimit`.
pub const MAX_ACK_PENDING_LIMIT: i64 = 0xFFFF;

/// MQTT listener options (Go: `MQTTOpts`, `server/opts.go`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct MqttOpts {
    /// `host` / `net` (or from `listen`); empty means `0.0.0.0` when the port is set.
    pub host: String,
    /// `port` (or from `listen`): 0 disables MQTT, -1 picks an ephemeral port.
    pub port: i64,
    /// `no_auth_user`: the user a client without credentials becomes.
    pub no_auth_user: String,
    /// `authorization { user | username }`.
    pub username: String,
    /// `authorization { pass | password }`.
    pub password: String,
    /// `authorization { token }`.
    pub token: String,
    /// `authorization { timeout }` in seconds; 0 falls back to the server's.
    pub auth_timeout: f64,
    /// `tls {}`; `None` when absent.
    pub tls: Option<TlsConfig>,
    /// `tls { timeout }`.
    pub tls_timeout: f64,
    /// `tls { verify_and_map }`.
    pub tls_map: bool,
    /// `tls { pinned_certs }`.
    pub tls_pinned_certs: Option<BTreeSet<String>>,
    /// `ack_wait` / `ackwait`: redelivery delay of unacknowledged QoS 1/2 messages;
    /// 0 means Go's default (30s).
    pub ack_wait: GoDuration,
    /// `max_ack_pending` / `max_pending` / `max_inflight`: unacknowledged QoS 1/2
    /// messages per subscription; 0 means Go's default (1024).
    pub max_ack_pending: u16,
    /// `reject_qos2_publish`: a QoS 2 PUBLISH closes the connection.
    pub reject_qos2_publish: bool,
    /// `downgrade_qos2_subscribe`: QoS 2 subscriptions are granted QoS 1.
    pub downgrade_qos2_subscribe: bool,
    /// `js_api_timeout` / `api_timeout`: accepted, no effect (no JetStream here).
    pub js_api_timeout: GoDuration,
    /// `js_domain`: accepted, no effect (no JetStream here).
    pub js_domain: String,
    /// `stream_replicas`: accepted, no effect (no JetStream here).
    pub stream_replicas: i64,
    /// `consumer_memory_storage`: accepted, no effect (no JetStream here).
    pub consumer_memory_storage: bool,
    /// `consumer_inactive_threshold` / `consumer_auto_cleanup`: accepted, no effect.
    pub consumer_inactive_threshold: GoDuration,
}

/// Go: `parseMQTT`. Errors and warnings go to `diag`; a type mismatch ends the block (Go
/// panics and recovers at the end of the function, keeping what was set so far).
pub(crate) fn parse_mqtt(value: &Value, opts: &mut MqttOpts, diag: &mut Diagnostics) {
    parse_block(
        value,
        diag,
        |got| Reason::ExpectedMap { what: "mqtt", got },
        |key, v, diag| parse_field(key, v, opts, diag),
    );
}

fn parse_field(
    key: &str,
    v: &Value,
    mo: &mut MqttOpts,
    diag: &mut Diagnostics,
) -> Result<(), Abort> {
    match key.to_lowercase().as_str() {
        "listen" => match parse_listen(v) {
            Ok((host, port)) => {
                mo.host = host;
                mo.port = port;
            }
            Err(reason) => diag.error(v, reason),
        },
        "port" => mo.port = as_i64(v)?,
        "host" | "net" => mo.host = as_str(v)?.to_owned(),
        "tls" => match parse_tls(v, true) {
            Ok(tc) => {
                mo.tls_timeout = tc.timeout;
                mo.tls_map = tc.map;
                mo.tls_pinned_certs = tc.pinned_certs.clone();
                mo.tls = Some(tc);
            }
            Err(e) => diag.errors.push(e),
        },
        "authorization" | "authentication" => {
            // Go: parseSimpleAuth returns nil after a panic and parseMQTT dereferences it.
            let auth = parse_simple_auth(v, diag)
                .ok_or_else(|| Abort(OptionError::at(v, Reason::NilDereference)))?;
            mo.username = auth.user;
            mo.password = auth.pass;
            mo.token = auth.token;
            mo.auth_timeout = auth.timeout;
        }
        "no_auth_user" => mo.no_auth_user = as_str(v)?.to_owned(),
        "ack_wait" | "ackwait" => mo.ack_wait = parse_duration_field("ack_wait", v, diag)?,
        "max_ack_pending" | "max_pending" | "max_inflight" => {
            let n = as_i64(v)?;
            match u16::try_from(n) {
                Ok(n) => mo.max_ack_pending = n,
                Err(_) => diag.error(
                    v,
                    Reason::msg(format!(
                        "invalid value {n}, should in [0..{MAX_ACK_PENDING_LIMIT}] range"
                    )),
                ),
            }
        }
        "reject_qos2_publish" => mo.reject_qos2_publish = as_bool(v)?,
        "downgrade_qos2_subscribe" => mo.downgrade_qos2_subscribe = as_bool(v)?,
        // Go's JetStream storage settings: read with Go's types, then reported as having no
        // effect, since this server keeps MQTT state in memory (docs/CONFORMANCE.md).
        "js_api_timeout" | "api_timeout" => {
            mo.js_api_timeout = parse_duration_field("js_api_timeout", v, diag)?;
            no_jetstream(key, v, diag);
        }
        "js_domain" => {
            mo.js_domain = as_str(v)?.to_owned();
            no_jetstream(key, v, diag);
        }
        "stream_replicas" => {
            mo.stream_replicas = as_i64(v)?;
            no_jetstream(key, v, diag);
        }
        "consumer_memory_storage" => {
            mo.consumer_memory_storage = as_bool(v)?;
            no_jetstream(key, v, diag);
        }
        "consumer_inactive_threshold" | "consumer_auto_cleanup" => {
            mo.consumer_inactive_threshold =
                parse_duration_field("consumer_inactive_threshold", v, diag)?;
            no_jetstream(key, v, diag);
        }
        // Go warns (and ignores it) too.
        "consumer_replicas" => diag.warn(
            v,
            Reason::InvalidUse {
                field: key.to_owned(),
                reason: "consumer replicas setting ignored in this server version".to_owned(),
            },
        ),
        _ => diag.unknown_field(key, v),
    }
    Ok(())
}

/// A JetStream setting accepted without effect: a warning, never a silent change.
fn no_jetstream(key: &str, v: &Value, diag: &mut Diagnostics) {
    diag.warn(
        v,
        Reason::NotHonoured {
            field: key.to_owned(),
            reason:
                "MQTT state is kept in memory by this server, without JetStream; setting ignored"
                    .to_owned(),
        },
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::options::{Loaded, ServerOpts};

    fn loaded(text: &str) -> Loaded {
        match ServerOpts::from_str(text, Path::new(".")) {
            Ok(l) => l,
            Err(e) => panic!("unexpected error for {text:?}: {e}"),
        }
    }

    fn load(text: &str) -> ServerOpts {
        loaded(text).opts
    }

    /// The whole error text, without the trailing newline.
    fn load_err(text: &str) -> String {
        match ServerOpts::from_str(text, Path::new(".")) {
            Ok(l) => panic!("expected an error for {text:?}, got {l:?}"),
            Err(e) => e.to_string().trim_end().to_owned(),
        }
    }

    fn warnings(text: &str) -> Vec<String> {
        loaded(text)
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn invalid(opts: &ServerOpts) -> String {
        match opts.validate() {
            Ok(()) => panic!("expected a validation error for {opts:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn jetstream_settings_warn() {
        let w = warnings("mqtt {\n  port: -1\n  js_domain: x\n  consumer_replicas: 3\n}\n");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("invalid use of field \"js_domain\": MQTT state is kept in memory"),
            "{w:?}"
        );
        assert!(w[1].ends_with("invalid use of field \"consumer_replicas\": consumer replicas setting ignored in this server version"), "{w:?}");
    }

    #[test]
    fn block_fields() {
        let o = load(
            "mqtt {\n  listen: \"127.0.0.1:-1\"\n  no_auth_user: u\n  authorization { user: a, password: b, timeout: 2 }\n  ack_wait: \"5s\"\n  max_ack_pending: 100\n  reject_qos2_publish: true\n  downgrade_qos2_subscribe: true\n}\n",
        );
        let m = &o.mqtt;
        assert_eq!((m.host.as_str(), m.port), ("127.0.0.1", -1));
        assert_eq!(m.no_auth_user, "u");
        assert_eq!((m.username.as_str(), m.password.as_str()), ("a", "b"));
        assert!((m.auth_timeout - 2.0).abs() < f64::EPSILON);
        assert_eq!(m.ack_wait.to_std(), Some(std::time::Duration::from_secs(5)));
        assert_eq!(m.max_ack_pending, 100);
        assert!(m.reject_qos2_publish && m.downgrade_qos2_subscribe);
    }

    #[test]
    fn max_ack_pending_range_is_gos() {
        let err = load_err("mqtt {\n  port: -1\n  max_ack_pending: 70000\n}\n");
        assert!(
            err.ends_with("3:3: invalid value 70000, should in [0..65535] range"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_is_an_error() {
        let err = load_err("mqtt {\n  port: -1\n  bogus: 1\n}\n");
        assert!(err.ends_with("3:3: unknown field \"bogus\""), "{err}");
    }

    #[test]
    fn not_a_map() {
        let err = load_err("mqtt: 1\n");
        assert!(
            err.ends_with("Expected mqtt to be a map, got int64"),
            "{err}"
        );
    }

    // Go: TestMQTTValidateOptions (the cases that apply without JetStream or clustering).
    #[test]
    fn validate_options() {
        let users = "authorization { users: [ {user: alice, password: pwd} ] }\n";
        let cases: &[(&str, &str)] = &[
            (
                "mqtt { port: -1, no_auth_user: bob }",
                "no_auth_user: \"bob\" present, but users/nkeys are not defined",
            ),
            (
                &format!("{users}mqtt {{ port: -1, no_auth_user: bob }}"),
                "no_auth_user: \"bob\" not present as user or nkey in authorization block or account configuration",
            ),
            (
                &format!("{users}mqtt {{ port: -1, authorization {{ user: u, password: p }} }}"),
                "mqtt authentication username not compatible with presence of users/nkeys",
            ),
            (
                &format!("{users}mqtt {{ port: -1, authorization {{ token: t }} }}"),
                "mqtt authentication token not compatible with presence of users/nkeys",
            ),
            (
                "mqtt { port: -1, ack_wait: \"-1s\" }",
                "ack wait must be a positive value",
            ),
            (
                "mqtt { port: -1, js_api_timeout: \"-1s\" }",
                "JS API timeout must be a positive value",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(invalid(&load(text)), *want, "{text}");
        }
        // Port 0: the rest is not looked at (Go).
        assert_eq!(
            load("mqtt { port: 0, no_auth_user: bob }").validate(),
            Ok(())
        );
        assert_eq!(load("mqtt { port: -1 }").validate(), Ok(()));
    }
}
