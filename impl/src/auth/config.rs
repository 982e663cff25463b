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
        let ws_enabled = ws.port != 0;
        let ws_maps = ws.tls_map && ws_enabled;
        let mo = &opts.mqtt;
        let can_map = |types: &Option<BTreeSet<String>>| {
            (opts.tls_map && allowed(types, Transport::Standard))
                || (ws_maps && allowed(types, Transport::Websocket))
                // Go: MQTT over WebSocket maps with the mqtt listener's setting too, when
                // the websocket listener can map certificates.
                || (mo.tls_map
                    && mo.port != 0
                    && (allowed(types, Transport::Mqtt)
                        || (ws_maps && allowed(types, Transport::MqttWebsocket))))
        };
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

    fn simple(&self, transport: Transport) -> &Simple {
        match transport {
            Transport::Websocket => self.ws.as_ref().unwrap_or(&self.global),
            Transport::Mqtt | Transport::MqttWebsocket => {
                self.mqtt.as_ref().unwrap_or(&self.global)
            }
            Transport::Standard => &self.global,
        }
    }

    /// Go: the no_auth_user of the parser's fast path (the websocket one first).
    fn fast_path_user(&self, transport: Transport) -> &str {
        let over = match transport {
            Transport::Websocket => self.ws.as_ref(),
            Transport::Mqtt | Transport::MqttWebsocket => self.mqtt.as_ref(),
            Transport::Standard => None,
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
fn password_matches(configured: &str, given: &str) -> bool {
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
                Transport::Standard => false,
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
        let no_auth_user = simple.no_auth_user.as_str();
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
mod tests {
    use base64::Engine;

    use super::*;
    use crate::auth::TlsIdentity;
    use crate::handshake::AuthCookies;

    fn opts(text: &str) -> ServerOpts {
        ServerOpts::from_str(text, std::path::Path::new("."))
            .unwrap()
            .opts
    }

    fn connect(user: &str, pass: &str) -> ConnectInfo {
        ConnectInfo {
            user: user.into(),
            pass: pass.into(),
            ..ConnectInfo::default()
        }
    }

    fn check(a: &ConfigAuth, c: &ConnectInfo, t: Transport) -> Result<Identity, AuthError> {
        a.authenticate(&AuthRequest {
            connect: c,
            cookies: None,
            transport: t,
            nonce: None,
            tls: None,
        })
    }

    #[test]
    fn accounts_and_connection_types() {
        let a = ConfigAuth::new(&opts(
            r#"accounts { A: { users: [ {user: a, password: pwd, allowed_connection_types: ["STANDARD"]} ] }, B: { users: [ {user: b, password: pwd} ] } }"#,
        ))
        .unwrap();
        assert!(a.auth_required(Transport::Standard));
        let id = check(&a, &connect("a", "pwd"), Transport::Standard).unwrap();
        assert_eq!(id.account, "A");
        assert!(check(&a, &connect("a", "pwd"), Transport::Websocket).is_err());
        assert!(check(&a, &connect("a", "bad"), Transport::Standard).is_err());
        assert_eq!(
            check(&a, &connect("b", "pwd"), Transport::Websocket)
                .unwrap()
                .account,
            "B"
        );
    }

    #[test]
    fn websocket_token_override() {
        let a = ConfigAuth::new(&opts(
            "authorization { token: clienttoken }\nwebsocket { no_tls: true, port: -1, authorization { token: websockettoken } }",
        ))
        .unwrap();
        let tok = |t: &str| ConnectInfo {
            auth_token: t.into(),
            ..ConnectInfo::default()
        };
        assert!(check(&a, &tok("clienttoken"), Transport::Websocket).is_err());
        assert!(check(&a, &tok("websockettoken"), Transport::Websocket).is_ok());
        assert!(check(&a, &tok("clienttoken"), Transport::Standard).is_ok());
    }

    #[test]
    fn no_auth_user() {
        let a = ConfigAuth::new(&opts(
            "accounts { N: { users: [ {user: noauth, password: x} ] } }\nno_auth_user: noauth",
        ))
        .unwrap();
        let id = check(&a, &ConnectInfo::default(), Transport::Standard).unwrap();
        assert_eq!(id.user.as_deref(), Some("noauth"));
        assert_eq!(id.account, "N");
        assert!(a.no_auth_user(Transport::Websocket).is_some());
    }

    fn request<'a>(
        c: &'a ConnectInfo,
        cookies: Option<&'a AuthCookies>,
        nonce: Option<&'a str>,
        tls: Option<&'a TlsIdentity>,
    ) -> AuthRequest<'a> {
        AuthRequest {
            connect: c,
            cookies,
            transport: Transport::Websocket,
            nonce,
            tls,
        }
    }

    #[test]
    fn cookies_fill_empty_fields_and_connect_wins() {
        let a = ConfigAuth::new(&opts(
            "authorization { user: me, password: \"s3cr3t!\" }\nwebsocket { port: -1, no_tls: true, user_cookie: un, pass_cookie: pw }",
        ))
        .unwrap();
        let cookies = AuthCookies {
            username: Some("me".into()),
            password: Some("s3cr3t!".into()),
            ..AuthCookies::default()
        };
        let empty = ConnectInfo::default();
        assert!(
            a.authenticate(&request(&empty, Some(&cookies), None, None))
                .is_ok()
        );
        let bad_cookies = AuthCookies {
            password: Some("nope".into()),
            ..cookies.clone()
        };
        assert!(
            a.authenticate(&request(&empty, Some(&bad_cookies), None, None))
                .is_err()
        );
        // CONNECT values win over the cookies.
        let c = connect("me", "s3cr3t!");
        assert!(
            a.authenticate(&request(&c, Some(&bad_cookies), None, None))
                .is_ok()
        );
    }

    #[test]
    fn bcrypt_passwords_and_tokens() {
        // Go's test/auth_test.go BCRYPT_AUTH_HASH / BCRYPT_AUTH_PASS.
        let hash = "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq";
        assert!(is_bcrypt(hash) && !is_bcrypt("$2plain") && !is_bcrypt("plain"));
        assert!(password_matches(hash, "IW@$6v(y1(t@fhPDvf!5^%"));
        assert!(!password_matches(hash, hash));
        assert!(password_matches("", "") && !password_matches("a", "ab"));
    }

    #[test]
    fn certificate_identities_need_a_certificate() {
        let text = "tls { cert_file: c, key_file: k, verify_and_map: true }\nauthorization { users: [ {user: \"CN=example.com,OU=NATS.io\"}, {user: scoped, allowed_connection_types: [WEBSOCKET]}, {user: pw, password: s3cr3t} ] }\nwebsocket { port: -1, no_tls: true }";
        let a = ConfigAuth::new(&opts(text)).unwrap();
        let ws = |u: &str, p: &str| check(&a, &connect(u, p), Transport::Websocket);
        assert!(ws("CN=example.com,OU=NATS.io", "").is_err());
        assert!(ws("", "").is_err());
        // Not selectable by the client port's mapping (not STANDARD): a plain user.
        assert!(ws("scoped", "").is_ok());
        assert!(ws("pw", "s3cr3t").is_ok());
        // On the mapping listener the certificate selects the user.
        let tls = TlsIdentity {
            subject: "CN=example.com,OU=NATS.io".into(),
            ..TlsIdentity::default()
        };
        let empty = ConnectInfo::default();
        let id = a
            .authenticate(&AuthRequest {
                transport: Transport::Standard,
                ..request(&empty, None, None, Some(&tls))
            })
            .unwrap();
        assert_eq!(id.user.as_deref(), Some("CN=example.com,OU=NATS.io"));
    }

    mod operator_mode {
        use serde_json::{Value, json};

        use super::*;
        use crate::auth::jwt::{KeyPair, encode};

        const OP: &str = "SOANHTFNC2NUOE7TCY3WKMRFKJJZLFL7DCKCJZ2VC4U7EOWTT4B5RAEWKI";
        const NOW: i64 = 1_800_000_000;

        fn sign(claims: Value, by: &KeyPair) -> String {
            let Value::Object(m) = claims else {
                unreachable!()
            };
            encode(m, by, 1_700_000_000).unwrap()
        }

        struct World {
            auth: ConfigAuth,
            acc: KeyPair,
            scoped: KeyPair,
            user: KeyPair,
        }

        fn world(template_types: &[&str]) -> World {
            world_until(template_types, None)
        }

        /// A world whose account JWT has this `exp`.
        fn world_until(template_types: &[&str], account_exp: Option<i64>) -> World {
            let op = KeyPair::from_seed(OP).unwrap();
            let acc = KeyPair::new_account();
            let scoped = KeyPair::new_account();
            let mut claims = json!({"sub": acc.public_key(), "nats": {"type": "account",
                "signing_keys": [{"kind": "user_scope", "key": scoped.public_key(),
                    "template": {"allowed_connection_types": template_types}}]}});
            if let Some(exp) = account_exp {
                claims["exp"] = json!(exp);
            }
            let account = sign(claims, &op);
            World {
                auth: preloaded(&op, &acc, &account),
                acc,
                scoped,
                user: KeyPair::new_user(),
            }
        }

        /// Operator mode trusting `op`, with `account` (the JWT of `acc`) in the memory resolver.
        fn preloaded(op: &KeyPair, acc: &KeyPair, account: &str) -> ConfigAuth {
            let text = format!(
                "trusted_keys: [\"{}\"]\nresolver: MEMORY\nresolver_preload: {{ {}: \"{account}\" }}",
                op.public_key(),
                acc.public_key()
            );
            ConfigAuth::new(&opts(&text)).unwrap().with_clock(|| NOW)
        }

        fn login(w: &World, jwt: &str, sign_nonce: bool) -> Result<Identity, AuthError> {
            let nonce = "n0nc3";
            let sig = if sign_nonce {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(w.user.sign(nonce.as_bytes()).unwrap())
            } else {
                String::new()
            };
            let c = ConnectInfo {
                jwt: jwt.into(),
                sig,
                ..ConnectInfo::default()
            };
            w.auth.authenticate(&request(&c, None, Some(nonce), None))
        }

        #[test]
        fn user_jwt_chain_signature_expiry_and_bearer() {
            let w = world(&["STANDARD"]);
            assert!(w.auth.auth_required(Transport::Websocket));
            assert!(w.auth.nonce_required(Transport::Websocket));
            let user = |extra: Value| {
                let mut nats = json!({"type": "user"});
                if let (Value::Object(n), Value::Object(e)) = (&mut nats, extra) {
                    n.extend(e);
                }
                sign(json!({"sub": w.user.public_key(), "nats": nats}), &w.acc)
            };
            let id = login(&w, &user(json!({})), true).unwrap();
            assert_eq!(id.account, w.acc.public_key());
            assert_eq!(id.user, Some(w.user.public_key()));
            assert!(login(&w, &user(json!({})), false).is_err());
            assert!(login(&w, &user(json!({"bearer_token": true})), false).is_ok());
            let expired = sign(
                json!({"sub": w.user.public_key(), "exp": NOW - 1, "nats": {"type": "user"}}),
                &w.acc,
            );
            assert_eq!(
                login(&w, &expired, true),
                Err(AuthError::Jwt("User JWT no longer valid"))
            );
            let types = |t: Value| user(json!({"allowed_connection_types": t}));
            assert!(login(&w, &types(json!(["STANDARD"])), true).is_err());
            assert!(login(&w, &types(json!(["websocket", "SomeNewType"])), true).is_ok());
            assert!(login(&w, &types(json!(["SomeNewType"])), true).is_err());
            // An account the resolver does not hold, and no JWT at all.
            let stranger = sign(
                json!({"sub": w.user.public_key(), "nats": {"type": "user"}}),
                &KeyPair::new_account(),
            );
            assert!(login(&w, &stranger, true).is_err());
            assert!(login(&w, "", true).is_err());
        }

        #[test]
        fn expiry_is_the_earlier_of_user_and_account() {
            use crate::auth::{Expired, Expiry};
            use std::time::Duration;
            let user_until = |w: &World, exp: Option<i64>| {
                let mut claims = json!({"sub": w.user.public_key(), "nats": {"type": "user"}});
                if let Some(exp) = exp {
                    claims["exp"] = json!(exp);
                }
                login(w, &sign(claims, &w.acc), true).map(|id| id.expires)
            };
            let after = |secs, what| {
                Ok(Some(Expiry {
                    after: Duration::from_secs(secs),
                    what,
                }))
            };
            let w = world_until(&[], None);
            assert_eq!(user_until(&w, None), Ok(None));
            assert_eq!(user_until(&w, Some(NOW + 5)), after(5, Expired::User));
            // Expiring this very second: valid now, with a timer of 0 (Go's `>` check).
            assert_eq!(user_until(&w, Some(NOW)), after(0, Expired::User));
            let w = world_until(&[], Some(NOW + 3));
            assert_eq!(user_until(&w, None), after(3, Expired::Account));
            assert_eq!(user_until(&w, Some(NOW + 5)), after(3, Expired::Account));
            assert_eq!(user_until(&w, Some(NOW + 2)), after(2, Expired::User));
            assert_eq!(user_until(&w, Some(NOW + 3)), after(3, Expired::User));
            // An account is expired from its `exp` second on (Go: `<=`).
            let w = world_until(&[], Some(NOW));
            assert_eq!(
                user_until(&w, None),
                Err(AuthError::Jwt("Account JWT has expired"))
            );
        }

        #[test]
        fn jwt_permissions_and_refused_connect_restrictions() {
            let w = world(&[]);
            let user =
                |nats: Value| sign(json!({"sub": w.user.public_key(), "nats": nats}), &w.acc);
            let refused = Err(AuthError::Jwt(
                "User JWT src, times and payload restrictions are not supported by this server",
            ));
            for nats in [
                json!({"type": "user", "src": ["127.0.0.1/32"]}),
                json!({"type": "user", "times": [{"start": "08:00:00", "end": "09:00:00"}]}),
                json!({"type": "user", "payload": 0}),
            ] {
                assert_eq!(login(&w, &user(nats.clone()), true), refused, "{nats}");
            }
            // Go's NewUserClaims writes empty pub/sub: no permissions at all.
            let open = json!({"type": "user", "pub": {}, "sub": {}, "subs": -1, "payload": -1});
            assert_eq!(
                login(&w, &user(open), true).map(|id| id.permissions),
                Ok(None)
            );
            let id = login(
                &w,
                &user(
                    json!({"type": "user", "pub": {"allow": ["a.>"], "deny": ["a.b"]},
                    "sub": {"deny": ["s"]}}),
                ),
                true,
            )
            .unwrap();
            let p = id.permissions.unwrap();
            assert!(p.can_publish(b"a.c") && !p.can_publish(b"a.b") && !p.can_publish(b"x"));
            assert!(p.can_subscribe(b"t", None) && !p.can_subscribe(b"s", None));
            // resp: defaults for 0, and no blanket publish allow.
            let id = login(
                &w,
                &user(json!({"type": "user", "resp": {"max": 0, "ttl": 0}})),
                true,
            )
            .unwrap();
            let p = id.permissions.unwrap();
            assert_eq!(
                p.responses(),
                Some(crate::options::ResponsePermission::default())
            );
            assert!(p.restricts_publish() && !p.can_publish(b"anything"));

            // An account's default_permissions, for users that set none.
            let op = KeyPair::from_seed(OP).unwrap();
            let account = sign(
                json!({"sub": w.acc.public_key(), "nats": {"type": "account",
                    "limits": {"conn": -1, "subs": -1, "payload": -1, "data": 5},
                    "default_permissions": {"pub": {"deny": ["secret"]}, "sub": {}}}}),
                &op,
            );
            let strict = World {
                auth: preloaded(&op, &w.acc, &account),
                ..w
            };
            let plain = sign(
                json!({"sub": strict.user.public_key(), "nats": {"type": "user"}}),
                &strict.acc,
            );
            let p = login(&strict, &plain, true).unwrap().permissions.unwrap();
            assert!(!p.can_publish(b"secret") && p.can_publish(b"public"));
            let own = sign(
                json!({"sub": strict.user.public_key(), "nats": {"type": "user",
                    "pub": {"allow": ["secret"]}}}),
                &strict.acc,
            );
            let p = login(&strict, &own, true).unwrap().permissions.unwrap();
            assert!(p.can_publish(b"secret") && !p.can_publish(b"public"));

            // Account limits this server does not enforce refuse the account's users.
            let limited = sign(
                json!({"sub": strict.acc.public_key(), "nats": {"type": "account",
                    "limits": {"conn": 5, "subs": -1, "payload": -1}}}),
                &op,
            );
            let capped = World {
                auth: preloaded(&op, &strict.acc, &limited),
                ..strict
            };
            assert_eq!(
                login(&capped, &plain, true),
                Err(AuthError::Jwt(
                    "Account JWT conn and payload limits are not supported by this server"
                ))
            );
        }

        #[test]
        fn scoped_signing_key_template_decides() {
            for (types, ok) in [
                (&["STANDARD"][..], false),
                (&["STANDARD", "WEBSOCKET"][..], true),
            ] {
                let w = world(types);
                let scoped_user = sign(
                    json!({"sub": w.user.public_key(), "nats": {"type": "user",
                        "issuer_account": w.acc.public_key()}}),
                    &w.scoped,
                );
                assert_eq!(login(&w, &scoped_user, true).is_ok(), ok, "{types:?}");
                // A scoped key's users may not carry limits of their own.
                let with_limits = sign(
                    json!({"sub": w.user.public_key(), "nats": {"type": "user", "subs": -1,
                        "issuer_account": w.acc.public_key()}}),
                    &w.scoped,
                );
                assert!(login(&w, &with_limits, true).is_err());
            }
        }
    }
}
