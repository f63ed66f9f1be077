//! `ipvsadm-rs apply`, `diff` and `check`: make the services a desired-state
//! file lists (the JSON that `ipvsadm-rs -L --json` prints) be as it says,
//! show what that would change, or check the file without a kernel. An apply
//! touches only the services its file lists unless told otherwise
//! (`--prune`), and is all or nothing: on failure it undoes what it applied.
//! Exit status: 0 done, 1 failed with the table as found (or `diff` found
//! differences), 2 bad input or no IPVS, 3 failed with the table changed.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::stdout::Output;
use clap::{Args, Parser, Subcommand};
use ipvs::{
    ApplyOptions, ApplyReport, DesiredState, DiffOptions, Ipvs, OnFailure, Plan, Removal, Scope,
    json_document,
};

/// Desired-state commands of ipvsadm-rs.
#[derive(Debug, Parser)]
#[command(name = "ipvsadm-rs", about = "Desired-state commands of ipvsadm-rs")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What a plan may touch and how it removes.
#[derive(Debug, Args)]
struct PlanArgs {
    /// The desired state (JSON, as `-L --json` prints it); `-` reads standard input.
    #[arg(short = 'f', long = "file")]
    file: String,
    /// Also remove every service the file does not list (by default they are
    /// left alone: another tool's, or made by hand).
    #[arg(long)]
    prune: bool,
    /// Leave the weights of existing real servers as they are (a health
    /// checker's); weights are set only on real servers the apply adds.
    #[arg(long)]
    keep_weights: bool,
    /// Drain what is to go instead of deleting it at once: weights to 0,
    /// deleted on a later apply once it has no connections.
    #[arg(long)]
    drain: bool,
    /// Keep the real servers of mh, sh and dh services in the canonical
    /// order (by address, IPv4 first, then port), deleting and adding again
    /// those out of order, so that directors with the same file choose the
    /// same real server for a client whatever their history.
    #[arg(long)]
    canonical_order: bool,
}

