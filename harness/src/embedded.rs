//! The in-process nats-ws server as a fixture target.

use crate::run::EmbeddedStarter;

/// Starts the embedded server for a rendered configuration.
pub fn starter() -> EmbeddedStarter {
    Box::new(|_config: &str| Err("the embedded nats-ws server is not available yet".to_owned()))
}
