//! `leafnodes { remotes [...] }`: [`RemoteLeafOpts`] (Go: `RemoteLeafOpts`,
//! `parseRemoteLeafNodes`, `validateLeafNodeProxyOptions`).

use super::super::access::{as_bool, as_str, go_plain_value};
use super::super::conf::{Kind, Value};
use super::super::duration::GoDuration;
use super::super::error::{Abort, Diagnostics, OptionError, Reason};
use super::super::permissions::subjects;
use super::super::tls::{TlsConfig, parse_tls};
use super::super::websocket::parse_duration_field;
use super::compression::{self, CompressionOpts};
use super::url::{LeafUrl, quoted_redacted_list};
use crate::goquote::quote;
use crate::handshake::gonet;
use crate::policy::{WsCompression, WsMasking};

/// Go: `DEFAULT_LEAF_TLS_TIMEOUT` in seconds, a remote's TLS handshake limit when its
/// `tls {}` has none.
pub const DEFAULT_LEAF_TLS_TIMEOUT_SECS: f64 = 2.0;

/// A remote this server connects to as a leafnode (Go: `RemoteLeafOpts`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RemoteLeafOpts {
    /// `account` / `local`: the local account bound to the connection; empty is `$G`.
    pub local_account: String,
    /// `no_randomize` / `dont_randomize`: try the URLs in the order given.
    pub no_randomize: bool,
    /// `url` (appended) / `urls` (replacing).
    pub urls: Vec<LeafUrl>,
    /// `creds` / `credentials`: a credentials file, `$VAR`s and `~` expanded.
    pub credentials: String,
    /// `nkey` / `seed`: a user NKey seed.
    pub nkey: String,
    /// `tls {}`; `None` when absent (a `wss://` or `tls://` URL still uses TLS).
    pub tls: Option<TlsConfig>,
    /// `tls { timeout }`, or [`DEFAULT_LEAF_TLS_TIMEOUT_SECS`] with a `tls {}` without one.
    pub tls_timeout: f64,
    /// `hub`: this side acts as the hub of the connection.
    pub hub: bool,
    /// `deny_imports` / `deny_import`: subjects not subscribed to through the hub.
    pub deny_imports: Vec<String>,
    /// `deny_exports` / `deny_export`: subjects not published to the hub.
    pub deny_exports: Vec<String>,
    /// `first_info_timeout`: wait for the hub's first INFO (and the WebSocket upgrade);
    /// 0 means Go's 1 s (see [`RemoteLeafOpts::first_info_timeout`]).
    pub first_info_timeout: GoDuration,
    /// `dial_timeout`: 0 uses `leafnodes { dial_timeout }`, then Go's 1 s.
    pub dial_timeout: GoDuration,
    /// `compression` (S2).
    pub compression: CompressionOpts,
    /// `ws_compression`, `ws_no_masking` and their spellings.
    pub websocket: RemoteWebsocket,
    /// `proxy {}`: an HTTP `CONNECT` proxy. Go's warning says it applies to `ws://` /
    /// `wss://` URLs only, but Go tunnels every URL of the remote through it, and so do we.
    pub proxy: ProxyOpts,
    /// `jetstream_cluster_migrate` / `js_cluster_migrate`: kept; no JetStream here.
    pub jetstream_cluster_migrate: bool,
    /// `jetstream_cluster_migrate { leader_migrate_delay }`.
    pub jetstream_cluster_migrate_delay: GoDuration,
    /// `isolate_leafnode_interest` / `isolate` (Go: `LocalIsolation`).
    pub local_isolation: bool,
    /// `request_isolation`.
    pub request_isolation: bool,
    /// `disabled`: not solicited.
    pub disabled: bool,
    /// `ignore_discovered_servers`: only the configured URLs are tried.
    pub ignore_discovered_servers: bool,
}

/// Go: `DEFAULT_LEAFNODE_INFO_WAIT`.
pub const DEFAULT_LEAFNODE_INFO_WAIT: GoDuration = GoDuration(GoDuration::SECOND);

impl RemoteLeafOpts {
    /// The wait for the hub's first INFO, upgrade included (Go: `FirstInfoTimeout` after
    /// `setBaselineOptions`).
    pub fn first_info_timeout(&self) -> GoDuration {
        if self.first_info_timeout.0 <= 0 {
            DEFAULT_LEAFNODE_INFO_WAIT
        } else {
            self.first_info_timeout
        }
    }

    /// Whether the remote's URLs are WebSocket URLs (Go: `isWSURL` of the first; they all
    /// agree in a valid configuration).
    pub fn is_websocket(&self) -> bool {
        self.urls.first().is_some_and(LeafUrl::is_websocket)
    }

