use std::time::Duration;

use super::*;
use crate::frame::{Frame, OpCode, close_message};

const LIMITS: Limits = Limits {
    write_deadline: Duration::from_secs(10),
    linger: Duration::from_secs(2),
};

/// A session that keeps what it receives and answers nothing by itself.
#[derive(Debug, Default)]
struct Recorder {
    received: Vec<u8>,
    out: Vec<u8>,
    /// Input containing this closes the connection with `ParseError`.
    poison: Option<&'static [u8]>,
}

impl Session for Recorder {
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) -> Result<(), Close> {
        Ok(())
    }
    fn output(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
}

impl HandleInput<()> for Recorder {
    fn handle_input(&mut self, _: Instant, input: &[u8], _: &mut ()) -> Result<(), Close> {
        self.received.extend_from_slice(input);
        match self.poison {
            Some(p) if input.windows(p.len()).any(|w| w == p) => {
                Err(Close::new(ClosedState::ParseError, None))
            }
            _ => Ok(()),
        }
    }
}

fn server(compression: Compression) -> Connection<Recorder> {
    let ws = WebSocket {
        role: Role::Server {
            mask: MaskPolicy::Required,
        },
        compression,
        framing: Framing::Whole,
        max_payload: 0,
    };
    Connection::websocket(Recorder::default(), ws, LIMITS)
}

fn client(compression: Compression) -> Connection<Recorder> {
    let mut n = 0u8;
    let keys: MaskKeys = Box::new(move || {
        n = n.wrapping_add(1);
        [n, 0x5a, n, 0xa5]
    });
    let ws = WebSocket {
        role: Role::Client { keys: Some(keys) },
        compression,
        framing: Framing::Whole,
        max_payload: 0,
    };
    Connection::websocket(Recorder::default(), ws, LIMITS)
}

/// Runs `poll_transmit` once with `queued`; returns what it asked and the bytes.
fn transmit(c: &mut Connection<Recorder>, now: Instant, queued: &[u8]) -> (Transmit, Vec<u8>) {
    let mut q = queued.to_vec();
    let mut out = Collapsed::new();
    let t = c.poll_transmit(now, &mut q, &mut out).unwrap();
    assert!(q.is_empty(), "the queue is always taken whole");
    if t == Transmit::Write {
        c.handle_transmitted();
    }
    (t, out.to_vec())
}

fn masked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    Frame::new(opcode, payload)
        .masked(Some([9, 8, 7, 6]))
        .to_vec()
}

#[test]
fn server_role_unframes_input_and_answers_pings_before_data() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    let mut input = masked(OpCode::Binary, b"PUB a 1\r\nx\r\n");
    input.extend(masked(OpCode::Ping, b"p"));
    s.handle_input(now, &mut input, &mut ()).unwrap();
    assert_eq!(s.session().received, b"PUB a 1\r\nx\r\n");
    let (t, bytes) = transmit(&mut s, now, b"MSG a 1 1\r\nx\r\n");
    assert_eq!(t, Transmit::Write);
    let mut want = Frame::new(OpCode::Pong, b"p").to_vec();
    want.extend(Frame::new(OpCode::Binary, b"MSG a 1 1\r\nx\r\n").to_vec());
    assert_eq!(bytes, want, "control frames first, then data, unmasked");
    assert_eq!(transmit(&mut s, now, b"").0, Transmit::Idle);
}

#[test]
fn frame_error_delivers_what_came_before_then_closes_with_its_text() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    let mut input = masked(OpCode::Binary, b"hello");
    input.extend(Frame::new(OpCode::Binary, b"world").to_vec());
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::ProtocolViolation);
    assert_eq!(close.log.as_deref(), Some("read error: mask bit missing"));
    assert_eq!(s.session().received, b"hello");
    assert_eq!(s.closed_state(), Some(ClosedState::ProtocolViolation));
    // Input after the close is discarded.
    let mut more = masked(OpCode::Binary, b"late");
    s.handle_input(now, &mut more, &mut ()).unwrap();
    assert_eq!(s.session().received, b"hello");
    // Pending data, then the close frame with Go's text, then nothing more.
    s.session_mut().out.extend_from_slice(b"-ERR 'x'\r\n");
    let (t, bytes) = transmit(&mut s, now, b"");
    assert_eq!(t, Transmit::Write);
    let mut want = Frame::new(OpCode::Binary, b"-ERR 'x'\r\n").to_vec();
    want.extend(
        Frame::new(
            OpCode::Close,
            close_message(crate::frame::CloseCode(1002), "mask bit missing").as_bytes(),
        )
        .to_vec(),
    );
    assert_eq!(bytes, want);
    assert_eq!(transmit(&mut s, now, b"dropped").0, Transmit::Shutdown);
    assert!(s.is_reading() && !s.is_done(), "lingers, reading");
    s.handle_eof();
    assert!(s.is_done());
}

