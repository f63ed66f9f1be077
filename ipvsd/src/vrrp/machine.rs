//! One VRRP instance's state machine (RFC 5798 §6 / RFC 3768 §6), as
//! keepalived 2.2 runs it, with no I/O and no clock of its own.
//!
//! Every input carries the time (`now`); every input returns the
//! [`Action`]s to carry out, in order. The driver (the instance task) sends
//! the adverts, adds and removes the addresses, announces them, and calls
//! [`Machine::on_timer`] once [`Machine::deadline`] has passed.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::time::{Duration, Instant};
//! use ipvsd::vrrp::machine::{Action, Initial, Machine, Params};
//! use ipvsd::vrrp::{State, Version};
//!
//! let mut machine = Machine::new(Params {
//!     version: Version::V2,
//!     priority: 150,
//!     advert_int: Duration::from_secs(1),
//!     preempt: true,
//!     preempt_delay: Duration::ZERO,
//!     initial: Initial::Backup,
//!     local_address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
//!     sync_group: false,
//!     answer_lower_priority: true,
//! });
//! let t0 = Instant::now();
//! machine.start(t0);
//! assert_eq!(machine.state(), State::Backup);
//! // Nobody advertises: 3 × 1 s + (256 − 150)/256 s later we take over.
//! let deadline = machine.deadline().unwrap();
//! assert_eq!(deadline - t0, Duration::from_nanos(3_414_062_500));
//! let actions = machine.on_timer(deadline);
//! assert_eq!(actions[0], Action::Send { priority: 150 });
//! assert_eq!(machine.state(), State::Master);
//! ```
//!
//! Terms are RFC 5798's: the *advertisement interval* is ours (`advert_int`),
//! the *master advertisement interval* is the one the master uses (learned
//! from its adverts in version 3), the *skew time* makes higher priorities
//! take over first, and the *master down interval* is how long a backup waits
//! without adverts before it takes over.
//!
//! # Sync groups
//!
//! A member of a keepalived `vrrp_sync_group` ([`Params::sync_group`]) does
//! not decide alone when to become master or to leave fault: its group does
//! (keepalived 2.2.7 `vrrp_sync.c`, `vrrp_scheduler.c`). Where a lone
//! instance would take over, a member reports [`SyncReport::WantsMaster`]
//! and stays backup (keepalived's `wantstate` MASTER held by
//! `vrrp_sync_can_goto_master`), re-arming its master down timer; its own
//! tracking fault is reported as [`SyncReport::Fault`] and holds it in Fault
//! until the group lets it out. The group answers with
//! [`Machine::on_sync`] and a [`SyncCommand`].

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::vrrp::InitialState;
use crate::vrrp::{State, Version};

/// The address owner's priority (RFC 5798 §5.2.4).
const PRIORITY_OWNER: u8 = 255;

/// The highest priority tracking can give a router that is not the address
/// owner (keepalived's `vrrp_set_effective_priority` caps at 254).
const PRIORITY_MAX_TRACKED: u8 = PRIORITY_OWNER - 1;

/// Priority 0 in an advert: the master resigns (RFC 5798 §5.2.4).
const PRIORITY_RESIGN: u8 = 0;

/// The longest `preempt_delay` keepalived accepts (keepalived.conf(5)).
const PREEMPT_DELAY_MAX: Duration = Duration::from_secs(1000);

/// The largest version 2 advertisement interval: a `u8` of seconds
/// (RFC 3768 §5.3.7).
const ADVERT_INT_V2_MAX: Duration = Duration::from_secs(255);

/// One centisecond, the unit of the version 3 interval field (RFC 5798 §5.2.7).
const CENTISECOND: Duration = Duration::from_millis(10);

/// The largest version 3 advertisement interval: 12 bits of centiseconds,
/// 40.95 s (RFC 5798 §5.2.7).
const ADVERT_INT_V3_MAX: Duration = Duration::from_millis(40_950);

/// The configuration of one instance's machine, from its `vrrp_instance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The protocol version: decides the skew time's unit and whether a
    /// backup learns the master's advertisement interval.
    pub version: Version,
    /// The configured priority, 1 to 255; 255 is the address owner, which
    /// tracking never changes.
    pub priority: u8,
    /// Our advertisement interval (`advert_int`): whole seconds in version 2,
    /// whole centiseconds in version 3.
    pub advert_int: Duration,
    /// Preempt a lower-priority master; false is keepalived's `nopreempt`.
    pub preempt: bool,
    /// keepalived's `preempt_delay`: how long a backup with a higher
    /// priority keeps accepting a lower-priority master's adverts before it
    /// preempts, counted from the first such advert (0: preempt at once).
    pub preempt_delay: Duration,
    /// keepalived's `state`: the state the instance asks for at start.
    pub initial: Initial,
    /// Our primary address on the interface (the source of our adverts):
    /// between equal priorities the higher address wins (RFC 5798 §6.4.3).
    pub local_address: IpAddr,
    /// A member of a `vrrp_sync_group`: it goes master and leaves fault
    /// only on its group's [`SyncCommand`] (see the module docs).
    pub sync_group: bool,
    /// As master, answer a lower-priority advert with an advert of our own
    /// at once (keepalived's default; false is its `lower_prio_no_advert`,
    /// RFC 5798 §6.4.3's plain discard).
    pub answer_lower_priority: bool,
}

impl Params {
    /// Checks the values against the protocol's ranges.
    ///
    /// [`Machine::new`] does not call it: the configuration model is
    /// validated once when it is read, and a machine built from values
    /// outside these ranges still never panics.
    ///
    /// # Errors
    ///
    /// - [`ParamsError::PriorityZero`]: priority 0 is reserved for a
    ///   master's resignation (RFC 5798 §5.2.4);
    /// - [`ParamsError::AdvertIntervalV2`]: version 2 carries whole seconds,
    ///   1 to 255 (RFC 3768 §5.3.7);
    /// - [`ParamsError::AdvertIntervalV3`]: version 3 carries whole
    ///   centiseconds, 1 to 4095 (RFC 5798 §5.2.7);
    /// - [`ParamsError::PreemptDelay`]: keepalived accepts 0 to 1000 s.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.priority == PRIORITY_RESIGN {
            return Err(ParamsError::PriorityZero);
        }
        let int = self.advert_int;
        match self.version {
            Version::V2 => {
                if int.is_zero() || int > ADVERT_INT_V2_MAX || int.subsec_nanos() != 0 {
                    return Err(ParamsError::AdvertIntervalV2 { interval: int });
                }
            }
            Version::V3 => {
                let whole_cs = int.as_nanos().is_multiple_of(CENTISECOND.as_nanos());
                if int.is_zero() || int > ADVERT_INT_V3_MAX || !whole_cs {
                    return Err(ParamsError::AdvertIntervalV3 { interval: int });
                }
            }
        }
        if self.preempt_delay > PREEMPT_DELAY_MAX {
            return Err(ParamsError::PreemptDelay {
                delay: self.preempt_delay,
            });
        }
        Ok(())
    }
}

/// Why [`Params::validate`] refused the parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// Priority 0 only appears in a resigning master's advert.
    #[error(
        "priority 0 is reserved for a master's resignation; a priority is 1 to 255 (RFC 5798 §5.2.4)"
    )]
    PriorityZero,
    /// A version 2 advertisement interval that the advert cannot carry.
    #[error(
        "VRRP version 2 advertisement interval {interval:?}: it must be whole seconds from 1 to 255 (RFC 3768 §5.3.7)"
    )]
    AdvertIntervalV2 {
        /// The interval given.
        interval: Duration,
    },
    /// A version 3 advertisement interval that the advert cannot carry.
    #[error(
        "VRRP version 3 advertisement interval {interval:?}: it must be whole centiseconds from 0.01 s to 40.95 s (RFC 5798 §5.2.7)"
    )]
    AdvertIntervalV3 {
        /// The interval given.
        interval: Duration,
    },
    /// A `preempt_delay` above keepalived's limit.
    #[error("preempt_delay {delay:?}: keepalived accepts 0 to 1000 s")]
    PreemptDelay {
        /// The delay given.
        delay: Duration,
    },
}

