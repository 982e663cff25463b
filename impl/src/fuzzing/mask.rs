//! The mask target: the word-at-a-time mask against the byte loop.

use crate::frame::{Frame, MaskCursor, apply_mask, apply_mask_naive};

/// `[key 4][split][data...]`: for every buffer offset 0..8 and key phase 0..4, the fast
/// mask equals the naive one (bytes and returned phase); a [`MaskCursor`] applied in two
/// pieces equals one naive pass; masking twice restores the input.
pub fn mask(data: &[u8]) {
    let Some((key, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let key = *key;
    let Some((&split, payload)) = rest.split_first() else {
        return;
    };
    for offset in 0..8.min(payload.len() + 1) {
        let body = &payload[offset..];
        for phase in 0..4 {
            let mut fast = body.to_vec();
            let mut naive = body.to_vec();
            let pf = apply_mask(&mut fast, key, phase);
            let pn = apply_mask_naive(&mut naive, key, phase);
            assert_eq!(fast, naive, "offset {offset} phase {phase}");
            assert_eq!(pf, pn, "returned phase, offset {offset} phase {phase}");
            apply_mask(&mut fast, key, phase);
            assert_eq!(fast, body, "masking twice restores the input");
        }
    }
    let mut naive = payload.to_vec();
    apply_mask_naive(&mut naive, key, 0);
    let mut pieces = payload.to_vec();
    let (a, b) = pieces.split_at_mut(usize::from(split).min(payload.len()));
    let mut cursor = MaskCursor::new(key);
    cursor.apply(a);
    cursor.apply(b);
    assert_eq!(pieces, naive, "cursor split at {split}");
}

/// `frame`'s bytes from the one frame writer, with the payload masked by the naive byte
/// loop instead of the fast mask: round-trip oracles then judge the decoder's fast unmask
/// against an independent reference, not against itself.
pub fn naive_masked_frame(frame: &Frame<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let n = frame.write(&mut out);
    if let Some(key) = frame.mask {
        out.truncate(n);
        let at = out.len();
        out.extend_from_slice(frame.payload);
        apply_mask_naive(&mut out[at..], key, 0);
    }
    out
}
