//! Unit tests of the pure parts: reconcile (quorum, hysteresis, sorry
//! server, inhibit, alpha, drain), the checker mapping, reload plans and
//! notification lines.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use ipvs::{DesiredState, Destination, DestinationInfo, ServiceInfo, ServiceKey};

use super::engine::{DRAIN_BOUND, Engine, ReloadPlan, fifo_rs, fifo_vs};
use super::mapping::{cycle_period, specs, timing};
use super::reconcile::{RealServerId, ServerState, desired, initial_quorum, next_quorum};
use crate::check::{Health, Probe};
use crate::config::{KeepalivedOptions, Model, read_keepalived_str};

fn model(text: &str) -> Model {
    read_keepalived_str(text, Path::new("t.conf"), &KeepalivedOptions::default())
        .unwrap()
        .model
}

/// One virtual server 192.0.2.1:80 with real servers .11 (weight 3), .12
/// (weight 2), .13 (weight 1, inhibit_on_failure) and `extra` lines.
fn three(extra: &str) -> Model {
    model(&format!(
        "virtual_server 192.0.2.1 80 {{
           lvs_sched rr
           lvs_method NAT
           {extra}
           real_server 10.0.0.11 8080 {{ weight 3
             TCP_CHECK {{ connect_timeout 2 }} }}
           real_server 10.0.0.12 8080 {{ weight 2
             TCP_CHECK {{ connect_timeout 2 }} }}
           real_server 10.0.0.13 8080 {{ weight 1
             inhibit_on_failure
             TCP_CHECK {{ connect_timeout 2 }} }}
         }}"
    ))
}

fn id(m: &Model, last: u8) -> RealServerId {
    let vs = &m.virtual_servers[0];
    let rs = vs
        .real_servers
        .iter()
        .find(|r| r.address == IpAddr::from([10, 0, 0, last]))
        .unwrap();
    RealServerId::of(vs, rs)
}

fn states(m: &Model, up: &[(u8, u32)], down: &[u8]) -> HashMap<RealServerId, ServerState> {
    let mut s = HashMap::new();
    for &(last, weight) in up {
        s.insert(
            id(m, last),
            ServerState {
                health: Health::Up,
                weight,
            },
        );
    }
    for &last in down {
        s.insert(
            id(m, last),
            ServerState {
                health: Health::Down,
                weight: 1,
            },
        );
    }
    s
}

/// `address:port weight` of each real server of the only service.
fn table(d: &DesiredState) -> Vec<String> {
    assert_eq!(d.services.len(), 1);
    let mut v: Vec<String> = d.services[0]
        .destinations
        .iter()
        .map(|x| format!("{}:{} {}", x.address, x.port, x.weight))
        .collect();
    v.sort();
    v
}

#[test]
fn up_servers_are_in_with_their_weight_down_ones_out_or_at_zero_with_inhibit() {
    let m = three("");
    let s = states(&m, &[(11, 3), (12, 5)], &[13]);
    let d = desired(&m, &s, &HashMap::new(), &[]);
    assert_eq!(
        table(&d),
        ["10.0.0.11:8080 3", "10.0.0.12:8080 5", "10.0.0.13:8080 0"]
    );
    let s = states(&m, &[(13, 1)], &[11, 12]);
    let d = desired(&m, &s, &HashMap::new(), &[]);
    assert_eq!(table(&d), ["10.0.0.13:8080 1"]);
    // A real server whose health is unknown counts as down.
    let d = desired(&m, &HashMap::new(), &HashMap::new(), &[]);
    assert_eq!(table(&d), ["10.0.0.13:8080 0"]);
}

#[test]
fn alpha_starts_down_and_no_alpha_starts_up() {
    let with = three("alpha");
    let without = three("");
    for (m, initial) in [(&with, Health::Down), (&without, Health::Up)] {
        for spec in specs(m).unwrap() {
            assert_eq!(spec.checkers[0].timing.initial, initial);
        }
    }
    // The engine starts from those assumed states: without alpha every
    // real server is in the first table, with alpha only the inhibited
    // one, at weight 0.
    let assumed = |m: &Model| -> HashMap<RealServerId, ServerState> {
        specs(m)
            .unwrap()
            .into_iter()
            .map(|s| {
                let h = s.checkers[0].timing.initial;
                (
                    s.id,
                    ServerState {
                        health: h,
                        weight: s.weight,
                    },
                )
            })
            .collect()
    };
    let (e, _) = Engine::new(without.clone(), assumed(&without));
    assert_eq!(table(&e.desired()).len(), 3);
    let (e, notes) = Engine::new(with.clone(), assumed(&with));
    assert_eq!(table(&e.desired()), ["10.0.0.13:8080 0"]);
    assert!(notes.is_empty(), "no sorry server: no start notification");
}

