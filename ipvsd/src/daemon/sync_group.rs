//! A `vrrp_sync_group` at run time: the rules that move its member
//! instances together, as keepalived 2.2.7 does them (`vrrp_sync.c`,
//! `try_up_instance` in `vrrp_scheduler.c`, `down_instance` in
//! `vrrp_track.c`), with no I/O.
//!
//! The members' tasks report their state changes and [`SyncReport`]s; the
//! [`Coordinator`] answers with [`SyncCommand`]s for members and, when the
//! group's own state changes, the state to notify
//! (`GROUP "NAME" STATE 0` on the FIFO, the group's notify scripts).
//!
//! - A member that fails (its own tracking) takes the group to FAULT: every
//!   other member enters Fault, a master after a priority 0 advert
//!   (`vrrp_sync_fault`). The group leaves FAULT for BACKUP when no member
//!   has a fault of its own any more, and releases every member
//!   (`try_up_instance`).
//! - A master that goes backup (it heard a better master) takes the
//!   group's other masters to Backup (`vrrp_sync_backup`).
//! - A backup whose master down timer runs out goes master only when every
//!   member is master or wants to be; then all go master together
//!   (`vrrp_sync_can_goto_master`, `vrrp_sync_master`). Once the group is
//!   MASTER a member that wants master goes at once.

use crate::vrrp::State;
use crate::vrrp::machine::{SyncCommand, SyncReport};

/// A member as its group sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    name: String,
    state: State,
    /// In Backup, its master down timer ran out (keepalived's `wantstate`
    /// MASTER).
    wants_master: bool,
    /// Its own tracked objects failed (counted in keepalived's
    /// `num_member_fault`).
    fault: bool,
}

/// What the group decided after an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Commands to members, by instance name, in the order to send them.
    pub commands: Vec<(String, SyncCommand)>,
    /// The group's new state, when it changed (to notify).
    pub state: Option<State>,
}

/// One sync group's members and state. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    name: String,
    /// INIT until every member has started; then BACKUP, MASTER or FAULT.
    state: State,
    members: Vec<Member>,
}

impl Coordinator {
    /// A group named `name` of these instances, all in Init.
    pub fn new(name: &str, instances: &[String]) -> Self {
        Self {
            name: name.to_owned(),
            state: State::Init,
            members: instances
                .iter()
                .map(|n| Member {
                    name: n.clone(),
                    state: State::Init,
                    wants_master: false,
                    fault: false,
                })
                .collect(),
        }
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The group's state (INIT until every member has started).
    pub fn state(&self) -> State {
        self.state
    }

    /// The members' names, in configuration order.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.name.as_str())
    }

    /// Whether `instance` is a member.
    pub fn contains(&self, instance: &str) -> bool {
        self.members.iter().any(|m| m.name == instance)
    }

    /// Member `instance` went from `from` to `to`.
    pub fn on_transition(&mut self, instance: &str, from: State, to: State) -> Decision {
        let mut d = Decision::default();
        let Some(i) = self.index(instance) else {
            return d;
        };
        self.members[i].state = to;
        self.members[i].wants_master = false;
        match to {
            State::Backup if from == State::Master => {
                if matches!(self.state, State::Master | State::Init) {
                    self.set_state(State::Backup, &mut d);
                    self.command_others(
                        i,
                        |m| m.state == State::Master,
                        SyncCommand::Backup,
                        &mut d,
                    );
                }
            }
            State::Master if self.state != State::Master => {
                // Only a command sends a member to master; one that got
                // there while the group changed its mind goes back.
                if self.state == State::Fault {
                    d.commands
                        .push((instance.to_owned(), SyncCommand::Fault(true)));
                } else if self.all_want_master() {
                    self.set_state(State::Master, &mut d);
                    self.command_others(
                        i,
                        |m| m.state != State::Master,
                        SyncCommand::Master,
                        &mut d,
                    );
                } else {
                    d.commands.push((instance.to_owned(), SyncCommand::Backup));
                }
            }
            _ => {}
        }
        if self.state == State::Init && self.members.iter().all(|m| m.state != State::Init) {
            let state = if self.members.iter().any(|m| m.fault) {
                State::Fault
            } else {
                State::Backup
            };
            self.set_state(state, &mut d);
        }
        d
    }

