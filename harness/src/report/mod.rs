//! Run reports: the results of one or more implementations, written as a self-contained
//! HTML matrix, an Autobahn-shaped `index.json` (plus `index-stable.json` without
//! durations, for baselines), JUnit XML, and `coverage.json`.
//!
//! ```text
//! CaseOutcome ──► CaseResult ──► FixtureResult ──► ImplRun ─┐
//!                                                           ├─► Report ──► index.html
//!             catalog::CATALOG ──► coverage::Coverage ──────┘            index.json, index-stable.json
//!                                                                        junit.xml, coverage.json
//! ```

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod normalize;

pub mod coverage;
pub mod invocation;
pub mod model;

pub use invocation::Report;
pub use model::{CaseDiff, CaseResult, FixtureResult, ImplRun, Verdict, anchor, case_key, compare};
pub use normalize::normalize;

use std::path::Path;

/// Writes every report format into `dir` (created if needed); returns the files written.
pub fn write_all(report: &Report, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("index.html", html::render(report)),
        ("index.json", json::index(&report.runs, true)),
        ("index-stable.json", json::index(&report.runs, false)),
        ("junit.xml", junit::render(&report.runs)),
        ("coverage.json", json::coverage(&report.coverage)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::model::sample;

    #[test]
    fn compare_reports_verdict_close_and_transcript() {
        let a = sample::run("a");
        let mut b = sample::run("b");
        assert!(compare(&a, &b).is_empty());
        b.fixtures[0].cases[0]
            .transcript
            .push_str("ws < close code=1000\n");
        b.fixtures[0].cases[1].remote_close = Some(1002);
        let d = compare(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].case, "compression");
        assert_eq!(d[0].closes, [Some(1000), Some(1002)]);
        assert!(d[0].transcript_diff.is_empty());
        assert_eq!(d[1].case, "no compression");
        assert!(d[1].transcript_diff.contains("+ws < close code=1000"));
    }

    #[test]
    fn compare_ignores_ports_and_durations() {
        let a = sample::run("a");
        let mut b = sample::run("b");
        b.fixtures[0].cases[0].transcript =
            a.fixtures[0].cases[0].transcript.replace("(x)", "(other)");
        b.fixtures[0].cases[0].duration = Duration::from_secs(3);
        assert!(compare(&a, &b).is_empty());
    }

    #[test]
    fn anchors_are_plain() {
        assert_eq!(anchor("go", "TestX", "a b/c"), "go--TestX--a_b_c");
    }
}
