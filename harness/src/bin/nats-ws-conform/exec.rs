//! Running a plan of fixtures against one target: case-level parallelism, progress, golden
//! comparison, and the conversion of outcomes into report results.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use nats_ws_harness::fixture::{Case, Fixture, Layer, ServerStep, Steps};
use nats_ws_harness::golden;
use nats_ws_harness::report::{CaseResult, FixtureResult, ImplRun, Verdict};
use nats_ws_harness::run::{CaseOutcome, RunContext, run_fixture, snapshot_name};
use nats_ws_harness::target::{TargetSpec, port_clash};

/// The fixtures to run (cases already filtered) and those left out as not applicable.
#[derive(Debug)]
pub struct Plan {
    /// Fixtures with only the selected cases, sorted by Go test name.
    pub fixtures: Vec<Fixture>,
    /// Go tests left out because their layer tests nats-ws's in-memory core.
    pub not_applicable: Vec<String>,
}

impl Plan {
    /// Selects cases whose Go test or case name contains `filter`; in black-box runs, only
    /// `layer: server` fixtures.
    pub fn new(all: &[Fixture], filter: Option<&str>, black_box: bool) -> Plan {
        let mut fixtures = Vec::new();
        let mut not_applicable = Vec::new();
        for f in all {
            let by_name = filter.is_none_or(|p| f.go_test.contains(p));
            let cases: Vec<Case> = f
                .all_cases()
                .into_iter()
                .filter(|c| by_name || filter.is_some_and(|p| c.name.contains(p)))
                .collect();
            if cases.is_empty() {
                continue;
            }
            if black_box && f.layer != Layer::Server {
                not_applicable.push(f.go_test.clone());
                continue;
            }
            let mut one = f.clone();
            one.steps = Steps::none(f.layer);
            one.cases = cases;
            fixtures.push(one);
        }
        fixtures.sort_by(|a, b| a.go_test.cmp(&b.go_test));
        Plan {
            fixtures,
            not_applicable,
        }
    }
}

/// How a run shows progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, one line per case otherwise.
    Auto,
    /// Nothing until the summary.
    Quiet,
}

/// Run settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Worker threads.
    pub jobs: usize,
    /// Compare embedded transcripts with `golden/`.
    pub golden: bool,
    /// Progress display.
    pub progress: ProgressMode,
}

