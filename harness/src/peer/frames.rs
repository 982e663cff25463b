//! Frames for the peer clients: written with `nats_ws::frame::Frame`, read with the
//! nats-ws assembler (the harness has no frame writer or parser of its own).

use nats_ws::codec::assembler::{AssembleError, Assembler};
use nats_ws::deflate::deflate_message;
use nats_ws::frame::{Frame, FrameHeader, LengthEncoding, Malformed, OpCode};

use crate::fixture::{FrameSpec, LengthForm, LengthSpec, MaskSpec, OpcodeSpec};

pub use nats_ws::codec::assembler::{WireFrame, WireMessage};

/// Every frame of a complete server output, and the data messages they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOutput {
    /// The frames, in order.
    pub frames: Vec<WireFrame>,
    /// The messages, or the first one that could not be rebuilt.
    pub messages: Result<Vec<WireMessage>, WireError>,
}

/// Why server output could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A frame broke a rule for server frames (or passed the size limit).
    #[error("server {0}")]
    Frame(AssembleError),
    /// The bytes end inside a frame.
    #[error("server output ends inside frame {0}")]
    Truncated(usize),
    /// A message could not be rebuilt (does not inflate, or is too large).
    #[error(transparent)]
    Message(AssembleError),
}

/// Splits `bytes` into frames and messages. Server frames may be masked (client role) and
/// compressed; messages may hold up to [`crate::bytes::MAX_GENERATED`] bytes.
pub fn split(bytes: &[u8]) -> Result<ServerOutput, WireError> {
    let mut assembler = Assembler::new(crate::bytes::MAX_GENERATED);
    assembler.push(bytes);
    let mut frames = Vec::new();
    let mut messages = Ok(Vec::new());
    while let Some(a) = assembler.next_frame().map_err(WireError::Frame)? {
        frames.push(a.frame);
        match (a.message, &mut messages) {
            (Some(Ok(m)), Ok(ms)) => ms.push(m),
            (Some(Err(e)), Ok(_)) => messages = Err(WireError::Message(e)),
            _ => {}
        }
    }
    if assembler.pending() > 0 {
        return Err(WireError::Truncated(frames.len()));
    }
    Ok(ServerOutput { frames, messages })
}

/// One masked binary frame holding `data`, deflated first when `compress` (Go:
/// `testWSCreateClientMsg`, which compresses even tiny payloads such as `PING`).
pub fn data_frame(data: &[u8], compress: bool, key: [u8; 4]) -> Result<Vec<u8>, String> {
    let mut deflated = Vec::new();
    let payload = if compress {
        deflate_message(data, &mut deflated).map_err(|e| e.to_string())?;
        &deflated[..]
    } else {
        data
    };
    Ok(Frame::new(OpCode::Binary, payload)
        .rsv1(compress)
        .masked(Some(key))
        .to_vec())
}

/// A fixture's frame as written, with what a transcript line shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFrame {
    /// The bytes to send (cut when the spec truncates).
    pub bytes: Vec<u8>,
    /// The header as written (before the raw-bit overrides).
    pub header: FrameHeader,
    /// The header bytes as written (whole, even when the spec truncates the frame).
    pub raw_header: Vec<u8>,
    /// The raw opcode, when the spec gives a number instead of a name.
    pub raw_opcode: Option<u8>,
    /// The payload before deflate and masking.
    pub clear: Vec<u8>,
}

/// Builds a fixture frame's bytes exactly as the Go tests' `testWSCreateClientMsg` would:
/// masked with `01 02 03 04` unless the spec says otherwise.
pub fn spec_frame(spec: &FrameSpec) -> Result<SpecFrame, String> {
    let clear = match &spec.close {
        Some(close) => {
            let mut p = close.code.to_be_bytes().to_vec();
            p.extend(close.reason.build().map_err(|e| e.to_string())?);
            p
        }
        None => spec.payload.build().map_err(|e| e.to_string())?,
    };
    let mut packed = Vec::new();
    let payload = if spec.compress {
        deflate_message(&clear, &mut packed).map_err(|e| e.to_string())?;
        &packed[..]
    } else {
        &clear[..]
    };
    let (op, raw_opcode) = match spec.opcode {
        OpcodeSpec::Name(n) => (n.opcode(), None),
        OpcodeSpec::Raw(r) if r <= 15 => (OpCode::try_from(r).unwrap_or(OpCode::Binary), Some(r)),
        OpcodeSpec::Raw(r) => return Err(format!("opcode {r} does not fit in 4 bits")),
    };
    let mask = match spec.mask {
        None => Some([1, 2, 3, 4]),
        Some(MaskSpec::Key(k)) => Some(k),
        Some(MaskSpec::None(_)) => None,
    };
    let (length, announced_len) = match spec.length {
        None | Some(LengthSpec::Form(LengthForm::Minimal)) => (LengthEncoding::Minimal, None),
        Some(LengthSpec::Form(LengthForm::Ext16)) => (LengthEncoding::Extended16, None),
        Some(LengthSpec::Form(LengthForm::Ext64)) => (LengthEncoding::Extended64, None),
        Some(LengthSpec::Raw { raw }) => (LengthEncoding::Extended64, Some(raw)),
    };
    let frame = Frame::new(op, payload)
        .fin(spec.fin)
        .rsv1(spec.rsv1 || spec.compress)
        .masked(mask)
        .malformed(Malformed {
            opcode_bits: raw_opcode,
            rsv2: spec.rsv2,
            rsv3: spec.rsv3,
            length,
            announced_len,
        });
    let mut bytes = Vec::new();
    let header_len = frame.write(&mut bytes);
    let raw_header = bytes[..header_len].to_vec();
    if let Some(cut) = spec.truncate {
        bytes.truncate(cut);
    }
    Ok(SpecFrame {
        bytes,
        header: frame.header(),
        raw_header,
        raw_opcode,
        clear,
    })
}
