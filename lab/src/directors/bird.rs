//! BIRD 2 on the router and the directors: the configurations the scenario
//! runs (also shipped as `lab/conf/bird-router.conf` and
//! `lab/conf/bird-director.conf`, which a unit test keeps equal to what is
//! rendered here), the `bird` processes and `birdc`.
//!
//! The router (AS 65000) has an eBGP session with each director (AS 65001)
//! and installs the routes it learns into its kernel with `merge paths`:
//! one multipath route to the VIP with a next hop per director. A director
//! learns ipvsd's `[route_health]` routes from kernel table 200 (protocol
//! 201) and announces only those. BGP hold time 3 s (keepalive 1 s); with
//! BFD (200 ms x 5) a dead director's next hop goes in about a second
//! (BIRD's `bfd on`, RFC 5880/5882).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use testbed::netns::Namespace;

use super::network::{DIRECTORS, ROUTER_LAN, VIP, director_addr, director_name};

/// BIRD's daemon in the VM (Debian's `bird2`).
pub const BIRD: &str = "/usr/sbin/bird";
/// BIRD's client.
pub const BIRDC: &str = "/usr/sbin/birdc";
/// The director's AS.
pub const DIRECTOR_AS: u32 = 65001;
/// The router's AS.
pub const ROUTER_AS: u32 = 65000;

/// Failure detection: BFD on every session, or only BGP's hold timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// BFD, 200 ms x 5: a dead peer is noticed within a second.
    Bfd,
    /// BGP's hold timer alone (3 s).
    HoldTimer,
}

impl Detection {
    fn bfd_lines(self, interface: &str) -> String {
        match self {
            Self::Bfd => format!(
                "
# BFD: a peer silent for 5 x 200 ms is down (RFC 5880).
protocol bfd {{
    interface \"{interface}\" {{
        min rx interval 200 ms;
        min tx interval 200 ms;
        multiplier 5;
    }};
}}
"
            ),
            Self::HoldTimer => String::new(),
        }
    }

    fn bfd_switch(self) -> &'static str {
        match self {
            Self::Bfd => "on",
            Self::HoldTimer => "off",
        }
    }
}

/// The BGP timers of every session: hold 3 s, keepalive 1 s, and quick
/// (re)connection so a session comes up within a couple of seconds.
const TIMERS: &str = "    hold time 3;
    keepalive time 1;
    connect delay time 1;
    connect retry time 1;
    error wait time 1, 2;";

/// The router's configuration: a session per director, the VIP's routes
/// merged into one multipath kernel route.
pub fn router_conf(detection: Detection) -> String {
    let mut sessions = String::new();
    for i in 0..DIRECTORS {
        sessions.push_str(&format!(
            "protocol bgp {} from directors {{ neighbor {} as {DIRECTOR_AS}; }}\n",
            director_name(i),
            director_addr(i)
        ));
    }
    format!(
        "# BIRD 2 on the router of lvs-lab's several-directors scenario
# (lab/src/directors/): eBGP with each director, ECMP into the kernel.
# Rendered by lab/src/directors/bird.rs; the scenario runs exactly this.

# Messages with milliseconds (the scenario reads `BFD session down`).
log stderr all;
timeformat log iso long ms;
debug protocols {{ states, events }};

router id {ROUTER_LAN};

protocol device {{
    scan time 10;
}}

# Every director's route to the VIP, merged into one multipath route
# (ip route: one `nexthop via` per director).
protocol kernel {{
    merge paths on;
    ipv4 {{
        import none;
        export where source = RTS_BGP;
    }};
}}
{bfd}
template bgp directors {{
    local {ROUTER_LAN} as {ROUTER_AS};
{TIMERS}
    bfd {switch};
    ipv4 {{
        import where net = {VIP}/32;
        export none;
    }};
}}

{sessions}",
        bfd = detection.bfd_lines("br0"),
        switch = detection.bfd_switch(),
    )
}

