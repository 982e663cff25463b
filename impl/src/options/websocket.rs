//! The `websocket {}` block: [`WebsocketOpts`] (Go: `WebsocketOpts`, `parseWebsocket`).

use std::collections::BTreeSet;

use super::access::{as_bool, as_i64, as_map, as_str, parse_block, parse_listen, string_array};
use super::conf::{Kind, Value};
use super::duration::{GoDuration, parse_duration};
use super::error::{Abort, Diagnostics, OptionError, Reason};
use super::tls::{TlsConfig, parse_tls};

/// Websocket listener options (Go: `WebsocketOpts`, `server/opts.go`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct WebsocketOpts {
    /// `host` / `net` (or from `listen`); empty means `0.0.0.0` when the port is set.
    pub host: String,
    /// `port` (or from `listen`): 0 disables websocket, -1 picks an ephemeral port.
    pub port: i64,
    /// `advertise`: the `host:port` given to clients instead of the listener's.
    pub advertise: String,
    /// `no_auth_user`: the user a client without credentials becomes.
    pub no_auth_user: String,
    /// `jwt_cookie`: cookie holding a user JWT.
    pub jwt_cookie: String,
    /// `user_cookie` (Go: `UsernameCookie`).
    pub username_cookie: String,
    /// `pass_cookie` (Go: `PasswordCookie`).
    pub password_cookie: String,
    /// `token_cookie`.
    pub token_cookie: String,
    /// `authorization { user | username }`.
    pub username: String,
    /// `authorization { pass | password }`.
    pub password: String,
    /// `authorization { token }`.
    pub token: String,
    /// `authorization { timeout }` in seconds; 0 falls back to the server's.
    pub auth_timeout: f64,
    /// `no_tls`: allow a plain-text listener.
    pub no_tls: bool,
    /// `tls {}`; `None` when absent.
    pub tls: Option<TlsConfig>,
    /// `tls { verify_and_map }`.
    pub tls_map: bool,
    /// `tls { pinned_certs }`.
    pub tls_pinned_certs: Option<BTreeSet<String>>,
    /// `same_origin`.
    pub same_origin: bool,
    /// `allowed_origins` and its five other spellings: a string or array of strings.
    pub allowed_origins: Vec<String>,
    /// `compression` / `compress`.
    pub compression: bool,
    /// `handshake_timeout`: int seconds or duration string; 0 means none.
    pub handshake_timeout: GoDuration,
    /// `ping_interval`: duration string or int seconds (with a warning); 0 uses the server's.
    pub ping_interval: GoDuration,
    /// `headers { name: value }` added to the upgrade response, in file order.
    pub headers: Vec<(String, String)>,
}

/// Go: `parseWebsocket`. Errors and warnings go to `diag`; a type mismatch ends the block
/// (Go panics and recovers at the end of the function, keeping what was set so far).
pub(crate) fn parse_websocket(value: &Value, opts: &mut WebsocketOpts, diag: &mut Diagnostics) {
    parse_block(
        value,
        diag,
        |got| Reason::ExpectedMap {
            what: "websocket",
            got,
        },
        |key, v, diag| parse_field(key, v, opts, diag),
    );
}

