//! [`ConfigAuth`]: users, passwords, tokens, NKeys and accounts from the configuration.

use std::collections::BTreeSet;

use base64::Engine;

use crate::auth::{AuthError, AuthRequest, Authenticator, GLOBAL_ACCOUNT, Identity, Transport};
use crate::options::ServerOpts;

#[derive(Debug, Clone)]
struct UserEntry {
    name: String,
    password: String,
    account: String,
    types: Option<BTreeSet<String>>,
    proxy_required: bool,
}

#[derive(Debug, Clone)]
struct NkeyEntry {
    nkey: String,
    account: String,
    types: Option<BTreeSet<String>>,
}

/// Authentication from `authorization {}`, `accounts {}`, `no_auth_user` and the
/// `websocket {}` overrides (Go: `checkClientAuthentication` without JWT or callout).
#[derive(Debug, Clone)]
pub struct ConfigAuth {
    users: Vec<UserEntry>,
    nkeys: Vec<NkeyEntry>,
    /// `authorization { user, password }`.
    single: Option<(String, String)>,
    token: String,
    no_auth_user: String,
    ws_user: Option<(String, String)>,
    ws_token: String,
    ws_no_auth_user: String,
    client_tls_map: bool,
    ws_tls_map: bool,
}

impl ConfigAuth {
    /// Builds the checks from options.
    pub fn new(opts: &ServerOpts) -> ConfigAuth {
        let account = |a: &Option<String>| a.clone().unwrap_or_else(|| GLOBAL_ACCOUNT.to_owned());
        let ws = &opts.websocket;
        ConfigAuth {
            users: opts
                .users
                .iter()
                .map(|u| UserEntry {
                    name: u.username.clone(),
                    password: u.password.clone(),
                    account: account(&u.account),
                    types: u.allowed_connection_types.clone(),
                    proxy_required: u.proxy_required,
                })
                .collect(),
            nkeys: opts
                .nkeys
                .iter()
                .map(|n| NkeyEntry {
                    nkey: n.nkey.clone(),
                    account: account(&n.account),
                    types: n.allowed_connection_types.clone(),
                })
                .collect(),
            single: (!opts.username.is_empty())
                .then(|| (opts.username.clone(), opts.password.clone())),
            token: opts.token.clone(),
            no_auth_user: opts.no_auth_user.clone(),
            ws_user: (!ws.username.is_empty()).then(|| (ws.username.clone(), ws.password.clone())),
            ws_token: ws.token.clone(),
            ws_no_auth_user: ws.no_auth_user.clone(),
            client_tls_map: opts.tls_map,
            ws_tls_map: ws.tls_map,
        }
    }

    fn has_users(&self) -> bool {
        !self.users.is_empty() || !self.nkeys.is_empty()
    }

    fn ws_override(&self, transport: Transport) -> bool {
        transport == Transport::Websocket && (self.ws_user.is_some() || !self.ws_token.is_empty())
    }

    fn no_auth_user_name(&self, transport: Transport) -> &str {
        if transport == Transport::Websocket && !self.ws_no_auth_user.is_empty() {
            &self.ws_no_auth_user
        } else {
            &self.no_auth_user
        }
    }

    fn tls_map(&self, transport: Transport) -> bool {
        match transport {
            Transport::Standard => self.client_tls_map,
            Transport::Websocket => self.ws_tls_map,
        }
    }

    fn user_identity(&self, u: &UserEntry) -> Identity {
        Identity {
            user: Some(u.name.clone()),
            account: u.account.clone(),
        }
    }
}

fn allowed(types: &Option<BTreeSet<String>>, transport: Transport) -> bool {
    types
        .as_ref()
        .is_none_or(|t| t.contains(transport.connection_type()))
}

