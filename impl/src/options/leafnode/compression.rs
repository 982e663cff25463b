//! The leafnode `compression` option (Go: `CompressionOpts`, `parseCompression`,
//! `validateAndNormalizeCompressionOption`). This server speaks leafnodes uncompressed:
//! every mode parses and validates as in Go, and a mode that would compress is reported
//! with a warning (docs/CONFORMANCE.md).

use std::fmt;

use super::super::access::{as_array, as_str};
use super::super::conf::{Kind, Value};
use super::super::duration::{GoDuration, parse_duration};
use super::super::error::{Abort, Diagnostics, Reason};
use crate::goquote::quote;

/// `compression` as written (Go validates the mode when the server starts, not when the
/// file is parsed; see [`CompressionOpts::mode`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompressionOpts {
    /// `compression: "<mode>"`, `compression: true|false` or `compression { mode }`;
    /// empty when absent.
    pub mode: String,
    /// `compression { rtt_thresholds | thresholds | rtts | rtt: [...] }`.
    pub rtt_thresholds: Vec<GoDuration>,
}

/// A validated compression mode (Go's `Compression*` constants).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompressionMode {
    /// Unset: Go's default, `s2_auto`, which this server answers with `off`.
    Default,
    /// `not supported`.
    NotSupported,
    /// `off` / `disabled` / `false`.
    Off,
    /// `accept`: compress when the peer asks.
    Accept,
    /// `s2_auto` / `auto` (and `on` / `true`) with its RTT thresholds.
    S2Auto(Vec<GoDuration>),
    /// `s2_fast` / `fast`.
    S2Fast,
    /// `s2_better` / `better`.
    S2Better,
    /// `s2_best` / `best`.
    S2Best,
}

impl CompressionMode {
    /// Whether Go would compress with this mode; this server never does.
    pub fn wants_s2(&self) -> bool {
        match self {
            CompressionMode::Default | CompressionMode::NotSupported | CompressionMode::Off => {
                false
            }
            CompressionMode::Accept
            | CompressionMode::S2Auto(_)
            | CompressionMode::S2Fast
            | CompressionMode::S2Better
            | CompressionMode::S2Best => true,
        }
    }
}

/// Go: `defaultCompressionS2AutoRTTThresholds` (10 ms, 50 ms, 100 ms).
const DEFAULT_RTT_THRESHOLDS: [GoDuration; 3] = [
    GoDuration(10 * GoDuration::MILLISECOND),
    GoDuration(50 * GoDuration::MILLISECOND),
    GoDuration(100 * GoDuration::MILLISECOND),
];

/// Go's `%v` of a `[]time.Duration`.
struct Durations<'a>(&'a [GoDuration]);

impl fmt::Display for Durations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "[{}]", items.join(" "))
    }
}

impl CompressionOpts {
    /// Go: `validateAndNormalizeCompressionOption(c, CompressionS2Auto)`; the error is Go's text.
    pub fn mode(&self) -> Result<CompressionMode, String> {
        if self.mode.is_empty() {
            return Ok(CompressionMode::Default);
        }
        let mut lower = self.mode.to_lowercase();
        if matches!(lower.as_str(), "on" | "enabled" | "true") {
            lower = "s2_auto".to_owned();
        }
        Ok(match lower.as_str() {
            "not supported" | "not_supported" => CompressionMode::NotSupported,
            "disabled" | "off" | "false" => CompressionMode::Off,
            "accept" => CompressionMode::Accept,
            "auto" | "s2_auto" => CompressionMode::S2Auto(self.rtts()?),
            "fast" | "s2_fast" => CompressionMode::S2Fast,
            "better" | "s2_better" => CompressionMode::S2Better,
            "best" | "s2_best" => CompressionMode::S2Best,
            _ => {
                return Err(format!(
                    "unsupported compression mode {}",
                    quote(&self.mode)
                ));
            }
        })
    }

    // Go: the s2_auto case of validateAndNormalizeCompressionOption.
    fn rtts(&self) -> Result<Vec<GoDuration>, String> {
        if self.rtt_thresholds.is_empty() {
            return Ok(DEFAULT_RTT_THRESHOLDS.to_vec());
        }
        let mut rtts: Vec<GoDuration> = Vec::with_capacity(self.rtt_thresholds.len());
        for &n in &self.rtt_thresholds {
            let n = GoDuration(n.0.max(0));
            if !rtts.is_empty() && n.0 != 0 && rtts.iter().any(|v| n.0 < v.0) {
                return Err(format!(
                    "RTT threshold values {} should be in ascending order",
                    Durations(&self.rtt_thresholds)
                ));
            }
            rtts.push(n);
        }
        while rtts.last().is_some_and(|d| d.0 == 0) {
            rtts.pop();
        }
        if rtts.len() > 4 {
            return Err(format!(
                "compression mode {} should have no more than 4 RTT thresholds: {}",
                quote(&self.mode),
                Durations(&self.rtt_thresholds)
            ));
        }
        if rtts.is_empty() {
            return Err(format!(
                "compression mode {} requires at least one RTT threshold",
                quote(&self.mode)
            ));
        }
        Ok(rtts)
    }
}

/// Go: `parseCompression(c, CompressionS2Auto, ...)`. `None` after an error (reported).
/// A mode that would compress gets a warning: leafnodes run uncompressed here.
pub(super) fn parse(key: &str, v: &Value, diag: &mut Diagnostics) -> Option<CompressionOpts> {
    let mut c = CompressionOpts::default();
    let result = (|| -> Result<bool, Abort> {
        match &v.kind {
            // Go: not validated here, but when the server starts.
            Kind::String(s) => c.mode.clone_from(s),
            Kind::Bool(true) => c.mode = "s2_auto".to_owned(),
            Kind::Bool(false) => c.mode = "off".to_owned(),
            Kind::Map(fields) => {
                for (mk, mv) in fields {
                    match mk.to_lowercase().as_str() {
                        "mode" => c.mode = as_str(mv)?.to_owned(),
                        "rtt_thresholds" | "thresholds" | "rtts" | "rtt" => {
                            for item in as_array(mv)? {
                                match parse_duration(as_str(item)?) {
                                    Ok(d) => c.rtt_thresholds.push(d),
                                    Err(e) => {
                                        diag.error(mv, Reason::Duration(e));
                                        return Ok(false);
                                    }
                                }
                            }
                        }
                        _ if mv.used_variable => {}
                        _ => {
                            diag.error(mv, Reason::UnknownField(mk.to_string()));
                            return Ok(false);
                        }
                    }
                }
            }
            other => {
                diag.error(
                    v,
                    Reason::msg(format!(
                        "field {} should be a boolean or a structure, got {}",
                        quote(key),
                        other.go_type()
                    )),
                );
                return Ok(false);
            }
        }
        Ok(true)
    })();
    if !diag.recover(result)? {
        return None;
    }
    if c.mode().is_ok_and(|m| m.wants_s2()) {
        diag.warn(
            v,
            Reason::NotHonoured {
                field: key.to_owned(),
                reason: "S2 compression is not supported by this server; leafnode connections are not compressed".to_owned(),
            },
        );
    }
    Some(c)
}
