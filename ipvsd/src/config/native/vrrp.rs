//! The `[vrrp]` table of the native TOML, read into [`Vrrp`] and written
//! back with every value explicit. Defaults are keepalived's (version 2,
//! priority 100, advertisement interval 1 s, preempt on, 5 gratuitous ARPs
//! and a second burst 5 s later); the checks are the same as for
//! keepalived.conf ([`crate::config::vrrp`]'s `validate`).

use std::ops::Range;
use std::time::Duration;

use super::document::{
    AddressToml, ChecksumToml, ScriptToml, StateToml, SyncGroupToml, TrackToml, VrrpInstanceToml,
    VrrpScriptToml, VrrpToml,
};
use crate::config::checker::RunAs;
use crate::config::error::{ConfigError, Location};
use crate::config::model::{Script, SyncDaemonConfig};
use crate::config::values::{MAX_SECONDS, micros};
use crate::config::vrrp::{
    DEFAULT_ADVERT_INT, DEFAULT_PRIORITY, Garp, InitialState, Notify, Part, SyncGroup,
    TrackInterface, TrackScript, VirtualAddress, Vrrp, VrrpGlobal, VrrpInstance, VrrpScript,
    family_of, validate,
};
use crate::vrrp::{ChecksumMode, Version};
use ipvs::AddressFamily;

fn secs(v: Option<f64>, key: &str, loc: &Location) -> Result<Option<Duration>, ConfigError> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && (0.0..=MAX_SECONDS).contains(&s) => Ok(Some(micros(s))),
        Some(s) => Err(ConfigError::invalid(
            loc,
            key,
            format!("{s} is not a number of seconds"),
        )),
    }
}

fn script(s: Option<ScriptToml>) -> Option<Script> {
    s.map(|s| Script {
        command: s.command,
        user: s.user.map(|user| RunAs {
            user,
            group: s.group,
        }),
    })
}

fn version(n: Option<u8>, default: Version, loc: &Location) -> Result<Version, ConfigError> {
    match n {
        None => Ok(default),
        Some(2) => Ok(Version::V2),
        Some(3) => Ok(Version::V3),
        Some(other) => Err(ConfigError::invalid(
            loc,
            "version",
            format!("{other} is not 2 or 3"),
        )),
    }
}

fn notify(
    master: Option<ScriptToml>,
    backup: Option<ScriptToml>,
    fault: Option<ScriptToml>,
    stop: Option<ScriptToml>,
    any: Option<ScriptToml>,
) -> Notify {
    Notify {
        master: script(master),
        backup: script(backup),
        fault: script(fault),
        stop: script(stop),
        any: script(any),
    }
}

