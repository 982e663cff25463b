//! `/subsz`: subscription counts and statistics, optionally the subscriptions themselves
//! (Go: `Subsz`, `SubszOptions`, `SublistStats`).
//!
//! Our sublist has no shared match cache (each publisher keeps its own, see
//! `router::MatchCache`), so `num_cache`, `max_fanout` and `avg_fanout` are 0;
//! `num_matches` counts publishers' lookups and `cache_hit_rate` the share their caches
//! answered (docs/CONFORMANCE.md).

use std::sync::Arc;

use serde::Serialize;

use super::connz::{SubDetail, sub_details};
use super::query::{Query, decode_bool, decode_int};
use super::{DEFAULT_LIMIT, go_float};
use crate::nats::subject::{is_valid_literal_subject, matches};
use crate::server::Shared;
use crate::server::router::{Client, SublistStats, lock};

/// Go: `Subsz` with its embedded `SublistStats`.
#[derive(Serialize, Debug)]
pub(crate) struct Subsz {
    server_id: String,
    now: String,
    num_subscriptions: u64,
    num_cache: u64,
    num_inserts: u64,
    num_removes: u64,
    num_matches: u64,
    #[serde(serialize_with = "go_float")]
    cache_hit_rate: f64,
    max_fanout: u64,
    #[serde(serialize_with = "go_float")]
    avg_fanout: f64,
    total: usize,
    offset: usize,
    limit: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subscriptions_list: Vec<SubDetail>,
}

/// Go: `SubszOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubszOptions {
    pub(crate) offset: i64,
    /// 0 or less: [`DEFAULT_LIMIT`].
    pub(crate) limit: i64,
    /// List the subscriptions.
    pub(crate) subscriptions: bool,
    /// Only this account (empty: all).
    pub(crate) account: String,
    /// Only subscriptions a message published to this literal subject would reach.
    pub(crate) test: String,
}

impl SubszOptions {
    /// Go: `HandleSubsz`'s decoding, in its order.
    pub(crate) fn from_query(q: &Query) -> Result<SubszOptions, String> {
        Ok(SubszOptions {
            subscriptions: decode_bool(q, "subs")?,
            offset: decode_int(q, "offset")?,
            limit: decode_int(q, "limit")?,
            test: q.get("test").to_owned(),
            account: q.get("acc").to_owned(),
        })
    }
}

/// Go: `Server.Subsz`.
pub(crate) fn subsz(
    shared: &Shared,
    now: jiff::Timestamp,
    opts: &SubszOptions,
) -> Result<Subsz, String> {
    let offset = usize::try_from(opts.offset.max(0)).unwrap_or(0);
    let limit = match usize::try_from(opts.limit) {
        Ok(n) if n > 0 => n,
        _ => DEFAULT_LIMIT,
    };
    if !opts.test.is_empty() && !is_valid_literal_subject(opts.test.as_bytes()) {
        return Err(format!(
            "invalid test subject, must be valid publish subject: {}",
            opts.test
        ));
    }
    let wanted = |name: &str| opts.account.is_empty() || name == opts.account;
    let mut st = SublistStats::default();
    for (name, acc) in lock(&shared.accounts).iter() {
        if wanted(name) {
            st.add(&acc.stats());
        }
    }
    let (mut total, mut subscriptions_list) = (0, Vec::new());
    if opts.subscriptions {
        let clients: Vec<Arc<Client>> = lock(&shared.clients).values().cloned().collect();
        let mut details: Vec<SubDetail> = clients
            .iter()
            .flat_map(|c| sub_details(c))
            .filter(|d| wanted(&d.account))
            .filter(|d| opts.test.is_empty() || matches(d.subject.as_bytes(), opts.test.as_bytes()))
            .collect();
        details.sort_by(|a, b| {
            (&a.account, &a.subject, a.cid, &a.sid).cmp(&(&b.account, &b.subject, b.cid, &b.sid))
        });
        total = details.len();
        subscriptions_list = details.into_iter().skip(offset).take(limit).collect();
    }
    let cache_hit_rate = if st.matches > 0 {
        st.cache_hits as f64 / st.matches as f64
    } else {
        0.0
    };
    Ok(Subsz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        num_subscriptions: st.subscriptions,
        num_cache: 0,
        num_inserts: st.inserts,
        num_removes: st.removes,
        num_matches: st.matches,
        cache_hit_rate,
        max_fanout: 0,
        avg_fanout: 0.0,
        total,
        offset,
        limit,
        subscriptions_list,
    })
}
