//! Bytes and text written as fixture YAML (the schema's `ByteSpec` forms).

/// A YAML double-quoted string of printable ASCII `text` (with `\r`, `\n`, `\t`).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A byte string as a fixture `ByteSpec`: quoted text when it is printable ASCII, else
/// `{hex: "..."}`.
pub fn bytes(b: &[u8]) -> String {
    let printable = b
        .iter()
        .all(|&c| (0x20..0x7f).contains(&c) || matches!(c, b'\r' | b'\n' | b'\t'));
    match std::str::from_utf8(b) {
        Ok(text) if printable => {
            if text.len() > 64 && text.bytes().all(|c| c == text.as_bytes()[0]) {
                // Long runs (over-limit lines) stay readable.
                let unit = quote(&text[..1]);
                return format!("{{repeat: {{text: {unit}, times: {}}}}}", text.len());
            }
            quote(text)
        }
        _ => {
            let hex: Vec<String> = b.iter().map(|c| format!("{c:02x}")).collect();
            format!("{{hex: \"{}\"}}", hex.join(" "))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bytes::ByteSpec;

    #[test]
    fn written_bytes_read_back_the_same() {
        let samples: [&[u8]; 6] = [
            b"",
            b"PUB a 1\r\nx\r\n",
            b"say \"hi\" \\ \t",
            &[0, 1, 0xff, 0x80],
            b"CONNECT {\"verbose\":true}\r\n",
            &[b'x'; 300],
        ];
        for s in samples {
            let spec: ByteSpec = serde_saphyr::from_str(&bytes(s)).unwrap();
            assert_eq!(spec.build().unwrap(), s, "{}", bytes(s));
        }
    }
}
