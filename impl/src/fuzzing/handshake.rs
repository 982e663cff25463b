//! The handshake targets: any bytes, in any reads, into the upgrade-request handshake;
//! `Sec-WebSocket-Extensions` values through the validator with compression on.

use std::sync::Arc;
use std::time::Instant;

use super::{segments, split_input};
use crate::handshake::{
    Handshake, HandshakeConfig, HandshakeError, HttpDate, Rejection, RequestLimits, Upgrade,
    accept_key,
};
use crate::policy::Compression;

/// The line a 101 carries when permessage-deflate was negotiated (Go: `wsPMCFullResponse`).
const PMC_LINE: &str = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

fn config(options: u8) -> HandshakeConfig {
    let limits = match (options >> 4) & 3 {
        0 => RequestLimits::default(),
        1 => RequestLimits {
            max_head_bytes: 256,
            max_headers: 4,
        },
        2 => RequestLimits {
            max_head_bytes: 1024,
            max_headers: 16,
        },
        _ => RequestLimits {
            max_head_bytes: 4096,
            max_headers: 128,
        },
    };
    HandshakeConfig {
        compression: options & 1 != 0,
        mqtt_enabled: options & 2 != 0,
        accept_no_masking: options & 4 != 0,
        tls: options & 8 != 0,
        limits,
        ..HandshakeConfig::default()
    }
}

type Fed = Result<Option<Upgrade>, Rejection>;

/// Feeds reads until a result (a result is final); returns it and the bytes fed.
fn feed(config: &Arc<HandshakeConfig>, reads: &[&[u8]]) -> (Fed, usize) {
    let now = Instant::now();
    let mut hs = Handshake::new(Arc::clone(config), "10.0.0.1:4242", now);
    let mut fed = 0;
    for read in reads {
        fed += read.len();
        match hs.feed(read) {
            Ok(None) => {}
            done => return (done, fed),
        }
    }
    (Ok(None), fed)
}

/// `[options][n][n read sizes][bytes]`. Oracles: no panic; the result of the reads is
/// the result of feeding the same bytes at once (bytes after the head that arrive in a
/// later read are the caller's, so only `DataBeforeHandshake` may differ, and only
/// then); a rejection has one of the documented statuses and a response Go would write;
/// an upgrade's 101 carries the right accept key and the permessage-deflate line iff
/// compression was negotiated; never more than `max_head_bytes` are held waiting: a
/// head without its empty line within the limit is rejected.
pub fn handshake(data: &[u8]) {
    let (options, sizes, stream) = split_input(data);
    let config = Arc::new(config(options));
    let reads = segments(stream, sizes);
    let (split, fed) = feed(&config, &reads);
    let (prefix, _) = feed(&config, &[&stream[..fed]]);
    assert_eq!(split, prefix, "result depends on the segmentation");
    let (whole, _) = feed(&config, &[stream]);
    match (&split, &whole) {
        (Ok(Some(_)), Err(r)) if r.error == HandshakeError::DataBeforeHandshake => {
            assert!(fed < stream.len(), "only later bytes may differ");
        }
        _ => assert_eq!(split, whole, "result depends on the segmentation"),
    }
    let limit = config.limits.max_head_bytes;
    match &whole {
        Ok(None) => {
            assert!(stream.len() < limit, "{} bytes held waiting", stream.len());
            let has_end = stream.windows(2).any(|w| w == b"\n\n")
                || stream.windows(3).any(|w| w == b"\n\r\n");
            assert!(!has_end, "a complete head got no answer");
        }
        Ok(Some(upgrade)) => check_upgrade(upgrade, stream),
        Err(rejection) => check_rejection(rejection),
    }
}

fn check_upgrade(upgrade: &Upgrade, stream: &[u8]) {
    let text = String::from_utf8_lossy(&upgrade.response);
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(text.ends_with("\r\n\r\n"));
    assert_eq!(
        text.contains(PMC_LINE),
        upgrade.compression == Compression::Negotiated
    );
    let accept = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Accept: "))
        .unwrap_or_else(|| panic!("no accept key in {text:?}"));
    // The accept key hashes some Sec-WebSocket-Key value that was sent.
    let sent = stream
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = line.split_at(colon);
            let name = String::from_utf8_lossy(name);
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value[1..].trim_ascii().to_vec())
        })
        .any(|key| accept_key(&key) == accept);
    assert!(sent, "accept key {accept} hashes no key that was sent");
}

