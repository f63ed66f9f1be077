//! The lab's steps, in order: NAT with round robin, weighted round robin and
//! least connections; the counters; draining a real server; a failed real
//! server taken out by ipvsd's HTTP_GET check and back when it recovers;
//! direct routing; two directors running ipvsd with VRRP and the connection
//! sync daemon, and a failover, measured. Each step records what it
//! expected and what it saw.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use testbed::http::HeldRequest;

use super::client::Summary;
use super::config;
use super::daemon::vrrp_state;
use super::report::{Failover, Report, StepResult};
use super::topology::{
    Director, GATEWAY, Lab, REAL_SERVERS, SERVICE, VIP, rs_internal, rs_lan, show_counts,
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
    if !passed {
        // What the directors' daemons saw explains most failures.
        for d in [Director::One, Director::Two] {
            lab.show_ipvsd_log(d, 0);
        }
    }
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

/// Polls `check` every 200 ms until it holds (how long that took) or
/// `limit` passes (`None`).
fn wait_for(
    limit: Duration,
    mut check: impl FnMut() -> io::Result<bool>,
) -> io::Result<Option<Duration>> {
    let start = Instant::now();
    loop {
        if check()? {
            return Ok(Some(start.elapsed()));
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `2.35 s`.
fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
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

/// Real server `i`'s line in dir1's `ipvsadm-rs -Sn` at weight 1 (NAT).
fn rs_rule(i: usize) -> String {
    format!("-r {}:80 -m -w 1\n", rs_internal(i))
}

/// Waits (10 s at most) for ipvsd to take rs3 out of dir1's table
/// (`present` false) or put it back at weight 1 (`present` true), and
/// records it.
fn rs3_in_table(r: &mut Report, lab: &mut Lab, name: &str, present: bool) -> io::Result<()> {
    let rule = rs_rule(2);
    let done = wait_for(Duration::from_secs(10), || {
        Ok(lab.ipvsadm_quiet(Director::One, &["-Sn"])?.contains(&rule) == present)
    })?;
    let (expected, reached, missed) = if present {
        (
            "back at weight 1 within 10 s",
            "back at weight 1",
            "still out",
        )
    } else {
        (
            "out of the table within 10 s",
            "out of the table",
            "still in the table",
        )
    };
    record(
        r,
        lab,
        name,
        expected.into(),
        done.map_or_else(
            || missed.to_owned(),
            |t| format!("{reached} after {}", secs(t)),
        ),
        done.is_some(),
    );
    Ok(())
}

/// Runs every step on `lab` (built in NAT with dir1 active), in order.
///
/// # Errors
/// When the lab cannot do a step at all (a command fails); a step that
/// runs but does not behave is a failed result in the report instead.
/// Before it returns such an error it writes the lab's state to the log
/// ([`Lab::show_state_after_failure`]).
pub fn run_all(lab: &mut Lab) -> io::Result<Report> {
    let mut report = Report::default();
    let ran = run_steps(&mut report, lab);
    if ran.is_err() {
        lab.show_state_after_failure();
    }
    ran.map(|()| report)
}

fn run_steps(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    nat_round_robin(r, lab)?;
    counters(r, lab)?;
    weighted_round_robin(r, lab)?;
    least_connections(r, lab)?;
    drain(r, lab)?;
    health_check(r, lab)?;
    direct_routing(r, lab)?;
    let held = sync_daemon(r, lab)?;
    failover(r, lab, held)
}

/// Step 1: NAT with round robin: dir1 rewrites the VIP to a real server's address, 30 requests go 10 to each.
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

/// Step 2: The counters agree with the traffic (`--stats`, read after the 2 s estimator).
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

/// Step 3: Weighted round robin, weights 3, 2, 1.
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

/// Step 4: Least connections: with two requests held open, ten more go to the idle server.
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

/// Step 5: Draining rs2 (weight 0): no new connections to it.
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

/// Step 6: ipvsd on dir1 checks the real servers (HTTP_GET); rs3 fails and is
/// removed (keepalived's default without `inhibit_on_failure`), and is back
/// when it recovers; SIGTERM stops ipvsd and removes what it added.
fn health_check(r: &mut Report, lab: &mut Lab) -> io::Result<()> {
    lab.log_line(
        "\n== 6. ipvsd on dir1 checks the real servers (HTTP_GET every second); rs3 fails, then recovers",
    );
    lab.log_line("dir1's table is handed to ipvsd: emptied, then made from its keepalived.conf");
    lab.ipvsadm(Director::One, &["-C"])?;
    lab.start_ipvsd(Director::One, "checkers", &config::checkers(Director::One))?;
    let took = wait_for(Duration::from_secs(10), || {
        let table = lab.ipvsadm_quiet(Director::One, &["-Sn"])?;
        Ok((0..3).all(|i| table.contains(&rs_rule(i))))
    })?;
    let table = lab.ipvsadm(Director::One, &["-Sn"])?;
    lab.log_line(table.trim_end());
    record(
        r,
        lab,
        "ipvsd puts the configured real servers in the table",
        "rs1, rs2, rs3 at weight 1 within 10 s".into(),
        took.map_or_else(
            || "not all of them".into(),
            |t| format!("all three after {}", secs(t)),
        ),
        took.is_some(),
    );
    lab.log_line("rs3's HTTP server stops");
    lab.stop_server(2);
    rs3_in_table(r, lab, "ipvsd removes the failed real server", false)?;
    distribution(
        r,
        lab,
        "rs3 out, 30 requests, none failed",
        30,
        &[("rs1", 15), ("rs2", 15)],
    )?;
    lab.log_line("rs3's HTTP server comes back");
    lab.start_server(2)?;
    rs3_in_table(r, lab, "ipvsd puts the real server back", true)?;
    distribution(
        r,
        lab,
        "rs3 back, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    let status = lab.stop_ipvsd(Director::One)?;
    let table = lab.ipvsadm(Director::One, &["-Sn"])?;
    record(
        r,
        lab,
        "ipvsd stops on SIGTERM and removes what it added",
        "exit 0, an empty table".into(),
        format!(
            "{status}, {}",
            if table.trim().is_empty() {
                "an empty table".to_owned()
            } else {
                format!("left: {}", table.trim().replace('\n', "; "))
            }
        ),
        status.success() && table.trim().is_empty(),
    );
    Ok(())
}

/// Step 7: Direct routing: the real servers get the packets with the VIP unchanged.
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

/// Which of the VIP and the gateway director `d` holds, and its VRRP state
/// as its ipvsd logged it: `MASTER, VIP + gateway`.
fn vrrp_view(lab: &Lab, d: Director) -> io::Result<String> {
    let state =
        vrrp_state(&lab.ipvsd_log(d), config::INSTANCE).unwrap_or_else(|| "no state logged".into());
    let held: Vec<&str> = [("VIP", VIP), ("gateway", GATEWAY)]
        .into_iter()
        .filter_map(|(name, addr)| match lab.holds(d, addr) {
            Ok(true) => Some(Ok(name)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<io::Result<_>>()?;
    let held = if held.is_empty() {
        "no address".to_owned()
    } else {
        held.join(" + ")
    };
    Ok(format!("{} {state}, {held}", d.name()))
}

/// `ipvsadm-rs -L --daemon` on director `d`, shown in the log.
fn daemons(lab: &mut Lab, d: Director) -> io::Result<String> {
    let listing = lab.ipvsadm(d, &["-L", "--daemon"])?;
    lab.log_line(listing.trim_end());
    Ok(listing)
}

/// Step 8: Both directors run ipvsd with VRRP: dir1 is elected master and holds
/// the VIP and the gateway, dir2 is backup; the sync daemons follow (dir1
/// master, dir2 backup) and copy dir1's connections to dir2. Returns the
/// request it holds open through dir1, for the failover.
fn sync_daemon(r: &mut Report, lab: &mut Lab) -> io::Result<HeldRequest> {
    lab.log_line(
        "\n== 8. two directors run ipvsd: VRRP instance VI_1 makes dir1 master, the sync daemon follows it",
    );
    lab.remove_addresses(Director::One)?;
    for d in [Director::One, Director::Two] {
        lab.start_ipvsd(d, "pair", &config::pair(d))?;
    }
    // ipvsd logs the transition after it has taken the addresses and sent
    // its gratuitous ARPs, so the addresses alone may show before the log.
    let logged = |d| vrrp_state(&lab.ipvsd_log(d), config::INSTANCE);
    let elected = wait_for(Duration::from_secs(15), || {
        Ok(lab.holds(Director::One, VIP)?
            && lab.holds(Director::One, GATEWAY)?
            && !lab.holds(Director::Two, VIP)?
            && logged(Director::One).as_deref() == Some("MASTER")
            && logged(Director::Two).as_deref() == Some("BACKUP"))
    })?;
    let seen = format!(
        "{}; {}",
        vrrp_view(lab, Director::One)?,
        vrrp_view(lab, Director::Two)?
    );
    record(
        r,
        lab,
        "VRRP elects dir1 master with the VIP and the gateway",
        "dir1 MASTER, VIP + gateway; dir2 BACKUP, no address (within 15 s)".into(),
        match elected {
            Some(t) => format!("{seen} (after {})", secs(t)),
            None => seen,
        },
        elected.is_some(),
    );
    let roles = wait_for(Duration::from_secs(10), || {
        Ok(lab
            .ipvsadm_quiet(Director::One, &["-L", "--daemon"])?
            .contains("master sync daemon")
            && lab
                .ipvsadm_quiet(Director::Two, &["-L", "--daemon"])?
                .contains("backup sync daemon"))
    })?;
    let one = daemons(lab, Director::One)?;
    let two = daemons(lab, Director::Two)?;
    let role = |listing: &str| {
        let roles: Vec<&str> = ["master", "backup"]
            .into_iter()
            .filter(|role| listing.contains(&format!("{role} sync daemon")))
            .collect();
        if roles.is_empty() {
            "none".to_owned()
        } else {
            roles.join(" + ")
        }
    };
    record(
        r,
        lab,
        "the sync daemons follow VRRP",
        "dir1 master, dir2 backup".into(),
        format!("dir1 {}, dir2 {}", role(&one), role(&two)),
        roles.is_some(),
    );
    // When dir1 starts slowly, dir2 may go master too before it hears dir1,
    // and its gratuitous ARPs may reach the client after dir1's. dir1
    // announces again when it hears dir2's lower priority (keepalived's
    // garp_lower_prio_repeat, then again garp_lower_prio_delay = 5 s later).
    let reached = wait_for(Duration::from_secs(15), || {
        lab.answers(Duration::from_secs(1))
    })?;
    record(
        r,
        lab,
        "the client reaches the VIP through the master",
        "an answer within 15 s".into(),
        reached.map_or_else(
            || "no answer within 15 s".to_owned(),
            |t| format!("answered after {}", secs(t)),
        ),
        reached.is_some(),
    );
    let held = lab.hold_request()?;
    lab.requests(6)?;
    let synced = wait_for(Duration::from_secs(10), || {
        Ok(lab
            .ipvsadm_quiet(Director::Two, &["-Lnc"])?
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
        format!("{entries} entries, established: {}", synced.is_some()),
        synced.is_some(),
    );
    Ok(held)
}

/// The client's request timeout across the failover (to connect, and to read).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// The least time between the starts of two of the client's requests.
const REQUEST_SPACING: Duration = Duration::from_millis(100);
/// The takeover's margin over dir2's master down interval: the emulated VM's
/// slowness and the 50 ms polling of dir2's addresses.
const TAKEOVER_MARGIN: Duration = Duration::from_millis(1400);

/// Milliseconds of a duration, for the report.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Step 9: dir1 dies (links down, ipvsd killed); dir2's VRRP notices the missing
/// adverts and takes the VIP and the gateway; the client's requests across
/// it are counted, the request held through dir1 completes through dir2,
/// and new requests are served 10/10/10.
fn failover(r: &mut Report, lab: &mut Lab, held: HeldRequest) -> io::Result<()> {
    lab.log_line("\n== 9. dir1 dies; dir2's VRRP takes over the VIP and the gateway");
    let down_interval = config::master_down_interval(config::priority(Director::Two));
    let bound = down_interval + TAKEOVER_MARGIN;
    let client = lab.start_request_loop(REQUEST_TIMEOUT, REQUEST_SPACING)?;
    std::thread::sleep(Duration::from_secs(2));
    let died = lab.fail_director(Director::One)?;
    let mut takeover = None;
    while died.elapsed() < Duration::from_secs(15) {
        if lab.holds(Director::Two, VIP)? && lab.holds(Director::Two, GATEWAY)? {
            takeover = Some(died.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The loop goes on a few seconds after the takeover, for the first
    // answers through dir2.
    std::thread::sleep(Duration::from_secs(4));
    let attempts = client.stop()?;
    let summary = Summary::of(&attempts, died);
    lab.log_line(&format!(
        "  client: {} requests, {} failed{}",
        summary.requests,
        summary.failed,
        if summary.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", summary.reasons.join("; "))
        }
    ));
    let view = vrrp_view(lab, Director::Two)?;
    record(
        r,
        lab,
        "dir2 takes the VIP and the gateway",
        format!(
            "within {} of dir1's death (master down interval {} + {} margin)",
            secs(bound),
            secs(down_interval),
            secs(TAKEOVER_MARGIN)
        ),
        match takeover {
            Some(t) => format!("after {} ({view})", secs(t)),
            None => format!("not within 15 s ({view})"),
        },
        takeover.is_some_and(|t| t <= bound),
    );
    let allowed = takeover.map(|t| {
        usize::try_from(t.as_millis() / REQUEST_SPACING.as_millis()).unwrap_or(usize::MAX) + 2
    });
    record(
        r,
        lab,
        "requests across the failover",
        match allowed {
            Some(n) => format!("answers again; at most {n} failed (takeover / spacing + 2)"),
            None => "answers again after the takeover".into(),
        },
        format!(
            "{} of {} failed; first answer {} after dir1's death",
            summary.failed,
            summary.requests,
            summary
                .first_answer_after
                .map_or_else(|| "never".to_owned(), secs)
        ),
        summary.first_answer_after.is_some()
            && summary.answered_before > 0
            && allowed.is_some_and(|n| summary.failed <= n),
    );
    r.failover = Some(Failover {
        advert_interval_ms: u64::from(config::ADVERT_INT_SECONDS) * 1000,
        master_down_interval_ms: ms(down_interval),
        takeover_bound_ms: ms(bound),
        takeover_ms: takeover.map(ms),
        first_answer_ms: summary.first_answer_after.map(ms),
        requests: summary.requests,
        failed_requests: summary.failed,
        request_timeout_ms: ms(REQUEST_TIMEOUT),
        request_spacing_ms: ms(REQUEST_SPACING),
    });
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
    let master = wait_for(Duration::from_secs(5), || {
        Ok(lab
            .ipvsadm_quiet(Director::Two, &["-L", "--daemon"])?
            .contains("master sync daemon"))
    })?;
    daemons(lab, Director::Two)?;
    record(
        r,
        lab,
        "dir2's sync daemon turns master",
        "a master sync daemon on dir2".into(),
        if master.is_some() {
            "master"
        } else {
            "no master"
        }
        .into(),
        master.is_some(),
    );
    lab.ipvsadm(Director::Two, &["-Z"])?;
    distribution(
        r,
        lab,
        "dir2 serves the VIP, 30 requests",
        30,
        &[("rs1", 10), ("rs2", 10), ("rs3", 10)],
    )?;
    lab.log_line("dir1's ipvsd log, up to its death:");
    lab.show_ipvsd_log(Director::One, 0);
    let status = lab.stop_ipvsd(Director::Two)?;
    let released = !lab.holds(Director::Two, VIP)? && !lab.holds(Director::Two, GATEWAY)?;
    record(
        r,
        lab,
        "dir2's ipvsd stops on SIGTERM and releases the addresses",
        "exit 0, neither the VIP nor the gateway left".into(),
        format!(
            "{status}, {}",
            if released {
                "both released"
            } else {
                "addresses left"
            }
        ),
        status.success() && released,
    );
    Ok(())
}
