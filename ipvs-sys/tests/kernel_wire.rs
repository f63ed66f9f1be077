//! The wire binding against the real kernel IPVS, side by side with Debian's
//! ipvsadm 1.31. Runs as root in the test VM (`cargo test` boots it through
//! `tests/vm/runner`); each test has a network namespace of its own.

use std::net::Ipv4Addr;

use ipvs_sys::netlink_packet_core::DefaultNla;
use ipvs_sys::{
    Error, IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsDestAttr, IpvsFlags, IpvsInfoAttr,
    IpvsMessage, IpvsNetmask, IpvsServiceAttr, IpvsSocket, IpvsStats64Attr, NetlinkTransport,
    Transport,
};
use testbed::{netns, reference};

/// A fresh namespace and a socket in it.
fn setup() -> IpvsSocket {
    netns::enter_fresh();
    IpvsSocket::connect().expect("the IPVS family resolves")
}

fn v4(addr: [u8; 4]) -> [u8; 16] {
    let mut out = [0; 16];
    out[..4].copy_from_slice(&addr);
    out
}

fn key(protocol: u16, addr: [u8; 4], port: u16) -> Vec<IpvsServiceAttr> {
    vec![
        IpvsServiceAttr::Af(2.into()),
        IpvsServiceAttr::Protocol(protocol),
        IpvsServiceAttr::Addr(v4(addr)),
        IpvsServiceAttr::Port(port),
    ]
}

/// A full service: key, scheduler, flags (whole mask), timeout, netmask.
fn service(
    key: Vec<IpvsServiceAttr>,
    sched: &str,
    flags: u32,
    timeout: u32,
) -> Vec<IpvsServiceAttr> {
    let mut attrs = key;
    attrs.extend([
        IpvsServiceAttr::SchedName(sched.into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: flags.into(),
            mask: u32::MAX.into(),
        }),
        IpvsServiceAttr::Timeout(timeout),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv4(Ipv4Addr::BROADCAST)),
    ]);
    attrs
}

fn dest(addr: [u8; 4], port: u16, fwd: u32, weight: u32) -> Vec<IpvsDestAttr> {
    vec![
        IpvsDestAttr::AddrFamily(2.into()),
        IpvsDestAttr::Addr(v4(addr)),
        IpvsDestAttr::Port(port),
        IpvsDestAttr::FwdMethod(fwd.into()),
        IpvsDestAttr::Weight(weight),
        IpvsDestAttr::UThresh(0),
        IpvsDestAttr::LThresh(0),
    ]
}

fn msg(cmd: IpvsCmd, attrs: Vec<IpvsCmdAttr>) -> IpvsMessage {
    IpvsMessage::new(cmd, attrs)
}

fn add_service(s: &mut IpvsSocket, attrs: Vec<IpvsServiceAttr>) {
    s.request(msg(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(attrs)]))
        .expect("NEW_SERVICE");
}

fn errno_of(result: Result<Vec<IpvsMessage>, Error>) -> i32 {
    match result {
        Err(e) => e
            .errno()
            .unwrap_or_else(|| panic!("not a kernel errno: {e}")),
        Ok(replies) => panic!("expected a refusal, got {replies:?}"),
    }
}

/// The service nests of a GET_SERVICE dump.
fn dump_services(s: &mut IpvsSocket) -> Vec<Vec<IpvsServiceAttr>> {
    s.dump(msg(IpvsCmd::GetService, vec![]))
        .expect("GET_SERVICE dump")
        .into_iter()
        .flat_map(|m| m.cmd_attrs().to_vec())
        .filter_map(|a| match a {
            IpvsCmdAttr::Service(attrs) => Some(attrs),
            _ => None,
        })
        .collect()
}

