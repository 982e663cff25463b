//! Writes `fuzz/seeds/<target>/` from the conformance fixtures (`fixtures/*.yaml`) and
//! from unit vectors, in each target's input layout. Run from anywhere:
//! `cargo run --manifest-path fuzz/seedgen/Cargo.toml` (its own workspace, so the fuzz
//! crate does not depend on the harness).
//! Output is deterministic; existing seed files are replaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nats_ws::fuzzing::spec::{
    FrameSpec, InflateSpec, LengthSpec, MessageSpec, OutOp, OutboundSpec, RoundtripSpec,
};
use nats_ws::policy::{Compression, Framing, MaskPolicy};
use nats_ws_harness::fixture::{
    CodecStep, Fixture, FrameSpec as FixtureFrame, MaskingSpec, Setup, Steps,
};
use nats_ws_harness::peer::frames::spec_frame;

type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut seeds: Seeds = BTreeMap::new();
    from_fixtures(&root.join("fixtures"), &mut seeds);
    unit_vectors(&mut seeds);
    let out = root.join("fuzz/seeds");
    for (target, files) in &seeds {
        let dir = out.join(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for (name, bytes) in files {
            let path: PathBuf = dir.join(name);
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        println!("{target}: {} seeds", files.len());
    }
}

fn add(seeds: &mut Seeds, target: &'static str, name: impl Into<String>, bytes: Vec<u8>) {
    let name: String = name
        .into()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    seeds.entry(target).or_default().insert(name, bytes);
}

/// Every codec case's sent bytes become a decoder seed (one read, and byte by byte),
/// and its close payloads a close seed.
fn from_fixtures(dir: &Path, seeds: &mut Seeds) {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        // Fixtures of layers this program does not know still load; broken ones are skipped.
        let Ok(fixture) = Fixture::load(path) else {
            eprintln!("skipping {}", path.display());
            continue;
        };
        let cases: Vec<(String, Setup, Steps)> = if fixture.cases.is_empty() {
            vec![(String::new(), fixture.setup.clone(), fixture.steps.clone())]
        } else {
            fixture
                .cases
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.setup.clone().unwrap_or_else(|| fixture.setup.clone()),
                        c.steps.clone(),
                    )
                })
                .collect()
        };
        for (case, setup, steps) in cases {
            // Only codec fixtures send frames to a decoder.
            let Steps::Codec(steps) = steps else {
                continue;
            };
            let mut stream = Vec::new();
            for step in &steps {
                match step {
                    CodecStep::SendFrame(spec) => {
                        if let Some(bytes) = frame_bytes(spec) {
                            stream.extend(bytes);
                        }
                        if let Some(close) = &spec.close {
                            let mut p = close.code.to_be_bytes().to_vec();
                            p.extend(close.reason.build().unwrap_or_default());
                            add(
                                seeds,
                                "close_payload",
                                format!("{}-{case}", fixture.go_test),
                                [vec![0x01], p].concat(),
                            );
                        }
                    }
                    CodecStep::SendRaw(spec) => stream.extend(spec.build().unwrap_or_default()),
                    _ => {}
                }
            }
            if stream.is_empty() {
                continue;
            }
            let mut options = 0u8;
            if setup.masking == Some(MaskingSpec::Exempt) {
                options |= 1;
            }
            if setup.compression == Some(true) {
                options |= 2;
            }
            if setup.max_payload.is_some_and(|m| m <= 1024) {
                options |= 2 << 2;
            }
            let name = format!("{}-{case}", fixture.go_test);
            add(
                seeds,
                "frame_decoder",
                &name,
                [vec![options], stream.clone()].concat(),
            );
            add(
                seeds,
                "frame_decoder_chunked",
                format!("{name}-whole"),
                [vec![options, 0], stream.clone()].concat(),
            );
            add(
                seeds,
                "frame_decoder_chunked",
                format!("{name}-bytewise"),
                [vec![options, 1, 1], stream].concat(),
            );
        }
    }
}

/// A fixture frame's bytes, as the harness sends them (the Go tests' `testWSCreateClientMsg`).
fn frame_bytes(spec: &FixtureFrame) -> Option<Vec<u8>> {
    spec_frame(spec).ok().map(|f| f.bytes)
}

