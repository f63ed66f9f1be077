//! The `ipvs` handle's calls one at a time against the real kernel: info,
//! services and real servers of every kind (added, edited, deleted, read
//! back), the kernel's refusals as typed errors, validation before the
//! kernel, permissions, timeouts, sync daemons, handles in other namespaces
//! and shared by threads. Each result is read back through the library and
//! through Debian's ipvsadm 1.31. Runs in the test VM; each test has a
//! network namespace of its own.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipvs::{
    AddressFamily, DaemonRole, Destination, DestinationUpdate, ErrorKind, ForwardMethod, Ipvs,
    MAX_WEIGHT, Netmask, Persistence, SchedFlags, Scheduler, Service, ServiceKey, ServiceUpdate,
    SyncDaemon, Timeouts, Tunnel, TunnelChecksum, Version,
};
use testbed::{netns, reference};

mod common;
use common::{kind, save, settled_table, setup, v4, v6};

#[test]
fn info_reports_the_version_and_table_size() {
    let ipvs = setup();
    let info = ipvs.info().expect("info");
    assert_eq!(
        info.version,
        Version {
            major: 1,
            minor: 2,
            patch: 1
        }
    );
    assert_eq!(info.version.to_string(), "1.2.1");
    let header = format!(
        "IP Virtual Server version {} (size={})",
        info.version, info.connection_table_size
    );
    assert!(reference::ipvsadm_ok(&["-Ln"]).starts_with(&header));
}

#[test]
fn every_scheduler_and_protocol_reads_back() {
    let ipvs = setup();
    let mut added = Vec::new();
    for (i, sched) in Scheduler::KNOWN.iter().enumerate() {
        let port = 1000 + i as u16;
        for key in [
            ServiceKey::tcp(v4(10, 1, 0, 1), port),
            ServiceKey::udp(v4(10, 1, 0, 1), port),
            ServiceKey::sctp(v6("2001:db8::1"), port),
        ] {
            let svc = Service::new(key).with_scheduler(sched.clone());
            ipvs.add_service(&svc)
                .unwrap_or_else(|e| panic!("{svc}: {e}"));
            added.push(svc);
        }
    }
    for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
        let svc = Service::new(ServiceKey::fwmark(family, 7)).with_scheduler(Scheduler::RoundRobin);
        ipvs.add_service(&svc).expect("fwmark service");
        added.push(svc);
    }
    let mut listed: Vec<Service> = ipvs
        .services()
        .expect("list")
        .into_iter()
        .map(|s| s.service)
        .collect();
    listed.sort_by_key(|s| s.key);
    added.sort_by_key(|s| s.key);
    assert_eq!(listed, added);
    let saved = save();
    assert_eq!(saved.lines().count(), added.len());
    assert!(saved.contains("-A -t 10.1.0.1:1012 -s mh\n"), "{saved}");
    assert!(saved.contains("-A -u 10.1.0.1:1010 -s fo\n"), "{saved}");
    assert!(
        saved.contains("-A --sctp-service [2001:db8::1]:1011 -s ovf\n"),
        "{saved}"
    );
    assert!(
        saved.contains("-A -f 7 -s rr\n-A -f 7 -6 -s rr\n"),
        "{saved}"
    );
}

