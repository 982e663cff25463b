//! The NATS client protocol, sans-IO: the incremental parser, protocol messages, subjects
//! and the subscription list (Go: `server/parser.go`, `client.go`, `sublist.go`).

mod error;
pub mod ops;
pub mod parser;
pub mod subject;
pub mod sublist;

pub use error::NatsError;
pub use ops::{ConnectInfo, ServerInfo};
pub use parser::{Op, Parser, Pub};
pub use sublist::{Sublist, SublistError, SublistResult};

/// Default `max_control_line` (Go: `MAX_CONTROL_LINE_SIZE`).
pub const DEFAULT_MAX_CONTROL_LINE: usize = 4096;
/// Default `max_pending` (Go: `MAX_PENDING_SIZE`, 64 MiB).
pub const DEFAULT_MAX_PENDING: usize = 64 * 1024 * 1024;
/// Default `max_connections` (Go: `DEFAULT_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 64 * 1024;
/// Default `ping_max` (Go: `DEFAULT_PING_MAX_OUT`).
pub const DEFAULT_PING_MAX: u32 = 2;
/// Default `ping_interval` in seconds (Go: `DEFAULT_PING_INTERVAL`, 2 minutes).
pub const DEFAULT_PING_INTERVAL_SECS: u64 = 120;
/// The first PING to a client goes out after at most this long (Go: `firstClientPingInterval`).
pub const FIRST_CLIENT_PING_INTERVAL_SECS: u64 = 2;
/// Default `write_deadline` in seconds (Go: `DEFAULT_FLUSH_DEADLINE`).
pub const DEFAULT_WRITE_DEADLINE_SECS: u64 = 10;
/// Default authentication timeout in seconds (Go: `AUTH_TIMEOUT`); with TLS Go uses
/// `tls_timeout + 1`.
pub const DEFAULT_AUTH_TIMEOUT_SECS: f64 = 2.0;
/// Default TLS handshake timeout in seconds (Go: `TLS_TIMEOUT`).
pub const DEFAULT_TLS_TIMEOUT_SECS: f64 = 2.0;
/// Client protocol version with async INFO (Go: `ClientProtoInfo`).
pub const CLIENT_PROTO_INFO: i32 = 1;
/// Version reported in INFO: the Go server release whose behaviour this port follows
/// (clients gate features on it).
pub const SERVER_VERSION: &str = "2.15.1";
