//! Runs one case against one server, started for it from the case's configuration, and
//! records what came back.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::diff::generate::Case;
use crate::fixture::{FrameSpec, HttpSpec};
use crate::peer::frames::spec_frame;
use crate::peer::http::{build_request, connect_request};
use crate::peer::{NatsClient, ReadEnd, WsClient, connect};
use crate::target::{External, Placeholders, Running, free_port};

/// How long output may pause before a session counts as finished.
const QUIET: Duration = Duration::from_millis(300);
/// The longest a session is read after its last write.
const MAX_READ: Duration = Duration::from_secs(3);
/// Connect and upgrade timeout.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What one server did with one case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The upgrade response (head and any body), as received.
    pub http: Vec<u8>,
    /// The upgrade status.
    pub status: Option<u16>,
    /// The NATS byte stream (data messages unmasked and inflated, in order).
    pub stream: Vec<u8>,
    /// Pong payloads, in order.
    pub pongs: Vec<Vec<u8>>,
    /// The close frame: status (if any) and reason.
    pub close: Option<(Option<u16>, Vec<u8>)>,
    /// The server ended the TCP connection (EOF or reset).
    pub tcp_closed: bool,
    /// A plain NATS client got INFO after the session.
    pub alive: bool,
    /// The client could not read what the server sent (an invalid frame, a message that
    /// does not inflate), or could not write.
    pub problem: Option<String>,
}

/// Starts `cmd` with the case's configuration in `dir`, runs the case, stops the server.
pub fn run_case(case: &Case, cmd: &str, dir: &Path, name: &str) -> Result<Outcome, String> {
    let server: Box<dyn Running> = Box::new(start(cmd, &case.config, dir, name)?);
    let outcome = session(case, server.as_ref());
    server.stop();
    outcome
}

/// Starts `cmd` on the configuration template `config` (placeholders filled with free
/// loopback ports) in `dir`.
pub fn start(cmd: &str, config: &str, dir: &Path, name: &str) -> Result<External, String> {
    // A free port can be taken by a parallel case before the server binds it: a failed
    // start is tried again on other ports (at most 3 times).
    let mut last = String::new();
    for _ in 0..3 {
        let ports = Placeholders {
            client_port: free_port()?,
            ws_port: free_port()?,
            http_port: free_port()?,
            mqtt_port: 0,
            leaf_port: 0,
            cluster_port: 0,
            ephemeral: false,
            certs: dir.to_path_buf(),
        };
        match External::start(cmd, &ports.render(config), &ports, dir, name) {
            Ok(server) => return Ok(server),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The upgrade request changes of a case, as a fixture `http:` spec.
pub fn http_spec(case: &Case) -> HttpSpec {
    HttpSpec {
        method: case.method.clone(),
        set: case.headers.clone(),
        remove: case.remove.clone(),
        ..HttpSpec::default()
    }
}

/// The bytes of one send.
pub fn send_bytes(frames: &[String]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for f in frames {
        let spec: FrameSpec = serde_saphyr::from_str(f).map_err(|e| format!("{f}: {e}"))?;
        out.extend(spec_frame(&spec)?.bytes);
    }
    Ok(out)
}

/// Runs the case against a running server (which it leaves running).
pub fn session(case: &Case, server: &dyn Running) -> Result<Outcome, String> {
    let ws_addr = server.ws_addr().ok_or("no websocket listener")?;
    let client_addr = server.client_addr().ok_or("no client listener")?;
    let request = build_request(&connect_request(&http_spec(case), false, false, ws_addr))?;
    let stream = connect(ws_addr, None, TIMEOUT)?;
    let mut c = WsClient::upgrade(stream, &request, TIMEOUT)?;
    let mut out = Outcome {
        status: c.status(),
        ..Outcome::default()
    };
    if out.status == Some(101) {
        drive(case, &mut c, &mut out);
    }
    out.http = c.response.clone();
    out.stream = c.data.clone();
    out.close = c.close.clone();
    out.pongs = c
        .frames
        .iter()
        .filter(|f| f.header.opcode == nats_ws::frame::OpCode::Pong)
        .map(|f| f.payload.clone())
        .collect();
    out.tcp_closed = matches!(c.ended, Some(ReadEnd::Eof | ReadEnd::Error(_)));
    out.alive = alive(client_addr);
    Ok(out)
}

fn drive(case: &Case, c: &mut WsClient, out: &mut Outcome) {
    for send in &case.sends {
        let bytes = match send_bytes(&send.frames) {
            Ok(b) => b,
            Err(e) => {
                out.problem = Some(format!("bad case: {e}"));
                return;
            }
        };
        let written = match send.chop {
            Some(n) => c.send_chopped(&bytes, n),
            None => c.send_raw(&bytes),
        };
        if written.is_err() {
            // The server closed: what it said is read below.
            break;
        }
        // Let the server answer before the next write, as a client waiting on a reply does.
        match c.read_until(Duration::from_millis(20), |c| c.ended.is_some()) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                out.problem = Some(e);
                return;
            }
        }
    }
    let deadline = Instant::now() + MAX_READ;
    loop {
        let seen = (c.frames.len(), c.data.len());
        match c.read_until(QUIET, |c| c.ended.is_some()) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                out.problem = Some(e);
                break;
            }
        }
        if (c.frames.len(), c.data.len()) == seen || Instant::now() >= deadline {
            break;
        }
    }
}

/// A plain NATS client is greeted with INFO.
fn alive(addr: std::net::SocketAddr) -> bool {
    let Ok(stream) = connect(addr, None, TIMEOUT) else {
        return false;
    };
    let mut n = NatsClient::new(stream);
    n.read_until(Duration::from_secs(2), |b| {
        b.starts_with(b"INFO {") && b.ends_with(b"\r\n")
    })
}
