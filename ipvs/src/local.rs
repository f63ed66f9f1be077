//! Whether an address is the director's own, asked of the routing table of
//! a network namespace (`RTM_GETROUTE` on `NETLINK_ROUTE`): the route the
//! kernel would use towards it is of type `local`. That is the kernel's own
//! test for IPv4 real servers (`inet_addr_type() == RTN_LOCAL`), and for
//! IPv6 it finds the same addresses as the kernel's (an output route through
//! the loopback device) for every address configured on an interface.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// A routing socket of one network namespace (the one it was opened in).
pub(crate) struct Routes {
    socket: Socket,
    sequence: u32,
    buf: Vec<u8>,
}

impl Routes {
    /// Opens a routing socket in the calling thread's network namespace.
    pub(crate) fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Self {
            socket,
            sequence: 0,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Whether `address` is one of this namespace's own.
    ///
    /// # Errors
    /// The socket's, or an answer that is neither a route nor "no route".
    pub(crate) fn is_local(&mut self, address: IpAddr) -> io::Result<bool> {
        let mut route = RouteMessage::default();
        let (family, length) = match address {
            IpAddr::V4(_) => (AddressFamily::Inet, 32),
            IpAddr::V6(_) => (AddressFamily::Inet6, 128),
        };
        route.header.address_family = family;
        route.header.destination_prefix_length = length;
        route.header.table = RouteHeader::RT_TABLE_UNSPEC;
        route
            .attributes
            .push(RouteAttribute::Destination(RouteAddress::from(address)));
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST;
        header.sequence_number = self.sequence;
        let mut request = NetlinkMessage::new(
            header,
            NetlinkPayload::from(RouteNetlinkMessage::GetRoute(route)),
        );
        request.finalize();
        let mut out = vec![0; request.buffer_len()];
        request.serialize(&mut out);
        self.socket.send(&out, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.buf[..], 0)?;
            let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[..n])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            if reply.header.sequence_number != self.sequence {
                continue; // an answer to an earlier question
            }
            return match reply.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(r)) => {
                    Ok(r.header.kind == RouteType::Local)
                }
                // No usable route (unreachable, prohibited, a blackhole, the
                // family disabled): certainly not a local address.
                NetlinkPayload::Error(e) if e.code.is_some() => Ok(false),
                NetlinkPayload::Error(_) => {
                    Err(io::Error::other("RTM_GETROUTE answered with a bare ACK"))
                }
                _ => Err(io::Error::other(
                    "RTM_GETROUTE answered with another message",
                )),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loopback addresses are every host's own; TEST-NET-1 is no host's.
    #[test]
    fn loopback_is_local_and_test_net_is_not() {
        let mut routes = Routes::open().expect("a routing socket");
        assert!(
            routes
                .is_local("127.0.0.1".parse().expect("ip"))
                .expect("asked")
        );
        assert!(
            !routes
                .is_local("192.0.2.21".parse().expect("ip"))
                .expect("asked")
        );
    }
}
