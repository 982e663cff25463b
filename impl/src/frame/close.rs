//! Close frames: status validity, payload parsing, the 125-byte truncation rule, and the
//! mapping from why a connection closed to the status and text it sends.

use crate::frame::FrameError;

/// A close status code (RFC 6455 §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: read/write errors, stale connections, shutdown.
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: every frame rule violation, parse errors.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1005: reserved, never sent; what an empty close means.
    pub const NO_STATUS_RECEIVED: CloseCode = CloseCode(1005);
    /// 1007: invalid UTF-8 in a close reason.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: authentication, slow consumers and the other policy limits.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: maximum payload exceeded.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: every other reason.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1015: reserved, never sent by us on the wire (see [`ClosedState::sends_close_frame`]).
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether a peer may put this status in a close frame. Go: `wsIsValidCloseStatus`:
    /// 1000-1003, 1007-1014 and 3000-4999.
    pub fn is_valid(self) -> bool {
        match self.0 {
            1004..=1006 | 1015 => false,
            1000..=1014 => true,
            1016..=2999 => false,
            3000..=4999 => true,
            _ => false,
        }
    }
}

/// A control frame payload: at most 125 bytes, kept inline (no allocation). For a close
/// frame it is the 2-byte status plus the reason.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ControlPayload {
    buf: [u8; crate::MAX_CONTROL_PAYLOAD_SIZE],
    len: u8,
}

impl ControlPayload {
    /// The empty payload; for a close frame, no status: the reply to an empty close.
    pub const EMPTY: ControlPayload = ControlPayload {
        buf: [0; crate::MAX_CONTROL_PAYLOAD_SIZE],
        len: 0,
    };

    /// Copies `bytes` if they fit in a control frame (at most 125 bytes).
    pub fn new(bytes: &[u8]) -> Option<ControlPayload> {
        let mut out = ControlPayload::EMPTY;
        out.buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
        // Checked above: bytes.len() <= 125.
        out.len = bytes.len() as u8;
        Some(out)
    }

    /// The bytes to put in the frame.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// For a close payload: the status, if there is one.
    pub fn code(&self) -> Option<CloseCode> {
        match self.as_bytes() {
            [a, b, ..] => Some(CloseCode(u16::from_be_bytes([*a, *b]))),
            _ => None,
        }
    }

    /// For a close payload: the reason bytes after the status.
    pub fn reason(&self) -> &[u8] {
        self.as_bytes().get(2..).unwrap_or_default()
    }
}

impl std::fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPayload")
            .field("code", &self.code())
            .field("reason", &String::from_utf8_lossy(self.reason()))
            .finish()
    }
}

/// Builds a close payload: status, then `reason` cut to fit. A reason longer than 123
/// bytes keeps its first 120 bytes and gains `...`. Go: `wsCreateCloseMessage`.
///
/// Go cuts at byte 120 even inside a UTF-8 sequence; we back off to a character
/// boundary so the reason stays valid UTF-8 (RFC 6455 §5.5.1). Identical for ASCII.
pub fn close_message(code: CloseCode, reason: &str) -> ControlPayload {
    const MAX_REASON: usize = crate::MAX_CONTROL_PAYLOAD_SIZE - 2;
    let mut out = ControlPayload::EMPTY;
    out.buf[..2].copy_from_slice(&code.0.to_be_bytes());
    let reason = reason.as_bytes();
    let n = if reason.len() > MAX_REASON {
        let mut cut = MAX_REASON - 3;
        while cut > 0 && reason.get(cut).is_some_and(|b| b & 0xc0 == 0x80) {
            cut -= 1;
        }
        out.buf[2..2 + cut].copy_from_slice(&reason[..cut]);
        out.buf[2 + cut..5 + cut].copy_from_slice(b"...");
        cut + 3
    } else {
        out.buf[2..2 + reason.len()].copy_from_slice(reason);
        reason.len()
    };
    // n <= 123, so the total fits in a u8.
    out.len = (2 + n) as u8;
    out
}

