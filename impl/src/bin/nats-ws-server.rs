//! `nats-ws-server`: a NATS server with a WebSocket listener.
//!
//! ```text
//! nats-ws-server                      # client 127.0.0.1:4222, websocket ws://127.0.0.1:8080
//! nats-ws-server -c server.conf       # the NATS configuration format
//! nats-ws-server -p 4333 --ws_port 8443 -DV
//! ```
//! SIGINT/SIGTERM shut down gracefully (WebSocket clients get close 1001 `Server
//! Shutdown`); SIGHUP reloads the configuration file (TLS certificates).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nats_ws::options::ServerOpts;
use nats_ws::server::{Server, tracing_sink};

/// Default websocket port when no configuration file is given.
const DEFAULT_WS_PORT: i64 = 8080;

#[derive(Debug, Parser)]
#[command(
    name = "nats-ws-server",
    about = "A NATS server with a WebSocket listener",
    disable_version_flag = true
)]
struct Args {
    /// Configuration file.
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
    /// Bind to host address (default 127.0.0.1 without a configuration file).
    #[arg(short = 'a', long = "addr", alias = "net")]
    addr: Option<String>,
    /// Use port for clients (default 4222; -1 = ephemeral).
    #[arg(short = 'p', long = "port", allow_hyphen_values = true)]
    port: Option<i64>,
    /// Port for websocket clients (default 8080 without a configuration file; -1 = ephemeral).
    #[arg(long = "ws_port", allow_hyphen_values = true)]
    ws_port: Option<i64>,
    /// Enable debug output.
    #[arg(short = 'D', long = "debug")]
    debug: bool,
    /// Enable protocol trace output.
    #[arg(short = 'V', long = "trace")]
    trace: bool,
}

fn load(args: &Args) -> Result<ServerOpts, String> {
    let mut opts = match &args.config {
        Some(path) => {
            let loaded = ServerOpts::from_file(path).map_err(|e| e.to_string())?;
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            loaded.opts
        }
        None => {
            let mut o = ServerOpts::default();
            o.host = "127.0.0.1".to_owned();
            o.websocket.host = "127.0.0.1".to_owned();
            o.websocket.port = DEFAULT_WS_PORT;
            o.websocket.no_tls = true;
            o
        }
    };
    if let Some(a) = &args.addr {
        opts.host.clone_from(a);
    }
    if let Some(p) = args.port {
        opts.port = p;
    }
    if let Some(p) = args.ws_port {
        opts.websocket.port = p;
        if opts.websocket.host.is_empty() {
            opts.websocket.host.clone_from(&opts.host);
        }
        if opts.websocket.tls.is_none() {
            opts.websocket.no_tls = true;
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = if args.trace {
        "trace"
    } else if args.debug {
        "debug"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .init();
    let opts = match load(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nats-ws-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nats-ws-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args, opts))
}

async fn run(args: Args, opts: ServerOpts) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    let server = match Server::start(opts, tracing_sink()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nats-ws-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        eprintln!("nats-ws-server: cannot install signal handlers");
        server.shutdown().await;
        return ExitCode::FAILURE;
    };
    let mut status = ExitCode::SUCCESS;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            line = server.fatal_error() => {
                // Go: Fatalf exits the process; ours closes its connections first.
                eprintln!("nats-ws-server: {line}");
                status = ExitCode::FAILURE;
                break;
            }
            _ = hup.recv() => {
                match load(&args) {
                    Ok(o) => if let Err(e) = server.reload(o).await {
                        tracing::error!("{e}");
                    },
                    Err(e) => tracing::error!("{e}"),
                }
            }
        }
    }
    if status == ExitCode::SUCCESS {
        tracing::info!("Trapped signal; shutting down");
    }
    server.shutdown().await;
    status
}
