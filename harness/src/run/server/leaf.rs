//! Steps of multi-server cases: leafnode connections as a server's monitor reports them,
//! what a proxy saw, a named server's log, reload and stop.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::ServerRunner;
use crate::fixture::{LeafzExpect, LogExpect, ProxyExpect, ReloadSpec, Setup};
use crate::peer::http::get_json;
use crate::run::server::{DEFAULT_WAIT, wait};
use crate::transcript::Transcript;

/// Go's checkLeafNodeConnected waits this long by default.
const LEAF_WAIT: Duration = Duration::from_secs(5);

impl ServerRunner<'_> {
    /// Asks `/leafz?subs=1` until the leafnode connections match or the wait ends.
    pub(super) fn expect_leafnodes(
        &mut self,
        spec: &LeafzExpect,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let who = spec.server.clone().unwrap_or_else(|| "server".to_owned());
        let addr = self
            .named(setup, t, spec.server.as_deref())?
            .http_addr()
            .ok_or_else(|| format!("{who} has no monitoring listener ({{http_port}})"))?;
        let deadline = Instant::now() + spec.within_ms.map_or(LEAF_WAIT, Duration::from_millis);
        let problems = loop {
            let problems = match get_json(addr, "/leafz?subs=1", self.ctx.timeout) {
                Ok(leafz) => leafz_problems(spec, &leafz),
                Err(e) => vec![e],
            };
            if problems.is_empty() || Instant::now() >= deadline {
                break problems;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut line = format!("= {who} leafz:");
        if let Some(n) = spec.count {
            line.push_str(&format!(" {n} leafnode(s)"));
        }
        if !spec.subs.is_empty() {
            line.push_str(&format!(" interest {:?}", spec.subs));
        }
        if let Some(a) = &spec.account {
            line.push_str(&format!(" account {a}"));
        }
        if let Some(c) = &spec.compression {
            line.push_str(&format!(" compression {c}"));
        }
        t.line(line);
        failures.extend(problems.into_iter().map(|p| format!("{who} /leafz: {p}")));
        Ok(())
    }

    /// Checks what a proxy counted and recorded, waiting up to `within_ms`.
    pub(super) fn expect_proxy(
        &mut self,
        spec: &ProxyExpect,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let top = self.topology.as_ref().ok_or("no proxies in this case")?;
        let proxy = top.proxy(&spec.proxy)?;
        let deadline = Instant::now() + wait(spec.within_ms);
        let problems = loop {
            let problems = proxy_problems(spec, &proxy.stats());
            if problems.is_empty() || Instant::now() >= deadline {
                break problems;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let bounds = [
            ("connections >=", spec.min_connections.map(|n| n as u64)),
            ("up >=", spec.up_min),
            ("up <=", spec.up_max),
            ("down >=", spec.down_min),
            ("down <=", spec.down_max),
        ];
        let mut line = format!("= proxy {}:", spec.proxy);
        for (what, n) in bounds {
            if let Some(n) = n {
                line.push_str(&format!(" {what} {n}"));
            }
        }
        for (what, texts) in [
            ("up has", &spec.up_contains),
            ("up lacks", &spec.up_lacks),
            ("down has", &spec.down_contains),
            ("down lacks", &spec.down_lacks),
        ] {
            if !texts.is_empty() {
                line.push_str(&format!(" {what} {texts:?}"));
            }
        }
        t.line(line);
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("proxy {}: {p}", spec.proxy)),
        );
        Ok(())
    }

    /// Zeroes a proxy's counts.
    pub(super) fn reset_proxy(&mut self, name: &str, t: &mut Transcript) -> Result<(), String> {
        let top = self.topology.as_ref().ok_or("no proxies in this case")?;
        top.proxy(name)?.reset();
        t.line(format!("proxy {name}: counts reset"));
        Ok(())
    }

    /// Reloads a named server with a new configuration.
    pub(super) fn reload_server(
        &mut self,
        spec: &ReloadSpec,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<(), String> {
        self.named(setup, t, Some(&spec.server))?;
        let top = self
            .topology
            .as_mut()
            .ok_or("reload_server needs servers:")?;
        if top.template(&spec.server).is_none() {
            return Err(format!("no server {:?}", spec.server));
        }
        let config = top.render(&spec.server, &spec.config, setup, self.ctx)?;
        let result = if spec.server == top.under_test {
            self.running
                .as_mut()
                .ok_or("the server is stopped")?
                .reload(&config)
        } else {
            top.peers
                .get_mut(&spec.server)
                .ok_or("the server is stopped")?
                .reload(&config)
        };
        t.line(format!(
            "{} reload: {}",
            spec.server,
            if result.is_ok() { "ok" } else { "refused" }
        ));
        self.reload_error = result.err();
        Ok(())
    }

    /// Stops a named server.
    pub(super) fn stop_server(
        &mut self,
        name: &str,
        setup: &Setup,
        t: &mut Transcript,
    ) -> Result<(), String> {
        self.named(setup, t, Some(name))?;
        let top = self.topology.as_mut().ok_or("stop_server needs servers:")?;
        let server = if name == top.under_test {
            self.running.take()
        } else {
            top.peers.remove(name)
        };
        server.ok_or_else(|| format!("no server {name:?}"))?.stop();
        t.line(format!("{name} stopped"));
        Ok(())
    }

    /// A named server logs a line containing the text, within the wait; or (`absent`) has
    /// none after it.
    pub(super) fn expect_log_on(
        &mut self,
        spec: &LogExpect,
        absent: bool,
        setup: &Setup,
        t: &mut Transcript,
        failures: &mut Vec<String>,
    ) -> Result<(), String> {
        let who = spec.server.clone().unwrap_or_else(|| "server".to_owned());
        let default = if absent { Duration::ZERO } else { DEFAULT_WAIT };
        let deadline = Instant::now() + spec.within_ms.map_or(default, Duration::from_millis);
        let found = loop {
            let logs = self.named(setup, t, spec.server.as_deref())?.logs();
            let found = logs.iter().find(|l| l.contains(&spec.contains)).cloned();
            if (found.is_some() && !absent) || Instant::now() >= deadline {
                break found;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        match (found, absent) {
            (Some(_), false) => t.line(format!("= {who} log contains {:?}", spec.contains)),
            (None, true) => t.line(format!("= {who} log lacks {:?}", spec.contains)),
            (None, false) => {
                failures.push(format!("{who}: no log line contains {:?}", spec.contains))
            }
            (Some(l), true) => failures.push(format!("{who}: unexpected log line {l:?}")),
        }
        Ok(())
    }
}

/// What in a `/leafz` answer does not match.
fn leafz_problems(spec: &LeafzExpect, leafz: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let leafs = leafz
        .get("leafs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(want) = spec.count {
        let got = leafz.get("leafnodes").and_then(Value::as_u64).unwrap_or(0);
        if got != want as u64 {
            out.push(format!("{got} leafnode connections, want {want}"));
        }
    }
    let field = |l: &Value, k: &str| {
        l.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    for sub in &spec.subs {
        let has = leafs.iter().any(|l| {
            l.get("subscriptions_list")
                .and_then(Value::as_array)
                .is_some_and(|subs| subs.iter().any(|s| s.as_str() == Some(sub)))
        });
        if !has {
            out.push(format!("no leafnode connection has interest in {sub:?}"));
        }
    }
    for (key, want) in [
        ("account", &spec.account),
        ("compression", &spec.compression),
    ] {
        if let Some(want) = want
            && let Some(l) = leafs.iter().find(|l| field(l, key) != *want)
        {
            out.push(format!("{key} {:?}, want {want:?}", field(l, key)));
        }
    }
    out
}

/// What in a proxy's counts and records does not match.
fn proxy_problems(spec: &ProxyExpect, s: &crate::proxy::Stats) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(min) = spec.min_connections
        && s.connections < min
    {
        out.push(format!(
            "{} connections, want at least {min}",
            s.connections
        ));
    }
    for (what, got, min, max) in [
        ("up", s.up, spec.up_min, spec.up_max),
        ("down", s.down, spec.down_min, spec.down_max),
    ] {
        if min.is_some_and(|m| got < m) || max.is_some_and(|m| got > m) {
            out.push(format!(
                "{got} bytes {what}, want {}..={}",
                min.unwrap_or(0),
                max.map_or("".to_owned(), |m| m.to_string())
            ));
        }
    }
    let up = String::from_utf8_lossy(&s.up_head);
    let down = String::from_utf8_lossy(&s.down_head);
    for (what, text, want, present) in [
        ("up", &up, &spec.up_contains, true),
        ("up", &up, &spec.up_lacks, false),
        ("down", &down, &spec.down_contains, true),
        ("down", &down, &spec.down_lacks, false),
    ] {
        for w in want.iter().filter(|w| text.contains(w.as_str()) != present) {
            let how = if present { "lacks" } else { "has" };
            out.push(format!("{what} {how} {w:?}"));
        }
    }
    out
}
