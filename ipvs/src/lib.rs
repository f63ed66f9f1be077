//! Safe control of the Linux kernel's IP Virtual Server (IPVS).
//!
//! A [`Ipvs`] handle talks to the kernel over one netlink socket (through
//! `ipvs-sys`): virtual services ([`Service`], identified by a
//! [`ServiceKey`]), their real servers ([`Destination`]), schedulers,
//! persistence, tunnels, counters ([`Stats`]), timeouts, sync daemons,
//! network namespaces, pipelined batches ([`Change`]) and a declarative
//! desired state ([`DesiredState`], [`diff`], [`Ipvs::apply`]).
//!
//! Configuration and observed state are kept apart: a [`Service`] is what
//! you configure; a [`ServiceInfo`] is what the kernel reports, with counters
//! and, from [`Ipvs::table`], real servers.
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use ipvs::{Destination, ForwardMethod, Ipvs, Scheduler, Service, ServiceKey};
//!
//! let ipvs = Ipvs::new()?;
//! let key = ServiceKey::tcp(Ipv4Addr::new(192, 0, 2, 10), 80);
//! ipvs.add_service(&Service::new(key).with_scheduler(Scheduler::RoundRobin))?;
//! for host in [21, 22, 23] {
//!     let rs = Destination::new(Ipv4Addr::new(10, 0, 0, host), 8080, ForwardMethod::Masq);
//!     ipvs.add_destination(&key, &rs)?;
//! }
//! for service in ipvs.table()? {
//!     println!("{} ({} connections)", service.service, service.stats.connections);
//! }
//! # Ok::<(), ipvs::Error>(())
//! ```
//!
//! Errors say which operation failed and why ([`ErrorKind`]), keeping the
//! kernel's errno; a kernel without IPVS gives [`ErrorKind::NotAvailable`].
//! The library never loads kernel modules itself.
//!
//! The default feature `serde` brings the JSON documents, `Serialize` and
//! `Deserialize` for the domain types, and the desired state with its plan
//! and apply ([`DesiredState`], [`diff`], [`Ipvs::apply`]); without it
//! (`default-features = false`) the crate has neither `serde` nor
//! `serde_json` as a dependency.
//!
//! A handle can also be made over any netlink transport
//! ([`Ipvs::with_transport`]), such as `ipvs_sys::scripted::ScriptedKernel`,
//! which answers from a script: handle logic is testable without IPVS.
#![cfg(target_os = "linux")]
#![warn(missing_docs)]

mod batch;
mod daemon;
#[cfg(feature = "serde")]
mod desired;
mod destination;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod handle;
mod info;
mod key;
mod local;
pub mod mh;
mod namespace;
mod proc;
mod read;
mod rules;
mod service;
mod stats;
pub mod sysctl;
mod timeouts;
mod wire;

pub use batch::Change;
pub use daemon::{DaemonRole, SyncDaemon};
#[cfg(feature = "serde")]
pub use desired::apply::{APPLY_LOCK_NAME, ApplyOptions, ApplyReport, OnFailure, Rollback};
#[cfg(feature = "serde")]
pub use desired::json::{SCHEMA_VERSION, json_document, table_json};
#[cfg(feature = "serde")]
pub use desired::order::{canonical_order, order_matters};
#[cfg(feature = "serde")]
pub use desired::plan::{DiffOptions, Draining, Plan, Removal, Scope, Step, diff};
#[cfg(feature = "serde")]
pub use desired::{DesiredState, ServiceSpec};
pub use destination::{Destination, ForwardMethod, Tunnel, TunnelChecksum, TunnelKind};
pub use error::{Error, ErrorKind, Operation, Result};
pub use handle::{DestinationUpdate, Ipvs, ServiceUpdate};
pub use info::{KernelInfo, Version};
pub use key::{AddressFamily, ParseServiceKeyError, Protocol, ServiceKey};
pub use proc::{Connection, parse_connections};
pub use read::{Destinations, ReadOptions, TableRead};
pub use rules::{MAX_SYNC_LEN, MAX_TIMEOUT, MAX_WEIGHT, Violation, sync_len_range};
pub use service::{Netmask, Persistence, SchedFlags, Scheduler, Service};
pub use stats::{DestinationInfo, ServiceInfo, Stats};
pub use timeouts::Timeouts;
