//! Structured inputs of the `arbitrary` targets, and their byte layouts.
//!
//! Each spec reads its fields byte by byte (missing bytes read as zero, a payload takes
//! what is left), so that a spec can be written back as fuzz input
//! ([`RoundtripSpec::to_input`] and friends): that is how `gen-seeds` turns fixtures and
//! unit vectors into seeds for these targets. The readers need the `fuzzing` feature;
//! the types and writers do not.

use crate::policy::{Compression, Framing, MaskPolicy};

/// Most frames, messages or operations read from one input.
pub const MAX_ITEMS: usize = 32;

/// `frame_roundtrip`: `[policy: bit0 no-masking, bit1 compression][frame]...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundtripSpec {
    /// Inbound masking policy of the decoding side.
    pub mask: MaskPolicy,
    /// Whether permessage-deflate was negotiated.
    pub compression: Compression,
    /// Frames, written one after another.
    pub frames: Vec<FrameSpec>,
}

/// One frame: `[flags][opcode][key 4, if masked][announced length 8 BE, if announced]
/// [payload length 2 LE][payload]`. Flags: bit0 FIN, bit1-3 RSV1-3, bit4 masked, bits
/// 5-6 length form (0 minimal, 1 16-bit, 2 64-bit, 3 announced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// FIN.
    pub fin: bool,
    /// RSV1.
    pub rsv1: bool,
    /// RSV2.
    pub rsv2: bool,
    /// RSV3.
    pub rsv3: bool,
    /// Raw opcode (low 4 bits), reserved values included.
    pub opcode: u8,
    /// The masking key; `None` clears the MASK bit.
    pub key: Option<[u8; 4]>,
    /// How the length is written.
    pub length: LengthSpec,
    /// The payload, before masking.
    pub payload: Vec<u8>,
}

/// The length field of a [`FrameSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthSpec {
    /// The shortest form.
    Minimal,
    /// The 16-bit form even for short payloads (64-bit above 65535).
    Extended16,
    /// The 64-bit form always.
    Extended64,
    /// The 64-bit form announcing this length, whatever the payload (which is cut to
    /// it). Nothing is written after such a frame.
    Announce(u64),
}

/// `inflate`: `[max_payload 2 LE (0 = default)][message]...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InflateSpec {
    /// The `max_payload` the reader is configured with (0 = 1 MiB).
    pub max_payload: usize,
    /// Messages, sent one after another.
    pub messages: Vec<MessageSpec>,
}

/// One message: `[flags][repeat 2 LE][n][n fragment sizes][corrupt at 2 LE, xor 1, if
/// bit2][body length 2 LE][body]`. Flags: bit0 compressed, bit1 body is raw deflate
/// (else plain text, deflated here), bit2 corrupt one byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSpec {
    /// Sent with RSV1 (permessage-deflate).
    pub compressed: bool,
    /// The body is sent as is (compressed or not) instead of being deflated first.
    pub raw: bool,
    /// Plain text is the body repeated `repeat + 1` times (compression bombs).
    pub repeat: u16,
    /// Frame payload sizes, cycled; 0 is an empty frame.
    pub fragments: Vec<u8>,
    /// XOR the byte at this position (modulo the length) of what is sent.
    pub corrupt: Option<(u16, u8)>,
    /// The body.
    pub body: Vec<u8>,
}

/// `outbound`: `[flags: bits0-1 framing (0 whole, 1 browser, 2 safari), bit2
/// compression, bit3 masked][op]...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSpec {
    /// How data is cut into frames.
    pub framing: Framing,
    /// Whether permessage-deflate was negotiated.
    pub compression: Compression,
    /// Whether we write masked frames (client role).
    pub masked: bool,
    /// What happens, in order; a final flush always follows.
    pub ops: Vec<OutOp>,
}

