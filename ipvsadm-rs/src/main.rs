//! The `ipvsadm-rs` program: ipvsadm 1.31's command line, plus `apply`,
//! `diff` and `check` for desired state (see [`ipvsadm_rs::run`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(ipvsadm_rs::run(&args))
}