#[test]
fn session_error_closes_with_the_sessions_state() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    s.session_mut().poison = Some(b"BAD");
    let mut input = masked(OpCode::Binary, b"BAD\r\n");
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::ParseError);
    let (_, bytes) = transmit(&mut s, now, b"");
    let payload = ClosedState::ParseError.close_payload();
    assert_eq!(
        bytes,
        Frame::new(OpCode::Close, payload.as_bytes()).to_vec()
    );
}

#[test]
fn a_session_error_in_inflated_bytes_overtakes_the_inflate_limit() {
    // Go: the parser sees the inflated bytes before the inflate limit trips, so its close
    // (here ParseError's) goes out, not the inflater's 1009.
    let now = Instant::now();
    let ws = WebSocket {
        role: Role::Server {
            mask: MaskPolicy::Required,
        },
        compression: Compression::Negotiated,
        framing: Framing::Whole,
        max_payload: 64,
    };
    let mut s = Connection::websocket(Recorder::default(), ws, LIMITS);
    s.session_mut().poison = Some(b"BAD");
    let mut clear = b"BAD\r\n".to_vec();
    clear.extend([b'x'; 200]);
    let mut packed = Vec::new();
    crate::deflate::deflate_message(&clear, &mut packed).unwrap();
    let mut input = Frame::new(OpCode::Binary, &packed)
        .rsv1(true)
        .masked(Some([9, 8, 7, 6]))
        .to_vec();
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::ParseError);
    let (_, bytes) = transmit(&mut s, now, b"");
    let payload = ClosedState::ParseError.close_payload();
    assert_eq!(
        bytes,
        Frame::new(OpCode::Close, payload.as_bytes()).to_vec()
    );
}

#[test]
fn a_session_error_before_a_frame_error_closes_with_the_sessions_state() {
    // Go parses the first frame's payload before it reads the second frame's header.
    let now = Instant::now();
    let mut s = server(Compression::Off);
    s.session_mut().poison = Some(b"BAD");
    let mut input = Frame::new(OpCode::Binary, b"BAD")
        .fin(false)
        .masked(Some([9, 8, 7, 6]))
        .to_vec();
    input.extend(Frame::new(OpCode::Continuation, b"x").to_vec()); // mask bit missing
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::ParseError);
    let (_, bytes) = transmit(&mut s, now, b"");
    let payload = ClosedState::ParseError.close_payload();
    assert_eq!(
        bytes,
        Frame::new(OpCode::Close, payload.as_bytes()).to_vec()
    );
}

#[test]
fn nothing_after_a_session_error_is_read() {
    // Go parses each frame as it is decoded: a ping behind the bad data gets no pong.
    let now = Instant::now();
    let mut s = server(Compression::Off);
    s.session_mut().poison = Some(b"BAD");
    let mut input = masked(OpCode::Binary, b"BAD");
    input.extend(masked(OpCode::Ping, b"p"));
    input.extend(masked(OpCode::Binary, b"late"));
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::ParseError);
    assert_eq!(s.session().received, b"BAD");
    let (_, bytes) = transmit(&mut s, now, b"");
    let payload = ClosedState::ParseError.close_payload();
    assert_eq!(
        bytes,
        Frame::new(OpCode::Close, payload.as_bytes()).to_vec()
    );
}

