//! One MQTT connection on the server: [`MqttConn`] (the sans-IO [`MqttSession`] plus its
//! account's redelivery timers) and [`MqttRouter`], its [`Broker`]: authentication at
//! CONNECT, then the account's [`SessionManager`](crate::mqtt::SessionManager).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::{AccountMqtt, Effects, Interest, MqttServer};
use crate::auth::{AuthRequest, Checker, TlsIdentity, Transport};
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::mqtt::sessions::{Perms, SubjectPermissions};
use crate::mqtt::{
    Broker, ClientAck, ConnAckCode, ConnBroker, ConnId, Connect, Filter, MqttSession, Publish,
    ReaderConfig, Refusal, SessionConfig,
};
use crate::nats::ConnectInfo;
use crate::server::pump::Served;
use crate::server::router::{Client, lock};
use crate::server::{LogLevel, Shared};

/// The account a connection's CONNECT bound, shared by its session and its router.
type Bound = Arc<OnceLock<Arc<AccountMqtt>>>;

/// An MQTT connection's session, as the pump carries it.
#[derive(Debug)]
pub(crate) struct MqttConn {
    inner: MqttSession,
    cid: ConnId,
    transport: Transport,
    tls: Option<TlsIdentity>,
    bound: Bound,
    /// A refused CONNECT held open (Go's flapping jail): closed with this, then.
    held: Option<(Instant, Close)>,
    /// Inputs read (for `/connz` `last_activity`).
    inputs: u64,
}

impl MqttConn {
    /// A new connection `cid`, accepted at `now`.
    pub(crate) fn new(
        mqtt: &MqttServer,
        max_payload: usize,
        trace: crate::conn::Trace,
        cid: ConnId,
        transport: Transport,
        now: Instant,
    ) -> MqttConn {
        let reader = ReaderConfig {
            transport: match transport {
                Transport::MqttWebsocket => crate::mqtt::Transport::WebSocket,
                Transport::Mqtt
                | Transport::Standard
                | Transport::Websocket
                | Transport::Leafnode
                | Transport::LeafnodeWebsocket => crate::mqtt::Transport::Tcp,
            },
            qos2: mqtt.qos2,
        };
        let config = SessionConfig {
            reader,
            max_payload,
            connect_timeout: mqtt.connect_timeout,
            assigned_client_id: assigned_id(),
            trace,
        };
        MqttConn {
            inner: MqttSession::new(config, now),
            cid,
            transport,
            tls: None,
            bound: Arc::new(OnceLock::new()),
            held: None,
            inputs: 0,
        }
    }

    /// The verified client certificate (after the TLS handshake).
    pub(crate) fn set_tls_identity(&mut self, tls: Option<TlsIdentity>) {
        self.tls = tls;
    }
}

/// A client id for a clean session that sent none: 22 random base-62 characters, as
/// long as Go's NUIDs.
fn assigned_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut raw = [0u8; 22];
    let _ = getrandom::fill(&mut raw);
    raw.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

impl Session for MqttConn {
    fn poll_timeout(&self) -> Option<Instant> {
        if let Some((t, _)) = &self.held {
            return Some(*t);
        }
        let session = self.inner.poll_timeout();
        let state = self
            .bound
            .get()
            .and_then(|acc| lock(&acc.manager).poll_timeout_for(self.cid));
        match (session, state) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        if let Some((t, _)) = &self.held {
            if now < *t {
                return Ok(());
            }
            return match self.held.take() {
                Some((_, close)) => Err(close),
                None => Ok(()),
            };
        }
        self.inner.handle_timeout(now)?;
        if let Some(acc) = self.bound.get() {
            // Go: the JetStream consumers redeliver after `ack_wait`.
            let mark = self.inner.output().len();
            lock(&acc.manager).handle_timeout_for(self.cid, now, self.inner.output());
            self.inner.trace_output_since(mark);
        }
        Ok(())
    }

    fn output(&mut self) -> &mut Vec<u8> {
        self.inner.output()
    }
}

