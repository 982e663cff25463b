//! Shrinks a differing case: drops writes, frames, write splits and request headers while
//! the two servers still differ.

use std::path::Path;

use crate::diff::compare::Verdict;
use crate::diff::generate::Case;
use crate::diff::{Pair, run_pair};

/// The smallest case found that still differs, and how many runs it took. At most
/// `budget` runs (each starts both servers).
pub fn minimize(case: &Case, pair: &Pair, dir: &Path, budget: usize) -> (Case, usize) {
    let mut best = case.clone();
    let mut runs = 0;
    loop {
        let mut shrunk = false;
        for candidate in candidates(&best) {
            if runs >= budget {
                return (best, runs);
            }
            runs += 1;
            if let Ok((_, _, Verdict::Differ(_))) = run_pair(&candidate, pair, dir) {
                best = candidate;
                shrunk = true;
                break;
            }
        }
        if !shrunk {
            return (best, runs);
        }
    }
}

/// Every one-step simplification of `case`, biggest first.
fn candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    for i in (0..case.sends.len()).rev() {
        let mut c = case.clone();
        c.sends.remove(i);
        out.push(c);
    }
    for (i, send) in case.sends.iter().enumerate() {
        if send.frames.len() > 1 {
            for j in (0..send.frames.len()).rev() {
                let mut c = case.clone();
                c.sends[i].frames.remove(j);
                out.push(c);
            }
        }
    }
    for (i, send) in case.sends.iter().enumerate() {
        if send.chop.is_some() {
            let mut c = case.clone();
            c.sends[i].chop = None;
            out.push(c);
        }
    }
    if case.sends.len() > 1 {
        // Writes joined into one (fewer steps in the fixture).
        let mut c = case.clone();
        let first = c.sends.remove(0);
        c.sends[0].frames.splice(0..0, first.frames);
        c.sends[0].chop = c.sends[0].chop.or(first.chop);
        out.push(c);
    }
    for i in (0..case.headers.len()).rev() {
        let mut c = case.clone();
        c.headers.remove(i);
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::generate::generate;

    #[test]
    fn every_candidate_is_smaller() {
        let size = |c: &Case| {
            c.sends
                .iter()
                .map(|s| s.frames.len() * 2 + s.chop.map_or(0, |_| 1))
                .sum::<usize>()
                + c.sends.len()
                + c.headers.len()
        };
        for i in 0..40 {
            let case = generate(3, i);
            for c in candidates(&case) {
                assert!(size(&c) < size(&case), "case {i}");
            }
        }
    }
}
