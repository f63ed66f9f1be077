//! ipvsadm 1.31's text: the listings (`-L` and its variants), the rules of
//! `-S`, the connection table of `-c`, `--timeout` and `--daemon`, byte for
//! byte, trailing spaces included.

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use ipvs::{
    DaemonRole, DestinationInfo, ForwardMethod, KernelInfo, ServiceInfo, ServiceKey, Stats,
    SyncDaemon, Timeouts, TunnelChecksum, TunnelKind,
};

use crate::parse::Format;
use crate::resolve::{addrport, truncate};
use crate::sort::{ServiceSortKey, cmp_dests, cmp_services, glibc_qsort};

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

fn af_of(addr: &IpAddr) -> u16 {
    if addr.is_ipv4() { AF_INET } else { AF_INET6 }
}

/// The fields ipvsadm keeps of a service, and sorts and prints by.
struct Svc<'a> {
    /// Its place in the table it was read from.
    index: usize,
    info: &'a ServiceInfo,
    fwmark: u32,
    af: u16,
    protocol: u16,
    addr: Option<IpAddr>,
    port: u16,
}

fn svc(index: usize, info: &ServiceInfo) -> Svc<'_> {
    match info.service.key {
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => Svc {
            index,
            info,
            fwmark: 0,
            af: af_of(&address),
            protocol: protocol.number(),
            addr: Some(address),
            port,
        },
        ServiceKey::Fwmark { family, mark } => Svc {
            index,
            info,
            fwmark: mark,
            af: if family == ipvs::AddressFamily::Ipv6 {
                AF_INET6
            } else {
                AF_INET
            },
            // ipvsadm gives fwmark services the TCP protocol (for names).
            protocol: 6,
            addr: None,
            port: 0,
        },
    }
}

fn sort_key<'a>(s: &'a Svc<'_>) -> ServiceSortKey<'a> {
    ServiceSortKey {
        fwmark: s.fwmark,
        af: s.af,
        protocol: s.protocol,
        addr: s.addr.as_ref(),
        port: s.port,
    }
}

/// `print_largenum`.
fn largenum(out: &mut String, i: u64, exact: bool) {
    if exact {
        let len = i.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>width$}");
        return;
    }
    let _ = match i {
        i if i < 100_000_000 => write!(out, "{i:>9}"),
        i if i < 1_000_000_000 => write!(out, "{:>8}K", i / 1000),
        i if i < 100_000_000_000 => write!(out, "{:>8}M", i / 1_000_000),
        i if i < 100_000_000_000_000 => write!(out, "{:>8}G", i / 1_000_000_000),
        i => write!(out, "{:>8}T", i / 1_000_000_000_000),
    };
}

