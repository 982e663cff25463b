//! `/leafz` (Go: `Leafz`, `LeafInfo` in monitor.go): the leaf connections, optionally with
//! their subscriptions and for one account.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde::Serialize;

use super::connz::rtt_display;
use super::go_duration;
use super::query::{Query, decode_bool};
use crate::leaf::LeafRole;
use crate::server::Shared;
use crate::server::leaf::LeafLink;
use crate::server::router::lock;

/// Go: `Leafz`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Leafz {
    /// Server id.
    pub server_id: String,
    /// When it was made.
    pub now: String,
    /// Number of leaf connections listed.
    pub leafnodes: usize,
    /// The connections.
    pub leafs: Vec<LeafzEntry>,
}

/// Go: `LeafInfo` of `/leafz`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LeafzEntry {
    /// Connection id.
    pub id: u64,
    /// The remote server's name.
    pub name: String,
    /// We solicited it (our side is the spoke).
    pub is_spoke: bool,
    /// Bound account.
    pub account: String,
    /// Peer address.
    pub ip: String,
    /// Peer port.
    pub port: u16,
    /// Last measured round trip.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rtt: String,
    /// Messages received from the leaf.
    pub in_msgs: u64,
    /// Messages sent to it.
    pub out_msgs: u64,
    /// Payload bytes received.
    pub in_bytes: u64,
    /// Payload bytes sent.
    pub out_bytes: u64,
    /// Its subscriptions (interest it sent).
    pub subscriptions: u32,
    /// Their subjects (`subs=1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<String>,
    /// S2 compression mode of the connection (never compressing here: `off`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
}

/// Go: `LeafzOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeafzOptions {
    pub(crate) subscriptions: bool,
    pub(crate) account: String,
}

impl LeafzOptions {
    pub(crate) fn from_query(q: &Query) -> Result<LeafzOptions, String> {
        Ok(LeafzOptions {
            subscriptions: decode_bool(q, "subs")?,
            account: q.get("acc").to_owned(),
        })
    }
}

/// The leaf connections, by connection id.
pub(crate) fn leafz(shared: &Shared, now: jiff::Timestamp, opts: &LeafzOptions) -> Leafz {
    let mut links: Vec<Arc<LeafLink>> = lock(&shared.leafs).values().cloned().collect();
    links.sort_by_key(|l| l.cid());
    let leafs: Vec<LeafzEntry> = links.iter().filter_map(|l| entry(l, opts)).collect();
    Leafz {
        server_id: shared.server_id.clone(),
        now: now.to_string(),
        leafnodes: leafs.len(),
        leafs,
    }
}

fn entry(link: &LeafLink, opts: &LeafzOptions) -> Option<LeafzEntry> {
    let bound = link.bound()?;
    if !opts.account.is_empty() && bound.account_name != opts.account {
        return None;
    }
    let c = link.client();
    let info = lock(&c.info).clone();
    let subs = lock(&c.subs);
    let subscriptions_list = if opts.subscriptions {
        subs.values()
            .map(|s| String::from_utf8_lossy(s.subject()).into_owned())
            .collect()
    } else {
        Vec::new()
    };
    let rtt_ns = c.rtt_nanos.load(Relaxed);
    Some(LeafzEntry {
        id: c.cid,
        name: bound.peer.name.clone(),
        is_spoke: bound.role == LeafRole::Spoke,
        account: bound.account_name.clone(),
        ip: info.remote_addr.ip().to_string(),
        port: info.remote_addr.port(),
        rtt: if rtt_ns == 0 {
            String::new()
        } else {
            go_duration(rtt_display(Duration::from_nanos(rtt_ns)))
        },
        in_msgs: c.stats.in_msgs.load(Relaxed),
        out_msgs: c.stats.out_msgs.load(Relaxed),
        in_bytes: c.stats.in_bytes.load(Relaxed),
        out_bytes: c.stats.out_bytes.load(Relaxed),
        subscriptions: u32::try_from(subs.len()).unwrap_or(u32::MAX),
        subscriptions_list,
        // Go: the mode the peer's CONNECT named (ours, as a spoke), else "not supported".
        compression: if bound.peer.compress_mode.is_empty() {
            "not supported".to_owned()
        } else {
            bound.peer.compress_mode.clone()
        },
    })
}
