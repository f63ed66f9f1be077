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

/// The target folder that `tests/vm/prepare` fills: `$CARGO_TARGET_DIR`,
/// else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || workspace_dir().join("target"),
        |dir| {
            let dir = PathBuf::from(dir);
            // A relative CARGO_TARGET_DIR is relative to the workspace, as for cargo.
            if dir.is_absolute() {
                dir
            } else {
                workspace_dir().join(dir)
            }
        },
    )
}

/// The workspace's root folder (the test bed's parent).
fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Debian's keepalived, ready to run on the host (not in the VM), with no
/// arguments yet: `$IPVS_RS_KEEPALIVED` when set (a program or a wrapper
/// script), else `<target>/vm/keepalived/sbin/keepalived` with
/// `LD_LIBRARY_PATH` pointing at its libraries beside it (`tests/vm/prepare`
/// unpacks both there; it is run first when the binary is missing: it is
/// idempotent and takes a lock, so concurrent test binaries may call it).
///
/// Used by the VRRP interop tests, which run keepalived in network
/// namespaces of the host, no VM needed.
///
/// # Errors
/// When `tests/vm/prepare` cannot be run, fails, or leaves no binary.
pub fn host_command() -> std::io::Result<Command> {
    if let Some(program) = std::env::var_os("IPVS_RS_KEEPALIVED") {
        return Ok(Command::new(program));
    }
    let dir = target_dir().join("vm").join("keepalived");
    let binary = dir.join("sbin").join("keepalived");
    if !binary.exists() {
        let prepare = workspace_dir().join("tests").join("vm").join("prepare");
        let status = Command::new(&prepare)
            .env("CARGO_TARGET_DIR", target_dir())
            .current_dir(workspace_dir())
            .status()
            .map_err(|e| std::io::Error::other(format!("{}: {e}", prepare.display())))?;
        if !status.success() {
            return Err(std::io::Error::other(format!(
                "{} failed ({status}); keepalived is needed at {}",
                prepare.display(),
                binary.display()
            )));
        }
        if !binary.exists() {
            return Err(std::io::Error::other(format!(
                "{} ran but left no {}",
                prepare.display(),
                binary.display()
            )));
        }
    }
    let mut c = Command::new(binary);
    c.env("LD_LIBRARY_PATH", dir.join("lib"));
    Ok(c)
}

/// keepalived on `config`, VRRP side only (`-P`), on the host
/// ([`host_command`]): in the foreground, logging to the console in
/// detail and not to syslog, with pid files of its own in `dir`
/// (`keepalived.pid`, `vrrp.pid`; several may run at once).
///
/// # Errors
/// As [`host_command`].
pub fn vrrp_command(config: &Path, dir: &Path) -> std::io::Result<Command> {
    let mut c = host_command()?;
    c.args(["-n", "-l", "-D", "-G", "-P", "-f"])
        .arg(config)
        .arg("-p")
        .arg(dir.join("keepalived.pid"))
        .arg("-r")
        .arg(dir.join("vrrp.pid"));
    Ok(c)
}
