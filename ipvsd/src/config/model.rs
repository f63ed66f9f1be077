//! The one configuration model both formats become, validated once; every
//! later stage (checkers, reconcile, status) trusts it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipvs::{
    AddressFamily, DaemonRole, Destination, ForwardMethod, Persistence, Protocol, SchedFlags,
    Scheduler, Service, ServiceKey, SyncDaemon, Timeouts, Tunnel,
};

use super::checker::Checker;

/// The default listen address of the status and metrics HTTP server:
/// localhost only, port 9613 (ipvsd's choice).
pub const DEFAULT_STATUS_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9613);

/// A whole, validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Settings of the director as a whole.
    pub global: Global,
    /// The virtual servers, in file order.
    pub virtual_servers: Vec<VirtualServer>,
    /// The VRRP instances, scripts and sync groups.
    pub vrrp: super::vrrp::Vrrp,
    /// Route health injection (native `[route_health]`); `None`: no
    /// address is announced.
    pub route_health: Option<super::route_health::RouteHealth>,
}

impl Model {
    /// Every kernel service the configuration declares, in order (a group
    /// gives one per member address and port or mark).
    pub fn service_keys(&self) -> impl Iterator<Item = &ServiceKey> {
        self.virtual_servers.iter().flat_map(|v| v.services.iter())
    }

    /// The number of real servers over all virtual servers.
    pub fn real_server_count(&self) -> usize {
        self.virtual_servers
            .iter()
            .map(|v| v.real_servers.len())
            .sum()
    }

    /// The number of checkers over all real servers.
    pub fn checker_count(&self) -> usize {
        self.virtual_servers
            .iter()
            .flat_map(|v| v.real_servers.iter())
            .map(|r| r.checkers.len())
            .sum()
    }
}

/// Director-wide settings: keepalived's LVS `global_defs` and ipvsd's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// `router_id`: this director's name in logs and notifications.
    pub router_id: Option<String>,
    /// `lvs_timeouts tcp N tcpfin N udp N`: IPVS connection timeouts, in
    /// seconds (0: leave the kernel's).
    pub lvs_timeouts: Option<Timeouts>,
    /// `lvs_sync_daemon`: the connection synchronisation daemon.
    pub lvs_sync_daemon: Option<SyncDaemonConfig>,
    /// `lvs_flush`: empty the whole IPVS table at start.
    pub lvs_flush: bool,
    /// `sloppy_tcp` (native only): the `net.ipv4.vs.sloppy_tcp` sysctl,
    /// set at start and put back on stop (`None`: leave the kernel's), so
    /// that TCP connections moved to this director from another keep
    /// working (see `ipvs::sysctl::Switch`).
    pub sloppy_tcp: Option<bool>,
    /// `sloppy_sctp` (native only): the same for SCTP.
    pub sloppy_sctp: Option<bool>,
    /// `lvs_flush_on_stop`: what to remove on stop.
    pub lvs_flush_on_stop: FlushOnStop,
    /// Where the status API and `/metrics` listen (ipvsd; default
    /// [`DEFAULT_STATUS_LISTEN`]).
    pub status_listen: SocketAddr,
    /// Default of `alpha`: real servers start down until their first
    /// successful check (ipvsd default true; keepalived false).
    pub start_down: bool,
    /// Default consecutive successes to come up (1: keepalived's behaviour).
    pub rise: u32,
    /// Default consecutive failed checks to go down (1: keepalived's behaviour).
    pub fall: u32,
    /// Default spread of each check interval, in percent of the delay loop
    /// (ipvsd 10; keepalived 0).
    pub check_jitter_percent: u8,
    /// `notification_email`, `smtp_server`, ...: kept as data; ipvsd sends
    /// no email.
    pub smtp: Option<Smtp>,
    /// `script_user USER [GROUP]`: the default user of scripts.
    pub script_user: Option<super::checker::RunAs>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `lvs_notify_fifo PATH`: the FIFO real server and quorum changes are written to.
    pub lvs_notify_fifo: Option<PathBuf>,
    /// `lvs_notify_fifo_script`: a program reading the FIFO.
    pub lvs_notify_fifo_script: Option<Script>,
    /// The `SSL` block: client certificate and trust for `SSL_GET`.
    pub tls: Option<TlsClient>,
}

