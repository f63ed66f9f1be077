//! Reading the table: the caller says what it needs ([`ReadOptions`]), and
//! this picks the kernel interfaces that serve it.
//!
//! The kernel has no single read of the table. Services come from a netlink
//! dump; real servers in full from a dump per service; real servers in brief
//! from `/proc/net/ip_vs` in one read, several times faster up to some tens of
//! thousands of services and slower beyond (the kernel prints that file a page
//! at a time, each page re-walking the services before it: quadratic). And no
//! dump is a snapshot: the service dump resumes each datagram at a position
//! counted over the services of every namespace, so a change anywhere can make
//! it skip a service; `/proc/net/ip_vs` skips too, at other places (kernel 6.1,
//! `net/netfilter/ipvs/ip_vs_ctl.c`). All of that stays here.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::destination::ForwardMethod;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::handle::Ipvs;
use crate::key::{AddressFamily, ServiceKey};
use crate::proc::{self, Connection, ProcKey, ProcTable, parse_connections, parse_proc_ip_vs};
use crate::stats::{DestinationInfo, ServiceInfo};

/// Up to how many services reading real servers in brief from
/// `/proc/net/ip_vs` beats a netlink dump per service. Measured in the test
/// VM with 4 real servers each: at 20,000 services the file is about 3x
/// faster, at 50,000 the two take the same time (15 s), at 100,000 the file
/// is 2x slower (its cost grows with the square of the table).
const BRIEF_SERVICES_MAX: usize = 40_000;

/// Up to how many services [`Ipvs::settled_services`] looks up one by one
/// (two requests each); for more, a settled read of the services (real
/// servers dumped for those alone) costs less.
const LOOKUPS_MAX: usize = 64;

/// How many more service dumps a settled read takes, at most, while each
/// finds a service the reads before it missed.
const MORE_DUMPS: usize = 3;

/// Which real servers a read of the table includes, and how much of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Destinations {
    /// None: services and their counters only (one dump).
    None,
    /// In brief: address, port, forwarding method (with tunnel parameters),
    /// weight, active and inactive connections; no thresholds, persistence
    /// templates or counters (see [`DestinationInfo`]). What ipvsadm's
    /// default listing and `-S` show; several times faster than
    /// [`Destinations::Full`] on large tables.
    Brief,
    /// Everything the kernel has of each real server, counters included.
    #[default]
    Full,
}

/// What a read of the table must include, and how hard it looks for
/// services the kernel's dump skipped. Built from [`ReadOptions::new`].
///
/// ```
/// use ipvs::{Destinations, ReadOptions};
/// let for_a_listing = ReadOptions::new().destinations(Destinations::Brief);
/// let for_an_apply = ReadOptions::new().settled(true);
/// # let _ = (for_a_listing, for_an_apply);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    destinations: Destinations,
    settled: bool,
}

impl ReadOptions {
    /// Every service with every real server in full, as one pass of the
    /// kernel's dumps reads them (what ipvsadm does).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Which real servers to read, and how much of each.
    #[must_use]
    pub fn destinations(mut self, destinations: Destinations) -> Self {
        self.destinations = destinations;
        self
    }

    /// Whether to look for services the dump skipped, for readers that act
    /// on what is absent (an apply would otherwise add a service that is
    /// there, or a listing saved as desired state would delete it): services
    /// `/proc/net/ip_vs` lists are looked up (up to 40,000 services, where
    /// its one read costs less than the dumps), and the services are dumped
    /// again until a dump finds nothing new (at most three more). Neither
    /// source is a snapshot, but they skip at different places; while other
    /// namespaces keep changing, nothing the kernel offers can promise that
    /// no service is missed.
    #[must_use]
    pub fn settled(mut self, settled: bool) -> Self {
        self.settled = settled;
        self
    }
}

/// Where the real servers of a [`TableRead`]'s services come from.
enum Source {
    /// None are read.
    Nothing,
    /// In brief from one read of `/proc/net/ip_vs`, by service; a service it
    /// lacks, or one of whose real servers tunnels (the file has no tunnel
    /// parameters), is dumped.
    Proc(FxHashMap<ProcKey, Vec<DestinationInfo>>),
    /// A dump per service, as it is reached.
    PerService,
}

