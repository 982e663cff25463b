//! `index.json` in the shape of Autobahn's (agent → case → {behavior, behaviorClose,
//! duration, remoteCloseCode, reportfile}), its stable variant without durations, and
//! `coverage.json`.
//!
//! Mapping: PASS → `OK`, FAIL → `FAILED`, INCONCLUSIVE → `INFORMATIONAL`, SKIP →
//! `UNIMPLEMENTED`. `behaviorClose` is read from the failure texts: `WRONG CODE` when a
//! close status differed, `FAILED` when the close frame was missing or its reason differed,
//! otherwise `OK` (the failure was not about closing); `INFORMATIONAL` / `UNIMPLEMENTED`
//! follow the behaviour. Keys are sorted (BTreeMap, and struct fields in alphabetical
//! order), so `index-stable.json` diffs cleanly against a committed baseline.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::coverage::{Coverage, Status};
use crate::report::model::{CaseResult, ImplRun, Verdict, anchor, case_key};

/// One case in index.json. Field order is alphabetical on purpose (sorted keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexEntry {
    /// `OK`, `FAILED`, `INFORMATIONAL` or `UNIMPLEMENTED`.
    pub behavior: &'static str,
    /// `OK`, `FAILED`, `WRONG CODE`, `INFORMATIONAL` or `UNIMPLEMENTED`.
    #[serde(rename = "behaviorClose")]
    pub behavior_close: &'static str,
    /// Milliseconds (absent in index-stable.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// The close status the server sent, or null.
    #[serde(rename = "remoteCloseCode")]
    pub remote_close_code: Option<u16>,
    /// Where the case is shown: `index.html#<anchor>`.
    pub reportfile: String,
}

/// The Autobahn behaviour of a case.
pub fn behavior(c: &CaseResult) -> &'static str {
    match c.verdict {
        Verdict::Pass => "OK",
        Verdict::Fail => "FAILED",
        Verdict::Inconclusive => "INFORMATIONAL",
        Verdict::Skip => "UNIMPLEMENTED",
    }
}

/// The Autobahn closing behaviour of a case.
pub fn behavior_close(c: &CaseResult) -> &'static str {
    match c.verdict {
        Verdict::Pass => "OK",
        Verdict::Inconclusive => "INFORMATIONAL",
        Verdict::Skip => "UNIMPLEMENTED",
        Verdict::Fail => {
            if c.failures.iter().any(|f| f.contains("close code")) {
                "WRONG CODE"
            } else if c
                .failures
                .iter()
                .any(|f| f.contains("no close frame") || f.contains("close reason"))
            {
                "FAILED"
            } else {
                "OK"
            }
        }
    }
}

/// The index of every run: pretty JSON with a trailing newline.
pub fn index(runs: &[ImplRun], with_durations: bool) -> String {
    let mut agents: BTreeMap<&str, BTreeMap<String, IndexEntry>> = BTreeMap::new();
    for run in runs {
        let cases = agents.entry(&run.name).or_default();
        for f in &run.fixtures {
            for c in &f.cases {
                let duration = u64::try_from(c.duration.as_millis()).unwrap_or(u64::MAX);
                cases.insert(
                    case_key(&f.go_test, &c.name),
                    IndexEntry {
                        behavior: behavior(c),
                        behavior_close: behavior_close(c),
                        duration: with_durations.then_some(duration),
                        remote_close_code: c.remote_close,
                        reportfile: format!(
                            "index.html#{}",
                            anchor(&run.name, &f.go_test, &c.name)
                        ),
                    },
                );
            }
        }
    }
    pretty(&agents)
}

#[derive(Serialize)]
struct CoverageJson<'a> {
    implementations: &'a [String],
    tests: Vec<CoverageTest<'a>>,
    totals: BTreeMap<&'a str, BTreeMap<&'a str, BTreeMap<&'static str, usize>>>,
    extra_fixtures: &'a [String],
}

#[derive(Serialize)]
struct CoverageTest<'a> {
    name: &'a str,
    file: &'a str,
    layer: &'a str,
    section: &'a str,
    fixture_layer: Option<&'static str>,
    status: BTreeMap<&'a str, CoverageStatus>,
}

