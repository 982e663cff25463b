//! Verifying subscribers' view of the NATS byte stream: every `MSG` is checked whole
//! (control line and every payload byte) before it is counted, across any split.

/// What the stream must carry: `MSG <subject> <sid> <len>\r\n<payload>\r\n`, repeated.
#[derive(Debug, Clone)]
pub struct Expect {
    line: Vec<u8>,
    payload: Vec<u8>,
}

impl Expect {
    /// Messages on `subject` for subscription `sid` carrying exactly `payload`.
    pub fn new(subject: &str, sid: &str, payload: &[u8]) -> Expect {
        Expect {
            line: format!("MSG {subject} {sid} {}\r\n", payload.len()).into_bytes(),
            payload: payload.to_vec(),
        }
    }
}

/// Something other than an expected message: a generic `MSG` (collected), or a protocol
/// line the caller may care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `PING` from the server.
    Ping,
    /// `PONG` from the server.
    Pong,
    /// A message in collect mode: subject, reply, payload.
    Msg {
        /// Subject.
        subject: Vec<u8>,
        /// Reply subject.
        reply: Option<Vec<u8>>,
        /// Payload.
        payload: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
enum State {
    /// Collecting a control line.
    Line,
    /// Comparing payload bytes: `at` bytes of the expected payload matched so far.
    Payload { at: usize },
    /// Collecting a payload of `len` bytes (collect mode).
    Collect {
        len: usize,
        subject: Vec<u8>,
        reply: Option<Vec<u8>>,
    },
    /// The `\r\n` after a payload; `seen` bytes of it so far.
    Trailer { seen: usize },
}

/// An incremental scanner: in expect mode it counts verified messages without copying
/// them; in collect mode it returns each message.
#[derive(Debug, Clone)]
pub struct Scanner {
    expect: Option<Expect>,
    state: State,
    line: Vec<u8>,
    body: Vec<u8>,
    /// Verified messages so far.
    pub count: u64,
    /// Payload bytes verified so far.
    pub bytes: u64,
}

impl Scanner {
    /// Expect mode: only `expect`'s messages are allowed (INFO, PING, PONG, +OK aside).
    pub fn expecting(expect: Expect) -> Scanner {
        Scanner {
            expect: Some(expect),
            ..Scanner::collecting()
        }
    }

    /// Collect mode: any `MSG` is returned as an event.
    pub fn collecting() -> Scanner {
        Scanner {
            expect: None,
            state: State::Line,
            line: Vec::new(),
            body: Vec::new(),
            count: 0,
            bytes: 0,
        }
    }

    /// Scans `input`; events (pings, pongs, collected messages) are pushed to `events`.
    pub fn feed(&mut self, mut input: &[u8], events: &mut Vec<Event>) -> Result<(), String> {
        while !input.is_empty() {
            match &mut self.state {
                State::Line => {
                    // Fast path: the whole expected line at the start of the input.
                    if self.line.is_empty()
                        && let Some(e) = &self.expect
                        && input.starts_with(&e.line)
                    {
                        input = &input[e.line.len()..];
                        self.state = State::Payload { at: 0 };
                        continue;
                    }
                    match input.iter().position(|&b| b == b'\n') {
                        None => {
                            self.line.extend_from_slice(input);
                            if self.line.len() > 4096 + 1024 {
                                return Err("control line too long".to_owned());
                            }
                            return Ok(());
                        }
                        Some(p) => {
                            self.line.extend_from_slice(&input[..=p]);
                            input = &input[p + 1..];
                            let line = std::mem::take(&mut self.line);
                            self.control(&line, events)?;
                            self.line = line;
                            self.line.clear();
                        }
                    }
                }
                State::Payload { at } => {
                    let Some(e) = &self.expect else {
                        return Err("payload without expectation".to_owned());
                    };
                    let want = &e.payload[*at..];
                    let take = want.len().min(input.len());
                    if input[..take] != want[..take] {
                        return Err(format!(
                            "message {} payload differs at byte {}",
                            self.count + 1,
                            *at + first_diff(&input[..take], &want[..take])
                        ));
                    }
                    *at += take;
                    input = &input[take..];
                    if *at == e.payload.len() {
                        self.state = State::Trailer { seen: 0 };
                    }
                }
                State::Collect { len, .. } => {
                    let take = (*len - self.body.len()).min(input.len());
                    self.body.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if self.body.len() == *len {
                        let State::Collect { subject, reply, .. } =
                            std::mem::replace(&mut self.state, State::Trailer { seen: 0 })
                        else {
                            return Err("scanner state".to_owned());
                        };
                        events.push(Event::Msg {
                            subject,
                            reply,
                            payload: std::mem::take(&mut self.body),
                        });
                    }
                }
                State::Trailer { seen } => {
                    let want = &b"\r\n"[*seen..];
                    let take = want.len().min(input.len());
                    if input[..take] != want[..take] {
                        return Err(format!("message {} not followed by CRLF", self.count + 1));
                    }
                    *seen += take;
                    input = &input[take..];
                    if *seen == 2 {
                        self.state = State::Line;
                        if let Some(e) = &self.expect {
                            self.count += 1;
                            self.bytes += e.payload.len() as u64;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Handles one complete control line (with its `\n`).
    fn control(&mut self, line: &[u8], events: &mut Vec<Event>) -> Result<(), String> {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let upper: Vec<u8> = text.iter().take(5).map(u8::to_ascii_uppercase).collect();
        if upper.starts_with(b"PING") {
            events.push(Event::Ping);
        } else if upper.starts_with(b"PONG") {
            events.push(Event::Pong);
        } else if upper.starts_with(b"INFO") || upper.starts_with(b"+OK") {
        } else if upper.starts_with(b"-ERR") {
            return Err(format!("server error: {}", String::from_utf8_lossy(text)));
        } else if upper.starts_with(b"MSG ") {
            if let Some(e) = &self.expect {
                // The expected line, split across reads (the fast path takes whole ones).
                if line == e.line.as_slice() {
                    self.state = State::Payload { at: 0 };
                    return Ok(());
                }
                return Err(format!(
                    "unexpected message line {:?} (wanted {:?})",
                    String::from_utf8_lossy(text),
                    String::from_utf8_lossy(e.line.strip_suffix(b"\r\n").unwrap_or(&e.line))
                ));
            }
            let fields: Vec<&[u8]> = text[4..]
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|f| !f.is_empty())
                .collect();
            let (subject, reply, len) = match fields.as_slice() {
                [s, _sid, n] => (s, None, n),
                [s, _sid, r, n] => (s, Some(r.to_vec()), n),
                _ => return Err(format!("bad MSG line {:?}", String::from_utf8_lossy(text))),
            };
            let len: usize = std::str::from_utf8(len)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad MSG size in {:?}", String::from_utf8_lossy(text)))?;
            self.body.clear();
            if len == 0 {
                self.state = State::Trailer { seen: 0 };
                events.push(Event::Msg {
                    subject: subject.to_vec(),
                    reply,
                    payload: Vec::new(),
                });
            } else {
                self.state = State::Collect {
                    len,
                    subject: subject.to_vec(),
                    reply,
                };
            }
        } else if !text.is_empty() {
            return Err(format!(
                "unexpected line {:?}",
                String::from_utf8_lossy(text)
            ));
        }
        Ok(())
    }
}

fn first_diff(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, payload: &[u8]) -> Vec<u8> {
        let mut s = b"INFO {}\r\nPONG\r\n".to_vec();
        for _ in 0..n {
            s.extend_from_slice(format!("MSG a 1 {}\r\n", payload.len()).as_bytes());
            s.extend_from_slice(payload);
            s.extend_from_slice(b"\r\n");
        }
        s
    }

    #[test]
    fn counts_across_every_split() {
        let payload = b"hello world";
        let s = stream(3, payload);
        for cut in 0..s.len() {
            let mut sc = Scanner::expecting(Expect::new("a", "1", payload));
            let mut ev = Vec::new();
            assert!(sc.feed(&s[..cut], &mut ev).is_ok());
            assert!(sc.feed(&s[cut..], &mut ev).is_ok());
            assert_eq!(sc.count, 3, "cut {cut}");
            assert_eq!(ev, vec![Event::Pong]);
        }
    }

    #[test]
    fn wrong_byte_is_caught() {
        let mut s = stream(2, b"abcdef");
        let last = s.len() - 4;
        s[last] = b'X';
        let mut sc = Scanner::expecting(Expect::new("a", "1", b"abcdef"));
        assert!(sc.feed(&s, &mut Vec::new()).is_err());
    }

    #[test]
    fn wrong_size_is_caught() {
        let mut sc = Scanner::expecting(Expect::new("a", "1", b"abc"));
        assert!(sc.feed(b"MSG a 1 2\r\nab\r\n", &mut Vec::new()).is_err());
    }

    #[test]
    fn empty_payloads() {
        let s = stream(4, b"");
        let mut sc = Scanner::expecting(Expect::new("a", "1", b""));
        assert!(sc.feed(&s, &mut Vec::new()).is_ok());
        assert_eq!(sc.count, 4);
    }

    #[test]
    fn collect_mode_returns_messages() {
        let mut sc = Scanner::collecting();
        let mut ev = Vec::new();
        assert!(sc.feed(b"MSG req 1 _INBOX.x 3\r\nab", &mut ev).is_ok());
        assert!(sc.feed(b"c\r\nPING\r\n", &mut ev).is_ok());
        assert_eq!(
            ev,
            vec![
                Event::Msg {
                    subject: b"req".to_vec(),
                    reply: Some(b"_INBOX.x".to_vec()),
                    payload: b"abc".to_vec()
                },
                Event::Ping
            ]
        );
    }
}
