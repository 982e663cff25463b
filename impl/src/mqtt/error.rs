//! MQTT protocol errors with the Go server's texts (Go: the `errMQTT*` values and the
//! `fmt.Errorf` calls of `server/mqtt.go`).

use std::fmt;

use crate::frame::ClosedState;
use crate::goquote::quote_bytes;
use crate::mqtt::{ConnAckCode, PACKET_CONNECT};

/// A field of an MQTT packet, as Go names it in its error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The fixed header's first byte.
    PacketType,
    /// CONNECT: protocol name.
    ProtocolName,
    /// CONNECT: protocol level.
    ProtocolLevel,
    /// CONNECT: connect flags.
    Flags,
    /// CONNECT: keep alive.
    KeepAlive,
    /// CONNECT: client identifier.
    ClientId,
    /// CONNECT: will topic.
    WillTopic,
    /// CONNECT: will message.
    WillMessage,
    /// CONNECT: user name.
    UserName,
    /// CONNECT: password.
    Password,
    /// PUBLISH: topic name.
    Topic,
    /// PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE.
    PacketIdentifier,
    /// SUBSCRIBE, UNSUBSCRIBE: a topic filter.
    TopicFilter,
    /// SUBSCRIBE: requested QoS.
    Qos,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::PacketType => "packet type",
            Field::ProtocolName => "protocol name",
            Field::ProtocolLevel => "protocol level",
            Field::Flags => "flags",
            Field::KeepAlive => "keep alive",
            Field::ClientId => "client ID",
            Field::WillTopic => "Will topic",
            Field::WillMessage => "Will message",
            Field::UserName => "user name",
            Field::Password => "password",
            Field::Topic => "topic",
            Field::PacketIdentifier => "packet identifier",
            Field::TopicFilter => "topic filter",
            Field::Qos => "QoS",
        })
    }
}

/// SUBSCRIBE or UNSUBSCRIBE, for the texts Go shares between them (`%ssubscribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
}

impl SubKind {
    fn prefix(self) -> &'static str {
        match self {
            SubKind::Subscribe => "",
            SubKind::Unsubscribe => "un",
        }
    }
}

