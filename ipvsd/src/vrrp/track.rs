//! VRRP tracking as keepalived 2.2.7 does it: tracked interfaces and
//! `vrrp_script`s move an instance's priority or put it in FAULT.
//!
//! Two layers, data flowing one way:
//! - [`Tracking`]: the pure core. Built from a `vrrp_instance` and the
//!   `vrrp_script` blocks, fed script results ([`Tracking::script_result`])
//!   and link states ([`Tracking::interface`]), it gives a [`Verdict`]: is
//!   the instance in fault, and what is its effective priority. No I/O, no
//!   clock: every keepalived rule is unit-tested below.
//! - [`spawn`]: the edge. One task runs each script every `interval`
//!   (killing its process group after `timeout`, through MISC_CHECK's
//!   runner [`crate::check::MiscCheck`]) and follows each tracked
//!   interface's link state through an rtnetlink `RTNLGRP_LINK`
//!   subscription (with a re-read every [`LINK_RESYNC`] in case an event
//!   was lost), publishing the verdict on a `watch` channel at each change.
//!
//! Rules and their sources (keepalived 2.2.7: keepalived.conf(5),
//! `vrrp_track.c`, `vrrp_scheduler.c`, `vrrp.c`, `vrrp_if.c`):
//! - an interface is up when it is `IFF_UP` and `IFF_RUNNING`
//!   (`FLAGS_UP`, `vrrp_if.h`);
//! - the instance's own `interface` is tracked as if listed without a
//!   weight unless `dont_track_primary` (the model's `track_primary`); a `track_interface` entry naming it loses its
//!   weight (`add_vrrp_to_interface`, `vrrp.c`);
//! - a tracked object with weight 0 (a `track_interface` without weight, a
//!   `vrrp_script` whose resolved weight is 0) puts the instance in FAULT
//!   while it is down (keepalived.conf(5), "VRRP script(s)" and
//!   `track_interface`);
//! - a positive weight is added to the priority while the object is up, a
//!   negative one while it is down (`initialise_track_script_state`,
//!   `process_script_update_priority`, `vrrp_track.c`);
//! - a `track_script` entry's weight overrides the script's own
//!   (keepalived.conf(5), `track_script`);
//! - a script starts undetermined: its first result, success or failure,
//!   decides its state ("one success is enough": `vrrp_init_script`,
//!   `vrrp_scheduler.c`, sets the counter to `rise - 1`). Until then a
//!   weight-0 script holds the instance in FAULT (keepalived counts it in
//!   `num_script_init` and enters FAULT at start without a notify) and a
//!   weighted one adds nothing. With keepalived's `init_fail`
//!   ([`Tracking::start_failed`]) it starts failed and needs `rise`
//!   successes;
//! - afterwards `rise` consecutive successes bring a failed script up and
//!   `fall` consecutive failures bring a working one down
//!   (`vrrp_script_child_thread`, `vrrp_scheduler.c`); a timeout, a signal
//!   or a non-zero exit are failures;
//! - the effective priority is the configured one plus the weights, kept
//!   within 1..=254; the address owner (255) never changes
//!   (`vrrp_set_effective_priority`, `vrrp_track.c`; keepalived.conf(5),
//!   `priority`).
//!
//! ```no_run
//! # async fn example(model: &ipvsd::config::Model) -> Result<(), Box<dyn std::error::Error>> {
//! use ipvsd::vrrp::track;
//! use tokio_util::sync::CancellationToken;
//!
//! let instance = &model.vrrp.instances[0];
//! let user = model.global.script_user.clone();
//! let mut verdicts =
//!     track::spawn(instance, &model.vrrp.scripts, user, CancellationToken::new()).await?;
//! while verdicts.changed().await.is_ok() {
//!     let v = *verdicts.borrow();
//!     println!("fault {} priority {}", v.fault, v.priority);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::sys::SocketAddr;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::check::{MiscCheck, RunAs};
use crate::config::checker::RunAs as User;
use crate::config::vrrp::{OWNER_PRIORITY, VrrpInstance, VrrpScript};

/// The highest priority tracking can give a non-owner: 254 (keepalived's
/// `VRRP_PRIO_OWNER - 1`; RFC 5798 §5.2.4 keeps 255 for the owner).
pub const MAX_TRACKED_PRIORITY: u8 = OWNER_PRIORITY - 1;

