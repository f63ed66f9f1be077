//! ipvsd's native configuration, TOML: virtual services in the vocabulary
//! of the `ipvs` desired-state JSON (`protocol`, `address`, `port`,
//! `fwmark`, `scheduler`, `scheduler_flags`, `persistence`, `destinations`
//! with `forward`, `tunnel`, `weight`, ...), plus checkers, timing, quorum
//! and notify hooks, and VRRP (`[vrrp]` with `[[vrrp.instances]]`,
//! `[[vrrp.scripts]]`, `[[vrrp.sync_groups]]`). Every key is documented in `ipvsd/README.md`; an
//! unknown key is an error with its line.
//!
//! [`to_toml`] writes a model back out with every value explicit, which is
//! what `ipvsd convert` prints: reading it gives the same model.

mod document;
mod read;
mod route_health;
mod vrrp;
mod write;

pub use read::{read_native, read_native_str};
pub use route_health::read_route_health_file;
pub use write::to_toml;
