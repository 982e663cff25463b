//! Regressions found by `scripts/conf-diff.py` (differential runs against nats-server
//! v2.15.1 `-t -c`): each input with the tree or error Go gives for it.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Map, String> {
    Parser::new()
        .env(&no_env)
        .parse_bytes(text.as_bytes())
        .map_err(|e| e.to_string())
}

/// `n [Y,'`: an empty single-quoted string cut by the end of input lexes as the end of
/// input; Go returns its top-level map without the unfinished `n` and no error (then
/// `-t` says `config has no values or is empty`). We used to fail with `BUG in parser,
/// context stack unbalanced at end of input`.
#[test]
fn unfinished_value_at_eof_is_dropped() {
    assert_eq!(parse("n [Y,'").map(|m| m.len()), Ok(0));
    // After a key, Go's end-of-input check applies instead.
    assert_eq!(
        parse("n {a: '").map(|m| m.len()),
        Err("config is invalid (:1:7)".to_owned())
    );
    let kept =
        parse("a = 1\nn [Y,'").map(|m| m.iter().map(|(k, _)| k.to_owned()).collect::<Vec<_>>());
    assert_eq!(kept, Ok(vec!["a".to_owned()]));
}

/// `accounts=$CD_ARR` with `CD_ARR=[1, two, 3.5]`: Go parses an environment value
/// without positions (`parseEnv` is not pedantic), so an error about an element inside
/// it names the referencing entry: `main.conf:1:0: interface conversion: ...` from Go;
/// ours named the element in the sub-parse, `:1:4`.
#[test]
fn values_inside_an_environment_value_take_the_referencing_position() {
    let env = |name: &str| (name == "CD_ARR").then(|| "[1, two, {x: 3.5}]".to_owned());
    let map = Parser::new()
        .env(&env)
        .parse_bytes(b"a = 1\naccounts=$CD_ARR")
        .map_err(|e| e.to_string());
    let map = match map {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let Some(outer) = map.get("accounts") else {
        panic!("no accounts: {map:?}");
    };
    let Kind::Array(items) = &outer.kind else {
        panic!("not an array: {outer:?}");
    };
    let mut seen = 0;
    for item in items {
        assert_eq!((item.pos.line, item.pos.column), (2, 1), "{item:?}");
        if let Kind::Map(m) = &item.kind {
            for (_, v) in m.iter() {
                assert_eq!((v.pos.line, v.pos.column), (2, 1), "{v:?}");
                seen += 1;
            }
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
    assert_eq!((outer.pos.line, outer.pos.column), (2, 1));
}
