//! Server-layer steps: a running server driven over loopback sockets, black-box. This
//! module runs the server and dispatches; `ws`, `nats` and `stream` hold the connection
//! steps.

mod http;
mod leaf;
mod nats;
mod stream;
mod topology;
mod ws;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nats_ws::frame::OpCode;

use crate::fixture::{ConnExpect, ServerStep, Setup, StateSpec};
use crate::peer::{NatsClient, WsClient};
use crate::run::context::{Record, RunContext, drive};
use crate::target::{External, Fixed, Placeholders, Running, TargetSpec};
use crate::transcript::{Transcript, describe_frame};
use topology::Topology;

const DEFAULT_WAIT: Duration = Duration::from_millis(2000);
const DEFAULT_CONFIG: &str = "listen: \"127.0.0.1:{client_port}\"\nwebsocket { listen: \"127.0.0.1:{ws_port}\", no_tls: true }\n";

/// Renders a server configuration: credentials, the server's ports, `{certs}`, and
/// `{store_dir}` (a directory of the server's own: JetStream, which the Go server's MQTT
/// needs; nats-ws accepts the block and ignores it).
fn render_config(
    template: &str,
    ports: &Placeholders,
    setup: &Setup,
    ctx: &RunContext,
) -> Result<String, String> {
    let config = crate::auth::render(template, setup.auth.as_ref(), None)?;
    let config = ports.render(&config);
    Ok(config.replace(
        "{store_dir}",
        &ctx.tmp
            .join(format!("js{}-{}", ports.ws_port, ports.client_port))
            .display()
            .to_string(),
    ))
}

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
    /// The other servers and the proxies of a multi-server case.
    topology: Option<Topology>,
}

impl Drop for ServerRunner<'_> {
    fn drop(&mut self) {
        self.ws.clear();
        self.nats.clear();
        if let Some(r) = self.running.take() {
            r.stop();
        }
        self.topology = None;
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
            topology: None,
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
        let config = render_config(
            setup.config.as_deref().unwrap_or(DEFAULT_CONFIG),
            &ports,
            setup,
            self.ctx,
        )?;
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
        if self.running.is_none() && self.topology.is_none() {
            if setup.servers.is_some() {
                let (top, running) = Topology::start(setup, self.ctx, t)?;
                self.topology = Some(top);
                self.running = Some(running);
            } else {
                let running = self.start(setup)?;
                t.line(format!("server started ({})", self.ctx.target.name()));
                self.running = Some(running);
            }
        }
        self.running
            .as_deref()
            .ok_or_else(|| "no server (stopped?)".to_owned())
    }

    /// A server by name (multi-server cases), or the one under test (`None`); starts
    /// them if needed.
    fn named(
        &mut self,
        setup: &Setup,
        t: &mut Transcript,
        name: Option<&str>,
    ) -> Result<&dyn Running, String> {
        if self.running.is_none() && self.topology.is_none() {
            self.server(setup, t)?;
        }
        let Some(name) = name else {
            return self.server(setup, t);
        };
        let top = self
            .topology
            .as_ref()
            .ok_or_else(|| format!("server {name:?}: this case has one server (no servers:)"))?;
        if name == top.under_test {
            return self
                .running
                .as_deref()
                .ok_or_else(|| format!("server {name:?} is stopped"));
        }
        top.peers
            .get(name)
            .map(|b| b.as_ref())
            .ok_or_else(|| format!("no server {name:?} (or it is stopped)"))
    }

    fn ws(&mut self, name: &str) -> Result<&mut WsClient, String> {
        self.ws
            .get_mut(name)
            .ok_or_else(|| format!("no websocket connection {name:?}"))
    }

    fn nats(&mut self, name: &str) -> Result<&mut NatsClient, String> {
        self.nats
            .get_mut(name)
            .ok_or_else(|| format!("no NATS connection {name:?}"))
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
            ServerStep::MqttConnect(spec) => self.mqtt_connect(spec, setup, t)?,
            ServerStep::MqttSend(spec) => self.nats_send(spec, t)?,
            ServerStep::MqttSendConnect(spec) => self.mqtt_send_connect(spec, setup, t)?,
            ServerStep::MqttExpect(spec) => self.nats_expect(spec, t, failures)?,

            ServerStep::HttpGet(spec) => self.http_get(spec, setup, t, failures)?,
            ServerStep::CloseConn(name) => {
                let closed = self.ws.remove(name).is_some() || self.nats.remove(name).is_some();
                if !closed {
                    return Err(format!("no connection {name:?}"));
                }
                t.line(format!("{name} closed by the client"));
            }
            ServerStep::ExpectLogOn(spec) => self.expect_log_on(spec, false, setup, t, failures)?,
            ServerStep::ExpectNoLogOn(spec) => {
                self.expect_log_on(spec, true, setup, t, failures)?
            }
            ServerStep::ExpectLeafnodes(spec) => self.expect_leafnodes(spec, setup, t, failures)?,
            ServerStep::ExpectProxy(spec) => {
                self.server(setup, t)?;
                self.expect_proxy(spec, t, failures)?
            }
            ServerStep::ResetProxy(name) => self.reset_proxy(name, t)?,
            ServerStep::ReloadServer(spec) => self.reload_server(spec, setup, t)?,
            ServerStep::StopServer(name) => self.stop_server(name, setup, t)?,
            ServerStep::ExpectLog(text) => self.expect_log(text, t, failures),
            ServerStep::ExpectNoLog(text) => self.expect_no_log(text, failures),
        }
        Ok(())
    }

    /// Replaces the configuration and reloads the server.
    fn reload(&mut self, config: &str, t: &mut Transcript) -> Result<(), String> {
        let running = self
            .running
            .as_mut()
            .ok_or("reload before the server started")?;
        let ports = Placeholders::bound(running.as_ref(), &self.ctx.certs);
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
