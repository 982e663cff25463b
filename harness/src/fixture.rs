//! The fixture schema: one YAML file per ported Go test; strict (unknown fields and
//! reasonless skips are load errors).

use std::path::Path;

use nats_ws::frame::OpCode;
use serde::Deserialize;

use crate::bytes::ByteSpec;

/// One fixture file: a Go test and its cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The Go test's name, exactly (typos included); also the file name.
    pub go_test: String,
    /// The Go file it comes from, e.g. `server/websocket_test.go`.
    pub go_source: String,
    /// Which part of the stack the fixture drives.
    pub layer: Layer,
    /// What the Go test protects, in a sentence or two.
    pub description: String,
    /// Why the fixture is not run. A skip needs a reason.
    #[serde(default)]
    pub skip: Option<String>,
    /// Why this fixture needs the in-process server (it looks at server internals);
    /// black-box runs against other servers skip it with this reason.
    #[serde(default)]
    pub in_process_only: Option<String>,
    /// Connection set-up shared by every case (a case may override it).
    #[serde(default)]
    pub setup: Setup,
    /// Steps when the Go test has no table.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The Go table rows or `t.Run` subtests.
    #[serde(default)]
    pub cases: Vec<Case>,
}

/// The layer a fixture drives. `frame` and `codec` run the core in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layer {
    /// Functions on frames: headers, masking, close payloads.
    Frame,
    /// One connection's frame codec: decoder, inflate, replies, outbound framing.
    Codec,
    /// The HTTP upgrade: request parsing, validation, origin policy, the 101 or error.
    Handshake,
    /// The configuration file: parsing and validation.
    Options,
    /// A running server over loopback sockets, black-box: any server can be the target.
    Server,
}

impl Layer {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Frame => "frame",
            Layer::Codec => "codec",
            Layer::Handshake => "handshake",
            Layer::Options => "options",
            Layer::Server => "server",
        }
    }
}

/// One named case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The Go subtest or table row name.
    pub name: String,
    /// Why this case is not run.
    #[serde(default)]
    pub skip: Option<String>,
    /// Overrides of the fixture's set-up.
    #[serde(default)]
    pub setup: Option<Setup>,
    /// What to do and what to expect.
    pub steps: Vec<Step>,
}

/// The connection the codec steps act on.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Whether client frames must be masked (default: required).
    #[serde(default)]
    pub masking: Option<MaskingSpec>,
    /// permessage-deflate negotiated (default: off).
    #[serde(default)]
    pub compression: Option<bool>,
    /// How outbound data is framed (default: whole).
    #[serde(default)]
    pub framing: Option<FramingSpec>,
    /// Mask outbound frames with these keys, in turn (the leaf-as-client case).
    #[serde(default)]
    pub write_mask_keys: Option<Vec<[u8; 4]>>,
    /// The NATS `max_payload` (default 1 MiB).
    #[serde(default)]
    pub max_payload: Option<usize>,
    /// Server configuration in the NATS format (handshake layer: the `websocket {}`
    /// block configures the upgrade; default `websocket { port: -1, no_tls: true }`).
    #[serde(default)]
    pub config: Option<String>,
    /// MQTT is enabled on the server (the `/mqtt` path is accepted).
    #[serde(default)]
    pub mqtt_enabled: Option<bool>,
    /// Named NKeys and JWTs for `{pub:..}`, `{jwt:..}`, `{nonce_sig:..}` substitutions.
    #[serde(default)]
    pub auth: Option<crate::auth::AuthSetup>,
    /// Something else already listens on `{ws_port}` when the server starts.
    #[serde(default)]
    pub ws_port_taken: Option<bool>,
}

/// Inbound masking policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskingSpec {
    /// RFC 6455: client frames are masked.
    Required,
    /// `Nats-No-Masking: true` was negotiated.
    Exempt,
}

/// Outbound framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FramingSpec {
    /// One frame for everything pending.
    Whole,
    /// 4096-byte frames (`User-Agent: Mozilla/...`).
    Browser,
    /// A browser that must not get fragmented compressed messages.
    Safari,
}

