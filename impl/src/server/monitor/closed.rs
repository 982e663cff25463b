//! Closed connections kept for `/connz?state=closed` (Go: `closedRingBuffer` in ring.go,
//! `saveClosedClient` in server.go).
//!
//! Limits: at most `max_closed_clients` records (Go's default [`DEFAULT_MAX_CLOSED`] when
//! the option is 0 or absent; a negative value keeps none), oldest dropped first. Each
//! record keeps its connection's subscriptions as they were at close, as Go does, but at
//! most [`MAX_CLOSED_SUBS`] of them (the count stays exact; docs/CONFORMANCE.md row 36),
//! so that closing connections with many subscriptions cannot multiply their memory by
//! the ring's size.

use std::collections::VecDeque;
use std::sync::Arc;

use super::connz::{ConnzEntry, SubDetail, conn_entry, sub_details};
use crate::frame::ClosedState;
use crate::server::Shared;
use crate::server::router::{Client, lock};

/// Go: `DEFAULT_MAX_CLOSED_CLIENTS`.
pub(crate) const DEFAULT_MAX_CLOSED: usize = 10_000;
/// Most subscription details one closed record keeps (Go: all; as `DefaultSubListSize`).
pub(crate) const MAX_CLOSED_SUBS: usize = 1024;

/// A closed connection as `/connz` shows it, with what only some queries show.
#[derive(Debug, Clone)]
pub(crate) struct ClosedConn {
    /// The entry, `stop` and `reason` set; `subscriptions_list*`, `authorized_user` and
    /// `account` left empty (filled per query).
    pub(crate) info: ConnzEntry,
    pub(crate) subs: Vec<SubDetail>,
    /// The authenticated user (Go: `getRawAuthUser`).
    pub(crate) user: String,
    /// The account, empty for the global account.
    pub(crate) acc: String,
}

/// The bounded ring of closed connections, oldest first.
#[derive(Debug)]
pub(crate) struct ClosedRing {
    cap: usize,
    conns: VecDeque<Arc<ClosedConn>>,
}

impl ClosedRing {
    /// A ring for the `max_closed_clients` option (0: Go's default; negative: none).
    pub(crate) fn new(max_closed_clients: i64) -> ClosedRing {
        let cap = match max_closed_clients {
            0 => DEFAULT_MAX_CLOSED,
            n => usize::try_from(n).unwrap_or(0),
        };
        ClosedRing {
            cap,
            conns: VecDeque::new(),
        }
    }

    fn push(&mut self, cc: ClosedConn) {
        if self.cap == 0 {
            return;
        }
        if self.conns.len() >= self.cap {
            self.conns.pop_front();
        }
        self.conns.push_back(Arc::new(cc));
    }

    /// A copy of the records, oldest first (Go: `closedClients`).
    pub(crate) fn list(&self) -> Vec<Arc<ClosedConn>> {
        self.conns.iter().cloned().collect()
    }
}

/// Records `client` as closed for `reason` now (Go: `saveClosedClient`).
pub(crate) fn save(shared: &Shared, client: &Client, reason: ClosedState) {
    let now = jiff::Timestamp::now();
    let mut info = conn_entry(client, now);
    info.close_at(now, reason.as_str());
    let mut subs = sub_details(client);
    info.subscriptions = subs.len();
    subs.truncate(MAX_CLOSED_SUBS);
    let (user, acc) = {
        let i = lock(&client.info);
        let acc = i
            .account
            .clone()
            .filter(|a| a != crate::auth::GLOBAL_ACCOUNT)
            .unwrap_or_default();
        (i.user.clone().unwrap_or_default(), acc)
    };
    // Go keeps the JWT (redacted) and issuer of a closed connection whatever `auth` says.
    info.jwt = redact_bearer(&info.jwt);
    let cc = ClosedConn {
        info,
        subs,
        user,
        acc,
    };
    lock(&shared.closed).push(cc);
}

/// Go: `redactBearerJWT`: a bearer token's JWT is not shown.
pub(crate) fn redact_bearer(jwt: &str) -> String {
    if jwt.is_empty() {
        return String::new();
    }
    let bearer = crate::auth::jwt::UserClaims::decode(jwt).is_ok_and(|u| u.limits.bearer_token);
    if bearer {
        String::new()
    } else {
        jwt.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(cid: u64) -> ClosedConn {
        ClosedConn {
            info: ConnzEntry::test_entry(cid),
            subs: Vec::new(),
            user: String::new(),
            acc: String::new(),
        }
    }

    #[test]
    fn ring_keeps_the_newest() {
        let mut r = ClosedRing::new(2);
        for cid in 1..=3 {
            r.push(record(cid));
        }
        let cids: Vec<u64> = r.list().iter().map(|c| c.info.cid).collect();
        assert_eq!(cids, [2, 3]);
    }

    #[test]
    fn zero_is_gos_default_and_negative_keeps_none() {
        assert_eq!(ClosedRing::new(0).cap, DEFAULT_MAX_CLOSED);
        let mut r = ClosedRing::new(-1);
        r.push(record(1));
        assert!(r.list().is_empty());
    }
}
