//! The identity in a client certificate, for `verify_and_map`: the subject formatted as
//! Go's `pkix.Name.String()`, and the subject alternative names (DNS, e-mail).
//!
//! A minimal DER reader over the already verified certificate (rustls checked the chain);
//! it only walks to the subject and the SAN extension and never panics on bad input.

/// Why a certificate's identity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The DER does not have the expected shape.
    #[error("malformed certificate")]
    Malformed,
}

/// What `verify_and_map` can map to a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsIdentity {
    /// Subject as Go prints it, e.g. `CN=example.com,OU=NATS.io`.
    pub subject: String,
    /// SAN DNS names.
    pub dns_names: Vec<String>,
    /// SAN e-mail addresses.
    pub emails: Vec<String>,
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const OID_ATTR_PREFIX: [u8; 2] = [0x55, 0x04];
const OID_SAN: [u8; 3] = [0x55, 0x1d, 0x11];

/// Reads the identity from a DER certificate.
pub fn parse_certificate_identity(der: &[u8]) -> Result<TlsIdentity, CertError> {
    let (cert, _) = expect(der, TAG_SEQUENCE)?;
    let (tbs, _) = expect(cert, TAG_SEQUENCE)?;
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    // serial, signature algorithm, issuer, validity
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (subject, r) = expect(rest, TAG_SEQUENCE)?;
    rest = r;
    let mut identity = TlsIdentity {
        subject: format_name(subject)?,
        ..TlsIdentity::default()
    };
    rest = tlv(rest)?.2; // subjectPublicKeyInfo
    while !rest.is_empty() {
        let (tag, content, r) = tlv(rest)?;
        rest = r;
        if tag == 0xa3 {
            read_extensions(content, &mut identity)?;
        }
    }
    Ok(identity)
}

