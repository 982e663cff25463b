//! The HTTP/1.1 upgrade handshake (RFC 6455 §4), sans-IO, with the Go server's rules.
//!
//! [`Handshake`] takes the bytes a connection receives and ends in either an [`Upgrade`]
//! (whose `response` is the 101 to write) or a [`Rejection`] (whose [`Rejection::response`]
//! is what Go's `net/http` would write; the caller then closes the connection). Nothing
//! here reads a clock: the deadline comes from the `now` given at creation.

pub mod client;
mod config;
pub(crate) mod gonet;
pub mod origin;
pub mod proxy;
pub mod request;
pub mod response;
pub mod response_head;
pub mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use client::{ClientHandshake, ClientHandshakeError, ClientUpgrade};
pub use gonet::{AddrError, UrlError};
pub use origin::{OriginConfigError, OriginError, OriginPolicy, validate_allowed_origin};
pub use proxy::{ProxyConnect, ProxyError};
pub use request::{Header, Request, RequestLimits, RequestParser};
pub use response::{
    CustomHeaders, HeaderConfigError, HttpDate, accept_key, validate_custom_header,
};
pub use response_head::{ResponseError, ResponseHead, ResponseReader};

use crate::policy::{Compression, Framing, MaskPolicy};

/// Everything the handshake needs from the `websocket {}` options; shared by connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// `compression`: permessage-deflate is accepted when the client offers it.
    pub compression: bool,
    /// `same_origin` and `allowed_origins`.
    pub origin: OriginPolicy,
    /// `headers {}`: extra 101 headers.
    pub headers: CustomHeaders,
    /// Whether MQTT is enabled (Go: `opts.MQTT.Port != 0`); else `/mqtt` gets a 404.
    pub mqtt_enabled: bool,
    /// Whether `Nats-No-Masking: true` is honoured (Go's test knob `wsTestRejectNoMasking`
    /// turns it off).
    pub accept_no_masking: bool,
    /// `jwt_cookie`, `user_cookie`, `pass_cookie`, `token_cookie`.
    pub cookie_names: CookieNames,
    /// Whether the listener is TLS: the scheme of the same-origin check.
    pub tls: bool,
    /// `handshake_timeout`: time allowed for the whole request head. Go: `http.Server.ReadTimeout`.
    pub handshake_timeout: Option<Duration>,
    /// Bounds on the request head.
    pub limits: RequestLimits,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        HandshakeConfig {
            compression: false,
            origin: OriginPolicy::any(),
            headers: CustomHeaders::default(),
            mqtt_enabled: false,
            accept_no_masking: true,
            cookie_names: CookieNames::default(),
            tls: false,
            handshake_timeout: None,
            limits: RequestLimits::default(),
        }
    }
}

/// Names of the cookies that may carry credentials; `None` = not configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieNames {
    /// `jwt_cookie`.
    pub jwt: Option<String>,
    /// `user_cookie`.
    pub username: Option<String>,
    /// `pass_cookie`.
    pub password: Option<String>,
    /// `token_cookie`.
    pub token: Option<String>,
}

/// Credential values found in the request's cookies (Go: used when CONNECT leaves them empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthCookies {
    /// Value of the `jwt_cookie` cookie.
    pub jwt: Option<String>,
    /// Value of the `user_cookie` cookie.
    pub username: Option<String>,
    /// Value of the `pass_cookie` cookie.
    pub password: Option<String>,
    /// Value of the `token_cookie` cookie.
    pub token: Option<String>,
}

/// What the upgraded connection carries, from the request path. Go: `CLIENT`, `LEAF`, `MQTT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeKind {
    /// NATS client protocol (any path not below).
    Client,
    /// Escaped path ends in `/leafnode`.
    Leaf,
    /// Escaped path ends in `/mqtt`.
    Mqtt,
}

/// A successful upgrade: what was negotiated, and the 101 to write before any frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// Protocol on top of the WebSocket.
    pub kind: UpgradeKind,
    /// `Exempt` iff the client sent `Nats-No-Masking: true` (and it is accepted).
    pub mask: MaskPolicy,
    /// permessage-deflate, if both sides want it.
    pub compression: Compression,
    /// Outbound framing from the `User-Agent` (always `Whole` for leaf nodes).
    pub framing: Framing,
    /// Credentials from cookies (clients and MQTT only).
    pub cookies: AuthCookies,
    /// First `X-Forwarded-For` value, if it is an IP address. Go: `ws.clientIP`.
    pub client_ip: Option<String>,
    /// The peer address given to [`Handshake::new`].
    pub remote_addr: String,
    /// `HTTP/1.1 101 Switching Protocols ...\r\n\r\n`.
    pub response: Vec<u8>,
}

/// A refused handshake. Write [`Rejection::response`] (possibly empty), then close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Why.
    pub error: HandshakeError,
    http11: bool,
    method: String,
}

