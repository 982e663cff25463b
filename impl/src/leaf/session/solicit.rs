//! The soliciting (spoke) side: the hub's INFO, our CONNECT, the `connect_info` INFO that
//! finishes the connect (Go: `processLeafnodeInfo` for a solicited connection,
//! `sendLeafConnect`, `leafNodeResumeConnectProcess`, `leafNodeFinishConnectProcess`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;

use super::{LeafPeer, LeafRouter, Phase, State};
use crate::auth::{Checker, Identity, NO_LIMIT};
use crate::conn::Close;
use crate::frame::ClosedState;
use crate::leaf::LeafRole;
use crate::leaf::info::{LeafConnect, LeafInfo, PermissionJson};
use crate::leaf::wire::PeerHeaders;
use crate::nats::NatsError;
use crate::options::{Permissions, SubjectPermission};
use crate::policy::Compression;

/// Go: `connectProcessTimeout`, the wait for the INFO that answers our CONNECT.
pub const CONNECT_PROCESS_TIMEOUT: Duration = Duration::from_secs(2);

/// How this server presents itself to a hub (Go: `sendLeafConnect` and the remote's
/// options).
#[derive(Debug, Clone, Default)]
pub struct Solicit {
    /// Our CONNECT, without the nonce signature: version, server id and name, cluster,
    /// headers, `deny_pub` (the remote's `deny_exports`), `is_hub`, `remote_account` (our
    /// local account) and the credentials (user/pass, token, JWT, NKey).
    pub connect: LeafConnect,
    /// The NKey seed that signs the hub's nonce (`nkey` or a credentials file).
    pub seed: Option<String>,
    /// The local account the connection binds to.
    pub account: String,
    /// `deny_imports`: subjects we do not take from the hub.
    pub deny_imports: Vec<String>,
    /// `first_info_timeout`.
    pub first_info_timeout: Duration,
    /// permessage-deflate on the WebSocket that carries the connection: Go then keeps
    /// leafnode S2 off (nats-server #7969) and reports `off`, though the hub's INFO names
    /// no mode.
    pub websocket_compression: Option<Compression>,
}

impl Solicit {
    /// Our role: a remote marked `hub` makes us the hub of that connection.
    fn role(&self) -> LeafRole {
        if self.connect.is_hub {
            LeafRole::Hub
        } else {
            LeafRole::Spoke
        }
    }
}