#[test]
fn an_inflate_limit_alone_closes_with_its_own_text() {
    let now = Instant::now();
    let ws = WebSocket {
        role: Role::Server {
            mask: MaskPolicy::Required,
        },
        compression: Compression::Negotiated,
        framing: Framing::Whole,
        max_payload: 64,
    };
    let mut s = Connection::websocket(Recorder::default(), ws, LIMITS);
    let mut packed = Vec::new();
    crate::deflate::deflate_message(&[b'x'; 200], &mut packed).unwrap();
    let mut input = Frame::new(OpCode::Binary, &packed)
        .rsv1(true)
        .masked(Some([9, 8, 7, 6]))
        .to_vec();
    let close = s.handle_input(now, &mut input, &mut ()).unwrap_err();
    assert_eq!(close.state, ClosedState::MaxPayloadExceeded);
    assert_eq!(
        s.session().received.len(),
        64,
        "delivered up to max_payload"
    );
    let (_, bytes) = transmit(&mut s, now, b"");
    assert_eq!(
        bytes,
        Frame::new(
            OpCode::Close,
            close_message(crate::frame::CloseCode(1009), "maximum payload exceeded").as_bytes(),
        )
        .to_vec()
    );
}

#[test]
fn slow_consumers_and_transport_failures_get_nothing_more() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    assert!(s.close(ClosedState::SlowConsumerPendingBytes));
    assert!(
        !s.close(ClosedState::ServerShutdown),
        "the first reason wins"
    );
    assert_eq!(transmit(&mut s, now, b"MSG ...").0, Transmit::Shutdown);

    let mut p = Connection::plain(Recorder::default(), LIMITS);
    p.close(ClosedState::ReadError);
    assert_eq!(transmit(&mut p, now, b"-ERR\r\n").0, Transmit::Shutdown);
}

#[test]
fn plain_connections_write_bytes_as_they_are_and_close_after_them() {
    let now = Instant::now();
    let mut p = Connection::plain(Recorder::default(), LIMITS);
    p.session_mut().out.extend_from_slice(b"INFO {}\r\n");
    let mut input = *b"PING\r\n";
    p.handle_input(now, &mut input, &mut ()).unwrap();
    assert_eq!(p.session().received, b"PING\r\n");
    let (t, bytes) = transmit(&mut p, now, b"+OK\r\n");
    assert_eq!(
        (t, bytes.as_slice()),
        (Transmit::Write, &b"+OK\r\nINFO {}\r\n"[..])
    );
    p.close(ClosedState::AuthenticationViolation);
    let (t, bytes) = transmit(&mut p, now, b"-ERR 'Authorization Violation'\r\n");
    assert_eq!(t, Transmit::Write, "a protocol close still flushes");
    assert_eq!(bytes, b"-ERR 'Authorization Violation'\r\n");
    assert_eq!(transmit(&mut p, now, b"").0, Transmit::Shutdown);
}

#[test]
fn write_deadline_closes_as_slow_consumer_without_writing_more() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    let mut q = b"MSG\r\n".to_vec();
    let mut out = Collapsed::new();
    assert_eq!(s.poll_transmit(now, &mut q, &mut out), Ok(Transmit::Write));
    assert!(s.is_writing());
    let deadline = now + LIMITS.write_deadline;
    assert_eq!(s.poll_timeout(), Some(deadline));
    assert_eq!(
        s.poll_transmit(now, &mut q, &mut out),
        Ok(Transmit::Idle),
        "one transmit at a time"
    );
    s.handle_timeout(deadline - Duration::from_millis(1))
        .unwrap();
    let close = s.handle_timeout(deadline).unwrap_err();
    assert_eq!(close.state, ClosedState::SlowConsumerWriteDeadline);
    assert!(close.is_notice());
    assert!(!s.is_writing());
    let (t, _) = transmit(&mut s, deadline, b"more");
    assert_eq!(t, Transmit::Shutdown);
    assert_eq!(s.poll_timeout(), Some(deadline + LIMITS.linger));
    s.handle_timeout(deadline + LIMITS.linger).unwrap();
    assert!(s.is_done());
}

