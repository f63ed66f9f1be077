//! Every read of the virtual service table the command line makes, in one
//! place: the listing says what it needs, [`read_table`] picks how to read
//! it, and [`Listing::services`] gives the services complete and in order,
//! one at a time, for a renderer to format.

use ipvs::{DestinationBrief, DestinationInfo, ForwardMethod, Ipvs, ServiceInfo};

use crate::sort::{ipvsadm_destination_order, ipvsadm_service_order, valid_order};

/// What a listing needs of the table.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Needs {
    /// Real servers in full: counters, thresholds, persistent connections,
    /// tunnel parameters (else their address, forwarding, weight and
    /// connection counts are enough).
    pub(crate) full_servers: bool,
    /// The tunnel parameters of tunnelling real servers (the rules of `-S`).
    pub(crate) tunnels: bool,
    /// A settled table (no service a dump skipped): the JSON and table
    /// views, which can become the desired state of an apply.
    pub(crate) settled: bool,
    /// ipvsadm's order of services and real servers (else the kernel's, or
    /// for a settled table a valid order).
    pub(crate) sorted: bool,
}

/// Where the real servers of the services come from.
enum Servers {
    /// Read with the services.
    Read,
    /// In brief, from one read of `/proc/net/ip_vs`.
    Brief(Vec<Vec<DestinationBrief>>),
    /// In full, a netlink dump per service as it is listed.
    PerService,
}

/// The table as read: the services, and their real servers or where to get
/// them.
pub(crate) struct Listing {
    services: Vec<ServiceInfo>,
    servers: Servers,
    needs: Needs,
}

/// Reads the table for a listing that needs `needs`.
///
/// # Errors
/// The library's, when the services cannot be read.
pub(crate) fn read_table(ipvs: &Ipvs, needs: &Needs) -> ipvs::Result<Listing> {
    if needs.settled {
        let mut services = ipvs.settled_table()?;
        if needs.sorted {
            valid_order(&mut services);
        }
        return Ok(Listing {
            services,
            servers: Servers::Read,
            needs: *needs,
        });
    }
    let mut services = ipvs.services()?;
    let servers = if needs.full_servers || services.len() > ipvs::BRIEF_SERVICES_MAX {
        Servers::PerService
    } else {
        Servers::Brief(ipvs.brief_destinations(&mut services)?)
    };
    Ok(Listing {
        services,
        servers,
        needs: *needs,
    })
}

/// One service and its real servers, read with [`ipvs::Ipvs::service`] and
/// [`ipvs::Ipvs::destinations`] (`-L -t ...`).
///
/// # Errors
/// The library's, and the operation that failed (as ipvsadm names it).
pub(crate) fn read_service(
    ipvs: &Ipvs,
    key: &ipvs::ServiceKey,
) -> Result<ServiceInfo, (ipvs::Operation, ipvs::Error)> {
    let mut service = ipvs
        .service(key)
        .map_err(|e| (ipvs::Operation::GetService, e))?;
    service.destinations = ipvs
        .destinations(key)
        .map_err(|e| (ipvs::Operation::ListDestinations, e))?;
    Ok(service)
}

impl Listing {
    /// The services in order, each with its real servers: read one service
    /// at a time where they are read per service, so that a table of
    /// 100,000 services never has all its real servers in memory at once.
    /// A service deleted since the table was read is given without any.
    pub(crate) fn services<'a>(
        self,
        ipvs: &'a Ipvs,
    ) -> Box<dyn Iterator<Item = ipvs::Result<ServiceInfo>> + 'a> {
        let Listing {
            services,
            servers,
            needs,
        } = self;
        if let Servers::Read = servers {
            return Box::new(services.into_iter().map(Ok));
        }
        let order = if needs.sorted {
            ipvsadm_service_order(&services)
        } else {
            (0..services.len()).collect()
        };
        let mut slots: Vec<Option<ServiceInfo>> = services.into_iter().map(Some).collect();
        let mut brief = match servers {
            Servers::Brief(all) => Some(all),
            _ => None,
        };
        Box::new(order.into_iter().filter_map(move |i| {
            let mut service = slots.get_mut(i)?.take()?;
            let in_full = |service: &ServiceInfo| match ipvs.destinations(&service.service.key) {
                // Deleted since the services were read: shown without any.
                Err(e) if e.kind() == ipvs::ErrorKind::NoSuchService => Ok(Vec::new()),
                other => other,
            };
            let destinations = match brief.as_mut() {
                None => in_full(&service),
                Some(all) => {
                    let servers = all.get_mut(i).map(std::mem::take).unwrap_or_default();
                    if needs.tunnels && servers.iter().any(|d| d.forward == ForwardMethod::Tunnel) {
                        in_full(&service)
                    } else {
                        Ok(servers.iter().map(from_brief).collect())
                    }
                }
            };
            Some(destinations.map(|mut destinations| {
                if needs.sorted {
                    ipvsadm_destination_order(&mut destinations);
                }
                service.destinations = destinations;
                service
            }))
        }))
    }
}

/// A real server in brief as the listings show it: no counters, thresholds
/// or tunnel parameters (the formats that show them read the table in full).
fn from_brief(d: &DestinationBrief) -> DestinationInfo {
    let mut destination =
        ipvs::Destination::new(d.address, d.port, d.forward).with_weight(d.weight);
    destination.tunnel = None;
    DestinationInfo {
        destination,
        active_connections: d.active_connections,
        inactive_connections: d.inactive_connections,
        persistent_connections: 0,
        stats: ipvs::Stats::default(),
    }
}
