//! Normalised outcomes compared: equal, racy (Go's lost close frame), documented in
//! docs/CONFORMANCE.md, or a difference.

use crate::diff::run::Outcome;

/// How two outcomes of the same case relate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The same normalised outcome.
    Same,
    /// Equal but for what Go's racy close loses: its close frame after a protocol error,
    /// and data queued behind it (docs/CONFORMANCE.md row 13).
    Racy,
    /// A difference docs/CONFORMANCE.md documents (the row).
    Documented(u8),
    /// A difference: what differs, one line per point.
    Differ(Vec<String>),
}

/// The outcome as compared: INFO lines reduced to the fields both servers must agree on,
/// the HTTP answer without its `Date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normal {
    /// The HTTP answer.
    pub http: String,
    /// The NATS stream.
    pub stream: Vec<u8>,
    /// Pong payloads.
    pub pongs: Vec<Vec<u8>>,
    /// Close status and reason.
    pub close: Option<(Option<u16>, Vec<u8>)>,
    /// TCP closed by the server (only compared after a 101: Go keeps a refused HTTP
    /// connection open, docs/CONFORMANCE.md row 8).
    pub tcp_closed: bool,
    /// The server answered a new client afterwards.
    pub alive: bool,
    /// The client's problem reading the server's output.
    pub problem: Option<String>,
}

/// INFO fields both servers must agree on (the rest are ids, versions and ports).
const INFO_KEYS: [&str; 5] = [
    "auth_required",
    "headers",
    "max_payload",
    "proto",
    "tls_required",
];

/// Normalises an outcome.
pub fn normalise(o: &Outcome) -> Normal {
    let http = String::from_utf8_lossy(&o.http)
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    Normal {
        http,
        stream: normal_stream(&o.stream),
        pongs: o.pongs.clone(),
        close: o.close.clone(),
        tcp_closed: o.tcp_closed && o.status == Some(101),
        alive: o.alive,
        problem: o.problem.clone(),
    }
}

/// The stream normalised: INFO lines reduced ([`info_lines`]), and the copies of one
/// message delivered to several subscriptions of the connection in sid order
/// ([`fan_out_sorted`]).
pub fn normal_stream(stream: &[u8]) -> Vec<u8> {
    fan_out_sorted(&info_lines(stream))
}

/// One `MSG`/`HMSG` delivery: (subject, reply, payload) and the whole bytes; or other
/// protocol bytes.
enum Unit<'a> {
    Msg {
        key: Vec<&'a [u8]>,
        sid: &'a [u8],
        bytes: &'a [u8],
    },
    Other(&'a [u8]),
}

/// Go's order of the copies one connection gets of one message depends on its sublist
/// cache (a cached subject appends new subscriptions in insertion order, an uncached one
/// is matched in trie order) and is random within a node and a queue group; the
/// consecutive copies of one message are compared as a set (docs/CONFORMANCE.md row 49).
fn fan_out_sorted(stream: &[u8]) -> Vec<u8> {
    let mut units = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |p| p + 2);
        let line = &rest[..line_end];
        let args: Vec<&[u8]> = line
            .trim_ascii_end()
            .split(|b| *b == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        let size = match args.first().copied() {
            Some(b"MSG") if matches!(args.len(), 4 | 5) => parse_len(args[args.len() - 1]),
            Some(b"HMSG") if matches!(args.len(), 5 | 6) => parse_len(args[args.len() - 1]),
            _ => None,
        };
        let total = size.map(|n| line_end + n + 2).filter(|t| *t <= rest.len());
        match total {
            Some(t) if args.len() >= 4 => {
                let reply = if args.len() == 5 + usize::from(args[0] == b"HMSG") {
                    args[3]
                } else {
                    b""
                };
                units.push(Unit::Msg {
                    key: vec![args[0], args[1], reply, &rest[line_end..t]],
                    sid: args[2],
                    bytes: &rest[..t],
                });
                rest = &rest[t..];
            }
            _ => {
                units.push(Unit::Other(line));
                rest = &rest[line_end..];
            }
        }
    }
    let mut out = Vec::with_capacity(stream.len());
    let mut i = 0;
    while i < units.len() {
        match &units[i] {
            Unit::Other(b) => {
                out.extend_from_slice(b);
                i += 1;
            }
            Unit::Msg { key, .. } => {
                let mut run: Vec<(&[u8], &[u8])> = Vec::new();
                while let Some(Unit::Msg { key: k, sid, bytes }) = units.get(i) {
                    if k != key {
                        break;
                    }
                    run.push((sid, bytes));
                    i += 1;
                }
                run.sort();
                for (_, b) in run {
                    out.extend_from_slice(b);
                }
            }
        }
    }
    out
}

