//! Messages crossing a leafnode: a hub server and a leaf server (any two commands, e.g.
//! nats-ws as the leaf of a Go hub next to Go as the leaf of a Go hub), one plain NATS
//! publisher on the leaf, one subscriber on the hub; msgs/s from the first PUB to the last
//! verified MSG. Leafnode S2 compression is off on both sides (nats-ws does not implement
//! it; a cell compares the transports, not the compressors).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bench::scan::{Event, Expect, Scanner};
use crate::bench::{SUBJECT, pub_batch, pub_proto};
use crate::certs::Certs;
use crate::peer::http::get_json;
use crate::target::{External, Placeholders, Running};

/// How long a cell may take before it is abandoned.
const CELL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the leafnode connection and the subscription's interest may take.
const LINK_TIMEOUT: Duration = Duration::from_secs(10);

/// How the leaf reaches the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `ws://` to the hub's websocket listener (path `/leafnode`).
    Ws,
    /// `nats://` to the hub's leafnode listener.
    Tcp,
}

/// A leaf command and a hub command (`{conf}` is each one's configuration file).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pair {
    /// Name in the report.
    pub name: String,
    /// Starts the leaf server.
    pub leaf_cmd: String,
    /// Starts the hub server.
    pub hub_cmd: String,
}

impl Pair {
    /// Parses `NAME=LEAF_CMD|HUB_CMD`.
    pub fn parse(text: &str) -> Result<Pair, String> {
        let (name, cmds) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: want NAME=LEAF_CMD|HUB_CMD"))?;
        let (leaf, hub) = cmds
            .split_once('|')
            .ok_or_else(|| format!("{text:?}: want NAME=LEAF_CMD|HUB_CMD"))?;
        Ok(Pair {
            name: name.to_owned(),
            leaf_cmd: leaf.trim().to_owned(),
            hub_cmd: hub.trim().to_owned(),
        })
    }
}

/// One measured run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeafRun {
    /// The pair's name.
    pub pair: String,
    /// The transport.
    pub transport: Transport,
    /// Payload bytes.
    pub size: usize,
    /// Messages published (and all received).
    pub messages: u64,
    /// Messages per second across the leafnode.
    pub msgs_per_sec: f64,
}

/// Starts the hub, then the leaf; runs one cell; stops both.
pub fn run(
    pair: &Pair,
    transport: Transport,
    payload: &[u8],
    messages: u64,
    window_bytes: usize,
    certs: &Certs,
    dir: &std::path::Path,
) -> Result<LeafRun, String> {
    let hub_ports = Placeholders::new(certs)?;
    let leaf_ports = Placeholders::new(certs)?;
    let hub_conf = format!(
        "listen: \"127.0.0.1:{}\"\nhttp: \"127.0.0.1:{}\"\n\
         websocket {{ listen: \"127.0.0.1:{}\", no_tls: true }}\n\
         leafnodes {{ listen: \"127.0.0.1:{}\", compression: off }}\n",
        hub_ports.client_port, hub_ports.http_port, hub_ports.ws_port, hub_ports.leaf_port
    );
    let url = match transport {
        Transport::Ws => format!("ws://127.0.0.1:{}", hub_ports.ws_port),
        Transport::Tcp => format!("nats://127.0.0.1:{}", hub_ports.leaf_port),
    };
    let leaf_conf = format!(
        "listen: \"127.0.0.1:{}\"\nhttp: \"127.0.0.1:{}\"\n\
         leafnodes {{ remotes [ {{ url: \"{url}\", compression: off }} ] }}\n",
        leaf_ports.client_port, leaf_ports.http_port
    );
    let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let hub = External::start_ready(
        &pair.hub_cmd,
        &hub_conf,
        &hub_ports,
        dir,
        &format!("hub-{}", hub_ports.client_port),
        &[
            addr(hub_ports.client_port),
            addr(hub_ports.ws_port),
            addr(hub_ports.http_port),
        ],
    )
    .map(Box::new)?;
    let leaf = External::start_ready(
        &pair.leaf_cmd,
        &leaf_conf,
        &leaf_ports,
        dir,
        &format!("leaf-{}", leaf_ports.client_port),
        &[addr(leaf_ports.client_port), addr(leaf_ports.http_port)],
    )
    .map(Box::new);
    let leaf = match leaf {
        Ok(l) => l,
        Err(e) => {
            hub.stop();
            return Err(e);
        }
    };
    let result = measure(
        addr(hub_ports.client_port),
        addr(leaf_ports.client_port),
        (addr(hub_ports.http_port), addr(leaf_ports.http_port)),
        payload,
        messages,
        window_bytes,
    );
    leaf.stop();
    hub.stop();
    let secs = result?;
    Ok(LeafRun {
        pair: pair.name.clone(),
        transport,
        size: payload.len(),
        messages,
        msgs_per_sec: messages as f64 / secs.max(1e-9),
    })
}