impl HandleInput<MqttRouter> for MqttConn {
    fn handle_input(
        &mut self,
        now: Instant,
        input: &[u8],
        router: &mut MqttRouter,
    ) -> Result<(), Close> {
        if self.held.is_some() {
            return Ok(());
        }
        self.inputs += 1;
        let was_connected = self.inner.client_id().is_some();
        let result = self.inner.handle_input(now, input, router);
        if !was_connected && self.inner.client_id().is_some() {
            router.log_connected(self.inner.take_traces());
        }
        match result {
            Err(close) => match self.inner.hold_until() {
                Some(t) => {
                    self.held = Some((t, close));
                    Ok(())
                }
                None => Err(close),
            },
            Ok(()) => Ok(()),
        }
    }
}

impl Served for MqttConn {
    type Router = MqttRouter;
    // Go: `sendErr` writes nothing to an MQTT client.
    const MAX_CONNECTIONS_ERR: &'static [u8] = b"";

    fn router(&self, shared: &Arc<Shared>, client: &Arc<Client>) -> MqttRouter {
        MqttRouter {
            shared: Arc::clone(shared),
            client: Arc::clone(client),
            cid: self.cid,
            transport: self.transport,
            tls: self.tls.clone(),
            bound: Arc::clone(&self.bound),
            own: Vec::new(),
        }
    }

    fn lame_duck(&mut self) {}

    fn activity(&self) -> u64 {
        self.inputs
    }

    fn rtt(&self) -> Option<std::time::Duration> {
        None
    }

    fn take_traces(&mut self) -> Vec<String> {
        self.inner.take_traces()
    }

    fn finished(&mut self, router: &mut MqttRouter) {
        let Some(acc) = self.bound.get().cloned() else {
            return;
        };
        let fate = self.inner.will_fate();
        let cid = self.cid;
        let ((), fx) = acc.with(None, Interest::Changed, |m| {
            m.disconnect(cid, fate, Instant::now());
        });
        acc.apply(&router.shared, Some(&router.client), fx);
    }
}

/// The [`Broker`] of one MQTT connection.
#[derive(Debug)]
pub(crate) struct MqttRouter {
    shared: Arc<Shared>,
    client: Arc<Client>,
    cid: ConnId,
    transport: Transport,
    tls: Option<TlsIdentity>,
    bound: Bound,
    /// Bytes for this connection an operation produced, flushed in Go's order.
    own: Vec<u8>,
}

/// The auth layer's permissions as the MQTT state asks them.
#[derive(Debug)]
struct CheckerPerms(Arc<Checker>);

impl SubjectPermissions for CheckerPerms {
    fn may_publish(&self, subject: &[u8]) -> bool {
        self.0.can_publish(subject)
    }

    fn may_subscribe(&self, filter: &[u8]) -> bool {
        self.0.can_subscribe(filter, None)
    }

    fn may_receive(&self, subject: &[u8]) -> bool {
        !self.0.denies_delivery(subject, None)
    }
}

/// An operation before CONNECT bound an account cannot happen (the session refuses any
/// packet before CONNECT); closing is the safe answer if it did.
fn unbound() -> Close {
    Close::new(ClosedState::ProtocolViolation, None)
}

impl MqttRouter {
    /// Go: `Client connected` (debug) once CONNECT is accepted, after the trace of its
    /// CONNACK and before those of the packets that followed it in the same read.
    fn log_connected(&self, traces: Vec<String>) {
        let prefix = self.client.log_prefix();
        let at = traces
            .iter()
            .position(|l| l.starts_with("->> [CONNACK"))
            .map_or(0, |i| i + 1);
        for (i, line) in traces.iter().enumerate() {
            if i == at {
                self.connected_line(prefix);
            }
            self.shared
                .log(LogLevel::Trace, &format!("{prefix} - {line}"));
        }
        if at >= traces.len() {
            self.connected_line(prefix);
        }
    }

    fn connected_line(&self, prefix: &str) {
        self.shared
            .log(LogLevel::Debug, &format!("{prefix} - Client connected"));
    }

    /// Runs one operation on the bound account's state and carries out its effects.
    fn op<T>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(ConnBroker<'_>) -> T,
    ) -> Result<T, Close> {
        let acc = self.bound.get().cloned().ok_or_else(unbound)?;
        let cid = self.cid;
        let now = Instant::now();
        let (r, fx) = acc.with(Some(cid), interest, |m| f(m.broker(cid, now)));
        self.finish(&acc, fx);
        Ok(r)
    }

