//! `permissions` blocks (Go: `parseUserPermissions` and the helpers it calls), for users,
//! nkeys, `authorization { default_permissions }` and accounts' `default_permissions`.

use super::access::{as_i64, go_plain_value};
use super::conf::{Kind, Map, Value};
use super::duration::parse_duration;
use super::error::{Abort, Diagnostics, Reason};
use crate::goquote::quote;
use crate::nats::subject::is_valid_subject;

/// Allow and deny lists for one direction. Go: `SubjectPermission`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectPermission {
    /// `None`: no allow list (everything not denied is allowed); `Some(empty)`: nothing is.
    pub allow: Option<Vec<String>>,
    /// Denied subjects (subscribe entries may be `"subject queue"`).
    pub deny: Vec<String>,
}

/// `allow_responses`: publishing to the reply subjects of received requests. Go:
/// `ResponsePermission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePermission {
    /// Replies allowed per request (negative: any number). Default 1.
    pub max_msgs: i64,
    /// How long a request's reply subject stays open (`None`: forever). Default 2 minutes.
    pub expires: Option<std::time::Duration>,
}

impl Default for ResponsePermission {
    /// Go: `DEFAULT_ALLOW_RESPONSE_MAX_MSGS`, `DEFAULT_ALLOW_RESPONSE_EXPIRATION`.
    fn default() -> Self {
        ResponsePermission {
            max_msgs: 1,
            expires: Some(std::time::Duration::from_secs(120)),
        }
    }
}

/// A user's permissions. Go: `Permissions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// `publish` / `pub` / `import`.
    pub publish: Option<SubjectPermission>,
    /// `subscribe` / `sub` / `export`.
    pub subscribe: Option<SubjectPermission>,
    /// `allow_responses` / `publish_allow_responses`.
    pub response: Option<ResponsePermission>,
}

/// Go: `parseUserPermissions`. `None` when the value is not a map (reported).
pub(crate) fn parse_permissions(value: &Value, diag: &mut Diagnostics) -> Option<Permissions> {
    let Kind::Map(map) = &value.kind else {
        diag.error(
            value,
            Reason::msg(format!(
                "Expected permissions to be a map/struct, got {}",
                go_plain_value(value)
            )),
        );
        return None;
    };
    let mut p = Permissions::default();
    for (key, v) in map {
        match key.to_lowercase().as_str() {
            "pub" | "publish" | "import" => {
                if let Some(s) = variable_permission(v, diag, false) {
                    p.publish = s;
                }
            }
            "sub" | "subscribe" | "export" => {
                if let Some(s) = variable_permission(v, diag, true) {
                    p.subscribe = s;
                }
            }
            "publish_allow_responses" | "allow_responses" => {
                p.response = match v.kind {
                    Kind::Bool(true) => Some(ResponsePermission::default()),
                    Kind::Bool(false) => None,
                    _ => {
                        let parsed = allow_responses(v, diag);
                        diag.recover(parsed).flatten()
                    }
                };
                if p.response.is_some() {
                    // Go: a response permission turns off the blanket publish allow.
                    p.publish
                        .get_or_insert_with(SubjectPermission::default)
                        .allow
                        .get_or_insert_with(Vec::new);
                }
            }
            _ => diag.unknown_field_text(
                v,
                format!("Unknown field {} parsing permissions", quote(key)),
            ),
        }
    }
    Some(p)
}

/// Go: `parseVariablePermissions`: `{allow, deny}`, or a subject or array of them (the old
/// style: an allow list). `None` on an error (reported); `Some(None)` for an empty map.
fn variable_permission(
    value: &Value,
    diag: &mut Diagnostics,
    allow_queue: bool,
) -> Option<Option<SubjectPermission>> {
    let Kind::Map(map) = &value.kind else {
        // Go passes the bare value here: its errors carry no position.
        let allow = subjects(value, diag, allow_queue, false)?;
        return Some(Some(SubjectPermission {
            allow: Some(allow),
            deny: Vec::new(),
        }));
    };
    if map.is_empty() {
        return Some(None);
    }
    Some(Some(subject_permission(map, diag, allow_queue)))
}

