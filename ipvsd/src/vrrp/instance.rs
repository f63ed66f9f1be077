//! One VRRP instance at run time: a tokio task that drives the instance's
//! [`Machine`] with its advert socket and timers, carries out its actions
//! (adverts, virtual addresses, gratuitous ARP / unsolicited neighbour
//! advertisements) and publishes its status.
//!
//! Received adverts are checked as RFC 5798 §7.1 says before the machine
//! sees them: TTL or hop limit 255 (multicast only, as keepalived), a valid checksum (either v3 IPv4
//! convention), the instance's version and virtual router id, for v2 the
//! same authentication and advertisement interval (RFC 3768 §7.1). A
//! different address list is accepted and logged once, as keepalived does
//! unless `vrrp_strict`.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipvs::AddressFamily;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::machine::{Action, Initial, Machine, Params, Reason, SyncCommand, SyncReport};
use super::net::{self, Addressing, Channel, Family, NetError};
use super::packet::{self, Advert, Auth};
use super::track::{self, Verdict};
use super::{GROUP_V4, GROUP_V6, State, TTL, Version};
use crate::config::checker::RunAs;
use crate::config::vrrp::{Garp, InitialState, VirtualAddress, VrrpInstance, VrrpScript};

/// What an instance reports about itself (the status API's `vrrp` array,
/// `/metrics`' `ipvsd_vrrp_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    /// The `vrrp_instance` name.
    pub name: String,
    /// Its interface.
    pub interface: String,
    /// Its virtual router id.
    pub vrid: u8,
    /// Its VRRP version (2 or 3).
    pub version: u8,
    /// Its state.
    pub state: State,
    /// The configured priority.
    pub priority: u8,
    /// The priority it advertises (the configured one changed by tracking).
    pub effective_priority: u8,
    /// The master: the sender of the adverts last heard while backup, this
    /// node's own advert source while master; none in INIT and FAULT, and
    /// in BACKUP before the first advert.
    pub master: Option<IpAddr>,
    /// State changes since start.
    pub transitions: u64,
    /// When the state last changed, Unix seconds (absent before the first).
    pub last_transition: Option<u64>,
    /// Adverts sent.
    pub adverts_sent: u64,
    /// Adverts received for this virtual router and accepted.
    pub adverts_received: u64,
    /// Received packets discarded, by reason (`ttl`, `malformed`,
    /// `version`, `authentication`, `interval`).
    pub discarded: Discarded,
    /// Adverts or address changes that failed (logged each time).
    pub errors: u64,
}

/// Counts of discarded packets, by why (RFC 5798 §7.1's checks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discarded {
    /// TTL or hop limit other than 255.
    pub ttl: u64,
    /// Not a valid VRRP advert (length, type, checksum).
    pub malformed: u64,
    /// Another VRRP version than the instance's.
    pub version: u64,
    /// v2 authentication other than the instance's.
    pub authentication: u64,
    /// v2 advertisement interval other than the instance's.
    pub interval: u64,
}

/// A state change, for the daemon: notify scripts, the notify FIFO, the
/// LVS sync daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instance's name.
    pub instance: String,
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// The priority at the change.
    pub priority: u8,
}

/// What an instance tells the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Its state changed.
    Transition(Transition),
    /// A sync group member's report to its group.
    Sync {
        /// The instance's name.
        instance: String,
        /// What it reports.
        report: SyncReport,
    },
}

/// Why an instance cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// The advert socket could not be opened.
    #[error("vrrp instance {instance}: {source}")]
    Net {
        /// The instance's name.
        instance: String,
        /// What failed.
        #[source]
        source: NetError,
    },
    /// The configuration asks for something this instance cannot do.
    #[error("vrrp instance {instance}: {why}")]
    Config {
        /// The instance's name.
        instance: String,
        /// What is wrong.
        why: String,
    },
}

/// A started instance: its status and its task.
#[derive(Debug)]
pub struct Running {
    /// The latest status.
    pub status: watch::Receiver<InstanceStatus>,
    /// The task; it ends after the cancellation token given to [`spawn`]
    /// is cancelled and the instance has stopped (priority 0 sent as master,
    /// addresses removed).
    pub task: JoinHandle<()>,
}

