//! Many changes at once with the `ipvs` library against the real kernel:
//! batches, desired state (dump, flush, apply again; diff and apply of only
//! what differs, also while another program changes the table) and
//! draining. Each result is read back through Debian's ipvsadm 1.31. Runs in
//! the test VM; each test has a network namespace of its own.

use std::sync::Arc;

use ipvs::{
    ApplyOptions, Change, DesiredState, Destination, DiffOptions, ErrorKind, ForwardMethod,
    Removal, Scheduler, Scope, Service, ServiceKey, diff, table_json,
};
use testbed::reference;

mod common;
use common::{RICH_TABLE, save, setup, v4, v6};

#[test]
fn batch_applies_many_changes_with_one_outcome_each() {
    let ipvs = setup();
    let key = ServiceKey::tcp(v4(10, 13, 0, 1), 80);
    let mut changes = vec![Change::AddService(Service::new(key))];
    for i in 0..500u16 {
        changes.push(Change::AddDestination(
            key,
            Destination::new(
                v4(10, 100 + (i / 250) as u8, (i % 250) as u8, 1),
                80,
                ForwardMethod::Route,
            ),
        ));
    }
    changes.push(Change::AddService(Service::new(key))); // exists: refused
    changes.push(Change::DeleteDestination {
        service: key,
        address: v4(10, 100, 0, 1),
        port: 80,
    });
    changes.push(Change::DeleteService(ServiceKey::tcp(v4(10, 13, 0, 2), 80))); // absent: refused
    let outcomes = ipvs.apply_changes(&changes).expect("exchange");
    assert_eq!(outcomes.len(), changes.len());
    assert!(outcomes[..501].iter().all(Result::is_ok));
    assert_eq!(
        outcomes[501].as_ref().expect_err("exists").kind(),
        ErrorKind::ServiceExists
    );
    assert!(outcomes[502].is_ok());
    assert_eq!(
        outcomes[503].as_ref().expect_err("absent").kind(),
        ErrorKind::NoSuchService
    );
    assert_eq!(ipvs.destinations(&key).expect("list").len(), 499);
    assert_eq!(save().lines().count(), 500);
}

#[test]
fn batch_with_an_invalid_change_sends_nothing() {
    let ipvs = setup();
    let key = ServiceKey::tcp(v4(10, 14, 0, 1), 80);
    let changes = vec![
        Change::AddService(Service::new(key)),
        Change::AddDestination(
            key,
            Destination::new(v6("2001:db8::1"), 80, ForwardMethod::Masq),
        ),
    ];
    let err = ipvs.apply_changes(&changes).expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("must be tunnelled"), "{err}");
    assert_eq!(save(), "");
}

#[test]
fn table_dumped_flushed_and_applied_again_is_the_same() {
    let ipvs = setup();
    let restored = reference::run(&reference::path(), &["-R"], RICH_TABLE);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    let before = save();
    assert_eq!(before.lines().count(), RICH_TABLE.lines().count());
    // The listing document, with its counters, is the desired state unchanged.
    let listing = table_json(&ipvs.table().expect("table"));
    assert!(listing.contains("\"stats\""));
    let desired = DesiredState::from_json(&listing).expect("the listing reads as desired state");
    ipvs.flush().expect("flush");
    assert_eq!(save(), "");
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.failed);
    assert_eq!(report.applied.len(), 7 + 8);
    assert_eq!(save(), before);
    let again = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply again");
    assert!(again.applied.is_empty() && again.is_success());
    assert_eq!(again.rounds, 1);
}

