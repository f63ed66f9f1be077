//! A checker's timing: delay loop, retries, rise/fall, initial state, and
//! the schedule (warmup and jitter) drawn from an injected random source.

use std::time::Duration;

use tokio::time::Instant;

/// keepalived.conf(5) `delay_loop` default: 60 s.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);

/// The default jitter: each delay loop is shortened by up to this fraction.
pub const DEFAULT_JITTER: f64 = 0.1;

/// A real server's health as its checkers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Passing: in the IPVS table with its weight.
    Up,
    /// Failing: out of the table (or weight 0 with `inhibit_on_failure`).
    Down,
}

/// The checker kinds whose defaults differ (keepalived/check/check_api.c,
/// check_dns.c, check_misc.c, check_http.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindDefaults {
    /// TCP_CHECK, UDP_CHECK: `retry` 1, `delay_before_retry` 1 s.
    Plain,
    /// HTTP_GET, SSL_GET: `retry` 1, `delay_before_retry` 3 s.
    Http,
    /// DNS_CHECK: `retry` 3, `delay_before_retry` the `delay_loop`.
    Dns,
    /// MISC_CHECK: `retry` 0.
    Misc,
    /// FILE_CHECK: no retry; keepalived knows its state at once (no alpha).
    File,
}

/// When and how often a checker probes, and how results become health.
///
/// keepalived.conf(5) keywords: `delay_loop` (default 60 s), `retry`
/// (default 1; 3 for DNS_CHECK, 0 for MISC_CHECK), `delay_before_retry`
/// (default 1 s; 3 s for HTTP_GET/SSL_GET, the `delay_loop` for DNS_CHECK),
/// `warmup` (a random delay before the first check, at most this; default
/// the `delay_loop`; 0 turns it off), `alpha` (start down). Beyond
/// keepalived: `rise`/`fall` and `jitter`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The time between two checks (the start of one to the start of the next).
    pub delay_loop: Duration,
    /// How many times a failed probe is retried before the failure counts
    /// (only while the checker is up, or assumed up: retries guard a working
    /// server against one lost probe).
    pub retry: u32,
    /// The wait after a failed probe before its retry.
    pub delay_before_retry: Duration,
    /// The first check comes at a uniformly random time in `0..=warmup`
    /// after the start; zero: at once.
    pub warmup: Duration,
    /// Consecutive successes that bring a down checker up (keepalived: 1).
    pub rise: u32,
    /// Consecutive counted failures (each after its retries) that bring an
    /// up checker down (keepalived: 1).
    pub fall: u32,
    /// The state assumed before the first result: [`Health::Down`] is
    /// keepalived's `alpha` and the native default; [`Health::Up`] is
    /// keepalived without `alpha`. The first result replaces it at once
    /// (rise and fall count against observed states only).
    pub initial: Health,
    /// Each delay loop is shortened by a random fraction in `0..jitter`
    /// (0.0..=1.0), so that checkers started together drift apart and no
    /// check ever comes later than `delay_loop` after the previous one.
    pub jitter: f64,
}

impl Timing {
    /// keepalived's defaults for a checker kind with this `delay_loop`
    /// (no alpha: initial state up; rise = fall = 1; warmup = delay_loop).
    pub fn keepalived(kind: KindDefaults, delay_loop: Duration) -> Self {
        let (retry, delay_before_retry) = match kind {
            KindDefaults::Plain => (1, Duration::from_secs(1)),
            KindDefaults::Http => (1, Duration::from_secs(3)),
            KindDefaults::Dns => (3, delay_loop),
            KindDefaults::Misc | KindDefaults::File => (0, Duration::from_secs(1)),
        };
        Timing {
            delay_loop,
            retry,
            delay_before_retry,
            // A file is read at start, before anything enters the table.
            warmup: if kind == KindDefaults::File {
                Duration::ZERO
            } else {
                delay_loop
            },
            rise: 1,
            fall: 1,
            initial: if kind == KindDefaults::File {
                // keepalived clears alpha for FILE_CHECK: the file is read
                // before anything is put in the table.
                Health::Down
            } else {
                Health::Up
            },
            jitter: DEFAULT_JITTER,
        }
    }

    /// ipvsd's native defaults: keepalived's, but real servers start down
    /// until their first success (keepalived's `alpha`).
    pub fn native(kind: KindDefaults, delay_loop: Duration) -> Self {
        Timing {
            initial: Health::Down,
            ..Timing::keepalived(kind, delay_loop)
        }
    }

    /// The time of the first check of a checker started at `start`: a
    /// uniformly random point of `start..=start + warmup`.
    pub fn first_check(&self, start: Instant, rng: &mut fastrand::Rng) -> Instant {
        start + self.warmup.mul_f64(rng.f64())
    }

    /// The time of the next regular check after one that started at
    /// `started` and ended at `ended`: `started + delay_loop`, shortened by
    /// the jitter, and never before `ended` (a probe slower than the delay
    /// loop is followed by the next one at once).
    pub fn next_check(&self, started: Instant, ended: Instant, rng: &mut fastrand::Rng) -> Instant {
        let jitter = self.jitter.clamp(0.0, 1.0);
        let interval = self.delay_loop.mul_f64(1.0 - jitter * rng.f64());
        (started + interval).max(ended)
    }

    /// The time of a retry after a failed probe that ended at `ended`.
    pub fn next_retry(&self, ended: Instant) -> Instant {
        ended + self.delay_before_retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_defaults_by_kind() {
        let d = Duration::from_secs(10);
        let t = Timing::keepalived(KindDefaults::Plain, d);
        assert_eq!((t.retry, t.delay_before_retry), (1, Duration::from_secs(1)));
        assert_eq!(t.initial, Health::Up);
        assert_eq!(t.warmup, d);
        let t = Timing::keepalived(KindDefaults::Http, d);
        assert_eq!((t.retry, t.delay_before_retry), (1, Duration::from_secs(3)));
        let t = Timing::keepalived(KindDefaults::Dns, d);
        assert_eq!((t.retry, t.delay_before_retry), (3, d));
        assert_eq!(Timing::keepalived(KindDefaults::Misc, d).retry, 0);
        assert_eq!(Timing::native(KindDefaults::Plain, d).initial, Health::Down);
    }

    #[test]
    fn a_slow_probe_is_followed_at_once_not_in_the_past() {
        let t = Timing {
            jitter: 0.0,
            ..Timing::keepalived(KindDefaults::Plain, Duration::from_secs(1))
        };
        let mut rng = fastrand::Rng::with_seed(1);
        let s = Instant::now();
        let late = s + Duration::from_secs(3);
        assert_eq!(t.next_check(s, late, &mut rng), late);
        let quick = s + Duration::from_millis(10);
        assert_eq!(t.next_check(s, quick, &mut rng), s + Duration::from_secs(1));
        assert_eq!(t.next_retry(quick), quick + Duration::from_secs(1));
    }
}
