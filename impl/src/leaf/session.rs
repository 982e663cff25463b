//! One leaf connection's protocol state machine, sans-IO: the accepting (hub) side's
//! INFO, CONNECT checks and authentication, then interest and messages both ways, and
//! PING/PONG (Go: `createLeafNode`, `processLeafNodeConnect`, `processLeafSub`,
//! `processLeafUnsub`, `processInboundLeafMsg`, the ping timer).
//!
//! [`LeafSession`] is a [`Session`] for [`crate::conn::Connection`], over TCP or
//! WebSocket; what it receives goes to a [`LeafRouter`] (the server's accounts).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{Authenticator, Identity, TlsIdentity, Transport};
use crate::conn::keepalive::{KeepAlive, KeepAliveAction, PingDelay, first_ping_delay};
use crate::conn::trace::{self, Dir, Trace};
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::goquote::quote;
use crate::leaf::info::{LeafConnect, LeafInfo, write_info};
use crate::leaf::interest::LeafRole;
use crate::leaf::wire::PeerHeaders;
use crate::leaf::{LeafMsg, LeafOp};
use crate::nats::ops::write_err;
use crate::nats::parser::ParseError;
use crate::nats::{Op, Parser};

/// Go: `leafNodeReconnectDelayAfterLoopDetected`, named in the loop error.
pub const LOOP_DELAY: Duration = Duration::from_secs(30);
/// Go: `firstPingInterval`, the first PING of a leaf connection at most (before the
/// random offset).
pub const FIRST_PING_INTERVAL: Duration = Duration::from_secs(1);
/// Go: `leafNodeMinVersionReconnectDelay`.
pub const MIN_VERSION_DELAY: Duration = Duration::from_secs(5);

pub use solicit::{CONNECT_PROCESS_TIMEOUT, Solicit};

/// Settings shared by the leaf connections of one listener.
#[derive(Debug, Clone)]
pub struct LeafConfig {
    /// `LEAFNODE` or `LEAFNODE_WS`.
    pub transport: Transport,
    /// `max_payload`; negative = unlimited.
    pub max_payload: i64,
    /// The server's `max_control_line` (leafs may use 16 times it).
    pub max_control_line: usize,
    /// Time between PINGs once bound (the websocket `ping_interval` on WebSocket).
    pub ping_interval: Duration,
    /// Unanswered PINGs allowed before `Stale Connection`.
    pub ping_max: u32,
    /// Time allowed for CONNECT (Go: `leafnodes { authorization { timeout } }`).
    pub auth_timeout: Duration,
    /// The INFO template (Go: `s.leafNodeInfo`).
    pub info: LeafInfo,
    /// Who a leaf is (Go: `isLeafNodeAuthorized`).
    pub auth: Arc<dyn Authenticator>,
    /// This server's cluster name, if any (a leaf with the same one is refused).
    pub cluster: String,
    /// `leafnodes { min_version }`.
    pub min_version: String,
    /// Protocol trace (`-V`).
    pub trace: Trace,
    /// Debug logging (`-D`, `debug`): the PING timer's debug lines are made only then
    /// ([`LeafSession::take_debug_lines`]).
    pub debug: bool,
}

/// What a connection brings besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct LeafParams {
    /// Connection id (`lid:`).
    pub cid: u64,
    /// The nonce to put in INFO.
    pub nonce: String,
    /// permessage-deflate was negotiated: INFO leaves `compression` out (Go: 1359).
    pub websocket_compression: bool,
    /// A random number the first PING's offset (below a fifth of its delay) is drawn from
    /// (Go: `setFirstPingTimer`'s `rand.Int63n(d / 5)`).
    pub first_ping_random: u64,
    /// The verified client certificate's identity.
    pub tls: Option<TlsIdentity>,
}

/// What the peer declared in its CONNECT.
#[derive(Debug, Clone)]
pub struct LeafPeer {
    /// Our side of the connection.
    pub role: LeafRole,
    /// The peer takes `HMSG`.
    pub headers: PeerHeaders,
    /// Its CONNECT.
    pub connect: LeafConnect,
}

