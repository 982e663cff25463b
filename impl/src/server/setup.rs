//! Start-up and reload: Go's option defaults, listener binding, INFO templates.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::auth::{Authenticator, ConfigAuth, Transport};
use crate::conn::{ConnConfig, Trace, TracedPart};
use crate::handshake::{CookieNames, CustomHeaders, HandshakeConfig, OriginPolicy};
use crate::nats::{self, ServerInfo};
use crate::options::{ServerOpts, WebsocketOpts};
use crate::server::leaf::LeafServer;
use crate::server::monitor;
use crate::server::mqtt::MqttServer;
use crate::server::router::lock;
use crate::server::system::{self, System};
use crate::server::tls::TlsHolder;
use crate::server::{
    DEFAULT_HANDSHAKE_TIMEOUT, LogLevel, LogSink, ServerError, ServerHandle, Shared, Sink, listen,
};

/// Connection limits with Go's defaults applied.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// `None` = every connection refused (Go: a configured `max_connections: 0`).
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_pending: usize,
    pub(crate) write_deadline: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) tls_timeout: Duration,
}

fn secs(f: f64) -> Duration {
    Duration::try_from_secs_f64(f).unwrap_or(Duration::ZERO)
}

fn or_default(d: crate::options::GoDuration, default: Duration) -> Duration {
    match d.to_std() {
        Some(d) if !d.is_zero() => d,
        _ => default,
    }
}

/// Go: `listen tcp <hp>: bind: address already in use`.
fn listen_error(what: &str, hp: &str, e: &std::io::Error) -> String {
    let reason = match e.kind() {
        std::io::ErrorKind::AddrInUse
        | std::io::ErrorKind::PermissionDenied
        | std::io::ErrorKind::AddrNotAvailable => {
            format!("bind: {}", crate::goerr::errno_text(e))
        }
        _ => crate::goerr::errno_text(e),
    };
    format!("Unable to listen for {what} connections: listen tcp {hp}: {reason}")
}

fn host_port(host: &str, port: i64) -> String {
    let port = if port < 0 { 0 } else { port };
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go: `getConnectURLs` for the websocket listener (only `advertise` can fail).
fn ws_connect_urls(wo: &WebsocketOpts, host: &str, port: u16) -> Result<Vec<String>, ServerError> {
    if wo.advertise.is_empty() {
        return Ok(vec![host_port(host, i64::from(port))]);
    }
    let (h, p) = match split_host_port(&wo.advertise) {
        Ok((h, p)) => (h.to_owned(), p.to_owned()),
        Err(e) if e.ends_with("missing port in address") => {
            (wo.advertise.clone(), port.to_string())
        }
        Err(e) => return Err(ServerError::Advertise(e)),
    };
    let p: i64 = p.trim().parse().map_err(|_| {
        ServerError::Advertise(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            crate::goquote::quote(&p)
        ))
    })?;
    let p = if p == 0 || p == -1 {
        i64::from(port)
    } else {
        p
    };
    Ok(vec![host_port(h.trim(), p)])
}

/// Go: `net.SplitHostPort`, with its error texts.
fn split_host_port(hp: &str) -> Result<(&str, &str), String> {
    let err = |m: &str| format!("address {hp}: {m}");
    if let Some(rest) = hp.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(err("missing ']' in address"));
        };
        return match rest[end + 1..].strip_prefix(':') {
            Some(port) => Ok((&rest[..end], port)),
            None if end + 1 == rest.len() => Err(err("missing port in address")),
            None => Err(err("too many colons in address")),
        };
    }
    let Some(i) = hp.rfind(':') else {
        return Err(err("missing port in address"));
    };
    if hp[..i].contains(':') {
        return Err(err("too many colons in address"));
    }
    Ok((&hp[..i], &hp[i + 1..]))
}

fn info_template(opts: &ServerOpts, server_id: &str, max_payload: i64) -> ServerInfo {
    ServerInfo {
        server_id: server_id.to_owned(),
        server_name: if opts.server_name.is_empty() {
            server_id.to_owned()
        } else {
            opts.server_name.clone()
        },
        version: nats::SERVER_VERSION.to_owned(),
        proto: 1,
        go: concat!("nats-ws ", env!("CARGO_PKG_VERSION")).to_owned(),
        // Go: `info.Headers = !opts.NoHeaderSupport`.
        headers: !opts.no_header_support,
        max_payload,
        ..ServerInfo::default()
    }
}

