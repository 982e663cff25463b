//! Go's configuration digest (`conf.configDigest`): `sha256:` and the hex SHA-256 of the
//! parsed file's JSON encoding, as `encoding/json`'s `Encoder.Encode` writes it.
//!
//! The Go server prints it in `Using configuration file: F (sha256:…)` at start and in
//! `-t`'s `configuration file F is valid (sha256:…)`, and reports it as `/varz`
//! `config_digest`, so operators compare it across servers and reloads.
//!
//! The encoding, from Go's `encoding/json`: map keys sorted bytewise; integers in decimal;
//! floats in the shortest form that reads back, without an exponent for magnitudes in
//! [1e-6, 1e21) and otherwise with Go's exponent (`1e+21`, `1e-7`); datetimes as RFC 3339
//! strings; strings escaped for HTML (`<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`),
//! with `\n \r \t \b \f`, `\u00XX` for the other control characters and `\u2028`,
//! `\u2029`; one `\n` at the end.
//!
//! One input encodes differently: a string with bytes that are not UTF-8 (Go keeps the
//! bytes and its encoder writes each as the escape `\ufffd`; [`super`] has already
//! replaced them by the character U+FFFD, which the encoder writes as is).

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::{Kind, Map, Value};

/// `sha256:<64 hex digits>` of `map`'s JSON encoding (Go: `configDigest`).
pub fn digest(map: &Map) -> String {
    let mut json = String::new();
    write_map(&mut json, map);
    json.push('\n');
    let hash = Sha256::digest(json.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The JSON encoding Go's `json.Marshal` gives the parsed value tree (for tests and
/// [`digest`]).
pub fn to_json(map: &Map) -> String {
    let mut json = String::new();
    write_map(&mut json, map);
    json
}

fn write_map(out: &mut String, map: &Map) {
    let mut entries: Vec<(&str, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

fn write_value(out: &mut String, value: &Value) {
    match &value.kind {
        Kind::String(s) => write_string(out, s),
        Kind::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Kind::Float(f) => write_float(out, *f),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Datetime(d) => {
            let _ = write!(out, "\"{d}\"");
        }
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Kind::Map(m) => write_map(out, m),
    }
}

/// Go's `floatEncoder` for `float64`. The parser only yields finite floats (Go's
/// `ParseFloat` rejects overflow), so JSON's lack of NaN and infinities does not arise.
fn write_float(out: &mut String, f: f64) {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust writes `1e21` and `1e-7`; Go writes `1e+21` and `1e-07`, then trims the
        // exponent's leading zero: `1e-7`.
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&text),
        }
    } else {
        // Shortest round-trip digits, no exponent: Go's `'f', -1`.
        let _ = write!(out, "{f}");
    }
}

/// Go's `appendString` with HTML escaping on (the `Encoder` default).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::options::conf::parse_str;

    fn json(text: &str) -> String {
        match parse_str(text, Path::new("/nonexistent")) {
            Ok(m) => to_json(&m),
            Err(e) => panic!("{e}"),
        }
    }

    /// Digests printed by the Go server v2.15.1 for these files (`nats-server -t -c F`).
    #[test]
    fn digests_match_go() {
        for (text, want) in [
            (
                "port: -1\nhttp: -1\n",
                "sha256:f3f2d95723a6fde2a8928fa02a93e652aa5e3d29d35953c94712c451d6efedd6",
            ),
            // HTML characters, a control byte, non-ASCII text, both quotes, a float.
            (
                r#"port: -1
server_name: "tab\there<b>&é"
server_metadata { k1: "x<y>&\x01é☃ \\ \" end", k2: 'single' }
authorization { timeout: 0.5 }
"#,
                "sha256:6011b699486950447fbc7f3a1dea075b27bbfb3174a82d1ab80e05a76068f1bc",
            ),
            // A float written with an exponent.
            (
                "authorization { timeout: 0.0000001 }\nport: -1\n",
                "sha256:3ea55cc29e8943ba9ae7af45d9d90f1c8647ff62e8338af4a53cd89b367a5103",
            ),
            // An array.
            (
                "port: -1\nauthorization { timeout: 0.0000001 }\nserver_tags: [\"a\", \"B\"]\n",
                "sha256:a1916e7f4ec0e499fe631f68ab054a8d03828ed4d7d38e6b8326afaa506353c8",
            ),
        ] {
            match parse_str(text, Path::new("/nonexistent")) {
                Ok(m) => assert_eq!(digest(&m), want, "{text:?}"),
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn keys_sort_bytewise_and_nest() {
        assert_eq!(
            json("b: 1\nA: { z: [1, \"x\", true], a: 2.5 }\na: no\n"),
            r#"{"A":{"a":2.5,"z":[1,"x",true]},"a":false,"b":1}"#
        );
    }

    #[test]
    fn floats_as_go_writes_them() {
        for (f, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.0, "-0"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (2.5e-10, "2.5e-10"),
            (0.1, "0.1"),
        ] {
            let mut out = String::new();
            write_float(&mut out, f);
            assert_eq!(out, want, "{f}");
        }
    }

    #[test]
    fn strings_escaped_as_go_does() {
        let mut out = String::new();
        write_string(
            &mut out,
            "a\"\\\n\r\t\u{8}\u{c}\u{1}<>&\u{2028}\u{2029}\u{7f}é",
        );
        assert_eq!(
            out,
            "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u003c\\u003e\\u0026\\u2028\\u2029\u{7f}é\""
        );
    }
}
