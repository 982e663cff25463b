//! The differential header target: our `FrameHeader::parse` against another parser
//! (tungstenite's, adapted in the fuzz crate, which is the only place that depends on it).

use super::reference;
use crate::frame::{FrameError, FrameHeader, HeaderRules};
use crate::policy::{Compression, MaskPolicy};

/// What the other parser made of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TheirHeader {
    /// More bytes needed.
    Incomplete,
    /// A header and the bytes it used.
    Header {
        /// FIN.
        fin: bool,
        /// RSV1, RSV2, RSV3.
        rsv: [bool; 3],
        /// Raw opcode.
        opcode: u8,
        /// Masking key.
        mask: Option<[u8; 4]>,
        /// Announced payload length.
        len: u64,
        /// Header size.
        size: usize,
    },
    /// Rejected for a reserved opcode.
    InvalidOpcode(u8),
    /// Rejected for another reason (text).
    Other(String),
}

/// `[options: bit0 a message is open][header bytes...]` into both parsers, ours with the
/// most permissive connection rules (no masking required, compression negotiated).
/// Oracles: where both give a header they agree on FIN, RSV, opcode, mask, length and
/// size; where they reject a reserved opcode we reject too; where they need more bytes
/// we need more or have already decided; where we need more they do too; and where
/// only we reject, the reason is one of Go's extra rules, as the reference judges the
/// fields they parsed.
pub fn frame_header_vs_tungstenite(data: &[u8], theirs: impl Fn(&[u8]) -> TheirHeader) {
    let Some((&options, bytes)) = data.split_first() else {
        return;
    };
    let in_message = options & 1 != 0;
    let rules = HeaderRules {
        mask: MaskPolicy::Exempt,
        compression: Compression::Negotiated,
        in_message,
    };
    let ours = FrameHeader::parse(bytes, rules);
    let them = theirs(bytes);
    match (&ours, &them) {
        (
            Ok(Some((h, size))),
            TheirHeader::Header {
                fin,
                rsv,
                opcode,
                mask,
                len,
                size: their_size,
            },
        ) => {
            assert_eq!(
                (
                    h.fin,
                    [h.rsv1, false, false],
                    h.opcode.as_u8(),
                    h.mask,
                    h.payload_len,
                    *size
                ),
                (*fin, *rsv, *opcode, *mask, *len, *their_size),
                "headers differ"
            );
        }
        (Ok(Some(h)), other) => panic!("we parsed {h:?}, they said {other:?}"),
        (Ok(None), TheirHeader::Incomplete) => {}
        (Ok(None), other) => panic!("we need more bytes, they said {other:?}"),
        (Err(_), TheirHeader::Incomplete | TheirHeader::InvalidOpcode(_)) => {}
        (
            Err(e),
            TheirHeader::Header {
                fin,
                rsv,
                opcode,
                mask,
                len,
                ..
            },
        ) => {
            let b0 = u8::from(*fin) << 7
                | u8::from(rsv[0]) << 6
                | u8::from(rsv[1]) << 5
                | u8::from(rsv[2]) << 4
                | opcode;
            let len7 = match bytes.get(1) {
                Some(b1) => b1 & 0x7f,
                None => panic!("they parsed a header from one byte"),
            };
            let len64 = (len7 == 127).then_some(*len);
            let judged = reference::header_error(
                b0,
                mask.is_some(),
                len7,
                len64,
                rules.mask,
                rules.compression,
                in_message,
            );
            assert_eq!(judged.as_ref(), Some(e), "we reject what they accept");
            assert!(
                !matches!(e, FrameError::UnknownOpcode(_)),
                "they accepted opcode {opcode}"
            );
        }
        // Both reject.
        (Err(_), TheirHeader::Other(_)) => {}
    }
}
