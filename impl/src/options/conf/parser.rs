//! The configuration parser: turns lexer items into a positioned [`Map`] (Go: `conf/parse.go`).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::lexer::{Item, ItemKind, Lexer, is_go_digit};
use super::{
    Datetime, Kind, MAX_DEPTH, MAX_FILE_SIZE, MAX_INCLUDE_DEPTH, MAX_VALUES, Map, ParseError, Pos,
    Value,
};

/// Environment lookup used for `$NAME` fallbacks.
type EnvFn<'e> = dyn Fn(&str) -> Option<String> + 'e;

/// A configured parser: where includes of a string are resolved and how environment
/// variables are looked up (the process environment unless [`Parser::env`] is given).
pub struct Parser<'e> {
    base_dir: PathBuf,
    env: Option<&'e EnvFn<'e>>,
}

impl fmt::Debug for Parser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parser")
            .field("base_dir", &self.base_dir)
            .field("custom_env", &self.env.is_some())
            .finish()
    }
}

impl Default for Parser<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'e> Parser<'e> {
    /// A parser with includes of strings relative to `.` and the process environment.
    pub fn new() -> Self {
        Self {
            base_dir: PathBuf::from("."),
            env: None,
        }
    }

    /// Directory against which a parsed string's `include`s are resolved (Go uses the
    /// working directory). Files always resolve includes against their own directory.
    pub fn base_dir(mut self, dir: &Path) -> Self {
        dir.clone_into(&mut self.base_dir);
        self
    }

    /// Replaces the process environment as the fallback for `$NAME` references.
    pub fn env(mut self, env: &'e EnvFn<'e>) -> Self {
        self.env = Some(env);
        self
    }

    /// Parses configuration bytes attributed to file `""` (Go: `conf.ParseWithChecks`).
    pub fn parse_bytes(&self, text: &[u8]) -> Result<Map, ParseError> {
        let mut shared = Shared::new(self.env);
        let dir = path_string(&self.base_dir);
        Run::new(text, Arc::from(""), dir, &mut shared).run()
    }

    /// Reads and parses a file (Go: `conf.ParseFileWithChecks`).
    pub fn parse_file(&self, path: &Path) -> Result<Map, ParseError> {
        let mut shared = Shared::new(self.env);
        parse_path(&path_string(path), &mut shared)
    }
}

/// State shared by a parse, its includes and its environment sub-parses.
struct Shared<'e> {
    env: Option<&'e EnvFn<'e>>,
    /// Environment variables being expanded (Go: `envVarReferences`), to detect cycles.
    env_refs: Vec<String>,
    values: usize,
    include_depth: usize,
}

impl<'e> Shared<'e> {
    fn new(env: Option<&'e EnvFn<'e>>) -> Self {
        Self {
            env,
            env_refs: Vec::new(),
            values: 0,
            include_depth: 0,
        }
    }

    fn lookup_env(&self, name: &str) -> Option<String> {
        match self.env {
            Some(env) => env(name),
            None => std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        }
    }

    fn charge(&mut self, values: usize) -> Result<(), ParseError> {
        self.values = self.values.saturating_add(values);
        if self.values > MAX_VALUES {
            return Err(ParseError::TooManyValues);
        }
        Ok(())
    }
}

/// A context being filled: the top-level map, a nested map or an array.
enum Ctx {
    Map(Map),
    Array(Vec<Value>),
}

/// One parse of one input (Go: `parser`).
struct Run<'a, 's, 'e> {
    lexer: Lexer<'a>,
    file: Arc<str>,
    /// Directory for includes, Go style (`filepath.Dir` of the file).
    dir: String,
    ctxs: Vec<Ctx>,
    /// Pending keys and their positions (Go: `keys` and `ikeys`, always pushed together).
    keys: Vec<(String, Pos)>,
    shared: &'s mut Shared<'e>,
}

