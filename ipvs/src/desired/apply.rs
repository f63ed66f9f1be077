//! Applying a desired state: the plan's steps go out as one pipelined batch;
//! a race with another program makes it read the table and plan again; a
//! failure undoes what was applied, so an apply is all or nothing; and only
//! one apply runs at a time in a network namespace.

use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

use crate::batch::Change;
use crate::desired::DesiredState;
use crate::desired::plan::{DiffOptions, Draining, Plan, Scope, Step, diff};
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::handle::Ipvs;
use crate::key::ServiceKey;
use crate::stats::ServiceInfo;

/// What [`Ipvs::apply`] does when a step fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Undo every step applied so far, leaving the table as it was found.
    #[default]
    RollBack,
    /// Keep the steps that were applied.
    Keep,
}

/// Options of [`Ipvs::apply`].
///
/// Start from [`ApplyOptions::default`] and change it with the `with_*`
/// methods (it may gain fields).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// How the plan is made.
    pub diff: DiffOptions,
    /// How many times to re-read the table and try again when another
    /// program changed it meanwhile.
    pub retries: usize,
    /// What to do when a step fails.
    pub on_failure: OnFailure,
    /// How long to wait for another apply in the same network namespace to
    /// finish (see [`APPLY_LOCK_NAME`]); `None` does not wait nor keep
    /// others out.
    pub lock_timeout: Option<Duration>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            diff: DiffOptions::default(),
            retries: 3,
            on_failure: OnFailure::RollBack,
            lock_timeout: Some(Duration::from_secs(60)),
        }
    }
}

impl ApplyOptions {
    /// Sets how the plan is made.
    #[must_use]
    pub fn with_diff(mut self, diff: DiffOptions) -> Self {
        self.diff = diff;
        self
    }

    /// Sets how many times to re-read the table and try again.
    #[must_use]
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Sets what to do when a step fails.
    #[must_use]
    pub fn with_on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// Sets how long to wait for another apply (`None`: neither wait nor
    /// keep others out).
    #[must_use]
    pub fn with_lock_timeout(mut self, lock_timeout: Option<Duration>) -> Self {
        self.lock_timeout = lock_timeout;
        self
    }
}

/// What an apply did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ApplyReport {
    /// The steps carried out, in order (undone again if `rollback` says so).
    pub applied: Vec<Step>,
    /// The steps that failed, with why.
    pub failed: Vec<(Step, Error)>,
    /// What ended the apply midway, after steps may have been sent: the
    /// batch exchange failed (which of its steps took effect is unknown), or
    /// the table could not be read again.
    pub stopped: Option<Error>,
    /// How many times the table was read and a plan made.
    pub rounds: usize,
    /// The undoing of what was applied after a failure, with
    /// [`OnFailure::RollBack`]: the applied steps undone in reverse order,
    /// or, after a failed exchange, the services the apply could touch (the
    /// whole table with [`Scope::Whole`]) put back as they were found.
    pub rollback: Option<Rollback>,
    /// What the last plan left draining ([`Removal::Drain`](crate::Removal::Drain)): removed
    /// real servers and services that still had connections when the table
    /// was read; a later apply deletes them once idle. Saves reading the
    /// table again to learn it ([`Ipvs::plan`]).
    pub draining: Vec<Draining>,
}

/// The undoing of an apply that failed.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Rollback {
    /// The steps that undid the applied ones, in the order carried out.
    pub undone: Vec<Step>,
    /// The undoing steps that failed: the table is not as it was found.
    pub failed: Vec<(Step, Error)>,
    /// Why the undoing could not be done at all, or not known to be done
    /// (its exchange failed, or the table could not be read).
    pub error: Option<Error>,
}

impl Rollback {
    /// Whether the table is back as it was found.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.error.is_none()
    }
}

impl ApplyReport {
    /// Whether every step was applied.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.stopped.is_none()
    }

    /// Whether the table is as it was found after a failure: nothing was
    /// applied, or all of it was undone.
    pub fn is_unchanged(&self) -> bool {
        match &self.rollback {
            Some(r) => r.is_complete(),
            None => self.applied.is_empty() && self.stopped.is_none(),
        }
    }
}

