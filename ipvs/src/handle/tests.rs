//! The handle's logic against a scripted kernel, on the host: what it sends
//! (each request, decoded, in order) and what it makes of the answers.

use std::net::{IpAddr, Ipv4Addr};

use crate::wire::testing::*;
use crate::*;

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The identifying attributes of `tcp 10.0.0.1:80`.
const KEY80: &str = "af=2 proto=6 addr=10.0.0.1 port=80";
/// A /32 netmask (255.255.255.255) as a number.
const HOST_MASK: &str = "netmask=4294967295";

fn web() -> ServiceKey {
    ServiceKey::tcp(VIP, 80)
}

fn rs(host: u8) -> Destination {
    Destination::new(Ipv4Addr::new(192, 0, 2, host), 8080, ForwardMethod::Masq)
}

fn ok(replies: Vec<ipvs_sys::IpvsMessage>) -> Reply {
    Reply::Ok(replies)
}

fn done() -> Reply {
    Reply::Ok(vec![])
}

#[test]
fn the_handle_is_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Ipvs>();
}

#[test]
fn services_repeated_by_a_dump_are_listed_once() {
    let a = Service::new(web());
    let b = Service::new(ServiceKey::udp(VIP, 53)).with_scheduler(Scheduler::RoundRobin);
    let (ipvs, log) = kernel(vec![ok(vec![
        service_reply(&a, 0),
        service_reply(&b, 0),
        service_reply(&a, 0),
    ])]);
    let listed = ipvs.services().expect("listed");
    assert_eq!(
        listed.iter().map(|s| &s.service).collect::<Vec<_>>(),
        [&a, &b]
    );
    assert_eq!(sent(&log), ["dump GetService"]);
}

#[test]
fn real_servers_repeated_by_a_dump_are_listed_once() {
    let (ipvs, log) = kernel(vec![ok(vec![
        dest_reply(&rs(1), 4),
        dest_reply(&rs(2), 0),
        dest_reply(&rs(1), 4),
    ])]);
    let listed = ipvs.destinations(&web()).expect("listed");
    assert_eq!(
        listed.iter().map(|d| &d.destination).collect::<Vec<_>>(),
        [&rs(1), &rs(2)]
    );
    assert_eq!(listed[0].active_connections, 4);
    assert_eq!(sent(&log), [format!("dump GetDest svc[{KEY80}]")]);
}

#[test]
fn an_empty_list_of_real_servers_is_told_apart_from_no_such_service() {
    let (ipvs, log) = kernel(vec![done(), Reply::Errno(libc::ESRCH)]);
    let err = ipvs.destinations(&web()).unwrap_err();
    assert_eq!(
        (err.operation(), err.kind(), err.errno()),
        (
            Operation::ListDestinations,
            ErrorKind::NoSuchService,
            Some(libc::ESRCH)
        )
    );
    assert_eq!(
        sent(&log),
        [
            format!("dump GetDest svc[{KEY80}]"),
            format!("GetService svc[{KEY80}]")
        ]
    );

    // A service that exists but has no real server: an empty list.
    let (ipvs, _) = kernel(vec![
        done(),
        ok(vec![service_reply(&Service::new(web()), 0)]),
    ]);
    assert_eq!(ipvs.destinations(&web()).expect("listed"), []);
}

#[test]
fn kernel_errnos_become_kinds_of_the_operation() {
    let (ipvs, log) = kernel(vec![
        Reply::Errno(libc::EEXIST),
        Reply::Errno(libc::EEXIST),
        Reply::Errno(libc::ESRCH),
        Reply::Errno(libc::ENOENT),
        Reply::Errno(libc::ENOENT),
        Reply::Errno(libc::EPERM),
    ]);
    let kind = |r: Result<()>| r.unwrap_err().kind();
    let svc = Service::new(web());
    assert_eq!(kind(ipvs.add_service(&svc)), ErrorKind::ServiceExists);
    assert_eq!(
        kind(ipvs.add_destination(&web(), &rs(1))),
        ErrorKind::DestinationExists
    );
    assert_eq!(kind(ipvs.delete_service(&web())), ErrorKind::NoSuchService);
    assert_eq!(
        kind(ipvs.delete_destination(&web(), rs(1).address, 8080)),
        ErrorKind::NoSuchDestination
    );
    assert_eq!(
        kind(ipvs.update_service(&svc)),
        ErrorKind::SchedulerNotFound
    );
    assert_eq!(kind(ipvs.flush()), ErrorKind::PermissionDenied);
    let dest = "af=2 addr=192.0.2.1 port=8080";
    assert_eq!(
        sent(&log),
        [
            format!("NewService svc[{KEY80} sched=wlc flags=0x0/0xffffffff timeout=0 {HOST_MASK}]"),
            format!(
                "NewDest svc[{KEY80}] dest[{dest} fwd=0 weight=1 tun_type=0 tun_port=0 tun_flags=0x0 u_thresh=0 l_thresh=0]"
            ),
            format!("DelService svc[{KEY80}]"),
            format!("DelDest svc[{KEY80}] dest[{dest}]"),
            format!("SetService svc[{KEY80} sched=wlc flags=0x0/0xffffffff timeout=0 {HOST_MASK}]"),
            "Flush".to_owned(),
        ]
    );
}