impl<'a, 's, 'e> Run<'a, 's, 'e> {
    fn new(input: &'a [u8], file: Arc<str>, dir: String, shared: &'s mut Shared<'e>) -> Self {
        Self {
            lexer: Lexer::new(input),
            file,
            dir,
            ctxs: Vec::new(),
            keys: Vec::new(),
            shared,
        }
    }

    // Go: parser.parse
    fn run(mut self) -> Result<Map, ParseError> {
        self.ctxs.push(Ctx::Map(Map::new()));
        let mut prev_was_key = false;
        loop {
            let item = self.lexer.next_item();
            if item.kind == ItemKind::Eof {
                // A trailing '}' may lex as a key; it is allowed for JSON-like files.
                if prev_was_key {
                    return Err(ParseError::Invalid {
                        file: self.file.to_string(),
                        line: item.line,
                        pos: item.pos,
                    });
                }
                break;
            }
            prev_was_key = item.kind == ItemKind::Key && item.val != b"}";
            self.process(item)?;
        }
        // Go returns its top-level mapping whatever is still open: an empty quoted string
        // cut by the end of input (`a [b, '`) lexes as the end, and the unfinished value
        // is dropped without an error.
        match self.ctxs.into_iter().next() {
            Some(Ctx::Map(map)) => Ok(map),
            Some(Ctx::Array(_)) | None => Err(ParseError::Internal("context stack empty")),
        }
    }

    fn pos(&self, item: &Item) -> Pos {
        Pos {
            file: Arc::clone(&self.file),
            line: item.line,
            column: item.pos,
        }
    }

    // Go: parser.processItem
    fn process(&mut self, item: Item) -> Result<(), ParseError> {
        let pos = self.pos(&item);
        match item.kind {
            ItemKind::Error => Err(ParseError::Syntax {
                line: item.line,
                message: lossy(&item.val),
            }),
            ItemKind::Key => {
                self.keys.push((lossy(&item.val), pos));
                Ok(())
            }
            ItemKind::MapStart => self.push_ctx(Ctx::Map(Map::new()), pos),
            ItemKind::ArrayStart => self.push_ctx(Ctx::Array(Vec::new()), pos),
            ItemKind::MapEnd | ItemKind::ArrayEnd => {
                let kind = match self.pop_ctx()? {
                    Ctx::Map(map) => Kind::Map(map),
                    Ctx::Array(values) => Kind::Array(values),
                };
                self.set_value(kind, pos)
            }
            ItemKind::String => self.set_value(Kind::String(lossy(&item.val)), pos),
            ItemKind::Integer => match parse_integer(&item.val)? {
                Some(n) => self.set_value(Kind::Integer(n), pos),
                // Go silently skips an unknown suffix such as `1kbb`, leaving its key
                // pending; the same happens here.
                None => Ok(()),
            },
            ItemKind::Float => self.set_value(Kind::Float(parse_float(&item.val)?), pos),
            ItemKind::Bool => {
                let b = match item.val.to_ascii_lowercase().as_slice() {
                    b"true" | b"yes" | b"on" => true,
                    b"false" | b"no" | b"off" => false,
                    // The lexer only emits the six words above.
                    _ => return Err(ParseError::Internal("unexpected boolean")),
                };
                self.set_value(Kind::Bool(b), pos)
            }
            ItemKind::Datetime => {
                let dt = parse_datetime(&item.val)
                    .ok_or_else(|| ParseError::Datetime(lossy(&item.val)))?;
                self.set_value(Kind::Datetime(dt), pos)
            }
            ItemKind::Variable => {
                let name = lossy(&item.val);
                match self.lookup_variable(&name) {
                    Ok(Some((mut kind, from_env))) => {
                        self.shared.charge(kind_size(&kind).saturating_sub(1))?;
                        self.check_copied_depth(&kind, &pos)?;
                        if from_env {
                            // Go parses an environment value without positions
                            // (`parseEnv` is not pedantic): what is inside reports
                            // the position of the value that referenced it.
                            let at = match self.ctxs.last() {
                                Some(Ctx::Map(_)) => self.keys.last().map(|(_, p)| p.clone()),
                                _ => None,
                            };
                            reposition(&mut kind, at.as_ref().unwrap_or(&pos));
                        }
                        self.set_value(kind, pos)
                    }
                    Ok(None) => Err(ParseError::VariableNotFound {
                        name,
                        line: item.line,
                    }),
                    Err(source) => Err(ParseError::VariableUnparsable {
                        name,
                        line: item.line,
                        source: Box::new(source),
                    }),
                }
            }
            ItemKind::Include => self.include(&lossy(&item.val)),
            ItemKind::Text | ItemKind::CommentStart | ItemKind::Eof => Ok(()),
        }
    }

