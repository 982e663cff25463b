//! A sans-IO reader of a peer's frames for tools and tests: whole frames and messages.
//!
//! The server reads with [`crate::codec::Reader`], which streams payload to the NATS
//! parser and never holds a whole message. Tools and tests want the opposite: every frame
//! as it was on the wire (raw header, unmasked payload) and every data message whole, to
//! describe and compare them. Both views come from here, bounded by a maximum message size
//! so that a peer announcing or sending more cannot make the buffers grow without end.

use crate::deflate::{INFLATE_TAIL, InflateError, InflateOutcome, inflate_message};
use crate::frame::{FrameError, FrameHeader, HeaderRules, OpCode, apply_mask};
use crate::policy::{Compression, MaskPolicy};

/// Reads frames from either role: masked or not, RSV1 allowed on a message's first frame.
/// Go's other header rules (control frames, continuation order, reserved bits) apply.
const RULES: HeaderRules = HeaderRules {
    mask: MaskPolicy::Exempt,
    compression: Compression::Negotiated,
    in_message: false,
};

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
    /// The data, joined across fragments, inflated if compressed.
    pub data: Vec<u8>,
    /// Payload size of each frame, as sent.
    pub frame_payloads: Vec<usize>,
}

/// What one complete frame gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The frame.
    pub frame: WireFrame,
    /// The message this frame completed (a data frame with FIN), or why that message
    /// could not be rebuilt. Message errors leave the frame layer intact: reading goes on.
    pub message: Option<Result<WireMessage, AssembleError>>,
}

/// Why frames or a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A frame header broke a rule; nothing after it is read.
    #[error("frame {index}: {error}")]
    Frame {
        /// Index of the frame among all frames read.
        index: usize,
        /// The rule.
        error: FrameError,
    },
    /// A frame announced more payload than a message may hold; nothing after it is read.
    #[error("frame {index} announces {len} bytes, more than the {max}-byte message limit")]
    FrameTooLarge {
        /// Index of the frame among all frames read.
        index: usize,
        /// The announced payload length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A message's frames carried more than the limit (each frame counts at least one
    /// byte, so a flood of empty fragments is bounded too).
    #[error("message {index} is larger than the {max}-byte message limit")]
    MessageTooLarge {
        /// Index of the message among all messages completed.
        index: usize,
        /// The limit.
        max: usize,
    },
    /// A compressed message does not inflate, or inflates past the limit.
    #[error("compressed message {index} does not inflate: {error}")]
    Inflate {
        /// Index of the message among all messages completed.
        index: usize,
        /// Why.
        error: InflateError,
    },
}

/// Incremental frame and message reader: [`Assembler::push`] bytes as they arrive, then
/// take frames with [`Assembler::next_frame`] until it gives `Ok(None)`. The result does not
/// depend on how the bytes were split between pushes.
#[derive(Debug, Clone)]
pub struct Assembler {
    buf: Vec<u8>,
    /// Bytes of `buf` already taken as frames.
    at: usize,
    message: Option<Partial>,
    frames: usize,
    messages: usize,
    max_message: usize,
    failed: Option<AssembleError>,
}

/// A data message whose last frame has not arrived.
#[derive(Debug, Clone)]
struct Partial {
    compressed: bool,
    data: Vec<u8>,
    frame_payloads: Vec<usize>,
    /// Bytes counted against the limit: payload bytes, at least one a frame.
    counted: usize,
}

