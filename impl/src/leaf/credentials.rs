//! A credentials file's user JWT and NKey seed (Go: `credsRe` in leafnode.go, the
//! decorated `-----BEGIN NATS USER JWT-----` / `-----BEGIN USER NKEY SEED-----` blocks).

/// The JWT and seed of a credentials file.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user JWT.
    pub jwt: String,
    /// The user NKey seed.
    pub seed: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("jwt", &self.jwt)
            .field("seed", &"[redacted]")
            .finish()
    }
}

/// Go's error when the file holds no JWT or no seed.
pub const NO_CREDENTIALS: &str = "no valid credentials found";

/// Parses a credentials file: the token of the first decorated block is the JWT, that
/// of the second the seed (Go: the first two matches of `credsRe`).
pub fn parse(text: &str) -> Result<Credentials, &'static str> {
    let mut tokens = Vec::with_capacity(2);
    let mut lines = text.lines().map(str::trim);
    while tokens.len() < 2 {
        let Some(line) = lines.next() else {
            break;
        };
        if !is_fence(line) {
            continue;
        }
        // Go: the token is the next line, and a closing fence follows it.
        let Some(token) = lines.next() else {
            break;
        };
        let token_ok = !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='));
        if token_ok && lines.next().is_some_and(is_fence) {
            tokens.push(token.to_owned());
        }
    }
    match tokens.as_slice() {
        [jwt, seed] => Ok(Credentials {
            jwt: jwt.clone(),
            seed: seed.clone(),
        }),
        _ => Err(NO_CREDENTIALS),
    }
}

/// `---...---` with at least three dashes each side.
fn is_fence(line: &str) -> bool {
    line.len() >= 6 && line.starts_with("---") && line.ends_with("---")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decorated_file() {
        let text = "-----BEGIN NATS USER JWT-----\neyJhbGc.eyJqdGki.sig_-x\n------END NATS USER JWT------\n\n\
************************* IMPORTANT *************************\n\
-----BEGIN USER NKEY SEED-----\nSUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\n------END USER NKEY SEED------\n";
        let c = parse(text).unwrap();
        assert_eq!(c.jwt, "eyJhbGc.eyJqdGki.sig_-x");
        assert!(c.seed.starts_with("SUAI"));
        assert!(!format!("{c:?}").contains("SUAI"));
        assert_eq!(parse("nothing here"), Err(NO_CREDENTIALS));
    }
}
