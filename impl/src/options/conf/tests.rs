//! Tests of the configuration format. Expected texts and positions were checked against
//! nats-server v2.15.1 (`nats-server -t -c`) and Go's `conf/parse_test.go`.

use std::path::{Path, PathBuf};

use super::parser::test_support::{go_dir, go_join};
use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Map {
    match Parser::new().env(&no_env).parse_bytes(text.as_bytes()) {
        Ok(map) => map,
        Err(e) => panic!("parse of {text:?} failed: {e}"),
    }
}

fn parse_err(text: &str) -> String {
    match Parser::new().env(&no_env).parse_bytes(text.as_bytes()) {
        Ok(map) => panic!("parse of {text:?} succeeded: {map:?}"),
        Err(e) => e.to_string(),
    }
}

fn kind<'a>(map: &'a Map, key: &str) -> &'a Kind {
    match map.get(key) {
        Some(v) => &v.kind,
        None => panic!("no key {key:?} in {map:?}"),
    }
}

fn pos_of(map: &Map, key: &str) -> (usize, usize) {
    match map.get(key) {
        Some(v) => (v.pos.line, v.pos.column),
        None => panic!("no key {key:?}"),
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conf")
}

// Go: TestSimpleTopLevel, TestBools
#[test]
fn scalars_and_separators() {
    let m = parse("foo='1'; bar=2.2; baz=true; boo=22");
    assert_eq!(kind(&m, "foo"), &Kind::String("1".into()));
    assert_eq!(kind(&m, "bar"), &Kind::Float(2.2));
    assert_eq!(kind(&m, "baz"), &Kind::Bool(true));
    assert_eq!(kind(&m, "boo"), &Kind::Integer(22));
    let m = parse("a: 1\nb 2\nc = -3\nd: -0.5");
    assert_eq!(kind(&m, "a"), &Kind::Integer(1));
    assert_eq!(kind(&m, "b"), &Kind::Integer(2));
    assert_eq!(kind(&m, "c"), &Kind::Integer(-3));
    assert_eq!(kind(&m, "d"), &Kind::Float(-0.5));
    for (text, b) in [
        ("TRUE", true),
        ("yes", true),
        ("On", true),
        ("false", false),
        ("NO", false),
        ("off", false),
    ] {
        assert_eq!(
            kind(&parse(&format!("x={text}")), "x"),
            &Kind::Bool(b),
            "{text}"
        );
    }
    // Quoted booleans are strings.
    assert_eq!(kind(&parse("x='true'"), "x"), &Kind::String("true".into()));
}

#[test]
fn strings_of_every_kind() {
    let m = parse(
        "a = \"x\\ty\\n\\r\\\"\\\\\\x41\"\nb = 'no \\t escape'\nc = bare\\tword\nd = 127.0.0.1:4222\ne = 3xyz\nf = \"\"",
    );
    assert_eq!(kind(&m, "a"), &Kind::String("x\ty\n\r\"\\A".into()));
    assert_eq!(kind(&m, "b"), &Kind::String("no \\t escape".into()));
    assert_eq!(kind(&m, "c"), &Kind::String("bare\tword".into()));
    assert_eq!(kind(&m, "d"), &Kind::String("127.0.0.1:4222".into()));
    assert_eq!(kind(&m, "e"), &Kind::String("3xyz".into()));
    assert_eq!(kind(&m, "f"), &Kind::String(String::new()));
    // A block string runs to a ')' alone on its line.
    let m = parse("a = (\nline one\n  (x) y\n)\nb = 1");
    assert_eq!(kind(&m, "a"), &Kind::String("\nline one\n  (x) y\n".into()));
    assert_eq!(kind(&m, "b"), &Kind::Integer(1));
    // Go keeps the ')' when it ends the input.
    assert_eq!(
        kind(&parse("a = (\nx\n)"), "a"),
        &Kind::String("\nx\n)".into())
    );
}

// Go: TestConvenientNumbers
#[test]
fn size_suffixes() {
    let m = parse(
        "k = 8k\nkb = 4kb\nki = 3ki\nkib = 4ki\nm = 1m\nmb = 2MB\nmi = 2Mi\nmib = 64MiB\n\
         g = 2g\ngb = 22GB\ngi = 22Gi\ngib = 22GiB\nt = 3T\ntb = 22TB\nti = 22Ti\ntib = 22TiB\n\
         p = 1p\npb = 22PB\npi = 22Pi\npib = 22PiB\ne = 2e\neb = 1EB\nneg = -2k",
    );
    let k: i64 = 1024;
    for (key, want) in [
        ("k", 8_000),
        ("kb", 4 * k),
        ("ki", 3 * k),
        ("kib", 4 * k),
        ("m", 1_000_000),
        ("mb", 2 * k * k),
        ("mi", 2 * k * k),
        ("mib", 64 * k * k),
        ("g", 2_000_000_000),
        ("gb", 22 * k * k * k),
        ("gi", 22 * k * k * k),
        ("gib", 22 * k * k * k),
        ("t", 3_000_000_000_000),
        ("tb", 22 * k.pow(4)),
        ("ti", 22 * k.pow(4)),
        ("tib", 22 * k.pow(4)),
        ("p", 1_000_000_000_000_000),
        ("pb", 22 * k.pow(5)),
        ("pi", 22 * k.pow(5)),
        ("pib", 22 * k.pow(5)),
        ("e", 2_000_000_000_000_000_000),
        ("eb", k.pow(6)),
        ("neg", -2000),
    ] {
        assert_eq!(kind(&m, key), &Kind::Integer(want), "{key}");
    }
    // Go's int64 multiplication wraps.
    assert_eq!(
        kind(&parse("x = 10e"), "x"),
        &Kind::Integer(10i64.wrapping_mul(1_000_000_000_000_000_000))
    );
    // A suffix-like tail that is not a number is a string.
    assert_eq!(kind(&parse("x = 1kx"), "x"), &Kind::String("1kx".into()));
    // A digit after the suffix makes a string too (Go 2.15.1; checked against its -t):
    // unquoted passwords such as `0K1abc`, and exponent notation, which is not a float.
    for text in ["1e21", "2k3", "-1e5", "0K1abc", "5e7bcd", "1Kb2"] {
        assert_eq!(
            kind(&parse(&format!("x = {text}")), "x"),
            &Kind::String(text.into()),
            "{text}"
        );
    }
}

#[test]
fn unknown_suffix_is_dropped_like_go() {
    // Go skips the value and leaves its key pending: `b` keeps its own value here...
    let m = parse("a = 1kbb\nb = 2");
    assert!(m.get("a").is_none());
    assert_eq!(kind(&m, "b"), &Kind::Integer(2));
    // ...and inside a map the pending key takes the map (nats-server: `1:4: unknown field "a"`).
    let m = parse("x { a = 1kbb }");
    assert!(m.get("x").is_none());
    assert!(matches!(kind(&m, "a"), Kind::Map(inner) if inner.is_empty()));
    assert_eq!(pos_of(&m, "a"), (1, 4));
}

// Go: TestSample5
#[test]
fn datetimes() {
    let m = parse("now = 2016-05-04T18:53:41Z\ngmt = false");
    let want = Datetime {
        year: 2016,
        month: 5,
        day: 4,
        hour: 18,
        minute: 53,
        second: 41,
    };
    assert_eq!(kind(&m, "now"), &Kind::Datetime(want));
    assert_eq!(want.to_string(), "2016-05-04T18:53:41Z");
    assert_eq!(
        kind(&parse("d = 2024-02-29T00:00:00Z"), "d").go_type(),
        "time.Time"
    );
    assert_eq!(
        parse_err("a = 2016-13-04T18:53:41Z"),
        "expected Zulu formatted DateTime, but got '2016-13-04T18:53:41Z'"
    );
    assert_eq!(
        parse_err("a = 2023-02-29T00:00:00Z"),
        "expected Zulu formatted DateTime, but got '2023-02-29T00:00:00Z'"
    );
}

// Go: TestSample1..4, TestJSONParseCompat, TestBlocks
#[test]
fn maps_arrays_and_blocks() {
    let m = parse(
        "foo  {\n  host {\n    ip   = '127.0.0.1'\n    port = 4242\n  }\n  servers = [ \"a.com\", \"b.com\", \"c.com\"]\n}\n",
    );
    let Kind::Map(foo) = kind(&m, "foo") else {
        panic!("foo is not a map")
    };
    let Kind::Map(host) = kind(foo, "host") else {
        panic!("host is not a map")
    };
    assert_eq!(kind(host, "port"), &Kind::Integer(4242));
    let Kind::Array(servers) = kind(foo, "servers") else {
        panic!("servers is not an array")
    };
    let names: Vec<_> = servers.iter().map(|v| v.kind.clone()).collect();
    assert_eq!(
        names,
        ["a.com", "b.com", "c.com"].map(|s| Kind::String(s.into()))
    );
    // Arrays separated by new lines, with comments.
    let m = parse("a = [\n  1 # one\n  2 // two\n  'x'\n]");
    assert!(matches!(kind(&m, "a"), Kind::Array(v) if v.len() == 3));
    // JSON-like input and top-level blocks.
    let m = parse(
        "{\n  \"http_port\": 8227,\n  \"cluster\": {\"port\": 6222, \"routes\": [\"nats://a:1\", \"nats://b:2\"]}\n}\n",
    );
    assert_eq!(kind(&m, "http_port"), &Kind::Integer(8227));
    let m = parse("\n{\n  {\n    listen: 0.0.0.0:4222 // c\n  }\n  # w\n}\n# w2\n");
    assert_eq!(kind(&m, "listen"), &Kind::String("0.0.0.0:4222".into()));
    // Go: TestParseWithTrailingBracketsAreValid
    for ok in ["{}", "\n{\n# c\n}\n", "\naccounts { users = [{}]}\n}\n"] {
        parse(ok);
    }
    // Go: TestParseWithNoValuesEmptyConfigsAreValid
    for empty in ["", "\n\n   ", "\n# just comments\n# here\n"] {
        assert!(parse(empty).is_empty());
    }
}

#[test]
fn map_keeps_insertion_order_and_exact_keys() {
    let m = parse("z = 1\na = 2\nPort = 3\nport = 4\nz = 5");
    let keys: Vec<_> = m.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["z", "a", "Port", "port"]);
    assert_eq!(kind(&m, "z"), &Kind::Integer(5));
    assert_eq!(
        m.get_ignore_case("PORT").map(|v| &v.kind),
        Some(&Kind::Integer(3))
    );
    assert!(m.get("PORT").is_none());
}

