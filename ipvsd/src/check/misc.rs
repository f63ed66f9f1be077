//! MISC_CHECK: run a program; its exit status is the verdict (and, with
//! `misc_dynamic`, the weight).
//!
//! keepalived (keepalived/check/check_misc.c, keepalived/core/notify.c)
//! splits `misc_path` into words itself (quotes and backslash escapes, no
//! shell) and execs the first word directly in a new process group; on
//! `misc_timeout` (default: the `delay_loop`) it sends SIGTERM to the group,
//! then SIGKILL 2 s later. Exit 0 passes; with `misc_dynamic` exit 2..=255
//! also passes and sets the weight to `status - 2`, and exit 1 fails;
//! without it every non-zero status fails; death by a signal fails.
//! The caller gives the words already split ([`MiscCheck::argv`]).

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Group, Pid, User};

use super::outcome::{DynamicWeight, ProbeFailure, ProbeResult, ProbeSuccess};

/// How long a timed-out program has between SIGTERM and SIGKILL
/// (keepalived's 2 s).
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// The user and group a program runs as (keepalived.conf(5) MISC_CHECK
/// `user USERNAME [GROUPNAME]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
}

impl RunAs {
    /// Looks up `user` and optionally `group` (default: the user's primary
    /// group) in the system's user database.
    ///
    /// # Errors
    /// A message naming the user or group that does not exist, or the
    /// lookup's error.
    pub fn lookup(user: &str, group: Option<&str>) -> Result<Self, String> {
        let u = User::from_name(user)
            .map_err(|e| format!("looking up user {user:?}: {e}"))?
            .ok_or_else(|| format!("no such user {user:?}"))?;
        let gid = match group {
            None => u.gid.as_raw(),
            Some(g) => Group::from_name(g)
                .map_err(|e| format!("looking up group {g:?}: {e}"))?
                .ok_or_else(|| format!("no such group {g:?}"))?
                .gid
                .as_raw(),
        };
        Ok(RunAs {
            uid: u.uid.as_raw(),
            gid,
        })
    }
}

/// A MISC_CHECK, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscCheck {
    /// The program and its arguments (`misc_path`, split into words).
    pub argv: Vec<String>,
    /// `misc_timeout`, or the `delay_loop` when it is not set.
    pub timeout: Duration,
    /// `misc_dynamic`: exit statuses 2..=255 pass and set the weight.
    pub dynamic: bool,
    /// `user`: run as this user and group; `None`: as the daemon.
    pub user: Option<RunAs>,
}

/// Kills the program's whole process group if the probe is dropped (the
/// runner stopped) before the program was reaped.
struct GroupGuard(Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl MiscCheck {
    /// Runs the program once and judges its exit.
    ///
    /// # Errors
    /// [`ProbeFailure::ExitStatus`], [`ProbeFailure::Signal`],
    /// [`ProbeFailure::ScriptTimeout`] (the program's group was killed) or
    /// [`ProbeFailure::Spawn`] (it could not be started).
    pub async fn probe(&self) -> ProbeResult {
        let Some(program) = self.argv.first() else {
            return Err(ProbeFailure::Spawn {
                program: String::new(),
                message: "empty misc_path".into(),
            });
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(&self.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group, so that a timeout ends its children too.
            .process_group(0)
            .kill_on_drop(true);
        if let Some(run_as) = self.user {
            cmd.uid(run_as.uid).gid(run_as.gid);
        }
        let mut child = cmd.spawn().map_err(|e| ProbeFailure::Spawn {
            program: program.clone(),
            message: e.to_string(),
        })?;
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let mut guard = GroupGuard(pgid);
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                if let Some(pgid) = pgid {
                    let _ = killpg(pgid, Signal::SIGTERM);
                }
                if tokio::time::timeout(TERM_GRACE, child.wait())
                    .await
                    .is_err()
                {
                    if let Some(pgid) = pgid {
                        let _ = killpg(pgid, Signal::SIGKILL);
                    }
                    let _ = child.wait().await;
                }
                // The guard, still armed, kills what is left of the group
                // (a shell's children outlive it), as keepalived does.
                return Err(ProbeFailure::ScriptTimeout(self.timeout));
            }
        };
        // Reaped in time: nothing to kill (keepalived leaves the group of a
        // program that exited alone too).
        guard.0 = None;
        let status = status.map_err(|e| ProbeFailure::Spawn {
            program: program.clone(),
            message: format!("waiting: {e}"),
        })?;
        judge(status, self.dynamic)
    }
}

/// keepalived's reading of an exit status (`misc_check_child_thread`).
fn judge(status: ExitStatus, dynamic: bool) -> ProbeResult {
    match status.code() {
        Some(0) => Ok(ProbeSuccess {
            // Exit 0 with misc_dynamic puts the configured weight back.
            weight: dynamic.then_some(DynamicWeight::Offset(0)),
        }),
        Some(code @ 2..=255) if dynamic => Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Set(code as u32 - 2)),
        }),
        Some(code) => Err(ProbeFailure::ExitStatus(code)),
        None => Err(ProbeFailure::Signal(status.signal().unwrap_or(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn exit_statuses_as_keepalived_reads_them() {
        assert_eq!(judge(exited(0), false), Ok(ProbeSuccess { weight: None }));
        assert_eq!(
            judge(exited(0), true),
            Ok(ProbeSuccess {
                weight: Some(DynamicWeight::Offset(0))
            })
        );
        assert_eq!(judge(exited(1), true), Err(ProbeFailure::ExitStatus(1)));
        assert_eq!(judge(exited(2), false), Err(ProbeFailure::ExitStatus(2)));
        assert_eq!(
            judge(exited(2), true),
            Ok(ProbeSuccess {
                weight: Some(DynamicWeight::Set(0))
            })
        );
        assert_eq!(
            judge(exited(255), true),
            Ok(ProbeSuccess {
                weight: Some(DynamicWeight::Set(253))
            })
        );
        assert_eq!(
            judge(ExitStatus::from_raw(9), true),
            Err(ProbeFailure::Signal(9))
        );
    }

    #[test]
    fn root_is_found_and_a_missing_user_is_an_error() {
        let root = RunAs::lookup("root", None).unwrap();
        assert_eq!(root, RunAs { uid: 0, gid: 0 });
        assert!(RunAs::lookup("no-such-user-ipvsd-test", None).is_err());
        assert!(RunAs::lookup("root", Some("no-such-group-ipvsd-test")).is_err());
    }
}
