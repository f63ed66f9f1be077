//! Building the lab's network and acting on it: namespaces, links,
//! addresses, the real servers' HTTP servers, the directors' IPVS (through
//! `ipvsadm-rs`) and their `ipvsd` (on a keepalived.conf the lab writes,
//! in the director's namespace).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use testbed::http::{self, HeldRequest, Server};
use testbed::netns::Namespace;

use crate::client::RequestLoop;
use crate::daemon::Ipvsd;

/// The virtual IP the client uses.
pub const VIP: &str = "10.0.0.100";
/// The service: HTTP on the VIP.
pub const SERVICE: &str = "10.0.0.100:80";
/// The real servers' gateway on the internal network (it floats with the VIP).
pub const GATEWAY: &str = "192.168.10.1";
const TIMEOUT: Duration = Duration::from_secs(5);

/// The programs the lab runs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `ipvsadm-rs`, which configures the directors.
    pub ipvsadm: PathBuf,
    /// `ipvsd`, the director daemon: health checks and VRRP.
    pub ipvsd: PathBuf,
}

impl Tools {
    /// The programs built next to `exe` (`target/<profile>/`): `ipvsadm-rs`
    /// and `ipvsd`; `$IPVS_RS_IPVSADM` and `$IPVS_RS_IPVSD` override them.
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
            ipvsd: pick("IPVS_RS_IPVSD", dir.join("ipvsd")),
        };
        for (program, package) in [(&tools.ipvsadm, "ipvsadm-rs"), (&tools.ipvsd, "ipvsd")] {
            if !program.exists() {
                return Err(io::Error::other(format!(
                    "{} is missing: build it first (cargo build -p {package})",
                    program.display()
                )));
            }
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
    daemons: [Option<Ipvsd>; 2],
    /// Where the configurations and logs of the directors' `ipvsd` go.
    workdir: PathBuf,
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
    /// the VIP and the gateway (as a single director's own addresses, until
    /// VRRP takes them over in step 8). `log` receives what is done, line by
    /// line.
    ///
    /// # Errors
    /// When a namespace, link, address or the folder for the directors'
    /// configurations cannot be made.
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
            daemons: [None, None],
            workdir: std::env::temp_dir().join(format!("lvs-lab-{}", std::process::id())),
            log,
        };
        let mut lab = lab;
        std::fs::create_dir_all(&lab.workdir)?;
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
        lab.add_addresses(Director::One)?;
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
        self.ipvsadm_quiet(d, args)
    }

    /// As [`Lab::ipvsadm`], not logged: for polling until a state is reached.
    ///
    /// # Errors
    /// When it exits non-zero (with its message).
    pub fn ipvsadm_quiet(&self, d: Director, args: &[&str]) -> io::Result<String> {
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

    /// Starts `ipvsd --keepalived FILE` on director `d`, FILE being
    /// `config` written as `<workdir>/<director>-<name>.conf` (and shown in
    /// the log, with what `ipvsd check` says of it); the daemon's output
    /// goes to a `.log` file beside it. A daemon already running there is
    /// stopped first.
    ///
    /// # Errors
    /// When the file cannot be written, `ipvsd check` refuses it, or the
    /// daemon cannot start.
    pub fn start_ipvsd(&mut self, d: Director, name: &str, config: &str) -> io::Result<()> {
        if self.daemons[d.index()].is_some() {
            self.stop_ipvsd(d)?;
        }
        let file = self.workdir.join(format!("{}-{name}.conf", d.name()));
        let log = file.with_extension("log");
        std::fs::write(&file, config)?;
        self.say(&format!("  {}# cat {}", d.name(), file.display()));
        for line in config.lines() {
            self.say(&format!("    {line}"));
        }
        let ipvsd = self.tools.ipvsd.to_string_lossy().into_owned();
        let path = file.to_string_lossy().into_owned();
        self.say(&format!("  {}# ipvsd check --keepalived {path}", d.name()));
        let check = self.directors[d.index()]
            .command(&ipvsd)
            .args(["check", "--keepalived", &path])
            .output()?;
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        for line in said.lines() {
            self.say(&format!("    {line}"));
        }
        if !check.status.success() {
            return Err(io::Error::other(format!(
                "ipvsd check --keepalived {path} on {} ({}): {}",
                d.name(),
                check.status,
                said.trim()
            )));
        }
        let mut command = self.directors[d.index()].command(&ipvsd);
        command.args(["--keepalived", &path]);
        let daemon = Ipvsd::spawn(command, &file, &log)?;
        self.say(&format!(
            "  {}# ipvsd --keepalived {path} 2>{} &   (pid {})",
            d.name(),
            log.display(),
            daemon.pid()
        ));
        self.daemons[d.index()] = Some(daemon);
        Ok(())
    }

    /// What director `d`'s `ipvsd` has logged so far (empty if none runs).
    pub fn ipvsd_log(&self, d: Director) -> String {
        self.daemons[d.index()]
            .as_ref()
            .map(Ipvsd::log)
            .unwrap_or_default()
    }

    /// Writes director `d`'s `ipvsd` log into the lab's log, a line at a
    /// time with the director's name, from line `from` on (0: all of it);
    /// returns the number of lines it has.
    pub fn show_ipvsd_log(&mut self, d: Director, from: usize) -> usize {
        let log = self.ipvsd_log(d);
        let mut count = 0;
        for (i, line) in log.lines().enumerate() {
            count = i + 1;
            if i >= from {
                self.say(&format!("  {} ipvsd: {line}", d.name()));
            }
        }
        count.max(from)
    }

    /// After a failed step: what a reader needs to tell why. Each running
    /// `ipvsd`'s whole log, the directors' addresses, and the neighbour
    /// tables of the client and the real servers (a stale entry for the VIP
    /// or the gateway shows which director the packets went to).
    pub fn show_state_after_failure(&mut self) {
        self.say("\n== the state of the lab when the step failed");
        for d in [Director::One, Director::Two] {
            if self.daemons[d.index()].is_some() {
                self.show_ipvsd_log(d, 0);
            }
        }
        let mut shown = Vec::new();
        let places = self
            .directors
            .iter()
            .map(|ns| ("-br addr", ns))
            .chain(std::iter::once(("neigh", &self.client)))
            .chain(self.real_servers.iter().map(|ns| ("neigh", ns)));
        for (what, ns) in places {
            let mut command = ns.command("ip");
            command.args(what.split(' '));
            let said = match command.output() {
                Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
                Err(e) => format!("(ip {what}: {e})"),
            };
            shown.push(format!("  {}# ip {what}", ns.name()));
            shown.extend(said.lines().map(|l| format!("    {l}")));
        }
        for line in shown {
            self.say(&line);
        }
    }

    /// Whether director `d`'s `ipvsd` has exited (it should not have);
    /// `None` if it runs or none was started.
    ///
    /// # Errors
    /// When its status cannot be read.
    pub fn ipvsd_exited(&mut self, d: Director) -> io::Result<Option<ExitStatus>> {
        match self.daemons[d.index()].as_mut() {
            Some(daemon) => daemon.exited(),
            None => Ok(None),
        }
    }

    /// Stops director `d`'s `ipvsd` with SIGTERM (10 s at most) and returns
    /// its exit status; its log is written into the lab's log.
    ///
    /// # Errors
    /// When none runs there, or it did not exit in time.
    pub fn stop_ipvsd(&mut self, d: Director) -> io::Result<ExitStatus> {
        let Some(mut daemon) = self.daemons[d.index()].take() else {
            return Err(io::Error::other(format!("no ipvsd runs on {}", d.name())));
        };
        self.say(&format!("  {}# kill -TERM {}", d.name(), daemon.pid()));
        let status = daemon.terminate(Duration::from_secs(10));
        let log = daemon.log();
        self.say(&format!(
            "  {}'s ipvsd ({}) logged:",
            d.name(),
            daemon.config().display()
        ));
        for line in log.lines() {
            self.say(&format!("  {} ipvsd: {line}", d.name()));
        }
        status
    }

    /// Whether one HTTP request from the client to the VIP is answered
    /// within `timeout` (to connect, and again to read).
    ///
    /// # Errors
    /// When the client thread cannot run.
    pub fn answers(&mut self, timeout: Duration) -> io::Result<bool> {
        let vip: SocketAddr = SERVICE.parse().expect("address");
        self.client.run(|| http::get(vip, timeout).is_ok())
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

    /// Director `d` gets the VIP and the gateway as addresses of its own
    /// (no VRRP: a single director, steps 1 to 7).
    fn add_addresses(&mut self, d: Director) -> io::Result<()> {
        self.say(&format!(
            "{} gets the VIP {VIP} and the gateway {GATEWAY} (static addresses)",
            d.name()
        ));
        let ns = &self.directors[d.index()];
        ns.ip(&["addr", "add", &format!("{VIP}/24"), "dev", "lan0"])?;
        ns.ip(&["addr", "add", &format!("{GATEWAY}/24"), "dev", "int0"])
    }

    /// Director `d` drops its static VIP and gateway, for VRRP to manage.
    ///
    /// # Errors
    /// When an address cannot be removed.
    pub fn remove_addresses(&mut self, d: Director) -> io::Result<()> {
        self.say(&format!(
            "{} drops its static VIP and gateway: VRRP manages them from now on",
            d.name()
        ));
        let ns = &self.directors[d.index()];
        ns.ip(&["addr", "del", &format!("{VIP}/24"), "dev", "lan0"])?;
        ns.ip(&["addr", "del", &format!("{GATEWAY}/24"), "dev", "int0"])
    }

    /// Whether director `d` has `addr` on one of its interfaces.
    ///
    /// # Errors
    /// When `ip` cannot be run.
    pub fn holds(&self, d: Director, addr: &str) -> io::Result<bool> {
        let out = std::process::Command::new("ip")
            .args(["-n", self.directors[d.index()].name(), "-o", "addr", "show"])
            .output()?;
        let wanted = format!(" {addr}/");
        Ok(String::from_utf8_lossy(&out.stdout).contains(&wanted))
    }

    /// Director `d` dies as a machine does: its links go down, then its
    /// `ipvsd` is killed (SIGKILL). In that order nothing it might still
    /// send on the way out (a priority 0 advert) reaches the others, and
    /// its addresses stay on the dead links. Returns the moment its LAN
    /// link was down: from then on it sent no advert and served no client.
    ///
    /// # Errors
    /// When the links cannot be set down or the daemon cannot be killed.
    pub fn fail_director(&mut self, d: Director) -> io::Result<Instant> {
        let ns = &self.directors[d.index()];
        ns.ip(&["link", "set", "lan0", "down"])?;
        let died = Instant::now();
        ns.ip(&["link", "set", "int0", "down"])?;
        if let Some(daemon) = self.daemons[d.index()].as_mut() {
            daemon.kill()?;
        }
        self.say(&format!(
            "{} dies: its links go down and its ipvsd is killed (SIGKILL)",
            d.name()
        ));
        Ok(died)
    }

    /// Starts the client's request loop: requests to the VIP back to back,
    /// each with `timeout` to connect and to read, started at least
    /// `spacing` apart, until [`RequestLoop::stop`].
    ///
    /// # Errors
    /// When the client's thread cannot start.
    pub fn start_request_loop(
        &mut self,
        timeout: Duration,
        spacing: Duration,
    ) -> io::Result<RequestLoop> {
        let vip: SocketAddr = SERVICE.parse().map_err(io::Error::other)?;
        self.say(&format!(
            "  client: requests to http://{SERVICE}/ back to back ({} ms timeout, at least {} ms apart)",
            timeout.as_millis(),
            spacing.as_millis()
        ));
        RequestLoop::start(&self.client.path(), vip, timeout, spacing)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // The daemons stop before their namespaces go, then the servers;
        // the namespaces are deleted as they drop.
        self.daemons = [None, None];
        self.servers = [None, None, None];
        let _ = std::fs::remove_dir_all(&self.workdir);
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
