//! ipvsadm-rs on a kernel without IPVS (the runner boots the VM with the
//! ip_vs module unloadable): ipvsadm 1.31's message and status, and a line
//! that names the module; help and version work (where ipvsadm 1.31 fails).

use std::os::unix::process::CommandExt;
use std::process::Command;

fn run(program: &str, args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(program)
        .arg0("ipvsadm")
        .args(args)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn cannot_initialize_exactly_as_ipvsadm() {
    let reference = testbed::reference::path().to_string_lossy().into_owned();
    // A command line ipvsadm would refuse still fails as it does: the kernel
    // comes first.
    for args in [
        &["-Ln"][..],
        &[],
        &["-A", "-t", "10.0.0.1:80"],
        &["-V"],
        &["--bogus"],
        &["-L", "-h"],
    ] {
        let theirs = run(&reference, args);
        let mine = run(env!("CARGO_BIN_EXE_ipvsadm-rs"), args);
        assert_eq!((&mine.0, mine.2), (&theirs.0, theirs.2), "{args:?}");
        assert_eq!(mine.2, Some(2));
        assert_eq!(
            theirs.1,
            "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"
        );
        // ipvsadm's two lines, then one that names the module to load.
        assert_eq!(
            mine.1,
            format!(
                "{}ipvsadm: connect to IPVS: IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)\n",
                theirs.1
            )
        );
    }
}

#[test]
fn apply_and_diff_name_the_module() {
    let doc = std::env::temp_dir().join("noipvs-desired.json");
    std::fs::write(&doc, r#"{"services": []}"#).expect("write");
    for cmd in ["apply", "diff"] {
        let out = run(
            env!("CARGO_BIN_EXE_ipvsadm-rs"),
            &[cmd, "-f", &doc.to_string_lossy()],
        );
        assert_eq!(out.2, Some(2), "{cmd}: {out:?}");
        assert!(out.0.is_empty(), "{cmd}: {out:?}");
        assert_eq!(
            out.1,
            "ipvsadm: connect to IPVS: IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)\n",
            "{cmd}"
        );
    }
}

#[test]
fn help_and_version_need_no_ipvs() {
    let reference = testbed::reference::path().to_string_lossy().into_owned();
    let ipvsadm_version = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";
    let version = format!(
        "{ipvsadm_version}ipvsadm-rs {}\n",
        env!("CARGO_PKG_VERSION")
    );
    for args in [&["-h"][..], &["--help"], &["-v"], &["--version"], &["-vq"]] {
        // ipvsadm 1.31 connects first, so here it fails.
        assert_eq!(run(&reference, args).2, Some(2), "{args:?}");
        let (stdout, stderr, code) = run(env!("CARGO_BIN_EXE_ipvsadm-rs"), args);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
        if args[0].starts_with("-v") || args[0] == "--version" {
            assert_eq!(stdout, version, "{args:?}");
        } else {
            assert!(
                stdout.starts_with(&format!("{ipvsadm_version}Usage:\n  ipvsadm -A|E ")),
                "{stdout}"
            );
            assert!(stdout.contains("\n  --mcast-ttl ttl "), "{stdout}");
            assert!(stdout.contains("\n  ipvsadm check -f FILE\n"), "{stdout}");
        }
    }
    for cmd in ["apply", "diff", "check"] {
        let (stdout, stderr, code) = run(env!("CARGO_BIN_EXE_ipvsadm-rs"), &[cmd, "--help"]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{cmd}");
        assert!(
            stdout.contains(&format!("Usage: ipvsadm {cmd} ")),
            "{stdout}"
        );
    }
}
