//! The tokio server: listeners, TLS, and one pump per connection around the sans-IO core
//! (handshake → codec → conn), the only module that touches sockets and clocks.
//!
//! Limits (each documented where it is enforced): `max_payload` (1 MiB), `max_control_line`
//! (4096), `max_pending` (64 MiB per connection), `max_connections` (65536), `write_deadline`
//! (10 s), `ping_interval` (2 min, first PING after at most 2 s) and `ping_max` (2), the
//! authentication timeout (2 s, or `tls_timeout + 1` with TLS), the TLS handshake timeout
//! (`tls_timeout`, 2 s), the WebSocket handshake timeout (`handshake_timeout`, or
//! [`DEFAULT_HANDSHAKE_TIMEOUT`] when not configured), read buffers of 512 B growing to
//! 64 KiB with the traffic, and [`LINGER`] after the last write of a closing connection.
//! The system account's internal client queues at most 1024 requests / 8 MiB
//! (`internal::MAX_QUEUED`, `internal::MAX_QUEUED_BYTES`); more are dropped.

mod internal;
mod ldm;
mod leaf;
mod listen;
mod listing;
mod log;
mod monitor;
mod mqtt;
mod pump;
mod router;
mod setup;
mod system;
mod tls;
pub mod upgrade;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use log::{
    GoLogger, LogDestination, LogLevel, LogOptions, LogSink, Reopened, Rotation,
    SYSLOG_WRITE_TIMEOUT, SyslogTarget, Timestamps, go_sink, null_sink, tracing_sink,
};

pub use leaf::dial::{Carrier, DialError, Dialed, Dialer, LeafStream, Stage};
pub use monitor::leafz::{Leafz, LeafzEntry};

use crate::conn::ConnConfig;
use crate::frame::ClosedState;
use crate::handshake::HandshakeConfig;
use crate::options::ServerOpts;
use crate::policy::{Compression, Framing};
use router::{AccountSubs, Client, lock};
use tls::TlsHolder;

/// WebSocket handshake timeout when `handshake_timeout` is not set. Go has none (a client
/// may hold a connection open forever); we bound it so half-open upgrades cannot pile up.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection keeps reading (and discarding) after its last write, so
/// that the peer reads the final `-ERR` or close frame before the socket closes: closing
/// with unread input makes the kernel send a reset that can destroy it.
pub const LINGER: Duration = Duration::from_secs(2);

/// Why the server could not start or reload. Display is Go's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A listener could not bind.
    #[error("{0}")]
    Listen(String),
    /// `advertise` does not parse. Go: `Unable to get websocket connect URLs: ...`.
    #[error("Unable to get websocket connect URLs: {0}")]
    Advertise(String),
    /// Certificates or keys could not be loaded.
    #[error("{0}")]
    Tls(String),
    /// Options the server refuses (Go: `validateOptions`).
    #[error("{0}")]
    Invalid(String),
    /// `pid_file` could not be written. Go: `Could not write pidfile: open F: <reason>`.
    #[error("Could not write pidfile: {0}")]
    PidFile(String),
    /// A reload that changes something only a restart can change.
    #[error("config reload not supported for {0}")]
    ReloadNotSupported(String),
}

/// The kind of a connection, as `/connz` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnType {
    /// NATS over the plain TCP listener.
    Client,
    /// NATS over WebSocket.
    Websocket,
    /// MQTT on the MQTT port.
    Mqtt,
    /// MQTT over WebSocket (`/mqtt`).
    MqttWebsocket,
    /// A leafnode on the leafnode port (listed in `/leafz`, not `/connz`).
    Leafnode,
    /// A leafnode over WebSocket (`/leafnode`).
    LeafnodeWebsocket,
}

/// One connection, like an entry of `/connz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Connection id.
    pub cid: u64,
    /// Listener kind.
    pub kind: ConnType,
    /// Peer address.
    pub remote_addr: SocketAddr,
    /// First `X-Forwarded-For` value (WebSocket).
    pub client_ip: Option<String>,
    /// Authenticated user.
    pub user: Option<String>,
    /// Bound account.
    pub account: Option<String>,
    /// CONNECT `name`.
    pub name: Option<String>,
    /// Outbound framing (WebSocket; `Browser` for `Mozilla/` user agents).
    pub framing: Option<Framing>,
    /// permessage-deflate (WebSocket).
    pub compression: Option<Compression>,
    /// Number of subscriptions.
    pub subscriptions: usize,
    /// CONNECT `lang`.
    pub lang: String,
    /// CONNECT `version`.
    pub version: String,
    /// CONNECT `jwt` (operator mode).
    pub jwt: String,
    /// The MQTT client id (generated when the client sent none), once CONNECT was read.
    pub mqtt_client: String,
}

