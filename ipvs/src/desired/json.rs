//! The JSON documents of this library, schema version 2 (the schema files
//! are `schema/v2/*.json` in the repository; the README says what may change
//! within a version). A table document lists services with their real
//! servers, with observed state when it was read from the kernel. A table
//! listing is accepted as desired state unchanged: observed fields are
//! ignored when reading configuration, any other unknown field is refused
//! (so a typo never passes silently).
//!
//! Schema 1 documents are still read: every form they use is also accepted
//! in schema 2 (a persistence `netmask` given as a number is a prefix length).

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::destination::{Destination, ForwardMethod, Tunnel};
use crate::key::{AddressFamily, Protocol, ServiceKey};
use crate::service::{Netmask, Persistence, SchedFlags, Scheduler, Service};
use crate::stats::{DestinationInfo, ServiceInfo, Stats};

/// The schema version written in every JSON document (`schema_version`).
///
/// Documents of version 2 and of the older version 1 are read
/// ([`DesiredState::from_json_with_notes`](crate::DesiredState::from_json_with_notes)
/// says which one a file was). Within a version, fields may be added to
/// output; removing or renaming a field, changing its type or meaning, or
/// refusing input that was accepted needs a new version.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version a table document may have to be read.
pub(crate) const OLDEST_SCHEMA_VERSION: u32 = 1;

/// The configuration members of a service object, in the order they are
/// written (what an unknown member's message says is expected).
pub(crate) const SERVICE_FIELDS: &[&str] = &[
    "family",
    "protocol",
    "address",
    "port",
    "fwmark",
    "scheduler",
    "scheduler_flags",
    "persistence",
    "persistence_engine",
    "one_packet",
    "destinations",
];

/// The observed members of a service object: written by listings, ignored
/// when reading configuration.
pub(crate) const SERVICE_OBSERVED: &[&str] = &["stats"];

/// The configuration members of a real-server object, in order.
pub(crate) const DESTINATION_FIELDS: &[&str] = &[
    "address",
    "port",
    "forward",
    "tunnel",
    "weight",
    "upper_threshold",
    "lower_threshold",
];

/// The observed members of a real-server object.
pub(crate) const DESTINATION_OBSERVED: &[&str] = &[
    "active_connections",
    "inactive_connections",
    "persistent_connections",
    "stats",
];

/// A persistence object: `timeout` (seconds); for an IPv4 service the mask
/// as `netmask` (`"255.255.255.0"`) and, when the mask is a prefix, its
/// `prefix_length` too (24); for an IPv6 service `prefix_length` only.
/// Both absent: one client address (/32 or /128).
///
/// Read: `netmask` as a string is an IPv4 mask, as a number (schema 1's IPv6
/// form) a prefix length; `prefix_length` is read on the service's family;
/// given both, they must agree.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersistenceJson {
    timeout: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    netmask: Option<Netmask>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix_length: Option<u8>,
}

/// The prefix length of an IPv4 mask, if it is one (leading ones only).
fn ipv4_prefix(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    if bits.checked_shl(ones).unwrap_or(0) == 0 {
        u8::try_from(ones).ok()
    } else {
        None
    }
}

impl From<Persistence> for PersistenceJson {
    fn from(p: Persistence) -> Self {
        let (netmask, prefix_length) = match p.netmask {
            None => (None, None),
            Some(Netmask::Ipv4(mask)) => (Some(Netmask::Ipv4(mask)), ipv4_prefix(mask)),
            Some(Netmask::Ipv6(length)) => (None, Some(length)),
        };
        Self {
            timeout: p.timeout,
            netmask,
            prefix_length,
        }
    }
}

impl PersistenceJson {
    /// The persistence this object says for a service of `family` (`None`:
    /// unknown, when a persistence object is read alone; a prefix length is
    /// then kept as an IPv6 one, read again by the service).
    fn read(self, family: Option<AddressFamily>) -> Result<Persistence, String> {
        let prefix = |length: u8| match family {
            Some(AddressFamily::Ipv4) => {
                Netmask::from_prefix(AddressFamily::Ipv4, length).map_err(|e| e.to_string())
            }
            _ => Ok(Netmask::Ipv6(length)),
        };
        let netmask = match (self.netmask, self.prefix_length) {
            (None, None) => None,
            (Some(Netmask::Ipv4(mask)), None) => Some(Netmask::Ipv4(mask)),
            (Some(Netmask::Ipv6(length)), None) | (None, Some(length)) => Some(prefix(length)?),
            (Some(Netmask::Ipv4(mask)), Some(length)) => {
                if ipv4_prefix(mask) != Some(length) {
                    return Err(format!(
                        "persistence `netmask` {mask} and `prefix_length` {length} disagree"
                    ));
                }
                Some(Netmask::Ipv4(mask))
            }
            (Some(Netmask::Ipv6(a)), Some(b)) => {
                if a != b {
                    return Err(format!(
                        "persistence `netmask` {a} and `prefix_length` {b} disagree"
                    ));
                }
                Some(prefix(a)?)
            }
        };
        Ok(Persistence {
            timeout: self.timeout,
            netmask,
        })
    }
}

impl TryFrom<PersistenceJson> for Persistence {
    type Error = String;

    fn try_from(p: PersistenceJson) -> Result<Self, String> {
        p.read(None)
    }
}

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
    persistence: Option<PersistenceJson>,
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
            persistence: s.persistence.map(PersistenceJson::from),
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
        let persistence = r
            .persistence
            .map(|p| p.read(Some(key.family())))
            .transpose()?;
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

/// The schema version a document that names none is read as: the current one.
pub(crate) fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// A service object of a table as its configuration, with its real-server
/// objects (read one by one, so that a problem names its real server).
///
/// # Errors
/// A problem of the service (`None`) or of its real server at an index.
pub(crate) fn service_spec(
    json: ServiceJson,
    destinations: Vec<DestinationJson>,
) -> Result<(Service, Vec<Destination>), (Option<usize>, String)> {
    let service = Service::try_from(json).map_err(|e| (None, e))?;
    let destinations = destinations
        .into_iter()
        .enumerate()
        .map(|(j, mut d)| {
            d.port.get_or_insert(service.key.port());
            Destination::try_from(d).map_err(|e| (Some(j), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
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

/// A JSON document of this library's schema: `{"schema_version": 2, ...}`
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
