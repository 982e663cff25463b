//! A trivial in-process server used only to show the load tool's own headroom: it
//! parses what publishers send (nats-ws `Reader` + NATS `Parser`), answers PINGs, and
//! streams ready-made MSG frames to subscribers as fast as the TCP publisher publishes.
//! No routing, no subscription list: whatever a real server does beyond this is server cost.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nats_ws::codec::{Collapsed, Outbound, Reader, WriteMasking};
use nats_ws::nats::{Op, Parser};
use nats_ws::policy::{Compression, Framing, MaskPolicy};

const INFO: &[u8] = b"INFO {\"server_id\":\"sink\",\"version\":\"2.15.1\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n";

struct Shared {
    compress: bool,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: AtomicBool,
    published: AtomicU64,
    payload: Mutex<Option<Vec<u8>>>,
}

/// The running sink: two listeners and their threads.
pub struct Sink {
    ws: SocketAddr,
    nats: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("ws", &self.ws)
            .field("nats", &self.nats)
            .finish_non_exhaustive()
    }
}

/// A rustls server configuration from the generated `server-cert.pem`/`server-key.pem`.
pub fn server_config(dir: &Path) -> Result<rustls::ServerConfig, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(dir.join("server-cert.pem"))
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let key =
        PrivateKeyDer::from_pem_file(dir.join("server-key.pem")).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())
}

impl Sink {
    /// Listens on two free loopback ports.
    pub fn start(compress: bool, tls: Option<Arc<rustls::ServerConfig>>) -> Result<Sink, String> {
        let shared = Arc::new(Shared {
            compress,
            tls,
            stop: AtomicBool::new(false),
            published: AtomicU64::new(0),
            payload: Mutex::new(None),
        });
        let ws_l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let nats_l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let ws = ws_l.local_addr().map_err(|e| e.to_string())?;
        let nats = nats_l.local_addr().map_err(|e| e.to_string())?;
        let mut threads = Vec::new();
        for (l, is_ws) in [(ws_l, true), (nats_l, false)] {
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            let shared = Arc::clone(&shared);
            threads.push(std::thread::spawn(move || accept_loop(&l, is_ws, &shared)));
        }
        Ok(Sink {
            ws,
            nats,
            shared,
            threads,
        })
    }

    /// The WebSocket listener.
    pub fn ws_addr(&self) -> SocketAddr {
        self.ws
    }

    /// The NATS listener.
    pub fn nats_addr(&self) -> SocketAddr {
        self.nats
    }

