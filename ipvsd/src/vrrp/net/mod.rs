//! The VRRP network edge: everything an instance does to the network and
//! the kernel, and nothing it decides.
//!
//! - [`socket`]: [`Channel`], the raw protocol-112 socket of one instance
//!   on one interface and family: adverts sent to the group (or to each
//!   unicast peer) with TTL / hop limit 255, adverts received with their
//!   source, destination and TTL / hop limit, for the instance to check;
//! - [`address`]: the virtual addresses added and removed through rtnetlink
//!   (idempotent), whether an interface holds one, an interface's index and
//!   link state;
//! - [`announce`]: the gratuitous ARP (IPv4) and unsolicited neighbour
//!   advertisement (IPv6) a new master sends for each virtual address.
//!
//! Every call names the interface it works on, and every error
//! ([`NetError`]) says which interface and, where there is one, which
//! address. Everything here needs `CAP_NET_RAW` (sockets) or
//! `CAP_NET_ADMIN` (addresses); keepalived runs as root for the same reason.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ipvsd::vrrp::net::{Addressing, Channel, Family, address, announce};
//!
//! let channel = Channel::open("eth0", Family::V4, Addressing::default())?;
//! channel.send(&[0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x42, 0xad, 10, 99, 0, 100]).await?;
//! let vip = "10.99.0.100".parse()?;
//! address::add("eth0", vip, 32, None).await?;
//! announce::gratuitous_arp("eth0", "10.99.0.100".parse()?)?;
//! # Ok(()) }
//! ```

pub mod address;
pub mod announce;
mod error;
mod interface;
pub mod socket;

pub use error::NetError;
pub use socket::{Addressing, Channel, Family, Received};
