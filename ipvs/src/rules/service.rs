//! The rules of a virtual service, field by field.

use super::{MAX_TIMEOUT, Violation, fits_name_field};
use crate::key::{AddressFamily, Protocol, ServiceKey};
use crate::service::{Netmask, Service};

/// Checks a virtual service; the first broken rule, in ipvsadm's order
/// where ipvsadm has one (port, then one-packet scheduling).
pub(crate) fn check_service(s: &Service) -> Result<(), Violation> {
    match s.key {
        // Protocol. ipvsadm: -t, -u or --sctp-service only. Kernel: netlink
        // takes any number (only the old sockopt interface checks), but a
        // packet of a protocol IPVS has no handler for is never scheduled.
        ServiceKey::Inet { protocol, .. }
            if !matches!(protocol, Protocol::Tcp | Protocol::Udp | Protocol::Sctp) =>
        {
            return Err(Violation::Protocol(protocol.number()));
        }
        // Port 0. ipvsadm: "Zero port specified for non-persistent service".
        // Kernel: stored, and only persistence templates can use it (every
        // port of the address); without persistence it matches nothing.
        ServiceKey::Inet { port: 0, .. } if s.persistence.is_none() => {
            return Err(Violation::EveryPortWithoutPersistence);
        }
        // Firewall mark. ipvsadm: 1..=4294967295. Kernel: a mark of 0 means
        // "no mark", so the request names an address service instead.
        ServiceKey::Fwmark { mark: 0, .. } => return Err(Violation::FwmarkZero),
        // The address itself: ipvsadm and the kernel take any, even 0.0.0.0
        // or a multicast address, and so does the library.
        _ => {}
    }
    // One-packet scheduling. ipvsadm: "One-Packet Scheduling is only for UDP
    // virtual services" (fwmark services pass). Kernel: stores the flag for
    // any protocol; it only means something for datagrams.
    if s.one_packet
        && matches!(s.key, ServiceKey::Inet { protocol, .. } if protocol != Protocol::Udp)
    {
        return Err(Violation::OnePacketNotUdp);
    }
    // Scheduler. ipvsadm: truncates -s to 15 characters, "wlc" if absent,
    // "none" passes (the kernel then binds no scheduler). Kernel: a string
    // of at most 15 bytes (netlink policy), loads `ip_vs_<name>`, ENOENT if
    // there is none.
    let scheduler = s.scheduler.name();
    if !fits_name_field(scheduler) {
        return Err(Violation::SchedulerName(scheduler.to_owned()));
    }
    // Persistence engine. ipvsadm: --pe copied into 16 bytes. Kernel: at
    // most 15 bytes, loads `ip_vs_pe_<name>` ("sip"), ENOENT otherwise. It
    // is used only by persistent services, but ipvsadm lets it be set on
    // any, and the kernel stores it as given, so the library does too.
    if let Some(pe) = s
        .persistence_engine
        .as_deref()
        .filter(|pe| !fits_name_field(pe))
    {
        return Err(Violation::PersistenceEngineName(pe.to_owned()));
    }
    // Scheduler flags: ipvsadm sets flag-1..3 with any scheduler (sh-* and
    // mh-* are names for the same bits); the kernel stores the three bits.
    // Every value of `SchedFlags` is one ipvsadm can make.
    if let Some(p) = &s.persistence {
        // Persistence timeout. ipvsadm: -p 1..=2678400, 360 if -p has no
        // value. Kernel: stores seconds × HZ in an unsigned int (it would
        // wrap above 4294967 s at HZ=1000), and 0 with the persistent flag
        // would expire templates at once.
        if p.timeout == 0 || p.timeout > MAX_TIMEOUT {
            return Err(Violation::PersistenceTimeout(p.timeout));
        }
        if let Some(mask) = p.netmask {
            check_netmask(mask, s.key.family())?;
        }
    }
    // A netmask without persistence: ipvsadm sends -M anyway and the kernel
    // stores it, but only persistence reads it and no listing shows it; the
    // library keeps the netmask inside `Persistence`, so it cannot say one.
    Ok(())
}

