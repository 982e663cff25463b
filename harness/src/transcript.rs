//! Golden transcripts: one line per event, readable, stable across deflate libraries.

use std::fmt::Write;

use nats_ws::frame::OpCode;

use crate::fixture::FrameSpec;
use crate::peer::frames::{WireFrame, spec_frame, split};

/// Payload bytes shown in full up to this size; longer ones show a prefix, length and hash.
const SHOWN: usize = 64;

/// An ordered list of lines.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    /// Adds a line.
    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// A frame in direction `dir` (`>` client to server, `<` server to client).
    pub fn frame(&mut self, dir: char, f: &WireFrame) {
        self.line(format!("{dir} {}", describe_frame(f)));
    }

    /// Every frame of server output, then the inflated content of each compressed
    /// message (deflate bytes differ between libraries; the inflated bytes must not).
    pub fn server_output(&mut self, bytes: &[u8]) {
        let output = match split(bytes) {
            Ok(output) => output,
            Err(e) => return self.line(format!("< !! {e}")),
        };
        // Frames of a compressed message show no payload: deflate bytes depend on the
        // library; the inflated message is shown below instead.
        let mut compressed = false;
        for f in &output.frames {
            if !f.header.opcode.is_control() && f.header.opcode != OpCode::Continuation {
                compressed = f.header.rsv1;
            }
            if compressed && !f.header.opcode.is_control() {
                let bare = WireFrame {
                    payload: Vec::new(),
                    ..f.clone()
                };
                self.line(format!("< {} (deflate data)", describe_frame(&bare)));
            } else {
                self.frame('<', f);
            }
        }
        match output.messages {
            Ok(ms) => {
                for (i, m) in ms.iter().enumerate().filter(|(_, m)| m.compressed) {
                    self.line(format!("<   message {i} inflated {}", show(&m.data)));
                }
            }
            Err(e) => self.line(format!("< !! {e}")),
        }
    }

    /// The transcript as text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// A fixture frame's bytes, and its transcript line: `> ` then as [`describe_frame`], with
/// the payload before deflate and masking.
pub fn sent_frame(spec: &FrameSpec) -> Result<(Vec<u8>, String), String> {
    let f = spec_frame(spec)?;
    let h = f.header;
    let mut line = format!(
        "> {} {} rsv={}{}{}",
        f.raw_opcode
            .map_or_else(|| h.opcode.name().to_owned(), |r| format!("opcode{r}")),
        if h.fin { "fin" } else { "nofin" },
        u8::from(h.rsv1),
        u8::from(spec.rsv2),
        u8::from(spec.rsv3)
    );
    if let Some(k) = h.mask {
        line.push_str(&format!(" mask={}", hex(&k)));
    }
    line.push_str(&format!(
        " len={} hdr=[{}]",
        h.payload_len,
        hex_spaced(&f.raw_header)
    ));
    if spec.compress {
        line.push_str(&format!(" deflated {}", show(&f.clear)));
    } else if let Some(close) = &spec.close {
        line.push_str(&format!(
            " code={} reason={}",
            close.code,
            show(f.clear.get(2..).unwrap_or_default())
        ));
    } else if !f.clear.is_empty() {
        line.push_str(&format!(" {}", show(&f.clear)));
    }
    if let Some(cut) = spec.truncate {
        line.push_str(&format!(" (first {cut} bytes sent)"));
    }
    Ok((f.bytes, line))
}

/// `binary fin rsv=100 mask=01020304 len=5 hdr=[82 85 01 02 03 04] "hello"`.
pub fn describe_frame(f: &WireFrame) -> String {
    let h = &f.header;
    let mut s = format!(
        "{} {} rsv={}00",
        h.opcode.name(),
        if h.fin { "fin" } else { "nofin" },
        u8::from(h.rsv1)
    );
    if let Some(k) = h.mask {
        let _ = write!(s, " mask={}", hex(&k));
    }
    let _ = write!(
        s,
        " len={} hdr=[{}]",
        h.payload_len,
        hex_spaced(&f.raw_header)
    );
    if h.opcode == OpCode::Close {
        match f.payload.as_slice() {
            [] => s.push_str(" (no status)"),
            [a, b, reason @ ..] => {
                let _ = write!(
                    s,
                    " code={} reason={}",
                    u16::from_be_bytes([*a, *b]),
                    show(reason)
                );
            }
            other => {
                let _ = write!(s, " payload={}", show(other));
            }
        }
    } else if !f.payload.is_empty() {
        let _ = write!(s, " {}", show(&f.payload));
    }
    s
}

/// Escaped text when printable, else hex; long payloads abbreviated with length and hash.
pub fn show(bytes: &[u8]) -> String {
    let (head, tail) = if bytes.len() > SHOWN {
        (&bytes[..SHOWN], true)
    } else {
        (bytes, false)
    };
    let printable = head
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\r' | b'\n' | b'\t'));
    let mut s = if printable {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        format!("hex:{}", hex(head))
    };
    if tail {
        let _ = write!(
            s,
            "... ({} bytes, fnv1a={:016x})",
            bytes.len(),
            fnv1a(bytes)
        );
    }
    s
}

/// Lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Lower-case hex, space separated.
pub fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// 64-bit FNV-1a: a stable fingerprint for long payloads in transcripts.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
