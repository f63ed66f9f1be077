//! The keepalived sample configurations Debian ships (package `keepalived`,
//! /usr/share/doc/keepalived/samples) as a corpus: each gives exactly the
//! outcome listed in `EXPECTED` (accepted with its counts, or refused
//! naming the keyword and line), as is and checker-only; never a panic,
//! never a generic parse failure; what is accepted converts to native TOML
//! and back to the same model. The directory comes from
//! `IPVSD_KEEPALIVED_SAMPLES` (set but missing: the test fails); unset, it
//! is the copy the VM image keeps (`tests/vm/prepare`):
//! `$CARGO_TARGET_DIR/vm/keepalived-samples`, else the workspace's
//! `target/vm/keepalived-samples`; when neither exists the test says it was
//! skipped. The samples are GPL and never copied here.

use std::io::Read;
use std::path::{Path, PathBuf};

use ipvsd::config::vrrp::InitialState;
use ipvsd::config::{
    ConfigError, KeepalivedOptions, read_keepalived, read_keepalived_str, read_native_str, to_toml,
};

/// Where the VM image keeps the samples, below a target directory.
const VM_SAMPLES: &str = "vm/keepalived-samples";

/// The samples directory: `IPVSD_KEEPALIVED_SAMPLES` (which must exist),
/// else the VM image's copy under `$CARGO_TARGET_DIR` (relative to the
/// workspace root when relative) or the workspace's `target/`; `None`,
/// with the reason printed, when there is none.
fn samples_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("IPVSD_KEEPALIVED_SAMPLES").map(PathBuf::from) {
        assert!(
            dir.is_dir(),
            "IPVSD_KEEPALIVED_SAMPLES={} is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut tried = Vec::new();
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        tried.push(workspace.join(target).join(VM_SAMPLES));
    }
    tried.push(workspace.join("target").join(VM_SAMPLES));
    if let Some(dir) = tried.iter().find(|d| d.is_dir()) {
        return Some(dir.clone());
    }
    eprintln!(
        "skipped: IPVSD_KEEPALIVED_SAMPLES is not set (Debian's keepalived samples directory) and the VM image's copy is missing ({})",
        tried
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    None
}

/// A sample's text (gunzipped if it ends in `.gz`).
fn read_sample(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The sample's name without `.gz`.
fn sample_name(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    name.strip_suffix(".gz").unwrap_or(&name).to_owned()
}

/// A reading's outcome in one line, the same in every checkout: counts
/// when accepted, the error's kind, keyword and line when refused.
fn outcome(result: &Result<ipvsd::config::Loaded, ConfigError>) -> String {
    let at = |e: &ConfigError| e.location().line;
    match result {
        Ok(l) => format!(
            "accepted ({} virtual servers, {} VRRP instances, {} notes)",
            l.model.virtual_servers.len(),
            l.model.vrrp.instances.len(),
            l.notes.len()
        ),
        Err(e @ ConfigError::Unsupported { keyword, .. }) => {
            format!("unsupported `{keyword}` (line {})", at(e))
        }
        Err(e @ ConfigError::Vrrp { keyword, .. }) => {
            format!("unsupported VRRP `{keyword}` (line {})", at(e))
        }
        Err(e @ ConfigError::Invalid { keyword, .. }) => {
            format!("invalid `{keyword}` (line {})", at(e))
        }
        Err(e) => panic!("refused without naming a keyword: {e}"),
    }
}

/// What each Debian sample (keepalived 2.2.7) gives, as is and
/// checker-only. Why those refused as is are refused:
/// - `SMTP_CHECK`, `PING_CHECK`: checkers ipvsd does not have;
/// - `auth_type AH`: IPsec AH authentication is not supported;
/// - `conditional_conf`, read without `--config-id`: its `vrrp_script`
///   keeps no `script` line (each is `@high`/`@low`), which keepalived
///   drops with an error, so ipvsd refuses it;
/// - `static_routes`, `static_rules`, `static_ipaddress`: VRRP features
///   ipvsd does not run;
/// - `vrrp.lvs_syncd` lists its sync group's instances without
///   `group { }`, which keepalived 2.2.7 does not know either (its parser
///   has only `group` there).
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "keepalived.conf.HTTP_GET.port",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.IPv6",
        "unsupported `SMTP_CHECK` (line 24)",
        "unsupported `SMTP_CHECK` (line 24)",
    ),
    (
        "keepalived.conf.PING_CHECK",
        "unsupported `PING_CHECK` (line 23)",
        "unsupported `PING_CHECK` (line 23)",
    ),
    (
        "keepalived.conf.SMTP_CHECK",
        "unsupported `SMTP_CHECK` (line 39)",
        "unsupported `SMTP_CHECK` (line 39)",
    ),
    (
        "keepalived.conf.SSL_GET",
        "unsupported VRRP `auth_type AH` (line 20)",
        "accepted (2 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.UDP_CHECK",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.conditional_conf",
        "invalid `vrrp_script` (line 6)",
        "accepted (0 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.fwmark",
        "accepted (1 virtual servers, 0 VRRP instances, 0 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 0 notes)",
    ),
    (
        "keepalived.conf.inhibit",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.misc_check",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.misc_check_arg",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.quorum",
        "accepted (1 virtual servers, 0 VRRP instances, 0 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 0 notes)",
    ),
    (
        "keepalived.conf.sample",
        "accepted (1 virtual servers, 1 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.status_code",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.track_interface",
        "unsupported VRRP `static_routes` (line 7)",
        "accepted (0 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.virtual_server_group",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.virtualhost",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
        "accepted (1 virtual servers, 0 VRRP instances, 1 notes)",
    ),
    (
        "keepalived.conf.vrrp",
        "accepted (0 virtual servers, 4 VRRP instances, 5 notes)",
        "accepted (0 virtual servers, 0 VRRP instances, 5 notes)",
    ),
    (
        "keepalived.conf.vrrp.localcheck",
        "accepted (0 virtual servers, 9 VRRP instances, 0 notes)",
        "accepted (0 virtual servers, 0 VRRP instances, 14 notes)",
    ),
    (
        "keepalived.conf.vrrp.lvs_syncd",
        "unsupported VRRP `VI_2` (line 4)",
        "accepted (1 virtual servers, 0 VRRP instances, 4 notes)",
    ),
    (
        "keepalived.conf.vrrp.routes",
        "unsupported VRRP `static_routes` (line 7)",
        "accepted (0 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.vrrp.rules",
        "unsupported VRRP `static_rules` (line 9)",
        "accepted (0 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.vrrp.scripts",
        "accepted (0 virtual servers, 3 VRRP instances, 1 notes)",
        "accepted (0 virtual servers, 0 VRRP instances, 4 notes)",
    ),
    (
        "keepalived.conf.vrrp.static_ipaddress",
        "unsupported VRRP `static_ipaddress` (line 7)",
        "accepted (0 virtual servers, 0 VRRP instances, 2 notes)",
    ),
    (
        "keepalived.conf.vrrp.sync",
        "accepted (0 virtual servers, 9 VRRP instances, 0 notes)",
        "accepted (0 virtual servers, 0 VRRP instances, 11 notes)",
    ),
];

