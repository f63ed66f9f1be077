//! The runner against real servers on loopback: events for up, down and up
//! again with reasons, the bound on probes in flight, remove and stop.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ipvsd::check::{
    ChangeReason, CheckerSpec, ConnectOptions, Health, HealthEvent, KindDefaults, MiscCheck, Probe,
    ProbeFailure, RealServerSpec, Runner, RunnerOptions, TcpCheck, Timing,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn fast(kind: KindDefaults, delay_loop: Duration) -> Timing {
    Timing {
        warmup: Duration::ZERO,
        retry: 0,
        ..Timing::native(kind, delay_loop)
    }
}

async fn next_event<Id>(
    rx: &mut mpsc::Receiver<HealthEvent<Id>>,
    within: Duration,
) -> HealthEvent<Id> {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("no event in time")
        .expect("channel closed")
}

#[tokio::test]
async fn tcp_real_server_goes_up_down_and_up_with_reasons() {
    let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let mut runner = Runner::new(RunnerOptions::default(), tx);
    let delay_loop = Duration::from_millis(100);
    let timeout = Duration::from_millis(500);
    runner
        .add(RealServerSpec {
            id: 7u32,
            weight: 3,
            checkers: vec![CheckerSpec {
                probe: Probe::Tcp(TcpCheck {
                    conn: ConnectOptions::new(addr).with_timeout(timeout),
                }),
                timing: fast(KindDefaults::Plain, delay_loop),
            }],
        })
        .unwrap();
    assert_eq!(runner.status(&7).unwrap().health, Health::Down, "alpha");

    let up = next_event(&mut rx, Duration::from_secs(2)).await;
    assert_eq!(
        (up.server, up.previous, up.health, up.weight),
        (7, None, Health::Up, 3)
    );
    assert_eq!((up.kind, up.checker), (Some("TCP_CHECK"), Some(0)));
    assert_eq!(up.reason, ChangeReason::Success);

    drop(listener);
    let closed_at = Instant::now();
    let down = next_event(&mut rx, Duration::from_secs(3)).await;
    // Out within fall x delay_loop + timeout (fall = 1), with some slack.
    assert!(
        closed_at.elapsed() < delay_loop + timeout + Duration::from_millis(300),
        "{:?}",
        closed_at.elapsed()
    );
    assert_eq!(down.previous, Some((Health::Up, 3)));
    assert_eq!(down.health, Health::Down);
    assert!(
        matches!(
            down.reason,
            ChangeReason::Failure(ProbeFailure::Io {
                call: "connect",
                ..
            })
        ),
        "{:?}",
        down.reason
    );
    assert!(down.to_string().contains("DOWN"), "{down}");

    let listener = TcpListener::bind(addr).await.unwrap();
    let up = next_event(&mut rx, Duration::from_secs(2)).await;
    assert_eq!(up.previous, Some((Health::Down, 3)));
    assert_eq!(up.health, Health::Up);
    // A reload that changes only the weight keeps the health.
    assert!(runner.set_weight(&7, 5));
    assert!(!runner.set_weight(&8, 5));
    let reweighted = next_event(&mut rx, Duration::from_secs(2)).await;
    assert_eq!(reweighted.previous, Some((Health::Up, 3)));
    assert_eq!((reweighted.health, reweighted.weight), (Health::Up, 5));
    assert_eq!(reweighted.reason, ChangeReason::Reconfigured);
    assert_eq!(reweighted.checker, None);
    let status = runner.status(&7).unwrap();
    assert_eq!((status.health, status.weight), (Health::Up, 5));
    assert!(status.checkers[0].counters.probes >= 3);
    assert!(status.checkers[0].counters.failures >= 1);
    drop(listener);

    runner.stop().await;
    // Every sender is gone once the tasks have ended: the channel closes
    // (after any event sent before the stop).
    let closed = tokio::time::timeout(Duration::from_secs(1), async {
        while rx.recv().await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "the channel stayed open after stop");
}

/// A MISC_CHECK that notes how many others are running when it starts.
fn counting_script(dir: &std::path::Path) -> MiscCheck {
    let running = dir.join("running");
    let counts = dir.join("counts");
    let script = format!(
        "ls {r} | wc -l >> {c}; touch {r}/$$; sleep 0.15; rm {r}/$$",
        r = running.display(),
        c = counts.display()
    );
    MiscCheck {
        argv: vec!["/bin/sh".into(), "-c".into(), script],
        timeout: Duration::from_secs(5),
        dynamic: false,
        user: None,
    }
}

#[tokio::test]
async fn probes_in_flight_never_exceed_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("running")).unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let options = RunnerOptions {
        max_in_flight: 2,
        seed: Some(1),
    };
    let mut runner = Runner::new(options, tx);
    for id in 0..6 {
        runner
            .add(RealServerSpec {
                id,
                weight: 1,
                checkers: vec![CheckerSpec {
                    probe: Probe::Misc(counting_script(dir.path())),
                    timing: fast(KindDefaults::Misc, Duration::from_millis(50)),
                }],
            })
            .unwrap();
    }
    // Six servers up, at most two probes at once: three rounds at least.
    let mut up = 0;
    while up < 6 {
        let e = next_event(&mut rx, Duration::from_secs(5)).await;
        assert_eq!(e.health, Health::Up);
        up += 1;
    }
    runner.stop().await;
    let counts = std::fs::read_to_string(dir.path().join("counts")).unwrap();
    let counts: Vec<u32> = counts.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert!(counts.len() >= 6, "{counts:?}");
    assert!(
        counts.iter().all(|&n| n <= 1),
        "more than 2 probes ran at once: {counts:?}"
    );
}

