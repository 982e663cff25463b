//! Go's `%q` / `strconv.Quote` for error texts that must match the Go server byte for byte.

use std::fmt::Write;

/// Quotes `s` the way Go's `strconv.Quote` does: printable characters kept, the usual
/// escapes for `\a \b \f \n \r \t \v \\ \"`, `\xNN` for other bytes below 0x80 and for
/// invalid UTF-8, `\uNNNN`/`\UNNNNNNNN` for non-printable code points.
pub fn quote(s: &str) -> String {
    quote_bytes(s.as_bytes())
}

/// Like [`quote`] for bytes that may not be UTF-8 (Go strings are byte strings).
pub fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        c if is_go_printable(c) => out.push(c),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Control, format, surrogate, private-use and unassigned-looking ranges
/// are not printable. Exact for ASCII and Latin-1, which is what error texts carry.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if (0x80..0xa0).contains(&u) || u == 0xad {
        return false;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Format characters and private use areas commonly hit.
    !matches!(u, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xe000..=0xf8ff | 0xfff9..=0xfffb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_strconv_quote() {
        assert_eq!(quote("Sec-WebSocket-Key"), "\"Sec-WebSocket-Key\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("tab\there\n"), "\"tab\\there\\n\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
        assert_eq!(quote("\u{7f}"), "\"\\x7f\"");
        assert_eq!(quote("héllo"), "\"héllo\"");
        assert_eq!(quote("\u{a0}"), "\"\\u00a0\"");
        assert_eq!(quote_bytes(b"\xff\xfe"), "\"\\xff\\xfe\"");
        assert_eq!(quote("\u{feff}"), "\"\\ufeff\"");
    }
}
