//! Applying a desired state: the plan's steps go out as one pipelined batch;
//! a race with another program makes it read the table and plan again; a
//! failure undoes what was applied, so an apply is all or nothing; and only
//! one apply runs at a time in a network namespace.

use std::collections::HashMap;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

use crate::batch::Change;
use crate::desired::DesiredState;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::handle::Ipvs;
use crate::key::ServiceKey;
use crate::plan::{DiffOptions, Removal, Step, diff};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// What an apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// The steps carried out, in order (undone again if `rollback` says so).
    pub applied: Vec<Step>,
    /// The steps that failed, with why.
    pub failed: Vec<(Step, Error)>,
    /// How many times the table was read and a plan made.
    pub rounds: usize,
    /// The undoing of `applied` after a failure, with
    /// [`OnFailure::RollBack`].
    pub rollback: Option<Rollback>,
}

/// The undoing of an apply that failed.
#[derive(Debug, Default)]
pub struct Rollback {
    /// The steps that undid the applied ones, in the order carried out.
    pub undone: Vec<Step>,
    /// The undoing steps that failed: the table is not as it was found.
    pub failed: Vec<(Step, Error)>,
}

impl ApplyReport {
    /// Whether every step was applied.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }

    /// Whether the table is as it was found after a failure: nothing was
    /// applied, or all of it was undone.
    pub fn is_unchanged(&self) -> bool {
        match &self.rollback {
            Some(r) => r.failed.is_empty(),
            None => self.applied.is_empty(),
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
fn undo_of(step: &Step, before: &HashMap<ServiceKey, &ServiceInfo>) -> Vec<Step> {
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
                steps.extend(info.destinations.iter().map(|d| Step::AddDestination {
                    service: *key,
                    destination: d.destination.clone(),
                }));
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
        let deadline = Instant::now() + timeout;
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
                Err(None) if Instant::now() >= deadline => {
                    return Err(Error::new(
                        op,
                        ErrorKind::Busy,
                        format!(
                            "another apply in this network namespace has been running for over {} s",
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
    /// Makes the kernel's table equal to `desired`: reads the table, makes
    /// the plan ([`diff`]), and sends its steps as one pipelined batch. A step
    /// refused because another program changed the table meanwhile (it
    /// exists already, or is gone) makes it read the table and plan again,
    /// up to `options.retries` times. If steps still fail, those applied are
    /// undone ([`OnFailure::RollBack`], the default) and the report says
    /// whether the table is as it was found. Applying the same state twice
    /// changes nothing the second time. Counters of services and real
    /// servers that are deleted and added back start again from zero.
    ///
    /// With `options.lock_timeout`, it first waits for any other apply in the
    /// handle's network namespace to end.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if `desired` is invalid (nothing is
    /// changed); [`ErrorKind::Busy`] if another apply held the lock too long;
    /// a failure to read the table or of the exchange itself (after which it
    /// tries to restore the table it found, and says how that went). Steps
    /// the kernel refused are in the report.
    pub fn apply(&self, desired: &DesiredState, options: &ApplyOptions) -> Result<ApplyReport> {
        desired.validate()?;
        let _lock = match options.lock_timeout {
            Some(timeout) => Some(ApplyLock::take(self, timeout)?),
            None => None,
        };
        let mut report = ApplyReport::default();
        // What undoes the applied steps, last first.
        let mut undo: Vec<Step> = Vec::new();
        let found = self.table()?;
        let mut table = found.clone();
        loop {
            report.rounds += 1;
            let plan = diff(&table, desired, &options.diff);
            if plan.is_empty() {
                return Ok(report);
            }
            let changes: Vec<Change> = plan.steps.iter().map(Step::change).collect();
            let outcomes = match self.apply_changes(&changes) {
                Ok(outcomes) => outcomes,
                Err(e) => return Err(self.restore_after(e, &found, options)),
            };
            let before: HashMap<ServiceKey, &ServiceInfo> =
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
            if !raced || report.rounds > options.retries {
                report.failed = failed;
                if options.on_failure == OnFailure::RollBack && !undo.is_empty() {
                    undo.reverse();
                    report.rollback = Some(self.undo(undo)?);
                }
                return Ok(report);
            }
            table = self.table()?;
        }
    }

    /// Carries out undoing steps, all in one batch.
    fn undo(&self, steps: Vec<Step>) -> Result<Rollback> {
        let changes: Vec<Change> = steps.iter().map(Step::change).collect();
        let outcomes = self.apply_changes(&changes)?;
        let mut rollback = Rollback::default();
        for (step, outcome) in steps.into_iter().zip(outcomes) {
            match outcome {
                Err(e) if !already_undone(&step, &e) => rollback.failed.push((step, e)),
                _ => rollback.undone.push(step),
            }
        }
        Ok(rollback)
    }

    /// After an exchange failed midway (which steps took effect is unknown),
    /// makes the table what it was found to be, and says how that went.
    fn restore_after(&self, err: Error, found: &[ServiceInfo], options: &ApplyOptions) -> Error {
        if options.on_failure == OnFailure::Keep {
            return err;
        }
        let restore = || -> Result<usize> {
            let plan = diff(
                &self.table()?,
                &DesiredState::from_table(found),
                &DiffOptions {
                    removal: Removal::Delete,
                },
            );
            let steps = plan.steps.len();
            let changes: Vec<Change> = plan.steps.iter().map(Step::change).collect();
            for outcome in self.apply_changes(&changes)? {
                outcome?;
            }
            Ok(steps)
        };
        let outcome = match restore() {
            Ok(steps) => format!("the table was restored as found ({steps} changes undone)"),
            Err(e) => format!("restoring the table as found failed too: {e}"),
        };
        Error::new(Operation::Apply, err.kind(), format!("{err}; {outcome}"))
    }
}
