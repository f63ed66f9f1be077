//! A scoped apply on the real kernel, in the VM: `apply` and `diff` touch
//! only the services their file lists, unless `--prune`; `--keep-weights`
//! leaves a health checker's weights alone; `--drain` drains a service to
//! remove before deleting it, and `--drain-timeout` bounds the wait;
//! `--canonical-order` puts an `mh` service's real servers in order.

use std::time::{Duration, Instant};

use testbed::{http, netns, reference};

mod common;
use common::{file, ours};
#[path = "../../schema/validate.rs"]
mod schema;

const WEB: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wrr","destinations":[{"address":"10.0.0.11","weight":5},{"address":"10.0.0.12","weight":5}]}]}"#;
const NOTHING: &str = r#"{"schema_version":2,"services":[]}"#;

/// A service made by hand (another tool's, as far as apply knows).
fn foreign() {
    reference::ipvsadm_ok(&["-A", "-t", "198.51.100.7:443", "-s", "rr"]);
    reference::ipvsadm_ok(&["-a", "-t", "198.51.100.7:443", "-r", "10.0.0.99", "-m"]);
}

const FOREIGN_SAVED: &str =
    "-A -t 198.51.100.7:443 -s rr\n-a -t 198.51.100.7:443 -r 10.0.0.99:443 -m -w 1\n";

fn saved() -> String {
    reference::ipvsadm_ok(&["-Sn"])
}

#[test]
fn services_the_file_does_not_list_are_left_alone_unless_pruned() {
    netns::enter_fresh();
    foreign();
    let web = file("scope-web", WEB);
    let nothing = file("scope-nothing", NOTHING);
    assert_eq!(ours(&["apply", "-f", &web]).code, 0);
    assert!(saved().contains(FOREIGN_SAVED), "{}", saved());
    let diff = ours(&["diff", "-f", &web]);
    assert_eq!((diff.code, diff.stdout.as_str()), (0, ""));
    // A file that lists nothing changes nothing, even draining.
    for args in [
        &["apply", "-f", &nothing][..],
        &["apply", "-f", &nothing, "--drain"],
    ] {
        let out = ours(args);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "0 changes applied\n"),
            "{args:?}"
        );
    }
    assert!(saved().contains(FOREIGN_SAVED), "{}", saved());
    assert!(
        saved().contains("-A -t 192.0.2.1:80 -s wrr\n"),
        "{}",
        saved()
    );

    // --prune: the foreign service is in the plan, and goes.
    let diff = ours(&["diff", "-f", &web, "--prune"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (1, "delete service tcp 198.51.100.7:443\n")
    );
    let dry = ours(&["apply", "-f", &web, "--prune", "--dry-run", "--json"]);
    let plan = schema::validated(&dry.stdout);
    assert_eq!(plan["steps"][0]["action"], "delete_service", "{plan}");
    assert_eq!(
        plan["steps"][0]["service"]["address"], "198.51.100.7",
        "{plan}"
    );
    assert!(saved().contains(FOREIGN_SAVED), "a dry run changes nothing");
    let out = ours(&["apply", "-f", &web, "--prune"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "delete service tcp 198.51.100.7:443\n1 change applied\n")
    );
    assert!(!saved().contains("198.51.100.7"), "{}", saved());
}

const HASHED: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.2","port":80,"scheduler":"mh","destinations":[{"address":"10.0.0.22"},{"address":"10.0.0.21"},{"address":"10.0.0.23"}]}]}"#;

/// The real servers of the kernel's list of 192.0.2.2:80, head first, as
/// ipvsadm lists them unsorted.
fn hashed_list() -> Vec<String> {
    reference::ipvsadm_ok(&["-Ln", "--nosort", "-t", "192.0.2.2:80"])
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("-> "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|a| *a != "RemoteAddress:Port")
        .map(str::to_owned)
        .collect()
}

