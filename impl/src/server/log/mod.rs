//! Log lines: every line goes to a [`LogSink`]: Go's format on stderr, a rotating file or
//! syslog ([`GoLogger`], what the binary uses), or `tracing` ([`tracing_sink`]) for
//! embedders.

mod file;
mod syslog;

use std::sync::{Arc, Mutex};

pub use file::Rotation;
pub use syslog::{SYSLOG_WRITE_TIMEOUT, SyslogTarget};

use file::FileLog;
use syslog::Syslog;

/// Severity, as Go's logger levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LogLevel {
    /// Go `Fatalf`: the server cannot go on (ours reports and stops the listener).
    Fatal,
    /// Go `Errorf`.
    Error,
    /// Go `Warnf`.
    Warn,
    /// Go `Noticef`.
    Info,
    /// Go `Debugf`.
    Debug,
    /// Go `Tracef`.
    Trace,
}

/// Receives every log line (tests capture them).
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// A sink that forwards to `tracing` (the binary installs a subscriber).
pub fn tracing_sink() -> LogSink {
    Arc::new(|level, line| match level {
        LogLevel::Fatal | LogLevel::Error => tracing::error!("{line}"),
        LogLevel::Warn => tracing::warn!("{line}"),
        LogLevel::Info => tracing::info!("{line}"),
        LogLevel::Debug => tracing::debug!("{line}"),
        LogLevel::Trace => tracing::trace!("{line}"),
    })
}

/// A sink that drops everything.
pub fn null_sink() -> LogSink {
    Arc::new(|_, _| {})
}

/// Go's log line timestamps (`logtime`, `logtime_utc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timestamps {
    /// No timestamp (`-T=false`).
    Off,
    /// Local time, Go's default.
    Local,
    /// UTC (`--logtime_utc`).
    Utc,
}

/// Where log lines go (Go: `ConfigureLogger`: a log file wins over remote syslog, which
/// wins over local syslog; stderr otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogDestination {
    /// Standard error.
    Stderr,
    /// `-l` / `log_file`, with `log_size_limit` / `logfile_max_num`.
    File {
        /// The file, appended to.
        path: std::path::PathBuf,
        /// When it rotates and how many files are kept.
        rotation: Rotation,
    },
    /// `-s` / `-r`.
    Syslog(SyslogTarget),
}

/// Where and how the server logs, as Go's logger (server/log.go, logger/log.go).
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The most verbose level written (`-D`: debug, `-V`: trace; info otherwise).
    pub level: LogLevel,
    /// Timestamps (not on syslog, which stamps its own).
    pub time: Timestamps,
    /// Colour the level label (Go: only when stderr is a terminal and no file is used).
    pub colors: bool,
    /// Where lines go.
    pub destination: LogDestination,
}

/// Go's format: `[pid] 2026/12/03 07:20:07.123456 [INF] text`, on stderr or in the log
/// file, one write per line.
pub fn go_sink(opts: &LogOptions) -> std::io::Result<LogSink> {
    GoLogger::open(opts).map(|l| l.sink())
}

/// The binary's logger (Go: `srvlog.Logger` / `SysLogger`): owns the open stderr, file or
/// syslog connection, and reopens a log file on request (SIGUSR1).
#[derive(Debug)]
pub struct GoLogger {
    opts: LogOptions,
    prefix: String,
    out: Mutex<Output>,
}

#[derive(Debug)]
enum Output {
    Stderr,
    File(FileLog),
    Syslog(Syslog),
}

/// What [`GoLogger::reopen`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reopened {
    /// The log file was closed and opened again (`File log re-opened`).
    File,
    /// Not a file logger: nothing to reopen.
    NotAFile,
}

impl GoLogger {
    /// Opens the destination. A syslog that cannot be reached is an error with Go's text
    /// (`error connecting to syslog: "..."`).
    pub fn open(opts: &LogOptions) -> std::io::Result<Arc<Self>> {
        let prefix = format!("[{}] ", std::process::id());
        let out = Self::output(opts, &prefix)?;
        let logger = Arc::new(Self {
            opts: opts.clone(),
            prefix,
            out: Mutex::new(out),
        });
        logger.announce_rotation();
        Ok(logger)
    }