// Positions as nats-server reports them in `unknown field` / type errors.
#[test]
fn positions_follow_go() {
    // First line: 0-based; later lines: 1-based.
    let m = parse("foo = 1");
    assert_eq!(pos_of(&m, "foo"), (1, 0));
    let m = parse("\n  foo = 1\n  bar { baz = 2 }\n  arr = [1, \"x\", {a=1}]");
    assert_eq!(pos_of(&m, "foo"), (2, 3));
    assert_eq!(pos_of(&m, "bar"), (3, 3));
    assert_eq!(pos_of(&m, "arr"), (4, 3));
    // Quoted keys start after the quote.
    let m = parse("w {\n\tfoo = 1\n  \"bar\": 2\n  'baz' 3\n}");
    let Kind::Map(w) = kind(&m, "w") else {
        panic!("w")
    };
    assert_eq!(pos_of(w, "foo"), (2, 2));
    assert_eq!(pos_of(w, "bar"), (3, 4));
    assert_eq!(pos_of(w, "baz"), (4, 4));
    // Array elements keep their own positions.
    let m = parse("t: [\n  1,\n    2.5, true\n]");
    let Kind::Array(t) = kind(&m, "t") else {
        panic!("t")
    };
    let pos: Vec<_> = t.iter().map(|v| (v.pos.line, v.pos.column)).collect();
    assert_eq!(pos, [(2, 3), (3, 5), (3, 10)]);
    // Escapes do not shift later positions on the same line.
    let m = parse("w { foo = \"a\\tb\" ; bar = 2 }");
    let Kind::Map(w) = kind(&m, "w") else {
        panic!("w")
    };
    assert_eq!(pos_of(w, "foo"), (1, 4));
    assert_eq!(pos_of(w, "bar"), (1, 19));
    // After a block string.
    let m = parse("w {\n  foo = (\nblock\n)\n  bar = 2 }");
    let Kind::Map(w) = kind(&m, "w") else {
        panic!("w")
    };
    assert_eq!(pos_of(w, "foo"), (2, 3));
    assert_eq!(pos_of(w, "bar"), (5, 3));
    assert_eq!(
        &*m.get("w").map(|v| v.pos.file.clone()).unwrap_or_default(),
        ""
    );
}

