//! The rules of a connection sync daemon, field by field.

use std::net::IpAddr;

use super::{Violation, fits_name_field};
use crate::daemon::{DaemonRole, SyncDaemon};
use crate::key::AddressFamily;

/// The sync message lengths the kernel keeps as given for `role` with a
/// multicast group of `family`, and the length it uses when none is given
/// (`start_sync_thread` in `ip_vs_sync.c`): at least 1 for a master and
/// 1024 for a backup, at most 65535 minus the IP and UDP headers (28 bytes
/// for IPv4, 48 for IPv6); anything else is clamped into that range.
pub fn sync_len_range(role: DaemonRole, family: AddressFamily) -> (u16, u16) {
    let headers = match family {
        AddressFamily::Ipv4 => 28,
        AddressFamily::Ipv6 => 48,
    };
    let min = match role {
        DaemonRole::Master => 1,
        DaemonRole::Backup => 1024,
    };
    (min, u16::MAX - headers)
}

/// Checks a sync daemon.
pub(crate) fn check_daemon(d: &SyncDaemon) -> Result<(), Violation> {
    // Interface. ipvsadm: --mcast-interface copied up to 15 characters,
    // "eth0" if absent. Kernel: at most 15 bytes (netlink policy), ENODEV
    // for an interface the namespace does not have.
    if !fits_name_field(&d.interface) {
        return Err(Violation::InterfaceName(d.interface.clone()));
    }
    // Group. ipvsadm: "invalid IPv4 mcast-group" unless multicast. Kernel:
    // EINVAL likewise; absent means 224.0.0.81.
    if let Some(group) = d.group.filter(|g| !g.is_multicast()) {
        return Err(Violation::GroupNotMulticast(group));
    }
    // TTL and port. ipvsadm: 1..=255 and 1..=65535. Kernel: 0 means "the
    // default" (TTL 1, port 8848), so it would list another value; leave
    // the field out for the default.
    if d.ttl == Some(0) {
        return Err(Violation::MulticastTtlZero);
    }
    if d.port == Some(0) {
        return Err(Violation::MulticastPortZero);
    }
    // Message length. ipvsadm: --sync-maxlen 1..=65507 for either role.
    // Kernel: clamps it (see `sync_len_range`), so a backup asked for 500
    // lists 1024. The library refuses what would be clamped.
    if d.max_len == Some(0) {
        return Err(Violation::SyncMaxLenZero);
    }
    if let (Some(len), Some(stored)) = (d.max_len, d.kernel_max_len()) {
        let family = group_family(d.group);
        let (min, max) = sync_len_range(d.role, family);
        if stored != len {
            return Err(Violation::SyncMaxLen {
                len,
                min,
                max,
                stored,
                role: d.role,
                family,
            });
        }
    }
    Ok(())
}

/// The family of a daemon's group, IPv4 when none is given (the kernel's
/// default group is 224.0.0.81).
fn group_family(group: Option<IpAddr>) -> AddressFamily {
    group.map_or(AddressFamily::Ipv4, |g| AddressFamily::of(&g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> SyncDaemon {
        SyncDaemon::new(DaemonRole::Master, "eth0", 1)
    }

    #[test]
    fn every_rule_names_its_field() {
        let backup = SyncDaemon::new(DaemonRole::Backup, "eth0", 1);
        let v6 = master().with_group("ff02::81".parse().expect("ip"));
        let cases = [
            (
                SyncDaemon::new(DaemonRole::Master, "", 1),
                Violation::InterfaceName(String::new()),
            ),
            (
                SyncDaemon::new(DaemonRole::Master, "sixteen-chars-if", 1),
                Violation::InterfaceName("sixteen-chars-if".into()),
            ),
            (
                master().with_group("10.0.0.1".parse().expect("ip")),
                Violation::GroupNotMulticast("10.0.0.1".parse().expect("ip")),
            ),
            (master().with_ttl(0), Violation::MulticastTtlZero),
            (master().with_port(0), Violation::MulticastPortZero),
            (master().with_max_len(0), Violation::SyncMaxLenZero),
            (
                master().with_max_len(65508),
                Violation::SyncMaxLen {
                    len: 65508,
                    min: 1,
                    max: 65507,
                    stored: 65507,
                    role: DaemonRole::Master,
                    family: AddressFamily::Ipv4,
                },
            ),
            (
                backup.with_max_len(500),
                Violation::SyncMaxLen {
                    len: 500,
                    min: 1024,
                    max: 65507,
                    stored: 1024,
                    role: DaemonRole::Backup,
                    family: AddressFamily::Ipv4,
                },
            ),
            (
                v6.with_max_len(65500),
                Violation::SyncMaxLen {
                    len: 65500,
                    min: 1,
                    max: 65487,
                    stored: 65487,
                    role: DaemonRole::Master,
                    family: AddressFamily::Ipv6,
                },
            ),
        ];
        for (daemon, violation) in cases {
            assert_eq!(check_daemon(&daemon), Err(violation), "{daemon:?}");
        }
    }

    #[test]
    fn what_the_kernel_keeps_passes() {
        let ok = [
            master(),
            master().with_max_len(1).with_ttl(255).with_port(65535),
            SyncDaemon::new(DaemonRole::Backup, "eth0", 0).with_max_len(1024),
            master()
                .with_group("ff02::81".parse().expect("ip"))
                .with_max_len(65487),
        ];
        for daemon in ok {
            assert_eq!(check_daemon(&daemon), Ok(()), "{daemon:?}");
        }
    }
}
