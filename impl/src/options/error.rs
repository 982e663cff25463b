//! Option errors and warnings with Go's texts and `file:line:pos` prefixes.

use std::fmt;

use super::conf::{Kind, ParseError, Pos, Value};
use super::duration::DurationError;
use crate::goquote::quote;

/// Why a configuration was rejected: the whole-file error of `ServerOpts::from_file`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file is not valid configuration syntax.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The syntax is fine but options are wrong (Go: `processConfigErr`).
    #[error(transparent)]
    Invalid(#[from] ProcessErrors),
}

/// Every option error and warning of a file (Go: `processConfigErr`). Displayed like Go:
/// warnings first, then errors, each followed by a new line.
#[derive(Clone, Debug, Default, PartialEq, thiserror::Error)]
pub struct ProcessErrors {
    /// Warnings, which alone do not reject a file.
    pub warnings: Vec<OptionError>,
    /// Errors.
    pub errors: Vec<OptionError>,
}

impl fmt::Display for ProcessErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.warnings.iter().chain(&self.errors) {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

/// One option error or warning (Go: `configErr`, `unknownConfigFieldErr`,
/// `configWarningErr`): `file:line:pos: reason`, or the bare reason without a position.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct OptionError {
    /// Where the offending key (or array element) is written.
    pub pos: Option<Pos>,
    /// What is wrong.
    pub reason: Reason,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

impl OptionError {
    /// An error at `value`'s position.
    pub fn at(value: &Value, reason: Reason) -> Self {
        Self {
            pos: Some(value.pos.clone()),
            reason,
        }
    }
}

/// The reason texts, Go's literally.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// A Go type assertion panic, recovered into an error (e.g. `port: "abc"`).
    #[error("interface conversion: interface {{}} is {got}, not {want}")]
    TypeAssertion {
        /// Go type of the value found.
        got: &'static str,
        /// Go type the option needs.
        want: &'static str,
    },
    /// Go dereferences the nil result of a block whose parsing panicked.
    #[error("runtime error: invalid memory address or nil pointer dereference")]
    NilDereference,
    /// A key the block does not know (Go: `unknownConfigFieldErr`).
    #[error("unknown field {}", quote(.0))]
    UnknownField(String),
    /// Go: `configWarningErr`.
    #[error("invalid use of field {}: {reason}", quote(field))]
    InvalidUse {
        /// The key.
        field: String,
        /// Why.
        reason: String,
    },
    /// A block that must be a map (`Expected websocket to be a map, got %T`).
    #[error("Expected {what} to be a map, got {got}")]
    ExpectedMap {
        /// Block name.
        what: &'static str,
        /// Go type found.
        got: &'static str,
    },
    /// Go: parseListen.
    #[error("expected port or host:port, got {0}")]
    ListenType(&'static str),
    /// Go: parseListen, `net.SplitHostPort` failed.
    #[error("could not parse address string {}", quote(.0))]
    ListenAddress(String),
    /// Go: parseListen, `strconv.Atoi` failed.
    #[error("could not parse port {}", quote(.0))]
    ListenPort(String),
    /// Go: parseStringArray and friends (`error parsing allowed origins: unsupported type %T`).
    #[error("error parsing {field}: unsupported type {got}")]
    UnsupportedType {
        /// Go's field description, e.g. `allowed origins`, `handshake timeout`, `headers`.
        field: &'static str,
        /// Go type found.
        got: &'static str,
    },
    /// Go: parseStringArray (`... unsupported type in array %T`).
    #[error("error parsing {field}: unsupported type in array {got}")]
    UnsupportedTypeInArray {
        /// Go's field description.
        field: &'static str,
        /// Go type found.
        got: &'static str,
    },
    /// Go: parseWebsocket headers (`error parsing header key %s: unsupported type %T`).
    #[error("error parsing header key {key}: unsupported type {got}")]
    HeaderValue {
        /// Header name.
        key: String,
        /// Go type found.
        got: &'static str,
    },
    /// A bare `time.ParseDuration` error (websocket `handshake_timeout`).
    #[error(transparent)]
    Duration(DurationError),
    /// Go: parseDuration (`error parsing ping_interval: time: invalid duration "x"`).
    #[error("error parsing {field}: {source}")]
    FieldDuration {
        /// The key.
        field: String,
        /// The parse error.
        source: DurationError,
    },
    /// Go: GenTLSConfig.
    #[error("missing 'key_file' in TLS configuration")]
    MissingKeyFile,
    /// Go: GenTLSConfig.
    #[error("missing 'cert_file' in TLS configuration")]
    MissingCertFile,
    /// Go: parseTLS, `verify_cert_and_check_known_urls: true` in a client-facing block.
    #[error("verify_cert_and_check_known_urls not supported in this context")]
    CheckKnownUrlsNotSupported,
    /// Go: parseTLS pinned_certs entry check (the entry is lowercased first).
    #[error(
        "error parsing tls config, 'pinned_certs' key {0} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo"
    )]
    PinnedCert(String),
    /// Go: convertAllowedConnectionTypes (`invalid connection types ["FOO"]`, Go's `%q` of a slice).
    #[error("invalid connection types [{}]", .0.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" "))]
    ConnectionTypes(Vec<String>),
    /// One of Go's other fixed or formatted texts (TLS, authorization, accounts, ...).
    #[error("{0}")]
    Message(String),
    /// Ours only: a key of a subsystem this server does not implement, accepted without
    /// effect (docs/CONFORMANCE.md, "Accepted and ignored"). Go has no such warning.
    #[error("field {} is not supported by this server and is ignored", quote(.0))]
    Ignored(String),
    /// Ours only: a setting this server accepts but does not honour, worded like Go's
    /// `configWarningErr`. Go has no such warning.
    #[error("invalid use of field {}: {reason}", quote(field))]
    NotHonoured {
        /// The key.
        field: String,
        /// Why.
        reason: String,
    },
}