    fn depth(&self) -> usize {
        self.ctxs.len().saturating_sub(1)
    }

    fn push_ctx(&mut self, ctx: Ctx, pos: Pos) -> Result<(), ParseError> {
        if self.depth() >= MAX_DEPTH {
            return Err(ParseError::TooDeep {
                file: pos.file.to_string(),
                line: pos.line,
                pos: pos.column,
            });
        }
        self.ctxs.push(ctx);
        Ok(())
    }

    fn pop_ctx(&mut self) -> Result<Ctx, ParseError> {
        // Go panics when this would leave no context.
        if self.ctxs.len() < 2 {
            return Err(ParseError::Internal("context stack empty"));
        }
        self.ctxs
            .pop()
            .ok_or(ParseError::Internal("context stack empty"))
    }

    /// Checks that a copied subtree (variable or include) stays within [`MAX_DEPTH`].
    fn check_copied_depth(&self, kind: &Kind, pos: &Pos) -> Result<(), ParseError> {
        if self.depth() + kind_depth(kind) > MAX_DEPTH {
            return Err(ParseError::TooDeep {
                file: pos.file.to_string(),
                line: pos.line,
                pos: pos.column,
            });
        }
        Ok(())
    }

    // Go: parser.setValue
    fn set_value(&mut self, kind: Kind, pos: Pos) -> Result<(), ParseError> {
        self.shared.charge(1)?;
        match self.ctxs.last_mut() {
            Some(Ctx::Array(values)) => {
                values.push(Value {
                    kind,
                    pos,
                    used_variable: false,
                });
                Ok(())
            }
            Some(Ctx::Map(map)) => {
                let (key, key_pos) = self
                    .keys
                    .pop()
                    .ok_or(ParseError::Internal("keys stack empty"))?;
                // The value takes its key's position: more useful in error messages.
                map.insert(
                    key,
                    Value {
                        kind,
                        pos: key_pos,
                        used_variable: false,
                    },
                );
                Ok(())
            }
            None => Err(ParseError::Internal("context stack empty")),
        }
    }

    // Go: parser.lookupVariable
    /// The variable's value, and whether it came from the environment.
    fn lookup_variable(&mut self, name: &str) -> Result<Option<(Kind, bool)>, ParseError> {
        // A bcrypt hash such as `$2a$11$...` is not a variable.
        if name.starts_with("2a$") {
            return Ok(Some((Kind::String(format!("${name}")), false)));
        }
        let mut found = None;
        for ctx in self.ctxs.iter_mut().rev() {
            if let Ctx::Map(map) = ctx
                && let Some(value) = map.get_mut(name)
            {
                value.used_variable = true;
                found = Some(value.kind.clone());
                break;
            }
        }
        if let Some(kind) = found {
            return Ok(Some((kind, false)));
        }
        if self.shared.env_refs.iter().any(|r| r == name) {
            return Err(ParseError::VariableCycle(name.to_owned()));
        }
        let Some(text) = self.shared.lookup_env(name) else {
            return Ok(None);
        };
        if self.shared.env_refs.len() >= MAX_DEPTH {
            return Err(ParseError::TooDeep {
                file: self.file.to_string(),
                line: 0,
                pos: 0,
            });
        }
        // The value is parsed as a config value: `pk=<value>` (Go: parseEnv).
        self.shared.env_refs.push(name.to_owned());
        let input = format!("pk={text}");
        let parsed = Run::new(input.as_bytes(), Arc::from(""), ".".to_owned(), self.shared).run();
        self.shared.env_refs.pop();
        let mut map = parsed?;
        let kind = map
            .get_mut("pk")
            .map(|v| (std::mem::replace(&mut v.kind, Kind::Bool(false)), true));
        Ok(kind)
    }

