//! What the ipvsadm-rs kernel tests share: running ipvsadm-rs and the
//! reference ipvsadm 1.31 under the name `ipvsadm`, and reading the table's
//! configuration to compare it.
#![allow(dead_code)] // each test binary uses its own part

use testbed::reference;

/// What a run printed and how it exited.
pub use testbed::reference::Outcome as Out;

/// Runs `program` as `ipvsadm` with `args`, feeding `stdin`.
pub fn run(program: &str, args: &[&str], stdin: &str) -> Out {
    reference::run_as(std::path::Path::new(program), Some("ipvsadm"), args, stdin)
}

/// The ipvsadm-rs under test.
pub const OURS: &str = env!("CARGO_BIN_EXE_ipvsadm-rs");

pub fn ours(args: &[&str]) -> Out {
    run(OURS, args, "")
}

pub fn ours_with(args: &[&str], stdin: &str) -> Out {
    run(OURS, args, stdin)
}

pub fn theirs_with(args: &[&str], stdin: &str) -> Out {
    run(&reference::path().to_string_lossy(), args, stdin)
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The configuration of the calling thread's table (no counters), in an
/// order of its own, as JSON: equal strings mean equal tables.
pub fn config() -> String {
    let ipvs = ipvs::Ipvs::new().expect("a handle");
    let mut state = ipvs::DesiredState::from_table(&ipvs.table().expect("table"));
    state.services.sort_by_key(|s| s.service.key);
    for s in &mut state.services {
        s.destinations.sort_by_key(|d| (d.address, d.port));
    }
    state.to_json()
}

/// Writes `text` to a file of the test's own and returns its path.
pub fn file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("{name}-{}.json", std::process::id()));
    std::fs::write(&path, text).expect("write the file");
    path.to_string_lossy().into_owned()
}