fn parse_field(
    key: &str,
    v: &Value,
    wo: &mut WebsocketOpts,
    diag: &mut Diagnostics,
) -> Result<(), Abort> {
    match key.to_lowercase().as_str() {
        "listen" => match parse_listen(v) {
            Ok((host, port)) => {
                wo.host = host;
                wo.port = port;
            }
            Err(reason) => diag.error(v, reason),
        },
        "port" => wo.port = as_i64(v)?,
        "host" | "net" => wo.host = as_str(v)?.to_owned(),
        "advertise" => wo.advertise = as_str(v)?.to_owned(),
        "no_tls" => wo.no_tls = as_bool(v)?,
        "tls" => match parse_tls(v, true) {
            Ok(tc) => {
                wo.tls_map = tc.map;
                wo.tls_pinned_certs = tc.pinned_certs.clone();
                wo.tls = Some(tc);
            }
            Err(e) => diag.errors.push(e),
        },
        "same_origin" => wo.same_origin = as_bool(v)?,
        "allowed_origins" | "allowed_origin" | "allow_origins" | "allow_origin" | "origins"
        | "origin" => {
            wo.allowed_origins =
                string_array("allowed origins", v, &mut diag.errors).unwrap_or_default();
        }
        "handshake_timeout" => {
            wo.handshake_timeout = match &v.kind {
                Kind::Integer(n) => GoDuration::from_secs_wrapping(*n),
                Kind::String(s) => match parse_duration(s) {
                    Ok(d) => d,
                    Err(e) => {
                        diag.error(v, Reason::Duration(e));
                        return Ok(());
                    }
                },
                other => {
                    diag.error(
                        v,
                        Reason::UnsupportedType {
                            field: "handshake timeout",
                            got: other.go_type(),
                        },
                    );
                    GoDuration(0)
                }
            };
        }
        "compress" | "compression" => wo.compression = as_bool(v)?,
        "authorization" | "authentication" => {
            // Go: parseSimpleAuth returns nil after a panic, and parseWebsocket then
            // dereferences it: a second error at this key, and the end of the block.
            let auth = parse_simple_auth(v, diag)
                .ok_or_else(|| Abort(OptionError::at(v, Reason::NilDereference)))?;
            wo.username = auth.user;
            wo.password = auth.pass;
            wo.token = auth.token;
            wo.auth_timeout = auth.timeout;
        }
        "jwt_cookie" => wo.jwt_cookie = as_str(v)?.to_owned(),
        "user_cookie" => wo.username_cookie = as_str(v)?.to_owned(),
        "pass_cookie" => wo.password_cookie = as_str(v)?.to_owned(),
        "token_cookie" => wo.token_cookie = as_str(v)?.to_owned(),
        "no_auth_user" => wo.no_auth_user = as_str(v)?.to_owned(),
        "headers" => {
            let Kind::Map(headers) = &v.kind else {
                diag.error(
                    v,
                    Reason::UnsupportedType {
                        field: "headers",
                        got: v.kind.go_type(),
                    },
                );
                return Ok(());
            };
            wo.headers.clear();
            for (name, hv) in headers {
                match &hv.kind {
                    Kind::String(s) => wo.headers.push((name.to_owned(), s.clone())),
                    other => diag.error(
                        hv,
                        Reason::HeaderValue {
                            key: name.to_owned(),
                            got: other.go_type(),
                        },
                    ),
                }
            }
        }
        "ping_interval" => wo.ping_interval = parse_duration_field("ping_interval", v, diag)?,
        _ => diag.unknown_field(key, v),
    }
    Ok(())
}

/// Go: `parseDuration` — a duration string, or int seconds with a warning.
pub(crate) fn parse_duration_field(
    field: &str,
    v: &Value,
    diag: &mut Diagnostics,
) -> Result<GoDuration, Abort> {
    if let Kind::String(s) = &v.kind {
        return Ok(parse_duration(s).unwrap_or_else(|source| {
            diag.error(
                v,
                Reason::FieldDuration {
                    field: field.to_owned(),
                    source,
                },
            );
            GoDuration(0)
        }));
    }
    diag.warn(
        v,
        Reason::InvalidUse {
            field: field.to_owned(),
            reason: format!("{field} should be converted to a duration"),
        },
    );
    Ok(GoDuration::from_secs_wrapping(as_i64(v)?))
}

/// The result of Go's `parseSimpleAuth`.
#[derive(Debug, Default)]
pub(super) struct SimpleAuth {
    pub(super) user: String,
    pub(super) pass: String,
    pub(super) token: String,
    pub(super) timeout: f64,
}

/// Go: `parseSimpleAuth`; `None` when a type mismatch ended it (Go returns nil).
pub(super) fn parse_simple_auth(value: &Value, diag: &mut Diagnostics) -> Option<SimpleAuth> {
    let result = (|| -> Result<SimpleAuth, Abort> {
        let mut auth = SimpleAuth::default();
        for (key, v) in as_map(value)? {
            match key.to_lowercase().as_str() {
                "user" | "username" => auth.user = as_str(v)?.to_owned(),
                "pass" | "password" => auth.pass = as_str(v)?.to_owned(),
                "token" => auth.token = as_str(v)?.to_owned(),
                "timeout" => {
                    // Go: any type other than int or float means 1 second.
                    auth.timeout = match v.kind {
                        #[allow(clippy::cast_precision_loss)]
                        Kind::Integer(n) => n as f64,
                        Kind::Float(f) => f,
                        _ => 1.0,
                    };
                }
                _ => diag.unknown_field(key, v),
            }
        }
        Ok(auth)
    })();
    diag.recover(result)
}
