//! The workspace's umbrella package. It has no code of its own: it holds the
//! runnable examples (`examples/`, for users of the `ipvs` library) and the
//! whole-system tests (`tests/`): the examples and the LVS lab (the
//! `lvs-lab` crate) on the real kernel, in the test VM (`tests/vm/`).
//!
//! Each crate owns its unit, API and kernel tests (`ipvs-sys/tests`,
//! `ipvs/tests`, `ipvsadm-rs/tests`); the test bed they share (namespaces,
//! the reference ipvsadm, HTTP helpers) is the `testbed` crate.
#![warn(missing_docs)]
