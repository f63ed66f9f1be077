//! ipvsd against the real kernel, in the test VM: real HTTP servers in a
//! namespace of their own behind a NAT virtual service, a client in
//! another, ipvsd started as a child process on a keepalived.conf the
//! test writes; every assertion reads the table with Debian's ipvsadm 1.31.
//!
//! Network (each test's own namespaces):
//! ```text
//!  client 10.1.0.2 --- 10.1.0.1 director (ipvsd, VIP 10.0.0.100 on lo) 10.0.0.1 --- real servers 10.0.0.11, .12
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::http::{self, HeldRequest, Server};
use testbed::netns::{self, Namespace};
use testbed::reference::ipvsadm_ok;

const VIP: &str = "10.0.0.100:80";

/// The configuration, with rs2 at this weight (or without rs2); notify
/// FIFO and scripts in `dir`.
fn conf(weight2: Option<u32>, dir: &std::path::Path) -> String {
    let dir = dir.display();
    let rs2 = match weight2 {
        Some(w) => format!(
            "  real_server 10.0.0.12 8080 {{
    weight {w}
    TCP_CHECK {{
      connect_timeout 1
      retry 0
    }}
  }}
"
        ),
        None => String::new(),
    };
    format!(
        "global_defs {{
  router_id kernel-test
  lvs_timeouts tcp 901 tcpfin 61 udp 301
  lvs_notify_fifo {dir}/fifo
}}
virtual_server 10.0.0.100 80 {{
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 10.0.0.11 8080 {{
    weight 1
    notify_up \"/bin/sh -c 'echo up >> {dir}/rs1.events'\"
    notify_down \"/bin/sh -c 'echo down >> {dir}/rs1.events'\"
    HTTP_GET {{
      url {{
        path /
      }}
      connect_timeout 1
      retry 0
    }}
  }}
{rs2}}}
"
    )
}

/// `ipvsadm -Sn` lines of the VIP's service (its `-A` line first).
fn vip_lines() -> Vec<String> {
    ipvsadm_ok(&["-Sn"])
        .lines()
        .filter(|l| l.contains("10.0.0.100:80"))
        .map(str::to_owned)
        .collect()
}

fn real_server_line(rs: &str) -> Option<String> {
    vip_lines()
        .into_iter()
        .find(|l| l.contains(&format!("-r {rs}")))
}