/// Why an `LS+` was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeafSubError {
    /// It is the account's own loop detection subject (Go: `handleLeafNodeLoop`).
    Loop,
    /// Not allowed by the leaf user's permissions (dropped, logged at debug).
    Denied,
    /// Not a valid subject (Go: `-ERR 'Invalid Subscription'`).
    InvalidSubject,
    /// The connection holds `max_subscriptions` already (Go: `maxSubsExceeded`; the
    /// interest is dropped, the connection stays).
    TooMany,
}

/// A message the leaf's permissions do not allow (Go: `leafMsgAllowed` false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionDenied;

/// Where a leaf connection's interest and messages go (the server's accounts).
pub trait LeafRouter {
    /// The peer authenticated as `identity`: register the connection with its account.
    fn bind(&mut self, identity: &Identity, peer: &LeafPeer) -> Result<(), ClosedState>;
    /// Sends the account's interest (`LS+` for its subscriptions and its loop detection
    /// subject) after whatever was flushed before (Go: `initLeafNodeSmapAndSendSubs`).
    fn send_interest(&mut self);
    /// `LS+`.
    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<(&[u8], i32)>,
        key: &[u8],
    ) -> Result<(), LeafSubError>;
    /// `LS-`.
    fn unsubscribe(&mut self, key: &[u8]);
    /// `LMSG`/`HMSG`: deliver to the account's local subscribers and other leafs,
    /// unless the leaf's permissions refuse the subject.
    fn publish(&mut self, msg: &LeafMsg<'_>) -> Result<(), PermissionDenied>;
    /// Takes the session's pending output so it goes out before what is queued next.
    fn flush(&mut self, out: &mut Vec<u8>);
    /// Logs at error level with the connection's prefix.
    fn log_error(&mut self, line: &str);
    /// Logs at info level with the connection's prefix.
    fn log_notice(&mut self, line: &str);
    /// Logs at debug level with the connection's prefix.
    fn log_debug(&mut self, line: &str);
    /// Logs the protocol trace lines so far, so that lines the op's handling logs come
    /// after its trace as in Go, and empties `lines`. By default they stay for
    /// [`LeafSession::take_traces`].
    fn log_traces(&mut self, lines: &mut Vec<String>) {
        let _ = lines;
    }
}

/// Where the connection is.
#[derive(Debug)]
enum Phase {
    /// Accepted; CONNECT must come first, by `deadline`.
    AwaitConnect { deadline: Instant },
    /// Solicited; the hub's INFO must come by `deadline`.
    AwaitInfo {
        deadline: Instant,
        solicit: Box<Solicit>,
    },
    /// Our CONNECT went out; the hub's `connect_info` INFO must come by `deadline`.
    AwaitConnectInfo {
        deadline: Instant,
        pending: Box<(Identity, LeafPeer)>,
    },
    /// Authenticated and registered with `account`.
    Bound { account: String, role: LeafRole },
    /// An op ended the connection.
    Closed,
}

#[derive(Debug)]
struct State {
    cfg: Arc<LeafConfig>,
    params: LeafParams,
    out: Vec<u8>,
    phase: Phase,
    /// PINGs, their PONGs and the RTT; started once bound.
    keepalive: KeepAlive,
    traces: Vec<String>,
    /// The PING timer's debug lines not yet taken.
    debug_lines: Vec<String>,
    activity: u64,
    remote_name: String,
    reconnect_delay: Option<Duration>,
    side: Side,
    /// The hub's last gossip: its `leafnode_urls` and `ws_connect_urls`.
    gossip: Option<(Vec<String>, Vec<String>)>,
}

/// Who dialed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The peer (we are its hub, or the spoke of a remote marked `hub`).
    Accepted,
    /// We did (a configured remote).
    Solicited,
}

/// The protocol of one accepted leaf connection.
#[derive(Debug)]
pub struct LeafSession {
    parser: Parser,
    state: State,
}