#[test]
fn apply_changes_only_what_differs() {
    let ipvs = setup();
    reference::run(&reference::path(), &["-R"], RICH_TABLE);
    let mut desired = DesiredState::from_table(&ipvs.table().expect("table"));
    // One weight, one scheduler, one removed real server, one new service.
    let web = desired
        .services
        .iter_mut()
        .find(|s| s.service.key == ServiceKey::tcp(v4(10, 15, 0, 1), 80))
        .expect("web");
    web.destinations.retain(|d| d.port != 8080);
    web.destinations[0].weight = 9;
    web.service.scheduler = Scheduler::RoundRobin;
    desired.services.push(ipvs::ServiceSpec::new(
        Service::new(ServiceKey::tcp(v4(10, 15, 0, 9), 22)),
        vec![],
    ));
    let plan = diff(
        &ipvs.table().expect("table"),
        &desired,
        &DiffOptions::default(),
    );
    assert_eq!(plan.steps.len(), 4, "{plan}");
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert_eq!(report.applied.len(), 4);
    let saved = save();
    assert!(
        saved.contains("-A -t 10.15.0.1:80 -s rr\n-a -t 10.15.0.1:80 -r 192.0.2.1:80 -m -w 9\n-A"),
        "{saved}"
    );
    assert!(saved.contains("-A -t 10.15.0.9:22 -s wlc\n"), "{saved}");
    assert!(!saved.contains("8080"), "{saved}");
}

#[test]
fn a_scoped_apply_changes_and_rolls_back_only_its_services() {
    let ipvs = setup();
    let before = "-A -t 10.18.0.1:80 -s rr\n-a -t 10.18.0.1:80 -r 192.0.2.1:80 -m -w 1\n\
                  -A -t 10.18.0.2:80 -s rr\n-a -t 10.18.0.2:80 -r 192.0.2.2:80 -m -w 1\n\
                  -A -t 10.18.0.3:80 -s wlc\n";
    let restored = reference::run(&reference::path(), &["-R"], before);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    // .1 is managed and no longer wanted; .2 is someone else's; .3 gains a
    // real server; .4 is new.
    let managed = ServiceKey::tcp(v4(10, 18, 0, 1), 80);
    let desired = DesiredState::from_json(
        r#"{"services": [
            {"protocol": "tcp", "address": "10.18.0.3", "port": 80, "scheduler": "wlc",
             "destinations": [{"address": "192.0.2.3", "port": 80, "forward": "masq"}]},
            {"protocol": "tcp", "address": "10.18.0.4", "port": 80, "scheduler": "rr"}
        ]}"#,
    )
    .expect("desired");
    let options = ApplyOptions::default().with_diff(
        DiffOptions::default()
            .with_scope(Scope::Managed([managed].into()))
            .with_removal(Removal::Delete),
    );
    let report = ipvs.apply(&desired, &options).expect("apply");
    assert!(report.is_success(), "{:?}", report.failed);
    assert_eq!(report.applied.len(), 3, "{:?}", report.applied);
    let after = "-A -t 10.18.0.2:80 -s rr\n-a -t 10.18.0.2:80 -r 192.0.2.2:80 -m -w 1\n\
                 -A -t 10.18.0.3:80 -s wlc\n-a -t 10.18.0.3:80 -r 192.0.2.3:80 -m -w 1\n\
                 -A -t 10.18.0.4:80 -s rr\n";
    let table = save();
    let mut lines: Vec<&str> = table.lines().collect();
    lines.sort_unstable();
    let mut want: Vec<&str> = after.lines().collect();
    want.sort_unstable();
    assert_eq!(lines, want);
    // A step the kernel refuses (no such scheduler) undoes the others, in
    // scope only: the foreign service stays as it is.
    let failing = DesiredState::from_json(
        r#"{"services": [
            {"protocol": "tcp", "address": "10.18.0.3", "port": 80, "scheduler": "wlc"},
            {"protocol": "tcp", "address": "10.18.0.5", "port": 80, "scheduler": "nosuch"}
        ]}"#,
    )
    .expect("desired");
    let saved = save();
    let report = ipvs.apply(&failing, &options).expect("apply");
    assert!(!report.is_success());
    assert!(report.is_unchanged(), "{report:?}");
    assert_eq!(save(), saved);
}

