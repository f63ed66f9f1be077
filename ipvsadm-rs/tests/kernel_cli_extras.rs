//! What ipvsadm-rs does beyond ipvsadm 1.31, and where it differs on
//! purpose (each difference shown next to the reference's behaviour), on the
//! real kernel in the VM.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use testbed::{http, netns, reference};

mod common;
use common::{json, ours, ours_with, theirs_with};

#[path = "../../schema/validate.rs"]
mod schema;
use schema::validated;

const TABLE: &str = "\
-A -t 10.30.0.1:80 -s wrr
-a -t 10.30.0.1:80 -r 192.0.2.1:8080 -m -w 3 -x 100 -y 10
-a -t 10.30.0.1:80 -r 192.0.2.2:8080 -m -w 1
-A -u 10.30.0.1:53 -s rr -p 60 -M 255.255.255.0 -o
-a -u 10.30.0.1:53 -r 192.0.2.3:53 -g -w 2
-A -f 7 -6 -s sh -b sh-port
-a -f 7 -6 -r [2001:db8::7]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
";

#[test]
fn save_is_ipvsadms_and_json_keeps_what_save_loses() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], TABLE).code, 0);
    // -S leaves thresholds out, as ipvsadm 1.31 does (kept for identical output)...
    let saved = ours(&["-Sn"]).stdout;
    assert_eq!(saved, reference::ipvsadm_ok(&["-Sn"]));
    assert!(
        saved.contains("-a -t 10.30.0.1:80 -r 192.0.2.1:8080 -m -w 3\n"),
        "{saved}"
    );
    // ...and the JSON listing, applied after a flush, restores them.
    let listing = ours(&["-L", "--json"]).stdout;
    validated(&listing);
    ours(&["-C"]);
    assert_eq!(ours_with(&["apply", "-f", "-"], &listing).code, 0);
    let thresholds = ours(&["-Ln", "--thresholds", "-t", "10.30.0.1:80"]).stdout;
    assert!(
        thresholds.contains(
            "  -> 192.0.2.1:8080               100        10         0          0         \n"
        ),
        "{thresholds}"
    );
}

#[test]
fn restore_takes_comments() {
    netns::enter_fresh();
    let input = "# saved by hand\n-A -t 10.31.0.1:80 -s rr   # the web service\n\n  # indented comment\n-a -t 10.31.0.1:80 -r 192.0.2.1 -m\n";
    let out = ours_with(&["-R"], input);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.31.0.1:80 -s rr\n-a -t 10.31.0.1:80 -r 192.0.2.1:80 -m -w 1\n"
    );
    // ipvsadm 1.31 stops at the first comment line.
    let theirs = theirs_with(&["-R"], "-C\n# comment\n-A -t 10.31.0.2:80\n");
    assert_eq!(theirs.code, 255);
    assert!(theirs.stderr.starts_with("Try `"), "{}", theirs.stderr);
}

#[test]
fn negative_fwmarks_from_save_restore() {
    netns::enter_fresh();
    assert_eq!(ours(&["-A", "-f", "3000000000"]).code, 0);
    let saved = ours(&["-Sn"]).stdout;
    // Printed signed, as ipvsadm does...
    assert_eq!(saved, "-A -f -1294967296 -s wlc\n");
    assert_eq!(saved, reference::ipvsadm_ok(&["-Sn"]));
    // ...and restorable, which ipvsadm's own output is not.
    ours(&["-C"]);
    assert_eq!(ours_with(&["-R"], &saved).code, 0);
    assert_eq!(ours(&["-Sn"]).stdout, saved);
    let theirs = theirs_with(&["-R"], &saved);
    assert_eq!(
        (theirs.code, theirs.stderr.as_str()),
        (2, "invalid fwmark value `-1294967296' specified\n")
    );
}

