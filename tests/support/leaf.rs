//! What the leafnode end-to-end tests share (`leafnode_hub`, `leafnode_spoke`,
//! `leafnode_solicit`, `leafnode_jwt`): the Go server v2.15.1 started from configuration
//! text, our server started in this process, a hub's and a leaf's configuration, async-nats
//! clients, and bounded waits for leaf connections, interest and log lines.
//!
//! No port is picked free and then handed to a server: a port released before the server
//! binds it can be taken by a test running in parallel. Servers bind ephemeral ports
//! (`-1`) and we read back what they bound: ours from its [`ServerHandle`], Go's from its
//! ports file (`ports_file_dir`; it lists the client, websocket and monitoring listeners,
//! not the leafnode one) and from its log line `Listening for leafnode connections on`.
//! [`pick_port`] is for the few tests that must name a port before its server starts.
//!
//! The test file that includes this one declares `process` (support/process.rs) and
//! `go_peer` (support/go_peer.rs) beside it.

// Each test binary includes this file and uses part of it.
#![allow(dead_code, clippy::expect_used)]

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Message, Subscriber};
use futures_util::StreamExt;
use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};
use tokio::time::{Instant, sleep, timeout};

use crate::process::Stopped;

/// The bound of every wait here.
pub const T: Duration = Duration::from_secs(10);

/// A fresh directory for one test's files, removed when dropped unless the test failed
/// (then it is kept to look at).
pub struct Dir(PathBuf);

impl Dir {
    /// `nats-ws-<test binary>-<pid>-<name>` in the temporary directory.
    pub fn new(name: &str) -> Dir {
        Dir(crate::process::scratch(env!("CARGO_CRATE_NAME"), name))
    }
}

impl Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A server's listeners, and the URLs a client or a leaf dials them by.
pub trait Listeners {
    fn client(&self) -> SocketAddr;
    fn leaf(&self) -> SocketAddr;
    fn ws(&self) -> SocketAddr;

    fn client_url(&self) -> String {
        format!("nats://{}", self.client())
    }
    fn leaf_url(&self) -> String {
        format!("nats://{}", self.leaf())
    }
    fn ws_url(&self) -> String {
        format!("ws://{}", self.ws())
    }
    /// What a leaf solicits: the websocket listener (`ws`) or the leafnode listener.
    fn remote_url(&self, ws: bool) -> String {
        if ws { self.ws_url() } else { self.leaf_url() }
    }
}

impl Listeners for ServerHandle {
    fn client(&self) -> SocketAddr {
        self.client_addr()
    }
    fn leaf(&self) -> SocketAddr {
        self.leaf_addr()
            .expect("our server has a leafnode listener")
    }
    fn ws(&self) -> SocketAddr {
        self.ws_addr().expect("our server has a websocket listener")
    }
}

/// A hub: client, leafnode and websocket listeners on ephemeral loopback ports.
/// `leafnodes` and `websocket` go on inside their blocks (`", no_tls: true"`).
pub fn hub_conf(name: &str, leafnodes: &str, websocket: &str) -> String {
    hub_conf_on(name, -1, leafnodes, websocket)
}

/// [`hub_conf`] with the leafnode listener on `leaf_port`.
pub fn hub_conf_on(name: &str, leaf_port: i32, leafnodes: &str, websocket: &str) -> String {
    format!(
        "server_name: {name}\nhost: 127.0.0.1\nport: -1\n\
         leafnodes {{ host: 127.0.0.1, port: {leaf_port}{leafnodes} }}\n\
         websocket {{ host: 127.0.0.1, port: -1{websocket} }}\n"
    )
}

/// A leaf: a client listener on an ephemeral loopback port and `remotes` (the entries
/// of the list), dialled again every 100 ms.
pub fn leaf_conf(name: &str, remotes: &str) -> String {
    format!(
        "server_name: {name}\nhost: 127.0.0.1\nport: -1\n\
         leafnodes {{ reconnect: \"100ms\", remotes [ {remotes} ] }}\n"
    )
}

/// The Go server; dropping it kills it, and prints its log if the test is failing.
pub struct GoServer {
    process: Stopped,
    log: PathBuf,
    client: SocketAddr,
    ws: Option<SocketAddr>,
    leaf: Option<SocketAddr>,
}

/// Why the Go server did not come up: it exited (its log says why) or never wrote its
/// ports file in time.
#[derive(Debug)]
pub struct NotStarted(pub String);

