//! `nats-ws-server`: a NATS server with a WebSocket listener, started like `nats-server`.
//!
//! ```text
//! nats-ws-server                              # client 127.0.0.1:4222, websocket ws://127.0.0.1:8080
//! nats-ws-server -c server.conf               # the NATS configuration format
//! nats-ws-server -p -1 -l log.txt -P pid.txt  # Go's flags: see --help
//! ```
//! The command line is Go's (`nats_ws::cli`); logs go to stderr, `-l` (rotated at
//! `log_size_limit`) or syslog (`-s`, `-r`) in Go's format. SIGINT/SIGTERM shut down
//! gracefully (WebSocket clients get close 1001 `Server Shutdown`); SIGHUP reloads the
//! configuration file (TLS certificates); SIGUSR1 reopens the log file; SIGUSR2 enters
//! lame duck mode. `--signal <sig>=<pid|pidfile>` sends them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use nats_ws::cli::CommandLine;
use nats_ws::options::{ConfigError, OptionError, ProcessErrors, ServerOpts, TlsConfig};
use nats_ws::server::{
    GoLogger, LogDestination, LogLevel, LogOptions, LogSink, Rotation, Server, ServerHandle,
    SyslogTarget, Timestamps,
};

/// Default websocket port when neither a configuration file nor `--ws_port` sets one.
const DEFAULT_WS_PORT: i64 = 8080;

/// The name this program prints before its own errors (Go: `nats-server: ...`).
const NAME: &str = "nats-ws-server";

