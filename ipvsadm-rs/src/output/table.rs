//! `--format table`: the same data as the listings, as tables for a
//! terminal (comfy-table).
//!
//! Each service has a row of its own, which carries its totals (with
//! `--stats`, `--rate`); its real servers follow on rows of their own, drawn
//! as its branches (`├─`, `└─`). Numbers are right-aligned. As in ipvsadm's
//! listing, `--stats` and `--rate` show counters in place of the scheduler
//! (with its options), forwarding, weight and connection columns. A table fits
//! [`output_width`] terminal columns (comfy-table's dynamic arrangement):
//! text cells wrap first, then, if that is not enough, addresses and
//! numbers; a table with more columns than a quarter of the width drops
//! the padding; one with more than half of it cannot fit.

use comfy_table::{
    Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width,
    presets::UTF8_FULL_CONDENSED,
};
use ipvs::{Connection, DestinationInfo, ServiceInfo, Stats, SyncDaemon, Timeouts};

use crate::parse::Format;

/// The width a table is made to fit, in terminal columns: `COLUMNS` when it
/// holds a positive number (so `COLUMNS=200 ipvsadm-rs -L --format table |
/// less -S` is wide); else the width of the terminal standard output is;
/// else (standard output is a file or a pipe) 80.
fn output_width() -> u16 {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok());
    let probe = Table::new();
    let terminal = if probe.is_tty() { probe.width() } else { None };
    width_from(columns, terminal)
}

/// [`output_width`]'s choice, given `COLUMNS` and the terminal's width.
fn width_from(columns: Option<u16>, terminal: Option<u16>) -> u16 {
    columns
        .filter(|&c| c > 0)
        .or(terminal.filter(|&t| t > 0))
        .unwrap_or(80)
}

/// A column: its header, whether it holds numbers (right-aligned), and
/// whether its cells are kept whole while the text columns can wrap.
#[derive(Debug, Clone, Copy)]
struct Col {
    header: &'static str,
    numeric: bool,
    whole: bool,
}

/// A column of text, wrapped first when the table is too wide.
const fn text(header: &'static str) -> Col {
    Col {
        header,
        numeric: false,
        whole: false,
    }
}

/// A column of text (an address) kept whole while text columns can wrap.
const fn name(header: &'static str) -> Col {
    Col {
        header,
        numeric: false,
        whole: true,
    }
}

/// A column of numbers: right-aligned, kept whole while text columns can
/// wrap.
const fn num(header: &'static str) -> Col {
    Col {
        header,
        numeric: true,
        whole: true,
    }
}

/// A table before it is laid out: its columns and the cells of its rows
/// (each row as long as `cols`).
struct Grid {
    cols: Vec<Col>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    fn new(cols: Vec<Col>) -> Self {
        Self {
            cols,
            rows: Vec::new(),
        }
    }

    /// Adds a row, cut or padded with empty cells to the number of columns.
    fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.cols.len(), String::new());
        self.rows.push(row);
    }
}

/// The terminal width of a cell's text (what the listings hold: ASCII,
/// addresses, the branch glyphs, each one column wide).
fn text_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The widest word of a header: what it needs not to be cut mid-word.
fn word_width(s: &str) -> usize {
    s.split_whitespace().map(text_width).max().unwrap_or(0)
}

