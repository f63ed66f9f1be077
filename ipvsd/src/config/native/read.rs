//! Native TOML into the model: defaults, inheritance and checks, each
//! error with its line.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipvs::{AddressFamily, ForwardMethod, Netmask, Persistence, Protocol, SchedFlags, ServiceKey};

use super::document::*;
use crate::config::checker::{
    BodyRegex, CheckKind, Checker, Connect, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, RunAs, Timing, UdpCheck, Url,
};
use crate::config::error::{ConfigError, Location};
use crate::config::group;
use crate::config::keepalived::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, Loaded};
use crate::config::model::{
    FlushOnStop, Global, GroupMember, Model, RealServer, Script, Smtp, SorryServer,
    SyncDaemonConfig, TlsClient, VirtualServer, VirtualTarget,
};
use crate::config::validate;
use crate::config::values::{MAX_SECONDS, jitter, micros};

/// Reads the native TOML configuration at `path`.
///
/// # Errors
/// [`ConfigError::Read`] if it cannot be read; [`ConfigError::Syntax`]
/// for TOML errors and unknown keys, [`ConfigError::Invalid`] for values
/// that are wrong, each with its line.
pub fn read_native(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        location: Location::new(path, 0),
        source,
    })?;
    read_native_str(&text, path)
}

/// Reads native TOML text as if it were the file `name`.
///
/// # Errors
/// As [`read_native`].
pub fn read_native_str(text: &str, name: &Path) -> Result<Loaded, ConfigError> {
    let doc: Document = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        ConfigError::Syntax {
            location: Location::new(name, line),
            reason: e.message().trim().to_owned(),
        }
    })?;
    let shared: Arc<Path> = Arc::from(name);
    // Where each line ends, so that a span's line is a binary search (a
    // count of newlines per server would make a large file quadratic).
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
        .collect();
    let at = |span: Range<usize>| {
        let line = newlines.partition_point(|&nl| nl < span.start) + 1;
        Location::shared(shared.clone(), line)
    };
    let file = Location::shared(shared.clone(), 0);
    // The `[global]` table's line, for its errors.
    let global_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("[global"))
        .map_or(0, |i| i + 1);
    let global_at = Location::shared(shared.clone(), global_line);
    let global = global(doc.global, &global_at)?;
    let mut groups = std::collections::HashMap::new();
    for g in doc.groups {
        let loc = at(g.span());
        let g = g.into_inner();
        let mut members = Vec::new();
        for m in &g.members {
            let words: Vec<&str> = m.split_whitespace().collect();
            members.push(
                group::parse_member(&words)
                    .map_err(|why| ConfigError::invalid(&loc, "groups.members", why))?,
            );
        }
        if members.is_empty() {
            return Err(ConfigError::invalid(
                &loc,
                "groups",
                format!("group {} has no members", g.name),
            ));
        }
        group::address_family(&members).map_err(|why| ConfigError::invalid(&loc, "groups", why))?;
        if groups.insert(g.name.clone(), members).is_some() {
            return Err(ConfigError::invalid(
                &loc,
                "groups",
                format!("group {} is defined twice", g.name),
            ));
        }
    }
    let mut virtual_servers = Vec::new();
    let mut locations = Vec::new();
    for s in doc.services {
        let loc = at(s.span());
        let vs = service(s.into_inner(), &global, &groups, &loc, &at)?;
        validate::virtual_server(&vs).map_err(|why| ConfigError::invalid(&loc, "services", why))?;
        virtual_servers.push(vs);
        locations.push(loc);
    }
    validate::global(&global).map_err(|why| ConfigError::invalid(&global_at, "global", why))?;
    let vrrp_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("[vrrp]"))
        .map_or(0, |i| i + 1);
    let vrrp_at = Location::shared(shared.clone(), vrrp_line);
    let vrrp = super::vrrp::read(doc.vrrp, global.lvs_sync_daemon.as_ref(), &at, &vrrp_at)?;
    let rh_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("[route_health]"))
        .map_or(0, |i| i + 1);
    let rh_at = Location::shared(shared.clone(), rh_line);
    let route_health = super::route_health::read(doc.route_health, &virtual_servers, &at, &rh_at)?;
    let model = Model {
        global,
        virtual_servers,
        vrrp,
        route_health,
    };
    validate::unique_services(&model).map_err(|(i, why)| {
        ConfigError::invalid(locations.get(i).unwrap_or(&file), "services", why)
    })?;
    Ok(Loaded {
        model,
        notes: Vec::new(),
    })
}

