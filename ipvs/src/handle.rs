//! The handle: one netlink socket to the kernel's IPVS, in one network
//! namespace, and every operation on it.

use std::collections::HashSet;
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ipvs_sys::{IpvsCmd, IpvsCmdAttr, IpvsInfoAttr, IpvsMessage, IpvsSocket};

use crate::daemon::{DaemonRole, SyncDaemon};
use crate::destination::Destination;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::info::{KernelInfo, Version};
use crate::key::ServiceKey;
use crate::namespace;
use crate::proc;
use crate::service::{Persistence, SchedFlags, Scheduler, Service};
use crate::stats::{DestinationInfo, ServiceInfo};
use crate::timeouts::Timeouts;
use crate::wire;

/// A handle on the kernel's IPVS in one network namespace.
///
/// It owns one netlink socket, opened when the handle is made, and sends one
/// request at a time on it. It is `Send` and `Sync`: threads may share it
/// (through an `Arc`), and their requests are serialized; the kernel runs
/// every IPVS configuration change under one global mutex anyway.
///
/// Every operation needs `CAP_NET_ADMIN` in the namespace, listing included.
#[derive(Debug)]
pub struct Ipvs {
    socket: Mutex<IpvsSocket>,
    /// `/proc/net/ip_vs_conn` as opened in the handle's namespace.
    pub(crate) conn_table: Mutex<Option<File>>,
    /// `/proc/net/ip_vs` as opened in the handle's namespace.
    pub(crate) proc_table: Mutex<Option<File>>,
    /// The namespace of a handle made for another one than the caller's.
    netns: Option<OwnedFd>,
}

/// A partial edit of a service: fields left `None` keep their current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUpdate {
    /// A new scheduler.
    pub scheduler: Option<Scheduler>,
    /// New scheduler flags.
    pub sched_flags: Option<SchedFlags>,
    /// Persistence on (`Some(Some(..))`) or off (`Some(None)`).
    pub persistence: Option<Option<Persistence>>,
    /// A persistence engine, or none.
    pub persistence_engine: Option<Option<String>>,
    /// One-packet scheduling on or off.
    pub one_packet: Option<bool>,
}

/// A partial edit of a real server: fields left `None` keep their current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationUpdate {
    /// A new weight (0 drains the real server).
    pub weight: Option<u32>,
    /// A new upper connection threshold.
    pub upper_threshold: Option<u32>,
    /// A new lower connection threshold.
    pub lower_threshold: Option<u32>,
}

fn msg(cmd: IpvsCmd, attrs: Vec<IpvsCmdAttr>) -> IpvsMessage {
    IpvsMessage::new(cmd, attrs)
}

impl Ipvs {
    /// A handle in the calling thread's network namespace.
    ///
    /// # Errors
    /// [`ErrorKind::NotAvailable`] when the kernel has no IPVS (the hint is to
    /// load `ip_vs`; this library never loads modules itself), [`ErrorKind::Io`]
    /// when the socket cannot be opened.
    pub fn new() -> Result<Self> {
        let socket = IpvsSocket::connect().map_err(|e| Error::from_sys(Operation::Connect, e))?;
        Ok(Self {
            socket: Mutex::new(socket),
            conn_table: Mutex::new(proc::open("ip_vs_conn")),
            proc_table: Mutex::new(proc::open("ip_vs")),
            netns: None,
        })
    }

    /// A handle in the network namespace of `path`, such as
    /// `/run/netns/NAME` or `/proc/PID/ns/net`. The calling thread stays in
    /// its own namespace: a helper thread opens the socket there.
    ///
    /// # Errors
    /// As [`Ipvs::new`], and [`ErrorKind::InvalidArgument`] if `path` is not a
    /// network namespace, [`ErrorKind::PermissionDenied`] without `CAP_SYS_ADMIN`.
    pub fn in_namespace(path: impl AsRef<Path>) -> Result<Self> {
        let file = namespace::open(path.as_ref())?;
        Self::in_namespace_fd(std::os::fd::AsFd::as_fd(&file))
    }