fn read_extensions(explicit: &[u8], identity: &mut TlsIdentity) -> Result<(), CertError> {
    let (mut exts, _) = expect(explicit, TAG_SEQUENCE)?;
    while !exts.is_empty() {
        let (ext, r) = expect(exts, TAG_SEQUENCE)?;
        exts = r;
        let (oid, mut body) = expect(ext, TAG_OID)?;
        if oid != OID_SAN {
            continue;
        }
        let (tag, _, r) = tlv(body)?;
        if tag == 0x01 {
            body = r; // critical flag
        }
        let (octets, _) = expect(body, 0x04)?;
        let (mut names, _) = expect(octets, TAG_SEQUENCE)?;
        while !names.is_empty() {
            let (tag, value, r) = tlv(names)?;
            names = r;
            let text = String::from_utf8_lossy(value).into_owned();
            match tag {
                0x81 => identity.emails.push(text),
                0x82 => identity.dns_names.push(text),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Go's `pkix.Name.String()`: unparsed attributes first, then C, O, OU, L, ST, STREET,
/// POSTALCODE, SERIALNUMBER, CN (each type as one RDN, multiple values joined by `+`),
/// printed last to first.
fn format_name(mut name: &[u8]) -> Result<String, CertError> {
    let mut attrs: Vec<(Vec<u8>, String)> = Vec::new();
    while !name.is_empty() {
        let (set, r) = expect(name, TAG_SET)?;
        name = r;
        let mut set = set;
        while !set.is_empty() {
            let (atv, r) = expect(set, TAG_SEQUENCE)?;
            set = r;
            let (oid, value) = expect(atv, TAG_OID)?;
            let (_, v, _) = tlv(value)?;
            attrs.push((oid.to_vec(), String::from_utf8_lossy(v).into_owned()));
        }
    }
    let short = |oid: &[u8]| -> Option<u8> {
        match oid {
            [a, b, n] if [*a, *b] == OID_ATTR_PREFIX => Some(*n),
            _ => None,
        }
    };
    let mut rdns: Vec<Vec<(String, &str)>> = Vec::new();
    for (oid, v) in &attrs {
        if matches!(short(oid), Some(3 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 17)) {
            continue;
        }
        rdns.push(vec![(oid_string(oid), v.as_str())]);
    }
    for (n, label) in [
        (6, "C"),
        (10, "O"),
        (11, "OU"),
        (7, "L"),
        (8, "ST"),
        (9, "STREET"),
        (17, "POSTALCODE"),
        (5, "SERIALNUMBER"),
        (3, "CN"),
    ] {
        let values: Vec<(String, &str)> = attrs
            .iter()
            .filter(|(oid, _)| short(oid) == Some(n))
            .map(|(_, v)| (label.to_owned(), v.as_str()))
            .collect();
        // Go keeps only the last serial number and common name.
        let values = if matches!(n, 5 | 3) {
            values.into_iter().last().into_iter().collect()
        } else {
            values
        };
        if !values.is_empty() {
            rdns.push(values);
        }
    }
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, (label, value)) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(label);
            out.push('=');
            escape_value(value, &mut out);
        }
    }
    Ok(out)
}

/// Go: `AttributeTypeAndValue` escaping in `RDNSequence.String`.
fn escape_value(v: &str, out: &mut String) {
    let chars: Vec<char> = v.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let escape = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i == chars.len() - 1 && c == ' ');
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

fn oid_string(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in oid.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < 8 {
                let first = (acc / 40).min(2);
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The certificate's `notAfter` in seconds since the Unix epoch (Go: `x509.Certificate.
/// NotAfter`, shown by `/varz` as `tls_cert_not_after`).
pub fn certificate_not_after(der: &[u8]) -> Result<i64, CertError> {
    let (cert, _) = expect(der, TAG_SEQUENCE)?;
    let (tbs, _) = expect(cert, TAG_SEQUENCE)?;
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    // serial, signature algorithm, issuer
    for _ in 0..3 {
        rest = tlv(rest)?.2;
    }
    let (validity, _) = expect(rest, TAG_SEQUENCE)?;
    let (_, _, after) = tlv(validity)?; // notBefore
    let (tag, time, _) = tlv(after)?;
    let text = std::str::from_utf8(time).map_err(|_| CertError::Malformed)?;
    // RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (50-99 → 19xx), GeneralizedTime YYYYMMDDHHMMSSZ.
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(text, 0, 2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(text, 0, 4)?, &text[4..]),
        _ => return Err(CertError::Malformed),
    };
    if !rest.ends_with('Z') {
        return Err(CertError::Malformed);
    }
    let field = |i: usize| digits(rest, i, 2);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, min, sec) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(CertError::Malformed);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

fn digits(s: &str, at: usize, n: usize) -> Result<i64, CertError> {
    let part = s.get(at..at + n).ok_or(CertError::Malformed)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CertError::Malformed);
    }
    part.parse().map_err(|_| CertError::Malformed)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn expect(input: &[u8], want: u8) -> Result<(&[u8], &[u8]), CertError> {
    let (tag, content, rest) = tlv(input)?;
    if tag != want {
        return Err(CertError::Malformed);
    }
    Ok((content, rest))
}

/// One DER element: (tag, content, rest).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CertError> {
    let (&tag, r) = input.split_first().ok_or(CertError::Malformed)?;
    let (&first, mut r) = r.split_first().ok_or(CertError::Malformed)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || r.len() < n {
            return Err(CertError::Malformed);
        }
        let len = r[..n]
            .iter()
            .fold(0usize, |l, &b| (l << 8) | usize::from(b));
        r = &r[n..];
        len
    };
    if r.len() < len {
        return Err(CertError::Malformed);
    }
    Ok((tag, &r[..len], &r[len..]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn not_after_from_utc_and_generalized_time() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // tbs: version, serial, algorithm, issuer, validity { UTCTime, UTCTime }.
        let tbs = |after: &[u8]| {
            let mut validity = vec![0x17, 13];
            validity.extend_from_slice(b"200101000000Z");
            validity.extend_from_slice(after);
            let mut tbs = vec![0xa0, 3, 2, 1, 2, 2, 1, 1, 0x30, 0, 0x30, 0];
            tbs.push(0x30);
            tbs.push(u8::try_from(validity.len()).unwrap());
            tbs.extend(validity);
            let mut inner = vec![0x30, u8::try_from(tbs.len()).unwrap()];
            inner.extend(tbs);
            let mut cert = vec![0x30, u8::try_from(inner.len()).unwrap()];
            cert.extend(inner);
            cert
        };
        let mut utc = vec![0x17, 13];
        utc.extend_from_slice(b"320824202302Z");
        // Go's test certificate: 2032-08-24T20:23:02Z.
        assert_eq!(certificate_not_after(&tbs(&utc)), Ok(1_976_991_782));
        let mut gen_time = vec![0x18, 15];
        gen_time.extend_from_slice(b"20320824202302Z");
        assert_eq!(certificate_not_after(&tbs(&gen_time)), Ok(1_976_991_782));
        assert!(certificate_not_after(&tbs(&[0x17, 3, b'1', b'2', b'Z'])).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 1],
        ] {
            assert!(parse_certificate_identity(input).is_err());
        }
    }

    #[test]
    fn oid_strings() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
        assert_eq!(oid_string(&[0x55, 0x04, 0x03]), "2.5.4.3");
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_value(" a,b ", &mut s);
        assert_eq!(s, "\\ a\\,b\\ ");
    }
}
