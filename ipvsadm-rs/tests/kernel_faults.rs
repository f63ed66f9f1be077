//! Faults, on the real kernel in the VM: a bad line in the middle of `-R`
//! and of an `apply` file, an apply the kernel refuses midway (undone), two
//! applies racing, the table changing under listings and applies, a closed
//! stdout, a caller without privileges. (A kernel without IPVS:
//! kernel_noipvs_cli.rs; very large tables: kernel_large_table.rs.)

use std::io::{BufRead, BufReader};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipvs::{Destination, ForwardMethod, Ipvs, Scheduler, Service, ServiceKey};
use testbed::netns;

mod common;
use common::{OURS, config, file, json, ours, ours_with, run, theirs_with};

/// Our stderr, without the lines that name `-R` input lines.
fn without_notes(stderr: &str) -> String {
    stderr
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("ipvsadm: -R "))
        .collect()
}

#[test]
fn restore_with_bad_lines_in_the_middle_keeps_ipvsadms_semantics_and_names_them() {
    let input = "\
-A -t 10.40.0.1:80 -s rr
-a -t 10.40.0.1:80 -r 192.0.2.1 -m
-a -t 10.40.0.9:80 -r 192.0.2.1 -m
-A -t 10.40.0.2:80 -s nosuch
-a -t 10.40.0.1:80 -r 192.0.2.2 -w 99999999999
-A -t 10.40.0.3:80
";
    netns::enter_fresh();
    let theirs = theirs_with(&["-R"], input);
    let their_table = config();
    netns::enter_fresh();
    let mine = ours_with(&["-R"], input);
    // ipvsadm's semantics: kernel refusals (lines 3, 4) go on, a line that
    // does not parse (5) ends the restore with status 2; 6 never runs.
    assert_eq!((mine.code, &mine.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(mine.code, 2);
    assert_eq!(without_notes(&mine.stderr), theirs.stderr);
    assert_eq!(config(), their_table);
    let saved = ours(&["-Sn"]).stdout;
    assert_eq!(
        saved,
        "-A -t 10.40.0.1:80 -s rr\n-a -t 10.40.0.1:80 -r 192.0.2.1:80 -m -w 1\n"
    );
    // After each of ipvsadm's messages, the line that caused it.
    let messages: Vec<&str> = theirs.stderr.lines().collect();
    assert_eq!(messages.len(), 3, "{}", theirs.stderr);
    let expected = format!(
        "{}\nipvsadm: -R line 3: -a -t 10.40.0.9:80 -r 192.0.2.1 -m\n\
         {}\nipvsadm: -R line 4: -A -t 10.40.0.2:80 -s nosuch\n\
         {}\nipvsadm: -R line 5: -a -t 10.40.0.1:80 -r 192.0.2.2 -w 99999999999\n\
         ipvsadm: -R stopped at line 5: the lines after it were not run\n",
        messages[0], messages[1], messages[2]
    );
    assert_eq!(mine.stderr, expected);
}

#[test]
fn restore_reads_a_line_that_is_not_utf8_and_names_it() {
    netns::enter_fresh();
    let mut child = Command::new(OURS)
        .arg0("ipvsadm")
        .arg("-R")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(b"-A -t 10.41.0.1:80\n-A -t 10.41.0.\xff:80\n-A -t 10.41.0.3:80\n");
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "illegal virtual server address[:port] specified\n\
         ipvsadm: -R line 2: -A -t 10.41.0.\u{fffd}:80\n\
         ipvsadm: -R stopped at line 2: the lines after it were not run\n"
    );
    assert_eq!(ours(&["-Sn"]).stdout, "-A -t 10.41.0.1:80 -s wlc\n");
}

/// A table to start from: a service to edit, one to delete, one kept.
const START: &str = "\
-A -t 10.42.0.1:80 -s rr
-a -t 10.42.0.1:80 -r 192.0.2.1:80 -m -w 1
-a -t 10.42.0.1:80 -r 192.0.2.2:80 -m -w 1
-A -u 10.42.0.1:53 -s wlc
-a -u 10.42.0.1:53 -r 192.0.2.5:53 -g -w 4
-A -t 10.42.0.2:443 -s lc -p 300
-a -t 10.42.0.2:443 -r 192.0.2.9:443 -g -w 2
";

/// The desired state: 10.42.0.1:80 edited (wrr, one server reweighted, one
/// replaced), 10.42.0.1:53 deleted, 10.42.0.2:443 kept, and two new
/// services, the first with the scheduler `sched`.
fn desired(sched: &str) -> String {
    format!(
        r#"{{
  "schema_version": 2,
  "services": [
    {{"protocol": "tcp", "address": "10.42.0.1", "port": 80, "scheduler": "wrr",
      "destinations": [
        {{"address": "192.0.2.1", "port": 80, "forward": "masq", "weight": 5}},
        {{"address": "192.0.2.3", "port": 80, "forward": "masq"}}
      ]}},
    {{"protocol": "tcp", "address": "10.42.0.2", "port": 443, "scheduler": "lc",
      "persistence": {{"timeout": 300}},
      "destinations": [{{"address": "192.0.2.9", "port": 443, "weight": 2}}]}},
    {{"protocol": "tcp", "address": "10.42.0.3", "port": 80, "scheduler": "{sched}",
      "destinations": [{{"address": "192.0.2.7", "port": 80}}]}},
    {{"protocol": "tcp", "address": "10.42.0.4", "port": 80, "scheduler": "rr",
      "destinations": [{{"address": "192.0.2.8", "port": 80}}]}}
  ]
}}
"#
    )
}

