//! The leafnode protocol, sans-IO (Go: `server/leafnode.go`): what crosses a leaf
//! connection in both directions, and the state one connection keeps.
//!
//! - reading: the leaf dialect of the one protocol parser ([`crate::nats::Parser::leaf`],
//!   ops in [`LeafOp`]);
//! - writing: [`wire`], the only place `LS+`/`LS-`/`LMSG`/`HMSG` are written.

pub mod wire;

pub use crate::nats::parser::{LeafMsg, LeafOp};
pub use wire::{LeafDelivery, PeerHeaders, write_sub};