/// The grid as text, `width` terminal columns at most (unless it has more
/// columns than half of `width`: each takes a border and one character).
fn render(grid: &Grid, width: u16) -> String {
    let n = grid.cols.len();
    let room = usize::from(width);
    // A column takes its content, 2 of padding and 1 of border (the table 1
    // more border); comfy-table gives each at least 1 character.
    let padding = if n * 4 + 1 > room { 0 } else { 2 };
    let overhead = n * (padding + 1) + 1;
    // Per column: its widest cell, and its header's widest word.
    let data: Vec<usize> = (0..n)
        .map(|i| {
            grid.rows
                .iter()
                .map(|r| text_width(&r[i]))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let words: Vec<usize> = grid
        .cols
        .iter()
        .map(|c| word_width(c.header).max(1))
        .collect();
    let natural: usize = grid
        .cols
        .iter()
        .zip(&data)
        .map(|(c, &d)| d.max(text_width(c.header)))
        .sum();
    // The least width of each column when the table does not fit as it
    // is: the whole columns' cells and every header's words unbroken if
    // that fits; else the whole columns' cells; else nothing (everything
    // wraps alike). A lower boundary is also a fixed width in comfy-table's
    // arrangement, which would wrap the headers of a table that fits: none
    // then.
    let unbroken: Vec<usize> = (0..n)
        .map(|i| {
            if grid.cols[i].whole {
                data[i].max(words[i])
            } else {
                words[i]
            }
        })
        .collect();
    let whole: Vec<usize> = (0..n)
        .map(|i| if grid.cols[i].whole { data[i] } else { 0 })
        .collect();
    let fits = |least: &[usize]| overhead + least.iter().map(|&w| w.max(1)).sum::<usize>() <= room;
    let least = if overhead + natural <= room {
        vec![0; n]
    } else if fits(&unbroken) {
        unbroken
    } else if fits(&whole) {
        whole
    } else {
        vec![0; n]
    };

    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(width);
    t.set_header(grid.cols.iter().map(|c| Cell::new(c.header)));
    for row in &grid.rows {
        t.add_row(row.clone());
    }
    let pad = u16::from(padding > 0);
    for ((column, c), &least) in t.column_iter_mut().zip(&grid.cols).zip(&least) {
        column.set_padding((pad, pad));
        column.set_cell_alignment(if c.numeric {
            CellAlignment::Right
        } else {
            CellAlignment::Left
        });
        if least > 0 {
            let with_padding = u16::try_from(least + padding).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(with_padding)));
        }
    }
    format!("{t}\n")
}

/// A counter or rate: scaled like ipvsadm's listing (K, M, G, T once it
/// has 9 digits or more) unless `exact` (`-X`).
fn number(v: u64, exact: bool) -> String {
    if exact {
        return v.to_string();
    }
    match v {
        v if v < 100_000_000 => v.to_string(),
        v if v < 1_000_000_000 => format!("{}K", v / 1_000),
        v if v < 100_000_000_000 => format!("{}M", v / 1_000_000),
        v if v < 100_000_000_000_000 => format!("{}G", v / 1_000_000_000),
        v => format!("{}T", v / 1_000_000_000_000),
    }
}

/// Whether the table shows the configuration columns (scheduler and its
/// options, forwarding, weight, connections): unless counters take their
/// place.
fn shows_configuration(f: &Format) -> bool {
    !(f.stats || f.rate)
}

/// The columns of [`table`] for these options.
fn service_columns(f: &Format) -> Vec<Col> {
    let mut cols = vec![name("Service / real server")];
    if shows_configuration(f) {
        cols.extend([
            text("Scheduler"),
            text("Forward"),
            num("Weight"),
            num("Active"),
            num("Inactive"),
        ]);
    }
    if f.stats {
        cols.extend(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map(num));
    }
    if f.rate {
        cols.extend(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map(num));
    }
    if f.thresholds {
        cols.extend([num("Upper"), num("Lower")]);
    }
    if f.persistent_conn {
        cols.push(num("Persistent"));
    }
    if f.tun_info {
        cols.push(text("Tunnel"));
    }
    cols
}

/// The `--stats` and `--rate` cells of a row.
fn counters(row: &mut Vec<String>, st: &Stats, f: &Format) {
    if f.stats {
        row.extend(
            [
                st.connections,
                st.in_packets,
                st.out_packets,
                st.in_bytes,
                st.out_bytes,
            ]
            .map(|v| number(v, f.exact)),
        );
    }
    if f.rate {
        row.extend(
            [st.cps, st.in_pps, st.out_pps, st.in_bps, st.out_bps].map(|v| number(v, f.exact)),
        );
    }
}

