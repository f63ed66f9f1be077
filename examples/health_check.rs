//! A health checker for the real servers of one virtual service, as a
//! director runs beside IPVS: each real server is probed every interval; after
//! `fall` failed probes in a row its weight goes to 0 (no new connections),
//! after `rise` good ones its weight comes back.
//!
//! ```text
//! health_check tcp|udp VIP:PORT [--http PATH | --tcp] [--interval MS] [--timeout MS] [--rise N] [--fall N]
//! health_check tcp 10.0.0.100:80 --http / --interval 500 --rise 2 --fall 2
//! ```
//! A probe is an HTTP `GET PATH` that must answer 200 (the default, path
//! `/`), or a TCP connect. Real servers are probed at their own address and
//! port. Stop it with SIGINT/SIGTERM; weights it set to 0 stay 0.
//!
//! This is the command-line front end of the LVS lab's checker
//! (`lab/src/health.rs`, the `lvs_lab::health` module), where its logic is
//! defined once: the rise/fall rule ([`Health`](lvs_lab::health::Health)),
//! the probe, and the round that lists the service's real servers with
//! `Ipvs::destinations` and sets a weight with
//! `Ipvs::update_destination_with`.

use std::io::Write;
use std::sync::atomic::AtomicBool;

use ipvs::Ipvs;
use lvs_lab::health::{self, Config};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("health_check: {msg}");
            std::process::exit(2);
        }
    };
    // Never set: the checker runs until the process is stopped.
    let stop = AtomicBool::new(false);
    let checked = Ipvs::new().and_then(|ipvs| {
        health::run(
            &ipvs,
            &config,
            &stop,
            |line| println!("{line}"),
            || {
                std::io::stdout().flush().ok();
            },
        )
    });
    if let Err(e) = checked {
        eprintln!("health_check: {e}");
        std::process::exit(1);
    }
}
