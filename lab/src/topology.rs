//! Building the lab's network and acting on it: namespaces, links,
//! addresses, the real servers' HTTP servers, the directors' IPVS (through
//! `ipvsadm-rs`) and their health checker (the [`health`] module, on a
//! thread in the director's namespace).

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use testbed::http::{self, HeldRequest, Server};
use testbed::netns::{self, Namespace};

use crate::health;

/// The virtual IP the client uses.
pub const VIP: &str = "10.0.0.100";
/// The service: HTTP on the VIP.
pub const SERVICE: &str = "10.0.0.100:80";
/// The real servers' gateway on the internal network (it floats with the VIP).
pub const GATEWAY: &str = "192.168.10.1";
/// A director's heartbeat port, on its own LAN address.
const HEARTBEAT_PORT: u16 = 7000;
const TIMEOUT: Duration = Duration::from_secs(5);

/// The programs the lab runs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `ipvsadm-rs`, which configures the directors.
    pub ipvsadm: PathBuf,
}

impl Tools {
    /// The programs built next to `exe` (`target/<profile>/`): `ipvsadm-rs`;
    /// `$IPVS_RS_IPVSADM` overrides it.
    ///
    /// # Errors
    /// When one is missing (with how to build it).
    pub fn next_to(exe: &std::path::Path) -> io::Result<Self> {
        let dir = exe.parent().and_then(|d| {
            if d.ends_with("deps") {
                d.parent()
            } else {
                Some(d)
            }
        });
        let dir = dir.ok_or_else(|| io::Error::other("no folder for the lab's programs"))?;
        let pick = |var: &str, default: PathBuf| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
        };
        let tools = Self {
            ipvsadm: pick("IPVS_RS_IPVSADM", dir.join("ipvsadm-rs")),
        };
        if !tools.ipvsadm.exists() {
            return Err(io::Error::other(format!(
                "{} is missing: build it first (cargo build -p ipvsadm-rs)",
                tools.ipvsadm.display()
            )));
        }
        Ok(tools)
    }
}

/// A director of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Director {
    /// The master (dir1, 10.0.0.11).
    One,
    /// The backup (dir2, 10.0.0.12).
    Two,
}

impl Director {
    fn index(self) -> usize {
        match self {
            Self::One => 0,
            Self::Two => 1,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        ["dir1", "dir2"][self.index()]
    }

    /// Its own LAN address.
    pub fn lan_addr(self) -> &'static str {
        ["10.0.0.11", "10.0.0.12"][self.index()]
    }
}

/// The lab: its namespaces and what runs in them.
pub struct Lab {
    tools: Tools,
    switch: Namespace,
    client: Namespace,
    directors: [Namespace; 2],
    real_servers: [Namespace; 3],
    servers: [Option<Server>; 3],
    heartbeat: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    log: Box<dyn FnMut(&str) + Send>,
}

/// The real servers' names.
pub const REAL_SERVERS: [&str; 3] = ["rs1", "rs2", "rs3"];

/// Internal addresses of the real servers (NAT).
pub fn rs_internal(i: usize) -> String {
    format!("192.168.10.{}", 21 + i)
}

/// LAN addresses of the real servers (direct routing).
pub fn rs_lan(i: usize) -> String {
    format!("10.0.0.{}", 21 + i)
}

impl Lab {
    fn say(&mut self, text: &str) {
        (self.log)(text);
    }

    /// Writes a line to the lab's log.
    pub fn log_line(&mut self, text: &str) {
        self.say(text);
    }

