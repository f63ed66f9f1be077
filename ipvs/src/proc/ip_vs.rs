//! `/proc/net/ip_vs`: every service, and its real servers as the kernel
//! lists them (address, port, forwarding method, weight, connections).
//!
//! Netlink gives a real server's details only in a dump per service, and the
//! kernel fills each entry's counters, which costs it more than anything
//! else; this file lists every real server of every service without
//! counters, in one read (see [`crate::Destinations::Brief`]).

use rustc_hash::FxHashMap;
use std::io::BufRead;
use std::net::IpAddr;

use crate::destination::{Destination, ForwardMethod};
use crate::key::{Protocol, ServiceKey};
use crate::stats::DestinationInfo;

/// How `/proc/net/ip_vs` names a service. Firewall-mark services carry no
/// address family there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ProcKey {
    Inet(Protocol, IpAddr, u16),
    Fwmark(u32),
}

impl ProcKey {
    pub(crate) fn of(key: &ServiceKey) -> Self {
        match *key {
            ServiceKey::Inet {
                protocol,
                address,
                port,
            } => Self::Inet(protocol, address, port),
            ServiceKey::Fwmark { mark, .. } => Self::Fwmark(mark),
        }
    }
}

/// `HEX8:PORT4` or `[full IPv6]:PORT4`.
fn parse_addr_port(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.rsplit_once(':')?;
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    Some((super::parse_addr(addr)?, super::parse_port(port)?))
}

/// What one read of `/proc/net/ip_vs` says.
#[derive(Debug, Default)]
pub(crate) struct ProcTable {
    /// Every service it lists in a form this knows, in its order (a
    /// firewall mark of both an IPv4 and an IPv6 service twice).
    pub(crate) services: Vec<ProcKey>,
    /// Each service's real servers, by how the file names the service; a
    /// firewall mark listed twice is ambiguous and left out.
    pub(crate) destinations: FxHashMap<ProcKey, Vec<DestinationInfo>>,
}

/// Reads `/proc/net/ip_vs` a line at a time (a table of 400,000 real
/// servers is tens of megabytes of text). A service in a form this does not
/// know is left out, with its real servers.
pub(crate) fn parse_proc_ip_vs(mut input: impl BufRead) -> Result<ProcTable, String> {
    let mut out: FxHashMap<ProcKey, Vec<DestinationInfo>> = FxHashMap::default();
    let mut services = Vec::new();
    let mut ambiguous = Vec::new();
    // The service the following real-server lines belong to (None: skipped),
    // and its real servers so far: put in `out` when the next service starts.
    let mut current: Option<(ProcKey, Vec<DestinationInfo>)> = None;
    let mut finish = |current: Option<(ProcKey, Vec<DestinationInfo>)>| {
        if let Some((key, list)) = current
            && out.insert(key, list).is_some()
        {
            ambiguous.push(key);
        }
    };
    let mut line = String::new();
    for n in 0usize.. {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("/proc/net/ip_vs: {e}")),
        }
        if n < 3 {
            continue; // the version and the two title lines
        }
        let line = line.trim_end_matches('\n');
        if let Some(rest) = line.strip_prefix("  -> ") {
            let Some((_, list)) = current.as_mut() else {
                continue;
            };
            match destination_line(rest) {
                Some(d) => list.push(d),
                None => return Err(format!("/proc/net/ip_vs line {}: `{line}`", n + 1)),
            }
            continue;
        }
        finish(current.take());
        current = service_line(line).map(|key| {
            services.push(key);
            (key, Vec::new())
        });
    }
    finish(current);
    for key in ambiguous {
        out.remove(&key);
    }
    Ok(ProcTable {
        services,
        destinations: out,
    })
}

/// A real server's line after its `  -> `: address and port, forwarding
/// method, weight, active and inactive connections.
fn destination_line(text: &str) -> Option<DestinationInfo> {
    // ASCII whitespace: the kernel writes nothing else, and it is far
    // quicker to find than Unicode's (this runs for every real server).
    let mut fields = text.split_ascii_whitespace();
    let (address, port) = parse_addr_port(fields.next()?)?;
    let forward = ForwardMethod::from_kernel_name(fields.next()?)?;
    let mut count = || -> Option<u32> { fields.next()?.parse::<i64>().ok()?.try_into().ok() };
    let mut destination = Destination::new(address, port, forward);
    destination.weight = count()?;
    Some(DestinationInfo {
        destination,
        active_connections: count()?,
        inactive_connections: count()?,
        persistent_connections: None,
        stats: None,
    })
}

