//! Whole request messages built from domain values, and whole replies read
//! back into domain values.

use rustc_hash::FxHashSet;
use std::net::IpAddr;

use ipvs_sys::{IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsInfoAttr, IpvsMessage, IpvsServiceFlags};

use super::{
    WireError, daemon_attrs, daemon_from_attrs, dest_attrs, dest_from_attrs, dest_key_attrs,
    service_attrs, service_from_attrs, service_key_attrs, timeout_attrs, timeouts_from_attrs,
};
use crate::batch::Change;
use crate::daemon::{DaemonRole, SyncDaemon};
use crate::destination::Destination;
use crate::info::{KernelInfo, Version};
use crate::key::{AddressFamily, ServiceKey};
use crate::service::Service;
use crate::stats::{DestinationInfo, ServiceInfo};
use crate::timeouts::Timeouts;

/// Which flag-carrying fields of a service an edit changes: the kernel
/// changes only the flag bits of these (`struct ip_vs_flags` mask).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FlagFields {
    /// The scheduler flags.
    pub sched_flags: bool,
    /// Persistence on or off.
    pub persistence: bool,
    /// One-packet scheduling.
    pub one_packet: bool,
}

impl FlagFields {
    fn mask(self) -> IpvsServiceFlags {
        let mut mask = IpvsServiceFlags::empty();
        if self.sched_flags {
            mask |= IpvsServiceFlags::SCHED_MASK;
        }
        if self.persistence {
            mask |= IpvsServiceFlags::PERSISTENT;
        }
        if self.one_packet {
            mask |= IpvsServiceFlags::ONEPACKET;
        }
        mask
    }
}

fn service_nest(cmd: IpvsCmd, key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::new(cmd, vec![IpvsCmdAttr::Service(service_key_attrs(key))])
}

fn dest_message(
    cmd: IpvsCmd,
    service: &ServiceKey,
    dest: Vec<ipvs_sys::IpvsDestAttr>,
) -> IpvsMessage {
    IpvsMessage::new(
        cmd,
        vec![
            IpvsCmdAttr::Service(service_key_attrs(service)),
            IpvsCmdAttr::Dest(dest),
        ],
    )
}

/// `GET_INFO`.
pub(crate) fn get_info() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::GetInfo, vec![])
}

/// Reads the replies of `GET_INFO`.
pub(crate) fn read_info(replies: &[IpvsMessage]) -> Result<KernelInfo, WireError> {
    let (mut version, mut size) = (None, None);
    for attr in replies.iter().flat_map(IpvsMessage::info_attrs) {
        match attr {
            IpvsInfoAttr::Version(v) => version = Some(Version::from_code(*v)),
            IpvsInfoAttr::ConnTabSize(v) => size = Some(*v),
            _ => {}
        }
    }
    match (version, size) {
        (Some(version), Some(connection_table_size)) => Ok(KernelInfo {
            version,
            connection_table_size,
        }),
        _ => Err(WireError::IncompleteInfo),
    }
}

/// `GET_SERVICE` of every service (a dump).
pub(crate) fn get_services() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::GetService, vec![])
}

/// Reads each service of one message of a `GET_SERVICE` dump.
pub(crate) fn services_of(
    reply: &IpvsMessage,
) -> impl Iterator<Item = Result<ServiceInfo, WireError>> + '_ {
    reply.cmd_attrs().iter().filter_map(|attr| match attr {
        IpvsCmdAttr::Service(attrs) => Some(service_from_attrs(attrs)),
        _ => None,
    })
}

/// `GET_SERVICE` of one service.
pub(crate) fn get_service(key: &ServiceKey) -> IpvsMessage {
    service_nest(IpvsCmd::GetService, key)
}

/// Reads the reply of `GET_SERVICE` of one service.
pub(crate) fn read_service(replies: &[IpvsMessage]) -> Result<ServiceInfo, WireError> {
    replies
        .iter()
        .flat_map(IpvsMessage::cmd_attrs)
        .find_map(|attr| match attr {
            IpvsCmdAttr::Service(attrs) => Some(service_from_attrs(attrs)),
            _ => None,
        })
        .ok_or(WireError::NoReply("service"))?
}

/// `GET_DEST` of one service (a dump).
pub(crate) fn get_destinations(key: &ServiceKey) -> IpvsMessage {
    service_nest(IpvsCmd::GetDest, key)
}

/// Reads a dump of `GET_DEST`: the real servers of a service of `family`,
/// each once (a dump may repeat one), in the kernel's order.
pub(crate) fn read_destinations(
    replies: &[IpvsMessage],
    family: AddressFamily,
) -> Result<Vec<DestinationInfo>, WireError> {
    let mut seen = FxHashSet::default();
    let mut out = Vec::with_capacity(replies.len());
    for attr in replies.iter().flat_map(IpvsMessage::cmd_attrs) {
        if let IpvsCmdAttr::Dest(attrs) = attr {
            let info = dest_from_attrs(attrs, family)?;
            if seen.insert((info.destination.address, info.destination.port)) {
                out.push(info);
            }
        }
    }
    Ok(out)
}

