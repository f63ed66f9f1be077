//! Support shared by the workspace's whole-system tests and examples: a fresh
//! network namespace per test, Debian's ipvsadm 1.31 as the reference, a
//! small HTTP server and client, and the LVS lab (the `lvs-lab` program).
//!
//! The real-kernel tests (`tests/kernel*.rs`) run as root in the test VM (see
//! `tests/vm/`), or directly on a host whose kernel has IPVS. Each test enters
//! its own network namespace first, so it has an IPVS table of its own and
//! never touches the host's.
#![cfg(target_os = "linux")]
#![warn(missing_docs)]

pub mod http;
pub mod lab;
pub mod measure;
pub mod netns;
pub mod reference;
pub mod tables;