#[test]
fn apply_with_a_bad_line_in_the_middle_changes_nothing_and_names_the_line() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], START).code, 0);
    let before = config();
    // Line 13: a GUE tunnel without its port.
    let doc = desired("rr").replace(
        r#"{"address": "192.0.2.7", "port": 80}"#,
        "{\"address\": \"192.0.2.7\", \"port\": 80, \"forward\": \"tunnel\",\n       \"tunnel\": {\"type\": \"gue\"}}",
    );
    let out = ours(&["apply", "-f", &file("bad-middle", &doc)]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "ipvsadm: read desired state: invalid argument: line 13: service tcp 10.42.0.3:80: real server 192.0.2.7:80 tunnel weight 1: a GUE tunnel needs a port\n"
    );
    assert_eq!(config(), before);
    // A JSON syntax error (no comma after `"lc"`): its line and column.
    let broken = desired("rr").replacen("\"scheduler\": \"lc\",", "\"scheduler\": \"lc\"", 1);
    let out = ours(&["apply", "-f", &file("bad-syntax", &broken)]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with("ipvsadm: read desired state: invalid argument: line 10 column 7: "),
        "{}",
        out.stderr
    );
    assert_eq!(config(), before);
}

#[test]
fn apply_the_kernel_refuses_midway_is_undone_and_says_so() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], START).code, 0);
    let before = config();
    // The kernel has no scheduler `nosuch`: that one step fails after the
    // others (edits, a delete, adds) went through, and they are undone.
    let failing = file("refused", &desired("nosuch"));
    // --prune: the file is the whole table, so the plan has a delete too.
    let out = ours(&["apply", "--prune", "-f", &failing]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "failed: add service tcp 10.42.0.3:80 nosuch: add service: scheduler or persistence engine not found\n\
         failed: add real server 192.0.2.7:80 route weight 1 to tcp 10.42.0.3:80: add destination: no such service\n\
         apply failed: 7 changes were applied and then undone; the table is as it was found\n"
    );
    assert_eq!(config(), before, "the table is as it was found");
    // Kept on request: the table is then changed, and the status says so.
    let out = ours(&["apply", "--prune", "--no-rollback", "-f", &failing]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.ends_with(
            "apply failed: 7 changes were applied and kept (--no-rollback)\n\
             the table is neither as it was found nor as desired: read it with -Ln\n"
        ),
        "{}",
        out.stderr
    );
    assert_ne!(config(), before);
    // The same document with a real scheduler applies, and a second time
    // changes nothing.
    let good = file("good", &desired("wrr"));
    let out = ours(&["apply", "--prune", "-f", &good]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        ours(&["apply", "--prune", "-f", &good]).stdout,
        "0 changes applied\n"
    );
    assert_eq!(ours(&["diff", "--prune", "-f", &good]).code, 0);
}

