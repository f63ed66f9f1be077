//! Whether an address is the director's own, asked of the routing table of
//! a network namespace (`RTM_GETROUTE` on `NETLINK_ROUTE`): the route the
//! kernel would use towards it is of type `local`. That is the kernel's own
//! test for IPv4 real servers (`inet_addr_type() == RTN_LOCAL`), and for
//! IPv6 it finds the same addresses as the kernel's (an output route through
//! the loopback device) for every address configured on an interface.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    DecodeError, Emitable, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NetlinkSerializable, Parseable,
};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// `RTM_NEWROUTE` and `RTM_GETROUTE` (`include/uapi/linux/rtnetlink.h`).
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;

/// The route messages of this exchange: the question (`RTM_GETROUTE`) and
/// its answer (`RTM_NEWROUTE`). Decoding only these, rather than every
/// `NETLINK_ROUTE` message (`RouteNetlinkMessage`), keeps the parsers of
/// links, traffic control and the rest out of every program that links
/// this library: about 450 KiB that each start of `ipvsadm-rs` mapped.
#[derive(Debug)]
enum RouteQuery {
    Get(RouteMessage),
    New(RouteMessage),
}

impl NetlinkSerializable for RouteQuery {
    fn message_type(&self) -> u16 {
        match self {
            Self::Get(_) => RTM_GETROUTE,
            Self::New(_) => RTM_NEWROUTE,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Self::Get(route) | Self::New(route) => route.buffer_len(),
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        match self {
            Self::Get(route) | Self::New(route) => route.emit(buffer),
        }
    }
}

impl NetlinkDeserializable for RouteQuery {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        match header.message_type {
            RTM_NEWROUTE => RouteMessage::parse(payload).map(Self::New),
            other => Err(DecodeError::from(format!(
                "route message of type {other}, not RTM_NEWROUTE"
            ))),
        }
    }
}

impl From<RouteQuery> for NetlinkPayload<RouteQuery> {
    fn from(message: RouteQuery) -> Self {
        NetlinkPayload::InnerMessage(message)
    }
}

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
        let mut request = NetlinkMessage::new(header, NetlinkPayload::from(RouteQuery::Get(route)));
        request.finalize();
        let mut out = vec![0; request.buffer_len()];
        request.serialize(&mut out);
        self.socket.send(&out, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.buf[..], 0)?;
            let reply = NetlinkMessage::<RouteQuery>::deserialize(&self.buf[..n])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            if reply.header.sequence_number != self.sequence {
                continue; // an answer to an earlier question
            }
            return match reply.payload {
                NetlinkPayload::InnerMessage(RouteQuery::New(r)) => {
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
