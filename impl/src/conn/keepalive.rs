//! The NATS keep-alive, sans-IO: when the next PING is due, whether recent input stands
//! in for it, how many go unanswered before the connection is stale, and the round trip
//! (Go: `processPingTimer`, `sendPing`, `processPong`, `computeRTT`, `setFirstPingTimer`,
//! and the `c.lastIn` that `readLoop` and `processPing` keep).
//!
//! [`KeepAlive`] decides; the session that owns it writes `PING\r\n` or
//! `-ERR 'Stale Connection'` through its own output, traces the PING and, with debug
//! logging on, logs [`KeepAliveAction::debug_lines`].

use std::time::{Duration, Instant};

use crate::options::GoDuration;

/// How often the round trip is measured again even while input keeps coming (Go:
/// `DEFAULT_RTT_MEASUREMENT_INTERVAL`).
pub(crate) const RTT_MEASUREMENT_INTERVAL: Duration = Duration::from_secs(3600);

/// Go's `maxDuration`: what `time.Since` of the zero time saturates to, the RTT of a PONG
/// that comes before any PING went out.
const GO_MAX_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);

/// Whether input from the peer lets a due PING be skipped (Go: `processPingTimer`'s
/// "Do not delay PINGs for ROUTER, GATEWAY or spoke LEAF connections").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingDelay {
    /// Skip the PING when input arrived less than an interval ago and no RTT measurement
    /// is due (Go: clients and the accepting side of a leaf).
    AfterRecentInput,
    /// Always send the PING (Go: the soliciting side of a leaf).
    Never,
}

/// What [`KeepAlive::poll`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepAliveAction {
    /// Not started, or not due yet.
    NotDue,
    /// Due, but the peer was heard from `since_input` ago: no PING this time (Go:
    /// "Delaying PING due to remote client data or ping").
    Delay { since_input: Duration },
    /// Write `PING\r\n` (already counted as outstanding).
    SendPing,
    /// `ping_max` PINGs are unanswered: write `-ERR 'Stale Connection'` (Go enqueues it
    /// without a trace line) and close with `StaleConnection`.
    Stale,
}

impl KeepAliveAction {
    /// Go's debug lines for one firing of the timer, in its order: `<kind> Ping Timer`
    /// (`kind` is Go's `kindString`: `Client`, `Leafnode`), then why no PING went out or
    /// that the connection is stale. Nothing when the timer did not fire.
    pub(crate) fn debug_lines(self, kind: &str, out: &mut Vec<String>) {
        if self == KeepAliveAction::NotDue {
            return;
        }
        // Go: processPingTimer, client.go:5827.
        out.push(format!("{kind} Ping Timer"));
        match self {
            // Go: client.go:5850, `delta.Round(time.Second)` printed with `%v`.
            KeepAliveAction::Delay { since_input } => out.push(format!(
                "Delaying PING due to remote client data or ping {} ago",
                round_to_second(since_input)
            )),
            // Go: client.go:5863, the same text for every kind of connection.
            KeepAliveAction::Stale => out.push("Stale Client Connection - Closing".to_owned()),
            KeepAliveAction::NotDue | KeepAliveAction::SendPing => {}
        }
    }
}

/// Go `Duration.Round(time.Second)`: to the nearest second, halves away from zero.
fn round_to_second(d: Duration) -> GoDuration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() >= 500_000_000);
    GoDuration(i64::try_from(secs).map_or(i64::MAX, |s| s.saturating_mul(GoDuration::SECOND)))
}

/// The delay of a connection's first PING (Go: `setFirstPingTimer`): the interval, at
/// most `short` (`firstClientPingInterval` 2 s for clients, `firstPingInterval` 1 s for
/// leafs), plus an offset below a fifth of that drawn from `random` (Go:
/// `rand.Int63n(int64(d / 5))`).
pub(crate) fn first_ping_delay(interval: Duration, short: Duration, random: u64) -> Duration {
    let d = interval.min(short);
    let fifth = d.as_nanos() / 5;
    let offset = if fifth == 0 {
        0
    } else {
        u128::from(random) % fifth
    };
    d + Duration::from_nanos(u64::try_from(offset).unwrap_or(0))
}

/// One connection's PING/PONG state.
#[derive(Debug)]
pub(crate) struct KeepAlive {
    /// Time between PINGs after the first.
    interval: Duration,
    /// Unanswered PINGs allowed; the next due PING beyond them makes the connection stale.
    ping_max: u32,
    delay: PingDelay,
    /// When [`KeepAlive::poll`] acts next; `None` until [`KeepAlive::start`].
    next: Option<Instant>,
    /// PINGs sent since the last PONG (Go: `c.ping.out`).
    outstanding: u32,
    /// The last input that counts as the peer being alive (Go: `c.lastIn`; `None` is
    /// Go's zero time, long ago).
    last_in: Option<Instant>,
    /// When the last PING went out (Go: `c.rttStart`; `None` is Go's zero time).
    ping_sent: Option<Instant>,
    /// The last round trip (Go: `c.rtt`; `None` is Go's 0, not known).
    rtt: Option<Duration>,
}

