//! What the library accepts, field by field: the one validation behind
//! [`Service::validate`](crate::Service::validate),
//! [`Destination::validate`](crate::Destination::validate),
//! [`SyncDaemon::validate`](crate::SyncDaemon::validate),
//! [`Timeouts::validate`](crate::Timeouts::validate), and so behind every
//! handle operation, batch ([`Change::validate`](crate::Change::validate)),
//! desired state, `apply`, `diff` and the `ipvsadm-rs` command line.
//!
//! The rule it keeps: nothing accepted is stored by the kernel differently
//! from what it says, or is a state that ipvsadm 1.31's command line could
//! not make (a table built here must survive `ipvsadm -S` and `-R`). Next to
//! each check: what ipvsadm does with the value on its command line, and what
//! the kernel does with it (`net/netfilter/ipvs/ip_vs_ctl.c` and
//! `ip_vs_sync.c`, as of Linux 6.1).
//!
//! Two rules need the director itself, and the handle checks them against
//! the addresses of its network namespace (`crate::local`): local forwarding,
//! and IPv6 link-local real servers ([`needs_local_address`]).

mod daemon;
mod destination;
mod service;
mod timeouts;

pub(crate) use daemon::check_daemon;
pub use daemon::sync_len_range;
pub(crate) use destination::{check_destination, needs_local_address};
pub(crate) use service::check_service;
pub(crate) use timeouts::check_timeouts;

use std::net::IpAddr;

use crate::daemon::DaemonRole;
use crate::destination::ForwardMethod;
use crate::key::AddressFamily;
use crate::service::Netmask;

/// The longest timeout, in seconds, that ipvsadm takes for persistence
/// (`-p`) and for the connection timeouts (`--set`): 31 days. The kernel
/// counts them in ticks (seconds × HZ) and accepts more at low HZ, but a
/// longer persistence timeout would not survive `ipvsadm -S` and `-R`.
pub const MAX_TIMEOUT: u32 = 2_678_400;

/// The largest weight or threshold: the kernel reads them as `int`
/// (ipvsadm 1.31 as Debian builds it takes weights up to this too).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

/// The largest sync message, in bytes: a UDP payload over IPv4
/// (65535 - 20 - 8), ipvsadm's `--sync-maxlen` limit. With an IPv6 group
/// the kernel keeps 20 bytes less ([`sync_len_range`]).
pub const MAX_SYNC_LEN: u16 = 65507;

