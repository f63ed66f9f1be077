//! `--format table`: the same data as the listings, as tables for a
//! terminal (comfy-table).

use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use ipvs::{Connection, ServiceInfo, SyncDaemon, Timeouts};

use crate::parse::Format;

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(|h| Cell::new(*h)));
    t
}

fn render(t: &Table) -> String {
    format!("{t}\n")
}

/// Services and their real servers, one row per real server.
pub(crate) fn table(services: &[ServiceInfo], f: &Format) -> String {
    let mut header = vec![
        "Service",
        "Scheduler",
        "Options",
        "Real server",
        "Forward",
        "Weight",
        "Active",
        "Inactive",
    ];
    if f.stats {
        header.extend(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]);
    }
    if f.rate {
        header.extend(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]);
    }
    if f.thresholds {
        header.extend(["Upper", "Lower"]);
    }
    if f.persistent_conn {
        header.push("Persistent");
    }
    if f.tun_info {
        header.push("Tunnel");
    }
    let mut t = new_table(&header);
    for s in services {
        let mut options = Vec::new();
        if let Some(p) = &s.service.persistence {
            options.push(format!("persistent {}s", p.timeout));
            if let Some(m) = p.netmask {
                options.push(format!("mask {m}"));
            }
        }
        if let Some(pe) = &s.service.persistence_engine {
            options.push(format!("pe {pe}"));
        }
        if s.service.one_packet {
            options.push("ops".into());
        }
        let flags = s.service.sched_flags.names(&s.service.scheduler);
        if !flags.is_empty() {
            options.push(flags.join(","));
        }
        let service_cells = [
            s.service.key.to_string(),
            s.service.scheduler.to_string(),
            options.join(" "),
        ];
        let rows: Vec<Option<&ipvs::DestinationInfo>> = if s.destinations.is_empty() {
            vec![None]
        } else {
            s.destinations.iter().map(Some).collect()
        };
        for (i, d) in rows.into_iter().enumerate() {
            let mut row: Vec<String> = if i == 0 {
                service_cells.to_vec()
            } else {
                vec![String::new(), String::new(), String::new()]
            };
            match d {
                Some(d) => {
                    let dest = &d.destination;
                    let addr = match dest.address {
                        std::net::IpAddr::V4(a) => format!("{a}:{}", dest.port),
                        std::net::IpAddr::V6(a) => format!("[{a}]:{}", dest.port),
                    };
                    row.extend([
                        addr,
                        dest.forward.to_string(),
                        dest.weight.to_string(),
                        d.active_connections.to_string(),
                        d.inactive_connections.to_string(),
                    ]);
                    let st = d.stats.unwrap_or_default();
                    if f.stats {
                        row.extend(
                            [
                                st.connections,
                                st.in_packets,
                                st.out_packets,
                                st.in_bytes,
                                st.out_bytes,
                            ]
                            .map(|v| v.to_string()),
                        );
                    }
                    if f.rate {
                        row.extend(
                            [st.cps, st.in_pps, st.out_pps, st.in_bps, st.out_bps]
                                .map(|v| v.to_string()),
                        );
                    }
                    if f.thresholds {
                        row.extend([
                            dest.upper_threshold.to_string(),
                            dest.lower_threshold.to_string(),
                        ]);
                    }
                    if f.persistent_conn {
                        row.push(d.persistent_connections.unwrap_or_default().to_string());
                    }
                    if f.tun_info {
                        row.push(dest.tunnel.map_or("-".into(), |t| {
                            format!("{:?} {} {:?}", t.kind, t.port, t.checksum).to_lowercase()
                        }));
                    }
                }
                None => row.resize(header.len(), String::new()),
            }
            row.resize(header.len(), String::new());
            t.add_row(row);
        }
    }
    render(&t)
}

/// The connection table.
pub(crate) fn connections(conns: &[Connection]) -> String {
    let mut t = new_table(&[
        "Protocol",
        "Expires",
        "State",
        "Client",
        "Virtual",
        "Real server",
        "PE",
    ]);
    for c in conns {
        let pe = match (&c.pe_name, &c.pe_data) {
            (Some(n), Some(d)) => format!("{n} {d}"),
            _ => String::new(),
        };
        t.add_row([
            c.protocol.clone(),
            format!("{:02}:{:02}", c.expires / 60, c.expires % 60),
            c.state.clone(),
            c.client.to_string(),
            c.virtual_address.to_string(),
            c.destination.to_string(),
            pe,
        ]);
    }
    render(&t)
}

/// The timeouts.
pub(crate) fn timeouts(x: &Timeouts) -> String {
    let mut t = new_table(&["TCP", "TCP FIN", "UDP"]);
    t.add_row([x.tcp, x.tcp_fin, x.udp].map(|v| format!("{v}s")));
    render(&t)
}

/// The sync daemons.
pub(crate) fn daemons(list: &[SyncDaemon]) -> String {
    let mut t = new_table(&[
        "Role",
        "Interface",
        "Sync id",
        "Max length",
        "Group",
        "Port",
        "TTL",
    ]);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for d in list {
        t.add_row([
            d.role.to_string(),
            d.interface.clone(),
            d.sync_id.to_string(),
            opt(d.max_len.map(|v| v.to_string())),
            opt(d.group.map(|v| v.to_string())),
            opt(d.port.map(|v| v.to_string())),
            opt(d.ttl.map(|v| v.to_string())),
        ]);
    }
    render(&t)
}
