//! The seeded session generator: case `index` of seed `seed` is the same on every machine.
//!
//! A case is data in the fixture schema's own terms (a configuration template, the
//! `ws_connect` request changes, `ws_send` steps whose frames are fixture frame specs), so
//! what the diff sends and what an emitted fixture sends are built by the same code.

use crate::diff::yaml::{bytes as yaml_bytes, quote};

/// splitmix64: small, fast, and reproducible in any language.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator of case `index` of `seed`.
    pub fn new(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        r.bits();
        r
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.bits() % n as u64) as usize
    }

    /// True with this probability in percent.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The server configuration a case runs against (the same for both servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// No auth, default limits.
    Plain,
    /// `authorization { user, password }`.
    UserPassword,
    /// `authorization { token }`.
    Token,
    /// Small `max_payload`, `max_control_line` and `max_subscriptions`.
    Limits,
    /// `allowed_origins` on the websocket block.
    Origins,
}

/// One generated session.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The campaign seed.
    pub seed: u64,
    /// The case's index in the campaign.
    pub index: u64,
    /// What the configuration enables.
    pub variant: Variant,
    /// The configuration, with `{client_port}` and `{ws_port}` placeholders.
    pub config: String,
    /// Headers the upgrade request sets (over Go's test request), in order.
    pub headers: Vec<[String; 2]>,
    /// Headers the upgrade request leaves out.
    pub remove: Vec<String>,
    /// The request method, if not GET.
    pub method: Option<String>,
    /// What is sent after the upgrade.
    pub sends: Vec<Send>,
    /// CONNECT JSON with which a plain NATS client checks the server is still alive.
    pub probe_connect: String,
}

/// One write: frames (fixture frame specs, YAML flow mappings), written in one go or in
/// pieces of `chop` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// The frames, each a fixture `FrameSpec` as YAML.
    pub frames: Vec<String>,
    /// Write in pieces of this many bytes.
    pub chop: Option<usize>,
}

/// What the generator knows about the configuration while generating ops.
struct Env {
    variant: Variant,
    compression: bool,
    max_payload: usize,
    /// The request says `Nats-No-Masking: true`: frames go unmasked, as such a client
    /// sends them (Go reads a masked frame's key as payload then, docs/CONFORMANCE.md
    /// row 2, so masked frames would only show that documented difference).
    no_masking: bool,
}

const SUBJECTS: [&str; 6] = ["a", "a.b", "a.*", "a.>", "b", "_INBOX.x"];
const PUB_SUBJECTS: [&str; 4] = ["a", "a.b", "b", "_INBOX.x"];
const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "nats.ws/1.30.3",
    "Go-http-client/1.1",
];
const EXTENSION_OFFERS: [&str; 4] = [
    "permessage-deflate",
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    "x-webkit-deflate-frame",
];

/// Generates case `index` of `seed`.
pub fn generate(seed: u64, index: u64) -> Case {
    let mut r = Rng::new(seed, index);
    let variant = *r.pick(&[
        Variant::Plain,
        Variant::Plain,
        Variant::UserPassword,
        Variant::Token,
        Variant::Limits,
        Variant::Origins,
    ]);
    let compression = r.chance(50);
    let max_payload = if variant == Variant::Limits {
        1024
    } else {
        1024 * 1024
    };
    let mut env = Env {
        variant,
        compression,
        max_payload,
        no_masking: false,
    };
    let config = config(&env);
    let (headers, remove, method) = handshake(&mut r, &env);
    env.no_masking = headers.iter().any(|[k, _]| k == "Nats-No-Masking");
    let offered = headers
        .iter()
        .any(|[k, v]| k == "Sec-WebSocket-Extensions" && v.starts_with("permessage-deflate"));
    let ops = ops(&mut r, &env);
    let sends = framing(&mut r, &env, compression && offered, &ops);
    let probe_connect = match variant {
        Variant::UserPassword => r#"{"verbose":false,"user":"u","pass":"p"}"#,
        Variant::Token => r#"{"verbose":false,"auth_token":"s3cr3t"}"#,
        _ => r#"{"verbose":false}"#,
    }
    .to_owned();
    Case {
        seed,
        index,
        variant,
        config,
        headers,
        remove,
        method,
        sends,
        probe_connect,
    }
}

