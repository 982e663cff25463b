//! The incremental MQTT packet reader (Go: the framing part of `mqttParse`, and
//! `mqttReader.readPacketLen`/`readVarInt`).
//!
//! Bytes may be split anywhere. A packet that arrives whole in one input is parsed in
//! place; one that spans inputs is collected in a buffer that holds only bytes received,
//! after the announced size passed the [`Phase`]'s limit. The fixed header is judged as
//! soon as it is complete, in Go's order: first-packet rule, flags, remaining length
//! encoding, size limit, remaining length of fixed-size packets; a packet that can only
//! fail (unknown type, second CONNECT) fails then, without waiting for its body.

use crate::mqtt::packet::{self, Packet, Qos2Policy};
use crate::mqtt::{
    MAX_FIXED_HEADER, MqttError, PACKET_CONNECT, PACKET_DISCONNECT, PACKET_PINGREQ, PACKET_PUBACK,
    PACKET_PUBCOMP, PACKET_PUBLISH, PACKET_PUBREC, PACKET_PUBREL, PACKET_SUBSCRIBE,
    PACKET_UNSUBSCRIBE, SubKind,
};

/// A buffer that grew past this for one large packet is released after it.
const KEEP_CAPACITY: usize = 64 * 1024;
/// The start of an HTTP request: Go's hint that a WebSocket client dialled the MQTT port.
const HTTP_GET: &[u8] = b"GET ";

/// How the connection reached the server; Go recognises an HTTP request on the plain
/// MQTT port only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The MQTT port (TCP or TLS).
    Tcp,
    /// The WebSocket port's `/mqtt` path.
    WebSocket,
}

/// Per-connection parsing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderConfig {
    /// Where the connection came from.
    pub transport: Transport,
    /// Go's `reject_qos2_publish`.
    pub qos2: Qos2Policy,
}

/// Where the connection is in its life, which decides what the next packet may be and
/// how large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No CONNECT accepted yet: the packet must be CONNECT, at most `max_payload` bytes
    /// in all (Go: `readPacketLen(c.mpay)`).
    AwaitingConnect {
        /// The server's `max_payload`.
        max_payload: usize,
    },
    /// After CONNECT: any client packet but CONNECT, at most `max_packet` bytes (see
    /// [`crate::mqtt::connected_packet_limit`]).
    Connected {
        /// Largest packet buffered.
        max_packet: usize,
    },
}

/// What [`Reader::next`] did with its input.
#[derive(Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// Input bytes used (kept in the reader or part of `packet`); the caller passes the
    /// rest next time.
    pub consumed: usize,
    /// The packet completed, if any; `None` means every input byte was used and more are
    /// needed.
    pub packet: Option<Packet<'a>>,
}

/// A fixed header judged complete.
#[derive(Debug, Clone, Copy)]
struct Header {
    first: u8,
    header_len: usize,
    remaining: usize,
}

/// The reader for one connection.
#[derive(Debug)]
pub struct Reader {
    config: ReaderConfig,
    /// Bytes of packets that span inputs (the start of one packet, or after a CONNECT
    /// with bytes past its fields, those bytes and whatever followed).
    partial: Vec<u8>,
    /// Bytes at the front of `partial` that the last returned packet used: dropped by the
    /// next call.
    returned: usize,
}

impl Reader {
    /// A reader with these options.
    pub fn new(config: ReaderConfig) -> Self {
        Reader {
            config,
            partial: Vec::new(),
            returned: 0,
        }
    }

    /// Bytes held between calls (for memory accounting).
    pub fn buffered(&self) -> usize {
        self.partial.capacity()
    }

    /// Whether the next byte starts a new packet.
    pub fn at_packet_start(&self) -> bool {
        self.partial.len() == self.returned
    }

