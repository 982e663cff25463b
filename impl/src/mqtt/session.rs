//! One MQTT connection's protocol state machine, sans-IO (Go: the protocol half of
//! `mqttParse` and `mqttProcessPub`/`mqttProcessPubRel`; routing, sessions and retained
//! messages are the [`Broker`]'s).
//!
//! Bytes in ([`HandleInput::handle_input`]), packets out ([`Session::output`]), timers by
//! `now`: the connect timeout before CONNECT, the keep-alive read deadline after it
//! (1.5 × the client's keep-alive, reset by every input). Errors close the connection
//! with Go's log line and closed state, after the CONNACK return code Go sends first.

use std::time::{Duration, Instant};

use crate::conn::trace::{Dir, payload_line};
use crate::conn::{Close, HandleInput, Session, Trace};
use crate::frame::ClosedState;
use crate::mqtt::nats_msg::{self, Encoding};
use crate::mqtt::packet::{Connect, Filter, Publish};
use crate::mqtt::trace;
use crate::mqtt::writer::{self, PubResponse};
use crate::mqtt::{
    ConnAckCode, MqttError, Packet, Phase, Qos, Reader, ReaderConfig, connected_packet_limit,
};

/// A QoS acknowledgement the client sends for a message the server delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAck {
    /// PUBACK: a QoS 1 delivery is done.
    PubAck(u16),
    /// PUBREC: a QoS 2 delivery was received; the broker sends PUBREL next.
    PubRec(u16),
    /// PUBCOMP: a QoS 2 delivery is done.
    PubComp(u16),
}

/// What happens to the will when the connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WillFate {
    /// DISCONNECT: discarded ([MQTT-3.1.2-8]).
    Discard,
    /// Any other end: published.
    Publish,
}

/// A refused CONNECT: the return code to send (if any) and how the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// CONNACK return code sent before closing (Go: 0x05 for an authorization failure).
    pub connack: Option<ConnAckCode>,
    /// The close.
    pub close: Close,
    /// Hold the connection, reading nothing, until then before closing (Go's flapping
    /// jail, `mqttSessJailDur`); `None` closes at once.
    pub hold_until: Option<Instant>,
}

