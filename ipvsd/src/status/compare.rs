//! `ipvsd status --compare PEER`: whether two directors' kernel tables
//! send the same client to the same real server.
//!
//! Directors behind ECMP share clients: when the routers move a flow (a
//! director fails or rejoins), the director that takes it over must choose
//! the real server the first one chose. With `mh`, `sh` and `dh` that holds
//! only when both have the same real servers, weights, scheduler flags and
//! list order: the kernel builds their lookup tables by walking the real
//! servers in list order (`ip_vs_mh.c`, `ip_vs_sh.c`, `ip_vs_dh.c`), and
//! puts a real server added or re-added at the head of the list
//! (`__ip_vs_update_dest` in `ip_vs_ctl.c`). This reads the two status
//! documents (`GET /status`, whose `destinations` are in the kernel's list
//! order) and names every difference; for `mh` it also counts the lookup
//! slots that choose another real server, the share of clients affected.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipvs::mh::{DEFAULT_SIZE_INDEX, Server, Table};
use ipvs::{AddressFamily, SchedFlags, Scheduler};
use serde::{Deserialize, Serialize};

/// The part of the status document this reads (see `ipvsd/schema/status.json`).
#[derive(Debug, Deserialize)]
struct Document {
    virtual_servers: Vec<VirtualServerDoc>,
}

#[derive(Debug, Deserialize)]
struct VirtualServerDoc {
    services: Vec<ServiceDoc>,
}

#[derive(Debug, Deserialize)]
struct ServiceDoc {
    protocol: String,
    family: String,
    address: Option<IpAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    present: bool,
    scheduler: Option<String>,
    #[serde(default)]
    scheduler_flags: Vec<String>,
    destinations: Vec<DestinationDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct DestinationDoc {
    address: IpAddr,
    port: u16,
    weight: u32,
}

/// A kernel service as one director has it.
#[derive(Debug)]
struct TableService {
    family: AddressFamily,
    scheduler: String,
    flags: Vec<String>,
    /// Real servers in the kernel's list order (head first).
    destinations: Vec<DestinationDoc>,
}

/// One difference between the two tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The service: `tcp 192.0.2.10:80`, `fwmark 1 ipv4`.
    pub service: String,
    /// What differs, in words.
    pub what: String,
    /// For `mh` on both sides: how many lookup slots choose another real
    /// server, of `slots` (the share of clients sent elsewhere).
    pub slots_differing: Option<usize>,
    /// The lookup table's size (4093 for a stock kernel).
    pub slots: Option<usize>,
}

/// The result of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Whether the two tables agree on every service.
    pub agree: bool,
    /// The services present on either side.
    pub services: usize,
    /// The services that differ (`differences` may name one twice).
    pub services_differing: usize,
    /// Every difference, by service.
    pub differences: Vec<Difference>,
}

/// The tables in two status documents (`here` and `peer`, the JSON bodies
/// of `GET /status`) compared service by service: services only on one
/// side, another scheduler or flags, real servers missing on one side or
/// with another weight, and, for `mh`, `sh` and `dh`, another list order.
///
/// # Errors
/// A message when a document is not a status document.
pub fn compare(here: &str, peer: &str) -> Result<Comparison, String> {
    let here = table(here).map_err(|e| format!("this director's status: {e}"))?;
    let peer = table(peer).map_err(|e| format!("the peer's status: {e}"))?;
    let mut differences = Vec::new();
    let mut names: Vec<&String> = here.keys().chain(peer.keys()).collect();
    names.sort();
    names.dedup();
    let mut services_differing = 0;
    for name in &names {
        let found = match (here.get(*name), peer.get(*name)) {
            (Some(a), Some(b)) => differ(name, a, b),
            (Some(_), None) => vec![note(name, "only on this director".into())],
            (None, Some(_)) => vec![note(name, "only on the peer".into())],
            (None, None) => Vec::new(),
        };
        if !found.is_empty() {
            services_differing += 1;
        }
        differences.extend(found);
    }
    Ok(Comparison {
        agree: differences.is_empty(),
        services: names.len(),
        services_differing,
        differences,
    })
}

fn note(service: &str, what: String) -> Difference {
    Difference {
        service: service.to_owned(),
        what,
        slots_differing: None,
        slots: None,
    }
}

/// The kernel services of a status document by name; a service the daemon
/// configures but the kernel lacks is not in the table.
fn table(text: &str) -> Result<BTreeMap<String, TableService>, String> {
    let doc: Document = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut services = BTreeMap::new();
    for s in doc.virtual_servers.into_iter().flat_map(|vs| vs.services) {
        if !s.present {
            continue;
        }
        let name = match (s.address, s.port, s.fwmark) {
            (Some(address), Some(port), _) => {
                format!(
                    "{} {}",
                    s.protocol,
                    std::net::SocketAddr::new(address, port)
                )
            }
            (_, _, Some(mark)) => format!("fwmark {mark} {}", s.family),
            _ => {
                return Err(format!(
                    "a {} service has neither address nor mark",
                    s.protocol
                ));
            }
        };
        services.insert(
            name,
            TableService {
                family: if s.family == "ipv6" {
                    AddressFamily::Ipv6
                } else {
                    AddressFamily::Ipv4
                },
                scheduler: s.scheduler.unwrap_or_default(),
                flags: s.scheduler_flags,
                destinations: s.destinations,
            },
        );
    }
    Ok(services)
}

