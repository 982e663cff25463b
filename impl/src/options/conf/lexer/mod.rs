//! The configuration lexer: a state machine over bytes that emits positioned items.
//!
//! Behaviour follows nats-server's `conf/lex.go` state by state, including its position
//! arithmetic (items on the first line get 0-based columns, later lines 1-based ones,
//! because a line's start is the index of its `'\n'`) and its error texts. The state stack
//! is bounded by [`MAX_STATE_STACK`], a limit Go does not have.

use std::collections::VecDeque;

mod containers;
mod scalars;

/// Go's lexer uses rune 0 both for "end of input" and for a NUL character in the input.
const EOF: char = '\0';

/// Most states the lexer keeps on its stack. Each nested map or array costs about two,
/// a bare top-level `{` block one, so this is far above the parser's nesting limit; it
/// only stops inputs such as a million `{` from growing the stack without bound.
pub(super) const MAX_STATE_STACK: usize = 512;

/// What an item is. Go: `itemType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ItemKind {
    Error,
    Eof,
    Key,
    Text,
    String,
    Bool,
    Integer,
    Float,
    Datetime,
    ArrayStart,
    ArrayEnd,
    MapStart,
    MapEnd,
    CommentStart,
    Variable,
    Include,
}

/// One lexed item: raw bytes (Go strings are byte strings) and Go's line/position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Item {
    pub kind: ItemKind,
    pub val: Vec<u8>,
    pub line: usize,
    pub pos: usize,
}

/// The lexer states. Go: the `lex*` state functions; `lexSkip` is folded into the
/// transitions as an immediate `ignore`, which is equivalent because nothing runs between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Top,
    TopValueEnd,
    BlockStart,
    BlockValueEnd,
    BlockEnd,
    KeyStart,
    DubQuotedKey,
    QuotedKey,
    IncludeStart,
    IncludeQuoted,
    IncludeDubQuoted,
    IncludeBare,
    Include,
    Key,
    KeyEnd,
    Value,
    ArrayValue,
    ArrayValueEnd,
    ArrayEnd,
    MapKeyStart,
    MapQuotedKey,
    MapDubQuotedKey,
    MapKey,
    MapKeyEnd,
    MapValue,
    MapValueEnd,
    MapEnd,
    QuotedString,
    DubQuotedString,
    BareString,
    Block,
    StringEscape,
    StringBinary,
    NumberStart,
    Number,
    ConvenientNumber,
    DateAfterYear,
    NegNumberStart,
    NegNumber,
    FloatStart,
    Float,
    IpAddr,
    CommentStart,
    Comment,
}