/// Server-wide state shared by every task.
#[derive(Debug)]
pub(crate) struct Shared {
    log: Sink,
    accounts: Mutex<HashMap<String, Arc<AccountSubs>>>,
    clients: Mutex<HashMap<u64, Arc<Client>>>,
    next_cid: AtomicU64,
    opts: Mutex<ServerOpts>,
    client_cfg: Arc<ConnConfig>,
    ws_cfg: Option<Arc<ConnConfig>>,
    hs_cfg: Arc<HandshakeConfig>,
    client_tls: Option<TlsHolder>,
    ws_tls: Option<TlsHolder>,
    limits: setup::Limits,
    shutdown: watch::Sender<bool>,
    /// Set once by a failure the server cannot go on from (Go: `Fatalf`).
    fatal: watch::Sender<Option<String>>,
    tracker: Mutex<Option<mpsc::Sender<()>>>,
    /// Counters for `/varz`.
    stats: monitor::Stats,
    /// Start and configuration load times.
    clock: monitor::Clock,
    server_id: String,
    server_name: String,
    /// The bound websocket port.
    ws_port: Option<u16>,
    /// The bound MQTT port.
    mqtt_port: Option<u16>,
    /// The bound monitoring listener.
    http_addr: Option<SocketAddr>,
    /// Set once by lame duck mode: the client and websocket accept loops stop.
    lame_duck: watch::Sender<bool>,
    /// Requests per monitoring endpoint (Go: `http_req_stats`).
    http_req_stats: Mutex<std::collections::BTreeMap<String, u64>>,
    /// The system account, unless `no_system_account`.
    system: Option<system::System>,
    /// Closed connections for `/connz?state=closed` (`max_closed_clients`).
    closed: Mutex<monitor::ClosedRing>,
    /// TLS of the monitoring listener when it is HTTPS (`https_port`).
    monitor_tls: Option<Arc<rustls::ServerConfig>>,
    /// MQTT, when `mqtt { port }` is set.
    mqtt: Option<mqtt::MqttServer>,
    /// Leafnodes, when `leafnodes { port }` is set.
    leaf: Option<leaf::LeafServer>,
    /// Open leaf connections, by connection id (Go: `s.leafs`).
    leafs: Mutex<HashMap<u64, Arc<leaf::LeafLink>>>,
}

struct Sink(LogSink);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSink")
    }
}

impl Shared {
    pub(crate) fn log(&self, level: LogLevel, line: &str) {
        (self.log.0)(level, line);
    }

    /// How MQTT packets are traced (`-V`/`trace`, `max_traced_msg_len`).
    pub(crate) fn mqtt_trace(&self) -> crate::conn::Trace {
        self.client_cfg.trace
    }

    /// The account named `name`, created on first use (with the system account's
    /// services imported, as Go adds them to every account).
    pub(crate) fn account(&self, name: &str) -> Arc<AccountSubs> {
        let mut accounts = lock(&self.accounts);
        if let Some(a) = accounts.get(name) {
            return Arc::clone(a);
        }
        let account = Arc::new(AccountSubs::default());
        accounts.insert(name.to_owned(), Arc::clone(&account));
        drop(accounts);
        if let Some(sys) = &self.system {
            sys.import_services(self, &account);
        }
        account
    }

    /// Spawns a task the shutdown waits for.
    pub(crate) fn spawn<F>(self: &Arc<Self>, fut: F) -> Option<JoinHandle<()>>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let guard = lock(&self.tracker).clone()?;
        Some(tokio::spawn(async move {
            fut.await;
            drop(guard);
        }))
    }

    /// Go `Fatalf` at run time: logs `line` at fatal level and reports it to whoever
    /// waits on [`ServerHandle::fatal_error`] (the binary then shuts down and exits 1).
    pub(crate) fn fatal(&self, line: &str) {
        self.log(LogLevel::Fatal, line);
        self.fatal.send_if_modified(|f| {
            let first = f.is_none();
            if first {
                *f = Some(line.to_owned());
            }
            first
        });
    }

    fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}