    /// A handle in the network namespace of the descriptor `ns`.
    ///
    /// # Errors
    /// As [`Ipvs::in_namespace`].
    pub fn in_namespace_fd(ns: BorrowedFd<'_>) -> Result<Self> {
        let mut handle = namespace::run_in(ns, Self::new)?;
        handle.netns = Some(ns.try_clone_to_owned().map_err(|e| {
            Error::new(Operation::Connect, ErrorKind::Io, format!("namespace: {e}"))
        })?);
        Ok(handle)
    }

    /// Runs `f` in the handle's network namespace: on a helper thread if the
    /// handle was made for another namespace than the caller's.
    pub(crate) fn in_own_namespace<T: Send>(
        &self,
        f: impl FnOnce() -> Result<T> + Send,
    ) -> Result<T> {
        match &self.netns {
            Some(ns) => namespace::run_in(ns.as_fd(), f),
            None => f(),
        }
    }

    fn socket(&self) -> MutexGuard<'_, IpvsSocket> {
        // A panic while holding the lock cannot leave the socket half-used:
        // every exchange reads its answer to the end or skips stale ones.
        self.socket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn request(&self, op: Operation, message: IpvsMessage) -> Result<Vec<IpvsMessage>> {
        self.socket()
            .request(message)
            .map_err(|e| Error::from_sys(op, e))
    }

    fn dump(&self, op: Operation, message: IpvsMessage) -> Result<Vec<IpvsMessage>> {
        self.socket()
            .dump(message)
            .map_err(|e| Error::from_sys(op, e))
    }

