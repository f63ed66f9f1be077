//! Route health injection: ipvsd announces a virtual address while its
//! service is healthy and withdraws it otherwise, by writing a host route
//! into a dedicated kernel routing table that BIRD 2's `kernel` protocol
//! learns and exports over BGP (`ipvsd/conf/bird-director.conf`). ipvsd
//! speaks no BGP itself.
//!
//! - [`machine`]: the announce state machine (hold-downs), no I/O;
//! - [`route`]: the routes in the kernel, through rtnetlink;
//! - [`RouteHealthSide`]: the daemon's edge between the two.
//!
//! The rule: an address is healthy while the director is (its last
//! reconcile with the kernel succeeded) and **every** configured virtual
//! server on that address has quorum (ipvsd's quorum, keepalived's rule).

pub mod machine;
pub mod route;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::config::Model;
use crate::config::route_health::{RouteHealth, sources};
use machine::{Action, Announcer, Verdict};
use route::{RouteError, Routes};

/// Each announced address's verdict: healthy when `director_ok` and every
/// virtual server it follows has quorum in `quorum`.
pub fn verdicts(
    config: &RouteHealth,
    model: &Model,
    quorum: &HashMap<String, bool>,
    director_ok: bool,
) -> BTreeMap<IpAddr, Verdict> {
    sources(config, &model.virtual_servers)
        .into_iter()
        .map(|(address, names)| {
            let verdict = if !director_ok {
                Err("director unhealthy: its last reconcile with the kernel failed".to_owned())
            } else {
                match names.iter().find(|n| quorum.get(*n) != Some(&true)) {
                    Some(name) => Err(format!("virtual server {name} has no quorum")),
                    None => Ok(()),
                }
            };
            (address, verdict)
        })
        .collect()
}

/// One address in the status API (`announcements`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnouncementStatus {
    /// The virtual address.
    pub address: IpAddr,
    /// Whether its route is announced.
    pub announced: bool,
    /// Since when `announced` has its value, Unix seconds.
    pub since: u64,
    /// Why it is not announced (or is being withdrawn); `None` when
    /// announced and healthy.
    pub why_not: Option<String>,
}

/// The daemon's route health edge: the machine and the kernel table.
#[derive(Debug)]
pub struct RouteHealthSide {
    routes: Routes,
    machine: Announcer,
}

impl RouteHealthSide {
    /// Starts with nothing announced: stale routes of our protocol number
    /// in the table (left by a crash) are removed first.
    ///
    /// # Errors
    /// [`RouteError`] when the table cannot be read or written (no
    /// `CAP_NET_ADMIN`, say): the daemon does not start.
    pub async fn start(config: &RouteHealth) -> Result<Self, RouteError> {
        let routes = Routes {
            table: config.table,
            protocol: config.protocol,
        };
        let (_, stale) = routes.sync(&Default::default()).await?;
        for address in stale {
            tracing::info!(
                "route health: stale route of {address} removed from table {}",
                routes.table
            );
        }
        Ok(Self {
            routes,
            machine: Announcer::new(config.hold_down),
        })
    }

    /// A reload: new hold-downs; a new table or protocol number moves the
    /// announced routes (removed from the old, added to the new at the
    /// next [`RouteHealthSide::update`]).
    pub async fn reconfigure(&mut self, config: &RouteHealth) {
        self.machine.set_hold(config.hold_down);
        let routes = Routes {
            table: config.table,
            protocol: config.protocol,
        };
        if routes != self.routes {
            if let Err(e) = self.routes.sync(&Default::default()).await {
                tracing::error!("{e}");
            }
            self.routes = routes;
        }
    }

    /// Takes the verdicts at `now`, applies the hold-downs and makes the
    /// table follow; `repair` syncs the table even when nothing changed
    /// (the reconcile cycle, so a route removed by hand comes back).
    pub async fn update(
        &mut self,
        now: Instant,
        verdicts: Option<&BTreeMap<IpAddr, Verdict>>,
        repair: bool,
    ) {
        let actions = match verdicts {
            Some(v) => self.machine.update(now, v),
            None => self.machine.tick(now),
        };
        for a in &actions {
            match a {
                Action::Announce(x) => tracing::info!("route health: announcing {x}"),
                Action::Withdraw(x) => tracing::info!("route health: withdrawing {x}"),
            }
        }
        if !actions.is_empty() || repair {
            self.sync().await;
        }
    }

    async fn sync(&mut self) {
        match self.routes.sync(&self.machine.announced()).await {
            Ok((added, removed)) => {
                for x in added {
                    tracing::debug!("route health: route of {x} added");
                }
                for x in removed {
                    tracing::debug!("route health: route of {x} removed");
                }
            }
            Err(e) => tracing::error!("{e}"),
        }
    }

    /// When the next hold-down ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.machine.next_deadline()
    }

    /// Withdraws every route (a clean stop).
    pub async fn stop(&mut self) {
        for a in self.machine.withdraw_all(Instant::now()) {
            if let Action::Withdraw(x) = a {
                tracing::info!("route health: withdrawing {x} (stopping)");
            }
        }
        self.sync().await;
    }

    /// Withdrawals since start.
    pub fn withdrawals(&self) -> u64 {
        self.machine.withdrawals
    }

    /// Every address's status at `now`.
    pub fn statuses(&self, now: Instant) -> Vec<AnnouncementStatus> {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let hold = self.machine.hold();
        self.machine
            .states()
            .map(|(address, s)| AnnouncementStatus {
                address: *address,
                announced: s.announced,
                since: wall.saturating_sub(now.saturating_duration_since(s.since).as_secs()),
                why_not: s.why_not(&hold, now),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::read_native_str;

    /// The shipped example: two services on 192.0.2.10, and a mark
    /// standing for 192.0.2.20.
    const CONF: &str = include_str!("../../conf/route-health.toml");

    fn model() -> Model {
        read_native_str(CONF, Path::new("t.toml"))
            .map(|l| l.model)
            .expect("reads")
    }

    #[test]
    fn every_virtual_server_on_the_address_needs_quorum() {
        let m = model();
        let config = m.route_health.clone().expect("route_health");
        // The two services of 192.0.2.10 (the mark's is third).
        let names: Vec<String> = m.virtual_servers.iter().map(|v| v.name()).collect();
        let mut quorum: HashMap<String, bool> = names.iter().map(|n| (n.clone(), true)).collect();
        let a: IpAddr = "192.0.2.10".parse().expect("address");
        assert_eq!(verdicts(&config, &m, &quorum, true).get(&a), Some(&Ok(())));
        quorum.insert(names[1].clone(), false);
        assert_eq!(
            verdicts(&config, &m, &quorum, true).get(&a),
            Some(&Err(format!("virtual server {} has no quorum", names[1])))
        );
    }

    #[test]
    fn a_failing_reconcile_withdraws_everything() {
        let m = model();
        let config = m.route_health.clone().expect("route_health");
        let quorum: HashMap<String, bool> =
            m.virtual_servers.iter().map(|v| (v.name(), true)).collect();
        let v = verdicts(&config, &m, &quorum, false);
        assert_eq!(v.len(), 2);
        assert!(v.values().all(|v| {
            v.as_ref()
                .is_err_and(|e| e.starts_with("director unhealthy"))
        }));
    }
}
