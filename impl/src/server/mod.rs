//! The tokio server: listeners, TLS, the per-connection pump (work in progress).