/// The line (from 1) of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

pub(super) fn secs(
    v: Option<f64>,
    key: &str,
    loc: &Location,
) -> Result<Option<Duration>, ConfigError> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && (0.0..=MAX_SECONDS).contains(&s) => Ok(Some(micros(s))),
        Some(s) => Err(ConfigError::invalid(
            loc,
            key,
            format!("{s} is not a number of seconds"),
        )),
    }
}

fn script(s: Option<ScriptToml>) -> Option<Script> {
    s.map(|s| Script {
        command: s.command,
        user: s.user.map(|user| RunAs {
            user,
            group: s.group,
        }),
    })
}

fn global(g: GlobalToml, loc: &Location) -> Result<Global, ConfigError> {
    let d = Global::native_defaults();
    Ok(Global {
        router_id: g.router_id,
        lvs_timeouts: g.lvs_timeouts,
        lvs_sync_daemon: g.lvs_sync_daemon.map(|s| SyncDaemonConfig {
            interface: s.interface,
            vrrp_instance: s.vrrp_instance,
            sync_id: s.sync_id,
            max_len: s.max_len,
            port: s.port,
            ttl: s.ttl,
            group: s.group,
        }),
        lvs_flush: g.lvs_flush,
        sloppy_tcp: g.sloppy_tcp,
        sloppy_sctp: g.sloppy_sctp,
        lvs_flush_on_stop: match g.lvs_flush_on_stop {
            None | Some(FlushToml::None) => FlushOnStop::None,
            Some(FlushToml::All) => FlushOnStop::All,
            Some(FlushToml::VirtualServers) => FlushOnStop::VirtualServers,
        },
        status_listen: g.status_listen.unwrap_or(d.status_listen),
        start_down: g.start_down.unwrap_or(d.start_down),
        rise: g.rise.unwrap_or(d.rise),
        fall: g.fall.unwrap_or(d.fall),
        check_jitter_percent: match g.check_jitter {
            Some(p) if p > 50 => {
                return Err(ConfigError::invalid(
                    loc,
                    "check_jitter",
                    "is a percentage, at most 50",
                ));
            }
            Some(p) => p,
            None => d.check_jitter_percent,
        },
        smtp: g.smtp.map(|s| Smtp {
            to: s.to,
            from: s.from,
            server: s.server,
            connect_timeout: s.connect_timeout,
            helo_name: s.helo_name,
        }),
        script_user: g.script_user.map(|u| RunAs {
            user: u.user,
            group: u.group,
        }),
        enable_script_security: g.enable_script_security,
        lvs_notify_fifo: g.lvs_notify_fifo,
        lvs_notify_fifo_script: script(g.lvs_notify_fifo_script),
        tls: g.tls.map(|t| TlsClient {
            ca: t.ca,
            certificate: t.certificate,
            key: t.key,
            password: t.password,
        }),
    })
}

/// A persistence read without its family keeps a prefix length as IPv6;
/// on an IPv4 service it is an IPv4 prefix.
fn persistence_for(p: Persistence, family: AddressFamily) -> Persistence {
    match (p.netmask, family) {
        (Some(Netmask::Ipv6(len)), AddressFamily::Ipv4) => Persistence {
            netmask: Netmask::from_prefix(AddressFamily::Ipv4, len).ok(),
            ..p
        },
        _ => p,
    }
}