// Go: TestSimpleVariable, TestNestedVariable, TestBcryptVariable, TestMissingVariable
#[test]
fn variables() {
    let m = parse("\n  index = 22\n  foo = $index\n");
    assert_eq!(kind(&m, "foo"), &Kind::Integer(22));
    assert!(m.get("index").is_some_and(|v| v.used_variable));
    assert!(m.get("foo").is_some_and(|v| !v.used_variable));
    // The copy is positioned at the referencing key.
    assert_eq!(pos_of(&m, "foo"), (3, 3));
    let m = parse("index = 22\nnest {\n  index = 11\n  foo = $index\n}\nbar = $index");
    let Kind::Map(nest) = kind(&m, "nest") else {
        panic!("nest")
    };
    assert_eq!(kind(nest, "foo"), &Kind::Integer(11));
    assert_eq!(kind(&m, "bar"), &Kind::Integer(22));
    // Maps and arrays are copied whole; variables work in arrays.
    let m = parse("a = {x = 1}\nb = [$a, $a]");
    assert!(matches!(kind(&m, "b"), Kind::Array(v) if v.len() == 2));
    assert_eq!(
        kind(&parse("password: $2a$11$ooo"), "password"),
        &Kind::String("$2a$11$ooo".into())
    );
    assert_eq!(
        parse_err("foo=$index"),
        "variable reference for 'index' on line 1 can not be found"
    );
    // Variables are case-sensitive.
    assert_eq!(
        parse_err("Index = 1\nfoo = $index"),
        "variable reference for 'index' on line 2 can not be found"
    );
}

