//! Multi-server cases: the servers of `setup.servers` (the target plays `under_test`, the
//! peer command, the Go server, plays the others) and the proxies between them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::fixture::topology::{PORT_NAMES, qualified_placeholders, server_port};
use crate::fixture::{ProxyKind, ServerSpec, Setup};
use crate::proxy::{Behaviour, Proxy};
use crate::run::context::RunContext;
use crate::run::server::render_config;
use crate::target::{External, Placeholders, Running, TargetSpec, port_clash};
use crate::transcript::Transcript;

/// How many times a start that lost a picked port to another case is tried.
const START_ATTEMPTS: u32 = 3;

/// The started servers (all but the one under test, which the runner holds) and proxies.
pub(super) struct Topology {
    /// The server the target plays.
    pub(super) under_test: String,
    ports: BTreeMap<String, Placeholders>,
    templates: BTreeMap<String, String>,
    proxies: BTreeMap<String, Proxy>,
    /// The peers, by name.
    pub(super) peers: BTreeMap<String, Box<dyn Running>>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        // Servers first, then the proxies between them.
        for (_, p) in std::mem::take(&mut self.peers) {
            p.stop();
        }
        self.proxies.clear();
    }
}

impl Topology {
    /// Picks every server's ports, starts the proxies, then the servers in order; returns
    /// the topology and the server under test.
    ///
    /// The servers' configurations name each other's ports, so the ports are picked free,
    /// released, then bound by each server: another case running in parallel can take one
    /// in between. That race is the harness's, not a server's, so a start that fails on a
    /// port in use is tried again with fresh ports, up to [`START_ATTEMPTS`] times.
    pub(super) fn start(
        setup: &Setup,
        ctx: &RunContext,
        t: &mut Transcript,
    ) -> Result<(Topology, Box<dyn Running>), String> {
        let mut attempt = 1;
        loop {
            match Topology::start_once(setup, ctx, t) {
                Err(e) if port_clash(&e) && attempt < START_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    fn start_once(
        setup: &Setup,
        ctx: &RunContext,
        t: &mut Transcript,
    ) -> Result<(Topology, Box<dyn Running>), String> {
        let servers = setup.servers.as_deref().unwrap_or_default();
        let under_test = match setup.under_test.as_ref().map(|u| u.names()) {
            Some(names) if names.len() == 1 => names.concat(),
            other => return Err(format!("one server under test needed, got {other:?}")),
        };
        if let TargetSpec::Fixed { .. } = ctx.target {
            return Err(
                "a multi-server case needs servers the harness starts (not --target)".into(),
            );
        }
        let mut top = Topology {
            under_test,
            ports: BTreeMap::new(),
            templates: BTreeMap::new(),
            proxies: BTreeMap::new(),
            peers: BTreeMap::new(),
        };
        for s in servers {
            top.ports
                .insert(s.name.clone(), Placeholders::new(&ctx.certs)?);
            top.templates.insert(s.name.clone(), s.config.clone());
        }
        for p in setup.proxies.as_deref().unwrap_or_default() {
            let proxy = Proxy::start(top.behaviour(&p.kind, servers)?)
                .map_err(|e| format!("proxy {:?}: {e}", p.name))?;
            top.proxies.insert(p.name.clone(), proxy);
        }
        let mut under: Option<Box<dyn Running>> = None;
        let mut started = Vec::new();
        for s in servers {
            let running = match top.start_one(s, setup, ctx) {
                Ok(r) => r,
                Err(e) => {
                    // The peers stop with `top`; the server under test is ours to stop.
                    if let Some(u) = under.take() {
                        u.stop();
                    }
                    return Err(e);
                }
            };
            let ours = s.name == top.under_test;
            started.push(format!(
                "{} ({})",
                s.name,
                if ours { "under test" } else { "peer" }
            ));
            if ours {
                under = Some(running);
            } else {
                top.peers.insert(s.name.clone(), running);
            }
        }
        t.line(format!("servers started: {}", started.join(", ")));
        let under = under.ok_or("the server under test is not among the servers")?;
        Ok((top, under))
    }

    /// Starts one server: the target if it is the one under test, else the peer command.
    fn start_one(
        &self,
        s: &ServerSpec,
        setup: &Setup,
        ctx: &RunContext,
    ) -> Result<Box<dyn Running>, String> {
        let config = self.render(&s.name, &s.config, setup, ctx)?;
        let ports = self.port_set(&s.name)?;
        let file = format!("{}-{}", s.name, ports.client_port);
        let ready = ready_addrs(&s.config, ports);
        Ok(match (&ctx.target, s.name == self.under_test) {
            (TargetSpec::Embedded, true) => (ctx.embedded)(&config)?,
            (TargetSpec::Command { cmd, .. }, true) => Box::new(External::start_ready(
                cmd, &config, ports, &ctx.tmp, &file, &ready,
            )?),
            _ => Box::new(
                crate::run::context::ensure_default_peer(&ctx.peer_cmd)
                    .and_then(|()| {
                        External::start_ready(
                            &ctx.peer_cmd,
                            &config,
                            ports,
                            &ctx.tmp,
                            &file,
                            &ready,
                        )
                    })
                    .map_err(|e| format!("peer {:?}: {e}", s.name))?,
            ),
        })
    }

    /// A configuration template of server `name` with every placeholder filled.
    pub(super) fn render(
        &self,
        name: &str,
        template: &str,
        setup: &Setup,
        ctx: &RunContext,
    ) -> Result<String, String> {
        let mut text = template.to_owned();
        for (who, field) in qualified_placeholders(template) {
            let value = match (self.ports.get(who), self.proxies.get(who)) {
                (Some(p), _) => p.named(field).map(|v| v.to_string()),
                (None, Some(p)) if field == "port" => Some(p.addr().port().to_string()),
                _ => None,
            }
            .ok_or_else(|| format!("unknown placeholder {{{who}.{field}}}"))?;
            text = text.replace(&format!("{{{who}.{field}}}"), &value);
        }
        render_config(&text, self.port_set(name)?, setup, ctx)
    }

    /// A server's configuration template as the fixture gives it.
    pub(super) fn template(&self, name: &str) -> Option<&str> {
        self.templates.get(name).map(String::as_str)
    }

    fn port_set(&self, name: &str) -> Result<&Placeholders, String> {
        self.ports
            .get(name)
            .ok_or_else(|| format!("no server {name:?}"))
    }

    /// A proxy by name.
    pub(super) fn proxy(&self, name: &str) -> Result<&Proxy, String> {
        self.proxies
            .get(name)
            .ok_or_else(|| format!("no proxy {name:?}"))
    }

    fn behaviour(&self, kind: &ProxyKind, servers: &[ServerSpec]) -> Result<Behaviour, String> {
        Ok(match kind {
            ProxyKind::Forward {
                to,
                rtt_ms,
                strip_request_header,
            } => {
                let (server, field) = server_port(to, servers)?;
                let port = self
                    .port_set(server)?
                    .named(field)
                    .ok_or_else(|| format!("no port {field}"))?;
                Behaviour::Forward {
                    to: loopback(port),
                    rtt: std::time::Duration::from_millis(*rtt_ms),
                    strip_request_header: strip_request_header.clone(),
                }
            }
            ProxyKind::Silent => Behaviour::Silent,
            ProxyKind::Reply { data } => Behaviour::Reply(data.build().map_err(|e| e.to_string())?),
            ProxyKind::HttpConnect { username, password } => {
                Behaviour::HttpConnect(match (username, password) {
                    (None, None) => None,
                    (u, p) => Some((u.clone().unwrap_or_default(), p.clone().unwrap_or_default())),
                })
            }
        })
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A started server process is ready when its client port and the other client-facing
/// listeners its configuration names accept connections. Leafnode and route ports are not
/// probed: a probe there is a connection the server logs (and, for a route, tries to use).
fn ready_addrs(template: &str, ports: &Placeholders) -> Vec<SocketAddr> {
    PORT_NAMES
        .iter()
        .filter(|n| matches!(**n, "client_port" | "ws_port" | "http_port" | "mqtt_port"))
        .filter(|n| **n == "client_port" || template.contains(&format!("{{{n}}}")))
        .filter_map(|n| ports.named(n))
        .map(loopback)
        .collect()
}
