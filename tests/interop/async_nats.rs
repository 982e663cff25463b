//! Interop: async-nats (the Rust client, over tokio-websockets) against our server in
//! process, over `ws://`, next to TCP clients in the same account.
//!
//! The nats-py TCP peer case needs `.venv-interop/` (scripts/install-interop.sh), so it is
//! `#[ignore]`d in a plain `cargo test` and run by scripts/interop.sh.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_nats::{Client, HeaderMap, Subscriber};
use futures_util::StreamExt;
use nats_ws::server::ServerHandle;
use tokio::time::timeout;

#[path = "../support/inproc.rs"]
mod inproc;

const T: Duration = Duration::from_secs(5);

async fn start(extra: &str) -> ServerHandle {
    inproc::start(&format!(
        "host: 127.0.0.1\nport: -1\n{extra}\nwebsocket {{ host: 127.0.0.1, port: -1, no_tls: true, compression: true }}\n"
    ))
    .await
}

fn ws_url(s: &ServerHandle) -> String {
    format!("ws://{}", s.ws_addr().expect("ws listener"))
}

async fn ws_client(s: &ServerHandle) -> Client {
    let c = async_nats::ConnectOptions::new()
        .name("async-nats")
        .connection_timeout(T)
        .connect(ws_url(s))
        .await
        .expect("ws connect");
    c.flush().await.expect("flush");
    c
}

async fn next(sub: &mut Subscriber) -> async_nats::Message {
    timeout(T, sub.next())
        .await
        .expect("message in time")
        .expect("subscription open")
}

#[tokio::test]
async fn pub_sub_headers_request_reply_over_ws() {
    let s = start("").await;
    let c = ws_client(&s).await;
    assert_eq!(c.server_info().max_payload, 1024 * 1024);
    assert!(
        s.connz()
            .iter()
            .any(|i| i.kind == nats_ws::server::ConnType::Websocket)
    );

    let mut sub = c.subscribe("greet.*").await.expect("sub");
    let mut h = HeaderMap::new();
    h.insert("X-Trace", "1");
    c.publish_with_headers("greet.joe", h, "hello".into())
        .await
        .expect("pub");
    let m = next(&mut sub).await;
    assert_eq!(m.subject.as_str(), "greet.joe");
    assert_eq!(&m.payload[..], b"hello");
    let headers = m.headers.expect("headers");
    assert_eq!(headers.get("X-Trace").map(|v| v.as_str()), Some("1"));

    let mut svc = c.subscribe("svc.echo").await.expect("sub");
    let responder = c.clone();
    let task = tokio::spawn(async move {
        let req = next(&mut svc).await;
        let mut body = b"re:".to_vec();
        body.extend_from_slice(&req.payload);
        responder
            .publish(req.reply.expect("reply subject"), body.into())
            .await
            .expect("respond");
    });
    let reply = timeout(T, c.request("svc.echo", "ping".into()))
        .await
        .expect("in time")
        .expect("reply");
    assert_eq!(&reply.payload[..], b"re:ping");
    task.await.expect("responder");

    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut bsub = c.subscribe("big").await.expect("sub");
    c.publish("big", big.clone().into()).await.expect("pub");
    assert_eq!(next(&mut bsub).await.payload.to_vec(), big);

    c.drain().await.expect("drain");
    s.shutdown().await;
}

#[tokio::test]
async fn queue_group_and_user_password_over_ws() {
    let s = start("authorization { user: alice, password: s3cret }").await;
    let refused = async_nats::ConnectOptions::with_user_and_password("alice".into(), "no".into())
        .connection_timeout(T)
        .connect(ws_url(&s))
        .await
        .expect_err("wrong password accepted");
    assert_eq!(
        refused.kind(),
        async_nats::ConnectErrorKind::AuthorizationViolation
    );

    let c = async_nats::ConnectOptions::with_user_and_password("alice".into(), "s3cret".into())
        .connection_timeout(T)
        .connect(ws_url(&s))
        .await
        .expect("connect");
    let mut a = c.queue_subscribe("work", "q".into()).await.expect("sub");
    let mut b = c.queue_subscribe("work", "q".into()).await.expect("sub");
    c.flush().await.expect("flush");
    for i in 0..100 {
        c.publish("work", i.to_string().into()).await.expect("pub");
    }
    c.flush().await.expect("flush");
    let mut total = 0;
    for sub in [&mut a, &mut b] {
        while timeout(Duration::from_millis(300), sub.next())
            .await
            .is_ok()
        {
            total += 1;
        }
    }
    assert_eq!(total, 100);
    drop(c);
    s.shutdown().await;
}

#[tokio::test]
async fn mixed_with_async_nats_over_tcp() {
    let s = start("").await;
    let ws = ws_client(&s).await;
    let tcp = async_nats::connect(format!("nats://{}", s.client_addr()))
        .await
        .expect("tcp connect");
    let mut at_tcp = tcp.subscribe("to.tcp").await.expect("sub");
    let mut at_ws = ws.subscribe("to.ws").await.expect("sub");
    tcp.flush().await.expect("flush");
    ws.flush().await.expect("flush");
    ws.publish("to.tcp", "from ws".into()).await.expect("pub");
    tcp.publish("to.ws", "from tcp".into()).await.expect("pub");
    assert_eq!(&next(&mut at_tcp).await.payload[..], b"from ws");
    assert_eq!(&next(&mut at_ws).await.payload[..], b"from tcp");
    s.shutdown().await;
}

/// The nats-py TCP peer of tests/interop/python/tcp_peer.py, stopped on drop.
struct PyPeer(Child);

impl PyPeer {
    fn start(tcp_url: &str) -> PyPeer {
        use std::io::BufRead;
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var_os("INTEROP_PYTHON")
            .map_or_else(|| root.join(".venv-interop/bin/python"), PathBuf::from);
        let mut child = Command::new(python)
            .arg(root.join("tests/interop/python/tcp_peer.py"))
            .arg(tcp_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("nats-py peer (run scripts/install-interop.sh)");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .expect("peer output");
        let peer = PyPeer(child);
        assert_eq!(line.trim(), "READY");
        peer
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
#[ignore = "needs .venv-interop (scripts/interop.sh runs it)"]
async fn mixed_with_nats_py_over_tcp() {
    let s = start("").await;
    let url = format!("nats://{}", s.client_addr());
    let peer = tokio::task::spawn_blocking(move || PyPeer::start(&url))
        .await
        .expect("peer");
    let c = ws_client(&s).await;
    let mut inbox = c.subscribe("mixed.ws.in").await.expect("sub");
    let mut h = HeaderMap::new();
    h.insert("K", "v");
    let reply = timeout(T, c.request_with_headers("mixed.tcp.echo", h, "hi".into()))
        .await
        .expect("in time")
        .expect("reply");
    assert_eq!(&reply.payload[..], b"tcp:hi");
    assert_eq!(
        reply.headers.expect("headers").get("K").map(|v| v.as_str()),
        Some("v")
    );
    let big = vec![b'z'; 70_000];
    c.publish("mixed.tcp.fwd", big.clone().into())
        .await
        .expect("pub");
    assert_eq!(next(&mut inbox).await.payload.to_vec(), big);
    drop(c);
    tokio::task::spawn_blocking(move || drop(peer))
        .await
        .expect("stop peer");
    s.shutdown().await;
}
