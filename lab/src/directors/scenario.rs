//! The several-directors scenario's steps and figures: ECMP over three
//! directors that announce the VIP through ipvsd's `[route_health]` and
//! BIRD; the `mh` scheduler's choices against the `ipvs::mh` model; a
//! director's death (failover time, failed new requests, long-lived
//! connections kept on their real server) and its return.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipvs::mh::{Server, Table};
use ipvs::{Ipvs, SchedFlags, ServiceKey};

use super::bird::{Bird, Detection, director_conf, router_conf};
use super::network::{
    CLIENT_ADDRESSES, DIRECTORS, Network, PORT, REAL_SERVERS, VIP, client_addr, director_addr,
    director_name, real_server_addr, real_server_at, real_server_name,
};
use super::traffic::{
    KeepAliveServer, KeptConnection, Outcome, RequestLoop, count_between, request_from,
};
use crate::daemon::Ipvsd;
use crate::topology::Tools;

/// How many long-lived connections are kept open through the failover.
pub const LONG_LIVED: usize = 36;
/// The director the scenario kills (dir2).
pub const KILLED: usize = 1;
/// Timeout of each new request of the background loop.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// Threads of the background request loop.
pub const LOOP_THREADS: usize = 3;
const LOOP_SPACING: Duration = Duration::from_millis(30);
/// How often the router's route is read (each read runs `ip`).
const POLL: Duration = Duration::from_millis(50);
/// An entry refreshed by the last asks: at most this many seconds below
/// the kernel's ESTABLISHED timeout (900 s).
const FRESH: u32 = 900 - 5;

/// What the scenario measured; [`Figures::report`] prints it.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// BFD, or BGP's hold timer alone.
    pub bfd: bool,
    /// The router's next hops to the VIP once every director announced it.
    pub next_hops: Vec<Ipv4Addr>,
    /// From starting BIRD everywhere to all three next hops (ms).
    pub converged_ms: u128,
    /// Directors whose `net.ipv4.vs.sloppy_tcp` ipvsd set to 1.
    pub sloppy_tcp_set: usize,
    /// Peers of the first director whose table `ipvsd status --compare`
    /// found in agreement with its own (exit 0).
    pub compared_agree: usize,
    /// Whether every director's `mh` table (the model, built from its
    /// real servers in the kernel's order) gives each client address the
    /// same real server.
    pub tables_agree: bool,
    /// Steady traffic: requests sent, one per client address.
    pub steady_requests: usize,
    /// Of those, answered.
    pub steady_answered: usize,
    /// Of those, answered by the real server the model predicted.
    pub steady_predicted: usize,
    /// Steady requests per director (found in its connection table).
    pub steady_per_director: Vec<usize>,
    /// Long-lived connections opened and answered.
    pub long_lived: usize,
    /// Long-lived connections per director.
    pub long_lived_per_director: Vec<usize>,
    /// From the kill to the router's route without the dead director (ms).
    pub failover_ms: Option<u128>,
    /// Whether the router's BIRD logged the dead director's BGP session
    /// going down because of BFD (`DIR: BFD session down`).
    pub bfd_noticed: bool,
    /// The router's next hops after the failover.
    pub next_hops_after_kill: Vec<Ipv4Addr>,
    /// New requests started during the failover (kill to convergence).
    pub failover_requests: usize,
    /// Of those, failed.
    pub failover_failed: usize,
    /// New requests started from 200 ms after convergence for 2 s.
    pub after_failover_requests: usize,
    /// Of those, failed.
    pub after_failover_failed: usize,
    /// Long-lived connections that went through the killed director.
    pub through_killed: usize,
    /// Of those, answered again by the same real server.
    pub through_killed_kept: usize,
    /// Of those, now in a surviving director's connection table.
    pub through_killed_on_survivor: usize,
    /// Long-lived connections answered by their first real server after the kill.
    pub kept_after_kill: usize,
    /// From restarting the director to its next hop back (ms).
    pub rejoin_ms: Option<u128>,
    /// New requests during the rejoin (restart to 2 s after the next hop).
    pub rejoin_requests: usize,
    /// Of those, failed.
    pub rejoin_failed: usize,
    /// Long-lived connections answered by their first real server after the rejoin.
    pub kept_after_rejoin: usize,
    /// Long-lived connections through the rejoined director afterwards.
    pub back_on_rejoined: usize,
}

