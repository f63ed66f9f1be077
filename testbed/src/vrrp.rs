//! A VRRP test bed on the host: speakers (Debian's keepalived or `ipvsd`)
//! in network namespaces on one switch, their configuration, their state
//! transitions as logged, who holds the virtual address (sampled through
//! rtnetlink), and adverts captured from the wire.
//!
//! Topology ([`Lan`]): a switch namespace with a bridge `br0` (multicast
//! snooping off, so that `224.0.0.18` and `ff02::12` are flooded), and N
//! speaker namespaces, each with `eth0` (10.99.0.N/24 and fd00::N/64,
//! IPv6 duplicate address detection off so that link-local and ULA
//! addresses are usable at once) cabled to the switch port `pN`.
//!
//! ```no_run
//! use testbed::vrrp::{Lan, Node, Speaker, InstanceConfig};
//! let lan = Lan::new(2).unwrap();
//! let config = InstanceConfig::default();
//! let mut master = Node::new(Speaker::Keepalived, &lan, 1, config.render(1, &[2]), None).unwrap();
//! master.start().unwrap();
//! ```

use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::Namespace;

/// The virtual router id of every generated configuration.
pub const VRID: u8 = 51;
/// The instance name of every generated configuration.
pub const INSTANCE: &str = "VI_1";
/// The interface name of every speaker namespace.
pub const IFACE: &str = "eth0";
/// The password of `auth_type PASS` configurations (8 bytes: all of it counts).
pub const PASSWORD: &str = "secret12";

/// The address family of an instance's virtual address and adverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4: node N is 10.99.0.N/24, the virtual address 10.99.0.100/24.
    V4,
    /// IPv6: node N is fd00::N/64, the virtual address fd00::100/64.
    V6,
}

impl Family {
    /// Node `n`'s own address (1-based).
    pub fn node_addr(self, n: usize) -> IpAddr {
        // Nodes are numbered 1..=N with N well below 100 (the virtual address).
        let n = u8::try_from(n).unwrap_or(u8::MAX);
        match self {
            Self::V4 => IpAddr::V4(Ipv4Addr::new(10, 99, 0, n)),
            Self::V6 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(n))),
        }
    }

    /// The virtual address.
    pub fn vip(self) -> IpAddr {
        match self {
            Self::V4 => IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100)),
            Self::V6 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100)),
        }
    }

    /// The prefix length of the node and virtual addresses.
    pub fn prefix_len(self) -> u8 {
        match self {
            Self::V4 => 24,
            Self::V6 => 64,
        }
    }
}

/// Where adverts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// To the group (224.0.0.18, ff02::12).
    Multicast,
    /// To each peer's own address (keepalived's `unicast_peer`).
    Unicast,
}

/// What varies between the generated `keepalived.conf` files: one
/// instance [`INSTANCE`], virtual router [`VRID`], `state BACKUP`, one
/// virtual address ([`Family::vip`]) on [`IFACE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceConfig {
    /// VRRP version, 2 or 3 (`version`).
    pub version: u8,
    /// Address family.
    pub family: Family,
    /// Multicast or unicast.
    pub transport: Transport,
    /// `priority`, 1 to 255.
    pub priority: u8,
    /// `advert_int` in centiseconds (v2 takes whole seconds only).
    pub advert_int_cs: u16,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `authentication { auth_type PASS; auth_pass secret12 }` (v2).
    pub auth_pass: bool,
    /// `v3_checksum_as_v2` (keepalived 2.2.8 and later; 2.2.7 logs it as an
    /// unknown keyword and keeps the pseudo-header).
    pub checksum_as_v2: bool,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self {
            version: 3,
            family: Family::V4,
            transport: Transport::Multicast,
            priority: 100,
            advert_int_cs: 100,
            nopreempt: false,
            auth_pass: false,
            checksum_as_v2: false,
        }
    }
}

impl InstanceConfig {
    /// The advertisement interval.
    pub fn advert_int(&self) -> Duration {
        Duration::from_millis(u64::from(self.advert_int_cs) * 10)
    }