/// An opcode by name or by number (reserved numbers allowed, to send them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OpcodeSpec {
    /// `continuation`, `text`, `binary`, `close`, `ping`, `pong`.
    Name(OpcodeName),
    /// 0-15.
    Raw(u8),
}

/// Opcode names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum OpcodeName {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpcodeName {
    /// The opcode this name stands for.
    pub fn opcode(self) -> OpCode {
        match self {
            OpcodeName::Continuation => OpCode::Continuation,
            OpcodeName::Text => OpCode::Text,
            OpcodeName::Binary => OpCode::Binary,
            OpcodeName::Close => OpCode::Close,
            OpcodeName::Ping => OpCode::Ping,
            OpcodeName::Pong => OpCode::Pong,
        }
    }
}

/// A frame to send (what the Go tests build with `testWSCreateClientMsg`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameSpec {
    /// The opcode.
    pub opcode: OpcodeSpec,
    /// FIN (default true).
    #[serde(default = "yes")]
    pub fin: bool,
    /// RSV1 (default false; set automatically with `compress`).
    #[serde(default)]
    pub rsv1: bool,
    /// RSV2.
    #[serde(default)]
    pub rsv2: bool,
    /// RSV3.
    #[serde(default)]
    pub rsv3: bool,
    /// The masking key, or `none` (default `[1, 2, 3, 4]`, as in the Go tests).
    #[serde(default)]
    pub mask: Option<MaskSpec>,
    /// The payload, before masking.
    #[serde(default)]
    pub payload: ByteSpec,
    /// Deflate the payload and set RSV1.
    #[serde(default)]
    pub compress: bool,
    /// How the length is written (default minimal), or a raw announced length.
    #[serde(default)]
    pub length: Option<LengthSpec>,
    /// For close frames: a status and reason (in place of `payload`).
    #[serde(default)]
    pub close: Option<CloseSpec>,
    /// Send only the first N bytes of the encoded frame.
    #[serde(default)]
    pub truncate: Option<usize>,
}

fn yes() -> bool {
    true
}

/// A masking key or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum MaskSpec {
    /// The four key bytes.
    Key([u8; 4]),
    /// `none`: the MASK bit is clear.
    None(NoneWord),
}

/// The word `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoneWord {
    /// No mask.
    None,
}

/// The length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LengthSpec {
    /// `minimal`, `ext16` or `ext64`.
    Form(LengthForm),
    /// Announce this length in the 64-bit form, whatever the payload.
    Raw {
        /// The announced length.
        raw: u64,
    },
}

/// Length forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum LengthForm {
    Minimal,
    Ext16,
    Ext64,
}

/// A close status and reason.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CloseSpec {
    /// The status.
    pub code: u16,
    /// The reason (default empty).
    #[serde(default)]
    pub reason: ByteSpec,
}

/// How staged bytes are read.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReadSpec {
    /// Sizes of successive reads; what is left goes in a last read (default: one read).
    #[serde(default)]
    pub chunks: Vec<usize>,
    /// Read one byte at a time.
    #[serde(default)]
    pub bytewise: bool,
    /// After the bytes, the socket fails with this error (the Go tests' `testReader`).
    #[serde(default)]
    pub then_error: Option<String>,
}

/// A closed state by Go name (`AuthenticationTimeout`) or raw number (`254`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum StateSpec {
    /// The Go constant name.
    Name(String),
    /// The numeric value.
    Raw(u8),
}

/// An expected outbound frame; absent fields are not checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameExpect {
    /// Opcode name.
    #[serde(default)]
    pub opcode: Option<OpcodeName>,
    /// FIN.
    #[serde(default)]
    pub fin: Option<bool>,
    /// RSV1.
    #[serde(default)]
    pub rsv1: Option<bool>,
    /// Whether the frame is masked.
    #[serde(default)]
    pub masked: Option<bool>,
    /// Exact (unmasked) payload.
    #[serde(default)]
    pub payload: Option<ByteSpec>,
    /// Payload length.
    #[serde(default)]
    pub payload_len: Option<usize>,
    /// Header size in bytes.
    #[serde(default)]
    pub header_len: Option<usize>,
    /// For close frames: status and reason.
    #[serde(default)]
    pub close: Option<CloseSpec>,
}

