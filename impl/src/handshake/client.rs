//! The soliciting side of a leafnode's WebSocket upgrade, sans-IO (Go:
//! `leafNodeSolicitWSConnection`): the request bytes Go writes, and the checks Go makes of
//! the answer, which settle compression and masking for the client-role connection.

use base64::Engine as _;

use super::response::accept_key;
use super::response_head::{ResponseError, ResponseHead, ResponseReader};
use super::validate::{equal_fold, pmc_offer};
use crate::codec::MaskKeys;
use crate::conn::{Role, WebSocket};
use crate::options::{LeafUrl, RemoteWebsocket};
use crate::policy::{Compression, Framing, OutboundMask, WsCompression, WsMasking};

/// Go: `leafNodeWSPath`, the path suffix that makes the hub create a leafnode.
pub const LEAFNODE_WS_PATH: &str = "/leafnode";

/// Go: `wsPMCReqHeaderValue`.
const PMC_OFFER: &str =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// Why the upgrade failed. Display is Go's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientHandshakeError {
    /// The answer is not an HTTP response head. Go: `http.ReadResponse`'s error.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// Not a 101, or `Upgrade`/`Connection`/`Sec-WebSocket-Accept` not as RFC 6455 §4.1
    /// requires (Go compares the whole values, case-insensitively).
    #[error("invalid websocket connection")]
    InvalidConnection,
    /// permessage-deflate accepted without both no-context-takeover parameters.
    #[error("compression negotiation error")]
    CompressionNegotiation,
}

/// A successful upgrade: what the connection's client role needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUpgrade {
    /// permessage-deflate, if offered and accepted.
    pub compression: Compression,
    /// Whether our frames are masked: always, unless we asked not to and the hub agreed.
    pub mask: OutboundMask,
    /// Bytes received after the 101 head: the hub's first frames.
    pub rest: Vec<u8>,
}

impl ClientUpgrade {
    /// The WebSocket wire of the client-role connection. `keys` gives each frame's
    /// masking key (used only when [`ClientUpgrade::mask`] is `Masked`); hub frames are
    /// never masked (Go reads a key only when `maskread` is set).
    pub fn websocket(&self, keys: MaskKeys, max_payload: usize) -> WebSocket {
        let keys = match self.mask {
            OutboundMask::Masked => Some(keys),
            OutboundMask::Unmasked => None,
        };
        WebSocket {
            role: Role::Client { keys },
            compression: self.compression,
            framing: Framing::Whole,
            max_payload,
        }
    }
}

/// One upgrade attempt: write [`ClientHandshake::request`], then feed what the hub answers
/// to [`ClientHandshake::handle_input`] until it gives the [`ClientUpgrade`] or an error,
/// all within the remote's `first_info_timeout` (the IO layer's deadline).
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    key: String,
    ws: RemoteWebsocket,
    reader: ResponseReader,
}

impl ClientHandshake {
    /// `nonce`: 16 random bytes for `Sec-WebSocket-Key` (Go: `wsMakeChallengeKey`).
    pub fn new(ws: RemoteWebsocket, nonce: [u8; 16]) -> Self {
        ClientHandshake {
            key: base64::engine::general_purpose::STANDARD.encode(nonce),
            ws,
            reader: ResponseReader::new(),
        }
    }

    /// The upgrade request for `url`, byte for byte as Go's `http.Request.Write` sends it
    /// (`Host` and `User-Agent` first, then the headers sorted by name).
    pub fn request(&self, url: &LeafUrl) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        let mut line = |parts: &[&str]| {
            for p in parts {
                out.extend_from_slice(p.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        };
        line(&["GET ", &request_path(url), " HTTP/1.1"]);
        line(&["Host: ", &url.dial_address()]);
        line(&["User-Agent: Go-http-client/1.1"]);
        line(&["Connection: Upgrade"]);
        if self.ws.masking == WsMasking::RequestNoMasking {
            line(&["Nats-No-Masking: true"]);
        }
        line(&["Sec-WebSocket-Key: ", &self.key]);
        line(&["Sec-WebSocket-Version: 13"]);
        // Go adds this one with `Header.Add`, which canonicalizes the name.
        if self.ws.compression == WsCompression::Offer {
            line(&["Sec-Websocket-Extensions: ", PMC_OFFER]);
        }
        line(&["Upgrade: websocket"]);
        line(&[]);
        out
    }

    /// Feeds the hub's bytes. `Ok(None)`: the answer is not complete yet.
    pub fn handle_input(
        &mut self,
        bytes: &[u8],
    ) -> Result<Option<ClientUpgrade>, ClientHandshakeError> {
        let Some((head, rest)) = self.reader.handle_input(bytes)? else {
            return Ok(None);
        };
        self.check(&head).map(|(compression, mask)| {
            Some(ClientUpgrade {
                compression,
                mask,
                rest,
            })
        })
    }

    /// The hub closed the connection before answering.
    pub fn handle_eof(&self) -> ClientHandshakeError {
        ClientHandshakeError::Response(self.reader.handle_eof())
    }

    // Go: the checks after http.ReadResponse in leafNodeSolicitWSConnection, in its order.
    fn check(
        &self,
        head: &ResponseHead,
    ) -> Result<(Compression, OutboundMask), ClientHandshakeError> {
        if head.code != 101
            || !equal_fold(head.header("Upgrade"), "websocket")
            || !equal_fold(head.header("Connection"), "upgrade")
            || head.header("Sec-Websocket-Accept") != accept_key(self.key.as_bytes()).as_bytes()
        {
            return Err(ClientHandshakeError::InvalidConnection);
        }
        let compression = match self.ws.compression {
            WsCompression::Off => Compression::Off,
            WsCompression::Offer => match pmc_offer(head.header_values("Sec-Websocket-Extensions"))
            {
                // The hub does not compress: neither do we.
                None => Compression::Off,
                Some(true) => Compression::Negotiated,
                Some(false) => return Err(ClientHandshakeError::CompressionNegotiation),
            },
        };
        let mask = match self.ws.masking {
            WsMasking::Mask => OutboundMask::Masked,
            WsMasking::RequestNoMasking if head.header("Nats-No-Masking") == b"true" => {
                OutboundMask::Unmasked
            }
            // The hub did not agree: mask, as any client does.
            WsMasking::RequestNoMasking => OutboundMask::Masked,
        };
        Ok((compression, mask))
    }
}

/// Go: the request path: `/leafnode`, or the URL's escaped path (one leading `/` dropped)
/// joined with it by `path.Join`. A bare `/` path gives Go's `//leafnode`.
fn request_path(url: &LeafUrl) -> String {
    let escaped = url.escaped_path();
    if escaped.is_empty() {
        return LEAFNODE_WS_PATH.to_owned();
    }
    let user = escaped.strip_prefix('/').unwrap_or(&escaped);
    format!("/{}", go_path_join(user, LEAFNODE_WS_PATH))
}

/// Go: `path.Join(a, b)` for a non-empty `b`: the two joined by `/`, then `path.Clean`.
fn go_path_join(a: &str, b: &str) -> String {
    let joined = if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    };
    go_path_clean(&joined)
}

/// Go: `path.Clean`.
fn go_path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests;
