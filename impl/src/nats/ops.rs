//! Protocol messages: INFO and CONNECT JSON, and the server's MSG/HMSG/-ERR lines.

use serde::{Deserialize, Serialize};

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
    /// Lame duck mode: the server is about to close this connection (Go: `ldm`).
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
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

/// The CONNECT options (Go: `ClientOpts`); omitted fields keep Go's defaults
/// (`verbose`, `pedantic` and `echo` true), and so do fields given as `null`: Go's
/// encoding/json leaves a non-pointer field untouched on `null`, and clients rely on it
/// (async-nats sends `"name":null,"user":null,...` for every unset option).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInfo {
    /// `+OK` after each op.
    pub verbose: bool,
    /// Extra checks (publish subjects).
    pub pedantic: bool,
    /// Client wants TLS.
    pub tls_required: bool,
    /// Token.
    pub auth_token: String,
    /// User name.
    pub user: String,
    /// Password.
    pub pass: String,
    /// Client name.
    pub name: String,
    /// Client language.
    pub lang: String,
    /// Client version.
    pub version: String,
    /// Protocol level: 0 or 1.
    pub protocol: i32,
    /// Deliver own messages back.
    pub echo: bool,
    /// Headers supported.
    pub headers: bool,
    /// 503 status when a request has no responders.
    pub no_responders: bool,
    /// User JWT.
    pub jwt: String,
    /// Public NKey.
    pub nkey: String,
    /// Signature of the nonce.
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

/// One CONNECT's fields; absent or `null` = leave the option as it is.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ConnectPatch {
    verbose: Option<bool>,
    pedantic: Option<bool>,
    tls_required: Option<bool>,
    auth_token: Option<String>,
    user: Option<String>,
    pass: Option<String>,
    name: Option<String>,
    lang: Option<String>,
    version: Option<String>,
    protocol: Option<i32>,
    echo: Option<bool>,
    headers: Option<bool>,
    no_responders: Option<bool>,
    jwt: Option<String>,
    nkey: Option<String>,
    sig: Option<String>,
}

impl ConnectInfo {
    /// Parses a first CONNECT's argument (over Go's defaults).
    pub fn parse(json: &[u8]) -> Result<ConnectInfo, serde_json::Error> {
        let mut c = ConnectInfo::default();
        c.update(json)?;
        Ok(c)
    }

    /// Applies a CONNECT's argument to these options: Go decodes every CONNECT into the
    /// options the previous ones set (`json.Unmarshal` into `c.opts`), so a field a later
    /// CONNECT leaves out, or gives as `null`, keeps its value.
    pub fn update(&mut self, json: &[u8]) -> Result<(), serde_json::Error> {
        let p: ConnectPatch = serde_json::from_slice(json)?;
        if let Some(v) = p.verbose {
            self.verbose = v;
        }
        if let Some(v) = p.pedantic {
            self.pedantic = v;
        }
        if let Some(v) = p.tls_required {
            self.tls_required = v;
        }
        if let Some(v) = p.auth_token {
            self.auth_token = v;
        }
        if let Some(v) = p.user {
            self.user = v;
        }
        if let Some(v) = p.pass {
            self.pass = v;
        }
        if let Some(v) = p.name {
            self.name = v;
        }
        if let Some(v) = p.lang {
            self.lang = v;
        }
        if let Some(v) = p.version {
            self.version = v;
        }
        if let Some(v) = p.protocol {
            self.protocol = v;
        }
        if let Some(v) = p.echo {
            self.echo = v;
        }
        if let Some(v) = p.headers {
            self.headers = v;
        }
        if let Some(v) = p.no_responders {
            self.no_responders = v;
        }
        if let Some(v) = p.jwt {
            self.jwt = v;
        }
        if let Some(v) = p.nkey {
            self.nkey = v;
        }
        if let Some(v) = p.sig {
            self.sig = v;
        }
        Ok(())
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
            push_decimal(out, h as u64);
            out.push(b' ');
        }
        push_decimal(out, self.payload.len() as u64);
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

/// Appends `n` in decimal, as the NATS wire writes sizes and counts (no allocation).
pub(crate) fn push_decimal(out: &mut Vec<u8>, n: u64) {
    // u64::MAX has 20 digits.
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
    fn decimals() {
        let mut out = Vec::new();
        for n in [0, 7, 10, 1_000_000, u64::MAX] {
            push_decimal(&mut out, n);
            out.push(b' ');
        }
        assert_eq!(out, b"0 7 10 1000000 18446744073709551615 ");
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
