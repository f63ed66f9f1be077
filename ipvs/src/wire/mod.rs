//! The seam between the domain types and `ipvs-sys`: the only module of this
//! crate that names an attribute of the IPVS family. It builds whole request
//! messages from domain values (`messages`) and reads whole replies back
//! into domain values, converting the typed payloads of `ipvs-sys` with
//! `From`/`TryFrom` (`convert`). Nothing here talks to the kernel; every
//! read is checked, never assumed, and a reply it cannot read is a
//! [`WireError`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_sys::{
    IpvsCmdAttr, IpvsDaemonAttr, IpvsDaemonState, IpvsDestAttr, IpvsFlags, IpvsFwdMethod,
    IpvsNetmask, IpvsServiceAttr, IpvsServiceFlags, IpvsStats64Attr, IpvsStatsAttr,
    IpvsTunnelFlags, IpvsTunnelType,
};

use crate::daemon::{DaemonRole, SyncDaemon};
use crate::destination::{Destination, ForwardMethod, Tunnel, TunnelChecksum, TunnelKind};
use crate::key::{AddressFamily, Protocol, ServiceKey};
use crate::service::{Netmask, Persistence, SchedFlags, Scheduler, Service};
use crate::stats::{DestinationInfo, ServiceInfo, Stats};
use crate::timeouts::Timeouts;

mod convert;
mod messages;
#[cfg(test)]
pub(crate) mod testing;

pub(crate) use messages::*;

/// A kernel reply this crate cannot read. Its text is the detail of an
/// [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireError {
    /// A nest lacks a required attribute: what the nest is, and the attribute.
    #[error("{0} without {1}")]
    Missing(&'static str, &'static str),
    /// A service or destination of an address family IPVS does not have.
    #[error("{0} of unknown address family {1}")]
    UnknownFamily(&'static str, u16),
    /// A service with neither a firewall mark nor protocol, address and port.
    #[error("service without a firewall mark or protocol, address and port")]
    NoServiceIdentity,
    /// A destination forwarded by a method this crate does not know.
    #[error("destination with unknown forwarding method {0}")]
    UnknownForwardMethod(u32),
    /// A tunnel type this crate does not know.
    #[error("destination with unknown tunnel type {0}")]
    UnknownTunnelType(u8),
    /// Tunnel flags this crate does not know.
    #[error("destination with unknown tunnel flags {0:#x}")]
    UnknownTunnelFlags(u16),
    /// A sync daemon in a state that is neither master nor backup (or none).
    #[error("sync daemon in unknown state {0:?}")]
    UnknownDaemonState(Option<u32>),
    /// A sync id above 255.
    #[error("sync id {0} above 255")]
    SyncIdTooLarge(u32),
    /// A reply that lacks the nest it answers with (the name of the nest).
    #[error("the {0} reply has no {0}")]
    NoReply(&'static str),
    /// A `GET_INFO` reply without the version or the table size.
    #[error("the info reply lacks the version or size")]
    IncompleteInfo,
}

/// The text of the error, as the detail of a library [`Error`](crate::Error).
impl From<WireError> for String {
    fn from(err: WireError) -> Self {
        err.to_string()
    }
}

/// `union nf_inet_addr` of an address.
pub(crate) fn inet_addr(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => {
            let mut out = [0; 16];
            out[..4].copy_from_slice(&a.octets());
            out
        }
        IpAddr::V6(a) => a.octets(),
    }
}

fn addr_of(bytes: [u8; 16], family: AddressFamily) -> IpAddr {
    match family {
        AddressFamily::Ipv4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        AddressFamily::Ipv6 => IpAddr::V6(Ipv6Addr::from(bytes)),
    }
}

