//! VRRP tracking's edge against real programs and a real link: scripts
//! (`true`, `false`, one sleeping past its timeout, one flipped through a
//! file) run by `vrrp::track::spawn`, and a veth whose peer goes down and up
//! in a test namespace. Each test asserts the verdicts and how long they
//! took.
//!
//! The script tests need no privilege (the instance's own interface is
//! `lo`, which is up); the link test needs root (a namespace, a veth) and
//! prints "skipped: needs root" and passes otherwise.

use std::path::Path;
use std::time::{Duration, Instant};

use ipvsd::config::{KeepalivedOptions, Model, read_keepalived_str};
use ipvsd::vrrp::track::{self, Verdict};
use testbed::netns::Namespace;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A model from keepalived.conf text: `scripts`, and one instance on `lo`
/// (priority 100) with `body` added.
fn model(scripts: &str, body: &str) -> Model {
    let text = format!(
        "{scripts}\nvrrp_instance VI {{\n interface lo\n virtual_router_id 51\n priority 100\n \
         virtual_ipaddress {{\n  10.99.0.100\n }}\n{body}\n}}\n"
    );
    read_keepalived_str(&text, Path::new("t.conf"), &KeepalivedOptions::default())
        .unwrap()
        .model
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until the verdict is `want`, at most `limit`; returns how long
/// it took.
async fn until(rx: &mut watch::Receiver<Verdict>, want: Verdict, limit: Duration) -> Duration {
    let start = Instant::now();
    let reached = tokio::time::timeout(limit, rx.wait_for(|v| *v == want))
        .await
        .is_ok_and(|r| r.is_ok());
    assert!(
        reached,
        "verdict {:?} not reached in {limit:?}; last {:?}",
        want,
        *rx.borrow()
    );
    start.elapsed()
}

fn v(fault: bool, priority: u8) -> Verdict {
    Verdict { fault, priority }
}

#[test]
fn true_adds_its_weight_and_false_is_a_fault() {
    let m = model(
        "vrrp_script ok {\n script \"/bin/true\"\n weight 10\n}\n\
         vrrp_script bad {\n script \"/bin/false\"\n}\n",
        "track_script {\n ok\n bad\n}",
    );
    runtime().block_on(async {
        let cancel = CancellationToken::new();
        let i = &m.vrrp.instances[0];
        let mut rx = track::spawn(i, &m.vrrp.scripts, None, cancel.clone())
            .await
            .unwrap();
        // The pending weight-0 script holds FAULT until its first run.
        assert_eq!(*rx.borrow(), v(true, 100));
        // Both run at once (the first run is not delayed by the interval).
        let took = until(&mut rx, v(true, 110), Duration::from_secs(2)).await;
        assert!(took < Duration::from_millis(900), "{took:?}");
        // No change afterwards: `false` keeps failing, `true` succeeding.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(*rx.borrow(), v(true, 110));
        cancel.cancel();
    });
}

#[test]
fn a_script_past_its_timeout_fails_and_its_group_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // The shell and a background sleep, both in the script's process group.
    let command = format!(
        "/bin/sh -c 'sleep 30 & echo $! >> {}; wait'",
        pids.display()
    );
    let m = model(
        &format!(
            "vrrp_script slow {{\n script \"{command}\"\n interval 5\n timeout 1\n weight -20\n}}\n"
        ),
        "track_script {\n slow\n}",
    );
    runtime().block_on(async {
        let cancel = CancellationToken::new();
        let i = &m.vrrp.instances[0];
        let mut rx = track::spawn(i, &m.vrrp.scripts, None, cancel.clone())
            .await
            .unwrap();
        assert_eq!(*rx.borrow(), v(false, 100), "pending: no weight yet");
        let took = until(&mut rx, v(false, 80), Duration::from_secs(5)).await;
        // The timeout (1 s), then SIGTERM ends the shell at once.
        assert!(
            took >= Duration::from_millis(950) && took < Duration::from_millis(3500),
            "{took:?}"
        );
        let pid: i32 = std::fs::read_to_string(&pids)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The background sleep went with its group.
        let deadline = Instant::now() + Duration::from_secs(3);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "sleep {pid} outlived the timeout: {stat}"
        );
        cancel.cancel();
    });
}

