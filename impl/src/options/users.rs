//! Users, NKey users and accounts: `authorization {}` and `accounts {}` (Go: `parseAuthorization`,
//! `parseUsers`, `parseAccounts`).

use std::collections::BTreeSet;

use super::access::{as_bool, as_i64, as_map, as_str, go_float, go_plain_value};
use super::conf::{Kind, Value};
use super::duration::parse_duration;
use super::error::{Abort, Diagnostics, Reason};
use super::nkey::{NkeyKind, is_valid_public_key};
use super::permissions::{Permissions, parse_permissions};
use crate::goquote::quote;

/// Connection types a user may be limited to (Go: `jwt.ConnectionType*`).
pub const CONNECTION_TYPES: [&str; 7] = [
    "STANDARD",
    "WEBSOCKET",
    "LEAFNODE",
    "LEAFNODE_WS",
    "MQTT",
    "MQTT_WS",
    "IN_PROCESS",
];

/// A user with a password (Go: `User`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct User {
    /// `user` / `username`.
    pub username: String,
    /// `pass` / `password` (may be a bcrypt hash).
    pub password: String,
    /// `permissions` / `permission` / `authorization`, else the account's or the
    /// authorization block's `default_permissions`.
    pub permissions: Option<Permissions>,
    /// The `accounts {}` entry the user was declared in.
    pub account: Option<String>,
    /// `allowed_connection_types` / `connection_types` / `clients`, upper case; `None`
    /// means every type.
    pub allowed_connection_types: Option<BTreeSet<String>>,
    /// `proxy_required`.
    pub proxy_required: bool,
}

/// A user identified by a public NKey (Go: `NkeyUser`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct NkeyUser {
    /// `nkey`: a public user NKey.
    pub nkey: String,
    /// Permissions, as for [`User`].
    pub permissions: Option<Permissions>,
    /// The `accounts {}` entry the user was declared in.
    pub account: Option<String>,
    /// Allowed connection types, as for [`User`].
    pub allowed_connection_types: Option<BTreeSet<String>>,
    /// `proxy_required`.
    pub proxy_required: bool,
}

/// An `accounts {}` entry.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Account {
    /// The account name.
    pub name: String,
    /// `nkey`: the account's public NKey.
    pub nkey: String,
    /// `default_permissions`: given to the account's users that have none.
    pub default_permissions: Option<Permissions>,
    /// `limits { max_subscriptions }` per connection (-1 or `None`: no limit).
    pub max_subscriptions: Option<i64>,
    /// Keys kept but not interpreted (`imports`, `exports`, `jetstream`, `limits`, ...).
    pub other: Vec<(String, Value)>,
}

/// Go's `%q` of a value that may not be a string (`%!q(int64=5)` style is approximated
/// by the value's text).
pub(super) fn go_quoted_value(v: &Value) -> String {
    match &v.kind {
        Kind::String(s) => quote(s),
        Kind::Integer(n) => format!("%!q(int64={n})"),
        Kind::Float(f) => format!("%!q(float64={})", go_float(*f)),
        Kind::Bool(b) => format!("%!q(bool={b})"),
        other => format!("%!q({}=...)", other.go_type()),
    }
}

/// Go: the `authorization` struct.
#[derive(Debug, Default)]
pub(super) struct Authorization {
    pub(super) user: String,
    pub(super) pass: String,
    pub(super) token: String,
    pub(super) timeout: f64,
    pub(super) proxy_required: bool,
    /// `Some` as soon as `users` is present, even empty (Go: non-nil slice).
    pub(super) users: Option<Vec<User>>,
    pub(super) nkeys: Vec<NkeyUser>,
    default_permissions: Option<Permissions>,
}

