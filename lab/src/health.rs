//! A small health checker for the real servers of one virtual service, as
//! a director runs beside IPVS: each real server is probed every interval;
//! after `fall` failed probes in a row its weight goes to 0 (no new
//! connections), after `rise` good ones its weight comes back.
//!
//! The rise/fall rule is a pure core ([`Health`], no I/O); [`Checker`] is
//! the edge that probes and sets weights through the `ipvs` library; [`run`]
//! loops until told to stop. `examples/health_check.rs` is its
//! command-line front end, for library users; the lab itself checks its
//! real servers with `ipvsd` (keepalived's checkers) since step 6 runs it.
//!
//! ```text
//! health_check tcp|udp VIP:PORT [--http PATH | --tcp] [--interval MS] [--timeout MS] [--rise N] [--fall N]
//! health_check tcp 10.0.0.100:80 --http / --interval 500 --rise 2 --fall 2
//! ```
//! A probe is an HTTP `GET PATH` that must answer 200 (the default, path
//! `/`), or a TCP connect. Real servers are probed at their own address and
//! port. Weights it set to 0 when it stops stay 0.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ipvs::{DestinationUpdate, Ipvs, ServiceKey};

/// How a real server is probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `GET PATH` over HTTP/1.0, which must answer 200.
    Http(String),
    /// A TCP connect that succeeds.
    Tcp,
}

/// What to check and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The virtual service whose real servers are checked.
    pub service: ServiceKey,
    /// How each real server is probed.
    pub probe: Probe,
    /// Time between two rounds of probes.
    pub interval: Duration,
    /// How long a probe may take (connect, then answer).
    pub timeout: Duration,
    /// Good probes in a row that bring a real server back (at least 1).
    pub rise: u32,
    /// Failed probes in a row that take a real server out (at least 1).
    pub fall: u32,
}

/// The command line's grammar, for messages.
pub const USAGE: &str = "usage: health_check tcp|udp VIP:PORT [--http PATH | --tcp] [--interval MS] [--timeout MS] [--rise N] [--fall N]";

impl Config {
    /// Reads the command line (without the program name): `tcp|udp
    /// VIP:PORT` then options; the defaults are `--http /`, an interval of
    /// 1000 ms, a timeout of 500 ms, rise 2 and fall 3.
    ///
    /// # Errors
    /// A message saying what is wrong (with [`USAGE`] where it helps).
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Self, String> {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let [proto, vip, rest @ ..] = args.as_slice() else {
            return Err(USAGE.into());
        };
        let vip: SocketAddr = vip
            .parse()
            .map_err(|_| format!("`{vip}` is not VIP:PORT"))?;
        let service = match *proto {
            "tcp" => ServiceKey::tcp(vip.ip(), vip.port()),
            "udp" => ServiceKey::udp(vip.ip(), vip.port()),
            other => return Err(format!("unknown protocol `{other}` (tcp or udp)")),
        };
        let mut o = Self {
            service,
            probe: Probe::Http("/".into()),
            interval: Duration::from_millis(1000),
            timeout: Duration::from_millis(500),
            rise: 2,
            fall: 3,
        };
        let mut it = rest.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            let number = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: `{v}` is not a number"))
            };
            match *flag {
                "--http" => o.probe = Probe::Http((*value()?).to_owned()),
                "--tcp" => o.probe = Probe::Tcp,
                "--interval" => o.interval = Duration::from_millis(number(value()?)?),
                "--timeout" => o.timeout = Duration::from_millis(number(value()?)?),
                "--rise" => o.rise = number(value()?)?.clamp(1, u64::from(u32::MAX)) as u32,
                "--fall" => o.fall = number(value()?)?.clamp(1, u64::from(u32::MAX)) as u32,
                other => return Err(format!("unknown option `{other}`\n{USAGE}")),
            }
        }
        Ok(o)
    }
}

