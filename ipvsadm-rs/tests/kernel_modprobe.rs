//! Loading `ip_vs` on demand, as ipvsadm 1.31 does: the runner boots this
//! binary's VM with the module not loaded and the kernel unable to load it
//! when a tool asks for the IPVS family (as before Linux 5.16); only
//! `/sbin/modprobe ip_vs` loads it. One test, in order: the module's state is
//! the whole VM's.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// (stdout, stderr, exit status) of `program` run as `ipvsadm`.
fn run(program: &str, args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(program)
        .arg0("ipvsadm")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn loaded() -> bool {
    Path::new("/sys/module/ip_vs").exists()
}

const ADD: &[&str] = &["-A", "-t", "10.0.0.1:80", "-s", "rr"];
const LISTED: &str = "TCP  10.0.0.1:80 rr\n";

#[test]
fn ipvsadm_rs_loads_ip_vs_as_ipvsadm_does() {
    let ours = env!("CARGO_BIN_EXE_ipvsadm-rs");
    let reference = testbed::reference::path().to_string_lossy().into_owned();
    assert!(!loaded(), "ip_vs is loaded at start: not this test's VM");

    // The kernel does not load it when the family is asked for: the library
    // alone (which never runs modprobe) finds no IPVS.
    let alone = ipvs::Ipvs::new().and_then(|ipvs| ipvs.info());
    assert_eq!(
        alone.err().map(|e| e.kind()),
        Some(ipvs::ErrorKind::NotAvailable)
    );
    assert!(!loaded(), "asking for the family loaded ip_vs");

    // Help and version need no IPVS, and load nothing.
    for args in [&["-h"][..], &["--help"], &["-v"], &["--version"]] {
        let (stdout, stderr, code) = run(ours, args);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
        assert!(stdout.starts_with("ipvsadm v1.31 2019/12/24"), "{stdout}");
        assert!(stdout.contains("ipvsadm-rs "), "{stdout}");
        assert!(!loaded(), "{args:?} loaded ip_vs");
    }

    // A command that needs IPVS runs modprobe, then works.
    let added = run(ours, ADD);
    assert_eq!(added, (String::new(), String::new(), Some(0)));
    assert!(loaded(), "ipvsadm-rs -A did not load ip_vs");
    let ours_listing = run(ours, &["-Ln"]);
    assert_eq!(ours_listing.2, Some(0));
    assert!(ours_listing.0.contains(LISTED), "{}", ours_listing.0);

    // Back to the start: the table empty, the modules unloaded.
    assert_eq!(run(ours, &["-C"]).2, Some(0));
    let unload = Command::new("/sbin/modprobe")
        .args(["-r", "ip_vs_rr", "ip_vs"])
        .status()
        .expect("modprobe -r");
    assert!(unload.success(), "modprobe -r ip_vs_rr ip_vs: {unload}");
    assert!(!loaded(), "ip_vs still loaded");

    // ipvsadm 1.31 does the same: the same output, the module loaded, the
    // same listing.
    let theirs = run(&reference, ADD);
    assert_eq!(theirs, added);
    assert!(loaded(), "ipvsadm -A did not load ip_vs");
    let theirs_listing = run(&reference, &["-Ln"]);
    assert_eq!(theirs_listing, ours_listing);
}
