//! The handle: one netlink socket to the kernel's IPVS, in one network
//! namespace (or any other [`Transport`]), and every operation on it. What
//! goes on the wire is built and read by [`crate::wire`].

use rustc_hash::FxHashSet;
use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ipvs_sys::{IpvsMessage, IpvsSocket, NetlinkTransport, Transport};

use crate::daemon::{DaemonRole, SyncDaemon};
use crate::destination::Destination;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::info::KernelInfo;
use crate::key::ServiceKey;
use crate::local::Routes;
use crate::namespace;
use crate::proc;
use crate::rules;
use crate::service::{Persistence, SchedFlags, Scheduler, Service};
use crate::stats::{DestinationInfo, ServiceInfo};
use crate::timeouts::Timeouts;
use crate::wire;
use crate::wire::FlagFields;

/// A handle on the kernel's IPVS in one network namespace.
///
/// It owns one netlink socket, opened when the handle is made, and sends one
/// request at a time on it. It is `Send` and `Sync`: threads may share it
/// (through an `Arc`), and their requests are serialized; the kernel runs
/// every IPVS configuration change under one global mutex anyway.
///
/// Every operation needs `CAP_NET_ADMIN` in the namespace, listing included.
pub struct Ipvs {
    socket: Mutex<Socket>,
    /// `/proc/net/ip_vs_conn` as opened in the handle's namespace.
    pub(crate) conn_table: Mutex<Option<File>>,
    /// `/proc/net/ip_vs` as opened in the handle's namespace.
    pub(crate) proc_table: Mutex<Option<File>>,
    /// The namespace of a handle made for another one than the caller's.
    netns: Option<OwnedFd>,
}

/// The socket of a handle, over whatever transport it was made with.
type Socket = IpvsSocket<Box<dyn Transport + Send>>;

impl std::fmt::Debug for Ipvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ipvs")
            .field("netns", &self.netns)
            .finish_non_exhaustive()
    }
}

/// A partial edit of a service: fields left `None` keep their current value.
///
/// Build it with [`ServiceUpdate::new`] and its `with_*` methods (it may gain
/// fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
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
///
/// Build it with [`DestinationUpdate::new`] and its `with_*` methods (it may
/// gain fields).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DestinationUpdate {
    /// A new weight (0 drains the real server).
    pub weight: Option<u32>,
    /// A new upper connection threshold.
    pub upper_threshold: Option<u32>,
    /// A new lower connection threshold.
    pub lower_threshold: Option<u32>,
}

impl ServiceUpdate {
    /// An edit that changes nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes the scheduler.
    #[must_use]
    pub fn with_scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Changes the scheduler flags.
    #[must_use]
    pub fn with_sched_flags(mut self, flags: SchedFlags) -> Self {
        self.sched_flags = Some(flags);
        self
    }

    /// Turns persistence on (`Some`) or off (`None`).
    #[must_use]
    pub fn with_persistence(mut self, persistence: Option<Persistence>) -> Self {
        self.persistence = Some(persistence);
        self
    }

    /// Sets (`Some`) or removes (`None`) the persistence engine.
    #[must_use]
    pub fn with_persistence_engine(mut self, engine: Option<String>) -> Self {
        self.persistence_engine = Some(engine);
        self
    }

    /// Turns one-packet scheduling on or off.
    #[must_use]
    pub fn with_one_packet(mut self, one_packet: bool) -> Self {
        self.one_packet = Some(one_packet);
        self
    }
}

impl DestinationUpdate {
    /// An edit that changes nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes the weight (0 drains the real server).
    #[must_use]
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Changes the upper connection threshold.
    #[must_use]
    pub fn with_upper_threshold(mut self, threshold: u32) -> Self {
        self.upper_threshold = Some(threshold);
        self
    }

    /// Changes the lower connection threshold.
    #[must_use]
    pub fn with_lower_threshold(mut self, threshold: u32) -> Self {
        self.lower_threshold = Some(threshold);
        self
    }
}