#[test]
fn quorum_with_hysteresis_is_gained_at_q_plus_h_and_lost_below_q_minus_h() {
    let m = three("quorum 4\nhysteresis 1");
    let vs = &m.virtual_servers[0];
    assert!(!initial_quorum(vs, 4));
    assert!(initial_quorum(vs, 5));
    assert!(!next_quorum(vs, false, 4), "not yet gained at q");
    assert!(next_quorum(vs, false, 5), "gained at q + h");
    assert!(next_quorum(vs, true, 3), "kept at q - h");
    assert!(!next_quorum(vs, true, 2), "lost below q - h");
    // Lost at 0 whatever the quorum.
    let m = three("quorum 1\nhysteresis 2");
    assert!(!next_quorum(&m.virtual_servers[0], true, 0));
    assert!(next_quorum(&m.virtual_servers[0], true, 1));
}

#[test]
fn sorry_server_replaces_the_real_servers_while_quorum_is_lost() {
    let m = three("quorum 4\nsorry_server 10.0.0.99 8080");
    let (mut e, notes) = Engine::new(m.clone(), states(&m, &[(11, 3), (12, 2), (13, 1)], &[]));
    assert!(notes.is_empty());
    assert_eq!(table(&e.desired()).len(), 3);
    // .11 goes down: live weight 3 < 4, quorum lost: the sorry server in,
    // the live real servers out (the inhibited one at weight 0).
    let notes = e.on_health(
        &id(&m, 11),
        ServerState {
            health: Health::Down,
            weight: 3,
        },
        "test",
    );
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0]
            .fifo_line
            .starts_with("RS [10.0.0.11]:tcp:8080 [192.0.2.1]:tcp:80 DOWN")
    );
    assert_eq!(notes[1].fifo_line, "VS [192.0.2.1]:tcp:80 DOWN\n");
    assert_eq!(
        table(&e.desired()),
        ["10.0.0.13:8080 0", "10.0.0.99:8080 1"]
    );
    // Back up: quorum gained, the sorry server out.
    let notes = e.on_health(
        &id(&m, 11),
        ServerState {
            health: Health::Up,
            weight: 3,
        },
        "test",
    );
    assert_eq!(notes[1].fifo_line, "VS [192.0.2.1]:tcp:80 UP\n");
    assert_eq!(
        table(&e.desired()),
        ["10.0.0.11:8080 3", "10.0.0.12:8080 2", "10.0.0.13:8080 1"]
    );
}

#[test]
fn inhibited_sorry_server_stays_at_weight_zero_and_quorum_down_without_sorry_changes_nothing() {
    let m = three("quorum 10\nsorry_server 10.0.0.99 8080\nsorry_server_inhibit");
    let s = states(&m, &[(11, 3), (12, 2), (13, 1)], &[]);
    let mut q = HashMap::new();
    q.insert(m.virtual_servers[0].name(), true);
    let d = desired(&m, &s, &q, &[]);
    assert!(table(&d).contains(&"10.0.0.99:8080 0".to_owned()));
    // Starting below quorum with a sorry server: the start notification.
    let (_, notes) = Engine::new(m.clone(), s.clone());
    assert_eq!(notes.len(), 1);
    assert!(notes[0].message.contains("lost quorum"));
    // Without a sorry server, losing quorum runs quorum_down only.
    let m = three("quorum 10");
    q.insert(m.virtual_servers[0].name(), false);
    let d = desired(&m, &states(&m, &[(11, 3), (12, 2), (13, 1)], &[]), &q, &[]);
    assert_eq!(table(&d).len(), 3);
}

