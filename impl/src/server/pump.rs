//! The pump of one connection: moves bytes between the socket and its sans-IO
//! [`Connection`], runs its timers, and passes on what other tasks ask of it (deliveries,
//! closes). One task per connection; every decision is the connection's.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::codec::Collapsed;
use crate::conn::{ClientProtocol, Close, Connection, HandleInput, Session, Transmit};
use crate::frame::ClosedState;
use crate::server::leaf::LeafLink;
use crate::server::listing::Listing;
use crate::server::router::{Client, ConnRouter, lock};
use crate::server::{LINGER, LogLevel, Shared};

/// Smallest and largest read buffer (Go: `startBufSize`, `maxBufSize`).
const MIN_READ: usize = 512;
const MAX_READ: usize = 64 * 1024;

/// A protocol the pump carries: the NATS client protocol, or MQTT. What differs between
/// them at the pump's level.
pub(crate) trait Served: Session + HandleInput<Self::Router> + Send + 'static {
    /// Where the protocol routes its input.
    type Router: Send;
    /// The router of a new connection.
    fn router(&self, shared: &Arc<Shared>, client: &Arc<Client>) -> Self::Router;
    /// What a client over `max_connections` is sent (Go: `-ERR` to NATS clients only).
    const MAX_CONNECTIONS_ERR: &'static [u8];
    /// Lame duck mode reached this connection.
    fn lame_duck(&mut self);
    /// Trace lines since the last call.
    fn take_traces(&mut self) -> Vec<String>;
    /// Debug lines since the last call (the NATS PING timer's; logged before the trace
    /// lines, as Go logs them before the PING it then traces).
    fn take_debug_lines(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// A counter that moves with each input Go counts as activity (`c.last`).
    fn activity(&self) -> u64;
    /// The round-trip time last measured (NATS PING/PONG), if any.
    fn rtt(&self) -> Option<std::time::Duration>;
    /// The connection ended: last words to the router (an MQTT will).
    fn finished(&mut self, router: &mut Self::Router);
    /// A read was handled: the router adds what it counted to the shared counters.
    fn read_done(_router: &mut Self::Router) {}
    /// A leaf connection's link: listed in the server's leafs (`/leafz`), not among its
    /// clients (`/connz`, `max_connections`), and logged as Go logs leafs.
    fn leaf_link(&self) -> Option<&Arc<LeafLink>> {
        None
    }
}

impl Served for ClientProtocol {
    type Router = ConnRouter;
    const MAX_CONNECTIONS_ERR: &'static [u8] = b"-ERR 'maximum connections exceeded'\r\n";

    fn router(&self, shared: &Arc<Shared>, client: &Arc<Client>) -> ConnRouter {
        ConnRouter::new(Arc::clone(shared), Arc::clone(client))
    }

    fn lame_duck(&mut self) {
        self.lame_duck_info();
    }

    fn take_traces(&mut self) -> Vec<String> {
        ClientProtocol::take_traces(self)
    }

    fn take_debug_lines(&mut self) -> Vec<String> {
        ClientProtocol::take_debug_lines(self)
    }

    fn activity(&self) -> u64 {
        ClientProtocol::activity(self)
    }

    fn rtt(&self) -> Option<std::time::Duration> {
        ClientProtocol::rtt(self)
    }

    fn finished(&mut self, router: &mut ConnRouter) {
        router.commit_counts();
    }

    fn read_done(router: &mut ConnRouter) {
        router.commit_counts();
    }
}

/// How one write step ended.
enum Wrote {
    /// This many bytes went out.
    Bytes(usize),
    /// Everything went out and was flushed.
    All,
}