/// Why an MQTT connection must close. Display is the Go server's error text (what it
/// logs); [`MqttError::connack_code`] is the CONNACK return code Go sends first, if any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MqttError {
    /// An HTTP request on the MQTT port. Go: `errMQTTNotWebsocketPort`.
    #[error("MQTT clients over websocket must connect to the Websocket port, not the MQTT port")]
    NotWebsocketPort,
    /// A first packet other than CONNECT (`got` is the type nibble in place, e.g. 48).
    #[error("the first packet should be a CONNECT ({PACKET_CONNECT}), got {got}")]
    FirstPacketNotConnect {
        /// The packet type byte masked with 0xf0.
        got: u8,
    },
    /// Reserved fixed-header flag bits not as the packet type requires.
    /// Go: `mqttCheckFixedHeaderFlags`.
    #[error("invalid fixed header flags {flags:x} for packet type {packet_type:x}")]
    FixedHeaderFlags {
        /// The low nibble received.
        flags: u8,
        /// The packet type byte masked with 0xf0.
        packet_type: u8,
    },
    /// A remaining length with a fifth byte. Go: `errMQTTMalformedVarInt`.
    #[error("malformed variable int")]
    MalformedVarInt,
    /// A packet larger than the limit (before CONNECT: `max_payload`, as Go; after it,
    /// our documented bound, see [`crate::mqtt::connected_packet_limit`]). The text is
    /// Go's `maxPayloadViolation` log line.
    #[error("maximum payload exceeded: {size} vs {max}")]
    MaxPayload {
        /// Whole packet size (fixed header included).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A remaining length a fixed-size packet cannot have. Go: `mqttCheckRemainingLength`.
    #[error("invalid remaining length {len} for packet type {packet_type:x}")]
    RemainingLength {
        /// The remaining length received.
        len: usize,
        /// The packet type byte masked with 0xf0.
        packet_type: u8,
    },
    /// A packet type the server never receives (0, 15, or a server-to-client type).
    #[error("received unknown packet type {0}")]
    UnknownPacketType(u8),
    /// CONNECT after a successful CONNECT. Go: `errMQTTSecondConnectPacket`.
    #[error("received a second CONNECT packet")]
    SecondConnect,
    /// A one-byte field past the end of its packet (Go's `readByte`: `io.EOF`).
    #[error("error reading {0}: EOF")]
    Eof(Field),
    /// A two-byte or length-prefixed field past the end of its packet (Go's
    /// `readUint16`/`readBytes`: `io.ErrUnexpectedEOF`).
    #[error("error reading {0}: unexpected EOF")]
    UnexpectedEof(Field),
    /// CONNECT from MQTT 3.1. Go quotes the name it received, always `MQIsdp`.
    #[error("older protocol \"MQIsdp\" not supported")]
    OlderProtocol,
    /// CONNECT with a protocol name other than `MQTT`.
    #[error("expected connect packet with protocol name \"MQTT\", got {}", quote_bytes(.0))]
    ProtocolName(Vec<u8>),
    /// A protocol level other than 4 (MQTT 3.1.1); CONNACK 0x01.
    #[error("unacceptable protocol version of {0}")]
    UnacceptableProtocolVersion(u8),
    /// Connect flags bit 0 set. Go: `errMQTTConnFlagReserved`.
    #[error("connect flags reserved bit not set to 0")]
    ConnFlagReserved,
    /// Will QoS without the will flag.
    #[error("if Will flag is set to 0, Will QoS must be 0 too, got {0}")]
    WillQosWithoutWill(u8),
    /// Will retain without the will flag. Go: `errMQTTWillAndRetainFlag`.
    #[error("if Will flag is set to 0, Will Retain flag must be 0 too")]
    WillRetainWithoutWill,
    /// Will QoS 3.
    #[error("if Will flag is set to 1, Will QoS can be 0, 1 or 2, got {0}")]
    WillQosInvalid(u8),
    /// A QoS 2 will while `reject_qos2_publish` is set; CONNACK 0x10.
    #[error("server does not accept QoS2 for Will messages")]
    Qos2WillRejected,
    /// Password flag without user name flag. Go: `errMQTTPasswordFlagAndNoUser`.
    #[error("password flag set but username flag is not")]
    PasswordWithoutUser,
    /// Empty client id without clean session; CONNACK 0x02.
    #[error("when client ID is empty, clean session flag must be set to 1")]
    EmptyClientIdNeedsClean,
    /// A string or topic that is not UTF-8.
    #[error("invalid utf8 for {field} {}", quote_bytes(.value))]
    InvalidUtf8 {
        /// Which field.
        field: Field,
        /// Its bytes.
        value: Vec<u8>,
    },
    /// A string or topic holding U+0000.
    #[error("invalid null character in {field} {}", quote_bytes(.value))]
    NullCharacter {
        /// Which field.
        field: Field,
        /// Its bytes.
        value: Vec<u8>,
    },
    /// A client id NATS cannot carry in subjects (Go: `isValidName`); CONNACK 0x02.
    #[error("invalid character in client ID {}", quote_bytes(.0))]
    ClientIdCharacter(Vec<u8>),
    /// Empty will topic. Go: `errMQTTEmptyWillTopic`.
    #[error("empty Will topic not allowed")]
    EmptyWillTopic,
    /// Empty user name; CONNACK 0x04. Go: `errMQTTEmptyUsername`.
    #[error("empty user name not allowed")]
    EmptyUserName,
    /// `+` or `#` in a topic name.
    #[error("wildcards not allowed in publish's topic: {}", quote_bytes(.0))]
    WildcardInTopic(Vec<u8>),
    /// Whitespace or DEL in a topic or filter. Go: `errMQTTUnsupportedCharacters`.
    #[error("character not supported for MQTT topics")]
    UnsupportedCharacters,
    /// PUBLISH with QoS 3.
    #[error("QoS={0} is invalid in MQTT")]
    PublishQosInvalid(u8),
    /// PUBLISH with QoS 2 while `reject_qos2_publish` is set.
    #[error("QoS=2 is disabled for PUBLISH messages")]
    Qos2PublishDisabled,
    /// PUBLISH with an empty topic. Go: `errMQTTTopicIsEmpty`.
    #[error("topic cannot be empty")]
    TopicIsEmpty,
    /// PUBLISH QoS 1 or 2 with packet identifier 0.
    #[error("with QoS={0}, packet identifier cannot be 0")]
    PublishPacketIdZero(u8),
    /// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE or UNSUBSCRIBE with packet identifier 0.
    #[error("packet identifier cannot be 0")]
    PacketIdentifierIsZero,
    /// SUBSCRIBE with a requested QoS above 2.
    #[error("subscribe QoS value must be 0, 1 or 2, got {0}")]
    SubscribeQos(u8),
    /// SUBSCRIBE or UNSUBSCRIBE without a filter.
    #[error("{}subscribe protocol must contain at least 1 topic filter", .0.prefix())]
    NoTopicFilter(SubKind),
    /// An empty topic filter. Go: `errMQTTTopicFilterCannotBeEmpty`.
    #[error("topic filter cannot be empty")]
    TopicFilterIsEmpty,
}

