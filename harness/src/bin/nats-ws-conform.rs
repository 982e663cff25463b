//! `nats-ws-conform`: runs every fixture against the nats-ws core and prints a table.

use std::process::ExitCode;

use clap::Parser;

use nats_ws_harness::fixture::load_all;
use nats_ws_harness::golden;
use nats_ws_harness::run::{RunContext, run_fixture, snapshot_name};
use nats_ws_harness::target::TargetSpec;

/// Replays the ported Go tests (fixtures/) against the embedded nats-ws server, or any
/// server started from a command line, and prints a pass/fail table.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Start the server under test with this command; `{conf}` is replaced by the path of
    /// the configuration file each case needs (NATS format).
    #[arg(long, value_name = "CMD")]
    server_cmd: Option<String>,
    /// Name of the implementation in reports (default: nats-ws, or the command's program).
    #[arg(long)]
    name: Option<String>,
    /// Only fixtures whose Go test name contains this text.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let target = match &args.server_cmd {
        None => TargetSpec::Embedded,
        Some(cmd) => TargetSpec::Command {
            name: args
                .name
                .clone()
                .unwrap_or_else(|| cmd.split_whitespace().next().unwrap_or("server").to_owned()),
            cmd: cmd.clone(),
        },
    };
    let fixtures = match load_all(&nats_ws_harness::fixtures_dir()) {
        Ok(f) => f
            .into_iter()
            .filter(|f| {
                args.filter
                    .as_ref()
                    .is_none_or(|p| f.go_test.contains(p.as_str()))
            })
            .collect::<Vec<_>>(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = match RunContext::new(target, nats_ws_harness::embedded::starter()) {
        Ok(c) => c,
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
        for outcome in run_fixture(fixture, &ctx) {
            if let Some(reason) = &outcome.skipped {
                s += 1;
                skipped.push(format!("{} / {}: {reason}", fixture.go_test, outcome.name));
                continue;
            }
            let name = snapshot_name(&fixture.go_test, &outcome.name);
            let mut problems = outcome.failures.clone();
            // Golden transcripts are nats-ws's own; other servers are judged by the fixture.
            if ctx.target == TargetSpec::Embedded {
                match golden::matches(&name, &outcome.transcript.render()) {
                    Some(true) => {}
                    Some(false) => {
                        problems.push(format!("transcript differs from golden/{name}.snap"))
                    }
                    None => problems.push(format!("no golden/{name}.snap")),
                }
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
