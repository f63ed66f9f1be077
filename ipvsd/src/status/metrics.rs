//! `/metrics`: the snapshot in the Prometheus text format (OpenMetrics, by
//! the prometheus-client crate).
//!
//! Names and labels follow node_exporter's IPVS collector where they
//! overlap: `node_ipvs_backend_connections_active`,
//! `node_ipvs_backend_connections_inactive`, `node_ipvs_backend_weight`
//! with `local_address`, `local_port`, `remote_address`, `remote_port`,
//! `proto`, `local_mark`. A mark service has `proto="FWM"`,
//! `local_mark="N"`, `local_port="0"` and the unspecified address of its
//! family as `local_address` (`0.0.0.0` or `::`), so that IPv4 and IPv6
//! services of one mark never share a label set. Everything else is
//! `ipvsd_*`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use ipvs::Stats;

use super::snapshot::{ServiceStatus, Snapshot};

type Labels = Vec<(String, String)>;

/// The service labels in node_exporter's names.
fn service_labels(s: &ServiceStatus) -> Labels {
    let (address, port, proto, mark) = match s.fwmark {
        Some(mark) => (
            if s.family == "ipv6" { "::" } else { "0.0.0.0" }.to_owned(),
            "0".to_owned(),
            "FWM".to_owned(),
            mark.to_string(),
        ),
        None => (
            s.address.map(|a| a.to_string()).unwrap_or_default(),
            s.port.unwrap_or(0).to_string(),
            s.protocol.to_uppercase(),
            String::new(),
        ),
    };
    vec![
        ("local_address".into(), address),
        ("local_port".into(), port),
        ("proto".into(), proto),
        ("local_mark".into(), mark),
    ]
}

/// The backend labels: node_exporter's, in its order.
fn backend_labels(service: &Labels, address: &std::net::IpAddr, port: u16) -> Labels {
    let mut l = vec![service[0].clone(), service[1].clone()];
    l.push(("remote_address".into(), address.to_string()));
    l.push(("remote_port".into(), port.to_string()));
    l.push(service[2].clone());
    l.push(service[3].clone());
    l
}

struct CounterSet {
    total: [Family<Labels, Counter>; 5],
    rate: [Family<Labels, Gauge>; 5],
}

const STAT_NAMES: [&str; 5] = [
    "connections",
    "incoming_packets",
    "outgoing_packets",
    "incoming_bytes",
    "outgoing_bytes",
];

impl CounterSet {
    fn register(registry: &mut Registry, prefix: &str, what: &str) -> Self {
        let total: [Family<Labels, Counter>; 5] = Default::default();
        let rate: [Family<Labels, Gauge>; 5] = Default::default();
        for (i, name) in STAT_NAMES.iter().enumerate() {
            registry.register(
                format!("{prefix}_{name}"),
                format!("{name} of the {what} since it was added (the kernel's 64-bit counter)"),
                total[i].clone(),
            );
            registry.register(
                format!("{prefix}_{name}_per_second"),
                format!("{name} per second of the {what} (the kernel's estimate)"),
                rate[i].clone(),
            );
        }
        CounterSet { total, rate }
    }

    fn set(&self, labels: &Labels, s: &Stats) {
        let totals = [
            s.connections,
            s.in_packets,
            s.out_packets,
            s.in_bytes,
            s.out_bytes,
        ];
        let rates = [s.cps, s.in_pps, s.out_pps, s.in_bps, s.out_bps];
        for i in 0..5 {
            self.total[i].get_or_create(labels).inc_by(totals[i]);
            self.rate[i]
                .get_or_create(labels)
                .set(i64::try_from(rates[i]).unwrap_or(i64::MAX));
        }
    }
}

