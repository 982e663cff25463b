//! Operational options (Go: their cases of `processConfigFileLine`): logging, lame duck
//! mode, `write_timeout`, header support, subscription token limits, server tags and
//! metadata, and the keys this server refuses because it would not honour them.

use super::access::{as_bool, as_i64, as_str};
use super::conf::{Kind, Value};
use super::duration::{GoDuration, parse_duration};
use super::error::{Abort, Diagnostics, OptionError, Reason};
use super::server::ServerOpts;
use crate::goquote::quote;

/// Keys of features this server does not have, refused when their value would turn the
/// feature on (an empty block, `false` or 0 is accepted with the "ignored" warning):
/// running without them would route, authorize or accept connections differently from
/// what the configuration says.
pub const REFUSED_KEYS: &[&str] = &[
    "cluster",
    "gateway",
    "mappings",
    "maps",
    "default_sentinel",
    "prof_port",
    "proxy_protocol",
    "ocsp",
    "allow_non_tls",
    "resolver_pinned_accounts",
    "proxies",
];

const KEYS: &[&str] = &[
    "logfile_size_limit",
    "log_size_limit",
    "logfile_max_num",
    "log_max_num",
    "syslog",
    "remote_syslog",
    "lame_duck_duration",
    "lame_duck_grace_period",
    "write_timeout",
    "no_header_support",
    "max_sub_tokens",
    "max_subscription_tokens",
    "server_tags",
    "server_metadata",
    "trace_headers",
    "max_traced_msg_len",
];

/// Whether [`ServerOpts::ops_line`] takes `lower` (a lower-cased top-level key).
pub(super) fn handles(lower: &str) -> bool {
    KEYS.contains(&lower) || REFUSED_KEYS.contains(&lower)
}

impl ServerOpts {
    // Go: processConfigFileLine, these keys' cases.
    pub(super) fn ops_line(
        &mut self,
        key: &str,
        lower: &str,
        v: &Value,
        diag: &mut Diagnostics,
    ) -> Result<(), Abort> {
        match lower {
            "logfile_size_limit" | "log_size_limit" => self.log_size_limit = as_i64(v)?,
            "logfile_max_num" | "log_max_num" => self.log_max_files = as_i64(v)?,
            "syslog" => self.syslog = as_bool(v)?,
            "remote_syslog" => self.remote_syslog = as_str(v)?.to_owned(),
            "lame_duck_duration" => match parse_duration(as_str(v)?) {
                Err(e) => diag.error(
                    v,
                    Reason::msg(format!("error parsing lame_duck_duration: {e}")),
                ),
                Ok(d) if d.0 < 30 * GoDuration::SECOND => diag.error(
                    v,
                    Reason::msg(format!(
                        "invalid lame_duck_duration of {d}, minimum is 30 seconds"
                    )),
                ),
                Ok(d) => self.lame_duck_duration = d,
            },
            "lame_duck_grace_period" => match parse_duration(as_str(v)?) {
                Err(e) => diag.error(
                    v,
                    Reason::msg(format!("error parsing lame_duck_grace_period: {e}")),
                ),
                Ok(d) if d.0 < 0 => diag.error(
                    v,
                    Reason::msg("invalid lame_duck_grace_period, needs to be positive"),
                ),
                Ok(d) => self.lame_duck_grace_period = d,
            },
            // Go: parseWriteDeadlinePolicy. For client connections `default` is `close`,
            // which is what this server does at `write_deadline`.
            "write_timeout" => match as_str(v)? {
                "default" | "close" => {}
                "retry" => self.refuse(key, v),
                _ => diag.error(
                    v,
                    Reason::msg("write_timeout must be 'default', 'close' or 'retry'"),
                ),
            },
            "no_header_support" => self.no_header_support = as_bool(v)?,
            "max_sub_tokens" | "max_subscription_tokens" => match as_i64(v)? {
                n if n > i64::from(u8::MAX) => {
                    diag.error(v, Reason::msg(format!("{key} value is too big")));
                }
                n => match u8::try_from(n) {
                    Ok(n) if n > 0 => self.max_sub_tokens = n,
                    _ => diag.error(v, Reason::msg(format!("{key} value can not be negative"))),
                },
            },
            "server_tags" => self.server_tags(v, diag),
            "server_metadata" => match &v.kind {
                Kind::Map(entries) => {
                    for (k, mv) in entries {
                        let s = as_str(mv)?;
                        self.server_metadata.insert(k.to_owned(), s.to_owned());
                    }
                }
                other => diag.error(
                    v,
                    Reason::msg(format!(
                        "error parsing metadata: unsupported type {}",
                        other.go_type()
                    )),
                ),
            },
            "max_traced_msg_len" => self.max_traced_msg_len = as_i64(v)?,
            "trace_headers" => {
                self.trace_headers = as_bool(v)?;
                self.trace = self.trace_headers;
            }
            _ if takes_effect(v) => self.refuse(key, v),
            _ => diag.warn(v, Reason::Ignored(key.to_owned())),
        }
        Ok(())
    }

    // Go: the "server_tags" case (jwt.TagList.Add: trimmed, lower-cased, unique).
    fn server_tags(&mut self, v: &Value, diag: &mut Diagnostics) {
        let mut add = |t: &str| {
            let t = t.trim().to_lowercase();
            if !t.is_empty() && !self.server_tags.contains(&t) {
                self.server_tags.push(t);
            }
        };
        match &v.kind {
            Kind::String(s) => add(s),
            Kind::Array(items) => {
                for item in items {
                    match &item.kind {
                        Kind::String(s) => add(s),
                        _ => {
                            diag.error(
                                v,
                                // Go prints the array element's token type.
                                Reason::msg(
                                    "error parsing tags: unsupported type *conf.token where string is expected",
                                ),
                            );
                            return;
                        }
                    }
                }
            }
            other => diag.error(
                v,
                Reason::msg(format!(
                    "error parsing tags: unsupported type {}",
                    other.go_type()
                )),
            ),
        }
    }

    pub(super) fn refuse(&mut self, key: &str, v: &Value) {
        self.refused.push(OptionError::at(
            v,
            Reason::msg(format!(
                "field {} is not supported by this server, which would not honour it",
                quote(key)
            )),
        ));
    }
}

/// Whether a refused key's value turns its feature on: a non-empty block or list, `true`,
/// a non-zero number or a non-empty string (`ocsp: false`, `cluster {}` change nothing).
pub(super) fn takes_effect(v: &Value) -> bool {
    match &v.kind {
        Kind::Map(m) => !m.is_empty(),
        Kind::Array(a) => !a.is_empty(),
        Kind::Bool(b) => *b,
        Kind::Integer(n) => *n != 0,
        Kind::String(s) => !s.is_empty(),
        _ => true,
    }
}
