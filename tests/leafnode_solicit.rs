//! Soliciting end to end, our dialer against the Go server v2.15.1
//! (`.venv-peers/bin/nats-server`) configured as a leafnode hub: over `nats://` and over
//! `ws://` with every compression × masking combination, and through a loopback HTTP
//! `CONNECT` proxy. Each reads Go's leaf INFO (non-zero `client_id`, `leafnode_urls`),
//! then sends a leaf CONNECT and a PING in the frames the upgrade settled (masked unless
//! Go echoed `Nats-No-Masking`, deflated when permessage-deflate was agreed) and gets
//! Go's PONG: Go accepted the upgrade, the masking and the compression.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/process.rs"]
mod process;

#[path = "support/go_peer.rs"]
mod go_peer;

#[path = "support/leaf.rs"]
mod leaf;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leaf::{Dir, GoServer, Listeners, T, hub_conf, refusing_port};
use nats_ws::codec::{Collapsed, Decoder, Item, Outbound, WriteMasking};
use nats_ws::deflate::{INFLATE_TAIL, inflate_message};
use nats_ws::leaf::Reconnect;
use nats_ws::options::{GoDuration, RemoteLeafOpts, ServerOpts};
use nats_ws::policy::{Compression, Framing, MaskPolicy, OutboundMask};
use nats_ws::server::{Carrier, DialError, Dialed, Dialer, LeafStream, Stage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep, timeout};

/// The Go server as a hub: a leafnode listener and a plain-text websocket listener with
/// compression (and a client listener); its files in `dir`.
async fn go_hub(dir: &Path) -> GoServer {
    let conf = hub_conf("go-hub", "", ", no_tls: true, compression: true");
    GoServer::start(dir, "go-hub", &conf).await
}

/// The Go server as a hub with TLS on both ports (a self-signed certificate for
/// `localhost` and `127.0.0.1`, also the leaf's `ca_file`); returns it and the
/// certificate's path.
async fn go_tls_hub(dir: &Path, leaf_tls: &str) -> (GoServer, PathBuf) {
    let (cert, key) = leaf::certificate(dir, &["localhost", "127.0.0.1"]);
    let files = format!(
        "cert_file: \"{}\", key_file: \"{}\"",
        cert.display(),
        key.display()
    );
    let leafnodes = format!(", tls {{ {files} {leaf_tls} }}");
    let conf = hub_conf("go-hub", &leafnodes, &format!(", tls {{ {files} }}"));
    (GoServer::start(dir, "go-hub", &conf).await, cert)
}

fn remote(fields: &str) -> RemoteLeafOpts {
    let text = format!("leafnodes {{ remotes [ {{ {fields} }} ] }}");
    let loaded = ServerOpts::from_str(&text, Path::new(".")).expect("config");
    loaded.opts.validate().expect("valid");
    loaded.opts.leafnode.remotes.into_iter().next().unwrap()
}

async fn dial(r: &RemoteLeafOpts) -> Result<Dialed, DialError> {
    let mut reconnect = Reconnect::new(r, Duration::from_secs(1), &mut |_| 0);
    let url = reconnect.next_url().cloned().expect("a url");
    let dialer = Dialer::new(r, GoDuration(0)).expect("dialer");
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    dialer.dial(&url, &mut reconnect, nonce).await
}

/// Reads the leaf protocol from a dialled hub, unframing WebSocket frames as the upgrade
/// settled; writes ours the same way.
struct Peer {
    dialed: Dialed,
    decoder: Option<Decoder>,
    outbound: Option<Outbound>,
    text: Vec<u8>,
    message: Vec<u8>,
    message_compressed: bool,
}

impl Peer {
    fn new(dialed: Dialed) -> Peer {
        let (decoder, outbound) = match &dialed.carrier {
            Carrier::Plain => (None, None),
            Carrier::WebSocket(up) => {
                let masking = match up.mask {
                    OutboundMask::Masked => WriteMasking::Masked(Box::new(|| [7, 1, 2, 9])),
                    OutboundMask::Unmasked => WriteMasking::Unmasked,
                    _ => unreachable!(),
                };
                (
                    Some(Decoder::new(MaskPolicy::Exempt, up.compression)),
                    Some(Outbound::new(Framing::Whole, up.compression, masking)),
                )
            }
            _ => unreachable!(),
        };
        let mut peer = Peer {
            decoder,
            outbound,
            text: Vec::new(),
            message: Vec::new(),
            message_compressed: false,
            dialed,
        };
        let first = std::mem::take(&mut peer.dialed.first);
        peer.take(first);
        peer
    }

