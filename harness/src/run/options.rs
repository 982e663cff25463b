//! Options-layer steps: load a configuration, validate it, look at the values.

use nats_ws::options::{ConfigError, ServerOpts};

use crate::fixture::OptionsStep;
use crate::run::context::{Record, drive};
use crate::transcript::Transcript;

/// Runs an options-layer case.
pub(crate) fn run(steps: &[OptionsStep]) -> Record {
    let mut opts = OptionsRunner { result: None };
    let mut rec = Record::default();
    drive(steps, &mut rec, |step, rec| {
        opts.step(step, &mut rec.t, &mut rec.failures)
    });
    rec
}

/// The last configuration loaded, and what its steps check.
struct OptionsRunner {
    result: Option<Result<(ServerOpts, Vec<String>), String>>,
}

impl OptionsRunner {
    /// Runs an options step.
    fn step(
        &mut self,
        step: &OptionsStep,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        match step {
            OptionsStep::Config(text) => {
                for line in text.lines() {
                    t.line(format!("conf| {line}"));
                }
                let dir = std::env::temp_dir();
                let result = match ServerOpts::from_str(text, &dir) {
                    Ok(loaded) => Ok((
                        loaded.opts,
                        loaded.warnings.iter().map(ToString::to_string).collect(),
                    )),
                    Err(ConfigError::Parse(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match &result {
                    Ok((_, w)) => {
                        t.line("= ok");
                        for w in w {
                            t.line(format!("= warning {w}"));
                        }
                    }
                    Err(e) => {
                        for l in e.lines() {
                            t.line(format!("= error {l}"));
                        }
                    }
                }
                self.result = Some(result);
            }
            OptionsStep::Validate => match &self.result {
                Some(Ok((opts, _))) => {
                    if let Err(e) = opts.validate() {
                        t.line(format!("= invalid: {e}"));
                        self.result = Some(Err(e.to_string()));
                    } else {
                        t.line("= valid");
                    }
                }
                other => failures.push(format!("nothing to validate: {}", outcome(other))),
            },
            OptionsStep::ExpectConfigError(texts) => match &self.result {
                Some(Err(e)) => {
                    for want in texts {
                        if !e.contains(want.as_str()) {
                            failures.push(format!("config error {e:?} does not contain {want:?}"));
                        }
                    }
                }
                other => failures.push(format!(
                    "expected a config error containing {texts:?}, got {}",
                    outcome(other)
                )),
            },
            OptionsStep::ExpectConfigOk => {
                if !matches!(self.result, Some(Ok(_))) {
                    failures.push(format!(
                        "expected the configuration to load, got {}",
                        outcome(&self.result)
                    ));
                }
            }
            OptionsStep::ExpectConfigWarning(text) => match &self.result {
                Some(Ok((_, w))) if w.iter().any(|w| w.contains(text.as_str())) => {}
                other => failures.push(format!(
                    "expected a warning containing {text:?}, got {}",
                    outcome(other)
                )),
            },
            OptionsStep::ExpectOptions(pairs) => match &self.result {
                Some(Ok((opts, _))) => {
                    for [path, want] in pairs {
                        let got = field(opts, path);
                        t.line(format!(
                            "= {path} = {}",
                            got.as_deref().unwrap_or("<unknown field>")
                        ));
                        if got.as_deref() != Some(want.as_str()) {
                            failures.push(format!("{path}: got {got:?}, want {want:?}"));
                        }
                    }
                }
                other => failures.push(format!("expected options, got {}", outcome(other))),
            },
        }
        Ok(())
    }
}

fn outcome(r: &Option<Result<(ServerOpts, Vec<String>), String>>) -> String {
    match r {
        None => "no configuration loaded".to_owned(),
        Some(Ok(_)) => "success".to_owned(),
        Some(Err(e)) => format!("error {e:?}"),
    }
}

/// Renders an option by dotted name, in a language-neutral form (durations in Go's
/// `time.Duration` nanoseconds, lists as `[a, b]`, booleans `true`/`false`).
pub fn field(o: &ServerOpts, path: &str) -> Option<String> {
    let ws = &o.websocket;
    let list = |v: &[String]| format!("[{}]", v.join(", "));
    Some(match path {
        "host" => o.host.clone(),
        "port" => o.port.to_string(),
        "no_auth_user" => o.no_auth_user.clone(),
        "max_payload" => o.max_payload.to_string(),
        "websocket.host" => ws.host.clone(),
        "websocket.port" => ws.port.to_string(),
        "websocket.advertise" => ws.advertise.clone(),
        "websocket.no_auth_user" => ws.no_auth_user.clone(),
        "websocket.jwt_cookie" => ws.jwt_cookie.clone(),
        "websocket.user_cookie" => ws.username_cookie.clone(),
        "websocket.pass_cookie" => ws.password_cookie.clone(),
        "websocket.token_cookie" => ws.token_cookie.clone(),
        "websocket.username" => ws.username.clone(),
        "websocket.password" => ws.password.clone(),
        "websocket.token" => ws.token.clone(),
        "websocket.auth_timeout" => format!("{:?}", ws.auth_timeout),
        "websocket.no_tls" => ws.no_tls.to_string(),
        "websocket.tls" => ws.tls.is_some().to_string(),
        "websocket.tls_map" => ws.tls_map.to_string(),
        "websocket.tls_pinned_certs" => list(
            &ws.tls_pinned_certs
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>(),
        ),
        "websocket.same_origin" => ws.same_origin.to_string(),
        "websocket.allowed_origins" => list(&ws.allowed_origins),
        "websocket.compression" => ws.compression.to_string(),
        "websocket.handshake_timeout" => ws.handshake_timeout.0.to_string(),
        "websocket.ping_interval" => ws.ping_interval.0.to_string(),
        "websocket.headers" => list(
            &ws.headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>(),
        ),
        _ => return None,
    })
}