/// `print_sched_flags`: the names for sh and mh (their third flag is not
/// printed), flag-N for the others.
fn sched_flags(sched: &str, raw_flags: u32) -> String {
    let mut names = Vec::new();
    let (f1, f2, f3) = (
        raw_flags & 0x8 != 0,
        raw_flags & 0x10 != 0,
        raw_flags & 0x20 != 0,
    );
    match sched {
        "sh" | "mh" => {
            if f1 {
                names.push(format!("{sched}-fallback"));
            }
            if f2 {
                names.push(format!("{sched}-port"));
            }
        }
        _ => {
            for (set, name) in [(f1, "flag-1"), (f2, "flag-2"), (f3, "flag-3")] {
                if set {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names.join(",")
}

fn fwd_name(m: ForwardMethod) -> &'static str {
    match m {
        ForwardMethod::Masq => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::Route => "Route",
    }
}

fn fwd_switch(m: ForwardMethod) -> &'static str {
    match m {
        ForwardMethod::Masq => "-m",
        ForwardMethod::Tunnel => "-i",
        ForwardMethod::Local | ForwardMethod::Route => "-g",
    }
}

/// `fwd_tun_info`: "ipip", "gue:PORT:FLAGS", "gre:FLAGS", or none.
fn tun_info(d: &DestinationInfo) -> Option<String> {
    let t = d
        .destination
        .tunnel
        .filter(|_| d.destination.forward == ForwardMethod::Tunnel)?;
    let flags = match t.checksum {
        TunnelChecksum::None => "-c",
        TunnelChecksum::Checksum => "+c",
        TunnelChecksum::Remote => "r+c",
    };
    Some(match t.kind {
        TunnelKind::Ipip => "ipip".to_owned(),
        TunnelKind::Gue => format!("gue:{}:{flags}", t.port),
        TunnelKind::Gre => format!("gre:{flags}"),
    })
}

fn tun_flag_option(c: TunnelChecksum) -> &'static str {
    match c {
        TunnelChecksum::None => "--tun-nocsum",
        TunnelChecksum::Checksum => "--tun-csum",
        TunnelChecksum::Remote => "--tun-remcsum",
    }
}

/// `print_title`.
fn title(out: &mut String, f: &Format, rule: bool) {
    let head = "Prot LocalAddress:Port";
    if f.stats {
        let _ = writeln!(
            out,
            "{head:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        );
    } else if f.rate {
        let _ = writeln!(
            out,
            "{head:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        );
    } else if f.thresholds {
        let _ = writeln!(
            out,
            "{head:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if f.persistent_conn {
        let _ = writeln!(
            out,
            "{head:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else if f.tun_info {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n");
    } else if !rule {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    }
}

fn stats_cols(out: &mut String, s: &Stats, exact: bool, rate: bool) {
    let values = if rate {
        [s.cps, s.in_pps, s.out_pps, s.in_bps, s.out_bps]
    } else {
        [
            s.connections,
            s.in_packets,
            s.out_packets,
            s.in_bytes,
            s.out_bytes,
        ]
    };
    for v in values {
        largenum(out, v, exact);
    }
}

/// `print_service_entry` for one service and its real servers.
fn service_entry(
    out: &mut String,
    s: &Svc<'_>,
    destinations: &[DestinationInfo],
    f: &Format,
    rule: bool,
) {
    let info = s.info;
    let service = &info.service;
    let svc_name = if s.fwmark != 0 {
        let mark = s.fwmark as i32; // ipvsadm prints marks with %d
        match (rule, s.af == AF_INET6) {
            (true, true) => format!("-f {mark} -6"),
            (true, false) => format!("-f {mark}"),
            (false, true) => format!("FWM  {mark} IPv6"),
            (false, false) => format!("FWM  {mark}"),
        }
    } else {
        let addr = s
            .addr
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let vname = addrport(&addr, s.port, s.protocol, f.numeric);
        if rule {
            let opt = match s.protocol {
                6 => "-t",
                17 => "-u",
                132 => "--sctp-service",
                _ => "--xxx-service",
            };
            format!("{opt} {vname}")
        } else {
            let proto = match s.protocol {
                6 => "TCP",
                17 => "UDP",
                132 => "SCTP",
                _ => "?",
            };
            let mut name = format!("{proto:<4} {vname}");
            if s.af != AF_INET6 {
                truncate(&mut name, 33);
            }
            name
        }
    };
    let sched = service.scheduler.name();
    let flags = sched_flags(sched, info.raw_flags);
    let has_flags = info.raw_flags & 0x38 != 0;
    let mask = service.persistence.and_then(|p| p.netmask);
    if rule {
        let _ = write!(out, "-A {svc_name} -s {sched}");
        if let Some(p) = &service.persistence {
            let _ = write!(out, " -p {}", p.timeout);
            if let Some(m) = mask {
                let _ = write!(out, " -M {m}");
            }
        }
        if let Some(pe) = &service.persistence_engine {
            let _ = write!(out, " --pe {pe}");
        }
        if service.one_packet {
            out.push_str(" -o");
        }
        if has_flags {
            let _ = write!(out, " -b {flags}");
        }
    } else if f.stats || f.rate {
        let _ = write!(out, "{svc_name:<33}");
        stats_cols(out, &info.stats, f.exact, f.rate);
    } else {
        let _ = write!(out, "{svc_name} {sched}");
        if has_flags {
            let _ = write!(out, " ({flags})");
        }
        if let Some(p) = &service.persistence {
            let _ = write!(out, " persistent {}", p.timeout);
            if let Some(m) = mask {
                let _ = write!(out, " mask {m}");
            }
            if let Some(pe) = &service.persistence_engine {
                let _ = write!(out, " pe {pe}");
            }
        }
        if service.one_packet {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let mut dests: Vec<&DestinationInfo> = destinations.iter().collect();
    if !f.nosort {
        glibc_qsort(&mut dests, &|a, b| {
            let (da, db) = (&a.destination, &b.destination);
            cmp_dests(
                (af_of(&da.address), &da.address, da.port),
                (af_of(&db.address), &db.address, db.port),
            )
        });
    }
    for d in dests {
        let dest = &d.destination;
        let mut dname = addrport(&dest.address, dest.port, s.protocol, f.numeric);
        if !rule && dest.address.is_ipv4() {
            truncate(&mut dname, 28);
        }
        if rule {
            let w = dest.weight as i32;
            let base = format!(
                "-a {svc_name} -r {dname} {} -w {w}",
                fwd_switch(dest.forward)
            );
            let tunnel = match (dest.forward, dest.tunnel) {
                (ForwardMethod::Tunnel, Some(t)) => match t.kind {
                    TunnelKind::Ipip => " --tun-type ipip".to_owned(),
                    TunnelKind::Gue => format!(
                        " --tun-type gue --tun-port {} {}",
                        t.port,
                        tun_flag_option(t.checksum)
                    ),
                    TunnelKind::Gre => format!(" --tun-type gre {}", tun_flag_option(t.checksum)),
                },
                _ => String::new(),
            };
            let _ = writeln!(out, "{base}{tunnel}");
        } else if f.stats {
            let _ = write!(out, "  -> {dname:<28}");
            stats_cols(out, &d.stats, f.exact, false);
            out.push('\n');
        } else if f.rate {
            let st = &d.stats;
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                st.cps, st.in_pps, st.out_pps
            );
            largenum(out, st.in_bps, f.exact);
            largenum(out, st.out_bps, f.exact);
            out.push('\n');
        } else if f.thresholds {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                dest.upper_threshold,
                dest.lower_threshold,
                d.active_connections,
                d.inactive_connections
            );
        } else if f.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                dest.weight, d.persistent_connections, d.active_connections, d.inactive_connections
            );
        } else if f.tun_info {
            let ti = tun_info(d).unwrap_or_else(|| "n/a".to_owned());
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {ti:<13} {:<6} {:<10} {:<10}",
                fwd_name(dest.forward),
                dest.weight as i32,
                d.active_connections,
                d.inactive_connections
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                fwd_name(dest.forward),
                dest.weight as i32,
                d.active_connections,
                d.inactive_connections
            );
        }
    }
}

/// Orders the services as ipvsadm does (unless `--nosort`).
fn ordered<'a>(table: &'a [ServiceInfo], f: &Format) -> Vec<Svc<'a>> {
    let mut svcs: Vec<Svc<'a>> = table.iter().enumerate().map(|(i, s)| svc(i, s)).collect();
    if !f.nosort {
        let mut idx: Vec<usize> = (0..svcs.len()).collect();
        glibc_qsort(&mut idx, &|a, b| {
            cmp_services(&sort_key(&svcs[*a]), &sort_key(&svcs[*b]))
        });
        let mut slots: Vec<Option<Svc<'a>>> = svcs.into_iter().map(Some).collect();
        svcs = idx.into_iter().filter_map(|i| slots[i].take()).collect();
    }
    svcs
}