impl KeepAlive {
    /// Not started: [`KeepAlive::poll`] does nothing until [`KeepAlive::start`].
    pub(crate) fn new(interval: Duration, ping_max: u32) -> KeepAlive {
        KeepAlive {
            interval,
            ping_max,
            delay: PingDelay::AfterRecentInput,
            next: None,
            outstanding: 0,
            last_in: None,
            ping_sent: None,
            rtt: None,
        }
    }

    /// Arms the timer, or moves it: the next firing is at `at`, each later one an
    /// interval after the previous firing was handled (Go: `setPingTimer`,
    /// `setFirstPingTimer`, which stop a running timer first).
    pub(crate) fn start(&mut self, at: Instant, delay: PingDelay) {
        self.next = Some(at);
        self.delay = delay;
    }

    /// When [`KeepAlive::poll`] must run next (`None` before [`KeepAlive::start`]).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.next
    }

    /// The peer sent something that shows it is alive: a message, an interest change or
    /// a PING (Go: `c.lastIn`, set by `readLoop` when `c.in.msgs` or `c.in.subs` moved,
    /// and by `processPing`).
    pub(crate) fn on_input(&mut self, now: Instant) {
        self.last_in = Some(now);
    }

    /// Runs the timer at `now` (Go: `processPingTimer`). When due, the next firing is set
    /// an interval later whatever the action (Go: `setPingTimer`), except after
    /// [`KeepAliveAction::Stale`], when the connection closes.
    pub(crate) fn poll(&mut self, now: Instant) -> KeepAliveAction {
        match self.next {
            Some(due) if now >= due => {}
            _ => return KeepAliveAction::NotDue,
        }
        self.next = Some(now + self.interval);
        // Go: `needRTT := c.rtt == 0 || now.Sub(c.rttStart) > DEFAULT_RTT_MEASUREMENT_INTERVAL`
        // (client.go:5841); before any PING `rttStart` is the zero time, long ago.
        let need_rtt = self.rtt.is_none()
            || self
                .ping_sent
                .is_none_or(|t| now.saturating_duration_since(t) > RTT_MEASUREMENT_INTERVAL);
        if self.delay == PingDelay::AfterRecentInput && !need_rtt {
            // Go: `delta := now.Sub(c.lastIn); delta < pingInterval` (client.go:5849).
            if let Some(since_input) = self
                .last_in
                .map(|t| now.saturating_duration_since(t))
                .filter(|d| *d < self.interval)
            {
                return KeepAliveAction::Delay { since_input };
            }
        }
        // Go: `c.ping.out+1 > maxPingsOut` (client.go:5862).
        if self.outstanding >= self.ping_max {
            self.next = None;
            return KeepAliveAction::Stale;
        }
        // Go: sendPing sets `c.rttStart = now` on every PING and counts it (client.go:2687).
        self.outstanding += 1;
        self.ping_sent = Some(now);
        KeepAliveAction::SendPing
    }

    /// A PONG arrived, asked for or not (Go: `processPong`, client.go:2797): nothing is
    /// outstanding any more, and the time since the last PING went out is the new RTT,
    /// returned. Before any PING that is Go's largest duration (`time.Since` of the zero
    /// time saturates).
    pub(crate) fn on_pong(&mut self, now: Instant) -> Duration {
        self.outstanding = 0;
        let rtt = self.ping_sent.map_or(GO_MAX_DURATION, |t| {
            compute_rtt(now.saturating_duration_since(t))
        });
        self.rtt = Some(rtt);
        rtt
    }

    /// Records an RTT estimate (Go: `processConnect`'s `c.rtt = computeRTT(c.start)`,
    /// client.go:2286). It is an RTT like a measured one: with it, recent input delays
    /// PINGs once the first PING has gone out.
    pub(crate) fn estimate_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(compute_rtt(rtt));
    }

    /// The last round trip, measured or estimated (Go: `c.rtt`; `None` is Go's 0).
    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
}

/// Go `computeRTT`: at least a nanosecond, so that a known RTT is never 0 (client.go:2259).
fn compute_rtt(elapsed: Duration) -> Duration {
    elapsed.max(Duration::from_nanos(1))
}

#[cfg(test)]
mod tests;
