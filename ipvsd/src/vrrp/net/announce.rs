//! Announcing a virtual address after a transition to master, so that
//! neighbours replace the old master's hardware address in their caches
//! (RFC 5798 §6.4.1: "broadcast a gratuitous ARP request" for IPv4, "send
//! an unsolicited ND Neighbor Advertisement" for IPv6).
//!
//! Both send one message per call; the instance repeats them as keepalived
//! does (`garp_master_repeat`, `garp_master_delay`). Both use the
//! interface's own hardware address: keepalived does so unless `use_vmac`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{NetError, address, interface};

/// EtherType of ARP (network byte order on the wire).
const ETHERTYPE_ARP: u16 = 0x0806;
/// ICMPv6 Neighbor Advertisement (RFC 4861 §4.4).
const NEIGHBOR_ADVERTISEMENT: u8 = 136;
/// The Override flag of a neighbour advertisement (RFC 4861 §4.4), in the
/// 32-bit flags word after the ICMPv6 header's checksum.
const FLAG_OVERRIDE: u32 = 0x2000_0000;
/// The Target Link-Layer Address option (RFC 4861 §4.6.1).
const OPTION_TARGET_LINK_LAYER_ADDRESS: u8 = 2;
/// ff02::1, every node on the link: where unsolicited advertisements go
/// (RFC 4861 §7.2.6).
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// The hop limit every neighbour discovery message carries; receivers drop
/// others (RFC 4861 §7.1.2).
const ND_HOP_LIMIT: u32 = 255;

