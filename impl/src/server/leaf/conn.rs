//! One leaf connection on the server: [`LeafConn`] (the sans-IO [`LeafSession`] plus its
//! [`LeafLink`]) as the pump carries it, and [`LeafConnRouter`], its [`LeafRouter`]
//! into the accounts.

use std::sync::Arc;
use std::time::Instant;

use super::link::{AccountLeafs, Bound, LDS_PREFIX, LeafLink, LinkOrigin};
use crate::auth::Identity;
use crate::conn::{Close, HandleInput, Session};
use crate::frame::ClosedState;
use crate::leaf::{LeafMsg, LeafPeer, LeafRouter, LeafSession, LeafSubError, PermissionDenied};
use crate::nats::SublistResult;
use crate::nats::ops::Delivery;
use crate::nats::subject::is_valid_literal_subject;
use crate::server::pump::Served;
use crate::server::router::{
    Client, LeafSource, Owner, Sub, SubRef, fanout_from, lock, unsubscribe_internal,
};
use crate::server::{LogLevel, Shared};

/// A leaf connection's session, as the pump carries it.
#[derive(Debug)]
pub(crate) struct LeafConn {
    session: LeafSession,
    link: Arc<LeafLink>,
}

impl LeafConn {
    /// An accepted leaf connection.
    pub(crate) fn accepted(
        shared: &Arc<Shared>,
        session: LeafSession,
        client: &Arc<Client>,
    ) -> LeafConn {
        LeafConn {
            session,
            link: Arc::new(LeafLink::new(
                shared,
                Arc::clone(client),
                LinkOrigin::Accepted,
            )),
        }
    }

    /// A connection this server solicited for `account` (Go logs it by its account).
    pub(crate) fn solicited(
        shared: &Arc<Shared>,
        session: LeafSession,
        client: &Arc<Client>,
        account: &str,
    ) -> LeafConn {
        LeafConn {
            session,
            link: Arc::new(LeafLink::new(
                shared,
                Arc::clone(client),
                LinkOrigin::Solicited {
                    account: account.to_owned(),
                },
            )),
        }
    }

    pub(crate) fn session(&self) -> &LeafSession {
        &self.session
    }

    pub(crate) fn session_mut(&mut self) -> &mut LeafSession {
        &mut self.session
    }
}

impl Session for LeafConn {
    fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Close> {
        self.session.handle_timeout(now)
    }

    fn output(&mut self) -> &mut Vec<u8> {
        self.session.output()
    }
}

impl HandleInput<LeafConnRouter> for LeafConn {
    fn handle_input(
        &mut self,
        now: Instant,
        input: &[u8],
        router: &mut LeafConnRouter,
    ) -> Result<(), Close> {
        self.session.handle_input(input, now, router)
    }
}

impl Served for LeafConn {
    type Router = LeafConnRouter;
    const MAX_CONNECTIONS_ERR: &'static [u8] = b"";

    fn router(&self, shared: &Arc<Shared>, client: &Arc<Client>) -> LeafConnRouter {
        LeafConnRouter {
            shared: Arc::clone(shared),
            client: Arc::clone(client),
            link: Arc::clone(&self.link),
            rng: client.cid.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            result: SublistResult::default(),
        }
    }

    fn lame_duck(&mut self) {}

    fn take_traces(&mut self) -> Vec<String> {
        self.session.take_traces()
    }

    fn take_debug_lines(&mut self) -> Vec<String> {
        self.session.take_debug_lines()
    }

    fn activity(&self) -> u64 {
        self.session.activity()
    }

    fn rtt(&self) -> Option<std::time::Duration> {
        self.session.rtt()
    }

    fn finished(&mut self, _router: &mut LeafConnRouter) {
        if let Some(b) = self.link.bound() {
            b.account.leafs.unregister(&self.link);
        }
    }

    fn leaf_link(&self) -> Option<&Arc<LeafLink>> {
        Some(&self.link)
    }
}

/// The [`LeafRouter`] of one leaf connection.
#[derive(Debug)]
pub(crate) struct LeafConnRouter {
    shared: Arc<Shared>,
    client: Arc<Client>,
    link: Arc<LeafLink>,
    rng: u64,
    result: SublistResult<SubRef>,
}

impl LeafConnRouter {
    fn log(&self, level: LogLevel, line: &str) {
        self.shared
            .log(level, &format!("{} - {line}", self.client.prefix));
    }

    /// Go: `addLeafNodeConnection` with `checkForDup`: an accepted connection from the
    /// same server, cluster, account and remote account replaces the old one (a remote
    /// reconnecting before we saw its old connection break).
    fn replace_duplicate(&self, account: &str, peer: &crate::leaf::LeafConnect) {
        if peer.name.is_empty() || peer.remote_account.is_empty() {
            return;
        }
        let links: Vec<Arc<LeafLink>> = lock(&self.shared.leafs).values().cloned().collect();
        let old = links.iter().find(|old| {
            !Arc::ptr_eq(old, &self.link)
                && *old.origin() == LinkOrigin::Accepted
                && old.bound().is_some_and(|b| {
                    b.peer.name == peer.name
                        && b.peer.cluster == peer.cluster
                        && b.account_name == account
                        && b.peer.remote_account == peer.remote_account
                })
        });
        let Some(old) = old else {
            return;
        };
        let state = ClosedState::DuplicateRemoteLeafnodeConnection;
        let mut err = Vec::new();
        crate::nats::ops::write_err(&mut err, &state.to_string());
        old.client().enqueue(&err);
        self.shared.log(
            LogLevel::Error,
            &format!("{} - {state}", old.client().prefix),
        );
        old.client().close(state);
        self.log(LogLevel::Warn, "Replacing connection from same server");
    }
}

