//! The plan that turns the table as read from the kernel into a desired
//! state: which services and real servers to add, change, drain or delete,
//! and in which order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use crate::batch::Change;
use crate::desired::DesiredState;
use crate::destination::Destination;
use crate::key::{ServiceKey, fmt_socket};
use crate::service::Service;
use crate::stats::ServiceInfo;

/// What to do with a real server that the desired state no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Removal {
    /// Delete it at once (its connections are cut over to nothing).
    #[default]
    Delete,
    /// Drain it: set its weight to 0 so it takes no new connections, and
    /// delete it on a later apply once it has no connections left.
    Drain,
}

/// Options of [`diff`].
///
/// Build it with [`DiffOptions::default`] and [`DiffOptions::with_removal`]
/// (it may gain fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// What to do with real servers to remove.
    pub removal: Removal,
}

impl DiffOptions {
    /// Sets what to do with real servers to remove.
    #[must_use]
    pub fn with_removal(mut self, removal: Removal) -> Self {
        self.removal = removal;
        self
    }
}

/// One step of a plan (more kinds of step may come).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Add a service.
    AddService(Service),
    /// Change a service's configuration.
    EditService {
        /// What it is.
        from: Service,
        /// What it becomes.
        to: Service,
    },
    /// Add a real server.
    AddDestination {
        /// Its service.
        service: ServiceKey,
        /// The real server.
        destination: Destination,
    },
    /// Change a real server's configuration.
    EditDestination {
        /// Its service.
        service: ServiceKey,
        /// What it is.
        from: Destination,
        /// What it becomes.
        to: Destination,
    },
    /// Set a real server's weight to 0, before deleting it later.
    DrainDestination {
        /// Its service.
        service: ServiceKey,
        /// The real server as it will be (weight 0).
        destination: Destination,
    },
    /// Delete a real server.
    DeleteDestination {
        /// Its service.
        service: ServiceKey,
        /// Its address.
        address: IpAddr,
        /// Its port.
        port: u16,
    },
    /// Delete a service and its real servers.
    DeleteService(ServiceKey),
}

impl Step {
    /// The change that carries out this step.
    pub fn change(&self) -> Change {
        match self {
            Self::AddService(s) => Change::AddService(s.clone()),
            Self::EditService { to, .. } => Change::EditService(to.clone()),
            Self::AddDestination {
                service,
                destination,
            } => Change::AddDestination(*service, destination.clone()),
            Self::EditDestination { service, to, .. } => {
                Change::EditDestination(*service, to.clone())
            }
            Self::DrainDestination {
                service,
                destination,
            } => Change::EditDestination(*service, destination.clone()),
            Self::DeleteDestination {
                service,
                address,
                port,
            } => Change::DeleteDestination {
                service: *service,
                address: *address,
                port: *port,
            },
            Self::DeleteService(k) => Change::DeleteService(*k),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EditService { from, to } => write!(f, "edit service {}: {from} -> {to}", to.key),
            Self::EditDestination { service, from, to } => {
                write!(f, "edit real server of {service}: {from} -> {to}")
            }
            Self::DrainDestination {
                service,
                destination,
            } => {
                f.write_str("drain real server ")?;
                fmt_socket(f, &destination.address, destination.port)?;
                write!(f, " of {service} (weight 0)")
            }
            // Adds and deletes read as the changes that carry them out.
            Self::AddService(_)
            | Self::AddDestination { .. }
            | Self::DeleteDestination { .. }
            | Self::DeleteService(_) => write!(f, "{}", self.change()),
        }
    }
}

/// The ordered steps that turn one table into another: add services (and
/// edit changed ones), add and edit real servers, drain or delete real
/// servers, delete services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Plan {
    /// The steps, in the order to carry them out.
    pub steps: Vec<Step>,
}

impl Plan {
    /// A plan of these steps, in order.
    #[must_use]
    pub fn new(steps: Vec<Step>) -> Self {
        Self { steps }
    }

