use super::*;

/// An owned copy of an op, to compare runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Connect(Vec<u8>),
    Pub(Vec<u8>, Option<Vec<u8>>, Option<usize>, Vec<u8>),
    HeaderPub,
    Sub(Vec<u8>, Option<Vec<u8>>, Vec<u8>),
    Unsub(Vec<u8>, Option<u64>),
    Ping,
    Pong,
    Info(Vec<u8>),
    Ok,
    Err(Vec<u8>),
    Leaf(String),
}

fn own(op: Op<'_>) -> Owned {
    match op {
        Op::Connect(a) => Owned::Connect(a.to_vec()),
        Op::Pub(p) => Owned::Pub(
            p.subject.to_vec(),
            p.reply.map(<[u8]>::to_vec),
            p.header_len,
            p.payload.to_vec(),
        ),
        Op::Sub {
            subject,
            queue,
            sid,
        } => Owned::Sub(subject.to_vec(), queue.map(<[u8]>::to_vec), sid.to_vec()),
        Op::Unsub { sid, max } => Owned::Unsub(sid.to_vec(), max),
        Op::HeaderPub => Owned::HeaderPub,
        Op::Ping => Owned::Ping,
        Op::Pong => Owned::Pong,
        Op::Info(a) => Owned::Info(a.to_vec()),
        Op::Ok => Owned::Ok,
        Op::Err(a) => Owned::Err(a.to_vec()),
        Op::Leaf(l) => Owned::Leaf(format!("{l:?}")),
    }
}

fn run(chunks: &[&[u8]]) -> Result<Vec<Owned>, ParseError<()>> {
    let mut p = Parser::new(1024, 4096);
    let mut ops = Vec::new();
    for c in chunks {
        p.parse(c, &mut |op| {
            ops.push(own(op));
            Ok::<(), ()>(())
        })?;
    }
    Ok(ops)
}

const STREAM: &[u8] = b"CONNECT {\"verbose\":false}\r\nPING\r\npong\r\nSUB foo 1\r\nSUB  bar\tq  22\r\n\
PUB foo 5\r\nhello\r\nPUB foo reply 0\r\n\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n\
hpub foo r 12 12\r\nNATS/1.0\r\n\r\n\r\nUNSUB 1\r\nUNSUB 22 5\r\n+OK\r\n-ERR 'x'\r\nINFO {}\r\nPING\n";

#[test]
fn whole_stream() {
    let ops = run(&[STREAM]).unwrap();
    assert_eq!(ops.len(), 17, "{ops:?}");
    assert_eq!(
        ops[5],
        Owned::Pub(b"foo".to_vec(), None, None, b"hello".to_vec())
    );
    assert_eq!(
        ops[4],
        Owned::Sub(b"bar".to_vec(), Some(b"q".to_vec()), b"22".to_vec())
    );
    assert_eq!(
        ops[7],
        Owned::HeaderPub,
        "announced before the HPUB's arguments"
    );
    assert_eq!(
        ops[8],
        Owned::Pub(
            b"foo".to_vec(),
            None,
            Some(12),
            b"NATS/1.0\r\n\r\nhi".to_vec()
        )
    );
    assert_eq!(ops[9], Owned::HeaderPub);
    assert_eq!(ops[12], Owned::Unsub(b"22".to_vec(), Some(5)));
}

#[test]
fn split_at_every_byte_gives_the_same_ops() {
    let whole = run(&[STREAM]).unwrap();
    for at in 0..=STREAM.len() {
        let (a, b) = STREAM.split_at(at);
        assert_eq!(run(&[a, b]).unwrap(), whole, "split at {at}");
    }
    let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
    assert_eq!(run(&bytes).unwrap(), whole);
    for size in 2..9 {
        let chunks: Vec<&[u8]> = STREAM.chunks(size).collect();
        assert_eq!(run(&chunks).unwrap(), whole, "chunks of {size}");
    }
}

#[test]
fn errors() {
    let unknown = |r: Result<Vec<Owned>, ParseError<()>>| {
        matches!(
            r,
            Err(ParseError::Protocol(NatsError::UnknownOperation { .. }))
        )
    };
    assert!(unknown(run(&[b"FOO\r\n"])));
    assert!(
        unknown(run(&[b"X"])),
        "unknown op detected before its line ends"
    );
    assert!(unknown(run(&[b"PUB foo 2\r\nabc\r\n"])));
    // Go ignores whatever follows PING up to the newline (OP_PING drops it).
    assert!(!unknown(run(&[b"PING x\r\n"])));
    assert_eq!(
        run(&[b"PUB foo 2000\r\n"]),
        Err(ParseError::Protocol(NatsError::MaxPayload {
            size: 2000,
            max: 1024
        }))
    );
    let long = [b"SUB ".as_slice(), &[b'a'; 5000]].concat();
    assert_eq!(
        run(&[&long]),
        Err(ParseError::Protocol(NatsError::MaxControlLine))
    );
    assert!(matches!(
        run(&[b"PUB foo\r\n"]),
        Err(ParseError::Protocol(NatsError::Args(_)))
    ));
    assert!(matches!(
        run(&[b"HPUB foo 20 10\r\n"]),
        Err(ParseError::Protocol(NatsError::Args(_)))
    ));
    // Go: an op that takes arguments needs a blank after its name.
    for line in [
        &b"UNSUB\r\n"[..],
        b"SUB\r\n",
        b"PUB\n",
        b"connect\r\n",
        b"HPUB\r\n",
    ] {
        assert!(unknown(run(&[line])), "{}", String::from_utf8_lossy(line));
    }
    assert!(matches!(
        run(&[b"UNSUB \r\n"]),
        Err(ParseError::Protocol(NatsError::Args(_)))
    ));
}

#[test]
fn announced_size_is_not_allocated() {
    let mut p = Parser::new(-1, 4096);
    p.parse(b"PUB foo 999999999\r\nab", &mut |_| Ok::<(), ()>(()))
        .unwrap();
    assert!(p.buffered() < 4096);
}

#[test]
fn argless_ops_ignore_the_rest_of_the_line_in_any_split() {
    // Found by the nats_parser fuzz target: Go's OP_PING drops every byte until `\n`.
    let input = b"PING\r garbage \xff\xfe\r\nPONGS\r\n+okay\r\n";
    for cut in 0..input.len() {
        let got = run(&[&input[..cut], &input[cut..]]);
        assert!(got.is_ok(), "cut {cut}: {got:?}");
    }
    let mut p = Parser::new(1024, 4096);
    let mut sink = |_: Op<'_>| -> Result<(), ()> { Ok(()) };
    assert!(p.parse(b"PING", &mut sink).is_ok());
    for _ in 0..1000 {
        assert!(p.parse(&[b'x'; 1024], &mut sink).is_ok());
    }
    assert!(
        p.buffered() <= 4096 + 64,
        "garbage after PING must not be buffered"
    );
}
