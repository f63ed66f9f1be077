//! The checker runtime: one tokio task per real server with checkers runs
//! them on their schedules (one without checkers needs none: it is up at
//! its configured weight), a global semaphore bounds the probes in flight (so open
//! sockets and child processes never exceed it), changes go out as
//! [`HealthEvent`]s on a channel, and a cancellation token stops it all.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outcome::{ProbeFailure, ProbeReport};
use super::probe::Probe;
use super::server::{RealServerHealth, ServerChange};
use super::state::{ChangeReason, CheckCounters};
use super::timing::{Health, Timing};

/// One checker of a real server: its probe and its timing.
#[derive(Debug, Clone)]
pub struct CheckerSpec {
    /// What to probe, resolved.
    pub probe: Probe,
    /// When, and how results count.
    pub timing: Timing,
}

/// A real server to check.
#[derive(Debug, Clone)]
pub struct RealServerSpec<Id> {
    /// The caller's opaque id, given back in every event.
    pub id: Id,
    /// The configured weight (keepalived.conf(5) `weight`, default 1).
    pub weight: u32,
    /// Its checkers; none: always up.
    pub checkers: Vec<CheckerSpec>,
}

/// A change of a real server's health or weight, for reconcile, logs and
/// notify hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthEvent<Id> {
    /// The real server (the caller's id).
    pub server: Id,
    /// Health and weight last reported; `None` for the first report.
    pub previous: Option<(Health, u32)>,
    /// Health now.
    pub health: Health,
    /// IPVS weight now: the configured weight plus dynamic offsets.
    pub weight: u32,
    /// The checker whose result caused it (index in the spec's order);
    /// `None` for [`Runner::set_weight`].
    pub checker: Option<usize>,
    /// Its kind (`TCP_CHECK`, ...); `None` with `checker`.
    pub kind: Option<&'static str>,
    /// What it saw.
    pub reason: ChangeReason,
    /// That probe's latency (zero for [`Runner::set_weight`]).
    pub latency: Duration,
    /// That checker's counters so far (zero for [`Runner::set_weight`]).
    pub counters: CheckCounters,
}

impl<Id: fmt::Debug> fmt::Display for HealthEvent<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let health = match self.health {
            Health::Up => "UP",
            Health::Down => "DOWN",
        };
        write!(
            f,
            "real server {:?} {health} (weight {})",
            self.server, self.weight
        )?;
        if let (Some(kind), Some(i)) = (self.kind, self.checker) {
            write!(f, " by {kind} #{i}")?;
        }
        match &self.reason {
            ChangeReason::Success => write!(f, ": success in {:?}", self.latency),
            ChangeReason::Weight => write!(f, ": dynamic weight in {:?}", self.latency),
            ChangeReason::Reconfigured => write!(f, ": configured weight changed"),
            ChangeReason::Failure(e) => write!(f, ": {e}"),
        }
    }
}

/// One checker's state for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerStatus {
    /// Its kind (`TCP_CHECK`, ...).
    pub kind: &'static str,
    /// Its health (assumed until `settled`).
    pub health: Health,
    /// Whether it has a result yet.
    pub settled: bool,
    /// Its counters.
    pub counters: CheckCounters,
}

/// A real server's state for metrics and the status API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServerStatus {
    /// Health (assumed until every checker has run).
    pub health: Health,
    /// IPVS weight.
    pub weight: u32,
    /// Its checkers, in the spec's order.
    pub checkers: Vec<CheckerStatus>,
}

/// Runner options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerOptions {
    /// Probes in flight at most, over every real server (each holds a
    /// socket or a child process while it runs).
    pub max_in_flight: usize,
    /// The seed of the schedules' random draws; `None`: from the OS.
    pub seed: Option<u64>,
}

impl Default for RunnerOptions {
    /// 512 probes in flight (under the common 1,024 open-file soft limit,
    /// with room for the daemon's own descriptors), a random seed.
    fn default() -> Self {
        RunnerOptions {
            max_in_flight: 512,
            seed: None,
        }
    }
}

/// Why [`Runner::add`] refused a real server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    /// A real server with the same id is already being checked.
    #[error("real server {0} is already checked")]
    Duplicate(String),
}

enum ServerTask {
    /// Checked by a task of its own.
    Checked {
        cancel: CancellationToken,
        weight: watch::Sender<u32>,
        status: watch::Receiver<RealServerStatus>,
        handle: JoinHandle<()>,
    },
    /// No checkers, no task (at keepalived #2318's size, 37,000 idle
    /// tasks held about 120 MB): up at its configured weight.
    Unchecked(RealServerHealth),
}

/// Checks real servers until stopped. Made and used inside a tokio runtime.
pub struct Runner<Id> {
    events: mpsc::Sender<HealthEvent<Id>>,
    permits: Arc<Semaphore>,
    cancel: CancellationToken,
    rng: fastrand::Rng,
    servers: HashMap<Id, ServerTask>,
}

