//! Running parsed command lines against the kernel through the `ipvs`
//! library, with ipvsadm's messages and exit statuses. Changes go out as
//! pipelined batches: one change for a command line, many for `-R`.

use std::io::Write;

use ipvs::{Change, Ipvs, KernelInfo, Operation, ServiceInfo};

use crate::output::{json, table, text};
use crate::parse::{Command, Format, ListTarget, Stop, parse};
use crate::read::{Needs, read_service, read_table};
use crate::restore::{Lines, Origin};
use crate::sort::{ipvsadm_destination_order, valid_order};
use crate::strerror::message;
use crate::usage::{usage, version};
use crate::warnings::warnings;

/// How a command line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Its result (0, or -1 after an error): the program goes on (`-R`) or
    /// exits with it (-1 is 255).
    Done(i32),
    /// The program exits now with this status (ipvsadm's `exit()`).
    Exit(i32),
}

/// What commands run with: the handle, the kernel's info read at start,
/// the program name, and where output goes.
pub(crate) struct Context<'a> {
    /// The handle.
    pub(crate) ipvs: &'a Ipvs,
    /// `GET_INFO`, read once at start as ipvsadm does.
    pub(crate) info: KernelInfo,
    /// argv[0], for the messages that name the program.
    pub(crate) prog: &'a str,
    /// Standard output.
    pub(crate) out: &'a mut dyn Write,
    /// Standard error.
    pub(crate) err: &'a mut dyn Write,
    /// The `-R` input line being run, named after every message it causes.
    pub(crate) line: Option<Origin>,
}

