//! The one writer of MQTT packets: what the server sends (CONNACK, PUBLISH, the QoS
//! acknowledgements, SUBACK, UNSUBACK, PINGRESP), byte for byte as Go writes them
//! (Go: `mqttWriter`, `mqttEnqueueConnAck`, `WritePublishHeader`,
//! `mqttEnqueuePubResponse`, `mqttEnqueueSubAck`, `mqttEnqueueUnsubAck`), and what a
//! client sends, for tests, the harness and the fuzz seeds. Bytes are appended to `out`.

use crate::mqtt::packet::{PUB_FLAG_DUP, PUB_FLAG_RETAIN};
use crate::mqtt::{
    ConnAckCode, MAX_REMAINING_LENGTH, PACKET_CONNACK, PACKET_CONNECT, PACKET_DISCONNECT,
    PACKET_PINGREQ, PACKET_PINGRESP, PACKET_PUBACK, PACKET_PUBCOMP, PACKET_PUBLISH, PACKET_PUBREC,
    PACKET_PUBREL, PACKET_SUBACK, PACKET_SUBSCRIBE, PACKET_UNSUBACK, PACKET_UNSUBSCRIBE,
    PROTOCOL_LEVEL, Qos,
};

/// Why a packet cannot be written: a field or packet longer than MQTT can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A length-prefixed field above 65535 bytes.
    #[error("field of {0} bytes exceeds 65535")]
    FieldTooLong(usize),
    /// A remaining length above 268435455.
    #[error("packet of {0} bytes exceeds the maximum remaining length")]
    PacketTooLong(usize),
}

/// An acknowledgement carrying only a packet identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubResponse {
    /// PUBACK (QoS 1).
    Ack,
    /// PUBREC (QoS 2, step 1).
    Rec,
    /// PUBREL (QoS 2, step 2; fixed-header flags 0x2, [MQTT-3.6.1-1]).
    Rel,
    /// PUBCOMP (QoS 2, step 3).
    Comp,
}

/// PUBLISH header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishHeader<'a> {
    /// Packet identifier (written for QoS 1 and 2 only).
    pub pi: u16,
    /// QoS.
    pub qos: Qos,
    /// DUP flag (a redelivery).
    pub dup: bool,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic name.
    pub topic: &'a [u8],
}

/// Go: `WriteVarInt`. `value` must be at most [`MAX_REMAINING_LENGTH`] for a valid
/// packet; larger values are written with more bytes, as Go does.
pub fn var_int(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let mut b = (value & 0x7f) as u8;
        value >>= 7;
        if value > 0 {
            b |= 0x80;
        }
        out.push(b);
        if value == 0 {
            break;
        }
    }
}

/// Go: `WriteUint16`.
pub fn uint16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Go: `WriteBytes`: a 2-byte length and the bytes.
pub fn bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), WriteError> {
    let len = u16::try_from(b.len()).map_err(|_| WriteError::FieldTooLong(b.len()))?;
    uint16(out, len);
    out.extend_from_slice(b);
    Ok(())
}

fn remaining(out: &mut Vec<u8>, len: usize) -> Result<(), WriteError> {
    if len > MAX_REMAINING_LENGTH {
        return Err(WriteError::PacketTooLong(len));
    }
    var_int(out, len);
    Ok(())
}

/// CONNACK; the session-present flag is sent only with `Accepted` ([MQTT-3.2.2-4]).
/// Go: `mqttEnqueueConnAck`.
pub fn connack(out: &mut Vec<u8>, code: ConnAckCode, session_present: bool) {
    let sp = u8::from(code == ConnAckCode::Accepted && session_present);
    out.extend_from_slice(&[PACKET_CONNACK, 2, sp, code.code()]);
}

/// A PUBLISH header for a payload of `payload_len` bytes; returns the flags nibble.
/// Go: `WritePublishHeader`.
pub fn publish_header(
    out: &mut Vec<u8>,
    h: &PublishHeader<'_>,
    payload_len: usize,
) -> Result<u8, WriteError> {
    let mut len = 2 + h.topic.len() + payload_len;
    let mut flags = 0;
    if h.dup {
        flags |= PUB_FLAG_DUP;
    }
    if h.retain {
        flags |= PUB_FLAG_RETAIN;
    }
    if h.qos != Qos::AtMostOnce {
        len += 2;
        flags |= h.qos.level() << 1;
    }
    if h.topic.len() > usize::from(u16::MAX) {
        return Err(WriteError::FieldTooLong(h.topic.len()));
    }
    out.push(PACKET_PUBLISH | flags);
    remaining(out, len)?;
    bytes(out, h.topic)?;
    if h.qos != Qos::AtMostOnce {
        uint16(out, h.pi);
    }
    Ok(flags)
}

