//! The generator against one long-running server: a network-level fuzzer of the whole
//! process with two oracles, liveness and memory.
//!
//! The cases of a seed are grouped by their configuration; each group runs against ONE
//! server started from it, case after case (or `jobs` at a time). After every case a
//! fresh plain NATS client must get INFO and have its PING answered with PONG within
//! [`PROBE_TIMEOUT`], and the server's resident set (`VmRSS`) must stay within
//! `rss_limit` of a baseline taken after the warm-up cases. The first failure stops the
//! run and names its case as `SEED:INDEX` (with `jobs > 1` the case that had just ended
//! on the thread that saw it; other cases were in flight too).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::bench::target::proc_stats;
use crate::diff::generate::{Case, generate};
use crate::diff::run::session;
use crate::peer::{NatsClient, connect};
use crate::target::{Fixed, Running};

/// A fresh client's connect + INFO + PING/PONG must complete within this.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default growth of RSS allowed over the post-warm-up baseline, MiB (docs/FUZZING.md
/// says why this much).
pub const DEFAULT_RSS_LIMIT_MIB: u64 = 64;
/// Cases per configuration group run before the RSS baseline is taken (fewer if the
/// group is smaller).
pub const WARMUP_CASES: usize = 20;

/// Starts a server for a configuration template: the server and its process id (for
/// `/proc/<pid>/status`; `None` where it cannot be read).
pub type Starter<'a> =
    dyn Fn(&str, &str) -> Result<(Box<dyn Running>, Option<u32>), String> + Sync + 'a;

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOpts {
    /// The campaign seed.
    pub seed: u64,
    /// The case indices to run (usually `0..cases`).
    pub indices: Vec<u64>,
    /// Cases in flight at once against the one server.
    pub jobs: usize,
    /// Allowed RSS growth over the baseline, bytes.
    pub rss_limit: u64,
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case that had just run.
    pub index: u64,
    /// What went wrong.
    pub what: String,
    /// The server's last log lines.
    pub logs: Vec<String>,
}

/// One configuration group's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// The configuration (variant, compression).
    pub label: String,
    /// Cases run.
    pub cases: usize,
    /// RSS right after start, bytes (0 when unknown, as are the others).
    pub start_rss: u64,
    /// RSS after the warm-up cases.
    pub baseline_rss: u64,
    /// Highest RSS seen.
    pub max_rss: u64,
    /// RSS after the last case.
    pub final_rss: u64,
    /// Slowest liveness probe.
    pub max_probe: Duration,
    /// Sessions whose client could not read what the server sent (not a failure: the
    /// diff judges those; counted so a rise shows).
    pub problems: usize,
    /// Open file descriptors after the last case, and the most seen after any case
    /// (reported, not judged: closing connections linger for a while).
    pub final_fds: usize,
    /// See `final_fds`.
    pub max_fds: usize,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    /// The seed.
    pub seed: u64,
    /// Cases run.
    pub cases: usize,
    /// Per configuration.
    pub groups: Vec<Group>,
    /// The first failure, if any.
    pub failure: Option<Failure>,
    /// Wall time.
    pub elapsed: Duration,
}

impl SoakReport {
    /// The highest RSS of any group, bytes.
    pub fn max_rss(&self) -> u64 {
        self.groups.iter().map(|g| g.max_rss).max().unwrap_or(0)
    }
}

/// The indices grouped by configuration, groups in order of first appearance.
pub fn groups(seed: u64, indices: &[u64]) -> Vec<(String, String, Vec<u64>)> {
    let mut out: Vec<(String, String, Vec<u64>)> = Vec::new();
    for &i in indices {
        let case = generate(seed, i);
        match out.iter_mut().find(|(c, _, _)| *c == case.config) {
            Some((_, _, list)) => list.push(i),
            None => out.push((case.config.clone(), label(&case), vec![i])),
        }
    }
    out
}

fn label(case: &Case) -> String {
    let compression = if case.config.contains("compression: true") {
        " +compression"
    } else {
        ""
    };
    format!("{:?}{compression}", case.variant)
}

/// Runs the cases, one server per configuration group; `progress` is told each case
/// index as it ends. Stops at the first failure.
pub fn soak(opts: &SoakOpts, start: &Starter<'_>, progress: &(dyn Fn(u64) + Sync)) -> SoakReport {
    let began = Instant::now();
    let mut report = SoakReport {
        seed: opts.seed,
        ..SoakReport::default()
    };
    for (config, label, indices) in groups(opts.seed, &opts.indices) {
        let (group, failure) = run_group(opts, start, &config, label, &indices, progress);
        report.cases += group.cases;
        report.groups.push(group);
        if failure.is_some() {
            report.failure = failure;
            break;
        }
    }
    report.elapsed = began.elapsed();
    report
}

