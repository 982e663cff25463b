//! Driving a server process from a test: a child that is stopped when the test ends (also
//! when an assertion fails first), signals, and bounded waits on it and on its files.

// Each test binary includes this file and uses part of it.
#![allow(dead_code, clippy::expect_used)]

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Owns a spawned server; `Drop` kills it (SIGKILL) and reaps it if it is still running.
pub struct Stopped(pub Child);

impl Deref for Stopped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Stopped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A fresh, empty directory for one test's files, named after the test binary and case.
pub fn scratch(binary: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nats-ws-{binary}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// Waits (bounded, 10 s) until `path` exists and holds `needle`; returns its text.
pub fn wait_for(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared in {path:?}: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `sig` (a name as `kill` takes it: `TERM`, `USR1`, ...) to the child.
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{sig} failed");
}

/// Waits (bounded, 15 s) for the child to exit; kills it and fails the test if it does not.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(s) = child.try_wait().expect("poll the child") {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM, then waits for the exit.
pub fn terminate(child: &mut Child) -> ExitStatus {
    signal(child, "TERM");
    wait_exit(child)
}
