//! The server under test: started fresh per cell from a command line with a generated
//! configuration on free loopback ports (as Go's `RunServer` per benchmark), or an
//! already-running server given by URLs. Also RSS and CPU time from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use crate::bench::conn::Endpoint;
use crate::certs::Certs;
use crate::peer::TlsClient;
use crate::target::{Placeholders, START_TIMEOUT, wait_listening};

/// How to reach a server.
#[derive(Debug, Clone)]
pub enum ServerSpec {
    /// `CMD {conf}`, started per cell.
    Command {
        /// Report name.
        name: String,
        /// The command line; `{conf}` becomes the configuration path.
        cmd: String,
    },
    /// Already running.
    Urls {
        /// Report name.
        name: String,
        /// `ws://` or `wss://` address.
        ws: SocketAddr,
        /// Whether the WebSocket listener is TLS.
        wss: bool,
        /// `nats://` address.
        nats: SocketAddr,
        /// Its process id, for RSS/CPU.
        pid: Option<u32>,
    },
    /// The in-process trivial sink (client headroom).
    Sink,
}

impl ServerSpec {
    /// The report name.
    pub fn name(&self) -> &str {
        match self {
            ServerSpec::Command { name, .. } | ServerSpec::Urls { name, .. } => name,
            ServerSpec::Sink => "sink",
        }
    }
}

/// Listener settings for one run.
#[derive(Debug, Clone, Copy)]
pub struct Listen {
    /// TLS on the WebSocket listener.
    pub tls: bool,
    /// `compression: true`.
    pub compress: bool,
}

/// The generated configuration (NATS format, read by both servers).
pub fn config(listen: Listen, ports: &Placeholders, certs: &Path) -> String {
    let tls = if listen.tls {
        format!(
            "tls {{\n    cert_file: \"{0}/server-cert.pem\"\n    key_file: \"{0}/server-key.pem\"\n  }}",
            certs.display()
        )
    } else {
        "no_tls: true".to_owned()
    };
    format!(
        "listen: 127.0.0.1:{}\nwebsocket {{\n  listen: \"127.0.0.1:{}\"\n  {tls}\n  compression: {}\n}}\n",
        ports.client_port, ports.ws_port, listen.compress
    )
}

/// A server for one run.
pub struct Started {
    /// WebSocket endpoint.
    pub ws: Endpoint,
    /// NATS endpoint (plain TCP).
    pub nats: Endpoint,
    /// Process id, when known.
    pub pid: Option<u32>,
    process: Option<Process>,
    sink: Option<crate::bench::sink::Sink>,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("ws", &self.ws.addr)
            .field("nats", &self.nats.addr)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// Shared TLS material for the run.
#[derive(Debug, Clone)]
pub struct Tls {
    /// Generated certificates.
    pub certs: Certs,
    /// Client settings trusting them.
    pub client: TlsClient,
}

impl Tls {
    /// Generates certificates into `dir`.
    pub fn generate(dir: &Path) -> Result<Tls, String> {
        let certs = Certs::generate(dir)?;
        let config = certs.client_config(false)?;
        Ok(Tls {
            certs,
            client: TlsClient {
                config,
                server_name: "127.0.0.1".to_owned(),
            },
        })
    }
}

impl Started {
    /// Starts (or attaches to) the server for one run.
    pub fn start(
        spec: &ServerSpec,
        listen: Listen,
        tls: &Tls,
        dir: &Path,
    ) -> Result<Started, String> {
        let ws_tls = |on: bool| on.then(|| tls.client.clone());
        match spec {
            ServerSpec::Command { name, cmd } => {
                let ports = Placeholders::new(&tls.certs)?;
                let conf = config(listen, &ports, &tls.certs.dir);
                let ext = Process::start(cmd, &conf, dir, &sanitize(name))?;
                let ws = SocketAddr::from(([127, 0, 0, 1], ports.ws_port));
                let nats = SocketAddr::from(([127, 0, 0, 1], ports.client_port));
                let pid = Some(ext.child.id());
                if !wait_listening(ws, START_TIMEOUT) || !wait_listening(nats, START_TIMEOUT) {
                    let logs = ext.logs();
                    ext.stop();
                    return Err(format!("{name} did not listen on {ws} and {nats}: {logs}"));
                }
                Ok(Started {
                    ws: Endpoint {
                        addr: ws,
                        tls: ws_tls(listen.tls),
                    },
                    nats: Endpoint {
                        addr: nats,
                        tls: None,
                    },
                    pid,
                    process: Some(ext),
                    sink: None,
                })
            }
            ServerSpec::Urls {
                ws, wss, nats, pid, ..
            } => Ok(Started {
                ws: Endpoint {
                    addr: *ws,
                    tls: ws_tls(*wss),
                },
                nats: Endpoint {
                    addr: *nats,
                    tls: None,
                },
                pid: *pid,
                process: None,
                sink: None,
            }),
            ServerSpec::Sink => {
                let server_tls = if listen.tls {
                    Some(Arc::new(crate::bench::sink::server_config(&tls.certs.dir)?))
                } else {
                    None
                };
                let sink = crate::bench::sink::Sink::start(listen.compress, server_tls)?;
                Ok(Started {
                    ws: Endpoint {
                        addr: sink.ws_addr(),
                        tls: ws_tls(listen.tls),
                    },
                    nats: Endpoint {
                        addr: sink.nats_addr(),
                        tls: None,
                    },
                    pid: Some(std::process::id()),
                    process: None,
                    sink: Some(sink),
                })
            }
        }
    }

    /// Log lines of a started process (for error reports).
    pub fn logs(&self) -> String {
        self.process.as_ref().map(Process::logs).unwrap_or_default()
    }

    /// Stops what was started.
    pub fn stop(self) {
        if let Some(p) = self.process {
            p.stop();
        }
        if let Some(s) = self.sink {
            s.stop();
        }
    }
}

/// A server process started with `sh -c "exec CMD"`, output to a log file.
#[derive(Debug)]
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(cmd: &str, conf: &str, dir: &Path, name: &str) -> Result<Process, String> {
        let conf_path = dir.join(format!("{name}.conf"));
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let line = cmd.replace("{conf}", &conf_path.display().to_string());
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {line}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {line:?}: {e}"))?;
        Ok(Process { child, log })
    }

    fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Resident set size and CPU time of a process.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ProcStats {
    /// `VmRSS`, bytes.
    pub rss: u64,
    /// user + system CPU seconds.
    pub cpu_secs: f64,
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/stat` (Linux).
pub fn proc_stats(pid: u32) -> Option<ProcStats> {
    let status = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    let stat = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat"))).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform this runs on.
    Some(ProcStats {
        rss: rss_kb * 1024,
        cpu_secs: (utime + stime) / 100.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_stats_are_readable() {
        let s = proc_stats(std::process::id());
        assert!(s.is_some_and(|s| s.rss > 0));
    }

    #[test]
    fn config_has_both_listeners() {
        let ports = Placeholders {
            client_port: 4222,
            ws_port: 8080,
            http_port: 8222,
            mqtt_port: 0,
            leaf_port: 0,
            cluster_port: 0,
            ephemeral: false,
            certs: PathBuf::from("/c"),
        };
        let c = config(
            Listen {
                tls: true,
                compress: true,
            },
            &ports,
            Path::new("/c"),
        );
        assert!(c.contains("listen: 127.0.0.1:4222"));
        assert!(c.contains("\"127.0.0.1:8080\""));
        assert!(c.contains("cert_file: \"/c/server-cert.pem\""));
        assert!(c.contains("compression: true"));
    }
}