fn dump_dests(s: &mut IpvsSocket, key: Vec<IpvsServiceAttr>) -> Vec<Vec<IpvsDestAttr>> {
    s.dump(msg(IpvsCmd::GetDest, vec![IpvsCmdAttr::Service(key)]))
        .expect("GET_DEST dump")
        .into_iter()
        .flat_map(|m| m.cmd_attrs().to_vec())
        .filter_map(|a| match a {
            IpvsCmdAttr::Dest(attrs) => Some(attrs),
            _ => None,
        })
        .collect()
}

fn has<T: PartialEq + std::fmt::Debug>(attrs: &[T], wanted: &T) -> bool {
    attrs.contains(wanted)
}

#[test]
fn family_resolves_and_info_reports_version_1_2_1() {
    let mut s = setup();
    assert_ne!(s.family_id(), 0);
    let replies = s.request(msg(IpvsCmd::GetInfo, vec![])).expect("GET_INFO");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].cmd, IpvsCmd::SetInfo);
    let info = replies[0].info_attrs();
    assert!(has(info, &IpvsInfoAttr::Version(0x010201)), "{info:?}");
    assert!(
        info.iter()
            .any(|a| matches!(a, IpvsInfoAttr::ConnTabSize(n) if *n > 0)),
        "{info:?}"
    );
    // The reference prints the same version.
    assert!(
        reference::ipvsadm_ok(&["-Ln"]).starts_with("IP Virtual Server version 1.2.1 (size=4096)")
    );
}

#[test]
fn service_added_through_the_binding_is_in_reference_save_output() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 1, 2, 3], 80), "rr", 0, 0));
    add_service(&mut s, service(key(17, [10, 1, 2, 3], 53), "wrr", 0x1, 600));
    s.request(msg(
        IpvsCmd::NewDest,
        vec![
            IpvsCmdAttr::Service(key(6, [10, 1, 2, 3], 80)),
            IpvsCmdAttr::Dest(dest([192, 0, 2, 21], 8080, 0, 3)),
        ],
    ))
    .expect("NEW_DEST");
    let saved = reference::ipvsadm_ok(&["-Sn"]);
    assert!(saved.contains("-A -t 10.1.2.3:80 -s rr\n"), "{saved}");
    assert!(
        saved.contains("-a -t 10.1.2.3:80 -r 192.0.2.21:8080 -m -w 3\n"),
        "{saved}"
    );
    assert!(
        saved.contains("-A -u 10.1.2.3:53 -s wrr -p 600\n"),
        "{saved}"
    );
}

#[test]
fn service_added_by_the_reference_reads_back_through_the_binding() {
    let mut s = setup();
    reference::ipvsadm_ok(&[
        "-A",
        "-u",
        "10.4.4.4:5060",
        "-s",
        "sh",
        "-b",
        "sh-port",
        "-p",
        "120",
        "-M",
        "255.255.255.0",
        "--pe",
        "sip",
    ]);
    reference::ipvsadm_ok(&[
        "-a",
        "-u",
        "10.4.4.4:5060",
        "-r",
        "192.0.2.30",
        "-g",
        "-w",
        "7",
        "-x",
        "50",
        "-y",
        "5",
    ]);
    let services = dump_services(&mut s);
    assert_eq!(services.len(), 1);
    let svc = &services[0];
    for wanted in [
        IpvsServiceAttr::Af(2.into()),
        IpvsServiceAttr::Protocol(17),
        IpvsServiceAttr::Addr(v4([10, 4, 4, 4])),
        IpvsServiceAttr::Port(5060),
        IpvsServiceAttr::SchedName("sh".into()),
        IpvsServiceAttr::PeName("sip".into()),
        // PERSISTENT | HASHED | SCHED_SH_PORT
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x13.into(),
            mask: u32::MAX.into(),
        }),
        IpvsServiceAttr::Timeout(120),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv4(Ipv4Addr::new(255, 255, 255, 0))),
    ] {
        assert!(has(svc, &wanted), "{wanted:?} missing from {svc:?}");
    }
    let dests = dump_dests(&mut s, key(17, [10, 4, 4, 4], 5060));
    assert_eq!(dests.len(), 1);
    for wanted in [
        IpvsDestAttr::Addr(v4([192, 0, 2, 30])),
        IpvsDestAttr::Port(5060),
        IpvsDestAttr::FwdMethod(3.into()),
        IpvsDestAttr::Weight(7),
        IpvsDestAttr::UThresh(50),
        IpvsDestAttr::LThresh(5),
        IpvsDestAttr::AddrFamily(2.into()),
    ] {
        assert!(
            has(&dests[0], &wanted),
            "{wanted:?} missing from {:?}",
            dests[0]
        );
    }
}

