//! ipvsadm-rs against Debian's ipvsadm 1.31, in one VM on one kernel, for
//! tables of 1, 100, 5,000 and 100,000 services x 4 real servers: `-R` of
//! the whole table, `-Ln`, `-Sn`, `-Ln --json`, the single commands
//! `-A`/`-a`/`-e`/`-D`, and `apply` of a file one change away from the
//! table. The two programs alternate (taking turns going first); each run's
//! wall time, user and system time and peak memory come from the kernel's
//! accounting (`wait4`), and the two listings must be byte for byte equal.
//!
//! ```text
//! cargo bench -p ipvsadm-rs --bench kernel_cli      # runs in the test VM
//! IPVS_RS_BENCH_SIZES=1,5000 IPVS_RS_BENCH_ROUNDS=9 cargo bench -p ipvsadm-rs --bench kernel_cli
//! ```
//!
//! System time is mostly the kernel's IPVS work, the floor no tool can go
//! under; user time is the tool's own.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use testbed::measure::{Measured, own_peak_kib, run};

const SERVERS: usize = 4;
/// A service no generated table has, for the single commands.
const NEW_SERVICE: &str = "10.255.255.1:80";
const NEW_SERVER: &str = "172.31.0.1:8080";

/// The runs of one command by one program.
#[derive(Default)]
struct Runs(Vec<Measured>);

