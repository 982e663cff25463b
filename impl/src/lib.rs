//! nats-ws: the NATS server's WebSocket transport, as a sans-IO core plus a tokio server.
//!
//! The owning objects, in the order a connection meets them (only `server` touches
//! sockets and clocks; everything above it takes bytes and `now` in and gives bytes out):
//!
//! ```text
//!  socket ─► handshake::Handshake ─► conn::Connection ──────────────────────────► socket
//!            HTTP upgrade: 101 or     one per connection: its wire, its session,
//!            Go's error response      its close lifecycle
//!                                       │ handle_input(now, bytes)      ▲ poll_transmit(now, queue, out)
//!                                       ▼                               │
//!                                     codec::Reader                   codec::Outbound
//!                                     frames, inflate,                control frames first, data
//!                                     ping/close replies              (deflated, browser-cut), close last
//!                                       │                               ▲
//!                                       ▼                               │
//!                                     conn::ClientProtocol ─► Router ─► send queues of the
//!                                     NATS ops, auth, timers  (server:  subscribed connections
//!                                                             accounts)
//!
//!  mqtt::MqttSession — the MQTT 3.1.1 protocol as another conn::Session (reader, writer,
//!  topic ↔ subject mapping); routing through a Broker — mqtt::SessionManager, one
//!  account's sessions, retained messages and QoS 1/2 state in memory — not yet wired
//!  into the server.
//!
//!  server::pump — one tokio task per connection: reads into handle_input, writes what
//!  poll_transmit frames, sleeps until poll_timeout, and passes on closes asked for by
//!  other tasks. Frames are written in one place: frame::Frame (whole frames) and
//!  codec::Outbound (the zero-copy data path, on FrameHeader::encode).
//! ```
//!
//! The behaviour is that of `server/websocket.go` in nats-io/nats-server (2.15 line):
//! error texts, close codes and HTTP statuses match it byte for byte where it is
//! deterministic; deliberate differences are listed in `docs/CONFORMANCE.md`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod cli;
pub mod codec;
pub mod conn;
pub mod deflate;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
mod goerr;
pub mod goquote;
pub mod handshake;
pub mod leaf;
pub mod mqtt;
pub mod nats;
pub mod options;
pub mod policy;
#[cfg(feature = "server")]
pub mod server;

/// Largest frame header: 2 bytes, 8 bytes of extended length, 4 bytes of mask key.
/// Go: `wsMaxFrameHeaderSize`.
pub const MAX_FRAME_HEADER_SIZE: usize = 14;
/// RFC 6455 §5.5: control frame payloads are at most 125 bytes.
pub const MAX_CONTROL_PAYLOAD_SIZE: usize = 125;
/// Outbound frame payload cap for browser clients. Go: `wsFrameSizeForBrowsers`.
pub const FRAME_SIZE_FOR_BROWSERS: usize = 4096;
/// Pending outbound bytes at or below this are never compressed. Go: `wsCompressThreshold`.
pub const COMPRESS_THRESHOLD: usize = 64;
/// The NATS default `max_payload` (1 MiB). Go: `MAX_PAYLOAD_SIZE`.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
