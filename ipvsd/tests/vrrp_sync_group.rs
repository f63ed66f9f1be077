//! VRRP sync groups (`vrrp_sync_group`) against Debian's keepalived, on
//! the host, in network namespaces (no VM): two nodes on one switch, each
//! with the instances `VI_A` (virtual router 61, 10.99.0.101) and `VI_B`
//! (virtual router 62, 10.99.0.102) in the group `VG`; node 1 has priority
//! 150, node 2 priority 100, v3 every 0.5 s. Only `VI_A` tracks an
//! interface (`trk0`, one end of a veth pair).
//!
//! On each pairing (keepalived × keepalived as the reference, ipvsd and
//! keepalived both ways, ipvsd × ipvsd), at once, each on its own switch:
//! 1. node 1 holds both addresses;
//! 2. `trk0` goes down on node 1: both addresses move to node 2 (the group
//!    follows its failed member) and stay there, never split;
//! 3. `trk0` comes back: node 1 preempts with both;
//! 4. each node's VRRP notify FIFO shows the group's lines
//!    (`GROUP "VG" STATE 0`) in keepalived's order.
//!
//! Root only (prints `skipped: needs root` otherwise). About 15 s.
//!
//! ```text
//! cargo test -p ipvsd --test vrrp_sync_group -- --nocapture
//! ```

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use testbed::vrrp::{IFACE, Lan, Node, Speaker, VipWatch};

/// How often each virtual address is sampled in each namespace.
const POLL: Duration = Duration::from_millis(10);
/// Node 1's and node 2's priority.
const PRIORITIES: [u8; 2] = [150, 100];
/// The tracked interface on each node (a veth pair's end).
const TRACKED: &str = "trk0";
/// Holders bits of [`VipWatch`]: node 1, node 2.
const NODE1: u32 = 0b01;
const NODE2: u32 = 0b10;

fn vip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, last))
}

/// The same configuration on both nodes but the priority and the FIFO.
fn config(priority: u8, fifo: &Path) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "global_defs {{\n    router_id sg{priority}\n    vrrp_notify_fifo {}\n}}\n",
        fifo.display()
    );
    let _ = writeln!(
        c,
        "vrrp_sync_group VG {{\n    group {{\n        VI_A\n        VI_B\n    }}\n}}\n"
    );
    for (name, vrid, last) in [("VI_A", 61, 101), ("VI_B", 62, 102)] {
        let _ = writeln!(c, "vrrp_instance {name} {{");
        let _ = writeln!(c, "    state BACKUP\n    interface {IFACE}");
        let _ = writeln!(c, "    virtual_router_id {vrid}\n    priority {priority}");
        let _ = writeln!(c, "    advert_int 0.5\n    version 3");
        if name == "VI_A" {
            let _ = writeln!(c, "    track_interface {{\n        {TRACKED}\n    }}");
        }
        let _ = writeln!(
            c,
            "    virtual_ipaddress {{\n        {}/24 dev {IFACE}\n    }}\n}}\n",
            vip(last)
        );
    }
    c
}

