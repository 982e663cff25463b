//! Leafnodes end to end, our server as the HUB: the Go server v2.15.1
//! (`.venv-peers/bin/nats-server`) is the leaf, soliciting our leafnode port over TCP
//! and our websocket listener over ws:// (`leafnodes { remotes [ { url } ] }` in its
//! configuration), with async-nats clients on both sides.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::{Client, HeaderMap, Subscriber};
use futures_util::StreamExt;
use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};
use process::Stopped;
use tokio::time::{Instant, sleep, timeout};

const T: Duration = Duration::from_secs(10);

/// Our server: client, websocket and leafnode listeners on ephemeral loopback ports.
async fn hub(extra: &str) -> ServerHandle {
    hub_with(extra, "").await
}

async fn hub_with(extra: &str, websocket: &str) -> ServerHandle {
    let text = format!(
        "host: 127.0.0.1\nport: -1\nserver_name: rust-hub\n\
         websocket {{ host: 127.0.0.1, port: -1, no_tls: true {websocket} }}\n{extra}\n"
    );
    let opts = ServerOpts::from_str(&text, Path::new("."))
        .expect("config")
        .opts;
    let sink: LogSink = std::sync::Arc::new(|level: LogLevel, line: &str| {
        eprintln!("[hub {level:?}] {line}");
    });
    Server::start(opts, sink).await.expect("start")
}

