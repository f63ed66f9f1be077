//! The daemon's state between events, without I/O: the running model, the
//! real servers' health, quorum, what is draining; health events and
//! reloads in, notifications and the desired table out.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use ipvs::{DesiredState, ServiceInfo, ServiceKey};

use crate::check::{Health, MAX_WEIGHT};
use crate::config::{Model, RealServer, Script, VirtualServer, VirtualTarget};

use super::reconcile::{
    self, DrainingServer, RealServerId, ServerState, initial_quorum, live_weight, next_quorum,
};

/// How long a real server removed by a reload may drain before it is
/// deleted with connections left (ipvsd's bound; keepalived deletes at once).
pub const DRAIN_BOUND: Duration = Duration::from_secs(300);

/// Something to tell the outside: a log line, a `notify_up`/`notify_down`
/// or `quorum_up`/`quorum_down` script, and keepalived's `lvs_notify_fifo`
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The log message, with the reason.
    pub message: String,
    /// The script to run, if one is configured.
    pub script: Option<Script>,
    /// The notify FIFO line, with its newline (keepalived's format:
    /// `RS [ADDR]:PROTO:PORT VS UP|DOWN`, `VS VS UP|DOWN`; see
    /// [`fifo_vs`]).
    pub fifo_line: String,
}

/// A virtual server as keepalived names it in notify FIFO lines
/// (`format_vs` of `keepalived/check/check_data.c`): `[ADDR]:PROTO:PORT`,
/// `FWM N`, or `[GROUP]:0` for a group.
pub fn fifo_vs(vs: &VirtualServer) -> String {
    match &vs.target {
        VirtualTarget::Address { address, port } => {
            format!("[{address}]:{}:{port}", proto_name(vs))
        }
        VirtualTarget::Fwmark { mark } => format!("FWM {mark}"),
        VirtualTarget::Group { name, .. } => format!("[{name}]:0"),
    }
}

/// A real server as keepalived names it (`format_rs`): `[ADDR]:PROTO:PORT`
/// with its virtual server's protocol.
pub fn fifo_rs(vs: &VirtualServer, rs: &RealServer) -> String {
    format!("[{}]:{}:{}", rs.address, proto_name(vs), rs.port)
}

fn proto_name(vs: &VirtualServer) -> &'static str {
    match vs.protocol {
        ipvs::Protocol::Udp => "udp",
        ipvs::Protocol::Sctp => "sctp",
        _ => "tcp",
    }
}

fn updown(up: bool) -> &'static str {
    if up { "UP" } else { "DOWN" }
}

/// A real server's health change as a notification.
fn rs_notification(vs: &VirtualServer, rs: &RealServer, up: bool, reason: &str) -> Notification {
    Notification {
        message: format!(
            "real server {} of {} {}: {reason}",
            rs.socket(),
            vs.name(),
            updown(up)
        ),
        script: if up {
            rs.notify_up.clone()
        } else {
            rs.notify_down.clone()
        },
        fifo_line: format!("RS {} {} {}\n", fifo_rs(vs, rs), fifo_vs(vs), updown(up)),
    }
}

/// A quorum change as a notification.
fn quorum_notification(vs: &VirtualServer, up: bool, live: u64) -> Notification {
    let sorry = match (&vs.sorry_server, up) {
        (Some(s), false) => format!(", sorry server {} in", s.address),
        (Some(_), true) => ", sorry server out".to_owned(),
        (None, _) => String::new(),
    };
    Notification {
        message: format!(
            "virtual server {} {} quorum: live weight {live}, quorum {} hysteresis {}{sorry}",
            vs.name(),
            if up { "gained" } else { "lost" },
            vs.quorum,
            vs.hysteresis
        ),
        script: if up {
            vs.quorum_up.clone()
        } else {
            vs.quorum_down.clone()
        },
        fifo_line: format!("VS {} {}\n", fifo_vs(vs), updown(up)),
    }
}

/// What a reload does to the checkers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    /// Real servers new in the configuration: start checking them.
    pub add: Vec<RealServerId>,
    /// Real servers gone: stop checking them (their table entries drain).
    pub remove: Vec<RealServerId>,
    /// Real servers whose checkers changed: check them anew (their last
    /// state is kept until the new checkers report).
    pub restart: Vec<RealServerId>,
    /// Real servers whose checkers are the same but whose configured weight
    /// changed: the new weight, health kept.
    pub reweight: Vec<(RealServerId, u32)>,
    /// The virtual servers (by [`VirtualServer::name`]) added, removed or
    /// changed in any way: the rest are left as they run.
    pub changed: BTreeSet<String>,
}

