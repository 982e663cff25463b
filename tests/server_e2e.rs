//! End-to-end tests over loopback: our server driven by an independent WebSocket client
//! (tungstenite, synchronous) and a plain NATS client written here in a few lines.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

const T: Duration = Duration::from_secs(5);

fn opts(extra: &str) -> ServerOpts {
    let text = format!(
        "host: 127.0.0.1\nport: -1\n{extra}\nwebsocket {{ host: 127.0.0.1, port: -1, no_tls: true }}\n"
    );
    ServerOpts::from_str(&text, std::path::Path::new("."))
        .expect("config")
        .opts
}

fn capture() -> (LogSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&lines);
    let sink: LogSink = Arc::new(move |_level: LogLevel, line: &str| {
        l.lock().expect("log").push(line.to_owned());
    });
    (sink, lines)
}

fn start(o: ServerOpts) -> (Runtime, ServerHandle) {
    let rt = Runtime::new().expect("runtime");
    let s = rt
        .block_on(Server::start(o, nats_ws::server::null_sink()))
        .expect("start");
    (rt, s)
}

fn stop(rt: Runtime, s: ServerHandle) {
    rt.block_on(s.shutdown());
}

fn ws_connect(s: &ServerHandle, user_agent: Option<&str>) -> Ws {
    let addr = s.ws_addr().expect("ws listener");
    let mut req = format!("ws://{addr}/").into_client_request().expect("req");
    if let Some(ua) = user_agent {
        req.headers_mut()
            .insert("User-Agent", ua.parse().expect("header"));
    }
    let stream = TcpStream::connect(addr).expect("tcp");
    stream.set_read_timeout(Some(T)).expect("timeout");
    let (ws, resp) = tokio_tungstenite::tungstenite::client(req, stream).expect("upgrade");
    assert_eq!(resp.status(), 101);
    ws
}

/// Next data payload, skipping pings.
fn next_data(ws: &mut Ws) -> Vec<u8> {
    loop {
        match ws.read().expect("ws read") {
            Message::Binary(b) => return b.to_vec(),
            Message::Text(t) => return t.as_bytes().to_vec(),
            Message::Close(c) => panic!("unexpected close {c:?}"),
            _ => {}
        }
    }
}

/// Reads data until `pat` was seen; returns everything read.
fn ws_until(ws: &mut Ws, pat: &str) -> String {
    let mut all = String::new();
    while !all.contains(pat) {
        all.push_str(&String::from_utf8_lossy(&next_data(ws)));
    }
    all
}

fn ws_send(ws: &mut Ws, data: &str) {
    ws.send(Message::binary(data.as_bytes().to_vec()))
        .expect("send");
}

/// Expects the close frame; returns (code, reason).
fn expect_close(ws: &mut Ws) -> (u16, String) {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => return (u16::from(f.code), f.reason.to_string()),
            Ok(Message::Close(None)) => return (1005, String::new()),
            Ok(_) => {}
            Err(e) => panic!("no close frame: {e}"),
        }
    }
}

fn ws_client(s: &ServerHandle, ua: Option<&str>) -> Ws {
    let mut ws = ws_connect(s, ua);
    assert!(next_data(&mut ws).starts_with(b"INFO {"));
    ws_send(
        &mut ws,
        "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n",
    );
    let got = ws_until(&mut ws, "PONG\r\n");
    if !got.contains("INFO ") {
        assert!(next_data(&mut ws).starts_with(b"INFO "));
    }
    ws
}

struct Tcp(TcpStream, String);