/// Reads `[vrrp]` (absent: no VRRP). `at` gives the location of a span,
/// `table_at` is the `[vrrp]` line, `sync_daemon` the global
/// `lvs_sync_daemon` whose instance must exist.
///
/// # Errors
/// [`ConfigError::Invalid`] with the line of the instance, script or sync
/// group at fault.
pub(super) fn read(
    doc: Option<VrrpToml>,
    sync_daemon: Option<&SyncDaemonConfig>,
    at: &dyn Fn(Range<usize>) -> Location,
    table_at: &Location,
) -> Result<Vrrp, ConfigError> {
    let Some(doc) = doc else {
        return Ok(Vrrp::default());
    };
    let d = VrrpGlobal::default();
    let global = VrrpGlobal {
        version: version(doc.version, d.version, table_at)?,
        garp_master_delay: secs(doc.garp_master_delay, "garp_master_delay", table_at)?
            .unwrap_or(d.garp_master_delay),
        garp_master_repeat: doc.garp_master_repeat.unwrap_or(d.garp_master_repeat),
        garp_master_refresh: secs(doc.garp_master_refresh, "garp_master_refresh", table_at)?
            .unwrap_or(d.garp_master_refresh),
        garp_master_refresh_repeat: doc
            .garp_master_refresh_repeat
            .unwrap_or(d.garp_master_refresh_repeat),
        garp_interval: secs(doc.garp_interval, "garp_interval", table_at)?
            .unwrap_or(d.garp_interval),
        gna_interval: secs(doc.gna_interval, "gna_interval", table_at)?.unwrap_or(d.gna_interval),
        garp_lower_prio_delay: secs(doc.garp_lower_prio_delay, "garp_lower_prio_delay", table_at)?,
        garp_lower_prio_repeat: doc.garp_lower_prio_repeat,
        lower_prio_no_advert: doc.lower_prio_no_advert.unwrap_or(d.lower_prio_no_advert),
        notify_fifo: doc.notify_fifo,
        notify_fifo_script: script(doc.notify_fifo_script),
    };
    if global.garp_master_repeat == 0 || global.garp_master_refresh_repeat == 0 {
        return Err(ConfigError::invalid(
            table_at,
            "garp_master_repeat",
            "gratuitous ARP repeats must be at least 1",
        ));
    }
    let mut vrrp = Vrrp {
        global,
        ..Vrrp::default()
    };
    let mut instance_at = Vec::with_capacity(doc.instances.len());
    for i in doc.instances {
        let loc = at(i.span());
        let v = instance(i.into_inner(), &vrrp.global, &loc)?;
        vrrp.instances.push(v);
        instance_at.push(loc);
    }
    let mut script_at = Vec::with_capacity(doc.scripts.len());
    for s in doc.scripts {
        let loc = at(s.span());
        let s = s.into_inner();
        let interval = secs(s.interval, "interval", &loc)?.unwrap_or(Duration::from_secs(1));
        vrrp.scripts.push(VrrpScript {
            name: s.name,
            script: script(Some(s.script)).unwrap_or_else(|| Script {
                command: String::new(),
                user: None,
            }),
            interval,
            timeout: secs(s.timeout, "timeout", &loc)?.unwrap_or(interval),
            weight: s.weight.unwrap_or(0),
            rise: s.rise.unwrap_or(1),
            fall: s.fall.unwrap_or(1),
        });
        script_at.push(loc);
    }
    let mut group_at = Vec::with_capacity(doc.sync_groups.len());
    for g in doc.sync_groups {
        let loc = at(g.span());
        let g = g.into_inner();
        vrrp.sync_groups.push(SyncGroup {
            name: g.name,
            instances: g.instances,
            notify: notify(
                g.notify_master,
                g.notify_backup,
                g.notify_fault,
                g.notify_stop,
                g.notify,
            ),
        });
        group_at.push(loc);
    }
    validate(&vrrp, sync_daemon).map_err(|p| {
        let (loc, table) = match p.at {
            Part::Instance(i) => (instance_at.get(i), "vrrp.instances"),
            Part::Script(i) => (script_at.get(i), "vrrp.scripts"),
            Part::SyncGroup(i) => (group_at.get(i), "vrrp.sync_groups"),
            Part::SyncDaemon => (None, "global.lvs_sync_daemon"),
        };
        ConfigError::invalid(
            loc.unwrap_or(table_at),
            format!("{table}: {}", p.keyword),
            p.message,
        )
    })?;
    Ok(vrrp)
}

fn address(a: AddressToml) -> VirtualAddress {
    let max = if a.address.is_ipv4() { 32 } else { 128 };
    VirtualAddress {
        address: a.address,
        prefix_len: a.prefix_len.unwrap_or(max),
        device: a.device,
        label: a.label,
    }
}

