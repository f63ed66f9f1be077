//! What the edge needs to know about an interface, read with
//! `getifaddrs(3)` (the kernel's address and link dumps, in their order).

use std::net::{Ipv4Addr, Ipv6Addr};

use nix::ifaddrs::{InterfaceAddress, getifaddrs};

use super::NetError;

/// The entries of `getifaddrs(3)` for `interface`.
fn entries(interface: &str) -> Result<Vec<InterfaceAddress>, NetError> {
    let all = getifaddrs()
        .map_err(|e| NetError::io(interface, "listing interface addresses", e.into()))?;
    Ok(all.filter(|a| a.interface_name == interface).collect())
}

/// The interface's first IPv4 address (its primary one: the kernel lists
/// primaries before secondaries), as keepalived takes for `mcast_src_ip`'s
/// default.
pub(crate) fn first_ipv4(interface: &str) -> Result<Option<Ipv4Addr>, NetError> {
    Ok(entries(interface)?
        .iter()
        .filter_map(|a| a.address.as_ref()?.as_sockaddr_in().map(|s| s.ip()))
        .next())
}

/// The interface's first IPv6 link-local address (fe80::/10), the source of
/// IPv6 adverts (RFC 5798 §5.1.2.1).
pub(crate) fn link_local_v6(interface: &str) -> Result<Option<Ipv6Addr>, NetError> {
    Ok(entries(interface)?
        .iter()
        .filter_map(|a| a.address.as_ref()?.as_sockaddr_in6().map(|s| s.ip()))
        .find(Ipv6Addr::is_unicast_link_local))
}

/// The interface's Ethernet (6-byte) hardware address.
pub(crate) fn hardware_address(interface: &str) -> Result<[u8; 6], NetError> {
    entries(interface)?
        .iter()
        .find_map(|a| a.address.as_ref()?.as_link_addr()?.addr())
        .ok_or_else(|| NetError::NoHardwareAddress {
            interface: interface.to_owned(),
        })
}
