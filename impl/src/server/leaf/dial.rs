//! Dialling a leafnode remote (Go: the dial of `connectToRemoteLeafNode`,
//! `establishHTTPProxyTunnel`, the soliciting side's TLS, `leafNodeSolicitWSConnection`):
//! TCP (or a `CONNECT` tunnel through the remote's proxy), TLS when required, and for
//! `ws://`/`wss://` the WebSocket upgrade, each under Go's deadline. What comes back is
//! the stream, how the NATS protocol rides on it, and the bytes already read from it;
//! the sans-IO pieces (`ClientHandshake`, `ProxyConnect`, `Reconnect`) decide everything.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::handshake::{
    ClientHandshake, ClientHandshakeError, ClientUpgrade, ProxyConnect, ProxyError,
};
use crate::leaf::Reconnect;
use crate::options::{GoDuration, LeafUrl, RemoteLeafOpts};
use crate::server::ServerError;
use crate::server::tls::build_client;

/// Go: `DEFAULT_ROUTE_DIAL`, the dial timeout when neither the remote nor `leafnodes {}`
/// sets one.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Go: `TLS_TIMEOUT`, a remote's TLS handshake limit when its `tls {}` sets none.
const DEFAULT_TLS_TIMEOUT: Duration = Duration::from_secs(2);

/// Bound on the hub's first line on a TCP remote (its INFO). Go reads it with the
/// leafnode parser's control-line limit; gossiped URL lists make it longer than a
/// client INFO.
const MAX_FIRST_LINE: usize = 64 * 1024;

/// A dialled stream: TCP, or TLS over TCP.
#[derive(Debug)]
#[non_exhaustive]
pub enum LeafStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS (`wss://`, a `tls {}` block, or a hub that requires it).
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for LeafStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeafStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            LeafStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for LeafStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LeafStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            LeafStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeafStream::Plain(s) => Pin::new(s).poll_flush(cx),
            LeafStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeafStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            LeafStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How the leaf protocol rides on a dialled stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum Carrier {
    /// Straight on the stream (`nats://`, `tls://`, ...).
    Plain,
    /// In WebSocket frames, as negotiated (build the connection with
    /// [`ClientUpgrade::websocket`]).
    WebSocket(ClientUpgrade),
}

/// A TCP connection to a hub (or a tunnel to it), before the handshake.
#[derive(Debug)]
pub struct Connected {
    tcp: TcpStream,
    /// Bytes that came through a proxy tunnel with its answer.
    first: Vec<u8>,
    /// `host:port` of the hub as dialled (the proxy's for a tunnel).
    pub peer: String,
}

/// A remote, connected and through the handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct Dialed {
    /// The connected stream.
    pub stream: LeafStream,
    /// How the protocol rides on it.
    pub carrier: Carrier,
    /// Bytes already read, to be handled first: the hub's INFO line on TCP, or the
    /// frames that came with the 101.
    pub first: Vec<u8>,
    /// `host:port` of the hub as dialled (the proxy's for a tunnel).
    pub peer: String,
}

/// Where a dial failed: Go logs a connect failure as `Error trying to connect as
/// leafnode to remote server ...` and retries with jitter; a failure after the
/// connection exists ends that connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// TCP or the proxy tunnel.
    Connect,
    /// TLS, the upgrade, or the first INFO.
    Handshake,
}

