//! The raw-byte decoder targets: one read against the reference, and any segmentation
//! against one read, for the bare decoder and for the reader with inflate and replies.

use std::convert::Infallible;

use super::reference::{self, Event, Outcome};
use super::{segments, split_input};
use crate::codec::{
    Collapsed, Decoder, Item, Outbound, ReadError, ReadStatus, Reader, WriteMasking,
};
use crate::deflate::InflateError;
use crate::frame::{FrameError, close_message};
use crate::policy::{Compression, Framing, MaskPolicy};

/// The connection a decoder target reads for: chosen by the first input byte.
#[derive(Debug, Clone, Copy)]
struct Setup {
    mask: MaskPolicy,
    compression: Compression,
    max_payload: usize,
}

impl Setup {
    fn from_byte(b: u8) -> Setup {
        Setup {
            mask: if b & 1 == 0 {
                MaskPolicy::Required
            } else {
                MaskPolicy::Exempt
            },
            compression: if b & 2 == 0 {
                Compression::Off
            } else {
                Compression::Negotiated
            },
            // Small caps make the inflate limits reachable; 0 is the 1 MiB default.
            max_payload: match (b >> 2) & 3 {
                0 => 0,
                1 => 16,
                2 => 1024,
                _ => 65536,
            },
        }
    }
}

/// Raw bytes (first byte: policies) into the decoder in one read. Oracles: no panic;
/// never more consumed than given; events and error equal the reference reading of Go's
/// rules; every error maps to a 1002 close; decoded payload total ≤ input; and the same
/// bytes through [`Reader`] deliver the same data and queue a valid close frame.
pub fn frame_decoder(data: &[u8]) {
    let Some((&options, stream)) = data.split_first() else {
        return;
    };
    let setup = Setup::from_byte(options);
    let got = decode_segments(&[stream], setup.mask, setup.compression);
    let want = reference::decode(stream, setup.mask, setup.compression);
    assert_eq!(got, want, "decoder disagrees with the reference reading");
    assert!(got.data_len() <= stream.len(), "more payload than input");
    if let Some(e) = &got.error {
        let code = e.close_code().0;
        assert_eq!(code, 1002, "{e} maps to {code}");
    }
    let read = read_segments(&[stream], setup);
    if setup.compression == Compression::Off {
        let data: Vec<u8> = want
            .events
            .iter()
            .flat_map(|e| match e {
                Event::Data { bytes, .. } => bytes.clone(),
                Event::Ping(_) | Event::Pong(_) | Event::Close(_) => Vec::new(),
            })
            .collect();
        assert_eq!(read.delivered, data, "reader delivered other bytes");
    }
    check_read_output(&read, &want);
}

/// `[options][n][n read sizes][stream]`: the same stream in the reads the input chooses
/// and in one read. Oracle: identical events (payload slices merged), error, delivered
/// bytes, replies and status, whatever the segmentation.
pub fn frame_decoder_chunked(data: &[u8]) {
    let (options, sizes, stream) = split_input(data);
    let setup = Setup::from_byte(options);
    let reads = segments(stream, sizes);
    let whole = decode_segments(&[stream], setup.mask, setup.compression);
    let split = decode_segments(&reads, setup.mask, setup.compression);
    assert_eq!(split, whole, "decoder result depends on the segmentation");
    let whole = read_segments(&[stream], setup).without_inflater_text();
    let split = read_segments(&reads, setup).without_inflater_text();
    assert_eq!(split, whole, "reader result depends on the segmentation");
}

/// Feeds reads to a fresh decoder until a close or an error; checks the decode contract.
pub(crate) fn decode_segments(
    reads: &[&[u8]],
    mask: MaskPolicy,
    compression: Compression,
) -> Outcome {
    let mut decoder = Decoder::new(mask, compression);
    let mut out = Outcome::default();
    for read in reads {
        let mut buf = read.to_vec();
        let mut pos = 0;
        // Each call consumes bytes or produces an item; bound the loop all the same.
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls <= 2 * buf.len() + 2, "decoder makes no progress");
            let len = buf.len() - pos;
            let decoded = match decoder.decode(&mut buf[pos..]) {
                Ok(d) => d,
                Err(e) => {
                    assert_eq!(
                        decoder.decode(&mut []).err(),
                        Some(e.clone()),
                        "an error is final"
                    );
                    out.error = Some(e);
                    return out;
                }
            };
            assert!(decoded.consumed <= len, "consumed more than given");
            assert!(decoder.header_pending() < crate::MAX_FRAME_HEADER_SIZE);
            match decoded.item {
                None => {
                    if decoder.is_closed() {
                        return out;
                    }
                    assert_eq!(decoded.consumed, len, "input left without an item");
                    break;
                }
                Some(item) => match item {
                    Item::Data {
                        payload,
                        compressed,
                        message_end,
                    } => out.push_data(payload, compressed, message_end),
                    Item::Ping(p) => out.events.push(Event::Ping(p.as_bytes().to_vec())),
                    Item::Pong(p) => out.events.push(Event::Pong(p.as_bytes().to_vec())),
                    Item::Close(reply) => {
                        out.events.push(Event::Close(reply.as_bytes().to_vec()));
                        assert!(decoder.is_closed());
                        return out;
                    }
                },
            }
            pos += decoded.consumed;
        }
    }
    out
}

