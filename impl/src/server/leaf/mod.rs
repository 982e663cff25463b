//! Leafnodes served (Go: `startLeafNodeAcceptLoop`, `createLeafNode`): the leafnode
//! listener's settings ([`LeafServer`]), accepting on the leafnode port (TCP, TLS when
//! configured) and on the websocket listener's `/leafnode` path, soliciting the
//! configured remotes ([`solicit`], over [`dial`]), and the connections' place in their
//! accounts ([`link`]). Both directions run [`crate::leaf::LeafSession`] on the one pump.

mod conn;
pub(crate) mod dial;
mod link;
mod solicit;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

pub(crate) use conn::LeafConn;
pub(crate) use link::{AccountLeafs, LeafLink, LinkOrigin};
pub(crate) use solicit::start as solicit_remotes;

use crate::auth::{Authenticator, LeafAuth, Transport};
use crate::conn::{ConnConfig, Connection, Limits, Role, WebSocket};
use crate::leaf::{LeafConfig, LeafInfo, LeafParams, LeafSession};
use crate::options::ServerOpts;
use crate::server::router::Client;
use crate::server::tls::{TlsHolder, peer_identity};
use crate::server::{ConnType, LogLevel, ServerError, Shared, pump};

/// The leafnode listener's settings.
#[derive(Debug)]
pub(crate) struct LeafServer {
    /// Leafs on the leafnode port.
    tcp: Arc<LeafConfig>,
    /// Leafs over WebSocket (`/leafnode`).
    ws: Arc<LeafConfig>,
    /// `leafnodes { tls {} }`.
    tls: Option<TlsHolder>,
    /// `leafnodes { tls { timeout } }`.
    tls_timeout: Duration,
    /// The listener as configured and bound.
    host: String,
    port: u16,
}

/// The leafnode listener's settings `/varz` shows.
#[derive(Debug, Clone)]
pub(crate) struct LeafVarzOpts {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) auth_timeout: f64,
    pub(crate) tls_timeout: f64,
    pub(crate) tls_required: bool,
    pub(crate) tls_verify: bool,
}

/// Go: `nuid.Next()`: 22 random base-62 characters.
pub(crate) fn nuid() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut raw = [0u8; 22];
    let _ = getrandom::fill(&mut raw);
    raw.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

impl LeafServer {
    /// For `/varz`'s `leaf` section.
    pub(crate) fn varz(&self) -> LeafVarzOpts {
        LeafVarzOpts {
            host: self.host.clone(),
            port: self.port,
            auth_timeout: self.tcp.auth_timeout.as_secs_f64(),
            tls_timeout: self.tls_timeout.as_secs_f64(),
            tls_required: self.tcp.info.tls_required,
            tls_verify: self.tcp.info.tls_verify,
        }
    }

    /// Binds the leafnode listener when `leafnodes { port }` is set (Go: the leafnode
    /// INFO is built here, so `/leafnode` upgrades need it too).
    pub(crate) async fn bind(
        opts: &mut ServerOpts,
        base: &ConnConfig,
        ws_ping_interval: Duration,
        server_name: &str,
    ) -> Result<Option<(LeafServer, TcpListener)>, ServerError> {
        let lo = &mut opts.leafnode;
        if lo.port == 0 {
            return Ok(None);
        }
        if lo.host.is_empty() {
            lo.host = "0.0.0.0".to_owned();
        }
        let port = if lo.port < 0 { 0 } else { lo.port };
        let hp = host_port(&lo.host, port);
        let listener = TcpListener::bind(&hp).await.map_err(|e| {
            ServerError::Listen(format!(
                "Error listening on leafnode port: {} - listen tcp {hp}: {e}",
                lo.port
            ))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Listen(format!("Unable to read listener address: {e}")))?;
        let tls = lo.tls.as_ref().map(TlsHolder::new).transpose()?;
        // Go: setLeafNodeInfoHostPortAndIP.
        let (host, info_port) = if lo.advertise.is_empty() {
            (lo.host.clone(), addr.port())
        } else {
            match lo.advertise.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(addr.port())),
                None => (lo.advertise.clone(), addr.port()),
            }
        };
        let ip = host_port(&host, i64::from(info_port));
        let info = LeafInfo {
            server_id: base.info.server_id.clone(),
            server_name: server_name.to_owned(),
            version: base.info.version.clone(),
            proto: 3,
            go: base.info.go.clone(),
            host,
            port: info_port,
            headers: base.info.headers,
            auth_required: true,
            tls_required: lo.tls.is_some(),
            tls_verify: lo.tls.as_ref().is_some_and(|t| t.verify),
            max_payload: base.max_payload,
            ip: ip.clone(),
            // Go's default mode is s2_auto; this server does not compress (CONFORMANCE).
            compression: "off".to_owned(),
            info_on_connect: true,
            leafnode_urls: vec![ip],
            ..LeafInfo::default()
        };
        let server_auth = Arc::clone(&base.auth);
        let auth: Arc<dyn Authenticator> = Arc::new(LeafAuth::new(lo, server_auth));
        let auth_timeout = if lo.auth_timeout > 0.0 {
            Duration::try_from_secs_f64(lo.auth_timeout).unwrap_or(base.auth_timeout)
        } else {
            Duration::from_secs(2)
        };
        let tcp = LeafConfig {
            transport: Transport::Leafnode,
            max_payload: base.max_payload,
            max_control_line: base.max_control_line,
            ping_interval: base.ping_interval,
            ping_max: base.ping_max,
            auth_timeout,
            info,
            auth,
            cluster: String::new(),
            min_version: lo.min_version.clone(),
            trace: base.trace,
            debug: base.debug,
        };
        let ws = LeafConfig {
            transport: Transport::LeafnodeWebsocket,
            ping_interval: ws_ping_interval,
            ..tcp.clone()
        };
        let tls_timeout = if lo.tls_timeout > 0.0 {
            Duration::try_from_secs_f64(lo.tls_timeout).unwrap_or(Duration::from_secs(2))
        } else {
            Duration::from_secs(2)
        };
        Ok(Some((
            LeafServer {
                tcp: Arc::new(tcp),
                ws: Arc::new(ws),
                tls,
                tls_timeout,
                host: lo.host.clone(),
                port: addr.port(),
            },
            listener,
        )))
    }
}

