//! `ipvsadm-rs`: a drop-in replacement for ipvsadm 1.31 on the `ipvs`
//! library, with JSON and table views of every listing and the desired-state
//! `apply`/`diff` commands.
//!
//! The stages, each in its own module: the options are data (`options`),
//! scanned as popt does (`popt`); [`parse`] turns a command line into a
//! validated [`parse::Command`] of `ipvs` domain types with ipvsadm's rules
//! and messages; `exec` runs it through the library (reading the table in
//! one place, `read`, and ordering it as ipvsadm does, `sort`); and the
//! renderers of `output` format what they are given (ipvsadm text, JSON,
//! table). [`restore`] reads `-R` input.
//!
//! This library is the program's inside, public only for its tests and fuzz
//! targets: it is not a stable API (semantic versioning covers the command
//! line). Programs that manage IPVS want the `ipvs` library (`linux-ipvs`).
//!
//! ```
//! use ipvsadm_rs::parse::{Command, parse};
//!
//! let args: Vec<String> = ["-A", "-t", "10.0.0.1:80", "-s", "rr"]
//!     .iter()
//!     .map(|s| s.to_string())
//!     .collect();
//! let Ok(Command::AddService(service)) = parse(&args) else {
//!     panic!("a valid command line");
//! };
//! assert_eq!(service.scheduler.name(), "rr");
//! ```
#![cfg(target_os = "linux")]

mod apply;
mod exec;
#[cfg(feature = "generate")]
#[doc(hidden)]
pub mod generate;
mod options;
mod output;
pub mod parse;
mod popt;
mod read;
mod resolve;
pub mod restore;
mod sort;
mod stdout;
mod strerror;
mod usage;
mod warnings;

use std::io::Write;

use exec::{Context, Flow, list_all, run_line};
use stdout::Output;
use strerror::ipvs_strerror;

/// Runs the program with `args` (the program's name first) as `ipvsadm-rs`
/// does, and gives its exit status.
///
/// The order: `apply`, `diff` and `check` (which parse their own options
/// first); then `-h`/`--help`/`-v`/`--version` as the first option, which
/// need no kernel; then, for every other command line, the connection to
/// IPVS (running `/sbin/modprobe -- ip_vs` once if the kernel has no IPVS
/// family, as ipvsadm 1.31 does) before the command line is parsed and run.
pub fn run(args: &[String]) -> u8 {
    let exit = |code: i32| (code & 0xff) as u8;
    let prog = args.first().cloned().unwrap_or_else(|| "ipvsadm-rs".into());
    if let Some(code) = apply::run_if_subcommand(args) {
        return exit(code);
    }
    let stdout = std::io::stdout();
    let mut out = Output::new(std::io::BufWriter::new(stdout.lock()));
    let stderr = std::io::stderr();
    let mut err = stderr.lock();

    // Help and version need no kernel: answered before connecting (ipvsadm
    // 1.31 connects first, so without IPVS its -h fails; a deliberate
    // difference). Everything else connects first, as ipvsadm does, so its
    // messages and statuses stay ipvsadm's.
    if let Some(text) = early_answer(args.get(1..).unwrap_or_default(), &prog) {
        let _ = out.write_all(text.as_bytes());
        if let Some(e) = out.finish() {
            let _ = writeln!(err, "{prog}: writing standard output: {e}");
            return 1;
        }
        return 0;
    }
    let (ipvs, info) = match connect() {
        Ok(pair) => pair,
        Err(e) => {
            // ipvsadm falls back to the old socket option interface, which
            // answers ENOPROTOOPT on a kernel without IPVS.
            let errno = match e.kind() {
                ipvs::ErrorKind::NotAvailable => libc::ENOPROTOOPT,
                _ => e.errno().unwrap_or(libc::EINVAL),
            };
            let _ = writeln!(
                err,
                "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?",
                ipvs_strerror(ipvs::Operation::Connect, errno)
            );
            // ipvsadm's words do not say what to do; these do (a deliberate addition).
            if e.kind() == ipvs::ErrorKind::NotAvailable {
                let _ = writeln!(err, "{prog}: {e}");
            }
            return exit(2);
        }
    };
    let mut ctx = Context {
        ipvs: &ipvs,
        info,
        prog: &prog,
        out: &mut out,
        err: &mut err,
        line: None,
    };
    let flow = if args.len() <= 1 {
        list_all(&mut ctx, &Default::default())
    } else {
        run_line(&mut ctx, &args[1..], false)
    };
    let code = match flow {
        Flow::Done(0) => 0,
        Flow::Done(_) => 255,
        Flow::Exit(code) => code,
    };
    // A closed pipe on stdout is not a failure of the command; a full disk is.
    if let Some(e) = out.finish() {
        let _ = writeln!(err, "{prog}: writing standard output: {e}");
        return exit(if code == 0 { 1 } else { code });
    }
    exit(code)
}

/// The text of `-h`/`--help` or `-v`/`--version` when the first option of
/// `args` (the words after the program name) is one of them: what
/// [`parse::parse`] would stop with, found without resolving any name.
fn early_answer(args: &[String], prog: &str) -> Option<String> {
    let mut scanner = popt::Scanner::new(options::OPTIONS, args);
    match scanner.next_opt() {
        Ok(Some((def, _))) if def.tag == options::Tag::Help => Some(usage::usage(prog)),
        Ok(Some((def, _))) if def.tag == options::Tag::Version => Some(usage::version()),
        _ => None,
    }
}

/// Connects to IPVS and reads the kernel's info, as ipvsadm starts.
fn connect() -> ipvs::Result<(ipvs::Ipvs, ipvs::KernelInfo)> {
    open_ipvs().and_then(|ipvs| ipvs.info().map(|info| (ipvs, info)))
}

/// A handle on IPVS. When the kernel has no IPVS family, runs
/// `/sbin/modprobe -- ip_vs` once (as ipvsadm 1.31 does: needed on kernels
/// before 5.16, which do not load the module when the family is asked for)
/// and, if it succeeded, tries again.
///
/// # Errors
/// The first attempt's error if modprobe failed, otherwise the second's
/// ([`ipvs::ErrorKind::NotAvailable`] if there is still no IPVS).
pub(crate) fn open_ipvs() -> ipvs::Result<ipvs::Ipvs> {
    match ipvs::Ipvs::new() {
        Err(e) if e.kind() == ipvs::ErrorKind::NotAvailable => {
            if modprobe_ip_vs() {
                ipvs::Ipvs::new()
            } else {
                Err(e)
            }
        }
        other => other,
    }
}

/// Runs `/sbin/modprobe -- ip_vs` and waits for it, with this program's
/// standard streams (modprobe's own messages show, as under ipvsadm). True if
/// it ran and exited 0; a missing modprobe is a failure, silently.
fn modprobe_ip_vs() -> bool {
    std::process::Command::new("/sbin/modprobe")
        .args(["--", "ip_vs"])
        .status()
        .is_ok_and(|status| status.success())
}
