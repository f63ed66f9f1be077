//! The plan that turns the table as read from the kernel into a desired
//! state: which services and real servers to add, change, drain or delete,
//! and in which order.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::batch::Change;
use crate::desired::DesiredState;
use crate::desired::order::{canonical_order, kept_tail, order_matters};
use crate::destination::Destination;
use crate::key::{AddressFamily, Protocol, ServiceKey, fmt_socket};
use crate::service::Service;
use crate::stats::{DestinationInfo, ServiceInfo};

/// What to do with a real server (or a whole service) that is to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Removal {
    /// Delete it at once (its connections are cut over to nothing).
    #[default]
    Delete,
    /// Drain it: set its weight (a service: the weights of all its real
    /// servers) to 0 so it takes no new connections, and delete it on a
    /// later apply once it has no connections left.
    Drain,
}

/// Which services of the kernel's table a plan may touch. Whatever the
/// scope, the services the desired state lists are made as listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Scope {
    /// Only the listed services: every other one is left alone (made by a
    /// person, by keepalived, by another program). The default: a file
    /// never deletes what it does not name.
    #[default]
    Listed,
    /// The listed services and these others, which are removed when the
    /// desired state no longer lists them: the services the caller manages,
    /// such as those of a daemon's previous configuration.
    Managed(BTreeSet<ServiceKey>),
    /// The whole table: every service not listed is removed (`--prune`).
    Whole,
}

impl Scope {
    /// Whether a service the desired state does not list is to be removed.
    fn removes(&self, key: &ServiceKey) -> bool {
        match self {
            Self::Listed => false,
            Self::Managed(keys) => keys.contains(key),
            Self::Whole => true,
        }
    }
}

/// Options of [`diff`].
///
/// Build it with [`DiffOptions::default`] and its `with_*` methods (it may
/// gain fields).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// What to do with real servers and services to remove.
    pub removal: Removal,
    /// Which services may be touched.
    pub scope: Scope,
    /// Leave the weight of a real server that exists already as the kernel
    /// has it (a health checker's, say): weights are set only when a real
    /// server is added (and to 0 when it is drained).
    pub keep_weights: bool,
    /// Keep the real servers of services whose scheduler depends on list
    /// order ([`order_matters`]: `mh`, `sh`, `dh`) in the
    /// [`canonical_order`], so that directors with the same configuration
    /// build the same lookup table whatever their history. Adds go in the
    /// reverse canonical order (the kernel adds at the head of the list), and
    /// where the kernel's list is out of order, the real servers before the
    /// longest tail already in order are deleted and added again
    /// ([`Step::ReorderDelete`], [`Step::ReorderAdd`]).
    pub canonical_order: bool,
}

impl DiffOptions {
    /// Sets what to do with real servers and services to remove.
    #[must_use]
    pub fn with_removal(mut self, removal: Removal) -> Self {
        self.removal = removal;
        self
    }

    /// Sets which services may be touched.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Keeps the weights of existing real servers as the kernel has them.
    #[must_use]
    pub fn with_keep_weights(mut self, keep_weights: bool) -> Self {
        self.keep_weights = keep_weights;
        self
    }

    /// Keeps the real servers of `mh`, `sh` and `dh` services in the
    /// canonical order (see [`DiffOptions::canonical_order`]).
    #[must_use]
    pub fn with_canonical_order(mut self, canonical_order: bool) -> Self {
        self.canonical_order = canonical_order;
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
    /// Delete a real server that stays, to add it again at the head of the
    /// list ([`Step::ReorderAdd`]): its service's list is out of the
    /// canonical order ([`DiffOptions::canonical_order`]).
    ReorderDelete {
        /// Its service.
        service: ServiceKey,
        /// Its address.
        address: IpAddr,
        /// Its port.
        port: u16,
    },
    /// Add again a real server deleted by [`Step::ReorderDelete`], as it
    /// should be.
    ReorderAdd {
        /// Its service.
        service: ServiceKey,
        /// The real server.
        destination: Destination,
    },
}

impl Step {
    /// The service this step adds, changes or deletes, or whose real
    /// server it changes.
    pub fn service(&self) -> ServiceKey {
        match self {
            Self::AddService(s) => s.key,
            Self::EditService { to, .. } => to.key,
            Self::AddDestination { service, .. }
            | Self::EditDestination { service, .. }
            | Self::DrainDestination { service, .. }
            | Self::DeleteDestination { service, .. }
            | Self::ReorderDelete { service, .. }
            | Self::ReorderAdd { service, .. } => *service,
            Self::DeleteService(k) => *k,
        }
    }