/// The identifying attributes of a service.
pub(crate) fn service_key_attrs(key: &ServiceKey) -> Vec<IpvsServiceAttr> {
    // Room for what service_attrs adds: one allocation per request.
    let mut attrs = Vec::with_capacity(10);
    attrs.push(IpvsServiceAttr::Af(key.family().into()));
    match key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => attrs.extend([
            IpvsServiceAttr::Protocol(protocol.number()),
            IpvsServiceAttr::Addr(inet_addr(address)),
            IpvsServiceAttr::Port(*port),
        ]),
        ServiceKey::Fwmark { mark, .. } => attrs.push(IpvsServiceAttr::Fwmark(*mark)),
    }
    attrs
}

/// The `IP_VS_SVC_F_*` bits a service configuration sets.
pub(crate) fn service_flags(service: &Service) -> IpvsServiceFlags {
    let mut flags = IpvsServiceFlags::from(service.sched_flags);
    if service.persistence.is_some() {
        flags |= IpvsServiceFlags::PERSISTENT;
    }
    if service.one_packet {
        flags |= IpvsServiceFlags::ONEPACKET;
    }
    flags
}

/// The full service nest of an add or edit: the kernel needs the scheduler,
/// flags, timeout and netmask every time, and drops the persistence engine
/// when it is absent. `flag_mask` selects the flag bits to change.
pub(crate) fn service_attrs(
    service: &Service,
    flag_mask: IpvsServiceFlags,
) -> Vec<IpvsServiceAttr> {
    let family = service.key.family();
    let mut attrs = service_key_attrs(&service.key);
    attrs.push(IpvsServiceAttr::SchedName(
        service.scheduler.name().to_owned(),
    ));
    if let Some(pe) = &service.persistence_engine {
        attrs.push(IpvsServiceAttr::PeName(pe.clone()));
    }
    let netmask = service
        .persistence
        .map_or(Netmask::host(family), |p| p.netmask_or_default(family));
    attrs.extend([
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: service_flags(service),
            mask: flag_mask,
        }),
        IpvsServiceAttr::Timeout(service.persistence.map_or(0, |p| p.timeout)),
        IpvsServiceAttr::Netmask(match netmask {
            Netmask::Ipv4(mask) => IpvsNetmask::from_ipv4(mask),
            Netmask::Ipv6(prefix) => IpvsNetmask::from_ipv6_prefix(prefix.into()),
        }),
    ]);
    attrs
}

/// Reads the service nest of a kernel reply.
pub(crate) fn service_from_attrs(attrs: &[IpvsServiceAttr]) -> Result<ServiceInfo, WireError> {
    let (mut af, mut protocol, mut addr, mut port, mut fwmark) = (None, None, None, None, None);
    let mut flags = IpvsServiceFlags::empty();
    let (mut sched, mut timeout, mut netmask, mut pe) = (None, 0, None, None);
    let (mut stats32, mut stats64) = (None, None);
    for attr in attrs {
        match attr {
            IpvsServiceAttr::Af(v) => af = Some(*v),
            IpvsServiceAttr::Protocol(v) => protocol = Some(*v),
            IpvsServiceAttr::Addr(v) => addr = Some(*v),
            IpvsServiceAttr::Port(v) => port = Some(*v),
            IpvsServiceAttr::Fwmark(v) => fwmark = Some(*v),
            IpvsServiceAttr::SchedName(v) => sched = Some(v.clone()),
            IpvsServiceAttr::Flags(f) => flags = f.flags,
            IpvsServiceAttr::Timeout(v) => timeout = *v,
            IpvsServiceAttr::Netmask(m) => netmask = Some(*m),
            IpvsServiceAttr::PeName(v) => pe = Some(v.clone()),
            IpvsServiceAttr::Stats(v) => stats32 = Some(v),
            IpvsServiceAttr::Stats64(v) => stats64 = Some(v),
            _ => {}
        }
    }
    let af = af.ok_or(WireError::Missing("service", "IPVS_SVC_ATTR_AF"))?;
    let family =
        AddressFamily::try_from(af).map_err(|af| WireError::UnknownFamily("service", af.into()))?;
    let key = match (fwmark, protocol, addr, port) {
        (Some(mark), ..) if mark != 0 => ServiceKey::Fwmark { family, mark },
        (_, Some(p), Some(a), Some(port)) => ServiceKey::Inet {
            protocol: Protocol::from_number(p),
            address: addr_of(a, family),
            port,
        },
        _ => return Err(WireError::NoServiceIdentity),
    };
    let persistence = flags.contains(IpvsServiceFlags::PERSISTENT).then(|| {
        let mask = netmask.map(|m| match family {
            AddressFamily::Ipv4 => Netmask::Ipv4(m.as_ipv4()),
            AddressFamily::Ipv6 => Netmask::Ipv6(m.as_ipv6_prefix().min(255) as u8),
        });
        Persistence {
            timeout,
            netmask: mask.filter(|m| *m != Netmask::host(family)),
        }
    });
    let service = Service {
        key,
        scheduler: Scheduler::from_name(
            sched
                .as_deref()
                .ok_or(WireError::Missing("service", "IPVS_SVC_ATTR_SCHED_NAME"))?,
        ),
        sched_flags: SchedFlags::from(flags),
        persistence,
        persistence_engine: pe,
        one_packet: flags.contains(IpvsServiceFlags::ONEPACKET),
    };
    Ok(ServiceInfo {
        service,
        stats: stats_of(stats32, stats64),
        destinations: Vec::new(),
    })
}

