//! Connections, sans-IO: [`Connection`] owns everything one connection is (its wire —
//! plain or WebSocket, either role — its close lifecycle, and the protocol [`Session`]
//! it carries); [`ClientProtocol`] is the NATS client protocol such a connection carries.
//!
//! ```text
//!            handle_input(now, bytes)           poll_transmit(now, queued, out)
//!  socket ──► Connection ─► Reader ─► Session ─► Router (other connections' queues)
//!  bytes       (wire,        frames,   NATS ops      │
//!              lifecycle)    inflate   replies ──────┴──► queued NATS bytes ─► Outbound ─► socket
//!                                                         (control frames, close frame, linger)
//! ```

mod client;
mod connection;
pub(crate) mod keepalive;
pub(crate) mod trace;

use std::time::Instant;

pub(crate) use client::TOO_MANY_SUBS;
pub use client::{ClientProtocol, ConnConfig, ConnParams, Router, SubscribeError};
pub use connection::{Connection, Limits, Role, Transmit, WebSocket};
pub use trace::{Trace, TracedPart};

use crate::frame::ClosedState;

/// Why a connection must close, and what to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The reason (close frame status and text for WebSocket clients).
    pub state: ClosedState,
    /// An error line for the log, if Go logs one.
    pub log: Option<String>,
}

impl Close {
    /// A close for `state`, logging `log` if given.
    pub fn new(state: ClosedState, log: Option<String>) -> Close {
        Close { state, log }
    }

    /// Whether Go logs this close as a notice rather than an error: slow consumers
    /// (`Noticef`), every other reason with a line is an error (`Errorf`).
    pub fn is_notice(&self) -> bool {
        matches!(
            self.state,
            ClosedState::SlowConsumerPendingBytes | ClosedState::SlowConsumerWriteDeadline
        )
    }
}

/// The protocol a [`Connection`] carries, over the bytes its wire delivers: the NATS
/// client protocol ([`ClientProtocol`]) today, leafnode and MQTT sessions next. Input
/// comes through [`HandleInput`], which names where the session routes what it receives.
pub trait Session {
    /// The next time [`Session::handle_timeout`] must run.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Runs due timers.
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close>;
    /// Replies waiting to go out; the connection takes them at its next transmit.
    fn output(&mut self) -> &mut Vec<u8>;
}

/// A [`Session`]'s input, routed to `R` (for the NATS client protocol, a [`Router`]: the
/// server's accounts).
pub trait HandleInput<R: ?Sized>: Session {
    /// Acts on received protocol bytes (already unframed).
    fn handle_input(&mut self, now: Instant, input: &[u8], router: &mut R) -> Result<(), Close>;
}