    /// The change that carries out this step.
    pub fn change(&self) -> Change {
        match self {
            Self::AddService(s) => Change::AddService(s.clone()),
            Self::EditService { to, .. } => Change::EditService(to.clone()),
            Self::AddDestination {
                service,
                destination,
            }
            | Self::ReorderAdd {
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
            }
            | Self::ReorderDelete {
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
            Self::EditService { from, to } => {
                write!(f, "edit service {}: ", to.key)?;
                f.write_str(&service_changes(from, to).join(", "))
            }
            Self::EditDestination { service, from, to } => {
                f.write_str("edit real server ")?;
                fmt_socket(f, &to.address, to.port)?;
                write!(f, " of {service}: ")?;
                f.write_str(&destination_changes(from, to).join(", "))
            }
            Self::DrainDestination {
                service,
                destination,
            } => {
                f.write_str("drain real server ")?;
                fmt_socket(f, &destination.address, destination.port)?;
                write!(f, " of {service} (weight 0)")
            }
            Self::ReorderDelete { .. } | Self::ReorderAdd { .. } => {
                write!(f, "{} (to reorder)", self.change())
            }
            // Adds and deletes read as the changes that carry them out.
            Self::AddService(_)
            | Self::AddDestination { .. }
            | Self::DeleteDestination { .. }
            | Self::DeleteService(_) => write!(f, "{}", self.change()),
        }
    }
}

/// `name old -> new` for each field of a service that differs.
fn service_changes(from: &Service, to: &Service) -> Vec<String> {
    let (from, to) = (from.normalized(), to.normalized());
    let mut changes = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{name} {a} -> {b}"));
        }
    };
    field(
        "scheduler",
        from.scheduler.to_string(),
        to.scheduler.to_string(),
    );
    let flags = |s: &Service| match s.sched_flags.names(&s.scheduler) {
        names if names.is_empty() => "none".to_owned(),
        names => names.join(","),
    };
    field("scheduler flags", flags(&from), flags(&to));
    let timeout = |s: &Service| {
        s.persistence
            .map_or("none".to_owned(), |p| format!("{} s", p.timeout))
    };
    field("persistence", timeout(&from), timeout(&to));
    let mask = |s: &Service| {
        s.persistence
            .and_then(|p| p.netmask)
            .map_or("none".to_owned(), |m| m.to_string())
    };
    field("netmask", mask(&from), mask(&to));
    let pe = |s: &Service| {
        s.persistence_engine
            .clone()
            .unwrap_or_else(|| "none".to_owned())
    };
    field("persistence engine", pe(&from), pe(&to));
    field(
        "one-packet",
        from.one_packet.to_string(),
        to.one_packet.to_string(),
    );
    changes
}

/// `name old -> new` for each field of a real server that differs.
fn destination_changes(from: &Destination, to: &Destination) -> Vec<String> {
    let (from, to) = (from.normalized(), to.normalized());
    let mut changes = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{name} {a} -> {b}"));
        }
    };
    field("forward", from.forward.to_string(), to.forward.to_string());
    let tunnel = |d: &Destination| match d.tunnel {
        None => "none".to_owned(),
        Some(t) => format!("{:?}/{}/{:?}", t.kind, t.port, t.checksum).to_lowercase(),
    };
    field("tunnel", tunnel(&from), tunnel(&to));
    field("weight", from.weight.to_string(), to.weight.to_string());
    field(
        "upper threshold",
        from.upper_threshold.to_string(),
        to.upper_threshold.to_string(),
    );
    field(
        "lower threshold",
        from.lower_threshold.to_string(),
        to.lower_threshold.to_string(),
    );
    changes
}

