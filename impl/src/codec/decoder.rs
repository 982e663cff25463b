//! The incremental frame decoder: bytes in any split → payload slices and control events.

use crate::frame::{
    ControlPayload, FrameError, FrameHeader, HeaderRules, MaskCursor, OpCode, parse_close_payload,
};
use crate::policy::{Compression, MaskPolicy};

/// Decodes client frames (Go: `wsReadLoop` + `wsHandleControlFrame`).
///
/// Feed it whatever the socket returned; it unmasks in place and hands back slices of
/// that buffer. It keeps at most 14 header bytes and 125 control payload bytes between
/// calls and never allocates: a frame's announced length only sets a counter.
#[derive(Debug, Clone)]
pub struct Decoder {
    mask: MaskPolicy,
    compression: Compression,
    /// A fragmented data message is open (Go: `!ff`).
    in_message: bool,
    /// The open message is compressed (Go: `fc`).
    message_compressed: bool,
    /// Header bytes that arrived without the rest of the header.
    partial: [u8; crate::MAX_FRAME_HEADER_SIZE],
    partial_len: usize,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    /// Waiting for (the rest of) a frame header.
    Header,
    /// Inside a data frame's payload.
    Data {
        remaining: u64,
        mask: Option<MaskCursor>,
        fin: bool,
    },
    /// Collecting a control frame's payload (at most 125 bytes).
    Control {
        opcode: OpCode,
        mask: Option<MaskCursor>,
        buf: [u8; crate::MAX_CONTROL_PAYLOAD_SIZE],
        len: usize,
        want: usize,
    },
    /// A close frame was received: the read side is over (Go returns `io.EOF`).
    Closed,
    /// A protocol error was found: the read side is over.
    Failed(FrameError),
}

/// What one call to [`Decoder::decode`] produced.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// Input bytes used. Less than the input only when an item was produced.
    pub consumed: usize,
    /// The item, or `None` when all input was used without completing one.
    pub item: Option<Item<'a>>,
}

/// A unit of decoded input.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item<'a> {
    /// Unmasked payload bytes of a text, binary or continuation frame. A frame split
    /// across reads arrives as several slices; an empty frame as one empty slice.
    Data {
        /// The bytes, unmasked, inside the caller's buffer.
        payload: &'a [u8],
        /// The message's first frame had RSV1: the bytes are deflated.
        compressed: bool,
        /// These are the last bytes of the message (FIN frame, nothing remaining).
        message_end: bool,
    },
    /// A ping; the reply is a pong with the same payload.
    Ping(ControlPayload),
    /// A pong; ignored.
    Pong(ControlPayload),
    /// A valid close frame; the payload is the reply to send (echo, empty, or 1007).
    /// Nothing after it is read.
    Close(ControlPayload),
}

impl Decoder {
    /// A decoder for a connection with these policies.
    pub fn new(mask: MaskPolicy, compression: Compression) -> Self {
        Decoder {
            mask,
            compression,
            in_message: false,
            message_compressed: false,
            partial: [0; crate::MAX_FRAME_HEADER_SIZE],
            partial_len: 0,
            state: State::Header,
        }
    }

    /// Header bytes held while waiting for the rest of a header (at most 13).
    pub fn header_pending(&self) -> usize {
        self.partial_len
    }

