//! The announced routes in the kernel, through rtnetlink (`RTM_GETROUTE`,
//! `RTM_NEWROUTE`, `RTM_DELROUTE`): one `ADDRESS/32` (IPv6 `/128`) route
//! per announced address, `unicast dev lo`, scope host (IPv4), in the
//! configured table with the configured `rtm_protocol`. BIRD 2's `kernel`
//! protocol with `learn` imports such routes (checked with BIRD 2.0.12: it
//! ignores only the kernel's own protocol numbers, `redirect` and
//! `kernel`, and its own, `bird`).
//!
//! Each call opens its own rtnetlink connection, as the VRRP edge does
//! (`crate::vrrp::net::address`): a route changes when health changes, not
//! per packet.

use std::collections::BTreeSet;
use std::io;
use std::net::IpAddr;

use futures_util::TryStreamExt;
use rtnetlink::RouteMessageBuilder;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};

/// A route operation the kernel refused.
#[derive(Debug, thiserror::Error)]
#[error("route health: {operation} (table {table}): {source}")]
pub struct RouteError {
    /// What was being done, such as `adding 192.0.2.10/32`.
    pub operation: String,
    /// The routing table.
    pub table: u32,
    /// The kernel's error (`EPERM` without `CAP_NET_ADMIN`).
    #[source]
    pub source: io::Error,
}

/// The table and protocol number that make a route ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routes {
    /// The routing table, 1..=252.
    pub table: u32,
    /// The routes' `rtm_protocol`.
    pub protocol: u8,
}

impl Routes {
    fn error(&self, operation: String, e: rtnetlink::Error) -> RouteError {
        let source = match &e {
            rtnetlink::Error::NetlinkError(m) => match m.raw_code().checked_neg() {
                Some(errno) if errno > 0 => io::Error::from_raw_os_error(errno),
                _ => io::Error::other(e.to_string()),
            },
            _ => io::Error::other(e.to_string()),
        };
        RouteError {
            operation,
            table: self.table,
            source,
        }
    }

    fn connect(&self) -> Result<rtnetlink::Handle, RouteError> {
        let (connection, handle, _) = rtnetlink::new_connection().map_err(|source| RouteError {
            operation: "opening an rtnetlink socket".to_owned(),
            table: self.table,
            source,
        })?;
        tokio::spawn(connection);
        Ok(handle)
    }

    /// Our routes in the table now: the host routes (`/32`, `/128`) of our
    /// protocol number, with the kernel's message for each (to delete it).
    async fn ours(
        &self,
        handle: &rtnetlink::Handle,
    ) -> Result<Vec<(IpAddr, RouteMessage)>, RouteError> {
        let mut found = Vec::new();
        for family in [
            RouteMessageBuilder::<std::net::Ipv4Addr>::new().build(),
            RouteMessageBuilder::<std::net::Ipv6Addr>::new().build(),
        ] {
            let mut dump = handle.route().get(family).execute();
            while let Some(route) = dump
                .try_next()
                .await
                .map_err(|e| self.error("listing routes".to_owned(), e))?
            {
                if let Some(address) = self.our_address(&route) {
                    found.push((address, route));
                }
            }
        }
        Ok(found)
    }

    /// The address of `route` when it is one of ours.
    fn our_address(&self, route: &RouteMessage) -> Option<IpAddr> {
        let table = route
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Table(t) => Some(*t),
                _ => None,
            })
            .unwrap_or(u32::from(route.header.table));
        if table != self.table || u8::from(route.header.protocol) != self.protocol {
            return None;
        }
        let address = route.attributes.iter().find_map(|a| match a {
            RouteAttribute::Destination(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
            RouteAttribute::Destination(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
            _ => None,
        })?;
        let host = if address.is_ipv4() { 32 } else { 128 };
        (route.header.destination_prefix_length == host).then_some(address)
    }

    /// The route announcing `address`.
    fn message(&self, address: IpAddr, lo: u32) -> Result<RouteMessage, RouteError> {
        let host = if address.is_ipv4() { 32 } else { 128 };
        let builder = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(address, host)
            .map_err(|e| RouteError {
                operation: format!("building the route of {address}"),
                table: self.table,
                source: io::Error::other(e.to_string()),
            })?;
        // IPv4: scope host, as for an address of this machine; IPv6 routes
        // have no scope but universe.
        let scope = if address.is_ipv4() {
            RouteScope::Host
        } else {
            RouteScope::Universe
        };
        Ok(builder
            .output_interface(lo)
            .table_id(self.table)
            .protocol(RouteProtocol::from(self.protocol))
            .scope(scope)
            .kind(RouteType::Unicast)
            .build())
    }

    /// Makes our routes in the table exactly `wanted`: removes the others
    /// of our protocol number (stale ones, withdrawn ones), adds the
    /// missing. Idempotent; a route someone else removed comes back.
    /// Gives the addresses added and removed.
    ///
    /// # Errors
    /// [`RouteError`] on the first refusal (the rest is left for the next
    /// call): no `lo`, no permission, a dump that fails.
    pub async fn sync(
        &self,
        wanted: &BTreeSet<IpAddr>,
    ) -> Result<(Vec<IpAddr>, Vec<IpAddr>), RouteError> {
        let handle = self.connect()?;
        let present = self.ours(&handle).await?;
        let mut removed = Vec::new();
        for (address, route) in &present {
            if wanted.contains(address) {
                continue;
            }
            match handle.route().del(route.clone()).execute().await {
                Ok(()) => removed.push(*address),
                Err(e) if is_errno(&e, libc::ESRCH) => {}
                Err(e) => return Err(self.error(format!("removing {address}"), e)),
            }
        }
        let have: BTreeSet<IpAddr> = present.iter().map(|(a, _)| *a).collect();
        let mut added = Vec::new();
        let missing: Vec<IpAddr> = wanted.difference(&have).copied().collect();
        if !missing.is_empty() {
            let lo = match nix::net::if_::if_nametoindex("lo") {
                Ok(i) if i != 0 => i,
                _ => {
                    return Err(RouteError {
                        operation: "finding the loopback interface lo".to_owned(),
                        table: self.table,
                        source: io::Error::from_raw_os_error(libc::ENODEV),
                    });
                }
            };
            for address in missing {
                let message = self.message(address, lo)?;
                match handle.route().add(message).execute().await {
                    Ok(()) => added.push(address),
                    Err(e) if is_errno(&e, libc::EEXIST) => {}
                    Err(e) => return Err(self.error(format!("adding {address}"), e)),
                }
            }
        }
        Ok((added, removed))
    }
}

fn is_errno(e: &rtnetlink::Error, errno: i32) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if m.raw_code() == -errno)
}