/// The service a line of `/proc/net/ip_vs` names, if it is a service line
/// in a form this knows.
fn service_line(line: &str) -> Option<ProcKey> {
    let mut fields = line.split_ascii_whitespace();
    match (fields.next(), fields.next()) {
        (Some("FWM"), Some(mark)) => u32::from_str_radix(mark, 16).ok().map(ProcKey::Fwmark),
        (Some(proto), Some(addr_port)) => {
            let protocol = match proto {
                "TCP" => Some(Protocol::Tcp),
                "UDP" => Some(Protocol::Udp),
                "SCTP" => Some(Protocol::Sctp),
                _ => None,
            };
            protocol
                .zip(parse_addr_port(addr_port))
                .map(|(p, (a, port))| ProcKey::Inet(p, a, port))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As kernel 6.1 prints it (taken in the test VM).
    const SAMPLE: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB lc 
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:01BB      Masq    0      0          0         
UDP  0A000002:0035 wrr ops  
  -> 0A000002:0035      Route   1      0          0         
TCP  0A000001:0050 rr  persistent 15000 FFFFFF00
  -> [2001:0db8:0000:0000:0000:0000:0000:0005]:0050      Tunnel  1      0          0         
  -> C0A80101:1F90      Masq    3      4          5         
SCTP  0A000003:0F1C wlc  persistent 90000 FFFFFFFF
FWM  00000007 mh 
FWM  00000007 sh 
  -> C0A80102:0000      Route   1      0          0         
FWM  00000008 sh 
  -> C0A80103:0000      Local   2      0          0         
";

    #[test]
    fn reads_every_kind_of_service() {
        let t = parse_proc_ip_vs(SAMPLE.as_bytes())
            .expect("parses")
            .destinations;
        let web = &t[&ProcKey::Inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80)];
        assert_eq!(web.len(), 2);
        assert_eq!(
            web[0].destination.address,
            "2001:db8::5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            (
                web[1].destination.port,
                web[1].destination.forward,
                web[1].destination.weight,
                web[1].active_connections,
                web[1].inactive_connections
            ),
            (8080, ForwardMethod::Masq, 3, 4, 5)
        );
        assert_eq!(
            t[&ProcKey::Inet(Protocol::Udp, "10.0.0.2".parse().unwrap(), 53)][0]
                .destination
                .forward,
            ForwardMethod::Route
        );
        assert!(t[&ProcKey::Inet(Protocol::Sctp, "10.0.0.3".parse().unwrap(), 3868)].is_empty());
        assert_eq!(
            t[&ProcKey::Inet(Protocol::Tcp, "2001:db8::1".parse().unwrap(), 443)][0]
                .destination
                .weight,
            0
        );
        // Mark 7 is both an IPv4 and an IPv6 service: ambiguous, left out.
        assert!(!t.contains_key(&ProcKey::Fwmark(7)));
        assert_eq!(
            t[&ProcKey::Fwmark(8)][0].destination.forward,
            ForwardMethod::Local
        );
        assert_eq!(t[&ProcKey::Fwmark(8)][0].stats, None);
    }

    #[test]
    fn lists_every_service_once_per_line() {
        let keys = parse_proc_ip_vs(SAMPLE.as_bytes())
            .expect("parses")
            .services;
        let tcp = |a: &str, port| ProcKey::Inet(Protocol::Tcp, a.parse().unwrap(), port);
        assert_eq!(
            keys,
            [
                tcp("2001:db8::1", 443),
                ProcKey::Inet(Protocol::Udp, "10.0.0.2".parse().unwrap(), 53),
                tcp("10.0.0.1", 80),
                ProcKey::Inet(Protocol::Sctp, "10.0.0.3".parse().unwrap(), 3868),
                ProcKey::Fwmark(7),
                ProcKey::Fwmark(7),
                ProcKey::Fwmark(8),
            ]
        );
    }

    #[test]
    fn bad_lines_are_errors() {
        let bad =
            "h\nh\nh\nTCP  0A000001:0050 rr\n  -> C0A80101:1F90      Masq    x      0          0\n";
        assert!(
            parse_proc_ip_vs(bad.as_bytes())
                .unwrap_err()
                .contains("line 5")
        );
    }
}
