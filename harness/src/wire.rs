//! Splitting bytes written by a server into frames and messages, with the nats-ws frame
//! parser (the harness has no frame parser of its own).

use nats_ws::deflate::{INFLATE_TAIL, InflateOutcome, inflate_message};
use nats_ws::frame::{FrameHeader, HeaderRules, OpCode, apply_mask};
use nats_ws::policy::{Compression, MaskPolicy};

/// One frame as it was on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireFrame {
    /// The decoded header.
    pub header: FrameHeader,
    /// The header bytes as sent.
    pub raw_header: Vec<u8>,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

/// A data message reassembled from its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireMessage {
    /// Whether the first frame had RSV1.
    pub compressed: bool,
    /// The data, inflated if compressed.
    pub data: Vec<u8>,
    /// Payload size of each frame.
    pub frame_payloads: Vec<usize>,
}

/// Why server output could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A frame header broke a rule for server frames.
    #[error("server frame {index}: {message}")]
    Frame {
        /// Frame index.
        index: usize,
        /// The rule.
        message: String,
    },
    /// The bytes end inside a frame.
    #[error("server output ends inside frame {0}")]
    Truncated(usize),
    /// A compressed message does not inflate.
    #[error("compressed message {0} does not inflate: {1}")]
    Inflate(usize, String),
}

/// Takes the next complete frame off the front of `bytes`: the frame and the bytes it
/// used, `Ok(None)` if the frame is not complete yet, or the header rule it broke.
/// `in_message`: a fragmented data message is open.
pub fn next_frame(bytes: &[u8], in_message: bool) -> Result<Option<(WireFrame, usize)>, String> {
    let rules = HeaderRules {
        mask: MaskPolicy::Exempt,
        compression: Compression::Negotiated,
        in_message,
    };
    let Some((header, n)) = FrameHeader::parse(bytes, rules).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let Some(end) = usize::try_from(header.payload_len)
        .ok()
        .and_then(|len| n.checked_add(len))
        .filter(|&e| e <= bytes.len())
    else {
        return Ok(None);
    };
    let mut payload = bytes[n..end].to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut payload, key, 0);
    }
    let frame = WireFrame {
        header,
        raw_header: bytes[..n].to_vec(),
        payload,
    };
    Ok(Some((frame, end)))
}

/// Splits `bytes` into frames. Server frames may be masked (client role) and compressed.
pub fn split_frames(mut bytes: &[u8]) -> Result<Vec<WireFrame>, WireError> {
    let mut frames = Vec::new();
    let mut in_message = false;
    while !bytes.is_empty() {
        let index = frames.len();
        let (frame, used) = next_frame(bytes, in_message)
            .map_err(|message| WireError::Frame { index, message })?
            .ok_or(WireError::Truncated(index))?;
        if !frame.header.opcode.is_control() {
            in_message = !frame.header.fin;
        }
        frames.push(frame);
        bytes = &bytes[used..];
    }
    Ok(frames)
}

/// Reassembles the data messages among `frames` (control frames are skipped).
pub fn messages(frames: &[WireFrame]) -> Result<Vec<WireMessage>, WireError> {
    let mut out = Vec::new();
    let mut current: Option<(bool, Vec<u8>, Vec<usize>)> = None;
    for f in frames {
        if f.header.opcode.is_control() {
            continue;
        }
        let (_, data, sizes) = current.get_or_insert_with(|| {
            (
                f.header.rsv1 && f.header.opcode != OpCode::Continuation,
                Vec::new(),
                Vec::new(),
            )
        });
        data.extend_from_slice(&f.payload);
        sizes.push(f.payload.len());
        if f.header.fin
            && let Some((compressed, data, frame_payloads)) = current.take()
        {
            let data = if compressed {
                inflate(out.len(), &data)?
            } else {
                data
            };
            out.push(WireMessage {
                compressed,
                data,
                frame_payloads,
            });
        }
    }
    Ok(out)
}

fn inflate(index: usize, data: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut clear = Vec::new();
    inflate_into(data, crate::bytes::MAX_GENERATED, &mut clear)
        .map_err(|e| WireError::Inflate(index, e))?;
    Ok(clear)
}

/// Inflates one permessage-deflate message (without its tail) onto `out`, at most `limit`
/// bytes.
pub fn inflate_into(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut sink = |b: &[u8]| -> Result<(), ()> {
        out.extend_from_slice(b);
        Ok(())
    };
    match inflate_message(&[data, &INFLATE_TAIL], limit, &mut sink) {
        Ok(()) | Err(InflateOutcome::Sink(())) => Ok(()),
        Err(InflateOutcome::Inflate(e)) => Err(e.to_string()),
    }
}
