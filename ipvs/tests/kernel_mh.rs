//! The `mh` scheduler on the real kernel (issue 15): does its choice of real
//! server depend on the history of adds and deletes, and does the library's
//! model (`ipvs::mh`) choose as the kernel does?
//!
//! One director namespace holds many UDP services scheduled by `mh`, each
//! built by its own history; a client namespace sends one UDP packet from
//! each of 10,000 source addresses (a raw socket writes the addresses) to
//! every service, and the kernel's connection table
//! (`/proc/net/ip_vs_conn`, through `Ipvs::connections`) says which real
//! server each client got. Real servers are routed to a dummy link, so the
//! packets go nowhere once scheduled. Runs in the test VM.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use ipvs::mh::{self, Server, Table};
use ipvs::{Destination, ForwardMethod, Ipvs, SchedFlags, Scheduler, Service, ServiceKey};
use testbed::netns;

/// Client source addresses: 10,000 of 10.100.0.0/16, spread over it.
const CLIENTS: u32 = 10_000;
const VPORT: u16 = 5000;

fn client(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a64_0000 + i * 6 + 1)
}

/// Each client's source port (read by the kernel only with `mh-port`).
fn client_port(i: u32) -> u16 {
    // 1024..=60999, a different one for neighbouring clients.
    1024 + ((i * 7919) % 59_976) as u16
}

fn real_server(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, n))
}

/// One step of a service's history.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Add real server n with a weight.
    Add(u8, u32),
    /// Delete real server n.
    Delete(u8),
    /// Edit real server n's weight.
    Weight(u8, u32),
}

struct Case {
    name: String,
    flags: SchedFlags,
    history: Vec<Step>,
}

fn adds(order: impl IntoIterator<Item = u8>) -> Vec<Step> {
    order.into_iter().map(|n| Step::Add(n, 1)).collect()
}

/// The three histories of the order experiment for `n` real servers of
/// weight 1: added in order; the same, then #2 deleted and added again;
/// added in reverse order.
fn histories(n: u8) -> [Case; 3] {
    let mut readd = adds(1..=n);
    readd.extend([Step::Delete(2), Step::Add(2, 1)]);
    [
        Case {
            name: format!("{n} servers, added 1..{n}"),
            flags: SchedFlags::NONE,
            history: adds(1..=n),
        },
        Case {
            name: format!("{n} servers, added 1..{n}, #2 deleted and re-added"),
            flags: SchedFlags::NONE,
            history: readd,
        },
        Case {
            name: format!("{n} servers, added {n}..1"),
            flags: SchedFlags::NONE,
            history: adds((1..=n).rev()),
        },
    ]
}

/// Services of other shapes, for the model's agreement.
fn variants() -> Vec<Case> {
    use Step::{Add, Weight};
    vec![
        Case {
            name: "weights 1, 2, 3, 4".into(),
            flags: SchedFlags::NONE,
            history: vec![Add(1, 1), Add(2, 2), Add(3, 3), Add(4, 4)],
        },
        Case {
            name: "#3 added with weight 0".into(),
            flags: SchedFlags::NONE,
            history: vec![Add(1, 1), Add(2, 1), Add(3, 0), Add(4, 1)],
        },
        Case {
            name: "#2 drained to 0, no fallback".into(),
            flags: SchedFlags::NONE,
            history: vec![Add(1, 1), Add(2, 2), Add(3, 1), Add(4, 1), Weight(2, 0)],
        },
        Case {
            name: "#2 drained to 0, mh-fallback".into(),
            flags: SchedFlags::FALLBACK,
            history: vec![Add(1, 1), Add(2, 2), Add(3, 1), Add(4, 1), Weight(2, 0)],
        },
        Case {
            name: "mh-port".into(),
            flags: SchedFlags::PORT,
            history: vec![Add(1, 1), Add(2, 1), Add(3, 2), Add(4, 1)],
        },
        Case {
            name: "mh-fallback,mh-port, #1 drained".into(),
            flags: SchedFlags::FALLBACK | SchedFlags::PORT,
            history: vec![Add(1, 1), Add(2, 1), Add(3, 1), Weight(1, 0)],
        },
        Case {
            name: "big weights 1, 1000, 65535, 50 (shifted)".into(),
            flags: SchedFlags::NONE,
            history: vec![Add(1, 1), Add(2, 1000), Add(3, 65535), Add(4, 50)],
        },
        Case {
            name: "weights edited 1 -> 5, 1 -> 2, 3 -> 0 -> 3".into(),
            flags: SchedFlags::NONE,
            history: vec![
                Add(1, 1),
                Add(2, 1),
                Add(3, 3),
                Add(4, 1),
                Weight(1, 5),
                Weight(2, 2),
                Weight(3, 0),
                Weight(3, 3),
            ],
        },
        Case {
            name: "drained to 0 then weight 4 (last weight replaced)".into(),
            flags: SchedFlags::NONE,
            history: vec![Add(1, 2), Add(2, 2), Add(3, 2), Weight(1, 0), Weight(1, 4)],
        },
    ]
}