#[test]
fn reload_plan_keeps_unchanged_servers_reweights_and_restarts_changed_checkers() {
    let old = three("");
    let new = model(
        "virtual_server 192.0.2.1 80 {
           lvs_sched rr
           lvs_method NAT
           real_server 10.0.0.11 8080 { weight 7
             TCP_CHECK { connect_timeout 2 } }
           real_server 10.0.0.12 8080 { weight 2
             TCP_CHECK { connect_timeout 3 } }
           real_server 10.0.0.14 8080 { weight 1
             TCP_CHECK { connect_timeout 2 } }
         }",
    );
    let plan = ReloadPlan::between(&old, &new);
    assert_eq!(plan.reweight, [(id(&old, 11), 7)]);
    assert_eq!(plan.restart, [id(&old, 12)]);
    assert_eq!(plan.remove, [id(&old, 13)]);
    assert_eq!(plan.add.len(), 1);
    assert_eq!(plan.add[0].address, IpAddr::from([10, 0, 0, 14]));
    assert_eq!(ReloadPlan::between(&old, &old), ReloadPlan::default());
}

#[test]
fn a_reload_of_a_weight_is_in_the_desired_table_at_once() {
    let old = three("");
    let (mut e, _) = Engine::new(old.clone(), states(&old, &[(11, 3), (12, 2), (13, 1)], &[]));
    let new = model(
        "virtual_server 192.0.2.1 80 {
           lvs_sched rr
           lvs_method NAT
           real_server 10.0.0.11 8080 { weight 7
             TCP_CHECK { connect_timeout 2 } }
           real_server 10.0.0.12 8080 { weight 2
             TCP_CHECK { connect_timeout 2 } }
           real_server 10.0.0.13 8080 { weight 1
             inhibit_on_failure
             TCP_CHECK { connect_timeout 2 } }
         }",
    );
    let plan = ReloadPlan::between(&old, &new);
    e.reload(new, &plan, HashMap::new(), Instant::now());
    assert_eq!(
        table(&e.desired()),
        ["10.0.0.11:8080 7", "10.0.0.12:8080 2", "10.0.0.13:8080 1"],
        "the reload's own reconcile applies the new weight"
    );
}

/// Two virtual servers, 192.0.2.1:80 and 192.0.2.2:80, of one real server
/// each (10.0.0.11 and 10.0.0.21), the second's at `weight`.
fn two(weight: u32) -> Model {
    model(&format!(
        "virtual_server 192.0.2.1 80 {{
           real_server 10.0.0.11 8080 {{ weight 1 }}
         }}
         virtual_server 192.0.2.2 80 {{
           real_server 10.0.0.21 8080 {{ weight {weight} }}
         }}"
    ))
}

#[test]
fn a_reload_and_a_health_event_mark_only_their_virtual_server_for_the_next_apply() {
    let old = two(1);
    let up = |m: &Model| -> HashMap<RealServerId, ServerState> {
        specs(m)
            .unwrap()
            .into_iter()
            .map(|s| {
                let state = ServerState {
                    health: Health::Up,
                    weight: s.weight,
                };
                (s.id, state)
            })
            .collect()
    };
    let (mut e, _) = Engine::new(old.clone(), up(&old));
    let (first, second) = (
        old.virtual_servers[0].services[0],
        old.virtual_servers[1].services[0],
    );
    assert!(e.take_dirty().is_empty());
    let new = two(5);
    let plan = ReloadPlan::between(&old, &new);
    assert_eq!(
        plan.changed.iter().collect::<Vec<_>>(),
        [&new.virtual_servers[1].name()],
        "only the second virtual server changed"
    );
    e.reload(new, &plan, HashMap::new(), Instant::now());
    let dirty = e.take_dirty();
    assert_eq!(dirty.iter().collect::<Vec<_>>(), [&second]);
    let d = e.desired_of(&dirty);
    assert_eq!(table(&d), ["10.0.0.21:8080 5"], "the new weight, alone");
    // A health event of the first marks the first.
    let rs = &e.model.virtual_servers[0].real_servers[0];
    let id = RealServerId::of(&e.model.virtual_servers[0], rs);
    let down = ServerState {
        health: Health::Down,
        weight: 1,
    };
    e.on_health(&id, down, "test");
    let dirty = e.take_dirty();
    assert_eq!(dirty.iter().collect::<Vec<_>>(), [&first]);
    assert_eq!(e.desired_of(&dirty).services[0].service.key, first);
    assert!(e.desired_of(&dirty).services[0].destinations.is_empty());
}

