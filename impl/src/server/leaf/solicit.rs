//! Soliciting the configured remotes (Go: `solicitLeafNodeRemotes`,
//! `connectToRemoteLeafNode`, `reConnectToRemoteLeafNode`): one task per remote dials
//! ([`super::dial`]), runs the connection on the one pump as a [`LeafSession::solicit`],
//! and dials again after the delay Go would wait.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::dial::{Carrier, DialError, Dialed, Dialer};
use super::{LeafConn, new_client, params};
use crate::auth::{GLOBAL_ACCOUNT, Transport};
use crate::codec::MaskKeys;
use crate::conn::{ConnConfig, Connection};
use crate::frame::ClosedState;
use crate::goquote::quote;
use crate::leaf::{LeafConfig, LeafConnect, LeafInfo, LeafSession, Reconnect, Solicit, UrlAuth};
use crate::options::{GoDuration, RemoteLeafOpts};
use crate::server::router::{Client, lock};
use crate::server::{ConnType, LogLevel, Shared, listen, pump};

/// Starts one task per remote that is not `disabled`.
pub(crate) fn start(shared: &Arc<Shared>) {
    let opts = lock(&shared.opts).clone();
    let lo = &opts.leafnode;
    if lo.remotes.is_empty() {
        return;
    }
    let interval = lo
        .reconnect_interval()
        .to_std()
        .unwrap_or(Duration::from_secs(1));
    let cfg = Arc::new(solicit_config(&shared.client_cfg, &opts.server_name));
    for remote in lo.remotes.iter().filter(|r| !r.disabled) {
        let task = run_remote(
            Arc::clone(shared),
            Arc::clone(&cfg),
            remote.clone(),
            interval,
            lo.dial_timeout,
        );
        if shared.spawn(task).is_none() {
            return;
        }
    }
}

/// The settings of solicited connections: the server's limits; the accepting side's
/// INFO template only lends its `headers`.
fn solicit_config(base: &ConnConfig, server_name: &str) -> LeafConfig {
    LeafConfig {
        transport: Transport::Leafnode,
        max_payload: base.max_payload,
        max_control_line: base.max_control_line,
        ping_interval: base.ping_interval,
        ping_max: base.ping_max,
        auth_timeout: base.auth_timeout,
        info: LeafInfo {
            server_id: base.info.server_id.clone(),
            server_name: server_name.to_owned(),
            version: base.info.version.clone(),
            headers: base.info.headers,
            ..LeafInfo::default()
        },
        auth: Arc::clone(&base.auth),
        cluster: String::new(),
        min_version: String::new(),
        trace: base.trace,
        debug: base.debug,
    }
}

