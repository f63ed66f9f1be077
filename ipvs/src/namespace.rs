//! Opening a handle's socket in another network namespace without moving the
//! calling thread: a helper thread enters the namespace, opens what the
//! handle needs there, and ends. A netlink socket stays bound to the
//! namespace it was created in.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use crate::error::{Error, Operation, Result};

/// Runs `f` on a new thread that first joins the network namespace `ns`.
pub(crate) fn run_in<T: Send>(
    ns: BorrowedFd<'_>,
    f: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns on a valid descriptor changes only this helper thread.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    let err = std::io::Error::last_os_error();
                    return Err(Error::new(
                        Operation::Connect,
                        if err.raw_os_error() == Some(libc::EPERM) {
                            crate::ErrorKind::PermissionDenied
                        } else {
                            crate::ErrorKind::Io
                        },
                        format!("cannot enter the network namespace: {err}"),
                    ));
                }
                f()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::new(
                    Operation::Connect,
                    crate::ErrorKind::Io,
                    "namespace thread panicked",
                ))
            })
    })
}

/// Opens a namespace file such as `/run/netns/NAME` or `/proc/PID/ns/net`.
pub(crate) fn open(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| {
        Error::new(
            Operation::Connect,
            crate::ErrorKind::Io,
            format!("{}: {e}", path.display()),
        )
    })?;
    // A network namespace file answers NS_GET_NSTYPE; checking it gives a
    // clear message instead of a later EINVAL from setns.
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: an ioctl without arguments on a valid descriptor.
    let kind = unsafe { libc::ioctl(file.as_fd().as_raw_fd(), NS_GET_NSTYPE) };
    if kind != libc::CLONE_NEWNET {
        return Err(Error::invalid(
            Operation::Connect,
            format!("{} is not a network namespace", path.display()),
        ));
    }
    Ok(file)
}
