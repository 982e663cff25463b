//! Transcript normalisation for comparing two servers: what legitimately differs between
//! runs or implementations (ports, durations, dates, deflate sizes, server identities) is
//! replaced by a placeholder, so only behaviour is left to diff.

/// JSON fields (as in INFO) whose values identify a server or a run, not a behaviour.
const VOLATILE_KEYS: &[&str] = &[
    "server_id",
    "server_name",
    "version",
    "go",
    "git_commit",
    "nonce",
    "xkey",
    "client_id",
    "client_ip",
    "port",
    "connect_urls",
    "ws_connect_urls",
];

/// Normalises a rendered transcript line by line:
///
/// - `HOST:PORT` after an IPv4 address, `localhost` or `[ipv6]` → `HOST:PORT` with the port
///   as `PORT`;
/// - durations (`12ms`, `1.5s`, `30µs`, `7ns`) → `<dur>`;
/// - an HTTP `Date:` header's value → `<date>`;
/// - on lines showing deflate data (`(deflate data)`): `len=N` → `len=*` and the header
///   bytes after the first → `*` (compressed sizes depend on the deflate library);
/// - `server started (NAME)` → `server started` (the target's name);
/// - JSON values of server identities (`server_id`, `version`, `nonce`, `port`, ...) → `*`,
///   plain or inside an escaped string;
/// - the length and fingerprint of an abbreviated INFO payload → `(… bytes)`.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&normalize_line(line));
        out.push('\n');
    }
    out
}

fn normalize_line(line: &str) -> String {
    let mut s = line.to_owned();
    if let Some(i) = s.find("server started (")
        && s.ends_with(')')
    {
        s.truncate(i + "server started".len());
    }
    s = ports(&s);
    s = durations(&s);
    s = date_header(&s);
    for key in VOLATILE_KEYS {
        s = json_value(&s, key);
    }
    if s.contains("(deflate data)") {
        s = deflate_sizes(&s);
    }
    if s.contains("INFO {") {
        s = abbreviation(&s);
    }
    s
}

/// `127.0.0.1:4222` → `127.0.0.1:PORT`, also after `localhost` and `[::1]`.
fn ports(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' && host_ends_at(&s[..i]) {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after = b.get(i + 1 + digits).copied();
            if (1..=5).contains(&digits) && !after.is_some_and(|c| c.is_ascii_alphanumeric()) {
                out.push_str(&s[last..=i]);
                out.push_str("PORT");
                i += 1 + digits;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    out
}

/// Whether `before` ends with an IPv4 address, `localhost` or a bracketed IPv6 address.
fn host_ends_at(before: &str) -> bool {
    if before.ends_with("localhost") || before.ends_with(']') {
        return true;
    }
    let tail: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let tail: String = tail.chars().rev().collect();
    let parts: Vec<&str> = tail.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| (1..=3).contains(&p.len()))
}

/// `12ms`, `1.5s`, `30µs`, `30us`, `7ns` (a number not glued to a word) → `<dur>`.
fn durations(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
        if starts_number {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            let rest: String = chars[j..chars.len().min(j + 2)].iter().collect();
            let unit = ["ms", "µs", "us", "ns"]
                .into_iter()
                .find(|u| rest.starts_with(u))
                .map(|u| u.chars().count())
                .or_else(|| rest.starts_with('s').then_some(1));
            if let Some(len) = unit {
                let end = j + len;
                if !chars.get(end).is_some_and(|c| c.is_alphanumeric()) {
                    out.push_str("<dur>");
                    i = end;
                    continue;
                }
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `Date: Mon, 02 Jan 2006 15:04:05 GMT` → `Date: <date>`, up to a real or escaped CRLF.
fn date_header(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    // A header name: at the start, or after a space, quote or (escaped) newline.
    let Some(i) = lower
        .match_indices("date: ")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || matches!(s.as_bytes()[i - 1], b' ' | b'"' | b'\n' | b'n' | b'['))
    else {
        return s.to_owned();
    };
    let start = i + "date: ".len();
    let rest = &s[start..];
    let end = ["\\r\\n", "\r\n", "\\n", "\n"]
        .iter()
        .filter_map(|t| rest.find(t))
        .min()
        .unwrap_or(rest.len());
    format!("{}<date>{}", &s[..start], &rest[end..])
}

/// Replaces the value of `"key":` (or `\"key\":`) with `*`.
fn json_value(s: &str, key: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let plain = format!("\"{key}\":");
        let escaped = format!("\\\"{key}\\\":");
        let found = [
            (rest.find(&plain), plain.len()),
            (rest.find(&escaped), escaped.len()),
        ]
        .into_iter()
        .filter_map(|(i, n)| i.map(|i| (i, n)))
        .min();
        let Some((i, n)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + n]);
        let value = &rest[i + n..];
        let len = value_len(value);
        out.push('*');
        rest = &value[len..];
    }
}

