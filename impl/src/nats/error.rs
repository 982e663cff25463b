//! Protocol errors: what the parser or a connection refuses, with Go's texts.

/// A client protocol error. Display is the Go log text; [`NatsError::client_text`] is what
/// goes to the client in `-ERR '...'` (if anything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// An operation name the server does not know, or bytes where none fit.
    /// Go: `parseErr` in `parser.go`.
    #[error("{kind} parser ERROR, state={state}, i={index}: proto={snippet}...")]
    UnknownOperation {
        /// Whose parser: `Client` or `Leafnode` (Go: `kindString`).
        kind: &'static str,
        /// Parser state (ours, not Go's numbering).
        state: u8,
        /// Offset in the buffer given to the parser.
        index: usize,
        /// Go-quoted bytes from the error position.
        snippet: String,
    },
    /// An announced payload above `max_payload`. Go: `maxPayloadViolation`.
    #[error("maximum payload exceeded: {size} vs {max}")]
    MaxPayload {
        /// Announced size.
        size: i64,
        /// The limit.
        max: i64,
    },
    /// A control line above `max_control_line`. Go: `ErrMaxControlLine`.
    #[error("maximum control line exceeded")]
    MaxControlLine,
    /// Arguments that do not parse (Go: `processPub Parse Error: %q` and friends; no
    /// `-ERR` is sent, the connection closes as a protocol violation).
    #[error("{0}")]
    Args(String),
    /// A CONNECT whose JSON does not parse.
    #[error("{0}")]
    Connect(String),
    /// `HPUB` from a client that did not send `"headers": true` (no `-ERR`; a protocol
    /// violation). Go: `ErrMsgHeadersNotSupported`.
    #[error("message headers not supported")]
    HeadersNotSupported,
}

impl NatsError {
    /// The `-ERR` text sent before closing, if Go sends one.
    pub fn client_text(&self) -> Option<&'static str> {
        match self {
            NatsError::UnknownOperation { .. } => Some("Unknown Protocol Operation"),
            NatsError::MaxPayload { .. } => Some("Maximum Payload Violation"),
            NatsError::MaxControlLine => Some("maximum control line exceeded"),
            NatsError::Args(_) | NatsError::Connect(_) | NatsError::HeadersNotSupported => None,
        }
    }

    /// Why the connection closes. Go: `MaxPayloadExceeded`, `MaxControlLineExceeded`,
    /// otherwise `ProtocolViolation` (the read loop's default).
    pub fn closed_state(&self) -> crate::frame::ClosedState {
        use crate::frame::ClosedState;
        match self {
            NatsError::MaxPayload { .. } => ClosedState::MaxPayloadExceeded,
            NatsError::MaxControlLine => ClosedState::MaxControlLineExceeded,
            NatsError::UnknownOperation { .. }
            | NatsError::Args(_)
            | NatsError::Connect(_)
            | NatsError::HeadersNotSupported => ClosedState::ProtocolViolation,
        }
    }
}
