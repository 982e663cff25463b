//! Server-layer steps: a running server driven over loopback sockets, black-box.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nats_ws::frame::OpCode;

use crate::fixture::{
    CloseExpect, ConnExpect, ContextTakeover, CountExpect, FragmentedSend, FramesExpect,
    InfoExpect, NatsConnectSpec, NatsSendSpec, PongExpect, RefusedExpect, RoundTrips, ServerStep,
    Setup, StateSpec, StreamExpect, WsConnectSpec, WsHttpExpect, WsSendSpec,
};
use crate::peer::http::{build_request, parse_response};
use crate::peer::{NatsClient, ReadEnd, TlsClient, WsClient, connect};
use crate::run::context::{Record, RunContext, drive};
use crate::target::{External, Fixed, Placeholders, Running, TargetSpec};
use crate::transcript::{Transcript, describe_frame, sent_frame, show};

const DEFAULT_WAIT: Duration = Duration::from_millis(2000);
const DEFAULT_CONFIG: &str = "listen: \"127.0.0.1:{client_port}\"\nwebsocket { listen: \"127.0.0.1:{ws_port}\", no_tls: true }\n";

/// Runs a server-layer case against `ctx`'s target.
pub(crate) fn run(setup: &Setup, steps: &[ServerStep], ctx: &RunContext) -> Record {
    let mut server = ServerRunner::new(ctx);
    let mut rec = Record::default();
    drive(steps, &mut rec, |step, rec| {
        server.step(step, setup, &mut rec.t, &mut rec.failures)
    });
    rec.remote_close = server.remote_close();
    rec
}

/// The server for one case and the connections opened to it.
struct ServerRunner<'c> {
    ctx: &'c RunContext,
    running: Option<Box<dyn Running>>,
    ws: BTreeMap<String, WsClient>,
    nats: BTreeMap<String, NatsClient>,
    frames_shown: BTreeMap<String, usize>,
    reload_error: Option<String>,
}

