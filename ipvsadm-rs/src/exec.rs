//! Running parsed command lines against the kernel through the `ipvs`
//! library, with ipvsadm's messages and exit statuses. Changes go out as
//! pipelined batches: one change for a command line, many for `-R`.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use ipvs::{
    AddressFamily, Change, Destination, DestinationBrief, DestinationInfo, ForwardMethod, Ipvs,
    KernelInfo, Netmask, Persistence, Protocol, SchedFlags, Scheduler, Service, ServiceKey,
    SyncDaemon, Timeouts, Tunnel, TunnelChecksum, TunnelKind,
};

use crate::options::{Cmd, Opt};
use crate::output::{json, table, text};
use crate::parse::{Entry, Mask, ONEPACKET, PERSISTENT, Stop, TUNNEL, parse};
use crate::restore::{Lines, Origin};
use crate::strerror::{Call, ipvs_strerror};
use crate::usage::{VERSION, usage};

/// How a command line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Its result (0, or -1 after an error): the program goes on (`-R`) or
    /// exits with it (-1 is 255).
    Done(i32),
    /// The program exits now with this status (ipvsadm's `exit()`).
    Exit(i32),
}

/// What commands run with: the handle, the kernel's info read at start,
/// the program name, and where output goes.
pub struct Context<'a> {
    /// The handle.
    pub ipvs: &'a Ipvs,
    /// `GET_INFO`, read once at start as ipvsadm does.
    pub info: KernelInfo,
    /// argv[0], for the messages that name the program.
    pub prog: &'a str,
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// The `-R` input line being run, named after every message it causes.
    pub line: Option<Origin>,
}

impl Context<'_> {
    fn say(&mut self, text: &str) {
        // Output errors (a closed pipe) are not the command's failure.
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Prints ipvsadm's message for a failure and, in `-R`, which input
    /// line caused it (a deliberate addition to ipvsadm's output).
    fn complain(&mut self, text: &str) {
        let _ = self.err.flush();
        let _ = writeln!(self.err, "{text}");
        if let Some(origin) = &self.line {
            let _ = writeln!(
                self.err,
                "{}: -R line {}: {}",
                self.prog, origin.number, origin.text
            );
        }
    }
}

/// The libipvs call ipvsadm makes for a change, for its error messages.
fn call_of(change: &Change) -> Call {
    match change {
        Change::AddService(_) => Call::AddService,
        Change::EditService(_) => Call::UpdateService,
        Change::DeleteService(_) => Call::DelService,
        Change::AddDestination(..) => Call::AddDest,
        Change::EditDestination(..) => Call::UpdateDest,
        Change::DeleteDestination { .. } => Call::DelDest,
        Change::ZeroService(_) | Change::ZeroAll => Call::ZeroService,
        Change::Flush => Call::Flush,
    }
}

fn key_of(e: &Entry) -> ServiceKey {
    let svc = &e.svc;
    if svc.fwmark != 0 {
        let family = if svc.af == 10 {
            AddressFamily::Ipv6
        } else {
            AddressFamily::Ipv4
        };
        return ServiceKey::Fwmark {
            family,
            mark: svc.fwmark,
        };
    }
    ServiceKey::Inet {
        protocol: Protocol::from_number(svc.protocol),
        address: svc.addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        port: svc.port,
    }
}

fn service_of(e: &Entry) -> Service {
    let svc = &e.svc;
    let persistence = (svc.flags & PERSISTENT != 0).then(|| Persistence {
        timeout: svc.timeout,
        netmask: Some(match svc.netmask {
            Mask::V4(m) => Netmask::Ipv4(m),
            Mask::V6(n) => Netmask::Ipv6(n.min(255) as u8),
        }),
    });
    Service {
        key: key_of(e),
        scheduler: Scheduler::from_name(&svc.sched_name),
        sched_flags: SchedFlags::from_service_flags(svc.flags),
        persistence,
        persistence_engine: (!svc.pe_name.is_empty()).then(|| svc.pe_name.clone()),
        one_packet: svc.flags & ONEPACKET != 0,
    }
}

