//! Outbound framing (Go's `wsCollapsePtoNB`): pending NATS bytes into data frames, control
//! frames first and the close frame last. Whole frames are written by [`crate::frame::Frame`];
//! the zero-copy data path writes its headers with [`crate::frame::FrameHeader::encode`].

use std::io::IoSlice;
use std::ops::Range;

use crate::deflate::{DeflateError, STORED_END, deflate_if_smaller, stored_blocks};
use crate::frame::{ClosedState, ControlPayload, Frame, FrameHeader, OpCode, apply_mask};
use crate::policy::{Compression, Framing};

/// Where client-side mask keys come from (RFC 6455 §5.3: unpredictable). The server
/// passes a CSPRNG-backed source; tests pass a fixed sequence.
pub type MaskKeys = Box<dyn FnMut() -> [u8; 4] + Send>;

/// Whether we mask what we write: only when acting as a client (a soliciting leaf node).
#[non_exhaustive]
pub enum WriteMasking {
    /// Server role: frames go out unmasked.
    Unmasked,
    /// Client role: every frame gets a fresh key from the source.
    Masked(MaskKeys),
}

impl std::fmt::Debug for WriteMasking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WriteMasking::Unmasked => "Unmasked",
            WriteMasking::Masked(_) => "Masked",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseState {
    Open,
    /// A close frame is waiting to go out after all pending data.
    Queued(ControlPayload),
    /// The close frame was handed to the writer: nothing more is framed.
    Sent,
}

/// The write side of one connection: queued control frames, the close frame, and the
/// framing rules. Pending NATS bytes are given to [`Outbound::collapse`] at flush time.
#[derive(Debug)]
pub struct Outbound {
    framing: Framing,
    compression: Compression,
    masking: WriteMasking,
    /// Encoded control frames (pongs) waiting for the next flush, in order.
    controls: Vec<u8>,
    close: CloseState,
}

/// Frames ready for one vectored write: control frames first, then the data frames, then
/// the close frame. Headers and control frames live in a small arena; payloads are ranges
/// of the (moved, not copied) pending buffer or of the deflated bytes.
#[derive(Debug, Default)]
pub struct Collapsed {
    small: Vec<u8>,
    body: Vec<u8>,
    parts: Vec<Part>,
    len: usize,
    /// The payload stream before framing (scratch, reused).
    segments: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Small(Range<usize>),
    Body(Range<usize>),
}

impl Outbound {
    /// The write side for a connection with these policies.
    pub fn new(framing: Framing, compression: Compression, masking: WriteMasking) -> Self {
        Outbound {
            framing,
            compression,
            masking,
            controls: Vec::new(),
            close: CloseState::Open,
        }
    }

    /// Queues a control frame (ping or pong) for the next flush; dropped once a close
    /// frame has been queued (RFC 6455 §5.5.1: nothing follows a close).
    /// Go: `wsEnqueueControlMessage`.
    pub fn queue_control(&mut self, opcode: OpCode, payload: &ControlPayload) {
        if self.close != CloseState::Open {
            return;
        }
        let mut controls = std::mem::take(&mut self.controls);
        self.encode_control(opcode, payload, &mut controls);
        self.controls = controls;
    }

    /// Appends one whole control frame to `dst`. Control frames are never compressed
    /// and their payload fits the 7-bit length.
    fn encode_control(&mut self, opcode: OpCode, payload: &ControlPayload, dst: &mut Vec<u8>) {
        let key = self.next_key();
        Frame::new(opcode, payload.as_bytes())
            .masked(key)
            .write(dst);
    }

    /// Queues the close frame; it goes out after everything pending, once. Returns false
    /// if a close frame was already queued or sent (Go: `closeSent`).
    pub fn queue_close(&mut self, payload: ControlPayload) -> bool {
        if self.close != CloseState::Open {
            return false;
        }
        self.close = CloseState::Queued(payload);
        true
    }

    /// Queues the close frame for `state` if that state sends one (Go: `markConnAsClosed`
    /// → `wsEnqueueCloseMessage`, skipped for transport failures and slow consumers).
    pub fn queue_close_for(&mut self, state: ClosedState) -> bool {
        state.sends_close_frame() && self.queue_close(state.close_payload())
    }

    /// Whether a close frame has been queued or sent.
    pub fn close_queued(&self) -> bool {
        self.close != CloseState::Open
    }

    /// Whether the close frame has been framed: the connection's write side is done.
    pub fn close_sent(&self) -> bool {
        self.close == CloseState::Sent
    }

