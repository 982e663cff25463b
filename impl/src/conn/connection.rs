//! One connection's whole state, sans-IO: its wire (plain, or WebSocket in either role),
//! the session it carries, and its close lifecycle (quinn-proto's `Connection` shape).

use std::convert::Infallible;
use std::time::{Duration, Instant};

use crate::codec::{Collapsed, MaskKeys, Outbound, ReadError, ReadStatus, Reader, WriteMasking};
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::policy::{Compression, Framing, MaskPolicy};

/// Time limits of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A transmit not written within this long closes the connection as a slow consumer
    /// (Go: `write_deadline`).
    pub write_deadline: Duration,
    /// After its last write a closing connection keeps reading, and discarding, for at
    /// most this long, so that the peer reads the final bytes before the socket closes
    /// (closing with unread input makes the kernel send a reset that can destroy them).
    pub linger: Duration,
}

/// Which end of a WebSocket connection we are (RFC 6455 §5.1, §5.3).
#[non_exhaustive]
pub enum Role {
    /// We accepted the upgrade: the peer's frames must be masked unless it negotiated
    /// `Nats-No-Masking` (`mask`); ours go out unmasked.
    Server {
        /// What the peer's frames must carry.
        mask: MaskPolicy,
    },
    /// We sent the upgrade (a soliciting leafnode): the peer's frames come unmasked, ours
    /// are masked with a fresh key each, unless the server accepted `Nats-No-Masking`
    /// (`keys: None`).
    Client {
        /// Where mask keys come from.
        keys: Option<MaskKeys>,
    },
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Server { mask } => f.debug_struct("Server").field("mask", mask).finish(),
            Role::Client { keys } => f
                .debug_struct("Client")
                .field("masked", &keys.is_some())
                .finish(),
        }
    }
}

/// What an upgrade settled for a WebSocket connection.
#[derive(Debug)]
pub struct WebSocket {
    /// Our end.
    pub role: Role,
    /// permessage-deflate.
    pub compression: Compression,
    /// How outbound data is cut into frames (browsers, Safari).
    pub framing: Framing,
    /// Bound on an inflated message (0 = 1 MiB).
    pub max_payload: usize,
}

/// What [`Connection::poll_transmit`] asks of the IO layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Nothing to write now.
    Idle,
    /// Write the buffers now in `out`, then report [`Connection::handle_transmitted`] (or
    /// [`Connection::handle_write_error`]).
    Write,
    /// Nothing more will be written: shut the write side down, then keep reading until
    /// the peer's EOF or [`Connection::poll_timeout`].
    Shutdown,
}

/// How bytes are carried.
#[derive(Debug)]
enum Wire {
    /// The NATS protocol straight on the socket.
    Plain,
    /// RFC 6455 frames.
    WebSocket(Box<WsWire>),
}

#[derive(Debug)]
struct WsWire {
    reader: Reader,
    outbound: Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    Open,
    /// Closing: what may still go out is written, then the write side is shut down.
    Closing,
    /// The write side is done; input is read and discarded until EOF or `until`.
    Lingering {
        until: Instant,
    },
    /// Nothing more to do: the IO layer drops the socket.
    Done,
}