#[test]
fn json_listings_have_one_document_each() {
    netns::enter_fresh();
    netns::add_veth_pair("sync0", "sync1", "10.32.0.1/24").expect("veth");
    assert_eq!(ours_with(&["-R"], TABLE).code, 0);
    ours(&[
        "--start-daemon",
        "master",
        "--mcast-interface",
        "sync0",
        "--syncid",
        "3",
    ]);
    for variant in [
        &["-L", "--json"][..],
        &["-Ln", "--json", "--stats"],
        &["-L", "--json", "--rate", "--exact"],
        &["-L", "--json", "--thresholds"],
        &["-L", "--json", "--persistent-conn"],
        &["-L", "--json", "--tun-info"],
        &["-l", "--format", "json"],
    ] {
        let out = ours(variant);
        assert_eq!(out.code, 0, "{variant:?}: {}", out.stderr);
        let doc = validated(&out.stdout);
        assert_eq!(doc["schema_version"], 2);
        let services = doc["services"].as_array().expect("services");
        assert_eq!(services.len(), 3, "{variant:?}");
        let web = services
            .iter()
            .find(|s| s["port"] == 80)
            .expect("the web service");
        assert_eq!(
            (
                web["protocol"].as_str(),
                web["address"].as_str(),
                web["scheduler"].as_str()
            ),
            (Some("tcp"), Some("10.30.0.1"), Some("wrr"))
        );
        let rs = &web["destinations"][0];
        assert_eq!(
            (
                rs["address"].as_str(),
                rs["port"].as_u64(),
                rs["forward"].as_str()
            ),
            (Some("192.0.2.1"), Some(8080), Some("masq"))
        );
        assert_eq!(
            (
                rs["weight"].as_u64(),
                rs["upper_threshold"].as_u64(),
                rs["lower_threshold"].as_u64()
            ),
            (Some(3), Some(100), Some(10))
        );
        assert!(rs["stats"]["in_bytes"].is_u64() && rs["active_connections"].is_u64());
        let fwm = services
            .iter()
            .find(|s| s["fwmark"] == 7)
            .expect("the fwmark service");
        assert_eq!(
            (fwm["family"].as_str(), fwm["scheduler_flags"][0].as_str()),
            (Some("ipv6"), Some("sh-port"))
        );
        assert_eq!(
            fwm["destinations"][0]["tunnel"],
            json(r#"{"type": "gue", "port": 6080, "checksum": "checksum"}"#)
        );
        let dns = services
            .iter()
            .find(|s| s["port"] == 53)
            .expect("the dns service");
        assert_eq!(
            dns["persistence"],
            json(r#"{"timeout": 60, "netmask": "255.255.255.0", "prefix_length": 24}"#)
        );
        assert_eq!(dns["one_packet"], true);
    }
    let one = validated(&ours(&["-L", "-t", "10.30.0.1:80", "--json"]).stdout);
    assert_eq!(one["services"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        validated(&ours(&["-L", "--timeout", "--json"]).stdout),
        json(r#"{"schema_version": 2, "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300}}"#)
    );
    let daemons = validated(&ours(&["-L", "--daemon", "--json"]).stdout);
    assert_eq!(daemons["daemons"][0]["role"], "master");
    assert_eq!(daemons["daemons"][0]["interface"], "sync0");
    assert_eq!(daemons["daemons"][0]["sync_id"], 3);
    assert_eq!(daemons["daemons"][0]["group"], "224.0.0.81");
    let conns = validated(&ours(&["-Lc", "--json"]).stdout);
    assert_eq!(conns, json(r#"{"schema_version": 2, "connections": []}"#));
    // Listing options only.
    let out = ours(&["-A", "-t", "10.30.0.9:80", "--json"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "Illegal 'json' option with the 'add-service' command\n")
    );
}

#[test]
fn table_view_for_people() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], TABLE).code, 0);
    // Traffic, so that a service's totals differ from each real server's
    // counters: 3 requests, round robin over 2 real servers on the director
    // itself (local forwarding: the one web server answers for both).
    let client = netns::Namespace::new("cli-table").expect("namespace");
    netns::link_to(&client, "dir0", "10.34.0.1/24", "cli0", "10.34.0.2/24").expect("link");
    netns::ip(&["addr", "add", "10.34.0.3/32", "dev", "dir0"]).expect("address");
    let vip = "10.34.0.1:80".parse().expect("address");
    let _server = http::Server::start("director", vip).expect("server");
    reference::ipvsadm_ok(&["-A", "-t", "10.34.0.1:80", "-s", "rr"]);
    reference::ipvsadm_ok(&["-a", "-t", "10.34.0.1:80", "-r", "10.34.0.1", "-g"]);
    reference::ipvsadm_ok(&["-a", "-t", "10.34.0.1:80", "-r", "10.34.0.3", "-g"]);
    client
        .run(|| {
            for _ in 0..3 {
                http::get(vip, Duration::from_secs(5)).expect("request");
            }
        })
        .expect("client");

    // ipvsadm-rs with COLUMNS set to `columns`, or unset; stdout a pipe.
    let table = |args: &[&str], columns: Option<u16>| {
        let mut command = Command::new(common::OURS);
        command.args(args);
        match columns {
            Some(c) => command.env("COLUMNS", c.to_string()),
            None => command.env_remove("COLUMNS"),
        };
        let out = command.output().expect("ipvsadm-rs runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            (out.status.code(), stderr.as_ref()),
            (Some(0), ""),
            "{args:?}"
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    // The cells of the body row whose first cell is `first` (the preset
    // draws `│` outside, `┆` between cells).
    let row = |out: &str, first: &str| -> Vec<String> {
        out.lines()
            .map(|l| {
                l.trim_start_matches('│')
                    .trim_end_matches('│')
                    .split('┆')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .find(|cells| cells[0].trim() == first)
            .unwrap_or_else(|| panic!("no row {first}:\n{out}"))
    };
    let widest = |out: &str| out.lines().map(|l| l.chars().count()).max().unwrap_or(0);

    // The service's totals on its own row, its real servers below it. The
    // kernel folds counters into what it reports every 2 seconds: read
    // until they are all in.
    let counts = |out: &str| -> [u64; 3] {
        let header = row(out, "Service / real server");
        let conns = header
            .iter()
            .position(|h| h.trim() == "Conns")
            .expect("Conns");
        let count = |first: &str| -> u64 {
            let cell = row(out, first)[conns].clone();
            // Right-aligned: one space of padding after the number, the
            // rest before it.
            assert_eq!(cell.len() - cell.trim_end().len(), 1, "{cell:?}\n{out}");
            assert!(cell.starts_with("  "), "not right-aligned: {cell:?}\n{out}");
            cell.trim().parse().expect("a count")
        };
        let branch = |addr: &str| {
            let first = format!("├─ {addr}");
            if out.contains(&format!(" {first} ")) {
                first
            } else {
                format!("└─ {addr}")
            }
        };
        [
            count("tcp 10.34.0.1:80"),
            count(&branch("10.34.0.1:80")),
            count(&branch("10.34.0.3:80")),
        ]
    };
    let mut tries = 0;
    let out = loop {
        let out = table(&["-L", "--format", "table", "--stats"], Some(200));
        let [total, one, two] = counts(&out);
        if (total, one + two) == (3, 3) || tries == 40 {
            break out;
        }
        tries += 1;
        std::thread::sleep(Duration::from_millis(500));
    };
    let [total, one, two] = counts(&out);
    assert_eq!(total, 3, "{out}");
    assert_eq!((one + two, one.min(two)), (3, 1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(" tcp 10.34.0.1:80 "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        lines[at + 1].contains("├─ 10.34.0.") && lines[at + 2].contains("└─ 10.34.0."),
        "{out}"
    );
    assert!(
        out.contains("tcp 10.30.0.1:80") && out.contains("192.0.2.1:8080"),
        "{out}"
    );
    assert!(out.starts_with('┌'), "{out}");

    // The table fits the width it is given, and 80 columns without one.
    for args in [
        &["-L", "--format", "table"][..],
        &["-L", "--format", "table", "--stats"],
        &["-L", "--format", "table", "--rate", "--thresholds"],
        &["-L", "--format", "table", "--persistent-conn", "--tun-info"],
        &["-L", "--format", "table", "-c"],
        &["-L", "--format", "table", "--timeout"],
    ] {
        for columns in [40, 60, 80, 100, 132] {
            let out = table(args, Some(columns));
            assert!(widest(&out) <= usize::from(columns), "{args:?}\n{out}");
        }
        let out = table(args, None);
        assert!(widest(&out) <= 80, "{args:?}\n{out}");
    }
    // Given room, nothing wraps: one line per service (4) and real server
    // (6), and 4 of borders and header.
    let wide = table(&["-L", "--format", "table"], Some(300));
    assert_eq!(wide.lines().count(), 4 + 6 + 4, "{wide}");

    let t = table(&["-L", "--timeout", "--format", "table"], None);
    assert!(t.contains("900s") && t.contains("TCP FIN"), "{t}");
    let bad = ours(&["-L", "--format", "yaml"]);
    assert_eq!(
        (bad.code, bad.stderr.as_str()),
        (
            2,
            "unknown output format `yaml' (use ipvsadm, table or json)\n"
        )
    );
}

#[test]
fn listing_json_applied_after_a_flush_gives_the_same_table() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], TABLE).code, 0);
    let before = reference::ipvsadm_ok(&["-Sn"]);
    let listing = ours(&["-L", "--json", "--stats"]).stdout;
    validated(&listing);
    ours(&["-C"]);
    let diff = ours_with(&["diff", "-f", "-"], &listing);
    assert_eq!(diff.code, 1, "differences make diff exit 1");
    assert_eq!(diff.stdout.lines().count(), 3 + 4, "{}", diff.stdout);
    let dry = ours_with(&["apply", "--dry-run", "-f", "-"], &listing);
    assert!(
        dry.stdout
            .ends_with("7 changes planned (dry run: nothing changed)\n"),
        "{}",
        dry.stdout
    );
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), "");
    let applied = ours_with(&["apply", "-f", "-"], &listing);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(
        applied.stdout.ends_with("7 changes applied\n"),
        "{}",
        applied.stdout
    );
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), before);
    let again = ours_with(&["apply", "-f", "-"], &listing);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, "0 changes applied\n")
    );
    assert_eq!(ours_with(&["diff", "-f", "-"], &listing).code, 0);
    // Bad files: a clear message, nothing applied.
    let typo = ours_with(
        &["apply", "-f", "-"],
        r#"{"services": [{"protocol": "tcp", "address": "10.30.0.2", "port": 80, "weight": 3}]}"#,
    );
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains(
            "line 1 column 71: services[0]: unknown field `weight`, expected one of `family`, "
        ) && !typo.stderr.contains("`stats`"),
        "{}",
        typo.stderr
    );
    // In a real server: its path, and only configuration fields as expected.
    let typo = ours_with(
        &["apply", "-f", "-"],
        "{\"services\": [{\"protocol\": \"tcp\", \"address\": \"10.30.0.2\", \"port\": 80,\n  \"destinations\": [{\"address\": \"192.0.2.1\"}, {\"address\": \"192.0.2.2\", \"wieght\": 3}]}]}",
    );
    assert_eq!(
        (typo.code, typo.stderr.as_str()),
        (
            2,
            "ipvsadm: read desired state: invalid argument: line 2 column 71: services[0].destinations[1]: unknown field `wieght`, expected one of `address`, `port`, `forward`, `tunnel`, `weight`, `upper_threshold`, `lower_threshold`\n"
        )
    );
    let missing = ours(&["apply", "-f", "/nonexistent.json"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("/nonexistent.json: No such file or directory"),
        "{}",
        missing.stderr
    );
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), before);
}

