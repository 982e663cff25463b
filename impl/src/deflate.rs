//! permessage-deflate (RFC 7692) with no context takeover: bounded inflate, level-1 deflate.
//!
//! Memory: neither direction keeps a compressor or a window per connection. One inflate
//! and one deflate state (and a 32 KiB output buffer) live per thread and are reset for
//! every message; a connection only keeps the compressed bytes of a fragmented message
//! that is still arriving, bounded by [`max_compressed_message_size`]. This is the trap
//! the Go server fell into with per-connection compressors (nats-server #5553).

use std::cell::RefCell;

use flate2::{Compress, Compression as Level, Decompress, FlushCompress, FlushDecompress, Status};

/// Appended to a message before inflating: the `00 00 ff ff` RFC 7692 §7.2.2 asks the
/// sender to strip, then an empty final stored block so the stream ends cleanly.
/// Go: `compressLastBlock`.
pub const INFLATE_TAIL: [u8; 9] = [0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff];

/// A compressed message may buffer at most 8 × `max_payload` compressed bytes.
/// Go: `wsMaxMsgPayloadMultiple`.
pub const MAX_MSG_PAYLOAD_MULTIPLE: usize = 8;
/// ... and never more than 64 MiB. Go: `wsMaxMsgPayloadLimit`.
pub const MAX_MSG_PAYLOAD_LIMIT: usize = 64 * 1024 * 1024;

const CHUNK: usize = 32 * 1024;

/// The cap on compressed bytes buffered for one inbound message. Go: `wsMaxMessageSize`.
pub fn max_compressed_message_size(max_payload: usize) -> usize {
    let mpay = if max_payload == 0 {
        crate::DEFAULT_MAX_PAYLOAD
    } else {
        max_payload
    };
    mpay.saturating_mul(MAX_MSG_PAYLOAD_MULTIPLE)
        .min(MAX_MSG_PAYLOAD_LIMIT)
}

/// Why an inbound compressed message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The compressed bytes or the inflated bytes of one message passed their cap.
    /// Go: `ErrMaxPayload`.
    #[error("maximum payload exceeded")]
    MaxPayload,
    /// The deflate stream is corrupt or ends early. The text is the inflater's.
    #[error("flate: corrupt input: {0}")]
    Corrupt(String),
}

impl InflateError {
    /// One value of every variant, for the golden error table (exhaustive match below).
    #[doc(hidden)]
    pub fn examples() -> Vec<InflateError> {
        let all = vec![
            InflateError::MaxPayload,
            InflateError::Corrupt("<inflater message>".to_owned()),
        ];
        for e in &all {
            match e {
                InflateError::MaxPayload | InflateError::Corrupt(_) => {}
            }
        }
        all
    }
}

/// Where an inflated message goes; an error from it stops inflation and is returned.
#[derive(Debug)]
pub enum InflateOutcome<E> {
    /// The message was refused.
    Inflate(InflateError),
    /// The consumer refused the bytes.
    Sink(E),
}

/// Collects the compressed frames of one message (Go: `wsReadInfo.cbufs`) and inflates it
/// when the last one arrives, streaming the output to a consumer.
#[derive(Debug, Default)]
pub struct Inflater {
    buffered: Vec<u8>,
}

impl Inflater {
    /// An empty inflater.
    pub fn new() -> Self {
        Inflater::default()
    }

    /// Compressed bytes currently buffered (an unfinished fragmented message).
    pub fn buffered(&self) -> usize {
        self.buffered.len()
    }

    /// Takes the next compressed piece of a message. On the message's last piece the whole
    /// message is inflated and handed to `sink` in chunks of at most 32 KiB; at most
    /// `max_payload` inflated bytes are delivered, then [`InflateError::MaxPayload`].
    /// A single-frame message that arrived whole is inflated without being copied.
    pub fn push<E>(
        &mut self,
        piece: &[u8],
        message_end: bool,
        max_payload: usize,
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), InflateOutcome<E>> {
        let limit = max_compressed_message_size(max_payload);
        let result = self.push_inner(piece, message_end, max_payload, limit, sink);
        if result.is_err() || message_end {
            self.buffered.clear();
            if self.buffered.capacity() > CHUNK {
                // Don't keep a large message's buffer for the connection's lifetime.
                self.buffered = Vec::new();
            }
        }
        result
    }