#[test]
fn persistence_engine_scheduler_flags_and_one_packet_read_back() {
    let ipvs = setup();
    let mut sh =
        Service::new(ServiceKey::tcp(v4(10, 2, 0, 1), 80)).with_scheduler(Scheduler::SourceHashing);
    sh.sched_flags = SchedFlags::FALLBACK | SchedFlags::PORT;
    sh.persistence = Some(Persistence {
        timeout: 600,
        netmask: Some(Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))),
    });
    let mut mh = Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 3))
        .with_scheduler(Scheduler::MaglevHashing);
    mh.sched_flags = SchedFlags::PORT;
    mh.persistence = Some(Persistence {
        timeout: 300,
        netmask: Some(Netmask::Ipv6(64)),
    });
    let mut sip = Service::new(ServiceKey::udp(v4(10, 2, 0, 2), 5060))
        .with_persistence(Persistence::new(900));
    sip.persistence_engine = Some("sip".into());
    sip.one_packet = true;
    for svc in [&sh, &mh, &sip] {
        ipvs.add_service(svc)
            .unwrap_or_else(|e| panic!("{svc}: {e}"));
        assert_eq!(&ipvs.service(&svc.key).expect("read back").service, svc);
    }
    assert_eq!(
        save(),
        "-A -t 10.2.0.1:80 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port\n\
         -A -u 10.2.0.2:5060 -s wlc -p 900 --pe sip -o\n\
         -A -f 3 -6 -s mh -p 300 -M 64 -b mh-port\n"
    );
    let listed = reference::ipvsadm_ok(&["-Ln"]);
    assert!(
        listed.contains("UDP  10.2.0.2:5060 wlc persistent 900 pe sip ops\n"),
        "{listed}"
    );
    // The kernel's own HASHED bit is on the wire only: the configuration
    // read back above has no trace of it.
    use ipvs_sys::{
        IpvsAddressFamily, IpvsCmd, IpvsCmdAttr, IpvsMessage, IpvsServiceAttr, IpvsServiceFlags,
    };
    let mut socket = ipvs_sys::IpvsSocket::connect().expect("socket");
    let mut addr = [0; 16];
    addr[..4].copy_from_slice(&[10, 2, 0, 1]);
    let replies = socket
        .request(IpvsMessage::new(
            IpvsCmd::GetService,
            vec![IpvsCmdAttr::Service(vec![
                IpvsServiceAttr::Af(IpvsAddressFamily::Inet),
                IpvsServiceAttr::Protocol(6),
                IpvsServiceAttr::Addr(addr),
                IpvsServiceAttr::Port(80),
            ])],
        ))
        .expect("read");
    let hashed = replies.iter().flat_map(IpvsMessage::cmd_attrs).any(|a| {
        matches!(a, IpvsCmdAttr::Service(nest) if nest.iter().any(|n| matches!(n,
            IpvsServiceAttr::Flags(f) if f.flags.contains(IpvsServiceFlags::HASHED))))
    });
    assert!(hashed, "{replies:?}");
}

#[test]
fn destinations_of_every_forwarding_method_and_tunnel_read_back() {
    let ipvs = setup();
    let key = ServiceKey::tcp(v4(10, 3, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).expect("service");
    let dests = [
        Destination::new(v4(192, 0, 2, 1), 8080, ForwardMethod::Masq).with_weight(3),
        Destination::new(v4(192, 0, 2, 2), 80, ForwardMethod::Route),
        Destination::new(v4(192, 0, 2, 3), 80, ForwardMethod::Tunnel),
        Destination::new(v4(192, 0, 2, 4), 80, ForwardMethod::Masq)
            .with_tunnel(Tunnel::gue(6080, TunnelChecksum::Remote)),
        Destination::new(v4(192, 0, 2, 5), 80, ForwardMethod::Masq)
            .with_tunnel(Tunnel::gre(TunnelChecksum::Checksum)),
        Destination::new(v6("2001:db8::6"), 80, ForwardMethod::Masq).with_tunnel(Tunnel::IPIP),
    ];
    for d in &dests {
        ipvs.add_destination(&key, d)
            .unwrap_or_else(|e| panic!("{d}: {e}"));
    }
    let mut listed: Vec<Destination> = ipvs
        .destinations(&key)
        .expect("list")
        .into_iter()
        .map(|d| d.destination)
        .collect();
    listed.sort_by_key(|d| d.address);
    let mut expected = dests.to_vec();
    expected.sort_by_key(|d| d.address);
    assert_eq!(listed, expected);
    assert_eq!(
        save(),
        "-A -t 10.3.0.1:80 -s wlc\n\
         -a -t 10.3.0.1:80 -r 192.0.2.1:8080 -m -w 3\n\
         -a -t 10.3.0.1:80 -r 192.0.2.2:80 -g -w 1\n\
         -a -t 10.3.0.1:80 -r 192.0.2.3:80 -i -w 1 --tun-type ipip\n\
         -a -t 10.3.0.1:80 -r 192.0.2.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n\
         -a -t 10.3.0.1:80 -r 192.0.2.5:80 -i -w 1 --tun-type gre --tun-csum\n\
         -a -t 10.3.0.1:80 -r [2001:db8::6]:80 -i -w 1 --tun-type ipip\n"
    );
}

#[test]
fn weights_and_thresholds_span_the_kernel_range() {
    let ipvs = setup();
    let key = ServiceKey::udp(v4(10, 4, 0, 1), 53);
    ipvs.add_service(&Service::new(key).with_scheduler(Scheduler::WeightedRoundRobin))
        .expect("service");
    let mut big =
        Destination::new(v4(192, 0, 2, 1), 53, ForwardMethod::Route).with_weight(MAX_WEIGHT);
    big.upper_threshold = MAX_WEIGHT;
    big.lower_threshold = 1000;
    ipvs.add_destination(&key, &big).expect("largest weight");
    assert_eq!(ipvs.destinations(&key).expect("list")[0].destination, big);
    let listed = reference::ipvsadm_ok(&["-Ln", "--thresholds"]);
    assert!(
        listed.contains(
            "  -> 192.0.2.1:53                 2147483647 1000       0          0         \n"
        ),
        "{listed}"
    );
    assert!(save().contains("-r 192.0.2.1:53 -g -w 2147483647\n"));
    // One past the range is refused here, before anything is sent.
    let err = ipvs.add_destination(
        &key,
        &Destination::new(v4(192, 0, 2, 2), 53, ForwardMethod::Route).with_weight(MAX_WEIGHT + 1),
    );
    let err = err.expect_err("refused");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::InvalidArgument, None)
    );
    assert_eq!(ipvs.destinations(&key).expect("list").len(), 1);
}

