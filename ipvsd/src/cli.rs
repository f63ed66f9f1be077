//! The command line: `ipvsd check`, `ipvsd convert`, and the daemon
//! invocation `ipvsd --keepalived FILE` / `ipvsd --config FILE`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::{
    ConfigError, KeepalivedOptions, Loaded, Location, read_keepalived, read_native,
    read_route_health_file,
};

/// ipvsd: an LVS director daemon (health checks, reconcile, metrics) that
/// runs its native TOML configuration or keepalived's LVS configuration.
#[derive(Debug, Parser)]
#[command(name = "ipvsd", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The configuration to run (without a subcommand).
    #[command(flatten)]
    pub source: Source,
    /// What to do instead of running the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Which configuration, in which format.
#[derive(Debug, Clone, Args)]
pub struct Source {
    /// A native TOML configuration.
    #[arg(long, value_name = "FILE", conflicts_with = "keepalived")]
    pub config: Option<PathBuf>,
    /// A keepalived.conf (its LVS and VRRP parts).
    #[arg(long, value_name = "FILE")]
    pub keepalived: Option<PathBuf>,
    /// keepalived.conf: skip VRRP blocks and globals (noting each), for a
    /// director whose VRRP stays with keepalived (`keepalived --vrrp`); like
    /// `keepalived --check`, which runs the checker process alone.
    #[arg(long)]
    pub checker_only: bool,
    /// keepalived.conf: the id that `@ID` lines are kept for (default the
    /// host name up to its first dot), like `keepalived --config-id`.
    #[arg(long, value_name = "ID")]
    pub config_id: Option<String>,
    /// keepalived.conf: route health injection settings, a TOML file with
    /// a `[route_health]` table alone (keepalived has no such keyword; a
    /// native configuration has the table in itself). Read again on reload.
    #[arg(long, value_name = "FILE")]
    pub route_health: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration fully, without a kernel and without root:
    /// exit 0 with a one-line summary, or 2 with `FILE:LINE: reason`.
    Check {
        /// The configuration.
        #[command(flatten)]
        source: Source,
    },
    /// Print a keepalived.conf as native TOML on stdout.
    Convert {
        /// The keepalived.conf.
        file: PathBuf,
        /// Skip VRRP blocks and globals (noting each).
        #[arg(long)]
        checker_only: bool,
        /// The id that `@ID` lines are kept for.
        #[arg(long, value_name = "ID")]
        config_id: Option<String>,
    },
    /// Remove every route health route of the configuration's table and
    /// protocol number from the kernel (what a clean stop does), for
    /// systemd's `ExecStopPost` after ipvsd was killed: BIRD then withdraws
    /// them. Exit 0 (nothing configured: nothing to do), 1 when the kernel
    /// refuses, 2 for a bad configuration.
    WithdrawRoutes {
        /// The configuration.
        #[command(flatten)]
        source: Source,
    },
    /// Print the status document (JSON) of a running ipvsd; with
    /// `--compare`, whether its kernel table and a peer director's send
    /// every client to the same real server (exit 0 when they agree, 3 when
    /// they disagree, 1 when a director cannot be asked).
    Status {
        /// The daemon's status API address (its `status_listen`).
        #[arg(long, value_name = "ADDR", default_value_t = crate::config::DEFAULT_STATUS_LISTEN)]
        listen: std::net::SocketAddr,
        /// A peer director's status API address: compare the two tables
        /// service by service (real servers, weights, scheduler and flags,
        /// and the list order that `mh`, `sh` and `dh` depend on).
        #[arg(long, value_name = "PEER")]
        compare: Option<std::net::SocketAddr>,
        /// With `--compare`: the comparison as JSON.
        #[arg(long, requires = "compare")]
        json: bool,
    },
}

impl Source {
    /// Reads and validates the configuration this names.
    ///
    /// # Errors
    /// The configuration's first problem; `None` when no file was named.
    pub fn load(&self) -> Option<Result<Loaded, ConfigError>> {
        match (&self.config, &self.keepalived) {
            (Some(_), _) if self.route_health.is_some() => {
                let file = self.route_health.as_deref().unwrap_or(Path::new(""));
                Some(Err(ConfigError::invalid(
                    &Location::new(file, 0),
                    "--route-health",
                    "only beside --keepalived: a native configuration has [route_health] itself",
                )))
            }
            (Some(path), _) => Some(read_native(path)),
            (None, Some(path)) => Some(
                read_keepalived(
                    path,
                    &KeepalivedOptions {
                        checker_only: self.checker_only,
                        config_id: self.config_id.clone(),
                    },
                )
                .and_then(|mut loaded| {
                    if let Some(file) = &self.route_health {
                        let config = read_route_health_file(file, &loaded.model.virtual_servers)?;
                        loaded.model.route_health = Some(config);
                    }
                    Ok(loaded)
                }),
            ),
            (None, None) => None,
        }
    }

    /// The file named, for messages.
    pub fn path(&self) -> Option<&PathBuf> {
        self.config.as_ref().or(self.keepalived.as_ref())
    }
}

/// The one-line summary `ipvsd check` prints for a good configuration.
pub fn summary(path: &std::path::Path, loaded: &Loaded) -> String {
    let m = &loaded.model;
    let services = m.service_keys().count();
    format!(
        "{}: configuration OK: {} virtual servers ({} services), {} real servers, {} checkers{}{}",
        path.display(),
        m.virtual_servers.len(),
        services,
        m.real_server_count(),
        m.checker_count(),
        match m.vrrp.instances.len() {
            0 => String::new(),
            n => format!(", {n} VRRP instances"),
        },
        match loaded.notes.len() {
            0 => String::new(),
            n => format!(", {n} notes"),
        }
    )
}