fn instance(
    i: VrrpInstanceToml,
    global: &VrrpGlobal,
    loc: &Location,
) -> Result<VrrpInstance, ConfigError> {
    let virtual_addresses: Vec<VirtualAddress> =
        i.virtual_addresses.into_iter().map(address).collect();
    // As keepalived: an IPv6 instance (by the rule of
    // `VrrpInstance::family`) is version 3 unless told.
    let default_version = match family_of(&virtual_addresses, i.unicast_src, &i.unicast_peers) {
        AddressFamily::Ipv6 => Version::V3,
        AddressFamily::Ipv4 => global.version,
    };
    let auth_pass = match i.auth_pass {
        None => None,
        Some(p) if p.is_empty() || p.len() > 8 => {
            return Err(ConfigError::invalid(
                loc,
                "auth_pass",
                "must be 1 to 8 bytes",
            ));
        }
        Some(p) => {
            let mut bytes = [0u8; 8];
            bytes[..p.len()].copy_from_slice(p.as_bytes());
            Some(bytes)
        }
    };
    let defaults = Garp::from_global(global);
    Ok(VrrpInstance {
        name: i.name,
        initial_state: match i.state {
            Some(StateToml::Master) => InitialState::Master,
            Some(StateToml::Backup) | None => InitialState::Backup,
        },
        interface: i.interface,
        vrid: i.vrid,
        priority: i.priority.unwrap_or(DEFAULT_PRIORITY),
        advert_int: secs(i.advert_int, "advert_int", loc)?.unwrap_or(DEFAULT_ADVERT_INT),
        version: version(i.version, default_version, loc)?,
        preempt: i.preempt.unwrap_or(true),
        preempt_delay: secs(i.preempt_delay, "preempt_delay", loc)?.unwrap_or_default(),
        checksum: match i.checksum {
            None | Some(ChecksumToml::PseudoHeader) => ChecksumMode::PseudoHeader,
            Some(ChecksumToml::AsV2) => ChecksumMode::AsV2,
        },
        track_primary: i.track_primary.unwrap_or(true),
        unicast_src: i.unicast_src,
        unicast_peers: i.unicast_peers,
        auth_pass,
        virtual_addresses,
        excluded_addresses: i.excluded_addresses.into_iter().map(address).collect(),
        track_interfaces: i
            .track_interfaces
            .into_iter()
            .map(|t| TrackInterface {
                name: t.name,
                weight: t.weight,
            })
            .collect(),
        track_scripts: i
            .track_scripts
            .into_iter()
            .map(|t| TrackScript {
                name: t.name,
                weight: t.weight,
            })
            .collect(),
        notify: notify(
            i.notify_master,
            i.notify_backup,
            i.notify_fault,
            i.notify_stop,
            i.notify,
        ),
        garp: Garp {
            master_delay: secs(i.garp_master_delay, "garp_master_delay", loc)?
                .unwrap_or(defaults.master_delay),
            master_repeat: i.garp_master_repeat.unwrap_or(defaults.master_repeat),
            master_refresh: secs(i.garp_master_refresh, "garp_master_refresh", loc)?
                .unwrap_or(defaults.master_refresh),
            master_refresh_repeat: i
                .garp_master_refresh_repeat
                .unwrap_or(defaults.master_refresh_repeat),
            interval: secs(i.garp_interval, "garp_interval", loc)?.unwrap_or(defaults.interval),
            gna_interval: secs(i.gna_interval, "gna_interval", loc)?
                .unwrap_or(defaults.gna_interval),
            lower_prio_delay: secs(i.garp_lower_prio_delay, "garp_lower_prio_delay", loc)?
                .unwrap_or(defaults.lower_prio_delay),
            lower_prio_repeat: i
                .garp_lower_prio_repeat
                .unwrap_or(defaults.lower_prio_repeat),
        },
        lower_prio_no_advert: i
            .lower_prio_no_advert
            .unwrap_or(global.lower_prio_no_advert),
    })
}

fn seconds_of(d: Duration) -> f64 {
    // Whole microseconds in a model (see `values::micros`): exact enough
    // to read back to the same value.
    d.as_micros() as f64 / 1e6
}

fn script_toml(s: &Option<Script>) -> Option<ScriptToml> {
    s.as_ref().map(|s| ScriptToml {
        command: s.command.clone(),
        user: s.user.as_ref().map(|u| u.user.clone()),
        group: s.user.as_ref().and_then(|u| u.group.clone()),
    })
}

fn address_toml(a: &VirtualAddress) -> AddressToml {
    AddressToml {
        address: a.address,
        prefix_len: Some(a.prefix_len),
        device: a.device.clone(),
        label: a.label.clone(),
    }
}

