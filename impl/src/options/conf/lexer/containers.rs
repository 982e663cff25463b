//! Lexer states for arrays and maps.

use super::{EOF, ItemKind, Lexer, State, escape_special, is_key_separator};

impl Lexer<'_> {
    // Go: lexArrayValue
    pub(super) fn array_value(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::ArrayValue);
        }
        match r {
            '#' => self.comment_then(State::ArrayValue),
            '/' if self.slash_comment() => self.comment_then(State::ArrayValue),
            '/' | ',' => self.error("Unexpected array value terminator ','.".to_owned()),
            ']' => Some(State::ArrayEnd),
            _ => {
                self.backup();
                self.push_then(State::ArrayValueEnd, State::Value)
            }
        }
    }

    // Go: lexArrayValueEnd
    pub(super) fn array_value_end(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            '\t' | ' ' => {
                self.ignore();
                Some(State::ArrayValueEnd)
            }
            '#' => self.comment_then(State::ArrayValueEnd),
            '/' if self.slash_comment() => self.comment_then(State::ArrayValueEnd),
            '/' | ',' | '\n' | '\r' => {
                self.ignore();
                Some(State::ArrayValue)
            }
            ']' => Some(State::ArrayEnd),
            _ => self.error(format!(
                "Expected an array value terminator \",\" or an array terminator \"]\", but got '{}' instead.",
                escape_special(r)
            )),
        }
    }

    // Go: lexMapKeyStart
    pub(super) fn map_key_start(&mut self) -> Option<State> {
        let r = self.peek();
        if is_key_separator(r) {
            return self.error(format!("Unexpected key separator '{}'.", escape_special(r)));
        }
        if r == ']' {
            return self.error("Unexpected array end ']' processing map.".to_owned());
        }
        if r.is_whitespace() {
            self.next();
            self.ignore();
            return Some(State::MapKeyStart);
        }
        match r {
            '}' => {
                self.next();
                self.ignore();
                return Some(State::MapEnd);
            }
            '#' => {
                self.next();
                return self.comment_then(State::MapKeyStart);
            }
            '/' => {
                self.next();
                if self.slash_comment() {
                    return self.comment_then(State::MapKeyStart);
                }
            }
            '\'' => {
                self.next();
                self.ignore();
                return Some(State::MapQuotedKey);
            }
            '"' => {
                self.next();
                self.ignore();
                return Some(State::MapDubQuotedKey);
            }
            EOF => return self.error("Unexpected EOF processing map.".to_owned()),
            _ => {}
        }
        self.ignore();
        self.next();
        Some(State::MapKey)
    }

    // Go: lexMapQuotedKey, lexMapDubQuotedKey
    pub(super) fn map_quoted_key(&mut self, quote: char, eof_message: &str) -> Option<State> {
        let r = self.peek();
        if r == EOF {
            return self.error(eof_message.to_owned());
        }
        if r == quote {
            self.emit(ItemKind::Key);
            self.next();
            self.ignore();
            return Some(State::MapKeyEnd);
        }
        self.next();
        Some(if quote == '"' {
            State::MapDubQuotedKey
        } else {
            State::MapQuotedKey
        })
    }

    // Go: lexMapKey
    pub(super) fn map_key(&mut self) -> Option<State> {
        let r = self.peek();
        if r == EOF {
            return self.error("Unexpected EOF processing map key.".to_owned());
        }
        if r.is_whitespace() {
            return self.check_keyword(State::MapKeyEnd, Some(State::MapValueEnd));
        }
        if is_key_separator(r) {
            self.emit(ItemKind::Key);
            return Some(State::MapKeyEnd);
        }
        self.next();
        Some(State::MapKey)
    }

    // Go: lexMapKeyEnd
    pub(super) fn map_key_end(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::MapKeyEnd);
        }
        if is_key_separator(r) {
            self.ignore();
            return Some(State::MapValue);
        }
        self.backup();
        Some(State::MapValue)
    }

    // Go: lexMapValue
    pub(super) fn map_value(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::MapValue);
        }
        match r {
            ',' => self.error("Unexpected map value terminator \",\".".to_owned()),
            '}' => {
                self.ignore();
                Some(State::MapEnd)
            }
            _ => {
                self.backup();
                self.push_then(State::MapValueEnd, State::Value)
            }
        }
    }

    // Go: lexMapValueEnd
    pub(super) fn map_value_end(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            '\t' | ' ' => {
                self.ignore();
                Some(State::MapValueEnd)
            }
            '#' => self.comment_then(State::MapValueEnd),
            '/' if self.slash_comment() => self.comment_then(State::MapValueEnd),
            '/' | ';' | ',' | '\n' | '\r' => {
                self.ignore();
                Some(State::MapKeyStart)
            }
            '}' => {
                self.ignore();
                Some(State::MapEnd)
            }
            _ => self.error(format!(
                "Expected a map value terminator \",\" or a map terminator \"}}\", but got '{}' instead.",
                escape_special(r)
            )),
        }
    }
}