/// How often the edge re-reads every tracked interface's link state, in
/// case a link event was lost (a netlink receive buffer overrun).
pub const LINK_RESYNC: Duration = Duration::from_secs(10);

/// What tracking says about an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// A weight-0 tracked object is down (or a weight-0 script has not
    /// reported yet): the instance belongs in FAULT.
    pub fault: bool,
    /// The effective priority: the configured one plus the weights, within
    /// 1..=254, or 255 unchanged for the address owner.
    pub priority: u8,
}

/// Where a tracked object stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// A script that has not reported yet (keepalived's
    /// `SCRIPT_INIT_STATE_INIT`).
    Pending,
    /// Up: an interface `IFF_UP` and `IFF_RUNNING`, a script that reached
    /// `rise` successes.
    Up,
    /// Down: an interface not up (or absent), a script that reached `fall`
    /// failures.
    Down,
}

/// Errors of tracking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// A `track_script` names no `vrrp_script`.
    #[error("vrrp_instance {instance}: track_script {script} names no vrrp_script")]
    UnknownScript {
        /// The instance.
        instance: String,
        /// The name it gave.
        script: String,
    },
    /// An input named an object the instance does not track.
    #[error("{kind} {name} is not tracked by this instance")]
    NotTracked {
        /// `interface` or `script`.
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// A script's command line cannot be split into words (unbalanced
    /// quotes) or is empty.
    #[error("vrrp_script {script}: cannot split {command:?} into words")]
    Command {
        /// The script's name.
        script: String,
        /// Its command line.
        command: String,
    },
    /// A script's user (or the global `script_user`) is unknown.
    #[error("vrrp_script {script}: {message}")]
    User {
        /// The script's name.
        script: String,
        /// What the lookup said.
        message: String,
    },
    /// The rtnetlink link-event socket could not be opened.
    #[error("opening the rtnetlink link-event socket: {0}")]
    Netlink(#[source] std::io::Error),
    /// Reading an interface's link state failed (other than "no such
    /// interface", which is down).
    #[error("reading the link state of {interface}: {message}")]
    Link {
        /// The interface.
        interface: String,
        /// The error.
        message: String,
    },
}

#[derive(Debug, Clone)]
struct TrackedInterface {
    name: String,
    weight: i32,
    up: bool,
}

#[derive(Debug, Clone)]
struct TrackedScript {
    name: String,
    weight: i32,
    rise: u32,
    fall: u32,
    /// keepalived's `result`: 0..=rise+fall-1; up at `rise` and over.
    count: u32,
    state: ObjectState,
}

impl TrackedScript {
    /// keepalived's counting (`vrrp_script_child_thread`): successes climb
    /// to `rise` then jump to the top (`rise + fall - 1`); failures step
    /// down to `rise` then drop to 0.
    fn record(&mut self, success: bool) {
        let top = self.rise.saturating_add(self.fall).saturating_sub(1);
        if success {
            if self.count.saturating_add(1) < self.rise {
                self.count += 1;
            } else {
                self.state = ObjectState::Up;
                self.count = top;
            }
        } else if self.count > self.rise {
            self.count -= 1;
        } else {
            self.state = ObjectState::Down;
            self.count = 0;
        }
    }
}

/// One instance's tracked interfaces and scripts, and the [`Verdict`] they
/// give (the pure core; see the module's rules).
#[derive(Debug, Clone)]
pub struct Tracking {
    priority: u8,
    interfaces: Vec<TrackedInterface>,
    scripts: Vec<TrackedScript>,
}

impl Tracking {
    /// The tracking of `instance`, with `scripts` the configuration's
    /// `vrrp_script` blocks. `track_primary` (keepalived's default; false
    /// is `dont_track_primary`) tracks the instance's own interface with
    /// weight 0. Interfaces start down until [`Tracking::interface`]
    /// reports them; scripts start [`ObjectState::Pending`]. A repeated
    /// `track_interface` or `track_script` entry is ignored, as keepalived
    /// ignores it.
    ///
    /// # Errors
    /// [`TrackError::UnknownScript`].
    pub fn new(
        instance: &VrrpInstance,
        scripts: &[VrrpScript],
        track_primary: bool,
    ) -> Result<Self, TrackError> {
        let mut interfaces: Vec<TrackedInterface> = Vec::new();
        for t in &instance.track_interfaces {
            if interfaces.iter().all(|i| i.name != t.name) {
                interfaces.push(TrackedInterface {
                    name: t.name.clone(),
                    weight: t.weight.unwrap_or(0),
                    up: false,
                });
            }
        }
        if track_primary {
            // The primary's weight 0 wins over a track_interface weight
            // (keepalived's add_vrrp_to_interface).
            match interfaces.iter_mut().find(|i| i.name == instance.interface) {
                Some(i) => i.weight = 0,
                None => interfaces.push(TrackedInterface {
                    name: instance.interface.clone(),
                    weight: 0,
                    up: false,
                }),
            }
        }
        let mut tracked: Vec<TrackedScript> = Vec::new();
        for t in &instance.track_scripts {
            if tracked.iter().any(|s| s.name == t.name) {
                continue;
            }
            let script = scripts.iter().find(|s| s.name == t.name).ok_or_else(|| {
                TrackError::UnknownScript {
                    instance: instance.name.clone(),
                    script: t.name.clone(),
                }
            })?;
            let rise = script.rise.max(1);
            tracked.push(TrackedScript {
                name: script.name.clone(),
                weight: t.weight.unwrap_or(script.weight),
                rise,
                fall: script.fall.max(1),
                // "One success is enough" (vrrp_init_script).
                count: rise - 1,
                state: ObjectState::Pending,
            });
        }
        Ok(Tracking {
            priority: instance.priority,
            interfaces,
            scripts: tracked,
        })
    }

    /// True when nothing is tracked: the verdict never changes.
    pub fn is_empty(&self) -> bool {
        self.interfaces.is_empty() && self.scripts.is_empty()
    }

    /// The tracked interfaces' names, in configuration order (the primary
    /// last unless listed).
    pub fn interface_names(&self) -> impl Iterator<Item = &str> {
        self.interfaces.iter().map(|i| i.name.as_str())
    }

    /// The tracked scripts' names, in configuration order.
    pub fn script_names(&self) -> impl Iterator<Item = &str> {
        self.scripts.iter().map(|s| s.name.as_str())
    }

    /// keepalived's `init_fail`: the script starts failed and needs `rise`
    /// successes (`vrrp_init_script` sets its counter to 0). Meant before
    /// its first result.
    ///
    /// # Errors
    /// [`TrackError::NotTracked`].
    pub fn start_failed(&mut self, script: &str) -> Result<Verdict, TrackError> {
        let s = self.script_mut(script)?;
        s.state = ObjectState::Down;
        s.count = 0;
        Ok(self.verdict())
    }

    /// A run of `script` ended: `success` is exit status 0; a non-zero
    /// status, a signal, a timeout or a failure to start are failures.
    /// Returns the verdict after it.
    ///
    /// # Errors
    /// [`TrackError::NotTracked`].
    pub fn script_result(&mut self, script: &str, success: bool) -> Result<Verdict, TrackError> {
        self.script_mut(script)?.record(success);
        Ok(self.verdict())
    }

    /// The link of `interface` is now up (`IFF_UP` and `IFF_RUNNING`) or
    /// not (down, or the interface does not exist). Returns the verdict.
    ///
    /// # Errors
    /// [`TrackError::NotTracked`].
    pub fn interface(&mut self, interface: &str, up: bool) -> Result<Verdict, TrackError> {
        let i = self
            .interfaces
            .iter_mut()
            .find(|i| i.name == interface)
            .ok_or_else(|| TrackError::NotTracked {
                kind: "interface",
                name: interface.to_owned(),
            })?;
        i.up = up;
        Ok(self.verdict())
    }

    /// Where the tracked script or interface `name` stands (scripts first).
    pub fn state(&self, name: &str) -> Option<ObjectState> {
        if let Some(s) = self.scripts.iter().find(|s| s.name == name) {
            return Some(s.state);
        }
        self.interfaces.iter().find(|i| i.name == name).map(|i| {
            if i.up {
                ObjectState::Up
            } else {
                ObjectState::Down
            }
        })
    }

    /// The verdict of the current states.
    pub fn verdict(&self) -> Verdict {
        let mut fault = false;
        let mut total = i32::from(self.priority);
        let mut add = |weight: i32, state: ObjectState| match (weight, state) {
            (0, ObjectState::Up) => {}
            (0, _) => fault = true,
            (w, ObjectState::Up) if w > 0 => total += w,
            (w, ObjectState::Down) if w < 0 => total += w,
            _ => {}
        };
        for i in &self.interfaces {
            add(
                i.weight,
                if i.up {
                    ObjectState::Up
                } else {
                    ObjectState::Down
                },
            );
        }
        for s in &self.scripts {
            add(s.weight, s.state);
        }
        let priority = if self.priority == OWNER_PRIORITY {
            OWNER_PRIORITY
        } else {
            // Clamped first, so the conversion cannot fail.
            u8::try_from(total.clamp(1, i32::from(MAX_TRACKED_PRIORITY)))
                .unwrap_or(MAX_TRACKED_PRIORITY)
        };
        Verdict { fault, priority }
    }

    fn script_mut(&mut self, name: &str) -> Result<&mut TrackedScript, TrackError> {
        self.scripts
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or_else(|| TrackError::NotTracked {
                kind: "script",
                name: name.to_owned(),
            })
    }
}

/// Starts tracking `instance` (its own interface included unless
/// `dont_track_primary`): each tracked script runs every `interval`
/// with `timeout` (the first run at once, as keepalived; a run still going
/// at the next interval skips that run, as keepalived does); each tracked
/// interface is followed through rtnetlink link events. `script_user` is
/// the global `script_user`, the default of a script without `user`.
///
/// Returns a receiver of the verdict, updated on every change. Its first
/// value already has every interface's link state read (an interface that
/// does not exist is down; keepalived with `dynamic_interfaces` does the
/// same, without it keepalived refuses such a configuration). When nothing
/// is tracked no task runs and the value never changes. The task ends when
/// `cancel` fires (running scripts' process groups are killed) or every
/// receiver is dropped.
///
/// Must be called inside a tokio runtime, in the network namespace of the
/// interfaces.
///
/// # Errors
/// [`TrackError::UnknownScript`], [`TrackError::Command`],
/// [`TrackError::User`], [`TrackError::Netlink`], [`TrackError::Link`].
pub async fn spawn(
    instance: &VrrpInstance,
    scripts: &[VrrpScript],
    script_user: Option<User>,
    cancel: CancellationToken,
) -> Result<watch::Receiver<Verdict>, TrackError> {
    let mut tracking = Tracking::new(instance, scripts, instance.track_primary)?;
    if tracking.is_empty() {
        let (tx, rx) = watch::channel(tracking.verdict());
        // The sender is dropped: the value stays as it is.
        drop(tx);
        return Ok(rx);
    }
    let mut runs = Vec::new();
    for name in tracking.script_names() {
        let Some(script) = scripts.iter().find(|s| s.name == name) else {
            continue;
        };
        runs.push(ScriptRun::new(script, script_user.as_ref())?);
    }
    let names: Vec<String> = tracking.interface_names().map(str::to_owned).collect();
    let mut links = None;
    if !names.is_empty() {
        let (connection, handle, events) =
            rtnetlink::new_multicast_connection(&[rtnetlink::MulticastGroup::Link])
                .map_err(TrackError::Netlink)?;
        let connection = tokio::spawn(connection);
        // Subscribed first, read second: an event racing the read is
        // applied after it, and events carry the whole flags.
        for name in &names {
            let up = read_link(&handle, name).await?;
            if !up {
                tracing::info!(
                    "vrrp_instance {}: tracked interface {name} is down",
                    instance.name
                );
            }
            tracking.interface(name, up)?;
        }
        links = Some(Links {
            handle,
            events: events.boxed(),
            connection,
        });
    }
    let (tx, rx) = watch::channel(tracking.verdict());
    let driver = Driver {
        instance: instance.name.clone(),
        tracking,
        names,
        tx,
    };
    tokio::spawn(driver.run(runs, links, cancel));
    Ok(rx)
}

/// A script ready to run: its name, its runner, its interval.
struct ScriptRun {
    name: String,
    check: MiscCheck,
    interval: Duration,
}

impl ScriptRun {
    fn new(script: &VrrpScript, default_user: Option<&User>) -> Result<Self, TrackError> {
        let argv = shlex::split(&script.script.command)
            .filter(|w| w.first().is_some_and(|p| !p.is_empty()))
            .ok_or_else(|| TrackError::Command {
                script: script.name.clone(),
                command: script.script.command.clone(),
            })?;
        let user = match script.script.user.as_ref().or(default_user) {
            None => None,
            Some(u) => Some(
                RunAs::lookup(&u.user, u.group.as_deref()).map_err(|message| TrackError::User {
                    script: script.name.clone(),
                    message,
                })?,
            ),
        };
        Ok(ScriptRun {
            name: script.name.clone(),
            check: MiscCheck {
                argv,
                timeout: script.timeout,
                dynamic: false,
                user,
            },
            interval: script.interval.max(Duration::from_millis(1)),
        })
    }

    /// Runs the script every interval until the receiver goes away.
    async fn run(self, index: usize, results: mpsc::Sender<(usize, bool)>) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticks.tick().await;
            let success = match self.check.probe().await {
                Ok(_) => true,
                Err(e) => {
                    tracing::debug!("vrrp_script {}: {e}", self.name);
                    false
                }
            };
            if results.send((index, success)).await.is_err() {
                return;
            }
        }
    }
}