impl LeafSession {
    /// A leaf connection accepted at `now`; its INFO is already in the output.
    pub fn accept(cfg: Arc<LeafConfig>, params: LeafParams, now: Instant) -> LeafSession {
        let mut info = cfg.info.clone();
        info.client_id = params.cid;
        info.nonce.clone_from(&params.nonce);
        if params.websocket_compression {
            info.compression.clear();
        }
        let mut out = Vec::new();
        write_info(&mut out, &info);
        LeafSession {
            parser: Parser::leaf(cfg.max_payload, cfg.max_control_line),
            state: State {
                phase: Phase::AwaitConnect {
                    deadline: now + cfg.auth_timeout,
                },
                keepalive: KeepAlive::new(cfg.ping_interval, cfg.ping_max),
                cfg,
                params,
                out,
                traces: Vec::new(),
                debug_lines: Vec::new(),
                activity: 0,
                remote_name: String::new(),
                reconnect_delay: None,
                side: Side::Accepted,
                gossip: None,
            },
        }
    }

    /// A leaf connection this server solicited, at `now` (after the transport and any
    /// WebSocket upgrade): the hub's INFO comes first.
    pub fn solicit(
        cfg: Arc<LeafConfig>,
        params: LeafParams,
        solicit: Solicit,
        now: Instant,
    ) -> LeafSession {
        LeafSession {
            parser: Parser::leaf(cfg.max_payload, cfg.max_control_line),
            state: State {
                phase: Phase::AwaitInfo {
                    deadline: now + solicit.first_info_timeout,
                    solicit: Box::new(solicit),
                },
                keepalive: KeepAlive::new(cfg.ping_interval, cfg.ping_max),
                cfg,
                params,
                out: Vec::new(),
                traces: Vec::new(),
                debug_lines: Vec::new(),
                activity: 0,
                remote_name: String::new(),
                reconnect_delay: None,
                side: Side::Solicited,
                gossip: None,
            },
        }
    }

    /// How long a soliciting side waits before dialing again after this connection,
    /// when the hub's error asks for longer than the usual reconnect interval (Go: 30 s
    /// after a loop or the same cluster name, 5 s under a minimum version).
    pub fn reconnect_delay(&self) -> Option<Duration> {
        self.state.reconnect_delay
    }

    /// The URLs the hub gossiped in its last INFO (`leafnode_urls`, `ws_connect_urls`),
    /// for the dialer's next attempts (Go: `updateLeafNodeURLs`).
    pub fn gossip(&self) -> Option<(&[String], &[String])> {
        self.state
            .gossip
            .as_ref()
            .map(|(l, w)| (l.as_slice(), w.as_slice()))
    }

    /// Pending output.
    pub fn output(&mut self) -> &mut Vec<u8> {
        &mut self.state.out
    }

    /// Records the verified client certificate (after the TLS handshake).
    pub fn set_tls_identity(&mut self, identity: Option<TlsIdentity>) {
        self.state.params.tls = identity;
    }