fn main() -> ExitCode {
    let cl = match CommandLine::parse(std::env::args().skip(1)) {
        Ok(cl) => cl,
        Err(e) => {
            // Go's flag package: the error on stderr, the usage on stdout, exit 0.
            eprintln!("{e}");
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
    };
    if cl.version {
        println!("{NAME}: v{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if cl.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if cl.help_tls {
        print!("{TLS_USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Some(flag) = cl.refused.first() {
        eprintln!(
            "{NAME}: --{flag} is not supported: nats-ws does not cluster, route or profile \
             (it joins a NATS deployment as a leafnode)"
        );
        return ExitCode::FAILURE;
    }
    if let Some(signal) = &cl.signal {
        return send_signal(signal);
    }
    if cl.check_config {
        return check_config(&cl);
    }
    let (opts, warnings) = match load(&cl) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Go: ConfigureOptions prints the file's warnings as they are, on stderr, and goes
    // on; our own notices (keys ignored or not honoured) are logged below.
    let (go_warnings, notices): (Vec<_>, Vec<_>) =
        warnings.into_iter().partition(|w| w.reason.is_go());
    for w in &go_warnings {
        eprintln!("{w}");
    }
    // Go: NewServer's validation, reported before any logging is set up.
    if let Err(e) = opts.validate() {
        eprintln!("{NAME}: {e}");
        return ExitCode::FAILURE;
    }
    let logger = match logger(&opts) {
        Ok(l) => l,
        Err(e) => {
            // Go: the standard library logger's `log.Fatalf`, exit 1.
            eprintln!("{} {e}", std_log_time());
            return ExitCode::FAILURE;
        }
    };
    let log = logger.sink();
    for w in &notices {
        log(LogLevel::Warn, &w.to_string());
    }
    if cl.jetstream == Some(true) {
        log(
            LogLevel::Warn,
            "JetStream is not supported by nats-ws: starting without it",
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cl, opts, logger))
}

/// The configuration file's options with the command line's on top (Go:
/// `ConfigureOptions` → `MergeOptions`), and the file's warnings.
fn load(cl: &CommandLine) -> Result<(ServerOpts, Vec<OptionError>), String> {
    let (mut opts, warnings) = match &cl.config {
        Some(path) => {
            let loaded = ServerOpts::from_file(path).map_err(|e| e.to_string())?;
            if let Some(e) = loaded.opts.refused.first() {
                return Err(e.to_string());
            }
            (loaded.opts, loaded.warnings)
        }
        None => {
            let mut o = ServerOpts::default();
            o.host = "127.0.0.1".to_owned();
            if cl.ws_port.is_none() {
                o.websocket.host = "127.0.0.1".to_owned();
                o.websocket.port = DEFAULT_WS_PORT;
                o.websocket.no_tls = true;
            }
            (o, Vec::new())
        }
    };
    if let Some(a) = &cl.host {
        opts.host.clone_from(a);
    }
    if let Some(p) = cl.port {
        opts.port = p;
    }
    if let Some(p) = cl.http_port {
        opts.http_port = p;
    }
    if let Some(p) = cl.https_port {
        opts.https_port = p;
    }
    if let Some(n) = &cl.server_name {
        opts.server_name.clone_from(n);
    }
    if let Some(u) = &cl.user {
        opts.username.clone_from(u);
    }
    if let Some(p) = &cl.pass {
        opts.password.clone_from(p);
    }
    if let Some(t) = &cl.auth {
        opts.token.clone_from(t);
    }
    if let Some(p) = &cl.pid_file {
        opts.pid_file = p.to_string_lossy().into_owned();
    }
    if let Some(d) = &cl.ports_file_dir {
        opts.ports_file_dir = d.to_string_lossy().into_owned();
    }
    if let Some(l) = &cl.log_file {
        opts.log_file = l.to_string_lossy().into_owned();
    }
    if let Some(b) = cl.debug {
        opts.debug = b;
    }
    if let Some(b) = cl.trace {
        opts.trace = b;
    }
    if let Some(b) = cl.trace_verbose {
        opts.trace_verbose = b;
    }
    if let Some(b) = cl.logtime {
        opts.logtime = Some(b);
    }
    if let Some(b) = cl.logtime_utc {
        opts.logtime_utc = b;
    }
    if let Some(n) = cl.max_traced_msg_len {
        opts.max_traced_msg_len = n;
    }
    if let Some(n) = cl.log_size_limit {
        opts.log_size_limit = n;
    }
    if let Some(b) = cl.syslog {
        opts.syslog = b;
    }
    if let Some(r) = &cl.remote_syslog {
        opts.remote_syslog.clone_from(r);
    }
    // Go: --tls or --tlsverify builds the client TLS configuration from the files.
    if cl.tls == Some(true) || cl.tls_verify == Some(true) {
        let mut tls = TlsConfig::default();
        tls.cert_file = cl.tls_cert.clone().unwrap_or_default();
        tls.key_file = cl.tls_key.clone().unwrap_or_default();
        tls.ca_file = cl.tls_ca_cert.clone().unwrap_or_default();
        tls.verify = cl.tls_verify == Some(true);
        tls.timeout = opts.tls_timeout;
        opts.tls = Some(tls);
    }
    if let Some(p) = cl.ws_port {
        opts.websocket.port = p;
        if opts.websocket.host.is_empty() {
            opts.websocket.host.clone_from(&opts.host);
        }
        if opts.websocket.tls.is_none() {
            opts.websocket.no_tls = true;
        }
    }
    Ok((opts, warnings))
}

/// Go's logger (`ConfigureLogger`): the log file, else remote syslog, else local syslog,
/// else stderr (colours only on a terminal). Errors are Go's `log.Fatalf` texts.
fn logger(opts: &ServerOpts) -> Result<Arc<GoLogger>, String> {
    let level = if opts.trace {
        LogLevel::Trace
    } else if opts.debug {
        LogLevel::Debug
    } else {
        LogLevel::Info
    };
    let time = match (opts.logtime.unwrap_or(true), opts.logtime_utc) {
        (false, _) => Timestamps::Off,
        (true, false) => Timestamps::Local,
        (true, true) => Timestamps::Utc,
    };
    let destination = if !opts.log_file.is_empty() {
        LogDestination::File {
            path: PathBuf::from(&opts.log_file),
            rotation: Rotation {
                size_limit: u64::try_from(opts.log_size_limit).unwrap_or(0),
                max_files: usize::try_from(opts.log_max_files).unwrap_or(0),
            },
        }
    } else if !opts.remote_syslog.is_empty() {
        LogDestination::Syslog(SyslogTarget::parse_remote(&opts.remote_syslog)?)
    } else if opts.syslog {
        LogDestination::Syslog(SyslogTarget::Local)
    } else {
        LogDestination::Stderr
    };
    let colors = destination == LogDestination::Stderr && std::io::stderr().is_terminal();
    let file = match &destination {
        LogDestination::File { path, .. } => Some(path.clone()),
        _ => None,
    };
    GoLogger::open(&LogOptions {
        level,
        time,
        colors,
        destination,
    })
    .map_err(|e| match file {
        Some(path) => format!(
            "error opening file: open {}: {}",
            path.display(),
            os_text(&e)
        ),
        None => e.to_string(),
    })
}

/// An OS error as Go words it: lower case, without Rust's ` (os error N)`.
fn os_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Go's standard `log` prefix, `2006/01/02 15:04:05` in local time.
fn std_log_time() -> String {
    jiff::Zoned::now().strftime("%Y/%m/%d %H:%M:%S").to_string()
}

/// `-t`: Go's configuration check.
fn check_config(cl: &CommandLine) -> ExitCode {
    let Some(path) = &cl.config else {
        eprintln!("{NAME}: must specify [-c, --config] option to check configuration file syntax");
        return ExitCode::FAILURE;
    };
    // Go fails `-t` on warnings too (its ConfigureOptions returns any processConfigErr
    // under CheckConfig); our own notices about ignored keys are not Go's and are left
    // to the start log.
    let go_only = |mut errors: ProcessErrors| {
        errors.warnings.retain(|w| w.reason.is_go());
        errors
    };
    let opts = match ServerOpts::from_file(path) {
        Err(ConfigError::Invalid(errors)) => {
            eprintln!("{NAME}: {}", go_only(errors));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::FAILURE;
        }
        Ok(loaded) if loaded.warnings.iter().any(|w| w.reason.is_go()) => {
            let warnings = ProcessErrors {
                warnings: loaded.warnings,
                errors: Vec::new(),
            };
            eprintln!("{NAME}: {}", go_only(warnings));
            return ExitCode::FAILURE;
        }
        Ok(loaded) if !loaded.opts.refused.is_empty() => {
            for e in &loaded.opts.refused {
                eprintln!("{NAME}: {e}");
            }
            return ExitCode::FAILURE;
        }
        Ok(loaded) => loaded.opts,
    };
    eprintln!(
        "{NAME}: configuration file {} is valid ({})",
        path.display(),
        opts.config_digest
    );
    ExitCode::SUCCESS
}

/// `--signal <sig>[=<pid|pidfile>]` (Go: `processSignal`, `ProcessSignal`): without a pid,
/// the one running `nats-ws-server` found by `pgrep`; `<pid>*` signals every match.
/// Errors are Go's texts after `nats-ws-server: `.
fn send_signal(arg: &str) -> ExitCode {
    match process_signal(arg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn process_signal(arg: &str) -> Result<(), String> {
    let parts: Vec<&str> = arg.split('=').collect();
    let (command, pid_expr) = match parts.as_slice() {
        [c] => (*c, String::new()),
        // Go: maybeReadPidFile — the file's contents if it can be read, else the text.
        [c, p] => (
            *c,
            std::fs::read_to_string(p).map_or_else(|_| (*p).to_owned(), |t| t.trim().to_owned()),
        ),
        [_, _, rest @ ..] => {
            return Err(format!("invalid signal parameters: [{}]", rest.join(" ")));
        }
        [] => (arg, String::new()),
    };
    let is_glob = pid_expr.ends_with('*');
    let pid_str = pid_expr.strip_suffix('*').unwrap_or(&pid_expr);
    let mut pids = Vec::new();
    if !pid_str.is_empty() {
        let pid: u32 = pid_str
            .parse()
            .map_err(|_| format!("invalid pid: {pid_str}"))?;
        pids.push(pid);
    }
    if pid_str.is_empty() || is_glob {
        pids = running_pids()?;
    }
    if pids.len() > 1 && !is_glob {
        let list: String = pids.iter().map(|p| format!("\n{p}")).collect();
        return Err(format!("multiple {NAME} processes running:{list}"));
    }
    if pids.is_empty() {
        return Err(format!("no {NAME} processes running"));
    }
    let sig = match command {
        "ldm" => "USR2",
        "stop" => "KILL",
        "quit" => "INT",
        "term" => "TERM",
        "reopen" => "USR1",
        "reload" => "HUP",
        other => return Err(format!("unknown signal {}", nats_ws::goquote::quote(other))),
    };
    let mut errors = String::new();
    for pid in pids {
        let p = pid.to_string();
        if p != pid_str && !pid_str.is_empty() && (!is_glob || !p.starts_with(pid_str)) {
            continue;
        }
        let sent = std::process::Command::new("kill")
            .args([format!("-{sig}"), pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            let why = if Path::new(&format!("/proc/{pid}")).exists() {
                "operation not permitted"
            } else {
                "no such process"
            };
            errors.push_str(&format!(
                "\nsignal {} {pid}: {why}",
                nats_ws::goquote::quote(command)
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Go `resolvePids`: `pgrep <name>`, without this process.
fn running_pids() -> Result<Vec<u32>, String> {
    let resolve = || "unable to resolve pid, try providing one".to_owned();
    let out = std::process::Command::new("pgrep")
        .arg(NAME)
        .output()
        .map_err(|_| resolve())?;
    let me = std::process::id();
    let mut pids = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.is_empty() {
            continue;
        }
        let pid: u32 = line.parse().map_err(|_| resolve())?;
        if pid != me {
            pids.push(pid);
        }
    }
    Ok(pids)
}

async fn run(cl: CommandLine, opts: ServerOpts, logger: Arc<GoLogger>) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    let log: LogSink = logger.sink();
    let ports_dir = opts.ports_file_dir.clone();
    // Handlers first: a signal sent as soon as "Server is ready" is read is trapped.
    let (Ok(mut int), Ok(mut term), Ok(mut hup), Ok(mut usr1), Ok(mut usr2)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
    ) else {
        log(LogLevel::Fatal, "cannot install signal handlers");
        return ExitCode::FAILURE;
    };
    // A start error is logged by Server::start.
    let Ok(server) = Server::start(opts, log.clone()).await else {
        return ExitCode::FAILURE;
    };
    // The pid file is the server's (written at start, left at exit, as in Go).
    let mut written = Vec::new();
    if !ports_dir.is_empty() {
        match write_ports_file(Path::new(&ports_dir), &server) {
            Ok(p) => written.push(p),
            Err(e) => log(LogLevel::Error, &format!("Error writing ports file: {e}")),
        }
    }
    let mut status = ExitCode::SUCCESS;
    // Lame duck mode, once SIGUSR2 started it; it ends with the shutdown.
    let mut lame_duck: Option<std::pin::Pin<Box<dyn std::future::Future<Output = bool> + '_>>> =
        None;
    loop {
        tokio::select! {
            _ = int.recv() => {
                log(LogLevel::Info, "Trapped \"interrupt\" signal");
                break;
            }
            _ = term.recv() => {
                log(LogLevel::Info, "Trapped \"terminated\" signal");
                // Go: SIGTERM does not cut a lame duck shutdown short.
                if lame_duck.is_none() {
                    break;
                }
            }
            _ = usr2.recv() => {
                log(LogLevel::Info, "Trapped \"user defined signal 2\" signal");
                if lame_duck.is_none() {
                    lame_duck = Some(Box::pin(server.lame_duck()));
                }
            }
            shut = async {
                match lame_duck.as_mut() {
                    Some(f) => f.await,
                    None => std::future::pending().await,
                }
            }, if lame_duck.is_some() => {
                if shut {
                    break;
                }
                lame_duck = None;
            }
            line = server.fatal_error() => {
                // Go: Fatalf exits the process; ours closes its connections first.
                let _ = line;
                status = ExitCode::FAILURE;
                break;
            }
            _ = usr1.recv() => {
                log(LogLevel::Info, "Trapped \"user defined signal 1\" signal");
                if let Err(e) = logger.reopen() {
                    log(LogLevel::Error, &format!("File log re-open failed: {e}"));
                }
            }
            _ = hup.recv() => {
                log(LogLevel::Info, "Trapped \"hangup\" signal");
                match load(&cl) {
                    Ok((o, _)) => if let Err(e) = server.reload(o).await {
                        log(LogLevel::Error, &e.to_string());
                    },
                    Err(e) => log(LogLevel::Error, &e),
                }
            }
        }
    }
    drop(lame_duck);
    log(LogLevel::Info, "Initiating Shutdown...");
    server.shutdown().await;
    for path in written {
        let _ = std::fs::remove_file(path);
    }
    status
}

/// Go: `<exe>_<pid>.ports` in `dir`, JSON with the listeners' URLs, written once they are
/// bound (removed at exit).
fn write_ports_file(dir: &Path, server: &ServerHandle) -> std::io::Result<PathBuf> {
    let exe = std::env::args()
        .next()
        .as_deref()
        .and_then(|a| {
            Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| NAME.to_owned());
    let path = dir.join(format!("{exe}_{}.ports", std::process::id()));
    let nats = urls("nats", server.client_addr());
    let mut json = serde_json::json!({ "nats": nats });
    if let Some(http) = server.http_addr() {
        let scheme = if server.http_tls() { "https" } else { "http" };
        json["monitoring"] = serde_json::json!(urls(scheme, http));
    }
    if let Some(ws) = server.ws_addr() {
        let scheme = if server.ws_tls() { "wss" } else { "ws" };
        json["websocket"] = serde_json::json!(urls(scheme, ws));
    }
    std::fs::write(&path, json.to_string())?;
    Ok(path)
}

/// The URLs a listener answers on: its address, or the loopback ones when it listens on
/// every interface (Go lists every interface address; we list only loopback: see
/// docs/CONFORMANCE.md).
fn urls(scheme: &str, addr: std::net::SocketAddr) -> Vec<String> {
    let port = addr.port();
    if addr.ip().is_unspecified() {
        vec![
            format!("{scheme}://127.0.0.1:{port}"),
            format!("{scheme}://[::1]:{port}"),
        ]
    } else {
        vec![format!("{scheme}://{addr}")]
    }
}

/// Go's usage text, with `--ws_port`.
const USAGE: &str = "
Usage: nats-ws-server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-server.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).
        --ws_port <port>             Use port for websocket clients (nats-ws; -1 = random)

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
        --logtime_utc                Timestamps in UTC instead of local timezone (default: false)
    -s, --syslog                     Log to syslog or windows event log
    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality (not supported: a warning)
    -sd, --store_dir <dir>           Set the storage directory (no effect)

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster Options (refused: nats-ws joins NATS deployments as a leafnode):
        --routes, --cluster, --cluster_name, --no_advertise, --cluster_advertise,
        --connect_retries, --cluster_listen

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
        --help_tls                   TLS help
";

const TLS_USAGE: &str = "
TLS Options:
    --tls                        Enable TLS, do not verify clients (default: false)
    --tlscert <file>             Server certificate file
    --tlskey <file>              Private key for server certificate
    --tlsverify                  Enable TLS, verify client certificates
    --tlscacert <file>           Client certificate CA for verification

nats-ws uses rustls (TLS 1.2 and 1.3, its default cipher suites and key exchange groups).
";