impl Drop for ServerRunner<'_> {
    fn drop(&mut self) {
        self.ws.clear();
        self.nats.clear();
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

fn wait(ms: Option<u64>) -> Duration {
    ms.map_or(DEFAULT_WAIT, Duration::from_millis)
}

impl<'c> ServerRunner<'c> {
    fn new(ctx: &'c RunContext) -> Self {
        ServerRunner {
            ctx,
            running: None,
            ws: BTreeMap::new(),
            nats: BTreeMap::new(),
            frames_shown: BTreeMap::new(),
            reload_error: None,
        }
    }

    /// The close status of the last close frame a connection received.
    fn remote_close(&self) -> Option<u16> {
        self.ws
            .values()
            .filter_map(|c| c.close.as_ref().and_then(|(code, _)| *code))
            .next_back()
    }

    /// Server log lines, if a server runs.
    fn logs(&self) -> Option<Vec<String>> {
        self.running.as_ref().map(|r| r.logs())
    }

    /// Starts the server for this case (once).
    fn start(&mut self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        let taken = setup.ws_port_taken == Some(true);
        let ports = match self.ctx.target {
            TargetSpec::Embedded if !taken => Placeholders::ephemeral(&self.ctx.certs),
            _ => Placeholders::new(&self.ctx.certs)?,
        };
        // Hold the websocket port for the whole start when the fixture asks for it.
        let _holder = if taken {
            Some(
                std::net::TcpListener::bind(("127.0.0.1", ports.ws_port))
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        let config = crate::auth::render(
            setup.config.as_deref().unwrap_or(DEFAULT_CONFIG),
            setup.auth.as_ref(),
            None,
        )?;
        let config = ports.render(&config);
        Ok(match &self.ctx.target {
            TargetSpec::Command { cmd, .. } => Box::new(External::start(
                cmd,
                &config,
                &ports,
                &self.ctx.tmp,
                &format!("srv{}", ports.ws_port),
            )?),
            TargetSpec::Embedded => (self.ctx.embedded)(&config)?,
            TargetSpec::Fixed { ws, client, .. } => Box::new(Fixed::new(*ws, *client)?),
        })
    }

    fn server(&mut self, setup: &Setup, t: &mut Transcript) -> Result<&dyn Running, String> {
        if self.running.is_none() {
            let running = self.start(setup)?;
            t.line(format!("server started ({})", self.ctx.target.name()));
            self.running = Some(running);
        }
        self.running
            .as_deref()
            .ok_or_else(|| "no server".to_owned())
    }

    fn ws(&mut self, name: &str) -> Result<&mut WsClient, String> {
        self.ws
            .get_mut(name)
            .ok_or_else(|| format!("no websocket connection {name:?}"))
    }

    /// Shows frames received since the last time, in the transcript.
    /// Shows control frames received since the last time. Data frames are not listed:
    /// how a server coalesces its output into frames depends on timing; the data
    /// expectations (`= data ...`) show what arrived.
    fn show_frames(&mut self, name: &str, t: &mut Transcript) {
        let Some(c) = self.ws.get(name) else { return };
        let from = self.frames_shown.get(name).copied().unwrap_or(0);
        // Close frames only: when a pong arrives relative to data is timing; pongs are
        // shown by the steps that wait for them.
        for f in c.frames.iter().skip(from) {
            if f.header.opcode == OpCode::Close {
                t.line(format!("{name} < {}", describe_frame(f)));
            }
        }
        self.frames_shown.insert(name.to_owned(), c.frames.len());
    }

    /// Runs a server step.
    fn step(
        &mut self,
        step: &ServerStep,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        match step {
            ServerStep::WsConnect(spec) => self.ws_connect(spec, setup, t, failures)?,
            ServerStep::WsSend(spec) => self.ws_send(spec, setup, t)?,
            ServerStep::WsExpect(spec) => self.ws_expect(spec, t, failures)?,
            ServerStep::WsExpectClose(spec) => self.ws_expect_close(spec, t, failures)?,
            ServerStep::WsExpectFrames(spec) => self.ws_expect_frames(spec, failures)?,
            ServerStep::WsExpectHttp(spec) => self.ws_expect_http(spec, failures)?,
            ServerStep::NatsConnect(spec) => self.nats_connect(spec, setup, t, failures)?,
            ServerStep::NatsSend(spec) => self.nats_send(spec, t)?,
            ServerStep::NatsExpect(spec) => self.nats_expect(spec, t, failures)?,
            ServerStep::SleepMs(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            ServerStep::WsExpectPong(spec) => self.ws_expect_pong(spec, t, failures)?,
            ServerStep::WsExpectPongCount(spec) => {
                self.ws_expect_count(spec, OpCode::Pong, t, failures)?
            }
            ServerStep::WsExpectCloseCount(spec) => {
                self.ws_expect_count(spec, OpCode::Close, t, failures)?
            }
            ServerStep::WsExpectEnd(spec) => self.ws_expect_end(spec, t, failures)?,
            ServerStep::WsSendFragmented(spec) => self.ws_send_fragmented(spec, t)?,
            ServerStep::WsRoundTrips(spec) => self.ws_round_trips(spec, t, failures)?,
            ServerStep::WsSendContextTakeover(spec) => self.ws_send_context_takeover(spec, t)?,
            ServerStep::WsExpectRefused(spec) => self.ws_expect_refused(spec, t, failures)?,
            ServerStep::Reload(config) => self.reload(config, t)?,
            ServerStep::ExpectReloadError(text) => self.expect_reload_error(text, t, failures)?,
            ServerStep::ExpectStartFailure(text) => {
                self.expect_start_failure(text, setup, t, failures)?
            }
            ServerStep::ServerCloseConnections(state) => self.close_connections(state, t)?,
            ServerStep::BreakWsListener => self.break_ws_listener(t)?,
            ServerStep::WsExpectInfo(spec) => self.ws_expect_info(spec, failures)?,
            ServerStep::ExpectConnection(want) => self.expect_connection(want, failures),

            ServerStep::ExpectLog(text) => self.expect_log(text, t, failures),
            ServerStep::ExpectNoLog(text) => self.expect_no_log(text, failures),
        }
        Ok(())
    }

    /// Expects data on a WebSocket connection's data stream.
    fn ws_expect(
        &mut self,
        spec: &StreamExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        let r = {
            let cell = std::cell::RefCell::new(&mut *c);
            expect_stream(
                spec,
                |timeout, pred| cell.borrow_mut().read_until(timeout, |c| pred(c.unread())),
                || {
                    let c = cell.borrow();
                    (c.unread().to_vec(), c.ended.clone())
                },
            )
        };
        let consumed = r.as_ref().map_or(0, |(n, _)| *n);
        self.ws(&name)?.consumed += consumed;
        self.show_frames(&name, t);
        match r {
            Ok((_, line)) => t.line(format!("{name} = {line}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        Ok(())
    }

    /// Sends raw protocol on a NATS connection.
    fn nats_send(&mut self, spec: &NatsSendSpec, t: &mut Transcript) -> Result<(), String> {
        let data = spec.data.build().map_err(|e| e.to_string())?;
        t.line(format!("{} > {}", spec.conn, show(&data)));
        self.nats
            .get_mut(&spec.conn)
            .ok_or_else(|| format!("no NATS connection {:?}", spec.conn))?
            .send(&data)?;
        Ok(())
    }

    /// Expects data on a NATS connection.
    fn nats_expect(
        &mut self,
        spec: &StreamExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self
            .nats
            .get_mut(&spec.conn)
            .ok_or_else(|| format!("no NATS connection {:?}", spec.conn))?;
        let r = {
            let cell = std::cell::RefCell::new(&mut *c);
            expect_stream(
                spec,
                |timeout, pred| Ok(cell.borrow_mut().read_until(timeout, |u| pred(u))),
                || {
                    let c = cell.borrow();
                    (c.data[c.consumed..].to_vec(), c.ended.clone())
                },
            )
        };
        match r {
            Ok((n, line)) => {
                c.consumed += n;
                t.line(format!("{} = {line}", spec.conn));
            }
            Err(e) => failures.push(format!("{}: {e}", spec.conn)),
        }
        Ok(())
    }

    /// Waits for a pong with the given payload.
    fn ws_expect_pong(
        &mut self,
        spec: &PongExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let want = spec.payload.build().map_err(|e| e.to_string())?;
        let c = self.ws(&spec.conn)?;
        let is_it = |c: &WsClient| {
            c.frames
                .iter()
                .any(|f| f.header.opcode == OpCode::Pong && f.payload == want)
        };
        if c.read_until(wait(spec.within_ms), is_it)? {
            t.line(format!("{} < pong {}", spec.conn, show(&want)));
        } else {
            failures.push(format!(
                "{}: no pong with payload {}",
                spec.conn,
                show(&want)
            ));
        }
        self.show_frames(&spec.conn, t);
        Ok(())
    }

    /// Counts the frames with opcode `op` received so far, after waiting.
    fn ws_expect_count(
        &mut self,
        spec: &CountExpect,
        op: OpCode,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ms = spec.within_ms.unwrap_or(300);
        c.read_until(Duration::from_millis(ms), |_| false)?;
        let got = c.frames.iter().filter(|f| f.header.opcode == op).count();
        self.show_frames(&spec.conn, t);
        t.line(format!("{} = {got} {} frames", spec.conn, op.name()));
        if got != spec.count {
            failures.push(format!(
                "{}: {got} {} frames, want {}",
                spec.conn,
                op.name(),
                spec.count
            ));
        }
        Ok(())
    }

    /// Waits for the connection to end: a close frame or the end of TCP.
    fn ws_expect_end(
        &mut self,
        spec: &CountExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ended = c.read_until(wait(spec.within_ms), |c| {
            c.close.is_some() || c.ended.is_some()
        })?;
        let how = format!("close {:?}", c.close.as_ref().map(|(code, _)| code));
        self.show_frames(&spec.conn, t);
        t.line(format!("{} = ended: {how}", spec.conn));
        if !ended {
            failures.push(format!("{}: the connection did not end", spec.conn));
        }
        Ok(())
    }

    /// Sends one message in masked fragments.
    fn ws_send_fragmented(
        &mut self,
        spec: &FragmentedSend,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let data = spec.data.build().map_err(|e| e.to_string())?;
        let c = self.ws(&spec.conn)?;
        let pieces: Vec<&[u8]> = data.chunks(spec.fragment.max(1)).collect();
        let mut out = Vec::with_capacity(data.len() + pieces.len() * 8);
        for (i, piece) in pieces.iter().enumerate() {
            let op = if i == 0 {
                OpCode::Binary
            } else {
                OpCode::Continuation
            };
            out.extend(c.frame(op, i + 1 == pieces.len(), false, piece));
        }
        c.send_raw(&out)?;
        t.line(format!(
            "{} > {} bytes in {} fragments of {}",
            spec.conn,
            data.len(),
            pieces.len(),
            spec.fragment
        ));
        Ok(())
    }

    /// Sequential PUB→MSG round trips on subject `t`.
    fn ws_round_trips(
        &mut self,
        spec: &RoundTrips,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let payload = vec![b'r'; spec.size];
        let mut pubmsg = format!("PUB t {}\r\n", spec.size).into_bytes();
        pubmsg.extend_from_slice(&payload);
        pubmsg.extend_from_slice(b"\r\n");
        let mut want = format!("MSG t 1 {}\r\n", spec.size).into_bytes();
        want.extend_from_slice(&payload);
        want.extend_from_slice(b"\r\n");
        let started = std::time::Instant::now();
        for i in 0..spec.count.min(100_000) {
            c.send_data(&pubmsg, false)?;
            if !c.read_until(DEFAULT_WAIT, |c| c.unread().len() >= want.len())?
                || !c.unread().starts_with(&want)
            {
                failures.push(format!(
                    "{}: round trip {i} failed: {}",
                    spec.conn,
                    show(c.unread())
                ));
                break;
            }
            c.consumed += want.len();
        }
        let _ = started;
        t.line(format!(
            "{} = {} round trips of {} bytes",
            spec.conn, spec.count, spec.size
        ));
        Ok(())
    }

    /// Sends messages deflated with one shared context (context takeover).
    fn ws_send_context_takeover(
        &mut self,
        spec: &ContextTakeover,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let mut z = flate2::Compress::new(flate2::Compression::fast(), false);
        for m in &spec.messages {
            let data = m.build().map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(data.len() + 64);
            z.compress_vec(&data, &mut out, flate2::FlushCompress::Sync)
                .map_err(|e| e.to_string())?;
            if out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.truncate(out.len() - 4);
            }
            let frame = c.frame(OpCode::Binary, true, true, &out);
            c.send_raw(&frame)?;
            t.line(format!(
                "{} > deflated with context {}",
                spec.conn,
                show(&data)
            ));
        }
        Ok(())
    }

    /// The connection failed before any upgrade response.
    fn ws_expect_refused(
        &mut self,
        spec: &RefusedExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let ended = c.ended.clone();
        let status = c.status();
        let text = format!("{ended:?}");
        t.line(format!("{} = refused (no upgrade response)", spec.conn));
        let failed = status.is_none() && ended.is_some();
        if !failed
            || (!spec.any_of.is_empty() && !spec.any_of.iter().any(|a| text.contains(a.as_str())))
        {
            failures.push(format!(
                "{}: expected a refused connection mentioning {:?}, got status {status:?}, {text}",
                spec.conn, spec.any_of
            ));
        }
        Ok(())
    }

    /// Replaces the configuration and reloads the server.
    fn reload(&mut self, config: &str, t: &mut Transcript) -> Result<(), String> {
        let running = self
            .running
            .as_mut()
            .ok_or("reload before the server started")?;
        let ports = Placeholders::bound(running.client_addr(), running.ws_addr(), &self.ctx.certs);
        let result = running.reload(&ports.render(config));
        // The error text holds paths and ports: the expectation step shows what matters.
        t.line(if result.is_ok() {
            "reload: ok"
        } else {
            "reload: refused"
        });
        self.reload_error = result.err();
        Ok(())
    }

    /// The last reload failed with a message (or a log line) containing `text`.
    fn expect_reload_error(
        &mut self,
        text: &str,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let in_error = self.reload_error.as_ref().is_some_and(|e| e.contains(text));
        let in_logs = || {
            let deadline = std::time::Instant::now() + DEFAULT_WAIT;
            loop {
                if self
                    .logs()
                    .unwrap_or_default()
                    .iter()
                    .any(|l| l.contains(text))
                {
                    return true;
                }
                if std::time::Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        if in_error || in_logs() {
            t.line(format!("= reload refused: {text:?}"));
        } else {
            failures.push(format!(
                "expected a reload error containing {text:?}, got {:?}",
                self.reload_error
            ));
        }
        Ok(())
    }

    /// Starting the server fails with a message containing `text`.
    fn expect_start_failure(
        &mut self,
        text: &str,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        match self.start(setup) {
            Ok(running) => {
                running.stop();
                failures.push(format!(
                    "the server started; expected a failure mentioning {text:?}"
                ));
            }
            Err(e) if e.contains(text) => t.line(format!("= start failed: {text:?}")),
            Err(e) => failures.push(format!("start failed with {e:?}, not mentioning {text:?}")),
        };
        Ok(())
    }

    /// The server closes every connection for a closed state.
    fn close_connections(&mut self, state: &StateSpec, t: &mut Transcript) -> Result<(), String> {
        let running = self.running.as_ref().ok_or("no server")?;
        // The same name lookup as `enqueue_close` (Go spellings such as TLSHandshakeError).
        let s = state
            .resolve()?
            .map_err(|raw| format!("no closed state {raw}"))?;
        running.close_all(s)?;
        t.line(format!("server closes every connection: {}", s.as_str()));
        Ok(())
    }

    /// Breaks the server's WebSocket listening socket from outside.
    fn break_ws_listener(&mut self, t: &mut Transcript) -> Result<(), String> {
        let running = self.running.as_ref().ok_or("no server")?;
        running.break_ws_listener()?;
        t.line("websocket listener broken (shutdown on its socket)");
        Ok(())
    }

    /// The INFO a connection received contains each text.
    fn ws_expect_info(
        &mut self,
        spec: &InfoExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let info = String::from_utf8_lossy(&c.info).into_owned();
        for want in &spec.contains {
            if !info.contains(want.as_str()) {
                failures.push(format!(
                    "{}: INFO does not contain {want:?}: {info}",
                    spec.conn
                ));
            }
        }
        Ok(())
    }

    /// Server logs arrive asynchronously: waits up to two seconds for a line containing
    /// `text`.
    fn expect_log(&mut self, text: &str, t: &mut Transcript, failures: &mut Vec<String>) {
        let Some(mut logs) = self.logs() else {
            failures.push(format!("no server log: no server runs (wanted {text:?})"));
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if logs.iter().any(|l| l.contains(text)) {
                t.line(format!("= log contains {text:?}"));
                return;
            }
            if Instant::now() >= deadline {
                failures.push(format!(
                    "no server log line contains {text:?}; logged: {logs:?}"
                ));
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
            logs = self.logs().unwrap_or_default();
        }
    }

    /// No server log line contains `text`.
    fn expect_no_log(&mut self, text: &str, failures: &mut Vec<String>) {
        if let Some(l) = self
            .logs()
            .unwrap_or_default()
            .iter()
            .find(|l| l.contains(text))
        {
            failures.push(format!("unexpected server log line {l:?}"));
        }
    }

    fn ws_connect(
        &mut self,
        spec: &WsConnectSpec,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let addr = self
            .server(setup, t)?
            .ws_addr()
            .ok_or("the server has no websocket listener")?;
        let tls = if spec.tls {
            Some(TlsClient {
                config: self.ctx.certs.client_config(spec.client_cert)?,
                server_name: "127.0.0.1".to_owned(),
            })
        } else {
            None
        };
        let mut http = spec.http.clone();
        for [_, value] in http.set.iter_mut().chain(http.add.iter_mut()) {
            *value = crate::auth::render(value, setup.auth.as_ref(), None)?;
        }
        if spec.compress {
            http.set.push([
                "Sec-WebSocket-Extensions".to_owned(),
                "permessage-deflate".to_owned(),
            ]);
        }
        if spec.browser {
            http.set
                .push(["User-Agent".to_owned(), "Mozilla/5.0".to_owned()]);
        }
        // The request names the server's address as Host, unless the fixture sets or
        // removes Host itself.
        let host_given = http.set.iter().any(|[k, _]| k.eq_ignore_ascii_case("host"))
            || http.remove.iter().any(|k| k.eq_ignore_ascii_case("host"));
        if !host_given {
            http.set.push(["Host".to_owned(), addr.to_string()]);
        }
        if http.write_error.is_some() {
            return Err(
                "http.write_error: a real connection's writes cannot be made to fail; \
                        use it in the handshake layer"
                    .to_owned(),
            );
        }
        let request = build_request(&http)?;
        t.line(format!(
            "{} connect{}{}",
            spec.name,
            if spec.tls { " tls" } else { "" },
            if spec.compress { " compress" } else { "" }
        ));
        let stream = match connect(addr, tls.as_ref(), self.ctx.timeout) {
            Ok(s) => s,
            Err(e) => {
                t.line(format!("{} ! {e}", spec.name));
                if spec.upgrade {
                    failures.push(format!("{}: {e}", spec.name));
                }
                return Ok(());
            }
        };
        if let Some(ms) = spec.delay_ms {
            std::thread::sleep(Duration::from_millis(ms));
        }
        let mut c = WsClient::upgrade(stream, &request, self.ctx.timeout)?;
        let status = c.status();
        t.line(format!(
            "{} < HTTP {}",
            spec.name,
            status.map_or("none".to_owned(), |s| s.to_string())
        ));
        if !spec.upgrade {
            if let Some(e) = &c.ended {
                t.line(format!("{} ! {e:?}", spec.name));
            }
            self.ws.insert(spec.name.clone(), c);
            return Ok(());
        }
        if status != Some(101) {
            failures.push(format!(
                "{}: upgrade status {status:?}, response {}, ended {:?}",
                spec.name,
                show(&c.response),
                c.ended
            ));
            self.ws.insert(spec.name.clone(), c);
            return Ok(());
        }
        let got_info = c.read_until(self.ctx.timeout, |c| line_end(c.unread()).is_some())?;
        if !got_info || !c.unread().starts_with(b"INFO {") {
            failures.push(format!(
                "{}: expected INFO, got {}",
                spec.name,
                show(c.unread())
            ));
        } else if let Some(n) = line_end(c.unread()) {
            c.info = c.unread()[..n].to_vec();
            c.consumed += n;
            t.line(format!("{} < INFO", spec.name));
        }
        if let Some(connect_json) = &spec.connect {
            let msg = format!("CONNECT {connect_json}\r\nPING\r\n");
            let nonce = crate::auth::info_nonce(&c.data);
            let sent = crate::auth::render(&msg, setup.auth.as_ref(), nonce.as_deref())?;
            c.send_data(sent.as_bytes(), spec.compress)?;
            t.line(format!("{} > {}", spec.name, show(msg.as_bytes())));
            let ok = c.read_until(self.ctx.timeout, |c| {
                find(c.unread(), b"PONG\r\n").is_some() || find(c.unread(), b"-ERR").is_some()
            })?;
            match find(c.unread(), b"PONG\r\n") {
                Some(at) if ok => {
                    c.consumed += at + 6;
                    t.line(format!("{} < PONG", spec.name));
                    if connect_json.contains("\"protocol\":1") {
                        let info = c.read_until(Duration::from_millis(500), |c| {
                            line_end(c.unread()).is_some()
                        })?;
                        if info && c.unread().starts_with(b"INFO {") {
                            if let Some(n) = line_end(c.unread()) {
                                c.consumed += n;
                            }
                            t.line(format!("{} < INFO (async)", spec.name));
                        } else {
                            // Servers before 2.10 send none: shown in the transcript (and so
                            // checked by the golden for nats-ws), not a failure by itself.
                            t.line(format!(
                                "{} = no async INFO after the first PONG",
                                spec.name
                            ));
                        }
                    }
                }
                _ => failures.push(format!(
                    "{}: expected PONG after CONNECT, got {}",
                    spec.name,
                    show(c.unread())
                )),
            }
        }
        self.ws.insert(spec.name.clone(), c);
        self.show_frames(&spec.name, t);
        Ok(())
    }

    fn ws_send(
        &mut self,
        spec: &WsSendSpec,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        let mut out = Vec::new();
        if let Some(data) = &spec.data {
            let data = data.build().map_err(|e| e.to_string())?;
            // Credentials are substituted in what is sent; the transcript shows the template.
            let sent = match (std::str::from_utf8(&data), &setup.auth) {
                (Ok(text), Some(_)) => {
                    let nonce = crate::auth::info_nonce(&c.data);
                    crate::auth::render(text, setup.auth.as_ref(), nonce.as_deref())?.into_bytes()
                }
                _ => data.clone(),
            };
            out.extend(c.data_frame(&sent, spec.compress)?);
            let how = if spec.compress { "deflated " } else { "" };
            t.line(format!("{name} > {how}{}", show(&data)));
        }
        for frame in spec.frame.iter().chain(&spec.frames) {
            let (bytes, line) = sent_frame(frame)?;
            out.extend(bytes);
            t.line(format!("{name} {line}"));
        }
        if let Some(raw) = &spec.raw {
            let bytes = raw.build().map_err(|e| e.to_string())?;
            t.line(format!("{name} > raw {}", show(&bytes)));
            out.extend(bytes);
        }
        match spec.chop {
            Some(n) => {
                t.line(format!("{name} (written in {n}-byte pieces)"));
                c.send_chopped(&out, n)
            }
            None => c.send_raw(&out),
        }
    }

    fn ws_expect_close(
        &mut self,
        spec: &CloseExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let name = spec.conn.clone();
        let c = self.ws(&name)?;
        c.read_until(wait(spec.within_ms), |c| c.close.is_some())?;
        // After the close frame the server ends the TCP connection.
        c.read_until(wait(spec.within_ms), |c| c.ended.is_some())?;
        let close = c.close.clone();
        let ended = c.ended.clone();
        self.show_frames(&name, t);
        t.line(format!(
            "{name} = tcp {}",
            if ended.is_some() { "closed" } else { "open" }
        ));
        match close {
            None => failures.push(format!("{name}: no close frame (ended: {ended:?})")),
            Some((code, reason)) => {
                if code != spec.code {
                    failures.push(format!("{name}: close code {code:?}, want {:?}", spec.code));
                }
                if let Some(r) = &spec.reason {
                    let want = r.build().map_err(|e| e.to_string())?;
                    if reason != want {
                        failures.push(format!(
                            "{name}: close reason {}, want {}",
                            show(&reason),
                            show(&want)
                        ));
                    }
                }
            }
        }
        if ended.is_none() {
            failures.push(format!(
                "{name}: the server did not close TCP after its close frame"
            ));
        }
        Ok(())
    }

    fn ws_expect_frames(
        &mut self,
        spec: &FramesExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let mut data: Vec<_> = c
            .frames
            .iter()
            .filter(|f| !f.header.opcode.is_control())
            .collect();
        if spec.last {
            data = data.split_off(data.len().saturating_sub(1));
        }
        if let Some(max) = spec.max_payload
            && let Some(f) = data.iter().find(|f| f.payload.len() > max)
        {
            failures.push(format!(
                "{}: a frame of {} bytes, more than {max}",
                spec.conn,
                f.payload.len()
            ));
        }
        if let Some(min) = spec.min_data_frames
            && data.len() < min
        {
            failures.push(format!(
                "{}: {} data frames, want at least {min}",
                spec.conn,
                data.len()
            ));
        }
        if spec.no_continuations == Some(true)
            && data.iter().any(|f| f.header.opcode == OpCode::Continuation)
        {
            failures.push(format!("{}: a message was fragmented", spec.conn));
        }
        if let Some(min) = spec.min_payload_seen
            && !data.iter().any(|f| f.payload.len() >= min)
        {
            failures.push(format!(
                "{}: no data frame of {min} bytes or more",
                spec.conn
            ));
        }
        if let Some(want) = spec.compressed {
            let got = data
                .iter()
                .any(|f| f.header.rsv1 && f.header.opcode != OpCode::Continuation);
            if got != want {
                failures.push(format!(
                    "{}: compressed frames {got}, want {want}",
                    spec.conn
                ));
            }
        }
        Ok(())
    }

    fn ws_expect_http(
        &mut self,
        spec: &WsHttpExpect,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.ws(&spec.conn)?;
        let Some((status, headers, _)) = parse_response(&c.response) else {
            failures.push(format!("{}: no HTTP response ({:?})", spec.conn, c.ended));
            return Ok(());
        };
        if let Some(s) = spec.status
            && s != status
        {
            failures.push(format!("{}: status {status}, want {s}", spec.conn));
        }
        for [k, v] in &spec.headers {
            if !headers
                .iter()
                .any(|(n, val)| n.eq_ignore_ascii_case(k) && val == v)
            {
                failures.push(format!("{}: no header {k}: {v}", spec.conn));
            }
        }
        for k in &spec.absent {
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                failures.push(format!("{}: header {k} should be absent", spec.conn));
            }
        }
        let text = String::from_utf8_lossy(&c.response).into_owned();
        for want in &spec.contains {
            if !text.contains(want.as_str()) {
                failures.push(format!("{}: response does not contain {want:?}", spec.conn));
            }
        }
        Ok(())
    }

    fn nats_connect(
        &mut self,
        spec: &NatsConnectSpec,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let addr = self
            .server(setup, t)?
            .client_addr()
            .ok_or("the server has no client listener")?;
        let mut c = NatsClient::new(connect(addr, None, self.ctx.timeout)?);
        let connect_json = spec
            .connect
            .clone()
            .unwrap_or_else(|| "{\"verbose\":false,\"pedantic\":false}".to_owned());
        if !c.read_until(self.ctx.timeout, |u| line_end(u).is_some()) {
            failures.push(format!("{}: no INFO", spec.name));
        }
        if let Some(n) = line_end(&c.data[c.consumed..]) {
            c.consumed += n;
        }
        let nonce = crate::auth::info_nonce(&c.data);
        let connect_json =
            crate::auth::render(&connect_json, setup.auth.as_ref(), nonce.as_deref())?;
        c.send(format!("CONNECT {connect_json}\r\nPING\r\n").as_bytes())?;
        if c.read_until(self.ctx.timeout, |u| find(u, b"PONG\r\n").is_some()) {
            if let Some(at) = find(&c.data[c.consumed..], b"PONG\r\n") {
                c.consumed += at + 6;
            }
            t.line(format!("{} nats connected", spec.name));
        } else {
            failures.push(format!(
                "{}: no PONG, got {}",
                spec.name,
                show(&c.data[c.consumed..])
            ));
        }
        self.nats.insert(spec.name.clone(), c);
        Ok(())
    }

    fn expect_connection(&mut self, want: &ConnExpect, failures: &mut Vec<String>) {
        let Some(conns) = self.running.as_ref().and_then(|r| r.connections()) else {
            failures.push("expect_connection needs the in-process server".to_owned());
            return;
        };
        let ok = conns.iter().any(|c| {
            want.user.as_ref().is_none_or(|u| &c.user == u)
                && want.account.as_ref().is_none_or(|a| &c.account == a)
                && want.client_ip.as_ref().is_none_or(|i| &c.client_ip == i)
        });
        if !ok {
            failures.push(format!(
                "no connection matches {want:?}; connections: {conns:?}"
            ));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn line_end(b: &[u8]) -> Option<usize> {
    find(b, b"\r\n").map(|p| p + 2)
}

/// Waits for a stream expectation; returns bytes consumed and a transcript line.
fn expect_stream(
    spec: &StreamExpect,
    mut read: impl FnMut(Duration, &mut dyn FnMut(&[u8]) -> bool) -> Result<bool, String>,
    snapshot: impl Fn() -> (Vec<u8>, Option<ReadEnd>),
) -> Result<(usize, String), String> {
    let timeout = wait(spec.within_ms);
    if spec.nothing {
        read(timeout, &mut |u| !u.is_empty())?;
        let (unread, _) = snapshot();
        return if unread.is_empty() {
            Ok((0, "nothing".to_owned()))
        } else {
            Err(format!("unexpected data {}", show(&unread)))
        };
    }
    if let Some(data) = &spec.data {
        let want = data.build().map_err(|e| e.to_string())?;
        read(timeout, &mut |u| u.len() >= want.len())?;
        let (unread, ended) = snapshot();
        return if unread.starts_with(&want) {
            Ok((want.len(), format!("data {}", show(&want))))
        } else {
            Err(format!(
                "expected {}, got {} (ended {ended:?})",
                show(&want),
                show(&unread)
            ))
        };
    }
    if let Some(text) = &spec.contains {
        let needle = text.as_bytes().to_vec();
        read(timeout, &mut |u| find(u, &needle).is_some())?;
        let (unread, ended) = snapshot();
        return match find(&unread, &needle) {
            Some(at) => Ok((at + needle.len(), format!("contains {}", show(&needle)))),
            None => Err(format!(
                "expected {text:?}, got {} (ended {ended:?})",
                show(&unread)
            )),
        };
    }
    if let Some((text, n)) = &spec.count {
        let needle = text.as_bytes().to_vec();
        let count = |u: &[u8]| {
            u.windows(needle.len())
                .filter(|w| *w == &needle[..])
                .count()
        };
        read(timeout, &mut |u| count(u) >= *n)?;
        let (unread, ended) = snapshot();
        let got = count(&unread);
        return if got >= *n {
            Ok((unread.len(), format!("{n} x {text:?}")))
        } else {
            Err(format!(
                "expected {n} x {text:?}, got {got} (ended {ended:?})"
            ))
        };
    }
    Err("stream expectation needs data, contains, count or nothing".to_owned())
}