fn destination_of(e: &Entry) -> Destination {
    let d = &e.dest;
    let forward = ForwardMethod::from_raw(d.conn_flags).unwrap_or(ForwardMethod::Route);
    let tunnel = (d.conn_flags == TUNNEL).then_some(Tunnel {
        kind: match d.tun_type {
            1 => TunnelKind::Gue,
            2 => TunnelKind::Gre,
            _ => TunnelKind::Ipip,
        },
        port: d.tun_port,
        checksum: match d.tun_flags {
            1 => TunnelChecksum::Checksum,
            2 => TunnelChecksum::Remote,
            _ => TunnelChecksum::None,
        },
    });
    Destination {
        address: d.addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        port: d.port,
        forward,
        tunnel,
        weight: d.weight as u32,
        upper_threshold: d.u_threshold as u32,
        lower_threshold: d.l_threshold as u32,
    }
}

/// The change a command line makes, if it is one.
fn change_of(e: &Entry) -> Option<Change> {
    Some(match e.cmd {
        Cmd::Add => Change::AddService(service_of(e)),
        Cmd::Edit => Change::EditService(service_of(e)),
        Cmd::Del => Change::DeleteService(key_of(e)),
        Cmd::AddDest => Change::AddDestination(key_of(e), destination_of(e)),
        Cmd::EditDest => Change::EditDestination(key_of(e), destination_of(e)),
        Cmd::DelDest => {
            let d = destination_of(e);
            Change::DeleteDestination {
                service: key_of(e),
                address: d.address,
                port: d.port,
            }
        }
        Cmd::Zero if e.has(Opt::Service) => Change::ZeroService(key_of(e)),
        Cmd::Zero => Change::ZeroAll,
        Cmd::Flush => Change::Flush,
        _ => return None,
    })
}

/// How many changes of `-R` input wait at most before they go out.
const PENDING_MAX: usize = 4096;

/// Changes waiting to go out in one pipelined batch.
#[derive(Default)]
struct Pending {
    changes: Vec<Change>,
    /// The `-R` line of each change, for its messages.
    origins: Vec<Option<Origin>>,
}

impl Pending {
    /// Sends the waiting changes and prints the kernel's refusals in order;
    /// the result is that of the last change.
    fn flush(&mut self, ctx: &mut Context<'_>) -> Flow {
        if self.changes.is_empty() {
            return Flow::Done(0);
        }
        let changes = std::mem::take(&mut self.changes);
        let origins = std::mem::take(&mut self.origins);
        // A change the library refuses before sending is refused alone, the
        // others still go out (ipvsadm sends each line on its own).
        let (valid, invalid): (Vec<_>, Vec<_>) = changes
            .iter()
            .enumerate()
            .partition(|(_, c)| c.validate().is_ok());
        let sendable: Vec<Change> = valid.iter().map(|(_, c)| (*c).clone()).collect();
        let outcomes = match ctx.ipvs.apply_changes(&sendable) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                // The whole batch's fate is unknown, not one line's.
                let current = ctx.line.take();
                ctx.complain(&e.to_string());
                let numbers: Vec<usize> = origins.iter().flatten().map(|o| o.number).collect();
                if let (Some(first), Some(last)) = (numbers.first(), numbers.last()) {
                    let _ = writeln!(
                        ctx.err,
                        "{}: -R lines {first} to {last}: unknown which of their changes took effect (read the table with -Ln)",
                        ctx.prog
                    );
                }
                ctx.line = current;
                return Flow::Exit(255);
            }
        };
        let mut results: Vec<Option<Result<(), String>>> = vec![None; changes.len()];
        for ((i, change), outcome) in valid.iter().zip(outcomes) {
            results[*i] = Some(outcome.map_err(|e| match e.errno() {
                Some(errno) => ipvs_strerror(call_of(change), errno),
                None => e.to_string(),
            }));
        }
        for (i, change) in invalid {
            // Only an over-long persistence engine name gets here; the
            // kernel would not find such an engine.
            let msg = match change {
                Change::AddService(_) | Change::EditService(_) => {
                    ipvs_strerror(Call::AddService, libc::ENOENT)
                }
                other => other
                    .validate()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
            };
            results[i] = Some(Err(msg));
        }
        let mut last = 0;
        let current = ctx.line.take();
        for (result, origin) in results.into_iter().zip(origins) {
            last = match result {
                Some(Ok(())) | None => 0,
                Some(Err(msg)) => {
                    ctx.line = origin;
                    ctx.complain(&msg);
                    -1
                }
            };
        }
        ctx.line = current;
        Flow::Done(last)
    }
}

/// Runs one command line (the words after the program name).
pub fn run_line(ctx: &mut Context<'_>, args: &[String], reading_stdin: bool) -> Flow {
    let mut pending = Pending::default();
    match run_parsed(ctx, args, reading_stdin, &mut pending) {
        Flow::Done(_) if !pending.changes.is_empty() => pending.flush(ctx),
        other => other,
    }
}

