//! [`ConfigAuth`]: users, passwords, tokens, NKeys, accounts and operator mode from the
//! configuration, in Go's order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::auth::operator::{Operator, OperatorError};
use crate::auth::signature::nonce_signed;
use crate::auth::{
    AuthError, AuthRequest, Authenticator, Checker, GLOBAL_ACCOUNT, Identity, NO_LIMIT, Transport,
};
use crate::nats::ConnectInfo;
use crate::options::ServerOpts;

#[derive(Debug, Clone)]
struct UserEntry {
    name: String,
    password: String,
    account: String,
    types: Option<BTreeSet<String>>,
    proxy_required: bool,
    /// Go `canTLSMap`: some listener's `verify_and_map` could select this user.
    cert_identity: bool,
    permissions: Option<Arc<Checker>>,
    /// The account's `limits { max_subscriptions }` (-1: none).
    max_subscriptions: i64,
}

#[derive(Debug, Clone)]
struct NkeyEntry {
    nkey: String,
    account: String,
    types: Option<BTreeSet<String>>,
    proxy_required: bool,
    permissions: Option<Arc<Checker>>,
    max_subscriptions: i64,
}

/// The credentials simple authentication compares against (global, or the websocket
/// override).
#[derive(Debug, Clone, Default)]
struct Simple {
    no_auth_user: String,
    username: String,
    password: String,
    token: String,
}

