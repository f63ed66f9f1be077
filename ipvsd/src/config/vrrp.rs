//! The VRRP part of the model: keepalived's `vrrp_instance`, `vrrp_script`,
//! `vrrp_sync_group` and the VRRP keywords of `global_defs`, with
//! keepalived's defaults resolved (keepalived.conf(5), keepalived 2.2.7).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipvs::AddressFamily;

use super::model::{Script, SyncDaemonConfig};
use crate::vrrp::{ChecksumMode, Version};

/// keepalived's default `priority` (`VRRP_PRIO_DFL`, RFC 3768 §5.3.4).
pub const DEFAULT_PRIORITY: u8 = 100;
/// The priority of the address owner (RFC 5798 §5.2.4); keepalived also
/// gives it to a `state MASTER` instance without a `priority`.
pub const OWNER_PRIORITY: u8 = 255;
/// keepalived's default `advert_int`: 1 s (`VRRP_ADVER_DFL`).
pub const DEFAULT_ADVERT_INT: Duration = Duration::from_secs(1);
/// The longest v2 advertisement interval: 255 s (an 8-bit count of
/// seconds, RFC 3768 §5.3.7).
pub const MAX_ADVERT_INT_V2: Duration = Duration::from_secs(255);
/// The longest v3 advertisement interval: 40.95 s (a 12-bit count of
/// centiseconds, RFC 5798 §5.2.7).
pub const MAX_ADVERT_INT_V3: Duration = Duration::from_millis(40_950);
/// The longest `preempt_delay`: 1000 s (keepalived's `TIMER_MAX_SEC`).
pub const MAX_PREEMPT_DELAY: Duration = Duration::from_secs(1000);
/// The largest tracking weight, either sign (keepalived.conf(5):
/// `track_interface`, `track_script`, `vrrp_script` take -253..253).
pub const MAX_TRACK_WEIGHT: i32 = 253;

/// Everything VRRP in one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vrrp {
    /// Director-wide VRRP settings (`global_defs`).
    pub global: VrrpGlobal,
    /// The VRRP instances, in file order.
    pub instances: Vec<VrrpInstance>,
    /// The `vrrp_script` blocks, by name, in file order.
    pub scripts: Vec<VrrpScript>,
    /// The `vrrp_sync_group` blocks, in file order.
    pub sync_groups: Vec<SyncGroup>,
}

impl Vrrp {
    /// True when the configuration has no VRRP instance.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }
}

/// The VRRP settings of `global_defs`: each is the default of the instance
/// keyword of the same meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpGlobal {
    /// `vrrp_version`: the default version (keepalived: 2).
    pub version: Version,
    /// `vrrp_garp_master_delay`: the delay of the second burst of
    /// gratuitous ARPs after becoming master (keepalived: 5 s; 0: none).
    pub garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat`: gratuitous ARPs (and unsolicited neighbour
    /// advertisements) per burst (keepalived: 5).
    pub garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh`: a burst every so often while master
    /// (keepalived: 0, never).
    pub garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (keepalived: 1).
    pub garp_master_refresh_repeat: u32,
    /// `vrrp_garp_interval`: the gap between gratuitous ARPs of one burst
    /// (keepalived: 0).
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: the gap between unsolicited neighbour
    /// advertisements of one burst (keepalived: 0).
    pub gna_interval: Duration,
    /// `vrrp_garp_lower_prio_delay`: after a master hears a lower-priority
    /// master, the delay of its second burst (unset: `garp_master_delay`,
    /// keepalived's `init_global_data`).
    pub garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat`: gratuitous ARPs per burst then (0:
    /// none; unset: `garp_master_repeat`).
    pub garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_lower_prio_no_advert`: a master does not answer a
    /// lower-priority advert with one of its own (keepalived: false).
    pub lower_prio_no_advert: bool,
    /// `vrrp_notify_fifo PATH`: the FIFO every VRRP state change is written to.
    pub notify_fifo: Option<PathBuf>,
    /// `vrrp_notify_fifo_script`: a program reading that FIFO.
    pub notify_fifo_script: Option<Script>,
}

impl Default for VrrpGlobal {
    fn default() -> Self {
        Self {
            version: Version::V2,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: 1,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            lower_prio_no_advert: false,
            notify_fifo: None,
            notify_fifo_script: None,
        }
    }
}