/// Go: the `timeout` case of `parseAuthorization` and `parseLeafAuthorization`: seconds as
/// an int, a float or a duration string, with Go's warning above 60 s. `None` after an
/// error (reported); `block` names the block in the error texts.
pub(super) fn auth_timeout(
    block: &str,
    key: &str,
    v: &Value,
    diag: &mut Diagnostics,
) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let secs = match &v.kind {
        Kind::Integer(n) => *n as f64,
        Kind::Float(f) => *f,
        Kind::String(s) => match parse_duration(s) {
            Ok(d) => d.0 as f64 / 1e9,
            Err(e) => {
                diag.error(
                    v,
                    Reason::msg(format!("error parsing {block} config, 'timeout' {e}")),
                );
                return None;
            }
        },
        _ => {
            diag.error(
                v,
                Reason::msg(format!(
                    "error parsing {block} config, 'timeout' wrong type"
                )),
            );
            return None;
        }
    };
    if secs > 60.0 {
        let shown = match &v.kind {
            Kind::Integer(n) => n.to_string(),
            Kind::Float(f) => go_float(*f),
            Kind::String(s) => s.clone(),
            other => other.go_type().to_owned(),
        };
        diag.warn(
            v,
            Reason::InvalidUse {
                field: key.to_owned(),
                reason: format!(
                    "timeout of {shown} ({secs:.6} seconds) is high, consider keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example"
                ),
            },
        );
    }
    Some(secs)
}

// Go: parseAuthorization. `Some(None)`: an error was reported; `None`: it panicked.
pub(super) fn parse_authorization(
    value: &Value,
    diag: &mut Diagnostics,
) -> Option<Option<Authorization>> {
    let result = (|| -> Result<Option<Authorization>, Abort> {
        let mut auth = Authorization::default();
        for (key, v) in as_map(value)? {
            match key.to_lowercase().as_str() {
                "user" | "username" => auth.user = as_str(v)?.to_owned(),
                "pass" | "password" => auth.pass = as_str(v)?.to_owned(),
                "token" => auth.token = as_str(v)?.to_owned(),
                "timeout" => match auth_timeout("authorization", key, v, diag) {
                    Some(secs) => auth.timeout = secs,
                    None => return Ok(None),
                },
                "users" => {
                    if let Some((nkeys, users)) = parse_users(v, diag) {
                        auth.users = Some(users);
                        auth.nkeys = nkeys;
                    }
                }
                "default_permission" | "default_permissions" | "permissions" => {
                    if let Some(p) = parse_permissions(v, diag) {
                        auth.default_permissions = Some(p);
                    }
                }
                "auth_callout" | "auth_hook" => diag.unenforced(key, v),
                "proxy_required" => auth.proxy_required = as_bool(v)?,
                _ => diag.unknown_field(key, v),
            }
        }
        apply_default_permissions(
            auth.users.as_deref_mut().unwrap_or_default(),
            &mut auth.nkeys,
            auth.default_permissions.as_ref(),
        );
        Ok(Some(auth))
    })();
    diag.recover(result)
}

type ParsedUsers = (Vec<NkeyUser>, Vec<User>);

