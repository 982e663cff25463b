//! The incremental protocol parser (Go: `client.parse` in `parser.go`), for the two
//! [`Dialect`]s a connection may speak: the client protocol, and the leafnode protocol
//! (`LS+`, `LS-`, `LMSG`, `HMSG`; see [`leaf`]). One machine for both, as in Go.
//!
//! Bytes may be split anywhere (across reads and WebSocket frames): a control line is
//! collected until its `\n`, a payload until its announced size plus `\r\n`. Nothing is
//! allocated in proportion to an announced size: buffers grow with bytes received, and
//! the announced size is checked against `max_payload` before any payload byte is kept.

use std::ops::Range;

use crate::goquote::quote_bytes;
use crate::nats::NatsError;

pub mod leaf;

pub use leaf::{LeafMsg, LeafOp};

/// Longest op name plus separator accepted before the control line limit applies to a
/// line still being received (`CONNECT ` is 8 bytes).
const OP_NAME_ALLOWANCE: usize = 8;
/// Bytes of input quoted in an unknown-operation error. Go: `PROTO_SNIPPET_SIZE`.
const PROTO_SNIPPET_SIZE: usize = 32;
/// Longest decimal size accepted. Go: `maxParseSizeLen` (9 digits, < 1 GB).
const MAX_SIZE_DIGITS: usize = 9;

const CLIENT_OPS: &[&[u8]] = &[
    b"CONNECT", b"PUB", b"HPUB", b"SUB", b"UNSUB", b"PING", b"PONG", b"INFO", b"+OK", b"-ERR",
];

/// A leaf peer's ops. Go's parser also takes `SUB`, `UNSUB` and `MSG` from a leaf as
/// `LS+`, `LS-` and `LMSG` (its state machine shares their states), so they are kept as
/// aliases; `PUB`/`HPUB` from a leaf (never sent by a Go server) are unknown here.
const LEAF_OPS: &[&[u8]] = &[
    b"CONNECT", b"LS+", b"LS-", b"LMSG", b"HMSG", b"SUB", b"UNSUB", b"MSG", b"PING", b"PONG",
    b"INFO", b"+OK", b"-ERR",
];

/// Which protocol a parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// A NATS client's ops.
    Client,
    /// A leafnode peer's ops (either side of a leaf connection).
    Leaf,
}

impl Dialect {
    fn ops(self) -> &'static [&'static [u8]] {
        match self {
            Dialect::Client => CLIENT_OPS,
            Dialect::Leaf => LEAF_OPS,
        }
    }

    /// Go's `kindString`, in parser error texts.
    fn kind(self) -> &'static str {
        match self {
            Dialect::Client => "Client",
            Dialect::Leaf => "Leafnode",
        }
    }
}

/// Go: a leaf (or route) connection's control lines may be 16 times `max_control_line`
/// (`overMaxControlLineLimit`), for account, reply and queue names.
pub const LEAF_CONTROL_LINE_FACTOR: usize = 16;