/// A free loopback port for the Go server's client listener.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Go server as a leaf of `url`; returns it and its client port.
fn go_leaf(name: &str, remote: &str) -> (Stopped, u16) {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("nats-ws-leaf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("leaf.conf");
    std::fs::write(
        &conf,
        format!(
            "server_name: {name}\nhost: 127.0.0.1\nport: {port}\n\
             leafnodes {{ reconnect: \"100ms\", remotes [ {remote} ] }}\n"
        ),
    )
    .unwrap();
    let child = Command::new(go_peer::go_server())
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Go server (.venv-peers/bin/nats-server)");
    (Stopped(child), port)
}

async fn connect(addr: String) -> Client {
    connect_as(addr, None).await
}

async fn connect_as(addr: String, user: Option<(&str, &str)>) -> Client {
    let deadline = Instant::now() + T;
    loop {
        let opts = match user {
            Some((u, p)) => async_nats::ConnectOptions::with_user_and_password(u.into(), p.into()),
            None => async_nats::ConnectOptions::new(),
        };
        match opts.connect(&addr).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("connect {addr}: {e}"),
            Err(_) => sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Waits until `hub` lists `n` leaf connections.
async fn leafs(hub: &ServerHandle, n: usize) {
    let deadline = Instant::now() + T;
    while hub.leafz().leafs.len() != n {
        assert!(Instant::now() < deadline, "expected {n} leaf connections");
        sleep(Duration::from_millis(20)).await;
    }
}

async fn next(sub: &mut Subscriber) -> async_nats::Message {
    timeout(T, sub.next())
        .await
        .expect("a message in time")
        .expect("subscription open")
}

/// Publishes on `from` until `sub` (on the other side) gets it: interest crosses the
/// leaf connection asynchronously.
async fn until_received(from: &Client, subject: &str, sub: &mut Subscriber) -> async_nats::Message {
    let deadline = Instant::now() + T;
    loop {
        from.publish(subject.to_owned(), "ping".into())
            .await
            .unwrap();
        from.flush().await.unwrap();
        if let Ok(Some(m)) = timeout(Duration::from_millis(100), sub.next()).await {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "interest in {subject} never crossed"
        );
    }
}

/// Drains `sub` for a moment; returns what came.
async fn drain(sub: &mut Subscriber) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = timeout(Duration::from_millis(300), sub.next()).await {
        n += 1;
    }
    n
}

/// Both directions, queue groups, request/reply, headers and unsubscribe, over one
/// leaf connection made with `remote`.
async fn exercise(hub: &ServerHandle, remote: &str, name: &str) {
    let (_leaf, leaf_port) = go_leaf(name, remote);
    leafs(hub, 1).await;
    let h = connect(format!("nats://{}", hub.client_addr())).await;
    let l = connect(format!("nats://127.0.0.1:{leaf_port}")).await;
    let lz = hub.leafz();
    assert_eq!(lz.leafs[0].name, name);
    assert_eq!(lz.leafs[0].account, "$G");
    assert!(!lz.leafs[0].is_spoke);

    // Hub → leaf, and the payload arrives whole.
    let mut on_leaf = l.subscribe("to.leaf").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "to.leaf", &mut on_leaf).await;
    let big = vec![b'x'; 100_000];
    h.publish("to.leaf", big.clone().into()).await.unwrap();
    assert_eq!(next(&mut on_leaf).await.payload.as_ref(), big.as_slice());

    // Leaf → hub.
    let mut on_hub = h.subscribe("to.hub").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "to.hub", &mut on_hub).await;

    // Headers cross in both directions.
    let mut headers = HeaderMap::new();
    headers.insert("X-Leaf", "yes");
    h.publish_with_headers("to.leaf", headers.clone(), "h".into())
        .await
        .unwrap();
    let m = next(&mut on_leaf).await;
    assert_eq!(m.headers.unwrap().get("X-Leaf").unwrap().as_str(), "yes");
    l.publish_with_headers("to.hub", headers, "h".into())
        .await
        .unwrap();
    let m = next(&mut on_hub).await;
    assert_eq!(m.headers.unwrap().get("X-Leaf").unwrap().as_str(), "yes");

    // Request/reply across, both ways.
    let mut svc = l.subscribe("svc.leaf").await.unwrap();
    let lc = l.clone();
    let responder = tokio::spawn(async move {
        while let Some(m) = svc.next().await {
            if let Some(r) = m.reply {
                lc.publish(r, "from leaf".into()).await.unwrap();
            }
        }
    });
    let mut svc = h.subscribe("svc.hub").await.unwrap();
    let hc = h.clone();
    let responder2 = tokio::spawn(async move {
        while let Some(m) = svc.next().await {
            if let Some(r) = m.reply {
                hc.publish(r, "from hub".into()).await.unwrap();
            }
        }
    });
    l.flush().await.unwrap();
    h.flush().await.unwrap();
    let deadline = Instant::now() + T;
    let answer = loop {
        match timeout(
            Duration::from_millis(300),
            h.request("svc.leaf", "q".into()),
        )
        .await
        {
            Ok(Ok(m)) => break m,
            _ => assert!(Instant::now() < deadline, "no answer from the leaf"),
        }
    };
    assert_eq!(answer.payload.as_ref(), b"from leaf");
    let deadline = Instant::now() + T;
    let answer = loop {
        match timeout(Duration::from_millis(300), l.request("svc.hub", "q".into())).await {
            Ok(Ok(m)) => break m,
            _ => assert!(Instant::now() < deadline, "no answer from the hub"),
        }
    };
    assert_eq!(answer.payload.as_ref(), b"from hub");
    responder.abort();
    responder2.abort();

    // A queue group with members on both sides: each message once, wherever published.
    let mut members = Vec::new();
    for c in [&h, &h, &l, &l] {
        members.push(c.queue_subscribe("work", "g".into()).await.unwrap());
    }
    h.flush().await.unwrap();
    l.flush().await.unwrap();
    // Interest of the leaf's group reaches the hub, and the reverse.
    let mut probe = l.queue_subscribe("work.probe", "g".into()).await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "work.probe", &mut probe).await;
    sleep(Duration::from_millis(200)).await;
    for publisher in [&h, &l] {
        for i in 0..20 {
            publisher
                .publish("work", format!("{i}").into())
                .await
                .unwrap();
        }
        publisher.flush().await.unwrap();
        let mut total = 0;
        for m in &mut members {
            total += drain(m).await;
        }
        assert_eq!(total, 20, "each queue message once across hub and leaf");
    }
    // With members only on the leaf, the hub's publishes cross to it.
    let mut only_leaf = l.queue_subscribe("work.leaf", "g".into()).await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "work.leaf", &mut only_leaf).await;
    for i in 0..10 {
        h.publish("work.leaf", format!("{i}").into()).await.unwrap();
    }
    h.flush().await.unwrap();
    assert_eq!(drain(&mut only_leaf).await, 10);

    // Unsubscribing on the leaf withdraws its interest from the hub.
    let before = hub.leafz().leafs[0].subscriptions;
    let mut gone = l.subscribe("gone").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "gone", &mut gone).await;
    let with = hub.leafz().leafs[0].subscriptions;
    assert_eq!(with, before + 1);
    gone.unsubscribe().await.unwrap();
    l.flush().await.unwrap();
    let deadline = Instant::now() + T;
    while hub.leafz().leafs[0].subscriptions != before {
        assert!(Instant::now() < deadline, "LS- never arrived");
        sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_tcp() {
    let hub = hub("leafnodes { host: 127.0.0.1, port: -1 }").await;
    let remote = format!("{{ url: \"nats://{}\" }}", hub.leaf_addr().unwrap());
    exercise(&hub, &remote, "go-leaf-tcp").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_websocket() {
    let hub = hub("leafnodes { host: 127.0.0.1, port: -1 }").await;
    let remote = format!("{{ url: \"ws://{}\" }}", hub.ws_addr().unwrap());
    exercise(&hub, &remote, "go-leaf-ws").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_compressed_websocket() {
    let hub = hub_with(
        "leafnodes { host: 127.0.0.1, port: -1 }",
        ", compression: true",
    )
    .await;
    let remote = format!(
        "{{ url: \"ws://{}\", ws_compression: true }}",
        hub.ws_addr().unwrap()
    );
    let (_leaf, leaf_port) = go_leaf("go-leaf-pmd", &remote);
    leafs(&hub, 1).await;
    let h = connect(format!("nats://{}", hub.client_addr())).await;
    let l = connect(format!("nats://127.0.0.1:{leaf_port}")).await;
    let mut on_hub = h.subscribe("c").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "c", &mut on_hub).await;
    let body = vec![b'z'; 2048];
    l.publish("c", body.clone().into()).await.unwrap();
    assert_eq!(next(&mut on_hub).await.payload.as_ref(), body.as_slice());
    hub.shutdown().await;
}

/// The leaf binds to the account of its credentials; other accounts see nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_binds_to_its_users_account() {
    let hub = hub(
        "accounts { A { users [ {user: a, password: a} ] }, B { users [ {user: b, password: b} ] } }\n\
         leafnodes { host: 127.0.0.1, port: -1, authorization { users [ {user: leaf, password: pw, account: A} ] } }",
    )
    .await;
    let remote = format!("{{ url: \"nats://leaf:pw@{}\" }}", hub.leaf_addr().unwrap());
    let (_leaf, leaf_port) = go_leaf("go-leaf-acc", &remote);
    leafs(&hub, 1).await;
    assert_eq!(hub.leafz().leafs[0].account, "A");
    let a = connect_as(hub.client_addr().to_string(), Some(("a", "a"))).await;
    let b = connect_as(hub.client_addr().to_string(), Some(("b", "b"))).await;
    let l = connect(format!("nats://127.0.0.1:{leaf_port}")).await;
    let mut in_a = a.subscribe("acc").await.unwrap();
    let mut in_b = b.subscribe("acc").await.unwrap();
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    until_received(&l, "acc", &mut in_a).await;
    assert_eq!(drain(&mut in_b).await, 0, "account B must see nothing");
    // And the hub's account A reaches the leaf, B does not.
    let mut on_leaf = l.subscribe("back").await.unwrap();
    l.flush().await.unwrap();
    until_received(&a, "back", &mut on_leaf).await;
    b.publish("back", "no".into()).await.unwrap();
    b.flush().await.unwrap();
    assert_eq!(drain(&mut on_leaf).await, 0);
    hub.shutdown().await;
}

/// Wrong credentials: the Go leaf is refused and keeps retrying; nothing is listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_with_wrong_credentials_is_refused() {
    let hub =
        hub("leafnodes { host: 127.0.0.1, port: -1, authorization { user: leaf, password: pw } }")
            .await;
    let remote = format!(
        "{{ url: \"nats://leaf:bad@{}\" }}",
        hub.leaf_addr().unwrap()
    );
    let (_leaf, _) = go_leaf("go-leaf-bad", &remote);
    sleep(Duration::from_millis(1500)).await;
    assert!(hub.leafz().leafs.is_empty());
    hub.shutdown().await;
}

