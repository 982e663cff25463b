//! MQTT packets a server receives, and their body parsers with Go's checks, order and
//! texts (Go: `mqttParseConnect`, `mqttParsePub`, `mqttParsePIPacket`,
//! `mqttParseSubsOrUnsubs`).
//!
//! Every body is bounded by its packet's remaining length: a field that runs past it is
//! `error reading <field>: unexpected EOF` (or `: EOF` for one byte), Go's text when the
//! packet is the last thing in its read. Go reads on into the bytes that follow in the
//! same read, so its result there depends on how the bytes arrived (docs/CONFORMANCE.md).
//! The other way round, Go's reader goes on from where a CONNECT's fields end, so bytes
//! left inside its remaining length are read as the next packet; so do we.

use std::borrow::Cow;

use crate::mqtt::topic::{filter_to_nats_subject, topic_to_nats_pub_subject};
use crate::mqtt::{Field, MqttError, PROTOCOL_LEVEL, Qos, SubKind};

const CONN_FLAG_RESERVED: u8 = 0x01;
const CONN_FLAG_CLEAN_SESSION: u8 = 0x02;
const CONN_FLAG_WILL: u8 = 0x04;
const CONN_FLAG_WILL_QOS: u8 = 0x18;
const CONN_FLAG_WILL_RETAIN: u8 = 0x20;
const CONN_FLAG_PASSWORD: u8 = 0x40;
const CONN_FLAG_USERNAME: u8 = 0x80;

/// PUBLISH fixed-header flags. Go: `mqttPubFlag*`.
pub const PUB_FLAG_RETAIN: u8 = 0x01;
/// QoS bits of the PUBLISH flags.
pub const PUB_FLAG_QOS: u8 = 0x06;
/// DUP bit of the PUBLISH flags.
pub const PUB_FLAG_DUP: u8 = 0x08;

/// One packet received from a client. Slices borrow the reader's buffer or the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet<'a> {
    /// CONNECT.
    Connect(Connect<'a>),
    /// PUBLISH.
    Publish(Publish<'a>),
    /// PUBACK with its packet identifier (never 0).
    PubAck(u16),
    /// PUBREC.
    PubRec(u16),
    /// PUBREL.
    PubRel(u16),
    /// PUBCOMP.
    PubComp(u16),
    /// SUBSCRIBE.
    Subscribe {
        /// Packet identifier (never 0).
        pi: u16,
        /// At least one filter, in order, each with its requested QoS.
        filters: Vec<Filter<'a>>,
    },
    /// UNSUBSCRIBE (filters' `qos` is 0).
    Unsubscribe {
        /// Packet identifier (never 0).
        pi: u16,
        /// At least one filter, in order.
        filters: Vec<Filter<'a>>,
    },
    /// PINGREQ.
    PingReq,
    /// DISCONNECT.
    Disconnect,
}

/// Whether the session starts clean or resumes (CONNECT flag bit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Clean session: state is discarded at connect and disconnect.
    Clean,
    /// Persistent session.
    Persistent,
}

/// A CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect<'a> {
    /// The raw connect flags.
    pub flags: u8,
    /// Clean or persistent session.
    pub session: SessionKind,
    /// Keep-alive in seconds (0 = none).
    pub keep_alive: u16,
    /// Client identifier; empty only with a clean session (the server assigns one, Go
    /// uses a NUID).
    pub client_id: &'a str,
    /// The will message.
    pub will: Option<Will<'a>>,
    /// User name (never empty).
    pub username: Option<&'a str>,
    /// Password (Go also uses it as the token).
    pub password: Option<&'a [u8]>,
}

impl Connect<'_> {
    /// The server's read deadline: 1.5 × keep-alive, whole seconds truncated as Go's
    /// `time.Duration(float64(ka)*1.5) * time.Second`; `None` without keep-alive.
    pub fn read_deadline(&self) -> Option<std::time::Duration> {
        (self.keep_alive > 0)
            .then(|| std::time::Duration::from_secs(u64::from(self.keep_alive) * 3 / 2))
    }
}