impl ReloadPlan {
    /// The checker changes from `old` to `new`; only the virtual servers
    /// that differ are looked into, so that a reload of a large file that
    /// changes one weight costs little more than reading the file.
    pub fn between(old: &Model, new: &Model) -> Self {
        let changed = changed_virtual_servers(old, new);
        fn servers<'m>(
            m: &'m Model,
            changed: &BTreeSet<String>,
        ) -> HashMap<RealServerId, &'m RealServer> {
            m.virtual_servers
                .iter()
                .filter(|vs| changed.contains(&vs.name()))
                .flat_map(|vs| {
                    vs.real_servers
                        .iter()
                        .map(move |rs| (RealServerId::of(vs, rs), rs))
                })
                .collect()
        }
        let (before, after) = (servers(old, &changed), servers(new, &changed));
        let mut plan = ReloadPlan::default();
        for (id, rs) in &after {
            match before.get(id) {
                None => plan.add.push(id.clone()),
                Some(was) if was.checkers != rs.checkers => plan.restart.push(id.clone()),
                Some(was) if was.weight != rs.weight => {
                    plan.reweight.push((id.clone(), rs.weight));
                }
                Some(_) => {}
            }
        }
        plan.remove = before
            .keys()
            .filter(|id| !after.contains_key(*id))
            .cloned()
            .collect();
        plan.add.sort();
        plan.remove.sort();
        plan.restart.sort();
        plan.reweight.sort();
        plan.changed = changed;
        plan
    }
}

/// The names of the virtual servers added, removed or changed in any way
/// from `old` to `new`; all of them when the global settings changed (the
/// checkers are mapped with them, so each is checked anew).
fn changed_virtual_servers(old: &Model, new: &Model) -> BTreeSet<String> {
    if old.global != new.global {
        return old
            .virtual_servers
            .iter()
            .chain(&new.virtual_servers)
            .map(VirtualServer::name)
            .collect();
    }
    let mut before: HashMap<String, &VirtualServer> = old
        .virtual_servers
        .iter()
        .map(|vs| (vs.name(), vs))
        .collect();
    let mut changed = BTreeSet::new();
    for vs in &new.virtual_servers {
        let name = vs.name();
        if before.remove(&name).is_none_or(|was| was != vs) {
            changed.insert(name);
        }
    }
    changed.extend(before.into_keys());
    changed
}

/// The daemon's state.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The running configuration.
    pub model: Model,
    /// Each real server's last known health and weight.
    pub states: HashMap<RealServerId, ServerState>,
    /// Each virtual server's quorum (by [`VirtualServer::name`]).
    pub quorum: HashMap<String, bool>,
    /// Real servers a reload removed, with the time their drain ends.
    pub draining: Vec<(DrainingServer, Instant)>,
    /// Services a reload removed, deleted by the next apply.
    pub retired: BTreeSet<ServiceKey>,
    /// Services whose wanted state may have changed since the last apply
    /// (health events, a reload): what the next apply of changes only
    /// ([`Engine::desired_of`]) covers.
    pub dirty: BTreeSet<ServiceKey>,
    /// Each virtual server's place in `model`, by [`VirtualServer::name`].
    index: HashMap<String, usize>,
}

/// `vs`'s quorum after a change of its live weight (keepalived's
/// `update_quorum_state`), kept in `quorum`; the notification when it
/// changed.
fn update_quorum(
    vs: &VirtualServer,
    states: &HashMap<RealServerId, ServerState>,
    quorum: &mut HashMap<String, bool>,
) -> Option<Notification> {
    let live = live_weight(vs, states);
    let name = vs.name();
    let was = quorum.get(&name).copied();
    let now = match was {
        Some(was) => next_quorum(vs, was, live),
        None => initial_quorum(vs, live),
    };
    quorum.insert(name, now);
    (was.is_some() && was != Some(now)).then(|| quorum_notification(vs, now, live))
}

/// Each virtual server's place in `model`, by name.
fn index_of(model: &Model) -> HashMap<String, usize> {
    model
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(i, vs)| (vs.name(), i))
        .collect()
}

impl Engine {
    /// The state at start: `states` as the checkers assume them (up, or
    /// down with `alpha`); quorum as keepalived's `set_quorum_states`. Gives
    /// the start notifications (quorum down with a sorry server, as
    /// keepalived's "Starting with quorum down").
    pub fn new(
        model: Model,
        states: HashMap<RealServerId, ServerState>,
    ) -> (Self, Vec<Notification>) {
        let mut quorum = HashMap::new();
        let mut notes = Vec::new();
        for vs in &model.virtual_servers {
            let live = live_weight(vs, &states);
            let up = initial_quorum(vs, live);
            if !up && vs.sorry_server.is_some() {
                notes.push(quorum_notification(vs, false, live));
            }
            quorum.insert(vs.name(), up);
        }
        let engine = Engine {
            index: index_of(&model),
            model,
            states,
            quorum,
            draining: Vec::new(),
            retired: BTreeSet::new(),
            dirty: BTreeSet::new(),
        };
        (engine, notes)
    }