/// One probe of `addr`; `true` if the real server answered as it should
/// within `timeout`.
pub fn probe(addr: SocketAddr, how: &Probe, timeout: Duration) -> bool {
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let Probe::Http(path) = how else { return true };
    let _ = conn.set_read_timeout(Some(timeout));
    let _ = conn.set_write_timeout(Some(timeout));
    if write!(
        conn,
        "GET {path} HTTP/1.0\r\nUser-Agent: health_check\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).is_ok()
        && (head.starts_with(b"HTTP/1.0 200") || head.starts_with(b"HTTP/1.1 200"))
}

/// What the checker decided about a real server after a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Take it out: its weight goes to 0.
    Down {
        /// Failed probes in a row.
        after: u32,
        /// Its weight until now (restored when it comes back).
        weight: u32,
    },
    /// Bring it back at `weight`.
    Up {
        /// Good probes in a row.
        after: u32,
        /// The weight it had when it was taken out.
        weight: u32,
    },
}

/// What the checker knows of one real server: the pure rise/fall rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    good_in_a_row: u32,
    bad_in_a_row: u32,
    /// The weight to restore, while the checker holds it at 0.
    taken_out: Option<u32>,
}

impl Health {
    /// Counts a probe (`up` or not) of a real server whose weight is now
    /// `weight`, and says what to do: take it out after `fall` failures in a
    /// row (unless its weight is already 0 and not of the checker's doing),
    /// bring it back after `rise` good probes in a row.
    pub fn observe(&mut self, up: bool, weight: u32, rise: u32, fall: u32) -> Option<Verdict> {
        if up {
            self.good_in_a_row = self.good_in_a_row.saturating_add(1);
            self.bad_in_a_row = 0;
        } else {
            self.bad_in_a_row = self.bad_in_a_row.saturating_add(1);
            self.good_in_a_row = 0;
        }
        match self.taken_out {
            None if self.bad_in_a_row >= fall && weight > 0 => {
                self.taken_out = Some(weight);
                Some(Verdict::Down {
                    after: self.bad_in_a_row,
                    weight,
                })
            }
            Some(weight) if self.good_in_a_row >= rise => {
                self.taken_out = None;
                Some(Verdict::Up {
                    after: self.good_in_a_row,
                    weight,
                })
            }
            _ => None,
        }
    }
}

/// The checker of one service's real servers, over a handle in the
/// director's namespace.
#[derive(Debug)]
pub struct Checker<'a> {
    ipvs: &'a Ipvs,
    config: &'a Config,
    health: HashMap<(IpAddr, u16), Health>,
}

impl<'a> Checker<'a> {
    /// A checker that knows nothing of the real servers yet.
    pub fn new(ipvs: &'a Ipvs, config: &'a Config) -> Self {
        Self {
            ipvs,
            config,
            health: HashMap::new(),
        }
    }

    /// The line it starts with: what it checks and how often.
    pub fn banner(&self) -> String {
        let o = self.config;
        format!(
            "checking the real servers of {} every {:?} (rise {}, fall {})",
            o.service, o.interval, o.rise, o.fall
        )
    }

    /// Probes every real server of the service once and sets the weights
    /// the probes call for; returns a line per real server taken out or
    /// brought back.
    ///
    /// # Errors
    /// When the service's real servers cannot be listed or a weight cannot
    /// be set.
    pub fn round(&mut self) -> Result<Vec<String>, ipvs::Error> {
        let o = self.config;
        let mut lines = Vec::new();
        for d in self.ipvs.destinations(&o.service)? {
            let (address, port) = (d.destination.address, d.destination.port);
            let addr = SocketAddr::new(address, port);
            let up = probe(addr, &o.probe, o.timeout);
            let health = self.health.entry((address, port)).or_default();
            let Some(verdict) = health.observe(up, d.destination.weight, o.rise, o.fall) else {
                continue;
            };
            let (weight, line) = match verdict {
                Verdict::Down { after, weight } => (
                    0,
                    format!("{addr} DOWN after {after} failed probes: weight {weight} -> 0"),
                ),
                Verdict::Up { after, weight } => (
                    weight,
                    format!("{addr} UP after {after} good probes: weight 0 -> {weight}"),
                ),
            };
            self.ipvs.update_destination_with(
                &o.service,
                address,
                port,
                &DestinationUpdate::new().with_weight(weight),
            )?;
            lines.push(line);
        }
        Ok(lines)
    }
}

