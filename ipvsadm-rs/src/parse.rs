//! One ipvsadm command line turned into an [`Entry`], with ipvsadm 1.31's
//! rules: the command comes first, options act in the order given, and
//! every check fails with ipvsadm's own message and exit status.

use std::net::{IpAddr, Ipv4Addr};

use crate::options::{Cmd, MATRIX, OPT_NAMES, Opt, TABLE, Tag};
use crate::popt::Scanner;
use crate::resolve::{
    atoi, host_to_addr, parse_inet_aton, parse_inet6, service_to_port, string_to_number,
    strtol_whole,
};

/// The longest timeout ipvsadm takes: 31 days, in seconds.
const MAX_TIMEOUT: i64 = 86400 * 31;
/// `-p` without a value.
const DEFAULT_PERSISTENCE: u32 = 360;
const PROTO_TCP: u16 = 6;
const PROTO_UDP: u16 = 17;
const PROTO_SCTP: u16 = 132;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// Why parsing stopped before a command could run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Print to stderr (a newline is added) and exit with the code: ipvsadm's `fail()`.
    Fail(i32, String),
    /// "Try `PROG -h' ...", exit 255.
    TryHelp,
    /// The usage text on stdout, exit 0.
    Help,
    /// The version on stdout, exit 0.
    Version,
    /// A scanning error: printed, and the command line's result is -1 (exit
    /// 255), but a restore goes on with its next line.
    Scan(String),
}

fn fail<T>(code: i32, msg: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail(code, msg.into()))
}

/// The persistence netmask as ipvsadm keeps it: an IPv4 mask or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// An IPv4 mask.
    V4(Ipv4Addr),
    /// An IPv6 prefix length.
    V6(u32),
}

/// The virtual service part of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svc {
    pub af: u16,
    pub protocol: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub fwmark: u32,
    pub sched_name: String,
    pub flags: u32,
    pub timeout: u32,
    pub netmask: Mask,
    pub pe_name: String,
}

/// The real server part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub af: u16,
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub conn_flags: u32,
    pub weight: i64,
    pub u_threshold: i64,
    pub l_threshold: i64,
    pub tun_type: u8,
    pub tun_port: u16,
    pub tun_flags: u16,
}

/// The sync daemon part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Daemon {
    pub state: u32,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

/// How to print a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    pub numeric: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub nosort: bool,
    pub exact: bool,
    pub tun_info: bool,
    /// `--json`: one JSON document instead of ipvsadm's text.
    pub json: bool,
    /// `--format table`: a table for a terminal.
    pub table: bool,
}

/// A parsed command line, as ipvsadm's `struct ipvs_command_entry` plus its
/// option bits and format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub cmd: Cmd,
    pub options: u64,
    pub format: Format,
    pub svc: Svc,
    pub dest: Dest,
    pub timeouts: [u32; 3],
    pub daemon: Daemon,
}

impl Entry {
    /// Whether option `o` was given.
    pub fn has(&self, o: Opt) -> bool {
        self.options & (1 << o as u64) != 0
    }
}

fn set_option(options: &mut u64, o: Opt) -> Result<(), Stop> {
    let bit = 1u64 << o as u64;
    if *options & bit != 0 {
        return fail(
            2,
            format!("multiple '{}' options specified", OPT_NAMES[o as usize]),
        );
    }
    *options |= bit;
    Ok(())
}

/// ipvsadm's `parse_service`: `host[:port]`, `[v6]:port`, a bare IPv6
/// address (whose last `:x` is part of it), or a name; `None` if unusable.
/// Returns whether a port was given.
fn parse_service(text: &str, svc: &mut Svc) -> Option<bool> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut buf = text;
    let mut port_text = None;
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        port_text = Some(after.strip_prefix(':')?);
        buf = inside;
    }
    if let Some(v6) = parse_inet6(buf) {
        svc.addr = Some(IpAddr::V6(v6));
        svc.af = AF_INET6;
        svc.netmask = Mask::V6(128);
    } else {
        // The last ':' splits off the port, even after a bracketed
        // address (so ipvsadm reads `[1.2.3.4]:80` as 1.2.3.4 without a port).
        port_text = None;
        if let Some((host, port)) = buf.rsplit_once(':') {
            buf = host;
            port_text = Some(port);
        }
        let v4 = parse_inet_aton(buf).or_else(|| host_to_addr(buf))?;
        svc.addr = Some(IpAddr::V4(v4));
        svc.af = AF_INET;
    }
    if let Some(p) = port_text {
        let port = string_to_number(p, 0, 65535)
            .map(|n| n as u16)
            .or_else(|| service_to_port(p, svc.protocol))?;
        svc.port = port;
    }
    Some(port_text.is_some())
}

