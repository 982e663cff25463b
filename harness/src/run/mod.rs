//! Running fixtures: each case gives a list of failures and a transcript.

mod codec;
mod context;
mod frame;
mod handshake;
mod options;
mod server;

pub use context::{EmbeddedStarter, RunContext};
pub use handshake::{FIXED_DATE, REMOTE};
pub use options::field;

use std::time::Duration;

use crate::fixture::{Case, Fixture, Setup, Steps};
use crate::target::TargetSpec;
use crate::transcript::Transcript;

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case name.
    pub name: String,
    /// Why it was skipped, if it was.
    pub skipped: Option<String>,
    /// Each expectation that did not hold.
    pub failures: Vec<String>,
    /// What happened, for the golden snapshot.
    pub transcript: Transcript,
    /// How long the case took.
    pub duration: Duration,
    /// The close status the server sent on a WebSocket connection, if any (the last one).
    pub remote_close: Option<u16>,
}

impl CaseOutcome {
    /// Run, and every expectation held.
    pub fn passed(&self) -> bool {
        self.skipped.is_none() && self.failures.is_empty()
    }
}

/// Runs every case of a fixture (server-layer cases against `ctx`'s target).
pub fn run_fixture(fixture: &Fixture, ctx: &RunContext) -> Vec<CaseOutcome> {
    fixture
        .all_cases()
        .into_iter()
        .map(|case| {
            let black_box = ctx.target != TargetSpec::Embedded;
            let skipped = fixture
                .skip
                .clone()
                .or_else(|| case.skip.clone())
                .or_else(|| {
                    fixture
                        .pending
                        .clone()
                        .filter(|_| !black_box)
                        .map(|r| format!("pending: {r}"))
                })
                .or_else(|| {
                    fixture
                        .in_process_only
                        .clone()
                        .filter(|_| black_box)
                        .map(|r| format!("in-process only: {r}"))
                });
            if let Some(reason) = skipped {
                return CaseOutcome {
                    name: case.name,
                    skipped: Some(reason),
                    failures: Vec::new(),
                    transcript: Transcript::default(),
                    duration: Duration::ZERO,
                    remote_close: None,
                };
            }
            run_case(&fixture.setup, &case, ctx)
        })
        .collect()
}

fn run_case(base: &Setup, case: &Case, ctx: &RunContext) -> CaseOutcome {
    let setup = base.merged(case.setup.as_ref());
    let started = std::time::Instant::now();
    let record = match &case.steps {
        Steps::Frame(steps) => frame::run(steps),
        Steps::Codec(steps) => codec::run(&setup, steps),
        Steps::Handshake(steps) => handshake::run(&setup, steps),
        Steps::Options(steps) => options::run(steps),
        Steps::Server(steps) => server::run(&setup, steps, ctx),
    };
    CaseOutcome {
        name: case.name.clone(),
        skipped: None,
        failures: record.failures,
        transcript: record.t,
        duration: started.elapsed(),
        remote_close: record.remote_close,
    }
}

/// The snapshot name of a case: `<GoTest>@<case>` with spaces and slashes as `_`.
pub fn snapshot_name(go_test: &str, case: &str) -> String {
    let case: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{go_test}@{case}")
}