/// Why a dial failed. Texts follow Go's where Go has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// TCP connect failed (Go: `dial tcp <addr>: connect: connection refused`).
    #[error("dial tcp {address}: {}", go_io_error(.source))]
    Dial { address: String, source: io::Error },
    /// The host name did not resolve (Go: `lookup <host>: no such host`).
    #[error("lookup {address}: {}", go_io_error(.source))]
    Lookup {
        /// `host:port` looked up.
        address: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// TCP connect took longer than the dial timeout.
    #[error("dial tcp {address}: i/o timeout")]
    DialTimeout {
        /// `host:port` dialled.
        address: String,
    },
    /// The proxy could not be reached.
    #[error("failed to connect to proxy: {0}")]
    ProxyDial(Box<DialError>),
    /// The proxy refused or garbled the tunnel.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The proxy did not answer within its timeout.
    #[error("failed to read proxy response: read tcp {0}: i/o timeout")]
    ProxyTimeout(String),
    /// The TLS handshake failed or timed out.
    #[error("TLS leafnode handshake error: {0}")]
    Tls(String),
    /// The hub requires TLS, the remote has no `tls {}` and goes through a proxy (Go).
    #[error(
        "TLS configuration mismatch: Hub requires TLS but leafnode remote is not configured for TLS. When using a proxy, ensure TLS leafnode configuration matches the Hub requirements."
    )]
    TlsMismatch,
    /// The WebSocket upgrade was refused.
    #[error(transparent)]
    Upgrade(#[from] ClientHandshakeError),
    /// Nothing (or not enough) within `first_info_timeout` (Go: the read deadline).
    #[error("read tcp {0}: i/o timeout")]
    ReadTimeout(String),
    /// Reading or writing failed.
    #[error("{}", go_io_error(.0))]
    Io(#[from] io::Error),
    /// The hub's first line is longer than [`MAX_FIRST_LINE`] (ours).
    #[error("maximum control line exceeded")]
    FirstLineTooLong,
}

impl DialError {
    /// Which stage failed.
    pub fn stage(&self) -> Stage {
        match self {
            DialError::Dial { .. }
            | DialError::Lookup { .. }
            | DialError::DialTimeout { .. }
            | DialError::ProxyDial(_)
            | DialError::Proxy(_)
            | DialError::ProxyTimeout(_) => Stage::Connect,
            DialError::Tls(_)
            | DialError::TlsMismatch
            | DialError::Upgrade(_)
            | DialError::ReadTimeout(_)
            | DialError::Io(_)
            | DialError::FirstLineTooLong => Stage::Handshake,
        }
    }
}

/// Go's words for the socket errors a dial meets.
fn go_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connect: connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "read: connection reset by peer".to_owned(),
        io::ErrorKind::UnexpectedEof => "EOF".to_owned(),
        io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
        _ => e.to_string(),
    }
}

/// How one remote is dialled; built once per remote.
#[derive(Debug)]
pub struct Dialer {
    remote: RemoteLeafOpts,
    dial_timeout: Duration,
    proxy_timeout: Duration,
    tls_timeout: Duration,
    /// The client TLS configuration, built from the remote's `tls {}` (system roots
    /// without one).
    tls: Arc<ClientConfig>,
}

impl Dialer {
    /// `leaf_dial_timeout`: `leafnodes { dial_timeout }`.
    pub fn new(
        remote: &RemoteLeafOpts,
        leaf_dial_timeout: GoDuration,
    ) -> Result<Dialer, ServerError> {
        let positive = |d: GoDuration| d.to_std().filter(|d| !d.is_zero());
        let dial_timeout = positive(remote.dial_timeout)
            .or_else(|| positive(leaf_dial_timeout))
            .unwrap_or(DEFAULT_DIAL_TIMEOUT);
        let tls_timeout = Duration::try_from_secs_f64(remote.tls_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_TLS_TIMEOUT);
        Ok(Dialer {
            remote: remote.clone(),
            dial_timeout,
            proxy_timeout: positive(remote.proxy.timeout).unwrap_or(dial_timeout),
            tls_timeout,
            tls: build_client(remote.tls.as_ref())?,
        })
    }

    /// [`Dialer::connect`], then [`Dialer::handshake`]; [`DialError::stage`] says which
    /// failed.
    pub async fn dial(
        &self,
        url: &LeafUrl,
        reconnect: &mut Reconnect,
        nonce: [u8; 16],
    ) -> Result<Dialed, DialError> {
        let connected = self.connect(url).await?;
        self.handshake(connected, url, reconnect, nonce).await
    }

    /// The TCP connection to `url` (through the proxy if the remote has one): where Go
    /// creates the leaf connection. [`Dialer::handshake`] does the rest.
    pub async fn connect(&self, url: &LeafUrl) -> Result<Connected, DialError> {
        let (tcp, first) = self.connect_tcp(url).await?;
        let _ = tcp.set_nodelay(true);
        let peer = tcp
            .peer_addr()
            .map_or_else(|_| url.dial_address(), |a| a.to_string());
        Ok(Connected { tcp, first, peer })
    }