/// The state an instance asks for at start (keepalived's `state`).
///
/// keepalived 2.2.7 (`vrrp_init_state` in `vrrp_scheduler.c`) never makes a
/// non-owner master at once: with `state MASTER` it enters BACKUP with a
/// master down timer of one advertisement interval plus the smallest skew
/// (the skew of priority 255), "to ensure there is no other master", and
/// becomes master when that runs out without a higher or equal advert.
/// This machine does the same. The address owner (priority 255) becomes
/// master at once whatever this says (RFC 5798 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Initial {
    /// `state BACKUP` (the default): wait a full master down interval.
    #[default]
    Backup,
    /// `state MASTER`: wait one advertisement interval, then take over
    /// unless an advert says otherwise.
    Master,
}

impl From<InitialState> for Initial {
    fn from(state: InitialState) -> Self {
        match state {
            InitialState::Backup => Self::Backup,
            InitialState::Master => Self::Master,
        }
    }
}

/// Something the driver must do, returned by the machine's inputs in the
/// order to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send an advert with this priority (0 on resignation), with our own
    /// advertisement interval.
    Send {
        /// The priority field of the advert.
        priority: u8,
    },
    /// Add the virtual addresses (becoming master).
    TakeAddresses,
    /// Remove them (leaving master).
    ReleaseAddresses,
    /// Send gratuitous ARPs / unsolicited neighbour advertisements for the
    /// addresses (the driver does the repeats and the delayed second burst).
    Announce,
    /// As master we heard a lower-priority router that believes it is
    /// master: it may have announced our addresses as its own, so announce
    /// them again (keepalived's `garp_lower_prio_repeat` now and again
    /// `garp_lower_prio_delay` later; the driver does the counts).
    Reannounce,
    /// The state changed (for logs, notify scripts, the sync daemon, status).
    /// It comes after the actions that carry the change out.
    Transition {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// A sync group member tells its group something (only with
    /// [`Params::sync_group`]).
    Sync(SyncReport),
}

/// What a sync group member reports to its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncReport {
    /// `true`: as backup, its master down timer ran out (the master is
    /// down, resigned, or is preempted), so it would go master; it stays
    /// backup until [`SyncCommand::Master`] and repeats this each master
    /// down interval. `false`: it accepted a master's advert since, and no
    /// longer wants to (keepalived's `wantstate` back to BACKUP).
    WantsMaster(bool),
    /// Its own tracked objects failed (`true`) or all recovered (`false`).
    /// After `true` it stays in Fault until [`SyncCommand::Fault`]`(false)`.
    Fault(bool),
}

/// What a sync group tells a member to do (keepalived's
/// `vrrp_sync_master`, `vrrp_sync_backup`, `vrrp_sync_fault` in
/// `vrrp_sync.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCommand {
    /// Every member wants master: a backup takes over now.
    Master,
    /// A member left master for a better one: a master goes backup (its
    /// addresses released, no priority 0 advert).
    Backup,
    /// `true`: a member failed: a master resigns (priority 0 advert,
    /// addresses released) and any member enters Fault. `false`: no member
    /// is failed any more: a member without a fault of its own leaves Fault
    /// for Backup.
    Fault(bool),
}

/// Why the state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// [`Machine::start`]: Init to Backup, or to Master for the address
    /// owner; also a `state MASTER` instance's takeover once its first
    /// advertisement interval passed without a higher advert.
    Started,
    /// The master down timer ran out: no advert from the master within the
    /// master down interval (RFC 5798 §6.4.2).
    MasterDown,
    /// The master resigned (an advert with priority 0) and the skew time
    /// passed (RFC 5798 §6.4.2).
    PriorityZero,
    /// We preempted a master of lower priority: we ignored its adverts and
    /// the master down timer ran out (RFC 5798 §6.4.2, preempt on).
    Preempted,
    /// As master, we heard an advert of higher priority (RFC 5798 §6.4.3).
    HigherPriority,
    /// As master, we heard an advert of equal priority from a higher
    /// primary address (RFC 5798 §6.4.3).
    HigherAddress,
    /// A tracked object failed (keepalived's FAULT).
    Fault,
    /// The failed tracked objects recovered.
    Recovered,
    /// [`Machine::stop`].
    Stopped,
    /// Its sync group moved it ([`Machine::on_sync`]).
    SyncGroup,
}

impl Reason {
    /// A short lower-case phrase for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::MasterDown => "master down",
            Self::PriorityZero => "master resigned (priority 0)",
            Self::Preempted => "preempted a lower priority master",
            Self::HigherPriority => "advert of higher priority",
            Self::HigherAddress => "advert of equal priority from a higher address",
            Self::Fault => "fault",
            Self::Recovered => "recovered from fault",
            Self::Stopped => "stopped",
            Self::SyncGroup => "sync group",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a backup stands with `preempt_delay` (keepalived's `preempt_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PreemptHold {
    /// No lower-priority advert heard since we entered Backup.
    NotStarted,
    /// Lower-priority adverts are accepted until this instant.
    Until(Instant),
    /// The delay does not fit in an `Instant`: never preempt.
    Forever,
}

/// One VRRP instance's state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct Machine {
    params: Params,
    state: State,
    /// Our priority now: the configured one moved by tracking weights.
    priority: u8,
    /// A tracked object has failed.
    fault: bool,
    /// The master's advertisement interval: ours, or in version 3, as
    /// learned from the master's adverts (RFC 5798 §6.1).
    master_adver_int: Duration,
    /// Master: the Adver_Timer; Backup: the Master_Down_Timer; otherwise
    /// none. `None` in Master or Backup only when the instant overflows.
    timer: Option<Instant>,
    /// The reason given when the Backup's timer runs out.
    takeover_reason: Reason,
    preempt_hold: PreemptHold,
    /// The master we last heard (Backup), or ourselves (Master).
    master_address: Option<IpAddr>,
    /// Sync group member in Backup: our timer ran out and we wait for the
    /// group (keepalived's `wantstate` MASTER).
    wants_master: bool,
    /// Sync group member: held in Fault until the group releases it.
    group_fault: bool,
}

impl Machine {
    /// A machine in state Init with these parameters.
    ///
    /// keepalived's rules on contradicting options apply (its
    /// `vrrp_complete_instance`): the address owner and `state MASTER`
    /// always preempt (`nopreempt` is cleared), and `state MASTER` clears
    /// `preempt_delay`. The configuration reader should warn about them.
    /// A priority of 0 is taken as 1 (see [`Params::validate`]).
    pub fn new(params: Params) -> Self {
        let mut params = params;
        if params.priority == PRIORITY_OWNER || params.initial == Initial::Master {
            params.preempt = true;
        }
        if params.initial == Initial::Master {
            params.preempt_delay = Duration::ZERO;
        }
        // Our adverts must never carry the resignation priority.
        params.priority = params.priority.max(1);
        Self {
            priority: params.priority,
            master_adver_int: params.advert_int,
            params,
            state: State::Init,
            fault: false,
            timer: None,
            takeover_reason: Reason::MasterDown,
            preempt_hold: PreemptHold::NotStarted,
            master_address: None,
            wants_master: false,
            group_fault: false,
        }
    }