#[test]
fn debian_keepalived_samples() {
    let Some(dir) = samples_dir() else {
        return;
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| sample_name(p).starts_with("keepalived.conf"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no keepalived.conf.* in {}",
        dir.display()
    );
    let mut seen = Vec::new();
    println!("| sample | as is | --checker-only |");
    println!("|---|---|---|");
    for path in &paths {
        let name = sample_name(path);
        let text = read_sample(path);
        let plain = read_keepalived_str(&text, path, &KeepalivedOptions::default());
        let checker_only = read_keepalived_str(
            &text,
            path,
            &KeepalivedOptions {
                checker_only: true,
                config_id: None,
            },
        );
        let (p, c) = (outcome(&plain), outcome(&checker_only));
        println!("    (\"{name}\", \"{p}\", \"{c}\"),");
        assert!(
            !c.contains("unsupported VRRP"),
            "{name}: checker-only met a VRRP keyword: {c}"
        );
        // `ipvsd convert` and back gives the same model.
        for loaded in [&plain, &checker_only].into_iter().flatten() {
            let toml = to_toml(&loaded.model).unwrap();
            let again = read_native_str(&toml, Path::new("converted.toml"))
                .unwrap_or_else(|e| panic!("{name}: its conversion is refused: {e}\n{toml}"));
            assert_eq!(loaded.model, again.model, "{name}: the conversion differs");
        }
        seen.push((name, p, c));
    }
    // To refresh EXPECTED from a new keepalived: print the rows only.
    if std::env::var_os("IPVSD_SAMPLES_PRINT").is_some() {
        return;
    }
    for (name, p, c) in &seen {
        let want = EXPECTED
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is not in EXPECTED"));
        assert_eq!((p.as_str(), c.as_str()), (want.1, want.2), "{name}");
    }
}

/// Each sample mangled at random (characters deleted, inserted, swapped,
/// the text cut short): never a panic; what is still accepted converts to
/// native TOML and back to the same model; what is refused names a line.
#[test]
fn mangled_samples_never_panic() {
    let Some(dir) = samples_dir() else {
        return;
    };
    // xorshift: the same mutations every run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let options = KeepalivedOptions {
        checker_only: true,
        config_id: Some("test".into()),
    };
    let (mut accepted, mut refused) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !sample_name(&path).starts_with("keepalived.conf") {
            continue;
        }
        let text: Vec<char> = read_sample(&path).chars().collect();
        for _ in 0..100 {
            let mut t = text.clone();
            for _ in 0..=random() % 3 {
                if t.is_empty() {
                    break;
                }
                let i = usize::try_from(random()).unwrap() % t.len();
                match random() % 4 {
                    0 => {
                        t.remove(i);
                    }
                    1 => t.insert(
                        i,
                        b"{}\"-/09 \n$@x:"[usize::try_from(random() % 13).unwrap()] as char,
                    ),
                    2 => {
                        let j = usize::try_from(random()).unwrap() % t.len();
                        t.swap(i, j);
                    }
                    _ => t.truncate(i),
                }
            }
            let t: String = t.into_iter().collect();
            match read_keepalived_str(&t, &path, &options) {
                Ok(loaded) => {
                    let toml = to_toml(&loaded.model).unwrap();
                    let again = read_native_str(&toml, Path::new("converted.toml"))
                        .unwrap_or_else(|e| panic!("conversion refused: {e}\n{t}"));
                    assert_eq!(loaded.model, again.model, "{t}");
                    accepted += 1;
                }
                Err(ConfigError::Read { .. }) => panic!("no file is read"),
                Err(e) => {
                    assert!(e.location().line > 0, "no line: {e}");
                    refused += 1;
                }
            }
        }
    }
    println!("mangled samples: {accepted} accepted, {refused} refused");
    assert!(accepted > 0 && refused > 0);
}