    fn take(&mut self, mut bytes: Vec<u8>) {
        let Some(decoder) = &mut self.decoder else {
            self.text.extend_from_slice(&bytes);
            return;
        };
        let mut at = 0;
        while at < bytes.len() {
            let decoded = decoder.decode(&mut bytes[at..]).expect("hub frames");
            at += decoded.consumed;
            match decoded.item {
                Some(Item::Data {
                    payload,
                    compressed,
                    message_end,
                }) => {
                    self.message.extend_from_slice(payload);
                    self.message_compressed |= compressed;
                    if message_end {
                        let message = std::mem::take(&mut self.message);
                        if std::mem::take(&mut self.message_compressed) {
                            let text = &mut self.text;
                            inflate_message(
                                &[&message, &INFLATE_TAIL],
                                1 << 20,
                                &mut |b: &[u8]| {
                                    text.extend_from_slice(b);
                                    Ok::<(), ()>(())
                                },
                            )
                            .expect("inflate");
                        } else {
                            self.text.extend_from_slice(&message);
                        }
                    }
                }
                Some(Item::Close(_)) => {
                    panic!("hub closed: {}", String::from_utf8_lossy(&self.text))
                }
                Some(_) | None => {}
            }
            if decoded.consumed == 0 {
                break;
            }
        }
    }

    /// Reads until `needle` was received.
    async fn expect(&mut self, needle: &str) {
        let until = Instant::now() + T;
        let mut buf = vec![0u8; 65536];
        while !String::from_utf8_lossy(&self.text).contains(needle) {
            let n = timeout(until - Instant::now(), self.dialed.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| {
                    panic!("no {needle:?} in {:?}", String::from_utf8_lossy(&self.text))
                })
                .unwrap();
            assert!(
                n > 0,
                "hub closed: {:?}",
                String::from_utf8_lossy(&self.text)
            );
            self.take(buf[..n].to_vec());
        }
    }

    async fn send(&mut self, text: &str) {
        let bytes = match &mut self.outbound {
            None => text.as_bytes().to_vec(),
            Some(out) => {
                let mut pending = text.as_bytes().to_vec();
                let mut framed = Collapsed::new();
                out.collapse(&mut pending, &mut framed).unwrap();
                framed.to_vec()
            }
        };
        self.dialed.stream.write_all(&bytes).await.unwrap();
    }

    /// The first INFO's JSON.
    fn info(&self) -> serde_json::Value {
        let text = String::from_utf8_lossy(&self.text);
        let line = text.lines().next().unwrap();
        serde_json::from_str(line.strip_prefix("INFO ").unwrap()).unwrap()
    }
}

/// Go's leaf INFO, then CONNECT + PING answered by PONG.
async fn exchange(dialed: Dialed) -> serde_json::Value {
    let mut peer = Peer::new(dialed);
    peer.expect("\r\n").await;
    let info = peer.info();
    assert_ne!(info["client_id"].as_u64().unwrap_or(0), 0, "{info}");
    assert!(info["leafnode_urls"].is_array(), "{info}");
    assert_eq!(info["info_on_connect"], true, "{info}");
    peer.send("CONNECT {\"server_id\":\"NLEAFTEST\",\"name\":\"leaf-test\",\"headers\":true,\"protocol\":1}\r\nPING\r\n")
        .await;
    peer.expect("PONG\r\n").await;
    info
}

#[tokio::test]
async fn dials_go_hub_over_tcp_and_websocket() {
    let dir = Dir::new("matrix");
    let hub = go_hub(&dir).await;
    let (leaf, ws) = (hub.leaf(), hub.ws());
    let dialed = dial(&remote(&format!("url: \"nats://{leaf}\"")))
        .await
        .unwrap();
    assert!(matches!(dialed.carrier, Carrier::Plain));
    let info = exchange(dialed).await;
    // Go's default leafnode compression is offered on TCP (we answer off in CONNECT).
    assert_eq!(info["compression"], "s2_auto", "{info}");

    // Go: TestLeafNodeWSBasic's leaf-side options (the hub always compresses and exempts).
    for (fields, compression, mask) in [
        ("", Compression::Off, OutboundMask::Masked),
        (
            "ws_compression: true",
            Compression::Negotiated,
            OutboundMask::Masked,
        ),
        (
            "ws_no_masking: true",
            Compression::Off,
            OutboundMask::Unmasked,
        ),
        (
            "ws_compression: true, ws_no_masking: true",
            Compression::Negotiated,
            OutboundMask::Unmasked,
        ),
    ] {
        let r = remote(&format!("url: \"ws://{ws}/some/path\", {fields}"));
        let dialed = dial(&r).await.unwrap_or_else(|e| panic!("{fields}: {e}"));
        let Carrier::WebSocket(up) = &dialed.carrier else {
            panic!("{fields}: not websocket");
        };
        assert_eq!((up.compression, up.mask), (compression, mask), "{fields}");
        let info = exchange(dialed).await;
        // Go leaves S2 out of a leaf INFO over permessage-deflate (#7969).
        let s2 = info
            .get("compression")
            .and_then(|c| c.as_str())
            .unwrap_or("");
        assert_eq!(
            s2.is_empty(),
            compression == Compression::Negotiated,
            "{fields}: {info}"
        );
    }
}

