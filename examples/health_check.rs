//! A health checker for the real servers of one virtual service, as a
//! director runs beside IPVS: each real server is probed every interval; after
//! `fall` failed probes in a row its weight goes to 0 (no new connections),
//! after `rise` good ones its weight comes back.
//!
//! ```text
//! health_check tcp|udp VIP:PORT [--http PATH | --tcp] [--interval MS] [--timeout MS] [--rise N] [--fall N]
//! health_check tcp 10.0.0.100:80 --http / --interval 500 --rise 2 --fall 2
//! ```
//! A probe is an HTTP `GET PATH` that must answer 200 (the default, path
//! `/`), or a TCP connect. Real servers are probed at their own address and
//! port. Stop it with SIGINT/SIGTERM; weights it set to 0 stay 0.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use ipvs::{DestinationUpdate, Ipvs, ServiceKey};

/// How a real server is probed.
#[derive(Debug, Clone)]
enum Probe {
    Http(String),
    Tcp,
}

#[derive(Debug)]
struct Options {
    service: ServiceKey,
    probe: Probe,
    interval: Duration,
    timeout: Duration,
    rise: u32,
    fall: u32,
}

fn usage() -> String {
    "usage: health_check tcp|udp VIP:PORT [--http PATH | --tcp] [--interval MS] [--timeout MS] [--rise N] [--fall N]".into()
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let [proto, vip, rest @ ..] = args else {
        return Err(usage());
    };
    let vip: SocketAddr = vip
        .parse()
        .map_err(|_| format!("`{vip}` is not VIP:PORT"))?;
    let service = match proto.as_str() {
        "tcp" => ServiceKey::tcp(vip.ip(), vip.port()),
        "udp" => ServiceKey::udp(vip.ip(), vip.port()),
        other => return Err(format!("unknown protocol `{other}` (tcp or udp)")),
    };
    let mut o = Options {
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
        let number = |v: &String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--http" => o.probe = Probe::Http(value()?.clone()),
            "--tcp" => o.probe = Probe::Tcp,
            "--interval" => o.interval = Duration::from_millis(number(value()?)?),
            "--timeout" => o.timeout = Duration::from_millis(number(value()?)?),
            "--rise" => o.rise = number(value()?)?.max(1) as u32,
            "--fall" => o.fall = number(value()?)?.max(1) as u32,
            other => return Err(format!("unknown option `{other}`\n{}", usage())),
        }
    }
    Ok(o)
}

/// One probe of `addr`; `true` if the real server answered as it should.
fn probe(addr: SocketAddr, how: &Probe, timeout: Duration) -> bool {
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

/// What the checker knows of one real server.
#[derive(Debug, Default)]
struct Health {
    good_in_a_row: u32,
    bad_in_a_row: u32,
    /// The weight to restore, while the checker holds it at 0.
    taken_out: Option<u32>,
}

fn run(o: &Options) -> Result<(), ipvs::Error> {
    let ipvs = Ipvs::new()?;
    let mut health: HashMap<(IpAddr, u16), Health> = HashMap::new();
    println!(
        "checking the real servers of {} every {:?} (rise {}, fall {})",
        o.service, o.interval, o.rise, o.fall
    );
    loop {
        for d in ipvs.destinations(&o.service)? {
            let rs = (d.destination.address, d.destination.port);
            let h = health.entry(rs).or_default();
            let up = probe(SocketAddr::new(rs.0, rs.1), &o.probe, o.timeout);
            if up {
                h.good_in_a_row += 1;
                h.bad_in_a_row = 0;
            } else {
                h.bad_in_a_row += 1;
                h.good_in_a_row = 0;
            }
            let addr = SocketAddr::new(rs.0, rs.1);
            match h.taken_out {
                None if h.bad_in_a_row >= o.fall && d.destination.weight > 0 => {
                    ipvs.update_destination_with(
                        &o.service,
                        rs.0,
                        rs.1,
                        &DestinationUpdate {
                            weight: Some(0),
                            ..Default::default()
                        },
                    )?;
                    println!(
                        "{addr} DOWN after {} failed probes: weight {} -> 0",
                        h.bad_in_a_row, d.destination.weight
                    );
                    h.taken_out = Some(d.destination.weight);
                }
                Some(weight) if h.good_in_a_row >= o.rise => {
                    ipvs.update_destination_with(
                        &o.service,
                        rs.0,
                        rs.1,
                        &DestinationUpdate {
                            weight: Some(weight),
                            ..Default::default()
                        },
                    )?;
                    println!(
                        "{addr} UP after {} good probes: weight 0 -> {weight}",
                        h.good_in_a_row
                    );
                    h.taken_out = None;
                }
                _ => {}
            }
        }
        std::io::stdout().flush().ok();
        std::thread::sleep(o.interval);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("health_check: {msg}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("health_check: {e}");
        std::process::exit(1);
    }
}
