//! [`LeafAuth`]: who a leafnode is (Go: `isLeafNodeAuthorized`): the
//! `leafnodes { authorization {} }` block first (one user, one NKey, or its users), and
//! without it the server's own authentication on the `LEAFNODE`/`LEAFNODE_WS` connection
//! type, binding to `leafnodes { authorization { account } }` when none is required.

use std::sync::Arc;

use super::config::password_matches;
use super::signature::nonce_signed;
use super::{AuthError, AuthRequest, Authenticator, GLOBAL_ACCOUNT, Identity, NO_LIMIT};
use crate::options::LeafNodeOpts;

#[derive(Debug, Clone)]
struct LeafUserEntry {
    name: String,
    password: String,
    account: String,
}

/// Which credentials `leafnodes { authorization {} }` asks for.
#[derive(Debug, Clone)]
enum LeafCredentials {
    /// No block: the server's authentication decides.
    Server,
    /// `user` / `password` (one user).
    User(LeafUserEntry),
    /// `nkey`, bound to `account`.
    Nkey { nkey: String, account: String },
    /// `users [...]`.
    Users(Vec<LeafUserEntry>),
}

/// The authenticator of the leafnode listener.
#[derive(Debug, Clone)]
pub struct LeafAuth {
    credentials: LeafCredentials,
    /// `leafnodes { authorization { account } }` (the global account when empty).
    account: String,
    /// The server's authentication (users, nkeys, JWT, `no_auth_user`).
    server: Arc<dyn Authenticator>,
}

impl LeafAuth {
    /// From the `leafnodes {}` block, over the server's authenticator.
    pub fn new(opts: &LeafNodeOpts, server: Arc<dyn Authenticator>) -> LeafAuth {
        let account = if opts.account.is_empty() {
            GLOBAL_ACCOUNT.to_owned()
        } else {
            opts.account.clone()
        };
        let credentials = if !opts.username.is_empty() {
            LeafCredentials::User(LeafUserEntry {
                name: opts.username.clone(),
                password: opts.password.clone(),
                account: account.clone(),
            })
        } else if !opts.nkey.is_empty() {
            LeafCredentials::Nkey {
                nkey: opts.nkey.clone(),
                account: account.clone(),
            }
        } else if !opts.users.is_empty() {
            LeafCredentials::Users(
                opts.users
                    .iter()
                    .map(|u| LeafUserEntry {
                        name: u.username.clone(),
                        password: u.password.clone(),
                        account: u
                            .account
                            .clone()
                            .unwrap_or_else(|| GLOBAL_ACCOUNT.to_owned()),
                    })
                    .collect(),
            )
        } else {
            LeafCredentials::Server
        };
        LeafAuth {
            credentials,
            account,
            server,
        }
    }
}

fn bound(user: Option<String>, account: &str) -> Identity {
    Identity {
        user,
        account: account.to_owned(),
        expires: None,
        permissions: None,
        max_subscriptions: NO_LIMIT,
    }
}

fn user_check(u: &LeafUserEntry, req: &AuthRequest<'_>) -> Result<Identity, AuthError> {
    let c = req.connect;
    if c.user == u.name && password_matches(&u.password, &c.pass) {
        Ok(bound(Some(u.name.clone()), &u.account))
    } else if c.user.is_empty() {
        Err(AuthError::Failed)
    } else {
        Err(AuthError::FailedFor(c.user.clone()))
    }
}

impl Authenticator for LeafAuth {
    /// Go: a hub's INFO to leafs always says `auth_required`.
    fn auth_required(&self, _transport: super::Transport) -> bool {
        true
    }

    /// Go: every accepted leaf gets a nonce.
    fn nonce_required(&self, _transport: super::Transport) -> bool {
        true
    }

    /// A leaf must send CONNECT first.
    fn no_auth_user(&self, _transport: super::Transport) -> Option<Identity> {
        None
    }

    fn authenticate(&self, req: &AuthRequest<'_>) -> Result<Identity, AuthError> {
        match &self.credentials {
            LeafCredentials::User(u) => user_check(u, req),
            LeafCredentials::Nkey { nkey, account } => {
                let c = req.connect;
                if &c.nkey == nkey && nonce_signed(nkey, &c.sig, req.nonce) {
                    Ok(bound(Some(nkey.clone()), account))
                } else {
                    Err(AuthError::Failed)
                }
            }
            LeafCredentials::Users(users) => users
                .iter()
                .find(|u| u.name == req.connect.user)
                .map_or(Err(AuthError::Failed), |u| user_check(u, req)),
            LeafCredentials::Server => {
                if self.server.auth_required(req.transport) {
                    self.server.authenticate(req)
                } else {
                    Ok(bound(None, &self.account))
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::{ConfigAuth, Transport};
    use crate::nats::ConnectInfo;
    use crate::options::ServerOpts;

    fn server(conf: &str) -> (Arc<dyn Authenticator>, ServerOpts) {
        let opts = ServerOpts::from_str(conf, std::path::Path::new("."))
            .unwrap()
            .opts;
        (Arc::new(ConfigAuth::new(&opts).unwrap()), opts)
    }

    fn check(
        a: &LeafAuth,
        user: &str,
        pass: &str,
        transport: Transport,
    ) -> Result<Identity, AuthError> {
        let connect = ConnectInfo {
            user: user.into(),
            pass: pass.into(),
            ..ConnectInfo::default()
        };
        a.authenticate(&AuthRequest {
            connect: &connect,
            cookies: None,
            transport,
            nonce: Some("n"),
            tls: None,
        })
    }

    #[test]
    fn leafnode_authorization_takes_precedence() {
        let (s, opts) = server(
            "accounts { A {} }\nleafnodes { port: -1, authorization { user: l, password: p, account: A } }\nauthorization { user: c, password: q }",
        );
        let a = LeafAuth::new(&opts.leafnode, s);
        assert_eq!(
            check(&a, "l", "p", Transport::Leafnode).unwrap().account,
            "A"
        );
        assert!(check(&a, "c", "q", Transport::Leafnode).is_err());
        assert!(check(&a, "l", "x", Transport::Leafnode).is_err());
    }

    #[test]
    fn without_a_block_the_server_decides() {
        let (s, opts) =
            server("leafnodes { port: -1, authorization { account: A } }\naccounts { A {} }");
        let a = LeafAuth::new(&opts.leafnode, s);
        assert_eq!(check(&a, "", "", Transport::Leafnode).unwrap().account, "A");
        let (s, opts) = server(
            "leafnodes { port: -1 }\naccounts { B { users [ {user: ws, password: p, allowed_connection_types: [LEAFNODE_WS]} ] } }",
        );
        let a = LeafAuth::new(&opts.leafnode, s);
        assert!(check(&a, "ws", "p", Transport::Leafnode).is_err());
        assert_eq!(
            check(&a, "ws", "p", Transport::LeafnodeWebsocket)
                .unwrap()
                .account,
            "B"
        );
    }

    #[test]
    fn websocket_no_auth_user_binds_websocket_leafs() {
        let (s, opts) = server(
            "leafnodes { port: -1 }\nwebsocket { port: -1, no_tls: true, no_auth_user: u }\naccounts { C { users [ {user: u, password: p} ] } }",
        );
        let a = LeafAuth::new(&opts.leafnode, s);
        assert_eq!(
            check(&a, "", "", Transport::LeafnodeWebsocket)
                .unwrap()
                .account,
            "C"
        );
        assert!(check(&a, "", "", Transport::Leafnode).is_err());
    }
}
