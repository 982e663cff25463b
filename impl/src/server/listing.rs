//! Where an open connection is listed, and how its life is logged: NATS and MQTT clients
//! in the client list (`/connz`, `max_connections`, system events, closed connections),
//! leaf connections in the leaf list (`/leafz`), as Go keeps `s.clients` and `s.leafs`.

use std::sync::Arc;

use crate::frame::ClosedState;
use crate::server::leaf::{LeafLink, LinkOrigin};
use crate::server::router::{Client, lock};
use crate::server::{LogLevel, Shared, monitor};

/// One connection's listing.
#[derive(Debug)]
pub(crate) enum Listing {
    /// A client: `listed` until it starts closing; `saved` once in the closed ring.
    Client { listed: bool, saved: bool },
    /// A leaf connection.
    Leaf { link: Arc<LeafLink>, listed: bool },
}

impl Listing {
    /// Lists a new connection. Go: a client over `max_connections` is refused before it
    /// is listed, so it never holds a slot, not even while its error is delivered; leafs
    /// do not count against it.
    pub(crate) fn admit(
        shared: &Shared,
        client: &Arc<Client>,
        leaf: Option<&Arc<LeafLink>>,
    ) -> Listing {
        if let Some(link) = leaf {
            lock(&shared.leafs).insert(client.cid, Arc::clone(link));
            // Go: createLeafNode, `Noticef("Leafnode connection created%s %s", ...)`; a
            // solicited one was announced at its TCP connect (`solicit::run_remote`).
            if matches!(link.origin(), LinkOrigin::Accepted) {
                shared.log(
                    LogLevel::Info,
                    &format!("{} - Leafnode connection created ", client.prefix),
                );
            }
            return Listing::Leaf {
                link: Arc::clone(link),
                listed: true,
            };
        }
        let mut clients = lock(&shared.clients);
        let admitted = shared
            .limits
            .max_connections
            .is_some_and(|max| clients.len() < max);
        if admitted {
            clients.insert(client.cid, Arc::clone(client));
        }
        drop(clients);
        if admitted {
            shared.log(
                LogLevel::Debug,
                &format!("{} - Client connection created", client.prefix),
            );
        }
        Listing::Client {
            listed: admitted,
            saved: false,
        }
    }

    /// Whether the connection was admitted.
    pub(crate) fn is_listed(&self) -> bool {
        match self {
            Listing::Client { listed, .. } | Listing::Leaf { listed, .. } => *listed,
        }
    }

    /// The connection started closing. Go: it leaves the server's list at once
    /// (`closeConnection` → `removeClient`), so it stops counting against
    /// `max_connections` while its last bytes go out and it lingers; a client is saved
    /// for `/connz?state=closed` with its subscriptions still attached.
    pub(crate) fn closing(&mut self, shared: &Shared, client: &Arc<Client>, state: ClosedState) {
        match self {
            Listing::Client { listed, saved } => {
                if *saved {
                    return;
                }
                if *listed {
                    lock(&shared.clients).remove(&client.cid);
                    *listed = false;
                    count_close(shared, state);
                    if let Some(sys) = &shared.system {
                        sys.client_disconnected(shared, client, state);
                    }
                }
                monitor::save_closed(shared, client, state);
                *saved = true;
            }
            Listing::Leaf { listed, .. } => {
                if *listed {
                    lock(&shared.leafs).remove(&client.cid);
                    *listed = false;
                    count_close(shared, state);
                }
            }
        }
    }

    /// The connection is over.
    pub(crate) fn ended(&mut self, shared: &Shared, client: &Arc<Client>, state: ClosedState) {
        if let Listing::Client { listed: true, .. } = self {
            lock(&shared.clients).remove(&client.cid);
            if let Some(sys) = &shared.system {
                sys.client_disconnected(shared, client, state);
            }
        }
        if let Listing::Client { saved: false, .. } = self {
            monitor::save_closed(shared, client, state);
        }
        if let Listing::Leaf { listed: true, .. } = self {
            lock(&shared.leafs).remove(&client.cid);
        }
    }

    /// Go: clients at debug level; leafs as a notice naming the remote server.
    pub(crate) fn log_closed(&self, shared: &Shared, client: &Client, state: ClosedState) {
        match self {
            Listing::Client { .. } => shared.log(
                LogLevel::Debug,
                &format!(
                    "{} - Client connection closed: {state}",
                    client.log_prefix()
                ),
            ),
            Listing::Leaf { link, .. } => {
                let remote = link
                    .bound()
                    .map(|b| b.peer.name.as_str())
                    .filter(|n| !n.is_empty());
                let line = match remote {
                    Some(name) => format!(
                        "{} - Leafnode connection closed: {state} - Remote: {name}",
                        client.prefix
                    ),
                    None => format!("{} - Leafnode connection closed: {state}", client.prefix),
                };
                shared.log(LogLevel::Info, &line);
            }
        }
    }
}

/// Go counts stale connections and write-deadline slow consumers when they close (a
/// slow consumer over `max_pending` is counted where it is detected, in the router).
fn count_close(shared: &Shared, state: ClosedState) {
    use std::sync::atomic::Ordering::Relaxed;
    match state {
        ClosedState::StaleConnection => {
            shared.stats.stale_connections.fetch_add(1, Relaxed);
        }
        ClosedState::SlowConsumerWriteDeadline => {
            shared.stats.slow_consumers.fetch_add(1, Relaxed);
        }
        _ => {}
    }
}
