//! VRRP interoperability with keepalived, on the host, in network
//! namespaces (no VM): pairs of speakers (keepalived or `ipvsd
//! --keepalived`, each on the same generated keepalived.conf) on one
//! switch, driven through election, failover by SIGKILL, clean stop by
//! SIGTERM, with the virtual address sampled every [`POLL`] in each
//! namespace, and the master's advert captured from the wire and parsed
//! here, independently of `ipvsd`'s codec.
//!
//! Root only (prints `skipped: needs root` otherwise). The cases run one
//! at a time (a process-wide lock: timings want a quiet machine); within
//! a case the four pairings (keepalived or ipvsd as master, keepalived or
//! ipvsd as backup) run at once, each on its own switch. `VRRP_TRIALS`
//! (default 20) sets the trials of the main failover and clean-stop cases;
//! their v2 variants run at most 5.
//!
//! ```text
//! cargo test -p ipvsd --test vrrp_interop -- --nocapture --test-threads=1
//! ```
//!
//! Summaries go to stdout and are appended to
//! `<target>/vrrp-interop/summary.md`; captured adverts are kept as hex in
//! `<target>/vrrp-interop/adverts/`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use testbed::vrrp::{
    Family, InstanceConfig, Lan, Node, PASSWORD, Speaker, State, Transport, VRID, VipWatch,
};

/// How often the virtual address is sampled in each namespace (an
/// rtnetlink dump per node, tens of microseconds each).
const POLL: Duration = Duration::from_millis(10);

/// The slack allowed over the RFC's timer in the failover and clean-stop
/// bounds. What it covers: the sampling period (10 ms, the takeover shows
/// at the next sample), keepalived's timer wake-up and its netlink address
/// add, and the scheduling of three processes on a 2-core CI machine that
/// may be compiling meanwhile. On keepalived × keepalived the overshoot
/// seen over the RFC timer stayed well below this (see the summaries).
const MARGIN: Duration = Duration::from_millis(250);

/// The longest overlap, in samples in a row, that counts as a handover and
/// not a split brain. When node 1 preempts, it takes the address as it
/// sends its advert, and node 2 lets go only when that advert has arrived
/// and been handled (RFC 5798 §6.4.3), so both hold it for a moment. On a
/// busy 2-core machine, keepalived × keepalived itself was seen to overlap
/// for 2 samples (20 ms). A split brain lasts a master down interval or
/// more. The summaries report the largest overlap seen.
const HANDOVER_SAMPLES: u32 = 5;

/// The master's and the backup's priorities.
const MASTER_PRIO: u8 = 150;
const BACKUP_PRIO: u8 = 100;

/// Bits of [`VipWatch`] holders: node 1 (the configured master), node 2.
const NODE1: u32 = 0b01;
const NODE2: u32 = 0b10;

static SERIAL: Mutex<()> = Mutex::new(());

/// The process-wide lock, or `None` (and a note) when not root.
fn serial() -> Option<MutexGuard<'static, ()>> {
    if !nix::unistd::Uid::effective().is_root() {
        println!("skipped: needs root");
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(PoisonError::into_inner))
}

/// The pairings (master speaker, backup speaker): keepalived ×
/// keepalived is the reference the others are measured beside.
fn pairings() -> [(Speaker, Speaker); 4] {
    [
        (Speaker::Keepalived, Speaker::Keepalived),
        (Speaker::Ipvsd, Speaker::Keepalived),
        (Speaker::Keepalived, Speaker::Ipvsd),
        (Speaker::Ipvsd, Speaker::Ipvsd),
    ]
}

/// Runs `case` for every pairing at once, each on a switch of its own: the
/// speakers mostly sleep, so the pairings do not disturb each other's
/// timing (the bounds keep their margin), and the file's run time is that
/// of one pairing. A failing pairing's panic fails the test.
fn each_pairing(case: impl Fn((Speaker, Speaker)) + Sync) {
    std::thread::scope(|s| {
        for pairing in pairings() {
            let case = &case;
            s.spawn(move || case(pairing));
        }
    });
}