#[test]
fn ipv6_fwmark_service_reads_back_with_prefix_length_netmask() {
    let mut s = setup();
    reference::ipvsadm_ok(&["-A", "-f", "4000000000", "-6", "-p", "-M", "96"]);
    let services = dump_services(&mut s);
    assert_eq!(services.len(), 1, "{services:?}");
    assert!(has(&services[0], &IpvsServiceAttr::Af(10.into())));
    assert!(has(&services[0], &IpvsServiceAttr::Fwmark(4_000_000_000)));
    assert!(has(
        &services[0],
        &IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv6_prefix(96))
    ));
    assert!(has(&services[0], &IpvsServiceAttr::Timeout(360)));
}

#[test]
fn tunnel_destination_fields_round_trip_through_the_kernel() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 5, 5, 5], 443), "wlc", 0, 0));
    let mut gue = dest([192, 0, 2, 40], 443, 2, 1);
    gue.extend([
        IpvsDestAttr::TunType(1.into()),
        IpvsDestAttr::TunPort(6080),
        IpvsDestAttr::TunFlags(2.into()),
    ]);
    let mut gre = dest([192, 0, 2, 41], 443, 2, 1);
    gre.extend([
        IpvsDestAttr::TunType(2.into()),
        IpvsDestAttr::TunFlags(1.into()),
    ]);
    for d in [gue, gre] {
        s.request(msg(
            IpvsCmd::NewDest,
            vec![
                IpvsCmdAttr::Service(key(6, [10, 5, 5, 5], 443)),
                IpvsCmdAttr::Dest(d),
            ],
        ))
        .expect("NEW_DEST with a tunnel");
    }
    let dests = dump_dests(&mut s, key(6, [10, 5, 5, 5], 443));
    let find = |addr| {
        dests
            .iter()
            .find(|d| has(d, &IpvsDestAttr::Addr(v4(addr))))
            .expect("dest listed")
    };
    let gue = find([192, 0, 2, 40]);
    assert!(
        has(gue, &IpvsDestAttr::TunType(1.into()))
            && has(gue, &IpvsDestAttr::TunPort(6080))
            && has(gue, &IpvsDestAttr::TunFlags(2.into())),
        "{gue:?}"
    );
    let gre = find([192, 0, 2, 41]);
    assert!(
        has(gre, &IpvsDestAttr::TunType(2.into())) && has(gre, &IpvsDestAttr::TunFlags(1.into())),
        "{gre:?}"
    );
    let listed = reference::ipvsadm_ok(&["-Ln", "--tun-info"]);
    // ipvsadm shows GUE with remote checksum offload as "gue:PORT:r+c", GRE with checksums as "gre:+c".
    assert!(
        listed.contains("192.0.2.40:443               Tunnel  gue:6080:r+c"),
        "{listed}"
    );
    assert!(
        listed.contains("192.0.2.41:443               Tunnel  gre:+c"),
        "{listed}"
    );
}