#[test]
fn schema_1_files_still_apply() {
    netns::enter_fresh();
    // A listing of schema 1 (what earlier versions printed).
    let v1 = r#"{"schema_version": 1, "services": [{"family": "ipv4", "protocol": "udp",
        "address": "10.34.0.1", "port": 53, "scheduler": "rr",
        "persistence": {"timeout": 60, "netmask": "255.255.255.0"}, "one_packet": false,
        "destinations": [{"address": "192.0.2.3", "port": 53, "forward": "route", "weight": 2,
            "upper_threshold": 0, "lower_threshold": 0}]}]}"#;
    let out = ours_with(&["apply", "-f", "-"], v1);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let saved = reference::ipvsadm_ok(&["-Sn"]);
    assert!(
        saved.contains("-A -u 10.34.0.1:53 -s rr -p 60 -M 255.255.255.0")
            && saved.contains("-a -u 10.34.0.1:53 -r 192.0.2.3:53 -g -w 2"),
        "{saved}"
    );
    // Listed as schema 2, which applies as it is: nothing to change.
    let listing = ours(&["-L", "--json"]).stdout;
    let doc = validated(&listing);
    assert_eq!(
        doc["services"][0]["persistence"],
        json(r#"{"timeout": 60, "netmask": "255.255.255.0", "prefix_length": 24}"#)
    );
    assert_eq!(ours_with(&["diff", "-f", "-"], &listing).code, 0);
}