impl Rejection {
    /// The bytes Go's server writes for this rejection; `date` feeds the `Date:` header.
    pub fn response(&self, date: HttpDate) -> Vec<u8> {
        use HandshakeError as E;
        let status = self.error.status();
        match &self.error {
            E::HeadTooLarge | E::MalformedRequest => response::conn_error(status, None),
            E::MissingHostHeader
            | E::MalformedHostHeader
            | E::InvalidHeaderName
            | E::UnsupportedVersion => response::conn_error(status, Some(&self.error.to_string())),
            E::OptionsAsterisk => response::options_ok(self.http11, date),
            E::AsteriskTarget => response::mux_bad_request(self.http11, date),
            E::ConnectNotFound => response::mux_not_found(self.http11, date),
            E::NotCleanPath { location } => {
                response::mux_redirect(location, &self.method, self.http11, date)
            }
            E::MqttNotEnabled
            | E::MethodNotGet
            | E::HostMissing
            | E::InvalidUpgradeHeader
            | E::InvalidConnectionHeader
            | E::KeyMissing
            | E::InvalidKey
            | E::InvalidVersion
            | E::OriginNotAllowed(_) => response::ws_http_error(status, self.http11, date),
            // Go calls http.Error after hijacking the connection, which writes nothing.
            E::DataBeforeHandshake => Vec::new(),
        }
    }
}

/// Why a handshake failed. Display is Go's text; [`HandshakeError::status`] the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head exceeds [`RequestLimits`]. Go: `errTooLarge` (past `MaxHeaderBytes`).
    #[error("http: request too large")]
    HeadTooLarge,
    /// Request line or header lines Go's `net/http` cannot read.
    #[error("malformed HTTP request")]
    MalformedRequest,
    /// HTTP/1.1 without a `Host` header.
    #[error("missing required Host header")]
    MissingHostHeader,
    /// `Host` with bytes outside Go's `httpguts.ValidHostHeader` set.
    #[error("malformed Host header")]
    MalformedHostHeader,
    /// A header name with a space (Go reads it, then refuses it).
    #[error("invalid header name")]
    InvalidHeaderName,
    /// `HTTP/x.y` with x != 1.
    #[error("unsupported protocol version")]
    UnsupportedVersion,
    /// `OPTIONS *`: Go's server answers `200 OK` itself (`globalOptionsHandler`).
    #[error("OPTIONS * is answered by the server")]
    OptionsAsterisk,
    /// Request target `*` (Go's `ServeMux` answers 400).
    #[error("request target \"*\" is not served")]
    AsteriskTarget,
    /// CONNECT to an authority (Go's `ServeMux` finds no handler).
    #[error("CONNECT to an authority is not served")]
    ConnectNotFound,
    /// A path with `.`/`..`/`//` segments: Go's `ServeMux` redirects to the clean one.
    #[error("redirect to clean path {location}")]
    NotCleanPath {
        /// The `Location` value.
        location: String,
    },
    /// `/mqtt` while MQTT is not enabled.
    #[error("mqtt websocket endpoint not enabled")]
    MqttNotEnabled,
    /// RFC 6455 §4.2.1 point 1.
    #[error("request method must be GET")]
    MethodNotGet,
    /// RFC 6455 §4.2.1 point 2.
    #[error("'Host' missing in request")]
    HostMissing,
    /// RFC 6455 §4.2.1 point 3.
    #[error("invalid value for header 'Upgrade'")]
    InvalidUpgradeHeader,
    /// RFC 6455 §4.2.1 point 4.
    #[error("invalid value for header 'Connection'")]
    InvalidConnectionHeader,
    /// RFC 6455 §4.2.1 point 5: no or empty `Sec-WebSocket-Key`.
    #[error("key missing")]
    KeyMissing,
    /// RFC 6455 §4.2.1 point 5: not base64 of 16 bytes.
    #[error("invalid websocket key")]
    InvalidKey,
    /// RFC 6455 §4.2.1 point 6: no `Sec-WebSocket-Version` token `13`.
    #[error("invalid version")]
    InvalidVersion,
    /// The origin policy refused the `Origin`.
    #[error("origin not allowed: {0}")]
    OriginNotAllowed(#[from] OriginError),
    /// Bytes arrived after the head, before the 101 (RFC 6455 §4.1: the client must wait).
    #[error("client sent data before handshake is complete")]
    DataBeforeHandshake,
}