#[test]
fn set_service_applies_the_flag_mask() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 6, 6, 6], 80), "rr", 0x1, 300));
    // Change the scheduler, and only the ONEPACKET bit of the flags: persistence stays.
    let mut attrs = key(6, [10, 6, 6, 6], 80);
    attrs.extend([
        IpvsServiceAttr::SchedName("lc".into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x4.into(),
            mask: 0x4.into(),
        }),
        IpvsServiceAttr::Timeout(300),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv4(Ipv4Addr::BROADCAST)),
    ]);
    s.request(msg(IpvsCmd::SetService, vec![IpvsCmdAttr::Service(attrs)]))
        .expect("SET_SERVICE");
    let services = dump_services(&mut s);
    assert!(has(&services[0], &IpvsServiceAttr::SchedName("lc".into())));
    assert!(
        has(
            &services[0],
            &IpvsServiceAttr::Flags(IpvsFlags {
                flags: 0x7.into(),
                mask: u32::MAX.into()
            })
        ),
        "{:?}",
        services[0]
    );
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.6.6.6:80 -s lc -p 300 -o\n"
    );
}

#[test]
fn get_one_service_answers_new_service_or_esrch() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 7, 7, 7], 22), "wrr", 0, 0));
    let replies = s
        .request(msg(
            IpvsCmd::GetService,
            vec![IpvsCmdAttr::Service(key(6, [10, 7, 7, 7], 22))],
        ))
        .expect("GET_SERVICE");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].cmd, IpvsCmd::NewService);
    let missing = s.request(msg(
        IpvsCmd::GetService,
        vec![IpvsCmdAttr::Service(key(6, [10, 7, 7, 8], 22))],
    ));
    assert_eq!(errno_of(missing), libc::ESRCH);
}

#[test]
fn set_dest_and_del_dest_change_the_reference_listing() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 8, 8, 8], 80), "wrr", 0, 0));
    let svc = || IpvsCmdAttr::Service(key(6, [10, 8, 8, 8], 80));
    for host in [21, 22] {
        s.request(msg(
            IpvsCmd::NewDest,
            vec![svc(), IpvsCmdAttr::Dest(dest([192, 0, 2, host], 80, 3, 1))],
        ))
        .expect("NEW_DEST");
    }
    s.request(msg(
        IpvsCmd::SetDest,
        vec![svc(), IpvsCmdAttr::Dest(dest([192, 0, 2, 21], 80, 3, 9))],
    ))
    .expect("SET_DEST");
    s.request(msg(
        IpvsCmd::DelDest,
        vec![svc(), IpvsCmdAttr::Dest(dest([192, 0, 2, 22], 80, 3, 1))],
    ))
    .expect("DEL_DEST");
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.8.8.8:80 -s wrr\n-a -t 10.8.8.8:80 -r 192.0.2.21:80 -g -w 9\n"
    );
}

#[test]
fn del_service_and_flush_empty_the_table() {
    let mut s = setup();
    for port in [80, 81, 82] {
        add_service(&mut s, service(key(6, [10, 9, 9, 9], port), "rr", 0, 0));
    }
    s.request(msg(
        IpvsCmd::DelService,
        vec![IpvsCmdAttr::Service(key(6, [10, 9, 9, 9], 81))],
    ))
    .expect("DEL_SERVICE");
    assert_eq!(dump_services(&mut s).len(), 2);
    s.request(msg(IpvsCmd::Flush, vec![])).expect("FLUSH");
    assert!(dump_services(&mut s).is_empty());
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), "");
}

#[test]
fn timeouts_set_and_read_back() {
    let mut s = setup();
    s.request(msg(
        IpvsCmd::SetConfig,
        vec![IpvsCmdAttr::TimeoutTcp(1000), IpvsCmdAttr::TimeoutUdp(200)],
    ))
    .expect("SET_CONFIG");
    let replies = s
        .request(msg(IpvsCmd::GetConfig, vec![]))
        .expect("GET_CONFIG");
    assert_eq!(replies[0].cmd, IpvsCmd::SetConfig);
    // TCP_FIN was not sent, so it kept its default.
    assert_eq!(
        replies[0].cmd_attrs(),
        [
            IpvsCmdAttr::TimeoutTcp(1000),
            IpvsCmdAttr::TimeoutTcpFin(120),
            IpvsCmdAttr::TimeoutUdp(200)
        ]
    );
    assert_eq!(
        reference::ipvsadm_ok(&["-L", "--timeout"]),
        "Timeout (tcp tcpfin udp): 1000 120 200\n"
    );
}