/// The state an instance asks for at start (`state MASTER|BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialState {
    /// `state BACKUP` (keepalived's default): wait a master down interval.
    #[default]
    Backup,
    /// `state MASTER`: take over at once unless an advert says otherwise.
    Master,
}

/// One `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpInstance {
    /// The block's name (notify scripts' and the FIFO's second word).
    pub name: String,
    /// `state`.
    pub initial_state: InitialState,
    /// `interface`: where adverts are sent and received.
    pub interface: String,
    /// `virtual_router_id`, 1 to 255.
    pub vrid: u8,
    /// `priority`, 1 to 255 (255: the address owner; keepalived's default 100).
    pub priority: u8,
    /// `advert_int`: the advertisement interval (keepalived's default 1 s;
    /// v2 carries whole seconds, v3 centiseconds).
    pub advert_int: Duration,
    /// `version` (default [`VrrpGlobal::version`]).
    pub version: Version,
    /// Preempt a lower-priority master (`nopreempt` clears it; default true).
    pub preempt: bool,
    /// `preempt_delay`: how long a backup of higher priority waits, from
    /// the first advert of a lower-priority master, before it preempts
    /// (keepalived's `preempt_time`; default 0).
    pub preempt_delay: Duration,
    /// v3 over IPv4: how sent adverts are checksummed
    /// (`v3_checksum_as_v2` gives [`ChecksumMode::AsV2`]).
    pub checksum: ChecksumMode,
    /// Tracks the instance's own interface: down is a fault (keepalived's
    /// default; `dont_track_primary` clears it).
    pub track_primary: bool,
    /// `unicast_src_ip` or `mcast_src_ip`: the source address of adverts,
    /// unicast or multicast (default: the interface's primary address).
    pub unicast_src: Option<IpAddr>,
    /// `unicast_peer { ... }`: send adverts to these instead of the group.
    pub unicast_peers: Vec<IpAddr>,
    /// `authentication { auth_type PASS; auth_pass ... }` (v2 only): the
    /// password, truncated or zero-padded to 8 bytes as keepalived does.
    pub auth_pass: Option<[u8; 8]>,
    /// `virtual_ipaddress { ... }`: carried in adverts and added as master.
    pub virtual_addresses: Vec<VirtualAddress>,
    /// `virtual_ipaddress_excluded { ... }`: added as master, not advertised.
    pub excluded_addresses: Vec<VirtualAddress>,
    /// `track_interface { IF [weight N] }`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script { NAME [weight N] }`.
    pub track_scripts: Vec<TrackScript>,
    /// `notify_*` and `notify`.
    pub notify: Notify,
    /// Gratuitous ARP settings (the global ones unless set here).
    pub garp: Garp,
    /// `lower_prio_no_advert`: as master, do not answer a lower-priority
    /// advert with an advert at once (the global one unless set here).
    pub lower_prio_no_advert: bool,
}

impl VrrpInstance {
    /// The instance's address family: that of its first virtual address,
    /// else of `unicast_src_ip`, else of its first unicast peer, else IPv4
    /// (keepalived's `vrrp_complete_instance`).
    pub fn family(&self) -> AddressFamily {
        family_of(
            &self.virtual_addresses,
            self.unicast_src,
            &self.unicast_peers,
        )
    }
}

/// The rule of [`VrrpInstance::family`], for the readers that need it
/// before the instance is built.
pub(crate) fn family_of(
    virtual_addresses: &[VirtualAddress],
    unicast_src: Option<IpAddr>,
    unicast_peers: &[IpAddr],
) -> AddressFamily {
    virtual_addresses
        .first()
        .map(|a| a.address)
        .or(unicast_src)
        .or(unicast_peers.first().copied())
        .map_or(AddressFamily::Ipv4, |a| AddressFamily::of(&a))
}

/// An address in `virtual_ipaddress`: `ADDR[/PREFIX] [dev IF] [label L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// The address.
    pub address: IpAddr,
    /// Its prefix length (keepalived: 32 or 128 when not given).
    pub prefix_len: u8,
    /// `dev`: the interface (default: the instance's).
    pub device: Option<String>,
    /// `label`: the IPv4 address label.
    pub label: Option<String>,
}