fn service(
    s: ServiceToml,
    global: &Global,
    groups: &std::collections::HashMap<String, Vec<GroupMember>>,
    loc: &Location,
    at: &dyn Fn(Range<usize>) -> Location,
) -> Result<VirtualServer, ConfigError> {
    let bad = |why: String| ConfigError::invalid(loc, "services", why);
    let protocol = s.protocol.unwrap_or(Protocol::Tcp);
    let (target, family) = match (s.address, s.fwmark, &s.group) {
        (Some(address), None, None) => {
            let port = s.port.ok_or_else(|| {
                bad(format!(
                    "service {address} needs a `port` (0 for all ports)"
                ))
            })?;
            if s.family.is_some_and(|f| f != AddressFamily::of(&address)) {
                return Err(bad(format!("address {address} is not of `family`")));
            }
            (
                VirtualTarget::Address { address, port },
                AddressFamily::of(&address),
            )
        }
        (None, Some(mark), None) => {
            if s.port.is_some() || s.protocol.is_some() {
                return Err(bad("a fwmark service has no `port` or `protocol`".into()));
            }
            (
                VirtualTarget::Fwmark { mark },
                s.family.unwrap_or(AddressFamily::Ipv4),
            )
        }
        (None, None, Some(name)) => {
            let members = groups
                .get(name)
                .cloned()
                .ok_or_else(|| bad(format!("no group named {name}")))?;
            let family = group::address_family(&members)
                .map_err(bad)?
                .or(s.family)
                .unwrap_or(AddressFamily::Ipv4);
            if s.port.is_some() {
                return Err(bad("a group service takes its ports from the group".into()));
            }
            (
                VirtualTarget::Group {
                    name: name.clone(),
                    members,
                },
                family,
            )
        }
        _ => {
            return Err(bad(
                "a service has exactly one of `address` (with `port`), `fwmark` or `group`".into(),
            ));
        }
    };
    let mut sched_flags = SchedFlags::NONE;
    for name in &s.scheduler_flags {
        sched_flags = sched_flags
            | SchedFlags::from_name(name)
                .ok_or_else(|| bad(format!("unknown scheduler flag `{name}`")))?;
    }
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
    // Natively real servers are direct-routed unless told, as in the desired-state JSON.
    let forward = s.forward.unwrap_or(ForwardMethod::Route);
    let tunnel = s.tunnel;
    let own_timing = s.timing();
    let timing = TimingToml {
        start_down: own_timing.start_down.or(Some(global.start_down)),
        ..own_timing.clone()
    };
    let delay_loop = secs(own_timing.delay_loop, "delay_loop", loc)?.unwrap_or(DEFAULT_DELAY_LOOP);
    let mut vs = VirtualServer {
        target,
        services,
        family,
        protocol,
        scheduler: s.scheduler,
        sched_flags,
        one_packet: s.one_packet,
        persistence: s.persistence.map(|p| persistence_for(p, family)),
        persistence_engine: s.persistence_engine,
        forward,
        tunnel,
        quorum: s.quorum.unwrap_or(1),
        hysteresis: s.hysteresis.unwrap_or(0),
        quorum_up: script(s.quorum_up),
        quorum_down: script(s.quorum_down),
        alpha: timing.start_down.unwrap_or(global.start_down),
        omega: s.omega,
        ha_suspend: s.ha_suspend,
        virtualhost: s.virtualhost.clone(),
        delay_loop,
        smtp_alert: s.smtp_alert,
        snmp_name: s.snmp_name,
        sorry_server: None,
        real_servers: Vec::new(),
    };
    if vs.quorum == 0 {
        return Err(bad("quorum must be at least 1".into()));
    }
    let default_port = match vs.target {
        VirtualTarget::Address { port, .. } => port,
        _ => 0,
    };
    if let Some(sorry) = s.sorry_server {
        vs.sorry_server = Some(SorryServer {
            address: sorry.address,
            port: sorry.port.unwrap_or(default_port),
            forward: sorry.forward.unwrap_or(forward),
            tunnel: sorry.tunnel.or(if sorry.forward.is_some() {
                None
            } else {
                tunnel
            }),
            inhibit: sorry.inhibit,
        });
    }
    for d in s.destinations {
        let dloc = at(d.span());
        let d = d.into_inner();
        let rs_timing = d.timing().over(&timing);
        let (rs_forward, rs_tunnel) = match d.forward {
            Some(f) => (f, d.tunnel),
            None => (forward, d.tunnel.or(tunnel)),
        };
        if rs_forward != ForwardMethod::Tunnel && AddressFamily::of(&d.address) != family {
            return Err(ConfigError::invalid(
                &dloc,
                "destinations",
                format!(
                    "{} is not {family} like its service (only tunnel may mix families)",
                    d.address
                ),
            ));
        }
        // DR and TUN keep the service's port (`ip_vs_ctl.c`): another one
        // is a mistake, not something to correct silently.
        if rs_forward != ForwardMethod::Masq
            && let Some(p) = d.port
            && p != default_port
        {
            return Err(ConfigError::invalid(
                &dloc,
                "destinations",
                format!(
                    "port {p}: {rs_forward} forwarding keeps the service's port, so it must be the service's, {default_port} (or left out)"
                ),
            ));
        }
        let rs_virtualhost = d.virtualhost.clone();
        let mut rs = RealServer {
            address: d.address,
            port: d.port.unwrap_or(default_port),
            weight: d.weight.or(s.weight).unwrap_or(1),
            forward: rs_forward,
            tunnel: rs_tunnel,
            inhibit_on_failure: d
                .inhibit_on_failure
                .or(s.inhibit_on_failure)
                .unwrap_or(false),
            alpha: rs_timing.start_down.unwrap_or(global.start_down),
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
            notify_up: script(d.notify_up),
            notify_down: script(d.notify_down),
            virtualhost: rs_virtualhost.clone(),
            smtp_alert: d.smtp_alert,
            checkers: Vec::new(),
        };
        let host = rs_virtualhost.or_else(|| s.virtualhost.clone());
        for c in d.checkers {
            let cloc = at(c.span());
            let checker = checker(
                c.into_inner(),
                &rs,
                &rs_timing,
                host.as_deref(),
                global,
                delay_loop,
                &cloc,
            )?;
            rs.checkers.push(checker);
        }
        vs.real_servers.push(rs);
    }
    Ok(vs)
}

