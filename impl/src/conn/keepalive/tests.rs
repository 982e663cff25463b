//! [`KeepAlive`] against Go 2.15.1's `client.go` (line numbers of that version).

use super::*;

const INTERVAL: Duration = Duration::from_secs(120);
const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn started(t0: Instant, ping_max: u32, delay: PingDelay) -> KeepAlive {
    let mut k = KeepAlive::new(INTERVAL, ping_max);
    k.start(t0 + 2 * SEC, delay);
    k
}

fn lines(action: KeepAliveAction, kind: &str) -> Vec<String> {
    let mut out = Vec::new();
    action.debug_lines(kind, &mut out);
    out
}

#[test]
fn nothing_before_start_nor_before_due() {
    let t0 = Instant::now();
    let mut k = KeepAlive::new(INTERVAL, 2);
    assert_eq!(k.next_due(), None);
    assert_eq!(k.poll(t0 + 3600 * SEC), KeepAliveAction::NotDue);
    k.start(t0 + 2 * SEC, PingDelay::AfterRecentInput);
    assert_eq!(k.next_due(), Some(t0 + 2 * SEC));
    assert_eq!(k.poll(t0 + SEC), KeepAliveAction::NotDue);
    assert_eq!(
        k.next_due(),
        Some(t0 + 2 * SEC),
        "an early poll keeps the due time"
    );
}

/// Go: `setPingTimer` after each firing (client.go:5874), an interval from then; a new
/// `setFirstPingTimer` (CONNECT, client.go:2289) moves a running timer.
#[test]
fn next_due_is_an_interval_after_the_poll_that_handled_it() {
    let t0 = Instant::now();
    let mut k = started(t0, 5, PingDelay::Never);
    let late = t0 + 7 * SEC;
    assert_eq!(k.poll(late), KeepAliveAction::SendPing);
    assert_eq!(k.next_due(), Some(late + INTERVAL));
    assert_eq!(k.poll(late + INTERVAL - SEC), KeepAliveAction::NotDue);
    assert_eq!(k.poll(late + INTERVAL), KeepAliveAction::SendPing);
    assert_eq!(k.next_due(), Some(late + 2 * INTERVAL));
    k.start(late + INTERVAL + SEC, PingDelay::Never);
    assert_eq!(
        k.next_due(),
        Some(late + INTERVAL + SEC),
        "re-armed earlier"
    );
}

/// Go: `c.ping.out+1 > maxPingsOut` closes (client.go:5862); the PINGs before it go out.
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
    assert_eq!(k.next_due(), None, "Go returns before setPingTimer");
    // ping_max 0: the first due PING is already one too many.
    let mut k = started(t0, 0, PingDelay::Never);
    assert_eq!(k.poll(t0 + 2 * SEC), KeepAliveAction::Stale);
}

/// Go: `processPong` sets `c.ping.out = 0` (client.go:2797), asked for or not.
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
    assert_eq!(k.poll(t), KeepAliveAction::SendPing);
    t += INTERVAL;
    assert_eq!(k.poll(t), KeepAliveAction::SendPing);
    k.on_pong(t + SEC);
    k.on_pong(t + 2 * SEC);
    t += INTERVAL;
    assert_eq!(k.poll(t), KeepAliveAction::SendPing);
}

/// Go: `sendPing` sets `c.rttStart = now` on every PING (client.go:2687) and
/// `processPong` computes `c.rtt = computeRTT(c.rttStart)` on every PONG (client.go:2798):
/// the RTT runs from the last PING sent, and a second PONG measures again from it.
#[test]
fn rtt_runs_from_the_last_ping_to_each_pong() {
    let t0 = Instant::now();
    let mut k = started(t0, 3, PingDelay::Never);
    let t1 = t0 + 2 * SEC;
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    assert_eq!(k.on_pong(t1 + 5 * MS), 5 * MS);
    assert_eq!(k.rtt(), Some(5 * MS));
    let t2 = t1 + INTERVAL;
    assert_eq!(k.poll(t2), KeepAliveAction::SendPing);
    assert_eq!(k.poll(t2 + INTERVAL), KeepAliveAction::SendPing);
    assert_eq!(
        k.on_pong(t2 + INTERVAL + MS),
        MS,
        "from the last PING, not the oldest unanswered one"
    );
    assert_eq!(k.on_pong(t2 + INTERVAL + 9 * MS), 9 * MS, "an extra PONG");
    assert_eq!(k.rtt(), Some(9 * MS));
}

