//! The whole-connection target: bytes after the upgrade through one
//! `Connection<ClientProtocol>` (frames → inflate → NATS parser → a loopback router →
//! outbound framing), as the server runs it, minus the sockets.
//!
//! Oracles: no panic; the same bytes give the same written output and closed state
//! whether they arrive in one read or in the reads the input chooses (split
//! invariance); everything written is a valid sequence of server frames with at most one
//! close frame, last; output and deliveries stay within a bound of the input's size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{ConfigAuth, Identity, Transport};
use crate::codec::Collapsed;
use crate::codec::assembler::Assembler;
use crate::conn::{
    ClientProtocol, ConnConfig, ConnParams, Connection, Limits, Role, Router, SubscribeError,
    Transmit, WebSocket,
};
use crate::frame::{ClosedState, OpCode};
use crate::nats::ops::Delivery;
use crate::nats::{ConnectInfo, ServerInfo, Sublist, SublistResult};
use crate::options::ServerOpts;
use crate::policy::{Compression, Framing, MaskPolicy};

/// At most this many subscriptions in the loopback router (bounds fan-out).
const MAX_SUBS: usize = 16;

/// `[policy][n][n read sizes][bytes]`: policy bits pick compression, masking, outbound
/// framing, max_payload and an auth or limits configuration.
pub fn connection(data: &[u8]) {
    let Some((&policy, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(n % 8).min(rest.len());
    let (sizes, input) = rest.split_at(n);
    let setup = Setup::from_byte(policy);
    let whole = run(&setup, input, &[]);
    let split = run(&setup, input, sizes);
    check_output(&whole, input.len());
    check_output(&split, input.len());
    assert_eq!(
        (normal(&whole.written), whole.closed, whole.dropped),
        (normal(&split.written), split.closed, split.dropped),
        "the output depends on how the input was split ({sizes:?})"
    );
}

/// The written frames, with the reason of a 1007 close cut to its code: zlib words the
/// same corruption differently depending on where the input was cut (docs/FUZZING.md).
fn normal(written: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    let mut a = Assembler::new(1 << 26);
    a.push(written);
    let mut frames = Vec::new();
    while let Ok(Some(f)) = a.next_frame() {
        let mut payload = f.frame.payload;
        if f.frame.header.opcode == OpCode::Close && payload.starts_with(&[0x03, 0xef]) {
            payload.truncate(2);
        }
        frames.push((f.frame.header.opcode, f.frame.header.fin, payload));
    }
    frames
}

#[derive(Debug, Clone)]
struct Setup {
    compression: Compression,
    mask: MaskPolicy,
    framing: Framing,
    max_payload: usize,
    conf: &'static str,
}

impl Setup {
    fn from_byte(b: u8) -> Setup {
        Setup {
            compression: if b & 1 == 1 {
                Compression::Negotiated
            } else {
                Compression::Off
            },
            mask: if b & 2 == 2 {
                MaskPolicy::Exempt
            } else {
                MaskPolicy::Required
            },
            framing: match (b >> 2) & 3 {
                1 => Framing::Browser,
                2 => Framing::Safari,
                _ => Framing::Whole,
            },
            max_payload: [64, 1024, 4096, 1 << 20][usize::from((b >> 4) & 3)],
            conf: [
                "",
                "authorization { user: u, password: p }",
                "authorization { token: t }",
                "max_subscriptions: 2",
            ][usize::from((b >> 6) & 3)],
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    written: Vec<u8>,
    closed: Option<ClosedState>,
    dropped: usize,
}

fn run(setup: &Setup, input: &[u8], sizes: &[u8]) -> Run {
    let now = Instant::now();
    let Ok(loaded) = ServerOpts::from_str(setup.conf, std::path::Path::new(".")) else {
        panic!("the target's own configuration must load: {:?}", setup.conf);
    };
    let Ok(auth) = ConfigAuth::new(&loaded.opts) else {
        panic!("the target's own auth configuration must load");
    };
    let cfg = Arc::new(ConnConfig {
        transport: Transport::Websocket,
        max_payload: setup.max_payload as i64,
        max_control_line: 4096,
        max_subs: if setup.conf.starts_with("max_subscriptions") {
            2
        } else {
            crate::auth::NO_LIMIT
        },
        ping_interval: Duration::from_secs(120),
        first_ping_interval: Duration::from_secs(120),
        debug: false,
        ping_max: 2,
        auth_timeout: Duration::from_secs(120),
        max_sub_tokens: 0,
        trace: crate::conn::Trace::Off,
        info: ServerInfo::default(),
        auth: Arc::new(auth),
    });
    let session = ClientProtocol::new(cfg, ConnParams::default(), now);
    let ws = WebSocket {
        role: Role::Server { mask: setup.mask },
        compression: setup.compression,
        framing: setup.framing,
        max_payload: setup.max_payload,
    };
    let limits = Limits {
        write_deadline: Duration::from_secs(10),
        linger: Duration::from_secs(2),
    };
    let mut conn = Connection::websocket(session, ws, limits);
    let mut router = Loopback::default();
    let mut rest = input;
    for &size in sizes {
        let (piece, after) = rest.split_at(usize::from(size).min(rest.len()));
        let _ = conn.handle_input(now, &mut piece.to_vec(), &mut router);
        rest = after;
    }
    let _ = conn.handle_input(now, &mut rest.to_vec(), &mut router);
    let mut written = Vec::new();
    let mut out = Collapsed::new();
    // Each transmit takes everything queued; a few rounds drain close and shutdown.
    for _ in 0..4 {
        let mut queued = std::mem::take(&mut router.delivered);
        match conn.poll_transmit(now, &mut queued, &mut out) {
            Ok(Transmit::Write) => {
                written.extend(out.to_vec());
                conn.handle_transmitted();
            }
            Ok(_) | Err(_) => break,
        }
    }
    Run {
        written,
        closed: conn.closed_state(),
        dropped: router.dropped,
    }
}

/// Output is server frames (unmasked), at most one close frame and nothing after it,
/// within a bound of the input: the router keeps at most 1 MiB of deliveries, one more
/// message may pass it, and each input byte yields at most a few hundred bytes of replies
/// (16 subscriptions, each echo a header line plus the payload).
fn check_output(run: &Run, input_len: usize) {
    let bound = (3 << 20) + input_len.saturating_mul(64 * MAX_SUBS);
    assert!(
        run.written.len() <= bound,
        "{} bytes written for {input_len} of input",
        run.written.len()
    );
    let mut a = Assembler::new(1 << 26);
    a.push(&run.written);
    let mut closes = 0;
    loop {
        match a.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(closes, 0, "a frame after the close frame");
                assert!(f.frame.header.mask.is_none(), "a server frame is masked");
                if f.frame.header.opcode == OpCode::Close {
                    closes += 1;
                }
            }
            Ok(None) => break,
            Err(e) => panic!("the server wrote an invalid frame: {e}"),
        }
    }
    assert_eq!(a.pending(), 0, "the output ends inside a frame");
}

/// One connection's router: its subscriptions get its own messages (bounded).
#[derive(Default)]
struct Loopback {
    subs: Sublist<Vec<u8>>,
    count: usize,
    delivered: Vec<u8>,
    dropped: usize,
}

impl Router for Loopback {
    fn bind(&mut self, _: &Identity, _: &ConnectInfo) -> Result<(), ClosedState> {
        Ok(())
    }
    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
        max: i64,
    ) -> Result<(), SubscribeError> {
        if self.count >= MAX_SUBS || (max >= 0 && self.count as i64 >= max) {
            return Err(SubscribeError::TooMany);
        }
        self.subs
            .insert(subject, queue, sid.to_vec())
            .map_err(|_| SubscribeError::InvalidSubject)?;
        self.count += 1;
        Ok(())
    }
    fn unsubscribe(&mut self, _: &[u8], _: Option<u64>) {}
    fn unsubscribe_all(&mut self) {
        self.subs = Sublist::default();
        self.count = 0;
    }
    fn publish(&mut self, msg: &Delivery<'_>, echo: bool) -> usize {
        if !echo {
            return 0;
        }
        let mut r = SublistResult::default();
        self.subs.matches(msg.subject, &mut r);
        for sid in &r.psubs {
            if self.delivered.len() > 1 << 20 {
                self.dropped += 1;
            } else {
                msg.write(&mut self.delivered, sid);
            }
        }
        r.psubs.len()
    }
    fn sub_for_reply(&self, reply: &[u8]) -> Option<Vec<u8>> {
        let mut r = SublistResult::default();
        self.subs.matches(reply, &mut r);
        r.psubs.first().cloned()
    }
    fn flush(&mut self, out: &mut Vec<u8>) {
        self.delivered.append(out);
    }
    fn response_allowed(&mut self, _: &[u8]) -> bool {
        false
    }
    fn log_error(&mut self, _: &str) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::frame::Frame;

    #[test]
    fn a_session_is_answered_the_same_in_any_reads() {
        let setup = Setup::from_byte(0);
        let input = Frame::new(
            OpCode::Binary,
            b"CONNECT {}\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n",
        )
        .masked(Some([1, 2, 3, 4]))
        .to_vec();
        let whole = run(&setup, &input, &[]);
        let text = String::from_utf8_lossy(&whole.written).into_owned();
        assert!(text.contains("MSG a 1 2\r\nhi\r\nPONG\r\n"), "{text}");
        assert_eq!(whole.closed, None);
        assert_eq!(run(&setup, &input, &[1, 2, 3, 4, 5, 6, 7]), whole);
        check_output(&whole, input.len());
    }
}