// Go: TestLeafNodeWSRemoteNoTLSBlockWithWSSProto: wss:// starts TLS without a tls {} block
// (here against the plain-text port, which cannot answer a ClientHello).
#[tokio::test]
async fn wss_starts_tls_without_a_tls_block() {
    let dir = Dir::new("wss");
    let hub = go_hub(&dir).await;
    let err = dial(&remote(&format!("url: \"wss://{}\"", hub.ws())))
        .await
        .unwrap_err();
    assert!(matches!(err, DialError::Tls(_)), "{err}");
    assert_eq!(err.stage(), Stage::Handshake);
    assert!(
        err.to_string()
            .starts_with("TLS leafnode handshake error: "),
        "{err}"
    );
}

// A hub with TLS: on TCP the INFO comes in plain text and says tls_required, then the
// handshake (with a tls {} block, or without one: the INFO alone starts TLS, which then
// fails on the unknown issuer as Go's x509 check does); wss:// is TLS from the start.
#[tokio::test]
async fn tls_hub_over_tcp_and_wss() {
    let dir = Dir::new("tls");
    let (hub, cert) = go_tls_hub(&dir, "").await;
    let (leaf, ws) = (hub.leaf(), hub.ws());
    let tls = format!("tls {{ ca_file: \"{}\" }}", cert.display());
    let dialed = dial(&remote(&format!("url: \"nats://{leaf}\", {tls}")))
        .await
        .unwrap();
    assert!(matches!(dialed.stream, LeafStream::Tls(_)));
    let info = exchange(dialed).await;
    assert_eq!(info["tls_required"], true, "{info}");

    let err = dial(&remote(&format!("url: \"nats://{leaf}\"")))
        .await
        .unwrap_err();
    assert!(matches!(err, DialError::Tls(_)), "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    let dialed = dial(&remote(&format!(
        "url: \"wss://{ws}\", ws_compression: true, {tls}"
    )))
    .await
    .unwrap();
    assert!(matches!(dialed.stream, LeafStream::Tls(_)));
    exchange(dialed).await;
}

// `tls { handshake_first: true }` on both sides: TLS before the hub's INFO.
#[tokio::test]
async fn tls_handshake_first() {
    let dir = Dir::new("tls-first");
    let (hub, cert) = go_tls_hub(&dir, ", handshake_first: true").await;
    let leaf = hub.leaf();
    let dialed = dial(&remote(&format!(
        "url: \"nats://{leaf}\", tls {{ ca_file: \"{}\", handshake_first: true }}",
        cert.display()
    )))
    .await
    .unwrap();
    assert!(matches!(dialed.stream, LeafStream::Tls(_)));
    exchange(dialed).await;
    // Without it, the INFO never comes: the hub waits for a ClientHello.
    let err = dial(&remote(&format!(
        "url: \"nats://{leaf}\", first_info_timeout: \"300ms\", tls {{ ca_file: \"{}\" }}",
        cert.display()
    )))
    .await
    .unwrap_err();
    assert!(matches!(err, DialError::ReadTimeout(_)), "{err}");
}