/// Something drained that still has connections: it is deleted by a later
/// plan, once they end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Draining {
    /// The service.
    pub service: ServiceKey,
    /// The real server (address, port), or `None` for the whole service.
    pub real_server: Option<(IpAddr, u16)>,
    /// Its connections (active, inactive and persistence templates) when
    /// the table was read.
    pub connections: u64,
}

impl fmt::Display for Draining {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.real_server {
            Some((address, port)) => {
                f.write_str("real server ")?;
                fmt_socket(f, &address, port)?;
                write!(f, " of {}", self.service)?;
            }
            None => write!(f, "service {}", self.service)?,
        }
        let n = self.connections;
        write!(
            f,
            " is draining: {n} connection{} left",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// A service's identity in the plan document: `family` with `protocol`,
/// `address`, `port`, or with `fwmark` (the fields of a service object).
#[derive(Serialize)]
struct KeyJson {
    family: AddressFamily,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<Protocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fwmark: Option<u32>,
}

impl From<ServiceKey> for KeyJson {
    fn from(key: ServiceKey) -> Self {
        let mut json = Self {
            family: key.family(),
            protocol: None,
            address: None,
            port: None,
            fwmark: None,
        };
        match key {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => {
                json.protocol = Some(protocol);
                json.address = Some(address);
                json.port = Some(port);
            }
            ServiceKey::Fwmark { mark, .. } => json.fwmark = Some(mark),
        }
        json
    }
}

/// Why a real server is deleted or added when it is neither new nor gone.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Reason {
    /// To put its service's list in the canonical order.
    Reorder,
}

/// A step in the plan document: `action` and what it acts on.
#[derive(Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum StepJson<'a> {
    AddService {
        service: &'a Service,
    },
    EditService {
        from: &'a Service,
        to: &'a Service,
        changes: Vec<String>,
    },
    AddRealServer {
        service: KeyJson,
        real_server: &'a Destination,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    EditRealServer {
        service: KeyJson,
        from: &'a Destination,
        to: &'a Destination,
        changes: Vec<String>,
    },
    DrainRealServer {
        service: KeyJson,
        real_server: &'a Destination,
    },
    DeleteRealServer {
        service: KeyJson,
        real_server: EndpointJson,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    DeleteService {
        service: KeyJson,
    },
}

impl<'a> From<&'a Step> for StepJson<'a> {
    fn from(step: &'a Step) -> Self {
        let reason = matches!(step, Step::ReorderDelete { .. } | Step::ReorderAdd { .. })
            .then_some(Reason::Reorder);
        match step {
            Step::AddService(service) => Self::AddService { service },
            Step::EditService { from, to } => Self::EditService {
                from,
                to,
                changes: service_changes(from, to),
            },
            Step::AddDestination {
                service,
                destination,
            }
            | Step::ReorderAdd {
                service,
                destination,
            } => Self::AddRealServer {
                service: (*service).into(),
                real_server: destination,
                reason,
            },
            Step::EditDestination { service, from, to } => Self::EditRealServer {
                service: (*service).into(),
                from,
                to,
                changes: destination_changes(from, to),
            },
            Step::DrainDestination {
                service,
                destination,
            } => Self::DrainRealServer {
                service: (*service).into(),
                real_server: destination,
            },
            Step::DeleteDestination {
                service,
                address,
                port,
            }
            | Step::ReorderDelete {
                service,
                address,
                port,
            } => Self::DeleteRealServer {
                service: (*service).into(),
                real_server: EndpointJson {
                    address: *address,
                    port: *port,
                },
                reason,
            },
            Step::DeleteService(key) => Self::DeleteService {
                service: (*key).into(),
            },
        }
    }
}

/// A real server's address and port, as connection endpoints are written.
#[derive(Serialize)]
struct EndpointJson {
    address: IpAddr,
    port: u16,
}