    /// Go: `RemoteLeafOpts.name()`: URLs, account (`$G` when unset), credentials or
    /// nkey, unredacted; remotes are told apart by it.
    pub fn name(&self) -> String {
        self.describe(false)
    }

    /// Go: `RemoteLeafOpts.safeName()`: [`RemoteLeafOpts::name`] for logs (passwords
    /// and the nkey hidden).
    pub fn safe_name(&self) -> String {
        self.describe(true)
    }

    fn describe(&self, redacted: bool) -> String {
        let account = if self.local_account.is_empty() {
            "$G"
        } else {
            &self.local_account
        };
        let optional = if !self.credentials.is_empty() {
            format!(", credentials={}", quote(&self.credentials))
        } else if self.nkey.is_empty() {
            String::new()
        } else if redacted {
            ", nkey=\"[REDACTED]\"".to_owned()
        } else {
            format!(", nkey={}", quote(&self.nkey))
        };
        let urls = if redacted {
            quoted_redacted_list(&self.urls)
        } else {
            let items: Vec<String> = self.urls.iter().map(|u| quote(&u.to_string())).collect();
            format!("[{}]", items.join(" "))
        };
        format!("urls={urls}, account={}{optional}", quote(account))
    }

    /// Go: `validateLeafNodeProxyOptions`: the warnings of a valid proxy, or Go's error.
    pub fn validate_proxy(&self) -> Result<Vec<&'static str>, String> {
        let mut warnings = Vec::new();
        if self.proxy.url.is_empty() {
            return Ok(warnings);
        }
        let url = gonet::parse_url(self.proxy.url.as_bytes())
            .map_err(|e| format!("invalid proxy URL: {e}"))?;
        if url.scheme != b"http" && url.scheme != b"https" {
            return Err(format!(
                "proxy URL scheme must be http or https, got: {}",
                String::from_utf8_lossy(&url.scheme)
            ));
        }
        if url.host.is_empty() {
            return Err("proxy URL must specify a host".to_owned());
        }
        if self.proxy.timeout.0 < 0 {
            return Err("proxy timeout must be >= 0".to_owned());
        }
        if self.proxy.username.is_empty() != self.proxy.password.is_empty() {
            return Err(
                "proxy username and password must both be specified or both be empty".to_owned(),
            );
        }
        if self.urls.is_empty() {
            return Ok(warnings);
        }
        let mut websocket = false;
        let mut tcp = false;
        for u in &self.urls {
            // Go compares the scheme exactly here (`isWSURL` elsewhere takes prefixes).
            match u.scheme().as_ref() {
                "ws" => websocket = true,
                "wss" => {
                    websocket = true;
                    if self.tls.is_none() {
                        return Err(format!(
                            "proxy is configured but remote URL {u} requires TLS and no TLS configuration is provided. When using proxy with TLS endpoints, ensure TLS is properly configured for the leafnode remote"
                        ));
                    }
                }
                _ => tcp = true,
            }
        }
        if !websocket {
            warnings.push("proxy configuration will be ignored: proxy settings only apply to WebSocket connections (ws:// or wss://), but all configured URLs use TCP connections (nats://)");
        } else if tcp {
            warnings.push("proxy configuration will only be used for WebSocket URLs: proxy settings do not apply to TCP connections (nats://)");
        }
        Ok(warnings)
    }
}

/// The WebSocket options of a remote (Go: `RemoteLeafOpts.Websocket`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteWebsocket {
    /// `ws_compression` / `ws_compress` / `websocket_compress` / `websocket_compression`.
    pub compression: WsCompression,
    /// `ws_no_masking` / `websocket_no_masking`.
    pub masking: WsMasking,
}

/// `proxy {}` of a remote (Go: `RemoteLeafOpts.Proxy`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyOpts {
    /// `url`: `http://host:port` (or `https://`).
    pub url: String,
    /// `username` for basic authentication.
    pub username: String,
    /// `password` for basic authentication.
    pub password: String,
    /// `timeout` of the `CONNECT` exchange; 0 means none beyond the dial timeout.
    pub timeout: GoDuration,
}

