//! One ipvsadm command line turned into a typed [`Command`] of `ipvs` domain
//! types, with ipvsadm 1.31's rules: the command comes first, options act in
//! the order given, and every check fails with ipvsadm's own message and
//! exit status. Nothing here talks to the kernel.

use std::net::{IpAddr, Ipv4Addr};

use ipvs::{
    AddressFamily, DaemonRole, Destination, ForwardMethod, Netmask, Persistence, Protocol,
    SchedFlags, Scheduler, Service, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelChecksum,
    TunnelKind,
};

use crate::options::{Cmd, Column, Def, OPTIONS, Tag, columns};
use crate::popt::Scanner;
use crate::resolve::{
    atoi, host_to_addr, parse_inet_aton, parse_inet6, service_to_port, string_to_number,
    strtol_whole,
};

/// The longest timeout ipvsadm takes: 31 days, in seconds.
const MAX_TIMEOUT: i64 = 86400 * 31;
/// `-p` without a value.
const DEFAULT_PERSISTENCE: u32 = 360;

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

/// How to print a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    /// `-n`: addresses and ports as numbers, not names.
    pub numeric: bool,
    /// `--stats`: the counters.
    pub stats: bool,
    /// `--rate`: the rates.
    pub rate: bool,
    /// `--thresholds`: the real servers' connection thresholds.
    pub thresholds: bool,
    /// `--persistent-conn`: persistent connections (and, for `-c`, the
    /// persistence engine's data).
    pub persistent_conn: bool,
    /// `--nosort`: the kernel's order.
    pub nosort: bool,
    /// `-X`/`--exact`: numbers in full, without K/M/G/T.
    pub exact: bool,
    /// `--tun-info`: the tunnel parameters of real servers.
    pub tun_info: bool,
    /// `--json`: one JSON document instead of ipvsadm's text.
    pub json: bool,
    /// `--format table`: a table for a terminal.
    pub table: bool,
}

/// What a listing (`-L`) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListTarget {
    /// The whole table (`-L`, and `ipvsadm` alone).
    All,
    /// One virtual service (`-L -t ...`).
    Service(ServiceKey),
    /// The connection table (`-L -c`).
    Connections,
    /// The timeouts (`-L --timeout`).
    Timeouts,
    /// The sync daemons (`-L --daemon`).
    Daemons,
}

/// A command line, validated: what to do, in the library's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-A`: add a virtual service.
    AddService(Service),
    /// `-E`: edit a virtual service.
    EditService(Service),
    /// `-D`: delete a virtual service.
    DeleteService(ServiceKey),
    /// `-C`: delete every virtual service.
    Flush,
    /// `-a`: add a real server to a service.
    AddServer {
        /// The virtual service.
        service: ServiceKey,
        /// The real server.
        server: Destination,
    },
    /// `-e`: edit a real server of a service.
    EditServer {
        /// The virtual service.
        service: ServiceKey,
        /// The real server, as it is to be.
        server: Destination,
    },
    /// `-d`: delete a real server of a service.
    DeleteServer {
        /// The virtual service.
        service: ServiceKey,
        /// The real server's address.
        address: IpAddr,
        /// The real server's port.
        port: u16,
    },
    /// `-Z`: zero the counters of one service, or of all (`None`).
    Zero(Option<ServiceKey>),
    /// `-L`: list.
    List {
        /// What to list.
        target: ListTarget,
        /// How.
        format: Format,
    },
    /// `-S`: the table as `-R` input (only [`Format::numeric`] applies).
    Save(Format),
    /// `-R`: run the lines of standard input.
    Restore,
    /// `--set`: the connection timeouts, in seconds (0 leaves one unchanged).
    SetTimeouts(Timeouts),
    /// `--start-daemon`.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon`.
    StopDaemon(DaemonRole),
}