/// The lexer. Items are produced on demand by [`Lexer::next_item`].
#[derive(Debug)]
pub(super) struct Lexer<'a> {
    input: &'a [u8],
    start: usize,
    pos: usize,
    width: usize,
    line: usize,
    state: Option<State>,
    items: VecDeque<Item>,
    stack: Vec<State>,
    /// Unescaped pieces of the current string (Go: `stringParts`, joined eagerly).
    parts: Vec<u8>,
    /// Whether any piece was added, even an empty one (Go: `len(stringParts) > 0`).
    has_parts: bool,
    string_state: State,
    /// Index of the `'\n'` that started the current line (0 on the first line).
    lstart: usize,
    /// `lstart` as of the last emitted or ignored item.
    ilstart: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            start: 0,
            pos: 0,
            width: 0,
            line: 1,
            state: Some(State::Top),
            items: VecDeque::new(),
            stack: Vec::new(),
            parts: Vec::new(),
            has_parts: false,
            string_state: State::BareString,
            lstart: 0,
            ilstart: 0,
        }
    }

    /// Returns the next item. After an `Eof` or `Error` item the lexer keeps answering
    /// `Eof` (Go would call a nil state function and crash).
    pub(super) fn next_item(&mut self) -> Item {
        loop {
            if let Some(item) = self.items.pop_front() {
                return item;
            }
            let Some(state) = self.state else {
                return Item {
                    kind: ItemKind::Eof,
                    val: Vec::new(),
                    line: self.line,
                    pos: 0,
                };
            };
            self.state = self.step(state);
        }
    }

    fn push(&mut self, state: State) -> Option<State> {
        if self.stack.len() >= MAX_STATE_STACK {
            return self.error(format!(
                "Maximum nesting depth of {MAX_STATE_STACK} lexer states exceeded."
            ));
        }
        self.stack.push(state);
        None
    }

    /// Pushes `state` and continues with `then`, unless the stack is full.
    fn push_then(&mut self, state: State, then: State) -> Option<State> {
        if self.stack.len() >= MAX_STATE_STACK {
            return self.push(state);
        }
        self.stack.push(state);
        Some(then)
    }

    fn pop(&mut self) -> Option<State> {
        match self.stack.pop() {
            Some(state) => Some(state),
            None => self.error("BUG in lexer: no states to pop.".to_owned()),
        }
    }

    fn current(&self) -> &'a [u8] {
        self.input.get(self.start..self.pos).unwrap_or_default()
    }

    fn emit(&mut self, kind: ItemKind) {
        // Go's emit joins the pending string parts without clearing them.
        let mut val = self.parts.clone();
        val.extend_from_slice(self.current());
        self.push_item(kind, val);
    }

    fn emit_string(&mut self) {
        let mut val = std::mem::take(&mut self.parts);
        self.has_parts = false;
        val.extend_from_slice(self.current());
        self.push_item(ItemKind::String, val);
    }

    fn push_item(&mut self, kind: ItemKind, val: Vec<u8>) {
        // Position of the item in the line where it started.
        let pos = self
            .pos
            .saturating_sub(self.ilstart)
            .saturating_sub(val.len());
        self.items.push_back(Item {
            kind,
            val,
            line: self.line,
            pos,
        });
        self.start = self.pos;
        self.ilstart = self.lstart;
    }

    fn add_current_part(&mut self, offset: usize) {
        let end = self.pos.saturating_sub(offset);
        let piece = self.input.get(self.start..end).unwrap_or_default();
        self.parts.extend_from_slice(piece);
        self.has_parts = true;
        self.start = self.pos;
    }

    fn add_part(&mut self, piece: &[u8]) -> Option<State> {
        self.parts.extend_from_slice(piece);
        self.has_parts = true;
        self.start = self.pos;
        Some(self.string_state)
    }

    fn next(&mut self) -> char {
        let Some(rest) = self.input.get(self.pos..).filter(|r| !r.is_empty()) else {
            self.width = 0;
            return EOF;
        };
        if rest.first() == Some(&b'\n') {
            self.line += 1;
            self.lstart = self.pos;
        }
        let (c, width) = decode_rune(rest);
        self.width = width;
        self.pos += width;
        c
    }

    fn ignore(&mut self) {
        self.start = self.pos;
        self.ilstart = self.lstart;
    }

    fn backup(&mut self) {
        self.pos = self.pos.saturating_sub(self.width);
        if self.input.get(self.pos) == Some(&b'\n') {
            self.line = self.line.saturating_sub(1);
        }
    }

    fn peek(&mut self) -> char {
        let c = self.next();
        self.backup();
        c
    }

    fn error(&mut self, message: String) -> Option<State> {
        let pos = self.pos.saturating_sub(self.lstart);
        self.items.push_back(Item {
            kind: ItemKind::Error,
            val: message.into_bytes(),
            line: self.line,
            pos,
        });
        None
    }

    /// Go: `if lx.pos > lx.start { errorf("Unexpected EOF.") }; emit(itemEOF)`.
    fn eof_or_error(&mut self) -> Option<State> {
        if self.pos > self.start {
            return self.error("Unexpected EOF.".to_owned());
        }
        self.emit(ItemKind::Eof);
        None
    }

    /// Consumes the second `/` of a `//` comment, or backs up if it is not one.
    fn slash_comment(&mut self) -> bool {
        if self.next() == '/' {
            true
        } else {
            self.backup();
            false
        }
    }

    fn comment_then(&mut self, resume: State) -> Option<State> {
        self.push_then(resume, State::CommentStart)
    }

    fn step(&mut self, state: State) -> Option<State> {
        match state {
            State::Top => self.top(),
            State::TopValueEnd => self.top_value_end(),
            State::BlockStart => self.block_start(),
            State::BlockValueEnd => self.block_value_end(),
            State::BlockEnd => self.block_end(),
            State::KeyStart => self.key_start(),
            State::DubQuotedKey => self.quoted_key('"'),
            State::QuotedKey => self.quoted_key('\''),
            State::IncludeStart => self.include_start(),
            State::IncludeQuoted => self.include_quoted('\'', "Unexpected EOF in quoted include"),
            State::IncludeDubQuoted => {
                self.include_quoted('"', "Unexpected EOF in double quoted include")
            }
            State::IncludeBare => self.include_bare(),
            State::Include => self.include(),
            State::Key => self.key(),
            State::KeyEnd => self.key_end(),
            State::Value => self.value(),
            State::ArrayValue => self.array_value(),
            State::ArrayValueEnd => self.array_value_end(),
            State::ArrayEnd => {
                self.ignore();
                self.emit(ItemKind::ArrayEnd);
                self.pop()
            }
            State::MapKeyStart => self.map_key_start(),
            State::MapQuotedKey => {
                self.map_quoted_key('\'', "Unexpected EOF processing quoted map key.")
            }
            State::MapDubQuotedKey => {
                self.map_quoted_key('"', "Unexpected EOF processing double quoted map key.")
            }
            State::MapKey => self.map_key(),
            State::MapKeyEnd => self.map_key_end(),
            State::MapValue => self.map_value(),
            State::MapValueEnd => self.map_value_end(),
            State::MapEnd => {
                self.ignore();
                self.emit(ItemKind::MapEnd);
                self.pop()
            }
            State::QuotedString => self.quoted_string(),
            State::DubQuotedString => self.dub_quoted_string(),
            State::BareString => self.bare_string(),
            State::Block => self.block(),
            State::StringEscape => self.string_escape(),
            State::StringBinary => self.string_binary(),
            State::NumberStart | State::NegNumberStart => self.number_start(state),
            State::Number => self.number(),
            State::ConvenientNumber => self.convenient_number(),
            State::DateAfterYear => self.date_after_year(),
            State::NegNumber => self.neg_number(),
            State::FloatStart => self.float_start(),
            State::Float => self.float(),
            State::IpAddr => self.ip_addr(),
            State::CommentStart => {
                self.ignore();
                self.emit(ItemKind::CommentStart);
                Some(State::Comment)
            }
            State::Comment => {
                let r = self.peek();
                if is_nl(r) || r == EOF {
                    self.emit(ItemKind::Text);
                    return self.pop();
                }
                self.next();
                Some(State::Comment)
            }
        }
    }

    // Go: lexTop
    fn top(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::Top);
        }
        match r {
            '{' => {
                self.ignore();
                self.push_then(State::Top, State::BlockStart)
            }
            '#' => self.comment_then(State::Top),
            '/' if self.slash_comment() => self.comment_then(State::Top),
            '/' | EOF => self.eof_or_error(),
            _ => {
                self.backup();
                self.push_then(State::TopValueEnd, State::KeyStart)
            }
        }
    }

    // Go: lexTopValueEnd
    fn top_value_end(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            '#' => self.comment_then(State::Top),
            '/' if self.slash_comment() => self.comment_then(State::Top),
            '/' | '\t' | ' ' => Some(State::TopValueEnd),
            '\n' | '\r' | EOF | ';' | ',' | '}' => {
                self.ignore();
                Some(State::Top)
            }
            _ => self.error(format!(
                "Expected a top-level value to end with a new line, comment or EOF, but got '{}' instead.",
                escape_special(r)
            )),
        }
    }

    // Go: lexBlockStart
    fn block_start(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::BlockStart);
        }
        match r {
            '{' => {
                self.ignore();
                self.push_then(State::BlockEnd, State::BlockStart)
            }
            '}' => {
                self.ignore();
                self.pop()
            }
            '#' => self.comment_then(State::BlockStart),
            '/' if self.slash_comment() => self.comment_then(State::BlockStart),
            '/' | EOF => self.eof_or_error(),
            _ => {
                self.backup();
                self.push_then(State::BlockValueEnd, State::KeyStart)
            }
        }
    }

    // Go: lexBlockValueEnd
    fn block_value_end(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            '#' => self.comment_then(State::BlockValueEnd),
            '/' if self.slash_comment() => self.comment_then(State::BlockValueEnd),
            '/' | '\t' | ' ' => Some(State::BlockValueEnd),
            '\n' | '\r' | ';' | ',' => {
                self.ignore();
                Some(State::BlockStart)
            }
            '}' => {
                self.backup();
                Some(State::BlockEnd)
            }
            _ => self.error(format!(
                "Expected a block-level value to end with a new line, comment or EOF, but got '{}' instead.",
                escape_special(r)
            )),
        }
    }

    // Go: lexBlockEnd
    fn block_end(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            '#' => self.comment_then(State::BlockStart),
            '/' if self.slash_comment() => self.comment_then(State::BlockStart),
            '/' | '\n' | '\r' | '\t' | ' ' => Some(State::BlockEnd),
            ';' | ',' => {
                self.ignore();
                Some(State::BlockStart)
            }
            '}' => {
                self.ignore();
                self.pop()
            }
            _ => self.error(format!(
                "Expected a block-level to end with a '}}', but got '{}' instead.",
                escape_special(r)
            )),
        }
    }

    // Go: lexKeyStart
    fn key_start(&mut self) -> Option<State> {
        let r = self.peek();
        if is_key_separator(r) {
            return self.error(format!("Unexpected key separator '{}'", escape_special(r)));
        }
        if r.is_whitespace() {
            self.next();
            self.ignore();
            return Some(State::KeyStart);
        }
        match r {
            '"' => {
                self.next();
                self.ignore();
                Some(State::DubQuotedKey)
            }
            '\'' => {
                self.next();
                self.ignore();
                Some(State::QuotedKey)
            }
            _ => {
                self.ignore();
                self.next();
                Some(State::Key)
            }
        }
    }

    // Go: lexDubQuotedKey, lexQuotedKey
    fn quoted_key(&mut self, quote: char) -> Option<State> {
        let r = self.peek();
        if r == quote {
            self.emit(ItemKind::Key);
            self.next();
            self.ignore();
            return Some(State::KeyEnd);
        }
        if r == EOF {
            return self.eof_or_error();
        }
        self.next();
        Some(if quote == '"' {
            State::DubQuotedKey
        } else {
            State::QuotedKey
        })
    }

    // Go: keyCheckKeyword
    fn check_keyword(&mut self, fall_through: State, push: Option<State>) -> Option<State> {
        if self.current().eq_ignore_ascii_case(b"include") {
            self.ignore();
            return match push {
                Some(state) => self.push_then(state, State::IncludeStart),
                None => Some(State::IncludeStart),
            };
        }
        self.emit(ItemKind::Key);
        Some(fall_through)
    }

    // Go: lexIncludeStart
    fn include_start(&mut self) -> Option<State> {
        let r = self.next();
        if is_whitespace(r) {
            self.ignore();
            return Some(State::IncludeStart);
        }
        self.backup();
        Some(State::Include)
    }

    // Go: lexIncludeQuotedString, lexIncludeDubQuotedString
    fn include_quoted(&mut self, quote: char, eof_message: &str) -> Option<State> {
        let r = self.next();
        if r == quote {
            self.backup();
            self.emit(ItemKind::Include);
            self.next();
            self.ignore();
            return self.pop();
        }
        if r == EOF {
            return self.error(eof_message.to_owned());
        }
        Some(if quote == '"' {
            State::IncludeDubQuoted
        } else {
            State::IncludeQuoted
        })
    }

    // Go: lexIncludeString
    fn include_bare(&mut self) -> Option<State> {
        let r = self.next();
        if is_nl(r) || r == EOF || r == ';' || r == '}' || is_whitespace(r) {
            self.backup();
            self.emit(ItemKind::Include);
            return self.pop();
        }
        if r == '\'' {
            self.backup();
            self.emit(ItemKind::Include);
            self.next();
            self.ignore();
            return self.pop();
        }
        Some(State::IncludeBare)
    }

    // Go: lexInclude
    fn include(&mut self) -> Option<State> {
        let r = self.next();
        let found = match r {
            '\'' => {
                self.ignore();
                return Some(State::IncludeQuoted);
            }
            '"' => {
                self.ignore();
                return Some(State::IncludeDubQuoted);
            }
            '[' => "start of an array",
            '{' => "start of a map",
            '(' => "start of a block",
            '-' => "start of a number",
            '\\' => "escape sequence",
            _ if is_go_digit(r) => "start of a number",
            _ if is_nl(r) => "new line",
            _ => {
                self.backup();
                return Some(State::IncludeBare);
            }
        };
        self.error(format!("Expected include value but found {found}"))
    }

    // Go: lexKey
    fn key(&mut self) -> Option<State> {
        let r = self.peek();
        if r.is_whitespace() {
            return self.check_keyword(State::KeyEnd, None);
        }
        if is_key_separator(r) || r == EOF {
            self.emit(ItemKind::Key);
            return Some(State::KeyEnd);
        }
        self.next();
        Some(State::Key)
    }

    // Go: lexKeyEnd
    fn key_end(&mut self) -> Option<State> {
        let r = self.next();
        if r.is_whitespace() {
            self.ignore();
            return Some(State::KeyEnd);
        }
        if is_key_separator(r) {
            self.ignore();
            return Some(State::Value);
        }
        if r == EOF {
            self.emit(ItemKind::Eof);
            return None;
        }
        self.backup();
        Some(State::Value)
    }

    // Go: lexValue
    fn value(&mut self) -> Option<State> {
        let r = self.next();
        if is_whitespace(r) {
            self.ignore();
            return Some(State::Value);
        }
        match r {
            '[' => {
                self.ignore();
                self.emit(ItemKind::ArrayStart);
                Some(State::ArrayValue)
            }
            '{' => {
                self.ignore();
                self.emit(ItemKind::MapStart);
                Some(State::MapKeyStart)
            }
            '\'' => {
                self.ignore();
                Some(State::QuotedString)
            }
            '"' => {
                self.ignore();
                self.string_state = State::DubQuotedString;
                Some(State::DubQuotedString)
            }
            '-' => Some(State::NegNumberStart),
            '(' => {
                self.ignore();
                Some(State::Block)
            }
            '.' => self.error("Floats must start with a digit".to_owned()),
            _ if is_go_digit(r) => {
                self.backup();
                Some(State::NumberStart)
            }
            _ if is_nl(r) => self.error("Expected value but found new line".to_owned()),
            _ => {
                self.backup();
                self.string_state = State::BareString;
                Some(State::BareString)
            }
        }
    }
}