/// `track_interface` entry: a down interface is a fault, or with a weight,
/// a change of priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInterface {
    /// The interface name.
    pub name: String,
    /// `weight N` (-253 to 253, not 0): added to the priority while the
    /// interface is up (positive) or down (negative); `None` (or keepalived's
    /// `weight 0`): down is a fault.
    pub weight: Option<i32>,
}

/// `track_script` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackScript {
    /// The `vrrp_script` it names.
    pub name: String,
    /// `weight N` here overrides the script's own.
    pub weight: Option<i32>,
}

/// `vrrp_script NAME { ... }`: a program run periodically; its exit status
/// is a tracked object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpScript {
    /// The block's name.
    pub name: String,
    /// `script`: the command line.
    pub script: Script,
    /// `interval` (keepalived: 1 s).
    pub interval: Duration,
    /// `timeout`: a run longer than this fails (keepalived: the interval).
    pub timeout: Duration,
    /// `weight` (keepalived: 0, a failure is a fault); positive: added while
    /// it succeeds, negative: added while it fails.
    pub weight: i32,
    /// `rise`: successes to be up (keepalived: 1).
    pub rise: u32,
    /// `fall`: failures to be down (keepalived: 1).
    pub fall: u32,
}

/// The notify scripts of an instance or a sync group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify`: run on every change with `TYPE NAME STATE PRIORITY`.
    pub any: Option<Script>,
}

