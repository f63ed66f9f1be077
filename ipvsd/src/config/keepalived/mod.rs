//! keepalived.conf into the model: the LVS part of a keepalived
//! configuration (`global_defs`, `virtual_server_group`, `virtual_server`,
//! `real_server`, `sorry_server`, the checkers, `track_file`, `SSL`), with
//! keepalived's defaults and inheritance (keepalived.conf(5); the keyword
//! tables of keepalived's `check_parser.c`, `check_api.c`, `check_*.c`,
//! `global_parser.c`). A keyword it does not support is an error naming
//! file, line and keyword. The VRRP part (`vrrp_instance`, `vrrp_script`,
//! `vrrp_sync_group`, the VRRP globals) is read by [`vrrp`] into
//! [`Model::vrrp`], unless the reader runs checker-only, when VRRP blocks
//! are skipped whole and noted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipvs::{
    AddressFamily, ForwardMethod, Netmask, Persistence, Protocol, SchedFlags, Scheduler,
    ServiceKey, Tunnel,
};

use super::checker::RunAs;
use super::error::{ConfigError, Location, Note};
use super::group;
use super::lexer::{self, LexOptions, Statement};
use super::model::{
    FlushOnStop, Global, GroupMember, Model, RealServer, Script, Smtp, SorryServer, TlsClient,
    VirtualServer, VirtualTarget,
};
use super::validate;
use super::values::{
    arg, at_most, block, ip, no_block, number, port, single, single_seconds, single_u32, switch,
    unsupported,
};

mod args;
mod checkers;
mod pcre;
mod vrrp;

pub(crate) use pcre::translate as pcre_to_regex;

use args::{KnownUsers, forwarding, lvs_timeouts, script, sync_daemon};
use checkers::{RawChecker, file_weight};

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

/// Top-level blocks that belong to VRRP: `vrrp_instance`, `vrrp_script`
/// and `vrrp_sync_group` are read, the others refused as unsupported VRRP
/// (all skipped checker-only).
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

/// `global_defs` keywords that belong to VRRP (besides every `vrrp_*`),
/// skipped checker-only; see [`vrrp`] for which are read.
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
    /// Skip VRRP blocks and keywords (noting each) instead of reading
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
/// for a keyword ipvsd does not support, [`ConfigError::Vrrp`] for a VRRP
/// keyword it does not support (without `checker_only`),
/// [`ConfigError::Invalid`] for a bad value (VRRP ones included),
/// [`ConfigError::Syntax`] or [`ConfigError::Read`].
pub fn read_keepalived(path: &Path, options: &KeepalivedOptions) -> Result<Loaded, ConfigError> {
    let tree = lexer::parse_file(path, &lex_options(options))?;
    interpret(tree, path, options)
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
    interpret(tree, name, options)
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
    users: KnownUsers,
    vrrp: vrrp::VrrpReader,
    /// The last `global_defs` (the file when none), for errors about it.
    globals_at: Location,
}