impl Context<'_> {
    fn say(&mut self, text: &str) {
        // Output errors (a closed pipe) are not the command's failure.
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Prints ipvsadm's message for a failure (or one of our warnings) and,
    /// in `-R`, which input line caused it (a deliberate addition to
    /// ipvsadm's output).
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

/// The change a command makes, if it is one.
fn change_of(command: &Command) -> Option<Change> {
    Some(match command {
        Command::AddService(s) => Change::AddService(s.clone()),
        Command::EditService(s) => Change::EditService(s.clone()),
        Command::DeleteService(key) => Change::DeleteService(*key),
        Command::AddServer { service, server } => Change::AddDestination(*service, server.clone()),
        Command::EditServer { service, server } => {
            Change::EditDestination(*service, server.clone())
        }
        Command::DeleteServer {
            service,
            address,
            port,
        } => Change::DeleteDestination {
            service: *service,
            address: *address,
            port: *port,
        },
        Command::Zero(Some(key)) => Change::ZeroService(*key),
        Command::Zero(None) => Change::ZeroAll,
        Command::Flush => Change::Flush,
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
        // others still go out (ipvsadm sends each line on its own). One that
        // breaks only a rule the kernel enforces itself goes out too, so the
        // kernel answers in its own order, as ipvsadm shows (a missing
        // service before a bad address).
        let (valid, invalid): (Vec<_>, Vec<_>) = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c, ctx.ipvs.validate_change(c).err()))
            .partition(|(_, _, refused)| {
                refused
                    .as_ref()
                    .is_none_or(|e| e.violation().is_some_and(|v| v.kernel_errno().is_some()))
            });
        let valid: Vec<(usize, &Change)> = valid.into_iter().map(|(i, c, _)| (i, c)).collect();
        // Usually every change is sendable: then they go as they are, uncopied.
        let some: Vec<Change>;
        let sendable: &[Change] = if invalid.is_empty() {
            &changes
        } else {
            some = valid.iter().map(|(_, c)| (*c).clone()).collect();
            &some
        };
        let outcomes = match ctx.ipvs.apply_changes_unchecked(sendable) {
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
            results[*i] = Some(outcome.map_err(|e| message(Change::operation(change), &e)));
        }
        for (i, _, refused) in invalid {
            // ipvsadm's own checks came first, in parsing, so only a rule it
            // cannot express gets here (local forwarding, say).
            results[i] = Some(Err(refused.map(|e| e.to_string()).unwrap_or_default()));
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
pub(crate) fn run_line(ctx: &mut Context<'_>, args: &[String], reading_stdin: bool) -> Flow {
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
            ctx.say(&version());
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
    let mut command = match parse(args) {
        Ok(command) => command,
        Err(s) => {
            // Changes queued before this line happen first, as in ipvsadm.
            if let Flow::Exit(code) = pending.flush(ctx) {
                return Flow::Exit(code);
            }
            return stop(ctx, s);
        }
    };
    let warnings = warnings(&mut command);
    if !warnings.is_empty() {
        // After the messages of the lines before it.
        if let Flow::Exit(code) = pending.flush(ctx) {
            return Flow::Exit(code);
        }
    }
    for warning in warnings {
        let text = format!("{}: warning: {warning}", ctx.prog);
        ctx.complain(&text);
    }
    if let Some(change) = change_of(&command) {
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
    match command {
        Command::List { target, format } => list(ctx, target, &format),
        Command::Save(format) => {
            let needs = text_needs(&format);
            let written = read_table(ctx.ipvs, &needs).and_then(|listing| {
                text::list_all(ctx.out, &ctx.info, listing.services(), &format, true)
            });
            match written {
                Ok(()) => Flow::Done(0),
                Err(e) => list_failed(ctx, Operation::ListServices, &e),
            }
        }
        Command::Restore if reading_stdin => stop(ctx, Stop::TryHelp),
        Command::Restore => restore(ctx),
        Command::SetTimeouts(t) => result(ctx, Operation::SetTimeouts, ctx.ipvs.set_timeouts(&t)),
        Command::StartDaemon(daemon) => {
            result(ctx, Operation::StartDaemon, ctx.ipvs.start_daemon(&daemon))
        }
        Command::StopDaemon(role) => result(ctx, Operation::StopDaemon, ctx.ipvs.stop_daemon(role)),
        // Changes were handled above.
        _ => Flow::Done(0),
    }
}

fn result(ctx: &mut Context<'_>, op: Operation, outcome: ipvs::Result<()>) -> Flow {
    match outcome {
        Ok(()) => Flow::Done(0),
        Err(e) => {
            ctx.complain(&message(op, &e));
            Flow::Done(-1)
        }
    }
}

/// A listing that failed: ipvsadm prints the message and exits 1.
fn list_failed(ctx: &mut Context<'_>, op: Operation, e: &ipvs::Error) -> Flow {
    ctx.complain(&message(op, e));
    Flow::Exit(1)
}

fn list(ctx: &mut Context<'_>, target: ListTarget, f: &Format) -> Flow {
    let rendered = match target {
        ListTarget::All => return list_all(ctx, f),
        ListTarget::Connections => {
            let conns = match ctx.ipvs.connections() {
                Ok(conns) => conns,
                Err(e) if e.kind() == ipvs::ErrorKind::Io => {
                    ctx.complain("cannot open file /proc/net/ip_vs_conn");
                    return Flow::Exit(1);
                }
                // ipvsadm's words for a file it cannot read as it expects.
                Err(_) => {
                    ctx.complain("unexpected input from /proc/net/ip_vs_conn");
                    return Flow::Exit(1);
                }
            };
            if f.json {
                json::connections(&conns)
            } else if f.table {
                table::connections(&conns)
            } else {
                text::connections(&conns, f)
            }
        }
        ListTarget::Service(key) => {
            let mut service = match read_service(ctx.ipvs, &key) {
                Ok(s) => s,
                Err((op, err)) => return list_failed(ctx, op, &err),
            };
            if f.json || f.table {
                let mut one = vec![service];
                if !f.nosort {
                    valid_order(&mut one);
                }
                if f.json {
                    json::table(&one)
                } else {
                    table::table(&one, f)
                }
            } else {
                if !f.nosort {
                    ipvsadm_destination_order(&mut service.destinations);
                }
                text::list_service(&service, f)
            }
        }
        ListTarget::Timeouts => {
            let Ok(t) = ctx.ipvs.timeouts() else {
                return Flow::Exit(1);
            };
            if f.json {
                json::timeouts(&t)
            } else if f.table {
                table::timeouts(&t)
            } else {
                text::timeouts(&t)
            }
        }
        ListTarget::Daemons => {
            let Ok(d) = ctx.ipvs.daemons() else {
                return Flow::Exit(1);
            };
            if f.json {
                json::daemons(&d)
            } else if f.table {
                table::daemons(&d)
            } else {
                text::daemons(&d)
            }
        }
    };
    ctx.say(&rendered);
    Flow::Done(0)
}

/// What ipvsadm's text (a listing, or the rules of `-S`) needs of the table.
fn text_needs(f: &Format) -> Needs {
    Needs {
        full_servers: f.stats || f.rate || f.thresholds || f.persistent_conn || f.tun_info,
        settled: false,
        sorted: !f.nosort,
    }
}

/// The whole table (also what a bare `ipvsadm` does).
pub(crate) fn list_all(ctx: &mut Context<'_>, f: &Format) -> Flow {
    if !f.json && !f.table {
        let listing = match read_table(ctx.ipvs, &text_needs(f)) {
            Ok(listing) => listing,
            Err(e) => {
                // ipvsadm prints its header before it reads the services.
                let header = format!(
                    "IP Virtual Server version {} (size={})\n",
                    ctx.info.version, ctx.info.connection_table_size
                );
                ctx.say(&header);
                return list_failed(ctx, Operation::ListServices, &e);
            }
        };
        let services = listing.services();
        return match text::list_all(ctx.out, &ctx.info, services, f, false) {
            Ok(()) => Flow::Done(0),
            Err(e) => list_failed(ctx, Operation::ListDestinations, &e),
        };
    }
    // Settled: a JSON listing can become the desired state of an apply,
    // which would delete a service the dump skipped.
    let needs = Needs {
        full_servers: true,
        settled: true,
        sorted: !f.nosort,
    };
    let table: ipvs::Result<Vec<ServiceInfo>> =
        read_table(ctx.ipvs, &needs).and_then(|listing| listing.services().collect());
    let table = match table {
        Ok(t) => t,
        Err(e) => return list_failed(ctx, Operation::ListServices, &e),
    };
    let rendered = if f.json {
        json::table(&table)
    } else {
        table::table(&table, f)
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