    /// Skew time of a backup of this configuration's version and interval
    /// with priority `priority`: v2 `(256 − prio)/256` s (RFC 3768 §6.1),
    /// v3 `(256 − prio) × Master_Adver_Interval / 256` (RFC 5798 §6.1).
    pub fn skew(&self, priority: u8) -> Duration {
        let share = f64::from(256 - u16::from(priority)) / 256.0;
        if self.version == 2 {
            Duration::from_secs_f64(share)
        } else {
            self.advert_int().mul_f64(share)
        }
    }

    /// Master down interval of a backup with priority `priority`:
    /// `3 × advert interval + skew time` (RFC 5798 §6.1).
    pub fn master_down(&self, priority: u8) -> Duration {
        self.advert_int() * 3 + self.skew(priority)
    }

    /// A short label, e.g. `v3 IPv4 multicast adv 1s`.
    pub fn label(&self) -> String {
        let mut s = format!(
            "v{} {} {} adv {}s",
            self.version,
            match self.family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            },
            match self.transport {
                Transport::Multicast => "multicast",
                Transport::Unicast => "unicast",
            },
            f64::from(self.advert_int_cs) / 100.0
        );
        if self.auth_pass {
            s.push_str(" PASS");
        }
        if self.checksum_as_v2 {
            s.push_str(" checksum-as-v2");
        }
        if self.nopreempt {
            s.push_str(" nopreempt");
        }
        s
    }

    /// The `keepalived.conf` of node `node` (1-based) whose peers are the
    /// nodes `peers` (used in unicast mode). `ipvsd --keepalived` reads the
    /// same file.
    pub fn render(&self, node: usize, peers: &[usize]) -> String {
        let mut c = String::new();
        let _ = writeln!(c, "global_defs {{\n    router_id node{node}\n}}\n");
        let _ = writeln!(c, "vrrp_instance {INSTANCE} {{");
        let _ = writeln!(c, "    state BACKUP");
        let _ = writeln!(c, "    interface {IFACE}");
        let _ = writeln!(c, "    virtual_router_id {VRID}");
        let _ = writeln!(c, "    priority {}", self.priority);
        let _ = writeln!(
            c,
            "    advert_int {}",
            f64::from(self.advert_int_cs) / 100.0
        );
        let _ = writeln!(c, "    version {}", self.version);
        if self.nopreempt {
            let _ = writeln!(c, "    nopreempt");
        }
        if self.checksum_as_v2 {
            let _ = writeln!(c, "    v3_checksum_as_v2");
        }
        if self.auth_pass {
            let _ = writeln!(
                c,
                "    authentication {{\n        auth_type PASS\n        auth_pass {PASSWORD}\n    }}"
            );
        }
        if self.transport == Transport::Unicast {
            let _ = writeln!(c, "    unicast_src_ip {}", self.family.node_addr(node));
            let _ = writeln!(c, "    unicast_peer {{");
            for p in peers {
                let _ = writeln!(c, "        {}", self.family.node_addr(*p));
            }
            let _ = writeln!(c, "    }}");
        }
        let _ = writeln!(
            c,
            "    virtual_ipaddress {{\n        {}/{} dev {IFACE}\n    }}",
            self.family.vip(),
            self.family.prefix_len()
        );
        let _ = writeln!(c, "}}");
        c
    }
}

/// The switch and the speaker namespaces (see the module's documentation).
/// Dropping it deletes them all.
#[derive(Debug)]
pub struct Lan {
    // Dropped first: the speakers' links go with them.
    nodes: Vec<Namespace>,
    switch: Namespace,
}

impl Lan {
    /// Builds a switch and `n` speaker namespaces cabled to it.
    ///
    /// # Errors
    /// When a namespace, link, address or sysctl cannot be made.
    pub fn new(n: usize) -> io::Result<Self> {
        let switch = Namespace::new("vrrp-sw")?;
        switch.ip(&[
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ])?;
        switch.ip(&["link", "set", "br0", "up"])?;
        let mut nodes = Vec::with_capacity(n);
        for i in 1..=n {
            let ns = Namespace::new("vrrp-n")?;
            // Before the link arrives: its IPv6 settings are copied from `default`.
            ns.sysctl("net/ipv6/conf/all/accept_dad", "0")?;
            ns.sysctl("net/ipv6/conf/default/accept_dad", "0")?;
            let port = format!("p{i}");
            switch.ip(&[
                "link",
                "add",
                &port,
                "type",
                "veth",
                "peer",
                "name",
                IFACE,
                "netns",
                ns.name(),
            ])?;
            switch.ip(&["link", "set", &port, "master", "br0", "up"])?;
            for family in [Family::V4, Family::V6] {
                let cidr = format!("{}/{}", family.node_addr(i), family.prefix_len());
                ns.ip(&["addr", "add", &cidr, "dev", IFACE, "nodad"])?;
            }
            ns.ip(&["link", "set", IFACE, "up"])?;
            nodes.push(ns);
        }
        Ok(Self { nodes, switch })
    }

