//! Server options: the NATS configuration file format and the websocket options built from it.
//!
//! [`conf`] parses the format into a positioned value tree; [`ServerOpts`] and
//! [`WebsocketOpts`] are built from it with Go's error texts and `file:line:pos` positions
//! (Go: `server/opts.go`). A type mismatch that Go turns into a recovered panic is reported
//! with Go's panic text and ends the block it happened in, as in Go.

mod access;
pub mod conf;
mod duration;
mod error;
mod leafnode;
mod mqtt;
mod nkey;
mod ops;
#[cfg(test)]
mod ops_tests;
mod permissions;
mod server;
#[cfg(test)]
mod tests;
mod tls;
mod users;
mod validate;
mod websocket;

pub use duration::{DurationError, GoDuration, parse_duration};
pub use error::{ConfigError, OptionError, ProcessErrors, Reason};
pub use leafnode::{
    CompressionMode, CompressionOpts, DEFAULT_LEAF_NODE_RECONNECT, DEFAULT_LEAF_TLS_TIMEOUT_SECS,
    DEFAULT_LEAFNODE_INFO_WAIT, DEFAULT_LEAFNODE_PORT, LeafNodeOpts, LeafUrl, LeafUser,
    LeafValidationError, ProxyOpts, RemoteLeafOpts, RemoteWebsocket, WsCompression, WsMasking,
};
pub use mqtt::{MAX_ACK_PENDING_LIMIT, MqttOpts};
pub use nkey::{NkeyKind, is_valid_public_key};
pub use ops::REFUSED_KEYS;
pub use permissions::{Permissions, ResponsePermission, SubjectPermission};
pub use server::{
    DEFAULT_LAME_DUCK_DURATION, DEFAULT_LAME_DUCK_GRACE_PERIOD, IGNORED_KEYS, Loaded, Resolver,
    ServerOpts,
};
pub use tls::{TlsConfig, parse_tls};
pub use users::{Account, CONNECTION_TYPES, NkeyUser, User};
pub use validate::{DEFAULT_MAX_PENDING, DEFAULT_SYSTEM_ACCOUNT, ValidationError};
pub use websocket::WebsocketOpts;
