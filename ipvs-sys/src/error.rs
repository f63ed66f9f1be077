//! The error of the wire layer.

use std::io;

use netlink_packet_core::DecodeError;

/// What can go wrong talking to the kernel's IPVS family.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Generic Netlink family "IPVS" is not registered: the kernel has no
    /// IPVS, or the `ip_vs` module is not loaded (and could not be auto-loaded).
    #[error("IPVS family not found: the kernel has no IPVS or the ip_vs module is not loaded")]
    FamilyNotFound,
    /// The kernel refused the request with this errno (positive, e.g. `libc::EEXIST`).
    #[error("the kernel refused the request: {}", io::Error::from_raw_os_error(*errno))]
    Kernel {
        /// The errno, positive.
        errno: i32,
    },
    /// The netlink socket failed.
    #[error("netlink socket error: {0}")]
    Io(#[from] io::Error),
    /// A message from the kernel could not be decoded.
    #[error("malformed netlink message: {0}")]
    Decode(#[from] DecodeError),
    /// The exchange with the kernel did not follow the netlink protocol.
    #[error("netlink protocol error: {0}")]
    Protocol(String),
}

impl Error {
    /// The kernel's errno, when the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { errno } => Some(*errno),
            _ => None,
        }
    }
}
