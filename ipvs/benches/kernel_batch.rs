//! Pipelined batches against one request at a time, on the real kernel:
//! about 20,000 changes applied both ways in the same VM, alternating which
//! goes first in each round. Four workloads: building a table (200 services
//! with 100 real servers each), re-weighting every real server of it (what a
//! health checker or a control-plane sync does), tearing it down, and 20,000
//! counter resets (a request the kernel does almost nothing for, which shows
//! what pipelining saves when the kernel's own work does not dominate).
//!
//! ```text
//! cargo bench --bench kernel_batch            # runs in the test VM
//! IPVS_RS_BENCH_ROUNDS=9 cargo bench --bench kernel_batch
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ipvs::{Change, Destination, ForwardMethod, Ipvs, Service, ServiceKey};

const SERVICES: u16 = 200;
const SERVERS_PER_SERVICE: u16 = 100;

fn key(s: u16) -> ServiceKey {
    ServiceKey::tcp(
        Ipv4Addr::new(10, 50, (s / 250) as u8, (s % 250) as u8 + 1),
        80,
    )
}

fn server(r: u16) -> Destination {
    let addr = IpAddr::V4(Ipv4Addr::new(10, 60, (r / 250) as u8, (r % 250) as u8 + 1));
    Destination::new(addr, 80, ForwardMethod::Route)
}

/// 200 services with 100 real servers each: 20,200 additions.
fn build() -> Vec<Change> {
    let mut out = Vec::new();
    for s in 0..SERVICES {
        out.push(Change::AddService(Service::new(key(s))));
        out.extend((0..SERVERS_PER_SERVICE).map(|r| Change::AddDestination(key(s), server(r))));
    }
    out
}

/// A new weight for every real server: 20,000 edits.
fn reweight() -> Vec<Change> {
    (0..SERVICES)
        .flat_map(|s| {
            (0..SERVERS_PER_SERVICE).map(move |r| {
                Change::EditDestination(key(s), server(r).with_weight(2 + u32::from(r % 5)))
            })
        })
        .collect()
}

/// 20,000 counter resets spread over 200 services without real servers.
fn zero() -> Vec<Change> {
    (0..20_000u16)
        .map(|i| Change::ZeroService(key(i % SERVICES)))
        .collect()
}

/// Every real server deleted (20,000), then every service (200).
fn teardown() -> Vec<Change> {
    let mut out = Vec::new();
    for s in 0..SERVICES {
        out.extend((0..SERVERS_PER_SERVICE).map(|r| {
            let d = server(r);
            Change::DeleteDestination {
                service: key(s),
                address: d.address,
                port: d.port,
            }
        }));
    }
    out.extend((0..SERVICES).map(|s| Change::DeleteService(key(s))));
    out
}

/// One request and one acknowledgement per change, as every peer library does.
fn one_at_a_time(ipvs: &Ipvs, changes: &[Change]) -> Duration {
    let start = Instant::now();
    for change in changes {
        let result = match change {
            Change::AddService(s) => ipvs.add_service(s),
            Change::EditService(s) => ipvs.update_service(s),
            Change::DeleteService(k) => ipvs.delete_service(k),
            Change::AddDestination(k, d) => ipvs.add_destination(k, d),
            Change::EditDestination(k, d) => ipvs.update_destination(k, d),
            Change::DeleteDestination {
                service,
                address,
                port,
            } => ipvs.delete_destination(service, *address, *port),
            Change::ZeroService(k) => ipvs.zero_service(k),
            other => panic!("unexpected change {other}"),
        };
        if let Err(e) = result {
            panic!("{change}: {e}");
        }
    }
    start.elapsed()
}

fn pipelined(ipvs: &Ipvs, changes: &[Change]) -> Duration {
    let start = Instant::now();
    let outcomes = ipvs.apply_changes(changes).expect("the batch exchange");
    let elapsed = start.elapsed();
    assert!(outcomes.iter().all(Result::is_ok), "every change applied");
    elapsed
}