#[test]
fn invalid_changes_are_refused_before_anything_is_sent() {
    let (ipvs, log) = kernel(vec![]);
    let mark0 = Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, 0));
    let err = ipvs.add_service(&mark0).unwrap_err();
    assert_eq!(
        (err.operation(), err.kind()),
        (Operation::AddService, ErrorKind::InvalidArgument)
    );
    let v6 = Destination::new(
        "2001:db8::1".parse::<IpAddr>().unwrap(),
        80,
        ForwardMethod::Masq,
    );
    let err = ipvs.add_destination(&web(), &v6).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("must be tunnelled"), "{err}");
    let daemon = SyncDaemon::new(DaemonRole::Master, "", 1);
    assert_eq!(
        ipvs.start_daemon(&daemon).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let batch = [
        Change::AddService(Service::new(web())),
        Change::AddService(mark0),
    ];
    assert_eq!(
        ipvs.apply_changes(&batch).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(sent(&log), Vec::<String>::new());
}

#[test]
fn local_forwarding_needs_an_address_of_the_director() {
    let (ipvs, log) = kernel(vec![ok(vec![])]);
    let elsewhere = Destination::new(Ipv4Addr::new(192, 0, 2, 21), 80, ForwardMethod::Local);
    let err = ipvs
        .apply_changes(&[
            Change::AddService(Service::new(web())),
            Change::AddDestination(web(), elsewhere),
        ])
        .unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::LocalNotOwnAddress(
            Ipv4Addr::new(192, 0, 2, 21).into()
        ))
    );
    assert_eq!(
        err.to_string(),
        "add destination: invalid argument: service tcp 10.0.0.1:80: real server 192.0.2.21:80 local weight 1: local forwarding hands packets to this host's own stack, but 192.0.2.21 is not an address of this director (for another host use route, masq or tunnel)"
    );
    assert_eq!(sent(&log), Vec::<String>::new());
    // The loopback address is the director's own (the scripted handle asks
    // the routing table of the test's own namespace).
    let own = Destination::new(Ipv4Addr::LOCALHOST, 80, ForwardMethod::Local);
    ipvs.add_destination(&web(), &own).expect("added");
    assert_eq!(
        sent(&log),
        [format!(
            "NewDest svc[{KEY80}] dest[af=2 addr=127.0.0.1 port=80 fwd=1 weight=1 tun_type=0 tun_port=0 tun_flags=0x0 u_thresh=0 l_thresh=0]"
        )]
    );
}

#[test]
fn an_update_is_refused_only_for_a_rule_it_breaks() {
    // A routed real server at another port than the service's (made by
    // another tool) can be drained, but not given inverted thresholds.
    let routed = Destination::new(Ipv4Addr::new(192, 0, 2, 2), 8080, ForwardMethod::Route);
    let (ipvs, log) = kernel(vec![ok(vec![dest_reply(&routed, 0)]), done()]);
    let drained = ipvs
        .update_destination_with(
            &web(),
            routed.address,
            8080,
            &DestinationUpdate::new().with_weight(0),
        )
        .expect("drained");
    assert_eq!(drained.weight, 0);
    let (ipvs, log2) = kernel(vec![ok(vec![dest_reply(&routed, 0)])]);
    let err = ipvs
        .update_destination_with(
            &web(),
            routed.address,
            8080,
            &DestinationUpdate::new().with_lower_threshold(5),
        )
        .unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::ThresholdsInverted { upper: 0, lower: 5 })
    );
    assert_eq!(sent(&log).len(), 2);
    assert_eq!(sent(&log2), [format!("dump GetDest svc[{KEY80}]")]);
}

