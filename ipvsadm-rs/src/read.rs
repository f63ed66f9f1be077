//! Every read of the virtual service table the command line makes, in one
//! place: the listing says what it needs, the library's
//! [`Ipvs::read_table`] picks the kernel interfaces, and [`Listing::services`]
//! gives the services complete and in order, one at a time, for a renderer
//! to format.

use ipvs::{Destinations, Ipvs, ReadOptions, ServiceInfo, TableRead};

use crate::sort::{ipvsadm_destination_order, ipvsadm_service_order, valid_order};

/// What a listing needs of the table.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Needs {
    /// Real servers in full: counters, thresholds, persistent connections
    /// (else their address, forwarding, tunnel, weight and connection
    /// counts are enough).
    pub(crate) full_servers: bool,
    /// A settled table (no service a dump skipped): the JSON and table
    /// views, which can become the desired state of an apply.
    pub(crate) settled: bool,
    /// Ordered: ipvsadm's order of services and real servers, or for a
    /// settled table a valid order (else the kernel's).
    pub(crate) sorted: bool,
}

/// The table as read: the services, with their real servers to come.
pub(crate) struct Listing<'a> {
    table: TableRead<'a>,
    needs: Needs,
}

/// Reads the table for a listing that needs `needs`.
///
/// # Errors
/// The library's, when the services cannot be read.
pub(crate) fn read_table<'a>(ipvs: &'a Ipvs, needs: &Needs) -> ipvs::Result<Listing<'a>> {
    let destinations = match needs.full_servers {
        true => Destinations::Full,
        false => Destinations::Brief,
    };
    let mut table = ipvs.read_table(
        ReadOptions::new()
            .destinations(destinations)
            .settled(needs.settled),
    )?;
    if needs.sorted && needs.settled {
        table.services_mut().sort_by_key(|s| s.service.key);
    } else if needs.sorted {
        ipvsadm_service_order(table.services_mut());
    }
    Ok(Listing {
        table,
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

impl<'a> Listing<'a> {
    /// The services in order, each with its real servers: read one service
    /// at a time where they are read per service, so that a table of
    /// 100,000 services never has all its real servers in memory at once.
    /// A service deleted since the table was read is given without any.
    pub(crate) fn services(self) -> impl Iterator<Item = ipvs::Result<ServiceInfo>> + 'a {
        let Listing { table, needs } = self;
        table.map(move |read| {
            read.map(|mut service| {
                if needs.sorted && needs.settled {
                    valid_order(std::slice::from_mut(&mut service));
                } else if needs.sorted {
                    ipvsadm_destination_order(&mut service.destinations);
                }
                service
            })
        })
    }
}
