//! The status outputs from one snapshot: the JSON document validated
//! against `ipvsd/schema/status.json`, `/metrics` parsed by a Prometheus
//! text-format parser (node_exporter's names and labels, fwmark services
//! of both families without clashes).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use ipvs::{Destination, DestinationInfo, ForwardMethod, ServiceInfo, Stats};
use ipvsd::check::{CheckCounters, CheckerStatus, Health, RealServerStatus};
use ipvsd::config::{KeepalivedOptions, read_keepalived_str};
use ipvsd::daemon::reconcile::{RealServerId, ServerState};
use ipvsd::status::{Counters, Snapshot, View, render_metrics};
use serde_json::Value;

const CONF: &str = "
global_defs {
  router_id lb1
}
virtual_server 192.0.2.1 80 {
  lvs_method NAT
  quorum 2
  real_server 10.0.0.11 8080 {
    weight 3
    TCP_CHECK {
      connect_timeout 2
    }
  }
  real_server 10.0.0.12 8080 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
virtual_server fwmark 5 {
  lvs_method DR
  real_server 10.0.0.21 80 {
  }
}
virtual_server fwmark 5 {
  ip_family inet6
  lvs_method DR
  real_server 2001:db8::21 80 {
  }
}
";

// `Stats` is non-exhaustive: no struct literal outside its crate.
#[allow(clippy::field_reassign_with_default)]
fn stats(n: u64) -> Stats {
    let mut s = Stats::default();
    s.connections = n;
    s.in_packets = n * 10;
    s.out_packets = n * 9;
    s.in_bytes = u64::MAX - n;
    s.out_bytes = n * 1000;
    s.cps = 3;
    s
}

fn view_and_table() -> (View, Vec<ServiceInfo>) {
    let model = read_keepalived_str(CONF, Path::new("k.conf"), &KeepalivedOptions::default())
        .expect("config")
        .model;
    let web = &model.virtual_servers[0];
    let id = |i: usize| RealServerId::of(web, &web.real_servers[i]);
    let mut states = HashMap::new();
    states.insert(
        id(0),
        ServerState {
            health: Health::Up,
            weight: 3,
        },
    );
    states.insert(
        id(1),
        ServerState {
            health: Health::Down,
            weight: 1,
        },
    );
    let mut checkers = HashMap::new();
    checkers.insert(
        id(0),
        RealServerStatus {
            health: Health::Up,
            weight: 3,
            checkers: vec![CheckerStatus {
                kind: "TCP_CHECK",
                health: Health::Up,
                settled: true,
                counters: CheckCounters {
                    probes: 7,
                    failures: 2,
                    last_latency: Duration::from_millis(4),
                    latency_sum: Duration::from_millis(40),
                },
            }],
        },
    );
    let mut quorum = HashMap::new();
    quorum.insert(web.name(), true);
    let mut table = Vec::new();
    let key = web.services[0];
    table.push(
        ServiceInfo::new(web.service(key))
            .with_stats(stats(100))
            .with_destinations(vec![{
                let mut d = DestinationInfo::new(
                    Destination::new(IpAddr::from([10, 0, 0, 11]), 8080, ForwardMethod::Masq)
                        .with_weight(3),
                )
                .with_connections(4, 6);
                d.stats = Some(stats(50));
                d
            }]),
    );
    for vs in &model.virtual_servers[1..] {
        let key = vs.services[0];
        let rs = &vs.real_servers[0];
        table.push(
            ServiceInfo::new(vs.service(key))
                .with_stats(stats(1))
                .with_destinations(vec![
                    DestinationInfo::new(rs.destination(&key)).with_connections(1, 0),
                ]),
        );
    }
    let view = View {
        model,
        config_path: "k.conf".into(),
        states,
        checkers,
        quorum,
        counters: Counters {
            reconciles: 12,
            reload_errors: 1,
            last_reload_error: Some("k.conf:3: bad".into()),
            ..Counters::default()
        },
        started: 1_700_000_000,
        vrrp: Vec::new(),
        announcements: vec![ipvsd::rhi::AnnouncementStatus {
            address: "192.0.2.10".parse().expect("address"),
            announced: false,
            since: 1_700_000_001,
            why_not: Some("virtual server tcp 192.0.2.10:80 has no quorum".into()),
        }],
        route_withdrawals: 2,
    };
    (view, table)
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/status.json"))
        .expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::meta::validate(&schema).expect("a JSON schema");
    jsonschema::validator_for(&schema).expect("compiles")
}

#[test]
fn status_document_validates_against_its_schema() {
    let (view, table) = view_and_table();
    let doc = serde_json::to_value(Snapshot::build(&view, Ok(&table))).expect("JSON");
    let v = schema();
    if let Err(e) = v.validate(&doc) {
        panic!("{e}\n{doc:#}");
    }
    assert_eq!(doc["router_id"], "lb1");
    assert_eq!(doc["counters"]["reconciles"], 12);
    let web = &doc["virtual_servers"][0];
    assert_eq!(web["live_weight"], 3);
    assert_eq!(web["real_servers"][0]["health"], "up");
    assert_eq!(web["real_servers"][1]["health"], "down");
    assert_eq!(web["real_servers"][0]["checkers"][0]["failures"], 2);
    assert_eq!(web["services"][0]["stats"]["in_bytes"], u64::MAX - 100);
    assert_eq!(
        web["services"][0]["destinations"][0]["active_connections"],
        4
    );
    assert_eq!(doc["virtual_servers"][2]["services"][0]["family"], "ipv6");
    // The table unreadable: the document says why and still validates.
    let doc = serde_json::to_value(Snapshot::build(&view, Err("no IPVS".into()))).expect("JSON");
    assert!(v.is_valid(&doc));
    assert_eq!(doc["table_error"], "no IPVS");
    assert_eq!(doc["virtual_servers"][0]["services"][0]["present"], false);
    // The schema bites: a health it does not know is refused.
    let mut bad = doc.clone();
    bad["virtual_servers"][0]["real_servers"][0]["health"] = "sideways".into();
    assert!(!v.is_valid(&bad));
}

#[test]
fn metrics_parse_with_node_exporter_names_and_no_label_clashes() {
    let (view, table) = view_and_table();
    let text = render_metrics(&Snapshot::build(&view, Ok(&table)));
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
    let find = |name: &str, labels: &[(&str, &str)]| -> Vec<f64> {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .collect()
    };
    let web = [
        ("local_address", "192.0.2.1"),
        ("local_port", "80"),
        ("remote_address", "10.0.0.11"),
        ("remote_port", "8080"),
        ("proto", "TCP"),
        ("local_mark", ""),
    ];
    assert_eq!(find("node_ipvs_backend_connections_active", &web), [4.0]);
    assert_eq!(find("node_ipvs_backend_connections_inactive", &web), [6.0]);
    assert_eq!(find("node_ipvs_backend_weight", &web), [3.0]);
    assert_eq!(find("ipvsd_backend_connections_total", &web), [50.0]);
    // Both families of mark 5: one series each.
    let marks = find(
        "node_ipvs_backend_weight",
        &[("proto", "FWM"), ("local_mark", "5")],
    );
    assert_eq!(marks.len(), 2, "{text}");
    let mut keys: Vec<(String, String)> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "node_ipvs_backend_weight")
        .map(|s| {
            let mut l: Vec<_> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            l.sort();
            (s.metric.clone(), l.join(","))
        })
        .collect();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "label sets clash");
    assert_eq!(
        find("ipvsd_real_server_up", &[("address", "10.0.0.12")]),
        [0.0]
    );
    assert_eq!(
        find("ipvsd_checker_failures_total", &[("kind", "TCP_CHECK")]),
        [2.0]
    );
    assert_eq!(find("ipvsd_checker_probes_total", &[]), [7.0]);
    assert_eq!(find("ipvsd_reload_errors_total", &[]), [1.0]);
    assert_eq!(
        find("ipvsd_route_announced", &[("address", "192.0.2.10")]),
        [0.0]
    );
    assert_eq!(find("ipvsd_route_withdrawals_total", &[]), [2.0]);
    assert_eq!(
        find(
            "ipvsd_virtual_server_quorum_up",
            &[("virtual_server", &view.model.virtual_servers[0].name())]
        ),
        [1.0]
    );
    assert_eq!(
        find(
            "ipvsd_service_connections_per_second",
            &[("local_port", "80")]
        ),
        [3.0]
    );
    assert_eq!(find("ipvsd_table_read_ok", &[]), [1.0]);
}

#[test]
fn ipvsd_status_without_a_daemon_fails_with_a_clear_message() {
    // Port 1 on loopback: nothing listens there (connection refused).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .args(["status", "--listen", "127.0.0.1:1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach ipvsd at 127.0.0.1:1"), "{err}");
    assert!(out.stdout.is_empty());
}
