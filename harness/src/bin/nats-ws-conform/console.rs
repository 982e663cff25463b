//! What the binary prints: the run summary, the fixture list, the coverage table, and the
//! differences of a comparison.

use nats_ws_harness::fixture::Fixture;
use nats_ws_harness::report::coverage::{Coverage, Status};
use nats_ws_harness::report::{CaseDiff, ImplRun, Verdict};

/// The per-fixture table, then skips, inconclusive cases and failures, one per line.
pub fn summary(run: &ImplRun) {
    println!(
        "\n{} ({})\n{:<58} {:<9} {:>5} {:>5} {:>5}{}",
        run.name,
        run.target,
        "fixture",
        "layer",
        "pass",
        "fail",
        "skip",
        if run.count(Verdict::Inconclusive) > 0 {
            "  inconclusive"
        } else {
            ""
        }
    );
    for f in &run.fixtures {
        let inc = f.count(Verdict::Inconclusive);
        println!(
            "{:<58} {:<9} {:>5} {:>5} {:>5}{}",
            f.go_test,
            f.layer.name(),
            f.count(Verdict::Pass),
            f.count(Verdict::Fail),
            f.count(Verdict::Skip),
            if inc > 0 {
                format!("  {inc:>12}")
            } else {
                String::new()
            }
        );
    }
    let cases: usize = run.fixtures.iter().map(|f| f.cases.len()).sum();
    println!(
        "\n{} fixtures, {cases} cases: {} passed, {} failed, {} inconclusive, {} skipped ({:.2?})",
        run.fixtures.len(),
        run.count(Verdict::Pass),
        run.count(Verdict::Fail),
        run.count(Verdict::Inconclusive),
        run.count(Verdict::Skip),
        run.elapsed
    );
    if !run.not_applicable.is_empty() {
        println!(
            "{} in-memory fixtures not applicable to an external server (they test nats-ws's own core; `list` shows them)",
            run.not_applicable.len()
        );
    }
    for (title, verdict) in [
        ("skipped", Verdict::Skip),
        (
            "inconclusive (the fixture's configuration could not be applied to a fixed target)",
            Verdict::Inconclusive,
        ),
        ("failures", Verdict::Fail),
    ] {
        let lines: Vec<String> = run
            .fixtures
            .iter()
            .flat_map(|f| {
                f.cases
                    .iter()
                    .filter(move |c| c.verdict == verdict)
                    .flat_map(move |c| {
                        let msgs = match verdict {
                            Verdict::Skip => vec![c.skip_reason.clone().unwrap_or_default()],
                            _ => c.failures.clone(),
                        };
                        msgs.into_iter()
                            .map(move |m| format!("  {} / {}: {m}", f.go_test, c.name))
                    })
            })
            .collect();
        if !lines.is_empty() {
            println!("\n{title}:");
            for l in lines {
                println!("{l}");
            }
        }
    }
}

/// One line of coverage totals per implementation.
pub fn coverage_line(cov: &Coverage) {
    let totals = cov.totals();
    let Some((_, per_impl)) = totals.last() else {
        return;
    };
    for (name, counts) in cov.implementations.iter().zip(per_impl) {
        let parts: Vec<String> = Status::LABELS
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(l, n)| format!("{n} {l}"))
            .collect();
        println!(
            "\ncoverage ({name}): {} Go WebSocket tests: {} (`coverage` for the list)",
            cov.rows.len(),
            parts.join(", ")
        );
    }
    if !cov.extra.is_empty() {
        println!(
            "{} fixtures are not Go WebSocket tests of the catalog (e.g. adapted Autobahn cases)",
            cov.extra.len()
        );
    }
}

