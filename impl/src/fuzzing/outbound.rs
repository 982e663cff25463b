//! The outbound target: pending NATS bytes, pongs and closes, framed for every client kind.

use arbitrary::{Arbitrary, Unstructured};

use super::reference::{self, WireFrame};
use super::spec::{OutOp, OutboundSpec};
use crate::codec::{Collapsed, Outbound, WriteMasking};
use crate::deflate::{INFLATE_TAIL, InflateOutcome, inflate_message};
use crate::frame::{ClosedState, ControlPayload, OpCode, close_message, parse_close_payload};
use crate::policy::{Compression, Framing};

/// Pending bytes are not grown past this.
const MAX_PENDING: usize = 256 * 1024;

/// Structured operations ([`OutboundSpec`]). Oracle: [`outbound_spec`].
pub fn outbound(data: &[u8]) {
    if let Ok(spec) = OutboundSpec::arbitrary_take_rest(Unstructured::new(data)) {
        outbound_spec(&spec);
    }
}

/// Runs the operations on an [`Outbound`] and checks every flush: control frames first
/// in the order queued (none after a close was queued), then the pending bytes — read
/// back (unmasked, inflated) they are exactly what was pending; uncompressed frames are
/// whole binary frames of at most 4096 bytes for browsers; a compressed message (only
/// above 64 bytes, only when negotiated) has RSV1 on its first frame only, continuation
/// frames after it, FIN on the last, fragments of at most 4096 bytes for browsers and
/// one frame for Safari and others; then the close frame, last, once per connection,
/// with a sendable payload; nothing at all after it. Every frame is masked iff we are
/// the client, and uses the minimal length form. The vectored-write view agrees with
/// the concatenated bytes at any resume offset.
pub fn outbound_spec(spec: &OutboundSpec) {
    let masking = if spec.masked {
        let mut state = 0x1234_5678u32;
        WriteMasking::Masked(Box::new(move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state.to_le_bytes()
        }))
    } else {
        WriteMasking::Unmasked
    };
    let mut run = Run {
        out: Outbound::new(spec.framing, spec.compression, masking),
        pending: Vec::new(),
        collapsed: Collapsed::new(),
        controls: Vec::new(),
        close: None,
        close_sent: false,
    };
    for op in &spec.ops {
        match op {
            OutOp::Queue { bytes, repeat } => {
                for _ in 0..=*repeat {
                    if run.pending.len() + bytes.len() > MAX_PENDING {
                        break;
                    }
                    run.pending.extend_from_slice(bytes);
                }
            }
            OutOp::Control { ping, payload } => {
                let payload = &payload[..payload.len().min(125)];
                let p = ControlPayload::new(payload).unwrap_or(ControlPayload::EMPTY);
                let opcode = if *ping { OpCode::Ping } else { OpCode::Pong };
                run.out.queue_control(opcode, &p);
                if !run.out.close_queued() {
                    run.controls.push((opcode.as_u8(), p.as_bytes().to_vec()));
                }
            }
            OutOp::CloseState(raw) => {
                let (payload, sends) = match ClosedState::from_u8(*raw) {
                    Ok(s) => (s.close_payload(), s.sends_close_frame()),
                    Err(u) => (u.close_payload(), true),
                };
                let queued = match ClosedState::from_u8(*raw) {
                    Ok(s) => run.out.queue_close_for(s),
                    Err(_) => run.out.queue_close(payload),
                };
                let fresh = sends && run.close.is_none() && !run.close_sent;
                assert_eq!(queued, fresh, "close queued once");
                if queued {
                    run.close = Some(payload);
                }
            }
            OutOp::CloseReply(received) => {
                let received = &received[..received.len().min(125)];
                let reply = parse_close_payload(received)
                    .unwrap_or_else(|e| close_message(e.close_code(), &e.to_string()));
                let queued = run.out.queue_close(reply);
                assert_eq!(
                    queued,
                    run.close.is_none() && !run.close_sent,
                    "close queued once"
                );
                if queued {
                    run.close = Some(reply);
                }
            }
            OutOp::Flush => flush(spec, &mut run),
        }
    }
    flush(spec, &mut run);
}

/// The write side under test and what the oracle expects of the next flush.
struct Run {
    out: Outbound,
    pending: Vec<u8>,
    collapsed: Collapsed,
    /// Control frames queued since the last flush (opcode, payload).
    controls: Vec<(u8, Vec<u8>)>,
    /// The close frame queued and not yet written.
    close: Option<ControlPayload>,
    close_sent: bool,
}

