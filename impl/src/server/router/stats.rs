//! Per-account counters: messages in and out (Go: `Account.stats`) and the sublist's
//! (Go: `SublistStats`).

use std::sync::atomic::{AtomicU64, Ordering};

/// One account's message counters (Go: `Account.stats`), for `/accstatz` and the system
/// account's `STATZ`/`CONNS`.
#[derive(Debug, Default)]
pub(crate) struct AccountStats {
    pub(crate) in_msgs: AtomicU64,
    pub(crate) in_bytes: AtomicU64,
    pub(crate) out_msgs: AtomicU64,
    pub(crate) out_bytes: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
}

impl AccountStats {
    pub(crate) fn received(&self, bytes: usize) {
        self.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn received_batch(&self, msgs: u64, bytes: u64) {
        self.in_msgs.fetch_add(msgs, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(super) fn sent(&self, bytes: usize) {
        self.out_msgs.fetch_add(1, Ordering::Relaxed);
        self.out_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// One account's sublist counters (Go: `SublistStats`, the parts we count).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SublistStats {
    pub(crate) subscriptions: u64,
    pub(crate) inserts: u64,
    pub(crate) removes: u64,
    /// Publishers' lookups, and those their match caches answered.
    pub(crate) matches: u64,
    pub(crate) cache_hits: u64,
}

impl SublistStats {
    /// Go: `SublistStats.add`.
    pub(crate) fn add(&mut self, o: &SublistStats) {
        self.subscriptions += o.subscriptions;
        self.inserts += o.inserts;
        self.removes += o.removes;
        self.matches += o.matches;
        self.cache_hits += o.cache_hits;
    }
}