fn frame(opcode: u8, fin: bool, payload: &[u8]) -> FrameSpec {
    FrameSpec {
        fin,
        rsv1: false,
        rsv2: false,
        rsv3: false,
        opcode,
        key: Some([1, 2, 3, 4]),
        length: LengthSpec::Minimal,
        payload: payload.to_vec(),
    }
}

fn unit_vectors(seeds: &mut Seeds) {
    // frame_roundtrip: the length forms, fragmentation, controls, the known bugs.
    let rt = |frames: Vec<FrameSpec>, compression| RoundtripSpec {
        mask: MaskPolicy::Required,
        compression,
        frames,
    };
    let mut long = frame(2, true, &[0x41; 300]);
    long.length = LengthSpec::Extended64;
    let mut short16 = frame(2, true, b"hi");
    short16.length = LengthSpec::Extended16;
    let mut msb = frame(2, true, b"");
    msb.length = LengthSpec::Announce(1 << 63);
    let mut huge = frame(2, true, b"abcd");
    huge.length = LengthSpec::Announce(1 << 62);
    let mut compressed = frame(2, false, b"");
    compressed.rsv1 = true;
    let mut reserved = frame(3, true, b"x");
    reserved.rsv2 = true;
    let vectors = [
        (
            "pub-hello",
            rt(
                vec![frame(2, true, b"PUB foo 5\r\nhello\r\n")],
                Compression::Off,
            ),
        ),
        (
            "fragmented-with-ping",
            rt(
                vec![
                    frame(1, false, b"PUB foo 5\r\nhe"),
                    frame(9, true, b"ping"),
                    frame(0, true, b"llo\r\n"),
                ],
                Compression::Off,
            ),
        ),
        (
            "length-forms",
            rt(vec![long, short16, frame(10, true, b"")], Compression::Off),
        ),
        (
            "close-1000",
            rt(vec![frame(8, true, b"\x03\xe8bye")], Compression::Off),
        ),
        (
            "close-1-byte",
            rt(vec![frame(8, true, b"\x03")], Compression::Off),
        ),
        ("msb-length", rt(vec![msb], Compression::Off)),
        ("length-2-pow-62", rt(vec![huge], Compression::Off)),
        (
            "empty-compressed",
            rt(
                vec![compressed, frame(0, true, b"")],
                Compression::Negotiated,
            ),
        ),
        ("reserved", rt(vec![reserved], Compression::Off)),
    ];
    for (name, spec) in vectors {
        add(seeds, "frame_roundtrip", name, spec.to_input());
    }

    // inflate: text, a bomb, fragments, an empty compressed message, corruption.
    let msg = |body: &[u8], repeat, fragments: &[u8], corrupt, raw| MessageSpec {
        compressed: true,
        raw,
        repeat,
        fragments: fragments.to_vec(),
        corrupt,
        body: body.to_vec(),
    };
    let inflate = [
        (
            "text",
            InflateSpec {
                max_payload: 1024,
                messages: vec![msg(b"PUB foo 5\r\nhello\r\n", 3, &[], None, false)],
            },
        ),
        (
            "bomb",
            InflateSpec {
                max_payload: 4096,
                messages: vec![msg(b"0", 60000, &[7, 0, 3], None, false)],
            },
        ),
        (
            "fragments",
            InflateSpec {
                max_payload: 0,
                messages: vec![msg(b"abcdefgh", 500, &[1, 2, 3, 0], None, false)],
            },
        ),
        (
            "empty-compressed",
            InflateSpec {
                max_payload: 64,
                messages: vec![msg(b"", 0, &[], None, true)],
            },
        ),
        (
            "corrupt",
            InflateSpec {
                max_payload: 1024,
                messages: vec![msg(b"hello hello hello", 2, &[4], Some((3, 0x55)), false)],
            },
        ),
    ];
    for (name, spec) in inflate {
        add(seeds, "inflate", name, spec.to_input());
    }

    // outbound: each client kind with and without compression and masking.
    for (fi, framing) in [Framing::Whole, Framing::Browser, Framing::Safari]
        .into_iter()
        .enumerate()
    {
        for compression in [Compression::Off, Compression::Negotiated] {
            for masked in [false, true] {
                let spec = OutboundSpec {
                    framing,
                    compression,
                    masked,
                    ops: vec![
                        OutOp::Queue {
                            bytes: b"MSG foo 1 5\r\nhello\r\n".to_vec(),
                            repeat: 250,
                        },
                        OutOp::Control {
                            ping: false,
                            payload: b"pong".to_vec(),
                        },
                        OutOp::Flush,
                        OutOp::Queue {
                            bytes: b"+OK\r\n".to_vec(),
                            repeat: 0,
                        },
                        OutOp::CloseState(16),
                        OutOp::Control {
                            ping: true,
                            payload: b"late".to_vec(),
                        },
                        OutOp::Flush,
                        OutOp::CloseReply(b"\x03\xe8".to_vec()),
                    ],
                };
                let name = format!("framing{fi}-{compression:?}-masked{masked}");
                add(seeds, "outbound", name, spec.to_input());
            }
        }
    }

    // mask: key, split, payloads of a few lengths.
    for len in [0usize, 1, 7, 8, 9, 31, 64, 257] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        add(
            seeds,
            "mask",
            format!("len{len}"),
            [vec![0x12, 0x34, 0x56, 0x78, 3], payload].concat(),
        );
    }

    // close_payload: statuses at the edges of the valid ranges, bad UTF-8, long reasons.
    for code in [
        999u16, 1000, 1004, 1005, 1006, 1012, 1014, 1015, 1016, 2999, 3000, 4999, 5000,
    ] {
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice(b"reason");
        add(
            seeds,
            "close_payload",
            format!("status-{code}"),
            [vec![0x01], p].concat(),
        );
    }
    add(
        seeds,
        "close_payload",
        "bad-utf8",
        b"\x0b\x03\xe8\xff\xfe".to_vec(),
    );
    add(
        seeds,
        "close_payload",
        "long-reason",
        [b"\x22\x03\xe8".to_vec(), "é".repeat(80).into_bytes()].concat(),
    );
    add(seeds, "close_payload", "empty", b"\x01".to_vec());

    // handshake: a valid upgrade and the rejections, whole and byte by byte.
    let requests: [(&str, &[u8]); 8] = [
        ("upgrade", b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
        ("upgrade-all", b"GET /leafnode HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nNats-No-Masking: true\r\nOrigin: http://localhost:8080\r\nX-Forwarded-For: 1.2.3.4\r\nCookie: jwt=abc; user=u\r\nUser-Agent: Mozilla/5.0 Version/17 Safari/605\r\n\r\n"),
        ("data-before-101", b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x82\x80"),
        ("post", b"POST / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("options-star", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("unclean-path", b"GET /a/../b/./c?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("folded", b"GET / HTTP/1.0\nX-A: a\n b\nBad Name: x\n\n"),
        ("mqtt-bad-key", b"GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 12\r\n\r\n"),
    ];
    for (name, req) in requests {
        add(
            seeds,
            "handshake",
            format!("{name}-whole"),
            [vec![0x07, 0], req.to_vec()].concat(),
        );
        add(
            seeds,
            "handshake",
            format!("{name}-bytewise"),
            [vec![0x1d, 1, 1], req.to_vec()].concat(),
        );
    }

    // extensions: offers as browsers and odd clients send them.
    let offers: [(&str, &[u8]); 6] = [
        ("pmd", b"permessage-deflate"),
        (
            "pmd-params",
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        ("browser", b"permessage-deflate; client_max_window_bits"),
        (
            "list",
            b"x-webkit-deflate-frame, PerMessage-Deflate ;\tserver_max_window_bits=10\nfoo",
        ),
        ("param-only", b"x-foo; permessage-deflate"),
        ("none", b"deflate-frame\nx-foo; bar=baz"),
    ];
    for (name, offer) in offers {
        add(
            seeds,
            "extensions",
            name,
            [vec![0x01], offer.to_vec()].concat(),
        );
    }
    add(
        seeds,
        "extensions",
        "long-s",
        [vec![0x03], "perme\u{17f}sage-deflate".as_bytes().to_vec()].concat(),
    );

    // nats_parser: the ops Go's FuzzParser is seeded with, whole and split.
    let protocol: [(&str, &[u8]); 9] = [
        (
            "connect",
            b"CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n",
        ),
        ("pub", b"PUB foo.bar reply 5\r\nhello\r\n"),
        (
            "hpub",
            b"HPUB foo 22 27\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\n",
        ),
        ("sub", b"SUB foo q 1\r\nSUB bar 2\r\n"),
        ("unsub", b"UNSUB 1 10\r\nUNSUB 2\r\n"),
        (
            "ping-pong",
            b"PING\r\nPONG\r\n+OK\r\n-ERR 'x'\r\nINFO {}\r\n",
        ),
        ("too-big", b"PUB foo 99999999\r\n"),
        ("unknown", b"FOO bar\r\n"),
        (
            "all",
            b"CONNECT {}\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\nUNSUB 1\r\n",
        ),
    ];
    for (name, bytes) in protocol {
        add(
            seeds,
            "nats_parser",
            format!("{name}-whole"),
            [vec![0, 0], bytes.to_vec()].concat(),
        );
        add(
            seeds,
            "nats_parser",
            format!("{name}-split"),
            [vec![1, 2, 3, 5], bytes.to_vec()].concat(),
        );
    }

    // leaf_protocol: what a leaf peer sends (Go's leafnode.go ops), whole and split.
    let leaf: [(&str, &[u8]); 8] = [
        (
            "connect",
            b"CONNECT {\"server_id\":\"N\",\"headers\":true,\"name\":\"leaf\"}\r\n",
        ),
        ("ls", b"LS+ foo\r\nLS+ foo.* bar 3\r\nLS- foo\r\nLS- foo.* bar\r\n"),
        ("lmsg", b"LMSG foo 5\r\nhello\r\nLMSG foo reply 0\r\n\r\n"),
        (
            "lmsg-queues",
            b"LMSG foo + r q1 q2 3\r\nabc\r\nLMSG foo | q1 1\r\nx\r\n",
        ),
        (
            "hmsg",
            b"HMSG foo 22 27\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\nHMSG foo + r q 12 12\r\nNATS/1.0\r\n\r\n\r\n",
        ),
        ("lds", b"LS+ $LDS.abcdef\r\nPING\r\nPONG\r\n-ERR 'x'\r\nINFO {}\r\n"),
        ("bad-indicator", b"LMSG foo * r q 1\r\nx\r\n"),
        ("too-big", b"LMSG foo 99999999\r\n"),
    ];
    for (name, bytes) in leaf {
        add(
            seeds,
            "leaf_protocol",
            format!("{name}-whole"),
            [vec![0, 0], bytes.to_vec()].concat(),
        );
        add(
            seeds,
            "leaf_protocol",
            format!("{name}-split"),
            [vec![1, 2, 3, 5], bytes.to_vec()].concat(),
        );
    }

    // mqtt_packet: a client's session, whole and split, and the error paths of Go's
    // mqtt_test.go (first packet, flags, lengths, max_payload, HTTP on the MQTT port).
    for (name, bytes) in mqtt_seeds() {
        add(seeds, "mqtt_packet", format!("{name}-whole"), [vec![0, 0], bytes.clone()].concat());
        add(seeds, "mqtt_packet", format!("{name}-split"), [vec![0, 3, 1, 2, 7], bytes].concat());
    }

    // conf: the websocket block and the grammar's corners.
    let confs: [(&str, &str); 8] = [
        (
            "websocket",
            "websocket {\n  port: 8080\n  no_tls: true\n  compression: true\n  same_origin: false\n  allowed_origins: [\"http://a\", 'https://b']\n  handshake_timeout: \"2s\"\n  jwt_cookie: my_jwt\n}\n",
        ),
        (
            "auth",
            "authorization {\n  users = [\n    {user: alice, password: \"$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\"}\n    {user: bob, password: pwd, permissions: {publish: [\"a.>\"]}}\n  ]\n}\n",
        ),
        (
            "variables",
            "size = 1MB\nmax_payload: $size\nnested { a = $size; b = [$size, 2k, 3KiB] }\nenv = $NWS_MAP\n",
        ),
        (
            "scalars",
            "a = 1.5e3\nb = yes\nc = 2016-05-04T18:53:41Z\nd = \"esc \\t \\x41 \\\\\"\ne = 'raw'\nf: -12\n// comment\n# comment\n",
        ),
        ("block", "text = (\nline one\n  line two\n)\nafter = 1\n"),
        ("deep", "a = [[[[[[[[[[{ b: [[[[1]]]] }]]]]]]]]]]\n"),
        ("cycle", "x = $NWS_SELF\n"),
        ("include", "include \"other.conf\"\n"),
    ];
    for (name, text) in confs {
        add(seeds, "conf", name, text.as_bytes().to_vec());
    }
}

/// MQTT client streams for the `mqtt_packet` target.
fn mqtt_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use nats_ws::mqtt::Qos;
    use nats_ws::mqtt::writer::{self, ConnectSpec, PubResponse, PublishHeader};
    let connect = |spec: &ConnectSpec<'_>| {
        let mut out = Vec::new();
        writer::connect(&mut out, spec).expect("a small CONNECT");
        out
    };
    let plain = connect(&ConnectSpec { client_id: "c1", clean: true, keep_alive: 30, ..Default::default() });
    let full = connect(&ConnectSpec {
        client_id: "c2",
        clean: false,
        keep_alive: 5,
        will: Some((b"will/topic", b"bye", Qos::AtLeastOnce, true)),
        username: Some("user"),
        password: Some(b"pwd"),
    });
    let mut session = plain.clone();
    for (qos, pi) in [(Qos::AtMostOnce, 0), (Qos::AtLeastOnce, 1), (Qos::ExactlyOnce, 2)] {
        let h = PublishHeader { pi, qos, dup: pi == 2, retain: pi == 1, topic: b"a/b.c//d" };
        writer::publish(&mut session, &h, b"hello").expect("a small PUBLISH");
    }
    writer::subscribe(&mut session, 3, &[(b"a/+/#", Qos::AtLeastOnce), (b"$SYS/x", Qos::ExactlyOnce), (b"sp ace", Qos::AtMostOnce)])
        .expect("a small SUBSCRIBE");
    writer::unsubscribe(&mut session, 4, &[b"a/+/#"]).expect("a small UNSUBSCRIBE");
    for kind in [PubResponse::Ack, PubResponse::Rec, PubResponse::Rel, PubResponse::Comp] {
        writer::pub_response(&mut session, kind, 9);
    }
    writer::pingreq(&mut session);
    writer::disconnect(&mut session);
    let mut trailing = plain.clone();
    trailing[1] += 2;
    trailing.extend_from_slice(b"\xc0\x00\xc0\x00");
    let mut bad_flags = plain.clone();
    bad_flags[0] |= 1;
    vec![
        ("session", session),
        ("connect-will-user", full.clone()),
        ("connect-trailing-ping", trailing),
        ("connect-then-second", [&plain[..], &full[..]].concat()),
        ("publish-first", b"\x30\x07\x00\x03foohi".to_vec()),
        ("http-get", b"GET /mqtt HTTP/1.1\r\n\r\n".to_vec()),
        ("connect-flags", bad_flags),
        ("connect-mqisdp", b"\x10\x0c\x00\x06MQIsdp\x03\x02\x00\x3c".to_vec()),
        ("connect-level-7", b"\x10\x0c\x00\x04MQTT\x07\x02\x00\x00\x00\x04mqtt".to_vec()),
        ("malformed-varint", [&plain[..], b"\x30\xff\xff\xff\xff\x01"].concat()),
        ("huge-announced", [&plain[..], b"\x30\xff\xff\xff\x7f"].concat()),
        ("ping-bad-length", [&plain[..], b"\xc0\x01\x00"].concat()),
        ("publish-short-length", [&plain[..], b"\x30\x02\x00\x40aaaa"].concat()),
        ("subscribe-qos3", [&plain[..], b"\x82\x06\x00\x01\x00\x01a\x03"].concat()),
    ]
}
