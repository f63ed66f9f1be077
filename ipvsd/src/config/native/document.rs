//! The native TOML document as serde reads and writes it: every table and
//! key, unknown keys refused (`deny_unknown_fields`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ipvs::{AddressFamily, ForwardMethod, Persistence, Protocol, Scheduler, Timeouts, Tunnel};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Document {
    #[serde(default)]
    pub(super) global: GlobalToml,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) groups: Vec<Spanned<GroupToml>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) services: Vec<Spanned<ServiceToml>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) vrrp: Option<VrrpToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) route_health: Option<RouteHealthToml>,
}

/// `[route_health]`: route health injection. Durations are seconds
/// (fractions allowed).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteHealthToml {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) table: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) protocol: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hold_down_up: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hold_down_down: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) flap_hold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) addresses: Option<Vec<IpAddr>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) fwmarks: Vec<Spanned<FwmarkAddressesToml>>,
}

/// A file with `[route_health]` alone, beside a keepalived.conf
/// (`--route-health FILE`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteHealthFile {
    pub(super) route_health: RouteHealthToml,
}

/// `[[route_health.fwmarks]]`: the addresses a mark stands for.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FwmarkAddressesToml {
    pub(super) fwmark: u32,
    pub(super) addresses: Vec<IpAddr>,
}

/// `[vrrp]`: the VRRP settings of the director, and its instances,
/// scripts and sync groups. Durations are seconds (fractions allowed).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VrrpToml {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_refresh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_refresh_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) gna_interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_lower_prio_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_lower_prio_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lower_prio_no_advert: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_fifo: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_fifo_script: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) instances: Vec<Spanned<VrrpInstanceToml>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) scripts: Vec<Spanned<VrrpScriptToml>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) sync_groups: Vec<Spanned<SyncGroupToml>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum StateToml {
    Master,
    Backup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum ChecksumToml {
    PseudoHeader,
    AsV2,
}

/// `[[vrrp.instances]]`: one virtual router.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VrrpInstanceToml {
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) state: Option<StateToml>,
    pub(super) interface: String,
    pub(super) vrid: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) priority: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) advert_int: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) preempt: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) preempt_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) checksum: Option<ChecksumToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) track_primary: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) unicast_src: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) unicast_peers: Vec<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) auth_pass: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) virtual_addresses: Vec<AddressToml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) excluded_addresses: Vec<AddressToml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) track_interfaces: Vec<TrackToml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) track_scripts: Vec<TrackToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_master: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_backup: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_fault: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_stop: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_refresh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_master_refresh_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) gna_interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_lower_prio_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) garp_lower_prio_repeat: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lower_prio_no_advert: Option<bool>,
}

/// A virtual address: `{ address, prefix_len, device, label }`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddressToml {
    pub(super) address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) prefix_len: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) label: Option<String>,
}

/// A tracked interface or script: `{ name, weight }`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TrackToml {
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<i32>,
}

/// `[[vrrp.scripts]]`: a tracked program.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VrrpScriptToml {
    pub(super) name: String,
    pub(super) script: ScriptToml,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) interval: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rise: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fall: Option<u32>,
}

/// `[[vrrp.sync_groups]]`: instances that change state together.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncGroupToml {
    pub(super) name: String,
    pub(super) instances: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_master: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_backup: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_fault: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_stop: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify: Option<ScriptToml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GlobalToml {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) router_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) status_listen: Option<SocketAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) start_down: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rise: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fall: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) check_jitter: Option<u8>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) lvs_flush: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sloppy_tcp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sloppy_sctp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lvs_flush_on_stop: Option<FlushToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lvs_timeouts: Option<Timeouts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lvs_sync_daemon: Option<SyncToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) script_user: Option<RunAsToml>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) enable_script_security: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lvs_notify_fifo: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) lvs_notify_fifo_script: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) smtp: Option<SmtpToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tls: Option<TlsToml>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum FlushToml {
    None,
    All,
    VirtualServers,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncToml {
    pub(super) interface: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) vrrp_instance: Option<String>,
    #[serde(default)]
    pub(super) sync_id: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) max_len: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) ttl: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<IpAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunAsToml {
    pub(super) user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScriptToml {
    pub(super) command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SmtpToml {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) helo_name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsToml {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) ca: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) certificate: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) key: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupToml {
    pub(super) name: String,
    pub(super) members: Vec<String>,
}

