//! Lexer states for scalar values: strings, blocks, escapes, numbers, datetimes, IPs.

use super::{EOF, ItemKind, Lexer, State, escape_special, is_go_digit, is_nl, is_whitespace};

impl Lexer<'_> {
    // Go: lexQuotedString (single quotes: no escapes)
    pub(super) fn quoted_string(&mut self) -> Option<State> {
        match self.next() {
            '\'' => {
                self.backup();
                self.emit(ItemKind::String);
                self.next();
                self.ignore();
                self.pop()
            }
            EOF => self.eof_or_error(),
            _ => Some(State::QuotedString),
        }
    }

    // Go: lexDubQuotedString
    pub(super) fn dub_quoted_string(&mut self) -> Option<State> {
        match self.next() {
            '\\' => {
                self.add_current_part(1);
                Some(State::StringEscape)
            }
            '"' => {
                self.backup();
                self.emit_string();
                self.next();
                self.ignore();
                self.pop()
            }
            EOF => self.eof_or_error(),
            _ => Some(State::DubQuotedString),
        }
    }

    // Go: lexString (unquoted)
    pub(super) fn bare_string(&mut self) -> Option<State> {
        let r = self.next();
        if r == '\\' {
            self.add_current_part(1);
            return Some(State::StringEscape);
        }
        if is_nl(r) || matches!(r, EOF | ';' | ',' | ']' | '}') || is_whitespace(r) {
            self.backup();
            if self.has_parts {
                self.emit_string();
            } else if self.is_bool() {
                self.emit(ItemKind::Bool);
            } else if self.current().first() == Some(&b'$') {
                self.start += 1;
                self.emit(ItemKind::Variable);
            } else {
                self.emit_string();
            }
            return self.pop();
        }
        if r == '\'' {
            self.backup();
            self.emit_string();
            self.next();
            self.ignore();
            return self.pop();
        }
        Some(State::BareString)
    }

    pub(super) fn is_bool(&self) -> bool {
        let s = self.current();
        ["true", "false", "on", "off", "yes", "no"]
            .iter()
            .any(|b| s.eq_ignore_ascii_case(b.as_bytes()))
    }

    // Go: lexBlock; ends at a ')' alone on its line.
    pub(super) fn block(&mut self) -> Option<State> {
        let r = self.next();
        if r == ')' {
            self.backup();
            self.backup();
            if self.next() != '\n' {
                self.next();
                return Some(State::Block);
            }
            self.next();
            match self.next() {
                '\n' | EOF => {
                    self.backup();
                    self.backup();
                    self.emit(ItemKind::String);
                    self.next();
                    self.ignore();
                    return self.pop();
                }
                _ => self.backup(),
            }
        } else if r == EOF {
            return self.error("Unexpected EOF processing block.".to_owned());
        }
        Some(State::Block)
    }

    // Go: lexStringEscape
    pub(super) fn string_escape(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            'x' => Some(State::StringBinary),
            't' => self.add_part(b"\t"),
            'n' => self.add_part(b"\n"),
            'r' => self.add_part(b"\r"),
            '"' => self.add_part(b"\""),
            '\\' => self.add_part(b"\\"),
            _ => self.error(format!(
                "Invalid escape character '{}'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
                escape_special(r)
            )),
        }
    }

    // Go: lexStringBinary
    pub(super) fn string_binary(&mut self) -> Option<State> {
        const HIT_EOL: &str = "Expected two hexadecimal digits after '\\x', but hit end of line";
        if is_nl(self.next()) || is_nl(self.next()) {
            return self.error(HIT_EOL.to_owned());
        }
        let offset = self.pos.saturating_sub(2);
        let digits = self.input.get(offset..self.pos).unwrap_or_default();
        let Some(byte) = decode_hex_pair(digits) else {
            return self.error(format!(
                "Expected two hexadecimal digits after '\\x', but got '{}'",
                String::from_utf8_lossy(digits)
            ));
        };
        self.add_part(&[byte]);
        Some(self.string_state)
    }

    // Go: lexNumberOrDateOrStringOrIPStart, lexNegNumberStart
    pub(super) fn number_start(&mut self, state: State) -> Option<State> {
        let r = self.next();
        if !is_go_digit(r) {
            if r == '.' {
                return self.error("Floats must start with a digit, not '.'.".to_owned());
            }
            return self.error(format!("Expected a digit but got '{}'.", escape_special(r)));
        }
        Some(if state == State::NumberStart {
            State::Number
        } else {
            State::NegNumber
        })
    }

    // Go: lexNumberOrDateOrStringOrIP
    pub(super) fn number(&mut self) -> Option<State> {
        let r = self.next();
        if r == '-' {
            if self.pos - self.start != 5 {
                return self.error("All ISO8601 dates must be in full Zulu form.".to_owned());
            }
            return Some(State::DateAfterYear);
        }
        if is_go_digit(r) {
            return Some(State::Number);
        }
        if r == '.' {
            return Some(State::FloatStart);
        }
        if is_number_suffix(r) {
            return Some(State::ConvenientNumber);
        }
        if !ends_number(r) {
            // Not a number after all: an unquoted string that starts with digits.
            self.string_state = State::BareString;
            return Some(State::BareString);
        }
        self.backup();
        self.emit(ItemKind::Integer);
        self.pop()
    }

    // Go: lexConvenientNumber (e.g. 1k, 1Mb, 2GiB). Anything but a terminator after
    // the suffix, a digit included (`1e21`, `0K1abc`), makes the token a string: Go
    // 2.15.1 (nats-server #5186); before it, `1e21` lexed as `1e` and failed on `2`.
    pub(super) fn convenient_number(&mut self) -> Option<State> {
        let r = self.next();
        if matches!(r, 'b' | 'B' | 'i' | 'I') {
            return Some(State::ConvenientNumber);
        }
        self.backup();
        if ends_number(r) {
            self.emit(ItemKind::Integer);
            return self.pop();
        }
        self.string_state = State::BareString;
        Some(State::BareString)
    }

    // Go: lexDateAfterYear; "YYYY-" is consumed, "MM-DDTHH:MM:SSZ" must follow.
    pub(super) fn date_after_year(&mut self) -> Option<State> {
        const FORMAT: &[u8] = b"00-00T00:00:00Z";
        for &f in FORMAT {
            let r = self.next();
            if f == b'0' {
                if !is_go_digit(r) {
                    return self.error(format!(
                        "Expected digit in ISO8601 datetime, but found '{}' instead.",
                        escape_special(r)
                    ));
                }
            } else if r != char::from(f) {
                return self.error(format!(
                    "Expected '{}' in ISO8601 datetime, but found '{}' instead.",
                    char::from(f),
                    escape_special(r)
                ));
            }
        }
        self.emit(ItemKind::Datetime);
        self.pop()
    }

    // Go: lexNegNumber
    pub(super) fn neg_number(&mut self) -> Option<State> {
        let r = self.next();
        if is_go_digit(r) {
            return Some(State::NegNumber);
        }
        if r == '.' {
            return Some(State::FloatStart);
        }
        if is_number_suffix(r) {
            return Some(State::ConvenientNumber);
        }
        self.backup();
        self.emit(ItemKind::Integer);
        self.pop()
    }

    // Go: lexFloatStart
    pub(super) fn float_start(&mut self) -> Option<State> {
        let r = self.next();
        if !is_go_digit(r) {
            return self.error(format!(
                "Floats must have a digit after the '.', but got '{}' instead.",
                escape_special(r)
            ));
        }
        Some(State::Float)
    }

    // Go: lexFloat; a second '.' means it was an IP address.
    pub(super) fn float(&mut self) -> Option<State> {
        let r = self.next();
        if is_go_digit(r) {
            return Some(State::Float);
        }
        if r == '.' {
            return Some(State::IpAddr);
        }
        self.backup();
        self.emit(ItemKind::Float);
        self.pop()
    }

    // Go: lexIPAddr, e.g. 127.0.0.1:4222
    pub(super) fn ip_addr(&mut self) -> Option<State> {
        let r = self.next();
        if is_go_digit(r) || matches!(r, '.' | ':' | '-') {
            return Some(State::IpAddr);
        }
        self.backup();
        self.emit(ItemKind::String);
        self.pop()
    }
}

fn decode_hex_pair(digits: &[u8]) -> Option<u8> {
    let [hi, lo] = digits else { return None };
    let hi = char::from(*hi).to_digit(16)?;
    let lo = char::from(*lo).to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

/// What ends a number: Go's list in lexNumberOrDateOrStringOrIP / lexConvenientNumber.
fn ends_number(r: char) -> bool {
    is_nl(r) || matches!(r, EOF | '}' | ';' | ',') || is_whitespace(r)
}

fn is_number_suffix(r: char) -> bool {
    matches!(
        r,
        'k' | 'K' | 'm' | 'M' | 'g' | 'G' | 't' | 'T' | 'p' | 'P' | 'e' | 'E'
    )
}
