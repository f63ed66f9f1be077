//! Reading the whole table for readers that act on what is absent (apply,
//! diff, undo): the kernel's service dump can skip a service when the table
//! of any namespace changes while it runs, so what it misses is looked for.

use std::collections::HashSet;

use crate::brief::{BRIEF_SERVICES_MAX, ProcKey};
use crate::error::{ErrorKind, Result};
use crate::handle::Ipvs;
use crate::key::{AddressFamily, ServiceKey};
use crate::stats::ServiceInfo;

/// How many more dumps [`Ipvs::settled_table`] takes, at most, while each
/// finds a service the reads before it missed.
const MORE_DUMPS: usize = 3;

impl Ipvs {
    /// The whole table as [`Ipvs::table`] reads it, with services its dump
    /// skipped (see [`Ipvs::services`]) looked for and added.
    ///
    /// They are looked for in `/proc/net/ip_vs` (up to
    /// [`BRIEF_SERVICES_MAX`] services, where its one read costs less than
    /// the real-server dumps before it) and in further dumps, until one
    /// finds nothing new (at most three). Neither source is a snapshot (the
    /// file also skips services when other namespaces have some), but they
    /// skip at different places, so together they miss far less than one
    /// dump; while other namespaces keep changing, nothing the kernel offers
    /// can promise that no service is missed. A service deleted while the
    /// table is read may still be in the result.
    ///
    /// # Errors
    /// As [`Ipvs::table`].
    pub fn settled_table(&self) -> Result<Vec<ServiceInfo>> {
        let mut table = self.table()?;
        let dumped = table.len();
        if dumped <= BRIEF_SERVICES_MAX
            && let Ok(proc) = self.read_proc_table()
        {
            self.add_skipped(&mut table, &proc.services)?;
        }
        for _ in 0..MORE_DUMPS {
            let known: HashSet<ServiceKey> = table.iter().map(|s| s.service.key).collect();
            let before = table.len();
            let again = self.services()?;
            table.extend(
                again
                    .into_iter()
                    .filter(|s| !known.contains(&s.service.key)),
            );
            if table.len() == before {
                break;
            }
        }
        for service in &mut table[dumped..] {
            service.destinations = self.dump_destinations(&service.service.key)?;
        }
        Ok(table)
    }

    /// Adds to `services` (from a dump) those of `listed` (from
    /// `/proc/net/ip_vs`) it lacks, as the kernel has them now, without
    /// their real servers.
    pub(crate) fn add_skipped(
        &self,
        services: &mut Vec<ServiceInfo>,
        listed: &[ProcKey],
    ) -> Result<()> {
        let known: HashSet<ServiceKey> = services.iter().map(|s| s.service.key).collect();
        for key in candidates(listed) {
            if known.contains(&key) {
                continue;
            }
            match self.service(&key) {
                Ok(info) => services.push(info),
                // Deleted since, or a firewall mark of the other family.
                Err(e) if e.kind() == ErrorKind::NoSuchService => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The service keys a listing of `/proc/net/ip_vs` can mean: a firewall
/// mark there carries no family, so it stands for both, once.
fn candidates(listed: &[ProcKey]) -> Vec<ServiceKey> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(listed.len());
    for key in listed {
        let keys = match *key {
            ProcKey::Inet(protocol, address, port) => vec![ServiceKey::Inet {
                protocol,
                address,
                port,
            }],
            ProcKey::Fwmark(mark) => vec![
                ServiceKey::fwmark(AddressFamily::Ipv4, mark),
                ServiceKey::fwmark(AddressFamily::Ipv6, mark),
            ],
        };
        out.extend(keys.into_iter().filter(|k| seen.insert(*k)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Protocol;

    #[test]
    fn a_firewall_mark_stands_for_both_families_once() {
        let web = ProcKey::Inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let keys = candidates(&[web, ProcKey::Fwmark(7), ProcKey::Fwmark(7)]);
        assert_eq!(
            keys,
            [
                ServiceKey::tcp("10.0.0.1".parse::<std::net::IpAddr>().unwrap(), 80),
                ServiceKey::fwmark(AddressFamily::Ipv4, 7),
                ServiceKey::fwmark(AddressFamily::Ipv6, 7),
            ]
        );
    }
}
