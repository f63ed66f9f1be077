//! The LVS lab: a client, two directors and three real servers, each a
//! network namespace, wired through two switches (bridges): the LAN
//! (10.0.0.0/24, the client's side, where the virtual IP 10.0.0.100 lives)
//! and the internal network of the real servers (192.168.10.0/24, whose
//! gateway 192.168.10.1 floats with the virtual IP). The directors are
//! configured with `ipvsadm-rs`; the real servers run a small HTTP server
//! that answers with its name, so the client can count who served it.
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

mod report;
mod steps;
mod topology;

pub use report::{Report, StepResult};
pub use steps::run_all;
pub use topology::{Lab, Tools};