    /// Speaker namespace `n` (1-based).
    ///
    /// # Panics
    /// When there is no node `n` (a test's mistake).
    pub fn node(&self, n: usize) -> &Namespace {
        &self.nodes[n - 1]
    }

    /// The number of speaker namespaces.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when there is no speaker namespace.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The switch namespace (ports `p1`..`pN`, bridge `br0`).
    pub fn switch(&self) -> &Namespace {
        &self.switch
    }

    /// Deletes the virtual address from node `n`, as a dead host would no
    /// longer answer for it (keepalived killed with SIGKILL leaves it).
    ///
    /// # Errors
    /// As [`Namespace::ip`]; an address already gone is not an error.
    pub fn drop_vip(&self, n: usize, family: Family) -> io::Result<()> {
        let cidr = format!("{}/{}", family.vip(), family.prefix_len());
        match self.node(n).ip(&["addr", "del", &cidr, "dev", IFACE]) {
            Err(e) if e.to_string().contains("Cannot assign") => Ok(()),
            other => other,
        }
    }
}

/// Which program speaks VRRP on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Speaker {
    /// Debian's keepalived, VRRP side only ([`crate::keepalived::vrrp_command`]).
    Keepalived,
    /// `ipvsd --keepalived FILE`.
    Ipvsd,
}

impl fmt::Display for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Keepalived => "keepalived",
            Self::Ipvsd => "ipvsd",
        })
    }
}

/// A VRRP state as the speakers log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or stopped.
    Init,
    /// Backup.
    Backup,
    /// Master.
    Master,
    /// Fault (an interface down, a tracked object failing).
    Fault,
}

impl State {
    fn parse(word: &str) -> Option<Self> {
        match word {
            "INIT" => Some(Self::Init),
            "BACKUP" => Some(Self::Backup),
            "MASTER" => Some(Self::Master),
            "FAULT" => Some(Self::Fault),
            _ => None,
        }
    }
}

/// A state change read from a speaker's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// When the harness read the line (not the speaker's own timestamp).
    pub seen: Instant,
    /// The state before (keepalived does not log it: the previous
    /// transition's `to`, or INIT after a start).
    pub from: State,
    /// The state after.
    pub to: State,
    /// The log line.
    pub line: String,
}

/// Reads a transition of instance `instance` from one log line:
/// keepalived's `(NAME) Entering MASTER STATE` (and BACKUP, FAULT, with an
/// optional ` (init)`) or ipvsd's `vrrp instance NAME: FROM -> TO (REASON)`.
/// Returns `(from, to)`, `from` being `None` when the line does not say.
pub fn parse_transition(line: &str, instance: &str) -> Option<(Option<State>, State)> {
    let keepalived = format!("({instance}) Entering ");
    if let Some(at) = line.find(&keepalived) {
        let rest = &line[at + keepalived.len()..];
        let word = rest.split_whitespace().next()?;
        return State::parse(word).map(|to| (None, to));
    }
    let ipvsd = format!("vrrp instance {instance}: ");
    let at = line.find(&ipvsd)?;
    let mut words = line[at + ipvsd.len()..].split_whitespace();
    let from = State::parse(words.next()?)?;
    if words.next()? != "->" {
        return None;
    }
    let to = State::parse(words.next()?)?;
    Some((Some(from), to))
}