/// What the options said so far, as ipvsadm keeps it while it reads them.
#[derive(Debug, Clone)]
struct Draft {
    cmd: Cmd,
    /// The matrix columns given, by bit.
    given: u64,
    format: Format,
    list_connections: bool,
    list_timeouts: bool,
    list_daemons: bool,
    // The virtual service. `family` is unset until a service option sets it.
    family: Option<AddressFamily>,
    protocol: Option<Protocol>,
    address: Option<IpAddr>,
    port: u16,
    fwmark: u32,
    scheduler: String,
    persistent: Option<u32>,
    netmask: Netmask,
    pe_name: String,
    one_packet: bool,
    sched_flags: SchedFlags,
    // The real server.
    server: Option<IpAddr>,
    server_port: u16,
    forward: ForwardMethod,
    weight: u32,
    u_threshold: u32,
    l_threshold: u32,
    tunnel_kind: TunnelKind,
    tunnel_port: u16,
    tunnel_checksum: TunnelChecksum,
    // The sync daemon.
    role: DaemonRole,
    mcast_interface: String,
    sync_id: u8,
    sync_maxlen: u16,
    mcast_group: Option<IpAddr>,
    mcast_port: u16,
    mcast_ttl: u8,
    timeouts: Timeouts,
}

impl Draft {
    fn new(cmd: Cmd) -> Self {
        Self {
            cmd,
            given: 0,
            format: Format::default(),
            list_connections: false,
            list_timeouts: false,
            list_daemons: false,
            family: None,
            protocol: None,
            address: None,
            port: 0,
            fwmark: 0,
            scheduler: String::new(),
            persistent: None,
            netmask: Netmask::Ipv4(Ipv4Addr::BROADCAST),
            pe_name: String::new(),
            one_packet: false,
            sched_flags: SchedFlags::NONE,
            server: None,
            server_port: 0,
            forward: ForwardMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tunnel_kind: TunnelKind::Ipip,
            tunnel_port: 0,
            tunnel_checksum: TunnelChecksum::None,
            role: DaemonRole::Master,
            mcast_interface: String::new(),
            sync_id: 0,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
            timeouts: Timeouts::default(),
        }
    }

    fn has(&self, c: Column) -> bool {
        self.given & (1 << c.bit) != 0
    }

    /// Marks column `c` given: ipvsadm's `set_option`.
    fn set(&mut self, c: Column) -> Result<(), Stop> {
        if self.has(c) {
            return fail(2, format!("multiple '{}' options specified", c.name));
        }
        self.given |= 1 << c.bit;
        Ok(())
    }

    fn key(&self) -> ServiceKey {
        if self.fwmark != 0 {
            return ServiceKey::fwmark(self.family.unwrap_or(AddressFamily::Ipv4), self.fwmark);
        }
        ServiceKey::Inet {
            protocol: self.protocol.unwrap_or(Protocol::Tcp),
            address: self.address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            port: self.port,
        }
    }

    fn service(&self) -> Service {
        let mut service =
            Service::new(self.key()).with_scheduler(Scheduler::from_name(&self.scheduler));
        if let Some(timeout) = self.persistent {
            let mut persistence = Persistence::new(timeout);
            persistence.netmask = Some(self.netmask);
            service = service.with_persistence(persistence);
        }
        service.sched_flags = self.sched_flags;
        service.persistence_engine = (!self.pe_name.is_empty()).then(|| self.pe_name.clone());
        service.one_packet = self.one_packet;
        service
    }

    fn server(&self) -> Destination {
        let address = self.server.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let mut server =
            Destination::new(address, self.server_port, self.forward).with_weight(self.weight);
        if self.forward == ForwardMethod::Tunnel {
            server = server.with_tunnel(match self.tunnel_kind {
                TunnelKind::Ipip => Tunnel::IPIP,
                TunnelKind::Gue => Tunnel::gue(self.tunnel_port, self.tunnel_checksum),
                TunnelKind::Gre => Tunnel::gre(self.tunnel_checksum),
            });
        }
        server.upper_threshold = self.u_threshold;
        server.lower_threshold = self.l_threshold;
        server
    }

    fn daemon(&self) -> SyncDaemon {
        let mut daemon = SyncDaemon::new(self.role, self.mcast_interface.clone(), self.sync_id);
        daemon.max_len = (self.sync_maxlen != 0).then_some(self.sync_maxlen);
        daemon.group = self.mcast_group;
        daemon.port = (self.mcast_port != 0).then_some(self.mcast_port);
        daemon.ttl = (self.mcast_ttl != 0).then_some(self.mcast_ttl);
        daemon
    }

