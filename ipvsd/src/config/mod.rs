//! The daemon's configuration: keepalived.conf and native TOML, read into
//! one validated [`Model`].
//!
//! ```no_run
//! use std::path::Path;
//! use ipvsd::config::{KeepalivedOptions, read_keepalived};
//!
//! let loaded = read_keepalived(Path::new("/etc/keepalived/keepalived.conf"), &KeepalivedOptions::default())?;
//! for vs in &loaded.model.virtual_servers {
//!     println!("{}: {} real servers", vs.name(), vs.real_servers.len());
//! }
//! # Ok::<(), ipvsd::config::ConfigError>(())
//! ```

pub mod checker;
mod error;
pub mod group;
mod keepalived;
#[cfg(test)]
mod keepalived_tests;
pub mod lexer;
mod model;
mod native;
#[cfg(test)]
mod native_tests;
pub mod route_health;
mod validate;
mod values;
pub mod vrrp;

pub use error::{ConfigError, Location, Note};
pub(crate) use keepalived::pcre_to_regex;
pub use keepalived::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, DEFAULT_PERSISTENCE_TIMEOUT, KeepalivedOptions,
    Loaded, SCHEDULERS, read_keepalived, read_keepalived_str,
};
pub use model::{
    DEFAULT_STATUS_LISTEN, FlushOnStop, Global, GroupMember, Model, RealServer, Script, Smtp,
    SorryServer, SyncDaemonConfig, TlsClient, VirtualServer, VirtualTarget,
};
pub use native::{read_native, read_native_str, read_route_health_file, to_toml};
