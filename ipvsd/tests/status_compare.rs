//! `ipvsd status --compare`: two directors' status documents, built from
//! tables that differ in one way each, compared.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use ipvs::mh::{Server, Table};
use ipvs::{DestinationInfo, SchedFlags, ServiceInfo};
use ipvsd::config::{KeepalivedOptions, Model, read_keepalived_str};
use ipvsd::status::{Counters, Snapshot, View, compare, render_comparison};

const CONF: &str = "
virtual_server 192.0.2.10 80 {
  lvs_sched mh
  lvs_method DR
  real_server 10.0.0.1 80 {
  }
  real_server 10.0.0.2 80 {
  }
  real_server 10.0.0.3 80 {
  }
}
virtual_server 192.0.2.10 443 {
  lvs_sched rr
  lvs_method DR
  real_server 10.0.0.1 443 {
  }
  real_server 10.0.0.2 443 {
  }
}
";

fn model() -> Model {
    read_keepalived_str(CONF, Path::new("k.conf"), &KeepalivedOptions::default())
        .expect("config")
        .model
}

/// The status document of a director whose kernel has virtual server `i`'s
/// real servers in the order `order` (indexes into its configured real
/// servers, head first), with weight `weights[k]` for the k-th listed.
/// A virtual server whose order is `None` is absent from the kernel.
fn document(orders: &[Option<(&[usize], &[u32])>]) -> String {
    let model = model();
    let mut table = Vec::new();
    for (vs, order) in model.virtual_servers.iter().zip(orders) {
        let Some((order, weights)) = order else {
            continue;
        };
        let key = vs.services[0];
        table.push(
            ServiceInfo::new(vs.service(key)).with_destinations(
                order
                    .iter()
                    .zip(weights.iter())
                    .map(|(&i, &w)| {
                        DestinationInfo::new(vs.real_servers[i].destination(&key).with_weight(w))
                    })
                    .collect(),
            ),
        );
    }
    let view = View {
        model,
        config_path: "k.conf".into(),
        states: HashMap::new(),
        checkers: HashMap::new(),
        quorum: HashMap::new(),
        counters: Counters::default(),
        started: 0,
        vrrp: Vec::new(),
        announcements: Vec::new(),
        route_withdrawals: 0,
    };
    serde_json::to_string(&Snapshot::build(&view, Ok(&table))).expect("JSON")
}

const ONE: &[u32] = &[1, 1, 1];

#[test]
fn same_tables_agree_and_the_order_of_an_rr_service_does_not_matter() {
    let here = document(&[Some((&[0, 1, 2], ONE)), Some((&[0, 1], ONE))]);
    let peer = document(&[Some((&[0, 1, 2], ONE)), Some((&[1, 0], ONE))]);
    let c = compare(&here, &peer).expect("documents");
    assert!(c.agree, "{c:?}");
    assert_eq!(c.services, 2);
    let text = render_comparison(&c, "127.0.0.1:9000", "10.0.0.9:9000");
    assert_eq!(
        text,
        "the tables of 127.0.0.1:9000 and 10.0.0.9:9000 agree on all 2 services\n"
    );
}

#[test]
fn another_mh_list_order_is_a_disagreement_with_the_slots_it_moves() {
    let here = document(&[Some((&[0, 1, 2], ONE)), Some((&[0, 1], ONE))]);
    let peer = document(&[Some((&[2, 0, 1], ONE)), Some((&[0, 1], ONE))]);
    let c = compare(&here, &peer).expect("documents");
    assert!(!c.agree);
    assert_eq!(c.services_differing, 1);
    assert_eq!(c.differences.len(), 1, "{c:?}");
    let d = &c.differences[0];
    assert_eq!(d.service, "tcp 192.0.2.10:80");
    assert!(d.what.contains("another list order"), "{}", d.what);
    assert!(
        d.what.contains(
            "here 10.0.0.1:80, 10.0.0.2:80, 10.0.0.3:80; peer 10.0.0.3:80, 10.0.0.1:80, 10.0.0.2:80"
        ),
        "{}",
        d.what
    );
    // The count is the model's: slots whose owner differs between the two
    // orders, each built as the kernel would.
    let server = |n: u8| Server::new(IpAddr::from([10, 0, 0, n]), 80, 1);
    let a = Table::new(&[server(1), server(2), server(3)], SchedFlags::NONE).expect("table");
    let b = Table::new(&[server(3), server(1), server(2)], SchedFlags::NONE).expect("table");
    let owner = |t: &Table, s: Option<usize>| s.map(|i| t.servers()[i].address);
    let expected = a
        .slots()
        .zip(b.slots())
        .filter(|(x, y)| owner(&a, *x) != owner(&b, *y))
        .count();
    assert!(expected > 0);
    assert_eq!(d.slots_differing, Some(expected));
    assert_eq!(d.slots, Some(a.size()));
    let text = render_comparison(&c, "here:1", "peer:1");
    assert!(
        text.ends_with("the tables of here:1 and peer:1 disagree on 1 of 2 services\n"),
        "{text}"
    );
    assert!(text.contains(&format!("({expected} of 4093 mh lookup slots")));
}

#[test]
fn missing_real_servers_weights_and_services_are_named() {
    let here = document(&[Some((&[0, 1, 2], &[1, 2, 1])), Some((&[0, 1], ONE))]);
    let peer = document(&[Some((&[0, 1], &[1, 1])), None]);
    let c = compare(&here, &peer).expect("documents");
    assert!(!c.agree);
    assert_eq!(c.services_differing, 2);
    let whats: Vec<(&str, &str)> = c
        .differences
        .iter()
        .map(|d| (d.service.as_str(), d.what.as_str()))
        .collect();
    assert_eq!(
        whats,
        [
            ("tcp 192.0.2.10:443", "only on this director"),
            (
                "tcp 192.0.2.10:80",
                "real server 10.0.0.2:80 has weight 2 here, 1 on the peer"
            ),
            (
                "tcp 192.0.2.10:80",
                "real server 10.0.0.3:80 only on this director"
            ),
        ]
    );
    // mh on both sides: the slots moved are counted for each difference.
    assert!(c.differences[1].slots_differing.is_some_and(|n| n > 0));
}

#[test]
fn a_document_that_is_not_a_status_document_is_an_error() {
    let here = document(&[Some((&[0, 1, 2], ONE)), Some((&[0, 1], ONE))]);
    let e = compare(&here, "{\"version\": 1}").expect_err("not a status document");
    assert!(e.starts_with("the peer's status: "), "{e}");
    let e = compare("<html>", &here).expect_err("not JSON");
    assert!(e.starts_with("this director's status: "), "{e}");
}