    /// The kernel's IPVS version and connection table size.
    ///
    /// # Errors
    /// When the kernel refuses or the answer is malformed.
    pub fn info(&self) -> Result<KernelInfo> {
        let replies = self.request(Operation::Info, msg(IpvsCmd::GetInfo, vec![]))?;
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
            _ => Err(Error::new(
                Operation::Info,
                ErrorKind::Protocol,
                "the info reply lacks the version or size",
            )),
        }
    }

    /// Every virtual service with its counters (without real servers: see
    /// [`Ipvs::read_table`]). Services are in the kernel's order.
    ///
    /// The kernel's dump is not a snapshot: it resumes each reply datagram
    /// (about a hundred services) at a position counted over the services of
    /// every namespace, so a service added or deleted meanwhile, even in
    /// another namespace, can make it repeat a service (listed here once) or
    /// skip one. [`Ipvs::read_table`] can look up what it skipped
    /// ([`ReadOptions::settled`](crate::ReadOptions::settled)).
    ///
    /// # Errors
    /// When the kernel refuses (`PermissionDenied` without `CAP_NET_ADMIN`).
    pub fn services(&self) -> Result<Vec<ServiceInfo>> {
        let op = Operation::ListServices;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut bad = None;
        // Each reply is read as it arrives: a table of 100,000 services is
        // never held twice, as messages and as services.
        self.socket()
            .dump_each(msg(IpvsCmd::GetService, vec![]), |reply| {
                for attr in reply.cmd_attrs() {
                    if let IpvsCmdAttr::Service(attrs) = attr {
                        match wire::service_from_attrs(attrs) {
                            Ok(info) if seen.insert(info.service.key) => out.push(info),
                            Ok(_) => {}
                            Err(e) => {
                                bad.get_or_insert(e);
                            }
                        }
                    }
                }
            })
            .map_err(|e| Error::from_sys(op, e))?;
        match bad {
            Some(e) => Err(Error::new(op, ErrorKind::Protocol, e)),
            None => {
                // Large tables keep what they use, not what the Vec grew to.
                out.shrink_to_fit();
                Ok(out)
            }
        }
    }

    /// One virtual service with its counters.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`] if there is none with that key.
    pub fn service(&self, key: &ServiceKey) -> Result<ServiceInfo> {
        let op = Operation::GetService;
        let replies = self.request(
            op,
            msg(
                IpvsCmd::GetService,
                vec![IpvsCmdAttr::Service(wire::service_key_attrs(key))],
            ),
        )?;
        replies
            .iter()
            .flat_map(IpvsMessage::cmd_attrs)
            .find_map(|attr| match attr {
                IpvsCmdAttr::Service(attrs) => Some(wire::service_from_attrs(attrs)),
                _ => None,
            })
            .ok_or_else(|| Error::new(op, ErrorKind::Protocol, "the service reply has no service"))?
            .map_err(|e| Error::new(op, ErrorKind::Protocol, e))
    }

    /// The real servers of a service, newest first (the kernel's order).
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`] if the service does not exist (the kernel
    /// answers an empty list then; this checks).
    pub fn destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationInfo>> {
        let out = self.dump_destinations(key)?;
        if out.is_empty() {
            // An empty dump also means "no such service": tell them apart.
            self.service(key).map_err(|e| match e.kind() {
                ErrorKind::NoSuchService => {
                    Error::from_errno(Operation::ListDestinations, libc::ESRCH)
                }
                _ => e,
            })?;
        }
        Ok(out)
    }

    /// The real servers of a service as the kernel dumps them (an unknown
    /// service gives an empty list).
    pub(crate) fn dump_destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationInfo>> {
        let op = Operation::ListDestinations;
        let replies = self.dump(
            op,
            msg(
                IpvsCmd::GetDest,
                vec![IpvsCmdAttr::Service(wire::service_key_attrs(key))],
            ),
        )?;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(replies.len());
        for attr in replies.iter().flat_map(IpvsMessage::cmd_attrs) {
            if let IpvsCmdAttr::Dest(attrs) = attr {
                let info = wire::dest_from_attrs(attrs, key.family())
                    .map_err(|e| Error::new(op, ErrorKind::Protocol, e))?;
                if seen.insert((info.destination.address, info.destination.port)) {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    fn send_change(&self, op: Operation, cmd: IpvsCmd, attrs: Vec<IpvsCmdAttr>) -> Result<()> {
        self.request(op, msg(cmd, attrs)).map(drop)
    }

    /// Adds a virtual service.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if [`Service::validate`]
    /// refuses it, [`ErrorKind::ServiceExists`], [`ErrorKind::SchedulerNotFound`].
    pub fn add_service(&self, service: &Service) -> Result<()> {
        let op = Operation::AddService;
        service.validate().map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::NewService,
            vec![IpvsCmdAttr::Service(wire::service_attrs(service, u32::MAX))],
        )
    }

    /// Replaces the configuration of an existing service with `service`
    /// (its key says which).
    ///
    /// # Errors
    /// As [`Ipvs::add_service`], with [`ErrorKind::NoSuchService`].
    pub fn update_service(&self, service: &Service) -> Result<()> {
        let op = Operation::EditService;
        service.validate().map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::SetService,
            vec![IpvsCmdAttr::Service(wire::service_attrs(service, u32::MAX))],
        )
    }

    /// Changes only some fields of a service and returns the result. Flag
    /// changes go through the kernel's flag mask, so other flag bits are left
    /// alone even if they change meanwhile; the scheduler, timeout, netmask and
    /// engine have no mask and are read and written back.
    ///
    /// # Errors
    /// As [`Ipvs::update_service`].
    pub fn update_service_with(&self, key: &ServiceKey, update: &ServiceUpdate) -> Result<Service> {
        let op = Operation::EditService;
        let mut service = self.service(key).map_err(|e| relabel(e, op))?.service;
        let mut mask = 0;
        if let Some(s) = &update.scheduler {
            service.scheduler = s.clone();
        }
        if let Some(f) = update.sched_flags {
            service.sched_flags = f;
            mask |= SchedFlags::ALL.to_service_flags();
        }
        if let Some(p) = update.persistence {
            service.persistence = p;
            mask |= ipvs_sys::constants::IP_VS_SVC_F_PERSISTENT;
        }
        if let Some(pe) = &update.persistence_engine {
            service.persistence_engine = pe.clone();
        }
        if let Some(o) = update.one_packet {
            service.one_packet = o;
            mask |= ipvs_sys::constants::IP_VS_SVC_F_ONEPACKET;
        }
        service.validate().map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::SetService,
            vec![IpvsCmdAttr::Service(wire::service_attrs(&service, mask))],
        )?;
        Ok(service)
    }

    /// Deletes a virtual service and its real servers.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`].
    pub fn delete_service(&self, key: &ServiceKey) -> Result<()> {
        self.send_change(
            Operation::DeleteService,
            IpvsCmd::DelService,
            vec![IpvsCmdAttr::Service(wire::service_key_attrs(key))],
        )
    }

    /// Adds a real server to a service.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if
    /// [`Destination::validate`] refuses it, [`ErrorKind::NoSuchService`],
    /// [`ErrorKind::DestinationExists`], and the kernel's `InvalidArgument`
    /// (a multicast or broadcast address, say).
    pub fn add_destination(&self, service: &ServiceKey, destination: &Destination) -> Result<()> {
        let op = Operation::AddDestination;
        destination
            .validate(service.family())
            .map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::NewDest,
            dest_cmd_attrs(service, wire::dest_attrs(destination)),
        )
    }

    /// Replaces the configuration of a real server (its address and port say which).
    ///
    /// # Errors
    /// As [`Ipvs::add_destination`], with [`ErrorKind::NoSuchDestination`].
    pub fn update_destination(
        &self,
        service: &ServiceKey,
        destination: &Destination,
    ) -> Result<()> {
        let op = Operation::EditDestination;
        destination
            .validate(service.family())
            .map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::SetDest,
            dest_cmd_attrs(service, wire::dest_attrs(destination)),
        )
    }

    /// Changes only some fields of a real server (such as its weight, to
    /// drain it) and returns the result.
    ///
    /// # Errors
    /// As [`Ipvs::update_destination`].
    pub fn update_destination_with(
        &self,
        service: &ServiceKey,
        address: IpAddr,
        port: u16,
        update: &DestinationUpdate,
    ) -> Result<Destination> {
        let op = Operation::EditDestination;
        let mut dest = self
            .destinations(service)
            .map_err(|e| relabel(e, op))?
            .into_iter()
            .map(|d| d.destination)
            .find(|d| d.address == address && d.port == port)
            .ok_or_else(|| Error::from_errno(op, libc::ENOENT))?;
        dest.weight = update.weight.unwrap_or(dest.weight);
        dest.upper_threshold = update.upper_threshold.unwrap_or(dest.upper_threshold);
        dest.lower_threshold = update.lower_threshold.unwrap_or(dest.lower_threshold);
        self.update_destination(service, &dest)?;
        Ok(dest)
    }

    /// Deletes a real server.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`], [`ErrorKind::NoSuchDestination`].
    pub fn delete_destination(
        &self,
        service: &ServiceKey,
        address: IpAddr,
        port: u16,
    ) -> Result<()> {
        self.send_change(
            Operation::DeleteDestination,
            IpvsCmd::DelDest,
            dest_cmd_attrs(service, wire::dest_key_attrs(&address, port)),
        )
    }

    /// Zeroes the counters of every service and real server.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn zero_all(&self) -> Result<()> {
        self.send_change(Operation::Zero, IpvsCmd::Zero, vec![])
    }

    /// Zeroes the counters of one service and its real servers.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`].
    pub fn zero_service(&self, key: &ServiceKey) -> Result<()> {
        self.send_change(
            Operation::Zero,
            IpvsCmd::Zero,
            vec![IpvsCmdAttr::Service(wire::service_key_attrs(key))],
        )
    }

    /// Deletes every virtual service.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn flush(&self) -> Result<()> {
        self.send_change(Operation::Flush, IpvsCmd::Flush, vec![])
    }

    /// The connection timeouts.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn timeouts(&self) -> Result<Timeouts> {
        let replies = self.request(Operation::GetTimeouts, msg(IpvsCmd::GetConfig, vec![]))?;
        Ok(wire::timeouts_from_attrs(
            &replies
                .iter()
                .flat_map(IpvsMessage::cmd_attrs)
                .cloned()
                .collect::<Vec<_>>(),
        ))
    }

    /// Sets the connection timeouts; a 0 leaves that one unchanged.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a value the kernel refuses (above
    /// `INT_MAX / HZ`).
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<()> {
        self.send_change(
            Operation::SetTimeouts,
            IpvsCmd::SetConfig,
            wire::timeout_attrs(timeouts),
        )
    }

    /// Starts a connection sync daemon.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if
    /// [`SyncDaemon::validate`] refuses it, or from the kernel (no such
    /// interface: `InvalidArgument` with errno `ENODEV`), [`ErrorKind::DaemonExists`].
    pub fn start_daemon(&self, daemon: &SyncDaemon) -> Result<()> {
        let op = Operation::StartDaemon;
        daemon.validate().map_err(|e| Error::invalid(op, e))?;
        self.send_change(
            op,
            IpvsCmd::NewDaemon,
            vec![IpvsCmdAttr::Daemon(wire::daemon_attrs(daemon))],
        )
    }

    /// Stops the sync daemon of a role.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchDaemon`] if none runs in that role.
    pub fn stop_daemon(&self, role: DaemonRole) -> Result<()> {
        let attrs = vec![ipvs_sys::IpvsDaemonAttr::State(role.to_raw())];
        self.send_change(
            Operation::StopDaemon,
            IpvsCmd::DelDaemon,
            vec![IpvsCmdAttr::Daemon(attrs)],
        )
    }

    /// The running sync daemons (master first), with the kernel's values for
    /// every field.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn daemons(&self) -> Result<Vec<SyncDaemon>> {
        let op = Operation::ListDaemons;
        let replies = self.dump(op, msg(IpvsCmd::GetDaemon, vec![]))?;
        replies
            .iter()
            .flat_map(IpvsMessage::cmd_attrs)
            .filter_map(|attr| match attr {
                IpvsCmdAttr::Daemon(attrs) => Some(
                    wire::daemon_from_attrs(attrs)
                        .map_err(|e| Error::new(op, ErrorKind::Protocol, e)),
                ),
                _ => None,
            })
            .collect()
    }

    /// Sends many requests pipelined on the handle's socket (see [`crate::batch`]).
    pub(crate) fn pipeline(
        &self,
        messages: Vec<IpvsMessage>,
    ) -> std::result::Result<Vec<std::result::Result<(), i32>>, ipvs_sys::Error> {
        let outcomes = self.socket().pipeline(messages)?;
        Ok(outcomes
            .into_iter()
            .map(|o| o.map(drop).map_err(|e| e.errno().unwrap_or(libc::EPROTO)))
            .collect())
    }
}

/// The service and dest nests of a dest command.
pub(crate) fn dest_cmd_attrs(
    service: &ServiceKey,
    dest: Vec<ipvs_sys::IpvsDestAttr>,
) -> Vec<IpvsCmdAttr> {
    vec![
        IpvsCmdAttr::Service(wire::service_key_attrs(service)),
        IpvsCmdAttr::Dest(dest),
    ]
}

/// The same failure, reported as part of `op`.
fn relabel(err: Error, op: Operation) -> Error {
    match err.errno() {
        Some(errno) if err.kind() != ErrorKind::Io => Error::from_errno(op, errno),
        _ => err,
    }
}
