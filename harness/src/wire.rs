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

/// Splits `bytes` into frames. Server frames may be masked (client role) and compressed.
pub fn split_frames(mut bytes: &[u8]) -> Result<Vec<WireFrame>, WireError> {
    let mut frames = Vec::new();
    let mut in_message = false;
    while !bytes.is_empty() {
        let index = frames.len();
        let rules = HeaderRules {
            mask: MaskPolicy::Exempt,
            compression: Compression::Negotiated,
            in_message,
        };
        let (header, n) = match FrameHeader::parse(bytes, rules) {
            Ok(Some(found)) => found,
            Ok(None) => return Err(WireError::Truncated(index)),
            Err(e) => {
                return Err(WireError::Frame {
                    index,
                    message: e.to_string(),
                });
            }
        };
        let len = usize::try_from(header.payload_len).map_err(|_| WireError::Truncated(index))?;
        let end = n
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or(WireError::Truncated(index))?;
        let mut payload = bytes[n..end].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        if !header.opcode.is_control() {
            in_message = !header.fin;
        }
        frames.push(WireFrame {
            header,
            raw_header: bytes[..n].to_vec(),
            payload,
        });
        bytes = &bytes[end..];
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
    let mut sink = |b: &[u8]| -> Result<(), ()> {
        clear.extend_from_slice(b);
        Ok(())
    };
    match inflate_message(
        &[data, &INFLATE_TAIL],
        crate::bytes::MAX_GENERATED,
        &mut sink,
    ) {
        Ok(()) => Ok(clear),
        Err(InflateOutcome::Inflate(e)) => Err(WireError::Inflate(index, e.to_string())),
        Err(InflateOutcome::Sink(())) => Err(WireError::Inflate(index, "sink".to_owned())),
    }
}
