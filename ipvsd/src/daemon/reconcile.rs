//! Reconcile, pure: the model and the real servers' health in, the IPVS
//! table the daemon wants out (`ipvs::DesiredState`), with keepalived's
//! rules (`keepalived/check/ipwrapper.c`: `perform_svr_state`,
//! `update_quorum_state`, `perform_quorum_state`):
//!
//! - a real server that is up is in its services with its weight (the
//!   configured one plus dynamic offsets); one that is down is left out, or
//!   kept at weight 0 with `inhibit_on_failure`;
//! - quorum: the sum of the weights of the live real servers; it is gained
//!   at `quorum + hysteresis` and lost at 0 or below `quorum - hysteresis`;
//! - while quorum is lost and a `sorry_server` is configured, the sorry
//!   server (weight 1) replaces the real servers (those with
//!   `inhibit_on_failure` stay at weight 0); with `sorry_server_inhibit` it
//!   is kept at weight 0 the rest of the time;
//! - real servers a reload removed are drained: kept at weight 0 until
//!   their connections end or a bound passes (the daemon decides when).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use ipvs::{
    DesiredState, Destination, DiffOptions, Removal, Scope, Service, ServiceKey, ServiceSpec,
};
use serde::Serialize;

use crate::check::Health;
use crate::config::{Model, RealServer, VirtualServer};

/// A real server's identity across reloads: its virtual server's name
/// ([`VirtualServer::name`]) and its address and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RealServerId {
    /// The virtual server, as [`VirtualServer::name`] gives it.
    pub virtual_server: String,
    /// The real server's address.
    pub address: IpAddr,
    /// The real server's port.
    pub port: u16,
}

impl RealServerId {
    /// The id of `rs` in `vs`.
    pub fn of(vs: &VirtualServer, rs: &RealServer) -> Self {
        RealServerId {
            virtual_server: vs.name(),
            address: rs.address,
            port: rs.port,
        }
    }
}

/// Looks up the states of one virtual server's real servers with one id
/// whose address and port change, so that a pass over 37,000 real servers
/// does not format a virtual server name for each.
struct Lookup<'a> {
    states: &'a HashMap<RealServerId, ServerState>,
    id: RealServerId,
}

impl<'a> Lookup<'a> {
    fn new(states: &'a HashMap<RealServerId, ServerState>, vs: &VirtualServer) -> Self {
        let id = RealServerId {
            virtual_server: vs.name(),
            address: IpAddr::from([0, 0, 0, 0]),
            port: 0,
        };
        Lookup { states, id }
    }

    fn get(&mut self, rs: &RealServer) -> Option<&'a ServerState> {
        self.id.address = rs.address;
        self.id.port = rs.port;
        self.states.get(&self.id)
    }
}

/// What the checkers last said of a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    /// Up or down.
    pub health: Health,
    /// The weight while up: the configured one plus dynamic offsets.
    pub weight: u32,
}

/// A real server removed by a reload, kept at weight 0 in its service until
/// its connections end (or a bound passes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainingServer {
    /// The service it is in (as configured before the reload, so that a
    /// removed service can stay while its real servers drain).
    pub service: Service,
    /// The real server (its weight is set to 0 in the desired state).
    pub destination: Destination,
}

/// The sum of the weights of `vs`'s live real servers
/// (keepalived's `weigh_live_realservers`).
pub fn live_weight(vs: &VirtualServer, states: &HashMap<RealServerId, ServerState>) -> u64 {
    let mut lookup = Lookup::new(states, vs);
    vs.real_servers
        .iter()
        .filter_map(|rs| lookup.get(rs))
        .filter(|s| s.health == Health::Up)
        .map(|s| u64::from(s.weight))
        .sum()
}

/// The quorum state at start: up when the live weight reaches
/// `quorum + hysteresis` (keepalived's `set_quorum_states`).
pub fn initial_quorum(vs: &VirtualServer, live: u64) -> bool {
    live >= u64::from(vs.quorum) + u64::from(vs.hysteresis)
}

/// The quorum state after a change of the live weight, from `was_up`
/// (keepalived's `update_quorum_state`): gained at `quorum + hysteresis`,
/// lost at 0 or below `quorum - hysteresis`.
pub fn next_quorum(vs: &VirtualServer, was_up: bool, live: u64) -> bool {
    let (q, h) = (i64::from(vs.quorum), i64::from(vs.hysteresis));
    let live = i64::try_from(live).unwrap_or(i64::MAX);
    if was_up {
        !(live == 0 || live < q - h)
    } else {
        live >= q + h
    }
}

