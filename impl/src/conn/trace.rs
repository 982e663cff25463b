//! Protocol trace lines (`-V`, `trace: true`), in Go's shapes (client.go `traceOp`,
//! `traceMsgInternal`, `removeSecretsFromTrace`): `<<- [PUB foo 5]`,
//! `<<- MSG_PAYLOAD: ["hello"]`, `->> [OK]`.

use crate::goquote::quote_bytes;
use crate::nats::ops::Delivery;

/// Whether a connection traces its protocol, and how much of a payload it shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trace {
    /// No trace (the default).
    #[default]
    Off,
    /// Trace every op; payloads longer than `max_payload` (`max_traced_msg_len`; 0:
    /// unlimited) are cut there and end in `...`.
    On {
        /// Go: `MaxTracedMsgLen`.
        max_payload: usize,
        /// Go: `TraceHeaders`.
        part: TracedPart,
    },
}

/// Which part of a message a payload trace line shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracedPart {
    /// Headers and body.
    #[default]
    Whole,
    /// `trace_headers`: only the header block (messages without headers: no line).
    HeadersOnly,
}

/// Go `traceMsgInternal`'s choice of bytes: the whole message, or with `trace_headers`
/// the header block without its closing blank line.
pub(crate) fn traced_bytes(payload: &[u8], header_len: Option<usize>, part: TracedPart) -> &[u8] {
    match part {
        TracedPart::Whole => payload,
        TracedPart::HeadersOnly => header_len
            .and_then(|h| payload.get(..h))
            .map_or(&[], |block| {
                block
                    .get(..block.len().saturating_sub(4))
                    .unwrap_or_default()
            }),
    }
}

/// Which way an op went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// From the client (`<<-`).
    In,
    /// To the client (`->>`).
    Out,
}

impl Dir {
    fn arrow(self) -> &'static str {
        match self {
            Dir::In => "<<-",
            Dir::Out => "->>",
        }
    }
}

/// Go `traceOp`: `<<- [OP arg]` (Go formats the `[]any{op, arg}` slice).
pub(crate) fn op_line(dir: Dir, op: &str, arg: Option<&[u8]>) -> String {
    match arg {
        Some(a) => format!("{} [{op} {}]", dir.arrow(), String::from_utf8_lossy(a)),
        None => format!("{} [{op}]", dir.arrow()),
    }
}

/// Go `traceMsgInternal`: `<<- MSG_PAYLOAD: ["..."]` with Go's `%q` quoting, cut at
/// `max` bytes with `...` inside the quotes; nothing for an empty payload.
pub(crate) fn payload_line(dir: Dir, payload: &[u8], max: usize) -> Option<String> {
    if payload.is_empty() {
        return None;
    }
    let arrow = dir.arrow();
    if max > 0 && payload.len() > max {
        let q = quote_bytes(payload.get(..max).unwrap_or(payload));
        let inner = q.get(1..q.len() - 1).unwrap_or_default();
        Some(format!("{arrow} MSG_PAYLOAD: [\"{inner}...\"]"))
    } else {
        Some(format!("{arrow} MSG_PAYLOAD: [{}]", quote_bytes(payload)))
    }
}

/// Go `deliverMsg`'s trace of a delivery: `->> [MSG subject sid [reply] size]` (or HMSG
/// with the header size), then its payload line. (The server's router calls it.)
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn delivery_lines(
    msg: &Delivery<'_>,
    sid: &[u8],
    max: usize,
    part: TracedPart,
) -> Vec<String> {
    let mut line = Vec::with_capacity(msg.subject.len() + sid.len() + 32);
    line.extend_from_slice(if msg.header_len.is_some() {
        b"HMSG "
    } else {
        b"MSG "
    });
    line.extend_from_slice(msg.subject);
    line.push(b' ');
    line.extend_from_slice(sid);
    if let Some(r) = msg.reply {
        line.push(b' ');
        line.extend_from_slice(r);
    }
    if let Some(h) = msg.header_len {
        line.extend_from_slice(format!(" {h}").as_bytes());
    }
    line.extend_from_slice(format!(" {}", msg.payload.len()).as_bytes());
    let mut out = vec![format!("->> [{}]", String::from_utf8_lossy(&line))];
    let traced = traced_bytes(msg.payload, msg.header_len, part);
    out.extend(payload_line(Dir::Out, traced, max));
    out
}