    /// Member `instance` reports `report`.
    pub fn on_report(&mut self, instance: &str, report: SyncReport) -> Decision {
        let mut d = Decision::default();
        let Some(i) = self.index(instance) else {
            return d;
        };
        match report {
            SyncReport::WantsMaster(want) => {
                self.members[i].wants_master = want && self.members[i].state == State::Backup;
                if !self.members[i].wants_master {
                    return d;
                }
                match self.state {
                    State::Master => d.commands.push((instance.to_owned(), SyncCommand::Master)),
                    State::Fault => {}
                    State::Backup | State::Init => {
                        if self.all_want_master() {
                            self.set_state(State::Master, &mut d);
                            for m in &self.members {
                                if m.state != State::Master {
                                    d.commands.push((m.name.clone(), SyncCommand::Master));
                                }
                            }
                        }
                    }
                }
            }
            SyncReport::Fault(true) => {
                self.members[i].fault = true;
                self.members[i].wants_master = false;
                if self.state != State::Fault {
                    self.set_state(State::Fault, &mut d);
                    self.command_others(i, |_| true, SyncCommand::Fault(true), &mut d);
                }
            }
            SyncReport::Fault(false) => {
                self.members[i].fault = false;
                if self.state == State::Fault && !self.members.iter().any(|m| m.fault) {
                    self.set_state(State::Backup, &mut d);
                    for m in &self.members {
                        d.commands.push((m.name.clone(), SyncCommand::Fault(false)));
                    }
                }
            }
        }
        d
    }

    fn index(&self, instance: &str) -> Option<usize> {
        self.members.iter().position(|m| m.name == instance)
    }

    /// keepalived's `vrrp_sync_can_goto_master`: every member is master or
    /// a backup that wants to be.
    fn all_want_master(&self) -> bool {
        self.members.iter().all(|m| {
            m.state == State::Master || (m.state == State::Backup && m.wants_master && !m.fault)
        })
    }

    fn set_state(&mut self, state: State, d: &mut Decision) {
        if self.state != state {
            self.state = state;
            d.state = Some(state);
        }
    }

