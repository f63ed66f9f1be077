//! The one error type of the library: what failed (the operation), why (the
//! kind), and the kernel's errno when the kernel refused.

use std::fmt;
use std::io;

use crate::rules::Violation;

/// The operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Opening the netlink socket and resolving the IPVS family.
    Connect,
    /// Reading the kernel's IPVS version and connection table size.
    Info,
    /// Adding a virtual service.
    AddService,
    /// Editing a virtual service.
    EditService,
    /// Deleting a virtual service.
    DeleteService,
    /// Reading one virtual service.
    GetService,
    /// Listing the virtual services.
    ListServices,
    /// Adding a real server.
    AddDestination,
    /// Editing a real server.
    EditDestination,
    /// Deleting a real server.
    DeleteDestination,
    /// Listing the real servers of a service.
    ListDestinations,
    /// Zeroing counters.
    Zero,
    /// Deleting every virtual service.
    Flush,
    /// Reading the connection timeouts.
    GetTimeouts,
    /// Setting the connection timeouts.
    SetTimeouts,
    /// Starting a sync daemon.
    StartDaemon,
    /// Stopping a sync daemon.
    StopDaemon,
    /// Listing the sync daemons.
    ListDaemons,
    /// Reading the connection table (`/proc/net/ip_vs_conn`).
    ListConnections,
    /// Reading a desired-state document.
    ReadDesiredState,
    /// Applying a desired state.
    Apply,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect to IPVS",
            Self::Info => "get IPVS info",
            Self::AddService => "add service",
            Self::EditService => "edit service",
            Self::DeleteService => "delete service",
            Self::GetService => "get service",
            Self::ListServices => "list services",
            Self::AddDestination => "add destination",
            Self::EditDestination => "edit destination",
            Self::DeleteDestination => "delete destination",
            Self::ListDestinations => "list destinations",
            Self::Zero => "zero counters",
            Self::Flush => "flush",
            Self::GetTimeouts => "get timeouts",
            Self::SetTimeouts => "set timeouts",
            Self::StartDaemon => "start sync daemon",
            Self::StopDaemon => "stop sync daemon",
            Self::ListDaemons => "list sync daemons",
            Self::ListConnections => "list connections",
            Self::ReadDesiredState => "read desired state",
            Self::Apply => "apply desired state",
        })
    }
}

/// Why an operation failed, so callers can act without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The kernel has no IPVS, or the `ip_vs` module is not loaded.
    NotAvailable,
    /// The virtual service already exists (`EEXIST` on add).
    ServiceExists,
    /// No such virtual service (`ESRCH`).
    NoSuchService,
    /// The real server already exists in the service (`EEXIST`).
    DestinationExists,
    /// No such real server in the service (`ENOENT` on edit or delete).
    NoSuchDestination,
    /// The scheduler or persistence engine module was not found (`ENOENT`).
    SchedulerNotFound,
    /// A sync daemon in that state is already running (`EEXIST`).
    DaemonExists,
    /// No sync daemon in that state is running (`ESRCH`).
    NoSuchDaemon,
    /// The caller lacks `CAP_NET_ADMIN` (`EPERM`); every IPVS operation,
    /// listing included, needs it.
    PermissionDenied,
    /// An argument was refused, by this library before sending or by the
    /// kernel (`EINVAL`, `ERANGE`, `ENODEV`, `EAFNOSUPPORT`); the message says what.
    InvalidArgument,
    /// The kernel refused with another errno.
    Kernel,
    /// The socket or a file failed.
    Io,
    /// The kernel's answer could not be understood.
    Protocol,
    /// Another program holds what this needs (an apply in the same
    /// network namespace).
    Busy,
}