/// Trials of a main case (`VRRP_TRIALS`, default 20, as the issue asks).
fn trials() -> usize {
    std::env::var("VRRP_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
}

/// Trials of a variant of a main case (v2 where v3 has the 20): 5, or
/// fewer when `VRRP_TRIALS` asks for fewer.
fn variant_trials() -> usize {
    trials().min(5)
}

fn ipvsd_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ipvsd"))
}

fn out_dir() -> PathBuf {
    testbed::keepalived::target_dir().join("vrrp-interop")
}

/// Two speakers on one switch: node 1 configured with [`MASTER_PRIO`],
/// node 2 with [`BACKUP_PRIO`], and the sampler. Field order is drop
/// order: speakers first, then the sampler, then the namespaces.
struct Pair {
    master: Node,
    backup: Node,
    watch: VipWatch,
    lan: Lan,
    config: InstanceConfig,
    pairing: (Speaker, Speaker),
    started: Instant,
}

impl Pair {
    /// Builds the topology, writes both configurations, starts node 1 then
    /// node 2.
    fn start(pairing: (Speaker, Speaker), config: InstanceConfig) -> Self {
        let lan = Lan::new(2).expect("the topology");
        let watch = VipWatch::start(&lan, config.family.vip(), POLL).expect("the sampler");
        let mut nodes = [
            (1, pairing.0, MASTER_PRIO, 2),
            (2, pairing.1, BACKUP_PRIO, 1),
        ]
        .into_iter()
        .map(|(n, speaker, priority, peer)| {
            let c = InstanceConfig { priority, ..config };
            Node::new(speaker, &lan, n, c.render(n, &[peer]), Some(ipvsd_binary())).expect("a node")
        });
        let (mut master, mut backup) = (nodes.next().unwrap(), nodes.next().unwrap());
        let started = Instant::now();
        master.start().expect("start node 1");
        backup.start().expect("start node 2");
        Self {
            master,
            backup,
            watch,
            lan,
            config,
            pairing,
            started,
        }
    }

    fn name(&self) -> String {
        format!("{} × {}", self.pairing.0, self.pairing.1)
    }

    /// Panics with the case, the timeline tail and both logs.
    fn fail(&self, what: &str) -> ! {
        let tail: Vec<String> = self
            .watch
            .timeline()
            .iter()
            .rev()
            .take(12)
            .rev()
            .map(|s| {
                format!(
                    "  +{:>8.3}s holders {:02b} × {} samples",
                    (s.since - self.started).as_secs_f64(),
                    s.holders,
                    s.samples
                )
            })
            .collect();
        panic!(
            "{} [{}]: {what}\nVIP timeline (last segments; {} samples skipped on a failed dump):\n{}\n--- node 1 ({}) log {}:\n{}\n--- node 2 ({}) log {}:\n{}",
            self.config.label(),
            self.name(),
            self.watch.errors(),
            tail.join("\n"),
            self.master.speaker(),
            self.master.log_path().display(),
            last_lines(&self.master.log(), 40),
            self.backup.speaker(),
            self.backup.log_path().display(),
            last_lines(&self.backup.log(), 40),
        );
    }

    /// Waits until node `want` alone holds the virtual address, the sample
    /// being at or after `after`; `within` beyond now.
    fn wait_holders(&self, want: u32, after: Instant, within: Duration, what: &str) -> Instant {
        self.watch
            .wait_for(want, after, within)
            .unwrap_or_else(|| self.fail(&format!("{what}: not within {within:?}")))
    }