#[derive(Serialize)]
struct CoverageStatus {
    status: &'static str,
    detail: String,
}

/// `coverage.json`: every catalog test with its status per implementation, and totals per
/// layer (layer → implementation → status → count).
pub fn coverage(cov: &Coverage) -> String {
    let tests = cov
        .rows
        .iter()
        .map(|r| CoverageTest {
            name: r.test.name,
            file: r.test.file,
            layer: r.test.layer,
            section: r.test.section,
            fixture_layer: r.fixture_layer.map(|l| l.name()),
            status: cov
                .implementations
                .iter()
                .zip(&r.statuses)
                .map(|(i, s)| {
                    (
                        i.as_str(),
                        CoverageStatus {
                            status: s.label(),
                            detail: s.detail(),
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let totals_rows = cov.totals();
    let mut totals: BTreeMap<&str, BTreeMap<&str, BTreeMap<&'static str, usize>>> = BTreeMap::new();
    for (layer, per_impl) in &totals_rows {
        let entry = totals.entry(layer.as_str()).or_default();
        for (name, counts) in cov.implementations.iter().zip(per_impl) {
            entry.insert(
                name.as_str(),
                Status::LABELS
                    .iter()
                    .copied()
                    .zip(counts.iter().copied())
                    .collect(),
            );
        }
    }
    pretty(&CoverageJson {
        implementations: &cov.implementations,
        tests,
        totals,
        extra_fixtures: &cov.extra,
    })
}

fn pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::sample;

    #[test]
    fn index_has_autobahn_shape() {
        let text = index(&[sample::run("nats-ws"), sample::run("nats-server")], true);
        let v: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let agents: Vec<&String> = v
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(agents, ["nats-server", "nats-ws"]);
        let case = &v["nats-ws"]["TestWSPubSub/compression"];
        assert_eq!(case["behavior"], "FAILED");
        assert_eq!(case["behaviorClose"], "WRONG CODE");
        assert_eq!(case["duration"], 12);
        assert_eq!(case["remoteCloseCode"], 1000);
        assert_eq!(
            case["reportfile"],
            "index.html#nats-ws--TestWSPubSub--compression"
        );
        let ok = &v["nats-ws"]["TestWSPubSub/no compression"];
        assert_eq!(ok["behavior"], "OK");
        assert_eq!(ok["behaviorClose"], "OK");
        assert!(ok["remoteCloseCode"].is_null());
        assert_eq!(v["nats-ws"]["TestWSGet/main"]["behavior"], "UNIMPLEMENTED");
    }

    #[test]
    fn stable_index_has_no_durations_and_sorted_keys() {
        let text = index(&[sample::run("nats-ws")], false);
        assert!(!text.contains("duration"));
        let b = text.find("\"behavior\"").unwrap_or(usize::MAX);
        let bc = text.find("\"behaviorClose\"").unwrap_or(0);
        let r = text.find("\"remoteCloseCode\"").unwrap_or(0);
        let f = text.find("\"reportfile\"").unwrap_or(0);
        assert!(b < bc && bc < r && r < f, "keys not sorted:\n{text}");
        // Cases sorted by key: TestWSGet before TestWSPubSub.
        assert!(text.find("TestWSGet/main") < text.find("TestWSPubSub/compression"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn behavior_close_from_failures() {
        let mut c = sample::case("x", Verdict::Fail);
        c.failures = vec!["ws: no close frame (ended: None)".to_owned()];
        assert_eq!(behavior_close(&c), "FAILED");
        c.failures = vec!["ws: expected PONG".to_owned()];
        assert_eq!(behavior_close(&c), "OK");
        assert_eq!(
            behavior_close(&sample::case("x", Verdict::Inconclusive)),
            "INFORMATIONAL"
        );
    }

    #[test]
    fn coverage_json_lists_every_catalog_test() {
        let cov = Coverage::compute(&[], &[sample::run("nats-ws")]);
        let v: serde_json::Value = match serde_json::from_str(&coverage(&cov)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(v["tests"].as_array().map(Vec::len), Some(126));
        assert_eq!(v["tests"][0]["status"]["nats-ws"]["status"], "not ported");
        assert_eq!(v["totals"]["total"]["nats-ws"]["not ported"], 126);
    }
}
