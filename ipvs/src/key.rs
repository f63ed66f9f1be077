//! What identifies a virtual service: protocol, address and port, or a
//! firewall mark; and the small enums they are made of.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

#[cfg(feature = "serde")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address family, as IPVS distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum AddressFamily {
    /// IPv4 (`AF_INET`).
    Ipv4,
    /// IPv6 (`AF_INET6`).
    Ipv6,
}

impl AddressFamily {
    /// The family of `addr`.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
        })
    }
}

/// The layer-4 protocol of a virtual service.
///
/// In JSON: `"tcp"`, `"udp"`, `"sctp"`, or the protocol number for any other
/// (the kernel does not check it on netlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
    /// Any other IP protocol number.
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
            Self::Sctp => 132,
            Self::Other(n) => n,
        }
    }

    /// The protocol of an IP protocol number.
    pub fn from_number(n: u16) -> Self {
        match n {
            6 => Self::Tcp,
            17 => Self::Udp,
            132 => Self::Sctp,
            n => Self::Other(n),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp => f.write_str("tcp"),
            Self::Udp => f.write_str("udp"),
            Self::Sctp => f.write_str("sctp"),
            Self::Other(n) => write!(f, "proto-{n}"),
        }
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Self::Tcp),
            "udp" => Ok(Self::Udp),
            "sctp" => Ok(Self::Sctp),
            other => other
                .strip_prefix("proto-")
                .unwrap_or(other)
                .parse::<u16>()
                .map(Self::from_number)
                .map_err(|_| {
                    format!("unknown protocol `{s}` (expected tcp, udp, sctp or a number)")
                }),
        }
    }
}

#[cfg(feature = "serde")]
impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Other(n) => serializer.serialize_u16(*n),
            named => serializer.collect_str(named),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(u16),
            Name(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Number(n) => Ok(Self::from_number(n)),
            Repr::Name(name) => name.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The identity of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// A service on a protocol, address and port (port 0: every port, for
    /// persistent services). The address family is the address's.
    Inet {
        /// The protocol.
        protocol: Protocol,
        /// The virtual IP address.
        address: IpAddr,
        /// The port (0 for all ports).
        port: u16,
    },
    /// A service on packets carrying a firewall mark (set by iptables/nftables).
    Fwmark {
        /// The family of the packets it takes.
        family: AddressFamily,
        /// The mark, 1 or more.
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    pub fn tcp(address: impl Into<IpAddr>, port: u16) -> Self {
        Self::Inet {
            protocol: Protocol::Tcp,
            address: address.into(),
            port,
        }
    }

    /// A UDP service.
    pub fn udp(address: impl Into<IpAddr>, port: u16) -> Self {
        Self::Inet {
            protocol: Protocol::Udp,
            address: address.into(),
            port,
        }
    }

    /// An SCTP service.
    pub fn sctp(address: impl Into<IpAddr>, port: u16) -> Self {
        Self::Inet {
            protocol: Protocol::Sctp,
            address: address.into(),
            port,
        }
    }

    /// A firewall-mark service.
    pub fn fwmark(family: AddressFamily, mark: u32) -> Self {
        Self::Fwmark { family, mark }
    }

    /// A service on `protocol` at a socket address.
    pub fn from_socket(protocol: Protocol, socket: SocketAddr) -> Self {
        Self::Inet {
            protocol,
            address: socket.ip(),
            port: socket.port(),
        }
    }

    /// The address family of the service.
    pub fn family(&self) -> AddressFamily {
        match self {
            Self::Inet { address, .. } => AddressFamily::of(address),
            Self::Fwmark { family, .. } => *family,
        }
    }

    /// The port, or 0 for a firewall-mark service.
    pub fn port(&self) -> u16 {
        match self {
            Self::Inet { port, .. } => *port,
            Self::Fwmark { .. } => 0,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inet {
                protocol,
                address: IpAddr::V4(a),
                port,
            } => write!(f, "{protocol} {a}:{port}"),
            Self::Inet {
                protocol,
                address: IpAddr::V6(a),
                port,
            } => write!(f, "{protocol} [{a}]:{port}"),
            Self::Fwmark {
                family: AddressFamily::Ipv4,
                mark,
            } => write!(f, "fwmark {mark}"),
            Self::Fwmark {
                family: AddressFamily::Ipv6,
                mark,
            } => write!(f, "fwmark {mark} ipv6"),
        }
    }
}

/// A service key that could not be read from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid service `{text}`: {why} (expected `tcp 192.0.2.1:80`, `udp [2001:db8::1]:53`, `fwmark 5` or `fwmark 5 ipv6`)"
)]
pub struct ParseServiceKeyError {
    text: String,
    why: &'static str,
}

/// Reads what [`ServiceKey`]'s `Display` writes: `PROTOCOL ADDRESS:PORT`
/// (an IPv6 address in brackets; protocol `tcp`, `udp`, `sctp` or a
/// number) or `fwmark MARK` with an optional ` ipv6`.
impl FromStr for ServiceKey {
    type Err = ParseServiceKeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why| ParseServiceKeyError {
            text: text.to_owned(),
            why,
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["fwmark", mark, rest @ ..] => {
                let mark = mark.parse().map_err(|_| fail("the mark is not a number"))?;
                let family = match rest {
                    [] | ["ipv4"] => AddressFamily::Ipv4,
                    ["ipv6"] => AddressFamily::Ipv6,
                    _ => return Err(fail("a mark is followed by nothing, `ipv4` or `ipv6`")),
                };
                Ok(Self::Fwmark { family, mark })
            }
            [protocol, socket] => {
                let protocol = protocol
                    .parse::<Protocol>()
                    .map_err(|_| fail("unknown protocol"))?;
                let socket = socket
                    .parse::<SocketAddr>()
                    .map_err(|_| fail("not an ADDRESS:PORT"))?;
                Ok(Self::from_socket(protocol, socket))
            }
            _ => Err(fail("not two words")),
        }
    }
}

/// Writes `address:port`, with brackets around an IPv6 address.
pub(crate) fn fmt_socket(f: &mut fmt::Formatter<'_>, address: &IpAddr, port: u16) -> fmt::Result {
    match address {
        IpAddr::V4(a) => write!(f, "{a}:{port}"),
        IpAddr::V6(a) => write!(f, "[{a}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_from_their_text() {
        let keys = [
            ServiceKey::tcp(std::net::Ipv4Addr::new(192, 0, 2, 1), 80),
            ServiceKey::udp("2001:db8::1".parse::<IpAddr>().expect("ip"), 53),
            ServiceKey::sctp(std::net::Ipv4Addr::new(192, 0, 2, 1), 3868),
            ServiceKey::fwmark(AddressFamily::Ipv4, 5),
            ServiceKey::fwmark(AddressFamily::Ipv6, 7),
        ];
        for key in keys {
            assert_eq!(key.to_string().parse::<ServiceKey>(), Ok(key), "{key}");
        }
        for bad in [
            "tcp 192.0.2.1",
            "icmp 192.0.2.1:80",
            "fwmark x",
            "fwmark 5 ipv7",
            "tcp",
        ] {
            let err = bad.parse::<ServiceKey>().expect_err(bad);
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid service `{bad}`")),
                "{err}"
            );
        }
    }
}