/// A will message, as CONNECT carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will<'a> {
    /// QoS to publish it with.
    pub qos: Qos,
    /// Whether to retain it.
    pub retain: bool,
    /// Its MQTT topic (not empty, valid UTF-8, no wildcard).
    pub topic: &'a [u8],
    /// The topic as a NATS subject.
    pub subject: Cow<'a, [u8]>,
    /// Its payload.
    pub message: &'a [u8],
}

/// A PUBLISH packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish<'a> {
    /// The fixed-header flags (DUP, QoS, RETAIN).
    pub flags: u8,
    /// QoS.
    pub qos: Qos,
    /// Topic name (not empty, valid UTF-8, no wildcard).
    pub topic: &'a [u8],
    /// The topic as a NATS subject.
    pub subject: Cow<'a, [u8]>,
    /// Packet identifier: 0 for QoS 0, never 0 otherwise.
    pub pi: u16,
    /// Application message.
    pub payload: &'a [u8],
}

impl Publish<'_> {
    /// DUP flag.
    pub fn dup(&self) -> bool {
        self.flags & PUB_FLAG_DUP != 0
    }

    /// RETAIN flag.
    pub fn retain(&self) -> bool {
        self.flags & PUB_FLAG_RETAIN != 0
    }
}

/// A topic filter of SUBSCRIBE or UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter<'a> {
    /// The MQTT filter as received (not empty, valid UTF-8, no NUL).
    pub topic: &'a [u8],
    /// The NATS subject, or why it cannot be one: Go does not fail the packet for that,
    /// it logs `invalid topic %q: <error>` and answers this filter with a SUBACK failure.
    pub subject: Result<Cow<'a, [u8]>, MqttError>,
    /// Requested QoS (0 for UNSUBSCRIBE).
    pub qos: Qos,
}

/// Go's `reject_qos2_publish`: whether QoS 2 PUBLISH and wills are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Qos2Policy {
    /// Accepted (Go's default).
    #[default]
    Accept,
    /// Refused: a QoS 2 PUBLISH closes the connection, a QoS 2 will gets CONNACK 0x10.
    Reject,
}

/// A cursor over one packet's body; reads never go past it. Go: `mqttReader`.
#[derive(Debug)]
pub(crate) struct Body<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Body<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Body { buf, pos: 0 }
    }

    fn has_more(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// Go: `readByte` (`io.EOF`).
    fn byte(&mut self, field: Field) -> Result<u8, MqttError> {
        let b = *self.buf.get(self.pos).ok_or(MqttError::Eof(field))?;
        self.pos += 1;
        Ok(b)
    }

    /// Go: `readUint16` (`io.ErrUnexpectedEOF`).
    fn u16(&mut self, field: Field) -> Result<u16, MqttError> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + 2)
            .ok_or(MqttError::UnexpectedEof(field))?;
        self.pos += 2;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    /// Go: `readBytes`: a 2-byte length and that many bytes.
    fn bytes(&mut self, field: Field) -> Result<&'a [u8], MqttError> {
        let len = usize::from(self.u16(field)?);
        let bytes = self
            .buf
            .get(self.pos..self.pos + len)
            .ok_or(MqttError::UnexpectedEof(field))?;
        self.pos += len;
        Ok(bytes)
    }

    /// The rest of the body.
    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }
}

/// Go: `mqttValidateString`/`mqttValidateTopic`: UTF-8 without NUL.
fn valid_str(value: &[u8], field: Field) -> Result<&str, MqttError> {
    let s = std::str::from_utf8(value).map_err(|_| MqttError::InvalidUtf8 {
        field,
        value: value.to_vec(),
    })?;
    if value.contains(&0) {
        return Err(MqttError::NullCharacter {
            field,
            value: value.to_vec(),
        });
    }
    Ok(s)
}

/// Go: `isValidName`: not empty, none of ` \t\r\n\f.*>`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .bytes()
            .any(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0c | b'.' | b'*' | b'>'))
}