    // Go: the itemInclude case of processItem
    fn include(&mut self, name: &str) -> Result<(), ParseError> {
        let wrap = |source| ParseError::Include {
            name: name.to_owned(),
            source: Box::new(source),
        };
        if self.shared.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(wrap(ParseError::IncludeTooDeep));
        }
        let path = go_join(&self.dir, name);
        self.shared.include_depth += 1;
        let included = parse_path(&path, self.shared);
        self.shared.include_depth -= 1;
        let map = included.map_err(wrap)?;
        for (key, value) in map.entries {
            self.check_copied_depth(&value.kind, &value.pos)?;
            self.keys.push((key, value.pos.clone()));
            self.set_value(value.kind, value.pos)?;
        }
        Ok(())
    }
}

/// Reads `path` (a Go-style path string) and parses it.
fn parse_path(path: &str, shared: &mut Shared<'_>) -> Result<Map, ParseError> {
    let data = read_file(path)?;
    Run::new(&data, Arc::from(path), go_dir(path), shared).run()
}

/// Reads at most [`MAX_FILE_SIZE`] bytes, with Go's `*fs.PathError` texts on failure.
fn read_file(path: &str) -> Result<Vec<u8>, ParseError> {
    let io_err = |op, err: std::io::Error| ParseError::Io {
        op,
        path: path.to_owned(),
        reason: crate::goerr::errno_text(&err),
    };
    let file = std::fs::File::open(path).map_err(|e| io_err("open", e))?;
    let mut data = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(|e| io_err("read", e))?;
    if u64::try_from(data.len()).unwrap_or(u64::MAX) > MAX_FILE_SIZE {
        return Err(ParseError::FileTooLarge(path.to_owned()));
    }
    Ok(data)
}

/// Gives every value inside `kind` (not `kind` itself) the position `at`.
fn reposition(kind: &mut Kind, at: &Pos) {
    match kind {
        Kind::Array(values) => {
            for v in values {
                v.pos = at.clone();
                reposition(&mut v.kind, at);
            }
        }
        Kind::Map(map) => {
            for v in map.values_mut() {
                v.pos = at.clone();
                reposition(&mut v.kind, at);
            }
        }
        _ => {}
    }
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Go: `filepath.Clean` for `/`-separated paths.
fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go: `filepath.Dir`.
fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => go_clean(path.get(..=i).unwrap_or(path)),
        None => ".".to_owned(),
    }
}

/// Go: `filepath.Join` of two elements (an absolute second element is still appended).
fn go_join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (true, false) => go_clean(name),
        (false, true) => go_clean(dir),
        (false, false) => go_clean(&format!("{dir}/{name}")),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Nesting depth of a value: 0 for scalars, 1 + the deepest child for maps and arrays.
fn kind_depth(kind: &Kind) -> usize {
    match kind {
        Kind::Map(map) => {
            1 + map
                .iter()
                .map(|(_, v)| kind_depth(&v.kind))
                .max()
                .unwrap_or(0)
        }
        Kind::Array(values) => {
            1 + values
                .iter()
                .map(|v| kind_depth(&v.kind))
                .max()
                .unwrap_or(0)
        }
        Kind::String(_) | Kind::Integer(_) | Kind::Float(_) | Kind::Bool(_) | Kind::Datetime(_) => {
            0
        }
    }
}

