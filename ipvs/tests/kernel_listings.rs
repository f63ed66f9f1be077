//! Reading the table with the `ipvs` library against the real kernel: whole
//! listings, counters and connections on real traffic, the brief listing,
//! and listings that stay whole while other namespaces have or change
//! services. Each result is compared with Debian's ipvsadm 1.31. Runs in the
//! test VM; each test has a network namespace of its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ipvs::{
    AddressFamily, Change, Destination, ForwardMethod, Ipvs, Scheduler, Service, ServiceKey,
};
use testbed::{http, netns, reference};

mod common;
use common::{RICH_TABLE, brief_of, brief_table, settled_table, setup, v4};

#[test]
fn table_lists_every_service_with_its_real_servers() {
    let ipvs = setup();
    reference::run(
        &reference::path(),
        &["-R"],
        "-A -t 10.8.0.1:80 -s rr\n-a -t 10.8.0.1:80 -r 192.0.2.1:80 -m\n-a -t 10.8.0.1:80 -r 192.0.2.2:80 -m -w 2\n-A -f 9 -s wlc\n-a -f 9 -r 192.0.2.3:0 -g\n-A -u 10.8.0.2:53 -s lc\n",
    );
    let table = ipvs.table().expect("table");
    assert_eq!(table.len(), 3);
    let find = |key: ServiceKey| table.iter().find(|s| s.service.key == key).expect("listed");
    assert_eq!(
        find(ServiceKey::tcp(v4(10, 8, 0, 1), 80))
            .destinations
            .len(),
        2
    );
    assert_eq!(
        find(ServiceKey::fwmark(AddressFamily::Ipv4, 9)).destinations[0]
            .destination
            .address,
        v4(192, 0, 2, 3)
    );
    assert!(
        find(ServiceKey::udp(v4(10, 8, 0, 2), 53))
            .destinations
            .is_empty()
    );
}

/// A client namespace linked to this one: the director holds 10.9.0.1, the
/// client 10.9.0.2, and a local HTTP server answers on the VIP.
fn traffic_setup(ipvs: &Ipvs) -> (netns::Namespace, http::Server, ServiceKey) {
    let client = netns::Namespace::new("client").expect("namespace");
    netns::link_to(&client, "dir0", "10.9.0.1/24", "cli0", "10.9.0.2/24").expect("link");
    let server =
        http::Server::start("director", SocketAddr::new(v4(10, 9, 0, 1), 80)).expect("server");
    let key = ServiceKey::tcp(v4(10, 9, 0, 1), 80);
    ipvs.add_service(&Service::new(key).with_scheduler(Scheduler::RoundRobin))
        .expect("service");
    ipvs.add_destination(
        &key,
        &Destination::new(v4(10, 9, 0, 1), 80, ForwardMethod::Route),
    )
    .expect("local real server");
    (client, server, key)
}

fn requests(client: &netns::Namespace, n: usize) {
    client
        .run(|| {
            for _ in 0..n {
                let body = http::get(SocketAddr::new(v4(10, 9, 0, 1), 80), Duration::from_secs(5))
                    .expect("HTTP GET");
                assert_eq!(body, "director");
            }
        })
        .expect("client thread");
}

/// The counters are folded every 2 s: wait them out.
fn settle() {
    std::thread::sleep(Duration::from_millis(3500));
}

#[test]
fn counters_follow_real_traffic_and_zero_resets_them() {
    let ipvs = setup();
    let (client, _server, key) = traffic_setup(&ipvs);
    requests(&client, 5);
    settle();
    let svc = ipvs.service(&key).expect("service");
    assert_eq!(svc.stats.connections, 5);
    assert!(
        svc.stats.in_packets >= 15 && svc.stats.in_bytes > 0,
        "{:?}",
        svc.stats
    );
    let dest = &ipvs.destinations(&key).expect("dests")[0];
    assert_eq!(dest.stats.expect("counters").connections, 5);
    // The reference reads the same counters.
    let exact = reference::ipvsadm_ok(&["-Ln", "--stats", "--exact", "-t", "10.9.0.1:80"]);
    let line = exact
        .lines()
        .find(|l| l.starts_with("TCP  10.9.0.1:80"))
        .expect("service line");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .map(|n| n.parse().expect("number"))
        .collect();
    assert_eq!(
        numbers,
        [
            svc.stats.connections,
            svc.stats.in_packets,
            svc.stats.out_packets,
            svc.stats.in_bytes,
            svc.stats.out_bytes
        ]
    );
    ipvs.zero_service(&key).expect("zero one");
    assert_eq!(ipvs.service(&key).expect("service").stats.connections, 0);
    requests(&client, 2);
    settle();
    assert_eq!(ipvs.service(&key).expect("service").stats.connections, 2);
    ipvs.zero_all().expect("zero all");
    assert_eq!(ipvs.service(&key).expect("service").stats.connections, 0);
    assert_eq!(
        ipvs.destinations(&key).expect("dests")[0]
            .stats
            .expect("counters")
            .connections,
        0
    );
}

