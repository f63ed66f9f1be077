//! A real server's health from all its checkers, pure: up only while every
//! checker is up (keepalived: a real server is alive when none of its
//! checkers has failed); its weight is the configured one plus every
//! checker's dynamic offset, within IPVS's 0..=2147483647.

use tokio::time::Instant;

use super::outcome::ProbeReport;
use super::state::{ChangeReason, CheckerState, Step};
use super::timing::{Health, Timing};

/// The largest IPVS weight (the kernel keeps it in an `int`).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

/// A change of a real server's health or weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerChange {
    /// Health and weight last reported; `None` before the first report.
    pub previous: Option<(Health, u32)>,
    /// Health now.
    pub health: Health,
    /// IPVS weight now (meaningful while up).
    pub weight: u32,
    /// The checker (index in the order given) whose result caused it;
    /// `None` for a change of the configured weight.
    pub checker: Option<usize>,
    /// What that checker saw.
    pub reason: ChangeReason,
}

/// The health of one real server and its checkers' states.
#[derive(Debug, Clone)]
pub struct RealServerHealth {
    configured_weight: u32,
    checkers: Vec<CheckerState>,
    reported: Option<(Health, u32)>,
}

impl RealServerHealth {
    /// A real server with `configured_weight` (keepalived.conf(5) `weight`,
    /// default 1) and one checker per timing.
    pub fn new(configured_weight: u32, timings: impl IntoIterator<Item = Timing>) -> Self {
        RealServerHealth {
            configured_weight,
            checkers: timings
                .into_iter()
                .map(|t| CheckerState::new(t, configured_weight))
                .collect(),
            reported: None,
        }
    }

    /// Up while every checker is (or is assumed) up; a real server without
    /// checkers is up.
    pub fn health(&self) -> Health {
        if self.checkers.iter().all(|c| c.health() == Health::Up) {
            Health::Up
        } else {
            Health::Down
        }
    }

    /// The configured weight plus every checker's offset, within 0..=2^31-1.
    pub fn weight(&self) -> u32 {
        let sum = self
            .checkers
            .iter()
            .fold(i64::from(self.configured_weight), |acc, c| {
                acc.saturating_add(c.weight_offset())
            });
        u32::try_from(sum.clamp(0, i64::from(MAX_WEIGHT))).unwrap_or(MAX_WEIGHT)
    }

    /// Whether the health is known: every checker has a result, or one
    /// that has is down (which settles the server whatever the others say).
    pub fn known(&self) -> bool {
        self.checkers.iter().all(CheckerState::settled)
            || self
                .checkers
                .iter()
                .any(|c| c.settled() && c.health() == Health::Down)
    }

    /// The checkers' states, in the order given.
    pub fn checkers(&self) -> &[CheckerState] {
        &self.checkers
    }

    /// Feeds checker `checker`'s report (see [`CheckerState::on_report`]);
    /// gives that checker's next step and, once the health is known, a
    /// change whenever health or weight differ from the last one reported.
    ///
    /// An index beyond the checkers given is ignored (no change; the step
    /// asks for the next check at `ended`).
    pub fn on_report(
        &mut self,
        checker: usize,
        report: &ProbeReport,
        started: Instant,
        ended: Instant,
        rng: &mut fastrand::Rng,
    ) -> (Step, Option<ServerChange>) {
        let Some(state) = self.checkers.get_mut(checker) else {
            return (
                Step {
                    next: ended,
                    retrying: false,
                    change: None,
                },
                None,
            );
        };
        let step = state.on_report(report, started, ended, rng);
        let Some(change) = &step.change else {
            return (step, None);
        };
        if !self.known() {
            return (step, None);
        }
        let now = (self.health(), self.weight());
        if self.reported == Some(now) {
            return (step, None);
        }
        let server_change = ServerChange {
            previous: self.reported,
            health: now.0,
            weight: now.1,
            checker: Some(checker),
            reason: change.reason.clone(),
        };
        self.reported = Some(now);
        (step, Some(server_change))
    }

