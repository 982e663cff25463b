//! Server-layer steps on plain NATS connections: connect, send, expect.

use crate::fixture::{MqttConnectSpec, NatsConnectSpec, NatsSendSpec, Setup, StreamExpect};
use crate::peer::{NatsClient, connect};
use crate::run::server::ServerRunner;
use crate::run::server::stream::{expect_stream, find, line_end};
use crate::transcript::{Transcript, show};

impl ServerRunner<'_> {
    /// Sends raw protocol on a NATS connection.
    pub(super) fn nats_send(
        &mut self,
        spec: &NatsSendSpec,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let data = spec.data.build().map_err(|e| e.to_string())?;
        t.line(format!("{} > {}", spec.conn, show(&data)));
        self.nats(&spec.conn)?.send(&data)
    }

    /// Expects data on a NATS connection.
    pub(super) fn nats_expect(
        &mut self,
        spec: &StreamExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let c = self.nats(&spec.conn)?;
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

    pub(super) fn nats_connect(
        &mut self,
        spec: &NatsConnectSpec,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let addr = self
            .named(setup, t, spec.server.as_deref())?
            .client_addr()
            .ok_or("the server has no client listener")?;
        let mut c = NatsClient::new(connect(addr, None, self.ctx.timeout)?);
        c.answer_pings = spec.answer_pings.unwrap_or(setup.servers.is_some());
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
            let on = spec
                .server
                .as_ref()
                .map(|s| format!(" to {s}"))
                .unwrap_or_default();
            t.line(format!("{} nats connected{on}", spec.name));
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

    /// A TCP connection to the MQTT port; MQTT packets go through `mqtt_send` and
    /// `mqtt_expect` as raw bytes.
    pub(super) fn mqtt_connect(
        &mut self,
        spec: &MqttConnectSpec,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<(), String> {
        let addr = self
            .server(setup, t)?
            .mqtt_addr()
            .ok_or("the server has no MQTT listener")?;
        let c = NatsClient::new(connect(addr, None, self.ctx.timeout)?);
        t.line(format!("{} mqtt connected", spec.name));
        self.nats.insert(spec.name.clone(), c);
        Ok(())
    }
}
