//! keepalived #2318's size (issue 11, "Scale and speed"): one
//! keepalived.conf of about 2,300 virtual services and 37,000 real servers,
//! run by Debian's keepalived (checker side) and by `ipvsd --keepalived`,
//! taking turns (keepalived, ipvsd, keepalived, ipvsd, ...), each from an
//! empty table in a fresh network namespace. For each run:
//!
//! - start-up: from spawn until the kernel table is full (the service and
//!   real-server lines of /proc/net/ip_vs counted, every second);
//! - CPU (user + system, /proc/PID/stat) and peak memory (`VmHWM`) of the
//!   program's processes (keepalived's parent and checker child summed) at
//!   that moment;
//! - reload: one real server's weight edited in the file, SIGHUP, time until
//!   the kernel shows the new weight (that service's real servers read over
//!   netlink every 5 ms); then the whole table (`ipvsadm -Sn`) compared with
//!   the one before: nothing but that server may differ. What the reload
//!   touched: for ipvsd, the table changes it applied (`ipvsd_steps_applied`
//!   of its /metrics, before and after) and its reload log line; for both,
//!   the smallest table seen while waiting (a dip means real servers were
//!   removed and put back) and the CPU the reload cost;
//! - stop: SIGTERM until the program has exited and the table is empty.
//!
//! Real servers have no checker: both programs count them as up.
//!
//! ```sh
//! cargo bench -p ipvsd --bench kernel_scale          # 2,300 x 16, 2 rounds
//! IPVS_RS_SCALE_SERVICES=100 IPVS_RS_SCALE_REALS=4 \
//!     cargo bench -p ipvsd --bench kernel_scale      # a quick try
//! ```
//! Settings (environment): `IPVSD_SCALE_SERVICES` (default 2,300),
//! `IPVSD_SCALE_REALS` (real servers per service, default 16),
//! `IPVSD_SCALE_ROUNDS` (default 2), `IPVSD_SCALE_DEADLINE` (seconds a
//! start-up or stop may take, default 900), `IPVSD_SCALE_RELOAD_DEADLINE`
//! (seconds for the new weight to show, default 120). The VM runner passes
//! only `IPVS_RS_*` variables into the guest, so each is also read as
//! `IPVS_RS_SCALE_*`. A long run needs `IPVS_RS_VM_TIMEOUT` (seconds,
//! default 3000) raised.
//!
//! Each program's output is kept as `target/tmp/kernel_scale-<program>-<round>.log`.
//! It exits 1 when a run failed: the table never filled, the new weight
//! never showed, a reload changed another real server, or a program left
//! entries behind on stop.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use ipvs::{Ipvs, Protocol, ServiceKey};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::netns;

/// Clock ticks per second of /proc/PID/stat (`USER_HZ`, fixed at 100 in
/// Linux's user ABI whatever the kernel's HZ).
const USER_HZ: f64 = 100.0;
/// How often start-up and stop count the table. A count of 37,000 lines of
/// /proc/net/ip_vs costs the VM 0.2-0.4 s of kernel time: every 200 ms it
/// kept a virtual CPU busy beside the program measured, whose start-up then
/// varied several times over from run to run. Once a second, at the cost
/// of a second's resolution.
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// How often a reload reads the changed server's service (16 lines).
const WEIGHT_EVERY: Duration = Duration::from_millis(5);
/// How long the table must stay as it is after the program has exited to
/// count as left behind.
const LEFT_AFTER: Duration = Duration::from_secs(10);
/// How long the CPU of an unchanging full table is measured.
const IDLE: Duration = Duration::from_secs(15);
/// The virtual services' port and the real servers' port.
const VS_PORT: u16 = 80;
const RS_PORT: u16 = 8080;
/// ipvsd's status API (its default `status_listen`).
const IPVSD_STATUS: &str = "127.0.0.1:9613";

/// What the environment asked for.
struct Settings {
    services: usize,
    reals: usize,
    rounds: usize,
    deadline: Duration,
    reload_deadline: Duration,
}