    /// The table wanted now.
    pub fn desired(&self) -> DesiredState {
        let draining: Vec<DrainingServer> = self.draining.iter().map(|(d, _)| d.clone()).collect();
        reconcile::desired(&self.model, &self.states, &self.quorum, &draining)
    }

    /// The table wanted now for the services `keys` (and the others of
    /// their virtual servers): what an apply of changes needs, in time
    /// proportional to them.
    pub fn desired_of(&self, keys: &BTreeSet<ServiceKey>) -> DesiredState {
        let touched: Vec<&VirtualServer> = self
            .model
            .virtual_servers
            .iter()
            .filter(|vs| vs.services.iter().any(|k| keys.contains(k)))
            .collect();
        let wanted: BTreeSet<ServiceKey> = touched
            .iter()
            .flat_map(|vs| vs.services.iter().copied())
            .chain(keys.iter().copied())
            .collect();
        let draining: Vec<DrainingServer> = self
            .draining
            .iter()
            .filter(|(d, _)| wanted.contains(&d.service.key))
            .map(|(d, _)| d.clone())
            .collect();
        reconcile::desired_of(touched, &self.states, &self.quorum, &draining)
    }

    /// The services marked changed since the last call (see
    /// [`Engine::dirty`]), which are then clear.
    pub fn take_dirty(&mut self) -> BTreeSet<ServiceKey> {
        std::mem::take(&mut self.dirty)
    }

    /// The services an apply may touch: the configured ones, and those a
    /// reload removed until they are gone.
    pub fn managed(&self) -> BTreeSet<ServiceKey> {
        self.model
            .service_keys()
            .copied()
            .chain(self.retired.iter().copied())
            .chain(self.draining.iter().map(|(d, _)| d.service.key))
            .collect()
    }

    fn find(&self, id: &RealServerId) -> Option<(&VirtualServer, &RealServer)> {
        let vs = self
            .model
            .virtual_servers
            .get(*self.index.get(&id.virtual_server)?)?;
        let rs = vs
            .real_servers
            .iter()
            .find(|rs| rs.address == id.address && rs.port == id.port)?;
        Some((vs, rs))
    }

    /// A real server's new health and weight from its checkers; gives the
    /// notifications (its own when its health changed, its virtual
    /// server's when quorum changed). `reason` says why, for the log.
    pub fn on_health(
        &mut self,
        id: &RealServerId,
        state: ServerState,
        reason: &str,
    ) -> Vec<Notification> {
        let Some(vs) = self
            .index
            .get(&id.virtual_server)
            .and_then(|&i| self.model.virtual_servers.get(i))
        else {
            return Vec::new();
        };
        let Some(rs) = vs
            .real_servers
            .iter()
            .find(|rs| rs.address == id.address && rs.port == id.port)
        else {
            return Vec::new();
        };
        self.dirty.extend(vs.services.iter().copied());
        let before = self.states.insert(id.clone(), state);
        let mut notes = Vec::new();
        if before.map(|b| b.health) != Some(state.health) {
            notes.push(rs_notification(vs, rs, state.health == Health::Up, reason));
        }
        notes.extend(update_quorum(vs, &self.states, &mut self.quorum));
        notes
    }