    /// Changes the configured weight (a reload that changed only the
    /// `weight`): health and checker states are kept; a change when the
    /// resulting weight differs from the one last reported. A real server
    /// without checkers never reports: its state until now was its start
    /// state (up at the old weight), which is what the change is from.
    pub fn set_configured_weight(&mut self, weight: u32) -> Option<ServerChange> {
        let before = (self.health(), self.weight());
        self.configured_weight = weight;
        for c in &mut self.checkers {
            c.set_configured_weight(weight);
        }
        let previous = self
            .reported
            .or_else(|| self.checkers.is_empty().then_some(before))?;
        let now = (self.health(), self.weight());
        if now == previous {
            return None;
        }
        self.reported = Some(now);
        Some(ServerChange {
            previous: Some(previous),
            health: now.0,
            weight: now.1,
            checker: None,
            reason: ChangeReason::Reconfigured,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::check::outcome::{DynamicWeight, ProbeFailure, ProbeSuccess};
    use crate::check::timing::KindDefaults;

    fn t(initial: Health) -> Timing {
        Timing {
            retry: 0,
            initial,
            jitter: 0.0,
            ..Timing::keepalived(KindDefaults::Plain, Duration::from_secs(5))
        }
    }

    fn report(result: Result<ProbeSuccess, ProbeFailure>) -> ProbeReport {
        ProbeReport {
            result,
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn up_only_when_every_checker_is_and_known_once_all_ran_or_one_failed() {
        let mut s = RealServerHealth::new(10, [t(Health::Down), t(Health::Down)]);
        let mut rng = fastrand::Rng::with_seed(3);
        let now = Instant::now();
        assert_eq!(s.health(), Health::Down);
        let (_, c) = s.on_report(0, &report(Ok(ProbeSuccess::default())), now, now, &mut rng);
        assert!(c.is_none(), "the second checker has not run");
        let (_, c) = s.on_report(1, &report(Ok(ProbeSuccess::default())), now, now, &mut rng);
        let c = c.unwrap();
        assert_eq!((c.previous, c.health, c.weight), (None, Health::Up, 10));
        let fail = report(Err(ProbeFailure::ExitStatus(1)));
        let (_, c) = s.on_report(1, &fail, now, now, &mut rng);
        let c = c.unwrap();
        assert_eq!(c.previous, Some((Health::Up, 10)));
        assert_eq!((c.health, c.checker), (Health::Down, Some(1)));
    }

    #[test]
    fn a_new_weight_of_a_real_server_without_checkers_is_a_change() {
        let mut s = RealServerHealth::new(1, []);
        let c = s.set_configured_weight(2).expect("a change");
        assert_eq!(c.previous, Some((Health::Up, 1)));
        assert_eq!((c.health, c.weight), (Health::Up, 2));
        assert!(
            s.set_configured_weight(2).is_none(),
            "the same weight again"
        );
        // With checkers that have not reported, the first report carries it.
        let mut checked = RealServerHealth::new(1, [t(Health::Up)]);
        assert!(checked.set_configured_weight(2).is_none());
    }

    #[test]
    fn one_failed_checker_settles_the_server_before_the_others_ran() {
        let mut s = RealServerHealth::new(1, [t(Health::Up), t(Health::Up)]);
        let mut rng = fastrand::Rng::with_seed(3);
        let now = Instant::now();
        let fail = report(Err(ProbeFailure::ExitStatus(1)));
        let (_, c) = s.on_report(0, &fail, now, now, &mut rng);
        assert_eq!(c.unwrap().health, Health::Down);
    }

    #[test]
    fn offsets_add_up_and_the_weight_stays_in_range() {
        let mut s = RealServerHealth::new(3, [t(Health::Down), t(Health::Down)]);
        let mut rng = fastrand::Rng::with_seed(3);
        let now = Instant::now();
        let w = |d| report(Ok(ProbeSuccess { weight: Some(d) }));
        s.on_report(0, &w(DynamicWeight::Offset(4)), now, now, &mut rng);
        let (_, c) = s.on_report(1, &w(DynamicWeight::Offset(-1)), now, now, &mut rng);
        assert_eq!(c.unwrap().weight, 6);
        let (_, c) = s.on_report(1, &w(DynamicWeight::Offset(-100)), now, now, &mut rng);
        assert_eq!(c.unwrap().weight, 0);
        let (_, c) = s.on_report(1, &w(DynamicWeight::Offset(i64::MAX)), now, now, &mut rng);
        assert_eq!(c.unwrap().weight, MAX_WEIGHT);
        assert_eq!(RealServerHealth::new(7, []).health(), Health::Up);
    }

    #[test]
    fn a_new_configured_weight_keeps_health_and_reports_the_weight() {
        let mut s = RealServerHealth::new(3, [t(Health::Down)]);
        let mut rng = fastrand::Rng::with_seed(3);
        let now = Instant::now();
        assert_eq!(s.set_configured_weight(4), None, "nothing reported yet");
        let w = report(Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Offset(1)),
        }));
        let (_, c) = s.on_report(0, &w, now, now, &mut rng);
        assert_eq!(c.unwrap().weight, 5);
        let c = s.set_configured_weight(9).unwrap();
        assert_eq!(c.previous, Some((Health::Up, 5)));
        assert_eq!((c.health, c.weight, c.checker), (Health::Up, 10, None));
        assert_eq!(c.reason, ChangeReason::Reconfigured);
        assert_eq!(s.set_configured_weight(9), None);
    }
}