    /// Stops every thread.
    pub fn stop(self) {
        self.shared.stop.store(true, Ordering::Release);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(l: &TcpListener, is_ws: bool, shared: &Arc<Shared>) {
    let mut conns = Vec::new();
    while !shared.stop.load(Ordering::Acquire) {
        match l.accept() {
            Ok((tcp, _)) => {
                let shared = Arc::clone(shared);
                conns.push(std::thread::spawn(move || {
                    let _ = if is_ws {
                        serve_ws(tcp, &shared)
                    } else {
                        serve_nats(tcp, &shared)
                    };
                }));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    for c in conns {
        let _ = c.join();
    }
}

fn io_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn prepare(tcp: &TcpStream) -> Result<(), String> {
    tcp.set_nonblocking(false).map_err(io_err)?;
    tcp.set_nodelay(true).map_err(io_err)?;
    tcp.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(io_err)?;
    tcp.set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(io_err)
}

/// Reads once; `Ok(None)` on a timeout slice.
fn read_some(s: &mut impl Read, buf: &mut [u8]) -> Result<Option<usize>, String> {
    match s.read(buf) {
        Ok(0) => Err("closed".to_owned()),
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

fn serve_ws(tcp: TcpStream, shared: &Shared) -> Result<(), String> {
    prepare(&tcp)?;
    match &shared.tls {
        None => serve_ws_on(tcp, shared),
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(Arc::clone(cfg)).map_err(io_err)?;
            serve_ws_on(rustls::StreamOwned::new(conn, tcp), shared)
        }
    }
}

fn serve_ws_on(mut s: impl Read + Write, shared: &Shared) -> Result<(), String> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let end = loop {
        if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if shared.stop.load(Ordering::Acquire) || head.len() > 64 * 1024 {
            return Ok(());
        }
        if let Some(n) = read_some(&mut s, &mut buf)? {
            head.extend_from_slice(&buf[..n]);
        }
    };
    let offered = String::from_utf8_lossy(&head[..end])
        .to_ascii_lowercase()
        .contains("permessage-deflate");
    let mode = if offered && shared.compress {
        Compression::Negotiated
    } else {
        Compression::Off
    };
    let ext = if mode == Compression::Negotiated {
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
    } else {
        ""
    };
    // The accept value for the fixed key the load tool sends (RFC 6455 §1.3's example).
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n"
    );
    s.write_all(resp.as_bytes()).map_err(io_err)?;
    let mut out = Outbound::new(Framing::Whole, mode, WriteMasking::Unmasked);
    let mut collapsed = Collapsed::new();
    let mut pending = INFO.to_vec();
    send(&mut s, &mut out, &mut pending, &mut collapsed)?;
    let mut reader = Reader::new(MaskPolicy::Required, mode, 1 << 20);
    let mut parser = Parser::new(1 << 20, 4096);
    let mut input: Vec<u8> = head[end..].to_vec();
    let mut subscribed = false;
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }
        let n = if input.is_empty() {
            match read_some(&mut s, &mut buf)? {
                Some(n) => n,
                None => continue,
            }
        } else {
            let n = input.len().min(buf.len());
            buf[..n].copy_from_slice(&input[..n]);
            input.drain(..n);
            n
        };
        let mut handler = |op: Op<'_>| -> Result<(), String> {
            match op {
                Op::Ping => pending.extend_from_slice(b"PONG\r\n"),
                Op::Sub { .. } => subscribed = true,
                _ => {}
            }
            Ok(())
        };
        let mut deliver = |b: &[u8]| parser.parse(b, &mut handler).map_err(|e| format!("{e:?}"));
        reader
            .read(&mut buf[..n], &mut out, &mut deliver)
            .map_err(|e| e.to_string())?;
        if !pending.is_empty() || out.has_queued() {
            send(&mut s, &mut out, &mut pending, &mut collapsed)?;
        }
        if subscribed && pending.is_empty() {
            return deliver_msgs(&mut s, shared, &mut out, &mut collapsed);
        }
    }
}

fn send(
    s: &mut impl Write,
    out: &mut Outbound,
    pending: &mut Vec<u8>,
    collapsed: &mut Collapsed,
) -> Result<(), String> {
    out.collapse(pending, collapsed).map_err(io_err)?;
    for part in collapsed.slices() {
        s.write_all(part).map_err(io_err)?;
    }
    s.flush().map_err(io_err)
}

/// Streams `MSG a 1 <n>` frames until the subscriber goes away or the sink stops: one
/// frame per ~32 KiB of messages, each as published so far.
fn deliver_msgs(
    s: &mut impl Write,
    shared: &Shared,
    out: &mut Outbound,
    collapsed: &mut Collapsed,
) -> Result<(), String> {
    let mut delivered = 0u64;
    let mut full: Option<(Vec<u8>, u64)> = None;
    let mut msg = Vec::new();
    let mut pending = Vec::new();
    while !shared.stop.load(Ordering::Acquire) {
        let published = shared.published.load(Ordering::Acquire);
        if published <= delivered {
            std::thread::sleep(Duration::from_micros(20));
            continue;
        }
        if msg.is_empty() {
            let Ok(guard) = shared.payload.lock() else {
                return Err("poisoned".to_owned());
            };
            let Some(p) = guard.as_ref() else {
                continue;
            };
            msg = format!("MSG a 1 {}\r\n", p.len()).into_bytes();
            msg.extend_from_slice(p);
            msg.extend_from_slice(b"\r\n");
        }
        let per_frame = (32 * 1024 / msg.len()).max(1) as u64;
        let n = per_frame.min(published - delivered);
        if n == per_frame {
            if full.is_none() {
                for _ in 0..n {
                    pending.extend_from_slice(&msg);
                }
                out.collapse(&mut pending, collapsed).map_err(io_err)?;
                full = Some((collapsed.to_vec(), n));
            }
            if let Some((bytes, _)) = &full {
                s.write_all(bytes).map_err(io_err)?;
            }
        } else {
            for _ in 0..n {
                pending.extend_from_slice(&msg);
            }
            send(s, out, &mut pending, collapsed)?;
        }
        delivered += n;
    }
    Ok(())
}

fn serve_nats(mut tcp: TcpStream, shared: &Shared) -> Result<(), String> {
    prepare(&tcp)?;
    tcp.write_all(INFO).map_err(io_err)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut parser = Parser::new(1 << 20, 4096);
    while !shared.stop.load(Ordering::Acquire) {
        let Some(n) = read_some(&mut tcp, &mut buf)? else {
            continue;
        };
        let mut pongs = 0usize;
        let mut pubs = 0u64;
        parser
            .parse(&buf[..n], &mut |op: Op<'_>| -> Result<(), String> {
                match op {
                    Op::Ping => pongs += 1,
                    Op::Pub(p) => {
                        if pubs == 0
                            && shared.published.load(Ordering::Relaxed) == 0
                            && let Ok(mut g) = shared.payload.lock()
                            && g.is_none()
                        {
                            *g = Some(p.payload.to_vec());
                        }
                        pubs += 1;
                    }
                    _ => {}
                }
                Ok(())
            })
            .map_err(|e| format!("{e:?}"))?;
        if pubs > 0 {
            shared.published.fetch_add(pubs, Ordering::AcqRel);
        }
        for _ in 0..pongs {
            tcp.write_all(b"PONG\r\n").map_err(io_err)?;
        }
    }
    Ok(())
}