fn config(env: &Env) -> String {
    let mut c = String::from("listen: \"127.0.0.1:{client_port}\"\n");
    match env.variant {
        Variant::Plain | Variant::Origins => {}
        Variant::UserPassword => c.push_str("authorization { user: u, password: p }\n"),
        Variant::Token => c.push_str("authorization { token: s3cr3t }\n"),
        Variant::Limits => {
            c.push_str("max_payload: 1024\nmax_control_line: 256\nmax_subscriptions: 3\n")
        }
    }
    c.push_str("websocket {\n  listen: \"127.0.0.1:{ws_port}\"\n  no_tls: true\n");
    if env.compression {
        c.push_str("  compression: true\n");
    }
    if env.variant == Variant::Origins {
        c.push_str("  allowed_origins: [\"http://good.example\"]\n");
    }
    c.push_str("}\n");
    c
}

type Handshake = (Vec<[String; 2]>, Vec<String>, Option<String>);

fn handshake(r: &mut Rng, env: &Env) -> Handshake {
    let mut set = Vec::new();
    let mut add = |k: &str, v: String| set.push([k.to_owned(), v]);
    if r.chance(70) {
        add("User-Agent", (*r.pick(&USER_AGENTS)).to_owned());
    }
    if r.chance(75) {
        add(
            "Sec-WebSocket-Extensions",
            (*r.pick(&EXTENSION_OFFERS)).to_owned(),
        );
    }
    if r.chance(25) || env.variant == Variant::Origins {
        let origin = *r.pick(&[
            "http://good.example",
            "http://evil.example",
            "null",
            "http://localhost",
        ]);
        add("Origin", origin.to_owned());
    }
    if r.chance(20) {
        add(
            "X-Forwarded-For",
            (*r.pick(&["203.0.113.7", "198.51.100.1, 10.0.0.1", "not an ip"])).to_owned(),
        );
    }
    if r.chance(20) {
        add(
            "Cookie",
            (*r.pick(&["jwt=abc; user=u", "session=1", "a=b; c"])).to_owned(),
        );
    }
    if r.chance(10) {
        add("Nats-No-Masking", "true".to_owned());
    }
    let mut remove = Vec::new();
    let mut method = None;
    if r.chance(6) {
        match r.below(4) {
            0 => remove.push("Sec-Websocket-Key".to_owned()),
            1 => set.push(["Sec-Websocket-Version".to_owned(), "12".to_owned()]),
            2 => remove.push("Upgrade".to_owned()),
            _ => method = Some("POST".to_owned()),
        }
    }
    (set, remove, method)
}

/// The NATS operations of a session, each one complete protocol text (or a deliberate
/// violation).
fn ops(r: &mut Rng, env: &Env) -> Vec<Vec<u8>> {
    let mut ops = Vec::new();
    if r.chance(92) {
        ops.push(connect_op(r, env));
    }
    let n = 1 + r.below(10);
    for _ in 0..n {
        ops.push(op(r, env));
    }
    if r.chance(10) {
        // A second CONNECT: Go decodes it into the first one's options.
        let at = r.below(ops.len() + 1);
        ops.insert(at, connect_op(r, env));
    }
    ops.push(b"PING\r\n".to_vec());
    ops
}

fn connect_op(r: &mut Rng, env: &Env) -> Vec<u8> {
    let mut fields: Vec<String> = Vec::new();
    for (name, percent) in [
        ("verbose", 60),
        ("pedantic", 30),
        ("echo", 50),
        ("headers", 50),
        ("no_responders", 30),
    ] {
        if r.chance(percent) {
            fields.push(format!("\"{name}\":{}", r.chance(50)));
        }
    }
    if r.chance(50) {
        fields.push(format!("\"protocol\":{}", r.below(2)));
    }
    if r.chance(20) {
        fields.push("\"lang\":\"rust\",\"version\":\"0.1.0\",\"name\":\"diff\"".to_owned());
    }
    match env.variant {
        Variant::UserPassword => match r.below(6) {
            0 => {}
            1 => fields.push("\"user\":\"u\",\"pass\":\"wrong\"".to_owned()),
            _ => fields.push("\"user\":\"u\",\"pass\":\"p\"".to_owned()),
        },
        Variant::Token => match r.below(6) {
            0 => {}
            1 => fields.push("\"auth_token\":\"nope\"".to_owned()),
            _ => fields.push("\"auth_token\":\"s3cr3t\"".to_owned()),
        },
        _ => {}
    }
    if r.chance(4) {
        return b"CONNECT {\"verbose\":\r\n".to_vec();
    }
    format!("CONNECT {{{}}}\r\n", fields.join(",")).into_bytes()
}

