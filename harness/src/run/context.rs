//! What every layer's runner shares: the run context, and the record a case's steps write.

use std::path::PathBuf;
use std::time::Duration;

use crate::certs::Certs;
use crate::target::{Running, TargetSpec};
use crate::transcript::Transcript;

/// Starts the in-process server from a rendered configuration.
pub type EmbeddedStarter = Box<dyn Fn(&str) -> Result<Box<dyn Running>, String> + Send + Sync>;

/// What server-layer fixtures run against, and with what.
pub struct RunContext {
    /// The server under test.
    pub target: TargetSpec,
    /// Generated certificates (`{certs}` in configurations).
    pub certs: Certs,
    /// Scratch folder for configuration files.
    pub tmp: PathBuf,
    /// Default wait for connections and replies.
    pub timeout: Duration,
    /// How to start the in-process server.
    pub embedded: EmbeddedStarter,
    /// The command that starts a peer server in multi-server cases (`{conf}` is its
    /// configuration file): the Go server v2.15.1 from `.venv-peers/`, or
    /// `NATS_WS_PEER_CMD`.
    pub peer_cmd: String,
}

/// The default peer command: `NATS_WS_PEER_CMD`, else the Go server installed by
/// `scripts/install-peers.sh`.
pub fn default_peer_cmd() -> String {
    std::env::var("NATS_WS_PEER_CMD").unwrap_or_else(|_| {
        let bin = crate::repo_root().join(".venv-peers/bin/nats-server");
        format!("{} -c {{conf}}", bin.display())
    })
}

/// Makes sure the default peer exists before a multi-server case starts one: on a fresh
/// machine the pinned Go server is installed by `scripts/install-peers.sh` (once per
/// process; the script itself does nothing when the pinned version is there). A peer
/// command given with `--peer-cmd` or `NATS_WS_PEER_CMD` is used as it is.
pub fn ensure_default_peer(peer_cmd: &str) -> Result<(), String> {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let bin = crate::repo_root().join(".venv-peers/bin/nats-server");
    if peer_cmd != default_peer_cmd() || std::env::var_os("NATS_WS_PEER_CMD").is_some() {
        return Ok(());
    }
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *done || bin.exists() {
        *done = true;
        return Ok(());
    }
    let script = crate::repo_root().join("scripts/install-peers.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !status.success() || !bin.exists() {
        return Err(format!(
            "the Go peer server is not installed and {} failed ({status})",
            script.display()
        ));
    }
    *done = true;
    Ok(())
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("target", &self.target)
            .field("tmp", &self.tmp)
            .finish()
    }
}

impl RunContext {
    /// A context with fresh certificates in a new scratch folder under the system temp dir.
    pub fn new(target: TargetSpec, embedded: EmbeddedStarter) -> Result<RunContext, String> {
        let tmp = std::env::temp_dir().join(format!(
            "nats-ws-conform-{}-{}",
            std::process::id(),
            unique()
        ));
        let certs = Certs::generate(&tmp.join("certs"))?;
        Ok(RunContext {
            target,
            certs,
            tmp,
            timeout: Duration::from_secs(5),
            embedded,
            peer_cmd: default_peer_cmd(),
        })
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Drop for RunContext {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// What a case's steps produced: the expectations that did not hold, and the transcript.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// Each expectation that did not hold.
    pub(crate) failures: Vec<String>,
    /// What happened, for the golden snapshot.
    pub(crate) t: Transcript,
    /// The close status the server sent on a WebSocket connection, if any (the last one).
    pub(crate) remote_close: Option<u16>,
}

impl Record {
    /// Records a failed expectation.
    pub(crate) fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    /// Records a failure unless `got == want`.
    pub(crate) fn check<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(format!("{what}: got {got:?}, want {want:?}"));
        }
    }
}

/// Runs `steps` in order; a step that cannot run is the failure `step N: why`, and the
/// next step runs anyway.
pub(crate) fn drive<S>(
    steps: &[S],
    rec: &mut Record,
    mut step: impl FnMut(&S, &mut Record) -> Result<(), String>,
) {
    for (i, s) in steps.iter().enumerate() {
        if let Err(e) = step(s, rec) {
            rec.fail(format!("step {}: {e}", i + 1));
        }
    }
}
