//! keepalived.conf's VRRP part into [`Vrrp`]: `vrrp_instance`,
//! `vrrp_script`, `vrrp_sync_group` and the VRRP keywords of `global_defs`,
//! with keepalived's defaults and corrections resolved (keepalived.conf(5)
//! and `vrrp_complete_instance` of keepalived 2.2.7). A correction
//! keepalived makes with a warning is made here with a [`Note`]; a keyword
//! ipvsd does not run is [`ConfigError::Vrrp`], never silently ignored.
//!
//! Instances are kept as written until the whole file is read, because
//! `global_defs` (the default version, gratuitous ARP settings) may come
//! after them, as keepalived allows.
//!
//! [`Note`]: crate::config::Note

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipvs::AddressFamily;

use super::Reader;
use super::args::script;
use crate::config::checker::RunAs;
use crate::config::error::{ConfigError, Location};
use crate::config::lexer::Statement;
use crate::config::model::{Script, SyncDaemonConfig};
use crate::config::values::{arg, at_most, block, ip, no_block, number, seconds, single, switch};
use crate::config::vrrp::{
    self as model, DEFAULT_ADVERT_INT, DEFAULT_PRIORITY, Garp, InitialState, MAX_ADVERT_INT_V2,
    MAX_ADVERT_INT_V3, MAX_PREEMPT_DELAY, MAX_TRACK_WEIGHT, Notify, OWNER_PRIORITY, Part,
    SyncGroup, TrackInterface, TrackScript, VirtualAddress, Vrrp, VrrpGlobal, VrrpInstance,
    VrrpScript, family_of,
};
use crate::vrrp::{ChecksumMode, Version};

/// `global_defs` keywords that only tune keepalived's own VRRP process
/// (scheduling, memory, buffers, SNMP, email, logging): accepted with a
/// note, as they change nothing on the wire or in the addresses.
const TUNING_GLOBALS: &[&str] = &[
    "vrrp_priority",
    "vrrp_no_swap",
    "vrrp_rt_priority",
    "vrrp_cpu_affinity",
    "vrrp_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "vrrp_process_name",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "vrrp_skip_check_adv_addr",
    "max_auto_priority",
    "min_auto_priority_delay",
    "enable_snmp_vrrp",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "smtp_alert_vrrp",
    "log_unknown_vrids",
];

/// The `vrrp_instance` keywords ipvsd reads (or notes).
const INSTANCE_KEYWORDS: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "v3_checksum_as_v2",
    "mcast_src_ip",
    "unicast_src_ip",
    "unicast_peer",
    "authentication",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "track_interface",
    "track_script",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "garp_interval",
    "gna_interval",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "lower_prio_no_advert",
    "lvs_sync_daemon_interface",
    "smtp_alert",
    "dont_track_primary",
];

/// The `vrrp_script` keywords ipvsd reads.
const SCRIPT_KEYWORDS: &[&str] = &[
    "script", "interval", "timeout", "weight", "rise", "fall", "user",
];

/// The `vrrp_sync_group` keywords ipvsd reads (or notes).
const SYNC_GROUP_KEYWORDS: &[&str] = &[
    "group",
    "track_interface",
    "track_script",
    "sync_group_tracking_weight",
    "global_tracking",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "smtp_alert",
];

/// The VRRP part read so far.
#[derive(Debug, Default)]
pub(super) struct VrrpReader {
    global: VrrpGlobal,
    /// Global `v3_checksum_as_v2` (keepalived after 2.2.7): the default of
    /// v3 instances.
    checksum: Option<ChecksumMode>,
    /// `default_interface`: the interface of an instance that names none.
    default_interface: Option<String>,
    instances: Vec<RawInstance>,
    scripts: Vec<(Location, VrrpScript)>,
    sync_groups: Vec<RawSyncGroup>,
}

/// A `vrrp_sync_group` as written: the group, and the tracking it gives
/// its members (keepalived.conf(5), "VRRP synchronization group(s)").
#[derive(Debug)]
struct RawSyncGroup {
    location: Location,
    group: SyncGroup,
    /// `track_interface` of the group: added to every member.
    track_interfaces: Vec<TrackInterface>,
    /// `track_script` of the group: added to every member.
    track_scripts: Vec<TrackScript>,
    /// `sync_group_tracking_weight` (or the deprecated `global_tracking`):
    /// members keep their tracking weights.
    tracking_weight: bool,
}

/// A `vrrp_instance` as written: `None` is "not given".
#[derive(Debug)]
struct RawInstance {
    location: Location,
    name: String,
    state: Option<InitialState>,
    interface: Option<String>,
    vrid: Option<u8>,
    priority: Option<u8>,
    advert_int: Option<Duration>,
    version: Option<(Version, Location)>,
    nopreempt: Option<Location>,
    dont_track_primary: bool,
    preempt_delay: Option<(Duration, Location)>,
    checksum: Option<ChecksumMode>,
    unicast_src: Option<IpAddr>,
    unicast_peers: Vec<IpAddr>,
    /// `authentication`: where, and the password if any.
    auth: Option<(Location, Option<[u8; 8]>)>,
    virtual_addresses: Vec<VirtualAddress>,
    excluded_addresses: Vec<VirtualAddress>,
    track_interfaces: Vec<TrackInterface>,
    track_scripts: Vec<TrackScript>,
    notify: Notify,
    garp_master_delay: Option<Duration>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<Duration>,
    garp_master_refresh_repeat: Option<u32>,
    garp_interval: Option<Duration>,
    gna_interval: Option<Duration>,
    garp_lower_prio_delay: Option<Duration>,
    garp_lower_prio_repeat: Option<u32>,
    lower_prio_no_advert: Option<bool>,
    lvs_sync_daemon_interface: Option<(String, Location)>,
}

