//! Running fixtures: each case gives a list of failures and a transcript.

mod codec;
mod handshake;
mod options;

pub use handshake::{FIXED_DATE, REMOTE, build_request, parse_response};
pub use options::field;

use crate::fixture::{Case, Fixture, Layer, Setup};
use crate::transcript::Transcript;

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case name.
    pub name: String,
    /// Why it was skipped, if it was.
    pub skipped: Option<String>,
    /// Each expectation that did not hold.
    pub failures: Vec<String>,
    /// What happened, for the golden snapshot.
    pub transcript: Transcript,
}

impl CaseOutcome {
    /// Run, and every expectation held.
    pub fn passed(&self) -> bool {
        self.skipped.is_none() && self.failures.is_empty()
    }
}

/// Runs every case of a fixture in memory.
pub fn run_fixture(fixture: &Fixture) -> Vec<CaseOutcome> {
    fixture
        .all_cases()
        .into_iter()
        .map(|case| {
            let skipped = fixture.skip.clone().or_else(|| case.skip.clone());
            if let Some(reason) = skipped {
                return CaseOutcome {
                    name: case.name,
                    skipped: Some(reason),
                    failures: Vec::new(),
                    transcript: Transcript::default(),
                };
            }
            run_case(fixture.layer, &fixture.setup, &case)
        })
        .collect()
}

fn run_case(layer: Layer, base: &Setup, case: &Case) -> CaseOutcome {
    let setup = merge(base, case.setup.as_ref());
    let (failures, transcript) = match layer {
        Layer::Frame | Layer::Codec | Layer::Handshake | Layer::Options => {
            codec::run(&setup, &case.steps)
        }
    };
    CaseOutcome {
        name: case.name.clone(),
        skipped: None,
        failures,
        transcript,
    }
}

fn merge(base: &Setup, over: Option<&Setup>) -> Setup {
    let Some(o) = over else {
        return base.clone();
    };
    Setup {
        masking: o.masking.or(base.masking),
        compression: o.compression.or(base.compression),
        framing: o.framing.or(base.framing),
        write_mask_keys: o
            .write_mask_keys
            .clone()
            .or_else(|| base.write_mask_keys.clone()),
        max_payload: o.max_payload.or(base.max_payload),
        config: o.config.clone().or_else(|| base.config.clone()),
        mqtt_enabled: o.mqtt_enabled.or(base.mqtt_enabled),
    }
}

/// The snapshot name of a case: `<GoTest>@<case>` with spaces and slashes as `_`.
pub fn snapshot_name(go_test: &str, case: &str) -> String {
    let case: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{go_test}@{case}")
}