enum Progress {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

impl Progress {
    fn new(mode: ProgressMode, total: usize, name: &str) -> Progress {
        match mode {
            ProgressMode::Quiet => Progress::Quiet,
            ProgressMode::Auto if std::io::stdout().is_terminal() => {
                let bar =
                    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {elapsed_precise} {wide_msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(name.to_owned());
                Progress::Bar(bar)
            }
            ProgressMode::Auto => Progress::Lines,
        }
    }

    fn case_done(&self, name: &str, go_test: &str, r: &CaseResult) {
        let line = format!(
            "{:<4} {name}: {go_test} / {} ({} ms){}",
            match r.verdict {
                Verdict::Inconclusive => "INC",
                v => v.label(),
            },
            r.name,
            r.duration.as_millis(),
            match r.verdict {
                Verdict::Pass => String::new(),
                _ => format!(": {}", r.summary()),
            }
        );
        match self {
            Progress::Bar(bar) => {
                if matches!(r.verdict, Verdict::Fail | Verdict::Inconclusive) {
                    bar.println(line);
                }
                bar.set_message(format!("{go_test} / {}", r.name));
                bar.inc(1);
            }
            Progress::Lines => println!("{line}"),
            Progress::Quiet => {}
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Runs every case of the plan against `ctx`'s target.
pub fn execute(plan: &Plan, ctx: &RunContext, settings: Settings) -> ImplRun {
    let started = Instant::now();
    let name = ctx.target.name().to_owned();
    let items: Vec<(usize, usize)> = plan
        .fixtures
        .iter()
        .enumerate()
        .flat_map(|(fi, f)| (0..f.cases.len()).map(move |ci| (fi, ci)))
        .collect();
    let progress = Progress::new(settings.progress, items.len(), &name);
    let slots: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; items.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..settings.jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(fi, ci)) = items.get(i) else { break };
                    let fixture = &plan.fixtures[fi];
                    let case = &fixture.cases[ci];
                    let result = run_one(fixture, case, ctx, settings.golden);
                    progress.case_done(&name, &fixture.go_test, &result);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    progress.finish();
    let mut results = slots
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter();
    let fixtures = plan
        .fixtures
        .iter()
        .map(|f| FixtureResult {
            go_test: f.go_test.clone(),
            go_source: f.go_source.clone(),
            layer: f.layer,
            description: f.description.clone(),
            cases: f
                .cases
                .iter()
                .map(|c| {
                    results.next().flatten().unwrap_or_else(|| CaseResult {
                        name: c.name.clone(),
                        verdict: Verdict::Fail,
                        skip_reason: None,
                        failures: vec!["the case did not report (its worker panicked)".to_owned()],
                        notes: Vec::new(),
                        transcript: String::new(),
                        duration: std::time::Duration::ZERO,
                        remote_close: None,
                    })
                })
                .collect(),
        })
        .collect();
    ImplRun {
        name,
        target: describe(&ctx.target),
        fixtures,
        not_applicable: plan.not_applicable.clone(),
        elapsed: started.elapsed(),
    }
}

/// How a target is shown in reports.
pub fn describe(target: &TargetSpec) -> String {
    match target {
        TargetSpec::Embedded => "embedded".to_owned(),
        TargetSpec::Command { cmd, .. } => cmd.clone(),
        TargetSpec::Fixed { ws, client, .. } => match client {
            Some(c) => format!("ws://{ws} (NATS {c}; configuration not applied)"),
            None => format!("ws://{ws} (configuration not applied)"),
        },
    }
}

fn run_one(fixture: &Fixture, case: &Case, ctx: &RunContext, golden: bool) -> CaseResult {
    let mut one = fixture.clone();
    one.cases = vec![case.clone()];
    let attempt = || {
        run_fixture(&one, ctx)
            .into_iter()
            .next()
            .unwrap_or_else(|| CaseOutcome {
                name: case.name.clone(),
                skipped: None,
                failures: vec!["the runner returned no outcome".to_owned()],
                transcript: Default::default(),
                duration: std::time::Duration::ZERO,
                remote_close: None,
            })
    };
    let mut notes = Vec::new();
    let mut outcome = attempt();
    // Free ports are picked, released, then bound by the server: with parallel jobs another
    // case can take one in between. That is the harness's race, not the server's: retry once.
    if outcome.failures.iter().any(|f| port_clash(f)) {
        outcome = attempt();
        notes.push("retried once: a free port was taken by another case".to_owned());
    }
    let transcript = outcome.transcript.render();
    let mut failures = outcome.failures.clone();
    let embedded = ctx.target == TargetSpec::Embedded;
    if outcome.skipped.is_none() && embedded && golden {
        // Golden transcripts are nats-ws's own; other servers are judged by the fixture.
        let snap = snapshot_name(&fixture.go_test, &outcome.name);
        match golden::matches(&snap, &transcript) {
            Some(true) => {}
            Some(false) => failures.push(format!("transcript differs from golden/{snap}.snap")),
            None => failures.push(format!("no golden/{snap}.snap")),
        }
    }
    // A fixed target runs as it was started: what a case needs from the server's set-up
    // (its configuration, its log, reloads) is out of reach, so its failures are not judged.
    let fixed = matches!(ctx.target, TargetSpec::Fixed { .. });
    let limits = if fixed && outcome.skipped.is_none() {
        fixed_target_limits(fixture, case)
    } else {
        Vec::new()
    };
    notes.extend(limits.iter().map(|l| format!("fixed target: {l}")));
    let verdict = if outcome.skipped.is_some() {
        Verdict::Skip
    } else if failures.is_empty() {
        Verdict::Pass
    } else if !limits.is_empty() {
        Verdict::Inconclusive
    } else {
        Verdict::Fail
    };
    CaseResult {
        name: outcome.name,
        verdict,
        skip_reason: outcome.skipped,
        failures,
        notes,
        transcript,
        duration: outcome.duration,
        remote_close: outcome.remote_close,
    }
}

/// What a case needs that a fixed (already running) target cannot provide.
fn fixed_target_limits(fixture: &Fixture, case: &Case) -> Vec<&'static str> {
    let mut limits = Vec::new();
    let configured = case
        .setup
        .as_ref()
        .and_then(|s| s.config.as_ref())
        .or(fixture.setup.config.as_ref())
        .is_some();
    if configured {
        limits.push("the fixture's server configuration was not applied");
    }
    let setup = fixture.setup.merged(case.setup.as_ref());
    if setup.servers.is_some() {
        limits.push("the case starts several servers (leafnodes), which a fixed target cannot");
    }
    let server_steps: &[ServerStep] = match &case.steps {
        Steps::Server(steps) => steps,
        _ => &[],
    };
    if server_steps.iter().any(|s| {
        matches!(
            s,
            ServerStep::ExpectLog(_)
                | ServerStep::ExpectNoLog(_)
                | ServerStep::ExpectLogOn(_)
                | ServerStep::ExpectNoLogOn(_)
        )
    }) {
        limits.push("the server's log is not visible");
    }
    if server_steps
        .iter()
        .any(|s| matches!(s, ServerStep::Reload(_) | ServerStep::ExpectReloadError(_)))
    {
        limits.push("the server cannot be reconfigured");
    }
    limits
}