/// The director pair shipped in `conf/`: each file reads through
/// `read_keepalived` with no note, one VRRP instance and one virtual
/// server; the two differ in state and priority only, and each converts to
/// native TOML and back to the same model.
#[test]
fn shipped_vrrp_director_pair() {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let read = |name: &str| {
        read_keepalived(&conf.join(name), &KeepalivedOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let (master, backup) = (read("vrrp-master.conf"), read("vrrp-backup.conf"));
    for (loaded, state, priority) in [
        (&master, InitialState::Master, 150),
        (&backup, InitialState::Backup, 100),
    ] {
        assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
        let m = &loaded.model;
        assert_eq!((m.vrrp.instances.len(), m.virtual_servers.len()), (1, 1));
        let v = &m.vrrp.instances[0];
        assert_eq!((v.initial_state, v.priority), (state, priority));
        assert_eq!(v.virtual_addresses[0].address.to_string(), "192.0.2.100");
        assert_eq!(m.real_server_count(), 2);
        assert_eq!(m.checker_count(), 2);
        let d = m.global.lvs_sync_daemon.as_ref().expect("sync daemon");
        assert_eq!(d.vrrp_instance.as_deref(), Some(v.name.as_str()));
        let again = read_native_str(&to_toml(m).unwrap(), Path::new("c.toml")).unwrap();
        assert_eq!(*m, again.model);
    }
    let (m, b) = (
        &master.model.vrrp.instances[0],
        &backup.model.vrrp.instances[0],
    );
    assert_eq!(
        (m.vrid, &m.interface, m.version),
        (b.vrid, &b.interface, b.version)
    );
    assert_eq!(master.model.virtual_servers, backup.model.virtual_servers);
}
