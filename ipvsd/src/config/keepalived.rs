//! keepalived.conf into the model: the LVS part of a keepalived
//! configuration (`global_defs`, `virtual_server_group`, `virtual_server`,
//! `real_server`, `sorry_server`, the checkers, `track_file`, `SSL`), with
//! keepalived's defaults and inheritance (keepalived.conf(5); the keyword
//! tables of keepalived's `check_parser.c`, `check_api.c`, `check_*.c`,
//! `global_parser.c`). A keyword it does not support is an error naming
//! file, line and keyword; VRRP is an error too unless the reader runs
//! checker-only, when VRRP blocks are skipped whole and noted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipvs::{
    AddressFamily, ForwardMethod, Netmask, Persistence, Protocol, SchedFlags, Scheduler,
    ServiceKey, Timeouts, Tunnel, TunnelChecksum, TunnelKind,
};

use super::checker::{
    BodyRegex, CheckKind, Checker, Connect, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, RunAs, Timing, UdpCheck, Url,
};
use super::error::{ConfigError, Location, Note};
use super::group;
use super::lexer::{self, LexOptions, Statement};
use super::model::{
    FlushOnStop, Global, GroupMember, Model, RealServer, Script, Smtp, SorryServer,
    SyncDaemonConfig, TlsClient, VirtualServer, VirtualTarget,
};
use super::validate;
use super::values::{
    arg, at_most, block, hex_bytes, ip, jitter, no_block, number, port, single, single_seconds,
    single_u32, switch, unsupported,
};

/// keepalived's default `delay_loop` (`KEEPALIVED_DEFAULT_DELAY`): 60 s.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived's default `connect_timeout`: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// keepalived's `persistence_timeout` given without a value: 360 s
/// (`IPVS_SVC_PERSISTENT_TIMEOUT`).
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;
/// The largest real server `weight` keepalived takes (`IPVS_WEIGHT_LIMIT`,
/// `INT32_MAX` in keepalived's `ip_vs.h`), the kernel's too.
pub const WEIGHT_LIMIT: u32 = ipvs::MAX_WEIGHT;
/// keepalived's schedulers (`lvs_sched`), as keepalived.conf(5) lists them.
pub const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

/// Top-level blocks that belong to VRRP (a later part of ipvsd).
const VRRP_BLOCKS: &[&str] = &[
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "vrrp_track_file",
    "vrrp_track_process",
    "track_process",
    "garp_group",
    "linkbeat_interfaces",
];

/// `global_defs` keywords that belong to VRRP (besides every `vrrp_*`).
const VRRP_GLOBALS: &[&str] = &[
    "v3_checksum_as_v2",
    "default_interface",
    "disable_local_igmp",
    "dynamic_interfaces",
    "max_auto_priority",
    "min_auto_priority_delay",
    "smtp_alert_vrrp",
    "notify_fifo",
    "notify_fifo_script",
    "vmac_prefix",
    "vmac_addr_prefix",
    "log_unknown_vrids",
    "fifo_write_vrrp_states_on_reload",
    "enable_snmp_vrrp",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
];

/// How to read a keepalived.conf.
#[derive(Debug, Clone, Default)]
pub struct KeepalivedOptions {
    /// Skip VRRP blocks and keywords (noting each) instead of refusing
    /// them, like `keepalived --check` which runs only the checker process.
    pub checker_only: bool,
    /// The id `@ID` conditional lines are kept for (keepalived's
    /// `--config-id`; default the host name up to its first dot).
    pub config_id: Option<String>,
}

/// A configuration read and validated, with the notes about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model.
    pub model: Model,
    /// Skipped VRRP blocks, values corrected as keepalived corrects them,
    /// settings kept but not acted on.
    pub notes: Vec<Note>,
}

/// Reads the keepalived.conf at `path` (and its includes).
///
/// # Errors
/// The first problem, with its file and line: [`ConfigError::Unsupported`]
/// for a keyword ipvsd does not support, [`ConfigError::Vrrp`] for VRRP
/// without `checker_only`, [`ConfigError::Invalid`] for a bad value,
/// [`ConfigError::Syntax`] or [`ConfigError::Read`].
pub fn read_keepalived(path: &Path, options: &KeepalivedOptions) -> Result<Loaded, ConfigError> {
    let tree = lexer::parse_file(path, &lex_options(options))?;
    interpret(&tree, path, options)
}

/// Reads keepalived.conf text as if it were the file `name`.
///
/// # Errors
/// As [`read_keepalived`].
pub fn read_keepalived_str(
    text: &str,
    name: &Path,
    options: &KeepalivedOptions,
) -> Result<Loaded, ConfigError> {
    let tree = lexer::parse_str(text, name, &lex_options(options))?;
    interpret(&tree, name, options)
}

fn lex_options(options: &KeepalivedOptions) -> LexOptions {
    LexOptions {
        config_id: options.config_id.clone(),
    }
}

/// A `track_file` block.
#[derive(Debug, Clone)]
struct TrackFile {
    path: PathBuf,
    weight: i32,
    reverse: bool,
}

struct Reader<'a> {
    options: &'a KeepalivedOptions,
    notes: Vec<Note>,
    global: Global,
    groups: HashMap<String, Vec<GroupMember>>,
    track_files: HashMap<String, TrackFile>,
    smtp_noted: bool,
}

fn interpret(
    tree: &[Statement],
    path: &Path,
    options: &KeepalivedOptions,
) -> Result<Loaded, ConfigError> {
    let mut r = Reader {
        options,
        notes: Vec::new(),
        global: Global::keepalived_defaults(),
        groups: HashMap::new(),
        track_files: HashMap::new(),
        smtp_noted: false,
    };
    // First the blocks virtual servers refer to, wherever they are.
    let mut servers = Vec::new();
    for st in tree {
        match st.keyword() {
            "global_defs" => r.global_defs(st)?,
            "virtual_server_group" => r.virtual_server_group(st)?,
            "track_file" => r.track_file(st)?,
            "SSL" => r.ssl(st)?,
            "virtual_server" => servers.push(st),
            k if VRRP_BLOCKS.contains(&k) => r.vrrp(st)?,
            _ => return Err(unsupported(st, "at the top level")),
        }
    }
    let mut virtual_servers = Vec::new();
    let mut locations = Vec::new();
    for st in servers {
        if let Some(vs) = r.virtual_server(st)? {
            validate::virtual_server(&vs)
                .map_err(|why| ConfigError::invalid(&st.location, "virtual_server", why))?;
            virtual_servers.push(vs);
            locations.push(st.location.clone());
        }
    }
    let globals_at = tree
        .iter()
        .rfind(|st| st.keyword() == "global_defs")
        .map_or_else(|| Location::new(path, 0), |st| st.location.clone());
    validate::global(&r.global)
        .map_err(|why| ConfigError::invalid(&globals_at, "global_defs", why))?;
    let model = Model {
        global: r.global,
        virtual_servers,
    };
    validate::unique_services(&model).map_err(|(i, why)| {
        let at = locations
            .get(i)
            .cloned()
            .unwrap_or_else(|| Location::new(path, 0));
        ConfigError::invalid(&at, "virtual_server", why)
    })?;
    Ok(Loaded {
        model,
        notes: r.notes,
    })
}

