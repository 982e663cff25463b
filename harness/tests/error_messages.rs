//! Locks every error text and the close status or HTTP status it maps to in
//! `golden/error_messages.snap`: a changed message is a reviewed change.

use std::fmt::Write;

use nats_ws::codec::ReadError;
use nats_ws::deflate::InflateError;
use nats_ws::frame::{ClosedState, FrameError, UnknownClosedState};

#[test]
fn error_messages() {
    let mut t = String::new();
    let _ = writeln!(t, "## FrameError (close status, then text)");
    for e in FrameError::examples() {
        let _ = writeln!(t, "{} {}", e.close_code().0, e);
    }
    let _ = writeln!(t, "\n## InflateError (close status, then text)");
    for e in InflateError::examples() {
        let code = ReadError::<()>::Inflate(e.clone())
            .close_code()
            .map_or(0, |c| c.0);
        let _ = writeln!(t, "{code} {e}");
    }
    let _ = writeln!(
        t,
        "\n## ClosedState (value, close status, sends a close frame, body)"
    );
    for s in ClosedState::ALL {
        let p = s.close_payload();
        let _ = writeln!(
            t,
            "{:>3} {} {} {}",
            s as u8,
            p.code().map_or(0, |c| c.0),
            if s.sends_close_frame() {
                "frame  "
            } else {
                "noframe"
            },
            String::from_utf8_lossy(p.reason())
        );
    }
    let p = UnknownClosedState(254).close_payload();
    let _ = writeln!(
        t,
        "254 {} frame   {}",
        p.code().map_or(0, |c| c.0),
        String::from_utf8_lossy(p.reason())
    );
    let _ = writeln!(t, "\n## HandshakeError (HTTP status, logged, then text)");
    for e in nats_ws::handshake::HandshakeError::examples() {
        let logged = if e.log_line("addr").is_some() {
            "logged"
        } else {
            "silent"
        };
        let _ = writeln!(t, "{} {logged} {e}", e.status());
    }
    let _ = writeln!(t, "\n## ValidationError (configuration refused at start)");
    for e in nats_ws::options::ValidationError::examples() {
        let _ = writeln!(t, "{e}");
    }
    let _ = writeln!(
        t,
        "\n## LeafValidationError (leafnodes {{}} refused at start)"
    );
    for e in nats_ws::options::LeafValidationError::examples() {
        let _ = writeln!(t, "{e}");
    }
    nats_ws_harness::golden::settings().bind(|| insta::assert_snapshot!("error_messages", t));
}