    /// Trace lines since the last call.
    pub fn take_traces(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.traces)
    }

    /// The PING timer's debug lines since the last call (empty unless
    /// [`LeafConfig::debug`]); Go logs them before the trace of the PING they announce.
    pub fn take_debug_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.debug_lines)
    }

    /// Grows with each input Go counts as activity.
    pub fn activity(&self) -> u64 {
        self.state.activity
    }

    /// The last measured round trip (Go: `c.rtt`). A leaf has no CONNECT estimate; Go's
    /// other one, for S2 `auto` compression, does not apply (compression is `off`).
    pub fn rtt(&self) -> Option<Duration> {
        self.state.keepalive.rtt()
    }

    /// The peer's server name, once CONNECT said it (Go: `Remote: <name>` in the log).
    pub fn remote_name(&self) -> &str {
        &self.state.remote_name
    }

    /// The next time [`LeafSession::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state.phase {
            Phase::AwaitConnect { deadline }
            | Phase::AwaitInfo { deadline, .. }
            | Phase::AwaitConnectInfo { deadline, .. } => Some(deadline),
            Phase::Bound { .. } => self.state.keepalive.next_due(),
            Phase::Closed => None,
        }
    }

    /// Runs due timers: the authentication timeout, then PINGs (Go: `processPingTimer`).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        let s = &mut self.state;
        match s.phase {
            Phase::AwaitConnect { deadline } => {
                if now >= deadline {
                    s.send_err("Authentication Timeout");
                    return Err(Close::new(ClosedState::AuthenticationTimeout, None));
                }
                return Ok(());
            }
            // Go: the read deadline of `first_info_timeout` ends the read loop.
            Phase::AwaitInfo { deadline, .. } => {
                if now >= deadline {
                    return Err(Close::new(ClosedState::ReadError, None));
                }
                return Ok(());
            }
            Phase::AwaitConnectInfo { deadline, .. } => {
                if now >= deadline {
                    s.send_err("Stale Leaf Node Connection - Closing");
                    return Err(Close::new(ClosedState::StaleConnection, None));
                }
                return Ok(());
            }
            Phase::Bound { .. } => {}
            Phase::Closed => return Ok(()),
        }
        let action = s.keepalive.poll(now);
        if s.cfg.debug {
            action.debug_lines("Leafnode", &mut s.debug_lines);
        }
        match action {
            KeepAliveAction::NotDue | KeepAliveAction::Delay { .. } => Ok(()),
            KeepAliveAction::SendPing => {
                s.trace(Dir::Out, "PING", None);
                s.out.extend_from_slice(b"PING\r\n");
                Ok(())
            }
            KeepAliveAction::Stale => {
                // Go enqueues this one without a trace line.
                write_err(&mut s.out, "Stale Connection");
                Err(Close::new(ClosedState::StaleConnection, None))
            }
        }
    }

    /// Parses and acts on received protocol bytes.
    pub fn handle_input(
        &mut self,
        input: &[u8],
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        let s = &mut self.state;
        // Go: while CONNECT is awaited, any op not starting with `C` is an
        // authorization violation (checked on its first byte).
        if self.parser.at_op_start()
            && matches!(s.phase, Phase::AwaitConnect { .. })
            && let Some(&b) = input.first()
            && b != b'C'
            && b != b'c'
        {
            return Err(s.auth_violation(crate::auth::AuthError::Failed.to_string()));
        }
        let result = self
            .parser
            .parse(input, &mut |op| s.handle_op(op, now, router));
        match result {
            Ok(()) => Ok(()),
            Err(ParseError::Handler(close)) => Err(close),
            Err(ParseError::Protocol(e)) => {
                if let Some(text) = e.client_text() {
                    s.send_err(text);
                }
                Err(Close::new(e.closed_state(), Some(e.to_string())))
            }
        }
    }
}

impl State {
    /// Bound as `role` at `now`: the first PING is due after the interval, at most
    /// [`FIRST_PING_INTERVAL`], plus the random offset. Go: `setFirstPingTimer`;
    /// `processPingTimer` delays a PING after recent input only on the accepting side, a
    /// spoke always pings.
    fn start_pings(&mut self, now: Instant, role: LeafRole) {
        let delay = match role {
            LeafRole::Hub => PingDelay::AfterRecentInput,
            LeafRole::Spoke => PingDelay::Never,
        };
        let first = first_ping_delay(
            self.cfg.ping_interval,
            FIRST_PING_INTERVAL,
            self.params.first_ping_random,
        );
        self.keepalive.start(now + first, delay);
    }

    fn auth_violation(&mut self, log: String) -> Close {
        self.send_err("Authorization Violation");
        Close::new(ClosedState::AuthenticationViolation, Some(log))
    }

    /// Go `sendErr`, traced.
    fn send_err(&mut self, text: &str) {
        self.trace(Dir::Out, "-ERR", Some(text.as_bytes()));
        write_err(&mut self.out, text);
    }

    /// Go `sendErrAndErr`: the error to the peer and to the log, then close with `state`.
    fn refuse(&mut self, text: &str, state: ClosedState) -> Close {
        self.send_err(text);
        Close::new(state, Some(text.to_owned()))
    }

    fn trace(&mut self, dir: Dir, op: &str, arg: Option<&[u8]>) {
        if self.cfg.trace != Trace::Off {
            self.traces.push(trace::op_line(dir, op, arg));
        }
    }

