//! ipvsadm-rs on a kernel without IPVS (the runner boots the VM with the
//! ip_vs module unloadable): the same message and status as ipvsadm 1.31.

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
    let reference = ipvs_rs::reference::path().to_string_lossy().into_owned();
    for args in [&["-Ln"][..], &[], &["-A", "-t", "10.0.0.1:80"], &["-h"]] {
        let theirs = run(&reference, args);
        let mine = run(env!("CARGO_BIN_EXE_ipvsadm-rs"), args);
        assert_eq!(mine, theirs, "{args:?}");
        assert_eq!(mine.2, Some(2));
        assert_eq!(
            mine.1,
            "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"
        );
    }
}