#[test]
fn write_error_ends_writing_even_with_a_close_frame_queued() {
    let now = Instant::now();
    let mut s = server(Compression::Off);
    s.close(ClosedState::ServerShutdown);
    let mut q = Vec::new();
    let mut out = Collapsed::new();
    assert_eq!(s.poll_transmit(now, &mut q, &mut out), Ok(Transmit::Write));
    s.handle_write_error();
    assert_eq!(s.closed_state(), Some(ClosedState::ServerShutdown));
    assert_eq!(transmit(&mut s, now, b"").0, Transmit::Shutdown);
}

#[test]
fn eof_while_open_closes_as_client_closed_and_stops_reading() {
    let now = Instant::now();
    let mut p = Connection::plain(Recorder::default(), LIMITS);
    p.handle_eof();
    assert_eq!(p.closed_state(), Some(ClosedState::ClientClosed));
    assert!(!p.is_reading());
    assert_eq!(transmit(&mut p, now, b"").0, Transmit::Shutdown);
    assert!(p.is_done(), "nothing to linger for after the peer's EOF");
}

/// Moves every byte one side transmits to the other, until both are idle.
fn pump(a: &mut Connection<Recorder>, b: &mut Connection<Recorder>, now: Instant) {
    for _ in 0..16 {
        let (ta, mut from_a) = transmit(a, now, b"");
        let (tb, mut from_b) = transmit(b, now, b"");
        if !from_a.is_empty() {
            let _ = b.handle_input(now, &mut from_a, &mut ());
        }
        if !from_b.is_empty() {
            let _ = a.handle_input(now, &mut from_b, &mut ());
        }
        if ta != Transmit::Write && tb != Transmit::Write {
            return;
        }
    }
    panic!("the pair did not settle");
}

#[test]
fn client_role_talks_to_server_role_and_both_close_cleanly() {
    for compression in [Compression::Off, Compression::Negotiated] {
        let now = Instant::now();
        let mut c = client(compression);
        let mut s = server(compression);
        let big = "MSG hello 1 300\r\n".repeat(40);
        c.session_mut()
            .out
            .extend_from_slice(b"CONNECT {}\r\nPING\r\n");
        s.session_mut().out.extend_from_slice(big.as_bytes());
        pump(&mut c, &mut s, now);
        assert_eq!(
            s.session().received,
            b"CONNECT {}\r\nPING\r\n",
            "{compression:?}: the server unmasked the client's frames"
        );
        assert_eq!(c.session().received, big.as_bytes(), "{compression:?}");
        // The client closes; the server echoes; both shut down.
        c.close(ClosedState::ClientClosed);
        pump(&mut c, &mut s, now);
        assert_eq!(s.closed_state(), Some(ClosedState::ClientClosed));
        assert!(matches!(s.lifecycle, Lifecycle::Lingering { .. }));
        assert!(matches!(c.lifecycle, Lifecycle::Lingering { .. }));
        c.handle_eof();
        s.handle_eof();
        assert!(c.is_done() && s.is_done());
    }
}

#[test]
fn client_role_masks_every_frame_with_a_fresh_key() {
    let now = Instant::now();
    let mut c = client(Compression::Off);
    let (_, bytes) = transmit(&mut c, now, b"PING\r\n");
    let rules = crate::frame::HeaderRules {
        mask: MaskPolicy::Required,
        compression: Compression::Off,
        in_message: false,
    };
    let (h1, _) = crate::frame::FrameHeader::parse(&bytes, rules)
        .unwrap()
        .unwrap();
    let (_, bytes) = transmit(&mut c, now, b"PONG\r\n");
    let (h2, _) = crate::frame::FrameHeader::parse(&bytes, rules)
        .unwrap()
        .unwrap();
    assert!(h1.mask.is_some() && h2.mask.is_some() && h1.mask != h2.mask);
    // The server's close frame reaches the client, which echoes it.
    let mut s = server(Compression::Off);
    s.close(ClosedState::ServerShutdown);
    pump(&mut c, &mut s, now);
    assert_eq!(c.closed_state(), Some(ClosedState::ClientClosed));
    assert!(matches!(c.lifecycle, Lifecycle::Lingering { .. }));
    assert!(matches!(s.lifecycle, Lifecycle::Lingering { .. }));
}