/// A handle in a new, empty namespace. Every run gets one: deleted real
/// servers stay in a per-namespace trash for a minute, and adding a real
/// server scans that trash, so a second run in the same namespace would be
/// slower. The old namespace is kept (`keep`) so that its teardown does not
/// run, and take the kernel's IPVS mutex, during a later measurement.
fn fresh_handle(keep: &mut Vec<std::fs::File>) -> Ipvs {
    keep.push(std::fs::File::open("/proc/thread-self/ns/net").expect("namespace file"));
    testbed::netns::enter_fresh();
    Ipvs::new().expect("a handle")
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Measures `workload` both ways, alternating, each run in a fresh namespace
/// prepared by `setup` (untimed); `check` verifies the result.
fn measure(
    name: &str,
    rounds: usize,
    keep: &mut Vec<std::fs::File>,
    setup: &[Change],
    workload: &[Change],
    check: impl Fn(&Ipvs),
) -> f64 {
    let (mut single, mut batch) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so drift in the machine hits both alike.
        let order: [bool; 2] = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for pipelined_now in order {
            let ipvs = fresh_handle(keep);
            if !setup.is_empty() {
                pipelined(&ipvs, setup);
            }
            let t = if pipelined_now {
                pipelined(&ipvs, workload)
            } else {
                one_at_a_time(&ipvs, workload)
            };
            check(&ipvs);
            ipvs.flush().expect("flush");
            if pipelined_now {
                batch.push(t)
            } else {
                single.push(t)
            }
        }
        println!(
            "{name} round {}: one at a time {:>8.1} ms, pipelined {:>8.1} ms",
            round + 1,
            single[round].as_secs_f64() * 1e3,
            batch[round].as_secs_f64() * 1e3
        );
    }
    let (s, b) = (median(&mut single), median(&mut batch));
    let ratio = s.as_secs_f64() / b.as_secs_f64();
    println!(
        "{name}: {} changes; median one at a time {:.1} ms ({:.0}/s), pipelined {:.1} ms ({:.0}/s): pipelined {:.1}x faster",
        workload.len(),
        s.as_secs_f64() * 1e3,
        workload.len() as f64 / s.as_secs_f64(),
        b.as_secs_f64() * 1e3,
        workload.len() as f64 / b.as_secs_f64(),
        ratio
    );
    ratio
}

fn main() {
    // cargo bench passes --bench; there is nothing to filter.
    let mut keep = Vec::new();
    let rounds: usize = std::env::var("IPVS_RS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    println!("kernel_batch: {rounds} rounds per workload, each run in a fresh network namespace");
    let full = |ipvs: &Ipvs| {
        let table = ipvs.table().expect("table");
        assert_eq!(table.len(), SERVICES as usize);
        assert!(
            table
                .iter()
                .all(|s| s.destinations.len() == SERVERS_PER_SERVICE as usize)
        );
    };
    let (build, reweight, teardown) = (build(), reweight(), teardown());
    measure("build", rounds, &mut keep, &[], &build, full);
    measure("reweight", rounds, &mut keep, &build, &reweight, |ipvs| {
        let table = ipvs.table().expect("table");
        assert!(
            table
                .iter()
                .flat_map(|s| &s.destinations)
                .all(|d| d.destination.weight >= 2)
        );
    });
    measure("teardown", rounds, &mut keep, &build, &teardown, |ipvs| {
        assert!(ipvs.services().expect("list").is_empty());
    });
    let services_only: Vec<Change> = build
        .iter()
        .filter(|c| matches!(c, Change::AddService(_)))
        .cloned()
        .collect();
    measure("zero", rounds, &mut keep, &services_only, &zero(), |ipvs| {
        assert_eq!(ipvs.services().expect("list").len(), SERVICES as usize);
    });
}
