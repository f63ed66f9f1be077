//! The LVS lab's scenarios as a kernel test: the exact distributions, the
//! drain, ipvsd's health checks, direct routing, the two directors running
//! ipvsd with VRRP and the sync daemon, and the failover with its measured
//! figures bounded, on real traffic in the VM.

use lvs_lab::{Lab, Report, Tools, run_all};

fn observed<'a>(report: &'a Report, step: &str) -> &'a str {
    &report
        .steps
        .iter()
        .find(|s| s.name == step)
        .unwrap_or_else(|| panic!("no step `{step}`"))
        .observed
}

#[test]
fn the_lab_balances_drains_heals_and_fails_over() {
    let exe = std::env::current_exe().expect("test binary path");
    let tools =
        Tools::next_to(&exe).expect("ipvsadm-rs and ipvsd are built by cargo test --workspace");
    let mut lab = Lab::build(tools, Box::new(|line| println!("{line}"))).expect("the lab network");
    let report = run_all(&mut lab).expect("every step runs");
    println!("{}", report.table());

    let even = "rs1=10 rs2=10 rs3=10";
    assert_eq!(observed(&report, "round robin, 30 requests"), even);
    assert_eq!(
        observed(&report, "--stats connections per real server"),
        even
    );
    assert_eq!(
        observed(&report, "weighted round robin 3:2:1, 30 requests"),
        "rs1=15 rs2=10 rs3=5"
    );
    assert!(observed(&report, "least connections avoids busy servers").ends_with("=10"));
    assert_eq!(
        observed(&report, "rs2 drained (weight 0), 30 requests"),
        "rs1=15 rs3=15"
    );
    assert!(
        observed(
            &report,
            "ipvsd puts the configured real servers in the table"
        )
        .starts_with("all three after")
    );
    assert!(
        observed(&report, "ipvsd removes the failed real server").starts_with("out of the table")
    );
    assert_eq!(
        observed(&report, "rs3 out, 30 requests, none failed"),
        "rs1=15 rs2=15"
    );
    assert!(observed(&report, "ipvsd puts the real server back").starts_with("back at weight 1"));
    assert_eq!(observed(&report, "rs3 back, 30 requests"), even);
    assert!(
        observed(&report, "NAT rewrites the destination").ends_with(":80")
            && !observed(&report, "NAT rewrites the destination").contains("10.0.0.100")
    );
    assert!(observed(&report, "DR keeps the destination").ends_with("10.0.0.100:80"));
    assert_eq!(
        observed(&report, "direct routing, round robin, 30 requests"),
        even
    );
    assert_eq!(
        observed(&report, "ipvsd stops on SIGTERM and removes what it added"),
        "exit status: 0, an empty table"
    );
    assert!(
        observed(
            &report,
            "VRRP elects dir1 master with the VIP and the gateway"
        )
        .starts_with("dir1 MASTER, VIP + gateway; dir2 BACKUP, no address")
    );
    assert_eq!(
        observed(&report, "the sync daemons follow VRRP"),
        "dir1 master, dir2 backup"
    );
    assert!(observed(&report, "dir1's connections appear on dir2").ends_with("established: true"));

    // The failover's figures. dir2 heard dir1's last advert at most one
    // advertisement interval before dir1 died, so it takes over between its
    // master down interval less that interval and the interval plus the
    // lab's margin (RFC 3768 §6.4.2).
    let f = report.failover.as_ref().expect("the failover ran");
    println!("failover: {f:?}");
    assert_eq!(f.advert_interval_ms, 1000);
    assert_eq!(
        f.master_down_interval_ms, 3609,
        "3 x 1 s + (256 - 100) / 256 s"
    );
    let takeover = f.takeover_ms.expect("dir2 took the VIP and the gateway");
    assert!(
        (f.master_down_interval_ms - f.advert_interval_ms..=f.takeover_bound_ms)
            .contains(&takeover),
        "takeover after {takeover} ms, bounds {}..={} ms",
        f.master_down_interval_ms - f.advert_interval_ms,
        f.takeover_bound_ms
    );
    assert!(
        f.takeover_bound_ms <= 5100,
        "3 x advert_int + skew + margin"
    );
    let first = f.first_answer_ms.expect("the client was answered again");
    assert!(
        first <= takeover + f.request_timeout_ms + f.request_spacing_ms + 1000,
        "first answer {first} ms after dir1's death, takeover {takeover} ms"
    );
    assert!(
        f.failed_requests <= usize::try_from(takeover / f.request_spacing_ms).unwrap() + 2,
        "{} of {} requests failed over a {takeover} ms takeover",
        f.failed_requests,
        f.requests
    );
    assert!(f.requests > f.failed_requests);
    assert!(
        observed(
            &report,
            "a connection opened through dir1 completes through dir2"
        )
        .starts_with("answered by rs")
    );
    assert_eq!(
        observed(&report, "dir2's sync daemon turns master"),
        "master"
    );
    assert_eq!(observed(&report, "dir2 serves the VIP, 30 requests"), even);
    assert_eq!(
        observed(
            &report,
            "dir2's ipvsd stops on SIGTERM and releases the addresses"
        ),
        "exit status: 0, both released"
    );
    let failed: Vec<_> = report
        .steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| &s.name)
        .collect();
    assert!(failed.is_empty(), "failed steps: {failed:?}");
}