/// Counters from both nests: STATS64 wins over the 32-bit STATS for each one.
fn stats_of(stats32: Option<&Vec<IpvsStatsAttr>>, stats64: Option<&Vec<IpvsStats64Attr>>) -> Stats {
    let mut s = Stats::default();
    for attr in stats32.into_iter().flatten() {
        match *attr {
            IpvsStatsAttr::Conns(v) => s.connections = v.into(),
            IpvsStatsAttr::InPkts(v) => s.in_packets = v.into(),
            IpvsStatsAttr::OutPkts(v) => s.out_packets = v.into(),
            IpvsStatsAttr::InBytes(v) => s.in_bytes = v,
            IpvsStatsAttr::OutBytes(v) => s.out_bytes = v,
            IpvsStatsAttr::Cps(v) => s.cps = v.into(),
            IpvsStatsAttr::InPps(v) => s.in_pps = v.into(),
            IpvsStatsAttr::OutPps(v) => s.out_pps = v.into(),
            IpvsStatsAttr::InBps(v) => s.in_bps = v.into(),
            IpvsStatsAttr::OutBps(v) => s.out_bps = v.into(),
            _ => {}
        }
    }
    for attr in stats64.into_iter().flatten() {
        match *attr {
            IpvsStats64Attr::Conns(v) => s.connections = v,
            IpvsStats64Attr::InPkts(v) => s.in_packets = v,
            IpvsStats64Attr::OutPkts(v) => s.out_packets = v,
            IpvsStats64Attr::InBytes(v) => s.in_bytes = v,
            IpvsStats64Attr::OutBytes(v) => s.out_bytes = v,
            IpvsStats64Attr::Cps(v) => s.cps = v,
            IpvsStats64Attr::InPps(v) => s.in_pps = v,
            IpvsStats64Attr::OutPps(v) => s.out_pps = v,
            IpvsStats64Attr::InBps(v) => s.in_bps = v,
            IpvsStats64Attr::OutBps(v) => s.out_bps = v,
            _ => {}
        }
    }
    s
}

/// The tunnel attributes' payloads; IPIP, port 0, no checksum without a tunnel.
fn tunnel_payloads(tunnel: Option<Tunnel>) -> (IpvsTunnelType, u16, IpvsTunnelFlags) {
    let Some(t) = tunnel else {
        return (IpvsTunnelType::Ipip, 0, IpvsTunnelFlags::NOCSUM);
    };
    (t.kind.into(), t.port, t.checksum.into())
}