    fn finish(&mut self, acc: &AccountMqtt, mut fx: Effects) {
        self.own.append(&mut fx.own);
        acc.apply(&self.shared, Some(&self.client), fx);
    }
}

impl Broker for MqttRouter {
    fn connect(&mut self, connect: &Connect<'_>, client_id: &str) -> Result<bool, Refusal> {
        // Go: `getMQTTClientID` and the log prefix, set as CONNECT is read, before
        // authentication.
        client_id.clone_into(&mut lock(&self.client.info).mqtt_client);
        self.client.set_mqtt_client_id(client_id);
        let shared = Arc::clone(&self.shared);
        let refused = |code: ConnAckCode, state: ClosedState, log: Option<String>| Refusal {
            connack: Some(code),
            close: Close::new(state, log),
            hold_until: None,
        };
        let Some(mqtt) = &shared.mqtt else {
            return Err(refused(
                ConnAckCode::ServerUnavailable,
                ClosedState::ServerShutdown,
                None,
            ));
        };
        // Go: the password is also the token, and a JWT in operator mode.
        let password = connect
            .password
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let info = ConnectInfo {
            user: connect.username.unwrap_or_default().to_owned(),
            pass: password.clone(),
            auth_token: password.clone(),
            jwt: password,
            ..ConnectInfo::default()
        };
        let identity = match shared.client_cfg.auth.authenticate(&AuthRequest {
            connect: &info,
            cookies: None,
            transport: self.transport,
            nonce: None,
            tls: self.tls.as_ref(),
        }) {
            Ok(id) => id,
            // Go: authViolation: the log line, CONNACK 0x05, then the close.
            Err(e) => {
                return Err(refused(
                    ConnAckCode::NotAuthorized,
                    ClosedState::AuthenticationViolation,
                    Some(e.to_string()),
                ));
            }
        };
        {
            let mut i = lock(&self.client.info);
            i.user.clone_from(&identity.user);
            i.account = Some(identity.account.clone());
        }
        // Go: isClientAuthorized sends the account's connect event once authenticated,
        // before the session is set up.
        if let Some(sys) = &shared.system {
            sys.client_connected(&shared, &self.client);
        }
        if let Some(p) = &identity.permissions {
            let _ = self.client.permissions.set(Arc::clone(p));
        }
        let acc = mqtt.account(&shared, &identity.account);
        let _ = self.bound.set(Arc::clone(&acc));
        let perms = identity
            .permissions
            .map(|c| Arc::new(CheckerPerms(c)) as Perms);
        let cid = self.cid;
        let now = Instant::now();
        let (r, fx) = acc.with(Some(cid), Interest::Changed, |m| {
            let mut b = m.broker(cid, now);
            if let Some(p) = perms {
                b = b.with_permissions(p);
            }
            b.connect(connect, client_id)
        });
        self.finish(&acc, fx);
        r
    }

    fn publish(&mut self, publish: &Publish<'_>) -> Result<(), Close> {
        self.op(Interest::Same, |mut b| b.publish(publish))?
    }

    fn store_qos2(&mut self, publish: &Publish<'_>) -> Result<(), Close> {
        self.op(Interest::Same, |mut b| b.store_qos2(publish))?
    }

    fn release_qos2(&mut self, pi: u16) -> Result<(), Close> {
        self.op(Interest::Same, |mut b| b.release_qos2(pi))?
    }

    fn subscribe(&mut self, filters: &[Filter<'_>]) -> Result<Vec<u8>, Close> {
        self.op(Interest::Changed, |mut b| b.subscribe(filters))?
    }

    fn unsubscribe(&mut self, filters: &[Filter<'_>]) -> Result<(), Close> {
        self.op(Interest::Changed, |mut b| b.unsubscribe(filters))?
    }

    fn client_ack(&mut self, ack: ClientAck) -> Result<(), Close> {
        self.op(Interest::Same, |mut b| b.client_ack(ack))?
    }

    fn flush_to(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.own);
        if let Some(acc) = self.bound.get() {
            lock(&acc.manager).take_writes_for(self.cid, out);
        }
    }
}
