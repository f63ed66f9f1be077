//! Connection synchronisation daemons: a master sends its connection table to
//! backups over multicast, so a backup director can take over established
//! connections.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// The largest sync message, in bytes: a UDP payload (65535 - 8 - 20).
pub const MAX_SYNC_LEN: u16 = 65507;

/// A sync daemon's configuration. Fields left `None` take the kernel's
/// defaults (group 224.0.0.81, port 8848, TTL 1, length from the MTU), which
/// the kernel reports back when listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SyncDaemon {
    /// Master or backup.
    pub role: DaemonRole,
    /// The multicast interface (it must be multicast-capable: not `lo`).
    pub interface: String,
    /// The sync id, 0..=255: a backup takes only messages of its id (0 means any).
    pub sync_id: u8,
    /// Maximum sync message length (UDP payload), kernel 4.3+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u16>,
    /// Multicast group (IPv4 or IPv6), kernel 4.3+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<IpAddr>,
    /// UDP port, kernel 4.3+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Multicast TTL, 1..=255, kernel 4.3+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

    /// Checks what the kernel would refuse or bend, and says what is wrong:
    /// an interface name of 1 to 15 characters, a multicast group, a TTL
    /// and a port above 0, a message length that fits a UDP datagram.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.interface.is_empty() || self.interface.len() > 15 || self.interface.contains('\0') {
            return Err(format!(
                "interface name `{}` must be 1 to 15 characters",
                self.interface
            ));
        }
        if let Some(group) = self.group.filter(|g| !g.is_multicast()) {
            return Err(format!("{group} is not a multicast group"));
        }
        if self.ttl == Some(0) {
            return Err("the multicast TTL must be 1 to 255".into());
        }
        if self.port == Some(0) {
            return Err("the multicast port must be 1 to 65535".into());
        }
        if let Some(len) = self.max_len.filter(|l| !(1..=MAX_SYNC_LEN).contains(l)) {
            return Err(format!(
                "sync message length {len} must be 1 to {MAX_SYNC_LEN} (a UDP payload)"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let base = SyncDaemon::new(DaemonRole::Master, "eth0", 1);
        assert!(base.validate().is_ok());
        let cases: [(SyncDaemon, &str); 6] = [
            (
                SyncDaemon {
                    interface: String::new(),
                    ..base.clone()
                },
                "1 to 15 characters",
            ),
            (
                SyncDaemon {
                    interface: "sixteen-chars-if".into(),
                    ..base.clone()
                },
                "1 to 15 characters",
            ),
            (
                SyncDaemon {
                    group: Some("10.0.0.1".parse().unwrap()),
                    ..base.clone()
                },
                "is not a multicast group",
            ),
            (
                SyncDaemon {
                    ttl: Some(0),
                    ..base.clone()
                },
                "TTL",
            ),
            (
                SyncDaemon {
                    port: Some(0),
                    ..base.clone()
                },
                "multicast port",
            ),
            (
                SyncDaemon {
                    max_len: Some(65508),
                    ..base.clone()
                },
                "must be 1 to 65507",
            ),
        ];
        for (daemon, why) in cases {
            let err = daemon.validate().unwrap_err();
            assert!(err.contains(why), "{daemon:?}: {err}");
        }
        let v6 = SyncDaemon {
            group: Some("ff02::81".parse().unwrap()),
            ..base
        };
        assert!(v6.validate().is_ok());
    }
}
