//! ipvsadm 1.31's text: the listings (`-L` and its variants), the rules of
//! `-S`, the connection table of `-c`, `--timeout` and `--daemon`, byte for
//! byte, trailing spaces included.

use std::fmt::Write as _;
use std::io;

use ipvs::{
    AddressFamily, Connection, DaemonRole, DestinationInfo, ForwardMethod, KernelInfo, Protocol,
    SchedFlags, Scheduler, ServiceInfo, ServiceKey, Stats, SyncDaemon, Timeouts, TunnelChecksum,
    TunnelKind,
};

use crate::parse::Format;
use crate::resolve::{addrport, truncate};

/// `print_largenum`.
/// `text` then spaces up to `width` characters, as `%-Ns` pads.
fn push_left(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let len = if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    };
    for _ in len..width {
        out.push(' ');
    }
}

/// A number then spaces up to `width`, as `%-Nd` or `%-Nu` pads. Listings
/// print several per real server, so without the formatting machinery.
fn push_number_left(out: &mut String, n: impl itoa::Integer, width: usize) {
    push_left(out, itoa::Buffer::new().format(n), width);
}

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

/// `print_sched_flags`: the library's names, except that ipvsadm does not
/// print the third flag of sh and mh.
fn sched_flags(scheduler: &Scheduler, flags: SchedFlags) -> String {
    let hashing = matches!(
        scheduler,
        Scheduler::SourceHashing | Scheduler::MaglevHashing
    );
    let mut names = flags.names(scheduler);
    if hashing {
        names.retain(|name| name != "flag-3");
    }
    names.join(",")
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

/// `print_service_entry` for one service and its real servers, in the
/// order given.
fn service_entry(out: &mut String, info: &ServiceInfo, f: &Format, rule: bool) {
    let service = &info.service;
    // ipvsadm gives fwmark services the TCP protocol (for names).
    let protocol = match service.key {
        ServiceKey::Inet { protocol, .. } => protocol,
        ServiceKey::Fwmark { .. } => Protocol::Tcp,
    };
    let svc_name = match service.key {
        ServiceKey::Fwmark { family, mark } => {
            let mark = mark as i32; // ipvsadm prints marks with %d
            match (rule, family == AddressFamily::Ipv6) {
                (true, true) => format!("-f {mark} -6"),
                (true, false) => format!("-f {mark}"),
                (false, true) => format!("FWM  {mark} IPv6"),
                (false, false) => format!("FWM  {mark}"),
            }
        }
        ServiceKey::Inet {
            protocol,
            address,
            port,
        } => {
            let vname = addrport(&address, port, Some(protocol), f.numeric);
            if rule {
                let opt = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                    Protocol::Other(_) => "--xxx-service",
                };
                format!("{opt} {vname}")
            } else {
                let proto = match protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                    Protocol::Other(_) => "?",
                };
                let mut name = format!("{proto:<4} {vname}");
                if address.is_ipv4() {
                    truncate(&mut name, 33);
                }
                name
            }
        }
    };
    let sched = service.scheduler.name();
    let flags = sched_flags(&service.scheduler, service.sched_flags);
    let has_flags = !service.sched_flags.is_empty();
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

    for d in &info.destinations {
        let dest = &d.destination;
        let mut dname = addrport(&dest.address, dest.port, Some(protocol), f.numeric);
        if !rule && dest.address.is_ipv4() {
            truncate(&mut dname, 28);
        }
        if rule {
            // -a SERVICE -r SERVER -g|-i|-m -w WEIGHT [tunnel], a line per
            // real server: written piece by piece.
            out.push_str("-a ");
            out.push_str(&svc_name);
            out.push_str(" -r ");
            out.push_str(&dname);
            out.push(' ');
            out.push_str(fwd_switch(dest.forward));
            out.push_str(" -w ");
            push_number_left(out, dest.weight as i32, 0);
            if let (ForwardMethod::Tunnel, Some(t)) = (dest.forward, dest.tunnel) {
                match t.kind {
                    TunnelKind::Ipip => out.push_str(" --tun-type ipip"),
                    TunnelKind::Gue => {
                        let _ = write!(
                            out,
                            " --tun-type gue --tun-port {} {}",
                            t.port,
                            tun_flag_option(t.checksum)
                        );
                    }
                    TunnelKind::Gre => {
                        let _ = write!(out, " --tun-type gre {}", tun_flag_option(t.checksum));
                    }
                }
            }
            out.push('\n');
        } else if f.stats {
            let _ = write!(out, "  -> {dname:<28}");
            stats_cols(out, &d.stats.unwrap_or_default(), f.exact, false);
            out.push('\n');
        } else if f.rate {
            let st = d.stats.unwrap_or_default();
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
                dest.weight,
                d.persistent_connections.unwrap_or_default(),
                d.active_connections,
                d.inactive_connections
            );
        } else if f.tun_info {
            let ti = tun_info(d).unwrap_or_else(|| "n/a".to_owned());
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {ti:<13} {:<6} {:<10} {:<10}",
                ForwardMethod::kernel_name(dest.forward),
                dest.weight as i32,
                d.active_connections,
                d.inactive_connections
            );
        } else {
            // "  -> %-28s %-7s %-6d %-10u %-10u", the common listing.
            out.push_str("  -> ");
            push_left(out, &dname, 28);
            out.push(' ');
            push_left(out, ForwardMethod::kernel_name(dest.forward), 7);
            out.push(' ');
            push_number_left(out, dest.weight as i32, 6);
            out.push(' ');
            push_number_left(out, d.active_connections, 10);
            out.push(' ');
            push_number_left(out, d.inactive_connections, 10);
            out.push('\n');
        }
    }
}

