//! Leafnodes end to end, our server as the HUB: the Go server v2.15.1
//! (`.venv-peers/bin/nats-server`) is the leaf, soliciting our leafnode port over TCP
//! and our websocket listener over ws:// (`leafnodes { remotes [ { url } ] }` in its
//! configuration), with async-nats clients on both sides.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

#[path = "support/leaf.rs"]
mod leaf;

use std::time::Duration;

use async_nats::{Client, ConnectOptions, HeaderMap, Message};
use futures_util::StreamExt;
use leaf::{
    Dir, Listeners, T, connect, connect_with, crossing, drain, drain_all, go_leaf, hub_conf, leafs,
    next, ours, publish_n, until, until_received,
};
use nats_ws::server::ServerHandle;
use tokio::time::{Instant, sleep, timeout};

/// Our server as the hub: client, websocket and leafnode listeners on ephemeral loopback
/// ports; `leafnodes` and `websocket` go on inside their blocks, `extra` after them.
async fn hub(leafnodes: &str, websocket: &str, extra: &str) -> ServerHandle {
    let websocket = format!(", no_tls: true{websocket}");
    let conf = hub_conf("rust-hub", leafnodes, &websocket) + extra;
    ours("hub", &conf).await.0
}

/// Requests on `subject` until an answer comes (interest crosses asynchronously).
async fn request(from: &Client, subject: &str, what: &str) -> Message {
    let deadline = Instant::now() + T;
    loop {
        let asked = from.request(subject.to_owned(), "q".into());
        match timeout(Duration::from_millis(300), asked).await {
            Ok(Ok(m)) => return m,
            _ => assert!(Instant::now() < deadline, "{what}"),
        }
    }
}

