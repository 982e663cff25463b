//! The close target: received close payloads, the replies to them, the close frames we
//! build for closed states and for arbitrary reasons.

use std::convert::Infallible;

use super::reference::{self, check_sent_close, close_status_reserved};
use crate::codec::{Collapsed, Outbound, Reader, WriteMasking};
use crate::frame::{
    CloseCode, ClosedState, ControlPayload, FrameError, close_message, parse_close_payload,
};
use crate::policy::{Compression, Framing, MaskPolicy};

/// `[state][payload...]`. Oracles: the reply to a received close payload is what Go's
/// rule gives (reference), is a valid close payload (never 1005/1006/1015, UTF-8 reason,
/// ≤ 125 bytes), and is what a [`Reader`] actually writes; `close_message` with any
/// reason stays within 125 bytes, keeps the reason when it fits and otherwise a UTF-8
/// prefix plus `...`; the closed state's frame is sendable.
pub fn close_payload(data: &[u8]) {
    let Some((&state, payload)) = data.split_first() else {
        return;
    };
    // A received close payload (a control frame carries at most 125 bytes).
    let received = &payload[..payload.len().min(125)];
    let want = reference::close_reply(received);
    let got = parse_close_payload(received).map(|p| p.as_bytes().to_vec());
    assert_eq!(got, want, "reply to close payload {received:02x?}");
    if let Ok(reply) = &got {
        check_sent_close(reply);
    }
    check_reader_reply(received, &want);

    // A close frame we build from a status and a reason of any length.
    let code = CloseCode(u16::from(state) << 8 | u16::from(payload.first().copied().unwrap_or(0)));
    let reason = String::from_utf8_lossy(payload.get(1..).unwrap_or_default());
    let built = close_message(code, &reason);
    let bytes = built.as_bytes();
    assert!(bytes.len() <= 125);
    assert_eq!(built.code(), Some(code));
    let text = match std::str::from_utf8(built.reason()) {
        Ok(t) => t,
        Err(e) => panic!("reason cut inside a character: {e}"),
    };
    if reason.len() <= 123 {
        assert_eq!(text, reason, "a reason that fits is kept");
    } else {
        let kept = text
            .strip_suffix("...")
            .unwrap_or_else(|| panic!("no ellipsis: {text:?}"));
        assert!(reason.starts_with(kept), "truncation keeps a prefix");
        assert!(
            kept.len() >= 117 && kept.len() <= 120,
            "cut at {}",
            kept.len()
        );
    }
    assert_eq!(ControlPayload::new(payload).is_some(), payload.len() <= 125);

    // The frame for a closed state.
    match ClosedState::from_u8(state) {
        Ok(s) => {
            let p = s.close_payload();
            let sendable = !close_status_reserved(s.close_code().0);
            assert!(
                sendable || !s.sends_close_frame(),
                "{s} would send {:?}",
                s.close_code()
            );
            let mut out = Outbound::new(Framing::Whole, Compression::Off, WriteMasking::Unmasked);
            let queued = out.queue_close_for(s);
            assert_eq!(queued, s.sends_close_frame());
            let frames = flush(&mut out);
            match frames.as_slice() {
                [] => assert!(!queued),
                [f] => {
                    assert_eq!((f.opcode, f.fin), (8, true));
                    assert_eq!(f.payload, p.as_bytes());
                    check_sent_close(&f.payload);
                }
                more => panic!("{} frames for one close", more.len()),
            }
        }
        Err(unknown) => {
            let p = unknown.close_payload();
            assert_eq!(p.code(), Some(CloseCode::INTERNAL_ERROR));
            check_sent_close(p.as_bytes());
        }
    }
}

/// A masked close frame with `payload` through a [`Reader`]: the close it writes is the
/// reference reply, or the 1002 for the error.
fn check_reader_reply(payload: &[u8], want: &Result<Vec<u8>, FrameError>) {
    let mut frame = vec![0x88, 0x80 | payload.len() as u8, 1, 2, 3, 4];
    frame.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
    );
    let mut reader = Reader::new(MaskPolicy::Required, Compression::Off, 0);
    let mut out = Outbound::new(Framing::Whole, Compression::Off, WriteMasking::Unmasked);
    let mut sink = |_: &[u8]| -> Result<(), Infallible> { Ok(()) };
    let _ = reader.read(&mut frame, &mut out, &mut sink);
    let frames = flush(&mut out);
    let [f] = frames.as_slice() else {
        panic!("{} frames in reply to a close", frames.len());
    };
    assert_eq!((f.opcode, f.fin), (8, true));
    check_sent_close(&f.payload);
    let expected = match want {
        Ok(reply) => reply.clone(),
        Err(e) => close_message(e.close_code(), &e.to_string())
            .as_bytes()
            .to_vec(),
    };
    assert_eq!(f.payload, expected);
}

fn flush(out: &mut Outbound) -> Vec<reference::WireFrame> {
    let mut collapsed = Collapsed::new();
    let result = out.collapse(&mut Vec::new(), &mut collapsed);
    assert!(result.is_ok());
    match reference::split_frames(&collapsed.to_vec()) {
        Ok(f) => f,
        Err(e) => panic!("broken frame written: {e}"),
    }
}
