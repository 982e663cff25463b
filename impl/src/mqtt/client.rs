//! The client's side of the wire: decoding what a server sends (CONNACK, PUBLISH, the
//! QoS acknowledgements, SUBACK, UNSUBACK, PINGRESP), for tests, the harness and tools
//! that talk to an MQTT server. Strict about framing (fixed-header flags, remaining
//! lengths), lenient about content a server chooses (topics are not validated).

use crate::mqtt::packet::PUB_FLAG_QOS;
use crate::mqtt::reader::read_var_int;
use crate::mqtt::{
    Field, MqttError, PACKET_CONNACK, PACKET_PINGRESP, PACKET_PUBACK, PACKET_PUBCOMP,
    PACKET_PUBLISH, PACKET_PUBREC, PACKET_PUBREL, PACKET_SUBACK, PACKET_UNSUBACK, Qos,
};

/// One packet from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerPacket<'a> {
    /// CONNACK.
    ConnAck {
        /// Session present flag.
        session_present: bool,
        /// Return code (0 accepted; Go also uses 0x10).
        code: u8,
    },
    /// PUBLISH.
    Publish {
        /// The fixed-header flags (DUP, QoS, RETAIN).
        flags: u8,
        /// QoS.
        qos: Qos,
        /// Topic name.
        topic: &'a [u8],
        /// Packet identifier (0 for QoS 0).
        pi: u16,
        /// Payload.
        payload: &'a [u8],
    },
    /// PUBACK.
    PubAck(u16),
    /// PUBREC.
    PubRec(u16),
    /// PUBREL.
    PubRel(u16),
    /// PUBCOMP.
    PubComp(u16),
    /// SUBACK with one return code per filter.
    SubAck {
        /// Packet identifier.
        pi: u16,
        /// Granted QoS or 0x80, per filter.
        codes: &'a [u8],
    },
    /// UNSUBACK.
    UnsubAck(u16),
    /// PINGRESP.
    PingResp,
}

/// Decodes the packet at the start of `buf`: `Ok(None)` if it is not all there yet,
/// else the packet and its length.
pub fn decode(buf: &[u8]) -> Result<Option<(ServerPacket<'_>, usize)>, MqttError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let Some((remaining, varint_len)) = read_var_int(&buf[1..])? else {
        return Ok(None);
    };
    let header_len = 1 + varint_len;
    let Some(body) = buf.get(header_len..header_len + remaining) else {
        return Ok(None);
    };
    let packet_type = first & 0xf0;
    let flags = first & 0x0f;
    let expected_flags = match packet_type {
        PACKET_PUBLISH => flags,
        PACKET_PUBREL => 0x2,
        _ => 0,
    };
    if flags != expected_flags {
        return Err(MqttError::FixedHeaderFlags { flags, packet_type });
    }
    let fixed = |len: usize| {
        if remaining == len {
            Ok(())
        } else {
            Err(MqttError::RemainingLength {
                len: remaining,
                packet_type,
            })
        }
    };
    let pi = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    let packet = match packet_type {
        PACKET_CONNACK => {
            fixed(2)?;
            ServerPacket::ConnAck {
                session_present: body[0] & 1 != 0,
                code: body[1],
            }
        }
        PACKET_PUBLISH => {
            let level = (flags & PUB_FLAG_QOS) >> 1;
            let qos = Qos::try_from(level).map_err(MqttError::PublishQosInvalid)?;
            let len = body
                .get(..2)
                .map(pi)
                .ok_or(MqttError::UnexpectedEof(Field::Topic))?;
            let topic = body
                .get(2..2 + usize::from(len))
                .ok_or(MqttError::UnexpectedEof(Field::Topic))?;
            let mut at = 2 + topic.len();
            let id = if qos == Qos::AtMostOnce {
                0
            } else {
                let id = body
                    .get(at..at + 2)
                    .map(pi)
                    .ok_or(MqttError::UnexpectedEof(Field::PacketIdentifier))?;
                at += 2;
                id
            };
            ServerPacket::Publish {
                flags,
                qos,
                topic,
                pi: id,
                payload: &body[at..],
            }
        }
        PACKET_PUBACK | PACKET_PUBREC | PACKET_PUBREL | PACKET_PUBCOMP | PACKET_UNSUBACK => {
            fixed(2)?;
            let id = pi(body);
            match packet_type {
                PACKET_PUBACK => ServerPacket::PubAck(id),
                PACKET_PUBREC => ServerPacket::PubRec(id),
                PACKET_PUBREL => ServerPacket::PubRel(id),
                PACKET_PUBCOMP => ServerPacket::PubComp(id),
                _ => ServerPacket::UnsubAck(id),
            }
        }
        PACKET_SUBACK => {
            if remaining < 3 {
                return Err(MqttError::RemainingLength {
                    len: remaining,
                    packet_type,
                });
            }
            ServerPacket::SubAck {
                pi: pi(body),
                codes: &body[2..],
            }
        }
        PACKET_PINGRESP => {
            fixed(0)?;
            ServerPacket::PingResp
        }
        other => return Err(MqttError::UnknownPacketType(other >> 4)),
    };
    Ok(Some((packet, header_len + remaining)))
}