    /// Whether a flush has anything to write besides `pending`.
    pub fn has_queued(&self) -> bool {
        !self.controls.is_empty() || matches!(self.close, CloseState::Queued(_))
    }

    fn next_key(&mut self) -> Option<[u8; 4]> {
        match &mut self.masking {
            WriteMasking::Unmasked => None,
            WriteMasking::Masked(keys) => Some(keys()),
        }
    }

    /// Frames the queued control frames, all of `pending` (which is left empty), and the
    /// close frame, into `out` (whose buffers are reused). Go: `wsCollapsePtoNB`:
    /// - pending bytes at or below 64 are never compressed; bytes that deflate would not
    ///   make smaller go in stored deflate blocks ([`crate::deflate::deflate_or_store`]);
    /// - compressed: one deflated message, split into 4096-byte fragments for browsers
    ///   (RSV1 on the first, continuations after) but never for Safari;
    /// - uncompressed: one frame, or complete frames of at most 4096 bytes for browsers.
    ///
    /// After the close frame has been framed, pending data is discarded: nothing may
    /// follow a close frame (RFC 6455 §5.5.1).
    pub fn collapse(
        &mut self,
        pending: &mut Vec<u8>,
        out: &mut Collapsed,
    ) -> Result<(), DeflateError> {
        out.clear();
        if self.close == CloseState::Sent {
            pending.clear();
            return Ok(());
        }
        if !self.controls.is_empty() {
            out.push_small(&self.controls);
            self.controls.clear();
        }
        if !pending.is_empty() {
            let compress = self.compression == Compression::Negotiated
                && pending.len() > crate::COMPRESS_THRESHOLD;
            let max = if compress {
                self.framing.max_compressed_frame_payload()
            } else {
                self.framing.max_frame_payload()
            };
            if compress && deflate_if_smaller(pending, &mut out.body)? {
                pending.clear();
                out.segments.push(Part::Body(0..out.body.len()));
            } else {
                // The pending buffer itself becomes the payload: moved, not copied. In
                // stored form its blocks are framed by small headers between them.
                std::mem::swap(pending, &mut out.body);
                if compress {
                    for (header, range) in stored_blocks(out.body.len()) {
                        let header = out.arena(&header);
                        out.segments.push(Part::Small(header));
                        out.segments.push(Part::Body(range));
                    }
                    let tail = out.arena(&STORED_END);
                    out.segments.push(Part::Small(tail));
                } else {
                    out.segments.push(Part::Body(0..out.body.len()));
                }
            }
            self.frame_segments(out, compress, max);
        }
        if let CloseState::Queued(payload) = self.close {
            let mut frame =
                Vec::with_capacity(crate::MAX_FRAME_HEADER_SIZE + payload.as_bytes().len());
            self.encode_control(OpCode::Close, &payload, &mut frame);
            out.push_small(&frame);
            self.close = CloseState::Sent;
        }
        Ok(())
    }

    /// Cuts the payload stream in `out.segments` into frames of at most `max` bytes (one
    /// frame if `None`), masking each frame's payload in place with its own key.
    fn frame_segments(&mut self, out: &mut Collapsed, compressed: bool, max: Option<usize>) {
        let segments = std::mem::take(&mut out.segments);
        let total: usize = segments.iter().map(Part::len).sum();
        let step = max.unwrap_or(total).max(1);
        let (mut seg, mut seg_off) = (0, 0);
        let mut start = 0;
        while start < total {
            let end = total.min(start + step);
            let first = start == 0;
            let last = end == total;
            // Compressed fragments form one message (continuations); uncompressed browser
            // chunks are each a complete message (Go: FIN on every chunk).
            let (opcode, fin) = if compressed {
                (
                    if first {
                        OpCode::Binary
                    } else {
                        OpCode::Continuation
                    },
                    last,
                )
            } else {
                (OpCode::Binary, true)
            };
            let key = self.next_key();
            let header = FrameHeader {
                fin,
                rsv1: compressed && first,
                opcode,
                mask: key,
                payload_len: (end - start) as u64,
            };
            let mut buf = [0u8; crate::MAX_FRAME_HEADER_SIZE];
            let n = header.encode(&mut buf);
            out.push_small(&buf[..n]);
            let mut phase = 0;
            while phase < end - start {
                let part = &segments[seg];
                let take = (part.len() - seg_off).min(end - start - phase);
                let piece = part.sub(seg_off, take);
                if let Some(key) = key {
                    apply_mask(out.bytes_mut(&piece), key, phase);
                }
                out.push_part(piece);
                phase += take;
                seg_off += take;
                if seg_off == part.len() {
                    seg += 1;
                    seg_off = 0;
                }
            }
            start = end;
        }
        out.segments = segments;
        out.segments.clear();
    }
}

