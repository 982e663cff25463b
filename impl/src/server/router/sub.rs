//! Subscriptions: who one delivers to, its subject, queue and limits, and the handle the
//! sublist holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use super::{AccountSubs, Client};
use crate::server::internal::InternalClient;

/// Who a subscription delivers to: a connection's send queue, or the server's own
/// [`InternalClient`] (the system account's services).
#[derive(Debug)]
pub(crate) enum Owner {
    Conn(Arc<Client>),
    Internal(Arc<InternalClient>),
    /// An account's MQTT sessions (one subscription per subject their filters need).
    Mqtt(Arc<crate::server::mqtt::AccountMqtt>),
    /// A leaf connection's interest (`LS+`).
    Leaf(Arc<crate::server::leaf::LeafLink>),
}

/// A subscription.
#[derive(Debug)]
pub(crate) struct Sub {
    pub(super) owner: Owner,
    pub(super) sid: Box<[u8]>,
    pub(super) subject: Box<[u8]>,
    pub(super) queue: Option<Box<[u8]>>,
    /// Deliveries after which it goes away (0 = no limit).
    pub(super) max: AtomicU64,
    pub(super) delivered: AtomicU64,
    pub(super) account: Arc<AccountSubs>,
    /// Members behind it: 1, or a leaf's queue weight (Go: `qw`).
    weight: AtomicI32,
}

impl Sub {
    /// A subscription of `owner` in `account`, not yet inserted.
    pub(crate) fn new(
        owner: Owner,
        account: &Arc<AccountSubs>,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
        weight: i32,
    ) -> Arc<Sub> {
        Arc::new(Sub {
            owner,
            sid: sid.into(),
            subject: subject.into(),
            queue: queue.map(Into::into),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            account: Arc::clone(account),
            weight: AtomicI32::new(weight),
        })
    }

    /// Who it delivers to.
    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Members behind it (a leaf's queue weight; 1 otherwise).
    pub(crate) fn weight(&self) -> i32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// A leaf announced a new weight for its queue subscription: the leafs of the
    /// account hear of the difference (Go: `UpdateRemoteQSub`, then `updateLeafNodes`).
    pub(crate) fn set_weight(&self, weight: i32) {
        let _sl = self.account.write_sublist();
        let old = self.weight.swap(weight, Ordering::Relaxed);
        self.account.leafs.interest_changed(self, weight - old);
    }
    /// The subject subscribed to.
    pub(crate) fn subject(&self) -> &[u8] {
        &self.subject
    }

    /// The client's subscription id.
    pub(crate) fn sid(&self) -> &[u8] {
        &self.sid
    }

    /// The queue group, if any.
    pub(crate) fn queue(&self) -> Option<&[u8]> {
        self.queue.as_deref()
    }

    /// Messages delivered so far (Go: `sub.nm`).
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// The auto-unsubscribe limit (0: none).
    pub(crate) fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// The subscribing connection's id.
    pub(crate) fn cid(&self) -> u64 {
        match &self.owner {
            Owner::Conn(c) => c.cid,
            Owner::Leaf(l) => l.cid(),
            // The server's own subscriptions (Go's internal clients have ids of their own).
            Owner::Internal(_) | Owner::Mqtt(_) => 0,
        }
    }
}

/// A handle in the sublist; equality is identity.
#[derive(Debug, Clone)]
pub(crate) struct SubRef(pub(super) Arc<Sub>);

impl SubRef {
    /// A handle on `sub`.
    pub(crate) fn new(sub: &Arc<Sub>) -> SubRef {
        SubRef(Arc::clone(sub))
    }

    /// The subscription.
    pub(crate) fn sub(&self) -> &Arc<Sub> {
        &self.0
    }
}

impl PartialEq for SubRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
