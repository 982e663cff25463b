//! `nats-ws-conform diff`: the differential fuzzer's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use nats_ws_harness::diff::compare::{Verdict, normalise};
use nats_ws_harness::diff::generate::generate;
use nats_ws_harness::diff::minimize::minimize;
use nats_ws_harness::diff::run::Outcome;
use nats_ws_harness::diff::{CaseResult, Pair, Tally, campaign, emit, json_report, run_pair};

use crate::Fatal;

/// Arguments of `diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Server A: a command with `{conf}` (e.g. './target/release/nats-ws-server -c {conf}').
    #[arg(long, value_name = "CMD")]
    a: String,
    /// Server B, the reference: emitted fixtures expect what it does.
    #[arg(long, value_name = "CMD")]
    b: String,
    /// The campaign seed (cases are reproducible from seed and index).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many cases.
    #[arg(long, default_value_t = 100)]
    cases: u64,
    /// Run cases on N threads (each case starts its own two servers).
    #[arg(long, short = 'j', default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Write the counts and each difference as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run one case, SEED:INDEX, and show both outcomes.
    #[arg(long, value_name = "SEED:INDEX")]
    replay: Option<String>,
    /// Minimise each difference (at most 5) and write it here as a fixture.
    #[arg(long, value_name = "DIR")]
    emit_fixture: Option<PathBuf>,
    /// At most this many runs (each starts both servers) to minimise one difference.
    #[arg(long, value_name = "N", default_value_t = 80)]
    minimize_budget: usize,
}

pub fn diff(args: &DiffArgs) -> Result<ExitCode, Fatal> {
    let pair = Pair {
        a: args.a.clone(),
        b: args.b.clone(),
    };
    let dir = std::env::temp_dir().join(format!("nats-ws-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = match &args.replay {
        Some(key) => replay(args, &pair, key, &dir),
        None => run_campaign(args, &pair, &dir),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn replay(
    args: &DiffArgs,
    pair: &Pair,
    key: &str,
    dir: &std::path::Path,
) -> Result<ExitCode, Fatal> {
    let (seed, index) = key
        .split_once(':')
        .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
        .ok_or_else(|| Fatal(format!("--replay wants SEED:INDEX, got {key:?}")))?;
    let case = generate(seed, index);
    println!(
        "case {seed}:{index} ({:?})\nconfig:\n{}",
        case.variant, case.config
    );
    println!(
        "request headers: {:?} remove {:?} method {:?}",
        case.headers, case.remove, case.method
    );
    for s in &case.sends {
        println!(
            "send{}:",
            s.chop
                .map_or(String::new(), |n| format!(" (in {n}-byte pieces)"))
        );
        for f in &s.frames {
            println!("  {f}");
        }
    }
    let (a, b, verdict) = run_pair(&case, pair, dir).map_err(Fatal)?;
    show_outcome("A", &a);
    show_outcome("B", &b);
    println!("verdict: {verdict:?}");
    let differs = matches!(verdict, Verdict::Differ(_));
    if differs && let Some(out) = &args.emit_fixture {
        emit_one(args, pair, &case, out, dir)?;
    }
    Ok(if differs {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn show_outcome(side: &str, o: &Outcome) {
    let n = normalise(o);
    println!(
        "{side}: http {:?}\n{side}: stream {:?}\n{side}: pongs {} close {:?} tcp_closed {} alive {} problem {:?}",
        o.status,
        String::from_utf8_lossy(&n.stream),
        n.pongs.len(),
        n.close
            .as_ref()
            .map(|(c, r)| (c, String::from_utf8_lossy(r).into_owned())),
        n.tcp_closed,
        n.alive,
        n.problem
    );
}

fn run_campaign(args: &DiffArgs, pair: &Pair, dir: &std::path::Path) -> Result<ExitCode, Fatal> {
    let seed = args.seed;
    let started = std::time::Instant::now();
    let print = |r: &CaseResult| match &r.verdict {
        Ok(Verdict::Differ(lines)) => {
            println!(
                "DIFFER {seed}:{} (replay with --replay {seed}:{})",
                r.index, r.index
            );
            for l in lines {
                println!("    {l}");
            }
        }
        Err(e) => println!("ERROR {seed}:{}: {e}", r.index),
        Ok(_) => {}
    };
    let results = campaign(pair, seed, args.cases, usize::from(args.jobs), dir, &print);
    let t = Tally::of(&results);
    let documented: Vec<String> = t
        .documented
        .iter()
        .map(|(row, n)| format!("{n} (CONFORMANCE row {row})"))
        .collect();
    println!(
        "diff seed {seed}: {} cases in {:.1?}: {} same, {} racy (Go's lost close), documented {}, {} differ, {} errors",
        results.len(),
        started.elapsed(),
        t.same,
        t.racy,
        if documented.is_empty() {
            "0".to_owned()
        } else {
            documented.join(", ")
        },
        t.differ,
        t.errors
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&json_report(seed, &results))?;
        std::fs::write(path, text)?;
    }
    if let Some(out) = &args.emit_fixture {
        let differing = results
            .iter()
            .filter(|r| matches!(r.verdict, Ok(Verdict::Differ(_))))
            .take(5);
        for r in differing {
            emit_one(args, pair, &generate(seed, r.index), out, dir)?;
        }
    }
    Ok(if t.differ + t.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn emit_one(
    args: &DiffArgs,
    pair: &Pair,
    case: &nats_ws_harness::diff::generate::Case,
    out: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(), Fatal> {
    let (small, runs) = minimize(case, pair, dir, args.minimize_budget);
    let (_, b, verdict) = run_pair(&small, pair, dir).map_err(Fatal)?;
    let name = format!("Diff{}x{}", case.seed, case.index);
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("{name}.yaml"));
    std::fs::write(&path, emit::fixture(&name, &small, &b, "server B"))?;
    println!(
        "minimised {}:{} in {runs} runs to {} writes ({verdict:?}): {}",
        case.seed,
        case.index,
        small.sends.len(),
        path.display()
    );
    Ok(())
}
