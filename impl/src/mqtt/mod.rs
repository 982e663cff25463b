//! MQTT 3.1.1, sans-IO: the incremental packet reader, the packet writer and the MQTT
//! topic ↔ NATS subject mapping (Go: `server/mqtt.go`).
//!
//! ```text
//!  bytes ─► Reader::next(input, Phase) ─► Packet (CONNECT, PUBLISH, SUBSCRIBE, ...)
//!           framing, limits, Go's check     body parsed with Go's checks, order, texts
//!           order, partial packets
//!
//!  writer::* ─► bytes (CONNACK, PUBLISH, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBACK, ...)
//!  topic::*     MQTT topic/filter ↔ NATS subject
//!  client::*    decoding what a server sends (tests, harness, tools)
//!  nats_msg::*  the NATS message (Nmqtt-* headers) a PUBLISH becomes, and back
//!  MqttSession  the protocol state machine (a conn::Session) over a Broker
//!  SessionManager  one account's sessions, retained messages and QoS 1/2 state, in
//!               memory (sessions, retained, outbound); ConnBroker is its Broker
//! ```
//!
//! Memory: a packet is buffered only when it spans reads, and only the bytes that
//! arrived; its announced size is checked against [`Phase`]'s limit first.

pub mod broker;
pub mod client;
mod error;
mod filter_index;
pub mod nats_msg;
pub mod outbound;
pub mod packet;
pub mod reader;
pub mod retained;
pub mod session;
pub mod sessions;
pub mod topic;
pub mod trace;
pub mod writer;

pub use broker::ConnBroker;
pub use error::{Field, MqttError, SubKind};
pub use outbound::{Delivery, Message, Outbound, OutboundConfig};
pub use packet::{Connect, Filter, Packet, Publish, Qos2Policy, SessionKind, Will};
pub use reader::{Phase, Reader, ReaderConfig, Step, Transport};
pub use retained::RetainedStore;
pub use session::{Broker, ClientAck, MqttSession, Refusal, SessionConfig, WillFate};
pub use sessions::{ConnId, Event, SessionManager, StateConfig};

/// CONNECT packet type (and its fixed-header byte). Go: `mqttPacketConnect`.
pub const PACKET_CONNECT: u8 = 0x10;
/// CONNACK. Go: `mqttPacketConnectAck`.
pub const PACKET_CONNACK: u8 = 0x20;
/// PUBLISH. Go: `mqttPacketPub`.
pub const PACKET_PUBLISH: u8 = 0x30;
/// PUBACK. Go: `mqttPacketPubAck`.
pub const PACKET_PUBACK: u8 = 0x40;
/// PUBREC. Go: `mqttPacketPubRec`.
pub const PACKET_PUBREC: u8 = 0x50;
/// PUBREL. Go: `mqttPacketPubRel`.
pub const PACKET_PUBREL: u8 = 0x60;
/// PUBCOMP. Go: `mqttPacketPubComp`.
pub const PACKET_PUBCOMP: u8 = 0x70;
/// SUBSCRIBE. Go: `mqttPacketSub`.
pub const PACKET_SUBSCRIBE: u8 = 0x80;
/// SUBACK. Go: `mqttPacketSubAck`.
pub const PACKET_SUBACK: u8 = 0x90;
/// UNSUBSCRIBE. Go: `mqttPacketUnsub`.
pub const PACKET_UNSUBSCRIBE: u8 = 0xa0;
/// UNSUBACK. Go: `mqttPacketUnsubAck`.
pub const PACKET_UNSUBACK: u8 = 0xb0;
/// PINGREQ. Go: `mqttPacketPing`.
pub const PACKET_PINGREQ: u8 = 0xc0;
/// PINGRESP. Go: `mqttPacketPingResp`.
pub const PACKET_PINGRESP: u8 = 0xd0;
/// DISCONNECT. Go: `mqttPacketDisconnect`.
pub const PACKET_DISCONNECT: u8 = 0xe0;

/// The only protocol level accepted (MQTT 3.1.1). Go: `mqttProtoLevel`.
pub const PROTOCOL_LEVEL: u8 = 4;
/// Largest remaining length a 4-byte variable int can carry (256 MiB - 1).
/// Go: `mqttMaxPayloadSize`.
pub const MAX_REMAINING_LENGTH: usize = 0x0FFF_FFFF;
/// SUBACK return code for a refused filter. Go: `mqttSubAckFailure`.
pub const SUBACK_FAILURE: u8 = 0x80;
/// Largest fixed header: type byte plus a 4-byte remaining length.
pub const MAX_FIXED_HEADER: usize = 5;
/// Longest PUBLISH variable header: a 65535-byte topic with its length, and the packet
/// identifier.
pub const MAX_PUBLISH_VARIABLE_HEADER: usize = 2 + 0xFFFF + 2;

/// The largest packet buffered once connected, for a given `max_payload`.
///
/// Go has no limit on a packet's size after CONNECT (it buffers up to 256 MiB) and checks
/// `max_payload` only on the NATS message a PUBLISH becomes. Every PUBLISH Go accepts
/// fits in `max_payload` plus the longest fixed and variable headers, so this bound
/// refuses nothing Go would deliver; a larger SUBSCRIBE or UNSUBSCRIBE, which Go would
/// accept, is refused (docs/CONFORMANCE.md).
pub fn connected_packet_limit(max_payload: usize) -> usize {
    max_payload
        .saturating_add(MAX_FIXED_HEADER + MAX_PUBLISH_VARIABLE_HEADER)
        .min(MAX_FIXED_HEADER + MAX_REMAINING_LENGTH)
}

/// A quality of service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Qos {
    /// 0: at most once.
    AtMostOnce = 0,
    /// 1: at least once (PUBACK).
    AtLeastOnce = 1,
    /// 2: exactly once (PUBREC, PUBREL, PUBCOMP).
    ExactlyOnce = 2,
}

impl Qos {
    /// The level as a number.
    pub fn level(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for Qos {
    type Error = u8;

    fn try_from(v: u8) -> Result<Self, u8> {
        match v {
            0 => Ok(Qos::AtMostOnce),
            1 => Ok(Qos::AtLeastOnce),
            2 => Ok(Qos::ExactlyOnce),
            other => Err(other),
        }
    }
}

/// A CONNACK return code. Go: `mqttConnAckRC*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnAckCode {
    /// 0x00.
    Accepted = 0x00,
    /// 0x01.
    UnacceptableProtocolVersion = 0x01,
    /// 0x02.
    IdentifierRejected = 0x02,
    /// 0x03.
    ServerUnavailable = 0x03,
    /// 0x04.
    BadUserOrPassword = 0x04,
    /// 0x05.
    NotAuthorized = 0x05,
    /// 0x10: not in MQTT 3.1.1; Go's answer to a QoS 2 will under `reject_qos2_publish`.
    Qos2WillRejected = 0x10,
}

impl ConnAckCode {
    /// The byte on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
}
