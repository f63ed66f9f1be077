//! Makes the services a desired-state file lists (the JSON document that
//! `ipvsadm-rs -L --json` prints) be as it says, changing only what differs,
//! all or nothing: a step the kernel refuses undoes the others. Services the
//! file does not list are left alone, unless `--prune`.
//!
//! ```text
//! apply_file FILE [--dry-run] [--drain] [--prune]
//! ```
//! `--dry-run` prints the plan without changing anything; `--drain` sets the
//! weight of real servers to remove to 0 first and deletes them on a later
//! run, once they have no connections; `--prune` removes every service the
//! file does not list.

use ipvs::{ApplyOptions, DesiredState, DiffOptions, Ipvs, Removal, Scope};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: apply_file FILE [--dry-run] [--drain] [--prune]")?;
    let (mut dry_run, mut removal, mut scope) = (false, Removal::Delete, Scope::Listed);
    for arg in args {
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            "--drain" => removal = Removal::Drain,
            "--prune" => scope = Scope::Whole,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let desired = DesiredState::from_json(&text)?;
    let ipvs = Ipvs::new()?;
    let diff = DiffOptions::default()
        .with_removal(removal)
        .with_scope(scope);
    let options = ApplyOptions::default().with_diff(diff);
    if dry_run {
        let plan = ipvs.plan(&desired, &options.diff)?;
        print!("{plan}");
        println!("{} changes planned", plan.steps.len());
        return Ok(());
    }
    let report = ipvs.apply(&desired, &options)?;
    for step in &report.applied {
        println!("{step}");
    }
    if report.is_success() {
        println!("{} changes applied", report.applied.len());
        return Ok(());
    }
    for (step, err) in &report.failed {
        eprintln!("failed: {step}: {err}");
    }
    if let Some(err) = &report.stopped {
        eprintln!("stopped: {err}");
    }
    // By default a failed apply undoes what it applied.
    if report.is_unchanged() {
        eprintln!("nothing changed: the table is as it was found");
    } else if let Some(rollback) = &report.rollback {
        for (step, err) in &rollback.failed {
            eprintln!("could not undo: {step}: {err}");
        }
        if let Some(err) = &rollback.error {
            eprintln!("could not undo: {err}");
        }
    }
    std::process::exit(1);
}