    /// Waits up to `within` for `node`'s logged state to be `state`.
    fn wait_state(&self, node: &Node, state: State, within: Duration) {
        let deadline = Instant::now() + within;
        while node.state() != state {
            if Instant::now() > deadline {
                self.fail(&format!(
                    "node {} logged {:?}, not {state:?}, within {within:?}",
                    node.index(),
                    node.state()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Node 1 holds the address alone, and both logs agree.
    fn converge(&self, after: Instant) -> Instant {
        let within = self.config.master_down(MASTER_PRIO) + Duration::from_secs(5);
        let at = self.wait_holders(NODE1, after, within, "node 1 alone holding the VIP");
        self.wait_state(&self.master, State::Master, Duration::from_secs(2));
        self.wait_state(&self.backup, State::Backup, Duration::from_secs(2));
        at
    }

    /// The longest run of samples in which both nodes held the address,
    /// from `from` on.
    fn both_held_samples(&self, from: Instant) -> u32 {
        self.watch
            .between(from, Instant::now())
            .iter()
            .filter(|s| s.holders == NODE1 | NODE2)
            .map(|s| s.samples)
            .max()
            .unwrap_or(0)
    }

    /// Segments in `[from, to]` held by anyone but node `want` alone.
    fn others(&self, want: u32, from: Instant, to: Instant) -> Vec<u32> {
        self.watch
            .between(from, to)
            .iter()
            .filter(|s| s.holders != want)
            .map(|s| s.holders)
            .collect()
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Median and maximum of `v` (seconds).
fn stats(v: &[Duration]) -> (f64, f64) {
    let mut s: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    let median = if s.is_empty() {
        0.0
    } else if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (median, s.last().copied().unwrap_or(0.0))
}

/// Prints a summary row and appends it to `<target>/vrrp-interop/summary.md`.
fn summary(case: &str, config: &InstanceConfig, pairing: &str, cols: &str) {
    let row = format!("| {case} | {} | {pairing} | {cols} |", config.label());
    println!("{row}");
    let path = out_dir().join("summary.md");
    let _ = std::fs::create_dir_all(out_dir());
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        use std::io::Write as _;
        let _ = writeln!(f, "{row}");
    }
}

fn cfg(version: u8, family: Family, transport: Transport) -> InstanceConfig {
    InstanceConfig {
        version,
        family,
        transport,
        ..InstanceConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Election: the 150 node wins, alone, and stays alone.

/// How long the sole holder is watched after convergence.
const WINDOW: Duration = Duration::from_secs(3);

fn election(config: InstanceConfig) {
    let Some(_serial) = serial() else { return };
    each_pairing(|pairing| {
        let pair = Pair::start(pairing, config);
        let converged = pair.converge(pair.started);
        let to_master = converged - pair.started;
        // Both start as BACKUP: node 1 cannot win before its master down
        // interval (less one poll for the sampling), as keepalived's own
        // run showed (3.4 s for v3, priority 150).
        let earliest = config.master_down(MASTER_PRIO).saturating_sub(POLL);
        if to_master < earliest {
            pair.fail(&format!(
                "node 1 became master after {to_master:?}, before its master down interval {earliest:?}"
            ));
        }
        std::thread::sleep(WINDOW);
        let others = pair.others(NODE1, converged, Instant::now());
        if !others.is_empty() {
            pair.fail(&format!(
                "over {WINDOW:?} after convergence the holders were also {others:?}"
            ));
        }
        if pair.master.state() != State::Master || pair.backup.state() != State::Backup {
            pair.fail("the logged states changed during the window");
        }
        let samples: u32 = pair
            .watch
            .between(converged, Instant::now())
            .iter()
            .map(|s| s.samples)
            .sum();
        summary(
            "election",
            &config,
            &pair.name(),
            &format!(
                "master after {:.3} s (RFC {:.3} s) | {samples} samples, one holder",
                to_master.as_secs_f64(),
                config.master_down(MASTER_PRIO).as_secs_f64()
            ),
        );
    });
}

#[test]
fn election_v2_ipv4_multicast() {
    election(cfg(2, Family::V4, Transport::Multicast));
}

#[test]
fn election_v3_ipv4_multicast() {
    election(cfg(3, Family::V4, Transport::Multicast));
}

#[test]
fn election_v3_ipv6_multicast() {
    election(cfg(3, Family::V6, Transport::Multicast));
}

#[test]
fn election_v2_ipv4_unicast() {
    election(cfg(2, Family::V4, Transport::Unicast));
}

#[test]
fn election_v3_ipv4_unicast() {
    election(cfg(3, Family::V4, Transport::Unicast));
}

#[test]
fn election_v3_ipv6_unicast() {
    election(cfg(3, Family::V6, Transport::Unicast));
}

#[test]
fn election_v2_ipv4_pass_auth() {
    election(InstanceConfig {
        auth_pass: true,
        ..cfg(2, Family::V4, Transport::Multicast)
    });
}

// ---------------------------------------------------------------------------
// Failover and clean stop, with the split-brain check on every trial.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGKILL of the whole process group (a crash; the dead host's address
    /// is then deleted by the harness, as a dead host no longer answers).
    Kill,
    /// SIGTERM: the master sends priority 0.
    Term,
}

fn takeover(config: InstanceConfig, stop: Stop, n: usize) {
    let Some(_serial) = serial() else { return };
    let (case, bound, earliest) = match stop {
        // The backup's timer was last reset by an advert up to one interval
        // before the kill: between 2 and 3 intervals plus skew after it.
        Stop::Kill => (
            "failover (SIGKILL)",
            config.master_down(BACKUP_PRIO) + MARGIN,
            config
                .master_down(BACKUP_PRIO)
                .saturating_sub(config.advert_int() + POLL),
        ),
        // Priority 0: the backup waits its skew time only (RFC 5798 §6.4.2).
        Stop::Term => (
            "clean stop (SIGTERM)",
            config.skew(BACKUP_PRIO) + MARGIN,
            config.skew(BACKUP_PRIO).saturating_sub(POLL),
        ),
    };
    each_pairing(|pairing| {
        let case_started = Instant::now();
        let mut pair = Pair::start(pairing, config);
        let mut converged = pair.converge(pair.started);
        let mut times = Vec::with_capacity(n);
        let mut log_lags = Vec::with_capacity(n);
        let mut max_both = 0;
        for trial in 1..=n {
            // Steady state: the backup has had adverts from this master.
            std::thread::sleep(config.advert_int() * 2);
            let steady = Instant::now();
            let others = pair.others(NODE1, converged, steady);
            if !others.is_empty() {
                pair.fail(&format!(
                    "trial {trial}: before the stop, the holders were also {others:?}"
                ));
            }
            let backup_transitions = pair.backup.transitions().len();
            let t0 = match stop {
                Stop::Kill => {
                    let t0 = pair.master.kill();
                    pair.lan
                        .drop_vip(1, config.family)
                        .unwrap_or_else(|e| pair.fail(&format!("deleting the dead VIP: {e}")));
                    t0
                }
                Stop::Term => pair.master.terminate(),
            };
            let within = bound + Duration::from_secs(3);
            let took = pair.wait_holders(NODE2, t0, within, &format!("trial {trial}: takeover"));
            let dt = took - t0;
            if dt > bound || dt < earliest {
                pair.fail(&format!(
                    "trial {trial}: node 2 held the VIP {dt:?} after the stop, outside [{earliest:?}, {bound:?}]"
                ));
            }
            pair.wait_state(&pair.backup, State::Master, Duration::from_secs(2));
            if let Some(t) = pair
                .backup
                .transitions()
                .get(backup_transitions..)
                .and_then(|new| new.iter().find(|t| t.to == State::Master))
            {
                log_lags.push(t.seen.saturating_duration_since(t0));
            }
            times.push(dt);
            if stop == Stop::Term && !pair.master.wait(Duration::from_secs(5)) {
                pair.fail(&format!(
                    "trial {trial}: node 1 did not exit on SIGTERM within 5 s"
                ));
            }
            // Back: node 1 preempts (3 intervals plus its skew), node 2 yields.
            let restarted = Instant::now();
            pair.master
                .start()
                .unwrap_or_else(|e| pair.fail(&format!("restart: {e}")));
            converged = pair.converge(restarted);
            // Let the yielding node's removal show in a few more samples.
            std::thread::sleep(POLL * 5);
            let both = pair.both_held_samples(t0);
            max_both = max_both.max(both);
            if both > HANDOVER_SAMPLES {
                pair.fail(&format!(
                    "trial {trial}: both nodes held the VIP for {both} consecutive samples ({:?} each; a handover may take {HANDOVER_SAMPLES})",
                    POLL
                ));
            }
        }
        let (median, max) = stats(&times);
        let (log_median, log_max) = stats(&log_lags);
        summary(
            case,
            &config,
            &pair.name(),
            &format!(
                "{n} trials | median {median:.3} s | max {max:.3} s | bound {:.3} s | log line median {log_median:.3} s max {log_max:.3} s | both held ≤ {max_both} sample(s) | {:.0} s in all",
                bound.as_secs_f64(),
                case_started.elapsed().as_secs_f64()
            ),
        );
    });
}

#[test]
fn failover_sigkill_v3_ipv4_advert_1s() {
    takeover(
        cfg(3, Family::V4, Transport::Multicast),
        Stop::Kill,
        trials(),
    );
}

#[test]
fn failover_sigkill_v2_ipv4_advert_1s() {
    takeover(
        cfg(2, Family::V4, Transport::Multicast),
        Stop::Kill,
        variant_trials(),
    );
}

#[test]
fn failover_sigkill_v3_ipv4_advert_100ms() {
    takeover(
        InstanceConfig {
            advert_int_cs: 10,
            ..cfg(3, Family::V4, Transport::Multicast)
        },
        Stop::Kill,
        trials(),
    );
}

#[test]
fn clean_stop_sigterm_v3_ipv4() {
    takeover(
        cfg(3, Family::V4, Transport::Multicast),
        Stop::Term,
        trials(),
    );
}

#[test]
fn clean_stop_sigterm_v2_ipv4_pass() {
    takeover(
        InstanceConfig {
            auth_pass: true,
            ..cfg(2, Family::V4, Transport::Multicast)
        },
        Stop::Term,
        variant_trials(),
    );
}

// ---------------------------------------------------------------------------
// Golden bytes: the master's advert from the wire, parsed here.

/// One advert as seen on the wire, parsed field by field (RFC 3768 §5.3,
/// RFC 5798 §5.2), with its IP header's relevant fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Advert {
    /// IP source and destination, TTL / hop limit.
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    /// VRRP header.
    version: u8,
    kind: u8,
    vrid: u8,
    priority: u8,
    count: u8,
    /// v2: the auth type byte; v3: the 4 reserved bits.
    auth_type_or_reserved: u8,
    /// v2: seconds; v3: centiseconds (12 bits).
    advert_int: u16,
    checksum: u16,
    addresses: Vec<IpAddr>,
    /// v2 only: the 8 bytes of authentication data.
    auth_data: Option<[u8; 8]>,
    /// Which checksum computations give zero over the message: without and
    /// with the IP pseudo-header.
    sum_plain_ok: bool,
    sum_pseudo_ok: bool,
}

fn be16(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]))
        .ok_or_else(|| format!("short packet: no 16-bit field at {at}"))
}

/// The one's complement sum of `parts` folded to 16 bits (RFC 1071).
fn ones_sum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn parse_advert(ip: &[u8]) -> Result<Advert, String> {
    let first = *ip.first().ok_or("empty packet")?;
    let (src, dst, ttl, vrrp, pseudo): (IpAddr, IpAddr, u8, &[u8], Vec<u8>) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            if ip.len() < ihl || ihl < 20 || ip[9] != 112 {
                return Err("not an IPv4 VRRP packet".into());
            }
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            let vrrp = &ip[ihl..];
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&[0, 112]);
            pseudo.extend_from_slice(&(vrrp.len() as u16).to_be_bytes());
            (src.into(), dst.into(), ip[8], vrrp, pseudo)
        }
        6 => {
            if ip.len() < 40 || ip[6] != 112 {
                return Err("not an IPv6 VRRP packet (or extension headers)".into());
            }
            let a = |at: usize| -> Ipv6Addr {
                let mut o = [0u8; 16];
                o.copy_from_slice(&ip[at..at + 16]);
                o.into()
            };
            let (src, dst) = (a(8), a(24));
            let vrrp = &ip[40..];
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&(vrrp.len() as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 112]);
            (src.into(), dst.into(), ip[7], vrrp, pseudo)
        }
        v => return Err(format!("IP version {v}")),
    };
    if vrrp.len() < 8 {
        return Err(format!("VRRP message of {} bytes", vrrp.len()));
    }
    let version = vrrp[0] >> 4;
    let count = vrrp[3];
    let addr_len = if src.is_ipv4() { 4 } else { 16 };
    let (auth_type_or_reserved, advert_int) = match version {
        2 => (vrrp[4], u16::from(vrrp[5])),
        3 => (vrrp[4] >> 4, be16(vrrp, 4)? & 0x0fff),
        v => return Err(format!("VRRP version {v}")),
    };
    let mut addresses = Vec::new();
    let mut at = 8;
    for _ in 0..count {
        let raw = vrrp
            .get(at..at + addr_len)
            .ok_or("fewer addresses than the count says")?;
        addresses.push(match raw.len() {
            4 => IpAddr::from([raw[0], raw[1], raw[2], raw[3]]),
            _ => {
                let mut o = [0u8; 16];
                o.copy_from_slice(raw);
                IpAddr::from(o)
            }
        });
        at += addr_len;
    }
    let auth_data = if version == 2 {
        let raw = vrrp.get(at..at + 8).ok_or("no v2 authentication data")?;
        let mut d = [0u8; 8];
        d.copy_from_slice(raw);
        at += 8;
        Some(d)
    } else {
        None
    };
    if at != vrrp.len() {
        return Err(format!("{} bytes after the message", vrrp.len() - at));
    }
    Ok(Advert {
        src,
        dst,
        ttl,
        version,
        kind: vrrp[0] & 0x0f,
        vrid: vrrp[1],
        priority: vrrp[2],
        count,
        auth_type_or_reserved,
        advert_int,
        checksum: be16(vrrp, 6)?,
        addresses,
        auth_data,
        sum_plain_ok: ones_sum(&[vrrp]) == 0xffff,
        sum_pseudo_ok: ones_sum(&[&pseudo, vrrp]) == 0xffff,
    })
}

