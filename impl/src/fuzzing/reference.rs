//! Independent judges for the oracles: Go's frame rules read off a whole buffer in one
//! pass, the close-reply rule, and a splitter for the frames we write. Written from
//! RFC 6455 and `server/websocket.go`, not from `frame`/`codec`, so that a bug has to be
//! made twice to go unnoticed.

use crate::frame::FrameError;
use crate::policy::{Compression, MaskPolicy};

/// One observable event of a read, normalized so that how the bytes were split into
/// reads (or payload slices) does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Data bytes of one message, merged across frames and reads, up to a control frame
    /// or the end of the message.
    Data {
        /// The unmasked bytes.
        bytes: Vec<u8>,
        /// The message's first frame had RSV1.
        compressed: bool,
        /// The message's final bytes are included.
        message_end: bool,
    },
    /// A complete ping and its payload.
    Ping(Vec<u8>),
    /// A complete pong and its payload.
    Pong(Vec<u8>),
    /// A valid close; the payload of the reply.
    Close(Vec<u8>),
}

/// What a read of some bytes produced: events, then possibly an error that ended it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// In order.
    pub events: Vec<Event>,
    /// The protocol error that ended the read.
    pub error: Option<FrameError>,
}

impl Outcome {
    /// Appends data bytes, merging them into the open data run of the same message.
    pub fn push_data(&mut self, bytes: &[u8], compressed: bool, message_end: bool) {
        if let Some(Event::Data {
            bytes: run,
            compressed: c,
            message_end: ended,
        }) = self.events.last_mut()
            && !*ended
            && *c == compressed
        {
            run.extend_from_slice(bytes);
            *ended = message_end;
            return;
        }
        self.events.push(Event::Data {
            bytes: bytes.to_vec(),
            compressed,
            message_end,
        });
    }

    /// Total data bytes.
    pub fn data_len(&self) -> usize {
        self.events
            .iter()
            .map(|e| match e {
                Event::Data { bytes, .. } => bytes.len(),
                Event::Ping(_) | Event::Pong(_) | Event::Close(_) => 0,
            })
            .sum()
    }
}

/// Close statuses a peer may send. Go: `wsIsValidCloseStatus` (RFC 6455 §7.4.1/§7.4.2).
pub fn close_status_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Statuses that must never appear in a close frame on the wire (RFC 6455 §7.4.1).
pub fn close_status_reserved(code: u16) -> bool {
    matches!(code, 1005 | 1006 | 1015)
}

/// The reply to a received close payload of at most 125 bytes, or the error.
/// Go: the close branch of `wsHandleControlFrame`.
pub fn close_reply(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    match payload {
        [] => Ok(Vec::new()),
        [_] => Err(FrameError::CloseOneByte),
        [hi, lo, reason @ ..] => {
            let code = u16::from(*hi) << 8 | u16::from(*lo);
            if !close_status_allowed(code) {
                return Err(FrameError::InvalidCloseStatus(code));
            }
            if std::str::from_utf8(reason).is_ok() {
                Ok(payload.to_vec())
            } else {
                let mut reply = 1007u16.to_be_bytes().to_vec();
                reply.extend_from_slice(b"invalid utf8 body in close frame");
                Ok(reply)
            }
        }
    }
}

/// The error Go's rules give a frame header, judged from its fields, or `None` if the
/// header is acceptable. `len7` is the 7-bit length field; `len64` the 64-bit length if
/// that form is used. Order: RSV2/RSV3, RSV1 without compression, MASK, opcode rules,
/// 64-bit length.
#[allow(clippy::too_many_arguments)]
pub fn header_error(
    b0: u8,
    masked: bool,
    len7: u8,
    len64: Option<u64>,
    mask: MaskPolicy,
    compression: Compression,
    in_message: bool,
) -> Option<FrameError> {
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 {
        return Some(FrameError::ReservedBitsSet);
    }
    if rsv1 && compression == Compression::Off {
        return Some(FrameError::CompressionNotNegotiated);
    }
    if mask == MaskPolicy::Required && !masked {
        return Some(FrameError::MaskBitMissing);
    }
    match b0 & 0x0f {
        8..=10 => {
            if len7 > 125 {
                return Some(FrameError::ControlFrameTooLong);
            }
            if !fin {
                return Some(FrameError::ControlFrameNotFinal);
            }
            if rsv1 {
                return Some(FrameError::ControlFrameCompressed);
            }
        }
        1 | 2 => {
            if in_message {
                return Some(FrameError::MessageNotFinished);
            }
        }
        0 => {
            if !in_message || rsv1 {
                return Some(FrameError::InvalidContinuation);
            }
        }
        op => return Some(FrameError::UnknownOpcode(op)),
    }
    if len64.is_some_and(|l| l >> 63 == 1) {
        return Some(FrameError::InvalidPayloadLength);
    }
    None
}