/// An IPVS operation failed.
#[derive(Debug)]
pub struct Error {
    op: Operation,
    kind: ErrorKind,
    errno: Option<i32>,
    detail: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error of `kind` for `op`, with a message saying what was wrong.
    pub fn new(op: Operation, kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            op,
            kind,
            errno: None,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// An argument refused before anything was sent.
    pub fn invalid(op: Operation, detail: impl Into<String>) -> Self {
        Self::new(op, ErrorKind::InvalidArgument, detail)
    }

    /// An argument refused by the library's rules before anything was sent;
    /// `context` says which (a service, a real server, a line).
    pub fn refused(op: Operation, context: Option<String>, violation: Violation) -> Self {
        Self {
            op,
            kind: ErrorKind::InvalidArgument,
            errno: None,
            detail: context,
            source: Some(Box::new(violation)),
        }
    }

    /// The rule broken, when the library refused an argument itself.
    pub fn violation(&self) -> Option<&Violation> {
        self.source.as_deref()?.downcast_ref::<Violation>()
    }

    /// The kernel refused `op` with `errno`: the kind follows from both.
    pub fn from_errno(op: Operation, errno: i32) -> Self {
        use Operation::*;
        let kind = match (errno, op) {
            (libc::EPERM, _) => ErrorKind::PermissionDenied,
            (libc::EEXIST, AddService) => ErrorKind::ServiceExists,
            (libc::EEXIST, AddDestination) => ErrorKind::DestinationExists,
            (libc::EEXIST, StartDaemon) => ErrorKind::DaemonExists,
            (libc::ESRCH, StopDaemon) => ErrorKind::NoSuchDaemon,
            (libc::ESRCH, _) => ErrorKind::NoSuchService,
            (libc::ENOENT, AddService | EditService) => ErrorKind::SchedulerNotFound,
            (libc::ENOENT, EditDestination | DeleteDestination) => ErrorKind::NoSuchDestination,
            (libc::EINVAL | libc::ERANGE | libc::ENODEV | libc::EAFNOSUPPORT, _) => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Kernel,
        };
        let detail = match (errno, kind) {
            (libc::ERANGE, _) => {
                Some("weight or thresholds out of range (negative, or the lower threshold above the upper one)".to_owned())
            }
            (libc::ENODEV, _) => Some("no such network interface".to_owned()),
            (libc::EAFNOSUPPORT, _) => Some("address family not supported".to_owned()),
            (libc::EINVAL, _) => Some("the kernel refused the request as invalid".to_owned()),
            _ => None,
        };
        Self {
            op,
            kind,
            errno: Some(errno),
            detail,
            source: None,
        }
    }

    /// Wraps an error of the wire layer.
    pub(crate) fn from_sys(op: Operation, err: ipvs_sys::Error) -> Self {
        match err {
            ipvs_sys::Error::FamilyNotFound => Self {
                op,
                kind: ErrorKind::NotAvailable,
                errno: Some(libc::ENOENT),
                detail: None,
                source: None,
            },
            ipvs_sys::Error::Kernel { errno } => Self::from_errno(op, errno),
            ipvs_sys::Error::Io(e) => Self::io(op, e),
            other => Self {
                op,
                kind: ErrorKind::Protocol,
                errno: None,
                detail: None,
                source: Some(Box::new(other)),
            },
        }
    }

    /// A failed socket or file operation.
    pub(crate) fn io(op: Operation, err: io::Error) -> Self {
        Self {
            op,
            kind: ErrorKind::Io,
            errno: err.raw_os_error(),
            detail: None,
            source: Some(Box::new(err)),
        }
    }

    /// What was being done.
    pub fn operation(&self) -> Operation {
        self.op
    }

    /// Why it failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The kernel's (or the socket's) errno, if there was one.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    /// The message saying what was wrong, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.op)?;
        match self.kind {
            ErrorKind::NotAvailable => f.write_str(
                "IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)",
            )?,
            ErrorKind::ServiceExists => f.write_str("service already exists")?,
            ErrorKind::NoSuchService => f.write_str("no such service")?,
            ErrorKind::DestinationExists => f.write_str("destination already exists")?,
            ErrorKind::NoSuchDestination => f.write_str("no such destination")?,
            ErrorKind::SchedulerNotFound => {
                f.write_str("scheduler or persistence engine not found")?
            }
            ErrorKind::DaemonExists => {
                f.write_str("a sync daemon in that state is already running")?
            }
            ErrorKind::NoSuchDaemon => f.write_str("no sync daemon in that state is running")?,
            ErrorKind::PermissionDenied => {
                f.write_str("permission denied (IPVS needs CAP_NET_ADMIN, usually root)")?
            }
            ErrorKind::InvalidArgument => f.write_str("invalid argument")?,
            ErrorKind::Busy => f.write_str("busy")?,
            ErrorKind::Kernel | ErrorKind::Io | ErrorKind::Protocol => {}
        }
        let mut sep = if matches!(
            self.kind,
            ErrorKind::Kernel | ErrorKind::Io | ErrorKind::Protocol
        ) {
            ""
        } else {
            ": "
        };
        if let Some(detail) = &self.detail {
            write!(f, "{sep}{detail}")?;
            sep = ": ";
        }
        if let Some(source) = &self.source {
            write!(f, "{sep}{source}")?;
        } else if let (None, ErrorKind::Kernel, Some(errno)) = (&self.detail, self.kind, self.errno)
        {
            write!(f, "{}", io::Error::from_raw_os_error(errno))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The library's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_meaning_depends_on_the_operation() {
        let kind = |op, errno| Error::from_errno(op, errno).kind();
        assert_eq!(
            kind(Operation::AddService, libc::EEXIST),
            ErrorKind::ServiceExists
        );
        assert_eq!(
            kind(Operation::AddDestination, libc::EEXIST),
            ErrorKind::DestinationExists
        );
        assert_eq!(
            kind(Operation::StartDaemon, libc::EEXIST),
            ErrorKind::DaemonExists
        );
        assert_eq!(
            kind(Operation::DeleteService, libc::ESRCH),
            ErrorKind::NoSuchService
        );
        assert_eq!(
            kind(Operation::AddDestination, libc::ESRCH),
            ErrorKind::NoSuchService
        );
        assert_eq!(
            kind(Operation::StopDaemon, libc::ESRCH),
            ErrorKind::NoSuchDaemon
        );
        assert_eq!(
            kind(Operation::AddService, libc::ENOENT),
            ErrorKind::SchedulerNotFound
        );
        assert_eq!(
            kind(Operation::EditDestination, libc::ENOENT),
            ErrorKind::NoSuchDestination
        );
        assert_eq!(
            kind(Operation::AddDestination, libc::ERANGE),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(Operation::ListServices, libc::EPERM),
            ErrorKind::PermissionDenied
        );
        assert_eq!(kind(Operation::Flush, libc::ENOMEM), ErrorKind::Kernel);
    }

    #[test]
    fn messages_name_the_operation_and_the_cause() {
        assert_eq!(
            Error::from_errno(Operation::AddService, libc::EEXIST).to_string(),
            "add service: service already exists"
        );
        assert_eq!(
            Error::from_errno(Operation::AddDestination, libc::ERANGE).to_string(),
            "add destination: invalid argument: weight or thresholds out of range (negative, or the lower threshold above the upper one)"
        );
        assert_eq!(
            Error::from_sys(Operation::Connect, ipvs_sys::Error::FamilyNotFound).to_string(),
            "connect to IPVS: IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)"
        );
        assert_eq!(
            Error::invalid(
                Operation::AddDestination,
                "weight 3000000000 is above 2147483647"
            )
            .to_string(),
            "add destination: invalid argument: weight 3000000000 is above 2147483647"
        );
        assert!(
            Error::from_errno(Operation::Flush, libc::ENOMEM)
                .to_string()
                .starts_with("flush: Cannot allocate memory")
        );
    }
}
