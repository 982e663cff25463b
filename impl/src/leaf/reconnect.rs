//! When and where a remote is dialled, sans-IO (Go: `leafNodeCfg`'s URL list, `curURL` and
//! `connDelay`, and the waits of `connectToRemoteLeafNode` / `reConnectToRemoteLeafNode`).
//! Randomness is an input: `random(n)` returns a uniform value in `0..n`.

use std::time::Duration;

use crate::options::{LeafUrl, RemoteLeafOpts};

/// Why the next attempt of a remote waits longer than the reconnect interval (Go's
/// callers of `setLeafConnectDelayIfSoliciting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DelayReason {
    /// The hub reported `Loop detected` (Go: `leafNodeReconnectDelayAfterLoopDetected`).
    LoopDetected,
    /// The hub has our cluster name (Go: `leafNodeReconnectDelayAfterClusterNameSame`).
    SameClusterName,
    /// We sent something our permissions forbid (Go: `leafNodeReconnectAfterPermViolation`).
    PermissionViolation,
    /// The hub's `min_version` refused us (Go: `leafNodeMinVersionReconnectDelay`).
    MinVersion,
}

impl DelayReason {
    /// Go's delay for this reason.
    pub fn delay(self) -> Duration {
        match self {
            DelayReason::LoopDetected
            | DelayReason::SameClusterName
            | DelayReason::PermissionViolation => Duration::from_secs(30),
            DelayReason::MinVersion => Duration::from_secs(5),
        }
    }
}

/// The `user`, `pass` and `auth_token` of a soliciting leaf's CONNECT that come from URLs
/// (Go: `sendLeafConnect`): a user without a password is sent as the token too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UrlAuth {
    /// CONNECT `user`.
    pub user: String,
    /// CONNECT `pass`.
    pub pass: String,
    /// CONNECT `auth_token`.
    pub token: String,
}

/// The dialling state of one remote.
#[derive(Debug, Clone)]
pub struct Reconnect {
    /// The configured URLs (Go: `RemoteLeafOpts.URLs`).
    configured: Vec<LeafUrl>,
    /// What is tried, in order (Go: `leafNodeCfg.urls`).
    urls: Vec<LeafUrl>,
    /// The URL of the current or last attempt (Go: `curURL`).
    current: Option<LeafUrl>,
    interval: Duration,
    /// A wait before the next attempt, set by a [`DelayReason`] (Go: `connDelay`).
    connect_delay: Option<Duration>,
    /// Whether TLS is used: a `wss://` URL, or a hub that required it (Go: `remote.TLS`).
    tls: bool,
    ignore_discovered: bool,
    /// The first userinfo of the (shuffled) configured URLs, for URLs without one, such
    /// as gossiped ones (Go: `saveUserPassword`): user, and password if set.
    saved_user: Option<(String, Option<String>)>,
    /// The first host name (not an IP) among the URLs, shuffled and learned: the TLS
    /// server name of every URL (Go: `saveTLSHostname`).
    tls_name: Option<String>,
}

impl Reconnect {
    /// Go: `newLeafNodeCfg`: the configured URLs, shuffled unless `no_randomize`.
    /// `interval` is `leafnodes { reconnect }` (Go's default 1 s applied).
    pub fn new(
        remote: &RemoteLeafOpts,
        interval: Duration,
        random: &mut dyn FnMut(u64) -> u64,
    ) -> Self {
        let mut urls = remote.urls.clone();
        if !remote.no_randomize {
            shuffle(&mut urls, random);
        }
        let saved_user = urls.iter().find_map(|u| {
            let user = u.username()?.into_owned();
            Some((user, u.password().map(std::borrow::Cow::into_owned)))
        });
        let tls_name = urls.iter().find_map(host_name);
        Reconnect {
            tls_name,
            saved_user,
            configured: remote.urls.clone(),
            tls: urls.iter().any(LeafUrl::is_websocket_tls),
            urls,
            current: None,
            interval,
            connect_delay: None,
            ignore_discovered: remote.ignore_discovered_servers,
        }
    }

    /// The URL of the next attempt (Go: `pickNextURL`): the current one, if first in the
    /// list, moves to its end. `None` when the remote has no URL (Go: nothing to connect).
    pub fn next_url(&mut self) -> Option<&LeafUrl> {
        if self.urls.len() > 1 && self.current.as_ref() == self.urls.first() {
            self.urls.rotate_left(1);
        }
        self.current = self.urls.first().cloned();
        self.current.as_ref()
    }

