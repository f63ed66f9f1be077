//! Every request ipvsadm 1.31 sends: parsed to the expected message, and
//! rebuilt from that message byte for byte.

use ipvs_sys::{
    IpvsAddressFamily, IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsDaemonState, IpvsDestAttr,
    IpvsFlags, IpvsMessage, IpvsNetmask, IpvsServiceAttr, IpvsServiceFlags,
};

use crate::fixtures::*;
use crate::{parse, svc, v4};

const ALL: IpvsServiceFlags = IpvsServiceFlags::all_bits();

/// Parses `bytes`, compares with `expected`, and checks that
/// `IpvsMessage::into_netlink` rebuilds exactly the same bytes.
fn check(bytes: &[u8], expected: IpvsMessage) {
    let (header, msg) = parse(bytes);
    assert_eq!(msg, expected);
    let dump = header.flags & 0x300 != 0;
    let nl = expected.into_netlink(
        header.message_type,
        header.sequence_number,
        header.port_number,
        dump,
    );
    let mut rebuilt = vec![0; nl.buffer_len()];
    nl.serialize(&mut rebuilt);
    assert_eq!(rebuilt, bytes);
}

/// The service part ipvsadm sends with every dest command and with
/// DEL_SERVICE and ZERO: the key plus empty scheduler, flags, timeout, netmask.
fn svc_full(protocol: u16, addr: [u8; 16], port: u16, netmask: [u8; 4]) -> Vec<IpvsServiceAttr> {
    let mut attrs = svc(protocol, addr, port);
    attrs.extend([
        IpvsServiceAttr::SchedName(String::new()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(0),
        IpvsServiceAttr::Netmask(IpvsNetmask(netmask)),
    ]);
    attrs
}

/// A dest as ipvsadm sends it: every attribute, in ipvsadm's order.
#[allow(clippy::too_many_arguments)]
fn dest(
    addr: [u8; 16],
    port: u16,
    fwd: u32,
    weight: u32,
    tun: (u8, u16, u16),
    thresh: (u32, u32),
) -> Vec<IpvsDestAttr> {
    vec![
        IpvsDestAttr::AddrFamily(IpvsAddressFamily::Inet),
        IpvsDestAttr::Addr(addr),
        IpvsDestAttr::Port(port),
        IpvsDestAttr::FwdMethod(fwd.into()),
        IpvsDestAttr::Weight(weight),
        IpvsDestAttr::TunType(tun.0.into()),
        IpvsDestAttr::TunPort(tun.1),
        IpvsDestAttr::TunFlags(tun.2.into()),
        IpvsDestAttr::UThresh(thresh.0),
        IpvsDestAttr::LThresh(thresh.1),
    ]
}

const VIP: [u8; 16] = [192, 168, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const HOST_MASK: [u8; 4] = [0xff; 4];

#[test]
fn get_info() {
    check(GET_INFO, IpvsMessage::new(IpvsCmd::GetInfo, vec![]));
}

#[test]
fn new_service_tcp() {
    let mut attrs = svc(6, VIP, 80);
    attrs.extend([
        IpvsServiceAttr::SchedName("rr".into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(0),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv4([255, 255, 255, 255].into())),
    ]);
    check(
        NEW_SERVICE_TCP,
        IpvsMessage::new(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn new_service_fwmark_ipv6_persistent() {
    let attrs = vec![
        IpvsServiceAttr::Af(IpvsAddressFamily::Inet6),
        IpvsServiceAttr::Fwmark(5),
        IpvsServiceAttr::SchedName("wlc".into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x1.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(360),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv6_prefix(64)),
    ];
    check(
        NEW_SERVICE_FWMARK6,
        IpvsMessage::new(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn new_service_udp_one_packet() {
    let mut attrs = svc(17, v4(10, 9, 0, 9), 53);
    attrs.extend([
        IpvsServiceAttr::SchedName("rr".into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x4.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(0),
        IpvsServiceAttr::Netmask(IpvsNetmask(HOST_MASK)),
    ]);
    check(
        NEW_SERVICE_UDP_OPS,
        IpvsMessage::new(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn set_service_sh_flags_and_persistence() {
    let mut attrs = svc(6, VIP, 80);
    attrs.extend([
        IpvsServiceAttr::SchedName("sh".into()),
        // PERSISTENT | SCHED_SH_FALLBACK | SCHED_SH_PORT
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x19.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(60),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv4([255, 255, 255, 0].into())),
    ]);
    check(
        SET_SERVICE_SH,
        IpvsMessage::new(IpvsCmd::SetService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn del_service() {
    let attrs = svc_full(6, VIP, 80, HOST_MASK);
    check(
        DEL_SERVICE,
        IpvsMessage::new(IpvsCmd::DelService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn get_service_dump() {
    check(
        GET_SERVICE_DUMP,
        IpvsMessage::new(IpvsCmd::GetService, vec![]),
    );
}

#[test]
fn get_one_service() {
    let attrs = svc_full(6, v4(10, 9, 0, 1), 80, [0; 4]);
    check(
        GET_SERVICE_ONE,
        IpvsMessage::new(IpvsCmd::GetService, vec![IpvsCmdAttr::Service(attrs)]),
    );
}

#[test]
fn new_dest_masquerading() {
    let svc = svc_full(6, VIP, 80, HOST_MASK);
    let dest = dest(v4(10, 0, 0, 1), 8080, 0, 1, (0, 0, 0), (0, 0));
    check(
        NEW_DEST_MASQ,
        IpvsMessage::new(
            IpvsCmd::NewDest,
            vec![IpvsCmdAttr::Service(svc), IpvsCmdAttr::Dest(dest)],
        ),
    );
}

#[test]
fn new_dest_gue_tunnel() {
    let svc = svc_full(6, VIP, 80, HOST_MASK);
    // Tunnel (2), GUE (1) to port 6080 with checksums (1), thresholds 100/10.
    let dest = dest(v4(10, 0, 0, 2), 80, 2, 2, (1, 6080, 1), (100, 10));
    check(
        NEW_DEST_GUE,
        IpvsMessage::new(
            IpvsCmd::NewDest,
            vec![IpvsCmdAttr::Service(svc), IpvsCmdAttr::Dest(dest)],
        ),
    );
}

#[test]
fn set_dest() {
    let svc = svc_full(6, VIP, 80, HOST_MASK);
    let dest = dest(v4(10, 0, 0, 1), 8080, 0, 5, (0, 0, 0), (0, 0));
    check(
        SET_DEST,
        IpvsMessage::new(
            IpvsCmd::SetDest,
            vec![IpvsCmdAttr::Service(svc), IpvsCmdAttr::Dest(dest)],
        ),
    );
}

#[test]
fn del_dest() {
    let svc = svc_full(6, VIP, 80, HOST_MASK);
    // ipvsadm fills in the defaults it would add with: direct routing, weight 1.
    let dest = dest(v4(10, 0, 0, 1), 8080, 3, 1, (0, 0, 0), (0, 0));
    check(
        DEL_DEST,
        IpvsMessage::new(
            IpvsCmd::DelDest,
            vec![IpvsCmdAttr::Service(svc), IpvsCmdAttr::Dest(dest)],
        ),
    );
}

#[test]
fn get_dest() {
    let svc = svc(6, v4(10, 9, 0, 1), 80);
    check(
        GET_DEST,
        IpvsMessage::new(IpvsCmd::GetDest, vec![IpvsCmdAttr::Service(svc)]),
    );
}

#[test]
fn new_daemon() {
    let daemon = vec![
        IpvsDaemonAttr::State(IpvsDaemonState::MASTER),
        IpvsDaemonAttr::McastIfn("veth-cap0".into()),
        IpvsDaemonAttr::SyncId(7),
    ];
    check(
        NEW_DAEMON,
        IpvsMessage::new(IpvsCmd::NewDaemon, vec![IpvsCmdAttr::Daemon(daemon)]),
    );
}

#[test]
fn del_daemon() {
    let daemon = vec![
        IpvsDaemonAttr::State(IpvsDaemonState::MASTER),
        IpvsDaemonAttr::McastIfn(String::new()),
        IpvsDaemonAttr::SyncId(0),
    ];
    check(
        DEL_DAEMON,
        IpvsMessage::new(IpvsCmd::DelDaemon, vec![IpvsCmdAttr::Daemon(daemon)]),
    );
}

#[test]
fn get_daemon() {
    check(GET_DAEMON, IpvsMessage::new(IpvsCmd::GetDaemon, vec![]));
}

#[test]
fn set_config() {
    let attrs = vec![
        IpvsCmdAttr::TimeoutTcp(900),
        IpvsCmdAttr::TimeoutTcpFin(120),
        IpvsCmdAttr::TimeoutUdp(300),
    ];
    check(SET_CONFIG, IpvsMessage::new(IpvsCmd::SetConfig, attrs));
}

#[test]
fn get_config() {
    check(GET_CONFIG, IpvsMessage::new(IpvsCmd::GetConfig, vec![]));
}

#[test]
fn zero_one_service() {
    let svc = svc_full(6, v4(10, 9, 0, 1), 80, HOST_MASK);
    check(
        ZERO_SERVICE,
        IpvsMessage::new(IpvsCmd::Zero, vec![IpvsCmdAttr::Service(svc)]),
    );
}

#[test]
fn zero_all() {
    check(ZERO_ALL, IpvsMessage::new(IpvsCmd::Zero, vec![]));
}

#[test]
fn flush() {
    check(FLUSH, IpvsMessage::new(IpvsCmd::Flush, vec![]));
}
