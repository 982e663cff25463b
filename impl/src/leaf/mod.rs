//! The leafnode protocol, sans-IO (Go: `server/leafnode.go`): what crosses a leaf
//! connection in both directions, and the state one connection keeps.
//!
//! - reading: the leaf dialect of the one protocol parser ([`crate::nats::Parser::leaf`],
//!   ops in [`LeafOp`]);
//! - writing: [`wire`], the only place `LS+`/`LS-`/`LMSG`/`HMSG` are written;
//! - [`info`]: the INFO and CONNECT JSON; [`credentials`]: a credentials file;
//! - [`interest`]: what one connection advertised (Go's `smap`), and [`LeafRole`];
//! - [`reconnect`]: when and where a soliciting leaf dials its remote;
//! - [`session`]: one connection's protocol ([`LeafSession`], a
//!   [`crate::conn::Session`]) over a [`LeafRouter`].

pub mod credentials;
pub mod info;
pub mod interest;
pub mod reconnect;
pub mod session;
pub mod wire;

pub use crate::nats::parser::{LeafMsg, LeafOp};
pub use info::{LeafConnect, LeafInfo};
pub use interest::{Interest, LeafRole};
pub use reconnect::{DelayReason, Reconnect, UrlAuth};
pub use session::{
    LeafConfig, LeafParams, LeafPeer, LeafRouter, LeafSession, LeafSubError, PermissionDenied,
    Solicit,
};
pub use wire::{LeafDelivery, PeerHeaders, write_sub};