    /// Whether nothing needs to change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

/// The plan from `current` (as read from the kernel) to `desired`.
///
/// Only what differs is changed. The kernel's own bits (such as `HASHED`)
/// and the family defaults (the persistence netmask) do not count as
/// differences, and the order of services and real servers does not matter.
pub fn diff(current: &[ServiceInfo], desired: &DesiredState, options: &DiffOptions) -> Plan {
    let mut adds = Vec::new();
    let mut dest_changes = Vec::new();
    let mut removals = Vec::new();
    let mut deletes = Vec::new();
    let now: HashMap<ServiceKey, &ServiceInfo> =
        current.iter().map(|s| (s.service.key, s)).collect();
    let wanted: HashSet<ServiceKey> = desired.services.iter().map(|s| s.service.key).collect();

    for spec in &desired.services {
        let key = spec.service.key;
        let want = spec.service.normalized();
        let existing = now.get(&key);
        match existing {
            None => adds.push(Step::AddService(spec.service.clone())),
            Some(info) if info.service.normalized() != want => {
                adds.push(Step::EditService {
                    from: info.service.clone(),
                    to: spec.service.clone(),
                });
            }
            Some(_) => {}
        }
        let have: BTreeMap<(IpAddr, u16), &crate::stats::DestinationInfo> = existing
            .map(|info| {
                info.destinations
                    .iter()
                    .map(|d| ((d.destination.address, d.destination.port), d))
                    .collect()
            })
            .unwrap_or_default();
        let mut keep = HashSet::new();
        for dest in &spec.destinations {
            keep.insert((dest.address, dest.port));
            match have.get(&(dest.address, dest.port)) {
                None => dest_changes.push(Step::AddDestination {
                    service: key,
                    destination: dest.clone(),
                }),
                Some(d) if d.destination.normalized() != dest.normalized() => {
                    dest_changes.push(Step::EditDestination {
                        service: key,
                        from: d.destination.clone(),
                        to: dest.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        for (addr_port, d) in &have {
            if keep.contains(addr_port) {
                continue;
            }
            let (address, port) = *addr_port;
            let idle = d.active_connections == 0
                && d.inactive_connections == 0
                && d.persistent_connections == Some(0);
            match options.removal {
                Removal::Drain if d.destination.weight != 0 => {
                    let mut drained = d.destination.clone();
                    drained.weight = 0;
                    removals.push(Step::DrainDestination {
                        service: key,
                        destination: drained,
                    });
                }
                Removal::Drain if !idle => {} // still draining: leave it for a later apply
                _ => removals.push(Step::DeleteDestination {
                    service: key,
                    address,
                    port,
                }),
            }
        }
    }
    for info in current {
        if !wanted.contains(&info.service.key) {
            deletes.push(Step::DeleteService(info.service.key));
        }
    }
    let mut steps = adds;
    steps.extend(dest_changes);
    steps.extend(removals);
    steps.extend(deletes);
    Plan { steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::ServiceSpec;
    use crate::destination::ForwardMethod;
    use crate::service::{Netmask, Persistence};
    use crate::stats::DestinationInfo;
    use std::net::Ipv4Addr;

    fn info(service: Service, dests: Vec<(Destination, u32)>) -> ServiceInfo {
        ServiceInfo::new(service).with_destinations(
            dests
                .into_iter()
                .map(|(destination, active)| {
                    DestinationInfo::new(destination).with_connections(active, 0)
                })
                .collect(),
        )
    }

    fn svc(port: u16) -> Service {
        Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), port))
    }

    fn rs(host: u8) -> Destination {
        Destination::new(Ipv4Addr::new(192, 0, 2, host), 80, ForwardMethod::Route)
    }

    fn state(specs: Vec<(Service, Vec<Destination>)>) -> DesiredState {
        DesiredState {
            services: specs
                .into_iter()
                .map(|(service, destinations)| ServiceSpec {
                    service,
                    destinations,
                })
                .collect(),
        }
    }

    #[test]
    fn equal_tables_need_no_change_whatever_the_order_and_defaults() {
        let mut persistent = svc(443);
        persistent.persistence = Some(Persistence::new(300));
        let mut explicit = persistent.clone();
        explicit.persistence = Some(Persistence {
            timeout: 300,
            netmask: Some(Netmask::Ipv4(Ipv4Addr::BROADCAST)),
        });
        let current = vec![
            info(svc(80), vec![(rs(1), 0), (rs(2), 0)]),
            info(persistent, vec![]),
        ];
        let desired = state(vec![(explicit, vec![]), (svc(80), vec![rs(2), rs(1)])]);
        assert!(diff(&current, &desired, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn plan_is_ordered_adds_changes_removals_deletes() {
        let current = vec![
            info(svc(80), vec![(rs(1), 0), (rs(2), 0)]),
            info(svc(81), vec![]),
        ];
        let desired = state(vec![
            (
                svc(80).with_scheduler(crate::Scheduler::RoundRobin),
                vec![rs(1).with_weight(5), rs(3)],
            ),
            (svc(82), vec![rs(4)]),
        ]);
        let plan = diff(&current, &desired, &DiffOptions::default());
        let kinds: Vec<String> = plan.steps.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "edit service tcp 10.0.0.1:80: tcp 10.0.0.1:80 wlc -> tcp 10.0.0.1:80 rr",
                "add service tcp 10.0.0.1:82 wlc",
                "edit real server of tcp 10.0.0.1:80: 192.0.2.1:80 route weight 1 -> 192.0.2.1:80 route weight 5",
                "add real server 192.0.2.3:80 route weight 1 to tcp 10.0.0.1:80",
                "add real server 192.0.2.4:80 route weight 1 to tcp 10.0.0.1:82",
                "delete real server 192.0.2.2:80 of tcp 10.0.0.1:80",
                "delete service tcp 10.0.0.1:81",
            ]
        );
    }

    #[test]
    fn drain_sets_weight_zero_then_deletes_once_idle() {
        let desired = state(vec![(svc(80), vec![rs(1)])]);
        let opts = DiffOptions {
            removal: Removal::Drain,
        };
        let busy = vec![info(svc(80), vec![(rs(1), 0), (rs(2), 7)])];
        let plan = diff(&busy, &desired, &opts);
        assert_eq!(
            plan.steps,
            vec![Step::DrainDestination {
                service: svc(80).key,
                destination: rs(2).with_weight(0)
            }]
        );
        let draining = vec![info(svc(80), vec![(rs(1), 0), (rs(2).with_weight(0), 7)])];
        assert!(diff(&draining, &desired, &opts).is_empty());
        let idle = vec![info(svc(80), vec![(rs(1), 0), (rs(2).with_weight(0), 0)])];
        assert_eq!(
            diff(&idle, &desired, &opts).steps,
            vec![Step::DeleteDestination {
                service: svc(80).key,
                address: rs(2).address,
                port: 80
            }]
        );
    }
}