/// Timing keys a service, a destination and a checker may each set; the
/// nearest wins.
#[derive(Debug, Clone, Default)]
pub(super) struct TimingToml {
    pub(super) delay_loop: Option<f64>,
    pub(super) connect_timeout: Option<f64>,
    pub(super) retry: Option<u32>,
    pub(super) delay_before_retry: Option<f64>,
    pub(super) warmup: Option<f64>,
    pub(super) start_down: Option<bool>,
    pub(super) rise: Option<u32>,
    pub(super) fall: Option<u32>,
    pub(super) jitter: Option<f64>,
}

impl TimingToml {
    pub(super) fn over(&self, outer: &TimingToml) -> TimingToml {
        TimingToml {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
            start_down: self.start_down.or(outer.start_down),
            rise: self.rise.or(outer.rise),
            fall: self.fall.or(outer.fall),
            jitter: self.jitter.or(outer.jitter),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServiceToml {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) family: Option<AddressFamily>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<String>,
    #[serde(default)]
    pub(super) scheduler: Scheduler,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) scheduler_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) one_packet: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) persistence: Option<Persistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) persistence_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) forward: Option<ForwardMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tunnel: Option<Tunnel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) inhibit_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) quorum: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hysteresis: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) quorum_up: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) quorum_down: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) omega: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) ha_suspend: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) smtp_alert: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) snmp_name: Option<String>,
    // The timing keys (see `TimingToml`), inline: `flatten` would lose
    // the line of an unknown key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_loop: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_before_retry: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) warmup: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) start_down: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rise: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fall: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jitter: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sorry_server: Option<SorryToml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) destinations: Vec<Spanned<DestinationToml>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SorryToml {
    pub(super) address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) forward: Option<ForwardMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tunnel: Option<Tunnel>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) inhibit: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DestinationToml {
    pub(super) address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) forward: Option<ForwardMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tunnel: Option<Tunnel>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) upper_threshold: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) lower_threshold: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) inhibit_on_failure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_up: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) notify_down: Option<ScriptToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) smtp_alert: Option<bool>,
    // The timing keys (see `TimingToml`), inline: `flatten` would lose
    // the line of an unknown key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_loop: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_before_retry: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) warmup: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) start_down: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rise: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fall: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jitter: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) checkers: Vec<Spanned<CheckerToml>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum CheckType {
    Tcp,
    Http,
    Https,
    Udp,
    Dns,
    Misc,
    File,
}

/// One checker: `type` and the keys of that type (a key of another type is an error).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckerToml {
    #[serde(rename = "type")]
    pub(super) kind: CheckType,
    // Connection (tcp, http, https, udp, dns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) bind_address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) bind_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) bind_interface: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) log_all_failures: bool,
    // The timing keys (see `TimingToml`), inline: `flatten` would lose
    // the line of an unknown key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_loop: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) connect_timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) delay_before_retry: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) warmup: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) start_down: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) rise: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fall: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jitter: Option<f64>,
    // http, https.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) urls: Vec<UrlToml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) http_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) enable_sni: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sni_name: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) fast_recovery: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) tls_compliant: bool,
    // udp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) payload: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) require_reply: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reply_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) min_reply_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) max_reply_length: Option<u32>,
    // dns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) query_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) query_name: Option<String>,
    // misc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) timeout: Option<f64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) dynamic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<RunAsToml>,
    // file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) weight: Option<i32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) reverse: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UrlToml {
    pub(super) path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) digest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) status_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) regex: Option<RegexToml>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegexToml {
    pub(super) pattern: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) no_match: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) min_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) max_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) stack: Option<u64>,
}

/// The timing keys of a service, destination or checker, read and written.
macro_rules! timing_keys {
    ($($t:ty),*) => {$(
        impl $t {
            pub(super) fn timing(&self) -> TimingToml {
                TimingToml {
                    delay_loop: self.delay_loop,
                    connect_timeout: self.connect_timeout,
                    retry: self.retry,
                    delay_before_retry: self.delay_before_retry,
                    warmup: self.warmup,
                    start_down: self.start_down,
                    rise: self.rise,
                    fall: self.fall,
                    jitter: self.jitter,
                }
            }

            pub(super) fn set_timing(&mut self, t: TimingToml) {
                self.delay_loop = t.delay_loop;
                self.connect_timeout = t.connect_timeout;
                self.retry = t.retry;
                self.delay_before_retry = t.delay_before_retry;
                self.warmup = t.warmup;
                self.start_down = t.start_down;
                self.rise = t.rise;
                self.fall = t.fall;
                self.jitter = t.jitter;
            }
        }
    )*};
}

timing_keys!(ServiceToml, DestinationToml, CheckerToml);

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}

pub(super) fn is_zero(n: &u32) -> bool {
    *n == 0
}