/// A VRRP keyword ipvsd does not support, met `context`.
pub(super) fn unsupported_vrrp(st: &Statement, context: &str) -> ConfigError {
    ConfigError::Vrrp {
        location: st.location.clone(),
        keyword: st.keyword().to_owned(),
        context: context.to_owned(),
    }
}

/// A number in `min..=max` as `u8`.
fn byte(st: &Statement, text: &str, min: u8, max: u8) -> Result<u8, ConfigError> {
    let n = number(st, text, u64::from(min), u64::from(max))?;
    u8::try_from(n).map_err(|_| ConfigError::invalid(&st.location, st.keyword(), "too large"))
}

/// A count of gratuitous ARPs where 0 means none (keepalived's
/// `garp_lower_prio_repeat`, read unsigned up to `INT_MAX`).
fn repeats(st: &Statement) -> Result<u32, ConfigError> {
    let n = number(st, single(st)?, 0, u64::from(i32::MAX.unsigned_abs()))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// A whole number of seconds (keepalived reads these timers unsigned).
fn whole_seconds(st: &Statement) -> Result<Duration, ConfigError> {
    let n = number(st, single(st)?, 0, u64::from(u32::MAX))?;
    Ok(Duration::from_secs(n))
}

/// A count that keepalived raises from 0 to 1 with a warning.
fn at_least_one(st: &Statement) -> Result<(u32, bool), ConfigError> {
    let n = number(st, single(st)?, 0, u64::from(u32::MAX))?;
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    Ok((n.max(1), n == 0))
}

/// A tracking weight in -253..=253 from `words` (after `weight`) of
/// `keyword`, refusing keepalived's `reverse` (not supported by ipvsd).
fn weight(st: &Statement, keyword: &str, words: &[&str]) -> Result<i32, ConfigError> {
    let bad = |why: String| ConfigError::invalid(&st.location, keyword, why);
    let text = words
        .first()
        .ok_or_else(|| bad("`weight` needs a value".into()))?;
    let w = text
        .parse::<i32>()
        .ok()
        .filter(|w| w.abs() <= MAX_TRACK_WEIGHT)
        .ok_or_else(|| {
            bad(format!(
                "weight `{text}` is not a whole number in -253..=253"
            ))
        })?;
    match words.get(1) {
        None => Ok(w),
        Some(&"reverse") => Err(ConfigError::Vrrp {
            location: st.location.clone(),
            keyword: "reverse".into(),
            context: format!("in {keyword}"),
        }),
        Some(other) => Err(bad(format!("unexpected `{other}` after the weight"))),
    }
}

/// `ADDR[/PREFIX] [dev IF] [label L] [brd X] [scope global]` of
/// `virtual_ipaddress`: address, prefix, device and label are kept; `brd`
/// is noted and dropped; any other option (another scope, `no_track`,
/// `preferred_lft`, `use_vmac`, ...) is refused.
fn virtual_address(
    s: &Statement,
    block_name: &str,
    notes: &mut Vec<(Location, String)>,
) -> Result<VirtualAddress, ConfigError> {
    no_block(s)?;
    let text = s.keyword();
    let bad = |why: String| ConfigError::invalid(&s.location, block_name, why);
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let address: IpAddr = addr
        .parse()
        .map_err(|_| bad(format!("`{text}` is not an IP address")))?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| bad(format!("`{text}`: the prefix is not in 0..={max}")))?,
    };
    let mut a = VirtualAddress {
        address,
        prefix_len,
        device: None,
        label: None,
    };
    let words = s.args().to_vec();
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).copied();
        let need = || value.ok_or_else(|| bad(format!("`{}` needs a value", words[i])));
        match words[i] {
            "dev" => a.device = Some(need()?.to_owned()),
            "label" => a.label = Some(need()?.to_owned()),
            "brd" => {
                need()?;
                notes.push((
                    s.location.clone(),
                    format!("{text}: `brd` ignored (ipvsd adds the address without a broadcast)"),
                ));
            }
            "scope" => {
                if need()? != "global" {
                    return Err(bad(format!(
                        "{text}: only `scope global` is supported, not `{}`",
                        need()?
                    )));
                }
            }
            other => {
                return Err(ConfigError::Vrrp {
                    location: s.location.clone(),
                    keyword: other.to_owned(),
                    context: format!("in {block_name}"),
                });
            }
        }
        i += 2;
    }
    Ok(a)
}

