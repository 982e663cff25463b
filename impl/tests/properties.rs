//! Properties of the decoder: the result does not depend on how the input is split, and
//! encoded frames decode to what was encoded.

use nats_ws::codec::{Decoder, Item};
use nats_ws::frame::{Frame, FrameError, LengthEncoding, Malformed, OpCode};
use nats_ws::fuzzing::naive_masked_frame;
use nats_ws::policy::{Compression, MaskPolicy};
use proptest::prelude::*;

/// What a decoder produced, normalised so that payload slice boundaries do not matter.
#[derive(Debug, Default, PartialEq, Eq)]
struct Events {
    /// Data bytes with message boundaries and compression flags.
    data: Vec<(bool, Vec<u8>, bool)>,
    pings: Vec<Vec<u8>>,
    pongs: usize,
    close: Option<Vec<u8>>,
    error: Option<FrameError>,
}

fn decode_in_chunks(
    input: &[u8],
    cuts: &[usize],
    mask: MaskPolicy,
    compression: Compression,
) -> Events {
    let mut d = Decoder::new(mask, compression);
    let mut ev = Events::default();
    let mut buf = input.to_vec();
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    bounds.push(0);
    bounds.push(input.len());
    bounds.sort_unstable();
    bounds.dedup();
    let mut open: Option<(bool, Vec<u8>)> = None;
    'outer: for w in bounds.windows(2) {
        let chunk = &mut buf[w[0]..w[1]];
        let mut pos = 0;
        loop {
            match d.decode(&mut chunk[pos..]) {
                Err(e) => {
                    ev.error = Some(e);
                    break 'outer;
                }
                Ok(step) => {
                    pos += step.consumed;
                    match step.item {
                        None => break,
                        Some(Item::Data {
                            payload,
                            compressed,
                            message_end,
                        }) => {
                            let entry = open.get_or_insert_with(|| (compressed, Vec::new()));
                            entry.1.extend_from_slice(payload);
                            if message_end && let Some((c, bytes)) = open.take() {
                                ev.data.push((c, bytes, true));
                            }
                        }
                        Some(Item::Ping(p)) => ev.pings.push(p.as_bytes().to_vec()),
                        Some(Item::Pong(_)) => ev.pongs += 1,
                        Some(Item::Close(reply)) => {
                            ev.close = Some(reply.as_bytes().to_vec());
                            break 'outer;
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    if let Some((c, bytes)) = open {
        ev.data.push((c, bytes, false));
    }
    ev
}

fn frame_bytes(
    fin: bool,
    rsv1: bool,
    op: u8,
    masked: bool,
    key: [u8; 4],
    payload: &[u8],
    enc: u8,
) -> Vec<u8> {
    let opcode = OpCode::try_from(op).unwrap_or(OpCode::Binary);
    let length = match enc % 3 {
        0 => LengthEncoding::Minimal,
        1 => LengthEncoding::Extended16,
        _ => LengthEncoding::Extended64,
    };
    let frame = Frame::new(opcode, payload)
        .fin(fin)
        .rsv1(rsv1)
        .masked(masked.then_some(key))
        .malformed(Malformed {
            opcode_bits: Some(op),
            length,
            ..Malformed::default()
        });
    // The naive mask keeps the decoder's fast unmask judged by an independent loop.
    naive_masked_frame(&frame)
}

fn arb_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::sample::select(vec![0u8, 1, 2, 2, 2, 8, 9, 10, 3, 11]),
        prop::bool::weighted(0.95),
        any::<[u8; 4]>(),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<u8>(),
    )
        .prop_map(|(fin, rsv1, op, masked, key, payload, enc)| {
            let payload = if op >= 8 {
                payload.into_iter().take(130).collect()
            } else {
                payload
            };
            frame_bytes(fin || op >= 8, rsv1, op, masked, key, &payload, enc)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Decoding is identical for any split of the input (TCP segmentation).
    #[test]
    fn any_split_gives_the_same_result(
        frames in prop::collection::vec(arb_frame(), 1..8),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        exempt in any::<bool>(),
        deflate in any::<bool>(),
    ) {
        let input: Vec<u8> = frames.concat();
        let mask = if exempt { MaskPolicy::Exempt } else { MaskPolicy::Required };
        let compression = if deflate { Compression::Negotiated } else { Compression::Off };
        let whole = decode_in_chunks(&input, &[], mask, compression);
        let split = decode_in_chunks(&input, &cuts, mask, compression);
        prop_assert_eq!(&whole, &split);
        let bytewise: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&whole, &decode_in_chunks(&input, &bytewise, mask, compression));
    }

    /// A valid data frame round-trips: encode then decode gives back the payload.
    #[test]
    fn encode_decode_round_trip(
        payload in prop::collection::vec(any::<u8>(), 0..70_000),
        key in any::<[u8; 4]>(),
        enc in any::<u8>(),
        text in any::<bool>(),
    ) {
        let op = if text { 1 } else { 2 };
        let bytes = frame_bytes(true, false, op, true, key, &payload, enc);
        let ev = decode_in_chunks(&bytes, &[], MaskPolicy::Required, Compression::Off);
        prop_assert_eq!(ev.error, None);
        prop_assert_eq!(ev.data, vec![(false, payload, true)]);
    }
}
