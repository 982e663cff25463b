//! Validity checks for public NKeys (Go: `nkeys.IsValidPublic{User,Account,Operator}Key`).

/// The kind of public key, by its prefix byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NkeyKind {
    /// `U...`
    User,
    /// `A...`
    Account,
    /// `O...`
    Operator,
}

impl NkeyKind {
    fn prefix(self) -> u8 {
        match self {
            NkeyKind::User => 20 << 3,
            NkeyKind::Account => 0,
            NkeyKind::Operator => 14 << 3,
        }
    }
}

/// Whether `key` is a well-formed public NKey of `kind`: base32 (no padding) of a prefix
/// byte, a 32-byte Ed25519 key and a little-endian CRC-16/XMODEM of the rest.
pub fn is_valid_public_key(key: &str, kind: NkeyKind) -> bool {
    let Some(raw) = base32_decode(key.as_bytes()) else {
        return false;
    };
    let [body @ .., lo, hi] = raw.as_slice() else {
        return false;
    };
    raw.len() == 35
        && crc16(body) == u16::from_le_bytes([*lo, *hi])
        && body.first().is_some_and(|&b| b & 0xf8 == kind.prefix())
}

fn base32_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    // Go's decoder rejects leftover bits that cannot be a complete final quantum.
    if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    // Public keys from nats-server's tests, accepted by nats-server v2.15.1.
    const OPERATOR: &str = "ODSKR7MYFQZ5MMAJ6FPMEETCTE3RIHOFLTYPJRMAVVN4OLV2YYAMHCAC";
    const ACCOUNT: &str = "ADZ547B24WHPLWOK7TMLNBSA7FQFXR6UM2NZ4HHNIB7RDFVZQFOZ4GQQ";
    const USER: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

    #[test]
    fn recognizes_kinds() {
        assert!(is_valid_public_key(OPERATOR, NkeyKind::Operator));
        assert!(is_valid_public_key(ACCOUNT, NkeyKind::Account));
        assert!(is_valid_public_key(USER, NkeyKind::User));
        assert!(!is_valid_public_key(USER, NkeyKind::Account));
        assert!(!is_valid_public_key(OPERATOR, NkeyKind::Account));
    }

    #[test]
    fn rejects_corruption() {
        let mut bad = USER.to_owned();
        bad.replace_range(10..11, "A");
        assert!(!is_valid_public_key(&bad, NkeyKind::User));
        assert!(!is_valid_public_key("U", NkeyKind::User));
        assert!(!is_valid_public_key("", NkeyKind::User));
        assert!(!is_valid_public_key("not a key!", NkeyKind::User));
        // nats-server also rejects this one (its test configs call it malformed).
        let malformed = "ODRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS";
        assert!(!is_valid_public_key(malformed, NkeyKind::Operator));
    }
}