impl Assembler {
    /// A reader whose messages (raw and inflated) and frames hold at most `max_message`
    /// bytes.
    pub fn new(max_message: usize) -> Self {
        Assembler {
            buf: Vec::new(),
            at: 0,
            message: None,
            frames: 0,
            messages: 0,
            max_message,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.at
    }

    /// A data message has started and its last frame has not arrived.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// The next complete frame (and the message it completes), `Ok(None)` when more bytes
    /// are needed. A frame error is final: every later call returns it again.
    pub fn next_frame(&mut self) -> Result<Option<Assembled>, AssembleError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let index = self.frames;
        let rules = HeaderRules {
            in_message: self.message.is_some(),
            ..RULES
        };
        let input = &self.buf[self.at..];
        let (header, n) = match FrameHeader::parse(input, rules) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.fail(AssembleError::Frame { index, error })),
        };
        let Some(len) = usize::try_from(header.payload_len)
            .ok()
            .filter(|&len| len <= self.max_message)
        else {
            return Err(self.fail(AssembleError::FrameTooLarge {
                index,
                len: header.payload_len,
                max: self.max_message,
            }));
        };
        let Some(bytes) = n.checked_add(len).and_then(|end| input.get(..end)) else {
            return Ok(None);
        };
        let (raw_header, payload) = bytes.split_at(n);
        let mut frame = WireFrame {
            header,
            raw_header: raw_header.to_vec(),
            payload: payload.to_vec(),
        };
        if let Some(key) = header.mask {
            apply_mask(&mut frame.payload, key, 0);
        }
        self.at += n + len;
        self.frames += 1;
        let message = if header.opcode.is_control() {
            None
        } else {
            self.add_to_message(&header, &frame.payload)
        };
        Ok(Some(Assembled { frame, message }))
    }

    fn fail(&mut self, e: AssembleError) -> AssembleError {
        self.failed = Some(e.clone());
        e
    }

    /// Adds a data frame to the open message; returns the message if the frame ends it.
    fn add_to_message(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
    ) -> Option<Result<WireMessage, AssembleError>> {
        let max = self.max_message;
        let partial = self.message.get_or_insert_with(|| Partial {
            // The header rules refuse RSV1 on a continuation.
            compressed: header.rsv1 && header.opcode != OpCode::Continuation,
            data: Vec::new(),
            frame_payloads: Vec::new(),
            counted: 0,
        });
        partial.counted = partial.counted.saturating_add(payload.len().max(1));
        if partial.counted <= max {
            partial.data.extend_from_slice(payload);
            partial.frame_payloads.push(payload.len());
        } else {
            partial.data = Vec::new();
            partial.frame_payloads = Vec::new();
        }
        if !header.fin {
            return None;
        }
        let partial = self.message.take()?;
        let index = self.messages;
        self.messages += 1;
        Some(finish(index, partial, max))
    }
}