    /// Builds the network, with the real servers behind NAT and dir1 holding
    /// the VIP and the gateway. `log` receives what is done, line by line.
    ///
    /// # Errors
    /// When a namespace, link or address cannot be made.
    pub fn build(tools: Tools, log: Box<dyn FnMut(&str) + Send>) -> io::Result<Self> {
        let switch = Namespace::named("lab-sw")?;
        let lab = Self {
            tools,
            client: Namespace::named("lab-client")?,
            directors: [Namespace::named("lab-dir1")?, Namespace::named("lab-dir2")?],
            real_servers: [
                Namespace::named("lab-rs1")?,
                Namespace::named("lab-rs2")?,
                Namespace::named("lab-rs3")?,
            ],
            switch,
            servers: [None, None, None],
            heartbeat: None,
            log,
        };
        let mut lab = lab;
        lab.say("building the network: a LAN switch and an internal switch, a client, two directors, three real servers");
        for bridge in ["br-lan", "br-int"] {
            lab.switch.ip(&["link", "add", bridge, "type", "bridge"])?;
            lab.switch.ip(&["link", "set", bridge, "up"])?;
        }
        lab.plug(&lab.client, "c", "lan0", "br-lan", Some("10.0.0.2/24"))?;
        for (d, ns) in lab.directors.iter().enumerate() {
            let n = d + 1;
            lab.plug(
                ns,
                &format!("d{n}l"),
                "lan0",
                "br-lan",
                Some(&format!("10.0.0.1{n}/24")),
            )?;
            lab.plug(
                ns,
                &format!("d{n}i"),
                "int0",
                "br-int",
                Some(&format!("192.168.10.1{n}/24")),
            )?;
            ns.sysctl("net/ipv4/ip_forward", "1")?;
        }
        for (i, ns) in lab.real_servers.iter().enumerate() {
            let n = i + 1;
            lab.plug(
                ns,
                &format!("r{n}i"),
                "int0",
                "br-int",
                Some(&format!("{}/24", rs_internal(i))),
            )?;
            lab.plug(ns, &format!("r{n}l"), "lan0", "br-lan", None)?;
            ns.ip(&["route", "add", "default", "via", GATEWAY])?;
            // For direct routing later: answer ARP only for addresses of the
            // interface asked, announce with the best local address.
            ns.sysctl("net/ipv4/conf/all/arp_ignore", "1")?;
            ns.sysctl("net/ipv4/conf/all/arp_announce", "2")?;
        }
        for i in 0..3 {
            lab.start_server(i)?;
        }
        lab.take_addresses(Director::One)?;
        lab.start_heartbeat()?;
        Ok(lab)
    }

    /// A veth from `ns` (named `inside`) to `bridge` in the switch.
    fn plug(
        &self,
        ns: &Namespace,
        outside: &str,
        inside: &str,
        bridge: &str,
        addr: Option<&str>,
    ) -> io::Result<()> {
        self.switch.ip(&[
            "link",
            "add",
            outside,
            "type",
            "veth",
            "peer",
            "name",
            inside,
            "netns",
            ns.name(),
        ])?;
        self.switch
            .ip(&["link", "set", outside, "master", bridge, "up"])?;
        if let Some(addr) = addr {
            ns.ip(&["addr", "add", addr, "dev", inside])?;
            ns.ip(&["link", "set", inside, "up"])?;
        }
        Ok(())
    }

    /// Starts real server `i`'s HTTP server on port 80 of every address.
    ///
    /// # Errors
    /// When it cannot listen.
    pub fn start_server(&mut self, i: usize) -> io::Result<()> {
        let name = REAL_SERVERS[i];
        let server = self.real_servers[i]
            .run(|| Server::start_with(name, "0.0.0.0:80".parse().expect("address"), true))??;
        self.servers[i] = Some(server);
        Ok(())
    }

    /// Stops real server `i`'s HTTP server: it fails.
    pub fn stop_server(&mut self, i: usize) {
        self.servers[i] = None;
    }

