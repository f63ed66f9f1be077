//! Fast batches: many changes sent pipelined, several requests per datagram,
//! with one outcome per change.

use std::fmt;
use std::net::IpAddr;

use crate::destination::Destination;
use crate::error::{Error, Operation, Result};
use crate::handle::Ipvs;
use crate::key::{ServiceKey, fmt_socket};
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

    /// Checks the change as the single operations do.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidArgument`], saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        let checked = match self {
            Self::AddService(s) | Self::EditService(s) => s.validate(),
            Self::AddDestination(k, d) | Self::EditDestination(k, d) => d.validate(k.family()),
            _ => Ok(()),
        };
        checked.map_err(|e| Error::invalid(self.operation(), format!("{self}: {e}")))
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
    /// Every change is validated first; if one is invalid, nothing is sent.
    ///
    /// # Errors
    /// The outer error: a change was invalid (nothing was sent), or the
    /// exchange itself failed, after which it is unknown which changes of the
    /// batch were applied (read the table again).
    pub fn apply_changes(&self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        for change in changes {
            change.validate()?;
        }
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