/// One connection, sans-IO: its wire (plain NATS, or WebSocket as server or client), the
/// [`Session`] it carries, and its close lifecycle. The IO layer only moves bytes and
/// timers; every decision — what a frame error closes with, that data goes before the
/// close frame, that nothing follows it, when to linger and when to stop — is made here.
///
/// Data for the peer comes from two places: the session's own replies, and the
/// connection's outbound queue of NATS bytes, which other connections' publishers append
/// to under its own lock (Go's `queueOutbound`) and which is passed to
/// [`Connection::poll_transmit`] so that it is framed without a copy.
///
/// Methods, in call order:
/// - inputs: [`handle_input`](Self::handle_input) with received bytes,
///   [`handle_eof`](Self::handle_eof) / [`handle_read_error`](Self::handle_read_error)
///   when reading ends, [`handle_timeout`](Self::handle_timeout) when
///   [`poll_timeout`](Self::poll_timeout) is due, [`close`](Self::close) for reasons from
///   outside (shutdown, slow consumer, an operator);
/// - outputs, after every input: the session's replies ([`Session::output`], which the
///   IO layer may move to the queue first to keep Go's order with deliveries), then
///   [`poll_transmit`](Self::poll_transmit) whenever no write is outstanding, reporting
///   each write with [`handle_transmitted`](Self::handle_transmitted) or
///   [`handle_write_error`](Self::handle_write_error); then re-arm the timer with
///   [`poll_timeout`](Self::poll_timeout);
/// - getters: [`session`](Self::session), [`closed_state`](Self::closed_state),
///   [`is_reading`](Self::is_reading), [`is_writing`](Self::is_writing),
///   [`is_done`](Self::is_done), [`is_websocket`](Self::is_websocket).
#[derive(Debug)]
pub struct Connection<P> {
    session: P,
    wire: Wire,
    limits: Limits,
    lifecycle: Lifecycle,
    /// Why it is closing, once it is.
    closed: Option<ClosedState>,
    /// A transmit is outstanding; it must be written by this time.
    write_deadline: Option<Instant>,
    /// Writing failed or timed out: nothing more is written.
    writes_over: bool,
    /// The peer's side is done: nothing more to read.
    eof: bool,
}

impl<P> Connection<P> {
    /// A plain NATS connection.
    pub fn plain(session: P, limits: Limits) -> Self {
        Self::with_wire(session, Wire::Plain, limits)
    }

    /// A WebSocket connection after the upgrade.
    pub fn websocket(session: P, ws: WebSocket, limits: Limits) -> Self {
        let (mask, masking) = match ws.role {
            Role::Server { mask } => (mask, WriteMasking::Unmasked),
            Role::Client { keys } => (
                MaskPolicy::Exempt,
                keys.map_or(WriteMasking::Unmasked, WriteMasking::Masked),
            ),
        };
        let wire = WsWire {
            reader: Reader::new(mask, ws.compression, ws.max_payload),
            outbound: Outbound::new(ws.framing, ws.compression, masking),
        };
        Self::with_wire(session, Wire::WebSocket(Box::new(wire)), limits)
    }

    fn with_wire(session: P, wire: Wire, limits: Limits) -> Self {
        Connection {
            session,
            wire,
            limits,
            lifecycle: Lifecycle::Open,
            closed: None,
            write_deadline: None,
            writes_over: false,
            eof: false,
        }
    }

    // ---- inputs

    /// Received bytes (unmasked in place for WebSocket). Bytes decoded before a frame
    /// error are given to the session first (Go:
    /// `TestWSFlushesBufferedDeliveryBeforeProtocolClose`). After the connection started
    /// closing, input is discarded. An error has already started the close; it is
    /// returned for the log.
    pub fn handle_input<R: ?Sized>(
        &mut self,
        now: Instant,
        input: &mut [u8],
        router: &mut R,
    ) -> Result<(), Close>
    where
        P: HandleInput<R>,
    {
        if self.lifecycle != Lifecycle::Open {
            return Ok(());
        }
        let result = match &mut self.wire {
            Wire::Plain => self.session.handle_input(now, input, router),
            Wire::WebSocket(ws) => {
                // Each frame's payload, and each inflated piece, goes to the session as it
                // is decoded, so nothing after a session error is read: no pong for a later
                // ping, no close frame for a later frame error (Go: wsReadAndParse and
                // wsDecompressAndParse parse as they go). Bytes decoded before a frame
                // error reach the session first (TestWSFlushesBufferedDeliveryBeforeProtocolClose).
                let session = &mut self.session;
                let status = ws.reader.read(input, &mut ws.outbound, &mut |b: &[u8]| {
                    session.handle_input(now, b, router)
                });
                match status {
                    Ok(ReadStatus::Open) => Ok(()),
                    // The echo of the peer's close frame is already queued.
                    Ok(ReadStatus::PeerClosed) => Err(Close::new(ClosedState::ClientClosed, None)),
                    Err(ReadError::Sink(close)) => Err(close),
                    Err(ReadError::Frame(e)) => Err(read_error(ReadError::Frame(e))),
                    Err(ReadError::Inflate(e)) => Err(read_error(ReadError::Inflate(e))),
                }
            }
        };
        if let Err(close) = &result {
            self.close(close.state);
        }
        result
    }