#[test]
fn one_group_under_tcp_and_udp_is_two_virtual_servers() {
    // keepalived's DNS pattern: one group, a TCP and a UDP virtual server,
    // the same real server in both.
    let m = model(
        "virtual_server_group DNS {
           192.0.2.53 53
         }
         virtual_server group DNS {
           protocol TCP
           real_server 10.0.0.11 53 { weight 1 }
         }
         virtual_server group DNS {
           protocol UDP
           real_server 10.0.0.11 53 { weight 1 }
         }",
    );
    let ids: Vec<RealServerId> = specs(&m).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each virtual server checks its own");
    let up = ServerState {
        health: Health::Up,
        weight: 1,
    };
    let states = ids.iter().map(|id| (id.clone(), up)).collect();
    let (mut e, _) = Engine::new(m.clone(), states);
    let udp = &m.virtual_servers[1];
    assert_eq!(udp.name(), "udp group DNS");
    let down = ServerState {
        health: Health::Down,
        weight: 1,
    };
    e.on_health(&RealServerId::of(udp, &udp.real_servers[0]), down, "test");
    let dirty = e.take_dirty();
    assert_eq!(dirty.iter().collect::<Vec<_>>(), [&udp.services[0]]);
    let d = e.desired();
    let served: Vec<(String, usize)> = d
        .services
        .iter()
        .map(|s| (s.service.key.to_string(), s.destinations.len()))
        .collect();
    assert_eq!(
        served,
        [
            ("tcp 192.0.2.53:53".to_owned(), 1),
            ("udp 192.0.2.53:53".to_owned(), 0)
        ]
    );
}

fn table_with(key: ServiceKey, dests: &[(u8, u32, u32)]) -> Vec<ServiceInfo> {
    vec![
        ServiceInfo::new(ipvs::Service::new(key)).with_destinations(
            dests
                .iter()
                .map(|&(last, weight, conns)| {
                    DestinationInfo::new(
                        Destination::new(
                            IpAddr::from([10, 0, 0, last]),
                            8080,
                            ipvs::ForwardMethod::Masq,
                        )
                        .with_weight(weight),
                    )
                    .with_connections(conns, 0)
                })
                .collect(),
        ),
    ]
}

#[test]
fn a_removed_real_server_with_connections_drains_at_weight_zero_then_goes() {
    let old = three("");
    let key = old.virtual_servers[0].services[0];
    let (mut e, _) = Engine::new(old.clone(), states(&old, &[(11, 3), (12, 2), (13, 1)], &[]));
    let new = model(
        "virtual_server 192.0.2.1 80 {
           lvs_sched rr
           lvs_method NAT
           real_server 10.0.0.11 8080 { weight 3
             TCP_CHECK { connect_timeout 2 } }
           real_server 10.0.0.13 8080 { weight 1
             inhibit_on_failure
             TCP_CHECK { connect_timeout 2 } }
         }",
    );
    let plan = ReloadPlan::between(&old, &new);
    let now = Instant::now();
    let t = table_with(key, &[(11, 3, 0), (12, 2, 5), (13, 1, 0)]);
    assert!(!e.needs_table(), "nothing drains yet");
    e.reload(new, &plan, HashMap::new(), now);
    // The reconcile after a reload prunes what has no connections.
    assert!(e.prune(&t, now).is_empty(), "10.0.0.12 is busy: it drains");
    assert_eq!(
        table(&e.desired()),
        ["10.0.0.11:8080 3", "10.0.0.12:8080 0", "10.0.0.13:8080 1"]
    );
    assert!(e.needs_table(), "a drain is under way");
    assert_eq!(e.prune_keys().into_iter().collect::<Vec<_>>(), [key]);
    // Still busy: stays; idle: goes, and its service is marked for the
    // next apply, which deletes it.
    assert!(e.prune(&t, now + Duration::from_secs(1)).is_empty());
    assert_eq!(table(&e.desired()).len(), 3);
    let _ = e.take_dirty();
    let idle = table_with(key, &[(11, 3, 0), (12, 0, 0), (13, 1, 0)]);
    assert_eq!(e.prune(&idle, now + Duration::from_secs(2)).len(), 1);
    let dirty = e.take_dirty();
    assert_eq!(dirty.iter().collect::<Vec<_>>(), [&key]);
    assert_eq!(
        table(&e.desired_of(&dirty)),
        ["10.0.0.11:8080 3", "10.0.0.13:8080 1"]
    );
    assert!(!e.needs_table(), "the drain is over");
}