fn payload(r: &mut Rng, max: usize) -> Vec<u8> {
    let len = r.below(max + 1);
    (0..len).map(|_| b"abcxyz019 .-"[r.below(12)]).collect()
}

fn op(r: &mut Rng, env: &Env) -> Vec<u8> {
    // One sid per (subject, queue): Go keeps several subscriptions of one node in a map,
    // so their delivery order (and a queue group's pick among members of one
    // connection) is random; with one sid each, a connection has at most one.
    let subject = r.below(SUBJECTS.len());
    let queue = r.below(3);
    let sid = 1 + subject * 3 + queue;
    match r.below(20) {
        0..=4 if queue == 0 => format!("SUB {} {sid}\r\n", SUBJECTS[subject]).into_bytes(),
        // The queue name is the subject's too: a group spanning two patterns would have
        // two members here, and Go picks one at random.
        0..=4 => format!("SUB {} q{subject}{queue} {sid}\r\n", SUBJECTS[subject]).into_bytes(),
        5..=8 => {
            let body = payload(r, 24);
            let reply = if r.chance(25) { " _INBOX.x" } else { "" };
            let mut op =
                format!("PUB {}{reply} {}\r\n", r.pick(&PUB_SUBJECTS), body.len()).into_bytes();
            op.extend(body);
            op.extend(b"\r\n");
            op
        }
        9 | 10 => {
            let body = payload(r, 16);
            let hdr = format!("NATS/1.0\r\nK: v{}\r\n\r\n", r.below(9));
            let mut op = format!(
                "HPUB {} {} {}\r\n{hdr}",
                r.pick(&PUB_SUBJECTS),
                hdr.len(),
                hdr.len() + body.len()
            )
            .into_bytes();
            op.extend(body);
            op.extend(b"\r\n");
            op
        }
        11 => format!("UNSUB {sid} {}\r\n", 1 + r.below(2)).into_bytes(),
        12 => format!("UNSUB {sid}\r\n").into_bytes(),
        13 => b"PING\r\n".to_vec(),
        14 => (*r.pick(&["PONG\r\n", "ping\r\n", "pub a 1\r\nx\r\n"]))
            .as_bytes()
            .to_vec(),
        15 => (*r.pick(&[
            "FOO\r\n",
            "SUB\r\n",
            "PUB a -1\r\n",
            "PUB a b c d\r\n",
            "UNSUB\r\n",
            "PUB a 3\r\nxyzw\r\n",
            "MSG a 1 1\r\nx\r\n",
        ]))
        .as_bytes()
        .to_vec(),
        16 => {
            // Over max_payload: announced only, or with the bytes when that is small.
            let n = env.max_payload + 1;
            let mut op = format!("PUB a {n}\r\n").into_bytes();
            if n <= 4096 && r.chance(50) {
                op.resize(op.len() + n, b'z');
                op.extend(b"\r\n");
            }
            op
        }
        17 => {
            let long = "x".repeat(if r.chance(50) { 300 } else { 4200 });
            format!("SUB {long} 1\r\n").into_bytes()
        }
        _ => format!("PUB {} 0\r\n\r\n", r.pick(&PUB_SUBJECTS)).into_bytes(),
    }
}

/// A fixture frame spec as YAML.
#[derive(Debug, Clone, Default)]
struct FrameGen {
    opcode: String,
    fin: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    mask: Option<String>,
    length: Option<&'static str>,
    payload: String,
    close: Option<(u16, String)>,
}