#[test]
fn connection_table_matches_the_reference() {
    let ipvs = setup();
    let (client, _server, _key) = traffic_setup(&ipvs);
    requests(&client, 3);
    let conns = ipvs.connections().expect("connections");
    assert_eq!(conns.len(), 3, "{conns:?}");
    for c in &conns {
        assert_eq!(c.protocol, "TCP");
        assert_eq!(c.client.ip(), v4(10, 9, 0, 2));
        assert_eq!(c.virtual_address, SocketAddr::new(v4(10, 9, 0, 1), 80));
        assert_eq!(c.destination, SocketAddr::new(v4(10, 9, 0, 1), 80));
    }
    let listed = reference::ipvsadm_ok(&["-Lnc"]);
    for c in &conns {
        let row = format!(
            "TCP {:02}:{:02}  {:<11} {:<18} {:<18} {}",
            c.expires / 60,
            c.expires % 60,
            c.state,
            c.client.to_string(),
            c.virtual_address.to_string(),
            c.destination
        );
        // The two reads are a moment apart: compare all but the expiry.
        let tail = &row[10..];
        assert!(
            listed.lines().any(|l| l.ends_with(tail)),
            "{tail:?} not in\n{listed}"
        );
    }
}

#[test]
fn brief_table_agrees_with_the_full_table() {
    let ipvs = setup();
    let restored = reference::run(&reference::path(), &["-R"], RICH_TABLE);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    // Marks 1 (IPv4) and 1 (IPv6) are ambiguous in /proc/net/ip_vs: read by netlink.
    reference::ipvsadm_ok(&["-A", "-f", "1", "-6", "-s", "rr"]);
    reference::ipvsadm_ok(&[
        "-a",
        "-f",
        "1",
        "-6",
        "-r",
        "[2001:db8::30]:0",
        "-g",
        "-w",
        "4",
    ]);
    let full = ipvs.table().expect("table");
    let brief = brief_table(&ipvs).expect("brief");
    assert_eq!(brief.len(), full.len());
    // What a brief read is sure to give of a real server's configuration.
    let listed = |d: &ipvs::DestinationInfo| {
        (
            d.destination.address,
            d.destination.port,
            d.destination.forward,
            d.destination.weight,
        )
    };
    for (b, f) in brief.iter().zip(&full) {
        assert_eq!(b.service, f.service);
        let mut from_brief: Vec<_> = b.destinations.iter().map(listed).collect();
        let mut from_full: Vec<_> = f.destinations.iter().map(listed).collect();
        from_brief.sort();
        from_full.sort();
        assert_eq!(from_brief, from_full, "{}", f.service);
    }
}

/// Stops a churning thread when dropped, also when the test fails.
struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Adds `count` TCP services on 10.`net`.x.y:80 in one batch.
fn add_services(ipvs: &Ipvs, net: u8, count: u16) -> std::collections::BTreeSet<ServiceKey> {
    let keys: Vec<ServiceKey> = (0..count)
        .map(|i| ServiceKey::tcp(v4(10, net, (i / 200) as u8, (i % 200) as u8 + 1), 80))
        .collect();
    let adds: Vec<Change> = keys
        .iter()
        .map(|k| Change::AddService(Service::new(*k)))
        .collect();
    assert!(
        ipvs.apply_changes(&adds)
            .expect("batch")
            .iter()
            .all(Result::is_ok)
    );
    keys.into_iter().collect()
}

fn keys_of<'a>(
    services: impl IntoIterator<Item = &'a ipvs::ServiceInfo>,
) -> std::collections::BTreeSet<ServiceKey> {
    services.into_iter().map(|s| s.service.key).collect()
}

