//! Building the handshake configuration from the `websocket {}` options.

use crate::handshake::{
    CookieNames, CustomHeaders, HandshakeConfig, HeaderConfigError, OriginPolicy, RequestLimits,
};
use crate::options::WebsocketOpts;

impl HandshakeConfig {
    /// The handshake configuration for a websocket listener. Go: `wsSetOriginOptions`
    /// and `wsSetHeadersOptions` at start-up. Returns the configuration and the lines Go
    /// logs at error level for allowed origins that do not parse (those are skipped).
    pub fn from_opts(
        ws: &WebsocketOpts,
        mqtt_enabled: bool,
    ) -> Result<(HandshakeConfig, Vec<String>), HeaderConfigError> {
        let (origin, logs) = OriginPolicy::new(ws.same_origin, &ws.allowed_origins);
        let headers = CustomHeaders::new(ws.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let name = |s: &String| (!s.is_empty()).then(|| s.clone());
        let config = HandshakeConfig {
            compression: ws.compression,
            origin,
            headers,
            mqtt_enabled,
            accept_no_masking: true,
            cookie_names: CookieNames {
                jwt: name(&ws.jwt_cookie),
                username: name(&ws.username_cookie),
                password: name(&ws.password_cookie),
                token: name(&ws.token_cookie),
            },
            tls: ws.tls.is_some(),
            handshake_timeout: if ws.handshake_timeout.is_zero() {
                None
            } else {
                ws.handshake_timeout.to_std()
            },
            limits: RequestLimits::default(),
        };
        Ok((config, logs))
    }
}
