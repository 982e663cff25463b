//! The NATS configuration file format (nats-server's `conf` package): a positioned value tree.
//!
//! The grammar is Go's: `key = value`, `key: value` or `key value`; maps `{}` and arrays
//! `[]` separated by commas or new lines; single-quoted, double-quoted (with `\t \n \r \" \\
//! \xNN` escapes) and bare strings; `(` … `)` block strings ending at a `)` alone on a line;
//! integers with size suffixes (`k m g t p e` are powers of 1000; `kb ki kib`, `mb mi mib`,
//! … are powers of 1024; an overflow wraps like Go's int64); floats; booleans
//! (`true false yes no on off`, any case); Zulu datetimes (`2016-05-04T18:53:41Z`); `#`
//! and `//` comments; `include "file"` relative to the including file's directory;
//! `$NAME` variables resolved from the enclosing maps (innermost first), then from the
//! environment (whose value is parsed as a config value), with `$2a$…` kept as a literal
//! bcrypt hash.
//!
//! Parsing is Go's pedantic mode (`conf.ParseWithChecks`, what the server uses): every
//! value carries the file, line and position of its key (or of itself inside an array),
//! and a map entry referenced as a variable is marked [`Value::used_variable`], which
//! exempts it from `unknown field` errors.
//!
//! Limits Go does not have (each gives a clear error, never a panic or unbounded memory):
//! [`MAX_DEPTH`] nested maps/arrays, [`MAX_INCLUDE_DEPTH`] nested includes,
//! [`MAX_FILE_SIZE`] bytes per file and [`MAX_VALUES`] values per parse (variables copy
//! values, so without it `b=[$a,$a]`, `c=[$b,$b]`, … would grow exponentially).
//! Strings are Rust `String`s: bytes that are not UTF-8 (possible in Go via `\xNN`
//! escapes or raw file bytes) are replaced by U+FFFD.

#[cfg(test)]
mod diff_tests;
mod digest;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use digest::{digest, to_json};
pub use parser::Parser;

/// Deepest nesting of maps and arrays below the top level.
pub const MAX_DEPTH: usize = 64;
/// Deepest chain of `include`s (Go recurses until its stack overflows on a cycle).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Largest configuration file read, in bytes.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Most values created by one parse, counting copies made by variable references and
/// values of included files.
pub const MAX_VALUES: usize = 1 << 20;

/// Where a value was written: Go's `token.SourceFile()`, `Line()` and `Position()`.
///
/// `column` is Go's position: 0-based on the first line of a file and 1-based on the
/// others (Go counts from the `'\n'` that starts the line), in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pos {
    /// The file as Go names it: the path given for the top-level file (empty for a
    /// string), the directory-joined and cleaned path for an included one.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: usize,
    /// Go's position in the line (see above).
    pub column: usize,
}

impl fmt::Display for Pos {
    /// Go: `configErr.Source`, `file:line:pos`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A parsed value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The value itself.
    pub kind: Kind,
    /// Position of the value's key (map entries) or of the value (array elements).
    pub pos: Pos,
    /// Whether this map entry was referenced as `$variable` (Go: `IsUsedVariable`).
    pub used_variable: bool,
}

/// The value kinds of the format.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// Quoted, bare or block string.
    String(String),
    /// Integer, after its size suffix was applied.
    Integer(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// ISO 8601 Zulu datetime.
    Datetime(Datetime),
    /// Array.
    Array(Vec<Value>),
    /// Map.
    Map(Map),
}

impl Kind {
    /// Go's `%T` name of the value's dynamic type (`string`, `int64`, `float64`, `bool`,
    /// `time.Time`, `[]interface {}`, `map[string]interface {}`).
    pub fn go_type(&self) -> &'static str {
        match self {
            Kind::String(_) => "string",
            Kind::Integer(_) => "int64",
            Kind::Float(_) => "float64",
            Kind::Bool(_) => "bool",
            Kind::Datetime(_) => "time.Time",
            Kind::Array(_) => "[]interface {}",
            Kind::Map(_) => "map[string]interface {}",
        }
    }
}

/// A Zulu datetime as the format writes it (`YYYY-MM-DDTHH:MM:SSZ`), validated like
/// Go's `time.Parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Datetime {
    /// Year, 0 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31 (valid for the month).
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59.
    pub second: u8,
}

impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A map in insertion order. Keys are stored as written and looked up exactly (Go's
/// `map[string]any`: `Port` and `port` are two entries, and variables are case-sensitive);
/// the option parsers compare keys case-insensitively by lowercasing them, as Go's do.
/// Setting an existing key replaces its value in place.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<(String, Value)>,
    index: HashMap<String, usize>,
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of exactly `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = *self.index.get(key)?;
        self.entries.get(i).map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = *self.index.get(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// The first value whose key equals `key` ignoring ASCII case.
    pub fn get_ignore_case(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing value in place.
    pub fn insert(&mut self, key: String, value: Value) {
        if let Some(slot) = self.get_mut(&key) {
            *slot = value;
            return;
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
    }

    /// The values, mutable, in insertion order.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a str, &'a Value);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Why a configuration could not be parsed. Texts are Go's (`conf/parse.go`, `lex.go`),
/// except for the limits Go does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A lexer error. Go reports only the line.
    #[error("Parse error on line {line}: '{message}'")]
    Syntax {
        /// Line of the error.
        line: usize,
        /// Go's lexer message.
        message: String,
    },
    /// The input ended on a key without a value.
    #[error("config is invalid ({file}:{line}:{pos})")]
    Invalid {
        /// The file as given (empty for a string).
        file: String,
        /// Line of the end of input.
        line: usize,
        /// Go's position of the end of input.
        pos: usize,
    },
    /// An integer outside `i64`.
    #[error("integer '{0}' is out of the range")]
    IntegerRange(String),
    /// An integer Go's `strconv.ParseInt` rejects.
    #[error("expected integer, but got '{0}'")]
    Integer(String),
    /// A float outside `f64`.
    #[error("float '{0}' is out of the range")]
    FloatRange(String),
    /// A float Go's `strconv.ParseFloat` rejects.
    #[error("expected float, but got '{0}'")]
    Float(String),
    /// A datetime that is not a valid date and time.
    #[error("expected Zulu formatted DateTime, but got '{0}'")]
    Datetime(String),
    /// An environment variable's value did not parse.
    #[error("variable reference for '{name}' on line {line} could not be parsed: {source}")]
    VariableUnparsable {
        /// Variable name (without `$`).
        name: String,
        /// Line of the reference.
        line: usize,
        /// Why the value did not parse.
        source: Box<ParseError>,
    },
    /// Neither an enclosing map nor the environment defines the variable.
    #[error("variable reference for '{name}' on line {line} can not be found")]
    VariableNotFound {
        /// Variable name (without `$`).
        name: String,
        /// Line of the reference.
        line: usize,
    },
    /// Environment variables that refer to each other.
    #[error("variable reference cycle for '{0}'")]
    VariableCycle(String),
    /// An included file failed.
    #[error("error parsing include file '{name}', {source}")]
    Include {
        /// The name as written after `include`.
        name: String,
        /// Why it failed.
        source: Box<ParseError>,
    },
    /// A file could not be opened (Go's `*fs.PathError` text).
    #[error("{op} {path}: {reason}")]
    Io {
        /// `open` or `read`.
        op: &'static str,
        /// The path.
        path: String,
        /// Go's syscall text, e.g. `no such file or directory`.
        reason: String,
    },
    /// More than [`MAX_DEPTH`] nested maps and arrays (not in Go).
    #[error("config nesting is deeper than {MAX_DEPTH} levels ({file}:{line}:{pos})")]
    TooDeep {
        /// File of the value that went too deep.
        file: String,
        /// Its line.
        line: usize,
        /// Its position.
        pos: usize,
    },
    /// More than [`MAX_INCLUDE_DEPTH`] nested includes (not in Go).
    #[error("include nesting is deeper than {MAX_INCLUDE_DEPTH} levels")]
    IncludeTooDeep,
    /// A file larger than [`MAX_FILE_SIZE`] (not in Go).
    #[error("config file {0} is larger than {MAX_FILE_SIZE} bytes")]
    FileTooLarge(String),
    /// More than [`MAX_VALUES`] values (not in Go).
    #[error("config has more than {MAX_VALUES} values")]
    TooManyValues,
    /// A state Go's parser panics on ("BUG in parser ..."), reported instead.
    #[error("BUG in parser, {0}")]
    Internal(&'static str),
}

/// Parses configuration text the way the server does (Go: `conf.ParseWithChecks`), with
/// includes relative to `base_dir` and variables falling back to the process environment.
/// Values are attributed to file `""`, as Go does for strings.
pub fn parse_str(text: &str, base_dir: &Path) -> Result<Map, ParseError> {
    Parser::new()
        .base_dir(base_dir)
        .parse_bytes(text.as_bytes())
}

/// Reads and parses a configuration file (Go: `conf.ParseFileWithChecks`).
pub fn parse_file(path: &Path) -> Result<Map, ParseError> {
    Parser::new().parse_file(path)
}
