//! Leafnodes end to end, our server as the LEAF: it solicits the Go server v2.15.1
//! (`.venv-peers/bin/nats-server`) as hub over TCP and ws:// (`leafnodes { remotes }` in
//! our configuration), with async-nats clients on both sides.

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Ports of the Go hub.
struct Hub {
    _process: Stopped,
    client: u16,
    leaf: u16,
    ws: u16,
}

/// The Go server as hub: client, leafnode and websocket listeners.
fn go_hub(name: &str, leaf_extra: &str) -> Hub {
    go_hub_on(name, leaf_extra, (free_port(), free_port(), free_port()))
}

/// `leaf_extra` goes inside its `leafnodes {}` block.
fn go_hub_on(name: &str, leaf_extra: &str, (client, leaf, ws): (u16, u16, u16)) -> Hub {
    let dir = std::env::temp_dir().join(format!("nats-ws-hub-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("hub.conf");
    std::fs::write(
        &conf,
        format!(
            "server_name: {name}\nhost: 127.0.0.1\nport: {client}\n\
             leafnodes {{ host: 127.0.0.1, port: {leaf} {leaf_extra} }}\n\
             websocket {{ host: 127.0.0.1, port: {ws}, no_tls: true }}\n"
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
    Hub {
        _process: Stopped(child),
        client,
        leaf,
        ws,
    }
}

/// Our server as a leaf with these remotes.
async fn leaf(remotes: &str) -> ServerHandle {
    let text = format!(
        "host: 127.0.0.1\nport: -1\nserver_name: rust-leaf\n\
         leafnodes {{ reconnect: \"100ms\", remotes [ {remotes} ] }}\n"
    );
    let opts = ServerOpts::from_str(&text, Path::new("."))
        .expect("config")
        .opts;
    let sink: LogSink = std::sync::Arc::new(|level: LogLevel, line: &str| {
        eprintln!("[leaf {level:?}] {line}");
    });
    Server::start(opts, sink).await.expect("start")
}

async fn connect(addr: String) -> Client {
    let deadline = Instant::now() + T;
    loop {
        match async_nats::connect(&addr).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("connect {addr}: {e}"),
            Err(_) => sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn connected(leaf: &ServerHandle) {
    let deadline = Instant::now() + T;
    while leaf.leafz().leafs.is_empty() {
        assert!(Instant::now() < deadline, "the leaf never connected");
        sleep(Duration::from_millis(20)).await;
    }
}

async fn next(sub: &mut Subscriber) -> async_nats::Message {
    timeout(T, sub.next())
        .await
        .expect("a message in time")
        .expect("subscription open")
}

async fn until_received(from: &Client, subject: &str, sub: &mut Subscriber) {
    let deadline = Instant::now() + T;
    loop {
        from.publish(subject.to_owned(), "ping".into())
            .await
            .unwrap();
        from.flush().await.unwrap();
        if let Ok(Some(_)) = timeout(Duration::from_millis(100), sub.next()).await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "interest in {subject} never crossed"
        );
    }
}

async fn drain(sub: &mut Subscriber) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = timeout(Duration::from_millis(300), sub.next()).await {
        n += 1;
    }
    n
}

async fn exercise(hub: &Hub, ours: &ServerHandle) {
    connected(ours).await;
    let lz = ours.leafz();
    assert!(lz.leafs[0].is_spoke);
    let h = connect(format!("nats://127.0.0.1:{}", hub.client)).await;
    let l = connect(format!("nats://{}", ours.client_addr())).await;

    let mut on_leaf = l.subscribe("down").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "down", &mut on_leaf).await;
    let mut on_hub = h.subscribe("up").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "up", &mut on_hub).await;

    let mut headers = HeaderMap::new();
    headers.insert("X-Spoke", "1");
    l.publish_with_headers("up", headers, "h".into())
        .await
        .unwrap();
    let m = next(&mut on_hub).await;
    assert_eq!(m.headers.unwrap().get("X-Spoke").unwrap().as_str(), "1");

    // A queue group with members on both sides: each message once.
    let mut members = Vec::new();
    for c in [&h, &l] {
        members.push(c.queue_subscribe("jobs", "w".into()).await.unwrap());
    }
    h.flush().await.unwrap();
    l.flush().await.unwrap();
    sleep(Duration::from_millis(300)).await;
    for publisher in [&h, &l] {
        for i in 0..20 {
            publisher
                .publish("jobs", format!("{i}").into())
                .await
                .unwrap();
        }
        publisher.flush().await.unwrap();
        let mut total = 0;
        for m in &mut members {
            total += drain(m).await;
        }
        assert_eq!(total, 20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_solicits_a_go_hub_over_tcp() {
    let hub = go_hub("go-hub-tcp", "");
    let ours = leaf(&format!("{{ url: \"nats://127.0.0.1:{}\" }}", hub.leaf)).await;
    exercise(&hub, &ours).await;
    ours.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_solicits_a_go_hub_over_websocket() {
    let hub = go_hub("go-hub-ws", "");
    let ours = leaf(&format!("{{ url: \"ws://127.0.0.1:{}\" }}", hub.ws)).await;
    exercise(&hub, &ours).await;
    ours.shutdown().await;
}

/// The client port is not a leafnode port: Go's words, and no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_refuses_a_client_port() {
    let hub = go_hub("go-hub-wrong", "");
    let ours = leaf(&format!("{{ url: \"nats://127.0.0.1:{}\" }}", hub.client)).await;
    sleep(Duration::from_millis(800)).await;
    assert!(ours.leafz().leafs.is_empty());
    ours.shutdown().await;
}

/// The hub goes away and comes back: our leaf dials again and its interest is there
/// again on the new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_reconnects_after_the_hub_restarts() {
    let ports = (free_port(), free_port(), free_port());
    let hub = go_hub_on("go-hub-restart", "", ports);
    let ours = leaf(&format!("{{ url: \"nats://127.0.0.1:{}\" }}", hub.leaf)).await;
    connected(&ours).await;
    let l = connect(format!("nats://{}", ours.client_addr())).await;
    let mut on_leaf = l.subscribe("again").await.unwrap();
    l.flush().await.unwrap();
    let h = connect(format!("nats://127.0.0.1:{}", hub.client)).await;
    until_received(&h, "again", &mut on_leaf).await;
    drop(h);
    drop(hub);
    let deadline = Instant::now() + T;
    while !ours.leafz().leafs.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the leaf never noticed the hub went away"
        );
        sleep(Duration::from_millis(20)).await;
    }
    let hub = go_hub_on("go-hub-restart", "", ports);
    connected(&ours).await;
    let h = connect(format!("nats://127.0.0.1:{}", hub.client)).await;
    until_received(&h, "again", &mut on_leaf).await;
    ours.shutdown().await;
}

/// A loop: the Go server solicits our leafnode port while we solicit its. Our own
/// `$LDS.` subject comes back to us, and we say so in Go's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_loop_is_detected() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&lines);
    let sink: LogSink = std::sync::Arc::new(move |level: LogLevel, line: &str| {
        eprintln!("[leaf {level:?}] {line}");
        seen.lock().unwrap().push(line.to_owned());
    });
    let ports = (free_port(), free_port(), free_port());
    let ours_leaf_port = free_port();
    let text = format!(
        "host: 127.0.0.1\nport: -1\nserver_name: rust-loop\n\
         leafnodes {{ host: 127.0.0.1, port: {ours_leaf_port}, reconnect: \"100ms\", \
         remotes [ {{ url: \"nats://127.0.0.1:{}\" }} ] }}\n",
        ports.1
    );
    let opts = ServerOpts::from_str(&text, Path::new(".")).unwrap().opts;
    let ours = Server::start(opts, sink).await.expect("start");
    let _hub = go_hub_on(
        "go-loop",
        &format!(", remotes [ {{ url: \"nats://127.0.0.1:{ours_leaf_port}\" }} ]"),
        ports,
    );
    let want = "Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s";
    let deadline = Instant::now() + T;
    while !lines.lock().unwrap().iter().any(|l| l.contains(want)) {
        assert!(Instant::now() < deadline, "no loop reported");
        sleep(Duration::from_millis(50)).await;
    }
    ours.shutdown().await;
}

/// The hub asks for credentials: ours come from the remote's URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_authenticates_with_url_credentials() {
    let hub = go_hub(
        "go-hub-auth",
        ", authorization { user: leafuser, password: s3cret }",
    );
    let ours = leaf(&format!(
        "{{ url: \"nats://leafuser:s3cret@127.0.0.1:{}\" }}",
        hub.leaf
    ))
    .await;
    connected(&ours).await;
    let h = connect(format!("nats://127.0.0.1:{}", hub.client)).await;
    let l = connect(format!("nats://{}", ours.client_addr())).await;
    let mut on_leaf = l.subscribe("authed").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "authed", &mut on_leaf).await;
    ours.shutdown().await;
}
