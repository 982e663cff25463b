//! The one writer of the leafnode wire format: interest (`LS+`/`LS-`) and messages
//! (`LMSG`/`HMSG`), byte for byte as Go writes them (`writeLeafSub`,
//! `msgHeaderForRouteOrLeaf`). What a leaf peer sends is read by
//! [`crate::nats::Parser::leaf`].

use crate::nats::ops::push_decimal;

/// Appends an interest update for `key` (`<subject>` or `<subject> <queue>`) whose count
/// is now `n` (Go: `writeLeafSub`): `LS+ <key>` — with ` <n>` for a queue key — while
/// `n > 0`, `LS- <key>` once it is not.
pub fn write_sub(out: &mut Vec<u8>, key: &[u8], n: i32) {
    if key.is_empty() {
        return;
    }
    if n > 0 {
        out.extend_from_slice(b"LS+ ");
        out.extend_from_slice(key);
        if key.contains(&b' ') {
            out.push(b' ');
            push_decimal(out, u64::from(n.unsigned_abs()));
        }
    } else {
        out.extend_from_slice(b"LS- ");
        out.extend_from_slice(key);
    }
    out.extend_from_slice(b"\r\n");
}

/// A message as it crosses a leaf connection.
#[derive(Debug, Clone, Copy)]
pub struct LeafDelivery<'a> {
    /// Subject.
    pub subject: &'a [u8],
    /// Reply subject.
    pub reply: Option<&'a [u8]>,
    /// Header length (0 or `None`: no headers).
    pub header_len: Option<usize>,
    /// Headers and body.
    pub payload: &'a [u8],
}

/// Whether the peer declared `headers` in its CONNECT (hub side) or INFO (spoke side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerHeaders {
    /// `HMSG` goes out as is.
    Supported,
    /// Headers are stripped: `LMSG` with the body only (Go: `msgHeaderForRouteOrLeaf`).
    Unsupported,
}

impl LeafDelivery<'_> {
    /// Bytes [`LeafDelivery::write`] appends with these queue names, at most.
    pub fn encoded_len(&self, queues: &[&[u8]]) -> usize {
        // "HMSG " subject " + " reply " " queues... hdr " " size CRLF payload CRLF
        5 + self.subject.len()
            + 3
            + self.reply.map_or(0, <[u8]>::len)
            + 1
            + queues.iter().map(|q| q.len() + 1).sum::<usize>()
            + 44
            + self.payload.len()
    }

    /// Appends the message for the peer, naming the `queues` of its subscriptions the
    /// message was chosen for (Go: `rt.qs`): `LMSG <subject> [reply] <size>`,
    /// `LMSG <subject> + <reply> <queues...> <size>` or `LMSG <subject> | <queues...>
    /// <size>`; `HMSG ... <hdr> <size>` for a peer that takes headers.
    pub fn write(&self, out: &mut Vec<u8>, queues: &[&[u8]], peer: PeerHeaders) {
        let header_len = self
            .header_len
            .filter(|&h| h > 0 && h <= self.payload.len());
        let with_headers = header_len.is_some() && peer == PeerHeaders::Supported;
        out.reserve(self.encoded_len(queues));
        out.extend_from_slice(if with_headers { b"HMSG " } else { b"LMSG " });
        out.extend_from_slice(self.subject);
        out.push(b' ');
        let reply = self.reply.filter(|r| !r.is_empty());
        if !queues.is_empty() {
            match reply {
                Some(r) => {
                    out.extend_from_slice(b"+ ");
                    out.extend_from_slice(r);
                    out.push(b' ');
                }
                None => out.extend_from_slice(b"| "),
            }
            for q in queues {
                out.extend_from_slice(q);
                out.push(b' ');
            }
        } else if let Some(r) = reply {
            out.extend_from_slice(r);
            out.push(b' ');
        }
        let body = match header_len {
            Some(h) if with_headers => {
                push_decimal(out, h as u64);
                out.push(b' ');
                self.payload
            }
            Some(h) => self.payload.get(h..).unwrap_or_default(),
            None => self.payload,
        };
        push_decimal(out, body.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::nats::Parser;
    use crate::nats::parser::{LeafOp, Op};

    #[test]
    fn interest_lines() {
        let mut out = Vec::new();
        write_sub(&mut out, b"foo", 1);
        write_sub(&mut out, b"foo bar", 12);
        write_sub(&mut out, b"foo bar", 0);
        write_sub(&mut out, b"foo", -1);
        write_sub(&mut out, b"", 1);
        assert_eq!(
            out,
            b"LS+ foo\r\nLS+ foo bar 12\r\nLS- foo bar\r\nLS- foo\r\n"
        );
    }

    fn written(d: LeafDelivery<'_>, queues: &[&[u8]], peer: PeerHeaders) -> String {
        let mut out = Vec::new();
        d.write(&mut out, queues, peer);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn messages_as_go_writes_them() {
        let plain = LeafDelivery {
            subject: b"foo",
            reply: None,
            header_len: None,
            payload: b"hi",
        };
        let sup = PeerHeaders::Supported;
        assert_eq!(written(plain, &[], sup), "LMSG foo 2\r\nhi\r\n");
        let req = LeafDelivery {
            reply: Some(b"_INBOX.1"),
            ..plain
        };
        assert_eq!(written(req, &[], sup), "LMSG foo _INBOX.1 2\r\nhi\r\n");
        assert_eq!(
            written(req, &[b"q1", b"q2"], sup),
            "LMSG foo + _INBOX.1 q1 q2 2\r\nhi\r\n"
        );
        assert_eq!(written(plain, &[b"q"], sup), "LMSG foo | q 2\r\nhi\r\n");
        let hdr = LeafDelivery {
            header_len: Some(12),
            payload: b"NATS/1.0\r\n\r\nhi",
            ..plain
        };
        assert_eq!(
            written(hdr, &[], sup),
            "HMSG foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
        );
        // Go: headers stripped toward a peer that did not declare them.
        assert_eq!(
            written(hdr, &[], PeerHeaders::Unsupported),
            "LMSG foo 2\r\nhi\r\n"
        );
    }

    #[test]
    fn what_is_written_parses_back() {
        let d = LeafDelivery {
            subject: b"a.b",
            reply: Some(b"r"),
            header_len: Some(12),
            payload: b"NATS/1.0\r\n\r\nbody",
        };
        let mut out = Vec::new();
        d.write(&mut out, &[b"q1", b"q2"], PeerHeaders::Supported);
        let mut p = Parser::leaf(1024, 4096);
        let mut seen = None;
        p.parse(&out, &mut |op: Op<'_>| {
            if let Op::Leaf(LeafOp::Msg(m)) = op {
                seen = Some((
                    m.subject.to_vec(),
                    m.reply.map(<[u8]>::to_vec),
                    m.queues().map(<[u8]>::to_vec).collect::<Vec<_>>(),
                    m.header_len,
                    m.payload.to_vec(),
                ));
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(
            seen.unwrap(),
            (
                b"a.b".to_vec(),
                Some(b"r".to_vec()),
                vec![b"q1".to_vec(), b"q2".to_vec()],
                Some(12),
                d.payload.to_vec()
            )
        );
    }
}
