//! Monitoring steps: `http_get` against the server's monitoring port, JSON compared as a
//! subset with matchers for what legitimately differs (ids, times).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::ServerRunner;
use crate::fixture::{HttpGetSpec, Setup};
use crate::peer::http::{get, parse_response, plain_body};
use crate::transcript::Transcript;

impl ServerRunner<'_> {
    pub(super) fn http_get(
        &mut self,
        spec: &HttpGetSpec,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let Some(addr) = self.named(setup, t, spec.server.as_deref())?.http_addr() else {
            // The in-process server reports no monitoring listener: nothing can answer.
            if spec.refused {
                t.line(format!("GET {} -> refused", spec.path));
                return Ok(());
            }
            return Err("the server has no monitoring listener".to_owned());
        };
        let timeout = self.ctx.timeout;
        let deadline =
            Instant::now() + spec.within_ms.map_or(Duration::ZERO, Duration::from_millis);
        loop {
            let problems = match get(addr, &spec.path, timeout) {
                Err(e) if spec.refused && e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    t.line(format!("GET {} -> refused", spec.path));
                    return Ok(());
                }
                Err(e) => vec![format!("GET {}: {e}", spec.path)],
                Ok(_) if spec.refused => vec![format!("GET {}: answered", spec.path)],
                Ok(raw) => check(spec, &raw),
            };
            if problems.is_empty() {
                let on = spec
                    .server
                    .as_ref()
                    .map(|s| format!(" on {s}"))
                    .unwrap_or_default();
                t.line(format!(
                    "GET {}{on} -> {}",
                    spec.path,
                    spec.status.unwrap_or(200)
                ));
                if let Some(body) = &spec.body {
                    t.line(format!("= body {body:?}"));
                }
                if spec.json.is_some() {
                    t.line("= json matches");
                }
                return Ok(());
            }
            if Instant::now() >= deadline {
                failures.extend(problems);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// What does not match (empty: all does).
fn check(spec: &HttpGetSpec, raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some((status, headers, body)) = parse_response(raw) else {
        return vec![format!("GET {}: not an HTTP answer", spec.path)];
    };
    let Some(body) = plain_body(&headers, body) else {
        return vec![format!("GET {}: bad chunked body", spec.path)];
    };
    let want = spec.status.unwrap_or(200);
    let text = String::from_utf8_lossy(&body);
    if status != want {
        out.push(format!(
            "GET {}: status {status}, want {want}: {text}",
            spec.path
        ));
    }
    for [k, v] in &spec.headers {
        let got = headers.iter().find(|(h, _)| h.eq_ignore_ascii_case(k));
        if got.is_none_or(|(_, hv)| hv != v) {
            out.push(format!("header {k}: {:?}, want {v:?}", got.map(|g| &g.1)));
        }
    }
    for k in &spec.absent_headers {
        if headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)) {
            out.push(format!("header {k} present"));
        }
    }
    if let Some(b) = &spec.body
        && *b != text
    {
        out.push(format!("body {text:?}, want {b:?}"));
    }
    for c in &spec.contains {
        if !text.contains(c.as_str()) {
            out.push(format!("body does not contain {c:?}: {text}"));
        }
    }
    if let Some(want) = &spec.json {
        match serde_json::from_slice::<Value>(&body) {
            Ok(got) => json_match(want, &got, "", spec, &mut out),
            Err(e) => out.push(format!("body is not JSON ({e}): {text}")),
        }
    }
    out
}

