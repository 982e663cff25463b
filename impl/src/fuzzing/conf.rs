//! The configuration-parser target.

use std::path::Path;

use crate::options::conf::{Kind, MAX_DEPTH, MAX_VALUES, Map, ParseError, Parser};

/// Includes resolve below a directory that does not exist, so a parse never reads a file.
const NO_DIR: &str = "/nonexistent-nats-ws-fuzz";

/// A fixed environment for `$NAME` fallbacks: a value, a map, a cycle, a chain, a
/// parse error.
fn env(name: &str) -> Option<String> {
    let v = match name {
        "NWS_INT" => "42",
        "NWS_MAP" => "{ a: 1, b: [1, 2, { c: $NWS_INT }] }",
        "NWS_SELF" => "$NWS_SELF",
        "NWS_NEXT" => "$NWS_INT",
        "NWS_BAD" => "{ a = ",
        _ => return None,
    };
    Some(v.to_owned())
}

/// Any UTF-8 text into the NATS configuration parser. Oracles: no panic (nor a
/// stack overflow); an error that Go reports with a line has one within the text (or
/// comes from an environment value); a value error names text from the input; a parsed
/// tree is at most [`MAX_DEPTH`] levels below the top map and has at most [`MAX_VALUES`]
/// values.
pub fn conf(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `include "../x"` could reach a real file (even /dev/stdin) out of the empty dir.
    let lower = text.to_ascii_lowercase();
    if lower.contains("include") && (text.contains("..") || text.contains('\\')) {
        return;
    }
    let env = |name: &str| env(name);
    let parsed = Parser::new()
        .base_dir(Path::new(NO_DIR))
        .env(&env)
        .parse_bytes(text.as_bytes());
    let lines = text.matches('\n').count() + 1;
    match parsed {
        Ok(map) => {
            let (depth, values) = measure_map(&map);
            assert!(depth <= MAX_DEPTH, "nested {depth} levels deep");
            assert!(values <= MAX_VALUES, "{values} values");
        }
        Err(e) => check_error(&e, text, lines, false),
    }
}

fn check_error(e: &ParseError, text: &str, lines: usize, in_env: bool) {
    let in_text = |line: usize| in_env || (1..=lines).contains(&line);
    match e {
        ParseError::Syntax { line, .. }
        | ParseError::VariableNotFound { line, .. }
        | ParseError::Invalid { line, .. } => {
            assert!(in_text(*line), "{e}: line {line} of {lines}");
        }
        ParseError::TooDeep { line, .. } => {
            // An environment value's own parse has no line in the file (`line 0`).
            assert!(in_text(*line) || *line == 0, "{e}: line {line} of {lines}");
        }
        ParseError::VariableUnparsable { line, source, .. } => {
            assert!(in_text(*line), "{e}: line {line} of {lines}");
            check_error(source, text, lines, true);
        }
        ParseError::IntegerRange(token)
        | ParseError::Integer(token)
        | ParseError::FloatRange(token)
        | ParseError::Float(token)
        | ParseError::Datetime(token) => {
            let found = in_env || text.contains(token.as_str()) || token.contains('\u{fffd}');
            assert!(found, "{e}: token not in the input");
        }
        ParseError::Include { source, .. } => check_error(source, text, usize::MAX, true),
        ParseError::VariableCycle(_)
        | ParseError::Io { .. }
        | ParseError::IncludeTooDeep
        | ParseError::FileTooLarge(_)
        | ParseError::TooManyValues
        | ParseError::Internal(_) => {}
    }
}

/// (levels of maps/arrays below this map, values in it).
fn measure_map(map: &Map) -> (usize, usize) {
    map.iter().fold((0, 0), |(d, n), (_, v)| {
        let (vd, vn) = measure(&v.kind);
        (d.max(vd), n + vn)
    })
}

fn measure(kind: &Kind) -> (usize, usize) {
    match kind {
        Kind::Map(m) => {
            let (d, n) = measure_map(m);
            (d + 1, n + 1)
        }
        Kind::Array(values) => {
            let (d, n) = values.iter().fold((0, 0), |(d, n), v| {
                let (vd, vn) = measure(&v.kind);
                (d.max(vd), n + vn)
            });
            (d + 1, n + 1)
        }
        Kind::String(_) | Kind::Integer(_) | Kind::Float(_) | Kind::Bool(_) | Kind::Datetime(_) => {
            (0, 1)
        }
    }
}
