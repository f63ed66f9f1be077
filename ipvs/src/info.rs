//! What the kernel says of its IPVS.

use std::fmt;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// The kernel's IPVS version and connection table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct KernelInfo {
    /// The IPVS code version (1.2.1 in every kernel since 2.6.28).
    pub version: Version,
    /// Buckets of the connection hash table (`ip_vs` module parameter `conn_tab_bits`).
    pub connection_table_size: u32,
}

impl KernelInfo {
    /// The info of a kernel with IPVS `version` and a connection table of
    /// `connection_table_size` buckets.
    #[must_use]
    pub fn new(version: Version, connection_table_size: u32) -> Self {
        Self {
            version,
            connection_table_size,
        }
    }
}

/// An IPVS version, such as 1.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Patch.
    pub patch: u8,
}

impl Version {
    /// The version of a kernel code such as 0x010201.
    pub fn from_code(code: u32) -> Self {
        Self {
            major: (code >> 16) as u8,
            minor: (code >> 8) as u8,
            patch: code as u8,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}