/// Netmask. ipvsadm: for an IPv4 service `-M` is a dotted mask
/// (`inet_aton`, so any 32-bit value passes, `-M 24` being 0.0.0.24); for an
/// IPv6 service a prefix length 1..=128. Kernel: IPv4 masks are used as
/// given (client address AND mask); an IPv6 prefix outside 1..=128 is
/// EINVAL. The library also reads IPv4 prefix lengths, as masks
/// ([`Netmask::from_prefix`]).
fn check_netmask(mask: Netmask, family: AddressFamily) -> Result<(), Violation> {
    match mask {
        _ if mask.family() != family => Err(Violation::NetmaskFamily {
            mask,
            service: family,
        }),
        Netmask::Ipv6(length) if !(1..=128).contains(&length) => Err(Violation::PrefixLength {
            length,
            family: AddressFamily::Ipv6,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{Persistence, Scheduler};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn tcp(port: u16) -> Service {
        Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), port))
    }

    fn v6() -> Service {
        Service::new(ServiceKey::tcp(Ipv6Addr::LOCALHOST, 80))
    }

    #[test]
    fn every_rule_names_its_field() {
        let persistent = |s: Service, p: Persistence| s.with_persistence(p);
        let cases: Vec<(Service, Violation)> = vec![
            (
                Service::new(ServiceKey::Inet {
                    protocol: Protocol::Other(1),
                    address: Ipv4Addr::new(10, 0, 0, 1).into(),
                    port: 80,
                }),
                Violation::Protocol(1),
            ),
            (tcp(0), Violation::EveryPortWithoutPersistence),
            (
                Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, 0)),
                Violation::FwmarkZero,
            ),
            (tcp(80).with_one_packet(true), Violation::OnePacketNotUdp),
            (
                tcp(80).with_scheduler(Scheduler::Other("sixteen-chars-sc".into())),
                Violation::SchedulerName("sixteen-chars-sc".into()),
            ),
            (
                tcp(80).with_scheduler(Scheduler::Other(String::new())),
                Violation::SchedulerName(String::new()),
            ),
            (
                tcp(80).with_persistence_engine("sixteen-chars-pe"),
                Violation::PersistenceEngineName("sixteen-chars-pe".into()),
            ),
            (
                persistent(tcp(80), Persistence::new(0)),
                Violation::PersistenceTimeout(0),
            ),
            (
                persistent(tcp(80), Persistence::new(MAX_TIMEOUT + 1)),
                Violation::PersistenceTimeout(MAX_TIMEOUT + 1),
            ),
            (
                persistent(
                    tcp(80),
                    Persistence::new(60).with_netmask(Netmask::Ipv6(64)),
                ),
                Violation::NetmaskFamily {
                    mask: Netmask::Ipv6(64),
                    service: AddressFamily::Ipv4,
                },
            ),
            (
                persistent(v6(), Persistence::new(60).with_netmask(Netmask::Ipv6(129))),
                Violation::PrefixLength {
                    length: 129,
                    family: AddressFamily::Ipv6,
                },
            ),
            (
                persistent(v6(), Persistence::new(60).with_netmask(Netmask::Ipv6(0))),
                Violation::PrefixLength {
                    length: 0,
                    family: AddressFamily::Ipv6,
                },
            ),
        ];
        for (service, violation) in cases {
            assert_eq!(check_service(&service), Err(violation), "{service}");
        }
    }

    #[test]
    fn what_ipvsadm_can_make_passes() {
        let ok = [
            tcp(80),
            tcp(0).with_persistence(Persistence::new(360)),
            persistent_at_limit(),
            Service::new(ServiceKey::udp(Ipv4Addr::new(10, 0, 0, 1), 53)).with_one_packet(true),
            Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 1)).with_one_packet(true),
            tcp(80).with_scheduler(Scheduler::Other("none".into())),
            // --pe without -p, and -M 0.0.0.24 (what `-M 24` means to ipvsadm).
            tcp(80).with_persistence_engine("sip"),
            tcp(80).with_persistence(
                Persistence::new(60).with_netmask(Netmask::Ipv4(Ipv4Addr::new(0, 0, 0, 24))),
            ),
            v6().with_persistence(Persistence::new(60).with_netmask(Netmask::Ipv6(128))),
        ];
        for service in ok {
            assert_eq!(check_service(&service), Ok(()), "{service}");
        }
    }

    fn persistent_at_limit() -> Service {
        tcp(80).with_persistence(Persistence::new(MAX_TIMEOUT))
    }
}
