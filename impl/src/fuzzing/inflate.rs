//! The inflate target: compressed messages, fragmented, through the reader.

use std::convert::Infallible;

use arbitrary::{Arbitrary, Unstructured};

use super::reference;
use crate::codec::{Collapsed, Outbound, ReadError, ReadStatus, Reader, WriteMasking};
use crate::deflate::{InflateError, deflate_message, max_compressed_message_size};
use crate::frame::{Frame, OpCode};
use crate::policy::{Compression, Framing, MaskPolicy};

use super::spec::InflateSpec;

/// Plain text larger than this is not built (a bomb needs far less to hit any cap).
const MAX_PLAIN: usize = 4 << 20;

/// Structured messages ([`InflateSpec`]). Oracle: [`inflate_spec`].
pub fn inflate(data: &[u8]) {
    if let Ok(spec) = InflateSpec::arbitrary_take_rest(Unstructured::new(data)) {
        inflate_spec(&spec);
    }
}

/// Sends each message as masked frames (RSV1 on the first when compressed) through a
/// [`Reader`] with compression negotiated, one frame per read. Oracles: a message never
/// delivers more than `max_payload` bytes; the compressed bytes buffered never exceed
/// 8 × `max_payload` (capped at 64 MiB); an intact deflated text comes back exactly, or,
/// when it is larger than `max_payload` (a bomb) or its deflated form is beyond the
/// buffer cap, the read ends in `maximum payload exceeded` with a 1009 close frame after
/// delivering at most `max_payload` bytes of it; a corrupt stream ends in 1007 or 1009.
pub fn inflate_spec(spec: &InflateSpec) {
    let mpay = if spec.max_payload == 0 {
        crate::DEFAULT_MAX_PAYLOAD
    } else {
        spec.max_payload
    };
    let cap = max_compressed_message_size(spec.max_payload);
    let mut reader = Reader::new(
        MaskPolicy::Required,
        Compression::Negotiated,
        spec.max_payload,
    );
    let mut out = Outbound::new(Framing::Whole, Compression::Off, WriteMasking::Unmasked);
    for (index, m) in spec.messages.iter().enumerate() {
        let plain: Vec<u8> = if m.raw {
            Vec::new()
        } else {
            let copies = (usize::from(m.repeat) + 1).min(MAX_PLAIN / m.body.len().max(1));
            m.body.repeat(copies)
        };
        let mut sent = if m.raw {
            m.body.clone()
        } else if m.compressed {
            let mut c = Vec::new();
            let done = deflate_message(&plain, &mut c);
            assert!(done.is_ok(), "deflate failed: {done:?}");
            c
        } else {
            plain.clone()
        };
        if let Some((at, xor)) = m.corrupt
            && !sent.is_empty()
        {
            let i = usize::from(at) % sent.len();
            sent[i] ^= xor.max(1);
        }
        let frames = fragment(&sent, &m.fragments, m.compressed, index as u8);
        let mut delivered = Vec::new();
        let mut end = Ok(ReadStatus::Open);
        for mut frame in frames {
            let mut sink = |b: &[u8]| -> Result<(), Infallible> {
                delivered.extend_from_slice(b);
                Ok(())
            };
            end = reader.read(&mut frame, &mut out, &mut sink);
            assert!(
                reader.buffered() <= cap,
                "{} compressed bytes buffered, cap {cap}",
                reader.buffered()
            );
            if end.is_err() {
                break;
            }
        }
        if !m.compressed {
            // Uncompressed data is passed through; the NATS parser enforces max_payload.
            assert_eq!(delivered, sent, "uncompressed message {index} changed");
            assert_eq!(end, Ok(ReadStatus::Open));
            continue;
        }
        assert!(
            delivered.len() <= mpay,
            "{} bytes delivered, max_payload {mpay}",
            delivered.len()
        );
        // The corruption XORs a non-zero value, so it always changes a byte.
        let intact = !m.raw && (m.corrupt.is_none() || sent.is_empty());
        match &end {
            Ok(status) => {
                assert_eq!(*status, ReadStatus::Open);
                if intact {
                    assert_eq!(delivered, plain, "message {index} changed");
                }
                assert!(sent.len() + crate::deflate::INFLATE_TAIL.len() <= cap);
            }
            Err(ReadError::Inflate(e)) => {
                let (code, text) = close_of(&mut out);
                match e {
                    InflateError::MaxPayload => {
                        assert_eq!((code, text.as_str()), (1009, "maximum payload exceeded"));
                        if intact {
                            assert!(
                                plain.len() > mpay || sent.len() + 9 > cap,
                                "refused {} bytes ({} deflated), max_payload {mpay}",
                                plain.len(),
                                sent.len()
                            );
                            assert!(plain.starts_with(&delivered));
                        }
                    }
                    InflateError::Corrupt(_) => {
                        assert!(!intact, "intact message {index} called corrupt: {e}");
                        assert_eq!(code, 1007);
                    }
                }
                return;
            }
            Err(e) => panic!("message {index}: unexpected {e}"),
        }
        if intact {
            assert!(
                plain.len() <= mpay,
                "{} bytes accepted, max_payload {mpay}",
                plain.len()
            );
        }
    }
}

/// Cuts `body` into masked frames of the given sizes (cycled; 0 = an empty frame).
fn fragment(body: &[u8], sizes: &[u8], compressed: bool, seed: u8) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut rest = body;
    let mut empties = 0;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() || pieces.len() >= 64 {
            break;
        }
        if size == 0 && empties < 4 {
            empties += 1;
            pieces.push(&rest[..0]);
            continue;
        }
        let (now, later) = rest.split_at(usize::from(size).clamp(1, rest.len()));
        pieces.push(now);
        rest = later;
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest);
    }
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let key = [seed, i as u8, 0x5a, 0xa5];
            Frame::new(
                if i == 0 {
                    OpCode::Binary
                } else {
                    OpCode::Continuation
                },
                piece,
            )
            .fin(i == last)
            .rsv1(compressed && i == 0)
            .masked(Some(key))
            .to_vec()
        })
        .collect()
}

/// The status and reason of the one close frame queued.
fn close_of(out: &mut Outbound) -> (u16, String) {
    let mut collapsed = Collapsed::new();
    assert!(out.collapse(&mut Vec::new(), &mut collapsed).is_ok());
    let frames = match reference::split_frames(&collapsed.to_vec()) {
        Ok(f) => f,
        Err(e) => panic!("broken frame: {e}"),
    };
    let [frame] = frames.as_slice() else {
        panic!("{} frames instead of one close", frames.len());
    };
    assert_eq!(frame.opcode, 8);
    reference::check_sent_close(&frame.payload);
    let code = frame
        .payload
        .first()
        .zip(frame.payload.get(1))
        .map_or(0, |(a, b)| u16::from(*a) << 8 | u16::from(*b));
    (
        code,
        String::from_utf8_lossy(frame.payload.get(2..).unwrap_or_default()).into_owned(),
    )
}
