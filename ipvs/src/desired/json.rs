//! The JSON documents of this library, schema version 1: a table (services
//! with their real servers), with observed state when it was read from the
//! kernel. A table listing is accepted as desired state unchanged: observed
//! fields are ignored when reading configuration, any other unknown field is
//! refused (so a typo never passes silently).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::destination::{Destination, ForwardMethod, Tunnel};
use crate::key::{AddressFamily, Protocol, ServiceKey};
use crate::service::{Netmask, Persistence, SchedFlags, Scheduler, Service};
use crate::stats::{DestinationInfo, ServiceInfo, Stats};

/// The schema version written in, and accepted from, every JSON document.
pub const SCHEMA_VERSION: u32 = 1;

/// A service object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family: Option<AddressFamily>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fwmark: Option<u32>,
    #[serde(default)]
    scheduler: Scheduler,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scheduler_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    persistence: Option<Persistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    persistence_engine: Option<String>,
    #[serde(default)]
    one_packet: bool,
    /// Observed: counters (output only, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destinations: Option<Vec<DestinationJson>>,
}

impl From<Service> for ServiceJson {
    fn from(s: Service) -> Self {
        let (protocol, address, port, fwmark) = match s.key {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => (Some(protocol), Some(address), Some(port), None),
            ServiceKey::Fwmark { mark, .. } => (None, None, None, Some(mark)),
        };
        Self {
            family: Some(s.key.family()),
            protocol,
            address,
            port,
            fwmark,
            scheduler_flags: s.sched_flags.names(&s.scheduler),
            scheduler: s.scheduler,
            persistence: s.persistence,
            persistence_engine: s.persistence_engine,
            one_packet: s.one_packet,
            stats: None,
            destinations: None,
        }
    }
}

impl TryFrom<ServiceJson> for Service {
    type Error = String;

    fn try_from(r: ServiceJson) -> Result<Self, String> {
        let key = match (r.fwmark, r.protocol, r.address) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(
                    "a service has either `fwmark` or `protocol`/`address`/`port`, not both".into(),
                );
            }
            (Some(mark), None, None) => {
                if r.port.is_some_and(|p| p != 0) {
                    return Err("a firewall-mark service has no `port`".into());
                }
                ServiceKey::Fwmark {
                    family: r.family.unwrap_or(AddressFamily::Ipv4),
                    mark,
                }
            }
            (None, Some(protocol), Some(address)) => {
                if let Some(family) = r.family.filter(|f| *f != AddressFamily::of(&address)) {
                    return Err(format!("address {address} is not {family}"));
                }
                let port = r
                    .port
                    .ok_or_else(|| format!("service {address} needs a `port` (0 for all ports)"))?;
                ServiceKey::Inet {
                    protocol,
                    address,
                    port,
                }
            }
            (None, None, _) => {
                return Err("a service needs `protocol`, `address` and `port`, or `fwmark`".into());
            }
            (None, Some(_), None) => {
                return Err("a service with a `protocol` needs an `address`".into());
            }
        };
        // A number is a prefix length: on an IPv4 service, that of a mask.
        let mut persistence = r.persistence;
        if let (AddressFamily::Ipv4, Some(p)) = (key.family(), persistence.as_mut())
            && let Some(Netmask::Ipv6(length)) = p.netmask
        {
            p.netmask =
                Some(Netmask::from_prefix(AddressFamily::Ipv4, length).map_err(|e| e.to_string())?);
        }
        let mut sched_flags = SchedFlags::NONE;
        for name in &r.scheduler_flags {
            sched_flags = sched_flags
                | SchedFlags::from_name(name)
                    .ok_or_else(|| format!("unknown scheduler flag `{name}`"))?;
        }
        Ok(Service {
            key,
            scheduler: r.scheduler,
            sched_flags,
            persistence,
            persistence_engine: r.persistence_engine,
            one_packet: r.one_packet,
        })
    }
}

fn default_forward() -> ForwardMethod {
    ForwardMethod::Route
}

fn default_weight() -> u32 {
    1
}

/// A real-server object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DestinationJson {
    address: IpAddr,
    /// In a service object, absent means the service's port (as ipvsadm's
    /// `-r` without a port; 0 for a firewall-mark service).
    #[serde(default)]
    port: Option<u16>,
    #[serde(default = "default_forward")]
    forward: ForwardMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tunnel: Option<Tunnel>,
    #[serde(default = "default_weight")]
    weight: u32,
    #[serde(default)]
    upper_threshold: u32,
    #[serde(default)]
    lower_threshold: u32,
    /// Observed (output only, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active_connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inactive_connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    persistent_connections: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
}

