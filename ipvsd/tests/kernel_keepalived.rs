//! The differential suite: the same keepalived.conf run by Debian's
//! keepalived (checker side, `keepalived -n -l -D -G -C`) and by
//! `ipvsd --keepalived`, against the same real servers, driven through the
//! same events (start, a server down by port closed / HTTP 500 / hang past
//! `connect_timeout`, back up, quorum lost and regained, reload with
//! changes, a service deleted by hand, stop); after each event the IPVS
//! table (`ipvsadm -Sn`, plus the timeouts when not the kernel's defaults)
//! is recorded once it settles.
//!
//! Each event names the table it must produce (`expect`). keepalived's
//! table is asserted against it, or against `keepalived` where keepalived
//! is known to be wrong (the step names the keepalived issue); `ipvsd`'s
//! against `expect`, and both tables are compared event by event. While
//! `ipvsd --keepalived` exits with "the daemon is not built yet", its side
//! is skipped (and said so); the comparison switches on when it starts.
//!
//! Topology: the test's namespace is the director; the real servers live
//! in a second namespace behind a veth (10.10.0.0/24), so that their
//! addresses are not local to the director (IPVS would show a local real
//! server as `-g` whatever the method). Virtual addresses need not exist:
//! only the table is compared.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::netns::{self, Namespace};
use testbed::servers::{Mode, Protocol, RealServer};

/// How long a table must stay unchanged to count as settled: longer than
/// `delay_loop 1`, so that a flap after a match shows.
const STABLE: Duration = Duration::from_millis(1200);
/// How long an event may take to settle.
const DEADLINE: Duration = Duration::from_secs(12);
/// The kernel's default IPVS timeouts (tcp tcpfin udp), not shown in tables.
const DEFAULT_TIMEOUTS: &str = "900 120 300";

/// What a step does.
#[derive(Debug, Clone, Copy)]
enum Do {
    /// Start the director program on the scenario's configuration.
    Start,
    /// Close real server N's port.
    Down(usize),
    /// Real server N answers HTTP 500 (TCP/UDP: `ERROR`).
    Error(usize),
    /// Real server N accepts and never answers.
    Hang(usize),
    /// Real server N listens again and answers normally.
    Up(usize),
    /// Write `value` to the file `name` in the scenario's folder (MISC_CHECK
    /// scripts exit with that number).
    Flag(&'static str, &'static str),
    /// Replace the configuration by this one and send SIGHUP.
    Reload(&'static str),
    /// Run the reference ipvsadm with these arguments (a change by hand).
    ByHand(&'static [&'static str]),
    /// SIGTERM, and wait for the program to exit.
    Stop,
}

/// One event and the table it must produce.
struct Step {
    what: &'static str,
    action: Do,
    /// The right table after the event (sorted `ipvsadm -Sn` lines).
    expect: &'static str,
    /// keepalived's table where it is known to differ from `expect`, with
    /// the reason (the keepalived issue): `ipvsd` differs on purpose.
    keepalived: Option<(&'static str, &'static str)>,
}

/// A configuration, its real servers and its events.
struct Scenario {
    name: &'static str,
    /// keepalived.conf; `{dir}` is replaced by the scenario's folder.
    config: &'static str,
    /// The real servers (index = position), all on 10.10.0.0/24.
    servers: &'static [(Protocol, &'static str)],
    /// Servers whose port is closed before the start.
    initially_down: &'static [usize],
    steps: Vec<Step>,
}

const fn step(what: &'static str, action: Do, expect: &'static str) -> Step {
    Step {
        what,
        action,
        expect,
        keepalived: None,
    }
}

/// The table now: `ipvsadm -Sn` sorted (services, then real servers), and
/// a `timeouts` line first when they are not the kernel's defaults.
fn table() -> String {
    let saved = testbed::reference::ipvsadm_ok(&["-Sn"]);
    let mut lines: Vec<&str> = saved.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    let timeouts = testbed::reference::ipvsadm_ok(&["-L", "--timeout"]);
    let timeouts = timeouts
        .split_once(':')
        .map_or("?", |(_, v)| v.trim())
        .to_owned();
    let mut out = String::new();
    if timeouts != DEFAULT_TIMEOUTS {
        let _ = writeln!(out, "timeouts {timeouts}");
    }
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    out
}

