//! The daemon's VRRP side: the instances started and stopped, and what a
//! state change sets off as keepalived does it: the notify scripts, the
//! VRRP notify FIFO, and the LVS sync daemon's role
//! (`lvs_sync_daemon IF inst NAME`).

use std::sync::Arc;

use ipvs::{DaemonRole, Ipvs};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::vrrp::{Notify, Vrrp, VrrpInstance};
use crate::config::{Model, Script, SyncDaemonConfig};
use crate::vrrp::State;
use crate::vrrp::instance::{self, InstanceStatus, Running, Transition};

use super::engine::Notification;
use super::notify::{Notifier, start_fifo_script};

/// The running VRRP instances and their followers.
pub struct VrrpSide {
    /// The configuration the instances were started with.
    config: Vrrp,
    instances: Vec<(VrrpInstance, Running)>,
    cancel: CancellationToken,
    transitions: mpsc::UnboundedReceiver<Transition>,
    notifier: Notifier,
    /// The sync daemon that follows an instance, and the role it runs in.
    sync: Option<(SyncDaemonConfig, Option<DaemonRole>)>,
}

/// What the configuration asks of VRRP that this version cannot do yet:
/// refused at start, never silently ignored.
fn unsupported(model: &Model) -> Option<String> {
    let vrrp = &model.vrrp;
    if let Some(g) = vrrp.sync_groups.first() {
        return Some(format!(
            "vrrp_sync_group {}: sync groups are not supported yet",
            g.name
        ));
    }
    None
}

impl VrrpSide {
    /// Starts every instance of `model` (none: an idle side). The sync
    /// daemon of `lvs_sync_daemon ... inst NAME` starts in the backup role
    /// and follows NAME's state.
    ///
    /// # Errors
    /// A feature not supported yet, the VRRP notify FIFO, or an instance
    /// that cannot open its socket (those started already are stopped).
    pub async fn start(model: &Model, ipvs: Option<&Arc<Ipvs>>) -> Result<Self, String> {
        if let Some(why) = unsupported(model) {
            return Err(why);
        }
        let global = &model.vrrp.global;
        let notifier = Notifier::new(
            global.notify_fifo.as_deref(),
            model.global.script_user.clone(),
        )
        .map_err(|e| format!("vrrp_notify_fifo: {e}"))?;
        if let (Some(script), Some(fifo)) = (&global.notify_fifo_script, &global.notify_fifo) {
            start_fifo_script(script, fifo);
        }
        let (tx, transitions) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let mut side = VrrpSide {
            config: model.vrrp.clone(),
            instances: Vec::new(),
            cancel,
            transitions,
            notifier,
            sync: None,
        };
        for config in &model.vrrp.instances {
            let spawned = instance::spawn(
                config.clone(),
                &model.vrrp.scripts,
                model.global.script_user.clone(),
                tx.clone(),
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

    /// The next state change of any instance (pending for ever when none runs).
    pub async fn next(&mut self) -> Option<Transition> {
        if self.instances.is_empty() {
            return std::future::pending().await;
        }
        self.transitions.recv().await
    }

    /// Carries out what a state change sets off: the instance's notify
    /// scripts, the FIFO line, the sync daemon's role.
    pub fn on_transition(&mut self, t: &Transition, ipvs: Option<&Arc<Ipvs>>) {
        let Some((config, _)) = self.instances.iter().find(|(c, _)| c.name == t.instance) else {
            return;
        };
        let notes = notifications(&config.notify, &t.instance, t.to, t.priority);
        for n in &notes {
            self.notifier.notify(n);
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
            for n in notifications(&config.notify, &config.name, State::Init, priority) {
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

/// What a change to `state` notifies (keepalived's `notify_master`,
/// `notify_backup`, `notify_fault`, `notify_stop` run as written; `notify`
/// with `INSTANCE NAME STATE PRIORITY` appended; the FIFO gets
/// `INSTANCE "NAME" STATE PRIORITY`).
fn notifications(notify: &Notify, name: &str, state: State, priority: u8) -> Vec<Notification> {
    let word = notify_state(state);
    let fifo_line = format!("INSTANCE \"{name}\" {word} {priority}\n");
    let specific = match state {
        State::Master => notify.master.clone(),
        State::Backup => notify.backup.clone(),
        State::Fault => notify.fault.clone(),
        State::Init => notify.stop.clone(),
    };
    let mut notes = vec![Notification {
        message: format!("vrrp instance {name}: notify {word}"),
        script: specific,
        fifo_line,
    }];
    if let Some(any) = &notify.any {
        let quoted = shlex::try_quote(name)
            .map(|q| q.into_owned())
            .unwrap_or_default();
        notes.push(Notification {
            message: format!("vrrp instance {name}: notify script for {word}"),
            script: Some(Script {
                command: format!("{} INSTANCE {quoted} {word} {priority}", any.command),
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
        let notes = notifications(&notify, "VI 1", State::Master, 150);
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
        let notes = notifications(&notify, "VI_1", State::Init, 0);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].script, script("/etc/s.sh"));
        assert_eq!(notes[0].fifo_line, "INSTANCE \"VI_1\" STOP 0\n");
    }
}
