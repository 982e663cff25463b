//! The `tls {}` block (Go: `parseTLS` and the checks of `GenTLSConfig`), kept as paths and flags.

use std::collections::BTreeSet;

use super::access::{as_array, as_map, as_str};
use super::conf::{Kind, Value};
use super::duration::parse_duration;
use super::error::{Abort, OptionError, Reason};

/// A `tls {}` block. Certificates are not loaded here: that is the TLS layer's job, and
/// Go's load errors (`error parsing X509 certificate/key pair: ...`) are not produced.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// `cert_file`.
    pub cert_file: String,
    /// `key_file`.
    pub key_file: String,
    /// `ca_file`.
    pub ca_file: String,
    /// `insecure`.
    pub insecure: bool,
    /// `verify`, also set by `verify_and_map: true` and `verify_cert_and_check_known_urls: true`.
    pub verify: bool,
    /// `verify_and_map` (Go: `TLSConfigOpts.Map`).
    pub map: bool,
    /// `verify_cert_and_check_known_urls`.
    pub check_known_urls: bool,
    /// `allow_insecure_cipher_suites`.
    pub allow_insecure_ciphers: bool,
    /// `timeout` in seconds (int, float or duration string).
    pub timeout: f64,
    /// `connection_rate_limit`.
    pub rate_limit: i64,
    /// `pinned_certs`: lower-case hex SHA-256 digests; `None` when absent or empty.
    pub pinned_certs: Option<BTreeSet<String>>,
    /// `cipher_suites` names, unvalidated (Go checks them against its cipher table).
    pub cipher_suites: Vec<String>,
    /// `curve_preferences` names, unvalidated.
    pub curve_preferences: Vec<String>,
    /// `min_version`, unvalidated.
    pub min_version: Option<String>,
    /// `handshake_first` / `first` / `immediate` as a bool or string.
    pub handshake_first: Option<Value>,
    /// Keys Go knows that this server only keeps (`cert_store`, `cert_match_by`,
    /// `cert_match`, `ca_certs_match`, `cert_match_skip_invalid`, `ocsp_peer`,
    /// `certs`/`certificates`), in file order.
    pub other: Vec<(String, Value)>,
}

impl TlsConfig {
    /// Go: `TLSConfigOpts.HandshakeFirst`: `handshake_first` is `true`, or a string other
    /// than `false`/`off` (`true`, `on`, `auto`, or a fallback delay).
    pub fn handshake_first(&self) -> bool {
        match self.handshake_first.as_ref().map(|v| &v.kind) {
            Some(Kind::Bool(b)) => *b,
            Some(Kind::String(s)) => !matches!(s.to_lowercase().as_str(), "false" | "off"),
            _ => false,
        }
    }
}

/// Parses a `tls` value (Go: `parseTLS(v, isClientCtx)` then GenTLSConfig's file checks).
/// `client_facing` rejects `verify_cert_and_check_known_urls: true`, as Go does for the
/// client, websocket and MQTT listeners.
pub fn parse_tls(value: &Value, client_facing: bool) -> Result<TlsConfig, OptionError> {
    let tc = parse_fields(value, client_facing).map_err(|Abort(e)| e)?;
    // Go: GenTLSConfig, reported at the `tls` key.
    if !tc.cert_file.is_empty() && tc.key_file.is_empty() {
        return Err(OptionError::at(value, Reason::MissingKeyFile));
    }
    if tc.cert_file.is_empty() && !tc.key_file.is_empty() {
        return Err(OptionError::at(value, Reason::MissingCertFile));
    }
    Ok(tc)
}

fn fail(value: &Value, text: impl Into<String>) -> Abort {
    Abort(OptionError::at(value, Reason::msg(text)))
}

fn tls_bool(value: &Value, key: &str) -> Result<bool, Abort> {
    match value.kind {
        Kind::Bool(b) => Ok(b),
        _ => Err(fail(
            value,
            format!("error parsing tls config, expected '{key}' to be a boolean"),
        )),
    }
}

fn tls_file(value: &Value, key: &str) -> Result<String, Abort> {
    match &value.kind {
        Kind::String(s) => Ok(s.clone()),
        _ => Err(fail(
            value,
            format!("error parsing tls config, expected '{key}' to be filename"),
        )),
    }
}

fn string_list(value: &Value, key: &str) -> Result<Vec<String>, Abort> {
    let values = as_array(value)?;
    if values.is_empty() {
        return Err(fail(
            value,
            format!("error parsing tls config, '{key}' cannot be empty"),
        ));
    }
    values
        .iter()
        .map(|v| as_str(v).map(str::to_owned))
        .collect()
}