/// `leafnodes { tls {} }`: INFO in plain text, then TLS (Go's default, not TLS-first);
/// the Go leaf verifies our certificate and messages cross both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_tls() {
    let dir = std::env::temp_dir().join(format!("nats-ws-leaf-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let hub = hub(&format!(
        "leafnodes {{ host: 127.0.0.1, port: -1, tls {{ cert_file: \"{0}/cert.pem\", key_file: \"{0}/key.pem\" }} }}",
        dir.display()
    ))
    .await;
    let remote = format!(
        "{{ url: \"tls://localhost:{}\", tls {{ ca_file: \"{}/cert.pem\" }} }}",
        hub.leaf_addr().unwrap().port(),
        dir.display()
    );
    let (_leaf, leaf_port) = go_leaf("go-leaf-tls", &remote);
    leafs(&hub, 1).await;
    let h = connect(format!("nats://{}", hub.client_addr())).await;
    let l = connect(format!("nats://127.0.0.1:{leaf_port}")).await;
    let mut on_leaf = l.subscribe("secure").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "secure", &mut on_leaf).await;
    let mut on_hub = h.subscribe("secure.up").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "secure.up", &mut on_hub).await;
    hub.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads from `s` until `needle` shows up (or the deadline passes); returns all read.
async fn read_until(s: &mut tokio::net::TcpStream, needle: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// The same remote server connecting again (before its old connection was seen to
/// break) replaces the old connection, which hears why (Go: checkForDup).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_from_the_same_leaf_replaces_the_first() {
    use tokio::io::AsyncWriteExt;
    let hub = hub("leafnodes { host: 127.0.0.1, port: -1 }").await;
    let connect =
        b"CONNECT {\"name\":\"twin\",\"remote_account\":\"$G\",\"headers\":true}\r\nPING\r\n";
    let mut first = tokio::net::TcpStream::connect(hub.leaf_addr().unwrap())
        .await
        .unwrap();
    first.write_all(connect).await.unwrap();
    assert!(
        read_until(&mut first, "PONG")
            .await
            .contains("\"connect_info\":true")
    );
    let mut second = tokio::net::TcpStream::connect(hub.leaf_addr().unwrap())
        .await
        .unwrap();
    second.write_all(connect).await.unwrap();
    read_until(&mut second, "PONG").await;
    let old = read_until(&mut first, "Duplicate").await;
    assert!(
        old.contains("-ERR 'Duplicate Remote LeafNode Connection'"),
        "{old}"
    );
    leafs(&hub, 1).await;
    hub.shutdown().await;
}