impl NotStarted {
    /// It exited because a port it was given is taken.
    pub fn port_in_use(&self) -> bool {
        self.0.contains("address already in use")
    }
}

/// Go's `Ports` (server.go): the URLs of the listeners it bound.
#[derive(serde::Deserialize)]
struct Ports {
    nats: Vec<String>,
    #[serde(default)]
    websocket: Vec<String>,
}

/// `scheme://host:port` → `host:port`.
fn addr_of(url: &str) -> Option<SocketAddr> {
    url.split_once("://")?.1.parse().ok()
}

impl GoServer {
    /// [`GoServer::try_start`], failing the test if the server does not come up.
    pub async fn start(dir: &Path, name: &str, conf: &str) -> GoServer {
        match GoServer::try_start(dir, name, conf).await {
            Ok(s) => s,
            Err(NotStarted(why)) => panic!("the Go server {name} did not start: {why}"),
        }
    }

    /// Writes `conf` to `dir/<name>.conf` with a `ports_file_dir`, starts the Go server on
    /// it with its log in `dir/<name>.log`, and waits (bounded) for its ports file. Go
    /// writes that file once every listener it lists is bound, after the leafnode
    /// listener was bound and logged (server.go `Start`), so the log names that one then.
    pub async fn try_start(dir: &Path, name: &str, conf: &str) -> Result<GoServer, NotStarted> {
        let path = dir.join(format!("{name}.conf"));
        let conf = format!("{conf}\nports_file_dir: \"{}\"\n", dir.display());
        std::fs::write(&path, conf).expect("write the Go server's configuration");
        let log = dir.join(format!("{name}.log"));
        let bin = crate::go_peer::go_server();
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create the Go server's log"))
            .spawn()
            .expect("start the Go server (.venv-peers/bin/nats-server)");
        let mut process = Stopped(child);
        let exe = bin.file_name().unwrap_or_default().to_string_lossy();
        let ports_file = dir.join(format!("{exe}_{}.ports", process.id()));
        let deadline = Instant::now() + T;
        loop {
            let ports = std::fs::read_to_string(&ports_file).ok();
            // Go writes the file in one call, but we may read it half written.
            let ports = ports.and_then(|t| serde_json::from_str::<Ports>(&t).ok());
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(ports) = ports {
                let client = ports.nats.first().and_then(|u| addr_of(u));
                let client = client.ok_or_else(|| NotStarted(format!("no client URL: {text}")))?;
                let leaf = text.lines().find_map(|l| {
                    let (_, addr) = l.split_once("Listening for leafnode connections on ")?;
                    addr.trim().parse().ok()
                });
                return Ok(GoServer {
                    process,
                    log,
                    client,
                    ws: ports.websocket.first().and_then(|u| addr_of(u)),
                    leaf,
                });
            }
            if let Ok(Some(status)) = process.try_wait() {
                return Err(NotStarted(format!("it exited ({status}): {text}")));
            }
            if Instant::now() > deadline {
                return Err(NotStarted(format!("no ports file in {T:?}: {text}")));
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Its log so far, line by line.
    pub fn log_lines(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }
}

impl Listeners for GoServer {
    fn client(&self) -> SocketAddr {
        self.client
    }
    fn leaf(&self) -> SocketAddr {
        self.leaf.expect("the Go server logged a leafnode listener")
    }
    fn ws(&self) -> SocketAddr {
        self.ws
            .expect("the Go server's ports file lists a websocket listener")
    }
}

impl Drop for GoServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- {} ---\n{text}", self.log.display());
        }
    }
}

/// The Go server as a leaf with `remotes` (see [`leaf_conf`]), its files in `dir`.
pub async fn go_leaf(dir: &Path, name: &str, remotes: &str) -> GoServer {
    GoServer::start(dir, name, &leaf_conf(name, remotes)).await
}

/// A free loopback port, released: only for a test that must name a port before the
/// server that binds it starts (two servers that solicit each other, a server restarted
/// on the same port). Another process may take it first; such a test starts again when
/// the bind fails with "address already in use" ([`NotStarted::port_in_use`]).
pub fn pick_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("its address").port()
}

/// A loopback port where nothing listens, which no one else can bind while the returned
/// socket lives (bound, never listening): a dial to it is refused.
pub fn refusing_port() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind port 0");
    let addr = socket.local_addr().expect("its address");
    (socket, addr)
}