impl Runs {
    fn median(&self, f: impl Fn(&Measured) -> f64) -> f64 {
        let mut v: Vec<f64> = self.0.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
    fn ms(&self) -> f64 {
        self.median(|m| m.time.as_secs_f64() * 1e3)
    }
    fn user_ms(&self) -> f64 {
        self.median(|m| m.user.as_secs_f64() * 1e3)
    }
    fn system_ms(&self) -> f64 {
        self.median(|m| m.system.as_secs_f64() * 1e3)
    }
    fn kib(&self) -> f64 {
        self.median(|m| m.max_rss_kib as f64)
    }
}

/// One line of the report: a command of each program (or a counterpart).
struct Row {
    what: String,
    theirs: Runs,
    ours: Runs,
}

impl Row {
    fn new(what: &str) -> Self {
        Self {
            what: what.to_owned(),
            theirs: Runs::default(),
            ours: Runs::default(),
        }
    }
}

fn cell(r: &Runs) -> String {
    if r.0.is_empty() {
        return format!("{:>36}", "not run");
    }
    format!(
        "{:>9.1} {:>8.1} {:>8.1} {:>7.0}",
        r.ms(),
        r.user_ms(),
        r.system_ms(),
        r.kib()
    )
}

fn report(rows: &[Row]) {
    println!(
        "  {:<26} | {:>9} {:>8} {:>8} {:>7} | {:>9} {:>8} {:>8} {:>7} | {:>8} {:>7} {:>7}",
        "command (ipvsadm's form)",
        "ms",
        "user",
        "sys",
        "KiB",
        "ms",
        "user",
        "sys",
        "KiB",
        "speed-up",
        "memory",
        "usr/sys"
    );
    for row in rows {
        println!(
            "  {:<26} | {} | {} | {:>7.2}x {:>6.2}x {:>7.2}",
            row.what,
            cell(&row.theirs),
            cell(&row.ours),
            row.theirs.ms() / row.ours.ms(),
            row.ours.kib() / row.theirs.kib(),
            row.ours.user_ms() / row.ours.system_ms(),
        );
    }
}

fn env_list(name: &str) -> Option<Vec<usize>> {
    let text = std::env::var(name).ok()?;
    Some(
        text.split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
    )
}

/// Rounds for a table size: enough for a median where runs are short.
fn rounds_for(services: usize) -> usize {
    if let Some(r) = env_list("IPVS_RS_BENCH_ROUNDS").and_then(|v| v.first().copied()) {
        return r.max(1);
    }
    match services {
        0..=100 => 15,
        101..=10_000 => 5,
        _ => 2,
    }
}

/// Runs and checks one command: exit 0, nothing on standard error.
fn ok(program: &Path, args: &[&str], stdin: Option<&Path>) -> Measured {
    let m = run(program, args, stdin);
    assert_eq!(
        (m.code, m.stderr.as_str()),
        (0, ""),
        "{} {args:?}",
        program.display()
    );
    m
}

/// Runs `program args` with its output to `path` (kept, unlike [`run`]'s).
fn to_file(program: &Path, args: &[&str], path: &Path) {
    let status = Command::new(program)
        .args(args)
        .stdout(File::create(path).expect("output file"))
        .stderr(Stdio::inherit())
        .status()
        .expect("runs");
    assert!(status.success(), "{} {args:?}", program.display());
}

/// The rules `-Sn` prints: services and real servers. Counted by
/// [`run`] as the output streams to a file: this process must never hold a
/// listing (its own peak would become every later run's floor).
fn rules_in(program: &Path) -> u64 {
    run(program, &["-Sn"], None).stdout_lines
}

fn bench_size(theirs: &Path, ours: &Path, services: usize) -> Vec<Row> {
    let rounds = rounds_for(services);
    let rules = services * (1 + SERVERS);
    println!(
        "\n{services} services x {SERVERS} real servers ({rules} rules), {rounds} rounds, medians; times in ms, peak memory in KiB"
    );
    let input = testbed::tables::restore_input("kernel-cli-bench", services, SERVERS);
    let programs = [theirs, ours];
    let mut restore = Row::new("-R (whole table)");
    // -R into fresh namespaces, a round fewer on the largest table (ipvsadm
    // takes minutes there); the table of the last one stays for the rest.
    let restore_rounds = if services > 10_000 { 1 } else { rounds.min(5) };
    for round in 0..restore_rounds {
        for who in order(round) {
            testbed::netns::enter_fresh();
            let m = ok(programs[who], &["-R"], Some(&input));
            // Counted by ipvsadm-rs: ipvsadm's -Sn of 100,000 services
            // takes minutes (both print the same: the differential suite).
            assert_eq!(rules_in(ours), rules as u64, "-R restored the whole table");
            [&mut restore.theirs, &mut restore.ours][who].0.push(m);
        }
    }
    let _ = std::fs::remove_file(&input);

    let mut rows = vec![restore];
    // Listings, both programs, outputs compared.
    for (what, args) in [("-Ln", &["-Ln"][..]), ("-Sn", &["-Sn"])] {
        let mut row = Row::new(what);
        for round in 0..rounds {
            let mut digests = [0; 2];
            for who in order(round) {
                let m = ok(programs[who], args, None);
                digests[who] = m.stdout_digest;
                [&mut row.theirs, &mut row.ours][who].0.push(m);
            }
            assert_eq!(digests[0], digests[1], "{what}: the outputs differ");
        }
        rows.push(row);
    }
    // The JSON listing has no ipvsadm form: beside ipvsadm's -Ln.
    let mut json = Row::new("-Ln --json (vs ipvsadm -Ln)");
    for round in 0..rounds {
        for who in order(round) {
            let args: &[&str] = [&["-Ln"][..], &["-Ln", "--json"]][who];
            let m = ok(programs[who], args, None);
            [&mut json.theirs, &mut json.ours][who].0.push(m);
        }
    }
    rows.push(json);

    // Single commands on the table: add a service and a real server, edit
    // it, delete the service; the table is as before after each cycle.
    let singles: [(&str, Vec<&str>); 4] = [
        ("-A", vec!["-A", "-t", NEW_SERVICE, "-s", "rr"]),
        (
            "-a",
            vec!["-a", "-t", NEW_SERVICE, "-r", NEW_SERVER, "-m", "-w", "1"],
        ),
        (
            "-e",
            vec!["-e", "-t", NEW_SERVICE, "-r", NEW_SERVER, "-m", "-w", "2"],
        ),
        ("-D", vec!["-D", "-t", NEW_SERVICE]),
    ];
    let mut single_rows: Vec<Row> = singles.iter().map(|(w, _)| Row::new(w)).collect();
    for round in 0..rounds {
        for who in order(round) {
            for (row, (_, args)) in single_rows.iter_mut().zip(&singles) {
                let m = ok(programs[who], args, None);
                [&mut row.theirs, &mut row.ours][who].0.push(m);
            }
        }
    }
    rows.extend(single_rows);

    // apply of a file one change away: the table as JSON, then one real
    // server's weight changed in the kernel, which apply puts back. ipvsadm's
    // way to bring a table to a file's content is -C then -R.
    let file = std::env::temp_dir().join(format!("kernel-cli-bench-{}.json", std::process::id()));
    to_file(ours, &["-Ln", "--json"], &file);
    let saved = saved_rules(ours);
    let first = first_real_server(&saved);
    let mut apply = Row::new("apply, 1 change (vs -C, -R)");
    for round in 0..rounds.min(5) {
        for who in order(round) {
            // ipvsadm's -R of 100,000 services takes many minutes: its
            // counterpart runs on the smaller tables only.
            if who == 0 && services > 10_000 {
                continue;
            }
            if who == 0 {
                let cleared = ok(theirs, &["-C"], None);
                let mut restored = ok(theirs, &["-R"], Some(&saved));
                restored.time += cleared.time;
                restored.user += cleared.user;
                restored.system += cleared.system;
                restored.max_rss_kib = restored.max_rss_kib.max(cleared.max_rss_kib);
                apply.theirs.0.push(restored);
            } else {
                let mut edit: Vec<&str> = vec!["-e"];
                edit.extend(first.split_whitespace().skip(1));
                edit.extend(["-w", "99"]);
                ok(theirs, &edit, None);
                let m = ok(ours, &["apply", "-f", path_str(&file)], None);
                apply.ours.0.push(m);
            }
        }
    }
    assert_eq!(
        run(theirs, &["-Sn"], None).stdout_digest,
        run(&PathBuf::from("/bin/cat"), &[path_str(&saved)], None).stdout_digest,
        "after the applies, the table is the one saved"
    );
    rows.push(apply);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&saved);
    report(&rows);
    rows
}