impl Global {
    /// keepalived's defaults (nothing set, rise/fall 1, no jitter, real
    /// servers up at start).
    pub fn keepalived_defaults() -> Self {
        Self {
            router_id: None,
            lvs_timeouts: None,
            lvs_sync_daemon: None,
            lvs_flush: false,
            sloppy_tcp: None,
            sloppy_sctp: None,
            lvs_flush_on_stop: FlushOnStop::None,
            status_listen: DEFAULT_STATUS_LISTEN,
            start_down: false,
            rise: 1,
            fall: 1,
            check_jitter_percent: 0,
            smtp: None,
            script_user: None,
            enable_script_security: false,
            lvs_notify_fifo: None,
            lvs_notify_fifo_script: None,
            tls: None,
        }
    }

    /// ipvsd's native defaults: as keepalived's but real servers start down
    /// and checks are spread by 10 %.
    pub fn native_defaults() -> Self {
        Self {
            start_down: true,
            check_jitter_percent: 10,
            ..Self::keepalived_defaults()
        }
    }
}

/// `lvs_flush_on_stop [VS]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushOnStop {
    /// Remove only what ipvsd added (the default).
    #[default]
    None,
    /// `lvs_flush_on_stop`: empty the whole table.
    All,
    /// `lvs_flush_on_stop VS`: remove every configured virtual server whole.
    VirtualServers,
}

/// `lvs_sync_daemon IF [inst NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDaemonConfig {
    /// The multicast interface.
    pub interface: String,
    /// `inst NAME`: the VRRP instance whose state picks master or backup
    /// (kept as data; VRRP comes later). Without it both roles run.
    pub vrrp_instance: Option<String>,
    /// `id`: the sync id, 0..=255 (default 0).
    pub sync_id: u8,
    /// `maxlen`: the largest sync message.
    pub max_len: Option<u16>,
    /// `port` (the kernel's default 8848).
    pub port: Option<u16>,
    /// `ttl` (the kernel's default 1).
    pub ttl: Option<u8>,
    /// `group` (the kernel's default 224.0.0.81).
    pub group: Option<IpAddr>,
}

impl SyncDaemonConfig {
    /// The kernel sync daemon of `role` this configures.
    pub fn daemon(&self, role: DaemonRole) -> SyncDaemon {
        let mut d = SyncDaemon::new(role, self.interface.clone(), self.sync_id);
        d.max_len = self.max_len;
        d.port = self.port;
        d.ttl = self.ttl;
        d.group = self.group;
        d
    }
}

/// Email alert settings, kept as data (ipvsd sends no email).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Smtp {
    /// `notification_email { ... }`.
    pub to: Vec<String>,
    /// `notification_email_from`.
    pub from: Option<String>,
    /// `smtp_server ADDRESS [PORT]`, as written.
    pub server: Option<String>,
    /// `smtp_connect_timeout`, in seconds.
    pub connect_timeout: Option<u32>,
    /// `smtp_helo_name`.
    pub helo_name: Option<String>,
}

/// The `SSL { ca; certificate; key; password }` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsClient {
    /// `ca`: trusted CA file.
    pub ca: Option<PathBuf>,
    /// `certificate`: client certificate file.
    pub certificate: Option<PathBuf>,
    /// `key`: client key file.
    pub key: Option<PathBuf>,
    /// `password`: the key's password.
    pub password: Option<String>,
}

/// A notify or quorum script: a command line, and the user to run it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The command line as written (program and arguments).
    pub command: String,
    /// The user (default `script_user`, else root).
    pub user: Option<super::checker::RunAs>,
}