/// The address family of an instance's adverts, from
/// [`VrrpInstance::family`] (keepalived's rule).
pub fn family_of(config: &VrrpInstance) -> Family {
    match config.family() {
        AddressFamily::Ipv6 => Family::V6,
        AddressFamily::Ipv4 => Family::V4,
    }
}

/// Starts `config`'s instance: opens its socket and starts its tracking
/// (its interface, `track_interface`, `track_script` of `scripts`, run as
/// `script_user` unless they name a user; see [`track`](super::track)),
/// errors here, before anything runs; then runs it until `cancel`; state
/// changes go to `events`. Must be called within a tokio runtime.
///
/// With `sync`, the instance is a `vrrp_sync_group` member: it reports to
/// its group through `events` ([`Event::Sync`]) and obeys the group's
/// commands received on `sync` (see [`machine`](super::machine)'s sync
/// groups).
///
/// # Errors
/// [`InstanceError`] when the socket cannot be opened (no such interface,
/// no address on it, no permission), the tracking cannot start (a script's
/// user unknown), or the configuration cannot be run (an advertisement
/// interval v2 cannot carry).
pub async fn spawn(
    config: VrrpInstance,
    scripts: &[VrrpScript],
    script_user: Option<RunAs>,
    events: mpsc::UnboundedSender<Event>,
    sync: Option<mpsc::UnboundedReceiver<SyncCommand>>,
    cancel: CancellationToken,
) -> Result<Running, InstanceError> {
    let family = family_of(&config);
    let err = |why: String| InstanceError::Config {
        instance: config.name.clone(),
        why,
    };
    if family == Family::V6 && config.version == Version::V2 {
        return Err(err("VRRP version 2 carries IPv4 addresses only".into()));
    }
    let interval = centiseconds(config.advert_int)
        .ok_or_else(|| err(format!("advert_int {:?} out of range", config.advert_int)))?;
    let addressing = Addressing {
        source: config.unicast_src,
        unicast_peers: config.unicast_peers.clone(),
    };
    let channel = Channel::open(&config.interface, family, addressing).map_err(|source| {
        InstanceError::Net {
            instance: config.name.clone(),
            source,
        }
    })?;
    let verdict = track::spawn(&config, scripts, script_user, cancel.clone())
        .await
        .map_err(|e| err(e.to_string()))?;
    let params = Params {
        version: config.version,
        priority: config.priority,
        advert_int: config.advert_int,
        preempt: config.preempt,
        preempt_delay: config.preempt_delay,
        initial: match config.initial_state {
            InitialState::Backup => Initial::Backup,
            InitialState::Master => Initial::Master,
        },
        local_address: channel.source(),
        sync_group: sync.is_some(),
        answer_lower_priority: !config.lower_prio_no_advert,
    };
    let status = InstanceStatus {
        name: config.name.clone(),
        interface: config.interface.clone(),
        vrid: config.vrid,
        version: config.version.number(),
        state: State::Init,
        priority: config.priority,
        effective_priority: config.priority,
        master: None,
        transitions: 0,
        last_transition: None,
        adverts_sent: 0,
        adverts_received: 0,
        discarded: Discarded::default(),
        errors: 0,
    };
    let (status_tx, status_rx) = watch::channel(status.clone());
    let advertised: Vec<IpAddr> = config.virtual_addresses.iter().map(|v| v.address).collect();
    let auth = match (config.version, config.auth_pass) {
        (Version::V2, Some(pass)) => Auth::Pass(pass),
        _ => Auth::None,
    };
    let task = Task {
        machine: Machine::new(params),
        verdict,
        channel,
        family,
        interval,
        advertised,
        auth,
        garp: config.garp.clone(),
        config,
        status,
        status_tx,
        events,
        sync,
        announce: None,
        reannounce: None,
        mismatch_logged: false,
    };
    Ok(Running {
        status: status_rx,
        task: tokio::spawn(task.run(cancel)),
    })
}

/// An advertisement interval in centiseconds, if it fits v3's 12 bits
/// (RFC 5798 §5.2.7: 1 to 4095).
fn centiseconds(d: Duration) -> Option<u16> {
    let cs = d.as_millis() / 10;
    u16::try_from(cs).ok().filter(|c| (1..=4095).contains(c))
}