/// A service's row: its key, scheduler and options, or its totals.
fn service_row(s: &ServiceInfo, f: &Format) -> Vec<String> {
    let service = &s.service;
    let mut row = vec![service.key.to_string()];
    if shows_configuration(f) {
        // The scheduler and its options, as ipvsadm's listing has them.
        let mut scheduler = vec![service.scheduler.to_string()];
        let flags = service.sched_flags.names(&service.scheduler);
        if !flags.is_empty() {
            scheduler.push(format!("({})", flags.join(",")));
        }
        if let Some(p) = &service.persistence {
            scheduler.push(format!("persistent {}s", p.timeout));
            if let Some(m) = p.netmask {
                scheduler.push(format!("mask {m}"));
            }
        }
        if let Some(pe) = &service.persistence_engine {
            scheduler.push(format!("pe {pe}"));
        }
        if service.one_packet {
            scheduler.push("ops".into());
        }
        row.extend([
            scheduler.join(" "),
            // Forward, weight and connection counts are the real servers'.
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    counters(&mut row, &s.stats, f);
    // Thresholds, persistent connections and tunnels are the real servers'.
    row
}

/// A real server's row, drawn as a branch of its service (`last`: the
/// service's last real server).
fn server_row(d: &DestinationInfo, last: bool, f: &Format) -> Vec<String> {
    let dest = &d.destination;
    let branch = if last { "└─" } else { "├─" };
    let addr = match dest.address {
        std::net::IpAddr::V4(a) => format!("{branch} {a}:{}", dest.port),
        std::net::IpAddr::V6(a) => format!("{branch} [{a}]:{}", dest.port),
    };
    let mut row = vec![addr];
    if shows_configuration(f) {
        row.extend([
            String::new(),
            dest.forward.to_string(),
            dest.weight.to_string(),
            d.active_connections.to_string(),
            d.inactive_connections.to_string(),
        ]);
    }
    counters(&mut row, &d.stats.unwrap_or_default(), f);
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
    row
}

/// [`table`] before it is laid out.
fn services_grid(services: &[ServiceInfo], f: &Format) -> Grid {
    let mut grid = Grid::new(service_columns(f));
    for s in services {
        grid.push(service_row(s, f));
        let n = s.destinations.len();
        for (i, d) in s.destinations.iter().enumerate() {
            grid.push(server_row(d, i + 1 == n, f));
        }
    }
    grid
}

/// Services and their real servers: a row per service (with its totals
/// under `--stats`/`--rate`), then a row per real server, drawn as its
/// branches; it fits [`output_width`].
pub(crate) fn table(services: &[ServiceInfo], f: &Format) -> String {
    render(&services_grid(services, f), output_width())
}

/// [`connections`] before it is laid out.
fn connections_grid(conns: &[Connection]) -> Grid {
    let mut grid = Grid::new(vec![
        text("Protocol"),
        num("Expires"),
        text("State"),
        name("Client"),
        name("Virtual"),
        name("Real server"),
        text("PE"),
    ]);
    for c in conns {
        let pe = match (&c.pe_name, &c.pe_data) {
            (Some(n), Some(d)) => format!("{n} {d}"),
            _ => String::new(),
        };
        grid.push(vec![
            c.protocol.clone(),
            format!("{:02}:{:02}", c.expires / 60, c.expires % 60),
            c.state.clone(),
            c.client.to_string(),
            c.virtual_address.to_string(),
            c.destination.to_string(),
            pe,
        ]);
    }
    grid
}

/// The connection table (expiry as minutes:seconds); it fits
/// [`output_width`].
pub(crate) fn connections(conns: &[Connection]) -> String {
    render(&connections_grid(conns), output_width())
}

/// [`timeouts`] before it is laid out.
fn timeouts_grid(x: &Timeouts) -> Grid {
    let mut grid = Grid::new(vec![num("TCP"), num("TCP FIN"), num("UDP")]);
    grid.push([x.tcp, x.tcp_fin, x.udp].map(|v| format!("{v}s")).to_vec());
    grid
}

/// The timeouts (seconds); it fits [`output_width`].
pub(crate) fn timeouts(x: &Timeouts) -> String {
    render(&timeouts_grid(x), output_width())
}

/// [`daemons`] before it is laid out.
fn daemons_grid(list: &[SyncDaemon]) -> Grid {
    let mut grid = Grid::new(vec![
        text("Role"),
        text("Interface"),
        num("Sync id"),
        num("Max length"),
        name("Group"),
        num("Port"),
        num("TTL"),
    ]);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    for d in list {
        grid.push(vec![
            d.role.to_string(),
            d.interface.clone(),
            d.sync_id.to_string(),
            opt(d.max_len.map(|v| v.to_string())),
            opt(d.group.map(|v| v.to_string())),
            opt(d.port.map(|v| v.to_string())),
            opt(d.ttl.map(|v| v.to_string())),
        ]);
    }
    grid
}

/// The sync daemons; it fits [`output_width`].
pub(crate) fn daemons(list: &[SyncDaemon]) -> String {
    render(&daemons_grid(list), output_width())
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use ipvs::{
        AddressFamily, DaemonRole, Destination, ForwardMethod, Persistence, Scheduler, Service,
        ServiceKey, Tunnel, TunnelChecksum,
    };

    use super::*;

    fn stats(connections: u64, bytes: u64) -> Stats {
        Stats {
            connections,
            in_packets: connections * 10,
            out_packets: connections * 9,
            in_bytes: bytes,
            out_bytes: bytes * 2,
            cps: connections,
            in_pps: 7,
            out_pps: 6,
            in_bps: 5,
            out_bps: 4,
        }
    }

    fn server(d: Destination, st: Stats) -> DestinationInfo {
        let mut info = DestinationInfo::new(d);
        info.stats = Some(st);
        info.active_connections = 4;
        info.inactive_connections = 12;
        info
    }

    /// A web service with two real servers whose counters add up to the
    /// service's, a persistent UDP one, an IPv6 fwmark one over a GUE
    /// tunnel, and one with no real servers.
    fn sample() -> Vec<ServiceInfo> {
        let web = Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 30, 0, 1), 80))
            .with_scheduler(Scheduler::from_name("wrr"));
        let dns = Service::new(ServiceKey::udp(Ipv4Addr::new(10, 30, 0, 1), 53))
            .with_persistence(Persistence::new(60))
            .with_one_packet(true);
        let mark = Service::new(ServiceKey::Fwmark {
            family: AddressFamily::Ipv6,
            mark: 7,
        });
        let empty = Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 30, 0, 9), 443));
        vec![
            ServiceInfo::new(web)
                .with_stats(stats(3000, 123_456_789_012))
                .with_destinations(vec![
                    server(
                        Destination::new(Ipv4Addr::new(192, 0, 2, 1), 8080, ForwardMethod::Masq)
                            .with_weight(3)
                            .with_thresholds(100, 10),
                        stats(2000, 100_000_000_000),
                    ),
                    server(
                        Destination::new(Ipv4Addr::new(192, 0, 2, 2), 8080, ForwardMethod::Masq),
                        stats(1000, 23_456_789_012),
                    ),
                ]),
            ServiceInfo::new(dns)
                .with_stats(stats(5, 500))
                .with_destinations(vec![server(
                    Destination::new(Ipv4Addr::new(192, 0, 2, 3), 53, ForwardMethod::Route)
                        .with_weight(2),
                    stats(5, 500),
                )]),
            ServiceInfo::new(mark).with_destinations(vec![server(
                Destination::new(
                    "2001:db8::7".parse::<Ipv6Addr>().expect("address"),
                    0,
                    ForwardMethod::Tunnel,
                )
                .with_tunnel(Tunnel::gue(6080, TunnelChecksum::Checksum)),
                Stats::default(),
            )]),
            ServiceInfo::new(empty),
        ]
    }

    fn all_options() -> Format {
        Format {
            stats: true,
            rate: true,
            thresholds: true,
            persistent_conn: true,
            tun_info: true,
            ..Format::default()
        }
    }

    /// The body rows of a rendered table (not its borders, not its header),
    /// each as its cells with their padding (the preset draws `│` outside,
    /// `┆` between cells).
    fn body(rendered: &str) -> Vec<Vec<String>> {
        let mut lines = rendered.lines();
        // The header ends at the line of double rules.
        for l in lines.by_ref() {
            if l.starts_with('╞') {
                break;
            }
        }
        lines
            .filter(|l| l.starts_with('│'))
            .map(|l| {
                let inner = l.trim_start_matches('│').trim_end_matches('│');
                inner.split('┆').map(str::to_string).collect()
            })
            .collect()
    }

    fn header(rendered: &str) -> Vec<String> {
        let line = rendered.lines().nth(1).expect("a header line");
        let inner = line.trim_start_matches('│').trim_end_matches('│');
        inner.split('┆').map(|c| c.trim().to_string()).collect()
    }

    fn column(rendered: &str, name: &str) -> usize {
        header(rendered)
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}:\n{rendered}"))
    }

    #[test]
    fn service_totals_have_their_own_row_and_real_servers_branch_from_it() {
        let f = Format {
            stats: true,
            exact: true,
            ..Format::default()
        };
        let out = render(&services_grid(&sample(), &f), 400);
        let rows = body(&out);
        let first: Vec<&str> = rows.iter().map(|r| r[0].trim()).collect();
        assert_eq!(
            first,
            [
                "tcp 10.30.0.1:80",
                "├─ 192.0.2.1:8080",
                "└─ 192.0.2.2:8080",
                "udp 10.30.0.1:53",
                "└─ 192.0.2.3:53",
                "fwmark 7 ipv6",
                "└─ [2001:db8::7]:0",
                "tcp 10.30.0.9:443",
            ],
            "{out}"
        );
        let (conns, bytes) = (column(&out, "Conns"), column(&out, "InBytes"));
        let cell = |row: usize, col: usize| rows[row][col].trim();
        // The service's totals, not its first real server's counters.
        assert_eq!((cell(0, conns), cell(0, bytes)), ("3000", "123456789012"));
        assert_eq!((cell(1, conns), cell(1, bytes)), ("2000", "100000000000"));
        assert_eq!((cell(2, conns), cell(2, bytes)), ("1000", "23456789012"));
        // A service without real servers is its row alone, with zero totals.
        assert_eq!((cell(7, 0), cell(7, conns)), ("tcp 10.30.0.9:443", "0"));
        assert_eq!(rows.len(), 8);
        // Without counters: a service row has no real-server fields, a real
        // server row no service fields.
        let out = render(&services_grid(&sample(), &Format::default()), 400);
        let rows = body(&out);
        let cell = |row: usize, name: &str| rows[row][column(&out, name)].trim().to_string();
        assert_eq!(
            [cell(0, "Scheduler"), cell(0, "Forward"), cell(0, "Weight")],
            ["wrr", "", ""]
        );
        assert_eq!(
            [cell(1, "Scheduler"), cell(1, "Forward"), cell(1, "Weight")],
            ["", "masq", "3"]
        );
        assert_eq!(cell(3, "Scheduler"), "wlc persistent 60s ops");
        assert_eq!(rows.len(), 8);
    }

    #[test]
    fn counters_scale_as_ipvsadm_unless_exact() {
        let out = render(
            &services_grid(
                &sample(),
                &Format {
                    stats: true,
                    ..Format::default()
                },
            ),
            400,
        );
        let rows = body(&out);
        let bytes = column(&out, "InBytes");
        assert_eq!(rows[0][bytes].trim(), "123G", "{out}");
        assert_eq!(rows[2][bytes].trim(), "23456M", "{out}");
        assert_eq!(rows[3][bytes].trim(), "500", "{out}");
        assert_eq!(
            [
                99_999_999u64,
                100_000_000,
                99_999_999_999,
                100_000_000_000_000,
                u64::MAX
            ]
            .map(|v| number(v, false)),
            ["99999999", "100000K", "99999M", "100T", "18446744T"]
        );
        assert_eq!(number(u64::MAX, true), "18446744073709551615");
    }

    #[test]
    fn numbers_are_right_aligned_and_text_left_aligned() {
        let configuration = Format {
            thresholds: true,
            persistent_conn: true,
            tun_info: true,
            ..Format::default()
        };
        let mut numbers = 0;
        for f in [configuration, all_options()] {
            let out = render(&services_grid(&sample(), &f), 400);
            let cols = service_columns(&f);
            for row in body(&out) {
                assert_eq!(row.len(), cols.len(), "{out}");
                for (cell, col) in row.iter().zip(&cols) {
                    if cell.trim().is_empty() {
                        continue;
                    }
                    let (lead, trail) = (
                        cell.len() - cell.trim_start().len(),
                        cell.len() - cell.trim_end().len(),
                    );
                    if col.numeric {
                        numbers += 1;
                        assert_eq!(
                            trail, 1,
                            "{} not right-aligned: {cell:?}\n{out}",
                            col.header
                        );
                    } else {
                        assert_eq!(lead, 1, "{} not left-aligned: {cell:?}\n{out}", col.header);
                    }
                }
            }
        }
        assert!(numbers > 100, "{numbers}");
        let out = render(&services_grid(&sample(), &configuration), 400);
        assert_eq!(body(&out)[1][column(&out, "Weight")], "      3 ", "{out}");
        assert_eq!(body(&out)[1][column(&out, "Upper")], "   100 ", "{out}");
    }

    #[test]
    fn counters_at_80_columns_wrap_nothing() {
        for f in [
            Format {
                stats: true,
                ..Format::default()
            },
            Format {
                rate: true,
                ..Format::default()
            },
        ] {
            let out = render(&services_grid(&sample(), &f), 80);
            assert_eq!(body(&out).len(), 8, "{out}");
            assert!(widest(&out) <= 80, "{out}");
        }
    }

    #[test]
    fn width_is_columns_else_the_terminal_else_80() {
        assert_eq!(width_from(Some(132), Some(200)), 132);
        assert_eq!(width_from(Some(0), Some(200)), 200);
        assert_eq!(width_from(None, Some(200)), 200);
        assert_eq!(width_from(None, Some(0)), 80);
        assert_eq!(width_from(None, None), 80);
    }

    fn widest(rendered: &str) -> usize {
        rendered
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn tables_fit_the_width_they_are_given() {
        let plain = Format::default();
        let stats = Format {
            stats: true,
            ..Format::default()
        };
        let both = Format {
            stats: true,
            rate: true,
            ..Format::default()
        };
        for f in [plain, stats, both, all_options()] {
            let columns = service_columns(&f).len();
            let natural = widest(&render(&services_grid(&sample(), &f), u16::MAX));
            // The narrowest: a border and a character per column.
            let narrowest = u16::try_from(2 * columns + 1).expect("small");
            for width in [narrowest, 50, 60, 80, 100, 132, 200, 300] {
                if width < narrowest {
                    continue;
                }
                let out = render(&services_grid(&sample(), &f), width);
                let w = widest(&out);
                assert!(w <= usize::from(width), "{w} > {width}:\n{out}");
                // Nothing wraps when it fits as it is.
                if usize::from(width) >= natural {
                    assert_eq!(w, natural, "{out}");
                    assert_eq!(body(&out).len(), 8, "{out}");
                }
                // Addresses and numbers stay whole while text can wrap.
                if width >= 80 && !f.rate {
                    let rows = body(&out);
                    assert!(
                        rows.iter().any(|r| r[0].trim() == "└─ [2001:db8::7]:0"),
                        "{out}"
                    );
                }
            }
        }
    }

    #[test]
    fn other_tables_fit_and_right_align_their_numbers() {
        let conns = vec![Connection {
            protocol: "TCP".into(),
            client: "10.33.0.2:40000".parse().expect("address"),
            virtual_address: "10.33.0.1:80".parse().expect("address"),
            destination: "10.33.0.1:80".parse().expect("address"),
            state: "TIME_WAIT".into(),
            expires: 119,
            pe_name: None,
            pe_data: None,
        }];
        let mut daemon = SyncDaemon::new(DaemonRole::Master, "eth0", 5);
        daemon.port = Some(8848);
        for width in [20, 40, 60, 80, 120] {
            for out in [
                render(&connections_grid(&conns), width),
                render(&daemons_grid(&[daemon.clone()]), width),
            ] {
                assert!(widest(&out) <= usize::from(width), "{out}");
            }
        }
        let out = render(&connections_grid(&conns), 200);
        assert_eq!(body(&out)[0][1], "   01:59 ", "{out}");
        let out = render(&daemons_grid(&[daemon]), 200);
        assert_eq!(body(&out)[0][5], " 8848 ", "{out}");
    }
}