/// One outbound operation: `[kind]` then its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOp {
    /// kind 0: `[repeat][length 2 LE][bytes]`: NATS bytes, repeated `repeat + 1` times.
    Queue {
        /// The bytes.
        bytes: Vec<u8>,
        /// Extra copies.
        repeat: u8,
    },
    /// kind 1 (ping) or 5 (pong): `[length][bytes]`, at most 125 used.
    Control {
        /// A ping (else a pong).
        ping: bool,
        /// The payload.
        payload: Vec<u8>,
    },
    /// kind 2: `[state]`: close for a closed state (`queue_close_for`).
    CloseState(u8),
    /// kind 6: `[length][bytes]`: the reply to a peer's close payload.
    CloseReply(Vec<u8>),
    /// kind 3: flush.
    Flush,
}

fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push_bytes16(out: &mut Vec<u8>, bytes: &[u8]) {
    push_u16(out, u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(&bytes[..bytes.len().min(usize::from(u16::MAX))]);
}

fn push_bytes8(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&bytes[..n]);
}

impl RoundtripSpec {
    /// The fuzz input that reads back as this spec.
    pub fn to_input(&self) -> Vec<u8> {
        let mut out = vec![
            u8::from(self.mask == MaskPolicy::Exempt)
                | u8::from(self.compression == Compression::Negotiated) << 1,
        ];
        for f in &self.frames {
            let form = match f.length {
                LengthSpec::Minimal => 0,
                LengthSpec::Extended16 => 1,
                LengthSpec::Extended64 => 2,
                LengthSpec::Announce(_) => 3,
            };
            out.push(
                u8::from(f.fin)
                    | u8::from(f.rsv1) << 1
                    | u8::from(f.rsv2) << 2
                    | u8::from(f.rsv3) << 3
                    | u8::from(f.key.is_some()) << 4
                    | form << 5,
            );
            out.push(f.opcode & 0x0f);
            if let Some(key) = f.key {
                out.extend_from_slice(&key);
            }
            if let LengthSpec::Announce(n) = f.length {
                out.extend_from_slice(&n.to_be_bytes());
            }
            push_bytes16(&mut out, &f.payload);
        }
        out
    }
}

impl InflateSpec {
    /// The fuzz input that reads back as this spec.
    pub fn to_input(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_u16(
            &mut out,
            u16::try_from(self.max_payload).unwrap_or(u16::MAX),
        );
        for m in &self.messages {
            out.push(
                u8::from(m.compressed) | u8::from(m.raw) << 1 | u8::from(m.corrupt.is_some()) << 2,
            );
            push_u16(&mut out, m.repeat);
            push_bytes8(&mut out, &m.fragments);
            if let Some((at, xor)) = m.corrupt {
                push_u16(&mut out, at);
                out.push(xor);
            }
            push_bytes16(&mut out, &m.body);
        }
        out
    }
}

impl OutboundSpec {
    /// The fuzz input that reads back as this spec.
    pub fn to_input(&self) -> Vec<u8> {
        let framing = match self.framing {
            Framing::Whole => 0,
            Framing::Browser => 1,
            Framing::Safari => 2,
        };
        let mut out = vec![
            framing
                | u8::from(self.compression == Compression::Negotiated) << 2
                | u8::from(self.masked) << 3,
        ];
        for op in &self.ops {
            match op {
                OutOp::Queue { bytes, repeat } => {
                    out.push(0);
                    out.push(*repeat);
                    push_bytes16(&mut out, bytes);
                }
                OutOp::Control { ping, payload } => {
                    out.push(if *ping { 1 } else { 5 });
                    push_bytes8(&mut out, payload);
                }
                OutOp::CloseState(s) => out.extend_from_slice(&[2, *s]),
                OutOp::CloseReply(p) => {
                    out.push(6);
                    push_bytes8(&mut out, p);
                }
                OutOp::Flush => out.push(3),
            }
        }
        out
    }
}

#[cfg(feature = "fuzzing")]
mod read {
    use arbitrary::{Arbitrary, Result, Unstructured};

    use super::*;

    fn byte(u: &mut Unstructured<'_>) -> Result<u8> {
        u8::arbitrary(u)
    }

    fn u16le(u: &mut Unstructured<'_>) -> Result<u16> {
        Ok(u16::from_le_bytes([byte(u)?, byte(u)?]))
    }