/// One speaker on one node: its program, configuration and log.
#[derive(Debug)]
pub struct Node {
    speaker: Speaker,
    namespace: String,
    index: usize,
    dir: PathBuf,
    config: PathBuf,
    ipvsd: Option<PathBuf>,
    child: Option<Child>,
    killed_group: Option<libc::pid_t>,
    readers: Vec<JoinHandle<()>>,
    transitions: Arc<Mutex<Vec<Transition>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Node {
    /// A node `index` (1-based) of `lan` running `speaker` on `config`
    /// (written to a fresh folder under the system's temporary folder, with
    /// the log `node.log`). `ipvsd` is the daemon's binary (needed for
    /// [`Speaker::Ipvsd`]). Not started yet.
    ///
    /// # Errors
    /// When the folder or the configuration cannot be written.
    pub fn new(
        speaker: Speaker,
        lan: &Lan,
        index: usize,
        config: String,
        ipvsd: Option<&Path>,
    ) -> io::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "vrrp-{}-{}-node{index}",
            std::process::id(),
            lan.node(index).name()
        ));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, config)?;
        Ok(Self {
            speaker,
            namespace: lan.node(index).name().to_owned(),
            index,
            dir,
            config: path,
            ipvsd: ipvsd.map(Path::to_path_buf),
            child: None,
            killed_group: None,
            readers: Vec::new(),
            transitions: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Its speaker.
    pub fn speaker(&self) -> Speaker {
        self.speaker
    }

    /// Its node number (1-based).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its log file (stdout and stderr of every run, appended).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("node.log")
    }

    /// Its configuration file.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The log so far (empty when unreadable).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// True while its program runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    fn command(&self) -> io::Result<Command> {
        let inner = match self.speaker {
            Speaker::Keepalived => crate::keepalived::vrrp_command(&self.config, &self.dir)?,
            Speaker::Ipvsd => {
                let binary = self.ipvsd.as_ref().ok_or_else(|| {
                    io::Error::other("an ipvsd node needs the path of the ipvsd binary")
                })?;
                let mut c = Command::new(binary);
                c.arg("--keepalived").arg(&self.config);
                c
            }
        };
        // `ip netns exec` execs the program in place: the child's pid is
        // the speaker's, and the environment (LD_LIBRARY_PATH) passes through.
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.namespace])
            .arg(inner.get_program());
        c.args(inner.get_args());
        for (key, value) in inner.get_envs() {
            match value {
                Some(v) => c.env(key, v),
                None => c.env_remove(key),
            };
        }
        Ok(c)
    }

    /// Starts its program (an error if it already runs). Its output is
    /// appended to [`Node::log_path`], and each line is scanned for
    /// transitions as it arrives.
    ///
    /// # Errors
    /// When it already runs, or the program cannot be spawned.
    pub fn start(&mut self) -> io::Result<()> {
        if self.is_running() {
            return Err(io::Error::other(format!(
                "node {} is already running",
                self.index
            )));
        }
        self.reap();
        self.clean_after_kill();
        let mut cmd = self.command()?;
        // Its own process group: SIGKILL reaches keepalived's VRRP child at
        // the same time (killed alone, keepalived's parent makes the child
        // send priority 0, a clean stop).
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log = Arc::new(Mutex::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log_path())?,
        ));
        let mut child = cmd.spawn()?;
        // A start counts from INIT, as ipvsd's log and keepalived's do.
        let previous = Arc::new(Mutex::new(State::Init));
        let outputs: Vec<Box<dyn io::Read + Send>> = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn io::Read + Send>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .collect();
        for output in outputs {
            let log = Arc::clone(&log);
            let transitions = Arc::clone(&self.transitions);
            let previous = Arc::clone(&previous);
            self.readers.push(std::thread::spawn(move || {
                for line in BufReader::new(output).lines() {
                    let Ok(line) = line else { break };
                    let seen = Instant::now();
                    let _ = writeln!(lock(&log), "{line}");
                    if let Some((from, to)) = parse_transition(&line, INSTANCE) {
                        let mut prev = lock(&previous);
                        let from = from.unwrap_or(*prev);
                        *prev = to;
                        lock(&transitions).push(Transition {
                            seen,
                            from,
                            to,
                            line,
                        });
                    }
                }
            }));
        }
        self.child = Some(child);
        Ok(())
    }

    fn reap(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    fn signal_group(&self, signal: libc::c_int) {
        if let Some(child) = &self.child
            && let Ok(pid) = libc::pid_t::try_from(child.id())
        {
            // SAFETY: kill(2) on our own child's process group.
            unsafe { libc::kill(-pid, signal) };
        }
    }

    /// Kills its program and every process of its group with SIGKILL (a
    /// crash: no priority-0 advert) and waits for it. Returns when the
    /// signal was sent (the caller's start of a failover).
    pub fn kill(&mut self) -> Instant {
        if let Some(pid) = self
            .child
            .as_ref()
            .and_then(|c| libc::pid_t::try_from(c.id()).ok())
        {
            self.killed_group = Some(pid);
        }
        self.signal_group(libc::SIGKILL);
        let at = Instant::now();
        self.reap();
        at
    }

    /// After a SIGKILL: waits (at most 1 s) until no process of the killed
    /// group is left (keepalived's VRRP child is reaped by init, not by
    /// us), then removes the pid files the crash left: a restarted
    /// keepalived refuses to run ("daemon is already running") while one
    /// names a live or unreaped process.
    fn clean_after_kill(&mut self) {
        if let Some(pid) = self.killed_group.take() {
            let deadline = Instant::now() + Duration::from_secs(1);
            // SAFETY: kill(2) with signal 0 only checks for existence.
            while unsafe { libc::kill(-pid, 0) } == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "pid") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Sends SIGTERM to its program (keepalived and ipvsd then send a
    /// priority-0 advert) and returns when it was sent; [`Node::wait`]
    /// waits for the exit.
    pub fn terminate(&mut self) -> Instant {
        if let Some(child) = &self.child
            && let Ok(pid) = libc::pid_t::try_from(child.id())
        {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        Instant::now()
    }

    /// Waits up to `timeout` for its program to exit, then kills its group.
    /// Returns true when it exited by itself.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.is_running() {
                self.reap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        false
    }

    /// Stops (SIGTERM, then SIGKILL after `timeout`) and starts it again.
    ///
    /// # Errors
    /// As [`Node::start`].
    pub fn restart(&mut self, timeout: Duration) -> io::Result<()> {
        self.terminate();
        self.wait(timeout);
        self.start()
    }

    /// The transitions read so far, oldest first.
    pub fn transitions(&self) -> Vec<Transition> {
        lock(&self.transitions).clone()
    }

    /// The state of its last transition (INIT before any).
    pub fn state(&self) -> State {
        lock(&self.transitions).last().map_or(State::Init, |t| t.to)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A route netlink socket opened inside a namespace: it keeps answering
/// for that namespace from any thread.
#[derive(Debug)]
pub struct AddrReader {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

const NLMSG_HDR: usize = 16;
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

impl AddrReader {
    /// Opens the socket in `ns`.
    ///
    /// # Errors
    /// When the thread cannot enter the namespace or `socket(2)` fails.
    pub fn new(ns: &Namespace) -> io::Result<Self> {
        let fd = ns.run(|| {
            // SAFETY: socket(2) with constant arguments.
            let fd = unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    libc::NETLINK_ROUTE,
                )
            };
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                // SAFETY: a fresh descriptor we own.
                Ok(unsafe { OwnedFd::from_raw_fd(fd) })
            }
        })??;
        let timeout = libc::timeval {
            tv_sec: 1,
            tv_usec: 0,
        };
        // SAFETY: setsockopt with a timeval of the right size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        Ok(Self {
            fd,
            seq: 0,
            buf: vec![0; 32 * 1024],
        })
    }

    /// Every address of the namespace (IFA_LOCAL, else IFA_ADDRESS) of
    /// `family`, from one RTM_GETADDR dump.
    ///
    /// # Errors
    /// When the request cannot be sent, the reply does not come within
    /// 1 s, or the kernel answers with an error.
    pub fn addresses(&mut self, family: Family) -> io::Result<Vec<IpAddr>> {
        self.seq = self.seq.wrapping_add(1);
        let af = match family {
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        };
        let mut req = Vec::with_capacity(NLMSG_HDR + 8);
        req.extend_from_slice(&((NLMSG_HDR + 8) as u32).to_ne_bytes());
        req.extend_from_slice(&RTM_GETADDR.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        req.extend_from_slice(&flags.to_ne_bytes());
        req.extend_from_slice(&self.seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        // ifaddrmsg: family, prefixlen, flags, scope, index.
        req.extend_from_slice(&[af as u8, 0, 0, 0, 0, 0, 0, 0]);
        // SAFETY: send(2) of a buffer we own on a socket we own.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut found = Vec::new();
        loop {
            // SAFETY: recv(2) into a buffer we own, within its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    0,
                )
            };
            let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
            let mut at = 0;
            while at + NLMSG_HDR <= n {
                let b = &self.buf[at..n];
                let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let kind = u16::from_ne_bytes([b[4], b[5]]);
                let seq = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
                if len < NLMSG_HDR || len > b.len() {
                    return Err(io::Error::other("malformed netlink message"));
                }
                if seq == self.seq {
                    match kind {
                        NLMSG_DONE => return Ok(found),
                        NLMSG_ERROR => {
                            let errno = b
                                .get(16..20)
                                .map_or(0, |e| i32::from_ne_bytes([e[0], e[1], e[2], e[3]]));
                            if errno != 0 {
                                return Err(io::Error::from_raw_os_error(-errno));
                            }
                        }
                        RTM_NEWADDR => found.extend(parse_addr(&b[NLMSG_HDR..len])),
                        _ => {}
                    }
                }
                at += align4(len);
            }
        }
    }

    /// True when the namespace has `addr`.
    ///
    /// # Errors
    /// As [`AddrReader::addresses`].
    pub fn has(&mut self, addr: IpAddr) -> io::Result<bool> {
        let family = if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        Ok(self.addresses(family)?.contains(&addr))
    }
}

