#![no_main]
//! Differential: our frame-header parser against tungstenite's. The oracle is in
//! `nats_ws::fuzzing`; this file only adapts tungstenite's answer.
use std::io::Cursor;

use nats_ws::fuzzing::{TheirHeader, frame_header_vs_tungstenite};
use tungstenite::error::{Error, ProtocolError};
use tungstenite::protocol::frame::FrameHeader;

fn tungstenite(bytes: &[u8]) -> TheirHeader {
    let mut cursor = Cursor::new(bytes);
    match FrameHeader::parse(&mut cursor) {
        Ok(None) => TheirHeader::Incomplete,
        Ok(Some((h, len))) => TheirHeader::Header {
            fin: h.is_final,
            rsv: [h.rsv1, h.rsv2, h.rsv3],
            opcode: u8::from(h.opcode),
            mask: h.mask,
            len,
            size: cursor.position() as usize,
        },
        Err(Error::Protocol(ProtocolError::InvalidOpcode(op))) => TheirHeader::InvalidOpcode(op),
        Err(e) => TheirHeader::Other(e.to_string()),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| frame_header_vs_tungstenite(data, tungstenite));
