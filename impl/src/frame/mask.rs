//! Masking (RFC 6455 §5.3): a word-at-a-time fast path and the naive byte loop it must equal.

/// XORs `buf` with `key`, starting at key byte `phase` (0-3), eight bytes at a time
/// (the compiler turns the word loop into vector XORs; no `unsafe`, no alignment games).
/// Returns the phase for the byte after `buf`, so a payload can be unmasked in pieces.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let phase = phase & 3;
    let r = [
        key[phase],
        key[(phase + 1) & 3],
        key[(phase + 2) & 3],
        key[(phase + 3) & 3],
    ];
    let word = u64::from_ne_bytes([r[0], r[1], r[2], r[3], r[0], r[1], r[2], r[3]]);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for w in words {
        *w = (u64::from_ne_bytes(*w) ^ word).to_ne_bytes();
    }
    // The words cover a multiple of 4 bytes, so the tail starts at key byte `phase`.
    for (b, m) in tail.iter_mut().zip(r.iter().cycle()) {
        *b ^= m;
    }
    (phase + buf.len()) & 3
}

/// The reference: one byte at a time. Go: `wsMaskBuf` / the short path of `unmask`.
pub fn apply_mask_naive(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let mut p = phase & 3;
    for b in buf.iter_mut() {
        *b ^= key[p];
        p = (p + 1) & 3;
    }
    p
}

/// A key and the position reached in it, for a payload that arrives in pieces.
/// Go: `wsReadInfo.mkey` / `mkpos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskCursor {
    key: [u8; 4],
    phase: usize,
}

impl MaskCursor {
    /// A cursor at the first byte of a payload.
    pub fn new(key: [u8; 4]) -> Self {
        MaskCursor { key, phase: 0 }
    }

    /// Unmasks (or masks: XOR is its own inverse) the next piece of the payload.
    pub fn apply(&mut self, buf: &mut [u8]) {
        self.phase = apply_mask(buf, self.key, self.phase);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_equals_naive_for_every_length_offset_and_phase() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let source: Vec<u8> = (0..=300u16).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=257 {
            for offset in 0..8 {
                for phase in 0..4 {
                    let mut fast = source.clone();
                    let mut naive = source.clone();
                    let pf = apply_mask(&mut fast[offset..offset + len], key, phase);
                    let pn = apply_mask_naive(&mut naive[offset..offset + len], key, phase);
                    assert_eq!(fast, naive, "len {len} offset {offset} phase {phase}");
                    assert_eq!(pf, pn);
                }
            }
        }
    }

    #[test]
    fn cursor_carries_the_phase_across_pieces() {
        let key = [1, 2, 3, 4];
        let clear = b"this is a clear text".to_vec();
        let mut masked = clear.clone();
        apply_mask_naive(&mut masked, key, 0);
        let mut cursor = MaskCursor::new(key);
        let (a, rest) = masked.split_at_mut(3);
        let (b, c) = rest.split_at_mut(8);
        cursor.apply(a);
        cursor.apply(b);
        cursor.apply(c);
        assert_eq!(masked, clear);
    }
}