/// Shared state of one group's workers.
struct GroupState {
    next: AtomicUsize,
    done: AtomicUsize,
    stop: AtomicBool,
    group: Mutex<Group>,
    baseline: Mutex<Option<u64>>,
    failure: Mutex<Option<Failure>>,
}

fn run_group(
    opts: &SoakOpts,
    start: &Starter<'_>,
    config: &str,
    label: String,
    indices: &[u64],
    progress: &(dyn Fn(u64) + Sync),
) -> (Group, Option<Failure>) {
    let mut group = Group {
        label,
        ..Group::default()
    };
    let first = indices.first().copied().unwrap_or(0);
    let (server, pid) = match start(config, &format!("soak-{}-{first}", opts.seed)) {
        Ok(s) => s,
        Err(e) => {
            let what = format!("the server did not start: {e}");
            return (group, Some(fail(first, what, Vec::new())));
        }
    };
    let rss = || pid.and_then(proc_stats).map(|s| s.rss);
    group.start_rss = rss().unwrap_or(0);
    group.max_rss = group.start_rss;
    let state = GroupState {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        group: Mutex::new(group),
        baseline: Mutex::new(None),
        failure: Mutex::new(None),
    };
    let warmup = WARMUP_CASES.min(indices.len() / 5).max(1);
    // The workers share a view of the server's addresses (a `Running` need not be Sync).
    let view = match server
        .ws_addr()
        .ok_or_else(|| "no websocket listener".to_owned())
        .and_then(|ws| Fixed::new(ws, server.client_addr()))
    {
        Ok(v) => v,
        Err(e) => {
            server.stop();
            let group = state.group.into_inner().unwrap_or_default();
            return (group, Some(fail(first, e, Vec::new())));
        }
    };
    let server_ref = &view;
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            let state = &state;
            let rss = &rss;
            s.spawn(move || worker(opts, server_ref, pid, rss, warmup, indices, state, progress));
        }
    });
    let logs = server.logs();
    server.stop();
    let mut group = state.group.into_inner().unwrap_or_default();
    group.baseline_rss = state.baseline.into_inner().ok().flatten().unwrap_or(0);
    let failure = state.failure.into_inner().ok().flatten().map(|mut f| {
        f.logs = tail(&logs, 20);
        f
    });
    (group, failure)
}

#[allow(clippy::too_many_arguments)]
fn worker(
    opts: &SoakOpts,
    server: &Fixed,
    pid: Option<u32>,
    rss: &(dyn Fn() -> Option<u64> + Sync),
    warmup: usize,
    indices: &[u64],
    state: &GroupState,
    progress: &(dyn Fn(u64) + Sync),
) {
    loop {
        if state.stop.load(Ordering::Relaxed) {
            return;
        }
        let n = state.next.fetch_add(1, Ordering::Relaxed);
        let Some(&index) = indices.get(n) else {
            return;
        };
        let case = generate(opts.seed, index);
        let verdict = check_case(opts, &case, server, pid, rss, warmup, state);
        progress(index);
        if let Err(what) = verdict {
            state.stop.store(true, Ordering::Relaxed);
            if let Ok(mut f) = state.failure.lock()
                && f.is_none()
            {
                *f = Some(fail(index, what, Vec::new()));
            }
            return;
        }
    }
}

/// Runs one case, then the oracles.
fn check_case(
    opts: &SoakOpts,
    case: &Case,
    server: &dyn Running,
    pid: Option<u32>,
    rss: &(dyn Fn() -> Option<u64> + Sync),
    warmup: usize,
    state: &GroupState,
) -> Result<(), String> {
    let outcome = session(case, server);
    let probe = probe(server, &case.probe_connect);
    let dead = pid.is_some_and(|p| !running(p));
    if dead {
        return Err("the server process exited".to_owned());
    }
    let probe_time = probe.map_err(|e| format!("liveness: {e}"))?;
    let outcome = outcome.map_err(|e| format!("session: {e}"))?;
    let done = state.done.fetch_add(1, Ordering::Relaxed) + 1;
    let now = rss();
    let mut g = state.group.lock().map_err(|_| "poisoned")?;
    g.cases += 1;
    g.problems += usize::from(outcome.problem.is_some());
    g.max_probe = g.max_probe.max(probe_time);
    if let Some(n) = pid.and_then(open_fds) {
        g.final_fds = n;
        g.max_fds = g.max_fds.max(n);
    }
    let Some(now) = now else {
        return Ok(());
    };
    g.max_rss = g.max_rss.max(now);
    g.final_rss = now;
    let mut baseline = state.baseline.lock().map_err(|_| "poisoned")?;
    if baseline.is_none() && done >= warmup {
        *baseline = Some(now);
    }
    rss_within(now, *baseline, g.start_rss, opts.rss_limit)
}

