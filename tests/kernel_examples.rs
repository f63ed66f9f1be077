//! The examples of `examples/`, run against the real kernel in the VM (cargo
//! builds them for `cargo test`).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testbed::{http, netns, reference};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples").join(name))
        .expect("target folder");
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds the examples",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .output()
        .expect("the example runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn add_service_then_list_table() {
    netns::enter_fresh();
    let out = run(
        "add_service",
        &["10.20.0.1:80", "wrr", "10.0.0.21:8080=3", "10.0.0.22:8080"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.20.0.1:80 -s wrr\n-a -t 10.20.0.1:80 -r 10.0.0.21:8080 -m -w 3\n-a -t 10.20.0.1:80 -r 10.0.0.22:8080 -m -w 1\n"
    );
    let listed = run("list_table", &[]);
    let stdout = text(&listed.stdout);
    assert!(stdout.contains("tcp 10.20.0.1:80 wrr"), "{stdout}");
    assert!(
        stdout.contains("-> 10.0.0.21:8080 masq weight 3  active 0 inactive 0"),
        "{stdout}"
    );
    let json = run("list_table", &["--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        doc["services"][0]["destinations"].as_array().map(Vec::len),
        Some(2)
    );
    // A second add fails on the service, and says so, with a non-zero exit.
    let again = run("add_service", &["10.20.0.1:80", "wrr"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("service already exists"),
        "{}",
        text(&again.stderr)
    );
    // Bad input: a clear message, nothing applied.
    let bad = run("add_service", &["10.20.0.2:80", "rr", "10.0.0.23:80=-1"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("`-1` is not a weight"),
        "{}",
        text(&bad.stderr)
    );
    assert!(!reference::ipvsadm_ok(&["-Sn"]).contains("10.20.0.2"));
}

#[test]
fn apply_file_dry_run_then_apply() {
    netns::enter_fresh();
    let dir = std::env::temp_dir().join(format!("apply-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("table.json");
    std::fs::write(
        &file,
        r#"{"schema_version": 2, "services": [{"protocol": "udp", "address": "10.21.0.1", "port": 53, "scheduler": "rr",
            "destinations": [{"address": "10.0.0.31", "port": 53}, {"address": "10.0.0.32", "port": 53, "weight": 2}]}]}"#,
    )
    .expect("write");
    let path = file.to_str().expect("UTF-8 path");
    let dry = run("apply_file", &[path, "--dry-run"]);
    assert_eq!(text(&dry.stdout).lines().last(), Some("3 changes planned"));
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), "");
    let applied = run("apply_file", &[path]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -u 10.21.0.1:53 -s rr\n-a -u 10.21.0.1:53 -r 10.0.0.31:53 -g -w 1\n-a -u 10.21.0.1:53 -r 10.0.0.32:53 -g -w 2\n"
    );
    assert_eq!(
        text(&run("apply_file", &[path]).stdout),
        "0 changes applied\n"
    );
    std::fs::write(&file, r#"{"services": [{"protocol": "udp", "address": "10.21.0.1", "port": 53, "sheduler": "rr"}]}"#).expect("write");
    let typo = run("apply_file", &[path]);
    assert!(!typo.status.success());
    assert!(
        text(&typo.stderr).contains("unknown field `sheduler`"),
        "{}",
        text(&typo.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drain_server_waits_for_active_connections_then_deletes() {
    netns::enter_fresh();
    let client = netns::Namespace::new("drain-client").expect("namespace");
    netns::link_to(&client, "dir0", "10.22.0.1/24", "cli0", "10.22.0.2/24").expect("link");
    let vip = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 22, 0, 1)), 80);
    let _server = http::Server::start("director", vip).expect("server");
    reference::ipvsadm_ok(&["-A", "-t", "10.22.0.1:80", "-s", "rr"]);
    reference::ipvsadm_ok(&["-a", "-t", "10.22.0.1:80", "-r", "10.22.0.1:80", "-g"]);
    // A client holds a connection open (its request is not finished yet).
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let (opened_tx, opened_rx) = std::sync::mpsc::channel::<()>();
    let client_thread = std::thread::scope(|scope| {
        let client = &client;
        let handle = scope.spawn(move || {
            client
                .run(move || {
                    let mut conn = TcpStream::connect(vip).expect("connect");
                    conn.write_all(b"GET / HTTP/1.0\r\n")
                        .expect("half a request");
                    opened_tx.send(()).expect("signal");
                    held_rx.recv().expect("wait");
                    conn.write_all(b"\r\n").expect("finish the request");
                    let mut answer = String::new();
                    conn.read_to_string(&mut answer).expect("answer");
                    answer
                })
                .expect("client namespace")
        });
        opened_rx.recv().expect("connection open");
        let mut drain = Command::new(example("drain_server"))
            .args(["10.22.0.1:80", "10.22.0.1:80", "30"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("drain_server runs");
        // The weight goes to 0 at once, but the server stays while the connection is active.
        let start = Instant::now();
        while !reference::ipvsadm_ok(&["-Sn"]).contains("-r 10.22.0.1:80 -g -w 0") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "weight never went to 0"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            drain.try_wait().expect("status").is_none(),
            "drain_server must wait for the connection"
        );
        held_tx.send(()).expect("release");
        let status = drain.wait().expect("drain_server ends");
        let mut out = String::new();
        drain
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("output");
        assert!(status.success(), "{out}");
        assert!(
            out.contains("no active connections left") && out.contains("deleted"),
            "{out}"
        );
        handle.join().expect("client")
    });
    assert!(client_thread.contains("director"), "{client_thread}");
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 10.22.0.1:80 -s rr\n"
    );
}

#[test]
fn health_check_takes_a_failed_server_out_and_brings_it_back() {
    netns::enter_fresh();
    // Direct routing keeps the service's port: the real server listens on 80.
    let real: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 80);
    let server = http::Server::start("rs", real).expect("server");
    reference::ipvsadm_ok(&["-A", "-t", "10.23.0.1:80", "-s", "rr"]);
    reference::ipvsadm_ok(&[
        "-a",
        "-t",
        "10.23.0.1:80",
        "-r",
        "127.0.0.1:80",
        "-g",
        "-w",
        "3",
    ]);
    let mut checker = Command::new(example("health_check"))
        .args([
            "tcp",
            "10.23.0.1:80",
            "--interval",
            "100",
            "--timeout",
            "300",
            "--rise",
            "1",
            "--fall",
            "2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("health_check runs");
    let weight_becomes = |weight: &str| {
        let rule = format!("-r 127.0.0.1:80 -g -w {weight}\n");
        let start = Instant::now();
        loop {
            let saved = reference::ipvsadm_ok(&["-Sn"]);
            if saved.contains(&rule) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the weight never became {weight}:\n{saved}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    drop(server);
    weight_becomes("0");
    let _server = http::Server::start("rs", real).expect("server again");
    weight_becomes("3");
    let _ = checker.kill();
    let out = checker.wait_with_output().expect("health_check ends");
    let out = text(&out.stdout);
    assert!(out.starts_with("checking the real servers of "), "{out}");
    assert!(
        out.contains("127.0.0.1:80 DOWN after 2 failed probes: weight 3 -> 0"),
        "{out}"
    );
    assert!(
        out.contains("127.0.0.1:80 UP after 1 good probes: weight 0 -> 3"),
        "{out}"
    );
}
