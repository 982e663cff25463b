//! The `ws_client_upgrade` target: any bytes, in any reads, as a hub's answer to a
//! leafnode's WebSocket upgrade request, and as a proxy's answer to its `CONNECT`.

use base64::Engine as _;

use super::{segments, split_input};
use crate::handshake::response_head::MAX_RESPONSE_HEAD;
use crate::handshake::{
    ClientHandshake, ClientHandshakeError, ClientUpgrade, ProxyConnect, ProxyError, ResponseError,
    accept_key,
};
use crate::options::RemoteWebsocket;
use crate::policy::{Compression, OutboundMask, WsCompression, WsMasking};

/// The key of the seeds (captured from nats-server v2.15.1): `937R2u/BunTFSZ7n3qPt1g==`.
pub const NONCE: [u8; 16] = [
    0xf7, 0x7e, 0xd1, 0xda, 0xef, 0xc1, 0xba, 0x74, 0xc5, 0x49, 0x9e, 0xe7, 0xde, 0xa3, 0xed, 0xd6,
];

type Fed = Result<Option<ClientUpgrade>, ClientHandshakeError>;

/// Feeds reads until a result; returns it with the unfed bytes appended to the upgrade's
/// `rest`, so that results of different segmentations compare.
fn feed(ws: RemoteWebsocket, reads: &[&[u8]]) -> Fed {
    let mut hs = ClientHandshake::new(ws, NONCE);
    for (i, read) in reads.iter().enumerate() {
        match hs.handle_input(read) {
            Ok(None) => {}
            Ok(Some(mut up)) => {
                up.rest
                    .extend(reads.iter().skip(i + 1).flat_map(|r| r.iter()));
                return Ok(Some(up));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The end of the head as an independent judge sees it: just past the first line that
/// is empty once one trailing `\r` is removed.
fn head_end(stream: &[u8]) -> Option<usize> {
    let mut start = 0;
    for line in stream.split_inclusive(|&b| b == b'\n') {
        start += line.len();
        if line == b"\n" || line == b"\r\n" {
            return Some(start);
        }
        if line.last() != Some(&b'\n') {
            return None;
        }
    }
    None
}

/// The same reads as a proxy's answer to `CONNECT`, with the unfed bytes appended.
fn feed_proxy(reads: &[&[u8]]) -> Result<Option<Vec<u8>>, ProxyError> {
    let mut p = ProxyConnect::new();
    for (i, read) in reads.iter().enumerate() {
        match p.handle_input(read) {
            Ok(None) => {}
            Ok(Some(mut rest)) => {
                rest.extend(reads.iter().skip(i + 1).flat_map(|r| r.iter()));
                return Ok(Some(rest));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// `[options][n][n read sizes][bytes]`; options bit 0 offers compression, bit 1 asks for
/// no masking. The same bytes also go to the proxy `CONNECT` client, which shares the
/// response reader: it opens the tunnel exactly for a 200 head, with the same `rest`. Oracles: no panic; the result does not depend on the segmentation; a head
/// longer than `MAX_RESPONSE_HEAD` is refused, never buffered further; an upgrade
/// happens only for a head ending where an independent scan says, with Go's accept key
/// in it, and its `rest` is exactly the bytes after that head; compression and unmasked
/// writes only when asked for.
pub fn ws_client_upgrade(data: &[u8]) {
    let (options, sizes, stream) = split_input(data);
    let mut ws = RemoteWebsocket::default();
    if options & 1 != 0 {
        ws.compression = WsCompression::Offer;
    }
    if options & 2 != 0 {
        ws.masking = WsMasking::RequestNoMasking;
    }
    let reads = segments(stream, sizes);
    let split = feed(ws, &reads);
    let whole = feed(ws, &[stream]);
    assert_eq!(split, whole, "result depends on the segmentation");
    let end = head_end(stream);
    let proxy = feed_proxy(&reads);
    assert_eq!(
        proxy,
        feed_proxy(&[stream]),
        "proxy result depends on the segmentation"
    );
    match (&proxy, &whole) {
        (Ok(Some(rest)), _) => {
            let line = stream.split(|&b| b == b'\n').next().unwrap_or_default();
            let status = line
                .iter()
                .position(|&b| b == b' ')
                .and_then(|i| line.get(i..))
                .unwrap_or_default();
            let code = status
                .iter()
                .position(|&b| b != b' ')
                .and_then(|i| status.get(i..))
                .unwrap_or_default();
            assert!(code.starts_with(b"200"), "tunnel without a 200");
            assert_eq!(
                rest.as_slice(),
                stream.get(end.unwrap_or(usize::MAX)..).unwrap_or_default()
            );
        }
        (Ok(None), Ok(None)) | (Err(ProxyError::Refused(_)), _) => {}
        (Err(ProxyError::Read(p)), Err(ClientHandshakeError::Response(c))) => {
            assert_eq!(p, c, "one reader, two answers");
        }
        (p, c) => panic!("proxy {p:?} but upgrade {c:?}"),
    }
    match &whole {
        Ok(None) => assert!(
            end.is_none() && stream.len() < MAX_RESPONSE_HEAD,
            "a complete or oversized head left pending"
        ),
        Err(ClientHandshakeError::Response(ResponseError::TooLarge)) => {}
        Err(ClientHandshakeError::Response(ResponseError::UnexpectedEof)) => {
            panic!("EOF reported while bytes arrive")
        }
        Err(_) => assert!(
            end.is_some_and(|e| e <= MAX_RESPONSE_HEAD),
            "error before the head ended"
        ),
        Ok(Some(up)) => {
            let end = end.unwrap_or(usize::MAX);
            assert!(end <= MAX_RESPONSE_HEAD, "upgrade past the head limit");
            assert_eq!(up.rest.as_slice(), stream.get(end..).unwrap_or_default());
            let head = stream.get(..end).unwrap_or_default();
            let key = base64::engine::general_purpose::STANDARD.encode(NONCE);
            let accept = accept_key(key.as_bytes());
            assert!(
                head.windows(accept.len()).any(|w| w == accept.as_bytes()),
                "upgraded without the accept key"
            );
            if ws.compression == WsCompression::Off {
                assert_eq!(up.compression, Compression::Off);
            }
            if ws.masking == WsMasking::Mask {
                assert_eq!(up.mask, OutboundMask::Masked);
            }
        }
    }
}
