//! Every JSON document the library writes validates against the schema
//! files of `schema/v2/` (built here from library values, on the host).

#[path = "../../schema/validate.rs"]
mod schema;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::{
    AddressFamily, DaemonRole, DesiredState, Destination, DestinationInfo, DiffOptions,
    ForwardMethod, Netmask, Persistence, Removal, SchedFlags, Scheduler, Service, ServiceInfo,
    ServiceKey, ServiceSpec, Stats, SyncDaemon, Timeouts, Tunnel, TunnelChecksum, diff,
    json_document, parse_connections, table_json,
};
use serde::Serialize;
use serde_json::{Value, json};

fn valid(text: &str) -> Value {
    schema::validated(text)
}

fn invalid(name: &str, doc: Value) -> String {
    match schema::check(name, &doc) {
        Ok(()) => panic!("{name} accepted {doc}"),
        Err(e) => e,
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// A table with each shape a listing can print: IPv4 and IPv6, a mask that
/// is a prefix and one that is not, a firewall mark with scheduler flags and
/// a GUE tunnel, real servers read in full and in brief.
fn table() -> Vec<ServiceInfo> {
    let stats = Stats {
        connections: 7,
        in_packets: u64::MAX,
        in_bps: 1_000_000,
        ..Stats::default()
    };
    let web = Service::new(ServiceKey::tcp(v4(192, 0, 2, 1), 80))
        .with_scheduler(Scheduler::WeightedRoundRobin)
        .with_persistence(
            Persistence::new(300).with_netmask(Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))),
        );
    let odd = Service::new(ServiceKey::udp(v4(192, 0, 2, 1), 53))
        .with_scheduler(Scheduler::RoundRobin)
        .with_persistence(
            Persistence::new(60).with_netmask(Netmask::Ipv4(Ipv4Addr::new(255, 0, 255, 0))),
        )
        .with_one_packet(true)
        .with_persistence_engine("sip");
    let v6 = Service::new(ServiceKey::sctp(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        3868,
    ))
    .with_persistence(Persistence::new(60).with_netmask(Netmask::Ipv6(64)));
    let mark = Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 7))
        .with_scheduler(Scheduler::SourceHashing)
        .with_sched_flags(SchedFlags::FALLBACK | SchedFlags::PORT);
    let full = DestinationInfo::new(
        Destination::new(v4(10, 0, 0, 1), 8080, ForwardMethod::Masq)
            .with_weight(3)
            .with_thresholds(100, 10),
    )
    .with_connections(2, 5);
    let mut brief =
        DestinationInfo::new(Destination::new(v4(10, 0, 0, 2), 80, ForwardMethod::Route));
    brief.stats = None;
    brief.persistent_connections = None;
    let tunnel = DestinationInfo::new(
        Destination::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
            0,
            ForwardMethod::Tunnel,
        )
        .with_tunnel(Tunnel::gue(6080, TunnelChecksum::Remote)),
    );
    vec![
        ServiceInfo::new(web)
            .with_stats(stats)
            .with_destinations(vec![full, brief]),
        ServiceInfo::new(odd),
        ServiceInfo::new(v6),
        ServiceInfo::new(mark).with_destinations(vec![tunnel]),
    ]
}

#[test]
fn the_schema_files_are_json_schemas() {
    for (name, text) in schema::SCHEMAS {
        let schema: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(
            schema["$id"],
            format!("{}{name}.json", schema::BASE),
            "{name}: its $id"
        );
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn table_documents_validate() {
    let table = table();
    let listing = valid(&table_json(&table));
    assert_eq!(listing["schema_version"], 2);
    let web = &listing["services"][0];
    assert_eq!(
        web["persistence"],
        json!({"timeout": 300, "netmask": "255.255.255.0", "prefix_length": 24})
    );
    assert_eq!(web["stats"]["in_packets"], u64::MAX);
    assert_eq!(
        listing["services"][1]["persistence"],
        json!({"timeout": 60, "netmask": "255.0.255.0"})
    );
    assert_eq!(
        listing["services"][2]["persistence"],
        json!({"timeout": 60, "prefix_length": 64})
    );
    // The listing is desired state, and desired state writes the same document.
    let desired = DesiredState::from_json(&table_json(&table)).expect("reads");
    let written = valid(&desired.to_json());
    assert_eq!(written["services"].as_array().map(Vec::len), Some(4));
    // A hand-written file with the defaults left out validates too.
    valid(
        r#"{"services": [{"protocol": "tcp", "address": "192.0.2.9", "port": 443,
            "destinations": [{"address": "10.0.0.9"}]}]}"#,
    );
}

