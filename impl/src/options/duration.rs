//! Go's `time.Duration` and `time.ParseDuration`, with Go's error texts.

use std::time::Duration;

/// A Go `time.Duration`: signed nanoseconds (a config may hold a negative one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// One second.
    pub const SECOND: i64 = 1_000_000_000;
    /// One millisecond in nanoseconds.
    pub const MILLISECOND: i64 = 1_000_000;

    /// `n` seconds, wrapping on overflow like Go's `time.Duration(n) * time.Second`.
    pub fn from_secs_wrapping(n: i64) -> Self {
        Self(n.wrapping_mul(Self::SECOND))
    }

    /// The duration as a std [`Duration`], `None` when negative.
    pub fn to_std(self) -> Option<Duration> {
        u64::try_from(self.0).ok().map(Duration::from_nanos)
    }

    /// Whether it is zero (Go's "unset").
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// Go's `Duration.String`: `1h2m3.5s`, `2m0s`, `1.5ms`, `0s`.
impl std::fmt::Display for GoDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let neg = if self.0 < 0 { "-" } else { "" };
        let mut u = self.0.unsigned_abs();
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            let (prec, unit) = match u {
                0..1_000 => return write!(f, "{neg}{u}ns"),
                1_000..1_000_000 => (3, "µs"),
                _ => (6, "ms"),
            };
            let (int, frac) = split_frac(u, prec);
            return write!(f, "{neg}{int}{frac}{unit}");
        }
        let (secs, frac) = split_frac(u, 9);
        u = secs;
        let s = u % 60;
        u /= 60;
        if u == 0 {
            return write!(f, "{neg}{s}{frac}s");
        }
        let m = u % 60;
        u /= 60;
        if u == 0 {
            return write!(f, "{neg}{m}m{s}{frac}s");
        }
        write!(f, "{neg}{u}h{m}m{s}{frac}s")
    }
}

/// Go `fmtFrac`: `v / 10^prec` and its fraction as `.ddd` without trailing zeros.
fn split_frac(v: u64, prec: u32) -> (u64, String) {
    let scale = 10u64.pow(prec);
    let frac = v % scale;
    if frac == 0 {
        return (v / scale, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (v / scale, format!(".{}", digits.trim_end_matches('0')))
}

/// Go's `time.quote` (not `strconv.Quote`): `"` and `\\` are escaped, every byte of a
/// character outside printable ASCII is written as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// A `time.ParseDuration` failure; the text is Go's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Malformed or out of range.
    #[error("time: invalid duration {}", time_quote(.0))]
    Invalid(String),
    /// A number without a unit.
    #[error("time: missing unit in duration {}", time_quote(.0))]
    MissingUnit(String),
    /// A unit Go does not know.
    #[error(
        "time: unknown unit {} in duration {}",
        time_quote(unit),
        time_quote(input)
    )]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole input.
        input: String,
    },
}

/// 2^63, the magnitude bound Go checks against.
const LIMIT: u64 = 1 << 63;

/// Go: `time.ParseDuration`. Accepts `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units
/// `ns us µs μs ms s m h`.
pub fn parse_duration(input: &str) -> Result<GoDuration, DurationError> {
    let invalid = || DurationError::Invalid(input.to_owned());
    let mut s = input.as_bytes();
    let mut negative = false;
    if let Some((&c, rest)) = s.split_first()
        && (c == b'-' || c == b'+')
    {
        negative = c == b'-';
        s = rest;
    }
    if s == b"0" {
        return Ok(GoDuration(0));
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !matches!(s.first(), Some(b'.' | b'0'..=b'9')) {
            return Err(invalid());
        }
        let (whole, rest) = leading_int(s).ok_or_else(invalid)?;
        let has_whole = rest.len() != s.len();
        s = rest;
        let mut frac = (0u64, 1f64);
        let mut has_frac = false;
        if let Some((b'.', rest)) = s.split_first() {
            let (f, scale, after) = leading_fraction(rest);
            has_frac = after.len() != rest.len();
            frac = (f, scale);
            s = after;
        }
        if !has_whole && !has_frac {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(input.to_owned()));
        }
        let (unit_bytes, rest) = s.split_at(unit_len);
        s = rest;
        let unit_text = String::from_utf8_lossy(unit_bytes);
        let unit: u64 = match unit_text.as_ref() {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    unit: unit_text.into_owned(),
                    input: input.to_owned(),
                });
            }
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if frac.0 > 0 {
            // Go: v += uint64(float64(f) * (float64(unit) / scale)), truncating.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            #[allow(clippy::cast_sign_loss)]
            let extra = (frac.0 as f64 * (unit as f64 / frac.1)) as u64;
            v = v.checked_add(extra).ok_or_else(invalid)?;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if negative {
        return Ok(GoDuration(0i64.wrapping_sub_unsigned(total)));
    }
    i64::try_from(total).map(GoDuration).map_err(|_| invalid())
}