fn vip(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 88, 0, 1 + index as u8)
}

fn destination(n: u8, weight: u32) -> Destination {
    Destination::new(real_server(n), VPORT, ForwardMethod::Route).with_weight(weight)
}

/// Builds `case` on the kernel as service `key`, and the model's servers:
/// the kernel's list as `Ipvs::destinations` gives it (head first), each
/// server's last weight followed through the history (the listing does not
/// show it).
fn build(ipvs: &Ipvs, key: &ServiceKey, case: &Case) -> Vec<Server> {
    ipvs.add_service(
        &Service::new(*key)
            .with_scheduler(Scheduler::MaglevHashing)
            .with_sched_flags(case.flags),
    )
    .expect("add the service");
    let mut last_weight: HashMap<IpAddr, u32> = HashMap::new();
    for step in &case.history {
        match *step {
            Step::Add(n, w) => {
                ipvs.add_destination(key, &destination(n, w))
                    .expect("add a real server");
                last_weight.insert(real_server(n), w);
            }
            Step::Delete(n) => ipvs
                .delete_destination(key, real_server(n), VPORT)
                .expect("delete a real server"),
            Step::Weight(n, w) => {
                ipvs.update_destination(key, &destination(n, w))
                    .expect("edit a weight");
                if w != 0 {
                    last_weight.insert(real_server(n), w);
                }
            }
        }
    }
    ipvs.destinations(key)
        .expect("list the real servers")
        .iter()
        .map(|d| {
            let d = &d.destination;
            let last = last_weight.get(&d.address).copied().unwrap_or(d.weight);
            Server::new(d.address, d.port, last).with_weight(d.weight)
        })
        .collect()
}

/// A raw IPv4 socket of the calling thread's namespace that writes whole
/// packets (`IPPROTO_RAW` implies `IP_HDRINCL`).
struct RawSender(i32);

impl RawSender {
    fn new() -> Self {
        // SAFETY: plain socket(2).
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
        assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
        Self(fd)
    }