/// Go: `parseRemoteLeafNodes`. A type mismatch (Go's recovered panic) is recorded and
/// leaves no remotes, as in Go.
pub(super) fn parse_remotes(value: &Value, diag: &mut Diagnostics) -> Vec<RemoteLeafOpts> {
    let Kind::Array(entries) = &value.kind else {
        diag.error(
            value,
            Reason::msg(format!(
                "Expected remotes field to be an array, got {}",
                value.kind.go_type()
            )),
        );
        return Vec::new();
    };
    let result = (|| -> Result<Vec<RemoteLeafOpts>, Abort> {
        let mut names = std::collections::BTreeSet::new();
        let mut remotes = Vec::with_capacity(entries.len());
        for entry in entries {
            let Kind::Map(fields) = &entry.kind else {
                diag.error(
                    entry,
                    Reason::msg(format!(
                        "Expected remote leafnode entry to be a map/struct, got {}",
                        go_plain_value(entry)
                    )),
                );
                continue;
            };
            let mut remote = RemoteLeafOpts::default();
            let mut proxy_at = None;
            let mut last = entry;
            for (key, v) in fields {
                last = v;
                if remote_field(&mut remote, key, v, diag)? {
                    proxy_at = Some(v);
                }
            }
            match remote.validate_proxy() {
                Err(e) => {
                    diag.errors.push(proxy_error(proxy_at, e));
                    continue;
                }
                Ok(warnings) => {
                    for w in warnings {
                        diag.warnings.push(proxy_error(proxy_at, w.to_owned()));
                    }
                }
            }
            if !names.insert(remote.name()) {
                diag.error(
                    last,
                    Reason::msg(format!("duplicate remote {}", remote.safe_name())),
                );
                continue;
            }
            remotes.push(remote);
        }
        Ok(remotes)
    })();
    diag.recover(result).unwrap_or_default()
}

/// A proxy check's error or warning at the `proxy` key (Go: `configErr{proxyToken, ...}`;
/// no position when the remote has no `proxy`).
fn proxy_error(at: Option<&Value>, text: String) -> OptionError {
    OptionError {
        pos: at.map(|v| v.pos.clone()),
        reason: Reason::msg(text),
    }
}

/// One field of a remote; `Ok(true)` for the `proxy` key.
fn remote_field(
    remote: &mut RemoteLeafOpts,
    key: &str,
    v: &Value,
    diag: &mut Diagnostics,
) -> Result<bool, Abort> {
    match key.to_lowercase().as_str() {
        "no_randomize" | "dont_randomize" => remote.no_randomize = as_bool(v)?,
        "url" | "urls" => match &v.kind {
            Kind::Array(items) => {
                if let Some(urls) = parse_urls(items, diag)? {
                    remote.urls = urls;
                }
            }
            Kind::String(s) => match parse_url(s) {
                Ok(u) => remote.urls.push(u),
                Err(text) => diag.error(v, Reason::msg(text)),
            },
            _ => diag.error(
                v,
                Reason::msg(format!(
                    "Expected remote leafnode url to be an array or string, got {}",
                    go_plain_value(v)
                )),
            ),
        },
        "account" | "local" => remote.local_account = as_str(v)?.to_owned(),
        "creds" | "credentials" => match expand_path(as_str(v)?) {
            Err(text) => diag.error(v, Reason::msg(text)),
            Ok(_) if !remote.nkey.is_empty() => diag.error(
                v,
                Reason::msg("Remote leafnode can not have both creds and nkey defined"),
            ),
            Ok(path) => remote.credentials = path,
        },
        "nkey" | "seed" => {
            let seed = as_str(v)?;
            let user_seed = nkeys::KeyPair::from_seed(seed)
                .is_ok_and(|kp| kp.key_pair_type() == nkeys::KeyPairType::User);
            if !user_seed {
                diag.error(
                    v,
                    Reason::msg(format!(
                        "Remote leafnode nkey is not a valid seed: {}",
                        quote(seed)
                    )),
                );
            } else if !remote.credentials.is_empty() {
                diag.error(
                    v,
                    Reason::msg("Remote leafnode can not have both creds and nkey defined"),
                );
            } else {
                remote.nkey = seed.to_owned();
            }
        }
        "tls" => match parse_tls(v, true) {
            Ok(tc) => {
                remote.tls_timeout = if tc.timeout > 0.0 {
                    tc.timeout
                } else {
                    DEFAULT_LEAF_TLS_TIMEOUT_SECS
                };
                remote.tls = Some(tc);
            }
            Err(e) => diag.errors.push(e),
        },
        "hub" => remote.hub = as_bool(v)?,
        "deny_imports" | "deny_import" => {
            if let Some(s) = subjects(v, diag, false, true) {
                remote.deny_imports = s;
            }
        }
        "deny_exports" | "deny_export" => {
            if let Some(s) = subjects(v, diag, false, true) {
                remote.deny_exports = s;
            }
        }
        "ws_compress" | "ws_compression" | "websocket_compress" | "websocket_compression" => {
            remote.websocket.compression = if as_bool(v)? {
                WsCompression::Offer
            } else {
                WsCompression::Off
            };
        }
        "ws_no_masking" | "websocket_no_masking" => {
            remote.websocket.masking = if as_bool(v)? {
                WsMasking::RequestNoMasking
            } else {
                WsMasking::Mask
            };
        }
        "jetstream_cluster_migrate" | "js_cluster_migrate" => match &v.kind {
            Kind::Bool(b) => remote.jetstream_cluster_migrate = *b,
            Kind::Map(m) => {
                remote.jetstream_cluster_migrate = true;
                // Go looks the key up exactly, not lower-cased.
                if let Some((_, delay)) = m.iter().find(|(k, _)| *k == "leader_migrate_delay") {
                    remote.jetstream_cluster_migrate_delay =
                        parse_duration_field("leader_migrate_delay", delay, diag)?;
                }
            }
            // Go reports this one without a position (its token is shadowed).
            other => diag.error_unplaced(Reason::msg(format!(
                "Expected boolean or map for jetstream_cluster_migrate, got {}",
                other.go_type()
            ))),
        },
        "isolate_leafnode_interest" | "isolate" => remote.local_isolation = as_bool(v)?,
        "request_isolation" => remote.request_isolation = as_bool(v)?,
        "compression" => {
            if let Some(c) = compression::parse(key, v, diag) {
                remote.compression = c;
            }
        }
        "first_info_timeout" => remote.first_info_timeout = parse_duration_field(key, v, diag)?,
        "dial_timeout" => remote.dial_timeout = parse_duration_field(key, v, diag)?,
        "disabled" => remote.disabled = as_bool(v)?,
        "proxy" => {
            let Kind::Map(fields) = &v.kind else {
                diag.error(
                    v,
                    Reason::msg(format!(
                        "Expected proxy to be a map, got {}",
                        v.kind.go_type()
                    )),
                );
                return Ok(false);
            };
            for (pk, pv) in fields {
                match pk.to_lowercase().as_str() {
                    "url" => remote.proxy.url = as_str(pv)?.to_owned(),
                    "username" => remote.proxy.username = as_str(pv)?.to_owned(),
                    "password" => remote.proxy.password = as_str(pv)?.to_owned(),
                    "timeout" => {
                        remote.proxy.timeout = parse_duration_field("proxy timeout", pv, diag)?;
                    }
                    _ => diag.unknown_field(pk, pv),
                }
            }
            return Ok(true);
        }
        "ignore_discovered_servers" => remote.ignore_discovered_servers = as_bool(v)?,
        _ => diag.unknown_field(key, v),
    }
    Ok(false)
}

