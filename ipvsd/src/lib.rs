//! `ipvsd`, an LVS director daemon built on the `ipvs` library.
//!
//! Layers, data flowing one way: `config` (keepalived.conf and native TOML
//! into one validated model), `check` (the health checkers), `reconcile`
//! (model and health into an `ipvs` desired state, applied with a scoped
//! apply), `status` (one snapshot for metrics, the JSON API and hooks).

pub mod check;
pub mod config;

use std::process::ExitCode;

/// Runs the command line; the binary's whole `main`.
pub fn run() -> ExitCode {
    eprintln!("ipvsd: not yet usable");
    ExitCode::from(2)
}