#[test]
fn partial_service_edit_changes_only_what_it_names() {
    let ipvs = setup();
    let key = ServiceKey::udp(v4(10, 5, 0, 1), 53);
    let mut svc = Service::new(key).with_persistence(Persistence::new(120));
    svc.persistence_engine = Some("sip".into());
    ipvs.add_service(&svc).expect("service");
    let edited = ipvs
        .update_service_with(
            &key,
            &ServiceUpdate::new()
                .with_scheduler(Scheduler::LeastConnection)
                .with_one_packet(true),
        )
        .expect("partial edit");
    assert_eq!(edited.persistence, Some(Persistence::new(120)));
    assert_eq!(edited.persistence_engine.as_deref(), Some("sip"));
    assert_eq!(ipvs.service(&key).expect("read").service, edited);
    assert_eq!(save(), "-A -u 10.5.0.1:53 -s lc -p 120 --pe sip -o\n");
    // A full edit replaces everything: persistence and engine go.
    ipvs.update_service(&Service::new(key).with_scheduler(Scheduler::RoundRobin))
        .expect("full edit");
    assert_eq!(save(), "-A -u 10.5.0.1:53 -s rr\n");
}

#[test]
fn partial_destination_edit_and_delete() {
    let ipvs = setup();
    let key = ServiceKey::tcp(v4(10, 6, 0, 1), 80);
    ipvs.add_service(&Service::new(key)).expect("service");
    let rs = Destination::new(v4(192, 0, 2, 9), 8080, ForwardMethod::Masq).with_weight(4);
    ipvs.add_destination(&key, &rs).expect("dest");
    let drained = ipvs
        .update_destination_with(
            &key,
            rs.address,
            rs.port,
            &DestinationUpdate::new().with_weight(0),
        )
        .expect("drain");
    assert_eq!(
        (drained.weight, drained.forward, drained.port),
        (0, ForwardMethod::Masq, 8080)
    );
    assert!(save().contains("-a -t 10.6.0.1:80 -r 192.0.2.9:8080 -m -w 0\n"));
    ipvs.update_destination(&key, &rs.clone().with_weight(7))
        .expect("full edit");
    assert!(save().contains("-m -w 7\n"));
    ipvs.delete_destination(&key, rs.address, rs.port)
        .expect("delete");
    assert_eq!(save(), "-A -t 10.6.0.1:80 -s wlc\n");
    assert!(ipvs.destinations(&key).expect("an empty list").is_empty());
}