// Go: parseTLS
fn parse_fields(value: &Value, client_facing: bool) -> Result<TlsConfig, Abort> {
    let mut tc = TlsConfig::default();
    for (key, v) in as_map(value)? {
        let lower = key.to_lowercase();
        match lower.as_str() {
            "cert_file" => tc.cert_file = tls_file(v, "cert_file")?,
            "key_file" => tc.key_file = tls_file(v, "key_file")?,
            "ca_file" => tc.ca_file = tls_file(v, "ca_file")?,
            "insecure" => tc.insecure = tls_bool(v, "insecure")?,
            "verify" => tc.verify = tls_bool(v, "verify")?,
            "verify_and_map" => {
                let verify = tls_bool(v, "verify_and_map")?;
                tc.verify |= verify;
                tc.map = verify;
            }
            "verify_cert_and_check_known_urls" => {
                let verify = tls_bool(v, "verify_cert_and_check_known_urls")?;
                if verify && client_facing {
                    return Err(Abort(OptionError::at(
                        v,
                        Reason::CheckKnownUrlsNotSupported,
                    )));
                }
                tc.verify |= verify;
                tc.check_known_urls = verify;
            }
            "allow_insecure_cipher_suites" => {
                tc.allow_insecure_ciphers = tls_bool(v, "allow_insecure_cipher_suites")?;
            }
            "cipher_suites" => tc.cipher_suites = string_list(v, "cipher_suites")?,
            "curve_preferences" => tc.curve_preferences = string_list(v, "curve_preferences")?,
            "timeout" => {
                tc.timeout = match &v.kind {
                    #[allow(clippy::cast_precision_loss)]
                    Kind::Integer(n) => *n as f64,
                    Kind::Float(f) => *f,
                    Kind::String(s) => {
                        let d = parse_duration(s).map_err(|e| {
                            fail(v, format!("error parsing tls config, 'timeout' {e}"))
                        })?;
                        #[allow(clippy::cast_precision_loss)]
                        let secs = d.0 as f64 / 1e9;
                        secs
                    }
                    _ => return Err(fail(v, "error parsing tls config, 'timeout' wrong type")),
                };
            }
            "connection_rate_limit" => match v.kind {
                Kind::Integer(n) => tc.rate_limit = n,
                _ => {
                    return Err(fail(
                        v,
                        "error parsing tls config, 'connection_rate_limit' wrong type",
                    ));
                }
            },
            "pinned_certs" => tc.pinned_certs = pinned_certs(v)?,
            "min_version" => match &v.kind {
                Kind::String(s) => tc.min_version = Some(s.clone()),
                _ => {
                    return Err(fail(
                        v,
                        format!(
                            "error parsing tls config: 'min_version' wrong type: {}",
                            go_value(v)
                        ),
                    ));
                }
            },
            "handshake_first" | "first" | "immediate" => match &v.kind {
                Kind::Bool(_) | Kind::String(_) => tc.handshake_first = Some(v.clone()),
                other => {
                    return Err(fail(
                        v,
                        format!(
                            "field {} should be a boolean or a string, got {}",
                            crate::goquote::quote(key),
                            other.go_type()
                        ),
                    ));
                }
            },
            "cert_store"
            | "cert_match_by"
            | "cert_match"
            | "ca_certs_match"
            | "cert_match_skip_invalid"
            | "ocsp_peer"
            | "certs"
            | "certificates" => {
                tc.other.push((key.to_owned(), v.clone()));
            }
            _ => {
                return Err(fail(
                    v,
                    format!(
                        "error parsing tls config, unknown field {}",
                        crate::goquote::quote(key)
                    ),
                ));
            }
        }
    }
    if !tc.cert_file.is_empty()
        && tc
            .other
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("certs") || k.eq_ignore_ascii_case("certificates"))
    {
        return Err(fail(
            value,
            "error parsing tls config, cannot combine 'cert_file' option with 'certs' option",
        ));
    }
    Ok(tc)
}

// Go: the pinned_certs case of parseTLS.
fn pinned_certs(value: &Value) -> Result<Option<BTreeSet<String>>, Abort> {
    let Kind::Array(entries) = &value.kind else {
        return Err(fail(
            value,
            "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
        ));
    };
    if entries.is_empty() {
        return Ok(None);
    }
    let mut set = BTreeSet::new();
    for entry in entries {
        let lower = as_str(entry)?.to_lowercase();
        if lower.len() != 64 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Abort(OptionError::at(entry, Reason::PinnedCert(lower))));
        }
        set.insert(lower);
    }
    Ok(Some(set))
}

/// Go's `%v` of a scalar config value.
fn go_value(value: &Value) -> String {
    match &value.kind {
        Kind::String(s) => s.clone(),
        Kind::Integer(n) => n.to_string(),
        Kind::Float(f) => super::access::go_float(*f),
        Kind::Bool(b) => b.to_string(),
        Kind::Datetime(d) => d.to_string(),
        Kind::Array(_) | Kind::Map(_) => value.kind.go_type().to_owned(),
    }
}