/// The next burst of gratuitous ARPs / neighbour advertisements.
#[derive(Debug, Clone, Copy)]
struct Announcement {
    at: Instant,
    count: u32,
}

struct Task {
    config: VrrpInstance,
    machine: Machine,
    /// The tracked objects' verdict: fault, priority.
    verdict: watch::Receiver<Verdict>,
    channel: Channel,
    family: Family,
    /// Our advertisement interval, centiseconds.
    interval: u16,
    advertised: Vec<IpAddr>,
    auth: Auth,
    garp: Garp,
    status: InstanceStatus,
    status_tx: watch::Sender<InstanceStatus>,
    events: mpsc::UnboundedSender<Event>,
    /// The sync group's commands, for a member.
    sync: Option<mpsc::UnboundedReceiver<SyncCommand>>,
    announce: Option<Announcement>,
    /// The second burst after a lower-priority master was heard
    /// (`garp_lower_prio_delay`), apart from `announce` so that neither
    /// postpones the other.
    reannounce: Option<Announcement>,
    /// Whether a peer's different address list was logged already.
    mismatch_logged: bool,
}

/// The next command of a sync group, or never (not a member, or the
/// group is gone).
async fn command(sync: &mut Option<mpsc::UnboundedReceiver<SyncCommand>>) -> SyncCommand {
    match sync {
        Some(rx) => match rx.recv().await {
            Some(c) => c,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or for ever.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Task {
    async fn run(mut self, cancel: CancellationToken) {
        // The tracked objects as they are at start decide between fault and
        // backup (keepalived's vrrp_init_state).
        let mut actions = self.track(Instant::now());
        actions.extend(self.machine.start(Instant::now()));
        self.act(actions).await;
        loop {
            let deadline = self.machine.deadline();
            let announce_at = self.announce.map(|a| a.at);
            let reannounce_at = self.reannounce.map(|a| a.at);
            tokio::select! {
                _ = cancel.cancelled() => break,
                received = self.channel.recv() => match received {
                    Ok(r) => {
                        let actions = self.on_packet(&r);
                        self.act(actions).await;
                    }
                    Err(e @ (NetError::Datagram { .. } | NetError::Malformed { .. })) => {
                        self.status.discarded.malformed += 1;
                        tracing::debug!("vrrp instance {}: {e}", self.config.name);
                    }
                    Err(e) => {
                        self.status.errors += 1;
                        tracing::warn!("vrrp instance {}: receiving: {e}", self.config.name);
                        // A socket error repeats at once: do not spin on it.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = until(deadline) => {
                    let actions = self.machine.on_timer(Instant::now());
                    self.act(actions).await;
                }
                () = until(announce_at) => self.announce_due().await,
                () = until(reannounce_at) => self.reannounce_due().await,
                Ok(()) = self.verdict.changed() => {
                    let actions = self.track(Instant::now());
                    self.act(actions).await;
                }
                c = command(&mut self.sync) => {
                    let actions = self.machine.on_sync(Instant::now(), c);
                    self.act(actions).await;
                }
            }
            self.publish();
        }
        let actions = self.machine.stop(Instant::now());
        self.act(actions).await;
        self.publish();
    }

    /// The machine's actions for the tracking's latest verdict.
    fn track(&mut self, now: Instant) -> Vec<Action> {
        let v = *self.verdict.borrow_and_update();
        let mut actions = self.machine.set_priority(now, v.priority);
        actions.extend(self.machine.set_fault(now, v.fault));
        actions
    }

    /// Checks a received packet (RFC 5798 §7.1); gives the machine's actions
    /// for an advert of our virtual router, none otherwise.
    fn on_packet(&mut self, r: &net::Received) -> Vec<Action> {
        // keepalived checks the TTL of multicast adverts only: unicast peers
        // may be routed (its vrrp.c, `vrrp_check_packet`).
        if r.hop_limit != TTL && self.config.unicast_peers.is_empty() {
            self.status.discarded.ttl += 1;
            tracing::debug!(
                "vrrp instance {}: advert from {} with TTL {} discarded",
                self.config.name,
                r.src,
                r.hop_limit
            );
            return Vec::new();
        }
        let decoded = match packet::decode(&r.payload, r.src, r.dst) {
            Ok(d) => d,
            Err(e) => {
                self.status.discarded.malformed += 1;
                tracing::debug!(
                    "vrrp instance {}: packet from {} discarded: {e}",
                    self.config.name,
                    r.src
                );
                return Vec::new();
            }
        };
        let advert = decoded.advert;
        if advert.vrid != self.config.vrid {
            // Another virtual router on the same link.
            return Vec::new();
        }
        if r.src == self.channel.source() {
            return Vec::new();
        }
        if advert.version != self.config.version {
            self.status.discarded.version += 1;
            tracing::warn!(
                "vrrp instance {}: version {} advert from {} discarded (ours is {})",
                self.config.name,
                advert.version,
                r.src,
                self.config.version
            );
            return Vec::new();
        }
        if self.config.version == Version::V2 {
            if advert.auth != self.auth {
                self.status.discarded.authentication += 1;
                tracing::warn!(
                    "vrrp instance {}: advert from {} with other authentication discarded",
                    self.config.name,
                    r.src
                );
                return Vec::new();
            }
            if advert.max_advert_int != self.interval {
                self.status.discarded.interval += 1;
                tracing::warn!(
                    "vrrp instance {}: advert from {} every {} s discarded (ours: {} s; RFC 3768 §7.1)",
                    self.config.name,
                    r.src,
                    advert.max_advert_int / 100,
                    self.interval / 100
                );
                return Vec::new();
            }
        }
        if !self.mismatch_logged && !same_addresses(&advert.addresses, &self.advertised) {
            self.mismatch_logged = true;
            tracing::warn!(
                "vrrp instance {}: {} advertises other addresses ({:?}) than ours ({:?})",
                self.config.name,
                r.src,
                advert.addresses,
                self.advertised
            );
        }
        self.status.adverts_received += 1;
        let interval = Duration::from_millis(u64::from(advert.max_advert_int) * 10);
        self.machine
            .on_advert(Instant::now(), r.src, advert.priority, interval)
    }

    async fn act(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { priority } => self.send(priority).await,
                Action::TakeAddresses => self.addresses(true).await,
                Action::ReleaseAddresses => {
                    self.announce = None;
                    self.reannounce = None;
                    self.addresses(false).await;
                }
                Action::Announce => {
                    self.burst(self.garp.master_repeat).await;
                    self.announce = (!self.garp.master_delay.is_zero()).then(|| Announcement {
                        at: Instant::now() + self.garp.master_delay,
                        count: self.garp.master_repeat,
                    });
                    if self.announce.is_none() {
                        self.announce = self.refresh();
                    }
                }
                Action::Reannounce => {
                    let count = self.garp.lower_prio_repeat;
                    if count > 0 {
                        tracing::info!(
                            "vrrp instance {}: a lower priority router advertised: announcing our addresses again",
                            self.config.name
                        );
                        self.burst(count).await;
                        self.reannounce =
                            (!self.garp.lower_prio_delay.is_zero()).then(|| Announcement {
                                at: Instant::now() + self.garp.lower_prio_delay,
                                count,
                            });
                    }
                }
                Action::Transition { from, to, reason } => self.transition(from, to, reason),
                Action::Sync(report) => {
                    tracing::debug!(
                        "vrrp instance {}: to its sync group: {report:?}",
                        self.config.name
                    );
                    // The daemon may be gone while stopping.
                    let _ = self.events.send(Event::Sync {
                        instance: self.config.name.clone(),
                        report,
                    });
                }
            }
        }
    }

    fn transition(&mut self, from: State, to: State, reason: Reason) {
        tracing::info!(
            "vrrp instance {}: {from} -> {to} ({reason})",
            self.config.name
        );
        self.status.state = to;
        self.status.transitions += 1;
        self.status.last_transition = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        // The daemon may be gone while stopping: nothing left to tell.
        let _ = self.events.send(Event::Transition(Transition {
            instance: self.config.name.clone(),
            from,
            to,
            priority: self.machine.priority(),
        }));
    }

    fn publish(&mut self) {
        self.status.effective_priority = self.machine.priority();
        self.status.master = self.machine.master_address();
        self.status.state = self.machine.state();
        self.status_tx.send_if_modified(|s| {
            if *s == self.status {
                false
            } else {
                *s = self.status.clone();
                true
            }
        });
    }

    async fn send(&mut self, priority: u8) {
        let advert = Advert {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            max_advert_int: self.interval,
            addresses: self.advertised.clone(),
            auth: self.auth,
        };
        let src = self.channel.source();
        for dst in self.destinations() {
            let sent = match packet::encode(&advert, src, dst, self.config.checksum) {
                Ok(bytes) => self
                    .channel
                    .send_to(&bytes, dst)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(()) => self.status.adverts_sent += 1,
                Err(e) => {
                    self.status.errors += 1;
                    tracing::warn!("vrrp instance {}: advert to {dst}: {e}", self.config.name);
                }
            }
        }
    }

    /// Where adverts go: each unicast peer, else the group.
    fn destinations(&self) -> Vec<IpAddr> {
        if !self.config.unicast_peers.is_empty() {
            return self.config.unicast_peers.clone();
        }
        vec![match self.family {
            Family::V4 => IpAddr::V4(GROUP_V4),
            Family::V6 => IpAddr::V6(GROUP_V6),
        }]
    }

    /// Every address the master holds: the advertised ones and the excluded.
    fn held(&self) -> impl Iterator<Item = &VirtualAddress> {
        self.config
            .virtual_addresses
            .iter()
            .chain(&self.config.excluded_addresses)
    }

    async fn addresses(&mut self, take: bool) {
        let mut failed = 0;
        for v in self.held() {
            let interface = v.device.as_deref().unwrap_or(&self.config.interface);
            let result = if take {
                net::address::add(interface, v.address, v.prefix_len, v.label.as_deref()).await
            } else {
                net::address::remove(interface, v.address, v.prefix_len).await
            };
            match result {
                Ok(()) => tracing::info!(
                    "vrrp instance {}: {} {}/{} on {interface}",
                    self.config.name,
                    if take { "added" } else { "removed" },
                    v.address,
                    v.prefix_len
                ),
                Err(e) => {
                    failed += 1;
                    tracing::error!("vrrp instance {}: {e}", self.config.name);
                }
            }
        }
        self.status.errors += failed;
    }

    /// One burst: `count` gratuitous ARPs (IPv4) or unsolicited neighbour
    /// advertisements (IPv6) for every held address, `garp_interval` /
    /// `gna_interval` apart.
    async fn burst(&mut self, count: u32) {
        let mut failed = 0;
        for i in 0..count {
            for v in self.held() {
                let interface = v.device.as_deref().unwrap_or(&self.config.interface);
                let sent = match v.address {
                    IpAddr::V4(a) => net::announce::gratuitous_arp(interface, a),
                    IpAddr::V6(a) => net::announce::unsolicited_na(interface, a),
                };
                if let Err(e) = sent {
                    failed += 1;
                    tracing::warn!("vrrp instance {}: {e}", self.config.name);
                }
            }
            let gap = match self.family {
                Family::V4 => self.garp.interval,
                Family::V6 => self.garp.gna_interval,
            };
            if i + 1 < count && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
        self.status.errors += failed;
    }

    /// The next refresh burst, if `garp_master_refresh` asks for them.
    fn refresh(&self) -> Option<Announcement> {
        (!self.garp.master_refresh.is_zero()).then(|| Announcement {
            at: Instant::now() + self.garp.master_refresh,
            count: self.garp.master_refresh_repeat,
        })
    }

    async fn reannounce_due(&mut self) {
        let Some(a) = self.reannounce.take() else {
            return;
        };
        if self.machine.state() == State::Master {
            self.burst(a.count).await;
        }
    }

    async fn announce_due(&mut self) {
        let Some(a) = self.announce.take() else {
            return;
        };
        if self.machine.state() != State::Master {
            return;
        }
        self.burst(a.count).await;
        self.announce = self.refresh();
    }
}

/// Whether two address lists hold the same addresses, in any order.
fn same_addresses(a: &[IpAddr], b: &[IpAddr]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}