/// Authentication from `authorization {}`, `accounts {}`, `no_auth_user`, the
/// `websocket {}` overrides and operator mode (Go: `processClientOrLeafAuthentication`).
#[derive(Debug, Clone)]
pub struct ConfigAuth {
    users: BTreeMap<String, UserEntry>,
    nkeys: BTreeMap<String, NkeyEntry>,
    global: Simple,
    proxy_required: bool,
    /// Go `info.AuthRequired` for plain clients.
    required: bool,
    /// Go `websocket.authOverride`: user, token or no_auth_user in `websocket {}`.
    ws: Option<Simple>,
    /// Go `mqtt.authOverride`: user, token or no_auth_user in `mqtt {}` (for MQTT over
    /// either listener).
    mqtt: Option<Simple>,
    client_tls_map: bool,
    ws_tls_map: bool,
    mqtt_tls_map: bool,
    operator: Option<Operator>,
    clock: fn() -> i64,
}

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl ConfigAuth {
    /// Builds the checks from options; operator JWTs are read here.
    pub fn new(opts: &ServerOpts) -> Result<ConfigAuth, OperatorError> {
        let account = |a: &Option<String>| a.clone().unwrap_or_else(|| GLOBAL_ACCOUNT.to_owned());
        let ws = &opts.websocket;
        let mo = &opts.mqtt;
        let can_map = |types: &Option<BTreeSet<String>>| can_tls_map(opts, types);
        let operator = Operator::from_opts(opts)?;
        let account_subs = |a: &Option<String>| {
            opts.accounts
                .iter()
                .find(|acc| Some(&acc.name) == a.as_ref())
                .and_then(|acc| acc.max_subscriptions)
                .unwrap_or(NO_LIMIT)
        };
        let users: BTreeMap<_, _> = opts
            .users
            .iter()
            .map(|u| {
                let e = UserEntry {
                    name: u.username.clone(),
                    password: u.password.clone(),
                    account: account(&u.account),
                    types: u.allowed_connection_types.clone(),
                    proxy_required: u.proxy_required,
                    cert_identity: can_map(&u.allowed_connection_types),
                    permissions: u.permissions.as_ref().map(|p| Arc::new(Checker::new(p))),
                    max_subscriptions: account_subs(&u.account),
                };
                (e.name.clone(), e)
            })
            .collect();
        let nkeys: BTreeMap<_, _> = opts
            .nkeys
            .iter()
            .map(|n| {
                let e = NkeyEntry {
                    nkey: n.nkey.clone(),
                    account: account(&n.account),
                    types: n.allowed_connection_types.clone(),
                    proxy_required: n.proxy_required,
                    permissions: n.permissions.as_ref().map(|p| Arc::new(Checker::new(p))),
                    max_subscriptions: account_subs(&n.account),
                };
                (e.nkey.clone(), e)
            })
            .collect();
        let required = operator.is_some()
            || !users.is_empty()
            || !nkeys.is_empty()
            || !opts.username.is_empty()
            || !opts.token.is_empty();
        let ws_override =
            !ws.username.is_empty() || !ws.token.is_empty() || !ws.no_auth_user.is_empty();
        // Go: mqttConfigAuth.
        let mqtt_override =
            !mo.username.is_empty() || !mo.token.is_empty() || !mo.no_auth_user.is_empty();
        Ok(ConfigAuth {
            users,
            nkeys,
            global: Simple {
                no_auth_user: opts.no_auth_user.clone(),
                username: opts.username.clone(),
                password: opts.password.clone(),
                token: opts.token.clone(),
            },
            proxy_required: opts.proxy_required,
            required,
            ws: ws_override.then(|| Simple {
                no_auth_user: ws.no_auth_user.clone(),
                username: ws.username.clone(),
                password: ws.password.clone(),
                token: ws.token.clone(),
            }),
            mqtt: mqtt_override.then(|| Simple {
                no_auth_user: mo.no_auth_user.clone(),
                username: mo.username.clone(),
                password: mo.password.clone(),
                token: mo.token.clone(),
            }),
            client_tls_map: opts.tls_map,
            ws_tls_map: ws.tls_map,
            mqtt_tls_map: mo.tls_map,
            operator,
            clock: system_clock,
        })
    }

    /// The same, with another wall clock (unix seconds) for JWT expiry; for tests.
    pub fn with_clock(mut self, clock: fn() -> i64) -> ConfigAuth {
        self.clock = clock;
        self
    }

    /// The trusted `operator` JWTs, as the start log lists them.
    pub fn trusted_operators(&self) -> &[crate::auth::jwt::OperatorClaims] {
        self.operator.as_ref().map_or(&[], |o| o.operators())
    }

    fn simple(&self, transport: Transport) -> &Simple {
        match transport {
            Transport::Websocket => self.ws.as_ref().unwrap_or(&self.global),
            Transport::Mqtt | Transport::MqttWebsocket => {
                self.mqtt.as_ref().unwrap_or(&self.global)
            }
            Transport::Standard | Transport::Leafnode | Transport::LeafnodeWebsocket => {
                &self.global
            }
        }
    }

    /// The `no_auth_user` of the CONNECT pipeline: the override's, or the global one —
    /// for a leaf over WebSocket, `websocket { no_auth_user }` when set (Go: auth.go 842).
    fn no_auth_user_name(&self, transport: Transport) -> &str {
        if transport == Transport::LeafnodeWebsocket
            && let Some(ws) = &self.ws
            && !ws.no_auth_user.is_empty()
        {
            return &ws.no_auth_user;
        }
        &self.simple(transport).no_auth_user
    }

    /// Go: the no_auth_user of the parser's fast path (the websocket one first).
    fn fast_path_user(&self, transport: Transport) -> &str {
        let over = match transport {
            Transport::Websocket | Transport::LeafnodeWebsocket => self.ws.as_ref(),
            Transport::Mqtt | Transport::MqttWebsocket => self.mqtt.as_ref(),
            Transport::Standard | Transport::Leafnode => None,
        };
        match over.map(|o| o.no_auth_user.as_str()) {
            Some(name) if !name.is_empty() => name,
            _ => &self.global.no_auth_user,
        }
    }

    fn tls_map(&self, transport: Transport) -> bool {
        match transport {
            Transport::Standard => self.client_tls_map,
            Transport::Websocket => self.ws_tls_map,
            // Go: MQTT over WebSocket maps with the mqtt listener's setting too.
            Transport::Mqtt | Transport::MqttWebsocket => self.mqtt_tls_map,
            // `leafnodes { tls { verify_and_map } }` is not supported (CONFORMANCE.md).
            Transport::Leafnode | Transport::LeafnodeWebsocket => false,
        }
    }

    fn user_identity(u: &UserEntry) -> Identity {
        Identity {
            user: Some(u.name.clone()),
            account: u.account.clone(),
            expires: None,
            permissions: u.permissions.clone(),
            max_subscriptions: u.max_subscriptions,
        }
    }

    /// verify_and_map: the user named by the certificate (SAN e-mails, DNS names, then the
    /// subject), among those allowed on this transport.
    fn mapped_user(&self, req: &AuthRequest<'_>) -> Option<&UserEntry> {
        let tls = req.tls?;
        let candidates = tls
            .emails
            .iter()
            .chain(tls.dns_names.iter())
            .map(String::as_str)
            .chain(std::iter::once(tls.subject.as_str()));
        for name in candidates {
            if let Some(u) = self.users.get(name) {
                return allowed(&u.types, req.transport).then_some(u);
            }
        }
        None
    }
}