#[test]
fn kernel_refusals_come_back_as_typed_errors() {
    let ipvs = setup();
    let key = ServiceKey::tcp(v4(10, 7, 0, 1), 80);
    let absent = ServiceKey::tcp(v4(10, 7, 0, 2), 80);
    let rs = Destination::new(v4(192, 0, 2, 1), 80, ForwardMethod::Route);
    ipvs.add_service(&Service::new(key)).expect("service");
    assert_eq!(
        kind(ipvs.add_service(&Service::new(key))),
        ErrorKind::ServiceExists
    );
    assert_eq!(kind(ipvs.delete_service(&absent)), ErrorKind::NoSuchService);
    assert_eq!(kind(ipvs.service(&absent)), ErrorKind::NoSuchService);
    assert_eq!(kind(ipvs.destinations(&absent)), ErrorKind::NoSuchService);
    assert_eq!(kind(ipvs.zero_service(&absent)), ErrorKind::NoSuchService);
    assert_eq!(
        kind(ipvs.add_destination(&absent, &rs)),
        ErrorKind::NoSuchService
    );
    assert_eq!(
        kind(ipvs.update_service(&Service::new(absent))),
        ErrorKind::NoSuchService
    );
    ipvs.add_destination(&key, &rs).expect("dest");
    assert_eq!(
        kind(ipvs.add_destination(&key, &rs)),
        ErrorKind::DestinationExists
    );
    let other = Destination::new(v4(192, 0, 2, 2), 80, ForwardMethod::Route);
    assert_eq!(
        kind(ipvs.update_destination(&key, &other)),
        ErrorKind::NoSuchDestination
    );
    assert_eq!(
        kind(ipvs.delete_destination(&key, other.address, 80)),
        ErrorKind::NoSuchDestination
    );
    let bad_sched = Service::new(ServiceKey::tcp(v4(10, 7, 0, 3), 80))
        .with_scheduler(Scheduler::Other("nosuch".into()));
    assert_eq!(
        kind(ipvs.add_service(&bad_sched)),
        ErrorKind::SchedulerNotFound
    );
    let mut bad_pe =
        Service::new(ServiceKey::tcp(v4(10, 7, 0, 3), 80)).with_persistence(Persistence::new(60));
    bad_pe.persistence_engine = Some("nosuch".into());
    let err = ipvs.add_service(&bad_pe).expect_err("refused");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::SchedulerNotFound, Some(libc::ENOENT))
    );
    assert_eq!(
        err.to_string(),
        "add service: scheduler or persistence engine not found"
    );
    // A multicast real server and inverted thresholds: the kernel would say
    // EINVAL and ERANGE (ipvsadm-rs's kernel_rules test shows it does); the
    // library refuses them first, saying which rule.
    let multicast = Destination::new(v4(224, 0, 0, 9), 80, ForwardMethod::Route);
    let mut inverted = Destination::new(v4(192, 0, 2, 3), 80, ForwardMethod::Route);
    inverted.lower_threshold = 9;
    for (dest, errno) in [(multicast, libc::EINVAL), (inverted, libc::ERANGE)] {
        let err = ipvs.add_destination(&key, &dest).expect_err("refused");
        assert_eq!(
            (err.kind(), err.errno()),
            (ErrorKind::InvalidArgument, None)
        );
        let rule = err.violation().expect("a rule of the library");
        assert_eq!(rule.kernel_errno(), Some(errno), "{err}");
    }
    // Refused here, before sending: nothing reached the kernel.
    let gue_without_port = Destination::new(v4(192, 0, 2, 4), 80, ForwardMethod::Route)
        .with_tunnel(Tunnel::gue(0, TunnelChecksum::None));
    let err = ipvs
        .add_destination(&key, &gue_without_port)
        .expect_err("refused");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::InvalidArgument, None)
    );
    assert!(
        err.to_string().contains("a GUE tunnel needs a port"),
        "{err}"
    );
    assert_eq!(
        save(),
        "-A -t 10.7.0.1:80 -s wlc\n-a -t 10.7.0.1:80 -r 192.0.2.1:80 -g -w 1\n"
    );
}

