//! Checks a complete request in Go's order (`ServeMux`, then `wsUpgrade`) and builds the upgrade.

use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};

use super::gonet;
use super::request::Request;
use super::response;
use super::{AuthCookies, CookieNames, HandshakeConfig, HandshakeError, Upgrade, UpgradeKind};
use crate::policy::{Compression, Framing, MaskPolicy};

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits accepted.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Validates `request` as Go's websocket HTTP handler would and returns the upgrade.
pub fn validate(
    config: &HandshakeConfig,
    request: &Request,
    remote_addr: &str,
) -> Result<Upgrade, HandshakeError> {
    let escaped_path = serve_mux(request)?;
    // Go: wsUpgrade.
    let kind = if escaped_path.ends_with(b"/leafnode") {
        UpgradeKind::Leaf
    } else if escaped_path.ends_with(b"/mqtt") {
        UpgradeKind::Mqtt
    } else {
        UpgradeKind::Client
    };
    if kind == UpgradeKind::Mqtt && !config.mqtt_enabled {
        return Err(HandshakeError::MqttNotEnabled);
    }
    // RFC 6455 §4.2.1 points 1-6.
    if request.method != "GET" {
        return Err(HandshakeError::MethodNotGet);
    }
    if request.host().is_empty() {
        return Err(HandshakeError::HostMissing);
    }
    if !header_contains(request, "Upgrade", "websocket") {
        return Err(HandshakeError::InvalidUpgradeHeader);
    }
    if !header_contains(request, "Connection", "Upgrade") {
        return Err(HandshakeError::InvalidConnectionHeader);
    }
    let key = request.header("Sec-Websocket-Key");
    if key.is_empty() {
        return Err(HandshakeError::KeyMissing);
    }
    if GO_STD_BASE64.decode(key).map_or(true, |k| k.len() != 16) {
        return Err(HandshakeError::InvalidKey);
    }
    if !header_contains(request, "Sec-Websocket-Version", "13") {
        return Err(HandshakeError::InvalidVersion);
    }
    // Point 7 (optional): origin. Point 8: no subprotocols. Point 9: only permessage-deflate.
    config.origin.check(request, config.tls)?;
    let compression = if config.compression
        && pmc_offer(request.header_values("Sec-Websocket-Extensions")).is_some()
    {
        Compression::Negotiated
    } else {
        Compression::Off
    };
    let mask = if config.accept_no_masking && request.header("Nats-No-Masking") == b"true" {
        MaskPolicy::Exempt
    } else {
        MaskPolicy::Required
    };
    if !request.trailing.is_empty() {
        return Err(HandshakeError::DataBeforeHandshake);
    }
    let accept = response::accept_key(key);
    let response = response::switching_protocols(
        &accept,
        compression,
        mask,
        kind == UpgradeKind::Mqtt,
        &config.headers,
    );
    // Go: only the first value counts, and only if it is an IP address.
    let client_ip = request
        .header_values("X-Forwarded-For")
        .next()
        .and_then(|v| std::str::from_utf8(v).ok())
        .filter(|v| gonet::is_ip(v))
        .map(str::to_owned);
    let (framing, cookies) = match kind {
        UpgradeKind::Client | UpgradeKind::Mqtt => (
            framing(request, compression),
            cookies(request, &config.cookie_names),
        ),
        UpgradeKind::Leaf => (Framing::Whole, AuthCookies::default()),
    };
    Ok(Upgrade {
        kind,
        mask,
        compression,
        framing,
        cookies,
        client_ip,
        remote_addr: remote_addr.to_owned(),
        response,
    })
}