    /// Switches to `new`: `plan` must be [`ReloadPlan::between`] the
    /// running model and `new`; `added` gives the assumed states of the
    /// real servers started. The services of the virtual servers that
    /// changed are marked for the next apply ([`Engine::dirty`]). Real servers the new table no longer has (at a
    /// weight above 0) drain until `now + DRAIN_BOUND`; the next
    /// [`Engine::prune`] ends the drains of those without connections, so
    /// a reload that removes nothing needs no read of the table. Quorum is
    /// re-evaluated.
    pub fn reload(
        &mut self,
        new: Model,
        plan: &ReloadPlan,
        added: HashMap<RealServerId, ServerState>,
        now: Instant,
    ) -> Vec<Notification> {
        // Only the services of the virtual servers that changed can change.
        let touched = |m: &Model| -> BTreeSet<ServiceKey> {
            m.virtual_servers
                .iter()
                .filter(|vs| plan.changed.contains(&vs.name()))
                .flat_map(|vs| vs.services.iter().copied())
                .collect()
        };
        let mut keys = touched(&self.model);
        let old_desired = self.desired_of(&keys);
        let old_keys: BTreeSet<ServiceKey> = self.model.service_keys().copied().collect();
        // A new configured weight moves the real server's weight by the
        // same amount now, so that this reload's own reconcile applies it;
        // its checkers' event, which arrives later, gives the exact value
        // (the same, unless clamped).
        for (id, weight) in &plan.reweight {
            let was = self.find(id).map(|(_, rs)| rs.weight);
            if let (Some(was), Some(state)) = (was, self.states.get_mut(id)) {
                let moved = i64::from(state.weight) + i64::from(*weight) - i64::from(was);
                state.weight =
                    u32::try_from(moved.clamp(0, i64::from(MAX_WEIGHT))).unwrap_or(MAX_WEIGHT);
            }
        }
        for id in &plan.remove {
            self.states.remove(id);
        }
        self.states.extend(added);
        self.model = new;
        self.index = index_of(&self.model);
        keys.extend(touched(&self.model));
        let new_keys: BTreeSet<ServiceKey> = self.model.service_keys().copied().collect();
        self.retired.extend(old_keys.difference(&new_keys).copied());
        self.retired.retain(|k| !new_keys.contains(k));
        self.quorum.retain(|n, _| self.index.contains_key(n));
        let mut notes = Vec::new();
        for vs in &self.model.virtual_servers {
            if plan.changed.contains(&vs.name()) {
                notes.extend(update_quorum(vs, &self.states, &mut self.quorum));
            }
        }
        // What was served and is no longer wanted drains (until a prune
        // finds it has no connections).
        let new_desired = self.desired_of(&keys);
        let wanted: HashMap<ServiceKey, &ipvs::ServiceSpec> = new_desired
            .services
            .iter()
            .map(|s| (s.service.key, s))
            .collect();
        for spec in &old_desired.services {
            let wanted = wanted.get(&spec.service.key);
            for d in &spec.destinations {
                let kept = wanted.is_some_and(|w| {
                    w.destinations
                        .iter()
                        .any(|x| x.address == d.address && x.port == d.port)
                });
                if kept || d.weight == 0 {
                    continue;
                }
                self.draining.push((
                    DrainingServer {
                        service: spec.service.clone(),
                        destination: d.clone(),
                    },
                    now + DRAIN_BOUND,
                ));
            }
        }
        self.dirty.extend(keys);
        notes
    }

    /// The services [`Engine::prune`] needs read from the table: those with
    /// a real server draining, and the retired ones.
    pub fn prune_keys(&self) -> BTreeSet<ServiceKey> {
        self.draining
            .iter()
            .map(|(d, _)| d.service.key)
            .chain(self.retired.iter().copied())
            .collect()
    }

    /// Whether [`Engine::prune`] has anything to look up in the table: a
    /// drain under way, or a retired service. When not, a reconcile reads
    /// nothing for it; when so, it reads [`Engine::prune_keys`] alone.
    pub fn needs_table(&self) -> bool {
        !self.draining.is_empty() || !self.retired.is_empty()
    }

    /// Ends the drains that are over: connections gone (or the real server
    /// gone from the table), or the bound passed; forgets retired services
    /// the table no longer has. `table` must hold at least the services of
    /// [`Engine::prune_keys`]. The services of the drains ended are marked
    /// for the next apply. Gives the drains ended, for the log.
    pub fn prune(&mut self, table: &[ServiceInfo], now: Instant) -> Vec<String> {
        let mut ended = Vec::new();
        let dirty = &mut self.dirty;
        self.draining.retain(|(d, until)| {
            let left = connections(table, &d.service.key, &d.destination);
            let keep = left > 0 && now < *until;
            if !keep {
                // The next apply deletes it.
                dirty.insert(d.service.key);
                ended.push(format!(
                    "real server {}:{} of {} drained ({left} connections left)",
                    d.destination.address, d.destination.port, d.service.key
                ));
            }
            keep
        });
        // A real server configured again is no longer draining.
        let model = &self.model;
        let by_service: HashMap<ServiceKey, &VirtualServer> = model
            .virtual_servers
            .iter()
            .flat_map(|vs| vs.services.iter().map(move |k| (*k, vs)))
            .collect();
        self.draining.retain(|(d, _)| {
            !by_service.get(&d.service.key).is_some_and(|vs| {
                vs.real_servers.iter().any(|rs| {
                    let x = rs.destination(&d.service.key);
                    x.address == d.destination.address && x.port == d.destination.port
                })
            })
        });
        self.retired
            .retain(|k| table.iter().any(|s| s.service.key == *k));
        ended
    }
}

/// The connections (active, inactive, persistence templates) of `d` in
/// `service` as the table has them; 0 when it is not there.
pub fn connections(table: &[ServiceInfo], service: &ServiceKey, d: &ipvs::Destination) -> u64 {
    table
        .iter()
        .find(|s| s.service.key == *service)
        .and_then(|s| {
            s.destinations
                .iter()
                .find(|x| x.destination.address == d.address && x.destination.port == d.port)
        })
        .map_or(0, |x| {
            u64::from(x.active_connections)
                + u64::from(x.inactive_connections)
                + u64::from(x.persistent_connections.unwrap_or(0))
        })
}
