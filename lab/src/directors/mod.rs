//! Several active directors behind a router, end to end: the router
//! (BIRD 2, AS 65000) spreads the virtual IP's flows over three directors
//! with ECMP; each director (BIRD 2, AS 65001, and `ipvsd`) announces the
//! VIP through ipvsd's `[route_health]` (a route in kernel table 200 that
//! BIRD learns and exports over eBGP) and schedules with `mh`, so every
//! director picks the same real server for a client and a connection moved
//! to another director (`sloppy_tcp`) stays on its real server.
//!
//! [`Scenario`] builds it in network namespaces ([`network`]), runs BIRD
//! ([`bird`]) and the traffic ([`traffic`]), kills a director and brings it
//! back, and returns the [`Figures`]; the workspace's
//! `tests/kernel_directors.rs` asserts on them in the test VM:
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use lvs_lab::directors::{Detection, Scenario};
//! let tools = lvs_lab::Tools::next_to(&std::env::current_exe()?)?;
//! let mut scenario = Scenario::start(tools, Detection::Bfd, Box::new(|l| println!("{l}")))?;
//! let figures = scenario.run()?;
//! print!("{}", figures.report());
//! # Ok(())
//! # }
//! ```
//!
//! The BIRD configurations it runs are `lab/conf/bird-router.conf` and
//! `lab/conf/bird-director.conf` (dir1's), rendered by [`bird`].

pub mod bird;
pub mod network;
mod scenario;
pub mod traffic;

pub use bird::Detection;
pub use scenario::{
    Figures, KILLED, LONG_LIVED, LOOP_THREADS, REQUEST_TIMEOUT, Scenario, ipvsd_conf,
};