/// Writes `cert.pem` and `key.pem`, a self-signed certificate for `names`, into `dir`;
/// returns their paths.
pub fn certificate(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().expect("key pair");
    let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let params = rcgen::CertificateParams::new(names).expect("certificate parameters");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).expect("write cert.pem");
    std::fs::write(&key_file, key.serialize_pem()).expect("write key.pem");
    (cert_file, key_file)
}

/// Our server's log lines, kept as they come.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Our server started in this process from `conf`; its log lines are printed with `tag`
/// (cargo shows them for a failing test) and kept.
pub async fn ours(tag: &str, conf: &str) -> (ServerHandle, Log) {
    let opts = ServerOpts::from_str(conf, Path::new("."))
        .expect("config")
        .opts;
    let log = Log::default();
    let (kept, tag) = (log.clone(), tag.to_owned());
    let sink: LogSink = Arc::new(move |level: LogLevel, line: &str| {
        eprintln!("[{tag} {level:?}] {line}");
        kept.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
    });
    (Server::start(opts, sink).await.expect("start"), log)
}

/// Waits (bounded) until `done()`; fails with `what` if it never is.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `server` lists `n` leaf connections.
pub async fn leafs(server: &ServerHandle, n: usize) {
    let what = format!("expected {n} leaf connections");
    until(&what, || server.leafz().leafs.len() == n).await;
}

/// Waits (bounded) for a line of `lines()` that holds `needle`; returns it and all the
/// lines read with it.
pub async fn wait_line(
    what: &str,
    needle: &str,
    lines: impl Fn() -> Vec<String>,
) -> (String, Vec<String>) {
    let deadline = Instant::now() + T;
    loop {
        let all = lines();
        if let Some(line) = all.iter().find(|l| l.contains(needle)) {
            return (line.clone(), all);
        }
        assert!(Instant::now() < deadline, "{what}: {all:#?}");
        sleep(Duration::from_millis(50)).await;
    }
}

/// A client of `addr` with the options `options()` makes, tried again (bounded) until
/// the server takes it.
pub async fn connect_with(addr: &str, options: impl Fn() -> ConnectOptions) -> Client {
    let deadline = Instant::now() + T;
    loop {
        match options().connect(addr).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("connect {addr}: {e}"),
            Err(_) => sleep(Duration::from_millis(50)).await,
        }
    }
}

/// A client of `addr` with default options.
pub async fn connect(addr: &str) -> Client {
    connect_with(addr, ConnectOptions::new).await
}

/// The next message of `sub`, within [`T`].
pub async fn next(sub: &mut Subscriber) -> Message {
    timeout(T, sub.next())
        .await
        .expect("a message in time")
        .expect("subscription open")
}

/// Publishes on `from` until `sub` (on the other side) gets it: interest crosses a leaf
/// connection asynchronously.
pub async fn until_received(from: &Client, subject: &str, sub: &mut Subscriber) -> Message {
    let deadline = Instant::now() + T;
    loop {
        from.publish(subject.to_owned(), "ping".into())
            .await
            .expect("publish");
        from.flush().await.expect("flush");
        if let Ok(Some(m)) = timeout(Duration::from_millis(100), sub.next()).await {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "interest in {subject} never crossed"
        );
    }
}

/// Subscribes `to` to `subject` and waits until what `from` publishes on it arrives.
pub async fn crossing(from: &Client, to: &Client, subject: &str) -> Subscriber {
    let mut sub = to.subscribe(subject.to_owned()).await.expect("subscribe");
    to.flush().await.expect("flush");
    until_received(from, subject, &mut sub).await;
    sub
}

/// Drains `sub` for a moment; returns how many messages came.
pub async fn drain(sub: &mut Subscriber) -> usize {
    let mut n = 0;
    while let Ok(Some(_)) = timeout(Duration::from_millis(300), sub.next()).await {
        n += 1;
    }
    n
}

/// Drains every subscription of `subs` for a moment; returns how many messages came.
pub async fn drain_all(subs: &mut [Subscriber]) -> usize {
    let mut n = 0;
    for sub in subs {
        n += drain(sub).await;
    }
    n
}

/// Publishes `0`, `1`, … `n - 1` on `subject` and flushes.
pub async fn publish_n(from: &Client, subject: &str, n: usize) {
    for i in 0..n {
        from.publish(subject.to_owned(), i.to_string().into())
            .await
            .expect("publish");
    }
    from.flush().await.expect("flush");
}
