//! Accept loops and connection set-up: TLS, the WebSocket upgrade, registration.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::auth::Transport;
use crate::conn::{ClientProtocol, ConnParams, Connection, Limits, Role, WebSocket};
use crate::handshake::{Handshake, HttpDate, UpgradeKind};
use crate::server::mqtt::MqttConn;
use crate::server::pump;
use crate::server::router::Client;
use crate::server::tls::{HTTP_ON_TLS_RESPONSE, is_plain_http, peer_identity};
use crate::server::upgrade::{self, UpgradeError};
use crate::server::{ConnType, LogLevel, Shared};

/// Which listener.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Client,
    Websocket,
    Mqtt,
    Leaf,
}

/// First and longest pause after a temporary accept error (Go: `ACCEPT_MIN_SLEEP`,
/// `ACCEPT_MAX_SLEEP`; net/http starts the websocket listener's at 5 ms).
const ACCEPT_MIN_SLEEP: Duration = Duration::from_millis(10);
const WS_ACCEPT_MIN_SLEEP: Duration = Duration::from_millis(5);
const ACCEPT_MAX_SLEEP: Duration = Duration::from_secs(1);

pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: Arc<TcpListener>, kind: Kind) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut lame_duck = shared.lame_duck.subscribe();
    let min_sleep = match kind {
        Kind::Client | Kind::Mqtt | Kind::Leaf => ACCEPT_MIN_SLEEP,
        Kind::Websocket => WS_ACCEPT_MIN_SLEEP,
    };
    let mut delay = min_sleep;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
            // Go: lameDuckMode closes the client and websocket listeners.
            _ = lame_duck.changed(), if !matches!(kind, Kind::Leaf) => break,
        };
        let (stream, remote) = match accepted {
            Ok(found) => found,
            Err(e) => {
                if shared.is_shutting_down() {
                    break;
                }
                if !is_temporary(&e) && matches!(kind, Kind::Websocket) {
                    // Go: http.Server.Serve returns, and `websocket listener error` is
                    // fatal. The server stops (the binary exits with status 1).
                    shared.fatal(&format!("websocket listener error: {e}"));
                    break;
                }
                let line = match (kind, is_temporary(&e)) {
                    (Kind::Websocket, _) => format!(
                        "websocket: http: Accept error: {e}; retrying in {}ms",
                        delay.as_millis()
                    ),
                    (Kind::Client, true) => format!(
                        "Temporary Client Accept Error({e}), sleeping {}ms",
                        delay.as_millis()
                    ),
                    // Go logs this and retries at once; the pause keeps a broken listener
                    // from flooding the log (CONFORMANCE).
                    (Kind::Client, false) => format!("Client Accept error: {e}"),
                    // Go: acceptConnections with the "MQTT" error name.
                    (Kind::Mqtt, true) => format!(
                        "Temporary MQTT Accept Error({e}), sleeping {}ms",
                        delay.as_millis()
                    ),
                    (Kind::Mqtt, false) => format!("MQTT Accept error: {e}"),
                    (Kind::Leaf, true) => format!(
                        "Temporary Leafnode Accept Error({e}), sleeping {}ms",
                        delay.as_millis()
                    ),
                    (Kind::Leaf, false) => format!("Leafnode Accept error: {e}"),
                };
                shared.log(LogLevel::Error, &line);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => break,
                }
                delay = (delay * 2).min(ACCEPT_MAX_SLEEP);
                continue;
            }
        };
        delay = min_sleep;
        let _ = stream.set_nodelay(true);
        let s = Arc::clone(&shared);
        let fut = async move {
            match kind {
                Kind::Client => client_conn(s, stream, remote).await,
                Kind::Websocket => ws_conn(s, stream, remote).await,
                Kind::Mqtt => mqtt_conn(s, stream, remote).await,
                Kind::Leaf => {
                    let limits = limits(&s);
                    crate::server::leaf::tcp_conn(s, stream, remote, limits).await;
                }
            }
        };
        if shared.spawn(fut).is_none() {
            break;
        }
    }
}

/// Go's `net.Error.Temporary()` for accept: running out of descriptors or buffers, or a
/// connection that went away before it was accepted.
fn is_temporary(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::Interrupted | K::WouldBlock | K::TimedOut
    ) {
        return true;
    }
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn max_payload(shared: &Shared) -> usize {
    usize::try_from(shared.client_cfg.max_payload).unwrap_or(usize::MAX)
}