    fn command(self, service_given: bool) -> Command {
        match self.cmd {
            Cmd::Add => Command::AddService(self.service()),
            Cmd::Edit => Command::EditService(self.service()),
            Cmd::Del => Command::DeleteService(self.key()),
            Cmd::Flush => Command::Flush,
            Cmd::AddDest => Command::AddServer {
                service: self.key(),
                server: self.server(),
            },
            Cmd::EditDest => Command::EditServer {
                service: self.key(),
                server: self.server(),
            },
            Cmd::DelDest => {
                let server = self.server();
                Command::DeleteServer {
                    service: self.key(),
                    address: server.address,
                    port: server.port,
                }
            }
            Cmd::Zero => Command::Zero(service_given.then(|| self.key())),
            Cmd::List => Command::List {
                target: if self.list_connections {
                    ListTarget::Connections
                } else if service_given {
                    ListTarget::Service(self.key())
                } else if self.list_timeouts {
                    ListTarget::Timeouts
                } else if self.list_daemons {
                    ListTarget::Daemons
                } else {
                    ListTarget::All
                },
                format: self.format,
            },
            Cmd::Save => Command::Save(self.format),
            Cmd::Restore => Command::Restore,
            Cmd::Timeout => Command::SetTimeouts(self.timeouts),
            Cmd::StartDaemon => Command::StartDaemon(self.daemon()),
            Cmd::StopDaemon => Command::StopDaemon(self.role),
        }
    }
}

/// ipvsadm's `parse_service`: `host[:port]`, `[v6]:port`, a bare IPv6
/// address (whose last `:x` is part of it), or a name (a port name looked
/// up for `protocol`); `None` if unusable. The port is `None` if not given.
fn parse_service(text: &str, protocol: Option<Protocol>) -> Option<(IpAddr, Option<u16>)> {
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
    let address = if let Some(v6) = parse_inet6(buf) {
        IpAddr::V6(v6)
    } else {
        // The last ':' splits off the port, even after a bracketed
        // address (so ipvsadm reads `[1.2.3.4]:80` as 1.2.3.4 without a port).
        port_text = None;
        if let Some((host, port)) = buf.rsplit_once(':') {
            buf = host;
            port_text = Some(port);
        }
        IpAddr::V4(parse_inet_aton(buf).or_else(|| host_to_addr(buf))?)
    };
    let port = match port_text {
        Some(p) => Some(
            string_to_number(p, 0, 65535)
                .map(|n| n as u16)
                .or_else(|| service_to_port(p, protocol))?,
        ),
        None => None,
    };
    Some((address, port))
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

/// The word popt was scanning (ipvsadm's `poptBadOption`): the last one it took.
fn scanner_word(args: &[String], scanner: &Scanner<'_, Def>) -> String {
    scanner
        .consumed()
        .checked_sub(1)
        .and_then(|i| args.get(i))
        .cloned()
        .unwrap_or_default()
}

/// ipvsadm's `-b`: a comma-separated list of flag names; `sh-*` and `mh-*`
/// only with their scheduler (`wlc` when none is given yet).
fn parse_sched_flags(scheduler: &str, arg: &str) -> Result<SchedFlags, Stop> {
    let scheduler = if scheduler.is_empty() {
        "wlc"
    } else {
        scheduler
    };
    let names: Vec<&str> = arg.split(',').filter(|f| !f.is_empty()).collect();
    if names.is_empty() {
        return fail(2, "invalid scheduler flag `'");
    }
    let mut flags = SchedFlags::NONE;
    for name in names {
        let Some(flag) = SchedFlags::from_name(name) else {
            return fail(2, format!("invalid scheduler flag `{name}'"));
        };
        flags = flags | flag;
        let needs = name
            .split_once('-')
            .map(|(prefix, _)| prefix)
            .filter(|p| matches!(*p, "sh" | "mh"));
        if needs.is_some_and(|s| s != scheduler) {
            return fail(2, format!("incompatible scheduler flag `{name}'"));
        }
    }
    Ok(flags)
}

/// The first option must be a command.
fn command(tag: Tag, value: Option<&str>) -> Result<(Cmd, DaemonRole), Stop> {
    let cmd = match tag {
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
            let role = match value {
                Some("master") => DaemonRole::Master,
                Some("backup") => DaemonRole::Backup,
                _ if tag == Tag::StartDaemon => {
                    return fail(2, "illegal start-daemon parameter specified");
                }
                _ => return fail(2, "illegal start_daemon specified"),
            };
            let cmd = if tag == Tag::StartDaemon {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            };
            return Ok((cmd, role));
        }
        Tag::Help => return Err(Stop::Help),
        Tag::Version => return Err(Stop::Version),
        _ => return Err(Stop::TryHelp),
    };
    Ok((cmd, DaemonRole::Master))
}

