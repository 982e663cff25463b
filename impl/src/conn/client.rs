//! The NATS client protocol, server side, sans-IO (Go: the `client` type's protocol half
//! in `client.go`).
//!
//! [`ClientProtocol::handle_input`] takes protocol bytes (already unframed for WebSocket
//! clients) and the current time; subscriptions and messages go to a [`Router`] (the
//! server's account sublists), replies (INFO, PONG, +OK, -ERR, PING) accumulate in
//! [`ClientProtocol::output`]. Timers (authentication timeout, PING interval) are driven by
//! [`ClientProtocol::poll_timeout`] and [`ClientProtocol::handle_timeout`]. Nothing here
//! reads a clock, a socket or a random source. A [`crate::conn::Connection`] carries it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{
    AuthRequest, Authenticator, Checker, Expired, Identity, NO_LIMIT, TlsIdentity, Transport,
    min_limit,
};
use crate::conn::keepalive::{KeepAlive, KeepAliveAction, PingDelay, first_ping_delay};
use crate::conn::trace::{self, Dir, Trace};
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::goquote::quote_bytes;
use crate::handshake::AuthCookies;
use crate::nats::ops::{Delivery, write_err, write_info, write_no_responders};
use crate::nats::parser::ParseError;
use crate::nats::subject::is_valid_literal_subject;
use crate::nats::{CLIENT_PROTO_INFO, ConnectInfo, NatsError, Op, Parser, ServerInfo};

/// Settings shared by the connections of one listener.
#[derive(Debug, Clone)]
pub struct ConnConfig {
    /// Which listener.
    pub transport: Transport,
    /// `max_payload`; negative = unlimited.
    pub max_payload: i64,
    /// `max_control_line`.
    pub max_control_line: usize,
    /// The server's `max_subscriptions` per connection (-1: no limit).
    pub max_subs: i64,
    /// Time between PINGs (websocket `ping_interval` overrides the server's).
    pub ping_interval: Duration,
    /// After CONNECT the first PING goes out after at most this long, plus up to a fifth
    /// (Go: `firstClientPingInterval`).
    pub first_ping_interval: Duration,
    /// Unanswered PINGs allowed before `Stale Connection`.
    pub ping_max: u32,
    /// Time to send CONNECT when authentication is required.
    pub auth_timeout: Duration,
    /// The INFO template (host, port, connect URLs, TLS flags, ...).
    pub info: ServerInfo,
    /// Authentication.
    pub auth: Arc<dyn Authenticator>,
    /// `max_sub_tokens`: most tokens a subscription subject may have (0: no limit).
    pub max_sub_tokens: u8,
    /// Protocol trace (`-V`) and `max_traced_msg_len`.
    pub trace: super::Trace,
    /// Debug logging (`-D`, `debug`): the connection's own debug lines (the PING timer's)
    /// are made only then ([`ClientProtocol::take_debug_lines`]).
    pub debug: bool,
}

/// What a connection brings besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct ConnParams {
    /// Connection id.
    pub cid: u64,
    /// The client's IP as shown in INFO.
    pub client_ip: String,
    /// The nonce to put in INFO (when the authenticator asks for one).
    pub nonce: Option<String>,
    /// Cookies from the WebSocket upgrade.
    pub cookies: Option<AuthCookies>,
    /// The verified client certificate's identity.
    pub tls: Option<TlsIdentity>,
    /// A random number the first PING's offset after CONNECT is drawn from (Go:
    /// `setFirstPingTimer`'s `rand.Int63n(d / 5)`).
    pub first_ping_random: u64,
}

/// Why a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscribeError {
    /// Go: `-ERR 'Invalid Subject'`.
    InvalidSubject,
    /// The connection holds its most subscriptions. Go: `ErrTooManySubs`.
    TooMany,
}

