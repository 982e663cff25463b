//! The client upgrade against bytes captured from nats-server v2.15.1: its leaf's request
//! (sent to a raw TCP listener) and its hub's 101 answers.

use base64::Engine as _;

use super::*;

/// The key of the captured requests, as the nonce that produces it.
fn nonce(key: &str) -> [u8; 16] {
    let bytes = match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    };
    match bytes.try_into() {
        Ok(n) => n,
        Err(b) => panic!("{b:?}"),
    }
}

fn url(s: &str) -> LeafUrl {
    match LeafUrl::parse(s) {
        Ok(u) => u,
        Err(e) => panic!("{e}"),
    }
}

fn ws(compression: WsCompression, masking: WsMasking) -> RemoteWebsocket {
    RemoteWebsocket {
        compression,
        masking,
    }
}

const KEY: &str = "937R2u/BunTFSZ7n3qPt1g==";

/// Go's 101 to a leaf that asked for compression and no masking, and the start of the
/// first (compressed) frame that came with it.
const HUB_101_PMD_NO_MASKING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: fqE7NCxqvtbEtbo/Y+oA1Qy/OkE=\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\nNats-No-Masking: true\r\n\r\n\xc2~\x012";

// Captured: a Go leaf with `url: "ws://127.0.0.1:47811/some/path", ws_compression: true,
// ws_no_masking: true`, `url: "ws://127.0.0.1:47811"` and `url: "ws://user:pw@127.0.0.1:47811/"`.
#[test]
fn request_bytes_are_gos() {
    let both = ClientHandshake::new(
        ws(WsCompression::Offer, WsMasking::RequestNoMasking),
        nonce(KEY),
    );
    assert_eq!(
        String::from_utf8_lossy(&both.request(&url("ws://127.0.0.1:47811/some/path"))),
        "GET /some/path/leafnode HTTP/1.1\r\nHost: 127.0.0.1:47811\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\nNats-No-Masking: true\r\nSec-WebSocket-Key: 937R2u/BunTFSZ7n3qPt1g==\r\nSec-WebSocket-Version: 13\r\nSec-Websocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\nUpgrade: websocket\r\n\r\n"
    );
    let plain = ClientHandshake::new(
        RemoteWebsocket::default(),
        nonce("kaAJItBRQZNuexGwbVn4yA=="),
    );
    assert_eq!(
        String::from_utf8_lossy(&plain.request(&url("ws://127.0.0.1:47811"))),
        "GET /leafnode HTTP/1.1\r\nHost: 127.0.0.1:47811\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Key: kaAJItBRQZNuexGwbVn4yA==\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n"
    );
    // Go's `//leafnode` for a bare `/`; userinfo is not sent.
    let slash = ClientHandshake::new(
        RemoteWebsocket::default(),
        nonce("4nNMBx7Oor8bMeBtdSAqKQ=="),
    );
    assert_eq!(
        String::from_utf8_lossy(&slash.request(&url("ws://user:pw@127.0.0.1:47811/"))),
        "GET //leafnode HTTP/1.1\r\nHost: 127.0.0.1:47811\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 4nNMBx7Oor8bMeBtdSAqKQ==\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n"
    );
}

#[test]
fn request_path_is_gos_path_join() {
    for (u, want) in [
        ("ws://h:1", "/leafnode"),
        ("ws://h:1/", "//leafnode"),
        ("ws://h:1/a", "/a/leafnode"),
        ("ws://h:1/a/", "/a/leafnode"),
        ("ws://h:1/a/./b/../c", "/a/c/leafnode"),
        // Go joins, then url.Parse keeps the `..` of the rooted result.
        ("ws://h:1/..", "/../leafnode"),
        ("ws://h:1/a%20b", "/a%20b/leafnode"),
        ("wss://h", "/leafnode"),
    ] {
        assert_eq!(request_path(&url(u)), want, "{u}");
    }
    // No port: Go's baseline adds 7422 to the URL, so the Host header has it.
    let hs = ClientHandshake::new(RemoteWebsocket::default(), [0; 16]);
    assert!(
        String::from_utf8_lossy(&hs.request(&url("wss://hub.example")))
            .contains("\r\nHost: hub.example:7422\r\n")
    );
}

