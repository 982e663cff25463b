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
mod operator;

use std::fmt::Debug;

pub use cert::{CertError, TlsIdentity, parse_certificate_identity};
pub use config::ConfigAuth;
pub use operator::OperatorError;

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
}

impl Transport {
    /// The connection type name used in configurations and JWTs.
    pub fn connection_type(self) -> &'static str {
        match self {
            Transport::Standard => "STANDARD",
            Transport::Websocket => "WEBSOCKET",
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
}

impl Identity {
    /// An anonymous connection in the global account.
    pub fn anonymous() -> Identity {
        Identity {
            user: None,
            account: GLOBAL_ACCOUNT.to_owned(),
        }
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