#[test]
fn a_drain_ends_after_its_bound_and_a_removed_service_is_managed_until_gone() {
    let old = three("");
    let key = old.virtual_servers[0].services[0];
    let (mut e, _) = Engine::new(old.clone(), states(&old, &[(11, 3), (12, 2), (13, 1)], &[]));
    let new = model(
        "virtual_server 192.0.2.2 80 {
           real_server 10.0.0.21 80 { TCP_CHECK { connect_timeout 2 } }
         }",
    );
    let plan = ReloadPlan::between(&old, &new);
    let now = Instant::now();
    let busy = table_with(key, &[(11, 3, 1), (12, 2, 0), (13, 1, 0)]);
    e.reload(new, &plan, HashMap::new(), now);
    e.prune(&busy, now);
    assert!(
        e.managed().contains(&key),
        "the old service is still managed"
    );
    let d = e.desired();
    let old_spec = d.services.iter().find(|s| s.service.key == key).unwrap();
    assert_eq!(old_spec.destinations.len(), 1, "only the busy one drains");
    assert_eq!(old_spec.destinations[0].weight, 0);
    assert_eq!(e.prune(&busy, now + DRAIN_BOUND).len(), 1, "bound reached");
    assert!(e.desired().services.iter().all(|s| s.service.key != key));
    assert!(e.managed().contains(&key), "still in the table: to delete");
    e.prune(&[], now + DRAIN_BOUND);
    assert!(!e.managed().contains(&key), "gone: no longer managed");
}

#[test]
fn mapping_resolves_timing_probes_and_the_cycle() {
    let m = model(
        "virtual_server fwmark 7 {
           delay_loop 3
           real_server 10.0.0.5 80 {
             HTTP_GET {
               url {
                 path /health
                 status_code 200-299
               }
               virtualhost www.example.com
               connect_timeout 2
               retry 2
               alpha
             }
             MISC_CHECK {
               misc_path \"/bin/sh -c 'exit 0'\"
             }
             FILE_CHECK {
               track_file tf
               weight 3
             }
           }
         }
         track_file tf {
           file /tmp/ipvsd-tf
         }",
    );
    let s = specs(&m).unwrap();
    let c = &s[0].checkers;
    let Probe::Http(h) = &c[0].probe else {
        panic!("{:?}", c[0].probe)
    };
    assert_eq!(h.urls[0].path, "/health");
    assert_eq!(h.urls[0].virtualhost.as_deref(), Some("www.example.com"));
    assert_eq!(h.conn.timeout, Duration::from_secs(2));
    assert_eq!(c[0].timing.initial, Health::Down);
    assert_eq!(c[0].timing.retry, 2);
    assert_eq!(c[0].timing.delay_loop, Duration::from_secs(3));
    let Probe::Misc(misc) = &c[1].probe else {
        panic!()
    };
    assert_eq!(misc.argv, ["/bin/sh", "-c", "exit 0"]);
    assert_eq!(
        misc.timeout,
        Duration::from_secs(3),
        "misc_timeout: the delay loop"
    );
    let Probe::File(f) = &c[2].probe else {
        panic!()
    };
    assert_eq!(f.weight, 3);
    assert_eq!(c[2].timing.warmup, Duration::ZERO);
    assert_eq!(c[2].timing.initial, Health::Down);
    assert_eq!(cycle_period(&m), Duration::from_secs(3));
    assert_eq!(
        cycle_period(&three("")),
        Duration::from_secs(5),
        "at most 5 s"
    );
    let native = crate::config::read_native_str(
        "[global]\ncheck_jitter = 20\n[[services]]\naddress = \"192.0.2.1\"\nport = 80\ndelay_loop = 10\n[[services.destinations]]\naddress = \"10.0.0.1\"\n[[services.destinations.checkers]]\ntype = \"tcp\"\n",
        Path::new("n.toml"),
    )
    .unwrap()
    .model;
    let t = &native.virtual_servers[0].real_servers[0].checkers[0];
    let rt = timing(&t.kind, &t.timing);
    assert!((rt.jitter - 0.2).abs() < 1e-9, "{}", rt.jitter);
}

#[test]
fn fifo_names_follow_keepalived() {
    let m = model(
        "virtual_server fwmark 3 {
           real_server 10.0.0.1 80 {
           }
         }
         virtual_server 2001:db8::1 53 {
           protocol UDP
           real_server 2001:db8::2 53 {
           }
         }",
    );
    let (a, b) = (&m.virtual_servers[0], &m.virtual_servers[1]);
    assert_eq!(fifo_vs(a), "FWM 3");
    assert_eq!(fifo_rs(a, &a.real_servers[0]), "[10.0.0.1]:tcp:80");
    assert_eq!(fifo_vs(b), "[2001:db8::1]:udp:53");
}