/// Where an MQTT session's packets go: authentication, sessions, subscriptions, routing
/// and retained messages (the server's part; a recording fake in tests).
pub trait Broker {
    /// A parsed CONNECT (`client_id` is the client's, or the one assigned for an empty
    /// one): authorize, attach or create the session. `Ok(session_present)`.
    /// Go: `mqttProcessConnect`.
    fn connect(&mut self, connect: &Connect<'_>, client_id: &str) -> Result<bool, Refusal>;
    /// A QoS 0 or 1 PUBLISH to deliver now (Go: `mqttInitiateMsgDelivery`).
    fn publish(&mut self, publish: &Publish<'_>) -> Result<(), Close>;
    /// A QoS 2 PUBLISH to keep, once per packet identifier, until PUBREL
    /// (Go: `mqttStoreQoS2MsgOnce`).
    fn store_qos2(&mut self, publish: &Publish<'_>) -> Result<(), Close>;
    /// PUBREL: deliver and forget the QoS 2 message kept under `pi`, if any
    /// (Go: `mqttProcessPubRel`).
    fn release_qos2(&mut self, pi: u16) -> Result<(), Close>;
    /// SUBSCRIBE: one SUBACK return code per filter, granted QoS or 0x80.
    fn subscribe(&mut self, filters: &[Filter<'_>]) -> Result<Vec<u8>, Close>;
    /// UNSUBSCRIBE.
    fn unsubscribe(&mut self, filters: &[Filter<'_>]) -> Result<(), Close>;
    /// An acknowledgement of a message the server delivered.
    fn client_ack(&mut self, ack: ClientAck) -> Result<(), Close>;
    /// Moves what the broker has for this connection into `out`. The session calls it
    /// where Go's order puts those packets: after CONNACK (resumed deliveries), after
    /// SUBACK (retained messages), before PUBACK and PUBCOMP (deliveries to the
    /// publisher itself), after an acknowledgement (the next queued message, PUBREL).
    fn flush_to(&mut self, out: &mut Vec<u8>) {
        let _ = out;
    }
}

/// Per-connection settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Parsing options.
    pub reader: ReaderConfig,
    /// The server's `max_payload`.
    pub max_payload: usize,
    /// Time allowed for CONNECT (Go: `mqtt.auth_timeout`, else `authorization.timeout`).
    pub connect_timeout: Option<Duration>,
    /// The id given to a clean session that sent an empty one (Go: a NUID).
    pub assigned_client_id: String,
    /// Trace every packet both ways (`-V`), as [`crate::mqtt::trace`] words it, and
    /// PUBLISH payloads (cut at `max_traced_msg_len`).
    pub trace: Trace,
}

#[derive(Debug)]
enum State {
    AwaitingConnect {
        deadline: Option<Instant>,
    },
    Connected {
        client_id: String,
        /// 1.5 × keep-alive, if the client asked for one.
        keep_alive: Option<Duration>,
        deadline: Option<Instant>,
    },
    /// Closed; whether the will (given to the broker at CONNECT) is published.
    Closed {
        will: WillFate,
    },
}

/// One MQTT connection's protocol state.
#[derive(Debug)]
pub struct MqttSession {
    reader: Reader,
    protocol: Protocol,
}

/// Everything but the reader, so a packet borrowed from the reader can be handled.
#[derive(Debug)]
struct Protocol {
    config: SessionConfig,
    state: State,
    out: Vec<u8>,
    /// A refused CONNECT's hold (Go's flapping jail).
    hold_until: Option<Instant>,
    /// Trace lines not yet taken (only with `config.trace`).
    traces: Vec<String>,
}

impl MqttSession {
    /// A session for a connection accepted at `now`.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let deadline = config.connect_timeout.map(|t| now + t);
        MqttSession {
            reader: Reader::new(config.reader),
            protocol: Protocol {
                config,
                state: State::AwaitingConnect { deadline },
                out: Vec::new(),
                hold_until: None,
                traces: Vec::new(),
            },
        }
    }

    /// The client id, once connected.
    pub fn client_id(&self) -> Option<&str> {
        match &self.protocol.state {
            State::Connected { client_id, .. } => Some(client_id),
            State::AwaitingConnect { .. } | State::Closed { .. } => None,
        }
    }

    /// What becomes of the will if the connection ends now (or has ended): published
    /// once connected, whatever ends it (error, keep-alive, the socket), except after
    /// DISCONNECT ([MQTT-3.1.2-8]). Go: `mqttHandleClosedClient`.
    pub fn will_fate(&self) -> WillFate {
        match self.protocol.state {
            State::Connected { .. } => WillFate::Publish,
            State::AwaitingConnect { .. } => WillFate::Discard,
            State::Closed { will } => will,
        }
    }

    /// After a CONNECT the broker refused with a hold: the connection is kept open,
    /// reading nothing, until then, and closed after (Go sleeps `mqttSessJailDur` in
    /// its read loop before closing a flapping client id).
    pub fn hold_until(&self) -> Option<Instant> {
        self.protocol.hold_until
    }

    /// Bytes the reader holds between inputs.
    pub fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    /// Traces the packets written to the output from byte `mark` on (what a timer
    /// added, e.g. a redelivery).
    pub fn trace_output_since(&mut self, mark: usize) {
        self.protocol.trace_out(mark);
    }

    /// The trace lines so far, taken.
    pub fn take_traces(&mut self) -> Vec<String> {
        std::mem::take(&mut self.protocol.traces)
    }
}

impl Protocol {
    /// Traces the packets written from byte `mark` of the output on.
    fn trace_out(&mut self, mark: usize) {
        if self.config.trace != Trace::Off {
            let written = self.out.get(mark..).unwrap_or_default();
            self.traces.extend(trace::out_lines(written));
        }
    }

    /// Traces a packet the client sent (a CONNECT with the client id it will get).
    fn trace_in(&mut self, packet: &Packet<'_>) {
        let Trace::On { max_payload, .. } = self.config.trace else {
            return;
        };
        let id = match (&self.state, packet) {
            (_, Packet::Connect(c)) if c.client_id.is_empty() => {
                self.config.assigned_client_id.as_str()
            }
            (_, Packet::Connect(c)) => c.client_id,
            (State::Connected { client_id, .. }, _) => client_id.as_str(),
            (State::AwaitingConnect { .. } | State::Closed { .. }, _) => "",
        };
        let line = trace::in_line(packet, id);
        self.traces.push(line);
        // Go traces a PUBLISH's payload as a NATS message's (`traceMsg`).
        if let Packet::Publish(p) = packet {
            self.traces
                .extend(payload_line(Dir::In, p.payload, max_payload));
        }
    }

    fn phase(&self) -> Phase {
        match self.state {
            State::AwaitingConnect { .. } | State::Closed { .. } => Phase::AwaitingConnect {
                max_payload: self.config.max_payload,
            },
            State::Connected { .. } => Phase::Connected {
                max_packet: connected_packet_limit(self.config.max_payload),
            },
        }
    }

    /// A protocol error: CONNACK first if Go sends one, then close with its log line.
    fn fail(&mut self, err: &MqttError) -> Close {
        if let Some(code) = err.connack_code() {
            writer::connack(&mut self.out, code, false);
        }
        self.close_keeping_will();
        Close::new(err.closed_state(), Some(err.to_string()))
    }

    /// Closes; a connected session's will is published.
    fn close_keeping_will(&mut self) {
        let will = match self.state {
            State::Connected { .. } => WillFate::Publish,
            State::AwaitingConnect { .. } | State::Closed { .. } => WillFate::Discard,
        };
        self.state = State::Closed { will };
    }

    fn handle_packet<B: Broker + ?Sized>(
        &mut self,
        now: Instant,
        packet: Packet<'_>,
        broker: &mut B,
    ) -> Result<(), Close> {
        match packet {
            Packet::Connect(c) => {
                let client_id = if c.client_id.is_empty() {
                    self.config.assigned_client_id.clone()
                } else {
                    c.client_id.to_owned()
                };
                match broker.connect(&c, &client_id) {
                    Ok(session_present) => {
                        writer::connack(&mut self.out, ConnAckCode::Accepted, session_present);
                        broker.flush_to(&mut self.out);
                        let keep_alive = c.read_deadline();
                        self.state = State::Connected {
                            client_id,
                            keep_alive,
                            deadline: keep_alive.map(|k| now + k),
                        };
                    }
                    Err(refusal) => {
                        self.hold_until = refusal.hold_until;
                        if let Some(code) = refusal.connack {
                            writer::connack(&mut self.out, code, false);
                        }
                        self.close_keeping_will();
                        return Err(refusal.close);
                    }
                }
            }
            Packet::Publish(p) => {
                // Go: mqttProcessPub checks max_payload on the NATS message it becomes
                // (QoS 2: as staged, with its subject). Subject mappings are the
                // broker's, so none here.
                let encoding = match p.qos {
                    Qos::ExactlyOnce => Encoding::Staged {
                        subject: &p.subject,
                        mapped: None,
                    },
                    Qos::AtMostOnce | Qos::AtLeastOnce => Encoding::Delivery,
                };
                let size = nats_msg::message_size(encoding, p.payload.len());
                if size > self.config.max_payload {
                    let err = MqttError::MaxPayload {
                        size,
                        max: self.config.max_payload,
                    };
                    return Err(self.fail(&err));
                }
                match p.qos {
                    Qos::AtMostOnce => {
                        broker.publish(&p)?;
                        broker.flush_to(&mut self.out);
                    }
                    Qos::AtLeastOnce => {
                        broker.publish(&p)?;
                        broker.flush_to(&mut self.out);
                        writer::pub_response(&mut self.out, PubResponse::Ack, p.pi);
                    }
                    Qos::ExactlyOnce => {
                        broker.store_qos2(&p)?;
                        writer::pub_response(&mut self.out, PubResponse::Rec, p.pi);
                    }
                }
            }
            Packet::PubRel(pi) => {
                // Go sends PUBCOMP whatever the release did (a deferred call).
                let released = broker.release_qos2(pi);
                broker.flush_to(&mut self.out);
                writer::pub_response(&mut self.out, PubResponse::Comp, pi);
                released?;
            }
            Packet::PubAck(pi) => {
                broker.client_ack(ClientAck::PubAck(pi))?;
                broker.flush_to(&mut self.out);
            }
            Packet::PubRec(pi) => {
                broker.client_ack(ClientAck::PubRec(pi))?;
                broker.flush_to(&mut self.out);
            }
            Packet::PubComp(pi) => {
                broker.client_ack(ClientAck::PubComp(pi))?;
                broker.flush_to(&mut self.out);
            }
            Packet::Subscribe { pi, filters } => {
                let codes = broker.subscribe(&filters)?;
                // At most one code per filter: the packet held the filters.
                let written = writer::suback(&mut self.out, pi, &codes);
                if written.is_err() {
                    return Err(Close::new(ClosedState::ProtocolViolation, None));
                }
                broker.flush_to(&mut self.out);
            }
            Packet::Unsubscribe { pi, filters } => {
                broker.unsubscribe(&filters)?;
                writer::unsuback(&mut self.out, pi);
            }
            Packet::PingReq => writer::pingresp(&mut self.out),
            Packet::Disconnect => {
                // [MQTT-3.1.2-8]: the will is discarded.
                self.state = State::Closed {
                    will: WillFate::Discard,
                };
                return Err(Close::new(ClosedState::ClientClosed, None));
            }
        }
        Ok(())
    }
}

impl Session for MqttSession {
    fn poll_timeout(&self) -> Option<Instant> {
        match self.protocol.state {
            State::AwaitingConnect { deadline } | State::Connected { deadline, .. } => deadline,
            State::Closed { .. } => None,
        }
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        let state = &mut self.protocol.state;
        match *state {
            State::AwaitingConnect {
                deadline: Some(d), ..
            } if now >= d => {
                // Go: authTimeout (no -ERR to an MQTT client).
                *state = State::Closed {
                    will: WillFate::Discard,
                };
                Err(Close::new(ClosedState::AuthenticationTimeout, None))
            }
            State::Connected {
                deadline: Some(d), ..
            } if now >= d => {
                // Go: the read deadline fails the read; the will is published.
                *state = State::Closed {
                    will: WillFate::Publish,
                };
                Err(Close::new(ClosedState::ReadError, None))
            }
            State::AwaitingConnect { .. } | State::Connected { .. } | State::Closed { .. } => {
                Ok(())
            }
        }
    }

    fn output(&mut self) -> &mut Vec<u8> {
        &mut self.protocol.out
    }
}

impl<B: Broker + ?Sized> HandleInput<B> for MqttSession {
    fn handle_input(&mut self, now: Instant, input: &[u8], broker: &mut B) -> Result<(), Close> {
        if matches!(self.protocol.state, State::Closed { .. }) {
            return Ok(());
        }
        let mut rest = input;
        // Each packet takes at least two bytes (of this input, or held by the reader
        // after a CONNECT), so the rounds are bounded.
        for _ in 0..=(input.len() + self.reader.buffered()) {
            let phase = self.protocol.phase();
            let mark = self.protocol.out.len();
            let step = match self.reader.next(rest, phase) {
                Ok(step) => step,
                Err(e) => {
                    let close = self.protocol.fail(&e);
                    self.protocol.trace_out(mark);
                    return Err(close);
                }
            };
            let Some(packet) = step.packet else {
                break;
            };
            self.protocol.trace_in(&packet);
            let handled = self.protocol.handle_packet(now, packet, broker);
            self.protocol.trace_out(mark);
            if let Err(close) = handled {
                // A broker's refusal closes too (packets after it are not read).
                if !matches!(self.protocol.state, State::Closed { .. }) {
                    self.protocol.close_keeping_will();
                }
                return Err(close);
            }
            rest = &rest[step.consumed..];
        }
        // Go re-arms the read deadline after every successful parse.
        if let State::Connected {
            keep_alive: Some(k),
            deadline,
            ..
        } = &mut self.protocol.state
        {
            *deadline = Some(now + *k);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
