//! Virtual addresses on an interface, and the interface's index and link
//! state, through rtnetlink (`RTM_NEWADDR`, `RTM_DELADDR`, `RTM_GETADDR`,
//! `RTM_GETLINK`).
//!
//! Each call opens its own rtnetlink connection in the calling thread's
//! network namespace and closes it when done: virtual addresses change
//! rarely (a state transition), and a short-lived connection cannot be
//! left waiting on a reply that was lost.

use std::io;
use std::net::IpAddr;

use futures_util::{StreamExt, TryStreamExt};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use rtnetlink::packet_route::link::LinkFlags;

use super::NetError;

/// The index of the interface `name` (`if_nametoindex(3)`).
///
/// # Errors
/// [`NetError::NoInterface`] when there is no such interface in this
/// network namespace (or the name cannot be one: too long, a NUL).
pub fn interface_index(name: &str) -> Result<u32, NetError> {
    match nix::net::if_::if_nametoindex(name) {
        Ok(index) if index != 0 => Ok(index),
        _ => Err(NetError::NoInterface {
            interface: name.to_owned(),
        }),
    }
}

/// Adds `address`/`prefix_len` to `interface`, with `label` (IPv4 only:
/// the kernel keeps no labels for IPv6, so it is ignored there), as
/// keepalived adds a `virtual_ipaddress`.
///
/// No broadcast address is set (keepalived sets one only for `brd`). An
/// IPv6 address is added with `IFA_F_NODAD`, as keepalived does: the new
/// master uses it at once instead of after a second of duplicate address
/// detection, and announces it with a neighbour advertisement.
///
/// Idempotent: when the interface already holds the address (with that
/// prefix length), the kernel answers `EEXIST`, taken as success.
///
/// # Errors
/// [`NetError::InvalidPrefix`] (over 32 for IPv4, 128 for IPv6),
/// [`NetError::InvalidLabel`], [`NetError::NoInterface`], and
/// [`NetError::Netlink`] with the kernel's errno (`EPERM` without
/// `CAP_NET_ADMIN`).
pub async fn add(
    interface: &str,
    address: IpAddr,
    prefix_len: u8,
    label: Option<&str>,
) -> Result<(), NetError> {
    let max = if address.is_ipv4() { 32 } else { 128 };
    if prefix_len > max {
        return Err(NetError::InvalidPrefix {
            interface: interface.to_owned(),
            address,
            prefix_len,
        });
    }
    if let Some(label) = label
        && (label.is_empty() || label.len() > 15 || label.contains('\0'))
    {
        return Err(NetError::InvalidLabel {
            interface: interface.to_owned(),
            label: label.to_owned(),
        });
    }
    let index = interface_index(interface)?;
    let mut message = address_message(index, address, prefix_len);
    match address {
        IpAddr::V4(_) => {
            if let Some(label) = label {
                message
                    .attributes
                    .push(AddressAttribute::Label(label.to_owned()));
            }
        }
        IpAddr::V6(_) => {
            message.header.flags = AddressHeaderFlags::Nodad;
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
    }
    let handle = connect(interface)?;
    let mut request = handle.address().add(index, address, prefix_len);
    *request.message_mut() = message;
    match request.execute().await {
        Ok(()) => Ok(()),
        Err(e) if errno(&e) == Some(libc::EEXIST) => Ok(()),
        Err(e) => Err(netlink_error(interface, Some(address), "adding", e)),
    }
}

/// Removes `address`/`prefix_len` from `interface`.
///
/// Idempotent: when the interface does not hold it, the kernel answers
/// `EADDRNOTAVAIL` (both families), taken as success.
///
/// # Errors
/// [`NetError::NoInterface`], and [`NetError::Netlink`] with the kernel's
/// errno (`EPERM` without `CAP_NET_ADMIN`).
pub async fn remove(interface: &str, address: IpAddr, prefix_len: u8) -> Result<(), NetError> {
    let index = interface_index(interface)?;
    let message = address_message(index, address, prefix_len);
    let handle = connect(interface)?;
    match handle.address().del(message).execute().await {
        Ok(()) => Ok(()),
        Err(e) if errno(&e) == Some(libc::EADDRNOTAVAIL) => Ok(()),
        Err(e) => Err(netlink_error(interface, Some(address), "removing", e)),
    }
}

/// Whether `interface` holds `address` (any prefix length).
///
/// # Errors
/// [`NetError::NoInterface`], and [`NetError::Netlink`] when the address
/// dump fails.
pub async fn holds(interface: &str, address: IpAddr) -> Result<bool, NetError> {
    let index = interface_index(interface)?;
    let handle = connect(interface)?;
    let mut request = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .set_address_filter(address);
    // Ask the kernel for one family only; the filters above do the rest.
    request.message_mut().header.family = family(address);
    let mut found = request.execute();
    match found.try_next().await {
        Ok(found) => Ok(found.is_some()),
        Err(e) => Err(netlink_error(
            interface,
            Some(address),
            "listing the addresses for",
            e,
        )),
    }
}

/// Whether `name` is up for VRRP's interface tracking: administratively up
/// (`IFF_UP`) and running (`IFF_RUNNING`: carrier and operational), the two
/// flags keepalived's `track_interface` checks.
///
/// # Errors
/// [`NetError::NoInterface`], and [`NetError::Netlink`] when the query fails.
pub async fn link_up(name: &str) -> Result<bool, NetError> {
    let index = interface_index(name)?;
    let handle = connect(name)?;
    let mut links = handle.link().get().match_index(index).execute();
    match links.next().await {
        Some(Ok(link)) => Ok(link
            .header
            .flags
            .contains(LinkFlags::Up | LinkFlags::Running)),
        Some(Err(e)) if errno(&e) == Some(libc::ENODEV) => Err(NetError::NoInterface {
            interface: name.to_owned(),
        }),
        Some(Err(e)) => Err(netlink_error(name, None, "reading the link state", e)),
        None => Err(NetError::NoInterface {
            interface: name.to_owned(),
        }),
    }
}

/// An `ifaddrmsg` for `address`/`prefix_len` on interface `index`, with
/// `IFA_LOCAL` and `IFA_ADDRESS` both the address (as `ip addr add` sends:
/// no peer), global scope.
fn address_message(index: u32, address: IpAddr, prefix_len: u8) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = family(address);
    message.header.prefix_len = prefix_len;
    message.header.index = index;
    message.header.scope = if address.is_ipv6() && is_link_local(address) {
        AddressScope::Link
    } else {
        AddressScope::Universe
    };
    message.attributes.push(AddressAttribute::Local(address));
    message.attributes.push(AddressAttribute::Address(address));
    message
}

