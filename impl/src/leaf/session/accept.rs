//! The accepting (hub) side's CONNECT (Go: `processConnect` for a leaf, then
//! `processLeafNodeConnect` and `sendPermsAndAccountInfo`).

use std::time::Instant;

use super::{LeafPeer, LeafRouter, Phase, State};
use crate::auth::{AuthRequest, Identity};
use crate::conn::Close;
use crate::frame::ClosedState;
use crate::goquote::quote;
use crate::leaf::LeafRole;
use crate::leaf::info::{LeafConnect, PermissionJson, version_at_least, write_info};
use crate::leaf::wire::PeerHeaders;
use crate::nats::NatsError;

impl State {
    // Go: processConnect (leaf kind), then processLeafNodeConnect.
    pub(super) fn process_connect(
        &mut self,
        json: &[u8],
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        if !matches!(self.phase, Phase::AwaitConnect { .. }) {
            // Go: a second CONNECT from a leaf is decoded and ignored here.
            return Ok(());
        }
        self.activity += 1;
        let connect: LeafConnect = match serde_json::from_slice(json) {
            Ok(c) => c,
            Err(e) => {
                return Err(Close::new(
                    ClosedState::ProtocolViolation,
                    Some(NatsError::Connect(e.to_string()).to_string()),
                ));
            }
        };
        let credentials = connect.credentials();
        let identity = self.cfg.auth.authenticate(&AuthRequest {
            connect: &credentials,
            cookies: None,
            transport: self.cfg.transport,
            nonce: Some(self.params.nonce.as_str()).filter(|n| !n.is_empty()),
            tls: self.params.tls.as_ref(),
        });
        let identity = match identity {
            Ok(id) => id,
            Err(e) => return Err(self.auth_violation(e.to_string())),
        };
        if !connect.lang.is_empty() {
            return Err(self.refuse(
                "attempted to connect to leaf node port",
                ClosedState::WrongPort,
            ));
        }
        if connect.cluster.contains(' ') {
            return Err(self.refuse(
                "cluster name cannot contain spaces",
                ClosedState::ProtocolViolation,
            ));
        }
        if !self.cfg.cluster.is_empty() && connect.cluster == self.cfg.cluster {
            return Err(self.refuse(
                "remote leafnode has same cluster name",
                ClosedState::ClusterNamesIdentical,
            ));
        }
        if !connect.gateway.is_empty() {
            let text = format!(
                "Rejecting connection from gateway {} on the leafnode port",
                quote(&connect.gateway)
            );
            self.send_err(&text);
            return Err(Close::new(ClosedState::WrongGateway, Some(text)));
        }
        let min = self.cfg.min_version.clone();
        if !min.is_empty() && !version_at_least(&connect.version, &min) {
            // Go sends the account INFO first, then the error.
            self.write_account_info(&identity);
            let text = format!(
                "connection rejected since minimum version required is {}",
                quote(&min)
            );
            return Err(self.refuse(&text, ClosedState::MinimumVersionRequired));
        }
        // Go: a remote configured as `hub` makes us the spoke.
        let role = if connect.is_hub {
            LeafRole::Spoke
        } else {
            LeafRole::Hub
        };
        let headers = if self.cfg.info.headers && connect.headers {
            PeerHeaders::Supported
        } else {
            PeerHeaders::Unsupported
        };
        self.remote_name.clone_from(&connect.name);
        let peer = LeafPeer {
            role,
            headers,
            connect,
        };
        router
            .bind(&identity, &peer)
            .map_err(|state| Close::new(state, None))?;
        // Go: addLeafNodeConnection, for a non-system account without JetStream.
        router.log_notice(&format!(
            "JetStream using domains: local \"\", remote {}",
            quote(&peer.connect.domain)
        ));
        self.phase = Phase::Bound {
            account: identity.account.clone(),
            role,
        };
        self.start_pings(now, role);
        self.write_account_info(&identity);
        router.flush(&mut self.out);
        router.send_interest();
        Ok(())
    }

    /// Go: `sendPermsAndAccountInfo`.
    fn write_account_info(&mut self, identity: &Identity) {
        let mut info = self.cfg.info.clone();
        info.client_id = self.params.cid;
        info.connect_info = true;
        info.remote_account.clone_from(&identity.account);
        if let Some(p) = &identity.permissions {
            let src = p.source();
            info.import = src.subscribe.as_ref().map(PermissionJson::from_opts);
            info.export = src.publish.as_ref().map(PermissionJson::from_opts);
        }
        // Go leaves compression out of the follow-up INFO too (copyLeafNodeInfo).
        info.compression.clear();
        write_info(&mut self.out, &info);
    }
}