/// A value the library refuses, and why. Its text names the field and says
/// what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// A scheduler name longer than 15 bytes, empty, or with a NUL.
    #[error("scheduler name `{0}` must be 1 to 15 characters")]
    SchedulerName(String),
    /// A persistence engine name longer than 15 bytes, empty, or with a NUL.
    #[error("persistence engine name `{0}` must be 1 to 15 characters")]
    PersistenceEngineName(String),
    /// A protocol other than TCP, UDP and SCTP.
    #[error(
        "protocol {0}: IPVS schedules only tcp, udp and sctp (a service of another protocol is stored but never matches a packet)"
    )]
    Protocol(u16),
    /// Firewall mark 0.
    #[error("a firewall mark must be greater than zero")]
    FwmarkZero,
    /// Port 0 without persistence.
    #[error("port 0 (every port) needs persistence")]
    EveryPortWithoutPersistence,
    /// One-packet scheduling on a TCP or SCTP service.
    #[error("one-packet scheduling is for UDP and firewall-mark services only")]
    OnePacketNotUdp,
    /// A persistence timeout of 0 or above [`MAX_TIMEOUT`].
    #[error("persistence timeout {0} s is not in 1..={MAX_TIMEOUT} (31 days, as ipvsadm takes it)")]
    PersistenceTimeout(u32),
    /// A netmask of the other family than the service's.
    #[error("netmask {mask} is for {}, the service is {service}", mask.family())]
    NetmaskFamily {
        /// The netmask.
        mask: Netmask,
        /// The service's family.
        service: AddressFamily,
    },
    /// A prefix length too long for the family (or 0 for IPv6).
    #[error("prefix length {length} is not in {} for an {family} service", prefix_range(*family))]
    PrefixLength {
        /// The prefix length.
        length: u8,
        /// The service's family.
        family: AddressFamily,
    },
    /// A weight above [`MAX_WEIGHT`].
    #[error("weight {0} is above {MAX_WEIGHT}")]
    Weight(u32),
    /// A connection threshold above [`MAX_WEIGHT`].
    #[error("{which} threshold {value} is above {MAX_WEIGHT}")]
    Threshold {
        /// `"upper"` or `"lower"`.
        which: &'static str,
        /// The value.
        value: u32,
    },
    /// A lower threshold above the upper one (an upper of 0 means none, so
    /// then the lower must be 0 too).
    #[error(
        "lower threshold {lower} is above the upper threshold {upper} (with no upper threshold, 0, the lower must be 0)"
    )]
    ThresholdsInverted {
        /// The upper threshold.
        upper: u32,
        /// The lower threshold.
        lower: u32,
    },
    /// A real server of the other family without tunnelling.
    #[error("an {real_server} real server behind an {service} service must be tunnelled")]
    FamilyMismatch {
        /// The real server's family.
        real_server: AddressFamily,
        /// The service's family.
        service: AddressFamily,
    },
    /// A real server address that is not unicast.
    #[error(
        "real server address {0} is not a unicast address (multicast, broadcast, unspecified or IPv4-mapped)"
    )]
    NotUnicast(IpAddr),
    /// An IPv6 link-local real server address that is not the director's own.
    #[error("real server address {0} is link-local and not an address of this director")]
    LinkLocal(IpAddr),
    /// A real server port other than the service's, with a forwarding
    /// method that cannot change ports.
    #[error(
        "port {port}: {forward} forwarding does not change the destination port, so the real server's port must be the service's, {service_port} (ipvsadm stores {service_port} whatever -r says)"
    )]
    PortNotServicePort {
        /// The forwarding method.
        forward: ForwardMethod,
        /// The real server's port.
        port: u16,
        /// The service's port.
        service_port: u16,
    },
    /// Local forwarding to an address that is not the director's own.
    #[error(
        "local forwarding hands packets to this host's own stack, but {0} is not an address of this director (for another host use route, masq or tunnel)"
    )]
    LocalNotOwnAddress(IpAddr),
    /// A GUE tunnel without a port.
    #[error("a GUE tunnel needs a port")]
    GueWithoutPort,
    /// A tunnel port on an IPIP or GRE tunnel.
    #[error("only GUE tunnels have a port")]
    TunnelPortNotGue,
    /// A checksum option on an IPIP tunnel.
    #[error("IPIP tunnels have no checksum option")]
    IpipChecksum,
    /// Remote checksum offload on a GRE tunnel.
    #[error("remote checksum offload is for GUE tunnels only")]
    RemoteChecksumNotGue,
    /// Tunnel parameters with another forwarding method.
    #[error("tunnel parameters need tunnel forwarding, not {0}")]
    TunnelWithoutTunnelling(ForwardMethod),
    /// A multicast interface name longer than 15 bytes, empty, or with a NUL.
    #[error("interface name `{0}` must be 1 to 15 characters")]
    InterfaceName(String),
    /// A sync group that is not a multicast address.
    #[error("{0} is not a multicast group")]
    GroupNotMulticast(IpAddr),
    /// Multicast TTL 0.
    #[error("the multicast TTL must be 1 to 255 (leave it out for the kernel's 1)")]
    MulticastTtlZero,
    /// Multicast port 0.
    #[error("the multicast port must be 1 to 65535 (leave it out for the kernel's 8848)")]
    MulticastPortZero,
    /// Sync message length 0, which the kernel reads as "the default".
    #[error("sync message length 0 means the kernel's default (from the MTU): leave it out")]
    SyncMaxLenZero,
    /// A sync message length the kernel would store differently.
    #[error(
        "sync message length {len} is not in {min}..={max} for a {role} with an {family} group (the kernel would use {stored})"
    )]
    SyncMaxLen {
        /// The length asked for.
        len: u16,
        /// The smallest the kernel keeps for the role.
        min: u16,
        /// The largest the kernel keeps for the group's family.
        max: u16,
        /// What the kernel would use instead.
        stored: u16,
        /// The daemon's role.
        role: DaemonRole,
        /// The multicast group's family.
        family: AddressFamily,
    },
    /// A connection timeout above [`MAX_TIMEOUT`].
    #[error("{which} timeout {value} s is above {MAX_TIMEOUT} (31 days, as ipvsadm takes it)")]
    Timeout {
        /// `"tcp"`, `"tcp_fin"` or `"udp"`.
        which: &'static str,
        /// The value.
        value: u32,
    },
}

impl Violation {
    /// The errno the kernel answers if it is sent this anyway, which is
    /// what ipvsadm then reports; `None` where ipvsadm refuses it itself,
    /// or adjusts it, or cannot express it, and the kernel would take it.
    pub fn kernel_errno(&self) -> Option<i32> {
        match self {
            // `ip_vs_add_dest`: a negative weight (as int), l_threshold >
            // u_threshold.
            Self::Weight(_) | Self::ThresholdsInverted { .. } => Some(libc::ERANGE),
            // `ip_vs_new_dest` (address type), `ip_vs_add_dest` (GUE port 0,
            // mixed families without tunnelling), `ip_vs_genl_parse_service`
            // (IPv6 prefix), `start_sync_thread` (group).
            Self::NotUnicast(_)
            | Self::LinkLocal(_)
            | Self::GueWithoutPort
            | Self::FamilyMismatch { .. }
            | Self::GroupNotMulticast(_) => Some(libc::EINVAL),
            Self::PrefixLength {
                family: AddressFamily::Ipv6,
                ..
            } => Some(libc::EINVAL),
            // ipvsadm copies 16 bytes of `--pe` into its 16-byte field, so
            // the kernel gets a name no engine has.
            Self::PersistenceEngineName(_) => Some(libc::ENOENT),
            _ => None,
        }
    }
}

fn prefix_range(family: AddressFamily) -> &'static str {
    match family {
        AddressFamily::Ipv4 => "0..=32",
        AddressFamily::Ipv6 => "1..=128",
    }
}

/// Whether `name` fits a kernel name field of 16 bytes with its NUL
/// (`IP_VS_SCHEDNAME_MAXLEN`, `IP_VS_PENAME_MAXLEN`, `IP_VS_IFNAME_MAXLEN`):
/// the netlink policy refuses longer strings.
fn fits_name_field(name: &str) -> bool {
    !name.is_empty() && name.len() <= 15 && !name.contains('\0')
}