#[test]
fn parse_advert_reads_the_reference_capture() {
    // keepalived 2.2.7's v2 + PASS advert from the shared reference
    // (keepalived-and-vrrp.md §2.3), behind a made-up IPv4 header from
    // 10.99.0.1 to 224.0.0.18 (the v2 checksum ignores it).
    let mut ip = vec![
        0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 112, 0x00, 0x00, 10, 99, 0, 1, 224,
        0, 0, 18,
    ];
    ip.extend_from_slice(&[
        0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0xcf, 0x84, 10, 99, 0, 100,
    ]);
    ip.extend_from_slice(b"secret12");
    let a = parse_advert(&ip).unwrap();
    assert_eq!(
        (a.version, a.kind, a.vrid, a.priority, a.count),
        (2, 1, 51, 150, 1)
    );
    assert_eq!((a.auth_type_or_reserved, a.advert_int), (1, 1));
    assert_eq!(a.checksum, 0xcf84);
    assert!(a.sum_plain_ok, "the reference v2 checksum must verify");
    assert_eq!(a.auth_data, Some(*b"secret12"));
    assert_eq!(a.addresses, vec![IpAddr::from([10, 99, 0, 100])]);
    // A flipped bit breaks the checksum; a truncated packet is an error.
    ip[22] ^= 1;
    assert!(!parse_advert(&ip).unwrap().sum_plain_ok);
    assert!(parse_advert(&ip[..30]).is_err());
}

