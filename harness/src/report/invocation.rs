//! Everything one invocation of the conformance run produced: the runs, their
//! differences, and the porting coverage.

use crate::report::coverage::Coverage;
use crate::report::model::{CaseDiff, ImplRun};

/// Everything one invocation produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// One run per implementation (two for a comparison).
    pub runs: Vec<ImplRun>,
    /// Differences between the two runs of a comparison.
    pub diffs: Vec<CaseDiff>,
    /// The porting view.
    pub coverage: Coverage,
}
