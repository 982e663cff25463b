//! The nats-ws conformance harness: language-neutral YAML fixtures ported from the Go
//! server's tests, replayed against the nats-ws core (and, later, any server), with
//! golden wire transcripts.
//!
//! ```text
//! fixtures/<GoTest>.yaml ──load──► Fixture ──run──► Outcome { failures, transcript }
//!                                                       │
//!                          golden/<GoTest>@<case>.snap ◄┘ (insta)
//! ```

pub mod auth;
pub mod bench;
pub mod bytes;
pub mod certs;
pub mod coverage;
pub mod embedded;
pub mod fixture;
pub mod golden;
pub mod peer;
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