/// An expected outbound message (frames reassembled, inflated when RSV1).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MessageExpect {
    /// The message's data after reassembly and inflation.
    pub data: ByteSpec,
    /// Whether the message is compressed.
    #[serde(default)]
    pub compressed: Option<bool>,
    /// Every frame's payload is at most this.
    #[serde(default)]
    pub max_frame_payload: Option<usize>,
    /// The message uses at least this many frames.
    #[serde(default)]
    pub min_frames: Option<usize>,
    /// The message uses exactly this many frames.
    #[serde(default)]
    pub frames: Option<usize>,
}

/// One step. Sends stage bytes; the first expectation after them reads them in one go
/// unless a `read` step says how.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Step {
    // --- input ---
    /// Stage a frame.
    SendFrame(FrameSpec),
    /// Stage raw bytes.
    SendRaw(ByteSpec),
    /// Read the staged bytes as the socket would deliver them.
    Read(ReadSpec),

    // --- what the read produced ---
    /// The payload slices handed to the NATS parser, exactly (Go: `wsRead`'s `[][]byte`).
    ExpectPayloads(Vec<ByteSpec>),
    /// The payload bytes handed to the parser, concatenated.
    ExpectData(ByteSpec),
    /// The read ended with this error text, exactly.
    ExpectError(String),
    /// The read ended with no error (the connection stays open).
    ExpectOpen,
    /// The read ended because the peer sent a close frame (Go: `io.EOF`).
    ExpectPeerClosed,
    /// Header bytes held by the decoder, waiting for the rest of the header.
    ExpectHeaderPending(usize),

    // --- output ---
    /// Pending NATS bytes to send, as buffers (concatenated).
    Queue(Vec<ByteSpec>),
    /// Queue the close frame for a closed state, as Go's `wsEnqueueCloseMessage` does.
    EnqueueClose(StateSpec),
    /// Close the connection for a state: a close frame only if that state sends one.
    CloseConnection(StateSpec),
    /// Collapse what is queued and check each frame, in order (and nothing else).
    ExpectFrames(Vec<FrameExpect>),
    /// Collapse and check the messages, in order.
    ExpectMessages(Vec<MessageExpect>),
    /// Collapse and check the vectored-write shape.
    ExpectWrite(WriteExpect),
    /// Collapse 1 + `runs` times with the same input; the buffers must be reused (no
    /// allocation per flush after the first).
    ExpectBuffersReused(ReuseSpec),
    /// Collapse; the frames must not share memory: overwriting one leaves the others.
    ExpectBuffersIndependent(ByteSpec),

    // --- the HTTP upgrade ---
    /// Send an upgrade request: Go's valid request (`testWSCreateValidReq`) with changes.
    SendHttp(HttpSpec),
    /// The response written to the client.
    ExpectHttp(HttpExpect),
    /// The upgrade succeeded with these properties.
    ExpectUpgrade(UpgradeExpect),
    /// The handshake had to complete within this many milliseconds (`handshake_timeout`);
    /// `null`: no deadline.
    ExpectDeadlineMs(Option<u64>),
    /// The upgrade failed with this reason text, exactly (Go's error text).
    ExpectHandshakeError(String),
    /// Whether the upgrade closed the connection (a refusal or a failed write does; an
    /// upgrade hands it on open).
    ExpectConnectionClosed(bool),
    /// A line containing this text was logged.
    ExpectLog(String),
    /// No logged line contains this text.
    ExpectNoLog(String),

    // --- configuration ---
    /// Load a configuration (NATS format), as Go's `ProcessConfigFile`.
    Config(String),
    /// Validate the loaded configuration as the server does before starting (Go's
    /// `validateOptions`, which `NewServer` runs).
    Validate,
    /// Loading or validation failed; the message contains every listed text.
    ExpectConfigError(Vec<String>),
    /// Loading and validation succeeded.
    ExpectConfigOk,
    /// A warning containing this text was reported.
    ExpectConfigWarning(String),
    /// Option values after loading, by dotted name (`websocket.port: 1234`).
    ExpectOptions(Vec<[String; 2]>),

    // --- a running server (layer: server) ---
    /// Open a WebSocket connection (TCP, optional TLS, the upgrade; by default also reads
    /// the INFO and, with `connect`, completes CONNECT/PING/PONG as Go's testWSCreateClient).
    WsConnect(WsConnectSpec),
    /// Send on a WebSocket connection.
    WsSend(WsSendSpec),
    /// Expect data on a WebSocket connection (server data frames as one byte stream).
    WsExpect(StreamExpect),
    /// Expect the server's close frame, then the end of the TCP connection.
    WsExpectClose(CloseExpect),
    /// Check the frames received so far on a WebSocket connection.
    WsExpectFrames(FramesExpect),
    /// Check the HTTP response of a WebSocket connection's upgrade.
    WsExpectHttp(WsHttpExpect),
    /// A pong with this payload arrives.
    WsExpectPong(PongExpect),
    /// Exactly this many pongs arrived so far (after waiting `within_ms`, default 300).
    WsExpectPongCount(CountExpect),
    /// Exactly this many close frames arrived so far (after waiting `within_ms`).
    WsExpectCloseCount(CountExpect),
    /// The connection ends: a close frame or the end of TCP, within `within_ms`.
    WsExpectEnd(CountExpect),
    /// Send `data` as one message in masked fragments of `fragment` bytes.
    WsSendFragmented(FragmentedSend),
    /// `count` sequential PUB→MSG round trips of `size` bytes on subject `t` (the
    /// connection must be subscribed to `t` with echo on).
    WsRoundTrips(RoundTrips),
    /// Send messages compressed with one shared deflate context (context takeover,
    /// although the server negotiated client_no_context_takeover).
    WsSendContextTakeover(ContextTakeover),
    /// The connection failed before any upgrade response: TLS refused it, or the server
    /// closed it; the error text contains one of these (empty: any failure).
    WsExpectRefused(RefusedExpect),
    /// Replace the server's configuration and reload it (SIGHUP for a server process).
    Reload(String),
    /// The last reload failed with a message containing this (the reload's error, or a
    /// server log line for a server process, which reports it only there).
    ExpectReloadError(String),
    /// Starting the server fails with a message (error or log) containing this.
    ExpectStartFailure(String),
    /// The server closes every connection for this reason (in-process target only: Go's
    /// tests call closeConnection directly).
    ServerCloseConnections(StateSpec),
    /// Break the server's WebSocket listening socket from outside (in-process target
    /// only: `shutdown(2)` on it, after which `accept` fails with EINVAL), as Go's test
    /// closes its listener.
    BreakWsListener,
    /// The INFO a WebSocket connection received contains each of these texts.
    WsExpectInfo(InfoExpect),
    /// Open a plain NATS connection: INFO, CONNECT, PING, PONG.
    NatsConnect(NatsConnectSpec),
    /// Send raw protocol on a NATS connection.
    NatsSend(NatsSendSpec),
    /// Expect data on a NATS connection.
    NatsExpect(StreamExpect),
    /// Wait.
    SleepMs(u64),
    /// A connection as the server reports it (in-process target only).
    ExpectConnection(ConnExpect),

    // --- functions on frames ---
    /// Go `wsIsControlFrame(opcode)`.
    IsControl {
        /// Raw opcode.
        opcode: u8,
        /// The answer.
        expect: bool,
    },
    /// Go `wsCreateFrameHeader(false, compressed, opcode, len)`.
    EncodeHeader {
        /// Opcode name.
        opcode: OpcodeName,
        /// RSV1.
        #[serde(default)]
        compressed: bool,
        /// Payload length.
        len: u64,
        /// Expected header bytes.
        expect_hex: String,
    },
    /// Go `wsCreateCloseMessage(status, body)`.
    CloseMessage {
        /// Status.
        code: u16,
        /// Body.
        reason: ByteSpec,
        /// Expected payload length.
        expect_len: usize,
        /// Expected reason (omit to check it equals the input).
        #[serde(default)]
        expect_reason: Option<ByteSpec>,
    },
    /// Mask `payload` with `key` then unmask it in the given pieces; must round-trip.
    Unmask {
        /// Key.
        key: [u8; 4],
        /// Clear text.
        payload: ByteSpec,
        /// Piece sizes for the unmask (rest in a last piece).
        #[serde(default)]
        chunks: Vec<usize>,
    },
}

