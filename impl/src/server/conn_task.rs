//! The pump of one connection: a read loop (socket → codec → conn) and a write loop
//! (outbox → outbound collapse → vectored writes), like Go's readLoop and writeLoop.

use std::convert::Infallible;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec::{Collapsed, ReadError, ReadStatus, Reader};
use crate::conn::{Close, Conn};
use crate::deflate::InflateError;
use crate::frame::ClosedState;
use crate::server::router::{Client, ConnRouter, lock};
use crate::server::{LINGER, LogLevel, Shared};

/// Smallest and largest read buffer (Go: `startBufSize`, `maxBufSize`).
const MIN_READ: usize = 512;
const MAX_READ: usize = 64 * 1024;

/// How received bytes become protocol bytes.
#[derive(Debug)]
pub(crate) enum Framer {
    /// Plain NATS.
    Plain,
    /// WebSocket frames.
    Websocket(Box<Reader>),
}

/// Runs a connection to its end: registers it, pumps it, unregisters it.
pub(crate) async fn run<S>(
    shared: Arc<Shared>,
    client: Arc<Client>,
    mut conn: Conn,
    stream: S,
    mut framer: Framer,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut rd, wr) = tokio::io::split(stream);
    let count = {
        let mut clients = lock(&shared.clients);
        clients.insert(client.cid, Arc::clone(&client));
        clients.len() - 1
    };
    let writer = tokio::spawn(write_loop(Arc::clone(&shared), Arc::clone(&client), wr));
    let mut router = ConnRouter::new(Arc::clone(&shared), Arc::clone(&client));
    flush_output(&mut conn, &client);
    if shared.limits.max_connections.is_none_or(|max| count >= max) {
        // Go: INFO first, then the error (createClient → maxConnExceeded).
        client.enqueue(b"-ERR 'maximum connections exceeded'\r\n");
        shared.log(
            LogLevel::Error,
            &format!("{} - maximum connections exceeded", client.prefix),
        );
        client.close(ClosedState::MaxConnectionsExceeded);
    } else {
        shared.log(
            LogLevel::Debug,
            &format!("{} - Client connection created", client.prefix),
        );
    }
    if shared.is_shutting_down() {
        client.close(ClosedState::ServerShutdown);
    }
    let mut buf = vec![0u8; MIN_READ];
    let mut scratch = Vec::new();
    loop {
        if client.closing().is_some() {
            break;
        }
        let deadline = conn.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) => {
                    client.close(ClosedState::ClientClosed);
                }
                Err(_) => {
                    client.close(ClosedState::ReadError);
                }
                Ok(n) => {
                    let now = Instant::now();
                    let result = match &mut framer {
                        Framer::Plain => conn.handle_input(&buf[..n], now, &mut router),
                        Framer::Websocket(reader) => ws_input(
                            reader, &mut buf[..n], &client, &mut scratch, &mut conn, now, &mut router,
                        ),
                    };
                    flush_output(&mut conn, &client);
                    if let Err(close) = result {
                        closed_by_protocol(&shared, &client, close);
                    }
                    resize(&mut buf, n);
                    if scratch.capacity() > MAX_READ {
                        scratch = Vec::new();
                    }
                }
            },
            () = sleep => {
                let result = conn.handle_timeout(Instant::now());
                flush_output(&mut conn, &client);
                if let Err(close) = result {
                    closed_by_protocol(&shared, &client, close);
                }
            }
            () = client.wake_reader.notified() => {}
        }
    }
    let _ = writer.await;
    linger(&mut rd, &mut buf).await;
    lock(&shared.clients).remove(&client.cid);
    client.remove_subs();
    let state = client.closing().unwrap_or(ClosedState::ClientClosed);
    client.release_buffers();
    shared.log(
        LogLevel::Debug,
        &format!("{} - Client connection closed: {state}", client.prefix),
    );
}

fn closed_by_protocol(shared: &Shared, client: &Client, close: Close) {
    if let Some(line) = &close.log {
        shared.log(LogLevel::Error, &format!("{} - {line}", client.prefix));
    }
    client.close(close.state);
}

/// Moves the conn's replies to the outbox (dropped if the connection is closing).
fn flush_output(conn: &mut Conn, client: &Client) {
    let out = conn.output();
    if !out.is_empty() {
        client.enqueue(out);
        out.clear();
    }
}

/// Go: the read buffer doubles when a read fills it and halves when reads are small.
fn resize(buf: &mut Vec<u8>, n: usize) {
    if n == buf.len() && buf.len() < MAX_READ {
        buf.resize(buf.len() * 2, 0);
    } else if n < buf.len() / 4 && buf.len() > MIN_READ {
        buf.truncate(buf.len() / 2);
        buf.shrink_to_fit();
    }
}