impl<Id> Runner<Id>
where
    Id: Clone + Eq + Hash + fmt::Debug + Send + Sync + 'static,
{
    /// A runner with no real servers yet that sends events to `events`.
    pub fn new(options: RunnerOptions, events: mpsc::Sender<HealthEvent<Id>>) -> Self {
        Runner {
            events,
            permits: Arc::new(Semaphore::new(options.max_in_flight.max(1))),
            cancel: CancellationToken::new(),
            rng: options
                .seed
                .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            servers: HashMap::new(),
        }
    }

    /// Starts checking a real server: its first checks come after each
    /// checker's warmup draw.
    ///
    /// # Errors
    /// [`RunnerError::Duplicate`] if its id is already checked.
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns the real server's task).
    pub fn add(&mut self, spec: RealServerSpec<Id>) -> Result<(), RunnerError> {
        if self.servers.contains_key(&spec.id) {
            return Err(RunnerError::Duplicate(format!("{:?}", spec.id)));
        }
        let health = RealServerHealth::new(spec.weight, spec.checkers.iter().map(|c| c.timing));
        if spec.checkers.is_empty() {
            self.servers.insert(spec.id, ServerTask::Unchecked(health));
            return Ok(());
        }
        let cancel = self.cancel.child_token();
        let kinds: Vec<&'static str> = spec.checkers.iter().map(|c| c.probe.kind()).collect();
        let (status_tx, status_rx) = watch::channel(status_of(&health, &kinds));
        let (weight_tx, weight_rx) = watch::channel(spec.weight);
        let task = ServerLoop {
            id: spec.id.clone(),
            probes: spec
                .checkers
                .into_iter()
                .map(|c| Arc::new(c.probe))
                .collect(),
            kinds,
            health,
            rng: self.rng.fork(),
            permits: self.permits.clone(),
            events: self.events.clone(),
            status: status_tx,
            weight: weight_rx,
            cancel: cancel.clone(),
        };
        let handle = tokio::spawn(task.run());
        self.servers.insert(
            spec.id,
            ServerTask::Checked {
                cancel,
                weight: weight_tx,
                status: status_rx,
                handle,
            },
        );
        Ok(())
    }

    /// Stops checking a real server (its probes in flight are aborted,
    /// their sockets closed and child processes killed); `false` if it was
    /// not checked.
    pub fn remove(&mut self, id: &Id) -> bool {
        match self.servers.remove(id) {
            Some(ServerTask::Checked { cancel, .. }) => {
                cancel.cancel();
                true
            }
            Some(ServerTask::Unchecked(_)) => true,
            None => false,
        }
    }

    /// Changes a real server's configured weight (a reload that changed
    /// only its `weight`), keeping its health and checkers as they are; an
    /// event follows if its resulting weight changed. `false` if it is not
    /// checked.
    pub fn set_weight(&mut self, id: &Id, weight: u32) -> bool {
        match self.servers.get_mut(id) {
            Some(ServerTask::Checked { weight: w, .. }) => {
                w.send_replace(weight);
                true
            }
            Some(ServerTask::Unchecked(health)) => {
                if let Some(change) = health.set_configured_weight(weight) {
                    let event = HealthEvent {
                        server: id.clone(),
                        previous: change.previous,
                        health: change.health,
                        weight: change.weight,
                        checker: None,
                        kind: None,
                        reason: change.reason,
                        latency: Duration::ZERO,
                        counters: CheckCounters::default(),
                    };
                    // No task to wait on a full channel: one that lives as
                    // long as the send.
                    if let Err(mpsc::error::TrySendError::Full(event)) = self.events.try_send(event)
                    {
                        let events = self.events.clone();
                        tokio::spawn(async move { events.send(event).await });
                    }
                }
                true
            }
            None => false,
        }
    }

    /// Whether this real server is checked.
    pub fn contains(&self, id: &Id) -> bool {
        self.servers.contains_key(id)
    }

    /// A real server's current state.
    pub fn status(&self, id: &Id) -> Option<RealServerStatus> {
        self.servers.get(id).map(ServerTask::status)
    }

    /// Every real server's current state.
    pub fn statuses(&self) -> Vec<(Id, RealServerStatus)> {
        self.servers
            .iter()
            .map(|(id, t)| (id.clone(), t.status()))
            .collect()
    }

    /// A token that stops the whole runner when cancelled (for a signal
    /// handler); [`Runner::stop`] cancels it too.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops every checker and waits until their tasks have ended (probes
    /// aborted, sockets closed, child processes killed).
    pub async fn stop(mut self) {
        self.cancel.cancel();
        for (_, task) in std::mem::take(&mut self.servers) {
            if let ServerTask::Checked { handle, .. } = task {
                let _ = handle.await;
            }
        }
    }
}

