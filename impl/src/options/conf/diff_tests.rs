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