    /// Reads at most one packet from `input`. Call again with the unconsumed rest (and the
    /// phase the previous packet led to) until `packet` is `None`. After an error the
    /// connection must close; the reader is not meant to continue.
    pub fn next<'a>(&'a mut self, input: &'a [u8], phase: Phase) -> Result<Step<'a>, MqttError> {
        if self.returned > 0 {
            self.partial.drain(..self.returned);
            self.returned = 0;
            if self.partial.is_empty() && self.partial.capacity() > KEEP_CAPACITY {
                self.partial = Vec::new();
            }
        }
        if self.partial.is_empty() {
            return match self.header(input, phase)? {
                Some(h) if input.len() >= h.header_len + h.remaining => {
                    let total = h.header_len + h.remaining;
                    let (packet, used) =
                        Self::parse_body(self.config, h, &input[h.header_len..total])?;
                    Ok(Step {
                        consumed: h.header_len + used,
                        packet: Some(packet),
                    })
                }
                // Only the bytes received are kept: an incomplete header is at most 4
                // bytes, an incomplete packet passed the size limit.
                _ => {
                    self.partial.extend_from_slice(input);
                    Ok(Step {
                        consumed: input.len(),
                        packet: None,
                    })
                }
            };
        }
        let mut used = 0;
        let header = loop {
            if let Some(h) = self.header(&self.partial, phase)? {
                break h;
            }
            let Some(&b) = input.get(used) else {
                return Ok(Step {
                    consumed: used,
                    packet: None,
                });
            };
            self.partial.push(b);
            used += 1;
        };
        let total = header.header_len + header.remaining;
        if self.partial.len() < total {
            let take = (total - self.partial.len()).min(input.len() - used);
            self.partial.extend_from_slice(&input[used..used + take]);
            used += take;
            if self.partial.len() < total {
                return Ok(Step {
                    consumed: used,
                    packet: None,
                });
            }
        }
        let (packet, body_used) =
            Self::parse_body(self.config, header, &self.partial[header.header_len..total])?;
        self.returned = header.header_len + body_used;
        Ok(Step {
            consumed: used,
            packet: Some(packet),
        })
    }

    /// The packet's body, by type (the header checks passed), and the body bytes it
    /// used (all of them but for a CONNECT).
    fn parse_body(
        config: ReaderConfig,
        h: Header,
        body: &[u8],
    ) -> Result<(Packet<'_>, usize), MqttError> {
        let packet_type = h.first & 0xf0;
        let packet = match packet_type {
            PACKET_CONNECT => {
                let (connect, used) = packet::parse_connect_prefix(body, config.qos2)?;
                return Ok((Packet::Connect(connect), used));
            }
            PACKET_PUBLISH => {
                Packet::Publish(packet::parse_publish(h.first & 0x0f, body, config.qos2)?)
            }
            PACKET_PUBACK => Packet::PubAck(packet::parse_pi(body)?),
            PACKET_PUBREC => Packet::PubRec(packet::parse_pi(body)?),
            PACKET_PUBREL => Packet::PubRel(packet::parse_pi(body)?),
            PACKET_PUBCOMP => Packet::PubComp(packet::parse_pi(body)?),
            PACKET_SUBSCRIBE => {
                let (pi, filters) = packet::parse_subs(SubKind::Subscribe, body)?;
                Packet::Subscribe { pi, filters }
            }
            PACKET_UNSUBSCRIBE => {
                let (pi, filters) = packet::parse_subs(SubKind::Unsubscribe, body)?;
                Packet::Unsubscribe { pi, filters }
            }
            PACKET_PINGREQ => Packet::PingReq,
            PACKET_DISCONNECT => Packet::Disconnect,
            other => return Err(MqttError::UnknownPacketType(other >> 4)),
        };
        Ok((packet, body.len()))
    }