    fn push_inner<E>(
        &mut self,
        piece: &[u8],
        message_end: bool,
        max_payload: usize,
        limit: usize,
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), InflateOutcome<E>> {
        let total = self.buffered.len().saturating_add(piece.len());
        if total > limit {
            return Err(InflateOutcome::Inflate(InflateError::MaxPayload));
        }
        if !message_end {
            self.buffered.extend_from_slice(piece);
            return Ok(());
        }
        if total + INFLATE_TAIL.len() > limit {
            return Err(InflateOutcome::Inflate(InflateError::MaxPayload));
        }
        let mpay = if max_payload == 0 {
            crate::DEFAULT_MAX_PAYLOAD
        } else {
            max_payload
        };
        if self.buffered.is_empty() {
            inflate_message(&[piece, &INFLATE_TAIL], mpay, sink)
        } else {
            inflate_message(&[&self.buffered, piece, &INFLATE_TAIL], mpay, sink)
        }
    }
}

thread_local! {
    static INFLATE: RefCell<Option<(Decompress, Vec<u8>)>> = const { RefCell::new(None) };
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Inflates one raw-deflate message given as consecutive pieces, delivering at most
/// `max_out` bytes; more output is [`InflateError::MaxPayload`] (Go's LimitedReader of
/// `mpay + 1` in `wsDecompressAndParse`). Output is produced 32 KiB at a time, so memory
/// stays bounded whatever the compression ratio.
pub fn inflate_message<E>(
    pieces: &[&[u8]],
    max_out: usize,
    sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), InflateOutcome<E>> {
    INFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (d, out) =
            slot.get_or_insert_with(|| (Decompress::new(false), Vec::with_capacity(CHUNK)));
        d.reset(false);
        let result = run_inflate(d, out, pieces, max_out, sink);
        out.clear();
        result
    })
}

fn run_inflate<E>(
    d: &mut Decompress,
    out: &mut Vec<u8>,
    pieces: &[&[u8]],
    max_out: usize,
    sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), InflateOutcome<E>> {
    let mut delivered = 0usize;
    for (index, piece) in pieces.iter().enumerate() {
        let last = index + 1 == pieces.len();
        let mut input: &[u8] = piece;
        loop {
            out.clear();
            let before_in = d.total_in();
            let before_out = d.total_out();
            let result = d.decompress_vec(input, out, FlushDecompress::None);
            // Bounded by input.len() and out's capacity.
            let used = (d.total_in() - before_in) as usize;
            let produced = (d.total_out() - before_out) as usize;
            input = &input[used..];
            // What was inflated before a corrupt byte is delivered too, so the output does
            // not depend on how the message was split into pieces (frame boundaries and
            // TCP reads; found by the `frame_decoder_chunked` fuzz target).
            if produced > 0 {
                let room = max_out - delivered;
                let give = produced.min(room);
                if give > 0 {
                    sink(&out[..give]).map_err(InflateOutcome::Sink)?;
                }
                delivered += give;
                if produced > room {
                    return Err(InflateOutcome::Inflate(InflateError::MaxPayload));
                }
            }
            let status = result
                .map_err(|e| InflateOutcome::Inflate(InflateError::Corrupt(e.to_string())))?;
            match status {
                // The final block: anything after it is ignored, as Go's reader does.
                Status::StreamEnd => return Ok(()),
                Status::Ok | Status::BufError => {
                    if input.is_empty() && produced < out.capacity() {
                        break;
                    }
                    if used == 0 && produced == 0 {
                        // Input left and room for output, yet no progress: not deflate.
                        return Err(InflateOutcome::Inflate(InflateError::Corrupt(
                            "no progress".to_owned(),
                        )));
                    }
                }
            }
        }
        if last {
            break;
        }
    }
    Err(InflateOutcome::Inflate(InflateError::Corrupt(
        "unexpected EOF".to_owned(),
    )))
}

/// Compresses `input` as one permessage-deflate message into `out` (appending): deflate
/// level 1 (Go: `flate.BestSpeed`), a sync flush, the trailing `00 00 ff ff` removed,
/// and the state reset so no context is carried to the next message.
///
/// Input longer than the 32 KiB window starts in window-sized pieces with a full flush
/// after each: the compressor then restarts at the start of its window and never slides
/// it (a memmove of the window and a rescan of both hash tables per 32 KiB, which halves
/// throughput). That only pays while a piece finds few matches (random text, messages
/// longer than the window); once a piece compresses to less than half, the rest goes in
/// one run so repeated messages keep their long-range matches. Input of at most 32 KiB
/// is compressed exactly as before. Still one message, inflated like any other.
pub fn deflate_message(input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
    deflate_into(input, out, false).map(|_| ())
}

/// The first bytes of a large message that decide whether it is worth compressing.
pub const PROBE_SIZE: usize = 4 * 1024;

/// Largest stored (uncompressed) deflate block.
pub const MAX_STORED_BLOCK: usize = 65_535;

