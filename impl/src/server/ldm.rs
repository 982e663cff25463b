//! Lame duck mode (Go: `lameDuckMode` in server/server.go): stop accepting, tell clients,
//! wait the grace period, then close the clients spread over the lame duck duration.

use std::sync::Arc;
use std::time::Duration;

use crate::frame::ClosedState;
use crate::server::router::{Client, lock};
use crate::server::{LogLevel, ServerHandle};

/// How long lame duck mode waits for the accept loops to let their ports go.
const LISTENER_CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Go: the pause between two closes is at most a second, however long the duration.
const MAX_CLOSE_INTERVAL: Duration = Duration::from_secs(1);

/// How the closing of `clients` connections is spread (Go's arithmetic): a pause of
/// `interval` (randomised to at least half of it) after every `batch` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spread {
    interval: Duration,
    batch: usize,
}

impl Spread {
    /// Go: `dur = duration - grace` (1 s if that is not positive), `si = dur / clients`
    /// capped at 1 s; below 1 ns, closes go in batches of `clients / dur`.
    fn new(duration: Duration, grace: Duration, clients: usize) -> Self {
        let dur = duration
            .checked_sub(grace)
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(1));
        let n = u128::try_from(clients.max(1)).unwrap_or(u128::MAX);
        let si = dur.as_nanos() / n;
        if si < 1 {
            let batch = n / dur.as_nanos().max(1);
            return Self {
                interval: Duration::from_nanos(1),
                batch: usize::try_from(batch).unwrap_or(usize::MAX).max(1),
            };
        }
        let interval = u64::try_from(si).map_or(MAX_CLOSE_INTERVAL, Duration::from_nanos);
        Self {
            interval: interval.min(MAX_CLOSE_INTERVAL),
            batch: 1,
        }
    }

    /// Go: a random pause in `[si/2, si)`.
    fn pause(&self) -> Duration {
        let si = u64::try_from(self.interval.as_nanos()).unwrap_or(u64::MAX);
        let mut bytes = [0u8; 8];
        let r = match getrandom::fill(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes) % si.max(1),
            Err(_) => si / 2,
        };
        Duration::from_nanos(r.max(si / 2))
    }
}

impl ServerHandle {
    /// Lame duck mode (SIGUSR2, `--signal ldm`; Go: `lameDuckMode`): logs `Entering lame
    /// duck mode, stop accepting new clients`, closes the client and websocket
    /// listeners, sends every client that understands async INFO an INFO with
    /// `"ldm":true`, waits `lame_duck_grace_period`, logs `Closing existing clients` and
    /// closes them (WebSocket clients get 1001 `Server Shutdown`) spread over
    /// `lame_duck_duration`. Returns true when the server should now shut down, false
    /// when there was nothing to do (already in lame duck mode, or shutting down). A
    /// shutdown started meanwhile ends it early.
    pub async fn lame_duck(&self) -> bool {
        let shared = &self.shared;
        if shared.is_shutting_down()
            || !shared
                .lame_duck
                .send_if_modified(|on| !std::mem::replace(on, true))
        {
            return false;
        }
        shared.log(
            LogLevel::Info,
            "Entering lame duck mode, stop accepting new clients",
        );
        self.wait_listeners_closed().await;
        let (duration, grace) = lock(&shared.opts).lame_duck();
        let (duration, grace) = (
            duration.to_std().unwrap_or_default(),
            grace.to_std().unwrap_or_default(),
        );
        let mut clients: Vec<Arc<Client>> = lock(&shared.clients).values().cloned().collect();
        if shared.is_shutting_down() || clients.is_empty() {
            return true;
        }
        clients.sort_by_key(|c| c.cid);
        let spread = Spread::new(duration, grace, clients.len());
        for c in &clients {
            c.lame_duck_info
                .store(true, std::sync::atomic::Ordering::Relaxed);
            c.wake.notify_one();
        }
        let mut shutdown = shared.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(grace) => {}
            _ = shutdown.changed() => return true,
        }
        shared.log(LogLevel::Info, "Closing existing clients");
        let last = clients.len() - 1;
        for (i, c) in clients.iter().enumerate() {
            c.close(ClosedState::ServerShutdown);
            if i == last {
                break;
            }
            if spread.batch == 1 || i % spread.batch == 0 {
                tokio::select! {
                    () = tokio::time::sleep(spread.pause()) => {}
                    _ = shutdown.changed() => return true,
                }
            }
        }
        true
    }

    /// Go waits for its accept loops to finish; ours end when their listener is dropped.
    async fn wait_listeners_closed(&self) {
        let deadline = tokio::time::Instant::now() + LISTENER_CLOSE_WAIT;
        loop {
            let open = self.client_listener.strong_count() > 0
                || self
                    .ws_listener
                    .as_ref()
                    .is_some_and(|w| w.strong_count() > 0);
            if !open || tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_closes_as_go() {
        let s = Duration::from_secs;
        // Default 2m - 10s over 10 clients: 11 s each, capped at 1 s.
        assert_eq!(
            Spread::new(s(120), s(10), 10),
            Spread {
                interval: s(1),
                batch: 1
            }
        );
        // 1 s over 4 clients.
        assert_eq!(
            Spread::new(s(3), s(2), 4),
            Spread {
                interval: Duration::from_millis(250),
                batch: 1
            }
        );
        // Grace not below duration (tests flip it): 1 s.
        assert_eq!(
            Spread::new(s(1), s(5), 2),
            Spread {
                interval: Duration::from_millis(500),
                batch: 1
            }
        );
        // More clients than nanoseconds: batches.
        assert_eq!(
            Spread::new(Duration::from_nanos(110), Duration::from_nanos(100), 100),
            Spread {
                interval: Duration::from_nanos(1),
                batch: 10
            }
        );
        let sp = Spread::new(s(3), s(2), 4);
        for _ in 0..100 {
            let p = sp.pause();
            assert!(
                p >= Duration::from_millis(125) && p < Duration::from_millis(250),
                "{p:?}"
            );
        }
    }
}