/// The CONNECT body. Go: `mqttParseConnect` (the same checks in the same order).
#[cfg(test)]
pub(crate) fn parse_connect(body: &[u8], qos2: Qos2Policy) -> Result<Connect<'_>, MqttError> {
    parse_connect_prefix(body, qos2).map(|(c, _)| c)
}

/// The CONNECT at the start of `body`, and the bytes its fields used. Bytes after the
/// last field are not part of it: Go reads them as the next packet (its reader goes on
/// from where the fields ended, whatever the remaining length said).
pub(crate) fn parse_connect_prefix(
    body: &[u8],
    qos2: Qos2Policy,
) -> Result<(Connect<'_>, usize), MqttError> {
    let mut r = Body::new(body);
    let proto = r.bytes(Field::ProtocolName)?;
    // Spec [MQTT-3.1.2-1].
    if proto != b"MQTT" {
        if proto == b"MQIsdp" {
            return Err(MqttError::OlderProtocol);
        }
        return Err(MqttError::ProtocolName(proto.to_vec()));
    }
    let level = r.byte(Field::ProtocolLevel)?;
    // Spec [MQTT-3.1.2-2].
    if level != PROTOCOL_LEVEL {
        return Err(MqttError::UnacceptableProtocolVersion(level));
    }
    let flags = r.byte(Field::Flags)?;
    // Spec [MQTT-3.1.2-3].
    if flags & CONN_FLAG_RESERVED != 0 {
        return Err(MqttError::ConnFlagReserved);
    }
    let wqos = (flags & CONN_FLAG_WILL_QOS) >> 3;
    let wretain = flags & CONN_FLAG_WILL_RETAIN != 0;
    let will_qos = if flags & CONN_FLAG_WILL == 0 {
        // Spec [MQTT-3.1.2-13], [MQTT-3.1.2-15].
        if wqos != 0 {
            return Err(MqttError::WillQosWithoutWill(wqos));
        }
        if wretain {
            return Err(MqttError::WillRetainWithoutWill);
        }
        None
    } else {
        // Spec [MQTT-3.1.2-14].
        Some(Qos::try_from(wqos).map_err(MqttError::WillQosInvalid)?)
    };
    if qos2 == Qos2Policy::Reject && will_qos == Some(Qos::ExactlyOnce) {
        return Err(MqttError::Qos2WillRejected);
    }
    let has_user = flags & CONN_FLAG_USERNAME != 0;
    let has_password = flags & CONN_FLAG_PASSWORD != 0;
    // Spec [MQTT-3.1.2-22].
    if !has_user && has_password {
        return Err(MqttError::PasswordWithoutUser);
    }
    let keep_alive = r.u16(Field::KeepAlive)?;
    // Payload, in the order of spec [MQTT-3.1.3-1].
    let session = if flags & CONN_FLAG_CLEAN_SESSION != 0 {
        SessionKind::Clean
    } else {
        SessionKind::Persistent
    };
    let cid = r.bytes(Field::ClientId)?;
    // Spec [MQTT-3.1.3-7]; the server names a clean session's empty id ([MQTT-3.1.3-6]),
    // and that name (a NUID in Go) is valid, so the checks below are for a client's id.
    if cid.is_empty() && session == SessionKind::Persistent {
        return Err(MqttError::EmptyClientIdNeedsClean);
    }
    let client_id = valid_str(cid, Field::ClientId)?;
    if !client_id.is_empty() && !valid_name(client_id) {
        return Err(MqttError::ClientIdCharacter(cid.to_vec()));
    }
    let will = match will_qos {
        None => None,
        Some(qos) => {
            let topic = r.bytes(Field::WillTopic)?;
            if topic.is_empty() {
                return Err(MqttError::EmptyWillTopic);
            }
            valid_str(topic, Field::WillTopic)?;
            let subject = topic_to_nats_pub_subject(topic)?;
            let message = r.bytes(Field::WillMessage)?;
            Some(Will {
                qos,
                retain: wretain,
                topic,
                subject,
                message,
            })
        }
    };
    let username = if has_user {
        let name = r.bytes(Field::UserName)?;
        if name.is_empty() {
            return Err(MqttError::EmptyUserName);
        }
        // Spec [MQTT-3.1.3-11].
        Some(valid_str(name, Field::UserName)?)
    } else {
        None
    };
    let password = if has_password {
        Some(r.bytes(Field::Password)?)
    } else {
        None
    };
    let connect = Connect {
        flags,
        session,
        keep_alive,
        client_id,
        will,
        username,
        password,
    };
    Ok((connect, r.pos))
}