/// `IPVSD_SCALE_<name>`, else `IPVS_RS_SCALE_<name>` (the name the VM runner
/// passes through), else `default`.
fn setting(name: &str, default: usize) -> Result<usize, String> {
    for var in [
        format!("IPVSD_SCALE_{name}"),
        format!("IPVS_RS_SCALE_{name}"),
    ] {
        if let Ok(value) = std::env::var(&var) {
            return value
                .trim()
                .parse()
                .map_err(|e| format!("{var}={value:?}: {e}"));
        }
    }
    Ok(default)
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let s = Self {
            services: setting("SERVICES", 2_300)?,
            reals: setting("REALS", 16)?,
            rounds: setting("ROUNDS", 2)?,
            deadline: Duration::from_secs(setting("DEADLINE", 900)? as u64),
            reload_deadline: Duration::from_secs(setting("RELOAD_DEADLINE", 120)? as u64),
        };
        // The address plan below: 250 x 256 virtual addresses, 250 x 250 x 56
        // real-server addresses.
        if s.services == 0 || s.services > 64_000 {
            return Err(format!("{} services: 1 to 64,000", s.services));
        }
        if s.reals == 0 || s.services * s.reals > 3_500_000 {
            return Err(format!(
                "{} real servers per service: 1 to 3,500,000 in all",
                s.reals
            ));
        }
        if s.rounds == 0 {
            return Err("0 rounds".to_owned());
        }
        Ok(s)
    }
}

/// Virtual service `i`'s address: 10.100.0.1, ..., 10.100.0.250, 10.100.1.1, ...
fn vip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 100, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// Real server `r` of service `i`: each its own address, 10.200.1.1 onwards
/// (no routes needed: NAT real servers are only table entries here).
fn rip(reals: usize, i: usize, r: usize) -> Ipv4Addr {
    let k = i * reals + r;
    Ipv4Addr::new(
        10,
        (200 + k / 62_500) as u8,
        (k / 250 % 250 + 1) as u8,
        (k % 250 + 1) as u8,
    )
}

/// The configuration: every real server weight 1, except `changed`
/// (service, real server, weight).
fn config(s: &Settings, changed: Option<(usize, usize, u32)>) -> String {
    let mut out = String::with_capacity(s.services * (160 + s.reals * 60));
    out.push_str("global_defs {\n    router_id scale\n}\n");
    for i in 0..s.services {
        let _ = write!(
            out,
            "virtual_server {} {VS_PORT} {{\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n",
            vip(i)
        );
        for r in 0..s.reals {
            let weight = match changed {
                Some((ci, cr, w)) if (ci, cr) == (i, r) => w,
                _ => 1,
            };
            let _ = write!(
                out,
                "    real_server {} {RS_PORT} {{\n        weight {weight}\n    }}\n",
                rip(s.reals, i, r)
            );
        }
        out.push_str("}\n");
    }
    out
}

/// Which program runs the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Keepalived,
    Ipvsd,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::Keepalived => "keepalived",
            Program::Ipvsd => "ipvsd",
        }
    }
}

/// A running program, its output in a file.
struct Running {
    child: Child,
    pid: i32,
}

