//! The read side of one connection: decoder, inflate, and the replies it queues.

use crate::codec::decoder::{Decoder, Item};
use crate::codec::encoder::Outbound;
use crate::deflate::{InflateError, InflateOutcome, Inflater};
use crate::frame::{CloseCode, ClosedState, FrameError, OpCode, close_message};
use crate::policy::{Compression, MaskPolicy};

/// Turns received bytes into NATS protocol bytes (Go: `wsReadAndParse`): data frames go
/// to the consumer (inflated when compressed), pings are answered, a close is echoed,
/// and every error queues the close frame that reports it.
#[derive(Debug)]
pub struct Reader {
    decoder: Decoder,
    inflater: Inflater,
    max_payload: usize,
}

/// How a [`Reader::read`] call ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadStatus {
    /// All input was used; more may come.
    Open,
    /// The peer sent a close frame; its echo is queued; nothing more will be read.
    /// Go: `io.EOF` from `wsRead`.
    PeerClosed,
}

/// Why reading stopped for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError<E> {
    /// A frame broke a protocol rule; a 1002 close carrying this text is queued.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A compressed message was refused (too large, or corrupt); a close is queued:
    /// 1009 for size, 1007 for corrupt data.
    #[error(transparent)]
    Inflate(InflateError),
    /// The consumer (the NATS parser) refused the bytes; nothing is queued here.
    #[error("{0}")]
    Sink(E),
}

impl<E> ReadError<E> {
    /// The close status queued for this error, if any.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            ReadError::Frame(e) => Some(e.close_code()),
            ReadError::Inflate(e) => Some(inflate_close_code(e)),
            ReadError::Sink(_) => None,
        }
    }
}

impl<E> ReadError<E> {
    /// Why the connection is closed after this error (Go: `wsHandleProtocolError` →
    /// `ProtocolViolation`; an inflate failure surfaces as a read error of the parse
    /// loop); `None` for the consumer's own errors, which carry their state. The one
    /// mapping of read errors to closed states.
    pub fn closed_state(&self) -> Option<ClosedState> {
        match self {
            ReadError::Frame(_) => Some(ClosedState::ProtocolViolation),
            ReadError::Inflate(InflateError::MaxPayload) => Some(ClosedState::MaxPayloadExceeded),
            ReadError::Inflate(InflateError::Corrupt(_)) => Some(ClosedState::ReadError),
            ReadError::Sink(_) => None,
        }
    }
}

/// The close status answering an inflate failure: 1009 for size, 1007 for corrupt data.
fn inflate_close_code(e: &InflateError) -> CloseCode {
    match e {
        InflateError::MaxPayload => CloseCode::MESSAGE_TOO_BIG,
        InflateError::Corrupt(_) => CloseCode::INVALID_PAYLOAD,
    }
}

impl Reader {
    /// A reader with these policies; `max_payload` bounds inflated messages (0 = 1 MiB).
    pub fn new(mask: MaskPolicy, compression: Compression, max_payload: usize) -> Self {
        Reader {
            decoder: Decoder::new(mask, compression),
            inflater: Inflater::new(),
            max_payload,
        }
    }

    /// Changes the inflate bound (the account's `max_payload` can be known only after CONNECT).
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload;
    }

    /// Header bytes held while waiting for the rest of a header.
    pub fn header_pending(&self) -> usize {
        self.decoder.header_pending()
    }

    /// Compressed bytes held for an unfinished message.
    pub fn buffered(&self) -> usize {
        self.inflater.buffered()
    }

    /// Reads `input` (unmasked in place). Payload bytes go to `sink` in order; bytes
    /// decoded before an error are delivered before the error is returned (Go:
    /// `TestWSFlushesBufferedDeliveryBeforeProtocolClose`). Replies go to `out`.
    pub fn read<E>(
        &mut self,
        input: &mut [u8],
        out: &mut Outbound,
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<ReadStatus, ReadError<E>> {
        let mut pos = 0;
        while pos < input.len() || pos == 0 {
            let decoded = match self.decoder.decode(&mut input[pos..]) {
                Ok(d) => d,
                Err(e) => {
                    out.queue_close(close_message(e.close_code(), &e.to_string()));
                    return Err(ReadError::Frame(e));
                }
            };
            pos += decoded.consumed;
            let Some(item) = decoded.item else {
                break;
            };
            match item {
                Item::Data {
                    payload,
                    compressed: false,
                    ..
                } => sink(payload).map_err(ReadError::Sink)?,
                Item::Data {
                    payload,
                    compressed: true,
                    message_end,
                } => {
                    match self
                        .inflater
                        .push(payload, message_end, self.max_payload, sink)
                    {
                        Ok(()) => {}
                        Err(InflateOutcome::Sink(e)) => return Err(ReadError::Sink(e)),
                        Err(InflateOutcome::Inflate(e)) => {
                            out.queue_close(close_message(inflate_close_code(&e), &e.to_string()));
                            return Err(ReadError::Inflate(e));
                        }
                    }
                }
                Item::Ping(payload) => out.queue_control(OpCode::Pong, &payload),
                Item::Pong(_) => {}
                Item::Close(reply) => {
                    out.queue_close(reply);
                    return Ok(ReadStatus::PeerClosed);
                }
            }
        }
        if self.decoder.is_closed() {
            Ok(ReadStatus::PeerClosed)
        } else {
            Ok(ReadStatus::Open)
        }
    }
}