impl Reason {
    /// Whether Go reports this too; ours-only notices ([`Reason::Ignored`],
    /// [`Reason::NotHonoured`]) are not Go's and do not fail `-t`.
    pub fn is_go(&self) -> bool {
        !matches!(self, Reason::Ignored(_) | Reason::NotHonoured { .. })
    }

    /// A [`Reason::Message`].
    pub(crate) fn msg(text: impl Into<String>) -> Self {
        Reason::Message(text.into())
    }
}

/// A recovered Go panic: the error Go's deferred `convertPanicToErrorList` records and
/// the end of the block that panicked.
#[derive(Debug)]
pub(crate) struct Abort(pub(crate) OptionError);

/// Errors and warnings collected while building options.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub(crate) errors: Vec<OptionError>,
    pub(crate) warnings: Vec<OptionError>,
}

impl Diagnostics {
    pub(crate) fn error(&mut self, value: &Value, reason: Reason) {
        self.errors.push(OptionError::at(value, reason));
    }

    /// An error Go reports without a position (its token was lost on the way).
    pub(crate) fn error_unplaced(&mut self, reason: Reason) {
        self.errors.push(OptionError { pos: None, reason });
    }

    pub(crate) fn warn(&mut self, value: &Value, reason: Reason) {
        self.warnings.push(OptionError::at(value, reason));
    }

    /// Records the panic of a block that aborted (Go: `convertPanicToErrorList`).
    pub(crate) fn recover<T>(&mut self, result: Result<T, Abort>) -> Option<T> {
        match result {
            Ok(t) => Some(t),
            Err(Abort(e)) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// A security setting this server does not enforce (permissions, auth callout):
    /// refused, because running without it would grant more than the configuration says.
    /// An empty map or list restricts nothing and is accepted.
    pub(crate) fn unenforced(&mut self, key: &str, value: &Value) {
        let empty = match &value.kind {
            Kind::Map(m) => m.is_empty(),
            Kind::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            self.error(
                value,
                Reason::msg(format!(
                    "field {} is not supported by this server, which would not enforce it",
                    quote(key)
                )),
            );
        }
    }

    /// Go's `default:` arms that word their own error (`Unknown field "x" parsing
    /// permissions`); like [`Diagnostics::unknown_field`], silent for a key that came
    /// from a variable.
    pub(crate) fn unknown_field_text(&mut self, value: &Value, text: String) {
        if !value.used_variable {
            self.error(value, Reason::msg(text));
        }
    }

    /// Go: the `default:` arm of the option switches.
    pub(crate) fn unknown_field(&mut self, key: &str, value: &Value) {
        if !value.used_variable {
            self.error(value, Reason::UnknownField(key.to_owned()));
        }
    }
}