/// The tree into the model; each virtual server's statements are dropped
/// once read, so a large file's tree and model are not both held whole.
fn interpret(
    tree: Vec<Statement>,
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
        users: KnownUsers::default(),
        vrrp: vrrp::VrrpReader::default(),
        globals_at: Location::new(path, 0),
    };
    let globals_at = tree
        .iter()
        .rfind(|st| st.keyword() == "global_defs")
        .map_or_else(|| Location::new(path, 0), |st| st.location.clone());
    r.globals_at = globals_at.clone();
    // First the blocks virtual servers refer to, wherever they are.
    let mut servers = Vec::new();
    for st in tree {
        if st.keyword() == "virtual_server" {
            servers.push(st);
            continue;
        }
        match st.keyword() {
            "global_defs" => r.global_defs(&st)?,
            "virtual_server_group" => r.virtual_server_group(&st)?,
            "track_file" => r.track_file(&st)?,
            "SSL" => r.ssl(&st)?,
            k if VRRP_BLOCKS.contains(&k) => r.vrrp_block(&st)?,
            _ => return Err(unsupported(&st, "at the top level")),
        }
    }
    let mut virtual_servers = Vec::with_capacity(servers.len());
    let mut locations = Vec::with_capacity(servers.len());
    for st in servers {
        if let Some(vs) = r.virtual_server(&st)? {
            validate::virtual_server(&vs)
                .map_err(|why| ConfigError::invalid(&st.location, "virtual_server", why))?;
            virtual_servers.push(vs);
            locations.push(st.location);
        }
    }
    let mut sync_daemon = r.global.lvs_sync_daemon.take();
    let vrrp = r.finish_vrrp(&mut sync_daemon)?;
    r.global.lvs_sync_daemon = sync_daemon;
    validate::global(&r.global)
        .map_err(|why| ConfigError::invalid(&globals_at, "global_defs", why))?;
    let model = Model {
        global: r.global,
        virtual_servers,
        vrrp,
        // keepalived.conf has no route health keyword: see ipvsd/README.md.
        route_health: None,
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

/// How many statements of `st`'s block have a keyword `which` takes, to
/// size a vector once (a server's checkers are large; a vector grown by
/// pushes keeps room for four).
fn count(st: &Statement, which: impl Fn(&str) -> bool) -> usize {
    st.block
        .as_deref()
        .map_or(0, |b| b.iter().filter(|s| which(s.keyword())).count())
}

/// Whether `keyword` opens a checker block.
fn is_checker(keyword: &str) -> bool {
    matches!(
        keyword,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "UDP_CHECK"
            | "DNS_CHECK"
            | "MISC_CHECK"
            | "FILE_CHECK"
    )
}

fn is_vrrp_global(keyword: &str) -> bool {
    keyword.starts_with("vrrp_") || VRRP_GLOBALS.contains(&keyword)
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
                    self.global.lvs_flush_on_stop = match s.args().first() {
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
                        to.extend(line.words().map(str::to_owned));
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
                    let who = RunAs {
                        user: arg(s, 0)?.to_owned(),
                        group: s.args().get(1).map(str::to_owned),
                    };
                    self.users.check(s, &who)?;
                    self.global.script_user = Some(who);
                }
                "enable_script_security" => {
                    at_most(s, 0)?;
                    self.global.enable_script_security = true;
                }
                "lvs_notify_fifo" => {
                    self.global.lvs_notify_fifo = Some(PathBuf::from(arg(s, 0)?));
                    at_most(s, 1)?;
                }
                "lvs_notify_fifo_script" => {
                    self.global.lvs_notify_fifo_script = Some(script(s, &mut self.users)?)
                }
                k if is_vrrp_global(k) => self.vrrp_global(s)?,
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
            let words: Vec<&str> = s.words().collect();
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
        let target = match st.args().to_vec()[..] {
            ["fwmark", mark] => VirtualTarget::Fwmark {
                mark: u32::try_from(number(st, mark, 0, u64::from(u32::MAX))?)
                    .map_err(|_| bad("mark too large".into()))?,
            },
            ["group", name] => {
                let members = self
                    .groups
                    .get(name)
                    .cloned()
                    .ok_or_else(|| bad(format!("no virtual_server_group named {name}")))?;
                VirtualTarget::Group {
                    name: name.to_owned(),
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
        let mut raw_servers = Vec::with_capacity(count(st, |k| k == "real_server"));
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
                "quorum_up" => quorum_up = Some(script(s, &mut self.users)?),
                "quorum_down" => quorum_down = Some(script(s, &mut self.users)?),
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
            real_servers: Vec::with_capacity(raw_servers.len()),
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
            checkers: Vec::with_capacity(count(st, is_checker)),
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
                "notify_up" => rs.notify_up = Some(script(s, &mut self.users)?),
                "notify_down" => rs.notify_down = Some(script(s, &mut self.users)?),
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
            checkers: Vec::with_capacity(raw.checkers.len()),
        };
        // The checkers probe the port as written, even where the table
        // gets the service's (DR, TUN, marks): keepalived takes a checker's
        // address from the real server before its port is reset.
        let checked_port = raw.port.unwrap_or(port);
        for ck in raw.checkers {
            let checker = self.resolve_checker(&rs, checked_port, &inherited, vs.delay_loop, ck)?;
            rs.checkers.push(checker);
        }
        Ok(rs)
    }
}
