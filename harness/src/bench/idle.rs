//! Idle connections: the server's RSS per upgraded WebSocket connection and its CPU use
//! while they sit idle; at the end every connection must still answer a PING.

use std::time::{Duration, Instant};

use crate::bench::conn::WsConn;
use crate::bench::target::{ProcStats, Started, proc_stats};

/// What an idle run measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IdleResult {
    /// Connections requested.
    pub conns: usize,
    /// permessage-deflate negotiated on every connection.
    pub compress: bool,
    /// Server RSS before any connection, bytes.
    pub base_rss: u64,
    /// Server RSS with every connection open and idle, bytes.
    pub rss: u64,
    /// `(rss - base_rss) / conns`, bytes.
    pub rss_per_conn: f64,
    /// Seconds to open (upgrade, CONNECT, PING/PONG) all connections, one after another.
    pub open_secs: f64,
    /// Server CPU (user + system) while idle, percent of one core.
    pub idle_cpu_percent: f64,
    /// Connections that answered the final PING.
    pub alive: usize,
}

/// Opens `n` connections, waits `settle`, measures over `window`, then PINGs every one.
pub fn run(
    started: &Started,
    n: usize,
    compress: bool,
    settle: Duration,
    window: Duration,
) -> Result<IdleResult, String> {
    let pid = started
        .pid
        .ok_or("idle runs need the server's process id (--pid)")?;
    let stats = || proc_stats(pid).ok_or_else(|| format!("cannot read /proc/{pid}"));
    std::thread::sleep(Duration::from_millis(500));
    let base: ProcStats = stats()?;
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = WsConn::handshake(&started.ws, compress, i as u64 + 1, b"")
            .map_err(|e| format!("connection {i}: {e}"))?;
        c.shrink();
        conns.push(c);
    }
    let open_secs = start.elapsed().as_secs_f64();
    std::thread::sleep(settle);
    let s1 = stats()?;
    std::thread::sleep(window);
    let s2 = stats()?;
    let mut alive = 0;
    for c in &mut conns {
        if c.flush_ping().is_ok() {
            alive += 1;
        }
        c.shrink();
    }
    drop(conns);
    Ok(IdleResult {
        conns: n,
        compress,
        base_rss: base.rss,
        rss: s2.rss,
        rss_per_conn: (s2.rss.saturating_sub(base.rss)) as f64 / n.max(1) as f64,
        open_secs,
        idle_cpu_percent: (s2.cpu_secs - s1.cpu_secs) / window.as_secs_f64() * 100.0,
        alive,
    })
}
