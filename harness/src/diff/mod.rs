//! Differential fuzzing: seeded sessions run against two servers, started per case from
//! the same configuration, and their normalised outcomes compared.
//!
//! ```text
//! generate (seed, index) ─► Case ─► run (server A) ─► Outcome ─┐
//!                              └──► run (server B) ─► Outcome ─┴► compare ─► Verdict
//!   Differ ─► minimize (drop writes, frames, splits, headers) ─► emit (a fixture)
//! generate ─► soak: the cases against ONE server per configuration, liveness + RSS
//!   checked after each
//! ```

pub mod compare;
pub mod emit;
pub mod generate;
pub mod minimize;
pub mod run;
pub mod soak;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use compare::Verdict;
use generate::{Case, generate};
use run::{Outcome, run_case};

/// The two servers: commands with `{conf}`, and their names.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Server A's command.
    pub a: String,
    /// Server B's command (the reference an emitted fixture expects).
    pub b: String,
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case index.
    pub index: u64,
    /// The verdict, or why the case could not run (a server did not start).
    pub verdict: Result<Verdict, String>,
}

/// Runs `case` against both servers (A, then B) and compares.
pub fn run_pair(
    case: &Case,
    pair: &Pair,
    dir: &Path,
) -> Result<(Outcome, Outcome, Verdict), String> {
    let name = format!("{}-{}", case.seed, case.index);
    let a = run_case(case, &pair.a, dir, &format!("{name}-a"))?;
    let b = run_case(case, &pair.b, dir, &format!("{name}-b"))?;
    let v = compare::compare(&a, &b);
    Ok((a, b, v))
}

/// Runs cases `0..cases` of `seed` on `jobs` threads; `progress` sees each result as it
/// comes. Results are in index order.
pub fn campaign(
    pair: &Pair,
    seed: u64,
    cases: u64,
    jobs: usize,
    dir: &Path,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let next = AtomicU64::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for job in 0..jobs.max(1) {
            let job_dir: PathBuf = dir.join(format!("job{job}"));
            let (next, results) = (&next, &results);
            s.spawn(move || {
                let _ = std::fs::create_dir_all(&job_dir);
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= cases {
                        break;
                    }
                    let case = generate(seed, index);
                    let verdict = run_pair(&case, pair, &job_dir).map(|(_, _, v)| v);
                    let r = CaseResult { index, verdict };
                    progress(&r);
                    if let Ok(mut all) = results.lock() {
                        all.push(r);
                    }
                }
            });
        }
    });
    let mut all = results.into_inner().unwrap_or_default();
    all.sort_by_key(|r| r.index);
    all
}

/// Counts of a campaign's verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Identical outcomes.
    pub same: usize,
    /// Equal but for Go's racy close.
    pub racy: usize,
    /// Documented differences, by docs/CONFORMANCE.md row.
    pub documented: Vec<(u8, usize)>,
    /// Undocumented differences.
    pub differ: usize,
    /// Cases that could not run.
    pub errors: usize,
}

impl Tally {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match &r.verdict {
                Ok(Verdict::Same) => t.same += 1,
                Ok(Verdict::Racy) => t.racy += 1,
                Ok(Verdict::Documented(row)) => {
                    match t.documented.iter_mut().find(|(r, _)| r == row) {
                        Some((_, n)) => *n += 1,
                        None => t.documented.push((*row, 1)),
                    }
                }
                Ok(Verdict::Differ(_)) => t.differ += 1,
                Err(_) => t.errors += 1,
            }
        }
        t.documented.sort_unstable();
        t
    }
}

/// The campaign as JSON: counts, and each difference with its replay key.
pub fn json_report(seed: u64, results: &[CaseResult]) -> serde_json::Value {
    let t = Tally::of(results);
    let differences: Vec<serde_json::Value> = results
        .iter()
        .filter_map(|r| match &r.verdict {
            Ok(Verdict::Differ(lines)) => Some(serde_json::json!({
                "index": r.index,
                "replay": format!("{seed}:{}", r.index),
                "details": lines,
            })),
            Err(e) => Some(serde_json::json!({
                "index": r.index,
                "replay": format!("{seed}:{}", r.index),
                "error": e,
            })),
            _ => None,
        })
        .collect();
    let documented: serde_json::Map<String, serde_json::Value> = t
        .documented
        .iter()
        .map(|(row, n)| (format!("row {row}"), serde_json::json!(n)))
        .collect();
    serde_json::json!({
        "seed": seed,
        "cases": results.len(),
        "same": t.same,
        "racy": t.racy,
        "documented": documented,
        "differ": t.differ,
        "errors": t.errors,
        "differences": differences,
    })
}
