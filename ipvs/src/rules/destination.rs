//! The rules of a real server, field by field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{MAX_WEIGHT, Violation};
use crate::destination::{Destination, ForwardMethod, TunnelChecksum, TunnelKind};
use crate::key::ServiceKey;

/// Checks a real server of `service`, all but what needs the director's
/// addresses ([`needs_local_address`] says when that is needed).
pub(crate) fn check_destination(service: &ServiceKey, d: &Destination) -> Result<(), Violation> {
    // Weight. ipvsadm: -w 0..=65535 upstream, 0..=2147483647 as Debian
    // builds it. Kernel: read as int, negative is ERANGE.
    if d.weight > MAX_WEIGHT {
        return Err(Violation::Weight(d.weight));
    }
    // Thresholds. ipvsadm: -x, -y 0..=2147483647. Kernel: ERANGE when
    // lower > upper, so a lower threshold needs an upper one (0 is none).
    for (which, value) in [("upper", d.upper_threshold), ("lower", d.lower_threshold)] {
        if value > MAX_WEIGHT {
            return Err(Violation::Threshold { which, value });
        }
    }
    if d.lower_threshold > d.upper_threshold {
        return Err(Violation::ThresholdsInverted {
            upper: d.upper_threshold,
            lower: d.lower_threshold,
        });
    }
    // Family. ipvsadm: "Different address family is allowed only for
    // tunneling servers". Kernel: EINVAL likewise (3.18+ for tunnels).
    let family = d.family();
    if family != service.family() && d.forward != ForwardMethod::Tunnel {
        return Err(Violation::FamilyMismatch {
            real_server: family,
            service: service.family(),
        });
    }
    check_address(d.address)?;
    check_port(service, d)?;
    check_tunnel(d)
}

/// Address. ipvsadm: passes any address to the kernel. Kernel
/// (`ip_vs_new_dest`): IPv4 must be of type unicast or local
/// (`inet_addr_type`), so 0.0.0.0, 255.255.255.255 and multicast are
/// EINVAL ("address not unicast"; the rest of 0.0.0.0/8 is unicast since
/// Linux 5.3); IPv6 must be unicast (not ::, multicast or
/// IPv4-mapped) and not link-local unless it is the director's own. A
/// broadcast address of a local subnet is refused by the kernel only.
fn check_address(address: IpAddr) -> Result<(), Violation> {
    let unicast = match address {
        IpAddr::V4(a) => !(a.is_multicast() || a.is_unspecified() || a == Ipv4Addr::BROADCAST),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified() || a.to_ipv4_mapped().is_some()),
    };
    if unicast {
        Ok(())
    } else {
        Err(Violation::NotUnicast(address))
    }
}

/// Port. ipvsadm (`-a`/`-e`): with direct routing or tunnelling the port is
/// set to the service's, whatever `-r` says, because neither rewrites the
/// packet; it leaves firewall-mark services alone (their port is 0, and the
/// real server's port is then only part of its identity). Masquerading may
/// use any port; 0 there means "the packet's own port" (`ip_vs_schedule`).
/// Kernel: stores any port, and would list a routed real server at a port it
/// never sends to, which a save and restore then moves. The library refuses
/// it rather than change it silently. Local forwarding (which ipvsadm cannot
/// ask for) does not rewrite either, so it follows the same rule.
fn check_port(service: &ServiceKey, d: &Destination) -> Result<(), Violation> {
    let keeps_port = matches!(
        d.forward,
        ForwardMethod::Route | ForwardMethod::Tunnel | ForwardMethod::Local
    );
    match service {
        ServiceKey::Inet { port, .. } if keeps_port && d.port != *port => {
            Err(Violation::PortNotServicePort {
                forward: d.forward,
                port: d.port,
                service_port: *port,
            })
        }
        _ => Ok(()),
    }
}