/// A number of `min..=max` for option values, or ipvsadm's message.
fn number(v: &str, min: i64, max: i64, what: &str) -> Result<i64, Stop> {
    string_to_number(v, min, max).ok_or_else(|| Stop::Fail(2, format!("illegal {what} specified")))
}

/// Parses `args` (without the program name) as ipvsadm's `parse_options`
/// and `process_options` do, up to the point of acting.
///
/// # Errors
/// The [`Stop`] that ends the command line, with ipvsadm's message.
pub fn parse(args: &[String]) -> Result<Command, Stop> {
    let mut scanner = Scanner::new(OPTIONS, args);
    let (def, value) = match scanner.next_opt() {
        Ok(Some(first)) => first,
        Ok(None) | Err(_) => return Err(Stop::TryHelp),
    };
    let (cmd, role) = command(def.tag, value.as_deref())?;
    let mut e = Draft::new(cmd);
    e.role = role;

    let mut sched_flags_arg = String::new();
    let mut service_given = false;
    let (mut json, mut table) = (false, false); // ipvsadm-rs only
    let scan_end = loop {
        let (def, value): (Def, Option<String>) = match scanner.next_opt() {
            Ok(Some(next)) => next,
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        };
        if let Some(column) = def.column {
            e.set(column)?;
        }
        let v = value.as_deref().unwrap_or("");
        match def.tag {
            Tag::TcpService | Tag::UdpService | Tag::SctpService => {
                service_given = true;
                let protocol = match def.tag {
                    Tag::TcpService => Protocol::Tcp,
                    Tag::UdpService => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                e.protocol = Some(protocol);
                let Some((address, port)) = parse_service(v, e.protocol) else {
                    return fail(2, "illegal virtual server address[:port] specified");
                };
                e.address = Some(address);
                e.family = Some(AddressFamily::of(&address));
                if address.is_ipv6() {
                    e.netmask = Netmask::Ipv6(128);
                }
                if let Some(port) = port {
                    e.port = port;
                }
            }
            Tag::FwmarkService => {
                service_given = true;
                e.family = Some(AddressFamily::Ipv4);
                e.protocol = Some(Protocol::Tcp);
                e.fwmark = parse_fwmark(v)?;
            }
            Tag::Scheduler => {
                // ipvsadm copies at most 15 characters.
                e.scheduler = v.chars().take(15).collect();
            }
            Tag::Persistent => {
                e.persistent = Some(parse_timeout(value.as_deref(), 1, MAX_TIMEOUT)?);
            }
            Tag::Netmask => {
                if e.family != Some(AddressFamily::Ipv6) {
                    match parse_inet_aton(v).or_else(|| host_to_addr(v)) {
                        Some(mask) => e.netmask = Netmask::Ipv4(mask),
                        None => return fail(2, "illegal virtual server persistent mask specified"),
                    }
                } else {
                    let n = atoi(v);
                    if !(1..=128).contains(&n) {
                        return fail(2, "illegal ipv6 netmask specified");
                    }
                    e.netmask = Netmask::Ipv6(n as u8);
                }
            }
            Tag::RealServer => {
                let Some((address, port)) = parse_service(v, e.protocol) else {
                    return fail(2, "illegal real server address[:port] specified");
                };
                e.server = Some(address);
                // No port given: the service's.
                e.server_port = port.unwrap_or(e.port);
            }
            Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
                e.forward = match def.tag {
                    Tag::Ipip => ForwardMethod::Tunnel,
                    Tag::Gatewaying => ForwardMethod::Route,
                    _ => ForwardMethod::Masq,
                };
            }
            // Debian's ipvsadm takes the kernel's whole range (upstream stops at 65535).
            Tag::Weight => e.weight = number(v, 0, i64::from(i32::MAX), "weight")? as u32,
            Tag::UThreshold => {
                e.u_threshold = number(v, 0, i64::from(i32::MAX), "u_threshold")? as u32;
            }
            Tag::LThreshold => {
                e.l_threshold = number(v, 0, i64::from(i32::MAX), "l_threshold")? as u32;
            }
            Tag::Connection => e.list_connections = true,
            Tag::Numeric => e.format.numeric = true,
            Tag::McastInterface => e.mcast_interface = v.chars().take(15).collect(),
            Tag::SyncId => e.sync_id = number(v, 0, 255, "syncid")? as u8,
            Tag::Timeout => e.list_timeouts = true,
            Tag::Daemon => e.list_daemons = true,
            Tag::Stats => e.format.stats = true,
            Tag::Rate => e.format.rate = true,
            Tag::Thresholds => e.format.thresholds = true,
            Tag::PersistentConn => e.format.persistent_conn = true,
            Tag::NoSort => e.format.nosort = true,
            Tag::Sort => {}
            Tag::Exact => e.format.exact = true,
            Tag::Ipv6 => {
                if e.fwmark == 0 {
                    return fail(2, "-6 used before -f\n");
                }
                e.family = Some(AddressFamily::Ipv6);
                e.netmask = Netmask::Ipv6(128);
            }
            Tag::Ops => e.one_packet = true,
            Tag::Pe => e.pe_name = v.chars().take(16).collect(),
            Tag::SchedFlags => sched_flags_arg = v.chars().take(127).collect(),
            Tag::McastGroup => {
                if v.contains(':') {
                    match parse_inet6(v) {
                        Some(g) if g.is_multicast() => e.mcast_group = Some(IpAddr::V6(g)),
                        _ => return fail(2, format!("invalid IPv6 mcast-group `{v}'")),
                    }
                } else {
                    match crate::resolve::parse_inet4_strict(v) {
                        Some(g) if g.is_multicast() => e.mcast_group = Some(IpAddr::V4(g)),
                        _ => return fail(2, format!("invalid IPv4 mcast-group `{v}'")),
                    }
                }
            }
            Tag::McastPort => e.mcast_port = number(v, 1, 65535, "mcast-port")? as u16,
            Tag::McastTtl => e.mcast_ttl = number(v, 1, 255, "mcast-ttl")? as u8,
            Tag::SyncMaxlen => {
                e.sync_maxlen = number(v, 1, 65535 - 20 - 8, "sync-maxlen")? as u16;
            }
            Tag::TunInfo => e.format.tun_info = true,
            Tag::TunType => {
                e.tunnel_kind = match v {
                    "ipip" => TunnelKind::Ipip,
                    "gue" => TunnelKind::Gue,
                    "gre" => TunnelKind::Gre,
                    _ => return fail(2, "illegal tunnel type specified"),
                };
            }
            Tag::TunPort => e.tunnel_port = number(v, 1, 65535, "tunnel port")? as u16,
            Tag::TunNocsum => {}
            Tag::TunCsum => e.tunnel_checksum = TunnelChecksum::Checksum,
            Tag::TunRemcsum => e.tunnel_checksum = TunnelChecksum::Remote,
            Tag::Json => {
                if json {
                    return fail(2, "multiple 'json' options specified");
                }
                json = true;
            }
            Tag::Format => {
                if table {
                    return fail(2, "multiple 'format' options specified");
                }
                match v {
                    "table" => table = true,
                    "ipvsadm" => {}
                    "json" => json = true,
                    _ => {
                        return fail(
                            2,
                            format!("unknown output format `{v}' (use ipvsadm, table or json)"),
                        );
                    }
                }
            }
            // A command after the command.
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
                e.timeouts.tcp = parse_timeout(Some(&tcp), 0, MAX_TIMEOUT)?;
                e.timeouts.tcp_fin = parse_timeout(Some(&fin), 0, MAX_TIMEOUT)?;
                e.timeouts.udp = parse_timeout(Some(&udp), 0, MAX_TIMEOUT)?;
            }
            _ => return fail(2, "--set option requires 3 timeout values"),
        }
    }
    if let Some(extra_arg) = leftovers.next() {
        return fail(2, format!("unexpected argument {extra_arg}"));
    }
    if !sched_flags_arg.is_empty() {
        e.sched_flags = parse_sched_flags(&e.scheduler, &sched_flags_arg)?;
    }
    (e.format.json, e.format.table) = (json, table);
    check_matrix(&e)?;
    check_output_options(&e)?;
    post_checks(&mut e)?;
    Ok(e.command(service_given))
}

