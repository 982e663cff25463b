//! Results: every run, medians per cell and server, ratios to the baseline server, as
//! JSON and as a Markdown table.

use std::collections::BTreeMap;

use crate::bench::cells::Measured;
use crate::bench::idle::IdleResult;
use crate::bench::latency::Phase;
use crate::bench::{Cell, PayloadKind, median};

/// One run of one cell against one server.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CellRun {
    /// Server name.
    pub server: String,
    /// Repetition (0-based).
    pub rep: usize,
    /// Go benchmark name.
    pub name: String,
    /// The cell.
    pub cell: Cell,
    /// What it measured, if it succeeded.
    pub measured: Option<Measured>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Medians of one server in one cell.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerMedian {
    /// Server name.
    pub server: String,
    /// Median messages per second (pub: ingested by all connections; sub: delivered).
    pub msgs_per_sec: f64,
    /// Median Go-style ns/op.
    pub ns_per_op: f64,
    /// Successful runs.
    pub runs: usize,
    /// Failed runs.
    pub errors: usize,
    /// Every successful run's msgs/s (to judge the noise).
    pub samples: Vec<f64>,
}

/// Medians per cell with ratios to the baseline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CellSummary {
    /// Go benchmark name.
    pub name: String,
    /// The cell.
    pub cell: Cell,
    /// One entry per server.
    pub servers: Vec<ServerMedian>,
    /// msgs/s of each non-baseline server divided by the baseline's.
    pub ratios: BTreeMap<String, f64>,
}

/// One idle run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IdleRun {
    /// Server name.
    pub server: String,
    /// Repetition.
    pub rep: usize,
    /// TLS on the listener.
    pub tls: bool,
    /// The result.
    pub result: Option<IdleResult>,
    /// Why it failed.
    pub error: Option<String>,
}

/// One latency run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencyRun {
    /// Server name.
    pub server: String,
    /// Repetition.
    pub rep: usize,
    /// TLS on the listener.
    pub tls: bool,
    /// permessage-deflate.
    pub compress: bool,
    /// The phases.
    pub phases: Vec<Phase>,
    /// Why it failed.
    pub error: Option<String>,
}

/// How the run was made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Meta {
    /// The command line.
    pub command: String,
    /// UTC start, seconds since the epoch.
    pub started_unix: u64,
    /// Server names in order; the first is the baseline for ratios.
    pub servers: Vec<String>,
    /// TLS on the WebSocket listener.
    pub tls: bool,
    /// Payload generator.
    pub payload: PayloadKind,
    /// Repetitions.
    pub reps: usize,
    /// Duration (ms) or message count per cell.
    pub amount: String,
    /// Online CPUs.
    pub cpus: usize,
}

/// Everything one invocation produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// How it was made.
    pub meta: Meta,
    /// Every cell run.
    pub runs: Vec<CellRun>,
    /// Medians and ratios.
    pub summary: Vec<CellSummary>,
    /// Idle runs.
    pub idle: Vec<IdleRun>,
    /// Latency runs.
    pub latency: Vec<LatencyRun>,
}

/// Medians per cell and server, in the order cells first ran.
pub fn summarize(runs: &[CellRun], servers: &[String]) -> Vec<CellSummary> {
    let mut order: Vec<(String, Cell)> = Vec::new();
    for r in runs {
        if !order.iter().any(|(n, _)| n == &r.name) {
            order.push((r.name.clone(), r.cell));
        }
    }
    order
        .into_iter()
        .map(|(name, cell)| {
            let per: Vec<ServerMedian> = servers
                .iter()
                .map(|s| {
                    let mine: Vec<&CellRun> = runs
                        .iter()
                        .filter(|r| &r.server == s && r.name == name)
                        .collect();
                    let ok: Vec<&Measured> =
                        mine.iter().filter_map(|r| r.measured.as_ref()).collect();
                    let rates: Vec<f64> = ok.iter().map(|m| m.msgs_per_sec).collect();
                    let ns: Vec<f64> = ok.iter().map(|m| m.ns_per_op).collect();
                    ServerMedian {
                        server: s.clone(),
                        msgs_per_sec: median(&rates),
                        ns_per_op: median(&ns),
                        runs: ok.len(),
                        errors: mine.len() - ok.len(),
                        samples: rates,
                    }
                })
                .collect();
            let mut ratios = BTreeMap::new();
            if let Some(base) = per.first().filter(|b| b.msgs_per_sec > 0.0) {
                for s in per.iter().skip(1) {
                    ratios.insert(s.server.clone(), s.msgs_per_sec / base.msgs_per_sec);
                }
            }
            CellSummary {
                name,
                cell,
                servers: per,
                ratios,
            }
        })
        .collect()
}

/// Human-readable rate.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The summary as a Markdown table: msgs/s medians, the spread, and ratios.
pub fn markdown(summary: &[CellSummary], servers: &[String]) -> String {
    let mut out = String::from("| cell |");
    for s in servers {
        out.push_str(&format!(" {s} msgs/s (min–max) |"));
    }
    for s in servers.iter().skip(1) {
        out.push_str(&format!(" {s} / {} |", servers[0]));
    }
    out.push('\n');
    out.push_str(&"|---".repeat(1 + servers.len() + servers.len().saturating_sub(1)));
    out.push_str("|\n");
    for c in summary {
        out.push_str(&format!(
            "| {} |",
            c.name.trim_start_matches("Benchmark_WS_")
        ));
        for m in &c.servers {
            if m.runs == 0 {
                out.push_str(&format!(" failed ({}) |", m.errors));
                continue;
            }
            let lo = m.samples.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = m.samples.iter().copied().fold(0.0, f64::max);
            let err = if m.errors > 0 {
                format!(", {} failed", m.errors)
            } else {
                String::new()
            };
            out.push_str(&format!(
                " {} ({}–{}{err}) |",
                rate(m.msgs_per_sec),
                rate(lo),
                rate(hi)
            ));
        }
        for s in servers.iter().skip(1) {
            match c.ratios.get(s) {
                Some(r) => out.push_str(&format!(" {r:.2}× |")),
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out
}