/// `list_all`: the header, the title and every service (`-L`), or the rules
/// (`-S`), written service by service as `services` gives them (complete
/// and in order): a table of 100,000 services is never held as text. A
/// write that fails (the reader closed the pipe) ends the listing quietly,
/// without asking `services` for more.
///
/// # Errors
/// The first error `services` gives.
pub(crate) fn list_all(
    out: &mut dyn io::Write,
    info: &KernelInfo,
    services: impl Iterator<Item = ipvs::Result<ServiceInfo>>,
    f: &Format,
    rule: bool,
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
    for service in services {
        let service = match service {
            Ok(service) => service,
            Err(e) => {
                // ipvsadm has printed what came before when it fails.
                let _ = out.write_all(text.as_bytes());
                return Err(e);
            }
        };
        service_entry(&mut text, &service, f, rule);
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
pub(crate) fn list_service(service: &ServiceInfo, f: &Format) -> String {
    let mut out = String::new();
    title(&mut out, f, false);
    service_entry(&mut out, service, f, false);
    out
}

/// `list_timeout`.
pub(crate) fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `list_daemon`: master first, then backup.
pub(crate) fn daemons(list: &[SyncDaemon]) -> String {
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

/// `list_conn`: the connection table as ipvsadm prints it.
pub(crate) fn connections(conns: &[Connection], f: &Format) -> String {
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
    for c in conns {
        conn_line(&mut out, c, f);
    }
    out
}

/// `print_conn` for one connection.
fn conn_line(out: &mut String, c: &Connection, f: &Format) {
    let protocol = c.protocol.parse::<Protocol>().ok();
    let name = |a: std::net::SocketAddr| addrport(&a.ip(), a.port(), protocol, f.numeric);
    let (cname, vname, dname) = (name(c.client), name(c.virtual_address), name(c.destination));
    let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
    let (proto, state) = (&c.protocol, &c.state);
    match (&c.pe_name, &c.pe_data) {
        (Some(pe_name), Some(pe_data)) if f.persistent_conn => {
            let _ = writeln!(
                out,
                "{proto:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname:<16} {pe_name:<18} {pe_data}"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "{proto:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvs::{Destination, Service, Version};

    /// The text listing of a table read in full.
    fn listed(table: &[ServiceInfo], f: &Format) -> String {
        let mut out = Vec::new();
        list_all(&mut out, &info(), table.iter().cloned().map(Ok), f, false)
            .expect("no lookups fail");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn info() -> KernelInfo {
        KernelInfo::new(
            Version {
                major: 1,
                minor: 2,
                patch: 1,
            },
            4096,
        )
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
        let mut server = DestinationInfo::new(Destination::new(
            std::net::Ipv4Addr::new(192, 0, 2, 1),
            80,
            ForwardMethod::Masq,
        ));
        server.stats = Some(stats);
        let table = vec![
            ServiceInfo::new(Service::new(key))
                .with_stats(stats)
                .with_destinations(vec![server]),
        ];
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
