//! Route health injection against real BIRD 2 and the real kernel, in the
//! test VM: ipvsd writes its routes into table 200, the director's BIRD
//! learns them (`protocol kernel ... learn`) and announces them over eBGP
//! to a router's BIRD; every assertion reads the router's BIRD (`birdc show
//! route`), which is what the network sees.
//!
//! Network (this test's namespaces):
//! ```text
//!  router (BIRD, AS 65000) 10.5.0.2 --- 10.5.0.1 director (BIRD AS 65001, ipvsd)
//!                                                  VIP 192.0.2.10:80 -> real server 10.9.0.11:8080 (on lo)
//! ```

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testbed::netns::{self, Namespace};
use testbed::servers::RealServer;

const BIRD: &str = "/usr/sbin/bird";
const BIRDC: &str = "/usr/sbin/birdc";

/// A child process killed when dropped (BIRD, ipvsd).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// BIRD's eBGP session settings that make it come up in about a second.
const FAST_BGP: &str = "hold time 3; keepalive time 1; connect delay time 1; \
                        connect retry time 1; error wait time 1, 2;";

fn director_bird(table: u32) -> String {
    format!(
        "router id 10.5.0.1;
protocol device {{ }}
ipv4 table vips4;
protocol kernel ipvsd4 {{
  kernel table {table};
  learn;
  scan time 10;
  ipv4 {{ table vips4; import where net.len = 32 && krt_source = 201; export none; }};
}}
protocol bgp uplink {{
  local 10.5.0.1 as 65001;
  neighbor 10.5.0.2 as 65000;
  {FAST_BGP}
  ipv4 {{ table vips4; import none; export where net.len = 32; }};
}}
"
    )
}

fn router_bird() -> String {
    format!(
        "router id 10.5.0.2;
protocol device {{ }}
protocol bgp downlink {{
  local 10.5.0.2 as 65000;
  neighbor 10.5.0.1 as 65001;
  {FAST_BGP}
  ipv4 {{ import all; export none; }};
}}
"
    )
}

fn ipvsd_conf() -> String {
    "[route_health]
table = 200
protocol = 201
hold_down_up = 3
hold_down_down = 0
flap_hold = 8

[[services]]
protocol = \"tcp\"
address = \"192.0.2.10\"
port = 80
forward = \"masq\"
delay_loop = 1

[[services.destinations]]
address = \"10.9.0.11\"
port = 8080

[[services.destinations.checkers]]
type = \"tcp\"
connect_timeout = 1
retry = 0
"
    .to_owned()
}