fn gauge(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Gauge> {
    let f = Family::<Labels, Gauge>::default();
    registry.register(name, help, f.clone());
    f
}

fn counter(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    let f = Family::<Labels, Counter>::default();
    registry.register(name, help, f.clone());
    f
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The snapshot as Prometheus text.
pub fn render(snapshot: &Snapshot) -> String {
    let mut r = Registry::default();
    let active = gauge(
        &mut r,
        "node_ipvs_backend_connections_active",
        "The current active connections by local and remote address.",
    );
    let inactive = gauge(
        &mut r,
        "node_ipvs_backend_connections_inactive",
        "The current inactive connections by local and remote address.",
    );
    let weight = gauge(
        &mut r,
        "node_ipvs_backend_weight",
        "The current backend weight by local and remote address.",
    );
    let service_stats = CounterSet::register(&mut r, "ipvsd_service", "virtual service");
    let backend_stats = CounterSet::register(&mut r, "ipvsd_backend", "real server in its service");
    let present = gauge(
        &mut r,
        "ipvsd_service_present",
        "1 when the kernel has the configured service.",
    );
    let rs_up = gauge(
        &mut r,
        "ipvsd_real_server_up",
        "1 when the real server's checkers pass, 0 when it is down.",
    );
    let rs_weight = gauge(
        &mut r,
        "ipvsd_real_server_weight",
        "The real server's weight while up (configured plus dynamic).",
    );
    let checks = counter(
        &mut r,
        "ipvsd_checker_probes",
        "Probes run by the checker (retries included).",
    );
    let failures = counter(
        &mut r,
        "ipvsd_checker_failures",
        "Probes of the checker that failed.",
    );
    let latency = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    r.register(
        "ipvsd_checker_last_latency_seconds",
        "The latency of the checker's last probe, in seconds.",
        latency.clone(),
    );
    let latency_sum = Family::<Labels, Counter<f64, AtomicU64>>::default();
    r.register(
        "ipvsd_checker_latency_seconds",
        "The sum of the latencies of the checker's probes, in seconds (with ipvsd_checker_probes_total, the mean).",
        latency_sum.clone(),
    );
    let quorum_up = gauge(
        &mut r,
        "ipvsd_virtual_server_quorum_up",
        "1 when the virtual server has quorum.",
    );
    let live = gauge(
        &mut r,
        "ipvsd_virtual_server_live_weight",
        "The sum of the weights of the virtual server's live real servers.",
    );
    let sorry = gauge(
        &mut r,
        "ipvsd_virtual_server_sorry_server_active",
        "1 while the sorry server replaces the real servers.",
    );
    let daemon = |r: &mut Registry, name: &str, help: &str, v: u64| {
        let c = Counter::<u64>::default();
        c.inc_by(v);
        r.register(name, help, c);
    };
    let c = &snapshot.counters;
    daemon(
        &mut r,
        "ipvsd_reconciles",
        "Reconcile cycles run.",
        c.reconciles,
    );
    daemon(
        &mut r,
        "ipvsd_reconcile_errors",
        "Reconcile cycles that failed.",
        c.reconcile_errors,
    );
    daemon(
        &mut r,
        "ipvsd_steps_applied",
        "Table changes applied.",
        c.steps_applied,
    );
    daemon(
        &mut r,
        "ipvsd_reloads",
        "Reloads that took effect.",
        c.reloads,
    );
    daemon(
        &mut r,
        "ipvsd_reload_errors",
        "Reloads refused.",
        c.reload_errors,
    );
    daemon(
        &mut r,
        "ipvsd_health_changes",
        "Health changes of real servers.",
        c.health_changes,
    );
    let table_ok = Gauge::<i64>::default();
    table_ok.set(i64::from(snapshot.table_error.is_none()));
    r.register(
        "ipvsd_table_read_ok",
        "1 when the IPVS table could be read for this scrape.",
        table_ok,
    );

    for vs in &snapshot.virtual_servers {
        let vl: Labels = vec![("virtual_server".into(), vs.name.clone())];
        quorum_up.get_or_create(&vl).set(i64::from(vs.quorum_up));
        live.get_or_create(&vl).set(as_i64(vs.live_weight));
        sorry
            .get_or_create(&vl)
            .set(i64::from(vs.sorry_server_active));
        for s in &vs.services {
            let sl = service_labels(s);
            present.get_or_create(&sl).set(i64::from(s.present));
            if let Some(st) = &s.stats {
                service_stats.set(&sl, st);
            }
            for d in &s.destinations {
                let bl = backend_labels(&sl, &d.address, d.port);
                active
                    .get_or_create(&bl)
                    .set(i64::from(d.active_connections));
                inactive
                    .get_or_create(&bl)
                    .set(i64::from(d.inactive_connections));
                weight.get_or_create(&bl).set(i64::from(d.weight));
                if let Some(st) = &d.stats {
                    backend_stats.set(&bl, st);
                }
            }
        }
        for rs in &vs.real_servers {
            let mut rl = vl.clone();
            rl.push(("address".into(), rs.address.to_string()));
            rl.push(("port".into(), rs.port.to_string()));
            rs_up.get_or_create(&rl).set(i64::from(rs.health == "up"));
            rs_weight.get_or_create(&rl).set(i64::from(rs.weight));
            for (i, c) in rs.checkers.iter().enumerate() {
                let mut cl = rl.clone();
                cl.push(("checker".into(), i.to_string()));
                cl.push(("kind".into(), c.kind.to_owned()));
                checks.get_or_create(&cl).inc_by(c.probes);
                failures.get_or_create(&cl).inc_by(c.failures);
                latency.get_or_create(&cl).set(c.last_latency_seconds);
                latency_sum
                    .get_or_create(&cl)
                    .inc_by(c.latency_seconds_total);
            }
        }
    }
    vrrp(&mut r, snapshot);
    route_health(&mut r, snapshot);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut out, &r);
    out
}

/// The VRRP instances: `ipvsd_vrrp_state` is a state set (1 for the
/// instance's state, 0 for the others), as Prometheus advises for enums.
fn vrrp(r: &mut Registry, snapshot: &Snapshot) {
    use crate::vrrp::State;
    let state = gauge(
        r,
        "ipvsd_vrrp_state",
        "1 for the VRRP instance's state (INIT, BACKUP, MASTER, FAULT), 0 for the others.",
    );
    let priority = gauge(
        r,
        "ipvsd_vrrp_priority",
        "The VRRP instance's advertised priority (configured, changed by tracking).",
    );
    let transitions = counter(
        r,
        "ipvsd_vrrp_transitions",
        "State changes of the VRRP instance.",
    );
    let sent = counter(
        r,
        "ipvsd_vrrp_adverts_sent",
        "Adverts the VRRP instance sent.",
    );
    let received = counter(
        r,
        "ipvsd_vrrp_adverts_received",
        "Adverts of the instance's virtual router received and accepted.",
    );
    let discarded = counter(
        r,
        "ipvsd_vrrp_adverts_discarded",
        "Received packets discarded, by reason (RFC 5798 section 7.1).",
    );
    for i in &snapshot.vrrp_instances {
        let il: Labels = vec![("instance".into(), i.name.clone())];
        for s in [State::Init, State::Backup, State::Master, State::Fault] {
            let mut l = il.clone();
            l.push(("state".into(), s.keepalived_name().to_owned()));
            state.get_or_create(&l).set(i64::from(i.state == s));
        }
        priority
            .get_or_create(&il)
            .set(i64::from(i.effective_priority));
        transitions.get_or_create(&il).inc_by(i.transitions);
        sent.get_or_create(&il).inc_by(i.adverts_sent);
        received.get_or_create(&il).inc_by(i.adverts_received);
        let d = &i.discarded;
        for (reason, n) in [
            ("ttl", d.ttl),
            ("malformed", d.malformed),
            ("version", d.version),
            ("authentication", d.authentication),
            ("interval", d.interval),
        ] {
            let mut l = il.clone();
            l.push(("reason".into(), reason.to_owned()));
            discarded.get_or_create(&l).inc_by(n);
        }
    }
}

/// Route health injection: whether each address's route is announced, and
/// the withdrawals since start.
fn route_health(r: &mut Registry, snapshot: &Snapshot) {
    let announced = gauge(
        r,
        "ipvsd_route_announced",
        "1 while the virtual address's route is announced (route health injection), 0 otherwise.",
    );
    for a in &snapshot.announcements {
        let l: Labels = vec![("address".into(), a.address.to_string())];
        announced.get_or_create(&l).set(i64::from(a.announced));
    }
    let withdrawals = Counter::<u64>::default();
    withdrawals.inc_by(snapshot.route_withdrawals);
    r.register(
        "ipvsd_route_withdrawals",
        "Routes of virtual addresses withdrawn since start.",
        withdrawals,
    );
}