impl Figures {
    /// Failed per thousand of `failed` out of `total`.
    pub fn per_thousand(failed: usize, total: usize) -> usize {
        (failed * 1000).checked_div(total).unwrap_or(0)
    }

    /// The figures as report lines.
    pub fn report(&self) -> String {
        let ms = |v: Option<u128>| v.map_or_else(|| "never".to_owned(), |v| format!("{v} ms"));
        let hops = |h: &[Ipv4Addr]| {
            h.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut r = String::new();
        let mut line = |s: String| {
            r.push_str(&s);
            r.push('\n');
        };
        line(format!(
            "failure detection: {}",
            if self.bfd {
                "BFD 200 ms x 5"
            } else {
                "BGP hold timer 3 s"
            }
        ));
        line(format!(
            "1. router's route to {VIP}: next hops {} ({} ms after BIRD started)",
            hops(&self.next_hops),
            self.converged_ms
        ));
        line(format!(
            "   sloppy_tcp set by ipvsd on {}/{DIRECTORS} directors; `ipvsd status --compare` from {}: {}/{} peers agree",
            self.sloppy_tcp_set,
            director_name(0),
            self.compared_agree,
            DIRECTORS - 1
        ));
        line(format!(
            "2. steady traffic: {}/{} answered; mh model predicted {}/{}; per director {:?}; directors' mh tables agree: {}",
            self.steady_answered,
            self.steady_requests,
            self.steady_predicted,
            self.steady_requests,
            self.steady_per_director,
            self.tables_agree
        ));
        line(format!(
            "3. long-lived connections: {} open, per director {:?}",
            self.long_lived, self.long_lived_per_director
        ));
        line(format!(
            "4. {} killed: next hop gone after {} (BFD noticed: {}); next hops {}; failed new requests {}/{} ({} per thousand) during the failover, {}/{} after",
            director_name(KILLED),
            ms(self.failover_ms),
            self.bfd_noticed,
            hops(&self.next_hops_after_kill),
            self.failover_failed,
            self.failover_requests,
            Self::per_thousand(self.failover_failed, self.failover_requests),
            self.after_failover_failed,
            self.after_failover_requests
        ));
        line(format!(
            "   long-lived through {}: {}/{} same real server, {}/{} now on a surviving director; overall {}/{} same real server",
            director_name(KILLED),
            self.through_killed_kept,
            self.through_killed,
            self.through_killed_on_survivor,
            self.through_killed,
            self.kept_after_kill,
            self.long_lived
        ));
        line(format!(
            "5. rejoin: next hop back after {}; failed new requests {}/{}; long-lived {}/{} same real server, {} back through {}",
            ms(self.rejoin_ms),
            self.rejoin_failed,
            self.rejoin_requests,
            self.kept_after_rejoin,
            self.long_lived,
            self.back_on_rejoined,
            director_name(KILLED)
        ));
        r
    }
}

/// The scenario's network and processes.
pub struct Scenario {
    tools: Tools,
    detection: Detection,
    workdir: PathBuf,
    router: Option<Bird>,
    birds: Vec<Option<Bird>>,
    daemons: Vec<Option<Ipvsd>>,
    servers: Vec<KeepAliveServer>,
    log: Box<dyn FnMut(&str) + Send>,
    /// Last: dropped after the daemons and BIRD have stopped.
    net: Network,
}

impl Drop for Scenario {
    fn drop(&mut self) {
        // The daemons stop when their fields drop; their copied program
        // can go before (Linux keeps a running file).
        if self.tools.ipvsd.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_file(&self.tools.ipvsd);
        }
    }
}

/// The port of every director's ipvsd status API (on all its addresses,
/// so that `ipvsd status --compare` can ask a peer).
pub const STATUS_PORT: u16 = 9613;