#[test]
fn sync_daemons_start_list_and_stop() {
    let mut s = setup();
    netns::add_veth_pair("sync0", "sync1", "10.10.0.1/24").expect("veth");
    let daemon = |state: u32| {
        vec![IpvsCmdAttr::Daemon(vec![
            IpvsDaemonAttr::State(state.into()),
            IpvsDaemonAttr::McastIfn("sync0".into()),
            IpvsDaemonAttr::SyncId(9),
            IpvsDaemonAttr::McastTtl(3),
            IpvsDaemonAttr::McastPort(9000),
        ])]
    };
    s.request(msg(IpvsCmd::NewDaemon, daemon(1)))
        .expect("NEW_DAEMON master");
    s.request(msg(IpvsCmd::NewDaemon, daemon(2)))
        .expect("NEW_DAEMON backup");
    let listed = s.dump(msg(IpvsCmd::GetDaemon, vec![])).expect("GET_DAEMON");
    assert_eq!(listed.len(), 2);
    let master = listed[0].cmd_attrs();
    let IpvsCmdAttr::Daemon(attrs) = &master[0] else {
        panic!("{master:?}")
    };
    for wanted in [
        IpvsDaemonAttr::State(1.into()),
        IpvsDaemonAttr::McastIfn("sync0".into()),
        IpvsDaemonAttr::SyncId(9),
        IpvsDaemonAttr::McastTtl(3),
        IpvsDaemonAttr::McastPort(9000),
        IpvsDaemonAttr::McastGroup(Ipv4Addr::new(224, 0, 0, 81)),
    ] {
        assert!(has(attrs, &wanted), "{wanted:?} missing from {attrs:?}");
    }
    let reference_view = reference::ipvsadm_ok(&["-L", "--daemon"]);
    assert!(
        reference_view.starts_with("master sync daemon (mcast=sync0, syncid=9"),
        "{reference_view}"
    );
    assert!(
        reference_view.contains("backup sync daemon (mcast=sync0, syncid=9"),
        "{reference_view}"
    );
    // Starting the same daemon again, then stopping each, then one too many.
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewDaemon, daemon(1)))),
        libc::EEXIST
    );
    s.request(msg(
        IpvsCmd::DelDaemon,
        vec![IpvsCmdAttr::Daemon(vec![IpvsDaemonAttr::State(1.into())])],
    ))
    .expect("DEL_DAEMON");
    s.request(msg(
        IpvsCmd::DelDaemon,
        vec![IpvsCmdAttr::Daemon(vec![IpvsDaemonAttr::State(2.into())])],
    ))
    .expect("DEL_DAEMON");
    let again = s.request(msg(
        IpvsCmd::DelDaemon,
        vec![IpvsCmdAttr::Daemon(vec![IpvsDaemonAttr::State(1.into())])],
    ));
    assert_eq!(errno_of(again), libc::ESRCH);
    assert!(
        s.dump(msg(IpvsCmd::GetDaemon, vec![]))
            .expect("GET_DAEMON")
            .is_empty()
    );
}

#[test]
fn daemon_on_a_missing_interface_is_enodev() {
    let mut s = setup();
    let daemon = vec![IpvsCmdAttr::Daemon(vec![
        IpvsDaemonAttr::State(1.into()),
        IpvsDaemonAttr::McastIfn("nosuch0".into()),
        IpvsDaemonAttr::SyncId(1),
    ])];
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewDaemon, daemon))),
        libc::ENODEV
    );
}

