//! What works on the host as an unprivileged user (uid 65534 when the tests
//! run as root): help, version and `check` need neither IPVS nor root. The
//! host's kernel may have no IPVS at all; these answer before connecting.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// (stdout, stderr, exit status) of ipvsadm-rs run as `ipvsadm`, not as root.
fn unprivileged(args: &[&str]) -> (String, String, Option<i32>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ipvsadm-rs"));
    command.arg0("ipvsadm").args(args);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(65534).gid(65534);
    }
    let out = command.output().expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

const IPVSADM_VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

#[test]
fn version_is_ipvsadms_line_then_ours() {
    for args in [&["-v"][..], &["--version"]] {
        let out = unprivileged(args);
        let expected = format!(
            "{IPVSADM_VERSION}ipvsadm-rs {}\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(out, (expected, String::new(), Some(0)), "{args:?}");
    }
}

#[test]
fn help_is_ipvsadms_usage_then_the_additions() {
    for args in [&["-h"][..], &["--help"]] {
        let (stdout, stderr, code) = unprivileged(args);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
        assert!(stdout.starts_with(&format!("{IPVSADM_VERSION}Usage:\n  ipvsadm -A|E ")));
        let (ipvsadm, ours) = stdout
            .split_once("\n\nipvsadm-rs ")
            .expect("an ipvsadm-rs section");
        assert!(
            ipvsadm.ends_with("  --mcast-ttl ttl                     Multicast TTL (default=1)")
        );
        for addition in [
            "\n  --json ",
            "\n  --format ipvsadm|table|json ",
            "\n  ipvsadm apply -f FILE [options]\n",
            "\n  ipvsadm diff -f FILE [options]\n",
            "\n  ipvsadm check -f FILE\n",
            "\n  ipvsadm apply|diff|check --help\n",
        ] {
            assert!(ours.contains(addition), "{addition:?} not in {ours}");
        }
    }
}

#[test]
fn subcommand_help_needs_no_kernel() {
    for cmd in ["apply", "diff", "check"] {
        let (stdout, stderr, code) = unprivileged(&[cmd, "--help"]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{cmd}");
        assert!(
            stdout.contains(&format!("Usage: ipvsadm {cmd} ")),
            "{stdout}"
        );
        assert!(stdout.contains("--file <FILE>"), "{stdout}");
    }
}

const WEB: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wrr","destinations":[{"address":"10.0.0.11","weight":5},{"address":"10.0.0.12","weight":5}]}]}"#;

/// Writes `text` to a file anyone may read, and gives its path.
fn readable_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&path, text).expect("write the file");
    path.to_string_lossy().into_owned()
}

#[test]
fn check_needs_no_kernel_and_names_the_line() {
    let (stdout, stderr, code) = unprivileged(&["check", "-f", &readable_file("check-good", WEB)]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "{stdout}");
    assert!(
        stdout.ends_with(": valid (1 service, 2 real servers)\n"),
        "{stdout}"
    );
    let bad = WEB.replace("\"wrr\"", "\"wrr\",\n\"persistence\":{\"timeout\":0}");
    let (_, stderr, code) = unprivileged(&["check", "-f", &readable_file("check-bad", &bad)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("line 1: service tcp 192.0.2.1:80: persistence timeout 0 s"),
        "{stderr}"
    );
}
