//! The NATS protocol parser targets (client and leafnode dialects), fed across read
//! (frame) boundaries as Go's `FuzzParser` feeds its two halves.

use std::convert::Infallible;

use super::{segments, split_input};
use crate::nats::Parser;
use crate::nats::parser::ParseError;

/// The kind of error a parse ended with: the variant only, since Go's unknown-operation
/// text quotes the current read (`state` and snippet depend on the split, as in Go).
type ErrorKind = std::mem::Discriminant<crate::nats::NatsError>;

/// What a parse produced: each op (its debug form, which owns nothing) and the error.
fn parse(
    new: fn(i64, usize) -> Parser,
    reads: &[&[u8]],
    max_payload: i64,
    max_control_line: usize,
) -> (Vec<String>, Option<ErrorKind>) {
    let mut parser = new(max_payload, max_control_line);
    let mut ops = Vec::new();
    // Buffers hold at most a control line and a payload (each at most twice over, as
    // vectors grow by doubling). Without a payload limit (`max_payload` < 0), a payload is
    // buffered as its bytes arrive, so it is bounded by the input, never by the announced
    // size.
    let input_len: usize = reads.iter().map(|r| r.len()).sum();
    let payload_bound = usize::try_from(max_payload).unwrap_or(input_len);
    // A leaf parser's control lines may be 16 times longer.
    let bound =
        4 * (crate::nats::parser::LEAF_CONTROL_LINE_FACTOR * max_control_line + payload_bound + 64);
    for read in reads {
        let mut handler = |op: crate::nats::Op<'_>| -> Result<(), Infallible> {
            ops.push(format!("{op:?}"));
            Ok(())
        };
        let result = parser.parse(read, &mut handler);
        assert!(
            parser.buffered() <= bound,
            "{} bytes buffered, bound {bound}",
            parser.buffered()
        );
        match result {
            Ok(()) => {}
            Err(ParseError::Protocol(e)) => return (ops, Some(std::mem::discriminant(&e))),
            Err(ParseError::Handler(never)) => match never {},
        }
    }
    (ops, None)
}

/// `[options][n][n read sizes][protocol bytes]`; options pick small or default limits.
/// Oracles: no panic; the ops and the kind of error are the same for any split of the bytes as
/// for one read; buffered memory stays within the limits.
pub fn nats_parser(data: &[u8]) {
    split_invariance(Parser::new, data);
}

/// The leafnode dialect (`LS+`, `LS-`, `LMSG`, `HMSG` and the shared ops), with the
/// same input layout and oracles as [`nats_parser`].
pub fn leaf_protocol(data: &[u8]) {
    split_invariance(Parser::leaf, data);
}

fn split_invariance(new: fn(i64, usize) -> Parser, data: &[u8]) {
    let (options, sizes, stream) = split_input(data);
    let (max_payload, max_control_line) = match options & 3 {
        0 => (1024 * 1024, 4096),
        1 => (64, 64),
        2 => (-1, 256),
        _ => (0, 32),
    };
    let reads = segments(stream, sizes);
    let whole = parse(new, &[stream], max_payload, max_control_line);
    let split = parse(new, &reads, max_payload, max_control_line);
    assert_eq!(split, whole, "parse depends on how the bytes were split");
    // Go's FuzzParser: the two halves.
    let (a, b) = stream.split_at(stream.len() / 2);
    assert_eq!(
        parse(new, &[a, b], max_payload, max_control_line),
        whole,
        "halves"
    );
}
