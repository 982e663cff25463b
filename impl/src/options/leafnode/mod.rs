//! The `leafnodes {}` block: [`LeafNodeOpts`] and its remotes (Go: `LeafNodeOpts`,
//! `parseLeafNodes`, `parseLeafAuthorization`, `parseLeafUsers`, `parseRemoteLeafNodes`).

mod compression;
mod remote;
#[cfg(test)]
mod tests;
mod url;
mod validate;

use std::collections::BTreeSet;

pub use crate::policy::{WsCompression, WsMasking};
pub use compression::{CompressionMode, CompressionOpts};
pub use remote::{
    DEFAULT_LEAF_TLS_TIMEOUT_SECS, DEFAULT_LEAFNODE_INFO_WAIT, ProxyOpts, RemoteLeafOpts,
    RemoteWebsocket,
};
pub use url::{DEFAULT_LEAFNODE_PORT, LeafUrl};
pub use validate::LeafValidationError;

use super::access::{as_bool, as_i64, as_map, as_str, parse_block, parse_listen};
use super::conf::{Kind, Value};
use super::duration::GoDuration;
use super::error::{Abort, Diagnostics, OptionError, Reason};
use super::nkey::{NkeyKind, is_valid_public_key};
use super::server::ServerOpts;
use super::tls::{TlsConfig, parse_tls};
use super::users::auth_timeout;
use super::websocket::parse_duration_field;

/// Go: `DEFAULT_LEAF_NODE_RECONNECT`, the wait between two attempts of a remote.
pub const DEFAULT_LEAF_NODE_RECONNECT: GoDuration = GoDuration(GoDuration::SECOND);

/// Leafnode options: the accepting side (`listen`, `authorization`, ...) and the remotes
/// this server solicits (Go: `LeafNodeOpts`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LeafNodeOpts {
    /// `host` / `net` (or from `listen`); empty means `0.0.0.0` when the port is set.
    pub host: String,
    /// `port` (or from `listen`): 0 accepts no leafnodes, -1 picks an ephemeral port.
    pub port: i64,
    /// `authorization { user | username }`.
    pub username: String,
    /// `authorization { pass | password }`.
    pub password: String,
    /// `authorization { proxy_required }`.
    pub proxy_required: bool,
    /// `authorization { nkey }`: a public user NKey.
    pub nkey: String,
    /// `authorization { account }`: the account the single user binds to.
    pub account: String,
    /// `authorization { users [...] }`.
    pub users: Vec<LeafUser>,
    /// `authorization { timeout }` in seconds; 0 falls back to Go's default.
    pub auth_timeout: f64,
    /// `tls {}`; `None` when absent.
    pub tls: Option<TlsConfig>,
    /// `tls { timeout }`.
    pub tls_timeout: f64,
    /// `tls { verify_and_map }`.
    pub tls_map: bool,
    /// `tls { pinned_certs }`.
    pub tls_pinned_certs: Option<BTreeSet<String>>,
    /// `advertise` / `leafnode_advertise`: the `host:port` gossiped instead of the listener's.
    pub advertise: String,
    /// `no_advertise`: this server's leafnode URL is not gossiped.
    pub no_advertise: bool,
    /// `reconnect` / `reconnect_delay` / `reconnect_interval`; 0 means
    /// [`DEFAULT_LEAF_NODE_RECONNECT`] (see [`LeafNodeOpts::reconnect_interval`]).
    pub reconnect: GoDuration,
    /// `dial_timeout` of every remote without its own; 0 means Go's 1 s.
    pub dial_timeout: GoDuration,
    /// `write_deadline`; 0 uses the server's.
    pub write_deadline: GoDuration,
    /// `compression` (S2): see [`CompressionOpts`].
    pub compression: CompressionOpts,
    /// `remotes [...]`.
    pub remotes: Vec<RemoteLeafOpts>,
    /// `min_version` / `minimum_version` of accepted leafnodes (at least 2.8.0).
    pub min_version: String,
    /// `isolate_leafnode_interest` / `isolate`.
    pub isolate_leafnode_interest: bool,
}