fn parse_timeout(text: Option<&str>, min: i64, max: i64) -> Result<u32, Stop> {
    let Some(text) = text else {
        return Ok(DEFAULT_PERSISTENCE);
    };
    match string_to_number(text, min, max) {
        Some(n) => Ok(n as u32),
        None => fail(2, format!("invalid timeout value `{text}' specified")),
    }
}

/// ipvsadm refuses fwmarks outside 1..=4294967295. As a deliberate
/// difference, a negative value in the 32-bit range is taken as the mark
/// ipvsadm prints that way (it writes marks of 2^31 and more with `%d`), so
/// that its own `-S` output restores.
fn parse_fwmark(text: &str) -> Result<u32, Stop> {
    match strtol_whole(text) {
        Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        Some(n) if (i64::from(i32::MIN)..0).contains(&n) => Ok(n as i32 as u32),
        _ => fail(2, format!("invalid fwmark value `{text}' specified")),
    }
}

fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, Stop> {
    use ipvs_sys_flags::*;
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    let names: Vec<&str> = arg.split(',').filter(|f| !f.is_empty()).collect();
    if names.is_empty() {
        return fail(2, "invalid scheduler flag `'");
    }
    for flag in names {
        let (bit, needs) = match flag {
            "flag-1" => (SCHED1, None),
            "flag-2" => (SCHED2, None),
            "flag-3" => (SCHED3, None),
            "sh-fallback" => (SCHED1, Some("sh")),
            "sh-port" => (SCHED2, Some("sh")),
            "mh-fallback" => (SCHED1, Some("mh")),
            "mh-port" => (SCHED2, Some("mh")),
            _ => return fail(2, format!("invalid scheduler flag `{flag}'")),
        };
        flags |= bit;
        if needs.is_some_and(|s| s != sched) {
            return fail(2, format!("incompatible scheduler flag `{flag}'"));
        }
    }
    Ok(flags)
}

/// The `IP_VS_SVC_F_*` and `IP_VS_CONN_F_*` values used here.
mod ipvs_sys_flags {
    pub const PERSISTENT: u32 = 0x1;
    pub const ONEPACKET: u32 = 0x4;
    pub const SCHED1: u32 = 0x8;
    pub const SCHED2: u32 = 0x10;
    pub const SCHED3: u32 = 0x20;
    pub const MASQ: u32 = 0;
    pub const TUNNEL: u32 = 2;
    pub const DROUTE: u32 = 3;
    pub const FWD_MASK: u32 = 7;
}
pub use ipvs_sys_flags::{
    DROUTE, FWD_MASK, MASQ, ONEPACKET, PERSISTENT, SCHED1, SCHED2, SCHED3, TUNNEL,
};

/// The first option must be a command.
fn command(tag: Tag, value: Option<&str>, daemon: &mut Daemon) -> Result<Cmd, Stop> {
    Ok(match tag {
        Tag::AddService => Cmd::Add,
        Tag::EditService => Cmd::Edit,
        Tag::DeleteService => Cmd::Del,
        Tag::AddServer => Cmd::AddDest,
        Tag::EditServer => Cmd::EditDest,
        Tag::DeleteServer => Cmd::DelDest,
        Tag::Clear => Cmd::Flush,
        Tag::List => Cmd::List,
        Tag::Zero => Cmd::Zero,
        Tag::Set => Cmd::Timeout,
        Tag::Restore => Cmd::Restore,
        Tag::Save => Cmd::Save,
        Tag::StartDaemon | Tag::StopDaemon => {
            daemon.state = match value {
                Some("master") => 1,
                Some("backup") => 2,
                _ if tag == Tag::StartDaemon => {
                    return fail(2, "illegal start-daemon parameter specified");
                }
                _ => return fail(2, "illegal start_daemon specified"),
            };
            if tag == Tag::StartDaemon {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            }
        }
        Tag::Help => return Err(Stop::Help),
        Tag::Version => return Err(Stop::Version),
        _ => return Err(Stop::TryHelp),
    })
}

