//! syslog (`-s`, `syslog: true`) and remote syslog (`-r`, `remote_syslog: "udp://h:p"`),
//! with the message format of Go's `log/syslog` (logger/syslog.go).

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::Duration;

use super::LogLevel;
use crate::goquote::quote;

/// How long one write to a stream syslog (tcp, unix) may block the logging thread. Go
/// has no bound; a collector that stops reading would stall every log call.
pub const SYSLOG_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The local syslog sockets Go's `log/syslog` tries, in order.
const LOCAL_SOCKETS: [&str; 3] = ["/dev/log", "/var/run/syslog", "/var/run/log"];

/// Where syslog lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyslogTarget {
    /// `-s`: the local syslog daemon's socket, facility daemon (Go: `syslog.New`).
    Local,
    /// `-r udp://host:port`.
    Udp(String),
    /// `-r tcp://host:port`.
    Tcp(String),
    /// `-r unix:///path` (a stream socket).
    Unix(String),
}

impl SyslogTarget {
    /// Go `getNetworkAndAddr`: the scheme picks the network; host:port for udp and tcp,
    /// the path for unix. Errors are Go's texts.
    pub fn parse_remote(url: &str) -> Result<Self, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            // Go's url.Parse takes a string without "scheme://" as a path: no scheme.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            return Err(format!("error invalid network type: {}", quote(scheme)));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        match scheme {
            "udp" => Ok(Self::Udp(authority.to_owned())),
            "tcp" => Ok(Self::Tcp(authority.to_owned())),
            "unix" => Ok(Self::Unix(path.to_owned())),
            other => Err(format!("error invalid network type: {}", quote(other))),
        }
    }
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Unix(UnixStream),
    LocalDgram(UnixDatagram),
}

/// A syslog connection (Go: `syslog.Writer`), reconnecting once when a write fails.
pub(super) struct Syslog {
    target: SyslogTarget,
    conn: Option<Conn>,
    tag: String,
    hostname: String,
    pid: u32,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("target", &self.target)
            .finish()
    }
}

impl Syslog {
    /// Connects (Go: `syslog.Dial` / `syslog.New`); the error is Go's
    /// `error connecting to syslog: "..."` text.
    pub(super) fn connect(target: SyslogTarget) -> Result<Self, String> {
        let conn =
            dial(&target).map_err(|e| format!("error connecting to syslog: {}", quote(&e)))?;
        Ok(Self {
            target,
            conn: Some(conn),
            tag: tag(),
            hostname: hostname(),
            pid: std::process::id(),
        })
    }

    /// Sends one message at `level`'s priority (Go: `writeAndRetry`).
    pub(super) fn send(&mut self, level: LogLevel, text: &str) {
        let msg = self.format(level, text, &jiff::Zoned::now());
        if let Some(c) = &mut self.conn
            && write(c, msg.as_bytes()).is_ok()
        {
            return;
        }
        self.conn = dial(&self.target).ok();
        if let Some(c) = &mut self.conn {
            let _ = write(c, msg.as_bytes());
        }
    }

    /// Go's `netConn.writeString`: `<pri>RFC3339 host tag[pid]: msg` to a remote
    /// collector, `<pri>Stamp tag[pid]: msg` to the local one; a newline is added.
    fn format(&self, level: LogLevel, text: &str, now: &jiff::Zoned) -> String {
        let pri = priority(&self.target, level);
        let nl = if text.ends_with('\n') { "" } else { "\n" };
        let (tag, pid) = (&self.tag, self.pid);
        if self.target == SyslogTarget::Local {
            let stamp = now.strftime("%b %e %H:%M:%S");
            format!("<{pri}>{stamp} {tag}[{pid}]: {text}{nl}")
        } else {
            format!(
                "<{pri}>{} {} {tag}[{pid}]: {text}{nl}",
                rfc3339(now),
                self.hostname
            )
        }
    }
}

