//! The leafnode ops of [`Dialect::Leaf`](super::Dialect::Leaf): what a leaf peer sends
//! (Go: `processLeafSub`, `processLeafUnsub`, `processLeafMsgArgs`,
//! `processLeafHeaderMsgArgs` in `leafnode.go`), with Go's error texts.

use super::{ParseError, PubArgs, parse_size, range_of};
use crate::nats::NatsError;

/// One leafnode op.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeafOp<'a> {
    /// `LS+ <subject>` or `LS+ <subject> <queue> <weight>`.
    Sub {
        /// Subject (may hold wildcards).
        subject: &'a [u8],
        /// Queue group and its weight (Go: `qw`, the number of members behind it; a weight
        /// that is not a number is -1, as Go's `parseSize` gives).
        queue: Option<(&'a [u8], i32)>,
        /// The interest key: the argument without the weight (Go: `sub.sid`), which the
        /// matching `LS-` names.
        key: &'a [u8],
    },
    /// `LS- <key>`: the key as received (Go looks it up as is).
    Unsub {
        /// `<subject>` or `<subject> <queue>`.
        key: &'a [u8],
    },
    /// `LMSG` or `HMSG` with its payload.
    Msg(LeafMsg<'a>),
}

/// A message from a leaf peer: `LMSG <subject> [reply] <size>`,
/// `LMSG <subject> + <reply> <queues...> <size>`, `LMSG <subject> | <queues...> <size>`,
/// and the `HMSG` forms with a header size before the size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafMsg<'a> {
    /// Subject.
    pub subject: &'a [u8],
    /// Reply subject.
    pub reply: Option<&'a [u8]>,
    /// The queue groups the sender chose this side for, space separated (iterate with
    /// [`LeafMsg::queues`]); `None` when the message names none.
    pub queues: Option<&'a [u8]>,
    /// Header length (HMSG).
    pub header_len: Option<usize>,
    /// Headers and body, without the trailing `\r\n`.
    pub payload: &'a [u8],
}

impl<'a> LeafMsg<'a> {
    /// The queue group names the message carries (none for a plain message).
    pub fn queues(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.queues
            .unwrap_or_default()
            .split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .filter(|q| !q.is_empty())
    }
}

/// Go: `processLeafSub` argument handling.
pub(super) fn parse_sub<E>(arg: &[u8]) -> Result<LeafOp<'_>, ParseError<E>> {
    let mut fields = fields(arg);
    let (first, second, third, extra) =
        (fields.next(), fields.next(), fields.next(), fields.next());
    match (first, second, third, extra) {
        (Some(subject), None, None, None) => Ok(LeafOp::Sub {
            subject,
            queue: None,
            key: arg,
        }),
        (Some(subject), Some(queue), Some(weight), None) => {
            let w = parse_size(weight)
                .and_then(|w| i32::try_from(w).ok())
                .unwrap_or(-1);
            // Go: sub.sid = arg[:len(arg)-len(args[2])-1].
            let key_len = range_of(arg, weight).start.saturating_sub(1);
            Ok(LeafOp::Sub {
                subject,
                queue: Some((queue, w)),
                key: arg.get(..key_len).unwrap_or_default(),
            })
        }
        _ => Err(raw_error("processLeafSub Parse Error", arg)),
    }
}

/// Go: `processLeafMsgArgs` / `processLeafHeaderMsgArgs` (ranges relative to `arg`).
/// Any number of queue names: the fields are counted, then picked by position, so
/// nothing is allocated.
pub(super) fn parse_msg_args<E>(headers: bool, arg: &[u8]) -> Result<PubArgs, ParseError<E>> {
    let what = if headers {
        "processLeafHeaderMsgArgs"
    } else {
        "processLeafMsgArgs"
    };
    let n = fields(arg).count();
    let at = |i: usize| fields(arg).nth(i).unwrap_or_default();
    let r = |p: &[u8]| range_of(arg, p);
    // Fields after the subject and before the size(s).
    let sizes = if headers { 2 } else { 1 };
    if n < 1 + sizes {
        return Err(list_error(&format!("{what} Parse Error"), arg));
    }
    let (reply, queues) = if n <= 2 + sizes {
        // `subject [reply] [hdr] size`.
        ((n == 2 + sizes).then(|| r(at(1))), None)
    } else {
        // Go: args[1] is the reply indicator, `+` or `|`.
        let indicator = at(1);
        let (reply, first_queue) = match indicator {
            b"+" => (Some(r(at(2))), 3),
            b"|" => (None, 2),
            _ => {
                return Err(ParseError::Protocol(NatsError::Args(format!(
                    "{what} Bad or Missing Reply Indicator: '{}'",
                    String::from_utf8_lossy(indicator)
                ))));
            }
        };
        let last_queue = n - sizes; // exclusive
        let queues = if first_queue < last_queue {
            Some(r(at(first_queue)).start..r(at(last_queue - 1)).end)
        } else {
            // Go: an empty queue list (`LMSG subj + reply size`).
            None
        };
        (reply, queues)
    };
    let size_field = at(n - 1);
    let header_len = if headers {
        let hdr_field = at(n - 2);
        match parse_size(hdr_field) {
            Some(h) => Some(h),
            None => {
                return Err(raw_error(
                    &format!("{what} Bad or Missing Header Size"),
                    arg,
                ));
            }
        }
    } else {
        None
    };
    let Some(size) = parse_size(size_field) else {
        return Err(list_error(&format!("{what} Bad or Missing Size"), arg));
    };
    if header_len.is_some_and(|h| h > size) {
        return Err(raw_error(
            &format!("{what} Header Size larger then TotalSize"),
            arg,
        ));
    }
    Ok(PubArgs {
        subject: r(at(0)),
        reply,
        queues,
        header_len,
        size,
    })
}

/// Go's `splitArg` fields.
fn fields(arg: &[u8]) -> impl Iterator<Item = &[u8]> {
    arg.split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|a| !a.is_empty())
}

/// Go: `fmt.Errorf("... '%s'", arg)` with the raw argument.
fn raw_error<E>(what: &str, arg: &[u8]) -> ParseError<E> {
    ParseError::Protocol(NatsError::Args(format!(
        "{what}: '{}'",
        String::from_utf8_lossy(arg)
    )))
}

/// Go: `fmt.Errorf("... '%s'", args)` with the split arguments (`[a b c]`).
fn list_error<E>(what: &str, arg: &[u8]) -> ParseError<E> {
    let list = fields(arg)
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    ParseError::Protocol(NatsError::Args(format!("{what}: '[{list}]'")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