/// Director `i`'s configuration: ipvsd's routes of table 200 (protocol
/// 201), announced to the router.
pub fn director_conf(i: usize, detection: Detection) -> String {
    format!(
        "# BIRD 2 on a director of lvs-lab's several-directors scenario
# (lab/src/directors/), beside ipvsd with [route_health] (table 200,
# protocol 201). Rendered by lab/src/directors/bird.rs for {name}.

# Messages with milliseconds (the scenario reads `BFD session down`).
log stderr all;
timeformat log iso long ms;
debug protocols {{ states, events }};

router id {addr};

protocol device {{
    scan time 10;
}}

ipv4 table vips4;

# ipvsd's routes: learned from table 200, only its own (krt_source 201).
protocol kernel ipvsd4 {{
    kernel table 200;
    learn;
    scan time 10;
    ipv4 {{
        table vips4;
        import where net.len = 32 && krt_source = 201;
        export none;
    }};
}}
{bfd}
protocol bgp uplink {{
    local {addr} as {DIRECTOR_AS};
    neighbor {ROUTER_LAN} as {ROUTER_AS};
{TIMERS}
    bfd {switch};
    ipv4 {{
        table vips4;
        import none;
        export where net.len = 32;
    }};
}}
",
        name = director_name(i),
        addr = director_addr(i),
        bfd = detection.bfd_lines("eth0"),
        switch = detection.bfd_switch(),
    )
}

/// A running `bird -f` in a namespace; SIGKILLed when dropped.
#[derive(Debug)]
pub struct Bird {
    child: Option<Child>,
    socket: PathBuf,
    log: PathBuf,
}

impl Bird {
    /// Writes `conf` to `<dir>/<name>.bird.conf` and runs BIRD on it in
    /// `ns`, its control socket `$TMPDIR/lvs-directors-PID-<name>.ctl`, its messages in
    /// `<dir>/<name>.bird.log`.
    ///
    /// # Errors
    /// When the files cannot be written or BIRD cannot start.
    pub fn start(ns: &Namespace, dir: &Path, name: &str, conf: &str) -> io::Result<Self> {
        let file = dir.join(format!("{name}.bird.conf"));
        // A socket cannot live on every file system (9p): in the temporary folder.
        let socket =
            std::env::temp_dir().join(format!("lvs-directors-{}-{name}.ctl", std::process::id()));
        std::fs::write(&file, conf)?;
        let log_path = dir.join(format!("{name}.bird.log"));
        let log = File::options().create(true).append(true).open(&log_path)?;
        let child = ns
            .command(BIRD)
            .arg("-f")
            .arg("-c")
            .arg(&file)
            .arg("-s")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(Self {
            child: Some(child),
            socket,
            log: log_path,
        })
    }

    /// `birdc -s SOCKET ARGS...`: what it printed.
    ///
    /// # Errors
    /// When birdc cannot run.
    pub fn birdc(&self, args: &[&str]) -> io::Result<String> {
        let out = Command::new(BIRDC)
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// What BIRD logged so far (empty if the log cannot be read).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (a dead machine: no BGP notification, no BFD down), and
    /// waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `bird -p` accepts `conf` (written to `path`): its message if not.
///
/// # Errors
/// When the file cannot be written or BIRD cannot run.
pub fn parse_check(path: &Path, conf: &str) -> io::Result<Result<(), String>> {
    std::fs::write(path, conf)?;
    let out = Command::new(BIRD).arg("-p").arg("-c").arg(path).output()?;
    Ok(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped files are the configurations the scenario runs (dir1's
    /// for the director, BFD on). `IPVS_RS_WRITE_BIRD_CONF=1` rewrites them.
    #[test]
    fn shipped_bird_configurations_are_the_rendered_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
        for (file, text) in [
            ("bird-router.conf", router_conf(Detection::Bfd)),
            ("bird-director.conf", director_conf(0, Detection::Bfd)),
        ] {
            let path = dir.join(file);
            if std::env::var_os("IPVS_RS_WRITE_BIRD_CONF").is_some() {
                std::fs::write(&path, &text).unwrap();
            }
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{file}");
        }
    }

    #[test]
    fn hold_timer_mode_has_no_bfd() {
        let r = router_conf(Detection::HoldTimer);
        assert!(r.contains("bfd off;") && !r.contains("protocol bfd"));
        assert_eq!(
            router_conf(Detection::Bfd)
                .matches("protocol bgp dir")
                .count(),
            3
        );
        assert!(director_conf(2, Detection::Bfd).contains("router id 10.1.0.13;"));
    }
}