fn is_link_local(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.is_unicast_link_local(),
    }
}

fn family(address: IpAddr) -> AddressFamily {
    match address {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// A new rtnetlink connection, driven by a task that ends when the
/// returned handle is dropped (its requests channel closes; the unsolicited
/// messages receiver is dropped here).
fn connect(interface: &str) -> Result<rtnetlink::Handle, NetError> {
    let (connection, handle, _unsolicited) =
        rtnetlink::new_connection().map_err(|e| NetError::Netlink {
            interface: interface.to_owned(),
            address: None,
            operation: "opening an rtnetlink socket",
            source: e,
        })?;
    tokio::spawn(connection);
    Ok(handle)
}

/// The kernel's errno in an rtnetlink error reply (positive), if it is one.
fn errno(error: &rtnetlink::Error) -> Option<i32> {
    match error {
        rtnetlink::Error::NetlinkError(message) => message.raw_code().checked_neg(),
        _ => None,
    }
}

fn netlink_error(
    interface: &str,
    address: Option<IpAddr>,
    operation: &'static str,
    error: rtnetlink::Error,
) -> NetError {
    let source = match errno(&error) {
        Some(errno) if errno > 0 => io::Error::from_raw_os_error(errno),
        _ => io::Error::other(error.to_string()),
    };
    NetError::Netlink {
        interface: interface.to_owned(),
        address,
        operation,
        source,
    }
}
