//! Frame opcodes (RFC 6455 §5.2) as a type; conversion from the wire never panics.

/// The opcodes RFC 6455 defines. Reserved values (3-7, 11-15) are not representable:
/// [`OpCode::try_from`] returns them as the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpCode {
    /// 0: continues a fragmented message.
    Continuation,
    /// 1: text. NATS treats it exactly like binary: both carry protocol bytes.
    Text,
    /// 2: binary. The server always sends this one.
    Binary,
    /// 8: close.
    Close,
    /// 9: ping.
    Ping,
    /// 10: pong.
    Pong,
}

impl OpCode {
    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0,
            OpCode::Text => 1,
            OpCode::Binary => 2,
            OpCode::Close => 8,
            OpCode::Ping => 9,
            OpCode::Pong => 10,
        }
    }

    /// Close, ping and pong. Go: `wsIsControlFrame`.
    pub fn is_control(self) -> bool {
        is_control(self.as_u8())
    }

    /// The name used in fixtures and transcripts.
    pub fn name(self) -> &'static str {
        match self {
            OpCode::Continuation => "continuation",
            OpCode::Text => "text",
            OpCode::Binary => "binary",
            OpCode::Close => "close",
            OpCode::Ping => "ping",
            OpCode::Pong => "pong",
        }
    }
}

/// Whether a raw 4-bit opcode is in the control range (8-15). Go: `wsIsControlFrame`
/// (`frameType >= wsCloseMessage`), which also counts the reserved control opcodes.
pub fn is_control(raw: u8) -> bool {
    raw & 0x0f >= 8
}

impl TryFrom<u8> for OpCode {
    type Error = u8;

    /// Reads the low four bits; a reserved opcode comes back as `Err(raw)`.
    fn try_from(raw: u8) -> Result<Self, u8> {
        match raw & 0x0f {
            0 => Ok(OpCode::Continuation),
            1 => Ok(OpCode::Text),
            2 => Ok(OpCode::Binary),
            8 => Ok(OpCode::Close),
            9 => Ok(OpCode::Ping),
            10 => Ok(OpCode::Pong),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_converts_without_panicking() {
        for raw in 0..=u8::MAX {
            match OpCode::try_from(raw) {
                Ok(op) => assert_eq!(op.as_u8(), raw & 0x0f),
                Err(r) => assert!(matches!(r, 3..=7 | 11..=15)),
            }
        }
    }
}