    fn output(opts: &LogOptions, prefix: &str) -> std::io::Result<Output> {
        Ok(match &opts.destination {
            LogDestination::Stderr => Output::Stderr,
            LogDestination::File { path, rotation } => Output::File(FileLog::open(
                path,
                *rotation,
                prefix,
                opts.time != Timestamps::Off,
            )?),
            LogDestination::Syslog(t) => {
                Output::Syslog(Syslog::connect(t.clone()).map_err(std::io::Error::other)?)
            }
        })
    }

    /// Go `setLimit`: a file already past its size limit says so, and that line rotates it.
    fn announce_rotation(&self) {
        let over = matches!(&*self.lock(), Output::File(f) if f.over_limit());
        if over {
            self.log(LogLevel::Info, "Rotating logfile...");
        }
    }

    /// The sink the server writes through.
    pub fn sink(self: &Arc<Self>) -> LogSink {
        let me = Arc::clone(self);
        Arc::new(move |level, text| me.log(level, text))
    }

    /// Writes one line at `level` (dropped when above the configured level).
    pub fn log(&self, level: LogLevel, text: &str) {
        if level > self.opts.level {
            return;
        }
        let mut out = self.lock();
        if let Output::Syslog(s) = &mut *out {
            s.send(level, text);
            return;
        }
        let mut line = String::with_capacity(self.prefix.len() + 40 + text.len());
        line.push_str(&self.prefix);
        push_time(&mut line, self.opts.time);
        line.push_str(&label(level, self.opts.colors));
        line.push_str(text);
        line.push('\n');
        match &mut *out {
            // A log that cannot be written is not a reason to stop serving.
            Output::Stderr => {
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            }
            Output::File(f) => f.write_line(line.as_bytes()),
            Output::Syslog(_) => {}
        }
    }

    /// Go `ReOpenLogFile` (SIGUSR1, `--signal reopen`): closes the log file and opens it
    /// again by name, so that an external rotation (logrotate's rename) takes effect.
    /// Logs Go's lines: `File log re-opened`, or `File log re-open ignored, not a file
    /// logger`. The size limit applies to the new file, and so does `logfile_max_num`
    /// (Go 2.15 drops the latter on reopen: docs/CONFORMANCE.md).
    pub fn reopen(&self) -> std::io::Result<Reopened> {
        if !matches!(self.opts.destination, LogDestination::File { .. }) {
            self.log(
                LogLevel::Info,
                "File log re-open ignored, not a file logger",
            );
            return Ok(Reopened::NotAFile);
        }
        let fresh = Self::output(&self.opts, &self.prefix)?;
        *self.lock() = fresh;
        self.announce_rotation();
        self.log(LogLevel::Info, "File log re-opened");
        Ok(Reopened::File)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Output> {
        self.out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Go: `[INF] `, or with colours `[\x1b[32mINF\x1b[0m] ` (logger.setColoredLabelFormats).
fn label(level: LogLevel, colors: bool) -> String {
    let (name, color) = match level {
        LogLevel::Fatal => ("FTL", "31"),
        LogLevel::Error => ("ERR", "31"),
        LogLevel::Warn => ("WRN", "0;93"),
        LogLevel::Info => ("INF", "32"),
        LogLevel::Debug => ("DBG", "36"),
        LogLevel::Trace => ("TRC", "33"),
    };
    if colors {
        format!("[\x1b[{color}m{name}\x1b[0m] ")
    } else {
        format!("[{name}] ")
    }
}

/// Go's `log.LstdFlags | log.Lmicroseconds`: `2006/01/02 15:04:05.000000 `.
fn push_time(line: &mut String, time: Timestamps) {
    use std::fmt::Write;
    let now = jiff::Timestamp::now();
    let zoned = match time {
        Timestamps::Off => return,
        Timestamps::Local => now.to_zoned(jiff::tz::TimeZone::system()),
        Timestamps::Utc => now.to_zoned(jiff::tz::TimeZone::UTC),
    };
    let _ = write!(
        line,
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:06} ",
        zoned.year(),
        zoned.month(),
        zoned.day(),
        zoned.hour(),
        zoned.minute(),
        zoned.second(),
        zoned.subsec_nanosecond() / 1000
    );
}