/// The Ethernet frame of a gratuitous ARP for `address` from `mac`: an ARP
/// request (op 1) broadcast to ff:ff:ff:ff:ff:ff, sender and target
/// protocol address both `address`, sender hardware address `mac`, target
/// hardware address ff:ff:ff:ff:ff:ff (keepalived's choices in
/// `vrrp_arp.c`; RFC 5227 §3 would put zeros there, and receivers ignore
/// it). 42 bytes; the driver pads it to the minimum frame size.
pub fn gratuitous_arp_frame(mac: [u8; 6], address: Ipv4Addr) -> [u8; 42] {
    let mut frame = [0u8; 42];
    // Ethernet: destination, source, type.
    frame[0..6].copy_from_slice(&[0xff; 6]);
    frame[6..12].copy_from_slice(&mac);
    frame[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    // ARP: hardware type Ethernet (1), protocol IPv4 (0x0800), lengths 6
    // and 4, operation request (1).
    frame[14..22].copy_from_slice(&[0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
    frame[22..28].copy_from_slice(&mac);
    frame[28..32].copy_from_slice(&address.octets());
    frame[32..38].copy_from_slice(&[0xff; 6]);
    frame[38..42].copy_from_slice(&address.octets());
    frame
}

/// The ICMPv6 message of an unsolicited neighbour advertisement for
/// `address` at `mac` (RFC 4861 §4.4, §7.2.6): type 136, code 0, checksum
/// left 0 for the kernel, flags Override set and Router and Solicited
/// clear, the target, and a Target Link-Layer Address option with `mac`.
/// 32 bytes.
pub fn neighbor_advertisement(mac: [u8; 6], address: Ipv6Addr) -> [u8; 32] {
    let mut message = [0u8; 32];
    message[0] = NEIGHBOR_ADVERTISEMENT;
    message[4..8].copy_from_slice(&FLAG_OVERRIDE.to_be_bytes());
    message[8..24].copy_from_slice(&address.octets());
    message[24] = OPTION_TARGET_LINK_LAYER_ADDRESS;
    message[25] = 1; // length in units of 8 bytes
    message[26..32].copy_from_slice(&mac);
    message
}

/// Sends one gratuitous ARP for `address` on `interface` (see
/// [`gratuitous_arp_frame`] for its fields), through a packet socket that
/// receives nothing.
///
/// # Errors
/// [`NetError::NoInterface`], [`NetError::NoHardwareAddress`],
/// [`NetError::Permission`] without `CAP_NET_RAW`, [`NetError::Send`].
pub fn gratuitous_arp(interface: &str, address: Ipv4Addr) -> Result<(), NetError> {
    let index = address::interface_index(interface)?;
    let mac = interface::hardware_address(interface)?;
    let frame = gratuitous_arp_frame(mac, address);
    let io = |operation| move |e| NetError::io(interface, operation, e);
    // Protocol 0: the socket is for sending only and gets no frames.
    let socket =
        Socket::new(Domain::PACKET, Type::RAW, None).map_err(io("opening a packet socket"))?;
    let destination = link_layer_destination(index, ETHERTYPE_ARP, [0xff; 6]);
    // SAFETY: `destination` is an initialised sockaddr_ll and the length
    // passed is its size; sendto only reads them and the frame.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            std::ptr::from_ref(&destination).cast(),
            socklen_of::<libc::sockaddr_ll>(),
        )
    };
    if sent < 0 {
        return Err(NetError::Send {
            interface: interface.to_owned(),
            destination: address.into(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Sends one unsolicited neighbour advertisement for `address` on
/// `interface` (see [`neighbor_advertisement`] for its fields) to ff02::1
/// with hop limit 255, from `address` itself as keepalived does (the
/// socket may bind it before duplicate address detection is over:
/// `IPV6_FREEBIND`). The kernel computes the ICMPv6 checksum, as it does
/// for every raw ICMPv6 socket.
///
/// keepalived sets the Router flag when the interface forwards IPv6; this
/// one leaves it clear.
///
/// # Errors
/// [`NetError::NoInterface`], [`NetError::NoHardwareAddress`],
/// [`NetError::Permission`] without `CAP_NET_RAW`, [`NetError::Io`] when a
/// socket option or the bind is refused, [`NetError::Send`].
pub fn unsolicited_na(interface: &str, address: Ipv6Addr) -> Result<(), NetError> {
    let index = address::interface_index(interface)?;
    let mac = interface::hardware_address(interface)?;
    let message = neighbor_advertisement(mac, address);
    let io = |operation| move |e| NetError::io(interface, operation, e);
    let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))
        .map_err(io("opening a raw ICMPv6 socket"))?;
    socket
        .bind_device(Some(interface.as_bytes()))
        .map_err(io("binding the socket to the interface (SO_BINDTODEVICE)"))?;
    socket
        .set_multicast_hops_v6(ND_HOP_LIMIT)
        .map_err(io("setting IPV6_MULTICAST_HOPS"))?;
    socket
        .set_multicast_if_v6(index)
        .map_err(io("setting IPV6_MULTICAST_IF"))?;
    socket
        .set_multicast_loop_v6(false)
        .map_err(io("clearing IPV6_MULTICAST_LOOP"))?;
    socket
        .set_freebind_v6(true)
        .map_err(io("setting IPV6_FREEBIND"))?;
    let scope = if address.is_unicast_link_local() {
        index
    } else {
        0
    };
    socket
        .bind(&SockAddr::from(SocketAddrV6::new(address, 0, 0, scope)))
        .map_err(io("binding the socket to the advertised address"))?;
    let to = SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, index));
    socket
        .send_to(&message, &to)
        .map_err(|source| NetError::Send {
            interface: interface.to_owned(),
            destination: ALL_NODES.into(),
            source,
        })?;
    Ok(())
}

/// A `sockaddr_ll` for sending a frame of `protocol` to `mac` on
/// interface `index`.
fn link_layer_destination(index: u32, protocol: u16, mac: [u8; 6]) -> libc::sockaddr_ll {
    let mut addr = [0u8; 8];
    addr[..6].copy_from_slice(&mac);
    libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: protocol.to_be(),
        sll_ifindex: libc::c_int::try_from(index).unwrap_or(0),
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr: addr,
    }
}

fn socklen_of<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(std::mem::size_of::<T>()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    #[test]
    fn gratuitous_arp_frame_is_a_broadcast_request_for_the_address() {
        let frame = gratuitous_arp_frame(MAC, Ipv4Addr::new(10, 99, 0, 100));
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet destination: broadcast
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, // Ethernet source: the interface
            0x08, 0x06, // EtherType ARP
            0x00, 0x01, 0x08, 0x00, 6, 4, // Ethernet / IPv4, 6 / 4
            0x00, 0x01, // request
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 10, 99, 0, 100, // sender
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 99, 0, 100, // target
        ];
        assert_eq!(frame, expected);
    }

    #[test]
    fn neighbor_advertisement_overrides_and_names_the_link_layer_address() {
        let target: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let message = neighbor_advertisement(MAC, target);
        assert_eq!(&message[..4], &[136, 0, 0, 0]);
        assert_eq!(&message[4..8], &[0x20, 0, 0, 0], "O set, R and S clear");
        assert_eq!(&message[8..24], &target.octets());
        assert_eq!(&message[24..26], &[2, 1]);
        assert_eq!(&message[26..], &MAC);
    }
}