/// Runs `pairing` on `config`, waits for node 1 to be master, and returns
/// one of its adverts (the IP packet), keeping it as hex in
/// `<target>/vrrp-interop/adverts/`.
fn capture_advert(pairing: (Speaker, Speaker), config: InstanceConfig) -> (Vec<u8>, String) {
    let pair = Pair::start(pairing, config);
    let converged = pair.converge(pair.started);
    let got = testbed::vrrp::capture(
        &pair.lan,
        1,
        config.advert_int() * 3 + Duration::from_secs(2),
        |p| parse_advert(p).is_ok_and(|a| a.priority == MASTER_PRIO),
    )
    .unwrap_or_else(|e| pair.fail(&format!("capture: {e}")));
    if got.seen < converged {
        pair.fail("captured an advert older than the convergence");
    }
    let name = format!(
        "{}-{}.hex",
        pairing.0,
        config.label().replace([' ', '.'], "_")
    );
    let text = format!(
        "# {} advert, node 1 ({}), {}\n# IP packet, captured on the switch port\n{}\n",
        pairing.0,
        config.family.node_addr(1),
        config.label(),
        testbed::vrrp::hex(&got.packet)
    );
    let _ = testbed::vrrp::save(&out_dir().join("adverts").join(name), &text);
    (got.packet, pair.master.log())
}