/// A desired state of `count` services from `first` on, each with
/// `servers` real servers and the scheduler `sched`.
fn many(first: usize, count: usize, servers: usize, sched: &str) -> String {
    let services: Vec<String> = (first..first + count)
        .map(|i| {
            let dests: Vec<String> = (1..=servers)
                .map(|r| format!(r#"{{"address": "192.0.{r}.{}", "port": 80}}"#, i % 250 + 1))
                .collect();
            format!(
                r#"{{"protocol": "tcp", "address": "10.43.{}.{}", "port": 80, "scheduler": "{sched}", "destinations": [{}]}}"#,
                i / 250,
                i % 250 + 1,
                dests.join(", ")
            )
        })
        .collect();
    format!(
        "{{\"schema_version\": 2, \"services\": [\n{}\n]}}\n",
        services.join(",\n")
    )
}

/// Starts `ipvsadm-rs args`, not waiting for it.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(OURS)
        .arg0("ipvsadm")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs")
}

fn finish(child: std::process::Child) -> (i32, String) {
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn two_applies_racing_end_in_one_of_the_two_states() {
    netns::enter_fresh();
    let x = file("race-x", &many(0, 300, 2, "rr"));
    let y = file("race-y", &many(150, 300, 3, "wlc"));
    // Each state, as the table is after applying it alone (each file is
    // the whole table: --prune).
    assert_eq!(ours(&["apply", "--prune", "-f", &x]).code, 0);
    let state_x = config();
    assert_eq!(ours(&["apply", "--prune", "-f", &y]).code, 0);
    let state_y = config();
    assert_ne!(state_x, state_y);
    for round in 0..4 {
        ours(&["-C"]);
        let (first, second) = if round % 2 == 0 { (&x, &y) } else { (&y, &x) };
        let a = spawn(&["apply", "--prune", "-f", first]);
        let b = spawn(&["apply", "--prune", "-f", second]);
        let (a, b) = (finish(a), finish(b));
        assert_eq!((a.0, b.0), (0, 0), "round {round}: {a:?} {b:?}");
        let now = config();
        assert!(
            now == state_x || now == state_y,
            "round {round}: the table is neither state"
        );
    }
}

#[test]
fn an_apply_waits_for_the_lock_and_says_when_it_gives_up() {
    netns::enter_fresh();
    let doc = file("locked", &many(0, 3, 1, "rr"));
    let name = SocketAddr::from_abstract_name(ipvs::APPLY_LOCK_NAME).expect("name");
    let holder = UnixDatagram::bind_addr(&name).expect("the lock is free");
    let out = ours(&["apply", "--lock-timeout", "1", "-f", &doc]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "ipvsadm: apply desired state: busy: waited 1 s for another apply in this network namespace to end\n"
    );
    assert_eq!(ours(&["-Sn"]).stdout, "");
    // Released while an apply waits: it goes on.
    let waiting = spawn(&["apply", "--lock-timeout", "30", "-f", &doc]);
    std::thread::sleep(Duration::from_millis(500));
    drop(holder);
    let (code, stderr) = finish(waiting);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ours(&["-Sn"]).stdout.lines().count(), 6);
    // Any wait is a wait, however long (no overflow).
    let forever = ours(&[
        "apply",
        "--lock-timeout",
        "18446744073709551615",
        "-f",
        &doc,
    ]);
    assert_eq!(
        (forever.code, forever.stdout.as_str()),
        (0, "0 changes applied\n"),
        "{forever:?}"
    );
}

/// Adds and deletes services (and real servers) in the calling thread's
/// namespace until told to stop; how many changes it made.
fn churn(stop: Arc<AtomicBool>, keys: Vec<ServiceKey>, delete_too: bool) -> usize {
    let ipvs = Ipvs::new().expect("a handle");
    let mut changes = 0;
    while !stop.load(Ordering::Relaxed) {
        for (i, key) in keys.iter().enumerate() {
            let service = Service::new(*key).with_scheduler(Scheduler::SourceHashing);
            if ipvs.add_service(&service).is_ok() {
                changes += 1;
                let rs = Destination::new(
                    std::net::Ipv4Addr::new(198, 51, 100, (i % 250) as u8 + 1),
                    80,
                    ForwardMethod::Route,
                );
                let _ = ipvs.add_destination(key, &rs);
            }
            if delete_too && ipvs.delete_service(key).is_ok() {
                changes += 1;
            }
        }
    }
    changes
}

fn churner(
    keys: Vec<ServiceKey>,
    delete_too: bool,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let ns = std::fs::File::open("/proc/thread-self/ns/net").expect("namespace");
    let thread = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: joins this new thread to the test's namespace.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        churn(flag, keys, delete_too)
    });
    (stop, thread)
}

