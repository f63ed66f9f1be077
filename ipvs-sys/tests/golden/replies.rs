//! Real kernel replies: every message of each datagram parsed to the expected
//! value, then re-emitted to the same bytes (but for `NLA_F_NESTED`, which the
//! kernel leaves off its nests and this crate sets).

use ipvs_sys::{
    IpvsAddressFamily, IpvsAttrs, IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsDaemonState,
    IpvsDestAttr, IpvsFlags, IpvsInfoAttr, IpvsMessage, IpvsNetmask, IpvsServiceAttr,
    IpvsServiceFlags,
};

use crate::fixtures::*;
use crate::{emit, messages, parse, stats32, stats64, svc, v4, without_nested_flags};

const ALL: IpvsServiceFlags = IpvsServiceFlags::all_bits();
const ZERO: [u32; 10] = [0; 10];
/// After three HTTP requests: conns, in/out packets, in/out bytes, and rates.
const THREE_REQUESTS: [u32; 10] = [3, 21, 15, 1170, 1443, 0, 2, 1, 110, 135];

/// Checks each message of `datagram` against `expected`, and the round trip.
fn check(datagram: &[u8], expected: Vec<IpvsMessage>) {
    let msgs = messages(datagram);
    assert_eq!(msgs.len(), expected.len(), "messages in the datagram");
    for (bytes, expected) in msgs.into_iter().zip(expected) {
        let (header, msg) = parse(bytes);
        assert_eq!(msg, expected);
        assert_eq!(without_nested_flags(&emit(&header, msg)), bytes);
    }
}

fn service(
    mut key: Vec<IpvsServiceAttr>,
    sched: &str,
    flags: u32,
    timeout: u32,
    netmask: IpvsNetmask,
    counters: [u32; 10],
) -> IpvsMessage {
    key.extend([
        IpvsServiceAttr::SchedName(sched.into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: flags.into(),
            mask: ALL,
        }),
        IpvsServiceAttr::Timeout(timeout),
        IpvsServiceAttr::Netmask(netmask),
        IpvsServiceAttr::Stats(stats32(counters)),
        IpvsServiceAttr::Stats64(stats64(counters)),
    ]);
    IpvsMessage::new(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(key)])
}

/// A dest as the kernel fills it, in its order.
#[allow(clippy::too_many_arguments)]
fn dest(
    addr: [u8; 16],
    port: u16,
    fwd: u32,
    weight: u32,
    tun: (u8, u16, u16),
    thresh: (u32, u32),
    conns: (u32, u32, u32),
    counters: [u32; 10],
) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::NewDest,
        vec![IpvsCmdAttr::Dest(vec![
            IpvsDestAttr::Addr(addr),
            IpvsDestAttr::Port(port),
            IpvsDestAttr::FwdMethod(fwd.into()),
            IpvsDestAttr::Weight(weight),
            IpvsDestAttr::TunType(tun.0.into()),
            IpvsDestAttr::TunPort(tun.1),
            IpvsDestAttr::TunFlags(tun.2.into()),
            IpvsDestAttr::UThresh(thresh.0),
            IpvsDestAttr::LThresh(thresh.1),
            IpvsDestAttr::ActiveConns(conns.0),
            IpvsDestAttr::InactConns(conns.1),
            IpvsDestAttr::PersistConns(conns.2),
            IpvsDestAttr::AddrFamily(IpvsAddressFamily::Inet),
            IpvsDestAttr::Stats(stats32(counters)),
            IpvsDestAttr::Stats64(stats64(counters)),
        ])],
    )
}

#[test]
fn info_reply() {
    let expected = IpvsMessage {
        cmd: IpvsCmd::SetInfo,
        attrs: IpvsAttrs::Info(vec![
            IpvsInfoAttr::Version(0x010201),
            IpvsInfoAttr::ConnTabSize(4096),
        ]),
    };
    check(INFO_REPLY, vec![expected]);
}

#[test]
fn service_reply_with_stats() {
    let host = IpvsNetmask::from_ipv4([255, 255, 255, 255].into());
    // HASHED (0x2) is set by the kernel on every live service.
    check(
        SERVICE_REPLY_STATS,
        vec![service(
            svc(6, v4(10, 9, 0, 1), 80),
            "rr",
            0x2,
            0,
            host,
            THREE_REQUESTS,
        )],
    );
}

#[test]
fn service_dump_several_messages_per_datagram() {
    let host = IpvsNetmask::from_ipv4([255, 255, 255, 255].into());
    let fwmark6 = vec![
        IpvsServiceAttr::Af(IpvsAddressFamily::Inet6),
        IpvsServiceAttr::Fwmark(5),
    ];
    check(
        SERVICE_DUMP,
        vec![
            service(svc(17, v4(10, 9, 0, 9), 53), "rr", 0x6, 0, host, ZERO),
            service(
                svc(6, v4(192, 168, 1, 100), 80),
                "sh",
                0x1b,
                60,
                IpvsNetmask::from_ipv4([255, 255, 255, 0].into()),
                ZERO,
            ),
            service(
                svc(6, v4(10, 9, 0, 1), 80),
                "rr",
                0x2,
                0,
                host,
                [3, 21, 15, 1170, 1443, 0, 3, 2, 146, 180],
            ),
            service(
                fwmark6,
                "wlc",
                0x3,
                360,
                IpvsNetmask::from_ipv6_prefix(64),
                ZERO,
            ),
        ],
    );
}

#[test]
fn dest_dump_with_stats() {
    // A local real server: direct routing (3), three finished connections.
    check(
        DEST_DUMP_STATS,
        vec![dest(
            v4(10, 9, 0, 1),
            80,
            3,
            1,
            (0, 0, 0),
            (0, 0),
            (0, 3, 0),
            THREE_REQUESTS,
        )],
    );
}

#[test]
fn dest_dump_tunnel_fields_two_messages() {
    check(
        DEST_DUMP_TWO,
        vec![
            dest(
                v4(10, 0, 0, 2),
                80,
                2,
                2,
                (1, 6080, 1),
                (100, 10),
                (0, 0, 0),
                ZERO,
            ),
            dest(
                v4(10, 0, 0, 1),
                8080,
                0,
                5,
                (0, 0, 0),
                (0, 0),
                (0, 0, 0),
                ZERO,
            ),
        ],
    );
}

#[test]
fn config_reply() {
    let attrs = vec![
        IpvsCmdAttr::TimeoutTcp(900),
        IpvsCmdAttr::TimeoutTcpFin(120),
        IpvsCmdAttr::TimeoutUdp(300),
    ];
    check(
        CONFIG_REPLY,
        vec![IpvsMessage::new(IpvsCmd::SetConfig, attrs)],
    );
}

#[test]
fn daemon_dump_with_kernel_defaults() {
    let daemon = vec![
        IpvsDaemonAttr::State(IpvsDaemonState::MASTER),
        IpvsDaemonAttr::McastIfn("veth-cap0".into()),
        IpvsDaemonAttr::SyncId(7),
        IpvsDaemonAttr::SyncMaxlen(1472),
        IpvsDaemonAttr::McastPort(8848),
        IpvsDaemonAttr::McastTtl(1),
        IpvsDaemonAttr::McastGroup([224, 0, 0, 81].into()),
    ];
    check(
        DAEMON_DUMP,
        vec![IpvsMessage::new(
            IpvsCmd::NewDaemon,
            vec![IpvsCmdAttr::Daemon(daemon)],
        )],
    );
}