#[test]
fn zero_one_service_and_all() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 11, 0, 1], 80), "rr", 0, 0));
    s.request(msg(
        IpvsCmd::Zero,
        vec![IpvsCmdAttr::Service(key(6, [10, 11, 0, 1], 80))],
    ))
    .expect("ZERO one");
    s.request(msg(IpvsCmd::Zero, vec![])).expect("ZERO all");
    let missing = s.request(msg(
        IpvsCmd::Zero,
        vec![IpvsCmdAttr::Service(key(6, [10, 11, 0, 2], 80))],
    ));
    assert_eq!(errno_of(missing), libc::ESRCH);
    // A service reply carries both statistics nests, 64-bit ones included.
    let services = dump_services(&mut s);
    assert!(services[0].iter().any(
        |a| matches!(a, IpvsServiceAttr::Stats64(st) if st.contains(&IpvsStats64Attr::Conns(0)))
    ));
}

#[test]
fn commands_without_a_kernel_operation_are_eopnotsupp() {
    let mut s = setup();
    for cmd in [IpvsCmd::SetInfo, IpvsCmd::Unspec] {
        assert_eq!(
            errno_of(s.request(msg(cmd, vec![]))),
            libc::EOPNOTSUPP,
            "{cmd:?}"
        );
    }
}

#[test]
fn existing_service_destination_are_eexist() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 12, 0, 1], 80), "rr", 0, 0));
    let again = s.request(msg(
        IpvsCmd::NewService,
        vec![IpvsCmdAttr::Service(service(
            key(6, [10, 12, 0, 1], 80),
            "rr",
            0,
            0,
        ))],
    ));
    assert_eq!(errno_of(again), libc::EEXIST);
    let add_dest = |s: &mut IpvsSocket| {
        s.request(msg(
            IpvsCmd::NewDest,
            vec![
                IpvsCmdAttr::Service(key(6, [10, 12, 0, 1], 80)),
                IpvsCmdAttr::Dest(dest([192, 0, 2, 9], 80, 3, 1)),
            ],
        ))
    };
    add_dest(&mut s).expect("first NEW_DEST");
    assert_eq!(errno_of(add_dest(&mut s)), libc::EEXIST);
}

#[test]
fn missing_service_is_esrch() {
    let mut s = setup();
    let absent = || IpvsCmdAttr::Service(key(6, [10, 13, 0, 1], 80));
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::DelService, vec![absent()]))),
        libc::ESRCH
    );
    assert_eq!(
        errno_of(s.request(msg(
            IpvsCmd::NewDest,
            vec![absent(), IpvsCmdAttr::Dest(dest([192, 0, 2, 1], 80, 3, 1))]
        ))),
        libc::ESRCH
    );
    let mut full = service(key(6, [10, 13, 0, 1], 80), "rr", 0, 0);
    full.push(IpvsServiceAttr::Timeout(0));
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::SetService, vec![IpvsCmdAttr::Service(full)]))),
        libc::ESRCH
    );
}

#[test]
fn missing_scheduler_engine_or_destination_are_enoent() {
    let mut s = setup();
    let bad_sched = s.request(msg(
        IpvsCmd::NewService,
        vec![IpvsCmdAttr::Service(service(
            key(6, [10, 14, 0, 1], 80),
            "nosuch",
            0,
            0,
        ))],
    ));
    assert_eq!(errno_of(bad_sched), libc::ENOENT);
    let mut bad_pe = service(key(6, [10, 14, 0, 1], 80), "rr", 0x1, 60);
    bad_pe.push(IpvsServiceAttr::PeName("nosuch".into()));
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(bad_pe)]))),
        libc::ENOENT
    );
    add_service(&mut s, service(key(6, [10, 14, 0, 1], 80), "rr", 0, 0));
    let svc = || IpvsCmdAttr::Service(key(6, [10, 14, 0, 1], 80));
    let edit = s.request(msg(
        IpvsCmd::SetDest,
        vec![svc(), IpvsCmdAttr::Dest(dest([192, 0, 2, 5], 80, 3, 1))],
    ));
    assert_eq!(errno_of(edit), libc::ENOENT);
    let delete = s.request(msg(
        IpvsCmd::DelDest,
        vec![svc(), IpvsCmdAttr::Dest(dest([192, 0, 2, 5], 80, 3, 1))],
    ));
    assert_eq!(errno_of(delete), libc::ENOENT);
}

