//! The one frame writer: header, optional mask, payload; with overrides for the
//! deliberately malformed frames that tests and fuzz seeds send.

use crate::frame::{FrameHeader, LengthEncoding, OpCode, apply_mask};

const RSV2: u8 = 0x20;
const RSV3: u8 = 0x10;

/// Header fields no well-formed frame has, for tests that send malformed frames on
/// purpose (reserved opcodes and bits, non-minimal or lying lengths). The default is a
/// well-formed frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Malformed {
    /// Written as the opcode's 4 bits instead of the frame's opcode (3-7 and 11-15 are
    /// reserved); only the low 4 bits are used.
    pub opcode_bits: Option<u8>,
    /// Sets RSV2.
    pub rsv2: bool,
    /// Sets RSV3.
    pub rsv3: bool,
    /// The length form (RFC 6455 §5.2 asks senders for the minimal one).
    pub length: LengthEncoding,
    /// Announced payload length instead of the payload's (always in the 64-bit form).
    pub announced_len: Option<u64>,
}

/// One frame to write: `Frame::new(OpCode::Binary, b"PING\r\n").masked(Some(key)).to_vec()`.
///
/// [`Frame::write`] is the only place a whole frame is written; the outbound encoder's
/// zero-copy data path writes headers with [`FrameHeader::encode`] and masks payload
/// buffers in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// FIN: last frame of its message.
    pub fin: bool,
    /// RSV1: first frame of a compressed message.
    pub rsv1: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key (client frames, RFC 6455 §5.3).
    pub mask: Option<[u8; 4]>,
    /// The payload, unmasked.
    pub payload: &'a [u8],
    /// Deliberate violations; default none.
    pub malformed: Malformed,
}

impl<'a> Frame<'a> {
    /// A final, uncompressed, unmasked frame.
    pub fn new(opcode: OpCode, payload: &'a [u8]) -> Self {
        Frame {
            fin: true,
            rsv1: false,
            opcode,
            mask: None,
            payload,
            malformed: Malformed::default(),
        }
    }

    /// Sets FIN.
    #[must_use]
    pub fn fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    /// Sets RSV1 (the compressed flag).
    #[must_use]
    pub fn rsv1(mut self, rsv1: bool) -> Self {
        self.rsv1 = rsv1;
        self
    }

    /// Masks the payload with `key` (client role), or not.
    #[must_use]
    pub fn masked(mut self, key: Option<[u8; 4]>) -> Self {
        self.mask = key;
        self
    }

    /// Writes these violations into the header.
    #[must_use]
    pub fn malformed(mut self, malformed: Malformed) -> Self {
        self.malformed = malformed;
        self
    }

    /// The header a peer parses (before the raw-bit overrides of [`Malformed`]).
    pub fn header(&self) -> FrameHeader {
        FrameHeader {
            fin: self.fin,
            rsv1: self.rsv1,
            opcode: self.opcode,
            mask: self.mask,
            payload_len: self
                .malformed
                .announced_len
                .unwrap_or(self.payload.len() as u64),
        }
    }

    /// Appends the frame to `dst`; returns the header's size.
    pub fn write(&self, dst: &mut Vec<u8>) -> usize {
        let m = &self.malformed;
        let encoding = if m.announced_len.is_some() {
            LengthEncoding::Extended64
        } else {
            m.length
        };
        let mut buf = [0u8; crate::MAX_FRAME_HEADER_SIZE];
        let n = self.header().encode_with(encoding, &mut buf);
        if let Some(bits) = m.opcode_bits {
            buf[0] = (buf[0] & 0xf0) | (bits & 0x0f);
        }
        if m.rsv2 {
            buf[0] |= RSV2;
        }
        if m.rsv3 {
            buf[0] |= RSV3;
        }
        dst.reserve(n + self.payload.len());
        dst.extend_from_slice(&buf[..n]);
        let at = dst.len();
        dst.extend_from_slice(self.payload);
        if let Some(key) = self.mask {
            apply_mask(&mut dst[at..], key, 0);
        }
        n
    }

    /// The frame's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write(&mut v);
        v
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::frame::HeaderRules;
    use crate::policy::{Compression, MaskPolicy};

    const SERVER: HeaderRules = HeaderRules {
        mask: MaskPolicy::Required,
        compression: Compression::Negotiated,
        in_message: false,
    };

    #[test]
    fn masked_frame_parses_back_with_its_payload() {
        let bytes = Frame::new(OpCode::Binary, b"hello")
            .masked(Some([1, 2, 3, 4]))
            .to_vec();
        let (h, n) = FrameHeader::parse(&bytes, SERVER).unwrap().unwrap();
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
        let mut payload = bytes[n..].to_vec();
        apply_mask(&mut payload, [1, 2, 3, 4], 0);
        assert_eq!(payload, b"hello");
    }

    #[test]
    fn unmasked_frame_is_header_then_payload() {
        let bytes = Frame::new(OpCode::Text, b"hi").fin(false).to_vec();
        assert_eq!(bytes, [0x01, 0x02, b'h', b'i']);
    }

    #[test]
    fn overrides_reach_the_wire() {
        let bytes = Frame::new(OpCode::Binary, b"")
            .malformed(Malformed {
                opcode_bits: Some(3),
                rsv2: true,
                rsv3: true,
                ..Malformed::default()
            })
            .to_vec();
        assert_eq!(bytes, [0x80 | 0x30 | 0x03, 0x00]);
        let lying = Frame::new(OpCode::Binary, b"ab")
            .malformed(Malformed {
                announced_len: Some(1 << 63),
                ..Malformed::default()
            })
            .to_vec();
        assert_eq!(lying.len(), 10 + 2);
        assert_eq!(lying[1], 127);
        let long = Frame::new(OpCode::Binary, b"ab")
            .malformed(Malformed {
                length: LengthEncoding::Extended16,
                ..Malformed::default()
            })
            .to_vec();
        assert_eq!(long, [0x82, 126, 0, 2, b'a', b'b']);
    }
}
