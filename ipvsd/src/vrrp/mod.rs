//! VRRP: the Virtual Router Redundancy Protocol that moves a director's
//! virtual addresses to the backup when the master fails (RFC 3768 for
//! version 2, RFC 5798 and its successor RFC 9568 for version 3), in the
//! dialect keepalived's `vrrp_instance` speaks, so that `ipvsd` and
//! keepalived can be the two directors of one pair.
//!
//! Layers, data flowing one way:
//! - [`packet`]: advertisements to and from bytes (both versions, both
//!   families, both v3 IPv4 checksum conventions, `PASS` authentication);
//! - [`machine`]: one VRRP instance's state machine with no I/O: adverts,
//!   timer expiries and tracking changes in (with the time), actions out;
//! - [`net`]: the edge: the raw protocol-112 socket, the virtual addresses
//!   through rtnetlink, gratuitous ARP and unsolicited neighbour
//!   advertisements;
//! - [`instance`]: the task that drives one instance's machine with its
//!   socket, timers and addresses, and reports its state.

pub mod instance;
pub mod machine;
pub mod net;
pub mod packet;
pub mod track;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// VRRP's IP protocol number (IANA; RFC 5798 §5.1.1.4).
pub const PROTOCOL: u8 = 112;

/// The IPv4 multicast group adverts are sent to (RFC 5798 §5.1.1.2).
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group adverts are sent to (RFC 5798 §5.1.2.2).
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The TTL (IPv4) or hop limit (IPv6) every advert is sent with; a received
/// advert with any other value is discarded (RFC 5798 §5.1.1.3, §7.1).
pub const TTL: u8 = 255;

/// The VRRP protocol version of an instance (keepalived's `version`,
/// `vrrp_version`; its default is 2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Version {
    /// RFC 3768: IPv4 only, advertisement interval in whole seconds,
    /// optional `PASS` authentication, checksum over the VRRP message alone.
    #[default]
    V2,
    /// RFC 5798 / RFC 9568: IPv4 and IPv6, advertisement interval in
    /// centiseconds, no authentication.
    V3,
}

impl Version {
    /// The number in the advert's version field.
    pub fn number(self) -> u8 {
        match self {
            Self::V2 => 2,
            Self::V3 => 3,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// How a v3 advert over IPv4 is checksummed. RFC 5798 §5.2.8 was read two
/// ways: keepalived (by default) and Seesaw include the IPv4 pseudo-header;
/// Cisco, Juniper, holo and RFC 9568 §5.2.8 do not (keepalived's
/// `v3_checksum_as_v2`). Sending uses the configured one; receiving accepts
/// either. v2 never includes a pseudo-header; v3 over IPv6 always does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum ChecksumMode {
    /// Include the IPv4 pseudo-header (keepalived's default).
    #[default]
    PseudoHeader,
    /// As v2: the VRRP message alone (RFC 9568; `v3_checksum_as_v2`).
    AsV2,
}

/// The state of a VRRP instance: RFC 5798 §6.4's Initialize, Backup and
/// Master, and keepalived's FAULT (a tracked interface or script failed:
/// no adverts, no addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not started yet, or stopped.
    Init,
    /// Listening for the master's adverts; takes over when they stop.
    Backup,
    /// Holds the virtual addresses and sends adverts.
    Master,
    /// Out of service because of a failed tracked object.
    Fault,
}

impl State {
    /// keepalived's name for the state, as in its logs, notify scripts and
    /// FIFO (`INIT`, `BACKUP`, `MASTER`, `FAULT`).
    pub fn keepalived_name(self) -> &'static str {
        match self {
            Self::Init => "INIT",
            Self::Backup => "BACKUP",
            Self::Master => "MASTER",
            Self::Fault => "FAULT",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keepalived_name())
    }
}