#[test]
fn listings_are_whole_when_other_namespaces_have_services() {
    let ipvs = setup();
    let want = add_services(&ipvs, 50, 400);
    for key in &want {
        let rs = Destination::new(v4(192, 0, 2, 1), 80, ForwardMethod::Masq);
        ipvs.add_destination(key, &rs).expect("real server");
    }
    let other = netns::Namespace::new("neighbour").expect("namespace");
    let theirs = Ipvs::in_namespace(other.path()).expect("handle there");
    add_services(&theirs, 51, 300);
    // The kernel's /proc/net/ip_vs miscounts its position across reads when
    // other namespaces have services: it leaves some of ours out.
    let text = std::fs::read_to_string("/proc/thread-self/net/ip_vs").expect("read");
    let listed = text.lines().filter(|l| l.starts_with("TCP ")).count();
    assert!(
        listed < 400,
        "the file listed all {listed}: nothing to show"
    );
    // The listings built on it are whole nonetheless.
    let full = ipvs.table().expect("table");
    assert_eq!(keys_of(&full), want);
    let brief = brief_table(&ipvs).expect("brief table");
    assert_eq!(brief.len(), 400);
    for b in &brief {
        let f = full
            .iter()
            .find(|f| f.service.key == b.service.key)
            .expect("the same service");
        let from_brief: Vec<_> = b.destinations.iter().map(brief_of).collect();
        let from_full: Vec<_> = f.destinations.iter().map(brief_of).collect();
        assert_eq!(from_brief, from_full, "{}", f.service);
    }
    let settled = settled_table(&ipvs).expect("settled table");
    assert_eq!((settled.len(), keys_of(&settled)), (400, want));
    println!("/proc/net/ip_vs listed {listed} of 400");
}

#[test]
fn settled_table_misses_less_than_a_dump_while_another_namespace_changes() {
    let ipvs = setup();
    let want = add_services(&ipvs, 52, 400);
    let other = netns::Namespace::new("churn").expect("namespace");
    // Another program adds and deletes services in its own namespace.
    let stop = StopOnDrop(Arc::new(std::sync::atomic::AtomicBool::new(false)));
    let churner = {
        let theirs = Ipvs::in_namespace(other.path()).expect("handle there");
        let stop = stop.0.clone();
        std::thread::spawn(move || {
            let mut changes = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for i in 0..50u8 {
                    let key = ServiceKey::tcp(v4(10, 53, 0, i + 1), 80);
                    changes += usize::from(theirs.add_service(&Service::new(key)).is_ok());
                }
                for i in 0..50u8 {
                    let key = ServiceKey::tcp(v4(10, 53, 0, i + 1), 80);
                    changes += usize::from(theirs.delete_service(&key).is_ok());
                }
            }
            changes
        })
    };
    let rounds = 40;
    // Services missed in all, by a dump, settled_table and brief_table.
    let mut missed = [0usize; 3];
    for _ in 0..rounds {
        let dumped: Vec<ServiceKey> = ipvs
            .services()
            .expect("dump")
            .iter()
            .map(|s| s.service.key)
            .collect();
        let settled: Vec<ServiceKey> = settled_table(&ipvs)
            .expect("settled table")
            .iter()
            .map(|s| s.service.key)
            .collect();
        let brief: Vec<ServiceKey> = brief_table(&ipvs)
            .expect("brief table")
            .iter()
            .map(|b| b.service.key)
            .collect();
        for (n, (what, list)) in [("dump", dumped), ("settled", settled), ("brief", brief)]
            .into_iter()
            .enumerate()
        {
            let unique: std::collections::BTreeSet<ServiceKey> = list.iter().copied().collect();
            assert_eq!(unique.len(), list.len(), "{what}: a service listed twice");
            assert!(
                unique.is_subset(&want),
                "{what}: a service that is not there"
            );
            missed[n] += want.len() - unique.len();
        }
    }
    drop(stop);
    let changes = churner.join().expect("churner");
    assert!(
        changes > 1000,
        "the other namespace changed ({changes} changes)"
    );
    // How many services each missed in all (it varies with timing).
    println!(
        "{rounds} rounds, {changes} changes elsewhere: services missed by a dump {}, \
         by settled_table {}, by brief_table {}",
        missed[0], missed[1], missed[2]
    );
}
