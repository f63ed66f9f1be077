//! The one error type of the network edge.

use std::io;
use std::net::IpAddr;

/// What went wrong at the VRRP network edge. Every variant names the
/// interface, and the address where one is involved; the kernel's errno is
/// kept in the [`io::Error`] sources (`raw_os_error()`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// No interface of that name in this network namespace.
    #[error("interface {interface}: no such interface")]
    NoInterface {
        /// The interface name asked for.
        interface: String,
    },
    /// The interface has no address of the family needed as the adverts'
    /// source: no IPv4 address, or no IPv6 link-local address.
    #[error("interface {interface}: no {what} to send VRRP adverts from")]
    NoAddress {
        /// The interface.
        interface: String,
        /// The kind of address missing ("IPv4 address", "IPv6 link-local address").
        what: &'static str,
    },
    /// The interface has no 6-byte (Ethernet) hardware address, so no
    /// gratuitous ARP or neighbour advertisement can name one.
    #[error("interface {interface}: no Ethernet hardware address")]
    NoHardwareAddress {
        /// The interface.
        interface: String,
    },
    /// The kernel refused for lack of privilege (`EPERM`/`EACCES`): raw
    /// and packet sockets need `CAP_NET_RAW`, address changes `CAP_NET_ADMIN`.
    #[error(
        "interface {interface}: {operation}: permission denied (needs CAP_NET_RAW / CAP_NET_ADMIN, as root has)"
    )]
    Permission {
        /// The interface.
        interface: String,
        /// What was being done.
        operation: &'static str,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// A socket call failed for another reason than privilege.
    #[error("interface {interface}: {operation}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// What was being done.
        operation: &'static str,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// Sending an advert or announcement to one destination failed.
    #[error("interface {interface}: sending to {destination}: {source}")]
    Send {
        /// The interface.
        interface: String,
        /// Where it was sent (the group, a unicast peer, ff02::1).
        destination: IpAddr,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// An rtnetlink request (address add/remove/dump, link query) failed.
    #[error("interface {interface}: {operation}{}: {source}", address.map(|a| format!(" {a}")).unwrap_or_default())]
    Netlink {
        /// The interface.
        interface: String,
        /// The address concerned, if any.
        address: Option<IpAddr>,
        /// What was being done.
        operation: &'static str,
        /// The kernel's errno as an [`io::Error`], or the rtnetlink
        /// failure described.
        #[source]
        source: io::Error,
    },
    /// An address of the other family than the channel's or the call's
    /// (a unicast peer `fe80::2` on an IPv4 channel).
    #[error("interface {interface}: {address} is not an {expected} address")]
    WrongFamily {
        /// The interface.
        interface: String,
        /// The address given.
        address: IpAddr,
        /// The family expected ("IPv4", "IPv6").
        expected: &'static str,
    },
    /// A prefix length longer than the address (more than 32 for IPv4,
    /// 128 for IPv6).
    #[error("interface {interface}: {address}/{prefix_len}: prefix length out of range")]
    InvalidPrefix {
        /// The interface.
        interface: String,
        /// The address.
        address: IpAddr,
        /// The prefix length given.
        prefix_len: u8,
    },
    /// An address label the kernel cannot hold (empty, longer than 15
    /// bytes, or with a NUL).
    #[error("interface {interface}: address label {label:?} is not 1 to 15 bytes without NUL")]
    InvalidLabel {
        /// The interface.
        interface: String,
        /// The label given.
        label: String,
    },
    /// A received datagram that cannot be a VRRP advert's IP datagram (too
    /// short, wrong IP version, header length past its end, missing
    /// ancillary data, truncated).
    #[error("interface {interface}: received a malformed datagram ({reason})")]
    Malformed {
        /// The interface.
        interface: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A received IPv4 datagram that is not a whole VRRP datagram (the
    /// codec's [`ipv4_datagram`](crate::vrrp::packet::ipv4_datagram)).
    #[error("interface {interface}: {source}")]
    Datagram {
        /// The interface.
        interface: String,
        /// What is wrong with it.
        #[source]
        source: crate::vrrp::packet::PacketError,
    },
    /// [`Channel::open`](super::Channel::open) was called outside a tokio
    /// runtime, which its socket needs for readiness.
    #[error("interface {interface}: the VRRP socket must be opened within a tokio runtime")]
    NoRuntime {
        /// The interface.
        interface: String,
    },
}

impl NetError {
    /// A socket call's error: [`NetError::Permission`] for `EPERM`/`EACCES`,
    /// [`NetError::NoInterface`] for `ENODEV`, [`NetError::Io`] otherwise.
    pub(crate) fn io(interface: &str, operation: &'static str, source: io::Error) -> Self {
        let interface = interface.to_owned();
        match source.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Self::Permission {
                interface,
                operation,
                source,
            },
            Some(libc::ENODEV) => Self::NoInterface { interface },
            _ => Self::Io {
                interface,
                operation,
                source,
            },
        }
    }
}