    /// The peer closed its side (read returned 0).
    pub fn handle_eof(&mut self) {
        self.end_of_input(ClosedState::ClientClosed);
    }

    /// Reading failed.
    pub fn handle_read_error(&mut self) {
        self.end_of_input(ClosedState::ReadError);
    }

    fn end_of_input(&mut self, state: ClosedState) {
        self.eof = true;
        match self.lifecycle {
            Lifecycle::Open => {
                self.close(state);
            }
            Lifecycle::Lingering { .. } => self.lifecycle = Lifecycle::Done,
            Lifecycle::Closing | Lifecycle::Done => {}
        }
    }

    /// Runs due timers: the session's while open, the write deadline while a transmit is
    /// outstanding, the end of lingering. An error has already started the close; it is
    /// returned for the log.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Close>
    where
        P: Session,
    {
        match self.lifecycle {
            Lifecycle::Lingering { until } => {
                if now >= until {
                    self.lifecycle = Lifecycle::Done;
                }
                return Ok(());
            }
            Lifecycle::Done => return Ok(()),
            Lifecycle::Open | Lifecycle::Closing => {}
        }
        if self.write_deadline.is_some_and(|d| now >= d) {
            // Go: the write deadline exceeded: a slow consumer; nothing more is written.
            self.write_deadline = None;
            self.writes_over = true;
            let state = ClosedState::SlowConsumerWriteDeadline;
            self.close(state);
            let line = format!(
                "Slow Consumer Detected: WriteDeadline of {:?} exceeded",
                self.limits.write_deadline
            );
            return Err(Close::new(state, Some(line)));
        }
        if self.lifecycle == Lifecycle::Open
            && let Err(close) = self.session.handle_timeout(now)
        {
            self.close(close.state);
            return Err(close);
        }
        Ok(())
    }

    /// Starts closing for `state` (the first reason wins): a WebSocket connection queues
    /// the close frame where that state sends one (Go: `markConnAsClosed` →
    /// `wsEnqueueCloseMessage`). Returns false if it was already closing.
    pub fn close(&mut self, state: ClosedState) -> bool {
        if self.closed.is_some() {
            return false;
        }
        self.closed = Some(state);
        if let Wire::WebSocket(ws) = &mut self.wire {
            ws.outbound.queue_close_for(state);
        }
        if self.lifecycle == Lifecycle::Open {
            self.lifecycle = Lifecycle::Closing;
        }
        true
    }

    // ---- outputs

