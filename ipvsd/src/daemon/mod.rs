//! The daemon: checkers, reconcile, reload, stop, status.
//!
//! - [`mapping`]: the model's checkers as the runtime's probes;
//! - [`reconcile`]: model and health into an `ipvs::DesiredState`, pure;
//! - [`drift`]: which services a brief read of the table shows changed;
//! - [`engine`]: the state between events (health, quorum, draining) and
//!   what a reload changes, without I/O;
//! - [`notify`]: scripts and keepalived's notify FIFO;
//! - [`vrrp`]: the VRRP instances and what their state changes set off;
//! - `switches`: the `sloppy_tcp`/`sloppy_sctp` sysctls, set and put back;
//! - [`sync_group`]: the rules that move a `vrrp_sync_group`'s members
//!   together, without I/O;
//! - [`run()`]: the edges: signals, the runner, the kernel, the status API.

pub mod drift;
pub mod engine;
pub mod mapping;
pub mod notify;
pub mod reconcile;
mod run;
mod switches;
pub mod sync_group;
#[cfg(test)]
mod tests;
pub mod vrrp;

pub use run::run;