// Go: TestEnvVariable*, lookupVariable's cycle detection
#[test]
fn environment_fallback() {
    let env = |name: &str| -> Option<String> {
        match name {
            "NUM" => Some("22".into()),
            "STR" => Some("xyz".into()),
            "SIZE" => Some("3Gyz".into()),
            "QUOTED" => Some("'3xyz'".into()),
            "MAP" => Some("{ a: 1 }".into()),
            "index" => Some("from env".into()),
            "LOOP_A" => Some("$LOOP_B".into()),
            "LOOP_B" => Some("$LOOP_A".into()),
            "BAD" => Some("[1".into()),
            _ => None,
        }
    };
    let parse_env = |text: &str| Parser::new().env(&env).parse_bytes(text.as_bytes());
    let m = parse_env("a = $NUM\nb = $STR\nc = $SIZE\nd = $QUOTED\ne = $MAP").unwrap_or_default();
    assert_eq!(kind(&m, "a"), &Kind::Integer(22));
    assert_eq!(kind(&m, "b"), &Kind::String("xyz".into()));
    assert_eq!(kind(&m, "c"), &Kind::String("3Gyz".into()));
    assert_eq!(kind(&m, "d"), &Kind::String("3xyz".into()));
    assert!(matches!(kind(&m, "e"), Kind::Map(inner) if inner.len() == 1));
    assert_eq!(pos_of(&m, "e"), (5, 1));
    // Config definitions win over the environment.
    let m = parse_env("index = 1\nx = $index").unwrap_or_default();
    assert_eq!(kind(&m, "x"), &Kind::Integer(1));
    let err = parse_env("x = $LOOP_A").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "variable reference for 'LOOP_A' on line 1 could not be parsed: \
             variable reference for 'LOOP_B' on line 1 could not be parsed: \
             variable reference for 'LOOP_A' on line 1 could not be parsed: \
             variable reference cycle for 'LOOP_A'"
        )
    );
    let err = parse_env("x = $BAD").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "variable reference for 'BAD' on line 1 could not be parsed: \
             Parse error on line 1: 'Expected an array value terminator \",\" or an array terminator \"]\", but got '\0' instead.'"
        )
    );
}

