//! The nats-ws conformance harness: language-neutral YAML fixtures ported from the Go
//! server's tests, replayed in memory against the nats-ws core and, for the server layer,
//! black-box against any NATS-over-WebSocket server (the embedded one, the Go server, a
//! port), with golden wire transcripts and run reports.
//!
//! ```text
//! fixtures/<GoTest>.yaml ─► fixture (schema; one step enum per layer, checked at load)
//!                                │
//!                                ▼
//!   run ── frame | codec | handshake | options ──► nats-ws core, in memory
//!     │
//!     └── server ──► peer (transport, http, frames, WsClient, NatsClient) ──► target
//!                                                                  (embedded | command)
//!     └── server (multi-server) ──► target + Go peers, proxy (relays between them)
//!   each case ─► CaseOutcome { failures, transcript } ─► golden/<GoTest>@<case>.snap
//!                       │
//!                       ▼
//!   report (model, coverage over catalog, html/json/junit) ◄── nats-ws-conform
//!
//!   bench (the load tool) ──► peer        fuzz/seedgen ──► fixture, peer::frames
//! ```
//!
//! Leaves have no harness imports (`bytes`, `catalog`, `certs`); `peer` never imports
//! `run`; `transcript` describes frames read with `peer::frames`.

pub mod auth;
pub mod bench;
pub mod bytes;
pub mod catalog;
pub mod certs;
pub mod diff;
pub mod embedded;
pub mod fixture;
pub mod golden;
pub mod peer;
pub mod proxy;
pub mod report;
pub mod run;
pub mod target;
pub mod transcript;

use std::path::PathBuf;

/// The repository root (the workspace folder holding `fixtures/` and `golden/`).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `fixtures/` under the repository root.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("fixtures")
}

/// `golden/` under the repository root.
pub fn golden_dir() -> PathBuf {
    repo_root().join("golden")
}