#[test]
fn listings_survive_the_table_changing_under_them() {
    netns::enter_fresh();
    assert_eq!(ours_with(&["-R"], START).code, 0);
    let keys: Vec<ServiceKey> = (0..200)
        .map(|i| ServiceKey::tcp(std::net::Ipv4Addr::new(10, 44, 0, i + 1), 80))
        .collect();
    let (stop, thread) = churner(keys, true);
    for _ in 0..15 {
        for args in [
            &["-Ln"][..],
            &["-Sn"],
            &["-Ln", "--stats"],
            &["-L", "--json"],
        ] {
            let out = ours(args);
            assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{args:?}");
            // The services that did not change are there, each once.
            let lines: Vec<&str> = out.stdout.lines().collect();
            let once = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count() == 1;
            if args[0] == "-L" && args.get(1) == Some(&"--json") {
                let doc = json(&out.stdout);
                let keys: Vec<String> = doc["services"]
                    .as_array()
                    .expect("services")
                    .iter()
                    .map(|s| format!("{}:{}:{}", s["protocol"], s["address"], s["port"]))
                    .collect();
                let mut unique = keys.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), keys.len(), "a service listed twice");
            } else if args[0] == "-Sn" {
                assert!(once("-A -t 10.42.0.2:443 "), "{args:?}:\n{}", out.stdout);
            } else {
                assert!(once("TCP  10.42.0.2:443 "), "{args:?}:\n{}", out.stdout);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let changes = thread.join().expect("churner");
    assert!(changes > 100, "the table did change ({changes} changes)");
    // Once still, the listing is ipvsadm's.
    assert_eq!(
        ours(&["-Sn"]).stdout,
        testbed::reference::ipvsadm_ok(&["-Sn"])
    );
}

#[test]
fn an_apply_racing_another_program_retries_or_undoes() {
    netns::enter_fresh();
    let doc = many(0, 150, 2, "rr");
    let keys: Vec<ServiceKey> = (0..150)
        .map(|i| ServiceKey::tcp(std::net::Ipv4Addr::new(10, 43, 0, i as u8 + 1), 80))
        .collect();
    let path = file("contended", &doc);
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        ours(&["-C"]);
        // The other program adds the same services with another scheduler.
        let (stop, thread) = churner(keys.clone(), false);
        let out = ours(&["apply", "-f", &path]);
        stop.store(true, Ordering::Relaxed);
        thread.join().expect("churner");
        match out.code {
            // Applied (after re-planning if it had to): the table is the
            // document, since the other program only adds what is there.
            0 => assert_eq!(ours(&["diff", "-f", &path]).code, 0, "{out:?}"),
            // Gave up: it says so and undid its part.
            1 => assert!(out.stderr.contains("undone"), "{out:?}"),
            other => panic!("status {other}: {out:?}"),
        }
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        outcomes.push(out.code);
        // Once still, applying again gets there.
        assert_eq!(ours(&["apply", "-f", &path]).code, 0);
        assert_eq!(ours(&["diff", "-f", &path]).code, 0);
    }
    println!("apply outcomes while contended: {outcomes:?}");
}