fn check_rejection(rejection: &Rejection) {
    let status = rejection.error.status();
    assert!(
        [200, 307, 400, 403, 404, 405, 431, 505].contains(&status),
        "undocumented status {status}"
    );
    let response = rejection.response(HttpDate::from_unix(1_700_000_000));
    if rejection.error == HandshakeError::DataBeforeHandshake {
        assert!(response.is_empty());
        return;
    }
    let text = String::from_utf8_lossy(&response);
    let first = text.lines().next().unwrap_or_default();
    let code = first.split(' ').nth(1).unwrap_or_default();
    assert_eq!(code, status.to_string(), "status line {first:?}");
    assert!(text.contains("\r\n\r\n"), "response head not terminated");
}

/// Extension offers, `\n`-separated into `Sec-WebSocket-Extensions` lines (first byte:
/// bit 0 compression on/off, bit 1 header name case). Oracle: the 101 carries the
/// permessage-deflate line iff compression is on and some `,`-separated extension has a
/// `;`-separated, space/tab-trimmed parameter equal to `permessage-deflate` under Go's
/// `strings.EqualFold` — judged here independently of `validate::pmc_offer`. (Rust's
/// case mappings agree with Go's folding for the letters of `permessage-deflate`: the
/// non-ASCII ones that fold to them are U+017F for `s` in both.)
pub fn extensions(data: &[u8]) {
    let Some((&options, offers)) = data.split_first() else {
        return;
    };
    let compression = options & 1 != 0;
    let name = if options & 2 == 0 {
        "Sec-WebSocket-Extensions"
    } else {
        "sec-websocket-extensions"
    };
    // Header values cannot hold CR, LF or other control bytes: drop them.
    let values: Vec<Vec<u8>> = offers
        .split(|&b| b == b'\n')
        .map(|v| {
            v.iter()
                .copied()
                .filter(|&b| (b >= 0x20 || b == b'\t') && b != 0x7f)
                .collect()
        })
        .collect();
    let mut request = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n".to_vec();
    for v in &values {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(v);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let config = Arc::new(HandshakeConfig {
        compression,
        ..HandshakeConfig::default()
    });
    let (result, _) = feed(&config, &[&request]);
    let upgrade = match result {
        Ok(Some(u)) => u,
        Err(r) if r.error == HandshakeError::HeadTooLarge => return,
        other => panic!("a valid upgrade was refused: {other:?}"),
    };
    let offered = values.iter().any(|v| offers_pmc(v));
    let text = String::from_utf8_lossy(&upgrade.response);
    assert_eq!(
        text.contains(PMC_LINE),
        compression && offered,
        "negotiation of {values:?}"
    );
    assert_eq!(
        upgrade.compression == Compression::Negotiated,
        compression && offered
    );
    let pmc = crate::handshake::validate::pmc_offer(values.iter().map(|v| &v[..]));
    assert_eq!(pmc.is_some(), offered);
}

/// Go `wsPMCExtensionSupport`'s question: does any parameter of any extension equal
/// `permessage-deflate` (Go `strings.EqualFold`: simple Unicode case folding)?
fn offers_pmc(value: &[u8]) -> bool {
    let trim = |s: &[u8]| -> Vec<u8> {
        let mut s = s;
        while let [b' ' | b'\t', rest @ ..] = s {
            s = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = s {
            s = rest;
        }
        s.to_vec()
    };
    value.split(|&b| b == b',').any(|ext| {
        trim(ext)
            .split(|&b| b == b';')
            .any(|p| fold_equal(&trim(p), "permessage-deflate"))
    })
}

fn fold_equal(bytes: &[u8], ascii: &str) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut want = ascii.chars();
    for c in s.chars() {
        let Some(w) = want.next() else { return false };
        let same = c == w
            || c.to_lowercase().eq(w.to_lowercase())
            || c.to_uppercase().eq(w.to_uppercase());
        if !same {
            return false;
        }
    }
    want.next().is_none()
}
