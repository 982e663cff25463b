//! Checks on the `leafnodes {}` options, in Go's order and with its texts
//! (Go: `validateLeafNode`, `validateLeafNodeAuthOptions`, `checkLeafMinVersionConfig`).

use std::collections::BTreeSet;

use super::super::nkey::{NkeyKind, is_valid_public_key};
use super::super::server::ServerOpts;
use super::LeafNodeOpts;
use super::url::{LeafUrl, quoted_redacted_list};
use crate::goquote::quote;

/// Why the leafnode options cannot run. Display texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeafValidationError {
    /// `authorization { user }` next to `users`.
    #[error("can not have a single user/pass and a users array")]
    UserAndUsers,
    /// `authorization { nkey }` next to `users`.
    #[error("can not have a single nkey and a users array")]
    NkeyAndUsers,
    /// Two `users` with one name.
    #[error("duplicate user {} detected in leafnode authorization", quote(.0))]
    DuplicateUser(String),
    /// A `deny_imports` subject that is not valid.
    #[error("invalid deny_imports for remote {remote}: {reason}")]
    DenyImports {
        /// The remote's safe name.
        remote: String,
        /// Go's subject error.
        reason: String,
    },
    /// A `deny_exports` subject that is not valid.
    #[error("invalid deny_exports for remote {remote}: {reason}")]
    DenyExports {
        /// The remote's safe name.
        remote: String,
        /// Go's subject error.
        reason: String,
    },
    /// Two remotes with the same URLs, account and credentials.
    #[error("duplicate remote {0}")]
    DuplicateRemote(String),
    /// An account no `accounts {}` entry defines.
    #[error(
        "cannot find local account {} specified in leafnode {kind}",
        quote(account)
    )]
    UnknownAccount {
        /// The account name.
        account: String,
        /// `authorization` or `remote`.
        kind: &'static str,
    },
    /// `users` in operator mode.
    #[error("operator mode does not allow specifying users in leafnode config")]
    OperatorUsers,
    /// A remote without an account public key in operator mode.
    #[error(
        "operator mode requires account nkeys in remotes. Please add an `account` key to each remote in your `leafnodes` section, to assign it to an account. Each account value should be a 56 character public key, starting with the letter 'A'"
    )]
    OperatorRemoteAccount,
    /// `authorization { account }` not an account public key in operator mode.
    #[error("operator mode and non account nkeys are incompatible")]
    OperatorAccount,
    /// A `compression` mode Go does not know.
    #[error("{0}")]
    Compression(String),
    /// A remote's `proxy {}` that cannot work.
    #[error("{0}")]
    Proxy(String),
    /// `ws://` and `nats://` URLs in one remote.
    #[error(
        "remote leaf node configuration cannot have a mix of websocket and non-websocket urls: {0}"
    )]
    MixedUrls(String),
    /// A bad `min_version`.
    #[error("invalid leafnode's minimum version: {0}")]
    MinVersionInvalid(String),
    /// A `min_version` below 2.8.0.
    #[error("the minimum version should be at least 2.8.0")]
    MinVersionTooLow,
}

impl LeafValidationError {
    /// One value of every variant, for the golden error table (no wildcard below).
    #[doc(hidden)]
    pub fn examples() -> Vec<LeafValidationError> {
        use LeafValidationError as E;
        let all = vec![
            E::UserAndUsers,
            E::NkeyAndUsers,
            E::DuplicateUser("u".to_owned()),
            E::DenyImports {
                remote: "urls=[\"nats://h:1\"], account=\"$G\"".to_owned(),
                reason: "subject \"a..b\" is not a valid subject".to_owned(),
            },
            E::DenyExports {
                remote: "urls=[\"nats://h:1\"], account=\"$G\"".to_owned(),
                reason: "subject \"a..b\" is not a valid subject".to_owned(),
            },
            E::DuplicateRemote("urls=[\"nats://h:1\"], account=\"$G\"".to_owned()),
            E::UnknownAccount {
                account: "A".to_owned(),
                kind: "remote",
            },
            E::OperatorUsers,
            E::OperatorRemoteAccount,
            E::OperatorAccount,
            E::Compression("unsupported compression mode \"x\"".to_owned()),
            E::Proxy("proxy URL must specify a host".to_owned()),
            E::MixedUrls("[\"nats://h:1\" \"ws://h:2\"]".to_owned()),
            E::MinVersionInvalid("invalid semver".to_owned()),
            E::MinVersionTooLow,
        ];
        for e in &all {
            match e {
                E::UserAndUsers
                | E::NkeyAndUsers
                | E::DuplicateUser(_)
                | E::DenyImports { .. }
                | E::DenyExports { .. }
                | E::DuplicateRemote(_)
                | E::UnknownAccount { .. }
                | E::OperatorUsers
                | E::OperatorRemoteAccount
                | E::OperatorAccount
                | E::Compression(_)
                | E::Proxy(_)
                | E::MixedUrls(_)
                | E::MinVersionInvalid(_)
                | E::MinVersionTooLow => {}
            }
        }
        all
    }
}

/// Go: `validateLeafNodeAuthOptions`.
pub(super) fn auth_options(lo: &LeafNodeOpts) -> Result<(), LeafValidationError> {
    if lo.users.is_empty() {
        return Ok(());
    }
    if !lo.username.is_empty() {
        return Err(LeafValidationError::UserAndUsers);
    }
    if !lo.nkey.is_empty() {
        return Err(LeafValidationError::NkeyAndUsers);
    }
    let mut names = BTreeSet::new();
    for u in &lo.users {
        if !names.insert(u.username.as_str()) {
            return Err(LeafValidationError::DuplicateUser(u.username.clone()));
        }
    }
    Ok(())
}