/// An upgrade request. Starts from `GET / HTTP/1.1` with `Host: localhost`,
/// `Upgrade: websocket`, `Connection: Upgrade`, `Sec-Websocket-Key: dGhlIHNhbXBsZSBub25jZQ==`,
/// `Sec-Websocket-Version: 13`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// Method (default `GET`).
    #[serde(default)]
    pub method: Option<String>,
    /// Request target (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Version (default `HTTP/1.1`).
    #[serde(default)]
    pub version: Option<String>,
    /// Replace a default header (matched case-insensitively) or add it: `[name, value]`.
    #[serde(default)]
    pub set: Vec<[String; 2]>,
    /// Add a header even if one with the name exists.
    #[serde(default)]
    pub add: Vec<[String; 2]>,
    /// Remove default headers by name.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Bytes sent right after the request head (e.g. a frame sent too early).
    #[serde(default)]
    pub extra: Option<ByteSpec>,
    /// Send these bytes instead of building a request.
    #[serde(default)]
    pub raw: Option<ByteSpec>,
    /// Feed the request one byte at a time.
    #[serde(default)]
    pub bytewise: bool,
    /// Every write on the connection fails with this error (Go's `testWSFakeNetConn`);
    /// handshake layer only.
    #[serde(default)]
    pub write_error: Option<String>,
}