#[test]
fn invalid_requests_are_refused_before_the_kernel_sees_them() {
    let ipvs = setup();
    let tcp = ServiceKey::tcp(v4(10, 7, 1, 1), 80);
    let with = |f: &dyn Fn(&mut Service)| {
        let mut s = Service::new(tcp);
        f(&mut s);
        s
    };
    let services: Vec<(Service, &str)> = vec![
        (
            with(&|s| s.scheduler = Scheduler::Other("sixteen-chars-sc".into())),
            "scheduler name `sixteen-chars-sc` must be 1 to 15 characters",
        ),
        (
            with(&|s| s.persistence_engine = Some("sixteen-chars-pe".into())),
            "persistence engine name `sixteen-chars-pe` must be 1 to 15 characters",
        ),
        (
            Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, 0)),
            "a firewall mark must be greater than zero",
        ),
        (
            Service::new(ServiceKey::tcp(v4(10, 7, 1, 1), 0)),
            "port 0 (every port) needs persistence",
        ),
        (
            with(&|s| s.one_packet = true),
            "one-packet scheduling is for UDP and firewall-mark services only",
        ),
        (
            with(&|s| s.persistence = Some(Persistence::new(0))),
            "persistence timeout 0 s is not in 1..=2678400 (31 days, as ipvsadm takes it)",
        ),
        (
            with(&|s| {
                s.persistence = Some(Persistence {
                    timeout: 60,
                    netmask: Some(Netmask::Ipv6(64)),
                })
            }),
            "netmask 64 is for ipv6, the service is ipv4",
        ),
        (
            Service::new(ServiceKey::tcp(v6("2001:db8::1"), 80)).with_persistence(Persistence {
                timeout: 60,
                netmask: Some(Netmask::Ipv6(129)),
            }),
            "prefix length 129 is not in 1..=128 for an ipv6 service",
        ),
    ];
    for (service, why) in &services {
        let err = ipvs.add_service(service).expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        // No errno: the library said no, the kernel was never asked.
        assert_eq!(err.errno(), None, "{err}");
        assert!(err.to_string().ends_with(why), "{err}");
    }
    ipvs.add_service(&Service::new(tcp))
        .expect("a valid service");
    let rs = |addr: IpAddr| Destination::new(addr, 80, ForwardMethod::Masq);
    let destinations: Vec<(Destination, &str)> = vec![
        (
            rs(v4(192, 0, 2, 1)).with_weight(MAX_WEIGHT + 1),
            "weight 2147483648 is above 2147483647",
        ),
        (
            rs(v4(192, 0, 2, 1)).with_thresholds(MAX_WEIGHT + 1, 0),
            "upper threshold 2147483648 is above 2147483647",
        ),
        (
            rs(v6("2001:db8::2")),
            "an ipv6 real server behind an ipv4 service must be tunnelled",
        ),
        (
            rs(v4(192, 0, 2, 1)).with_tunnel(Tunnel::gue(0, TunnelChecksum::None)),
            "a GUE tunnel needs a port",
        ),
    ];
    for (dest, why) in &destinations {
        let err = ipvs.add_destination(&tcp, dest).expect_err("refused");
        assert_eq!(
            (err.kind(), err.errno()),
            (ErrorKind::InvalidArgument, None),
            "{err}"
        );
        assert!(err.to_string().ends_with(why), "{err}");
    }
    let daemon = SyncDaemon::new(DaemonRole::Master, "lo", 1);
    let daemons: Vec<(SyncDaemon, &str)> = vec![
        (
            SyncDaemon::new(DaemonRole::Master, "sixteen-chars-if", 1),
            "interface name `sixteen-chars-if` must be 1 to 15 characters",
        ),
        (
            daemon.clone().with_group(v4(10, 0, 0, 1)),
            "10.0.0.1 is not a multicast group",
        ),
        (
            daemon.clone().with_ttl(0),
            "the multicast TTL must be 1 to 255",
        ),
        (
            daemon.clone().with_port(0),
            "the multicast port must be 1 to 65535",
        ),
        (
            daemon.clone().with_max_len(0),
            "sync message length 0 means the kernel's default (from the MTU): leave it out",
        ),
        (
            SyncDaemon::new(DaemonRole::Backup, "lo", 1).with_max_len(500),
            "sync message length 500 is not in 1024..=65507 for a backup with an ipv4 group (the kernel would use 1024)",
        ),
    ];
    for (daemon, why) in &daemons {
        let err = ipvs.start_daemon(daemon).expect_err("refused");
        assert_eq!(
            (err.kind(), err.errno()),
            (ErrorKind::InvalidArgument, None),
            "{err}"
        );
        assert!(err.to_string().contains(why), "{err}");
    }
    // Nothing of it reached the kernel.
    assert_eq!(save(), "-A -t 10.7.1.1:80 -s wlc\n");
    assert!(ipvs.daemons().expect("daemons").is_empty());
}

#[test]
fn permission_denied_without_cap_net_admin() {
    netns::enter_fresh();
    netns::drop_net_admin_on_this_thread().expect("capset");
    let ipvs = Ipvs::new().expect("resolving the family needs no privilege");
    let err = ipvs.services().expect_err("listing needs CAP_NET_ADMIN");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::PermissionDenied, Some(libc::EPERM))
    );
    assert_eq!(
        err.to_string(),
        "list services: permission denied (IPVS needs CAP_NET_ADMIN, usually root)"
    );
}