/// Go: `utf8.DecodeRuneInString`; invalid UTF-8 decodes to U+FFFD with width 1.
fn decode_rune(bytes: &[u8]) -> (char, usize) {
    let len = match bytes.first() {
        Some(b) if *b < 0x80 => return (char::from(*b), 1),
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(_) => 2,
        None => return (EOF, 0),
    };
    bytes
        .get(..len)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.chars().next())
        .map_or((char::REPLACEMENT_CHARACTER, 1), |c| (c, len))
}

fn is_key_separator(r: char) -> bool {
    r == '=' || r == ':'
}

/// Go: `isWhitespace` (only tab and space; `unicode.IsSpace` is `char::is_whitespace`).
fn is_whitespace(r: char) -> bool {
    r == '\t' || r == ' '
}

fn is_nl(r: char) -> bool {
    r == '\n' || r == '\r'
}

/// Go: `escapeSpecial`, applied to runes in error texts.
fn escape_special(r: char) -> String {
    match r {
        '\n' => "\\n".to_owned(),
        _ => r.to_string(),
    }
}

/// First code points of the Unicode `Nd` (decimal digit) runs outside ASCII, each ten long
/// (Unicode 15, the table Go's `unicode.IsDigit` uses).
const ND_ZEROS: &[u32] = &[
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// Go: `unicode.IsDigit` (ASCII digits and every other `Nd` code point).
pub(super) fn is_go_digit(r: char) -> bool {
    if r.is_ascii() {
        return r.is_ascii_digit();
    }
    let c = u32::from(r);
    ND_ZEROS.iter().any(|&z| (z..z + 10).contains(&c))
}