/// The address of one RTM_NEWADDR payload (ifaddrmsg then attributes).
fn parse_addr(msg: &[u8]) -> Option<IpAddr> {
    let family = i32::from(*msg.first()?);
    let mut at = 8;
    let (mut local, mut address) = (None, None);
    while at + 4 <= msg.len() {
        let len = usize::from(u16::from_ne_bytes([msg[at], msg[at + 1]]));
        let kind = u16::from_ne_bytes([msg[at + 2], msg[at + 3]]);
        if len < 4 || at + len > msg.len() {
            break;
        }
        let value = &msg[at + 4..at + len];
        let ip = match (family, value.len()) {
            (libc::AF_INET, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(value).ok()?)),
            (libc::AF_INET6, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(value).ok()?)),
            _ => None,
        };
        match kind {
            IFA_LOCAL => local = ip,
            IFA_ADDRESS => address = ip,
            _ => {}
        }
        at += align4(len);
    }
    local.or(address)
}

/// One stretch of time during which the same nodes held the virtual
/// address, as sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The first sample that saw it.
    pub since: Instant,
    /// The holders: bit `n - 1` for node `n`.
    pub holders: u32,
    /// How many samples saw it.
    pub samples: u32,
}

/// Samples which nodes hold the virtual address every `period` on a
/// thread of its own, through one [`AddrReader`] per node (a dump takes
/// tens of microseconds: the resolution is the period). Stops when dropped.
#[derive(Debug)]
pub struct VipWatch {
    timeline: Arc<Mutex<Vec<Segment>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    period: Duration,
    errors: Arc<AtomicUsize>,
}