/// Runs `ipvsadm-rs args`, reads one line of its output and closes the pipe.
fn read_one_line_then_close(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(OURS)
        .arg0("ipvsadm")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = String::new();
    {
        let stdout = child.stdout.take().expect("stdout");
        let _ = BufReader::new(stdout).read_line(&mut first);
    } // closed here, as `| head -1` does
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        first,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_not_an_error_a_full_disk_is() {
    netns::enter_fresh();
    let doc = file("closed-stdout", &many(0, 3000, 2, "rr"));
    // The plan of 9,000 steps is far more than a pipe holds.
    for args in [
        &["diff", "-f", &doc][..],
        &["apply", "--dry-run", "-f", &doc],
    ] {
        let (code, first, stderr) = read_one_line_then_close(args);
        assert_eq!(
            (code, stderr.as_str()),
            (if args[0] == "diff" { 1 } else { 0 }, ""),
            "{args:?}"
        );
        assert!(first.starts_with("add service"), "{first}");
    }
    let (code, first, stderr) = read_one_line_then_close(&["apply", "-f", &doc]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(first.starts_with("add service"), "{first}");
    assert_eq!(
        ours(&["diff", "-f", &doc]).code,
        0,
        "the apply went on to the end"
    );
    for args in [
        &["-Ln"][..],
        &["-Sn"],
        &["-Ln", "--stats"],
        &["-L", "--json"],
        &["-L", "--format", "table"],
    ] {
        let (code, first, stderr) = read_one_line_then_close(args);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
        assert!(!first.is_empty(), "{args:?}");
    }
    // A full disk, though, is an error (ipvsadm would exit 0, its rules lost).
    let empty = file("closed-stdout-empty", r#"{"services": []}"#);
    for args in [&["-Sn"][..], &["apply", "--dry-run", "-f", &empty]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = Command::new(OURS)
            .arg0("ipvsadm")
            .args(args)
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "ipvsadm: writing standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn unprivileged_callers_are_told_why() {
    netns::enter_fresh();
    let doc = file("unprivileged", &many(0, 1, 1, "rr"));
    // Readable by the unprivileged user.
    let _ = std::fs::set_permissions(&doc, std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let as_nobody = |program: &str, args: &[&str], stdin: &str| {
        let mut child = Command::new(program)
            .arg0("ipvsadm")
            .args(args)
            .uid(65534)
            .gid(65534)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        if let Some(mut input) = child.stdin.take() {
            use std::io::Write;
            let _ = input.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let reference = testbed::reference::path().to_string_lossy().into_owned();
    for args in [&["-R"][..], &["-A", "-t", "10.45.0.1:80"], &["-Sn"]] {
        let theirs = as_nobody(&reference, args, "-A -t 10.45.0.1:80\n");
        let mine = as_nobody(OURS, args, "-A -t 10.45.0.1:80\n");
        assert_eq!(mine, theirs, "{args:?}");
        assert_eq!(mine.0, Some(2));
    }
    for cmd in ["apply", "diff"] {
        let (code, stdout, stderr) = as_nobody(OURS, &[cmd, "-f", &doc], "");
        assert_eq!((code, stdout.as_str()), (Some(2), ""), "{cmd}: {stderr}");
        assert!(
            stderr.contains("permission denied (IPVS needs CAP_NET_ADMIN, usually root)"),
            "{cmd}: {stderr}"
        );
    }
    assert_eq!(ours(&["-Sn"]).stdout, "");
    let _ = run(OURS, &["-C"], "");
}
