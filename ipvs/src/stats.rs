//! Observed state, kept apart from configuration: counters, rates and
//! connection counts of services and real servers.

use serde::{Deserialize, Serialize};

use crate::destination::Destination;
use crate::service::Service;

/// Traffic counters since the last zero, and the kernel's rate estimates.
///
/// The kernel reports 64-bit counters (`STATS64`, Linux 4.1+), which are used
/// when present; older kernels give 32-bit packet counts. Counters are folded
/// from per-CPU values by an estimator every 2 seconds, so they lag traffic by
/// up to that; rates are averages over about the same window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Connections scheduled.
    pub connections: u64,
    /// Packets in (client to real server).
    pub in_packets: u64,
    /// Packets out (real server to client, through the director).
    pub out_packets: u64,
    /// Bytes in.
    pub in_bytes: u64,
    /// Bytes out.
    pub out_bytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub in_pps: u64,
    /// Packets out per second.
    pub out_pps: u64,
    /// Bytes in per second.
    pub in_bps: u64,
    /// Bytes out per second.
    pub out_bps: u64,
}

/// A virtual service as the kernel has it: its configuration and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The configuration.
    pub service: Service,
    /// Every `IP_VS_SVC_F_*` bit the kernel reported (including its own, such as `HASHED`).
    pub raw_flags: u32,
    /// Counters and rates.
    pub stats: Stats,
    /// The real servers, when they were read (see [`Ipvs::table`](crate::Ipvs::table)).
    pub destinations: Vec<DestinationInfo>,
}

/// A real server as the kernel has it: its configuration, connections and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationInfo {
    /// The configuration.
    pub destination: Destination,
    /// Connections in an active state (such as TCP ESTABLISHED).
    pub active_connections: u32,
    /// Other connections (closing, or UDP).
    pub inactive_connections: u32,
    /// Persistence templates pointing at it.
    pub persistent_connections: u32,
    /// Counters and rates.
    pub stats: Stats,
}