/// The identifying attributes of a real server (what a delete needs).
pub(crate) fn dest_key_attrs(address: &IpAddr, port: u16) -> Vec<IpvsDestAttr> {
    // Room for what dest_attrs adds: one allocation per request.
    let mut attrs = Vec::with_capacity(10);
    attrs.extend([
        IpvsDestAttr::AddrFamily(AddressFamily::of(address).into()),
        IpvsDestAttr::Addr(inet_addr(address)),
        IpvsDestAttr::Port(port),
    ]);
    attrs
}

/// The full dest nest of an add or edit.
pub(crate) fn dest_attrs(dest: &Destination) -> Vec<IpvsDestAttr> {
    let (tun_type, tun_port, tun_flags) = tunnel_payloads(dest.tunnel);
    let mut attrs = dest_key_attrs(&dest.address, dest.port);
    attrs.extend([
        IpvsDestAttr::FwdMethod(dest.forward.into()),
        IpvsDestAttr::Weight(dest.weight),
        IpvsDestAttr::TunType(tun_type),
        IpvsDestAttr::TunPort(tun_port),
        IpvsDestAttr::TunFlags(tun_flags),
        IpvsDestAttr::UThresh(dest.upper_threshold),
        IpvsDestAttr::LThresh(dest.lower_threshold),
    ]);
    attrs
}

/// Reads the dest nest of a kernel reply; `service_family` stands in when
/// an old kernel (before 3.18) does not say the dest's own family.
pub(crate) fn dest_from_attrs(
    attrs: &[IpvsDestAttr],
    service_family: AddressFamily,
) -> Result<DestinationInfo, WireError> {
    let (mut addr, mut port, mut fwd, mut weight, mut af) = (None, None, None, 0, None);
    let (mut u_thresh, mut l_thresh, mut active, mut inactive, mut persist) = (0, 0, 0, 0, 0);
    let (mut tun_type, mut tun_port) = (IpvsTunnelType::Ipip, 0);
    let mut tun_flags = IpvsTunnelFlags::NOCSUM;
    let (mut stats32, mut stats64) = (None, None);
    for attr in attrs {
        match attr {
            IpvsDestAttr::Addr(v) => addr = Some(*v),
            IpvsDestAttr::Port(v) => port = Some(*v),
            IpvsDestAttr::FwdMethod(v) => fwd = Some(*v),
            IpvsDestAttr::Weight(v) => weight = *v,
            IpvsDestAttr::UThresh(v) => u_thresh = *v,
            IpvsDestAttr::LThresh(v) => l_thresh = *v,
            IpvsDestAttr::ActiveConns(v) => active = *v,
            IpvsDestAttr::InactConns(v) => inactive = *v,
            IpvsDestAttr::PersistConns(v) => persist = *v,
            IpvsDestAttr::AddrFamily(v) => af = Some(*v),
            IpvsDestAttr::TunType(v) => tun_type = *v,
            IpvsDestAttr::TunPort(v) => tun_port = *v,
            IpvsDestAttr::TunFlags(v) => tun_flags = *v,
            IpvsDestAttr::Stats(v) => stats32 = Some(v),
            IpvsDestAttr::Stats64(v) => stats64 = Some(v),
            _ => {}
        }
    }
    // Absent or 0 (before kernel 3.18): the service's family.
    let family = match af.map(u16::from) {
        None | Some(0) => service_family,
        Some(raw) => AddressFamily::try_from(ipvs_sys::IpvsAddressFamily::from(raw))
            .map_err(|_| WireError::UnknownFamily("destination", raw))?,
    };
    let fwd: IpvsFwdMethod = fwd.ok_or(WireError::Missing(
        "destination",
        "IPVS_DEST_ATTR_FWD_METHOD",
    ))?;
    let forward =
        ForwardMethod::try_from(fwd).map_err(|_| WireError::UnknownForwardMethod(fwd.into()))?;
    let tunnel = if forward == ForwardMethod::Tunnel {
        let kind =
            TunnelKind::try_from(tun_type).map_err(|t| WireError::UnknownTunnelType(t.into()))?;
        let checksum = TunnelChecksum::try_from(tun_flags)
            .map_err(|f| WireError::UnknownTunnelFlags(f.bits()))?;
        Some(Tunnel {
            kind,
            port: tun_port,
            checksum,
        })
    } else {
        None
    };
    Ok(DestinationInfo {
        destination: Destination {
            address: addr_of(
                addr.ok_or(WireError::Missing("destination", "IPVS_DEST_ATTR_ADDR"))?,
                family,
            ),
            port: port.ok_or(WireError::Missing("destination", "IPVS_DEST_ATTR_PORT"))?,
            forward,
            tunnel,
            weight,
            upper_threshold: u_thresh,
            lower_threshold: l_thresh,
        },
        active_connections: active,
        inactive_connections: inactive,
        persistent_connections: Some(persist),
        stats: Some(stats_of(stats32, stats64)),
    })
}