    fn command_others(
        &self,
        except: usize,
        pick: impl Fn(&Member) -> bool,
        command: SyncCommand,
        d: &mut Decision,
    ) {
        for (j, m) in self.members.iter().enumerate() {
            if j != except && pick(m) {
                d.commands.push((m.name.clone(), command));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> Coordinator {
        let mut g = Coordinator::new("G", &["A".to_owned(), "B".to_owned()]);
        assert_eq!(
            g.on_transition("A", State::Init, State::Backup),
            Decision::default()
        );
        let d = g.on_transition("B", State::Init, State::Backup);
        assert_eq!(
            d.state,
            Some(State::Backup),
            "BACKUP once every member started"
        );
        g
    }

    fn cmd(name: &str, c: SyncCommand) -> (String, SyncCommand) {
        (name.to_owned(), c)
    }

    /// Both members master through the group.
    fn master_group() -> Coordinator {
        let mut g = group();
        g.on_report("A", SyncReport::WantsMaster(true));
        g.on_report("B", SyncReport::WantsMaster(true));
        g.on_transition("A", State::Backup, State::Master);
        g.on_transition("B", State::Backup, State::Master);
        assert_eq!(g.state(), State::Master);
        g
    }

    // vrrp_sync_can_goto_master: the first member to want master waits;
    // the last one takes the whole group.
    #[test]
    fn master_only_when_every_member_wants_it() {
        let mut g = group();
        assert_eq!(
            g.on_report("A", SyncReport::WantsMaster(true)),
            Decision::default()
        );
        let d = g.on_report("B", SyncReport::WantsMaster(true));
        assert_eq!(d.state, Some(State::Master));
        assert_eq!(
            d.commands,
            vec![cmd("A", SyncCommand::Master), cmd("B", SyncCommand::Master)]
        );
        // Their transitions change nothing more.
        assert_eq!(
            g.on_transition("A", State::Backup, State::Master),
            Decision::default()
        );
        assert_eq!(
            g.on_transition("B", State::Backup, State::Master),
            Decision::default()
        );
    }

    // vrrp_state_backup: a member that accepts a master's advert takes its
    // wish back, and the group stays backup.
    #[test]
    fn a_wish_taken_back_keeps_the_group_backup() {
        let mut g = group();
        g.on_report("A", SyncReport::WantsMaster(true));
        g.on_report("A", SyncReport::WantsMaster(false));
        assert_eq!(
            g.on_report("B", SyncReport::WantsMaster(true)),
            Decision::default()
        );
        assert_eq!(g.state(), State::Backup);
    }

    // vrrp_sync_backup: a master that hears a better one takes the others.
    #[test]
    fn a_master_going_backup_takes_the_group_to_backup() {
        let mut g = master_group();
        let d = g.on_transition("B", State::Master, State::Backup);
        assert_eq!(d.state, Some(State::Backup));
        assert_eq!(d.commands, vec![cmd("A", SyncCommand::Backup)]);
        assert_eq!(
            g.on_transition("A", State::Master, State::Backup),
            Decision::default()
        );
    }

    // vrrp_sync_fault and try_up_instance: one failed member takes the
    // group to FAULT; the group leaves it when the last fault clears.
    #[test]
    fn a_fault_holds_the_group_until_every_member_recovers() {
        let mut g = master_group();
        let d = g.on_report("A", SyncReport::Fault(true));
        assert_eq!(d.state, Some(State::Fault));
        assert_eq!(d.commands, vec![cmd("B", SyncCommand::Fault(true))]);
        g.on_transition("A", State::Master, State::Fault);
        g.on_transition("B", State::Master, State::Fault);
        // B fails too, then A recovers: still FAULT.
        assert_eq!(
            g.on_report("B", SyncReport::Fault(true)),
            Decision::default()
        );
        assert_eq!(
            g.on_report("A", SyncReport::Fault(false)),
            Decision::default()
        );
        assert_eq!(g.state(), State::Fault);
        // Wishes do not count in FAULT.
        assert_eq!(
            g.on_report("A", SyncReport::WantsMaster(true)),
            Decision::default()
        );
        let d = g.on_report("B", SyncReport::Fault(false));
        assert_eq!(d.state, Some(State::Backup));
        assert_eq!(
            d.commands,
            vec![
                cmd("A", SyncCommand::Fault(false)),
                cmd("B", SyncCommand::Fault(false))
            ]
        );
    }

    // A member faulty at start: the group starts in FAULT.
    #[test]
    fn a_fault_at_start_starts_the_group_in_fault() {
        let mut g = Coordinator::new("G", &["A".to_owned(), "B".to_owned()]);
        let d = g.on_report("A", SyncReport::Fault(true));
        assert_eq!(d.state, Some(State::Fault));
        assert_eq!(d.commands, vec![cmd("B", SyncCommand::Fault(true))]);
        g.on_transition("A", State::Init, State::Fault);
        assert_eq!(
            g.on_transition("B", State::Init, State::Backup),
            Decision::default()
        );
        assert_eq!(g.state(), State::Fault);
    }

    // Once the group is MASTER, a member that wants master goes at once.
    #[test]
    fn a_master_group_takes_a_late_member_at_once() {
        let mut g = master_group();
        g.on_transition("B", State::Master, State::Backup);
        // The group went BACKUP; A is told to follow. Suppose instead both
        // want master again: the group is master again.
        g.on_transition("A", State::Master, State::Backup);
        g.on_report("A", SyncReport::WantsMaster(true));
        let d = g.on_report("B", SyncReport::WantsMaster(true));
        assert_eq!(d.state, Some(State::Master));
        g.on_transition("A", State::Backup, State::Master);
        // B never got there (say, it heard an advert first), asks later.
        assert_eq!(
            g.on_report("B", SyncReport::WantsMaster(true)).commands,
            vec![cmd("B", SyncCommand::Master)]
        );
    }

    // A member that reached master while the group changed its mind is
    // sent back (a command raced with an advert).
    #[test]
    fn a_stray_master_is_sent_back() {
        let mut g = group();
        let d = g.on_transition("A", State::Backup, State::Master);
        assert_eq!(d.commands, vec![cmd("A", SyncCommand::Backup)]);
        assert_eq!(d.state, None);
        g.on_report("B", SyncReport::Fault(true));
        let d = g.on_transition("A", State::Backup, State::Master);
        assert_eq!(d.commands, vec![cmd("A", SyncCommand::Fault(true))]);
    }

    #[test]
    fn unknown_members_are_ignored() {
        let mut g = group();
        assert_eq!(
            g.on_report("X", SyncReport::Fault(true)),
            Decision::default()
        );
        assert_eq!(
            g.on_transition("X", State::Backup, State::Master),
            Decision::default()
        );
        assert!(g.contains("A") && !g.contains("X"));
        assert_eq!(g.members().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(g.name(), "G");
    }
}
