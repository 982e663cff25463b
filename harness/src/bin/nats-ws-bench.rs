//! `nats-ws-bench`: the Go server's 48 `Benchmark_WS_*` cells (plus idle connections and
//! request/reply latency) against any NATS-over-WebSocket server, side by side.
//!
//! ```text
//! nats-ws-bench --server go='nats-server -c {conf}' --server nats-ws='nats-ws-server -c {conf}' \
//!     --reps 3 --duration-ms 1000 --tls off --json out.json
//! nats-ws-bench --ws ws://127.0.0.1:8080 --nats nats://127.0.0.1:4222 --cells Pubx1_CN
//! nats-ws-bench --sink --tls off                # the client alone, against a trivial sink
//! nats-ws-bench --server go='...' --idle 1000 --idle 10000
//! nats-ws-bench --server go='...' --latency
//! nats-ws-bench --leafnode go='nats-server -c {conf}|nats-server -c {conf}' \
//!     --leafnode nats-ws='nats-ws-server -c {conf}|nats-server -c {conf}' --messages 200000
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use nats_ws_harness::bench::cells::{self, Amount, RunOpts};
use nats_ws_harness::bench::report::{self, CellRun, IdleRun, LatencyRun, Meta, Report};
use nats_ws_harness::bench::target::{Listen, ServerSpec, Started, Tls};
use nats_ws_harness::bench::{Cell, PayloadKind, Rng, idle, latency, leaf, median, payload};
use nats_ws_harness::peer::TlsClient;

#[derive(Debug, Parser)]
#[command(
    name = "nats-ws-bench",
    about = "The Go server's Benchmark_WS_* matrix, idle connections and latency, against any NATS-over-WebSocket server",
    after_help = "Cells are named as in Go (Benchmark_WS_Pubx1_CN___128b). msgs/s counts every \
message handled: pub = PUBs ingested over all connections, sub = MSGs delivered to all \
subscribers; every counted MSG is verified byte for byte. Ratios are to the first --server."
)]
struct Args {
    /// A server to start per cell: NAME='CMD {conf}' ({conf} = generated configuration
    /// path). Repeat to compare; runs alternate between servers. The first is the baseline.
    #[arg(long = "server", value_name = "NAME=CMD")]
    servers: Vec<String>,
    /// Shorthand for one --server named "server".
    #[arg(long = "server-cmd", value_name = "CMD")]
    server_cmd: Option<String>,
    /// A running server's WebSocket URL (ws:// or wss://, loopback); needs --nats.
    #[arg(long)]
    ws: Option<String>,
    /// A running server's NATS URL (nats://, loopback).
    #[arg(long)]
    nats: Option<String>,
    /// CA certificate (PEM) for a running wss:// server.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Process id of the running server (for idle RSS/CPU).
    #[arg(long)]
    pid: Option<u32>,
    /// Run against the in-process trivial sink: the client's own ceiling.
    #[arg(long)]
    sink: bool,
    /// Only cells whose name contains one of these (e.g. Pubx1_CN, CY_32768b).
    #[arg(long = "cells", value_name = "SUBSTR")]
    cells: Vec<String>,
    /// TLS on the WebSocket listener (Go's benchmarks use TLS).
    #[arg(long, value_enum, default_value = "on")]
    tls: OnOff,
    /// Payload bytes: random (what Go's generators produce) or text (runs of 20).
    #[arg(long, value_enum, default_value = "random")]
    payload: PayloadKind,
    /// Publish for this long per cell (ignored with --messages).
    #[arg(long, default_value_t = 1000)]
    duration_ms: u64,
    /// Publish exactly this many messages per publisher per cell (Go's b.N).
    #[arg(long)]
    messages: Option<u64>,
    /// Repetitions of every cell (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Sub cells: the publisher stays at most this many bytes ahead of the slowest
    /// subscriber (0 = unpaced, like Go's benchmark).
    #[arg(long, default_value_t = 8 << 20)]
    window_bytes: usize,
    /// Idle mode: open this many WebSocket connections and measure RSS/CPU (repeatable).
    #[arg(long = "idle", value_name = "N")]
    idle: Vec<usize>,
    /// Idle/latency: compression off, on, or both.
    #[arg(long, value_enum, default_value = "both")]
    compression: Compress,
    /// Latency mode: request/reply round trips, idle then under load.
    #[arg(long)]
    latency: bool,
    /// Latency: publishing connections loading the server.
    #[arg(long, default_value_t = 2)]
    load_conns: usize,
    /// Also run the matrix when --idle or --latency is given.
    #[arg(long)]
    matrix: bool,
    /// Write the full report (every run, medians, ratios) as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the Markdown summary table here too.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Leafnode mode: NAME='LEAF_CMD|HUB_CMD' ({conf} in each): a publisher on the leaf, a
    /// subscriber on the hub, messages crossing the leafnode. Repeat to compare; the first
    /// is the baseline. Uses --messages (default 100000), --reps, --payload, --window-bytes.
    #[arg(long = "leafnode", value_name = "NAME=LEAF_CMD|HUB_CMD")]
    leafnodes: Vec<String>,
    /// Leafnode mode: how the leaf reaches the hub (repeatable; default ws and tcp).
    #[arg(long = "leaf-transport", value_enum)]
    leaf_transports: Vec<leaf::Transport>,
    /// Leafnode mode: payload sizes (repeatable; default 128 and 8192).
    #[arg(long = "leaf-size")]
    leaf_sizes: Vec<usize>,
    /// Seed for payloads and mask keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Compress {
    Off,
    On,
    Both,
}

