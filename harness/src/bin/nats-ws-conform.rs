//! `nats-ws-conform`: runs every fixture against the nats-ws core and prints a table.

use std::process::ExitCode;

use nats_ws_harness::fixture::load_all;
use nats_ws_harness::golden;
use nats_ws_harness::run::{run_fixture, snapshot_name};

fn main() -> ExitCode {
    let fixtures = match load_all(&nats_ws_harness::fixtures_dir()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let (mut pass, mut fail, mut skip) = (0usize, 0usize, 0usize);
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    println!(
        "{:<58} {:<7} {:>5} {:>5} {:>5}",
        "fixture", "layer", "pass", "fail", "skip"
    );
    for fixture in &fixtures {
        let (mut p, mut f, mut s) = (0, 0, 0);
        for outcome in run_fixture(fixture) {
            if let Some(reason) = &outcome.skipped {
                s += 1;
                skipped.push(format!("{} / {}: {reason}", fixture.go_test, outcome.name));
                continue;
            }
            let name = snapshot_name(&fixture.go_test, &outcome.name);
            let mut problems = outcome.failures.clone();
            match golden::matches(&name, &outcome.transcript.render()) {
                Some(true) => {}
                Some(false) => problems.push(format!("transcript differs from golden/{name}.snap")),
                None => problems.push(format!("no golden/{name}.snap")),
            }
            if problems.is_empty() {
                p += 1;
            } else {
                f += 1;
                failures.extend(
                    problems
                        .into_iter()
                        .map(|m| format!("{} / {}: {m}", fixture.go_test, outcome.name)),
                );
            }
        }
        println!(
            "{:<58} {:<7} {p:>5} {f:>5} {s:>5}",
            fixture.go_test,
            fixture.layer.name()
        );
        pass += p;
        fail += f;
        skip += s;
    }
    println!(
        "\n{} fixtures, {} cases: {pass} passed, {fail} failed, {skip} skipped ({:.2?})",
        fixtures.len(),
        pass + fail + skip,
        started.elapsed()
    );
    if !skipped.is_empty() {
        println!("\nskipped:");
        for s in &skipped {
            println!("  {s}");
        }
    }
    if !failures.is_empty() {
        println!("\nfailures:");
        for f in &failures {
            println!("  {f}");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
