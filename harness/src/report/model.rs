//! What a run produced, as data: verdicts, case and fixture results, one implementation's
//! run, and the differences between two runs.

use std::time::Duration;

use crate::fixture::Layer;
use crate::report::diff;
use crate::report::normalize::normalize;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold.
    Fail,
    /// Failed, but the fixture's configuration could not be applied to the target (a
    /// fixed, already running server), so the failure says nothing certain.
    Inconclusive,
    /// Not run, for a written reason.
    Skip,
}

impl Verdict {
    /// `PASS`, `FAIL`, `INCONCLUSIVE`, `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One case's result, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case name (the Go subtest or table row; `main` for a fixture without a table).
    pub name: String,
    /// How it ended.
    pub verdict: Verdict,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Expectations that did not hold (golden mismatches included).
    pub failures: Vec<String>,
    /// Remarks that qualify the result (e.g. a configuration that was not applied).
    pub notes: Vec<String>,
    /// The rendered wire transcript.
    pub transcript: String,
    /// How long the case took.
    pub duration: Duration,
    /// The close status the server sent, if any.
    pub remote_close: Option<u16>,
}

impl CaseResult {
    /// The failures, or the skip reason, or `passed`, in one line.
    pub fn summary(&self) -> String {
        match self.verdict {
            Verdict::Pass => "passed".to_owned(),
            Verdict::Skip => self.skip_reason.clone().unwrap_or_default(),
            Verdict::Fail | Verdict::Inconclusive => self.failures.join("; "),
        }
    }
}

/// One fixture's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureResult {
    /// The Go test.
    pub go_test: String,
    /// The Go file.
    pub go_source: String,
    /// The fixture layer.
    pub layer: Layer,
    /// What the Go test protects.
    pub description: String,
    /// The cases that ran (or were skipped), in fixture order.
    pub cases: Vec<CaseResult>,
}

impl FixtureResult {
    /// How many cases ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == verdict).count()
    }

    /// The sum of the case durations.
    pub fn duration(&self) -> Duration {
        self.cases.iter().map(|c| c.duration).sum()
    }
}

/// One implementation's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplRun {
    /// The implementation's name (the `agent` in index.json).
    pub name: String,
    /// How it was reached: `embedded`, the command, or the address.
    pub target: String,
    /// Results per fixture, sorted by Go test name.
    pub fixtures: Vec<FixtureResult>,
    /// Fixtures not run because their layer tests nats-ws's in-memory core (black-box runs).
    pub not_applicable: Vec<String>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl ImplRun {
    /// How many cases ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.fixtures.iter().map(|f| f.count(verdict)).sum()
    }

    /// A fixture's results by Go test name.
    pub fn fixture(&self, go_test: &str) -> Option<&FixtureResult> {
        self.fixtures.iter().find(|f| f.go_test == go_test)
    }
}

/// Where two implementations' observable behaviour differs on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDiff {
    /// The Go test.
    pub go_test: String,
    /// The case.
    pub case: String,
    /// Verdicts, A then B (`None`: the case did not run there).
    pub verdicts: [Option<Verdict>; 2],
    /// Close statuses, A then B.
    pub closes: [Option<u16>; 2],
    /// A unified diff of the normalised transcripts (empty when they are equal).
    pub transcript_diff: String,
}

/// The case key used in index.json, JUnit and HTML: `<GoTest>/<case>`.
pub fn case_key(go_test: &str, case: &str) -> String {
    format!("{go_test}/{case}")
}

/// An HTML anchor for a case of an implementation: letters, digits, `-`, `_` only.
pub fn anchor(agent: &str, go_test: &str, case: &str) -> String {
    format!("{agent}--{go_test}--{case}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Compares two runs case by case: verdict, close status and normalised transcript.
/// Cases that run in only one of them are reported too.
pub fn compare(a: &ImplRun, b: &ImplRun) -> Vec<CaseDiff> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for run in [a, b] {
        for f in &run.fixtures {
            for c in &f.cases {
                let k = (f.go_test.clone(), c.name.clone());
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    keys.sort();
    let find = |run: &ImplRun, t: &str, c: &str| -> Option<CaseResult> {
        run.fixture(t)
            .and_then(|f| f.cases.iter().find(|x| x.name == c))
            .cloned()
    };
    keys.into_iter()
        .filter_map(|(t, c)| {
            let (ra, rb) = (find(a, &t, &c), find(b, &t, &c));
            let na = ra
                .as_ref()
                .map(|r| normalize(&r.transcript))
                .unwrap_or_default();
            let nb = rb
                .as_ref()
                .map(|r| normalize(&r.transcript))
                .unwrap_or_default();
            let transcript_diff = diff::unified(&na, &nb, &a.name, &b.name, 3);
            let verdicts = [
                ra.as_ref().map(|r| r.verdict),
                rb.as_ref().map(|r| r.verdict),
            ];
            let closes = [
                ra.as_ref().and_then(|r| r.remote_close),
                rb.as_ref().and_then(|r| r.remote_close),
            ];
            let same = verdicts[0] == verdicts[1] && closes[0] == closes[1] && na == nb;
            (!same).then_some(CaseDiff {
                go_test: t,
                case: c,
                verdicts,
                closes,
                transcript_diff,
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small report used by the format tests.

    use super::*;

    pub(crate) fn case(name: &str, verdict: Verdict) -> CaseResult {
        CaseResult {
            name: name.to_owned(),
            verdict,
            skip_reason: (verdict == Verdict::Skip).then(|| "needs <nats.go> & \"jwt\"".to_owned()),
            failures: if matches!(verdict, Verdict::Fail | Verdict::Inconclusive) {
                vec!["ws: close code Some(1000), want Some(1002) <&>".to_owned()]
            } else {
                Vec::new()
            },
            notes: Vec::new(),
            transcript: "server started (x)\nws > binary fin rsv=000 len=5 \"hello\"\n".to_owned(),
            duration: Duration::from_millis(12),
            remote_close: (verdict == Verdict::Fail).then_some(1000),
        }
    }

    pub(crate) fn run(name: &str) -> ImplRun {
        ImplRun {
            name: name.to_owned(),
            target: "embedded".to_owned(),
            fixtures: vec![
                FixtureResult {
                    go_test: "TestWSPubSub".to_owned(),
                    go_source: "server/websocket_test.go".to_owned(),
                    layer: Layer::Server,
                    description: "pub & sub".to_owned(),
                    cases: vec![
                        case("no compression", Verdict::Pass),
                        case("compression", Verdict::Fail),
                    ],
                },
                FixtureResult {
                    go_test: "TestWSGet".to_owned(),
                    go_source: "server/websocket_test.go".to_owned(),
                    layer: Layer::Codec,
                    description: "reads".to_owned(),
                    cases: vec![case("main", Verdict::Skip)],
                },
            ],
            not_applicable: Vec::new(),
            elapsed: Duration::from_millis(30),
        }
    }
}