// Go: parseUsers; `None` when Go returns an error or panics (reported into `diag`).
pub(super) fn parse_users(value: &Value, diag: &mut Diagnostics) -> Option<ParsedUsers> {
    let result = (|| -> Result<Option<ParsedUsers>, Abort> {
        let Kind::Array(entries) = &value.kind else {
            diag.error(
                value,
                Reason::msg(format!(
                    "Expected users field to be an array, got {}",
                    go_plain_value(value)
                )),
            );
            return Ok(None);
        };
        let (mut nkeys, mut users) = (Vec::new(), Vec::new());
        for entry in entries {
            let Kind::Map(fields) = &entry.kind else {
                diag.error(
                    entry,
                    Reason::msg(format!(
                        "Expected user entry to be a map/struct, got {}",
                        go_plain_value(entry)
                    )),
                );
                continue;
            };
            let mut user = User::default();
            let mut nkey = NkeyUser::default();
            let mut perms = None;
            let mut last = entry;
            for (key, v) in fields {
                last = v;
                match key.to_lowercase().as_str() {
                    "nkey" => nkey.nkey = as_str(v)?.to_owned(),
                    "user" | "username" => user.username = as_str(v)?.to_owned(),
                    "pass" | "password" => user.password = as_str(v)?.to_owned(),
                    "permission" | "permissions" | "authorization" => {
                        perms = parse_permissions(v, diag);
                    }
                    "allowed_connection_types" | "connection_types" | "clients" => {
                        let types = allowed_connection_types(v, diag);
                        nkey.allowed_connection_types.clone_from(&types);
                        user.allowed_connection_types = types;
                    }
                    "proxy_required" => {
                        nkey.proxy_required = as_bool(v)?;
                        user.proxy_required = nkey.proxy_required;
                    }
                    _ => diag.unknown_field(key, v),
                }
            }
            if nkey.nkey.is_empty() {
                user.permissions = perms;
            } else {
                nkey.permissions = perms;
            }
            // Go reports these at the last field's token.
            if nkey.nkey.is_empty() && user.username.is_empty() {
                diag.error(last, Reason::msg("User entry requires a user"));
                return Ok(None);
            }
            if !nkey.nkey.is_empty() {
                if !is_valid_public_key(&nkey.nkey, NkeyKind::User) {
                    diag.error(last, Reason::msg("Not a valid public nkey for a user"));
                    return Ok(None);
                }
                if !user.username.is_empty() || !user.password.is_empty() {
                    diag.error(
                        last,
                        Reason::msg("Nkey users do not take usernames or passwords"),
                    );
                    return Ok(None);
                }
                nkeys.push(nkey);
            } else {
                users.push(user);
            }
        }
        Ok(Some((nkeys, users)))
    })();
    diag.recover(result).flatten()
}

/// Go: parseAllowedConnectionTypes / convertAllowedConnectionTypes: values are upper-cased;
/// unknown ones are reported together and dropped.
fn allowed_connection_types(v: &Value, diag: &mut Diagnostics) -> Option<BTreeSet<String>> {
    let types = super::access::string_array("allowed connection types", v, &mut diag.errors)?;
    let mut known = BTreeSet::new();
    let mut unknown = Vec::new();
    for t in types {
        let upper = t.to_uppercase();
        if CONNECTION_TYPES.contains(&upper.as_str()) {
            known.insert(upper);
        } else {
            unknown.push(upper);
        }
    }
    if !unknown.is_empty() {
        diag.error(v, Reason::ConnectionTypes(unknown));
    }
    Some(known)
}

/// Go: `applyDefaultPermissions`: users without permissions get the defaults.
pub(super) fn apply_default_permissions(
    users: &mut [User],
    nkeys: &mut [NkeyUser],
    defaults: Option<&Permissions>,
) {
    let Some(defaults) = defaults else {
        return;
    };
    for p in users.iter_mut().map(|u| &mut u.permissions) {
        p.get_or_insert_with(|| defaults.clone());
    }
    for p in nkeys.iter_mut().map(|n| &mut n.permissions) {
        p.get_or_insert_with(|| defaults.clone());
    }
}

/// Go: `parseAccountLimits`. The subscription limit is enforced; connection and payload
/// limits are not yet, so setting one (to anything but -1, "no limit") is refused.
pub(super) fn account_limits(
    value: &Value,
    account: &mut Account,
    diag: &mut Diagnostics,
) -> Result<(), Abort> {
    let Kind::Map(limits) = &value.kind else {
        diag.error(
            value,
            Reason::msg(format!(
                "Expected account limits to be a map/struct, got {}",
                go_plain_value(value)
            )),
        );
        return Ok(());
    };
    for (key, v) in limits {
        match key.to_lowercase().as_str() {
            "max_subscriptions" | "max_subs" => account.max_subscriptions = Some(as_i64(v)?),
            "max_connections" | "max_conn" | "max_payload" | "max_pay" => {
                if as_i64(v)? != -1 {
                    diag.unenforced(key, v);
                }
            }
            // Leafnodes are not served, so their limit has nothing to restrict.
            "max_leafnodes" | "max_leafs" => {
                as_i64(v)?;
            }
            _ => diag.unknown_field_text(
                v,
                format!("Unknown field {} parsing account limits", quote(key)),
            ),
        }
    }
    Ok(())
}