fn loopback(url: &str, schemes: &[&str]) -> Result<(SocketAddr, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url}: no scheme"))?;
    if !schemes.contains(&scheme) {
        return Err(format!("{url}: scheme must be one of {schemes:?}"));
    }
    let host = rest.trim_end_matches('/');
    let host = host.replace("localhost", "127.0.0.1");
    let addr: SocketAddr = host
        .parse()
        .map_err(|e| format!("{url}: {e} (give ip:port)"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{url}: loopback only"));
    }
    Ok((addr, scheme.to_owned()))
}

fn specs(args: &Args) -> Result<Vec<ServerSpec>, String> {
    let mut out = Vec::new();
    for s in &args.servers {
        let (name, cmd) = s
            .split_once('=')
            .ok_or_else(|| format!("--server {s:?}: want NAME=CMD"))?;
        out.push(ServerSpec::Command {
            name: name.to_owned(),
            cmd: cmd.to_owned(),
        });
    }
    if let Some(cmd) = &args.server_cmd {
        out.push(ServerSpec::Command {
            name: "server".to_owned(),
            cmd: cmd.clone(),
        });
    }
    match (&args.ws, &args.nats) {
        (Some(ws), Some(nats)) => {
            let (ws, scheme) = loopback(ws, &["ws", "wss"])?;
            let (nats, _) = loopback(nats, &["nats", "tcp"])?;
            out.push(ServerSpec::Urls {
                name: "running".to_owned(),
                ws,
                wss: scheme == "wss",
                nats,
                pid: args.pid,
            });
        }
        (None, None) => {}
        _ => return Err("--ws and --nats go together".to_owned()),
    }
    if args.sink {
        out.push(ServerSpec::Sink);
    }
    if out.is_empty() {
        return Err(
            "no target: give --server NAME=CMD, --server-cmd, --ws/--nats, or --sink".into(),
        );
    }
    Ok(out)
}