    fn trace_op(&mut self, op: &Op<'_>) {
        let Trace::On { max_payload, part } = self.cfg.trace else {
            return;
        };
        match op {
            Op::Connect(json) => {
                let arg = trace::redact_connect(json);
                self.trace(Dir::In, "CONNECT", Some(&arg));
            }
            Op::Ping => self.trace(Dir::In, "PING", None),
            Op::Pong => self.trace(Dir::In, "PONG", None),
            Op::Info(json) => self.trace(Dir::In, "INFO", Some(json)),
            Op::Err(text) => self.trace(Dir::In, "-ERR", Some(text)),
            Op::Leaf(LeafOp::Sub { subject, queue, .. }) => {
                let mut arg = subject.to_vec();
                if let Some((q, w)) = queue {
                    arg.push(b' ');
                    arg.extend_from_slice(q);
                    arg.extend_from_slice(format!(" {w}").as_bytes());
                }
                self.trace(Dir::In, "LS+", Some(&arg));
            }
            Op::Leaf(LeafOp::Unsub { key }) => self.trace(Dir::In, "LS-", Some(key)),
            Op::Leaf(LeafOp::Msg(m)) => {
                let mut arg = m.subject.to_vec();
                let queues: Vec<&[u8]> = m.queues().collect();
                match (m.reply, queues.is_empty()) {
                    (Some(r), false) => {
                        arg.extend_from_slice(b" + ");
                        arg.extend_from_slice(r);
                    }
                    (None, false) => arg.extend_from_slice(b" |"),
                    (Some(r), true) => {
                        arg.push(b' ');
                        arg.extend_from_slice(r);
                    }
                    (None, true) => {}
                }
                for q in &queues {
                    arg.push(b' ');
                    arg.extend_from_slice(q);
                }
                if let Some(h) = m.header_len {
                    arg.extend_from_slice(format!(" {h}").as_bytes());
                }
                arg.extend_from_slice(format!(" {}", m.payload.len()).as_bytes());
                let name = if m.header_len.is_some() {
                    "HMSG"
                } else {
                    "LMSG"
                };
                self.trace(Dir::In, name, Some(&arg));
                self.traces.extend(trace::payload_line(
                    Dir::In,
                    trace::traced_bytes(m.payload, m.header_len, part),
                    max_payload,
                ));
            }
            Op::Ok | Op::Pub(_) | Op::HeaderPub | Op::Sub { .. } | Op::Unsub { .. } => {}
        }
    }

    fn handle_op(
        &mut self,
        op: Op<'_>,
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        self.trace_op(&op);
        if !self.traces.is_empty() {
            router.log_traces(&mut self.traces);
        }
        if matches!(self.phase, Phase::AwaitConnect { .. }) && !matches!(op, Op::Connect(_)) {
            return Err(self.auth_violation(crate::auth::AuthError::Failed.to_string()));
        }
        // Go: interest and messages before the connection is bound to an account.
        if !matches!(self.phase, Phase::Bound { .. }) && matches!(op, Op::Leaf(_)) {
            self.send_err("Authorization Violation");
            return Err(Close::new(ClosedState::ProtocolViolation, None));
        }
        match op {
            Op::Connect(json) => self.process_connect(json, now, router),
            Op::Ping => {
                self.trace(Dir::Out, "PONG", None);
                self.out.extend_from_slice(b"PONG\r\n");
                self.keepalive.on_input(now);
                Ok(())
            }
            Op::Pong => {
                self.keepalive.on_pong(now);
                Ok(())
            }
            Op::Err(text) => {
                // Go: processErr for a leaf logs, then leafProcessErr: a loop reported by
                // the peer closes the connection; other errors leave it to the peer.
                let text = String::from_utf8_lossy(text).into_owned();
                router.log_error(&format!("Leafnode Error {text}"));
                self.peer_error(&text, router)
            }
            Op::Leaf(LeafOp::Sub {
                subject,
                queue,
                key,
            }) => {
                self.keepalive.on_input(now);
                self.activity += 1;
                match router.subscribe(subject, queue, key) {
                    Ok(()) => Ok(()),
                    Err(LeafSubError::Loop) => Err(self.loop_detected(true)),
                    Err(LeafSubError::Denied) => {
                        self.permission_violation("Subscription", subject, router)
                    }
                    Err(LeafSubError::TooMany) => {
                        router.log_error(crate::conn::TOO_MANY_SUBS);
                        self.send_err(crate::conn::TOO_MANY_SUBS);
                        Ok(())
                    }
                    Err(LeafSubError::InvalidSubject) => {
                        router.log_error("Could not insert subscription: invalid subject");
                        self.send_err("Invalid Subscription");
                        Ok(())
                    }
                }
            }
            Op::Leaf(LeafOp::Unsub { key }) => {
                self.keepalive.on_input(now);
                self.activity += 1;
                router.unsubscribe(key);
                Ok(())
            }
            Op::Leaf(LeafOp::Msg(m)) => {
                self.keepalive.on_input(now);
                self.activity += 1;
                if !self.out.is_empty() {
                    router.flush(&mut self.out);
                }
                match router.publish(&m) {
                    Ok(()) => Ok(()),
                    Err(PermissionDenied) => {
                        self.permission_violation("Publish", m.subject, router)
                    }
                }
            }
            // Go: an INFO from the accepted side only matters with S2 compression.
            Op::Info(json) => self.process_info(json, now, router),
            Op::Ok => Ok(()),
            // A leaf parser yields none of the client ops.
            Op::Pub(_) | Op::HeaderPub | Op::Sub { .. } | Op::Unsub { .. } => Ok(()),
        }
    }