/// Whether `vs`'s sorry server is in service now: quorum is lost and one
/// is configured.
pub fn sorry_active(vs: &VirtualServer, quorum_up: bool) -> bool {
    !quorum_up && vs.sorry_server.is_some()
}

/// The real servers of `vs` in the kernel service `key`, as they should be.
fn destinations_of(
    vs: &VirtualServer,
    key: &ServiceKey,
    states: &mut Lookup<'_>,
    quorum_up: bool,
) -> Vec<Destination> {
    let sorry = sorry_active(vs, quorum_up);
    let mut out: Vec<Destination> = Vec::with_capacity(vs.real_servers.len());
    for rs in &vs.real_servers {
        let state = states.get(rs);
        let up = state.is_some_and(|s| s.health == Health::Up) && !sorry;
        let mut d = rs.destination(key);
        if up {
            d.weight = state.map_or(rs.weight, |s| s.weight);
        } else if rs.inhibit_on_failure {
            d.weight = 0;
        } else {
            continue;
        }
        out.push(d);
    }
    if let Some(s) = &vs.sorry_server {
        let mut d = s.destination(key);
        let same = out
            .iter()
            .position(|o| o.address == d.address && o.port == d.port);
        if sorry {
            // The sorry server may be one of the real servers
            // (keepalived's `s_svr_duplicates_rs`): it takes its place.
            if let Some(i) = same {
                out.remove(i);
            }
            out.push(d);
        } else if s.inhibit && same.is_none() {
            d.weight = 0;
            out.push(d);
        }
    }
    out
}

/// The table the daemon wants: every configured service with its real
/// servers as health, quorum and draining say.
///
/// `quorum` maps each virtual server's name to whether it has quorum (a
/// missing one counts as having it); `states` misses a real server whose
/// health is not known (counted down).
pub fn desired(
    model: &Model,
    states: &HashMap<RealServerId, ServerState>,
    quorum: &HashMap<String, bool>,
    draining: &[DrainingServer],
) -> DesiredState {
    desired_of(model.virtual_servers.iter(), states, quorum, draining)
}

/// [`desired`] of some virtual servers only (with the drains given): what
/// an apply of the services they make needs.
pub fn desired_of<'a>(
    virtual_servers: impl IntoIterator<Item = &'a VirtualServer>,
    states: &HashMap<RealServerId, ServerState>,
    quorum: &HashMap<String, bool>,
    draining: &[DrainingServer],
) -> DesiredState {
    let mut specs: Vec<ServiceSpec> = Vec::new();
    let mut index: HashMap<ServiceKey, usize> = HashMap::new();
    for vs in virtual_servers {
        let mut lookup = Lookup::new(states, vs);
        let quorum_up = quorum
            .get(&lookup.id.virtual_server)
            .copied()
            .unwrap_or(true);
        for key in &vs.services {
            index.insert(*key, specs.len());
            specs.push(ServiceSpec::new(
                vs.service(*key),
                destinations_of(vs, key, &mut lookup, quorum_up),
            ));
        }
    }
    for d in draining {
        let i = match index.get(&d.service.key) {
            Some(&i) => i,
            None => {
                // A service the reload removed stays while its real
                // servers drain.
                index.insert(d.service.key, specs.len());
                specs.push(ServiceSpec::new(d.service.clone(), Vec::new()));
                specs.len() - 1
            }
        };
        let spec = &mut specs[i];
        let taken = spec
            .destinations
            .iter()
            .any(|x| x.address == d.destination.address && x.port == d.destination.port);
        if !taken {
            let mut dest = d.destination.clone();
            dest.weight = 0;
            spec.destinations.push(dest);
        }
    }
    DesiredState::new(specs)
}

/// How ipvsd plans its applies, and so how drift is judged: only the
/// `managed` services are touched, what goes is deleted at once (drains are
/// ipvsd's own, by weight 0), and the real servers of `mh`, `sh` and `dh`
/// services are kept in the canonical order, so that directors with one
/// configuration choose alike whatever their history (a list out of order
/// is drift, put right by deleting and adding again the real servers out of
/// place; see [`DiffOptions::canonical_order`]).
pub fn plan_options(managed: BTreeSet<ServiceKey>) -> DiffOptions {
    DiffOptions::default()
        .with_scope(Scope::Managed(managed))
        .with_removal(Removal::Delete)
        .with_canonical_order(true)
}