/// Number of values in a subtree (itself included).
fn kind_size(kind: &Kind) -> usize {
    match kind {
        Kind::Map(map) => 1 + map.iter().map(|(_, v)| kind_size(&v.kind)).sum::<usize>(),
        Kind::Array(values) => 1 + values.iter().map(|v| kind_size(&v.kind)).sum::<usize>(),
        Kind::String(_) | Kind::Integer(_) | Kind::Float(_) | Kind::Bool(_) | Kind::Datetime(_) => {
            1
        }
    }
}

/// Go: the itemInteger case. `Ok(None)` is an unknown suffix, which Go ignores.
fn parse_integer(val: &[u8]) -> Result<Option<i64>, ParseError> {
    let text = lossy(val);
    // Go counts leading runes (digits or '-') and then slices that many bytes.
    let runes = text
        .chars()
        .take_while(|&c| is_go_digit(c) || c == '-')
        .count();
    let (digits, suffix) = val.split_at(runes.min(val.len()));
    let num = match parse_go_int(digits) {
        Ok(n) => n,
        Err(IntError::Range) => return Err(ParseError::IntegerRange(text)),
        Err(IntError::Syntax) => return Err(ParseError::Integer(text)),
    };
    let suffix = lossy(suffix).trim().to_lowercase();
    let (base, power): (i64, u32) = match suffix.as_str() {
        "" => return Ok(Some(num)),
        "k" => (1000, 1),
        "kb" | "ki" | "kib" => (1024, 1),
        "m" => (1000, 2),
        "mb" | "mi" | "mib" => (1024, 2),
        "g" => (1000, 3),
        "gb" | "gi" | "gib" => (1024, 3),
        "t" => (1000, 4),
        "tb" | "ti" | "tib" => (1024, 4),
        "p" => (1000, 5),
        "pb" | "pi" | "pib" => (1024, 5),
        "e" => (1000, 6),
        "eb" | "ei" | "eib" => (1024, 6),
        _ => return Ok(None),
    };
    // Go multiplies int64s, which wrap on overflow.
    Ok(Some((0..power).fold(num, |n, _| n.wrapping_mul(base))))
}

enum IntError {
    Syntax,
    Range,
}

/// Go: `strconv.ParseInt(s, 10, 64)`.
fn parse_go_int(s: &[u8]) -> Result<i64, IntError> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, s),
        None => return Err(IntError::Syntax),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(IntError::Syntax);
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    for d in digits {
        match magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(d - b'0')))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
    }
    let limit = if negative {
        i64::MIN.unsigned_abs()
    } else {
        i64::MAX.unsigned_abs()
    };
    if overflow || magnitude > limit {
        return Err(IntError::Range);
    }
    if negative {
        Ok(0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).map_err(|_| IntError::Range)
    }
}

/// Go: the itemFloat case (`strconv.ParseFloat`; an overflow to infinity is a range error).
fn parse_float(val: &[u8]) -> Result<f64, ParseError> {
    let text = lossy(val);
    let valid = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    match text.parse::<f64>() {
        Ok(f) if valid && f.is_finite() => Ok(f),
        Ok(_) if valid => Err(ParseError::FloatRange(text)),
        Ok(_) | Err(_) => Err(ParseError::Float(text)),
    }
}

/// Go: `time.Parse("2006-01-02T15:04:05Z", val)`.
fn parse_datetime(val: &[u8]) -> Option<Datetime> {
    let text = std::str::from_utf8(val).ok()?;
    let bytes = text.as_bytes();
    if bytes.len() != 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u16> {
        let digits = bytes.get(range)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let year = num(0..4)?;
    let month = u8::try_from(num(5..7)?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let hour = u8::try_from(num(11..13)?).ok()?;
    let minute = u8::try_from(num(14..16)?).ok()?;
    let second = u8::try_from(num(17..19)?).ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Datetime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

#[cfg(test)]
pub(super) mod test_support {
    //! Access to private helpers for the conf tests.
    pub(in crate::options) fn go_join(dir: &str, name: &str) -> String {
        super::go_join(dir, name)
    }
    pub(in crate::options) fn go_dir(path: &str) -> String {
        super::go_dir(path)
    }
}