/// A read of the table under way: the services are read, their real
/// servers are read as the iterator reaches each one, so that a table of
/// 100,000 services never holds all its real servers at once.
///
/// Order the services first if their order matters
/// ([`TableRead::services_mut`]): they come in the kernel's order.
///
/// Each item is a service with its real servers, or the error of reading
/// them ([`Operation::ListDestinations`]); a service deleted since the
/// services were read comes without real servers.
pub struct TableRead<'a> {
    ipvs: &'a Ipvs,
    services: std::vec::IntoIter<ServiceInfo>,
    source: Source,
}

impl std::fmt::Debug for TableRead<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRead")
            .field("services", &self.services.as_slice())
            .finish_non_exhaustive()
    }
}

impl TableRead<'_> {
    /// The services still to come, without their real servers.
    pub fn services(&self) -> &[ServiceInfo] {
        self.services.as_slice()
    }

    /// The services still to come, to put in another order (with
    /// `sort_by`, or any permutation).
    pub fn services_mut(&mut self) -> &mut [ServiceInfo] {
        self.services.as_mut_slice()
    }

    fn destinations_of(&mut self, key: &ServiceKey) -> Result<Vec<DestinationInfo>> {
        if let Source::Proc(by_key) = &mut self.source
            && let Some(list) = by_key.remove(&ProcKey::of(key))
            && !list
                .iter()
                .any(|d| d.destination.forward == ForwardMethod::Tunnel)
        {
            return Ok(list);
        }
        self.ipvs.dump_destinations(key)
    }
}

impl Iterator for TableRead<'_> {
    type Item = Result<ServiceInfo>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut service = self.services.next()?;
        if !matches!(self.source, Source::Nothing) {
            match self.destinations_of(&service.service.key) {
                Ok(list) => service.destinations = list,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(service))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.services.size_hint()
    }
}

impl ExactSizeIterator for TableRead<'_> {}

