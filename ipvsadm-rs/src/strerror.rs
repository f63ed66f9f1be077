//! ipvsadm's error messages (`ipvs_strerror`), derived from what the library
//! makes of an errno for an operation ([`ipvs::ErrorKind`]): ipvsadm's
//! wording of that meaning where it has one, else its wording of the errno,
//! else the C library's `strerror`.

use std::ffi::CStr;

use ipvs::{ErrorKind, Operation};

/// The message ipvsadm prints for `errno` after `op` failed.
pub(crate) fn ipvs_strerror(op: Operation, errno: i32) -> String {
    use Operation as Op;
    let kind = ipvs::Error::from_errno(op, errno).kind();
    let specific = match (kind, op) {
        (ErrorKind::ServiceExists, _) => Some("Service already exists"),
        (ErrorKind::SchedulerNotFound, _) => Some("Scheduler or persistence engine not found"),
        // ipvsadm names a missing service after what was asked of it, and
        // only for the calls that name one.
        (
            ErrorKind::NoSuchService,
            Op::EditService | Op::DeleteService | Op::Zero | Op::ListDestinations | Op::GetService,
        ) => Some("No such service"),
        (
            ErrorKind::NoSuchService,
            Op::AddDestination | Op::EditDestination | Op::DeleteDestination,
        ) => Some("Service not defined"),
        (ErrorKind::DestinationExists, _) => Some("Destination already exists"),
        (ErrorKind::NoSuchDestination, _) => Some("No such destination"),
        (ErrorKind::DaemonExists, _) => Some("Daemon has already run"),
        (ErrorKind::NoSuchDaemon, _) => Some("No daemon is running"),
        (ErrorKind::PermissionDenied, _) => Some("Permission denied (you must be root)"),
        _ => match errno {
            libc::EINVAL => {
                Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
            }
            libc::ENOPROTOOPT => Some("Protocol not available"),
            libc::ENOMEM => Some("Memory allocation problem"),
            libc::EOPNOTSUPP => Some("Operation not supported with IPv6"),
            libc::EAFNOSUPPORT => Some("Operation not supported with specified address family"),
            libc::EMSGSIZE => Some("Module is wrong version"),
            _ => None,
        },
    };
    specific.map_or_else(|| strerror(errno), str::to_owned)
}

/// ipvsadm's message for a library call failed as ipvsadm's `op`: its
/// wording when there was an errno, else the library's own message.
pub(crate) fn message(op: Operation, e: &ipvs::Error) -> String {
    e.errno()
        .map_or_else(|| e.to_string(), |errno| ipvs_strerror(op, errno))
}

/// The C library's text for an errno.
fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated message.
    unsafe { CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation as Op;

    /// ipvsadm 1.31's (call, errno) table, which the library's meanings
    /// must give back word for word.
    #[test]
    fn ipvsadms_table() {
        let cases = [
            (Op::AddService, libc::EEXIST, "Service already exists"),
            (
                Op::AddService,
                libc::ENOENT,
                "Scheduler or persistence engine not found",
            ),
            (
                Op::EditService,
                libc::ENOENT,
                "Scheduler or persistence engine not found",
            ),
            (Op::EditService, libc::ESRCH, "No such service"),
            (Op::DeleteService, libc::ESRCH, "No such service"),
            (Op::Zero, libc::ESRCH, "No such service"),
            (Op::ListDestinations, libc::ESRCH, "No such service"),
            (Op::GetService, libc::ESRCH, "No such service"),
            (Op::AddDestination, libc::ESRCH, "Service not defined"),
            (Op::EditDestination, libc::ESRCH, "Service not defined"),
            (Op::DeleteDestination, libc::ESRCH, "Service not defined"),
            (
                Op::AddDestination,
                libc::EEXIST,
                "Destination already exists",
            ),
            (Op::EditDestination, libc::ENOENT, "No such destination"),
            (Op::DeleteDestination, libc::ENOENT, "No such destination"),
            (Op::StartDaemon, libc::EEXIST, "Daemon has already run"),
            (Op::StopDaemon, libc::ESRCH, "No daemon is running"),
            (
                Op::Flush,
                libc::EPERM,
                "Permission denied (you must be root)",
            ),
            (Op::Connect, libc::ENOPROTOOPT, "Protocol not available"),
            (
                Op::AddDestination,
                libc::ENOMEM,
                "Memory allocation problem",
            ),
            (Op::AddService, libc::EMSGSIZE, "Module is wrong version"),
            (
                Op::AddDestination,
                libc::EAFNOSUPPORT,
                "Operation not supported with specified address family",
            ),
            (
                Op::AddService,
                libc::EINVAL,
                "Invalid operation.  Possibly wrong module version, address not unicast, ...",
            ),
        ];
        for (op, errno, text) in cases {
            assert_eq!(ipvs_strerror(op, errno), text, "{op:?} {errno}");
        }
        // Where ipvsadm has no words of its own: the C library's.
        assert_eq!(
            ipvs_strerror(Op::ListServices, libc::ESRCH),
            strerror(libc::ESRCH)
        );
        assert_eq!(
            ipvs_strerror(Op::Flush, libc::EEXIST),
            strerror(libc::EEXIST)
        );
        assert_eq!(
            ipvs_strerror(Op::DeleteService, libc::ENOENT),
            strerror(libc::ENOENT)
        );
    }
}