/// A leaf that did not declare headers gets messages with their headers stripped
/// (`LMSG` with the body only); one that did gets `HMSG` (Go: msgHeaderForRouteOrLeaf).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_stripped_toward_a_leaf_without_them() {
    use tokio::io::AsyncWriteExt;
    let hub = hub("leafnodes { host: 127.0.0.1, port: -1 }").await;
    let h = connect(format!("nats://{}", hub.client_addr())).await;
    for (declared, expected) in [
        (false, "LMSG hdr.test 4\r\nbody\r\n"),
        (
            true,
            "HMSG hdr.test 20 24\r\nNATS/1.0\r\nX-A: b\r\n\r\nbody\r\n",
        ),
    ] {
        let mut raw = tokio::net::TcpStream::connect(hub.leaf_addr().unwrap())
            .await
            .unwrap();
        let connect = format!(
            "CONNECT {{\"name\":\"raw-{declared}\",\"headers\":{declared}}}\r\nLS+ hdr.test\r\nPING\r\n"
        );
        raw.write_all(connect.as_bytes()).await.unwrap();
        read_until(&mut raw, "PONG").await;
        let mut headers = HeaderMap::new();
        headers.insert("X-A", "b");
        h.publish_with_headers("hdr.test", headers, "body".into())
            .await
            .unwrap();
        h.flush().await.unwrap();
        let got = read_until(&mut raw, "body\r\n").await;
        assert!(got.contains(expected), "headers {declared}: {got:?}");
    }
    hub.shutdown().await;
}