fn stop(ctx: &mut Context<'_>, s: Stop) -> Flow {
    match s {
        Stop::Fail(code, msg) => {
            ctx.complain(&msg);
            Flow::Exit(code)
        }
        Stop::TryHelp => {
            let prog = ctx.prog.to_owned();
            ctx.complain(&format!(
                "Try `{prog} -h' or '{prog} --help' for more information."
            ));
            Flow::Exit(255)
        }
        Stop::Help => {
            let text = usage(ctx.prog);
            ctx.say(&text);
            Flow::Exit(0)
        }
        Stop::Version => {
            ctx.say(VERSION);
            Flow::Exit(0)
        }
        Stop::Scan(msg) => {
            ctx.complain(&msg);
            Flow::Done(-1)
        }
    }
}

/// Parses and runs a line; a change is only queued in `pending`.
fn run_parsed(
    ctx: &mut Context<'_>,
    args: &[String],
    reading_stdin: bool,
    pending: &mut Pending,
) -> Flow {
    let entry = match parse(args) {
        Ok(entry) => entry,
        Err(s) => {
            // Changes queued before this line happen first, as in ipvsadm.
            if let Flow::Exit(code) = pending.flush(ctx) {
                return Flow::Exit(code);
            }
            return stop(ctx, s);
        }
    };
    if let Some(change) = change_of(&entry) {
        pending.changes.push(change);
        pending.origins.push(ctx.line.clone());
        // A long restore goes out a batch at a time, so its memory stays
        // the same however long the input is.
        if pending.changes.len() >= PENDING_MAX {
            return pending.flush(ctx);
        }
        return Flow::Done(0);
    }
    match pending.flush(ctx) {
        Flow::Exit(code) => return Flow::Exit(code),
        Flow::Done(_) => {}
    }
    match entry.cmd {
        Cmd::List => list(ctx, &entry),
        Cmd::Save => {
            let written = text_table(ctx, &entry.format)
                .and_then(|listing| listing.write(ctx, &entry.format, true));
            match written {
                Ok(()) => Flow::Done(0),
                Err(e) => list_failed(ctx, Call::GetServices, &e),
            }
        }
        Cmd::Restore if reading_stdin => stop(ctx, Stop::TryHelp),
        Cmd::Restore => restore(ctx),
        Cmd::Timeout => {
            let [tcp, tcp_fin, udp] = entry.timeouts;
            result(
                ctx,
                Call::SetTimeout,
                ctx.ipvs.set_timeouts(&Timeouts { tcp, tcp_fin, udp }),
            )
        }
        Cmd::StartDaemon => {
            let d = &entry.daemon;
            let daemon = SyncDaemon {
                role: if d.state == 1 {
                    ipvs::DaemonRole::Master
                } else {
                    ipvs::DaemonRole::Backup
                },
                interface: d.mcast_ifn.clone(),
                sync_id: d.syncid as u8,
                max_len: (d.sync_maxlen != 0).then_some(d.sync_maxlen),
                group: d.mcast_group,
                port: (d.mcast_port != 0).then_some(d.mcast_port),
                ttl: (d.mcast_ttl != 0).then_some(d.mcast_ttl),
            };
            result(ctx, Call::StartDaemon, ctx.ipvs.start_daemon(&daemon))
        }
        Cmd::StopDaemon => {
            let role = if entry.daemon.state == 1 {
                ipvs::DaemonRole::Master
            } else {
                ipvs::DaemonRole::Backup
            };
            result(ctx, Call::StopDaemon, ctx.ipvs.stop_daemon(role))
        }
        // Changes were handled above.
        _ => Flow::Done(0),
    }
}

fn result(ctx: &mut Context<'_>, call: Call, outcome: ipvs::Result<()>) -> Flow {
    match outcome {
        Ok(()) => Flow::Done(0),
        Err(e) => {
            let msg = e
                .errno()
                .map_or_else(|| e.to_string(), |errno| ipvs_strerror(call, errno));
            ctx.complain(&msg);
            Flow::Done(-1)
        }
    }
}

/// A listing that failed: ipvsadm prints the message and exits 1.
fn list_failed(ctx: &mut Context<'_>, call: Call, e: &ipvs::Error) -> Flow {
    let msg = e
        .errno()
        .map_or_else(|| e.to_string(), |errno| ipvs_strerror(call, errno));
    ctx.complain(&msg);
    Flow::Exit(1)
}

