//! ipvsadm-rs on a kernel without IPVS (the runner boots the VM with the
//! ip_vs module unloadable): ipvsadm 1.31's message and status, and a line
//! that names the module.

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
    for args in [&["-Ln"][..], &[], &["-A", "-t", "10.0.0.1:80"], &["-h"]] {
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