/// The length of a JSON value at the start of `v`: a string (plain or escaped, possibly
/// cut short by an abbreviation), an array, or a bare token.
fn value_len(v: &str) -> usize {
    if let Some(body) = v.strip_prefix("\\\"") {
        // Escaped string: ends at the next `\"`, or at an unescaped `"` (the end of the
        // abbreviated Debug string).
        let end = body
            .find("\\\"")
            .map(|e| e + 2)
            .or_else(|| body.find('"'))
            .unwrap_or(body.len());
        return 2 + end;
    }
    if let Some(body) = v.strip_prefix('"') {
        let end = body.find('"').map_or(body.len(), |e| e + 1);
        return 1 + end;
    }
    if v.starts_with('[') {
        return v.find(']').map_or(v.len(), |e| e + 1);
    }
    v.find([',', '}', ' ', '"', '\\']).unwrap_or(v.len())
}

/// `len=23 hdr=[c1 17]` → `len=* hdr=[c1 *]`.
fn deflate_sizes(s: &str) -> String {
    let mut out = s.to_owned();
    if let Some(i) = out.find("len=") {
        let digits = out[i + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits > 0 {
            out.replace_range(i + 4..i + 4 + digits, "*");
        }
    }
    if let Some(i) = out.find("hdr=[")
        && let Some(close) = out[i..].find(']')
    {
        let inner = &out[i + 5..i + close];
        let first = inner.split(' ').next().unwrap_or_default().to_owned();
        out.replace_range(i + 5..i + close, &format!("{first} *"));
    }
    out
}

/// `... (412 bytes, fnv1a=0123456789abcdef)` → `... (… bytes)`.
fn abbreviation(s: &str) -> String {
    let Some(i) = s.find("... (") else {
        return s.to_owned();
    };
    let Some(close) = s[i..].find(')') else {
        return s.to_owned();
    };
    format!("{}... (… bytes){}", &s[..i], &s[i + close + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_after_hosts_only() {
        assert_eq!(
            normalize("connected to 127.0.0.1:51234 and localhost:4222, [::1]:80"),
            "connected to 127.0.0.1:PORT and localhost:PORT, [::1]:PORT\n"
        );
        assert_eq!(normalize("code=1002 at 10:30"), "code=1002 at 10:30\n");
        assert_eq!(normalize("1.2.3:45"), "1.2.3:45\n");
    }

    #[test]
    fn durations_not_words() {
        assert_eq!(
            normalize("took 12ms then 1.5s and 30µs, 4us, 7ns"),
            "took <dur> then <dur> and <dur>, <dur>, <dur>\n"
        );
        assert_eq!(normalize("len=5 status 101s3"), "len=5 status 101s3\n");
        assert_eq!(normalize("TestWS2s and 3 steps"), "TestWS2s and 3 steps\n");
    }

    #[test]
    fn date_header_plain_and_escaped() {
        assert_eq!(
            normalize(
                r#"< "HTTP/1.1 400 Bad Request\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 12\r\n""#
            ),
            "< \"HTTP/1.1 400 Bad Request\\r\\nDate: <date>\\r\\nContent-Length: 12\\r\\n\"\n"
        );
        assert_eq!(normalize("date: tomorrow"), "date: <date>\n");
        assert_eq!(normalize("Last-Update: now"), "Last-Update: now\n");
    }

    #[test]
    fn deflate_sizes_hidden() {
        assert_eq!(
            normalize("ws < binary fin rsv=100 len=23 hdr=[c2 17] (deflate data)"),
            "ws < binary fin rsv=100 len=* hdr=[c2 *] (deflate data)\n"
        );
        assert_eq!(
            normalize("ws < binary fin rsv=000 len=23 hdr=[82 17] \"abc\""),
            "ws < binary fin rsv=000 len=23 hdr=[82 17] \"abc\"\n"
        );
    }

    #[test]
    fn server_identity_and_name() {
        assert_eq!(
            normalize(
                r#"{"server_id":"NABC","version":"2.15.1","port":4222,"max_payload":1048576}"#
            ),
            "{\"server_id\":*,\"version\":*,\"port\":*,\"max_payload\":1048576}\n"
        );
        assert_eq!(
            normalize(r#"< "INFO {\"server_id\":\"NAB"... (412 bytes, fnv1a=0123456789abcdef)"#),
            "< \"INFO {\\\"server_id\\\":*\"... (… bytes)\n"
        );
        assert_eq!(
            normalize("server started (nats-server)\nserver started (nats-ws)"),
            "server started\nserver started\n"
        );
    }

    #[test]
    fn idempotent() {
        let text = "a 127.0.0.1:9 12ms\nDate: x\nb len=3 hdr=[c2 03] (deflate data)\n";
        assert_eq!(normalize(&normalize(text)), normalize(text));
    }
}