impl MqttError {
    /// The CONNACK return code Go sends before closing, if any (Go: the `rc` that
    /// `mqttParseConnect` returns with its error).
    pub fn connack_code(&self) -> Option<ConnAckCode> {
        match self {
            MqttError::UnacceptableProtocolVersion(_) => {
                Some(ConnAckCode::UnacceptableProtocolVersion)
            }
            MqttError::Qos2WillRejected => Some(ConnAckCode::Qos2WillRejected),
            MqttError::EmptyClientIdNeedsClean | MqttError::ClientIdCharacter(_) => {
                Some(ConnAckCode::IdentifierRejected)
            }
            MqttError::InvalidUtf8 { field, .. } | MqttError::NullCharacter { field, .. } => {
                match field {
                    Field::ClientId => Some(ConnAckCode::IdentifierRejected),
                    Field::UserName => Some(ConnAckCode::BadUserOrPassword),
                    Field::PacketType
                    | Field::ProtocolName
                    | Field::ProtocolLevel
                    | Field::Flags
                    | Field::KeepAlive
                    | Field::WillTopic
                    | Field::WillMessage
                    | Field::Password
                    | Field::Topic
                    | Field::PacketIdentifier
                    | Field::TopicFilter
                    | Field::Qos => None,
                }
            }
            MqttError::EmptyUserName => Some(ConnAckCode::BadUserOrPassword),
            MqttError::NotWebsocketPort
            | MqttError::FirstPacketNotConnect { .. }
            | MqttError::FixedHeaderFlags { .. }
            | MqttError::MalformedVarInt
            | MqttError::MaxPayload { .. }
            | MqttError::RemainingLength { .. }
            | MqttError::UnknownPacketType(_)
            | MqttError::SecondConnect
            | MqttError::Eof(_)
            | MqttError::UnexpectedEof(_)
            | MqttError::OlderProtocol
            | MqttError::ProtocolName(_)
            | MqttError::ConnFlagReserved
            | MqttError::WillQosWithoutWill(_)
            | MqttError::WillRetainWithoutWill
            | MqttError::WillQosInvalid(_)
            | MqttError::PasswordWithoutUser
            | MqttError::EmptyWillTopic
            | MqttError::WildcardInTopic(_)
            | MqttError::UnsupportedCharacters
            | MqttError::PublishQosInvalid(_)
            | MqttError::Qos2PublishDisabled
            | MqttError::TopicIsEmpty
            | MqttError::PublishPacketIdZero(_)
            | MqttError::PacketIdentifierIsZero
            | MqttError::SubscribeQos(_)
            | MqttError::NoTopicFilter(_)
            | MqttError::TopicFilterIsEmpty => None,
        }
    }

