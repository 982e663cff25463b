//! Loopback stand-ins placed between servers by multi-server fixtures: a counting (and
//! optionally delaying) relay, a silent peer, a peer that answers garbage, and an HTTP
//! `CONNECT` proxy. Blocking threads, one pair per relayed connection; everything stops
//! when the [`Proxy`] is dropped.
//!
//! Limits: at most [`MAX_CONNECTIONS`] connections per proxy (more are closed at once), the
//! first [`RECORD_LIMIT`] bytes of each direction are kept for expectations, an HTTP head
//! is read up to [`MAX_HEAD`] bytes.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;

/// Bytes of each direction kept for `up_contains` / `down_contains`.
pub const RECORD_LIMIT: usize = 64 * 1024;
/// Connections one proxy accepts over its life.
pub const MAX_CONNECTIONS: usize = 256;
/// Largest HTTP request head read (Go's test proxy reads one 4096-byte buffer).
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a blocked read waits before re-checking the stop flag.
const SLICE: Duration = Duration::from_millis(50);

/// What a proxy does with each connection (addresses resolved).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Behaviour {
    /// Relay to `to`; each read waits `rtt / 2` before it is passed on.
    Forward {
        /// The far side.
        to: SocketAddr,
        /// Added round-trip time.
        rtt: Duration,
        /// A header removed from the first HTTP request relayed upstream.
        strip_request_header: Option<String>,
    },
    /// Read, never write.
    Silent,
    /// Write these bytes once something arrived (or after 100 ms), then close.
    Reply(Vec<u8>),
    /// An HTTP `CONNECT` proxy, requiring `Proxy-Authorization: Basic` for these
    /// credentials when given.
    HttpConnect(Option<(String, String)>),
}

/// What a proxy saw: `up` is from the connecting side, `down` toward it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: usize,
    /// Bytes received from the connecting sides.
    pub up: u64,
    /// Bytes received from the far sides (or written, for `reply`).
    pub down: u64,
    /// The first [`RECORD_LIMIT`] bytes upstream, connections one after the other.
    pub up_head: Vec<u8>,
    /// The same downstream.
    pub down_head: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Dir {
    Up,
    Down,
}