/// The daemon nest of a start request; optional fields only when set.
pub(crate) fn daemon_attrs(d: &SyncDaemon) -> Vec<IpvsDaemonAttr> {
    let mut attrs = vec![
        IpvsDaemonAttr::State(d.role.into()),
        IpvsDaemonAttr::McastIfn(d.interface.clone()),
        IpvsDaemonAttr::SyncId(d.sync_id.into()),
    ];
    attrs.extend(d.max_len.map(IpvsDaemonAttr::SyncMaxlen));
    attrs.extend(d.group.map(|g| match g {
        IpAddr::V4(a) => IpvsDaemonAttr::McastGroup(a),
        IpAddr::V6(a) => IpvsDaemonAttr::McastGroup6(a),
    }));
    attrs.extend(d.port.map(IpvsDaemonAttr::McastPort));
    attrs.extend(d.ttl.map(IpvsDaemonAttr::McastTtl));
    attrs
}

/// Reads the daemon nest of a kernel reply.
pub(crate) fn daemon_from_attrs(attrs: &[IpvsDaemonAttr]) -> Result<SyncDaemon, WireError> {
    let mut d = SyncDaemon::new(DaemonRole::Master, "", 0);
    let mut state = None;
    for attr in attrs {
        match attr {
            IpvsDaemonAttr::State(v) => state = Some(*v),
            IpvsDaemonAttr::McastIfn(v) => d.interface = v.clone(),
            IpvsDaemonAttr::SyncId(v) => {
                d.sync_id = u8::try_from(*v).map_err(|_| WireError::SyncIdTooLarge(*v))?
            }
            IpvsDaemonAttr::SyncMaxlen(v) => d.max_len = Some(*v),
            IpvsDaemonAttr::McastGroup(v) => d.group = Some(IpAddr::V4(*v)),
            IpvsDaemonAttr::McastGroup6(v) => d.group = Some(IpAddr::V6(*v)),
            IpvsDaemonAttr::McastPort(v) => d.port = Some(*v),
            IpvsDaemonAttr::McastTtl(v) => d.ttl = Some(*v),
            _ => {}
        }
    }
    d.role = state
        .and_then(|s: IpvsDaemonState| DaemonRole::try_from(s).ok())
        .ok_or(WireError::UnknownDaemonState(
            state.map(IpvsDaemonState::bits),
        ))?;
    Ok(d)
}

/// The timeout attributes of a `SET_CONFIG` (0 leaves a value unchanged).
pub(crate) fn timeout_attrs(t: &Timeouts) -> Vec<IpvsCmdAttr> {
    vec![
        IpvsCmdAttr::TimeoutTcp(t.tcp),
        IpvsCmdAttr::TimeoutTcpFin(t.tcp_fin),
        IpvsCmdAttr::TimeoutUdp(t.udp),
    ]
}