/// Checks every field of `a` against `config` (node 1, priority 150).
fn assert_fields(a: &Advert, config: &InstanceConfig, who: &str, checksum_as_v2: bool) {
    let ctx = format!("{who}, {}: {a:#?}", config.label());
    assert_eq!(a.ttl, 255, "TTL / hop limit ({ctx})");
    assert_eq!(a.version, config.version, "version ({ctx})");
    assert_eq!(a.kind, 1, "type advertisement ({ctx})");
    assert_eq!(a.vrid, VRID, "vrid ({ctx})");
    assert_eq!(a.priority, MASTER_PRIO, "priority ({ctx})");
    assert_eq!(a.count, 1, "address count ({ctx})");
    assert_eq!(a.addresses, vec![config.family.vip()], "addresses ({ctx})");
    let dst = match (config.transport, config.family) {
        (Transport::Unicast, f) => f.node_addr(2),
        (Transport::Multicast, Family::V4) => IpAddr::from([224, 0, 0, 18]),
        (Transport::Multicast, Family::V6) => "ff02::12".parse().unwrap(),
    };
    assert_eq!(a.dst, dst, "destination ({ctx})");
    match (config.family, config.transport) {
        (Family::V6, Transport::Multicast) => match a.src {
            IpAddr::V6(s) => assert!(s.is_unicast_link_local(), "link-local source ({ctx})"),
            IpAddr::V4(_) => panic!("IPv4 source ({ctx})"),
        },
        _ => assert_eq!(a.src, config.family.node_addr(1), "source ({ctx})"),
    }
    if config.version == 2 {
        assert_eq!(
            u32::from(a.advert_int) * 100,
            u32::from(config.advert_int_cs),
            "v2 interval in seconds ({ctx})"
        );
        assert_eq!(
            a.auth_type_or_reserved,
            u8::from(config.auth_pass),
            "auth type ({ctx})"
        );
        let want = if config.auth_pass {
            *b"secret12"
        } else {
            [0; 8]
        };
        assert_eq!(PASSWORD.as_bytes(), b"secret12");
        assert_eq!(a.auth_data, Some(want), "auth data ({ctx})");
        assert!(a.sum_plain_ok, "v2 checksum without pseudo-header ({ctx})");
    } else {
        assert_eq!(
            a.advert_int, config.advert_int_cs,
            "v3 interval in centiseconds ({ctx})"
        );
        assert_eq!(a.auth_type_or_reserved, 0, "reserved bits ({ctx})");
        match (config.family, checksum_as_v2) {
            (Family::V6, _) => assert!(a.sum_pseudo_ok, "IPv6 pseudo-header checksum ({ctx})"),
            (Family::V4, false) => assert!(
                a.sum_pseudo_ok && !a.sum_plain_ok,
                "v3 IPv4 checksum with the pseudo-header ({ctx})"
            ),
            (Family::V4, true) => assert!(
                a.sum_plain_ok && !a.sum_pseudo_ok,
                "v3 IPv4 checksum without the pseudo-header ({ctx})"
            ),
        }
    }
}