fn host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn params(cid: u64, websocket_compression: bool) -> LeafParams {
    LeafParams {
        cid,
        nonce: crate::server::listen::new_nonce(),
        websocket_compression,
        first_ping_random: crate::server::listen::random_u64(),
        tls: None,
    }
}

fn new_client(
    shared: &Shared,
    kind: ConnType,
    remote: SocketAddr,
    ip: Option<String>,
) -> Arc<Client> {
    let cid = shared.next_cid.fetch_add(1, Ordering::Relaxed);
    Arc::new(Client::new(
        cid,
        kind,
        remote,
        ip,
        shared.limits.max_pending,
    ))
}

/// A connection on the leafnode port: INFO in plain text, then TLS if configured (Go:
/// `createLeafNode` without TLS-first), then the leaf protocol.
pub(crate) async fn tcp_conn(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    remote: SocketAddr,
    limits: Limits,
) {
    let Some(leaf) = &shared.leaf else {
        return;
    };
    let client = new_client(&shared, ConnType::Leafnode, remote, None);
    let session = LeafSession::accept(
        Arc::clone(&leaf.tcp),
        params(client.cid, false),
        Instant::now(),
    );
    let mut conn = LeafConn::accepted(&shared, session, &client);
    let Some(holder) = &leaf.tls else {
        let conn = Connection::plain(conn, limits);
        pump::run(shared, client, conn, stream).await;
        return;
    };
    let info = std::mem::take(crate::conn::Session::output(&mut conn));
    if stream.write_all(&info).await.is_err() {
        return;
    }
    let acceptor = TlsAcceptor::from(holder.current());
    match tokio::time::timeout(leaf.tls_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            conn.session_mut()
                .set_tls_identity(peer_identity(tls.get_ref().1));
            let conn = Connection::plain(conn, limits);
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

/// A leafnode over WebSocket (Go: the `/leafnode` path, `createLeafNode` with the
/// websocket): only when the leafnode port is configured, else Go's line and close.
pub(crate) async fn ws_conn<S>(
    shared: Arc<Shared>,
    stream: S,
    remote: SocketAddr,
    upgrade: &crate::handshake::Upgrade,
    tls: Option<crate::auth::TlsIdentity>,
    limits: Limits,
    max_payload: usize,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let Some(leaf) = &shared.leaf else {
        // Go writes the 101, then logs this and closes the connection.
        shared.log(
            LogLevel::Error,
            "Not configured to accept leaf node connections",
        );
        return;
    };
    let client = new_client(
        &shared,
        ConnType::LeafnodeWebsocket,
        remote,
        upgrade.client_ip.clone(),
    );
    client.set_websocket(upgrade.framing, upgrade.compression);
    let compressed = matches!(upgrade.compression, crate::policy::Compression::Negotiated);
    let mut params = params(client.cid, compressed);
    params.tls = tls;
    let session = LeafSession::accept(Arc::clone(&leaf.ws), params, Instant::now());
    let conn = LeafConn::accepted(&shared, session, &client);
    let ws = WebSocket {
        role: Role::Server { mask: upgrade.mask },
        compression: upgrade.compression,
        framing: upgrade.framing,
        max_payload,
    };
    let conn = Connection::websocket(conn, ws, limits);
    pump::run(shared, client, conn, stream).await;
}