impl State {
    /// An INFO from the hub.
    pub(super) fn process_info(
        &mut self,
        json: &[u8],
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        let info: LeafInfo = match serde_json::from_slice(json) {
            Ok(i) => i,
            Err(e) => {
                return Err(Close::new(
                    ClosedState::ProtocolViolation,
                    Some(NatsError::Connect(e.to_string()).to_string()),
                ));
            }
        };
        if self.solicited() {
            self.gossip = Some((info.leafnode_urls.clone(), info.ws_connect_urls.clone()));
        }
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::AwaitInfo { solicit, .. } => self.first_info(&info, *solicit, now, router),
            Phase::AwaitConnectInfo { pending, .. } if info.connect_info => {
                let (identity, peer) = *pending;
                self.finish(&identity, &peer, now, router)
            }
            other => {
                // Gossip (leafnode_urls) and later INFOs change nothing here yet.
                self.phase = other;
                Ok(())
            }
        }
    }

    fn first_info(
        &mut self,
        info: &LeafInfo,
        solicit: Solicit,
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        // Go: a solicited connection must first get a leafnode INFO.
        if info.client_id == 0 || info.leafnode_urls.is_empty() {
            return Err(Close::new(
                ClosedState::WrongPort,
                Some("attempted to connect to wrong port".to_owned()),
            ));
        }
        if info.cluster.contains(' ') {
            return Err(self.refuse(
                "cluster name cannot contain spaces",
                ClosedState::ProtocolViolation,
            ));
        }
        let headers = if self.cfg.info.headers && info.headers {
            PeerHeaders::Supported
        } else {
            PeerHeaders::Unsupported
        };
        let name = if info.server_name.is_empty() {
            info.server_id.clone()
        } else {
            info.server_name.clone()
        };
        self.remote_name.clone_from(&name);
        let mut connect = solicit.connect.clone();
        if let Some(seed) = &solicit.seed {
            connect.sig = sign(seed, &info.nonce);
        }
        connect.headers = self.cfg.info.headers;
        self.out.extend_from_slice(b"CONNECT ");
        if serde_json::to_writer(&mut self.out, &connect).is_err() {
            self.out.extend_from_slice(b"{}");
        }
        self.out.extend_from_slice(b"\r\n");
        router.log_debug("Remote leafnode connect msg sent");
        let identity = Identity {
            user: None,
            account: solicit.account.clone(),
            expires: None,
            permissions: permissions(info, &solicit),
            max_subscriptions: NO_LIMIT,
        };
        let peer = LeafPeer {
            role: solicit.role(),
            headers,
            connect: LeafConnect {
                name,
                server_id: info.server_id.clone(),
                version: info.version.clone(),
                cluster: info.cluster.clone(),
                domain: info.domain.clone(),
                headers: info.headers,
                remote_account: info.remote_account.clone(),
                // Go: off when the hub named a mode (we never compress) or when
                // permessage-deflate was negotiated, else the hub predates compression.
                compress_mode: if info.compression.is_empty()
                    && solicit.websocket_compression != Some(Compression::Negotiated)
                {
                    String::new()
                } else {
                    "off".to_owned()
                },
                ..LeafConnect::default()
            },
        };
        if info.info_on_connect {
            self.phase = Phase::AwaitConnectInfo {
                deadline: now + CONNECT_PROCESS_TIMEOUT,
                pending: Box::new((identity, peer)),
            };
            return Ok(());
        }
        self.finish(&identity, &peer, now, router)
    }

    /// Go: `leafNodeFinishConnectProcess`: bound to the local account, the interest goes
    /// out, the pings start.
    fn finish(
        &mut self,
        identity: &Identity,
        peer: &LeafPeer,
        now: Instant,
        router: &mut impl LeafRouter,
    ) -> Result<(), Close> {
        router
            .bind(identity, peer)
            .map_err(|state| Close::new(state, None))?;
        self.phase = Phase::Bound {
            account: identity.account.clone(),
            role: peer.role,
        };
        self.start_pings(now, peer.role);
        router.flush(&mut self.out);
        router.send_interest();
        Ok(())
    }
}

/// The spoke's permissions, in the hub's orientation (what the router checks as
/// "publish" is what the peer may receive from us: what we import; "subscribe" is the
/// interest the peer may declare: what we export). Go: the hub's `import`/`export` plus
/// the remote's `deny_imports`/`deny_exports`.
fn permissions(info: &LeafInfo, solicit: &Solicit) -> Option<Arc<Checker>> {
    let with_deny = |p: Option<&PermissionJson>, deny: &[String]| -> Option<SubjectPermission> {
        if p.is_none() && deny.is_empty() {
            return None;
        }
        let p = p.cloned().unwrap_or_default();
        let mut denied = p.deny;
        denied.extend(deny.iter().cloned());
        Some(SubjectPermission {
            allow: (!p.allow.is_empty()).then_some(p.allow),
            deny: denied,
        })
    };
    let import = with_deny(info.import.as_ref(), &solicit.deny_imports);
    let export = with_deny(
        info.export.as_ref(),
        solicit.connect.deny_pub.as_deref().unwrap_or_default(),
    );
    if import.is_none() && export.is_none() {
        return None;
    }
    Some(Arc::new(Checker::new(&Permissions {
        publish: import,
        subscribe: export,
        response: None,
    })))
}

/// The nonce signed with `seed`, raw URL base64 (Go: `sendLeafConnect`).
fn sign(seed: &str, nonce: &str) -> String {
    nkeys::KeyPair::from_seed(seed)
        .and_then(|kp| kp.sign(nonce.as_bytes()))
        .map(|sig| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig))
        .unwrap_or_default()
}