#[test]
fn other_documents_validate() {
    #[derive(Serialize)]
    struct Timeouts_<'a> {
        timeouts: &'a Timeouts,
    }
    #[derive(Serialize)]
    struct Daemons<'a> {
        daemons: &'a [SyncDaemon],
    }
    #[derive(Serialize)]
    struct Connections<'a> {
        connections: &'a [ipvs::Connection],
    }
    valid(&json_document(&Timeouts_ {
        timeouts: &Timeouts::new(900, 120, 300),
    }));
    let daemons = [
        SyncDaemon::new(DaemonRole::Master, "eth0", 3)
            .with_group(v4(224, 0, 0, 81))
            .with_port(8848)
            .with_ttl(1)
            .with_max_len(1472),
        SyncDaemon::new(DaemonRole::Backup, "eth1", 0),
    ];
    valid(&json_document(&Daemons { daemons: &daemons }));
    let conns = parse_connections(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
         TCP C0A80102 C231 C0A80164 0050 0A000001 0050 ESTABLISHED     857\n\
         UDP 2001:0db8:0000:0000:0000:0000:0000:0099 D431 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 0A000008 13C4 UDP              40 sip 6b4b3a2e@example\n",
    )
    .expect("parses");
    let doc = valid(&json_document(&Connections {
        connections: &conns,
    }));
    assert_eq!(doc["connections"][0]["protocol"], "tcp");
    assert_eq!(doc["connections"][1]["pe_name"], "sip");
}

#[test]
fn plan_documents_validate() {
    let table = table();
    // Change one of each: a service edited, a real server edited, one
    // drained (it has connections), one added, a service added and one deleted.
    let mut desired = DesiredState::from_table(&table);
    desired.services[0].service = desired.services[0]
        .service
        .clone()
        .with_scheduler(Scheduler::LeastConnection);
    desired.services[0].destinations[0] =
        desired.services[0].destinations[0].clone().with_weight(5);
    desired.services[0].destinations.truncate(1);
    desired.services[0].destinations.push(Destination::new(
        v4(10, 0, 0, 3),
        8080,
        ForwardMethod::Masq,
    ));
    desired.services.remove(1);
    desired.services.push(ServiceSpec::new(
        Service::new(ServiceKey::tcp(v4(192, 0, 2, 2), 80)),
        vec![],
    ));
    let mut table = table;
    table[0].destinations[1] = table[0].destinations[1].clone().with_connections(4, 0);
    for removal in [Removal::Delete, Removal::Drain] {
        let plan = diff(
            &table,
            &desired,
            &DiffOptions::default()
                .with_removal(removal)
                .with_scope(ipvs::Scope::Whole),
        );
        let doc = valid(&json_document(&plan));
        let actions: Vec<&str> = doc["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter_map(|s| s["action"].as_str())
            .collect();
        assert!(actions.contains(&"edit_service"), "{actions:?}");
        assert!(actions.contains(&"edit_real_server"), "{actions:?}");
        assert!(actions.contains(&"add_real_server"), "{actions:?}");
        assert!(actions.contains(&"delete_service"), "{actions:?}");
    }
}

#[test]
fn reorder_steps_carry_their_reason() {
    let key = ServiceKey::tcp(v4(192, 0, 2, 5), 80);
    let service = Service::new(key).with_scheduler(Scheduler::MaglevHashing);
    let rs = |last| Destination::new(v4(10, 0, 0, last), 80, ForwardMethod::Route);
    // The kernel's list, head first: 2 then 1, out of the canonical order.
    let table = vec![ServiceInfo::new(service.clone()).with_destinations(vec![
        DestinationInfo::new(rs(2)),
        DestinationInfo::new(rs(1)),
    ])];
    let desired = DesiredState::new(vec![ServiceSpec::new(service, vec![rs(1), rs(2)])]);
    let plan = diff(
        &table,
        &desired,
        &DiffOptions::default().with_canonical_order(true),
    );
    let doc = valid(&json_document(&plan));
    let steps: Vec<(&str, &str)> = doc["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap_or(""),
                s["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("delete_real_server", "reorder"),
            ("add_real_server", "reorder")
        ]
    );
    // Any other reason is refused.
    let mut odd = doc.clone();
    odd["steps"][0]["reason"] = json!("whim");
    assert!(!invalid("plan", odd).is_empty());
}

#[test]
fn the_schemas_refuse_what_schema_2_changed() {
    // Schema 1's connection: upper-case protocol, endpoints as text.
    let e = invalid(
        "connections",
        json!({"schema_version": 2, "connections": [{
            "protocol": "TCP", "client": "10.0.0.2:0", "virtual": "10.0.0.1:80",
            "destination": "10.0.0.3:80", "state": "NONE", "expires": 1}]}),
    );
    assert!(e.contains("/connections/0/protocol"), "{e}");
    assert!(e.contains("/connections/0/client"), "{e}");
    // A field no document has.
    let e = invalid(
        "table",
        json!({"schema_version": 2, "services": [{"fwmark": 1, "weight": 1}]}),
    );
    assert!(e.contains("/services/0"), "{e}");
    // Both identities at once.
    invalid(
        "table",
        json!({"services": [{"fwmark": 1, "protocol": "tcp", "address": "192.0.2.1", "port": 80}]}),
    );
    // Not an address.
    invalid(
        "table",
        json!({"services": [{"protocol": "tcp", "address": "example", "port": 80}]}),
    );
    invalid(
        "timeouts",
        json!({"schema_version": 1, "timeouts": {"tcp": 1, "tcp_fin": 1, "udp": 1}}),
    );
}