fn finish(index: usize, partial: Partial, max: usize) -> Result<WireMessage, AssembleError> {
    if partial.counted > max {
        return Err(AssembleError::MessageTooLarge { index, max });
    }
    let data = if partial.compressed {
        let mut clear = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), std::convert::Infallible> {
            clear.extend_from_slice(b);
            Ok(())
        };
        match inflate_message(&[&partial.data, &INFLATE_TAIL], max, &mut sink) {
            Ok(()) => {}
            Err(InflateOutcome::Inflate(error)) => {
                return Err(AssembleError::Inflate { index, error });
            }
            Err(InflateOutcome::Sink(never)) => match never {},
        }
        clear
    } else {
        partial.data
    };
    Ok(WireMessage {
        compressed: partial.compressed,
        data,
        frame_payloads: partial.frame_payloads,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::deflate::deflate_message;
    use crate::frame::{Frame, Malformed};

    /// Everything an assembler gives for `bytes` pushed in pieces cut at `cuts`.
    fn read_all(bytes: &[u8], cuts: &[usize], max: usize) -> (Vec<Assembled>, Option<String>) {
        let mut a = Assembler::new(max);
        let mut out = Vec::new();
        let mut from = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
        ends.push(bytes.len());
        for end in ends {
            a.push(&bytes[from..end.max(from)]);
            from = end.max(from);
            loop {
                match a.next_frame() {
                    Ok(Some(x)) => out.push(x),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e.to_string())),
                }
            }
        }
        (out, None)
    }

    fn sample() -> Vec<u8> {
        let mut packed = Vec::new();
        deflate_message(b"hello hello hello world", &mut packed).unwrap();
        let (a, b) = packed.split_at(packed.len() / 2);
        let mut bytes = Vec::new();
        Frame::new(OpCode::Text, b"plain").write(&mut bytes);
        Frame::new(OpCode::Binary, a)
            .fin(false)
            .rsv1(true)
            .masked(Some([9, 8, 7, 6]))
            .write(&mut bytes);
        Frame::new(OpCode::Ping, b"p").write(&mut bytes);
        Frame::new(OpCode::Continuation, b"")
            .fin(false)
            .write(&mut bytes);
        Frame::new(OpCode::Continuation, b)
            .masked(Some([1, 2, 3, 4]))
            .write(&mut bytes);
        Frame::new(OpCode::Close, &[0x03, 0xe8]).write(&mut bytes);
        bytes
    }

    #[test]
    fn fragmented_compressed_message_is_joined_and_inflated() {
        let (got, err) = read_all(&sample(), &[], 1 << 20);
        assert_eq!(err, None);
        assert_eq!(got.len(), 6);
        let messages: Vec<WireMessage> = got
            .iter()
            .filter_map(|a| a.message.clone())
            .map(Result::unwrap)
            .collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].data, b"plain");
        assert!(!messages[0].compressed);
        assert!(messages[1].compressed);
        assert_eq!(messages[1].data, b"hello hello hello world");
        assert_eq!(messages[1].frame_payloads.len(), 3);
        assert_eq!(got[2].frame.payload, b"p");
        assert_eq!(got[1].frame.raw_header[0], 0x40 | 0x02);
    }

    #[test]
    fn any_chunking_gives_the_same_frames_messages_and_error() {
        let mut bytes = sample();
        // Then a frame with RSV2: an error after the good frames.
        Frame::new(OpCode::Binary, b"x")
            .malformed(Malformed {
                rsv2: true,
                ..Malformed::default()
            })
            .write(&mut bytes);
        let whole = read_all(&bytes, &[], 1 << 20);
        assert!(whole.1.is_some());
        for cut in 0..bytes.len() {
            assert_eq!(read_all(&bytes, &[cut], 1 << 20), whole, "cut at {cut}");
        }
        let bytewise: Vec<usize> = (0..bytes.len()).collect();
        assert_eq!(read_all(&bytes, &bytewise, 1 << 20), whole);
    }

    #[test]
    fn bounds_give_errors_not_growth() {
        // A frame announcing more than the limit fails at its header.
        let lying = Frame::new(OpCode::Binary, b"ab")
            .malformed(Malformed {
                announced_len: Some(1 << 40),
                ..Malformed::default()
            })
            .to_vec();
        let (got, err) = read_all(&lying, &[], 1024);
        assert!(got.is_empty());
        assert!(err.unwrap().contains("more than the 1024-byte"));
        // Fragments that add up past the limit fail the message, not the reading.
        let mut bytes = Vec::new();
        for _ in 0..3 {
            Frame::new(OpCode::Continuation, &[0u8; 400])
                .fin(false)
                .write(&mut bytes);
        }
        bytes[0] = 0x02;
        Frame::new(OpCode::Continuation, b"").write(&mut bytes);
        Frame::new(OpCode::Text, b"next").write(&mut bytes);
        let (got, err) = read_all(&bytes, &[], 1024);
        assert_eq!(err, None);
        let messages: Vec<_> = got.into_iter().filter_map(|a| a.message).collect();
        assert_eq!(
            messages[0],
            Err(AssembleError::MessageTooLarge {
                index: 0,
                max: 1024
            })
        );
        assert_eq!(messages[1].as_ref().unwrap().data, b"next");
        // A compressed message inflating past the limit.
        let mut packed = Vec::new();
        deflate_message(&[b'a'; 5000], &mut packed).unwrap();
        let bomb = Frame::new(OpCode::Binary, &packed).rsv1(true).to_vec();
        let (got, _) = read_all(&bomb, &[], 1024);
        assert_eq!(
            got[0].message,
            Some(Err(AssembleError::Inflate {
                index: 0,
                error: InflateError::MaxPayload
            }))
        );
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut seed = 0x1234_5678_u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let whole = read_all(&bytes, &[], 256);
            assert_eq!(read_all(&bytes, &[7, 20, 33], 256), whole);
        }
    }
}