/// `-Sn` of the table into a file.
fn saved_rules(program: &Path) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kernel-cli-bench-{}.rules", std::process::id()));
    to_file(program, &["-Sn"], &path);
    path
}

/// The first `-a` line of saved rules (read in pieces: the file is big).
fn first_real_server(saved: &Path) -> String {
    use std::io::BufRead;
    let file = std::io::BufReader::new(File::open(saved).expect("saved rules"));
    file.lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("-a "))
        .map(|l| l.split(" -w ").next().unwrap_or_default().to_owned())
        .expect("a real server")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 scratch path")
}

/// Who goes first in a round: ipvsadm (0) in even rounds, ipvsadm-rs (1) in odd ones.
fn order(round: usize) -> [usize; 2] {
    if round.is_multiple_of(2) {
        [0, 1]
    } else {
        [1, 0]
    }
}

fn main() {
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_ipvsadm-rs"));
    let theirs = testbed::reference::path();
    let sizes = env_list("IPVS_RS_BENCH_SIZES").unwrap_or_else(|| vec![1, 100, 5_000, 100_000]);
    println!(
        "kernel_cli: ipvsadm 1.31 ({}) | ipvsadm-rs ({}); speed-up = ipvsadm's time / ipvsadm-rs's, memory = ipvsadm-rs's peak / ipvsadm's, usr/sys = ipvsadm-rs's user time / its system time",
        theirs.display(),
        ours.display()
    );
    let start = std::time::Instant::now();
    for services in sizes {
        bench_size(&theirs, &ours, services);
    }
    println!(
        "\nthis process's own peak memory, under which no run can be measured: {} KiB; {:.0} s in all",
        own_peak_kib(),
        start.elapsed().as_secs_f64()
    );
}