// Lexer errors, texts as nats-server prints them.
#[test]
fn syntax_errors() {
    for (text, want) in [
        ("a = \"abc", "Parse error on line 1: 'Unexpected EOF.'"),
        (
            "a = {\n b = 1",
            "Parse error on line 2: 'Expected a map value terminator \",\" or a map terminator \"}\", but got '\0' instead.'",
        ),
        (
            "a = \"\\q\"",
            "Parse error on line 1: 'Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.'",
        ),
        (
            "a = \"\\xZZ\"",
            "Parse error on line 1: 'Expected two hexadecimal digits after '\\x', but got 'ZZ''",
        ),
        (
            "a = \"\\x\n1\"",
            "Parse error on line 2: 'Expected two hexadecimal digits after '\\x', but hit end of line'",
        ),
        (
            "a = 12-3",
            "Parse error on line 1: 'All ISO8601 dates must be in full Zulu form.'",
        ),
        (
            "a = 2016-05-04T18:53:41",
            "Parse error on line 1: 'Expected 'Z' in ISO8601 datetime, but found '\0' instead.'",
        ),
        (
            "a = 2016-05-0xT18:53:41Z",
            "Parse error on line 1: 'Expected digit in ISO8601 datetime, but found 'x' instead.'",
        ),
        (
            "a = .5",
            "Parse error on line 1: 'Floats must start with a digit'",
        ),
        (
            "a = -.5",
            "Parse error on line 1: 'Floats must start with a digit, not '.'.'",
        ),
        (
            "a = -x",
            "Parse error on line 1: 'Expected a digit but got 'x'.'",
        ),
        (
            "a = 1.x",
            "Parse error on line 1: 'Floats must have a digit after the '.', but got 'x' instead.'",
        ),
        (
            "a = (\nfoo",
            "Parse error on line 2: 'Unexpected EOF processing block.'",
        ),
        (
            "a = [1,,2]",
            "Parse error on line 1: 'Unexpected array value terminator ','.'",
        ),
        (
            "a = [1 2]",
            "Parse error on line 1: 'Expected an array value terminator \",\" or an array terminator \"]\", but got '2' instead.'",
        ),
        (
            "a = {,}",
            "Parse error on line 1: 'Unexpected EOF processing map key.'",
        ),
        (
            "a = { = 1 }",
            "Parse error on line 1: 'Unexpected key separator '='.'",
        ),
        (
            "a = { ] }",
            "Parse error on line 1: 'Unexpected array end ']' processing map.'",
        ),
        (
            "a = {",
            "Parse error on line 1: 'Unexpected EOF processing map.'",
        ),
        (
            "a = { 'k",
            "Parse error on line 1: 'Unexpected EOF processing quoted map key.'",
        ),
        (
            "a = { \"k",
            "Parse error on line 1: 'Unexpected EOF processing double quoted map key.'",
        ),
        (
            "a = { b = , }",
            "Parse error on line 1: 'Unexpected map value terminator \",\".'",
        ),
        (
            "= 1",
            "Parse error on line 1: 'Unexpected key separator '=''",
        ),
        (
            "a = 1 b",
            "Parse error on line 1: 'Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead.'",
        ),
        (
            "a =\n1",
            "Parse error on line 2: 'Expected value but found new line'",
        ),
        ("/x", "Parse error on line 1: 'Unexpected EOF.'"),
        (
            "{ a = 1 x }",
            "Parse error on line 1: 'Expected a block-level value to end with a new line, comment or EOF, but got 'x' instead.'",
        ),
        (
            "{ { a = 1 } x }",
            "Parse error on line 1: 'Expected a block-level to end with a '}', but got 'x' instead.'",
        ),
        (
            "include [x]",
            "Parse error on line 1: 'Expected include value but found start of an array'",
        ),
        (
            "include {x}",
            "Parse error on line 1: 'Expected include value but found start of a map'",
        ),
        (
            "include (x)",
            "Parse error on line 1: 'Expected include value but found start of a block'",
        ),
        (
            "include 5",
            "Parse error on line 1: 'Expected include value but found start of a number'",
        ),
        (
            "include \\x",
            "Parse error on line 1: 'Expected include value but found escape sequence'",
        ),
        (
            "include \"x",
            "Parse error on line 1: 'Unexpected EOF in double quoted include'",
        ),
        (
            "include 'x",
            "Parse error on line 1: 'Unexpected EOF in quoted include'",
        ),
        // Go: TestParserNoInfiniteLoop
        (
            "A@@Føøøø?˛ø:{øøøø˙˙",
            "Parse error on line 1: 'Unexpected EOF processing map key.'",
        ),
    ] {
        assert_eq!(parse_err(text), want, "{text:?}");
    }
}