    /// Whether a close frame ended the input.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Decodes from `input` until one item is complete or the input is used up.
    /// Call again with `&mut input[consumed..]` to continue. After a close frame or an
    /// error nothing more is read: `consumed` is 0 (and the error is returned again).
    pub fn decode<'a>(&mut self, input: &'a mut [u8]) -> Result<Decoded<'a>, FrameError> {
        match &mut self.state {
            State::Closed => Ok(Decoded {
                consumed: 0,
                item: None,
            }),
            State::Failed(e) => Err(e.clone()),
            State::Header => self.decode_header(input),
            State::Data { .. } => Ok(self.decode_data(input, 0)),
            State::Control { .. } => self.decode_control(input, 0),
        }
    }

    fn rules(&self) -> HeaderRules {
        HeaderRules {
            mask: self.mask,
            compression: self.compression,
            in_message: self.in_message,
        }
    }

    fn fail(&mut self, e: FrameError) -> FrameError {
        self.state = State::Failed(e.clone());
        e
    }

    fn decode_header<'a>(&mut self, input: &'a mut [u8]) -> Result<Decoded<'a>, FrameError> {
        let parsed = if self.partial_len == 0 {
            FrameHeader::parse(input, self.rules())
        } else {
            // Complete the header from the saved bytes plus as many new ones as fit.
            let take = input.len().min(self.partial.len() - self.partial_len);
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&input[..take]);
            FrameHeader::parse(&self.partial[..self.partial_len + take], self.rules())
                .map(|p| p.map(|(h, n)| (h, n - self.partial_len)))
        };
        let (header, used) = match parsed {
            Ok(Some(found)) => found,
            Ok(None) => {
                // Not enough bytes: fewer than 14 are pending, so they all fit.
                let start = self.partial_len;
                let take = input.len().min(self.partial.len() - start);
                self.partial[start..start + take].copy_from_slice(&input[..take]);
                self.partial_len += take;
                return Ok(Decoded {
                    consumed: input.len(),
                    item: None,
                });
            }
            Err(e) => return Err(self.fail(e)),
        };
        self.partial_len = 0;
        let mask = header.mask.map(MaskCursor::new);
        match header.opcode {
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                // Parse checked payload_len <= 125 for control frames.
                let want = header.payload_len as usize;
                self.state = State::Control {
                    opcode: header.opcode,
                    mask,
                    buf: [0; crate::MAX_CONTROL_PAYLOAD_SIZE],
                    len: 0,
                    want,
                };
                self.decode_control(input, used)
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if header.opcode != OpCode::Continuation {
                    self.message_compressed = header.rsv1;
                }
                self.in_message = !header.fin;
                self.state = State::Data {
                    remaining: header.payload_len,
                    mask,
                    fin: header.fin,
                };
                Ok(self.decode_data(input, used))
            }
        }
    }

    fn decode_data<'a>(&mut self, input: &'a mut [u8], start: usize) -> Decoded<'a> {
        let State::Data {
            remaining,
            mask,
            fin,
        } = &mut self.state
        else {
            return Decoded {
                consumed: start,
                item: None,
            };
        };
        let avail = input.len() - start;
        if avail == 0 && *remaining != 0 {
            return Decoded {
                consumed: start,
                item: None,
            };
        }
        // `n <= avail`, so it fits in usize.
        let n = (*remaining).min(avail as u64) as usize;
        let payload = &mut input[start..start + n];
        if let Some(cursor) = mask {
            cursor.apply(payload);
        }
        *remaining -= n as u64;
        let message_end = *fin && *remaining == 0;
        let compressed = self.message_compressed;
        if *remaining == 0 {
            self.state = State::Header;
        }
        Decoded {
            consumed: start + n,
            item: Some(Item::Data {
                payload,
                compressed,
                message_end,
            }),
        }
    }

    fn decode_control<'a>(
        &mut self,
        input: &'a mut [u8],
        start: usize,
    ) -> Result<Decoded<'a>, FrameError> {
        let State::Control {
            opcode,
            mask,
            buf,
            len,
            want,
        } = &mut self.state
        else {
            return Ok(Decoded {
                consumed: start,
                item: None,
            });
        };
        let take = (*want - *len).min(input.len() - start);
        let dst = &mut buf[*len..*len + take];
        dst.copy_from_slice(&input[start..start + take]);
        if let Some(cursor) = mask {
            cursor.apply(dst);
        }
        *len += take;
        let consumed = start + take;
        if *len < *want {
            return Ok(Decoded {
                consumed,
                item: None,
            });
        }
        let payload = &buf[..*len];
        let item = match opcode {
            OpCode::Ping => {
                Item::Ping(ControlPayload::new(payload).unwrap_or(ControlPayload::EMPTY))
            }
            OpCode::Pong => {
                Item::Pong(ControlPayload::new(payload).unwrap_or(ControlPayload::EMPTY))
            }
            _ => match parse_close_payload(payload) {
                Ok(reply) => {
                    self.state = State::Closed;
                    return Ok(Decoded {
                        consumed,
                        item: Some(Item::Close(reply)),
                    });
                }
                Err(e) => return Err(self.fail(e)),
            },
        };
        self.state = State::Header;
        Ok(Decoded {
            consumed,
            item: Some(item),
        })
    }
}
