//! The server under test: the embedded nats-ws server, or any server started from a
//! command line (the Go server, another port) with a generated configuration.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::certs::Certs;

/// How long a started server may take to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Which server to run fixtures against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// The nats-ws server, in this process.
    Embedded,
    /// A command that starts a server; `{conf}` is replaced by the configuration file path.
    Command {
        /// Name shown in reports.
        name: String,
        /// The command line (run with `sh -c "exec ..."`).
        cmd: String,
    },
    /// A server that is already running (loopback only); nothing is started, and the
    /// fixtures' configurations are not applied (see [`Fixed`]).
    Fixed {
        /// Name shown in reports.
        name: String,
        /// The websocket listener.
        ws: SocketAddr,
        /// The plain NATS listener, if known.
        client: Option<SocketAddr>,
    },
}

impl TargetSpec {
    /// The name shown in reports.
    pub fn name(&self) -> &str {
        match self {
            TargetSpec::Embedded => "nats-ws",
            TargetSpec::Command { name, .. } => name,
            TargetSpec::Fixed { name, .. } => name,
        }
    }
}

/// A connection as the server reports it (only the embedded server can).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnView {
    /// `websocket`, `client`, ...
    pub kind: String,
    /// Authenticated user.
    pub user: String,
    /// Account.
    pub account: String,
    /// Client IP from X-Forwarded-For, if any.
    pub client_ip: String,
}

/// A running server.
pub trait Running: Send {
    /// The websocket listener.
    fn ws_addr(&self) -> Option<SocketAddr>;
    /// The plain NATS listener.
    fn client_addr(&self) -> Option<SocketAddr>;
    /// The monitoring listener, if the configuration has one (`{http_port}`).
    fn http_addr(&self) -> Option<SocketAddr>;
    /// The MQTT listener, if the configuration has one.
    fn mqtt_addr(&self) -> Option<SocketAddr> {
        None
    }
    /// Log lines so far.
    fn logs(&self) -> Vec<String>;
    /// Connections, when the server can be asked (embedded only).
    fn connections(&self) -> Option<Vec<ConnView>>;
    /// Replaces the configuration (unrendered: placeholders are filled as at start) and
    /// reloads it.
    fn reload(&mut self, config: &str) -> Result<(), String>;
    /// Closes every connection for `state` (in-process only; `Err` otherwise).
    fn close_all(&self, state: nats_ws::frame::ClosedState) -> Result<(), String> {
        let _ = state;
        Err("closing connections needs the in-process server".to_owned())
    }
    /// Breaks the WebSocket listening socket under the server (in-process only).
    fn break_ws_listener(&self) -> Result<(), String> {
        Err("breaking the listener needs the in-process server".to_owned())
    }
    /// Stops the server and waits for it.
    fn stop(self: Box<Self>);
}

/// Ports and paths substituted into a fixture's configuration.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// `{client_port}`.
    pub client_port: u16,
    /// `{ws_port}`.
    pub ws_port: u16,
    /// `{mqtt_port}`.
    pub mqtt_port: u16,
    /// `{http_port}`: the monitoring listener (`http: "127.0.0.1:{http_port}"`).
    pub http_port: u16,
    /// `{leaf_port}`: the leafnode listener.
    pub leaf_port: u16,
    /// `{cluster_port}`: the route listener.
    pub cluster_port: u16,
    /// Render every port as `-1`: the server binds ephemeral ports itself.
    pub ephemeral: bool,
    /// `{certs}`.
    pub certs: PathBuf,
}

impl Placeholders {
    /// Picks free loopback ports.
    pub fn new(certs: &Certs) -> Result<Placeholders, String> {
        Ok(Placeholders {
            client_port: free_port()?,
            ws_port: free_port()?,
            http_port: free_port()?,
            mqtt_port: free_port()?,
            leaf_port: free_port()?,
            cluster_port: free_port()?,
            ephemeral: false,
            certs: certs.dir.clone(),
        })
    }