fn handshake_config(wo: &WebsocketOpts, log: &LogSink) -> Result<HandshakeConfig, ServerError> {
    let (origin, _errors) = OriginPolicy::new(wo.same_origin, &wo.allowed_origins);
    let headers = CustomHeaders::new(wo.headers.iter().map(|(k, v)| (k.clone(), v.clone())))
        .map_err(|e| ServerError::Invalid(e.to_string()))?;
    let name = |s: &String| (!s.is_empty()).then(|| s.clone());
    let timeout = wo.handshake_timeout.to_std().filter(|d| !d.is_zero());
    if timeout.is_none() {
        log(
            LogLevel::Debug,
            "websocket handshake_timeout not set: using the default",
        );
    }
    Ok(HandshakeConfig {
        compression: wo.compression,
        origin,
        headers,
        cookie_names: CookieNames {
            jwt: name(&wo.jwt_cookie),
            username: name(&wo.username_cookie),
            password: name(&wo.password_cookie),
            token: name(&wo.token_cookie),
        },
        tls: wo.tls.is_some(),
        handshake_timeout: Some(timeout.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT)),
        ..HandshakeConfig::default()
    })
}

/// Go: `MAX_PAYLOAD_MAX_SIZE`, above which `max_payload` draws a warning at start.
const MAX_PAYLOAD_MAX_SIZE: i64 = 8 * 1024 * 1024;

/// Go: the first lines of `Start()`, with `checkAuthforWarnings`.
fn log_banner(
    opts: &ServerOpts,
    server_id: &str,
    operators: &[crate::auth::jwt::OperatorClaims],
    log: &LogSink,
) {
    log(LogLevel::Info, "Starting nats-ws-server");
    log(
        LogLevel::Info,
        &format!("  Version:  {}", env!("CARGO_PKG_VERSION")),
    );
    let name = if opts.server_name.is_empty() {
        server_id
    } else {
        opts.server_name.as_str()
    };
    log(LogLevel::Info, &format!("  Name:     {name}"));
    log(LogLevel::Info, &format!("  ID:       {server_id}"));
    if crate::auth::has_plaintext_passwords(opts) {
        log(
            LogLevel::Warn,
            "Plaintext passwords detected, use nkeys or bcrypt",
        );
    }
    if !opts.config_file.is_empty() {
        log(
            LogLevel::Info,
            &format!(
                "Using configuration file: {} ({})",
                opts.config_file, opts.config_digest
            ),
        );
    }
    if !operators.is_empty() {
        log(LogLevel::Info, "Trusted Operators");
    }
    for op in operators {
        let c = &op.claims;
        log(
            LogLevel::Info,
            &format!("  System  : {}", crate::goquote::quote(&c.audience)),
        );
        log(
            LogLevel::Info,
            &format!("  Operator: {}", crate::goquote::quote(&c.name)),
        );
        log(
            LogLevel::Info,
            &format!("  Issued  : {}", go_time(c.issued_at)),
        );
        let expires = match c.expires {
            0 => "Never".to_owned(),
            t => go_time(t),
        };
        log(LogLevel::Info, &format!("  Expires : {expires}"));
    }
    if !operators.is_empty() && opts.system_account.is_empty() {
        log(
            LogLevel::Warn,
            "Trusted Operators should utilize a System Account",
        );
    }
    if i64::from(opts.max_payload) > MAX_PAYLOAD_MAX_SIZE {
        log(
            LogLevel::Warn,
            "Maximum payloads over 8.00 MB are generally discouraged and could lead to poor performance",
        );
    }
}

/// Go: `logPid`, the process id in decimal, mode 0600 when created; the file is left in
/// place at exit, as Go leaves it.
fn write_pid_file(path: &str) -> Result<(), ServerError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |op: &str, e: std::io::Error| {
        ServerError::PidFile(format!("{op} {path}: {}", crate::goerr::errno_text(&e)))
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| fail("open", e))?;
    file.write_all(std::process::id().to_string().as_bytes())
        .map_err(|e| fail("write", e))
}

/// Go's `%v` of `time.Unix(secs, 0)`: local time, `2006-01-02 15:04:05 -0700 MST`.
fn go_time(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %z %Z")
            .to_string(),
        Err(_) => secs.to_string(),
    }
}