/// Go: the remote writer is dialed with `LOG_DEBUG` (facility kern, 0), the local one
/// with `LOG_DAEMON|LOG_NOTICE` (facility 3); severities: fatal → crit, trace → notice.
fn priority(target: &SyslogTarget, level: LogLevel) -> u8 {
    let facility = if *target == SyslogTarget::Local {
        3 << 3
    } else {
        0
    };
    let severity = match level {
        LogLevel::Fatal => 2,
        LogLevel::Error => 3,
        LogLevel::Warn => 4,
        LogLevel::Info | LogLevel::Trace => 5,
        LogLevel::Debug => 7,
    };
    facility | severity
}

/// Go's `time.RFC3339` in local time: `2006-01-02T15:04:05Z07:00`.
fn rfc3339(now: &jiff::Zoned) -> String {
    let offset = now.offset().seconds();
    let base = now.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if offset == 0 {
        format!("{base}Z")
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.unsigned_abs();
        format!("{base}{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
    }
}

fn dial(target: &SyslogTarget) -> Result<Conn, String> {
    match target {
        SyslogTarget::Udp(addr) => {
            let addr = resolve("udp", addr)?;
            let bind = if addr.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            let s = UdpSocket::bind(bind).map_err(|e| format!("dial udp {addr}: {e}"))?;
            s.connect(addr)
                .map_err(|e| format!("dial udp {addr}: {e}"))?;
            Ok(Conn::Udp(s))
        }
        SyslogTarget::Tcp(addr) => {
            let addr = resolve("tcp", addr)?;
            let s = TcpStream::connect(addr)
                .map_err(|e| format!("dial tcp {addr}: connect: {}", os_text(&e)))?;
            let _ = s.set_write_timeout(Some(SYSLOG_WRITE_TIMEOUT));
            Ok(Conn::Tcp(s))
        }
        SyslogTarget::Unix(path) => {
            let s = UnixStream::connect(path)
                .map_err(|e| format!("dial unix {path}: connect: {}", os_text(&e)))?;
            let _ = s.set_write_timeout(Some(SYSLOG_WRITE_TIMEOUT));
            Ok(Conn::Unix(s))
        }
        // Go's unixSyslog: a datagram socket, else a stream one, at the usual paths.
        SyslogTarget::Local => {
            for path in LOCAL_SOCKETS {
                if let Ok(s) = UnixDatagram::unbound()
                    && s.connect(path).is_ok()
                {
                    return Ok(Conn::LocalDgram(s));
                }
                if let Ok(s) = UnixStream::connect(path) {
                    let _ = s.set_write_timeout(Some(SYSLOG_WRITE_TIMEOUT));
                    return Ok(Conn::Unix(s));
                }
            }
            Err("Unix syslog delivery error".to_owned())
        }
    }
}

/// Go's `missing port in address` check, then a lookup.
fn resolve(net: &str, addr: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let has_port = addr
        .rsplit_once(':')
        .is_some_and(|(h, _)| !h.is_empty() && (!h.contains(':') || h.ends_with(']')));
    if !has_port {
        return Err(format!(
            "dial {net}: address {addr}: missing port in address"
        ));
    }
    addr.to_socket_addrs()
        .map_err(|e| format!("dial {net}: lookup {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("dial {net}: lookup {addr}: no such host"))
}

/// The OS error text without Rust's ` (os error N)` suffix, lower-case as Go's.
fn os_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn write(conn: &mut Conn, bytes: &[u8]) -> std::io::Result<()> {
    match conn {
        Conn::Udp(s) => s.send(bytes).map(drop),
        Conn::Tcp(s) => s.write_all(bytes),
        Conn::Unix(s) => s.write_all(bytes),
        Conn::LocalDgram(s) => s.send(bytes).map(drop),
    }
}

/// Go `GetSysLoggerTag`: the program's file name.
fn tag() -> String {
    std::env::args()
        .next()
        .and_then(|a| a.rsplit('/').find(|p| !p.is_empty()).map(str::to_owned))
        .unwrap_or_else(|| "nats-ws-server".to_owned())
}

/// Go `os.Hostname` (the kernel's host name).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_remote_urls_as_go() {
        assert_eq!(
            SyslogTarget::parse_remote("udp://127.0.0.1:514"),
            Ok(SyslogTarget::Udp("127.0.0.1:514".into()))
        );
        assert_eq!(
            SyslogTarget::parse_remote("tcp://localhost:601"),
            Ok(SyslogTarget::Tcp("localhost:601".into()))
        );
        assert_eq!(
            SyslogTarget::parse_remote("unix:///var/run/s.sock"),
            Ok(SyslogTarget::Unix("/var/run/s.sock".into()))
        );
        assert_eq!(
            SyslogTarget::parse_remote("http://x:1"),
            Err("error invalid network type: \"http\"".into())
        );
        assert_eq!(
            SyslogTarget::parse_remote("localhost:514"),
            Err("error invalid network type: \"localhost\"".into())
        );
    }

    #[test]
    fn connect_errors_are_go_texts() {
        let e = Syslog::connect(SyslogTarget::Udp("127.0.0.1".into())).unwrap_err();
        assert_eq!(
            e,
            "error connecting to syslog: \"dial udp: address 127.0.0.1: missing port in address\""
        );
        let e = Syslog::connect(SyslogTarget::Unix("/nonexistent/s.sock".into())).unwrap_err();
        assert_eq!(
            e,
            "error connecting to syslog: \"dial unix /nonexistent/s.sock: connect: no such file or directory\""
        );
    }

    #[test]
    fn messages_have_go_priority_and_layout() {
        let now: jiff::Zoned = "2026-12-03T07:08:09.5+01:00[+01:00]".parse().unwrap();
        let remote = Syslog {
            target: SyslogTarget::Udp("127.0.0.1:1".into()),
            conn: None,
            tag: "nats-server".into(),
            hostname: "vm".into(),
            pid: 42,
        };
        assert_eq!(
            remote.format(LogLevel::Info, "Server is ready", &now),
            "<5>2026-12-03T07:08:09+01:00 vm nats-server[42]: Server is ready\n"
        );
        assert_eq!(
            remote.format(LogLevel::Debug, "x\n", &now),
            "<7>2026-12-03T07:08:09+01:00 vm nats-server[42]: x\n"
        );
        assert_eq!(priority(&remote.target, LogLevel::Fatal), 2);
        assert_eq!(priority(&remote.target, LogLevel::Trace), 5);
        let local = Syslog {
            target: SyslogTarget::Local,
            ..remote
        };
        assert_eq!(
            local.format(LogLevel::Warn, "w", &now),
            "<28>Dec  3 07:08:09 nats-server[42]: w\n"
        );
    }

    #[test]
    fn sends_over_a_unix_stream_socket() {
        let dir = std::env::temp_dir().join(format!("nats-ws-syslog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let url = format!("unix://{}", path.display());
        let mut s = Syslog::connect(SyslogTarget::parse_remote(&url).unwrap()).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        s.send(LogLevel::Fatal, "down");
        drop(s);
        let mut all = String::new();
        std::io::Read::read_to_string(&mut peer, &mut all).unwrap();
        assert!(
            all.starts_with("<2>") && all.ends_with("]: down\n"),
            "{all}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sends_over_udp_and_tcp() {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = SyslogTarget::Udp(udp.local_addr().unwrap().to_string());
        let mut s = Syslog::connect(target).unwrap();
        s.send(LogLevel::Error, "boom");
        let mut buf = [0u8; 512];
        udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let n = udp.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<3>"), "{got}");
        assert!(
            got.ends_with(&format!("[{}]: boom\n", std::process::id())),
            "{got}"
        );

        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = SyslogTarget::Tcp(tcp.local_addr().unwrap().to_string());
        let mut s = Syslog::connect(target).unwrap();
        let (mut peer, _) = tcp.accept().unwrap();
        s.send(LogLevel::Info, "one");
        s.send(LogLevel::Warn, "two");
        drop(s);
        let mut all = String::new();
        std::io::Read::read_to_string(&mut peer, &mut all).unwrap();
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 2, "{all}");
        assert!(
            lines[0].starts_with("<5>") && lines[0].ends_with("]: one"),
            "{all}"
        );
        assert!(
            lines[1].starts_with("<4>") && lines[1].ends_with("]: two"),
            "{all}"
        );
    }
}
