//! Typed access to config values with Go's type-assertion panics as errors, and `listen`.

use super::conf::{Kind, Map, Value};
use super::error::{Abort, Diagnostics, OptionError, Reason};

/// The Go panic of `v.(T)` on a value of another type.
pub(crate) fn mismatch(value: &Value, want: &'static str) -> Abort {
    Abort(OptionError::at(
        value,
        Reason::TypeAssertion {
            got: value.kind.go_type(),
            want,
        },
    ))
}

/// Go's subsystem block parsers (`parseWebsocket`, `parseMQTT`, `parseLeafNodes`): a map
/// whose fields `field` parses in file order. A value that is not a map is reported with
/// `not_a_map(<its Go type>)`; a type mismatch in a field (Go's recovered panic) is
/// recorded and ends the block, keeping what was set before it, as Go does.
pub(crate) fn parse_block(
    value: &Value,
    diag: &mut Diagnostics,
    not_a_map: impl FnOnce(&'static str) -> Reason,
    mut field: impl FnMut(&str, &Value, &mut Diagnostics) -> Result<(), Abort>,
) {
    let Kind::Map(block) = &value.kind else {
        diag.error(value, not_a_map(value.kind.go_type()));
        return;
    };
    let result = block.iter().try_for_each(|(key, v)| field(key, v, diag));
    diag.recover(result);
}

/// Go: `v.(string)`.
pub(crate) fn as_str(value: &Value) -> Result<&str, Abort> {
    match &value.kind {
        Kind::String(s) => Ok(s),
        _ => Err(mismatch(value, "string")),
    }
}

/// Go: `v.(int64)`.
pub(crate) fn as_i64(value: &Value) -> Result<i64, Abort> {
    match value.kind {
        Kind::Integer(n) => Ok(n),
        _ => Err(mismatch(value, "int64")),
    }
}

/// Go: `v.(bool)`.
pub(crate) fn as_bool(value: &Value) -> Result<bool, Abort> {
    match value.kind {
        Kind::Bool(b) => Ok(b),
        _ => Err(mismatch(value, "bool")),
    }
}

/// Go: `v.(map[string]any)`.
pub(crate) fn as_map(value: &Value) -> Result<&Map, Abort> {
    match &value.kind {
        Kind::Map(m) => Ok(m),
        _ => Err(mismatch(value, "map[string]interface {}")),
    }
}

/// Go: `v.([]any)`.
pub(crate) fn as_array(value: &Value) -> Result<&[Value], Abort> {
    match &value.kind {
        Kind::Array(a) => Ok(a),
        _ => Err(mismatch(value, "[]interface {}")),
    }
}

/// Go: `parseStringArray` — a string or an array of strings. Bad elements are reported
/// into `errors` and skipped; a bad whole value is reported and gives `None`.
pub(crate) fn string_array(
    field: &'static str,
    value: &Value,
    errors: &mut Vec<OptionError>,
) -> Option<Vec<String>> {
    match &value.kind {
        Kind::String(s) => Some(vec![s.clone()]),
        Kind::Array(values) => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                match &v.kind {
                    Kind::String(s) => out.push(s.clone()),
                    other => errors.push(OptionError::at(
                        v,
                        Reason::UnsupportedTypeInArray {
                            field,
                            got: other.go_type(),
                        },
                    )),
                }
            }
            Some(out)
        }
        other => {
            errors.push(OptionError::at(
                value,
                Reason::UnsupportedType {
                    field,
                    got: other.go_type(),
                },
            ));
            None
        }
    }
}

/// Go: `parseListen` — a port, or a `host:port` string.
pub(crate) fn parse_listen(value: &Value) -> Result<(String, i64), Reason> {
    match &value.kind {
        Kind::Integer(port) => Ok((String::new(), *port)),
        Kind::String(s) => {
            let (host, port) =
                split_host_port(s).ok_or_else(|| Reason::ListenAddress(s.clone()))?;
            let port = go_atoi(port).ok_or_else(|| Reason::ListenPort(port.to_owned()))?;
            Ok((host.to_owned(), port))
        }
        other => Err(Reason::ListenType(other.go_type())),
    }
}

/// Go: `net.SplitHostPort` (any of its errors is `None`).
pub(crate) fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let colon = hostport.rfind(':')?;
    let (host, open, close) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != colon {
            return None;
        }
        (hostport.get(1..end)?, 1, end + 1)
    } else {
        let host = hostport.get(..colon)?;
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport.get(open..)?.contains('[') || hostport.get(close..)?.contains(']') {
        return None;
    }
    Some((host, hostport.get(colon + 1..)?))
}

/// Go: `strconv.Atoi` on a 64-bit platform.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `%v` of a float64 (strconv's shortest `%g`): the shortest digits that read back,
/// in exponent form when the decimal exponent is below -4 or at least 6 (`2`, `2.5`,
/// `0.0001`, `1e-05`, `1e+06`, `1.2345678901234569e+23`).
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` has the same shortest digits: `1.5e-7`, `1e6`.
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Go's `%v` of a config value (`[...]` and `map[...]` are shortened).
pub(crate) fn go_plain_value(v: &Value) -> String {
    match &v.kind {
        Kind::String(s) => s.clone(),
        Kind::Integer(n) => n.to_string(),
        Kind::Float(f) => go_float(*f),
        Kind::Bool(b) => b.to_string(),
        Kind::Datetime(d) => d.to_string(),
        Kind::Array(_) => "[...]".to_owned(),
        Kind::Map(_) => "map[...]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::go_float;

    /// Go's `fmt.Sprintf("%v", f)`.
    #[test]
    fn go_float_is_shortest_g() {
        for (f, want) in [
            (2.0, "2"),
            (2.5, "2.5"),
            (61.0, "61"),
            (-0.0, "-0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (999_999.0, "999999"),
            (1e6, "1e+06"),
            (1_234_567.5, "1.2345675e+06"),
            (123_456_789_012_345_678_901_234.0, "1.2345678901234569e+23"),
            (1.5e-300, "1.5e-300"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(go_float(f), want, "{f}");
        }
    }
}