fn is_vrrp_global(keyword: &str) -> bool {
    keyword.starts_with("vrrp_") || VRRP_GLOBALS.contains(&keyword)
}

/// Reads `notify_up "CMD" [USER [GROUP]]`-style script keywords.
fn script(st: &Statement) -> Result<Script, ConfigError> {
    let command = arg(st, 0)?.to_owned();
    at_most(st, 3)?;
    let user = st.args().get(1).map(|u| RunAs {
        user: u.clone(),
        group: st.args().get(2).cloned(),
    });
    Ok(Script { command, user })
}

/// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
fn forwarding(st: &Statement) -> Result<(ForwardMethod, Option<Tunnel>), ConfigError> {
    let bad = |why: String| ConfigError::invalid(&st.location, st.keyword(), why);
    let method = match arg(st, 0)? {
        "NAT" => ForwardMethod::Masq,
        "DR" => ForwardMethod::Route,
        "TUN" => ForwardMethod::Tunnel,
        other => return Err(bad(format!("`{other}` is not NAT, DR or TUN"))),
    };
    let args = &st.args()[1..];
    if method != ForwardMethod::Tunnel {
        if let Some(extra) = args.first() {
            return Err(bad(format!("`{extra}`: only TUN takes options")));
        }
        return Ok((method, None));
    }
    let (mut kind, mut tun_port, mut checksum) = (TunnelKind::Ipip, 0u16, TunnelChecksum::None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "type" => {
                kind = match args.get(i + 1).map(String::as_str) {
                    Some("ipip") => TunnelKind::Ipip,
                    Some("gue") => TunnelKind::Gue,
                    Some("gre") => TunnelKind::Gre,
                    other => {
                        return Err(bad(format!(
                            "tunnel type `{}` is not ipip, gue or gre",
                            other.unwrap_or("")
                        )));
                    }
                };
                i += 2;
            }
            "port" => {
                let text = args.get(i + 1).map_or("", String::as_str);
                tun_port = port(st, text, false)?;
                i += 2;
            }
            "nocsum" => (checksum, i) = (TunnelChecksum::None, i + 1),
            "csum" => (checksum, i) = (TunnelChecksum::Checksum, i + 1),
            "remcsum" => (checksum, i) = (TunnelChecksum::Remote, i + 1),
            other => return Err(bad(format!("unknown tunnel option `{other}`"))),
        }
    }
    if (kind == TunnelKind::Gue) != (tun_port != 0) {
        return Err(bad(
            "a gue tunnel needs a port, and only gue takes one".into()
        ));
    }
    if kind == TunnelKind::Ipip && checksum != TunnelChecksum::None {
        return Err(bad("ipip tunnels take no checksum option".into()));
    }
    if kind == TunnelKind::Gre && checksum == TunnelChecksum::Remote {
        return Err(bad("gre tunnels take no remote checksum".into()));
    }
    Ok((method, Some(Tunnel::new(kind, tun_port, checksum))))
}

/// Settings a virtual server passes to its real servers, and a real server
/// to its checkers (keepalived's inheritance: checker, else real server,
/// else virtual server, else the default).
#[derive(Debug, Clone, Default)]
struct Inherited {
    delay_loop: Option<Duration>,
    connect_timeout: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    alpha: Option<bool>,
    inhibit: Option<bool>,
    virtualhost: Option<String>,
}

