//! Status: one snapshot type ([`Snapshot`]) that every output reads: the
//! JSON status API (`GET /status`, `ipvsd status`), Prometheus text
//! (`GET /metrics`), and the reload call (`POST /reload`); and the
//! comparison of two directors' tables (`ipvsd status --compare`).

mod client;
mod compare;
mod metrics;
mod server;
mod snapshot;

pub use client::fetch_status;
pub use compare::{Comparison, Difference, compare, render as render_comparison};
pub use metrics::render as render_metrics;
pub use server::{ReloadRequest, ViewRequest, serve};
pub use snapshot::{
    CheckerView, Counters, DestinationStatus, RealServerStatus, ServiceStatus, Snapshot, View,
    VirtualServerStatus,
};
