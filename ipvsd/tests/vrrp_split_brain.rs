//! A split brain, on the host in network namespaces (no VM): when the
//! master hears a lower-priority router that also believes it is master,
//! it answers with an advert and announces its addresses again
//! (keepalived's `vrrp_state_master_rx`, `garp_lower_prio_repeat`), so a
//! host whose neighbour cache followed the other router comes back.
//!
//! The case: node 2 (priority 100) cannot hear node 1 (priority 150): a
//! strict reverse-path filter and a route to node 1's address through
//! `lo` drop node 1's adverts there. So both are master, and node 1 hears
//! node 2's adverts every second. Once node 2's own gratuitous ARPs are
//! over, a third host on the switch is made to hold node 2's MAC for the
//! virtual address (as when node 2's announcements arrived last: what the
//! lab saw when one director started slowly). Node 1 must take the host
//! back within node 2's next advert plus a margin, and stay master.
//! keepalived × keepalived runs beside the ipvsd pairings as the
//! reference.
//!
//! Root only (prints `skipped: needs root` otherwise).
//!
//! ```text
//! cargo test -p ipvsd --test vrrp_split_brain -- --nocapture
//! ```

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use testbed::netns::Namespace;
use testbed::vrrp::{IFACE, InstanceConfig, Lan, Node, Speaker, State};

/// The higher and the lower priority.
const HIGH: u8 = 150;
const LOW: u8 = 100;

/// The host that watches the virtual address's neighbour entry.
const HOST: usize = 3;

/// Over node 2's advertisement interval (its next advert, which node 1
/// answers): the answer's burst, the polling, scheduling on a busy 2-core
/// machine.
const MARGIN: Duration = Duration::from_millis(1500);

/// How often the host's neighbour entry is read.
const POLL: Duration = Duration::from_millis(20);

fn ipvsd_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ipvsd"))
}

/// The MAC address of `IFACE` in `ns`, as `ip link` prints it.
fn mac(ns: &Namespace) -> String {
    let out = ns
        .command("ip")
        .args(["-o", "link", "show", IFACE])
        .output()
        .expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words
        .by_ref()
        .find(|w| *w == "link/ether")
        .and_then(|_| words.next())
        .unwrap_or_else(|| panic!("no MAC in `{text}`"))
        .to_owned()
}

/// The MAC the host's neighbour entry for `vip` holds, if any.
fn neighbour(ns: &Namespace, vip: IpAddr) -> Option<String> {
    let out = ns
        .command("ip")
        .args(["neigh", "show", &vip.to_string(), "dev", IFACE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words
        .by_ref()
        .find(|w| *w == "lladdr")
        .and_then(|_| words.next())
        .map(str::to_owned)
}

fn wait_state(node: &Node, state: State, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while node.state() != state {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// One pairing: (node 1's speaker, node 2's speaker). Returns how long
/// after the host was set to node 2's MAC it held node 1's again.
fn heal(pairing: (Speaker, Speaker)) -> Result<Duration, String> {
    let config = InstanceConfig::default();
    let vip = config.family.vip();
    let lan = Lan::new(3).map_err(|e| format!("the topology: {e}"))?;
    let deaf = lan.node(2);
    let node1 = config.family.node_addr(1).to_string();
    deaf.ip(&["route", "add", &format!("{node1}/32"), "dev", "lo"])
        .map_err(|e| e.to_string())?;
    for key in ["all", IFACE] {
        deaf.sysctl(&format!("net/ipv4/conf/{key}/rp_filter"), "1")
            .map_err(|e| e.to_string())?;
    }
    let node = |n: usize, speaker, priority| {
        let c = InstanceConfig { priority, ..config };
        Node::new(speaker, &lan, n, c.render(n, &[]), Some(ipvsd_binary()))
            .map_err(|e| format!("node {n}: {e}"))
    };
    let mut high = node(1, pairing.0, HIGH)?;
    let mut low = node(2, pairing.1, LOW)?;
    high.start().map_err(|e| format!("start node 1: {e}"))?;
    low.start().map_err(|e| format!("start node 2: {e}"))?;
    let logs = |what: &str, high: &Node, low: &Node| {
        format!(
            "{what}\n--- node 1 ({}):\n{}\n--- node 2 ({}):\n{}",
            high.speaker(),
            high.log(),
            low.speaker(),
            low.log()
        )
    };
    let within = config.master_down(LOW) + Duration::from_secs(5);
    if !wait_state(&high, State::Master, within) || !wait_state(&low, State::Master, within) {
        return Err(logs(
            "both nodes master (node 2 deaf to node 1)",
            &high,
            &low,
        ));
    }
    // Node 2's second burst of gratuitous ARPs (garp_master_delay, 5 s)
    // is over before the host is set.
    std::thread::sleep(Duration::from_secs(6));
    let host = lan.node(HOST);
    let (mac1, mac2) = (mac(lan.node(1)), mac(lan.node(2)));
    host.ip(&[
        "neigh",
        "replace",
        &vip.to_string(),
        "lladdr",
        &mac2,
        "dev",
        IFACE,
        "nud",
        "stale",
    ])
    .map_err(|e| e.to_string())?;
    let set = Instant::now();
    let bound = config.advert_int() + MARGIN;
    let healed = loop {
        if neighbour(host, vip).as_deref() == Some(mac1.as_str()) {
            break set.elapsed();
        }
        if set.elapsed() > bound + Duration::from_secs(5) {
            return Err(logs(
                &format!(
                    "the host still holds {:?} for {vip}, not node 1's {mac1}, {:?} after it was set",
                    neighbour(host, vip),
                    set.elapsed()
                ),
                &high,
                &low,
            ));
        }
        std::thread::sleep(POLL);
    };
    if high.state() != State::Master || low.state() != State::Master {
        return Err(logs("a node left master", &high, &low));
    }
    if healed > bound {
        return Err(logs(
            &format!("healed after {healed:?}, over the bound {bound:?}"),
            &high,
            &low,
        ));
    }
    Ok(healed)
}

#[test]
fn the_master_takes_back_a_host_that_followed_a_lower_master() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("skipped: needs root");
        return;
    }
    let pairings = [
        (Speaker::Keepalived, Speaker::Keepalived),
        (Speaker::Ipvsd, Speaker::Keepalived),
        (Speaker::Keepalived, Speaker::Ipvsd),
        (Speaker::Ipvsd, Speaker::Ipvsd),
    ];
    // Each pairing on its own switch, at once: the speakers mostly sleep.
    let results: Vec<_> = std::thread::scope(|s| {
        let running: Vec<_> = pairings
            .iter()
            .map(|&p| s.spawn(move || (p, heal(p))))
            .collect();
        running
            .into_iter()
            .map(|h| h.join().expect("a pairing's thread"))
            .collect()
    });
    let mut failures = Vec::new();
    for ((one, two), result) in results {
        match result {
            Ok(t) => println!(
                "split brain healed: {one} × {two}: the host holds node 1's MAC again {:.3} s after it was set to node 2's",
                t.as_secs_f64()
            ),
            Err(why) => failures.push(format!("{one} × {two}: {why}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
