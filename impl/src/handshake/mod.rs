//! The HTTP/1.1 upgrade handshake (RFC 6455 §4), sans-IO, with the Go server's rules.