/// Reads the timeouts of a `GET_CONFIG` reply.
pub(crate) fn timeouts_from_attrs(attrs: &[IpvsCmdAttr]) -> Timeouts {
    let mut t = Timeouts::default();
    for attr in attrs {
        match attr {
            IpvsCmdAttr::TimeoutTcp(v) => t.tcp = *v,
            IpvsCmdAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
            IpvsCmdAttr::TimeoutUdp(v) => t.udp = *v,
            _ => {}
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_service(service: Service) {
        let attrs = service_attrs(&service, IpvsServiceFlags::all_bits());
        let back = service_from_attrs(&attrs).expect("reads back");
        assert_eq!(back.service, service);
    }

    #[test]
    fn services_round_trip_through_attributes() {
        round_trip_service(Service::new(ServiceKey::tcp(
            Ipv4Addr::new(10, 0, 0, 1),
            80,
        )));
        let mut svc = Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 9))
            .with_scheduler(Scheduler::MaglevHashing);
        svc.persistence = Some(Persistence {
            timeout: 30,
            netmask: Some(Netmask::Ipv6(64)),
        });
        svc.sched_flags = SchedFlags::PORT;
        svc.persistence_engine = Some("sip".into());
        round_trip_service(svc);
        let mut ops = Service::new(ServiceKey::udp(
            "2001:db8::1".parse::<IpAddr>().unwrap(),
            53,
        ));
        ops.one_packet = true;
        round_trip_service(ops);
    }

    #[test]
    fn default_netmask_is_sent_but_not_kept() {
        let svc = Service::new(ServiceKey::udp(
            "2001:db8::1".parse::<IpAddr>().unwrap(),
            53,
        ))
        .with_persistence(Persistence::new(60));
        let attrs = service_attrs(&svc, IpvsServiceFlags::all_bits());
        assert!(
            attrs.contains(&IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv6_prefix(
                128
            )))
        );
        assert_eq!(
            service_from_attrs(&attrs).unwrap().service.persistence,
            Some(Persistence::new(60))
        );
    }

    #[test]
    fn destinations_round_trip_through_attributes() {
        let v4 = AddressFamily::Ipv4;
        for dest in [
            Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Masq)
                .with_weight(MAX),
            Destination::new(Ipv4Addr::new(192, 0, 2, 2), 80, ForwardMethod::Route),
            Destination::new(Ipv4Addr::new(192, 0, 2, 3), 80, ForwardMethod::Local),
            Destination::new(
                "2001:db8::3".parse::<IpAddr>().unwrap(),
                80,
                ForwardMethod::Masq,
            )
            .with_tunnel(Tunnel::gue(6080, TunnelChecksum::Remote)),
            Destination::new(Ipv4Addr::new(192, 0, 2, 4), 80, ForwardMethod::Masq)
                .with_tunnel(Tunnel::gre(TunnelChecksum::Checksum)),
        ] {
            let back = dest_from_attrs(&dest_attrs(&dest), v4).expect("reads back");
            assert_eq!(back.destination, dest);
        }
    }

    const MAX: u32 = crate::rules::MAX_WEIGHT;

    #[test]
    fn stats64_wins_over_32_bit_counters() {
        let s = stats_of(
            Some(&vec![IpvsStatsAttr::Conns(1), IpvsStatsAttr::InBytes(5)]),
            Some(&vec![IpvsStats64Attr::Conns(5_000_000_000)]),
        );
        assert_eq!((s.connections, s.in_bytes), (5_000_000_000, 5));
    }

    #[test]
    fn incomplete_replies_are_errors_not_panics() {
        assert!(service_from_attrs(&[]).is_err());
        assert!(service_from_attrs(&[IpvsServiceAttr::Af(99.into())]).is_err());
        assert!(dest_from_attrs(&[IpvsDestAttr::Port(1)], AddressFamily::Ipv4).is_err());
        assert!(daemon_from_attrs(&[IpvsDaemonAttr::State(7.into())]).is_err());
    }
}
