//! [`InternalClient`]: the server's own client in the router (Go: the system account's
//! `sys.client`). It subscribes and publishes like a connection but has no socket: a
//! message for one of its subscriptions is copied into a bounded queue that the system
//! account's task drains (Go: the `recvq` of `noInlineCallback`).
//!
//! Limits: at most [`MAX_QUEUED`] messages and [`MAX_QUEUED_BYTES`] bytes wait; a message
//! that arrives when either is reached is dropped and counted (Go's queue is unbounded).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::nats::ops::Delivery;
use crate::server::router::{AccountSubs, Client, lock};

/// Most messages waiting for the internal client.
pub(crate) const MAX_QUEUED: usize = 1024;
/// Most bytes (subjects and payloads) waiting for the internal client.
pub(crate) const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

/// One message delivered to an internal subscription.
#[derive(Debug)]
pub(crate) struct InMsg {
    /// The subscription's subject (which service it is for).
    pub(crate) service: String,
    /// The account the subscription is in (where an answer goes).
    pub(crate) account: Arc<AccountSubs>,
    pub(crate) subject: String,
    pub(crate) reply: Option<String>,
    /// The body, headers removed.
    pub(crate) body: Vec<u8>,
    /// The connection that published it, if a connection did.
    pub(crate) sender: Option<Arc<Client>>,
}

impl InMsg {
    fn size(&self) -> usize {
        self.subject.len() + self.reply.as_ref().map_or(0, String::len) + self.body.len()
    }
}

#[derive(Debug, Default)]
struct Queue {
    msgs: VecDeque<InMsg>,
    bytes: usize,
}

/// The server's own client: no socket, a bounded receive queue.
#[derive(Debug, Default)]
pub(crate) struct InternalClient {
    queue: Mutex<Queue>,
    /// Wakes the task that drains the queue.
    pub(crate) wake: Notify,
    /// Messages dropped because the queue was full.
    pub(crate) dropped: AtomicU64,
}

impl InternalClient {
    /// Queues a message for `service` (the subscription's subject) in `account`; false
    /// if the queue is full.
    pub(crate) fn deliver(
        &self,
        service: &[u8],
        account: &Arc<AccountSubs>,
        msg: &Delivery<'_>,
        sender: Option<&Arc<Client>>,
    ) -> bool {
        let body = msg
            .payload
            .get(msg.header_len.unwrap_or(0)..)
            .unwrap_or_default();
        let m = InMsg {
            service: String::from_utf8_lossy(service).into_owned(),
            account: Arc::clone(account),
            subject: String::from_utf8_lossy(msg.subject).into_owned(),
            reply: msg
                .reply
                .filter(|r| !r.is_empty())
                .map(|r| String::from_utf8_lossy(r).into_owned()),
            body: body.to_vec(),
            sender: sender.cloned(),
        };
        let mut q = lock(&self.queue);
        if q.msgs.len() >= MAX_QUEUED || q.bytes + m.size() > MAX_QUEUED_BYTES {
            drop(q);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.bytes += m.size();
        q.msgs.push_back(m);
        drop(q);
        self.wake.notify_one();
        true
    }

    /// The next queued message.
    pub(crate) fn next(&self) -> Option<InMsg> {
        let mut q = lock(&self.queue);
        let m = q.msgs.pop_front()?;
        q.bytes = q.bytes.saturating_sub(m.size());
        Some(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn msg<'a>(subject: &'a [u8], payload: &'a [u8], header_len: Option<usize>) -> Delivery<'a> {
        Delivery {
            subject,
            reply: Some(b"_INBOX.1"),
            header_len,
            payload,
        }
    }

    #[test]
    fn queue_is_bounded_and_strips_headers() {
        let c = InternalClient::default();
        let acc = Arc::new(AccountSubs::default());
        let with_hdr = msg(b"a", b"NATS/1.0\r\n\r\n{}", Some(12));
        assert!(c.deliver(b"svc", &acc, &with_hdr, None));
        let m = c.next().unwrap();
        assert_eq!(m.body, b"{}");
        assert_eq!(m.reply.as_deref(), Some("_INBOX.1"));
        assert_eq!(m.service, "svc");
        for _ in 0..MAX_QUEUED {
            assert!(c.deliver(b"svc", &acc, &msg(b"a", b"x", None), None));
        }
        assert!(!c.deliver(b"svc", &acc, &msg(b"a", b"x", None), None));
        assert_eq!(c.dropped.load(Ordering::Relaxed), 1);
        let big = vec![0u8; MAX_QUEUED_BYTES];
        let c = InternalClient::default();
        assert!(!c.deliver(b"svc", &acc, &msg(b"a", &big, None), None));
        assert!(c.next().is_none());
    }
}