/// Polls `f` every 50 ms until it holds or `within` passes; the time taken.
fn wait_for(within: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{what}: not within {within:?}; table:\n{}",
            ipvsadm_ok(&["-Sn"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_rs(ns: &Namespace, name: &str, addr: &str) -> Server {
    let addr: SocketAddr = addr.parse().unwrap();
    ns.run(|| Server::start(name, addr)).unwrap().unwrap()
}

/// `GET path` from the status API (in the director's namespace): the body.
fn api_get(path: &str) -> String {
    let mut c = TcpStream::connect("127.0.0.1:9613").expect("status API");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    assert!(head.contains(" 200 "), "{head}");
    body.to_owned()
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ipvsd started on the keepalived.conf at `conf`, logging to
/// `dir/ipvsd.log`.
fn start_ipvsd(conf: &std::path::Path, dir: &std::path::Path) -> Daemon {
    let log = std::fs::File::create(dir.join("ipvsd.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .arg("--keepalived")
        .arg(conf)
        .stdin(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("ipvsd starts");
    Daemon(child)
}

#[test]
fn ipvsd_keeps_the_table_right_reloads_without_loss_and_stops_cleanly() {
    let (rs, client) = network();
    let timeouts_before = ipvsadm_ok(&["-L", "--timeout"]);

    let mut rs1 = Some(start_rs(&rs, "rs1", "10.0.0.11:8080"));
    let _rs2 = start_rs(&rs, "rs2", "10.0.0.12:8080");
    // Another tool's service, which ipvsd must leave alone.
    ipvsadm_ok(&["-A", "-t", "10.0.0.200:80", "-s", "wlc"]);
    ipvsadm_ok(&[
        "-a",
        "-t",
        "10.0.0.200:80",
        "-r",
        "10.0.0.11:8080",
        "-m",
        "-w",
        "5",
    ]);
    let other = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.contains("10.0.0.200"))
            .map(str::to_owned)
            .collect()
    };
    let other_before = other(&ipvsadm_ok(&["-Sn"]));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    std::fs::write(&path, conf(Some(1), dir.path())).unwrap();
    // The notify FIFO, read by a thread (ipvsd opens it read-write, so the
    // open here returns once ipvsd has started).
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo_lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = fifo_lines.clone();
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::open(&fifo).unwrap();
        let mut buf = [0u8; 512];
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut daemon = start_ipvsd(&path, dir.path());
    let pid = Pid::from_raw(i32::try_from(daemon.0.id()).unwrap());
    let show_log = || std::fs::read_to_string(dir.path().join("ipvsd.log")).unwrap_or_default();

    // The table appears (keepalived without alpha: both in at once).
    wait_for(Duration::from_secs(10), "the table appears", || {
        vip_lines().len() == 3
    });
    assert_eq!(vip_lines()[0], "-A -t 10.0.0.100:80 -s rr");
    assert_eq!(
        real_server_line("10.0.0.11:8080").unwrap(),
        "-a -t 10.0.0.100:80 -r 10.0.0.11:8080 -m -w 1"
    );
    assert!(
        ipvsadm_ok(&["-L", "--timeout"]).contains("901 61 301"),
        "lvs_timeouts set"
    );
    // Traffic through the director from the client.
    let vip: SocketAddr = VIP.parse().unwrap();
    let answers: Vec<String> = (0..4)
        .map(|_| {
            client
                .run(|| http::get(vip, Duration::from_secs(5)))
                .unwrap()
                .unwrap()
        })
        .collect();
    assert!(
        answers.contains(&"rs1".to_owned()) && answers.contains(&"rs2".to_owned()),
        "{answers:?}"
    );

    // A real server stopped is out within fall (1) x delay_loop (1 s) +
    // connect_timeout (1 s) = 2 s; slack 3 s for the software-emulated VM
    // (a probe's refusal is immediate; ipvsadm itself takes ~0.1 s there).
    drop(rs1.take());
    let took = wait_for(Duration::from_secs(5), "rs1 out", || {
        real_server_line("10.0.0.11:8080").is_none()
    });
    println!("rs1 out after {took:?}");
    for _ in 0..6 {
        let body = client
            .run(|| http::get(vip, Duration::from_secs(5)))
            .unwrap();
        assert_eq!(body.unwrap(), "rs2", "no request fails once rs1 is out");
    }
    // Back after it answers again (rise 1: the next check).
    rs1 = Some(start_rs(&rs, "rs1", "10.0.0.11:8080"));
    let took = wait_for(Duration::from_secs(5), "rs1 back", || {
        real_server_line("10.0.0.11:8080").is_some()
    });
    println!("rs1 back after {took:?}");

    // A real server deleted by hand comes back within one cycle (1 s here;
    // slack as above).
    ipvsadm_ok(&["-d", "-t", VIP, "-r", "10.0.0.12:8080"]);
    let took = wait_for(Duration::from_secs(4), "rs2 restored", || {
        real_server_line("10.0.0.12:8080").is_some()
    });
    println!("rs2 restored after {took:?}");
    // The service deleted by hand too.
    ipvsadm_ok(&["-D", "-t", VIP]);
    wait_for(Duration::from_secs(4), "service restored", || {
        vip_lines().len() == 3
    });

    // Reload with one weight changed, with a connection held open through
    // the virtual service across it.
    let held = client
        .run(|| HeldRequest::open(vip, Duration::from_secs(10)))
        .unwrap()
        .unwrap();
    let before = vip_lines();
    std::fs::write(&path, conf(Some(3), dir.path())).unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    wait_for(Duration::from_secs(5), "new weight", || {
        real_server_line("10.0.0.12:8080").is_some_and(|l| l.ends_with("-w 3"))
    });
    let after = vip_lines();
    let changed: Vec<_> = before.iter().zip(&after).filter(|(a, b)| a != b).collect();
    assert_eq!(
        changed.len(),
        1,
        "only that weight: {before:?} -> {after:?}"
    );
    assert!(changed[0].1.contains("10.0.0.12:8080"));
    let body = client
        .run(move || held.finish())
        .unwrap()
        .expect("the held connection still works");
    assert!(body == "rs1" || body == "rs2", "{body}");
    // A bad configuration is refused and the running one stays.
    std::fs::write(
        &path,
        "virtual_server 10.0.0.100 80 {\n  no_such_keyword\n}\n",
    )
    .unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(vip_lines(), after);

    // A reload that removes rs2 drains it: weight 0 while connections are
    // open through it (two held requests: rr sends one to each real
    // server), and both complete.
    let held: Vec<HeldRequest> = (0..2)
        .map(|_| {
            client
                .run(|| HeldRequest::open(vip, Duration::from_secs(10)))
                .unwrap()
                .unwrap()
        })
        .collect();
    std::fs::write(&path, conf(None, dir.path())).unwrap();
    kill(pid, Signal::SIGHUP).unwrap();
    wait_for(Duration::from_secs(5), "rs2 drained", || {
        real_server_line("10.0.0.12:8080").is_some_and(|l| l.ends_with("-w 0"))
    });
    assert_eq!(
        real_server_line("10.0.0.11:8080").unwrap(),
        "-a -t 10.0.0.100:80 -r 10.0.0.11:8080 -m -w 1",
        "rs1 untouched"
    );
    let mut bodies: Vec<String> = held
        .into_iter()
        .map(|h| {
            client
                .run(move || h.finish())
                .unwrap()
                .expect("no connection is cut")
        })
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["rs1", "rs2"]);
    // New connections all go to rs1 while rs2 drains.
    for _ in 0..4 {
        let body = client
            .run(|| http::get(vip, Duration::from_secs(5)))
            .unwrap();
        assert_eq!(body.unwrap(), "rs1");
    }

    // The status API and /metrics answer and parse.
    let status = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .arg("status")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/status.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    if let Err(e) = validator.validate(&doc) {
        panic!("{e}\n{doc:#}");
    }
    assert_eq!(doc["counters"]["reloads"], 2);
    assert_eq!(doc["counters"]["reload_errors"], 1);
    assert_eq!(doc["virtual_servers"][0]["services"][0]["present"], true);
    let metrics = api_get("/metrics");
    let scrape =
        prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let weight = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "node_ipvs_backend_weight"
                && s.labels.get("remote_address") == Some("10.0.0.12")
        })
        .expect("a weight sample");
    assert!(
        matches!(weight.value, prometheus_parse::Value::Gauge(w) if w == 0.0),
        "draining"
    );
    let conns = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "ipvsd_service_connections_total")
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum::<f64>();
    assert!(conns >= 1.0, "connections were counted: {metrics}");

    // SIGTERM: ipvsd's service removed, the other one left, timeouts put back, exit 0.
    kill(pid, Signal::SIGTERM).unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ipvsd did not stop:\n{}",
            show_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "exit {code:?}\n{}", show_log());
    let table = ipvsadm_ok(&["-Sn"]);
    assert!(!table.contains("10.0.0.100"), "{table}");
    assert_eq!(
        other(&table),
        other_before,
        "the other tool's service is untouched"
    );
    assert_eq!(
        ipvsadm_ok(&["-L", "--timeout"]),
        timeouts_before,
        "timeouts put back"
    );
    let log = show_log();
    assert!(log.contains("DOWN"), "state changes are logged:\n{log}");
    println!("ipvsd log:\n{log}");
    // keepalived's notify FIFO lines and the notify scripts.
    reader.join().unwrap();
    let lines = fifo_lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        "RS [10.0.0.11]:tcp:8080 [10.0.0.100]:tcp:80 DOWN\nRS [10.0.0.11]:tcp:8080 [10.0.0.100]:tcp:80 UP\n"
    );
    let events = std::fs::read_to_string(dir.path().join("rs1.events")).unwrap();
    assert_eq!(events, "down\nup\n");
    drop(rs1);
}