    fn bytes<'a>(u: &mut Unstructured<'a>, n: usize) -> Result<&'a [u8]> {
        let n = n.min(u.len());
        u.bytes(n)
    }

    fn bytes16<'a>(u: &mut Unstructured<'a>) -> Result<&'a [u8]> {
        let n = usize::from(u16le(u)?);
        bytes(u, n)
    }

    fn bytes8<'a>(u: &mut Unstructured<'a>) -> Result<&'a [u8]> {
        let n = usize::from(byte(u)?);
        bytes(u, n)
    }

    impl<'a> Arbitrary<'a> for RoundtripSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            let policy = byte(u)?;
            let mut frames = Vec::new();
            while !u.is_empty() && frames.len() < MAX_ITEMS {
                frames.push(FrameSpec::arbitrary(u)?);
            }
            Ok(RoundtripSpec {
                mask: if policy & 1 == 0 {
                    MaskPolicy::Required
                } else {
                    MaskPolicy::Exempt
                },
                compression: if policy & 2 == 0 {
                    Compression::Off
                } else {
                    Compression::Negotiated
                },
                frames,
            })
        }
    }

    impl<'a> Arbitrary<'a> for FrameSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            let flags = byte(u)?;
            let opcode = byte(u)? & 0x0f;
            let key = if flags & 0x10 != 0 {
                Some([byte(u)?, byte(u)?, byte(u)?, byte(u)?])
            } else {
                None
            };
            let length = match (flags >> 5) & 3 {
                0 => LengthSpec::Minimal,
                1 => LengthSpec::Extended16,
                2 => LengthSpec::Extended64,
                _ => {
                    let mut be = [0u8; 8];
                    for b in &mut be {
                        *b = byte(u)?;
                    }
                    LengthSpec::Announce(u64::from_be_bytes(be))
                }
            };
            Ok(FrameSpec {
                fin: flags & 1 != 0,
                rsv1: flags & 2 != 0,
                rsv2: flags & 4 != 0,
                rsv3: flags & 8 != 0,
                opcode,
                key,
                length,
                payload: bytes16(u)?.to_vec(),
            })
        }
    }

    impl<'a> Arbitrary<'a> for InflateSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            let max_payload = usize::from(u16le(u)?);
            let mut messages = Vec::new();
            while !u.is_empty() && messages.len() < MAX_ITEMS {
                let flags = byte(u)?;
                let repeat = u16le(u)?;
                let fragments = bytes8(u)?.to_vec();
                let corrupt = if flags & 4 != 0 {
                    Some((u16le(u)?, byte(u)?))
                } else {
                    None
                };
                messages.push(MessageSpec {
                    compressed: flags & 1 != 0,
                    raw: flags & 2 != 0,
                    repeat,
                    fragments,
                    corrupt,
                    body: bytes16(u)?.to_vec(),
                });
            }
            Ok(InflateSpec {
                max_payload,
                messages,
            })
        }
    }

    impl<'a> Arbitrary<'a> for OutboundSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            let flags = byte(u)?;
            let framing = match flags & 3 {
                0 => Framing::Whole,
                2 => Framing::Safari,
                _ => Framing::Browser,
            };
            let mut ops = Vec::new();
            while !u.is_empty() && ops.len() < MAX_ITEMS {
                let kind = byte(u)?;
                ops.push(match kind & 3 {
                    0 => {
                        let repeat = byte(u)?;
                        OutOp::Queue {
                            repeat,
                            bytes: bytes16(u)?.to_vec(),
                        }
                    }
                    1 => OutOp::Control {
                        ping: kind & 4 == 0,
                        payload: bytes8(u)?.to_vec(),
                    },
                    2 if kind & 4 == 0 => OutOp::CloseState(byte(u)?),
                    2 => OutOp::CloseReply(bytes8(u)?.to_vec()),
                    _ => OutOp::Flush,
                });
            }
            Ok(OutboundSpec {
                framing,
                compression: if flags & 4 == 0 {
                    Compression::Off
                } else {
                    Compression::Negotiated
                },
                masked: flags & 8 != 0,
                ops,
            })
        }
    }
}