/// The fixture list.
pub fn list(fixtures: &[Fixture], filter: Option<&str>) {
    println!(
        "{:<58} {:<9} {:>5} {:>5}  notes",
        "fixture", "layer", "cases", "skip"
    );
    let mut per_layer: Vec<(&str, usize, usize)> = Vec::new();
    let mut reasons = Vec::new();
    for f in fixtures {
        let cases: Vec<_> = f
            .all_cases()
            .into_iter()
            .filter(|c| filter.is_none_or(|p| f.go_test.contains(p) || c.name.contains(p)))
            .collect();
        if cases.is_empty() {
            continue;
        }
        let skipped = if f.skip.is_some() {
            cases.len()
        } else {
            cases.iter().filter(|c| c.skip.is_some()).count()
        };
        let mut notes = Vec::new();
        if f.layer.name() != "server" {
            notes.push("in-memory (embedded only)");
        }
        if f.in_process_only.is_some() {
            notes.push("in-process only");
        }
        if f.pending.is_some() {
            notes.push("pending on nats-ws");
        }
        println!(
            "{:<58} {:<9} {:>5} {:>5}  {}",
            f.go_test,
            f.layer.name(),
            cases.len(),
            skipped,
            notes.join(", ")
        );
        if let Some(r) = &f.skip {
            reasons.push(format!("  {}: skipped: {r}", f.go_test));
        }
        for c in cases.iter().filter(|_| f.skip.is_none()) {
            if let Some(r) = &c.skip {
                reasons.push(format!("  {} / {}: skipped: {r}", f.go_test, c.name));
            }
        }
        if let Some(r) = &f.in_process_only {
            reasons.push(format!("  {}: in-process only: {r}", f.go_test));
        }
        if let Some(r) = &f.pending {
            reasons.push(format!(
                "  {}: pending on nats-ws (embedded): {r}",
                f.go_test
            ));
        }
        match per_layer.iter_mut().find(|(l, _, _)| *l == f.layer.name()) {
            Some(e) => {
                e.1 += 1;
                e.2 += cases.len();
            }
            None => per_layer.push((f.layer.name(), 1, cases.len())),
        }
    }
    println!();
    for (layer, n, cases) in &per_layer {
        println!("{layer:<9} {n:>3} fixtures {cases:>4} cases");
    }
    let (n, cases) = per_layer
        .iter()
        .fold((0, 0), |(a, b), (_, n, c)| (a + n, b + c));
    println!("{:<9} {n:>3} fixtures {cases:>4} cases", "total");
    if !reasons.is_empty() {
        println!("\nreasons:");
        for r in reasons {
            println!("{r}");
        }
    }
}

/// Every catalog test with its status, then totals per layer.
pub fn coverage(cov: &Coverage) {
    print!(
        "{:<55} {:<30} {:<18} {:<9}",
        "Go test", "file", "layer", "fixture"
    );
    for name in &cov.implementations {
        print!(" {name:<14}");
    }
    println!();
    for r in &cov.rows {
        print!(
            "{:<55} {:<30} {:<18} {:<9}",
            r.test.name,
            r.test.file.trim_start_matches("server/"),
            r.test.layer,
            r.fixture_layer.map_or("-", |l| l.name())
        );
        for s in &r.statuses {
            print!(" {:<14}", s.label());
        }
        let details: Vec<String> = r
            .statuses
            .iter()
            .map(Status::detail)
            .filter(|d| !d.is_empty())
            .collect();
        if !details.is_empty() {
            print!(" {}", details.join(" | "));
        }
        println!();
    }
    println!(
        "\n{:<18} {:<14} {}",
        "layer",
        "implementation",
        Status::LABELS
            .iter()
            .map(|l| format!("{l:>13}"))
            .collect::<String>()
    );
    for (layer, per_impl) in cov.totals() {
        for (name, counts) in cov.implementations.iter().zip(per_impl) {
            println!(
                "{layer:<18} {name:<14} {}",
                counts
                    .iter()
                    .map(|n| format!("{n:>13}"))
                    .collect::<String>()
            );
        }
    }
    if !cov.extra.is_empty() {
        println!("\nfixtures not in the catalog: {}", cov.extra.join(", "));
    }
}

/// The differences of a comparison, one block per case.
pub fn diffs(diffs: &[CaseDiff], a: &ImplRun, b: &ImplRun) {
    let cases: usize = a.fixtures.iter().map(|f| f.cases.len()).sum();
    let show = |v: Option<Verdict>, c: Option<u16>| {
        format!(
            "{}{}",
            v.map_or("n/a", Verdict::label),
            c.map_or_else(String::new, |c| format!(" (close {c})"))
        )
    };
    for d in diffs {
        println!("\n== {} / {}", d.go_test, d.case);
        println!(
            "   {}: {}    {}: {}",
            a.name,
            show(d.verdicts[0], d.closes[0]),
            b.name,
            show(d.verdicts[1], d.closes[1])
        );
        for (run, v) in [(a, d.verdicts[0]), (b, d.verdicts[1])] {
            if !matches!(v, Some(Verdict::Fail | Verdict::Inconclusive)) {
                continue;
            }
            let failures = run
                .fixture(&d.go_test)
                .and_then(|f| f.cases.iter().find(|c| c.name == d.case))
                .map(|c| c.failures.clone())
                .unwrap_or_default();
            for f in failures.iter().take(3) {
                println!("   {}: {f}", run.name);
            }
            if failures.len() > 3 {
                println!("   {}: ... {} more", run.name, failures.len() - 3);
            }
        }
        for line in d.transcript_diff.lines() {
            println!("   {line}");
        }
    }
    println!(
        "\n{} vs {}: {} of {cases} server cases differ in verdict, close status or normalised transcript",
        a.name,
        b.name,
        diffs.len()
    );
}