impl Inherited {
    /// Reads a timing keyword common to virtual and real servers; false if
    /// `st` is not one.
    fn read(&mut self, st: &Statement) -> Result<bool, ConfigError> {
        match st.keyword() {
            "delay_loop" => self.delay_loop = Some(single_seconds(st, 0.000_001)?),
            "connect_timeout" => self.connect_timeout = Some(single_seconds(st, 0.000_001)?),
            "retry" => self.retry = Some(single_u32(st, 1, u32::MAX)?),
            "delay_before_retry" => self.delay_before_retry = Some(single_seconds(st, 0.0)?),
            "warmup" => self.warmup = Some(single_seconds(st, 0.0)?),
            "inhibit_on_failure" => self.inhibit = Some(switch(st)?),
            "virtualhost" => self.virtualhost = Some(single(st)?.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `self` over `outer`.
    fn over(&self, outer: &Inherited) -> Inherited {
        Inherited {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
            alpha: self.alpha.or(outer.alpha),
            inhibit: self.inhibit.or(outer.inhibit),
            virtualhost: self
                .virtualhost
                .clone()
                .or_else(|| outer.virtualhost.clone()),
        }
    }
}

/// A checker block as written, before inheritance.
struct RawChecker {
    location: Location,
    keyword: String,
    kind: RawKind,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bind_address: Option<IpAddr>,
    bind_port: Option<u16>,
    bind_interface: Option<String>,
    fwmark: Option<u32>,
    timing: Inherited,
    log_all_failures: bool,
}

enum RawKind {
    Tcp,
    Http(HttpCheck),
    Udp(UdpCheck),
    Dns(DnsCheck),
    Misc {
        command: String,
        timeout: Option<Duration>,
        dynamic: bool,
        user: Option<RunAs>,
    },
    File {
        name: String,
        weight: Option<i32>,
        reverse: Option<bool>,
    },
}

/// A real server as written, before inheritance.
struct RawRealServer {
    location: Location,
    address: IpAddr,
    port: Option<u16>,
    weight: Option<u32>,
    forward: Option<(ForwardMethod, Option<Tunnel>)>,
    upper_threshold: u32,
    lower_threshold: u32,
    notify_up: Option<Script>,
    notify_down: Option<Script>,
    smtp_alert: Option<bool>,
    inherited: Inherited,
    checkers: Vec<RawChecker>,
}

impl Reader<'_> {
    fn note(&mut self, location: &Location, message: impl Into<String>) {
        self.notes.push(Note {
            location: location.clone(),
            message: message.into(),
        });
    }

    fn vrrp(&mut self, st: &Statement) -> Result<(), ConfigError> {
        if !self.options.checker_only {
            return Err(ConfigError::Vrrp {
                location: st.location.clone(),
                keyword: st.keyword().to_owned(),
            });
        }
        let name = st
            .args()
            .first()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        self.note(
            &st.location,
            format!("VRRP `{}{name}` skipped (checker only)", st.keyword()),
        );
        Ok(())
    }

    fn smtp(&mut self, st: &Statement) -> &mut Smtp {
        if !self.smtp_noted {
            self.smtp_noted = true;
            self.note(
                &st.location,
                "email settings are kept, but ipvsd sends no email alerts",
            );
        }
        self.global.smtp.get_or_insert_with(Smtp::default)
    }

    fn global_defs(&mut self, st: &Statement) -> Result<(), ConfigError> {
        for s in block(st)? {
            let k = s.keyword();
            if k != "notification_email" {
                no_block(s)?;
            }
            match k {
                "router_id" => self.global.router_id = Some(single(s)?.to_owned()),
                "lvs_timeouts" => self.global.lvs_timeouts = Some(lvs_timeouts(s)?),
                "lvs_sync_daemon" => self.global.lvs_sync_daemon = Some(sync_daemon(s)?),
                "lvs_flush" => {
                    at_most(s, 0)?;
                    self.global.lvs_flush = true;
                }
                "lvs_flush_on_stop" | "lvs_flush_onstop" => {
                    self.global.lvs_flush_on_stop = match s.args().first().map(String::as_str) {
                        None => FlushOnStop::All,
                        Some("VS") => FlushOnStop::VirtualServers,
                        Some(other) => {
                            return Err(ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{other}` (only `VS` may follow)"),
                            ));
                        }
                    };
                    at_most(s, 1)?;
                }
                "notification_email" => {
                    let mut to = Vec::new();
                    for line in block(s)? {
                        to.extend(line.words.iter().cloned());
                    }
                    self.smtp(s).to.extend(to);
                }
                "notification_email_from" => {
                    let v = single(s)?.to_owned();
                    self.smtp(s).from = Some(v);
                }
                "smtp_server" => {
                    let v = s.args().join(" ");
                    arg(s, 0)?;
                    at_most(s, 2)?;
                    self.smtp(s).server = Some(v);
                }
                "smtp_connect_timeout" => {
                    let v = single_u32(s, 1, u32::MAX)?;
                    self.smtp(s).connect_timeout = Some(v);
                }
                "smtp_helo_name" => {
                    let v = single(s)?.to_owned();
                    self.smtp(s).helo_name = Some(v);
                }
                "script_user" => {
                    at_most(s, 2)?;
                    self.global.script_user = Some(RunAs {
                        user: arg(s, 0)?.to_owned(),
                        group: s.args().get(1).cloned(),
                    });
                }
                "enable_script_security" => {
                    at_most(s, 0)?;
                    self.global.enable_script_security = true;
                }
                "lvs_notify_fifo" => {
                    self.global.lvs_notify_fifo = Some(PathBuf::from(arg(s, 0)?));
                    at_most(s, 1)?;
                }
                "lvs_notify_fifo_script" => self.global.lvs_notify_fifo_script = Some(script(s)?),
                k if is_vrrp_global(k) => self.vrrp(s)?,
                _ => return Err(unsupported(s, "in global_defs")),
            }
        }
        Ok(())
    }

    fn virtual_server_group(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let name = single(st)?.to_owned();
        let mut members = Vec::new();
        for s in block(st)? {
            no_block(s)?;
            let words: Vec<&str> = s.words.iter().map(String::as_str).collect();
            members.push(
                group::parse_member(&words).map_err(|why| {
                    ConfigError::invalid(&s.location, "virtual_server_group", why)
                })?,
            );
        }
        if members.is_empty() {
            return Err(ConfigError::invalid(
                &st.location,
                "virtual_server_group",
                format!("group {name} has no members"),
            ));
        }
        group::address_family(&members)
            .map_err(|why| ConfigError::invalid(&st.location, "virtual_server_group", why))?;
        if self.groups.insert(name.clone(), members).is_some() {
            return Err(ConfigError::invalid(
                &st.location,
                "virtual_server_group",
                format!("group {name} is defined twice"),
            ));
        }
        Ok(())
    }

    fn track_file(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let name = single(st)?.to_owned();
        let mut path = None;
        let (mut weight, mut reverse) = (1, false);
        for s in block(st)? {
            no_block(s)?;
            match s.keyword() {
                "file" => path = Some(PathBuf::from(single(s)?)),
                "weight" => (weight, reverse) = file_weight(s, 254)?,
                _ => return Err(unsupported(s, "in track_file")),
            }
        }
        let path = path.ok_or_else(|| {
            ConfigError::invalid(&st.location, "track_file", format!("{name} has no `file`"))
        })?;
        self.track_files.insert(
            name,
            TrackFile {
                path,
                weight,
                reverse,
            },
        );
        Ok(())
    }

    fn ssl(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let mut tls = TlsClient::default();
        for s in block(st)? {
            no_block(s)?;
            let v = single(s)?;
            match s.keyword() {
                "ca" => tls.ca = Some(v.into()),
                "certificate" => tls.certificate = Some(v.into()),
                "key" => tls.key = Some(v.into()),
                "password" => tls.password = Some(v.into()),
                _ => return Err(unsupported(s, "in SSL")),
            }
        }
        self.global.tls = Some(tls);
        Ok(())
    }

    fn virtual_server(&mut self, st: &Statement) -> Result<Option<VirtualServer>, ConfigError> {
        let loc = &st.location;
        let bad = |why: String| ConfigError::invalid(loc, "virtual_server", why);
        let target = match st.args() {
            [kw, mark] if kw == "fwmark" => VirtualTarget::Fwmark {
                mark: u32::try_from(number(st, mark, 0, u64::from(u32::MAX))?)
                    .map_err(|_| bad("mark too large".into()))?,
            },
            [kw, name] if kw == "group" => {
                let members = self
                    .groups
                    .get(name)
                    .cloned()
                    .ok_or_else(|| bad(format!("no virtual_server_group named {name}")))?;
                VirtualTarget::Group {
                    name: name.clone(),
                    members,
                }
            }
            [address] => VirtualTarget::Address {
                address: ip(st, address)?,
                port: 0,
            },
            [address, p] => VirtualTarget::Address {
                address: ip(st, address)?,
                port: port(st, p, true)?,
            },
            _ => return Err(bad("is `IP PORT`, `fwmark N` or `group NAME`".into())),
        };
        let mut family = match &target {
            VirtualTarget::Address { address, .. } => Some(AddressFamily::of(address)),
            VirtualTarget::Group { members, .. } => group::address_family(members).map_err(bad)?,
            VirtualTarget::Fwmark { .. } => None,
        };
        let mut inherited = Inherited::default();
        let mut protocol = Protocol::Tcp;
        let mut scheduler = Scheduler::default();
        let mut flag_names: Vec<&Statement> = Vec::new();
        let mut one_packet = false;
        let mut timeout = None;
        let mut granularity = None;
        let mut engine = None;
        let mut forward = None;
        let (mut quorum, mut hysteresis) = (1, 0);
        let (mut quorum_up, mut quorum_down) = (None, None);
        let (mut alpha, mut omega, mut ha_suspend) = (false, false, false);
        let mut weight = None;
        let mut sorry: Option<(Location, IpAddr, Option<u16>)> = None;
        let mut sorry_inhibit = false;
        let mut sorry_forward = None;
        let (mut smtp_alert, mut snmp_name) = (None, None);
        let mut raw_servers = Vec::new();
        for s in block(st)? {
            if s.keyword() != "real_server" {
                no_block(s)?;
            }
            if inherited.read(s)? {
                continue;
            }
            match s.keyword() {
                "ip_family" => {
                    let f = match single(s)? {
                        "inet" => AddressFamily::Ipv4,
                        "inet6" => AddressFamily::Ipv6,
                        other => {
                            return Err(ConfigError::invalid(
                                &s.location,
                                "ip_family",
                                format!("`{other}` is not inet or inet6"),
                            ));
                        }
                    };
                    if family.is_some_and(|g| g != f) {
                        return Err(ConfigError::invalid(
                            &s.location,
                            "ip_family",
                            "conflicts with the virtual server's address",
                        ));
                    }
                    family = Some(f);
                }
                "lb_algo" | "lvs_sched" => {
                    let name = single(s)?;
                    if !SCHEDULERS.contains(&name) {
                        return Err(ConfigError::invalid(
                            &s.location,
                            s.keyword(),
                            format!("`{name}` is not one of {}", SCHEDULERS.join(", ")),
                        ));
                    }
                    scheduler = Scheduler::from_name(name);
                }
                "hashed" => {
                    at_most(s, 0)?;
                    self.note(
                        &s.location,
                        "`hashed` has no effect (the kernel ignores the flag)",
                    );
                }
                "ops" => {
                    at_most(s, 0)?;
                    one_packet = true;
                }
                "flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback" | "mh-port"
                | "mh-fallback" => {
                    at_most(s, 0)?;
                    flag_names.push(s);
                }
                "lb_kind" | "lvs_method" => forward = Some(forwarding(s)?),
                "persistence_engine" => engine = Some(single(s)?.to_owned()),
                "persistence_timeout" => {
                    at_most(s, 1)?;
                    timeout = Some(match s.args().first() {
                        None => DEFAULT_PERSISTENCE_TIMEOUT,
                        Some(t) => u32::try_from(number(s, t, 1, u64::from(ipvs::MAX_TIMEOUT))?)
                            .unwrap_or(ipvs::MAX_TIMEOUT),
                    });
                }
                "persistence_granularity" => granularity = Some(s),
                "protocol" => {
                    protocol = match single(s)?.to_ascii_uppercase().as_str() {
                        "TCP" => Protocol::Tcp,
                        "UDP" => Protocol::Udp,
                        "SCTP" => Protocol::Sctp,
                        other => {
                            return Err(ConfigError::invalid(
                                &s.location,
                                "protocol",
                                format!("`{other}` is not TCP, UDP or SCTP"),
                            ));
                        }
                    }
                }
                "ha_suspend" => {
                    at_most(s, 0)?;
                    ha_suspend = true;
                }
                "smtp_alert" => smtp_alert = Some(switch(s)?),
                "snmp_name" => snmp_name = Some(single(s)?.to_owned()),
                "alpha" => {
                    at_most(s, 0)?;
                    alpha = true;
                }
                "omega" => {
                    at_most(s, 0)?;
                    omega = true;
                }
                "quorum" => quorum = single_u32(s, 1, u32::MAX)?,
                "hysteresis" => hysteresis = single_u32(s, 0, u32::MAX)?,
                "quorum_up" => quorum_up = Some(script(s)?),
                "quorum_down" => quorum_down = Some(script(s)?),
                "weight" => weight = Some(single_u32(s, 0, WEIGHT_LIMIT)?),
                "sorry_server" => {
                    at_most(s, 2)?;
                    let address = ip(s, arg(s, 0)?)?;
                    let p = s.args().get(1).map(|p| port(s, p, true)).transpose()?;
                    sorry = Some((s.location.clone(), address, p));
                }
                "sorry_server_inhibit" => {
                    at_most(s, 0)?;
                    if sorry.is_none() {
                        return Err(ConfigError::invalid(
                            &s.location,
                            "sorry_server_inhibit",
                            "comes before or without `sorry_server`",
                        ));
                    }
                    sorry_inhibit = true;
                }
                "sorry_server_lvs_method" => {
                    if sorry.is_none() {
                        return Err(ConfigError::invalid(
                            &s.location,
                            "sorry_server_lvs_method",
                            "comes before or without `sorry_server`",
                        ));
                    }
                    sorry_forward = Some(forwarding(s)?);
                }
                "real_server" => raw_servers.push(self.real_server(s)?),
                _ => return Err(unsupported(s, "in virtual_server")),
            }
        }
        inherited.alpha = Some(alpha);
        // The family of a mark service: ip_family, else its real servers'
        // (those not tunnelled first), else IPv4 (keepalived's vs_end_handler).
        let family = family
            .or_else(|| {
                raw_servers
                    .iter()
                    .find(|r| r.forward.is_none_or(|f| f.0 != ForwardMethod::Tunnel))
                    .or(raw_servers.first())
                    .map(|r| AddressFamily::of(&r.address))
            })
            .unwrap_or(AddressFamily::Ipv4);
        let mut sched_flags = SchedFlags::NONE;
        for s in flag_names {
            let k = s.keyword();
            let fits = match k {
                "sh-port" | "sh-fallback" => scheduler == Scheduler::SourceHashing,
                "mh-port" | "mh-fallback" => scheduler == Scheduler::MaglevHashing,
                _ => true,
            };
            if !fits {
                return Err(ConfigError::invalid(
                    &s.location,
                    k,
                    format!("applies only to the {} scheduler", &k[..2]),
                ));
            }
            sched_flags = sched_flags | SchedFlags::from_name(k).unwrap_or(SchedFlags::NONE);
        }
        let persistence = match (timeout, granularity) {
            (None, None) => None,
            (t, None) => t.map(Persistence::new),
            (t, Some(g)) => {
                let text = single(g)?;
                let mask = match family {
                    // keepalived reads an IPv4 granularity as an address
                    // (a dotted netmask), an IPv6 one as a prefix length.
                    AddressFamily::Ipv4 => text.parse().ok().map(Netmask::Ipv4),
                    AddressFamily::Ipv6 => text
                        .parse::<u8>()
                        .ok()
                        .and_then(|p| Netmask::from_prefix(AddressFamily::Ipv6, p).ok()),
                }
                .ok_or_else(|| {
                    ConfigError::invalid(
                        &g.location,
                        "persistence_granularity",
                        format!("`{text}` is not a {family} netmask"),
                    )
                })?;
                Some(Persistence::new(t.unwrap_or(DEFAULT_PERSISTENCE_TIMEOUT)).with_netmask(mask))
            }
        };
        let (vs_forward, vs_tunnel) = forward.unwrap_or((ForwardMethod::Masq, None));
        let services = match &target {
            VirtualTarget::Address { address, port } => {
                vec![ServiceKey::from_socket(
                    protocol,
                    SocketAddr::new(*address, *port),
                )]
            }
            VirtualTarget::Fwmark { mark } => vec![ServiceKey::fwmark(family, *mark)],
            VirtualTarget::Group { members, .. } => {
                group::expand(members, protocol, family).map_err(bad)?
            }
        };
        let mut vs = VirtualServer {
            target,
            services,
            family,
            protocol,
            scheduler,
            sched_flags,
            one_packet,
            persistence,
            persistence_engine: engine,
            forward: vs_forward,
            tunnel: vs_tunnel,
            quorum,
            hysteresis,
            quorum_up,
            quorum_down,
            alpha,
            omega,
            ha_suspend,
            virtualhost: inherited.virtualhost.clone(),
            delay_loop: inherited.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP),
            smtp_alert,
            snmp_name,
            sorry_server: None,
            real_servers: Vec::new(),
        };
        if let Some((sloc, address, sport)) = sorry {
            let (f, t) = sorry_forward.unwrap_or((vs.forward, vs.tunnel));
            let port = self.server_port(&vs, &sloc, sport, f, "sorry server");
            vs.sorry_server = Some(SorryServer {
                address,
                port,
                forward: f,
                tunnel: t,
                inhibit: sorry_inhibit,
            });
        }
        let weight = weight.unwrap_or(1);
        for raw in raw_servers {
            let rs = self.resolve_real_server(&vs, &inherited, weight, raw)?;
            vs.real_servers.push(rs);
        }
        if vs.real_servers.is_empty() {
            // keepalived ignores such a virtual server (vs_end_handler).
            self.note(
                loc,
                format!(
                    "virtual server {} has no real servers: ignored, as keepalived does",
                    vs.name()
                ),
            );
            return Ok(None);
        }
        Ok(Some(vs))
    }

    /// The port of a real or sorry server, resolved as keepalived does
    /// (`check_data.c`): absent on an address service, the service's; with
    /// DR or TUN, always the service's (noted when it differs); on a mark
    /// service with DR or TUN, 0.
    fn server_port(
        &mut self,
        vs: &VirtualServer,
        loc: &Location,
        given: Option<u16>,
        forward: ForwardMethod,
        what: &str,
    ) -> u16 {
        match &vs.target {
            VirtualTarget::Address { port, .. } => match given {
                None => *port,
                Some(p) if forward != ForwardMethod::Masq && p != *port => {
                    self.note(
                        loc,
                        format!("{what} port {p} differs from the virtual server's {port}: set to {port}, as keepalived does"),
                    );
                    *port
                }
                Some(p) => p,
            },
            VirtualTarget::Fwmark { .. } => match given {
                Some(p) if forward != ForwardMethod::Masq && p != 0 => {
                    self.note(
                        loc,
                        format!("{what} of a fwmark service: port {p} cleared, as keepalived does"),
                    );
                    0
                }
                other => other.unwrap_or(0),
            },
            VirtualTarget::Group { .. } => match given {
                Some(p) if forward != ForwardMethod::Masq && p != 0 => {
                    self.note(
                        loc,
                        format!("{what} of a group with {forward} forwarding: port {p} ignored (each service keeps its own), as keepalived does"),
                    );
                    0
                }
                other => other.unwrap_or(0),
            },
        }
    }

    fn real_server(&mut self, st: &Statement) -> Result<RawRealServer, ConfigError> {
        at_most(st, 2)?;
        let address = ip(st, arg(st, 0)?)?;
        let p = st.args().get(1).map(|p| port(st, p, true)).transpose()?;
        let mut rs = RawRealServer {
            location: st.location.clone(),
            address,
            port: p,
            weight: None,
            forward: None,
            upper_threshold: 0,
            lower_threshold: 0,
            notify_up: None,
            notify_down: None,
            smtp_alert: None,
            inherited: Inherited::default(),
            checkers: Vec::new(),
        };
        for s in block(st)? {
            let k = s.keyword();
            if !k.ends_with("_CHECK") && !k.ends_with("_GET") {
                no_block(s)?;
            }
            if rs.inherited.read(s)? {
                continue;
            }
            match k {
                "weight" => rs.weight = Some(single_u32(s, 0, WEIGHT_LIMIT)?),
                "lvs_method" => rs.forward = Some(forwarding(s)?),
                "uthreshold" => rs.upper_threshold = single_u32(s, 0, u32::MAX)?,
                "lthreshold" => rs.lower_threshold = single_u32(s, 0, u32::MAX)?,
                "notify_up" => rs.notify_up = Some(script(s)?),
                "notify_down" => rs.notify_down = Some(script(s)?),
                "alpha" => rs.inherited.alpha = Some(switch(s)?),
                "smtp_alert" => rs.smtp_alert = Some(switch(s)?),
                "snmp_name" => {
                    single(s)?;
                }
                "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "UDP_CHECK" | "DNS_CHECK" | "MISC_CHECK"
                | "FILE_CHECK" => rs.checkers.push(self.checker(s)?),
                _ => return Err(unsupported(s, "in real_server")),
            }
        }
        Ok(rs)
    }

    fn checker(&mut self, st: &Statement) -> Result<RawChecker, ConfigError> {
        at_most(st, 0)?;
        let keyword = st.keyword().to_owned();
        let context = format!("in {keyword}");
        let mut ck = RawChecker {
            location: st.location.clone(),
            keyword: keyword.clone(),
            kind: match keyword.as_str() {
                "TCP_CHECK" => RawKind::Tcp,
                "HTTP_GET" | "SSL_GET" => RawKind::Http(HttpCheck {
                    tls: keyword == "SSL_GET",
                    urls: Vec::new(),
                    protocol: HttpProtocol::default(),
                    enable_sni: false,
                    sni_name: None,
                    fast_recovery: false,
                    tls_compliant: false,
                }),
                "UDP_CHECK" => RawKind::Udp(UdpCheck {
                    payload: Vec::new(),
                    require_reply: false,
                    reply_pattern: None,
                    min_reply_length: 0,
                    max_reply_length: 255,
                }),
                "DNS_CHECK" => RawKind::Dns(DnsCheck {
                    query_type: DnsType::default(),
                    name: ".".into(),
                }),
                "MISC_CHECK" => RawKind::Misc {
                    command: String::new(),
                    timeout: None,
                    dynamic: false,
                    user: None,
                },
                _ => RawKind::File {
                    name: String::new(),
                    weight: None,
                    reverse: None,
                },
            },
            connect_ip: None,
            connect_port: None,
            bind_address: None,
            bind_port: None,
            bind_interface: None,
            fwmark: None,
            timing: Inherited::default(),
            log_all_failures: false,
        };
        let connects = !matches!(ck.kind, RawKind::Misc { .. } | RawKind::File { .. });
        let timed = !matches!(ck.kind, RawKind::File { .. });
        for s in block(st)? {
            let k = s.keyword();
            if k != "url" {
                no_block(s)?;
            }
            // Options common to every checker (check_api.c).
            let common = match k {
                "connect_ip" if connects => {
                    ck.connect_ip = Some(ip(s, single(s)?)?);
                    true
                }
                "connect_port" if connects => {
                    ck.connect_port = Some(port(s, single(s)?, false)?);
                    true
                }
                "bindto" if connects => {
                    ck.bind_address = Some(ip(s, single(s)?)?);
                    true
                }
                "bind_port" if connects => {
                    ck.bind_port = Some(port(s, single(s)?, false)?);
                    true
                }
                "bind_if" if connects => {
                    ck.bind_interface = Some(single(s)?.to_owned());
                    true
                }
                "connect_timeout" if connects => {
                    ck.timing.connect_timeout = Some(single_seconds(s, 0.000_001)?);
                    true
                }
                "fwmark" if connects => {
                    ck.fwmark = Some(single_u32(s, 0, u32::MAX)?);
                    true
                }
                "retry" if timed => {
                    ck.timing.retry = Some(single_u32(s, 0, u32::MAX)?);
                    true
                }
                "delay_before_retry" if timed => {
                    ck.timing.delay_before_retry = Some(single_seconds(s, 0.0)?);
                    true
                }
                "warmup" if timed => {
                    ck.timing.warmup = Some(single_seconds(s, 0.0)?);
                    true
                }
                "delay_loop" if timed => {
                    ck.timing.delay_loop = Some(single_seconds(s, 0.000_001)?);
                    true
                }
                "alpha" if timed => {
                    ck.timing.alpha = Some(switch(s)?);
                    true
                }
                "log_all_failures" if timed => {
                    ck.log_all_failures = switch(s)?;
                    true
                }
                _ => false,
            };
            if common {
                continue;
            }
            match &mut ck.kind {
                RawKind::Tcp => return Err(unsupported(s, &context)),
                RawKind::Http(h) => match k {
                    "nb_get_retry" => ck.timing.retry = Some(single_u32(s, 0, u32::MAX)?),
                    "virtualhost" => ck.timing.virtualhost = Some(single(s)?.to_owned()),
                    "http_protocol" => {
                        let v = single(s)?;
                        h.protocol = HttpProtocol::from_name(v).ok_or_else(|| {
                            ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{v}` is not 1.0, 1.0C or 1.1"),
                            )
                        })?;
                    }
                    "enable_sni" => h.enable_sni = switch(s)?,
                    "sni_name" => h.sni_name = Some(single(s)?.to_owned()),
                    "fast_recovery" => h.fast_recovery = switch(s)?,
                    "tls_compliant" => h.tls_compliant = switch(s)?,
                    "url" => h.urls.push(url(s)?),
                    _ => return Err(unsupported(s, &context)),
                },
                RawKind::Udp(u) => match k {
                    "payload" => u.payload = hex_bytes(s, &hex_words(s, false)?)?,
                    "require_reply" => {
                        u.require_reply = true;
                        if !s.args().is_empty() {
                            u.reply_pattern = Some(hex_words(s, true)?);
                        }
                    }
                    "min_reply_length" => u.min_reply_length = single_u32(s, 0, u32::MAX)?,
                    "max_reply_length" => u.max_reply_length = single_u32(s, 0, u32::MAX)?,
                    _ => return Err(unsupported(s, &context)),
                },
                RawKind::Dns(d) => match k {
                    "type" => {
                        let v = single(s)?;
                        d.query_type = DnsType::from_name(v).ok_or_else(|| {
                            ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{v}` is not A, NS, CNAME, SOA, MX, TXT or AAAA"),
                            )
                        })?;
                    }
                    "name" => d.name = single(s)?.to_owned(),
                    _ => return Err(unsupported(s, &context)),
                },
                RawKind::Misc {
                    command,
                    timeout,
                    dynamic,
                    user,
                } => match k {
                    "misc_path" => *command = single(s)?.to_owned(),
                    "misc_timeout" => *timeout = Some(single_seconds(s, 0.0)?),
                    "misc_dynamic" => *dynamic = switch(s)?,
                    "user" => *user = Some(run_as(s)?),
                    _ => return Err(unsupported(s, &context)),
                },
                RawKind::File {
                    name,
                    weight,
                    reverse,
                } => match k {
                    "track_file" => *name = single(s)?.to_owned(),
                    "weight" => {
                        let (w, r) = file_weight(s, i32::MAX)?;
                        *weight = Some(w);
                        *reverse = Some(r);
                    }
                    _ => return Err(unsupported(s, &context)),
                },
            }
        }
        match &ck.kind {
            RawKind::Misc { command, .. } if command.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs `misc_path`",
                ));
            }
            RawKind::File { name, .. } if name.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs `track_file`",
                ));
            }
            RawKind::Http(h) if h.urls.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs a `url` block",
                ));
            }
            RawKind::Udp(u) if u.min_reply_length > u.max_reply_length => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "min_reply_length is above max_reply_length: it would always fail",
                ));
            }
            _ => {}
        }
        Ok(ck)
    }

    fn resolve_real_server(
        &mut self,
        vs: &VirtualServer,
        vs_inherited: &Inherited,
        vs_weight: u32,
        raw: RawRealServer,
    ) -> Result<RealServer, ConfigError> {
        let (forward, tunnel) = raw.forward.unwrap_or((vs.forward, vs.tunnel));
        if forward != ForwardMethod::Tunnel && AddressFamily::of(&raw.address) != vs.family {
            return Err(ConfigError::invalid(
                &raw.location,
                "real_server",
                format!(
                    "{} is not {} like its virtual server (only TUN may mix families)",
                    raw.address, vs.family
                ),
            ));
        }
        let port = self.server_port(vs, &raw.location, raw.port, forward, "real server");
        let inherited = raw.inherited.over(vs_inherited);
        let mut rs = RealServer {
            address: raw.address,
            port,
            weight: raw.weight.unwrap_or(vs_weight),
            forward,
            tunnel,
            inhibit_on_failure: inherited.inhibit.unwrap_or(false),
            alpha: inherited.alpha.unwrap_or(false),
            upper_threshold: raw.upper_threshold,
            lower_threshold: raw.lower_threshold,
            notify_up: raw.notify_up,
            notify_down: raw.notify_down,
            virtualhost: raw.inherited.virtualhost.clone(),
            smtp_alert: raw.smtp_alert,
            checkers: Vec::new(),
        };
        for ck in raw.checkers {
            let checker = self.resolve_checker(&rs, &inherited, vs.delay_loop, ck)?;
            rs.checkers.push(checker);
        }
        Ok(rs)
    }

    fn resolve_checker(
        &self,
        rs: &RealServer,
        inherited: &Inherited,
        vs_delay_loop: Duration,
        ck: RawChecker,
    ) -> Result<Checker, ConfigError> {
        let t = ck.timing.over(inherited);
        let delay_loop = t.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
        // Kind defaults (check_api.c, check_http.c, check_dns.c, check_misc.c).
        let (default_retry, default_dbr) = match &ck.kind {
            RawKind::Http(_) => (1, Duration::from_secs(3)),
            RawKind::Dns(_) => (3, delay_loop),
            RawKind::Misc { .. } => (0, Duration::from_secs(1)),
            _ => (1, Duration::from_secs(1)),
        };
        let timing = Timing {
            delay_loop,
            retry: t.retry.unwrap_or(default_retry),
            delay_before_retry: t.delay_before_retry.unwrap_or(default_dbr),
            warmup: t.warmup.unwrap_or(delay_loop),
            alpha: t.alpha.unwrap_or(rs.alpha),
            log_all_failures: ck.log_all_failures,
            rise: self.global.rise,
            fall: self.global.fall,
            jitter: jitter(delay_loop, self.global.check_jitter_percent),
        };
        let connects = !matches!(ck.kind, RawKind::Misc { .. } | RawKind::File { .. });
        let connect = if connects {
            let to = SocketAddr::new(
                ck.connect_ip.unwrap_or(rs.address),
                ck.connect_port.unwrap_or(rs.port),
            );
            if to.port() == 0 {
                return Err(ConfigError::invalid(
                    &ck.location,
                    &ck.keyword,
                    "needs `connect_port`: its real server has no port",
                ));
            }
            if let Some(b) = ck.bind_address
                && AddressFamily::of(&b) != AddressFamily::of(&to.ip())
            {
                return Err(ConfigError::invalid(
                    &ck.location,
                    &ck.keyword,
                    format!(
                        "bindto {b} and the address probed {} differ in family",
                        to.ip()
                    ),
                ));
            }
            Some(Connect {
                to,
                bind_address: ck.bind_address,
                bind_port: ck.bind_port,
                bind_interface: ck.bind_interface,
                timeout: t.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                fwmark: ck.fwmark,
            })
        } else {
            None
        };
        let kind = match ck.kind {
            RawKind::Tcp => CheckKind::Tcp,
            RawKind::Http(mut h) => {
                for u in &mut h.urls {
                    if u.virtualhost.is_none() {
                        u.virtualhost = t.virtualhost.clone();
                    }
                }
                CheckKind::Http(h)
            }
            RawKind::Udp(u) => CheckKind::Udp(u),
            RawKind::Dns(d) => CheckKind::Dns(d),
            RawKind::Misc {
                command,
                timeout,
                dynamic,
                user,
            } => CheckKind::Misc(MiscCheck {
                command,
                // keepalived (check_misc.c): no misc_timeout, the virtual
                // server's delay loop.
                timeout: timeout.filter(|d| !d.is_zero()).unwrap_or(vs_delay_loop),
                dynamic,
                user,
            }),
            RawKind::File {
                name,
                weight,
                reverse,
            } => {
                let tf = self.track_files.get(&name).ok_or_else(|| {
                    ConfigError::invalid(
                        &ck.location,
                        "track_file",
                        format!("no track_file block named {name}"),
                    )
                })?;
                CheckKind::File(FileCheck {
                    path: tf.path.clone(),
                    weight: weight.unwrap_or(tf.weight),
                    reverse: reverse.unwrap_or(tf.reverse),
                    name,
                })
            }
        };
        Ok(Checker {
            kind,
            connect,
            timing,
        })
    }
}

/// `weight N [reverse]` of `track_file` (-254..=254, `track_file.c`) and
/// `FILE_CHECK` (±`IPVS_WEIGHT_LIMIT`, `check_file.c`): `|N| <= limit`.
fn file_weight(s: &Statement, limit: i32) -> Result<(i32, bool), ConfigError> {
    at_most(s, 2)?;
    let text = arg(s, 0)?;
    let w = text
        .parse::<i32>()
        .ok()
        .filter(|w| (-limit..=limit).contains(w))
        .ok_or_else(|| {
            ConfigError::invalid(
                &s.location,
                "weight",
                format!("`{text}` is not in -{limit}..={limit}"),
            )
        })?;
    let reverse = match s.args().get(1).map(String::as_str) {
        None => false,
        Some("reverse") => true,
        Some(other) => {
            return Err(ConfigError::invalid(
                &s.location,
                "weight",
                format!("`{other}` (only `reverse` may follow)"),
            ));
        }
    };
    Ok((w, reverse))
}

/// `user NAME [[:]GROUP]` (also `NAME:GROUP`), keepalived.conf(5) MISC_CHECK.
fn run_as(s: &Statement) -> Result<RunAs, ConfigError> {
    at_most(s, 2)?;
    let first = arg(s, 0)?;
    let (user, group) = match (first.split_once(':'), s.args().get(1)) {
        (Some((u, g)), None) => (u, (!g.is_empty()).then(|| g.to_owned())),
        (None, Some(g)) => (first, Some(g.trim_start_matches(':').to_owned())),
        (None, None) => (first, None),
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                &s.location,
                "user",
                "is `NAME [GROUP]` or `NAME:GROUP`",
            ));
        }
    };
    if user.is_empty() || group.as_deref() == Some("") {
        return Err(ConfigError::invalid(
            &s.location,
            "user",
            "an empty user or group name",
        ));
    }
    Ok(RunAs {
        user: user.to_owned(),
        group,
    })
}

/// keepalived's free-form hex (keepalived.conf(5), UDP_CHECK): the words
/// joined, each read in pairs of digits, a word's odd last digit a byte of
/// its own (`Ab12f 3` is `ab 12 0f 03`); `x` (a nibble matching anything)
/// only where `wildcards`. The result is even-length lowercase hex.
fn hex_words(s: &Statement, wildcards: bool) -> Result<String, ConfigError> {
    arg(s, 0)?;
    let mut out = String::new();
    for word in s.args() {
        let lower = word.to_ascii_lowercase();
        if lower.is_empty()
            || !lower
                .chars()
                .all(|c| c.is_ascii_hexdigit() || (wildcards && c == 'x'))
        {
            return Err(ConfigError::invalid(
                &s.location,
                s.keyword(),
                format!(
                    "`{word}` is not hex digits{}",
                    if wildcards { " (x for any nibble)" } else { "" }
                ),
            ));
        }
        let digits: Vec<char> = lower.chars().collect();
        for pair in digits.chunks(2) {
            if let [one] = pair {
                out.push('0');
                out.push(*one);
            } else {
                out.extend(pair);
            }
        }
    }
    Ok(out)
}

/// A `url { ... }` block.
fn url(st: &Statement) -> Result<Url, ConfigError> {
    at_most(st, 0)?;
    let mut u = Url {
        path: String::new(),
        digest: None,
        status_codes: Vec::new(),
        virtualhost: None,
        regex: None,
    };
    let mut regex_opts: Vec<&Statement> = Vec::new();
    for s in block(st)? {
        no_block(s)?;
        let k = s.keyword();
        match k {
            "path" => u.path = single(s)?.to_owned(),
            "digest" => {
                let d = single(s)?;
                if d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(ConfigError::invalid(
                        &s.location,
                        k,
                        format!("`{d}` is not an MD5 digest (32 hex digits)"),
                    ));
                }
                u.digest = Some(d.to_ascii_lowercase());
            }
            "status_code" => {
                arg(s, 0)?;
                for w in s.args() {
                    u.status_codes.push(status_range(s, w)?);
                }
            }
            "virtualhost" => u.virtualhost = Some(single(s)?.to_owned()),
            "regex" => {
                u.regex = Some(BodyRegex {
                    pattern: single(s)?.to_owned(),
                    no_match: false,
                    options: Vec::new(),
                    min_offset: None,
                    max_offset: None,
                    stack: None,
                });
            }
            "regex_no_match" | "regex_options" | "regex_min_offset" | "regex_max_offset"
            | "regex_stack" => regex_opts.push(s),
            // keepalived accepts it here as on the checker; it is kept per checker.
            "tls_compliant" => {
                switch(s)?;
            }
            _ => return Err(unsupported(s, "in url")),
        }
    }
    if u.path.is_empty() {
        return Err(ConfigError::invalid(&st.location, "url", "needs a `path`"));
    }
    for s in regex_opts {
        let Some(r) = u.regex.as_mut() else {
            return Err(ConfigError::invalid(
                &s.location,
                s.keyword(),
                "needs a `regex` in the same url",
            ));
        };
        match s.keyword() {
            "regex_no_match" => {
                at_most(s, 0)?;
                r.no_match = true;
            }
            "regex_options" => r.options.extend(s.args().iter().cloned()),
            "regex_min_offset" => r.min_offset = Some(number(s, single(s)?, 0, u64::MAX)?),
            "regex_max_offset" => r.max_offset = Some(number(s, single(s)?, 0, u64::MAX)?),
            _ => r.stack = Some(number(s, single(s)?, 0, u64::MAX)?),
        }
    }
    if u.status_codes.is_empty() {
        // keepalived.conf(5): status_code defaults to 200-299.
        u.status_codes.push((200, 299));
    }
    Ok(u)
}

/// `200` or `200-299`.
fn status_range(s: &Statement, text: &str) -> Result<(u16, u16), ConfigError> {
    let code = |t: &str| {
        t.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| {
                ConfigError::invalid(
                    &s.location,
                    "status_code",
                    format!("`{text}` is not a status code (100-599) or a range of them"),
                )
            })
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (code(a)?, code(b)?),
        None => {
            let c = code(text)?;
            (c, c)
        }
    };
    if a > b {
        return Err(ConfigError::invalid(
            &s.location,
            "status_code",
            format!("`{text}`: the range runs backwards"),
        ));
    }
    Ok((a, b))
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`, in seconds.
fn lvs_timeouts(s: &Statement) -> Result<Timeouts, ConfigError> {
    let mut t = Timeouts::default();
    let args = s.args();
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Err(ConfigError::invalid(
            &s.location,
            "lvs_timeouts",
            "is `[tcp N] [tcpfin N] [udp N]`",
        ));
    }
    for pair in args.chunks(2) {
        let v = u32::try_from(number(s, &pair[1], 0, u64::from(ipvs::MAX_TIMEOUT))?)
            .unwrap_or(ipvs::MAX_TIMEOUT);
        match pair[0].as_str() {
            "tcp" => t.tcp = v,
            "tcpfin" => t.tcp_fin = v,
            "udp" => t.udp = v,
            other => {
                return Err(ConfigError::invalid(
                    &s.location,
                    "lvs_timeouts",
                    format!("`{other}` is not tcp, tcpfin or udp"),
                ));
            }
        }
    }
    Ok(t)
}

/// `lvs_sync_daemon IF [inst NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`
/// (also keepalived's old `IF NAME [ID]` form).
fn sync_daemon(s: &Statement) -> Result<SyncDaemonConfig, ConfigError> {
    let mut d = SyncDaemonConfig {
        interface: arg(s, 0)?.to_owned(),
        vrrp_instance: None,
        sync_id: 0,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
    };
    let args = s.args();
    let mut i = 1;
    while i < args.len() {
        let key = args[i].as_str();
        let value = args.get(i + 1).map(String::as_str);
        let need = || {
            value.ok_or_else(|| {
                ConfigError::invalid(
                    &s.location,
                    "lvs_sync_daemon",
                    format!("`{key}` needs a value"),
                )
            })
        };
        let narrow = |n: u64| u16::try_from(n).unwrap_or(u16::MAX);
        match key {
            "inst" => d.vrrp_instance = Some(need()?.to_owned()),
            "id" => d.sync_id = u8::try_from(number(s, need()?, 0, 255)?).unwrap_or(0),
            "maxlen" => d.max_len = Some(narrow(number(s, need()?, 1, 65535 - 20 - 8)?)),
            "port" => d.port = Some(port(s, need()?, false)?),
            "ttl" => d.ttl = Some(u8::try_from(number(s, need()?, 1, 255)?).unwrap_or(1)),
            "group" => {
                let g = ip(s, need()?)?;
                if !g.is_multicast() {
                    return Err(ConfigError::invalid(
                        &s.location,
                        "lvs_sync_daemon",
                        format!("group {g} is not a multicast address"),
                    ));
                }
                d.group = Some(g);
            }
            // The old positional form: `IF INSTANCE [SYNC_ID]`.
            _ if i == 1 => {
                d.vrrp_instance = Some(key.to_owned());
                i += 1;
                continue;
            }
            _ if i == 2 && d.vrrp_instance.is_some() => {
                d.sync_id = u8::try_from(number(s, key, 0, 255)?).unwrap_or(0);
                i += 1;
                continue;
            }
            other => {
                return Err(ConfigError::invalid(
                    &s.location,
                    "lvs_sync_daemon",
                    format!("unknown option `{other}`"),
                ));
            }
        }
        i += 2;
    }
    Ok(d)
}