/// An expected HTTP response.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Status code.
    #[serde(default)]
    pub status: Option<u16>,
    /// Headers present with these values (names case-insensitive).
    #[serde(default)]
    pub headers: Vec<[String; 2]>,
    /// Headers absent.
    #[serde(default)]
    pub absent: Vec<String>,
    /// The exact header names, in order (nothing else).
    #[serde(default)]
    pub only_headers: Option<Vec<String>>,
    /// The body, exactly.
    #[serde(default)]
    pub body: Option<ByteSpec>,
    /// Texts the raw response contains.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Texts the raw response does not contain.
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// Nothing at all is written (the connection is just closed).
    #[serde(default)]
    pub empty: bool,
}

/// Properties of a successful upgrade; absent fields are not checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpgradeExpect {
    /// `client`, `leaf` or `mqtt`.
    #[serde(default)]
    pub kind: Option<String>,
    /// `required` or `exempt`.
    #[serde(default)]
    pub masking: Option<MaskingSpec>,
    /// permessage-deflate negotiated.
    #[serde(default)]
    pub compression: Option<bool>,
    /// Outbound framing.
    #[serde(default)]
    pub framing: Option<FramingSpec>,
    /// The client IP from X-Forwarded-For (`none` when not taken).
    #[serde(default)]
    pub client_ip: Option<String>,
    /// Cookie credentials: `[jwt|user|pass|token, value]`.
    #[serde(default)]
    pub cookies: Vec<[String; 2]>,
}

/// Opening a WebSocket connection to the server under test.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WsConnectSpec {
    /// The connection's name in later steps.
    #[serde(rename = "as")]
    pub name: String,
    /// Changes to the upgrade request.
    #[serde(default)]
    pub http: HttpSpec,
    /// Offer permessage-deflate.
    #[serde(default)]
    pub compress: bool,
    /// Send `User-Agent: Mozilla/5.0` (browser framing).
    #[serde(default)]
    pub browser: bool,
    /// Connect with TLS.
    #[serde(default)]
    pub tls: bool,
    /// Present the test client certificate.
    #[serde(default)]
    pub client_cert: bool,
    /// Expect a 101 and the INFO frame (default true); false: just read the response.
    #[serde(default = "yes")]
    pub upgrade: bool,
    /// CONNECT JSON to send with a PING; then wait for PONG (and the async INFO for
    /// protocol 1).
    #[serde(default)]
    pub connect: Option<String>,
    /// Wait this long after the TCP connect before the TLS handshake and the request.
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

