//! The keepalived sample configurations Debian ships (package `keepalived`,
//! /usr/share/doc/keepalived/samples) as a corpus: each is accepted, or
//! refused with an error naming an unsupported (or VRRP) keyword; never a
//! panic, never a generic parse failure. The directory comes from
//! `IPVSD_KEEPALIVED_SAMPLES` (set but missing: the test fails); unset, it
//! is the copy the VM image keeps (`tests/vm/prepare`):
//! `$CARGO_TARGET_DIR/vm/keepalived-samples`, else the workspace's
//! `target/vm/keepalived-samples`; when neither exists the test says it was
//! skipped. The samples are GPL and never copied here.

use std::io::Read;
use std::path::{Path, PathBuf};

use ipvsd::config::{
    ConfigError, KeepalivedOptions, read_keepalived_str, read_native_str, to_toml,
};

/// Samples that are purely LVS and fully supported: accepted as they are.
const PURE_LVS: &[&str] = &[
    "keepalived.conf.HTTP_GET.port",
    "keepalived.conf.UDP_CHECK",
    "keepalived.conf.fwmark",
    "keepalived.conf.inhibit",
    "keepalived.conf.misc_check",
    "keepalived.conf.misc_check_arg",
    "keepalived.conf.quorum",
    "keepalived.conf.status_code",
    "keepalived.conf.virtual_server_group",
    "keepalived.conf.virtualhost",
];

/// Samples with VRRP beside a supported LVS part: accepted checker-only.
const LVS_WITH_VRRP: &[&str] = &[
    "keepalived.conf.SSL_GET",
    "keepalived.conf.sample",
    "keepalived.conf.vrrp.lvs_syncd",
];

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

fn outcome(result: &Result<ipvsd::config::Loaded, ConfigError>) -> String {
    match result {
        Ok(l) => format!(
            "accepted ({} virtual servers, {} notes)",
            l.model.virtual_servers.len(),
            l.notes.len()
        ),
        Err(ConfigError::Unsupported { keyword, .. }) => {
            format!("refused: unsupported `{keyword}`")
        }
        Err(ConfigError::Vrrp { keyword, .. }) => format!("refused: VRRP `{keyword}`"),
        Err(e) => format!("refused otherwise: {e}"),
    }
}

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
    let mut accepted = Vec::new();
    let mut accepted_checker_only = Vec::new();
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
        println!(
            "| {name} | {} | {} |",
            outcome(&plain),
            outcome(&checker_only)
        );
        for (mode, result) in [("as is", &plain), ("checker-only", &checker_only)] {
            match result {
                Ok(_) => {}
                Err(ConfigError::Unsupported { keyword, .. }) => assert!(!keyword.is_empty()),
                Err(ConfigError::Vrrp { keyword, .. }) => {
                    assert!(
                        mode == "as is",
                        "{name}: VRRP `{keyword}` not skipped checker-only"
                    );
                }
                Err(e) => {
                    panic!("{name} ({mode}): refused without naming an unsupported keyword: {e}")
                }
            }
        }
        if plain.is_ok() {
            accepted.push(name.clone());
        }
        if let Ok(loaded) = &checker_only {
            // `ipvsd convert` and back gives the same model.
            let toml = to_toml(&loaded.model).unwrap();
            let again = read_native_str(&toml, Path::new("converted.toml"))
                .unwrap_or_else(|e| panic!("{name}: its conversion is refused: {e}\n{toml}"));
            assert_eq!(loaded.model, again.model, "{name}: the conversion differs");
            accepted_checker_only.push(name);
        }
    }
    for name in PURE_LVS {
        if paths.iter().any(|p| sample_name(p) == *name) {
            assert!(
                accepted.iter().any(|a| a == name),
                "{name} is purely LVS but was refused"
            );
        }
    }
    for name in PURE_LVS.iter().chain(LVS_WITH_VRRP) {
        if paths.iter().any(|p| sample_name(p) == *name) {
            assert!(
                accepted_checker_only.iter().any(|a| a == name),
                "{name} was refused checker-only"
            );
        }
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