    /// On a [`Connected`] stream: TLS as `reconnect` says (learned along the way), the
    /// WebSocket upgrade for a WebSocket URL with `nonce` as its key, the hub's first
    /// INFO within `first_info_timeout`.
    pub async fn handshake(
        &self,
        connected: Connected,
        url: &LeafUrl,
        reconnect: &mut Reconnect,
        nonce: [u8; 16],
    ) -> Result<Dialed, DialError> {
        let Connected { tcp, first, peer } = connected;
        let addresses = match (tcp.local_addr(), tcp.peer_addr()) {
            (Ok(l), Ok(p)) => format!("{l}->{p}"),
            _ => peer.clone(),
        };
        let info_deadline = Instant::now() + duration(self.remote.first_info_timeout());
        if url.is_websocket() {
            let mut stream = if reconnect.tls_required(&self.remote) {
                self.tls_on_a_silent_stream(tcp, &first, url, reconnect)
                    .await?
            } else {
                LeafStream::Plain(tcp)
            };
            let (upgrade, rest) = upgrade(
                &mut stream,
                url,
                &self.remote,
                nonce,
                first,
                info_deadline,
                &addresses,
            )
            .await?;
            return Ok(Dialed {
                stream,
                carrier: Carrier::WebSocket(upgrade),
                first: rest,
                peer,
            });
        }
        // Go: `tls { handshake_first }` on the remote: TLS before the hub's INFO.
        let tls_first = self
            .remote
            .tls
            .as_ref()
            .is_some_and(|t| t.handshake_first());
        let mut stream = if tls_first {
            self.tls_on_a_silent_stream(tcp, &first, url, reconnect)
                .await?
        } else {
            LeafStream::Plain(tcp)
        };
        let line = first_line(&mut stream, first, info_deadline, &addresses).await?;
        if tls_first {
            return Ok(Dialed {
                stream,
                carrier: Carrier::Plain,
                first: line,
                peer,
            });
        }
        if info_requires_tls(&line) {
            if !self.remote.proxy.url.is_empty() && !reconnect.tls_required(&self.remote) {
                return Err(DialError::TlsMismatch);
            }
            reconnect.mark_tls();
        }
        if reconnect.tls_required(&self.remote) {
            let LeafStream::Plain(tcp) = stream else {
                return Err(DialError::Tls("already TLS".to_owned()));
            };
            stream = self.tls_handshake(tcp, url, reconnect.tls_name()).await?;
        }
        Ok(Dialed {
            stream,
            carrier: Carrier::Plain,
            first: line,
            peer,
        })
    }

    /// TCP to the hub, or a tunnel through the proxy (Go: every URL of a remote with a
    /// proxy goes through it). Returns bytes that came through the tunnel already.
    /// The TLS handshake before the hub has said anything. A TLS server does not speak
    /// first: bytes relayed before the handshake (through a proxy) cannot belong to it.
    async fn tls_on_a_silent_stream(
        &self,
        tcp: TcpStream,
        first: &[u8],
        url: &LeafUrl,
        reconnect: &Reconnect,
    ) -> Result<LeafStream, DialError> {
        if !first.is_empty() {
            return Err(DialError::Tls(
                "data received before the handshake".to_owned(),
            ));
        }
        self.tls_handshake(tcp, url, reconnect.tls_name()).await
    }

    async fn connect_tcp(&self, url: &LeafUrl) -> Result<(TcpStream, Vec<u8>), DialError> {
        let target = url.dial_address();
        if self.remote.proxy.url.is_empty() {
            return Ok((
                tcp_connect_random(&target, self.dial_timeout).await?,
                Vec::new(),
            ));
        }
        let proxy = LeafUrl::parse(&self.remote.proxy.url)
            .map(|u| u.host().into_owned())
            .unwrap_or_default();
        let deadline = Instant::now() + self.proxy_timeout;
        let mut tcp = tcp_connect(&proxy, self.proxy_timeout)
            .await
            .map_err(|e| DialError::ProxyDial(Box::new(e)))?;
        let request = ProxyConnect::request(
            &target,
            &self.remote.proxy.username,
            &self.remote.proxy.password,
        );
        let timed_out = || DialError::ProxyTimeout(proxy.clone());
        timeout_at(deadline, tcp.write_all(&request))
            .await
            .map_err(|_| timed_out())??;
        let mut exchange = ProxyConnect::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = timeout_at(deadline, tcp.read(&mut buf))
                .await
                .map_err(|_| timed_out())??;
            if n == 0 {
                return Err(exchange.handle_eof().into());
            }
            if let Some(rest) = exchange.handle_input(buf.get(..n).unwrap_or_default())? {
                return Ok((tcp, rest));
            }
        }
    }

    /// The client TLS handshake within the remote's TLS timeout (Go:
    /// `doTLSClientHandshake`), naming the server by `tls_name`, else the URL's host.
    async fn tls_handshake(
        &self,
        tcp: TcpStream,
        url: &LeafUrl,
        tls_name: Option<&str>,
    ) -> Result<LeafStream, DialError> {
        let host = tls_name.map_or_else(|| url.hostname().into_owned(), str::to_owned);
        let name = ServerName::try_from(host).map_err(|e| DialError::Tls(e.to_string()))?;
        let connector = TlsConnector::from(Arc::clone(&self.tls));
        match tokio::time::timeout(self.tls_timeout, connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => Ok(LeafStream::Tls(Box::new(tls))),
            Ok(Err(e)) => Err(DialError::Tls(e.to_string())),
            Err(_) => Err(DialError::Tls("i/o timeout".to_owned())),
        }
    }
}