/// Sending on a WebSocket connection: data in a masked binary frame, a frame, or raw bytes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WsSendSpec {
    /// Connection name.
    pub conn: String,
    /// NATS protocol bytes, in one masked binary frame.
    #[serde(default)]
    pub data: Option<ByteSpec>,
    /// Deflate `data` (when negotiated).
    #[serde(default)]
    pub compress: bool,
    /// A frame built by the spec.
    #[serde(default)]
    pub frame: Option<FrameSpec>,
    /// More frames, after `frame`.
    #[serde(default)]
    pub frames: Vec<FrameSpec>,
    /// Raw bytes, last.
    #[serde(default)]
    pub raw: Option<ByteSpec>,
    /// Everything above goes out in one buffer; write it in pieces of this many bytes
    /// (each flushed separately) instead of one write.
    #[serde(default)]
    pub chop: Option<usize>,
}

/// Expected bytes on a connection's data stream; each check consumes what it matched.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StreamExpect {
    /// Connection name.
    pub conn: String,
    /// The next bytes are exactly these.
    #[serde(default)]
    pub data: Option<ByteSpec>,
    /// The stream (from the current position) contains this; consumed up to its end.
    #[serde(default)]
    pub contains: Option<String>,
    /// This text appears this many times (counting from the current position).
    #[serde(default)]
    pub count: Option<(String, usize)>,
    /// Nothing arrives (for `within_ms`).
    #[serde(default)]
    pub nothing: bool,
    /// How long to wait (default 2000).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// Expected close frame.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CloseExpect {
    /// Connection name.
    pub conn: String,
    /// Close status (`null`: an empty close frame).
    #[serde(default)]
    pub code: Option<u16>,
    /// Close reason.
    #[serde(default)]
    pub reason: Option<ByteSpec>,
    /// How long to wait (default 2000).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// Checks on all frames received so far.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FramesExpect {
    /// Connection name.
    pub conn: String,
    /// No frame payload is larger.
    #[serde(default)]
    pub max_payload: Option<usize>,
    /// At least this many data frames arrived.
    #[serde(default)]
    pub min_data_frames: Option<usize>,
    /// Some frame had RSV1 (a compressed message arrived).
    #[serde(default)]
    pub compressed: Option<bool>,
    /// No continuation frame arrived (every message in one frame).
    #[serde(default)]
    pub no_continuations: Option<bool>,
    /// Some data frame carried at least this many bytes.
    #[serde(default)]
    pub min_payload_seen: Option<usize>,
    /// Check only the last data frame received.
    #[serde(default)]
    pub last: bool,
}

/// The HTTP response of a connection's upgrade.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WsHttpExpect {
    /// Connection name.
    pub conn: String,
    /// Status code.
    #[serde(default)]
    pub status: Option<u16>,
    /// Headers present with these values.
    #[serde(default)]
    pub headers: Vec<[String; 2]>,
    /// Headers absent.
    #[serde(default)]
    pub absent: Vec<String>,
    /// The response contains these texts.
    #[serde(default)]
    pub contains: Vec<String>,
}

/// An expected pong.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PongExpect {
    /// Connection name.
    pub conn: String,
    /// The pong's payload.
    pub payload: ByteSpec,
    /// How long to wait (default 2000).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// A count of frames of some kind.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CountExpect {
    /// Connection name.
    pub conn: String,
    /// The count (ignored by `ws_expect_end`).
    #[serde(default)]
    pub count: usize,
    /// How long to wait first.
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// One message in fragments.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FragmentedSend {
    /// Connection name.
    pub conn: String,
    /// The message.
    pub data: ByteSpec,
    /// Fragment size.
    pub fragment: usize,
}

