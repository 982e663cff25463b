//! The one peer toolkit: how the harness talks to a server as a client.
//!
//! ```text
//! transport  connect (loopback only), Stream (plain/TLS), TlsClient, read slices
//! http       the upgrade request, the response head read and parsed
//! frames     frames written with nats_ws::frame::Frame, read with codec::assembler
//! ws, nats   WsClient and NatsClient, for server-layer fixtures
//! ```
//!
//! Used by the fixture runner, the conformance CLI, the load tool and seedgen. It does not
//! import the runner: requests come from fixture specs, the rest is bytes.

pub mod frames;
pub mod http;
pub mod nats;
pub mod transport;
pub mod ws;

pub use nats::NatsClient;
pub use transport::{ReadEnd, Stream, TlsClient, connect};
pub use ws::WsClient;
