//! The lab's steps, in order: NAT with round robin, weighted round robin and
//! least connections; the counters; draining a real server; a failed real
//! server taken out by the health checker and back when it recovers; direct
//! routing; two directors with the connection sync daemon, and a failover.
//! Each step records what it expected and what it saw.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use testbed::http::HeldRequest;

use super::report::{Report, StepResult};
use super::topology::{
    Director, GATEWAY, Lab, REAL_SERVERS, SERVICE, rs_internal, rs_lan, show_counts,
};

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect()
}

fn record(
    report: &mut Report,
    lab: &mut Lab,
    name: &str,
    expected: String,
    observed: String,
    passed: bool,
) {
    let verdict = if passed { "PASS" } else { "FAIL" };
    lab.log_line(&format!(
        "  => {verdict}: {name} (expected {expected}, observed {observed})"
    ));
    report.steps.push(StepResult {
        name: name.to_owned(),
        expected,
        observed,
        passed,
    });
}

/// A distribution step: `n` requests must give exactly `want`.
fn distribution(
    report: &mut Report,
    lab: &mut Lab,
    name: &str,
    n: usize,
    want: &[(&str, usize)],
) -> io::Result<()> {
    let got = lab.requests(n)?;
    let want = counts(want);
    let passed = got == want;
    record(
        report,
        lab,
        name,
        show_counts(&want),
        show_counts(&got),
        passed,
    );
    Ok(())
}

/// The NAT service on `d`: round robin over the three real servers.
fn nat_service(lab: &mut Lab, d: Director) -> io::Result<()> {
    lab.ipvsadm(d, &["-A", "-t", SERVICE, "-s", "rr"])?;
    for i in 0..3 {
        lab.ipvsadm(
            d,
            &[
                "-a",
                "-t",
                SERVICE,
                "-r",
                &format!("{}:80", rs_internal(i)),
                "-m",
            ],
        )?;
    }
    Ok(())
}

/// Sets real server `i`'s weight on dir1's NAT service, as an operator would.
fn set_weight(lab: &mut Lab, i: usize, weight: u32) -> io::Result<()> {
    let server = format!("{}:80", rs_internal(i));
    let weight = weight.to_string();
    lab.ipvsadm(
        Director::One,
        &["-e", "-t", SERVICE, "-r", &server, "-m", "-w", &weight],
    )?;
    Ok(())
}