/// Judges a received close payload and returns the payload of the reply.
/// Go: the close branch of `wsHandleControlFrame`:
/// empty → empty (never 1005 on the wire); 1 byte → error; invalid status → error;
/// reason not UTF-8 → 1007 `invalid utf8 body in close frame`; else echo status and reason.
pub fn parse_close_payload(payload: &[u8]) -> Result<ControlPayload, FrameError> {
    match payload {
        [] => Ok(ControlPayload::EMPTY),
        [_] => Err(FrameError::CloseOneByte),
        [a, b, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*a, *b]));
            if !code.is_valid() {
                return Err(FrameError::InvalidCloseStatus(code.0));
            }
            match std::str::from_utf8(reason) {
                Ok(text) => Ok(close_message(code, text)),
                Err(_) => Ok(close_message(
                    CloseCode::INVALID_PAYLOAD,
                    "invalid utf8 body in close frame",
                )),
            }
        }
    }
}

/// Why a connection was closed: the Go server's `ClosedState`, in its numeric order.
/// The Display text is `ClosedState.String()` (server/monitor.go), which is also the
/// reason in the close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClosedState {
    ClientClosed = 1,
    AuthenticationTimeout,
    AuthenticationViolation,
    TlsHandshakeError,
    SlowConsumerPendingBytes,
    SlowConsumerWriteDeadline,
    WriteError,
    ReadError,
    ParseError,
    StaleConnection,
    ProtocolViolation,
    BadClientProtocolVersion,
    WrongPort,
    MaxAccountConnectionsExceeded,
    MaxConnectionsExceeded,
    MaxPayloadExceeded,
    MaxControlLineExceeded,
    MaxSubscriptionsExceeded,
    DuplicateRoute,
    RouteRemoved,
    ServerShutdown,
    AuthenticationExpired,
    WrongGateway,
    MissingAccount,
    Revocation,
    InternalClient,
    MsgHeaderViolation,
    NoRespondersRequiresHeaders,
    ClusterNameConflict,
    DuplicateRemoteLeafnodeConnection,
    DuplicateClientId,
    DuplicateServerName,
    MinimumVersionRequired,
    ClusterNamesIdentical,
    Kicked,
    ProxyNotTrusted,
    ProxyRequired,
}

/// A raw closed-state value with no name, e.g. 254: closes 1011 `Unknown State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownClosedState(pub u8);

impl ClosedState {
    /// Every state, in numeric order.
    pub const ALL: [ClosedState; 37] = [
        ClosedState::ClientClosed,
        ClosedState::AuthenticationTimeout,
        ClosedState::AuthenticationViolation,
        ClosedState::TlsHandshakeError,
        ClosedState::SlowConsumerPendingBytes,
        ClosedState::SlowConsumerWriteDeadline,
        ClosedState::WriteError,
        ClosedState::ReadError,
        ClosedState::ParseError,
        ClosedState::StaleConnection,
        ClosedState::ProtocolViolation,
        ClosedState::BadClientProtocolVersion,
        ClosedState::WrongPort,
        ClosedState::MaxAccountConnectionsExceeded,
        ClosedState::MaxConnectionsExceeded,
        ClosedState::MaxPayloadExceeded,
        ClosedState::MaxControlLineExceeded,
        ClosedState::MaxSubscriptionsExceeded,
        ClosedState::DuplicateRoute,
        ClosedState::RouteRemoved,
        ClosedState::ServerShutdown,
        ClosedState::AuthenticationExpired,
        ClosedState::WrongGateway,
        ClosedState::MissingAccount,
        ClosedState::Revocation,
        ClosedState::InternalClient,
        ClosedState::MsgHeaderViolation,
        ClosedState::NoRespondersRequiresHeaders,
        ClosedState::ClusterNameConflict,
        ClosedState::DuplicateRemoteLeafnodeConnection,
        ClosedState::DuplicateClientId,
        ClosedState::DuplicateServerName,
        ClosedState::MinimumVersionRequired,
        ClosedState::ClusterNamesIdentical,
        ClosedState::Kicked,
        ClosedState::ProxyNotTrusted,
        ClosedState::ProxyRequired,
    ];

