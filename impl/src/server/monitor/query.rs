//! Query strings as Go's `r.URL.Query().Get` reads them, and the monitor's decoders with
//! their error texts (Go: `decodeBool`, `decodeInt`, `decodeUint64`).

use std::collections::BTreeMap;

use crate::goquote::quote;

/// A decoded query: the first value of each key (Go: `url.Values.Get`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Query(BTreeMap<String, String>);

impl Query {
    /// Go: `url.ParseQuery`: pairs split at `&`, `+` is a space, `%XX` decoded; a pair with
    /// a `;` or a bad escape is left out.
    pub(crate) fn parse(raw: &str) -> Query {
        let mut m = BTreeMap::new();
        for pair in raw.split('&').filter(|p| !p.is_empty() && !p.contains(';')) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (unescape(k), unescape(v)) else {
                continue;
            };
            m.entry(k).or_insert(v);
        }
        Query(m)
    }

    /// The value of `key`, empty when absent.
    pub(crate) fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }
}

impl From<BTreeMap<String, String>> for Query {
    /// Options that arrived another way (a `$SYS.REQ` request's JSON body).
    fn from(m: BTreeMap<String, String>) -> Query {
        Query(m)
    }
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go: `decodeBool` (`strconv.ParseBool`); absent or empty is false.
pub(crate) fn decode_bool(q: &Query, param: &str) -> Result<bool, String> {
    match q.get(param) {
        "" => Ok(false),
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        v => Err(format!(
            "Error decoding boolean for '{param}': strconv.ParseBool: parsing {}: invalid syntax",
            quote(v)
        )),
    }
}

/// Go: `decodeInt` (`strconv.Atoi`, 64-bit); absent or empty is 0.
pub(crate) fn decode_int(q: &Query, param: &str) -> Result<i64, String> {
    let v = q.get(param);
    if v.is_empty() {
        return Ok(0);
    }
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    let why = if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        "invalid syntax"
    } else {
        match v.parse::<i64>() {
            Ok(n) => return Ok(n),
            Err(_) => "value out of range",
        }
    };
    Err(format!(
        "Error decoding int for '{param}': strconv.Atoi: parsing {}: {why}",
        quote(v)
    ))
}

/// Go: `decodeUint64` (`strconv.ParseUint`, base 10); absent or empty is 0.
pub(crate) fn decode_uint64(q: &Query, param: &str) -> Result<u64, String> {
    let v = q.get(param);
    if v.is_empty() {
        return Ok(0);
    }
    let why = if !v.bytes().all(|b| b.is_ascii_digit()) {
        "invalid syntax"
    } else {
        match v.parse::<u64>() {
            Ok(n) => return Ok(n),
            Err(_) => "value out of range",
        }
    };
    Err(format!(
        "Error decoding uint64 for '{param}': strconv.ParseUint: parsing {}: {why}",
        quote(v)
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn first_value_and_escapes() {
        let q = Query::parse("subs=1&subs=0&x&u=a%2Bb+c&bad=%zz&semi=1;2");
        assert_eq!(q.get("subs"), "1");
        assert_eq!(q.get("x"), "");
        assert_eq!(q.get("u"), "a+b c");
        assert_eq!(q.get("bad"), "");
        assert_eq!(q.get("semi"), "");
    }

    #[test]
    fn go_decoder_errors() {
        let q = Query::parse("a=x&n=12a&big=99999999999999999999&c=-1&ok=-5&b=True");
        assert_eq!(
            decode_bool(&q, "a").unwrap_err(),
            "Error decoding boolean for 'a': strconv.ParseBool: parsing \"x\": invalid syntax"
        );
        assert_eq!(decode_bool(&q, "b"), Ok(true));
        assert_eq!(
            decode_int(&q, "n").unwrap_err(),
            "Error decoding int for 'n': strconv.Atoi: parsing \"12a\": invalid syntax"
        );
        assert_eq!(
            decode_int(&q, "big").unwrap_err(),
            "Error decoding int for 'big': strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(decode_int(&q, "ok"), Ok(-5));
        assert_eq!(
            decode_uint64(&q, "c").unwrap_err(),
            "Error decoding uint64 for 'c': strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
    }
}