/// The memory oracle: `now` is within `limit` of the baseline (of the start RSS while
/// there is no baseline yet).
fn rss_within(now: u64, baseline: Option<u64>, start: u64, limit: u64) -> Result<(), String> {
    let base = baseline.unwrap_or(start);
    if now > base.saturating_add(limit) {
        return Err(format!(
            "RSS {:.1} MiB is over the {} {:.1} MiB + limit {:.1} MiB",
            mib(now),
            if baseline.is_some() {
                "post-warm-up baseline"
            } else {
                "start RSS"
            },
            mib(base),
            mib(limit)
        ));
    }
    Ok(())
}

/// A fresh plain NATS client gets INFO, and its PING (after CONNECT) a PONG.
pub fn probe(server: &dyn Running, connect_json: &str) -> Result<Duration, String> {
    let began = Instant::now();
    let addr = server.client_addr().ok_or("no client listener")?;
    let stream = connect(addr, None, PROBE_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    let mut n = NatsClient::new(stream);
    let left = || PROBE_TIMEOUT.saturating_sub(began.elapsed());
    if !n.read_until(left(), |b| b.starts_with(b"INFO {") && b.ends_with(b"\r\n")) {
        return Err(format!("no INFO within {PROBE_TIMEOUT:?}"));
    }
    n.consumed = n.data.len();
    n.send(format!("CONNECT {connect_json}\r\nPING\r\n").as_bytes())?;
    if !n.read_until(left(), ends_with_pong) {
        let got = String::from_utf8_lossy(&n.data[n.consumed..]).into_owned();
        return Err(format!("no PONG within {PROBE_TIMEOUT:?} (got {got:?})"));
    }
    Ok(began.elapsed())
}

fn ends_with_pong(b: &[u8]) -> bool {
    b == b"PONG\r\n" || b.ends_with(b"\r\nPONG\r\n")
}

/// How many file descriptors `pid` has open (Linux; bounded by the process's own limit).
fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// The process exists and is not a zombie (exited, not yet reaped).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        // No /proc (not Linux): the probe is the only liveness oracle.
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

fn fail(index: u64, what: String, logs: Vec<String>) -> Failure {
    Failure { index, what, logs }
}

fn tail(lines: &[String], n: usize) -> Vec<String> {
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// The report as JSON.
pub fn json_report(r: &SoakReport) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = r
        .groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "config": g.label,
                "cases": g.cases,
                "start_rss": g.start_rss,
                "baseline_rss": g.baseline_rss,
                "max_rss": g.max_rss,
                "final_rss": g.final_rss,
                "max_probe_ms": g.max_probe.as_millis() as u64,
                "client_problems": g.problems,
                "final_fds": g.final_fds,
                "max_fds": g.max_fds,
            })
        })
        .collect();
    serde_json::json!({
        "seed": r.seed,
        "cases": r.cases,
        "max_rss": r.max_rss(),
        "elapsed_ms": r.elapsed.as_millis() as u64,
        "groups": groups,
        "failure": r.failure.as_ref().map(|f| serde_json::json!({
            "index": f.index,
            "replay": format!("{}:{}", r.seed, f.index),
            "what": f.what,
            "logs": f.logs,
        })),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn groups_partition_the_indices_by_configuration() {
        let indices: Vec<u64> = (0..60).collect();
        let g = groups(3, &indices);
        assert!(g.len() > 1, "60 cases use more than one configuration");
        let mut all: Vec<u64> = g.iter().flat_map(|(_, _, l)| l.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, indices);
        for (config, _, list) in &g {
            assert!(list.iter().all(|&i| generate(3, i).config == *config));
        }
    }

    #[test]
    fn rss_over_the_baseline_plus_limit_fails() {
        const M: u64 = 1_048_576;
        assert_eq!(rss_within(70 * M, Some(10 * M), 5 * M, 64 * M), Ok(()));
        assert_eq!(rss_within(74 * M, Some(10 * M), 5 * M, 64 * M), Ok(()));
        let e = rss_within(74 * M + 1, Some(10 * M), 5 * M, 64 * M).unwrap_err();
        assert!(e.contains("post-warm-up baseline 10.0 MiB"), "{e}");
        // Before the baseline, the start RSS is the reference.
        let e = rss_within(70 * M, None, 5 * M, 64 * M).unwrap_err();
        assert!(e.contains("start RSS 5.0 MiB"), "{e}");
    }

    #[test]
    fn pong_must_end_the_unread_bytes() {
        assert!(ends_with_pong(b"PONG\r\n"));
        assert!(ends_with_pong(b"+OK\r\nPONG\r\n"));
        assert!(!ends_with_pong(b"-ERR 'x'\r\n"));
        assert!(!ends_with_pong(b"XPONG\r\n"));
    }

    #[test]
    fn own_process_is_running_and_a_dead_pid_is_not() {
        assert!(running(std::process::id()));
        assert!(open_fds(std::process::id()).is_some_and(|n| n >= 3));
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        // Exited, not reaped: a zombie counts as dead.
        std::thread::sleep(Duration::from_millis(200));
        assert!(!running(pid));
        let _ = child.wait();
    }
}
