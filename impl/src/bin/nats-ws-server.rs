//! `nats-ws-server`: a NATS server with a WebSocket listener (work in progress).
fn main() {}