/// One client protocol operation. Slices borrow the parser's buffers or the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op<'a> {
    /// `CONNECT <json>`.
    Connect(&'a [u8]),
    /// `PUB` or `HPUB` with its payload.
    Pub(Pub<'a>),
    /// An `HPUB` control line, announced before its arguments are read: the session
    /// refuses it there when headers were not negotiated (Go: `processHeaderPub`'s first
    /// check, ahead of the argument and payload-size checks).
    HeaderPub,
    /// `SUB <subject> [queue] <sid>`.
    Sub {
        /// Subject (may hold wildcards).
        subject: &'a [u8],
        /// Queue group.
        queue: Option<&'a [u8]>,
        /// Subscription id.
        sid: &'a [u8],
    },
    /// `UNSUB <sid> [max]`.
    Unsub {
        /// Subscription id.
        sid: &'a [u8],
        /// Deliveries after which the subscription goes away; `None` = now.
        max: Option<u64>,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
    /// `INFO <json>` (ignored from clients).
    Info(&'a [u8]),
    /// `+OK`.
    Ok,
    /// `-ERR <text>`.
    Err(&'a [u8]),
    /// A leafnode op ([`Dialect::Leaf`] only).
    Leaf(LeafOp<'a>),
}

/// A published message: `PUB subject [reply] size` or `HPUB subject [reply] hdr size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pub<'a> {
    /// Subject.
    pub subject: &'a [u8],
    /// Reply subject.
    pub reply: Option<&'a [u8]>,
    /// Header length (HPUB): the first `header_len` payload bytes are headers.
    pub header_len: Option<usize>,
    /// Headers and body, without the trailing `\r\n`.
    pub payload: &'a [u8],
}

/// Why parsing stopped: a protocol error, or the handler's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError<E> {
    /// The client broke the protocol; the connection must close.
    Protocol(NatsError),
    /// The handler refused an op.
    Handler(E),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a control line.
    Line,
    /// Collecting `need` more payload bytes (including the final `\r\n`).
    Payload { need: usize },
}

#[derive(Debug, Clone, Default)]
struct PubArgs {
    subject: Range<usize>,
    reply: Option<Range<usize>>,
    /// `LMSG`/`HMSG` from a leaf: the queue names (space separated) it carries.
    queues: Option<Range<usize>>,
    header_len: Option<usize>,
    size: usize,
}

/// The parser for one connection.
#[derive(Debug)]
pub struct Parser {
    state: State,
    /// Partial control line; during a payload, the PUB line its ranges point into.
    line: Vec<u8>,
    /// Partial payload.
    payload: Vec<u8>,
    args: PubArgs,
    max_payload: i64,
    max_control_line: usize,
    dialect: Dialect,
}

impl Parser {
    /// A client-protocol parser with these limits; `max_payload` < 0 means no limit (Go:
    /// `jwt.NoLimit`).
    pub fn new(max_payload: i64, max_control_line: usize) -> Self {
        Parser {
            state: State::Line,
            line: Vec::new(),
            payload: Vec::new(),
            args: PubArgs::default(),
            max_payload,
            max_control_line,
            dialect: Dialect::Client,
        }
    }

    /// A leafnode-protocol parser: the server's `max_control_line` is multiplied by
    /// [`LEAF_CONTROL_LINE_FACTOR`] as Go does for leaf connections.
    pub fn leaf(max_payload: i64, max_control_line: usize) -> Self {
        Parser {
            dialect: Dialect::Leaf,
            ..Parser::new(
                max_payload,
                max_control_line.saturating_mul(LEAF_CONTROL_LINE_FACTOR),
            )
        }
    }

    /// Changes the payload limit (known for sure only after CONNECT binds an account).
    pub fn set_max_payload(&mut self, max_payload: i64) {
        self.max_payload = max_payload;
    }

    /// Whether the next byte starts a new operation (Go: `OP_START`).
    pub fn at_op_start(&self) -> bool {
        self.state == State::Line && self.line.is_empty()
    }

    /// Bytes held between calls (for memory accounting).
    pub fn buffered(&self) -> usize {
        self.line.capacity() + self.payload.capacity()
    }

    /// Parses `input`, calling `handler` for each complete op, in order.
    pub fn parse<E>(
        &mut self,
        input: &[u8],
        handler: &mut impl FnMut(Op<'_>) -> Result<(), E>,
    ) -> Result<(), ParseError<E>> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Line => {
                    let rest = &input[i..];
                    let Some(n) = rest.iter().position(|&b| b == b'\n') else {
                        // Take the unterminated line in pieces no longer than a control
                        // line, judging each: memory stays bounded however long the read.
                        let limit = self.max_control_line + OP_NAME_ALLOWANCE + 2;
                        let mut rest = rest;
                        while !rest.is_empty() {
                            let room = limit.saturating_sub(self.line.len()).max(1);
                            let (piece, more) = rest.split_at(room.min(rest.len()));
                            rest = more;
                            self.line.extend_from_slice(piece);
                            if let Some(op) = argless_op(&self.line) {
                                // Go: OP_PING/OP_PONG/OP_PLUS_OK drop every byte until `\n`;
                                // keep only the op name, so garbage costs no memory.
                                self.line.truncate(op.len());
                                continue;
                            }
                            self.check_partial_line(input, i)?;
                            self.squeeze_blanks_after_op();
                        }
                        // Memory is released once a large line is done (below).
                        return Ok(());
                    };
                    let after = i + n + 1;
                    if self.line.is_empty() {
                        i = self.line_done(&rest[..n], input, after, i, handler)?;
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(&rest[..n]);
                        let result = self.line_done(&line, input, after, i, handler);
                        if self.state == State::Line {
                            line.clear();
                            if line.capacity() <= self.max_control_line + OP_NAME_ALLOWANCE {
                                self.line = line;
                            }
                        } else {
                            // line_done kept a copy of the PUB line in self.line.
                        }
                        i = result?;
                    }
                }
                State::Payload { need } => {
                    let take = need.min(input.len() - i);
                    self.payload.extend_from_slice(&input[i..i + take]);
                    i += take;
                    if take < need {
                        self.state = State::Payload { need: need - take };
                        return Ok(());
                    }
                    let payload = std::mem::take(&mut self.payload);
                    let result = self.emit_pub(&payload, input, i, handler);
                    self.state = State::Line;
                    self.line.clear();
                    self.payload = payload;
                    self.payload.clear();
                    if self.payload.capacity() > 64 * 1024 {
                        self.payload = Vec::new();
                    }
                    result?;
                }
            }
        }
        Ok(())
    }

    /// A line still without its `\n`: fail early on an unknown op or an oversize line.
    fn check_partial_line<E>(&self, input: &[u8], at: usize) -> Result<(), ParseError<E>> {
        // Judge the op exactly as `line_done` will: separated by a space or tab, with a
        // `\r` that may end the line not part of it (found by the nats_parser fuzz target).
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let op_end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(line.len());
        let op = &line[..op_end];
        let known_prefix = self
            .dialect
            .ops()
            .iter()
            .any(|name| name.len() >= op.len() && name[..op.len()].eq_ignore_ascii_case(op));
        if !known_prefix || (op_end < line.len() && lookup(self.dialect, op).is_none()) {
            return Err(unknown(self.dialect, 0, input, at));
        }
        // Go counts only the arguments (its argBuf starts after the blanks that follow the
        // op name), as `line_done` does.
        let args_start = line[op_end..]
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .map_or(line.len(), |p| op_end + p);
        if line.len() - args_start > self.max_control_line {
            return Err(ParseError::Protocol(NatsError::MaxControlLine));
        }
        Ok(())
    }

    /// Blanks between the op name and its arguments are dropped by Go (OP_PUB_SPC and
    /// friends); keep one, so a stream of blanks costs no memory.
    fn squeeze_blanks_after_op(&mut self) {
        let op_end = self
            .line
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(self.line.len());
        let blanks = self.line[op_end..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if blanks > 1 {
            self.line.drain(op_end + 1..op_end + blanks);
        }
    }

    /// A complete control line (without `\n`). Returns where parsing resumes in `input`.
    fn line_done<E>(
        &mut self,
        raw: &[u8],
        input: &[u8],
        after: usize,
        start: usize,
        handler: &mut impl FnMut(Op<'_>) -> Result<(), E>,
    ) -> Result<usize, ParseError<E>> {
        let h = |r: Result<(), E>| r.map_err(ParseError::Handler);
        if let Some(op) = argless_op(raw) {
            // Go: whatever follows PING, PONG or +OK up to `\n` is ignored.
            h(handler(match op {
                b"PING" => Op::Ping,
                b"PONG" => Op::Pong,
                _ => Op::Ok,
            }))?;
            return Ok(after);
        }
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let op_end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(line.len());
        let dialect = self.dialect;
        let Some(op) = lookup(dialect, &line[..op_end]) else {
            return Err(unknown(dialect, 1, input, start));
        };
        if op_end == line.len() {
            // Go: an op that takes arguments must be followed by a blank (OP_SUB,
            // OP_UNSUB, OP_PUB, ... `default: goto parseErr`), so `UNSUB\r\n` is an unknown
            // operation, where `UNSUB \r\n` is an argument error.
            return Err(unknown(dialect, 1, input, start));
        }
        let args_start = line[op_end..]
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .map_or(line.len(), |p| op_end + p);
        let arg = &line[args_start..];
        if arg.len() > self.max_control_line {
            return Err(ParseError::Protocol(NatsError::MaxControlLine));
        }
        match op {
            b"CONNECT" => h(handler(Op::Connect(arg)))?,
            b"INFO" => h(handler(Op::Info(arg)))?,
            b"-ERR" => h(handler(Op::Err(arg)))?,
            b"LS+" | b"SUB" if dialect == Dialect::Leaf => {
                h(handler(Op::Leaf(leaf::parse_sub(arg)?)))?;
            }
            b"LS-" | b"UNSUB" if dialect == Dialect::Leaf => {
                // Go: the argument is the interest key as it came (processLeafUnsub).
                h(handler(Op::Leaf(LeafOp::Unsub { key: arg })))?;
            }
            b"SUB" => {
                let a = split_args(arg);
                let (subject, queue, sid) = match a.as_slice() {
                    [s, sid] => (*s, None, *sid),
                    [s, q, sid] => (*s, Some(*q), *sid),
                    _ => return Err(args_error("processSub Parse Error", arg)),
                };
                h(handler(Op::Sub {
                    subject,
                    queue,
                    sid,
                }))?;
            }
            b"UNSUB" => {
                let a = split_args(arg);
                let (sid, max) = match a.as_slice() {
                    [sid] => (*sid, None),
                    [sid, max] => (*sid, parse_size(max).filter(|&m| m > 0)),
                    _ => return Err(args_error("processUnsub Parse Error", arg)),
                };
                h(handler(Op::Unsub {
                    sid,
                    max: max.map(|m| m as u64),
                }))?;
            }
            _ => {
                // PUB / HPUB, or a leaf's LMSG / HMSG (MSG).
                let headers = op == b"HPUB" || op == b"HMSG";
                let args = if dialect == Dialect::Leaf {
                    leaf::parse_msg_args(headers, arg)?
                } else {
                    if headers {
                        h(handler(Op::HeaderPub))?;
                    }
                    parse_pub_args(headers, arg)?
                };
                if self.max_payload >= 0 && args.size as i64 > self.max_payload {
                    return Err(ParseError::Protocol(NatsError::MaxPayload {
                        size: args.size as i64,
                        max: self.max_payload,
                    }));
                }
                let offset = args_start;
                let need = args.size + 2;
                if input.len() - after >= need {
                    let payload = &input[after..after + need];
                    self.args = shift(&args, offset);
                    let payload = check_crlf(dialect, payload, input, after + args.size)?;
                    h(handler(message_op(dialect, line, &self.args, payload)))?;
                    return Ok(after + need);
                }
                // Split payload: keep the line for the ranges, collect the payload.
                let copy = line.to_vec();
                self.line = copy;
                self.args = shift(&args, offset);
                self.payload.clear();
                self.state = State::Payload { need };
            }
        }
        Ok(after)
    }

    fn emit_pub<E>(
        &self,
        payload: &[u8],
        input: &[u8],
        at: usize,
        handler: &mut impl FnMut(Op<'_>) -> Result<(), E>,
    ) -> Result<(), ParseError<E>> {
        let body = check_crlf(self.dialect, payload, input, at.saturating_sub(2))?;
        handler(message_op(self.dialect, &self.line, &self.args, body)).map_err(ParseError::Handler)
    }
}

/// The op of a complete message whose arguments `a` point into `line`.
#[inline]
fn message_op<'a>(dialect: Dialect, line: &'a [u8], a: &PubArgs, payload: &'a [u8]) -> Op<'a> {
    let subject = line.get(a.subject.clone()).unwrap_or_default();
    let reply = a.reply.clone().map(|r| line.get(r).unwrap_or_default());
    match dialect {
        Dialect::Client => Op::Pub(Pub {
            subject,
            reply,
            header_len: a.header_len,
            payload,
        }),
        Dialect::Leaf => Op::Leaf(LeafOp::Msg(LeafMsg {
            subject,
            reply,
            queues: a.queues.clone().map(|q| line.get(q).unwrap_or_default()),
            header_len: a.header_len,
            payload,
        })),
    }
}

#[inline]
fn lookup(dialect: Dialect, op: &[u8]) -> Option<&'static [u8]> {
    dialect
        .ops()
        .iter()
        .copied()
        .find(|name| name.eq_ignore_ascii_case(op))
}

fn unknown<E>(dialect: Dialect, state: u8, input: &[u8], at: usize) -> ParseError<E> {
    let end = input.len().min(at + PROTO_SNIPPET_SIZE);
    ParseError::Protocol(NatsError::UnknownOperation {
        kind: dialect.kind(),
        state,
        index: at,
        snippet: quote_bytes(input.get(at..end).unwrap_or_default()),
    })
}

fn args_error<E>(what: &str, arg: &[u8]) -> ParseError<E> {
    ParseError::Protocol(NatsError::Args(format!("{what}: {}", quote_bytes(arg))))
}

/// The payload must end in `\r\n` (Go: `MSG_END_R`, `MSG_END_N`).
#[inline]
fn check_crlf<'a, E>(
    dialect: Dialect,
    payload: &'a [u8],
    input: &[u8],
    at: usize,
) -> Result<&'a [u8], ParseError<E>> {
    match payload.strip_suffix(b"\r\n") {
        Some(body) => Ok(body),
        None => Err(unknown(dialect, 3, input, at.min(input.len()))),
    }
}

#[inline]
fn shift(args: &PubArgs, offset: usize) -> PubArgs {
    let s = |r: &Range<usize>| r.start + offset..r.end + offset;
    PubArgs {
        subject: s(&args.subject),
        reply: args.reply.as_ref().map(s),
        queues: args.queues.as_ref().map(s),
        header_len: args.header_len,
        size: args.size,
    }
}

/// Go: `splitArg` — fields separated by spaces, tabs, `\r` or `\n`. Every op takes at
/// most four fields; a fifth is kept only so that "too many" is seen, so this never
/// allocates.
#[inline]
fn split_args(arg: &[u8]) -> Fields<'_> {
    let mut f = Fields {
        parts: [&[]; MAX_FIELDS],
        len: 0,
    };
    for part in arg
        .split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|a| !a.is_empty())
    {
        if f.len == MAX_FIELDS {
            break;
        }
        f.parts[f.len] = part;
        f.len += 1;
    }
    f
}

