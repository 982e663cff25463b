//! Leafnodes end to end, our server as the LEAF: it solicits the Go server v2.15.1
//! (`.venv-peers/bin/nats-server`) as hub over TCP and ws:// (`leafnodes { remotes }` in
//! our configuration), with async-nats clients on both sides.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

#[path = "support/leaf.rs"]
mod leaf;

use std::path::Path;
use std::time::Duration;

use async_nats::HeaderMap;
use leaf::{
    Dir, GoServer, Listeners, T, connect, crossing, drain_all, hub_conf, hub_conf_on, leaf_conf,
    leafs, next, ours, pick_port, publish_n, until, until_received, wait_line,
};
use nats_ws::server::ServerHandle;
use tokio::time::{Instant, sleep};

/// The Go server as hub: client, leafnode and websocket listeners; `leafnodes` goes on
/// inside its `leafnodes {}` block.
async fn go_hub(dir: &Path, name: &str, leafnodes: &str) -> GoServer {
    GoServer::start(dir, name, &hub_conf(name, leafnodes, ", no_tls: true")).await
}

/// Our server as a leaf with these remotes.
async fn leaf(remotes: &str) -> ServerHandle {
    ours("leaf", &leaf_conf("rust-leaf", remotes)).await.0
}

async fn exercise(hub: &GoServer, ours: &ServerHandle) {
    leafs(ours, 1).await;
    let lz = ours.leafz();
    assert!(lz.leafs[0].is_spoke);
    let h = connect(&hub.client_url()).await;
    let l = connect(&ours.client_url()).await;

    let _on_leaf = crossing(&h, &l, "down").await;
    let mut on_hub = crossing(&l, &h, "up").await;

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
        publish_n(publisher, "jobs", 20).await;
        assert_eq!(drain_all(&mut members).await, 20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_solicits_a_go_hub_over_tcp() {
    let dir = Dir::new("go-hub-tcp");
    let hub = go_hub(&dir, "go-hub-tcp", "").await;
    let ours = leaf(&format!("{{ url: \"{}\" }}", hub.leaf_url())).await;
    exercise(&hub, &ours).await;
    ours.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_solicits_a_go_hub_over_websocket() {
    let dir = Dir::new("go-hub-ws");
    let hub = go_hub(&dir, "go-hub-ws", "").await;
    let ours = leaf(&format!("{{ url: \"{}\" }}", hub.ws_url())).await;
    exercise(&hub, &ours).await;
    ours.shutdown().await;
}

/// The client port is not a leafnode port: Go's words, and no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_refuses_a_client_port() {
    let dir = Dir::new("go-hub-wrong");
    let hub = go_hub(&dir, "go-hub-wrong", "").await;
    let ours = leaf(&format!("{{ url: \"{}\" }}", hub.client_url())).await;
    sleep(Duration::from_millis(800)).await;
    assert!(ours.leafz().leafs.is_empty());
    ours.shutdown().await;
}

/// The hub goes away and comes back: our leaf dials again and its interest is there
/// again on the new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_reconnects_after_the_hub_restarts() {
    let dir = Dir::new("go-hub-restart");
    let hub = go_hub(&dir, "go-hub-restart", "").await;
    let leaf_port = hub.leaf().port();
    let ours = leaf(&format!("{{ url: \"{}\" }}", hub.leaf_url())).await;
    leafs(&ours, 1).await;
    let l = connect(&ours.client_url()).await;
    let mut on_leaf = l.subscribe("again").await.unwrap();
    l.flush().await.unwrap();
    let h = connect(&hub.client_url()).await;
    until_received(&h, "again", &mut on_leaf).await;
    drop(h);
    drop(hub);
    until("the leaf never noticed the hub went away", || {
        ours.leafz().leafs.is_empty()
    })
    .await;
    // The hub comes back on the leafnode port it bound the first time: our remote names
    // that port, and dialling it again is what this test checks, so this is the one port
    // known before its server starts. Should another process have taken it since, the
    // start is tried again on the same port (a new one would not test the reconnect).
    let conf = hub_conf_on("go-hub-restart", leaf_port.into(), "", ", no_tls: true");
    let deadline = Instant::now() + T;
    let hub = loop {
        match GoServer::try_start(&dir, "go-hub-restart", &conf).await {
            Ok(hub) => break hub,
            Err(e) if e.port_in_use() && Instant::now() < deadline => {
                sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the hub did not come back on port {leaf_port}: {e:?}"),
        }
    };
    leafs(&ours, 1).await;
    let h = connect(&hub.client_url()).await;
    until_received(&h, "again", &mut on_leaf).await;
    ours.shutdown().await;
}

/// A loop: the Go server solicits our leafnode port while we solicit its. Our own
/// `$LDS.` subject comes back to us, and we say so in Go's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_loop_is_detected() {
    let dir = Dir::new("go-loop");
    // Each side's remote names the other's leafnode port, so one port must be known
    // before its server starts: the Go hub's, picked here. Should another process take it
    // before the Go server binds it, both start again with a new one.
    let mut attempts = 0;
    let (ours, log, _hub) = loop {
        attempts += 1;
        let go_port = pick_port();
        let (ours, log) = ours(
            "leaf",
            &format!(
                "host: 127.0.0.1\nport: -1\nserver_name: rust-loop\n\
                 leafnodes {{ host: 127.0.0.1, port: -1, reconnect: \"100ms\", \
                 remotes [ {{ url: \"nats://127.0.0.1:{go_port}\" }} ] }}\n"
            ),
        )
        .await;
        let remotes = format!(", remotes [ {{ url: \"{}\" }} ]", ours.leaf_url());
        let conf = hub_conf_on("go-loop", go_port.into(), &remotes, ", no_tls: true");
        match GoServer::try_start(&dir, "go-loop", &conf).await {
            Ok(hub) => break (ours, log, hub),
            Err(e) if e.port_in_use() && attempts < 5 => ours.shutdown().await,
            Err(e) => panic!("the Go hub did not start on port {go_port}: {e:?}"),
        }
    };
    let want = "Loop detected for leafnode account=\"$G\". Delaying attempt to reconnect for 30s";
    wait_line("no loop reported", want, || log.lines()).await;
    ours.shutdown().await;
}

/// The hub asks for credentials: ours come from the remote's URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_authenticates_with_url_credentials() {
    let dir = Dir::new("go-hub-auth");
    let hub = go_hub(
        &dir,
        "go-hub-auth",
        ", authorization { user: leafuser, password: s3cret }",
    )
    .await;
    let ours = leaf(&format!(
        "{{ url: \"nats://leafuser:s3cret@{}\" }}",
        hub.leaf()
    ))
    .await;
    leafs(&ours, 1).await;
    let h = connect(&hub.client_url()).await;
    let l = connect(&ours.client_url()).await;
    crossing(&h, &l, "authed").await;
    ours.shutdown().await;
}
