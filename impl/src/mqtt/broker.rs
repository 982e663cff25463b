//! [`ConnBroker`]: one connection's view of its account's [`SessionManager`], the
//! [`Broker`] an [`MqttSession`](crate::mqtt::MqttSession) drives. Authorization is
//! the server's (it refuses before calling this one).

use std::time::Instant;

use crate::conn::Close;
use crate::frame::ClosedState;
use crate::mqtt::ConnAckCode;
use crate::mqtt::outbound::Message;
use crate::mqtt::packet::{Connect, Filter, Publish, Will};
use crate::mqtt::session::{Broker, ClientAck, Refusal};
use crate::mqtt::sessions::{ConnId, ConnectError, Perms, SessionManager};

/// A connection's handle on the state, for one call (`now` fixed).
#[derive(Debug)]
pub struct ConnBroker<'a> {
    manager: &'a mut SessionManager,
    conn: ConnId,
    now: Instant,
    /// Permissions to attach at CONNECT.
    perms: Option<Perms>,
}

impl SessionManager {
    /// The [`Broker`] for `conn` at `now`.
    pub fn broker(&mut self, conn: ConnId, now: Instant) -> ConnBroker<'_> {
        ConnBroker {
            manager: self,
            conn,
            now,
            perms: None,
        }
    }
}

impl ConnBroker<'_> {
    /// The permissions the connection's CONNECT attaches (once the server's auth
    /// decided them); they then apply to its publishes, will, subscriptions and
    /// deliveries.
    pub fn with_permissions(mut self, perms: Perms) -> Self {
        self.perms = Some(perms);
        self
    }
}

/// The message a will becomes.
pub fn will_message(will: &Will<'_>) -> Message {
    Message {
        subject: will.subject.to_vec(),
        topic: will.topic.to_vec(),
        qos: will.qos,
        retain: will.retain,
        payload: will.message.to_vec(),
    }
}

fn publish_message(p: &Publish<'_>) -> Message {
    Message {
        subject: p.subject.to_vec(),
        // Go delivers with the publisher's topic (and retains it with it).
        topic: p.topic.to_vec(),
        qos: p.qos,
        retain: p.retain(),
        payload: p.payload.to_vec(),
    }
}

impl Broker for ConnBroker<'_> {
    fn connect(&mut self, connect: &Connect<'_>, client_id: &str) -> Result<bool, Refusal> {
        let will = connect.will.as_ref().map(will_message);
        match self.manager.connect(
            self.conn,
            client_id,
            connect.session,
            will,
            self.perms.take(),
            self.now,
        ) {
            Ok(c) => Ok(c.session_present),
            Err(ConnectError::Jailed { release_at }) => Err(Refusal {
                connack: None,
                close: Close::new(ClosedState::DuplicateClientId, None),
                hold_until: Some(release_at),
            }),
            Err(ConnectError::TooManySessions { max }) => Err(Refusal {
                connack: Some(ConnAckCode::ServerUnavailable),
                close: Close::new(
                    ClosedState::MaxConnectionsExceeded,
                    Some(format!("maximum MQTT sessions exceeded (limit {max})")),
                ),
                hold_until: None,
            }),
        }
    }

    fn publish(&mut self, publish: &Publish<'_>) -> Result<(), Close> {
        let msg = std::sync::Arc::new(publish_message(publish));
        let perms = self.manager.perms_of(self.conn);
        self.manager
            .publish_as(perms.as_ref(), self.conn, &msg, self.now);
        Ok(())
    }

    fn store_qos2(&mut self, publish: &Publish<'_>) -> Result<(), Close> {
        self.manager
            .store_qos2(self.conn, publish.pi, publish_message(publish))
            .map_err(|e| Close::new(ClosedState::ProtocolViolation, Some(e.to_string())))
    }

    fn release_qos2(&mut self, pi: u16) -> Result<(), Close> {
        self.manager.release_qos2(self.conn, pi, self.now);
        Ok(())
    }

    fn subscribe(&mut self, filters: &[Filter<'_>]) -> Result<Vec<u8>, Close> {
        let requested: Vec<_> = filters
            .iter()
            .map(|f| (f.subject.as_ref().ok().map(|s| s.as_ref()), f.qos))
            .collect();
        Ok(self.manager.subscribe(self.conn, &requested, self.now))
    }

    fn unsubscribe(&mut self, filters: &[Filter<'_>]) -> Result<(), Close> {
        let subjects: Vec<&[u8]> = filters
            .iter()
            .filter_map(|f| f.subject.as_ref().ok().map(|s| s.as_ref()))
            .collect();
        self.manager.unsubscribe(self.conn, &subjects, self.now);
        Ok(())
    }

    fn client_ack(&mut self, ack: ClientAck) -> Result<(), Close> {
        self.manager.client_ack(self.conn, ack, self.now);
        Ok(())
    }

    fn flush_to(&mut self, out: &mut Vec<u8>) {
        self.manager.take_writes_for(self.conn, out);
    }
}