impl FrameGen {
    fn new(opcode: &str, payload: String) -> FrameGen {
        FrameGen {
            opcode: opcode.to_owned(),
            fin: true,
            payload,
            ..FrameGen::default()
        }
    }

    fn yaml(&self) -> String {
        let mut parts = vec![format!("opcode: {}", self.opcode)];
        if !self.fin {
            parts.push("fin: false".to_owned());
        }
        for (name, on) in [
            ("rsv1", self.rsv1),
            ("rsv2", self.rsv2),
            ("rsv3", self.rsv3),
        ] {
            if on {
                parts.push(format!("{name}: true"));
            }
        }
        if let Some(m) = &self.mask {
            parts.push(format!("mask: {m}"));
        }
        if let Some(l) = self.length {
            parts.push(format!("length: {l}"));
        }
        match &self.close {
            Some((code, reason)) => {
                parts.push(format!("close: {{code: {code}, reason: {reason}}}"))
            }
            None if self.payload != "\"\"" => parts.push(format!("payload: {}", self.payload)),
            None => {}
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Cuts the ops into messages and frames, with control frames between fragments, and
/// mutations now and then.
fn framing(r: &mut Rng, env: &Env, compressed: bool, ops: &[Vec<u8>]) -> Vec<Send> {
    let mut sends = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        let take = 1 + r.below(3.min(ops.len() - i));
        let data: Vec<u8> = ops[i..i + take].concat();
        i += take;
        let mut frames = message(r, env, compressed, &data);
        if r.chance(10) {
            let at = r.below(frames.len() + 1);
            frames.insert(at, control(r));
        }
        if r.chance(9) {
            mutate(r, env, &mut frames);
        }
        if env.no_masking {
            for f in &mut frames {
                f.mask = Some("none".to_owned());
            }
        }
        let chop = r.chance(15).then(|| 1 + r.below(7));
        sends.push(Send {
            frames: frames.iter().map(FrameGen::yaml).collect(),
            chop,
        });
    }
    if r.chance(15) {
        let mut f = close_frame(r);
        if env.no_masking {
            f.mask = Some("none".to_owned());
        }
        sends.push(Send {
            frames: vec![f.yaml()],
            chop: None,
        });
    }
    sends
}

/// One data message in 1-3 frames, deflated when `compressed` (and chosen).
fn message(r: &mut Rng, env: &Env, compressed: bool, data: &[u8]) -> Vec<FrameGen> {
    let opcode = if r.chance(20) { "text" } else { "binary" };
    let pieces = 1 + r.below(3);
    let text = yaml_bytes(data);
    let mut frames = Vec::new();
    if compressed && r.chance(60) {
        let stored = r.chance(15);
        for k in 0..pieces {
            let payload = if stored {
                stored_part(data, k, pieces)
            } else if pieces == 1 {
                format!("{{deflate: {{data: {text}}}}}")
            } else {
                format!("{{deflate: {{data: {text}, part: [{k}, {pieces}]}}}}")
            };
            let mut f = FrameGen::new(if k == 0 { opcode } else { "continuation" }, payload);
            f.rsv1 = k == 0;
            f.fin = k + 1 == pieces;
            frames.push(f);
        }
        if r.chance(8) {
            // A bomb: a few bytes inflating past max_payload.
            let n = env.max_payload + 1 + r.below(64);
            let bomb = if r.chance(50) {
                format!("{{deflate: {{data: {{zeros: {n}}}}}}}")
            } else {
                let times = n / 14 + 1;
                format!(
                    "{{deflate: {{data: {{repeat: {{text: \"PUB a 2\\r\\nhi\\r\\n\", times: {times}}}}}}}}}"
                )
            };
            let mut f = FrameGen::new("binary", bomb);
            f.rsv1 = true;
            frames.push(f);
        }
        return frames;
    }
    let cuts = split_points(r, data.len(), pieces);
    let mut start = 0;
    for (k, end) in cuts.iter().enumerate() {
        let mut f = FrameGen::new(
            if k == 0 { opcode } else { "continuation" },
            yaml_bytes(&data[start..*end]),
        );
        f.fin = k + 1 == cuts.len();
        frames.push(f);
        start = *end;
    }
    frames
}

/// The deflate stored-block form of part `k` of `of` of `data` (BFINAL 0, as a sync flush
/// leaves it): valid permessage-deflate of a kind level-1 deflate never writes.
fn stored_part(data: &[u8], k: usize, of: usize) -> String {
    let mut block = vec![0u8];
    let len = data.len().min(0xffff) as u16;
    block.extend(len.to_le_bytes());
    block.extend((!len).to_le_bytes());
    block.extend(&data[..len as usize]);
    let size = block.len().div_ceil(of);
    let from = (k * size).min(block.len());
    let to = ((k + 1) * size).min(block.len());
    yaml_bytes(&block[from..to])
}

fn split_points(r: &mut Rng, len: usize, pieces: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (1..pieces).map(|_| r.below(len + 1)).collect();
    cuts.sort_unstable();
    cuts.push(len);
    cuts
}

fn control(r: &mut Rng) -> FrameGen {
    let body = payload(r, 8);
    FrameGen::new(
        if r.chance(70) { "ping" } else { "pong" },
        yaml_bytes(&body),
    )
}

fn close_frame(r: &mut Rng) -> FrameGen {
    let mut f = FrameGen::new("close", "\"\"".to_owned());
    match r.below(8) {
        0 => {}
        1 => f.payload = "{hex: \"03\"}".to_owned(),
        2 => f.payload = "{hex: \"03 e8 ff fe\"}".to_owned(),
        _ => {
            let code = *r.pick(&[1000u16, 1001, 1002, 1005, 999, 1016, 3000, 4999, 5000]);
            let reason = *r.pick(&["", "bye", "going away now"]);
            f.close = Some((code, quote(reason)));
        }
    }
    f
}

/// One mutation of a message's frames: what the Go tests' `testWSCreateClientMsg`
/// callers do by hand.
fn mutate(r: &mut Rng, env: &Env, frames: &mut Vec<FrameGen>) {
    let at = r.below(frames.len());
    let f = &mut frames[at];
    match r.below(11) {
        0 => f.mask = Some("none".to_owned()),
        1 => f.rsv2 = true,
        2 => f.rsv3 = true,
        3 => f.rsv1 = !f.rsv1,
        4 => f.opcode = r.pick(&[3u8, 5, 7, 11, 15]).to_string(),
        5 => {
            let mut ping = FrameGen::new("ping", "{alphabet: 126}".to_owned());
            ping.fin = r.chance(50);
            frames.insert(at, ping);
        }
        6 => {
            let mut ping = FrameGen::new("ping", "\"p\"".to_owned());
            ping.fin = false;
            frames.insert(at, ping);
        }
        7 => f.length = Some(if r.chance(50) { "ext16" } else { "ext64" }),
        8 => frames.insert(at, FrameGen::new("continuation", "\"stray\"".to_owned())),
        9 => {
            let mut start = FrameGen::new("binary", "\"PI\"".to_owned());
            start.fin = false;
            frames.insert(at, start);
        }
        _ => {
            if env.compression {
                let mut f = FrameGen::new(
                    "binary",
                    "{deflate: {data: \"PUB a 5\\r\\nhello\\r\\n\", corrupt_last: true}}"
                        .to_owned(),
                );
                f.rsv1 = true;
                frames.insert(at, f);
            } else {
                frames.insert(at, close_frame(r));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_index_give_the_same_case() {
        for i in 0..50 {
            assert_eq!(generate(7, i), generate(7, i));
        }
        let distinct = (0..50)
            .filter(|i| generate(7, *i) != generate(8, *i))
            .count();
        assert!(distinct > 45, "seeds change cases: {distinct} of 50 differ");
    }

    #[test]
    fn every_generated_frame_is_a_valid_fixture_frame_spec() {
        for i in 0..300 {
            let case = generate(1, i);
            for send in &case.sends {
                for f in &send.frames {
                    let spec: crate::fixture::FrameSpec =
                        serde_saphyr::from_str(f).unwrap_or_else(|e| panic!("case {i}: {f}: {e}"));
                    crate::peer::frames::spec_frame(&spec)
                        .unwrap_or_else(|e| panic!("case {i}: {f}: {e}"));
                }
            }
        }
    }
}