impl HandshakeError {
    /// One value of every variant, for the golden error table. The match has no wildcard:
    /// a new variant does not compile until it is listed.
    #[doc(hidden)]
    pub fn examples() -> Vec<HandshakeError> {
        use HandshakeError as E;
        let all = vec![
            E::HeadTooLarge,
            E::MalformedRequest,
            E::MissingHostHeader,
            E::MalformedHostHeader,
            E::InvalidHeaderName,
            E::UnsupportedVersion,
            E::OptionsAsterisk,
            E::AsteriskTarget,
            E::ConnectNotFound,
            E::NotCleanPath {
                location: "/a".to_owned(),
            },
            E::MqttNotEnabled,
            E::MethodNotGet,
            E::HostMissing,
            E::InvalidUpgradeHeader,
            E::InvalidConnectionHeader,
            E::KeyMissing,
            E::InvalidKey,
            E::InvalidVersion,
            E::OriginNotAllowed(OriginError::NotSameOrigin),
            E::OriginNotAllowed(OriginError::NotInAllowedList),
            E::DataBeforeHandshake,
        ];
        for e in &all {
            match e {
                E::HeadTooLarge
                | E::MalformedRequest
                | E::MissingHostHeader
                | E::MalformedHostHeader
                | E::InvalidHeaderName
                | E::UnsupportedVersion
                | E::OptionsAsterisk
                | E::AsteriskTarget
                | E::ConnectNotFound
                | E::NotCleanPath { .. }
                | E::MqttNotEnabled
                | E::MethodNotGet
                | E::HostMissing
                | E::InvalidUpgradeHeader
                | E::InvalidConnectionHeader
                | E::KeyMissing
                | E::InvalidKey
                | E::InvalidVersion
                | E::OriginNotAllowed(_)
                | E::DataBeforeHandshake => {}
            }
        }
        all
    }

    /// The HTTP status Go answers (or, for [`HandshakeError::DataBeforeHandshake`], means).
    pub fn status(&self) -> u16 {
        match self {
            HandshakeError::HeadTooLarge => 431,
            HandshakeError::MalformedRequest
            | HandshakeError::MissingHostHeader
            | HandshakeError::MalformedHostHeader
            | HandshakeError::InvalidHeaderName
            | HandshakeError::AsteriskTarget
            | HandshakeError::HostMissing
            | HandshakeError::InvalidUpgradeHeader
            | HandshakeError::InvalidConnectionHeader
            | HandshakeError::KeyMissing
            | HandshakeError::InvalidKey
            | HandshakeError::InvalidVersion
            | HandshakeError::DataBeforeHandshake => 400,
            HandshakeError::UnsupportedVersion => 505,
            HandshakeError::OptionsAsterisk => 200,
            HandshakeError::ConnectNotFound | HandshakeError::MqttNotEnabled => 404,
            HandshakeError::NotCleanPath { .. } => 307,
            HandshakeError::MethodNotGet => 405,
            HandshakeError::OriginNotAllowed(_) => 403,
        }
    }

    /// Go's error log line, `<remote addr> - websocket handshake error: <reason>`, for the
    /// rejections `wsUpgrade` makes; `None` for those `net/http` makes silently.
    pub fn log_line(&self, remote_addr: &str) -> Option<String> {
        match self {
            HandshakeError::HeadTooLarge
            | HandshakeError::MalformedRequest
            | HandshakeError::MissingHostHeader
            | HandshakeError::MalformedHostHeader
            | HandshakeError::InvalidHeaderName
            | HandshakeError::UnsupportedVersion
            | HandshakeError::OptionsAsterisk
            | HandshakeError::AsteriskTarget
            | HandshakeError::ConnectNotFound
            | HandshakeError::NotCleanPath { .. } => None,
            HandshakeError::MqttNotEnabled
            | HandshakeError::MethodNotGet
            | HandshakeError::HostMissing
            | HandshakeError::InvalidUpgradeHeader
            | HandshakeError::InvalidConnectionHeader
            | HandshakeError::KeyMissing
            | HandshakeError::InvalidKey
            | HandshakeError::InvalidVersion
            | HandshakeError::OriginNotAllowed(_)
            | HandshakeError::DataBeforeHandshake => {
                Some(format!("{remote_addr} - websocket handshake error: {self}"))
            }
        }
    }
}

/// One connection's handshake: buffers the head, then validates it once.
#[derive(Debug)]
pub struct Handshake {
    config: Arc<HandshakeConfig>,
    parser: RequestParser,
    remote_addr: String,
    deadline: Option<Instant>,
}

impl Handshake {
    /// Starts a handshake at `now`; the deadline is `now + handshake_timeout`.
    pub fn new(config: Arc<HandshakeConfig>, remote_addr: impl Into<String>, now: Instant) -> Self {
        let deadline = config.handshake_timeout.and_then(|t| now.checked_add(t));
        Handshake {
            parser: RequestParser::new(config.limits),
            config,
            remote_addr: remote_addr.into(),
            deadline,
        }
    }

    /// The peer address this handshake was created with.
    pub fn remote_addr(&self) -> &str {
        &self.remote_addr
    }

    /// When the head must be complete, if a timeout is configured.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline has passed at `now`. Go then closes the connection without
    /// writing or logging anything (a read timeout in `net/http`).
    pub fn is_expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    /// Feeds received bytes. `Ok(None)`: need more. A result is final: feed no more bytes.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Upgrade>, Rejection> {
        let reject = |error, http11, method: &str| Rejection {
            error,
            http11,
            method: method.to_owned(),
        };
        let request = match self.parser.feed(bytes) {
            Ok(None) => return Ok(None),
            Ok(Some(r)) => r,
            Err(e) => return Err(reject(e, true, "")),
        };
        validate::validate(&self.config, &request, &self.remote_addr)
            .map(Some)
            .map_err(|e| reject(e, request.at_least_http11(), &request.method))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
