//! Fast batches: many changes sent pipelined, several requests per datagram,
//! with one outcome per change.

use std::fmt;
use std::net::IpAddr;

use crate::destination::Destination;
use crate::error::{Error, Operation, Result};
use crate::handle::Ipvs;
use crate::key::{ServiceKey, fmt_socket};
use crate::rules::Violation;
use crate::service::Service;
use crate::wire;

/// One change to the IPVS table (more kinds of change may come).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Add a virtual service.
    AddService(Service),
    /// Replace a service's configuration.
    EditService(Service),
    /// Delete a service and its real servers.
    DeleteService(ServiceKey),
    /// Add a real server to a service.
    AddDestination(ServiceKey, Destination),
    /// Replace a real server's configuration.
    EditDestination(ServiceKey, Destination),
    /// Delete a real server.
    DeleteDestination {
        /// Its service.
        service: ServiceKey,
        /// Its address.
        address: IpAddr,
        /// Its port.
        port: u16,
    },
    /// Zero the counters of one service.
    ZeroService(ServiceKey),
    /// Zero the counters of every service.
    ZeroAll,
    /// Delete every service.
    Flush,
}

impl Change {
    /// The operation this change is.
    pub fn operation(&self) -> Operation {
        match self {
            Self::AddService(_) => Operation::AddService,
            Self::EditService(_) => Operation::EditService,
            Self::DeleteService(_) => Operation::DeleteService,
            Self::AddDestination(..) => Operation::AddDestination,
            Self::EditDestination(..) => Operation::EditDestination,
            Self::DeleteDestination { .. } => Operation::DeleteDestination,
            Self::ZeroService(_) | Self::ZeroAll => Operation::Zero,
            Self::Flush => Operation::Flush,
        }
    }

    /// The rule the change breaks, if any: [`Service::validate`] or
    /// [`Destination::validate`]. (Whether a locally forwarded real server's
    /// address is the director's is checked when the batch is applied.)
    ///
    /// # Errors
    /// The first rule broken.
    pub fn check(&self) -> std::result::Result<(), Violation> {
        match self {
            Self::AddService(s) | Self::EditService(s) => s.validate(),
            Self::AddDestination(k, d) | Self::EditDestination(k, d) => d.validate(k),
            _ => Ok(()),
        }
    }

    /// Checks the change as the single operations do ([`Change::check`]).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidArgument`], saying what is wrong; its
    /// [`Error::violation`] is the rule.
    pub fn validate(&self) -> Result<()> {
        self.check()
            .map_err(|v| Error::refused(self.operation(), Some(self.to_string()), v))
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddService(s) => write!(f, "add service {s}"),
            Self::EditService(s) => write!(f, "edit service {s}"),
            Self::DeleteService(k) => write!(f, "delete service {k}"),
            Self::AddDestination(k, d) => write!(f, "add real server {d} to {k}"),
            Self::EditDestination(k, d) => write!(f, "edit real server {d} of {k}"),
            Self::DeleteDestination {
                service,
                address,
                port,
            } => {
                f.write_str("delete real server ")?;
                fmt_socket(f, address, *port)?;
                write!(f, " of {service}")
            }
            Self::ZeroService(k) => write!(f, "zero counters of {k}"),
            Self::ZeroAll => f.write_str("zero every counter"),
            Self::Flush => f.write_str("flush every service"),
        }
    }
}

impl Ipvs {
    /// Applies `changes` in order, pipelined: requests go out many per
    /// datagram and their acknowledgements are matched by sequence number.
    /// The kernel goes on after a failed change, so the result holds one
    /// outcome per change, in order.
    ///
    /// Every change is validated first ([`Change::validate`], and the
    /// addresses of locally forwarded real servers); if one is invalid,
    /// nothing is sent.
    ///
    /// # Errors
    /// The outer error: a change was invalid (nothing was sent), or the
    /// exchange itself failed, after which it is unknown which changes of the
    /// batch were applied (read the table again).
    ///
    /// ```no_run
    /// use ipvs::{Change, Destination, ForwardMethod, Ipvs, Service, ServiceKey};
    ///
    /// let ipvs = Ipvs::new()?;
    /// let web: ServiceKey = "tcp 192.0.2.1:80".parse()?;
    /// let mut changes = vec![Change::AddService(Service::new(web))];
    /// for host in 11..=14 {
    ///     let rs = Destination::from_socket(format!("10.0.0.{host}:80").parse()?, ForwardMethod::Route);
    ///     changes.push(Change::AddDestination(web, rs));
    /// }
    /// for (change, outcome) in changes.iter().zip(ipvs.apply_changes(&changes)?) {
    ///     if let Err(e) = outcome {
    ///         eprintln!("{change}: {e}");
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_changes(&self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        for change in changes {
            self.validate_change(change)?;
        }
        self.send_changes(changes)
    }

    /// Checks a change as [`Ipvs::apply_changes`] does before sending:
    /// [`Change::validate`], and whether the address of a locally forwarded
    /// (or IPv6 link-local) real server is one of the director's.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidArgument`] with the rule
    /// ([`Error::violation`]); [`crate::ErrorKind::Io`] if the routing table
    /// cannot be asked.
    pub fn validate_change(&self, change: &Change) -> Result<()> {
        change.validate()?;
        if let Change::AddDestination(k, d) | Change::EditDestination(k, d) = change {
            self.check_own_addresses(change.operation(), [(k, d)])?;
        }
        Ok(())
    }

    /// [`Ipvs::apply_changes`] without the library's checks: the kernel alone
    /// decides, and answers in its own order (a missing service before a bad
    /// address). For tools whose answers must be the kernel's, such as an
    /// ipvsadm-compatible command line, which send only what passed
    /// [`Ipvs::validate_change`] or broke a rule the kernel enforces itself
    /// ([`Violation::kernel_errno`]); other callers want `apply_changes`.
    ///
    /// # Errors
    /// As [`Ipvs::apply_changes`], but never for an invalid change.
    pub fn apply_changes_unchecked(&self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        self.send_changes(changes)
    }

    /// [`Ipvs::apply_changes`] without the validation: for changes that put
    /// back what the kernel held (which it took, whatever this library
    /// would refuse from a caller).
    pub(crate) fn send_changes(&self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        let messages = changes.iter().map(wire::change).collect();
        let outcomes = self.pipeline(messages).map_err(|e| {
            Error::new(
                changes.first().map_or(Operation::Flush, Change::operation),
                crate::ErrorKind::Io,
                format!("the batch exchange failed, some changes may be applied: {e}"),
            )
        })?;
        Ok(changes
            .iter()
            .zip(outcomes)
            .map(|(change, outcome)| {
                outcome.map_err(|errno| Error::from_errno(change.operation(), errno))
            })
            .collect())
    }
}