#[test]
fn a_script_flipped_through_a_file_follows_rise_and_fall() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("ok");
    std::fs::write(&flag, "").unwrap();
    let m = model(
        &format!(
            "vrrp_script flip {{\n script \"/bin/test -e {}\"\n interval 1\n rise 2\n fall 2\n}}\n",
            flag.display()
        ),
        "track_script {\n flip\n}",
    );
    runtime().block_on(async {
        let cancel = CancellationToken::new();
        let i = &m.vrrp.instances[0];
        let mut rx = track::spawn(i, &m.vrrp.scripts, None, cancel.clone())
            .await
            .unwrap();
        // One success is enough at start.
        let took = until(&mut rx, v(false, 100), Duration::from_secs(2)).await;
        assert!(took < Duration::from_millis(900), "{took:?}");
        std::fs::remove_file(&flag).unwrap();
        // Two failures, one a second: between 1 and 3 s (the first may
        // come at once after the removal, the second an interval later).
        let took = until(&mut rx, v(true, 100), Duration::from_secs(5)).await;
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(3200),
            "fall 2 took {took:?}"
        );
        std::fs::write(&flag, "").unwrap();
        let took = until(&mut rx, v(false, 100), Duration::from_secs(5)).await;
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(3200),
            "rise 2 took {took:?}"
        );
        cancel.cancel();
    });
}

#[test]
fn an_unknown_user_or_script_is_refused_before_anything_runs() {
    let m = model(
        "vrrp_script s {\n script \"/bin/true\"\n}\n",
        "track_script {\n s\n}",
    );
    runtime().block_on(async {
        let i = &m.vrrp.instances[0];
        let user = ipvsd::config::checker::RunAs {
            user: "no-such-user-ipvsd-track".into(),
            group: None,
        };
        let err = track::spawn(i, &m.vrrp.scripts, Some(user), CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("no-such-user-ipvsd-track"),
            "{err}"
        );
        let err = track::spawn(i, &[], None, CancellationToken::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("names no vrrp_script"), "{err}");
    });
}

#[test]
fn a_veth_going_down_and_up_is_followed_and_a_missing_interface_is_down() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Namespace::new("vrrp-track").unwrap();
    ns.ip(&["link", "add", "ta", "type", "veth", "peer", "name", "tb"])
        .unwrap();
    ns.ip(&["link", "set", "ta", "up"]).unwrap();
    ns.ip(&["link", "set", "tb", "up"]).unwrap();
    let m = model(
        "",
        "track_interface {\n ta\n tb weight 30\n nosuch0 weight -10\n}",
    );
    ns.run(|| {
        runtime().block_on(async {
            let cancel = CancellationToken::new();
            let i = &m.vrrp.instances[0];
            let mut rx = track::spawn(i, &[], None, cancel.clone()).await.unwrap();
            // The veth's carrier may come a moment after both ends are up:
            // a link event then brings the verdict there.
            // ta and tb up (+30), nosuch0 missing so down (-10).
            until(&mut rx, v(false, 120), Duration::from_secs(5)).await;
            // tb down: tb loses its weight, and ta its carrier (a fault).
            let start = Instant::now();
            std::process::Command::new("ip")
                .args(["link", "set", "tb", "down"])
                .status()
                .unwrap();
            until(&mut rx, v(true, 90), Duration::from_secs(3)).await;
            let took = start.elapsed();
            assert!(took < Duration::from_millis(1000), "link events: {took:?}");
            let start = Instant::now();
            std::process::Command::new("ip")
                .args(["link", "set", "tb", "up"])
                .status()
                .unwrap();
            until(&mut rx, v(false, 120), Duration::from_secs(5)).await;
            let took = start.elapsed();
            assert!(took < Duration::from_millis(2000), "link events: {took:?}");
            // Deleting the tracked interface is down too.
            std::process::Command::new("ip")
                .args(["link", "del", "ta"])
                .status()
                .unwrap();
            until(&mut rx, v(true, 90), Duration::from_secs(3)).await;
            cancel.cancel();
        });
    })
    .unwrap();
}
