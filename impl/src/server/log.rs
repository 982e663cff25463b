//! Log lines: every line goes to a [`LogSink`]: Go's format on stderr or a file ([`go_sink`],
//! what the binary uses), or `tracing` ([`tracing_sink`]) for embedders.

use std::sync::Arc;

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

/// Where and how the server logs, as Go's logger (server/log.go, logger/log.go).
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The most verbose level written (`-D`: debug, `-V`: trace; info otherwise).
    pub level: LogLevel,
    /// Timestamps.
    pub time: Timestamps,
    /// Colour the level label (Go: only when stderr is a terminal and no file is used).
    pub colors: bool,
    /// `-l` / `log_file`: append to this file instead of writing to stderr.
    pub file: Option<std::path::PathBuf>,
}

/// Go's format: `[pid] 2026/12/03 07:20:07.123456 [INF] text`, on stderr or in the log
/// file, one write per line.
pub fn go_sink(opts: &LogOptions) -> std::io::Result<LogSink> {
    use std::io::Write;
    let out: Box<dyn Write + Send> = match &opts.file {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        None => Box::new(std::io::stderr()),
    };
    let out = std::sync::Mutex::new(out);
    let prefix = format!("[{}] ", std::process::id());
    let (max, time, colors) = (opts.level, opts.time, opts.colors);
    Ok(Arc::new(move |level: LogLevel, text: &str| {
        if level > max {
            return;
        }
        let mut line = String::with_capacity(prefix.len() + 40 + text.len());
        line.push_str(&prefix);
        push_time(&mut line, time);
        line.push_str(&label(level, colors));
        line.push_str(text);
        line.push('\n');
        let mut out = out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A log that cannot be written is not a reason to stop serving.
        let _ = out.write_all(line.as_bytes());
    }))
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