/// Reads client frames from one whole buffer as the Go server would, one byte at a time
/// for the header. A frame cut short by the end of `bytes` yields the payload bytes
/// present (data) or nothing (control).
pub fn decode(bytes: &[u8], mask: MaskPolicy, compression: Compression) -> Outcome {
    let mut out = Outcome::default();
    let mut in_message = false;
    let mut compressed = false;
    let mut rest = bytes;
    while let Some(&b0) = rest.first() {
        // What the first byte alone decides.
        if let Some(e @ (FrameError::ReservedBitsSet | FrameError::CompressionNotNegotiated)) =
            header_error(b0, true, 0, None, MaskPolicy::Exempt, compression, true)
        {
            out.error = Some(e);
            return out;
        }
        let Some(&b1) = rest.get(1) else {
            return out;
        };
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7f;
        if let Some(e) = header_error(b0, masked, len7, None, mask, compression, in_message) {
            out.error = Some(e);
            return out;
        }
        let mut at = 2;
        let len = match len7 {
            126 => {
                let Some(b) = rest.get(2..4) else { return out };
                at = 4;
                b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x))
            }
            127 => {
                let Some(b) = rest.get(2..10) else { return out };
                at = 10;
                let len = b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
                if let Some(e) =
                    header_error(b0, masked, len7, Some(len), mask, compression, in_message)
                {
                    out.error = Some(e);
                    return out;
                }
                len
            }
            short => u64::from(short),
        };
        let key = if masked {
            let Some(k) = rest.get(at..at + 4) else {
                return out;
            };
            at += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        let body = &rest[at..];
        let avail = usize::try_from(len).map_or(body.len(), |l| l.min(body.len()));
        let mut payload = body[..avail].to_vec();
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        let complete = avail as u64 == len;
        let opcode = b0 & 0x0f;
        let fin = b0 & 0x80 != 0;
        if opcode >= 8 {
            if !complete {
                return out;
            }
            match opcode {
                9 => out.events.push(Event::Ping(payload)),
                10 => out.events.push(Event::Pong(payload)),
                _ => {
                    match close_reply(&payload) {
                        Ok(reply) => out.events.push(Event::Close(reply)),
                        Err(e) => out.error = Some(e),
                    }
                    return out;
                }
            }
        } else {
            if opcode != 0 {
                compressed = b0 & 0x40 != 0;
            }
            in_message = !fin;
            if avail > 0 || len == 0 {
                out.push_data(&payload, compressed, fin && complete);
            }
            if !complete {
                return out;
            }
        }
        rest = &body[avail..];
    }
    out
}

/// A frame as written by us, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireFrame {
    /// FIN.
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the high bits of byte 0 (`0x70` mask).
    pub rsv: u8,
    /// Raw opcode.
    pub opcode: u8,
    /// The masking key, if the MASK bit was set.
    pub key: Option<[u8; 4]>,
    /// The length form was the shortest possible (RFC 6455 §5.2 requires it of senders).
    pub minimal_length: bool,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

/// Splits bytes we wrote into frames; `Err` names what is wrong (a truncated frame).
pub fn split_frames(mut bytes: &[u8]) -> Result<Vec<WireFrame>, String> {
    let mut frames = Vec::new();
    while let Some(&b0) = bytes.first() {
        let b1 = *bytes.get(1).ok_or("truncated header")?;
        let (len, mut at) = match b1 & 0x7f {
            126 => {
                let b = bytes.get(2..4).ok_or("truncated 16-bit length")?;
                (u64::from(b[0]) << 8 | u64::from(b[1]), 4)
            }
            127 => {
                let b = bytes.get(2..10).ok_or("truncated 64-bit length")?;
                (b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)), 10)
            }
            short => (u64::from(short), 2),
        };
        let minimal_length = match at {
            2 => true,
            4 => len > 125,
            _ => len > 0xffff,
        };
        let key = if b1 & 0x80 != 0 {
            let k = bytes.get(at..at + 4).ok_or("truncated mask key")?;
            at += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        let len = usize::try_from(len).map_err(|_| "length beyond usize")?;
        let end = at.checked_add(len).ok_or("length overflow")?;
        let mut payload = bytes.get(at..end).ok_or("truncated payload")?.to_vec();
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(WireFrame {
            fin: b0 & 0x80 != 0,
            rsv: b0 & 0x70,
            opcode: b0 & 0x0f,
            key,
            minimal_length,
            payload,
        });
        bytes = &bytes[end..];
    }
    Ok(frames)
}

/// Checks that a close payload we send is one RFC 6455 §5.5.1/§7.4 allows: empty, or a
/// status that may be sent plus a UTF-8 reason, at most 125 bytes in all.
pub fn check_sent_close(payload: &[u8]) {
    assert!(
        payload.len() <= 125,
        "close payload of {} bytes",
        payload.len()
    );
    match payload {
        [] => {}
        [_] => panic!("1-byte close payload sent"),
        [hi, lo, reason @ ..] => {
            let code = u16::from(*hi) << 8 | u16::from(*lo);
            assert!(
                !close_status_reserved(code),
                "close status {code} must not be sent"
            );
            assert!(
                (1000..5000).contains(&code),
                "close status {code} out of range"
            );
            assert!(
                std::str::from_utf8(reason).is_ok(),
                "close reason not UTF-8: {reason:?}"
            );
        }
    }
}
