//! Each catalog test's status per implementation: passing, failing, skipped (with the
//! written reason), or not ported.

use std::collections::BTreeMap;

use crate::catalog::{CATALOG, GoTest};
use crate::fixture::{Fixture, Layer};
use crate::report::model::{ImplRun, Verdict};

/// A Go test's status for one implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Ported; every case that ran passed (some may be skipped).
    Passing {
        /// Cases passed.
        passed: usize,
        /// Cases skipped.
        skipped: usize,
    },
    /// Ported; some case failed.
    Failing {
        /// Cases failed.
        failed: usize,
        /// Cases in all.
        cases: usize,
    },
    /// Ported; no failure, but some failure could not be judged (fixed target).
    Inconclusive {
        /// Cases inconclusive.
        inconclusive: usize,
        /// Cases in all.
        cases: usize,
    },
    /// Ported, but every case is skipped, for these reasons.
    Skipped {
        /// The written reasons, distinct, in order.
        reasons: Vec<String>,
    },
    /// Ported, but not run in this invocation (filtered out, not applicable, `--no-run`).
    NotRun {
        /// Why.
        reason: String,
    },
    /// No `fixtures/<name>.yaml`.
    NotPorted,
}

impl Status {
    /// A short label: `passing`, `failing`, `inconclusive`, `skipped`, `not run`,
    /// `not ported`.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Passing { .. } => "passing",
            Status::Failing { .. } => "failing",
            Status::Inconclusive { .. } => "inconclusive",
            Status::Skipped { .. } => "skipped",
            Status::NotRun { .. } => "not run",
            Status::NotPorted => "not ported",
        }
    }

    /// Counts or reasons, for a table cell.
    pub fn detail(&self) -> String {
        match self {
            Status::Passing { passed, skipped: 0 } => format!("{passed} cases"),
            Status::Passing { passed, skipped } => format!("{passed} cases, {skipped} skipped"),
            Status::Failing { failed, cases } => format!("{failed} of {cases} cases failed"),
            Status::Inconclusive {
                inconclusive,
                cases,
            } => format!("{inconclusive} of {cases} cases inconclusive"),
            Status::Skipped { reasons } => reasons.join("; "),
            Status::NotRun { reason } => reason.clone(),
            Status::NotPorted => String::new(),
        }
    }

    /// The status labels in report order.
    pub const LABELS: [&'static str; 6] = [
        "passing",
        "failing",
        "inconclusive",
        "skipped",
        "not run",
        "not ported",
    ];
}

/// One catalog row: the Go test, its fixture's layer if ported, a status per implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The Go test.
    pub test: GoTest,
    /// The fixture's layer, when there is a fixture.
    pub fixture_layer: Option<Layer>,
    /// One status per implementation, in [`Coverage::implementations`] order.
    pub statuses: Vec<Status>,
}

/// The porting view of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The implementations, in run order.
    pub implementations: Vec<String>,
    /// One row per catalog test, in catalog order.
    pub rows: Vec<Row>,
    /// Fixtures whose Go test is not in the catalog.
    pub extra: Vec<String>,
}

impl Coverage {
    /// Computes the statuses from the fixtures on disk (`ported`, all of them, unfiltered)
    /// and the runs; with no runs, statuses say only ported or not.
    pub fn compute(ported: &[Fixture], runs: &[ImplRun]) -> Coverage {
        let by_name: BTreeMap<&str, &Fixture> =
            ported.iter().map(|f| (f.go_test.as_str(), f)).collect();
        let rows = CATALOG
            .iter()
            .map(|test| {
                let fixture = by_name.get(test.name).copied();
                let statuses = if runs.is_empty() {
                    vec![static_status(fixture)]
                } else {
                    runs.iter()
                        .map(|r| run_status(fixture, r, test.name))
                        .collect()
                };
                Row {
                    test: *test,
                    fixture_layer: fixture.map(|f| f.layer),
                    statuses,
                }
            })
            .collect();
        let extra = ported
            .iter()
            .filter(|f| !CATALOG.iter().any(|t| t.name == f.go_test))
            .map(|f| f.go_test.clone())
            .collect();
        let implementations = if runs.is_empty() {
            vec!["fixtures".to_owned()]
        } else {
            runs.iter().map(|r| r.name.clone()).collect()
        };
        Coverage {
            implementations,
            rows,
            extra,
        }
    }