/// ipvsadm's `generic_opt_check` over the columns `rule` picks a rule of
/// (a command's, or a tunnel type's); `of` names the command or type.
/// Checks the options given against `cols`' rules; `of` names what the rules
/// belong to in messages (formatted only when one is broken).
fn check_rules(
    e: &Draft,
    cols: impl Iterator<Item = (Column, u8)>,
    of: &dyn std::fmt::Display,
) -> Result<(), Stop> {
    let mut first: Option<Column> = None;
    for (c, rule) in cols {
        match (e.has(c), rule) {
            (false, b'+') => {
                return fail(
                    2,
                    format!("You need to supply the '{}' option for the {of}", c.name),
                );
            }
            (true, b'x') => {
                return fail(2, format!("Illegal '{}' option with the {of}", c.name));
            }
            (true, b'1') => match first {
                None => first = Some(c),
                Some(earlier) => {
                    return fail(
                        2,
                        format!(
                            "The option '{}' conflicts with the '{}' option in the {of}",
                            c.name, earlier.name
                        ),
                    );
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// The option/command matrix.
fn check_matrix(e: &Draft) -> Result<(), Stop> {
    let cmd = e.cmd as usize;
    check_rules(
        e,
        columns().iter().map(|c| (*c, c.rules[cmd])),
        &format_args!("'{}' command", e.cmd.name()),
    )
}

/// `--json` and `--format table` only go with listings.
fn check_output_options(e: &Draft) -> Result<(), Stop> {
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

/// ipvsadm's checks after the matrix, and its defaults.
fn post_checks(e: &mut Draft) -> Result<(), Stop> {
    if matches!(e.cmd, Cmd::Add | Cmd::Edit) {
        if e.fwmark == 0 && e.port == 0 && e.persistent.is_none() {
            return fail(2, "Zero port specified for non-persistent service");
        }
        if e.one_packet && e.fwmark == 0 && e.protocol != Some(Protocol::Udp) {
            return fail(2, "One-Packet Scheduling is only for UDP virtual services");
        }
        if e.scheduler.is_empty() {
            e.scheduler = "wlc".into();
        }
    }
    if e.cmd == Cmd::StartDaemon && e.mcast_interface.is_empty() {
        e.mcast_interface = "eth0".into();
    }
    if matches!(e.cmd, Cmd::AddDest | Cmd::EditDest) {
        let tunnel = e.forward == ForwardMethod::Tunnel;
        if e.fwmark == 0 && (tunnel || e.forward == ForwardMethod::Route) {
            e.server_port = e.port;
        }
        if e.server.map(|a| AddressFamily::of(&a)) != e.family && !tunnel {
            return fail(
                2,
                "Different address family is allowed only for tunneling servers",
            );
        }
        let tunnel_columns = || columns().iter().filter_map(|c| c.tunnel.map(|t| (*c, t)));
        if tunnel_columns().any(|(c, _)| e.has(c)) && !tunnel {
            return fail(2, "Tunnel options conflict with forward method");
        }
        let (kind, name) = match e.tunnel_kind {
            TunnelKind::Ipip => (0, "ipip"),
            TunnelKind::Gue => (1, "gue"),
            TunnelKind::Gre => (2, "gre"),
        };
        check_rules(
            e,
            tunnel_columns().map(|(c, rules)| (c, rules[kind])),
            &format_args!("'{name}' tunnel type"),
        )?;
    }
    if e.cmd == Cmd::List {
        let f = e.format;
        let (conn, timeout, daemon) = (e.list_connections, e.list_timeouts, e.list_daemons);
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