/// `[vrrp]` with every value explicit; `None` when the VRRP part is all
/// defaults and empty.
///
/// # Errors
/// A message when a PASS password is not UTF-8 (keepalived cuts it at 8
/// bytes, which may split a character), which TOML cannot hold.
pub(super) fn write(vrrp: &Vrrp) -> Result<Option<VrrpToml>, String> {
    if *vrrp == Vrrp::default() {
        return Ok(None);
    }
    let g = &vrrp.global;
    let mut doc = VrrpToml {
        version: Some(g.version.number()),
        garp_master_delay: Some(seconds_of(g.garp_master_delay)),
        garp_master_repeat: Some(g.garp_master_repeat),
        garp_master_refresh: Some(seconds_of(g.garp_master_refresh)),
        garp_master_refresh_repeat: Some(g.garp_master_refresh_repeat),
        garp_interval: Some(seconds_of(g.garp_interval)),
        gna_interval: Some(seconds_of(g.gna_interval)),
        // Unset, they follow garp_master_delay and garp_master_repeat.
        garp_lower_prio_delay: g.garp_lower_prio_delay.map(seconds_of),
        garp_lower_prio_repeat: g.garp_lower_prio_repeat,
        lower_prio_no_advert: Some(g.lower_prio_no_advert),
        notify_fifo: g.notify_fifo.clone(),
        notify_fifo_script: script_toml(&g.notify_fifo_script),
        ..VrrpToml::default()
    };
    for v in &vrrp.instances {
        let auth_pass = match &v.auth_pass {
            None => None,
            Some(bytes) => {
                let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
                Some(
                    String::from_utf8(bytes[..end].to_vec())
                        .map_err(|_| format!("vrrp_instance {}: auth_pass is not UTF-8", v.name))?,
                )
            }
        };
        doc.instances.push(toml::Spanned::new(
            0..0,
            VrrpInstanceToml {
                name: v.name.clone(),
                state: Some(match v.initial_state {
                    InitialState::Master => StateToml::Master,
                    InitialState::Backup => StateToml::Backup,
                }),
                interface: v.interface.clone(),
                vrid: v.vrid,
                priority: Some(v.priority),
                advert_int: Some(seconds_of(v.advert_int)),
                version: Some(v.version.number()),
                preempt: Some(v.preempt),
                preempt_delay: Some(seconds_of(v.preempt_delay)),
                checksum: Some(match v.checksum {
                    ChecksumMode::PseudoHeader => ChecksumToml::PseudoHeader,
                    ChecksumMode::AsV2 => ChecksumToml::AsV2,
                }),
                track_primary: (!v.track_primary).then_some(false),
                unicast_src: v.unicast_src,
                unicast_peers: v.unicast_peers.clone(),
                auth_pass,
                virtual_addresses: v.virtual_addresses.iter().map(address_toml).collect(),
                excluded_addresses: v.excluded_addresses.iter().map(address_toml).collect(),
                track_interfaces: v
                    .track_interfaces
                    .iter()
                    .map(|t| TrackToml {
                        name: t.name.clone(),
                        weight: t.weight,
                    })
                    .collect(),
                track_scripts: v
                    .track_scripts
                    .iter()
                    .map(|t| TrackToml {
                        name: t.name.clone(),
                        weight: t.weight,
                    })
                    .collect(),
                notify_master: script_toml(&v.notify.master),
                notify_backup: script_toml(&v.notify.backup),
                notify_fault: script_toml(&v.notify.fault),
                notify_stop: script_toml(&v.notify.stop),
                notify: script_toml(&v.notify.any),
                garp_master_delay: Some(seconds_of(v.garp.master_delay)),
                garp_master_repeat: Some(v.garp.master_repeat),
                garp_master_refresh: Some(seconds_of(v.garp.master_refresh)),
                garp_master_refresh_repeat: Some(v.garp.master_refresh_repeat),
                garp_interval: Some(seconds_of(v.garp.interval)),
                gna_interval: Some(seconds_of(v.garp.gna_interval)),
                garp_lower_prio_delay: Some(seconds_of(v.garp.lower_prio_delay)),
                garp_lower_prio_repeat: Some(v.garp.lower_prio_repeat),
                lower_prio_no_advert: Some(v.lower_prio_no_advert),
            },
        ));
    }
    for s in &vrrp.scripts {
        doc.scripts.push(toml::Spanned::new(
            0..0,
            VrrpScriptToml {
                name: s.name.clone(),
                script: script_toml(&Some(s.script.clone())).unwrap_or(ScriptToml {
                    command: String::new(),
                    user: None,
                    group: None,
                }),
                interval: Some(seconds_of(s.interval)),
                timeout: Some(seconds_of(s.timeout)),
                weight: Some(s.weight),
                rise: Some(s.rise),
                fall: Some(s.fall),
            },
        ));
    }
    for g in &vrrp.sync_groups {
        doc.sync_groups.push(toml::Spanned::new(
            0..0,
            SyncGroupToml {
                name: g.name.clone(),
                instances: g.instances.clone(),
                notify_master: script_toml(&g.notify.master),
                notify_backup: script_toml(&g.notify.backup),
                notify_fault: script_toml(&g.notify.fault),
                notify_stop: script_toml(&g.notify.stop),
                notify: script_toml(&g.notify.any),
            },
        ));
    }
    Ok(Some(doc))
}