fn parse_len(s: &[u8]) -> Option<usize> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Replaces each `INFO {...}` line by the fields of [`INFO_KEYS`] it has.
fn info_lines(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stream.len());
    let mut rest = stream;
    while !rest.is_empty() {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |p| p + 2);
        let line = &rest[..line_end];
        match line.strip_prefix(b"INFO ") {
            Some(json) => {
                let v: serde_json::Value =
                    serde_json::from_slice(json.trim_ascii()).unwrap_or_default();
                let kept: Vec<String> = INFO_KEYS
                    .iter()
                    .filter_map(|k| v.get(k).map(|x| format!("{k}={x}")))
                    .collect();
                out.extend(format!("INFO <{}>\r\n", kept.join(",")).as_bytes());
            }
            None => out.extend_from_slice(line),
        }
        rest = &rest[line_end..];
    }
    out
}

/// Compares two outcomes of the same case.
pub fn compare(a: &Outcome, b: &Outcome) -> Verdict {
    let (na, nb) = (normalise(a), normalise(b));
    if na == nb {
        return Verdict::Same;
    }
    let mut lines = Vec::new();
    if na.http != nb.http {
        lines.push(format!("http: {:?} vs {:?}", na.http, nb.http));
    }
    if na.alive != nb.alive {
        lines.push(format!("server alive: {} vs {}", na.alive, nb.alive));
    }
    if na.problem != nb.problem {
        lines.push(format!(
            "client problem: {:?} vs {:?}",
            na.problem, nb.problem
        ));
    }
    if lines.is_empty()
        && let Some(v) = lost_close(&na, &nb).or_else(|| lost_close(&nb, &na))
    {
        return v;
    }
    if na.stream != nb.stream {
        let at = na
            .stream
            .iter()
            .zip(&nb.stream)
            .position(|(x, y)| x != y)
            .unwrap_or(na.stream.len().min(nb.stream.len()));
        let from = at.saturating_sub(40);
        lines.push(format!(
            "stream differs at byte {at}: {:?} vs {:?}",
            String::from_utf8_lossy(&na.stream[from..(at + 80).min(na.stream.len())]),
            String::from_utf8_lossy(&nb.stream[from..(at + 80).min(nb.stream.len())]),
        ));
    }
    if na.pongs != nb.pongs {
        lines.push(format!("pongs: {:?} vs {:?}", na.pongs, nb.pongs));
    }
    if na.close != nb.close {
        lines.push(format!(
            "close: {} vs {}",
            show_close(&na.close),
            show_close(&nb.close)
        ));
    }
    if na.tcp_closed != nb.tcp_closed {
        lines.push(format!(
            "tcp closed: {} vs {}",
            na.tcp_closed, nb.tcp_closed
        ));
    }
    Verdict::Differ(lines)
}