#[test]
fn update_service_with_sends_only_the_masked_flag_bits() {
    let current = Service::new(web())
        .with_scheduler(Scheduler::SourceHashing)
        .with_persistence(Persistence::new(300));
    let (ipvs, log) = kernel(vec![ok(vec![service_reply(&current, 0)]), done()]);
    let update = ServiceUpdate::new().with_sched_flags(SchedFlags::PORT);
    let updated = ipvs.update_service_with(&web(), &update).expect("updated");
    let mut expected = current.clone();
    expected.sched_flags = SchedFlags::PORT;
    assert_eq!(updated, expected);
    // Persistent (0x1) and sh-port (0x10) are sent; only the scheduler bits
    // (0x38) are to change.
    assert_eq!(
        sent(&log),
        [
            format!("GetService svc[{KEY80}]"),
            format!("SetService svc[{KEY80} sched=sh flags=0x11/0x38 timeout=300 {HOST_MASK}]"),
        ]
    );
}

#[test]
fn update_service_with_turns_persistence_and_one_packet_off_by_their_bits() {
    let key = ServiceKey::udp(VIP, 53);
    let mut current = Service::new(key).with_persistence(Persistence::new(60));
    current.one_packet = true;
    let (ipvs, log) = kernel(vec![ok(vec![service_reply(&current, 0)]), done()]);
    let update = ServiceUpdate::new()
        .with_persistence(None)
        .with_one_packet(false)
        .with_scheduler(Scheduler::RoundRobin);
    let updated = ipvs.update_service_with(&key, &update).expect("updated");
    assert_eq!(
        updated,
        Service::new(key).with_scheduler(Scheduler::RoundRobin)
    );
    let key53 = "af=2 proto=17 addr=10.0.0.1 port=53";
    assert_eq!(
        sent(&log)[1],
        format!("SetService svc[{key53} sched=rr flags=0x0/0x5 timeout=0 {HOST_MASK}]")
    );
}

#[test]
fn update_service_with_of_a_missing_service_fails_as_the_edit() {
    let (ipvs, log) = kernel(vec![Reply::Errno(libc::ESRCH)]);
    let err = ipvs
        .update_service_with(&web(), &ServiceUpdate::new().with_one_packet(false))
        .unwrap_err();
    assert_eq!(
        (err.operation(), err.kind(), err.errno()),
        (
            Operation::EditService,
            ErrorKind::NoSuchService,
            Some(libc::ESRCH)
        )
    );
    assert_eq!(sent(&log), [format!("GetService svc[{KEY80}]")]);
}

#[test]
fn update_destination_with_keeps_the_other_fields() {
    let mut current = rs(2).with_tunnel(Tunnel::gue(6080, TunnelChecksum::Remote));
    current.weight = 3;
    current.upper_threshold = 100;
    current.lower_threshold = 10;
    let (ipvs, log) = kernel(vec![
        ok(vec![dest_reply(&rs(1), 0), dest_reply(&current, 0)]),
        done(),
    ]);
    let drained = ipvs
        .update_destination_with(
            &web(),
            current.address,
            current.port,
            &DestinationUpdate::new().with_weight(0),
        )
        .expect("updated");
    let mut expected = current.clone();
    expected.weight = 0;
    assert_eq!(drained, expected);
    assert_eq!(
        sent(&log),
        [
            format!("dump GetDest svc[{KEY80}]"),
            format!(
                "SetDest svc[{KEY80}] dest[af=2 addr=192.0.2.2 port=8080 fwd=2 weight=0 tun_type=1 tun_port=6080 tun_flags=0x2 u_thresh=100 l_thresh=10]"
            ),
        ]
    );
}

#[test]
fn update_destination_with_of_a_missing_real_server_sends_no_edit() {
    let (ipvs, log) = kernel(vec![ok(vec![dest_reply(&rs(1), 0)])]);
    let err = ipvs
        .update_destination_with(
            &web(),
            rs(9).address,
            8080,
            &DestinationUpdate::new().with_weight(0),
        )
        .unwrap_err();
    assert_eq!(
        (err.operation(), err.kind(), err.errno()),
        (
            Operation::EditDestination,
            ErrorKind::NoSuchDestination,
            Some(libc::ENOENT)
        )
    );
    assert_eq!(sent(&log), [format!("dump GetDest svc[{KEY80}]")]);

    // No such service: reported as the edit, not as the listing.
    let (ipvs, _) = kernel(vec![done(), Reply::Errno(libc::ESRCH)]);
    let err = ipvs
        .update_destination_with(&web(), rs(1).address, 8080, &DestinationUpdate::new())
        .unwrap_err();
    assert_eq!(
        (err.operation(), err.kind()),
        (Operation::EditDestination, ErrorKind::NoSuchService)
    );
}