/// Decodes every whole packet of `buf`; the error stops it.
pub fn decode_all(mut buf: &[u8]) -> Result<Vec<ServerPacket<'_>>, MqttError> {
    let mut packets = Vec::new();
    while let Some((packet, len)) = decode(buf)? {
        packets.push(packet);
        buf = &buf[len..];
    }
    Ok(packets)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mqtt::ConnAckCode;
    use crate::mqtt::writer::{self, PubResponse, PublishHeader};

    /// Everything the server-side writer produces decodes to what went in.
    #[test]
    fn decodes_the_writer() {
        let mut out = Vec::new();
        writer::connack(&mut out, ConnAckCode::Accepted, true);
        let h = PublishHeader {
            pi: 9,
            qos: Qos::AtLeastOnce,
            dup: true,
            retain: false,
            topic: b"a/b",
        };
        writer::publish(&mut out, &h, b"hi").unwrap();
        for kind in [
            PubResponse::Ack,
            PubResponse::Rec,
            PubResponse::Rel,
            PubResponse::Comp,
        ] {
            writer::pub_response(&mut out, kind, 3);
        }
        writer::suback(&mut out, 4, &[0, 0x80]).unwrap();
        writer::unsuback(&mut out, 5);
        writer::pingresp(&mut out);
        let packets = decode_all(&out).unwrap();
        assert_eq!(
            packets,
            [
                ServerPacket::ConnAck {
                    session_present: true,
                    code: 0
                },
                ServerPacket::Publish {
                    flags: 0x0a,
                    qos: Qos::AtLeastOnce,
                    topic: b"a/b",
                    pi: 9,
                    payload: b"hi"
                },
                ServerPacket::PubAck(3),
                ServerPacket::PubRec(3),
                ServerPacket::PubRel(3),
                ServerPacket::PubComp(3),
                ServerPacket::SubAck {
                    pi: 4,
                    codes: &[0, 0x80]
                },
                ServerPacket::UnsubAck(5),
                ServerPacket::PingResp,
            ]
        );
        // Incomplete: nothing yet.
        assert_eq!(decode(&out[..1]), Ok(None));
        assert_eq!(decode(&[0x20, 2, 0]), Ok(None));
    }

    #[test]
    fn framing_errors() {
        assert_eq!(
            decode(&[0x21, 2, 0, 0]),
            Err(MqttError::FixedHeaderFlags {
                flags: 1,
                packet_type: 0x20
            })
        );
        assert_eq!(
            decode(&[0x60, 2, 0, 1]),
            Err(MqttError::FixedHeaderFlags {
                flags: 0,
                packet_type: 0x60
            })
        );
        assert_eq!(
            decode(&[0xd0, 1, 0]),
            Err(MqttError::RemainingLength {
                len: 1,
                packet_type: 0xd0
            })
        );
        assert_eq!(decode(&[0x10, 0]), Err(MqttError::UnknownPacketType(1)));
        assert_eq!(
            decode(&[0x30, 3, 0, 5, b'a']),
            Err(MqttError::UnexpectedEof(Field::Topic))
        );
    }
}
