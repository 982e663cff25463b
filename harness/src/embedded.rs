//! The in-process nats-ws server as a fixture target: each case gets its own server on a
//! tokio runtime of its own, started from the case's rendered configuration.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use nats_ws::options::ServerOpts;
use nats_ws::server::{ConnType, LogLevel, Server, ServerHandle};

use crate::run::EmbeddedStarter;
use crate::target::{ConnView, Running};

/// Starts the embedded server for a rendered configuration.
pub fn starter() -> EmbeddedStarter {
    Box::new(|config: &str| Ok(Box::new(Embedded::start(config)?) as Box<dyn Running>))
}

/// A running in-process server.
pub struct Embedded {
    runtime: Option<tokio::runtime::Runtime>,
    handle: Option<ServerHandle>,
    logs: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").finish_non_exhaustive()
    }
}

fn load(config: &str) -> Result<ServerOpts, String> {
    let loaded = ServerOpts::from_str(config, &std::env::temp_dir()).map_err(|e| e.to_string())?;
    loaded.opts.validate().map_err(|e| e.to_string())?;
    Ok(loaded.opts)
}

impl Embedded {
    /// Loads, validates and starts the configuration; log lines are kept for `expect_log`.
    pub fn start(config: &str) -> Result<Embedded, String> {
        let opts = load(config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink_logs = logs.clone();
        let sink = Arc::new(move |level: LogLevel, line: &str| {
            if let Ok(mut l) = sink_logs.lock() {
                l.push(format!("[{level:?}] {line}"));
            }
        });
        let handle = runtime
            .block_on(Server::start(opts, sink))
            .map_err(|e| e.to_string())?;
        Ok(Embedded {
            runtime: Some(runtime),
            handle: Some(handle),
            logs,
        })
    }
}

impl Running for Embedded {
    fn ws_addr(&self) -> Option<SocketAddr> {
        self.handle.as_ref().and_then(ServerHandle::ws_addr)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        self.handle.as_ref().map(ServerHandle::client_addr)
    }
    fn http_addr(&self) -> Option<SocketAddr> {
        self.handle.as_ref().and_then(ServerHandle::http_addr)
    }
    fn mqtt_addr(&self) -> Option<SocketAddr> {
        self.handle.as_ref().and_then(ServerHandle::mqtt_addr)
    }
    fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
    fn connections(&self) -> Option<Vec<ConnView>> {
        let handle = self.handle.as_ref()?;
        Some(
            handle
                .connz()
                .into_iter()
                .map(|c| ConnView {
                    kind: match c.kind {
                        ConnType::Websocket => "websocket".to_owned(),
                        ConnType::Mqtt => "mqtt".to_owned(),
                        ConnType::MqttWebsocket => "mqtt_ws".to_owned(),
                        _ => "client".to_owned(),
                    },
                    user: c.user.unwrap_or_default(),
                    account: c.account.unwrap_or_default(),
                    client_ip: c.client_ip.unwrap_or_default(),
                })
                .collect(),
        )
    }
    fn reload(&mut self, config: &str) -> Result<(), String> {
        let opts = load(config)?;
        let (Some(rt), Some(handle)) = (&self.runtime, &self.handle) else {
            return Err("server stopped".to_owned());
        };
        rt.block_on(handle.reload(opts)).map_err(|e| e.to_string())
    }
    fn close_all(&self, state: nats_ws::frame::ClosedState) -> Result<(), String> {
        let handle = self.handle.as_ref().ok_or("server stopped")?;
        for c in handle.connz() {
            handle.close_connection(c.cid, state);
        }
        Ok(())
    }
    fn break_ws_listener(&self) -> Result<(), String> {
        let handle = self.handle.as_ref().ok_or("server stopped")?;
        handle.break_ws_listener().map_err(|e| e.to_string())
    }
    fn stop(mut self: Box<Self>) {
        if let (Some(rt), Some(handle)) = (self.runtime.take(), self.handle.take()) {
            rt.block_on(handle.shutdown());
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}