impl Tcp {
    fn connect(s: &ServerHandle) -> Tcp {
        let stream = TcpStream::connect(s.client_addr()).expect("tcp");
        stream.set_read_timeout(Some(T)).expect("timeout");
        let mut t = Tcp(stream, String::new());
        t.until("\r\n");
        t
    }
    fn send(&mut self, data: &str) {
        self.0.write_all(data.as_bytes()).expect("write");
    }
    fn until(&mut self, pat: &str) -> String {
        let mut buf = vec![0u8; 65536];
        while !self.1.contains(pat) {
            let n = self.0.read(&mut buf).expect("read");
            assert!(n > 0, "closed before {pat:?}: {:?}", self.1);
            self.1.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let at = self.1.find(pat).map_or(0, |i| i + pat.len());
        self.1.drain(..at).collect()
    }
}

#[test]
fn ws_and_tcp_round_trip() {
    let (rt, s) = start(opts(""));
    let mut ws = ws_client(&s, None);
    let mut tcp = Tcp::connect(&s);
    tcp.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n");
    tcp.until("PONG\r\n");
    ws_send(&mut ws, "PUB foo 7\r\nfrom ws\r\n");
    assert!(tcp.until("from ws\r\n").contains("MSG foo 1 7\r\n"));
    ws_send(&mut ws, "SUB bar 1\r\nPING\r\n");
    ws_until(&mut ws, "PONG\r\n");
    tcp.send("PUB bar 9\r\nfrom nats\r\n");
    assert!(ws_until(&mut ws, "from nats\r\n").contains("MSG bar 1 9\r\n"));
    assert_eq!(s.connz().len(), 2);
    stop(rt, s);
}

/// A publisher keeps match results per subject (Go's per-client results cache): every
/// subscribe and unsubscribe elsewhere must show in its very next publish.
#[test]
fn publisher_match_cache_follows_subscription_changes() {
    let (rt, s) = start(opts(""));
    let mut p = Tcp::connect(&s);
    p.send("CONNECT {\"verbose\":false}\r\nPUB c.x 4\r\nnone\r\nPING\r\n");
    p.until("PONG\r\n");
    let mut a = Tcp::connect(&s);
    a.send("CONNECT {\"verbose\":false}\r\nSUB c.x 1\r\nPING\r\n");
    a.until("PONG\r\n");
    p.send("PUB c.x 3\r\none\r\nPING\r\n");
    p.until("PONG\r\n");
    assert!(a.until("one\r\n").ends_with("MSG c.x 1 3\r\none\r\n"));
    a.send("UNSUB 1\r\nPING\r\n");
    a.until("PONG\r\n");
    p.send("PUB c.x 3\r\ntwo\r\nPING\r\n");
    p.until("PONG\r\n");
    a.send("SUB c.* 2\r\nPING\r\n");
    let got = a.until("PONG\r\n");
    assert!(!got.contains("two"), "delivered after UNSUB: {got:?}");
    p.send("PUB c.x 5\r\nthree\r\nPING\r\n");
    p.until("PONG\r\n");
    a.send("PING\r\n");
    let got = a.until("PONG\r\n");
    assert_eq!(got, "MSG c.x 2 5\r\nthree\r\nPONG\r\n");
    // Subjects longer than the matcher's on-stack token array.
    let long: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let long = long.join(".");
    a.send("SUB t0.t1.t2.t3.t4.t5.t6.t7.t8.t9.t10.t11.t12.t13.t14.t15.t16.> 3\r\nPING\r\n");
    a.until("PONG\r\n");
    p.send(&format!("PUB {long} 4\r\nlong\r\nPING\r\n"));
    p.until("PONG\r\n");
    a.send("PING\r\n");
    assert_eq!(
        a.until("PONG\r\n"),
        format!("MSG {long} 3 4\r\nlong\r\nPONG\r\n")
    );
    stop(rt, s);
}

#[test]
fn queue_group_gets_one_copy() {
    let (rt, s) = start(opts(""));
    let mut a = Tcp::connect(&s);
    let mut b = Tcp::connect(&s);
    for t in [&mut a, &mut b] {
        t.send("CONNECT {\"verbose\":false}\r\nSUB q.* g 1\r\nPING\r\n");
        t.until("PONG\r\n");
    }
    let mut p = Tcp::connect(&s);
    let mut pubs = String::from("CONNECT {\"verbose\":false}\r\n");
    for _ in 0..100 {
        pubs.push_str("PUB q.x 1\r\nx\r\n");
    }
    pubs.push_str("PING\r\n");
    p.send(&pubs);
    p.until("PONG\r\n");
    let mut total = 0;
    for t in [&mut a, &mut b] {
        t.send("PING\r\n");
        total += t.until("PONG\r\n").matches("MSG q.x 1 1").count();
    }
    assert_eq!(total, 100);
    stop(rt, s);
}

#[test]
fn browser_framing_caps_frames_at_4096() {
    let (rt, s) = start(opts(""));
    let mut ws = ws_client(&s, Some("Mozilla/5.0"));
    assert_eq!(
        s.connz()[0].framing,
        Some(nats_ws::policy::Framing::Browser)
    );
    ws_send(&mut ws, "SUB foo 1\r\nPING\r\n");
    assert_eq!(next_data(&mut ws), b"PONG\r\n");
    let mut tcp = Tcp::connect(&s);
    let payload = "0".repeat(204_813);
    tcp.send(&format!(
        "CONNECT {{\"verbose\":false}}\r\nPUB foo {}\r\n{payload}\r\n",
        payload.len()
    ));
    let mut frames = 0;
    let mut got = 0;
    while got < payload.len() {
        let d = next_data(&mut ws);
        assert!(d.len() <= 4096);
        got += d.iter().filter(|&&b| b == b'0').count();
        frames += 1;
    }
    assert!(frames >= 50, "{frames} frames");
    stop(rt, s);
}

#[test]
fn max_payload_sends_err_then_close_1009() {
    let (rt, s) = start(opts("max_payload: 100"));
    let mut ws = ws_client(&s, None);
    ws_send(&mut ws, "PUB foo 200\r\n");
    assert!(ws_until(&mut ws, "'Maximum Payload Violation'").contains("-ERR"));
    assert_eq!(
        expect_close(&mut ws),
        (1009, "Maximum Message Payload Exceeded".to_owned())
    );
    stop(rt, s);
}

#[test]
fn protocol_error_close_frame_is_delivered() {
    let (rt, s) = start(opts(""));
    let mut ws = ws_client(&s, None);
    ws_send(&mut ws, "FOO\r\n");
    assert!(ws_until(&mut ws, "Unknown Protocol Operation").contains("-ERR"));
    assert_eq!(
        expect_close(&mut ws),
        (1002, "Protocol Violation".to_owned())
    );
    stop(rt, s);
}

#[test]
fn close_connection_and_shutdown_send_go_close_codes() {
    let (rt, s) = start(opts(""));
    let mut a = ws_client(&s, None);
    let mut b = ws_client(&s, None);
    let cid = s.connz()[0].cid;
    s.close_connection(cid, nats_ws::frame::ClosedState::ProtocolViolation);
    assert_eq!(
        expect_close(&mut a),
        (1002, "Protocol Violation".to_owned())
    );
    let shutdown = rt.spawn(s.shutdown());
    assert_eq!(expect_close(&mut b), (1001, "Server Shutdown".to_owned()));
    drop(b);
    rt.block_on(async { tokio::time::timeout(T, shutdown).await })
        .expect("shutdown in time")
        .expect("join");
}

#[test]
fn handshake_timeout_drops_silent_client() {
    let mut o = opts("");
    o.websocket.handshake_timeout = nats_ws::options::GoDuration(200_000_000);
    let (rt, s) = start(o);
    let mut t = TcpStream::connect(s.ws_addr().expect("ws")).expect("tcp");
    t.set_read_timeout(Some(T)).expect("timeout");
    t.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("w");
    let mut buf = [0u8; 64];
    let started = Instant::now();
    let n = t.read(&mut buf);
    assert!(matches!(n, Ok(0)), "{n:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    stop(rt, s);
}

#[test]
fn handshake_error_is_logged_with_remote_address() {
    let (sink, lines) = capture();
    let rt = Runtime::new().expect("runtime");
    let s = rt.block_on(Server::start(opts(""), sink)).expect("start");
    let mut t = TcpStream::connect(s.ws_addr().expect("ws")).expect("tcp");
    t.set_read_timeout(Some(T)).expect("timeout");
    let request: &[u8] = concat!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .as_bytes();
    t.write_all(request).expect("w");
    let mut resp = Vec::new();
    let _ = t.read_to_end(&mut resp);
    assert!(resp.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    let local = t.local_addr().expect("addr").to_string();
    let logged = lines.lock().expect("log").clone();
    assert!(
        logged.iter().any(|l| l.starts_with(&local)
            && l.contains("websocket handshake error: invalid value for header 'Connection'")),
        "{logged:?}"
    );
    stop(rt, s);
}

#[test]
fn stale_connection() {
    let mut o = opts("ping_max: 1");
    o.websocket.ping_interval = nats_ws::options::GoDuration(100_000_000);
    let (rt, s) = start(o);
    let mut ws = ws_client(&s, None);
    let got = ws_until(&mut ws, "'Stale Connection'");
    assert!(got.contains("PING\r\n"));
    assert_eq!(expect_close(&mut ws), (1001, "Stale Connection".to_owned()));
    stop(rt, s);
}

#[test]
fn max_connections() {
    let (rt, s) = start(opts("max_connections: 1"));
    let _first = Tcp::connect(&s);
    let mut ws = ws_connect(&s, None);
    let got = ws_until(&mut ws, "'maximum connections exceeded'");
    assert!(got.starts_with("INFO {") && got.contains("-ERR"), "{got}");
    assert_eq!(
        expect_close(&mut ws),
        (1008, "Maximum Connections Exceeded".to_owned())
    );
    stop(rt, s);
}

#[test]
fn slow_consumer_is_cut_off() {
    // Go refuses a max_payload above max_pending (the 1 MB default would be).
    let (rt, s) = start(opts("max_pending: 100000\nmax_payload: 65536"));
    let mut slow = Tcp::connect(&s);
    slow.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n");
    slow.until("PONG\r\n");
    let mut p = Tcp::connect(&s);
    p.send("CONNECT {\"verbose\":false}\r\n");
    let msg = format!("PUB foo 60000\r\n{}\r\n", "x".repeat(60_000));
    // The subscriber never reads: its socket buffers fill, then its pending bytes.
    for _ in 0..400 {
        if p.0.write_all(msg.as_bytes()).is_err() {
            break;
        }
        if s.connz().len() < 2 {
            break;
        }
    }
    let deadline = Instant::now() + T;
    while s.connz().len() == 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.connz().len(), 1, "slow consumer still connected");
    stop(rt, s);
}

#[test]
fn partial_writes_to_a_slow_reader_keep_every_byte() {
    let (rt, s) = start(opts(""));
    let mut ws = ws_client(&s, None);
    ws_send(&mut ws, "SUB big 1\r\nPING\r\n");
    ws_until(&mut ws, "PONG\r\n");
    let mut tcp = Tcp::connect(&s);
    tcp.send("CONNECT {\"verbose\":false}\r\n");
    let mut expected = Vec::new();
    for i in 0..100usize {
        let body: String = (0..(10 + i * 997 % 10_000))
            .map(|j| char::from(b'a' + ((i + j) % 26) as u8))
            .collect();
        tcp.send(&format!("PUB big {}\r\n{body}\r\n", body.len()));
        expected.extend_from_slice(format!("MSG big 1 {}\r\n{body}\r\n", body.len()).as_bytes());
    }
    // Read slowly so that the server's socket writes are partial.
    std::thread::sleep(Duration::from_millis(200));
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.extend_from_slice(&next_data(&mut ws));
    }
    assert_eq!(got, expected);
    stop(rt, s);
}

/// Go's TestWSAbnormalFailureOfWebServer: a listener that fails for good is fatal, and
/// the owner of the server hears of it (the binary exits with status 1).
#[test]
fn ws_listener_failure_is_fatal() {
    let (sink, lines) = capture();
    let rt = Runtime::new().expect("runtime");
    let s = rt.block_on(Server::start(opts(""), sink)).expect("start");
    s.break_ws_listener().expect("shutdown(2)");
    let fatal = rt
        .block_on(async { tokio::time::timeout(T, s.fatal_error()).await })
        .expect("fatal in time");
    assert!(fatal.starts_with("websocket listener error: "), "{fatal:?}");
    let logged = lines.lock().expect("log").clone();
    assert_eq!(
        logged
            .iter()
            .filter(|l| l.contains("listener error"))
            .count(),
        1,
        "{logged:?}"
    );
    stop(rt, s);
}