/// Starts the server; the caller logs an error once ([`crate::server::Server::start`]).
pub(crate) async fn start(mut opts: ServerOpts, log: LogSink) -> Result<ServerHandle, ServerError> {
    // Marks the errors Go reports with Fatalf (all of them: Server::start logs them).
    let fatal = std::convert::identity::<ServerError>;
    // Go: setBaselineOptions.
    if opts.host.is_empty() {
        opts.host = "0.0.0.0".to_owned();
    }
    if opts.port == 0 {
        opts.port = 4222;
    }
    // Go: setBaselineOptions — the monitor listens on the client host unless set.
    if opts.http_host.is_empty() {
        opts.http_host.clone_from(&opts.host);
    }
    // Keys set to features this server does not have (options::REFUSED_KEYS).
    if let Some(e) = opts.refused.first() {
        return Err(fatal(ServerError::Invalid(e.to_string())));
    }
    // Go: NewServer → validateOptions, configureAccounts. The binary runs these before
    // its logger exists and prints them as Go does (`nats-ws-server: <error>`).
    opts.validate()
        .map_err(|e| fatal(ServerError::Invalid(e.to_string())))?;
    // Go: the operator JWTs are read with the options.
    let config_auth = ConfigAuth::new(&system::with_global_no_auth_user(&opts))
        .map_err(|e| fatal(ServerError::Invalid(e.to_string())))?;
    // Go: Start() logs the banner first; what fails from here on is logged after it.
    let server_id = nkeys::KeyPair::new_server().public_key();
    log_banner(&opts, &server_id, config_auth.trusted_operators(), &log);
    let auth: Arc<dyn Authenticator> = Arc::new(config_auth);
    if !opts.pid_file.is_empty() {
        write_pid_file(&opts.pid_file).map_err(fatal)?;
    }
    let mqtt_enabled = opts.mqtt.port != 0;
    if mqtt_enabled && opts.mqtt.host.is_empty() {
        opts.mqtt.host = "0.0.0.0".to_owned();
    }
    // Go: StartMonitoring.
    if opts.http_port != 0 && opts.https_port != 0 {
        return Err(fatal(ServerError::Invalid(format!(
            "Can't start monitoring: can't specify both HTTP ({}) and HTTPs ({}) ports",
            opts.http_port, opts.https_port
        ))));
    }
    let monitor_tls = match (&opts.tls, opts.https_port) {
        (_, 0) => None,
        (None, _) => {
            return Err(fatal(ServerError::Invalid(
                "Can't start monitoring: TLS cert and key required for HTTPS".to_owned(),
            )));
        }
        // Go: the top-level TLS configuration without client certificates.
        (Some(tc), _) => Some(
            super::tls::build(&crate::options::TlsConfig {
                verify: false,
                map: false,
                ..tc.clone()
            })
            .map_err(fatal)?,
        ),
    };
    let ws_enabled = opts.websocket.port != 0;
    if ws_enabled && opts.websocket.host.is_empty() {
        opts.websocket.host = "0.0.0.0".to_owned();
    }
    let tls_timeout = if opts.tls_timeout > 0.0 {
        opts.tls_timeout
    } else {
        nats::DEFAULT_TLS_TIMEOUT_SECS
    };
    let auth_timeout = if opts.auth_timeout > 0.0 {
        opts.auth_timeout
    } else if opts.tls.is_some() {
        tls_timeout + 1.0
    } else {
        nats::DEFAULT_AUTH_TIMEOUT_SECS
    };
    let max_payload = if opts.max_payload != 0 {
        i64::from(opts.max_payload)
    } else {
        crate::DEFAULT_MAX_PAYLOAD as i64
    };
    let limits = Limits {
        max_connections: match opts.max_connections {
            0 => Some(nats::DEFAULT_MAX_CONNECTIONS),
            n if n < 0 => None,
            n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        },
        max_pending: usize::try_from(opts.max_pending)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(nats::DEFAULT_MAX_PENDING),
        write_deadline: or_default(
            opts.write_deadline,
            Duration::from_secs(nats::DEFAULT_WRITE_DEADLINE_SECS),
        ),
        handshake_timeout: opts
            .websocket
            .handshake_timeout
            .to_std()
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT),
        tls_timeout: secs(tls_timeout),
    };
    let client_tls = opts
        .tls
        .as_ref()
        .map(TlsHolder::new)
        .transpose()
        .map_err(fatal)?;
    let ws_tls = match (&opts.websocket.tls, ws_enabled) {
        (Some(tc), true) => Some(TlsHolder::new(tc).map_err(fatal)?),
        _ => None,
    };

    // Listeners.
    let monitor_port = if monitor_tls.is_some() {
        opts.https_port
    } else {
        opts.http_port
    };
    let http_listener = if monitor_port != 0 {
        let hp = host_port(&opts.http_host, monitor_port);
        let l = TcpListener::bind(&hp).await.map_err(|e| {
            fatal(ServerError::Listen(format!(
                "Can't start monitoring: can't listen to the monitor port: listen tcp {hp}: {e}"
            )))
        })?;
        Some(l)
    } else {
        None
    };
    let http_addr = http_listener.as_ref().map(local_addr).transpose()?;
    let ws_listener = if ws_enabled {
        let hp = host_port(&opts.websocket.host, opts.websocket.port);
        let l = TcpListener::bind(&hp)
            .await
            .map_err(|e| fatal(ServerError::Listen(listen_error("websocket", &hp, &e))))?;
        Some(l)
    } else {
        None
    };
    let mqtt_listener = if mqtt_enabled {
        let hp = host_port(&opts.mqtt.host, opts.mqtt.port);
        let l = TcpListener::bind(&hp)
            .await
            .map_err(|e| fatal(ServerError::Listen(listen_error("MQTT", &hp, &e))))?;
        Some(l)
    } else {
        None
    };
    let mqtt_addr = mqtt_listener.as_ref().map(local_addr).transpose()?;
    let hp = host_port(&opts.host, opts.port);
    let client_listener = TcpListener::bind(&hp)
        .await
        .map_err(|e| fatal(ServerError::Listen(listen_error("client", &hp, &e))))?;
    let client_addr = local_addr(&client_listener)?;
    let ws_addr = ws_listener.as_ref().map(local_addr).transpose()?;

    let ping_interval = or_default(
        opts.ping_interval,
        Duration::from_secs(nats::DEFAULT_PING_INTERVAL_SECS),
    );
    let mut client_info = info_template(&opts, &server_id, max_payload);
    client_info.host.clone_from(&opts.host);
    client_info.port = client_addr.port();
    client_info.tls_required = opts.tls.is_some();
    client_info.tls_verify = opts.tls.as_ref().is_some_and(|t| t.verify);
    let base = ConnConfig {
        transport: Transport::Standard,
        max_payload,
        max_control_line: usize::try_from(opts.max_control_line)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(nats::DEFAULT_MAX_CONTROL_LINE),
        // Go: a configured 0 is no limit.
        max_subs: match opts.max_subs {
            0 => crate::auth::NO_LIMIT,
            n => n,
        },
        ping_interval,
        first_ping_interval: Duration::from_secs(nats::FIRST_CLIENT_PING_INTERVAL_SECS),
        ping_max: u32::try_from(opts.ping_max)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(nats::DEFAULT_PING_MAX),
        auth_timeout: secs(auth_timeout),
        info: client_info,
        auth,
        max_sub_tokens: opts.max_sub_tokens,
        // Go: -V / trace, with max_traced_msg_len (0 or negative: whole payloads).
        trace: if opts.trace {
            Trace::On {
                max_payload: usize::try_from(opts.max_traced_msg_len).unwrap_or(0),
                part: if opts.trace_headers {
                    TracedPart::HeadersOnly
                } else {
                    TracedPart::Whole
                },
            }
        } else {
            Trace::Off
        },
        // Go: `debug` / -D; fixed at start, as `trace` (a reload does not change them).
        debug: opts.debug,
    };
    let ws_cfg = match ws_addr {
        Some(addr) => {
            let wo = &opts.websocket;
            ws_connect_urls(wo, &wo.host, addr.port()).map_err(fatal)?;
            let mut info = base.info.clone();
            info.host.clone_from(&wo.host);
            info.port = addr.port();
            info.tls_required = wo.tls.is_some();
            info.tls_available = wo.tls.is_some();
            info.tls_verify = wo.tls.as_ref().is_some_and(|t| t.verify);
            Some(Arc::new(ConnConfig {
                transport: Transport::Websocket,
                ping_interval: or_default(wo.ping_interval, ping_interval),
                auth_timeout: if wo.auth_timeout > 0.0 {
                    secs(wo.auth_timeout)
                } else {
                    base.auth_timeout
                },
                info,
                ..base.clone()
            }))
        }
        None => None,
    };
    let ws_ping_interval = ws_cfg
        .as_ref()
        .map_or(base.ping_interval, |w| w.ping_interval);
    let leaf_name = if opts.server_name.is_empty() {
        server_id.clone()
    } else {
        opts.server_name.clone()
    };
    let (leaf, leaf_listener) =
        match LeafServer::bind(&mut opts, &base, ws_ping_interval, &leaf_name)
            .await
            .map_err(fatal)?
        {
            Some((server, listener)) => (Some(server), Some(listener)),
            None => (None, None),
        };
    let leaf_addr = leaf_listener.as_ref().map(local_addr).transpose()?;
    let mut hs_cfg = handshake_config(&opts.websocket, &log)?;
    // Go: `/mqtt` upgrades only with MQTT enabled.
    hs_cfg.mqtt_enabled = mqtt_enabled;
    let hs_cfg = Arc::new(hs_cfg);
    let mqtt = if mqtt_enabled {
        let mo = &opts.mqtt;
        let tls = mo
            .tls
            .as_ref()
            .map(TlsHolder::new)
            .transpose()
            .map_err(fatal)?;
        let tls_timeout = if mo.tls_timeout > 0.0 {
            secs(mo.tls_timeout)
        } else {
            secs(nats::DEFAULT_TLS_TIMEOUT_SECS)
        };
        Some(MqttServer::new(mo, secs(auth_timeout), tls, tls_timeout))
    } else {
        None
    };
    let (tracker, tasks) = mpsc::channel(1);
    let (shutdown, _) = watch::channel(false);
    let mut accounts = HashMap::new();
    let system = System::from_opts(&opts, &mut accounts);
    // Go's internal clients take the first connection ids.
    let first_cid = 1 + system.as_ref().map_or(0, |s| s.reserved_cids(&opts));
    let shared = Arc::new(Shared {
        log: Sink(Arc::clone(&log)),
        accounts: Mutex::new(accounts),
        clients: Mutex::new(HashMap::new()),
        next_cid: AtomicU64::new(first_cid),
        opts: Mutex::new(opts.clone()),
        client_cfg: Arc::new(base),
        ws_cfg,
        hs_cfg,
        client_tls,
        ws_tls,
        limits,
        shutdown,
        fatal: watch::channel(None).0,
        tracker: Mutex::new(Some(tracker)),
        stats: monitor::Stats::default(),
        clock: monitor::Clock::now(),
        server_name: if opts.server_name.is_empty() {
            server_id.clone()
        } else {
            opts.server_name.clone()
        },
        server_id: server_id.clone(),
        ws_port: ws_addr.map(|a| a.port()),
        mqtt_port: mqtt_addr.map(|a| a.port()),
        http_addr,
        http_req_stats: Mutex::new(std::collections::BTreeMap::new()),
        lame_duck: watch::channel(false).0,
        system,
        mqtt,
        leaf,
        leafs: Mutex::new(HashMap::new()),
        closed: Mutex::new(monitor::ClosedRing::new(opts.max_closed_clients)),
        monitor_tls,
    });
    system::start(&shared);
    let mut accept_loops = Vec::new();
    if let (Some(l), Some(addr)) = (http_listener, http_addr) {
        let scheme = if shared.monitor_tls.is_some() {
            "https"
        } else {
            "http"
        };
        log(
            LogLevel::Info,
            &format!(
                "Starting {scheme} monitor on {}",
                host_port(&opts.http_host, i64::from(addr.port()))
            ),
        );
        accept_loops.push(tokio::spawn(monitor::serve(Arc::clone(&shared), l)));
    }
    let mut ws_listener_ref = None;
    if let (Some(l), Some(addr)) = (ws_listener, ws_addr) {
        let l = Arc::new(l);
        ws_listener_ref = Some(Arc::downgrade(&l));
        let scheme = if shared.ws_tls.is_some() { "wss" } else { "ws" };
        log(
            LogLevel::Info,
            &format!(
                "Listening for websocket clients on {scheme}://{}:{}",
                opts.websocket.host,
                addr.port()
            ),
        );
        if shared.ws_tls.is_none() {
            log(
                LogLevel::Warn,
                "Websocket not configured with TLS. DO NOT USE IN PRODUCTION!",
            );
        }
        accept_loops.push(tokio::spawn(listen::accept_loop(
            Arc::clone(&shared),
            l,
            listen::Kind::Websocket,
        )));
    }
    if let (Some(l), Some(addr)) = (mqtt_listener, mqtt_addr) {
        // Go: startMQTT.
        let scheme = if opts.mqtt.tls.is_some() {
            "tls"
        } else {
            "mqtt"
        };
        log(
            LogLevel::Info,
            &format!(
                "Listening for MQTT clients on {scheme}://{}:{}",
                opts.mqtt.host,
                addr.port()
            ),
        );
        accept_loops.push(tokio::spawn(listen::accept_loop(
            Arc::clone(&shared),
            Arc::new(l),
            listen::Kind::Mqtt,
        )));
    }
    if let (Some(l), Some(addr)) = (leaf_listener, leaf_addr) {
        // Go: startLeafNodeAcceptLoop.
        log(
            LogLevel::Info,
            &format!(
                "Listening for leafnode connections on {}",
                host_port(&opts.leafnode.host, i64::from(addr.port()))
            ),
        );
        accept_loops.push(tokio::spawn(listen::accept_loop(
            Arc::clone(&shared),
            Arc::new(l),
            listen::Kind::Leaf,
        )));
    }
    log(
        LogLevel::Info,
        &format!(
            "Listening for client connections on {}",
            host_port(&opts.host, i64::from(client_addr.port()))
        ),
    );
    if shared.client_tls.is_some() {
        log(LogLevel::Info, "TLS required for client connections");
    }
    let client_listener = Arc::new(client_listener);
    let client_listener_ref = Arc::downgrade(&client_listener);
    accept_loops.push(tokio::spawn(listen::accept_loop(
        Arc::clone(&shared),
        client_listener,
        listen::Kind::Client,
    )));
    log(LogLevel::Info, "Server is ready");
    // Go: solicitLeafNodeRemotes, once the server runs.
    crate::server::leaf::solicit_remotes(&shared);
    Ok(ServerHandle {
        shared,
        client_addr,
        ws_addr,
        mqtt_addr,
        leaf_addr,
        ws_listener: ws_listener_ref,
        client_listener: client_listener_ref,
        tasks,
        accept_loops,
    })
}