/// Round trips.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoundTrips {
    /// Connection name.
    pub conn: String,
    /// How many (at most 100 000).
    pub count: usize,
    /// Payload size.
    pub size: usize,
}

/// Messages compressed with context takeover.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextTakeover {
    /// Connection name.
    pub conn: String,
    /// The messages.
    pub messages: Vec<ByteSpec>,
}

/// Texts the INFO must contain.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InfoExpect {
    /// Connection name.
    pub conn: String,
    /// The texts.
    pub contains: Vec<String>,
}

/// A refused connection.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RefusedExpect {
    /// Connection name.
    pub conn: String,
    /// Texts of which the failure must contain one.
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// A plain NATS connection.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatsConnectSpec {
    /// The connection's name in later steps.
    #[serde(rename = "as")]
    pub name: String,
    /// CONNECT JSON (default `{"verbose":false,"pedantic":false}`).
    #[serde(default)]
    pub connect: Option<String>,
}

/// Raw protocol for a NATS connection.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatsSendSpec {
    /// Connection name.
    pub conn: String,
    /// The bytes.
    pub data: ByteSpec,
}

/// A connection as the server reports it; absent fields are not checked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConnExpect {
    /// Authenticated user.
    #[serde(default)]
    pub user: Option<String>,
    /// Account.
    #[serde(default)]
    pub account: Option<String>,
    /// Client IP from X-Forwarded-For.
    #[serde(default)]
    pub client_ip: Option<String>,
}

/// The shape of one vectored write.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WriteExpect {
    /// Total bytes.
    #[serde(default)]
    pub total: Option<usize>,
    /// Frame payload sizes, in order.
    #[serde(default)]
    pub frame_payloads: Option<Vec<usize>>,
    /// The payloads concatenated (after unmasking).
    #[serde(default)]
    pub data: Option<ByteSpec>,
    /// Number of buffers in the vectored write.
    #[serde(default)]
    pub buffers: Option<usize>,
}

/// Buffer reuse check.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReuseSpec {
    /// The pending bytes each flush.
    pub data: ByteSpec,
    /// Flushes after the warm-up.
    pub runs: usize,
}

/// Why a fixture could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Not valid against the schema.
    #[error("{path}: {message}")]
    Schema {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Fixture {
    /// Loads and checks one fixture file.
    pub fn load(path: &Path) -> Result<Fixture, LoadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: shown.clone(),
            source,
        })?;
        let fixture: Fixture = serde_saphyr::from_str(&text).map_err(|e| LoadError::Schema {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        fixture.check(&shown, path)?;
        Ok(fixture)
    }

    fn check(&self, shown: &str, path: &Path) -> Result<(), LoadError> {
        let bad = |message: String| {
            Err(LoadError::Schema {
                path: shown.to_owned(),
                message,
            })
        };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem != self.go_test {
            return bad(format!(
                "file name {stem:?} must equal go_test {:?}",
                self.go_test
            ));
        }
        if self.skip.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return bad("skip needs a reason".to_owned());
        }
        if self.steps.is_empty() == self.cases.is_empty() && self.skip.is_none() {
            return bad("give either steps or cases".to_owned());
        }
        let mut names = std::collections::BTreeSet::new();
        for case in &self.cases {
            if case.skip.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return bad(format!("case {:?}: skip needs a reason", case.name));
            }
            if !names.insert(case.name.as_str()) {
                return bad(format!("duplicate case name {:?}", case.name));
            }
            if case.steps.is_empty() && case.skip.is_none() {
                return bad(format!("case {:?} has no steps", case.name));
            }
        }
        Ok(())
    }

    /// The cases to run: the table, or one case named `main` holding `steps`.
    pub fn all_cases(&self) -> Vec<Case> {
        if self.cases.is_empty() {
            vec![Case {
                name: "main".to_owned(),
                skip: None,
                setup: None,
                steps: self.steps.clone(),
            }]
        } else {
            self.cases.clone()
        }
    }
}

/// Loads every `*.yaml` under `dir`, sorted by name.
pub fn load_all(dir: &Path) -> Result<Vec<Fixture>, LoadError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Fixture::load(p)).collect()
}
