//! Protocol messages: INFO and CONNECT JSON, and the server's MSG/HMSG/-ERR lines.

use serde::{Deserialize, Deserializer, Serialize};

/// The INFO the server sends (Go: `Info`, field order and `omitempty` as in Go).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// Server's public id.
    pub server_id: String,
    /// `server_name` (the id when not configured).
    pub server_name: String,
    /// Version string.
    pub version: String,
    /// Protocol level (1).
    pub proto: i32,
    /// Toolchain, Go's `go` field.
    pub go: String,
    /// Listener host.
    pub host: String,
    /// Listener port.
    pub port: u16,
    /// Headers supported (always).
    pub headers: bool,
    /// Credentials needed.
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    /// TLS required.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// Client certificates verified.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    /// TLS available.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_available: bool,
    /// `max_payload`.
    pub max_payload: i64,
    /// Connection id.
    #[serde(skip_serializing_if = "is_zero")]
    pub client_id: u64,
    /// The client's address as the server sees it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_ip: String,
    /// Nonce to sign (NKey/JWT auth).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// URLs clients may connect to (websocket URLs for websocket clients).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// Set on the INFO that answers the first PING after CONNECT.
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    /// The account the client is bound to (with `connect_info`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_account: String,
    /// Whether that account is the system account.
    #[serde(skip_serializing_if = "is_false")]
    pub acc_is_sys: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn yes() -> bool {
    true
}

/// `null` → the type's default (Go: json.Unmarshal leaves the zero value).
fn null_is_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `null` → `true`, for the options whose Go default is true.
fn null_is_yes<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// The CONNECT options (Go: `ClientOpts`); omitted fields keep Go's defaults
/// (`verbose`, `pedantic` and `echo` true), and so do fields given as `null`: Go's
/// encoding/json leaves a non-pointer field untouched on `null`, and clients rely on it
/// (async-nats sends `"name":null,"user":null,...` for every unset option).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectInfo {
    /// `+OK` after each op.
    #[serde(default = "yes", deserialize_with = "null_is_yes")]
    pub verbose: bool,
    /// Extra checks (publish subjects).
    #[serde(default = "yes", deserialize_with = "null_is_yes")]
    pub pedantic: bool,
    /// Client wants TLS.
    #[serde(deserialize_with = "null_is_default")]
    pub tls_required: bool,
    /// Token.
    #[serde(deserialize_with = "null_is_default")]
    pub auth_token: String,
    /// User name.
    #[serde(deserialize_with = "null_is_default")]
    pub user: String,
    /// Password.
    #[serde(deserialize_with = "null_is_default")]
    pub pass: String,
    /// Client name.
    #[serde(deserialize_with = "null_is_default")]
    pub name: String,
    /// Client language.
    #[serde(deserialize_with = "null_is_default")]
    pub lang: String,
    /// Client version.
    #[serde(deserialize_with = "null_is_default")]
    pub version: String,
    /// Protocol level: 0 or 1.
    #[serde(deserialize_with = "null_is_default")]
    pub protocol: i32,
    /// Deliver own messages back.
    #[serde(default = "yes", deserialize_with = "null_is_yes")]
    pub echo: bool,
    /// Headers supported.
    #[serde(deserialize_with = "null_is_default")]
    pub headers: bool,
    /// 503 status when a request has no responders.
    #[serde(deserialize_with = "null_is_default")]
    pub no_responders: bool,
    /// User JWT.
    #[serde(deserialize_with = "null_is_default")]
    pub jwt: String,
    /// Public NKey.
    #[serde(deserialize_with = "null_is_default")]
    pub nkey: String,
    /// Signature of the nonce.
    #[serde(deserialize_with = "null_is_default")]
    pub sig: String,
}

impl Default for ConnectInfo {
    fn default() -> Self {
        ConnectInfo {
            verbose: true,
            pedantic: true,
            tls_required: false,
            auth_token: String::new(),
            user: String::new(),
            pass: String::new(),
            name: String::new(),
            lang: String::new(),
            version: String::new(),
            protocol: 0,
            echo: true,
            headers: false,
            no_responders: false,
            jwt: String::new(),
            nkey: String::new(),
            sig: String::new(),
        }
    }
}

impl ConnectInfo {
    /// Parses the CONNECT argument.
    pub fn parse(json: &[u8]) -> Result<ConnectInfo, serde_json::Error> {
        serde_json::from_slice(json)
    }
}

/// Appends `INFO <json> \r\n` (Go adds a space before CRLF).
pub fn write_info(out: &mut Vec<u8>, info: &ServerInfo) {
    out.extend_from_slice(b"INFO ");
    // Serializing plain strings and numbers cannot fail; keep the line well-formed anyway.
    if serde_json::to_writer(&mut *out, info).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b" \r\n");
}

