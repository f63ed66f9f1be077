//! One checker's result logic, pure: probe reports and their times in,
//! health changes and the next check time out. No I/O, no clock of its own.
//!
//! keepalived's rules (keepalived/check/check_tcp.c `tcp_epilog` and its
//! siblings): while a checker is up, a failed probe is retried `retry`
//! times, `delay_before_retry` apart, before the failure counts; a success
//! resets the retries; a down checker is not retried. keepalived brings a
//! checker down on the first counted failure and up on the first success;
//! `rise`/`fall` generalise that to N consecutive results.

use std::time::Duration;

use tokio::time::Instant;

use super::outcome::{DynamicWeight, ProbeFailure, ProbeReport};
use super::timing::{Health, Timing};

/// Counters of one checker, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckCounters {
    /// Probes run (retries included).
    pub probes: u64,
    /// Probes that failed (retries included).
    pub failures: u64,
    /// The latency of the last probe.
    pub last_latency: Duration,
    /// The sum of every probe's latency (with `probes`, the mean).
    pub latency_sum: Duration,
}

/// Why a checker's health or weight changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeReason {
    /// A probe passed (the rise count reached, or the first result).
    Success,
    /// A probe failed (after its retries, the fall count reached).
    Failure(ProbeFailure),
    /// A passing probe reported another dynamic weight.
    Weight,
    /// The real server's configured weight was changed by the caller
    /// (a reload).
    Reconfigured,
}

/// A change of one checker's health or weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerChange {
    /// The health before; `None` for the first result (which settles the
    /// assumed initial state, even to the same value).
    pub previous: Option<Health>,
    /// The health now.
    pub health: Health,
    /// The checker's weight offset now (added to the real server's
    /// configured weight; 0 unless the probe reports a dynamic weight).
    pub weight_offset: i64,
    /// What caused it.
    pub reason: ChangeReason,
}

/// What to do after a probe: when to probe next, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When the next probe is due.
    pub next: Instant,
    /// Whether this probe was a failure that will be retried.
    pub retrying: bool,
    /// The change, if health or weight changed.
    pub change: Option<CheckerChange>,
}

/// One checker's state: health, retries, rise/fall streak, dynamic weight.
#[derive(Debug, Clone)]
pub struct CheckerState {
    timing: Timing,
    configured_weight: u32,
    health: Health,
    settled: bool,
    retries_done: u32,
    streak: u32,
    /// The dynamic weight last reported while up; kept as reported, so that
    /// a `Set` stays absolute when the configured weight changes.
    dynamic: Option<DynamicWeight>,
    counters: CheckCounters,
}

impl CheckerState {
    /// A checker that has not run yet, assuming `timing.initial`, for a real
    /// server whose configured `weight` is `configured_weight`.
    pub fn new(timing: Timing, configured_weight: u32) -> Self {
        CheckerState {
            timing,
            configured_weight,
            health: timing.initial,
            settled: false,
            retries_done: 0,
            streak: 0,
            dynamic: None,
            counters: CheckCounters::default(),
        }
    }

    /// The current (or assumed) health.
    pub fn health(&self) -> Health {
        self.health
    }

    /// Whether a result has been counted yet (the initial state replaced).
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// The checker's weight offset (see [`CheckerChange::weight_offset`]).
    pub fn weight_offset(&self) -> i64 {
        self.dynamic
            .map_or(0, |d| d.offset_from(self.configured_weight))
    }

    /// Changes the real server's configured weight (a reload), keeping the
    /// health, the streaks and the dynamic weight.
    pub fn set_configured_weight(&mut self, weight: u32) {
        self.configured_weight = weight;
    }

    /// The counters so far.
    pub fn counters(&self) -> CheckCounters {
        self.counters
    }

    /// The timing it runs on.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Feeds one probe's report: the probe started at `started` and ended at
    /// `ended`; `rng` draws the jitter of the next check.
    pub fn on_report(
        &mut self,
        report: &ProbeReport,
        started: Instant,
        ended: Instant,
        rng: &mut fastrand::Rng,
    ) -> Step {
        self.counters.probes += 1;
        self.counters.last_latency = report.latency;
        self.counters.latency_sum += report.latency;
        let regular = self.timing.next_check(started, ended, rng);
        match &report.result {
            Ok(success) => {
                self.retries_done = 0;
                let change = self.on_success(success.weight);
                Step {
                    next: regular,
                    retrying: false,
                    change,
                }
            }
            Err(failure) => {
                self.counters.failures += 1;
                // Retries guard an up (or assumed up) checker only.
                if self.health == Health::Up && self.retries_done < self.timing.retry {
                    self.retries_done += 1;
                    return Step {
                        next: self.timing.next_retry(ended),
                        retrying: true,
                        change: None,
                    };
                }
                self.retries_done = 0;
                let change = self.on_failure(failure);
                Step {
                    next: regular,
                    retrying: false,
                    change,
                }
            }
        }
    }

