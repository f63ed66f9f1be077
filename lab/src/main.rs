//! The LVS lab, end to end, on real traffic: `tests/vm/lab` runs it in the
//! test VM (or directly, as root, on a host whose kernel has IPVS).
//!
//! ```text
//! lvs-lab [--json]
//! ```
//! It prints what it does step by step and a summary table; `--json` prints
//! a machine-readable report on standard output (the log goes to standard
//! error then). It exits 0 if every step behaved as expected, 1 if one did
//! not, 2 if the lab could not run.

use std::io::Write;
use std::process::ExitCode;

use lvs_lab::{Lab, Tools, run_all};

fn main() -> ExitCode {
    let json = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--json") => true,
        Some(other) => {
            eprintln!("lvs-lab: unknown argument `{other}` (usage: lvs-lab [--json])");
            return ExitCode::from(2);
        }
    };
    let log: Box<dyn FnMut(&str) + Send> = if json {
        Box::new(|line| eprintln!("{line}"))
    } else {
        Box::new(|line| {
            println!("{line}");
            let _ = std::io::stdout().flush();
        })
    };
    let result = std::env::current_exe()
        .and_then(|exe| Tools::next_to(&exe))
        .and_then(|tools| Lab::build(tools, log))
        .and_then(|mut lab| run_all(&mut lab));
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            eprintln!("lvs-lab: the lab could not run: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        eprintln!("\n{}", report.table());
        println!("{}", report.json());
    } else {
        println!("\n{}", report.table());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