impl<Id> Drop for Runner<Id> {
    /// A runner dropped without [`Runner::stop`] still stops its tasks (they
    /// end at their next poll; their probes are aborted).
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl ServerTask {
    fn status(&self) -> RealServerStatus {
        match self {
            ServerTask::Checked { status, .. } => status.borrow().clone(),
            ServerTask::Unchecked(health) => status_of(health, &[]),
        }
    }
}

fn status_of(health: &RealServerHealth, kinds: &[&'static str]) -> RealServerStatus {
    RealServerStatus {
        health: health.health(),
        weight: health.weight(),
        checkers: health
            .checkers()
            .iter()
            .zip(kinds)
            .map(|(c, kind)| CheckerStatus {
                kind,
                health: c.health(),
                settled: c.settled(),
                counters: c.counters(),
            })
            .collect(),
    }
}

/// What a finished probe task hands back.
struct Finished {
    checker: usize,
    report: ProbeReport,
    started: Instant,
    ended: Instant,
}

struct ServerLoop<Id> {
    id: Id,
    probes: Vec<Arc<Probe>>,
    kinds: Vec<&'static str>,
    health: RealServerHealth,
    rng: fastrand::Rng,
    permits: Arc<Semaphore>,
    events: mpsc::Sender<HealthEvent<Id>>,
    status: watch::Sender<RealServerStatus>,
    weight: watch::Receiver<u32>,
    cancel: CancellationToken,
}

impl<Id> ServerLoop<Id>
where
    Id: Clone + fmt::Debug + Send + Sync + 'static,
{
    async fn run(mut self) {
        let start = Instant::now();
        // `None` while that checker's probe is in flight.
        let mut due: Vec<Option<Instant>> = self
            .health
            .checkers()
            .iter()
            .map(|c| Some(c.timing().first_check(start, &mut self.rng)))
            .collect();
        let mut in_flight: JoinSet<Finished> = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, (usize, Instant)> = HashMap::new();
        loop {
            let next = due.iter().flatten().min().copied();
            tokio::select! {
                () = self.cancel.cancelled() => break,
                () = sleep_until_opt(next) => {
                    let now = Instant::now();
                    for (i, slot) in due.iter_mut().enumerate() {
                        if slot.is_some_and(|t| t <= now) {
                            *slot = None;
                            let handle = in_flight.spawn(probe_task(
                                i,
                                self.probes[i].clone(),
                                self.permits.clone(),
                            ));
                            running.insert(handle.id(), (i, now));
                        }
                    }
                }
                Some(joined) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    let finished = match joined {
                        Ok((id, f)) => {
                            running.remove(&id);
                            f
                        }
                        Err(e) => {
                            // A probe that panicked is a failed probe, not a
                            // dead real server task.
                            let Some((checker, started)) = running.remove(&e.id()) else {
                                continue;
                            };
                            Finished {
                                checker,
                                report: ProbeReport {
                                    result: Err(ProbeFailure::Internal(e.to_string())),
                                    latency: started.elapsed(),
                                },
                                started,
                                ended: Instant::now(),
                            }
                        }
                    };
                    let Some(slot) = due.get_mut(finished.checker) else {
                        continue;
                    };
                    let (step, change) = self.health.on_report(
                        finished.checker,
                        &finished.report,
                        finished.started,
                        finished.ended,
                        &mut self.rng,
                    );
                    *slot = Some(step.next);
                    self.status.send_replace(status_of(&self.health, &self.kinds));
                    if let Some(change) = change
                        && !self.emit(change, finished.report.latency).await
                    {
                        break;
                    }
                }
                Ok(()) = self.weight.changed() => {
                    let weight = *self.weight.borrow_and_update();
                    let change = self.health.set_configured_weight(weight);
                    self.status.send_replace(status_of(&self.health, &self.kinds));
                    if let Some(change) = change
                        && !self.emit(change, Duration::ZERO).await
                    {
                        break;
                    }
                }
            }
        }
        // Dropping the set aborts the probes in flight.
        in_flight.abort_all();
    }

    /// Sends one change as an event; `false` when the runner is stopping or
    /// nobody listens any more (then the loop ends).
    async fn emit(&self, change: ServerChange, latency: Duration) -> bool {
        let counters = change
            .checker
            .and_then(|i| self.health.checkers().get(i))
            .map(|c| c.counters())
            .unwrap_or_default();
        let event = HealthEvent {
            server: self.id.clone(),
            previous: change.previous,
            health: change.health,
            weight: change.weight,
            checker: change.checker,
            kind: change.checker.and_then(|i| self.kinds.get(i).copied()),
            reason: change.reason,
            latency,
            counters,
        };
        tokio::select! {
            () = self.cancel.cancelled() => false,
            sent = self.events.send(event) => sent.is_ok(),
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing due.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One probe, run once a permit is free; `started` counts from the permit.
async fn probe_task(checker: usize, probe: Arc<Probe>, permits: Arc<Semaphore>) -> Finished {
    // The semaphore is never closed; should it be, run unbounded rather
    // than never check again.
    let _permit = permits.acquire_owned().await.ok();
    let started = Instant::now();
    let report = probe.run().await;
    Finished {
        checker,
        report,
        started,
        ended: Instant::now(),
    }
}