/// Gratuitous ARP and unsolicited neighbour advertisement settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Garp {
    /// `garp_master_delay`.
    pub master_delay: Duration,
    /// `garp_master_repeat`.
    pub master_repeat: u32,
    /// `garp_master_refresh`.
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`.
    pub master_refresh_repeat: u32,
    /// `garp_interval`.
    pub interval: Duration,
    /// `gna_interval`.
    pub gna_interval: Duration,
    /// `garp_lower_prio_delay`: a master that heard a lower-priority master
    /// sends a second burst this much later (0: none).
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: gratuitous ARPs per burst then (0: none).
    pub lower_prio_repeat: u32,
}

impl Garp {
    /// The instance defaults that the global settings give.
    pub fn from_global(global: &VrrpGlobal) -> Self {
        Self {
            master_delay: global.garp_master_delay,
            master_repeat: global.garp_master_repeat,
            master_refresh: global.garp_master_refresh,
            master_refresh_repeat: global.garp_master_refresh_repeat,
            interval: global.garp_interval,
            gna_interval: global.gna_interval,
            lower_prio_delay: global
                .garp_lower_prio_delay
                .unwrap_or(global.garp_master_delay),
            lower_prio_repeat: global
                .garp_lower_prio_repeat
                .unwrap_or(global.garp_master_repeat),
        }
    }
}

/// `vrrp_sync_group NAME { group { ... } notify_* }`: instances that change
/// state together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    /// The block's name.
    pub name: String,
    /// The instances it holds, by name.
    pub instances: Vec<String>,
    /// Its notify scripts (`notify` gets `GROUP NAME STATE`).
    pub notify: Notify,
}

/// Which part of [`Vrrp`] a [`Problem`] is about, to find its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// `instances[i]`.
    Instance(usize),
    /// `scripts[i]`.
    Script(usize),
    /// `sync_groups[i]`.
    SyncGroup(usize),
    /// The global `lvs_sync_daemon`.
    SyncDaemon,
}

/// What [`validate`] found wrong: where, the keyword at fault, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) at: Part,
    pub(crate) keyword: &'static str,
    pub(crate) message: String,
}

fn problem(at: Part, keyword: &'static str, message: String) -> Problem {
    Problem {
        at,
        keyword,
        message,
    }
}

/// Checks the VRRP part of a model as keepalived does when it completes
/// its configuration (`vrrp_complete_instance`, `vrrp_complete_init`),
/// refusing what keepalived would correct or drop with a warning: both
/// readers call it, so a native file obeys the same rules.
///
/// `sync_daemon` is the global `lvs_sync_daemon`; its `inst` must name an
/// instance when there are instances (a checker-only read has none and
/// keeps the name as data).
///
/// # Errors
/// The first [`Problem`].
pub(crate) fn validate(vrrp: &Vrrp, sync_daemon: Option<&SyncDaemonConfig>) -> Result<(), Problem> {
    let mut names = HashSet::with_capacity(vrrp.scripts.len());
    for (i, s) in vrrp.scripts.iter().enumerate() {
        let at = Part::Script(i);
        if !names.insert(s.name.as_str()) {
            return Err(problem(
                at,
                "vrrp_script",
                format!("vrrp_script {} is defined twice", s.name),
            ));
        }
        if s.script.command.trim().is_empty() {
            return Err(problem(
                at,
                "script",
                format!("vrrp_script {} has no script", s.name),
            ));
        }
        if s.interval.is_zero() || s.timeout.is_zero() {
            return Err(problem(
                at,
                "interval",
                format!(
                    "vrrp_script {}: interval and timeout must be more than 0",
                    s.name
                ),
            ));
        }
        if s.rise == 0 || s.fall == 0 {
            return Err(problem(
                at,
                "rise",
                format!("vrrp_script {}: rise and fall must be at least 1", s.name),
            ));
        }
        if s.weight.abs() > MAX_TRACK_WEIGHT {
            return Err(problem(
                at,
                "weight",
                format!(
                    "vrrp_script {}: weight {} is not in -253..=253",
                    s.name, s.weight
                ),
            ));
        }
    }
    let mut instances: HashMap<&str, usize> = HashMap::with_capacity(vrrp.instances.len());
    for (i, v) in vrrp.instances.iter().enumerate() {
        instance(v, Part::Instance(i), &names)?;
        if instances.insert(v.name.as_str(), i).is_some() {
            return Err(problem(
                Part::Instance(i),
                "vrrp_instance",
                format!("vrrp_instance {} is defined twice", v.name),
            ));
        }
    }
    // One virtual router per (interface, VRID, family) and transport:
    // multicast instances share the group, unicast ones clash when a peer
    // is common (keepalived's duplicate VRID check).
    for (i, v) in vrrp.instances.iter().enumerate() {
        for w in &vrrp.instances[..i] {
            let same = v.interface == w.interface
                && v.vrid == w.vrid
                && v.family() == w.family()
                && v.unicast_peers.is_empty() == w.unicast_peers.is_empty()
                && (v.unicast_peers.is_empty()
                    || v.unicast_peers.iter().any(|p| w.unicast_peers.contains(p)));
            if same {
                return Err(problem(
                    Part::Instance(i),
                    "virtual_router_id",
                    format!(
                        "vrrp_instance {}: virtual router {} on {} ({}) is already vrrp_instance {}",
                        v.name,
                        v.vrid,
                        v.interface,
                        v.family(),
                        w.name
                    ),
                ));
            }
        }
    }
    let mut groups = HashSet::with_capacity(vrrp.sync_groups.len());
    let mut member_of: HashMap<&str, &str> = HashMap::new();
    for (i, g) in vrrp.sync_groups.iter().enumerate() {
        let at = Part::SyncGroup(i);
        if !groups.insert(g.name.as_str()) {
            return Err(problem(
                at,
                "vrrp_sync_group",
                format!("vrrp_sync_group {} is defined twice", g.name),
            ));
        }
        if g.instances.is_empty() {
            return Err(problem(
                at,
                "group",
                format!("vrrp_sync_group {} has no instances", g.name),
            ));
        }
        for name in &g.instances {
            if !instances.contains_key(name.as_str()) {
                return Err(problem(
                    at,
                    "group",
                    format!("vrrp_sync_group {}: no vrrp_instance named {name}", g.name),
                ));
            }
            if let Some(other) = member_of.insert(name, &g.name) {
                return Err(problem(
                    at,
                    "group",
                    format!("vrrp_instance {name} is already in vrrp_sync_group {other}"),
                ));
            }
        }
    }
    if let Some(inst) = sync_daemon.and_then(|d| d.vrrp_instance.as_deref())
        && !vrrp.instances.is_empty()
        && !instances.contains_key(inst)
    {
        return Err(problem(
            Part::SyncDaemon,
            "lvs_sync_daemon",
            format!("no vrrp_instance named {inst}"),
        ));
    }
    Ok(())
}

/// The checks of one instance alone (and its `track_script` names).
fn instance(v: &VrrpInstance, at: Part, scripts: &HashSet<&str>) -> Result<(), Problem> {
    let name = &v.name;
    let bad = |keyword: &'static str, why: String| {
        problem(at, keyword, format!("vrrp_instance {name}: {why}"))
    };
    if name.is_empty() {
        return Err(bad("vrrp_instance", "has no name".into()));
    }
    if v.interface.is_empty() {
        return Err(bad("interface", "has no interface".into()));
    }
    if v.vrid == 0 {
        return Err(bad(
            "virtual_router_id",
            "virtual_router_id must be in 1..=255".into(),
        ));
    }
    if v.priority == 0 {
        return Err(bad("priority", "priority must be in 1..=255".into()));
    }
    let family = v.family();
    let int = v.advert_int;
    match v.version {
        Version::V2 => {
            if family == AddressFamily::Ipv6 {
                return Err(bad(
                    "version",
                    "VRRP version 2 is IPv4 only (RFC 3768); IPv6 needs version 3".into(),
                ));
            }
            if int.is_zero() || int > MAX_ADVERT_INT_V2 || int.subsec_nanos() != 0 {
                return Err(bad(
                    "advert_int",
                    format!("{int:?} is not a whole number of seconds in 1..=255 (VRRP version 2)"),
                ));
            }
            if v.checksum != ChecksumMode::default() {
                return Err(bad(
                    "v3_checksum_as_v2",
                    "applies to VRRP version 3 only".into(),
                ));
            }
        }
        Version::V3 => {
            if int < Duration::from_millis(10)
                || int > MAX_ADVERT_INT_V3
                || !int.subsec_nanos().is_multiple_of(10_000_000)
            {
                return Err(bad(
                    "advert_int",
                    format!(
                        "{int:?} is not a multiple of 10 ms in 0.01..=40.95 s (VRRP version 3)"
                    ),
                ));
            }
            if v.auth_pass.is_some() {
                return Err(bad(
                    "authentication",
                    "VRRP version 3 has no authentication".into(),
                ));
            }
        }
    }
    if !v.preempt && (v.initial_state == InitialState::Master || v.priority == OWNER_PRIORITY) {
        return Err(bad(
            "nopreempt",
            "nopreempt needs state BACKUP and a priority below 255".into(),
        ));
    }
    if v.preempt_delay > MAX_PREEMPT_DELAY {
        return Err(bad("preempt_delay", "must be at most 1000 s".into()));
    }
    for a in &v.virtual_addresses {
        if AddressFamily::of(&a.address) != family {
            return Err(bad(
                "virtual_ipaddress",
                format!(
                    "{} is not {family} like the instance's first address (use virtual_ipaddress_excluded to mix families)",
                    a.address
                ),
            ));
        }
    }
    for a in v.virtual_addresses.iter().chain(&v.excluded_addresses) {
        let max = if a.address.is_ipv4() { 32 } else { 128 };
        if a.prefix_len > max {
            return Err(bad(
                "virtual_ipaddress",
                format!(
                    "{}/{}: the prefix is longer than {max}",
                    a.address, a.prefix_len
                ),
            ));
        }
    }
    for p in v.unicast_src.iter().chain(&v.unicast_peers) {
        if AddressFamily::of(p) != family {
            return Err(bad(
                "unicast_peer",
                format!("{p} is not {family} like the instance"),
            ));
        }
    }
    for t in &v.track_interfaces {
        if t.weight
            .is_some_and(|w| w == 0 || w.abs() > MAX_TRACK_WEIGHT)
        {
            return Err(bad(
                "track_interface",
                format!("{}: weight must be in -253..=253 and not 0", t.name),
            ));
        }
    }
    for t in &v.track_scripts {
        if !scripts.contains(t.name.as_str()) {
            return Err(bad(
                "track_script",
                format!("no vrrp_script named {}", t.name),
            ));
        }
        if t.weight.is_some_and(|w| w.abs() > MAX_TRACK_WEIGHT) {
            return Err(bad(
                "track_script",
                format!("{}: weight must be in -253..=253", t.name),
            ));
        }
    }
    if v.garp.master_repeat == 0 || v.garp.master_refresh_repeat == 0 {
        return Err(bad(
            "garp_master_repeat",
            "gratuitous ARP repeats must be at least 1".into(),
        ));
    }
    Ok(())
}