/// Runs a connection to its end: registers it, pumps it, unregisters it. The ended
/// connection is returned (a soliciting leaf reads its reconnect delay from it).
pub(crate) async fn run<P, S>(
    shared: Arc<Shared>,
    client: Arc<Client>,
    mut conn: Connection<P>,
    stream: S,
) -> Connection<P>
where
    P: Served,
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut listing = Listing::admit(&shared, &client, conn.session().leaf_link());
    let mut router = conn.session().router(&shared, &client);
    queue_output(&mut conn, &client);
    if !listing.is_listed() {
        // Go: INFO first, then the error (createClient → maxConnExceeded).
        client.enqueue(P::MAX_CONNECTIONS_ERR);
        shared.log(
            LogLevel::Error,
            &format!("{} - maximum connections exceeded", client.log_prefix()),
        );
        conn.close(ClosedState::MaxConnectionsExceeded);
    }
    if shared.is_shutting_down() {
        conn.close(ClosedState::ServerShutdown);
    }
    let mut buf = vec![0u8; MIN_READ];
    let mut tx = Collapsed::new();
    let mut written = 0;
    // One timer for the connection's life, moved to each new deadline (a later deadline
    // moves without the timer wheel's lock; a fresh timer per loop would take it twice).
    let sleep = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(sleep);
    let mut armed: Option<Instant> = None;
    let mut seen = Activity::default();
    while !conn.is_done() {
        // Lame duck mode asked for the `ldm` INFO (Go: sendLDMToClients).
        if client
            .lame_duck_info
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            conn.session_mut().lame_duck();
            queue_output(&mut conn, &client);
        }
        seen.note(&conn, &client);
        // A close asked for by another task (shutdown, an operator, a slow consumer), or
        // one the connection started: the send queue then takes no more deliveries.
        match (client.closing(), conn.closed_state()) {
            (Some(state), _) => {
                conn.close(state);
            }
            (None, Some(state)) => {
                client.close(state);
            }
            (None, None) => {}
        }
        if let Some(state) = conn.closed_state() {
            listing.closing(&shared, &client, state);
        }
        if !conn.is_writing() {
            match transmit(&mut conn, &client, &mut tx) {
                Ok(Transmit::Write) => written = 0,
                Ok(Transmit::Shutdown) => {
                    let _ = tokio::time::timeout(LINGER, wr.shutdown()).await;
                }
                Ok(Transmit::Idle) => {}
                Err(close) => log_close(&shared, &client, &close),
            }
            if conn.is_done() {
                break;
            }
        }
        let deadline = conn.poll_timeout();
        if deadline != armed {
            if let Some(d) = deadline {
                sleep.as_mut().reset(d.into());
            }
            armed = deadline;
        }
        tokio::select! {
            r = rd.read(&mut buf), if conn.is_reading() => match r {
                Ok(0) => conn.handle_eof(),
                Err(_) => conn.handle_read_error(),
                Ok(n) => {
                    let result = conn.handle_input(Instant::now(), &mut buf[..n], &mut router);
                    P::read_done(&mut router);
                    after_input(&shared, &client, &mut conn, result);
                    resize(&mut buf, n);
                }
            },
            r = write_step(&mut wr, &tx, written), if conn.is_writing() => match r {
                Ok(Wrote::Bytes(n)) => written += n,
                Ok(Wrote::All) => {
                    conn.handle_transmitted();
                    lock(&client.out).inflight = 0;
                }
                Err(_) => {
                    conn.handle_write_error();
                    lock(&client.out).inflight = 0;
                }
            },
            () = &mut sleep, if armed.is_some() => {
                armed = None;
                let result = conn.handle_timeout(Instant::now());
                after_input(&shared, &client, &mut conn, result);
            }
            () = client.wake.notified() => {}
        }
    }
    conn.session_mut().finished(&mut router);
    let state = conn.closed_state().unwrap_or(ClosedState::ClientClosed);
    listing.ended(&shared, &client, state);
    client.remove_subs();
    client.release_buffers();
    listing.log_closed(&shared, &client, state);
    conn
}

/// What was last seen of a connection's activity, for `/connz` `last_activity`.
#[derive(Debug, Default)]
struct Activity {
    inputs: u64,
    deliveries: u64,
}

impl Activity {
    /// Go sets `c.last` for CONNECT, messages and subscriptions it reads, and when it
    /// flushes messages to the connection; a PING alone is not activity.
    fn note<P: Served>(&mut self, conn: &Connection<P>, client: &Client) {
        let inputs = conn.session().activity();
        let deliveries = client
            .stats
            .out_msgs
            .load(std::sync::atomic::Ordering::Relaxed);
        if (inputs, deliveries) != (self.inputs, self.deliveries) {
            (self.inputs, self.deliveries) = (inputs, deliveries);
            *lock(&client.last_activity) = jiff::Timestamp::now();
        }
    }
}

/// After an input or a timer: the session's replies join the send queue at once (in
/// Go's order with deliveries), and a close is logged.
fn after_input<P: Served>(
    shared: &Shared,
    client: &Client,
    conn: &mut Connection<P>,
    result: Result<(), Close>,
) {
    queue_output(conn, client);
    for line in conn.session_mut().take_debug_lines() {
        shared.log(
            LogLevel::Debug,
            &format!("{} - {line}", client.log_prefix()),
        );
    }
    for line in conn.session_mut().take_traces() {
        shared.log(
            LogLevel::Trace,
            &format!("{} - {line}", client.log_prefix()),
        );
    }
    if let Some(rtt) = conn.session().rtt() {
        let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).max(1);
        client
            .rtt_nanos
            .store(nanos, std::sync::atomic::Ordering::Relaxed);
    }
    if let Err(close) = result {
        log_close(shared, client, &close);
    }
}

fn log_close(shared: &Shared, client: &Client, close: &Close) {
    if let Some(line) = &close.log {
        let level = if close.is_notice() {
            LogLevel::Info
        } else {
            LogLevel::Error
        };
        shared.log(level, &format!("{} - {line}", client.log_prefix()));
    }
}

/// Moves the session's replies to the send queue (dropped if the connection is closing).
fn queue_output<P: Session>(conn: &mut Connection<P>, client: &Client) {
    let out = conn.session_mut().output();
    if !out.is_empty() {
        client.enqueue(out);
        out.clear();
    }
}

/// Asks the connection for its next transmit, handing it the send queue under its lock.
fn transmit<P: Session>(
    conn: &mut Connection<P>,
    client: &Client,
    tx: &mut Collapsed,
) -> Result<Transmit, Close> {
    let mut queue = lock(&client.out);
    let result = conn.poll_transmit(Instant::now(), &mut queue.pending, tx);
    if let Ok(Transmit::Write) = result {
        queue.inflight = tx.len();
    }
    result
}

/// One step of writing `tx`: a vectored write resuming exactly where the last one
/// stopped, or, once all is written, the flush.
async fn write_step<W: AsyncWrite + Unpin>(
    wr: &mut W,
    tx: &Collapsed,
    written: usize,
) -> std::io::Result<Wrote> {
    if written >= tx.len() {
        wr.flush().await?;
        return Ok(Wrote::All);
    }
    let mut slices = Vec::new();
    tx.io_slices(written, &mut slices);
    let n = wr.write_vectored(&slices).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    Ok(Wrote::Bytes(n))
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