impl VipWatch {
    /// Starts sampling `vip` on every node of `lan`.
    ///
    /// # Errors
    /// When a reader cannot be opened.
    pub fn start(lan: &Lan, vip: IpAddr, period: Duration) -> io::Result<Self> {
        let mut readers = (1..=lan.len())
            .map(|n| AddrReader::new(lan.node(n)))
            .collect::<io::Result<Vec<_>>>()?;
        let timeline = Arc::new(Mutex::new(Vec::<Segment>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicUsize::new(0));
        let thread = {
            let timeline = Arc::clone(&timeline);
            let stop = Arc::clone(&stop);
            let errors = Arc::clone(&errors);
            std::thread::spawn(move || {
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    let mut holders = Some(0u32);
                    for (i, r) in readers.iter_mut().enumerate() {
                        match r.has(vip) {
                            Ok(true) => holders = holders.map(|h| h | 1 << i),
                            Ok(false) => {}
                            // A failed dump skips the sample (counted), rather
                            // than ending the watch unseen.
                            Err(_) => holders = None,
                        }
                    }
                    match holders {
                        None => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(holders) => {
                            let mut t = lock(&timeline);
                            match t.last_mut() {
                                Some(last) if last.holders == holders => last.samples += 1,
                                _ => t.push(Segment {
                                    since: at,
                                    holders,
                                    samples: 1,
                                }),
                            }
                        }
                    }
                    next += period;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        next = now;
                    }
                }
            })
        };
        Ok(Self {
            timeline,
            stop,
            thread: Some(thread),
            period,
            errors,
        })
    }

    /// The sampling period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// How many samples were skipped because a dump failed.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// The segments so far.
    pub fn timeline(&self) -> Vec<Segment> {
        lock(&self.timeline).clone()
    }

    /// The current holders (0 before the first sample).
    pub fn holders(&self) -> u32 {
        lock(&self.timeline).last().map_or(0, |s| s.holders)
    }

    /// Waits until the holders are `want`, first seen at or after `after`;
    /// returns the sample's time, or `None` after `timeout`.
    pub fn wait_for(&self, want: u32, after: Instant, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let t = lock(&self.timeline);
                // The last segment with these holders that began after `after`,
                // or the current one if it already holds.
                if let Some(last) = t.last()
                    && last.holders == want
                {
                    return Some(last.since.max(after));
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The segments that overlap `[from, to]`.
    pub fn between(&self, from: Instant, to: Instant) -> Vec<Segment> {
        let t = lock(&self.timeline);
        let mut out = Vec::new();
        for (i, s) in t.iter().enumerate() {
            let end = t.get(i + 1).map_or(Instant::now(), |n| n.since);
            if end > from && s.since <= to {
                out.push(*s);
            }
        }
        out
    }
}

impl Drop for VipWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An IP packet of protocol 112 (VRRP) captured on a switch port, from
/// the IP header on (Ethernet header removed, padding trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// When it was read.
    pub seen: Instant,
    /// The IP packet.
    pub packet: Vec<u8>,
}

