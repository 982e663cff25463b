//! MQTT protocol trace lines as Go writes them under `-V` (Go: the `traceInOp` and
//! `traceOutOp` calls of `mqttParse`, `mqttConnectTrace`, `mqttPubTrace`,
//! `mqttSubscribeTrace`, `mqttUnsubscribeTrace`): `<<- [PUBLISH a/b dup=false QoS=1
//! retain=false size=5 pi=1]` for what the client sent, `->> [PUBACK pi=1]` for what the
//! server sends.
//!
//! Outbound lines are read back from the bytes the server writes ([`out_lines`]): every
//! packet the server sends, whoever produced it, is traced once, in wire order. Those
//! bytes are the server's own, well formed; a truncated tail is traced as far as it goes.

use std::fmt::Write as _;
use std::time::Duration;

use crate::conn::trace::{Dir, op_line};
use crate::mqtt::Packet;
use crate::mqtt::packet::{Connect, Filter, Publish, SessionKind};

/// The trace line of a packet the client sent; `client_id` is the one in force (the
/// assigned one for an empty CONNECT client id).
pub fn in_line(packet: &Packet<'_>, client_id: &str) -> String {
    let (op, arg): (&str, Option<String>) = match packet {
        Packet::Connect(c) => ("CONNECT", Some(connect_arg(c, client_id))),
        Packet::Publish(p) => ("PUBLISH", Some(in_publish_arg(p))),
        Packet::PubAck(pi) => ("PUBACK", Some(format!("pi={pi}"))),
        Packet::PubRec(pi) => ("PUBREC", Some(format!("pi={pi}"))),
        Packet::PubRel(pi) => ("PUBREL", Some(format!("pi={pi}"))),
        Packet::PubComp(pi) => ("PUBCOMP", Some(format!("pi={pi}"))),
        Packet::Subscribe { pi, filters } => ("SUBSCRIBE", Some(filters_arg(*pi, filters, true))),
        Packet::Unsubscribe { pi, filters } => {
            ("UNSUBSCRIBE", Some(filters_arg(*pi, filters, false)))
        }
        Packet::PingReq => ("PINGREQ", None),
        Packet::Disconnect => ("DISCONNECT", None),
    };
    op_line(Dir::In, op, arg.as_deref().map(str::as_bytes))
}

/// Go: `mqttConnectTrace`.
fn connect_arg(c: &Connect<'_>, client_id: &str) -> String {
    let mut s = format!("clientID={client_id}");
    if let Some(rd) = c.read_deadline() {
        let _ = write!(s, " keepAlive={}", go_secs(rd));
    }
    if let Some(w) = &c.will {
        let _ = write!(
            s,
            " will=(topic={} QoS={} retain={})",
            String::from_utf8_lossy(w.topic),
            w.qos.level(),
            w.retain
        );
    }
    if c.session == SessionKind::Clean {
        s.push_str(" clean");
    }
    if let Some(u) = c.username.filter(|u| !u.is_empty()) {
        let _ = write!(s, " username={u}");
    }
    if c.password.is_some_and(|p| !p.is_empty()) {
        s.push_str(" password=****");
    }
    s
}

fn in_publish_arg(p: &Publish<'_>) -> String {
    pub_arg(
        p.topic,
        p.dup(),
        p.qos.level(),
        p.retain(),
        p.payload.len(),
        p.pi,
    )
}

/// Go: `mqttPubTrace`.
fn pub_arg(topic: &[u8], dup: bool, qos: u8, retain: bool, size: usize, pi: u16) -> String {
    let mut s = format!(
        "{} dup={dup} QoS={qos} retain={retain} size={size}",
        String::from_utf8_lossy(topic)
    );
    if pi > 0 {
        let _ = write!(s, " pi={pi}");
    }
    s
}

/// Go: `mqttSubscribeTrace` (`with_qos`) and `mqttUnsubscribeTrace`: `[topic (subject)
/// QoS=q, ...] pi=N`; a filter that is no subject shows an empty one.
fn filters_arg(pi: u16, filters: &[Filter<'_>], with_qos: bool) -> String {
    let mut s = String::from("[");
    for (i, f) in filters.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let subject = f
            .subject
            .as_ref()
            .map(|x| String::from_utf8_lossy(x).into_owned())
            .unwrap_or_default();
        let _ = write!(s, "{} ({subject})", String::from_utf8_lossy(f.topic));
        if with_qos {
            let _ = write!(s, " QoS={}", f.qos.level());
        }
    }
    let _ = write!(s, "] pi={pi}");
    s
}