/// As [`deflate_message`], for the server's own sends: data that deflate would not make
/// smaller goes in stored (uncompressed) deflate blocks instead, 5 bytes per 64 KiB -
/// still one compressed message (RSV1) that any client inflates, at memcpy speed.
///
/// A message over [`PROBE_SIZE`] is judged on its first [`PROBE_SIZE`] bytes: if
/// level 1 does not shrink them below 90 % (random or already-compressed data, where it
/// also runs at a seventh of its speed on text), the whole message is stored. Otherwise,
/// and for smaller messages, the result is the smaller of deflate's and the stored form.
pub fn deflate_or_store(input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
    if !deflate_if_smaller(input, out)? {
        store(input, out);
    }
    Ok(())
}

/// The deciding half of [`deflate_or_store`]: appends the deflated message to `out` and
/// returns true, or leaves `out` as it was and returns false when the stored form
/// ([`stored_blocks`], then [`STORED_END`]) is the one to send.
pub fn deflate_if_smaller(input: &[u8], out: &mut Vec<u8>) -> Result<bool, DeflateError> {
    let start = out.len();
    let compressed = deflate_into(input, out, input.len() > PROBE_SIZE)?;
    if compressed && out.len() - start <= stored_len(input.len()) {
        return Ok(true);
    }
    out.truncate(start);
    Ok(false)
}

/// Bytes of `len` input as stored blocks.
fn stored_len(len: usize) -> usize {
    len + 5 * len.div_ceil(MAX_STORED_BLOCK) + STORED_END.len()
}

/// The stored form of `len` bytes of input, block by block: each block's 5-byte header
/// and the input range it carries (at most [`MAX_STORED_BLOCK`] bytes). [`STORED_END`]
/// follows the last one. Both the copying [`deflate_or_store`] and the server's
/// zero-copy framing lay blocks out from this.
pub fn stored_blocks(len: usize) -> impl Iterator<Item = ([u8; 5], std::ops::Range<usize>)> {
    (0..len).step_by(MAX_STORED_BLOCK).map(move |start| {
        let end = len.min(start + MAX_STORED_BLOCK);
        (stored_header(end - start), start..end)
    })
}

/// The header of a non-final stored block of `len` bytes (at most [`MAX_STORED_BLOCK`]),
/// RFC 1951 §3.2.4: BFINAL 0, BTYPE 00 and padding to the byte, then LEN and NLEN.
fn stored_header(len: usize) -> [u8; 5] {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    let [l0, l1] = len.to_le_bytes();
    let [n0, n1] = (!len).to_le_bytes();
    [0x00, l0, l1, n0, n1]
}

/// What ends a stored-form message: what a sync flush leaves once its `00 00 ff ff` is
/// stripped, the header byte of an empty stored block whose LEN/NLEN the receiver appends.
pub const STORED_END: [u8; 1] = [0x00];

/// Appends `input` in stored form: blocks of at most [`MAX_STORED_BLOCK`], then
/// [`STORED_END`].
fn store(input: &[u8], out: &mut Vec<u8>) {
    out.reserve(stored_len(input.len()));
    for (header, range) in stored_blocks(input.len()) {
        out.extend_from_slice(&header);
        out.extend_from_slice(&input[range]);
    }
    out.extend_from_slice(&STORED_END);
}

/// Compresses `input` onto `out`; with `probe`, the first [`PROBE_SIZE`] bytes first, and
/// returns `Ok(false)` (with `out` partly written) if they do not shrink enough.
fn deflate_into(input: &[u8], out: &mut Vec<u8>, probe: bool) -> Result<bool, DeflateError> {
    DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = slot.get_or_insert_with(|| Compress::new(Level::fast(), false));
        c.reset();
        let start = out.len();
        // Deflate can expand incompressible data slightly, and each full flush adds an
        // empty stored block (5 bytes); reserve for that.
        let pieces = input.len().div_ceil(CHUNK).max(1);
        out.reserve(input.len() + input.len() / 64 + 64 + 5 * pieces);
        let mut rest = input;
        if probe {
            let (head, after) = rest.split_at(PROBE_SIZE.min(rest.len()));
            // A sync flush keeps the window, so the rest still finds matches in `head`.
            compress_piece(c, head, FlushCompress::Sync, out)?;
            if (out.len() - start) * 10 > head.len() * 9 {
                return Ok(false);
            }
            rest = after;
        }
        let mut in_pieces = true;
        while in_pieces && rest.len() > CHUNK {
            let (piece, after) = rest.split_at(CHUNK);
            let before = out.len();
            compress_piece(c, piece, FlushCompress::Full, out)?;
            in_pieces = (out.len() - before) * 2 > piece.len();
            rest = after;
        }
        compress_piece(c, rest, FlushCompress::Sync, out)?;
        let len = out.len();
        if len - start >= 4 && out[len - 4..] == [0x00, 0x00, 0xff, 0xff] {
            out.truncate(len - 4);
            Ok(true)
        } else {
            Err(DeflateError(
                "sync flush did not end with 00 00 ff ff".to_owned(),
            ))
        }
    })
}