    /// Looks a raw value up; values outside 1..=37 are [`UnknownClosedState`].
    pub fn from_u8(raw: u8) -> Result<ClosedState, UnknownClosedState> {
        usize::from(raw)
            .checked_sub(1)
            .and_then(|i| Self::ALL.get(i).copied())
            .ok_or(UnknownClosedState(raw))
    }

    /// Go's `ClosedState.String()`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedState::ClientClosed => "Client Closed",
            ClosedState::AuthenticationTimeout => "Authentication Timeout",
            ClosedState::AuthenticationViolation => "Authentication Failure",
            ClosedState::TlsHandshakeError => "TLS Handshake Failure",
            ClosedState::SlowConsumerPendingBytes => "Slow Consumer (Pending Bytes)",
            ClosedState::SlowConsumerWriteDeadline => "Slow Consumer (Write Deadline)",
            ClosedState::WriteError => "Write Error",
            ClosedState::ReadError => "Read Error",
            ClosedState::ParseError => "Parse Error",
            ClosedState::StaleConnection => "Stale Connection",
            ClosedState::ProtocolViolation => "Protocol Violation",
            ClosedState::BadClientProtocolVersion => "Bad Client Protocol Version",
            ClosedState::WrongPort => "Incorrect Port",
            ClosedState::MaxAccountConnectionsExceeded => "Maximum Account Connections Exceeded",
            ClosedState::MaxConnectionsExceeded => "Maximum Connections Exceeded",
            ClosedState::MaxPayloadExceeded => "Maximum Message Payload Exceeded",
            ClosedState::MaxControlLineExceeded => "Maximum Control Line Exceeded",
            ClosedState::MaxSubscriptionsExceeded => "Maximum Subscriptions Exceeded",
            ClosedState::DuplicateRoute => "Duplicate Route",
            ClosedState::RouteRemoved => "Route Removed",
            ClosedState::ServerShutdown => "Server Shutdown",
            ClosedState::AuthenticationExpired => "Authentication Expired",
            ClosedState::WrongGateway => "Wrong Gateway",
            ClosedState::MissingAccount => "Missing Account",
            ClosedState::Revocation => "Credentials Revoked",
            ClosedState::InternalClient => "Internal Client",
            ClosedState::MsgHeaderViolation => "Message Header Violation",
            ClosedState::NoRespondersRequiresHeaders => "No Responders Requires Headers",
            ClosedState::ClusterNameConflict => "Cluster Name Conflict",
            ClosedState::DuplicateRemoteLeafnodeConnection => {
                "Duplicate Remote LeafNode Connection"
            }
            ClosedState::DuplicateClientId => "Duplicate Client ID",
            ClosedState::DuplicateServerName => "Duplicate Server Name",
            ClosedState::MinimumVersionRequired => "Minimum Version Required",
            ClosedState::ClusterNamesIdentical => "Cluster Names Identical",
            ClosedState::Kicked => "Kicked",
            ClosedState::ProxyNotTrusted => "Proxy Not Trusted",
            ClosedState::ProxyRequired => "Proxy Required",
        }
    }

    /// The close status for this reason. Go: `wsEnqueueCloseMessage`.
    pub fn close_code(self) -> CloseCode {
        match self {
            ClosedState::ClientClosed => CloseCode::NORMAL,
            ClosedState::AuthenticationTimeout
            | ClosedState::AuthenticationViolation
            | ClosedState::SlowConsumerPendingBytes
            | ClosedState::SlowConsumerWriteDeadline
            | ClosedState::MaxAccountConnectionsExceeded
            | ClosedState::MaxConnectionsExceeded
            | ClosedState::MaxControlLineExceeded
            | ClosedState::MaxSubscriptionsExceeded
            | ClosedState::MissingAccount
            | ClosedState::AuthenticationExpired
            | ClosedState::Revocation => CloseCode::POLICY_VIOLATION,
            ClosedState::TlsHandshakeError => CloseCode::TLS_HANDSHAKE,
            ClosedState::ParseError
            | ClosedState::ProtocolViolation
            | ClosedState::BadClientProtocolVersion => CloseCode::PROTOCOL_ERROR,
            ClosedState::MaxPayloadExceeded => CloseCode::MESSAGE_TOO_BIG,
            ClosedState::WriteError
            | ClosedState::ReadError
            | ClosedState::StaleConnection
            | ClosedState::ServerShutdown => CloseCode::GOING_AWAY,
            ClosedState::WrongPort
            | ClosedState::DuplicateRoute
            | ClosedState::RouteRemoved
            | ClosedState::WrongGateway
            | ClosedState::InternalClient
            | ClosedState::MsgHeaderViolation
            | ClosedState::NoRespondersRequiresHeaders
            | ClosedState::ClusterNameConflict
            | ClosedState::DuplicateRemoteLeafnodeConnection
            | ClosedState::DuplicateClientId
            | ClosedState::DuplicateServerName
            | ClosedState::MinimumVersionRequired
            | ClosedState::ClusterNamesIdentical
            | ClosedState::Kicked
            | ClosedState::ProxyNotTrusted
            | ClosedState::ProxyRequired => CloseCode::INTERNAL_ERROR,
        }
    }

    /// The close payload for this reason: status plus `as_str()`.
    pub fn close_payload(self) -> ControlPayload {
        close_message(self.close_code(), self.as_str())
    }

    /// Whether a connection closed for this reason still gets a close frame. Go skips the
    /// flush for transport failures and slow consumers (`skipFlushOnClose`): the socket is
    /// broken or saturated, so nothing more is written. That is also why 1015 never
    /// reaches the wire (RFC 6455 §7.4.1 forbids sending it).
    pub fn sends_close_frame(self) -> bool {
        !matches!(
            self,
            ClosedState::ReadError
                | ClosedState::WriteError
                | ClosedState::SlowConsumerPendingBytes
                | ClosedState::SlowConsumerWriteDeadline
                | ClosedState::TlsHandshakeError
        )
    }
}