    /// The URL of the current or last attempt.
    pub fn current_url(&self) -> Option<&LeafUrl> {
        self.current.as_ref()
    }

    /// The credentials the CONNECT on the current URL carries from URLs (Go:
    /// `sendLeafConnect`): the current URL's userinfo, else the saved one. `None`: none.
    pub fn url_auth(&self) -> Option<UrlAuth> {
        let from_url = self.current.as_ref().and_then(|u| {
            let user = u.username()?.into_owned();
            Some((user, u.password().map(std::borrow::Cow::into_owned)))
        });
        let (user, pass) = from_url.or_else(|| self.saved_user.clone())?;
        // Go: an absent password and (for the saved userinfo) an empty one make the user
        // the token as well.
        let token = match &pass {
            Some(p) if !p.is_empty() => String::new(),
            Some(_) if self.current_has_userinfo() => String::new(),
            _ => user.clone(),
        };
        Some(UrlAuth {
            user,
            pass: pass.unwrap_or_default(),
            token,
        })
    }

    fn current_has_userinfo(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|u| u.username().is_some())
    }

    /// The URLs in the order they will be tried.
    pub fn urls(&self) -> &[LeafUrl] {
        &self.urls
    }

    /// The wait after a failed attempt (dial, proxy, TLS or upgrade): the interval plus a
    /// random jitter below it (Go: `reconnectDelay + rand.Int63n(reconnectDelay)`).
    pub fn retry_delay(&self, random: &mut dyn FnMut(u64) -> u64) -> Duration {
        let nanos = u64::try_from(self.interval.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if nanos == 0 {
            0
        } else {
            random(nanos).min(nanos - 1)
        };
        self.interval + Duration::from_nanos(jitter)
    }

    /// The wait after an established connection closed (Go: `reConnectToRemoteLeafNode`
    /// waits the interval, without jitter).
    pub fn reconnect_delay(&self) -> Duration {
        self.interval
    }

    /// Makes the next attempt wait for `reason`'s delay first; returns it (Go logs it).
    pub fn set_connect_delay(&mut self, reason: DelayReason) -> Duration {
        let delay = reason.delay();
        self.connect_delay = Some(delay);
        delay
    }

    /// The extra wait before the next attempt, once (Go clears `connDelay` after it).
    pub fn take_connect_delay(&mut self) -> Option<Duration> {
        self.connect_delay.take()
    }

    /// Whether the remote uses TLS before anything else: a `wss://` URL, a `tls {}`
    /// block, or a hub that said `tls_required` before (Go: `remote.TLS ||
    /// remote.TLSConfig != nil`).
    pub fn tls_required(&self, remote: &RemoteLeafOpts) -> bool {
        self.tls || remote.tls.is_some()
    }

    /// The TLS server name for every URL of the remote: the first host name that is not
    /// an IP address among its URLs (Go: `tlsName`); `None`: each URL's own host.
    pub fn tls_name(&self) -> Option<&str> {
        self.tls_name.as_deref()
    }

    /// The hub's INFO said `tls_required` (Go sets `remote.TLS`).
    pub fn mark_tls(&mut self) {
        self.tls = true;
    }

    /// Go: `updateLeafNodeURLs`, from the hub's INFO: the URLs the hub gossips
    /// (`ws_connect_urls` for a WebSocket remote, else `leafnode_urls`), minus those
    /// already configured (same host and port), then the configured ones. Returns Go's
    /// error lines for entries that do not parse. Nothing changes when the remote has
    /// `ignore_discovered_servers` or the INFO lists none.
    pub fn learn(&mut self, leafnode_urls: &[String], ws_connect_urls: &[String]) -> Vec<String> {
        if self.ignore_discovered || (leafnode_urls.is_empty() && ws_connect_urls.is_empty()) {
            return Vec::new();
        }
        let websocket = self.configured.first().is_some_and(LeafUrl::is_websocket);
        let (scheme, gossiped) = match (websocket, self.tls) {
            (true, true) => ("wss", ws_connect_urls),
            (true, false) => ("ws", ws_connect_urls),
            (false, _) => ("nats-leaf", leafnode_urls),
        };
        let mut errors = Vec::new();
        let mut urls = Vec::with_capacity(gossiped.len() + self.configured.len());
        for text in gossiped {
            let url = match LeafUrl::parse(&format!("{scheme}://{text}")) {
                Ok(u) => u,
                Err(e) => {
                    errors.push(format!(
                        "Error parsing url {}: {e}",
                        crate::goquote::quote(text)
                    ));
                    continue;
                }
            };
            let address = url.dial_address();
            if !self.configured.iter().any(|c| c.dial_address() == address) {
                if self.tls_name.is_none() {
                    self.tls_name = host_name(&url);
                }
                urls.push(url);
            }
        }
        urls.extend(self.configured.iter().cloned());
        self.urls = urls;
        errors
    }
}