/// Go: `parseURL(u, "leafnode")`.
fn parse_url(text: &str) -> Result<LeafUrl, String> {
    LeafUrl::parse(text).map_err(|_| format!("error parsing leafnode url [{}]", quote(text.trim())))
}

/// Go: `parseURLs(a, "leafnode", warnings)`: a repeated URL is a warning; `None` when an
/// entry is bad (every bad entry is reported).
fn parse_urls(items: &[Value], diag: &mut Diagnostics) -> Result<Option<Vec<LeafUrl>>, Abort> {
    let mut seen = std::collections::BTreeSet::new();
    let mut urls = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        let text = as_str(item)?;
        if !seen.insert(text) {
            diag.warn(
                item,
                Reason::InvalidUse {
                    field: text.to_owned(),
                    reason: "Duplicate leafnode entry detected".to_owned(),
                },
            );
            continue;
        }
        match parse_url(text) {
            Ok(u) => urls.push(u),
            Err(e) => {
                diag.error(item, Reason::msg(e));
                failed = true;
            }
        }
    }
    Ok((!failed).then_some(urls))
}

/// Go: `expandPath`: `$VAR` / `${VAR}` from the environment, then a leading `~` as `$HOME`.
fn expand_path(p: &str) -> Result<String, String> {
    let expanded = expand_env(p);
    let Some(rest) = expanded.strip_prefix('~') else {
        return Ok(expanded);
    };
    match std::env::var("HOME") {
        Ok(home) if !home.is_empty() => {
            let joined = std::path::Path::new(&home).join(rest.trim_start_matches('/'));
            Ok(joined.to_string_lossy().into_owned())
        }
        _ => Err("failed to get home dir, require $HOME".to_owned()),
    }
}

/// Go: `os.ExpandEnv` for `$NAME` and `${NAME}`; unset variables expand to nothing.
fn expand_env(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (braced.get(..end).unwrap_or_default(), end + 2),
                None => ("", 1),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (after.get(..end).unwrap_or_default(), end)
        };
        if consumed == 0 {
            out.push('$');
        } else if !name.is_empty() {
            out.push_str(&std::env::var(name).unwrap_or_default());
        }
        rest = after.get(consumed..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}