/// Captures the first VRRP packet that node `n` sends (arriving at switch
/// port `pN`, so from that node only) and that `accept` takes, within
/// `timeout`. An AF_PACKET socket sees it whatever its destination
/// (group or unicast peer).
///
/// # Errors
/// When the socket cannot be opened or bound, or nothing matches in time.
pub fn capture(
    lan: &Lan,
    n: usize,
    timeout: Duration,
    accept: impl Fn(&[u8]) -> bool,
) -> io::Result<Captured> {
    let port = format!("p{n}");
    let fd = lan.switch().run(|| -> io::Result<OwnedFd> {
        let eth_p_all = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: socket(2) with constant arguments.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(eth_p_all),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let name = std::ffi::CString::new(port.clone())
            .map_err(|_| io::Error::other("interface name with a NUL"))?;
        // SAFETY: a valid C string.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: sockaddr_ll is plain data; zero is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = eth_p_all;
        sll.sll_ifindex = i32::try_from(index).map_err(io::Error::other)?;
        // SAFETY: bind(2) with a sockaddr_ll of the right size.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fd)
    })??;
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: setsockopt with a timeval of the right size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 2048];
    while Instant::now() < deadline {
        // SAFETY: sockaddr_ll is plain data; zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: recvfrom(2) into buffers we own, within their lengths.
        let got = unsafe {
            libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&raw mut from).cast(),
                &raw mut from_len,
            )
        };
        let Ok(got) = usize::try_from(got) else {
            continue; // timeout: look at the deadline
        };
        // What the switch sends out of the port is another node's.
        if from.sll_pkttype == libc::PACKET_OUTGOING || got < 14 {
            continue;
        }
        let frame = &buf[..got];
        let ip = &frame[14..];
        let packet = match u16::from_be_bytes([frame[12], frame[13]]) {
            0x0800 if ip.len() >= 20 && ip[9] == 112 => {
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                ip.get(..total)
            }
            0x86dd if ip.len() >= 40 && ip[6] == 112 => {
                let total = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                ip.get(..total)
            }
            _ => None,
        };
        if let Some(packet) = packet
            && accept(packet)
        {
            return Ok(Captured {
                seen: Instant::now(),
                packet: packet.to_vec(),
            });
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no VRRP packet from node {n} on port {port} within {timeout:?}"),
    ))
}

