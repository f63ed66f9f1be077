//! The checks both formats share, run once on the model: the kernel's rules
//! for each service and real server (the `ipvs` library's `validate`), and
//! what must be unique.

use std::collections::HashMap;
use std::collections::HashSet;

use ipvs::{DaemonRole, ServiceKey};

use super::checker::CheckKind;
use super::model::{Global, Model, VirtualServer};

/// Checks one virtual server: every service it makes and every real and
/// sorry server against the kernel's rules, real servers unique, checker
/// settings coherent.
///
/// # Errors
/// A message saying what is wrong.
pub fn virtual_server(vs: &VirtualServer) -> Result<(), String> {
    // The name only for a message (formatting it for every server of a
    // large file costs more than the checks).
    let name = || vs.name();
    if vs.services.is_empty() {
        return Err(format!("virtual server {} makes no service", name()));
    }
    for key in &vs.services {
        vs.service(*key)
            .validate()
            .map_err(|e| format!("virtual server {}: service {key}: {e}", name()))?;
        for rs in &vs.real_servers {
            rs.destination(key)
                .validate(key)
                .map_err(|e| format!("real server {}: {e}", rs.socket()))?;
        }
        if let Some(s) = &vs.sorry_server {
            s.destination(key)
                .validate(key)
                .map_err(|e| format!("sorry server {}: {e}", s.address))?;
        }
    }
    let mut seen = HashSet::with_capacity(vs.real_servers.len());
    for rs in &vs.real_servers {
        if !seen.insert(rs.socket()) {
            return Err(format!(
                "virtual server {}: real server {} is given twice",
                name(),
                rs.socket()
            ));
        }
        for c in &rs.checkers {
            if let CheckKind::Http(h) = &c.kind {
                for u in &h.urls {
                    if let Some(r) = &u.regex
                        && let (Some(min), Some(max)) = (r.min_offset, r.max_offset)
                        && min >= max
                    {
                        return Err(format!(
                            "real server {}: url {}: regex min offset {min} is not below max offset {max}",
                            rs.socket(),
                            u.path
                        ));
                    }
                }
            }
            if c.timing.rise == 0 || c.timing.fall == 0 {
                return Err(format!(
                    "real server {}: rise and fall must be at least 1",
                    rs.socket()
                ));
            }
        }
    }
    Ok(())
}

/// Checks the global settings: timeouts and the sync daemon by the kernel's rules.
///
/// # Errors
/// A message saying what is wrong.
pub fn global(g: &Global) -> Result<(), String> {
    if let Some(t) = &g.lvs_timeouts {
        t.validate().map_err(|e| format!("lvs_timeouts: {e}"))?;
    }
    if let Some(d) = &g.lvs_sync_daemon {
        d.daemon(DaemonRole::Master)
            .validate()
            .map_err(|e| format!("lvs_sync_daemon: {e}"))?;
    }
    if g.rise == 0 || g.fall == 0 {
        return Err("rise and fall must be at least 1".into());
    }
    if g.check_jitter_percent > 50 {
        return Err(format!(
            "check_jitter {} % is above 50 %",
            g.check_jitter_percent
        ));
    }
    Ok(())
}

/// Checks that no kernel service is declared by two virtual servers.
///
/// # Errors
/// The index of the later virtual server and a message.
pub fn unique_services(model: &Model) -> Result<(), (usize, String)> {
    let count = model
        .virtual_servers
        .iter()
        .map(|vs| vs.services.len())
        .sum();
    let mut owner: HashMap<ServiceKey, usize> = HashMap::with_capacity(count);
    for (i, vs) in model.virtual_servers.iter().enumerate() {
        for key in &vs.services {
            if let Some(first) = owner.insert(*key, i)
                && first != i
            {
                return Err((
                    i,
                    format!(
                        "service {key} is declared again (first by virtual server {})",
                        model.virtual_servers[first].name()
                    ),
                ));
            }
        }
    }
    Ok(())
}