    /// One value of every variant (both CONNACK-coded fields of the shared ones), for the
    /// golden error table `golden/mqtt_error_messages.snap`.
    #[doc(hidden)]
    pub fn examples() -> Vec<MqttError> {
        use MqttError as E;
        vec![
            E::NotWebsocketPort,
            E::FirstPacketNotConnect { got: 0x30 },
            E::FixedHeaderFlags {
                flags: 1,
                packet_type: 0xc0,
            },
            E::MalformedVarInt,
            E::MaxPayload {
                size: 1027,
                max: 1024,
            },
            E::RemainingLength {
                len: 3,
                packet_type: 0x40,
            },
            E::UnknownPacketType(15),
            E::SecondConnect,
            E::Eof(Field::ProtocolLevel),
            E::UnexpectedEof(Field::Topic),
            E::OlderProtocol,
            E::ProtocolName(b"BAD".to_vec()),
            E::UnacceptableProtocolVersion(7),
            E::ConnFlagReserved,
            E::WillQosWithoutWill(1),
            E::WillRetainWithoutWill,
            E::WillQosInvalid(3),
            E::Qos2WillRejected,
            E::PasswordWithoutUser,
            E::EmptyClientIdNeedsClean,
            E::InvalidUtf8 {
                field: Field::ClientId,
                value: vec![0xf1],
            },
            E::InvalidUtf8 {
                field: Field::UserName,
                value: vec![0xf1],
            },
            E::NullCharacter {
                field: Field::TopicFilter,
                value: b"a\0b".to_vec(),
            },
            E::ClientIdCharacter(b"a.b".to_vec()),
            E::EmptyWillTopic,
            E::EmptyUserName,
            E::WildcardInTopic(b"foo/#".to_vec()),
            E::UnsupportedCharacters,
            E::PublishQosInvalid(3),
            E::Qos2PublishDisabled,
            E::TopicIsEmpty,
            E::PublishPacketIdZero(1),
            E::PacketIdentifierIsZero,
            E::SubscribeQos(3),
            E::NoTopicFilter(SubKind::Subscribe),
            E::NoTopicFilter(SubKind::Unsubscribe),
            E::TopicFilterIsEmpty,
        ]
    }

    /// Why the connection closes: Go's `maxPayloadViolation` closes with
    /// `MaxPayloadExceeded`; every other parse error returns to the read loop, which
    /// closes with `ProtocolViolation`.
    pub fn closed_state(&self) -> ClosedState {
        match self {
            MqttError::MaxPayload { .. } => ClosedState::MaxPayloadExceeded,
            MqttError::NotWebsocketPort
            | MqttError::FirstPacketNotConnect { .. }
            | MqttError::FixedHeaderFlags { .. }
            | MqttError::MalformedVarInt
            | MqttError::RemainingLength { .. }
            | MqttError::UnknownPacketType(_)
            | MqttError::SecondConnect
            | MqttError::Eof(_)
            | MqttError::UnexpectedEof(_)
            | MqttError::OlderProtocol
            | MqttError::ProtocolName(_)
            | MqttError::UnacceptableProtocolVersion(_)
            | MqttError::ConnFlagReserved
            | MqttError::WillQosWithoutWill(_)
            | MqttError::WillRetainWithoutWill
            | MqttError::WillQosInvalid(_)
            | MqttError::Qos2WillRejected
            | MqttError::PasswordWithoutUser
            | MqttError::EmptyClientIdNeedsClean
            | MqttError::InvalidUtf8 { .. }
            | MqttError::NullCharacter { .. }
            | MqttError::ClientIdCharacter(_)
            | MqttError::EmptyWillTopic
            | MqttError::EmptyUserName
            | MqttError::WildcardInTopic(_)
            | MqttError::UnsupportedCharacters
            | MqttError::PublishQosInvalid(_)
            | MqttError::Qos2PublishDisabled
            | MqttError::TopicIsEmpty
            | MqttError::PublishPacketIdZero(_)
            | MqttError::PacketIdentifierIsZero
            | MqttError::SubscribeQos(_)
            | MqttError::NoTopicFilter(_)
            | MqttError::TopicFilterIsEmpty => ClosedState::ProtocolViolation,
        }
    }
}
