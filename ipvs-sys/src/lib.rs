//! A typed binding of the Linux kernel's IPVS Generic Netlink family.
//!
//! `ipvs-sys` mirrors `include/uapi/linux/ip_vs.h`: every command
//! ([`IpvsCmd`]) and every attribute set ([`IpvsCmdAttr`], [`IpvsServiceAttr`],
//! [`IpvsDestAttr`], [`IpvsDaemonAttr`], [`IpvsStatsAttr`],
//! [`IpvsStats64Attr`], [`IpvsInfoAttr`]), with the byte order of each field
//! handled on the wire, and a synchronous transport ([`IpvsSocket`]). It knows
//! byte orders, not meanings: the safe domain API is the `ipvs` crate.
//!
//! This is a pure-Rust wire binding (like `netlink-sys`), not a binding of a C
//! library. Unknown commands and attributes decode into `Other` variants, and
//! no input makes a decode panic.
//!
//! ```no_run
//! use ipvs_sys::{IpvsCmd, IpvsInfoAttr, IpvsMessage, IpvsSocket};
//!
//! let mut socket = IpvsSocket::connect()?;
//! let replies = socket.request(IpvsMessage::new(IpvsCmd::GetInfo, vec![]))?;
//! for attr in replies.iter().flat_map(|m| m.info_attrs()) {
//!     if let IpvsInfoAttr::Version(v) = attr {
//!         println!("IPVS {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
//!     }
//! }
//! # Ok::<(), ipvs_sys::Error>(())
//! ```
#![cfg(target_os = "linux")]
#![warn(missing_docs)]

mod attr;
mod command;
pub mod constants;
mod daemon;
mod dest;
mod error;
mod family;
mod flags;
mod info;
mod message;
mod nla;
pub mod scripted;
mod service;
mod socket;
mod stats;
mod transport;

pub use attr::IpvsCmdAttr;
pub use command::IpvsCmd;
pub use daemon::{IpvsDaemonAttr, IpvsDaemonState};
pub use dest::{IpvsDestAttr, IpvsFwdMethod, IpvsTunnelFlags, IpvsTunnelType};
pub use error::Error;
pub use family::IpvsAddressFamily;
pub use info::IpvsInfoAttr;
pub use message::{IpvsAttrs, IpvsMessage};
pub use service::{IpvsFlags, IpvsNetmask, IpvsServiceAttr, IpvsServiceFlags};
pub use socket::IpvsSocket;
pub use stats::{IpvsStats64Attr, IpvsStatsAttr};
pub use transport::{NetlinkTransport, Transport};

/// The netlink packet crate this binding is built on, for callers that need
/// its types (such as `DefaultNla` in `Other` variants, or `Emitable`).
pub use netlink_packet_core;
pub use netlink_packet_generic;