/// What a virtual server is: one address, one mark, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VirtualTarget {
    /// `virtual_server IP PORT`.
    Address {
        /// The address.
        address: IpAddr,
        /// The port (0: all ports, with persistence).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// The mark.
        mark: u32,
    },
    /// `virtual_server group NAME`: a `virtual_server_group`.
    Group {
        /// The group's name.
        name: String,
        /// Its members as written.
        members: Vec<GroupMember>,
    },
}

/// A member of a `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMember {
    /// `IP[-LAST] PORT` or `IP/PREFIX PORT`: the addresses `first..=last`.
    Range {
        /// The first address.
        first: IpAddr,
        /// The last address (the same as `first` for one).
        last: IpAddr,
        /// The port (0: all ports).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family given (default the virtual server's).
        family: Option<AddressFamily>,
    },
}

/// A virtual server: one or more kernel services sharing real servers,
/// checkers and quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    /// What it is.
    pub target: VirtualTarget,
    /// The kernel services it makes (a group expanded), in order.
    pub services: Vec<ServiceKey>,
    /// `ip_family`, or the family of its addresses.
    pub family: AddressFamily,
    /// `protocol TCP|UDP|SCTP` (default TCP).
    pub protocol: Protocol,
    /// `lvs_sched` / `lb_algo` (default wlc, the kernel's).
    pub scheduler: Scheduler,
    /// `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`.
    pub sched_flags: SchedFlags,
    /// `ops`: one-packet scheduling (UDP).
    pub one_packet: bool,
    /// `persistence_timeout` (seconds; the keyword alone: 360) and
    /// `persistence_granularity`.
    pub persistence: Option<Persistence>,
    /// `persistence_engine` (such as `sip`).
    pub persistence_engine: Option<String>,
    /// `lvs_method` / `lb_kind`: the default forwarding of its real servers
    /// (default NAT).
    pub forward: ForwardMethod,
    /// The tunnel options of `lvs_method TUN ...`.
    pub tunnel: Option<Tunnel>,
    /// `quorum`: the sum of live weights needed (default 1).
    pub quorum: u32,
    /// `hysteresis`: quorum is gained at `quorum + hysteresis` and lost
    /// below `quorum - hysteresis` (default 0).
    pub hysteresis: u32,
    /// `quorum_up`: run when quorum is gained.
    pub quorum_up: Option<Script>,
    /// `quorum_down`: run when quorum is lost.
    pub quorum_down: Option<Script>,
    /// `alpha`: real servers start down (the default of its real servers and checkers).
    pub alpha: bool,
    /// `omega`: run the down notifiers and `quorum_down` on stop.
    pub omega: bool,
    /// `ha_suspend`: suspend checks while the address is not on this host.
    pub ha_suspend: bool,
    /// `virtualhost`: the default HTTP Host of its checkers.
    pub virtualhost: Option<String>,
    /// `delay_loop` of the virtual server (its checkers' default).
    pub delay_loop: Duration,
    /// `smtp_alert` (kept as data).
    pub smtp_alert: Option<bool>,
    /// `snmp_name` (kept as data).
    pub snmp_name: Option<String>,
    /// `sorry_server`: replaces the real servers while quorum is lost.
    pub sorry_server: Option<SorryServer>,
    /// The real servers.
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// The kernel service for `key` (one of [`services`](Self::services)),
    /// with this virtual server's scheduler, flags and persistence.
    pub fn service(&self, key: ServiceKey) -> Service {
        let mut s = Service::new(key)
            .with_scheduler(self.scheduler.clone())
            .with_sched_flags(self.sched_flags)
            .with_one_packet(self.one_packet);
        if let Some(p) = self.persistence {
            s = s.with_persistence(p);
        }
        if let Some(pe) = &self.persistence_engine {
            s = s.with_persistence_engine(pe.clone());
        }
        s
    }

    /// A short name for logs, and the virtual server's identity across
    /// reloads: `tcp 192.0.2.1:80`, `fwmark 1`, `tcp group NAME` (one
    /// `virtual_server_group` may serve a TCP and a UDP virtual server, as
    /// for DNS: the protocol tells them apart).
    pub fn name(&self) -> String {
        match &self.target {
            VirtualTarget::Address { address, port } => {
                ServiceKey::from_socket(self.protocol, SocketAddr::new(*address, *port)).to_string()
            }
            VirtualTarget::Fwmark { mark } => ServiceKey::fwmark(self.family, *mark).to_string(),
            VirtualTarget::Group { name, .. } => format!("{} group {name}", self.protocol),
        }
    }
}