/// The real servers of the service at an index of a listing's table, asked
/// for one service at a time as the listing is written.
pub type DestinationsOf<'a> = dyn FnMut(usize) -> ipvs::Result<Vec<DestinationInfo>> + 'a;

/// `list_all`: the header, the title and every service (`-L`), or the rules
/// (`-S`), written service by service: a table of 100,000 services is never
/// held as text, nor are all its real servers held in full. A write that
/// fails (the reader closed the pipe) ends the listing quietly.
///
/// # Errors
/// What `destinations_of` returns.
pub fn list_all(
    out: &mut dyn io::Write,
    info: &KernelInfo,
    table: &[ServiceInfo],
    f: &Format,
    rule: bool,
    destinations_of: &mut DestinationsOf<'_>,
) -> ipvs::Result<()> {
    let mut text = String::new();
    if !rule {
        let _ = writeln!(
            text,
            "IP Virtual Server version {} (size={})",
            info.version, info.connection_table_size
        );
    }
    title(&mut text, f, rule);
    for s in ordered(table, f) {
        let destinations = destinations_of(s.index)?;
        service_entry(&mut text, &s, &destinations, f, rule);
        // Written in pieces of about 64 KiB.
        if text.len() >= 1 << 16 {
            if out.write_all(text.as_bytes()).is_err() {
                return Ok(());
            }
            text.clear();
        }
    }
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// `list_service`: the title and one service.
pub fn list_service(service: &ServiceInfo, f: &Format) -> String {
    let mut out = String::new();
    title(&mut out, f, false);
    service_entry(&mut out, &svc(0, service), &service.destinations, f, false);
    out
}

/// `list_timeout`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `list_daemon`: master first, then backup.
pub fn daemons(list: &[SyncDaemon]) -> String {
    let mut out = String::new();
    for role in [DaemonRole::Master, DaemonRole::Backup] {
        let Some(d) = list.iter().find(|d| d.role == role) else {
            continue;
        };
        let _ = write!(
            out,
            "{role} sync daemon (mcast={}, syncid={}",
            d.interface, d.sync_id
        );
        if let Some(len) = d.max_len.filter(|l| *l != 0) {
            let _ = write!(out, ", maxlen={len}");
        }
        if let Some(group) = d.group {
            let _ = write!(out, ", group={}", crate::resolve::ntop(&group));
        }
        if let Some(port) = d.port.filter(|p| *p != 0) {
            let _ = write!(out, ", port={port}");
        }
        if let Some(ttl) = d.ttl.filter(|t| *t != 0) {
            let _ = write!(out, ", ttl={ttl}");
        }
        out.push_str(")\n");
    }
    out
}

/// `list_conn`: the connection table as ipvsadm prints it from the text of
/// `/proc/net/ip_vs_conn`, whose first line is a header.
pub fn connections(proc_text: &str, f: &Format) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if f.persistent_conn {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        );
    } else {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        );
    }
    for line in proc_text.lines().skip(1) {
        conn_line(&mut out, line, f);
    }
    out
}