/// True when keepalived's log shows it refused `v3_checksum_as_v2`
/// (unknown before 2.2.8: keepalived/keepalived#2234).
fn keepalived_ignored_as_v2(log: &str) -> bool {
    log.lines()
        .any(|l| l.contains("v3_checksum_as_v2") && l.to_ascii_lowercase().contains("unknown"))
}

fn golden(config: InstanceConfig) {
    let Some(_serial) = serial() else { return };
    each_pairing(|pairing| {
        let (packet, log) = capture_advert(pairing, config);
        let a = parse_advert(&packet)
            .unwrap_or_else(|e| panic!("{e}: {}", testbed::vrrp::hex(&packet)));
        let mut as_v2 = config.checksum_as_v2;
        let mut note = String::new();
        if as_v2 && pairing.0 == Speaker::Keepalived && keepalived_ignored_as_v2(&log) {
            // This keepalived cannot send the RFC 9568 form: assert what it
            // does send, and say so.
            as_v2 = false;
            note = " (keepalived does not know v3_checksum_as_v2: pseudo-header kept)".into();
        }
        assert_fields(&a, &config, &pairing.0.to_string(), as_v2);
        summary(
            "golden advert",
            &config,
            &format!("{} × {}", pairing.0, pairing.1),
            &format!(
                "{} B VRRP, checksum {:#06x}{note} | {}",
                packet.len() - if a.src.is_ipv4() { 20 } else { 40 },
                a.checksum,
                testbed::vrrp::hex(&packet[if a.src.is_ipv4() { 20 } else { 40 }..])
                    .replace('\n', " ")
            ),
        );
    });
}

