//! The authentication boundary: what a connection presents, and who it becomes.
//!
//! A connection hands an [`AuthRequest`] (CONNECT credentials, the upgrade's cookies, the
//! TLS client certificate identity, the nonce it was sent) to an [`Authenticator`], which
//! answers with an [`Identity`] (user and account) or [`AuthError`]. [`ConfigAuth`] is the
//! basic implementation from the configuration file (users, passwords, tokens, accounts,
//! `no_auth_user`, certificate mapping, NKey signatures); JWT, auth callout and the rest
//! plug in behind the same trait.

mod cert;
mod config;
pub mod jwt;
mod leaf;
mod operator;
mod permissions;
mod signature;

use std::fmt::Debug;

pub use cert::{CertError, TlsIdentity, certificate_not_after, parse_certificate_identity};
pub use config::{ConfigAuth, has_plaintext_passwords};
pub use leaf::LeafAuth;
pub use operator::OperatorError;
pub use permissions::Checker;

/// Checks an NKey signature of a nonce (for tests of the soliciting side).
#[cfg(test)]
pub(crate) fn nonce_signed_for_tests(nkey: &str, sig: &str, nonce: &str) -> bool {
    signature::nonce_signed(nkey, sig, Some(nonce))
}

use crate::handshake::AuthCookies;
use crate::nats::ConnectInfo;

/// The account every connection without one is bound to. Go: `globalAccountName`.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// How the client reached the server; matched against `allowed_connection_types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Plain NATS over TCP (or TLS). Go: `STANDARD`.
    Standard,
    /// NATS over WebSocket. Go: `WEBSOCKET`.
    Websocket,
    /// MQTT on the MQTT port. Go: `MQTT`.
    Mqtt,
    /// MQTT over WebSocket (`/mqtt`). Go: `MQTT_WS`.
    MqttWebsocket,
    /// A leafnode on the leafnode port. Go: `LEAFNODE`.
    Leafnode,
    /// A leafnode over WebSocket (`/leafnode`). Go: `LEAFNODE_WS`.
    LeafnodeWebsocket,
}

impl Transport {
    /// The connection type name used in configurations and JWTs.
    pub fn connection_type(self) -> &'static str {
        match self {
            Transport::Standard => "STANDARD",
            Transport::Websocket => "WEBSOCKET",
            Transport::Mqtt => "MQTT",
            Transport::MqttWebsocket => "MQTT_WS",
            Transport::Leafnode => "LEAFNODE",
            Transport::LeafnodeWebsocket => "LEAFNODE_WS",
        }
    }
}

/// What a client presents.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The CONNECT options (credential fields: user, pass, auth_token, jwt, nkey, sig).
    pub connect: &'a ConnectInfo,
    /// Credentials from the WebSocket upgrade's cookies (used when CONNECT leaves the
    /// field empty).
    pub cookies: Option<&'a AuthCookies>,
    /// The listener.
    pub transport: Transport,
    /// The nonce sent in INFO, if any.
    pub nonce: Option<&'a str>,
    /// The verified client certificate, if the listener asked for one.
    pub tls: Option<&'a TlsIdentity>,
}

/// Who a connection is, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user name (or NKey), if the connection authenticated as a user.
    pub user: Option<String>,
    /// The account the connection is bound to.
    pub account: String,
    /// When the credentials run out, if they do (JWT `exp`).
    pub expires: Option<Expiry>,
    /// What the user may publish and subscribe to (`None`: anything).
    pub permissions: Option<std::sync::Arc<Checker>>,
    /// Most subscriptions per connection from the user and its account (-1: no limit;
    /// the server's `max_subscriptions` applies on top). Go: `msubs` before the server's.
    pub max_subscriptions: i64,
}

impl Identity {
    /// An anonymous connection in the global account.
    pub fn anonymous() -> Identity {
        Identity {
            user: None,
            account: GLOBAL_ACCOUNT.to_owned(),
            expires: None,
            permissions: None,
            max_subscriptions: NO_LIMIT,
        }
    }
}

/// Go: `jwt.NoLimit`.
pub const NO_LIMIT: i64 = -1;

/// Go: `minLimit`: the smaller of two limits where -1 means none.
pub fn min_limit(a: i64, b: i64) -> i64 {
    match (a, b) {
        (NO_LIMIT, b) => b,
        (a, NO_LIMIT) => a,
        (a, b) => a.min(b),
    }
}

/// Credentials that run out while the connection is open: the connection is closed
/// after `after` (counted from authentication) with `-ERR '<what's text>'` and the
/// `Authentication Expired` state (WebSocket close 1008). Go: the client's `atmr`
/// (`authExpired`) and the account's `etmr` (`accountAuthExpired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// How long the credentials stay valid.
    pub after: std::time::Duration,
    /// Whose expiry it is (the earlier of user and account).
    pub what: Expired,
}

/// Which credential ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expired {
    /// The user JWT's `exp`.
    User,
    /// The account JWT's `exp`.
    Account,
}

impl Expired {
    /// The error the client is sent (Go's texts).
    pub fn client_text(self) -> &'static str {
        match self {
            Expired::User => "User Authentication Expired",
            Expired::Account => "Account Authentication Expired",
        }
    }
}

impl Expiry {
    /// The earliest of these unix-second expiries (0 = none) seen at unix second `now`,
    /// in whole seconds as Go's timers count them; the first listed wins a tie.
    pub fn earliest(now: i64, expiries: &[(i64, Expired)]) -> Option<Expiry> {
        expiries
            .iter()
            .filter(|(at, _)| *at > 0)
            .min_by_key(|(at, _)| *at)
            .map(|&(at, what)| Expiry {
                after: std::time::Duration::from_secs(u64::try_from(at - now).unwrap_or(0)),
                what,
            })
    }
}

/// Why authentication failed. The client always sees `-ERR 'Authorization Violation'`;
/// this text goes to the log. Go: `ErrAuthentication`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Credentials missing or wrong.
    #[error("authentication error")]
    Failed,
    /// Credentials naming a user, shown in the log as Go does.
    #[error("authentication error - {0}")]
    FailedFor(String),
    /// A user JWT refused, with Go's debug reason.
    #[error("authentication error - {0}")]
    Jwt(&'static str),
}

/// Decides who a connection is. Implementations are shared by all connections.
pub trait Authenticator: Debug + Send + Sync {
    /// Whether INFO says `auth_required` (and CONNECT must come first).
    fn auth_required(&self, transport: Transport) -> bool;
    /// Whether INFO carries a nonce to sign (NKey or JWT users).
    fn nonce_required(&self, transport: Transport) -> bool;
    /// The identity for a client that sends another op before CONNECT, if the
    /// configuration has a `no_auth_user` allowed on this transport. Go: the parser's
    /// pre-CONNECT fast path.
    fn no_auth_user(&self, transport: Transport) -> Option<Identity>;
    /// Checks a CONNECT.
    fn authenticate(&self, request: &AuthRequest<'_>) -> Result<Identity, AuthError>;
}
