//! The `nats-server` command line (Go: `ConfigureOptions` in server/opts.go, read with
//! Go's `flag` package): the same flags, aliases and value syntax, so that scripts and
//! client test suites that start `nats-server` can start `nats-ws-server` unchanged.

use std::path::PathBuf;

/// What the command line set; `None` = not given (the configuration file's value, or the
/// default, stands: Go's `MergeOptions` only applies flags that were set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandLine {
    /// `-h`, `--help`.
    pub help: bool,
    /// `-v`, `--version`.
    pub version: bool,
    /// `--help_tls`.
    pub help_tls: bool,
    /// `-t`: check the configuration file and exit.
    pub check_config: bool,
    /// `-c`, `--config`.
    pub config: Option<PathBuf>,
    /// `-a`, `--addr`, `--net`.
    pub host: Option<String>,
    /// `-p`, `--port` (`-1`: a random port).
    pub port: Option<i64>,
    /// `-n`, `--name`, `--server_name`.
    pub server_name: Option<String>,
    /// `-P`, `--pid`.
    pub pid_file: Option<PathBuf>,
    /// `-m`, `--http_port`.
    pub http_port: Option<i64>,
    /// `-ms`, `--https_port`.
    pub https_port: Option<i64>,
    /// `-sl`, `--signal`: `<signal>[=<pid|pidfile>]`.
    pub signal: Option<String>,
    /// `--client_advertise`.
    pub client_advertise: Option<String>,
    /// `--ports_file_dir`.
    pub ports_file_dir: Option<PathBuf>,
    /// `-l`, `--log`.
    pub log_file: Option<PathBuf>,
    /// `-T`, `--logtime`.
    pub logtime: Option<bool>,
    /// `--logtime_utc`.
    pub logtime_utc: Option<bool>,
    /// `-s`, `--syslog`.
    pub syslog: Option<bool>,
    /// `-r`, `--remote_syslog`.
    pub remote_syslog: Option<String>,
    /// `-D`, `--debug` (and `-DV`, `-DVV`).
    pub debug: Option<bool>,
    /// `-V`, `--trace` (and `-VV`, `-DV`, `-DVV`).
    pub trace: Option<bool>,
    /// `-VV`, `-DVV`: trace the system account as well.
    pub trace_verbose: Option<bool>,
    /// `--log_size_limit`.
    pub log_size_limit: Option<i64>,
    /// `--max_traced_msg_len`.
    pub max_traced_msg_len: Option<i64>,
    /// `-js`, `--jetstream`.
    pub jetstream: Option<bool>,
    /// `-sd`, `--store_dir`.
    pub store_dir: Option<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--pass`.
    pub pass: Option<String>,
    /// `--auth`.
    pub auth: Option<String>,
    /// `--tls`.
    pub tls: Option<bool>,
    /// `--tlscert`.
    pub tls_cert: Option<String>,
    /// `--tlskey`.
    pub tls_key: Option<String>,
    /// `--tlsverify`.
    pub tls_verify: Option<bool>,
    /// `--tlscacert`.
    pub tls_ca_cert: Option<String>,
    /// `--ws_port` (ours; Go configures websocket only in the file).
    pub ws_port: Option<i64>,
    /// Flags Go has that this server refuses (clustering, gateways, profiling), in order.
    pub refused: Vec<String>,
}

/// Why the command line was not understood. Display is Go's `flag` package text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Go: `flag provided but not defined: -x`.
    #[error("flag provided but not defined: -{0}")]
    Undefined(String),
    /// Go: `flag needs an argument: -p`.
    #[error("flag needs an argument: -{0}")]
    NeedsArgument(String),
    /// Go: `invalid value "x" for flag -p: parse error`.
    #[error("invalid value {value:?} for flag -{flag}: {reason}")]
    InvalidValue {
        /// The flag as written (without dashes).
        flag: String,
        /// The value.
        value: String,
        /// `parse error` or `value out of range`.
        reason: &'static str,
    },
    /// Go: `invalid boolean value "x" for -D: parse error`.
    #[error("invalid boolean value {value:?} for -{flag}: parse error")]
    InvalidBool {
        /// The flag as written.
        flag: String,
        /// The value.
        value: String,
    },
    /// Go: `bad flag syntax: ---x`.
    #[error("bad flag syntax: {0}")]
    BadSyntax(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    Help,
    Version,
    HelpTls,
    Check,
    Config,
    Host,
    Port,
    Name,
    Pid,
    HttpPort,
    HttpsPort,
    Signal,
    ClientAdvertise,
    PortsFileDir,
    Log,
    LogTime,
    LogTimeUtc,
    Syslog,
    RemoteSyslog,
    Debug,
    Trace,
    TraceVerbose,
    DebugTrace,
    DebugTraceVerbose,
    LogSizeLimit,
    MaxTracedMsgLen,
    JetStream,
    StoreDir,
    User,
    Pass,
    Auth,
    Tls,
    TlsCert,
    TlsKey,
    TlsVerify,
    TlsCaCert,
    WsPort,
    /// A Go flag this server refuses: clustering, gateways, profiling.
    Refused(Kind),
}

/// Every name Go's `nats-server` defines (main.go and `ConfigureOptions`), and ours.
const FLAGS: &[(&str, Flag, Kind)] = &[
    ("h", Flag::Help, Kind::Bool),
    ("help", Flag::Help, Kind::Bool),
    ("v", Flag::Version, Kind::Bool),
    ("version", Flag::Version, Kind::Bool),
    ("help_tls", Flag::HelpTls, Kind::Bool),
    ("t", Flag::Check, Kind::Bool),
    ("c", Flag::Config, Kind::Text),
    ("config", Flag::Config, Kind::Text),
    ("a", Flag::Host, Kind::Text),
    ("addr", Flag::Host, Kind::Text),
    ("net", Flag::Host, Kind::Text),
    ("p", Flag::Port, Kind::Int),
    ("port", Flag::Port, Kind::Int),
    ("n", Flag::Name, Kind::Text),
    ("name", Flag::Name, Kind::Text),
    ("server_name", Flag::Name, Kind::Text),
    ("P", Flag::Pid, Kind::Text),
    ("pid", Flag::Pid, Kind::Text),
    ("m", Flag::HttpPort, Kind::Int),
    ("http_port", Flag::HttpPort, Kind::Int),
    ("ms", Flag::HttpsPort, Kind::Int),
    ("https_port", Flag::HttpsPort, Kind::Int),
    ("sl", Flag::Signal, Kind::Text),
    ("signal", Flag::Signal, Kind::Text),
    ("client_advertise", Flag::ClientAdvertise, Kind::Text),
    ("ports_file_dir", Flag::PortsFileDir, Kind::Text),
    ("l", Flag::Log, Kind::Text),
    ("log", Flag::Log, Kind::Text),
    ("T", Flag::LogTime, Kind::Bool),
    ("logtime", Flag::LogTime, Kind::Bool),
    ("logtime_utc", Flag::LogTimeUtc, Kind::Bool),
    ("s", Flag::Syslog, Kind::Bool),
    ("syslog", Flag::Syslog, Kind::Bool),
    ("r", Flag::RemoteSyslog, Kind::Text),
    ("remote_syslog", Flag::RemoteSyslog, Kind::Text),
    ("D", Flag::Debug, Kind::Bool),
    ("debug", Flag::Debug, Kind::Bool),
    ("V", Flag::Trace, Kind::Bool),
    ("trace", Flag::Trace, Kind::Bool),
    ("VV", Flag::TraceVerbose, Kind::Bool),
    ("DV", Flag::DebugTrace, Kind::Bool),
    ("DVV", Flag::DebugTraceVerbose, Kind::Bool),
    ("log_size_limit", Flag::LogSizeLimit, Kind::Int),
    ("max_traced_msg_len", Flag::MaxTracedMsgLen, Kind::Int),
    ("js", Flag::JetStream, Kind::Bool),
    ("jetstream", Flag::JetStream, Kind::Bool),
    ("sd", Flag::StoreDir, Kind::Text),
    ("store_dir", Flag::StoreDir, Kind::Text),
    ("user", Flag::User, Kind::Text),
    ("pass", Flag::Pass, Kind::Text),
    ("auth", Flag::Auth, Kind::Text),
    ("tls", Flag::Tls, Kind::Bool),
    ("tlscert", Flag::TlsCert, Kind::Text),
    ("tlskey", Flag::TlsKey, Kind::Text),
    ("tlsverify", Flag::TlsVerify, Kind::Bool),
    ("tlscacert", Flag::TlsCaCert, Kind::Text),
    ("ws_port", Flag::WsPort, Kind::Int),
    ("routes", Flag::Refused(Kind::Text), Kind::Text),
    ("cluster", Flag::Refused(Kind::Text), Kind::Text),
    ("cluster_listen", Flag::Refused(Kind::Text), Kind::Text),
    ("cluster_name", Flag::Refused(Kind::Text), Kind::Text),
    ("cluster_advertise", Flag::Refused(Kind::Text), Kind::Text),
    ("no_advertise", Flag::Refused(Kind::Bool), Kind::Bool),
    ("connect_retries", Flag::Refused(Kind::Int), Kind::Int),
    ("profile", Flag::Refused(Kind::Int), Kind::Int),
];

impl CommandLine {
    /// Parses the arguments after the program name as Go's `flag` package does: `-name`
    /// or `--name`, values as the next argument or after `=`, boolean flags only with
    /// `=` (`-T=false`); parsing stops at the first argument that is not a flag, or after
    /// `--`.
    pub fn parse<I, S>(args: I) -> Result<CommandLine, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into).peekable();
        let mut cl = CommandLine::default();
        while let Some(arg) = args.next() {
            if arg.len() < 2 || !arg.starts_with('-') {
                break;
            }
            let dashes = if arg.starts_with("--") { 2 } else { 1 };
            if arg == "--" {
                break;
            }
            let body = &arg[dashes..];
            if body.starts_with('-') || body.starts_with('=') {
                return Err(CliError::BadSyntax(arg));
            }
            let (name, inline) = match body.find('=') {
                Some(i) => (&body[..i], Some(body[i + 1..].to_owned())),
                None => (body, None),
            };
            let Some(&(_, flag, kind)) = FLAGS.iter().find(|(n, _, _)| *n == name) else {
                return Err(CliError::Undefined(name.to_owned()));
            };
            let value = match kind {
                Kind::Bool => Value::Bool(match inline {
                    Some(v) => parse_bool(&v).ok_or(CliError::InvalidBool {
                        flag: name.to_owned(),
                        value: v,
                    })?,
                    None => true,
                }),
                Kind::Int | Kind::Text => {
                    let v = match inline {
                        Some(v) => v,
                        None => args
                            .next()
                            .ok_or_else(|| CliError::NeedsArgument(name.to_owned()))?,
                    };
                    if kind == Kind::Int {
                        Value::Int(parse_int(&v).map_err(|reason| CliError::InvalidValue {
                            flag: name.to_owned(),
                            value: v.clone(),
                            reason,
                        })?)
                    } else {
                        Value::Text(v)
                    }
                }
            };
            cl.set(flag, name, value);
        }
        Ok(cl)
    }

    fn set(&mut self, flag: Flag, name: &str, value: Value) {
        match (flag, value) {
            (Flag::Help, Value::Bool(b)) => self.help = b,
            (Flag::Version, Value::Bool(b)) => self.version = b,
            (Flag::HelpTls, Value::Bool(b)) => self.help_tls = b,
            (Flag::Check, Value::Bool(b)) => self.check_config = b,
            (Flag::Config, Value::Text(t)) => self.config = Some(t.into()),
            (Flag::Host, Value::Text(t)) => self.host = Some(t),
            (Flag::Port, Value::Int(n)) => self.port = Some(n),
            (Flag::Name, Value::Text(t)) => self.server_name = Some(t),
            (Flag::Pid, Value::Text(t)) => self.pid_file = Some(t.into()),
            (Flag::HttpPort, Value::Int(n)) => self.http_port = Some(n),
            (Flag::HttpsPort, Value::Int(n)) => self.https_port = Some(n),
            (Flag::Signal, Value::Text(t)) => self.signal = Some(t),
            (Flag::ClientAdvertise, Value::Text(t)) => self.client_advertise = Some(t),
            (Flag::PortsFileDir, Value::Text(t)) => self.ports_file_dir = Some(t.into()),
            (Flag::Log, Value::Text(t)) => self.log_file = Some(t.into()),
            (Flag::LogTime, Value::Bool(b)) => self.logtime = Some(b),
            (Flag::LogTimeUtc, Value::Bool(b)) => self.logtime_utc = Some(b),
            (Flag::Syslog, Value::Bool(b)) => self.syslog = Some(b),
            (Flag::RemoteSyslog, Value::Text(t)) => self.remote_syslog = Some(t),
            (Flag::Debug, Value::Bool(b)) => self.debug = Some(b),
            (Flag::Trace, Value::Bool(b)) => self.trace = Some(b),
            (Flag::TraceVerbose, Value::Bool(b)) => {
                self.trace = Some(b);
                self.trace_verbose = Some(b);
            }
            (Flag::DebugTrace, Value::Bool(b)) => {
                self.debug = Some(b);
                self.trace = Some(b);
            }
            (Flag::DebugTraceVerbose, Value::Bool(b)) => {
                self.debug = Some(b);
                self.trace = Some(b);
                self.trace_verbose = Some(b);
            }
            (Flag::LogSizeLimit, Value::Int(n)) => self.log_size_limit = Some(n),
            (Flag::MaxTracedMsgLen, Value::Int(n)) => self.max_traced_msg_len = Some(n),
            (Flag::JetStream, Value::Bool(b)) => self.jetstream = Some(b),
            (Flag::StoreDir, Value::Text(t)) => self.store_dir = Some(t),
            (Flag::User, Value::Text(t)) => self.user = Some(t),
            (Flag::Pass, Value::Text(t)) => self.pass = Some(t),
            (Flag::Auth, Value::Text(t)) => self.auth = Some(t),
            (Flag::Tls, Value::Bool(b)) => self.tls = Some(b),
            (Flag::TlsCert, Value::Text(t)) => self.tls_cert = Some(t),
            (Flag::TlsKey, Value::Text(t)) => self.tls_key = Some(t),
            (Flag::TlsVerify, Value::Bool(b)) => self.tls_verify = Some(b),
            (Flag::TlsCaCert, Value::Text(t)) => self.tls_ca_cert = Some(t),
            (Flag::WsPort, Value::Int(n)) => self.ws_port = Some(n),
            (Flag::Refused(_), _) => self.refused.push(name.to_owned()),
            // The table gives each flag its kind, so the value always matches.
            (_, Value::Bool(_) | Value::Int(_) | Value::Text(_)) => {}
        }
    }
}

#[derive(Debug)]
enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
}

/// Go `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go `strconv.ParseInt(s, 0, 64)` as the `flag` package reports it: a sign, then
/// decimal, `0x`/`0o`/`0b` or a leading-`0` octal, `_` only after a base prefix.
fn parse_int(s: &str) -> Result<i64, &'static str> {
    const PARSE: &str = "parse error";
    const RANGE: &str = "value out of range";
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() || (!prefixed && digits.contains('_')) {
        return Err(PARSE);
    }
    // Go: `_` only between digits, or between the base prefix and a digit.
    if (!prefixed && digits.starts_with('_')) || digits.ends_with('_') || digits.contains("__") {
        return Err(PARSE);
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(PARSE);
    }
    let magnitude = u64::from_str_radix(&clean, radix).map_err(|_| RANGE)?;
    if neg {
        if magnitude > i64::MIN.unsigned_abs() {
            return Err(RANGE);
        }
        Ok(0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).map_err(|_| RANGE)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CommandLine, CliError> {
        CommandLine::parse(args.iter().copied())
    }

    #[test]
    fn launchers_command_lines() {
        // nats.py's suite.
        let cl = parse(&[
            "-p",
            "4222",
            "-m",
            "8222",
            "-a",
            "127.0.0.1",
            "--config",
            "ws.conf",
        ])
        .unwrap();
        assert_eq!(cl.port, Some(4222));
        assert_eq!(cl.http_port, Some(8222));
        assert_eq!(cl.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(cl.config, Some(PathBuf::from("ws.conf")));
        // async-nats's harness.
        let cl = parse(&[
            "--store_dir",
            "/tmp/x",
            "-p",
            "-1",
            "-l",
            "log",
            "-P",
            "pid",
        ])
        .unwrap();
        assert_eq!(cl.store_dir.as_deref(), Some("/tmp/x"));
        assert_eq!(cl.port, Some(-1));
        assert_eq!(cl.log_file, Some(PathBuf::from("log")));
        assert_eq!(cl.pid_file, Some(PathBuf::from("pid")));
        // nats-core's launcher.
        let cl = parse(&["--port", "-1", "--config", "f"]).unwrap();
        assert_eq!(cl.port, Some(-1));
    }

    #[test]
    fn go_flag_syntax() {
        let cl = parse(&[
            "--port=4333",
            "-T=false",
            "-DV",
            "-ms",
            "8443",
            "-sl=reload=7",
        ])
        .unwrap();
        assert_eq!(cl.port, Some(4333));
        assert_eq!(cl.logtime, Some(false));
        assert_eq!(
            (cl.debug, cl.trace, cl.trace_verbose),
            (Some(true), Some(true), None)
        );
        assert_eq!(cl.https_port, Some(8443));
        assert_eq!(cl.signal.as_deref(), Some("reload=7"));
        let cl = parse(&["-DVV"]).unwrap();
        assert_eq!(cl.trace_verbose, Some(true));
        // Parsing stops at the first non-flag and after "--".
        let cl = parse(&["-D", "extra", "-V"]).unwrap();
        assert_eq!((cl.debug, cl.trace), (Some(true), None));
        let cl = parse(&["--", "-V"]).unwrap();
        assert_eq!(cl.trace, None);
        let cl = parse(&[
            "--routes",
            "nats://127.0.0.1:1",
            "--no_advertise",
            "-p",
            "1",
        ])
        .unwrap();
        assert_eq!(cl.refused, ["routes", "no_advertise"]);
        assert_eq!(cl.port, Some(1));
    }

    #[test]
    fn go_error_texts() {
        let text = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert_eq!(text(&["-x"]), "flag provided but not defined: -x");
        assert_eq!(
            text(&["--cluster_x=1"]),
            "flag provided but not defined: -cluster_x"
        );
        assert_eq!(text(&["-p"]), "flag needs an argument: -p");
        assert_eq!(
            text(&["-p", "abc"]),
            "invalid value \"abc\" for flag -p: parse error"
        );
        assert_eq!(
            text(&["-p", "99999999999999999999"]),
            "invalid value \"99999999999999999999\" for flag -p: value out of range"
        );
        assert_eq!(
            text(&["-D=maybe"]),
            "invalid boolean value \"maybe\" for -D: parse error"
        );
        assert_eq!(text(&["---p"]), "bad flag syntax: ---p");
        assert_eq!(text(&["-=p"]), "bad flag syntax: -=p");
    }

    #[test]
    fn go_integer_forms() {
        for (s, want) in [
            ("10", Ok(10)),
            ("-1", Ok(-1)),
            ("+7", Ok(7)),
            ("0x1f", Ok(31)),
            ("0o17", Ok(15)),
            ("017", Ok(15)),
            ("0b101", Ok(5)),
            ("0x_1f", Ok(31)),
            ("1_000", Err("parse error")),
            ("", Err("parse error")),
            ("-9223372036854775808", Ok(i64::MIN)),
            ("9223372036854775808", Err("value out of range")),
        ] {
            assert_eq!(parse_int(s), want, "{s:?}");
        }
    }
}