/// A loopback relay to `target` that holds the hub's first bytes back for `delay`.
async fn delaying_relay(target: SocketAddr, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(upstream) = TcpStream::connect(target).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut ur, mut uw) = upstream.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut uw).await;
                });
                let mut buf = vec![0u8; 65536];
                let mut first = true;
                loop {
                    let n = match ur.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if std::mem::take(&mut first) {
                        sleep(delay).await;
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

// Go: TestLeafNodeConnectionSucceedsEvenWithDelayedFirstINFO (tcp and websocket): the
// hub's first bytes 1.1 s late are fine with first_info_timeout 3 s, and fail Go's
// default of 1 s.
#[tokio::test]
async fn delayed_first_info() {
    let dir = Dir::new("delayed");
    let hub = go_hub(&dir).await;
    for (scheme, target) in [("nats", hub.leaf()), ("ws", hub.ws())] {
        let relay = delaying_relay(target, Duration::from_millis(1100)).await;
        let url = format!("url: \"{scheme}://127.0.0.1:{relay}\"");
        exchange(
            dial(&remote(&format!("{url}, first_info_timeout: \"3s\"")))
                .await
                .unwrap(),
        )
        .await;
        let err = dial(&remote(&url)).await.unwrap_err();
        assert!(matches!(err, DialError::ReadTimeout(_)), "{scheme}: {err}");
    }
}

#[tokio::test]
async fn refused_dial_is_a_connect_error() {
    let (_held, addr) = refusing_port();
    let err = dial(&remote(&format!("url: \"nats://{addr}\"")))
        .await
        .unwrap_err();
    assert_eq!(err.stage(), Stage::Connect);
    assert_eq!(
        err.to_string(),
        format!("dial tcp {addr}: connect: connection refused")
    );
}

/// A loopback HTTP CONNECT proxy: answers 407 unless `auth` (the Basic credentials) is
/// sent when required, else dials the target and relays. Counts tunnels opened.
async fn proxy(auth: Option<&'static str>) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let authorized = auth
                    .is_none_or(|a| head.contains(&format!("Proxy-Authorization: Basic {a}\r\n")));
                if !authorized {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n")
                        .await;
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    return;
                };
                let _ = tx.send(head);
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, rx)
}

// Go: TestLeafNodeHttpProxyConnection and TestLeafNodeHttpProxyWithAuthentication.
#[tokio::test]
async fn through_an_http_connect_proxy() {
    let dir = Dir::new("proxy");
    let hub = go_hub(&dir).await;
    let (leaf, ws) = (hub.leaf(), hub.ws());
    let (open, mut tunnels) = proxy(None).await;
    // Go tunnels nats:// URLs too (checked with v2.15.1, whatever its config warning
    // says); the hub's INFO may come with the proxy's 200, and is kept (CONFORMANCE 61).
    let r = remote(&format!(
        "url: \"nats://{leaf}\", proxy {{ url: \"http://127.0.0.1:{open}\" }}"
    ));
    exchange(dial(&r).await.unwrap()).await;
    let head = tunnels.recv().await.unwrap();
    assert!(
        head.starts_with(&format!("CONNECT {leaf} HTTP/1.1\r\n")),
        "{head}"
    );
    let r = remote(&format!(
        "url: \"ws://{ws}\", ws_compression: true, proxy {{ url: \"http://127.0.0.1:{open}\" }}"
    ));
    exchange(dial(&r).await.unwrap()).await;
    let head = tunnels.recv().await.unwrap();
    assert!(
        head.starts_with(&format!("CONNECT {ws} HTTP/1.1\r\nHost: {ws}\r\n")),
        "{head}"
    );

    // "user:pass" in base64.
    let (guarded, mut tunnels) = proxy(Some("dXNlcjpwYXNz")).await;
    let with = |user: &str, pass: &str| {
        remote(&format!(
            "url: \"ws://{ws}\", proxy {{ url: \"http://127.0.0.1:{guarded}\", username: \"{user}\", password: \"{pass}\" }}"
        ))
    };
    exchange(dial(&with("user", "pass")).await.unwrap()).await;
    assert!(tunnels.recv().await.is_some());
    let err = dial(&with("user", "wrong")).await.unwrap_err();
    assert_eq!(err.stage(), Stage::Connect);
    assert_eq!(
        err.to_string(),
        "proxy CONNECT failed: 407 Proxy Authentication Required"
    );
    // No proxy listening.
    let (_held, addr) = refusing_port();
    let err = dial(&remote(&format!(
        "url: \"ws://{ws}\", proxy {{ url: \"http://{addr}\" }}"
    )))
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("failed to connect to proxy: dial tcp {addr}: connect: connection refused")
    );
}

// Go: TestLeafNodeDetectsStaleConnectionIfNoInfo / the first_info_timeout: a peer that
// accepts and says nothing fails the dial at the deadline, for TCP and for the upgrade.
#[tokio::test]
async fn silent_peer_times_out_at_first_info_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    for scheme in ["nats", "ws"] {
        let started = Instant::now();
        let err = dial(&remote(&format!(
            "url: \"{scheme}://127.0.0.1:{port}\", first_info_timeout: \"300ms\""
        )))
        .await
        .unwrap_err();
        let took = started.elapsed();
        assert!(matches!(err, DialError::ReadTimeout(_)), "{scheme}: {err}");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{scheme}: {took:?}"
        );
        assert!(err.to_string().ends_with(": i/o timeout"), "{err}");
    }
}