    /// Judges the fixed header at the start of `buf`: `Ok(None)` if more bytes are
    /// needed to decide. Go's order (`mqttParse`).
    fn header(&self, buf: &[u8], phase: Phase) -> Result<Option<Header>, MqttError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let packet_type = first & 0xf0;
        if matches!(phase, Phase::AwaitingConnect { .. }) && packet_type != PACKET_CONNECT {
            // Go tests its read buffer for "GET " here; the first packet starts the
            // stream, so wait for four bytes while they may still spell it.
            if self.config.transport == Transport::Tcp && first == b'G' {
                let n = buf.len().min(HTTP_GET.len());
                if buf[..n] == HTTP_GET[..n] {
                    if n < HTTP_GET.len() {
                        return Ok(None);
                    }
                    return Err(MqttError::NotWebsocketPort);
                }
            }
            return Err(MqttError::FirstPacketNotConnect { got: packet_type });
        }
        check_fixed_header_flags(packet_type, first & 0x0f)?;
        let Some((remaining, varint_len)) = read_var_int(&buf[1..])? else {
            return Ok(None);
        };
        let header_len = 1 + varint_len;
        let size = header_len + remaining;
        let max = match phase {
            Phase::AwaitingConnect { max_payload } => max_payload,
            Phase::Connected { max_packet } => max_packet,
        };
        if size > max {
            return Err(MqttError::MaxPayload { size, max });
        }
        check_remaining_length(packet_type, remaining)?;
        // Packets that can only fail, failed before their body is buffered (Go waits
        // for the body, then gives the same error).
        match (packet_type, phase) {
            (PACKET_CONNECT, Phase::Connected { .. }) => return Err(MqttError::SecondConnect),
            (
                PACKET_CONNECT | PACKET_PUBLISH | PACKET_PUBACK | PACKET_PUBREC | PACKET_PUBREL
                | PACKET_PUBCOMP | PACKET_SUBSCRIBE | PACKET_UNSUBSCRIBE | PACKET_PINGREQ
                | PACKET_DISCONNECT,
                _,
            ) => {}
            (other, _) => return Err(MqttError::UnknownPacketType(other >> 4)),
        }
        Ok(Some(Header {
            first,
            header_len,
            remaining,
        }))
    }
}

/// Reserved fixed-header flags. Go: `mqttCheckFixedHeaderFlags`.
fn check_fixed_header_flags(packet_type: u8, flags: u8) -> Result<(), MqttError> {
    let expected = match packet_type {
        PACKET_CONNECT | PACKET_PUBACK | PACKET_PUBREC | PACKET_PUBCOMP | PACKET_PINGREQ
        | PACKET_DISCONNECT => 0,
        PACKET_PUBREL | PACKET_SUBSCRIBE | PACKET_UNSUBSCRIBE => 0x2,
        // PUBLISH carries DUP/QoS/RETAIN there; others are refused later as unknown.
        _ => return Ok(()),
    };
    if flags != expected {
        return Err(MqttError::FixedHeaderFlags { flags, packet_type });
    }
    Ok(())
}

/// The remaining length of fixed-size packets. Go: `mqttCheckRemainingLength`.
fn check_remaining_length(packet_type: u8, len: usize) -> Result<(), MqttError> {
    let expected = match packet_type {
        PACKET_PUBACK | PACKET_PUBREC | PACKET_PUBREL | PACKET_PUBCOMP => 2,
        PACKET_PINGREQ | PACKET_DISCONNECT => 0,
        _ => return Ok(()),
    };
    if len != expected {
        return Err(MqttError::RemainingLength { len, packet_type });
    }
    Ok(())
}

/// A remaining length: `Ok(None)` if incomplete, else the value and its byte count.
/// Go: `readVarInt` (a fourth byte with the continuation bit is malformed).
pub(crate) fn read_var_int(buf: &[u8]) -> Result<Option<(usize, usize)>, MqttError> {
    let mut value = 0usize;
    let mut multiplier = 1usize;
    for (i, &b) in buf.iter().take(MAX_FIXED_HEADER - 1).enumerate() {
        value += usize::from(b & 0x7f) * multiplier;
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
        multiplier *= 0x80;
        if multiplier > 0x20_0000 {
            return Err(MqttError::MalformedVarInt);
        }
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
