//! The daemon's VRRP side: the instances started and stopped, and what a
//! state change sets off as keepalived does it: the notify scripts, the
//! VRRP notify FIFO, and the LVS sync daemon's role
//! (`lvs_sync_daemon IF inst NAME`); and the `vrrp_sync_group`s, whose
//! [`Coordinator`]s read their members' reports and transitions and send
//! them commands.

use std::collections::HashMap;
use std::sync::Arc;

use ipvs::{DaemonRole, Ipvs};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::vrrp::{Notify, SyncGroup, Vrrp, VrrpInstance};
use crate::config::{Model, Script, SyncDaemonConfig};
use crate::vrrp::State;
use crate::vrrp::instance::{self, Event, InstanceStatus, Running, Transition};
use crate::vrrp::machine::{SyncCommand, SyncReport};

use super::engine::Notification;
use super::notify::{Notifier, start_fifo_script};
use super::sync_group::{Coordinator, Decision};

/// The running VRRP instances and their followers.
pub struct VrrpSide {
    /// The configuration the instances were started with.
    config: Vrrp,
    instances: Vec<(VrrpInstance, Running)>,
    cancel: CancellationToken,
    events: mpsc::UnboundedReceiver<Event>,
    notifier: Notifier,
    /// The sync groups: their configuration and their coordinator.
    groups: Vec<(SyncGroup, Coordinator)>,
    /// The command channel of each sync group member, by instance name.
    commands: HashMap<String, mpsc::UnboundedSender<SyncCommand>>,
    /// The sync daemon that follows an instance, and the role it runs in.
    sync: Option<(SyncDaemonConfig, Option<DaemonRole>)>,
}

impl VrrpSide {
    /// Starts every instance of `model` (none: an idle side). The sync
    /// daemon of `lvs_sync_daemon ... inst NAME` starts in the backup role
    /// and follows NAME's state.
    ///
    /// # Errors
    /// The VRRP notify FIFO, or an instance
    /// that cannot open its socket (those started already are stopped).
    pub async fn start(model: &Model, ipvs: Option<&Arc<Ipvs>>) -> Result<Self, String> {
        let global = &model.vrrp.global;
        let notifier = Notifier::new(
            global.notify_fifo.as_deref(),
            model.global.script_user.clone(),
        )
        .map_err(|e| format!("vrrp_notify_fifo: {e}"))?;
        if let (Some(script), Some(fifo)) = (&global.notify_fifo_script, &global.notify_fifo) {
            start_fifo_script(script, fifo);
        }
        let (tx, events) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let mut side = VrrpSide {
            config: model.vrrp.clone(),
            instances: Vec::new(),
            cancel,
            events,
            notifier,
            groups: model
                .vrrp
                .sync_groups
                .iter()
                .map(|g| (g.clone(), Coordinator::new(&g.name, &g.instances)))
                .collect(),
            commands: HashMap::new(),
            sync: None,
        };
        for config in &model.vrrp.instances {
            let member = side.groups.iter().any(|(_, c)| c.contains(&config.name));
            let sync = member.then(|| {
                let (command_tx, command_rx) = mpsc::unbounded_channel();
                side.commands.insert(config.name.clone(), command_tx);
                command_rx
            });
            let spawned = instance::spawn(
                config.clone(),
                &model.vrrp.scripts,
                model.global.script_user.clone(),
                tx.clone(),
                sync,
                side.cancel.clone(),
            )
            .await;
            match spawned {
                Ok(running) => side.instances.push((config.clone(), running)),
                Err(e) => {
                    side.stop(None).await;
                    return Err(e.to_string());
                }
            }
        }
        if let Some(s) = &model.global.lvs_sync_daemon
            && s.vrrp_instance.is_some()
        {
            side.sync = Some((s.clone(), None));
            side.follow(ipvs, DaemonRole::Backup);
        }
        Ok(side)
    }

    /// The configuration the instances run (a reload does not change it).
    pub fn config(&self) -> &Vrrp {
        &self.config
    }

    /// Whether any instance runs.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// The next state change of any instance (pending for ever when none
    /// runs). Sync group members' reports are handled on the way
    /// (cancel-safe: nothing awaits after a message is taken).
    pub async fn next(&mut self) -> Option<Transition> {
        if self.instances.is_empty() {
            return std::future::pending().await;
        }
        loop {
            match self.events.recv().await? {
                Event::Transition(t) => return Some(t),
                Event::Sync { instance, report } => self.on_report(&instance, report),
            }
        }
    }

    /// A sync group member's report to its group.
    fn on_report(&mut self, instance: &str, report: SyncReport) {
        let Some(i) = self.groups.iter().position(|(_, c)| c.contains(instance)) else {
            return;
        };
        let decision = self.groups[i].1.on_report(instance, report);
        self.carry_out(i, decision);
    }