/// Sorts for the JSON and table views: a valid order (unless `--nosort`).
fn sorted(mut table: Vec<ipvs::ServiceInfo>, nosort: bool) -> Vec<ipvs::ServiceInfo> {
    if !nosort {
        table.sort_by_key(|s| s.service.key);
        for s in &mut table {
            s.destinations.sort_by(|a, b| {
                (a.destination.address, a.destination.port)
                    .cmp(&(b.destination.address, b.destination.port))
            });
        }
    }
    table
}

fn list(ctx: &mut Context<'_>, e: &Entry) -> Flow {
    let f = e.format;
    if e.has(Opt::Connection) {
        let raw = match ctx.ipvs.conn_table_text() {
            Ok(raw) => raw,
            Err(_) => {
                ctx.complain("cannot open file /proc/net/ip_vs_conn");
                return Flow::Exit(1);
            }
        };
        if raw.is_empty() {
            ctx.complain("unexpected input from /proc/net/ip_vs_conn");
            return Flow::Exit(1);
        }
        let rendered = if f.json || f.table {
            match ipvs::parse_connections(&raw) {
                Ok(conns) if f.json => json::connections(&conns),
                Ok(conns) => table::connections(&conns),
                Err(msg) => {
                    ctx.complain(&format!(
                        "unexpected input from /proc/net/ip_vs_conn: {msg}"
                    ));
                    return Flow::Exit(1);
                }
            }
        } else {
            text::connections(&raw, &f)
        };
        ctx.say(&rendered);
        return Flow::Done(0);
    }
    if e.has(Opt::Service) {
        let key = key_of(e);
        let mut service = match ctx.ipvs.service(&key) {
            Ok(s) => s,
            Err(err) => return list_failed(ctx, Call::GetService, &err),
        };
        service.destinations = match ctx.ipvs.destinations(&key) {
            Ok(d) => d,
            Err(err) => return list_failed(ctx, Call::GetDests, &err),
        };
        let rendered = if f.json {
            json::table(&sorted(vec![service], f.nosort))
        } else if f.table {
            table::table(&sorted(vec![service], f.nosort), &f)
        } else {
            text::list_service(&service, &f)
        };
        ctx.say(&rendered);
        return Flow::Done(0);
    }
    if e.has(Opt::Timeout) {
        let Ok(t) = ctx.ipvs.timeouts() else {
            return Flow::Exit(1);
        };
        let rendered = if f.json {
            json::timeouts(&t)
        } else if f.table {
            table::timeouts(&t)
        } else {
            text::timeouts(&t)
        };
        ctx.say(&rendered);
        return Flow::Done(0);
    }
    if e.has(Opt::Daemon) {
        let Ok(d) = ctx.ipvs.daemons() else {
            return Flow::Exit(1);
        };
        let rendered = if f.json {
            json::daemons(&d)
        } else if f.table {
            table::daemons(&d)
        } else {
            text::daemons(&d)
        };
        ctx.say(&rendered);
        return Flow::Done(0);
    }
    list_all(ctx, &f)
}

/// Where the real servers of a [`Listing`]'s services come from.
enum Servers {
    /// In brief, from one read of `/proc/net/ip_vs`.
    Brief(Vec<Vec<DestinationBrief>>),
    /// In full (counters, thresholds, tunnels), a netlink dump per service
    /// as it is written: the formats that show more than the brief, and
    /// tables too large for the brief read.
    PerService,
}

/// What ipvsadm's text shows of the table: the services, and where each
/// one's real servers come from.
struct Listing {
    services: Vec<ipvs::ServiceInfo>,
    servers: Servers,
}

impl Listing {
    /// Writes the listing (`rule`: as `-S` rules) to the context's output.
    fn write(
        mut self,
        ctx: &mut Context<'_>,
        f: &crate::parse::Format,
        rule: bool,
    ) -> ipvs::Result<()> {
        let ipvs = ctx.ipvs;
        let services = &self.services;
        let servers = &mut self.servers;
        text::list_all(ctx.out, &ctx.info, services, f, rule, &mut |i| {
            let key = &services[i].service.key;
            let in_full = || match ipvs.destinations(key) {
                // Deleted since the services were read: shown without any.
                Err(e) if e.kind() == ipvs::ErrorKind::NoSuchService => Ok(Vec::new()),
                other => other,
            };
            match servers {
                Servers::PerService => in_full(),
                Servers::Brief(all) => {
                    let brief = std::mem::take(&mut all[i]);
                    // The rules of a tunnelling real server need its tunnel
                    // parameters, which only netlink gives.
                    if rule && brief.iter().any(|d| d.forward == ForwardMethod::Tunnel) {
                        return in_full();
                    }
                    Ok(brief.iter().map(from_brief).collect())
                }
            }
        })
    }
}