/// Four fields (HPUB's) plus one to tell "too many".
const MAX_FIELDS: usize = 5;

/// The fields of a control line's arguments (the first [`MAX_FIELDS`]).
struct Fields<'a> {
    parts: [&'a [u8]; MAX_FIELDS],
    len: usize,
}

impl<'a> Fields<'a> {
    #[inline]
    fn as_slice(&self) -> &[&'a [u8]] {
        &self.parts[..self.len]
    }
}

/// Go: `parseSize` — decimal digits only, at most 9 of them.
#[inline]
pub(crate) fn parse_size(d: &[u8]) -> Option<usize> {
    if d.is_empty() || d.len() > MAX_SIZE_DIGITS || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        d.iter()
            .fold(0usize, |n, &b| n * 10 + usize::from(b - b'0')),
    )
}

#[inline]
fn range_of(arg: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - arg.as_ptr() as usize;
    start..start + part.len()
}

/// Go: `processPub` / `processHeaderPub` argument handling (ranges relative to `arg`).
fn parse_pub_args<E>(headers: bool, arg: &[u8]) -> Result<PubArgs, ParseError<E>> {
    let a = split_args(arg);
    let r = |p: &[u8]| range_of(arg, p);
    if !headers {
        let (subject, reply, size) = match a.as_slice() {
            [s, size] => (*s, None, *size),
            [s, reply, size] => (*s, Some(*reply), *size),
            _ => return Err(args_error("processPub Parse Error", arg)),
        };
        let Some(size) = parse_size(size) else {
            return Err(args_error("processPub Bad or Missing Size", arg));
        };
        return Ok(PubArgs {
            subject: r(subject),
            reply: reply.map(r),
            queues: None,
            header_len: None,
            size,
        });
    }
    let (subject, reply, hdr, size) = match a.as_slice() {
        [s, hdr, size] => (*s, None, *hdr, *size),
        [s, reply, hdr, size] => (*s, Some(*reply), *hdr, *size),
        _ => return Err(args_error("processHeaderPub Parse Error", arg)),
    };
    let Some(hdr) = parse_size(hdr) else {
        return Err(args_error(
            "processHeaderPub Bad or Missing Header Size",
            arg,
        ));
    };
    let Some(size) = parse_size(size) else {
        return Err(args_error(
            "processHeaderPub Bad or Missing Total Size",
            arg,
        ));
    };
    if hdr > size {
        return Err(args_error(
            "processHeaderPub Header Size larger then TotalSize",
            arg,
        ));
    }
    Ok(PubArgs {
        subject: r(subject),
        reply: reply.map(r),
        queues: None,
        header_len: Some(hdr),
        size,
    })
}

/// The op of a line that starts with `PING`, `PONG` or `+OK` (any case): Go's parser
/// takes the op from those bytes alone and ignores everything up to `\n`.
#[inline]
fn argless_op(line: &[u8]) -> Option<&'static [u8]> {
    [&b"PING"[..], &b"PONG"[..], &b"+OK"[..]]
        .into_iter()
        .find(|op| line.len() >= op.len() && line[..op.len()].eq_ignore_ascii_case(op))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