/// The entries of a `track_interface { IF [weight N] ... }` block.
fn track_interfaces(s: &Statement) -> Result<Vec<TrackInterface>, ConfigError> {
    let mut out = Vec::new();
    for t in block(s)? {
        no_block(t)?;
        // keepalived's weight 0 is no weight: down is a fault.
        out.push(TrackInterface {
            name: t.keyword().to_owned(),
            weight: track_weight(t, "track_interface")?.filter(|w| *w != 0),
        });
    }
    Ok(out)
}

/// The entries of a `track_script { NAME [weight N] ... }` block.
fn track_scripts(s: &Statement) -> Result<Vec<TrackScript>, ConfigError> {
    let mut out = Vec::new();
    for t in block(s)? {
        no_block(t)?;
        out.push(TrackScript {
            name: t.keyword().to_owned(),
            weight: track_weight(t, "track_script")?,
        });
    }
    Ok(out)
}

/// The `weight N` after a tracked object's name, if any.
fn track_weight(t: &Statement, keyword: &str) -> Result<Option<i32>, ConfigError> {
    let words = t.args().to_vec();
    match words.first() {
        None => Ok(None),
        Some(&"weight") => Ok(Some(weight(t, keyword, &words[1..])?)),
        Some(other) => Err(ConfigError::invalid(
            &t.location,
            keyword,
            format!("unexpected `{other}` (only `weight N` may follow)"),
        )),
    }
}