    /// Sends a group's commands to its members and notifies its new state.
    fn carry_out(&mut self, group: usize, decision: Decision) {
        let Some((config, coordinator)) = self.groups.get(group) else {
            return;
        };
        if let Some(state) = decision.state {
            tracing::info!("vrrp_sync_group {}: {state}", coordinator.name());
            for n in notifications(&config.notify, Kind::Group, &config.name, state, 0) {
                self.notifier.notify(&n);
            }
        }
        for (member, command) in decision.commands {
            tracing::debug!(
                "vrrp_sync_group {}: {command:?} to {member}",
                coordinator.name()
            );
            if let Some(tx) = self.commands.get(&member) {
                // A member that stopped has nothing left to do.
                let _ = tx.send(command);
            }
        }
    }

    /// Every sync group's name and state (INIT until every member started).
    pub fn group_states(&self) -> Vec<(String, State)> {
        self.groups
            .iter()
            .map(|(_, c)| (c.name().to_owned(), c.state()))
            .collect()
    }

    /// Carries out what a state change sets off: the instance's notify
    /// scripts, the FIFO line, the sync daemon's role, and its sync group's
    /// decision (after the instance's own notifications, as keepalived).
    pub fn on_transition(&mut self, t: &Transition, ipvs: Option<&Arc<Ipvs>>) {
        let Some((config, _)) = self.instances.iter().find(|(c, _)| c.name == t.instance) else {
            return;
        };
        let notes = notifications(
            &config.notify,
            Kind::Instance,
            &t.instance,
            t.to,
            t.priority,
        );
        for n in &notes {
            self.notifier.notify(n);
        }
        if let Some(i) = self
            .groups
            .iter()
            .position(|(_, c)| c.contains(&t.instance))
        {
            let decision = self.groups[i].1.on_transition(&t.instance, t.from, t.to);
            self.carry_out(i, decision);
        }
        let follows = self
            .sync
            .as_ref()
            .and_then(|(s, _)| s.vrrp_instance.as_deref())
            == Some(t.instance.as_str());
        if follows {
            let role = if t.to == State::Master {
                DaemonRole::Master
            } else {
                DaemonRole::Backup
            };
            self.follow(ipvs, role);
        }
    }

    /// Runs the sync daemon in `role` alone (the other role stopped first).
    fn follow(&mut self, ipvs: Option<&Arc<Ipvs>>, role: DaemonRole) {
        let Some((config, running)) = &mut self.sync else {
            return;
        };
        if *running == Some(role) {
            return;
        }
        let Some(ipvs) = ipvs else {
            tracing::error!("lvs_sync_daemon: IPVS is not available");
            return;
        };
        if let Some(old) = running.take()
            && let Err(e) = ipvs.stop_daemon(old)
        {
            tracing::warn!("lvs_sync_daemon: stopping the {old:?} role: {e}");
        }
        match ipvs.start_daemon(&config.daemon(role)) {
            Ok(()) => {
                tracing::info!(
                    "lvs_sync_daemon {role:?} started on {} (following vrrp instance {})",
                    config.interface,
                    config.vrrp_instance.as_deref().unwrap_or_default()
                );
                *running = Some(role);
            }
            Err(e) => tracing::error!("lvs_sync_daemon {role:?}: {e}"),
        }
    }

    /// Every instance's latest status.
    pub fn statuses(&self) -> Vec<InstanceStatus> {
        self.instances
            .iter()
            .map(|(_, r)| r.status.borrow().clone())
            .collect()
    }

    /// Stops every instance (a master sends priority 0 and removes its
    /// addresses), runs the `notify_stop` scripts, stops the sync daemon.
    pub async fn stop(mut self, ipvs: Option<&Arc<Ipvs>>) {
        self.cancel.cancel();
        for (config, running) in std::mem::take(&mut self.instances) {
            if let Err(e) = running.task.await {
                tracing::error!("vrrp instance {}: {e}", config.name);
            }
            let priority = running.status.borrow().effective_priority;
            for n in notifications(
                &config.notify,
                Kind::Instance,
                &config.name,
                State::Init,
                priority,
            ) {
                self.notifier.notify(&n);
            }
        }
        // keepalived's notify_shutdown: the instances, then the groups.
        for (config, _) in &self.groups {
            for n in notifications(&config.notify, Kind::Group, &config.name, State::Init, 0) {
                self.notifier.notify(&n);
            }
        }
        if let (Some((_, Some(role))), Some(ipvs)) = (&self.sync, ipvs)
            && let Err(e) = ipvs.stop_daemon(*role)
        {
            tracing::error!("stopping the sync daemon {role:?}: {e}");
        }
    }
}