#[test]
fn an_apply_of_many_services_reads_them_settled_and_changes_one() {
    // More services than are looked up one by one: they are found in a
    // settled read of the services, their real servers dumped alone.
    let ipvs = setup();
    let mut rules = String::from("-A -t 10.19.255.1:80 -s rr\n");
    for i in 0..100u8 {
        rules.push_str(&format!(
            "-A -t 10.19.0.{i}:80 -s rr\n-a -t 10.19.0.{i}:80 -r 192.0.2.1:80 -m -w 1\n"
        ));
    }
    let restored = reference::run(&reference::path(), &["-R"], &rules);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    let mut desired = DesiredState::from_table(&ipvs.table().expect("table"));
    // Everything but the foreign service, one weight changed.
    desired
        .services
        .retain(|s| s.service.key != ServiceKey::tcp(v4(10, 19, 255, 1), 80));
    assert_eq!(desired.services.len(), 100);
    desired.services[42].destinations[0].weight = 7;
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{:?}", report.failed);
    assert_eq!(report.applied.len(), 1, "{:?}", report.applied);
    let key = desired.services[42].service.key;
    assert_eq!(report.applied[0].service(), key);
    assert_eq!(
        ipvs.destinations(&key).expect("list")[0].destination.weight,
        7
    );
    assert!(save().contains("-A -t 10.19.255.1:80 -s rr\n"));
}

#[test]
fn apply_converges_while_another_program_changes_the_table() {
    let ipvs = Arc::new(setup());
    let desired = DesiredState::from_json(
        r#"{"services": [
            {"protocol": "tcp", "address": "10.16.0.1", "port": 80, "scheduler": "rr",
             "destinations": [{"address": "192.0.2.1", "port": 80}, {"address": "192.0.2.2", "port": 80}]},
            {"protocol": "tcp", "address": "10.16.0.2", "port": 80}
        ]}"#,
    )
    .expect("desired");
    // Another program keeps deleting and re-adding one of the services.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other = {
        let (ipvs, stop) = (ipvs.clone(), stop.clone());
        std::thread::spawn(move || {
            let key = ServiceKey::tcp(v4(10, 16, 0, 1), 80);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = ipvs.delete_service(&key);
                let _ =
                    ipvs.add_service(&Service::new(key).with_scheduler(Scheduler::LeastConnection));
            }
        })
    };
    let mut raced = 0;
    for _ in 0..20 {
        let report = ipvs
            .apply(&desired, &ApplyOptions::default().with_retries(10))
            .expect("apply");
        raced += report.rounds - 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    other.join().expect("other program");
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("final apply");
    assert!(report.is_success());
    assert_eq!(
        save(),
        "-A -t 10.16.0.1:80 -s rr\n-a -t 10.16.0.1:80 -r 192.0.2.1:80 -g -w 1\n-a -t 10.16.0.1:80 -r 192.0.2.2:80 -g -w 1\n-A -t 10.16.0.2:80 -s wlc\n"
    );
    println!("{raced} extra rounds re-read the table after a concurrent change");
}

#[test]
fn drain_sets_weight_zero_then_removes_idle_servers() {
    let ipvs = setup();
    reference::run(
        &reference::path(),
        &["-R"],
        "-A -t 10.17.0.1:80 -s rr\n-a -t 10.17.0.1:80 -r 192.0.2.1:80 -m\n-a -t 10.17.0.1:80 -r 192.0.2.2:80 -m\n",
    );
    let desired = DesiredState::from_json(r#"{"services":[{"protocol":"tcp","address":"10.17.0.1","port":80,"scheduler":"rr","destinations":[{"address":"192.0.2.1","port":80,"forward":"masq"}]}]}"#).expect("desired");
    let drain =
        ApplyOptions::default().with_diff(DiffOptions::default().with_removal(Removal::Drain));
    let first = ipvs.apply(&desired, &drain).expect("drain");
    assert_eq!(first.applied.len(), 1);
    assert!(save().contains("-r 192.0.2.2:80 -m -w 0\n"));
    // No connections: the next apply deletes it.
    let second = ipvs.apply(&desired, &drain).expect("delete");
    assert_eq!(second.applied.len(), 1);
    assert_eq!(
        save(),
        "-A -t 10.17.0.1:80 -s rr\n-a -t 10.17.0.1:80 -r 192.0.2.1:80 -m -w 1\n"
    );
}