/// Unframes WebSocket input (control replies go to the outbox under its lock), then gives
/// the protocol bytes to the conn without holding any lock (delivery locks other outboxes).
fn ws_input(
    reader: &mut Reader,
    input: &mut [u8],
    client: &Client,
    scratch: &mut Vec<u8>,
    conn: &mut Conn,
    now: Instant,
    router: &mut ConnRouter,
) -> Result<(), Close> {
    scratch.clear();
    let mut out = lock(&client.out);
    let Some(ws) = out.ws.as_mut() else {
        return Ok(());
    };
    let status = reader.read(input, ws, &mut |bytes: &[u8]| {
        scratch.extend_from_slice(bytes);
        Ok::<(), Infallible>(())
    });
    let controls = ws.has_queued();
    drop(out);
    if controls {
        client.wake_writer.notify_one();
    }
    // Bytes decoded before an error are processed first (Go:
    // TestWSFlushesBufferedDeliveryBeforeProtocolClose).
    if !scratch.is_empty() {
        conn.handle_input(scratch, now, router)?;
    }
    match status {
        Ok(ReadStatus::Open) => Ok(()),
        Ok(ReadStatus::PeerClosed) => Err(Close {
            state: ClosedState::ClientClosed,
            log: None,
        }),
        Err(ReadError::Frame(e)) => Err(Close {
            state: ClosedState::ProtocolViolation,
            log: Some(format!("read error: {e}")),
        }),
        Err(ReadError::Inflate(e)) => Err(Close {
            state: match e {
                InflateError::MaxPayload => ClosedState::MaxPayloadExceeded,
                InflateError::Corrupt(_) => ClosedState::ReadError,
            },
            log: Some(format!("read error: {e}")),
        }),
        Err(ReadError::Sink(never)) => match never {},
    }
}

enum Step {
    Wait,
    Write { last: bool },
    Finish,
}

/// Go's writeLoop: waits for output, frames it, writes it; after the close frame (or the
/// last bytes of a closing plain connection) shuts the write side down.
async fn write_loop<W: AsyncWrite + Unpin>(shared: Arc<Shared>, client: Arc<Client>, mut wr: W) {
    let mut collapsed = Collapsed::new();
    let mut plain: Vec<u8> = Vec::new();
    loop {
        let step = next_step(&shared, &client, &mut collapsed, &mut plain);
        let last = match step {
            Step::Wait => {
                client.wake_writer.notified().await;
                continue;
            }
            Step::Finish => break,
            Step::Write { last } => last,
        };
        let deadline = shared.limits.write_deadline;
        let result = if client.kind == crate::server::ConnKind::Websocket {
            tokio::time::timeout(deadline, write_collapsed(&mut wr, &collapsed)).await
        } else {
            tokio::time::timeout(deadline, async {
                wr.write_all(&plain).await?;
                wr.flush().await
            })
            .await
        };
        lock(&client.out).inflight = 0;
        plain.clear();
        if plain.capacity() > MAX_READ {
            plain = Vec::new();
        }
        match result {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                client.close(ClosedState::WriteError);
                break;
            }
            Err(_) => {
                shared.log(
                    LogLevel::Info,
                    &format!(
                        "{} - Slow Consumer Detected: WriteDeadline of {:?} exceeded",
                        client.prefix, deadline
                    ),
                );
                client.close(ClosedState::SlowConsumerWriteDeadline);
                break;
            }
        }
        if last {
            break;
        }
    }
    let _ = tokio::time::timeout(LINGER, wr.shutdown()).await;
    client.wake_reader.notify_one();
}

/// Decides the next step under the outbox lock; frames pending bytes for a write.
fn next_step(
    shared: &Shared,
    client: &Client,
    collapsed: &mut Collapsed,
    plain: &mut Vec<u8>,
) -> Step {
    let mut guard = lock(&client.out);
    let out = &mut *guard;
    let closing = out.closing;
    let close_frame_pending = out
        .ws
        .as_ref()
        .is_some_and(|w| w.close_queued() && !w.close_sent());
    // Transport failures and slow consumers get nothing more (Go: skipFlushOnClose),
    // unless the codec already queued a close frame for a protocol error.
    if closing.is_some_and(|s| !s.sends_close_frame()) && !close_frame_pending {
        out.pending.clear();
        return Step::Finish;
    }
    match &mut out.ws {
        Some(ws) => {
            if out.pending.is_empty() && !ws.has_queued() {
                return if closing.is_some() {
                    Step::Finish
                } else {
                    Step::Wait
                };
            }
            if let Err(e) = ws.collapse(&mut out.pending, collapsed) {
                shared.log(
                    LogLevel::Error,
                    &format!("{} - Error compressing data: {e}", client.prefix),
                );
                return Step::Finish;
            }
            out.inflight = collapsed.len();
            Step::Write {
                last: ws.close_sent(),
            }
        }
        None => {
            if out.pending.is_empty() {
                return if closing.is_some() {
                    Step::Finish
                } else {
                    Step::Wait
                };
            }
            std::mem::swap(&mut out.pending, plain);
            out.inflight = plain.len();
            Step::Write { last: false }
        }
    }
}

/// Writes frames with vectored writes, resuming partial writes exactly where they stopped.
async fn write_collapsed<W: AsyncWrite + Unpin>(
    wr: &mut W,
    collapsed: &Collapsed,
) -> std::io::Result<()> {
    let total = collapsed.len();
    let mut written = 0;
    while written < total {
        let mut slices: Vec<IoSlice<'_>> = Vec::new();
        collapsed.io_slices(written, &mut slices);
        let n = wr.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    wr.flush().await
}

/// Reads and discards until the peer closes or [`LINGER`] passes.
async fn linger<R: AsyncRead + Unpin>(rd: &mut R, buf: &mut [u8]) {
    let deadline = tokio::time::Instant::now() + LINGER;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, rd.read(buf)).await {
        if n == 0 {
            break;
        }
    }
}