/// Plain or bcrypt (`$2a$...`) password comparison. Go: `comparePasswords`.
fn password_matches(configured: &str, given: &str) -> bool {
    if configured.starts_with("$2") {
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
        self.has_users()
            || self.single.is_some()
            || !self.token.is_empty()
            || self.ws_override(transport)
            || (transport == Transport::Websocket && !self.ws_no_auth_user.is_empty())
            || self.tls_map(transport)
    }

    fn nonce_required(&self, _transport: Transport) -> bool {
        !self.nkeys.is_empty()
    }

    fn no_auth_user(&self, transport: Transport) -> Option<Identity> {
        let name = self.no_auth_user_name(transport);
        if name.is_empty() {
            return None;
        }
        self.users
            .iter()
            .find(|u| u.name == name && !u.proxy_required && allowed(&u.types, transport))
            .map(|u| self.user_identity(u))
    }

    fn authenticate(&self, req: &AuthRequest<'_>) -> Result<Identity, AuthError> {
        let c = req.connect;
        let cookies = req.cookies;
        let user = or_cookie(&c.user, cookies.and_then(|k| k.username.as_ref()));
        let pass = or_cookie(&c.pass, cookies.and_then(|k| k.password.as_ref()));
        let token = or_cookie(&c.auth_token, cookies.and_then(|k| k.token.as_ref()));
        let fail = || {
            if user.is_empty() {
                AuthError::Failed
            } else {
                AuthError::FailedFor(user.to_owned())
            }
        };
        // Go: websocket `authorization {}` overrides everything for websocket clients.
        if self.ws_override(req.transport) {
            if let Some((u, p)) = &self.ws_user {
                return if u == user && password_matches(p, pass) {
                    Ok(Identity {
                        user: Some(u.clone()),
                        account: GLOBAL_ACCOUNT.to_owned(),
                    })
                } else {
                    Err(fail())
                };
            }
            return if password_matches(&self.ws_token, token) {
                Ok(Identity::anonymous())
            } else {
                Err(fail())
            };
        }
        if !self.auth_required(req.transport) {
            return Ok(Identity::anonymous());
        }
        // verify_and_map: the certificate names the user.
        if self.tls_map(req.transport) {
            let Some(tls) = req.tls else {
                return Err(fail());
            };
            let candidates = tls
                .emails
                .iter()
                .chain(tls.dns_names.iter())
                .map(String::as_str)
                .chain(std::iter::once(tls.subject.as_str()));
            for name in candidates {
                if let Some(u) = self.users.iter().find(|u| u.name == name) {
                    if !allowed(&u.types, req.transport) {
                        return Err(fail());
                    }
                    return Ok(self.user_identity(u));
                }
            }
            return Err(AuthError::FailedFor(tls.subject.clone()));
        }
        if !c.nkey.is_empty() {
            let Some(entry) = self.nkeys.iter().find(|n| n.nkey == c.nkey) else {
                return Err(AuthError::FailedFor(c.nkey.clone()));
            };
            if !allowed(&entry.types, req.transport) || !nonce_signed(&c.nkey, &c.sig, req.nonce) {
                return Err(AuthError::FailedFor(c.nkey.clone()));
            }
            return Ok(Identity {
                user: Some(entry.nkey.clone()),
                account: entry.account.clone(),
            });
        }
        if self.has_users() {
            if user.is_empty()
                && pass.is_empty()
                && token.is_empty()
                && let Some(id) = self.no_auth_user(req.transport)
            {
                return Ok(id);
            }
            return match self.users.iter().find(|u| u.name == user) {
                Some(u)
                    if allowed(&u.types, req.transport) && password_matches(&u.password, pass) =>
                {
                    Ok(self.user_identity(u))
                }
                _ => Err(fail()),
            };
        }
        if let Some((u, p)) = &self.single {
            return if u == user && password_matches(p, pass) {
                Ok(Identity {
                    user: Some(u.clone()),
                    account: GLOBAL_ACCOUNT.to_owned(),
                })
            } else {
                Err(fail())
            };
        }
        if !self.token.is_empty() {
            return if password_matches(&self.token, token) {
                Ok(Identity::anonymous())
            } else {
                Err(fail())
            };
        }
        Err(fail())
    }
}

/// Checks an NKey signature of the nonce (raw URL base64, or standard base64).
fn nonce_signed(nkey: &str, sig: &str, nonce: Option<&str>) -> bool {
    let Some(nonce) = nonce else {
        return false;
    };
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(sig));
    let Ok(sig) = sig else {
        return false;
    };
    nkeys::KeyPair::from_public_key(nkey)
        .and_then(|kp| kp.verify(nonce.as_bytes(), &sig))
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::nats::ConnectInfo;

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
        ));
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
        ));
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
        ));
        let id = check(&a, &ConnectInfo::default(), Transport::Standard).unwrap();
        assert_eq!(id.user.as_deref(), Some("noauth"));
        assert_eq!(id.account, "N");
        assert!(a.no_auth_user(Transport::Websocket).is_some());
    }
}
