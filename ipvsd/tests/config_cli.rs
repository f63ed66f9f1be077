//! `ipvsd check`, `ipvsd convert` and the daemon invocation, run as the
//! binary: exit codes, the summary line, `FILE:LINE: reason` on stderr;
//! every example configuration in `ipvsd/conf/` is checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ipvsd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipvsd"))
        .args(args)
        .output()
        .expect("run ipvsd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipvsd-config-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf")
}

#[test]
fn every_example_configuration_checks() {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(conf_dir()).unwrap() {
        let path = entry.unwrap().path();
        // `keepalived.conf.example` (what the package installs) is
        // keepalived's format too.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // BIRD's configuration for route health injection is BIRD's format
        // (checked by `bird -p` in kernel_route_health).
        if name.starts_with("bird-") {
            continue;
        }
        let flag = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => "--config",
            Some("conf" | "example") => "--keepalived",
            _ => continue,
        };
        checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
        let out = ipvsd(&["check", flag, path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(stdout.contains("configuration OK"), "{stdout}");
    }
    assert!(checked.len() >= 11, "only {checked:?}");
    for shipped in [
        "keepalived.conf.example",
        "keepalived-lvs.conf",
        "basic.toml",
        "vrrp-master.conf",
        "vrrp-backup.conf",
    ] {
        assert!(
            checked.iter().any(|c| c == shipped),
            "{shipped} not checked: {checked:?}"
        );
    }
}

#[test]
fn check_summary_counts_services_of_a_group() {
    let out = ipvsd(&[
        "check",
        "--config",
        conf_dir().join("group.toml").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("1 virtual servers (8 services), 2 real servers, 2 checkers"),
        "{}",
        text(&out.stdout)
    );
}

/// Writes `text` as `name` in a scratch directory, runs `ipvsd check`
/// (`--keepalived` or `--config` after the name's extension) on it, and
/// asserts exit 2, nothing on stdout and stderr starting `FILE:LINE: why`.
fn refused(dir: &str, name: &str, text_of_file: &str, line: usize, why: &str) {
    let file = scratch(dir).join(name);
    std::fs::write(&file, text_of_file).unwrap();
    let flag = if name.ends_with(".toml") {
        "--config"
    } else {
        "--keepalived"
    };
    let out = ipvsd(&["check", flag, file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:{line}: {why}", file.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_keepalived_conf_exits_2_with_file_and_line() {
    refused(
        "bad-ka",
        "keepalived.conf",
        "global_defs {\n  router_id x\n}\nvirtual_server 10.0.0.1 80 {\n  lb_algo rr\n  nat_mask 255.255.255.0\n}\n",
        6,
        "unsupported keyword `nat_mask`",
    );
}

#[test]
fn an_unknown_script_user_exits_2_with_file_and_line() {
    // keepalived refuses a script whose user does not exist; so does `ipvsd check`.
    refused(
        "bad-user",
        "keepalived.conf",
        "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    MISC_CHECK {\n      misc_path /bin/true\n      user no-such-user-ipvsd-test\n    }\n  }\n}\n",
        5,
        "`user`: no such user \"no-such-user-ipvsd-test\"",
    );
}

#[test]
fn bad_native_toml_exits_2_with_file_and_line() {
    refused(
        "bad-toml",
        "ipvsd.toml",
        "[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\n\n[[services.destinations]]\naddress = \"10.0.0.1\"\nwieght = 3\n",
        8,
        "unknown field `wieght`",
    );
}

#[test]
fn a_missing_file_exits_2() {
    let out = ipvsd(&["check", "--config", "/nonexistent/ipvsd.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/ipvsd.toml: cannot read"));
}

#[test]
fn vrrp_is_read_refused_by_keyword_or_skipped_checker_only() {
    let dir = scratch("vrrp");
    let file = dir.join("keepalived.conf");
    let good = "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\nvirtual_server 192.0.2.1 80 {\n  real_server 10.0.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";
    std::fs::write(&file, good).unwrap();
    let path = file.to_str().unwrap();
    let out = ipvsd(&["check", "--keepalived", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!(
            "{path}: configuration OK: 1 virtual servers (1 services), 1 real servers, 1 checkers, 1 VRRP instances"
        )
    );
    let out = ipvsd(&["check", "--checker-only", "--keepalived", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(":1: note: VRRP `vrrp_instance VI_1` skipped"));
    assert!(!text(&out.stdout).contains("VRRP"), "{}", text(&out.stdout));
    // A VRRP keyword ipvsd does not run: exit 2 with file, line, keyword.
    refused(
        "vrrp",
        "vmac.conf",
        &good.replace("  priority 150\n", "  priority 150\n  use_vmac\n"),
        6,
        "unsupported VRRP keyword `use_vmac` in vrrp_instance",
    );
    refused(
        "vrrp",
        "vrid.conf",
        &good.replace("virtual_router_id 51", "virtual_router_id 0"),
        4,
        "`virtual_router_id`",
    );
}

#[test]
fn include_and_conditional_lines() {
    let dir = scratch("include");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        dir.join("conf.d/web.conf"),
        "virtual_server 192.0.2.1 80 {\n@blue  lb_algo rr\n@^blue lb_algo wrr\n  real_server 10.0.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("conf.d/bad.conf"),
        "virtual_server 192.0.2.2 80 {\n  bogus_keyword 1\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.conf"),
        "$SITE=blue\ninclude conf.d/web.conf\n",
    )
    .unwrap();
    let main = dir.join("main.conf");
    let out = ipvsd(&[
        "check",
        "--config-id",
        "blue",
        "--keepalived",
        main.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ipvsd(&["convert", "--config-id", "blue", main.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("scheduler = \"rr\""),
        "{}",
        text(&out.stdout)
    );
    let out = ipvsd(&["convert", "--config-id", "green", main.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("scheduler = \"wrr\""),
        "{}",
        text(&out.stdout)
    );
    // An error in an included file names that file and its line.
    std::fs::write(dir.join("main.conf"), "include conf.d/*.conf\n").unwrap();
    let out = ipvsd(&["check", "--keepalived", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("conf.d/bad.conf:2: unsupported keyword `bogus_keyword`"),
        "{stderr}"
    );
}

#[test]
fn convert_then_check_gives_the_same_summary() {
    let source = conf_dir().join("keepalived-lvs.conf");
    let out = ipvsd(&["convert", source.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    assert!(toml.starts_with("# ipvsd configuration converted from"));
    let dir = scratch("convert");
    let converted = dir.join("converted.toml");
    std::fs::write(&converted, &toml).unwrap();
    let a = ipvsd(&["check", "--keepalived", source.to_str().unwrap()]);
    let b = ipvsd(&["check", "--config", converted.to_str().unwrap()]);
    assert!(b.status.success(), "{}\n{toml}", text(&b.stderr));
    let summary = |o: &Output| text(&o.stdout).split_once(": ").map(|(_, s)| s.to_owned());
    assert_eq!(summary(&a), summary(&b));
    // keepalived's semantics survive the conversion explicitly.
    assert!(toml.contains("start_down = true"), "alpha:\n{toml}");
    assert!(toml.contains("forward = \"masq\""), "NAT:\n{toml}");
}

#[test]
fn convert_refuses_a_bad_file() {
    let dir = scratch("convert-bad");
    let file = dir.join("k.conf");
    std::fs::write(&file, "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    SMTP_CHECK {\n    }\n  }\n}\n").unwrap();
    let out = ipvsd(&["convert", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains(":3: unsupported keyword `SMTP_CHECK` in real_server"));
}

#[test]
fn the_daemon_invocation_refuses_a_bad_configuration_before_starting() {
    // (The daemon itself runs in the VM: tests/kernel_daemon.rs.)
    let out = ipvsd(&["--config", "/nonexistent.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["check"][..],
        &["check", "--config", "a", "--keepalived", "b"][..],
        &["frobnicate"][..],
    ] {
        let out = ipvsd(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn route_health_beside_a_keepalived_conf() {
    let dir = scratch("route-health");
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "virtual_server 192.0.2.10 80 {\n  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n    }\n  }\n}\n",
    )
    .unwrap();
    let (good, bad) = (dir.join("rh.toml"), dir.join("bad.toml"));
    std::fs::write(&good, "[route_health]\nhold_down_up = 0\n").unwrap();
    std::fs::write(&bad, "[route_health]\naddresses = [\"192.0.2.99\"]\n").unwrap();
    let args = |rh: &Path| {
        [
            "check".to_owned(),
            "--keepalived".to_owned(),
            conf.display().to_string(),
            "--route-health".to_owned(),
            rh.display().to_string(),
        ]
    };
    let run = |rh: &Path| {
        let a = args(rh);
        ipvsd(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&good);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:1: ", bad.display()))
            && stderr.contains("192.0.2.99 is the address of no virtual server"),
        "{stderr}"
    );
    // Only beside a keepalived.conf: a native file has the table itself.
    let out = ipvsd(&[
        "check",
        "--config",
        conf_dir().join("basic.toml").to_str().unwrap(),
        "--route-health",
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // withdraw-routes without route health: nothing to do, exit 0 (no
    // kernel touched).
    let out = ipvsd(&["withdraw-routes", "--keepalived", conf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "no route health configured: nothing to withdraw\n"
    );
}