#[tokio::test]
async fn remove_and_stop_end_probes_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = |n: u32| dir.path().join(format!("{n}.pid"));
    let slow = |n: u32| MiscCheck {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("echo $$ > {}; exec sleep 30", pidfile(n).display()),
        ],
        timeout: Duration::from_secs(60),
        dynamic: false,
        user: None,
    };
    let (tx, mut rx) = mpsc::channel::<HealthEvent<u32>>(4);
    let mut runner = Runner::new(RunnerOptions::default(), tx);
    for n in [1, 2] {
        runner
            .add(RealServerSpec {
                id: n,
                weight: 1,
                checkers: vec![CheckerSpec {
                    probe: Probe::Misc(slow(n)),
                    timing: fast(KindDefaults::Misc, Duration::from_secs(60)),
                }],
            })
            .unwrap();
    }
    assert!(
        runner
            .add(RealServerSpec {
                id: 1,
                weight: 1,
                checkers: vec![],
            })
            .is_err()
    );
    // Wait until both scripts run.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(pidfile(1).exists() && pidfile(2).exists()) {
        assert!(Instant::now() < deadline, "scripts did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let pid = |n: u32| {
        std::fs::read_to_string(pidfile(n))
            .unwrap()
            .trim()
            .to_owned()
    };
    let alive = |p: &str| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    };
    let (p1, p2) = (pid(1), pid(2));
    assert!(alive(&p1) && alive(&p2));

    assert!(runner.remove(&1));
    assert!(!runner.remove(&1));
    assert!(!runner.contains(&1));
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(&p1) {
        assert!(
            Instant::now() < deadline,
            "removed server's probe still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(alive(&p2), "the other server's probe is untouched");

    runner.stop().await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(&p2) {
        assert!(Instant::now() < deadline, "probe survived stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rx.try_recv().is_err(), "no event: no probe finished");
}

#[tokio::test]
async fn a_server_without_checkers_is_up_and_silent() {
    let (tx, mut rx) = mpsc::channel::<HealthEvent<&str>>(4);
    let mut runner = Runner::new(RunnerOptions::default(), tx);
    runner
        .add(RealServerSpec {
            id: "sorry",
            weight: 4,
            checkers: vec![],
        })
        .unwrap();
    let status = runner.status(&"sorry").unwrap();
    assert_eq!((status.health, status.weight), (Health::Up, 4));
    assert_eq!(runner.statuses().len(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(rx.try_recv().is_err());
    // A reload's new weight is still an event, though it has no task.
    assert!(runner.set_weight(&"sorry", 6));
    let reweighted = next_event(&mut rx, Duration::from_secs(1)).await;
    assert_eq!(
        (reweighted.previous, reweighted.health, reweighted.weight),
        (Some((Health::Up, 4)), Health::Up, 6)
    );
    assert_eq!(reweighted.reason, ChangeReason::Reconfigured);
    assert_eq!(runner.status(&"sorry").unwrap().weight, 6);
    assert!(runner.remove(&"sorry"));
    runner.stop().await;
}