// Go: TestParseWithNoValuesAreInvalid
#[test]
fn key_without_value_is_invalid() {
    for (text, want) in [
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "config is invalid (:1:41)",
        ),
        (
            "              aaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "config is invalid (:1:41)",
        ),
        (
            "     aaaaaaaaaaaaaaaaaaaaaaaaaaa         ",
            "config is invalid (:1:41)",
        ),
        (
            "\n          \t\t# with comments\n         \t\t# is invalid\n         \t\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n                        ",
            "config is invalid (:5:25)",
        ),
        (
            "\n                        a,a,a,a,a,a,a,a,a,a,a\n                        ",
            "config is invalid (:3:25)",
        ),
    ] {
        assert_eq!(parse_err(text), want, "{text:?}");
    }
}

#[test]
fn numbers_out_of_range() {
    assert_eq!(
        parse_err("a = 99999999999999999999"),
        "integer '99999999999999999999' is out of the range"
    );
    assert_eq!(
        kind(&parse("a = -9223372036854775808"), "a"),
        &Kind::Integer(i64::MIN)
    );
    let huge = format!("a = 1{}.0", "0".repeat(400));
    assert!(parse_err(&huge).starts_with("float '1000"));
    assert!(parse_err(&huge).ends_with("' is out of the range"));
}

#[test]
fn nul_bytes_and_invalid_utf8_never_panic() {
    assert_eq!(parse_err("a\0"), "config is invalid (:1:1)");
    let bytes = b"a = \xff\xfe\nb = \"\xc3\"";
    let m = Parser::new()
        .env(&no_env)
        .parse_bytes(bytes)
        .unwrap_or_default();
    assert_eq!(kind(&m, "a"), &Kind::String("\u{fffd}\u{fffd}".into()));
    // Every prefix of a varied input parses or fails cleanly.
    let sample = "a { b = [1, 2k, \"x\\ty\", (\nblk\n), 2016-05-04T18:53:41Z, $c] } include 'q'\n";
    for end in 0..=sample.len() {
        if let Some(prefix) = sample.get(..end) {
            let _ = Parser::new().env(&no_env).parse_bytes(prefix.as_bytes());
        }
    }
}