fn allowed(types: &Option<BTreeSet<String>>, transport: Transport) -> bool {
    types
        .as_ref()
        .is_none_or(|t| t.is_empty() || t.contains(transport.connection_type()))
}

/// Go `canTLSMap`: some listener's `verify_and_map` could select a user allowed on
/// `types`.
fn can_tls_map(opts: &ServerOpts, types: &Option<BTreeSet<String>>) -> bool {
    let ws_maps = opts.websocket.tls_map && opts.websocket.port != 0;
    let mo = &opts.mqtt;
    (opts.tls_map && allowed(types, Transport::Standard))
        || (ws_maps && allowed(types, Transport::Websocket))
        // Go: MQTT over WebSocket maps with the mqtt listener's setting too, when
        // the websocket listener can map certificates.
        || (mo.tls_map
            && mo.port != 0
            && (allowed(types, Transport::Mqtt)
                || (ws_maps && allowed(types, Transport::MqttWebsocket))))
}

/// Go `checkAuthforWarnings`: the `authorization` password, or a user's, is not a bcrypt
/// hash (a user without a password that a certificate can select does not count). The
/// server then warns `Plaintext passwords detected, use nkeys or bcrypt` at start.
pub fn has_plaintext_passwords(opts: &ServerOpts) -> bool {
    (!opts.password.is_empty() && !is_bcrypt(&opts.password))
        || opts.users.iter().any(|u| {
            let certificate_identity =
                u.password.is_empty() && can_tls_map(opts, &u.allowed_connection_types);
            !certificate_identity && !is_bcrypt(&u.password)
        })
}

/// Go: `isBcrypt` (`$2a$`, `$2b$`, `$2x$`, `$2y$` or `$2$` followed by the cost).
fn is_bcrypt(p: &str) -> bool {
    let rest = p.strip_prefix("$2").unwrap_or("");
    let rest = rest.strip_prefix(['a', 'b', 'x', 'y']).unwrap_or(rest);
    let b = rest.as_bytes();
    p.starts_with("$2")
        && b.len() >= 4
        && b[0] == b'$'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b'$'
}