/// Go `removeSecretsFromTrace`: the values of `pass*` and `auth_token*` keys, and of
/// `sig`, `proxy_sig` and `nkey`, become `[REDACTED]` in a traced CONNECT.
pub(crate) fn redact_connect(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let mut i = 0;
    while i < json.len() {
        if let Some((value_start, value_end)) = secret_at(json, i) {
            out.extend_from_slice(json.get(i..value_start).unwrap_or_default());
            out.extend_from_slice(b"[REDACTED]");
            i = value_end;
        } else {
            out.extend(json.get(i).copied());
            i += 1;
        }
    }
    out
}

/// If a secret key's quoted name starts at `i`, the range of its value (Go's patterns:
/// the value runs to the next `"`, `,`, `}` or line end).
fn secret_at(json: &[u8], i: usize) -> Option<(usize, usize)> {
    let rest = json.get(i..)?.strip_prefix(b"\"")?;
    let name_len = rest.iter().position(|&b| b == b'"')?;
    let name = rest.get(..name_len)?;
    let prefix = name.starts_with(b"pass") || name.starts_with(b"auth_token");
    let exact = matches!(name, b"sig" | b"proxy_sig" | b"nkey");
    // Go's exact pattern wants no word character before the key's quote.
    let word_before = i
        .checked_sub(1)
        .and_then(|p| json.get(p))
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !(prefix || exact && !word_before) {
        return None;
    }
    let mut j = i + 1 + name_len + 1;
    let skip_ws = |j: &mut usize| {
        while json.get(*j).is_some_and(u8::is_ascii_whitespace) {
            *j += 1;
        }
    };
    skip_ws(&mut j);
    if !matches!(json.get(j), Some(b':' | b'=')) {
        return None;
    }
    j += 1;
    skip_ws(&mut j);
    if json.get(j) == Some(&b'"') {
        j += 1;
    }
    let start = j;
    while json
        .get(j)
        .is_some_and(|b| !matches!(b, b'"' | b',' | b'\r' | b'\n' | b'}'))
    {
        j += 1;
    }
    Some((start, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_go_shapes() {
        assert_eq!(op_line(Dir::In, "PUB", Some(b"foo 12")), "<<- [PUB foo 12]");
        assert_eq!(op_line(Dir::Out, "OK", None), "->> [OK]");
        assert_eq!(
            payload_line(Dir::In, b"hello world!", 5).as_deref(),
            Some("<<- MSG_PAYLOAD: [\"hello...\"]")
        );
        assert_eq!(
            payload_line(Dir::In, b"abc", 5).as_deref(),
            Some("<<- MSG_PAYLOAD: [\"abc\"]")
        );
        assert_eq!(
            payload_line(Dir::Out, b"a\r\nb", 0).as_deref(),
            Some("->> MSG_PAYLOAD: [\"a\\r\\nb\"]")
        );
        assert_eq!(payload_line(Dir::In, b"", 5), None);
    }

    #[test]
    fn deliveries_are_traced_as_go() {
        let msg = Delivery {
            subject: b"foo",
            reply: Some(b"_INBOX.1"),
            header_len: None,
            payload: b"hello world!",
        };
        assert_eq!(
            delivery_lines(&msg, b"1", 5, TracedPart::Whole),
            [
                "->> [MSG foo 1 _INBOX.1 12]",
                "->> MSG_PAYLOAD: [\"hello...\"]"
            ]
        );
        let msg = Delivery {
            subject: b"foo",
            reply: None,
            header_len: Some(12),
            payload: b"NATS/1.0\r\n\r\nhi",
        };
        assert_eq!(
            delivery_lines(&msg, b"7", 0, TracedPart::Whole),
            [
                "->> [HMSG foo 7 12 14]",
                "->> MSG_PAYLOAD: [\"NATS/1.0\\r\\n\\r\\nhi\"]"
            ]
        );
        // trace_headers: the header block without its blank line; nothing without headers.
        assert_eq!(
            delivery_lines(&msg, b"7", 0, TracedPart::HeadersOnly),
            ["->> [HMSG foo 7 12 14]", "->> MSG_PAYLOAD: [\"NATS/1.0\"]"]
        );
        assert_eq!(traced_bytes(b"hello", None, TracedPart::HeadersOnly), b"");
    }

    #[test]
    fn connect_secrets_are_redacted_as_go() {
        let json = br#"{"verbose":true,"user":"u","pass":"secret","auth_token":"t","sig":"s","nkey":"N","name":"n"}"#;
        assert_eq!(
            String::from_utf8(redact_connect(json)).unwrap_or_default(),
            r#"{"verbose":true,"user":"u","pass":"[REDACTED]","auth_token":"[REDACTED]","sig":"[REDACTED]","nkey":"[REDACTED]","name":"n"}"#
        );
    }
}
