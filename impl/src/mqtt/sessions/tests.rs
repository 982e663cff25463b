//! The account state driven through MqttSession, on a simulated clock.
