//! Subject validation (Go: `IsValidSubject`, `IsValidLiteralSubject` in `sublist.go`).

/// A subject for SUB: non-empty tokens separated by `.`; `*` matches one token and `>`
/// (last token only) the rest; no whitespace.
pub fn is_valid_subject(subject: &[u8]) -> bool {
    if subject.is_empty() {
        return false;
    }
    let mut tokens = subject.split(|&b| b == b'.').peekable();
    while let Some(t) = tokens.next() {
        if t.is_empty() || t.iter().any(|b| b.is_ascii_whitespace()) {
            return false;
        }
        if t == b">" && tokens.peek().is_some() {
            return false;
        }
    }
    true
}

/// A subject for PUB: valid, and no wildcard tokens.
pub fn is_valid_literal_subject(subject: &[u8]) -> bool {
    is_valid_subject(subject)
        && subject
            .split(|&b| b == b'.')
            .all(|t| t != b"*" && t != b">")
}

/// Whether the literal `subject` matches `pattern` (which may hold wildcards).
pub fn matches(pattern: &[u8], subject: &[u8]) -> bool {
    let mut p = pattern.split(|&b| b == b'.');
    let mut s = subject.split(|&b| b == b'.');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some(b">"), Some(_)) => return true,
            (Some(b"*"), Some(_)) => {}
            (Some(pt), Some(st)) if pt == st => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        for ok in [
            "foo",
            "foo.bar",
            "foo.*",
            "foo.>",
            "*",
            ">",
            "foo.*.bar",
            "f*o",
        ] {
            assert!(is_valid_subject(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "foo..bar", ".foo", "foo.", "foo.>.bar", "a b"] {
            assert!(!is_valid_subject(bad.as_bytes()), "{bad}");
        }
        assert!(is_valid_literal_subject(b"foo.bar"));
        assert!(!is_valid_literal_subject(b"foo.*"));
        assert!(!is_valid_literal_subject(b"foo.>"));
    }

    #[test]
    fn matching() {
        assert!(matches(b"foo.*", b"foo.bar"));
        assert!(!matches(b"foo.*", b"foo.bar.baz"));
        assert!(matches(b"foo.>", b"foo.bar.baz"));
        assert!(!matches(b"foo.>", b"foo"));
        assert!(matches(b">", b"foo"));
        assert!(matches(b"foo", b"foo"));
        assert!(!matches(b"foo", b"foo.bar"));
    }
}