/// Compares `got` with the expected `want` (a subset, with matchers) at `path`.
fn json_match(want: &Value, got: &Value, path: &str, spec: &HttpGetSpec, out: &mut Vec<String>) {
    match (want, got) {
        (Value::String(m), _) if is_matcher(m) => {
            if !matcher(m, got) {
                out.push(format!("{path}: {got} is not {m}"));
            }
        }
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let at = format!("{path}.{k}");
                match (g.get(k), wv) {
                    (None, Value::String(m)) if m == "{absent}" => {}
                    (Some(_), Value::String(m)) if m == "{absent}" => {
                        out.push(format!("{at}: present, want absent"));
                    }
                    (None, _) => out.push(format!("{at}: missing")),
                    (Some(gv), _) => json_match(wv, gv, &at, spec, out),
                }
            }
            if exact_at(spec, path) {
                for k in g.keys().filter(|k| !w.contains_key(*k)) {
                    out.push(format!("{path}.{k}: not expected"));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!("{path}: {} elements, want {}", g.len(), w.len()));
                return;
            }
            if spec.unordered {
                let mut used = vec![false; g.len()];
                for (i, wv) in w.iter().enumerate() {
                    let found = g.iter().enumerate().position(|(j, gv)| {
                        let mut sub = Vec::new();
                        json_match(wv, gv, "", spec, &mut sub);
                        !used[j] && sub.is_empty()
                    });
                    match found {
                        Some(j) => used[j] = true,
                        None => out.push(format!("{path}[{i}]: no element matches {wv}")),
                    }
                }
            } else {
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    json_match(wv, gv, &format!("{path}[{i}]"), spec, out);
                }
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            if w.as_f64() != g.as_f64() {
                out.push(format!("{path}: {g}, want {w}"));
            }
        }
        _ => {
            if want != got {
                out.push(format!("{path}: {got}, want {want}"));
            }
        }
    }
}

/// Whether `path` (or it with every index written `[]`) is one of `exact_keys`.
fn exact_at(spec: &HttpGetSpec, path: &str) -> bool {
    let mut generic = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                generic.push('[');
            }
            ']' => {
                in_index = false;
                generic.push(']');
            }
            _ if in_index => {}
            _ => generic.push(c),
        }
    }
    spec.exact_keys.iter().any(|k| k == path || *k == generic)
}

const MATCHERS: [&str; 9] = [
    "{any}",
    "{string}",
    "{number}",
    "{bool}",
    "{array}",
    "{object}",
    "{null}",
    "{absent}",
    "{nonempty}",
];

fn is_matcher(s: &str) -> bool {
    MATCHERS.contains(&s)
}

fn matcher(m: &str, v: &Value) -> bool {
    match m {
        "{string}" => v.is_string(),
        "{number}" => v.is_number(),
        "{bool}" => v.is_boolean(),
        "{array}" => v.is_array(),
        "{object}" => v.is_object(),
        "{null}" => v.is_null(),
        "{nonempty}" => match v {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        },
        // `{absent}` is handled by the object comparison; here the key was present.
        "{absent}" => false,
        _ => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::peer::http::dechunk;

    fn problems(want: &str, got: &str, exact: bool, unordered: bool) -> Vec<String> {
        let spec = HttpGetSpec {
            exact_keys: if exact {
                vec![String::new()]
            } else {
                Vec::new()
            },
            unordered,
            ..HttpGetSpec::default()
        };
        let mut out = Vec::new();
        let (w, g) = (
            serde_json::from_str(want).unwrap(),
            serde_json::from_str(got).unwrap(),
        );
        json_match(&w, &g, "", &spec, &mut out);
        out
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert_eq!(dechunk(b"5\r\nab"), None);
    }

    #[test]
    fn subsets_matchers_and_exact_keys() {
        let got = r#"{"a":1,"b":"x","c":[1,2],"d":null}"#;
        assert!(problems(r#"{"a":1,"b":"{string}"}"#, got, false, false).is_empty());
        assert!(problems(r#"{"z":"{absent}","c":"{nonempty}"}"#, got, false, false).is_empty());
        assert_eq!(
            problems(r#"{"a":"{string}"}"#, got, false, false),
            [".a: 1 is not {string}"]
        );
        assert_eq!(
            problems(r#"{"b":"{absent}"}"#, got, false, false),
            [".b: present, want absent"]
        );
        assert_eq!(
            problems(r#"{"a":"{any}","b":"{any}","c":"{any}"}"#, got, true, false),
            [".d: not expected"]
        );
        assert_eq!(problems(r#"{"c":[2,1]}"#, got, false, false).len(), 2);
        assert!(problems(r#"{"c":[2,1]}"#, got, false, true).is_empty());
        assert_eq!(
            problems(r#"{"c":[1]}"#, got, false, false),
            [".c: 2 elements, want 1"]
        );
        assert_eq!(problems(r#"{"q":1}"#, got, false, false), [".q: missing"]);
        assert!(problems(r#"{"a":1.0}"#, got, false, false).is_empty());
        let spec = HttpGetSpec {
            exact_keys: vec![".c[]".to_owned()],
            ..HttpGetSpec::default()
        };
        assert!(exact_at(&spec, ".c[3]") && !exact_at(&spec, ".c") && !exact_at(&spec, ""));
    }
}