/// `lossy` ended without a close frame where `full` has one (or has more data): Go's
/// close after an error that skips the flush. Equal if what `lossy` got is a prefix of
/// what `full` got.
fn lost_close(lossy: &Normal, full: &Normal) -> Option<Verdict> {
    if lossy.close.is_some() || !lossy.tcp_closed || !full.tcp_closed {
        return None;
    }
    if !full.stream.starts_with(&lossy.stream) || !full.pongs.starts_with(&lossy.pongs) {
        return None;
    }
    match &full.close {
        None => Some(Verdict::Racy),
        Some((Some(1002), _)) => Some(Verdict::Racy),
        // Corrupt deflate data: 1007 where Go sends no close frame.
        Some((Some(1007), reason)) if reason.starts_with(b"flate: ") => {
            Some(Verdict::Documented(4))
        }
        // A compressed message over the limits: 1009 where Go sends no close frame.
        Some((Some(1009), reason)) if reason == b"maximum payload exceeded" => {
            Some(Verdict::Documented(5))
        }
        Some(_) => None,
    }
}

fn show_close(c: &Option<(Option<u16>, Vec<u8>)>) -> String {
    match c {
        None => "none".to_owned(),
        Some((code, reason)) => format!("{code:?} {:?}", String::from_utf8_lossy(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(stream: &[u8], close: Option<(u16, &str)>) -> Outcome {
        Outcome {
            status: Some(101),
            stream: stream.to_vec(),
            close: close.map(|(c, r)| (Some(c), r.as_bytes().to_vec())),
            tcp_closed: true,
            alive: true,
            ..Outcome::default()
        }
    }

    #[test]
    fn info_lines_keep_only_the_shared_fields() {
        let s = b"INFO {\"server_id\":\"X\",\"max_payload\":1024,\"headers\":true}\r\nPONG\r\n";
        assert_eq!(
            normal_stream(s),
            b"INFO <headers=true,max_payload=1024>\r\nPONG\r\n"
        );
    }

    #[test]
    fn copies_of_one_message_compare_as_a_set() {
        let a = b"PONG\r\nMSG a.b 7 2\r\nhi\r\nMSG a.b 4 2\r\nhi\r\nMSG a.b 4 2\r\nho\r\n";
        let b = b"PONG\r\nMSG a.b 4 2\r\nhi\r\nMSG a.b 7 2\r\nhi\r\nMSG a.b 4 2\r\nho\r\n";
        assert_eq!(normal_stream(a), normal_stream(b));
        let other = b"PONG\r\nMSG a.b 4 2\r\nho\r\nMSG a.b 7 2\r\nhi\r\nMSG a.b 4 2\r\nhi\r\n";
        assert_ne!(
            normal_stream(a),
            normal_stream(other),
            "different messages keep their order"
        );
        let h = b"HMSG a 1 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
        assert_eq!(normal_stream(h), h);
    }

    #[test]
    fn a_lost_protocol_error_close_is_racy_but_lost_data_elsewhere_is_not() {
        let full = closed(b"-ERR 'x'\r\n", Some((1002, "mask bit missing")));
        let lossy = closed(b"", None);
        assert_eq!(compare(&full, &lossy), Verdict::Racy);
        assert_eq!(compare(&lossy, &full), Verdict::Racy);
        let other = closed(b"+OK\r\n", None);
        assert!(matches!(compare(&full, &other), Verdict::Differ(_)));
        let policy = closed(b"", Some((1008, "Authentication Failure")));
        assert!(matches!(compare(&policy, &lossy), Verdict::Differ(_)));
    }

    #[test]
    fn documented_closes_where_go_sends_none() {
        let ours = closed(b"", Some((1009, "maximum payload exceeded")));
        assert_eq!(compare(&ours, &closed(b"", None)), Verdict::Documented(5));
        let ours = closed(b"", Some((1007, "flate: corrupt input")));
        assert_eq!(compare(&ours, &closed(b"", None)), Verdict::Documented(4));
    }

    #[test]
    fn a_connection_left_open_differs_from_one_closed() {
        let mut open = closed(b"PONG\r\n", None);
        open.tcp_closed = false;
        assert!(matches!(
            compare(&open, &closed(b"PONG\r\n", None)),
            Verdict::Differ(_)
        ));
    }
}