impl Ipvs {
    /// A handle in the calling thread's network namespace.
    ///
    /// # Errors
    /// [`ErrorKind::NotAvailable`] when the kernel has no IPVS (the hint is to
    /// load `ip_vs`; this library never loads modules itself), [`ErrorKind::Io`]
    /// when the socket cannot be opened.
    pub fn new() -> Result<Self> {
        let transport = NetlinkTransport::open()
            .map_err(|e| Error::from_sys(Operation::Connect, ipvs_sys::Error::Io(e)))?;
        let mut handle = Self::with_transport(transport)?;
        handle.conn_table = Mutex::new(proc::open("ip_vs_conn"));
        handle.proc_table = Mutex::new(proc::open("ip_vs"));
        Ok(handle)
    }

    /// A handle over any transport of netlink datagrams, such as
    /// [`ipvs_sys::scripted::ScriptedKernel`] in tests. It resolves the
    /// "IPVS" family over it. Such a handle has no `/proc/net` files: the
    /// reads that need them (connections, brief listings) fail with
    /// [`ErrorKind::Io`].
    ///
    /// # Errors
    /// As [`Ipvs::new`].
    pub fn with_transport(transport: impl Transport + Send + 'static) -> Result<Self> {
        let transport: Box<dyn Transport + Send> = Box::new(transport);
        let socket = IpvsSocket::with_transport(transport)
            .map_err(|e| Error::from_sys(Operation::Connect, e))?;
        Ok(Self {
            socket: Mutex::new(socket),
            conn_table: Mutex::new(None),
            proc_table: Mutex::new(None),
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

    fn socket(&self) -> MutexGuard<'_, Socket> {
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
        let op = Operation::Info;
        let replies = self.request(op, wire::get_info())?;
        wire::read_info(&replies).map_err(|e| protocol(op, e))
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
        let mut seen = FxHashSet::default();
        let mut out = Vec::new();
        let mut bad = None;
        // Each reply is read as it arrives: a table of 100,000 services is
        // never held twice, as messages and as services.
        self.socket()
            .dump_each(wire::get_services(), |reply| {
                for read in wire::services_of(&reply) {
                    match read {
                        Ok(info) if seen.insert(info.service.key) => out.push(info),
                        Ok(_) => {}
                        Err(e) => {
                            bad.get_or_insert(e);
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
        let replies = self.request(op, wire::get_service(key))?;
        wire::read_service(&replies).map_err(|e| protocol(op, e))
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
        let replies = self.dump(op, wire::get_destinations(key))?;
        wire::read_destinations(&replies, key.family()).map_err(|e| protocol(op, e))
    }

    fn send_change(&self, op: Operation, message: IpvsMessage) -> Result<()> {
        self.request(op, message).map(drop)
    }

    /// Adds a virtual service.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if [`Service::validate`]
    /// refuses it, [`ErrorKind::ServiceExists`], [`ErrorKind::SchedulerNotFound`].
    pub fn add_service(&self, service: &Service) -> Result<()> {
        let op = Operation::AddService;
        service
            .validate()
            .map_err(|v| Error::refused(op, None, v))?;
        self.send_change(op, wire::new_service(service))
    }

    /// Replaces the configuration of an existing service with `service`
    /// (its key says which).
    ///
    /// # Errors
    /// As [`Ipvs::add_service`], with [`ErrorKind::NoSuchService`].
    pub fn update_service(&self, service: &Service) -> Result<()> {
        let op = Operation::EditService;
        service
            .validate()
            .map_err(|v| Error::refused(op, None, v))?;
        self.send_change(op, wire::set_service(service))
    }

    /// Changes only some fields of a service and returns the result. Flag
    /// changes go through the kernel's flag mask, so other flag bits are left
    /// alone even if they change meanwhile; the scheduler, timeout, netmask and
    /// engine have no mask and are read and written back.
    ///
    /// Not atomic: the kernel has no partial edit, so this reads the service
    /// and writes it back whole. Another program's change to the scheduler,
    /// timeout, netmask or engine between the two is overwritten.
    ///
    /// # Errors
    /// As [`Ipvs::update_service`].
    pub fn update_service_with(&self, key: &ServiceKey, update: &ServiceUpdate) -> Result<Service> {
        let op = Operation::EditService;
        let found = self.service(key).map_err(|e| relabel(e, op))?.service;
        let mut service = found.clone();
        let mut fields = FlagFields::default();
        if let Some(s) = &update.scheduler {
            service.scheduler = s.clone();
        }
        if let Some(f) = update.sched_flags {
            service.sched_flags = f;
            fields.sched_flags = true;
        }
        if let Some(p) = update.persistence {
            service.persistence = p;
            fields.persistence = true;
        }
        if let Some(pe) = &update.persistence_engine {
            service.persistence_engine = pe.clone();
        }
        if let Some(o) = update.one_packet {
            service.one_packet = o;
            fields.one_packet = true;
        }
        // A rule the kernel's own record already broke (set by another
        // tool) is not the caller's doing: only a new one refuses the edit.
        if let Err(v) = service.validate()
            && found.validate() != Err(v.clone())
        {
            return Err(Error::refused(op, None, v));
        }
        self.send_change(op, wire::set_service_fields(&service, fields))?;
        Ok(service)
    }

    /// Deletes a virtual service and its real servers.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`].
    pub fn delete_service(&self, key: &ServiceKey) -> Result<()> {
        self.send_change(Operation::DeleteService, wire::delete_service(key))
    }

    /// Adds a real server to a service.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if
    /// [`Destination::validate`] refuses it, or if it forwards locally to an
    /// address that is not one of the handle's namespace;
    /// [`ErrorKind::NoSuchService`], [`ErrorKind::DestinationExists`], and
    /// the kernel's `InvalidArgument` (a broadcast address of a local
    /// subnet, say).
    pub fn add_destination(&self, service: &ServiceKey, destination: &Destination) -> Result<()> {
        let op = Operation::AddDestination;
        destination
            .validate(service)
            .map_err(|v| Error::refused(op, None, v))?;
        self.check_own_addresses(op, [(service, destination)])?;
        self.send_change(op, wire::new_destination(service, destination))
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
            .validate(service)
            .map_err(|v| Error::refused(op, None, v))?;
        self.check_own_addresses(op, [(service, destination)])?;
        self.send_change(op, wire::set_destination(service, destination))
    }

    /// Changes only some fields of a real server (such as its weight, to
    /// drain it) and returns the result.
    ///
    /// Not atomic: the kernel has no partial edit, so this reads the real
    /// server and writes it back whole. Another program's change between the
    /// two (to its forwarding, tunnel, or the fields not updated) is
    /// overwritten.
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
        let found = self
            .destinations(service)
            .map_err(|e| relabel(e, op))?
            .into_iter()
            .map(|d| d.destination)
            .find(|d| d.address == address && d.port == port)
            .ok_or_else(|| Error::from_errno(op, libc::ENOENT))?;
        let mut dest = found.clone();
        dest.weight = update.weight.unwrap_or(dest.weight);
        dest.upper_threshold = update.upper_threshold.unwrap_or(dest.upper_threshold);
        dest.lower_threshold = update.lower_threshold.unwrap_or(dest.lower_threshold);
        // As in `update_service_with`: only a rule the update breaks refuses
        // it (a routed real server at another port than its service's, made
        // by another tool, can still be drained).
        if let Err(v) = dest.validate(service)
            && found.validate(service) != Err(v.clone())
        {
            return Err(Error::refused(op, None, v));
        }
        self.send_change(op, wire::set_destination(service, &dest))?;
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
            wire::delete_destination(service, &address, port),
        )
    }

    /// Zeroes the counters of every service and real server.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn zero_all(&self) -> Result<()> {
        self.send_change(Operation::Zero, wire::zero_all())
    }

    /// Zeroes the counters of one service and its real servers.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchService`].
    pub fn zero_service(&self, key: &ServiceKey) -> Result<()> {
        self.send_change(Operation::Zero, wire::zero_service(key))
    }

    /// Deletes every virtual service.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn flush(&self) -> Result<()> {
        self.send_change(Operation::Flush, wire::flush())
    }

    /// The connection timeouts.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn timeouts(&self) -> Result<Timeouts> {
        let replies = self.request(Operation::GetTimeouts, wire::get_config())?;
        Ok(wire::read_timeouts(&replies))
    }

    /// Sets the connection timeouts; a 0 leaves that one unchanged.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if
    /// [`Timeouts::validate`] refuses them, or from the kernel above
    /// `INT_MAX / HZ` seconds (2147483 at HZ=1000).
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<()> {
        let op = Operation::SetTimeouts;
        timeouts
            .validate()
            .map_err(|v| Error::refused(op, None, v))?;
        self.send_change(op, wire::set_config(timeouts))
    }

    /// Starts a connection sync daemon.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] (nothing sent) if
    /// [`SyncDaemon::validate`] refuses it, or from the kernel (no such
    /// interface: `InvalidArgument` with errno `ENODEV`), [`ErrorKind::DaemonExists`].
    pub fn start_daemon(&self, daemon: &SyncDaemon) -> Result<()> {
        let op = Operation::StartDaemon;
        daemon.validate().map_err(|v| Error::refused(op, None, v))?;
        self.send_change(op, wire::new_daemon(daemon))
    }

    /// Stops the sync daemon of a role.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchDaemon`] if none runs in that role.
    pub fn stop_daemon(&self, role: DaemonRole) -> Result<()> {
        self.send_change(Operation::StopDaemon, wire::delete_daemon(role))
    }

    /// The running sync daemons (master first), with the kernel's values for
    /// every field.
    ///
    /// # Errors
    /// When the kernel refuses.
    pub fn daemons(&self) -> Result<Vec<SyncDaemon>> {
        let op = Operation::ListDaemons;
        let replies = self.dump(op, wire::get_daemons())?;
        wire::read_daemons(&replies).map_err(|e| protocol(op, e))
    }

    /// Checks the real servers that are valid only at one of the director's
    /// own addresses (local forwarding, an IPv6 link-local address) against
    /// the addresses of the handle's network namespace; a handle over
    /// another transport asks the caller's namespace. A routing socket is
    /// opened only if one needs it.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] naming the first real server whose
    /// address is not the director's; [`ErrorKind::Io`] if the routing table
    /// cannot be asked.
    pub(crate) fn check_own_addresses<'a>(
        &self,
        op: Operation,
        destinations: impl IntoIterator<Item = (&'a ServiceKey, &'a Destination)>,
    ) -> Result<()> {
        let mut routes: Option<Routes> = None;
        for (service, d) in destinations {
            let Some(violation) = rules::needs_local_address(d) else {
                continue;
            };
            let routes = match &mut routes {
                Some(r) => r,
                None => routes.insert(
                    self.in_own_namespace(|| Routes::open().map_err(|e| Error::io(op, e)))?,
                ),
            };
            if !routes.is_local(d.address).map_err(|e| Error::io(op, e))? {
                let context = format!("service {service}: real server {d}");
                return Err(Error::refused(op, Some(context), violation));
            }
        }
        Ok(())
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

/// A kernel answer the wire layer could not read, as an error of `op`.
fn protocol(op: Operation, err: wire::WireError) -> Error {
    Error::new(op, ErrorKind::Protocol, err)
}

/// The same failure, reported as part of `op`.
fn relabel(err: Error, op: Operation) -> Error {
    match err.errno() {
        Some(errno) if err.kind() != ErrorKind::Io => Error::from_errno(op, errno),
        _ => err,
    }
}

#[cfg(test)]
mod tests;
