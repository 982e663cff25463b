//! Frame-layer steps: functions on frames (headers, close payloads, masking), called directly.

use nats_ws::frame::{CloseCode, FrameHeader, MaskCursor, apply_mask, close_message, is_control};

use crate::bytes::{ByteSpec, Gen};
use crate::fixture::{FrameStep, OpcodeName};
use crate::run::context::{Record, drive};
use crate::transcript::{hex, hex_spaced, show};

/// Runs a frame-layer case.
pub(crate) fn run(steps: &[FrameStep]) -> Record {
    let mut rec = Record::default();
    drive(steps, &mut rec, step);
    rec
}

fn step(step: &FrameStep, rec: &mut Record) -> Result<(), String> {
    match step {
        FrameStep::IsControl { opcode, expect } => {
            let got = is_control(*opcode);
            rec.t.line(format!("is_control({opcode}) = {got}"));
            rec.check(&format!("is_control({opcode})"), got, *expect);
            Ok(())
        }
        FrameStep::EncodeHeader {
            opcode,
            compressed,
            len,
            expect_hex,
        } => encode_header(rec, *opcode, *compressed, *len, expect_hex),
        FrameStep::CloseMessage {
            code,
            reason,
            expect_len,
            expect_reason,
        } => close(rec, *code, reason, *expect_len, expect_reason.as_ref()),
        FrameStep::Unmask {
            key,
            payload,
            chunks,
        } => unmask(rec, *key, payload, chunks),
    }
}

/// Go `wsCreateFrameHeader(false, compressed, opcode, len)`: the header encoder itself.
fn encode_header(
    rec: &mut Record,
    name: OpcodeName,
    compressed: bool,
    len: u64,
    expect_hex: &str,
) -> Result<(), String> {
    let h = FrameHeader {
        fin: true,
        rsv1: compressed,
        opcode: name.opcode(),
        mask: None,
        payload_len: len,
    };
    let mut buf = [0u8; nats_ws::MAX_FRAME_HEADER_SIZE];
    let n = h.encode(&mut buf);
    let got = hex_spaced(&buf[..n]);
    rec.t.line(format!(
        "header({}, compressed={compressed}, len={len}) = [{got}]",
        name.opcode().name()
    ));
    let want = ByteSpec::Gen(Gen::Hex(expect_hex.to_owned()))
        .build()
        .map_err(|e| e.to_string())?;
    rec.check("header bytes", got, hex_spaced(&want));
    Ok(())
}

/// Go `wsCreateCloseMessage(status, body)`.
fn close(
    rec: &mut Record,
    code: u16,
    reason: &ByteSpec,
    expect_len: usize,
    expect_reason: Option<&ByteSpec>,
) -> Result<(), String> {
    let reason = reason.build().map_err(|e| e.to_string())?;
    let text =
        String::from_utf8(reason.clone()).map_err(|_| "close reason must be UTF-8".to_owned())?;
    let p = close_message(CloseCode(code), &text);
    rec.t.line(format!(
        "close_message({code}, {} bytes) = code={:?} len={} reason={}",
        reason.len(),
        p.code().map(|c| c.0),
        p.as_bytes().len(),
        show(p.reason())
    ));
    rec.check("close status", p.code().map(|c| c.0), Some(code));
    rec.check("close payload length", p.as_bytes().len(), expect_len);
    let want = match expect_reason {
        Some(r) => r.build().map_err(|e| e.to_string())?,
        None => reason,
    };
    rec.check("close reason", show(p.reason()), show(&want));
    Ok(())
}

/// Masks `payload`, then unmasks it in the given pieces with a cursor: it must round-trip.
fn unmask(
    rec: &mut Record,
    key: [u8; 4],
    payload: &ByteSpec,
    chunks: &[usize],
) -> Result<(), String> {
    let clear = payload.build().map_err(|e| e.to_string())?;
    let mut buf = clear.clone();
    apply_mask(&mut buf, key, 0);
    let mut cursor = MaskCursor::new(key);
    let mut rest = &mut buf[..];
    for &n in chunks {
        let (a, b) = rest.split_at_mut(n.min(rest.len()));
        cursor.apply(a);
        rest = b;
    }
    cursor.apply(rest);
    rec.t.line(format!(
        "unmask key={} pieces={chunks:?}+rest -> {}",
        hex(&key),
        show(&buf)
    ));
    rec.check("unmasked", show(&buf), show(&clear));
    Ok(())
}
