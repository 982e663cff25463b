//! The NATS keep-alive, sans-IO: when the next PING is due, whether recent input stands
//! in for it, how many go unanswered before the connection is stale, and the round trip
//! a PONG measures (Go: `processPingTimer`, `sendPing`, `processPing`'s `lastIn`,
//! `processPong`).
//!
//! [`KeepAlive`] decides; the session that owns it writes `PING\r\n` or
//! `-ERR 'Stale Connection'` through its own output and traces them.

use std::time::{Duration, Instant};

/// Whether input from the peer lets a due PING be skipped (Go: `processPingTimer`'s
/// "Do not delay PINGs for ROUTER, GATEWAY or spoke LEAF connections").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingDelay {
    /// Skip the PING when input arrived less than an interval ago, once a PONG has
    /// measured the round trip (Go: clients and the accepting side of a leaf).
    AfterRecentInput,
    /// Always send the PING (Go: the soliciting side of a leaf).
    Never,
}

/// What [`KeepAlive::poll`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepAliveAction {
    /// Not due, not started, or skipped after recent input.
    Nothing,
    /// Write `PING\r\n` (already counted as outstanding).
    SendPing,
    /// `ping_max` PINGs are unanswered: write `-ERR 'Stale Connection'` and close with
    /// `StaleConnection`.
    Stale,
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
    /// The last input that counts as the peer being alive (Go: `c.lastIn`).
    last_in: Option<Instant>,
    /// When the oldest PING still without its PONG went out (Go: `c.rttStart`).
    ping_sent: Option<Instant>,
    /// The last round trip (Go: `c.rtt`), measured or estimated.
    rtt: Option<Duration>,
    /// A PONG answered one of our PINGs (an estimate does not count).
    rtt_measured: bool,
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
            rtt_measured: false,
        }
    }

    /// Arms the timer: the first PING is due at `first`, each later one an interval
    /// after the previous due time was handled (Go: `setFirstPingTimer`).
    pub(crate) fn start(&mut self, first: Instant, delay: PingDelay) {
        self.next = Some(first);
        self.delay = delay;
    }

    /// When [`KeepAlive::poll`] must run next (`None` before [`KeepAlive::start`]).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.next
    }

    /// The peer sent something that shows it is alive: a message, an interest change or
    /// a PING (Go: `c.lastIn`).
    pub(crate) fn on_input(&mut self, now: Instant) {
        self.last_in = Some(now);
    }

    /// Runs the timer at `now` (Go: `processPingTimer`). When due, the next is set an
    /// interval later whatever the action.
    pub(crate) fn poll(&mut self, now: Instant) -> KeepAliveAction {
        match self.next {
            Some(due) if now >= due => {}
            _ => return KeepAliveAction::Nothing,
        }
        self.next = Some(now + self.interval);
        let recent = self
            .last_in
            .is_some_and(|t| now.saturating_duration_since(t) < self.interval);
        if self.delay == PingDelay::AfterRecentInput && recent && self.rtt_measured {
            return KeepAliveAction::Nothing;
        }
        // Go: `c.ping.out+1 > maxPingsOut`.
        if self.outstanding >= self.ping_max {
            return KeepAliveAction::Stale;
        }
        self.outstanding += 1;
        self.ping_sent.get_or_insert(now);
        KeepAliveAction::SendPing
    }

    /// A PONG arrived (Go: `processPong`): nothing is outstanding any more; when it
    /// answers a PING of ours, the round trip since the oldest unanswered one is the
    /// new RTT, returned.
    pub(crate) fn on_pong(&mut self, now: Instant) -> Option<Duration> {
        self.outstanding = 0;
        let sent = self.ping_sent.take()?;
        let rtt = now.saturating_duration_since(sent);
        self.rtt = Some(rtt);
        self.rtt_measured = true;
        Some(rtt)
    }

    /// Records an RTT estimate that is shown as the RTT until a PONG measures one, but
    /// does not let PINGs be skipped (Go: `processConnect`'s `computeRTT(c.start)`).
    pub(crate) fn estimate_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
    }

    /// The last round trip, measured or estimated (Go: `c.rtt`).
    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(120);
    const SEC: Duration = Duration::from_secs(1);

    fn started(t0: Instant, ping_max: u32, delay: PingDelay) -> KeepAlive {
        let mut k = KeepAlive::new(INTERVAL, ping_max);
        k.start(t0 + 2 * SEC, delay);
        k
    }

    #[test]
    fn nothing_before_start_nor_before_due() {
        let t0 = Instant::now();
        let mut k = KeepAlive::new(INTERVAL, 2);
        assert_eq!(k.next_due(), None);
        assert_eq!(k.poll(t0 + 3600 * SEC), KeepAliveAction::Nothing);
        k.start(t0 + 2 * SEC, PingDelay::AfterRecentInput);
        assert_eq!(k.next_due(), Some(t0 + 2 * SEC));
        assert_eq!(k.poll(t0 + SEC), KeepAliveAction::Nothing);
        assert_eq!(
            k.next_due(),
            Some(t0 + 2 * SEC),
            "an early poll keeps the due time"
        );
    }

    /// Go: the timer is reset to the interval after each firing, from when it fired.
    #[test]
    fn next_due_is_an_interval_after_the_poll_that_handled_it() {
        let t0 = Instant::now();
        let mut k = started(t0, 5, PingDelay::Never);
        let late = t0 + 7 * SEC;
        assert_eq!(k.poll(late), KeepAliveAction::SendPing);
        assert_eq!(k.next_due(), Some(late + INTERVAL));
        assert_eq!(k.poll(late + INTERVAL - SEC), KeepAliveAction::Nothing);
        assert_eq!(k.poll(late + INTERVAL), KeepAliveAction::SendPing);
        assert_eq!(k.next_due(), Some(late + 2 * INTERVAL));
    }

    /// Go: `c.ping.out+1 > maxPingsOut` closes; the PINGs before it go out.
    #[test]
    fn stale_when_the_next_ping_would_exceed_ping_max() {
        let t0 = Instant::now();
        let mut k = started(t0, 2, PingDelay::Never);
        let mut t = t0 + 2 * SEC;
        assert_eq!(k.poll(t), KeepAliveAction::SendPing);
        t += INTERVAL;
        assert_eq!(k.poll(t), KeepAliveAction::SendPing);
        t += INTERVAL;
        assert_eq!(k.poll(t), KeepAliveAction::Stale);
        // ping_max 0: the first due PING is already one too many.
        let mut k = started(t0, 0, PingDelay::Never);
        assert_eq!(k.poll(t0 + 2 * SEC), KeepAliveAction::Stale);
    }

    /// Go: `processPong` sets `c.ping.out = 0`.
    #[test]
    fn pong_resets_the_outstanding_count() {
        let t0 = Instant::now();
        let mut k = started(t0, 2, PingDelay::Never);
        let mut t = t0 + 2 * SEC;
        for _ in 0..5 {
            assert_eq!(k.poll(t), KeepAliveAction::SendPing);
            t += INTERVAL;
            assert_eq!(k.poll(t), KeepAliveAction::SendPing);
            k.on_pong(t + SEC);
            t += INTERVAL;
        }
        // An unsolicited PONG resets too.
        assert_eq!(k.poll(t), KeepAliveAction::SendPing);
        t += INTERVAL;
        assert_eq!(k.poll(t), KeepAliveAction::SendPing);
        assert_eq!(k.on_pong(t + SEC), Some(INTERVAL + SEC));
        assert_eq!(k.on_pong(t + 2 * SEC), None);
        t += INTERVAL;
        assert_eq!(k.poll(t), KeepAliveAction::SendPing);
    }

    /// The RTT runs from the oldest unanswered PING to the PONG; a PONG with no PING out
    /// measures nothing.
    #[test]
    fn rtt_on_pong() {
        let t0 = Instant::now();
        let mut k = started(t0, 3, PingDelay::Never);
        assert_eq!(k.on_pong(t0 + SEC), None);
        assert_eq!(k.rtt(), None);
        let t1 = t0 + 2 * SEC;
        assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
        let ms = Duration::from_millis(1);
        assert_eq!(k.on_pong(t1 + 5 * ms), Some(5 * ms));
        assert_eq!(k.rtt(), Some(5 * ms));
        let t2 = t1 + INTERVAL;
        assert_eq!(k.poll(t2), KeepAliveAction::SendPing);
        assert_eq!(k.poll(t2 + INTERVAL), KeepAliveAction::SendPing);
        assert_eq!(
            k.on_pong(t2 + INTERVAL + ms),
            Some(INTERVAL + ms),
            "measured from the oldest unanswered PING"
        );
        // An estimate is shown until the next measurement.
        k.estimate_rtt(7 * ms);
        assert_eq!(k.rtt(), Some(7 * ms));
    }

    /// Go: a client (or hub leaf) that heard from the peer within the interval delays the
    /// PING once the RTT is known; before that, the PING goes out.
    #[test]
    fn recent_input_skips_the_ping_once_rtt_is_measured() {
        let t0 = Instant::now();
        let mut k = started(t0, 2, PingDelay::AfterRecentInput);
        let t1 = t0 + 2 * SEC;
        k.on_input(t1 - SEC);
        assert_eq!(k.poll(t1), KeepAliveAction::SendPing, "no RTT yet");
        k.on_pong(t1 + SEC);
        let t2 = t1 + INTERVAL;
        k.on_input(t2 - SEC);
        assert_eq!(k.poll(t2), KeepAliveAction::Nothing);
        assert_eq!(
            k.next_due(),
            Some(t2 + INTERVAL),
            "a skipped PING still re-arms"
        );
        // Input exactly an interval ago is not recent.
        let t3 = t2 + INTERVAL;
        k.on_input(t3 - INTERVAL);
        assert_eq!(k.poll(t3), KeepAliveAction::SendPing);
    }

    /// An estimate, or a PONG nobody asked for, is not a measured RTT: the PING goes out.
    #[test]
    fn an_estimate_or_unsolicited_pong_does_not_skip() {
        let t0 = Instant::now();
        let mut k = started(t0, 2, PingDelay::AfterRecentInput);
        k.estimate_rtt(Duration::from_millis(3));
        assert_eq!(k.on_pong(t0 + SEC), None);
        let t1 = t0 + 2 * SEC;
        k.on_input(t1);
        assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    }

    /// Go: "Do not delay PINGs for ... spoke LEAF connections".
    #[test]
    fn never_delay_pings_despite_recent_input() {
        let t0 = Instant::now();
        let mut k = started(t0, 2, PingDelay::Never);
        let t1 = t0 + 2 * SEC;
        assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
        k.on_pong(t1 + SEC);
        let t2 = t1 + INTERVAL;
        k.on_input(t2);
        assert_eq!(k.poll(t2), KeepAliveAction::SendPing);
        k.on_input(t2 + INTERVAL);
        assert_eq!(k.poll(t2 + INTERVAL), KeepAliveAction::SendPing);
        k.on_input(t2 + 2 * INTERVAL);
        assert_eq!(k.poll(t2 + 2 * INTERVAL), KeepAliveAction::Stale);
    }
}
