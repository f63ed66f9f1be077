//! Connection timeouts of the IPVS connection table.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::rules::{self, Violation};

/// The idle timeouts, in seconds, after which the kernel forgets a connection.
/// When setting, 0 leaves a value unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct Timeouts {
    /// Established TCP connections (the kernel's default is 900).
    pub tcp: u32,
    /// TCP connections after a FIN (default 120).
    pub tcp_fin: u32,
    /// UDP "connections" (default 300).
    pub udp: u32,
}

impl Timeouts {
    /// The timeouts of TCP, TCP after a FIN, and UDP, in seconds (0 leaves
    /// one unchanged when setting).
    #[must_use]
    pub fn new(tcp: u32, tcp_fin: u32, udp: u32) -> Self {
        Self { tcp, tcp_fin, udp }
    }

    /// Checks each timeout: at most [`MAX_TIMEOUT`](crate::MAX_TIMEOUT)
    /// seconds, as ipvsadm's `--set` takes them (see `ipvs/src/rules/timeouts.rs`).
    ///
    /// # Errors
    /// [`Violation::Timeout`] naming the first one above.
    pub fn validate(&self) -> Result<(), Violation> {
        rules::check_timeouts(self)
    }
}