/// What a [`Reader`] did with some reads.
#[derive(Debug, PartialEq, Eq)]
struct ReadResult {
    delivered: Vec<u8>,
    end: Result<ReadStatus, ReadError<Infallible>>,
    written: Vec<u8>,
}

fn read_segments(reads: &[&[u8]], setup: Setup) -> ReadResult {
    let mut reader = Reader::new(setup.mask, setup.compression, setup.max_payload);
    let mut out = Outbound::new(Framing::Whole, Compression::Off, WriteMasking::Unmasked);
    let mut delivered = Vec::new();
    let cap = crate::deflate::max_compressed_message_size(setup.max_payload);
    let mut end = Ok(ReadStatus::Open);
    for read in reads {
        let mut buf = read.to_vec();
        let mut sink = |b: &[u8]| -> Result<(), Infallible> {
            delivered.extend_from_slice(b);
            Ok(())
        };
        end = reader.read(&mut buf, &mut out, &mut sink);
        assert!(
            reader.buffered() <= cap,
            "compressed bytes buffered past the cap"
        );
        if end != Ok(ReadStatus::Open) {
            break;
        }
    }
    let mut collapsed = Collapsed::new();
    let mut pending = Vec::new();
    let flushed = out.collapse(&mut pending, &mut collapsed);
    assert!(flushed.is_ok(), "collapse failed: {flushed:?}");
    ReadResult {
        delivered,
        end,
        written: collapsed.to_vec(),
    }
}

impl ReadResult {
    /// The result with the inflater's diagnostic removed from a corrupt-data error and
    /// its 1007 close reason: zlib words the same corruption differently depending on
    /// where the input was cut ("invalid distance too far back" in one call, "repeated
    /// call with bad state" in two). Kind, status and delivered bytes must still agree.
    fn without_inflater_text(mut self) -> ReadResult {
        if let Err(ReadError::Inflate(InflateError::Corrupt(text))) = &mut self.end {
            text.clear();
            if let Ok(mut frames) = reference::split_frames(&self.written)
                && let Some(close) = frames.last_mut()
            {
                close.payload.truncate(2);
                self.written = frames
                    .iter()
                    .flat_map(|f| [&[f.opcode, f.payload.len() as u8][..], &f.payload].concat())
                    .collect();
            }
        }
        self
    }
}

/// The reader's replies: a pong per ping, then exactly one close frame if the read
/// ended, carrying the error's status and text or the reply to the peer's close.
fn check_read_output(read: &ReadResult, want: &Outcome) {
    let frames = match reference::split_frames(&read.written) {
        Ok(f) => f,
        Err(e) => panic!("reader wrote a broken frame: {e}"),
    };
    let (closes, controls): (Vec<_>, Vec<_>) = frames.iter().partition(|f| f.opcode == 8);
    let pings: Vec<&Vec<u8>> = want
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Ping(p) => Some(p),
            _ => None,
        })
        .collect();
    for f in &frames {
        assert!(f.fin && f.rsv == 0 && f.key.is_none() && f.minimal_length);
    }
    // An inflate error stops the read early: fewer pongs then.
    let stopped_early = matches!(read.end, Err(ReadError::Inflate(_)));
    if !stopped_early {
        assert_eq!(controls.len(), pings.len(), "one pong per ping");
    }
    for (f, p) in controls.iter().zip(&pings) {
        assert_eq!(f.opcode, 10);
        assert_eq!(&f.payload, *p, "pong echoes the ping");
    }
    if let Some(last) = frames.last()
        && !closes.is_empty()
    {
        assert_eq!(closes.len(), 1, "one close frame");
        assert_eq!(last.opcode, 8, "close frame last");
        reference::check_sent_close(&last.payload);
    }
    match &read.end {
        Ok(ReadStatus::Open) => assert!(closes.is_empty()),
        Ok(ReadStatus::PeerClosed) => {
            let reply = want.events.iter().find_map(|e| match e {
                Event::Close(r) => Some(r),
                _ => None,
            });
            assert_eq!(closes.first().map(|f| &f.payload), reply);
        }
        Err(e) => {
            let code = e.close_code();
            assert!(code.is_some(), "{e} has no close code");
            let expected =
                close_message(code.unwrap_or(crate::frame::CloseCode(0)), &e.to_string());
            assert_eq!(
                closes.first().map(|f| &f.payload[..]),
                Some(expected.as_bytes()),
                "close frame for {e}"
            );
            if let ReadError::Frame(fe) = e {
                assert_eq!(Some(fe), want.error.as_ref());
            }
        }
    }
    if let Some(FrameError::InvalidCloseStatus(_) | FrameError::CloseOneByte) = &want.error {
        assert!(matches!(
            read.end,
            Err(ReadError::Frame(_)) | Err(ReadError::Inflate(_))
        ));
    }
}
