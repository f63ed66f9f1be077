//! The status snapshot: the daemon's view (model, health, quorum, counts)
//! joined with the kernel's table (counters, rates, connections).

use std::collections::HashMap;
use std::net::IpAddr;

use ipvs::{ServiceInfo, ServiceKey, Stats};
use serde::Serialize;

use crate::check::{Health, RealServerStatus as RunnerStatus};
use crate::config::Model;
use crate::daemon::reconcile::{RealServerId, ServerState, live_weight, sorry_active};

/// The daemon's counts since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Reconcile cycles run (each reads the table and applies the diff).
    pub reconciles: u64,
    /// Reconciles that failed (the table could not be read or the apply
    /// failed).
    pub reconcile_errors: u64,
    /// Steps applied to the table (services and real servers added,
    /// changed, deleted).
    pub steps_applied: u64,
    /// The last reconcile error.
    pub last_reconcile_error: Option<String>,
    /// Reloads that took effect.
    pub reloads: u64,
    /// Reloads refused (the new configuration was bad).
    pub reload_errors: u64,
    /// The last reload error.
    pub last_reload_error: Option<String>,
    /// Health changes of real servers.
    pub health_changes: u64,
}

/// The daemon's state that the status outputs read: built by the daemon's
/// loop when a request asks for it (`ViewRequest`).
#[derive(Debug, Clone)]
pub struct View {
    /// The running configuration.
    pub model: Model,
    /// The configuration file.
    pub config_path: String,
    /// Real servers' health and weight.
    pub states: HashMap<RealServerId, ServerState>,
    /// Real servers' checker states from the runner.
    pub checkers: HashMap<RealServerId, RunnerStatus>,
    /// Quorum per virtual server name.
    pub quorum: HashMap<String, bool>,
    /// The daemon's counts.
    pub counters: Counters,
    /// Start time, Unix seconds.
    pub started: u64,
    /// The VRRP instances' status, in configuration order.
    pub vrrp: Vec<crate::vrrp::instance::InstanceStatus>,
    /// Route health injection: each address's route, in address order
    /// (empty without `[route_health]`).
    pub announcements: Vec<crate::rhi::AnnouncementStatus>,
    /// Routes withdrawn since start.
    pub route_withdrawals: u64,
}

/// The status document (`GET /status`; schema `ipvsd/schema/status.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// ipvsd's version.
    pub version: String,
    /// `router_id`.
    pub router_id: Option<String>,
    /// The configuration file.
    pub config: String,
    /// Start time, Unix seconds.
    pub started: u64,
    /// The daemon's counts.
    pub counters: Counters,
    /// The table could not be read: why (the counters are then absent).
    pub table_error: Option<String>,
    /// The virtual servers, in configuration order.
    pub virtual_servers: Vec<VirtualServerStatus>,
    /// The VRRP instances, in configuration order.
    pub vrrp_instances: Vec<crate::vrrp::instance::InstanceStatus>,
    /// Route health injection: each address's route, in address order.
    pub announcements: Vec<crate::rhi::AnnouncementStatus>,
    /// Routes withdrawn since start.
    pub route_withdrawals: u64,
}

/// One virtual server.
#[derive(Debug, Clone, Serialize)]
pub struct VirtualServerStatus {
    /// Its name (`tcp 192.0.2.1:80`, `fwmark 1`, `tcp group NAME`: see
    /// `VirtualServer::name`).
    pub name: String,
    /// `quorum`.
    pub quorum: u32,
    /// `hysteresis`.
    pub hysteresis: u32,
    /// Whether it has quorum.
    pub quorum_up: bool,
    /// The sum of the weights of its live real servers.
    pub live_weight: u64,
    /// Whether its sorry server is in service.
    pub sorry_server_active: bool,
    /// Its kernel services with their counters.
    pub services: Vec<ServiceStatus>,
    /// Its real servers' health.
    pub real_servers: Vec<RealServerStatus>,
}

/// A kernel service.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    /// `tcp`, `udp`, `sctp`, or `fwmark`.
    pub protocol: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The address (absent for a mark).
    pub address: Option<IpAddr>,
    /// The port (absent for a mark).
    pub port: Option<u16>,
    /// The mark (absent for an address service).
    pub fwmark: Option<u32>,
    /// Whether the kernel has it.
    pub present: bool,
    /// The kernel's scheduler for it (absent when the kernel lacks it).
    pub scheduler: Option<String>,
    /// The kernel's scheduler flags, by ipvsadm's names (`mh-port`,
    /// `sh-fallback`, ...).
    pub scheduler_flags: Vec<String>,
    /// Its counters.
    pub stats: Option<Stats>,
    /// Its real servers as the kernel has them, in the kernel's list order
    /// (head first: the order `mh`, `sh` and `dh` build their tables in).
    pub destinations: Vec<DestinationStatus>,
}

/// A real server in a kernel service.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationStatus {
    /// Address.
    pub address: IpAddr,
    /// Port.
    pub port: u16,
    /// Weight in the kernel.
    pub weight: u32,
    /// Active connections.
    pub active_connections: u32,
    /// Inactive connections.
    pub inactive_connections: u32,
    /// Counters.
    pub stats: Option<Stats>,
}