    /// For a server that binds its own ephemeral ports (`-1`, as Go's `listen` allows):
    /// no free-port race between parallel cases.
    pub fn ephemeral(certs: &Certs) -> Placeholders {
        Placeholders {
            client_port: 0,
            ws_port: 0,
            http_port: 0,
            mqtt_port: 0,
            leaf_port: 0,
            cluster_port: 0,
            ephemeral: true,
            certs: certs.dir.clone(),
        }
    }

    /// For a running server: its actual ports (a reload keeps them).
    pub fn bound(running: &dyn Running, certs: &Certs) -> Placeholders {
        Placeholders {
            client_port: running.client_addr().map_or(0, |a| a.port()),
            ws_port: running.ws_addr().map_or(0, |a| a.port()),
            http_port: running.http_addr().map_or(0, |a| a.port()),
            mqtt_port: running.mqtt_addr().map_or(0, |a| a.port()),
            // Not reported by a running server: a reload that names them keeps them
            // ephemeral.
            leaf_port: 0,
            cluster_port: 0,
            ephemeral: false,
            certs: certs.dir.clone(),
        }
    }

    fn port(&self, p: u16) -> String {
        if self.ephemeral || p == 0 {
            "-1".to_owned()
        } else {
            p.to_string()
        }
    }

    /// The port called `name` (one of [`crate::fixture::topology::PORT_NAMES`]).
    pub fn named(&self, name: &str) -> Option<u16> {
        Some(match name {
            "client_port" => self.client_port,
            "ws_port" => self.ws_port,
            "leaf_port" => self.leaf_port,
            "http_port" => self.http_port,
            "cluster_port" => self.cluster_port,
            "mqtt_port" => self.mqtt_port,
            _ => return None,
        })
    }

    /// Replaces the placeholders in `template`.
    pub fn render(&self, template: &str) -> String {
        template
            .replace("{client_port}", &self.port(self.client_port))
            .replace("{ws_port}", &self.port(self.ws_port))
            .replace("{http_port}", &self.port(self.http_port))
            .replace("{mqtt_port}", &self.port(self.mqtt_port))
            .replace("{leaf_port}", &self.port(self.leaf_port))
            .replace("{cluster_port}", &self.port(self.cluster_port))
            .replace("{certs}", &self.certs.display().to_string())
    }
}

/// A port the OS had free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Whether a failure is a port that was free when picked but taken when bound (see
/// [`Placeholders::new`]).
pub fn port_clash(failure: &str) -> bool {
    let f = failure.to_ascii_lowercase();
    f.contains("address already in use") || f.contains("addrinuse")
}