/// Waits for the link and the interest, then publishes `messages` on the leaf and times
/// their arrival on the hub; the seconds it took.
fn measure(
    hub: SocketAddr,
    leaf: SocketAddr,
    (hub_http, leaf_http): (SocketAddr, SocketAddr),
    payload: &[u8],
    messages: u64,
    window_bytes: usize,
) -> Result<f64, String> {
    wait_for(&format!("a leafnode connection on {hub_http}"), || {
        leafz(hub_http).is_ok_and(|v| v.get("leafnodes").and_then(Value::as_u64) == Some(1))
    })?;
    let mut sub = client(hub)?;
    sub.write_all(format!("SUB {SUBJECT} 1\r\nPING\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    wait_for(&format!("interest in {SUBJECT} on {leaf_http}"), || {
        leafz(leaf_http).is_ok_and(|v| v.to_string().contains(&format!("\"{SUBJECT}\"")))
    })?;
    let received = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let reader = {
        let (received, failed) = (received.clone(), failed.clone());
        let expect = Expect::new(SUBJECT, "1", payload);
        std::thread::spawn(move || read_msgs(sub, expect, messages, &received, &failed))
    };
    let mut publisher = client(leaf)?;
    let proto = pub_proto(payload);
    let per_msg = (proto.len() as u64).max(1);
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < messages && !failed.load(Ordering::Relaxed) {
        if started.elapsed() > CELL_TIMEOUT {
            break;
        }
        // Paced: at most `window_bytes` ahead of the subscriber, so no server drops a
        // slow consumer.
        let ahead = (sent - received.load(Ordering::Relaxed)) * per_msg;
        if ahead > window_bytes as u64 {
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        let (batch, n) = pub_batch(&proto, messages - sent);
        publisher.write_all(&batch).map_err(|e| e.to_string())?;
        sent += n;
    }
    let done = reader
        .join()
        .map_err(|_| "the subscriber thread panicked")?;
    let secs = started.elapsed().as_secs_f64();
    done?;
    Ok(secs)
}

/// Reads the subscriber's stream until `messages` verified MSGs arrived.
fn read_msgs(
    mut sub: TcpStream,
    expect: Expect,
    messages: u64,
    received: &AtomicU64,
    failed: &AtomicBool,
) -> Result<(), String> {
    let mut scanner = Scanner::expecting(expect);
    let mut events = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let deadline = Instant::now() + CELL_TIMEOUT;
    let fail = |e: String| {
        failed.store(true, Ordering::Relaxed);
        Err(e)
    };
    while scanner.count < messages {
        if Instant::now() > deadline {
            return fail(format!("{} of {messages} messages arrived", scanner.count));
        }
        match sub.read(&mut buf) {
            Ok(0) => return fail("the hub closed the subscriber".to_owned()),
            Ok(n) => {
                if let Err(e) = scanner.feed(&buf[..n], &mut events) {
                    return fail(e);
                }
                if events.drain(..).any(|e| e == Event::Ping) {
                    let _ = sub.write_all(b"PONG\r\n");
                }
                received.store(scanner.count, Ordering::Relaxed);
            }
            Err(e) if crate::peer::transport::would_block(&e) => {}
            Err(e) => return fail(e.to_string()),
        }
    }
    Ok(())
}

/// A plain NATS connection past INFO and CONNECT.
fn client(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
        .map_err(|e| e.to_string())?;
    Ok(s)
}

fn leafz(addr: SocketAddr) -> Result<Value, String> {
    get_json(addr, "/leafz?subs=1", Duration::from_secs(2))
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + LINK_TIMEOUT;
    while !ok() {
        if Instant::now() > deadline {
            return Err(format!("no {what} within {LINK_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