#[test]
fn golden_advert_v3_ipv4_pseudo_header() {
    golden(cfg(3, Family::V4, Transport::Multicast));
}

#[test]
fn golden_advert_v3_ipv4_checksum_as_v2() {
    golden(InstanceConfig {
        checksum_as_v2: true,
        ..cfg(3, Family::V4, Transport::Multicast)
    });
}

#[test]
fn golden_advert_v3_ipv4_unicast() {
    golden(cfg(3, Family::V4, Transport::Unicast));
}

#[test]
fn golden_advert_v2_ipv4_pass() {
    golden(InstanceConfig {
        auth_pass: true,
        ..cfg(2, Family::V4, Transport::Multicast)
    });
}

#[test]
fn golden_advert_v3_ipv6() {
    golden(cfg(3, Family::V6, Transport::Multicast));
}

/// keepalived's and ipvsd's adverts for the same configuration on the
/// same node, field by field (the IPv6 link-local source differs by
/// namespace, the rest must not).
#[test]
fn adverts_of_both_speakers_match() {
    let Some(_serial) = serial() else { return };
    let configs = [
        cfg(3, Family::V4, Transport::Multicast),
        InstanceConfig {
            checksum_as_v2: true,
            ..cfg(3, Family::V4, Transport::Multicast)
        },
        cfg(3, Family::V4, Transport::Unicast),
        InstanceConfig {
            auth_pass: true,
            ..cfg(2, Family::V4, Transport::Multicast)
        },
        cfg(3, Family::V6, Transport::Multicast),
    ];
    for config in configs {
        let (ka, ka_log) = capture_advert((Speaker::Keepalived, Speaker::Keepalived), config);
        let (ours, _) = capture_advert((Speaker::Ipvsd, Speaker::Keepalived), config);
        let mut ka = parse_advert(&ka).unwrap();
        let mut ours = parse_advert(&ours).unwrap();
        if config.checksum_as_v2 && keepalived_ignored_as_v2(&ka_log) {
            println!(
                "{}: keepalived lacks v3_checksum_as_v2; ipvsd's advert checked alone",
                config.label()
            );
            assert_fields(&ours, &config, "ipvsd", true);
            continue;
        }
        if config.family == Family::V6 {
            // Link-local sources differ (random MACs); so does the checksum.
            for a in [&mut ka, &mut ours] {
                a.src = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
                a.checksum = 0;
            }
        }
        assert_eq!(
            ours,
            ka,
            "{}: ipvsd's advert differs from keepalived's",
            config.label()
        );
        summary(
            "same advert",
            &config,
            "keepalived vs ipvsd",
            "all fields equal",
        );
    }
}