/// Something draining in the plan document.
#[derive(Serialize)]
struct DrainingJson {
    service: KeyJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    real_server: Option<EndpointJson>,
    connections: u64,
}

/// The plan document: `{"steps": [STEP...], "draining": [...]}`, each step
/// with its `action` (`add_service`, `edit_service`, `add_real_server`,
/// `edit_real_server`, `drain_real_server`, `delete_real_server`,
/// `delete_service`); edits carry `from`, `to` and their `changes` as text;
/// the steps of a reorder ([`Step::ReorderDelete`], [`Step::ReorderAdd`]) are
/// `delete_real_server` and `add_real_server` with `"reason": "reorder"`.
/// Wrap it with [`json_document`](crate::json_document) for the schema version.
impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct PlanJson<'a> {
            steps: Vec<StepJson<'a>>,
            draining: Vec<DrainingJson>,
        }
        PlanJson {
            steps: self.steps.iter().map(StepJson::from).collect(),
            draining: self
                .draining
                .iter()
                .map(|d| DrainingJson {
                    service: d.service.into(),
                    real_server: d
                        .real_server
                        .map(|(address, port)| EndpointJson { address, port }),
                    connections: d.connections,
                })
                .collect(),
        }
        .serialize(serializer)
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
    /// What was drained and still has connections ([`Removal::Drain`]):
    /// no step now, a delete once they end.
    pub draining: Vec<Draining>,
}

impl Plan {
    /// A plan of these steps, in order.
    #[must_use]
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            steps,
            draining: Vec::new(),
        }
    }

    /// Whether nothing needs to change now (something may be draining).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        for d in &self.draining {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The plan from `current` (as read from the kernel) to `desired`.
///
/// Only what differs is changed, and only within `options.scope`: services
/// the desired state does not list are removed only if the scope says so.
/// The kernel's own bits (such as `HASHED`) and the family defaults (the
/// persistence netmask) do not count as differences, and the order of
/// services and real servers does not matter, unless
/// [`DiffOptions::canonical_order`] asks for the real servers of `mh`, `sh`
/// and `dh` services in order (the kernel's list order is `current`'s). It
/// does not validate
/// `desired` ([`DesiredState::validate`] does; [`Ipvs::plan`](crate::Ipvs::plan)
/// calls it).
pub fn diff(current: &[ServiceInfo], desired: &DesiredState, options: &DiffOptions) -> Plan {
    let mut adds = Vec::new();
    let mut dest_changes = Vec::new();
    let mut removals = Vec::new();
    let mut deletes = Vec::new();
    let mut draining = Vec::new();
    let now: FxHashMap<ServiceKey, &ServiceInfo> =
        current.iter().map(|s| (s.service.key, s)).collect();
    let wanted: FxHashSet<ServiceKey> = desired.services.iter().map(|s| s.service.key).collect();

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
        let have: BTreeMap<(IpAddr, u16), &DestinationInfo> = existing
            .map(|info| {
                info.destinations
                    .iter()
                    .map(|d| ((d.destination.address, d.destination.port), d))
                    .collect()
            })
            .unwrap_or_default();
        let keep: FxHashSet<(IpAddr, u16)> = spec
            .destinations
            .iter()
            .map(|d| (d.address, d.port))
            .collect();
        if options.canonical_order && order_matters(&spec.service.scheduler) {
            let listed = existing.map_or(&[][..], |info| &info.destinations[..]);
            in_canonical_order(
                key,
                &spec.destinations,
                listed,
                &have,
                options.keep_weights,
                &mut dest_changes,
            );
        } else {
            for dest in &spec.destinations {
                let now = have.get(&(dest.address, dest.port)).copied();
                dest_changes.extend(change_of(key, dest, now, options.keep_weights));
            }
        }
        for (addr_port, d) in &have {
            if !keep.contains(addr_port) {
                remove_destination(key, d, options.removal, &mut removals, &mut draining);
            }
        }
    }
    for info in current {
        let key = info.service.key;
        if wanted.contains(&key) || !options.scope.removes(&key) {
            continue;
        }
        match options.removal {
            Removal::Delete => deletes.push(Step::DeleteService(key)),
            Removal::Drain => {
                // Its real servers drain first; the service goes once the
                // last of them is idle.
                let mut busy = 0;
                for d in &info.destinations {
                    if d.destination.weight != 0 {
                        let mut drained = d.destination.clone();
                        drained.weight = 0;
                        removals.push(Step::DrainDestination {
                            service: key,
                            destination: drained,
                        });
                    }
                    busy += connections(d);
                }
                let drained_now = info.destinations.iter().any(|d| d.destination.weight != 0);
                if busy == 0 && !drained_now {
                    deletes.push(Step::DeleteService(key));
                } else {
                    draining.push(Draining {
                        service: key,
                        real_server: None,
                        connections: busy,
                    });
                }
            }
        }
    }
    let mut steps = adds;
    steps.extend(dest_changes);
    steps.extend(removals);
    steps.extend(deletes);
    Plan { steps, draining }
}

