//! `ipvsadm-rs apply` and `ipvsadm-rs diff`: make the kernel's table equal
//! to a desired-state file (the JSON that `ipvsadm-rs -L --json` prints), or
//! show what that would change.

use std::io::Read;

use clap::{Parser, Subcommand};
use ipvs::{ApplyOptions, DesiredState, DiffOptions, Ipvs, Removal, diff};

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
pub fn run_if_subcommand(args: &[String]) -> Option<i32> {
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
    Some(match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{}: {msg}", args[0]);
            2
        }
    })
}

fn run(cli: Cli) -> Result<i32, String> {
    let (file, removal, dry_run, only_diff) = match cli.command {
        Command::Apply {
            file,
            dry_run,
            drain,
        } => (file, drain, dry_run, false),
        Command::Diff { file, drain } => (file, drain, true, true),
    };
    let removal = if removal {
        Removal::Drain
    } else {
        Removal::Delete
    };
    let desired = DesiredState::from_json(&read(&file)?).map_err(|e| e.to_string())?;
    let ipvs = Ipvs::new().map_err(|e| e.to_string())?;
    let options = ApplyOptions {
        diff: DiffOptions { removal },
        ..Default::default()
    };
    if dry_run {
        let plan = diff(
            &ipvs.table().map_err(|e| e.to_string())?,
            &desired,
            &options.diff,
        );
        print!("{plan}");
        if !only_diff {
            println!(
                "{} changes planned (dry run: nothing changed)",
                plan.steps.len()
            );
        }
        // diff exits 1 when there are differences, as diff(1) does.
        return Ok(if only_diff && !plan.is_empty() { 1 } else { 0 });
    }
    let report = ipvs.apply(&desired, &options).map_err(|e| e.to_string())?;
    for step in &report.applied {
        println!("{step}");
    }
    for (step, err) in &report.failed {
        eprintln!("failed: {step}: {err}");
    }
    println!("{} changes applied", report.applied.len());
    Ok(if report.is_success() { 0 } else { 1 })
}