/// Where a connection's subscriptions and messages go (the server's accounts).
pub trait Router {
    /// The connection authenticated as `identity`; bind it to its account.
    fn bind(&mut self, identity: &Identity, connect: &ConnectInfo) -> Result<(), ClosedState>;
    /// `SUB`; `max` is the most subscriptions the connection may hold (-1: no limit).
    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
        max: i64,
    ) -> Result<(), SubscribeError>;
    /// `UNSUB`.
    fn unsubscribe(&mut self, sid: &[u8], max: Option<u64>);
    /// Drops every subscription of the connection (Go: `clearAccountSubs`, on a CONNECT
    /// after the first).
    fn unsubscribe_all(&mut self);
    /// Delivers a message; returns how many subscriptions got it. `echo` false skips
    /// this connection's own subscriptions.
    fn publish(&mut self, msg: &Delivery<'_>, echo: bool) -> usize;
    /// The sid of this connection's subscription matching `reply`, if any.
    fn sub_for_reply(&self, reply: &[u8]) -> Option<Vec<u8>>;
    /// Takes the connection's pending output so that it goes out before deliveries made
    /// next (keeps `+OK` before the `MSG` it acknowledges).
    fn flush(&mut self, out: &mut Vec<u8>);
    /// Whether `subject` is the reply subject of a request this connection received and
    /// may still answer under its `allow_responses` permission (counts the answer). Go:
    /// `responseAllowed`.
    fn response_allowed(&mut self, subject: &[u8]) -> bool;
    /// Logs a line at error level with the connection's prefix.
    fn log_error(&mut self, line: &str);
    /// Logs the protocol trace lines so far (before a publish's deliveries are traced, so
    /// the log keeps Go's order) and empties `lines`. By default they stay for
    /// [`ClientProtocol::take_traces`].
    fn log_traces(&mut self, lines: &mut Vec<String>) {
        let _ = lines;
    }

    /// The CONNECT failed authentication (the connection closes next); what it said is
    /// still reported, as Go's auth error event does.
    fn auth_failed(&mut self, _connect: &ConnectInfo) {}
}

/// Go: `ErrTooManySubs`, sent to the client and logged.
pub(crate) const TOO_MANY_SUBS: &str = "maximum subscriptions exceeded";

/// Go: the sleep before closing a connection bound with a subscription limit of 0.
const LIMIT_CLOSE_DELAY: Duration = Duration::from_millis(20);

/// Everything of the protocol but the parser (split so that the parser's op callback can
/// borrow it).
#[derive(Debug)]
struct ProtocolState {
    cfg: Arc<ConnConfig>,
    params: ConnParams,
    out: Vec<u8>,
    connect: ConnectInfo,
    identity: Option<Identity>,
    /// CONNECT (or the no_auth_user fast path) done.
    connected: bool,
    auth_deadline: Option<Instant>,
    /// When the credentials run out (JWT `exp`), and whose they are.
    expires: Option<(Instant, Expired)>,
    /// Bound with a subscription limit of 0: closed at this time (Go: 20 ms after
    /// `applyAccountLimits` finds the limit reached).
    limit_close: Option<Instant>,
    /// PINGs, their PONGs and the RTT.
    keepalive: KeepAlive,
    first_pong_sent: bool,
    /// Trace lines not yet taken ([`ClientProtocol::take_traces`]).
    traces: Vec<String>,
    /// Debug lines not yet taken ([`ClientProtocol::take_debug_lines`]).
    debug_lines: Vec<String>,
    /// When the connection started (Go: `c.start`, the first RTT estimate's origin).
    started: Instant,
    /// Counts what Go calls activity (`c.last`): CONNECT, messages, subscriptions.
    activity: u64,
}

/// One client's NATS protocol state machine.
#[derive(Debug)]
pub struct ClientProtocol {
    parser: Parser,
    state: ProtocolState,
}

impl ClientProtocol {
    /// A new connection at `now`; its INFO is already in [`ClientProtocol::output`].
    pub fn new(cfg: Arc<ConnConfig>, params: ConnParams, now: Instant) -> ClientProtocol {
        let auth_required = cfg.auth.auth_required(cfg.transport);
        let mut info = cfg.info.clone();
        info.client_id = params.cid;
        info.client_ip.clone_from(&params.client_ip);
        info.auth_required = auth_required;
        if let Some(n) = &params.nonce {
            info.nonce.clone_from(n);
        }
        let mut out = Vec::new();
        write_info(&mut out, &info);
        // Go: createClient's setPingTimer, a whole interval until CONNECT re-arms it.
        let mut keepalive = KeepAlive::new(cfg.ping_interval, cfg.ping_max);
        keepalive.start(now + cfg.ping_interval, PingDelay::AfterRecentInput);
        ClientProtocol {
            parser: Parser::new(cfg.max_payload, cfg.max_control_line),
            state: ProtocolState {
                auth_deadline: auth_required.then(|| now + cfg.auth_timeout),
                expires: None,
                limit_close: None,
                keepalive,
                cfg,
                params,
                out,
                connect: ConnectInfo::default(),
                identity: None,
                connected: false,
                first_pong_sent: false,
                traces: Vec::new(),
                debug_lines: Vec::new(),
                started: now,
                activity: 0,
            },
        }
    }