impl From<Destination> for DestinationJson {
    fn from(d: Destination) -> Self {
        Self {
            address: d.address,
            port: Some(d.port),
            forward: d.forward,
            tunnel: d.tunnel,
            weight: d.weight,
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
            active_connections: None,
            inactive_connections: None,
            persistent_connections: None,
            stats: None,
        }
    }
}

impl TryFrom<DestinationJson> for Destination {
    type Error = String;

    fn try_from(r: DestinationJson) -> Result<Self, String> {
        let tunnel = match (r.forward, r.tunnel) {
            (ForwardMethod::Tunnel, t) => Some(t.unwrap_or_default()),
            (_, None) => None,
            (method, Some(_)) => {
                return Err(format!(
                    "real server {}: `tunnel` needs `\"forward\": \"tunnel\"`, not {method}",
                    r.address
                ));
            }
        };
        let port = r
            .port
            .ok_or_else(|| format!("real server {} needs a `port`", r.address))?;
        Ok(Destination {
            address: r.address,
            port,
            forward: r.forward,
            tunnel,
            weight: r.weight,
            upper_threshold: r.upper_threshold,
            lower_threshold: r.lower_threshold,
        })
    }
}

impl From<&DestinationInfo> for DestinationJson {
    fn from(d: &DestinationInfo) -> Self {
        Self {
            active_connections: Some(d.active_connections),
            inactive_connections: Some(d.inactive_connections),
            persistent_connections: d.persistent_connections,
            stats: d.stats,
            ..d.destination.clone().into()
        }
    }
}

impl From<&ServiceInfo> for ServiceJson {
    fn from(s: &ServiceInfo) -> Self {
        Self {
            stats: Some(s.stats),
            destinations: Some(s.destinations.iter().map(DestinationJson::from).collect()),
            ..s.service.clone().into()
        }
    }
}

impl Serialize for ServiceInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ServiceJson::from(self).serialize(serializer)
    }
}

impl Serialize for DestinationInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DestinationJson::from(self).serialize(serializer)
    }
}

/// The schema version a document that names none is read as.
pub(crate) fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// Splits a service object of a table into its configuration and real servers.
pub(crate) fn service_spec(json: ServiceJson) -> Result<(Service, Vec<Destination>), String> {
    let destinations = json.destinations.clone().unwrap_or_default();
    let service = Service::try_from(json)?;
    let destinations = destinations
        .into_iter()
        .map(|mut d| {
            d.port.get_or_insert(service.key.port());
            Destination::try_from(d)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("service {}: {e}", service.key))?;
    Ok((service, destinations))
}

/// The JSON object of a service with its real servers, as configuration.
pub(crate) fn service_spec_json(service: &Service, destinations: &[Destination]) -> ServiceJson {
    ServiceJson {
        destinations: Some(
            destinations
                .iter()
                .cloned()
                .map(DestinationJson::from)
                .collect(),
        ),
        ..service.clone().into()
    }
}

/// A JSON document of this library's schema: `{"schema_version": 1, ...}`
/// followed by the fields of `body` (a struct, or a map), pretty-printed.
/// Every document the library and `ipvsadm-rs` write goes through here.
pub fn json_document<T: Serialize + ?Sized>(body: &T) -> String {
    #[derive(Serialize)]
    struct Doc<'a, T: Serialize + ?Sized> {
        schema_version: u32,
        #[serde(flatten)]
        body: &'a T,
    }
    // Serializing plain data to a String cannot fail.
    serde_json::to_string_pretty(&Doc {
        schema_version: SCHEMA_VERSION,
        body,
    })
    .unwrap_or_default()
}

/// A table read from the kernel as the table document, with its observed
/// state (counters, connections), pretty-printed. The document is accepted by
/// [`DesiredState::from_json`](crate::DesiredState::from_json) unchanged,
/// unless the kernel holds a service that [`Service::validate`] refuses
/// (set up by another tool: port 0 without persistence, say).
pub fn table_json(table: &[ServiceInfo]) -> String {
    #[derive(Serialize)]
    struct Table<'a> {
        services: &'a [ServiceInfo],
    }
    json_document(&Table { services: table })
}