/// The link-event subscription.
struct Links {
    handle: rtnetlink::Handle,
    events: Events,
    connection: tokio::task::JoinHandle<()>,
}

/// rtnetlink's stream of unsolicited messages (the link events).
type Events = BoxStream<'static, (NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>;

/// The task: the core, the channel, the names of the tracked interfaces.
struct Driver {
    instance: String,
    tracking: Tracking,
    names: Vec<String>,
    tx: watch::Sender<Verdict>,
}

impl Driver {
    async fn run(mut self, runs: Vec<ScriptRun>, links: Option<Links>, cancel: CancellationToken) {
        let (results_tx, mut results) = mpsc::channel(runs.len().max(1));
        // Owned here: dropping the set aborts the runs, and an aborted run
        // kills its script's process group (MiscCheck's guard).
        let mut set = JoinSet::new();
        for (index, run) in runs.into_iter().enumerate() {
            set.spawn(run.run(index, results_tx.clone()));
        }
        drop(results_tx);
        let script_names: Vec<String> = self.tracking.script_names().map(str::to_owned).collect();
        let (handle, mut events, connection) = match links {
            Some(l) => (Some(l.handle), Some(l.events), Some(l.connection)),
            None => (None, None, None),
        };
        let mut resync = tokio::time::interval(LINK_RESYNC);
        resync.tick().await;
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = self.tx.closed() => break,
                Some((index, success)) = results.recv() => {
                    if let Some(name) = script_names.get(index) {
                        let before = self.tracking.state(name);
                        let _ = self.tracking.script_result(name, success);
                        let after = self.tracking.state(name);
                        if before != after {
                            // keepalived's "VRRP_Script(NAME) succeeded|failed".
                            tracing::info!(
                                "VRRP_Script({name}) {}",
                                if success { "succeeded" } else { "failed" }
                            );
                        }
                        self.publish();
                    }
                }
                Some((message, _)) = next_event(&mut events) => {
                    if let NetlinkPayload::InnerMessage(m) = message.payload {
                        self.link_message(m);
                    }
                }
                _ = resync.tick(), if handle.is_some() => {
                    if let Some(handle) = &handle {
                        for name in self.names.clone() {
                            match read_link(handle, &name).await {
                                Ok(up) => self.link(&name, up),
                                Err(e) => tracing::warn!("vrrp_instance {}: {e}", self.instance),
                            }
                        }
                    }
                }
            }
        }
        set.shutdown().await;
        if let Some(connection) = connection {
            connection.abort();
        }
    }

    fn link_message(&mut self, message: RouteNetlinkMessage) {
        let (link, deleted) = match message {
            RouteNetlinkMessage::NewLink(l) => (l, false),
            RouteNetlinkMessage::DelLink(l) => (l, true),
            _ => return,
        };
        let Some(name) = link_name(&link) else {
            return;
        };
        if self.names.iter().any(|n| n == name) {
            let up = !deleted && flags_up(&link);
            let name = name.to_owned();
            self.link(&name, up);
        }
    }

    fn link(&mut self, name: &str, up: bool) {
        let before = self.tracking.state(name);
        if self.tracking.interface(name, up).is_err() {
            return;
        }
        if before != self.tracking.state(name) {
            tracing::info!(
                "vrrp_instance {}: tracked interface {name} is {}",
                self.instance,
                if up { "up" } else { "down" }
            );
        }
        self.publish();
    }

    fn publish(&self) {
        let verdict = self.tracking.verdict();
        self.tx.send_if_modified(|v| {
            if *v == verdict {
                return false;
            }
            if v.priority != verdict.priority {
                tracing::info!(
                    "({}) Changing effective priority from {} to {}",
                    self.instance,
                    v.priority,
                    verdict.priority
                );
            }
            *v = verdict;
            true
        });
    }
}

