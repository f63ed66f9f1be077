//! Several active directors end to end in the VM (lab/src/directors/): a
//! router running BIRD 2 spreads the VIP over three directors with ECMP,
//! each announcing it through ipvsd's `[route_health]` and BIRD, each
//! scheduling with `mh` in front of three real servers (direct routing).
//! One director dies and comes back; the figures are printed and bounded.
//!
//! `IPVS_RS_ECMP_HOLD_TIMER=1` runs it without BFD (BGP hold time 3 s).

use lvs_lab::Tools;
use lvs_lab::directors::network::{CLIENT_ADDRESSES, DIRECTORS};
use lvs_lab::directors::{Detection, KILLED, LONG_LIVED, LOOP_THREADS, REQUEST_TIMEOUT, Scenario};

#[test]
fn three_directors_share_the_vip_and_survive_a_death() {
    let exe = std::env::current_exe().expect("test binary path");
    let tools = Tools::next_to(&exe).expect("ipvsd is built (cargo build -p ipvsd)");
    let detection = if std::env::var_os("IPVS_RS_ECMP_HOLD_TIMER").is_some_and(|v| v == "1") {
        Detection::HoldTimer
    } else {
        Detection::Bfd
    };
    let mut scenario = Scenario::start(tools, detection, Box::new(|line| println!("{line}")))
        .expect("the network, BIRD and ipvsd start");
    let f = scenario.run().expect("every step runs");
    println!("{}", f.report());

    // 1. A next hop per director, learned from ipvsd's route over BGP.
    assert_eq!(f.next_hops.len(), DIRECTORS, "{f:?}");
    // ipvsd set sloppy_tcp everywhere, and its tables agree with its
    // peers' (`ipvsd status --compare`).
    assert_eq!(f.sloppy_tcp_set, DIRECTORS, "{f:?}");
    assert_eq!(f.compared_agree, DIRECTORS - 1, "{f:?}");

    // 2. Every request answered, by the real server the model predicts.
    assert!(f.tables_agree, "the directors' mh tables differ");
    assert_eq!(f.steady_requests, CLIENT_ADDRESSES);
    assert_eq!(f.steady_answered, f.steady_requests, "{f:?}");
    assert_eq!(f.steady_predicted, f.steady_requests, "{f:?}");
    assert!(
        f.steady_per_director.iter().all(|n| *n >= 10),
        "ECMP spreads the clients: {:?}",
        f.steady_per_director
    );

    // 3. Long-lived connections through every director.
    assert_eq!(f.long_lived, LONG_LIVED);
    assert!(
        f.long_lived_per_director.iter().all(|n| *n >= 2),
        "{:?}",
        f.long_lived_per_director
    );

    // 4. The failover: BFD notices in 5 x 200 ms, the hold timer in 2-3 s;
    // which one did is in the router's BIRD log. BIRD runs late in a busy
    // VM (on a loaded 2-core host: BFD expiry seen 1.7-3.5 s after the
    // kill, the kernel route 0.4-3.6 s after that), hence wide bounds.
    let failover = f.failover_ms.expect("the dead director's next hop went");
    assert_eq!(f.bfd_noticed, detection == Detection::Bfd, "{f:?}");
    let bounds = match detection {
        Detection::Bfd => 600..=10_000,
        Detection::HoldTimer => 1800..=12_000,
    };
    assert!(bounds.contains(&failover), "failover after {failover} ms");
    assert_eq!(f.next_hops_after_kill.len(), DIRECTORS - 1);
    // A new request fails only after waiting its whole timeout: each loop
    // thread fails at most once per timeout during the failover.
    let timeouts = failover / REQUEST_TIMEOUT.as_millis() + 1;
    assert!(
        f.failover_failed <= LOOP_THREADS * usize::try_from(timeouts).unwrap_or(usize::MAX),
        "{f:?}"
    );
    assert!(f.failover_requests > f.failover_failed, "{f:?}");
    assert!(f.after_failover_requests > 0);
    assert_eq!(f.after_failover_failed, 0, "{f:?}");
    assert_eq!(f.through_killed, f.long_lived_per_director[KILLED], "{f:?}");
    assert_eq!(f.through_killed_kept, f.through_killed, "{f:?}");
    assert_eq!(f.through_killed_on_survivor, f.through_killed, "{f:?}");
    assert_eq!(f.kept_after_kill, LONG_LIVED, "{f:?}");

    // 5. The rejoin: next hop back, nothing fails, nothing moves off its
    // real server.
    let rejoin = f.rejoin_ms.expect("the next hop came back");
    assert!(rejoin <= 30_000, "rejoin after {rejoin} ms");
    assert!(f.rejoin_requests > 0);
    assert_eq!(f.rejoin_failed, 0, "{f:?}");
    assert_eq!(f.kept_after_rejoin, LONG_LIVED, "{f:?}");
    assert!(f.back_on_rejoined >= 1, "{f:?}");
}
