//! RFC 6455 frames: opcodes, headers, masking and close payloads, with the Go server's rules.

mod close;
mod header;
mod mask;
mod opcode;
mod writer;

pub use close::{
    CloseCode, ClosedState, ControlPayload, UnknownClosedState, close_message, parse_close_payload,
};
pub use header::{FrameHeader, HeaderRules, LengthEncoding};
pub use mask::{MaskCursor, apply_mask, apply_mask_naive};
pub use opcode::{OpCode, is_control};
pub use writer::{Frame, Malformed};

/// A protocol violation found while reading frames. Every variant is answered with a close
/// frame (status [`FrameError::close_code`], body = the Display text) and ends the read side.
///
/// Display texts are the Go server's, byte for byte (`wsHandleProtocolError` callers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// RSV2 or RSV3 set: no extension we negotiate defines them (RFC 6455 §5.2).
    #[error("RSV2 and RSV3 must be clear")]
    ReservedBitsSet,
    /// RSV1 set while permessage-deflate was not negotiated (RFC 7692 §6).
    #[error("compressed frame received without negotiated permessage-deflate")]
    CompressionNotNegotiated,
    /// A client frame without a masking key (RFC 6455 §5.1).
    #[error("mask bit missing")]
    MaskBitMissing,
    /// Control frame payload announced above 125 bytes (RFC 6455 §5.5).
    #[error("control frame length bigger than maximum allowed of 125 bytes")]
    ControlFrameTooLong,
    /// Fragmented control frame (RFC 6455 §5.5).
    #[error("control frame does not have final bit set")]
    ControlFrameNotFinal,
    /// RSV1 on a control frame (RFC 7692 §6.1).
    #[error("control frame must not be compressed")]
    ControlFrameCompressed,
    /// A text or binary frame while a fragmented message is still open (RFC 6455 §5.4).
    #[error("new message started before final frame for previous message was received")]
    MessageNotFinished,
    /// A continuation frame with no message to continue, or carrying RSV1 (RFC 7692 §6.1).
    #[error("invalid continuation frame")]
    InvalidContinuation,
    /// Opcodes 3-7 and 11-15 (RFC 6455 §5.2).
    #[error("unknown opcode {0}")]
    UnknownOpcode(u8),
    /// A 64-bit length with the most significant bit set (RFC 6455 §5.2; CVE-2026-27889).
    #[error("invalid 64-bit payload length")]
    InvalidPayloadLength,
    /// A close payload must be empty or hold at least the 2-byte status (RFC 6455 §5.5.1).
    #[error("close frame payload cannot be 1 byte")]
    CloseOneByte,
    /// A close status that may not appear on the wire (RFC 6455 §7.4). Go: `wsIsValidCloseStatus`.
    #[error("invalid close status code {0}")]
    InvalidCloseStatus(u16),
}

impl FrameError {
    /// One value of every variant, for the golden error table. The match below has no
    /// wildcard, so a new variant does not compile until it is listed here too.
    #[doc(hidden)]
    pub fn examples() -> Vec<FrameError> {
        let all = vec![
            FrameError::ReservedBitsSet,
            FrameError::CompressionNotNegotiated,
            FrameError::MaskBitMissing,
            FrameError::ControlFrameTooLong,
            FrameError::ControlFrameNotFinal,
            FrameError::ControlFrameCompressed,
            FrameError::MessageNotFinished,
            FrameError::InvalidContinuation,
            FrameError::UnknownOpcode(11),
            FrameError::InvalidPayloadLength,
            FrameError::CloseOneByte,
            FrameError::InvalidCloseStatus(1005),
        ];
        for e in &all {
            match e {
                FrameError::ReservedBitsSet
                | FrameError::CompressionNotNegotiated
                | FrameError::MaskBitMissing
                | FrameError::ControlFrameTooLong
                | FrameError::ControlFrameNotFinal
                | FrameError::ControlFrameCompressed
                | FrameError::MessageNotFinished
                | FrameError::InvalidContinuation
                | FrameError::UnknownOpcode(_)
                | FrameError::InvalidPayloadLength
                | FrameError::CloseOneByte
                | FrameError::InvalidCloseStatus(_) => {}
            }
        }
        all
    }

    /// The status of the close frame that answers this error. Go: `wsHandleProtocolError`.
    pub fn close_code(&self) -> CloseCode {
        match self {
            FrameError::ReservedBitsSet
            | FrameError::CompressionNotNegotiated
            | FrameError::MaskBitMissing
            | FrameError::ControlFrameTooLong
            | FrameError::ControlFrameNotFinal
            | FrameError::ControlFrameCompressed
            | FrameError::MessageNotFinished
            | FrameError::InvalidContinuation
            | FrameError::UnknownOpcode(_)
            | FrameError::InvalidPayloadLength
            | FrameError::CloseOneByte
            | FrameError::InvalidCloseStatus(_) => CloseCode::PROTOCOL_ERROR,
        }
    }
}
