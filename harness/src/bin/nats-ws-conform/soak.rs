//! `nats-ws-conform soak`: the diff's generator against one server per configuration,
//! with a liveness and an RSS oracle after every case.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;

use nats_ws_harness::diff::run::start;
use nats_ws_harness::diff::soak::{
    DEFAULT_RSS_LIMIT_MIB, SoakOpts, SoakReport, json_report, mib, soak as run_soak,
};
use nats_ws_harness::target::Running;

use crate::Fatal;

/// Arguments of `soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// The server: a command with `{conf}` (e.g. './target/release/nats-ws-server -c {conf}').
    #[arg(long, value_name = "CMD")]
    server: String,
    /// The campaign seed (the same cases as `diff --seed`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many cases (indices 0..N, grouped by configuration).
    #[arg(long, default_value_t = 300)]
    cases: u64,
    /// Cases in flight at once against the one server.
    #[arg(long, short = 'j', default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Fail when RSS grows more than this over the baseline taken after the warm-up cases.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_RSS_LIMIT_MIB)]
    rss_limit_mib: u64,
    /// Run only case SEED:INDEX (against a server of its own), as `diff --replay` does.
    #[arg(long, value_name = "SEED:INDEX", conflicts_with_all = ["seed", "cases"])]
    replay: Option<String>,
    /// Write the summary (per configuration: cases, RSS, slowest probe) as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn soak(args: &SoakArgs) -> Result<ExitCode, Fatal> {
    let (seed, indices) = match &args.replay {
        Some(key) => {
            let (seed, index) = key
                .split_once(':')
                .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
                .ok_or_else(|| Fatal(format!("--replay wants SEED:INDEX, got {key:?}")))?;
            (seed, vec![index])
        }
        None => (args.seed, (0..args.cases).collect()),
    };
    let opts = SoakOpts {
        seed,
        indices,
        jobs: usize::from(args.jobs),
        rss_limit: args.rss_limit_mib.saturating_mul(1_048_576),
    };
    let dir = std::env::temp_dir().join(format!("nats-ws-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let starter = |config: &str, name: &str| {
        let server = start(&args.server, config, &dir, name)?;
        let pid = server.pid();
        Ok((Box::new(server) as Box<dyn Running>, Some(pid)))
    };
    let total = opts.indices.len() as u64;
    let done = AtomicU64::new(0);
    let progress = |_index: u64| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(250) {
            println!("soak: {n}/{total} cases");
        }
    };
    println!(
        "soak: seed {seed}, {total} cases, {} jobs, RSS limit +{} MiB over the post-warm-up baseline",
        opts.jobs, args.rss_limit_mib
    );
    let report = run_soak(&opts, &starter, &progress);
    let _ = std::fs::remove_dir_all(&dir);
    print_report(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&json_report(&report))?)?;
    }
    Ok(if report.failure.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(r: &SoakReport) {
    for g in &r.groups {
        println!(
            "  {:<24} {:>5} cases  RSS start {:>6.1} baseline {:>6.1} max {:>6.1} final {:>6.1} MiB  slowest probe {:?}  fds max {} final {}  client problems {}",
            g.label,
            g.cases,
            mib(g.start_rss),
            mib(g.baseline_rss),
            mib(g.max_rss),
            mib(g.final_rss),
            g.max_probe,
            g.max_fds,
            g.final_fds,
            g.problems
        );
    }
    if let Some(f) = &r.failure {
        println!(
            "FAILED after case {}:{}: {} (replay with --replay {}:{})",
            r.seed, f.index, f.what, r.seed, f.index
        );
        for l in &f.logs {
            println!("    | {l}");
        }
    }
    println!(
        "soak seed {}: {} cases in {:.1?}, max RSS {:.1} MiB, {}",
        r.seed,
        r.cases,
        r.elapsed,
        mib(r.max_rss()),
        if r.failure.is_some() { "FAILED" } else { "ok" }
    );
}
