//! Locks every MQTT error text with its CONNACK code and closed state in
//! `golden/mqtt_error_messages.snap`: a changed message is a reviewed change.

use std::fmt::Write;

use nats_ws::mqtt::MqttError;

#[test]
fn mqtt_error_messages() {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "## MqttError (CONNACK return code or -, closed state, then text)"
    );
    for e in MqttError::examples() {
        let rc = e
            .connack_code()
            .map_or("-".to_string(), |c| format!("0x{:02x}", c.code()));
        let _ = writeln!(t, "{rc:>4} {:?}: {e}", e.closed_state());
    }
    nats_ws_harness::golden::settings().bind(|| insta::assert_snapshot!("mqtt_error_messages", t));
}