    /// Pending output (INFO, PONG, +OK, -ERR, PING, no-responders messages). The caller
    /// moves it to the socket.
    pub fn output(&mut self) -> &mut Vec<u8> {
        &mut self.state.out
    }

    /// Records the verified client certificate (known only after a TLS handshake that
    /// follows the plain-text INFO on the client port).
    pub fn set_tls_identity(&mut self, identity: Option<TlsIdentity>) {
        self.state.params.tls = identity;
    }

    /// The protocol trace lines since the last call (empty unless tracing), without the
    /// connection's log prefix.
    pub fn take_traces(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.traces)
    }

    /// The debug lines since the last call (empty unless [`ConnConfig::debug`]), without
    /// the connection's log prefix. They come from timers only, where Go logs them
    /// before the trace lines of the same firing.
    pub fn take_debug_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.state.debug_lines)
    }

    /// Lame duck mode: queues an INFO with `"ldm":true` (Go: `sendLDMToClients`), only
    /// for a client that understands async INFO and has had its first PONG.
    pub fn lame_duck_info(&mut self) {
        let st = &mut self.state;
        if !(st.first_pong_sent && st.connect.protocol >= CLIENT_PROTO_INFO) {
            return;
        }
        let mut info = st.cfg.info.clone();
        info.client_id = st.params.cid;
        info.client_ip.clone_from(&st.params.client_ip);
        info.auth_required = st.cfg.auth.auth_required(st.cfg.transport);
        info.ldm = true;
        write_info(&mut st.out, &info);
    }

    /// The CONNECT options (Go's defaults before CONNECT).
    pub fn connect_info(&self) -> &ConnectInfo {
        &self.state.connect
    }

    /// Who the connection authenticated as.
    pub fn identity(&self) -> Option<&Identity> {
        self.state.identity.as_ref()
    }

    /// The last round-trip time (Go: `c.rtt`): estimated at each CONNECT as the time since
    /// the connection started, then measured by each PONG from the last PING sent.
    pub fn rtt(&self) -> Option<Duration> {
        self.state.keepalive.rtt()
    }

    /// Grows with each input Go counts as activity for `/connz` `last_activity`: CONNECT,
    /// a message, a subscription (Go: `c.last` is set then; a PING alone is not).
    pub fn activity(&self) -> u64 {
        self.state.activity
    }

    /// The next time [`ClientProtocol::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let s = &self.state;
        let auth = s.auth_deadline.filter(|_| !s.connected);
        let expiry = s.expires.map(|(at, _)| at);
        [auth, expiry, s.limit_close, s.keepalive.next_due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs due timers. Go: `authTimeout`, `authExpired` / `accountAuthExpired`,
    /// `processPingTimer`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        let s = &mut self.state;
        if !s.connected && s.auth_deadline.is_some_and(|d| now >= d) {
            s.send_err("Authentication Timeout");
            return Err(Close::new(ClosedState::AuthenticationTimeout, None));
        }
        if let Some((at, what)) = s.expires
            && now >= at
        {
            s.send_err(what.client_text());
            return Err(Close::new(ClosedState::AuthenticationExpired, None));
        }
        if s.limit_close.is_some_and(|at| now >= at) {
            return Err(Close::new(ClosedState::MaxSubscriptionsExceeded, None));
        }
        let action = s.keepalive.poll(now);
        if s.cfg.debug {
            action.debug_lines("Client", &mut s.debug_lines);
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
        router: &mut impl Router,
    ) -> Result<(), Close> {
        let s = &mut self.state;
        // Go checks the first byte of each op while CONNECT is awaited.
        if self.parser.at_op_start()
            && let Some(&b) = input.first()
            && b != b'C'
            && b != b'c'
        {
            s.pre_connect_op(now, router)?;
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

impl ProtocolState {
    fn auth_pending(&self) -> bool {
        !self.connected && self.cfg.auth.auth_required(self.cfg.transport)
    }

    /// An op other than CONNECT while authentication is pending: the no_auth_user fast
    /// path, or an authorization violation.
    fn pre_connect_op(&mut self, now: Instant, router: &mut impl Router) -> Result<(), Close> {
        if !self.auth_pending() {
            return Ok(());
        }
        match self.cfg.auth.no_auth_user(self.cfg.transport) {
            Some(id) => {
                self.connected = true;
                self.bind(id, now, router)
            }
            None => Err(self.auth_violation(crate::auth::AuthError::Failed.to_string())),
        }
    }

    fn permissions(&self) -> Option<&Checker> {
        self.identity.as_ref()?.permissions.as_deref()
    }

    /// Go: `pubAllowedFullCheck`: the allow and deny lists, then the open reply subjects
    /// of `allow_responses`.
    fn may_publish(&self, subject: &[u8], router: &mut impl Router) -> bool {
        let Some(p) = self.permissions().filter(|p| p.restricts_publish()) else {
            return true;
        };
        p.can_publish(subject) || (p.responses().is_some() && router.response_allowed(subject))
    }

    /// The most subscriptions this connection may hold (-1: no limit): the user's and
    /// account's, then the server's `max_subscriptions`. Go: `msubs`.
    fn max_subs(&self) -> i64 {
        let server = self.cfg.max_subs;
        self.identity
            .as_ref()
            .map_or(server, |i| min_limit(i.max_subscriptions, server))
    }

    /// Binds the authenticated identity to its account and starts its expiry timer.
    fn bind(&mut self, id: Identity, now: Instant, router: &mut impl Router) -> Result<(), Close> {
        let r = router.bind(&id, &self.connect);
        self.expires = id.expires.map(|e| (now + e.after, e.what));
        self.identity = Some(id);
        r.map_err(|state| Close::new(state, None))?;
        // Go: applyAccountLimits on a limit no subscription fits: the error now, the
        // close 20 ms later (what is read meanwhile is still answered).
        let max = self.max_subs();
        if max != NO_LIMIT && max <= 0 {
            self.send_err(TOO_MANY_SUBS);
            router.log_error(TOO_MANY_SUBS);
            self.limit_close = Some(now + LIMIT_CLOSE_DELAY);
        }
        Ok(())
    }

    fn auth_violation(&mut self, log: String) -> Close {
        self.send_err("Authorization Violation");
        Close::new(ClosedState::AuthenticationViolation, Some(log))
    }

    /// Go `sendErr`: `-ERR '<text>'`, traced.
    fn send_err(&mut self, text: &str) {
        self.trace(Dir::Out, "-ERR", Some(text.as_bytes()));
        write_err(&mut self.out, text);
    }

    /// Go `traceInOp` / `traceOutOp`.
    fn trace(&mut self, dir: Dir, op: &str, arg: Option<&[u8]>) {
        if self.cfg.trace != Trace::Off {
            self.traces.push(trace::op_line(dir, op, arg));
        }
    }

    /// Go: the trace of an incoming op, from its parsed arguments (Go shows the control
    /// line as received; these are the same for single-space separated arguments).
    fn trace_op(&mut self, op: &Op<'_>) {
        let Trace::On { max_payload, part } = self.cfg.trace else {
            return;
        };
        let join = |parts: &[&[u8]]| parts.join(&b' ');
        match op {
            Op::Connect(json) => {
                let arg = trace::redact_connect(json);
                self.trace(Dir::In, "CONNECT", Some(&arg));
            }
            Op::Pub(p) => {
                let size = p.payload.len().to_string();
                let mut parts = vec![p.subject];
                parts.extend(p.reply);
                let hdr = p.header_len.map(|h| h.to_string());
                parts.extend(hdr.as_deref().map(str::as_bytes));
                parts.push(size.as_bytes());
                let name = if p.header_len.is_some() {
                    "HPUB"
                } else {
                    "PUB"
                };
                self.trace(Dir::In, name, Some(&join(&parts)));
                self.traces.extend(trace::payload_line(
                    Dir::In,
                    trace::traced_bytes(p.payload, p.header_len, part),
                    max_payload,
                ));
            }
            Op::Sub {
                subject,
                queue,
                sid,
            } => {
                let mut parts = vec![*subject];
                parts.extend(*queue);
                parts.push(sid);
                self.trace(Dir::In, "SUB", Some(&join(&parts)));
            }
            Op::Unsub { sid, max } => {
                let max = max.map(|m| m.to_string());
                let mut parts = vec![*sid];
                parts.extend(max.as_deref().map(str::as_bytes));
                self.trace(Dir::In, "UNSUB", Some(&join(&parts)));
            }
            Op::Ping => self.trace(Dir::In, "PING", None),
            Op::Pong => self.trace(Dir::In, "PONG", None),
            // A client parser never yields leaf ops.
            Op::HeaderPub | Op::Info(_) | Op::Ok | Op::Err(_) | Op::Leaf(_) => {}
        }
    }

    fn ok(&mut self) {
        if self.connect.verbose {
            self.trace(Dir::Out, "OK", None);
            self.out.extend_from_slice(b"+OK\r\n");
        }
    }

    fn handle_op(
        &mut self,
        op: Op<'_>,
        now: Instant,
        router: &mut impl Router,
    ) -> Result<(), Close> {
        self.trace_op(&op);
        if !matches!(op, Op::Connect(_)) {
            self.pre_connect_op(now, router)?;
        }
        match op {
            Op::Connect(json) => self.process_connect(json, now, router),
            Op::Pub(p) => {
                self.keepalive.on_input(now);
                self.activity += 1;
                if self.connect.pedantic && !is_valid_literal_subject(p.subject) {
                    self.send_err("Invalid Publish Subject");
                }
                if !self.may_publish(p.subject, router) {
                    // Go: pubPermissionViolation; the message is dropped, no +OK.
                    let subject = quote_bytes(p.subject);
                    self.send_err(&format!("Permissions Violation for Publish to {subject}"));
                    router.log_error(&format!("Publish Violation - Subject {subject}"));
                    return Ok(());
                }
                self.ok();
                let msg = Delivery {
                    subject: p.subject,
                    reply: p.reply,
                    header_len: p.header_len,
                    payload: p.payload,
                };
                if !self.out.is_empty() {
                    router.flush(&mut self.out);
                }
                if !self.traces.is_empty() {
                    router.log_traces(&mut self.traces);
                }
                let delivered = router.publish(&msg, self.connect.echo);
                if delivered == 0
                    && self.connect.no_responders
                    && let Some(reply) = p.reply
                    && let Some(sid) = router.sub_for_reply(reply)
                {
                    write_no_responders(&mut self.out, reply, &sid, p.subject);
                }
                Ok(())
            }
            Op::Sub {
                subject,
                queue,
                sid,
            } => {
                self.keepalive.on_input(now);
                self.activity += 1;
                if let Some(p) = self.permissions()
                    && !p.can_subscribe(subject, queue)
                {
                    // Go: subPermissionViolation; checked before the subject's validity.
                    let (subject, sid) = (quote_bytes(subject), String::from_utf8_lossy(sid));
                    let (text, log) = match queue {
                        Some(q) => {
                            let q = quote_bytes(q);
                            (
                                format!("to {subject} using queue {q}"),
                                format!("Subject {subject}, Queue: {q}, SID {sid}"),
                            )
                        }
                        None => (
                            format!("to {subject}"),
                            format!("Subject {subject}, SID {sid}"),
                        ),
                    };
                    self.send_err(&format!("Permissions Violation for Subscription {text}"));
                    router.log_error(&format!("Subscription Violation - {log}"));
                    return Ok(());
                }
                // Go: maxTokensViolation, after the permission check.
                let limit = self.cfg.max_sub_tokens;
                if limit > 0 && subject.split(|&b| b == b'.').count() > usize::from(limit) {
                    let (subject, sid) = (quote_bytes(subject), String::from_utf8_lossy(sid));
                    self.send_err(&format!(
                        "Permissions Violation for Subscription to {subject}, too many tokens"
                    ));
                    router.log_error(&format!(
                        "Subscription Violation Too Many Tokens - Subject {subject}, SID {sid}"
                    ));
                    return Ok(());
                }
                match router.subscribe(subject, queue, sid, self.max_subs()) {
                    Ok(()) => self.ok(),
                    Err(SubscribeError::InvalidSubject) => {
                        self.send_err("Invalid Subject");
                    }
                    // Go: maxSubsExceeded (the router logs it, at most every 2 s per account).
                    Err(SubscribeError::TooMany) => self.send_err(TOO_MANY_SUBS),
                }
                Ok(())
            }
            Op::Unsub { sid, max } => {
                self.keepalive.on_input(now);
                router.unsubscribe(sid, max);
                self.ok();
                Ok(())
            }
            Op::Ping => {
                self.trace(Dir::Out, "PONG", None);
                self.out.extend_from_slice(b"PONG\r\n");
                self.keepalive.on_input(now);
                if self.connected && !self.first_pong_sent {
                    self.first_pong_sent = true;
                    if self.connect.protocol >= CLIENT_PROTO_INFO {
                        let mut info = self.cfg.info.clone();
                        info.client_id = self.params.cid;
                        info.client_ip.clone_from(&self.params.client_ip);
                        info.auth_required = self.cfg.auth.auth_required(self.cfg.transport);
                        info.connect_info = true;
                        info.remote_account = self
                            .identity
                            .as_ref()
                            .map(|i| i.account.clone())
                            .unwrap_or_default();
                        write_info(&mut self.out, &info);
                    }
                }
                Ok(())
            }
            Op::Pong => {
                self.keepalive.on_pong(now);
                Ok(())
            }
            Op::HeaderPub if !self.headers() => {
                let e = NatsError::HeadersNotSupported;
                Err(Close::new(e.closed_state(), Some(e.to_string())))
            }
            Op::HeaderPub | Op::Info(_) | Op::Ok | Op::Err(_) | Op::Leaf(_) => Ok(()),
        }
    }

    /// Go: `c.headers` — the client asked for headers and the server supports them
    /// (`no_header_support` unset).
    fn headers(&self) -> bool {
        self.cfg.info.headers && self.connect.headers
    }

    // Go: processConnect.
    fn process_connect(
        &mut self,
        json: &[u8],
        now: Instant,
        router: &mut impl Router,
    ) -> Result<(), Close> {
        // Go: each CONNECT is decoded into the options the previous one set.
        let mut connect = self.connect.clone();
        if let Err(e) = connect.update(json) {
            return Err(Close::new(
                ClosedState::ProtocolViolation,
                Some(NatsError::Connect(redact_values(&e.to_string())).to_string()),
            ));
        }
        self.connect = connect;
        let first = !self.connected;
        self.connected = true;
        // Go: processConnect estimates the RTT as the time since the connection started,
        // re-arms the PING timer for the short first PING (client.go:2284-2290), and sets
        // the last activity.
        self.keepalive
            .estimate_rtt(now.saturating_duration_since(self.started));
        let first_ping = first_ping_delay(
            self.cfg.ping_interval,
            self.cfg.first_ping_interval,
            self.params.first_ping_random,
        );
        self.keepalive
            .start(now + first_ping, PingDelay::AfterRecentInput);
        self.activity += 1;
        if !first {
            // Go: a later CONNECT drops the connection's subscriptions, then checks
            // authentication again with the options it now has.
            router.unsubscribe_all();
        }
        {
            let auth = Arc::clone(&self.cfg.auth);
            let identity = auth.authenticate(&AuthRequest {
                connect: &self.connect,
                cookies: self.params.cookies.as_ref(),
                transport: self.cfg.transport,
                nonce: self.params.nonce.as_deref(),
                tls: self.params.tls.as_ref(),
            });
            match identity {
                Ok(id) if first => self.bind(id, now, router)?,
                // The binding of the first CONNECT stays (Go re-registers with the
                // account the check names; this server keeps one account per connection).
                Ok(_) => {}
                Err(e) => {
                    router.auth_failed(&self.connect);
                    return Err(self.auth_violation(e.to_string()));
                }
            }
        }
        if self.connect.protocol < 0 || self.connect.protocol > CLIENT_PROTO_INFO {
            self.send_err("invalid client protocol");
            return Err(Close::new(ClosedState::BadClientProtocolVersion, None));
        }
        if self.connect.no_responders && !self.headers() {
            self.send_err("no responders requires headers support");
            return Err(Close::new(ClosedState::NoRespondersRequiresHeaders, None));
        }
        self.ok();
        Ok(())
    }
}

/// A JSON error without the values it quotes: a mistyped `pass` or `auth_token` must
/// not reach the log (Go's `encoding/json` errors name the field, never the value).
fn redact_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    for ch in text.chars() {
        match quote {
            Some(q) if ch == q => {
                out.push_str("...");
                out.push(ch);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(ch);
                if ch == '`' || ch == '"' {
                    quote = Some(ch);
                }
            }
        }
    }
    out
}

impl Session for ClientProtocol {
    fn poll_timeout(&self) -> Option<Instant> {
        ClientProtocol::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        ClientProtocol::handle_timeout(self, now)
    }

    fn output(&mut self) -> &mut Vec<u8> {
        ClientProtocol::output(self)
    }
}

impl<R: Router> HandleInput<R> for ClientProtocol {
    fn handle_input(&mut self, now: Instant, input: &[u8], router: &mut R) -> Result<(), Close> {
        ClientProtocol::handle_input(self, input, now, router)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