#[test]
fn timeouts_set_and_read_back() {
    let ipvs = setup();
    assert_eq!(ipvs.timeouts().expect("read"), Timeouts::new(900, 120, 300));
    ipvs.set_timeouts(&Timeouts::new(3600, 0, 60)).expect("set");
    assert_eq!(ipvs.timeouts().expect("read"), Timeouts::new(3600, 120, 60));
    assert_eq!(
        reference::ipvsadm_ok(&["-L", "--timeout"]),
        "Timeout (tcp tcpfin udp): 3600 120 60\n"
    );
    let err = ipvs
        .set_timeouts(&Timeouts::new(u32::MAX, 0, 0))
        .expect_err("too long");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn sync_daemons_with_every_option() {
    let ipvs = setup();
    netns::add_veth_pair("sync0", "sync1", "10.10.0.1/24").expect("veth");
    let master = SyncDaemon::new(DaemonRole::Master, "sync0", 42)
        .with_max_len(1200)
        .with_group(v4(239, 1, 2, 3))
        .with_port(9000)
        .with_ttl(4);
    let backup = SyncDaemon::new(DaemonRole::Backup, "sync0", 42);
    ipvs.start_daemon(&master).expect("master");
    ipvs.start_daemon(&backup).expect("backup");
    let listed = ipvs.daemons().expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], master);
    // The backup reports the kernel's defaults.
    assert_eq!(
        (
            listed[1].role,
            listed[1].group,
            listed[1].port,
            listed[1].ttl
        ),
        (
            DaemonRole::Backup,
            Some(v4(224, 0, 0, 81)),
            Some(8848),
            Some(1)
        )
    );
    assert_eq!(
        reference::ipvsadm_ok(&["-L", "--daemon"]).lines().next(),
        Some(
            "master sync daemon (mcast=sync0, syncid=42, maxlen=1200, group=239.1.2.3, port=9000, ttl=4)"
        )
    );
    assert_eq!(kind(ipvs.start_daemon(&master)), ErrorKind::DaemonExists);
    ipvs.stop_daemon(DaemonRole::Master).expect("stop master");
    ipvs.stop_daemon(DaemonRole::Backup).expect("stop backup");
    assert_eq!(
        kind(ipvs.stop_daemon(DaemonRole::Master)),
        ErrorKind::NoSuchDaemon
    );
    assert!(ipvs.daemons().expect("list").is_empty());
    let err = ipvs
        .start_daemon(&SyncDaemon::new(DaemonRole::Master, "nosuch0", 1))
        .expect_err("no interface");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::InvalidArgument, Some(libc::ENODEV))
    );
    let err = ipvs
        .start_daemon(&master.with_group(v4(10, 0, 0, 1)))
        .expect_err("not multicast");
    assert_eq!(
        (err.kind(), err.errno()),
        (ErrorKind::InvalidArgument, None)
    );
}

#[test]
fn handle_in_another_namespace_leaves_the_caller_where_it_was() {
    netns::enter_fresh();
    let here = netns::current_inode().expect("inode");
    let other = netns::Namespace::new("other").expect("namespace");
    let remote = Ipvs::in_namespace(other.path()).expect("handle there");
    assert_eq!(netns::current_inode().expect("inode"), here);
    let key = ServiceKey::tcp(v4(10, 11, 0, 1), 80);
    remote
        .add_service(&Service::new(key))
        .expect("service there");
    let out = other
        .command("/sbin/ipvsadm")
        .arg("-Sn")
        .output()
        .expect("ipvsadm there");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "-A -t 10.11.0.1:80 -s wlc\n"
    );
    assert_eq!(save(), "", "nothing here");
    let local = Ipvs::new().expect("handle here");
    assert!(local.services().expect("list").is_empty());
    // By descriptor too.
    let file = std::fs::File::open(other.path()).expect("open");
    let by_fd = Ipvs::in_namespace_fd(std::os::fd::AsFd::as_fd(&file)).expect("handle by fd");
    assert_eq!(by_fd.services().expect("list")[0].service.key, key);
    let err = Ipvs::in_namespace("/etc/hostname").expect_err("not a namespace");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn one_handle_shared_by_threads() {
    let ipvs = Arc::new(setup());
    let key = |t: u16, i: u16| ServiceKey::tcp(v4(10, 12, t as u8, 1), 1000 + i);
    let threads: Vec<_> = (0..4u16)
        .map(|t| {
            let ipvs = ipvs.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    ipvs.add_service(&Service::new(key(t, i))).expect("add");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    // Each one by itself, and the whole table read so that a service the
    // kernel's dump skips (see `settled_table_misses_less_...`) is found.
    for (t, i) in (0..4).flat_map(|t| (0..50).map(move |i| (t, i))) {
        ipvs.service(&key(t, i)).expect("each service is there");
    }
    assert_eq!(settled_table(&ipvs).expect("list").len(), 200);
}