/// A real server in brief as the listings show it: no counters, thresholds
/// or tunnel parameters (the formats that show them read the table in full).
fn from_brief(d: &DestinationBrief) -> DestinationInfo {
    DestinationInfo {
        destination: Destination {
            address: d.address,
            port: d.port,
            forward: d.forward,
            tunnel: None,
            weight: d.weight,
            upper_threshold: 0,
            lower_threshold: 0,
        },
        active_connections: d.active_connections,
        inactive_connections: d.inactive_connections,
        persistent_connections: 0,
        stats: ipvs::Stats::default(),
    }
}

/// The table for ipvsadm's text: real servers in brief (from
/// `/proc/net/ip_vs`, one read) when the format shows nothing more of them
/// and the table is not too large for that read.
fn text_table(ctx: &Context<'_>, f: &crate::parse::Format) -> ipvs::Result<Listing> {
    let mut services = ctx.ipvs.services()?;
    let more_than_brief = f.stats || f.rate || f.thresholds || f.persistent_conn || f.tun_info;
    let servers = if more_than_brief || services.len() > ipvs::BRIEF_SERVICES_MAX {
        Servers::PerService
    } else {
        Servers::Brief(ctx.ipvs.brief_destinations(&mut services)?)
    };
    Ok(Listing { services, servers })
}

/// The whole table (also what a bare `ipvsadm` does).
pub fn list_all(ctx: &mut Context<'_>, f: &crate::parse::Format) -> Flow {
    if !f.json && !f.table {
        let listing = match text_table(ctx, f) {
            Ok(listing) => listing,
            Err(e) => {
                // ipvsadm prints its header before it reads the services.
                let header = format!(
                    "IP Virtual Server version {} (size={})\n",
                    ctx.info.version, ctx.info.connection_table_size
                );
                ctx.say(&header);
                return list_failed(ctx, Call::GetServices, &e);
            }
        };
        return match listing.write(ctx, f, false) {
            Ok(()) => Flow::Done(0),
            Err(e) => list_failed(ctx, Call::GetDests, &e),
        };
    }
    // Settled: a JSON listing can become the desired state of an apply,
    // which would delete a service the dump skipped.
    let table = match ctx.ipvs.settled_table() {
        Ok(t) => t,
        Err(e) => return list_failed(ctx, Call::GetServices, &e),
    };
    let rendered = if f.json {
        json::table(&sorted(table, f.nosort))
    } else {
        table::table(&sorted(table, f.nosort), f)
    };
    ctx.say(&rendered);
    Flow::Done(0)
}

/// `-R`: every line of standard input, as a command line. Changes of
/// consecutive lines go out together as one pipelined batch; a line that
/// reads (a listing) or fails to parse sends what came before it first, so
/// the order of effects and messages is ipvsadm's. The result is that of the
/// last line; a line that fails to parse ends the restore (exit 2).
fn restore(ctx: &mut Context<'_>) -> Flow {
    let stdin = std::io::stdin();
    let mut pending = Pending::default();
    let mut last = Flow::Done(0);
    for line in Lines::new(stdin.lock()) {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                ctx.line = None;
                if let Flow::Exit(code) = pending.flush(ctx) {
                    return Flow::Exit(code);
                }
                ctx.complain(&format!("{}: -R: reading standard input: {e}", ctx.prog));
                return Flow::Exit(2);
            }
        };
        if line.words.is_empty() {
            continue;
        }
        let number = line.origin.number;
        ctx.line = Some(line.origin);
        last = run_parsed(ctx, &line.words, true, &mut pending);
        if let Flow::Exit(code) = last {
            if code != 0 {
                let _ = writeln!(
                    ctx.err,
                    "{}: -R stopped at line {}: the lines after it were not run",
                    ctx.prog, number
                );
            }
            return Flow::Exit(code);
        }
    }
    ctx.line = None;
    // The last lines' changes: their result is the restore's.
    if !pending.changes.is_empty() {
        last = pending.flush(ctx);
    }
    last
}
