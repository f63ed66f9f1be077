//! ipvsadm's error messages: `ipvs_strerror`, which reads an errno in the
//! light of the library call that failed, else the C library's `strerror`.

use std::ffi::CStr;

/// The libipvs call an errno came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Init,
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    StartDaemon,
    StopDaemon,
    GetServices,
    GetDests,
    GetService,
    Flush,
    SetTimeout,
    Other,
}

/// The message ipvsadm prints for `errno` after `call` failed.
pub fn ipvs_strerror(call: Call, errno: i32) -> String {
    use Call::*;
    let specific = match (call, errno) {
        (AddService, libc::EEXIST) => Some("Service already exists"),
        (AddService | UpdateService, libc::ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (UpdateService | DelService | ZeroService | GetDests | GetService, libc::ESRCH) => {
            Some("No such service")
        }
        (AddDest | UpdateDest | DelDest, libc::ESRCH) => Some("Service not defined"),
        (AddDest, libc::EEXIST) => Some("Destination already exists"),
        (UpdateDest | DelDest, libc::ENOENT) => Some("No such destination"),
        (StartDaemon, libc::EEXIST) => Some("Daemon has already run"),
        (StopDaemon, libc::ESRCH) => Some("No daemon is running"),
        (_, libc::EPERM) => Some("Permission denied (you must be root)"),
        (_, libc::EINVAL) => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        (_, libc::ENOPROTOOPT) => Some("Protocol not available"),
        (_, libc::ENOMEM) => Some("Memory allocation problem"),
        (_, libc::EOPNOTSUPP) => Some("Operation not supported with IPv6"),
        (_, libc::EAFNOSUPPORT) => Some("Operation not supported with specified address family"),
        (_, libc::EMSGSIZE) => Some("Module is wrong version"),
        _ => None,
    };
    specific.map_or_else(|| strerror(errno), str::to_owned)
}

/// The C library's text for an errno.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated message.
    unsafe { CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}
