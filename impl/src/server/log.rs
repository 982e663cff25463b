//! Log lines: every line goes to a [`LogSink`]; the default one forwards to `tracing`.

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