    fn on_success(&mut self, weight: Option<DynamicWeight>) -> Option<CheckerChange> {
        let previous = self.health;
        let old_offset = self.weight_offset();
        if weight.is_some() {
            self.dynamic = weight;
        }
        let offset = self.weight_offset();
        if !self.settled {
            self.settled = true;
            self.health = Health::Up;
            self.streak = 0;
            return Some(self.change(None, ChangeReason::Success));
        }
        match previous {
            Health::Down => {
                self.streak += 1;
                if self.streak < self.timing.rise.max(1) {
                    return None;
                }
                self.streak = 0;
                self.health = Health::Up;
                Some(self.change(Some(previous), ChangeReason::Success))
            }
            Health::Up => {
                // A success breaks a run of failures short of `fall`.
                self.streak = 0;
                (offset != old_offset).then(|| self.change(Some(previous), ChangeReason::Weight))
            }
        }
    }

    fn on_failure(&mut self, failure: &ProbeFailure) -> Option<CheckerChange> {
        let previous = self.health;
        let reason = ChangeReason::Failure(failure.clone());
        if !self.settled {
            self.settled = true;
            self.health = Health::Down;
            self.streak = 0;
            self.dynamic = None;
            return Some(self.change(None, reason));
        }
        match previous {
            Health::Up => {
                self.streak += 1;
                if self.streak < self.timing.fall.max(1) {
                    return None;
                }
                self.streak = 0;
                self.health = Health::Down;
                // keepalived drops a failed checker's dynamic weight.
                self.dynamic = None;
                Some(self.change(Some(previous), reason))
            }
            Health::Down => {
                // A failure breaks a run of successes short of `rise`.
                self.streak = 0;
                None
            }
        }
    }