/// The server entry point.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds the listeners (ephemeral ports when a port is -1) and starts accepting. An
    /// error is logged (at fatal level, once) and returned.
    pub async fn start(opts: ServerOpts, log: LogSink) -> Result<ServerHandle, ServerError> {
        let result = setup::start(opts, Arc::clone(&log)).await;
        if let Err(e) = &result {
            log(LogLevel::Fatal, &e.to_string());
        }
        result
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    shared: Arc<Shared>,
    client_addr: SocketAddr,
    ws_addr: Option<SocketAddr>,
    mqtt_addr: Option<SocketAddr>,
    leaf_addr: Option<SocketAddr>,
    /// The listeners' accept loops own them (so that ending a loop closes its port).
    ws_listener: Option<std::sync::Weak<tokio::net::TcpListener>>,
    client_listener: std::sync::Weak<tokio::net::TcpListener>,
    tasks: mpsc::Receiver<()>,
    accept_loops: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The plain NATS TCP listener.
    pub fn client_addr(&self) -> SocketAddr {
        self.client_addr
    }

    /// The WebSocket listener, if configured.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws_addr
    }

    /// The MQTT listener, if configured.
    pub fn mqtt_addr(&self) -> Option<SocketAddr> {
        self.mqtt_addr
    }

    /// The leafnode listener, if configured.
    pub fn leaf_addr(&self) -> Option<SocketAddr> {
        self.leaf_addr
    }

    /// The leaf connections, as `/leafz` shows them.
    pub fn leafz(&self) -> Leafz {
        monitor::leafz::leafz(
            &self.shared,
            jiff::Timestamp::now(),
            &monitor::leafz::LeafzOptions::default(),
        )
    }

    /// The HTTP monitoring listener, if configured.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.shared.http_addr
    }

    /// Whether the monitoring listener speaks TLS (`https_port`).
    pub fn http_tls(&self) -> bool {
        self.shared.monitor_tls.is_some()
    }

    /// Whether the WebSocket listener speaks TLS (`wss://`).
    pub fn ws_tls(&self) -> bool {
        self.shared.ws_tls.is_some()
    }

    /// Open connections, by connection id.
    pub fn connz(&self) -> Vec<ConnInfo> {
        let clients: Vec<Arc<Client>> = lock(&self.shared.clients).values().cloned().collect();
        let mut v: Vec<ConnInfo> = clients.iter().map(|c| lock(&c.info).clone()).collect();
        v.sort_by_key(|c| c.cid);
        v
    }

    /// Applies new options: TLS certificates of both listeners are reloaded; any other
    /// change of the `websocket {}` block is refused as Go does.
    pub async fn reload(&self, opts: ServerOpts) -> Result<(), ServerError> {
        setup::reload(&self.shared, opts)
    }

    /// Closes one connection for `reason` (WebSocket clients get the matching close frame).
    pub fn close_connection(&self, cid: u64, reason: ClosedState) {
        let client = lock(&self.shared.clients).get(&cid).cloned();
        if let Some(c) = client {
            c.close(reason);
        }
    }

    /// Shuts the WebSocket listening socket down (shutdown(2)) under the running server,
    /// as Go's TestWSAbnormalFailureOfWebServer closes its listener: the accept loop then
    /// fails and the server reports the fatal `websocket listener error`
    /// ([`ServerHandle::fatal_error`]). For tests of that path; a server never needs it.
    #[doc(hidden)]
    pub fn break_ws_listener(&self) -> std::io::Result<()> {
        let Some(l) = self.ws_listener.as_ref().and_then(std::sync::Weak::upgrade) else {
            return Err(std::io::Error::other("no websocket listener"));
        };
        socket2::SockRef::from(&*l).shutdown(std::net::Shutdown::Both)
    }

    /// Resolves with the first fatal error the running server reports (today: its
    /// websocket listener failing, Go's `websocket listener error`); pending until then.
    pub async fn fatal_error(&self) -> String {
        let mut rx = self.shared.fatal.subscribe();
        loop {
            if let Some(line) = rx.borrow_and_update().clone() {
                return line;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops accepting, sends every WebSocket client 1001 `Server Shutdown` after its
    /// pending data, and waits for every connection task to end.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        for h in &self.accept_loops {
            h.abort();
        }
        for h in self.accept_loops.drain(..) {
            let _ = h.await;
        }
        let clients: Vec<Arc<Client>> = lock(&self.shared.clients).values().cloned().collect();
        for c in clients {
            c.close(ClosedState::ServerShutdown);
        }
        let leafs: Vec<Arc<leaf::LeafLink>> = lock(&self.shared.leafs).values().cloned().collect();
        for l in leafs {
            l.client().close(ClosedState::ServerShutdown);
        }
        lock(&self.shared.tracker).take();
        while self.tasks.recv().await.is_some() {}
        self.shared.log(LogLevel::Info, "Server Exiting..");
    }
}
