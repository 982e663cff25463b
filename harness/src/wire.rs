//! Server output split into frames and messages by the nats-ws assembler (the harness has
//! no frame parser of its own).

use nats_ws::codec::assembler::{AssembleError, Assembler};

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