/// Tunnel parameters. ipvsadm: --tun-* only with -i ("Tunnel options
/// conflict with forward method"); per type (`tunnel_types_v_options`):
/// ipip takes none, gue needs --tun-port and takes one checksum option, gre
/// takes --tun-nocsum or --tun-csum. Kernel: GUE with port 0 is EINVAL; the
/// rest it stores, and the encapsulation ignores what does not apply.
fn check_tunnel(d: &Destination) -> Result<(), Violation> {
    let t = match (d.forward, d.tunnel) {
        (ForwardMethod::Tunnel, Some(t)) => t,
        (ForwardMethod::Tunnel, None) => return Ok(()),
        (method, Some(_)) => return Err(Violation::TunnelWithoutTunnelling(method)),
        (_, None) => return Ok(()),
    };
    match (t.kind, t.port, t.checksum) {
        (TunnelKind::Gue, 0, _) => Err(Violation::GueWithoutPort),
        (TunnelKind::Ipip | TunnelKind::Gre, p, _) if p != 0 => Err(Violation::TunnelPortNotGue),
        (TunnelKind::Ipip, _, c) if c != TunnelChecksum::None => Err(Violation::IpipChecksum),
        (TunnelKind::Gre, _, TunnelChecksum::Remote) => Err(Violation::RemoteChecksumNotGue),
        _ => Ok(()),
    }
}

/// Whether a real server is valid only if its address is the director's own,
/// and the violation if it is not. Local forwarding: ipvsadm has no option for
/// it (since Linux 2.6.37 the kernel no longer turns a local address into
/// it: `-r 127.0.0.1 -g` is listed as Route); the kernel stores it for any
/// address and hands the packets to the director's own stack, so for another
/// host's address nothing reaches that host. An IPv6 link-local address:
/// the kernel takes it only if it is local.
pub(crate) fn needs_local_address(d: &Destination) -> Option<Violation> {
    if d.forward == ForwardMethod::Local {
        return Some(Violation::LocalNotOwnAddress(d.address));
    }
    match d.address {
        IpAddr::V6(a) if is_link_local(a) => Some(Violation::LinkLocal(d.address)),
        _ => None,
    }
}

fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Tunnel;
    use crate::key::AddressFamily;

    fn svc() -> ServiceKey {
        ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80)
    }

    fn rs(forward: ForwardMethod) -> Destination {
        Destination::new(Ipv4Addr::new(192, 0, 2, 1), 80, forward)
    }

    fn at(a: &str, port: u16) -> Destination {
        Destination::new(
            a.parse::<IpAddr>().expect("address"),
            port,
            ForwardMethod::Tunnel,
        )
    }

    #[test]
    fn every_rule_names_its_field() {
        let mut stray_tunnel = rs(ForwardMethod::Masq);
        stray_tunnel.tunnel = Some(Tunnel::IPIP);
        let cases: Vec<(ServiceKey, Destination, Violation)> = vec![
            (
                svc(),
                rs(ForwardMethod::Route).with_weight(MAX_WEIGHT + 1),
                Violation::Weight(MAX_WEIGHT + 1),
            ),
            (
                svc(),
                rs(ForwardMethod::Route).with_thresholds(MAX_WEIGHT + 1, 0),
                Violation::Threshold {
                    which: "upper",
                    value: MAX_WEIGHT + 1,
                },
            ),
            (
                svc(),
                rs(ForwardMethod::Route).with_thresholds(0, 5),
                Violation::ThresholdsInverted { upper: 0, lower: 5 },
            ),
            (
                svc(),
                rs(ForwardMethod::Route).with_thresholds(10, 11),
                Violation::ThresholdsInverted {
                    upper: 10,
                    lower: 11,
                },
            ),
            (
                ServiceKey::tcp(Ipv6Addr::LOCALHOST, 80),
                rs(ForwardMethod::Masq),
                Violation::FamilyMismatch {
                    real_server: AddressFamily::Ipv4,
                    service: AddressFamily::Ipv6,
                },
            ),
            (
                svc(),
                at("224.0.0.5", 80),
                Violation::NotUnicast("224.0.0.5".parse().expect("ip")),
            ),
            (
                svc(),
                at("0.0.0.0", 80),
                Violation::NotUnicast("0.0.0.0".parse().expect("ip")),
            ),
            (
                svc(),
                at("255.255.255.255", 80),
                Violation::NotUnicast("255.255.255.255".parse().expect("ip")),
            ),
            (
                svc(),
                at("::", 80),
                Violation::NotUnicast("::".parse().expect("ip")),
            ),
            (
                svc(),
                at("ff02::1", 80),
                Violation::NotUnicast("ff02::1".parse().expect("ip")),
            ),
            (
                svc(),
                at("::ffff:192.0.2.1", 80),
                Violation::NotUnicast("::ffff:192.0.2.1".parse().expect("ip")),
            ),
            (
                svc(),
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Route),
                Violation::PortNotServicePort {
                    forward: ForwardMethod::Route,
                    port: 8080,
                    service_port: 80,
                },
            ),
            (
                svc(),
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Tunnel),
                Violation::PortNotServicePort {
                    forward: ForwardMethod::Tunnel,
                    port: 8080,
                    service_port: 80,
                },
            ),
            (
                svc(),
                Destination::new(Ipv4Addr::LOCALHOST, 0, ForwardMethod::Local),
                Violation::PortNotServicePort {
                    forward: ForwardMethod::Local,
                    port: 0,
                    service_port: 80,
                },
            ),
            (
                svc(),
                rs(ForwardMethod::Tunnel).with_tunnel(Tunnel::gue(0, TunnelChecksum::None)),
                Violation::GueWithoutPort,
            ),
            (
                svc(),
                rs(ForwardMethod::Tunnel).with_tunnel(Tunnel::new(
                    TunnelKind::Ipip,
                    6080,
                    TunnelChecksum::None,
                )),
                Violation::TunnelPortNotGue,
            ),
            (
                svc(),
                rs(ForwardMethod::Tunnel).with_tunnel(Tunnel::new(
                    TunnelKind::Gre,
                    6080,
                    TunnelChecksum::None,
                )),
                Violation::TunnelPortNotGue,
            ),
            (
                svc(),
                rs(ForwardMethod::Tunnel).with_tunnel(Tunnel::new(
                    TunnelKind::Ipip,
                    0,
                    TunnelChecksum::Checksum,
                )),
                Violation::IpipChecksum,
            ),
            (
                svc(),
                rs(ForwardMethod::Tunnel).with_tunnel(Tunnel::gre(TunnelChecksum::Remote)),
                Violation::RemoteChecksumNotGue,
            ),
            (
                svc(),
                stray_tunnel,
                Violation::TunnelWithoutTunnelling(ForwardMethod::Masq),
            ),
        ];
        for (service, d, violation) in cases {
            assert_eq!(check_destination(&service, &d), Err(violation), "{d}");
        }
    }

    #[test]
    fn what_ipvsadm_can_make_passes() {
        let fwmark = ServiceKey::fwmark(AddressFamily::Ipv4, 5);
        let every_port = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 0);
        let ok: Vec<(ServiceKey, Destination)> = vec![
            (
                svc(),
                rs(ForwardMethod::Route)
                    .with_weight(MAX_WEIGHT)
                    .with_thresholds(MAX_WEIGHT, MAX_WEIGHT),
            ),
            (svc(), rs(ForwardMethod::Route).with_thresholds(10, 0)),
            // NAT may change the port; 0 keeps the packet's.
            (
                svc(),
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Masq),
            ),
            (
                svc(),
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 0, ForwardMethod::Masq),
            ),
            // ipvsadm keeps -r's port for firewall-mark services.
            (
                fwmark,
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Route),
            ),
            (
                every_port,
                Destination::new(Ipv4Addr::new(192, 0, 2, 1), 0, ForwardMethod::Route),
            ),
            (
                svc(),
                Destination::new(Ipv4Addr::LOCALHOST, 80, ForwardMethod::Route),
            ),
            (
                svc(),
                at("2001:db8::1", 80).with_tunnel(Tunnel::gue(6080, TunnelChecksum::Remote)),
            ),
            (svc(), at("240.0.0.1", 80)),
            (svc(), at("0.1.2.3", 80)),
        ];
        for (service, d) in ok {
            assert_eq!(check_destination(&service, &d), Ok(()), "{d}");
        }
    }

    #[test]
    fn local_forwarding_and_link_local_need_an_own_address() {
        let local = Destination::new(Ipv4Addr::new(192, 0, 2, 21), 80, ForwardMethod::Local);
        assert_eq!(
            needs_local_address(&local),
            Some(Violation::LocalNotOwnAddress(local.address))
        );
        let ll = Destination::new(
            "fe80::1".parse::<IpAddr>().expect("ip"),
            80,
            ForwardMethod::Route,
        );
        assert_eq!(
            needs_local_address(&ll),
            Some(Violation::LinkLocal(ll.address))
        );
        assert_eq!(needs_local_address(&rs(ForwardMethod::Route)), None);
    }
}