    /// One UDP packet (no payload, no checksum) from `src` to `dst`; the
    /// kernel fills in the IP header's length, checksum and id.
    fn udp(&self, src: SocketAddrV4, dst: SocketAddrV4) -> bool {
        let mut p = [0u8; 28];
        p[0] = 0x45; // version 4, header of 5 words
        p[2..4].copy_from_slice(&28u16.to_be_bytes());
        p[8] = 64; // TTL
        p[9] = 17; // UDP
        p[12..16].copy_from_slice(&src.ip().octets());
        p[16..20].copy_from_slice(&dst.ip().octets());
        p[20..22].copy_from_slice(&src.port().to_be_bytes());
        p[22..24].copy_from_slice(&dst.port().to_be_bytes());
        p[24..26].copy_from_slice(&8u16.to_be_bytes());
        let sa = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(*dst.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: the buffer and the address outlive the call.
        let n = unsafe {
            libc::sendto(
                self.0,
                p.as_ptr().cast(),
                p.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        n == p.len() as isize
    }
}

impl Drop for RawSender {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours.
        unsafe { libc::close(self.0) };
    }
}

/// What the kernel chose: for each service (by VIP) and client address,
/// the real server.
type Choices = HashMap<Ipv4Addr, HashMap<Ipv4Addr, IpAddr>>;

fn read_choices(ipvs: &Ipvs) -> Choices {
    let mut out: Choices = HashMap::new();
    for c in ipvs.connections().expect("the connection table") {
        let (SocketAddr::V4(v), SocketAddr::V4(cl)) = (c.virtual_address, c.client) else {
            continue;
        };
        let previous = out
            .entry(*v.ip())
            .or_default()
            .insert(*cl.ip(), c.destination.ip());
        assert!(
            previous.is_none() || previous == Some(c.destination.ip()),
            "{cl} has two connections to {v} on different real servers"
        );
    }
    out
}

/// Sends every client to every VIP until each has a connection or
/// `rounds` rounds have passed (a client the kernel gives no real server
/// never gets one); returns the kernel's choices.
fn probe(ipvs: &Ipvs, client_ns: &netns::Namespace, vips: &[Ipv4Addr], rounds: usize) -> Choices {
    let mut choices = Choices::new();
    for round in 0..rounds {
        let missing: Vec<(Ipv4Addr, u32)> = vips
            .iter()
            .flat_map(|v| (0..CLIENTS).map(move |i| (*v, i)))
            .filter(|(v, i)| !choices.get(v).is_some_and(|m| m.contains_key(&client(*i))))
            .collect();
        if missing.is_empty() {
            break;
        }
        let t = Instant::now();
        let sent = client_ns
            .run(|| {
                let raw = RawSender::new();
                missing
                    .iter()
                    .filter(|(v, i)| {
                        raw.udp(
                            SocketAddrV4::new(client(*i), client_port(*i)),
                            SocketAddrV4::new(*v, VPORT),
                        )
                    })
                    .count()
            })
            .expect("send from the client namespace");
        let sending = t.elapsed();
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        choices = read_choices(ipvs);
        let reading = t.elapsed();
        let have: usize = choices.values().map(HashMap::len).sum();
        eprintln!(
            "round {round}: sent {sent} of {} missing ({sending:?}); {have} connections (read in {reading:?})",
            missing.len()
        );
    }
    choices
}

/// The network of one service: a director namespace (VIPs 10.88.0.0/24
/// local, real servers 10.99.0.0/16 routed into a dummy link) linked to a
/// client namespace that routes everything to it. A namespace of its own per
/// service keeps the connection table small (the kernel's listing of it
/// restarts its walk of the whole table every 4 KiB it reads) and empties it
/// when dropped.
fn network() -> (netns::Namespace, netns::Namespace) {
    let dir = netns::Namespace::new("mhdir").expect("director namespace");
    let client = netns::Namespace::new("mhcli").expect("client namespace");
    for args in [
        &[
            "link", "add", "dir0", "type", "veth", "peer", "name", "cli0",
        ][..],
        &["link", "set", "dir0", "netns", dir.name()],
        &["link", "set", "cli0", "netns", client.name()],
    ] {
        netns::ip(args).expect("link");
    }
    for args in [
        &["addr", "add", "10.77.0.1/24", "dev", "dir0"][..],
        &["link", "set", "dir0", "up"],
        &["route", "add", "local", "10.88.0.0/24", "dev", "lo"],
        &["route", "add", "10.100.0.0/16", "via", "10.77.0.2"],
        &["link", "add", "rs0", "type", "dummy"],
        &["link", "set", "rs0", "up"],
        &["route", "add", "10.99.0.0/16", "dev", "rs0"],
    ] {
        dir.ip(args).expect("director network");
    }
    for key in ["all", "default", "dir0"] {
        dir.sysctl(&format!("net/ipv4/conf/{key}/rp_filter"), "0")
            .expect("rp_filter");
    }
    for args in [
        &["addr", "add", "10.77.0.2/24", "dev", "cli0"][..],
        &["link", "set", "cli0", "up"],
        &["route", "add", "default", "via", "10.77.0.1"],
    ] {
        client.ip(args).expect("client network");
    }
    (dir, client)
}

/// Clients whose real server differs between two services.
fn moved(choices: &Choices, a: Ipv4Addr, b: Ipv4Addr) -> usize {
    let (a, b) = (&choices[&a], &choices[&b]);
    (0..CLIENTS)
        .map(client)
        .filter(|c| a.get(c) != b.get(c))
        .count()
}

/// How many clients the model places as the kernel did (a client without
/// a connection is one the kernel gave no real server).
fn agreement(table: &Table, kernel: &HashMap<Ipv4Addr, IpAddr>) -> usize {
    (0..CLIENTS)
        .filter(|&i| {
            let c = client(i);
            let model = table
                .server_for(IpAddr::V4(c), client_port(i))
                .map(|s| s.address);
            model == kernel.get(&c).copied()
        })
        .count()
}

#[test]
fn mh_choice_depends_on_list_order_and_the_model_agrees_with_the_kernel() {
    let started = Instant::now();
    netns::enter_fresh();

    let mut cases: Vec<Case> = Vec::new();
    for n in [4, 8, 16] {
        cases.extend(histories(n));
    }
    cases.extend(variants());

    let mut servers = Vec::new();
    let mut choices = Choices::new();
    let vips: Vec<Ipv4Addr> = (0..cases.len()).map(vip).collect();
    for (i, case) in cases.iter().enumerate() {
        let t0 = Instant::now();
        let (dir, client_ns) = network();
        let ipvs = Ipvs::in_namespace(dir.path()).expect("a handle in the director");
        let key = ServiceKey::udp(IpAddr::V4(vips[i]), VPORT);
        let t1 = Instant::now();
        servers.push(build(&ipvs, &key, case));
        let t2 = Instant::now();
        choices.extend(probe(&ipvs, &client_ns, &vips[i..=i], 4));
        let t3 = Instant::now();
        drop((ipvs, dir, client_ns));
        eprintln!(
            "{}: network {:?}, build {:?}, probe {:?}, teardown {:?}",
            case.name,
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t3.elapsed()
        );
    }
    let empty = HashMap::new();

    // The order experiment: list orders, and clients that moved.
    println!("order experiment ({CLIENTS} clients, weights 1, no flags):");
    for (size_index, n) in [4u8, 8, 16].into_iter().enumerate() {
        let base = size_index * 3;
        let orders: Vec<String> = servers[base..base + 3]
            .iter()
            .map(|list| {
                list.iter()
                    .map(|s| match s.address {
                        IpAddr::V4(a) => a.octets()[3].to_string(),
                        IpAddr::V6(a) => a.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        // The kernel's list is newest first.
        let added: Vec<String> = (1..=n).rev().map(|x| x.to_string()).collect();
        assert_eq!(orders[0], added.join(","), "list order after adds 1..{n}");
        assert_ne!(orders[0], orders[1], "a re-add moves #2 to the head");
        let readd = moved(&choices, vips[base], vips[base + 1]);
        let reverse = moved(&choices, vips[base], vips[base + 2]);
        println!(
            "  {n:>2} servers: lists [{}] [{}] [{}]",
            orders[0], orders[1], orders[2]
        );
        println!(
            "  {n:>2} servers: clients moved by re-adding #2: {readd}; by the reverse add order: {reverse}"
        );
        assert!(
            readd > 0 && reverse > 0,
            "order dependence (kernel): {n} servers"
        );
        // The same real servers, the same weights: only the order differs,
        // and the model, given the order, predicts each move.
        for k in [1, 2] {
            let a = Table::new(&servers[base], SchedFlags::NONE).expect("model");
            let b = Table::new(&servers[base + k], SchedFlags::NONE).expect("model");
            let predicted = (0..CLIENTS)
                .map(client)
                .filter(|&c| a.server_for(IpAddr::V4(c), 0) != b.server_for(IpAddr::V4(c), 0))
                .count();
            let observed = moved(&choices, vips[base], vips[base + k]);
            assert_eq!(
                predicted, observed,
                "moves predicted, {n} servers, history {k}"
            );
        }
    }

    // The model against the kernel, client by client.
    println!(
        "model agreement (table size {}):",
        mh::table_size(mh::DEFAULT_SIZE_INDEX).unwrap_or(0)
    );
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let kernel = choices.get(&vips[i]).unwrap_or(&empty);
        let table = Table::new(&servers[i], case.flags).expect("model");
        let agree = agreement(&table, kernel);
        let none = (0..CLIENTS)
            .filter(|&c| !kernel.contains_key(&client(c)))
            .count();
        println!(
            "  {:<55} {agree}/{CLIENTS} agree ({none} clients without a real server)",
            case.name
        );
        if agree < CLIENTS as usize {
            // Which table size would have agreed? (A kernel built with
            // another CONFIG_IP_VS_MH_TAB_INDEX.)
            let other: Vec<String> = mh::SIZE_INDEXES
                .map(|x| {
                    let t = Table::with_size_index(&servers[i], case.flags, x).expect("model");
                    format!("{x}: {}", agreement(&t, kernel))
                })
                .collect();
            failures.push(format!(
                "{}: {agree} (by size index {})",
                case.name,
                other.join(", ")
            ));
        }
    }
    // The drained services without fallback must really leave clients out,
    // and every other service must place every client.
    for (i, case) in cases.iter().enumerate() {
        let placed = choices.get(&vips[i]).map_or(0, HashMap::len);
        if case.name.contains("no fallback") {
            assert!(
                placed > 0 && placed < CLIENTS as usize,
                "{}: {placed}",
                case.name
            );
        } else {
            assert_eq!(
                placed, CLIENTS as usize,
                "{}: every client placed",
                case.name
            );
        }
    }
    assert!(failures.is_empty(), "the model disagrees: {failures:#?}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
}

/// The kernel's list of `key`, head first, as the model's servers (after an
/// apply that added every real server with its weight, the last weights
/// are the weights).
fn listed(ipvs: &Ipvs, key: &ServiceKey) -> Vec<Server> {
    ipvs.destinations(key)
        .expect("list the real servers")
        .iter()
        .map(|d| Server::from(&d.destination))
        .collect()
}

/// The last bytes of the servers' addresses, in list order.
fn hosts(list: &[Server]) -> Vec<u8> {
    list.iter()
        .map(|s| match s.address {
            IpAddr::V4(a) => a.octets()[3],
            IpAddr::V6(_) => 0,
        })
        .collect()
}

/// Clients that two tables (of two directors) place on different servers,
/// by the model.
fn model_moved(a: &[Server], b: &[Server]) -> usize {
    let a = Table::new(a, SchedFlags::NONE).expect("model");
    let b = Table::new(b, SchedFlags::NONE).expect("model");
    (0..CLIENTS)
        .filter(|&i| {
            let c = IpAddr::V4(client(i));
            let port = client_port(i);
            a.server_for(c, port).map(|s| s.address) != b.server_for(c, port).map(|s| s.address)
        })
        .count()
}

/// Issue 15, part 2: two directors (here two services of one director, each
/// standing for one) with the same eight real servers but another history
/// send some clients to different real servers; an apply with the canonical
/// order puts both lists in one order, and then every client goes to the
/// same real server on both. Each phase is a fresh director namespace, so
/// that the kernel's choices come from new connections.
#[test]
fn canonical_order_makes_two_histories_choose_alike() {
    use ipvs::{ApplyOptions, DesiredState, DiffOptions, ServiceSpec, Step as PlanStep};
    netns::enter_fresh();
    let mut readded = adds((1..=8).rev());
    readded.extend([
        Step::Delete(2),
        Step::Add(2, 1),
        Step::Delete(6),
        Step::Add(6, 1),
    ]);
    let cases = [
        Case {
            name: "added 1..8".into(),
            flags: SchedFlags::NONE,
            history: adds(1..=8),
        },
        Case {
            name: "added 8..1, #2 and #6 deleted and re-added".into(),
            flags: SchedFlags::NONE,
            history: readded,
        },
    ];
    let vips = [vip(0), vip(1)];
    let keys = vips.map(|v| ServiceKey::udp(IpAddr::V4(v), VPORT));
    let desired = DesiredState::new(
        keys.iter()
            .map(|k| {
                ServiceSpec::new(
                    Service::new(*k).with_scheduler(Scheduler::MaglevHashing),
                    (1..=8).map(|n| destination(n, 1)).collect(),
                )
            })
            .collect(),
    );
    let canonical = DiffOptions::default().with_canonical_order(true);
    for applied in [false, true] {
        let phase = if applied {
            "after apply --canonical-order"
        } else {
            "before"
        };
        let (dir, client_ns) = network();
        let ipvs = Ipvs::in_namespace(dir.path()).expect("a handle in the director");
        let mut lists: Vec<Vec<Server>> = keys
            .iter()
            .zip(&cases)
            .map(|(key, case)| build(&ipvs, key, case))
            .collect();
        if applied {
            // Without the option, nothing differs.
            assert!(
                ipvs.plan(&desired, &DiffOptions::default())
                    .expect("plan")
                    .is_empty()
            );
            let report = ipvs
                .apply(
                    &desired,
                    &ApplyOptions::default().with_diff(canonical.clone()),
                )
                .expect("apply");
            assert!(report.is_success(), "{report:?}");
            let reorders = report
                .applied
                .iter()
                .filter(|s| matches!(s, PlanStep::ReorderDelete { .. }))
                .count();
            eprintln!(
                "{phase}: {} steps applied, {reorders} real servers deleted and added again",
                report.applied.len()
            );
            assert!(reorders > 0);
            lists = keys.iter().map(|k| listed(&ipvs, k)).collect();
            assert!(ipvs.plan(&desired, &canonical).expect("plan").is_empty());
        }
        for (case, list) in cases.iter().zip(&lists) {
            eprintln!("{phase}: {}: list {:?}", case.name, hosts(list));
        }
        let by_model = model_moved(&lists[0], &lists[1]);
        let choices = probe(&ipvs, &client_ns, &vips, 4);
        let by_kernel = moved(&choices, vips[0], vips[1]);
        let empty = HashMap::new();
        let agree: Vec<usize> = lists
            .iter()
            .zip(&vips)
            .map(|(list, v)| {
                let table = Table::new(list, SchedFlags::NONE).expect("model");
                agreement(&table, choices.get(v).unwrap_or(&empty))
            })
            .collect();
        eprintln!(
            "{phase}: of {CLIENTS} clients, placed differently by the two: {by_model} (model), {by_kernel} (kernel); model agrees with the kernel on {agree:?}"
        );
        assert_eq!(agree, [CLIENTS as usize; 2], "{phase}: model and kernel");
        if applied {
            let canonical_hosts: Vec<u8> = (1..=8).collect();
            for list in &lists {
                assert_eq!(hosts(list), canonical_hosts, "the listing is canonical");
            }
            assert_eq!((by_model, by_kernel), (0, 0), "{phase}");
        } else {
            assert!(by_model > 0 && by_kernel > 0, "{phase}");
        }
        drop((ipvs, dir, client_ns));
    }
}