/// Go: `parseSubjectPermission`.
fn subject_permission(map: &Map, diag: &mut Diagnostics, allow_queue: bool) -> SubjectPermission {
    let mut p = SubjectPermission::default();
    for (key, v) in map {
        match key.to_lowercase().as_str() {
            "allow" => {
                if let Some(s) = subjects(v, diag, allow_queue, true) {
                    p.allow = Some(s);
                }
            }
            "deny" => {
                if let Some(s) = subjects(v, diag, allow_queue, true) {
                    p.deny = s;
                }
            }
            _ => diag.unknown_field_text(v, format!(
                            "Unknown field name {} parsing subject permissions, only 'allow' or 'deny' are permitted",
                            quote(key)
                        )),
        }
    }
    p
}

/// Go: `parsePermSubjects` and `checkPermSubjectArray`. `None` on an error (reported;
/// with the value's position when `placed`, as Go has it only for `allow` / `deny`).
pub(super) fn subjects(
    value: &Value,
    diag: &mut Diagnostics,
    allow_queue: bool,
    placed: bool,
) -> Option<Vec<String>> {
    let report = |diag: &mut Diagnostics, reason: Reason| {
        if placed {
            diag.error(value, reason);
        } else {
            diag.error_unplaced(reason);
        }
    };
    let list = match &value.kind {
        Kind::String(s) => vec![s.clone()],
        Kind::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                let Kind::String(s) = &item.kind else {
                    diag.error(
                        item,
                        Reason::msg("Subject in permissions array cannot be cast to string"),
                    );
                    return None;
                };
                list.push(s.clone());
            }
            list
        }
        other => {
            report(
                diag,
                Reason::msg(format!(
                    "Expected subject permissions to be a subject, or array of subjects, got {}",
                    other.go_type()
                )),
            );
            return None;
        }
    };
    for s in &list {
        if let Err(text) = check_subject(s, allow_queue) {
            report(diag, Reason::msg(text));
            return None;
        }
    }
    Some(list)
}

/// One entry of `checkPermSubjectArray`: a subject, or for subscribe `"subject queue"`.
fn check_subject(s: &str, allow_queue: bool) -> Result<(), String> {
    if is_valid_subject(s.as_bytes()) {
        return Ok(());
    }
    let bad = |s: &str| format!("subject {} is not a valid subject", quote(s));
    if !allow_queue {
        return Err(bad(s));
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    match fields[..] {
        [subject, _] if !is_valid_subject(subject.as_bytes()) => Err(bad(subject)),
        [_, queue] if !is_valid_subject(queue.as_bytes()) => {
            Err(format!("queue {} is not a valid queue", quote(queue)))
        }
        [_, _] => Ok(()),
        _ => Err(bad(s)),
    }
}

/// Go: `parseAllowResponses` (a map: `max`, `expires`). `Ok(None)` on a reported error;
/// `Err` for Go's panic on a `max` that is not an integer.
fn allow_responses(
    value: &Value,
    diag: &mut Diagnostics,
) -> Result<Option<ResponsePermission>, Abort> {
    let Kind::Map(map) = &value.kind else {
        diag.error(
            value,
            Reason::msg("error parsing response permissions, expected a boolean or a map"),
        );
        return Ok(None);
    };
    let mut rp = ResponsePermission::default();
    for (key, v) in map {
        match key.to_lowercase().as_str() {
            "max" | "max_msgs" | "max_messages" | "max_responses" => {
                // Negative: any number; 0: the default.
                let max = as_i64(v)?;
                if max != 0 {
                    rp.max_msgs = max;
                }
            }
            "expires" | "expiration" | "ttl" => {
                let Kind::String(text) = &v.kind else {
                    diag.error(
                        v,
                        Reason::msg("error parsing expires, not a duration string"),
                    );
                    return Ok(None);
                };
                match parse_duration(text) {
                    Err(e) => {
                        diag.error(v, Reason::msg(format!("error parsing expires: {e}")));
                        return Ok(None);
                    }
                    // 0: the default; negative: forever.
                    Ok(d) if d.is_zero() => {}
                    Ok(d) => rp.expires = d.to_std(),
                }
            }
            _ => diag.unknown_field_text(
                v,
                format!("Unknown field {} parsing permissions", quote(key)),
            ),
        }
    }
    Ok(Some(rp))
}