/// `birdc -s SOCK ARGS...`: its output.
fn birdc(sock: &Path, args: &[&str]) -> String {
    let out = Command::new(BIRDC)
        .arg("-s")
        .arg(sock)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("birdc runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether the router's BIRD has a route to `net`.
fn router_has(sock: &Path, net: &str) -> bool {
    birdc(sock, &["show", "route", net]).contains(net)
}

/// Polls `f` every 100 ms until it holds or `within` passes; the time
/// taken.
fn wait_for(within: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f() {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts `f` stays false for `during`.
fn stays_false(during: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < during {
        assert!(!f(), "{what} after {:?}", start.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_bird(cmd: &mut Command, conf: &Path, sock: &Path, log: &Path) -> Killed {
    let log = std::fs::File::create(log).expect("bird log");
    Killed(
        cmd.arg("-f")
            .arg("-c")
            .arg(conf)
            .arg("-s")
            .arg(sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("bird starts"),
    )
}

/// The routes of table 200 in the director (`ip route show table 200`).
fn table_200() -> String {
    let out = Command::new("ip")
        .args(["route", "show", "table", "200"])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_shipped_bird_configuration_parses() {
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/bird-director.conf");
    let out = Command::new(BIRD)
        .args(["-p", "-c", conf])
        .output()
        .expect("bird runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn routes_follow_health_with_hold_down_through_bird() {
    netns::enter_fresh();
    let router = Namespace::new("router").expect("router namespace");
    netns::ip(&["link", "add", "vd", "type", "veth", "peer", "name", "vr"]).expect("veth");
    netns::ip(&["link", "set", "vr", "netns", router.name()]).expect("veth to the router");
    netns::ip(&["addr", "add", "10.5.0.1/24", "dev", "vd"]).expect("address");
    netns::ip(&["link", "set", "vd", "up"]).expect("up");
    router
        .ip(&["addr", "add", "10.5.0.2/24", "dev", "vr"])
        .expect("address");
    router.ip(&["link", "set", "vr", "up"]).expect("up");
    netns::ip(&["addr", "add", "10.9.0.11/32", "dev", "lo"]).expect("real server address");

    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path();
    let (d_conf, r_conf) = (d.join("director.bird"), d.join("router.bird"));
    let (d_sock, r_sock) = (d.join("director.ctl"), d.join("router.ctl"));
    std::fs::write(&d_conf, director_bird(200)).expect("write");
    std::fs::write(&r_conf, router_bird()).expect("write");
    let _d_bird = spawn_bird(&mut Command::new(BIRD), &d_conf, &d_sock, &d.join("d.log"));
    let _r_bird = spawn_bird(
        &mut router.command(BIRD),
        &r_conf,
        &r_sock,
        &d.join("r.log"),
    );
    let up = wait_for(Duration::from_secs(30), "BGP session established", || {
        birdc(&r_sock, &["show", "protocols", "downlink"]).contains("Established")
    });
    println!("BGP session established in {up:?}");

    // A crashed run's route (ours: protocol 201) and someone else's route
    // in the same table (protocol static): the first goes at start, the
    // second stays in the table, and BIRD's import filter (krt_source 201)
    // never announces it.
    netns::ip(&[
        "route",
        "add",
        "192.0.2.99/32",
        "dev",
        "lo",
        "table",
        "200",
        "proto",
        "201",
    ])
    .expect("stale route");
    netns::ip(&[
        "route",
        "add",
        "192.0.2.98/32",
        "dev",
        "lo",
        "table",
        "200",
        "proto",
        "static",
    ])
    .expect("foreign route");
    wait_for(
        Duration::from_secs(10),
        "the stale route at the router",
        || router_has(&r_sock, "192.0.2.99/32"),
    );

    let conf = d.join("ipvsd.toml");
    std::fs::write(&conf, ipvsd_conf()).expect("write");
    let log_path = d.join("ipvsd.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let mut ipvsd = Killed(
        Command::new(env!("CARGO_BIN_EXE_ipvsd"))
            .arg("--config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("ipvsd starts"),
    );
    let show_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // Start: the stale route is withdrawn; the VIP, whose real server does
    // not listen yet, is not announced.
    let stale_gone = wait_for(Duration::from_secs(10), "stale route withdrawn", || {
        !router_has(&r_sock, "192.0.2.99/32")
    });
    println!("stale route gone from the router {stale_gone:?} after ipvsd started");
    stays_false(
        Duration::from_secs(3),
        "VIP announced without a healthy service",
        || router_has(&r_sock, "192.0.2.10/32"),
    );
    assert!(table_200().contains("192.0.2.98"), "foreign route kept");
    assert!(
        !router_has(&r_sock, "192.0.2.98/32"),
        "foreign route announced"
    );

    // Healthy: announced after the 3 s hold-down, not before.
    let mut rs =
        RealServer::tcp("rs", "10.9.0.11:8080".parse().expect("address")).expect("real server");
    let announced = wait_for(Duration::from_secs(15), "VIP announced", || {
        router_has(&r_sock, "192.0.2.10/32")
    });
    println!(
        "VIP announced at the router {announced:?} after the real server started (hold_down_up 3 s, delay_loop 1 s)"
    );
    assert!(
        announced >= Duration::from_secs(3),
        "announced before the hold-down: {announced:?}\n{}",
        show_log()
    );
    assert!(
        table_200().contains("192.0.2.10 dev lo proto 201 scope host"),
        "{}",
        table_200()
    );

    // Status API and metrics say so.
    let status = http_get("/status");
    let body = status.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let doc: serde_json::Value = serde_json::from_str(body).expect("status JSON");
    let a = &doc["announcements"][0];
    assert_eq!(a["address"], "192.0.2.10", "{status}");
    assert_eq!(a["announced"], true, "{status}");
    assert_eq!(a["why_not"], serde_json::Value::Null, "{status}");
    let metrics = http_get("/metrics");
    assert!(
        metrics.contains("ipvsd_route_announced{address=\"192.0.2.10\"} 1"),
        "{metrics}"
    );

    // SIGHUP with new hold-downs: the healthy address stays announced.
    std::fs::write(
        &conf,
        ipvsd_conf().replace("hold_down_up = 3", "hold_down_up = 5"),
    )
    .expect("write");
    kill(Pid::from_raw(ipvsd.0.id() as i32), Signal::SIGHUP).expect("SIGHUP");
    wait_for(Duration::from_secs(10), "reloaded", || {
        show_log().contains("reloaded")
    });
    stays_false(Duration::from_secs(2), "VIP withdrawn by a reload", || {
        !router_has(&r_sock, "192.0.2.10/32")
    });

    // Failure: withdrawn at once (hold_down_down 0) once the checker sees it.
    rs.stop();
    let withdrawn = wait_for(Duration::from_secs(10), "VIP withdrawn", || {
        !router_has(&r_sock, "192.0.2.10/32")
    });
    println!(
        "VIP withdrawn at the router {withdrawn:?} after the real server stopped (delay_loop 1 s, connect_timeout 1 s)"
    );
    let metrics = http_get("/metrics");
    assert!(
        metrics.contains("ipvsd_route_withdrawals_total 1"),
        "{metrics}"
    );

    // Flap: healthy again at once, but the flap hold (8 s from the
    // withdrawal) keeps the route away; then it comes back.
    rs.start().expect("real server again");
    let back_from = Instant::now();
    stays_false(
        Duration::from_secs(5),
        "VIP back inside the flap hold",
        || router_has(&r_sock, "192.0.2.10/32"),
    );
    wait_for(
        Duration::from_secs(15),
        "VIP back after the flap hold",
        || router_has(&r_sock, "192.0.2.10/32"),
    );
    println!(
        "VIP back at the router {:?} after the real server restarted (flap_hold 8 s from the withdrawal)",
        back_from.elapsed()
    );

    // SIGTERM: withdrawn before ipvsd exits.
    let term = Instant::now();
    kill(Pid::from_raw(ipvsd.0.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    let status = ipvsd.0.wait().expect("ipvsd exits");
    assert!(status.success(), "{status:?}\n{}", show_log());
    assert!(!table_200().contains("proto 201"), "{}", table_200());
    let gone = wait_for(Duration::from_secs(10), "VIP withdrawn on SIGTERM", || {
        !router_has(&r_sock, "192.0.2.10/32")
    });
    println!(
        "SIGTERM: ipvsd exited and the VIP was gone from the router {:?} after the signal ({gone:?} after the exit)",
        term.elapsed()
    );
    assert!(table_200().contains("192.0.2.98"), "foreign route kept");
    assert!(
        !router_has(&r_sock, "192.0.2.98/32"),
        "foreign route announced"
    );

    // A keepalived.conf run with `--route-health`, then SIGKILL: nothing
    // withdraws, BIRD keeps announcing; `ipvsd withdraw-routes` (systemd's
    // ExecStopPost) does.
    let ka = d.join("keepalived.conf");
    std::fs::write(
        &ka,
        "virtual_server 192.0.2.10 80 {
  delay_loop 1
  lb_kind NAT
  protocol TCP
  real_server 10.9.0.11 8080 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
",
    )
    .expect("write");
    let rh = d.join("route-health.toml");
    std::fs::write(&rh, "[route_health]\nhold_down_up = 0\n").expect("write");
    let log = std::fs::File::create(&log_path).expect("log");
    let mut ipvsd = Killed(
        Command::new(env!("CARGO_BIN_EXE_ipvsd"))
            .arg("--keepalived")
            .arg(&ka)
            .arg("--route-health")
            .arg(&rh)
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("ipvsd starts"),
    );
    wait_for(
        Duration::from_secs(10),
        "VIP announced (keepalived.conf)",
        || router_has(&r_sock, "192.0.2.10/32"),
    );
    ipvsd.0.kill().expect("SIGKILL");
    let _ = ipvsd.0.wait();
    stays_false(
        Duration::from_secs(2),
        "VIP withdrawn after SIGKILL",
        || !router_has(&r_sock, "192.0.2.10/32"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .arg("withdraw-routes")
        .arg("--keepalived")
        .arg(&ka)
        .arg("--route-health")
        .arg(&rh)
        .output()
        .expect("ipvsd withdraw-routes runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("withdrawn: 192.0.2.10 (table 200, protocol 201)"),
        "{said}"
    );
    let gone = wait_for(
        Duration::from_secs(10),
        "VIP withdrawn by withdraw-routes",
        || !router_has(&r_sock, "192.0.2.10/32"),
    );
    println!(
        "after SIGKILL: the VIP stayed announced; ipvsd withdraw-routes removed it from the router in {gone:?}"
    );
}

/// `GET path` from ipvsd's status API (127.0.0.1:9613 in this namespace).
fn http_get(path: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect("127.0.0.1:9613").expect("status API");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(c, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("request");
    let mut answer = String::new();
    c.read_to_string(&mut answer).expect("answer");
    answer
}