/// A whole PUBLISH.
pub fn publish(out: &mut Vec<u8>, h: &PublishHeader<'_>, payload: &[u8]) -> Result<u8, WriteError> {
    let flags = publish_header(out, h, payload.len())?;
    out.extend_from_slice(payload);
    Ok(flags)
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP. Go: `mqttEnqueuePubResponse`.
pub fn pub_response(out: &mut Vec<u8>, kind: PubResponse, pi: u16) {
    let first = match kind {
        PubResponse::Ack => PACKET_PUBACK,
        PubResponse::Rec => PACKET_PUBREC,
        PubResponse::Rel => PACKET_PUBREL | 0x2,
        PubResponse::Comp => PACKET_PUBCOMP,
    };
    let [hi, lo] = pi.to_be_bytes();
    out.extend_from_slice(&[first, 2, hi, lo]);
}

/// SUBACK with one return code per filter (granted QoS or [`crate::mqtt::SUBACK_FAILURE`]).
/// Go: `mqttEnqueueSubAck`.
pub fn suback(out: &mut Vec<u8>, pi: u16, codes: &[u8]) -> Result<(), WriteError> {
    out.push(PACKET_SUBACK);
    remaining(out, 2 + codes.len())?;
    uint16(out, pi);
    out.extend_from_slice(codes);
    Ok(())
}

/// UNSUBACK. Go: `mqttEnqueueUnsubAck`.
pub fn unsuback(out: &mut Vec<u8>, pi: u16) {
    let [hi, lo] = pi.to_be_bytes();
    out.extend_from_slice(&[PACKET_UNSUBACK, 2, hi, lo]);
}

/// PINGRESP. Go: `mqttPingResponse`.
pub fn pingresp(out: &mut Vec<u8>) {
    out.extend_from_slice(&[PACKET_PINGRESP, 0]);
}

/// A client's CONNECT (for tests and tools; Go's tests: `mqttCreateConnectProto`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectSpec<'a> {
    /// Client identifier.
    pub client_id: &'a str,
    /// Clean session flag.
    pub clean: bool,
    /// Keep-alive in seconds.
    pub keep_alive: u16,
    /// Will: topic, message, QoS, retain.
    pub will: Option<(&'a [u8], &'a [u8], Qos, bool)>,
    /// User name.
    pub username: Option<&'a str>,
    /// Password.
    pub password: Option<&'a [u8]>,
}

/// A client's CONNECT packet.
pub fn connect(out: &mut Vec<u8>, c: &ConnectSpec<'_>) -> Result<(), WriteError> {
    let mut body = Vec::new();
    bytes(&mut body, b"MQTT")?;
    body.push(PROTOCOL_LEVEL);
    let mut flags = 0u8;
    if c.clean {
        flags |= 0x02;
    }
    if let Some((_, _, qos, retain)) = c.will {
        flags |= 0x04 | (qos.level() << 3);
        if retain {
            flags |= 0x20;
        }
    }
    if c.password.is_some() {
        flags |= 0x40;
    }
    if c.username.is_some() {
        flags |= 0x80;
    }
    body.push(flags);
    uint16(&mut body, c.keep_alive);
    bytes(&mut body, c.client_id.as_bytes())?;
    if let Some((topic, message, _, _)) = c.will {
        bytes(&mut body, topic)?;
        bytes(&mut body, message)?;
    }
    if let Some(user) = c.username {
        bytes(&mut body, user.as_bytes())?;
    }
    if let Some(password) = c.password {
        bytes(&mut body, password)?;
    }
    out.push(PACKET_CONNECT);
    remaining(out, body.len())?;
    out.extend_from_slice(&body);
    Ok(())
}

/// A client's SUBSCRIBE, each filter with its requested QoS.
pub fn subscribe(out: &mut Vec<u8>, pi: u16, filters: &[(&[u8], Qos)]) -> Result<(), WriteError> {
    let mut body = Vec::new();
    uint16(&mut body, pi);
    for (filter, qos) in filters {
        bytes(&mut body, filter)?;
        body.push(qos.level());
    }
    out.push(PACKET_SUBSCRIBE | 0x2);
    remaining(out, body.len())?;
    out.extend_from_slice(&body);
    Ok(())
}

/// A client's UNSUBSCRIBE.
pub fn unsubscribe(out: &mut Vec<u8>, pi: u16, filters: &[&[u8]]) -> Result<(), WriteError> {
    let mut body = Vec::new();
    uint16(&mut body, pi);
    for filter in filters {
        bytes(&mut body, filter)?;
    }
    out.push(PACKET_UNSUBSCRIBE | 0x2);
    remaining(out, body.len())?;
    out.extend_from_slice(&body);
    Ok(())
}

/// A client's PINGREQ.
pub fn pingreq(out: &mut Vec<u8>) {
    out.extend_from_slice(&[PACKET_PINGREQ, 0]);
}

/// A client's DISCONNECT.
pub fn disconnect(out: &mut Vec<u8>) {
    out.extend_from_slice(&[PACKET_DISCONNECT, 0]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
