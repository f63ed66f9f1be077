//! `ipvsadm-rs`: a drop-in replacement for ipvsadm 1.31 on the `ipvs`
//! library, with JSON and table views of every listing and the desired-state
//! `apply`/`diff` commands.
//!
//! The layers, each in its own module: [`popt`] scans the words as popt does,
//! [`parse`] turns them into a validated [`parse::Entry`] with ipvsadm's
//! rules and messages, [`exec`] runs it through the library, and [`output`]
//! renders what it read (ipvsadm text, JSON, table).
#![cfg(target_os = "linux")]

pub mod apply;
pub mod exec;
pub mod options;
pub mod output;
pub mod parse;
pub mod popt;
pub mod resolve;
pub mod restore;
pub mod sort;
pub mod stdout;
pub mod strerror;
pub mod usage;
