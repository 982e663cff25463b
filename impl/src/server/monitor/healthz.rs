//! `/healthz` as a Go server without JetStream answers it (Go: `HealthzOptions`,
//! `HealthStatus`, `Server.healthz`): ready once it runs; only the request checks that
//! come before the JetStream ones can fail.

use serde::Serialize;

use super::query::{Query, decode_bool};

/// Go: `HealthStatus`.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct HealthStatus {
    pub(crate) status: &'static str,
    /// Go leaves it out of the HTTP answer (it is the HTTP status there).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) status_code: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<HealthzError>,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// Go: `HealthzError` (only `BAD_REQUEST` can happen here).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct HealthzError {
    r#type: &'static str,
    error: String,
}

/// Go: `HealthzOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HealthzOptions {
    /// Deprecated `js-enabled` (a warning is logged). `js-enabled-only`,
    /// `js-server-only` and `js-meta-only` are checked for syntax only: without
    /// JetStream Go returns before it reads them.
    pub(crate) js_enabled: bool,
    pub(crate) account: String,
    pub(crate) stream: String,
    pub(crate) consumer: String,
    pub(crate) details: bool,
}

impl HealthzOptions {
    /// Go: `HandleHealthz`'s decoding, in its order.
    pub(crate) fn from_query(q: &Query) -> Result<HealthzOptions, String> {
        let js_enabled = decode_bool(q, "js-enabled")?;
        for param in ["js-enabled-only", "js-server-only", "js-meta-only"] {
            decode_bool(q, param)?;
        }
        Ok(HealthzOptions {
            js_enabled,
            details: decode_bool(q, "details")?,
            account: q.get("account").to_owned(),
            stream: q.get("stream").to_owned(),
            consumer: q.get("consumer").to_owned(),
        })
    }
}

/// Go: `Server.healthz` with JetStream off: `status_code` is set (200 or 400).
pub(crate) fn healthz(opts: &HealthzOptions) -> HealthStatus {
    let missing = if opts.account.is_empty() && !opts.stream.is_empty() {
        Some(("account", "stream"))
    } else if opts.stream.is_empty() && !opts.consumer.is_empty() {
        Some(("stream", "consumer"))
    } else {
        None
    };
    let Some((field, what)) = missing else {
        return HealthStatus {
            status: "ok",
            status_code: 200,
            error: String::new(),
            errors: Vec::new(),
        };
    };
    let text = format!("\"{field}\" must not be empty when checking {what} health");
    let mut hs = HealthStatus {
        status: "error",
        status_code: 400,
        error: String::new(),
        errors: Vec::new(),
    };
    if opts.details {
        hs.errors.push(HealthzError {
            r#type: "BAD_REQUEST",
            error: text,
        });
    } else {
        hs.error = text;
    }
    hs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_request_checks_fail_without_jetstream() {
        let ok = healthz(&HealthzOptions {
            account: "A".into(),
            ..HealthzOptions::default()
        });
        assert_eq!((ok.status, ok.status_code), ("ok", 200));
        let bad = healthz(&HealthzOptions {
            stream: "S".into(),
            ..HealthzOptions::default()
        });
        assert_eq!(
            serde_json::to_string(&bad).ok().as_deref(),
            Some(
                r#"{"status":"error","status_code":400,"error":"\"account\" must not be empty when checking stream health"}"#
            )
        );
        let bad = healthz(&HealthzOptions {
            consumer: "C".into(),
            details: true,
            ..HealthzOptions::default()
        });
        assert_eq!(
            serde_json::to_string(&bad).ok().as_deref(),
            Some(
                r#"{"status":"error","status_code":400,"errors":[{"type":"BAD_REQUEST","error":"\"stream\" must not be empty when checking consumer health"}]}"#
            )
        );
    }
}