/// Go: before any PING `c.rttStart` is the zero time, so a PONG then measures
/// `time.Since(time.Time{})`, which saturates at the largest duration (client.go:2798).
#[test]
fn a_pong_before_any_ping_measures_go_max_duration() {
    let t0 = Instant::now();
    let mut k = started(t0, 2, PingDelay::AfterRecentInput);
    assert_eq!(k.rtt(), None);
    assert_eq!(k.on_pong(t0 + SEC), Duration::from_nanos(i64::MAX as u64));
    assert_eq!(k.rtt(), Some(Duration::from_nanos(i64::MAX as u64)));
    assert_eq!(
        GoDuration(i64::MAX).to_string(),
        "2562047h47m16.854775807s",
        "as Go prints it"
    );
}

/// Go `computeRTT`: a known RTT is at least 1 ns (client.go:2259), for a PONG in the same
/// instant as its PING and for the CONNECT estimate alike.
#[test]
fn rtt_is_at_least_a_nanosecond() {
    let t0 = Instant::now();
    let mut k = started(t0, 2, PingDelay::Never);
    k.estimate_rtt(Duration::ZERO);
    assert_eq!(k.rtt(), Some(Duration::from_nanos(1)));
    let t1 = t0 + 2 * SEC;
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    assert_eq!(k.on_pong(t1), Duration::from_nanos(1));
}

/// Go: `needRTT := c.rtt == 0 || now.Sub(c.rttStart) > DEFAULT_RTT_MEASUREMENT_INTERVAL`
/// (client.go:5841). With an RTT (here the CONNECT estimate, client.go:2286) the first
/// PING still goes out (`rttStart` is the zero time); after it, input within the interval
/// delays PINGs (client.go:5849) until an hour has passed since the last PING.
#[test]
fn the_connect_estimate_lets_recent_input_delay_pings_after_the_first() {
    let t0 = Instant::now();
    let mut k = started(t0, 2, PingDelay::AfterRecentInput);
    k.estimate_rtt(3 * MS);
    let t1 = t0 + 2 * SEC;
    k.on_input(t1 - SEC);
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing, "rttStart is zero");
    let t2 = t1 + INTERVAL;
    k.on_input(t2 - SEC);
    assert_eq!(k.poll(t2), KeepAliveAction::Delay { since_input: SEC });
    assert_eq!(
        k.next_due(),
        Some(t2 + INTERVAL),
        "a delayed PING still re-arms"
    );
}

/// Go: a client that keeps publishing but never answers is pinged once, then again each
/// time an hour has passed since the last PING (client.go:5841), and is stale at the
/// `ping_max + 1`th PING due: about `ping_max` hours after the first.
#[test]
fn an_active_client_that_never_answers_is_pinged_hourly_then_stale() {
    let t0 = Instant::now();
    let mut k = started(t0, 2, PingDelay::AfterRecentInput);
    k.estimate_rtt(MS);
    let mut t = t0 + 2 * SEC;
    let mut pings = Vec::new();
    let stale = loop {
        k.on_input(t - SEC);
        match k.poll(t) {
            KeepAliveAction::SendPing => pings.push(t),
            KeepAliveAction::Stale => break t,
            KeepAliveAction::Delay { since_input } => assert_eq!(since_input, SEC),
            KeepAliveAction::NotDue => unreachable!("polled when due"),
        }
        assert!(t < t0 + 4 * RTT_MEASUREMENT_INTERVAL, "never stale");
        t += INTERVAL;
    };
    // 120 s ticks: the first after more than an hour since the last PING is the 31st.
    let hourly = 31 * INTERVAL;
    let first = t0 + 2 * SEC;
    assert_eq!(pings, vec![first, first + hourly]);
    assert_eq!(stale, first + 2 * hourly);
}

/// Go: exactly an hour since the last PING is not yet "more than" the measurement
/// interval (client.go:5841); a measured RTT is re-measured hourly despite input.
#[test]
fn the_rtt_is_measured_again_after_an_hour() {
    let t0 = Instant::now();
    let mut k = KeepAlive::new(RTT_MEASUREMENT_INTERVAL / 2, 2);
    let t1 = t0 + 2 * SEC;
    k.start(t1, PingDelay::AfterRecentInput);
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    k.on_pong(t1 + MS);
    let t2 = t1 + RTT_MEASUREMENT_INTERVAL / 2;
    k.on_input(t2);
    assert_eq!(
        k.poll(t2),
        KeepAliveAction::Delay {
            since_input: Duration::ZERO
        }
    );
    let t3 = t2 + RTT_MEASUREMENT_INTERVAL / 2;
    k.on_input(t3);
    assert_eq!(
        k.poll(t3),
        KeepAliveAction::Delay {
            since_input: Duration::ZERO
        },
        "exactly an hour"
    );
    let t4 = t3 + MS;
    k.start(t4, PingDelay::AfterRecentInput);
    k.on_input(t4);
    assert_eq!(k.poll(t4), KeepAliveAction::SendPing, "over an hour");
}

