//! The daemon's configuration: keepalived.conf and native TOML, read into one
//! validated model.