/// The URL's host name unless it is an IP address (Go: `net.ParseIP(u.Hostname()) == nil`).
fn host_name(url: &LeafUrl) -> Option<String> {
    let name = url.hostname();
    name.parse::<std::net::IpAddr>()
        .is_err()
        .then(|| name.into_owned())
}

/// Go: `rand.Shuffle` (Fisher–Yates from the end).
fn shuffle(urls: &mut [LeafUrl], random: &mut dyn FnMut(u64) -> u64) {
    for i in (1..urls.len()).rev() {
        let bound = u64::try_from(i + 1).unwrap_or(u64::MAX);
        let j = usize::try_from(random(bound).min(bound - 1)).unwrap_or(0);
        urls.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::options::ServerOpts;

    fn remote(text: &str) -> RemoteLeafOpts {
        let conf = format!("leafnodes {{ remotes [ {{ {text} }} ] }}");
        match ServerOpts::from_str(&conf, Path::new(".")) {
            Ok(l) => l
                .opts
                .leafnode
                .remotes
                .into_iter()
                .next()
                .unwrap_or_default(),
            Err(e) => panic!("{e}"),
        }
    }

    fn hosts(r: &Reconnect) -> Vec<String> {
        r.urls().iter().map(ToString::to_string).collect()
    }

    const THREE: &str = "urls: [\"nats://a:1\", \"nats://b:2\", \"nats://c:3\"]";

    #[test]
    fn rotation_is_gos_pick_next_url() {
        let r = remote(&format!("{THREE}, no_randomize: true"));
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        let picked: Vec<String> = (0..5)
            .map(|_| rc.next_url().map(ToString::to_string).unwrap_or_default())
            .collect();
        assert_eq!(
            picked,
            [
                "nats://a:1",
                "nats://b:2",
                "nats://c:3",
                "nats://a:1",
                "nats://b:2"
            ]
        );
        let mut empty = Reconnect::new(
            &RemoteLeafOpts::default(),
            Duration::from_secs(1),
            &mut |_| 0,
        );
        assert_eq!(empty.next_url(), None);
    }

    #[test]
    fn shuffled_unless_no_randomize() {
        let r = remote(THREE);
        // random(n) = 0 always: i=2 swaps with 0 ([c, b, a]), then i=1 with 0.
        let rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        assert_eq!(hosts(&rc), ["nats://b:2", "nats://c:3", "nats://a:1"]);
        let rc = Reconnect::new(&r, Duration::from_secs(1), &mut |n| n - 1);
        assert_eq!(hosts(&rc), ["nats://a:1", "nats://b:2", "nats://c:3"]);
    }

    #[test]
    fn delays_are_gos() {
        let r = remote("url: \"nats://a:1\"");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        assert_eq!(rc.retry_delay(&mut |_| 0), Duration::from_secs(1));
        assert_eq!(
            rc.retry_delay(&mut |n| n - 1),
            Duration::from_secs(2) - Duration::from_nanos(1)
        );
        // A bad source of randomness cannot exceed Go's range.
        assert!(rc.retry_delay(&mut |_| u64::MAX) < Duration::from_secs(2));
        assert_eq!(rc.reconnect_delay(), Duration::from_secs(1));
        assert_eq!(rc.take_connect_delay(), None);
        assert_eq!(
            rc.set_connect_delay(DelayReason::LoopDetected),
            Duration::from_secs(30)
        );
        assert_eq!(
            rc.set_connect_delay(DelayReason::MinVersion),
            Duration::from_secs(5)
        );
        assert_eq!(rc.take_connect_delay(), Some(Duration::from_secs(5)));
        assert_eq!(rc.take_connect_delay(), None);
        assert_eq!(
            DelayReason::SameClusterName.delay(),
            Duration::from_secs(30)
        );
        assert_eq!(
            DelayReason::PermissionViolation.delay(),
            Duration::from_secs(30)
        );
    }

    // Go: updateLeafNodeURLs / doUpdateLNURLs (TestLeafNodeWSGossip learns ws_connect_urls).
    #[test]
    fn learns_gossiped_urls_before_the_configured_ones() {
        let r = remote("url: \"nats://u:p@a:7422\", no_randomize: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        let errors = rc.learn(
            &[
                "a:7422".to_owned(),
                "b:7422".to_owned(),
                "bad host:1".to_owned(),
            ],
            &["ignored:1".to_owned()],
        );
        assert_eq!(hosts(&rc), ["nats-leaf://b:7422", "nats://u:p@a:7422"]);
        assert_eq!(
            errors,
            [
                "Error parsing url \"bad host:1\": parse \"nats-leaf://bad host:1\": invalid character \" \" in host name"
            ]
        );
        // A WebSocket remote learns ws_connect_urls, as wss when it uses TLS.
        let r = remote("url: \"wss://a\", no_randomize: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.learn(
            &["x:7422".to_owned()],
            &["b:443".to_owned(), "a:7422".to_owned()],
        );
        assert_eq!(hosts(&rc), ["wss://b:443", "wss://a"]);
        // Nothing gossiped, or ignore_discovered_servers: unchanged.
        let r = remote("url: \"ws://a:1\", ignore_discovered_servers: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.learn(&[], &["b:1".to_owned()]);
        assert_eq!(hosts(&rc), ["ws://a:1"]);
    }

    // Go: sendLeafConnect's userinfo rules, and saveUserPassword for gossiped URLs.
    #[test]
    fn url_auth_is_gos() {
        let auth = |user: &str, pass: &str, token: &str| UrlAuth {
            user: user.to_owned(),
            pass: pass.to_owned(),
            token: token.to_owned(),
        };
        let r = remote("urls: [\"nats://u:p@a:1\", \"nats://b:2\"], no_randomize: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.next_url();
        assert_eq!(rc.url_auth(), Some(auth("u", "p", "")));
        // b has none: the saved one.
        rc.next_url();
        assert_eq!(rc.url_auth(), Some(auth("u", "p", "")));
        // A user without a password is the token too; so is an empty saved password,
        // but not an empty password on the current URL (Go's `ok` of Password()).
        let r = remote("url: \"nats://tok@a:1\"");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.next_url();
        assert_eq!(rc.url_auth(), Some(auth("tok", "", "tok")));
        let r = remote("urls: [\"nats://u:@a:1\", \"nats://b:2\"], no_randomize: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.next_url();
        assert_eq!(rc.url_auth(), Some(auth("u", "", "")));
        rc.next_url();
        assert_eq!(rc.url_auth(), Some(auth("u", "", "u")));
        let r = remote("url: \"nats://a:1\"");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        rc.next_url();
        assert_eq!(rc.url_auth(), None);
    }

    // Go: saveTLSHostname, in shuffled order, then from learned URLs.
    #[test]
    fn tls_name_is_the_first_host_name() {
        let r = remote(
            "urls: [\"nats://10.0.0.1:1\", \"nats://a.example:2\", \"nats://b.example:3\"], no_randomize: true",
        );
        let rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        assert_eq!(rc.tls_name(), Some("a.example"));
        // Shuffled to [b, a, 10.0.0.1] (draws 0 then 1): the first host name is b's.
        let r =
            remote("urls: [\"nats://10.0.0.1:1\", \"nats://a.example:2\", \"nats://b.example:3\"]");
        let mut draws = [0u64, 1].into_iter();
        let rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| {
            draws.next().unwrap_or(0)
        });
        assert_eq!(rc.tls_name(), Some("b.example"));
        let r = remote("url: \"nats://10.0.0.1:1\", no_randomize: true");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        assert_eq!(rc.tls_name(), None);
        rc.learn(
            &["10.0.0.2:7422".to_owned(), "c.example:7422".to_owned()],
            &[],
        );
        assert_eq!(rc.tls_name(), Some("c.example"));
    }

    #[test]
    fn tls_from_wss_a_block_or_the_hub() {
        let r = remote("url: \"wss://a:1\"");
        assert!(Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0).tls_required(&r));
        let r = remote("url: \"nats://a:1\", tls { }");
        assert!(Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0).tls_required(&r));
        let r = remote("url: \"nats://a:1\"");
        let mut rc = Reconnect::new(&r, Duration::from_secs(1), &mut |_| 0);
        assert!(!rc.tls_required(&r));
        rc.mark_tls();
        assert!(rc.tls_required(&r));
    }
}
