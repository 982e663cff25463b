//! The NATS message an MQTT PUBLISH becomes, and back: the `Nmqtt-*` headers Go adds
//! (Go: `mqttComputeNatsMsgSize`, `mqttNewDeliverableMessage`,
//! `mqttNewDeliverablePubRel`, `mqttNatsHeaderEncodeFlags`/`DecodeFlags`,
//! `mqttParsePublishNATSHeader`, `mqttParsePubRelNATSHeader`, `getHeader`).
//!
//! ```text
//!  NATS/1.0\r\n
//!  Nmqtt-Pub:<qos>[<flags hex>]\r\n          always; the flags byte only when staged (QoS 2)
//!  [Nmqtt-Subject:<subject>\r\n]             staged only
//!  [Nmqtt-Mapped:<mapped subject>\r\n]       staged, when a subject mapping applied
//!  \r\n
//!  <payload>
//! ```

use crate::mqtt::Qos;
use crate::mqtt::packet::{PUB_FLAG_DUP, PUB_FLAG_QOS, PUB_FLAG_RETAIN};

/// The header line of every NATS message with headers. Go: `hdrLine`.
const HDR_LINE: &[u8] = b"NATS/1.0\r\n";
/// Marks a message published from MQTT; its value starts with the QoS. Go: `mqttNatsHeader`.
pub const HEADER_PUB: &str = "Nmqtt-Pub";
/// The original subject of a staged QoS 2 message. Go: `mqttNatsHeaderSubject`.
pub const HEADER_SUBJECT: &str = "Nmqtt-Subject";
/// The mapped subject of a staged QoS 2 message. Go: `mqttNatsHeaderMapped`.
pub const HEADER_MAPPED: &str = "Nmqtt-Mapped";
/// A PUBREL to deliver, with its packet identifier. Go: `mqttNatsPubRelHeader`.
pub const HEADER_PUBREL: &str = "Nmqtt-PubRel";
/// The PUBLISH flags nibble (DUP, QoS, RETAIN). Go: `mqttPubFlags`.
const PUB_FLAGS: u8 = PUB_FLAG_DUP | PUB_FLAG_QOS | PUB_FLAG_RETAIN;

/// How much of the PUBLISH the NATS message keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding<'a> {
    /// For delivery now (QoS 0 and 1): only `Nmqtt-Pub:<qos>`.
    Delivery,
    /// A QoS 2 message kept until PUBREL: the flags, the subject and the mapping.
    Staged {
        /// The NATS subject.
        subject: &'a [u8],
        /// The subject after a mapping, if one applied.
        mapped: Option<&'a [u8]>,
    },
}

/// The size of the NATS message (headers and payload). Go: `mqttComputeNatsMsgSize`
/// (what `max_payload` is checked against).
pub fn message_size(encoding: Encoding<'_>, payload_len: usize) -> usize {
    let mut size = HDR_LINE.len() + HEADER_PUB.len() + 2 + 2 + 2 + payload_len;
    if let Encoding::Staged { subject, mapped } = encoding {
        size += 1 + HEADER_SUBJECT.len() + 1 + subject.len() + 2;
        if let Some(m) = mapped.filter(|m| !m.is_empty()) {
            size += HEADER_MAPPED.len() + 1 + m.len() + 2;
        }
    }
    size
}