/// The step that makes real server `dest` of `service` as wanted, if one is
/// needed: add it if the kernel does not have it (`now`), else edit it if
/// it differs.
fn change_of(
    service: ServiceKey,
    dest: &Destination,
    now: Option<&DestinationInfo>,
    keep_weights: bool,
) -> Option<Step> {
    let Some(d) = now else {
        return Some(Step::AddDestination {
            service,
            destination: dest.clone(),
        });
    };
    let to = as_wanted(dest, d, keep_weights);
    (d.destination.normalized() != to.normalized()).then(|| Step::EditDestination {
        service,
        from: d.destination.clone(),
        to,
    })
}

/// Real server `dest` as it should be, given how the kernel has it (`now`):
/// with the kernel's weight if weights are kept.
fn as_wanted(dest: &Destination, now: &DestinationInfo, keep_weights: bool) -> Destination {
    let mut to = dest.clone();
    if keep_weights {
        to.weight = now.destination.weight;
    }
    to
}

/// The steps that make the real servers of `service` as `wanted`, with its
/// list in the canonical order once the plan is carried out: the real
/// servers of `listed` (the kernel's list, head first) before the longest
/// tail already in order are deleted ([`Step::ReorderDelete`]), the tail is
/// edited where it differs, and the rest are added last first, since each
/// add goes to the head ([`Step::AddDestination`] for new ones,
/// [`Step::ReorderAdd`] for those deleted).
fn in_canonical_order(
    service: ServiceKey,
    wanted: &[Destination],
    listed: &[DestinationInfo],
    have: &BTreeMap<(IpAddr, u16), &DestinationInfo>,
    keep_weights: bool,
    steps: &mut Vec<Step>,
) {
    let mut canonical = wanted.to_vec();
    canonical_order(&mut canonical);
    let current: Vec<(IpAddr, u16)> = listed
        .iter()
        .map(|d| (d.destination.address, d.destination.port))
        .collect();
    let kept = kept_tail(&current, &canonical);
    let (rebuilt, tail) = canonical.split_at(canonical.len() - kept);
    for dest in rebuilt {
        if have.contains_key(&(dest.address, dest.port)) {
            steps.push(Step::ReorderDelete {
                service,
                address: dest.address,
                port: dest.port,
            });
        }
    }
    for dest in tail {
        let now = have.get(&(dest.address, dest.port)).copied();
        steps.extend(change_of(service, dest, now, keep_weights));
    }
    for dest in rebuilt.iter().rev() {
        steps.push(match have.get(&(dest.address, dest.port)) {
            None => Step::AddDestination {
                service,
                destination: dest.clone(),
            },
            Some(now) => Step::ReorderAdd {
                service,
                destination: as_wanted(dest, now, keep_weights),
            },
        });
    }
}

/// A real server's connections as the kernel counts them, persistence
/// templates included (unknown after a brief read: counted as one).
fn connections(d: &DestinationInfo) -> u64 {
    u64::from(d.active_connections)
        + u64::from(d.inactive_connections)
        + u64::from(d.persistent_connections.unwrap_or(1))
}

