//! Very large tables: 100,000 services x 4 real servers (400,000), listed
//! (`-Ln`) and saved (`-Sn`) by Debian's ipvsadm 1.31 and by ipvsadm-rs in
//! the same VM, taking turns: wall time, peak memory (the kernel's
//! `ru_maxrss` of each run), and whether the two printed the same bytes.
//!
//! ```text
//! cargo bench -p ipvsadm-rs --bench kernel_large_table    # runs in the test VM
//! IPVS_RS_LARGE_SERVICES=20000 IPVS_RS_BENCH_ROUNDS=3 cargo bench -p ipvsadm-rs --bench kernel_large_table
//! ```

use std::path::Path;

use testbed::measure::{Measured, own_peak_kib, run};

const SERVERS: usize = 4;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn line(who: &str, what: &str, m: &Measured) {
    println!(
        "  {who:<12} {what:<4} {:>8.0} ms {:>8} KiB peak  {:>9} lines  exit {}",
        m.time.as_secs_f64() * 1e3,
        m.max_rss_kib,
        m.stdout_lines,
        m.code
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let ours = Path::new(env!("CARGO_BIN_EXE_ipvsadm-rs")).to_owned();
    let theirs = testbed::reference::path();
    let services = env_or("IPVS_RS_LARGE_SERVICES", 100_000);
    let rounds = env_or("IPVS_RS_BENCH_ROUNDS", 2);
    testbed::netns::enter_fresh();
    let input = testbed::tables::restore_input("large-table-bench", services, SERVERS);
    let built = run(&ours, &["-R"], Some(&input));
    assert_eq!(built.code, 0, "-R: {}", built.stderr);
    let _ = std::fs::remove_file(&input);
    println!(
        "kernel_large_table: {services} services x {SERVERS} real servers, built by ipvsadm-rs -R in {:.1} s (peak {} KiB); {rounds} rounds",
        built.time.as_secs_f64(),
        built.max_rss_kib
    );
    let programs = [
        ("ipvsadm 1.31", theirs.as_path()),
        ("ipvsadm-rs", ours.as_path()),
    ];
    // [command][program] -> (ms, KiB) of every round
    let mut seen: [[Vec<(f64, u64)>; 2]; 2] = Default::default();
    for round in 0..rounds {
        println!("round {}", round + 1);
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for (c, args) in [["-Ln"], ["-Sn"]].iter().enumerate() {
            let mut digests = Vec::new();
            for &p in &order {
                let (who, program) = programs[p];
                let m = run(program, args, None);
                line(who, args[0], &m);
                assert_eq!(m.code, 0, "{who} {args:?}: {}", m.stderr);
                assert_eq!(
                    m.stdout_lines as usize,
                    services * (1 + SERVERS) + if c == 0 { 3 } else { 0 },
                    "{who} {args:?} printed the whole table"
                );
                digests.push(m.stdout_digest);
                seen[c][p].push((m.time.as_secs_f64() * 1e3, m.max_rss_kib));
            }
            assert_eq!(digests[0], digests[1], "{args:?}: the two outputs differ");
        }
    }
    println!(
        "medians (the outputs were byte for byte the same in every round; this process's own peak, under which nothing can be measured: {} KiB):",
        own_peak_kib()
    );
    for (c, name) in ["-Ln", "-Sn"].iter().enumerate() {
        let stat = |p: usize| {
            let ms = median(seen[c][p].iter().map(|s| s.0).collect());
            let kib = median(seen[c][p].iter().map(|s| s.1 as f64).collect());
            (ms, kib)
        };
        let ((t_ms, t_kib), (o_ms, o_kib)) = (stat(0), stat(1));
        println!(
            "{name}: ipvsadm 1.31 {t_ms:.0} ms {t_kib:.0} KiB, ipvsadm-rs {o_ms:.0} ms {o_kib:.0} KiB: {:.1}x the speed, {:.2}x the memory",
            t_ms / o_ms,
            o_kib / t_kib
        );
    }
}