/// The next link event, or never when there is no subscription (or it
/// ended).
async fn next_event(
    events: &mut Option<Events>,
) -> Option<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)> {
    match events {
        Some(e) => match e.next().await {
            Some(m) => Some(m),
            None => {
                *events = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// keepalived's `FLAGS_UP`: `IFF_UP` and `IFF_RUNNING`.
fn flags_up(link: &LinkMessage) -> bool {
    link.header
        .flags
        .contains(LinkFlags::Up | LinkFlags::Running)
}

/// Whether `name` is up; an interface that does not exist is down.
async fn read_link(handle: &rtnetlink::Handle, name: &str) -> Result<bool, TrackError> {
    let mut links = handle.link().get().match_name(name.to_owned()).execute();
    match links.next().await {
        Some(Ok(link)) => Ok(flags_up(&link)),
        Some(Err(rtnetlink::Error::NetlinkError(e)))
            if e.raw_code().checked_neg() == Some(libc::ENODEV) =>
        {
            Ok(false)
        }
        Some(Err(e)) => Err(TrackError::Link {
            interface: name.to_owned(),
            message: e.to_string(),
        }),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{KeepalivedOptions, Model, read_keepalived_str};

    /// A model from keepalived.conf text: `scripts` (whole `vrrp_script`
    /// blocks) and one instance on `eth0` with `body` added.
    fn model(scripts: &str, priority: u8, body: &str) -> Model {
        let text = format!(
            "{scripts}\nvrrp_instance VI {{\n interface eth0\n virtual_router_id 51\n \
             priority {priority}\n virtual_ipaddress {{\n  10.99.0.100\n }}\n{body}\n}}\n"
        );
        read_keepalived_str(&text, Path::new("t.conf"), &KeepalivedOptions::default())
            .unwrap()
            .model
    }

    /// The tracking of the model's instance, without the primary interface
    /// (so that each test sees only what it configures).
    fn tracking(scripts: &str, priority: u8, body: &str) -> Tracking {
        let m = model(scripts, priority, body);
        Tracking::new(&m.vrrp.instances[0], &m.vrrp.scripts, false).unwrap()
    }

    fn script(name: &str, extra: &str) -> String {
        format!("vrrp_script {name} {{\n script \"/bin/true\"\n {extra}\n}}\n")
    }

    fn v(fault: bool, priority: u8) -> Verdict {
        Verdict { fault, priority }
    }

    // keepalived.conf(5) track_interface: no weight (0) means a down
    // interface is a fault.
    #[test]
    fn an_unweighted_interface_down_is_a_fault() {
        let mut t = tracking("", 100, "track_interface {\n eth1\n}");
        assert_eq!(t.verdict(), v(true, 100), "interfaces start down");
        assert_eq!(t.interface("eth1", true).unwrap(), v(false, 100));
        assert_eq!(t.interface("eth1", false).unwrap(), v(true, 100));
    }

    // keepalived.conf(5) track_interface: a positive weight is added while
    // up, a negative one while down; neither is a fault.
    #[test]
    fn interface_weights_move_the_priority_by_sign() {
        let mut t = tracking(
            "",
            100,
            "track_interface {\n eth1 weight 20\n eth2 weight -30\n}",
        );
        assert_eq!(t.verdict(), v(false, 70), "eth1 down adds 0, eth2 down -30");
        assert_eq!(t.interface("eth1", true).unwrap(), v(false, 90));
        assert_eq!(t.interface("eth2", true).unwrap(), v(false, 120));
        assert_eq!(t.interface("eth1", false).unwrap(), v(false, 100));
    }

    // keepalived.conf(5) track_interface: `weight 0` is the default
    // behaviour (the parser keeps it as no weight).
    #[test]
    fn interface_weight_zero_is_a_fault_too() {
        let mut t = tracking("", 100, "track_interface {\n eth1 weight 0\n}");
        assert_eq!(t.interface("eth1", false).unwrap(), v(true, 100));
    }

    // keepalived's add_vrrp_to_interface: the instance's own interface is
    // tracked with weight 0 (unless dont_track_primary), and that wins over
    // a track_interface weight on it.
    #[test]
    fn the_primary_interface_is_tracked_and_its_weight_dropped() {
        let m = model(
            "",
            100,
            "track_interface {\n eth0 weight 50\n eth1 weight 10\n}",
        );
        let mut t = Tracking::new(&m.vrrp.instances[0], &m.vrrp.scripts, true).unwrap();
        assert_eq!(t.interface_names().collect::<Vec<_>>(), ["eth0", "eth1"]);
        t.interface("eth1", true).unwrap();
        assert_eq!(t.interface("eth0", true).unwrap(), v(false, 110));
        assert_eq!(t.interface("eth0", false).unwrap(), v(true, 110));
        let bare = model("", 100, "");
        let t = Tracking::new(&bare.vrrp.instances[0], &[], true).unwrap();
        assert_eq!(t.interface_names().collect::<Vec<_>>(), ["eth0"]);
        let none = Tracking::new(&bare.vrrp.instances[0], &[], false).unwrap();
        assert!(none.is_empty());
        assert_eq!(none.verdict(), v(false, 100));
    }

    // vrrp_init_script: a script starts at rise - 1, "one success is
    // enough"; a weight-0 one holds the instance in FAULT until it reports
    // (num_script_init); one failure decides too.
    #[test]
    fn a_script_starts_pending_and_its_first_result_decides() {
        let scripts = script("chk", "rise 3\n fall 3");
        let mut t = tracking(&scripts, 100, "track_script {\n chk\n}");
        assert_eq!(t.state("chk"), Some(ObjectState::Pending));
        assert_eq!(
            t.verdict(),
            v(true, 100),
            "pending weight-0 script holds FAULT"
        );
        assert_eq!(t.script_result("chk", true).unwrap(), v(false, 100));
        assert_eq!(t.state("chk"), Some(ObjectState::Up));

        let mut t = tracking(&scripts, 100, "track_script {\n chk\n}");
        assert_eq!(t.script_result("chk", false).unwrap(), v(true, 100));
        assert_eq!(t.state("chk"), Some(ObjectState::Down));
    }

    // initialise_track_script_state: a pending weighted script adds
    // nothing either way.
    #[test]
    fn a_pending_weighted_script_adds_nothing() {
        let scripts = script("up", "weight 10") + &script("down", "weight -10");
        let mut t = tracking(&scripts, 100, "track_script {\n up\n down\n}");
        assert_eq!(t.verdict(), v(false, 100));
        assert_eq!(t.script_result("up", true).unwrap(), v(false, 110));
        assert_eq!(t.script_result("down", false).unwrap(), v(false, 100));
        assert_eq!(t.script_result("down", true).unwrap(), v(false, 110));
        assert_eq!(t.script_result("up", false).unwrap(), v(false, 100));
    }

    // vrrp_script_child_thread: `fall` consecutive failures bring an up
    // script down, `rise` consecutive successes bring it back; a success
    // in between resets the failures (and the reverse).
    #[test]
    fn rise_and_fall_count_consecutive_results() {
        let scripts = script("chk", "rise 2\n fall 3\n weight -40");
        let mut t = tracking(&scripts, 100, "track_script {\n chk\n}");
        t.script_result("chk", true).unwrap();
        assert_eq!(t.verdict(), v(false, 100));
        // Two failures, a success: still up, the count back at the top.
        t.script_result("chk", false).unwrap();
        t.script_result("chk", false).unwrap();
        t.script_result("chk", true).unwrap();
        assert_eq!(t.state("chk"), Some(ObjectState::Up));
        t.script_result("chk", false).unwrap();
        t.script_result("chk", false).unwrap();
        assert_eq!(t.state("chk"), Some(ObjectState::Up), "fall 3 needs three");
        assert_eq!(t.script_result("chk", false).unwrap(), v(false, 60));
        // One success, a failure: the successes start again.
        t.script_result("chk", true).unwrap();
        t.script_result("chk", false).unwrap();
        t.script_result("chk", true).unwrap();
        assert_eq!(t.state("chk"), Some(ObjectState::Down), "rise 2 needs two");
        assert_eq!(t.script_result("chk", true).unwrap(), v(false, 100));
    }

    // keepalived.conf(5) vrrp_script `init_fail`; vrrp_init_script sets
    // the counter to 0: `rise` successes are needed.
    #[test]
    fn init_fail_starts_down_and_needs_rise_successes() {
        let scripts = script("chk", "rise 2\n weight -10");
        let mut t = tracking(&scripts, 100, "track_script {\n chk\n}");
        assert_eq!(t.start_failed("chk").unwrap(), v(false, 90));
        assert_eq!(t.script_result("chk", true).unwrap(), v(false, 90));
        assert_eq!(t.script_result("chk", true).unwrap(), v(false, 100));
        assert!(matches!(
            t.start_failed("nope"),
            Err(TrackError::NotTracked { kind: "script", .. })
        ));
    }

    // keepalived.conf(5) track_script: the entry's weight overrides the
    // script's; without one the script's applies (its default 0: fault).
    #[test]
    fn the_track_script_weight_overrides_the_scripts() {
        let scripts = script("a", "weight 30") + &script("b", "weight 30");
        let mut t = tracking(&scripts, 100, "track_script {\n a weight -5\n b\n}");
        t.script_result("a", false).unwrap();
        assert_eq!(t.script_result("b", true).unwrap(), v(false, 125));
        let scripts = script("a", "weight 30");
        let mut t = tracking(&scripts, 100, "track_script {\n a weight 0\n}");
        assert_eq!(t.script_result("a", false).unwrap(), v(true, 100));
    }

    // vrrp_set_effective_priority: within 1..=254.
    #[test]
    fn the_priority_is_clamped_to_1_through_254() {
        let mut t = tracking(
            &script("s", "weight 200"),
            200,
            "track_script {\n s\n}\ntrack_interface {\n eth1 weight -253\n}",
        );
        assert_eq!(t.verdict(), v(false, 1), "200 - 253 clamps to 1");
        assert_eq!(t.script_result("s", true).unwrap(), v(false, 147));
        assert_eq!(t.interface("eth1", true).unwrap(), v(false, 254));
    }

    // vrrp_set_effective_priority: the address owner's priority never
    // changes; a weight-0 object still faults it (down_instance).
    #[test]
    fn the_owner_keeps_255_but_can_fault() {
        let mut t = tracking(
            &script("s", ""),
            255,
            "track_interface {\n eth1 weight -50\n}\ntrack_script {\n s\n}",
        );
        assert_eq!(t.script_result("s", true).unwrap(), v(false, 255));
        assert_eq!(t.script_result("s", false).unwrap(), v(true, 255));
    }

    // A fault from one object lasts until every weight-0 object is up.
    #[test]
    fn fault_needs_every_unweighted_object_up() {
        let mut t = tracking(
            &script("s", ""),
            100,
            "track_interface {\n eth1\n}\ntrack_script {\n s\n}",
        );
        t.script_result("s", true).unwrap();
        assert_eq!(t.verdict(), v(true, 100));
        assert_eq!(t.interface("eth1", true).unwrap(), v(false, 100));
        assert_eq!(t.script_result("s", false).unwrap(), v(true, 100));
    }

    #[test]
    fn unknown_names_are_errors() {
        let mut t = tracking("", 100, "track_interface {\n eth1\n}");
        assert!(matches!(
            t.interface("eth9", true),
            Err(TrackError::NotTracked {
                kind: "interface",
                ..
            })
        ));
        assert!(matches!(
            t.script_result("x", true),
            Err(TrackError::NotTracked { kind: "script", .. })
        ));
        let m = model(&script("s", ""), 100, "track_script {\n s\n}");
        let err = Tracking::new(&m.vrrp.instances[0], &[], false).unwrap_err();
        assert!(
            err.to_string()
                .contains("track_script s names no vrrp_script"),
            "{err}"
        );
    }

    #[test]
    fn a_command_with_unbalanced_quotes_is_refused() {
        let m = model(&script("s", ""), 100, "track_script {\n s\n}");
        let mut s = m.vrrp.scripts[0].clone();
        s.script.command = "/bin/sh -c 'oops".into();
        assert!(matches!(
            ScriptRun::new(&s, None),
            Err(TrackError::Command { .. })
        ));
        let missing = User {
            user: "no-such-user-ipvsd-track".into(),
            group: None,
        };
        let s = m.vrrp.scripts[0].clone();
        assert!(matches!(
            ScriptRun::new(&s, Some(&missing)),
            Err(TrackError::User { .. })
        ));
    }
}