/// Normalizes an expectation written in the test (indentation, blank lines).
fn tidy(text: &str) -> String {
    let mut out = String::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "{l}");
    }
    out
}

/// Waits until the table equals `want` and has stayed so for [`STABLE`],
/// or [`DEADLINE`] passes; returns the last table seen.
fn settle(want: &str) -> String {
    let start = Instant::now();
    let mut last = table();
    let mut since = Instant::now();
    loop {
        if last == want && since.elapsed() >= STABLE {
            return last;
        }
        if start.elapsed() >= DEADLINE {
            return last;
        }
        std::thread::sleep(Duration::from_millis(100));
        let now = table();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

/// Which director program runs the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Director {
    Keepalived,
    Ipvsd,
}

impl Director {
    fn name(self) -> &'static str {
        match self {
            Director::Keepalived => "keepalived",
            Director::Ipvsd => "ipvsd",
        }
    }
}

/// The ipvsd to run as the daemon: `$IPVS_RS_IPVSD` (an
/// installed build, or a stand-in to test this harness), else this build's.
fn ipvsd_path() -> PathBuf {
    std::env::var_os("IPVS_RS_IPVSD")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ipvsd")), PathBuf::from)
}

/// A director program running in the test's namespace, its output in a file.
struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(director: Director, config: &Path, dir: &Path) -> Self {
        let log = dir.join(format!("{}.log", director.name()));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = match director {
            Director::Keepalived => testbed::keepalived::checker_command(config, dir),
            Director::Ipvsd => {
                let mut c = Command::new(ipvsd_path());
                c.arg("--keepalived").arg(config);
                c
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", director.name()));
        Self { child, log }
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// SIGTERM, then its exit status (killed after 15 s).
    fn stop(&mut self) -> Option<i32> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status.code();
        }
        self.signal(Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// Did `ipvsd --keepalived` exit at once saying its daemon is missing?
fn ipvsd_not_built(running: &mut Running) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(status)) = running.child.try_wait() {
            return status.code() == Some(2) && running.log().contains("not built yet");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The real servers of a scenario, in their own namespace.
struct Servers {
    ns: Namespace,
    servers: Vec<RealServer>,
}

/// Real server N's address: 10.10.0.(11+N).
fn server_addr(n: usize, protocol: Protocol) -> SocketAddr {
    let port = match protocol {
        Protocol::Udp => 5353,
        Protocol::Http | Protocol::Tcp => 8080,
    };
    format!("10.10.0.{}:{port}", 11 + n).parse().unwrap()
}

impl Servers {
    fn new(spec: &[(Protocol, &str)]) -> Self {
        let ns = Namespace::new("ka-rs").unwrap();
        netns::link_to(&ns, "d0", "10.10.0.1/24", "r0", "10.10.0.11/24").unwrap();
        for n in 1..spec.len() {
            ns.ip(&[
                "addr",
                "add",
                &format!("10.10.0.{}/24", 11 + n),
                "dev",
                "r0",
            ])
            .unwrap();
        }
        let servers = spec
            .iter()
            .enumerate()
            .map(|(n, (protocol, name))| {
                let addr = server_addr(n, *protocol);
                ns.run(|| RealServer::new(*protocol, name, addr))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        Self { ns, servers }
    }

    /// Every server listening and healthy, then `down` closed.
    fn reset(&mut self, down: &[usize]) {
        for (n, s) in self.servers.iter_mut().enumerate() {
            s.set_mode(Mode::Healthy);
            if down.contains(&n) {
                s.stop();
            } else {
                s.start().unwrap();
            }
        }
    }
}

/// What one director did: the table after each step.
struct Run {
    tables: Vec<String>,
    log: String,
    exit: Option<i32>,
}

/// Runs the scenario's steps under `director`; `None` when `ipvsd` has no
/// daemon yet.
fn run(director: Director, sc: &Scenario, servers: &mut Servers, dir: &Path) -> Option<Run> {
    // A clean slate: empty table, default timeouts, initial files.
    testbed::reference::ipvsadm_ok(&["-C"]);
    testbed::reference::ipvsadm_ok(&["--set", "900", "120", "300"]);
    servers.reset(sc.initially_down);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("flag-"))
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    let config = dir.join("keepalived.conf");
    let text = |t: &str| t.replace("{dir}", &dir.display().to_string());
    std::fs::write(&config, text(sc.config)).unwrap();

    let mut running: Option<Running> = None;
    let mut tables = Vec::new();
    let mut exit = None;
    for (i, st) in sc.steps.iter().enumerate() {
        match st.action {
            Do::Start => {
                let mut r = Running::start(director, &config, dir);
                if director == Director::Ipvsd && ipvsd_not_built(&mut r) {
                    println!(
                        "[{}] ipvsd side skipped: `ipvsd --keepalived` says the daemon is not built yet",
                        sc.name
                    );
                    return None;
                }
                running = Some(r);
            }
            Do::Down(n) => servers.servers[n].stop(),
            Do::Error(n) => servers.servers[n].set_mode(Mode::Error),
            Do::Hang(n) => servers.servers[n].set_mode(Mode::Hang),
            Do::Up(n) => {
                servers.servers[n].set_mode(Mode::Healthy);
                servers.servers[n].start().unwrap();
            }
            Do::Flag(name, value) => {
                std::fs::write(dir.join(format!("flag-{name}")), value).unwrap();
            }
            Do::Reload(new) => {
                std::fs::write(&config, text(new)).unwrap();
                if let Some(r) = &running {
                    r.signal(Signal::SIGHUP);
                }
            }
            Do::ByHand(args) => {
                testbed::reference::ipvsadm_ok(args);
            }
            Do::Stop => {
                if let Some(r) = &mut running {
                    exit = r.stop();
                }
            }
        }
        let want = match (director, st.keepalived) {
            (Director::Keepalived, Some((table, _))) => tidy(table),
            _ => tidy(st.expect),
        };
        let started = Instant::now();
        let got = settle(&want);
        println!(
            "[{}] {} step {}: {} (settled in {:.1} s)\n{}",
            sc.name,
            director.name(),
            i + 1,
            st.what,
            started.elapsed().saturating_sub(STABLE).as_secs_f64(),
            indent(&got)
        );
        tables.push(got);
    }
    let log = running.as_ref().map(Running::log).unwrap_or_default();
    drop(running);
    Some(Run { tables, log, exit })
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (empty)\n".to_owned();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Runs a scenario under both programs and checks every table.
fn differential(sc: &Scenario) {
    netns::enter_fresh();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("misc.sh"), MISC_SCRIPT).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("misc.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    // ipvsd's parser accepts every configuration of the scenario.
    for (n, config) in std::iter::once(sc.config)
        .chain(sc.steps.iter().filter_map(|s| match s.action {
            Do::Reload(c) => Some(c),
            _ => None,
        }))
        .enumerate()
    {
        let path = dir.path().join(format!("check-{n}.conf"));
        std::fs::write(
            &path,
            config.replace("{dir}", &dir.path().display().to_string()),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
            .args(["check", "--keepalived"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "[{}] ipvsd check refuses configuration {n}: {}",
            sc.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut servers = Servers::new(sc.servers);

    let keepalived =
        run(Director::Keepalived, sc, &mut servers, dir.path()).expect("keepalived always runs");
    let ipvsd = run(Director::Ipvsd, sc, &mut servers, dir.path());
    drop(servers.ns);

    let mut failures = Vec::new();
    let (mut compared, mut on_purpose) = (0, 0);
    for (i, st) in sc.steps.iter().enumerate() {
        let (want, why) = match st.keepalived {
            Some((table, why)) => (tidy(table), Some(why)),
            None => (tidy(st.expect), None),
        };
        if keepalived.tables[i] != want {
            failures.push(format!(
                "step {} ({}): keepalived's table\n{}expected\n{}",
                i + 1,
                st.what,
                indent(&keepalived.tables[i]),
                indent(&want)
            ));
        }
        if let Some(ipvsd) = &ipvsd {
            compared += 1;
            let right = tidy(st.expect);
            if ipvsd.tables[i] != right {
                failures.push(format!(
                    "step {} ({}): ipvsd's table\n{}expected\n{}",
                    i + 1,
                    st.what,
                    indent(&ipvsd.tables[i]),
                    indent(&right)
                ));
            }
            match why {
                Some(why) => {
                    on_purpose += 1;
                    println!(
                        "[{}] step {}: ipvsd differs from keepalived on purpose: {why}",
                        sc.name,
                        i + 1
                    );
                }
                None if ipvsd.tables[i] != keepalived.tables[i] => failures.push(format!(
                    "step {} ({}): ipvsd and keepalived differ:\n  keepalived\n{}  ipvsd\n{}",
                    i + 1,
                    st.what,
                    indent(&keepalived.tables[i]),
                    indent(&ipvsd.tables[i])
                )),
                None => {}
            }
        }
    }
    if let Some(ipvsd) = &ipvsd
        && sc.steps.iter().any(|s| matches!(s.action, Do::Stop))
        && ipvsd.exit != Some(0)
    {
        failures.push(format!("ipvsd exited with {:?} on SIGTERM", ipvsd.exit));
    }
    println!(
        "[{}] {} events; keepalived's tables checked: {}; tables compared with ipvsd: {} ({} different on purpose)",
        sc.name,
        sc.steps.len(),
        keepalived.tables.len(),
        compared,
        on_purpose
    );
    if !failures.is_empty() {
        println!("--- keepalived's log ---\n{}", keepalived.log);
        if let Some(ipvsd) = &ipvsd {
            println!("--- ipvsd's log ---\n{}", ipvsd.log);
        }
        panic!("[{}]\n{}", sc.name, failures.join("\n"));
    }
}

/// MISC_CHECK's script: exits with the number in `flag-NAME` beside it
/// (0 when there is none).
const MISC_SCRIPT: &str = r#"#!/bin/sh
f="$(dirname "$0")/flag-$1"
[ -f "$f" ] && exit "$(cat "$f")"
exit 0
"#;

// ---------------------------------------------------------------------------
// The scenarios.

const TCP: Protocol = Protocol::Tcp;
const HTTP: Protocol = Protocol::Http;

/// TCP_CHECK, NAT, round robin; a server's port closed and back; reload
/// with a changed weight, an added and a removed real server; a service
/// deleted by hand; stop.
const TCP_NAT: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.1 80 {
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

/// TCP_NAT reloaded: 10.10.0.11 at weight 5, 10.10.0.12 removed,
/// 10.10.0.13 added.
const TCP_NAT_RELOADED: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.1 80 {
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 5
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.13 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

#[test]
fn tcp_check_nat_reload_and_hand_changes() {
    differential(&Scenario {
        name: "tcp_check_nat",
        config: TCP_NAT,
        servers: &[(TCP, "rs1"), (TCP, "rs2"), (TCP, "rs3")],
        initially_down: &[],
        steps: vec![
            step(
                "start",
                Do::Start,
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 3
                 -a -t 10.10.9.1:80 -r 10.10.0.12:8080 -m -w 2",
            ),
            step(
                "rs2's port closed",
                Do::Down(1),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 3",
            ),
            step(
                "rs2 back",
                Do::Up(1),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 3
                 -a -t 10.10.9.1:80 -r 10.10.0.12:8080 -m -w 2",
            ),
            step(
                "reload: rs1 weight 5, rs2 removed, rs3 added",
                Do::Reload(TCP_NAT_RELOADED),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 5
                 -a -t 10.10.9.1:80 -r 10.10.0.13:8080 -m -w 1",
            ),
            step(
                "rs1's weight set to 1 by hand",
                Do::ByHand(&["-e", "-t", "10.10.9.1:80", "-r", "10.10.0.11:8080", "-m", "-w", "1"]),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 5
                 -a -t 10.10.9.1:80 -r 10.10.0.13:8080 -m -w 1",
            )
            .differs(
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.1:80 -r 10.10.0.13:8080 -m -w 1",
                "keepalived never reads the kernel's table back: a change by hand stays",
            ),
            step(
                "the service deleted by hand",
                Do::ByHand(&["-D", "-t", "10.10.9.1:80"]),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 5
                 -a -t 10.10.9.1:80 -r 10.10.0.13:8080 -m -w 1",
            )
            .differs(
                "",
                "keepalived never reads the kernel's table back: a service deleted by hand stays deleted",
            ),
            step(
                "reload with the same configuration",
                Do::Reload(TCP_NAT_RELOADED),
                "-A -t 10.10.9.1:80 -s wrr
                 -a -t 10.10.9.1:80 -r 10.10.0.11:8080 -m -w 5
                 -a -t 10.10.9.1:80 -r 10.10.0.13:8080 -m -w 1",
            )
            .differs(
                "",
                "acassen/keepalived#1877: reload diffs old and new configuration, not the kernel",
            ),
            step("stop", Do::Stop, ""),
        ],
    });
}

impl Step {
    /// keepalived is known to produce `table` instead, for `why`.
    const fn differs(self, table: &'static str, why: &'static str) -> Step {
        Step {
            keepalived: Some((table, why)),
            ..self
        }
    }
}

/// HTTP_GET with url path and status_code, direct routing, persistence.
/// Direct routing cannot change the port: the real servers get the
/// virtual port 80 in the table (keepalived warns and resets it), while
/// the checks still go to their configured port 8080.
const HTTP_DR: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.2 80 {
    delay_loop 1
    lb_algo wlc
    lb_kind DR
    persistence_timeout 30
    persistence_granularity 255.255.255.0
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200-299
            }
            connect_timeout 1
            retry 0
        }
    }
}
";

#[test]
fn http_get_dr_persistence_error_and_hang() {
    const BOTH: &str = "-A -t 10.10.9.2:80 -s wlc -p 30 -M 255.255.255.0
         -a -t 10.10.9.2:80 -r 10.10.0.11:80 -g -w 1
         -a -t 10.10.9.2:80 -r 10.10.0.12:80 -g -w 1";
    differential(&Scenario {
        name: "http_get_dr",
        config: HTTP_DR,
        servers: &[(HTTP, "rs1"), (HTTP, "rs2")],
        initially_down: &[],
        steps: vec![
            step("start", Do::Start, BOTH),
            step(
                "rs1 answers 500",
                Do::Error(0),
                "-A -t 10.10.9.2:80 -s wlc -p 30 -M 255.255.255.0
                 -a -t 10.10.9.2:80 -r 10.10.0.12:80 -g -w 1",
            ),
            step("rs1 answers 200 again", Do::Up(0), BOTH),
            step(
                "rs2 hangs past connect_timeout",
                Do::Hang(1),
                "-A -t 10.10.9.2:80 -s wlc -p 30 -M 255.255.255.0
                 -a -t 10.10.9.2:80 -r 10.10.0.11:80 -g -w 1",
            ),
            step("rs2 answers again", Do::Up(1), BOTH),
            step("stop", Do::Stop, ""),
        ],
    });
}

/// inhibit_on_failure and alpha: a failed server stays at weight 0; with
/// alpha, servers start down until their first success.
const INHIBIT_ALPHA: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.3 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    alpha
    inhibit_on_failure
    real_server 10.10.0.11 8080 {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

/// INHIBIT_ALPHA with rs1 at weight 4 and rs2 at weight 6.
const INHIBIT_ALPHA_RELOADED: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.3 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    alpha
    inhibit_on_failure
    real_server 10.10.0.11 8080 {
        weight 4
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 6
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

#[test]
fn inhibit_on_failure_alpha_and_weights_on_reload() {
    differential(&Scenario {
        name: "inhibit_alpha",
        config: INHIBIT_ALPHA,
        servers: &[(TCP, "rs1"), (TCP, "rs2")],
        initially_down: &[1],
        steps: vec![
            step(
                "start with rs2's port closed",
                Do::Start,
                "-A -t 10.10.9.3:80 -s rr
                 -a -t 10.10.9.3:80 -r 10.10.0.11:8080 -m -w 3
                 -a -t 10.10.9.3:80 -r 10.10.0.12:8080 -m -w 0",
            ),
            step(
                "rs2 up",
                Do::Up(1),
                "-A -t 10.10.9.3:80 -s rr
                 -a -t 10.10.9.3:80 -r 10.10.0.11:8080 -m -w 3
                 -a -t 10.10.9.3:80 -r 10.10.0.12:8080 -m -w 2",
            ),
            step(
                "rs1's port closed",
                Do::Down(0),
                "-A -t 10.10.9.3:80 -s rr
                 -a -t 10.10.9.3:80 -r 10.10.0.11:8080 -m -w 0
                 -a -t 10.10.9.3:80 -r 10.10.0.12:8080 -m -w 2",
            ),
            step(
                "reload: rs1 weight 4 (still down), rs2 weight 6",
                Do::Reload(INHIBIT_ALPHA_RELOADED),
                "-A -t 10.10.9.3:80 -s rr
                 -a -t 10.10.9.3:80 -r 10.10.0.11:8080 -m -w 0
                 -a -t 10.10.9.3:80 -r 10.10.0.12:8080 -m -w 6",
            ),
            step(
                "rs1 back",
                Do::Up(0),
                "-A -t 10.10.9.3:80 -s rr
                 -a -t 10.10.9.3:80 -r 10.10.0.11:8080 -m -w 4
                 -a -t 10.10.9.3:80 -r 10.10.0.12:8080 -m -w 6",
            ),
            step("stop", Do::Stop, ""),
        ],
    });
}

/// quorum and sorry_server: with quorum 2 of two weight-1 servers, one
/// down loses quorum and the sorry server replaces the pool.
const QUORUM_SORRY: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.4 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    hysteresis 0
    sorry_server 10.10.0.13 8080
    real_server 10.10.0.11 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

#[test]
fn quorum_lost_and_regained_with_sorry_server() {
    const BOTH: &str = "-A -t 10.10.9.4:80 -s rr
         -a -t 10.10.9.4:80 -r 10.10.0.11:8080 -m -w 1
         -a -t 10.10.9.4:80 -r 10.10.0.12:8080 -m -w 1";
    differential(&Scenario {
        name: "quorum_sorry",
        config: QUORUM_SORRY,
        servers: &[(TCP, "rs1"), (TCP, "rs2"), (TCP, "sorry")],
        initially_down: &[],
        steps: vec![
            step("start", Do::Start, BOTH),
            step(
                "rs1's port closed: quorum lost",
                Do::Down(0),
                "-A -t 10.10.9.4:80 -s rr
                 -a -t 10.10.9.4:80 -r 10.10.0.13:8080 -m -w 1",
            ),
            step(
                "reload while quorum is lost (same configuration)",
                Do::Reload(QUORUM_SORRY),
                "-A -t 10.10.9.4:80 -s rr
                 -a -t 10.10.9.4:80 -r 10.10.0.13:8080 -m -w 1",
            ),
            step("rs1 back: quorum regained", Do::Up(0), BOTH),
            step("stop", Do::Stop, ""),
        ],
    });
}

/// fwmark service, MISC_CHECK (exit code) and misc_dynamic (exit code
/// 2..255 sets the weight to code - 2), direct routing.
const FWMARK_MISC: &str = r#"
global_defs {
    router_id kad
}
virtual_server fwmark 7 {
    delay_loop 1
    lb_algo wrr
    lb_kind DR
    real_server 10.10.0.11 8080 {
        weight 2
        MISC_CHECK {
            misc_path "{dir}/misc.sh rs1"
            misc_timeout 1
        }
    }
    real_server 10.10.0.12 8080 {
        weight 3
        MISC_CHECK {
            misc_path "{dir}/misc.sh rs2"
            misc_timeout 1
            misc_dynamic
        }
    }
}
"#;

#[test]
fn fwmark_misc_check_and_dynamic_weight() {
    const BOTH: &str = "-A -f 7 -s wrr
         -a -f 7 -r 10.10.0.11:0 -g -w 2
         -a -f 7 -r 10.10.0.12:0 -g -w 3";
    differential(&Scenario {
        name: "fwmark_misc",
        config: FWMARK_MISC,
        servers: &[(TCP, "rs1"), (TCP, "rs2")],
        initially_down: &[],
        steps: vec![
            step("start", Do::Start, BOTH),
            step(
                "rs1's script exits 1",
                Do::Flag("rs1", "1"),
                "-A -f 7 -s wrr
                 -a -f 7 -r 10.10.0.12:0 -g -w 3",
            ),
            step("rs1's script exits 0", Do::Flag("rs1", "0"), BOTH),
            step(
                "rs2's script exits 9: weight 7",
                Do::Flag("rs2", "9"),
                "-A -f 7 -s wrr
                 -a -f 7 -r 10.10.0.11:0 -g -w 2
                 -a -f 7 -r 10.10.0.12:0 -g -w 7",
            ),
            step("stop", Do::Stop, ""),
        ],
    });
}

/// virtual_server_group with an address, a range and a fwmark, and
/// lvs_timeouts; a server down is removed from every member; reload
/// replaces a real server.
const GROUP_TIMEOUTS: &str = r"
global_defs {
    router_id kad
    lvs_timeouts tcp 7200 tcpfin 60 udp 120
}
virtual_server_group web {
    10.10.9.6 80
    10.10.9.7-8 80
    fwmark 8
}
virtual_server group web {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

/// GROUP_TIMEOUTS with 10.10.0.12 replaced by 10.10.0.13.
const GROUP_TIMEOUTS_RELOADED: &str = r"
global_defs {
    router_id kad
    lvs_timeouts tcp 7200 tcpfin 60 udp 120
}
virtual_server_group web {
    10.10.9.6 80
    10.10.9.7-8 80
    fwmark 8
}
virtual_server group web {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.13 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

#[test]
fn virtual_server_group_and_lvs_timeouts() {
    differential(&Scenario {
        name: "group_timeouts",
        config: GROUP_TIMEOUTS,
        servers: &[(TCP, "rs1"), (TCP, "rs2"), (TCP, "rs3")],
        initially_down: &[],
        steps: vec![
            step(
                "start",
                Do::Start,
                "timeouts 7200 60 120
                 -A -f 8 -s rr
                 -A -t 10.10.9.6:80 -s rr
                 -A -t 10.10.9.7:80 -s rr
                 -A -t 10.10.9.8:80 -s rr
                 -a -f 8 -r 10.10.0.11:8080 -m -w 1
                 -a -f 8 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.12:8080 -m -w 1",
            ),
            step(
                "rs1's port closed",
                Do::Down(0),
                "timeouts 7200 60 120
                 -A -f 8 -s rr
                 -A -t 10.10.9.6:80 -s rr
                 -A -t 10.10.9.7:80 -s rr
                 -A -t 10.10.9.8:80 -s rr
                 -a -f 8 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.12:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.12:8080 -m -w 1",
            ),
            step(
                "reload: rs2 replaced by rs3 (rs1 still down)",
                Do::Reload(GROUP_TIMEOUTS_RELOADED),
                "timeouts 7200 60 120
                 -A -f 8 -s rr
                 -A -t 10.10.9.6:80 -s rr
                 -A -t 10.10.9.7:80 -s rr
                 -A -t 10.10.9.8:80 -s rr
                 -a -f 8 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.13:8080 -m -w 1",
            ),
            step(
                "rs1 back",
                Do::Up(0),
                "timeouts 7200 60 120
                 -A -f 8 -s rr
                 -A -t 10.10.9.6:80 -s rr
                 -A -t 10.10.9.7:80 -s rr
                 -A -t 10.10.9.8:80 -s rr
                 -a -f 8 -r 10.10.0.11:8080 -m -w 1
                 -a -f 8 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.6:80 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.7:80 -r 10.10.0.13:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.8:80 -r 10.10.0.13:8080 -m -w 1",
            ),
            // The timeouts it set are put back on stop.
            step("stop", Do::Stop, ""),
        ],
    });
}

/// UDP_CHECK with a payload and a required reply (the echo servers send
/// it back), NAT to another port.
const UDP_NAT: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.5 53 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 10.10.0.11 5353 {
        weight 1
        UDP_CHECK {
            connect_timeout 1
            retry 0
            payload 70696e67
            require_reply 70696e67
        }
    }
    real_server 10.10.0.12 5353 {
        weight 1
        UDP_CHECK {
            connect_timeout 1
            retry 0
            payload 70696e67
            require_reply 70696e67
        }
    }
}
";

#[test]
fn udp_check_port_closed_wrong_reply_and_silence() {
    const BOTH: &str = "-A -u 10.10.9.5:53 -s rr
         -a -u 10.10.9.5:53 -r 10.10.0.11:5353 -m -w 1
         -a -u 10.10.9.5:53 -r 10.10.0.12:5353 -m -w 1";
    const RS2: &str = "-A -u 10.10.9.5:53 -s rr
         -a -u 10.10.9.5:53 -r 10.10.0.12:5353 -m -w 1";
    differential(&Scenario {
        name: "udp_check",
        config: UDP_NAT,
        servers: &[(Protocol::Udp, "rs1"), (Protocol::Udp, "rs2")],
        initially_down: &[],
        steps: vec![
            step("start", Do::Start, BOTH),
            step("rs1's port closed (ICMP unreachable)", Do::Down(0), RS2),
            step("rs1 back", Do::Up(0), BOTH),
            step("rs1 answers something else", Do::Error(0), RS2),
            step("rs1 answers again", Do::Up(0), BOTH),
            step("rs1 silent past connect_timeout", Do::Hang(0), RS2),
            step("stop", Do::Stop, ""),
        ],
    });
}

/// A real server whose check is wrong (connect_port of a closed port).
const BAD_CHECK: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.9 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 1
        TCP_CHECK {
            connect_port 9999
            connect_timeout 1
            retry 0
        }
    }
}
";

/// BAD_CHECK with the check fixed.
const BAD_CHECK_FIXED: &str = r"
global_defs {
    router_id kad
}
virtual_server 10.10.9.9 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.10.0.11 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.10.0.12 8080 {
        weight 1
        TCP_CHECK {
            connect_port 8080
            connect_timeout 1
            retry 0
        }
    }
}
";

/// acassen/keepalived#1720: a failed real server re-added once a reload
/// fixes its check.
#[test]
fn failed_real_server_comes_back_after_a_reload_fixes_its_check() {
    differential(&Scenario {
        name: "reload_fixes_check",
        config: BAD_CHECK,
        servers: &[(TCP, "rs1"), (TCP, "rs2")],
        initially_down: &[],
        steps: vec![
            step(
                "start: rs2's check probes a closed port",
                Do::Start,
                "-A -t 10.10.9.9:80 -s rr
                 -a -t 10.10.9.9:80 -r 10.10.0.11:8080 -m -w 1",
            ),
            step(
                "reload with rs2's check fixed",
                Do::Reload(BAD_CHECK_FIXED),
                "-A -t 10.10.9.9:80 -s rr
                 -a -t 10.10.9.9:80 -r 10.10.0.11:8080 -m -w 1
                 -a -t 10.10.9.9:80 -r 10.10.0.12:8080 -m -w 1",
            ),
            step("stop", Do::Stop, ""),
        ],
    });
}
