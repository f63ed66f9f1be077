//! Connection synchronisation daemons: a master sends its connection table to
//! backups over multicast, so a backup director can take over established
//! connections.

use std::fmt;
use std::net::IpAddr;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::key::AddressFamily;
use crate::rules::{self, Violation};

/// The role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DaemonRole {
    /// Sends connection updates.
    Master,
    /// Receives them.
    Backup,
}

impl fmt::Display for DaemonRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Master => "master",
            Self::Backup => "backup",
        })
    }
}

/// A sync daemon's configuration. Fields left `None` take the kernel's
/// defaults (group 224.0.0.81, port 8848, TTL 1, length from the MTU), which
/// the kernel reports back when listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct SyncDaemon {
    /// Master or backup.
    pub role: DaemonRole,
    /// The multicast interface (it must be multicast-capable: not `lo`).
    pub interface: String,
    /// The sync id, 0..=255: a backup takes only messages of its id (0 means any).
    pub sync_id: u8,
    /// Maximum sync message length (UDP payload), kernel 4.3+.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_len: Option<u16>,
    /// Multicast group (IPv4 or IPv6), kernel 4.3+.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub group: Option<IpAddr>,
    /// UDP port, kernel 4.3+.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub port: Option<u16>,
    /// Multicast TTL, 1..=255, kernel 4.3+.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon of `role` on `interface` with sync id `sync_id` and kernel defaults.
    #[must_use]
    pub fn new(role: DaemonRole, interface: impl Into<String>, sync_id: u8) -> Self {
        Self {
            role,
            interface: interface.into(),
            sync_id,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// Sets the maximum sync message length (kernel 4.3+).
    #[must_use]
    pub fn with_max_len(mut self, max_len: u16) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// Sets the multicast group (kernel 4.3+).
    #[must_use]
    pub fn with_group(mut self, group: IpAddr) -> Self {
        self.group = Some(group);
        self
    }

    /// Sets the UDP port (kernel 4.3+).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the multicast TTL (kernel 4.3+).
    #[must_use]
    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The message length the kernel uses for [`max_len`](Self::max_len):
    /// it clamps it into [`sync_len_range`](crate::sync_len_range) for the
    /// role and the group's family (IPv4 without a group). `None` when it
    /// picks its default from the MTU: no length given, or 0.
    pub fn kernel_max_len(&self) -> Option<u16> {
        let family = self
            .group
            .map_or(AddressFamily::Ipv4, |g| AddressFamily::of(&g));
        let (min, max) = crate::sync_len_range(self.role, family);
        self.max_len
            .filter(|len| *len != 0)
            .map(|len| len.clamp(min, max))
    }

    /// Checks every field against what ipvsadm's command line could make and
    /// what the kernel stores as given (see [`Violation`] and the rules in
    /// `ipvs/src/rules/daemon.rs`): an interface name of 1 to 15
    /// characters, a multicast group, a TTL and a port above 0 (leave them
    /// out for the kernel's defaults), a message length the kernel keeps
    /// ([`sync_len_range`](crate::sync_len_range)).
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), Violation> {
        rules::check_daemon(self)
    }
}
