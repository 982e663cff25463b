//! Operator mode: trusted operator keys, the memory account resolver and user JWTs
//! (Go: the `juc != nil` part of `processClientOrLeafAuthentication`).

use std::collections::{BTreeMap, BTreeSet};

use crate::auth::jwt::{AccountClaims, OperatorClaims, UserClaims, UserLimits};
use crate::auth::signature::nonce_signed;
use crate::auth::{AuthError, Expired, Expiry, Identity, Transport};
use crate::options::{CONNECTION_TYPES, Resolver, ServerOpts};

/// Why operator mode could not be set up. Texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// An `operator` entry is neither a readable file nor an inline JWT.
    #[error("error parsing operator JWT: {0}")]
    Operator(String),
    /// Go: `operators require an account resolver to be configured`.
    #[error("operators require an account resolver to be configured")]
    NoResolver,
    /// Go: `conflicting options for 'TrustedKeys' and 'TrustedOperators'`.
    #[error("conflicting options for 'TrustedKeys' and 'TrustedOperators'")]
    Conflict,
    /// A preloaded account JWT that does not decode.
    #[error("preload account error for {0:?}: {1}")]
    Preload(String, String),
}

/// Trusted keys and the accounts a memory resolver holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Operator {
    /// The `operator` JWTs, in configuration order.
    operators: Vec<OperatorClaims>,
    trusted: BTreeSet<String>,
    /// Account public key → account JWT (`resolver_preload`).
    accounts: BTreeMap<String, String>,
}

const JWT_PREFIX: &str = "eyJ";

impl Operator {
    /// `None` when neither `operator` nor `trusted_keys` is configured.
    pub(crate) fn from_opts(opts: &ServerOpts) -> Result<Option<Operator>, OperatorError> {
        if opts.operators.is_empty() && opts.trusted_keys.is_empty() {
            return Ok(None);
        }
        let mut trusted: BTreeSet<String> = opts.trusted_keys.iter().cloned().collect();
        let mut operators = Vec::new();
        if !opts.operators.is_empty() {
            if opts.resolver.is_none() {
                return Err(OperatorError::NoResolver);
            }
            if !opts.trusted_keys.is_empty() {
                return Err(OperatorError::Conflict);
            }
        }
        for entry in &opts.operators {
            // Go: readOperatorJWT, a file or an inline JWT; decorated creds files too.
            let text = match std::fs::read_to_string(entry) {
                Ok(t) => t,
                Err(_) if entry.starts_with(JWT_PREFIX) => entry.clone(),
                Err(e) => return Err(OperatorError::Operator(e.to_string())),
            };
            let token = undecorate(&text);
            let op = OperatorClaims::decode(token)
                .map_err(|e| OperatorError::Operator(e.to_string()))?;
            if !op.strict_signing_key_usage {
                trusted.insert(op.claims.subject.clone());
            }
            trusted.extend(op.signing_keys.iter().cloned());
            operators.push(op);
        }
        let mut accounts = BTreeMap::new();
        if matches!(opts.resolver, Some(Resolver::Memory)) {
            for (key, token) in &opts.resolver_preload {
                AccountClaims::decode(token)
                    .map_err(|e| OperatorError::Preload(key.clone(), e.to_string()))?;
                accounts.insert(key.clone(), token.clone());
            }
        }
        Ok(Some(Operator {
            operators,
            trusted,
            accounts,
        }))
    }

    /// The `operator` JWTs (none when only `trusted_keys` is set).
    pub(crate) fn operators(&self) -> &[OperatorClaims] {
        &self.operators
    }

    /// Authenticates a CONNECT's user JWT.
    pub(crate) fn authenticate(
        &self,
        token: &str,
        sig: &str,
        nonce: Option<&str>,
        transport: Transport,
        now: i64,
    ) -> Result<Identity, AuthError> {
        let fail = |why: &'static str| Err(AuthError::Jwt(why));
        if token.is_empty() {
            return fail("Authentication requires a user JWT");
        }
        let Ok(user) = UserClaims::decode(token) else {
            return fail("User JWT not valid");
        };
        if user.claims.check_times(now).is_err() {
            return fail("User JWT no longer valid");
        }
        let name = user.account();
        let Some(account) = self
            .accounts
            .get(name)
            .and_then(|t| AccountClaims::decode(t).ok())
            .filter(|a| a.claims.subject == name)
        else {
            return fail("Account JWT lookup error");
        };
        if !self.trusted.contains(&account.claims.issuer) {
            return fail("Account JWT not signed by trusted operator");
        }
        let limits: &UserLimits = match account.issuer_scope(&user.claims.issuer) {
            None => return fail("User JWT issuer is not known"),
            Some(None) => &user.limits,
            Some(Some(template)) => {
                if !user.limits.empty {
                    return fail(
                        "User JWT is not valid: scoped users require no permissions or limits set",
                    );
                }
                template
            }
        };
        // Go marks an account expired from its `exp` second on (`checkExpiration`: `<=`).
        let account_exp = account.claims.expires;
        if account.claims.check_times(now).is_err() || (account_exp > 0 && account_exp <= now) {
            return fail("Account JWT has expired");
        }
        // Connect restrictions are not enforced here yet: refused, not ignored
        // (docs/CONFORMANCE.md).
        if limits.unenforced {
            return fail(
                "User JWT src, times and payload restrictions are not supported by this server",
            );
        }
        if account.unenforced_limits {
            return fail("Account JWT conn and payload limits are not supported by this server");
        }
        if account.unhonoured_sharing {
            return fail(
                "Account JWT imports, exports and mappings are not supported by this server",
            );
        }
        if limits.bearer_token && account.disallow_bearer {
            return fail("Account does not allow bearer tokens");
        }
        // Unknown types are ignored, unless nothing known is left (Go:
        // convertAllowedConnectionTypes and the comment after it).
        let written = &limits.allowed_connection_types;
        let known: BTreeSet<String> = written
            .iter()
            .map(|t| t.to_uppercase())
            .filter(|t| CONNECTION_TYPES.contains(&t.as_str()))
            .collect();
        if known.len() < written.len() && known.is_empty() {
            return fail("invalid connection types");
        }
        if !known.is_empty() && !known.contains(transport.connection_type()) {
            return fail("Connection type not allowed");
        }
        if !limits.bearer_token && !nonce_signed(&user.claims.subject, sig, nonce) {
            return fail("Signature not verified");
        }
        if account.user_revoked(&user.claims.subject, user.claims.issued_at) {
            return fail("User authentication revoked");
        }
        Ok(Identity {
            user: Some(user.claims.subject.clone()),
            account: name.to_owned(),
            expires: Expiry::earliest(
                now,
                &[
                    (user.claims.expires, Expired::User),
                    (account_exp, Expired::Account),
                ],
            ),
            // Go: buildInternalNkeyUser, the account's defaults when the user has none.
            permissions: limits
                .permissions
                .as_ref()
                .or(account.default_permissions.as_ref())
                .map(|p| std::sync::Arc::new(crate::auth::Checker::new(p))),
            // Go: applyAccountLimits, the user's (or its scope's) then the account's.
            max_subscriptions: crate::auth::min_limit(limits.subs, account.subs),
        })
    }
}

/// The JWT of a decorated creds-style file (`-----BEGIN NATS OPERATOR JWT-----`), or the
/// trimmed text. Go: `jwt.ParseDecoratedJWT`.
fn undecorate(text: &str) -> &str {
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("-----BEGIN") && line.contains("JWT") {
            return lines.next().unwrap_or_default();
        }
    }
    text.trim()
}
