//! `index.html`: one self-contained page (inline CSS and a few lines of script, no external
//! assets). A matrix of case × implementation (verdict, close status, duration; each cell
//! opens to the failures and the wire transcript), the differences of a comparison, and
//! the coverage view.

use std::fmt::Write;

use crate::report::coverage::{Coverage, Status};
use crate::report::invocation::Report;
use crate::report::model::{CaseDiff, CaseResult, ImplRun, Verdict, anchor};

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3;position:sticky;top:0}
td.num{text-align:right}
.v-pass{background:#d9f2d9}.v-fail{background:#f8d0d0}.v-skip{background:#eee;color:#555}
.v-inconclusive{background:#fdf0c4}.v-none{background:#fff;color:#999}
.s-passing{background:#d9f2d9}.s-failing{background:#f8d0d0}.s-skipped{background:#eee}
.s-inconclusive{background:#fdf0c4}.s-not-run{background:#e8eefc}.s-not-ported{background:#fff;color:#888}
summary{cursor:pointer;white-space:nowrap}
pre{margin:.3em 0;padding:.4em;background:#fafafa;border:1px solid #ddd;max-width:70em;overflow:auto;font-size:12px}
.fail-msg{color:#a00}.note{color:#775}
.diff .add{color:#060}.diff .del{color:#a00}.diff .hunk{color:#669}
";

const SCRIPT: &str = "
function onlyProblems(on){document.querySelectorAll('tr.case').forEach(function(r){
r.style.display=(on&&!r.classList.contains('problem'))?'none':'';});}
function openAll(on){document.querySelectorAll('table.matrix details').forEach(function(d){d.open=on;});}
window.addEventListener('load',function(){var h=location.hash.slice(1);if(!h)return;
var c=document.getElementById(h);if(c){var d=c.querySelector('details');if(d)d.open=true;c.scrollIntoView();}});
";

/// The page.
pub fn render(report: &Report) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<title>nats-ws conformance report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<h1>NATS over WebSocket: conformance report</h1>\n");
    implementations(&mut h, &report.runs);
    if report.runs.len() == 2 {
        differences(&mut h, report);
    }
    matrix(&mut h, &report.runs);
    coverage(&mut h, &report.coverage);
    h.push_str("<script>");
    h.push_str(SCRIPT);
    h.push_str("</script>\n</body>\n</html>\n");
    h
}

fn implementations(h: &mut String, runs: &[ImplRun]) {
    h.push_str("<h2>Implementations</h2>\n<table>\n<tr><th>name</th><th>target</th><th>pass</th><th>fail</th><th>inconclusive</th><th>skip</th><th>time</th></tr>\n");
    for r in runs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} s</td></tr>",
            esc(&r.name),
            esc(&r.target),
            r.count(Verdict::Pass),
            r.count(Verdict::Fail),
            r.count(Verdict::Inconclusive),
            r.count(Verdict::Skip),
            r.elapsed.as_secs_f64()
        );
    }
    h.push_str("</table>\n");
    for r in runs.iter().filter(|r| !r.not_applicable.is_empty()) {
        let _ = writeln!(
            h,
            "<p class=\"note\">{}: {} in-memory fixtures not applicable to an external server (they test nats-ws's own core): {}.</p>",
            esc(&r.name),
            r.not_applicable.len(),
            esc(&r.not_applicable.join(", "))
        );
    }
}

fn differences(h: &mut String, report: &Report) {
    let [a, b] = [&report.runs[0].name, &report.runs[1].name];
    let _ = writeln!(
        h,
        "<h2>Differences: {} vs {} ({} cases)</h2>",
        esc(a),
        esc(b),
        report.diffs.len()
    );
    if report.diffs.is_empty() {
        h.push_str("<p>No observable difference on the cases both ran.</p>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<tr><th>case</th><th>{0}</th><th>{1}</th><th>close {0}</th><th>close {1}</th><th>transcripts (normalised)</th></tr>",
        esc(a),
        esc(b)
    );
    for d in &report.diffs {
        let _ = writeln!(
            h,
            "<tr><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.go_test),
            esc(&d.case),
            verdict_label(d.verdicts[0]),
            verdict_label(d.verdicts[1]),
            close_label(d.closes[0]),
            close_label(d.closes[1]),
            diff_cell(d)
        );
    }
    h.push_str("</table>\n");
}

fn diff_cell(d: &CaseDiff) -> String {
    if d.transcript_diff.is_empty() {
        return "same".to_owned();
    }
    let mut s = String::from("<details><summary>diff</summary><pre class=\"diff\">");
    for line in d.transcript_diff.lines() {
        let class = match line.chars().next() {
            Some('@') => "hunk",
            Some('+') if !line.starts_with("+++") => "add",
            Some('-') if !line.starts_with("---") => "del",
            _ => "",
        };
        let _ = writeln!(s, "<span class=\"{class}\">{}</span>", esc(line));
    }
    s.push_str("</pre></details>");
    s
}

fn matrix(h: &mut String, runs: &[ImplRun]) {
    h.push_str("<h2>Results</h2>\n<p><label><input type=\"checkbox\" onchange=\"onlyProblems(this.checked)\"> only failures and differences</label> \u{b7} <a href=\"#\" onclick=\"openAll(true);return false\">open all</a> \u{b7} <a href=\"#\" onclick=\"openAll(false);return false\">close all</a></p>\n");
    h.push_str("<table class=\"matrix\">\n<tr><th>Go test</th><th>layer</th><th>case</th>");
    for r in runs {
        let _ = write!(h, "<th>{}</th>", esc(&r.name));
    }
    h.push_str("</tr>\n");
    let mut tests: Vec<(&str, &str)> = Vec::new();
    for r in runs {
        for f in &r.fixtures {
            if !tests.iter().any(|(t, _)| *t == f.go_test) {
                tests.push((&f.go_test, f.layer.name()));
            }
        }
    }
    tests.sort();
    for (test, layer) in tests {
        let mut cases: Vec<&str> = Vec::new();
        for r in runs {
            for c in r.fixture(test).into_iter().flat_map(|f| &f.cases) {
                if !cases.contains(&c.name.as_str()) {
                    cases.push(&c.name);
                }
            }
        }
        for case in cases {
            let results: Vec<Option<&CaseResult>> = runs
                .iter()
                .map(|r| {
                    r.fixture(test)
                        .and_then(|f| f.cases.iter().find(|c| c.name == case))
                })
                .collect();
            let problem = results.iter().any(|c| {
                c.is_some_and(|c| matches!(c.verdict, Verdict::Fail | Verdict::Inconclusive))
            }) || results.windows(2).any(|w| {
                w[0].map(|c| (c.verdict, c.remote_close))
                    != w[1].map(|c| (c.verdict, c.remote_close))
            });
            let _ = write!(
                h,
                "<tr class=\"case{}\"><td>{}</td><td>{}</td><td>{}</td>",
                if problem { " problem" } else { "" },
                esc(test),
                layer,
                esc(case)
            );
            for (r, c) in runs.iter().zip(&results) {
                cell(h, &r.name, test, case, *c);
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</table>\n");
}

fn cell(h: &mut String, agent: &str, test: &str, case: &str, c: Option<&CaseResult>) {
    let Some(c) = c else {
        h.push_str("<td class=\"v-none\">n/a</td>");
        return;
    };
    let class = match c.verdict {
        Verdict::Pass => "v-pass",
        Verdict::Fail => "v-fail",
        Verdict::Inconclusive => "v-inconclusive",
        Verdict::Skip => "v-skip",
    };
    let mut summary = c.verdict.label().to_owned();
    if let Some(code) = c.remote_close {
        let _ = write!(summary, " \u{b7} close {code}");
    }
    if c.verdict != Verdict::Skip {
        let _ = write!(summary, " \u{b7} {} ms", c.duration.as_millis());
    }
    let _ = write!(
        h,
        "<td class=\"{class}\" id=\"{}\"><details><summary>{}</summary>",
        anchor(agent, test, case),
        esc(&summary)
    );
    if let Some(reason) = &c.skip_reason {
        let _ = write!(h, "<div>skipped: {}</div>", esc(reason));
    }
    for f in &c.failures {
        let _ = write!(h, "<div class=\"fail-msg\">{}</div>", esc(f));
    }
    for n in &c.notes {
        let _ = write!(h, "<div class=\"note\">note: {}</div>", esc(n));
    }
    if !c.transcript.is_empty() {
        let _ = write!(h, "<pre>{}</pre>", esc(&c.transcript));
    }
    h.push_str("</details></td>");
}

fn coverage(h: &mut String, cov: &Coverage) {
    h.push_str("<h2>Coverage of the Go WebSocket tests</h2>\n<table>\n<tr><th>layer</th><th>implementation</th>");
    for l in Status::LABELS {
        let _ = write!(h, "<th>{l}</th>");
    }
    h.push_str("</tr>\n");
    for (layer, per_impl) in cov.totals() {
        for (name, counts) in cov.implementations.iter().zip(per_impl) {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(&layer), esc(name));
            for n in counts {
                let _ = write!(h, "<td class=\"num\">{n}</td>");
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</table>\n<table>\n<tr><th>Go test</th><th>file</th><th>catalog layer</th><th>fixture layer</th>");
    for name in &cov.implementations {
        let _ = write!(h, "<th>{}</th>", esc(name));
    }
    h.push_str("</tr>\n");
    for r in &cov.rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(r.test.name),
            esc(r.test.file),
            esc(r.test.layer),
            r.fixture_layer.map_or("", |l| l.name())
        );
        for s in &r.statuses {
            let _ = write!(
                h,
                "<td class=\"s-{}\">{} <small>{}</small></td>",
                s.label().replace(' ', "-"),
                s.label(),
                esc(&s.detail())
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if !cov.extra.is_empty() {
        let _ = writeln!(
            h,
            "<p>Fixtures not in the catalog: {}.</p>",
            esc(&cov.extra.join(", "))
        );
    }
}

fn verdict_label(v: Option<Verdict>) -> &'static str {
    v.map_or("n/a", Verdict::label)
}

fn close_label(c: Option<u16>) -> String {
    c.map_or_else(|| "\u{2013}".to_owned(), |c| c.to_string())
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{compare, sample};

    #[test]
    fn self_contained_matrix_with_transcripts() {
        let runs = vec![sample::run("nats-ws"), sample::run("nats-server")];
        let report = Report {
            diffs: compare(&runs[0], &runs[1]),
            coverage: Coverage::compute(&[], &runs),
            runs,
        };
        let page = render(&report);
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(!page.contains("<link") && !page.contains("src="));
        assert!(page.contains("<td class=\"v-fail\" id=\"nats-ws--TestWSPubSub--compression\"><details><summary>FAIL \u{b7} close 1000 \u{b7} 12 ms</summary>"));
        assert!(page.contains(
            "<pre>server started (x)\nws &gt; binary fin rsv=000 len=5 &quot;hello&quot;\n</pre>"
        ));
        assert!(page.contains("skipped: needs &lt;nats.go&gt; &amp; &quot;jwt&quot;"));
        assert!(page.contains("Differences: nats-ws vs nats-server (0 cases)"));
        assert!(page.contains("Coverage of the Go WebSocket tests"));
        assert!(page.ends_with("</html>\n"));
    }
}
