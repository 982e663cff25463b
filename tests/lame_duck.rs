//! Lame duck mode over loopback with short durations (Go: TestLameDuckMode* in
//! server/server_test.go set them in code too): listeners closed, the `"ldm":true` INFO
//! to clients that take async INFO, the grace period, spread closes, WebSocket 1001.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nats_ws::options::{GoDuration, ServerOpts};
use nats_ws::server::{LogLevel, LogSink, Server};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const T: Duration = Duration::from_secs(5);
const MS: i64 = 1_000_000;

fn capture() -> (LogSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&lines);
    let sink: LogSink = Arc::new(move |_: LogLevel, line: &str| {
        l.lock().unwrap().push(line.to_owned());
    });
    (sink, lines)
}

/// A plain NATS client: reads until `pat`, returns what it read.
struct Tcp(TcpStream, String);

impl Tcp {
    fn connect(addr: std::net::SocketAddr, connect: &str) -> Tcp {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(T)).unwrap();
        let mut t = Tcp(stream, String::new());
        t.until("\r\n");
        t.0.write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())
            .unwrap();
        t.until("PONG\r\n");
        t
    }
    fn until(&mut self, pat: &str) -> String {
        let mut buf = vec![0u8; 4096];
        while !self.1.contains(pat) {
            let n = self.0.read(&mut buf).unwrap();
            assert!(n > 0, "closed before {pat:?}: {:?}", self.1);
            self.1.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let at = self.1.find(pat).map_or(0, |i| i + pat.len());
        self.1.drain(..at).collect()
    }
    /// Everything until the server closes the connection.
    fn rest(&mut self) -> String {
        let mut all = std::mem::take(&mut self.1);
        let _ = self.0.read_to_string(&mut all);
        all
    }
}

#[test]
fn lame_duck_informs_waits_then_closes_every_client() {
    let text = "host: 127.0.0.1\nport: -1\nwebsocket { host: 127.0.0.1, port: -1, no_tls: true }\n";
    let mut o = ServerOpts::from_str(text, std::path::Path::new("."))
        .unwrap()
        .opts;
    let grace = Duration::from_millis(300);
    o.lame_duck_duration = GoDuration(1000 * MS);
    o.lame_duck_grace_period = GoDuration(300 * MS);
    let (sink, lines) = capture();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(Server::start(o, sink)).unwrap();
    let addr = server.client_addr();
    let ws_addr = server.ws_addr().unwrap();

    // protocol 1 after its first PONG: gets the ldm INFO; protocol 0: does not.
    let mut modern = Tcp::connect(addr, r#"{"verbose":false,"protocol":1}"#);
    modern.until("\"connect_info\":true");
    modern.until("\r\n");
    let mut legacy = Tcp::connect(addr, r#"{"verbose":false}"#);
    let req = format!("ws://{ws_addr}/").into_client_request().unwrap();
    let stream = TcpStream::connect(ws_addr).unwrap();
    stream.set_read_timeout(Some(T)).unwrap();
    let (mut ws, _) = tokio_tungstenite::tungstenite::client(req, stream).unwrap();
    ws.send(Message::binary(
        b"CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n".to_vec(),
    ))
    .unwrap();
    let mut seen = String::new();
    while !seen.contains("\"connect_info\":true") {
        if let Message::Binary(b) = ws.read().unwrap() {
            seen.push_str(&String::from_utf8_lossy(&b));
        }
    }

    let started = Instant::now();
    let shut = std::thread::scope(|scope| {
        let ldm = scope.spawn(|| rt.block_on(server.lame_duck()));
        let info = modern.until("\r\n");
        assert!(info.starts_with("INFO {"), "{info}");
        assert!(
            info.contains("\"client_id\":5,\"client_ip\":\"127.0.0.1\",\"ldm\":true} \r\n"),
            "{info}"
        );
        // Stopped accepting: the client port refuses.
        assert!(TcpStream::connect(addr).is_err(), "still accepting");
        let mut ws_info = String::new();
        let (code, reason) = loop {
            match ws.read() {
                Ok(Message::Binary(b)) => ws_info.push_str(&String::from_utf8_lossy(&b)),
                Ok(Message::Close(Some(f))) => break (u16::from(f.code), f.reason.to_string()),
                other => panic!("no close frame: {other:?}"),
            }
        };
        assert!(started.elapsed() >= grace, "closed before the grace period");
        assert_eq!((code, reason.as_str()), (1001, "Server Shutdown"));
        assert!(ws_info.contains("\"ldm\":true}"), "{ws_info}");
        assert_eq!(modern.rest(), "");
        // The legacy client never got an async INFO, only its close.
        assert_eq!(legacy.rest(), "");
        ldm.join().unwrap()
    });
    assert!(shut, "lame duck mode should end in a shutdown");
    // A second request is a no-op (Go: already in lame duck mode).
    assert!(!rt.block_on(server.lame_duck()));
    rt.block_on(server.shutdown());
    let lines = lines.lock().unwrap().clone();
    let entering = lines
        .iter()
        .position(|l| l == "Entering lame duck mode, stop accepting new clients")
        .expect("entering line");
    let closing = lines
        .iter()
        .position(|l| l == "Closing existing clients")
        .expect("closing line");
    assert!(entering < closing, "{lines:?}");
}

#[test]
fn lame_duck_without_clients_ends_at_once() {
    let mut o = ServerOpts::from_str("host: 127.0.0.1\nport: -1\n", std::path::Path::new("."))
        .unwrap()
        .opts;
    o.lame_duck_grace_period = GoDuration(5000 * MS);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(Server::start(o, nats_ws::server::null_sink()))
        .unwrap();
    let started = Instant::now();
    assert!(rt.block_on(server.lame_duck()));
    // Go: no client, no grace period.
    assert!(started.elapsed() < Duration::from_secs(3));
    rt.block_on(server.shutdown());
}