/// Parses `args` (without the program name) as ipvsadm's `parse_options`
/// and `process_options` do, up to the point of acting.
///
/// # Errors
/// The [`Stop`] that ends the command line, with ipvsadm's message.
pub fn parse(args: &[String]) -> Result<Entry, Stop> {
    let mut scanner = Scanner::new(TABLE, args);
    let mut e = Entry {
        cmd: Cmd::List,
        options: 0,
        format: Format::default(),
        svc: Svc {
            af: 0,
            protocol: 0,
            addr: None,
            port: 0,
            fwmark: 0,
            sched_name: String::new(),
            flags: 0,
            timeout: 0,
            netmask: Mask::V4(Ipv4Addr::BROADCAST),
            pe_name: String::new(),
        },
        dest: Dest {
            af: 0,
            addr: None,
            port: 0,
            conn_flags: DROUTE,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        },
        timeouts: [0; 3],
        daemon: Daemon::default(),
    };
    let (tag, value) = match scanner.next_opt() {
        Ok(Some(first)) => first,
        Ok(None) | Err(_) => return Err(Stop::TryHelp),
    };
    e.cmd = command(tag, value.as_deref(), &mut e.daemon)?;

    let mut sched_flags_arg = String::new();
    let mut extra = (false, false); // --json, --format table (ipvsadm-rs only)
    let o = &mut e.options;
    let scan_end = loop {
        let (tag, value) = match scanner.next_opt() {
            Ok(Some(next)) => next,
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        };
        let v = value.as_deref().unwrap_or("");
        match tag {
            Tag::TcpService | Tag::UdpService | Tag::SctpService => {
                set_option(o, Opt::Service)?;
                e.svc.protocol = match tag {
                    Tag::TcpService => PROTO_TCP,
                    Tag::UdpService => PROTO_UDP,
                    _ => PROTO_SCTP,
                };
                if parse_service(v, &mut e.svc).is_none() {
                    return fail(2, "illegal virtual server address[:port] specified");
                }
            }
            Tag::FwmarkService => {
                set_option(o, Opt::Service)?;
                e.svc.af = AF_INET;
                e.svc.protocol = PROTO_TCP;
                e.svc.fwmark = parse_fwmark(v)?;
            }
            Tag::Scheduler => {
                set_option(o, Opt::Scheduler)?;
                // ipvsadm copies at most 15 characters.
                e.svc.sched_name = v.chars().take(15).collect();
            }
            Tag::Persistent => {
                set_option(o, Opt::Persistent)?;
                e.svc.flags |= PERSISTENT;
                e.svc.timeout = parse_timeout(value.as_deref(), 1, MAX_TIMEOUT)?;
            }
            Tag::Netmask => {
                set_option(o, Opt::Netmask)?;
                if e.svc.af != AF_INET6 {
                    match parse_inet_aton(v).or_else(|| host_to_addr(v)) {
                        Some(mask) => e.svc.netmask = Mask::V4(mask),
                        None => return fail(2, "illegal virtual server persistent mask specified"),
                    }
                } else {
                    let n = atoi(v);
                    if !(1..=128).contains(&n) {
                        return fail(2, "illegal ipv6 netmask specified");
                    }
                    e.svc.netmask = Mask::V6(n as u32);
                }
            }
            Tag::RealServer => {
                set_option(o, Opt::Server)?;
                let mut target = e.svc.clone();
                let parsed = parse_service(v, &mut target);
                e.dest.af = target.af;
                e.dest.addr = target.addr;
                e.dest.port = target.port;
                match parsed {
                    None => return fail(2, "illegal real server address[:port] specified"),
                    // No port given: the service's.
                    Some(false) => e.dest.port = e.svc.port,
                    Some(true) => {}
                }
            }
            Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
                set_option(o, Opt::Forward)?;
                e.dest.conn_flags = match tag {
                    Tag::Ipip => TUNNEL,
                    Tag::Gatewaying => DROUTE,
                    _ => MASQ,
                };
            }
            Tag::Weight => {
                set_option(o, Opt::Weight)?;
                // Debian's ipvsadm takes the kernel's whole range (upstream stops at 65535).
                e.dest.weight = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| Stop::Fail(2, "illegal weight specified".into()))?;
            }
            Tag::UThreshold => {
                set_option(o, Opt::UThreshold)?;
                e.dest.u_threshold = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| Stop::Fail(2, "illegal u_threshold specified".into()))?;
            }
            Tag::LThreshold => {
                set_option(o, Opt::LThreshold)?;
                e.dest.l_threshold = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| Stop::Fail(2, "illegal l_threshold specified".into()))?;
            }
            Tag::Connection => set_option(o, Opt::Connection)?,
            Tag::Numeric => {
                set_option(o, Opt::Numeric)?;
                e.format.numeric = true;
            }
            Tag::McastInterface => {
                set_option(o, Opt::Mcast)?;
                e.daemon.mcast_ifn = v.chars().take(15).collect();
            }
            Tag::SyncId => {
                set_option(o, Opt::SyncId)?;
                e.daemon.syncid = string_to_number(v, 0, 255)
                    .ok_or_else(|| Stop::Fail(2, "illegal syncid specified".into()))?
                    as u32;
            }
            Tag::Timeout => set_option(o, Opt::Timeout)?,
            Tag::Daemon => set_option(o, Opt::Daemon)?,
            Tag::Stats => {
                set_option(o, Opt::Stats)?;
                e.format.stats = true;
            }
            Tag::Rate => {
                set_option(o, Opt::Rate)?;
                e.format.rate = true;
            }
            Tag::Thresholds => {
                set_option(o, Opt::Thresholds)?;
                e.format.thresholds = true;
            }
            Tag::PersistentConn => {
                set_option(o, Opt::PersistentConn)?;
                e.format.persistent_conn = true;
            }
            Tag::NoSort => {
                set_option(o, Opt::NoSort)?;
                e.format.nosort = true;
            }
            Tag::Sort => {}
            Tag::Exact => {
                set_option(o, Opt::Exact)?;
                e.format.exact = true;
            }
            Tag::Ipv6 => {
                if e.svc.fwmark == 0 {
                    return fail(2, "-6 used before -f\n");
                }
                e.svc.af = AF_INET6;
                e.svc.netmask = Mask::V6(128);
            }
            Tag::Ops => {
                set_option(o, Opt::OnePacket)?;
                e.svc.flags |= ONEPACKET;
            }
            Tag::Pe => {
                set_option(o, Opt::Pe)?;
                e.svc.pe_name = v.chars().take(16).collect();
            }
            Tag::SchedFlags => {
                set_option(o, Opt::SchedFlags)?;
                sched_flags_arg = v.chars().take(127).collect();
            }
            Tag::McastGroup => {
                set_option(o, Opt::McastGroup)?;
                if v.contains(':') {
                    match parse_inet6(v) {
                        Some(g) if g.is_multicast() => e.daemon.mcast_group = Some(IpAddr::V6(g)),
                        _ => return fail(2, format!("invalid IPv6 mcast-group `{v}'")),
                    }
                } else {
                    match crate::resolve::parse_inet4_strict(v) {
                        Some(g) if g.is_multicast() => e.daemon.mcast_group = Some(IpAddr::V4(g)),
                        _ => return fail(2, format!("invalid IPv4 mcast-group `{v}'")),
                    }
                }
            }
            Tag::McastPort => {
                set_option(o, Opt::McastPort)?;
                e.daemon.mcast_port = string_to_number(v, 1, 65535)
                    .ok_or_else(|| Stop::Fail(2, "illegal mcast-port specified".into()))?
                    as u16;
            }
            Tag::McastTtl => {
                set_option(o, Opt::McastTtl)?;
                e.daemon.mcast_ttl = string_to_number(v, 1, 255)
                    .ok_or_else(|| Stop::Fail(2, "illegal mcast-ttl specified".into()))?
                    as u8;
            }
            Tag::SyncMaxlen => {
                set_option(o, Opt::SyncMaxlen)?;
                e.daemon.sync_maxlen = string_to_number(v, 1, 65535 - 20 - 8)
                    .ok_or_else(|| Stop::Fail(2, "illegal sync-maxlen specified".into()))?
                    as u16;
            }
            Tag::TunInfo => {
                set_option(o, Opt::TunInfo)?;
                e.format.tun_info = true;
            }
            Tag::TunType => {
                set_option(o, Opt::TunType)?;
                e.dest.tun_type = match v {
                    "ipip" => 0,
                    "gue" => 1,
                    "gre" => 2,
                    _ => return fail(2, "illegal tunnel type specified"),
                };
            }
            Tag::TunPort => {
                set_option(o, Opt::TunPort)?;
                e.dest.tun_port = string_to_number(v, 1, 65535)
                    .ok_or_else(|| Stop::Fail(2, "illegal tunnel port specified".into()))?
                    as u16;
            }
            Tag::TunNocsum => set_option(o, Opt::TunNocsum)?,
            Tag::TunCsum => {
                set_option(o, Opt::TunCsum)?;
                e.dest.tun_flags |= 1;
            }
            Tag::TunRemcsum => {
                set_option(o, Opt::TunRemcsum)?;
                e.dest.tun_flags |= 2;
            }
            Tag::Json => {
                if extra.0 {
                    return fail(2, "multiple 'json' options specified");
                }
                extra.0 = true;
            }
            Tag::Format => {
                if extra.1 {
                    return fail(2, "multiple 'format' options specified");
                }
                match v {
                    "table" => extra.1 = true,
                    "ipvsadm" => {}
                    "json" => extra.0 = true,
                    _ => {
                        return fail(
                            2,
                            format!("unknown output format `{v}' (use ipvsadm, table or json)"),
                        );
                    }
                }
            }
            // A command letter after the command.
            _ => {
                let word = scanner_word(args, &scanner);
                return fail(2, format!("invalid option `{word}'"));
            }
        }
    };
    if let Err(err) = scan_end {
        return Err(Stop::Scan(err.to_string()));
    }
    let mut leftovers = scanner.into_leftovers().into_iter();
    if e.cmd == Cmd::Timeout {
        match (leftovers.next(), leftovers.next(), leftovers.next()) {
            (Some(tcp), Some(fin), Some(udp)) => {
                e.timeouts = [
                    parse_timeout(Some(&tcp), 0, MAX_TIMEOUT)?,
                    parse_timeout(Some(&fin), 0, MAX_TIMEOUT)?,
                    parse_timeout(Some(&udp), 0, MAX_TIMEOUT)?,
                ];
            }
            _ => return fail(2, "--set option requires 3 timeout values"),
        }
    }
    if let Some(extra_arg) = leftovers.next() {
        return fail(2, format!("unexpected argument {extra_arg}"));
    }
    if !sched_flags_arg.is_empty() {
        e.svc.flags &= !(SCHED1 | SCHED2 | SCHED3);
        e.svc.flags |= parse_sched_flags(&e.svc.sched_name, &sched_flags_arg)?;
    }
    (e.format.json, e.format.table) = extra;
    check_matrix(&e)?;
    check_output_options(&e)?;
    post_checks(&mut e)?;
    Ok(e)
}