/// Dials `remote` until the server shuts down.
async fn run_remote(
    shared: Arc<Shared>,
    cfg: Arc<LeafConfig>,
    remote: RemoteLeafOpts,
    interval: Duration,
    dial_timeout: GoDuration,
) {
    let dialer = match Dialer::new(&remote, dial_timeout) {
        Ok(d) => d,
        Err(e) => {
            shared.log(LogLevel::Error, &e.to_string());
            return;
        }
    };
    let mut random = random_below;
    let mut reconnect = Reconnect::new(&remote, interval, &mut random);
    let mut shutdown = shared.shutdown.subscribe();
    let mut attempts: u64 = 0;
    let mut connected_once = false;
    while !shared.is_shutting_down() {
        let Some(url) = reconnect.next_url().cloned() else {
            return;
        };
        let host = url.host().into_owned();
        shared.log(
            LogLevel::Debug,
            &format!(
                "Trying to connect as leafnode to remote server on {}",
                quote(&host)
            ),
        );
        let delay = match dialer.connect(&url).await {
            Ok(connected) => {
                attempts = 0;
                // Go: createLeafNode, right after the TCP connect.
                let kind = if url.is_websocket() {
                    ConnType::LeafnodeWebsocket
                } else {
                    ConnType::Leafnode
                };
                let peer: SocketAddr = connected
                    .peer
                    .parse()
                    .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                let client = new_client(&shared, kind, peer, None);
                shared.log(
                    LogLevel::Info,
                    &format!(
                        "{} - Leafnode connection created for account: {} ",
                        client.prefix,
                        local_account(&remote)
                    ),
                );
                match dialer
                    .handshake(connected, &url, &mut reconnect, nonce())
                    .await
                {
                    Ok(dialed) => {
                        connected_once = true;
                        let auth = reconnect.url_auth();
                        let ended = connection(&shared, &cfg, &remote, auth, dialed, client).await;
                        if let Some((leafnode_urls, ws_urls)) = &ended.gossip {
                            for line in reconnect.learn(leafnode_urls, ws_urls) {
                                shared.log(LogLevel::Error, &line);
                            }
                        }
                        ended
                            .delay
                            .or_else(|| reconnect.take_connect_delay())
                            .unwrap_or_else(|| reconnect.reconnect_delay())
                    }
                    Err(e) => {
                        handshake_failed(&shared, &client, url.is_websocket(), &e);
                        reconnect.reconnect_delay()
                    }
                }
            }
            Err(e) => {
                attempts += 1;
                // Go: shouldReportConnectErr: the first attempt, then hourly on the
                // first connect; every attempt of a reconnect.
                let level = if connected_once || attempts == 1 || attempts.is_multiple_of(3600) {
                    LogLevel::Error
                } else {
                    LogLevel::Debug
                };
                shared.log(
                    level,
                    &format!(
                        "Error trying to connect as leafnode to remote server {} (attempt {attempts}): {e}",
                        quote(&host)
                    ),
                );
                reconnect.retry_delay(&mut random)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// What an ended connection leaves for the next dial.
#[derive(Debug, Default)]
struct Ended {
    /// The delay the hub's error asked for.
    delay: Option<Duration>,
    /// The hub's gossiped URLs.
    gossip: Option<(Vec<String>, Vec<String>)>,
}

/// Runs one dialled connection to its end.
async fn connection(
    shared: &Arc<Shared>,
    cfg: &Arc<LeafConfig>,
    remote: &RemoteLeafOpts,
    auth: Option<UrlAuth>,
    dialed: Dialed,
    client: Arc<Client>,
) -> Ended {
    let solicit = match solicit_for(remote, auth, cfg) {
        Ok(s) => Solicit {
            websocket_compression: match &dialed.carrier {
                Carrier::WebSocket(up) => Some(up.compression),
                Carrier::Plain => None,
            },
            ..s
        },
        Err(e) => {
            shared.log(LogLevel::Error, &e);
            return Ended::default();
        }
    };
    let account = solicit.account.clone();
    let mut p = params(client.cid, false);
    p.nonce.clear();
    let session = LeafSession::solicit(Arc::clone(cfg), p, solicit, Instant::now());
    let conn = LeafConn::solicited(shared, session, &client, &account);
    let limits = listen::limits(shared);
    let max_payload = usize::try_from(cfg.max_payload).unwrap_or(usize::MAX);
    let stream = Prefixed {
        first: dialed.first,
        at: 0,
        inner: dialed.stream,
    };
    let conn = match dialed.carrier {
        Carrier::Plain => Connection::plain(conn, limits),
        Carrier::WebSocket(upgrade) => {
            Connection::websocket(conn, upgrade.websocket(mask_keys(), max_payload), limits)
        }
    };
    let ended = pump::run(Arc::clone(shared), client, conn, stream).await;
    let session = ended.session().session();
    Ended {
        delay: session.reconnect_delay(),
        gossip: session.gossip().map(|(l, w)| (l.to_vec(), w.to_vec())),
    }
}

/// The account a remote binds on this side (Go: `LocalAccount`, `$G` by default).
fn local_account(remote: &RemoteLeafOpts) -> &str {
    if remote.local_account.is_empty() {
        GLOBAL_ACCOUNT
    } else {
        &remote.local_account
    }
}

/// The handshake of a connection that exists (Go created it at the TCP connect) failed:
/// Go's lines for it, then the close. Go: `createLeafNode` (`Error soliciting websocket
/// connection`), `doTLSClientHandshake` (`TLS leafnode handshake error`, then the
/// connection closes and the WebSocket caller reports `connection closed`),
/// `processLeafnodeInfo` (the TLS mismatch), the read loop (`Read Error`, or
/// `Client Closed` on EOF).
fn handshake_failed(shared: &Shared, client: &Client, websocket: bool, e: &DialError) {
    let prefix = &client.prefix;
    let log_closed = |state: ClosedState| {
        shared.log(
            LogLevel::Info,
            &format!("{prefix} - Leafnode connection closed: {state}"),
        );
    };
    match e {
        DialError::Tls(_) | DialError::TlsMismatch => {
            shared.log(LogLevel::Error, &format!("{prefix} - {e}"));
            log_closed(ClosedState::TlsHandshakeError);
            if websocket {
                shared.log(
                    LogLevel::Error,
                    &format!("{prefix} - Error soliciting websocket connection: connection closed"),
                );
            }
        }
        _ => {
            if websocket {
                shared.log(
                    LogLevel::Error,
                    &format!("{prefix} - Error soliciting websocket connection: {e}"),
                );
            }
            let state = match e {
                DialError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof && !websocket => {
                    ClosedState::ClientClosed
                }
                DialError::FirstLineTooLong => ClosedState::MaxControlLineExceeded,
                _ => ClosedState::ReadError,
            };
            log_closed(state);
        }
    }
}

/// Our CONNECT for `remote` (Go: `sendLeafConnect`): credentials from the remote's
/// `credentials` file or `nkey` seed, else from the URLs ([`Reconnect::url_auth`]).
fn solicit_for(
    remote: &RemoteLeafOpts,
    auth: Option<UrlAuth>,
    cfg: &LeafConfig,
) -> Result<Solicit, String> {
    let account = local_account(remote).to_owned();
    let mut connect = LeafConnect {
        version: cfg.info.version.clone(),
        server_id: cfg.info.server_id.clone(),
        name: cfg.info.server_name.clone(),
        is_hub: remote.hub,
        headers: cfg.info.headers,
        deny_pub: (!remote.deny_exports.is_empty()).then(|| remote.deny_exports.clone()),
        compress_mode: "off".to_owned(),
        remote_account: account.clone(),
        protocol: 1,
        ..LeafConnect::default()
    };
    let mut seed = None;
    if !remote.credentials.is_empty() {
        let text = std::fs::read_to_string(&remote.credentials).map_err(|e| {
            format!(
                "Error reading credentials file {}: {e}",
                quote(&remote.credentials)
            )
        })?;
        let creds = crate::leaf::credentials::parse(&text).map_err(str::to_owned)?;
        connect.jwt = creds.jwt;
        seed = Some(creds.seed);
    } else if !remote.nkey.is_empty() {
        let kp = nkeys::KeyPair::from_seed(&remote.nkey)
            .map_err(|e| format!("Error signing the nonce: {e}"))?;
        connect.nkey = kp.public_key();
        seed = Some(remote.nkey.clone());
    } else if let Some(a) = auth {
        connect.user = a.user;
        connect.pass = a.pass;
        connect.auth_token = a.token;
    }
    Ok(Solicit {
        connect,
        seed,
        account,
        deny_imports: remote.deny_imports.clone(),
        first_info_timeout: remote
            .first_info_timeout()
            .to_std()
            .unwrap_or(Duration::from_secs(1)),
        websocket_compression: None,
    })
}

/// The WebSocket key of an upgrade.
fn nonce() -> [u8; 16] {
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    raw
}

/// A fresh masking key per frame (RFC 6455 §5.3).
fn mask_keys() -> MaskKeys {
    Box::new(|| {
        let mut k = [0u8; 4];
        let _ = getrandom::fill(&mut k);
        k
    })
}

/// A number below `n` (jitter, URL shuffling; not security relevant).
fn random_below(n: u64) -> u64 {
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    u64::from_le_bytes(raw) % n.max(1)
}

/// A stream whose first reads give back bytes the dial already read (Go: `preBuf`).
struct Prefixed<S> {
    first: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rest = this.first.get(this.at..).unwrap_or_default();
        if !rest.is_empty() {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.at += n;
            if this.at == this.first.len() {
                this.first = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
