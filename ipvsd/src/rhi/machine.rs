//! The announce state machine, without I/O: each address's health verdicts
//! and the time in, whether its route is announced out. Time is a
//! parameter, so the hold-downs are tested on a fake clock.
//!
//! Rules (see [`HoldDown`]): an address is announced once it has been
//! healthy without a break for `up` and at least `flap` has passed since
//! its last withdrawal; it is withdrawn once it has been unhealthy without
//! a break for `down`. An address no longer configured is withdrawn at
//! once. The flap hold is a fixed delay, not route-flap dampening's
//! growing penalty: simpler to predict, and a BGP router may dampen on its
//! side too (RFC 2439).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::route_health::HoldDown;

/// Whether an address may be announced now, and if not why (for the
/// status API and the log).
pub type Verdict = Result<(), String>;

/// A change to make to the routing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add the address's route.
    Announce(IpAddr),
    /// Remove the address's route.
    Withdraw(IpAddr),
}

/// One address's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressState {
    /// Whether its route is announced.
    pub announced: bool,
    /// Since when `announced` has its value (first seen, for an address
    /// never announced).
    pub since: Instant,
    /// Its last verdict.
    pub verdict: Verdict,
    /// Since when `verdict` has been healthy, or unhealthy, without a break.
    pub verdict_since: Instant,
    /// When it was last withdrawn.
    pub last_withdrawal: Option<Instant>,
}

impl AddressState {
    fn healthy(&self) -> bool {
        self.verdict.is_ok()
    }

    /// When its announced state should change next (now or past: due), or
    /// `None` when it is where it should be.
    fn due(&self, hold: &HoldDown) -> Option<Instant> {
        match (self.healthy(), self.announced) {
            (true, false) => {
                let up = self.verdict_since + hold.up;
                Some(match self.last_withdrawal {
                    Some(w) => up.max(w + hold.flap),
                    None => up,
                })
            }
            (false, true) => Some(self.verdict_since + hold.down),
            _ => None,
        }
    }

    /// Why it is not announced (or is about to be withdrawn); `None` when
    /// it is announced and healthy.
    pub fn why_not(&self, hold: &HoldDown, now: Instant) -> Option<String> {
        match (&self.verdict, self.announced) {
            (Ok(()), true) => None,
            (Ok(()), false) => {
                let left = self.due(hold).map_or(Duration::ZERO, |t| t - now.min(t));
                Some(format!(
                    "hold-down: healthy, announced in {:.1} s",
                    left.as_secs_f64()
                ))
            }
            (Err(why), true) => Some(format!("{why}; withdrawal after the down hold-down")),
            (Err(why), false) => Some(why.clone()),
        }
    }
}

/// Every configured address's state.
#[derive(Debug, Clone)]
pub struct Announcer {
    hold: HoldDown,
    addresses: BTreeMap<IpAddr, AddressState>,
    /// Withdrawals since start (of addresses that had been announced).
    pub withdrawals: u64,
}

impl Announcer {
    /// No address known yet.
    pub fn new(hold: HoldDown) -> Self {
        Self {
            hold,
            addresses: BTreeMap::new(),
            withdrawals: 0,
        }
    }

    /// The hold-downs in force.
    pub fn hold(&self) -> HoldDown {
        self.hold
    }

    /// New hold-downs (a reload); the addresses keep their states.
    pub fn set_hold(&mut self, hold: HoldDown) {
        self.hold = hold;
    }

    /// Takes the verdicts of every configured address at `now`: addresses
    /// absent from `verdicts` are withdrawn (if announced) and forgotten,
    /// new ones start unannounced; then applies the hold-downs. Gives the
    /// changes to make, in address order.
    pub fn update(&mut self, now: Instant, verdicts: &BTreeMap<IpAddr, Verdict>) -> Vec<Action> {
        let mut actions = Vec::new();
        let gone: Vec<IpAddr> = self
            .addresses
            .keys()
            .filter(|a| !verdicts.contains_key(a))
            .copied()
            .collect();
        for address in gone {
            if self.addresses.remove(&address).is_some_and(|s| s.announced) {
                self.withdrawals += 1;
                actions.push(Action::Withdraw(address));
            }
        }
        for (address, verdict) in verdicts {
            let state = self
                .addresses
                .entry(*address)
                .or_insert_with(|| AddressState {
                    announced: false,
                    since: now,
                    verdict: Err("not yet checked".to_owned()),
                    verdict_since: now,
                    last_withdrawal: None,
                });
            if state.verdict.is_ok() != verdict.is_ok() {
                state.verdict_since = now;
            }
            state.verdict = verdict.clone();
        }
        actions.extend(self.tick(now));
        actions.sort_by_key(|a| match a {
            Action::Announce(x) | Action::Withdraw(x) => *x,
        });
        actions
    }