#[test]
fn nesting_limit() {
    let ok = format!("a = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    parse(&ok);
    let deep = format!(
        "a = {}{}",
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(
        parse_err(&deep),
        format!(
            "config nesting is deeper than 64 levels (:1:{})",
            4 + MAX_DEPTH + 1
        )
    );
    let maps = format!(
        "a {}{}",
        "{b ".repeat(MAX_DEPTH + 1),
        "}".repeat(MAX_DEPTH + 1)
    );
    assert!(parse_err(&maps).starts_with("config nesting is deeper than 64 levels"));
    // Variables cannot be used to build deeper trees.
    let inner = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let text = format!("a = {inner}\nb = [$a]");
    assert!(parse_err(&text).starts_with("config nesting is deeper than 64 levels"));
    // Top-level `{` blocks do not grow the lexer stack without bound.
    let blocks = "{".repeat(100_000);
    assert!(parse_err(&blocks).contains("Maximum nesting depth"));
}

#[test]
fn value_budget_stops_exponential_variables() {
    let mut text = String::from("v0 = [\"a\", \"b\"]\n");
    for i in 1..40 {
        text.push_str(&format!("v{i} = [$v{}, $v{}]\n", i - 1, i - 1));
    }
    assert_eq!(parse_err(&text), "config has more than 1048576 values");
}

// Go: TestIncludes, TestIncludeVariablesWithChecks, TestParseWithNoValuesIncludes
#[test]
fn includes() {
    let main = data_dir().join("include_main.conf");
    let m = match parse_file(&main) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(kind(&m, "listen"), &Kind::String("127.0.0.1:4222".into()));
    let Kind::Map(auth) = kind(&m, "authorization") else {
        panic!("authorization")
    };
    // Included values keep their own file and position, and can be used as variables.
    let alice = auth.get("ALICE_PASS");
    assert!(alice.is_some_and(|v| v.used_variable));
    let alice_pos = alice.map(|v| (v.pos.file.to_string(), v.pos.line, v.pos.column));
    let inc = go_join(&go_dir(&main.to_string_lossy()), "includes/passwords.conf");
    assert_eq!(alice_pos, Some((inc, 1, 0)));
    assert_eq!(pos_of(auth, "BOB_PASS"), (2, 1));
    assert_eq!(pos_of(auth, "CAROL_PASS"), (7, 3));
    let Kind::Array(users) = kind(auth, "users") else {
        panic!("users")
    };
    assert_eq!(users.len(), 3);
    let Some(Kind::Map(first)) = users.first().map(|v| &v.kind) else {
        panic!("user")
    };
    assert_eq!(
        kind(first, "password"),
        &Kind::String("$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q".into())
    );
    assert_eq!(kind(auth, "timeout"), &Kind::Float(0.5));

    // Includes of a string resolve against the base directory.
    let m = Parser::new()
        .env(&no_env)
        .base_dir(&data_dir())
        .parse_bytes(b"include 'includes/passwords.conf'");
    assert!(m.is_ok_and(|m| m.len() == 2));
}

#[test]
fn include_errors() {
    let dir = data_dir();
    let parse_in = |text: &str| {
        Parser::new()
            .env(&no_env)
            .base_dir(&dir)
            .parse_bytes(text.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let base = dir.to_string_lossy().into_owned();
    assert_eq!(
        parse_in("include nope.conf"),
        format!(
            "error parsing include file 'nope.conf', open {base}/nope.conf: no such file or directory"
        )
    );
    assert_eq!(
        parse_in("include 'bad_value.conf'"),
        format!(
            "error parsing include file 'bad_value.conf', config is invalid ({base}/bad_value.conf:1:34)"
        )
    );
    // A file that includes itself stops at the include depth limit.
    let err = parse_in("include 'self.conf'");
    assert!(err.starts_with(
        "error parsing include file 'self.conf', error parsing include file 'self.conf'"
    ));
    assert!(
        err.ends_with("include nesting is deeper than 16 levels"),
        "{err}"
    );
    assert_eq!(
        parse_in("include 'includes'"),
        format!("error parsing include file 'includes', read {base}/includes: is a directory")
    );
}

#[test]
fn go_path_helpers() {
    assert_eq!(go_dir("a.conf"), ".");
    assert_eq!(go_dir("./configs/a.conf"), "configs");
    assert_eq!(go_dir("/etc/nats/a.conf"), "/etc/nats");
    assert_eq!(go_join(".", "x.conf"), "x.conf");
    assert_eq!(go_join("/a/b", "../c//./d.conf"), "/a/c/d.conf");
    assert_eq!(go_join("/a", "/abs.conf"), "/a/abs.conf");
    assert_eq!(go_join("..", "../x"), "../../x");
}

#[test]
fn missing_file() {
    let err = parse_file(Path::new("/nonexistent/x.conf"))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("open /nonexistent/x.conf: no such file or directory")
    );
}
