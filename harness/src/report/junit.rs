//! JUnit XML for CI systems: one `<testsuite>` per implementation and fixture, one
//! `<testcase>` per case; failures carry their messages, skips their reasons, and every
//! case its wire transcript in `<system-out>`. Inconclusive cases (a fixed target whose
//! configuration could not be set) are reported as skipped, with the failures in the
//! message, so that CI does not fail on what the run could not judge.

use std::fmt::Write;

use crate::report::model::{ImplRun, Verdict};

/// The whole document.
pub fn render(runs: &[ImplRun]) -> String {
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut secs = 0.0;
    let mut suites = String::new();
    for run in runs {
        for f in &run.fixtures {
            let (t, fl, sk) = (
                f.cases.len(),
                f.count(Verdict::Fail),
                f.count(Verdict::Skip) + f.count(Verdict::Inconclusive),
            );
            let time = f.duration().as_secs_f64();
            tests += t;
            failures += fl;
            skipped += sk;
            secs += time;
            let _ = writeln!(
                suites,
                "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{fl}\" errors=\"0\" skipped=\"{sk}\" time=\"{time:.3}\">",
                attr(&format!("{}: {}", run.name, f.go_test))
            );
            let _ = writeln!(suites, "    <properties>");
            for (k, v) in [
                ("implementation", run.name.as_str()),
                ("target", run.target.as_str()),
                ("layer", f.layer.name()),
                ("go_source", f.go_source.as_str()),
            ] {
                let _ = writeln!(
                    suites,
                    "      <property name=\"{k}\" value=\"{}\"/>",
                    attr(v)
                );
            }
            let _ = writeln!(suites, "    </properties>");
            for c in &f.cases {
                let _ = write!(
                    suites,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                    attr(&format!("{}.{}", run.name, f.go_test)),
                    attr(&c.name),
                    c.duration.as_secs_f64()
                );
                match c.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail => {
                        let first = c.failures.first().map(String::as_str).unwrap_or("failed");
                        let _ = write!(
                            suites,
                            "\n      <failure message=\"{}\" type=\"expectation\">{}</failure>",
                            attr(first),
                            text(&c.failures.join("\n"))
                        );
                    }
                    Verdict::Inconclusive => {
                        let _ = write!(
                            suites,
                            "\n      <skipped message=\"{}\"/>",
                            attr(&format!("inconclusive: {}", c.failures.join("; ")))
                        );
                    }
                    Verdict::Skip => {
                        let _ = write!(
                            suites,
                            "\n      <skipped message=\"{}\"/>",
                            attr(c.skip_reason.as_deref().unwrap_or("skipped"))
                        );
                    }
                }
                let mut out = String::new();
                for n in &c.notes {
                    let _ = writeln!(out, "note: {n}");
                }
                out.push_str(&c.transcript);
                if !out.is_empty() {
                    let _ = write!(
                        suites,
                        "\n      <system-out>{}</system-out>\n    ",
                        text(&out)
                    );
                }
                suites.push_str("</testcase>\n");
            }
            suites.push_str("  </testsuite>\n");
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nats-ws-conform\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{secs:.3}\">\n{suites}</testsuites>\n"
    )
}

/// Escapes text content: `&`, `<`, `>`, and characters XML 1.0 cannot hold at all.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value: as [`text`], plus quotes and whitespace that attribute
/// normalisation would otherwise fold (newline, tab, carriage return).
pub fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(ch),
            // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
            c if (c as u32) < 0x20 || matches!(c as u32, 0xFFFE | 0xFFFF) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::sample;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(text("a<b>&c \"q\" 'x'"), "a&lt;b&gt;&amp;c \"q\" 'x'");
        assert_eq!(
            attr("a<b>&c \"q\" 'x'"),
            "a&lt;b&gt;&amp;c &quot;q&quot; &apos;x&apos;"
        );
        assert_eq!(attr("one\ntwo\tthree\r"), "one&#10;two&#9;three&#13;");
        assert_eq!(text("one\ntwo\tthree"), "one\ntwo\tthree");
        assert_eq!(text("nul\u{0}esc\u{1b}"), "nul\\u{0}esc\\u{1b}");
        assert_eq!(text("\u{fffe}ok\u{e9}"), "\\u{fffe}ok\u{e9}");
    }

    #[test]
    fn suites_cases_failures_and_skips() {
        let xml = render(&[sample::run("nats-ws")]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nats-ws-conform\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(xml.contains("<testsuite name=\"nats-ws: TestWSPubSub\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"0.024\">"));
        assert!(xml.contains(
            "<testcase classname=\"nats-ws.TestWSPubSub\" name=\"compression\" time=\"0.012\">"
        ));
        assert!(xml.contains("<failure message=\"ws: close code Some(1000), want Some(1002) &lt;&amp;&gt;\" type=\"expectation\">ws: close code Some(1000), want Some(1002) &lt;&amp;&gt;</failure>"));
        assert!(xml.contains("<skipped message=\"needs &lt;nats.go&gt; &amp; &quot;jwt&quot;\"/>"));
        assert!(xml.contains("<system-out>server started (x)\nws &gt; binary fin rsv=000 len=5 \"hello\"\n</system-out>"));
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("</testcase>").count(), 3);
        assert!(xml.ends_with("</testsuites>\n"));
    }
}