#[test]
fn negative_weight_and_inverted_thresholds_are_erange() {
    let mut s = setup();
    add_service(&mut s, service(key(6, [10, 15, 0, 1], 80), "wrr", 0, 0));
    let svc = || IpvsCmdAttr::Service(key(6, [10, 15, 0, 1], 80));
    let negative = dest([192, 0, 2, 5], 80, 3, (-1i32) as u32);
    assert_eq!(
        errno_of(s.request(msg(
            IpvsCmd::NewDest,
            vec![svc(), IpvsCmdAttr::Dest(negative)]
        ))),
        libc::ERANGE
    );
    let mut inverted = dest([192, 0, 2, 5], 80, 3, 1);
    inverted.retain(|a| !matches!(a, IpvsDestAttr::UThresh(_) | IpvsDestAttr::LThresh(_)));
    inverted.extend([IpvsDestAttr::UThresh(10), IpvsDestAttr::LThresh(20)]);
    assert_eq!(
        errno_of(s.request(msg(
            IpvsCmd::NewDest,
            vec![svc(), IpvsCmdAttr::Dest(inverted)]
        ))),
        libc::ERANGE
    );
}

#[test]
fn invalid_requests_are_einval() {
    let mut s = setup();
    // A service without a scheduler (required to add).
    let mut no_sched = service(key(6, [10, 16, 0, 1], 80), "rr", 0, 0);
    no_sched.retain(|a| !matches!(a, IpvsServiceAttr::SchedName(_)));
    assert_eq!(
        errno_of(s.request(msg(
            IpvsCmd::NewService,
            vec![IpvsCmdAttr::Service(no_sched)]
        ))),
        libc::EINVAL
    );
    // An IPv6 service with a prefix length of 129.
    let v6 = vec![
        IpvsServiceAttr::Af(10.into()),
        IpvsServiceAttr::Fwmark(1),
        IpvsServiceAttr::SchedName("rr".into()),
        IpvsServiceAttr::Flags(IpvsFlags {
            flags: 0x1.into(),
            mask: u32::MAX.into(),
        }),
        IpvsServiceAttr::Timeout(60),
        IpvsServiceAttr::Netmask(IpvsNetmask::from_ipv6_prefix(129)),
    ];
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(v6)]))),
        libc::EINVAL
    );
    add_service(&mut s, service(key(6, [10, 16, 0, 1], 80), "rr", 0, 0));
    let svc = || IpvsCmdAttr::Service(key(6, [10, 16, 0, 1], 80));
    // A GUE tunnel without its port.
    let mut gue = dest([192, 0, 2, 6], 80, 2, 1);
    gue.push(IpvsDestAttr::TunType(1.into()));
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewDest, vec![svc(), IpvsCmdAttr::Dest(gue)]))),
        libc::EINVAL
    );
    // An IPv6 real server behind an IPv4 service, but not tunnelled.
    let mixed = vec![
        IpvsDestAttr::AddrFamily(10.into()),
        IpvsDestAttr::Addr(
            "2001:db8::6"
                .parse::<std::net::Ipv6Addr>()
                .expect("address")
                .octets(),
        ),
        IpvsDestAttr::Port(80),
        IpvsDestAttr::FwdMethod(0.into()),
        IpvsDestAttr::Weight(1),
        IpvsDestAttr::UThresh(0),
        IpvsDestAttr::LThresh(0),
    ];
    assert_eq!(
        errno_of(s.request(msg(IpvsCmd::NewDest, vec![svc(), IpvsCmdAttr::Dest(mixed)]))),
        libc::EINVAL
    );
    // A multicast real server.
    let multicast = dest([224, 0, 0, 9], 80, 3, 1);
    assert_eq!(
        errno_of(s.request(msg(
            IpvsCmd::NewDest,
            vec![svc(), IpvsCmdAttr::Dest(multicast)]
        ))),
        libc::EINVAL
    );
}