impl Part {
    fn len(&self) -> usize {
        match self {
            Part::Small(r) | Part::Body(r) => r.len(),
        }
    }

    /// `len` bytes of this part from `offset`.
    fn sub(&self, offset: usize, len: usize) -> Part {
        match self {
            Part::Small(r) => Part::Small(r.start + offset..r.start + offset + len),
            Part::Body(r) => Part::Body(r.start + offset..r.start + offset + len),
        }
    }
}

impl Collapsed {
    /// An empty set of frames.
    pub fn new() -> Self {
        Collapsed::default()
    }

    /// Takes all of `pending` (moved, not copied; left empty) as bytes written as they
    /// are: the output of a plain NATS connection.
    pub fn unframed(&mut self, pending: &mut Vec<u8>) {
        self.clear();
        std::mem::swap(pending, &mut self.body);
        let len = self.body.len();
        self.push_part(Part::Body(0..len));
    }

    fn clear(&mut self) {
        self.small.clear();
        self.body.clear();
        self.parts.clear();
        self.segments.clear();
        self.len = 0;
    }

    /// Copies `bytes` into the small arena without writing them yet.
    fn arena(&mut self, bytes: &[u8]) -> Range<usize> {
        let at = self.small.len();
        self.small.extend_from_slice(bytes);
        at..self.small.len()
    }

    fn bytes_mut(&mut self, part: &Part) -> &mut [u8] {
        match part {
            Part::Small(r) => &mut self.small[r.clone()],
            Part::Body(r) => &mut self.body[r.clone()],
        }
    }

    /// Writes `part` next, merged with the previous part when they are adjacent.
    fn push_part(&mut self, part: Part) {
        self.len += part.len();
        match (self.parts.last_mut(), &part) {
            (Some(Part::Small(prev)), Part::Small(r)) | (Some(Part::Body(prev)), Part::Body(r))
                if prev.end == r.start =>
            {
                prev.end = r.end;
            }
            _ => self.parts.push(part),
        }
    }

    fn push_small(&mut self, bytes: &[u8]) {
        let at = self.small.len();
        self.small.extend_from_slice(bytes);
        // Merge with a directly preceding small part: fewer iovecs.
        if let Some(Part::Small(r)) = self.parts.last_mut()
            && r.end == at
        {
            r.end = self.small.len();
            self.len += bytes.len();
            return;
        }
        self.parts.push(Part::Small(at..self.small.len()));
        self.len += bytes.len();
    }

    /// Total bytes to write.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffers in write order.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(|p| match p {
            Part::Small(r) => &self.small[r.clone()],
            Part::Body(r) => &self.body[r.clone()],
        })
    }

    /// Fills `dst` with the buffers still to write after `written` bytes went out (a
    /// partial write resumes exactly where it stopped).
    pub fn io_slices<'a>(&'a self, written: usize, dst: &mut Vec<IoSlice<'a>>) {
        dst.clear();
        let mut skip = written;
        for s in self.slices() {
            if skip >= s.len() {
                skip -= s.len();
                continue;
            }
            dst.push(IoSlice::new(&s[skip..]));
            skip = 0;
        }
    }

    /// Everything, concatenated (tests and tools).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len);
        for s in self.slices() {
            v.extend_from_slice(s);
        }
        v
    }

    /// Mutable access to one buffer (tests: buffers never share memory).
    pub fn slice_mut(&mut self, index: usize) -> Option<&mut [u8]> {
        match self.parts.get(index)? {
            Part::Small(r) => self.small.get_mut(r.clone()),
            Part::Body(r) => self.body.get_mut(r.clone()),
        }
    }

    /// Number of buffers.
    pub fn buffer_count(&self) -> usize {
        self.parts.len()
    }

    /// Capacity of the internal buffers (tests: buffers are reused across flushes).
    pub fn capacities(&self) -> (usize, usize, usize) {
        (
            self.small.capacity(),
            self.body.capacity(),
            self.parts.capacity(),
        )
    }

    /// Hands the payload buffer back for reuse as the next pending buffer.
    pub fn recycle_into(&mut self, pending: &mut Vec<u8>) {
        if pending.capacity() < self.body.capacity() {
            std::mem::swap(pending, &mut self.body);
            pending.clear();
        }
    }
}
