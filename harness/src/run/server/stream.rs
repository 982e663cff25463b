//! Expectations on a connection's byte stream, shared by WebSocket and NATS connections.

use std::time::Duration;

use crate::fixture::StreamExpect;
use crate::peer::ReadEnd;
use crate::run::server::wait;
use crate::transcript::show;

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn line_end(b: &[u8]) -> Option<usize> {
    find(b, b"\r\n").map(|p| p + 2)
}

/// Waits for a stream expectation; returns bytes consumed and a transcript line.
pub(super) fn expect_stream(
    spec: &StreamExpect,
    mut read: impl FnMut(Duration, &mut dyn FnMut(&[u8]) -> bool) -> Result<bool, String>,
    snapshot: impl Fn() -> (Vec<u8>, Option<ReadEnd>),
) -> Result<(usize, String), String> {
    let timeout = wait(spec.within_ms);
    if spec.nothing {
        read(timeout, &mut |u| !u.is_empty())?;
        let (unread, _) = snapshot();
        return if unread.is_empty() {
            Ok((0, "nothing".to_owned()))
        } else {
            Err(format!("unexpected data {}", show(&unread)))
        };
    }
    if let Some(data) = &spec.data {
        let want = data.build().map_err(|e| e.to_string())?;
        read(timeout, &mut |u| u.len() >= want.len())?;
        let (unread, ended) = snapshot();
        return if unread.starts_with(&want) {
            Ok((want.len(), format!("data {}", show(&want))))
        } else {
            Err(format!(
                "expected {}, got {} (ended {ended:?})",
                show(&want),
                show(&unread)
            ))
        };
    }
    if let Some(text) = &spec.contains {
        let needle = text.as_bytes().to_vec();
        read(timeout, &mut |u| find(u, &needle).is_some())?;
        let (unread, ended) = snapshot();
        return match find(&unread, &needle) {
            Some(at) => Ok((at + needle.len(), format!("contains {}", show(&needle)))),
            None => Err(format!(
                "expected {text:?}, got {} (ended {ended:?})",
                show(&unread)
            )),
        };
    }
    if let Some((text, n)) = &spec.count {
        let needle = text.as_bytes().to_vec();
        let count = |u: &[u8]| {
            u.windows(needle.len())
                .filter(|w| *w == &needle[..])
                .count()
        };
        read(timeout, &mut |u| count(u) >= *n)?;
        let (unread, ended) = snapshot();
        let got = count(&unread);
        return if got >= *n {
            Ok((unread.len(), format!("{n} x {text:?}")))
        } else {
            Err(format!(
                "expected {n} x {text:?}, got {got} (ended {ended:?})"
            ))
        };
    }
    Err("stream expectation needs data, contains, count or nothing".to_owned())
}
