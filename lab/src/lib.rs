//! The LVS lab: a client, two directors and three real servers, each a
//! network namespace, wired through two switches (bridges): the LAN
//! (10.0.0.0/24, the client's side, where the virtual IP 10.0.0.100 lives)
//! and the internal network of the real servers (192.168.10.0/24, whose
//! gateway 192.168.10.1 floats with the virtual IP). The directors are
//! configured with `ipvsadm-rs` by hand, then run `ipvsd` (the workspace's
//! director daemon) on a keepalived.conf for the health checks and for VRRP
//! between the two; the real servers run a small HTTP server that answers
//! with its name, so the client can count who served it.
//!
//! ```text
//!            client 10.0.0.2
//!                  |
//!   ---------- br-lan (10.0.0.0/24) ----------------------------------
//!        |  VIP 10.0.0.100        |                 |     |     |   (DR only)
//!   dir1 .11 (master)        dir2 .12 (backup)     rs1   rs2   rs3  .21-.23
//!        |  GW 192.168.10.1       |                 |     |     |
//!   ---------- br-int (192.168.10.0/24) -------------------------------
//! ```
//!
//! Every piece is in its own namespace: nothing of the host (or the VM's own
//! namespace) is touched but the namespaces themselves.
//!
//! The `lvs-lab` program builds it and runs every step ([`run_all`]);
//! `tests/vm/lab` runs that program in the test VM, and the workspace's
//! `tests/kernel_lab.rs` checks each step's result:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let tools = lvs_lab::Tools::next_to(&std::env::current_exe()?)?;
//! let mut lab = lvs_lab::Lab::build(tools, Box::new(|line| println!("{line}")))?;
//! let report = lvs_lab::run_all(&mut lab)?;
//! println!("{}", report.table());
//! # Ok(())
//! # }
//! ```
#![cfg(target_os = "linux")]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod daemon;
pub mod directors;
pub mod health;
mod report;
mod steps;
mod topology;

pub use report::{Failover, Report, StepResult};
pub use steps::run_all;
pub use topology::{Director, Lab, Tools};