/// Plain (constant time) or bcrypt password comparison. Go: `comparePasswords`.
pub(super) fn password_matches(configured: &str, given: &str) -> bool {
    if is_bcrypt(configured) {
        bcrypt::verify(given, configured).unwrap_or(false)
    } else {
        configured.len() == given.len()
            && configured
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn or_cookie<'a>(field: &'a str, cookie: Option<&'a String>) -> &'a str {
    if field.is_empty() {
        cookie.map_or("", String::as_str)
    } else {
        field
    }
}

impl Authenticator for ConfigAuth {
    fn auth_required(&self, transport: Transport) -> bool {
        self.required
            || match transport {
                Transport::Websocket => self.ws.is_some(),
                Transport::Mqtt | Transport::MqttWebsocket => self.mqtt.is_some(),
                Transport::Standard | Transport::Leafnode | Transport::LeafnodeWebsocket => false,
            }
    }

    fn nonce_required(&self, _transport: Transport) -> bool {
        !self.nkeys.is_empty() || self.operator.is_some()
    }

    fn no_auth_user(&self, transport: Transport) -> Option<Identity> {
        // Go: parser.go, then the CONNECT pipeline with empty options.
        let name = self.fast_path_user(transport);
        let u = self.users.get(name)?;
        if name.is_empty() || u.proxy_required || !allowed(&u.types, transport) {
            return None;
        }
        let connect = ConnectInfo::default();
        self.authenticate(&AuthRequest {
            connect: &connect,
            cookies: None,
            transport,
            nonce: None,
            tls: None,
        })
        .ok()
    }

    fn authenticate(&self, req: &AuthRequest<'_>) -> Result<Identity, AuthError> {
        if !self.auth_required(req.transport) {
            return Ok(Identity::anonymous());
        }
        let c = req.connect;
        let cookies = req.cookies;
        // Go: processConnect fills empty fields from the websocket cookies.
        let mut user = or_cookie(&c.user, cookies.and_then(|k| k.username.as_ref()));
        let mut pass = or_cookie(&c.pass, cookies.and_then(|k| k.password.as_ref()));
        let token = or_cookie(&c.auth_token, cookies.and_then(|k| k.token.as_ref()));
        let jwt = or_cookie(&c.jwt, cookies.and_then(|k| k.jwt.as_ref()));
        let fail = |user: &str| {
            if user.is_empty() {
                AuthError::Failed
            } else {
                AuthError::FailedFor(user.to_owned())
            }
        };
        let simple = self.simple(req.transport);
        let no_auth_user = self.no_auth_user_name(req.transport);
        let tls_map = self.tls_map(req.transport);

        if let Some(op) = &self.operator {
            return op.authenticate(jwt, &c.sig, req.nonce, req.transport, (self.clock)());
        }
        let mut nkey = None;
        if !self.nkeys.is_empty() {
            let mut key = c.nkey.as_str();
            if key.is_empty()
                && user.is_empty()
                && pass.is_empty()
                && token.is_empty()
                && self.nkeys.contains_key(no_auth_user)
            {
                key = no_auth_user;
            }
            if !key.is_empty() {
                match self.nkeys.get(key) {
                    Some(n) if allowed(&n.types, req.transport) => nkey = Some(n),
                    _ => return Err(AuthError::FailedFor(key.to_owned())),
                }
            }
        }
        let mut found = None;
        if !self.users.is_empty() && nkey.is_none() {
            if tls_map {
                let Some(u) = self.mapped_user(req) else {
                    return Err(req.tls.map_or(AuthError::Failed, |t| {
                        AuthError::FailedFor(t.subject.clone())
                    }));
                };
                user = &u.name;
                found = Some(u);
            } else {
                if user.is_empty()
                    && pass.is_empty()
                    && token.is_empty()
                    && let Some(u) = self.users.get(no_auth_user)
                {
                    user = &u.name;
                    pass = &u.password;
                }
                if !user.is_empty() {
                    match self.users.get(user) {
                        Some(u) if allowed(&u.types, req.transport) => found = Some(u),
                        _ => return Err(fail(user)),
                    }
                }
            }
        }
        if let Some(n) = nkey {
            if n.proxy_required {
                return Err(AuthError::FailedFor(n.nkey.clone()));
            }
            if n.nkey != no_auth_user && !nonce_signed(&n.nkey, &c.sig, req.nonce) {
                return Err(AuthError::FailedFor(n.nkey.clone()));
            }
            return Ok(Identity {
                user: Some(n.nkey.clone()),
                account: n.account.clone(),
                expires: None,
                permissions: n.permissions.clone(),
                max_subscriptions: n.max_subscriptions,
            });
        }
        if let Some(u) = found {
            if u.proxy_required {
                return Err(fail(user));
            }
            // A passwordless user that a certificate can select is a certificate identity.
            if !tls_map && u.password.is_empty() && u.name != no_auth_user && u.cert_identity {
                return Err(fail(user));
            }
            return if password_matches(&u.password, pass) {
                Ok(Self::user_identity(u))
            } else {
                Err(fail(user))
            };
        }
        if self.proxy_required {
            return Err(fail(user));
        }
        if !simple.token.is_empty() {
            return if password_matches(&simple.token, token) {
                Ok(Identity::anonymous())
            } else {
                Err(fail(user))
            };
        }
        if !simple.username.is_empty() {
            return if simple.username == user && password_matches(&simple.password, pass) {
                Ok(Identity {
                    user: Some(simple.username.clone()),
                    account: GLOBAL_ACCOUNT.to_owned(),
                    expires: None,
                    permissions: None,
                    max_subscriptions: NO_LIMIT,
                })
            } else {
                Err(fail(user))
            };
        }
        Err(fail(user))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "config_tests.rs"]
mod tests;
