//! Per-connection policies decided at the upgrade and fixed for the connection's life.

/// Which end of the WebSocket we are. The server accepts; a soliciting leaf node is a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Accepting side: reads masked frames (unless exempt), writes unmasked ones.
    Server,
    /// Soliciting side: writes masked frames, reads unmasked ones.
    Client,
}

/// Whether inbound frames must carry a masking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskPolicy {
    /// RFC 6455 §5.1: client frames must be masked. Go: `wsReadInfo.mask == true`.
    Required,
    /// `Nats-No-Masking: true` was negotiated (or we are the client): frames are read as unmasked.
    Exempt,
}

/// Whether permessage-deflate (RFC 7692) was negotiated on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// No extension: an RSV1 frame is a protocol error.
    Off,
    /// `permessage-deflate; server_no_context_takeover; client_no_context_takeover`.
    Negotiated,
}

/// How outbound data is cut into frames, decided from the peer's `User-Agent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// Everything pending goes out in one frame. Go: `browser == false`.
    Whole,
    /// `User-Agent` starts with `Mozilla/`: frames carry at most 4096 payload bytes and
    /// compressed messages are fragmented. Go: `browser == true`.
    Browser,
    /// A browser whose `User-Agent` also has `Version/` and `Safari/`: like `Browser`, but
    /// compressed messages are never fragmented (Safari fails on them). Go: `nocompfrag`.
    Safari,
}

impl Framing {
    /// Largest payload of one outbound frame, if limited. Go: `wsFrameSizeForBrowsers`.
    pub fn max_frame_payload(self) -> Option<usize> {
        match self {
            Framing::Whole => None,
            Framing::Browser | Framing::Safari => Some(crate::FRAME_SIZE_FOR_BROWSERS),
        }
    }

    /// Largest payload of one compressed outbound frame, if limited.
    pub fn max_compressed_frame_payload(self) -> Option<usize> {
        match self {
            Framing::Whole | Framing::Safari => None,
            Framing::Browser => Some(crate::FRAME_SIZE_FOR_BROWSERS),
        }
    }
}

/// Whether the upgrade offers permessage-deflate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsCompression {
    /// No offer (Go's default).
    #[default]
    Off,
    /// `permessage-deflate; server_no_context_takeover; client_no_context_takeover`.
    Offer,
}

/// Whether the leaf asks the hub to accept its frames unmasked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsMasking {
    /// Mask every frame, as a WebSocket client must (Go's default).
    #[default]
    Mask,
    /// Send `Nats-No-Masking: true`; frames go unmasked if the hub echoes it.
    RequestNoMasking,
}

/// Whether our outbound frames carry a masking key (client role, after the upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboundMask {
    /// RFC 6455 §5.3: a client masks every frame.
    Masked,
    /// The server echoed `Nats-No-Masking: true`.
    Unmasked,
}