/// The director (this thread's fresh namespace) with the real servers'
/// and the client's namespaces wired as in the module's picture (the real
/// servers' side has 10.0.0.11, .12 and .13); gives (real servers, client).
fn network() -> (Namespace, Namespace) {
    netns::enter_fresh();
    let rs = Namespace::new("ipvsd-rs").unwrap();
    let client = Namespace::new("ipvsd-client").unwrap();
    netns::link_to(&rs, "dir-rs", "10.0.0.1/24", "rs0", "10.0.0.11/24").unwrap();
    for a in ["10.0.0.12/24", "10.0.0.13/24"] {
        rs.ip(&["addr", "add", a, "dev", "rs0"]).unwrap();
    }
    rs.ip(&["route", "add", "default", "via", "10.0.0.1"])
        .unwrap();
    netns::link_to(&client, "dir-cl", "10.1.0.1/24", "cl0", "10.1.0.2/24").unwrap();
    client
        .ip(&["route", "add", "default", "via", "10.1.0.1"])
        .unwrap();
    netns::ip(&["addr", "add", "10.0.0.100/32", "dev", "lo"]).unwrap();
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").unwrap();
    (rs, client)
}

#[test]
fn alpha_quorum_and_the_sorry_server_follow_keepalived() {
    let (rs, client) = network();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    // Quorum 2 of two weight-1 real servers; .12 is inhibited on failure;
    // alpha: nothing is in before its first check.
    let checker = "TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }";
    std::fs::write(
        &path,
        format!(
            "virtual_server 10.0.0.100 80 {{
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  alpha
  quorum 2
  quorum_up \"/bin/sh -c 'echo up >> {d}/quorum'\"
  quorum_down \"/bin/sh -c 'echo down >> {d}/quorum'\"
  sorry_server 10.0.0.13 8080
  real_server 10.0.0.11 8080 {{
    {checker}
  }}
  real_server 10.0.0.12 8080 {{
    inhibit_on_failure
    {checker}
  }}
}}
",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let _sorry = start_rs(&rs, "sorry", "10.0.0.13:8080");
    let _daemon = start_ipvsd(&path, dir.path());
    // alpha, both real servers down (nothing listens): quorum lost from the
    // start, the sorry server in, the inhibited real server at weight 0.
    let sorry_table = vec![
        "-A -t 10.0.0.100:80 -s rr".to_owned(),
        "-a -t 10.0.0.100:80 -r 10.0.0.12:8080 -m -w 0".to_owned(),
        "-a -t 10.0.0.100:80 -r 10.0.0.13:8080 -m -w 1".to_owned(),
    ];
    let sorted = || {
        let mut v = vip_lines();
        v.sort();
        v
    };
    wait_for(Duration::from_secs(10), "the sorry server in", || {
        sorted() == sorry_table
    });
    let vip: SocketAddr = VIP.parse().unwrap();
    let body = client
        .run(|| http::get(vip, Duration::from_secs(5)))
        .unwrap();
    assert_eq!(body.unwrap(), "sorry");
    // One real server up: live weight 1 < quorum 2, the sorry server stays.
    let rs1 = start_rs(&rs, "rs1", "10.0.0.11:8080");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sorted(), sorry_table, "below quorum: no change");
    // Both up: quorum gained, the sorry server out, both real servers in.
    let _rs2 = start_rs(&rs, "rs2", "10.0.0.12:8080");
    let full = vec![
        "-A -t 10.0.0.100:80 -s rr".to_owned(),
        "-a -t 10.0.0.100:80 -r 10.0.0.11:8080 -m -w 1".to_owned(),
        "-a -t 10.0.0.100:80 -r 10.0.0.12:8080 -m -w 1".to_owned(),
    ];
    wait_for(Duration::from_secs(5), "quorum gained", || sorted() == full);
    // One down again: quorum lost (1 < 2), the sorry server back.
    drop(rs1);
    wait_for(Duration::from_secs(5), "quorum lost", || {
        sorted() == sorry_table
    });
    // quorum_down at start too (keepalived's "Starting with quorum down"
    // notifies when a sorry server is configured), then up, then down.
    let quorum = || std::fs::read_to_string(dir.path().join("quorum")).unwrap_or_default();
    wait_for(
        Duration::from_secs(5),
        "quorum_down, quorum_up, quorum_down ran",
        || quorum() == "down\nup\ndown\n",
    );
}