/// The PUBLISH body, `flags` being the fixed header's low nibble. Go: `mqttParsePub`.
pub(crate) fn parse_publish(
    flags: u8,
    body: &[u8],
    qos2: Qos2Policy,
) -> Result<Publish<'_>, MqttError> {
    let level = (flags & PUB_FLAG_QOS) >> 1;
    let qos = Qos::try_from(level).map_err(MqttError::PublishQosInvalid)?;
    if qos2 == Qos2Policy::Reject && qos == Qos::ExactlyOnce {
        return Err(MqttError::Qos2PublishDisabled);
    }
    let mut r = Body::new(body);
    let topic = r.bytes(Field::Topic)?;
    if topic.is_empty() {
        return Err(MqttError::TopicIsEmpty);
    }
    valid_str(topic, Field::Topic)?;
    // Refuses wildcards: spec [MQTT-3.3.2-2], [MQTT-4.7.1-1].
    let subject = topic_to_nats_pub_subject(topic)?;
    let pi = if qos == Qos::AtMostOnce {
        0
    } else {
        let pi = r.u16(Field::PacketIdentifier)?;
        if pi == 0 {
            return Err(MqttError::PublishPacketIdZero(level));
        }
        pi
    };
    Ok(Publish {
        flags,
        qos,
        topic,
        subject,
        pi,
        payload: r.rest(),
    })
}

/// A packet identifier (PUBACK, PUBREC, PUBREL, PUBCOMP). Go: `mqttParsePIPacket`.
pub(crate) fn parse_pi(body: &[u8]) -> Result<u16, MqttError> {
    parse_pi_from(&mut Body::new(body))
}

fn parse_pi_from(r: &mut Body<'_>) -> Result<u16, MqttError> {
    match r.u16(Field::PacketIdentifier)? {
        0 => Err(MqttError::PacketIdentifierIsZero),
        pi => Ok(pi),
    }
}

/// The SUBSCRIBE or UNSUBSCRIBE body (fixed-header flags already checked).
/// Go: `mqttParseSubsOrUnsubs`.
pub(crate) fn parse_subs(kind: SubKind, body: &[u8]) -> Result<(u16, Vec<Filter<'_>>), MqttError> {
    let mut r = Body::new(body);
    let pi = parse_pi_from(&mut r)?;
    let mut filters = Vec::new();
    while r.has_more() {
        let topic = r.bytes(Field::TopicFilter)?;
        if topic.is_empty() {
            return Err(MqttError::TopicFilterIsEmpty);
        }
        // Spec [MQTT-3.8.3-1], [MQTT-3.10.3-1].
        valid_str(topic, Field::TopicFilter)?;
        let subject = filter_to_nats_subject(topic);
        let qos = match kind {
            SubKind::Subscribe => {
                let q = r.byte(Field::Qos)?;
                // Spec [MQTT-3.8.3-4].
                Qos::try_from(q).map_err(MqttError::SubscribeQos)?
            }
            SubKind::Unsubscribe => Qos::AtMostOnce,
        };
        filters.push(Filter {
            topic,
            subject,
            qos,
        });
    }
    // Spec [MQTT-3.8.3-3], [MQTT-3.10.3-2].
    if filters.is_empty() {
        return Err(MqttError::NoTopicFilter(kind));
    }
    Ok((pi, filters))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
