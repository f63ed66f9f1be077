//! The health checkers: probes of real servers, the pure logic that turns
//! their results into health (retry, rise/fall, alpha, schedule), and the
//! runner that drives them and reports [`HealthEvent`]s.
//!
//! Each probe takes a resolved parameter struct (addresses, ports and
//! timeouts concrete); mapping the configuration onto them is the caller's.
//! Layers, data flowing one way:
//! - probes ([`TcpCheck`], [`HttpCheck`], [`UdpCheck`], [`DnsCheck`],
//!   [`MiscCheck`], [`FileCheck`], under one [`Probe`]) give a
//!   [`ProbeReport`];
//! - [`CheckerState`] (one checker) and [`RealServerHealth`] (all checkers
//!   of a real server) turn reports and their times into health changes and
//!   the next check time, without I/O or a clock of their own;
//! - [`Runner`] runs one task per real server, bounds probes in flight with
//!   a semaphore and sends [`HealthEvent`]s on a channel.
//!
//! ```no_run
//! use std::time::Duration;
//! use ipvsd::check::{
//!     CheckerSpec, ConnectOptions, KindDefaults, Probe, RealServerSpec, Runner,
//!     RunnerOptions, TcpCheck, Timing,
//! };
//!
//! # async fn demo() {
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
//! let mut runner = Runner::new(RunnerOptions::default(), tx);
//! let conn = ConnectOptions::new("192.0.2.21:80".parse().unwrap())
//!     .with_timeout(Duration::from_secs(3));
//! runner
//!     .add(RealServerSpec {
//!         id: "web1",
//!         weight: 1,
//!         checkers: vec![CheckerSpec {
//!             probe: Probe::Tcp(TcpCheck { conn }),
//!             timing: Timing::native(KindDefaults::Plain, Duration::from_secs(5)),
//!         }],
//!     })
//!     .unwrap();
//! while let Some(event) = rx.recv().await {
//!     println!("{event}");
//! }
//! runner.stop().await;
//! # }
//! ```

mod conn;
mod dns;
mod file;
mod http;
mod misc;
mod outcome;
mod probe;
mod runner;
mod server;
mod state;
mod tcp;
mod timing;
mod tls;
mod udp;

pub use conn::{ConnectOptions, DEFAULT_CONNECT_TIMEOUT};
pub use dns::{DnsCheck, DnsType};
pub use file::{FileCheck, parse_c_long};
pub use http::{
    BodyDigest, BodyRegex, HttpCheck, HttpProtocol, MAX_REGEX_BODY, StatusCodes, USER_AGENT_VALUE,
    UrlCheck,
};
pub use misc::{MiscCheck, RunAs, TERM_GRACE};
pub use outcome::{DynamicWeight, ProbeFailure, ProbeReport, ProbeResult, ProbeSuccess};
pub use probe::Probe;
pub use runner::{
    CheckerSpec, CheckerStatus, HealthEvent, RealServerSpec, RealServerStatus, Runner, RunnerError,
    RunnerOptions,
};
pub use server::{MAX_WEIGHT, RealServerHealth, ServerChange};
pub use state::{ChangeReason, CheckCounters, CheckerChange, CheckerState, Step};
pub use tcp::TcpCheck;
pub use timing::{DEFAULT_DELAY_LOOP, DEFAULT_JITTER, Health, KindDefaults, Timing};
pub use tls::TlsOptions;
pub use udp::{DEFAULT_MAX_REPLY_LEN, DEFAULT_PAYLOAD_LEN, ReplyPattern, RequireReply, UdpCheck};
