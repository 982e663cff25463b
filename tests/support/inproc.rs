//! Our server started in this test process from configuration text, its log lines printed
//! (cargo shows them only for a failing test).

#![allow(clippy::expect_used)]

use std::path::Path;

use nats_ws::options::ServerOpts;
use nats_ws::server::{LogLevel, LogSink, Server, ServerHandle};

/// Parses `config` as a configuration file and starts the server on this runtime.
pub async fn start(config: &str) -> ServerHandle {
    let opts = ServerOpts::from_str(config, Path::new("."))
        .expect("config")
        .opts;
    let sink: LogSink = std::sync::Arc::new(|level: LogLevel, line: &str| {
        eprintln!("[server {level:?}] {line}");
    });
    Server::start(opts, sink).await.expect("start")
}