/// Compresses all of `piece` and completes `flush`, growing `out` as needed.
fn compress_piece(
    c: &mut Compress,
    piece: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> Result<(), DeflateError> {
    let mut rest = piece;
    loop {
        let before_in = c.total_in();
        let before_out = c.total_out();
        c.compress_vec(rest, out, flush)
            .map_err(|e| DeflateError(e.to_string()))?;
        let used = (c.total_in() - before_in) as usize;
        let produced = c.total_out() - before_out;
        rest = &rest[used..];
        if rest.is_empty() && out.len() < out.capacity() {
            return Ok(());
        }
        if used == 0 && produced == 0 && out.len() < out.capacity() {
            return Err(DeflateError("compressor made no progress".to_owned()));
        }
        out.reserve(CHUNK);
    }
}

/// Compression failed. Go logs `Error during compression: %v` and closes with WriteError.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeflateError(String);

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_all(pieces: &[&[u8]], max: usize) -> Result<Vec<u8>, InflateError> {
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            got.extend_from_slice(b);
            Ok(())
        };
        match inflate_message(pieces, max, &mut sink) {
            Ok(()) => Ok(got),
            Err(InflateOutcome::Inflate(e)) => Err(e),
            Err(InflateOutcome::Sink(())) => Err(InflateError::Corrupt("sink".into())),
        }
    }

    #[test]
    fn round_trip_with_tail() {
        let text: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut c = Vec::new();
        assert!(deflate_message(&text, &mut c).is_ok());
        assert!(c.len() < text.len());
        assert_eq!(inflate_all(&[&c, &INFLATE_TAIL], 1 << 20), Ok(text));
    }

    /// `len` xorshift64 outputs from `seed`, mapped to bytes by `pick`.
    fn xorshift(len: usize, seed: u64, pick: impl Fn(u64) -> u8) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                pick(x)
            })
            .collect()
    }

    fn random_text(len: usize) -> Vec<u8> {
        xorshift(len, 0x2545_f491_4f6c_dd1d, |x| {
            b"abcdefghijklmnopqrstuvwxyz0123456789"[(x % 36) as usize]
        })
    }

    fn random_bytes(len: usize) -> Vec<u8> {
        xorshift(len, 0x9e37_79b9_7f4a_7c15, |x| x as u8)
    }

    fn json_lines(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0u64;
        while out.len() < len {
            i += 1;
            out.extend_from_slice(
                format!("{{\"id\":{i},\"user\":\"u{}\",\"ok\":true}}\n", i % 97).as_bytes(),
            );
        }
        out.truncate(len);
        out
    }

    fn or_store(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(deflate_or_store(input, &mut out).is_ok());
        assert_eq!(
            inflate_all(&[&out, &INFLATE_TAIL], usize::MAX)
                .ok()
                .as_deref(),
            Some(input)
        );
        out
    }

    #[test]
    fn incompressible_data_is_stored() {
        // Large: judged on the probe, stored at 5 bytes per 64 KiB block.
        let big = random_bytes(200_000);
        let out = or_store(&big);
        assert_eq!(out.len(), 200_000 + 5 * 4 + 1);
        assert_eq!(out[..5], [0x00, 0xff, 0xff, 0x00, 0x00]);
        // Small: deflate made it larger, so the stored form is sent.
        let small = random_bytes(1000);
        assert_eq!(or_store(&small).len(), 1006);
        // Any size across the block boundary round-trips.
        for len in [65_534, 65_535, 65_536, 131_071] {
            assert_eq!(or_store(&random_bytes(len)).len(), stored_len(len));
        }
    }

    #[test]
    fn compressible_data_is_deflated() {
        let text = json_lines(200_000);
        let out = or_store(&text);
        assert!(out.len() * 4 < text.len(), "{}", out.len());
        let small = json_lines(2000);
        assert!(or_store(&small).len() * 2 < small.len());
        // Text over the probe size that compresses: the probe must not stop it.
        let mixed = [json_lines(PROBE_SIZE), random_bytes(3 * PROBE_SIZE)].concat();
        let out = or_store(&mixed);
        assert!(out.len() < stored_len(mixed.len()));
        // Random first: the probe decides for the whole message.
        let mixed = [random_bytes(PROBE_SIZE), json_lines(20 * PROBE_SIZE)].concat();
        assert_eq!(or_store(&mixed).len(), stored_len(mixed.len()));
    }

    #[test]
    fn large_inputs_round_trip_across_window_pieces() {
        let text = random_text((1 << 20) + 7);
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, text.len()] {
            let mut c = vec![0xaa];
            assert!(deflate_message(&text[..len], &mut c).is_ok());
            assert_eq!(c[0], 0xaa, "appends");
            assert_eq!(
                inflate_all(&[&c[1..], &INFLATE_TAIL], 2 << 20).map(|v| v == text[..len]),
                Ok(true),
                "length {len}"
            );
        }
    }

    #[test]
    fn window_sized_input_is_compressed_in_one_run() {
        // At most one window: byte for byte what a single sync flush produces.
        let text = random_text(CHUNK);
        let mut ours = Vec::new();
        assert!(deflate_message(&text, &mut ours).is_ok());
        let mut c = Compress::new(Level::fast(), false);
        let mut plain = Vec::with_capacity(2 * CHUNK);
        assert!(
            c.compress_vec(&text, &mut plain, FlushCompress::Sync)
                .is_ok()
        );
        assert_eq!(plain[plain.len() - 4..], [0, 0, 0xff, 0xff]);
        assert_eq!(ours, plain[..plain.len() - 4]);
    }

    #[test]
    fn repeated_messages_keep_long_range_matches() {
        // Go's sub benchmarks publish one payload over and over: after the first piece
        // the 4 KiB messages must keep matching each other across 32 KiB boundaries
        // (about 5 % of the input; full flushes every 32 KiB would give about 13 %).
        let payload = random_text(4096);
        let mut stream = Vec::new();
        for _ in 0..64 {
            stream.extend_from_slice(b"MSG a 1 4096\r\n");
            stream.extend_from_slice(&payload);
            stream.extend_from_slice(b"\r\n");
        }
        let mut c = Vec::new();
        assert!(deflate_message(&stream, &mut c).is_ok());
        assert!(
            c.len() < stream.len() / 12,
            "{} of {}",
            c.len(),
            stream.len()
        );
        assert_eq!(inflate_all(&[&c, &INFLATE_TAIL], 1 << 20), Ok(stream));
    }

    #[test]
    fn bomb_stops_at_cap() {
        let zeros = vec![0u8; 10 << 20];
        let mut c = Vec::new();
        assert!(deflate_message(&zeros, &mut c).is_ok());
        assert!(c.len() < zeros.len() / 50);
        assert_eq!(
            inflate_all(&[&c, &INFLATE_TAIL], 1 << 20),
            Err(InflateError::MaxPayload)
        );
    }

    #[test]
    fn corrupt_input_delivers_the_same_bytes_however_it_is_split() {
        // From fuzz/regressions/frame_decoder_chunked: three bytes inflate, then a stored
        // block with bad lengths. Before the fix the three bytes were delivered only when
        // the corrupt byte arrived in a later piece.
        let data = [0x32u8, 0x51, 0xd0, 0, 0, 0, 0, 0, 0];
        let whole = inflate_all(&[&data, &INFLATE_TAIL], 1024);
        let mut got = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            got.extend_from_slice(b);
            Ok(())
        };
        assert!(matches!(
            inflate_message(&[&data, &INFLATE_TAIL], 1024, &mut sink),
            Err(InflateOutcome::Inflate(InflateError::Corrupt(_)))
        ));
        assert!(matches!(whole, Err(InflateError::Corrupt(_))));
        assert_eq!(got, b"4 (");
        for cut in 0..=data.len() {
            let mut split = Vec::new();
            let mut sink = |b: &[u8]| -> Result<(), ()> {
                split.extend_from_slice(b);
                Ok(())
            };
            let r = inflate_message(
                &[&data[..cut], &data[cut..], &INFLATE_TAIL],
                1024,
                &mut sink,
            );
            assert!(matches!(
                r,
                Err(InflateOutcome::Inflate(InflateError::Corrupt(_)))
            ));
            assert_eq!(split, got, "cut at {cut}");
        }
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut c = Vec::new();
        assert!(deflate_message(b"PING\r\n", &mut c).is_ok());
        if let Some(last) = c.last_mut() {
            *last ^= 0xff;
        }
        assert!(matches!(
            inflate_all(&[&c, &INFLATE_TAIL], 1024),
            Err(InflateError::Corrupt(_))
        ));
    }
}
