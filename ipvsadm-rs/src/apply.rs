//! `ipvsadm-rs apply` and `ipvsadm-rs diff`: make the kernel's table equal
//! to a desired-state file (the JSON that `ipvsadm-rs -L --json` prints), or
//! show what that would change. An apply is all or nothing: on failure it
//! undoes what it applied. Exit status: 0 done, 1 failed with the table as
//! found (or `diff` found differences), 2 bad input or no IPVS, 3 failed
//! with the table changed.

use std::io::{Read, Write};
use std::time::Duration;

use crate::stdout::Output;
use clap::{Parser, Subcommand};
use ipvs::{ApplyOptions, DesiredState, DiffOptions, Ipvs, OnFailure, Removal};

/// Desired-state commands of ipvsadm-rs.
#[derive(Debug, Parser)]
#[command(name = "ipvsadm-rs", about = "Desired-state commands of ipvsadm-rs")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the table equal to FILE, changing only what differs.
    Apply {
        /// The desired state (JSON, as `-L --json` prints it); `-` reads standard input.
        #[arg(short = 'f', long = "file")]
        file: String,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Set real servers to remove to weight 0; delete them on a later
        /// apply, once they have no connections.
        #[arg(long)]
        drain: bool,
        /// On failure keep the changes applied so far, instead of undoing
        /// them all.
        #[arg(long)]
        no_rollback: bool,
        /// Seconds to wait for another apply in this network namespace.
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
    },
    /// Print what `apply` would change.
    Diff {
        /// The desired state; `-` reads standard input.
        #[arg(short = 'f', long = "file")]
        file: String,
        /// Plan draining instead of deleting real servers to remove.
        #[arg(long)]
        drain: bool,
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

/// Runs `apply` or `diff` if `args[1]` names one; `None` otherwise.
pub(crate) fn run_if_subcommand(args: &[String]) -> Option<i32> {
    if !matches!(args.get(1).map(String::as_str), Some("apply" | "diff")) {
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
    let (file, removal, mode) = match cli.command {
        Command::Apply {
            file,
            dry_run,
            drain,
            no_rollback,
            lock_timeout,
        } => {
            let mode = if dry_run {
                Mode::DryRun
            } else {
                Mode::Apply {
                    on_failure: if no_rollback {
                        OnFailure::Keep
                    } else {
                        OnFailure::RollBack
                    },
                    lock_timeout: Duration::from_secs(lock_timeout),
                }
            };
            (file, drain, mode)
        }
        Command::Diff { file, drain } => (file, drain, Mode::Diff),
    };
    let removal = if removal {
        Removal::Drain
    } else {
        Removal::Delete
    };
    let desired = DesiredState::from_json(&read(&file)?).map_err(|e| e.to_string())?;
    let ipvs = Ipvs::new().map_err(|e| e.to_string())?;
    let diff_options = DiffOptions::default().with_removal(removal);
    let (on_failure, lock_timeout) = match mode {
        Mode::Apply {
            on_failure,
            lock_timeout,
        } => (on_failure, lock_timeout),
        Mode::DryRun | Mode::Diff => {
            let plan = ipvs
                .plan(&desired, &diff_options)
                .map_err(|e| e.to_string())?;
            let _ = write!(out, "{plan}");
            if mode == Mode::DryRun {
                let _ = writeln!(
                    out,
                    "{} changes planned (dry run: nothing changed)",
                    plan.steps.len()
                );
                return Ok(0);
            }
            // diff exits 1 when there are differences, as diff(1) does.
            return Ok(if plan.is_empty() { 0 } else { 1 });
        }
    };
    let options = ApplyOptions::default()
        .with_diff(diff_options)
        .with_on_failure(on_failure)
        .with_lock_timeout(Some(lock_timeout));
    let report = ipvs.apply(&desired, &options).map_err(|e| e.to_string())?;
    for step in &report.applied {
        let _ = writeln!(out, "{step}");
    }
    let _ = out.flush();
    if report.is_success() {
        let _ = writeln!(out, "{} changes applied", report.applied.len());
        return Ok(0);
    }
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
            (Some(_), n) => format!("{n} changes were applied and then undone"),
            (None, _) => "nothing was changed".to_owned(),
        };
        let _ = writeln!(err, "apply failed: {what}; the table is as it was found");
        return Ok(FAILED_UNCHANGED);
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
                "apply failed: {applied} changes were applied and kept (--no-rollback)"
            );
        }
    }
    let _ = writeln!(
        err,
        "the table is neither as it was found nor as desired: read it with -Ln"
    );
    Ok(FAILED_CHANGED)
}

/// What the command does with the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Apply {
        on_failure: OnFailure,
        lock_timeout: Duration,
    },
    DryRun,
    Diff,
}
