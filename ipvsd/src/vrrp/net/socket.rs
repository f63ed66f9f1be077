//! The advert socket: one raw IP socket of protocol 112 per VRRP instance,
//! interface and family.
//!
//! The socket is bound to its interface (`SO_BINDTODEVICE`), so it sends
//! and receives there only; it sends with TTL / hop limit 255 (RFC 5798
//! §5.1.1.3, §5.1.2.3; keepalived uses 255 for unicast too unless
//! `unicast_ttl` says otherwise), does not loop its own multicast back, and
//! joins the group on the interface's index. It is not bound to an
//! address: a raw socket bound to an address receives only datagrams sent
//! to that address, which would lose the group's. The source of each
//! advert is set per datagram instead (`IP_PKTINFO` / `IPV6_PKTINFO`), so
//! [`Channel::source`] is what the peers see (the v3 IPv6 checksum's
//! pseudo-header needs it). `IPV6_CHECKSUM` is not set: the codec computes
//! the checksum.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, SockaddrStorage,
    recvmsg, sendmsg, setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::{NetError, address, interface};
use crate::vrrp::packet::ipv4_datagram;
use crate::vrrp::{GROUP_V4, GROUP_V6, PROTOCOL, TTL};

/// The address family of a [`Channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: adverts to 224.0.0.18 (v2 or v3).
    V4,
    /// IPv6: adverts to ff02::12 (v3 only).
    V6,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        }
    }

    fn holds(self, address: IpAddr) -> bool {
        matches!(
            (self, address),
            (Self::V4, IpAddr::V4(_)) | (Self::V6, IpAddr::V6(_))
        )
    }
}

/// Where adverts come from and go to (keepalived's `mcast_src_ip` /
/// `unicast_src_ip` and `unicast_peer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addressing {
    /// The source address of adverts; `None`: the interface's first IPv4
    /// address, or its IPv6 link-local address. It must be an address of
    /// this host.
    pub source: Option<IpAddr>,
    /// The peers adverts are sent to, each of the channel's family; none:
    /// the multicast group (224.0.0.18 or ff02::12), which the channel then
    /// joins.
    pub unicast_peers: Vec<IpAddr>,
}

/// One datagram received on a [`Channel`], with what the instance must
/// check before it believes it (RFC 5798 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The sender's address (the IP source).
    pub src: IpAddr,
    /// The address it was sent to: the group, or one of ours in unicast mode.
    pub dst: IpAddr,
    /// Its TTL (IPv4) or hop limit (IPv6) on arrival; an advert with
    /// anything but 255 came through a router and must be discarded.
    pub hop_limit: u8,
    /// The VRRP message: what follows the IP header (IPv4) or what the
    /// kernel hands up (IPv6).
    pub payload: Vec<u8>,
}

/// The raw protocol-112 socket of one VRRP instance on one interface and
/// family; see the [module](self) documentation for its options.
#[derive(Debug)]
pub struct Channel {
    fd: AsyncFd<Socket>,
    interface: String,
    index: u32,
    family: Family,
    source: IpAddr,
    destinations: Vec<IpAddr>,
}

/// The largest datagram read: an IPv4 header with options (60 bytes) and an
/// advert with 255 IPv6 addresses (8 + 4080) fit with room to spare; a
/// larger one is reported truncated.
const RECEIVE_BUFFER: usize = 8192;