#[test]
fn accepts_gos_answer_with_compression_and_no_masking() {
    let mut hs = ClientHandshake::new(
        ws(WsCompression::Offer, WsMasking::RequestNoMasking),
        nonce(KEY),
    );
    // Byte by byte: the head is complete only with its last byte.
    let head_len = HUB_101_PMD_NO_MASKING.len() - 4;
    for (i, b) in HUB_101_PMD_NO_MASKING.iter().enumerate().take(head_len - 1) {
        assert_eq!(hs.handle_input(&[*b]), Ok(None), "byte {i}");
    }
    let up = match hs.handle_input(
        HUB_101_PMD_NO_MASKING
            .get(head_len - 1..)
            .unwrap_or_default(),
    ) {
        Ok(Some(up)) => up,
        other => panic!("{other:?}"),
    };
    assert_eq!(up.compression, Compression::Negotiated);
    assert_eq!(up.mask, OutboundMask::Unmasked);
    assert_eq!(up.rest, b"\xc2~\x012");
    let wire = up.websocket(Box::new(|| [1, 2, 3, 4]), 0);
    assert!(matches!(wire.role, Role::Client { keys: None }));
}

/// A 101 for KEY with extra header lines.
fn answer(extra: &str) -> Vec<u8> {
    let accept = accept_key(KEY.as_bytes());
    format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n").into_bytes()
}

fn outcome(
    ws_opts: RemoteWebsocket,
    response: &[u8],
) -> Result<Option<ClientUpgrade>, ClientHandshakeError> {
    ClientHandshake::new(ws_opts, nonce(KEY)).handle_input(response)
}

#[test]
fn negotiation_is_gos() {
    let settled = |ws_opts, extra: &str| match outcome(ws_opts, &answer(extra)) {
        Ok(Some(up)) => (up.compression, up.mask),
        other => panic!("{extra:?}: {other:?}"),
    };
    let offer_mask = ws(WsCompression::Offer, WsMasking::RequestNoMasking);
    // The hub compresses and exempts us.
    assert_eq!(
        settled(
            offer_mask,
            "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\nNats-No-Masking: true\r\n"
        ),
        (Compression::Negotiated, OutboundMask::Unmasked)
    );
    // Go: TestLeafNodeWSNoMaskingRejected — no echo, so the leaf masks; no extension, so
    // no compression.
    assert_eq!(
        settled(offer_mask, ""),
        (Compression::Off, OutboundMask::Masked)
    );
    assert_eq!(
        settled(offer_mask, "Nats-No-Masking: false\r\n"),
        (Compression::Off, OutboundMask::Masked)
    );
    // We did not ask: an unrequested extension or exemption changes nothing.
    assert_eq!(
        settled(
            RemoteWebsocket::default(),
            "Sec-WebSocket-Extensions: permessage-deflate\r\nNats-No-Masking: true\r\n"
        ),
        (Compression::Off, OutboundMask::Masked)
    );
    assert_eq!(
        outcome(
            offer_mask,
            &answer("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
        )
        .map_err(|e| e.to_string()),
        Err("compression negotiation error".to_owned())
    );
}

#[test]
fn invalid_answers_are_refused_with_gos_text() {
    let accept = accept_key(KEY.as_bytes());
    for response in [
        format!("HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"),
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket2\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"),
        // Whole values: a list with `Upgrade` in it is not `upgrade` (Go).
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n".to_owned(),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_owned(),
    ] {
        assert_eq!(
            outcome(RemoteWebsocket::default(), response.as_bytes()).map_err(|e| e.to_string()),
            Err("invalid websocket connection".to_owned()),
            "{response:?}"
        );
    }
    // Case-insensitive whole values are fine.
    let ok = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: UPGRADE\r\nsec-websocket-accept: {accept}\r\n\r\n"
    );
    assert!(matches!(
        outcome(RemoteWebsocket::default(), ok.as_bytes()),
        Ok(Some(_))
    ));
    // A peer that is not HTTP at all (Go: TestLeafNodeWSFailedConnection's garbage peer):
    // Go splits `INFO {}` at the space and finds no status code.
    assert_eq!(
        outcome(RemoteWebsocket::default(), b"INFO {}\r\n\r\n").map_err(|e| e.to_string()),
        Err("malformed HTTP status code \"{}\"".to_owned())
    );
    let mut hs = ClientHandshake::new(RemoteWebsocket::default(), nonce(KEY));
    assert_eq!(hs.handle_eof().to_string(), "unexpected EOF");
    assert_eq!(hs.handle_input(b"HTTP/1.1 101"), Ok(None));
    assert_eq!(hs.handle_eof().to_string(), "unexpected EOF");
}

// Go: TestLeafNodeWSFailedConnection: ws:// to a TLS websocket port gets Go's plain-HTTP
// answer, which is no upgrade; a peer that is not HTTP is refused by the response parser.
#[test]
fn failed_connection_answers() {
    assert_eq!(
        outcome(
            RemoteWebsocket::default(),
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
        )
        .map_err(|e| e.to_string()),
        Err("invalid websocket connection".to_owned())
    );
    assert_eq!(
        outcome(
            RemoteWebsocket::default(),
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"
        )
        .map_err(|e| e.to_string()),
        Err(
            "malformed HTTP response \"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\""
                .to_owned()
        )
    );
}
