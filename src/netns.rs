//! Network namespaces for tests.

use std::io;
use std::process::Command;

/// Moves the calling thread into a new, empty network namespace with `lo` up.
///
/// Threads spawned afterwards and child processes (the reference ipvsadm)
/// inherit it; other threads of the process stay where they were. The IPVS
/// table is per namespace, so each test gets an empty one.
///
/// # Panics
/// When the namespace cannot be created (not root, no `CAP_SYS_ADMIN`): a
/// kernel test must fail loudly rather than touch the host's table.
pub fn enter_fresh() {
    if let Err(e) = try_enter_fresh() {
        panic!(
            "cannot enter a fresh network namespace ({e}); kernel tests run as root in the \
             test VM: `cargo test` does that through tests/vm/runner"
        );
    }
}

/// [`enter_fresh`], returning the error instead of panicking.
///
/// # Errors
/// `unshare(2)`'s error, or the failure to bring `lo` up.
pub fn try_enter_fresh() -> io::Result<()> {
    // SAFETY: unshare only changes the calling thread's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    ip(&["link", "set", "lo", "up"])
}

/// Runs iproute2's `ip` with `args` in the calling thread's namespace.
///
/// # Errors
/// When `ip` cannot be run or exits non-zero (its stderr is in the message).
pub fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Creates a veth pair in the current namespace, both ends up, the first
/// with `addr` (CIDR). A sync daemon needs such a multicast-capable link.
///
/// # Errors
/// As [`ip`].
pub fn add_veth_pair(name: &str, peer: &str, addr: &str) -> io::Result<()> {
    ip(&["link", "add", name, "type", "veth", "peer", "name", peer])?;
    ip(&["addr", "add", addr, "dev", name])?;
    ip(&["link", "set", name, "up"])?;
    ip(&["link", "set", peer, "up"])
}