impl Channel {
    /// Opens the channel on `interface` for `family`, as `addressing` says
    /// (`Addressing::default()`: multicast from the interface's address).
    ///
    /// The adverts' source is `addressing.source` when given, else the
    /// interface's first IPv4 address or its IPv6 link-local address
    /// (which must have finished duplicate address detection, or sending
    /// fails with `EADDRNOTAVAIL`/`EINVAL`). Must be called within a tokio
    /// runtime.
    ///
    /// # Errors
    /// [`NetError::NoInterface`]; [`NetError::NoAddress`] when there is no
    /// source address; [`NetError::WrongFamily`] for a source or peer of the
    /// other family; [`NetError::Permission`] without `CAP_NET_RAW`;
    /// [`NetError::Io`] when a socket option is refused;
    /// [`NetError::NoRuntime`] outside a tokio runtime.
    pub fn open(
        interface: &str,
        family: Family,
        addressing: Addressing,
    ) -> Result<Channel, NetError> {
        let index = address::interface_index(interface)?;
        let wrong_family = |address: IpAddr| NetError::WrongFamily {
            interface: interface.to_owned(),
            address,
            expected: family.name(),
        };
        let Addressing {
            source,
            unicast_peers: peers,
        } = addressing;
        let source = match source {
            Some(source) if family.holds(source) => source,
            Some(source) => return Err(wrong_family(source)),
            None => default_source(interface, family)?,
        };
        if let Some(peer) = peers.iter().find(|p| !family.holds(**p)) {
            return Err(wrong_family(*peer));
        }
        let destinations = if peers.is_empty() {
            vec![match family {
                Family::V4 => IpAddr::V4(GROUP_V4),
                Family::V6 => IpAddr::V6(GROUP_V6),
            }]
        } else {
            peers
        };
        let multicast = destinations.iter().any(IpAddr::is_multicast);

        let io = |operation| move |e| NetError::io(interface, operation, e);
        let domain = match family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(PROTOCOL))))
            .map_err(io("opening a raw socket of protocol 112"))?;
        socket
            .set_nonblocking(true)
            .map_err(io("setting O_NONBLOCK"))?;
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(io("binding the socket to the interface (SO_BINDTODEVICE)"))?;
        let ttl = u32::from(TTL);
        match family {
            Family::V4 => {
                socket.set_ttl_v4(ttl).map_err(io("setting IP_TTL"))?;
                socket
                    .set_multicast_ttl_v4(ttl)
                    .map_err(io("setting IP_MULTICAST_TTL"))?;
                socket
                    .set_multicast_loop_v4(false)
                    .map_err(io("clearing IP_MULTICAST_LOOP"))?;
                if multicast {
                    socket
                        .join_multicast_v4_n(&GROUP_V4, &InterfaceIndexOrAddress::Index(index))
                        .map_err(io("joining 224.0.0.18"))?;
                }
            }
            Family::V6 => {
                socket
                    .set_unicast_hops_v6(ttl)
                    .map_err(io("setting IPV6_UNICAST_HOPS"))?;
                socket
                    .set_multicast_hops_v6(ttl)
                    .map_err(io("setting IPV6_MULTICAST_HOPS"))?;
                socket
                    .set_multicast_loop_v6(false)
                    .map_err(io("clearing IPV6_MULTICAST_LOOP"))?;
                socket
                    .set_multicast_if_v6(index)
                    .map_err(io("setting IPV6_MULTICAST_IF"))?;
                socket
                    .set_recv_hoplimit_v6(true)
                    .map_err(io("setting IPV6_RECVHOPLIMIT"))?;
                setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)
                    .map_err(|e| io("setting IPV6_RECVPKTINFO")(e.into()))?;
                if multicast {
                    socket
                        .join_multicast_v6(&GROUP_V6, index)
                        .map_err(io("joining ff02::12"))?;
                }
            }
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(NetError::NoRuntime {
                interface: interface.to_owned(),
            });
        }
        // SAFETY: the socket owns its descriptor, which stays open and the
        // same until the AsyncFd (which owns the socket) is dropped.
        let fd = unsafe {
            AsyncFd::register_with_interest(socket, Interest::READABLE | Interest::WRITABLE)
        }
        .map_err(|e| io("registering the socket with tokio")(e.into()))?;
        Ok(Channel {
            fd,
            interface: interface.to_owned(),
            index,
            family,
            source,
            destinations,
        })
    }

    /// The address our adverts are sent from.
    pub fn source(&self) -> IpAddr {
        self.source
    }

    /// The interface the channel is bound to.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Sends one VRRP message (`payload`, checksum already in place) to the
    /// group, or to each unicast peer in turn; the kernel adds the IP
    /// header with TTL / hop limit 255 and [`Channel::source`].
    ///
    /// # Errors
    /// [`NetError::Send`] for the first destination that failed (the others
    /// are still tried).
    pub async fn send(&self, payload: &[u8]) -> Result<(), NetError> {
        let mut first_error = None;
        for destination in &self.destinations {
            if let Err(source) = self.send_one(*destination, payload).await {
                first_error.get_or_insert(NetError::Send {
                    interface: self.interface.clone(),
                    destination: *destination,
                    source,
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sends `payload` to `destination` alone: a v3 advert checksummed with
    /// a pseudo-header differs per destination (RFC 5798 §5.2.8), so a
    /// unicast instance encodes one for each peer.
    ///
    /// # Errors
    /// [`NetError::Send`] when the kernel refuses it.
    pub async fn send_to(&self, payload: &[u8], destination: IpAddr) -> Result<(), NetError> {
        self.send_one(destination, payload)
            .await
            .map_err(|source| NetError::Send {
                interface: self.interface.clone(),
                destination,
                source,
            })
    }

    async fn send_one(&self, destination: IpAddr, payload: &[u8]) -> io::Result<()> {
        let iov = [IoSlice::new(payload)];
        // The interface index in the packet info matters for IPv6
        // link-local and multicast destinations; it agrees with the bound
        // device for the others.
        let index = self.index;
        loop {
            let mut guard = self.fd.writable().await?;
            let sent = guard.try_io(|fd| {
                let raw = fd.get_ref().as_raw_fd();
                let result = match (destination, self.source) {
                    (IpAddr::V4(to), IpAddr::V4(from)) => {
                        let info = libc::in_pktinfo {
                            ipi_ifindex: index_c_int(index),
                            ipi_spec_dst: libc::in_addr {
                                s_addr: u32::from(from).to_be(),
                            },
                            ipi_addr: libc::in_addr { s_addr: 0 },
                        };
                        let to = SockaddrIn::from(SocketAddrV4::new(to, 0));
                        sendmsg(
                            raw,
                            &iov,
                            &[ControlMessage::Ipv4PacketInfo(&info)],
                            MsgFlags::empty(),
                            Some(&to),
                        )
                    }
                    (IpAddr::V6(to), IpAddr::V6(from)) => {
                        let info = libc::in6_pktinfo {
                            ipi6_addr: libc::in6_addr {
                                s6_addr: from.octets(),
                            },
                            ipi6_ifindex: index,
                        };
                        let to = SockaddrIn6::from(SocketAddrV6::new(to, 0, 0, scope(to, index)));
                        sendmsg(
                            raw,
                            &iov,
                            &[ControlMessage::Ipv6PacketInfo(&info)],
                            MsgFlags::empty(),
                            Some(&to),
                        )
                    }
                    // `open` refuses mixed families.
                    _ => Err(nix::errno::Errno::EAFNOSUPPORT),
                };
                result.map_err(io::Error::from)
            });
            match sent {
                Ok(result) => return result.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives the next datagram of protocol 112 that arrived on the
    /// interface (to the group, or to any of our addresses).
    ///
    /// # Errors
    /// [`NetError::Io`] when the socket fails; [`NetError::Malformed`] for a
    /// datagram that is not a whole IP datagram (the next call reads the
    /// next one).
    pub async fn recv(&self) -> Result<Received, NetError> {
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let (length, truncated, src, dst, hop_limit) = loop {
            let mut guard = self
                .fd
                .readable()
                .await
                .map_err(|e| NetError::io(&self.interface, "waiting for an advert", e))?;
            let read = guard.try_io(|fd| {
                let mut iov = [IoSliceMut::new(&mut buffer)];
                let message = recvmsg::<SockaddrStorage>(
                    fd.get_ref().as_raw_fd(),
                    &mut iov,
                    Some(&mut control),
                    MsgFlags::empty(),
                )
                .map_err(io::Error::from)?;
                let mut dst = None;
                let mut hop_limit = None;
                for cmsg in message.cmsgs().map_err(io::Error::from)? {
                    match cmsg {
                        ControlMessageOwned::Ipv6PacketInfo(info) => {
                            dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                        }
                        ControlMessageOwned::Ipv6HopLimit(limit) => hop_limit = Some(limit),
                        _ => {}
                    }
                }
                let src = message
                    .address
                    .and_then(|a| a.as_sockaddr_in6().map(|s| s.ip()));
                Ok((
                    message.bytes,
                    message.flags.contains(MsgFlags::MSG_TRUNC),
                    src,
                    dst,
                    hop_limit,
                ))
            });
            match read {
                Ok(result) => {
                    break result.map_err(|e| NetError::io(&self.interface, "receiving", e))?;
                }
                Err(_would_block) => continue,
            }
        };
        let malformed = |reason| NetError::Malformed {
            interface: self.interface.clone(),
            reason,
        };
        if truncated {
            return Err(malformed("longer than 8192 bytes"));
        }
        let data = buffer.get(..length).ok_or_else(|| malformed("length"))?;
        match self.family {
            Family::V4 => {
                let datagram = ipv4_datagram(data).map_err(|source| NetError::Datagram {
                    interface: self.interface.clone(),
                    source,
                })?;
                Ok(Received {
                    src: IpAddr::V4(datagram.src),
                    dst: IpAddr::V4(datagram.dst),
                    hop_limit: datagram.ttl,
                    payload: datagram.payload.to_vec(),
                })
            }
            Family::V6 => {
                let src = src.ok_or_else(|| malformed("no IPv6 source address"))?;
                let dst = dst.ok_or_else(|| malformed("no IPV6_PKTINFO ancillary data"))?;
                let hop_limit =
                    hop_limit.ok_or_else(|| malformed("no IPV6_HOPLIMIT ancillary data"))?;
                let hop_limit =
                    u8::try_from(hop_limit).map_err(|_| malformed("hop limit out of range"))?;
                Ok(Received {
                    src: IpAddr::V6(src),
                    dst: IpAddr::V6(dst),
                    hop_limit,
                    payload: data.to_vec(),
                })
            }
        }
    }
}

/// The source of adverts when none is configured.
fn default_source(interface: &str, family: Family) -> Result<IpAddr, NetError> {
    let found = match family {
        Family::V4 => interface::first_ipv4(interface)?.map(IpAddr::V4),
        Family::V6 => interface::link_local_v6(interface)?.map(IpAddr::V6),
    };
    found.ok_or_else(|| NetError::NoAddress {
        interface: interface.to_owned(),
        what: match family {
            Family::V4 => "IPv4 address",
            Family::V6 => "IPv6 link-local address",
        },
    })
}

/// The scope id a destination needs: the interface for link-local and
/// link-scope multicast addresses, none for the others.
fn scope(address: Ipv6Addr, index: u32) -> u32 {
    if address.is_unicast_link_local()
        || (address.is_multicast() && address.segments()[0] & 0x000f <= 2)
    {
        index
    } else {
        0
    }
}

/// An interface index as the C structures hold it (indices fit in an
/// `int`: the kernel allocates them as such).
fn index_c_int(index: u32) -> libc::c_int {
    libc::c_int::try_from(index).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_the_interface_for_link_scoped_destinations_only() {
        assert_eq!(scope(GROUP_V6, 7), 7);
        assert_eq!(scope("fe80::1".parse().unwrap(), 7), 7);
        assert_eq!(scope("2001:db8::1".parse().unwrap(), 7), 0);
        assert_eq!(scope("ff05::12".parse().unwrap(), 7), 0);
    }
}
