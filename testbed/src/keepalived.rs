//! Debian's keepalived as the daemon's reference: where it is and how the
//! tests and benchmarks that compare `ipvsd` with it start it, so that they
//! all measure the same program run the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's keepalived: `$IPVS_RS_KEEPALIVED`, else `/usr/sbin/keepalived`
/// (the VM's, see `tests/vm/prepare`).
pub fn path() -> PathBuf {
    std::env::var_os("IPVS_RS_KEEPALIVED")
        .map_or_else(|| PathBuf::from("/usr/sbin/keepalived"), PathBuf::from)
}

/// keepalived on `config`, checker side only: in the foreground (`-n`),
/// logging to the console (`-l`) in detail (`-D`) and not to syslog, with
/// pid files of its own in `dir` (several may run at once).
pub fn checker_command(config: &Path, dir: &Path) -> Command {
    let mut c = Command::new(path());
    c.args(["-n", "-l", "-D", "-G", "-C", "-f"])
        .arg(config)
        .arg("-p")
        .arg(dir.join("keepalived.pid"))
        .arg("-c")
        .arg(dir.join("checkers.pid"));
    c
}