    /// Runs `ipvsadm-rs ARGS` on a director and returns its output.
    ///
    /// # Errors
    /// When it exits non-zero (with its message).
    pub fn ipvsadm(&mut self, d: Director, args: &[&str]) -> io::Result<String> {
        self.say(&format!("  {}# ipvsadm-rs {}", d.name(), args.join(" ")));
        let out = self.directors[d.index()]
            .command(&self.tools.ipvsadm.to_string_lossy())
            .args(args)
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "ipvsadm-rs {} on {}: {}",
                args.join(" "),
                d.name(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts the health checker on a director, configured by `args` (the
    /// command line of `examples/health_check`), on a thread in the
    /// director's namespace; it runs until stopped or dropped.
    ///
    /// # Errors
    /// When `args` are not valid or the thread cannot start.
    pub fn start_health_check(&mut self, d: Director, args: &[&str]) -> io::Result<CheckerGuard> {
        self.say(&format!("  {}# health_check {}", d.name(), args.join(" ")));
        let config = health::Config::from_args(args).map_err(io::Error::other)?;
        let namespace = std::fs::File::open(self.directors[d.index()].path())?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("health_check@{}", d.name()))
            .spawn(move || {
                let mut lines = String::new();
                let checked = netns::enter(&namespace)
                    .map_err(|e| e.to_string())
                    .and_then(|()| ipvs::Ipvs::new().map_err(|e| e.to_string()))
                    .and_then(|ipvs| {
                        let out = |line: &str| {
                            lines.push_str(line);
                            lines.push('\n');
                        };
                        health::run(&ipvs, &config, &flag, out, || {}).map_err(|e| e.to_string())
                    });
                if let Err(e) = checked {
                    eprintln!("health_check: {e}");
                }
                lines
            })?;
        Ok(CheckerGuard {
            stop,
            thread: Some(thread),
        })
    }

    /// `n` HTTP requests from the client to the VIP: how many each real
    /// server answered (by name; "failed" for requests that failed).
    ///
    /// # Errors
    /// When the client thread cannot run.
    pub fn requests(&mut self, n: usize) -> io::Result<BTreeMap<String, usize>> {
        let vip: SocketAddr = SERVICE.parse().expect("address");
        let counts = self.client.run(|| {
            let mut counts = BTreeMap::new();
            for _ in 0..n {
                let who = match http::get(vip, TIMEOUT) {
                    Ok(body) => body.split_whitespace().next().unwrap_or("").to_owned(),
                    Err(_) => "failed".to_owned(),
                };
                *counts.entry(who).or_insert(0) += 1;
            }
            counts
        })?;
        self.say(&format!(
            "  client: {n} requests to http://{SERVICE}/ -> {}",
            show_counts(&counts)
        ));
        Ok(counts)
    }

    /// One request from the client, its whole answer ("rs1 10.0.0.100:80").
    ///
    /// # Errors
    /// When the request fails.
    pub fn request_body(&mut self) -> io::Result<String> {
        let vip: SocketAddr = SERVICE.parse().expect("address");
        self.client.run(|| http::get(vip, TIMEOUT))?
    }

    /// Opens a request from the client and leaves it unfinished.
    ///
    /// # Errors
    /// When the connection fails.
    pub fn hold_request(&mut self) -> io::Result<HeldRequest> {
        let vip: SocketAddr = SERVICE.parse().expect("address");
        self.client.run(|| HeldRequest::open(vip, TIMEOUT))?
    }

    /// Moves the real servers to direct routing: each gets its LAN leg and
    /// the VIP on `lo` (it must accept packets for the VIP but never answer
    /// ARP for it), and routes to the client directly.
    ///
    /// # Errors
    /// When an address or route cannot be set.
    pub fn real_servers_direct_routing(&mut self) -> io::Result<()> {
        self.say("real servers: LAN leg up, VIP on lo (arp_ignore=1, arp_announce=2), replies go straight to the client");
        for (i, ns) in self.real_servers.iter().enumerate() {
            ns.ip(&["addr", "add", &format!("{}/24", rs_lan(i)), "dev", "lan0"])?;
            ns.ip(&["link", "set", "lan0", "up"])?;
            ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"])?;
        }
        Ok(())
    }

    /// Back to NAT: the LAN legs and the VIP go; replies go through the gateway.
    ///
    /// # Errors
    /// When an address cannot be removed.
    pub fn real_servers_nat(&mut self) -> io::Result<()> {
        self.say(
            "real servers: LAN leg down, VIP off lo, replies go back through the director (NAT)",
        );
        for (i, ns) in self.real_servers.iter().enumerate() {
            ns.ip(&["addr", "del", &format!("{VIP}/32"), "dev", "lo"])?;
            ns.ip(&["addr", "del", &format!("{}/24", rs_lan(i)), "dev", "lan0"])?;
            ns.ip(&["link", "set", "lan0", "down"])?;
        }
        Ok(())
    }

    /// Director `d` takes the VIP and the gateway, and announces them
    /// (gratuitous ARP, as Heartbeat and keepalived do).
    ///
    /// # Errors
    /// When an address cannot be added.
    pub fn take_addresses(&mut self, d: Director) -> io::Result<()> {
        self.say(&format!(
            "{} takes the VIP {VIP} and the gateway {GATEWAY}",
            d.name()
        ));
        let ns = &self.directors[d.index()];
        ns.ip(&["addr", "add", &format!("{VIP}/24"), "dev", "lan0"])?;
        ns.ip(&["addr", "add", &format!("{GATEWAY}/24"), "dev", "int0"])?;
        self.announce(d);
        Ok(())
    }

    /// Gratuitous ARP for the VIP and the gateway, and, in case the arping
    /// of busybox is not there, the neighbours forget the old owner.
    fn announce(&mut self, d: Director) {
        let ns = &self.directors[d.index()];
        for (iface, addr) in [("lan0", VIP), ("int0", GATEWAY)] {
            let _ = ns
                .command("busybox")
                .args(["arping", "-U", "-c", "1", "-I", iface, addr])
                .output();
        }
        let _ = self.client.ip(&["neigh", "flush", VIP]);
        for rs in &self.real_servers {
            let _ = rs.ip(&["neigh", "flush", GATEWAY]);
        }
    }

    /// Director `d` fails: its links go down.
    ///
    /// # Errors
    /// When the links cannot be set down.
    pub fn fail_director(&mut self, d: Director) -> io::Result<()> {
        self.say(&format!("{} fails: its links go down", d.name()));
        let ns = &self.directors[d.index()];
        ns.ip(&["link", "set", "lan0", "down"])?;
        ns.ip(&["link", "set", "int0", "down"])
    }

    /// dir1 answers heartbeats on its LAN address (a TCP listener).
    fn start_heartbeat(&mut self) -> io::Result<()> {
        let addr: SocketAddr = format!("{}:{HEARTBEAT_PORT}", Director::One.lan_addr())
            .parse()
            .expect("address");
        let listener = self.directors[0].run(|| TcpListener::bind(addr))??;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let _ = listener.accept();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        self.heartbeat = Some((stop, thread));
        Ok(())
    }

    /// Whether dir1 answers dir2's heartbeat.
    ///
    /// # Errors
    /// When dir2's thread cannot run.
    pub fn master_alive(&mut self) -> io::Result<bool> {
        let addr: SocketAddr = format!("{}:{HEARTBEAT_PORT}", Director::One.lan_addr())
            .parse()
            .expect("address");
        self.directors[1]
            .run(|| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.heartbeat.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
        // The servers stop; the namespaces are deleted as they drop.
        self.servers = [None, None, None];
    }
}

/// A running health checker, stopped when dropped.
#[derive(Debug)]
pub struct CheckerGuard {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<String>>,
}

impl CheckerGuard {
    /// Stops the checker (after its current round) and returns what it
    /// reported, a line per event.
    pub fn stop(mut self) -> String {
        self.stop_and_read()
    }

    fn stop_and_read(&mut self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for CheckerGuard {
    fn drop(&mut self) {
        self.stop_and_read();
    }
}

/// `rs1=10 rs2=10 rs3=10`.
pub fn show_counts(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
