//! Checks on a loaded configuration, in the Go server's order and with its texts:
//! `validateOptions` (the parts that apply here), `validateAuth`, `validateNoAuthUser`
//! and `validateWebsocketOptions`.

use crate::goquote::quote;
use crate::handshake::{
    HeaderConfigError, OriginConfigError, validate_allowed_origin, validate_custom_header,
};
use crate::options::{GoDuration, LeafValidationError, ServerOpts};

/// Go: `DEFAULT_SYSTEM_ACCOUNT`, the system account created when none is configured.
pub const DEFAULT_SYSTEM_ACCOUNT: &str = "$SYS";

/// The NATS default `max_pending` (64 MiB). Go: `MAX_PENDING_SIZE`.
pub const DEFAULT_MAX_PENDING: i64 = 64 * 1024 * 1024;

/// A configuration that loads but cannot run. Display texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// `lame_duck_grace_period` not below `lame_duck_duration` (defaults applied).
    #[error(
        "lame duck grace period ({grace}) should be strictly lower than lame duck duration ({duration})"
    )]
    LameDuckGrace {
        /// Effective grace period.
        grace: GoDuration,
        /// Effective duration.
        duration: GoDuration,
    },
    /// `max_payload` above `max_pending`.
    #[error("max_payload ({payload}) cannot be higher than max_pending ({pending})")]
    PayloadAbovePending {
        /// Effective `max_payload`.
        payload: i64,
        /// Effective `max_pending`.
        pending: i64,
    },
    /// `server_name` with a space.
    #[error("server name cannot contain spaces")]
    ServerNameSpaces,
    /// A pinned certificate entry that is not a lower-case hex SHA-256.
    #[error(
        "error parsing 'pinned_certs' key {0} does not look like lower case hex-encoded sha256 of DER encoded SubjectPublicKeyInfo"
    )]
    PinnedCert(String),
    /// `no_auth_user` in operator mode.
    #[error("no_auth_user not compatible with Trusted Operator")]
    NoAuthUserWithOperator,
    /// `no_auth_user` without any user.
    #[error("no_auth_user: \"{0}\" present, but users/nkeys are not defined")]
    NoAuthUserWithoutUsers(String),
    /// `no_auth_user` naming nobody.
    #[error(
        "no_auth_user: \"{0}\" not present as user or nkey in authorization block or account configuration"
    )]
    NoAuthUserUnknown(String),
    /// `websocket {}` without `tls {}` or `no_tls: true`.
    #[error("websocket requires TLS configuration")]
    WebsocketRequiresTls,
    /// An `allowed_origins` entry that is not an http(s) URL with a host.
    #[error(transparent)]
    AllowedOrigin(#[from] OriginConfigError),
    /// `websocket { authorization { user } }` next to users/nkeys.
    #[error("websocket authentication username not compatible with presence of users/nkeys")]
    WebsocketUsernameWithUsers,
    /// `websocket { authorization { token } }` next to users/nkeys.
    #[error("websocket authentication token not compatible with presence of users/nkeys")]
    WebsocketTokenWithUsers,
    /// `jwt_cookie` without trusted operators or keys.
    #[error("trusted operators or trusted keys configuration is required for JWT authentication via cookie {}", quote(.0))]
    JwtCookieWithoutTrust(String),
    /// A pinned certificate entry of the websocket `tls {}`.
    #[error("websocket: {0}")]
    WebsocketPinnedCert(Box<ValidationError>),
    /// A custom response header the handshake owns.
    #[error(transparent)]
    Header(#[from] HeaderConfigError),
    /// `mqtt { authorization { user } }` next to users/nkeys.
    #[error("mqtt authentication username not compatible with presence of users/nkeys")]
    MqttUsernameWithUsers,
    /// `mqtt { authorization { token } }` next to users/nkeys.
    #[error("mqtt authentication token not compatible with presence of users/nkeys")]
    MqttTokenWithUsers,
    /// A negative `mqtt { ack_wait }`.
    #[error("ack wait must be a positive value")]
    MqttAckWaitNegative,
    /// A negative `mqtt { js_api_timeout }`.
    #[error("JS API timeout must be a positive value")]
    MqttJsApiTimeoutNegative,
    /// A pinned certificate entry of the mqtt `tls {}`.
    #[error("mqtt: {0}")]
    MqttPinnedCert(Box<ValidationError>),
    /// The `leafnodes {}` options (Go: `validateLeafNode`).
    #[error(transparent)]
    Leaf(#[from] LeafValidationError),
    /// `system_account` names an account the configuration does not define (Go:
    /// `configureAccounts`, right after `validateOptions`).
    #[error("error resolving system account: account missing")]
    SystemAccountMissing,
}

impl ValidationError {
    /// One value of every variant, for the golden error table (no wildcard below).
    #[doc(hidden)]
    pub fn examples() -> Vec<ValidationError> {
        use ValidationError as E;
        let all = vec![
            E::LameDuckGrace {
                grace: GoDuration(40 * GoDuration::SECOND),
                duration: GoDuration(30 * GoDuration::SECOND),
            },
            E::PayloadAbovePending {
                payload: 2048,
                pending: 1024,
            },
            E::ServerNameSpaces,
            E::PinnedCert("abc".to_owned()),
            E::NoAuthUserWithOperator,
            E::NoAuthUserWithoutUsers("someone".to_owned()),
            E::NoAuthUserUnknown("notfound".to_owned()),
            E::WebsocketRequiresTls,
            E::AllowedOrigin(OriginConfigError::Scheme("ftp://host.com".to_owned())),
            E::WebsocketUsernameWithUsers,
            E::WebsocketTokenWithUsers,
            E::JwtCookieWithoutTrust("jwt".to_owned()),
            E::WebsocketPinnedCert(Box::new(E::PinnedCert("abc".to_owned()))),
            E::Header(HeaderConfigError::NotAllowed("Host".to_owned())),
            E::Header(HeaderConfigError::SecWebSocketPrefix(
                "Sec-WebSocket-Key".to_owned(),
            )),
            E::MqttUsernameWithUsers,
            E::MqttTokenWithUsers,
            E::MqttAckWaitNegative,
            E::MqttJsApiTimeoutNegative,
            E::MqttPinnedCert(Box::new(E::PinnedCert("abc".to_owned()))),
            E::Leaf(LeafValidationError::MinVersionTooLow),
            E::SystemAccountMissing,
        ];
        for e in &all {
            match e {
                E::LameDuckGrace { .. }
                | E::PayloadAbovePending { .. }
                | E::ServerNameSpaces
                | E::PinnedCert(_)
                | E::NoAuthUserWithOperator
                | E::NoAuthUserWithoutUsers(_)
                | E::NoAuthUserUnknown(_)
                | E::WebsocketRequiresTls
                | E::AllowedOrigin(_)
                | E::WebsocketUsernameWithUsers
                | E::WebsocketTokenWithUsers
                | E::JwtCookieWithoutTrust(_)
                | E::WebsocketPinnedCert(_)
                | E::Header(_)
                | E::MqttUsernameWithUsers
                | E::MqttTokenWithUsers
                | E::MqttAckWaitNegative
                | E::MqttJsApiTimeoutNegative
                | E::MqttPinnedCert(_)
                | E::Leaf(_)
                | E::SystemAccountMissing => {}
            }
        }
        all
    }
}

impl ServerOpts {
    /// Validates the options as the Go server does before starting (its `validateOptions`
    /// for the subsystems implemented here). The first problem found is returned.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let (duration, grace) = self.lame_duck();
        if grace >= duration {
            return Err(ValidationError::LameDuckGrace { grace, duration });
        }
        let payload = if self.max_payload > 0 {
            i64::from(self.max_payload)
        } else {
            crate::DEFAULT_MAX_PAYLOAD as i64
        };
        let pending = if self.max_pending > 0 {
            self.max_pending
        } else {
            DEFAULT_MAX_PENDING
        };
        if payload > pending {
            return Err(ValidationError::PayloadAbovePending { payload, pending });
        }
        if self.server_name.contains(' ') {
            return Err(ValidationError::ServerNameSpaces);
        }
        // Go: validateAuth. Connection types were normalised and checked when parsed.
        self.validate_leafnode()?;
        validate_pinned(self.tls_pinned_certs.iter().flatten())?;
        self.validate_no_auth_user(&self.no_auth_user)?;
        self.validate_mqtt()?;
        self.validate_websocket()?;
        self.validate_system_account()
    }

    /// Go: `configureAccounts` fails when `system_account` names an account the
    /// configuration does not define; operator mode (`operator` or `trusted_keys`)
    /// resolves it from the JWTs instead, and `$SYS` is created when missing.
    fn validate_system_account(&self) -> Result<(), ValidationError> {
        let sys = &self.system_account;
        if !self.no_system_account
            && !sys.is_empty()
            && sys != DEFAULT_SYSTEM_ACCOUNT
            && self.operators.is_empty()
            && self.trusted_keys.is_empty()
            && !self.accounts.iter().any(|a| &a.name == sys)
        {
            return Err(ValidationError::SystemAccountMissing);
        }
        Ok(())
    }

    /// Go: `validateMQTTOptions` (part of [`ServerOpts::validate`]). Go's `mqtt requires JetStream to be enabled if running
    /// in standalone mode` does not apply: MQTT state is kept in memory here
    /// (docs/CONFORMANCE.md); nor do the cluster checks (no clustering here, and Go
    /// ignores `consumer_replicas`).
    pub fn validate_mqtt(&self) -> Result<(), ValidationError> {
        let mo = &self.mqtt;
        if mo.port == 0 {
            return Ok(());
        }
        self.validate_no_auth_user(&mo.no_auth_user)?;
        if !self.users.is_empty() || !self.nkeys.is_empty() {
            if !mo.username.is_empty() {
                return Err(ValidationError::MqttUsernameWithUsers);
            }
            if !mo.token.is_empty() {
                return Err(ValidationError::MqttTokenWithUsers);
            }
        }
        if mo.ack_wait.0 < 0 {
            return Err(ValidationError::MqttAckWaitNegative);
        }
        if mo.js_api_timeout.0 < 0 {
            return Err(ValidationError::MqttJsApiTimeoutNegative);
        }
        validate_pinned(mo.tls_pinned_certs.iter().flatten())
            .map_err(|e| ValidationError::MqttPinnedCert(Box::new(e)))
    }

    /// Go: `validateNoAuthUser`.
    fn validate_no_auth_user(&self, name: &str) -> Result<(), ValidationError> {
        if name.is_empty() {
            return Ok(());
        }
        if !self.operators.is_empty() {
            return Err(ValidationError::NoAuthUserWithOperator);
        }
        if self.users.is_empty() && self.nkeys.is_empty() {
            return Err(ValidationError::NoAuthUserWithoutUsers(name.to_owned()));
        }
        if self.users.iter().any(|u| u.username == name)
            || self.nkeys.iter().any(|n| n.nkey == name)
        {
            return Ok(());
        }
        Err(ValidationError::NoAuthUserUnknown(name.to_owned()))
    }

    /// Go: `validateWebsocketOptions` (FIPS does not apply: rustls with ring).
    fn validate_websocket(&self) -> Result<(), ValidationError> {
        let wo = &self.websocket;
        if wo.port == 0 {
            return Ok(());
        }
        if wo.tls.is_none() && !wo.no_tls {
            return Err(ValidationError::WebsocketRequiresTls);
        }
        for origin in &wo.allowed_origins {
            validate_allowed_origin(origin)?;
        }
        self.validate_no_auth_user(&wo.no_auth_user)?;
        if !self.users.is_empty() || !self.nkeys.is_empty() {
            if !wo.username.is_empty() {
                return Err(ValidationError::WebsocketUsernameWithUsers);
            }
            if !wo.token.is_empty() {
                return Err(ValidationError::WebsocketTokenWithUsers);
            }
        }
        if !wo.jwt_cookie.is_empty() && self.operators.is_empty() && self.trusted_keys.is_empty() {
            return Err(ValidationError::JwtCookieWithoutTrust(
                wo.jwt_cookie.clone(),
            ));
        }
        validate_pinned(wo.tls_pinned_certs.iter().flatten())
            .map_err(|e| ValidationError::WebsocketPinnedCert(Box::new(e)))?;
        for (name, _) in &wo.headers {
            validate_custom_header(name)?;
        }
        Ok(())
    }
}

/// Go: `validatePinnedCerts`: each entry, lower-cased, is 64 hex digits.
fn validate_pinned<'a>(pinned: impl Iterator<Item = &'a String>) -> Result<(), ValidationError> {
    for entry in pinned {
        let lower = entry.to_lowercase();
        if lower.len() != 64
            || !lower
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ValidationError::PinnedCert(lower));
        }
    }
    Ok(())
}