#[test]
fn get_dest_of_a_missing_service_is_an_empty_dump() {
    let mut s = setup();
    assert!(dump_dests(&mut s, key(6, [10, 17, 0, 1], 80)).is_empty());
}

#[test]
fn unknown_attributes_are_ignored_by_the_kernel() {
    let mut s = setup();
    let mut attrs = service(key(6, [10, 18, 0, 1], 80), "rr", 0, 0);
    attrs.push(IpvsServiceAttr::Other(DefaultNla::new(
        99,
        vec![1, 2, 3, 4],
    )));
    add_service(&mut s, attrs);
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.18.0.1:80 -s rr\n"
    );
}

#[test]
fn pipelined_requests_each_get_their_own_outcome() {
    let mut s = setup();
    let mut msgs: Vec<_> = (0..300u16)
        .map(|port| {
            msg(
                IpvsCmd::NewService,
                vec![IpvsCmdAttr::Service(service(
                    key(6, [10, 19, 0, 1], 1000 + port),
                    "rr",
                    0,
                    0,
                ))],
            )
        })
        .collect();
    // A duplicate in the middle and a bad scheduler near the end.
    msgs.insert(150, msgs[10].clone());
    msgs.insert(
        290,
        msg(
            IpvsCmd::NewService,
            vec![IpvsCmdAttr::Service(service(
                key(6, [10, 19, 0, 2], 1),
                "nosuch",
                0,
                0,
            ))],
        ),
    );
    let outcomes = s.pipeline(msgs).expect("exchange");
    assert_eq!(outcomes.len(), 302);
    for (i, outcome) in outcomes.iter().enumerate() {
        match i {
            150 => assert_eq!(
                outcome.as_ref().err().and_then(Error::errno),
                Some(libc::EEXIST)
            ),
            290 => assert_eq!(
                outcome.as_ref().err().and_then(Error::errno),
                Some(libc::ENOENT)
            ),
            _ => assert!(outcome.is_ok(), "request {i}: {outcome:?}"),
        }
    }
    assert_eq!(dump_services(&mut s).len(), 300);
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]).lines().count(), 300);
}

/// Counts the datagrams the kernel sends.
struct Counting {
    inner: NetlinkTransport,
    received: usize,
}

impl Transport for Counting {
    fn send(&mut self, datagram: &[u8]) -> std::io::Result<()> {
        self.inner.send(datagram)
    }
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.received += 1;
        self.inner.recv(buf)
    }
    fn port_id(&self) -> u32 {
        self.inner.port_id()
    }
}

#[test]
fn large_dump_spans_many_datagrams() {
    netns::enter_fresh();
    let transport = Counting {
        inner: NetlinkTransport::open().expect("socket"),
        received: 0,
    };
    let mut s = IpvsSocket::with_transport(transport).expect("family");
    let msgs = (0..1000u16)
        .map(|port| {
            msg(
                IpvsCmd::NewService,
                vec![IpvsCmdAttr::Service(service(
                    key(17, [10, 20, 0, 1], 2000 + port),
                    "rr",
                    0,
                    0,
                ))],
            )
        })
        .collect();
    assert!(
        s.pipeline(msgs)
            .expect("exchange")
            .iter()
            .all(Result::is_ok)
    );
    let before = s.transport().received;
    let services = s.dump(msg(IpvsCmd::GetService, vec![])).expect("dump");
    let datagrams = s.transport().received - before;
    assert_eq!(services.len(), 1000);
    // About 300 bytes a service: far more than one 32 KiB datagram.
    assert!(datagrams > 5, "{datagrams} datagrams");
    let mut ports: Vec<u16> = services
        .iter()
        .flat_map(|m| m.cmd_attrs().to_vec())
        .flat_map(|a| match a {
            IpvsCmdAttr::Service(attrs) => attrs,
            _ => vec![],
        })
        .filter_map(|a| match a {
            IpvsServiceAttr::Port(p) => Some(p),
            _ => None,
        })
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, (2000..3000).collect::<Vec<_>>());
}