impl PlanArgs {
    fn options(&self) -> DiffOptions {
        DiffOptions::default()
            .with_scope(if self.prune {
                Scope::Whole
            } else {
                Scope::Listed
            })
            .with_keep_weights(self.keep_weights)
            .with_canonical_order(self.canonical_order)
            .with_removal(if self.drain {
                Removal::Drain
            } else {
                Removal::Delete
            })
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the services FILE lists as it says, changing only what differs.
    Apply {
        #[command(flatten)]
        plan: PlanArgs,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: print the plan as a JSON document.
        #[arg(long, requires = "dry_run")]
        json: bool,
        /// With --drain: wait up to SECONDS for what drains to be idle,
        /// deleting it as it gets there, and delete what is left at the end.
        #[arg(long, value_name = "SECONDS", requires = "drain")]
        drain_timeout: Option<u64>,
        /// On failure keep the changes applied so far, instead of undoing
        /// them all.
        #[arg(long)]
        no_rollback: bool,
        /// Seconds to wait for another apply in this network namespace.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
    },
    /// Print what `apply` would change; exit 1 if anything.
    Diff {
        #[command(flatten)]
        plan: PlanArgs,
        /// Print the plan as a JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Check FILE as apply would before sending anything, without a kernel
    /// or privileges; exit 0 if it is valid, 2 if not.
    Check {
        /// The desired state; `-` reads standard input.
        #[arg(short = 'f', long = "file")]
        file: String,
    },
}

fn read(file: &str) -> Result<String, String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("standard input: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))
    }
}

/// Runs `apply`, `diff` or `check` if `args[1]` names one; `None` otherwise.
pub(crate) fn run_if_subcommand(args: &[String]) -> Option<i32> {
    if !matches!(
        args.get(1).map(String::as_str),
        Some("apply" | "diff" | "check")
    ) {
        return None;
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Some(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Output goes to a pipe that may close early (`| head`): not an error.
    let mut out = Output::new(std::io::stdout().lock());
    let code = match run(cli, &mut out) {
        Ok(code) => code,
        Err(msg) => {
            let _ = writeln!(std::io::stderr(), "{}: {msg}", args[0]);
            2
        }
    };
    Some(match out.finish() {
        Some(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "{}: writing standard output: {e}",
                args[0]
            );
            code.max(1)
        }
        None => code,
    })
}

/// Exit status of an apply that failed but left the table as it found it.
const FAILED_UNCHANGED: i32 = 1;
/// Exit status of an apply that failed and left the table changed: neither
/// as found nor as desired.
const FAILED_CHANGED: i32 = 3;

fn run(cli: Cli, out: &mut dyn Write) -> Result<i32, String> {
    match cli.command {
        Command::Check { file } => check(&file, out),
        Command::Diff { plan, json } => {
            let (desired, ipvs) = open(&plan.file)?;
            let planned = ipvs
                .plan(&desired, &plan.options())
                .map_err(|e| e.to_string())?;
            print_plan(out, &planned, json);
            // diff exits 1 when there are differences, as diff(1) does.
            Ok(if planned.is_empty() { 0 } else { 1 })
        }
        Command::Apply {
            plan,
            dry_run: true,
            json,
            ..
        } => {
            let (desired, ipvs) = open(&plan.file)?;
            let planned = ipvs
                .plan(&desired, &plan.options())
                .map_err(|e| e.to_string())?;
            print_plan(out, &planned, json);
            if !json {
                let n = planned.steps.len();
                let _ = writeln!(out, "{} planned (dry run: nothing changed)", changes(n));
            }
            Ok(0)
        }
        Command::Apply {
            plan,
            drain_timeout,
            no_rollback,
            lock_timeout,
            ..
        } => {
            let (desired, ipvs) = open(&plan.file)?;
            let options = ApplyOptions::default()
                .with_diff(plan.options())
                .with_on_failure(if no_rollback {
                    OnFailure::Keep
                } else {
                    OnFailure::RollBack
                })
                .with_lock_timeout(Some(Duration::from_secs(lock_timeout)));
            apply(&ipvs, &desired, options, drain_timeout, out)
        }
    }
}

/// `changes` with its number, singular or plural.
fn changes(n: usize) -> String {
    format!("{n} change{}", if n == 1 { "" } else { "s" })
}

fn were(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// Reads a desired-state file; its notes (an older schema read as the
/// current one) go to stderr.
fn desired_state(file: &str) -> Result<DesiredState, String> {
    let (desired, notes) =
        DesiredState::from_json_with_notes(&read(file)?).map_err(|e| e.to_string())?;
    let mut err = std::io::stderr().lock();
    for note in notes {
        let _ = writeln!(err, "{file}: note: {note}");
    }
    Ok(desired)
}

/// Reads the file and opens the handle.
fn open(file: &str) -> Result<(DesiredState, Ipvs), String> {
    let desired = desired_state(file)?;
    // As the ipvsadm commands: `modprobe -- ip_vs` once if the kernel has
    // no IPVS yet.
    let ipvs = crate::open_ipvs().map_err(|e| e.to_string())?;
    Ok((desired, ipvs))
}

/// `check`: everything the library checks before sending, without a kernel.
/// Whether a locally forwarded real server's address is the director's is
/// a question for the director itself, so apply asks it there.
fn check(file: &str, out: &mut dyn Write) -> Result<i32, String> {
    let desired = desired_state(file)?;
    let servers: usize = desired.services.iter().map(|s| s.destinations.len()).sum();
    let services = desired.services.len();
    let _ = writeln!(
        out,
        "{file}: valid ({services} service{}, {servers} real server{})",
        if services == 1 { "" } else { "s" },
        if servers == 1 { "" } else { "s" },
    );
    Ok(0)
}

fn print_plan(out: &mut dyn Write, plan: &Plan, json: bool) {
    if json {
        let _ = writeln!(out, "{}", json_document(plan));
    } else {
        let _ = write!(out, "{plan}");
    }
}

/// Applies, and with a drain timeout goes on applying (deleting what became
/// idle) until nothing drains or the time is up, then deletes what is left.
fn apply(
    ipvs: &Ipvs,
    desired: &DesiredState,
    options: ApplyOptions,
    drain_timeout: Option<u64>,
    out: &mut dyn Write,
) -> Result<i32, String> {
    let started = Instant::now();
    let mut applied = 0;
    let mut options = options;
    let mut draining;
    loop {
        let report = ipvs.apply(desired, &options).map_err(|e| e.to_string())?;
        for step in &report.applied {
            let _ = writeln!(out, "{step}");
        }
        let _ = out.flush();
        applied += report.applied.len();
        if !report.is_success() {
            return Ok(failed(&report));
        }
        draining = report.draining;
        let Some(bound) = drain_timeout.map(Duration::from_secs) else {
            break;
        };
        // What still drains is what this apply's own read found (a table of
        // thousands of services takes seconds to read again).
        let waiting = &draining;
        if waiting.is_empty() || options.diff.removal == Removal::Delete {
            break;
        }
        if started.elapsed() >= bound {
            // The bound: what still has connections goes now.
            for d in waiting {
                let _ = writeln!(out, "{d}: deleting it (--drain-timeout)");
            }
            options.diff = options.diff.clone().with_removal(Removal::Delete);
            continue;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = writeln!(out, "{} applied", changes(applied));
    if drain_timeout.is_none() {
        for d in &draining {
            let _ = writeln!(out, "{d} (apply again to delete it once idle)");
        }
    }
    Ok(0)
}

/// Reports a failed apply on stderr; its exit status.
fn failed(report: &ApplyReport) -> i32 {
    let mut err = std::io::stderr().lock();
    for (step, e) in &report.failed {
        let _ = writeln!(err, "failed: {step}: {e}");
    }
    if let Some(e) = &report.stopped {
        let _ = writeln!(err, "stopped: {e}");
    }
    let applied = report.applied.len();
    if report.is_unchanged() {
        let what = match (&report.rollback, applied) {
            (Some(_), 0) => "what may have been applied was undone".to_owned(),
            (Some(_), n) => format!("{} {} applied and then undone", changes(n), were(n)),
            (None, _) => "nothing was changed".to_owned(),
        };
        let _ = writeln!(err, "apply failed: {what}; the table is as it was found");
        return FAILED_UNCHANGED;
    }
    match &report.rollback {
        Some(rollback) => {
            for (step, e) in &rollback.failed {
                let _ = writeln!(err, "could not undo: {step}: {e}");
            }
            if let Some(e) = &rollback.error {
                let _ = writeln!(err, "could not undo: {e}");
            }
        }
        None => {
            let _ = writeln!(
                err,
                "apply failed: {} {} applied and kept (--no-rollback)",
                changes(applied),
                were(applied)
            );
        }
    }
    let _ = writeln!(
        err,
        "the table is neither as it was found nor as desired: read it with -Ln"
    );
    FAILED_CHANGED
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_args(args: &[&str]) -> PlanArgs {
        let argv = ["ipvsadm-rs"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Apply { plan, .. } | Command::Diff { plan, .. } => plan,
            Command::Check { .. } => panic!("not a plan"),
        }
    }

    #[test]
    fn canonical_order_is_asked_for_by_its_option() {
        for sub in ["apply", "diff"] {
            let asked = plan_args(&[sub, "-f", "t.json", "--canonical-order"]).options();
            assert!(asked.canonical_order, "{sub}");
            let plain = plan_args(&[sub, "-f", "t.json"]).options();
            assert!(!plain.canonical_order, "{sub}");
        }
    }
}