async fn client_conn(shared: Arc<Shared>, mut stream: TcpStream, remote: SocketAddr) {
    let cid = shared.next_cid.fetch_add(1, Ordering::Relaxed);
    let client = Arc::new(Client::new(
        cid,
        ConnType::Client,
        remote,
        None,
        shared.limits.max_pending,
    ));
    let params = conn_params(&shared, cid, remote.ip().to_string(), None);
    let protocol = ClientProtocol::new(Arc::clone(&shared.client_cfg), params, Instant::now());
    let mut conn = Connection::plain(protocol, limits(&shared));
    let Some(holder) = &shared.client_tls else {
        pump::run(shared, client, conn, stream).await;
        return;
    };
    // Go: INFO goes out in plain text, then the client starts TLS.
    let info = std::mem::take(conn.session_mut().output());
    if stream.write_all(&info).await.is_err() {
        return;
    }
    let acceptor = TlsAcceptor::from(holder.current());
    match tokio::time::timeout(shared.limits.tls_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            conn.session_mut()
                .set_tls_identity(peer_identity(tls.get_ref().1));
            pump::run(shared, client, conn, tls).await;
        }
        Ok(Err(e)) => shared.log(
            LogLevel::Error,
            &format!("{} - TLS handshake error: {e}", client.prefix),
        ),
        Err(_) => shared.log(
            LogLevel::Error,
            &format!("{} - TLS handshake timeout", client.prefix),
        ),
    }
}

/// A connection on the MQTT port (Go: `createMQTTClient`): TLS first if configured (no
/// INFO precedes it in MQTT), then the MQTT session on the plain wire.
async fn mqtt_conn(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    let Some(mqtt) = &shared.mqtt else {
        return;
    };
    let cid = shared.next_cid.fetch_add(1, Ordering::Relaxed);
    let client = Arc::new(Client::new(
        cid,
        ConnType::Mqtt,
        remote,
        None,
        shared.limits.max_pending,
    ));
    let mut session = MqttConn::new(
        mqtt,
        max_payload(&shared),
        shared.mqtt_trace(),
        cid,
        Transport::Mqtt,
        Instant::now(),
    );
    let Some(holder) = &mqtt.tls else {
        let conn = Connection::plain(session, limits(&shared));
        pump::run(shared, client, conn, stream).await;
        return;
    };
    let acceptor = TlsAcceptor::from(holder.current());
    match tokio::time::timeout(mqtt.tls_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            session.set_tls_identity(peer_identity(tls.get_ref().1));
            let conn = Connection::plain(session, limits(&shared));
            pump::run(shared, client, conn, tls).await;
        }
        Ok(Err(e)) => shared.log(
            LogLevel::Error,
            &format!("{} - TLS handshake error: {e}", client.prefix),
        ),
        Err(_) => shared.log(
            LogLevel::Error,
            &format!("{} - TLS handshake timeout", client.prefix),
        ),
    }
}

fn conn_params(
    shared: &Shared,
    cid: u64,
    client_ip: String,
    ws: Option<&Arc<crate::conn::ConnConfig>>,
) -> ConnParams {
    let cfg = ws.unwrap_or(&shared.client_cfg);
    let nonce = cfg.auth.nonce_required(cfg.transport).then(new_nonce);
    ConnParams {
        cid,
        client_ip,
        nonce,
        cookies: None,
        tls: None,
        first_ping_random: random_u64(),
    }
}

/// A random number for a connection's first PING offset.
pub(crate) fn random_u64() -> u64 {
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    u64::from_le_bytes(raw)
}