/// Polls `check` every 200 ms until it holds or `limit` passes.
fn wait_for(limit: Duration, mut check: impl FnMut() -> io::Result<bool>) -> io::Result<bool> {
    let start = Instant::now();
    loop {
        if check()? {
            return Ok(true);
        }
        if start.elapsed() > limit {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One number column of the real-server lines of an `ipvsadm-rs -Ln`
/// listing, by real server name (column 1 is the address, counted from 0).
fn column_per_server(listing: &str, column: usize) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in listing.lines().filter(|l| l.starts_with("  -> ")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(addr), Some(value)) = (
            fields.get(1),
            fields.get(column).and_then(|c| c.parse().ok()),
        ) else {
            continue;
        };
        let host = addr.split(':').next().unwrap_or(addr);
        if let Some(i) = (0..3).find(|i| rs_internal(*i) == host || rs_lan(*i) == host) {
            out.insert(REAL_SERVERS[i].to_owned(), value);
        }
    }
    out
}

/// Waits (10 s at most) for the health checker to set rs3's weight, and records it.
fn rs3_weight_becomes(r: &mut Report, lab: &mut Lab, name: &str, weight: u32) -> io::Result<()> {
    let rule = format!("-r {}:80 -m -w {weight}\n", rs_internal(2));
    let done = wait_for(Duration::from_secs(10), || {
        Ok(lab.ipvsadm(Director::One, &["-Sn"])?.contains(&rule))
    })?;
    let observed = if done {
        format!("weight {weight}")
    } else {
        "weight unchanged".to_owned()
    };
    record(
        r,
        lab,
        name,
        format!("weight {weight} within 10 s"),
        observed,
        done,
    );
    Ok(())
}

/// Runs every step on `lab` (built in NAT with dir1 active), in order.
///
/// # Errors
/// When the lab cannot do a step at all (a command fails); a step that
/// runs but does not behave is a failed result in the report instead.
pub fn run_all(lab: &mut Lab) -> io::Result<Report> {
    let mut report = Report::default();
    let r = &mut report;
    nat_round_robin(r, lab)?;
    counters(r, lab)?;
    weighted_round_robin(r, lab)?;
    least_connections(r, lab)?;
    drain(r, lab)?;
    health_check(r, lab)?;
    direct_routing(r, lab)?;
    let held = sync_daemon(r, lab)?;
    failover(r, lab, held)?;
    Ok(report)
}

/// 1. NAT with round robin: dir1 rewrites the VIP to a real server's address, 30 requests go 10 to each.
fn nat_round_robin(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 1. NAT: dir1 rewrites the VIP to the real servers' internal addresses");
    nat_service(lab, Director::One)?;
    let body = lab.request_body()?;
    let rewritten = (0..3).any(|i| body.ends_with(&format!("{}:80", rs_internal(i))));
    record(
        r,
        lab,
        "NAT rewrites the destination",
        "a real server's own address".into(),
        body,
        rewritten,
    );
    // Counters are folded from per-CPU values every 2 s: zero after that,
    // or the request above would still be counted.
    std::thread::sleep(Duration::from_millis(3000));
    lab.ipvsadm(Director::One, &["-Z"])?;
    distribution(
        r,
        lab,
        "round robin, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    Ok(())
}

/// 2. The counters agree with the traffic (`--stats`, read after the 2 s estimator).
fn counters(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 2. the counters agree (--stats, read after the 2 s estimator)");
    std::thread::sleep(Duration::from_millis(3000));
    let stats = lab.ipvsadm(Director::One, &["-Ln", "--stats", "--exact", "-t", SERVICE])?;
    lab.log_line(stats.trim_end());
    let got = column_per_server(&stats, 2);
    let want: BTreeMap<String, u64> = REAL_SERVERS.iter().map(|n| ((*n).to_owned(), 10)).collect();
    let shown = |m: &BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    record(
        r,
        lab,
        "--stats connections per real server",
        shown(&want),
        shown(&got),
        got == want,
    );
    Ok(())
}

/// 3. Weighted round robin, weights 3, 2, 1.
fn weighted_round_robin(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 3. weighted round robin: weights 3, 2, 1");
    lab.ipvsadm(Director::One, &["-E", "-t", SERVICE, "-s", "wrr"])?;
    for (i, w) in [3, 2, 1].iter().enumerate() {
        set_weight(lab, i, *w)?;
    }
    distribution(
        r,
        lab,
        "weighted round robin 3:2:1, 30 requests",
        30,
        &[("rs1", 15), ("rs2", 10), ("rs3", 5)],
    )?;
    Ok(())
}

/// 4. Least connections: with two requests held open, ten more go to the idle server.
fn least_connections(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 4. least connections: two requests held open, then ten more");
    lab.ipvsadm(Director::One, &["-E", "-t", SERVICE, "-s", "lc"])?;
    for i in 0..3 {
        set_weight(lab, i, 1)?;
    }
    let held = [lab.hold_request()?, lab.hold_request()?];
    let listing = lab.ipvsadm(Director::One, &["-Ln", "-t", SERVICE])?;
    lab.log_line(listing.trim_end());
    let active = column_per_server(&listing, 4);
    let free: Vec<String> = active
        .iter()
        .filter(|(_, a)| **a == 0)
        .map(|(k, _)| k.clone())
        .collect();
    let got = lab.requests(10)?;
    let passed = free.len() == 1 && got.get(&free[0]) == Some(&10) && got.len() == 1;
    record(
        r,
        lab,
        "least connections avoids busy servers",
        format!("10 to the one idle server ({})", free.join(",")),
        show_counts(&got),
        passed,
    );
    for h in held {
        let _ = h.finish();
    }
    Ok(())
}

/// 5. Draining rs2 (weight 0): no new connections to it.
fn drain(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 5. drain rs2: weight 0, no new connections");
    lab.ipvsadm(Director::One, &["-E", "-t", SERVICE, "-s", "rr"])?;
    set_weight(lab, 1, 0)?;
    distribution(
        r,
        lab,
        "rs2 drained (weight 0), 30 requests",
        30,
        &[("rs1", 15), ("rs3", 15)],
    )?;
    set_weight(lab, 1, 1)?;
    Ok(())
}

/// 6. rs3 fails: the health checker takes it out, and back when it recovers.
fn health_check(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 6. rs3 fails; the health checker takes it out, and back when it recovers");
    let checker = lab.start_health_check(
        Director::One,
        &[
            "tcp",
            SERVICE,
            "--http",
            "/",
            "--interval",
            "300",
            "--timeout",
            "300",
            "--rise",
            "2",
            "--fall",
            "2",
        ],
    )?;
    std::thread::sleep(Duration::from_millis(800));
    lab.log_line("rs3's HTTP server stops");
    lab.stop_server(2);
    rs3_weight_becomes(
        r,
        lab,
        "health checker sets the failed server's weight to 0",
        0,
    )?;
    distribution(
        r,
        lab,
        "rs3 out, 30 requests, none failed",
        30,
        &[("rs1", 15), ("rs2", 15)],
    )?;
    lab.log_line("rs3's HTTP server comes back");
    lab.start_server(2)?;
    rs3_weight_becomes(r, lab, "health checker restores the weight", 1)?;
    distribution(
        r,
        lab,
        "rs3 back, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    let log = checker.stop();
    for line in log.lines() {
        lab.log_line(&format!("  health_check: {line}"));
    }
    Ok(())
}

/// 7. Direct routing: the real servers get the packets with the VIP unchanged.
fn direct_routing(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line("\n== 7. direct routing: the real servers get the packets with the VIP unchanged");
    lab.ipvsadm(Director::One, &["-C"])?;
    lab.real_servers_direct_routing()?;
    lab.ipvsadm(Director::One, &["-A", "-t", SERVICE, "-s", "rr"])?;
    for i in 0..3 {
        lab.ipvsadm(
            Director::One,
            &["-a", "-t", SERVICE, "-r", &rs_lan(i), "-g"],
        )?;
    }
    let body = lab.request_body()?;
    record(
        r,
        lab,
        "DR keeps the destination",
        format!("served on {SERVICE}"),
        body.clone(),
        body.ends_with(SERVICE),
    );
    lab.ipvsadm(Director::One, &["-Z"])?;
    distribution(
        r,
        lab,
        "direct routing, round robin, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    lab.ipvsadm(Director::One, &["-C"])?;
    lab.real_servers_nat()?;
    Ok(())
}

/// 8. Two directors: the sync daemon copies dir1's connections to dir2. Returns the request it holds open through dir1, for the failover.
fn sync_daemon(r: &mut Report, lab: &mut Lab) -> io::Result<HeldRequest> {
    lab.log_line("\n== 8. two directors: the sync daemon copies dir1's connections to dir2");
    for d in [Director::One, Director::Two] {
        nat_service(lab, d)?;
    }
    lab.ipvsadm(
        Director::One,
        &[
            "--start-daemon",
            "master",
            "--mcast-interface",
            "lan0",
            "--syncid",
            "1",
        ],
    )?;
    lab.ipvsadm(
        Director::Two,
        &[
            "--start-daemon",
            "backup",
            "--mcast-interface",
            "lan0",
            "--syncid",
            "1",
        ],
    )?;
    let daemons = lab.ipvsadm(Director::Two, &["-L", "--daemon"])?;
    lab.log_line(daemons.trim_end());
    let held = lab.hold_request()?;
    lab.requests(6)?;
    let synced = wait_for(Duration::from_secs(10), || {
        Ok(lab
            .ipvsadm(Director::Two, &["-Lnc"])?
            .lines()
            .any(|l| l.contains("ESTABLISHED") && l.contains("10.0.0.2:")))
    })?;
    let table = lab.ipvsadm(Director::Two, &["-Lnc"])?;
    lab.log_line(&format!("dir2's connection table:\n{}", table.trim_end()));
    let entries = table.lines().filter(|l| l.contains("10.0.0.2:")).count();
    record(
        r,
        lab,
        "dir1's connections appear on dir2",
        "the held connection ESTABLISHED on dir2".into(),
        format!("{entries} entries, established: {synced}"),
        synced,
    );
    Ok(held)
}

/// 9. dir1 goes down; dir2 notices (heartbeat), takes over the VIP, and the request held through dir1 completes through dir2.
fn failover(r: &mut Report, lab: &mut Lab, held: HeldRequest) -> io::Result<()> {
    lab.log_line("\n== 9. dir1 goes down; dir2 notices (heartbeat) and takes over the VIP");
    lab.fail_director(Director::One)?;
    let noticed = wait_for(Duration::from_secs(5), || Ok(!lab.master_alive()?))?;
    record(
        r,
        lab,
        "heartbeat notices the master is gone",
        "no heartbeat within 5 s".into(),
        if noticed {
            "master silent".into()
        } else {
            "master still answers".into()
        },
        noticed,
    );
    lab.take_addresses(Director::Two)?;
    let finished = held.finish();
    let survived = finished.is_ok();
    record(
        r,
        lab,
        "a connection opened through dir1 completes through dir2",
        "the held request answered".into(),
        finished.map_or_else(|e| format!("failed: {e}"), |b| format!("answered by {b}")),
        survived,
    );
    lab.ipvsadm(Director::Two, &["-Z"])?;
    distribution(
        r,
        lab,
        "dir2 serves the VIP, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    lab.log_line(&format!(
        "the gateway {GATEWAY} and the VIP now live on dir2"
    ));
    Ok(())
}
