//! The LVS lab's scenarios as a kernel test: the exact distributions, the
//! drain, the health checker, direct routing, the sync daemon and the
//! failover, on real traffic in the VM.

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
    let tools = Tools::next_to(&exe).expect("ipvsadm-rs is built by cargo test --workspace");
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
    assert_eq!(
        observed(
            &report,
            "health checker sets the failed server's weight to 0"
        ),
        "weight 0"
    );
    assert_eq!(
        observed(&report, "rs3 out, 30 requests, none failed"),
        "rs1=15 rs2=15"
    );
    assert_eq!(
        observed(&report, "health checker restores the weight"),
        "weight 1"
    );
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
    assert!(observed(&report, "dir1's connections appear on dir2").ends_with("established: true"));
    assert_eq!(
        observed(&report, "heartbeat notices the master is gone"),
        "master silent"
    );
    assert!(
        observed(
            &report,
            "a connection opened through dir1 completes through dir2"
        )
        .starts_with("answered by rs")
    );
    assert_eq!(observed(&report, "dir2 serves the VIP, 30 requests"), even);
    let failed: Vec<_> = report
        .steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| &s.name)
        .collect();
    assert!(failed.is_empty(), "failed steps: {failed:?}");
}