/// Go: 11 random bytes, raw URL base64.
pub(crate) fn new_nonce() -> String {
    use base64::Engine;
    let mut raw = [0u8; 11];
    let _ = getrandom::fill(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

async fn ws_conn(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    let timeout = shared.limits.handshake_timeout;
    let started = Instant::now();
    let Some(holder) = &shared.ws_tls else {
        ws_upgrade(shared, stream, remote, started, None).await;
        return;
    };
    // Go net/http: plain HTTP on the TLS port gets a 400 in plain text.
    if tokio::time::timeout(timeout, is_plain_http(&stream))
        .await
        .unwrap_or(false)
    {
        let mut stream = stream;
        let _ = stream.write_all(HTTP_ON_TLS_RESPONSE).await;
        let _ = stream.shutdown().await;
        return;
    }
    let local = stream.local_addr().ok();
    let acceptor = TlsAcceptor::from(holder.current());
    let remaining = timeout.saturating_sub(started.elapsed());
    match tokio::time::timeout(remaining, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            let id = peer_identity(tls.get_ref().1);
            ws_upgrade(shared, tls, remote, started, id).await;
        }
        Ok(Err(e)) => shared.log(
            LogLevel::Error,
            &format!("websocket: http: TLS handshake error from {remote}: {e}"),
        ),
        Err(_) => {
            let local = local.map(|l| l.to_string()).unwrap_or_default();
            shared.log(
                LogLevel::Error,
                &format!(
                    "websocket: http: TLS handshake error from {remote}: read tcp {local}->{remote}: i/o timeout"
                ),
            );
        }
    }
}

async fn ws_upgrade<S>(
    shared: Arc<Shared>,
    stream: S,
    remote: SocketAddr,
    started: Instant,
    tls: Option<crate::auth::TlsIdentity>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let Some(ws_cfg) = shared.ws_cfg.clone() else {
        return;
    };
    let hs = Handshake::new(Arc::clone(&shared.hs_cfg), remote.to_string(), started);
    let log = |line: String| shared.log(LogLevel::Error, &line);
    let (upgrade, stream) = match upgrade::upgrade(hs, stream, now_http_date, log).await {
        Ok(done) => done,
        Err(UpgradeError::Timeout) => {
            // Go: net/http read timeout, closed without a response or a log line.
            shared.log(
                LogLevel::Debug,
                &format!("{remote} - websocket handshake timeout"),
            );
            return;
        }
        // Logged by `upgrade` (if at all) before the connection was closed.
        Err(_) => return,
    };
    match upgrade.kind {
        UpgradeKind::Client => {}
        UpgradeKind::Mqtt => {
            ws_mqtt(shared, stream, remote, &upgrade, tls).await;
            return;
        }
        UpgradeKind::Leaf => {
            let (limits, max_payload) = (limits(&shared), max_payload(&shared));
            crate::server::leaf::ws_conn(
                shared,
                stream,
                remote,
                &upgrade,
                tls,
                limits,
                max_payload,
            )
            .await;
            return;
        }
    }
    let cid = shared.next_cid.fetch_add(1, Ordering::Relaxed);
    let client_ip = upgrade.client_ip.clone();
    let client = Arc::new(Client::new(
        cid,
        ConnType::Websocket,
        remote,
        client_ip,
        shared.limits.max_pending,
    ));
    client.set_websocket(upgrade.framing, upgrade.compression);
    // Go: INFO's `client_ip` is the TCP peer (`c.host`); an X-Forwarded-For address only
    // shows in the log prefix.
    let mut params = conn_params(&shared, cid, remote.ip().to_string(), Some(&ws_cfg));
    params.cookies = Some(upgrade.cookies.clone());
    params.tls = tls;
    let protocol = ClientProtocol::new(ws_cfg, params, Instant::now());
    let ws = WebSocket {
        role: Role::Server { mask: upgrade.mask },
        compression: upgrade.compression,
        framing: upgrade.framing,
        max_payload: max_payload(&shared),
    };
    let conn = Connection::websocket(protocol, ws, limits(&shared));
    pump::run(shared, client, conn, stream).await;
}

/// MQTT over WebSocket (Go: `createMQTTClient` with the websocket): MQTT packets in
/// binary frames, the `MQTT_WS` connection type.
async fn ws_mqtt<S>(
    shared: Arc<Shared>,
    stream: S,
    remote: SocketAddr,
    upgrade: &crate::handshake::Upgrade,
    tls: Option<crate::auth::TlsIdentity>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let Some(mqtt) = &shared.mqtt else {
        return;
    };
    let cid = shared.next_cid.fetch_add(1, Ordering::Relaxed);
    let client = Arc::new(Client::new(
        cid,
        ConnType::MqttWebsocket,
        remote,
        upgrade.client_ip.clone(),
        shared.limits.max_pending,
    ));
    client.set_websocket(upgrade.framing, upgrade.compression);
    let mut session = MqttConn::new(
        mqtt,
        max_payload(&shared),
        shared.mqtt_trace(),
        cid,
        Transport::MqttWebsocket,
        Instant::now(),
    );
    session.set_tls_identity(tls);
    let ws = WebSocket {
        role: Role::Server { mask: upgrade.mask },
        compression: upgrade.compression,
        framing: upgrade.framing,
        max_payload: max_payload(&shared),
    };
    let conn = Connection::websocket(session, ws, limits(&shared));
    pump::run(shared, client, conn, stream).await;
}

pub(crate) fn limits(shared: &Shared) -> Limits {
    Limits {
        write_deadline: shared.limits.write_deadline,
        linger: crate::server::LINGER,
    }
}

/// The `Date:` of an HTTP error response: now.
fn now_http_date() -> HttpDate {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    HttpDate::from_unix(now)
}