#[test]
fn canonical_order_puts_a_hashing_service_s_real_servers_in_order() {
    netns::enter_fresh();
    reference::ipvsadm_ok(&["-A", "-t", "192.0.2.2:80", "-s", "mh"]);
    for rs in ["10.0.0.21", "10.0.0.22", "10.0.0.23"] {
        reference::ipvsadm_ok(&["-a", "-t", "192.0.2.2:80", "-r", rs, "-g"]);
    }
    // Each add went to the head.
    assert_eq!(
        hashed_list(),
        ["10.0.0.23:80", "10.0.0.22:80", "10.0.0.21:80"]
    );
    let hashed = file("order-hashed", HASHED);
    let diff = ours(&["diff", "-f", &hashed]);
    assert_eq!((diff.code, diff.stdout.as_str()), (0, ""));
    // Only #23 is in place (the tail); 21 and 22 are deleted and added again,
    // 22 first.
    let diff = ours(&["diff", "-f", &hashed, "--canonical-order"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (
            1,
            "delete real server 10.0.0.21:80 of tcp 192.0.2.2:80 (to reorder)\n\
             delete real server 10.0.0.22:80 of tcp 192.0.2.2:80 (to reorder)\n\
             add real server 10.0.0.22:80 route weight 1 to tcp 192.0.2.2:80 (to reorder)\n\
             add real server 10.0.0.21:80 route weight 1 to tcp 192.0.2.2:80 (to reorder)\n"
        )
    );
    let json = ours(&["diff", "-f", &hashed, "--canonical-order", "--json"]);
    let plan = schema::validated(&json.stdout);
    let reasons: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["reorder"; 4], "{plan}");
    let out = ours(&["apply", "-f", &hashed, "--canonical-order"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.ends_with("4 changes applied\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        hashed_list(),
        ["10.0.0.21:80", "10.0.0.22:80", "10.0.0.23:80"]
    );
    let again = ours(&["diff", "-f", &hashed, "--canonical-order"]);
    assert_eq!((again.code, again.stdout.as_str()), (0, ""));
}

#[test]
fn kept_weights_are_a_checker_s() {
    netns::enter_fresh();
    let web = file("weights-web", WEB);
    assert_eq!(ours(&["apply", "-f", &web]).code, 0);
    // A health checker takes 10.0.0.11 out.
    let drain = [
        "-e",
        "-t",
        "192.0.2.1:80",
        "-r",
        "10.0.0.11:80",
        "-g",
        "-w",
        "0",
    ];
    reference::ipvsadm_ok(&drain);
    let out = ours(&["apply", "-f", &web, "--keep-weights"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "0 changes applied\n"));
    assert!(saved().contains("-r 10.0.0.11:80 -g -w 0\n"), "{}", saved());
    // Other fields still change; the weight stays the checker's.
    let thresholds = WEB.replacen(r#""weight":5}"#, r#""weight":5,"upper_threshold":100}"#, 1);
    let out = ours(&[
        "apply",
        "-f",
        &file("weights-x", &thresholds),
        "--keep-weights",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "edit real server 10.0.0.11:80 of tcp 192.0.2.1:80: upper threshold 0 -> 100\n1 change applied\n"
        )
    );
    assert!(saved().contains("-r 10.0.0.11:80 -g -w 0\n"), "{}", saved());
    // Without --keep-weights the file's weight comes back.
    let out = ours(&["apply", "-f", &web]);
    assert!(
        out.stdout.starts_with(
            "edit real server 10.0.0.11:80 of tcp 192.0.2.1:80: weight 0 -> 5, upper threshold 100 -> 0\n"
        ),
        "{}",
        out.stdout
    );
    assert!(saved().contains("-r 10.0.0.11:80 -g -w 5\n"), "{}", saved());
}

#[test]
fn a_service_with_connections_drains_and_the_timeout_bounds_the_wait() {
    netns::enter_fresh();
    let client = netns::Namespace::new("scope-cli").expect("namespace");
    netns::link_to(&client, "dir0", "10.34.0.1/24", "cli0", "10.34.0.2/24").expect("link");
    let vip = "10.34.0.1:80".parse().expect("address");
    let _server = http::Server::start("director", vip).expect("server");
    let one = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"10.34.0.1","port":80,"destinations":[{"address":"10.34.0.1"}]}]}"#;
    assert_eq!(ours(&["apply", "-f", &file("drain-one", one)]).code, 0);
    client
        .run(|| http::get(vip, Duration::from_secs(5)).expect("request"))
        .expect("client");
    let nothing = file("drain-nothing", NOTHING);
    let out = ours(&["apply", "-f", &nothing, "--prune", "--drain"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "drain real server 10.34.0.1:80 of tcp 10.34.0.1:80 (weight 0)"
    );
    assert_eq!(lines[1], "1 change applied");
    assert!(
        lines[2].starts_with("service tcp 10.34.0.1:80 is draining: ")
            && lines[2].ends_with(" left (apply again to delete it once idle)"),
        "{}",
        out.stdout
    );
    assert_eq!(
        saved(),
        "-A -t 10.34.0.1:80 -s wlc\n-a -t 10.34.0.1:80 -r 10.34.0.1:80 -g -w 0\n"
    );
    let waiting = ours(&["diff", "-f", &nothing, "--prune", "--drain", "--json"]);
    assert_eq!(waiting.code, 0, "nothing to do now: {waiting:?}");
    let plan = schema::validated(&waiting.stdout);
    assert_eq!(plan["steps"], serde_json::json!([]), "{plan}");
    assert_eq!(plan["draining"][0]["service"]["port"], 80, "{plan}");

    // The closed connection lingers (FIN timeout): the bound ends the wait.
    let started = Instant::now();
    let out = ours(&[
        "apply",
        "-f",
        &nothing,
        "--prune",
        "--drain",
        "--drain-timeout",
        "2",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        out.stdout
            .contains("(--drain-timeout)\ndelete service tcp 10.34.0.1:80\n1 change applied\n"),
        "{}",
        out.stdout
    );
    assert_eq!(saved(), "");
}
