//! The notify edge: scripts (`notify_up`, `notify_down`, `quorum_up`,
//! `quorum_down`) started and reaped without waiting for them, and
//! keepalived's `lvs_notify_fifo` written line by line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::check::RunAs;
use crate::config::Script;

use super::engine::Notification;

/// Where notifications go besides the log.
#[derive(Debug)]
pub struct Notifier {
    fifo: Option<(PathBuf, File)>,
    script_user: Option<crate::config::checker::RunAs>,
}

impl Notifier {
    /// A notifier writing to `fifo` (keepalived's `lvs_notify_fifo`; made
    /// with mode 0600 if it does not exist, opened read-write and
    /// non-blocking as keepalived does, so that a missing reader never
    /// blocks the daemon), with `script_user` the default user of scripts.
    ///
    /// # Errors
    /// The FIFO cannot be made or opened, or the path is not a FIFO.
    pub fn new(
        fifo: Option<&Path>,
        script_user: Option<crate::config::checker::RunAs>,
    ) -> std::io::Result<Self> {
        let fifo = match fifo {
            None => None,
            Some(path) => {
                if !path.exists() {
                    nix::unistd::mkfifo(
                        path,
                        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
                    )
                    .map_err(std::io::Error::from)?;
                }
                if !std::fs::metadata(path)?.file_type().is_fifo() {
                    return Err(std::io::Error::other(format!(
                        "{} is not a FIFO",
                        path.display()
                    )));
                }
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(nix::libc::O_NONBLOCK)
                    .open(path)?;
                Some((path.to_owned(), file))
            }
        };
        Ok(Notifier { fifo, script_user })
    }

    /// Logs `n`, writes its FIFO line and starts its script.
    pub fn notify(&mut self, n: &Notification) {
        tracing::info!("{}", n.message);
        if let Some((path, file)) = &mut self.fifo
            && let Err(e) = file.write_all(n.fifo_line.as_bytes())
        {
            tracing::warn!("notify FIFO {}: {e}", path.display());
        }
        if let Some(script) = &n.script {
            self.run(script);
        }
    }

    /// Starts `script` (its words split as a shell would), reaping it in
    /// the background; failures are logged.
    pub fn run(&self, script: &Script) {
        if let Err(e) = start(script, self.script_user.as_ref()) {
            tracing::warn!("script {:?}: {e}", script.command);
        }
    }
}

/// Starts a script as its user (or `default_user`, or the daemon's).
fn start(
    script: &Script,
    default_user: Option<&crate::config::checker::RunAs>,
) -> Result<(), String> {
    let words = shlex::split(&script.command)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| "unbalanced quotes or empty".to_owned())?;
    let mut cmd = tokio::process::Command::new(&words[0]);
    cmd.args(&words[1..]).stdin(std::process::Stdio::null());
    if let Some(u) = script.user.as_ref().or(default_user) {
        let who = RunAs::lookup(&u.user, u.group.as_deref())?;
        cmd.uid(who.uid).gid(who.gid);
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let command = script.command.clone();
    tokio::spawn(async move {
        match child.wait().await {
            Ok(status) if !status.success() => {
                tracing::warn!("script {command:?} ended with {status}");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("script {command:?}: {e}"),
        }
    });
    Ok(())
}

/// Starts keepalived's `lvs_notify_fifo_script`: the program with the
/// FIFO's path as its last argument.
pub fn start_fifo_script(script: &Script, fifo: &Path) {
    let with_path = Script {
        command: format!(
            "{} {}",
            script.command,
            shlex::try_quote(&fifo.to_string_lossy()).unwrap_or_default()
        ),
        user: script.user.clone(),
    };
    if let Err(e) = start(&with_path, None) {
        tracing::warn!("lvs_notify_fifo_script {:?}: {e}", script.command);
    }
}