/// Go's `time.Duration` text for whole seconds: `45s`, `1m30s`, `27h18m22s`.
fn go_secs(d: Duration) -> String {
    let t = d.as_secs();
    let (h, m, s) = (t / 3600, (t / 60) % 60, t % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// The trace lines of the server→client packets in `bytes`, in order.
pub fn out_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    // Each packet takes at least two bytes (a header without its length ends the loop),
    // so the loop is bounded by the input.
    while let [first, tail @ ..] = rest {
        let first = *first;
        let Some((len, header)) = remaining_length(tail) else {
            break;
        };
        let start = 1 + header;
        let end = start.saturating_add(len).min(rest.len());
        let body = rest.get(start..end).unwrap_or_default();
        if let Some(line) = out_line(first, body) {
            lines.push(line);
        }
        rest = rest.get(end..).unwrap_or_default();
    }
    lines
}

fn remaining_length(b: &[u8]) -> Option<(usize, usize)> {
    let mut n = 0usize;
    for (i, &byte) in b.iter().take(4).enumerate() {
        n |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

fn pi_of(body: &[u8]) -> u16 {
    match body {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

fn out_line(first: u8, body: &[u8]) -> Option<String> {
    let pi = || format!("pi={}", pi_of(body));
    let (op, arg): (&str, Option<String>) = match first >> 4 {
        2 => {
            let sp = body.first().is_some_and(|f| f & 1 != 0);
            let rc = body.get(1).copied().unwrap_or(0);
            ("CONNACK", Some(format!("sp={sp} rc={rc}")))
        }
        3 => {
            let qos = (first >> 1) & 3;
            let tlen = usize::from(pi_of(body));
            let topic = body.get(2..2 + tlen).unwrap_or_default();
            let mut at = 2 + tlen;
            let mut id = 0;
            if qos > 0 {
                id = pi_of(body.get(at..).unwrap_or_default());
                at += 2;
            }
            let size = body.len().saturating_sub(at);
            let arg = pub_arg(topic, first & 8 != 0, qos, first & 1 != 0, size, id);
            ("PUBLISH", Some(arg))
        }
        4 => ("PUBACK", Some(pi())),
        5 => ("PUBREC", Some(pi())),
        6 => ("PUBREL", Some(pi())),
        7 => ("PUBCOMP", Some(pi())),
        9 => ("SUBACK", Some(pi())),
        11 => ("UNSUBACK", Some(pi())),
        13 => ("PINGRESP", None),
        _ => return None,
    };
    Some(op_line(Dir::Out, op, arg.as_deref().map(str::as_bytes)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mqtt::writer;

    #[test]
    fn out_lines_follow_go() {
        let mut b = Vec::new();
        writer::connack(&mut b, crate::mqtt::ConnAckCode::Accepted, true);
        writer::suback(&mut b, 7, &[0, 0x80]).unwrap();
        writer::pingresp(&mut b);
        writer::pub_response(&mut b, writer::PubResponse::Ack, 3);
        writer::pub_response(&mut b, writer::PubResponse::Comp, 4);
        writer::unsuback(&mut b, 9);
        // PUBLISH QoS 1, DUP, pi 2, "a/b", 5 bytes; then QoS 0 retained.
        b.extend_from_slice(&[0x3a, 0x0c, 0, 3, b'a', b'/', b'b', 0, 2]);
        b.extend_from_slice(b"hello");
        b.extend_from_slice(&[0x31, 0x06, 0, 1, b'x', b'h', b'i', b'!']);
        assert_eq!(
            out_lines(&b),
            [
                "->> [CONNACK sp=true rc=0]",
                "->> [SUBACK pi=7]",
                "->> [PINGRESP]",
                "->> [PUBACK pi=3]",
                "->> [PUBCOMP pi=4]",
                "->> [UNSUBACK pi=9]",
                "->> [PUBLISH a/b dup=true QoS=1 retain=false size=5 pi=2]",
                "->> [PUBLISH x dup=false QoS=0 retain=true size=3]",
            ]
        );
        // A truncated tail stops the reading, nothing panics.
        assert_eq!(out_lines(&[0x30, 0x80]), Vec::<String>::new());
        assert_eq!(out_lines(&[0x30, 0x05, 0, 9]).len(), 1);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_secs(Duration::from_secs(45)), "45s");
        assert_eq!(go_secs(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_secs(Duration::from_secs(98302)), "27h18m22s");
        assert_eq!(go_secs(Duration::ZERO), "0s");
    }
}