    /// Per catalog layer (in first-appearance order), then `total`: for each
    /// implementation, the number of tests per status label ([`Status::LABELS`] order).
    pub fn totals(&self) -> Vec<(String, Vec<[usize; 6]>)> {
        let mut layers: Vec<String> = Vec::new();
        for r in &self.rows {
            if !layers.iter().any(|l| l == r.test.layer) {
                layers.push(r.test.layer.to_owned());
            }
        }
        let count = |rows: &mut dyn Iterator<Item = &Row>| {
            let mut per_impl = vec![[0usize; 6]; self.implementations.len()];
            for r in rows {
                for (i, s) in r.statuses.iter().enumerate() {
                    if let Some(k) = Status::LABELS.iter().position(|l| *l == s.label())
                        && let Some(slot) = per_impl.get_mut(i)
                    {
                        slot[k] += 1;
                    }
                }
            }
            per_impl
        };
        let mut out: Vec<(String, Vec<[usize; 6]>)> = layers
            .into_iter()
            .map(|l| {
                let c = count(&mut self.rows.iter().filter(|r| r.test.layer == l));
                (l, c)
            })
            .collect();
        out.push(("total".to_owned(), count(&mut self.rows.iter())));
        out
    }
}

fn static_status(fixture: Option<&Fixture>) -> Status {
    match fixture {
        None => Status::NotPorted,
        Some(f) => match &f.skip {
            Some(reason) => Status::Skipped {
                reasons: vec![reason.clone()],
            },
            None => Status::NotRun {
                reason: "ported (not run)".to_owned(),
            },
        },
    }
}

fn run_status(fixture: Option<&Fixture>, run: &ImplRun, name: &str) -> Status {
    let Some(fixture) = fixture else {
        return Status::NotPorted;
    };
    if run.not_applicable.iter().any(|n| n == name) {
        return Status::NotRun {
            reason: format!(
                "{} layer: tests nats-ws's in-memory core, not applicable to an external server",
                fixture.layer.name()
            ),
        };
    }
    let Some(result) = run.fixture(name) else {
        return Status::NotRun {
            reason: "filtered out".to_owned(),
        };
    };
    let cases = result.cases.len();
    let (passed, failed, inconclusive, skipped) = (
        result.count(Verdict::Pass),
        result.count(Verdict::Fail),
        result.count(Verdict::Inconclusive),
        result.count(Verdict::Skip),
    );
    if failed > 0 {
        Status::Failing { failed, cases }
    } else if inconclusive > 0 {
        Status::Inconclusive {
            inconclusive,
            cases,
        }
    } else if passed == 0 {
        let mut reasons: Vec<String> = Vec::new();
        for c in &result.cases {
            if let Some(r) = &c.skip_reason
                && !reasons.contains(r)
            {
                reasons.push(r.clone());
            }
        }
        Status::Skipped { reasons }
    } else {
        Status::Passing { passed, skipped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::sample;

    #[test]
    fn catalog_matches_go_tests_md() {
        let ws = CATALOG
            .iter()
            .filter(|t| t.file == "server/websocket_test.go")
            .count();
        assert_eq!(ws, 73);
        assert_eq!(CATALOG.len(), 126);
        let mut names: Vec<&str> = CATALOG.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len(), "duplicate names");
        // §1.1 counts per layer.
        let layer = |l: &str| {
            CATALOG
                .iter()
                .filter(|t| t.section == "§1" && t.layer == l)
                .count()
        };
        assert_eq!(layer("frame-decode"), 11);
        assert_eq!(layer("compression"), 11);
        assert_eq!(layer("handshake/upgrade"), 12);
        assert_eq!(layer("auth"), 8);
        assert_eq!(layer("misc"), 2);
    }

    #[test]
    fn statuses_from_a_run() {
        let yaml = |name: &str, layer: &str| -> Fixture {
            let text = format!(
                "go_test: {name}\ngo_source: x\nlayer: {layer}\ndescription: d\nsteps: []\n"
            );
            match Fixture::parse(&text) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            }
        };
        let ported = vec![
            yaml("TestWSPubSub", "server"),
            yaml("TestWSGet", "codec"),
            yaml("TestWSUnmask", "frame"),
            yaml("TestNotInCatalog", "frame"),
        ];
        let cov = Coverage::compute(&ported, &[sample::run("nats-ws")]);
        let status = |n: &str| {
            cov.rows
                .iter()
                .find(|r| r.test.name == n)
                .map(|r| r.statuses[0].clone())
        };
        assert_eq!(
            status("TestWSPubSub"),
            Some(Status::Failing {
                failed: 1,
                cases: 2
            })
        );
        assert_eq!(
            status("TestWSGet"),
            Some(Status::Skipped {
                reasons: vec!["needs <nats.go> & \"jwt\"".to_owned()]
            })
        );
        assert_eq!(status("TestWSUnmask").map(|s| s.label()), Some("not run"));
        assert_eq!(status("TestWSAdvertise"), Some(Status::NotPorted));
        assert_eq!(cov.extra, vec!["TestNotInCatalog".to_owned()]);
        let totals = cov.totals();
        let (name, total) = &totals[totals.len() - 1];
        assert_eq!(name, "total");
        assert_eq!(total[0], [0, 1, 0, 1, 1, 123]);
    }
}