/// Errors that mean the table changed under us, so re-reading it helps.
fn is_race(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ServiceExists
            | ErrorKind::NoSuchService
            | ErrorKind::DestinationExists
            | ErrorKind::NoSuchDestination
    )
}

/// The steps that undo `step`, in the order to carry them out, given the
/// table as it was before it.
fn undo_of(step: &Step, before: &FxHashMap<ServiceKey, &ServiceInfo>) -> Vec<Step> {
    let original = |service: &ServiceKey, address, port| {
        before.get(service).and_then(|info| {
            info.destinations
                .iter()
                .find(|d| d.destination.address == address && d.destination.port == port)
                .map(|d| d.destination.clone())
        })
    };
    match step {
        Step::AddService(s) => vec![Step::DeleteService(s.key)],
        Step::EditService { from, to } => vec![Step::EditService {
            from: to.clone(),
            to: from.clone(),
        }],
        Step::AddDestination {
            service,
            destination,
        }
        | Step::ReorderAdd {
            service,
            destination,
        } => vec![Step::DeleteDestination {
            service: *service,
            address: destination.address,
            port: destination.port,
        }],
        Step::EditDestination { service, from, to } => vec![Step::EditDestination {
            service: *service,
            from: to.clone(),
            to: from.clone(),
        }],
        Step::DrainDestination {
            service,
            destination,
        } => original(service, destination.address, destination.port)
            .map(|to| Step::EditDestination {
                service: *service,
                from: destination.clone(),
                to,
            })
            .into_iter()
            .collect(),
        Step::DeleteDestination {
            service,
            address,
            port,
        }
        | Step::ReorderDelete {
            service,
            address,
            port,
        } => original(service, *address, *port)
            .map(|destination| Step::AddDestination {
                service: *service,
                destination,
            })
            .into_iter()
            .collect(),
        Step::DeleteService(key) => before
            .get(key)
            .map(|info| {
                let mut steps = vec![Step::AddService(info.service.clone())];
                // Last first: each add goes to the head of the list, so the
                // list comes back in its order.
                steps.extend(
                    info.destinations
                        .iter()
                        .rev()
                        .map(|d| Step::AddDestination {
                            service: *key,
                            destination: d.destination.clone(),
                        }),
                );
                steps
            })
            .unwrap_or_default(),
    }
}

/// Whether an undoing step's error means its work is done already (what
/// it deletes is gone).
fn already_undone(step: &Step, err: &Error) -> bool {
    matches!(
        (step, err.kind()),
        (Step::DeleteService(_), ErrorKind::NoSuchService)
            | (
                Step::DeleteDestination { .. },
                ErrorKind::NoSuchService | ErrorKind::NoSuchDestination
            )
    )
}

/// The keys of the services an apply of `desired` under a scope other
/// than [`Scope::Whole`] may touch: `desired`'s, in its order, then the
/// other managed ones.
fn in_scope(desired: &DesiredState, scope: &Scope) -> Vec<ServiceKey> {
    let listed: BTreeSet<ServiceKey> = desired.services.iter().map(|s| s.service.key).collect();
    let mut keys: Vec<ServiceKey> = desired.services.iter().map(|s| s.service.key).collect();
    if let Scope::Managed(managed) = scope {
        keys.extend(managed.iter().filter(|k| !listed.contains(k)).copied());
    }
    keys
}

/// Held while an apply runs: an abstract Unix socket bound to one name in
/// the handle's network namespace. The kernel frees the name when the
/// process ends, however it ends, so a crash never leaves it locked.
struct ApplyLock {
    _socket: UnixDatagram,
}

/// The abstract Unix socket name whose binding is the apply lock of a
/// network namespace. Another program that must not run during an apply
/// (nor an apply during it) can bind it too.
pub const APPLY_LOCK_NAME: &[u8] = b"ipvs-rs/apply";

