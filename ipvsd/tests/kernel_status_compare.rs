//! `ipvsd status --compare` on the real kernel, in the test VM: two
//! directors (this test's namespace and a peer namespace, joined by a
//! link), each running ipvsd on the same `mh` virtual service with the real
//! servers listed in another order; then the peer with another weight; then
//! the peer stopped.
//!
//! ```text
//!  director A (ipvsd, status 10.9.0.1:9613) --- director B (ipvsd, status 10.9.0.2:9613)
//! ```

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use testbed::netns::{self, Namespace};

const HERE: &str = "10.9.0.1:9613";
const PEER: &str = "10.9.0.2:9613";

/// A native configuration: one `mh` service whose real servers are listed
/// in the order `hosts` (last octets), each with weight 1 but `heavy`
/// (weight 2); no checkers, so every real server is in service.
fn conf(listen: &str, hosts: &[u8], heavy: Option<u8>) -> String {
    let mut text = format!(
        "[global]\nstatus_listen = \"{listen}\"\n\n[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"mh\"\nscheduler_flags = [\"mh-port\"]\nforward = \"route\"\n"
    );
    for &h in hosts {
        let weight = if Some(h) == heavy { 2 } else { 1 };
        text.push_str(&format!(
            "\n[[services.destinations]]\naddress = \"10.0.0.{h}\"\nport = 80\nweight = {weight}\n"
        ));
    }
    text
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(mut cmd: Command, dir: &Path, name: &str, text: &str) -> Daemon {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write the configuration");
    let child = cmd
        .arg("--config")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ipvsd");
    Daemon(child)
}

fn compare(json: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipvsd"));
    cmd.args(["status", "--listen", HERE, "--compare", PEER]);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run ipvsd status")
}

/// Waits until both daemons answer with the service and its three real
/// servers in their tables.
fn wait_ready() {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = compare(true);
        let text = String::from_utf8_lossy(&out.stdout);
        let complete = |doc: &serde_json::Value| doc["services"] == 1;
        let ready = out.status.code().is_some_and(|c| c == 0 || c == 3)
            && serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|doc| complete(&doc) && !text.contains("only on"));
        if ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the directors did not come up: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The kernel's list of the service's real servers, head first, from the
/// status document of the director at `listen` (ipvsadm sorts its listing;
/// the netlink dump behind the document does not).
fn listed(listen: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .args(["status", "--listen", listen])
        .output()
        .expect("run ipvsd status");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    doc["virtual_servers"][0]["services"][0]["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| format!("{}:{}", d["address"].as_str().unwrap_or("?"), d["port"]))
        .collect()
}

#[test]
fn two_directors_compared_agree_then_disagree_on_a_weight_then_the_peer_is_gone() {
    netns::enter_fresh();
    let peer = Namespace::new("compare-peer").expect("namespace");
    netns::link_to(&peer, "to-peer", "10.9.0.1/24", "to-here", "10.9.0.2/24").expect("link");
    let dir = tempfile::tempdir().expect("temporary folder");

    // The same real servers listed in two orders: ipvsd keeps mh services
    // in one canonical order, so the kernels list them alike.
    let here = start(
        Command::new(env!("CARGO_BIN_EXE_ipvsd")),
        dir.path(),
        "here",
        &conf(HERE, &[11, 12, 13], None),
    );
    let mut there = start(
        peer.command(env!("CARGO_BIN_EXE_ipvsd")),
        dir.path(),
        "peer",
        &conf(PEER, &[13, 11, 12], None),
    );
    wait_ready();
    let out = compare(false);
    let text = String::from_utf8_lossy(&out.stdout);
    let (listed_here, listed_peer) = (listed(HERE), listed(PEER));
    eprintln!("kernel lists: here {listed_here:?}, peer {listed_peer:?}\n{text}");
    assert_eq!(
        listed_here,
        ["10.0.0.11:80", "10.0.0.12:80", "10.0.0.13:80"]
    );
    assert_eq!(listed_here, listed_peer);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text,
        format!("the tables of {HERE} and {PEER} agree on all 1 services\n")
    );

    // The peer gives 10.0.0.12 weight 2: a disagreement, with the share of
    // the mh table it moves.
    drop(there);
    there = start(
        peer.command(env!("CARGO_BIN_EXE_ipvsd")),
        dir.path(),
        "peer",
        &conf(PEER, &[11, 12, 13], Some(12)),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        let out = compare(true);
        if out.status.code() == Some(3) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert_eq!(out.status.code(), Some(3), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["agree"], false);
    let d = &doc["differences"][0];
    assert_eq!(d["service"], "tcp 192.0.2.10:80");
    assert_eq!(
        d["what"],
        "real server 10.0.0.12:80 has weight 1 here, 2 on the peer"
    );
    let moved = d["slots_differing"].as_u64().expect("a slot count");
    assert!(moved > 0 && moved < 4093, "{moved}");

    // The peer stopped: the comparison cannot be made, and says why.
    drop(there);
    let out = compare(false);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot reach ipvsd at {PEER}")),
        "{err}"
    );
    drop(here);
}