    /// Frames what is to be written next into `out` (whose buffers are reused): the
    /// session's replies are appended to `queued`, all of `queued` is taken (moved, not
    /// copied), and with it any WebSocket control frames and the close frame, in Go's
    /// order (`wsCollapsePtoNB`: control frames, data, the close frame last). Call it only
    /// while no write is outstanding. A closing connection writes what it may and then
    /// asks for [`Transmit::Shutdown`] — at once for transport failures and slow
    /// consumers (Go: `skipFlushOnClose`), unless a close frame reporting a protocol
    /// error is still to go. An error (compression failed) has started the close.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        queued: &mut Vec<u8>,
        out: &mut Collapsed,
    ) -> Result<Transmit, Close>
    where
        P: Session,
    {
        match self.lifecycle {
            Lifecycle::Open | Lifecycle::Closing => {}
            Lifecycle::Lingering { .. } | Lifecycle::Done => {
                queued.clear();
                return Ok(Transmit::Idle);
            }
        }
        if self.write_deadline.is_some() {
            return Ok(Transmit::Idle);
        }
        if self.writes_over {
            queued.clear();
            return Ok(self.shutdown(now));
        }
        queued.append(self.session.output());
        let closing = self.closed;
        match &mut self.wire {
            Wire::Plain => {
                if closing.is_some_and(|s| !s.sends_close_frame()) {
                    queued.clear();
                }
                if queued.is_empty() {
                    return Ok(self.idle_or_shutdown(now));
                }
                out.unframed(queued);
            }
            Wire::WebSocket(ws) => {
                let close_frame_pending = ws.outbound.close_queued() && !ws.outbound.close_sent();
                if closing.is_some_and(|s| !s.sends_close_frame()) && !close_frame_pending {
                    queued.clear();
                    return Ok(self.shutdown(now));
                }
                if queued.is_empty() && !ws.outbound.has_queued() {
                    return Ok(self.idle_or_shutdown(now));
                }
                if let Err(e) = ws.outbound.collapse(queued, out) {
                    self.writes_over = true;
                    self.close(ClosedState::WriteError);
                    return Err(Close::new(
                        ClosedState::WriteError,
                        Some(format!("Error compressing data: {e}")),
                    ));
                }
                if out.is_empty() {
                    return Ok(self.idle_or_shutdown(now));
                }
            }
        }
        self.write_deadline = Some(now + self.limits.write_deadline);
        Ok(Transmit::Write)
    }

    /// The last [`Transmit::Write`] was written whole.
    pub fn handle_transmitted(&mut self) {
        self.write_deadline = None;
    }

    /// Writing failed: the connection closes with nothing more written.
    pub fn handle_write_error(&mut self) {
        self.write_deadline = None;
        self.writes_over = true;
        self.close(ClosedState::WriteError);
    }

    /// The next time [`Connection::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant>
    where
        P: Session,
    {
        match self.lifecycle {
            Lifecycle::Open => match (self.session.poll_timeout(), self.write_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            Lifecycle::Closing => self.write_deadline,
            Lifecycle::Lingering { until } => Some(until),
            Lifecycle::Done => None,
        }
    }

    fn idle_or_shutdown(&mut self, now: Instant) -> Transmit {
        if self.closed.is_some() {
            self.shutdown(now)
        } else {
            Transmit::Idle
        }
    }

    fn shutdown(&mut self, now: Instant) -> Transmit {
        self.lifecycle = if self.eof {
            Lifecycle::Done
        } else {
            Lifecycle::Lingering {
                until: now + self.limits.linger,
            }
        };
        Transmit::Shutdown
    }

    // ---- getters

    /// The session it carries.
    pub fn session(&self) -> &P {
        &self.session
    }

    /// The session it carries, to change (e.g. the TLS identity known after INFO).
    pub fn session_mut(&mut self) -> &mut P {
        &mut self.session
    }

    /// Why it is closing, once it is.
    pub fn closed_state(&self) -> Option<ClosedState> {
        self.closed
    }

    /// Whether the IO layer should read (until the peer's EOF, also while closing: what
    /// arrives then is discarded).
    pub fn is_reading(&self) -> bool {
        !self.eof && self.lifecycle != Lifecycle::Done
    }

    /// Whether a transmit is outstanding.
    pub fn is_writing(&self) -> bool {
        self.write_deadline.is_some()
    }

    /// Whether the connection is over: the IO layer drops the socket.
    pub fn is_done(&self) -> bool {
        self.lifecycle == Lifecycle::Done
    }

    /// Whether it speaks WebSocket.
    pub fn is_websocket(&self) -> bool {
        matches!(self.wire, Wire::WebSocket(_))
    }
}

/// The close for a reader error of the transport (a frame or inflate failure).
fn read_error(e: ReadError<Infallible>) -> Close {
    let state = e.closed_state().unwrap_or(ClosedState::ReadError);
    Close::new(state, Some(format!("read error: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
