//! The round-trip target: frames written from a spec, read back by the decoder.

use arbitrary::{Arbitrary, Unstructured};

use super::decoder::decode_segments;
use super::mask::naive_masked_frame;
use super::reference::{self, Event, Outcome};
use super::spec::{LengthSpec, RoundtripSpec};
use crate::frame::{Frame, LengthEncoding, Malformed, OpCode};

/// Structured frames ([`RoundtripSpec`]). Oracle: [`roundtrip_spec`].
pub fn frame_roundtrip(data: &[u8]) {
    if let Ok(spec) = RoundtripSpec::arbitrary_take_rest(Unstructured::new(data)) {
        roundtrip_spec(&spec);
    }
}

/// Writes the frames (the one frame writer, with its overrides for the length forms,
/// reserved bits and opcodes; payloads masked by the naive loop) and reads them back in one
/// read and byte by byte. Oracle: what went in comes out (payloads, pings, pongs, the
/// close reply), or reading stops at exactly the error Go's rules give the first frame
/// that breaks one — judged from the spec, not from the bytes.
pub fn roundtrip_spec(spec: &RoundtripSpec) {
    let mut wire = Vec::new();
    let mut want = Outcome::default();
    let mut ended = false;
    let mut in_message = false;
    let mut compressed = false;
    for f in &spec.frames {
        let len = f.payload.len() as u64;
        let (encoding, announced) = match f.length {
            LengthSpec::Minimal => (LengthEncoding::Minimal, len),
            LengthSpec::Extended16 => (LengthEncoding::Extended16, len),
            LengthSpec::Extended64 => (LengthEncoding::Extended64, len),
            LengthSpec::Announce(n) => (LengthEncoding::Extended64, n),
        };
        let sent = &f.payload
            [..usize::try_from(announced).map_or(f.payload.len(), |n| n.min(f.payload.len()))];
        let frame = Frame::new(OpCode::Binary, sent)
            .fin(f.fin)
            .rsv1(f.rsv1)
            .masked(f.key)
            .malformed(Malformed {
                opcode_bits: Some(f.opcode),
                rsv2: f.rsv2,
                rsv3: f.rsv3,
                length: encoding,
                announced_len: (announced != len).then_some(announced),
            });
        let at = wire.len();
        wire.extend_from_slice(&naive_masked_frame(&frame));
        let b0 = wire[at];

        if !ended {
            // The length fields as the spec says they were written.
            let (len7, len64) = match f.length {
                LengthSpec::Minimal if announced <= 125 => (announced as u8, None),
                LengthSpec::Minimal | LengthSpec::Extended16 if announced <= 0xffff => (126, None),
                _ => (127, Some(announced)),
            };
            let masked = f.key.is_some();
            if let Some(e) = reference::header_error(
                b0,
                masked,
                len7,
                len64,
                spec.mask,
                spec.compression,
                in_message,
            ) {
                want.error = Some(e);
                ended = true;
            } else if f.opcode >= 8 {
                // Control frames here are complete: a length above 125 was an error.
                match f.opcode {
                    9 => want.events.push(Event::Ping(sent.to_vec())),
                    10 => want.events.push(Event::Pong(sent.to_vec())),
                    _ => {
                        match reference::close_reply(sent) {
                            Ok(reply) => want.events.push(Event::Close(reply)),
                            Err(e) => want.error = Some(e),
                        }
                        ended = true;
                    }
                }
            } else {
                if f.opcode != 0 {
                    compressed = f.rsv1;
                }
                in_message = !f.fin;
                let complete = sent.len() as u64 == announced;
                if !sent.is_empty() || announced == 0 {
                    want.push_data(sent, compressed, f.fin && complete);
                }
            }
        }
        if matches!(f.length, LengthSpec::Announce(_)) {
            break;
        }
    }
    let whole = decode_segments(&[&wire], spec.mask, spec.compression);
    assert_eq!(whole, want, "decoded frames differ from the spec");
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    let bytewise = decode_segments(&bytes, spec.mask, spec.compression);
    assert_eq!(
        bytewise, want,
        "byte-at-a-time decode differs from the spec"
    );
}