    /// Applies the hold-downs at `now` (call at [`Announcer::next_deadline`]).
    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        let hold = self.hold;
        let mut actions = Vec::new();
        for (address, state) in &mut self.addresses {
            if state.due(&hold).is_some_and(|t| t <= now) {
                state.announced = !state.announced;
                state.since = now;
                if state.announced {
                    actions.push(Action::Announce(*address));
                } else {
                    state.last_withdrawal = Some(now);
                    self.withdrawals += 1;
                    actions.push(Action::Withdraw(*address));
                }
            }
        }
        actions
    }

    /// The next time a hold-down ends, if one is running.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.addresses
            .values()
            .filter_map(|s| s.due(&self.hold))
            .min()
    }

    /// The addresses announced now.
    pub fn announced(&self) -> BTreeSet<IpAddr> {
        self.addresses
            .iter()
            .filter(|(_, s)| s.announced)
            .map(|(a, _)| *a)
            .collect()
    }

    /// Every known address's state, in address order.
    pub fn states(&self) -> impl Iterator<Item = (&IpAddr, &AddressState)> {
        self.addresses.iter()
    }

    /// Withdraws everything (a clean stop); gives the withdrawals.
    pub fn withdraw_all(&mut self, now: Instant) -> Vec<Action> {
        self.update(now, &BTreeMap::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 11));

    fn hold(up: u64, down: u64, flap: u64) -> HoldDown {
        HoldDown {
            up: Duration::from_secs(up),
            down: Duration::from_secs(down),
            flap: Duration::from_secs(flap),
        }
    }

    fn v(pairs: &[(IpAddr, bool)]) -> BTreeMap<IpAddr, Verdict> {
        pairs
            .iter()
            .map(|(a, ok)| {
                (
                    *a,
                    if *ok {
                        Ok(())
                    } else {
                        Err("quorum lost".into())
                    },
                )
            })
            .collect()
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn announces_only_after_the_up_hold_down() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(3, 0, 10));
        assert_eq!(m.update(t0, &v(&[(A, true)])), vec![]);
        assert_eq!(m.next_deadline(), Some(secs(t0, 3)));
        assert_eq!(m.tick(secs(t0, 2)), vec![]);
        assert!(m.announced().is_empty());
        assert_eq!(m.tick(secs(t0, 3)), vec![Action::Announce(A)]);
        assert_eq!(m.announced(), BTreeSet::from([A]));
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn zero_up_hold_down_announces_at_once() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(0, 0, 10));
        assert_eq!(m.update(t0, &v(&[(A, true)])), vec![Action::Announce(A)]);
    }

    #[test]
    fn withdraws_at_once_by_default() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(0, 0, 10));
        m.update(t0, &v(&[(A, true), (B, true)]));
        assert_eq!(
            m.update(secs(t0, 5), &v(&[(A, false), (B, true)])),
            vec![Action::Withdraw(A)]
        );
        assert_eq!(m.announced(), BTreeSet::from([B]));
        assert_eq!(m.withdrawals, 1);
    }

    #[test]
    fn down_hold_down_rides_out_a_short_failure() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(0, 2, 10));
        m.update(t0, &v(&[(A, true)]));
        assert_eq!(m.update(secs(t0, 5), &v(&[(A, false)])), vec![]);
        assert_eq!(m.next_deadline(), Some(secs(t0, 7)));
        // Healthy again before the hold-down ends: never withdrawn.
        assert_eq!(m.update(secs(t0, 6), &v(&[(A, true)])), vec![]);
        assert_eq!(m.tick(secs(t0, 8)), vec![]);
        assert_eq!(m.announced(), BTreeSet::from([A]));
        assert_eq!(m.withdrawals, 0);
    }

    #[test]
    fn a_flap_inside_the_up_hold_down_restarts_it() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(3, 0, 0));
        m.update(t0, &v(&[(A, true)]));
        m.update(secs(t0, 2), &v(&[(A, false)]));
        m.update(secs(t0, 2) + Duration::from_millis(500), &v(&[(A, true)]));
        assert_eq!(m.tick(secs(t0, 4)), vec![]);
        assert_eq!(
            m.next_deadline(),
            Some(secs(t0, 5) + Duration::from_millis(500))
        );
        assert_eq!(m.tick(secs(t0, 6)), vec![Action::Announce(A)]);
    }

    #[test]
    fn flap_hold_keeps_a_withdrawn_route_away() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(1, 0, 10));
        m.update(t0, &v(&[(A, true)]));
        assert_eq!(m.tick(secs(t0, 1)), vec![Action::Announce(A)]);
        assert_eq!(
            m.update(secs(t0, 2), &v(&[(A, false)])),
            vec![Action::Withdraw(A)]
        );
        // Healthy again at once: the up hold-down (1 s) is over at 4 s,
        // but the flap hold runs until 12 s.
        m.update(secs(t0, 3), &v(&[(A, true)]));
        assert_eq!(m.tick(secs(t0, 5)), vec![]);
        assert_eq!(m.next_deadline(), Some(secs(t0, 12)));
        let why = m
            .states()
            .next()
            .and_then(|(_, s)| s.why_not(&m.hold(), secs(t0, 5)));
        assert_eq!(
            why.as_deref(),
            Some("hold-down: healthy, announced in 7.0 s")
        );
        assert_eq!(m.tick(secs(t0, 12)), vec![Action::Announce(A)]);
    }

    #[test]
    fn reload_keeps_the_state_of_addresses_still_configured() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(0, 0, 10));
        m.update(t0, &v(&[(A, true), (B, true)]));
        // B is no longer configured; new hold-downs; A stays announced.
        m.set_hold(hold(30, 5, 60));
        assert_eq!(
            m.update(secs(t0, 1), &v(&[(A, true)])),
            vec![Action::Withdraw(B)]
        );
        assert_eq!(m.announced(), BTreeSet::from([A]));
        assert_eq!(m.next_deadline(), None);
        let since = m.states().next().map(|(_, s)| s.since);
        assert_eq!(since, Some(t0));
    }

    #[test]
    fn unhealthy_address_says_why() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(3, 0, 10));
        m.update(t0, &v(&[(A, false)]));
        let why = m
            .states()
            .next()
            .and_then(|(_, s)| s.why_not(&m.hold(), t0));
        assert_eq!(why.as_deref(), Some("quorum lost"));
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn withdraw_all_on_stop() {
        let t0 = Instant::now();
        let mut m = Announcer::new(hold(0, 0, 10));
        m.update(t0, &v(&[(A, true), (B, false)]));
        assert_eq!(m.withdraw_all(secs(t0, 1)), vec![Action::Withdraw(A)]);
        assert!(m.announced().is_empty());
    }
}