impl std::fmt::Display for ClosedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl UnknownClosedState {
    /// Go's `default:` arm: 1011 with `Unknown State`.
    pub fn close_payload(self) -> ControlPayload {
        close_message(CloseCode::INTERNAL_ERROR, "Unknown State")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_matches_go() {
        let valid = |c: u16| CloseCode(c).is_valid();
        for c in 0..=u16::MAX {
            let go = !matches!(c, 1005 | 1004 | 1006 | 1015)
                && (1000..5000).contains(&c)
                && !(1016..=2999).contains(&c);
            assert_eq!(valid(c), go, "{c}");
        }
    }

    #[test]
    fn truncation_keeps_utf8_valid() {
        let reason = "é".repeat(100);
        let p = close_message(CloseCode::NORMAL, &reason);
        assert!(p.as_bytes().len() <= 125);
        let text = std::str::from_utf8(p.reason()).map(str::to_owned);
        assert!(text.is_ok_and(|t| t.ends_with("...")));
    }

    #[test]
    fn raw_values_round_trip() {
        for (i, s) in ClosedState::ALL.iter().enumerate() {
            assert_eq!(ClosedState::from_u8(i as u8 + 1), Ok(*s));
            assert_eq!(*s as u8, i as u8 + 1);
        }
        assert_eq!(ClosedState::from_u8(0), Err(UnknownClosedState(0)));
        assert_eq!(ClosedState::from_u8(254), Err(UnknownClosedState(254)));
    }
}