/// ipvsd's configuration on every director: `sloppy_tcp` (a director that
/// never saw a connection's SYN takes it up from any packet, which is how
/// a connection moved by the router's ECMP keeps working), the status API
/// on every address, `[route_health]` (table 200, protocol 201, no
/// hold-downs) and one `mh` service, direct routing, the
/// real servers up from the start (so every director adds them in the
/// same order, and builds the same `mh` table).
pub fn ipvsd_conf() -> String {
    let mut conf = format!(
        "[global]
start_down = false
sloppy_tcp = true
status_listen = \"0.0.0.0:{STATUS_PORT}\"

[route_health]
table = 200
protocol = 201
hold_down_up = 0
hold_down_down = 0
flap_hold = 0

[[services]]
protocol = \"tcp\"
address = \"{VIP}\"
port = {PORT}
scheduler = \"mh\"
forward = \"route\"
delay_loop = 1
"
    );
    for i in 0..REAL_SERVERS {
        conf.push_str(&format!(
            "
[[services.destinations]]
address = \"{}\"
port = {PORT}

[[services.destinations.checkers]]
type = \"tcp\"
connect_timeout = 1
",
            real_server_addr(i)
        ));
    }
    conf
}

/// Polls `f` every [`POLL`] until it holds or `within` passes: the time it
/// took, or `None`.
fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= within {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

impl Scenario {
    /// Builds the network, starts the real servers, ipvsd and BIRD on each
    /// director and BIRD on the router.
    ///
    /// # Errors
    /// When a piece cannot be made or started.
    pub fn start(
        tools: Tools,
        detection: Detection,
        log: Box<dyn FnMut(&str) + Send>,
    ) -> io::Result<Self> {
        let workdir = std::env::var_os("IPVS_RS_DIRECTORS_DIR").map_or_else(
            || std::env::temp_dir().join(format!("lvs-directors-{}", std::process::id())),
            PathBuf::from,
        );
        std::fs::create_dir_all(&workdir)?;
        let net = Network::build()?;
        // A copy in the temporary folder: started from a shared folder
        // (the VM's 9p), a large debug build pages in slowly at each start.
        let mut tools = tools;
        let local =
            std::env::temp_dir().join(format!("lvs-directors-{}-ipvsd", std::process::id()));
        if std::fs::copy(&tools.ipvsd, &local).is_ok() {
            tools.ipvsd = local;
        }
        let mut s = Self {
            net,
            tools,
            detection,
            workdir,
            router: None,
            birds: (0..DIRECTORS).map(|_| None).collect(),
            daemons: (0..DIRECTORS).map(|_| None).collect(),
            servers: Vec::new(),
            log,
        };
        s.say(&format!(
            "network: router, client ({CLIENT_ADDRESSES} addresses), {DIRECTORS} directors, {REAL_SERVERS} real servers; configurations in {}",
            s.workdir.display()
        ));
        for (i, ns) in s.net.real_servers.iter().enumerate() {
            let name = real_server_name(i);
            let addr = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), PORT);
            let server = ns.run(|| KeepAliveServer::start(&name, addr))??;
            s.servers.push(server);
        }
        for i in 0..DIRECTORS {
            s.start_ipvsd(i)?;
        }
        s.router = Some(Bird::start(
            &s.net.router,
            &s.workdir,
            "router",
            &router_conf(detection),
        )?);
        for i in 0..DIRECTORS {
            s.start_bird(i)?;
        }
        Ok(s)
    }

    fn say(&mut self, text: &str) {
        (self.log)(text);
    }

    fn start_ipvsd(&mut self, i: usize) -> io::Result<()> {
        let file = self
            .workdir
            .join(format!("{}-ipvsd.toml", director_name(i)));
        std::fs::write(&file, ipvsd_conf())?;
        let mut command = self.net.directors[i].command(&self.tools.ipvsd.to_string_lossy());
        command.arg("--config").arg(&file);
        let daemon = Ipvsd::spawn(command, &file, &file.with_extension("log"))?;
        self.daemons[i] = Some(daemon);
        Ok(())
    }

    fn start_bird(&mut self, i: usize) -> io::Result<()> {
        let bird = Bird::start(
            &self.net.directors[i],
            &self.workdir,
            &director_name(i),
            &director_conf(i, self.detection),
        )?;
        self.birds[i] = Some(bird);
        Ok(())
    }

    /// Every director's `mh` table, from its real servers in the kernel's
    /// order.
    fn mh_tables(&self) -> io::Result<Vec<Table>> {
        let key = ServiceKey::tcp(VIP, PORT);
        self.net
            .directors
            .iter()
            .map(|ns| {
                let ipvs = Ipvs::in_namespace(ns.path()).map_err(io::Error::other)?;
                let servers: Vec<Server> = ipvs
                    .destinations(&key)
                    .map_err(io::Error::other)?
                    .iter()
                    .map(|d| Server::from(&d.destination))
                    .collect();
                Table::new(&servers, SchedFlags::NONE).map_err(io::Error::other)
            })
            .collect()
    }

    /// Runs every step and returns the figures.
    ///
    /// # Errors
    /// When a step cannot run at all (a figure that is off is not an error:
    /// the caller asserts on the figures).
    pub fn run(&mut self) -> io::Result<Figures> {
        let mut f = Figures {
            bfd: self.detection == Detection::Bfd,
            ..Figures::default()
        };
        let started = Instant::now();
        let all: Vec<Ipv4Addr> = (0..DIRECTORS).map(director_addr).collect();
        let converged = wait_until(Duration::from_secs(30), || {
            self.net.router_next_hops().is_ok_and(|h| h == all)
        });
        f.next_hops = self.net.router_next_hops()?;
        f.converged_ms = started.elapsed().as_millis();
        if converged.is_none() {
            self.say("the router never had a next hop per director");
            return Ok(f);
        }
        self.say(&format!("step 1: next hops {:?}", f.next_hops));
        self.agreement(&mut f)?;
        if let Some(router) = &self.router {
            let said = router.birdc(&["show", "bfd", "sessions"])?;
            self.say(&format!("router# birdc show bfd sessions\n{said}"));
        }

        self.steady(&mut f)?;
        let mut kept = self.long_lived(&mut f)?;
        self.kill(&mut f, &mut kept)?;
        self.rejoin(&mut f, &mut kept)?;
        Ok(f)
    }

    /// Step 1 continued: ipvsd set `sloppy_tcp` on every director, and
    /// `ipvsd status --compare`, run on the first director, finds every
    /// other director's table in agreement with its own.
    fn agreement(&mut self, f: &mut Figures) -> io::Result<()> {
        for i in 0..DIRECTORS {
            if self.net.director_ipvs_sysctl(i, "sloppy_tcp")? == "1" {
                f.sloppy_tcp_set += 1;
            }
        }
        for peer in 1..DIRECTORS {
            let out = self.net.directors[0]
                .command(&self.tools.ipvsd.to_string_lossy())
                .args([
                    "status",
                    "--listen",
                    &format!("127.0.0.1:{STATUS_PORT}"),
                    "--compare",
                    &format!("{}:{STATUS_PORT}", director_addr(peer)),
                ])
                .output()?;
            let said = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            self.say(&format!(
                "{}# ipvsd status --compare {}:{STATUS_PORT}\n{said}",
                director_name(0),
                director_addr(peer)
            ));
            if out.status.success() {
                f.compared_agree += 1;
            }
        }
        Ok(())
    }

    /// Step 2: a request from each client address; who answered against
    /// the model.
    fn steady(&mut self, f: &mut Figures) -> io::Result<()> {
        let tables = self.mh_tables()?;
        let sources: Vec<Ipv4Addr> = (0..CLIENT_ADDRESSES).map(client_addr).collect();
        let predicted_by =
            |t: &Table, a: Ipv4Addr| t.server_for(IpAddr::V4(a), 0).map(|s| s.address);
        f.tables_agree = sources.iter().all(|a| {
            tables
                .iter()
                .all(|t| predicted_by(t, *a) == predicted_by(&tables[0], *a))
        });
        let answers = self.net.client.run(|| {
            sources
                .iter()
                .map(|a| request_from(*a, Duration::from_secs(3)).ok())
                .collect::<Vec<_>>()
        })?;
        let clients: Vec<SocketAddr> = answers
            .iter()
            .map(|a| {
                a.as_ref()
                    .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |(c, _)| *c)
            })
            .collect();
        let via = self.net.director_of(&clients)?;
        f.steady_requests = sources.len();
        f.steady_per_director = vec![0; DIRECTORS];
        for ((source, answer), d) in sources.iter().zip(&answers).zip(&via) {
            let Some((_, body)) = answer else { continue };
            f.steady_answered += 1;
            if let Some(d) = d {
                f.steady_per_director[*d] += 1;
            }
            let table = &tables[d.unwrap_or(0)];
            let predicted = predicted_by(table, *source)
                .and_then(real_server_at)
                .map(real_server_name);
            if predicted.as_deref() == Some(body.as_str()) {
                f.steady_predicted += 1;
            }
        }
        self.say(&format!(
            "step 2: {}/{} answered, {} as the mh model predicted",
            f.steady_answered, f.steady_requests, f.steady_predicted
        ));
        Ok(())
    }

    /// Step 3: long-lived connections, each asked once; which director
    /// carries each.
    fn long_lived(&mut self, f: &mut Figures) -> io::Result<Vec<(KeptConnection, String)>> {
        let opened = self.net.client.run(|| {
            (0..LONG_LIVED)
                .filter_map(|k| {
                    let mut c =
                        KeptConnection::open(client_addr(k), Duration::from_secs(3)).ok()?;
                    let first = c.ask().ok()?;
                    Some((c, first))
                })
                .collect::<Vec<_>>()
        })?;
        f.long_lived = opened.len();
        let clients: Vec<SocketAddr> = opened.iter().map(|(c, _)| c.client).collect();
        f.long_lived_per_director = vec![0; DIRECTORS];
        for d in self.net.director_of(&clients)?.into_iter().flatten() {
            f.long_lived_per_director[d] += 1;
        }
        self.say(&format!(
            "step 3: {} long-lived connections, per director {:?}",
            f.long_lived, f.long_lived_per_director
        ));
        Ok(opened)
    }

    /// Asks every long-lived connection again, all at once: for each,
    /// whether its first real server answered.
    fn ask_all(kept: &mut [(KeptConnection, String)]) -> Vec<bool> {
        std::thread::scope(|scope| {
            let asks: Vec<_> = kept
                .iter_mut()
                .map(|(c, first)| {
                    scope.spawn(move || {
                        c.set_timeout(Duration::from_secs(15)).is_ok()
                            && c.ask().is_ok_and(|now| now == *first)
                    })
                })
                .collect();
            asks.into_iter()
                .map(|a| a.join().unwrap_or(false))
                .collect()
        })
    }

    /// The background loop of new requests from the client.
    fn start_traffic(&self) -> io::Result<RequestLoop> {
        RequestLoop::start(
            &self.net.client,
            LOOP_THREADS,
            REQUEST_TIMEOUT,
            LOOP_SPACING,
        )
    }

    /// Step 4: the director dies (link down, BIRD and ipvsd SIGKILLed).
    fn kill(&mut self, f: &mut Figures, kept: &mut [(KeptConnection, String)]) -> io::Result<()> {
        let clients: Vec<SocketAddr> = kept.iter().map(|(c, _)| c.client).collect();
        let before = self.net.director_of(&clients)?;
        let traffic = self.start_traffic()?;
        std::thread::sleep(Duration::from_millis(500));
        let dead = director_addr(KILLED);
        let t0 = Instant::now();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.say(&format!(
            "step 4: killing {} at {}.{:03} (Unix time)",
            director_name(KILLED),
            wall.as_secs(),
            wall.subsec_millis()
        ));
        self.net.set_director_link(KILLED, false)?;
        if let Some(bird) = self.birds[KILLED].as_mut() {
            bird.kill();
        }
        if let Some(d) = self.daemons[KILLED].as_mut() {
            d.kill()?;
        }
        let gone = wait_until(Duration::from_secs(15), || {
            self.net
                .router_next_hops()
                .is_ok_and(|h| !h.contains(&dead))
        });
        let t1 = Instant::now();
        f.failover_ms = gone.map(|_| (t1 - t0).as_millis());
        f.next_hops_after_kill = self.net.router_next_hops()?;
        f.bfd_noticed = self
            .router
            .as_ref()
            .map(|r| r.log())
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains(&format!("{}: BFD session down", director_name(KILLED))));
        std::thread::sleep(Duration::from_millis(2200));
        let outcomes: Vec<Outcome> = traffic.stop();
        let (ok, failed) = count_between(&outcomes, t0, t1);
        (f.failover_requests, f.failover_failed) = (ok + failed, failed);
        let after = t1 + Duration::from_millis(200);
        let (ok, failed) = count_between(&outcomes, after, after + Duration::from_secs(2));
        (f.after_failover_requests, f.after_failover_failed) = (ok + failed, failed);
        self.say(&format!(
            "step 4: {} killed, next hop gone after {:?} ms",
            director_name(KILLED),
            f.failover_ms
        ));

        let answered = Self::ask_all(kept);
        f.kept_after_kill = answered.iter().filter(|a| **a).count();
        // The dead director's namespace still lists its old entries: a
        // moved connection shows in a survivor's table as well.
        let carriers = self.net.carriers(&clients)?;
        for ((was, ok), on) in before.iter().zip(&answered).zip(&carriers) {
            if *was == Some(KILLED) {
                f.through_killed += 1;
                f.through_killed_kept += usize::from(*ok);
                f.through_killed_on_survivor += usize::from(on.iter().any(|d| *d != KILLED));
            }
        }
        Ok(())
    }

    /// Step 5: the director comes back (link up, ipvsd, then BIRD).
    fn rejoin(&mut self, f: &mut Figures, kept: &mut [(KeptConnection, String)]) -> io::Result<()> {
        let traffic = self.start_traffic()?;
        std::thread::sleep(Duration::from_millis(300));
        let t0 = Instant::now();
        self.net.set_director_link(KILLED, true)?;
        self.start_ipvsd(KILLED)?;
        self.start_bird(KILLED)?;
        let all: Vec<Ipv4Addr> = (0..DIRECTORS).map(director_addr).collect();
        let back = wait_until(Duration::from_secs(30), || {
            self.net.router_next_hops().is_ok_and(|h| h == all)
        });
        f.rejoin_ms = back.map(|b| b.as_millis());
        std::thread::sleep(Duration::from_secs(2));
        let outcomes = traffic.stop();
        let (ok, failed) = count_between(&outcomes, t0, Instant::now());
        (f.rejoin_requests, f.rejoin_failed) = (ok + failed, failed);
        self.say(&format!("step 5: next hop back after {:?} ms", f.rejoin_ms));

        let answered = Self::ask_all(kept);
        f.kept_after_rejoin = answered.iter().filter(|a| **a).count();
        let clients: Vec<SocketAddr> = kept.iter().map(|(c, _)| c.client).collect();
        // Its old entries are still listed; those the asks just used were
        // refreshed to the full ESTABLISHED timeout (900 s unless set).
        f.back_on_rejoined = self.net.refreshed_on(KILLED, &clients, FRESH)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The shipped file is the configuration every director's ipvsd runs
    /// (the README shows it). `IPVS_RS_WRITE_BIRD_CONF=1` rewrites it, with
    /// the BIRD files.
    #[test]
    fn shipped_ipvsd_configuration_is_the_rendered_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/ipvsd-director.toml");
        let text = ipvsd_conf();
        if std::env::var_os("IPVS_RS_WRITE_BIRD_CONF").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert!(text.contains("sloppy_tcp = true") && text.contains("[route_health]"));
    }
}