/// Both directions, queue groups, request/reply, headers and unsubscribe, over one
/// leaf connection made with `remote`.
async fn exercise(hub: &ServerHandle, remote: &str, name: &str) {
    let dir = Dir::new(name);
    let leaf = go_leaf(&dir, name, remote).await;
    leafs(hub, 1).await;
    let h = connect(&hub.client_url()).await;
    let l = connect(&leaf.client_url()).await;
    let lz = hub.leafz();
    assert_eq!(lz.leafs[0].name, name);
    assert_eq!(lz.leafs[0].account, "$G");
    assert!(!lz.leafs[0].is_spoke);

    // Hub → leaf, and the payload arrives whole.
    let mut on_leaf = crossing(&h, &l, "to.leaf").await;
    let big = vec![b'x'; 100_000];
    h.publish("to.leaf", big.clone().into()).await.unwrap();
    assert_eq!(next(&mut on_leaf).await.payload.as_ref(), big.as_slice());

    // Leaf → hub.
    let mut on_hub = crossing(&l, &h, "to.hub").await;

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
    let answer = request(&h, "svc.leaf", "no answer from the leaf").await;
    assert_eq!(answer.payload.as_ref(), b"from leaf");
    let answer = request(&l, "svc.hub", "no answer from the hub").await;
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
        publish_n(publisher, "work", 20).await;
        let total = drain_all(&mut members).await;
        assert_eq!(total, 20, "each queue message once across hub and leaf");
    }
    // With members only on the leaf, the hub's publishes cross to it.
    let mut only_leaf = l.queue_subscribe("work.leaf", "g".into()).await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "work.leaf", &mut only_leaf).await;
    publish_n(&h, "work.leaf", 10).await;
    assert_eq!(drain(&mut only_leaf).await, 10);

    // Unsubscribing on the leaf withdraws its interest from the hub.
    let before = hub.leafz().leafs[0].subscriptions;
    let mut gone = crossing(&h, &l, "gone").await;
    let with = hub.leafz().leafs[0].subscriptions;
    assert_eq!(with, before + 1);
    gone.unsubscribe().await.unwrap();
    l.flush().await.unwrap();
    until("LS- never arrived", || {
        hub.leafz().leafs[0].subscriptions == before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_tcp() {
    let hub = hub("", "", "").await;
    let remote = format!("{{ url: \"{}\" }}", hub.leaf_url());
    exercise(&hub, &remote, "go-leaf-tcp").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_websocket() {
    let hub = hub("", "", "").await;
    let remote = format!("{{ url: \"{}\" }}", hub.ws_url());
    exercise(&hub, &remote, "go-leaf-ws").await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_compressed_websocket() {
    let hub = hub("", ", compression: true", "").await;
    let remote = format!("{{ url: \"{}\", ws_compression: true }}", hub.ws_url());
    let dir = Dir::new("go-leaf-pmd");
    let leaf = go_leaf(&dir, "go-leaf-pmd", &remote).await;
    leafs(&hub, 1).await;
    let h = connect(&hub.client_url()).await;
    let l = connect(&leaf.client_url()).await;
    let mut on_hub = crossing(&l, &h, "c").await;
    let body = vec![b'z'; 2048];
    l.publish("c", body.clone().into()).await.unwrap();
    assert_eq!(next(&mut on_hub).await.payload.as_ref(), body.as_slice());
    hub.shutdown().await;
}

/// The leaf binds to the account of its credentials; other accounts see nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_binds_to_its_users_account() {
    let hub = hub(
        ", authorization { users [ {user: leaf, password: pw, account: A} ] }",
        "",
        "accounts { A { users [ {user: a, password: a} ] }, B { users [ {user: b, password: b} ] } }\n",
    )
    .await;
    let remote = format!("{{ url: \"nats://leaf:pw@{}\" }}", hub.leaf());
    let dir = Dir::new("go-leaf-acc");
    let leaf = go_leaf(&dir, "go-leaf-acc", &remote).await;
    leafs(&hub, 1).await;
    assert_eq!(hub.leafz().leafs[0].account, "A");
    let user = |u: &'static str| move || ConnectOptions::with_user_and_password(u.into(), u.into());
    let a = connect_with(&hub.client_url(), user("a")).await;
    let b = connect_with(&hub.client_url(), user("b")).await;
    let l = connect(&leaf.client_url()).await;
    let mut in_b = b.subscribe("acc").await.unwrap();
    b.flush().await.unwrap();
    let _in_a = crossing(&l, &a, "acc").await;
    assert_eq!(drain(&mut in_b).await, 0, "account B must see nothing");
    // And the hub's account A reaches the leaf, B does not.
    let mut on_leaf = crossing(&a, &l, "back").await;
    b.publish("back", "no".into()).await.unwrap();
    b.flush().await.unwrap();
    assert_eq!(drain(&mut on_leaf).await, 0);
    hub.shutdown().await;
}

/// Wrong credentials: the Go leaf is refused and keeps retrying; nothing is listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_with_wrong_credentials_is_refused() {
    let hub = hub(", authorization { user: leaf, password: pw }", "", "").await;
    let remote = format!("{{ url: \"nats://leaf:bad@{}\" }}", hub.leaf());
    let dir = Dir::new("go-leaf-bad");
    let _leaf = go_leaf(&dir, "go-leaf-bad", &remote).await;
    sleep(Duration::from_millis(1500)).await;
    assert!(hub.leafz().leafs.is_empty());
    hub.shutdown().await;
}

/// `leafnodes { tls {} }`: INFO in plain text, then TLS (Go's default, not TLS-first);
/// the Go leaf verifies our certificate and messages cross both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_over_tls() {
    let dir = Dir::new("go-leaf-tls");
    let (cert, key) = leaf::certificate(&dir, &["localhost"]);
    let tls = format!(
        ", tls {{ cert_file: \"{}\", key_file: \"{}\" }}",
        cert.display(),
        key.display()
    );
    let hub = hub(&tls, "", "").await;
    let remote = format!(
        "{{ url: \"tls://localhost:{}\", tls {{ ca_file: \"{}\" }} }}",
        hub.leaf().port(),
        cert.display()
    );
    let leaf = go_leaf(&dir, "go-leaf-tls", &remote).await;
    leafs(&hub, 1).await;
    let h = connect(&hub.client_url()).await;
    let l = connect(&leaf.client_url()).await;
    crossing(&h, &l, "secure").await;
    crossing(&l, &h, "secure.up").await;
    hub.shutdown().await;
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
    let hub = hub("", "", "").await;
    let connect =
        b"CONNECT {\"name\":\"twin\",\"remote_account\":\"$G\",\"headers\":true}\r\nPING\r\n";
    let mut first = tokio::net::TcpStream::connect(hub.leaf()).await.unwrap();
    first.write_all(connect).await.unwrap();
    assert!(
        read_until(&mut first, "PONG")
            .await
            .contains("\"connect_info\":true")
    );
    let mut second = tokio::net::TcpStream::connect(hub.leaf()).await.unwrap();
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
    let hub = hub("", "", "").await;
    let h = connect(&hub.client_url()).await;
    for (declared, expected) in [
        (false, "LMSG hdr.test 4\r\nbody\r\n"),
        (
            true,
            "HMSG hdr.test 20 24\r\nNATS/1.0\r\nX-A: b\r\n\r\nbody\r\n",
        ),
    ] {
        let mut raw = tokio::net::TcpStream::connect(hub.leaf()).await.unwrap();
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