/// keepalived's name of a state in notify arguments and FIFO lines: a
/// stopped instance is `STOP`, not `INIT`.
fn notify_state(state: State) -> &'static str {
    match state {
        State::Init => "STOP",
        other => other.keepalived_name(),
    }
}

/// Who notifies: the first word of keepalived's notify arguments and FIFO
/// lines (`vrrp_notify.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `vrrp_instance`: `INSTANCE`.
    Instance,
    /// A `vrrp_sync_group`: `GROUP`, always with priority 0.
    Group,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Self::Instance => "INSTANCE",
            Self::Group => "GROUP",
        }
    }

    fn block(self) -> &'static str {
        match self {
            Self::Instance => "vrrp instance",
            Self::Group => "vrrp_sync_group",
        }
    }
}

/// What a change to `state` notifies (keepalived's `notify_master`,
/// `notify_backup`, `notify_fault`, `notify_stop` run as written; `notify`
/// with `KIND NAME STATE PRIORITY` appended; the FIFO gets
/// `KIND "NAME" STATE PRIORITY`, KIND `INSTANCE` or `GROUP`, a group's
/// priority 0).
fn notifications(
    notify: &Notify,
    kind: Kind,
    name: &str,
    state: State,
    priority: u8,
) -> Vec<Notification> {
    let word = notify_state(state);
    let fifo_line = format!("{} \"{name}\" {word} {priority}\n", kind.word());
    let specific = match state {
        State::Master => notify.master.clone(),
        State::Backup => notify.backup.clone(),
        State::Fault => notify.fault.clone(),
        State::Init => notify.stop.clone(),
    };
    let mut notes = vec![Notification {
        message: format!("{} {name}: notify {word}", kind.block()),
        script: specific,
        fifo_line,
    }];
    if let Some(any) = &notify.any {
        let quoted = shlex::try_quote(name)
            .map(|q| q.into_owned())
            .unwrap_or_default();
        notes.push(Notification {
            message: format!("{} {name}: notify script for {word}", kind.block()),
            script: Some(Script {
                command: format!("{} {} {quoted} {word} {priority}", any.command, kind.word()),
                user: any.user.clone(),
            }),
            fifo_line: String::new(),
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(c: &str) -> Option<Script> {
        Some(Script {
            command: c.to_owned(),
            user: None,
        })
    }

    #[test]
    fn a_change_to_master_runs_notify_master_and_notify_with_keepalived_arguments() {
        let notify = Notify {
            master: script("/etc/m.sh"),
            backup: script("/etc/b.sh"),
            any: script("/etc/any.sh --x"),
            ..Notify::default()
        };
        let notes = notifications(&notify, Kind::Instance, "VI 1", State::Master, 150);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].script, script("/etc/m.sh"));
        assert_eq!(notes[0].fifo_line, "INSTANCE \"VI 1\" MASTER 150\n");
        assert_eq!(
            notes[1].script.as_ref().map(|s| s.command.as_str()),
            Some("/etc/any.sh --x INSTANCE 'VI 1' MASTER 150")
        );
        assert_eq!(notes[1].fifo_line, "");
    }

    #[test]
    fn a_stop_is_reported_as_stop_with_notify_stop() {
        let notify = Notify {
            stop: script("/etc/s.sh"),
            ..Notify::default()
        };
        let notes = notifications(&notify, Kind::Instance, "VI_1", State::Init, 0);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].script, script("/etc/s.sh"));
        assert_eq!(notes[0].fifo_line, "INSTANCE \"VI_1\" STOP 0\n");
    }

    // keepalived's send_group_notifies: `GROUP "NAME" STATE 0`.
    #[test]
    fn a_group_notifies_group_lines_with_priority_zero() {
        let notify = Notify {
            fault: script("/etc/gf.sh"),
            any: script("/etc/any.sh"),
            ..Notify::default()
        };
        let notes = notifications(&notify, Kind::Group, "VG_1", State::Fault, 0);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].script, script("/etc/gf.sh"));
        assert_eq!(notes[0].fifo_line, "GROUP \"VG_1\" FAULT 0\n");
        assert_eq!(
            notes[1].script.as_ref().map(|s| s.command.as_str()),
            Some("/etc/any.sh GROUP VG_1 FAULT 0")
        );
        let stop = notifications(&Notify::default(), Kind::Group, "VG_1", State::Init, 0);
        assert_eq!(stop[0].fifo_line, "GROUP \"VG_1\" STOP 0\n");
        assert_eq!(stop[0].script, None);
    }
}