impl Running {
    /// Starts `program` as kernel_keepalived.rs does.
    fn start(program: Program, config: &Path, dir: &Path) -> Result<Self, String> {
        let log = dir.join(format!("{}.log", program.name()));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = match program {
            Program::Keepalived => testbed::keepalived::checker_command(config, dir),
            Program::Ipvsd => {
                let path = std::env::var_os("IPVS_RS_IPVSD")
                    .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ipvsd")), PathBuf::from);
                let mut c = Command::new(path);
                c.arg("--keepalived").arg(config);
                c
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", program.name()))?;
        let pid = i32::try_from(child.id()).map_err(|e| e.to_string())?;
        Ok(Self { child, pid })
    }

    fn signal(&self, signal: Signal) -> Result<(), String> {
        kill(Pid::from_raw(self.pid), signal).map_err(|e| format!("{signal}: {e}"))
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The table's size: (services, real servers), from /proc/net/ip_vs of
/// this thread's namespace.
fn count(buf: &mut String) -> Result<(usize, usize), String> {
    buf.clear();
    std::fs::File::open("/proc/thread-self/net/ip_vs")
        .and_then(|mut f| f.read_to_string(buf))
        .map_err(|e| format!("/proc/net/ip_vs: {e}"))?;
    let (mut services, mut reals) = (0, 0);
    for line in buf.lines() {
        if line.starts_with("  -> ") {
            if !line.starts_with("  -> RemoteAddress") {
                reals += 1;
            }
        } else if ["TCP ", "UDP ", "SCTP ", "FWM "]
            .iter()
            .any(|p| line.starts_with(p))
        {
            services += 1;
        }
    }
    Ok((services, reals))
}

/// The process and its descendants (keepalived's checker child).
fn tree(root: i32) -> Vec<i32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(fields) = stat_fields(pid)
                && let Some(ppid) = fields.get(1).and_then(|f| f.parse::<i32>().ok())
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// /proc/PID/stat after the command name: field 3 (state) onwards.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// User + system CPU of these processes, in seconds.
fn cpu(pids: &[i32]) -> f64 {
    pids.iter()
        .filter_map(|&p| stat_fields(p))
        .map(|f| {
            // utime and stime: fields 14 and 15, here 11 and 12 from 0.
            let tick = |n: usize| f.get(n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            (tick(11) + tick(12)) as f64 / USER_HZ
        })
        .sum()
}

/// Peak resident memory (`VmHWM`) of these processes summed, in KiB.
fn hwm_kib(pids: &[i32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

/// A counter of ipvsd's /metrics (the `_total` sample), `None` when it
/// cannot be read.
fn ipvsd_metric(name: &str) -> Option<u64> {
    let mut stream = TcpStream::connect(IPVSD_STATUS).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let value = rest
            .strip_prefix("_total ")
            .or_else(|| rest.strip_prefix(' '))?;
        value.trim().parse().ok()
    })
}

/// The table as sorted `ipvsadm -Sn` lines.
fn saved_table() -> Vec<String> {
    let out = testbed::reference::ipvsadm_ok(&["-Sn"]);
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    lines.sort_unstable();
    lines
}

/// Lines in one table and not the other.
fn differences(a: &[String], b: &[String]) -> usize {
    let a: HashSet<&String> = a.iter().collect();
    let b: HashSet<&String> = b.iter().collect();
    a.symmetric_difference(&b).count()
}

/// What one run measured (seconds, KiB).
#[derive(Default)]
struct Measured {
    startup: Option<f64>,
    cpu: f64,
    hwm_kib: u64,
    reload: Option<f64>,
    reload_cpu: f64,
    /// The smallest (services, real servers) seen during the reload.
    reload_min: (usize, usize),
    /// Table lines that differ from the expected table after the reload.
    others_changed: Option<usize>,
    /// ipvsd: the table changes its reload applied.
    steps_applied: Option<u64>,
    /// ipvsd: its reload log line.
    reload_line: Option<String>,
    stop: Option<f64>,
    /// Entries left after the program exited.
    left: (usize, usize),
    failures: Vec<String>,
    /// CPU seconds per second while the full table stays as it is.
    idle_cpu: f64,
    /// How long one count of the full table took, in milliseconds.
    count_ms: f64,
}

/// One run of `program` from an empty table.
fn run(program: Program, s: &Settings, dir: &Path, ipvs: &Ipvs) -> Result<Measured, String> {
    let full = (s.services, s.services * s.reals);
    let mut m = Measured::default();
    let mut buf = String::new();
    testbed::reference::ipvsadm_ok(&["-C"]);
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, config(s, None)).map_err(|e| e.to_string())?;

    // Start-up.
    let started = Instant::now();
    let mut running = Running::start(program, &path, dir)?;
    let mut last = (0, 0);
    while started.elapsed() < s.deadline {
        std::thread::sleep(COUNT_EVERY);
        last = count(&mut buf)?;
        if last == full {
            m.startup = Some(started.elapsed().as_secs_f64());
            break;
        }
        if running.exited() {
            m.failures
                .push(format!("exited during start-up at {last:?}"));
            return Ok(m);
        }
    }
    if m.startup.is_none() {
        m.failures.push(format!(
            "start-up: table {last:?} after {:?}, want {full:?}",
            s.deadline
        ));
        return Ok(m);
    }
    let pids = tree(running.pid);
    m.cpu = cpu(&pids);
    m.hwm_kib = hwm_kib(&pids);
    // What one count of the full table costs this program (the poller's share).
    let t = Instant::now();
    count(&mut buf)?;
    m.count_ms = t.elapsed().as_secs_f64() * 1000.0;
    // Let the start-up's tail (logging, a first reconcile) pass, then the
    // CPU a full table costs while nothing changes.
    std::thread::sleep(Duration::from_secs(2));
    let idle_from = cpu(&tree(running.pid));
    std::thread::sleep(IDLE);
    m.idle_cpu = (cpu(&tree(running.pid)) - idle_from) / IDLE.as_secs_f64();

    // Reload: the middle service's last real server, weight 1 -> 2.
    let (ci, cr) = (s.services / 2, s.reals - 1);
    let (vs, rs) = (vip(ci), rip(s.reals, ci, cr));
    let before = saved_table();
    let old_line = format!("-a -t {vs}:{VS_PORT} -r {rs}:{RS_PORT} -m -w 1");
    let new_line = format!("-a -t {vs}:{VS_PORT} -r {rs}:{RS_PORT} -m -w 2");
    if !before.contains(&old_line) {
        m.failures
            .push(format!("the table has no line {old_line:?} to change"));
        return Ok(m);
    }
    let mut want: Vec<String> = before
        .iter()
        .map(|l| {
            if *l == old_line {
                new_line.clone()
            } else {
                l.clone()
            }
        })
        .collect();
    want.sort_unstable();
    let steps_before = match program {
        Program::Ipvsd => ipvsd_metric("ipvsd_steps_applied"),
        Program::Keepalived => None,
    };
    std::fs::write(&path, config(s, Some((ci, cr, 2)))).map_err(|e| e.to_string())?;
    let pids = tree(running.pid);
    let cpu_before = cpu(&pids);
    let key = ServiceKey::Inet {
        protocol: Protocol::Tcp,
        address: IpAddr::V4(vs),
        port: VS_PORT,
    };
    m.reload_min = full;
    let mut next_count = Duration::from_millis(250);
    let sighup = Instant::now();
    running.signal(Signal::SIGHUP)?;
    while sighup.elapsed() < s.reload_deadline {
        let weight = ipvs.destinations(&key).ok().and_then(|d| {
            d.iter()
                .find(|d| d.destination.address == IpAddr::V4(rs) && d.destination.port == RS_PORT)
                .map(|d| d.destination.weight)
        });
        if weight == Some(2) {
            m.reload = Some(sighup.elapsed().as_secs_f64());
            break;
        }
        // The table now and then, to see real servers removed and put back.
        if sighup.elapsed() >= next_count {
            let c = count(&mut buf)?;
            m.reload_min = (m.reload_min.0.min(c.0), m.reload_min.1.min(c.1));
            next_count = sighup.elapsed() + Duration::from_millis(250);
        }
        std::thread::sleep(WEIGHT_EVERY);
    }
    if m.reload.is_none() {
        m.failures.push(format!(
            "reload: weight 2 not seen within {:?}",
            s.reload_deadline
        ));
    }
    // The whole table once it has settled (equal to the expected one twice
    // a second apart, or the deadline).
    let settle = Instant::now();
    let mut seen_equal = false;
    let after = loop {
        let after = saved_table();
        let reals = after.iter().filter(|l| l.starts_with("-a ")).count();
        let services = after.len() - reals;
        m.reload_min = (m.reload_min.0.min(services), m.reload_min.1.min(reals));
        if after == want && seen_equal {
            break after;
        }
        seen_equal = after == want;
        if settle.elapsed() > Duration::from_secs(60) {
            break after;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    m.reload_cpu = cpu(&tree(running.pid)) - cpu_before;
    let changed = differences(&after, &want);
    m.others_changed = Some(changed);
    if changed != 0 {
        m.failures.push(format!(
            "reload: {changed} table lines differ from the table before with only {rs} changed"
        ));
    }
    if program == Program::Ipvsd {
        m.steps_applied = steps_before
            .zip(ipvsd_metric("ipvsd_steps_applied"))
            .map(|(a, b)| b.saturating_sub(a));
        let log = std::fs::read_to_string(dir.join("ipvsd.log")).unwrap_or_default();
        m.reload_line = log
            .lines()
            .rev()
            .find(|l| l.contains("reload: ") && l.contains("real servers added"))
            .map(|l| l.split_once("reload: ").map_or(l, |(_, r)| r).to_owned());
    }

    // Stop.
    let stopping = Instant::now();
    running.signal(Signal::SIGTERM)?;
    while stopping.elapsed() < s.deadline && !running.exited() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !running.exited() {
        m.failures
            .push(format!("stop: still running after {:?}", s.deadline));
        return Ok(m);
    }
    // Once the program is gone nobody empties the table: what stays
    // unchanged for LEFT_AFTER was left behind.
    let exited = stopping.elapsed().as_secs_f64();
    let mut unchanged = Instant::now();
    loop {
        let now = count(&mut buf)?;
        if now == (0, 0) {
            m.stop = Some(stopping.elapsed().as_secs_f64());
            break;
        }
        if now != m.left {
            m.left = now;
            unchanged = Instant::now();
        }
        if unchanged.elapsed() > LEFT_AFTER {
            m.failures.push(format!(
                "stop: exited after {exited:.3} s leaving {:?} (services, real servers) in the table",
                m.left
            ));
            break;
        }
        std::thread::sleep(COUNT_EVERY);
    }
    m.left = count(&mut buf)?;
    Ok(m)
}

/// A figure in seconds, or `-`.
fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

/// The mean of the figures that exist.
fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = values.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn main() -> ExitCode {
    let s = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kernel_scale: {e}");
            return ExitCode::from(2);
        }
    };
    netns::enter_fresh();
    let ipvs = match Ipvs::new() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("kernel_scale: IPVS: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("kernel_scale: temporary folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "kernel_scale: {} virtual services x {} real servers = {} real servers, {} round(s)",
        s.services,
        s.reals,
        s.services * s.reals,
        s.rounds
    );
    // ipvsd's parser takes the file (and how long that takes, for scale).
    let path = dir.path().join("keepalived.conf");
    let text = config(&s, None);
    println!(
        "configuration: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    if let Err(e) = std::fs::write(&path, &text) {
        eprintln!("kernel_scale: {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let checked = Instant::now();
    match Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .args(["check", "--keepalived"])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => println!(
            "ipvsd check --keepalived: accepted in {:.3} s",
            checked.elapsed().as_secs_f64()
        ),
        Ok(out) => {
            eprintln!(
                "kernel_scale: ipvsd check refuses the configuration: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("kernel_scale: ipvsd check: {e}");
            return ExitCode::FAILURE;
        }
    }

    let mut results: Vec<(usize, Program, Measured)> = Vec::new();
    for round in 1..=s.rounds {
        for program in [Program::Keepalived, Program::Ipvsd] {
            let m = match run(program, &s, dir.path(), &ipvs) {
                Ok(m) => m,
                Err(e) => Measured {
                    failures: vec![e],
                    ..Measured::default()
                },
            };
            println!(
                "round {round} {}: start-up {} s (one count of the table {:.0} ms), CPU {:.2} s, idle CPU {:.3} s/s, VmHWM {:.1} MB, reload {} s \
                 (CPU {:.2} s, smallest table {:?}, other lines changed {}), stop {} s{}{}",
                program.name(),
                secs(m.startup),
                m.count_ms,
                m.cpu,
                m.idle_cpu,
                m.hwm_kib as f64 / 1024.0,
                secs(m.reload),
                m.reload_cpu,
                m.reload_min,
                m.others_changed
                    .map_or_else(|| "-".to_owned(), |c| c.to_string()),
                secs(m.stop),
                m.steps_applied
                    .map_or_else(String::new, |n| format!(", {n} table changes applied")),
                m.reload_line
                    .as_ref()
                    .map_or_else(String::new, |l| format!(" (log: {l})")),
            );
            for f in &m.failures {
                println!("    FAILED: {f}");
            }
            // The program's log, kept in the target folder (shared with
            // the VM) for a look afterwards.
            let log = dir.path().join(format!("{}.log", program.name()));
            let kept = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("kernel_scale-{}-{round}.log", program.name()));
            let _ = std::fs::copy(&log, &kept);
            results.push((round, program, m));
        }
    }
    print_summary(&s, &results);
    let failed: BTreeSet<String> = results
        .iter()
        .filter(|(_, _, m)| !m.failures.is_empty())
        .map(|(r, p, _)| format!("round {r} {}", p.name()))
        .collect();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failed runs: {failed:?}");
        ExitCode::FAILURE
    }
}

/// The table of means per program, and ipvsd / keepalived.
fn print_summary(s: &Settings, results: &[(usize, Program, Measured)]) {
    let of = |p: Program| {
        results
            .iter()
            .filter(move |(_, q, _)| *q == p)
            .map(|(_, _, m)| m)
    };
    let figures = |p: Program| -> [Option<f64>; 7] {
        [
            mean(of(p).map(|m| m.startup)),
            mean(of(p).map(|m| m.reload)),
            mean(of(p).map(|m| Some(m.reload_cpu))),
            mean(of(p).map(|m| Some(m.cpu))),
            mean(of(p).map(|m| Some(m.idle_cpu))),
            mean(of(p).map(|m| Some(m.hwm_kib as f64 / 1024.0))),
            mean(of(p).map(|m| m.stop)),
        ]
    };
    let k = figures(Program::Keepalived);
    let i = figures(Program::Ipvsd);
    println!(
        "\n{} x {} ({} real servers), mean of {} round(s):",
        s.services,
        s.reals,
        s.services * s.reals,
        s.rounds
    );
    let header = [
        "start-up s",
        "reload s",
        "reload CPU s",
        "CPU s",
        "idle CPU s/s",
        "VmHWM MB",
        "stop s",
    ];
    let mut line = format!("{:<20}", "program");
    for h in header {
        let _ = write!(line, " {h:>12}");
    }
    println!("{line}");
    let row = |name: &str, v: &[Option<f64>; 7]| {
        let mut line = format!("{name:<20}");
        for x in v {
            let x = x.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"));
            let _ = write!(line, " {x:>12}");
        }
        println!("{line}");
    };
    row("keepalived", &k);
    row("ipvsd", &i);
    let ratio: [Option<f64>; 7] = std::array::from_fn(|n| match (i[n], k[n]) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    });
    row("ipvsd / keepalived", &ratio);
}