/// The step (or the wait) that removes one real server.
fn remove_destination(
    service: ServiceKey,
    d: &DestinationInfo,
    removal: Removal,
    removals: &mut Vec<Step>,
    draining: &mut Vec<Draining>,
) {
    let (address, port) = (d.destination.address, d.destination.port);
    match removal {
        Removal::Drain if d.destination.weight != 0 => {
            let mut drained = d.destination.clone();
            drained.weight = 0;
            removals.push(Step::DrainDestination {
                service,
                destination: drained,
            });
            draining.push(Draining {
                service,
                real_server: Some((address, port)),
                connections: connections(d),
            });
        }
        // Still draining: leave it for a later plan.
        Removal::Drain if connections(d) != 0 => draining.push(Draining {
            service,
            real_server: Some((address, port)),
            connections: connections(d),
        }),
        _ => removals.push(Step::DeleteDestination {
            service,
            address,
            port,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::ServiceSpec;
    use crate::desired::model::carry_out;
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
        let whole = DiffOptions::default().with_scope(Scope::Whole);
        let plan = diff(&current, &desired, &whole);
        let kinds: Vec<String> = plan.steps.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "edit service tcp 10.0.0.1:80: scheduler wlc -> rr",
                "add service tcp 10.0.0.1:82 wlc",
                "edit real server 192.0.2.1:80 of tcp 10.0.0.1:80: weight 1 -> 5",
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
        let opts = DiffOptions::default().with_removal(Removal::Drain);
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

    #[test]
    fn only_listed_services_are_touched_unless_the_scope_says_so() {
        let foreign = ServiceKey::tcp(Ipv4Addr::new(198, 51, 100, 7), 443);
        let current = vec![
            info(svc(80), vec![(rs(1), 0)]),
            info(Service::new(foreign), vec![(rs(9), 3)]),
        ];
        let desired = state(vec![(svc(80), vec![rs(1)])]);
        for scope in [Scope::Listed, Scope::Managed(BTreeSet::from([svc(81).key]))] {
            let options = DiffOptions::default().with_scope(scope);
            assert!(diff(&current, &desired, &options).is_empty());
        }
        let empty = state(vec![]);
        assert!(diff(&current, &empty, &DiffOptions::default()).is_empty());
        let managed = DiffOptions::default().with_scope(Scope::Managed(BTreeSet::from([foreign])));
        assert_eq!(
            diff(&current, &desired, &managed).steps,
            vec![Step::DeleteService(foreign)]
        );
        let whole = DiffOptions::default().with_scope(Scope::Whole);
        assert_eq!(
            diff(&current, &empty, &whole).steps,
            vec![
                Step::DeleteService(svc(80).key),
                Step::DeleteService(foreign)
            ]
        );
    }

    #[test]
    fn kept_weights_are_the_kernel_s_and_other_fields_still_change() {
        // A health checker set 192.0.2.1 to 0; the file says 5.
        let current = vec![info(svc(80), vec![(rs(1).with_weight(0), 0)])];
        let desired = state(vec![(
            svc(80),
            vec![rs(1).with_weight(5), rs(2).with_weight(3)],
        )]);
        let keep = DiffOptions::default().with_keep_weights(true);
        assert_eq!(
            diff(&current, &desired, &keep).steps,
            vec![Step::AddDestination {
                service: svc(80).key,
                destination: rs(2).with_weight(3)
            }]
        );
        let desired = state(vec![(
            svc(80),
            vec![rs(1).with_weight(5).with_thresholds(100, 10)],
        )]);
        let plan = diff(&current, &desired, &keep);
        assert_eq!(
            plan.to_string(),
            "edit real server 192.0.2.1:80 of tcp 10.0.0.1:80: upper threshold 0 -> 100, lower threshold 0 -> 10\n"
        );
        assert_eq!(
            diff(&current, &desired, &DiffOptions::default()).to_string(),
            "edit real server 192.0.2.1:80 of tcp 10.0.0.1:80: weight 0 -> 5, upper threshold 0 -> 100, lower threshold 0 -> 10\n"
        );
    }

    #[test]
    fn a_service_to_remove_drains_before_it_goes() {
        let gone = svc(81);
        let desired = state(vec![]);
        let opts = DiffOptions::default()
            .with_scope(Scope::Whole)
            .with_removal(Removal::Drain);
        let busy = vec![info(
            gone.clone(),
            vec![(rs(1), 4), (rs(2).with_weight(0), 1)],
        )];
        let plan = diff(&busy, &desired, &opts);
        assert_eq!(
            plan.steps,
            vec![Step::DrainDestination {
                service: gone.key,
                destination: rs(1).with_weight(0)
            }]
        );
        assert_eq!(
            plan.to_string(),
            "drain real server 192.0.2.1:80 of tcp 10.0.0.1:81 (weight 0)\nservice tcp 10.0.0.1:81 is draining: 5 connections left\n"
        );
        let draining = vec![info(gone.clone(), vec![(rs(1).with_weight(0), 1)])];
        let plan = diff(&draining, &desired, &opts);
        assert!(plan.is_empty());
        assert_eq!(plan.draining.len(), 1);
        let idle = vec![info(gone.clone(), vec![(rs(1).with_weight(0), 0)])];
        assert_eq!(
            diff(&idle, &desired, &opts).steps,
            vec![Step::DeleteService(gone.key)]
        );
    }

    /// A change in a service's history, as someone made it by hand.
    enum Made {
        Add(u8),
        Delete(u8),
    }

    /// An `mh` service (port 80) whose list is what `history` leaves, real
    /// servers added at the head as the kernel adds them.
    fn made(history: &[Made]) -> Vec<ServiceInfo> {
        let service = svc(80).with_scheduler(crate::Scheduler::MaglevHashing);
        let key = service.key;
        let mut table = vec![ServiceInfo::new(service)];
        for change in history {
            let step = match change {
                Made::Add(n) => Step::AddDestination {
                    service: key,
                    destination: rs(*n),
                },
                Made::Delete(n) => Step::DeleteDestination {
                    service: key,
                    address: rs(*n).address,
                    port: 80,
                },
            };
            carry_out(&mut table, &step);
        }
        table
    }

    /// The hosts of a service's list, head first.
    fn hosts(info: &ServiceInfo) -> Vec<u8> {
        info.destinations
            .iter()
            .map(|d| match d.destination.address {
                IpAddr::V4(a) => a.octets()[3],
                IpAddr::V6(_) => 0,
            })
            .collect()
    }

    fn canonical() -> DiffOptions {
        DiffOptions::default().with_canonical_order(true)
    }

    fn mh_state(servers: &[u8]) -> DesiredState {
        state(vec![(
            svc(80).with_scheduler(crate::Scheduler::MaglevHashing),
            servers.iter().map(|&n| rs(n)).collect(),
        )])
    }

    #[test]
    fn canonical_plans_leave_the_list_canonical_whatever_the_history() {
        use Made::{Add, Delete};
        let histories = [
            vec![],
            vec![Add(1), Add(2), Add(3), Add(4)],
            vec![Add(4), Add(3), Add(2), Add(1)],
            vec![Add(1), Add(2), Add(3), Add(4), Delete(2), Add(2)],
            vec![Add(3), Add(9), Add(1)],
            vec![Add(2), Add(4), Add(8), Add(1), Delete(8), Add(5)],
        ];
        // The configuration lists them in an order of its own.
        let desired = mh_state(&[3, 1, 4, 2]);
        for history in histories {
            let mut table = made(&history);
            let before = hosts(&table[0]);
            let plan = diff(&table, &desired, &canonical());
            for step in &plan.steps {
                carry_out(&mut table, step);
            }
            assert_eq!(hosts(&table[0]), [1, 2, 3, 4], "from {before:?}: {plan}");
            assert!(diff(&table, &desired, &canonical()).is_empty());
            // Without the option, the same table needs nothing either.
            assert!(diff(&table, &desired, &DiffOptions::default()).is_empty());
        }
    }

    #[test]
    fn a_new_service_gets_its_real_servers_last_first() {
        let plan = diff(&[], &mh_state(&[2, 3, 1]), &canonical());
        let added: Vec<String> = plan.steps.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            added,
            [
                "add service tcp 10.0.0.1:80 mh",
                "add real server 192.0.2.3:80 route weight 1 to tcp 10.0.0.1:80",
                "add real server 192.0.2.2:80 route weight 1 to tcp 10.0.0.1:80",
                "add real server 192.0.2.1:80 route weight 1 to tcp 10.0.0.1:80",
            ]
        );
    }

    #[test]
    fn a_canonical_list_is_not_reordered() {
        use Made::Add;
        let table = made(&[Add(3), Add(2), Add(1)]);
        assert_eq!(hosts(&table[0]), [1, 2, 3]);
        assert!(diff(&table, &mh_state(&[1, 2, 3]), &canonical()).is_empty());
        // A weight change is an edit, in place.
        let mut heavier = mh_state(&[1, 2, 3]);
        heavier.services[0].destinations[1] = rs(2).with_weight(4);
        assert_eq!(
            diff(&table, &heavier, &canonical()).steps,
            vec![Step::EditDestination {
                service: svc(80).key,
                from: rs(2),
                to: rs(2).with_weight(4)
            }]
        );
        // A real server that goes: deleted, the others stay.
        let plan = diff(&table, &mh_state(&[1, 3]), &canonical());
        assert_eq!(
            plan.to_string(),
            "delete real server 192.0.2.2:80 of tcp 10.0.0.1:80\n"
        );
    }

    #[test]
    fn only_the_prefix_before_the_ordered_tail_is_rebuilt() {
        use Made::{Add, Delete};
        // 1..5 added last first, then #2 deleted and added again: the list
        // reads 2 1 3 4 5, and only #1 is out of place.
        let readded = made(&[Add(5), Add(4), Add(3), Add(2), Add(1), Delete(2), Add(2)]);
        assert_eq!(hosts(&readded[0]), [2, 1, 3, 4, 5]);
        let moved: Vec<String> = diff(&readded, &mh_state(&[1, 2, 3, 4, 5]), &canonical())
            .steps
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            moved,
            [
                "delete real server 192.0.2.1:80 of tcp 10.0.0.1:80 (to reorder)",
                "add real server 192.0.2.1:80 route weight 1 to tcp 10.0.0.1:80 (to reorder)"
            ]
        );
        // 5 4 2 1 added, then #3: the list reads 3 1 2 4 5; 3 4 5 stay,
        // 1 and 2 are deleted and added again, #2 first.
        let table = made(&[Add(5), Add(4), Add(2), Add(1), Add(3)]);
        assert_eq!(hosts(&table[0]), [3, 1, 2, 4, 5]);
        let keep = canonical().with_keep_weights(true);
        let mut desired = mh_state(&[1, 2, 3, 4, 5]);
        // Weights kept: the kernel's weight is the one added again.
        desired.services[0].destinations[0] = rs(1).with_weight(7);
        let plan = diff(&table, &desired, &keep);
        let key = svc(80).key;
        assert_eq!(
            plan.steps,
            vec![
                Step::ReorderDelete {
                    service: key,
                    address: rs(1).address,
                    port: 80
                },
                Step::ReorderDelete {
                    service: key,
                    address: rs(2).address,
                    port: 80
                },
                Step::ReorderAdd {
                    service: key,
                    destination: rs(2)
                },
                Step::ReorderAdd {
                    service: key,
                    destination: rs(1)
                },
            ]
        );
        // Other schedulers do not care about the order.
        let mut wlc = desired.clone();
        wlc.services[0].service.scheduler = crate::Scheduler::WeightedLeastConnection;
        let mut table_wlc = table.clone();
        table_wlc[0].service.scheduler = crate::Scheduler::WeightedLeastConnection;
        assert!(diff(&table_wlc, &wlc, &keep).is_empty());
        // Nor does a plan without the option.
        assert!(
            diff(
                &table,
                &desired,
                &DiffOptions::default().with_keep_weights(true)
            )
            .is_empty()
        );
    }
}
