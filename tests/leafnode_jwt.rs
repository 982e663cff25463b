//! Leafnodes in operator (JWT) mode, our server as the HUB: the operator JWT is trusted,
//! the account JWT is preloaded in a memory resolver, and the Go server v2.15.1 is the
//! leaf, soliciting with `credentials: "<file>.creds"` (the user JWT and its seed, in
//! Go's format) over TCP and over ws://. The leaf binds to the user's account, messages
//! cross both ways, and a user JWT whose `allowed_connection_types` lacks the leaf's
//! connection type is refused: the Go hub's log line, with the reason we add to it
//! (docs/CONFORMANCE.md row 20). The reverse too: our server as the leaf with
//! `credentials`, soliciting the Go server as the operator-mode hub.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, Subscriber};
use nats_ws::auth::jwt;
use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};
use nkeys::KeyPair;
use process::Stopped;
use serde_json::{Map, Value, json};
use tokio::time::{Instant, sleep, timeout};

const T: Duration = Duration::from_secs(10);
const ISSUED_AT: i64 = 1_700_000_000;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An operator, one account and its user: fresh keys, JWTs signed in the test.
struct Trust {
    operator_jwt: String,
    account: KeyPair,
    account_jwt: String,
}

impl Trust {
    fn new() -> Trust {
        let op = KeyPair::new_operator();
        let account = KeyPair::new_account();
        let operator_jwt = jwt::encode(
            obj(json!({"sub": op.public_key(), "name": "O", "nats": {"type": "operator"}})),
            &op,
            ISSUED_AT,
        )
        .unwrap();
        let account_jwt = jwt::encode(
            obj(json!({"sub": account.public_key(), "name": "A", "nats": {
                "type": "account",
                "limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1,
                    "exports": -1, "wildcards": true, "conn": -1, "leaf": -1},
                "default_permissions": {"pub": {}, "sub": {}}
            }})),
            &op,
            ISSUED_AT,
        )
        .unwrap();
        Trust {
            operator_jwt,
            account,
            account_jwt,
        }
    }

    /// The configuration lines that put a server in operator mode (`dir` holds the
    /// operator JWT file).
    fn config(&self, dir: &Path) -> String {
        let op = dir.join("op.jwt");
        std::fs::write(&op, &self.operator_jwt).unwrap();
        format!(
            "operator: \"{}\"\nresolver: MEMORY\nresolver_preload: {{ {}: \"{}\" }}\n",
            op.display(),
            self.account.public_key(),
            self.account_jwt
        )
    }

    /// A `.creds` file (Go's layout) for a new user of the account, with
    /// `allowed_connection_types` when given.
    fn creds(&self, dir: &Path, name: &str, types: Option<&[&str]>) -> PathBuf {
        self.user(dir, name, types, false).0
    }

    /// [`Trust::creds`], also returning the user JWT and seed; a `bearer` JWT needs no
    /// nonce signature (async-nats is built without its `nkeys` feature).
    fn user(
        &self,
        dir: &Path,
        name: &str,
        types: Option<&[&str]>,
        bearer: bool,
    ) -> (PathBuf, String, String) {
        let user = KeyPair::new_user();
        let mut nats = obj(
            json!({"type": "user", "subs": -1, "data": -1, "payload": -1,
            "pub": {}, "sub": {}}),
        );
        if let Some(t) = types {
            nats.insert("allowed_connection_types".into(), json!(t));
        }
        if bearer {
            nats.insert("bearer_token".into(), json!(true));
        }
        let token = jwt::encode(
            obj(json!({"sub": user.public_key(), "name": name, "nats": nats})),
            &self.account,
            ISSUED_AT,
        )
        .unwrap();
        let path = dir.join(format!("{name}.creds"));
        std::fs::write(
            &path,
            format!(
                "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
                 ************************* IMPORTANT *************************\n\
                 NKEY Seed printed below can be used to sign and prove identity.\n\
                 NKEYs are sensitive and should be treated as secrets.\n\n\
                 -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n\n\
                 *************************************************************\n",
                user.seed().unwrap()
            ),
        )
        .unwrap();
        (path, token, user.seed().unwrap())
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nats-ws-leafjwt-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Our server as the operator-mode hub; its log lines are kept.
async fn hub(trust: &Trust, dir: &Path) -> (ServerHandle, Arc<Mutex<Vec<String>>>) {
    let text = format!(
        "host: 127.0.0.1\nport: -1\nserver_name: rust-hub\n\
         websocket {{ host: 127.0.0.1, port: -1, no_tls: true }}\n\
         leafnodes {{ host: 127.0.0.1, port: -1 }}\n{}",
        trust.config(dir)
    );
    let opts = ServerOpts::from_str(&text, Path::new("."))
        .expect("config")
        .opts;
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = log.clone();
    let sink: LogSink = Arc::new(move |level: LogLevel, line: &str| {
        eprintln!("[hub {level:?}] {line}");
        kept.lock().unwrap().push(line.to_owned());
    });
    (Server::start(opts, sink).await.expect("start"), log)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the Go server with `conf` (written to `dir/<name>.conf`); its stderr goes to
/// `dir/<name>.log`.
fn go(dir: &Path, name: &str, conf: &str) -> Stopped {
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, conf).unwrap();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(go_peer::go_server())
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the Go server (.venv-peers/bin/nats-server)");
    Stopped(child)
}

/// The Go server as a leaf of `url`, with `creds`; returns it and its client port.
fn go_leaf(dir: &Path, name: &str, url: &str, creds: &Path) -> (Stopped, u16) {
    let port = free_port();
    let conf = format!(
        "server_name: {name}\nhost: 127.0.0.1\nport: {port}\n\
         leafnodes {{ reconnect: \"100ms\", remotes [ {{ url: \"{url}\", credentials: \"{}\" }} ] }}\n",
        creds.display()
    );
    (go(dir, name, &conf), port)
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

async fn until_received(from: &Client, subject: &str, sub: &mut Subscriber) {
    use futures_util::StreamExt;
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

/// The Go leaf logs in with its `.creds`, binds to the account of the user JWT, and
/// messages cross both ways.
async fn binds_and_crosses(ws: bool) {
    let tag = if ws { "ws" } else { "tcp" };
    let dir = temp_dir(tag);
    let trust = Trust::new();
    let (hub, _log) = hub(&trust, &dir).await;
    let types: &[&str] = if ws { &["LEAFNODE_WS"] } else { &["LEAFNODE"] };
    let creds = trust.creds(&dir, "leafuser", Some(types));
    let url = if ws {
        format!("ws://{}", hub.ws_addr().unwrap())
    } else {
        format!("nats://{}", hub.leaf_addr().unwrap())
    };
    let name = format!("go-leaf-{tag}");
    let (_leaf, leaf_port) = go_leaf(&dir, &name, &url, &creds);
    let deadline = Instant::now() + T;
    while hub.leafz().leafs.len() != 1 {
        assert!(Instant::now() < deadline, "the leaf never connected");
        sleep(Duration::from_millis(20)).await;
    }
    let lz = hub.leafz();
    assert_eq!(lz.leafs[0].name, name);
    assert_eq!(lz.leafs[0].account, trust.account.public_key());

    // A client of the account on our side (a user JWT allowed on STANDARD), and one on
    // the leaf (the leaf's global account is bound to the remote's account).
    let (_, token, _) = trust.user(&dir, "client", None, true);
    let h = {
        let deadline = Instant::now() + T;
        loop {
            let token = token.clone();
            let o = async_nats::ConnectOptions::with_auth_callback(move |_nonce| {
                let token = token.clone();
                async move {
                    let mut auth = async_nats::Auth::new();
                    auth.jwt = Some(token);
                    Ok(auth)
                }
            });
            match o.connect(hub.client_addr().to_string()).await {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("connect hub: {e}"),
                Err(_) => sleep(Duration::from_millis(50)).await,
            }
        }
    };
    let l = connect(format!("nats://127.0.0.1:{leaf_port}")).await;
    let mut on_leaf = l.subscribe("to.leaf").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "to.leaf", &mut on_leaf).await;
    let mut on_hub = h.subscribe("to.hub").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "to.hub", &mut on_hub).await;
    hub.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_with_creds_over_tcp() {
    binds_and_crosses(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_leaf_with_creds_over_websocket() {
    binds_and_crosses(true).await;
}

/// The authentication error of a log, without the connection prefix
/// (`<addr> - lid:<n> - `) and, for Go, the pid, time and level before it.
fn auth_error(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| l.contains("authentication error"))
        .map(|l| l.split(" - ").skip(2).collect::<Vec<_>>().join(" - "))
}

/// Waits for an authorization error in `lines()`.
async fn wait_error(lines: impl Fn() -> Vec<String>) -> (String, Vec<String>) {
    let deadline = Instant::now() + T;
    loop {
        let all = lines();
        if let Some(e) = auth_error(&all) {
            return (e, all);
        }
        assert!(
            Instant::now() < deadline,
            "no authorization error logged: {all:#?}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// A user JWT allowed only on the other leaf connection type (and STANDARD) is refused:
/// nothing in /leafz binds to the account, and our log has the line the Go hub logs in the same setup, with
/// the reason Go logs at debug level appended (docs/CONFORMANCE.md row 20).
async fn refused(ws: bool) {
    let tag = if ws { "ws-refused" } else { "tcp-refused" };
    let dir = temp_dir(tag);
    let trust = Trust::new();
    let types: &[&str] = if ws {
        &["STANDARD", "LEAFNODE"]
    } else {
        &["STANDARD", "LEAFNODE_WS"]
    };
    let creds = trust.creds(&dir, "leafuser", Some(types));

    // The Go server as the hub, same trust and user: its log line is the reference.
    let (hub_port, hub_ws) = (free_port(), free_port());
    let go_hub_conf = format!(
        "server_name: go-hub\nhost: 127.0.0.1\nport: -1\n\
         websocket {{ host: 127.0.0.1, port: {hub_ws}, no_tls: true }}\n\
         leafnodes {{ host: 127.0.0.1, port: {hub_port} }}\n{}",
        trust.config(&dir)
    );
    let go_hub = go(&dir, "go-hub", &go_hub_conf);
    let url = if ws {
        format!("ws://127.0.0.1:{hub_ws}")
    } else {
        format!("nats://127.0.0.1:{hub_port}")
    };
    let go_leaf_proc = go_leaf(&dir, "go-leaf-a", &url, &creds);
    let go_log = dir.join("go-hub.log");
    let (go_line, _) = wait_error(|| {
        std::fs::read_to_string(&go_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    })
    .await;
    drop(go_leaf_proc);
    drop(go_hub);

    let (hub, log) = hub(&trust, &dir).await;
    let url = if ws {
        format!("ws://{}", hub.ws_addr().unwrap())
    } else {
        format!("nats://{}", hub.leaf_addr().unwrap())
    };
    let (_leaf, _) = go_leaf(&dir, "go-leaf-b", &url, &creds);
    let (ours, all) = wait_error(|| log.lock().unwrap().clone()).await;
    // docs/CONFORMANCE.md row 20: Go logs the JWT reason at debug level and then
    // `authentication error`; we put the reason on the error line.
    assert_eq!(go_line, "authentication error");
    assert_eq!(
        ours,
        format!("{go_line} - Connection type not allowed"),
        "our log: {all:#?}"
    );
    // A leaf connection is listed from its admission on, so the Go leaf's next retry
    // may show for a moment; none ever binds to the account.
    for _ in 0..10 {
        let lz = hub.leafz();
        assert!(
            lz.leafs
                .iter()
                .all(|l| l.account != trust.account.public_key()),
            "a refused leaf bound to the account"
        );
        sleep(Duration::from_millis(50)).await;
    }
    hub.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafnode_type_missing_is_refused_over_tcp() {
    refused(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafnode_ws_type_missing_is_refused_over_websocket() {
    refused(true).await;
}

/// Our server as a leaf with one remote (`url`, `credentials`); its log lines are kept.
async fn our_leaf(url: &str, creds: &Path) -> (ServerHandle, Arc<Mutex<Vec<String>>>) {
    let text = format!(
        "host: 127.0.0.1\nport: -1\nserver_name: rust-leaf\n\
         leafnodes {{ reconnect: \"100ms\", remotes [ {{ url: \"{url}\", credentials: \"{}\" }} ] }}\n",
        creds.display()
    );
    let opts = ServerOpts::from_str(&text, Path::new("."))
        .expect("config")
        .opts;
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = log.clone();
    let sink: LogSink = Arc::new(move |level: LogLevel, line: &str| {
        eprintln!("[leaf {level:?}] {line}");
        kept.lock().unwrap().push(line.to_owned());
    });
    (Server::start(opts, sink).await.expect("start"), log)
}

/// The Go server as the operator-mode hub: client, leafnode and websocket ports.
fn go_hub(trust: &Trust, dir: &Path) -> (Stopped, u16, String, String) {
    let (client, leaf, ws) = (free_port(), free_port(), free_port());
    let conf = format!(
        "server_name: go-hub\nhost: 127.0.0.1\nport: {client}\n\
         websocket {{ host: 127.0.0.1, port: {ws}, no_tls: true }}\n\
         leafnodes {{ host: 127.0.0.1, port: {leaf} }}\n{}",
        trust.config(dir)
    );
    (
        go(dir, "go-hub", &conf),
        client,
        format!("nats://127.0.0.1:{leaf}"),
        format!("ws://127.0.0.1:{ws}"),
    )
}

/// A client of the account (a bearer user JWT) on `addr`.
async fn account_client(trust: &Trust, dir: &Path, addr: String) -> Client {
    let (_, token, _) = trust.user(dir, "client", None, true);
    let deadline = Instant::now() + T;
    loop {
        let token = token.clone();
        let o = async_nats::ConnectOptions::with_auth_callback(move |_nonce| {
            let token = token.clone();
            async move {
                let mut auth = async_nats::Auth::new();
                auth.jwt = Some(token);
                Ok(auth)
            }
        });
        match o.connect(&addr).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("connect {addr}: {e}"),
            Err(_) => sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Our leaf logs in to the Go operator-mode hub with its `.creds`: messages cross both
/// ways between our leaf's global account and the user's account on the hub (the hub
/// has no other account they could meet in).
async fn our_leaf_binds_and_crosses(ws: bool) {
    let tag = if ws { "rev-ws" } else { "rev-tcp" };
    let dir = temp_dir(tag);
    let trust = Trust::new();
    let (_hub, client_port, leaf_url, ws_url) = go_hub(&trust, &dir);
    let types: &[&str] = if ws { &["LEAFNODE_WS"] } else { &["LEAFNODE"] };
    let creds = trust.creds(&dir, "leafuser", Some(types));
    let (ours, _log) = our_leaf(if ws { &ws_url } else { &leaf_url }, &creds).await;
    let deadline = Instant::now() + T;
    while ours.leafz().leafs.is_empty() {
        assert!(Instant::now() < deadline, "our leaf never connected");
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ours.leafz().leafs[0].name, "go-hub");
    let h = account_client(&trust, &dir, format!("nats://127.0.0.1:{client_port}")).await;
    let l = connect(format!("nats://{}", ours.client_addr())).await;
    let mut on_leaf = l.subscribe("to.leaf").await.unwrap();
    l.flush().await.unwrap();
    until_received(&h, "to.leaf", &mut on_leaf).await;
    let mut on_hub = h.subscribe("to.hub").await.unwrap();
    h.flush().await.unwrap();
    until_received(&l, "to.hub", &mut on_hub).await;
    ours.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_with_creds_solicits_a_go_operator_hub_over_tcp() {
    our_leaf_binds_and_crosses(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_with_creds_solicits_a_go_operator_hub_over_websocket() {
    our_leaf_binds_and_crosses(true).await;
}

/// The first line of `lines` that mentions `Authorization Violation`, without the
/// connection prefix (and Go's pid, time and level).
fn violation(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| l.contains("Authorization Violation"))
        .map(|l| l.split(" - ").skip(2).collect::<Vec<_>>().join(" - "))
}

/// A user JWT without the leaf's connection type: the Go hub refuses our leaf, which
/// logs what the Go leaf logs in the same setup. (No /leafz check: our /leafz lists
/// a leaf connection from its admission on, before the hub answers the CONNECT, and
/// its account is our local one either way.)
async fn our_leaf_refused(ws: bool) {
    let tag = if ws {
        "rev-ws-refused"
    } else {
        "rev-tcp-refused"
    };
    let dir = temp_dir(tag);
    let trust = Trust::new();
    let (_hub, _, leaf_url, ws_url) = go_hub(&trust, &dir);
    let url = if ws { ws_url } else { leaf_url };
    let types: &[&str] = if ws {
        &["STANDARD", "LEAFNODE"]
    } else {
        &["STANDARD", "LEAFNODE_WS"]
    };
    let creds = trust.creds(&dir, "leafuser", Some(types));

    let go_leaf_proc = go_leaf(&dir, "go-leaf", &url, &creds);
    let go_log = dir.join("go-leaf.log");
    let deadline = Instant::now() + T;
    let go_line = loop {
        let all: Vec<String> = std::fs::read_to_string(&go_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if let Some(l) = violation(&all) {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the Go leaf logged no refusal: {all:#?}"
        );
        sleep(Duration::from_millis(50)).await;
    };
    drop(go_leaf_proc);

    let (ours, log) = our_leaf(&url, &creds).await;
    let deadline = Instant::now() + T;
    let line = loop {
        let all = log.lock().unwrap().clone();
        if let Some(l) = violation(&all) {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "our leaf logged no refusal: {all:#?}"
        );
        sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line, go_line);
    assert_eq!(go_line, "Leafnode Error 'Authorization Violation'");
    ours.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_without_the_leafnode_type_is_refused_over_tcp() {
    our_leaf_refused(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_leaf_without_the_leafnode_ws_type_is_refused_over_websocket() {
    our_leaf_refused(true).await;
}