impl LeafNodeOpts {
    /// The wait between attempts of a remote (Go: `ReconnectInterval` after
    /// `setBaselineOptions`).
    pub fn reconnect_interval(&self) -> GoDuration {
        if self.reconnect.is_zero() {
            DEFAULT_LEAF_NODE_RECONNECT
        } else {
            self.reconnect
        }
    }
}

/// A user of `leafnodes { authorization { users [...] } }` (Go: the trimmed-down
/// `parseLeafUsers`: no permissions, no nkeys).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeafUser {
    /// `user` / `username`.
    pub username: String,
    /// `pass` / `password`.
    pub password: String,
    /// `account`: the local account the leafnode binds to; `None` is the global account.
    pub account: Option<String>,
    /// `proxy_required`.
    pub proxy_required: bool,
}

impl ServerOpts {
    /// Go: `parseLeafNodes`.
    pub(super) fn leafnodes(&mut self, value: &Value, diag: &mut Diagnostics) {
        parse_block(
            value,
            diag,
            |got| Reason::msg(format!("Expected map to define a leafnode, got {got}")),
            |key, v, diag| self.leafnode_field(key, v, diag),
        );
    }

    fn leafnode_field(
        &mut self,
        key: &str,
        v: &Value,
        diag: &mut Diagnostics,
    ) -> Result<(), Abort> {
        let lo = &mut self.leafnode;
        match key.to_lowercase().as_str() {
            "listen" => match parse_listen(v) {
                Ok((host, port)) => {
                    lo.host = host;
                    lo.port = port;
                }
                Err(reason) => diag.error(v, reason),
            },
            "port" => lo.port = as_i64(v)?,
            "host" | "net" => lo.host = as_str(v)?.to_owned(),
            "authorization" => {
                // Go: parseLeafAuthorization returns nil after a panic and parseLeafNodes
                // dereferences it: a second error, and the end of the block.
                let Some(auth) = parse_authorization(v, diag)
                    .ok_or_else(|| Abort(OptionError::at(v, Reason::NilDereference)))?
                else {
                    return Ok(());
                };
                lo.username = auth.user;
                lo.password = auth.pass;
                lo.proxy_required = auth.proxy_required;
                lo.auth_timeout = auth.timeout;
                lo.account = auth.account;
                lo.users = auth.users.unwrap_or_default();
                lo.nkey = auth.nkey;
                if let Err(e) = validate::auth_options(lo) {
                    diag.error(v, Reason::msg(e.to_string()));
                }
            }
            "remotes" => lo.remotes = remote::parse_remotes(v, diag),
            "reconnect" | "reconnect_delay" | "reconnect_interval" => {
                lo.reconnect = parse_duration_field("reconnect", v, diag)?;
            }
            "dial_timeout" => lo.dial_timeout = parse_duration_field("dial_timeout", v, diag)?,
            "tls" => match parse_tls(v, true) {
                Ok(tc) => {
                    lo.tls_timeout = tc.timeout;
                    lo.tls_map = tc.map;
                    lo.tls_pinned_certs = tc.pinned_certs.clone();
                    lo.tls = Some(tc);
                }
                Err(e) => diag.errors.push(e),
            },
            "leafnode_advertise" | "advertise" => lo.advertise = as_str(v)?.to_owned(),
            "no_advertise" => lo.no_advertise = as_bool(v)?,
            "min_version" | "minimum_version" => {
                let version = as_str(v)?;
                match validate::check_min_version(version) {
                    Ok(()) => lo.min_version = version.to_owned(),
                    Err(e) => diag.error(v, Reason::msg(e.to_string())),
                }
            }
            "compression" => {
                if let Some(c) = compression::parse(key, v, diag) {
                    lo.compression = c;
                }
            }
            "isolate_leafnode_interest" | "isolate" => {
                lo.isolate_leafnode_interest = as_bool(v)?;
            }
            "write_deadline" => {
                lo.write_deadline = parse_duration_field("write_deadline", v, diag)?;
            }
            // Go: parseWriteDeadlinePolicy. `default` and `close` close a leafnode at its
            // write deadline, which is what this server does; `retry` is refused.
            "write_timeout" => match as_str(v)? {
                "default" | "close" => {}
                "retry" => self.refuse(key, v),
                _ => diag.error(
                    v,
                    Reason::msg("write_timeout must be 'default', 'close' or 'retry'"),
                ),
            },
            _ => diag.unknown_field(key, v),
        }
        Ok(())
    }
}