impl ApplyLock {
    fn take(ipvs: &Ipvs, timeout: Duration) -> Result<Self> {
        let op = Operation::Apply;
        let addr = SocketAddr::from_abstract_name(APPLY_LOCK_NAME)
            .map_err(|e| Error::new(op, ErrorKind::Io, format!("lock name: {e}")))?;
        // A timeout too long to add to now means no deadline.
        let deadline = Instant::now().checked_add(timeout);
        loop {
            // The socket must be made in the handle's namespace: abstract
            // names are per namespace.
            let bound = ipvs.in_own_namespace(|| {
                Ok(UnixDatagram::bind_addr(&addr).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AddrInUse {
                        None
                    } else {
                        Some(e)
                    }
                }))
            })?;
            match bound {
                Ok(socket) => return Ok(Self { _socket: socket }),
                Err(Some(e)) => {
                    return Err(Error::new(op, ErrorKind::Io, format!("lock: {e}")));
                }
                Err(None) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    return Err(Error::new(
                        op,
                        ErrorKind::Busy,
                        format!(
                            "waited {} s for another apply in this network namespace to end",
                            timeout.as_secs()
                        ),
                    ));
                }
                Err(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Ipvs {
    /// What [`Ipvs::apply`] would do now: the plan ([`diff`]) from the
    /// kernel's table to `desired`. Nothing is changed. It reads what the
    /// apply would (see [`Ipvs::apply`]).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `desired` is invalid (as for
    /// [`Ipvs::apply`]); a failure to read the table.
    pub fn plan(&self, desired: &DesiredState, options: &DiffOptions) -> Result<Plan> {
        self.check_desired(desired)?;
        let table = self.read_in_scope(desired, &options.scope)?;
        Ok(diff(&table, desired, options))
    }

    /// The services an apply or plan of `desired` under `scope` may touch,
    /// as the kernel has them: with [`Scope::Whole`] the whole table, read
    /// settled (see [`ReadOptions::settled`](crate::ReadOptions::settled));
    /// otherwise only those `desired` lists and the managed ones (see
    /// [`Ipvs::settled_services`]), so that a daemon changing one service
    /// among thousands reads that one.
    fn read_in_scope(&self, desired: &DesiredState, scope: &Scope) -> Result<Vec<ServiceInfo>> {
        match scope {
            Scope::Whole => self.settled_table(),
            Scope::Listed | Scope::Managed(_) => self.settled_services(&in_scope(desired, scope)),
        }
    }

    /// Makes the kernel's table equal to `desired`: reads the table, makes
    /// the plan ([`diff`]), and sends its steps as one pipelined batch. A step
    /// refused because another program changed the table meanwhile (it
    /// exists already, or is gone) makes it read the table and plan again,
    /// up to `options.retries` times, when every failure was such a race.
    /// Applying the same state twice changes nothing the second time.
    ///
    /// All or nothing, with [`OnFailure::RollBack`] (the default): if steps
    /// still fail, the applied ones are undone in reverse order; if the
    /// exchange itself fails (which steps took effect is then unknown), the
    /// services it could touch are put back as they were found (the whole
    /// table with [`Scope::Whole`]). The report says which, and
    /// [`ApplyReport::is_unchanged`] whether it worked. Counters of services
    /// and real servers deleted and added back start again from zero, and
    /// real servers added back may stand elsewhere in their service's list
    /// than they did (which matters to `mh`, `sh` and `dh`; see
    /// [`DiffOptions::canonical_order`]).
    ///
    /// With `options.lock_timeout`, it first waits for any other apply in the
    /// handle's network namespace to end.
    ///
    /// # Errors
    /// Only before anything was sent: [`ErrorKind::InvalidArgument`] if
    /// `desired` is invalid ([`DesiredState::validate`], or a real server
    /// forwarded locally to an address that is not the director's); [`ErrorKind::Busy`] if another apply held the
    /// lock too long; a failure to read the table. What happens after is in
    /// the report.
    ///
    /// ```no_run
    /// use ipvs::{ApplyOptions, DesiredState, DiffOptions, Ipvs, Removal, Scope};
    ///
    /// let ipvs = Ipvs::new()?;
    /// let desired = DesiredState::from_json(&std::fs::read_to_string("/etc/ipvs-rs/table.json")?)?;
    /// // The whole table is ours; real servers and services to remove drain
    /// // first, and go on a later apply once they have no connections.
    /// let diff = DiffOptions::default()
    ///     .with_scope(Scope::Whole)
    ///     .with_removal(Removal::Drain)
    ///     .with_keep_weights(true);
    /// let report = ipvs.apply(&desired, &ApplyOptions::default().with_diff(diff))?;
    /// if !report.is_success() {
    ///     eprintln!("apply failed; undone: {}", report.is_unchanged());
    /// }
    /// for waiting in ipvs.plan(&desired, &DiffOptions::default().with_removal(Removal::Drain))?.draining {
    ///     println!("{waiting}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply(&self, desired: &DesiredState, options: &ApplyOptions) -> Result<ApplyReport> {
        self.check_desired(desired)?;
        let _lock = match options.lock_timeout {
            Some(timeout) => Some(ApplyLock::take(self, timeout)?),
            None => None,
        };
        let mut report = ApplyReport::default();
        // What undoes the applied steps, last first.
        let mut undo: Vec<Step> = Vec::new();
        let found = self.read_in_scope(desired, &options.diff.scope)?;
        let mut table = found.clone();
        loop {
            report.rounds += 1;
            let mut plan = diff(&table, desired, &options.diff);
            report.draining = std::mem::take(&mut plan.draining);
            if plan.is_empty() {
                return Ok(report);
            }
            let outcomes = match self.send_steps(&plan.steps) {
                Ok(outcomes) => outcomes,
                Err(e) => {
                    report.stopped = Some(e);
                    if options.on_failure == OnFailure::RollBack {
                        report.rollback = Some(self.restore(&found, desired, &options.diff.scope));
                    }
                    return Ok(report);
                }
            };
            let before: FxHashMap<ServiceKey, &ServiceInfo> =
                table.iter().map(|s| (s.service.key, s)).collect();
            let mut failed = Vec::new();
            for (step, outcome) in plan.steps.into_iter().zip(outcomes) {
                match outcome {
                    Ok(()) => {
                        undo.extend(undo_of(&step, &before).into_iter().rev());
                        report.applied.push(step);
                    }
                    Err(e) => failed.push((step, e)),
                }
            }
            if failed.is_empty() {
                return Ok(report);
            }
            // Planning again helps only if every failure was a race.
            let raced = failed.iter().all(|(_, e)| is_race(e));
            let reread = if raced && report.rounds <= options.retries {
                Some(self.read_in_scope(desired, &options.diff.scope))
            } else {
                None
            };
            match reread {
                Some(Ok(now)) => table = now,
                give_up => {
                    report.failed = failed;
                    report.stopped = give_up.and_then(|r| r.err());
                    if options.on_failure == OnFailure::RollBack && !undo.is_empty() {
                        undo.reverse();
                        report.rollback = Some(self.undo(undo));
                    }
                    return Ok(report);
                }
            }
        }
    }

    /// [`DesiredState::validate`], and the addresses of locally forwarded
    /// real servers.
    fn check_desired(&self, desired: &DesiredState) -> Result<()> {
        desired.validate()?;
        self.check_own_addresses(
            Operation::ReadDesiredState,
            desired.services.iter().flat_map(|spec| {
                spec.destinations
                    .iter()
                    .map(move |d| (&spec.service.key, d))
            }),
        )
    }

    /// Sends steps as one pipelined batch, unvalidated: they are the plan
    /// of a validated state, or they put back what the kernel held.
    fn send_steps(&self, steps: &[Step]) -> Result<Vec<Result<()>>> {
        let changes: Vec<Change> = steps.iter().map(Step::change).collect();
        self.send_changes(&changes)
    }

    /// Carries out undoing steps, all in one batch.
    fn undo(&self, steps: Vec<Step>) -> Rollback {
        let mut rollback = Rollback::default();
        match self.send_steps(&steps) {
            Ok(outcomes) => {
                for (step, outcome) in steps.into_iter().zip(outcomes) {
                    match outcome {
                        Err(e) if !already_undone(&step, &e) => rollback.failed.push((step, e)),
                        _ => rollback.undone.push(step),
                    }
                }
            }
            // Which of them took effect is unknown.
            Err(e) => rollback.error = Some(e),
        }
        rollback
    }

    /// After an exchange failed midway (which steps took effect is unknown),
    /// makes what the apply of `desired` under `scope` may touch what it was
    /// found to be: a plan from the table now to `found`, carried out as an
    /// undoing.
    fn restore(&self, found: &[ServiceInfo], desired: &DesiredState, scope: &Scope) -> Rollback {
        let as_found = DesiredState::from_table(found);
        // Everything in scope as found: what was deleted comes back, what
        // was added goes.
        let back = match scope {
            Scope::Whole => Scope::Whole,
            Scope::Listed | Scope::Managed(_) => {
                Scope::Managed(in_scope(desired, scope).into_iter().collect())
            }
        };
        match self.read_in_scope(desired, scope) {
            Ok(now) => {
                self.undo(diff(&now, &as_found, &DiffOptions::default().with_scope(back)).steps)
            }
            Err(e) => Rollback {
                error: Some(e),
                ..Rollback::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::ServiceSpec;
    use crate::desired::model::carry_out;
    use crate::desired::plan::Removal;
    use crate::destination::{Destination, ForwardMethod};
    use crate::service::{Scheduler, Service};
    use std::net::Ipv4Addr;

    fn config(table: &[ServiceInfo]) -> DesiredState {
        let mut state = DesiredState::from_table(table);
        state.services.sort_by_key(|s| s.service.key);
        for s in &mut state.services {
            s.destinations.sort_by_key(|d| (d.address, d.port));
        }
        state
    }

    fn spec(port: u16, sched: Scheduler, servers: &[(u8, u32)]) -> ServiceSpec {
        ServiceSpec {
            service: Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), port))
                .with_scheduler(sched),
            destinations: servers
                .iter()
                .map(|(host, weight)| {
                    Destination::new(Ipv4Addr::new(192, 0, 2, *host), port, ForwardMethod::Masq)
                        .with_weight(*weight)
                })
                .collect(),
        }
    }

    #[test]
    fn undoing_every_step_in_reverse_gives_back_the_table_found() {
        let found_state = DesiredState {
            services: vec![
                spec(80, Scheduler::RoundRobin, &[(1, 1), (2, 1), (3, 4)]),
                spec(81, Scheduler::LeastConnection, &[(4, 2)]),
                spec(82, Scheduler::WeightedRoundRobin, &[]),
            ],
        };
        let desired = DesiredState {
            services: vec![
                spec(80, Scheduler::WeightedRoundRobin, &[(1, 5), (5, 1)]),
                spec(82, Scheduler::WeightedRoundRobin, &[(6, 1)]),
                spec(83, Scheduler::RoundRobin, &[(7, 1), (8, 2)]),
            ],
        };
        let mut table = Vec::new();
        for s in &found_state.services {
            carry_out(&mut table, &Step::AddService(s.service.clone()));
            for d in &s.destinations {
                let step = Step::AddDestination {
                    service: s.service.key,
                    destination: d.clone(),
                };
                carry_out(&mut table, &step);
            }
        }
        let found = table.clone();
        for removal in [Removal::Delete, Removal::Drain] {
            let mut now = found.clone();
            let options = DiffOptions::default()
                .with_removal(removal)
                .with_scope(Scope::Whole);
            let plan = diff(&now, &desired, &options);
            assert!(plan.steps.len() >= 8, "{plan}");
            let before: FxHashMap<ServiceKey, &ServiceInfo> =
                found.iter().map(|s| (s.service.key, s)).collect();
            let mut undo = Vec::new();
            for step in &plan.steps {
                undo.extend(undo_of(step, &before).into_iter().rev());
            }
            for step in &plan.steps {
                carry_out(&mut now, step);
            }
            if removal == Removal::Delete {
                assert_eq!(
                    config(&now),
                    config(&diffed(&desired)),
                    "the plan reaches the state"
                );
            }
            undo.reverse();
            for step in &undo {
                carry_out(&mut now, step);
            }
            assert_eq!(config(&now), config(&found), "{removal:?}: undone");
        }
    }

    /// `desired` as a table.
    fn diffed(desired: &DesiredState) -> Vec<ServiceInfo> {
        let mut table = Vec::new();
        for step in diff(&[], desired, &DiffOptions::default()).steps {
            carry_out(&mut table, &step);
        }
        table
    }

    #[test]
    fn only_deleting_what_is_gone_counts_as_undone() {
        let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), 80);
        let gone = Error::from_errno(Operation::DeleteService, libc::ESRCH);
        assert!(already_undone(&Step::DeleteService(key), &gone));
        let exists = Error::from_errno(Operation::AddService, libc::EEXIST);
        assert!(!already_undone(
            &Step::AddService(Service::new(key)),
            &exists
        ));
    }
}