/// `NEW_SERVICE`.
pub(crate) fn new_service(service: &Service) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::NewService,
        vec![IpvsCmdAttr::Service(service_attrs(
            service,
            IpvsServiceFlags::all_bits(),
        ))],
    )
}

/// `SET_SERVICE` replacing every flag bit.
pub(crate) fn set_service(service: &Service) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::SetService,
        vec![IpvsCmdAttr::Service(service_attrs(
            service,
            IpvsServiceFlags::all_bits(),
        ))],
    )
}

/// `SET_SERVICE` changing only the flag bits of `fields` (the scheduler,
/// timeout, netmask and engine have no mask: they are always sent).
pub(crate) fn set_service_fields(service: &Service, fields: FlagFields) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::SetService,
        vec![IpvsCmdAttr::Service(service_attrs(service, fields.mask()))],
    )
}

/// `DEL_SERVICE`.
pub(crate) fn delete_service(key: &ServiceKey) -> IpvsMessage {
    service_nest(IpvsCmd::DelService, key)
}

/// `NEW_DEST`.
pub(crate) fn new_destination(service: &ServiceKey, dest: &Destination) -> IpvsMessage {
    dest_message(IpvsCmd::NewDest, service, dest_attrs(dest))
}

/// `SET_DEST`.
pub(crate) fn set_destination(service: &ServiceKey, dest: &Destination) -> IpvsMessage {
    dest_message(IpvsCmd::SetDest, service, dest_attrs(dest))
}

/// `DEL_DEST`.
pub(crate) fn delete_destination(service: &ServiceKey, address: &IpAddr, port: u16) -> IpvsMessage {
    dest_message(IpvsCmd::DelDest, service, dest_key_attrs(address, port))
}

/// `ZERO` of every counter.
pub(crate) fn zero_all() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::Zero, vec![])
}

/// `ZERO` of one service's counters.
pub(crate) fn zero_service(key: &ServiceKey) -> IpvsMessage {
    service_nest(IpvsCmd::Zero, key)
}

/// `FLUSH`.
pub(crate) fn flush() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::Flush, vec![])
}

/// `GET_CONFIG`.
pub(crate) fn get_config() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::GetConfig, vec![])
}

/// Reads the timeouts of the replies of `GET_CONFIG`.
pub(crate) fn read_timeouts(replies: &[IpvsMessage]) -> Timeouts {
    timeouts_from_attrs(
        &replies
            .iter()
            .flat_map(IpvsMessage::cmd_attrs)
            .cloned()
            .collect::<Vec<_>>(),
    )
}

/// `SET_CONFIG` of the timeouts (0 leaves a value unchanged).
pub(crate) fn set_config(timeouts: &Timeouts) -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::SetConfig, timeout_attrs(timeouts))
}

/// `NEW_DAEMON`.
pub(crate) fn new_daemon(daemon: &SyncDaemon) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::NewDaemon,
        vec![IpvsCmdAttr::Daemon(daemon_attrs(daemon))],
    )
}

/// `DEL_DAEMON` of the daemon of `role`.
pub(crate) fn delete_daemon(role: DaemonRole) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::DelDaemon,
        vec![IpvsCmdAttr::Daemon(vec![IpvsDaemonAttr::State(
            role.into(),
        )])],
    )
}

/// `GET_DAEMON` (a dump).
pub(crate) fn get_daemons() -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::GetDaemon, vec![])
}

/// Reads a dump of `GET_DAEMON`.
pub(crate) fn read_daemons(replies: &[IpvsMessage]) -> Result<Vec<SyncDaemon>, WireError> {
    replies
        .iter()
        .flat_map(IpvsMessage::cmd_attrs)
        .filter_map(|attr| match attr {
            IpvsCmdAttr::Daemon(attrs) => Some(daemon_from_attrs(attrs)),
            _ => None,
        })
        .collect()
}

/// The request of one change of a batch.
pub(crate) fn change(change: &Change) -> IpvsMessage {
    match change {
        Change::AddService(s) => new_service(s),
        Change::EditService(s) => set_service(s),
        Change::DeleteService(k) => delete_service(k),
        Change::AddDestination(k, d) => new_destination(k, d),
        Change::EditDestination(k, d) => set_destination(k, d),
        Change::DeleteDestination {
            service,
            address,
            port,
        } => delete_destination(service, address, *port),
        Change::ZeroService(k) => zero_service(k),
        Change::ZeroAll => zero_all(),
        Change::Flush => flush(),
    }
}

/// Reads every nest of `messages` as the library does, whatever they are
/// replies to, ignoring the outcome: the entry point of the fuzz targets.
pub(crate) fn read_any(messages: &[IpvsMessage]) {
    for message in messages {
        services_of(message).for_each(drop);
        let attrs = message.cmd_attrs();
        for attr in attrs {
            match attr {
                IpvsCmdAttr::Dest(nest) => {
                    let _ = dest_from_attrs(nest, AddressFamily::Ipv4);
                    let _ = dest_from_attrs(nest, AddressFamily::Ipv6);
                }
                IpvsCmdAttr::Daemon(nest) => {
                    let _ = daemon_from_attrs(nest);
                }
                _ => {}
            }
        }
        let _ = timeouts_from_attrs(attrs);
    }
}