impl Reader<'_> {
    /// A top-level VRRP block: read, or skipped with a note checker-only.
    pub(super) fn vrrp_block(&mut self, st: &Statement) -> Result<(), ConfigError> {
        if self.options.checker_only {
            self.skip_vrrp(st);
            return Ok(());
        }
        match st.keyword() {
            "vrrp_instance" => self.vrrp_instance(st),
            "vrrp_script" => self.vrrp_script(st),
            "vrrp_sync_group" => self.vrrp_sync_group(st),
            _ => Err(unsupported_vrrp(st, "at the top level")),
        }
    }

    /// A VRRP keyword of `global_defs`: read, noted, refused, or skipped
    /// with a note checker-only.
    pub(super) fn vrrp_global(&mut self, s: &Statement) -> Result<(), ConfigError> {
        if self.options.checker_only {
            self.skip_vrrp(s);
            return Ok(());
        }
        let k = s.keyword();
        let g = &mut self.vrrp.global;
        match k {
            "vrrp_version" => {
                g.version = match byte(s, single(s)?, 2, 3)? {
                    2 => Version::V2,
                    _ => Version::V3,
                }
            }
            "vrrp_garp_master_delay" => g.garp_master_delay = whole_seconds(s)?,
            "vrrp_garp_master_refresh" => g.garp_master_refresh = whole_seconds(s)?,
            "vrrp_garp_master_repeat" | "vrrp_garp_master_refresh_repeat" => {
                let (n, raised) = at_least_one(s)?;
                if k == "vrrp_garp_master_repeat" {
                    g.garp_master_repeat = n;
                } else {
                    g.garp_master_refresh_repeat = n;
                }
                if raised {
                    self.note(&s.location, format!("`{k} 0` set to 1, as keepalived does"));
                }
            }
            "vrrp_garp_interval" => g.garp_interval = seconds(s, single(s)?, 0.000_001)?,
            "vrrp_gna_interval" => g.gna_interval = seconds(s, single(s)?, 0.000_001)?,
            "vrrp_garp_lower_prio_delay" => g.garp_lower_prio_delay = Some(whole_seconds(s)?),
            "vrrp_garp_lower_prio_repeat" => g.garp_lower_prio_repeat = Some(repeats(s)?),
            "vrrp_lower_prio_no_advert" => g.lower_prio_no_advert = switch(s)?,
            "vrrp_min_garp" => {
                if switch(s)? {
                    // One gratuitous ARP, no second burst (keepalived.conf(5)).
                    g.garp_master_repeat = 1;
                    g.garp_master_delay = Duration::ZERO;
                }
            }
            "vrrp_notify_fifo" => g.notify_fifo = Some(PathBuf::from(single(s)?)),
            "vrrp_notify_fifo_script" => {
                g.notify_fifo_script = Some(script(s, &mut self.users)?);
            }
            "v3_checksum_as_v2" => {
                self.vrrp.checksum = Some(if switch(s)? {
                    ChecksumMode::AsV2
                } else {
                    ChecksumMode::PseudoHeader
                });
            }
            "default_interface" => self.vrrp.default_interface = Some(single(s)?.to_owned()),
            k if TUNING_GLOBALS.contains(&k) => self.note(
                &s.location,
                format!("`{k}` only tunes keepalived's own process: ignored"),
            ),
            _ => return Err(unsupported_vrrp(s, "in global_defs")),
        }
        Ok(())
    }

    /// The note of a VRRP block or keyword skipped checker-only.
    pub(super) fn skip_vrrp(&mut self, st: &Statement) {
        let name = st
            .args()
            .first()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        self.note(
            &st.location,
            format!("VRRP `{}{name}` skipped (checker only)", st.keyword()),
        );
    }

    fn vrrp_instance(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let name = single(st)?.to_owned();
        let mut v = RawInstance {
            location: st.location.clone(),
            name,
            state: None,
            interface: None,
            vrid: None,
            priority: None,
            advert_int: None,
            version: None,
            nopreempt: None,
            dont_track_primary: false,
            preempt_delay: None,
            checksum: None,
            unicast_src: None,
            unicast_peers: Vec::new(),
            auth: None,
            virtual_addresses: Vec::new(),
            excluded_addresses: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            notify: Notify::default(),
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_interval: None,
            gna_interval: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            lower_prio_no_advert: None,
            lvs_sync_daemon_interface: None,
        };
        let mut notes = Vec::new();
        for s in block(st)? {
            let k = s.keyword();
            let takes_block = matches!(
                k,
                "unicast_peer"
                    | "authentication"
                    | "virtual_ipaddress"
                    | "virtual_ipaddress_excluded"
                    | "track_interface"
                    | "track_script"
            );
            if !INSTANCE_KEYWORDS.contains(&k) {
                return Err(unsupported_vrrp(s, "in vrrp_instance"));
            }
            if !takes_block {
                no_block(s)?;
            }
            match k {
                "state" => {
                    v.state = Some(match single(s)? {
                        "MASTER" => InitialState::Master,
                        "BACKUP" => InitialState::Backup,
                        other => {
                            return Err(ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{other}` is not MASTER or BACKUP"),
                            ));
                        }
                    })
                }
                "interface" => v.interface = Some(single(s)?.to_owned()),
                "virtual_router_id" => v.vrid = Some(byte(s, single(s)?, 1, 255)?),
                "priority" => v.priority = Some(byte(s, single(s)?, 1, 255)?),
                "advert_int" => {
                    let d = seconds(s, single(s)?, 0.01)?;
                    if d > MAX_ADVERT_INT_V2 {
                        return Err(ConfigError::invalid(
                            &s.location,
                            k,
                            "must be at most 255 s",
                        ));
                    }
                    v.advert_int = Some(d);
                }
                "version" => {
                    let n = byte(s, single(s)?, 2, 3)?;
                    let version = if n == 2 { Version::V2 } else { Version::V3 };
                    v.version = Some((version, s.location.clone()));
                }
                "nopreempt" => {
                    at_most(s, 0)?;
                    v.nopreempt = Some(s.location.clone());
                }
                "preempt" => {
                    at_most(s, 0)?;
                    v.nopreempt = None;
                }
                "preempt_delay" => {
                    let d = seconds(s, single(s)?, 0.0)?;
                    if d > MAX_PREEMPT_DELAY {
                        return Err(ConfigError::invalid(
                            &s.location,
                            k,
                            "must be at most 1000 s",
                        ));
                    }
                    v.preempt_delay = Some((d, s.location.clone()));
                }
                "v3_checksum_as_v2" => {
                    v.checksum = Some(if switch(s)? {
                        ChecksumMode::AsV2
                    } else {
                        ChecksumMode::PseudoHeader
                    });
                }
                "mcast_src_ip" | "unicast_src_ip" => v.unicast_src = Some(ip(s, single(s)?)?),
                "unicast_peer" => {
                    for p in block(s)? {
                        no_block(p)?;
                        if let Some(option) = p.args().first() {
                            return Err(ConfigError::Vrrp {
                                location: p.location.clone(),
                                keyword: option.to_owned(),
                                context: "in unicast_peer".into(),
                            });
                        }
                        v.unicast_peers.push(ip(p, p.keyword())?);
                    }
                }
                "authentication" => v.auth = Some(self.authentication(s)?),
                "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                    for a in block(s)? {
                        let address = virtual_address(a, k, &mut notes)?;
                        if k == "virtual_ipaddress" {
                            v.virtual_addresses.push(address);
                        } else {
                            v.excluded_addresses.push(address);
                        }
                    }
                }
                "track_interface" => v.track_interfaces.extend(track_interfaces(s)?),
                "track_script" => v.track_scripts.extend(track_scripts(s)?),
                "notify_master" => v.notify.master = Some(script(s, &mut self.users)?),
                "notify_backup" => v.notify.backup = Some(script(s, &mut self.users)?),
                "notify_fault" => v.notify.fault = Some(script(s, &mut self.users)?),
                "notify_stop" => v.notify.stop = Some(script(s, &mut self.users)?),
                "notify" => v.notify.any = Some(script(s, &mut self.users)?),
                "garp_master_delay" => v.garp_master_delay = Some(whole_seconds(s)?),
                "garp_master_refresh" => v.garp_master_refresh = Some(whole_seconds(s)?),
                "garp_master_repeat" | "garp_master_refresh_repeat" => {
                    let (n, raised) = at_least_one(s)?;
                    if k == "garp_master_repeat" {
                        v.garp_master_repeat = Some(n);
                    } else {
                        v.garp_master_refresh_repeat = Some(n);
                    }
                    if raised {
                        notes.push((
                            s.location.clone(),
                            format!("`{k} 0` set to 1, as keepalived does"),
                        ));
                    }
                }
                "garp_interval" | "gna_interval" => {
                    let d = seconds(s, single(s)?, 0.000_001)?;
                    if k == "garp_interval" {
                        v.garp_interval = Some(d);
                    } else {
                        v.gna_interval = Some(d);
                    }
                    notes.push((
                        s.location.clone(),
                        format!("`{k}` in an instance is ipvsd's (keepalived sets it in global_defs or a garp_group)"),
                    ));
                }
                "garp_lower_prio_delay" => v.garp_lower_prio_delay = Some(whole_seconds(s)?),
                "garp_lower_prio_repeat" => v.garp_lower_prio_repeat = Some(repeats(s)?),
                "lower_prio_no_advert" => v.lower_prio_no_advert = Some(switch(s)?),
                "lvs_sync_daemon_interface" => {
                    v.lvs_sync_daemon_interface = Some((single(s)?.to_owned(), s.location.clone()));
                }
                "smtp_alert" => {
                    switch(s)?;
                    notes.push((
                        s.location.clone(),
                        "`smtp_alert` ignored: ipvsd sends no email".into(),
                    ));
                }
                "dont_track_primary" => {
                    at_most(s, 0)?;
                    v.dont_track_primary = true;
                }
                _ => return Err(unsupported_vrrp(s, "in vrrp_instance")),
            }
        }
        for (at, message) in notes {
            self.note(&at, message);
        }
        self.vrrp.instances.push(v);
        Ok(())
    }

    /// `authentication { auth_type PASS; auth_pass X }`: the password,
    /// truncated to 8 bytes and zero-padded as keepalived does; `AH` is
    /// refused.
    fn authentication(
        &mut self,
        st: &Statement,
    ) -> Result<(Location, Option<[u8; 8]>), ConfigError> {
        let mut pass = None;
        for s in block(st)? {
            no_block(s)?;
            match s.keyword() {
                "auth_type" => match single(s)? {
                    "PASS" => {}
                    "AH" => {
                        return Err(ConfigError::Vrrp {
                            location: s.location.clone(),
                            keyword: "auth_type AH".into(),
                            context: "in authentication (IPsec AH is not supported)".into(),
                        });
                    }
                    other => {
                        return Err(ConfigError::invalid(
                            &s.location,
                            "auth_type",
                            format!("`{other}` is not PASS or AH"),
                        ));
                    }
                },
                "auth_pass" => {
                    let text = single(s)?;
                    if text.is_empty() {
                        // keepalived: no password, so no authentication.
                        pass = None;
                        continue;
                    }
                    let mut bytes = [0u8; 8];
                    let n = text.len().min(8);
                    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
                    if text.len() > 8 {
                        self.note(
                            &s.location,
                            "auth_pass truncated to 8 characters, as keepalived does",
                        );
                    }
                    pass = Some(bytes);
                }
                _ => return Err(unsupported_vrrp(s, "in authentication")),
            }
        }
        Ok((st.location.clone(), pass))
    }

    fn vrrp_script(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let name = single(st)?.to_owned();
        let mut command = None;
        let mut user = None;
        let (mut interval, mut timeout) = (Duration::from_secs(1), None);
        let (mut weight_value, mut rise, mut fall) = (0, 1, 1);
        for s in block(st)? {
            let k = s.keyword();
            if !SCRIPT_KEYWORDS.contains(&k) {
                return Err(unsupported_vrrp(s, "in vrrp_script"));
            }
            no_block(s)?;
            match k {
                // The rest of the line is the command and its arguments.
                "script" => {
                    arg(s, 0)?;
                    command = Some(s.args().join(" "));
                }
                "interval" | "timeout" => {
                    let (n, raised) = at_least_one(s)?;
                    if raised {
                        self.note(
                            &s.location,
                            format!("`{k} 0` set to 1 s, as keepalived does"),
                        );
                    }
                    let d = Duration::from_secs(u64::from(n));
                    if k == "interval" {
                        interval = d;
                    } else {
                        timeout = Some(d);
                    }
                }
                "weight" => weight_value = weight(s, "weight", &s.args().to_vec())?,
                "rise" | "fall" => {
                    let n = u32::try_from(number(s, single(s)?, 1, i32::MAX as u64)?)
                        .unwrap_or(u32::MAX);
                    if k == "rise" {
                        rise = n;
                    } else {
                        fall = n;
                    }
                }
                "user" => {
                    at_most(s, 2)?;
                    let who = RunAs {
                        user: arg(s, 0)?.to_owned(),
                        group: s.args().get(1).map(str::to_owned),
                    };
                    self.users.check(s, &who)?;
                    user = Some(who);
                }
                _ => return Err(unsupported_vrrp(s, "in vrrp_script")),
            }
        }
        let command = command.ok_or_else(|| {
            ConfigError::invalid(
                &st.location,
                "vrrp_script",
                format!("vrrp_script {name} has no `script`"),
            )
        })?;
        self.vrrp.scripts.push((
            st.location.clone(),
            VrrpScript {
                name,
                script: Script { command, user },
                interval,
                timeout: timeout.unwrap_or(interval),
                weight: weight_value,
                rise,
                fall,
            },
        ));
        Ok(())
    }

    fn vrrp_sync_group(&mut self, st: &Statement) -> Result<(), ConfigError> {
        let name = single(st)?.to_owned();
        let mut g = SyncGroup {
            name,
            instances: Vec::new(),
            notify: Notify::default(),
        };
        let mut raw = RawSyncGroup {
            location: st.location.clone(),
            group: SyncGroup {
                name: String::new(),
                instances: Vec::new(),
                notify: Notify::default(),
            },
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            tracking_weight: false,
        };
        for s in block(st)? {
            let k = s.keyword();
            if !SYNC_GROUP_KEYWORDS.contains(&k) {
                return Err(unsupported_vrrp(s, "in vrrp_sync_group"));
            }
            if !matches!(k, "group" | "track_interface" | "track_script") {
                no_block(s)?;
            }
            match k {
                "track_interface" => raw.track_interfaces.extend(track_interfaces(s)?),
                "track_script" => raw.track_scripts.extend(track_scripts(s)?),
                "sync_group_tracking_weight" => raw.tracking_weight = true,
                "global_tracking" => {
                    raw.tracking_weight = true;
                    self.note(
                        &s.location,
                        "`global_tracking` is deprecated: read as `sync_group_tracking_weight`, as keepalived does",
                    );
                }
                "group" => {
                    for line in block(s)? {
                        no_block(line)?;
                        g.instances.extend(line.words().map(str::to_owned));
                    }
                }
                "notify_master" => g.notify.master = Some(script(s, &mut self.users)?),
                "notify_backup" => g.notify.backup = Some(script(s, &mut self.users)?),
                "notify_fault" => g.notify.fault = Some(script(s, &mut self.users)?),
                "notify_stop" => g.notify.stop = Some(script(s, &mut self.users)?),
                "notify" => g.notify.any = Some(script(s, &mut self.users)?),
                "smtp_alert" => {
                    switch(s)?;
                    self.note(&s.location, "`smtp_alert` ignored: ipvsd sends no email");
                }
                _ => return Err(unsupported_vrrp(s, "in vrrp_sync_group")),
            }
        }
        if g.instances.len() == 1 {
            self.note(
                &st.location,
                format!(
                    "vrrp_sync_group {} has only 1 instance: it does nothing (keepalived warns too)",
                    g.name
                ),
            );
        }
        raw.group = g;
        self.vrrp.sync_groups.push(raw);
        Ok(())
    }

    /// The instances resolved with the global settings, everything
    /// validated ([`model::validate`]); `sync_daemon` is the global
    /// `lvs_sync_daemon`, which an instance's `lvs_sync_daemon_interface`
    /// fills when it is not set.
    pub(super) fn finish_vrrp(
        &mut self,
        sync_daemon: &mut Option<SyncDaemonConfig>,
    ) -> Result<Vrrp, ConfigError> {
        let reader = std::mem::take(&mut self.vrrp);
        let global = reader.global;
        let mut vrrp = Vrrp {
            global: global.clone(),
            instances: Vec::with_capacity(reader.instances.len()),
            scripts: Vec::with_capacity(reader.scripts.len()),
            sync_groups: Vec::with_capacity(reader.sync_groups.len()),
        };
        let mut locations = Vec::with_capacity(reader.instances.len());
        for raw in reader.instances {
            let location = raw.location.clone();
            let v = self.resolve_instance(
                raw,
                &global,
                reader.checksum,
                reader.default_interface.as_deref(),
                sync_daemon,
            )?;
            vrrp.instances.push(v);
            locations.push(location);
        }
        let (script_at, scripts): (Vec<_>, Vec<_>) = reader.scripts.into_iter().unzip();
        vrrp.scripts = scripts;
        let group_at: Vec<Location> = reader
            .sync_groups
            .iter()
            .map(|g| g.location.clone())
            .collect();
        for g in &reader.sync_groups {
            self.sync_group_tracking(&mut vrrp, g, &locations);
        }
        vrrp.sync_groups = reader.sync_groups.into_iter().map(|g| g.group).collect();
        model::validate(&vrrp, sync_daemon.as_ref()).map_err(|p| {
            let at = match p.at {
                Part::Instance(i) => locations.get(i),
                Part::Script(i) => script_at.get(i),
                Part::SyncGroup(i) => group_at.get(i),
                Part::SyncDaemon => None,
            };
            let at = at.cloned().unwrap_or_else(|| self.globals_at.clone());
            ConfigError::invalid(&at, p.keyword, p.message)
        })?;
        Ok(vrrp)
    }

    /// The tracking of the members of sync group `g`, as keepalived 2.2.7
    /// completes it (`vrrp_complete_instance`, `sync_group_tracking_init`
    /// in `vrrp.c`), so that members keep one priority order
    /// (keepalived.conf(5), "VRRP synchronization group(s)"):
    ///
    /// - without `sync_group_tracking_weight`, a member's weighted
    ///   `track_interface` loses its weight (down is a fault) and its
    ///   weighted `track_script` is dropped (keepalived ignores it);
    /// - the group's own `track_interface` and `track_script` are added to
    ///   every member with their weights (none when a member is the
    ///   address owner); an object the member tracks already takes the
    ///   group's weight unless the member's entry is unweighted.
    fn sync_group_tracking(&mut self, vrrp: &mut Vrrp, g: &RawSyncGroup, locations: &[Location]) {
        let name = &g.group.name;
        let has_owner = vrrp
            .instances
            .iter()
            .any(|v| g.group.instances.contains(&v.name) && v.priority == OWNER_PRIORITY);
        let script_weight = |scripts: &[VrrpScript], t: &TrackScript| {
            t.weight.unwrap_or_else(|| {
                scripts
                    .iter()
                    .find(|s| s.name == t.name)
                    .map_or(0, |s| s.weight)
            })
        };
        for (i, v) in vrrp.instances.iter_mut().enumerate() {
            if !g.group.instances.contains(&v.name) {
                continue;
            }
            let mut notes = Vec::new();
            if !g.tracking_weight {
                let mut zeroed = false;
                for t in &mut v.track_interfaces {
                    zeroed |= t.weight.take().is_some();
                }
                if zeroed {
                    notes.push(
                        "weights of track_interface removed (a failure is a fault)".to_owned(),
                    );
                }
                let before = v.track_scripts.len();
                let mut dropped = Vec::new();
                v.track_scripts.retain(|t| {
                    let keep = script_weight(&vrrp.scripts, t) == 0;
                    if !keep {
                        dropped.push(t.name.clone());
                    }
                    keep
                });
                if v.track_scripts.len() != before {
                    notes.push(format!(
                        "weighted track_script {} ignored",
                        dropped.join(", ")
                    ));
                }
            }
            for t in &g.track_interfaces {
                let weight = if has_owner { None } else { t.weight };
                match v.track_interfaces.iter_mut().find(|o| o.name == t.name) {
                    Some(own) => {
                        if own.weight.is_some() {
                            own.weight = weight;
                        }
                        notes.push(format!(
                            "track_interface {} is in the instance and its sync group",
                            t.name
                        ));
                    }
                    None => v.track_interfaces.push(TrackInterface {
                        name: t.name.clone(),
                        weight,
                    }),
                }
            }
            for t in &g.track_scripts {
                let weight = if has_owner {
                    Some(0)
                } else {
                    Some(script_weight(&vrrp.scripts, t))
                };
                match v.track_scripts.iter_mut().find(|o| o.name == t.name) {
                    Some(own) => {
                        if script_weight(&vrrp.scripts, own) != 0 {
                            own.weight = weight;
                        }
                        notes.push(format!(
                            "track_script {} is in the instance and its sync group",
                            t.name
                        ));
                    }
                    None => v.track_scripts.push(TrackScript {
                        name: t.name.clone(),
                        weight,
                    }),
                }
            }
            if let Some(at) = locations.get(i) {
                for n in notes {
                    self.notes.push(crate::config::Note {
                        location: at.clone(),
                        message: format!(
                            "vrrp_instance {} in vrrp_sync_group {name}: {n}, as keepalived does",
                            v.name
                        ),
                    });
                }
            }
        }
    }

    fn resolve_instance(
        &mut self,
        raw: RawInstance,
        global: &VrrpGlobal,
        global_checksum: Option<ChecksumMode>,
        default_interface: Option<&str>,
        sync_daemon: &mut Option<SyncDaemonConfig>,
    ) -> Result<VrrpInstance, ConfigError> {
        let at = &raw.location;
        let name = &raw.name;
        let interface = raw
            .interface
            .or_else(|| default_interface.map(str::to_owned))
            .ok_or_else(|| {
                ConfigError::invalid(
                    at,
                    "vrrp_instance",
                    format!("vrrp_instance {name} has no `interface`"),
                )
            })?;
        let vrid = raw.vrid.ok_or_else(|| {
            ConfigError::invalid(
                at,
                "vrrp_instance",
                format!("vrrp_instance {name} has no `virtual_router_id`"),
            )
        })?;
        // keepalived: no priority gives 255 to state MASTER, else 100; no
        // state is MASTER for priority 255, else BACKUP.
        let priority = match (raw.priority, raw.state) {
            (Some(p), _) => p,
            (None, Some(InitialState::Master)) => {
                self.note(
                    at,
                    format!("vrrp_instance {name}: state MASTER without a priority: priority 255 (address owner), as keepalived does"),
                );
                OWNER_PRIORITY
            }
            (None, _) => DEFAULT_PRIORITY,
        };
        let initial_state = raw.state.unwrap_or(if priority == OWNER_PRIORITY {
            InitialState::Master
        } else {
            InitialState::Backup
        });
        let family = family_of(&raw.virtual_addresses, raw.unicast_src, &raw.unicast_peers);
        let version = match (&raw.version, family) {
            (Some((Version::V2, vat)), AddressFamily::Ipv6) => {
                return Err(ConfigError::invalid(
                    vat,
                    "version",
                    format!(
                        "vrrp_instance {name}: VRRP version 2 is IPv4 only (RFC 3768); an IPv6 instance runs version 3"
                    ),
                ));
            }
            (Some((v, _)), _) => *v,
            (None, AddressFamily::Ipv6) => Version::V3,
            (None, AddressFamily::Ipv4) => global.version,
        };
        let advert_int = self.advert_int(at, name, version, raw.advert_int);
        let auth_pass = match raw.auth {
            None => None,
            Some((aat, _)) if version == Version::V3 => {
                self.note(
                    &aat,
                    format!("vrrp_instance {name}: VRRP version 3 has no authentication: ignored, as keepalived does"),
                );
                None
            }
            Some((aat, None)) => {
                self.note(
                    &aat,
                    format!("vrrp_instance {name}: authentication without auth_pass: ignored, as keepalived does"),
                );
                None
            }
            Some((_, pass)) => pass,
        };
        let mut preempt = raw.nopreempt.is_none();
        if let Some(nat) = &raw.nopreempt
            && (initial_state == InitialState::Master || priority == OWNER_PRIORITY)
        {
            self.note(
                    nat,
                    format!("vrrp_instance {name}: nopreempt needs state BACKUP and a priority below 255: cleared, as keepalived does"),
                );
            preempt = true;
        }
        let mut preempt_delay = Duration::ZERO;
        if let Some((d, dat)) = raw.preempt_delay {
            if initial_state == InitialState::Master && !d.is_zero() {
                self.note(
                    &dat,
                    format!("vrrp_instance {name}: preempt_delay does not apply to state MASTER: cleared, as keepalived does"),
                );
            } else {
                preempt_delay = d;
            }
        }
        let checksum = match version {
            Version::V3 => raw.checksum.or(global_checksum).unwrap_or_default(),
            Version::V2 => {
                if raw.checksum == Some(ChecksumMode::AsV2) {
                    self.note(
                        at,
                        format!("vrrp_instance {name}: v3_checksum_as_v2 has no effect on VRRP version 2"),
                    );
                }
                ChecksumMode::default()
            }
        };
        let defaults = Garp::from_global(global);
        let garp = Garp {
            master_delay: raw.garp_master_delay.unwrap_or(defaults.master_delay),
            master_repeat: raw.garp_master_repeat.unwrap_or(defaults.master_repeat),
            master_refresh: raw.garp_master_refresh.unwrap_or(defaults.master_refresh),
            master_refresh_repeat: raw
                .garp_master_refresh_repeat
                .unwrap_or(defaults.master_refresh_repeat),
            interval: raw.garp_interval.unwrap_or(defaults.interval),
            gna_interval: raw.gna_interval.unwrap_or(defaults.gna_interval),
            lower_prio_delay: raw
                .garp_lower_prio_delay
                .unwrap_or(defaults.lower_prio_delay),
            lower_prio_repeat: raw
                .garp_lower_prio_repeat
                .unwrap_or(defaults.lower_prio_repeat),
        };
        // The deprecated instance form of `lvs_sync_daemon IF inst NAME`
        // (keepalived ignores it when the global one is set).
        match raw.lvs_sync_daemon_interface {
            None => {}
            Some((_, lat)) if sync_daemon.is_some() => {
                self.note(
                    &lat,
                    "lvs_sync_daemon_interface ignored: lvs_sync_daemon is set, as keepalived does",
                );
            }
            Some((interface, lat)) => {
                self.note(
                    &lat,
                    format!("lvs_sync_daemon_interface is deprecated: read as `lvs_sync_daemon {interface} inst {name}`"),
                );
                *sync_daemon = Some(SyncDaemonConfig {
                    interface: interface.clone(),
                    vrrp_instance: Some(name.clone()),
                    sync_id: 0,
                    max_len: None,
                    port: None,
                    ttl: None,
                    group: None,
                });
            }
        }
        Ok(VrrpInstance {
            name: raw.name,
            initial_state,
            interface,
            vrid,
            priority,
            advert_int,
            version,
            preempt,
            preempt_delay,
            checksum,
            track_primary: !raw.dont_track_primary,
            unicast_src: raw.unicast_src,
            unicast_peers: raw.unicast_peers,
            auth_pass,
            virtual_addresses: raw.virtual_addresses,
            excluded_addresses: raw.excluded_addresses,
            track_interfaces: raw.track_interfaces,
            track_scripts: raw.track_scripts,
            notify: raw.notify,
            garp,
            lower_prio_no_advert: raw
                .lower_prio_no_advert
                .unwrap_or(global.lower_prio_no_advert),
        })
    }

    /// The advertisement interval as keepalived corrects it: v2 rounded to
    /// whole seconds (at least 1), v3 to 10 ms within 0.01..=40.95 s, each
    /// correction noted.
    fn advert_int(
        &mut self,
        at: &Location,
        name: &str,
        version: Version,
        given: Option<Duration>,
    ) -> Duration {
        let Some(d) = given else {
            return DEFAULT_ADVERT_INT;
        };
        let (unit, max) = match version {
            Version::V2 => (Duration::from_secs(1), MAX_ADVERT_INT_V2),
            Version::V3 => (Duration::from_millis(10), MAX_ADVERT_INT_V3),
        };
        let unit_us = unit.as_micros();
        let us = d.as_micros();
        // Half up, as keepalived rounds.
        let rounded = ((us + unit_us / 2) / unit_us).max(1) * unit_us;
        let out = Duration::from_micros(u64::try_from(rounded).unwrap_or(u64::MAX)).min(max);
        if out != d {
            self.note(
                at,
                format!(
                    "vrrp_instance {name}: advert_int {} s set to {} s (VRRP version {version} carries {}), as keepalived does",
                    d.as_secs_f64(),
                    out.as_secs_f64(),
                    match version {
                        Version::V2 => "whole seconds up to 255",
                        Version::V3 => "centiseconds up to 40.95 s",
                    }
                ),
            );
        }
        out
    }
}
