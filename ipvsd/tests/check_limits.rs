//! The bound on probes in flight, seen from the file descriptor table:
//! 100 HTTP checkers against a server that accepts and never answers, with
//! at most 8 probes at once, never hold more than 8 client sockets (plus
//! the 8 accepted ones of the server, which lives in this process too).
//! A test binary of its own, so that no other test's sockets are counted.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipvsd::check::{
    CheckerSpec, ConnectOptions, HealthEvent, HttpCheck, HttpProtocol, KindDefaults, Probe,
    RealServerSpec, Runner, RunnerOptions, Timing, UrlCheck,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[tokio::test]
async fn file_descriptors_stay_within_the_probes_in_flight() {
    const LIMIT: usize = 8;
    // Accepts, reads until the client goes away, never answers.
    let listener = TcpListener::bind((IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let baseline = open_fds();

    let (tx, mut rx) = mpsc::channel::<HealthEvent<u32>>(256);
    let mut runner = Runner::new(
        RunnerOptions {
            max_in_flight: LIMIT,
            seed: Some(9),
        },
        tx,
    );
    for id in 0..100 {
        runner
            .add(RealServerSpec {
                id,
                weight: 1,
                checkers: vec![CheckerSpec {
                    probe: Probe::Http(HttpCheck {
                        conn: ConnectOptions::new(addr).with_timeout(Duration::from_millis(150)),
                        urls: vec![UrlCheck::new("/")],
                        protocol: HttpProtocol::Http11,
                        tls: None,
                    }),
                    timing: Timing {
                        warmup: Duration::ZERO,
                        retry: 0,
                        ..Timing::native(KindDefaults::Http, Duration::from_millis(100))
                    },
                }],
            })
            .unwrap();
    }
    let mut peak = 0;
    for _ in 0..150 {
        peak = peak.max(open_fds());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    runner.stop().await;
    let mut down = 0;
    while let Ok(e) = rx.try_recv() {
        assert_eq!(e.health, ipvsd::check::Health::Down);
        down += 1;
    }
    assert!(down > 0, "no probe finished");
    let extra = peak.saturating_sub(baseline);
    assert!(
        extra <= 2 * LIMIT + 4,
        "{extra} descriptors above the baseline with {LIMIT} probes in flight"
    );
    assert!(
        extra >= LIMIT,
        "only {extra} descriptors above the baseline: the probes did not run {LIMIT} at once"
    );
}