/// Go: `checkLeafMinVersionConfig`: a semantic version of at least 2.8.0.
pub(super) fn check_min_version(version: &str) -> Result<(), LeafValidationError> {
    let (major, minor, patch) = semver(version).ok_or_else(|| {
        LeafValidationError::MinVersionInvalid(match semver_shape(version) {
            // Go: strconv.Atoi on a component too large for an int.
            Some(big) => format!("strconv.Atoi: parsing {}: value out of range", quote(big)),
            None => "invalid semver".to_owned(),
        })
    })?;
    if (major, minor, patch) >= (2, 8, 0) {
        Ok(())
    } else {
        Err(LeafValidationError::MinVersionTooLow)
    }
}

/// The numeric components of a version matching Go's `semVerRe`.
fn semver(version: &str) -> Option<(u64, u64, u64)> {
    let [a, b, c] = semver_components(version)?;
    Some((a.parse().ok()?, b.parse().ok()?, c.parse().ok()?))
}

/// The first component too large to parse, when `version` matches `semVerRe`.
fn semver_shape(version: &str) -> Option<&str> {
    semver_components(version)?
        .into_iter()
        .find(|c| c.parse::<i64>().is_err())
}

/// Go: `semVerRe`, `MAJOR.MINOR.PATCH[-pre][+build]` with no leading zeros.
fn semver_components(version: &str) -> Option<[&str; 3]> {
    let (core, build) = match version.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (core, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if let Some(pre) = pre {
        let ok = pre
            .split('.')
            .all(|id| ident(id) && (numeric(id) || id.bytes().any(|b| !b.is_ascii_digit())));
        if !ok {
            return None;
        }
    }
    if build.is_some_and(|b| !b.split('.').all(ident)) {
        return None;
    }
    let mut parts = core.split('.');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || ![a, b, c].iter().all(|p| numeric(p)) {
        return None;
    }
    Some([a, b, c])
}

impl ServerOpts {
    /// Go: `validateLeafNode` (part of [`ServerOpts::validate`]). Gateways do not exist
    /// here, so Go's checks that need them do not apply; FIPS does not apply (rustls
    /// with ring).
    pub fn validate_leafnode(&self) -> Result<(), LeafValidationError> {
        let lo = &self.leafnode;
        auth_options(lo)?;
        let mut names = BTreeSet::new();
        for r in &lo.remotes {
            for (list, import) in [(&r.deny_imports, true), (&r.deny_exports, false)] {
                if let Some(reason) = list.iter().find_map(|s| invalid_subject(s)) {
                    let remote = r.safe_name();
                    return Err(if import {
                        LeafValidationError::DenyImports { remote, reason }
                    } else {
                        LeafValidationError::DenyExports { remote, reason }
                    });
                }
            }
            if !names.insert(r.name()) {
                return Err(LeafValidationError::DuplicateRemote(r.safe_name()));
            }
        }
        if self.operators.is_empty() {
            let known = |name: &str| {
                name.is_empty()
                    || name == "$G"
                    || (self.system_account.is_empty() && !self.no_system_account && name == "$SYS")
                    || self.accounts.iter().any(|a| a.name == name)
            };
            let unknown = |account: &str, kind| LeafValidationError::UnknownAccount {
                account: account.to_owned(),
                kind,
            };
            if !known(&lo.account) {
                return Err(unknown(&lo.account, "authorization"));
            }
            for u in &lo.users {
                if let Some(account) = u.account.as_deref().filter(|a| !known(a)) {
                    return Err(unknown(account, "authorization"));
                }
            }
            for r in &lo.remotes {
                if !known(&r.local_account) {
                    return Err(unknown(&r.local_account, "remote"));
                }
            }
        } else {
            if !lo.users.is_empty() {
                return Err(LeafValidationError::OperatorUsers);
            }
            if lo
                .remotes
                .iter()
                .any(|r| !is_valid_public_key(&r.local_account, NkeyKind::Account))
            {
                return Err(LeafValidationError::OperatorRemoteAccount);
            }
            if lo.port != 0
                && !lo.account.is_empty()
                && !is_valid_public_key(&lo.account, NkeyKind::Account)
            {
                return Err(LeafValidationError::OperatorAccount);
            }
        }
        lo.compression
            .mode()
            .map_err(LeafValidationError::Compression)?;
        for r in &lo.remotes {
            r.validate_proxy().map_err(LeafValidationError::Proxy)?;
            let first_ws = r.urls.first().map(LeafUrl::is_websocket);
            if r.urls.iter().any(|u| Some(u.is_websocket()) != first_ws) {
                return Err(LeafValidationError::MixedUrls(quoted_redacted_list(
                    &r.urls,
                )));
            }
            r.compression
                .mode()
                .map_err(LeafValidationError::Compression)?;
        }
        if lo.port == 0 {
            return Ok(());
        }
        if !lo.min_version.is_empty() {
            check_min_version(&lo.min_version)?;
        }
        Ok(())
    }
}

/// Go: `checkPermSubjectArray(subjects, false)` for one subject: its error text.
fn invalid_subject(s: &str) -> Option<String> {
    (!crate::nats::subject::is_valid_subject(s.as_bytes()))
        .then(|| format!("subject {} is not a valid subject", quote(s)))
}