fn hex_or_addr(text: &str) -> (Option<IpAddr>, bool) {
    if let Some(v6) = crate::resolve::parse_inet6(text) {
        return (Some(IpAddr::V6(v6)), true);
    }
    if let Some(v4) = crate::resolve::parse_inet4_strict(text) {
        return (Some(IpAddr::V4(v4)), false);
    }
    // strtoul(.., 16) of the hex form: the digits it can read.
    let digits: String = text.chars().take_while(char::is_ascii_hexdigit).collect();
    let raw = u64::from_str_radix(&digits, 16).unwrap_or(0) as u32;
    (Some(IpAddr::V4(std::net::Ipv4Addr::from(raw))), false)
}

/// `print_conn` for one line of the table.
fn conn_line(out: &mut String, line: &str, f: &Format) {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.is_empty() {
        return;
    }
    let get = |i: usize| fields.get(i).copied().unwrap_or("");
    let port = |i: usize| u16::from_str_radix(get(i), 16).unwrap_or(0);
    let protocol = get(0);
    let proto = match protocol {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        _ => 0,
    };
    let (caddr, v6) = hex_or_addr(get(1));
    // The client's family applies to the virtual address too.
    let vaddr = if v6 {
        crate::resolve::parse_inet6(get(3)).map(IpAddr::V6)
    } else {
        hex_or_addr(get(3)).0
    };
    let (daddr, _) = hex_or_addr(get(5));
    let name = |a: Option<IpAddr>, p: u16| {
        addrport(
            &a.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            p,
            proto,
            f.numeric,
        )
    };
    let (cname, vname, dname) = (
        name(caddr, port(2)),
        name(vaddr, port(4)),
        name(daddr, port(6)),
    );
    let expires: i64 = get(8).parse().unwrap_or(0);
    let expire = format!("{:02}:{:02}", expires / 60, expires % 60);
    let state = get(7);
    if f.persistent_conn && fields.len() >= 11 {
        let _ = writeln!(
            out,
            "{protocol:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname:<16} {:<18} {}",
            get(9),
            get(10)
        );
    } else {
        let _ = writeln!(
            out,
            "{protocol:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs::{Destination, Service, Version};

    /// The text listing of a table read in full.
    fn listed(table: &[ServiceInfo], f: &Format) -> String {
        let mut out = Vec::new();
        list_all(&mut out, &info(), table, f, false, &mut |i| {
            Ok(table[i].destinations.clone())
        })
        .expect("no lookups fail");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn info() -> KernelInfo {
        KernelInfo {
            version: Version {
                major: 1,
                minor: 2,
                patch: 1,
            },
            connection_table_size: 4096,
        }
    }

    /// A regression test of ipvsadm 1.31's truncated per-server counters:
    /// ours prints all 64 bits.
    #[test]
    fn per_server_counters_keep_64_bits() {
        let key = ServiceKey::tcp(std::net::Ipv4Addr::new(10, 0, 0, 1), 80);
        let big = 5_000_000_000u64;
        let stats = Stats {
            connections: big,
            in_packets: big,
            ..Stats::default()
        };
        let table = vec![ServiceInfo {
            service: Service::new(key),
            raw_flags: 2,
            stats,
            destinations: vec![DestinationInfo {
                destination: Destination::new(
                    std::net::Ipv4Addr::new(192, 0, 2, 1),
                    80,
                    ForwardMethod::Masq,
                ),
                active_connections: 0,
                inactive_connections: 0,
                persistent_connections: 0,
                stats,
            }],
        }];
        let f = Format {
            numeric: true,
            stats: true,
            exact: true,
            ..Format::default()
        };
        let out = listed(&table, &f);
        let dest_line = out
            .lines()
            .find(|l| l.starts_with("  -> 192.0.2.1:80"))
            .expect("dest line");
        assert_eq!(
            dest_line,
            "  -> 192.0.2.1:80                 5000000000 5000000000        0        0        0"
        );
        // Without --exact, the K/M/G/T scale of print_largenum.
        let f = Format {
            numeric: true,
            stats: true,
            ..Format::default()
        };
        let out = listed(&table, &f);
        assert!(
            out.contains("  -> 192.0.2.1:80                    5000M    5000M"),
            "{out}"
        );
    }

    #[test]
    fn largenum_scales_as_ipvsadm() {
        let mut s = String::new();
        for v in [
            99_999_999u64,
            100_000_000,
            1_000_000_000,
            100_000_000_000,
            100_000_000_000_000,
        ] {
            largenum(&mut s, v, false);
        }
        assert_eq!(s, " 99999999  100000K    1000M     100G     100T");
    }
}
