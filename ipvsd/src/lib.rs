//! `ipvsd`, an LVS director daemon built on the `ipvs` library.
//!
//! Layers, data flowing one way: `config` (keepalived.conf and native TOML
//! into one validated model), `check` (the health checkers), `reconcile`
//! (model and health into an `ipvs` desired state, applied with a scoped
//! apply), `status` (one snapshot for metrics, the JSON API and hooks).

pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod rhi;
pub mod status;
pub mod vrrp;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use config::{KeepalivedOptions, Loaded, read_keepalived};

/// The exit code of a refused configuration or a usage error.
const EXIT_BAD: u8 = 2;

/// How long `ipvsd status` waits for the daemon.
const STATUS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Prints notes to stderr.
fn print_notes(loaded: &Loaded) {
    for note in &loaded.notes {
        eprintln!("{note}");
    }
}

/// Writes to stdout; a closed pipe (`ipvsd convert f | head`) is not an error.
fn print_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipvsd: cannot write: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The exit code of `ipvsd status --compare` when the tables disagree.
const EXIT_DISAGREE: u8 = 3;

/// `ipvsd status`: the status document of the daemon at `listen`, or its
/// table compared with the peer's at `compare`.
fn status_command(
    listen: std::net::SocketAddr,
    compare: Option<std::net::SocketAddr>,
    json: bool,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ipvsd status: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(peer) = compare else {
        return match runtime.block_on(status::fetch_status(listen, STATUS_TIMEOUT)) {
            Ok(text) => print_out(&text),
            Err(e) => {
                eprintln!("ipvsd status: {e}");
                ExitCode::FAILURE
            }
        };
    };
    let (here, there) = runtime.block_on(async {
        tokio::join!(
            status::fetch_status(listen, STATUS_TIMEOUT),
            status::fetch_status(peer, STATUS_TIMEOUT)
        )
    });
    let compared = here
        .and_then(|here| there.map(|there| (here, there)))
        .and_then(|(here, there)| status::compare(&here, &there));
    let comparison = match compared {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ipvsd status: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = if json {
        match serde_json::to_string_pretty(&comparison) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("ipvsd status: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        status::render_comparison(&comparison, &listen.to_string(), &peer.to_string())
    };
    let written = print_out(&text);
    if comparison.agree {
        written
    } else {
        ExitCode::from(EXIT_DISAGREE)
    }
}

/// `ipvsd withdraw-routes`: the configuration's route health routes
/// removed from the kernel.
fn withdraw_routes(source: &cli::Source) -> ExitCode {
    let loaded = match source.load() {
        Some(Ok(loaded)) => loaded,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD);
        }
        None => {
            eprintln!("ipvsd withdraw-routes: give --config FILE or --keepalived FILE");
            return ExitCode::from(EXIT_BAD);
        }
    };
    let Some(config) = loaded.model.route_health else {
        return print_out("no route health configured: nothing to withdraw\n");
    };
    let routes = rhi::route::Routes {
        table: config.table,
        protocol: config.protocol,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ipvsd withdraw-routes: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(routes.sync(&Default::default())) {
        Ok((_, removed)) => {
            let mut out = String::new();
            for address in &removed {
                out.push_str(&format!(
                    "withdrawn: {address} (table {}, protocol {})\n",
                    config.table, config.protocol
                ));
            }
            out.push_str(&format!("{} routes withdrawn\n", removed.len()));
            print_out(&out)
        }
        Err(e) => {
            eprintln!("ipvsd withdraw-routes: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command line; the binary's whole `main`.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { source }) => {
            let (Some(path), Some(result)) = (source.path().cloned(), source.load()) else {
                eprintln!("ipvsd check: give --config FILE or --keepalived FILE");
                return ExitCode::from(EXIT_BAD);
            };
            match result {
                Ok(loaded) => {
                    print_notes(&loaded);
                    print_out(&format!("{}\n", cli::summary(&path, &loaded)))
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(EXIT_BAD)
                }
            }
        }
        Some(Command::Convert {
            file,
            checker_only,
            config_id,
        }) => {
            let options = KeepalivedOptions {
                checker_only,
                config_id,
            };
            let loaded = match read_keepalived(&file, &options) {
                Ok(loaded) => loaded,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_BAD);
                }
            };
            print_notes(&loaded);
            match config::to_toml(&loaded.model) {
                Ok(text) => print_out(&format!(
                    "# ipvsd configuration converted from {} by `ipvsd convert`:\n# every value is explicit, keepalived's defaults resolved.\n\n{text}",
                    file.display()
                )),
                Err(e) => {
                    eprintln!("ipvsd convert: {e}");
                    ExitCode::from(EXIT_BAD)
                }
            }
        }
        Some(Command::WithdrawRoutes { source }) => withdraw_routes(&source),
        Some(Command::Status {
            listen,
            compare,
            json,
        }) => status_command(listen, compare, json),
        None => {
            let Some(result) = cli.source.load() else {
                eprintln!(
                    "ipvsd: give --config FILE or --keepalived FILE (or a subcommand; see --help)"
                );
                return ExitCode::from(EXIT_BAD);
            };
            let loaded = match result {
                Ok(loaded) => loaded,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_BAD);
                }
            };
            print_notes(&loaded);
            daemon::run(cli.source, loaded)
        }
    }
}