fn endpoint(d: &DestinationDoc) -> String {
    std::net::SocketAddr::new(d.address, d.port).to_string()
}

fn list(destinations: &[DestinationDoc]) -> String {
    let names: Vec<String> = destinations.iter().map(endpoint).collect();
    names.join(", ")
}

/// The differences of one service present on both sides.
fn differ(name: &str, here: &TableService, peer: &TableService) -> Vec<Difference> {
    let mut found = Vec::new();
    if here.scheduler != peer.scheduler {
        found.push(note(
            name,
            format!(
                "scheduler {} here, {} on the peer",
                here.scheduler, peer.scheduler
            ),
        ));
    }
    if here.flags != peer.flags {
        found.push(note(
            name,
            format!(
                "scheduler flags [{}] here, [{}] on the peer",
                here.flags.join(","),
                peer.flags.join(",")
            ),
        ));
    }
    let mut set_differs = false;
    for d in &here.destinations {
        match peer
            .destinations
            .iter()
            .find(|p| p.address == d.address && p.port == d.port)
        {
            None => {
                set_differs = true;
                found.push(note(
                    name,
                    format!("real server {} only on this director", endpoint(d)),
                ));
            }
            Some(p) if p.weight != d.weight => {
                set_differs = true;
                found.push(note(
                    name,
                    format!(
                        "real server {} has weight {} here, {} on the peer",
                        endpoint(d),
                        d.weight,
                        p.weight
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    for p in &peer.destinations {
        if !here
            .destinations
            .iter()
            .any(|d| d.address == p.address && d.port == p.port)
        {
            set_differs = true;
            found.push(note(
                name,
                format!("real server {} only on the peer", endpoint(p)),
            ));
        }
    }
    let scheduler = Scheduler::from_name(&here.scheduler);
    let same_scheduler = here.scheduler == peer.scheduler;
    let ordered = same_scheduler && ipvs::order_matters(&scheduler);
    if ordered && !set_differs && here.destinations != peer.destinations {
        found.push(note(
            name,
            format!(
                "real servers in another list order (here {}; peer {}): the {} table follows it",
                list(&here.destinations),
                list(&peer.destinations),
                here.scheduler
            ),
        ));
    }
    if same_scheduler
        && scheduler == Scheduler::MaglevHashing
        && !found.is_empty()
        && let Some((differing, size)) = mh_slots_differing(here, peer)
    {
        for d in &mut found {
            d.slots_differing = Some(differing);
            d.slots = Some(size);
        }
    }
    found
}

/// How many `mh` lookup slots (of how many) choose another real server on
/// the two sides, by the library's model of the kernel's table
/// (`ipvs::mh`); `None` when a table cannot be built. The status document
/// shows weights, not the kernel's last weights, so a real server drained
/// to weight 0 is modelled as one added with weight 0.
fn mh_slots_differing(here: &TableService, peer: &TableService) -> Option<(usize, usize)> {
    let build = |side: &TableService| {
        let flags = side
            .flags
            .iter()
            .filter_map(|f| SchedFlags::from_name(f))
            .fold(SchedFlags::NONE, |a, b| a | b);
        let servers: Vec<Server> = side
            .destinations
            .iter()
            .map(|d| Server::new(d.address, d.port, d.weight))
            .collect();
        Table::for_service(&servers, side.family, flags, DEFAULT_SIZE_INDEX).ok()
    };
    let (a, b) = (build(here)?, build(peer)?);
    let owner = |t: &Table, slot: Option<usize>| {
        slot.and_then(|i| t.servers().get(i))
            .map(|s| (s.address, s.port))
    };
    let differing = a
        .slots()
        .zip(b.slots())
        .filter(|(x, y)| owner(&a, *x) != owner(&b, *y))
        .count();
    Some((differing, a.size()))
}

/// The comparison as text, one line per difference and a last line with
/// the verdict, for `ipvsd status --compare`.
pub fn render(comparison: &Comparison, here: &str, peer: &str) -> String {
    let mut out = String::new();
    for d in &comparison.differences {
        out.push_str(&format!("{}: {}", d.service, d.what));
        if let (Some(differing), Some(size)) = (d.slots_differing, d.slots) {
            out.push_str(&format!(
                " ({differing} of {size} mh lookup slots choose another real server)"
            ));
        }
        out.push('\n');
    }
    if comparison.agree {
        out.push_str(&format!(
            "the tables of {here} and {peer} agree on all {} services\n",
            comparison.services
        ));
    } else {
        out.push_str(&format!(
            "the tables of {here} and {peer} disagree on {} of {} services\n",
            comparison.services_differing, comparison.services
        ));
    }
    out
}