/// A configured real server's health.
#[derive(Debug, Clone, Serialize)]
pub struct RealServerStatus {
    /// Address.
    pub address: IpAddr,
    /// Port.
    pub port: u16,
    /// `up` or `down`.
    pub health: &'static str,
    /// The weight while up (configured plus dynamic).
    pub weight: u32,
    /// The configured weight.
    pub configured_weight: u32,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// Its checkers.
    pub checkers: Vec<CheckerView>,
}

/// A checker's state and counts.
#[derive(Debug, Clone, Serialize)]
pub struct CheckerView {
    /// Its kind (`TCP_CHECK`, ...).
    pub kind: &'static str,
    /// `up` or `down`.
    pub health: &'static str,
    /// Whether it has a result yet.
    pub settled: bool,
    /// Probes run.
    pub probes: u64,
    /// Probes failed.
    pub failures: u64,
    /// The last probe's latency, in seconds.
    pub last_latency_seconds: f64,
    /// The sum of the probes' latencies, in seconds.
    pub latency_seconds_total: f64,
}

fn health_name(h: Health) -> &'static str {
    match h {
        Health::Up => "up",
        Health::Down => "down",
    }
}

/// A service's identity fields: protocol, family, address, port, mark.
pub(crate) fn key_fields(
    key: &ServiceKey,
) -> (String, String, Option<IpAddr>, Option<u16>, Option<u32>) {
    let family = match key.family() {
        ipvs::AddressFamily::Ipv6 => "ipv6",
        _ => "ipv4",
    }
    .to_owned();
    match key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => (
            protocol.to_string().to_lowercase(),
            family,
            Some(*address),
            Some(*port),
            None,
        ),
        ServiceKey::Fwmark { mark, .. } => ("fwmark".to_owned(), family, None, None, Some(*mark)),
    }
}

impl Snapshot {
    /// The snapshot of `view` with the kernel's `table` (or why it could
    /// not be read).
    pub fn build(view: &View, table: Result<&[ServiceInfo], String>) -> Snapshot {
        let (table, table_error) = match table {
            Ok(t) => (t, None),
            Err(e) => (&[][..], Some(e)),
        };
        let virtual_servers = view
            .model
            .virtual_servers
            .iter()
            .map(|vs| {
                let quorum_up = view.quorum.get(&vs.name()).copied().unwrap_or(true);
                let services = vs
                    .services
                    .iter()
                    .map(|key| {
                        let info = table.iter().find(|s| s.service.key == *key);
                        let (protocol, family, address, port, fwmark) = key_fields(key);
                        ServiceStatus {
                            protocol,
                            family,
                            address,
                            port,
                            fwmark,
                            present: info.is_some(),
                            scheduler: info.map(|i| i.service.scheduler.to_string()),
                            scheduler_flags: info
                                .map(|i| i.service.sched_flags.names(&i.service.scheduler))
                                .unwrap_or_default(),
                            stats: info.map(|i| i.stats),
                            destinations: info
                                .map(|i| {
                                    i.destinations
                                        .iter()
                                        .map(|d| DestinationStatus {
                                            address: d.destination.address,
                                            port: d.destination.port,
                                            weight: d.destination.weight,
                                            active_connections: d.active_connections,
                                            inactive_connections: d.inactive_connections,
                                            stats: d.stats,
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect();
                let real_servers = vs
                    .real_servers
                    .iter()
                    .map(|rs| {
                        let id = RealServerId::of(vs, rs);
                        let state = view.states.get(&id);
                        RealServerStatus {
                            address: rs.address,
                            port: rs.port,
                            health: health_name(state.map_or(Health::Down, |s| s.health)),
                            weight: state.map_or(rs.weight, |s| s.weight),
                            configured_weight: rs.weight,
                            inhibit_on_failure: rs.inhibit_on_failure,
                            checkers: view
                                .checkers
                                .get(&id)
                                .map(|c| {
                                    c.checkers
                                        .iter()
                                        .map(|c| CheckerView {
                                            kind: c.kind,
                                            health: health_name(c.health),
                                            settled: c.settled,
                                            probes: c.counters.probes,
                                            failures: c.counters.failures,
                                            last_latency_seconds: c
                                                .counters
                                                .last_latency
                                                .as_secs_f64(),
                                            latency_seconds_total: c
                                                .counters
                                                .latency_sum
                                                .as_secs_f64(),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect();
                VirtualServerStatus {
                    name: vs.name(),
                    quorum: vs.quorum,
                    hysteresis: vs.hysteresis,
                    quorum_up,
                    live_weight: live_weight(vs, &view.states),
                    sorry_server_active: sorry_active(vs, quorum_up),
                    services,
                    real_servers,
                }
            })
            .collect();
        Snapshot {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            router_id: view.model.global.router_id.clone(),
            config: view.config_path.clone(),
            started: view.started,
            counters: view.counters.clone(),
            table_error,
            virtual_servers,
            vrrp_instances: view.vrrp.clone(),
            announcements: view.announcements.clone(),
            route_withdrawals: view.route_withdrawals,
        }
    }
}