#[test]
fn connection_listing_matches_the_reference() {
    netns::enter_fresh();
    let client = netns::Namespace::new("cli-conns").expect("namespace");
    netns::link_to(&client, "dir0", "10.33.0.1/24", "cli0", "10.33.0.2/24").expect("link");
    let vip = "10.33.0.1:80".parse().expect("address");
    let _server = http::Server::start("director", vip).expect("server");
    reference::ipvsadm_ok(&["-A", "-t", "10.33.0.1:80", "-s", "rr", "-p", "120"]);
    reference::ipvsadm_ok(&["-a", "-t", "10.33.0.1:80", "-r", "10.33.0.1", "-g"]);
    client
        .run(|| {
            for _ in 0..3 {
                http::get(vip, Duration::from_secs(5)).expect("request");
            }
        })
        .expect("client");
    for args in [&["-Lnc"][..], &["-L", "-c"], &["-Lnc", "--persistent-conn"]] {
        // The expiry counts down each second: read both within one second.
        let mut tries = 0;
        loop {
            let mine = ours(args);
            let theirs = theirs_with(args, "");
            if (mine.stdout.as_str(), mine.code) == (theirs.stdout.as_str(), theirs.code) {
                assert!(mine.stdout.lines().count() >= 2 + 4, "{}", mine.stdout);
                break;
            }
            tries += 1;
            assert!(
                tries < 5,
                "{args:?}:\n{}\n---\n{}",
                theirs.stdout,
                mine.stdout
            );
        }
    }
    let conns = validated(&ours(&["-Lnc", "--json"]).stdout);
    let rows = conns["connections"].as_array().expect("rows");
    // Three connections and the persistence template (client port 0).
    assert_eq!(rows.len(), 4, "{conns}");
    let endpoint = |address: &str, port: u16| serde_json::json!({"address": address, "port": port});
    assert_eq!(
        rows.iter()
            .filter(|r| r["client"] == endpoint("10.33.0.2", 0)
                && r["virtual"] == endpoint("10.33.0.1", 80)
                && r["destination"] == endpoint("10.33.0.1", 80))
            .count(),
        1,
        "{conns}"
    );
    assert!(rows.iter().all(|r| r["protocol"] == "tcp"), "{conns}");
}

#[test]
fn unprivileged_callers_get_ipvsadms_message() {
    netns::enter_fresh();
    let as_nobody = |program: &str| {
        let out = Command::new(program)
            .arg0("ipvsadm")
            .arg("-Ln")
            .uid(65534)
            .gid(65534)
            .output()
            .expect("runs");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let theirs = as_nobody(&reference::path().to_string_lossy());
    let mine = as_nobody(env!("CARGO_BIN_EXE_ipvsadm-rs"));
    assert_eq!(mine, theirs);
    assert_eq!(mine.2, Some(2));
    assert!(
        mine.1
            .starts_with("Can't initialize ipvs: Permission denied (you must be root)\n"),
        "{}",
        mine.1
    );
}

#[test]
fn invoked_under_another_name_it_says_that_name() {
    netns::enter_fresh();
    let out = Command::new(env!("CARGO_BIN_EXE_ipvsadm-rs"))
        .arg("-t")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = env!("CARGO_BIN_EXE_ipvsadm-rs");
    assert_eq!(
        stderr,
        format!("Try `{name} -h' or '{name} --help' for more information.\n")
    );
    assert_eq!(out.status.code(), Some(255));
}