impl LeafRouter for LeafConnRouter {
    fn bind(&mut self, identity: &Identity, peer: &LeafPeer) -> Result<(), ClosedState> {
        let account = self.shared.account(&identity.account);
        if let Some(p) = &identity.permissions {
            let _ = self.client.permissions.set(Arc::clone(p));
        }
        let mut info = lock(&self.client.info);
        info.user.clone_from(&identity.user);
        info.account = Some(identity.account.clone());
        info.name = (!peer.connect.name.is_empty()).then(|| peer.connect.name.clone());
        info.version.clone_from(&peer.connect.version);
        drop(info);
        if *self.link.origin() == LinkOrigin::Accepted {
            self.replace_duplicate(&identity.account, &peer.connect);
        }
        self.link.bind(Bound {
            role: peer.role,
            headers: peer.headers,
            account,
            account_name: identity.account.clone(),
            perms: identity.permissions.clone(),
            peer: peer.connect.clone(),
        });
        Ok(())
    }

    fn send_interest(&mut self) {
        if let Some(b) = self.link.bound() {
            AccountLeafs::register(&b.account, &self.link);
        }
    }

    fn subscribe(
        &mut self,
        subject: &[u8],
        queue: Option<(&[u8], i32)>,
        key: &[u8],
    ) -> Result<(), LeafSubError> {
        let Some(bound) = self.link.bound() else {
            return Ok(());
        };
        let account = &bound.account;
        if subject == account.leafs.lds().as_bytes() {
            return Err(LeafSubError::Loop);
        }
        // Go: the hub checks that the leaf user may receive what it asks for, except
        // for loop detection and gateway reply subjects.
        let exempt = subject.starts_with(LDS_PREFIX.as_bytes())
            || subject.starts_with(b"_GR_.")
            || subject.starts_with(b"$GR.");
        if !exempt
            && is_valid_literal_subject(subject)
            && let Some(p) = &bound.perms
            && !p.can_subscribe(subject, None)
        {
            return Err(LeafSubError::Denied);
        }
        let weight = queue.map_or(1, |(_, w)| w.max(1));
        let existing = {
            let subs = lock(&self.client.subs);
            match subs.get(key) {
                Some(sub) => Some(Arc::clone(sub)),
                // Go: subsAtLimit, with the server's max_subscriptions.
                None => {
                    let max = self.shared.client_cfg.max_subs;
                    if max != crate::auth::NO_LIMIT
                        && i64::try_from(subs.len()).unwrap_or(i64::MAX) >= max
                    {
                        return Err(LeafSubError::TooMany);
                    }
                    None
                }
            }
        };
        if let Some(sub) = existing {
            if queue.is_some() {
                sub.set_weight(weight);
            }
            return Ok(());
        }
        let sub = Sub::new(
            Owner::Leaf(Arc::clone(&self.link)),
            account,
            subject,
            queue.map(|(q, _)| q),
            key,
            weight,
        );
        if !account.insert(subject, queue.map(|(q, _)| q), SubRef::new(&sub)) {
            return Err(LeafSubError::InvalidSubject);
        }
        lock(&self.client.subs).insert(key.into(), sub);
        lock(&self.client.info).subscriptions += 1;
        Ok(())
    }

    fn unsubscribe(&mut self, key: &[u8]) {
        let Some(sub) = lock(&self.client.subs).remove(key) else {
            return;
        };
        unsubscribe_internal(&sub);
        let mut info = lock(&self.client.info);
        info.subscriptions = info.subscriptions.saturating_sub(1);
    }

    fn publish(&mut self, msg: &LeafMsg<'_>) -> Result<(), PermissionDenied> {
        let Some(bound) = self.link.bound() else {
            return Ok(());
        };
        self.client
            .stats
            .received(&self.shared.stats, msg.payload.len());
        bound.account.stats.received(msg.payload.len());
        // Go: leafMsgAllowed; service replies (`_R_.`) pass.
        if let Some(p) = &bound.perms
            && !msg.subject.starts_with(b"_R_.")
            && !p.can_publish(msg.subject)
        {
            return Err(PermissionDenied);
        }
        bound.account.match_into(msg.subject, &mut self.result);
        if self.result.is_empty() {
            return Ok(());
        }
        let delivery = Delivery {
            subject: msg.subject,
            reply: msg.reply,
            header_len: msg.header_len,
            payload: msg.payload,
        };
        let source = LeafSource {
            link: &self.link,
            queues: msg.queues,
        };
        fanout_from(
            &self.shared,
            &self.result,
            &delivery,
            Some(&self.client),
            false,
            &mut self.rng,
            Some(source),
        );
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        self.client.enqueue(out);
        out.clear();
    }

    fn log_error(&mut self, line: &str) {
        self.log(LogLevel::Error, line);
    }

    fn log_notice(&mut self, line: &str) {
        self.log(LogLevel::Info, line);
    }

    fn log_debug(&mut self, line: &str) {
        self.log(LogLevel::Debug, line);
    }

    fn log_traces(&mut self, lines: &mut Vec<String>) {
        for line in lines.drain(..) {
            self.log(LogLevel::Trace, &line);
        }
    }
}
