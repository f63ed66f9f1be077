//! The differential suite: every command line runs against Debian's ipvsadm
//! 1.31 and against ipvsadm-rs, each in a network namespace of its own that
//! started from the same state; stdout, stderr, the exit status and the IPVS
//! state after the line must all be equal. Runs in the test VM.
//!
//! A scenario is a list of lines. A line is the words after the program
//! name; `<<<` separates the words from what goes to standard input (with
//! `\n` for new lines); a line starting with `ip ` sets up both namespaces
//! alike and is not compared.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use ipvs::Ipvs;

mod scenarios;

/// One side of the comparison: a network namespace and the program run there.
struct Side {
    ns: File,
    program: String,
    ipvs: Ipvs,
}

fn enter(ns: &File) {
    // SAFETY: setns on a valid namespace descriptor moves only this thread.
    assert_eq!(
        unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
        0,
        "setns"
    );
}

impl Side {
    fn new(program: String) -> Self {
        testbed::netns::enter_fresh();
        let ns = File::open("/proc/thread-self/ns/net").expect("namespace file");
        let ipvs = Ipvs::new().expect("a handle");
        Self { ns, program, ipvs }
    }

    /// Runs one line here: (stdout, stderr, status).
    fn run(&self, words: &[String], stdin: &str) -> (String, String, i32) {
        self.run_in(self, words, stdin)
    }

    /// Runs this side's program in the namespace of `place`.
    fn run_in(&self, place: &Side, words: &[String], stdin: &str) -> (String, String, i32) {
        enter(&place.ns);
        let mut child = Command::new(&self.program)
            .arg0("ipvsadm")
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.program));
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("wait");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    fn setup(&self, line: &str) {
        enter(&self.ns);
        let words: Vec<&str> = line.split_whitespace().skip(1).collect();
        testbed::netns::ip(&words).unwrap_or_else(|e| panic!("setup `{line}`: {e}"));
    }

    /// The whole IPVS state, as something to compare.
    fn state(&self) -> String {
        let mut table = self.ipvs.table().expect("table");
        table.sort_by_key(|s| s.service.key);
        for s in &mut table {
            s.destinations.sort_by(|a, b| {
                (a.destination.address, a.destination.port)
                    .cmp(&(b.destination.address, b.destination.port))
            });
        }
        format!(
            "{}\n{:?}\n{:?}",
            ipvs::table_json(&table),
            self.ipvs.timeouts().expect("timeouts"),
            self.ipvs.daemons().expect("daemons")
        )
    }
}

/// Our stderr without the lines that name the `-R` input line of a failure
/// (a deliberate addition, checked in kernel_cli_extras).
fn without_restore_notes(stderr: &str) -> String {
    stderr
        .split_inclusive('\n')
        .filter(|l| {
            !l.starts_with("ipvsadm: -R line ") && !l.starts_with("ipvsadm: -R stopped at line ")
        })
        .collect()
}

/// ipvsadm 1.31's version line, the first of its `-v` and `-h`.
const IPVSADM_VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// What ipvsadm-rs prints after ipvsadm's text for `-h` or `-v` (a
/// deliberate difference, in the README), given ipvsadm's stdout for the
/// same line; `None` for a line that prints neither.
fn additions(theirs: &(String, String, i32)) -> Option<String> {
    let version = env!("CARGO_PKG_VERSION");
    if theirs.2 != 0 || !theirs.0.starts_with(IPVSADM_VERSION) {
        None
    } else if theirs.0 == IPVSADM_VERSION {
        Some(format!("ipvsadm-rs {version}\n"))
    } else {
        Some(format!(
            "
ipvsadm-rs {version} additions:
  --json                              with -L: the listing as one JSON document
  --format ipvsadm|table|json         with -L: ipvsadm's text (default), a table, or JSON
  ipvsadm apply -f FILE [options]
      make the services FILE lists (JSON, as -L --json prints) as it says
  ipvsadm diff -f FILE [options]
      print what apply would change; exit 1 if anything
  ipvsadm check -f FILE
      check FILE as apply would, without a kernel or root
  ipvsadm apply|diff|check --help
      the options of these commands
"
        ))
    }
}

fn split(line: &str) -> (Vec<String>, String) {
    let (words, stdin) = line.split_once(" <<< ").unwrap_or((line, ""));
    (
        words.split_whitespace().map(str::to_owned).collect(),
        stdin.replace("\\n", "\n"),
    )
}

#[test]
fn ipvsadm_rs_behaves_as_ipvsadm_1_31() {
    let ours = env!("CARGO_BIN_EXE_ipvsadm-rs").to_owned();
    let reference = testbed::reference::path().to_string_lossy().into_owned();
    let mut lines = 0;
    let mut with_additions = 0;
    let mut failures = Vec::new();
    for (name, scenario) in scenarios::ALL {
        let theirs = Side::new(reference.clone());
        let mine = Side::new(ours.clone());
        for line in *scenario {
            if line.starts_with("ip ") {
                theirs.setup(line);
                mine.setup(line);
                continue;
            }
            lines += 1;
            let (words, stdin) = split(line);
            let expected = theirs.run(&words, &stdin);
            // A listing runs in the same namespace for both: the kernel's
            // order of services depends on the namespace (its hash mixes in
            // the namespace's address), and ipvsadm's sort keeps some of it.
            let read_only = words.first().is_none_or(|w| {
                ["-L", "-l", "-S", "--list", "--save"]
                    .iter()
                    .any(|p| w.starts_with(p))
            });
            let mut got = if read_only {
                mine.run_in(&theirs, &words, &stdin)
            } else {
                mine.run(&words, &stdin)
            };
            got.1 = without_restore_notes(&got.1);
            // Help and version: ipvsadm's text, then exactly our additions.
            if let Some(added) = additions(&expected)
                && got.0 == format!("{}{added}", expected.0)
            {
                got.0.truncate(expected.0.len());
                with_additions += 1;
            }
            let (state_theirs, state_mine) = (theirs.state(), mine.state());
            if expected != got || state_theirs != state_mine {
                failures.push(format!(
                    "[{name}] ipvsadm {line}\n  ipvsadm 1.31: status {} stdout {:?} stderr {:?}\n  ipvsadm-rs:   status {} stdout {:?} stderr {:?}{}",
                    expected.2,
                    expected.0,
                    expected.1,
                    got.2,
                    got.0,
                    got.1,
                    if state_theirs == state_mine { String::new() } else { format!("\n  state differs:\n{state_theirs}\n  ---\n{state_mine}") }
                ));
                // Stop the scenario: later lines would start from different states.
                break;
            }
        }
    }
    println!(
        "differential suite: {} scenarios, {lines} command lines, {} differences",
        scenarios::ALL.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // -h, --help, -v, --version, -h -n, -vq: each ipvsadm's text plus ours.
    assert_eq!(with_additions, 6, "help and version lines with additions");
    assert!(
        scenarios::ALL.len() >= 25 && lines >= 200,
        "{} scenarios, {lines} lines",
        scenarios::ALL.len()
    );
}
