//! Warnings ipvsadm-rs adds on stderr where ipvsadm 1.31 silently accepts
//! a value that the kernel will use otherwise than it was likely meant.
//! Standard output and exit codes stay ipvsadm's; each warning is listed in
//! the README's table of differences.

use std::net::Ipv4Addr;

use ipvs::{Netmask, SyncDaemon};

use crate::parse::Command;

/// The warnings for `command`, after making it what the kernel would make of
/// it anyway (so that the library's rules, which refuse values the kernel
/// would change, let it through with the same effect as ipvsadm's).
pub(crate) fn warnings(command: &mut Command) -> Vec<String> {
    match command {
        Command::AddService(s) | Command::EditService(s) => {
            match s.persistence.and_then(|p| p.netmask) {
                Some(Netmask::Ipv4(mask)) => not_a_prefix_mask(mask).into_iter().collect(),
                _ => Vec::new(),
            }
        }
        Command::StartDaemon(daemon) => clamped_sync_len(daemon).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `-M` takes any dotted value (`inet_aton`), so `-M 24` is 0.0.0.24, and
/// the kernel masks client addresses with exactly that.
fn not_a_prefix_mask(mask: Ipv4Addr) -> Option<String> {
    let bits = u32::from(mask);
    if bits.leading_ones() + bits.trailing_zeros() == 32 {
        return None;
    }
    let hint = match bits {
        1..=32 => format!(
            " (for a /{bits} write {})",
            Ipv4Addr::from(u32::MAX << (32 - bits))
        ),
        _ => String::new(),
    };
    Some(format!(
        "netmask {mask} is not a prefix mask: the kernel groups clients by exactly these bits{hint}"
    ))
}

/// ipvsadm sends any `--sync-maxlen` of 1..=65507; the kernel clamps it for
/// the role (a backup keeps at least 1024) and the group's family.
fn clamped_sync_len(daemon: &mut SyncDaemon) -> Option<String> {
    let (len, kept) = (daemon.max_len?, daemon.kernel_max_len()?);
    if len == kept {
        return None;
    }
    daemon.max_len = Some(kept);
    Some(format!(
        "sync-maxlen {len} is out of the {role}'s range: the kernel uses {kept}",
        role = daemon.role
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_masks_pass_and_others_are_named() {
        for mask in ["255.255.255.255", "255.255.255.0", "0.0.0.0", "128.0.0.0"] {
            assert_eq!(
                not_a_prefix_mask(mask.parse().expect("mask")),
                None,
                "{mask}"
            );
        }
        assert_eq!(
            not_a_prefix_mask(Ipv4Addr::new(0, 0, 0, 24)).as_deref(),
            Some(
                "netmask 0.0.0.24 is not a prefix mask: the kernel groups clients by exactly these bits (for a /24 write 255.255.255.0)"
            )
        );
        assert_eq!(
            not_a_prefix_mask(Ipv4Addr::new(255, 0, 255, 0)).as_deref(),
            Some(
                "netmask 255.0.255.0 is not a prefix mask: the kernel groups clients by exactly these bits"
            )
        );
    }

    #[test]
    fn a_backup_s_short_sync_length_becomes_the_kernel_s() {
        let mut backup = SyncDaemon::new(ipvs::DaemonRole::Backup, "eth0", 0).with_max_len(500);
        assert_eq!(
            clamped_sync_len(&mut backup).as_deref(),
            Some("sync-maxlen 500 is out of the backup's range: the kernel uses 1024")
        );
        assert_eq!(backup.max_len, Some(1024));
        let mut master = SyncDaemon::new(ipvs::DaemonRole::Master, "eth0", 0).with_max_len(500);
        assert_eq!(clamped_sync_len(&mut master), None);
        assert_eq!(master.max_len, Some(500));
    }
}