/// Appends the NATS message for a PUBLISH with these fixed-header `flags`; returns the
/// header length (the NATS `HPUB` header size). Go: `mqttNewDeliverableMessage`.
pub fn write_message(
    out: &mut Vec<u8>,
    flags: u8,
    encoding: Encoding<'_>,
    payload: &[u8],
) -> usize {
    let start = out.len();
    out.reserve(message_size(encoding, payload.len()));
    let qos = (flags & PUB_FLAG_QOS) >> 1;
    out.extend_from_slice(HDR_LINE);
    out.extend_from_slice(HEADER_PUB.as_bytes());
    out.push(b':');
    out.push(qos + b'0');
    if let Encoding::Staged { subject, mapped } = encoding {
        out.push(encode_flags(flags));
        out.extend_from_slice(b"\r\n");
        header_line(out, HEADER_SUBJECT, subject);
        if let Some(m) = mapped.filter(|m| !m.is_empty()) {
            header_line(out, HEADER_MAPPED, m);
        }
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let header_len = out.len() - start;
    out.extend_from_slice(payload);
    header_len
}

fn header_line(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    out.push(b':');
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends the header-only NATS message that schedules a PUBREL; returns its length.
/// Go: `mqttNewDeliverablePubRel`.
pub fn write_pubrel(out: &mut Vec<u8>, pi: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(HDR_LINE);
    header_line(out, HEADER_PUBREL, pi.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.len() - start
}

/// The flags nibble as one lower-case hex digit. Go: `mqttNatsHeaderEncodeFlags`.
pub fn encode_flags(flags: u8) -> u8 {
    b"0123456789abcdef"[usize::from(flags & PUB_FLAGS)]
}

/// The flags nibble from an `Nmqtt-Pub` value (its second byte); none if absent or not
/// a lower-case hex digit. Go: `mqttNatsHeaderDecodeFlags`.
pub fn decode_flags(value: &[u8]) -> u8 {
    match value.get(1) {
        Some(&c @ b'0'..=b'9') => c - b'0',
        Some(&c @ b'a'..=b'f') => c - b'a' + 10,
        _ => 0,
    }
}

/// What the `Nmqtt-*` headers of a NATS message say about its MQTT origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttOrigin<'a> {
    /// The QoS byte as Go reads it (`value[0] - '0'`, wrapping: any byte is accepted).
    pub qos: u8,
    /// Whether the staged flags carry RETAIN.
    pub retained: bool,
    /// `Nmqtt-Subject`, if present.
    pub subject: Option<&'a [u8]>,
    /// `Nmqtt-Mapped`, if present.
    pub mapped: Option<&'a [u8]>,
}

impl MqttOrigin<'_> {
    /// The QoS, if it is one.
    pub fn qos(&self) -> Option<Qos> {
        Qos::try_from(self.qos).ok()
    }
}

/// Reads the MQTT origin from a NATS header block; `None` without a non-empty
/// `Nmqtt-Pub`. Go: `mqttParsePublishNATSHeader`.
pub fn parse_origin(header: &[u8]) -> Option<MqttOrigin<'_>> {
    let value = header_value(HEADER_PUB, header).filter(|v| !v.is_empty())?;
    Some(MqttOrigin {
        qos: value[0].wrapping_sub(b'0'),
        retained: decode_flags(value) & PUB_FLAG_RETAIN != 0,
        subject: header_value(HEADER_SUBJECT, header).filter(|v| !v.is_empty()),
        mapped: header_value(HEADER_MAPPED, header).filter(|v| !v.is_empty()),
    })
}

/// The packet identifier of a PUBREL message; 0 if absent or not a number that fits.
/// Go: `mqttParsePubRelNATSHeader`.
pub fn parse_pubrel(header: &[u8]) -> u16 {
    // Go's ParseUint takes digits only (no sign), as checked here before Rust's parse.
    header_value(HEADER_PUBREL, header)
        .filter(|v| !v.is_empty() && v.iter().all(u8::is_ascii_digit))
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0)
}

/// The value of header `key` (leading spaces skipped, up to CRLF), if present.
/// Go: `sliceHeader`.
pub fn header_value<'a>(key: &str, header: &'a [u8]) -> Option<&'a [u8]> {
    let index = key_index(key.as_bytes(), header)?;
    let mut i = index + key.len() + 1;
    while header.get(i) == Some(&b' ') {
        i += 1;
    }
    let start = i;
    while i < header.len() {
        if header[i] == b'\r' && i + 1 < header.len() && header[i + 1] == b'\n' {
            break;
        }
        i += 1;
    }
    Some(&header[start..i])
}

/// Where `key` starts a header line followed by `:`. Go: `getHeaderKeyIndex`, including
/// its quirk: a match fewer than 2 bytes past the previous candidate ends the search.
fn key_index(key: &[u8], header: &[u8]) -> Option<usize> {
    let mut offset = 0;
    loop {
        let rel = find(&header[offset..], key)?;
        if rel < 2 {
            return None;
        }
        let index = rel + offset;
        if index + 1 >= header.len() || header[index - 1] != b'\n' || header[index - 2] != b'\r' {
            offset = index + key.len();
            continue;
        }
        if index + key.len() >= header.len() {
            return None;
        }
        if header[index + key.len()] != b':' {
            offset = index + key.len();
            continue;
        }
        return Some(index);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
