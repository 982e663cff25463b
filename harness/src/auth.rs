//! Test credentials made at run time: named NKeys from seeds written in the fixture,
//! JWTs built and signed from a few claims, and the substitutions that put them into
//! configurations, upgrade headers and CONNECTs.
//!
//! ```yaml
//! setup:
//!   auth:
//!     keys: {op: SOAF..., acc: SAAJ..., alice: SUAB...}      # name → seed
//!     jwts:
//!       acc: {kind: account, issuer: op, subject: acc}
//!       alice: {kind: user, issuer: acc, subject: alice, allowed_connection_types: [WEBSOCKET]}
//! ```
//!
//! Substitutions, in any text sent or configured: `{pub:NAME}` the public key,
//! `{jwt:NAME}` the signed JWT, `{nonce_sig:NAME}` the signature of the INFO `nonce`
//! received on the connection (raw URL base64, as the NATS clients send it). JWTs are
//! signed with a fixed `iat`, so they are the same on every run (ed25519 is
//! deterministic); only the nonce signatures change, and transcripts show the template.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nats_ws::auth::jwt::KeyPair;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The `iat` of every generated JWT (2023-11-14T22:13:20Z).
pub const ISSUED_AT: i64 = 1_700_000_000;

/// Keys and JWTs of a fixture.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSetup {
    /// Name → NKey seed (`SO...` operator, `SA...` account, `SU...` user).
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// Name → JWT to build.
    #[serde(default)]
    pub jwts: BTreeMap<String, JwtSpec>,
}

/// The claim type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JwtKind {
    /// An operator (self-signed).
    Operator,
    /// An account, signed by an operator key.
    Account,
    /// A user, signed by an account or one of its signing keys.
    User,
}

/// A JWT as nats-io/jwt's `New*Claims` makes it, with these changes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// Claim type.
    pub kind: JwtKind,
    /// Key name of the signer.
    pub issuer: String,
    /// Key name of the subject.
    pub subject: String,
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `exp`, unix seconds (e.g. 1 for long expired).
    #[serde(default)]
    pub expires: Option<i64>,
    /// `exp` this many seconds after the JWT is signed (when the fixture's setup runs),
    /// for credentials that run out while connected. Not with `expires`.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// User: key name of the account when a signing key signs (`issuer_account`).
    #[serde(default)]
    pub issuer_account: Option<String>,
    /// User: `bearer_token`.
    #[serde(default)]
    pub bearer_token: bool,
    /// User: `allowed_connection_types`, as written.
    #[serde(default)]
    pub allowed_connection_types: Option<Vec<String>>,
    /// User: no permissions or limits at all (Go `SetScoped(true)`), as a scoped
    /// signing key requires. Default: Go's `NewUserClaims` (unlimited limits).
    #[serde(default)]
    pub scoped: bool,
    /// Account or operator: signing keys (key names), plain or scoped.
    #[serde(default)]
    pub signing_keys: Vec<SigningKeySpec>,
    /// Account: `limits.disallow_bearer`.
    #[serde(default)]
    pub disallow_bearer: bool,
    /// Claims merged into `nats` last, replacing what is there (e.g. a user's `pub` and
    /// `sub` permissions, an account's `default_permissions`).
    #[serde(default)]
    pub nats: Option<Map<String, Value>>,
}

/// A signing key: a key name, or a scoped key with its user template.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SigningKeySpec {
    /// A plain signing key.
    Key(String),
    /// A `user_scope` signing key.
    Scoped {
        /// Key name.
        key: String,
        /// `role`.
        #[serde(default)]
        role: String,
        /// The template's `allowed_connection_types`.
        #[serde(default)]
        allowed_connection_types: Vec<String>,
        /// The template's `bearer_token`.
        #[serde(default)]
        bearer_token: bool,
    },
}

fn keypair(setup: &AuthSetup, name: &str) -> Result<KeyPair, String> {
    let seed = setup
        .keys
        .get(name)
        .ok_or_else(|| format!("no key named {name:?} in setup.auth.keys"))?;
    KeyPair::from_seed(seed).map_err(|e| format!("key {name:?}: {e}"))
}

fn public(setup: &AuthSetup, name: &str) -> Result<String, String> {
    keypair(setup, name).map(|k| k.public_key())
}

fn unlimited() -> Value {
    json!({"subs": -1, "data": -1, "payload": -1})
}