    /// Leaves Init (RFC 5798 §6.4.1).
    ///
    /// - With a failed tracked object ([`Machine::set_fault`]): to Fault.
    /// - The address owner (priority 255): to Master at once.
    /// - `state MASTER`: to Backup, with a master down timer of one
    ///   advertisement interval plus the skew of priority 255 (keepalived).
    /// - Otherwise: to Backup, with a master down timer of the master down
    ///   interval.
    ///
    /// Does nothing when already started.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        if self.state != State::Init {
            return Vec::new();
        }
        let mut actions = Vec::new();
        if self.fault || self.group_fault {
            self.enter_fault(Reason::Fault, &mut actions);
        } else if self.is_owner() && !self.params.sync_group {
            self.become_master(now, Reason::Started, &mut actions);
        } else {
            self.enter_backup(now, Reason::Started, &mut actions);
            if self.params.initial == Initial::Master || self.is_owner() {
                // keepalived's vrrp_init_state: one interval to hear a master.
                let wait = self
                    .master_adver_int
                    .saturating_add(self.skew_time_for(PRIORITY_OWNER));
                self.timer = now.checked_add(wait);
                self.takeover_reason = Reason::Started;
            }
        }
        actions
    }

    /// An advert was received from `from` (its source address) with this
    /// priority and advertisement interval (version 2: the seconds of the
    /// interval field; version 3: its centiseconds).
    ///
    /// The driver has already checked the packet itself (TTL, checksum,
    /// virtual router id, addresses, authentication).
    ///
    /// - Version 2: an advert whose interval differs from ours is discarded
    ///   (RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet
    ///   is the same as the locally configured"; keepalived too).
    /// - Backup (RFC 5798 §6.4.2): priority 0 sets the master down timer to
    ///   the skew time. Priority at least ours, or `nopreempt`, or a
    ///   running `preempt_delay`: reset the master down timer (version 3
    ///   first learns the master's interval). A lower priority otherwise is
    ///   ignored, so the timer runs out and we preempt.
    /// - Master (RFC 5798 §6.4.3): priority 0 makes us advertise at once.
    ///   A higher priority, or an equal one from a higher address, sends us
    ///   to Backup. A lower one (or an equal one from a lower address),
    ///   which RFC 5798 discards, is answered as keepalived does
    ///   (`vrrp_state_master_rx`): an advert at once unless
    ///   [`Params::answer_lower_priority`] is off, then
    ///   [`Action::Reannounce`], as its sender may have announced our
    ///   addresses. Our own advert looped back is ignored.
    /// - Init and Fault: ignored.
    pub fn on_advert(
        &mut self,
        now: Instant,
        from: IpAddr,
        priority: u8,
        max_advert_int: Duration,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.params.version == Version::V2
            && max_advert_int.as_secs() != self.params.advert_int.as_secs()
        {
            return actions;
        }
        match self.state {
            State::Backup => self.backup_advert(now, from, priority, max_advert_int, &mut actions),
            State::Master => self.master_advert(now, from, priority, max_advert_int, &mut actions),
            State::Init | State::Fault => {}
        }
        actions
    }

    /// The deadline passed: a master advertises, a backup takes over.
    /// Does nothing when called before [`Machine::deadline`].
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(deadline) = self.timer else {
            return actions;
        };
        if now < deadline {
            return actions;
        }
        match self.state {
            State::Master => {
                // RFC 5798 §6.4.3: send an advert, reset the Adver_Timer.
                actions.push(Action::Send {
                    priority: self.priority,
                });
                self.timer = now.checked_add(self.params.advert_int);
            }
            State::Backup if self.params.sync_group => {
                // keepalived's vrrp_sync_can_goto_master: wait for the
                // group, and look again after a master down interval.
                self.wants_master = true;
                self.timer = now.checked_add(self.master_down_interval());
                actions.push(Action::Sync(SyncReport::WantsMaster(true)));
            }
            State::Backup => {
                let reason = self.takeover_reason;
                self.become_master(now, reason, &mut actions);
            }
            State::Init | State::Fault => self.timer = None,
        }
        actions
    }

    /// A tracked object failed (`fault` true) or all recovered (false).
    ///
    /// Failing: a master sends an advert of priority 0 (as keepalived's
    /// `vrrp_state_leave_master` does, so the backup takes over after the
    /// skew time) and releases the addresses; any started instance enters
    /// Fault, where it neither sends nor heeds adverts. Before
    /// [`Machine::start`] the fault is only recorded.
    ///
    /// Recovering: to Backup with a full master down interval of our own
    /// advertisement interval, as keepalived's `try_up_instance`; the
    /// address owner goes straight to Master (keepalived too).
    ///
    /// A sync group member also reports [`SyncReport::Fault`], and after a
    /// fault stays in Fault until [`SyncCommand::Fault`]`(false)`.
    pub fn set_fault(&mut self, now: Instant, fault: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.fault == fault {
            return actions;
        }
        self.fault = fault;
        if self.params.sync_group {
            if fault {
                self.group_fault = true;
                self.fault_now(Reason::Fault, &mut actions);
            }
            actions.push(Action::Sync(SyncReport::Fault(fault)));
            return actions;
        }
        match (self.state, fault) {
            (State::Init, _) => {}
            (State::Master | State::Backup, true) => self.fault_now(Reason::Fault, &mut actions),
            (State::Fault, false) => {
                if self.is_owner() {
                    self.become_master(now, Reason::Recovered, &mut actions);
                } else {
                    self.enter_backup(now, Reason::Recovered, &mut actions);
                }
            }
            // Unreachable while `fault` and the state agree; nothing to do.
            (State::Fault, true) | (State::Master | State::Backup, false) => {}
        }
        actions
    }

    /// What the sync group decided for this member (see [`SyncCommand`]);
    /// ignored unless [`Params::sync_group`].
    ///
    /// - [`SyncCommand::Master`]: a backup outside fault becomes master now
    ///   (keepalived's `vrrp_sync_master` calls `vrrp_state_goto_master`),
    ///   with the reason of its own timer if it ran out, else
    ///   [`Reason::SyncGroup`].
    /// - [`SyncCommand::Backup`]: a master releases its addresses and goes
    ///   backup without a priority 0 advert (`vrrp_sync_backup`).
    /// - [`SyncCommand::Fault`]`(true)`: a master sends priority 0 and
    ///   releases its addresses; a master or backup enters Fault
    ///   (`vrrp_sync_fault`). Before [`Machine::start`] it is recorded.
    /// - [`SyncCommand::Fault`]`(false)`: a member in Fault without a fault
    ///   of its own enters Backup with a full master down interval
    ///   (`try_up_instance`, `vrrp_state_leave_fault`).
    pub fn on_sync(&mut self, now: Instant, command: SyncCommand) -> Vec<Action> {
        let mut actions = Vec::new();
        if !self.params.sync_group {
            return actions;
        }
        match command {
            SyncCommand::Master => {
                if self.state == State::Backup && !self.fault && !self.group_fault {
                    let reason = if self.wants_master {
                        self.takeover_reason
                    } else {
                        Reason::SyncGroup
                    };
                    self.become_master(now, reason, &mut actions);
                }
            }
            SyncCommand::Backup => {
                if self.state == State::Master {
                    actions.push(Action::ReleaseAddresses);
                    self.enter_backup(now, Reason::SyncGroup, &mut actions);
                }
            }
            SyncCommand::Fault(true) => {
                self.group_fault = true;
                self.fault_now(Reason::SyncGroup, &mut actions);
            }
            SyncCommand::Fault(false) => {
                if self.fault {
                    return actions;
                }
                self.group_fault = false;
                if self.state == State::Fault {
                    self.enter_backup(now, Reason::Recovered, &mut actions);
                }
            }
        }
        actions
    }

    /// Tracking moved our priority to `effective` (the configured priority
    /// plus the weights of the tracked objects).
    ///
    /// As keepalived's `vrrp_set_effective_priority`: the address owner's
    /// priority never changes, and others stay within 1 to 254. A master's
    /// next adverts carry the new priority. A backup's master down timer
    /// moves by the change of its skew time; a backup that now outranks
    /// the master ignores the master's next advert and, with preempt on,
    /// takes over when the timer runs out ([`Reason::Preempted`]).
    pub fn set_priority(&mut self, now: Instant, effective: u8) -> Vec<Action> {
        let _ = now;
        if self.is_owner() {
            return Vec::new();
        }
        let new = effective.clamp(1, PRIORITY_MAX_TRACKED);
        if new == self.priority {
            return Vec::new();
        }
        let old_interval = self.master_down_interval();
        self.priority = new;
        if self.state == State::Backup {
            let new_interval = self.master_down_interval();
            self.timer = self.timer.and_then(|t| {
                if new_interval >= old_interval {
                    t.checked_add(new_interval - old_interval)
                } else {
                    t.checked_sub(old_interval - new_interval)
                }
            });
        }
        Vec::new()
    }

    /// A clean stop: a master sends an advert of priority 0 and releases
    /// the addresses (RFC 5798 §6.4.3 Shutdown); any started instance goes
    /// to Init. Does nothing in Init. [`Machine::start`] may follow.
    pub fn stop(&mut self, now: Instant) -> Vec<Action> {
        let _ = now;
        let mut actions = Vec::new();
        let from = self.state;
        if from == State::Init {
            return actions;
        }
        if from == State::Master {
            actions.push(Action::Send {
                priority: PRIORITY_RESIGN,
            });
            actions.push(Action::ReleaseAddresses);
        }
        self.state = State::Init;
        self.timer = None;
        self.master_address = None;
        self.wants_master = false;
        actions.push(Action::Transition {
            from,
            to: State::Init,
            reason: Reason::Stopped,
        });
        actions
    }

    /// When [`Machine::on_timer`] must be called: a master's next advert,
    /// a backup's master down timer; `None` in Init and Fault (and if the
    /// instant would overflow).
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Master | State::Backup => self.timer,
            State::Init | State::Fault => None,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Our effective priority (the configured one moved by tracking).
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// The master: the source of the adverts we last heard as a backup, or
    /// our own address as master; `None` in Init and Fault, and in Backup
    /// until an advert arrives.
    pub fn master_address(&self) -> Option<IpAddr> {
        self.master_address
    }

    /// The master advertisement interval the timers use now: ours, or in
    /// version 3 the one learned from the master (RFC 5798 §6.1).
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_int
    }

    /// Skew_Time for our effective priority (RFC 5798 §6.1): version 2
    /// `(256 − priority)/256` s, version 3
    /// `((256 − priority) × Master_Adver_Interval)/256`.
    pub fn skew_time(&self) -> Duration {
        self.skew_time_for(self.priority)
    }

    /// Master_Down_Interval (RFC 5798 §6.1): three master advertisement
    /// intervals plus the skew time (keepalived's `down_timer_adverts` is 3).
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_int
            .saturating_mul(3)
            .saturating_add(self.skew_time())
    }

    fn skew_time_for(&self, priority: u8) -> Duration {
        let unit = match self.params.version {
            Version::V2 => Duration::from_secs(1),
            Version::V3 => self.master_adver_int,
        };
        let nanos = unit.as_nanos() * u128::from(256 - u16::from(priority)) / 256;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn is_owner(&self) -> bool {
        self.params.priority == PRIORITY_OWNER
    }

    /// RFC 5798 §6.4.2, with keepalived's `preempt_delay`.
    fn backup_advert(
        &mut self,
        now: Instant,
        from: IpAddr,
        priority: u8,
        interval: Duration,
        actions: &mut Vec<Action>,
    ) {
        self.master_address = Some(from);
        if priority == PRIORITY_RESIGN {
            self.timer = now.checked_add(self.skew_time());
            self.takeover_reason = Reason::PriorityZero;
            return;
        }
        let outranked = priority >= self.priority;
        if !outranked && self.params.preempt && !self.preempt_delay_holds(now) {
            // Ignore it: the master down timer runs out and we preempt.
            self.takeover_reason = Reason::Preempted;
            return;
        }
        self.learn_interval(interval);
        self.timer = now.checked_add(self.master_down_interval());
        self.takeover_reason = Reason::MasterDown;
        if self.wants_master {
            // keepalived's vrrp_state_backup: an accepted advert makes a
            // member held by its group want BACKUP again.
            self.wants_master = false;
            actions.push(Action::Sync(SyncReport::WantsMaster(false)));
        }
        if !self.params.preempt_delay.is_zero() {
            if outranked {
                self.preempt_hold = PreemptHold::NotStarted;
            } else if self.preempt_hold == PreemptHold::NotStarted {
                self.preempt_hold = match now.checked_add(self.params.preempt_delay) {
                    Some(until) => PreemptHold::Until(until),
                    None => PreemptHold::Forever,
                };
            }
        }
    }

    /// Whether `preempt_delay` still makes us accept a lower priority: it
    /// is set and either starts with this advert or has not elapsed
    /// (keepalived's `preempt_time`).
    fn preempt_delay_holds(&self, now: Instant) -> bool {
        if self.params.preempt_delay.is_zero() {
            return false;
        }
        match self.preempt_hold {
            PreemptHold::NotStarted | PreemptHold::Forever => true,
            PreemptHold::Until(until) => until > now,
        }
    }

    /// RFC 5798 §6.4.3.
    fn master_advert(
        &mut self,
        now: Instant,
        from: IpAddr,
        priority: u8,
        interval: Duration,
        actions: &mut Vec<Action>,
    ) {
        if priority == PRIORITY_RESIGN {
            // Another router resigned: advertise now so the backups know us.
            actions.push(Action::Send {
                priority: self.priority,
            });
            self.timer = now.checked_add(self.params.advert_int);
            return;
        }
        // `IpAddr`'s order is numeric within a family (big-endian octets).
        let reason = if priority > self.priority {
            Reason::HigherPriority
        } else if priority == self.priority && from > self.params.local_address {
            Reason::HigherAddress
        } else {
            // Lower, or equal from a lower address; our own looped back is
            // not an answer's cause.
            if from != self.params.local_address {
                if self.params.answer_lower_priority {
                    actions.push(Action::Send {
                        priority: self.priority,
                    });
                }
                actions.push(Action::Reannounce);
            }
            return;
        };
        self.learn_interval(interval);
        actions.push(Action::ReleaseAddresses);
        self.enter_backup(now, reason, actions);
        self.master_address = Some(from);
    }

    /// Version 3: the backup takes the master's interval (RFC 5798 §6.4.2).
    /// An interval of 0 (nonsense on the wire) is not learned: it would make
    /// the master down interval the skew time alone.
    fn learn_interval(&mut self, interval: Duration) {
        if self.params.version == Version::V3 && !interval.is_zero() {
            self.master_adver_int = interval;
        }
    }

    /// Enters Backup with a full master down interval from `now`. The
    /// caller learns the interval (or resets it) first.
    fn enter_backup(&mut self, now: Instant, reason: Reason, actions: &mut Vec<Action>) {
        let from = self.state;
        if from != State::Master {
            // From Init or Fault: we heard nobody yet (RFC 5798 §6.4.1;
            // keepalived's vrrp_state_leave_fault).
            self.master_adver_int = self.params.advert_int;
            self.master_address = None;
        }
        self.state = State::Backup;
        self.wants_master = false;
        // A sync group's address owner waits one interval, as `state
        // MASTER` does, and then asks its group (keepalived's
        // try_up_instance gives it the interval plus its skew).
        self.timer = if self.params.sync_group && self.is_owner() {
            now.checked_add(self.master_adver_int.saturating_add(self.skew_time()))
        } else {
            now.checked_add(self.master_down_interval())
        };
        self.takeover_reason = Reason::MasterDown;
        self.preempt_hold = PreemptHold::NotStarted;
        actions.push(Action::Transition {
            from,
            to: State::Backup,
            reason,
        });
    }

    /// Becomes master: the advert first, so that the old master drops the
    /// addresses before our gratuitous ARPs (keepalived's
    /// `vrrp_state_master_tx`), then the addresses, the announcement, and
    /// the transition (RFC 5798 §6.4.1, §6.4.2).
    fn become_master(&mut self, now: Instant, reason: Reason, actions: &mut Vec<Action>) {
        let from = self.state;
        self.state = State::Master;
        self.wants_master = false;
        self.master_adver_int = self.params.advert_int;
        self.timer = now.checked_add(self.params.advert_int);
        self.preempt_hold = PreemptHold::NotStarted;
        self.master_address = Some(self.params.local_address);
        actions.push(Action::Send {
            priority: self.priority,
        });
        actions.push(Action::TakeAddresses);
        actions.push(Action::Announce);
        actions.push(Action::Transition {
            from,
            to: State::Master,
            reason,
        });
    }

    /// Enters Fault from Master (a priority 0 advert first and the
    /// addresses released, as keepalived's `vrrp_state_leave_master`) or
    /// from Backup; nothing in Init or Fault.
    fn fault_now(&mut self, reason: Reason, actions: &mut Vec<Action>) {
        match self.state {
            State::Master => {
                actions.push(Action::Send {
                    priority: PRIORITY_RESIGN,
                });
                actions.push(Action::ReleaseAddresses);
                self.enter_fault(reason, actions);
            }
            State::Backup => self.enter_fault(reason, actions),
            State::Init | State::Fault => {}
        }
    }

    fn enter_fault(&mut self, reason: Reason, actions: &mut Vec<Action>) {
        let from = self.state;
        self.state = State::Fault;
        self.timer = None;
        self.master_address = None;
        self.wants_master = false;
        actions.push(Action::Transition {
            from,
            to: State::Fault,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const SECOND: Duration = Duration::from_secs(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    fn params(version: Version, priority: u8) -> Params {
        Params {
            version,
            priority,
            advert_int: SECOND,
            preempt: true,
            preempt_delay: Duration::ZERO,
            initial: Initial::Backup,
            local_address: v4(10),
            sync_group: false,
            answer_lower_priority: true,
        }
    }

    /// The expected actions of becoming master, in order.
    fn becomes_master(priority: u8, from: State, reason: Reason) -> Vec<Action> {
        vec![
            Action::Send { priority },
            Action::TakeAddresses,
            Action::Announce,
            Action::Transition {
                from,
                to: State::Master,
                reason,
            },
        ]
    }

    /// A v2 machine with priority `priority` taken to Master at `t0 + 3.x s`;
    /// returns it and the instant it became master.
    fn master(p: Params, t0: Instant) -> (Machine, Instant) {
        let mut m = Machine::new(p);
        m.start(t0);
        let at = m.deadline().unwrap();
        m.on_timer(at);
        assert_eq!(m.state(), State::Master);
        (m, at)
    }

    // RFC 5798 §6.1: Master_Down_Interval = 3 × 1 s + (256 − 150)/256 s.
    #[test]
    fn v2_master_down_interval_priority_150_is_3_4140625_s() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 150));
        let actions = m.start(t0);
        assert_eq!(
            actions,
            vec![Action::Transition {
                from: State::Init,
                to: State::Backup,
                reason: Reason::Started
            }]
        );
        assert_eq!(m.skew_time(), ns(414_062_500));
        assert_eq!(m.deadline(), Some(t0 + ns(3_414_062_500)));
    }

    // RFC 5798 §6.4.2: the backup takes over when the master down timer
    // expires, sending its advert before taking and announcing addresses.
    #[test]
    fn backup_takes_over_at_master_down_timer_in_order() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 150));
        m.start(t0);
        let deadline = t0 + ns(3_414_062_500);
        assert!(
            m.on_timer(deadline - ns(1)).is_empty(),
            "early tick ignored"
        );
        assert_eq!(m.state(), State::Backup);
        assert_eq!(
            m.on_timer(deadline),
            becomes_master(150, State::Backup, Reason::MasterDown)
        );
        assert_eq!(m.master_address(), Some(v4(10)));
        // RFC 5798 §6.4.3: a master advertises every advertisement interval.
        assert_eq!(m.deadline(), Some(deadline + SECOND));
        assert_eq!(
            m.on_timer(deadline + SECOND),
            vec![Action::Send { priority: 150 }]
        );
        assert_eq!(m.deadline(), Some(deadline + 2 * SECOND));
    }

    // RFC 5798 §6.1: the v3 skew is scaled by the master advertisement
    // interval; at start that is our own.
    #[test]
    fn v3_master_down_interval_uses_own_interval_at_start() {
        let t0 = Instant::now();
        let mut p = params(Version::V3, 150);
        p.advert_int = ms(500);
        let mut m = Machine::new(p);
        m.start(t0);
        // 3 × 0.5 s + 106 × 0.5 s / 256 = 1.5 + 0.20703125 s.
        assert_eq!(m.deadline(), Some(t0 + ns(1_707_031_250)));
    }

    // RFC 5798 §6.4.2: a v3 backup learns Master_Adver_Interval from the
    // master's advert and recomputes skew and master down interval.
    #[test]
    fn v3_backup_learns_master_interval_of_100_ms() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V3, 150));
        m.start(t0);
        let t1 = t0 + ms(700);
        assert!(m.on_advert(t1, v4(20), 200, ms(100)).is_empty());
        assert_eq!(m.master_adver_interval(), ms(100));
        // 3 × 0.1 s + 106 × 0.1 s / 256 = 0.3 + 0.04140625 s.
        assert_eq!(m.skew_time(), ns(41_406_250));
        assert_eq!(m.deadline(), Some(t1 + ns(341_406_250)));
        assert_eq!(m.master_address(), Some(v4(20)));
    }

    // RFC 3768 §6.4.2 / §7.1: v2 has no learning; an advert with another
    // interval is discarded (keepalived: "advertisement interval mismatch").
    #[test]
    fn v2_discards_advert_with_other_interval_and_does_not_learn() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 100));
        m.start(t0);
        let before = m.deadline();
        assert!(m.on_advert(t0 + SECOND, v4(20), 200, 2 * SECOND).is_empty());
        assert_eq!(m.deadline(), before, "mismatched advert must not reset");
        assert_eq!(m.master_address(), None);
        m.on_advert(t0 + SECOND, v4(20), 200, SECOND);
        assert_eq!(m.master_adver_interval(), SECOND);
        assert_eq!(m.deadline(), Some(t0 + SECOND + ns(3_609_375_000)));
    }

    // A v3 interval of 0 cannot be a real master's: it is not learned.
    #[test]
    fn v3_zero_interval_is_not_learned() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V3, 100));
        m.start(t0);
        m.on_advert(t0, v4(20), 200, Duration::ZERO);
        assert_eq!(m.master_adver_interval(), SECOND);
        assert_eq!(m.deadline(), Some(t0 + m.master_down_interval()));
        assert!(m.master_down_interval() > 3 * SECOND);
    }

    // RFC 5798 §6.4.2: priority 0 sets the master down timer to Skew_Time.
    #[test]
    fn v2_priority_zero_takeover_after_skew_only() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 150));
        m.start(t0);
        m.on_advert(t0 + SECOND, v4(20), 200, SECOND);
        let t2 = t0 + 2 * SECOND;
        assert!(m.on_advert(t2, v4(20), 0, SECOND).is_empty());
        assert_eq!(m.deadline(), Some(t2 + ns(414_062_500)));
        assert_eq!(
            m.on_timer(t2 + ns(414_062_500)),
            becomes_master(150, State::Backup, Reason::PriorityZero)
        );
    }

    // RFC 5798 §6.4.2 with a learned v3 interval: skew = 106 × 0.1 s / 256.
    #[test]
    fn v3_priority_zero_skew_uses_learned_interval() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V3, 150));
        m.start(t0);
        m.on_advert(t0, v4(20), 200, ms(100));
        let t1 = t0 + ms(100);
        m.on_advert(t1, v4(20), 0, ms(100));
        assert_eq!(m.deadline(), Some(t1 + ns(41_406_250)));
    }

    // RFC 5798 §6.4.2/§6.4.3: between two routers the higher priority wins:
    // a master hearing a higher priority becomes backup.
    #[test]
    fn election_master_yields_to_higher_priority() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 100), t0);
        let t = at + ms(300);
        assert_eq!(
            m.on_advert(t, v4(20), 150, SECOND),
            vec![
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Backup,
                    reason: Reason::HigherPriority
                }
            ]
        );
        assert_eq!(m.state(), State::Backup);
        assert_eq!(m.master_address(), Some(v4(20)));
        // Master down interval for priority 100: 3 + 156/256 s.
        assert_eq!(m.deadline(), Some(t + ns(3_609_375_000)));
    }

    // RFC 5798 §6.4.3 discards a lower-priority advert at the master;
    // keepalived (vrrp_state_master_rx) answers it with an advert and
    // announces its addresses again, and stays master on its own timer.
    #[test]
    fn election_master_answers_lower_priority() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 150), t0);
        let before = m.deadline();
        assert_eq!(
            m.on_advert(at + ms(10), v4(20), 100, SECOND),
            vec![Action::Send { priority: 150 }, Action::Reannounce]
        );
        assert_eq!(m.state(), State::Master);
        assert_eq!(m.deadline(), before);
    }

    // keepalived `lower_prio_no_advert`: no advert back, the addresses are
    // still announced again.
    #[test]
    fn lower_prio_no_advert_only_reannounces() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 150);
        p.answer_lower_priority = false;
        let (mut m, at) = master(p, t0);
        assert_eq!(
            m.on_advert(at, v4(20), 100, SECOND),
            vec![Action::Reannounce]
        );
        assert_eq!(m.state(), State::Master);
    }

    // RFC 5798 §6.4.3: a v3 master stepping down learns the winner's interval.
    #[test]
    fn v3_master_stepping_down_learns_interval() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V3, 100), t0);
        m.on_advert(at, v4(20), 150, ms(200));
        assert_eq!(m.master_adver_interval(), ms(200));
        // 3 × 0.2 + 156 × 0.2 / 256 = 0.6 + 0.121875 s.
        assert_eq!(m.deadline(), Some(at + ns(721_875_000)));
    }

    // RFC 5798 §6.4.3: equal priority, the higher primary address wins.
    #[test]
    fn tie_broken_by_higher_address_v4() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 100), t0);
        // 10.0.0.9 < 10.0.0.10 (numerically, not as text): we stay, and
        // answer it as a lower priority.
        assert_eq!(
            m.on_advert(at, v4(9), 100, SECOND),
            vec![Action::Send { priority: 100 }, Action::Reannounce]
        );
        // Our own address looped back: no change, no answer.
        assert!(m.on_advert(at, v4(10), 100, SECOND).is_empty());
        assert_eq!(m.state(), State::Master);
        let actions = m.on_advert(at, v4(11), 100, SECOND);
        assert_eq!(
            actions.last(),
            Some(&Action::Transition {
                from: State::Master,
                to: State::Backup,
                reason: Reason::HigherAddress
            })
        );
        assert_eq!(m.state(), State::Backup);
    }

    #[test]
    fn tie_broken_by_higher_address_v6() {
        let t0 = Instant::now();
        let mut p = params(Version::V3, 100);
        p.local_address = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100));
        let (mut m, at) = master(p, t0);
        let lower = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xff));
        let higher = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x101));
        assert_eq!(
            m.on_advert(at, lower, 100, SECOND),
            vec![Action::Send { priority: 100 }, Action::Reannounce]
        );
        assert_eq!(m.state(), State::Master);
        assert!(!m.on_advert(at, higher, 100, SECOND).is_empty());
        assert_eq!(m.state(), State::Backup);
    }

    // RFC 5798 §6.4.3: priority 0 makes the master advertise at once and
    // reset its Adver_Timer.
    #[test]
    fn master_answers_priority_zero_at_once() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 100), t0);
        let t = at + ms(250);
        assert_eq!(
            m.on_advert(t, v4(20), 0, SECOND),
            vec![Action::Send { priority: 100 }]
        );
        assert_eq!(m.state(), State::Master);
        assert_eq!(m.deadline(), Some(t + SECOND));
    }

    // RFC 5798 §6.4.2, preempt on: a lower-priority advert is ignored, the
    // timer of the last accepted advert runs out and we preempt.
    #[test]
    fn preempt_lower_priority_master() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 100));
        m.start(t0);
        // A master of higher priority first: accepted.
        m.on_advert(t0 + SECOND, v4(20), 120, SECOND);
        let accepted = t0 + SECOND;
        // Then a master of lower priority keeps advertising: ignored.
        for s in 2..=4 {
            assert!(m.on_advert(t0 + s * SECOND, v4(30), 50, SECOND).is_empty());
        }
        assert_eq!(m.deadline(), Some(accepted + ns(3_609_375_000)));
        assert_eq!(m.master_address(), Some(v4(30)));
        assert_eq!(
            m.on_timer(accepted + ns(3_609_375_000)),
            becomes_master(100, State::Backup, Reason::Preempted)
        );
    }

    // keepalived `nopreempt`: lower-priority adverts still reset the timer.
    #[test]
    fn nopreempt_accepts_lower_priority_master() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 200);
        p.preempt = false;
        let mut m = Machine::new(p);
        m.start(t0);
        for s in 1..=10 {
            let t = t0 + s * SECOND;
            assert!(m.on_advert(t, v4(20), 100, SECOND).is_empty());
            assert!(m.on_timer(t).is_empty());
            assert_eq!(m.state(), State::Backup);
        }
        let last = t0 + 10 * SECOND;
        // 3 + 56/256 s after the last advert, the silent master is down.
        assert_eq!(m.deadline(), Some(last + ns(3_218_750_000)));
        assert_eq!(
            m.on_timer(last + ns(3_218_750_000)),
            becomes_master(200, State::Backup, Reason::MasterDown)
        );
    }

    // keepalived `preempt_delay`: the first lower-priority advert starts the
    // delay; adverts are accepted until it has passed, then ignored.
    #[test]
    fn preempt_delay_postpones_preemption() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 150);
        p.preempt_delay = ms(2500);
        let mut m = Machine::new(p);
        m.start(t0);
        // The lower master's adverts at 1, 2, 3 s are accepted (delay until 3.5 s).
        for s in 1..=3 {
            m.on_advert(t0 + s * SECOND, v4(20), 100, SECOND);
            assert_eq!(m.deadline(), Some(t0 + s * SECOND + ns(3_414_062_500)));
        }
        // From 4 s on they are ignored.
        m.on_advert(t0 + 4 * SECOND, v4(20), 100, SECOND);
        m.on_advert(t0 + 5 * SECOND, v4(20), 100, SECOND);
        let takeover = t0 + 3 * SECOND + ns(3_414_062_500);
        assert_eq!(m.deadline(), Some(takeover));
        assert_eq!(
            m.on_timer(takeover),
            becomes_master(150, State::Backup, Reason::Preempted)
        );
    }

    // keepalived `preempt_delay` compares strictly (`preempt_time > now`):
    // an advert at the very instant the delay ends is already ignored.
    #[test]
    fn preempt_delay_ends_at_its_instant() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 150);
        p.preempt_delay = 2 * SECOND;
        let mut m = Machine::new(p);
        m.start(t0);
        m.on_advert(t0 + SECOND, v4(20), 100, SECOND); // delay until 3 s
        m.on_advert(t0 + 3 * SECOND - ns(1), v4(20), 100, SECOND);
        let accepted = t0 + 3 * SECOND - ns(1);
        assert_eq!(m.deadline(), Some(accepted + ns(3_414_062_500)));
        m.on_advert(t0 + 3 * SECOND, v4(20), 100, SECOND);
        assert_eq!(m.deadline(), Some(accepted + ns(3_414_062_500)));
    }

    // keepalived `preempt_delay`: an advert of higher or equal priority
    // stops the delay; the next lower one starts it afresh.
    #[test]
    fn preempt_delay_restarts_after_higher_priority_advert() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 150);
        p.preempt_delay = ms(1500);
        let mut m = Machine::new(p);
        m.start(t0);
        m.on_advert(t0 + SECOND, v4(20), 100, SECOND); // delay until 2.5 s
        m.on_advert(t0 + 2 * SECOND, v4(21), 200, SECOND); // stops it
        m.on_advert(t0 + 3 * SECOND, v4(20), 100, SECOND); // delay until 4.5 s
        m.on_advert(t0 + 4 * SECOND, v4(20), 100, SECOND); // still accepted
        assert_eq!(m.deadline(), Some(t0 + 4 * SECOND + ns(3_414_062_500)));
        m.on_advert(t0 + 5 * SECOND, v4(20), 100, SECOND); // ignored
        assert_eq!(m.deadline(), Some(t0 + 4 * SECOND + ns(3_414_062_500)));
    }

    // keepalived: a tracked object failing sends a master to FAULT with a
    // priority 0 advert and the addresses released; no adverts, no timer.
    #[test]
    fn fault_in_master_resigns_and_recovery_goes_backup() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 100), t0);
        let t = at + ms(100);
        assert_eq!(
            m.set_fault(t, true),
            vec![
                Action::Send { priority: 0 },
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Fault,
                    reason: Reason::Fault
                }
            ]
        );
        assert_eq!(m.deadline(), None);
        assert!(m.on_advert(t, v4(20), 50, SECOND).is_empty());
        assert!(m.on_timer(t + 10 * SECOND).is_empty());
        assert!(m.set_fault(t, true).is_empty(), "no second transition");
        let r = t + 20 * SECOND;
        assert_eq!(
            m.set_fault(r, false),
            vec![Action::Transition {
                from: State::Fault,
                to: State::Backup,
                reason: Reason::Recovered
            }]
        );
        assert_eq!(m.deadline(), Some(r + ns(3_609_375_000)));
    }

    // keepalived: a backup in fault stops listening; after recovery a v3
    // backup starts again from its own interval, not the learned one.
    #[test]
    fn fault_in_backup_forgets_learned_interval() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V3, 100));
        m.start(t0);
        m.on_advert(t0, v4(20), 200, ms(100));
        assert_eq!(
            m.set_fault(t0 + SECOND, true),
            vec![Action::Transition {
                from: State::Backup,
                to: State::Fault,
                reason: Reason::Fault
            }]
        );
        assert_eq!(m.master_address(), None);
        m.set_fault(t0 + 2 * SECOND, false);
        assert_eq!(m.master_adver_interval(), SECOND);
        assert_eq!(m.deadline(), Some(t0 + 2 * SECOND + ns(3_609_375_000)));
    }

    // keepalived "Entering FAULT STATE (init)": a fault before start.
    #[test]
    fn fault_before_start_starts_in_fault() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 255));
        assert!(m.set_fault(t0, true).is_empty());
        assert_eq!(
            m.start(t0),
            vec![Action::Transition {
                from: State::Init,
                to: State::Fault,
                reason: Reason::Fault
            }]
        );
        // The owner recovers straight to master (keepalived's try_up_instance).
        assert_eq!(
            m.set_fault(t0 + SECOND, false),
            becomes_master(255, State::Fault, Reason::Recovered)
        );
    }

    // RFC 5798 §6.4.3 Shutdown: a master sends priority 0, then releases.
    #[test]
    fn stop_master_sends_priority_zero() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 100), t0);
        assert_eq!(
            m.stop(at),
            vec![
                Action::Send { priority: 0 },
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Init,
                    reason: Reason::Stopped
                }
            ]
        );
        assert_eq!(m.state(), State::Init);
        assert_eq!(m.deadline(), None);
        assert!(m.stop(at).is_empty());
        // It may start again.
        assert_eq!(m.start(at + SECOND).len(), 1);
        assert_eq!(m.state(), State::Backup);
    }

    #[test]
    fn stop_backup_sends_nothing() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 100));
        m.start(t0);
        assert_eq!(
            m.stop(t0 + SECOND),
            vec![Action::Transition {
                from: State::Backup,
                to: State::Init,
                reason: Reason::Stopped
            }]
        );
        assert!(m.on_advert(t0, v4(20), 0, SECOND).is_empty());
        assert!(m.on_timer(t0 + 100 * SECOND).is_empty());
    }

    // RFC 5798 §6.4.1: the address owner goes to Master at once, whatever
    // `state` says; keepalived clears nopreempt for it.
    #[test]
    fn owner_255_starts_master_at_once() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 255);
        p.preempt = false;
        let mut m = Machine::new(p);
        assert_eq!(
            m.start(t0),
            becomes_master(255, State::Init, Reason::Started)
        );
        assert_eq!(m.deadline(), Some(t0 + SECOND));
        assert_eq!(m.skew_time(), ns(3_906_250), "1/256 s");
        // A second start does nothing.
        assert!(m.start(t0).is_empty());
    }

    // keepalived 2.2.7 vrrp_init_state: `state MASTER` (not the owner)
    // waits one advertisement interval plus the smallest skew in BACKUP.
    #[test]
    fn initial_master_waits_one_interval() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 100);
        p.initial = Initial::Master;
        let mut m = Machine::new(p);
        m.start(t0);
        assert_eq!(m.state(), State::Backup);
        let at = t0 + SECOND + ns(3_906_250);
        assert_eq!(m.deadline(), Some(at));
        assert_eq!(
            m.on_timer(at),
            becomes_master(100, State::Backup, Reason::Started)
        );
    }

    // The same in v3: the smallest skew is the interval / 256.
    #[test]
    fn initial_master_v3_yields_to_a_higher_master() {
        let t0 = Instant::now();
        let mut p = params(Version::V3, 100);
        p.initial = Initial::Master;
        p.advert_int = ms(200);
        p.preempt = false; // cleared by keepalived for `state MASTER`
        let mut m = Machine::new(p);
        m.start(t0);
        assert_eq!(m.deadline(), Some(t0 + ms(200) + ns(781_250)));
        // A higher master speaks first: a full master down interval.
        let t = t0 + ms(100);
        m.on_advert(t, v4(20), 200, ms(200));
        assert_eq!(m.deadline(), Some(t + ns(721_875_000)));
        // A lower one would be preempted: nopreempt was cleared.
        m.on_advert(t + ms(200), v4(30), 50, ms(200));
        assert_eq!(m.deadline(), Some(t + ns(721_875_000)));
    }

    // keepalived vrrp_set_effective_priority: a backup whose tracked
    // priority rises above the master's ignores its next advert and preempts.
    #[test]
    fn set_priority_above_master_triggers_preemption() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 90));
        m.start(t0);
        for s in 1..=2 {
            m.on_advert(t0 + s * SECOND, v4(20), 100, SECOND);
        }
        let last = t0 + 2 * SECOND;
        assert!(m.set_priority(last + ms(500), 110).is_empty());
        assert_eq!(m.priority(), 110);
        // The timer moved by the skew change: (166 − 146)/256 s earlier.
        assert_eq!(m.deadline(), Some(last + ns(3_570_312_500)));
        assert!(m.on_advert(t0 + 3 * SECOND, v4(20), 100, SECOND).is_empty());
        assert_eq!(m.deadline(), Some(last + ns(3_570_312_500)));
        assert_eq!(
            m.on_timer(last + ns(3_570_312_500)),
            becomes_master(110, State::Backup, Reason::Preempted)
        );
    }

    // Without preempt, a higher tracked priority does not take over.
    #[test]
    fn set_priority_without_preempt_keeps_backup() {
        let t0 = Instant::now();
        let mut p = params(Version::V2, 90);
        p.preempt = false;
        let mut m = Machine::new(p);
        m.start(t0);
        m.set_priority(t0, 110);
        for s in 1..=6 {
            let t = t0 + s * SECOND;
            m.on_advert(t, v4(20), 100, SECOND);
            assert!(m.on_timer(t).is_empty());
        }
        assert_eq!(m.state(), State::Backup);
    }

    // A master whose tracked priority falls advertises the lower priority;
    // a higher advert then wins the election.
    #[test]
    fn set_priority_lowers_master_adverts() {
        let t0 = Instant::now();
        let (mut m, at) = master(params(Version::V2, 150), t0);
        m.set_priority(at, 80);
        assert_eq!(m.on_timer(at + SECOND), vec![Action::Send { priority: 80 }]);
        let actions = m.on_advert(at + ms(1500), v4(20), 100, SECOND);
        assert_eq!(actions[0], Action::ReleaseAddresses);
        assert_eq!(m.state(), State::Backup);
    }

    // keepalived: the owner's priority is never moved by tracking, and
    // others stay within 1 to 254.
    #[test]
    fn set_priority_clamps_and_spares_owner() {
        let t0 = Instant::now();
        let mut owner = Machine::new(params(Version::V2, 255));
        owner.set_priority(t0, 100);
        assert_eq!(owner.priority(), 255);
        let mut m = Machine::new(params(Version::V2, 100));
        m.set_priority(t0, 255);
        assert_eq!(m.priority(), 254);
        m.set_priority(t0, 0);
        assert_eq!(m.priority(), 1);
    }

    #[test]
    fn validate_rejects_values_out_of_range() {
        assert_eq!(params(Version::V2, 100).validate(), Ok(()));
        assert_eq!(
            params(Version::V2, 0).validate(),
            Err(ParamsError::PriorityZero)
        );
        let mut p = params(Version::V2, 100);
        p.advert_int = ms(1500);
        assert!(matches!(
            p.validate(),
            Err(ParamsError::AdvertIntervalV2 { .. })
        ));
        p.version = Version::V3;
        assert_eq!(p.validate(), Ok(()));
        p.advert_int = ms(15);
        assert!(matches!(
            p.validate(),
            Err(ParamsError::AdvertIntervalV3 { .. })
        ));
        p.advert_int = ms(40_960);
        assert!(p.validate().is_err());
        p.advert_int = SECOND;
        p.preempt_delay = Duration::from_secs(1001);
        assert!(matches!(
            p.validate(),
            Err(ParamsError::PreemptDelay { .. })
        ));
        assert!(ParamsError::PriorityZero.to_string().contains("RFC 5798"));
    }

    // Unvalidated extremes must not panic (Instant arithmetic overflows).
    #[test]
    fn extreme_durations_do_not_panic() {
        let t0 = Instant::now();
        let mut p = params(Version::V3, 0);
        p.advert_int = Duration::MAX;
        p.preempt_delay = Duration::MAX;
        let mut m = Machine::new(p);
        assert_eq!(m.priority(), 1);
        m.start(t0);
        assert_eq!(m.deadline(), None);
        m.on_advert(t0, v4(20), 0, Duration::MAX);
        m.on_advert(t0, v4(20), 200, Duration::MAX);
        m.on_advert(t0, v4(20), 50, Duration::MAX);
        m.set_priority(t0, 200);
        m.on_timer(t0);
        assert_eq!(m.state(), State::Backup);
        m.stop(t0);
    }

    fn member(priority: u8) -> Params {
        Params {
            sync_group: true,
            ..params(Version::V2, priority)
        }
    }

    // keepalived vrrp_sync_can_goto_master: a member whose master down
    // timer runs out stays backup, asks its group, and asks again one
    // master down interval later.
    #[test]
    fn sync_member_asks_its_group_before_taking_over() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(100));
        m.start(t0);
        let down = t0 + ns(3_609_375_000);
        assert_eq!(m.deadline(), Some(down));
        assert_eq!(
            m.on_timer(down),
            vec![Action::Sync(SyncReport::WantsMaster(true))]
        );
        assert_eq!(m.state(), State::Backup);
        assert_eq!(m.deadline(), Some(down + ns(3_609_375_000)));
        assert_eq!(
            m.on_timer(down + ns(3_609_375_000)),
            vec![Action::Sync(SyncReport::WantsMaster(true))]
        );
        // The group agrees: master, for the reason of its own timer.
        assert_eq!(
            m.on_sync(down + 4 * SECOND, SyncCommand::Master),
            becomes_master(100, State::Backup, Reason::MasterDown)
        );
        assert!(m.on_sync(down + 5 * SECOND, SyncCommand::Master).is_empty());
    }

    // keepalived vrrp_state_backup: an accepted advert takes the wish back.
    #[test]
    fn sync_member_accepting_an_advert_no_longer_wants_master() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(100));
        m.start(t0);
        let down = m.deadline().unwrap();
        m.on_timer(down);
        assert_eq!(
            m.on_advert(down + ms(10), v4(20), 200, SECOND),
            vec![Action::Sync(SyncReport::WantsMaster(false))]
        );
        // Only once, and a lower priority advert is still ignored (preempt).
        assert!(m.on_advert(down + ms(20), v4(20), 200, SECOND).is_empty());
        assert!(m.on_advert(down + ms(30), v4(21), 50, SECOND).is_empty());
        // The group may still send it master (vrrp_sync_master does not
        // look at the member's own wish): reason "sync group".
        assert_eq!(
            m.on_sync(down + SECOND, SyncCommand::Master),
            becomes_master(100, State::Backup, Reason::SyncGroup)
        );
    }

    // keepalived vrrp_sync_backup: masters leave without priority 0.
    #[test]
    fn sync_backup_releases_without_resigning() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(100));
        m.start(t0);
        let down = m.deadline().unwrap();
        m.on_timer(down);
        m.on_sync(down, SyncCommand::Master);
        assert_eq!(
            m.on_sync(down + SECOND, SyncCommand::Backup),
            vec![
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Backup,
                    reason: Reason::SyncGroup
                }
            ]
        );
        assert!(m.on_sync(down + SECOND, SyncCommand::Backup).is_empty());
    }

    // keepalived down_instance + vrrp_sync_fault: an own fault reports to
    // the group and holds the member in Fault until the group releases it.
    #[test]
    fn sync_member_fault_is_held_until_the_group_releases_it() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(100));
        m.start(t0);
        let down = m.deadline().unwrap();
        m.on_timer(down);
        m.on_sync(down, SyncCommand::Master);
        let t = down + SECOND;
        assert_eq!(
            m.set_fault(t, true),
            vec![
                Action::Send { priority: 0 },
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Fault,
                    reason: Reason::Fault
                },
                Action::Sync(SyncReport::Fault(true)),
            ]
        );
        assert_eq!(
            m.set_fault(t + SECOND, false),
            vec![Action::Sync(SyncReport::Fault(false))]
        );
        assert_eq!(m.state(), State::Fault);
        assert!(m.on_sync(t + SECOND, SyncCommand::Master).is_empty());
        let r = t + 2 * SECOND;
        assert_eq!(
            m.on_sync(r, SyncCommand::Fault(false)),
            vec![Action::Transition {
                from: State::Fault,
                to: State::Backup,
                reason: Reason::Recovered
            }]
        );
        assert_eq!(m.deadline(), Some(r + ns(3_609_375_000)));
    }

    // keepalived vrrp_sync_fault on another member: a master resigns with
    // priority 0; a release does not free a member with its own fault.
    #[test]
    fn sync_fault_of_another_member() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(100));
        m.start(t0);
        let down = m.deadline().unwrap();
        m.on_timer(down);
        m.on_sync(down, SyncCommand::Master);
        assert_eq!(
            m.on_sync(down + SECOND, SyncCommand::Fault(true)),
            vec![
                Action::Send { priority: 0 },
                Action::ReleaseAddresses,
                Action::Transition {
                    from: State::Master,
                    to: State::Fault,
                    reason: Reason::SyncGroup
                },
            ]
        );
        // Its own fault while held: reported, no transition.
        assert_eq!(
            m.set_fault(down + 2 * SECOND, true),
            vec![Action::Sync(SyncReport::Fault(true))]
        );
        assert!(
            m.on_sync(down + 3 * SECOND, SyncCommand::Fault(false))
                .is_empty()
        );
        assert_eq!(m.state(), State::Fault);
    }

    // A sync group's address owner does not go master at start by itself.
    #[test]
    fn sync_owner_waits_one_interval_then_asks() {
        let t0 = Instant::now();
        let mut m = Machine::new(member(255));
        m.start(t0);
        assert_eq!(m.state(), State::Backup);
        let at = t0 + SECOND + ns(3_906_250);
        assert_eq!(m.deadline(), Some(at));
        assert_eq!(
            m.on_timer(at),
            vec![Action::Sync(SyncReport::WantsMaster(true))]
        );
    }

    // A lone instance ignores group commands and reports nothing.
    #[test]
    fn lone_instance_ignores_sync_commands() {
        let t0 = Instant::now();
        let mut m = Machine::new(params(Version::V2, 100));
        m.start(t0);
        assert!(m.on_sync(t0, SyncCommand::Master).is_empty());
        assert!(m.on_sync(t0, SyncCommand::Fault(true)).is_empty());
        assert_eq!(m.state(), State::Backup);
        assert_eq!(m.set_fault(t0, true).len(), 1);
    }

    #[test]
    fn initial_from_config_state() {
        assert_eq!(Initial::from(InitialState::Master), Initial::Master);
        assert_eq!(Initial::from(InitialState::Backup), Initial::Backup);
        assert_eq!(Initial::default(), Initial::Backup);
    }
}