/// Waits until something accepts connections on `addr`.
pub fn wait_listening(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A server process started from a command line.
#[derive(Debug)]
pub struct External {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    ws: SocketAddr,
    client: SocketAddr,
    /// `{http_port}`.
    http: Option<SocketAddr>,
    mqtt: SocketAddr,
    conf: PathBuf,
    ports: Placeholders,
}

impl External {
    /// Writes `config` to `dir/<name>.conf` and starts `cmd` on it; started when its
    /// websocket port accepts connections.
    pub fn start(
        cmd: &str,
        config: &str,
        ports: &Placeholders,
        dir: &Path,
        name: &str,
    ) -> Result<External, String> {
        let ws = SocketAddr::from(([127, 0, 0, 1], ports.ws_port));
        External::start_ready(cmd, config, ports, dir, name, &[ws])
    }

    /// As [`External::start`], started when each of `ready` accepts connections.
    pub fn start_ready(
        cmd: &str,
        config: &str,
        ports: &Placeholders,
        dir: &Path,
        name: &str,
        ready: &[SocketAddr],
    ) -> Result<External, String> {
        // Where `{http_port}` points, whether or not the configuration uses it (a GET then
        // finds nothing listening, as it should).
        let http = Some(SocketAddr::from(([127, 0, 0, 1], ports.http_port)));
        let conf = dir.join(format!("{name}.conf"));
        std::fs::write(&conf, config).map_err(|e| e.to_string())?;
        let line = cmd.replace("{conf}", &conf.display().to_string());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {line}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {line:?}: {e}"))?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                let mut reader = std::io::BufReader::new(pipe);
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    while let Some(i) = text.find('\n') {
                        let line: String = text.drain(..=i).collect();
                        if let Ok(mut l) = logs.lock() {
                            l.push(line.trim_end().to_owned());
                        }
                    }
                }
            });
        }
        let ws = SocketAddr::from(([127, 0, 0, 1], ports.ws_port));
        let client = SocketAddr::from(([127, 0, 0, 1], ports.client_port));
        let mqtt = SocketAddr::from(([127, 0, 0, 1], ports.mqtt_port));
        let mut ext = External {
            child,
            logs,
            ws,
            client,
            http,
            mqtt,
            conf,
            ports: ports.clone(),
        };
        // A process that exits at start (a bad configuration, a port in use) is a
        // failed start even if something else answers on its port.
        // The exit is checked while waiting, and the first check is only after a pause.
        std::thread::sleep(Duration::from_millis(100));
        let deadline = Instant::now() + START_TIMEOUT;
        for addr in ready {
            loop {
                if let Ok(Some(status)) = ext.child.try_wait() {
                    std::thread::sleep(Duration::from_millis(50));
                    return Err(format!(
                        "{line:?} exited at start ({status}); output: {:?}",
                        ext.logs()
                    ));
                }
                if TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if Instant::now() >= deadline {
                    let logs = ext.logs();
                    let _ = ext.child.kill();
                    let _ = ext.child.wait();
                    return Err(format!(
                        "{line:?} did not listen on {addr} within {START_TIMEOUT:?}; output: {logs:?}"
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(ext)
    }

    /// The server's process id (`sh -c "exec CMD"` makes it the command's own).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Running for External {
    fn ws_addr(&self) -> Option<SocketAddr> {
        Some(self.ws)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        Some(self.client)
    }
    fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }
    fn mqtt_addr(&self) -> Option<SocketAddr> {
        Some(self.mqtt)
    }
    fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
    fn connections(&self) -> Option<Vec<ConnView>> {
        None
    }
    fn reload(&mut self, config: &str) -> Result<(), String> {
        std::fs::write(&self.conf, self.ports.render(config)).map_err(|e| e.to_string())?;
        let status = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("kill -HUP failed: {status}"));
        }
        // The process reports reload errors only in its log: give it a moment.
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    }
    fn stop(mut self: Box<Self>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An already running server: starts nothing, stops nothing, and ignores the fixture's
/// configuration, so cases whose outcome depends on that configuration (auth, TLS,
/// compression, limits, reloads) may fail against it. Loopback addresses only.
#[derive(Debug)]
pub struct Fixed {
    ws: SocketAddr,
    client: Option<SocketAddr>,
}

impl Fixed {
    /// Checks that `ws` is a loopback address that accepts connections.
    pub fn new(ws: SocketAddr, client: Option<SocketAddr>) -> Result<Fixed, String> {
        if let Some(a) = std::iter::once(ws)
            .chain(client)
            .find(|a| !a.ip().is_loopback())
        {
            return Err(format!(
                "{a} is not a loopback address; fixed targets must be local"
            ));
        }
        if !wait_listening(ws, Duration::from_secs(2)) {
            return Err(format!("nothing accepts connections on {ws}"));
        }
        Ok(Fixed { ws, client })
    }
}

impl Running for Fixed {
    fn ws_addr(&self) -> Option<SocketAddr> {
        Some(self.ws)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        self.client
    }
    fn http_addr(&self) -> Option<SocketAddr> {
        None
    }
    fn logs(&self) -> Vec<String> {
        Vec::new()
    }
    fn connections(&self) -> Option<Vec<ConnView>> {
        None
    }
    fn reload(&mut self, _config: &str) -> Result<(), String> {
        Err("a fixed target cannot be reconfigured".to_owned())
    }
    fn stop(self: Box<Self>) {}
}