/// Reads a FIFO's lines as they come (opened read-write and non-blocking,
/// so that it neither waits for a writer nor sees an end of file).
struct FifoReader {
    lines: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FifoReader {
    fn start(path: &Path) -> Self {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .expect("open the FIFO");
        let lines = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (lines, stop) = (Arc::clone(&lines), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    match file.read(&mut buf) {
                        Ok(n) if n > 0 => lines
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push_str(&String::from_utf8_lossy(&buf[..n])),
                        _ => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Self {
            lines,
            stop,
            thread: Some(thread),
        }
    }

    fn text(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The group's states, in order, from its `GROUP "VG" STATE 0` lines.
    fn group_states(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter_map(|l| l.strip_prefix("GROUP \"VG\" "))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for FifoReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One pairing on its own switch. Field order is drop order.
struct Case {
    nodes: [Node; 2],
    fifos: [FifoReader; 2],
    watches: [VipWatch; 2],
    lan: Lan,
    dirs: [PathBuf; 2],
    pairing: (Speaker, Speaker),
}

impl Case {
    fn start(pairing: (Speaker, Speaker)) -> Self {
        let lan = Lan::new(2).expect("the topology");
        let watches = [101, 102].map(|l| VipWatch::start(&lan, vip(l), POLL).expect("a sampler"));
        let dirs = [1, 2].map(|n| {
            let d = std::env::temp_dir().join(format!(
                "vrrp-sg-{}-{}",
                std::process::id(),
                lan.node(n).name()
            ));
            std::fs::create_dir_all(&d).expect("a folder");
            d
        });
        let fifos = [0, 1].map(|i| FifoReader::start(&dirs[i].join("notify.fifo")));
        for n in 1..=2 {
            let ns = lan.node(n);
            ns.ip(&[
                "link", "add", TRACKED, "type", "veth", "peer", "name", "trk1",
            ])
            .expect("a veth pair");
            ns.ip(&["link", "set", "trk1", "up"]).expect("link up");
            ns.ip(&["link", "set", TRACKED, "up"]).expect("link up");
        }
        let speakers = [pairing.0, pairing.1];
        let binary = Path::new(env!("CARGO_BIN_EXE_ipvsd"));
        let mut nodes = [0, 1].map(|i| {
            let c = config(PRIORITIES[i], &dirs[i].join("notify.fifo"));
            Node::new(speakers[i], &lan, i + 1, c, Some(binary)).expect("a node")
        });
        for n in &mut nodes {
            n.start().expect("a start");
        }
        Self {
            nodes,
            fifos,
            watches,
            lan,
            dirs,
            pairing,
        }
    }

    fn name(&self) -> String {
        format!("{} × {}", self.pairing.0, self.pairing.1)
    }

    fn fail(&self, what: &str) -> ! {
        let logs: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                let log = n.log();
                let lines: Vec<&str> = log.lines().collect();
                format!(
                    "--- node {} ({}):\n{}",
                    n.index(),
                    n.speaker(),
                    lines[lines.len().saturating_sub(40)..].join("\n")
                )
            })
            .collect();
        panic!(
            "[{}] {what}\nFIFO node 1:\n{}FIFO node 2:\n{}{}",
            self.name(),
            self.fifos[0].text(),
            self.fifos[1].text(),
            logs.join("\n")
        );
    }

    /// Waits until both addresses are held by `want` alone.
    fn wait_both(&self, want: u32, within: Duration, what: &str) -> Instant {
        let start = Instant::now();
        for w in &self.watches {
            let left = within.saturating_sub(start.elapsed());
            if w.wait_for(want, start, left).is_none() {
                self.fail(&format!("{what}: not within {within:?}"));
            }
        }
        Instant::now()
    }

    /// Both addresses stayed with `want` alone from `from` to now.
    fn stayed(&self, want: u32, from: Instant) -> bool {
        self.watches.iter().all(|w| {
            w.between(from, Instant::now())
                .iter()
                .all(|s| s.holders == want)
        })
    }

    fn tracked(&self, node: usize, up: bool) -> Instant {
        let state = if up { "up" } else { "down" };
        self.lan
            .node(node)
            .ip(&["link", "set", TRACKED, state])
            .expect("link set");
        Instant::now()
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn run(pairing: (Speaker, Speaker)) -> String {
    let case = Case::start(pairing);
    let t0 = Instant::now();
    case.wait_both(
        NODE1,
        Duration::from_secs(8),
        "node 1 holding both at start",
    );
    let elected = t0.elapsed();
    // Node 2 runs and has heard node 1 (its start may lag: keepalived's
    // first use builds its copy).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !case.fifos[1].text().contains("GROUP \"VG\" BACKUP") {
        if Instant::now() > deadline {
            case.fail("node 2's group never reported BACKUP");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(1));
    if !case.stayed(NODE1, t0 + elected) {
        case.fail("node 1 did not keep both addresses while node 2 started");
    }

    // A member of the master's group fails: the whole group moves.
    let failed = case.tracked(1, false);
    let moved = case.wait_both(NODE2, Duration::from_secs(5), "both moving to node 2");
    let failover = moved - failed;
    std::thread::sleep(Duration::from_secs(2));
    if !case.stayed(NODE2, moved) {
        case.fail("the group did not stay on node 2 while node 1's member was failed");
    }

    // It recovers: node 1's group preempts with both.
    let recovered = case.tracked(1, true);
    let back = case.wait_both(NODE1, Duration::from_secs(8), "both back on node 1");
    let preempt = back - recovered;
    // The FIFO lines follow the transitions closely; give them a moment.
    std::thread::sleep(Duration::from_millis(300));

    let want1 = ["BACKUP 0", "MASTER 0", "FAULT 0", "BACKUP 0", "MASTER 0"];
    let want2 = ["BACKUP 0", "MASTER 0", "BACKUP 0"];
    let got = [case.fifos[0].group_states(), case.fifos[1].group_states()];
    if got[0] != want1 || got[1] != want2 {
        case.fail(&format!(
            "group FIFO lines: node 1 {:?} (want {want1:?}), node 2 {:?} (want {want2:?})",
            got[0], got[1]
        ));
    }
    for (i, f) in case.fifos.iter().enumerate() {
        let text = f.text();
        for inst in ["VI_A", "VI_B"] {
            if !text.contains(&format!("INSTANCE \"{inst}\" MASTER")) {
                case.fail(&format!("node {}: no MASTER line of {inst}", i + 1));
            }
        }
    }
    format!(
        "{:<22} elected {:>6.3}s  failover (member fault -> both on node 2) {:>6.3}s  preempt back {:>6.3}s",
        case.name(),
        elected.as_secs_f64(),
        failover.as_secs_f64(),
        preempt.as_secs_f64()
    )
}

#[test]
fn a_member_fault_moves_the_whole_group_and_preempt_brings_it_back() {
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
    let results: Vec<std::thread::Result<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = pairings.iter().map(|p| s.spawn(move || run(*p))).collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(line) => println!("{line}"),
            Err(e) => failed.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
            ),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