/// Go's `authorization` struct as `parseLeafAuthorization` fills it.
#[derive(Debug, Default)]
struct LeafAuthorization {
    user: String,
    pass: String,
    nkey: String,
    timeout: f64,
    users: Option<Vec<LeafUser>>,
    account: String,
    proxy_required: bool,
}

/// Go: `parseLeafAuthorization`. `None`: it panicked (Go returns nil); `Some(None)`: an
/// error was reported and the block is skipped (Go returns the error).
fn parse_authorization(value: &Value, diag: &mut Diagnostics) -> Option<Option<LeafAuthorization>> {
    let result = (|| -> Result<Option<LeafAuthorization>, Abort> {
        let mut auth = LeafAuthorization::default();
        for (key, v) in as_map(value)? {
            match key.to_lowercase().as_str() {
                "user" | "username" => auth.user = as_str(v)?.to_owned(),
                "pass" | "password" => auth.pass = as_str(v)?.to_owned(),
                "nkey" => {
                    let nk = as_str(v)?;
                    if !is_valid_public_key(nk, NkeyKind::User) {
                        diag.error(
                            v,
                            Reason::msg("Not a valid public nkey for leafnode authorization"),
                        );
                    }
                    auth.nkey = nk.to_owned();
                }
                "timeout" => match auth_timeout("leafnode authorization", key, v, diag) {
                    Some(secs) => auth.timeout = secs,
                    None => return Ok(None),
                },
                "users" => auth.users = parse_users(v, diag),
                "account" => auth.account = as_str(v)?.to_owned(),
                "proxy_required" => auth.proxy_required = as_bool(v)?,
                _ => diag.unknown_field(key, v),
            }
        }
        Ok(Some(auth))
    })();
    diag.recover(result)
}

/// Go: `parseLeafUsers`. `None` when the value is not an array (reported) or a type
/// mismatch ended it (recorded; Go returns nil users then).
fn parse_users(value: &Value, diag: &mut Diagnostics) -> Option<Vec<LeafUser>> {
    let Kind::Array(entries) = &value.kind else {
        diag.error(
            value,
            Reason::msg(format!(
                "Expected users field to be an array, got {}",
                super::access::go_plain_value(value)
            )),
        );
        return None;
    };
    let result = (|| -> Result<Vec<LeafUser>, Abort> {
        let mut users = Vec::with_capacity(entries.len());
        for entry in entries {
            let Kind::Map(fields) = &entry.kind else {
                diag.error(
                    entry,
                    Reason::msg(format!(
                        "Expected user entry to be a map/struct, got {}",
                        super::access::go_plain_value(entry)
                    )),
                );
                continue;
            };
            let mut user = LeafUser::default();
            for (key, v) in fields {
                match key.to_lowercase().as_str() {
                    "user" | "username" => user.username = as_str(v)?.to_owned(),
                    "pass" | "password" => user.password = as_str(v)?.to_owned(),
                    "account" => user.account = Some(as_str(v)?.to_owned()),
                    "proxy_required" => user.proxy_required = as_bool(v)?,
                    _ => diag.unknown_field(key, v),
                }
            }
            users.push(user);
        }
        Ok(users)
    })();
    diag.recover(result)
}