/// Go: without an RTT (`c.rtt == 0`: a leaf before its first PONG, a client before
/// CONNECT) every due PING goes out despite input (client.go:5841); input exactly an
/// interval ago is not recent (`delta < pingInterval`, client.go:5849); no input at all is
/// the zero time, long ago.
#[test]
fn without_an_rtt_or_recent_input_the_ping_goes_out() {
    let t0 = Instant::now();
    let mut k = started(t0, 5, PingDelay::AfterRecentInput);
    let t1 = t0 + 2 * SEC;
    k.on_input(t1);
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing, "no RTT");
    k.on_pong(t1 + MS);
    let t2 = t1 + INTERVAL;
    k.on_input(t2 - INTERVAL);
    assert_eq!(k.poll(t2), KeepAliveAction::SendPing, "an interval ago");
    let mut k = started(t0, 5, PingDelay::AfterRecentInput);
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    k.on_pong(t1 + MS);
    assert_eq!(k.poll(t1 + INTERVAL), KeepAliveAction::SendPing, "no input");
}

/// Go: a PONG before any PING gives an RTT, but `rttStart` is still the zero time, so
/// the next PING goes out anyway; after it, that RTT lets input delay PINGs.
#[test]
fn an_unsolicited_pong_does_not_skip_the_first_ping() {
    let t0 = Instant::now();
    let mut k = started(t0, 2, PingDelay::AfterRecentInput);
    k.on_pong(t0 + SEC);
    let t1 = t0 + 2 * SEC;
    k.on_input(t1);
    assert_eq!(k.poll(t1), KeepAliveAction::SendPing);
    k.on_input(t1 + INTERVAL);
    assert_eq!(
        k.poll(t1 + INTERVAL),
        KeepAliveAction::Delay {
            since_input: Duration::ZERO
        }
    );
}

/// Go: "Do not delay PINGs for ROUTER, GATEWAY or spoke LEAF connections" (client.go:5843).
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

/// Go: `c.Debugf("%s Ping Timer", c.kindString())` on every firing (client.go:5827), then
/// the delay (client.go:5850, `delta.Round(time.Second)` as `%v`) or the stale line
/// (client.go:5863).
#[test]
fn debug_lines_are_gos() {
    assert!(lines(KeepAliveAction::NotDue, "Client").is_empty());
    assert_eq!(
        lines(KeepAliveAction::SendPing, "Leafnode"),
        ["Leafnode Ping Timer"]
    );
    assert_eq!(
        lines(KeepAliveAction::Stale, "Leafnode"),
        ["Leafnode Ping Timer", "Stale Client Connection - Closing"]
    );
    let delay = |since_input| {
        lines(KeepAliveAction::Delay { since_input }, "Client")
            .into_iter()
            .nth(1)
            .unwrap_or_default()
    };
    let line = |ago: &str| format!("Delaying PING due to remote client data or ping {ago} ago");
    assert_eq!(
        lines(KeepAliveAction::Delay { since_input: MS }, "Client"),
        ["Client Ping Timer".to_owned(), line("0s")]
    );
    // Go Round: halves away from zero.
    assert_eq!(delay(499 * MS), line("0s"));
    assert_eq!(delay(500 * MS), line("1s"));
    assert_eq!(delay(2600 * MS), line("3s"));
    assert_eq!(delay(65 * SEC + 200 * MS), line("1m5s"));
    assert_eq!(delay(3600 * SEC), line("1h0m0s"));
}

/// Go `setFirstPingTimer` (client.go:6991): the interval capped at the short first one,
/// plus `rand.Int63n(int64(d / 5))`.
#[test]
fn first_ping_delay_is_the_short_interval_plus_up_to_a_fifth() {
    let two = 2 * SEC;
    assert_eq!(first_ping_delay(INTERVAL, two, 0), two);
    assert_eq!(
        first_ping_delay(INTERVAL, two, 7),
        two + Duration::from_nanos(7)
    );
    assert_eq!(
        first_ping_delay(INTERVAL, two, u64::MAX),
        two + Duration::from_nanos(u64::MAX % 400_000_000)
    );
    for random in [1, 399_999_999, 400_000_000, u64::MAX] {
        let d = first_ping_delay(INTERVAL, two, random);
        assert!(d >= two && d < two + 400 * MS, "{d:?}");
    }
    // A shorter interval is used as is, with its own fifth.
    let d = first_ping_delay(500 * MS, SEC, 150_000_000);
    assert_eq!(d, 550 * MS);
    // Below 5 ns there is no fifth to draw from (Go would panic; we add nothing).
    assert_eq!(
        first_ping_delay(Duration::from_nanos(4), SEC, 3),
        Duration::from_nanos(4)
    );
}