fn local_addr(l: &TcpListener) -> Result<SocketAddr, ServerError> {
    l.local_addr()
        .map_err(|e| ServerError::Listen(format!("Unable to read listener address: {e}")))
}

/// Go: `reloadOptions` for what this server can change at run time (TLS files), and
/// `config reload not supported for Websocket` for every other websocket change.
pub(crate) fn reload(shared: &Shared, new: ServerOpts) -> Result<(), ServerError> {
    // Go: reloadOptions validates the new options first.
    new.validate()
        .map_err(|e| ServerError::Invalid(e.to_string()))?;
    let old = lock(&shared.opts).clone();
    let nw = &new.websocket;
    if old.websocket.port != 0 && nw.tls.is_none() && !nw.no_tls {
        return Err(ServerError::Invalid(
            "websocket requires TLS configuration".to_owned(),
        ));
    }
    let mut a = old.websocket.clone();
    let mut b = nw.clone();
    // The listener's resolved values are not changes.
    b.host.clone_from(&a.host);
    if b.port == -1 || a.port == -1 {
        b.port = a.port;
    }
    a.tls = None;
    b.tls = None;
    a.tls_map = false;
    b.tls_map = false;
    a.tls_pinned_certs = None;
    b.tls_pinned_certs = None;
    if a != b {
        return Err(ServerError::ReloadNotSupported(format!(
            "Websocket: old={:?}, new={:?}",
            old.websocket, nw
        )));
    }
    if let (Some(holder), Some(tc)) = (&shared.ws_tls, &nw.tls) {
        holder.replace(tc)?;
    }
    if let (Some(holder), Some(tc)) = (&shared.client_tls, &new.tls) {
        holder.replace(tc)?;
    }
    let mut opts = lock(&shared.opts);
    opts.websocket.tls.clone_from(&nw.tls);
    opts.tls.clone_from(&new.tls);
    opts.config_digest.clone_from(&new.config_digest);
    drop(opts);
    shared.clock.config_reloaded();
    shared.log(LogLevel::Info, "Reloaded server configuration");
    Ok(())
}
