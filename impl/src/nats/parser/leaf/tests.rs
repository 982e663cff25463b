use super::*;
use crate::nats::parser::{Op, Parser};

/// Each op of a run, as text (owning nothing), then the error if any.
fn run(chunks: &[&[u8]], max_payload: i64) -> (Vec<String>, Option<String>) {
    let mut p = Parser::leaf(max_payload, 256);
    let mut ops = Vec::new();
    for c in chunks {
        let r = p.parse(c, &mut |op: Op<'_>| {
            ops.push(match op {
                Op::Leaf(LeafOp::Msg(m)) => format!(
                    "MSG {} {:?} [{}] {:?} {}",
                    String::from_utf8_lossy(m.subject),
                    m.reply.map(String::from_utf8_lossy),
                    m.queues()
                        .map(String::from_utf8_lossy)
                        .collect::<Vec<_>>()
                        .join(","),
                    m.header_len,
                    String::from_utf8_lossy(m.payload)
                ),
                other => format!("{other:?}"),
            });
            Ok::<(), ()>(())
        });
        if let Err(e) = r {
            let text = match e {
                ParseError::Protocol(e) => e.to_string(),
                ParseError::Handler(()) => "handler".into(),
            };
            return (ops, Some(text));
        }
    }
    (ops, None)
}

const STREAM: &[u8] = b"CONNECT {}\r\nLS+ foo\r\nLS+ foo.* bar 3\r\nLS- foo\r\nLS- foo.* bar\r\n\
LMSG foo 2\r\nhi\r\nLMSG foo reply 0\r\n\r\nLMSG foo + r q1 q2 3\r\nabc\r\nLMSG foo | q1 1\r\nx\r\n\
HMSG foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHMSG foo + r q 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\nPONG\r\n\
+OK\r\n-ERR 'Loop detected'\r\nINFO {}\r\nSUB s\r\nMSG s 1\r\n1\r\n";

#[test]
fn every_op() {
    let (ops, err) = run(&[STREAM], 1024);
    assert_eq!(err, None);
    let expected = [
        r#"Connect([123, 125])"#.to_owned(),
        format!(
            "{:?}",
            Op::Leaf(LeafOp::Sub {
                subject: b"foo",
                queue: None,
                key: b"foo"
            })
        ),
        format!(
            "{:?}",
            Op::Leaf(LeafOp::Sub {
                subject: b"foo.*",
                queue: Some((b"bar", 3)),
                key: b"foo.* bar"
            })
        ),
        format!("{:?}", Op::Leaf(LeafOp::Unsub { key: b"foo" })),
        format!("{:?}", Op::Leaf(LeafOp::Unsub { key: b"foo.* bar" })),
        "MSG foo None [] None hi".to_owned(),
        "MSG foo Some(\"reply\") [] None ".to_owned(),
        "MSG foo Some(\"r\") [q1,q2] None abc".to_owned(),
        "MSG foo None [q1] None x".to_owned(),
        "MSG foo None [] Some(12) NATS/1.0\r\n\r\nhi".to_owned(),
        "MSG foo Some(\"r\") [q] Some(12) NATS/1.0\r\n\r\n".to_owned(),
        "Ping".to_owned(),
        "Pong".to_owned(),
        "Ok".to_owned(),
        r#"Err([39, 76, 111, 111, 112, 32, 100, 101, 116, 101, 99, 116, 101, 100, 39])"#.to_owned(),
        r#"Info([123, 125])"#.to_owned(),
        format!(
            "{:?}",
            Op::Leaf(LeafOp::Sub {
                subject: b"s",
                queue: None,
                key: b"s"
            })
        ),
        "MSG s None [] None 1".to_owned(),
    ];
    assert_eq!(ops, expected);
}

#[test]
fn any_split_gives_the_same_ops() {
    let whole = run(&[STREAM], 1024);
    for i in 0..STREAM.len() {
        let (a, b) = STREAM.split_at(i);
        assert_eq!(run(&[a, b], 1024), whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
    assert_eq!(run(&bytes, 1024), whole);
}

#[test]
fn go_error_texts() {
    let cases: &[(&[u8], &str)] = &[
        (b"LS+ a b\r\n", "processLeafSub Parse Error: 'a b'"),
        (b"LS+ a b c d\r\n", "processLeafSub Parse Error: 'a b c d'"),
        (b"LMSG a\r\n", "processLeafMsgArgs Parse Error: '[a]'"),
        (
            b"LMSG a b x\r\n",
            "processLeafMsgArgs Bad or Missing Size: '[a b x]'",
        ),
        (
            b"LMSG a ++ r q 1\r\n",
            "processLeafMsgArgs Bad or Missing Reply Indicator: '++'",
        ),
        (
            b"LMSG a * r q 1\r\n",
            "processLeafMsgArgs Bad or Missing Reply Indicator: '*'",
        ),
        (
            b"HMSG a 1\r\n",
            "processLeafHeaderMsgArgs Parse Error: '[a 1]'",
        ),
        (
            b"HMSG a x 1\r\n",
            "processLeafHeaderMsgArgs Bad or Missing Header Size: 'a x 1'",
        ),
        (
            b"HMSG a 1 y\r\n",
            "processLeafHeaderMsgArgs Bad or Missing Size: '[a 1 y]'",
        ),
        (
            b"HMSG a 5 1\r\n",
            "processLeafHeaderMsgArgs Header Size larger then TotalSize: 'a 5 1'",
        ),
        (b"LMSG a 2000\r\n", "maximum payload exceeded: 2000 vs 1024"),
        (
            b"PUB a 1\r\n",
            "Leafnode parser ERROR, state=1, i=0: proto=\"PUB a 1\\r\\n\"...",
        ),
    ];
    for (input, text) in cases {
        let (_, err) = run(&[input], 1024);
        assert_eq!(
            err.as_deref(),
            Some(*text),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn control_line_is_sixteen_times_the_client_limit() {
    // 256 * 16 = 4096 bytes of arguments are fine, one more is not.
    let mut ok = b"LS+ ".to_vec();
    ok.extend(std::iter::repeat_n(b'a', 4096));
    ok.extend_from_slice(b"\r\n");
    assert_eq!(run(&[&ok], 1024).1, None);
    let mut long = b"LS+ ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 4097));
    long.extend_from_slice(b"\r\n");
    assert_eq!(
        run(&[&long], 1024).1.as_deref(),
        Some("maximum control line exceeded")
    );
}

#[test]
fn many_queues_are_not_collected() {
    let mut line = b"LMSG foo | ".to_vec();
    for i in 0..500 {
        line.extend_from_slice(format!("q{i} ").as_bytes());
    }
    line.extend_from_slice(b"1\r\nx\r\n");
    let mut p = Parser::leaf(1024, 4096);
    let mut count = 0;
    p.parse(&line, &mut |op: Op<'_>| {
        if let Op::Leaf(LeafOp::Msg(m)) = op {
            count = m.queues().count();
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(count, 500);
}
