//! ipvsadm-rs against Debian's ipvsadm 1.31 on the same 5,000-service x
//! 4-server table, in one VM: `-R` of the whole table, then `-Ln` and `-Sn`
//! of it, the two programs alternating (and taking turns going first).
//!
//! ```text
//! cargo bench -p ipvsadm-rs --bench kernel_cli      # runs in the test VM
//! IPVS_RS_BENCH_ROUNDS=5 cargo bench -p ipvsadm-rs --bench kernel_cli
//! ```

use std::fmt::Write as _;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVICES: usize = 5_000;
const SERVERS: usize = 4;

fn table() -> String {
    let mut text = String::new();
    for s in 0..SERVICES {
        let vip = format!(
            "10.{}.{}.{}:80",
            100 + s / 62_500,
            (s / 250) % 250,
            s % 250 + 1
        );
        let _ = writeln!(text, "-A -t {vip} -s wrr");
        for r in 0..SERVERS {
            let _ = writeln!(
                text,
                "-a -t {vip} -r 192.168.{}.{}:8080 -m -w {}",
                r + 1,
                s % 250 + 1,
                r + 1
            );
        }
    }
    text
}

/// Runs `program args`, feeding `stdin`, throwing stdout away; its time.
fn timed(program: &str, args: &[&str], stdin: &str) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

fn count_rules(program: &str) -> usize {
    let out = Command::new(program).arg("-Sn").output().expect("save");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// A new empty namespace; the old one is kept (see `keep`) so that its
/// teardown does not run during a measurement.
fn fresh(keep: &mut Vec<std::fs::File>) {
    keep.push(std::fs::File::open("/proc/thread-self/ns/net").expect("namespace file"));
    testbed::netns::enter_fresh();
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let ours = env!("CARGO_BIN_EXE_ipvsadm-rs").to_owned();
    let theirs = testbed::reference::path().to_string_lossy().into_owned();
    let rounds: usize = std::env::var("IPVS_RS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let input = table();
    let rules = SERVICES * (1 + SERVERS);
    println!(
        "kernel_cli: {SERVICES} services x {SERVERS} real servers ({rules} rules), {rounds} rounds"
    );
    let mut keep = Vec::new();
    let mut times: [[Vec<Duration>; 2]; 3] = Default::default(); // [restore, list, save][theirs, ours]
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for &who in &order {
            let program = [&theirs, &ours][who];
            fresh(&mut keep);
            times[0][who].push(timed(program, &["-R"], &input));
            assert_eq!(
                count_rules(&theirs),
                rules,
                "{program} -R restored the whole table"
            );
            // Both list the same table, taking turns.
            for &lister in &order {
                let p = [&theirs, &ours][lister];
                times[1][lister].push(timed(p, &["-Ln"], ""));
                times[2][lister].push(timed(p, &["-Sn"], ""));
            }
            timed(&theirs, &["-C"], "");
        }
        println!(
            "round {}: -R {:.0} / {:.0} ms, -Ln {:.0} / {:.0} ms, -Sn {:.0} / {:.0} ms (ipvsadm / ipvsadm-rs)",
            round + 1,
            ms(*times[0][0].last().expect("time")),
            ms(*times[0][1].last().expect("time")),
            ms(times[1][0][times[1][0].len() - 1]),
            ms(times[1][1][times[1][1].len() - 1]),
            ms(times[2][0][times[2][0].len() - 1]),
            ms(times[2][1][times[2][1].len() - 1]),
        );
    }
    for (i, name) in ["-R", "-Ln", "-Sn"].iter().enumerate() {
        let [t, o] = &mut times[i];
        let (t, o) = (median(t), median(o));
        println!(
            "{name}: median ipvsadm 1.31 {:.0} ms, ipvsadm-rs {:.0} ms: ipvsadm-rs {:.1}x faster",
            ms(t),
            ms(o),
            t.as_secs_f64() / o.as_secs_f64()
        );
    }
}