/// Builds and signs the JWT named `name`.
pub fn build_jwt(setup: &AuthSetup, name: &str) -> Result<String, String> {
    let spec = setup
        .jwts
        .get(name)
        .ok_or_else(|| format!("no JWT named {name:?} in setup.auth.jwts"))?;
    let signer = keypair(setup, &spec.issuer)?;
    let mut nats = Map::new();
    let keys = spec
        .signing_keys
        .iter()
        .map(|k| match k {
            SigningKeySpec::Key(k) => public(setup, k).map(Value::String),
            SigningKeySpec::Scoped {
                key,
                role,
                allowed_connection_types,
                bearer_token,
            } => {
                let mut template = unlimited();
                if !allowed_connection_types.is_empty() {
                    template["allowed_connection_types"] = json!(allowed_connection_types);
                }
                if *bearer_token {
                    template["bearer_token"] = json!(true);
                }
                Ok(
                    json!({"kind": "user_scope", "key": public(setup, key)?, "role": role,
                    "template": template, "description": ""}),
                )
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    match spec.kind {
        JwtKind::Operator => {
            nats.insert("type".into(), json!("operator"));
            if !keys.is_empty() {
                nats.insert("signing_keys".into(), Value::Array(keys));
            }
        }
        JwtKind::Account => {
            nats.insert("type".into(), json!("account"));
            let mut limits = json!({"subs": -1, "data": -1, "payload": -1, "imports": -1,
                "exports": -1, "wildcards": true, "conn": -1, "leaf": -1});
            if spec.disallow_bearer {
                limits["disallow_bearer"] = json!(true);
            }
            nats.insert("limits".into(), limits);
            nats.insert("default_permissions".into(), json!({"pub": {}, "sub": {}}));
            if !keys.is_empty() {
                nats.insert("signing_keys".into(), Value::Array(keys));
            }
        }
        JwtKind::User => {
            nats.insert("type".into(), json!("user"));
            if !spec.scoped
                && let Value::Object(l) = unlimited()
            {
                nats.extend(l);
                nats.insert("pub".into(), json!({}));
                nats.insert("sub".into(), json!({}));
            }
            if spec.bearer_token {
                nats.insert("bearer_token".into(), json!(true));
            }
            if let Some(types) = &spec.allowed_connection_types {
                nats.insert("allowed_connection_types".into(), json!(types));
            }
            if let Some(acc) = &spec.issuer_account {
                nats.insert("issuer_account".into(), json!(public(setup, acc)?));
            }
        }
    }
    if let Some(extra) = &spec.nats {
        nats.extend(extra.clone());
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(public(setup, &spec.subject)?));
    claims.insert(
        "name".into(),
        json!(spec.name.clone().unwrap_or_else(|| name.to_owned())),
    );
    let exp = match (spec.expires, spec.expires_in) {
        (Some(_), Some(_)) => return Err(format!("JWT {name:?}: expires and expires_in")),
        (Some(at), None) => Some(at),
        (None, Some(secs)) => Some(unix_now()? + secs),
        (None, None) => None,
    };
    if let Some(exp) = exp {
        claims.insert("exp".into(), json!(exp));
    }
    claims.insert("nats".into(), Value::Object(nats));
    nats_ws::auth::jwt::encode(claims, &signer, ISSUED_AT).map_err(|e| e.to_string())
}

/// The `nonce` of the first INFO line in `data`, if any.
pub fn info_nonce(data: &[u8]) -> Option<String> {
    let line = data.split(|&b| b == b'\n').next()?;
    let json = line.strip_prefix(b"INFO ")?;
    let v: Value = serde_json::from_slice(json.trim_ascii()).ok()?;
    v.get("nonce").and_then(Value::as_str).map(str::to_owned)
}

/// Replaces `{pub:NAME}`, `{jwt:NAME}` and `{nonce_sig:NAME}` in `text`; other braces
/// stay. Without an `auth` set-up the text is returned unchanged.
pub fn render(
    text: &str,
    setup: Option<&AuthSetup>,
    nonce: Option<&str>,
) -> Result<String, String> {
    let Some(setup) = setup else {
        return Ok(text.to_owned());
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let token = tail
            .find('}')
            .map(|end| &tail[1..end])
            .and_then(|inner| inner.split_once(':'))
            .filter(|(kind, _)| matches!(*kind, "pub" | "jwt" | "nonce_sig"));
        match token {
            Some((kind, name)) => {
                out.push_str(&match kind {
                    "pub" => public(setup, name)?,
                    "jwt" => build_jwt(setup, name)?,
                    _ => {
                        let nonce = nonce.ok_or("{nonce_sig:..}: no nonce in the INFO")?;
                        let sig = keypair(setup, name)?
                            .sign(nonce.as_bytes())
                            .map_err(|e| e.to_string())?;
                        URL_SAFE_NO_PAD.encode(sig)
                    }
                });
                rest = &tail[kind.len() + name.len() + 3..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn unix_now() -> Result<i64, String> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("clock before 1970: {e}"))?;
    i64::try_from(since.as_secs()).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OP: &str = "SOAFYNORQLQFJYBYNUGC5D7SH2MXMUX5BFEWWGHN3EK4VGG5TPT5DZP7QU";

    fn setup() -> AuthSetup {
        let acc = KeyPair::new_account().seed().unwrap();
        let user = KeyPair::new_user().seed().unwrap();
        serde_saphyr::from_str(&format!(
            "keys: {{op: {OP}, acc: {acc}, u: {user}}}\njwts:\n  acc: {{kind: account, issuer: op, subject: acc}}\n  u: {{kind: user, issuer: acc, subject: u, bearer_token: true}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn substitutions() {
        let s = setup();
        let text = render(
            r#"{"jwt":"{jwt:u}","sig":"{nonce_sig:u}","x":{}}"#,
            Some(&s),
            Some("abc"),
        )
        .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let u = nats_ws::auth::jwt::UserClaims::decode(v["jwt"].as_str().unwrap()).unwrap();
        assert!(u.limits.bearer_token);
        let a = nats_ws::auth::jwt::AccountClaims::decode(&build_jwt(&s, "acc").unwrap()).unwrap();
        assert_eq!(a.claims.issuer, public(&s, "op").unwrap());
        assert_eq!(u.claims.issuer, a.claims.subject);
        assert!(render("{pub:nobody}", Some(&s), None).is_err());
        assert_eq!(render("{a:b} {x}", Some(&s), None).unwrap(), "{a:b} {x}");
        assert_eq!(
            info_nonce(b"INFO {\"nonce\":\"n1\"} \r\nPING"),
            Some("n1".to_owned())
        );
    }
}