/// Writes `bytes` as hex, 16 a line, for logs and golden files.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        if i > 0 {
            s.push('\n');
        }
        for (j, b) in chunk.iter().enumerate() {
            if j > 0 {
                s.push(' ');
            }
            let _ = write!(s, "{b:02x}");
        }
    }
    s
}

/// Writes `contents` to `path`, creating its folder.
///
/// # Errors
/// As `std::fs::write`.
pub fn save(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    File::create(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_and_ipvsd_transitions_parse() {
        let ka = "Tue Dec  1 11:09:40 2026: (VI_1) Entering MASTER STATE";
        assert_eq!(parse_transition(ka, "VI_1"), Some((None, State::Master)));
        let init = "Tue Dec  1 11:09:37 2026: (VI_1) Entering BACKUP STATE (init)";
        assert_eq!(parse_transition(init, "VI_1"), Some((None, State::Backup)));
        assert_eq!(parse_transition(ka, "VI_2"), None);
        let ipvsd = "2026-12-01T11:09:40Z INFO vrrp instance VI_1: BACKUP -> MASTER (master down timer expired)";
        assert_eq!(
            parse_transition(ipvsd, "VI_1"),
            Some((Some(State::Backup), State::Master))
        );
        assert_eq!(
            parse_transition("vrrp instance VI_1: BACKUP => MASTER", "VI_1"),
            None
        );
        assert_eq!(
            parse_transition("(VI_1) Entering SLEEPY STATE", "VI_1"),
            None
        );
    }

    #[test]
    fn timers_follow_the_rfc_formulas() {
        let v3 = InstanceConfig::default();
        // 3 × 1 s + (256 − 100)/256 × 1 s
        assert_eq!(
            v3.master_down(100),
            Duration::from_secs(3) + Duration::from_secs_f64(156.0 / 256.0)
        );
        let fast = InstanceConfig {
            advert_int_cs: 10,
            ..v3
        };
        assert!((fast.master_down(100).as_secs_f64() - (0.3 + 0.1 * 156.0 / 256.0)).abs() < 1e-6);
        let v2 = InstanceConfig {
            version: 2,
            advert_int_cs: 200,
            ..v3
        };
        // v2's skew does not scale with the interval.
        assert_eq!(v2.skew(150), Duration::from_secs_f64(106.0 / 256.0));
    }

    #[test]
    fn render_has_the_unicast_peers_and_auth() {
        let c = InstanceConfig {
            version: 2,
            transport: Transport::Unicast,
            auth_pass: true,
            priority: 150,
            ..InstanceConfig::default()
        }
        .render(1, &[2, 3]);
        assert!(c.contains("unicast_src_ip 10.99.0.1\n"), "{c}");
        assert!(c.contains("        10.99.0.2\n        10.99.0.3\n"), "{c}");
        assert!(c.contains("auth_pass secret12"), "{c}");
        assert!(c.contains("priority 150\n"), "{c}");
        assert!(c.contains("advert_int 1\n"), "{c}");
        let v6 = InstanceConfig {
            family: Family::V6,
            advert_int_cs: 10,
            ..InstanceConfig::default()
        }
        .render(2, &[1]);
        assert!(v6.contains("fd00::100/64 dev eth0"), "{v6}");
        assert!(v6.contains("advert_int 0.1\n"), "{v6}");
        assert!(!v6.contains("unicast"), "{v6}");
    }

    #[test]
    fn parse_addr_prefers_ifa_local() {
        // ifaddrmsg (AF_INET, /24) + IFA_ADDRESS 10.0.0.9 + IFA_LOCAL 10.99.0.1
        let mut m = vec![libc::AF_INET as u8, 24, 0, 0, 2, 0, 0, 0];
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&IFA_ADDRESS.to_ne_bytes());
        m.extend_from_slice(&[10, 0, 0, 9]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&IFA_LOCAL.to_ne_bytes());
        m.extend_from_slice(&[10, 99, 0, 1]);
        assert_eq!(parse_addr(&m), Some(IpAddr::from([10, 99, 0, 1])));
        // Truncated attribute: ignored, no panic.
        assert_eq!(parse_addr(&m[..14]), None);
    }
}