#[test]
fn a_batch_has_one_outcome_per_change() {
    let (ipvs, log) = kernel(vec![
        done(),
        Reply::Errno(libc::EEXIST),
        done(),
        Reply::Errno(libc::ESRCH),
    ]);
    let changes = [
        Change::AddService(Service::new(web())),
        Change::AddDestination(web(), rs(1)),
        Change::ZeroAll,
        Change::DeleteDestination {
            service: ServiceKey::tcp(VIP, 81),
            address: rs(1).address,
            port: 8080,
        },
    ];
    let outcomes = ipvs.apply_changes(&changes).expect("exchanged");
    let kinds: Vec<Option<(Operation, ErrorKind)>> = outcomes
        .iter()
        .map(|o| o.as_ref().err().map(|e| (e.operation(), e.kind())))
        .collect();
    assert_eq!(
        kinds,
        [
            None,
            Some((Operation::AddDestination, ErrorKind::DestinationExists)),
            None,
            Some((Operation::DeleteDestination, ErrorKind::NoSuchService)),
        ]
    );
    let commands: Vec<String> = sent(&log)
        .iter()
        .map(|m| m.split(' ').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(commands, ["NewService", "NewDest", "Zero", "DelDest"]);
    assert_eq!(
        sent(&log)[3],
        "DelDest svc[af=2 proto=6 addr=10.0.0.1 port=81] dest[af=2 addr=192.0.2.1 port=8080]"
    );
}

#[test]
fn sync_daemons_start_stop_and_list() {
    let mut master = SyncDaemon::new(DaemonRole::Master, "eth0", 7);
    master.group = Some("239.1.2.3".parse().unwrap());
    master.ttl = Some(2);
    let backup = SyncDaemon::new(DaemonRole::Backup, "eth1", 0);
    let (ipvs, log) = kernel(vec![
        done(),
        done(),
        Reply::Errno(libc::ESRCH),
        ok(vec![daemon_reply(&master), daemon_reply(&backup)]),
    ]);
    ipvs.start_daemon(&master).expect("started");
    ipvs.stop_daemon(DaemonRole::Backup).expect("stopped");
    assert_eq!(
        ipvs.stop_daemon(DaemonRole::Backup).unwrap_err().kind(),
        ErrorKind::NoSuchDaemon
    );
    assert_eq!(ipvs.daemons().expect("listed"), [master, backup]);
    assert_eq!(
        sent(&log),
        [
            "NewDaemon daemon[state=1 ifn=eth0 syncid=7 group=239.1.2.3 ttl=2]",
            "DelDaemon daemon[state=2]",
            "DelDaemon daemon[state=2]",
            "dump GetDaemon",
        ]
    );
}

#[test]
fn a_daemon_in_an_unknown_state_is_a_protocol_error() {
    let (ipvs, _) = kernel(vec![ok(vec![daemon_reply_in_state(3)])]);
    let err = ipvs.daemons().unwrap_err();
    assert_eq!(
        (err.operation(), err.kind()),
        (Operation::ListDaemons, ErrorKind::Protocol)
    );
    assert_eq!(err.detail(), Some("sync daemon in unknown state Some(3)"));
}

#[test]
fn timeouts_are_read_and_set() {
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    let (ipvs, log) = kernel(vec![ok(vec![timeouts_reply(&t)]), done()]);
    assert_eq!(ipvs.timeouts().expect("read"), t);
    let set = Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 60,
    };
    ipvs.set_timeouts(&set).expect("set");
    assert_eq!(
        sent(&log),
        ["GetConfig", "SetConfig tcp=0 tcp_fin=0 udp=60"]
    );
}

#[test]
fn kernel_info_needs_both_version_and_size() {
    let (ipvs, log) = kernel(vec![
        ok(vec![info_reply(0x010201, Some(4096))]),
        ok(vec![info_reply(0x010201, None)]),
    ]);
    let info = ipvs.info().expect("read");
    assert_eq!(
        (info.version.to_string(), info.connection_table_size),
        ("1.2.1".to_owned(), 4096)
    );
    let err = ipvs.info().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(
        err.detail(),
        Some("the info reply lacks the version or size")
    );
    assert_eq!(sent(&log), ["GetInfo", "GetInfo"]);
}

#[test]
fn zeroing_and_flushing() {
    let (ipvs, log) = kernel(vec![done(), done(), done()]);
    ipvs.zero_service(&web()).expect("zeroed");
    ipvs.zero_all().expect("zeroed");
    ipvs.flush().expect("flushed");
    assert_eq!(
        sent(&log),
        [format!("Zero svc[{KEY80}]"), "Zero".into(), "Flush".into()]
    );
}

#[test]
fn a_handle_without_proc_files_says_so() {
    let (ipvs, log) = kernel(vec![]);
    let err = ipvs.connections().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(sent(&log), Vec::<String>::new());
}
