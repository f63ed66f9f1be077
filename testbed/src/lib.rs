//! The workspace's test bed, shared by the kernel tests and benchmarks of
//! every crate and by the LVS lab: a fresh network namespace per test
//! ([`netns`]), Debian's ipvsadm 1.31 as the reference ([`reference`](mod@reference)), a
//! small HTTP server and client ([`http`]), real servers a test stops,
//! breaks and restarts ([`servers`]), Debian's keepalived as the daemon's
//! reference ([`keepalived`]), measuring a program's time and memory
//! ([`measure`]) and large generated tables ([`tables`]).
//!
//! It depends on no crate of the workspace (namespaces are emptied through
//! the reference ipvsadm), so `ipvs-sys` and `ipvs` can use it in their
//! tests without compiling a second copy of themselves.
//!
//! The real-kernel tests (`tests/kernel*.rs` of each crate) run as root in
//! the test VM (see `tests/vm/`), or directly on a host whose kernel has
//! IPVS. Each test enters its own network namespace first, so it has an IPVS
//! table of its own and never touches the host's:
//!
//! ```no_run
//! testbed::netns::enter_fresh();
//! let saved = testbed::reference::ipvsadm_ok(&["-Sn"]);
//! assert_eq!(saved, "");
//! ```
#![cfg(target_os = "linux")]
#![warn(missing_docs)]

pub mod http;
pub mod keepalived;
pub mod measure;
pub mod netns;
pub mod reference;
pub mod servers;
pub mod tables;
pub mod vrrp;