/// `sorry_server IP [PORT]` with `sorry_server_inhibit` and `sorry_server_lvs_method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServer {
    /// The address.
    pub address: IpAddr,
    /// The port (the virtual server's when not given; 0 for marks).
    pub port: u16,
    /// Forwarding (default the virtual server's).
    pub forward: ForwardMethod,
    /// Tunnel options.
    pub tunnel: Option<Tunnel>,
    /// `sorry_server_inhibit`: keep it at weight 0 instead of removing it.
    pub inhibit: bool,
}

impl SorryServer {
    /// The kernel destination in `service` (weight 1); see
    /// [`RealServer::destination`] for the port.
    pub fn destination(&self, service: &ServiceKey) -> Destination {
        let port = port_in(service, self.port, self.forward);
        let mut d = Destination::new(self.address, port, self.forward);
        if let Some(t) = self.tunnel {
            d = d.with_tunnel(t);
        }
        d
    }
}

/// `real_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    /// The address.
    pub address: IpAddr,
    /// The port (resolved as keepalived: the virtual server's when not
    /// given or when forwarding is not NAT; 0 for mark services).
    pub port: u16,
    /// `weight` (default the virtual server's `weight`, 1).
    pub weight: u32,
    /// `lvs_method` (default the virtual server's).
    pub forward: ForwardMethod,
    /// Tunnel options.
    pub tunnel: Option<Tunnel>,
    /// `inhibit_on_failure`: on failure set weight 0 instead of removing it.
    pub inhibit_on_failure: bool,
    /// `alpha` (default the virtual server's).
    pub alpha: bool,
    /// `uthreshold`: upper connection limit (0: none).
    pub upper_threshold: u32,
    /// `lthreshold`: lower connection limit (0: none).
    pub lower_threshold: u32,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// `virtualhost` (its checkers' default Host).
    pub virtualhost: Option<String>,
    /// `smtp_alert` (kept as data).
    pub smtp_alert: Option<bool>,
    /// The checkers (none: always up).
    pub checkers: Vec<Checker>,
}

impl RealServer {
    /// The kernel destination in `service` (one of its virtual server's
    /// services) at its configured weight. With DR, TUN (or local) the
    /// kernel keeps the service's port, so a group's real server has the
    /// port of each service in turn; with NAT its own port, or the
    /// service's when it has none.
    pub fn destination(&self, service: &ServiceKey) -> Destination {
        let port = port_in(service, self.port, self.forward);
        let mut d = Destination::new(self.address, port, self.forward)
            .with_weight(self.weight)
            .with_thresholds(self.upper_threshold, self.lower_threshold);
        if let Some(t) = self.tunnel {
            d = d.with_tunnel(t);
        }
        d
    }

    /// `address:port` for logs.
    pub fn socket(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}

/// The port of a real or sorry server in `service`: the service's unless
/// NAT (`ip_vs_ctl.c` stores the service port for the other methods), and
/// the service's for a NAT server without one.
fn port_in(service: &ServiceKey, port: u16, forward: ForwardMethod) -> u16 {
    match service {
        ServiceKey::Inet { port: sp, .. } if forward != ForwardMethod::Masq || port == 0 => *sp,
        _ => port,
    }
}