/// Go's `serverHandler` and `ServeMux` before our handler runs: `*`, CONNECT to an
/// authority, unclean paths.
/// Returns the escaped path.
fn serve_mux(request: &Request) -> Result<Vec<u8>, HandshakeError> {
    if request.target == b"*" && request.method == "OPTIONS" {
        return Err(HandshakeError::OptionsAsterisk);
    }
    if request.target == b"*" {
        return Err(HandshakeError::AsteriskTarget);
    }
    let escaped = request.url.escaped_path();
    if request.method == "CONNECT" {
        // CONNECT paths are not cleaned; an authority-form target has none and matches nothing.
        return if escaped.is_empty() {
            Err(HandshakeError::ConnectNotFound)
        } else {
            Ok(escaped)
        };
    }
    let clean = gonet::clean_path(&escaped);
    if clean != escaped {
        let mut location = clean;
        if !request.url.raw_query.is_empty() {
            location.push(b'?');
            location.extend_from_slice(&request.url.raw_query);
        }
        return Err(HandshakeError::NotCleanPath {
            location: hex_escape_non_ascii(&location),
        });
    }
    Ok(escaped)
}

/// Go: `hexEscapeNonASCII`, as `http.Redirect` applies it to `Location`.
fn hex_escape_non_ascii(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Go: `wsHeaderContains`: some comma-separated, space/tab-trimmed token of some value of
/// `name` equals `token` case-insensitively.
pub fn header_contains(request: &Request, name: &str, token: &str) -> bool {
    request.header_values(name).any(|v| {
        v.split(|&b| b == b',')
            .any(|t| equal_fold(trim_space_tab(t), token))
    })
}

/// Go: `wsPMCExtensionSupport`. `None`: no `permessage-deflate` among the offered
/// extensions' parameters; `Some(true)` if both no-context-takeover parameters follow it.
pub fn pmc_offer<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<bool> {
    for list in values {
        for extension in list.split(|&b| b == b',') {
            let params: Vec<&[u8]> = trim_space_tab(extension).split(|&b| b == b';').collect();
            for (i, p) in params.iter().enumerate() {
                if !equal_fold(trim_space_tab(p), "permessage-deflate") {
                    continue;
                }
                let (mut snc, mut cnc) = (false, false);
                for q in params.iter().skip(i + 1).map(|q| trim_space_tab(q)) {
                    snc |= equal_fold(q, "server_no_context_takeover");
                    cnc |= equal_fold(q, "client_no_context_takeover");
                }
                return Some(snc && cnc);
            }
        }
    }
    None
}

fn trim_space_tab(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// Go's `strings.EqualFold` against an ASCII `target`: besides ASCII case, U+212A KELVIN
/// SIGN folds to `k` and U+017F LONG S to `s`.
pub(crate) fn equal_fold(value: &[u8], target: &str) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut t = target.chars();
    for c in value.chars() {
        let Some(want) = t.next() else { return false };
        let ok = match c {
            '\u{212A}' => want.eq_ignore_ascii_case(&'k'),
            '\u{017F}' => want.eq_ignore_ascii_case(&'s'),
            c => c.eq_ignore_ascii_case(&want),
        };
        if !ok {
            return false;
        }
    }
    t.next().is_none()
}

/// Go: `browser` = `User-Agent` starts with `Mozilla/`; `nocompfrag` = compressing and the
/// agent also has `Version/` and `Safari/` (real Safari, not Chrome on macOS).
fn framing(request: &Request, compression: Compression) -> Framing {
    let ua = request.header("User-Agent");
    if !ua.starts_with(b"Mozilla/") {
        return Framing::Whole;
    }
    let has = |needle: &[u8]| ua.windows(needle.len()).any(|w| w == needle);
    match compression {
        Compression::Negotiated if has(b"Version/") && has(b"Safari/") => Framing::Safari,
        Compression::Negotiated | Compression::Off => Framing::Browser,
    }
}

/// Go: `r.Cookies()` (RFC 6265 §4.2.1, as `net/http` reads it) matched against the
/// configured names; a later cookie of the same name wins.
fn cookies(request: &Request, names: &CookieNames) -> AuthCookies {
    let mut found = AuthCookies::default();
    let is = |n: &Option<String>, name: &str| n.as_deref() == Some(name);
    for (name, value) in request.header_values("Cookie").flat_map(parse_cookie_line) {
        let slot = if is(&names.jwt, &name) {
            &mut found.jwt
        } else if is(&names.username, &name) {
            &mut found.username
        } else if is(&names.password, &name) {
            &mut found.password
        } else if is(&names.token, &name) {
            &mut found.token
        } else {
            continue;
        };
        // Go stores "" for an empty value, which its callers treat as absent.
        *slot = Some(value).filter(|v| !v.is_empty());
    }
    found
}

/// Go: `readCookies` for one `Cookie` line: `;`-separated `name=value` pairs; invalid
/// names or values are skipped; one pair of surrounding double quotes is removed.
fn parse_cookie_line(line: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in line.split(|&b| b == b';') {
        let part = trim_textproto(part);
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (
                part.get(..i).unwrap_or_default(),
                part.get(i + 1..).unwrap_or_default(),
            ),
            None => (part, &b""[..]),
        };
        let name = trim_textproto(name);
        if name.is_empty() || !name.iter().all(|&b| gonet::is_token_byte(b)) {
            continue;
        }
        let value = match value {
            [b'"', inner @ .., b'"'] => inner,
            v => v,
        };
        if !value
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b';' | b'\\'))
        {
            continue;
        }
        // Both are ASCII here.
        out.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    out
}