impl Ipvs {
    /// Reads the table as `options` ask: see [`ReadOptions`] and
    /// [`TableRead`]. The services are read now, each one's real servers as
    /// the iterator reaches it.
    ///
    /// # Errors
    /// When the kernel refuses the service dump ([`Operation::ListServices`];
    /// `PermissionDenied` without `CAP_NET_ADMIN`), or
    /// [`ErrorKind::Io`]/[`ErrorKind::Protocol`] if `/proc/net/ip_vs` cannot
    /// be read or understood (in brief, or settled).
    pub fn read_table(&self, options: ReadOptions) -> Result<TableRead<'_>> {
        let mut services = self.services()?;
        let brief =
            options.destinations == Destinations::Brief && services.len() <= BRIEF_SERVICES_MAX;
        let proc = match brief || (options.settled && services.len() <= BRIEF_SERVICES_MAX) {
            true => Some(self.read_proc_table()),
            false => None,
        };
        let proc = match proc {
            Some(Ok(table)) => {
                self.add_skipped(&mut services, &table.services)?;
                Some(table)
            }
            // A settled read only looks for more there.
            Some(Err(e)) if brief => return Err(e),
            _ => None,
        };
        if options.settled {
            self.dump_until_settled(&mut services)?;
        }
        let source = match (options.destinations, proc) {
            (Destinations::None, _) => Source::Nothing,
            (Destinations::Brief, Some(table)) if brief => Source::Proc(table.destinations),
            _ => Source::PerService,
        };
        Ok(TableRead {
            ipvs: self,
            services: services.into_iter(),
            source,
        })
    }

    /// The whole table in full: every service with its counters and real
    /// servers, in the kernel's order, read in one pass. Shorthand for
    /// [`Ipvs::read_table`] with [`ReadOptions::new`], collected.
    ///
    /// # Errors
    /// As [`Ipvs::read_table`], and a real-server dump the kernel refuses.
    pub fn table(&self) -> Result<Vec<ServiceInfo>> {
        self.read_table(ReadOptions::new())?.collect()
    }

    /// The whole table in full, settled: what apply, diff and the undo of an
    /// apply read with `Scope::Whole`, as they act on what is absent.
    #[cfg(feature = "serde")]
    pub(crate) fn settled_table(&self) -> Result<Vec<ServiceInfo>> {
        self.read_table(ReadOptions::new().settled(true))?.collect()
    }

    /// The services of `keys` that exist, each looked up by its key, with
    /// its real servers in full, in `keys`' order; a key the kernel does not
    /// have is left out. A lookup by key answers exactly where the service
    /// dump may skip, and it costs two requests per key whatever the size of
    /// the table: what a daemon watching a few services among thousands
    /// should read.
    ///
    /// # Errors
    /// A lookup or real-server dump the kernel refuses, other than "no such
    /// service" ([`Operation::GetService`], [`Operation::ListDestinations`]).
    pub fn read_services<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k ServiceKey>,
    ) -> Result<Vec<ServiceInfo>> {
        let mut out = Vec::new();
        for key in keys {
            let mut info = match self.service(key) {
                Ok(info) => info,
                Err(e) if e.kind() == ErrorKind::NoSuchService => continue,
                Err(e) => return Err(e),
            };
            info.destinations = self.dump_destinations(key)?;
            out.push(info);
        }
        Ok(out)
    }

    /// The services of `keys` that exist, with their real servers in full,
    /// in `keys`' order, as an apply that acts on what is absent must read
    /// them: looked up one by one when they are few ([`Ipvs::read_services`]),
    /// else found in a settled read of the services, their real servers
    /// dumped for them alone.
    #[cfg(feature = "serde")]
    pub(crate) fn settled_services(&self, keys: &[ServiceKey]) -> Result<Vec<ServiceInfo>> {
        if keys.len() <= LOOKUPS_MAX {
            return self.read_services(keys);
        }
        let only = ReadOptions::new()
            .settled(true)
            .destinations(Destinations::None);
        let mut found: FxHashMap<ServiceKey, ServiceInfo> = self
            .read_table(only)?
            .map(|s| s.map(|s| (s.service.key, s)))
            .collect::<Result<_>>()?;
        let mut out = Vec::new();
        for key in keys {
            if let Some(mut info) = found.remove(key) {
                info.destinations = self.dump_destinations(key)?;
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Dumps the services again, adding what each dump finds that the reads
    /// before it missed, until one finds nothing new (at most [`MORE_DUMPS`]).
    fn dump_until_settled(&self, services: &mut Vec<ServiceInfo>) -> Result<()> {
        for _ in 0..MORE_DUMPS {
            let known: FxHashSet<ServiceKey> = services.iter().map(|s| s.service.key).collect();
            let before = services.len();
            services.extend(
                self.services()?
                    .into_iter()
                    .filter(|s| !known.contains(&s.service.key)),
            );
            if services.len() == before {
                break;
            }
        }
        Ok(())
    }

    /// One read of `/proc/net/ip_vs` in the handle's namespace.
    fn read_proc_table(&self) -> Result<ProcTable> {
        let op = Operation::ListServices;
        proc::read_again(&self.proc_table, op, "ip_vs", |input| {
            parse_proc_ip_vs(input).map_err(|e| Error::new(op, ErrorKind::Protocol, e))
        })
    }

    /// Adds to `services` (from a dump) those of `listed` (from
    /// `/proc/net/ip_vs`) it lacks, as the kernel has them now, without
    /// their real servers.
    fn add_skipped(&self, services: &mut Vec<ServiceInfo>, listed: &[ProcKey]) -> Result<()> {
        let known: FxHashSet<ServiceKey> = services.iter().map(|s| s.service.key).collect();
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

    /// The connection table of the handle's namespace (`/proc/net/ip_vs_conn`),
    /// in the kernel's order.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read, [`ErrorKind::Protocol`]
    /// if a line cannot be parsed.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let op = Operation::ListConnections;
        let text = proc::read_again(&self.conn_table, op, "ip_vs_conn", |input| {
            let mut text = String::new();
            input
                .read_to_string(&mut text)
                .map_err(|e| Error::io(op, e))?;
            Ok(text)
        })?;
        parse_connections(&text).map_err(|e| Error::new(op, ErrorKind::Protocol, e))
    }
}

/// The service keys a listing of `/proc/net/ip_vs` can mean: a firewall
/// mark there carries no family, so it stands for both, once.
fn candidates(listed: &[ProcKey]) -> Vec<ServiceKey> {
    let mut seen = FxHashSet::default();
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

    #[test]
    fn default_options_read_everything_in_one_pass() {
        let o = ReadOptions::new();
        assert_eq!((o.destinations, o.settled), (Destinations::Full, false));
        let o = o.destinations(Destinations::Brief).settled(true);
        assert_eq!((o.destinations, o.settled), (Destinations::Brief, true));
    }

    mod scripted {
        use std::net::Ipv4Addr;

        use ipvs_sys::scripted::Reply;

        use crate::wire::testing::*;
        use crate::*;

        const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

        fn svc(port: u16) -> Service {
            Service::new(ServiceKey::tcp(VIP, port))
        }

        fn rs(host: u8) -> Destination {
            Destination::new(Ipv4Addr::new(192, 0, 2, host), 80, ForwardMethod::Masq)
        }

        fn dump(services: &[&Service]) -> Reply {
            Reply::Ok(services.iter().map(|s| service_reply(s, 0)).collect())
        }

        fn keys(read: Vec<ServiceInfo>) -> Vec<ServiceKey> {
            read.into_iter().map(|s| s.service.key).collect()
        }

        #[test]
        fn a_settled_read_dumps_again_until_nothing_is_new() {
            let (a, b, c) = (svc(80), svc(81), svc(82));
            let (ipvs, log) = kernel(vec![
                dump(&[&a]),
                dump(&[&a, &b]),
                dump(&[&c, &a, &b]),
                dump(&[&a, &b, &c]),
            ]);
            let options = ReadOptions::new()
                .destinations(Destinations::None)
                .settled(true);
            let read: Vec<ServiceInfo> = ipvs
                .read_table(options)
                .expect("read")
                .collect::<Result<_>>()
                .expect("services");
            assert_eq!(keys(read), [a.key, b.key, c.key]);
            assert_eq!(sent(&log), ["dump GetService"; 4]);
        }

        #[test]
        fn a_settled_read_stops_after_three_more_dumps() {
            let services: Vec<Service> = (80..86).map(svc).collect();
            let grow = |n: usize| dump(&services[..n].iter().collect::<Vec<_>>());
            let (ipvs, log) = kernel(vec![grow(1), grow(2), grow(3), grow(4), grow(5)]);
            let read = ipvs
                .read_table(
                    ReadOptions::new()
                        .destinations(Destinations::None)
                        .settled(true),
                )
                .expect("read");
            assert_eq!(read.len(), 4, "one dump and three more");
            assert_eq!(sent(&log).len(), 4);
        }

        #[test]
        fn real_servers_are_dumped_as_each_service_is_reached() {
            let (a, b) = (svc(80), svc(81));
            let (ipvs, log) = kernel(vec![
                dump(&[&a, &b]),
                Reply::Ok(vec![dest_reply(&rs(1), 3)]),
                Reply::Ok(vec![]),
            ]);
            let mut read = ipvs.read_table(ReadOptions::new()).expect("read");
            assert_eq!(sent(&log).len(), 1, "no real server read yet");
            let first = read.next().expect("a").expect("read a");
            assert_eq!(first.destinations.len(), 1);
            assert_eq!(first.destinations[0].active_connections, 3);
            assert!(first.destinations[0].stats.is_some(), "read in full");
            assert_eq!(sent(&log).len(), 2);
            let second = read.next().expect("b").expect("read b");
            assert_eq!((second.service.key, second.destinations.len()), (b.key, 0));
            assert!(read.next().is_none());
        }

        #[test]
        fn services_are_reached_in_the_order_the_caller_gives() {
            let (a, b) = (svc(80), svc(81));
            let (ipvs, log) = kernel(vec![
                dump(&[&a, &b]),
                Reply::Ok(vec![dest_reply(&rs(2), 0)]),
                Reply::Ok(vec![dest_reply(&rs(1), 0)]),
            ]);
            let mut read = ipvs.read_table(ReadOptions::new()).expect("read");
            read.services_mut().reverse();
            let listed: Vec<ServiceInfo> = read.collect::<Result<_>>().expect("listed");
            assert_eq!(keys(listed.clone()), [b.key, a.key]);
            assert_eq!(listed[0].destinations[0].destination, rs(2));
            let log = sent(&log);
            assert!(
                log[1].contains("port=81") && log[2].contains("port=80"),
                "{log:?}"
            );
        }

        #[test]
        fn a_brief_read_needs_the_proc_file() {
            let (ipvs, log) = kernel(vec![dump(&[&svc(80)])]);
            let err = ipvs
                .read_table(ReadOptions::new().destinations(Destinations::Brief))
                .unwrap_err();
            assert_eq!(
                (err.operation(), err.kind()),
                (Operation::ListServices, ErrorKind::Io)
            );
            assert_eq!(sent(&log), ["dump GetService"]);
        }

        #[test]
        fn a_failed_real_server_dump_is_the_item_s_error() {
            let (ipvs, _) = kernel(vec![dump(&[&svc(80)]), Reply::Errno(libc::EPERM)]);
            let mut read = ipvs.read_table(ReadOptions::new()).expect("read");
            let err = read.next().expect("an item").unwrap_err();
            assert_eq!(
                (err.operation(), err.kind()),
                (Operation::ListDestinations, ErrorKind::PermissionDenied)
            );
        }
    }
}