fn tls_material(args: &Args, dir: &std::path::Path) -> Result<Tls, String> {
    let mut tls = Tls::generate(&dir.join("certs"))?;
    if let Some(ca) = &args.ca {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
            roots
                .add(c.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        tls.client = TlsClient {
            config: Arc::new(config),
            server_name: "127.0.0.1".to_owned(),
        };
    }
    Ok(tls)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("nats-ws-bench-{}", std::process::id()));
    let result = run(&args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("nats-ws-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Starts a server, retrying twice: a free port picked for it can be taken by another
/// process before the server binds it.
fn start(
    spec: &ServerSpec,
    listen: Listen,
    tls: &Tls,
    dir: &std::path::Path,
) -> Result<Started, String> {
    let mut last = String::new();
    for _ in 0..3 {
        match Started::start(spec, listen, tls, dir) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Leafnode mode: every pair, transport and size, `--reps` times (pairs alternating);
/// medians and the ratio to the first pair.
fn run_leafnodes(args: &Args, dir: &std::path::Path) -> Result<bool, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let certs = nats_ws_harness::certs::Certs::generate(&dir.join("certs"))?;
    let pairs = args
        .leafnodes
        .iter()
        .map(|p| leaf::Pair::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let transports = if args.leaf_transports.is_empty() {
        vec![leaf::Transport::Ws, leaf::Transport::Tcp]
    } else {
        args.leaf_transports.clone()
    };
    let sizes = if args.leaf_sizes.is_empty() {
        vec![128, 8192]
    } else {
        args.leaf_sizes.clone()
    };
    let messages = args.messages.unwrap_or(100_000);
    let mut runs: Vec<leaf::LeafRun> = Vec::new();
    let mut all_ok = true;
    for rep in 0..args.reps {
        for &transport in &transports {
            for &size in &sizes {
                let body = payload(args.payload, size, &mut Rng::new(args.seed));
                let mut order: Vec<&leaf::Pair> = pairs.iter().collect();
                if rep % 2 == 1 {
                    order.reverse();
                }
                for pair in order {
                    let r = leaf::run(
                        pair,
                        transport,
                        &body,
                        messages,
                        args.window_bytes.max(1 << 16),
                        &certs,
                        dir,
                    );
                    match r {
                        Ok(r) => {
                            eprintln!(
                                "[leaf {}/{}] {:?} {size}b {:<10} {:.0} msgs/s",
                                rep + 1,
                                args.reps,
                                transport,
                                pair.name,
                                r.msgs_per_sec
                            );
                            runs.push(r);
                        }
                        Err(e) => {
                            all_ok = false;
                            eprintln!("[leaf] {:?} {size}b {} FAILED: {e}", transport, pair.name);
                        }
                    }
                }
            }
        }
    }
    let mut md = format!(
        "Messages crossing a leafnode (publisher on the leaf, subscriber on the hub), {messages} \
         messages of each size, median of {} runs, msgs/s (ratio to {})\n\n| transport | size |",
        args.reps,
        pairs.first().map_or("", |p| p.name.as_str())
    );
    for p in &pairs {
        md.push_str(&format!(" {} |", p.name));
    }
    md.push_str("\n|---|---|");
    md.push_str(&"---|".repeat(pairs.len()));
    md.push('\n');
    for &transport in &transports {
        for &size in &sizes {
            let med = |name: &str| {
                let v: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.pair == name && r.transport == transport && r.size == size)
                    .map(|r| r.msgs_per_sec)
                    .collect();
                median(&v)
            };
            let base = pairs.first().map_or(0.0, |p| med(&p.name));
            md.push_str(&format!("| {transport:?} | {size} B |"));
            for p in &pairs {
                let m = med(&p.name);
                let ratio = if base > 0.0 { m / base } else { 0.0 };
                md.push_str(&format!(" {:.1}k ({ratio:.2}×) |", m / 1000.0));
            }
            md.push('\n');
        }
    }
    println!("{md}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &md).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&runs).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| e.to_string())?;
    }
    Ok(all_ok)
}

/// Runs everything asked; Ok(false) if any run failed.
fn run(args: &Args, dir: &std::path::Path) -> Result<bool, String> {
    if !args.leafnodes.is_empty() {
        return run_leafnodes(args, dir);
    }
    let specs = specs(args)?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tls_on = args.tls == OnOff::On;
    let tls = tls_material(args, dir)?;
    let names: Vec<String> = specs.iter().map(|s| s.name().to_owned()).collect();
    let amount = match args.messages {
        Some(m) => Amount::Messages(m),
        None => Amount::Duration(Duration::from_millis(args.duration_ms)),
    };
    let meta = Meta {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        servers: names.clone(),
        tls: tls_on,
        payload: args.payload,
        reps: args.reps,
        amount: match amount {
            Amount::Messages(m) => format!("{m} messages"),
            Amount::Duration(d) => format!("{} ms", d.as_millis()),
        },
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    let compressions: Vec<bool> = match args.compression {
        Compress::Off => vec![false],
        Compress::On => vec![true],
        Compress::Both => vec![false, true],
    };
    let modes_given = !args.idle.is_empty() || args.latency;
    let mut all_ok = true;

    let mut runs = Vec::new();
    if !modes_given || args.matrix {
        let cells: Vec<Cell> = Cell::all()
            .into_iter()
            .filter(|c| args.cells.is_empty() || args.cells.iter().any(|f| c.name().contains(f)))
            .collect();
        if cells.is_empty() {
            return Err("no cell matches --cells".to_owned());
        }
        for rep in 0..args.reps {
            for (ci, cell) in cells.iter().enumerate() {
                let mut rng = Rng::new(args.seed.wrapping_add(cell.size as u64));
                let body = payload(args.payload, cell.size, &mut rng);
                let mut order: Vec<usize> = (0..specs.len()).collect();
                if (rep + ci) % 2 == 1 {
                    order.reverse();
                }
                for si in order {
                    let spec = &specs[si];
                    let listen = Listen {
                        tls: tls_on,
                        compress: cell.compress,
                    };
                    let opts = RunOpts {
                        amount,
                        window_bytes: args.window_bytes,
                        seed: args.seed.wrapping_mul(31).wrapping_add(rep as u64),
                        verify: !matches!(spec, ServerSpec::Sink),
                    };
                    let outcome = start(spec, listen, &tls, dir).and_then(|started| {
                        let r = cells::run(&started, *cell, &body, &opts).map_err(|e| {
                            let logs = started.logs();
                            if logs.is_empty() {
                                e
                            } else {
                                format!("{e}; server log tail: {logs}")
                            }
                        });
                        started.stop();
                        r
                    });
                    let (measured, error) = match outcome {
                        Ok(m) => {
                            eprintln!(
                                "[{}/{}] {:<30} {:<10} {:>9} msgs/s  {:>9.0} ns/op  verified {}",
                                rep + 1,
                                args.reps,
                                cell.name(),
                                spec.name(),
                                report::rate(m.msgs_per_sec),
                                m.ns_per_op,
                                m.verified
                            );
                            (Some(m), None)
                        }
                        Err(e) => {
                            all_ok = false;
                            eprintln!(
                                "[{}/{}] {:<30} {:<10} FAILED: {e}",
                                rep + 1,
                                args.reps,
                                cell.name(),
                                spec.name()
                            );
                            (None, Some(e))
                        }
                    };
                    runs.push(CellRun {
                        server: spec.name().to_owned(),
                        rep,
                        name: cell.name(),
                        cell: *cell,
                        measured,
                        error,
                    });
                }
            }
        }
    }

    let mut idle_runs = Vec::new();
    for rep in 0..if args.idle.is_empty() { 0 } else { args.reps } {
        for &n in &args.idle {
            for &compress in &compressions {
                let mut order: Vec<usize> = (0..specs.len()).collect();
                if rep % 2 == 1 {
                    order.reverse();
                }
                for si in order {
                    let spec = &specs[si];
                    let listen = Listen {
                        tls: tls_on,
                        compress,
                    };
                    let outcome = start(spec, listen, &tls, dir).and_then(|s| {
                        let r = idle::run(
                            &s,
                            n,
                            compress,
                            Duration::from_secs(2),
                            Duration::from_secs(3),
                        );
                        s.stop();
                        r
                    });
                    match &outcome {
                        Ok(r) => eprintln!(
                            "[idle {}/{}] {n} conns compress={compress} {:<10} rss {:.1} MiB (+{:.0} B/conn) idle cpu {:.1}% open {:.1}s alive {}",
                            rep + 1,
                            args.reps,
                            spec.name(),
                            r.rss as f64 / 1048576.0,
                            r.rss_per_conn,
                            r.idle_cpu_percent,
                            r.open_secs,
                            r.alive
                        ),
                        Err(e) => {
                            all_ok = false;
                            eprintln!("[idle] {n} conns {} FAILED: {e}", spec.name());
                        }
                    }
                    let (result, error) = match outcome {
                        Ok(r) => (Some(r), None),
                        Err(e) => (None, Some(e)),
                    };
                    idle_runs.push(IdleRun {
                        server: spec.name().to_owned(),
                        rep,
                        tls: tls_on,
                        result,
                        error,
                    });
                }
            }
        }
    }

    let mut latency_runs = Vec::new();
    for rep in 0..if args.latency { args.reps } else { 0 } {
        for &compress in &compressions {
            let mut order: Vec<usize> = (0..specs.len()).collect();
            if rep % 2 == 1 {
                order.reverse();
            }
            for si in order {
                let spec = &specs[si];
                let listen = Listen {
                    tls: tls_on,
                    compress,
                };
                let outcome = start(spec, listen, &tls, dir).and_then(|s| {
                    let r = latency::run(
                        &s,
                        compress,
                        Duration::from_millis(args.duration_ms.max(500)),
                        args.load_conns,
                    );
                    s.stop();
                    r
                });
                let (phases, error) = match outcome {
                    Ok(p) => {
                        for ph in &p {
                            eprintln!(
                                "[latency {}/{}] compress={compress} {:<10} {:<6} p50 {:.0} µs p99 {:.0} µs ({} samples, load {} msgs/s)",
                                rep + 1,
                                args.reps,
                                spec.name(),
                                ph.phase,
                                ph.p50_us,
                                ph.p99_us,
                                ph.samples,
                                report::rate(ph.load_msgs_per_sec)
                            );
                        }
                        (p, None)
                    }
                    Err(e) => {
                        all_ok = false;
                        eprintln!("[latency] {} FAILED: {e}", spec.name());
                        (Vec::new(), Some(e))
                    }
                };
                latency_runs.push(LatencyRun {
                    server: spec.name().to_owned(),
                    rep,
                    tls: tls_on,
                    compress,
                    phases,
                    error,
                });
            }
        }
    }

    let summary = report::summarize(&runs, &names);
    if !summary.is_empty() {
        let table = report::markdown(&summary, &names);
        println!("{table}");
        if let Some(p) = &args.markdown {
            std::fs::write(p, &table).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    let rep = Report {
        meta,
        runs,
        summary,
        idle: idle_runs,
        latency: latency_runs,
    };
    if let Some(p) = &args.json {
        let text = serde_json::to_string_pretty(&rep).map_err(|e| e.to_string())?;
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(all_ok)
}