/// Go: `textproto.TrimString` (ASCII space, tab, CR, LF).
fn trim_textproto(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn header_tokens() {
        assert!(equal_fold(b"WebSocket", "websocket"));
        assert!(equal_fold("web\u{17F}oc\u{212A}et".as_bytes(), "websocket"));
        assert!(!equal_fold(b"websocket2", "websocket"));
        assert!(!equal_fold(b"websocke", "websocket"));
        assert!(!equal_fold(b"\xffebsocket", "websocket"));
    }

    #[test]
    fn pmc_offer_like_go() {
        let offer = |v: &[&str]| pmc_offer(v.iter().map(|s| s.as_bytes()));
        assert_eq!(offer(&[]), None);
        assert_eq!(offer(&["permessage-deflate"]), Some(false));
        assert_eq!(
            offer(&["x-foo, Permessage-Deflate; client_max_window_bits"]),
            Some(false)
        );
        assert_eq!(
            offer(&[
                "permessage-deflate; server_no_context_takeover ;\tclient_no_context_takeover"
            ]),
            Some(true)
        );
        // Go looks at every parameter, not only the extension name.
        assert_eq!(offer(&["x-foo; permessage-deflate"]), Some(false));
        assert_eq!(offer(&["x-foo", "deflate-frame"]), None);
        assert_eq!(
            offer(&["client_no_context_takeover; permessage-deflate; server_no_context_takeover"]),
            Some(false)
        );
    }

    #[test]
    fn cookie_lines_like_go() {
        let c = |s: &str| parse_cookie_line(s.as_bytes());
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(c("a=1; b=2"), vec![pair("a", "1"), pair("b", "2")]);
        assert_eq!(c("  a=\"quoted\" ;;"), vec![pair("a", "quoted")]);
        // Go trims the name but not the value, so a space before the quote makes it invalid.
        assert_eq!(c("a = \"quoted\""), vec![]);
        assert_eq!(c("a=\"x"), vec![]);
        assert_eq!(c("a=x\\y; b=ok"), vec![pair("b", "ok")]);
        assert_eq!(c("a b=1; =2; c"), vec![pair("c", "")]);
        assert_eq!(c("a= sp ace"), vec![pair("a", " sp ace")]);
        assert_eq!(c("a=\u{e9}"), vec![]);
        assert_eq!(c("a=\"\""), vec![pair("a", "")]);
    }

    #[test]
    fn hex_escape() {
        assert_eq!(hex_escape_non_ascii("/x\u{e9}?q".as_bytes()), "/x%C3%A9?q");
    }
}
