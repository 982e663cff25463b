//! Every fixture in `fixtures/` as a cargo test named after its Go test; each case is
//! checked and its transcript compared with `golden/<GoTest>@<case>.snap`.

use std::sync::OnceLock;

use nats_ws_harness::fixture::Fixture;
use nats_ws_harness::run::{RunContext, run_fixture, snapshot_name};
use nats_ws_harness::target::TargetSpec;

/// One context (certificates, scratch folder) shared by every test in this binary.
fn context() -> &'static RunContext {
    static CTX: OnceLock<RunContext> = OnceLock::new();
    CTX.get_or_init(|| {
        match RunContext::new(TargetSpec::Embedded, nats_ws_harness::embedded::starter()) {
            Ok(c) => c,
            Err(e) => panic!("cannot set up the run context: {e}"),
        }
    })
}

fn replay(name: &str) {
    let path = nats_ws_harness::fixtures_dir().join(format!("{name}.yaml"));
    let fixture = match Fixture::load(&path) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let mut failed = Vec::new();
    for outcome in run_fixture(&fixture, context()) {
        if let Some(reason) = &outcome.skipped {
            println!("{name} / {}: skipped: {reason}", outcome.name);
            continue;
        }
        for f in &outcome.failures {
            // Printed now: a differing transcript below stops the test before the
            // assertion that lists them, and the failure usually explains the difference.
            println!("{name} / {}: FAILED: {f}", outcome.name);
            failed.push(format!("{name} / {}: {f}", outcome.name));
        }
        let snap = snapshot_name(name, &outcome.name);
        nats_ws_harness::golden::settings().bind(|| {
            insta::assert_snapshot!(snap, outcome.transcript.render());
        });
    }
    assert!(
        failed.is_empty(),
        "{} expectation(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));
