//! Observed state, kept apart from configuration: counters, rates and
//! connection counts of services and real servers.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::destination::Destination;
use crate::service::Service;

/// Traffic counters since the last zero, and the kernel's rate estimates.
///
/// The kernel reports 64-bit counters (`STATS64`, Linux 4.1+), which are used
/// when present; older kernels give 32-bit packet counts. Counters are folded
/// from per-CPU values by an estimator every 2 seconds, so they lag traffic by
/// up to that; rates are averages over about the same window.
///
/// In JSON, an object with these ten members, each a number (64-bit values
/// exact), under the same names. The `_bps` rates are bytes per second, not
/// bits (the values of ipvsadm's `InBPS`/`OutBPS` columns), the `_pps` rates
/// packets per second, `cps` connections per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Stats {
    /// Connections scheduled (a count).
    pub connections: u64,
    /// Packets in (client to real server), a count.
    pub in_packets: u64,
    /// Packets out (real server to client, through the director), a count.
    pub out_packets: u64,
    /// Bytes in, a count.
    pub in_bytes: u64,
    /// Bytes out, a count.
    pub out_bytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub in_pps: u64,
    /// Packets out per second.
    pub out_pps: u64,
    /// Bytes (not bits) in per second.
    pub in_bps: u64,
    /// Bytes (not bits) out per second.
    pub out_bps: u64,
}

/// A virtual service as the kernel has it: its configuration and counters.
///
/// Made by the library's reads ([`Ipvs::read_table`](crate::Ipvs::read_table),
/// [`Ipvs::service`](crate::Ipvs::service)); [`ServiceInfo::new`] builds one
/// for tests and for code that renders tables it did not read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// The configuration.
    pub service: Service,
    /// Counters and rates.
    pub stats: Stats,
    /// The real servers, when the read asked for them (see
    /// [`ReadOptions::destinations`](crate::ReadOptions::destinations)),
    /// in the kernel's order (newest first); empty otherwise.
    pub destinations: Vec<DestinationInfo>,
}

impl ServiceInfo {
    /// A service with zeroed counters and no real servers.
    #[must_use]
    pub fn new(service: Service) -> Self {
        Self {
            service,
            stats: Stats::default(),
            destinations: Vec::new(),
        }
    }

    /// The same with `stats` as its counters.
    #[must_use]
    pub fn with_stats(mut self, stats: Stats) -> Self {
        self.stats = stats;
        self
    }

    /// The same with `destinations` as its real servers.
    #[must_use]
    pub fn with_destinations(mut self, destinations: Vec<DestinationInfo>) -> Self {
        self.destinations = destinations;
        self
    }
}

/// A real server as the kernel has it: its configuration, connections and,
/// when they were read, its counters.
///
/// A read of real servers in brief ([`Destinations::Brief`](crate::Destinations::Brief))
/// gets what the kernel's `/proc/net/ip_vs` lists: address, port, forwarding
/// method (with the tunnel parameters, read by netlink where a real server
/// tunnels), weight and the active and inactive connections. It leaves
/// [`persistent_connections`](Self::persistent_connections) and
/// [`stats`](Self::stats) `None`, and the thresholds of `destination` at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DestinationInfo {
    /// The configuration.
    pub destination: Destination,
    /// Connections in an active state (such as TCP ESTABLISHED).
    pub active_connections: u32,
    /// Other connections (closing, or UDP).
    pub inactive_connections: u32,
    /// Persistence templates pointing at it; `None` when not read.
    pub persistent_connections: Option<u32>,
    /// Counters and rates; `None` when not read.
    pub stats: Option<Stats>,
}

impl DestinationInfo {
    /// A real server with no connections and zeroed counters (all read).
    #[must_use]
    pub fn new(destination: Destination) -> Self {
        Self {
            destination,
            active_connections: 0,
            inactive_connections: 0,
            persistent_connections: Some(0),
            stats: Some(Stats::default()),
        }
    }

    /// The same with these active and inactive connection counts.
    #[must_use]
    pub fn with_connections(mut self, active: u32, inactive: u32) -> Self {
        self.active_connections = active;
        self.inactive_connections = inactive;
        self
    }
}