fn checker(
    c: CheckerToml,
    rs: &RealServer,
    outer: &TimingToml,
    host: Option<&str>,
    global: &Global,
    service_delay_loop: Duration,
    loc: &Location,
) -> Result<Checker, ConfigError> {
    let own_timing = c.timing();
    let t = own_timing.over(outer);
    let bad = |why: String| ConfigError::invalid(loc, "checkers", why);
    let delay_loop = secs(t.delay_loop, "delay_loop", loc)?.unwrap_or(DEFAULT_DELAY_LOOP);
    if delay_loop.is_zero() {
        return Err(bad("delay_loop must be above 0".into()));
    }
    let (default_retry, default_dbr) = match c.kind {
        CheckType::Http | CheckType::Https => (1, Duration::from_secs(3)),
        CheckType::Dns => (3, delay_loop),
        CheckType::Misc => (0, Duration::from_secs(1)),
        _ => (1, Duration::from_secs(1)),
    };
    let timing = Timing {
        delay_loop,
        retry: t.retry.unwrap_or(default_retry),
        delay_before_retry: secs(t.delay_before_retry, "delay_before_retry", loc)?
            .unwrap_or(default_dbr),
        warmup: secs(t.warmup, "warmup", loc)?.unwrap_or(delay_loop),
        alpha: t.start_down.unwrap_or(global.start_down),
        log_all_failures: c.log_all_failures,
        rise: t.rise.unwrap_or(global.rise),
        fall: t.fall.unwrap_or(global.fall),
        jitter: secs(t.jitter, "jitter", loc)?
            .unwrap_or_else(|| jitter(delay_loop, global.check_jitter_percent)),
    };
    // Which keys each type takes: a key of another type is an error.
    use CheckType::{Dns, File, Http, Https, Misc, Udp};
    let http = matches!(c.kind, Http | Https);
    let keys: [(bool, &str, &[CheckType]); 22] = [
        (!c.urls.is_empty(), "urls", &[Http, Https]),
        (c.virtualhost.is_some(), "virtualhost", &[Http, Https]),
        (c.http_protocol.is_some(), "http_protocol", &[Http, Https]),
        (c.enable_sni, "enable_sni", &[Https]),
        (c.sni_name.is_some(), "sni_name", &[Https]),
        (c.fast_recovery, "fast_recovery", &[Http, Https]),
        (c.tls_compliant, "tls_compliant", &[Https]),
        (c.payload.is_some(), "payload", &[Udp]),
        (c.require_reply, "require_reply", &[Udp]),
        (c.reply_pattern.is_some(), "reply_pattern", &[Udp]),
        (c.min_reply_length.is_some(), "min_reply_length", &[Udp]),
        (c.max_reply_length.is_some(), "max_reply_length", &[Udp]),
        (c.query_type.is_some(), "query_type", &[Dns]),
        (c.query_name.is_some(), "query_name", &[Dns]),
        (c.command.is_some(), "command", &[Misc]),
        (c.timeout.is_some(), "timeout", &[Misc]),
        (c.dynamic, "dynamic", &[Misc]),
        (c.user.is_some(), "user", &[Misc]),
        (c.name.is_some(), "name", &[File]),
        (c.path.is_some(), "path", &[File]),
        (c.weight.is_some(), "weight", &[File]),
        (c.reverse, "reverse", &[File]),
    ];
    if let Some((_, key, _)) = keys
        .iter()
        .find(|(set, _, types)| *set && !types.contains(&c.kind))
    {
        return Err(bad(format!(
            "`{key}` does not apply to a {} checker",
            format!("{:?}", c.kind).to_lowercase()
        )));
    }
    let connects = !matches!(c.kind, CheckType::Misc | CheckType::File);
    let connect = if connects {
        let to = SocketAddr::new(
            c.connect_ip.unwrap_or(rs.address),
            c.connect_port.unwrap_or(rs.port),
        );
        if to.port() == 0 {
            return Err(bad(
                "needs `connect_port`: its destination has no port".into()
            ));
        }
        if let Some(b) = c.bind_address
            && AddressFamily::of(&b) != AddressFamily::of(&to.ip())
        {
            return Err(bad(format!(
                "bind_address {b} and the address probed {} differ in family",
                to.ip()
            )));
        }
        Some(Connect {
            to,
            bind_address: c.bind_address,
            bind_port: c.bind_port,
            bind_interface: c.bind_interface,
            timeout: secs(t.connect_timeout, "connect_timeout", loc)?
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            fwmark: c.fwmark,
        })
    } else {
        let set = [
            (c.connect_ip.is_some(), "connect_ip"),
            (c.connect_port.is_some(), "connect_port"),
            (c.bind_address.is_some(), "bind_address"),
            (c.bind_port.is_some(), "bind_port"),
            (c.bind_interface.is_some(), "bind_interface"),
            (c.fwmark.is_some(), "fwmark"),
            (own_timing.connect_timeout.is_some(), "connect_timeout"),
        ];
        if let Some((_, key)) = set.iter().find(|(s, _)| *s) {
            return Err(bad(format!("`{key}`: this checker opens no connection")));
        }
        None
    };
    let kind = match c.kind {
        CheckType::Tcp => CheckKind::Tcp,
        CheckType::Http | CheckType::Https => {
            if c.urls.is_empty() {
                return Err(bad("an http checker needs `urls`".into()));
            }
            let mut urls = Vec::new();
            for u in c.urls {
                urls.push(url(u, c.virtualhost.as_deref().or(host), &bad)?);
            }
            CheckKind::Http(HttpCheck {
                tls: http && c.kind == CheckType::Https,
                urls,
                protocol: match c.http_protocol.as_deref() {
                    None => HttpProtocol::default(),
                    Some(p) => HttpProtocol::from_name(p).ok_or_else(|| {
                        bad(format!("http_protocol `{p}` is not 1.0, 1.0C or 1.1"))
                    })?,
                },
                enable_sni: c.enable_sni,
                sni_name: c.sni_name,
                fast_recovery: c.fast_recovery,
                tls_compliant: c.tls_compliant,
            })
        }
        CheckType::Udp => {
            let payload = match c.payload.as_deref() {
                None => Vec::new(),
                Some(hex) => {
                    decode_hex(hex).ok_or_else(|| bad(format!("payload `{hex}` is not hex")))?
                }
            };
            if let Some(p) = &c.reply_pattern
                && (p.is_empty()
                    || !p.len().is_multiple_of(2)
                    || !p.chars().all(|ch| ch.is_ascii_hexdigit() || ch == 'x'))
            {
                return Err(bad(format!(
                    "reply_pattern `{p}` is not hex digits (x for any nibble)"
                )));
            }
            let u = UdpCheck {
                payload,
                require_reply: c.require_reply || c.reply_pattern.is_some(),
                reply_pattern: c.reply_pattern.map(|p| p.to_ascii_lowercase()),
                min_reply_length: c.min_reply_length.unwrap_or(0),
                max_reply_length: c.max_reply_length.unwrap_or(255),
            };
            if u.min_reply_length > u.max_reply_length {
                return Err(bad("min_reply_length is above max_reply_length".into()));
            }
            CheckKind::Udp(u)
        }
        CheckType::Dns => CheckKind::Dns(DnsCheck {
            query_type: match c.query_type.as_deref() {
                None => DnsType::default(),
                Some(q) => DnsType::from_name(q).ok_or_else(|| {
                    bad(format!(
                        "query_type `{q}` is not A, NS, CNAME, SOA, MX, TXT or AAAA"
                    ))
                })?,
            },
            name: c.query_name.unwrap_or_else(|| ".".into()),
        }),
        CheckType::Misc => CheckKind::Misc(MiscCheck {
            command: c
                .command
                .ok_or_else(|| bad("a misc checker needs `command`".into()))?,
            timeout: secs(c.timeout, "timeout", loc)?
                .filter(|d| !d.is_zero())
                .unwrap_or(service_delay_loop),
            dynamic: c.dynamic,
            user: c.user.map(|u| RunAs {
                user: u.user,
                group: u.group,
            }),
        }),
        CheckType::File => {
            let path = c
                .path
                .ok_or_else(|| bad("a file checker needs `path`".into()))?;
            let weight = c.weight.unwrap_or(1);
            if weight == i32::MIN {
                return Err(bad(format!("weight {weight} is out of range")));
            }
            CheckKind::File(FileCheck {
                name: c.name.unwrap_or_else(|| path.display().to_string()),
                path,
                weight,
                reverse: c.reverse,
            })
        }
    };
    Ok(Checker {
        kind,
        connect,
        timing,
    })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

fn url(
    u: UrlToml,
    host: Option<&str>,
    bad: &dyn Fn(String) -> ConfigError,
) -> Result<Url, ConfigError> {
    if let Some(d) = &u.digest
        && (d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(bad(format!(
            "digest `{d}` is not an MD5 digest (32 hex digits)"
        )));
    }
    let mut status_codes = Vec::new();
    for text in &u.status_codes {
        let code = |t: &str| {
            t.trim()
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
        };
        let range = match text.split_once('-') {
            Some((a, b)) => code(a).zip(code(b)),
            None => code(text).map(|c| (c, c)),
        }
        .filter(|(a, b)| a <= b)
        .ok_or_else(|| {
            bad(format!(
                "status code `{text}` is not a code (100-599) or a range such as 200-299"
            ))
        })?;
        status_codes.push(range);
    }
    if status_codes.is_empty() {
        status_codes.push((200, 299));
    }
    // The pattern is PCRE2's, as in keepalived.conf: refused here if the
    // regex crate would match it differently.
    if let Some(r) = &u.regex {
        crate::config::pcre_to_regex(&r.pattern, &r.options)
            .map_err(|why| bad(format!("regex: {why}")))?;
    }
    Ok(Url {
        path: u.path,
        digest: u.digest.map(|d| d.to_ascii_lowercase()),
        status_codes,
        virtualhost: u.virtualhost.or_else(|| host.map(str::to_owned)),
        regex: u.regex.map(|r| BodyRegex {
            pattern: r.pattern,
            no_match: r.no_match,
            options: r.options,
            min_offset: r.min_offset,
            max_offset: r.max_offset,
            stack: r.stack,
        }),
    })
}