/// Shared between the proxy's threads.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    stats: Mutex<Stats>,
    /// Every socket opened, to shut them down at the end.
    sockets: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn record(&self, dir: Dir, bytes: &[u8]) {
        if let Ok(mut guard) = self.stats.lock() {
            let s = &mut *guard;
            let (count, head) = match dir {
                Dir::Up => (&mut s.up, &mut s.up_head),
                Dir::Down => (&mut s.down, &mut s.down_head),
            };
            *count += bytes.len() as u64;
            let room = RECORD_LIMIT.saturating_sub(head.len());
            head.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
    }

    fn keep(&self, s: &TcpStream) {
        if let (Ok(clone), Ok(mut all)) = (s.try_clone(), self.sockets.lock()) {
            all.push(clone);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A running stand-in on a loopback port.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on an ephemeral loopback port and serves `behaviour` on each connection.
    pub fn start(behaviour: Behaviour) -> Result<Proxy, String> {
        if let Behaviour::Forward { to, .. } = &behaviour
            && !to.ip().is_loopback()
        {
            return Err(format!("refusing non-loopback proxy target {to}"));
        }
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared::default());
        let inner = shared.clone();
        let accept = std::thread::spawn(move || accept_loop(&listener, &behaviour, &inner));
        Ok(Proxy {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it saw so far.
    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Zeroes the counts and records (the connection count stays).
    pub fn reset(&self) {
        if let Ok(mut s) = self.shared.stats.lock() {
            *s = Stats {
                connections: s.connections,
                ..Stats::default()
            };
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Ok(all) = self.shared.sockets.lock() {
            for s in all.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, behaviour: &Behaviour, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopped() {
        match listener.accept() {
            Ok((conn, _)) => {
                let accepted = shared
                    .stats
                    .lock()
                    .map(|mut s| {
                        s.connections += 1;
                        s.connections
                    })
                    .unwrap_or(usize::MAX);
                if accepted > MAX_CONNECTIONS || conn.set_nonblocking(false).is_err() {
                    continue;
                }
                let _ = conn.set_read_timeout(Some(SLICE));
                let _ = conn.set_nodelay(true);
                shared.keep(&conn);
                let (b, s) = (behaviour.clone(), shared.clone());
                workers.push(std::thread::spawn(move || serve(conn, &b, &s)));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

fn serve(mut conn: TcpStream, behaviour: &Behaviour, shared: &Arc<Shared>) {
    match behaviour {
        Behaviour::Forward {
            to,
            rtt,
            strip_request_header,
        } => {
            let mut first = Vec::new();
            if let Some(name) = strip_request_header {
                let Some(head) = read_head(&mut conn, shared) else {
                    return;
                };
                shared.record(Dir::Up, &head);
                first = strip_header(&head, name);
            }
            let Ok(upstream) = TcpStream::connect_timeout(to, Duration::from_secs(1)) else {
                return;
            };
            relay(conn, upstream, &first, *rtt / 2, shared);
        }
        Behaviour::Silent => {
            let mut buf = [0u8; 4096];
            while !shared.stopped() {
                match conn.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => shared.record(Dir::Up, &buf[..n]),
                    Err(e) if would_block(&e) => {}
                    Err(_) => return,
                }
            }
        }
        Behaviour::Reply(data) => {
            let mut buf = [0u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
            if let Ok(n) = conn.read(&mut buf) {
                shared.record(Dir::Up, &buf[..n]);
            }
            if conn.write_all(data).is_ok() {
                shared.record(Dir::Down, data);
            }
            let _ = conn.shutdown(Shutdown::Both);
        }
        Behaviour::HttpConnect(credentials) => http_connect(conn, credentials.as_ref(), shared),
    }
}

/// Go's testHTTPProxy: `CONNECT host:port`, optional Basic credentials, `200 Connection
/// established`, then a plain relay.
fn http_connect(mut conn: TcpStream, credentials: Option<&(String, String)>, shared: &Arc<Shared>) {
    let Some(head) = read_head(&mut conn, shared) else {
        return;
    };
    shared.record(Dir::Up, &head);
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut answer = |status: &str| {
        let line = format!("HTTP/1.1 {status}\r\n\r\n");
        shared.record(Dir::Down, line.as_bytes());
        let _ = conn.write_all(line.as_bytes());
    };
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|t| t.parse::<SocketAddr>().ok());
    let Some(target) = target else {
        return answer("400 Bad Request");
    };
    if let Some((user, pass)) = credentials {
        let want = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let authorized = lines.any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == format!("Basic {want}")
            })
        });
        if !authorized {
            return answer("407 Proxy Authentication Required");
        }
    }
    if !target.ip().is_loopback() {
        return answer("403 Forbidden");
    }
    let Ok(upstream) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) else {
        return answer("502 Bad Gateway");
    };
    answer("200 Connection established");
    relay(conn, upstream, &[], Duration::ZERO, shared);
}

/// Relays both ways until either side ends; `first` goes upstream before anything else.
fn relay(down: TcpStream, up: TcpStream, first: &[u8], delay: Duration, shared: &Arc<Shared>) {
    let _ = up.set_read_timeout(Some(SLICE));
    let _ = up.set_nodelay(true);
    shared.keep(&up);
    let (Ok(down2), Ok(mut up2)) = (down.try_clone(), up.try_clone()) else {
        return;
    };
    if !first.is_empty() && up2.write_all(first).is_err() {
        return;
    }
    let s = shared.clone();
    let back = std::thread::spawn(move || pump(up2, down2, Dir::Down, delay, &s));
    pump(down, up, Dir::Up, delay, shared);
    let _ = back.join();
}

/// Copies `from` to `to`, recording as `dir`; the end of either shuts both down.
fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, delay: Duration, shared: &Shared) {
    let mut buf = vec![0u8; 32 * 1024];
    while !shared.stopped() {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                shared.record(dir, &buf[..n]);
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if would_block(&e) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Reads an HTTP head (up to the blank line, at most [`MAX_HEAD`] bytes, within 5 s);
/// anything read after it is kept at the end.
fn read_head(conn: &mut TcpStream, shared: &Shared) -> Option<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() >= MAX_HEAD || Instant::now() >= deadline || shared.stopped() {
            return None;
        }
        match conn.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if would_block(&e) => {}
            Err(_) => return None,
        }
    }
    Some(head)
}

/// `head` without the header lines named `name` (any case) before the blank line.
fn strip_header(head: &[u8], name: &str) -> Vec<u8> {
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    let text = String::from_utf8_lossy(&head[..end]);
    let mut out: Vec<u8> = text
        .split_inclusive("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_none_or(|(k, _)| !k.trim().eq_ignore_ascii_case(name))
        })
        .flat_map(|l| l.bytes())
        .collect();
    out.extend_from_slice(&head[end..]);
    out
}

fn would_block(e: &std::io::Error) -> bool {
    crate::peer::transport::would_block(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> (SocketAddr, JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let t = std::thread::spawn(move || {
            if let Ok((mut c, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 || c.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        (addr, t)
    }

    fn roundtrip(c: &mut TcpStream, send: &[u8], want: usize) -> Vec<u8> {
        c.write_all(send).unwrap_or_else(|e| panic!("{e}"));
        c.set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut got = vec![0u8; want];
        c.read_exact(&mut got).unwrap_or_else(|e| panic!("{e}"));
        got
    }

    #[test]
    fn forward_counts_and_strips_a_request_header() {
        let (addr, server) = echo_server();
        let p = Proxy::start(Behaviour::Forward {
            to: addr,
            rtt: Duration::ZERO,
            strip_request_header: Some("nats-no-masking".to_owned()),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut c = TcpStream::connect(p.addr()).unwrap_or_else(|e| panic!("{e}"));
        let req = b"GET / HTTP/1.1\r\nNats-No-Masking: true\r\nHost: x\r\n\r\n";
        let want = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(roundtrip(&mut c, req, want.len()), want);
        assert_eq!(roundtrip(&mut c, b"hello", 5), b"hello");
        let s = p.stats();
        assert_eq!(
            (s.connections, s.up, s.down),
            (1, req.len() as u64 + 5, want.len() as u64 + 5)
        );
        p.reset();
        assert_eq!(p.stats().up, 0);
        drop(c);
        drop(p);
        let _ = server.join();
    }

    #[test]
    fn http_connect_requires_the_credentials_and_relays() {
        let (addr, server) = echo_server();
        let p = Proxy::start(Behaviour::HttpConnect(Some((
            "u".to_owned(),
            "p".to_owned(),
        ))))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut c = TcpStream::connect(p.addr()).unwrap_or_else(|e| panic!("{e}"));
        let denied = b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
        let req = format!("CONNECT {addr} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        assert_eq!(roundtrip(&mut c, req.as_bytes(), denied.len()), denied);
        let mut c = TcpStream::connect(p.addr()).unwrap_or_else(|e| panic!("{e}"));
        let req = format!("CONNECT {addr} HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
        let ok = b"HTTP/1.1 200 Connection established\r\n\r\n";
        assert_eq!(roundtrip(&mut c, req.as_bytes(), ok.len()), ok);
        assert_eq!(roundtrip(&mut c, b"ping", 4), b"ping");
        drop(c);
        drop(p);
        let _ = server.join();
    }
}