fn duration(d: GoDuration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

/// TCP to `address` (`host:port`) within `limit`, trying its addresses in order (Go's
/// `net.Dialer`; the proxy is dialled so).
async fn tcp_connect(address: &str, limit: Duration) -> Result<TcpStream, DialError> {
    match tokio::time::timeout(limit, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => Ok(tcp),
        Ok(Err(source)) => Err(DialError::Dial {
            address: address.to_owned(),
            source,
        }),
        Err(_) => Err(DialError::DialTimeout {
            address: address.to_owned(),
        }),
    }
}

/// TCP to one of `address`'s IPs picked at random (Go: `getRandomIP`, so that a name
/// with several servers spreads leafnodes over them), within `limit` for the lookup
/// and the connect together.
async fn tcp_connect_random(address: &str, limit: Duration) -> Result<TcpStream, DialError> {
    let deadline = Instant::now() + limit;
    let timed_out = || DialError::DialTimeout {
        address: address.to_owned(),
    };
    let ips: Vec<std::net::SocketAddr> = timeout_at(deadline, tokio::net::lookup_host(address))
        .await
        .map_err(|_| timed_out())?
        .map_err(|source| DialError::Lookup {
            address: address.to_owned(),
            source,
        })?
        .collect();
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    let len = u64::try_from(ips.len()).unwrap_or(u64::MAX).max(1);
    let pick = usize::try_from(u64::from_le_bytes(raw) % len).unwrap_or(0);
    let Some(ip) = ips.get(pick).or_else(|| ips.first()) else {
        return Err(DialError::Lookup {
            address: address.to_owned(),
            source: io::Error::new(io::ErrorKind::NotFound, "no such host"),
        });
    };
    let ip = ip.to_string();
    let remaining = deadline.saturating_duration_since(Instant::now());
    tcp_connect(&ip, remaining).await
}

/// The upgrade, all of it before `deadline` (Go: one deadline of `first_info_timeout`).
async fn upgrade(
    stream: &mut LeafStream,
    url: &LeafUrl,
    remote: &RemoteLeafOpts,
    nonce: [u8; 16],
    already: Vec<u8>,
    deadline: Instant,
    addresses: &str,
) -> Result<(ClientUpgrade, Vec<u8>), DialError> {
    let timed_out = || DialError::ReadTimeout(addresses.to_owned());
    let mut hs = ClientHandshake::new(remote.websocket, nonce);
    timeout_at(deadline, stream.write_all(&hs.request(url)))
        .await
        .map_err(|_| timed_out())??;
    // Bytes that came through a proxy tunnel before the request (none in practice).
    if !already.is_empty()
        && let Some(mut up) = hs.handle_input(&already)?
    {
        let rest = std::mem::take(&mut up.rest);
        return Ok((up, rest));
    }
    let mut buf = vec![0u8; 4096];
    loop {
        let n = timeout_at(deadline, stream.read(&mut buf))
            .await
            .map_err(|_| timed_out())??;
        if n == 0 {
            return Err(hs.handle_eof().into());
        }
        if let Some(mut up) = hs.handle_input(buf.get(..n).unwrap_or_default())? {
            let rest = std::mem::take(&mut up.rest);
            return Ok((up, rest));
        }
    }
}

/// The hub's first line (its INFO) on a TCP remote, before `deadline`.
async fn first_line(
    stream: &mut LeafStream,
    mut line: Vec<u8>,
    deadline: Instant,
    addresses: &str,
) -> Result<Vec<u8>, DialError> {
    let mut buf = vec![0u8; 4096];
    while !line.contains(&b'\n') {
        if line.len() > MAX_FIRST_LINE {
            return Err(DialError::FirstLineTooLong);
        }
        let n = timeout_at(deadline, stream.read(&mut buf))
            .await
            .map_err(|_| DialError::ReadTimeout(addresses.to_owned()))??;
        if n == 0 {
            return Err(DialError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        line.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(line)
}

/// Whether the first line is an INFO with `"tls_required": true`.
fn info_requires_tls(line: &[u8]) -> bool {
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let first = line.get(..end).unwrap_or_default();
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let Some(json) = first
        .get(..5)
        .filter(|op| op.eq_ignore_ascii_case(b"INFO "))
        .and_then(|_| first.get(5..))
    else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get("tls_required").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_from_the_first_info() {
        assert!(info_requires_tls(
            b"INFO {\"tls_required\":true,\"x\":1}\r\n"
        ));
        assert!(!info_requires_tls(b"INFO {\"tls_required\":false}\r\n"));
        assert!(!info_requires_tls(b"INFO {}\r\n"));
        assert!(!info_requires_tls(b"-ERR 'x'\r\n"));
        assert!(!info_requires_tls(b"INFO {garbage\r\n"));
    }
}