/// The word popt was scanning (ipvsadm's `poptBadOption`): the last one it took.
fn scanner_word(args: &[String], scanner: &Scanner<'_, Tag>) -> String {
    scanner
        .consumed()
        .checked_sub(1)
        .and_then(|i| args.get(i))
        .cloned()
        .unwrap_or_default()
}

/// ipvsadm's `generic_opt_check`.
fn check_matrix(e: &Entry) -> Result<(), Stop> {
    let row = MATRIX[e.cmd as usize];
    let mut last = None;
    for (j, rule) in row.iter().enumerate() {
        let given = e.options & (1 << j) != 0;
        match (given, rule) {
            (false, b'+') => {
                return fail(
                    2,
                    format!(
                        "You need to supply the '{}' option for the '{}' command",
                        OPT_NAMES[j],
                        e.cmd.name()
                    ),
                );
            }
            (true, b'x') => {
                return fail(
                    2,
                    format!(
                        "Illegal '{}' option with the '{}' command",
                        OPT_NAMES[j],
                        e.cmd.name()
                    ),
                );
            }
            (true, b'1') => match last {
                None => last = Some(j),
                Some(first) => {
                    return fail(
                        2,
                        format!(
                            "The option '{}' conflicts with the '{}' option in the '{}' command",
                            OPT_NAMES[j],
                            OPT_NAMES[first],
                            e.cmd.name()
                        ),
                    );
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// `--json` and `--format table` only go with listings.
fn check_output_options(e: &Entry) -> Result<(), Stop> {
    for (given, name) in [(e.format.json, "json"), (e.format.table, "format")] {
        if given && e.cmd != Cmd::List {
            return fail(
                2,
                format!(
                    "Illegal '{name}' option with the '{}' command",
                    e.cmd.name()
                ),
            );
        }
    }
    if e.format.json && e.format.table {
        return fail(
            2,
            "The option 'format' conflicts with the 'json' option in the 'list' command",
        );
    }
    Ok(())
}

const TUN_NAMES: [&str; 3] = ["ipip", "gue", "gre"];
/// Tunnel options, and which each tunnel type takes (as [`MATRIX`]).
const TUN_OPTS: [Opt; 4] = [Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];
const TUN_MATRIX: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];

/// ipvsadm's checks after the matrix, and its defaults.
fn post_checks(e: &mut Entry) -> Result<(), Stop> {
    if matches!(e.cmd, Cmd::Add | Cmd::Edit) {
        if e.svc.fwmark == 0 && e.svc.port == 0 && e.svc.flags & PERSISTENT == 0 {
            return fail(2, "Zero port specified for non-persistent service");
        }
        if e.svc.flags & ONEPACKET != 0 && e.svc.fwmark == 0 && e.svc.protocol != PROTO_UDP {
            return fail(2, "One-Packet Scheduling is only for UDP virtual services");
        }
        if e.svc.sched_name.is_empty() {
            e.svc.sched_name = "wlc".into();
        }
    }
    if e.cmd == Cmd::StartDaemon && e.daemon.mcast_ifn.is_empty() {
        e.daemon.mcast_ifn = "eth0".into();
    }
    let fwd = e.dest.conn_flags & FWD_MASK;
    if matches!(e.cmd, Cmd::AddDest | Cmd::EditDest) {
        if e.svc.fwmark == 0 && (fwd == TUNNEL || fwd == DROUTE) {
            e.dest.port = e.svc.port;
        }
        if e.dest.af != e.svc.af && fwd != TUNNEL {
            return fail(
                2,
                "Different address family is allowed only for tunneling servers",
            );
        }
        let tunnel_opts = [
            Opt::TunType,
            Opt::TunPort,
            Opt::TunNocsum,
            Opt::TunCsum,
            Opt::TunRemcsum,
        ];
        if tunnel_opts.iter().any(|o| e.has(*o)) && fwd != TUNNEL {
            return fail(2, "Tunnel options conflict with forward method");
        }
        let kind = usize::from(e.dest.tun_type);
        let mut last = None;
        for (j, opt) in TUN_OPTS.iter().enumerate() {
            let given = e.has(*opt);
            match (given, TUN_MATRIX[kind][j]) {
                (false, b'+') => {
                    return fail(
                        2,
                        format!(
                            "You need to supply the '{}' option for the '{}' tunnel type",
                            OPT_NAMES[*opt as usize], TUN_NAMES[kind]
                        ),
                    );
                }
                (true, b'x') => {
                    return fail(
                        2,
                        format!(
                            "Illegal '{}' option with the '{}' tunnel type",
                            OPT_NAMES[*opt as usize], TUN_NAMES[kind]
                        ),
                    );
                }
                (true, b'1') => match last {
                    None => last = Some(*opt),
                    Some(first) => {
                        return fail(
                            2,
                            format!(
                                "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                                OPT_NAMES[*opt as usize],
                                OPT_NAMES[first as usize],
                                TUN_NAMES[kind]
                            ),
                        );
                    }
                },
                _ => {}
            }
        }
    }
    if e.cmd == Cmd::List {
        let f = e.format;
        let (conn, timeout, daemon) = (
            e.has(Opt::Connection),
            e.has(Opt::Timeout),
            e.has(Opt::Daemon),
        );
        if ((conn || timeout || daemon) && (f.stats || f.rate || f.thresholds))
            || ((timeout || daemon) && f.persistent_conn)
        {
            return fail(2, "options conflicts in the list command");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