    /// Go: `leafPermViolation`: a spoke drops what its hub's permissions refuse; the
    /// accepting side tells the peer, logs and closes.
    fn permission_violation(
        &mut self,
        action: &str,
        subject: &[u8],
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        if matches!(
            self.phase,
            Phase::Bound {
                role: LeafRole::Spoke,
                ..
            }
        ) {
            return Ok(());
        }
        let subject = quote(&String::from_utf8_lossy(subject));
        self.send_err(&format!("Permissions Violation for {action} to {subject}"));
        router.log_error(&format!(
            "{action} Violation on {subject} - Check other side configuration"
        ));
        Err(Close::new(ClosedState::ProtocolViolation, None))
    }

    /// Go: `leafProcessErr`: the hub's errors that make a soliciting side wait longer
    /// before its next attempt; a loop reported by the peer closes the connection.
    fn peer_error(&mut self, text: &str, router: &mut impl LeafRouter) -> Result<(), Close> {
        let delay = |s: &mut State, d: Duration| {
            if s.solicited() {
                s.reconnect_delay = Some(d);
            }
            crate::options::GoDuration::from_secs_wrapping(d.as_secs() as i64)
        };
        if text.contains("remote leafnode has same cluster name") {
            let d = delay(self, LOOP_DELAY);
            router.log_error(&format!(
                "Leafnode connection dropped with same cluster name error. Delaying attempt to reconnect for {d}"
            ));
            return Ok(());
        }
        if text.contains("connection rejected since minimum version required is") {
            let d = delay(self, MIN_VERSION_DELAY);
            router.log_error(&format!(
                "Leafnode connection dropped due to minimum version requirement. Delaying attempt to reconnect for {d}"
            ));
            return Ok(());
        }
        if text.contains("Loop detected") {
            return Err(self.loop_detected(false));
        }
        Ok(())
    }

    /// Whether this side dialed the connection.
    fn solicited(&self) -> bool {
        self.side == Side::Solicited
    }

    /// Go: `handleLeafNodeLoop`: the error to the peer (when we found the loop) and the
    /// log, then close.
    fn loop_detected(&mut self, send: bool) -> Close {
        if self.solicited() {
            self.reconnect_delay = Some(LOOP_DELAY);
        }
        let account = match &self.phase {
            Phase::Bound { account, .. } => account.clone(),
            _ => String::new(),
        };
        let text = format!(
            "Loop detected for leafnode account={}. Delaying attempt to reconnect for {}",
            quote(&account),
            crate::options::GoDuration::from_secs_wrapping(LOOP_DELAY.as_secs() as i64)
        );
        if send {
            self.send_err(&text);
        }
        Close::new(ClosedState::ProtocolViolation, Some(text))
    }
}

impl Session for LeafSession {
    fn poll_timeout(&self) -> Option<Instant> {
        LeafSession::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        LeafSession::handle_timeout(self, now)
    }

    fn output(&mut self) -> &mut Vec<u8> {
        LeafSession::output(self)
    }
}

impl<R: LeafRouter> HandleInput<R> for LeafSession {
    fn handle_input(&mut self, now: Instant, input: &[u8], router: &mut R) -> Result<(), Close> {
        LeafSession::handle_input(self, input, now, router)
    }
}

mod accept;
mod solicit;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
