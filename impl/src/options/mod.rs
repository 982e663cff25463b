//! Server options: the NATS configuration file format and the websocket options built from it.

pub mod conf;