fn flush(spec: &OutboundSpec, run: &mut Run) {
    let before = run.pending.clone();
    let result = run.out.collapse(&mut run.pending, &mut run.collapsed);
    assert!(result.is_ok(), "collapse failed: {result:?}");
    assert!(run.pending.is_empty(), "pending bytes left after a flush");
    let bytes = run.collapsed.to_vec();
    check_slices(&run.collapsed, &bytes);
    let frames = match reference::split_frames(&bytes) {
        Ok(f) => f,
        Err(e) => panic!("broken frame written: {e}"),
    };
    if run.close_sent {
        assert!(frames.is_empty(), "frames written after the close frame");
    } else {
        check_frames(spec, &frames, &before, &run.controls, run.close.as_ref());
        run.close_sent = run.close.take().is_some();
    }
    run.controls.clear();
}

fn check_frames(
    spec: &OutboundSpec,
    frames: &[WireFrame],
    pending: &[u8],
    controls: &[(u8, Vec<u8>)],
    close: Option<&ControlPayload>,
) {
    for f in frames {
        assert_eq!(f.key.is_some(), spec.masked, "masking of {f:?}");
        assert!(f.minimal_length, "non-minimal length written");
        assert_eq!(f.rsv & 0x30, 0, "RSV2/RSV3 written");
    }
    let (sent_controls, rest) = frames.split_at(controls.len().min(frames.len()));
    let got: Vec<(u8, Vec<u8>)> = sent_controls
        .iter()
        .map(|f| {
            assert!(f.fin && f.rsv == 0);
            (f.opcode, f.payload.clone())
        })
        .collect();
    assert_eq!(got, controls, "control frames first, in order");
    let (data, close_frame) = match (close, rest.split_last()) {
        (Some(_), Some((last, data))) => (data, Some(last)),
        (Some(_), None) => panic!("queued close frame not written"),
        (None, _) => (rest, None),
    };
    if let (Some(want), Some(f)) = (close, close_frame) {
        assert_eq!((f.opcode, f.fin, f.rsv), (8, true, 0), "close frame last");
        assert_eq!(f.payload, want.as_bytes());
        reference::check_sent_close(&f.payload);
    }
    assert!(
        data.iter().all(|f| f.opcode < 8),
        "control frame among data frames"
    );
    if pending.is_empty() {
        assert!(data.is_empty(), "data frames without pending bytes");
        return;
    }
    let compressed =
        spec.compression == Compression::Negotiated && pending.len() > crate::COMPRESS_THRESHOLD;
    let body: Vec<u8> = data
        .iter()
        .flat_map(|f| f.payload.iter().copied())
        .collect();
    let browser_cap = crate::FRAME_SIZE_FOR_BROWSERS;
    if compressed {
        let last = data.len() - 1;
        for (i, f) in data.iter().enumerate() {
            let first = i == 0;
            assert_eq!(f.opcode, if first { 2 } else { 0 }, "fragment {i} opcode");
            assert_eq!(f.rsv == 0x40, first, "RSV1 only on the first fragment");
            assert_eq!(f.fin, i == last, "FIN only on the last fragment");
        }
        match spec.framing {
            Framing::Browser => {
                assert!(data.iter().all(|f| f.payload.len() <= browser_cap));
            }
            Framing::Whole | Framing::Safari => assert_eq!(data.len(), 1, "fragmented"),
        }
        let mut inflated = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            inflated.extend_from_slice(b);
            Ok(())
        };
        match inflate_message(&[&body, &INFLATE_TAIL], pending.len(), &mut sink) {
            Ok(()) => {}
            Err(InflateOutcome::Inflate(e)) => panic!("our deflate does not inflate: {e}"),
            Err(InflateOutcome::Sink(())) => panic!("sink"),
        }
        assert_eq!(inflated, pending, "inflated data differs from pending");
        // Never larger than storing it: 5 bytes per 64 KiB block and one closing byte.
        let stored = pending.len() + 5 * pending.len().div_ceil(65_535) + 1;
        assert!(
            body.len() <= stored,
            "{} compressed bytes for {} pending (stored: {stored})",
            body.len(),
            pending.len()
        );
    } else {
        for f in data {
            assert_eq!((f.opcode, f.fin, f.rsv), (2, true, 0), "uncompressed frame");
        }
        match spec.framing {
            Framing::Browser | Framing::Safari => {
                assert!(data.iter().all(|f| f.payload.len() <= browser_cap));
                assert_eq!(data.len(), pending.len().div_ceil(browser_cap));
            }
            Framing::Whole => assert_eq!(data.len(), 1, "one frame"),
        }
        assert_eq!(body, pending, "frames carry other bytes than pending");
    }
}

/// The buffers of one write agree with their concatenation, resumed anywhere.
fn check_slices(collapsed: &Collapsed, bytes: &[u8]) {
    assert_eq!(collapsed.len(), bytes.len());
    assert_eq!(collapsed.is_empty(), bytes.is_empty());
    let mut slices = Vec::new();
    for written in [
        0,
        1,
        bytes.len() / 2,
        bytes.len().saturating_sub(1),
        bytes.len(),
    ] {
        collapsed.io_slices(written, &mut slices);
        let rest: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(
            rest,
            bytes[written.min(bytes.len())..],
            "resume at {written}"
        );
    }
}
