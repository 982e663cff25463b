//! A case written as a server-layer fixture, its expectations the reference server's
//! outcome, so the normal suite replays it against any target.

use std::fmt::Write;

use crate::diff::generate::Case;
use crate::diff::run::Outcome;
use crate::diff::yaml::{bytes, quote};

/// The fixture `name` for `case`, expecting `reference` (named `reference_name`).
pub fn fixture(name: &str, case: &Case, reference: &Outcome, reference_name: &str) -> String {
    let mut y = String::new();
    let _ = writeln!(y, "go_test: {name}");
    let _ = writeln!(
        y,
        "go_source: nats-ws-conform diff --seed {} (case {}, minimised)",
        case.seed, case.index
    );
    y.push_str("layer: server\n");
    let _ = writeln!(
        y,
        "description: >\n  Found by `nats-ws-conform diff --replay {}:{}`; the expectations are what \
         {reference_name} did.",
        case.seed, case.index
    );
    y.push_str("setup:\n  config: |\n");
    for line in case.config.lines() {
        let _ = writeln!(y, "    {line}");
    }
    y.push_str("steps:\n");
    y.push_str(&connect_step(case, reference.status == Some(101)));
    if reference.status != Some(101) {
        let _ = writeln!(
            y,
            "  - ws_expect_http: {{conn: c, status: {}}}",
            reference.status.unwrap_or(0)
        );
        return y;
    }
    for send in &case.sends {
        let chop = send.chop.map_or(String::new(), |n| format!(", chop: {n}"));
        if send.frames.len() == 1 {
            let _ = writeln!(
                y,
                "  - ws_send: {{conn: c, frame: {}{chop}}}",
                send.frames[0]
            );
        } else {
            let _ = writeln!(y, "  - ws_send:\n      conn: c");
            if let Some(n) = send.chop {
                let _ = writeln!(y, "      chop: {n}");
            }
            y.push_str("      frames:\n");
            for f in &send.frames {
                let _ = writeln!(y, "        - {f}");
            }
        }
    }
    y.push_str(&stream_steps(&reference.stream));
    if !reference.pongs.is_empty() {
        let _ = writeln!(
            y,
            "  - ws_expect_pong_count: {{conn: c, count: {}}}",
            reference.pongs.len()
        );
    }
    match (&reference.close, reference.tcp_closed) {
        (Some((code, reason)), _) => {
            let code = code.map_or("null".to_owned(), |c| c.to_string());
            let _ = writeln!(
                y,
                "  - ws_expect_close: {{conn: c, code: {code}, reason: {}}}",
                bytes(reason)
            );
        }
        (None, true) => y.push_str("  - ws_expect_end: {conn: c}\n"),
        (None, false) => {
            y.push_str("  - ws_expect: {conn: c, nothing: true, within_ms: 300}\n");
        }
    }
    if reference.alive {
        let _ = writeln!(
            y,
            "  - nats_connect: {{as: probe, connect: {}}}",
            quote(&case.probe_connect)
        );
    }
    y
}

fn connect_step(case: &Case, upgrade: bool) -> String {
    let mut http = Vec::new();
    if let Some(m) = &case.method {
        http.push(format!("method: {m}"));
    }
    if !case.headers.is_empty() {
        let set: Vec<String> = case
            .headers
            .iter()
            .map(|[k, v]| format!("[{}, {}]", quote(k), quote(v)))
            .collect();
        http.push(format!("set: [{}]", set.join(", ")));
    }
    if !case.remove.is_empty() {
        let remove: Vec<String> = case.remove.iter().map(|k| quote(k)).collect();
        http.push(format!("remove: [{}]", remove.join(", ")));
    }
    let http = if http.is_empty() {
        String::new()
    } else {
        format!(", http: {{{}}}", http.join(", "))
    };
    let upgrade = if upgrade { "" } else { ", upgrade: false" };
    format!("  - ws_connect: {{as: c{http}{upgrade}}}\n")
}

/// Expectations for the stream after the INFO that `ws_connect` reads: exact bytes up
/// to the next INFO (whose ids differ between servers), then each part after an INFO.
fn stream_steps(stream: &[u8]) -> String {
    let mut parts: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut rest = stream;
    let mut after_info = false;
    let mut first = true;
    let mut current = Vec::new();
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |p| p + 2);
        let line = &rest[..end];
        if line.starts_with(b"INFO ") {
            if !first && !current.is_empty() {
                parts.push((after_info, std::mem::take(&mut current)));
            }
            after_info = !first;
            first = false;
        } else {
            current.extend_from_slice(line);
        }
        rest = &rest[end..];
    }
    if !current.is_empty() {
        parts.push((after_info, current));
    }
    let mut y = String::new();
    for (after_info, part) in parts {
        let how = if after_info { "contains" } else { "data" };
        let _ = writeln!(y, "  - ws_expect: {{conn: c, {how}: {}}}", bytes(&part));
    }
    y
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fixture::load_all;

    #[test]
    fn an_emitted_fixture_loads() {
        let case = crate::diff::generate::generate(5, 1);
        let reference = Outcome {
            status: Some(101),
            stream: b"INFO {}\r\nPONG\r\nINFO {\"a\":1}\r\n-ERR 'x'\r\n".to_vec(),
            close: Some((Some(1002), b"Protocol Violation".to_vec())),
            tcp_closed: true,
            alive: true,
            pongs: vec![b"p".to_vec()],
            ..Outcome::default()
        };
        let text = fixture("DiffEmitted", &case, &reference, "go");
        assert!(text.contains("data: \"PONG\\r\\n\""), "{text}");
        assert!(text.contains("contains: \"-ERR 'x'\\r\\n\""), "{text}");
        let dir = std::env::temp_dir().join(format!("nats-ws-emit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("DiffEmitted.yaml"), &text).unwrap();
        let loaded = load_all(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let loaded = loaded.unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert_eq!(loaded.len(), 1);
    }
}