/// Checks `config`'s real servers through `ipvs` every interval until
/// `stop` is set, giving `out` the banner and then each change it makes
/// (`end_of_round` after each round, to flush an output).
///
/// # Errors
/// As [`Checker::round`]: the checker stops at the first failure.
pub fn run(
    ipvs: &Ipvs,
    config: &Config,
    stop: &AtomicBool,
    mut out: impl FnMut(&str),
    mut end_of_round: impl FnMut(),
) -> Result<(), ipvs::Error> {
    let mut checker = Checker::new(ipvs, config);
    out(&checker.banner());
    while !stop.load(Ordering::Relaxed) {
        for line in checker.round()? {
            out(&line);
        }
        end_of_round();
        let start = Instant::now();
        while !stop.load(Ordering::Relaxed) && start.elapsed() < config.interval {
            std::thread::sleep((config.interval - start.elapsed()).min(Duration::from_millis(50)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_out_after_fall_failures_and_back_after_rise_good_probes() {
        let mut h = Health::default();
        assert_eq!(h.observe(false, 5, 2, 3), None);
        assert_eq!(h.observe(false, 5, 2, 3), None);
        assert_eq!(
            h.observe(false, 5, 2, 3),
            Some(Verdict::Down {
                after: 3,
                weight: 5
            })
        );
        // Still failing at weight 0: nothing more to do.
        assert_eq!(h.observe(false, 0, 2, 3), None);
        assert_eq!(h.observe(true, 0, 2, 3), None);
        assert_eq!(
            h.observe(true, 0, 2, 3),
            Some(Verdict::Up {
                after: 2,
                weight: 5
            })
        );
        assert_eq!(h.observe(true, 5, 2, 3), None);
    }

    #[test]
    fn a_good_probe_restarts_the_failure_count() {
        let mut h = Health::default();
        assert_eq!(h.observe(false, 1, 1, 2), None);
        assert_eq!(h.observe(true, 1, 1, 2), None);
        assert_eq!(h.observe(false, 1, 1, 2), None);
        assert!(matches!(
            h.observe(false, 1, 1, 2),
            Some(Verdict::Down { .. })
        ));
    }

    #[test]
    fn a_server_an_operator_drained_is_left_alone() {
        let mut h = Health::default();
        for _ in 0..5 {
            assert_eq!(h.observe(false, 0, 1, 1), None);
        }
        assert_eq!(h.observe(true, 0, 1, 1), None);
    }

    #[test]
    fn command_line_defaults_and_options() {
        let c = Config::from_args(&["tcp", "10.0.0.100:80"]).expect("valid");
        assert_eq!(c.probe, Probe::Http("/".into()));
        assert_eq!(
            (c.interval, c.timeout, c.rise, c.fall),
            (
                Duration::from_millis(1000),
                Duration::from_millis(500),
                2,
                3
            )
        );
        let c = Config::from_args(&[
            "udp",
            "10.0.0.100:53",
            "--tcp",
            "--interval",
            "300",
            "--rise",
            "0",
        ])
        .expect("valid");
        assert_eq!(
            c.service,
            ServiceKey::udp("10.0.0.100".parse::<IpAddr>().unwrap(), 53)
        );
        assert_eq!(
            (c.probe, c.interval, c.rise),
            (Probe::Tcp, Duration::from_millis(300), 1)
        );
        assert_eq!(Config::from_args(&["tcp"]), Err(USAGE.to_owned()));
        assert_eq!(
            Config::from_args(&["sctp", "10.0.0.1:80"]),
            Err("unknown protocol `sctp` (tcp or udp)".to_owned())
        );
        assert_eq!(
            Config::from_args(&["tcp", "10.0.0.1:80", "--fall", "x"]),
            Err("--fall: `x` is not a number".to_owned())
        );
    }
}