    fn change(&self, previous: Option<Health>, reason: ChangeReason) -> CheckerChange {
        CheckerChange {
            previous,
            health: self.health,
            weight_offset: self.weight_offset(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::outcome::{DynamicWeight, ProbeSuccess};
    use crate::check::timing::KindDefaults;

    const LOOP: Duration = Duration::from_secs(10);

    fn timing(retry: u32, rise: u32, fall: u32, initial: Health) -> Timing {
        Timing {
            retry,
            rise,
            fall,
            initial,
            delay_before_retry: Duration::from_secs(2),
            jitter: 0.0,
            ..Timing::keepalived(KindDefaults::Plain, LOOP)
        }
    }

    fn ok() -> ProbeReport {
        ProbeReport {
            result: Ok(ProbeSuccess::default()),
            latency: Duration::from_millis(3),
        }
    }

    fn weighted(w: DynamicWeight) -> ProbeReport {
        ProbeReport {
            result: Ok(ProbeSuccess { weight: Some(w) }),
            latency: Duration::from_millis(3),
        }
    }

    fn fail() -> ProbeReport {
        ProbeReport {
            result: Err(ProbeFailure::ConnectTimeout(Duration::from_secs(5))),
            latency: Duration::from_secs(5),
        }
    }

    /// Feeds reports one after another at the times the steps ask for.
    struct Driver {
        state: CheckerState,
        now: Instant,
        rng: fastrand::Rng,
    }

    impl Driver {
        fn new(t: Timing) -> Self {
            Driver {
                state: CheckerState::new(t, 5),
                now: Instant::now(),
                rng: fastrand::Rng::with_seed(7),
            }
        }

        fn feed(&mut self, r: ProbeReport) -> Step {
            let started = self.now;
            let ended = started + Duration::from_millis(1);
            let step = self.state.on_report(&r, started, ended, &mut self.rng);
            assert!(step.next >= ended);
            self.now = step.next;
            step
        }
    }

    #[test]
    fn keepalived_retry_then_down_then_one_success_up() {
        let mut d = Driver::new(timing(2, 1, 1, Health::Up));
        let first = d.feed(ok()).change.unwrap();
        assert_eq!((first.previous, first.health), (None, Health::Up));
        let t0 = d.now;
        // Two retries, delay_before_retry after the failed probe's end.
        let s = d.feed(fail());
        assert!(s.retrying && s.change.is_none());
        assert_eq!(
            s.next,
            t0 + Duration::from_millis(1) + Duration::from_secs(2)
        );
        assert!(d.feed(fail()).retrying);
        let s = d.feed(fail());
        assert!(!s.retrying);
        let c = s.change.unwrap();
        assert_eq!((c.previous, c.health), (Some(Health::Up), Health::Down));
        assert!(matches!(c.reason, ChangeReason::Failure(_)));
        // Down: no retries, failures keep it down silently.
        let s = d.feed(fail());
        assert!(!s.retrying && s.change.is_none());
        let c = d.feed(ok()).change.unwrap();
        assert_eq!((c.previous, c.health), (Some(Health::Down), Health::Up));
        assert_eq!(d.state.counters().probes, 6);
        assert_eq!(d.state.counters().failures, 4);
    }

    #[test]
    fn a_success_between_failures_resets_the_retries() {
        let mut d = Driver::new(timing(1, 1, 1, Health::Up));
        d.feed(ok());
        assert!(d.feed(fail()).retrying);
        assert!(d.feed(ok()).change.is_none());
        assert!(d.feed(fail()).retrying, "the retry budget is back");
        assert_eq!(d.feed(fail()).change.unwrap().health, Health::Down);
    }

    #[test]
    fn rise_and_fall_need_consecutive_results() {
        let mut d = Driver::new(timing(0, 3, 2, Health::Up));
        d.feed(ok());
        assert!(d.feed(fail()).change.is_none());
        assert!(
            d.feed(ok()).change.is_none(),
            "a success breaks the fall run"
        );
        assert!(d.feed(fail()).change.is_none());
        assert_eq!(d.feed(fail()).change.unwrap().health, Health::Down);
        assert!(d.feed(ok()).change.is_none());
        assert!(d.feed(ok()).change.is_none());
        assert!(
            d.feed(fail()).change.is_none(),
            "a failure breaks the rise run"
        );
        assert!(d.feed(ok()).change.is_none());
        assert!(d.feed(ok()).change.is_none());
        assert_eq!(d.feed(ok()).change.unwrap().health, Health::Up);
    }

    #[test]
    fn fall_counts_failures_after_their_retries() {
        let mut d = Driver::new(timing(1, 1, 2, Health::Up));
        d.feed(ok());
        assert!(d.feed(fail()).retrying);
        let s = d.feed(fail());
        assert!(!s.retrying && s.change.is_none(), "first counted failure");
        assert!(d.feed(fail()).retrying);
        assert_eq!(d.feed(fail()).change.unwrap().health, Health::Down);
    }

    #[test]
    fn alpha_starts_down_and_the_first_result_settles_it_at_once() {
        let mut d = Driver::new(timing(1, 3, 3, Health::Down));
        assert_eq!(d.state.health(), Health::Down);
        // No retry for an assumed-down checker; the first failure settles it.
        let s = d.feed(fail());
        assert!(!s.retrying);
        let c = s.change.unwrap();
        assert_eq!((c.previous, c.health), (None, Health::Down));

        let mut d = Driver::new(timing(1, 3, 3, Health::Down));
        let c = d.feed(ok()).change.unwrap();
        assert_eq!(
            (c.previous, c.health),
            (None, Health::Up),
            "no rise wait at start"
        );
    }

    #[test]
    fn without_alpha_a_first_failure_is_retried_before_it_settles_down() {
        let mut d = Driver::new(timing(1, 1, 1, Health::Up));
        assert!(d.feed(fail()).retrying);
        let c = d.feed(fail()).change.unwrap();
        assert_eq!((c.previous, c.health), (None, Health::Down));
    }

    #[test]
    fn dynamic_weight_changes_are_reported_and_dropped_on_failure() {
        let mut d = Driver::new(timing(0, 1, 1, Health::Down));
        let c = d.feed(weighted(DynamicWeight::Set(8))).change.unwrap();
        assert_eq!(c.weight_offset, 3, "weight 8 over a configured 5");
        assert!(d.feed(weighted(DynamicWeight::Set(8))).change.is_none());
        let c = d.feed(weighted(DynamicWeight::Offset(-2))).change.unwrap();
        assert_eq!((c.reason, c.weight_offset), (ChangeReason::Weight, -2));
        assert!(
            d.feed(ok()).change.is_none(),
            "no weight: the last one stays"
        );
        assert_eq!(d.state.weight_offset(), -2);
        let c = d.feed(fail()).change.unwrap();
        assert_eq!((c.health, c.weight_offset), (Health::Down, 0));
    }

    #[test]
    fn a_set_weight_stays_absolute_when_the_configured_weight_changes() {
        let mut d = Driver::new(timing(0, 1, 1, Health::Down));
        d.feed(weighted(DynamicWeight::Set(8)));
        assert_eq!(d.state.weight_offset(), 3);
        d.state.set_configured_weight(10);
        assert_eq!(d.state.weight_offset(), -2, "still 8 in all");
        assert!(d.feed(ok()).change.is_none());
    }

    #[test]
    fn regular_checks_follow_the_delay_loop_from_the_probe_start() {
        let mut d = Driver::new(timing(0, 1, 1, Health::Up));
        let t0 = d.now;
        assert_eq!(d.feed(ok()).next, t0 + LOOP);
    }
}
