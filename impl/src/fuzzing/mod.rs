//! Fuzz entry points and their oracles, shared by the `fuzz/` targets and the regression
//! replay in `cargo test` (`impl/tests/fuzz_regressions.rs`). Not a stable API.
//!
//! Every `pub fn <target>(data: &[u8])` here is one cargo-fuzz target: it never returns an
//! error, it panics (with the reason) when an oracle fails. Raw-byte targets compile
//! always, so an ordinary `cargo test` on stable replays their regressions; the targets
//! with structured inputs (`arbitrary`) need the `fuzzing` feature. The oracles compare
//! the core with independent judges written here ([`mod@reference`]), never with itself.

mod client_upgrade;
mod close;
mod conf;
mod connection;
mod decoder;
mod handshake;
mod mask;
mod mqtt;
mod nats;
pub mod reference;

#[cfg(feature = "fuzzing")]
mod inflate;
#[cfg(feature = "fuzzing")]
mod outbound;
#[cfg(feature = "fuzzing")]
mod roundtrip;
#[cfg(feature = "fuzzing")]
mod tungstenite;

pub mod spec;

pub use client_upgrade::ws_client_upgrade;
pub use close::close_payload;
pub use conf::conf;
pub use connection::connection;
pub use decoder::{frame_decoder, frame_decoder_chunked};
pub use handshake::{extensions, handshake};
pub use mask::{mask, naive_masked_frame};
pub use mqtt::mqtt_packet;
pub use nats::{leaf_protocol, nats_parser};

#[cfg(feature = "fuzzing")]
pub use inflate::{inflate, inflate_spec};
#[cfg(feature = "fuzzing")]
pub use outbound::{outbound, outbound_spec};
#[cfg(feature = "fuzzing")]
pub use roundtrip::{frame_roundtrip, roundtrip_spec};
#[cfg(feature = "fuzzing")]
pub use tungstenite::{TheirHeader, frame_header_vs_tungstenite};

/// A fuzz target: its name and entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target that takes raw bytes, by name, for replaying a directory of inputs.
pub const RAW_TARGETS: &[Target] = &[
    ("frame_decoder", frame_decoder),
    ("frame_decoder_chunked", frame_decoder_chunked),
    ("close_payload", close_payload),
    ("mask", mask),
    ("handshake", handshake),
    ("extensions", extensions),
    ("conf", conf),
    ("nats_parser", nats_parser),
    ("leaf_protocol", leaf_protocol),
    ("mqtt_packet", mqtt_packet),
    ("connection", connection),
    ("ws_client_upgrade", ws_client_upgrade),
];

/// The targets whose input is decoded with `arbitrary` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub const STRUCTURED_TARGETS: &[Target] = &[
    ("frame_roundtrip", frame_roundtrip),
    ("inflate", inflate),
    ("outbound", outbound),
];

/// Splits `stream` into the reads a socket might deliver: the sizes come from `sizes`,
/// used in turn and cycled (a zero is an empty read); no sizes means one read.
pub fn segments<'a>(stream: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    if sizes.is_empty() {
        return vec![stream];
    }
    let mut out = Vec::new();
    let mut rest = stream;
    let mut empties = 0;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        // A few empty reads are interesting; after that a zero means one byte.
        if size == 0 && empties < 4 {
            empties += 1;
            out.push(&rest[..0]);
            continue;
        }
        let (now, later) = rest.split_at(usize::from(size).clamp(1, rest.len()));
        out.push(now);
        rest = later;
    }
    out
}

/// `[options][n][n segment sizes][stream]`, the layout of the chunked targets.
pub(crate) fn split_input(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let Some((&options, rest)) = data.split_first() else {
        return (0, &[], &[]);
    };
    let Some((&n, rest)) = rest.split_first() else {
        return (options, &[], &[]);
    };
    let (sizes, stream) = rest.split_at(usize::from(n).min(rest.len()));
    (options, sizes, stream)
}