/// Go: `leadingInt`; `None` on overflow.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    let mut x: u64 = 0;
    for &c in digits {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, rest))
}

/// Go: `leadingFraction`; digits past the precision are consumed and ignored.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    let mut x: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    for &c in digits {
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> i64 {
        match parse_duration(s) {
            Ok(d) => d.0,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        parse_duration(s)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn parses_like_go() {
        let s = GoDuration::SECOND;
        assert_eq!(ok("4s"), 4 * s);
        assert_eq!(ok("2m"), 120 * s);
        assert_eq!(ok("1h30m"), 5400 * s);
        assert_eq!(ok("1.5s"), 1_500_000_000);
        assert_eq!(ok(".5s"), 500_000_000);
        assert_eq!(ok("5.s"), 5 * s);
        assert_eq!(ok("-3ms"), -3_000_000);
        assert_eq!(ok("+10us"), 10_000);
        assert_eq!(ok("10µs"), 10_000);
        assert_eq!(ok("10μs"), 10_000);
        assert_eq!(ok("7ns"), 7);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("-0"), 0);
        assert_eq!(ok("9223372036854775807ns"), i64::MAX);
        assert_eq!(ok("-9223372036854775808ns"), i64::MIN);
        assert_eq!(ok("0.000000001s"), 1);
        assert_eq!(ok("1.00000000000000000000001s"), s);
    }

    /// Found by scripts/conf-diff.py (`lame_duck_duration é`): Go's `time.quote` writes
    /// each byte of a non-ASCII or control character as `\xNN`; we used `%q`'s `"é"`.
    #[test]
    fn errors_quote_like_go_time() {
        assert_eq!(err("é"), r#"time: invalid duration "\xc3\xa9""#);
        assert_eq!(
            err("\t日\\q\""),
            r#"time: invalid duration "\x09\xe6\x97\xa5\\q\"""#
        );
        assert_eq!(
            err("1é"),
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#
        );
        assert_eq!(err("\u{7f}"), "time: invalid duration \"\u{7f}\"");
    }

    #[test]
    fn errors_like_go() {
        assert_eq!(err("abc"), "time: invalid duration \"abc\"");
        assert_eq!(err(""), "time: invalid duration \"\"");
        assert_eq!(err("-"), "time: invalid duration \"-\"");
        assert_eq!(err("."), "time: invalid duration \".\"");
        assert_eq!(err("5"), "time: missing unit in duration \"5\"");
        assert_eq!(err("5d"), "time: unknown unit \"d\" in duration \"5d\"");
        assert_eq!(err("1s2"), "time: missing unit in duration \"1s2\"");
        assert_eq!(
            err("9223372036854775808ns"),
            "time: invalid duration \"9223372036854775808ns\""
        );
        assert_eq!(err("3000000h"), "time: invalid duration \"3000000h\"");
    }
}

#[cfg(test)]
mod display_tests {
    use super::GoDuration;

    #[test]
    fn prints_as_go_duration_string() {
        let s = GoDuration::SECOND;
        for (d, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (500_000_000, "500ms"),
            (10 * s, "10s"),
            (s + s / 2, "1.5s"),
            (90 * s, "1m30s"),
            (120 * s, "2m0s"),
            (3600 * s, "1h0m0s"),
            (-30 * s, "-30s"),
        ] {
            assert_eq!(GoDuration(d).to_string(), want, "{d}");
        }
    }
}