#[test]
fn a_vrrp_instance_that_cannot_start_leaves_the_kernel_as_it_was() {
    let _ = network();
    let timeouts_before = ipvsadm_ok(&["-L", "--timeout"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    // Timeouts and both sync daemons are set before VRRP starts; the
    // instance's interface does not exist, so VRRP fails to start.
    std::fs::write(
        &path,
        "global_defs {
  lvs_timeouts tcp 902 tcpfin 62 udp 302
  lvs_sync_daemon dir-rs
}
vrrp_instance VI_1 {
  interface nosuch0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.150/24
  }
}
",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .arg("--keepalived")
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("ipvsd runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("nosuch0"), "{log}");
    // It got as far as setting them, then put them back.
    assert!(log.contains("lvs_timeouts set"), "{log}");
    assert!(log.contains("timeouts put back"), "{log}");
    assert_eq!(ipvsadm_ok(&["-L", "--timeout"]), timeouts_before);
    assert_eq!(ipvsadm_ok(&["-L", "--daemon"]), "", "sync daemons stopped");
}

/// The `sloppy_*` sysctl of this thread's namespace, as its file says.
fn switch(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/vs/{name}"))
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|e| format!("unreadable: {e}"))
}

#[test]
fn sloppy_switches_are_set_at_start_follow_a_reload_and_are_put_back_on_stop() {
    netns::enter_fresh();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ipvsd.toml");
    let conf = |switches: &str| {
        format!(
            "[global]\n{switches}\n\n[[services]]\nprotocol = \"tcp\"\naddress = \"10.0.0.100\"\nport = 80\nscheduler = \"mh\"\n\n[[services.destinations]]\naddress = \"10.0.0.11\"\nport = 80\n"
        )
    };
    std::fs::write(&path, conf("sloppy_tcp = true\nsloppy_sctp = false")).unwrap();
    let mut daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_ipvsd"))
            .arg("--config")
            .arg(&path)
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    wait_for(Duration::from_secs(20), "sloppy_tcp on", || {
        switch("sloppy_tcp") == "1"
    });
    assert_eq!(switch("sloppy_sctp"), "0");

    // Reload: sloppy_tcp no longer configured (put back to 0, as it was),
    // sloppy_sctp on.
    std::fs::write(&path, conf("sloppy_sctp = true")).unwrap();
    kill(Pid::from_raw(daemon.0.id() as i32), Signal::SIGHUP).unwrap();
    wait_for(
        Duration::from_secs(20),
        "sloppy_sctp on after reload",
        || switch("sloppy_sctp") == "1",
    );
    assert_eq!(switch("sloppy_tcp"), "0");

    // Stop: everything as before ipvsd.
    kill(Pid::from_raw(daemon.0.id() as i32), Signal::SIGTERM).unwrap();
    let status = daemon.0.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(switch("sloppy_tcp"), "0");
    assert_eq!(switch("sloppy_sctp"), "0");
}

/// The real servers (all NAT) of the VIP's service, head first (`ipvsadm
/// -Ln --nosort`; `-S` sorts always); none while the service is not there.
fn vip_list() -> Vec<String> {
    let listing = testbed::reference::ipvsadm(&["-Ln", "--nosort", "-t", VIP]).stdout;
    // `  -> 10.0.0.11:8080  Masq  1  0  0`
    listing
        .lines()
        .filter(|l| l.contains(" Masq "))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn an_mh_service_s_real_servers_are_kept_in_canonical_order() {
    let _ = network();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    // No checkers: every real server is up from the start. Listed out of
    // order on purpose.
    let servers: String = ["10.0.0.12", "10.0.0.13", "10.0.0.11"]
        .iter()
        .map(|a| format!("  real_server {a} 8080 {{\n    weight 1\n  }}\n"))
        .collect();
    std::fs::write(
        &path,
        format!(
            "virtual_server 10.0.0.100 80 {{\n  delay_loop 1\n  lvs_sched mh\n  lvs_method NAT\n  protocol TCP\n{servers}}}\n"
        ),
    )
    .unwrap();
    let _daemon = start_ipvsd(&path, dir.path());
    let canonical = ["10.0.0.11:8080", "10.0.0.12:8080", "10.0.0.13:8080"];
    wait_for(Duration::from_secs(10), "the table appears", || {
        vip_list().len() == 3
    });
    assert_eq!(vip_list(), canonical, "added last first");
    // #12 deleted and added again by hand: at the head, out of order.
    ipvsadm_ok(&["-d", "-t", VIP, "-r", "10.0.0.12:8080"]);
    ipvsadm_ok(&["-a", "-t", VIP, "-r", "10.0.0.12:8080", "-m", "-w", "1"]);
    assert_eq!(
        vip_list(),
        ["10.0.0.12:8080", "10.0.0.11:8080", "10.0.0.13:8080"]
    );
    // Drift: put back in order within a cycle or two (1 s; slack for the
    // emulated VM).
    let took = wait_for(Duration::from_secs(5), "the order repaired", || {
        vip_list() == canonical
    });
    println!("order repaired after {took:?}");
    let log = std::fs::read_to_string(dir.path().join("ipvsd.log")).unwrap_or_default();
    assert!(log.contains("(to reorder)"), "{log}");
}