/// Appends `-ERR '<text>'\r\n`.
pub fn write_err(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"-ERR '");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"'\r\n");
}

/// A message as delivered to one subscription.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// Subject published to.
    pub subject: &'a [u8],
    /// Reply subject.
    pub reply: Option<&'a [u8]>,
    /// Header length, for HMSG.
    pub header_len: Option<usize>,
    /// Headers and body.
    pub payload: &'a [u8],
}

impl Delivery<'_> {
    /// Bytes `write` appends for a subscription id of `sid_len` bytes (for limits).
    pub fn encoded_len(&self, sid_len: usize) -> usize {
        // "HMSG " + subject + " " + sid + " " + reply + " " + 2 numbers + CRLF + payload + CRLF
        16 + self.subject.len()
            + sid_len
            + self.reply.map_or(0, <[u8]>::len)
            + 22
            + self.payload.len()
    }

    /// Appends `MSG subject sid [reply] size\r\npayload\r\n` (or HMSG with headers).
    pub fn write(&self, out: &mut Vec<u8>, sid: &[u8]) {
        out.reserve(self.encoded_len(sid.len()));
        out.extend_from_slice(if self.header_len.is_some() {
            b"HMSG "
        } else {
            b"MSG "
        });
        out.extend_from_slice(self.subject);
        out.push(b' ');
        out.extend_from_slice(sid);
        out.push(b' ');
        if let Some(reply) = self.reply {
            out.extend_from_slice(reply);
            out.push(b' ');
        }
        if let Some(h) = self.header_len {
            push_usize(out, h);
            out.push(b' ');
        }
        push_usize(out, self.payload.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.payload);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends Go's no-responders status message for a request to `subject` whose reply
/// subject `reply` matches the requester's subscription `sid`.
pub fn write_no_responders(out: &mut Vec<u8>, reply: &[u8], sid: &[u8], subject: &[u8]) {
    let mut hdr = Vec::with_capacity(40 + subject.len());
    hdr.extend_from_slice(b"NATS/1.0 503\r\nNats-Subject: ");
    hdr.extend_from_slice(subject);
    hdr.extend_from_slice(b"\r\n\r\n");
    Delivery {
        subject: reply,
        reply: None,
        header_len: Some(hdr.len()),
        payload: &hdr,
    }
    .write(out, sid);
}

fn push_usize(out: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn connect_defaults_are_go_defaults() {
        let c = ConnectInfo::parse(b"{}").unwrap();
        assert!(c.verbose && c.pedantic && c.echo);
        let c = ConnectInfo::parse(br#"{"verbose":false,"protocol":1,"x":3}"#).unwrap();
        assert!(!c.verbose && c.pedantic && c.protocol == 1);
    }

    #[test]
    fn connect_null_fields_keep_defaults() {
        // async-nats 0.51's CONNECT: every unset Option<String> is `null`.
        let c = ConnectInfo::parse(
            br#"{"verbose":false,"pedantic":false,"jwt":null,"nkey":null,"sig":null,"name":null,"echo":true,"lang":"rust","version":"0.51.0","protocol":1,"tls_required":false,"user":null,"pass":null,"auth_token":null,"headers":true,"no_responders":true}"#,
        )
        .unwrap();
        assert!(!c.verbose && !c.pedantic && c.echo && c.headers && c.no_responders);
        assert_eq!(
            (c.name.as_str(), c.user.as_str(), c.jwt.as_str()),
            ("", "", "")
        );
        assert_eq!((c.lang.as_str(), c.protocol), ("rust", 1));
        let c = ConnectInfo::parse(
            br#"{"verbose":null,"pedantic":null,"echo":null,"headers":null,"protocol":null}"#,
        )
        .unwrap();
        assert_eq!(c, ConnectInfo::default());
        // A wrong type is still an error, as in Go.
        assert!(ConnectInfo::parse(br#"{"user":1}"#).is_err());
    }

    #[test]
    fn messages() {
        let mut out = Vec::new();
        Delivery {
            subject: b"foo",
            reply: Some(b"r"),
            header_len: None,
            payload: b"hi",
        }
        .write(&mut out, b"1");
        assert_eq!(out, b"MSG foo 1 r 2\r\nhi\r\n");
        out.clear();
        write_no_responders(&mut out, b"reply", b"2", b"nobody");
        assert_eq!(
            out,
            b"HMSG reply 2 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n".to_vec()
        );
        out.clear();
        write_err(&mut out, "Stale Connection");
        assert_eq!(out, b"-ERR 'Stale Connection'\r\n");
    }
}
