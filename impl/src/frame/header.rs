//! Frame header parse and encode: 7/16/64-bit lengths, masking key, Go's check order.

use crate::frame::{FrameError, OpCode};
use crate::policy::{Compression, MaskPolicy};

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;
const RSV2_RSV3: u8 = 0x30;
const MASK: u8 = 0x80;

/// One decoded frame header. Only headers that pass every rule can be built by
/// [`FrameHeader::parse`]; [`FrameHeader::encode`] writes any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: last frame of a message.
    pub fin: bool,
    /// RSV1: first frame of a compressed message (RFC 7692 §6).
    pub rsv1: bool,
    /// The frame's opcode.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length; at most 2^63 - 1 (checked on parse).
    pub payload_len: u64,
}

/// The connection state a header is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRules {
    /// Whether the MASK bit is required.
    pub mask: MaskPolicy,
    /// Whether RSV1 is allowed (on the first frame of a data message).
    pub compression: Compression,
    /// A fragmented data message is open: the next data frame must be a continuation.
    pub in_message: bool,
}

/// How the payload length is written. Receivers accept all three (RFC 6455 §5.2 only
/// constrains senders to the minimal form, which is what we send).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LengthEncoding {
    /// 7 bits up to 125, 16 bits below 65536, 64 bits above.
    #[default]
    Minimal,
    /// Always the 16-bit form (lengths above 65535 fall back to 64 bits).
    Extended16,
    /// Always the 64-bit form.
    Extended64,
}

impl FrameHeader {
    /// Parses a header from the start of `bytes`, checking Go's rules in Go's order
    /// (`wsReadLoop`): RSV2/RSV3, RSV1 without compression, MASK, the opcode rules,
    /// then the 64-bit length. An error is reported as soon as the bytes present
    /// decide it, so feeding the same bytes in any split yields the same result.
    ///
    /// Returns `Ok(None)` when more bytes are needed, else the header and its size.
    pub fn parse(
        bytes: &[u8],
        rules: HeaderRules,
    ) -> Result<Option<(FrameHeader, usize)>, FrameError> {
        let Some(&b0) = bytes.first() else {
            return Ok(None);
        };
        let fin = b0 & FIN != 0;
        let rsv1 = b0 & RSV1 != 0;
        if b0 & RSV2_RSV3 != 0 {
            return Err(FrameError::ReservedBitsSet);
        }
        if rsv1 && rules.compression == Compression::Off {
            return Err(FrameError::CompressionNotNegotiated);
        }
        let Some(&b1) = bytes.get(1) else {
            return Ok(None);
        };
        let masked = b1 & MASK != 0;
        if rules.mask == MaskPolicy::Required && !masked {
            return Err(FrameError::MaskBitMissing);
        }
        let len7 = b1 & 0x7f;
        let opcode = OpCode::try_from(b0).map_err(FrameError::UnknownOpcode)?;
        match opcode {
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                if usize::from(len7) > crate::MAX_CONTROL_PAYLOAD_SIZE {
                    return Err(FrameError::ControlFrameTooLong);
                }
                if !fin {
                    return Err(FrameError::ControlFrameNotFinal);
                }
                if rsv1 {
                    return Err(FrameError::ControlFrameCompressed);
                }
            }
            OpCode::Text | OpCode::Binary => {
                if rules.in_message {
                    return Err(FrameError::MessageNotFinished);
                }
            }
            OpCode::Continuation => {
                if !rules.in_message || rsv1 {
                    return Err(FrameError::InvalidContinuation);
                }
            }
        }
        let (payload_len, mut at) = match len7 {
            126 => match bytes.get(2..4) {
                Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
                _ => return Ok(None),
            },
            127 => match bytes.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
                Some(raw) => {
                    let len = u64::from_be_bytes(raw);
                    if len & (1 << 63) != 0 {
                        return Err(FrameError::InvalidPayloadLength);
                    }
                    (len, 10)
                }
                None => return Ok(None),
            },
            short => (u64::from(short), 2),
        };
        // RFC 6455 §5.2: the MASK bit says whether a key is present. We honour it even
        // under `Nats-No-Masking` (Go ignores the bit there and misreads the key as payload).
        let mask = if masked {
            match bytes
                .get(at..at + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
            {
                Some(key) => {
                    at += 4;
                    Some(key)
                }
                None => return Ok(None),
            }
        } else {
            None
        };
        Ok(Some((
            FrameHeader {
                fin,
                rsv1,
                opcode,
                mask,
                payload_len,
            },
            at,
        )))
    }

    /// Writes the header with the minimal length form. Go: `wsFillFrameHeader`.
    pub fn encode(&self, out: &mut [u8; crate::MAX_FRAME_HEADER_SIZE]) -> usize {
        self.encode_with(LengthEncoding::Minimal, out)
    }

    /// Writes the header with the given length form; returns the header size (2 to 14).
    pub fn encode_with(
        &self,
        encoding: LengthEncoding,
        out: &mut [u8; crate::MAX_FRAME_HEADER_SIZE],
    ) -> usize {
        let mut b0 = self.opcode.as_u8();
        if self.fin {
            b0 |= FIN;
        }
        if self.rsv1 {
            b0 |= RSV1;
        }
        let mask_bit = if self.mask.is_some() { MASK } else { 0 };
        out[0] = b0;
        let len = self.payload_len;
        let form = match encoding {
            LengthEncoding::Minimal if len <= 125 => 7,
            LengthEncoding::Minimal | LengthEncoding::Extended16 if len <= u64::from(u16::MAX) => {
                16
            }
            LengthEncoding::Minimal | LengthEncoding::Extended16 | LengthEncoding::Extended64 => 64,
        };
        let mut n = match form {
            7 => {
                // `len <= 125` was checked above.
                out[1] = mask_bit | (len as u8);
                2
            }
            16 => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            _ => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }

    /// The encoded size of this header in minimal form.
    pub fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xffff => 4,
            _ => 10,
        };
        len + if self.mask.is_some() { 4 } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: HeaderRules = HeaderRules {
        mask: MaskPolicy::Required,
        compression: Compression::Off,
        in_message: false,
    };

    #[test]
    fn round_trips_every_length_form() {
        for len in [0u64, 1, 125, 126, 65535, 65536, 1 << 40, (1 << 63) - 1] {
            for encoding in [
                LengthEncoding::Minimal,
                LengthEncoding::Extended16,
                LengthEncoding::Extended64,
            ] {
                let h = FrameHeader {
                    fin: true,
                    rsv1: false,
                    opcode: OpCode::Binary,
                    mask: Some([1, 2, 3, 4]),
                    payload_len: len,
                };
                let mut buf = [0u8; 14];
                let n = h.encode_with(encoding, &mut buf);
                assert_eq!(FrameHeader::parse(&buf[..n], SERVER), Ok(Some((h, n))));
                for cut in 0..n {
                    assert_eq!(
                        FrameHeader::parse(&buf[..cut], SERVER),
                        Ok(None),
                        "len {len} cut {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn msb_length_is_rejected_without_more_bytes() {
        let bytes = [0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            FrameHeader::parse(&bytes, SERVER),
            Err(FrameError::InvalidPayloadLength)
        );
    }
}
